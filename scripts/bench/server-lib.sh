# Shared by the scripts that run our prometheus against upstream's (promql.sh, server-ingest.sh,
# rules.sh); sourced after `set -euo pipefail`. Sets root, work (a temporary directory removed on
# exit, with every process in pids killed), upstream and ours, and defines free_port,
# wait_ready URL, ticks PID (user+system clock ticks) and metric PORT NAME (the sum of a
# metric's samples on the server's /metrics).
upstream=${PROMETHEUS:-/usr/bin/prometheus}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --workspace: the dependencies' features as every other build of the workspace has them, so
# nothing is rebuilt for this one binary. OURS=path skips the build.
if [ -z "${OURS:-}" ]; then
  cargo build -q --release --offline --workspace --bin prometheus
  OURS=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/prometheus
fi
ours=$OURS

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() {
  for _ in $(seq 1 600); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "not ready after 60 s: $1" >&2
  return 1
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.6f", s}'
}
