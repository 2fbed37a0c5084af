#!/usr/bin/env bash
# TSDB head figures (issue 3): append throughput with and without cached series refs, head
# memory per series (RSS delta), WAL replay time (series x 120 samples, median of 3), and select
# latency for matchers of different selectivity. Release build; criterion runs are bounded by
# the warm-up and measurement times below.
# Head memory is also measured after 480 samples per series (2h of 15s scrapes: three full
# chunks and an open one), with the full chunks in memory and in chunks_head/ files.
# Benches are selected workspace-wide (not -p), so dependency features resolve as in every
# other build of the workspace.
# Usage: scripts/bench/tsdb-head.sh [memory series] [replay series] [select series] [full-chunk series]
set -euo pipefail
mem_series=${1:-1000000}
replay_series=${2:-100000}
select_series=${3:-100000}
full_series=${4:-100000}
crit=(--warm-up-time 1 --measurement-time 5 --sample-size 20)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# head_append prints the memory and replay figures first, then criterion's.
PM_BENCH_SERIES=$mem_series PM_BENCH_REPLAY_SERIES=$replay_series \
    cargo bench -q --offline --workspace --bench head_append -- "${crit[@]}" 2>/dev/null |
    grep -E "head memory|WAL replay|head_append|time:|thrpt:"
for files in 0 1; do
    PM_BENCH_SERIES=$full_series PM_BENCH_SAMPLES=480 PM_BENCH_CHUNK_FILES=$files PM_BENCH_ONLY_MEMORY=1 \
        cargo bench -q --offline --workspace --bench head_append 2>/dev/null | grep -E "head memory"
done
PM_BENCH_SERIES=$select_series cargo bench -q --offline --workspace --bench select -- \
    "${crit[@]}" 2>/dev/null | grep -E "head_select|time:"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
