# node_exporter: the upstream daemon the parity test compares with.
APT_PACKAGES+=(prometheus-node-exporter)
