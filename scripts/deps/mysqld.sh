# A real MariaDB server and client for pm-mysqld-exporter's tests (started by the tests in a
# temporary datadir on loopback), and Debian's upstream exporter for the parity test.
APT_PACKAGES+=(mariadb-server mariadb-client prometheus-mysqld-exporter)
