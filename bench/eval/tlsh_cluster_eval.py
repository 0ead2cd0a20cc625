#!/usr/bin/env python3
"""HAC-T clustering quality of `kinship tlsh-cluster` on the labelled MalwareBazaar dev set.

Usage: bench/eval/tlsh_cluster_eval.py KINSHIP_BINARY [--radius 30]
Reads $KINSHIP_DATA/tlsh/mb_10K-dev.csv (default ../shared/data beside the source tree), writes the digest column to
a temporary file (never into the repo), runs `kinship tlsh-cluster FILE --radius R --json`, and
prints purity, adjusted Rand index, clusters and time. Labels are compared case-insensitively
(the set spells Formbook two ways); NO_SIG rows are clustered but left out of the scores.
The same figures are computed in C++ by TlshData.HacTClustersLabelledMalwareBazaarSetPurely.
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import tempfile
import time


def comb2(n):
    return n * (n - 1) / 2


def scores(labels, clusters):
    table = collections.defaultdict(collections.Counter)
    for lab, cl in zip(labels, clusters):
        table[cl][lab] += 1
    n = len(labels)
    majority = sum(max(row.values()) for row in table.values())
    sum_ij = sum(comb2(k) for row in table.values() for k in row.values())
    sum_a = sum(comb2(sum(row.values())) for row in table.values())
    sum_b = sum(comb2(k) for k in collections.Counter(labels).values())
    expected = sum_a * sum_b / comb2(n)
    top = (sum_a + sum_b) / 2
    ari = 1.0 if top == expected else (sum_ij - expected) / (top - expected)
    return majority / n, ari


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kinship")
    ap.add_argument("--radius", type=int, default=30)
    args = ap.parse_args()
    data = os.environ.get("KINSHIP_DATA") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")
    with open(os.path.join(data, "tlsh", "mb_10K-dev.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    with tempfile.NamedTemporaryFile("w", suffix=".tlsh", delete=False) as tmp:
        for r in rows:
            tmp.write(r["tlsh"] + "\n")
    try:
        t0 = time.monotonic()
        out = subprocess.run([args.kinship, "tlsh-cluster", tmp.name, "--radius",
                              str(args.radius), "--json"], check=True, capture_output=True,
                             text=True).stdout
        secs = time.monotonic() - t0
    finally:
        os.unlink(tmp.name)
    clusters = [json.loads(line)["cluster"] for line in out.splitlines() if line.strip()]
    assert len(clusters) == len(rows), (len(clusters), len(rows))
    sizes = collections.Counter(clusters)
    keep = [i for i, r in enumerate(rows) if r["signature"] != "NO_SIG"]
    purity, ari = scores([rows[i]["signature"].lower() for i in keep], [clusters[i] for i in keep])
    print(f"digests {len(rows)}, labelled {len(keep)}, radius {args.radius}: "
          f"clusters {len(sizes)} ({sum(1 for s in sizes.values() if s == 1)} single), "
          f"purity {purity:.4f}, ARI {ari:.4f}, wall time {secs:.2f} s")


if __name__ == "__main__":
    main()
