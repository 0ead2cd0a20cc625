#!/usr/bin/env python3
"""`kinship serve` against the CLI on the same store, in the same run.

The CLI indexes the store at every call; the server indexes it once. For each of `similar` and
`attribute`, this times N requests to the server (random stored incidents, one client) and a few
CLI calls on the same incidents, checks that both give the same answer, and prints the latency
p50 / p99 of each and their ratio.

Usage: bench/macro/serve_bench.py KINSHIP_BINARY STORE [requests=200] [cli_calls=5]
(cli_calls 0: the server alone, no comparison with the CLI.)
(a store: e.g. the generated feed of bench/macro/ingest_bench.sh, ingested with `kinship ingest`).
"""
import json
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

binary, db = sys.argv[1], sys.argv[2]
requests = int(sys.argv[3]) if len(sys.argv) > 3 else 200
cli_calls = int(sys.argv[4]) if len(sys.argv) > 4 else 5


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


ids = [json.loads(l)["id"] for l in subprocess.run(
    [binary, "--db", db, "--quiet", "--json", "incidents"], capture_output=True, text=True,
    check=True).stdout.splitlines() if l.startswith("{") and '"id"' in l]
rng = random.Random(1)
start = time.perf_counter()
server = subprocess.Popen([binary, "--db", db, "--quiet", "serve", "--port", "0"],
                          stdout=subprocess.PIPE, text=True)
line = server.stdout.readline()
base = line.strip().rsplit(" on ", 1)[-1]
print(f"{len(ids)} incidents; server ready in {time.perf_counter() - start:.2f} s: {line.strip()}")
with urllib.request.urlopen(f"{base}/v1/status") as r:
    status = json.loads(r.read())
with open(f"/proc/{server.pid}/status") as f:
    rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) * 1024
print(f"memory: server RSS {rss / 1e6:.0f} MB; similarity index {status['index_memory_bytes'] / 1e6:.0f} MB; "
      f"names kept {status.get('naming_memory_bytes', 0) / 1e6:.0f} MB")
try:
    for name, path, param, args in [("similar", "/v1/similar", {"top": 10}, ["--top", "10"]),
                                    ("attribute", "/v1/attribute", {}, [])]:
        sample = [rng.choice(ids) for _ in range(requests)]
        served = []
        answers = {}
        for i in sample:
            q = urllib.parse.urlencode({"id": i, **param})
            t = time.perf_counter()
            with urllib.request.urlopen(f"{base}{path}?{q}") as r:
                answers[i] = json.loads(r.read())
            served.append((time.perf_counter() - t) * 1000)
        cli = []
        same = 0
        for i in sample[:cli_calls]:
            t = time.perf_counter()
            out = subprocess.run([binary, "--db", db, "--quiet", "--json", name, i, *args],
                                 capture_output=True, text=True, check=True).stdout
            cli.append((time.perf_counter() - t) * 1000)
            same += json.loads(out.splitlines()[-1]) == answers[i]
        if not cli:  # cli_calls 0: the server alone
            print(f"{name:9s} served: p50 {pct(served, 50):8.1f} ms  p99 {pct(served, 99):8.1f} ms "
                  f"({len(served)} requests)")
            continue
        print(f"{name:9s} served: p50 {pct(served, 50):8.1f} ms  p99 {pct(served, 99):8.1f} ms "
              f"({len(served)} requests) | CLI: p50 {statistics.median(cli):8.1f} ms "
              f"({len(cli)} calls) | CLI/served p50 {statistics.median(cli) / pct(served, 50):6.0f}x"
              f" | same answer {same}/{len(cli)}")
finally:
    server.terminate()
    server.wait(timeout=60)
