#!/usr/bin/env bash
# Remote-write receiver ingest, ours vs upstream (Debian's prometheus 2.42), loopback only.
# Usage: RUNS=3 REQUESTS=300 scripts/bench/remote_write.sh [OUR_BINARY]
#        (default binary: $CARGO_TARGET_DIR/release/prometheus)
# Per run and daemon: a fresh server with --web.enable-remote-write-receiver and an empty TSDB
# receives the same REQUESTS remote-write 1.0 requests (snappy protobuf), each 2,000 samples
# (2,000 series x 1 sample, timestamps advancing 15 s per request so every request appends),
# POSTed one after another over one keep-alive connection. Prints samples/s per run and the
# median of RUNS per daemon, and the ratio. Payloads are generated once by a small Python
# program (protobuf and snappy block framing written by hand; no extra packages needed).
# Bounded: fixed request counts, `timeout` on every client, every wait loop has a limit.
set -euo pipefail
OURS=${1:-${CARGO_TARGET_DIR:-target}/release/prometheus}
UPSTREAM=${UPSTREAM:-/usr/bin/prometheus}
RUNS=${RUNS:-3}
REQUESTS=${REQUESTS:-300}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$WORK/payloads" "$REQUESTS" <<'PY'
import os, struct, sys, time
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
def uvarint(v):
    b = bytearray()
    while v >= 0x80:
        b.append((v & 0x7F) | 0x80); v >>= 7
    b.append(v); return bytes(b)
def field(tag, wire, payload):
    return uvarint(tag << 3 | wire) + (uvarint(len(payload)) + payload if wire == 2 else payload)
def label(k, v):
    return field(1, 2, field(1, 2, k.encode()) + field(2, 2, v.encode()))
def snappy_literal(raw):
    # One literal element (tag 62<<2: 3-byte length) per 16 MiB; valid snappy block format.
    body = uvarint(len(raw))
    for i in range(0, len(raw), 1 << 24):
        chunk = raw[i:i + (1 << 24)]
        body += bytes([62 << 2]) + struct.pack('<I', len(chunk) - 1)[:3] + chunk
    return body
start = int(time.time() * 1000) - n * 15000
for r in range(n):
    t = start + r * 15000
    req = b''
    for s in range(2000):
        ts = label('__name__', 'bench_metric_%d' % (s % 100)) + label('instance', 'host-%d' % (s // 100)) + label('job', 'bench')
        sample = field(1, 1, struct.pack('<d', float(r + s))) + field(2, 0, uvarint(t))
        req += field(1, 2, ts + field(2, 2, sample))
    open(os.path.join(out, '%05d' % r), 'wb').write(snappy_literal(req))
PY

cat >"$WORK/post.py" <<'PY'
import http.client, os, sys, time
port, d = int(sys.argv[1]), sys.argv[2]
files = sorted(os.listdir(d))
bodies = [open(os.path.join(d, f), 'rb').read() for f in files]
conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
headers = {'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy',
           'X-Prometheus-Remote-Write-Version': '0.1.0'}
began = time.monotonic()
for b in bodies:
    conn.request('POST', '/api/v1/write', body=b, headers=headers)
    resp = conn.getresponse(); resp.read()
    if resp.status // 100 != 2:
        sys.exit('HTTP %d' % resp.status)
print('%.0f' % (len(bodies) * 2000 / (time.monotonic() - began)))
PY

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run() { # binary -> samples/s
  local bin=$1 port data pid rate
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  data=$(mktemp -d -p "$WORK")
  printf 'global:\n  scrape_interval: 1m\n' >"$data/prometheus.yml"
  "$bin" --config.file="$data/prometheus.yml" --storage.tsdb.path="$data/tsdb" \
    --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver >"$data/log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done
  rate=$(timeout 600 python3 "$WORK/post.py" "$port" "$WORK/payloads")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$rate"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in ours upstream; do
  bin=$OURS; [ "$name" = upstream ] && bin=$UPSTREAM
  : >"$WORK/$name"
  for i in $(seq "$RUNS"); do
    r=$(run "$bin"); echo "$name run $i: $r samples/s"; echo "$r" >>"$WORK/$name"
  done
done
o=$(median <"$WORK/ours"); u=$(median <"$WORK/upstream")
echo "median samples/s: ours $o, upstream $u, ratio $(awk -v o="$o" -v u="$u" 'BEGIN{printf "%.2f", o/u}')x"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
