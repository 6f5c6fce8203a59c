#!/usr/bin/env python3
"""corpus_check.py - etwcat against the shared corpus of real .etl files.

For every file listed in ../shared/corpus/etl/README.md:
  * the number of events equals the README's `records` column;
  * header fields (provider, pid, tid, version, time to the microsecond;
    for EVENT_HEADER records also id, opcode, level, task, channel,
    keywords) equal fox-it/dissect.etl's reference decoding, compared as
    multisets (the reference is in file order, etwcat in time order);
  * the output is in time order;
  * where Microsoft TraceEvent baselines exist, every baseline event's
    time (ms since the trace header, 3 decimals), PID, TID and processor
    are found in etwcat's output.
usage: corpus_check.py ETWCAT CORPUS_DIR  (exit 77 when the corpus is absent)
"""
import collections, gzip, json, os, re, subprocess, sys

def readme_counts(corpus):
    counts = {}
    for line in open(os.path.join(corpus, "README.md"), encoding="utf-8"):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1].endswith(".etl"):
            counts[cells[1]] = int(cells[3])
    return counts

def load_jsonl(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]

def ts6(s):
    # "2012-06-19T20:33:52.8135944Z" or "...52.813593+00:00" -> to the µs
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?", s)
    frac = (m.group(2) or "").ljust(6, "0")[:6]
    return m.group(1) + "." + frac

def ticks(s):
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?", s)
    import datetime
    d = datetime.datetime(*[int(x) for x in m.groups()[:6]])
    frac = int((m.group(7) or "0").ljust(7, "0")[:7])
    return int((d - datetime.datetime(1601, 1, 1)).total_seconds()) * 10**7 + frac

def us(s):
    return ticks(s) // 10

def match(ref, ours):
    """Match (key, µs) multisets allowing the reference's time to be 2 µs
    off (dissect.etl computes times in floating point): per key, both time
    lists are sorted and paired by rank. Returns unmatched reference
    entries."""
    def by_key(c):
        d = collections.defaultdict(list)
        for (key, t), n in c.items():
            d[key].extend([t] * n)
        return d
    r, o = by_key(ref), by_key(ours)
    left = []
    for key, times in r.items():
        mine = sorted(o.get(key, []))
        times.sort()
        if len(mine) != len(times):
            left.extend((key, t) for t in times[len(mine):] or times[:1])
            continue
        left.extend((key, a) for a, b in zip(times, mine) if abs(a - b) > 2)
    return left

def ours_keys(events):
    univ = collections.Counter()
    evh = collections.Counter()
    for e in events:
        pid = e["ProcessId"] if e["ProcessId"] != -1 else None
        tid = e["ThreadId"] if e["ThreadId"] != -1 else None
        t = us(e["TimeCreated"])
        univ[((e["ProviderId"], pid, tid, e["Version"]), t)] += 1
        evh[((e["ProviderId"], e["EventId"], e["OpcodeValue"],
              e["LevelValue"], e["TaskValue"], int(e["Keywords"], 16)),
             t)] += 1
    return univ, evh

def ref_keys(recs):
    univ = collections.Counter()
    evh = collections.Counter()
    for r in recs:
        t = us(r["ts"])
        v = r["version"]
        if r["kind"] == "EventTraceHeader":
            v >>= 16  # dissect reports the u32 Type|Level|Version
        univ[((r["provider"], r.get("process_id"), r.get("thread_id"), v),
              t)] += 1
        if r["kind"] == "EventHeader":
            evh[((r["provider"], r["id"], r["opcode"], r["level"], r["task"],
                  r["keywords"]), t)] += 1
    return univ, evh

def baseline_check(path, events):
    """Every baseline event must appear with the same rel. time/PID/TID/CPU."""
    t0 = ticks(events[0]["TimeCreated"])
    have = collections.Counter()
    for e in events:
        ids = (None, None)
        ids_full = (e["ProcessId"], e["ThreadId"])
        d = ticks(e["TimeCreated"]) - t0
        # TraceEvent prints ms with 3 decimals: rounded half up, or cut
        rel = "%d.%03d" % divmod((d + 5) // 10, 1000)
        trunc = "%d.%03d" % divmod(d // 10, 1000)
        for r in {rel, trunc}:
            have[(r,) + ids + (e["ProcessorNumber"],)] += 1
            have[(r,) + ids_full + (e["ProcessorNumber"],)] += 1
    missing = []
    n = 0
    for line in open(path, encoding="utf-8"):
        m = re.match(r"EVENT ([\d,]+\.\d+): .*? PID=(-?\d+); TID=(-?\d+);.*?"
                     r"ProceNum=(\d+);", line)
        if not m:
            continue
        n += 1
        t = m.group(1).replace(",", "")
        head = line[:80]
        if "/SysConfig/" in head:
            continue  # TraceEvent moves these rundown events to time 0
        # TraceEvent takes PID/TID of kernel and KernelTraceControl events
        # from their payloads; compare time and processor only.
        kern = any(p in head for p in ("Windows Kernel/", "MSNT_SystemTrace/",
                                       "KernelTraceControl/"))
        ids = (None, None) if kern else (int(m.group(2)), int(m.group(3)))
        key = (t,) + ids + (int(m.group(4)),)
        if have[key] > 0:
            have[key] -= 1
        else:
            missing.append(line[:120].rstrip())
    return n, missing

def main():
    etwcat, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isfile(os.path.join(corpus, "README.md")):
        print("skip: corpus not found at %s" % corpus)
        return 77
    counts = readme_counts(corpus)
    refdir = os.path.join(corpus, "reference")
    failures = 0
    for name, want in sorted(counts.items()):
        path = os.path.join(corpus, name)
        p = subprocess.run([etwcat, "--file", path], capture_output=True)
        problems = []
        if p.returncode != 0:
            problems.append("exit %d: %s" % (p.returncode,
                                             p.stderr.decode()[:300]))
        events = [json.loads(l) for l in p.stdout.splitlines()]
        if len(events) != want:
            problems.append("%d events, README says %d" % (len(events), want))
        times = [ticks(e["TimeCreated"]) for e in events]
        inv = sum(1 for a, b in zip(times, times[1:]) if b < a)
        if inv:
            problems.append("%d time inversions in the output" % inv)
        stem = name[:-4]
        for ext in (".dissect.jsonl", ".dissect.jsonl.gz"):
            ref = os.path.join(refdir, stem + ext)
            if os.path.exists(ref):
                ou, oe = ours_keys(events)
                ru, re_ = ref_keys(load_jsonl(ref))
                diff = match(ru, ou)
                if diff:
                    problems.append("%d reference headers not matched, e.g. %s"
                                    % (len(diff), diff[:2]))
                diff = match(re_, oe)
                if diff:
                    problems.append("%d EVENT_HEADER descriptors not matched, "
                                    "e.g. %s" % (len(diff), diff[:2]))
        base = os.path.join(refdir, stem + ".perfview-baseline.txt")
        nb = 0
        if os.path.exists(base):
            nb, missing = baseline_check(base, events)
            if missing:
                problems.append("%d of %d TraceEvent baseline events not "
                                "found, e.g. %s" % (len(missing), nb,
                                                    missing[:2]))
        if problems:
            failures += 1
            print("FAIL %s:\n  %s" % (name, "\n  ".join(problems)))
        else:
            print("ok   %s: %d events%s" % (name, len(events),
                  ", %d baseline times" % nb if nb else ""))
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main())
