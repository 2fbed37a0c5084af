# Debian's amtool and alertmanager 0.25 (one package): tests/amtool_*.rs run both amtools
# against our daemon and against upstream's, comparing their output.
APT_PACKAGES+=(prometheus-alertmanager)
