#!/usr/bin/env python3
"""Sends the samples of an OpenMetrics file (as `bench_queries openmetrics` writes it: one
`name{labels} value timestamp` line per sample) to a Prometheus remote-write 1.0 receiver, in
time order across all series: one request per timestamp holding every series' sample at it,
because a head rejects samples much older than its newest one.

Usage: remote_write.py FILE URL

Standard library only: the protobuf is encoded by hand and the snappy block format is written
with literal elements only (valid snappy that any decoder reads, just not compressed).
"""
import re
import struct
import sys
import urllib.request
from collections import defaultdict

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+) (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def snappy_literal(data):
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack('<H', n)
        out += chunk
    return bytes(out)


def main():
    path, url = sys.argv[1], sys.argv[2]
    series = {}  # label text -> encoded labels
    by_time = defaultdict(list)  # ms -> [(series key, value)]
    with open(path) as f:
        for line in f:
            m = LINE.match(line.rstrip('\n'))
            if not m:
                continue
            name, labels, value, ts = m.groups()
            key = name + '{' + labels + '}'
            if key not in series:
                pairs = [('__name__', name)] + [(k, v.replace('\\"', '"').replace('\\\\', '\\'))
                                                for k, v in LABEL.findall(labels)]
                pairs.sort()
                series[key] = b''.join(
                    field(1, field(1, k.encode()) + field(2, v.encode())) for k, v in pairs)
            by_time[round(float(ts) * 1000)].append((key, float(value)))
    sent = 0
    for t in sorted(by_time):
        body = b''.join(
            field(1, series[key] + field(2, b'\x09' + struct.pack('<d', v) + b'\x10' + varint(t)))
            for key, v in by_time[t])
        req = urllib.request.Request(url, data=snappy_literal(body), method='POST', headers={
            'Content-Type': 'application/x-protobuf',
            'Content-Encoding': 'snappy',
            'X-Prometheus-Remote-Write-Version': '0.1.0',
        })
        with urllib.request.urlopen(req) as resp:
            resp.read()
        sent += len(by_time[t])
    print(f'{sent} samples in {len(by_time)} requests', file=sys.stderr)


if __name__ == '__main__':
    main()
