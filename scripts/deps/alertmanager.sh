# Upstream's alertmanager and amtool, compared against ours by pm-alertmanager's tests.
APT_PACKAGES+=(prometheus-alertmanager)
