# node_exporter: the upstream daemon the parity test compares with, and the message bus the
# systemd/logind collector test starts privately.
APT_PACKAGES+=(prometheus-node-exporter dbus-daemon)
# mkfs.btrfs for the btrfs collector's ioctl test (a loop-mounted image; skipped without root).
APT_PACKAGES+=(btrfs-progs)
