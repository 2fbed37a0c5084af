#!/usr/bin/env bash
# Pushgateway benchmark, ours vs upstream (Debian's prometheus-pushgateway), loopback only.
# Usage: RUNS=3 scripts/bench/pushgateway.sh [OUR_BINARY]
#        (default binary: $CARGO_TARGET_DIR/release/pushgateway)
# Per run and daemon:
#   1. push throughput: 8 concurrent `ab` clients, each PUTting a 100-metric group of its own
#      PUSHES times (consistency check on, both daemons' default);
#   2. a fresh daemon filled with 10,000 groups x 100 series (4 keep-alive clients); RSS after
#      the fill, the first `/metrics` scrape and the median of SCRAPES scrapes, RSS after them;
#   3. a fresh daemon with 5,000 groups: time from `PUT /api/v1/admin/wipe` until
#      `/api/v1/metrics` is empty.
# Upstream checks each push by gathering every stored metric, so filling it with the check on
# is quadratic (about 300 groups in the first 35 s on this machine, hours for 10,000); its
# phases 2 and 3 therefore run with --push.disable-consistency-check. Ours keeps the check on.
# Prints medians over RUNS per daemon, and the load average before and after.
# Bounded: fixed request counts, `timeout` on every client, every wait loop has a limit.
set -euo pipefail
OURS=${1:-${CARGO_TARGET_DIR:-target}/release/pushgateway}
UPSTREAM=${UPSTREAM:-/usr/bin/prometheus-pushgateway}
RUNS=${RUNS:-3}
PUSHES=${PUSHES:-2000}
SCRAPES=${SCRAPES:-3}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

for i in $(seq 0 99); do echo "bench_metric_$i{kind=\"k\"} $i"; done >"$WORK/body.txt"

start() { # binary port [flags...] -> pid
  local bin=$1 port=$2
  shift 2
  "$bin" --web.listen-address="127.0.0.1:$port" --web.enable-admin-api --persistence.file= "$@" \
    >"$WORK/daemon-$port.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done
  echo $pid
}

stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

rss_mib() { awk '/VmRSS/ {print $2/1024}' "/proc/$1/status"; }

throughput() { # port -> pushes/s
  local t0 t1
  t0=$(date +%s.%N)
  for c in $(seq 1 8); do
    timeout 600 ab -q -n "$PUSHES" -c 1 -u "$WORK/body.txt" -T text/plain \
      "http://127.0.0.1:$1/metrics/job/bench/instance/c$c" >"$WORK/ab-$c.log" 2>&1 &
  done
  wait
  t1=$(date +%s.%N)
  if grep -q "Non-2xx" "$WORK"/ab-*.log; then echo "non-2xx answers during the push run" >&2; exit 1; fi
  echo "8 * $PUSHES / ($t1 - $t0)" | bc -l
}

fill() { # port groups: 4 clients, each a quarter of the groups over one connection
  local pids=()
  for part in 0 1 2 3; do
    timeout 900 python3 - "$1" "$2" "$part" <<'PY' &
import http.client, sys
port, groups, part = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = "".join(f'fill_metric_{i}{{kind="k"}} {i}\n' for i in range(100)).encode()
conn = http.client.HTTPConnection("127.0.0.1", port)
for g in range(part, groups, 4):
    conn.request("PUT", f"/metrics/job/fill/instance/i{g}", body)
    r = conn.getresponse(); r.read()
    assert r.status in (200, 202), r.status
PY
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
}

scrape_ms() { timeout 300 curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$1/metrics" | awk '{print $1*1000}'; }

wipe_ms() { # port -> ms until the store is empty
  local t0 t1
  t0=$(date +%s%N)
  curl -sf -X PUT "http://127.0.0.1:$1/api/v1/admin/wipe" >/dev/null
  for _ in $(seq 6000); do
    timeout 60 curl -s "http://127.0.0.1:$1/api/v1/metrics" | head -c 64 | grep -q '"data":\[\]' && break
    sleep 0.05
  done
  t1=$(date +%s%N)
  echo "($t1 - $t0) / 1000000" | bc
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in ours upstream; do
  bin=$OURS
  fill_flags=()
  if [ $name = upstream ]; then
    bin=$UPSTREAM
    fill_flags=(--push.disable-consistency-check)
  fi
  tp=(); rss=(); rss2=(); cold=(); sc=(); wp=()
  for run in $(seq "$RUNS"); do
    port=$((19500 + run)); [ $name = upstream ] && port=$((19600 + run))
    pid=$(start "$bin" $port)
    tp+=("$(throughput $port)")
    stop "$pid"
    pid=$(start "$bin" $port "${fill_flags[@]}")
    fill $port 10000
    rss+=("$(rss_mib "$pid")")
    cold+=("$(scrape_ms $port)")
    runs=()
    for _ in $(seq "$SCRAPES"); do runs+=("$(scrape_ms $port)"); done
    sc+=("$(printf '%s\n' "${runs[@]}" | median)")
    rss2+=("$(rss_mib "$pid")")
    stop "$pid"
    pid=$(start "$bin" $port "${fill_flags[@]}")
    fill $port 5000
    wp+=("$(wipe_ms $port)")
    stop "$pid"
    echo "$name run $run: pushes/s=${tp[-1]} rss_mib=${rss[-1]} first_scrape_ms=${cold[-1]} scrape_ms=${sc[-1]} rss_after_scrapes_mib=${rss2[-1]} wipe_ms=${wp[-1]}"
  done
  m() { printf '%s\n' "$@" | median; }
  printf '%s MEDIAN pushes_per_s=%.0f rss_mib=%.0f first_scrape_ms=%.0f scrape_ms=%.0f rss_after_scrapes_mib=%.0f wipe_ms=%s\n' \
    $name "$(m "${tp[@]}")" "$(m "${rss[@]}")" "$(m "${cold[@]}")" "$(m "${sc[@]}")" \
    "$(m "${rss2[@]}")" "$(m "${wp[@]}")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
