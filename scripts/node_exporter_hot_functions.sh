#!/usr/bin/env bash
# Regenerate crates/exporters/node_exporter/link/hot-functions.txt: the functions of the release
# node_exporter that startup, scrapes (text, OpenMetrics, protobuf, gzip, concurrent,
# collect[] filters), other pages and shutdown execute, hottest first, for lld's
# --symbol-ordering-file (see the crate's build.rs). Run it after larger changes to the exporter
# or its dependencies; a stale list only costs resident memory, never correctness.
#
# Usage: scripts/node_exporter_hot_functions.sh [release-binary]
# Needs: valgrind (callgrind), curl. Bounded: a fixed list of requests.
set -euo pipefail

bin=${1:-${CARGO_TARGET_DIR:-target}/release/node_exporter}
out=$(dirname "$0")/../crates/exporters/node_exporter/link/hot-functions.txt
port=19291
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --demangle=no \
  "$bin" --web.listen-address=127.0.0.1:$port >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break
  sleep 0.2
done
url=http://127.0.0.1:$port
for accept in 'text/plain;version=0.0.4' \
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' \
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3' \
  '*/*'; do
  curl -s -o /dev/null -H "Accept: $accept" "$url/metrics"
  curl -s -o /dev/null --compressed -H "Accept: $accept" "$url/metrics"
done
for _ in 1 2 3; do
  clients=()
  for _ in $(seq 8); do
    curl -s -o /dev/null -H 'Accept: text/plain;version=0.0.4' "$url/metrics" &
    clients+=($!)
  done
  wait "${clients[@]}"
done
curl -s -o /dev/null "$url/metrics?collect[]=cpu&collect[]=meminfo"
curl -s -o /dev/null "$url/"
curl -s -o /dev/null "$url/nothing-here"
kill -TERM "$pid"
wait "$pid" || true

# Callgrind compresses names: `fn=(id) name` defines an id, later `fn=(id)` refers to it; the
# same holds for object files (`ob=`). Cost lines after a `calls=` line belong to the call, not
# to the function itself.
exe=$(readlink -f "$bin")
awk -v exe="$exe" '
  function name(s, table,   id) {
    if (match(s, /^\([0-9]+\)/)) {
      id = substr(s, 2, RLENGTH - 2)
      if (length(s) > RLENGTH) table[id] = substr(s, RLENGTH + 2)
      return table[id]
    }
    return s
  }
  /^ob=/ { ob = name(substr($0, 4), obs); next }
  /^cob=/ { name(substr($0, 5), obs); next }
  /^fn=/ { fn = name(substr($0, 4), fns); mine = (ob == exe); next }
  /^cfn=/ { name(substr($0, 5), fns); next }
  /^calls=/ { call = 1; next }
  /^[0-9+*-]/ { if (call) { call = 0; next } if (mine) cost[fn] += $2; next }
  # Skip what callgrind names without a symbol: "(below main)" and bare addresses.
  END { for (f in cost) if (f !~ /^\(|^0x/) print cost[f], f }
' "$tmp/cg.out" | sort -k1,1nr -k2 | awk '{print $2}' >"$out"
echo "$(wc -l <"$out") functions written to $out" >&2
