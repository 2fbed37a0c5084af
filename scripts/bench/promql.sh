#!/usr/bin/env bash
# PromQL range queries, our server vs upstream's, over the same blocks
# (crates/promql/examples/bench_queries.rs: 10 jobs x 50 instances, 3 h at 15 s, ~1.5 M samples).
#
# The data is written as OpenMetrics and turned into TSDB blocks by upstream's
# `promtool tsdb create-blocks-from openmetrics`; each server gets its own copy of the blocks and
# serves them on 127.0.0.1. Every query is sent to both over HTTP (/api/v1/query_range, so the
# figures include HTTP and JSON), alternating between the servers so both see the same machine
# load: one warm-up each, then RUNS timed requests each. Prints medians in milliseconds and the
# ratio ours/upstream, then the same for the CPU time each server spent on a request (summed
# over its threads from /proc/PID/task/*/schedstat; steadier than wall time on a loaded
# machine); then, for reference, our engine alone in process over MemStorage.
#
# SOURCE=remote-write instead starts both servers empty and sends them the same samples through
# `POST /api/v1/write` (scripts/bench/remote_write.py, in time order across all series), so the
# queries read the head (and its memory-mapped chunks) rather than blocks.
# Usage: [SOURCE=blocks|remote-write] [OURS=server] [BENCH_QUERIES=example binary] \
#   scripts/bench/promql.sh [runs]
set -euo pipefail
runs=${1:-5}
data_source=${SOURCE:-blocks}
. "$(dirname "$0")/server-lib.sh"
# BENCH_QUERIES=path skips building the example (an --example build selects dev-dependency
# features, so beside a server build it recompiles much of the tree).
if [ -n "${BENCH_QUERIES:-}" ]; then
  example=("$BENCH_QUERIES")
else
  cargo build -q --release --offline --workspace --example bench_queries
  example=("$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/bench_queries")
fi
"${example[@]}" openmetrics "$work/data.om"
mkdir "$work/blocks"
if [ "$data_source" = blocks ]; then
  promtool tsdb create-blocks-from openmetrics -q "$work/data.om" "$work/blocks"
  rm "$work/data.om"
fi
printf 'global:\n  scrape_interval: 15s\n' > "$work/prometheus.yml"

start() { # name binary: starts a server on its copy of the blocks; sets started_port
  started_port=$(free_port)
  cp -r "$work/blocks" "$work/$1"
  "$2" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/$1" \
    --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$started_port" \
    --web.enable-remote-write-receiver --log.level=warn >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_ready "http://127.0.0.1:$started_port/-/ready" || { cat "$work/$1.log" >&2; exit 1; }
  if [ "$data_source" = remote-write ]; then
    python3 "$root/scripts/bench/remote_write.py" "$work/data.om" \
      "http://127.0.0.1:$started_port/api/v1/write"
  fi
}
start upstream "$upstream"
up_port=$started_port
up_pid=${pids[-1]}
start ours "$ours"
our_port=$started_port
our_pid=${pids[-1]}
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {print s}'; }

time_query() { # port pid query start end step: prints the seconds of wall and of CPU time
  local t before pid=$2
  before=$(cpu_ns "$pid")
  t=$(curl -fsS -o "$work/out.json" -w '%{time_total}' \
    --data-urlencode "query=$3" --data-urlencode "start=$4" \
    --data-urlencode "end=$5" --data-urlencode "step=$6" \
    "http://127.0.0.1:$1/api/v1/query_range")
  grep -q '"status":"success"' "$work/out.json" || { cat "$work/out.json" >&2; exit 1; }
  awk -v t="$t" -v c="$(( $(cpu_ns "$pid") - before ))" 'BEGIN {printf "%s %.6f\n", t, c / 1e9}'
}
median_ms() { # column
  awk -v c="$1" '{print $c}' | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}'
}
ratio() { awk -v o="$2" -v u="$1" 'BEGIN {printf "%.2f", o/u}'; }

"${example[@]}" queries > "$work/queries"
read -r qstart qend qstep < "$work/queries"
echo "# $("$upstream" --version 2>&1 | head -1) vs ours ($(git -C "$root" rev-parse --short HEAD)); data from $data_source; median ms of $runs"
printf 'query\tupstream\tours\tratio\tupstream CPU\tours CPU\tCPU ratio\n'
tail -n +2 "$work/queries" | while IFS=$'\t' read -r name query; do
  : > "$work/up.t"; : > "$work/our.t"
  for i in $(seq 0 "$runs"); do
    u=$(time_query "$up_port" "$up_pid" "$query" "$qstart" "$qend" "$qstep")
    o=$(time_query "$our_port" "$our_pid" "$query" "$qstart" "$qend" "$qstep")
    if [ "$i" -gt 0 ]; then echo "$u" >> "$work/up.t"; echo "$o" >> "$work/our.t"; fi
  done
  u=$(median_ms 1 < "$work/up.t"); o=$(median_ms 1 < "$work/our.t")
  uc=$(median_ms 2 < "$work/up.t"); oc=$(median_ms 2 < "$work/our.t")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$u" "$o" "$(ratio "$u" "$o")" "$uc" "$oc" "$(ratio "$uc" "$oc")"
done | tee "$work/results"
awk -F'\t' '{w += log($3 / $2); c += log($6 / $5); n++}
  END {printf "# geometric mean of the ratios: wall %.3f, CPU %.3f\n", exp(w / n), exp(c / n)}' "$work/results"
median_ratio() { # column
  cut -f"$1" "$work/results" | sort -g | awk '{a[NR] = $1} END {printf "%.3f", (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2}'
}
echo "# median of the ratios: wall $(median_ratio 4), CPU $(median_ratio 7)"
echo "# our engine alone (in process, MemStorage), median ms"
"${example[@]}" run "$runs"
