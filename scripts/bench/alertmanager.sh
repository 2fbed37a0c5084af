#!/usr/bin/env bash
# Alertmanager ingest and alert-group listing, ours vs upstream, on loopback.
#
# For each of ROUNDS rounds, ours then upstream: start the daemon with the same config (a
# route grouping by `group`, a receiver without integrations), post 100,000 alerts in
# batches of 100 from 4 keep-alive connections (the Rust driver
# crates/alertmanager/examples/alertmanager_load.rs, which also reports its own CPU time;
# the older Python driver scripts/bench/alertmanager_load.py with LOAD_DRIVER=python), read the
# daemon's RSS, then time the first GET /api/v2/alerts/groups after the ingest (10,000 groups,
# ~44 MB of JSON: a cold answer cache), the same 7 times more (answered from the cache while
# nothing changes), the same filtered to one group (`filter=group="g42"`) 7 times, filtered on
# a label the route does not group by (`filter=instance="host-N:9100"`, 7 distinct values, so
# none is answered from the cache), and read the RSS again. Then the listings after changes,
# as a polling UI meets them: re-send every alert with a later `endsAt` (what Prometheus
# does each resend interval; the driver's ENDS_IN argument) and time the first listing after
# it, then post one new alert and time the first listing after that (3 times, median).
# Prints one line per run and the medians with ratios.
#
# Usage: [LOAD_DRIVER=path|python] scripts/bench/alertmanager.sh OURS_BINARY [UPSTREAM_BINARY] [ROUNDS]
#   OURS_BINARY: e.g. $CARGO_TARGET_DIR/release/alertmanager
#   UPSTREAM_BINARY: default /usr/bin/prometheus-alertmanager (Debian's 0.25)
#   LOAD_DRIVER: default $CARGO_TARGET_DIR/debug/examples/alertmanager_load, built by
#     `cargo build --offline --locked --workspace --example alertmanager_load` (the debug
#     profile optimises dependencies; the driver's own loop is trivial)
# Bounded: fixed request counts, `timeout` on every client, a limited readiness wait.
set -euo pipefail

OURS=${1:?usage: $0 OURS_BINARY [UPSTREAM_BINARY] [ROUNDS]}
UPSTREAM=${2:-/usr/bin/prometheus-alertmanager}
ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
LOAD_DRIVER=${LOAD_DRIVER:-${CARGO_TARGET_DIR:-target}/debug/examples/alertmanager_load}
if [ "$LOAD_DRIVER" = python ]; then
    LOAD=(python3 "$HERE/alertmanager_load.py")
else
    [ -x "$LOAD_DRIVER" ] || { echo "no load driver at $LOAD_DRIVER" >&2; exit 1; }
    LOAD=("$LOAD_DRIVER")
fi
WORK=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/alertmanager.yml" <<'YAML'
route:
  receiver: sink
  group_by: [group]
receivers:
  - name: sink
YAML

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Median wall time in ms of 7 GETs of URL, then (after a space) the median time to the first
# byte of the answer (the difference is the transfer).
latency() {
    local times=()
    for _ in $(seq 7); do
        times+=("$(timeout 120 curl -sf -o /dev/null -w '%{time_total} %{time_starttransfer}' "$1")")
    done
    local total first
    total=$(printf '%s\n' "${times[@]}" | cut -d' ' -f1 | median | awk '{printf "%.1f", $1*1000}')
    first=$(printf '%s\n' "${times[@]}" | cut -d' ' -f2 | median | awk '{printf "%.1f", $1*1000}')
    echo "$total $first"
}

# Wall times in ms of one GET of each URL: the first, then (after a space) the median of all.
first_and_median() {
    local times=() url
    for url in "$@"; do
        times+=("$(timeout 120 curl -sf -o /dev/null -w '%{time_total}' "$url" | awk '{printf "%.1f", $1*1000}')")
    done
    echo "${times[0]} $(printf '%s\n' "${times[@]}" | median)"
}

# Posts one alert (a new group) with curl.
post_one() {
    timeout 60 curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data "[{\"labels\":{\"alertname\":\"Added\",\"group\":\"new-$2\",\"instance\":\"added-$2\"}}]" \
        "127.0.0.1:$1/api/v2/alerts"
}

# Wall time in ms of one GET of URL.
once() {
    timeout 120 curl -sf -o /dev/null -w '%{time_total}' "$1" | awk '{printf "%.1f", $1*1000}'
}

