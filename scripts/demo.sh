#!/usr/bin/env bash
# The main job on the embedded store: the Czech MFA question of January 2017, answered the way a
# careful analyst would. A fresh store, the reference data (warninglists, ATT&CK + MISP galaxies
# from $KINSHIP_DATA when present), the demo world in examples/demo/world, then similarity with
# explanations, attribution with likelihood and a separate confidence level, and campaigns.
# Usage: scripts/demo.sh PATH/TO/kinship
set -euo pipefail
bin="$(realpath "$1")"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${KINSHIP_DATA:-$root/../shared/data}"
out="$root/build/demo"
mkdir -p "$out"
db="$out/demo.db"
rm -f "$db" "$db-wal" "$db-shm"
k() { echo; echo "\$ kinship $*"; "$bin" --db "$db" --quiet "$@"; }

CZECH=e4a7c1d2-5b3f-4c8e-9d21-7f6a0b3c5e88
BUNDESTAG=9c2d4b7e-1f3a-4e8b-a6d5-0b7c3e9f2a14
DNC=report--d0dce87d-9092-4715-8ebd-346030d34ff0

cat <<'TXT'
On 31 January 2017 the Czech foreign minister said the break-in to his ministry's e-mail "very
much resembles" the 2016 attack on the US Democratic Party. Could the same foreign state be behind
both? kinship loads ten public incidents (five related, five decoys) and answers with evidence.
TXT

if [ -f "$data/mitre-attack/enterprise-attack-18.1.json" ]; then
  k warninglists load "$data/misp-warninglists"
  k kb import "$data/mitre-attack/enterprise-attack-18.1.json" \
    "$data/misp-galaxy/clusters/threat-actor.json" \
    "$data/misp-galaxy/clusters/mitre-intrusion-set.json" \
    "$data/misp-galaxy/clusters/malpedia.json"
else
  echo
  echo "No reference data at $data: set KINSHIP_DATA to a folder with the official ATT&CK release"
  echo "(https://github.com/mitre-attack/attack-stix-data) and MISP galaxies/warninglists; running"
  echo "with only what the demo world itself states."
fi
k ingest "$root/examples/demo/world"
k incidents

echo
echo "== Which incidents does the Bundestag intrusion resemble, and why? =="
k similar "$BUNDESTAG" --top 3
echo
echo "== Where else have we seen the Bundestag intruders' C2 address? (exact correlation) =="
k pivot "176.31.112[.]10"
echo
echo "== The Bundestag and DNC intrusions side by side =="
k compare "$BUNDESTAG" "$DNC"
echo
echo "== And the Czech foreign ministry? (its public record is one technique, no indicators) =="
k similar "$CZECH" --top 3
echo
echo "== Who is likely behind the Czech case? =="
k attribute "$CZECH"
echo
echo "== A CSIRT's own note, TLP:RED, asked about without storing it (hypothetical: not in the world) =="
k attribute --file "$root/examples/demo/notes/hypothetical-csirt-note.txt"
echo
echo "== Which incidents form campaigns? =="
k campaigns
echo
echo "== Linking very loosely (p >= 0.02): SolarWinds shares two techniques with the DNC report alone =="
echo "== (almost no chance); it stands beside the campaign and does not chain into it. =="
k campaigns --threshold 0.02 --no-attribution

cat <<TXT

Where next (see README.md): kinship show ID, kinship actor APT28, kinship resolve "Fancy Bear",
kinship attribute --unattributed, kinship --json ... for machine output, and
kinship attribute --stix ID... (or similar, compare, campaigns --stix) for a STIX 2.1 bundle to share.
The demo store is $db.
TXT
