# node_exporter: the upstream daemon the parity test compares with, and the message bus the
# systemd/logind collector test starts privately.
APT_PACKAGES+=(prometheus-node-exporter dbus-daemon)
