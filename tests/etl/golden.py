#!/usr/bin/env python3
"""golden.py - compare etwcat's output with a reviewed golden summary.

usage: golden.py GOLDEN ETWCAT [etwcat arguments...]
The summary holds: the exit status, the SHA-256 of the whole output, the
number of events, the events per (Provider, EventId, Opcode), the number
of DecodeError events, and a few full events (the first three and every
500th). With UPDATE=1 the golden file is rewritten; review the diff.
"""
import collections, hashlib, json, os, subprocess, sys

def summary(args):
    p = subprocess.run(args, capture_output=True)
    out = p.stdout
    lines = out.splitlines()
    s = ["exit %d" % p.returncode,
         "sha256 %s" % hashlib.sha256(out).hexdigest(),
         "events %d" % len(lines)]
    per = collections.Counter()
    errors = 0
    for l in lines:
        e = json.loads(l)
        per[(e["Provider"], e["EventId"], str(e["Opcode"]))] += 1
        errors += "DecodeError" in e
    s.append("decode_errors %d" % errors)
    for (prov, eid, op), n in sorted(per.items()):
        s.append("count %s %d %s: %d" % (prov, eid, op, n))
    for i, l in enumerate(lines):
        if i < 3 or i % 500 == 0:
            s.append("event %d %s" % (i, l.decode()))
    return "\n".join(s) + "\n"

def main():
    golden, args = sys.argv[1], sys.argv[2:]
    got = summary(args)
    if os.environ.get("UPDATE") == "1":
        open(golden, "w").write(got)
        print("updated %s" % golden)
        return 0
    want = open(golden).read()
    if got == want:
        print("ok   %s" % os.path.basename(golden))
        return 0
    import difflib
    sys.stdout.writelines(list(difflib.unified_diff(
        want.splitlines(True), got.splitlines(True), golden, "etwcat"))[:60])
    return 1

if __name__ == "__main__":
    sys.exit(main())
