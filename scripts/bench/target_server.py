"""A scrape target for the server benchmarks: PORT, SERIES gauges per page.

Every path serves the same page shape; values rotate through 16 pre-rendered pages, so
consecutive scrapes see changing values without this process burning CPU on formatting.
Series are labelled series="i" and kind="k<i % 10>"; values are uniform in [0, 1000).
Usage: python3 target_server.py PORT SERIES
"""
import random
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, n = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(1)
pages = []
for _ in range(16):
    lines = ["# HELP bench_value A benchmark gauge.", "# TYPE bench_value gauge"]
    for i in range(n):
        lines.append('bench_value{series="%d",kind="k%d"} %.2f' % (i, i % 10, rnd.uniform(0, 1000)))
    pages.append(("\n".join(lines) + "\n").encode())
count = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        count[0] += 1
        body = pages[count[0] % 16]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
