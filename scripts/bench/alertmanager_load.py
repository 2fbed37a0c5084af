#!/usr/bin/env python3
"""Load driver for scripts/bench/alertmanager.sh: posts ALERTS alerts (labels spread over
GROUPS values of `group`) to an Alertmanager's POST /api/v2/alerts in batches of BATCH from
WORKERS processes, each on one keep-alive connection, then prints the ingest rate.

The request bodies are encoded before the clock starts, so the rate measures the server.
Bounded: a fixed number of requests, each with a socket timeout.

Usage: alertmanager_load.py PORT [ALERTS [GROUPS [BATCH [WORKERS]]]]
"""

import http.client
import json
import multiprocessing
import sys
import time


def bodies(alerts, groups, batch, worker, workers):
    out = []
    for start in range(worker * batch, alerts, batch * workers):
        chunk = [
            {
                "labels": {
                    "alertname": "BenchAlert",
                    "group": f"g{i % groups}",
                    "instance": f"host-{i}:9100",
                    "severity": "warning",
                },
                "annotations": {"summary": f"bench alert {i}"},
                "generatorURL": "http://127.0.0.1:9090/graph",
            }
            for i in range(start, min(start + batch, alerts))
        ]
        out.append(json.dumps(chunk).encode())
    return out


def post_all(port, payloads, ready, go, done):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ready.release()
    go.wait()
    for body in payloads:
        conn.request("POST", "/api/v2/alerts", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit(f"POST /api/v2/alerts answered {resp.status}")
    done.put(len(payloads))


def main():
    args = [int(a) for a in sys.argv[1:]]
    port, alerts, groups, batch, workers = (args + [0, 100_000, 10_000, 100, 4][len(args):])[:5]
    ready = multiprocessing.Semaphore(0)
    go = multiprocessing.Event()
    done = multiprocessing.Queue()
    procs = []
    for w in range(workers):
        payloads = bodies(alerts, groups, batch, w, workers)
        p = multiprocessing.Process(target=post_all, args=(port, payloads, ready, go, done))
        p.start()
        procs.append(p)
    for _ in procs:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    requests = sum(done.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join(timeout=10)
        if p.exitcode != 0:
            sys.exit(f"a worker failed (exit {p.exitcode})")
    print(f"requests={requests} seconds={elapsed:.3f} alerts_per_s={alerts / elapsed:.0f}")


if __name__ == "__main__":
    main()
