#!/usr/bin/env bash
# Rule evaluation, our prometheus vs upstream's (issue 6): 1,000 recording and 1,000 alerting
# rules (20 groups of 100, 15 s interval) over 100,000 scraped series (10 targets x 10,000
# gauges from scripts/bench/target_server.py on 127.0.0.1). Each run starts one server on a
# fresh data directory, waits WARMUP seconds (several evaluations, alerts pending/firing), then
# samples prometheus_rule_group_last_duration_seconds summed over the groups (the evaluation
# time per group interval) every 15 s for MEASURE seconds, and the server's CPU over that time.
# Runs alternate between the servers; medians printed.
# Usage: scripts/bench/rules.sh [runs] [warmup s] [measure s]
set -euo pipefail
runs=${1:-3}
warmup=${2:-75}
measure=${3:-60}
. "$(dirname "$0")/server-lib.sh"

tport=$(free_port)
python3 "$root/scripts/bench/target_server.py" "$tport" 10000 &
pids+=($!)
wait_ready "http://127.0.0.1:$tport/"

{
  printf 'global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nrule_files: [rules.yml]\n'
  printf 'scrape_configs:\n  - job_name: bench\n    static_configs:\n'
  for i in $(seq 1 10); do
    printf "      - targets: ['127.0.0.1:%s']\n        labels: {shard: '%s'}\n" "$tport" "$i"
  done
} > "$work/prometheus.yml"
# Each rule selects one shard x kind cell (1,000 series): recording rules aggregate it four
# ways, alerting rules compare it with a threshold that about 1 % of its series cross.
python3 - "$work/rules.yml" <<'PY'
import sys
aggs = ["sum", "avg", "max", "count"]
out = ["groups:"]
for g in range(10):
    out.append(f"  - name: recording-{g}\n    rules:")
    for r in range(100):
        j = g * 100 + r
        shard, kind, agg = j % 10 + 1, (j // 10) % 10, aggs[j % 4]
        out.append(f"      - record: bench:{agg}_{j}\n        expr: {agg} by (kind) (bench_value{{shard=\"{shard}\",kind=\"k{kind}\"}})")
for g in range(10):
    out.append(f"  - name: alerting-{g}\n    rules:")
    for r in range(100):
        j = g * 100 + r
        shard, kind = j % 10 + 1, (j // 10) % 10
        out.append(f"      - alert: BenchHigh{j}\n        expr: bench_value{{shard=\"{shard}\",kind=\"k{kind}\"}} > 990\n        for: 30s\n        labels: {{severity: page}}\n        annotations: {{summary: \"{{{{ $labels.series }}}} is {{{{ $value }}}}\"}}")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY


run() { # name binary -> "median_eval_s_per_interval cpu_s_per_interval rss_MiB"
  local dir="$work/data-$1" port pid t0 t1 rss n
  rm -rf "$dir"; port=$(free_port)
  "$2" --config.file="$work/prometheus.yml" --storage.tsdb.path="$dir" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/$1.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_ready "http://127.0.0.1:$port/-/ready"
  sleep "$warmup"
  t0=$(ticks "$pid"); : > "$work/evals"
  n=$((measure / 15))
  for _ in $(seq 1 "$n"); do
    sleep 15
    metric "$port" prometheus_rule_group_last_duration_seconds >> "$work/evals"; echo >> "$work/evals"
  done
  t1=$(ticks "$pid")
  rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf '%s %s %s\n' "$(sort -g "$work/evals" | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}')" \
    "$(awk -v t="$((t1 - t0))" -v n="$n" 'BEGIN {printf "%.2f", t / 100 / n}')" "$rss"
}

echo "# $("$upstream" --version 2>&1 | head -1) vs ours ($(git -C "$root" rev-parse --short HEAD)); 1000 recording + 1000 alerting rules over 100k series; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'run\tserver\teval_s_per_interval\tcpu_s_per_interval\trss_MiB\n'
for i in $(seq 1 "$runs"); do
  printf '%s\tupstream\t%s\n' "$i" "$(run upstream "$upstream" | tr ' ' '\t')" | tee -a "$work/results"
  printf '%s\tours\t%s\n' "$i" "$(run ours "$ours" | tr ' ' '\t')" | tee -a "$work/results"
done
med() { awk -v s="$1" -v c="$2" '$2 == s {print $c}' "$work/results" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for c in 3 4 5; do
  u=$(med upstream "$c"); o=$(med ours "$c")
  printf '# median column %s: upstream %s ours %s ratio %s\n' "$c" "$u" "$o" "$(awk -v o="$o" -v u="$u" 'BEGIN {printf "%.2f", o/u}')"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
