#!/usr/bin/env python3
"""Deterministic generator of a large MISP feed folder, for ingest benchmarks.

Writes OUT/manifest.json and OUT/<uuid>.json (one {"Event": ...} per file), the layout MISP
publishes feeds in. Same arguments, same bytes: all randomness comes from --seed.

  python3 bench/gen/gen_misp_feed.py --events 10000 --indicators 1000000 --seed 1 --out /tmp/feed

Shape of the data:
- --indicators counts MISP attributes (a composite filename|sha256 attribute is one attribute and
  becomes two kinship indicators when parsed; the summary line says how many indicators that is).
- Values come from a shared pool and are reused across events with a Zipf-like (s = 1)
  distribution: the value of rank r is drawn with probability ~ 1/r, so a few values (a popular
  C2, a common dropper) appear in many events and most appear once or twice. Pool size is
  indicators/4.
- Each pool value has a fixed type: ip-dst, domain, hostname, url, sha256, md5, sha1, email-src,
  filename|sha256 (weights in TYPES).
- About 20 % of events carry a threat-actor galaxy tag; such an event also draws ~30 % of its
  values from that actor's own value range, so attributed events of one actor overlap the way
  real campaigns do. About 35 % of events carry 1-4 ATT&CK technique tags (actor events prefer
  their actor's techniques). Every event has a TLP tag.
Generated at run time, never committed. Python 3 standard library only.
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import sys
import uuid

# (MISP type, category, weight)
TYPES = [
    ("ip-dst", "Network activity", 18),
    ("domain", "Network activity", 16),
    ("hostname", "Network activity", 6),
    ("url", "Network activity", 12),
    ("sha256", "Payload delivery", 14),
    ("md5", "Payload delivery", 10),
    ("sha1", "Payload delivery", 6),
    ("email-src", "Payload delivery", 6),
    ("filename|sha256", "Payload installation", 12),
]
_CUMULATIVE = []
_total = 0
for _t, _c, _w in TYPES:
    _total += _w
    _CUMULATIVE.append(_total)

ACTORS = [
    "Sofacy", "APT29", "Turla Group", "Lazarus Group", "APT1", "Sandworm", "OilRig",
    "MuddyWater", "Kimsuky", "APT10", "FIN7", "Gamaredon Group", "Charming Kitten",
    "Equation Group", "Winnti Group",
]

TECHNIQUES = [
    ("Spearphishing Attachment", "T1566.001"), ("Spearphishing Link", "T1566.002"),
    ("PowerShell", "T1059.001"), ("Windows Command Shell", "T1059.003"),
    ("Malicious File", "T1204.002"), ("Registry Run Keys / Startup Folder", "T1547.001"),
    ("Scheduled Task", "T1053.005"), ("Obfuscated Files or Information", "T1027"),
    ("Ingress Tool Transfer", "T1105"), ("Web Protocols", "T1071.001"),
    ("DNS", "T1071.004"), ("Exfiltration Over C2 Channel", "T1041"),
    ("LSASS Memory", "T1003.001"), ("Process Injection", "T1055"),
    ("DLL Side-Loading", "T1574.002"), ("Masquerading", "T1036"),
    ("Valid Accounts", "T1078"), ("Exploit Public-Facing Application", "T1190"),
    ("Remote Desktop Protocol", "T1021.001"), ("SMB/Windows Admin Shares", "T1021.002"),
    ("System Information Discovery", "T1082"), ("File and Directory Discovery", "T1083"),
    ("Screen Capture", "T1113"), ("Keylogging", "T1056.001"),
    ("Data Encrypted for Impact", "T1486"), ("Indicator Removal", "T1070"),
    ("Rundll32", "T1218.011"), ("Encrypted Channel", "T1573"),
    ("Proxy", "T1090"), ("Archive via Utility", "T1560.001"),
]

TLPS = ["tlp:white", "tlp:green", "tlp:green", "tlp:amber"]
ORGS = ["CIRCL", "ESET", "CERT-EU", "Example CSIRT", "Unit 42", "Talos"]
TLDS = ["com", "net", "org", "info", "ru", "top", "xyz", "co.uk", "de", "io"]
WORDS = ["update", "secure", "mail", "cdn", "login", "static", "api", "portal", "news", "cloud",
         "docs", "files", "office", "micro", "soft", "net", "data", "sync", "host", "web"]
ACTOR_RANGE = 5000  # values reserved per actor, above the shared pool


def _mix(i, salt):
    """A deterministic 64-bit hash of (seed salt, i): fast, no per-value RNG state."""
    x = (i * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 29
    return x


def _type_of(i, salt):
    r = _mix(i, salt ^ 0x5A5A) % _total
    for k, c in enumerate(_CUMULATIVE):
        if r < c:
            return k
    return len(TYPES) - 1


def _value(i, salt):
    """(type, category, value) of pool value i; the same i always gives the same value."""
    k = _type_of(i, salt)
    t, cat, _ = TYPES[k]
    h = _mix(i, salt)
    if t == "ip-dst":
        return t, cat, "%d.%d.%d.%d" % (1 + h % 223, (h >> 8) & 255, (h >> 16) & 255,
                                        1 + (h >> 24) % 254)
    dom = "%s%s%d.%s" % (WORDS[h % 20], WORDS[(h >> 5) % 20], (h >> 10) % 10000,
                         TLDS[(h >> 24) % len(TLDS)])
    if t == "domain":
        return t, cat, dom
    if t == "hostname":
        return t, cat, "%s.%s" % (WORDS[(h >> 40) % 20], dom)
    if t == "url":
        return t, cat, "http://%s/%s/%x.php" % (dom, WORDS[(h >> 36) % 20], h >> 44)
    if t == "email-src":
        return t, cat, "%s%d@%s" % (WORDS[(h >> 33) % 20], (h >> 38) % 1000, dom)
    digest = hashlib.sha256(b"%d:%d" % (salt, i)).hexdigest()
    if t == "sha256":
        return t, cat, digest
    if t == "md5":
        return t, cat, digest[:32]
    if t == "sha1":
        return t, cat, digest[:40]
    return t, cat, "%s%d.exe|%s" % (WORDS[(h >> 35) % 20], (h >> 41) % 100, digest)


def _event_sizes(rng, events, indicators):
    """Event sizes summing exactly to `indicators`, log-normally spread (a few big events)."""
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(events)]
    total = sum(weights)
    spare = indicators - events  # every event gets at least one attribute
    sizes = [1 + int(spare * w / total) for w in weights]
    short = indicators - sum(sizes)
    for k in range(short):
        sizes[k % events] += 1
    return sizes


def generate(events, indicators, seed, out):
    if events < 1 or indicators < events:
        raise SystemExit("need --events >= 1 and --indicators >= --events")
    rng = random.Random(seed)
    salt = _mix(seed, 0x1234567)
    pool = max(1000, indicators // 4)
    os.makedirs(out, exist_ok=True)
    sizes = _event_sizes(rng, events, indicators)
    base_day = datetime.date(2015, 1, 1)
    manifest = {}
    parsed_indicators = 0
    for e in range(events):
        ev_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        day = base_day + datetime.timedelta(days=(e * 3650) // events)
        ts = int(datetime.datetime(day.year, day.month, day.day,
                                   tzinfo=datetime.timezone.utc).timestamp()) + 3600
        org = ORGS[rng.randrange(len(ORGS))]
        tags = [TLPS[rng.randrange(len(TLPS))]]
        actor = -1
        if rng.random() < 0.20:
            actor = rng.randrange(len(ACTORS))
            tags.append('misp-galaxy:threat-actor="%s"' % ACTORS[actor])
        if rng.random() < 0.35:
            for _ in range(rng.randint(1, 4)):
                if actor >= 0 and rng.random() < 0.7:
                    k = (actor * 7 + rng.randrange(5)) % len(TECHNIQUES)  # actor's favourites
                else:
                    k = rng.randrange(len(TECHNIQUES))
                tag = 'misp-galaxy:mitre-attack-pattern="%s - %s"' % TECHNIQUES[k]
                if tag not in tags:
                    tags.append(tag)
        info = "Synthetic event %d%s" % (e, " (%s)" % ACTORS[actor] if actor >= 0 else "")
        seen = set()
        attrs = []
        for j in range(sizes[e]):
            while True:
                if actor >= 0 and rng.random() < 0.30:
                    i = pool + actor * ACTOR_RANGE + rng.randrange(ACTOR_RANGE)
                else:
                    i = int(pool ** rng.random()) - 1  # Zipf-like: P(rank r) ~ 1/r
                if i not in seen:
                    break
                if len(seen) >= pool // 2:  # tiny pools: fall back to fresh values
                    i = pool + len(ACTORS) * ACTOR_RANGE + rng.getrandbits(40)
                    if i not in seen:
                        break
            seen.add(i)
            t, cat, value = _value(i, salt)
            parsed_indicators += 2 if "|" in t else 1
            to_ids = "true" if rng.random() < 0.7 else "false"
            attrs.append(
                '{"uuid":"%08x-%04x-4%03x-8000-%012x","type":"%s","category":"%s",'
                '"to_ids":%s,"distribution":"5","timestamp":"%d","comment":"","value":"%s"}'
                % (e & 0xFFFFFFFF, (e >> 32) & 0xFFFF, 0, j, t, cat, to_ids, ts, value))
        head = {
            "uuid": ev_uuid, "info": info, "date": day.isoformat(), "timestamp": str(ts),
            "publish_timestamp": str(ts), "analysis": "2", "threat_level_id": "2",
            "published": True, "Orgc": {"name": org, "uuid": str(uuid.UUID(
                int=_mix(ORGS.index(org), salt) << 64 | 1, version=4))},
            "Tag": [{"name": t} for t in tags],
        }
        head_json = json.dumps(head, separators=(",", ":"))
        body = '{"Event":%s,"Attribute":[%s]}}' % (head_json[:-1], ",".join(attrs))
        with open(os.path.join(out, ev_uuid + ".json"), "w", encoding="utf-8") as f:
            f.write(body)
        manifest[ev_uuid] = {k: head[k] for k in ("info", "date", "timestamp", "analysis",
                                                  "threat_level_id", "Orgc", "Tag")}
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, separators=(",", ":"))
    return parsed_indicators


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, required=True, help="number of events")
    p.add_argument("--indicators", type=int, required=True,
                   help="total number of attributes over all events")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--out", required=True, help="output folder (created)")
    a = p.parse_args(argv)
    parsed = generate(a.events, a.indicators, a.seed, a.out)
    print(json.dumps({"events": a.events, "attributes": a.indicators,
                      "indicators_when_parsed": parsed, "seed": a.seed, "out": a.out}))


if __name__ == "__main__":
    main(sys.argv[1:])
