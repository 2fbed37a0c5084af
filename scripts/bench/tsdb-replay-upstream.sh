#!/usr/bin/env bash
# WAL replay, ours against upstream's `prometheus` on the same WAL (issue 3). Our WAL is
# upstream's format, so the head_append bench writes one WAL of <series> x 120 samples (15 s
# apart, one commit per scrape); then, <runs> times and alternately, each side replays a fresh
# copy of that data directory: ours in the bench (the time `Head::open` takes), upstream
# `prometheus` started on the copy (the `total_replay_duration` of its "WAL replay completed"
# log line; it is stopped right after). Release build; every wait is bounded.
# Usage: scripts/bench/tsdb-replay-upstream.sh [series] [runs] [series per commit (default: all)]
# (OURS_BIN=<bench binary> skips the build)
set -euo pipefail
series=${1:-1000000}
runs=${2:-3}
per_commit=${3:-$series}
upstream=${UPSTREAM:-/usr/bin/prometheus}
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
bin=${OURS_BIN:-}
if [ -z "$bin" ]; then
    # Workspace-wide selection, so dependency features resolve as in every other build.
    exe=$(cargo bench --offline --workspace --bench head_append --no-run 2>&1 |
        sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
    bin="$work/head_append"
    cp "$exe" "$bin"
fi
replay() {
    PM_BENCH_ONLY_REPLAY=1 PM_BENCH_REPLAY_SERIES=$series PM_BENCH_REPLAY_RUNS=$1 PM_BENCH_REPLAY_COMMIT=$per_commit \
        PM_BENCH_REPLAY_DIR=$2 "$bin"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
replay 0 "$work/data"
echo "WAL: $(du -sh "$work/data/wal" | cut -f1)"
echo 'scrape_configs: []' >"$work/prometheus.yml"
for i in $(seq "$runs"); do
    rm -rf "$work/copy" && cp -a "$work/data" "$work/copy"
    echo "ours run $i: $(replay 1 "$work/copy" | sed -n 's/WAL replay run: //p')"
    rm -rf "$work/copy" && cp -a "$work/data" "$work/copy"
    "$upstream" --storage.tsdb.path="$work/copy" --config.file="$work/prometheus.yml" \
        --web.listen-address=127.0.0.1:19391 >"$work/upstream.log" 2>&1 &
    pid=$!
    for _ in $(seq 2400); do
        grep -q "WAL replay completed" "$work/upstream.log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    echo "upstream run $i: $(grep -o 'total_replay_duration=[^ ]*' "$work/upstream.log" || echo 'no "WAL replay completed" line')"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
