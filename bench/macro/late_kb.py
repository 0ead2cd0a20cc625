#!/usr/bin/env python3
"""What keeping reports' prose costs, and what it buys: `kb import` reading again the text of
report files stored before the knowledge base (the `prose` table, schema v8), against the same
store with its prose rows deleted (what a store before v8 held), in the same run.

  1. REPORTS plain-text report files are written to WORKDIR from the vendor-report records of
     $KINSHIP_DATA/reports/reports-dev.jsonl (title, date, a sentence per malware family and
     technique the record lists, its indicators one per line, defanged, and the actor it names),
     and ingested into a store with the ATT&CK KB imported first (`after.db`: the reference) and
     into a store without it (`before.db`);
  2. `before.db` is copied to `noprose.db`, whose prose rows are deleted (then both VACUUMed);
  3. `kb import` of the same ATT&CK bundle runs on each, timed; then a second import on each
     (nothing left to re-link: the cost of reading the prose again at every import);
  4. every incident is shown (--json) from all three stores and compared with `after.db`'s.

Usage: bench/macro/late_kb.py KINSHIP_BINARY WORKDIR [REPORTS=1391]
WORKDIR is emptied first and left behind for inspection.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

binary, work = sys.argv[1:3]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1391
data = os.environ.get("KINSHIP_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
attack = os.path.join(data, "mitre-attack/enterprise-attack-18.1.json")
records_path = os.path.join(data, "reports/reports-dev.jsonl")
if not os.path.exists(records_path) or not os.path.exists(attack):
    sys.exit(f"late_kb.py: shared data not found under {data} (set KINSHIP_DATA)")

shutil.rmtree(work, ignore_errors=True)
reports = os.path.join(work, "reports")
os.makedirs(reports)


def defang(v):
    return v.replace(".", "[.]").replace("http", "hxxp")


with open(records_path) as f:
    records = [json.loads(line) for line in f][:limit]
for i, r in enumerate(records):
    lines = [r.get("title") or r["id"], "", f"Published {r['published']}." if r.get("published") else ""]
    for m in r.get("malware", []):
        lines.append(f"The intruders deployed {m} on the hosts they reached.")
    for t in r.get("techniques", []):
        lines.append(f"They relied on {t}.")
    lines.append("Indicators:")
    lines += [defang(ind["value"]) for ind in r.get("indicators", [])]
    if r.get("actor"):
        lines.append(f"We assess that this activity was carried out by {r['actor']}.")
    with open(os.path.join(reports, f"{i:05d}.txt"), "w") as out:
        out.write("\n".join(lines) + "\n")


def kinship(db, *args):
    t = time.perf_counter()
    p = subprocess.run([binary, "--db", db, "-q", *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"kinship {' '.join(args)} on {db}: exit {p.returncode}\n{p.stderr}")
    return time.perf_counter() - t, p.stdout


after, before, noprose = (os.path.join(work, n) for n in ("after.db", "before.db", "noprose.db"))
kinship(after, "kb", "import", attack)
t_after, _ = kinship(after, "ingest", "--format", "report", reports)
t_before, _ = kinship(before, "ingest", "--format", "report", reports)
shutil.copy(before, noprose)
with sqlite3.connect(noprose) as c:
    c.execute("DELETE FROM prose")
for db in (before, noprose):
    # In WAL mode the file shrinks only once the log is checkpointed.
    with sqlite3.connect(db) as c:
        c.execute("VACUUM")
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def prose_bytes(db):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT count(*), ifnull(sum(length(CAST(text AS BLOB))), 0) FROM prose").fetchone()


n_prose, text_bytes = prose_bytes(before)
size_before, size_noprose = os.path.getsize(before), os.path.getsize(noprose)
print(f"{len(records)} report files ({sum(os.path.getsize(os.path.join(reports, f)) for f in os.listdir(reports))} bytes);"
      f" ingest with the KB {t_after:.2f} s, without {t_before:.2f} s")
print(f"store with prose {size_before} bytes, without {size_noprose} bytes "
      f"({size_before / size_noprose:.3f}x; {n_prose} prose rows, {text_bytes} bytes of text)")
for db, name in ((noprose, "prose deleted (baseline)"), (before, "prose kept")):
    first, out1 = kinship(db, "--json", "kb", "import", attack)
    second, out2 = kinship(db, "--json", "kb", "import", attack)
    relinked = [json.loads(l).get("incidents_relinked") for l in (out1.strip().splitlines()[-1], out2.strip().splitlines()[-1])]
    print(f"{name}: kb import {first:.2f} s (re-linked {relinked[0]}), again {second:.2f} s (re-linked {relinked[1]})")


def shown(db):
    """Each incident as `show --json` gives it, without the time this store first held it
    (provenance.first_stored), which two stores filled at different times never share."""
    _, out = kinship(db, "--json", "incidents")
    ids = [json.loads(l)["id"] for l in out.splitlines()]
    got = {i: json.loads(kinship(db, "--json", "show", i)[1]) for i in ids}
    for inc in got.values():
        inc["provenance"].pop("first_stored", None)
    return got


reference = shown(after)
for db, name in ((noprose, "prose deleted (baseline)"), (before, "prose kept")):
    got = shown(db)
    same = sum(1 for i, inc in reference.items() if got.get(i) == inc)
    print(f"{name}: {same} of {len(reference)} incidents equal to those ingested after the KB")
