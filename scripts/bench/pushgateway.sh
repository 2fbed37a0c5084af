#!/usr/bin/env bash
# Pushgateway benchmark, ours vs upstream (Debian's prometheus-pushgateway), loopback only.
# Usage: scripts/bench/pushgateway.sh [OUR_BINARY]   (default: $CARGO_TARGET_DIR/release/pushgateway)
# Measures: push throughput (8 concurrent clients, 100-metric group each, `ab`), RSS after
# 10,000 groups x 100 series, /metrics scrape latency at that size, wipe time for 5,000 groups.
# Bounded: fixed request counts, every wait loop has a limit.
set -euo pipefail
OURS=${1:-${CARGO_TARGET_DIR:-target}/release/pushgateway}
UPSTREAM=/usr/bin/prometheus-pushgateway
RUNS=${RUNS:-3}
PUSHES=${PUSHES:-2000}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

for i in $(seq 0 99); do echo "bench_metric_$i{kind=\"k\"} $i"; done >"$WORK/body.txt"

start() { # binary port -> pid
  "$1" --web.listen-address="127.0.0.1:$2" --web.enable-admin-api --persistence.file= >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/-/ready" >/dev/null && break; sleep 0.1; done
  echo $pid
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

throughput() { # port -> pushes/s
  local t0 t1
  t0=$(date +%s.%N)
  for c in $(seq 1 8); do
    ab -q -n "$PUSHES" -c 1 -u "$WORK/body.txt" -T text/plain \
      "http://127.0.0.1:$1/metrics/job/bench/instance/c$c" >/dev/null 2>&1 &
  done
  wait
  t1=$(date +%s.%N)
  echo "8 * $PUSHES / ($t1 - $t0)" | bc -l
}

fill() { # port groups
  python3 - "$1" "$2" <<'PY'
import http.client, sys
port, groups = int(sys.argv[1]), int(sys.argv[2])
body = "".join(f'fill_metric_{i}{{kind="k"}} {i}\n' for i in range(100)).encode()
conn = http.client.HTTPConnection("127.0.0.1", port)
for g in range(groups):
    conn.request("PUT", f"/metrics/job/fill/instance/i{g}", body)
    r = conn.getresponse(); r.read()
    assert r.status in (200, 202), r.status
PY
}

scrape_ms() { curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$1/metrics" | awk '{print $1*1000}'; }

wipe_ms() { # port -> ms until the store is empty
  local t0 t1
  t0=$(date +%s%N)
  curl -sf -X PUT "http://127.0.0.1:$1/api/v1/admin/wipe" >/dev/null
  for _ in $(seq 6000); do
    curl -s "http://127.0.0.1:$1/api/v1/metrics" | grep -q '"data":\[\]' && break
    sleep 0.05
  done
  t1=$(date +%s%N)
  echo "($t1 - $t0) / 1000000" | bc
}

for name in ours upstream; do
  bin=$OURS; [ $name = upstream ] && bin=$UPSTREAM
  tp=(); rss=(); sc=(); wp=()
  for run in $(seq "$RUNS"); do
    port=$((19500 + run)); [ $name = upstream ] && port=$((19600 + run))
    pid=$(start "$bin" $port)
    tp+=("$(throughput $port)")
    fill $port 10000
    rss+=("$(awk '/VmRSS/ {print $2/1024}' /proc/$pid/status)")
    for _ in 1 2 3 4 5; do sc+=("$(scrape_ms $port)"); done
    kill $pid; wait $pid 2>/dev/null || true
    pid=$(start "$bin" $port)
    fill $port 5000
    wp+=("$(wipe_ms $port)")
    kill $pid; wait $pid 2>/dev/null || true
  done
  printf '%s pushes_per_s=%.0f rss_mib=%.0f scrape_ms=%.1f wipe_ms=%s\n' $name \
    "$(printf '%s\n' "${tp[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)" \
    "$(printf '%s\n' "${sc[@]}" | median)" "$(printf '%s\n' "${wp[@]}" | median)"
done
