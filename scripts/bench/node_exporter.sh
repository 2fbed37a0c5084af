#!/usr/bin/env bash
# Scrape throughput, latency, CPU and memory of our node_exporter vs Debian's upstream binary,
# on loopback, against this machine's /proc and /sys with each exporter's default collectors.
# Both daemons run side by side and their `ab` runs alternate, so background load hits both
# alike; print the load average with the figures.
#
# Usage: scripts/bench/node_exporter.sh [our-binary] [runs] [requests]
# Needs: ab (apache2-utils), prometheus-node-exporter. Bounded: 2 x `runs` x `requests`
# scrapes at concurrency 10.
set -euo pipefail

ours=${1:-${CARGO_TARGET_DIR:-target}/release/node_exporter}
runs=${2:-3}
requests=${3:-2000}
upstream=/usr/bin/prometheus-node-exporter
concurrency=10
declare -A bin=([ours]=$ours [upstream]=$upstream) port=([ours]=19101 [upstream]=19102) pid=()

status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# Resident memory split: anonymous (heap, stacks) vs file-backed (mapped binary and libraries).
rss_split() { echo "anon_kib=$(status_kib "$1" RssAnon) file_kib=$(status_kib "$1" RssFile) threads=$(status_kib "$1" Threads)"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

cleanup() { for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

for name in ours upstream; do
  "${bin[$name]}" --web.listen-address="127.0.0.1:${port[$name]}" >/dev/null 2>&1 &
  pid[$name]=$!
done
for name in ours upstream; do
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:${port[$name]}/metrics" && break
    sleep 0.05
  done
  echo "$name rss_idle_kib=$(status_kib "${pid[$name]}" VmRSS) $(rss_split "${pid[$name]}") samples=$(curl -sf -H 'Accept: text/plain;version=0.0.4' "http://127.0.0.1:${port[$name]}/metrics" | grep -vc '^#')"
done
# The same a second later, as a scraped exporter spends nearly all its time: ours has trimmed
# its heap by then (10 ms after the last scrape), Go's runtime does what it does in a second.
sleep 1
for name in ours upstream; do
  echo "$name rss_idle_settled_kib=$(status_kib "${pid[$name]}" VmRSS) $(rss_split "${pid[$name]}")"
done

for run in $(seq "$runs"); do
  for name in ours upstream; do
    p=${pid[$name]}
    before=$(cpu_ticks "$p")
    # Prometheus asks for the text format; ab's default `Accept: */*` would get protobuf.
    out=$(ab -q -H 'Accept: text/plain;version=0.0.4' -n "$requests" -c "$concurrency" \
      "http://127.0.0.1:${port[$name]}/metrics" 2>&1)
    echo "$name run=$run" \
      "scrapes_per_s=$(awk '/Requests per second/ {print $4}' <<<"$out")" \
      "p50_ms=$(awk '$1 == "50%" {print $2}' <<<"$out")" \
      "p99_ms=$(awk '$1 == "99%" {print $2}' <<<"$out")" \
      "failed=$(awk '/Failed requests/ {print $3}' <<<"$out")" \
      "cpu_ms_per_scrape=$(awk -v a="$before" -v b="$(cpu_ticks "$p")" -v n="$requests" 'BEGIN {printf "%.2f", (b - a) * 10 / n}')" \
      "rss_kib=$(status_kib "$p" VmRSS) $(rss_split "$p") rss_peak_kib=$(status_kib "$p" VmHWM)" \
      "loadavg=$(cut -d' ' -f1 /proc/loadavg)"
  done
done

# What each daemon keeps once the load stops (ours trims its heap when no scrape is in
# flight; Go's scavenger returns memory on its own schedule).
sleep 1
for name in ours upstream; do
  echo "$name rss_after_load_idle_kib=$(status_kib "${pid[$name]}" VmRSS) $(rss_split "${pid[$name]}")"
done
