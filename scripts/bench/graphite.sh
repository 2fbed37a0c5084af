#!/usr/bin/env bash
# graphite_exporter benchmark on loopback: plaintext lines/s ingested over TCP (one
# connection, 1,000 distinct paths repeated), measured from the sender's start until the last
# line is visible in /metrics.
# Usage: scripts/bench/graphite.sh [path/to/graphite_exporter] (default: the release build).
# Upstream's graphite_exporter is not packaged in Debian, so only ours is measured here.
set -euo pipefail

BIN=${1:-${CARGO_TARGET_DIR:-target}/release/graphite_exporter}
LINES=${LINES:-500000}
RUNS=${RUNS:-3}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for r in $(seq "$RUNS"); do
  http=$(port); graphite=$(port)
  "$BIN" --web.listen-address=127.0.0.1:$http --graphite.listen-address=127.0.0.1:$graphite --log.level=warn &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/metrics" >/dev/null && break; sleep 0.05; done
  python3 - "$graphite" "$http" "$LINES" <<'PY'
import socket, sys, time, urllib.request
port, http, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
now = int(time.time())
payload = "".join(f"bench.host{i % 1000}.cpu {i} {now}\n" for i in range(n)).encode()
last = f"bench_host{(n - 1) % 1000}_cpu {n - 1}"
start = time.time()
s = socket.create_connection(("127.0.0.1", port)); s.sendall(payload); s.close()
for _ in range(6000):
    body = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics").read().decode()
    if last in body.splitlines():
        break
    time.sleep(0.01)
elapsed = time.time() - start
print(f"run: {n} lines in {elapsed:.2f}s = {n / elapsed:.0f} lines/s")
PY
  kill $pid; wait $pid 2>/dev/null || true
done
