#!/usr/bin/env python3
"""`kinship serve` bringing its index up to date after writes by another process, against
indexing the store whole (what every write cost the server before the store kept a journal of
writes, and what a KB import or new warninglists still cost), in the same run.

On a copy of STORE (its snapshots left out, so that the server indexes the store itself):
  1. start a server and read how long it took to index the store (`index_seconds`);
  2. another process writes, three times: it ingests N events the store does not hold (NEW, a
     folder of MISP event files), ingests N of the stored events again (each replaces its stored
     version), and removes those N; after each, one request times the server's catch-up
     (`catch_up_seconds`, and the request's own wall time), a `similar` and an `attribute` of
     one incident are timed (the second waits for the naming-style classifier when it is being
     trained again), and the server's peak RSS is read;
  3. a second server started on the final store (a whole indexing: the baseline, timed the
     same way) answers `similar --top 10` for Q incidents, compared with the first server's
     answers as JSON with numbers rounded to 10 significant digits (a kept index renumbers its
     features, so sums may differ in the last bits), and `attribute` likewise.

Usage: bench/macro/serve_catch_up.py KINSHIP_BINARY STORE FEED NEW N WORKDIR [Q=20]
STORE: e.g. the store of bench/gen/gen_misp_feed.py --events 100000 --indicators 10000000
--seed 1 --out FEED, with the ATT&CK KB. The N events ingested again and removed are the first
N stored ones that state no actor and whose file (named by id) is in FEED. NEW: e.g.
gen_misp_feed.py --events N --indicators 100N --seed 2 --out NEW.
WORKDIR gets one copy of STORE; it is left behind for inspection.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

binary, store, source, new, n, work = sys.argv[1:7]
n = int(n)
q = int(sys.argv[7]) if len(sys.argv) > 7 else 20
os.makedirs(work, exist_ok=True)
db = os.path.join(work, "serve.db")
for suffix in ("", "-wal", "-shm", ".kindex", ".kstyle"):
    if os.path.exists(db + suffix):
        os.remove(db + suffix)
shutil.copy(store, db)


def cli(*args):
    return subprocess.run([binary, "--db", db, "--quiet", *args], capture_output=True, text=True,
                          check=True).stdout


def start():
    t = time.perf_counter()
    p = subprocess.Popen([binary, "--db", db, "--quiet", "serve", "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    return p, line.strip().rsplit(" on ", 1)[-1], time.perf_counter() - t


def get(base, path, **params):
    with urllib.request.urlopen(f"{base}{path}?{urllib.parse.urlencode(params)}") as r:
        return json.loads(r.read())


def peak_mb(p):
    with open(f"/proc/{p.pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024


def norm(x):
    if isinstance(x, float):
        return float("%.10g" % x)
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    if isinstance(x, list):
        return [norm(v) for v in x]
    return x


rows = [json.loads(l) for l in cli("--json", "incidents").splitlines()]
server, base, ready = start()
status = get(base, "/v1/status")
print(f"{status['incidents']} incidents; first server ready in {ready:.1f} s "
      f"(index_seconds {status['index_seconds']:.1f}); peak RSS {peak_mb(server):.0f} MB")

# The N stored events to ingest again and remove.
again = os.path.join(work, "again")
shutil.rmtree(again, ignore_errors=True)
os.makedirs(again)
pick = [r["id"] for r in rows if not r["attributed_to"]
        and os.path.exists(os.path.join(source, r["id"] + ".json"))][:n]
for i in pick:
    os.symlink(os.path.join(os.path.abspath(source), i + ".json"), os.path.join(again, i + ".json"))


probe = next(r["id"] for r in rows if r["id"] not in pick)  # stays through every write


def timed(path, **params):
    t = time.perf_counter()
    answer = get(base, path, **params)
    return answer, time.perf_counter() - t


def step(what, *args):
    """After the write, the first request (a status) catches up; a `similar` then answers at
    once, and an `attribute` waits for the naming-style classifier when it is trained again.
    (The status keys of the classifier's training are read with defaults, so that a binary from
    before they existed runs the same script.)"""
    cli(*args)
    s, wall = timed("/v1/status")
    _, similar = timed("/v1/similar", id=probe, top=10)
    _, attribute = timed("/v1/attribute", id=probe)
    after = get(base, "/v1/status")
    print(f"{what}: first request {wall:.2f} s (catch_up_seconds {s['catch_up_seconds']:.2f}; "
          f"catch_ups {s['catch_ups']}, indexings {s['indexings']}; classifier current "
          f"{s.get('style_current', '-')}); then similar {similar:.2f} s, attribute "
          f"{attribute:.2f} s (classifier trainings {after.get('style_trainings', '-')}, last "
          f"{after.get('style_training_seconds', 0):.2f} s); {s['incidents']} incidents; "
          f"server peak RSS {peak_mb(server):.0f} MB")


try:
    step(f"ingest {n} new events", "ingest", new)
    step(f"ingest {len(pick)} stored events again (replacing)", "ingest", "--again", again)
    step(f"remove those {len(pick)}", "remove", *pick)
    final = [json.loads(l)["id"] for l in cli("--json", "incidents").splitlines()]
    second, base2, ready2 = start()
    try:
        s2 = get(base2, "/v1/status")
        print(f"second server on the final store ready in {ready2:.1f} s "
              f"(index_seconds {s2['index_seconds']:.1f})")
        random.seed(1)
        sample = random.sample(final, q)
        for path, params in (("/v1/similar", {"top": 10}), ("/v1/attribute", {})):
            same = sum(norm(get(base, path, id=i, **params)) == norm(get(base2, path, id=i, **params))
                       for i in sample)
            print(f"{path}: {same} of {len(sample)} answers the same from both servers")
    finally:
        second.terminate()
        second.wait()
finally:
    server.terminate()
    server.wait()
