# Python's `statsd` client, one of the real senders in pm-statsd-exporter's end-to-end tests.
PIP_PACKAGES+=(statsd)
