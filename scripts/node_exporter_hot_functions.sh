#!/usr/bin/env bash
# Regenerate crates/exporters/node_exporter/link/hot-functions.txt and link/hot-text.ld: the
# functions of the release node_exporter that startup, scrapes (text, OpenMetrics, protobuf,
# gzip, concurrent, collect[] filters), other pages and shutdown execute, hottest first, as exact
# symbol names for lld's --symbol-ordering-file and as hash-less section patterns for the linker
# script that gathers them before the rest of the code (see the crate's build.rs). Run it after
# changes to the exporter's code paths (the crate's hot_text test fails when too few patterns
# still match); dependency changes only make the exact names stale, which the patterns absorb.
# A stale list only costs resident memory, never correctness.
#
# Usage: scripts/node_exporter_hot_functions.sh [release-binary]
# Needs: valgrind (callgrind), curl, nm, python3. Bounded: a fixed list of requests.
set -euo pipefail

bin=${1:-${CARGO_TARGET_DIR:-target}/release/node_exporter}
link=$(dirname "$0")/../crates/exporters/node_exporter/link
out=$link/hot-functions.txt
port=19291
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --demangle=no \
  "$bin" --web.listen-address=127.0.0.1:$port >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break
  sleep 0.2
done
url=http://127.0.0.1:$port
for accept in 'text/plain;version=0.0.4' \
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' \
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3' \
  '*/*'; do
  curl -s -o /dev/null -H "Accept: $accept" "$url/metrics"
  curl -s -o /dev/null --compressed -H "Accept: $accept" "$url/metrics"
done
# Concurrent scrapes over kept-alive HTTP/1.1 (Prometheus) and one-shot HTTP/1.0 connections
# (ab, the benchmark's client), each batch followed by the idle heap trim, which runs 10 ms
# after the last scrape (a pause long enough under valgrind).
for http in --http1.1 --http1.0 --http1.1; do
  clients=()
  for _ in $(seq 8); do
    curl -s -o /dev/null "$http" -H 'Accept: text/plain;version=0.0.4' "$url/metrics" &
    clients+=($!)
  done
  wait "${clients[@]}"
  sleep 1
done
curl -s -o /dev/null "$url/metrics?collect[]=cpu&collect[]=meminfo"
curl -s -o /dev/null "$url/"
curl -s -o /dev/null "$url/nothing-here"
sleep 1
kill -TERM "$pid"
wait "$pid" || true

# Callgrind compresses names: `fn=(id) name` defines an id, later `fn=(id)` refers to it; the
# same holds for object files (`ob=`). Cost lines after a `calls=` line belong to the call, not
# to the function itself. Valgrind 3.19 names the object of part of a static executable's code
# `???` (its functions still have their names), and nothing else runs in this process.
exe=$(readlink -f "$bin")
awk -v exe="$exe" '
  function name(s, table,   id) {
    if (match(s, /^\([0-9]+\)/)) {
      id = substr(s, 2, RLENGTH - 2)
      if (length(s) > RLENGTH) table[id] = substr(s, RLENGTH + 2)
      return table[id]
    }
    return s
  }
  /^ob=/ { ob = name(substr($0, 4), obs); next }
  /^cob=/ { name(substr($0, 5), obs); next }
  /^fn=/ { fn = name(substr($0, 4), fns); mine = (ob == exe || ob == "???"); next }
  /^cfn=/ { name(substr($0, 5), fns); next }
  /^calls=/ { call = 1; next }
  /^[0-9+*-]/ { if (call) { call = 0; next } if (mine) cost[fn] += $2; next }
  # Skip what callgrind names without a symbol: "(below main)" and bare addresses.
  END { for (f in cost) if (f !~ /^\(|^0x/) print cost[f], f }
' "$tmp/cg.out" | sort -k1,1nr -k2 | awk '{print $2}' >"$tmp/executed"

# glibc picks its string and memory functions (memcpy, strlen, strcmp, …) by CPU when the
# binary starts, and the choice differs between machines and under valgrind (no AVX-512 there:
# callgrind sees `__strlen_avx2` where this machine runs `__strlen_evex`, and some calls only
# happen natively). All variants (~160 KiB) follow the executed functions, so whichever a CPU
# picks lies with the hot code instead of costing a fault-around window each.
#
# Section patterns: rustc puts every function in a section `.text.<symbol>` (`#[cold]` ones, such
# as `RawVec::grow_one`, in `.text.unlikely.<symbol>`), and the parts of a
# symbol that change between builds are hashes: the legacy mangling's trailing `17h<16 hex>E`,
# v0's crate disambiguators `Cs<base62>_`, and ThinLTO's `.llvm.<number>` suffix. Without them
# a legacy name no longer tells a generic function's instances apart, so a pattern may gather
# cold instances too; a pattern whose instances in this binary exceed 64 KiB and four times the
# executed ones (`<&T as Debug>::fmt`: 890 instances) is left out, its hot instance then only
# ordered while the exact name is current.
nm -S --defined-only "$bin" | python3 -c '
import re, sys
from collections import defaultdict
def key(name):
    name = re.sub(r"\.llvm\.[0-9]+$", "", name)
    if name.startswith("_ZN"):
        return re.sub(r"17h[0-9a-f]{16}E$", "17h*", name)
    if name.startswith("_R"):
        return re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", name)
    return None
size = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 4 and f[2] in "tTwW":
        size[f[3]] = int(f[1], 16)
hot = [n.strip() for n in open(sys.argv[2])]
variant = re.compile(r"^__\w+?_(?:sse2|ssse3|sse4_1|sse4_2|sse42|avx|avx2|avx512|evex|erms)(?:_|$)")
listed = set(hot)
hot += sorted(n for n in size if n not in listed and variant.match(n))
with open(sys.argv[3], "w") as out:
    out.write("".join(n + "\n" for n in hot))
print(len(hot), "functions written to", sys.argv[3], file=sys.stderr)
instances = defaultdict(int)
for name, n in size.items():
    instances[key(name)] += n
executed = defaultdict(int)
for name in hot:
    executed[key(name)] += size.get(name, 0)
patterns, seen = [], set()
for name in hot:
    k = key(name)
    if k is None or k in seen or not executed[k]:
        continue
    seen.add(k)
    if instances[k] <= 65536 or instances[k] <= 4 * executed[k]:
        for section in (".text.", ".text.unlikely."):
            patterns.append(section + k)
            if not k.endswith("*"):
                patterns.append(section + k + ".llvm.*")
with open(sys.argv[4], "w") as out:
    out.write("/* Generated by scripts/node_exporter_hot_functions.sh: the executed functions,\n")
    out.write("   hashes wildcarded, gathered before .text (see build.rs). */\n")
    out.write("SECTIONS\n{\n  .text.hot : {\n    *(\n")
    for p in patterns:
        out.write("      " + p + "\n")
    out.write("    )\n  }\n}\nINSERT BEFORE .text;\n")
print(sum(1 for p in patterns if not p.startswith(".text.unlikely.") and not p.endswith(".llvm.*")), "functions as section patterns written to", sys.argv[4], file=sys.stderr)
' /dev/stdin "$tmp/executed" "$out" "$link/hot-text.ld"
