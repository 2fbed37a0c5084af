# promtool (Debian's prometheus package): block compatibility tests list, dump and create blocks with it.
APT_PACKAGES+=(prometheus)
