# Upstream promtool (Debian 2.42), compared against ours by pm-prometheus's promtool_* tests.
APT_PACKAGES+=(prometheus)
