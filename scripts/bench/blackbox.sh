#!/usr/bin/env bash
# Probes per second and RSS for an http module against a local nginx, ours vs upstream
# (Debian's prometheus-blackbox-exporter), at concurrency 50, loopback only.
#
# Needs: ab (apache2-utils), nginx (nginx-light), /usr/bin/prometheus-blackbox-exporter and a
# release build: cargo build --release -p pm-blackbox-exporter
# Usage: scripts/bench/blackbox.sh [requests per run] [runs]
set -euo pipefail

REQUESTS=${1:-20000}
RUNS=${2:-3}
OURS=${OURS:-${CARGO_TARGET_DIR:-target}/release/blackbox_exporter}
UPSTREAM=/usr/bin/prometheus-blackbox-exporter
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK;
    server {
        listen 127.0.0.1:18080;
        location / { return 200 "hello blackbox\n"; }
    }
}
NGINX
nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

cat > "$WORK/blackbox.yml" <<YAML
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
YAML

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

wait_up() {
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$1/-/healthy" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "daemon on port $1 did not start" >&2
    exit 1
}

bench() {
    local name=$1 binary=$2 port=$3
    "$binary" --config.file="$WORK/blackbox.yml" --web.listen-address="127.0.0.1:$port" --history.limit=100 \
        >/dev/null 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    wait_up "$port"
    local idle
    idle=$(rss_kib "$pid")
    local url="http://127.0.0.1:$port/probe?module=http_2xx&target=http://127.0.0.1:18080/"
    ab -q -k -c 50 -n 2000 "$url" >/dev/null # warm-up
    for run in $(seq 1 "$RUNS"); do
        local peak=0
        ( while kill -0 "$pid" 2>/dev/null; do r=$(rss_kib "$pid"); echo "$r"; sleep 0.2; done ) > "$WORK/rss-$name-$run" &
        local sampler=$!
        local rps
        rps=$(ab -q -k -c 50 -n "$REQUESTS" "$url" | awk '/Requests per second/ {print $4}')
        kill "$sampler" 2>/dev/null || true
        peak=$(sort -n "$WORK/rss-$name-$run" | tail -1)
        echo "$name run=$run probes_per_s=$rps idle_rss_kib=$idle load_rss_kib=$peak loadavg=$(cut -d' ' -f1 /proc/loadavg)"
    done
    kill "$pid"
}

bench ours "$OURS" 19115
bench upstream "$UPSTREAM" 19116
