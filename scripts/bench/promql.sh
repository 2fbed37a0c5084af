#!/usr/bin/env bash
# PromQL range queries, our server vs upstream's, over the same blocks
# (crates/promql/examples/bench_queries.rs: 10 jobs x 50 instances, 3 h at 15 s, ~1.5 M samples).
#
# The data is written as OpenMetrics and turned into TSDB blocks by upstream's
# `promtool tsdb create-blocks-from openmetrics`; each server gets its own copy of the blocks and
# serves them on 127.0.0.1. Every query is sent to both over HTTP (/api/v1/query_range, so the
# figures include HTTP and JSON), alternating between the servers so both see the same machine
# load: one warm-up each, then RUNS timed requests each. Prints medians in milliseconds and the
# ratio ours/upstream; then, for reference, our engine alone in process over MemStorage.
# Usage: scripts/bench/promql.sh [runs]
set -euo pipefail
runs=${1:-5}
. "$(dirname "$0")/server-lib.sh"
cargo build -q --release --offline --workspace --example bench_queries
example=("$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/bench_queries")
"${example[@]}" openmetrics "$work/data.om"
mkdir "$work/blocks"
promtool tsdb create-blocks-from openmetrics -q "$work/data.om" "$work/blocks"
rm "$work/data.om"
printf 'global:\n  scrape_interval: 15s\n' > "$work/prometheus.yml"

start() { # name binary: starts a server on its copy of the blocks; sets started_port
  started_port=$(free_port)
  cp -r "$work/blocks" "$work/$1"
  "$2" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/$1" \
    --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$started_port" \
    --log.level=warn >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_ready "http://127.0.0.1:$started_port/-/ready" || { cat "$work/$1.log" >&2; exit 1; }
}
start upstream "$upstream"
up_port=$started_port
start ours "$ours"
our_port=$started_port

time_query() { # port query start end step
  local t
  t=$(curl -fsS -o "$work/out.json" -w '%{time_total}' \
    --data-urlencode "query=$2" --data-urlencode "start=$3" \
    --data-urlencode "end=$4" --data-urlencode "step=$5" \
    "http://127.0.0.1:$1/api/v1/query_range")
  grep -q '"status":"success"' "$work/out.json" || { cat "$work/out.json" >&2; exit 1; }
  echo "$t"
}
median_ms() { sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}'; }

"${example[@]}" queries > "$work/queries"
read -r qstart qend qstep < "$work/queries"
echo "# $("$upstream" --version 2>&1 | head -1) vs ours ($(git -C "$root" rev-parse --short HEAD)); median ms of $runs"
printf 'query\tupstream\tours\tratio\n'
tail -n +2 "$work/queries" | while IFS=$'\t' read -r name query; do
  : > "$work/up.t"; : > "$work/our.t"
  for i in $(seq 0 "$runs"); do
    u=$(time_query "$up_port" "$query" "$qstart" "$qend" "$qstep")
    o=$(time_query "$our_port" "$query" "$qstart" "$qend" "$qstep")
    if [ "$i" -gt 0 ]; then echo "$u" >> "$work/up.t"; echo "$o" >> "$work/our.t"; fi
  done
  u=$(median_ms < "$work/up.t"); o=$(median_ms < "$work/our.t")
  printf '%s\t%s\t%s\t%s\n' "$name" "$u" "$o" "$(awk -v o="$o" -v u="$u" 'BEGIN {printf "%.2f", o/u}')"
done
echo "# our engine alone (in process, MemStorage), median ms"
"${example[@]}" run "$runs"
