# Outside dependencies of the notifier tests: the upstream Alertmanager they post alerts to.
APT_PACKAGES+=(prometheus-alertmanager)
