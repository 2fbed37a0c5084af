# Remote write/read end-to-end tests run Debian's upstream Prometheus 2.42 as a sender into our
# receiver, as a receiver of our sender, and as a remote-read client of our server.
APT_PACKAGES+=(prometheus)
