#!/usr/bin/env python3
"""tl_check.py - TraceLogging payloads decoded by etwcat against references.

usage: tl_check.py ETWCAT CORPUS_DIR   (exit 77 when the corpus is absent)
  * AMSITrace and ebpforwindows: every event airbus-cert/etl-parser decoded
    ("fields") must appear in etwcat's output with the same provider, pid,
    tid and values. etl-parser prints a character array as the hex of its
    bytes; etwcat prints it as text (as TDH does): compared as such.
  * primitive-types: the values of TraceEvent's baseline, except where the
    bytes say otherwise (documented below).
"""
import collections, gzip, json, os, re, subprocess, sys

def load(p):
    op = gzip.open if p.endswith(".gz") else open
    with op(p, "rt", encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]

def canon(fields, ref_fields=None):
    out = {}
    for k, v in fields.items():
        r = ref_fields.get(k) if ref_fields else None
        if isinstance(v, str) and isinstance(r, str) and r != v:
            try:
                if v.encode("latin-1").hex() == r:
                    v = r
            except UnicodeEncodeError:
                pass
        out[k] = v
    return json.dumps(out, sort_keys=True)

def events(etwcat, path):
    p = subprocess.run([etwcat, "--file=" + path], capture_output=True)
    return [json.loads(l) for l in p.stdout.splitlines()]

def etl_parser_check(etwcat, corpus, name, ref):
    recs = [r for r in load(os.path.join(corpus, "reference", ref))
            if "fields" in r]
    ours = collections.defaultdict(list)
    for e in events(etwcat, os.path.join(corpus, name)):
        ours[(e["ProviderId"], e["ProcessId"], e["ThreadId"])].append(
            e.get("EventData", {}))
    bad = []
    for r in recs:
        cands = ours[(r["provider"], r["pid"], r["tid"])]
        want = json.dumps(r["fields"], sort_keys=True)
        for i, c in enumerate(cands):
            if canon(c, r["fields"]) == want:
                del cands[i]
                break
        else:
            bad.append(r["fields"])
    return len(recs), bad

def primitive_check(etwcat, corpus):
    base = os.path.join(corpus, "reference",
                        "perfview__primitive-types.perfview-baseline.txt")
    ours = [e for e in events(etwcat, os.path.join(
        corpus, "perfview__primitive-types.etl")) if e["Provider"] == "solar_system"]
    bad = []
    n = 0
    lines = [l for l in open(base) if "PrimitiveTypesTest" in l]
    for line, e in zip(lines, ours):
        kv = dict(re.findall(r"(\w+_type)=([^;]*);", line))
        d = e["EventData"]
        n += 1
        for k, v in kv.items():
            got = d.get(k)
            if k == "boolean_type":
                ok = str(got) == v
            elif k == "char_type":
                # TraceEvent prints the char's code; TDH (and etwcat) the char
                ok = got == chr(int(v))
            elif k == "int64_type":
                # the metadata declares UINT64 (0x0A); TraceEvent prints it
                # signed, the bytes are the two's complement of the value
                ok = got == int(v) % 2**64
            elif k == "guid_type":
                ok = got.startswith(v.rstrip("."))
            elif k.endswith("time_type"):
                # TraceEvent shows local 'yy/MM/dd HH:mm:ss.ff...', cut
                ok = got[2:10].replace("-", "/") == v[:8]
            else:
                ok = str(got) == v
            if not ok:
                bad.append("%s: %r vs baseline %r" % (k, got, v))
    return n, bad

def main():
    etwcat, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isdir(os.path.join(corpus, "reference")):
        print("skip: corpus not found at %s" % corpus)
        return 77
    fail = 0
    for name, ref in [("etl-parser__AMSITrace.etl",
                       "etl-parser__AMSITrace.etl-parser.jsonl"),
                      ("ebpf-for-windows__ebpforwindows.etl",
                       "ebpf-for-windows__ebpforwindows.etl-parser.jsonl.gz")]:
        n, bad = etl_parser_check(etwcat, corpus, name, ref)
        if bad:
            fail = 1
            print("FAIL %s: %d of %d events differ, e.g. %s"
                  % (name, len(bad), n, json.dumps(bad[0])[:300]))
        else:
            print("ok   %s: %d TraceLogging events match etl-parser" % (name, n))
    n, bad = primitive_check(etwcat, corpus)
    if bad or n != 5:
        fail = 1
        print("FAIL primitive-types (%d events): %s" % (n, bad[:3]))
    else:
        print("ok   primitive-types: %d events match TraceEvent's values" % n)
    return fail

if __name__ == "__main__":
    sys.exit(main())
