# blackbox_exporter: the upstream daemon the parity test and benchmark compare with.
APT_PACKAGES+=(prometheus-blackbox-exporter)
