# Upstream Prometheus server and promtool: TSDB and PromQL compatibility tests run against them.
APT_PACKAGES+=(prometheus)
