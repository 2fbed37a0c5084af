#!/usr/bin/env bash
# Scrape throughput and latency of our node_exporter vs Debian's upstream binary, on loopback,
# against this machine's /proc and /sys with each exporter's default collectors.
#
# Usage: scripts/bench/node_exporter.sh [our-binary] [runs]
# Needs: ab (apache2-utils), prometheus-node-exporter. Bounded: `runs` x 2000 requests each.
set -euo pipefail

ours=${1:-${CARGO_TARGET_DIR:-target}/release/node_exporter}
runs=${2:-3}
upstream=/usr/bin/prometheus-node-exporter
requests=2000
concurrency=10

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

bench_one() {
  local name=$1 bin=$2 port=$3
  "$bin" --web.listen-address="127.0.0.1:${port}" >/dev/null 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:${port}/metrics" >/dev/null && break
    sleep 0.05
  done
  local idle; idle=$(rss_kib "$pid")
  for run in $(seq "$runs"); do
    # Prometheus asks for the text format; ab's default `Accept: */*` would let ours answer in
    # protobuf (see docs/node_exporter.md) and compare different encodings.
    local out; out=$(ab -q -H 'Accept: text/plain;version=0.0.4' -n "$requests" -c "$concurrency" "http://127.0.0.1:${port}/metrics" 2>&1)
    local rps p50 p99
    rps=$(awk '/Requests per second/ {print $4}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    echo "$name run=$run scrapes_per_s=$rps p50_ms=$p50 p99_ms=$p99 rss_idle_kib=$idle rss_load_kib=$(rss_kib "$pid") cpu_ticks=$(awk '{print $14+$15}' "/proc/$pid/stat")"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

bench_one ours "$ours" 19101
bench_one upstream "$upstream" 19102
