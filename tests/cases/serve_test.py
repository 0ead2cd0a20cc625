#!/usr/bin/env python3
"""End-to-end test of `kinship serve`: every endpoint gives the object its CLI command prints with
--json, errors map to HTTP statuses, a commit by another process is indexed before the next
answer, and SIGTERM ends the server with exit code 0.

Usage: serve_test.py KINSHIP_BINARY SOURCE_DIR
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

BIN, SRC = sys.argv[1], sys.argv[2]
WORLD = os.path.join(SRC, "examples", "demo", "world")
BUNDESTAG = "9c2d4b7e-1f3a-4e8b-a6d5-0b7c3e9f2a14"
DNC = "report--d0dce87d-9092-4715-8ebd-346030d34ff0"
CZECH = "e4a7c1d2-5b3f-4c8e-9d21-7f6a0b3c5e88"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(db, *args, json_lines=True):
    out = subprocess.run([BIN, "--db", db, "--quiet", *(["--json"] if json_lines else []), *args],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"kinship {' '.join(args)} failed ({out.returncode}): {out.stderr}")
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def cli(db, *args):
    return run(db, *args)[-1]


def cli_lines(db, *args):
    return run(db, *args)


def cli_stix(db, *args):
    """The bundle `kinship ARGS --stix` prints (without --json, which --stix refuses)."""
    return run(db, *args, "--stix", json_lines=False)[-1]


def request(base, path, data=None, **params):
    """(status, headers, body as JSON) of a GET, or of a POST of `data`."""
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    method = "GET" if data is None else "POST"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method),
                                    timeout=120) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def post(base, path, data, **params):
    code, _, body = request(base, path, data, **params)
    return code, body


def get(base, path, **params):
    code, _, body = request(base, path, **params)
    return code, body


def stix_shape(bundle):
    """A bundle with what each export makes anew left out: identifiers numbered in order of
    first appearance, creation times dropped."""
    ids = {}

    def walk(x):
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items() if k not in ("created", "modified")}
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str) and "--" in x and len(x.split("--", 1)[1]) == 36:
            return ids.setdefault(x, f"{x.split('--')[0]}--{len(ids)}")
        return x

    return walk(bundle)


with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "k.db")
    first = [os.path.join(WORLD, f) for f in sorted(os.listdir(WORLD)) if f[:2] in ("01", "02", "03")]
    rest = [os.path.join(WORLD, f) for f in sorted(os.listdir(WORLD)) if f[:2] not in ("01", "02", "03")]
    cli(db, "ingest", *first)

    server = subprocess.Popen([BIN, "--db", db, "serve", "--port", "0", "--max-body", "65536"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        check("http://127.0.0.1:" in line and "3 incidents indexed" in line,
              f"start line names the address and the indexed incidents: {line.strip()!r}")
        base = line.strip().rsplit(" on ", 1)[-1]

        code, status = get(base, "/v1/status")
        check(code == 200 and status["incidents"] == 3 and status["indexings"] == 1,
              f"status: 3 incidents, indexed once ({code} {status})")
        check(status["style_current"] is True and status["style_trainings"] == 0,
              f"the naming-style classifier was trained with the index, not on its own ({status})")

        # Each endpoint answers what the CLI prints with --json.
        for path, params, args in [
            ("/v1/similar", {"id": BUNDESTAG, "top": 3}, ["similar", BUNDESTAG, "--top", "3"]),
            ("/v1/compare", {"a": BUNDESTAG, "b": DNC}, ["compare", BUNDESTAG, DNC]),
            ("/v1/attribute", {"id": BUNDESTAG}, ["attribute", BUNDESTAG]),
            ("/v1/pivot", {"value": "176.31.112[.]10"}, ["pivot", "176.31.112[.]10"]),
            ("/v1/pivot", {"value": "176.0.0.0/8", "inside_limit": 1},
             ["pivot", "176.0.0.0/8", "--inside-limit", "1"]),
            ("/v1/incident", {"id": CZECH}, ["show", CZECH]),
        ]:
            code, body = get(base, path, **params)
            check(code == 200 and body == cli(db, *args), f"{path} equals `kinship --json {args[0]}`")
        code, body = get(base, "/v1/similar", id=BUNDESTAG, top=3)
        check(body["similar"] and body["similar"][0]["id"] == DNC,
              "the Bundestag intrusion's nearest incident is the DNC's")
        code, body = get(base, "/v1/similar", id=BUNDESTAG, top=3, min_probability=0.5)
        check(code == 200 and body == cli(db, "similar", BUNDESTAG, "--top", "3", "--min-probability", "0.5")
              and all(m["probability"] >= 0.5 for m in body["similar"]),
              "min_probability as the CLI's --min-probability")
        code, body = get(base, "/v1/similar", id=BUNDESTAG, min_probability=2)
        check(code == 400 and "min_probability" in body["error"], f"min_probability 2 -> 400 ({code} {body})")
        code, body = get(base, "/v1/pivot", value="176.31.112[.]10")
        check(sorted(i["id"] for i in body["incidents"]) == sorted([BUNDESTAG, DNC]),
              "the shared C2 address is held by the DNC and Bundestag incidents")

        # Errors: a JSON body naming the problem, with the matching HTTP status.
        code, body = get(base, "/v1/similar", id="no-such-incident")
        check(code == 404 and "no-such-incident" in body["error"], f"unknown id -> 404 ({code} {body})")
        code, body = get(base, "/v1/compare", a=BUNDESTAG)
        check(code == 400 and "'b'" in body["error"], f"missing parameter -> 400 ({code} {body})")
        code, body = get(base, "/v1/similar", id=BUNDESTAG, top="lots")
        check(code == 400 and "top" in body["error"], f"bad number -> 400 ({code} {body})")
        code, body = get(base, "/v1/pivot", value="176.0.0.0/8", inside_limit=1)
        check(len(body["inside"]) == 1 and body["inside_truncated"] is True,
              f"a network with more stored inside than inside_limit says so ({body})")
        code, body = get(base, "/v1/pivot", value="176.0.0.0/8", inside_limit=0)
        check(code == 400 and "inside_limit" in body["error"], f"inside_limit 0 -> 400 ({code} {body})")
        code, body = get(base, "/v1/pivot", value="not a value at all")
        check(code == 400, f"unparseable pivot value -> 400 ({code} {body})")
        code, body = get(base, "/no/such/path")
        check(code == 404, f"unknown path -> 404 ({code})")

        # Another process ingests: the next request sees the new incidents. The server brings
        # its index up to date from the store's journal of writes instead of indexing the store
        # whole (Analysis::CatchUp).
        cli(db, "ingest", *rest)
        code, status = get(base, "/v1/status")
        check(code == 200 and status["incidents"] == 10 and status["indexings"] == 1
              and status["catch_ups"] == 1,
              f"after an ingest by another process: 10 incidents, brought up to date, not indexed again ({status})")
        code, body = get(base, "/v1/similar", id=BUNDESTAG, top=5)
        check(code == 200 and body == cli(db, "similar", BUNDESTAG, "--top", "5"),
              "answers after the ingest equal the CLI's")
        # The server names the values behind naming items from its in-memory copy (NamingCache);
        # the CLI reads them from the store: every incident's answers must agree.
        ids = [i["id"] for i in cli_lines(db, "incidents")]
        named, agree = 0, True
        for i in ids:
            for path, params, args in [("/v1/similar", {"id": i, "top": 5}, ["similar", i, "--top", "5"]),
                                       ("/v1/attribute", {"id": i}, ["attribute", i])]:
                code, body = get(base, path, **params)
                agree = agree and code == 200 and body == cli(db, *args)
                named += json.dumps(body).count('"sources":')
        check(len(ids) == 10 and agree, "similar and attribute of every incident equal the CLI's")
        check(named > 0, f"those answers name the values behind naming items ({named})")
        code, status = get(base, "/v1/status")
        check(status["indexings"] == 1 and status["catch_ups"] == 1, "no change, no new indexing")
        check(status["naming_memory_bytes"] > 0, f"status counts the names kept ({status})")
        # The ingest brought incidents with actors and hostnames: the catch-up left the
        # naming-style classifier to a thread of its own, and the attributions above waited for it.
        check(status["style_current"] is True and status["style_trainings"] == 1,
              f"the naming-style classifier was trained again once, apart from the catch-up ({status})")

        # A file posted to /v1/attribute is attributed as `attribute --file` does, not stored.
        note = os.path.join(SRC, "tests", "cases", "inputs", "note-c2.txt")
        with open(note, "rb") as f:
            code, body = post(base, "/v1/attribute", f.read(), name="note-c2.txt")
        want = cli_lines(db, "attribute", "--file", note)
        bare = lambda d: {k: v for k, v in d.items() if k != "file"}
        check(code == 200 and len(body["results"]) == 1
              and [bare(r) for r in body["results"]] == [bare(w) for w in want]
              and body["results"][0]["file"] == "note-c2.txt" and body["results"][0]["stored"] is False,
              f"POST /v1/attribute equals `kinship --json attribute --file` ({code})")
        check(body["results"][0]["candidates"][0]["actor"] == "G0007",
              "the posted note's C2 and domain point at the DNC and Bundestag intrusions' actor")
        code, status = get(base, "/v1/status")
        check(status["incidents"] == 10 and status["indexings"] == 1 and status["catch_ups"] == 1,
              f"a posted file is not stored and changes no index ({status})")
        code, body = post(base, "/v1/attribute", b'{"Event": {"Attribute": [', name="broken.json")
        check(code == 400 and "broken.json" in body["error"], f"a malformed post -> 400 ({code} {body})")
        # A body over --max-body is refused before it is read, with a JSON error naming the limit.
        try:
            code, body = post(base, "/v1/attribute", b"x" * 70000, name="big.txt")
            check(code == 413 and "65536" in body["error"], f"a body over --max-body -> 413 ({code} {body})")
        except (ConnectionError, urllib.error.URLError) as e:
            check(False, f"a body over --max-body -> 413, not a dropped connection ({e})")
        code, status = get(base, "/v1/status")
        check(code == 200 and status["incidents"] == 10, f"the server answers after a refused body ({status})")

        # Campaigns: the CLI's lines as one list, computed once per index and setting.
        code, body = get(base, "/v1/campaigns")
        check(code == 200 and body["threshold"] == 0.5 and body["campaigns"] == cli_lines(db, "campaigns"),
              "/v1/campaigns equals `kinship --json campaigns`")
        check(any(BUNDESTAG in c["members"] and DNC in c["members"] for c in body["campaigns"]),
              "the Bundestag and DNC incidents form one campaign")
        code, again = get(base, "/v1/campaigns")
        check(code == 200 and again == body, "asked again, the same campaigns")
        code, bare = get(base, "/v1/campaigns", threshold=0.3, attribution="false")
        check(code == 200 and bare["campaigns"] == cli_lines(db, "campaigns", "--threshold", "0.3", "--no-attribution")
              and all("attribution" not in c for c in bare["campaigns"]),
              "threshold and attribution=false as the CLI's --threshold and --no-attribution")
        # Without attribution the names behind the binding evidence come from memory (server and
        # CLI alike); with it, from the members read back: the bindings must be the same (the
        # demo's bindings hold no naming items; tests/cases/naming.test checks their names).
        attributed = cli_lines(db, "campaigns", "--threshold", "0.3")
        check([c["binding"] for c in bare["campaigns"]] == [c["binding"] for c in attributed],
              "binding evidence the same with and without attribution")
        code, single = get(base, "/v1/campaigns", threshold=0.1, linkage="single", attribution="false")
        check(code == 200 and single["linkage"] == "single"
              and single["campaigns"] == cli_lines(db, "campaigns", "--threshold", "0.1", "--linkage", "single", "--no-attribution"),
              "linkage=single as the CLI's --linkage single")
        code, one = get(base, "/v1/campaigns", threshold=0.3, attribution="false", items=1)
        check(code == 200 and one["campaigns"] == cli_lines(db, "campaigns", "--threshold", "0.3", "--no-attribution", "--items", "1")
              and any(f["items_total"] > len(f["items"]) == 1 for c in one["campaigns"] for f in c["binding"]),
              "items=1 as the CLI's --items 1: one binding item per family, items_total counts all")
        code, err = get(base, "/v1/campaigns", items="-1")
        check(code == 400 and "items" in err["error"], f"items out of range -> 400 ({code} {err})")
        code, err = get(base, "/v1/campaigns", linkage="complete")
        check(code == 400 and "linkage" in err["error"], f"unknown linkage -> 400 ({code} {err})")
        code, err = get(base, "/v1/campaigns", threshold="2")
        check(code == 400 and "threshold" in err["error"], f"threshold out of range -> 400 ({code} {err})")
        code, status = get(base, "/v1/status")
        check(status["indexings"] == 1 and status["catch_ups"] == 1,
              "campaigns do not index the store again")

        # stix=true: the bundle the CLI's --stix prints, as STIX's media type. Each export has its
        # own times (and campaigns their own identifiers), so the two are compared with those
        # numbered and dropped.
        stix_type = "application/stix+json;version=2.1"
        code, headers, bundle = request(base, "/v1/attribute", id=BUNDESTAG, stix="true")
        check(code == 200 and headers["Content-Type"] == stix_type and bundle["type"] == "bundle",
              f"GET /v1/attribute?stix=true answers a STIX bundle ({code} {headers['Content-Type']})")
        from_cli = cli_stix(db, "attribute", BUNDESTAG)
        check(stix_shape(bundle) == stix_shape(from_cli),
              "it equals `kinship attribute --stix` but for identifiers and times")
        check([(o["id"], o["created"]) for o in bundle["objects"]]
              == [(o["id"], o["created"]) for o in from_cli["objects"]],
              "its objects are the CLI's, versions of one STIX object each")
        check(any(o["type"] == "relationship" and o["relationship_type"] == "attributed-to"
                  for o in bundle["objects"]),
              "the Bundestag intrusion is attributed in it")
        code, headers, bundle = request(base, "/v1/similar", id=BUNDESTAG, top=3, stix="true")
        check(code == 200 and headers["Content-Type"] == stix_type
              and stix_shape(bundle) == stix_shape(cli_stix(db, "similar", BUNDESTAG, "--top", "3"))
              and [o["type"] for o in bundle["objects"]].count("relationship") == 3,
              "GET /v1/similar?stix=true equals `kinship similar --stix` but for identifiers and times")
        code, headers, bundle = request(base, "/v1/compare", a=BUNDESTAG, b=DNC, stix="true")
        check(code == 200 and headers["Content-Type"] == stix_type
              and stix_shape(bundle) == stix_shape(cli_stix(db, "compare", BUNDESTAG, DNC))
              and [o["type"] for o in bundle["objects"]].count("relationship") == 1,
              "GET /v1/compare?stix=true equals `kinship compare --stix` but for identifiers and times")
        for params, args in [({}, []), ({"threshold": 0.3, "attribution": "false"},
                                         ["--threshold", "0.3", "--no-attribution"])]:
            code, headers, bundle = request(base, "/v1/campaigns", stix="true", **params)
            check(code == 200 and headers["Content-Type"] == stix_type
                  and stix_shape(bundle) == stix_shape(cli_stix(db, "campaigns", *args))
                  and any(o["type"] == "campaign" for o in bundle["objects"]),
                  f"GET /v1/campaigns?stix=true{params} equals `kinship campaigns {' '.join(args)} --stix`")
        code, headers, bundle = request(base, "/v1/attribute", stix="true")
        check(code == 400 and "id" in bundle["error"] and headers["Content-Type"] == "application/json",
              f"an error asked as STIX is JSON ({code} {bundle})")
        code, bundle = get(base, "/v1/attribute", id=BUNDESTAG, stix="maybe")
        check(code == 400 and "stix" in bundle["error"], f"stix=maybe -> 400 ({code} {bundle})")
        with open(note, "rb") as f:
            code, headers, bundle = request(base, "/v1/attribute", f.read(), name="note-c2.txt",
                                            stix="true")
        check(code == 200 and headers["Content-Type"] == stix_type
              and headers["X-Kinship-Diagnostics"] == "0"
              and [o["type"] for o in bundle["objects"]].count("incident") == 1,
              f"POST /v1/attribute?stix=true: one incident in a bundle, its warnings counted "
              f"({code} {headers})")

        # Another process removes an incident: the next answer no longer knows it.
        cli(db, "remove", CZECH)
        code, status = get(base, "/v1/status")
        check(code == 200 and status["incidents"] == 9 and status["indexings"] == 1
              and status["catch_ups"] == 2,
              f"after a removal by another process: 9 incidents, brought up to date ({status})")
        code, body = get(base, "/v1/incident", id=CZECH)
        check(code == 404, f"a removed incident -> 404 ({code})")
        code, body = get(base, "/v1/similar", id=BUNDESTAG, top=9)
        check(code == 200 and body == cli(db, "similar", BUNDESTAG, "--top", "9")
              and all(m["id"] != CZECH for m in body["similar"]),
              "answers after the removal equal the CLI's and leave the removed incident out")

        # Another process ingests stored events again (`--again`: as if changed upstream): their
        # stored versions are taken out of the index and the new ones added, and every answer is
        # the CLI's, attribution's naming-style classifier (trained again: they state actors and
        # hostnames) included.
        again = [f for f in rest if "05-" in f or "09-" in f]
        trainings = get(base, "/v1/status")[1]["style_trainings"]
        cli(db, "ingest", "--again", *again)
        code, status = get(base, "/v1/status")
        check(code == 200 and status["incidents"] == 9 and status["indexings"] == 1
              and status["catch_ups"] == 3,
              f"after a replacing ingest: 9 incidents, brought up to date ({status})")
        ids = [l["id"] for l in cli_lines(db, "incidents")]
        same = all(get(base, "/v1/similar", id=i, top=9)[1] == cli(db, "similar", i, "--top", "9")
                   and get(base, "/v1/attribute", id=i)[1] == cli(db, "attribute", i)
                   for i in ids)
        check(same, "after it, similar and attribute of every incident equal the CLI's")
        code, status = get(base, "/v1/status")
        check(status["style_current"] is True and status["style_trainings"] == trainings + 1,
              f"the replaced versions state actors and hostnames: trained again once more ({status})")

        # A write the journal cannot carry an index across (new warninglists change what is
        # indexed): the store is indexed whole again.
        lists = os.path.join(tmp, "lists", "demo-benign")
        os.makedirs(lists)
        with open(os.path.join(lists, "list.json"), "w") as f:
            json.dump({"name": "demo benign", "version": 1, "description": "a test list",
                       "type": "string", "matching_attributes": ["domain"],
                       "list": ["example.org"]}, f)
        cli(db, "warninglists", "load", os.path.join(tmp, "lists"))
        code, status = get(base, "/v1/status")
        check(code == 200 and status["indexings"] == 2 and status["catch_ups"] == 3,
              f"after new warninglists: indexed again ({status})")
        code, body = get(base, "/v1/similar", id=BUNDESTAG, top=9)
        check(code == 200 and body == cli(db, "similar", BUNDESTAG, "--top", "9"),
              "answers after it equal the CLI's")

        # A second server on the same port is refused (no SO_REUSEPORT sharing).
        port = base.rsplit(":", 1)[-1]
        second = subprocess.run([BIN, "--db", db, "serve", "--port", port], capture_output=True,
                                text=True, timeout=120)
        check(second.returncode == 4 and "cannot listen" in second.stderr,
              f"a port in use: exit 4, 'cannot listen' ({second.returncode} {second.stderr.strip()!r})")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            rc = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            rc = None
        rest_out = server.stdout.read()
        log = server.stderr.read()
    check(rc == 0 and "stopped" in rest_out, f"SIGTERM stops the server cleanly (exit {rc})")
    check("GET /v1/similar?" in log and " 404" in log, "requests are logged on stderr")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
