#!/usr/bin/env python3
"""kernel_check.py - the classic kernel (NT Kernel Logger) events etwcat
decodes with its built-in MOF schemas (share/schemas/MSNT_SystemTrace-*),
compared field by field with fox-it/dissect.etl's decoding of the same
records.

usage: kernel_check.py ETWCAT CORPUS_DIR   (exit 77 without the corpus)

etwcat runs with --file-order, so its lines pair with dissect.etl's
records one for one; a pair must agree on class GUID, event type and
version. For every kernel record of a class etwcat has a schema for,
each value dissect.etl gives must equal etwcat's after undoing the
display differences:
- TDH formats pointers, SizeT and format("x") fields as "0x..." hex;
  dissect.etl gives numbers;
- win:IPv4 is "a.b.c.d" in etwcat, the address read as a little-endian
  u32 in dissect.etl; IPv6 is RFC 5952 text against 32 hex digits;
- win:Port is swapped to host order by etwcat (TDH), left as the raw
  little-endian u16 by dissect.etl;
- 8-bit strings are text in etwcat, hex bytes in dissect.etl;
- dissect.etl reads SizeT as 32-bit (see sizet_as_u32);
- dissect.etl adds the SYSTEM header's ThreadId, ProcessId and
  ProcessorTime to the values; a payload field of the same name
  overwrites them there, so they are compared only when the payload has
  them.
Every field of the payload must be there on both sides. Classes the
issue names (Process, Thread, Image, TcpIp, UdpIp, DiskIo, FileIo) must
match completely and may not be left undecoded; the others are counted.
The 32-bit syzygy traces, which dissect.etl leaves undecoded, must
decode every Image and Process record.
"""
import gzip, ipaddress, json, os, subprocess, sys, collections

REQUIRED = {"Process", "Thread", "Image", "TcpIp", "UdpIp", "DiskIo",
            "FileIo"}
HEADER_KEYS = {"ThreadId", "ProcessId", "ProcessorTime"}
FILES = ["etl-parser__ShutdownPerfDiagLogger.etl",
         "perfview__net.4.5.2.x64.etl"]
SYZYGY = ["syzygy-sawbuck__image_data_32_v0.etl",
          "syzygy-sawbuck__process_data_32_v1.etl"]


