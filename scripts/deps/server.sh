# The Prometheus server's end-to-end tests compare with Debian's upstream server and use its
# promtool as the API client.
APT_PACKAGES+=(prometheus)
# The end-to-end alerting test (tests/it/server_alerting.rs) sends through upstream's Alertmanager.
APT_PACKAGES+=(prometheus-alertmanager)
