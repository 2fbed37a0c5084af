# Real servers and Debian's upstream exporters for the haproxy, memcached and mysqld exporter
# tests (pm-haproxy-exporter, pm-memcached-exporter).
APT_PACKAGES+=(haproxy memcached prometheus-haproxy-exporter)