def load_ref(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def etwcat(exe, path):
    p = subprocess.run([exe, "--file-order", "--file=" + path],
                       capture_output=True)
    return [json.loads(l) for l in p.stdout.splitlines()]


def as_int(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.lower().startswith("0x"):
        try:
            return int(v, 16)
        except ValueError:
            return None
    return None


def same(name, ref, got):
    """Whether dissect.etl's value ref and etwcat's got agree."""
    if isinstance(got, str) and isinstance(ref, int) and got.count(".") == 3:
        try:
            b = ipaddress.IPv4Address(got).packed
            return int.from_bytes(b, "little") == ref
        except ValueError:
            pass
    if isinstance(ref, str) and len(ref) == 32 and isinstance(got, str) \
            and all(c in "0123456789abcdefABCDEF" for c in ref):
        if bytes.fromhex(ref).decode("latin-1") == got:  # 16-byte string
            return True
        if len(got) == 36 and got.count("-") == 4:  # a GUID
            return got.replace("-", "").lower() == ref.lower()
        try:
            return ipaddress.IPv6Address(got).packed.hex() == ref.lower()
        except ValueError:
            return False
    if name in ("dport", "sport") and isinstance(ref, int):
        return got == ((ref & 0xFF) << 8 | ref >> 8)
    gi = as_int(got)
    if isinstance(ref, int) and gi is not None:
        return gi == ref or gi == ref % 2**64
    if isinstance(ref, str) and isinstance(got, str):
        if ref == got:
            return True
        try:  # 8-bit string as hex bytes
            return bytes.fromhex(ref).decode("latin-1") == got
        except ValueError:
            return False
    return ref == got


def sizet_as_u32(vals, data):
    """dissect.etl reads the SizeT fields of Process PerfCtr events as
    32-bit even in 64-bit traces (the bytes say 8: 4 u32 fields and 11
    SizeT ones fill the 104-byte payloads), so its j-th value from
    PeakVirtualSize on is the j-th u32 of etwcat's 8-byte values. When
    all of them agree so, the reference takes etwcat's values."""
    names = list(data)
    if "PeakVirtualSize" not in names:
        return vals
    i = names.index("PeakVirtualSize")
    raw = b"".join((as_int(data[k]) or 0).to_bytes(8, "little")
                   for k in names[i:])
    halves = [int.from_bytes(raw[j:j + 4], "little")
              for j in range(0, len(raw), 4)]
    if any(vals.get(k) != h for k, h in zip(names[i:], halves)):
        return vals
    out = dict(vals)
    for k in names[i:]:
        out[k] = as_int(data[k])
    return out


def compare(exe, corpus, name, stats, bad):
    ref = os.path.join(corpus, "reference",
                       name.replace(".etl", ".dissect.jsonl.gz"))
    refs = load_ref(ref)
    evs = etwcat(exe, os.path.join(corpus, name))
    if len(refs) != len(evs):
        bad.append("%s: %d records in dissect.etl, %d from etwcat"
                   % (name, len(refs), len(evs)))
        return
    for i, (r, e) in enumerate(zip(refs, evs)):
        if e.get("Provider") != "MSNT_SystemTrace" or "symbol" not in r:
            continue
        cls = e.get("Task")
        if r["provider"] != e["ProviderId"] or \
                r.get("opcode") != e["OpcodeValue"] or \
                r.get("version") != e["Version"]:
            bad.append("%s #%d: record differs (%s/%s v%s, etwcat %s/%s v%s)"
                       % (name, i, r["provider"], r.get("opcode"),
                          r.get("version"), e["ProviderId"],
                          e["OpcodeValue"], e["Version"]))
            continue
        if e["OpcodeValue"] == 0 and cls == "EventTrace":
            continue  # the trace header: corpus_check.py covers it
        key = (cls, r["symbol"].split("/")[-1])
        if "DecodeError" in e:
            stats[key]["error"] += 1
            if cls in REQUIRED:
                bad.append("%s #%d %s: %s" % (name, i, r["symbol"],
                                              e["DecodeError"]))
            continue
        data = e.get("EventData", {})
        vals = r.get("values") or {}
        if key[1] in ("PerfCtr", "PerfCtrRundown"):
            vals = sizet_as_u32(vals, data)
        diffs = []
        for k, v in vals.items():
            if k in HEADER_KEYS and k not in data:
                continue
            if k not in data:
                diffs.append("%s missing" % k)
            elif not same(k, v, data[k]):
                diffs.append("%s: %r, etwcat %r" % (k, v, data[k]))
        for k in data:
            if k not in vals:
                diffs.append("%s only in etwcat" % k)
        stats[key]["fields"] += len(vals)
        if diffs:
            stats[key]["differ"] += 1
            if cls in REQUIRED:
                bad.append("%s #%d %s: %s" % (name, i, r["symbol"],
                                              "; ".join(diffs[:3])))
        else:
            stats[key]["match"] += 1


def syzygy(exe, corpus, name, stats, bad):
    for i, e in enumerate(etwcat(exe, os.path.join(corpus, name))):
        if e.get("Task") not in ("Image", "Process"):
            continue
        key = (e["Task"], "%s (32-bit)" % e["Opcode"])
        if "DecodeError" in e:
            stats[key]["error"] += 1
            bad.append("%s #%d: %s" % (name, i, e["DecodeError"]))
        else:
            stats[key]["match"] += 1


def main():
    exe, corpus = sys.argv[1], sys.argv[2]
    if not os.path.exists(os.path.join(corpus, "reference")):
        print("skip: corpus not found at %s" % corpus)
        return 77
    stats = collections.defaultdict(collections.Counter)
    bad = []
    for f in FILES:
        compare(exe, corpus, f, stats, bad)
    for f in SYZYGY:
        syzygy(exe, corpus, f, stats, bad)
    total = collections.Counter()
    for (cls, ev), c in sorted(stats.items()):
        total.update(c)
        print("%-12s %-24s %6d match %5d differ %5d DecodeError %7d values"
              % (cls, ev, c["match"], c["differ"], c["error"], c["fields"]))
    print("kernel records: %d match, %d differ, %d DecodeError; %d values"
          % (total["match"], total["differ"], total["error"],
             total["fields"]))
    for b in bad[:10]:
        print("FAIL", b)
    if len(bad) > 10:
        print("FAIL ... and %d more" % (len(bad) - 10))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
