#!/usr/bin/env bash
# TSDB head figures (issue 3): append throughput with and without cached series refs, head
# memory per series (RSS delta), WAL replay time (series x 120 samples, median of 3), and select
# latency for matchers of different selectivity. Release build; criterion runs are bounded by
# the warm-up and measurement times below.
# Usage: scripts/bench/tsdb-head.sh [memory series] [replay series] [select series]
set -euo pipefail
mem_series=${1:-1000000}
replay_series=${2:-100000}
select_series=${3:-100000}
crit=(--warm-up-time 1 --measurement-time 5 --sample-size 20)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# head_append prints the memory and replay figures first, then criterion's.
PM_BENCH_SERIES=$mem_series PM_BENCH_REPLAY_SERIES=$replay_series \
    cargo bench -q --offline -p pm-tsdb --bench head_append -- "${crit[@]}" 2>/dev/null |
    grep -E "head memory|WAL replay|head_append|time:|thrpt:"
PM_BENCH_SERIES=$select_series cargo bench -q --offline -p pm-tsdb --bench select -- \
    "${crit[@]}" 2>/dev/null | grep -E "head_select|time:"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
