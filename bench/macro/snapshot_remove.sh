#!/bin/sh
# Incidents leaving a store whose index snapshots are current (`kinship remove`, and an ingest
# that replaces stored incidents), against the alternative (the same write, then `kinship index
# build` again), in one run on copies of one store:
#   1. STORE (with current snapshots: `kinship index build` ran last) copied four times;
#   2. `remove` of N incidents on a copy with its snapshots (kept current), and on a copy without
#      them followed by `index build`;
#   3. the same N incidents' feed files ingested again (each replaces its stored version) on a
#      copy with its snapshots, and on a copy without them followed by `index build`;
#   4. `similar --top 10` of Q incidents from the kept snapshot and from the rebuilt one, compared
#      as JSON with numbers rounded to 10 significant digits (a kept index renumbers its features,
#      so sums may differ in the last bits).
# N incidents: the first N of `kinship incidents` that state no actor and came from FEED's files.
# Usage: bench/macro/snapshot_remove.sh KINSHIP_BINARY STORE FEED N WORKDIR [Q]
# STORE: e.g. the store of bench/gen/gen_misp_feed.py --events 100000 --indicators 10000000
# --seed 1 --out FEED, ingested with the ATT&CK KB, then `kinship index build`.
# WORKDIR gets four copies of STORE; it is left behind for inspection.
set -eu
bin=$1
store=$2
feed=$(cd "$3" && pwd)
n=$4
work=$5
q=${6:-20}
mkdir -p "$work/again"
rm -f "$work"/*.db* "$work"/again/*
for c in kept rebuilt kept-re rebuilt-re; do
  cp "$store" "$work/$c.db"
  case "$c" in kept*) cp "$store.kindex" "$work/$c.db.kindex"; cp "$store.kstyle" "$work/$c.db.kstyle" ;; esac
done
"$bin" --db "$store" --json incidents > "$work/incidents.jsonl"
python3 - "$work/incidents.jsonl" "$n" "$feed" "$work" <<'EOF'
import json, os, sys
path, n, feed, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [json.loads(l) for l in open(path)]
pick = [r for r in rows if not r["attributed_to"] and os.path.exists(os.path.join(feed, r["id"] + ".json"))][:n]
open(os.path.join(work, "ids.txt"), "w").write("\n".join(r["id"] for r in pick) + "\n")
for r in pick:
    os.symlink(os.path.join(feed, r["id"] + ".json"), os.path.join(work, "again", r["id"] + ".json"))
EOF
ids=$(cat "$work/ids.txt")
t() { /usr/bin/time -f "  %e s, peak RSS %M KB" "$@"; }
echo "remove $n incidents, snapshots kept current:"
t "$bin" --db "$work/kept.db" remove $ids
echo "remove $n incidents without snapshots, then index build:"
t "$bin" --db "$work/rebuilt.db" -q remove $ids
t "$bin" --db "$work/rebuilt.db" -q index build
echo "ingest the same $n events again (replacing), snapshots kept current:"
t "$bin" --db "$work/kept-re.db" ingest "$work/again"
echo "ingest them again without snapshots, then index build:"
t "$bin" --db "$work/rebuilt-re.db" -q ingest "$work/again"
t "$bin" --db "$work/rebuilt-re.db" -q index build
python3 - "$bin" "$work" "$q" <<'EOF'
import json, random, subprocess, sys
bin, work, q = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(work + "/incidents.jsonl")]
gone = set(open(work + "/ids.txt").read().split())
random.seed(1)
sample = random.sample([r["id"] for r in rows if r["id"] not in gone], q) + sorted(gone)[:5]
def norm(x):
    if isinstance(x, float): return float("%.10g" % x)
    if isinstance(x, dict): return {k: norm(v) for k, v in x.items()}
    if isinstance(x, list): return [norm(v) for v in x]
    return x
def similar(db, i):
    p = subprocess.run([bin, "--db", db, "--json", "similar", i, "--top", "10"], capture_output=True, text=True)
    return p.returncode, norm(json.loads(p.stdout.splitlines()[0])) if p.stdout else p.stderr
for kept, rebuilt, ids in (("kept", "rebuilt", sample[:q]), ("kept-re", "rebuilt-re", sample)):
    same = sum(similar(f"{work}/{kept}.db", i) == similar(f"{work}/{rebuilt}.db", i) for i in ids)
    print(f"similar --top 10 from {kept} and {rebuilt}: {same} of {len(ids)} answers the same")
EOF
