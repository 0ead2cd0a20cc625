#!/usr/bin/env python3
"""Runs one golden CLI test (tests/cases/README.md). Usage: run_case.py KINSHIP_BINARY CASE_FILE"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile


def stored_alike(doc):
    """`kinship show --json`'s incident without the time the store first held it
    (provenance.first_stored): what two stores that read the same input at different times hold
    alike."""
    return dict(doc, provenance={k: v for k, v in doc["provenance"].items() if k != "first_stored"})


def main() -> int:
    binary, case = os.path.abspath(sys.argv[1]), sys.argv[2]
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    data = os.environ.get("KINSHIP_DATA") or os.path.join(src, "..", "shared", "data")
    data = os.path.abspath(data)
    with open(case, encoding="utf-8") as f:
        lines = f.read().splitlines()
    tmp = tempfile.mkdtemp(prefix="kinship-case-")
    env = dict(os.environ, KINSHIP_DB=os.path.join(tmp, "kinship.db"), KINSHIP_DATA=data)

    def subst(s: str) -> str:
        return s.replace("{src}", src).replace("{data}", data).replace("{tmp}", tmp)

    failures = []
    steps = []  # (args, [expectations])
    for ln, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("$ "):
            steps.append({"args": subst(line[2:]), "line": ln, "exit": 0, "expect": []})
            continue
        if line.startswith("same-file ") or line.startswith("copy "):
            steps.append({"op": line.split()[0], "files": [subst(x) for x in line.split()[1:]], "line": ln})
            continue
        if not steps or "args" not in steps[-1]:
            print(f"{case}:{ln}: expectation before any command", file=sys.stderr)
            return 2
        step = steps[-1]
        if line.startswith("exit "):
            step["exit"] = int(line.split()[1])
        else:
            kind, _, text = line.partition(" ")
            if kind not in (">", "~", ">=", "!", "no!", "no>", "json", "save"):
                print(f"{case}:{ln}: unknown step '{line}'", file=sys.stderr)
                return 2
            step["expect"].append((kind, subst(text), ln))

    for step in steps:
        if "op" in step:
            a, b = step["files"]
            if step["op"] == "copy":
                shutil.copyfile(a, b)
            elif open(a, "rb").read() != open(b, "rb").read():
                failures.append(f"line {step['line']}: {a} and {b} differ")
            continue
        argv = [binary] + shlex.split(step["args"])
        proc = subprocess.run(argv, env=env, cwd=tmp, capture_output=True, text=True, timeout=600)
        out_lines = proc.stdout.splitlines()
        where = f"line {step['line']} (kinship {step['args']})"
        if proc.returncode != step["exit"]:
            failures.append(f"{where}: exit {proc.returncode}, expected {step['exit']}\n"
                            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
            continue
        pos = 0
        for kind, text, ln in step["expect"]:
            if kind == "json":
                try:
                    docs = [json.loads(o) for o in out_lines if o.strip()]
                    ok = eval(text, {"lines": docs, "any": any, "all": all, "len": len,
                                     "stored_alike": stored_alike})
                except Exception as e:  # a malformed expectation or output is a failure
                    ok, text = False, f"{text} ({e})"
                if not ok:
                    failures.append(f"{where}: json check failed: {text} (case line {ln})\n"
                                    f"stdout:\n{proc.stdout}")
            elif kind == "!":
                if text not in proc.stderr:
                    failures.append(f"{where}: stderr lacks '{text}' (case line {ln})\nstderr:\n{proc.stderr}")
            elif kind == "no!":
                if text in proc.stderr:
                    failures.append(f"{where}: stderr has '{text}' (case line {ln})\nstderr:\n{proc.stderr}")
            elif kind == "save":  # the command's stdout into a file, for same-file
                with open(text, "w", encoding="utf-8") as out:
                    out.write(proc.stdout)
            elif kind == "no>":
                if any(text in o for o in out_lines):
                    failures.append(f"{where}: stdout has '{text}' (case line {ln})")
            else:
                found = False
                while pos < len(out_lines):
                    o = out_lines[pos]
                    pos += 1
                    if (kind == ">" and text in o) or (kind == ">=" and text == o) or \
                       (kind == "~" and re.search(text, o)):
                        found = True
                        break
                if not found:
                    failures.append(f"{where}: no stdout line {kind} '{text}' in order (case line {ln})\n"
                                    f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
                    break
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"FAIL {case}", file=sys.stderr)
        for f in failures:
            print(f, file=sys.stderr)
        return 1
    print(f"ok {case}: {len(steps)} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
