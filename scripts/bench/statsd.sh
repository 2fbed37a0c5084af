#!/usr/bin/env bash
# statsd_exporter benchmarks on loopback: (1) RSS per distinct metric at N distinct counters
# (sent over TCP so that none is lost), (2) lines/s ingested over UDP for a few seconds.
# Usage: scripts/bench/statsd.sh [path/to/statsd_exporter] (default: the release build).
# Upstream's statsd_exporter is not packaged in Debian, so only ours is measured here.
set -euo pipefail

BIN=${1:-${CARGO_TARGET_DIR:-target}/release/statsd_exporter}
N=${N:-100000}
SECONDS_UDP=${SECONDS_UDP:-5}
RUNS=${RUNS:-3}
# SHAPE=names: N metric names with one tag each; SHAPE=labels: one name, N values of a tag.
SHAPE=${SHAPE:-names}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1==m {print $2}'; }

run_once() {
  local http statsd pid
  http=$(port); statsd=$(port)
  "$BIN" --web.listen-address=127.0.0.1:$http --statsd.listen-udp=127.0.0.1:$statsd \
    --statsd.listen-tcp=127.0.0.1:$statsd --log.level=warn &
  pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/-/healthy" >/dev/null && break; sleep 0.05; done
  curl -s "http://127.0.0.1:$http/metrics" >/dev/null   # warm the HTTP path before the baseline
  local base; base=$(rss_kib $pid)

  python3 - "$statsd" "$N" "$SHAPE" <<'PY'
import socket, sys
port, n, shape = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
batch = []
for i in range(n):
    batch.append(f"bench.app.metric_{i}:1|c|#env:prod\n" if shape == "names" else f"bench.app.requests:1|c|#env:prod,id:{i}\n")
    if len(batch) == 1000:
        s.sendall("".join(batch).encode()); batch = []
s.sendall("".join(batch).encode()); s.close()
PY
  # Ingest is done when the exporter's CPU time stops moving; RSS is read before any scrape,
  # since a scrape of N series allocates its own (transient) exposition.
  local prev=-1 cur
  for _ in $(seq 600); do
    cur=$(awk '{print $14+$15}' "/proc/$pid/stat")
    [ "$cur" = "$prev" ] && break
    prev=$cur; sleep 0.5
  done
  local after; after=$(rss_kib $pid)
  local seen; seen=$(metric $http 'statsd_exporter_events_total{type="counter"}')
  local scraped; scraped=$(rss_kib $pid)
  echo "rss_per_metric_bytes $(( (after - base) * 1024 / N )) (base ${base} KiB, after ingest ${after} KiB, events ${seen}; after one scrape ${scraped} KiB)"

  local before_lines; before_lines=$(metric $http statsd_exporter_lines_total)
  python3 - "$statsd" "$SECONDS_UDP" <<'PY'
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
packet = "".join(f"udp.bench.counter_{i % 100}:1|c\nudp.bench.gauge_{i % 10}:{i}|g\n" for i in range(10)).encode()
end = time.time() + secs
sent = 0
while time.time() < end:
    for _ in range(100):
        s.sendto(packet, ("127.0.0.1", port))
    sent += 100 * 21
print(f"sender_lines_per_s {sent / secs:.0f}")
PY
  sleep 0.5
  local after_lines drops; after_lines=$(metric $http statsd_exporter_lines_total)
  drops=$(metric $http statsd_exporter_udp_packet_drops_total)
  echo "udp_lines_per_s $(python3 -c "print(int(($after_lines - $before_lines) / $SECONDS_UDP))") (queue drops ${drops})"
}

for r in $(seq "$RUNS"); do echo "run $r"; run_once; done
