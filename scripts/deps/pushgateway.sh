# Upstream Pushgateway to compare with, and the Python client whose push functions the tests drive.
APT_PACKAGES+=(prometheus-pushgateway)
PIP_PACKAGES+=(prometheus_client)
