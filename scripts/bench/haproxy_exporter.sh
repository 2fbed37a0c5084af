#!/usr/bin/env bash
# Scrape throughput, latency and memory of our haproxy_exporter vs Debian's upstream binary,
# on loopback. Both scrape the same CSV: upstream's benchmark input (shared/testdata/haproxy/
# haproxy.csv, 2,735 rows) served by a local static HTTP server.
#
# Usage: scripts/bench/haproxy_exporter.sh [our-binary] [runs] [requests]
# Needs: ab (apache2-utils), python3, prometheus-haproxy-exporter.
# Bounded: `runs` x `requests` scrapes per exporter (default 3 x 200), concurrency 4.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
ours=${1:-${CARGO_TARGET_DIR:-target}/release/haproxy_exporter}
runs=${2:-3}
requests=${3:-200}
upstream=/usr/bin/prometheus-haproxy-exporter
concurrency=4
csv_dir="$here/../shared/testdata/haproxy"
[[ -f "$csv_dir/haproxy.csv" ]] || { echo "missing $csv_dir/haproxy.csv" >&2; exit 1; }

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

python3 -m http.server 19180 --bind 127.0.0.1 --directory "$csv_dir" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null http://127.0.0.1:19180/haproxy.csv && break
  sleep 0.05
done

bench_one() {
  local name=$1 bin=$2 port=$3
  "$bin" --web.listen-address="127.0.0.1:${port}" \
    --haproxy.scrape-uri=http://127.0.0.1:19180/haproxy.csv >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:${port}/metrics" && break
    sleep 0.05
  done
  local idle; idle=$(rss_kib "$pid")
  local series; series=$(curl -s -H 'Accept: text/plain' "http://127.0.0.1:${port}/metrics" | grep -c '^haproxy_')
  for run in $(seq "$runs"); do
    local out; out=$(ab -q -n "$requests" -c "$concurrency" "http://127.0.0.1:${port}/metrics" 2>&1)
    local rps p50 p99
    rps=$(awk '/Requests per second/ {print $4}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    echo "$name run=$run haproxy_series=$series scrapes_per_s=$rps p50_ms=$p50 p99_ms=$p99 rss_idle_kib=$idle rss_load_kib=$(rss_kib "$pid") cpu_ticks=$(awk '{print $14+$15}' "/proc/$pid/stat")"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

bench_one ours "$ours" 19181
bench_one upstream "$upstream" 19182
