# node_exporter: the upstream daemon the parity test compares with, and the message bus the
# systemd/logind collector test starts privately.
APT_PACKAGES+=(prometheus-node-exporter dbus-daemon)
# mkfs.btrfs for the btrfs collector's ioctl test (a loop-mounted image; skipped without root).
APT_PACKAGES+=(btrfs-progs)
# nm and readelf for the link-layout test, and glibc's and libgcc's static archives, which the
# crate's build.rs links node_exporter against (it falls back to dynamic glibc without them).
APT_PACKAGES+=(binutils libc6-dev libgcc-12-dev)
