#!/usr/bin/env python3
"""writer_check.py - etwcat on traces made by the project's ETL writer.

usage: writer_check.py ETWCAT ETLWRITER WORKDIR
Each case writes a trace with etlwriter (which describes what it wrote)
and checks etwcat's output against that description:
  * layouts: 64/32-bit, Win7/Win8 processor fields, compressed buffers,
    QPC/system-time/CPU-cycle clocks, all header kinds, WPP, out-of-order
    per-CPU buffers: same events, same values, time order, exit 0;
  * a process rundown at the start: decoded, first, naming every pid;
  * several files: merged in time order, or in file order on request;
  * damage: truncated files, lying buffer sizes, records overrunning their
    buffer, unknown header kinds, corrupt compressed streams: exit 2, a
    message naming file, buffer and offset, and exactly the intact records
    decoded.
Prints one line per case; exit 1 if any failed.
"""
import collections, json, os, subprocess, sys

ETWCAT, WRITER, WORK = sys.argv[1:4]
failures = 0

def write(name, *opts):
    path = os.path.join(WORK, name + ".etl")
    desc = path + ".txt"
    subprocess.run([WRITER, "--describe=" + desc, *opts, path], check=True,
                   capture_output=True)
    d = collections.defaultdict(dict)
    flat = {}
    for line in open(desc):
        parts = line.split()
        if len(parts) >= 2:
            flat.setdefault(parts[0], parts[1:])
            if parts[0] in ("event", "intact-event", "kind") and len(parts) == 3:
                d[parts[0]][parts[1]] = int(parts[2])
    return path, flat, d

def run(*args):
    p = subprocess.run([ETWCAT, *args], capture_output=True)
    evs = [json.loads(l) for l in p.stdout.splitlines()]
    return p.returncode, evs, p.stderr.decode()

def report(name, problems):
    global failures
    if problems:
        failures += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)))
    else:
        print("ok   %s" % name)

def kn(evs):
    return [e for e in evs if e["Provider"] == "Microsoft-Windows-Kernel-Network"]

def sorted_ok(evs):
    t = [e["TimeCreated"] for e in evs]
    return all(a <= b for a, b in zip(t, t[1:]))

def basic(name, *opts, expect_all_kn=True):
    path, flat, d = write(name, *opts)
    rc, evs, err = run("--file=" + path)
    problems = []
    if rc != 0:
        problems.append("exit %d: %s" % (rc, err[:200]))
    if len(evs) != int(flat["records"][0]):
        problems.append("%d events, writer wrote %s records"
                        % (len(evs), flat["records"][0]))
    if not sorted_ok(evs):
        problems.append("not in time order")
    per = collections.Counter(str(e["EventId"]) for e in kn(evs))
    if per != collections.Counter(d["event"]):
        problems.append("Kernel-Network ids differ from the writer's")
    bad = [e for e in kn(evs) if "DecodeError" in e]
    if bad:
        problems.append("%d Kernel-Network DecodeErrors, e.g. %s"
                        % (len(bad), bad[0]["DecodeError"]))
    report(name, problems)
    return evs

def ticks(t):
    # "2024-01-15T10:00:00.0001337Z" -> 100 ns ticks within the day
    hms, frac = t[11:-1].split(".")
    h, m, s = map(int, hms.split(":"))
    return ((h * 60 + m) * 60 + s) * 10**7 + int(frac)

def strip(evs):
    """What must not depend on the trace layout: payload and ids."""
    return [(e["EventId"], e["ProcessId"], json.dumps(e["EventData"]))
            for e in kn(evs)]

def same_times(a, b):
    """Times agree within the clock's resolution: the writer quantises
    to each clock (a Win7 QPC tick is 3.3 ticks of 100 ns)."""
    return all(abs(ticks(x["TimeCreated"]) - ticks(y["TimeCreated"])) <= 4
               for x, y in zip(kn(a), kn(b)))

os.makedirs(WORK, exist_ok=True)
base = ["--events", "3000", "--seed", "5", "--cpus", "4", "--buffer-size", "8K"]
ref = basic("plain", *base)
# A Win7-style trace carries 4 extra payload bytes: decoded values agree.
for name, extra in [("compressed", ["--compress"]), ("ptr32", ["--ptr32"]),
                    ("win7", ["--win7"]), ("clock-system", ["--clock", "system"]),
                    ("clock-cycles", ["--clock", "cycles"])]:
    evs = basic(name, *base, *extra)
    if name == "ptr32":
        basic_ptr32 = evs
    if strip(evs) != strip(ref) or not same_times(evs, ref):
        report(name + " same-events", ["events differ from the plain trace"])
    else:
        report(name + " same-events", [])
basic("all-kinds", *base, "--all-kinds")