# run NAME BINARY: one measurement; appends "name ingest groups_ms rss_mib filtered_ms
# first_byte_ms first_request_ms rss_before_mib label_first_ms label_median_ms
# resend_ingest resend_first_ms added_first_ms" to $WORK/results.
run() {
    local name=$1 bin=$2 port data
    port=$(free_port)
    data="$WORK/data-$name"
    rm -rf "$data" && mkdir -p "$data"
    "$bin" --config.file="$WORK/alertmanager.yml" --storage.path="$data" \
        --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
        > "$WORK/$name.log" 2>&1 &
    PID=$!
    for _ in $(seq 100); do
        curl -sf "127.0.0.1:$port/-/ready" > /dev/null && break
        sleep 0.1
    done
    local load ingest driver_cpu
    load=$(timeout 600 "${LOAD[@]}" "$port" 100000 10000 100 4)
    ingest=$(sed -n 's/.*alerts_per_s=\([0-9]*\).*/\1/p' <<< "$load")
    driver_cpu=$(sed -n 's/.*driver_cpu_s=\([0-9.]*\).*/\1/p' <<< "$load")
    local cpu_after_ingest
    cpu_after_ingest=$(awk '{print ($14+$15)/100}' "/proc/$PID/stat")
    local rss_before cold groups
    rss_before=$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$PID/status")
    cold=$(timeout 120 curl -sf -o "$WORK/groups.json" -w '%{time_total}' \
        "127.0.0.1:$port/api/v2/alerts/groups" | awk '{printf "%.1f", $1*1000}')
    groups=$(python3 -c 'import json,sys; g=json.load(sys.stdin); print(len(g), sum(len(x["alerts"]) for x in g))' \
        < "$WORK/groups.json")
    rm -f "$WORK/groups.json"
    local ms ttfb filtered rss
    read -r ms ttfb <<< "$(latency "127.0.0.1:$port/api/v2/alerts/groups")"
    filtered=$(latency "127.0.0.1:$port/api/v2/alerts/groups?filter=group%3D%22g42%22" | cut -d' ' -f1)
    local urls=() label_first label_ms
    for n in $(seq 7); do
        urls+=("127.0.0.1:$port/api/v2/alerts/groups?filter=instance%3D%22host-${n}7%3A9100%22")
    done
    read -r label_first label_ms <<< "$(first_and_median "${urls[@]}")"
    rss=$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$PID/status")
    local resend resend_ingest resend_first added=() added_first
    resend=$(timeout 600 "${LOAD[@]}" "$port" 100000 10000 100 4 3600)
    resend_ingest=$(sed -n 's/.*alerts_per_s=\([0-9]*\).*/\1/p' <<< "$resend")
    resend_first=$(once "127.0.0.1:$port/api/v2/alerts/groups")
    for n in 1 2 3; do
        post_one "$port" "$n"
        added+=("$(once "127.0.0.1:$port/api/v2/alerts/groups")")
    done
    added_first=$(printf '%s\n' "${added[@]}" | median)
    kill "$PID" && wait "$PID" 2>/dev/null || true
    PID=
    echo "$name ingest_alerts_per_s=$ingest daemon_cpu_s=$cpu_after_ingest driver_cpu_s=${driver_cpu:-?} groups/alerts=${groups// //} groups_first_request_ms=$cold groups_ms_median=$ms groups_first_byte_ms_median=$ttfb filtered_ms_median=$filtered label_filter_first_ms=$label_first label_filter_ms_median=$label_ms rss_before_listing_mib=$rss_before rss_mib=$rss resend_alerts_per_s=$resend_ingest resend_first_request_ms=$resend_first one_added_first_request_ms=${added[*]} load=$(cut -d' ' -f1 /proc/loadavg)"
    echo "$name $ingest $ms $rss $filtered $ttfb $cold $rss_before $label_first $label_ms $resend_ingest $resend_first $added_first" >> "$WORK/results"
}

for round in $(seq "$ROUNDS"); do
    run ours "$OURS"
    run upstream "$UPSTREAM"
done

col() { awk -v n="$1" -v c="$2" '$1==n {print $c}' "$WORK/results" | median; }
oi=$(col ours 2); ui=$(col upstream 2)
og=$(col ours 3); ug=$(col upstream 3)
orss=$(col ours 4); urss=$(col upstream 4)
of=$(col ours 5); uf=$(col upstream 5)
ot=$(col ours 6); ut=$(col upstream 6)
oc=$(col ours 7); uc=$(col upstream 7)
orb=$(col ours 8); urb=$(col upstream 8)
olf=$(col ours 9); ulf=$(col upstream 9)
olm=$(col ours 10); ulm=$(col upstream 10)
ori=$(col ours 11); uri=$(col upstream 11)
orf=$(col ours 12); urf=$(col upstream 12)
oaf=$(col ours 13); uaf=$(col upstream 13)
echo "median ingest alerts/s: ours $oi upstream $ui ratio $(awk -v a="$oi" -v b="$ui" 'BEGIN{printf "%.2f", a/b}')x"
echo "median first groups request ms: ours $oc upstream $uc ratio $(awk -v a="$uc" -v b="$oc" 'BEGIN{printf "%.2f", a/b}')x faster"
echo "median re-send (later endsAt) alerts/s: ours $ori upstream $uri ratio $(awk -v a="$ori" -v b="$uri" 'BEGIN{printf "%.2f", a/b}')x"
echo "median first groups request after the re-send ms: ours $orf upstream $urf ratio $(awk -v a="$urf" -v b="$orf" 'BEGIN{printf "%.2f", a/b}')x faster"
echo "median first groups request after one alert added ms: ours $oaf upstream $uaf ratio $(awk -v a="$uaf" -v b="$oaf" 'BEGIN{printf "%.2f", a/b}')x faster"
echo "median groups ms: ours $og upstream $ug ratio $(awk -v a="$ug" -v b="$og" 'BEGIN{printf "%.2f", a/b}')x faster"
echo "median groups first byte ms: ours $ot upstream $ut"
echo "median filtered groups ms: ours $of upstream $uf ratio $(awk -v a="$uf" -v b="$of" 'BEGIN{printf "%.2f", a/b}')x faster"
echo "median non-grouping label filter ms: first ours $olf upstream $ulf; median of 7 ours $olm upstream $ulm ratio $(awk -v a="$ulm" -v b="$olm" 'BEGIN{printf "%.2f", a/b}')x faster"
echo "median RSS before the listings MiB: ours $orb upstream $urb"
echo "median RSS MiB: ours $orss upstream $urss ratio $(awk -v a="$urss" -v b="$orss" 'BEGIN{printf "%.2f", a/b}')x smaller"
