#!/usr/bin/env bash
# Scrape ingest, our prometheus vs upstream's (issue 5): TARGETS targets x SERIES series scraped
# every 5 s from a local Python target server on 127.0.0.1. Each run starts one server on a
# fresh data directory, lets it scrape for WARMUP seconds (series created, head steady), then
# measures MEASURE seconds: CPU (user+system ticks of the server process) per million samples
# appended (prometheus_tsdb_head_samples_appended_total), and RSS per head series at the end.
# Runs alternate between the two servers so both see the same machine load; medians printed.
# Usage: scripts/bench/server-ingest.sh [runs] [targets] [series] [warmup s] [measure s]
set -euo pipefail
runs=${1:-3}
targets=${2:-200}
series=${3:-1000}
warmup=${4:-60}
measure=${5:-120}
. "$(dirname "$0")/server-lib.sh"

tport=$(free_port)
python3 "$root/scripts/bench/target_server.py" "$tport" "$series" &
pids+=($!)
wait_ready "http://127.0.0.1:$tport/"

{
  printf 'global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\nscrape_configs:\n  - job_name: bench\n    static_configs:\n'
  for i in $(seq 1 "$targets"); do
    printf "      - targets: ['127.0.0.1:%s']\n        labels: {shard: '%s'}\n" "$tport" "$i"
  done
} > "$work/prometheus.yml"


run() { # name binary -> "cpu_s_per_M_samples rss_bytes_per_series samples_per_s"
  local dir="$work/data-$1" port pid t0 t1 s0 s1 series rss
  rm -rf "$dir"; port=$(free_port)
  "$2" --config.file="$work/prometheus.yml" --storage.tsdb.path="$dir" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/$1.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_ready "http://127.0.0.1:$port/-/ready"
  sleep "$warmup"
  t0=$(ticks "$pid"); s0=$(metric "$port" prometheus_tsdb_head_samples_appended_total)
  sleep "$measure"
  t1=$(ticks "$pid"); s1=$(metric "$port" prometheus_tsdb_head_samples_appended_total)
  series=$(metric "$port" prometheus_tsdb_head_series)
  rss=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v t="$((t1 - t0))" -v s0="$s0" -v s1="$s1" -v r="$rss" -v n="$series" -v m="$measure" \
    'BEGIN {s = s1 - s0; printf "%.2f %.0f %.0f %d\n", t / 100 / (s / 1e6), r / n, s / m, n}'
}

echo "# $("$upstream" --version 2>&1 | head -1) vs ours ($(git -C "$root" rev-parse --short HEAD)); $targets targets x $series series at 5s; warm-up ${warmup}s, measured ${measure}s; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'run\tserver\tcpu_s_per_M_samples\trss_B_per_series\tsamples_per_s\thead_series\n'
for i in $(seq 1 "$runs"); do
  printf '%s\tupstream\t%s\n' "$i" "$(run upstream "$upstream" | tr ' ' '\t')" | tee -a "$work/results"
  printf '%s\tours\t%s\n' "$i" "$(run ours "$ours" | tr ' ' '\t')" | tee -a "$work/results"
done
med() { awk -v s="$1" -v c="$2" '$2 == s {print $c}' "$work/results" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for c in 3 4; do
  u=$(med upstream "$c"); o=$(med ours "$c")
  printf '# median column %s: upstream %s ours %s ratio %s\n' "$c" "$u" "$o" "$(awk -v o="$o" -v u="$u" 'BEGIN {printf "%.2f", o/u}')"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
