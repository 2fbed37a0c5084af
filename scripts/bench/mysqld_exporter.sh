#!/usr/bin/env bash
# Scrape throughput and memory of our mysqld_exporter vs Debian's prometheus-mysqld-exporter,
# both scraping the same MariaDB (a temporary datadir on 127.0.0.1) with the default
# collectors. Each run is SCRAPES sequential GETs of /metrics over one keep-alive connection;
# RUNS runs each, median reported, RSS read from /proc after the runs.
# Usage: scripts/bench/mysqld_exporter.sh [SCRAPES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."

SCRAPES=${1:-200}
RUNS=${2:-3}
UPSTREAM=/usr/bin/prometheus-mysqld-exporter
for bin in /usr/sbin/mariadbd /usr/bin/mariadb-install-db /usr/bin/mariadb "$UPSTREAM"; do
    [ -x "$bin" ] || { echo "missing $bin (see scripts/deps/mysqld.sh)" >&2; exit 1; }
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p pm-mysqld-exporter
OURS="$CARGO_TARGET_DIR/release/mysqld_exporter"

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_root=()
[ "$(id -u)" -eq 0 ] && as_root=(--user=root)

mariadb-install-db --no-defaults --datadir="$work/data" --auth-root-authentication-method=normal \
    --skip-test-db "${as_root[@]}" >"$work/install.log" 2>&1
db_port=$(free_port)
mariadbd --no-defaults --datadir="$work/data" --port="$db_port" --bind-address=127.0.0.1 \
    --socket="$work/mysqld.sock" --pid-file="$work/mysqld.pid" --log-error="$work/error.log" \
    --innodb-buffer-pool-size=16M --skip-name-resolve "${as_root[@]}" &
pids+=($!)
for _ in $(seq 300); do
    mariadb --no-defaults -uroot --socket="$work/mysqld.sock" -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
done
mariadb --no-defaults -uroot --socket="$work/mysqld.sock" -e "
    CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY 'pw';
    GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO 'exporter'@'127.0.0.1';"
printf '[client]\nuser=exporter\npassword=pw\nhost=127.0.0.1\nport=%s\n' "$db_port" >"$work/my.cnf"

ours_port=$(free_port)
"$OURS" --config.my-cnf="$work/my.cnf" --web.listen-address="127.0.0.1:$ours_port" --log.level=warn &
ours_pid=$!
pids+=($ours_pid)
up_port=$(free_port)
DATA_SOURCE_NAME="exporter:pw@tcp(127.0.0.1:$db_port)/" "$UPSTREAM" \
    --web.listen-address="127.0.0.1:$up_port" --log.level=warn &
up_pid=$!
pids+=($up_pid)

# Prints the median scrapes/s of RUNS runs against one port (after one warm-up scrape, which
# must report mysql_up 1).
measure() {
    python3 - "$1" "$SCRAPES" "$RUNS" <<'PY'
import http.client, statistics, sys, time
port, scrapes, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + 30
while True:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/metrics"); body = c.getresponse().read().decode()
        break
    except OSError:
        if time.time() > deadline: raise
        time.sleep(0.1)
assert "\nmysql_up 1\n" in body, "exporter is not scraping MariaDB"
rates = []
for _ in range(runs):
    start = time.perf_counter()
    for _ in range(scrapes):
        c.request("GET", "/metrics"); r = c.getresponse(); r.read()
        assert r.status == 200
    rates.append(scrapes / (time.perf_counter() - start))
print(f"{statistics.median(rates):.1f} {len(body)}")
PY
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

read -r ours_rate ours_bytes < <(measure "$ours_port")
read -r up_rate up_bytes < <(measure "$up_port")
ours_rss=$(rss_kib "$ours_pid")
up_rss=$(rss_kib "$up_pid")

echo "scrapes per run: $SCRAPES, runs: $RUNS (median), default collectors"
printf '%-28s %12s %12s %10s\n' "" "ours" "upstream" "ratio"
printf '%-28s %12s %12s %10s\n' "scrapes/s" "$ours_rate" "$up_rate" \
    "$(python3 -c "print(f'{$ours_rate/$up_rate:.2f}x')")"
printf '%-28s %12s %12s %10s\n' "RSS after runs (KiB)" "$ours_rss" "$up_rss" \
    "$(python3 -c "print(f'{$ours_rss/$up_rss:.2f}x')")"
printf '%-28s %12s %12s\n' "exposition bytes" "$ours_bytes" "$up_bytes"
