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
upstream=${PROMETHEUS:-/usr/bin/prometheus}
root=$(cd "$(dirname "$0")/../.." && pwd)
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
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  OURS=$target/release/prometheus
fi
ours=$OURS
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

tport=$(free_port)
python3 "$root/scripts/bench/target_server.py" "$tport" "$series" &
pids+=($!)
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$tport/" >/dev/null 2>&1 && break; sleep 0.1; done

{
  printf 'global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\nscrape_configs:\n  - job_name: bench\n    static_configs:\n'
  for i in $(seq 1 "$targets"); do
    printf "      - targets: ['127.0.0.1:%s']\n        labels: {shard: '%s'}\n" "$tport" "$i"
  done
} > "$work/prometheus.yml"

metric() { # port name: sum of the metric's samples
  curl -fs "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.0f", s}'
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # name binary -> "cpu_s_per_M_samples rss_bytes_per_series samples_per_s"
  local dir="$work/data-$1" port pid t0 t1 s0 s1 series rss
  rm -rf "$dir"; port=$(free_port)
  "$2" --config.file="$work/prometheus.yml" --storage.tsdb.path="$dir" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn 2>"$work/$1.log" &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  sleep "$warmup"
  t0=$(ticks "$pid"); s0=$(metric "$port" prometheus_tsdb_head_samples_appended_total)
  sleep "$measure"
  t1=$(ticks "$pid"); s1=$(metric "$port" prometheus_tsdb_head_samples_appended_total)
  series=$(metric "$port" prometheus_tsdb_head_series)
  rss=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  awk -v t="$((t1 - t0))" -v s="$((s1 - s0))" -v r="$rss" -v n="$series" -v m="$measure" \
    'BEGIN {printf "%.2f %.0f %.0f %d\n", t / 100 / (s / 1e6), r / n, s / m, n}'
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
