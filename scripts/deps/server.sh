# The Prometheus server's end-to-end tests compare with Debian's upstream server and use its
# promtool as the API client.
APT_PACKAGES+=(prometheus)
