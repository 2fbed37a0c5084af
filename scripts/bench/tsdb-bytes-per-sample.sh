#!/usr/bin/env bash
# Bytes per sample on disk: the same deterministic data set (crates/tsdb/examples/bytes_per_sample.rs)
# written by our Db (head -> 2h blocks -> compaction) and by upstream's
# `promtool tsdb create-blocks-from openmetrics` (2h blocks). Prints, per block, samples and
# index+chunks bytes, then the totals over the time range both cover.
# Usage: scripts/bench/tsdb-bytes-per-sample.sh [series] [hours] [entropy|typical]
set -euo pipefail
series=${1:-1000}
hours=${2:-12}
profile=${3:-entropy}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Sizes do not depend on the build profile: EXAMPLE_BIN=<built example> skips the release build.
bin=${EXAMPLE_BIN:-}
if [ -z "$bin" ]; then
    # Workspace-wide selection, so dependency features resolve as in every other build.
    cargo build -q --offline --release --workspace --example bytes_per_sample
    bin="${CARGO_TARGET_DIR:-target}/release/examples/bytes_per_sample"
fi
"$bin" "$out" "$series" "$hours" "$profile" >/dev/null
mkdir "$out/upstream"
promtool tsdb create-blocks-from openmetrics -q "$out/input.om" "$out/upstream"
python3 - "$out" <<'PY'
import json, os, sys
root = sys.argv[1]
def size(d):
    total = os.path.getsize(os.path.join(d, "index"))
    c = os.path.join(d, "chunks")
    return total + sum(os.path.getsize(os.path.join(c, f)) for f in os.listdir(c))
blocks = {}
for who in ("ours", "upstream"):
    blocks[who] = []
    for b in sorted(os.listdir(os.path.join(root, who))):
        d = os.path.join(root, who, b)
        if not os.path.isfile(os.path.join(d, "meta.json")):
            continue
        m = json.load(open(os.path.join(d, "meta.json")))
        n, s = m["stats"]["numSamples"], size(d)
        blocks[who].append((m["minTime"], m["maxTime"], n, s))
        print(f'{who}\tlevel {m["compaction"]["level"]}\t[{m["minTime"]}, {m["maxTime"]})\t{n} samples\t{s} bytes\t{s/n:.3f} B/sample')
# Ours leaves the newest samples in the head; compare the range both have blocks for.
end = max(b[1] for b in blocks["ours"])
tot = {w: [sum(b[2] for b in bs if b[1] <= end), sum(b[3] for b in bs if b[1] <= end)] for w, bs in blocks.items()}
o, u = tot["ours"], tot["upstream"]
print(f'same range: ours {o[1]} bytes / {o[0]} samples = {o[1]/o[0]:.3f} B/sample; '
      f'upstream {u[1]} / {u[0]} = {u[1]/u[0]:.3f}; ratio {o[1]/o[0]/(u[1]/u[0]):.3f}')
PY