# --process-rundown: a kernel Process DCStart per process at the start,
# naming every pid the Kernel-Network events use; those stay the same.
for name, extra in [("rundown", []), ("rundown-ptr32", ["--ptr32"])]:
    path, flat, _ = write(name, *base, "--process-rundown", *extra)
    rc, evs, err = run("--file=" + path)
    problems = []
    dc = [e for e in evs if e["Task"] == "Process" and e["Opcode"] == "DCStart"]
    if rc != 0 or len(evs) != int(flat["records"][0]):
        problems.append("exit %d, %d events, want %s"
                        % (rc, len(evs), flat["records"][0]))
    if len(dc) != int(flat["rundown"][1]) or [e for e in evs
                                              if "DecodeError" in e]:
        problems.append("%d rundown records decoded, writer wrote %s"
                        % (len(dc), flat["rundown"][1]))
    if evs[1:1 + len(dc)] != dc:
        problems.append("rundown records not first")
    names = {int(e["EventData"]["ProcessId"], 16):
             e["EventData"]["ImageFileName"] for e in dc}
    if names.get(4) != "System":
        problems.append("no System process (pid 4)")
    pids = {e["EventData"]["PID"] for e in kn(evs) if "PID" in e["EventData"]}
    if pids - set(names):
        problems.append("pids without a name: %s" % sorted(pids - set(names)))
    plain = ref if name == "rundown" else basic_ptr32
    if strip(evs) != strip(plain):
        problems.append("Kernel-Network events differ without the option")
    report(name, problems)
basic("wpp", *base, "--wpp")
basic("one-cpu", "--events", "500", "--seed", "2", "--cpus", "1")
basic("big-buffers", "--events", "20000", "--seed", "9", "--cpus", "8",
      "--buffer-size", "1M")

# The tx-compat port: raw network-order value.
rc, evs, _ = run("--tx-compat", "--file=" + os.path.join(WORK, "plain.etl"))
pairs = [(a["EventData"].get("dport"), b["EventData"].get("dport"))
         for a, b in zip(kn(ref), kn(evs)) if "dport" in a["EventData"]]
ok = pairs and all(((x >> 8) | ((x & 255) << 8)) == y for x, y in pairs)
report("tx-compat ports byte-swapped", [] if ok else ["ports not swapped"])

# Several files: merged by time; --file-order keeps file order.
a, fa, _ = write("merge-a", "--events", "1000", "--seed", "11")
b, fb, _ = write("merge-b", "--events", "1500", "--seed", "12")
rc, evs, err = run("--file=" + a, "--file=" + b)
n = int(fa["records"][0]) + int(fb["records"][0])
problems = []
if rc != 0 or len(evs) != n:
    problems.append("exit %d, %d events, want %d" % (rc, len(evs), n))
if not sorted_ok(evs):
    problems.append("merge not in time order")
report("two files merged", problems)
rc, evs2, _ = run("--file-order", "--file=" + a, "--file=" + b)
na = int(fa["records"][0])
ok = len(evs2) == n and sorted(evs2[:na], key=lambda e: e["TimeCreated"]) \
    and evs2[0]["EventId"] == 0 and evs2[na]["EventId"] == 0
report("two files in file order", [] if ok else ["file order not kept"])
rc, evs3, _ = run("--file=" + os.path.join(WORK, "merge-*.etl"))
report("glob expanded by etwcat", [] if len(evs3) == n else
       ["%d events from the glob, want %d" % (len(evs3), n)])

# Damage: exit 2, a located message, exactly the intact records.
damage = [
    ("truncated", ["--truncate", "200000"]),
    ("truncated-mid-header", ["--truncate", "196640"]),
    ("buffer-size-big", ["--corrupt-buffer-size", "7:big"]),
    ("buffer-size-zero", ["--corrupt-buffer-size", "7:zero"]),
    ("buffer-size-small", ["--corrupt-buffer-size", "7:small"]),
    ("record-overrun", ["--corrupt-record", "9"]),
    ("unknown-kind", ["--unknown-kind", "9"]),
    ("lzx-corrupt", ["--compress", "--corrupt-lzx", "6"]),
]
for name, opts in damage:
    path, flat, d = write(name, *base, *opts)
    rc, evs, err = run("--file=" + path)
    problems = []
    if rc != 2:
        problems.append("exit %d, want 2" % rc)
    if "buffer " not in err or "offset 0x" not in err or path not in err:
        problems.append("message lacks file/buffer/offset: %r" % err[:200])
    want = int(flat["intact"][1]) if flat.get("intact") else None
    if want is not None and len(evs) != want:
        problems.append("%d events decoded, %d intact" % (len(evs), want))
    per = collections.Counter(str(e["EventId"]) for e in kn(evs))
    if d.get("intact-event") and per != collections.Counter(d["intact-event"]):
        problems.append("intact Kernel-Network ids differ")
    report("damage " + name, problems)

sys.exit(1 if failures else 0)
