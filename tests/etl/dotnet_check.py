#!/usr/bin/env python3
"""dotnet_check.py - .NET runtime events (Microsoft-Windows-DotNETRuntime,
-Rundown, -Private) decoded by etwcat, against Microsoft TraceEvent's own
test baselines.

usage: dotnet_check.py ETWCAT CORPUS_DIR   (exit 77 without the corpus)

perfview__gcevents.etl (.NET 8, no schema in the trace) is decoded with
etwcat's built-in schemas (share/schemas/Microsoft-Windows-DotNETRuntime.man);
perfview__net.4.5.2.x64.etl carries the schemas of its .NET providers
(EventMetadata), which take precedence. Each baseline event of those
providers is found in etwcat's output by time, PID and TID, as
metadata_check.py does, and every field the baseline prints must agree,
after undoing TraceEvent's display habits (metadata_check.same). What
TraceEvent adds on its own is not compared, and each such case is listed
here:
- DERIVED: values TraceEvent computes or looks up (heap totals, type
  names from other events) that are not in the payload;
- ALIASES: TraceEvent's property name for a manifest field;
- OWN_ENUMS: fields TraceEvent prints through its C# enums while the
  manifest gives a plain number or another map (checked only to be
  present).
Every baseline event must decode without DecodeError, and all of
gcevents must match.
"""
import collections, json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metadata_check import same, ticks  # noqa: E402

PROVIDERS = ("Microsoft-Windows-DotNETRuntime/",
             "Microsoft-Windows-DotNETRuntimeRundown/",
             "Microsoft-Windows-DotNETRuntimePrivate/")
DERIVED = {
    "GC/HeapStats": {"TotalHeapSize", "TotalPromoted", "Depth"},
    "GC/PerHeapHistory": {"ConcurrentCompactMechanisms", "MemoryPressure"},
    "GC/FinalizeObject": {"TypeName"},
}
ALIASES = {"GC/MarkWithType": {"Promoted": "Bytes"}}
OWN_ENUMS = {
    "GC/MarkWithType": {"Type"},
    "GC/PerHeapHistory": {"CompactMechanisms", "ExpandMechanisms"},
    "GC/GlobalHeapHistory": {"Reason", "GlobalMechanisms", "PauseMode"},
    "GC/FitBucketInfo": {"BucketKind"},
    "Runtime/Start": {"StartupFlags", "StartupMode"},
}
TRACES = [("perfview__gcevents.etl",
           "perfview__gcevents.perfview-baseline.txt", True),
          ("perfview__net.4.5.2.x64.etl",
           "perfview__net.4.5.2.x64.perfview-baseline.txt", False)]


def parse_baseline(path):
    import re
    for line in open(path, encoding="utf-8"):
        m = re.match(r"EVENT ([\d,]+\.\d+): (\S+) PID=(-?\d+); TID=(-?\d+);"
                     r".*?DataLen=\d+; (.*)$", line.rstrip())
        if m and m.group(2).startswith(PROVIDERS):
            fields = re.findall(r"(\w+)=(.*?); ", m.group(5) + " ")
            yield (line, m.group(1).replace(",", ""), m.group(2),
                   int(m.group(3)), int(m.group(4)), fields)


def check_trace(exe, corpus, etl, base, strict, stats, bad):
    p = subprocess.run([exe, "--file=" + os.path.join(corpus, etl)],
                       capture_output=True)
    evs = [json.loads(l) for l in p.stdout.splitlines()]
    t0 = ticks(evs[0]["TimeCreated"])
    by = collections.defaultdict(list)
    for e in evs:
        d = ticks(e["TimeCreated"]) - t0
        for r in {"%d.%03d" % divmod((d + 5) // 10, 1000),
                  "%d.%03d" % divmod(d // 10, 1000)}:
            by[(r, e["ProcessId"], e["ThreadId"])].append(e)
    for line, t, name, pid, tid, fields in parse_baseline(
            os.path.join(corpus, "reference", base)):
        prov, ev = name.split("/", 1)
        cands = [e for e in by[(t, pid, tid)] if e["Provider"] == prov]
        derived = DERIVED.get(ev, set())
        alias = ALIASES.get(ev, {})
        enums = OWN_ENUMS.get(ev, set())

        def agrees(e):
            data = e.get("EventData", {})
            for k, v in fields:
                if k in derived:
                    continue
                k = alias.get(k, k)
                if k in enums:
                    if k not in data:
                        return False
                    continue
                if not same(v, data.get(k)):
                    return False
            return "DecodeError" not in e

        ok = any(agrees(e) for e in cands)
        skipped = sum(1 for k, _ in fields if k in derived or k in enums)
        stats[(etl, prov)]["match" if ok else "differ"] += 1
        stats[(etl, prov)]["not compared"] += skipped
        if not ok and (strict or any("DecodeError" in e for e in cands)
                       or not cands):
            bad.append((etl, line[:150].rstrip(),
                        [e.get("EventData", e.get("DecodeError"))
                         for e in cands][:1]))


def main():
    exe, corpus = sys.argv[1], sys.argv[2]
    if not os.path.exists(os.path.join(corpus, "reference", TRACES[0][1])):
        print("skip: corpus not found at %s" % corpus)
        return 77
    stats = collections.defaultdict(collections.Counter)
    bad = []
    for etl, base, strict in TRACES:
        check_trace(exe, corpus, etl, base, strict, stats, bad)
    for (etl, prov), c in sorted(stats.items()):
        print("%-30s %-40s %4d match, %d differ (%d fields TraceEvent-only)"
              % (etl, prov, c["match"], c["differ"], c["not compared"]))
    for etl, line, got in bad[:8]:
        print("FAIL", etl, line, "\n     etwcat:", json.dumps(got)[:300])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
