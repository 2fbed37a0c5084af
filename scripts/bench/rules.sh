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
upstream=${PROMETHEUS:-/usr/bin/prometheus}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --workspace: the dependencies' features as every other build of the workspace has them, so
# nothing is rebuilt for this one binary. OURS=path skips the build.
if [ -z "${OURS:-}" ]; then
  cargo build -q --release --offline --workspace --bin prometheus
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  OURS=$target/release/prometheus
fi
ours=$OURS
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

tport=$(free_port)
python3 "$root/scripts/bench/target_server.py" "$tport" 10000 &
pids+=($!)
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$tport/" >/dev/null 2>&1 && break; sleep 0.1; done

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

metric() { # port name: sum of the metric's samples
  curl -fs "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.6f", s}'
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # name binary -> "median_eval_s_per_interval cpu_s_per_interval rss_MiB"
  local dir="$work/data-$1" port pid t0 t1 rss n
  rm -rf "$dir"; port=$(free_port)
  "$2" --config.file="$work/prometheus.yml" --storage.tsdb.path="$dir" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn 2>"$work/$1.log" &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
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
