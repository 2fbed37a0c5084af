#!/usr/bin/env bash
# PromQL range queries, ours vs upstream, over the same deterministic data set
# (crates/promql/examples/bench_queries.rs: 10 jobs x 50 instances, 3 h at 15 s, ~1.5 M samples).
#
# Upstream: the data written as OpenMetrics, turned into TSDB blocks by
# `promtool tsdb create-blocks-from openmetrics`, served by /usr/bin/prometheus from its
# --storage.tsdb.path on 127.0.0.1; each query timed with curl against /api/v1/query_range
# (so its figures include HTTP and JSON encoding). Ours: the same samples in MemStorage,
# evaluated in process by the engine (no HTTP, no JSON, no TSDB decoding).
# Each query runs once to warm up, then RUNS times; medians in milliseconds.
# Usage: scripts/bench/promql.sh [runs]
set -euo pipefail
runs=${1:-5}
prometheus=${PROMETHEUS:-/usr/bin/prometheus}
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

bin=(cargo run -q --release --offline -p pm-promql --example bench_queries --)
"${bin[@]}" openmetrics "$work/data.om"
mkdir "$work/tsdb"
promtool tsdb create-blocks-from openmetrics -q "$work/data.om" "$work/tsdb"
rm "$work/data.om"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'global:\n  scrape_interval: 15s\n' > "$work/prometheus.yml"
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --storage.tsdb.retention.time=100y --storage.tsdb.min-block-duration=2h \
  --storage.tsdb.max-block-duration=2h --web.listen-address="127.0.0.1:$port" \
  --log.level=warn 2>"$work/prometheus.log" &
pid=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null || { cat "$work/prometheus.log"; exit 1; }

"${bin[@]}" queries > "$work/queries"
read -r start end step < "$work/queries"
echo "# upstream ($("$prometheus" --version 2>&1 | head -1)), ms"
tail -n +2 "$work/queries" | while IFS=$'\t' read -r name query; do
  times=()
  for i in $(seq 0 "$runs"); do
    t=$(curl -fsS -o "$work/out.json" -w '%{time_total}' \
      --data-urlencode "query=$query" --data-urlencode "start=$start" \
      --data-urlencode "end=$end" --data-urlencode "step=$step" \
      "http://127.0.0.1:$port/api/v1/query_range")
    grep -q '"status":"success"' "$work/out.json" || { cat "$work/out.json"; exit 1; }
    [ "$i" -gt 0 ] && times+=("$t")
  done
  printf '%s\t%s\n' "$name" "$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}')"
done
echo "# ours (pm-promql in process), ms"
"${bin[@]}" run "$runs"
