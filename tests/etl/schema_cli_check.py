#!/usr/bin/env python3
"""schema_cli_check.py - etwcat's schema options on writer-made traces:
--message, --manifest-dir (and an unusable manifest) and WPP records.

usage: schema_cli_check.py ETWCAT ETLWRITER WORKDIR
Cases:
  * --message: every Kernel-Network event gets "Message" right after
    EventData, its %N filled from the values EventData shows; without
    the option there is no Message key;
  * message inserts: a user manifest whose message uses %N!fmt!, %n,
    %t, %%, %0 and a number past the last field;
  * --manifest-dir: the *.man and *.xml files of a directory override the
    built-in schema; a broken one is reported as file:line:col and
    skipped (exit 2), and its provider falls back to the built-in;
  * WPP: a TraceMessage record keeps its header fields, names the message
    GUID as ProviderId and the message number as EventId, says why it
    is not decoded and carries RawData.
Prints one line per case; exit 1 if any failed.
"""
import json, os, subprocess, sys

ETWCAT, WRITER, WORK = sys.argv[1:4]
failures = 0

def kn_messages():
    """Event id -> message of the built-in Kernel-Network schema."""
    import xml.etree.ElementTree as ET
    ns = "{http://schemas.microsoft.com/win/2004/08/events}"
    root = ET.parse("share/schemas/Microsoft-Windows-Kernel-Network.man")
    strings = {s.get("id"): s.get("value") for s in root.iter(ns + "string")}
    return {int(e.get("value")): strings[e.get("message")[9:-1]]
            for e in root.iter(ns + "event")}


KN_MSG = kn_messages()


def report(name, problems):
    global failures
    if problems:
        failures += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)[:400]))
    else:
        print("ok   %s" % name)


def run(*args):
    p = subprocess.run([ETWCAT, *args], capture_output=True)
    return (p.returncode, [json.loads(l) for l in p.stdout.splitlines()],
            p.stderr.decode())


def write(name, *opts):
    path = os.path.join(WORK, name + ".etl")
    subprocess.run([WRITER, *opts, path], check=True, capture_output=True)
    return path


def fill(msg, data):
    vals = [str(v) for v in data.values()]
    out = msg
    for i in range(len(vals), 0, -1):
        out = out.replace("%%%d" % i, vals[i - 1])
    return out


def manifest(msg, guid="{7dd42a49-5329-4832-8dfd-43d979153a88}",
             name="Microsoft-Windows-Kernel-Network", extra=""):
    return """<?xml version="1.0" encoding="UTF-8"?>
<instrumentationManifest
    xmlns="http://schemas.microsoft.com/win/2004/08/events"
    xmlns:win="http://manifests.microsoft.com/win/2004/08/windows/events">
 <instrumentation><events>
  <provider name="%s" guid="%s">
   <templates>
    <template tid="t">
     <data name="PID" inType="win:UInt32"/>
     <data name="size" inType="win:UInt32"/>
     <data name="daddr" inType="win:UInt32" outType="win:IPv4"/>
    </template>
   </templates>
   <events>
    <event value="11" template="t" message="%s"/>
   </events>
  </provider>%s
 </events></instrumentation>
</instrumentationManifest>
""" % (name, guid, msg, extra)


os.makedirs(WORK, exist_ok=True)
kn = write("msg", "--events", "400", "--seed", "3")

# --message: Kernel-Network messages filled from EventData.
rc, evs, err = run("--message", "--file=" + kn)
problems = []
n = 0
for e in evs:
    if e["Provider"] != "Microsoft-Windows-Kernel-Network":
        if "Message" in e:
            problems.append("Message on a %s event" % e["Provider"])
        continue
    n += 1
    keys = list(e)
    if "Message" not in e or keys[keys.index("EventData") + 1] != "Message":
        problems.append("event %d: no Message after EventData" % e["EventId"])
        continue
    want = fill(KN_MSG[e["EventId"]], e["EventData"])
    if e["Message"] != want:
        problems.append("%r, want %r" % (e["Message"], want))
report("--message Kernel-Network (%d events)" % n,
       problems if rc == 0 and n else problems + ["exit %d, %d events" %
                                                  (rc, n)])
rc, evs, _ = run("--file=" + kn)
report("no Message without --message",
       [] if not any("Message" in e for e in evs) else ["Message present"])

# Inserts: printf-style formats and escapes. The user manifest takes
# event 11 of Kernel-Network over from the built-in schema.
d1 = os.path.join(WORK, "mdir")
os.makedirs(d1, exist_ok=True)
msg = ("pid %1!d! size=%2!08x! [%2!-6u!] to %3%n%tquote &quot;%%%4."
       "%.%! %0 cut")
open(os.path.join(d1, "a.man"), "w").write(manifest(msg))
rc, evs, err = run("--message", "--manifest-dir=" + d1, "--file=" + kn)
problems = [] if rc == 0 else ["exit %d: %s" % (rc, err[:200])]
ev11 = [e for e in evs if e["EventId"] == 11 and
        e["Provider"] == "Microsoft-Windows-Kernel-Network"]
for e in ev11[:50]:
    d = e["EventData"]
    if list(d) != ["PID", "size", "daddr"]:
        problems.append("user manifest not used: %s" % list(d))
        break
    want = ("pid %d size=%08x [%-6u] to %s\n\tquote \"%%%%4..! "
            % (d["PID"], d["size"], d["size"], d["daddr"]))
    if e["Message"] != want:
        problems.append("%r, want %r" % (e["Message"], want))
        break
report("message inserts (%d events)" % len(ev11),
       problems if ev11 else problems + ["no event 11"])

# --manifest-dir with a broken manifest next to a good one: reported with
# file:line:col, skipped, exit 2; its provider decodes with the built-in.
d2 = os.path.join(WORK, "mdir2")
os.makedirs(d2, exist_ok=True)
bad = manifest("x", guid="{01020304-0506-0708-090a-0b0c0d0e0f10}",
               name="P").replace("<templates>", "<templates>\n   <bogus")
open(os.path.join(d2, "b.man"), "w").write(bad)
open(os.path.join(d2, "c.xml"), "w").write(manifest("user %1"))
open(os.path.join(d2, "ignored.txt"), "w").write("not a manifest")
rc, evs, err = run("--message", "--manifest-dir=" + d2, "--file=" + kn)
problems = []
if rc != 2:
    problems.append("exit %d, want 2" % rc)
if os.path.join(d2, "b.man") + ":9:5: expected an attribute name" not in err:
    problems.append("no file:line in %r" % err[:300])
ev11 = [e for e in evs if e["EventId"] == 11 and
        e["Provider"] == "Microsoft-Windows-Kernel-Network"]
if not ev11 or any(e.get("Message") != "user %d" % e["EventData"]["PID"]
                   for e in ev11):
    problems.append("c.xml not used")
report("--manifest-dir with a broken manifest", problems)
rc, evs, err = run("--manifest=" + os.path.join(d2, "b.man"),
                   "--file=" + kn)
problems = [] if rc == 2 else ["exit %d, want 2" % rc]
if not evs or any("DecodeError" in e for e in evs
                  if e["Provider"] == "Microsoft-Windows-Kernel-Network"):
    problems.append("Kernel-Network did not fall back to the built-in")
report("unusable --manifest falls back", problems)
rc, evs, err = run("--manifest-dir=" + os.path.join(WORK, "nosuchdir"),
                   "--file=" + kn)
report("--manifest-dir without manifests",
       [] if rc == 2 and "no manifest" in err and evs else
       ["exit %d: %r" % (rc, err[:200])])

# WPP: header fields, message GUID and number, reason, RawData.
wpp = write("wpp", "--events", "200", "--seed", "4", "--wpp")
rc, evs, err = run("--file=" + wpp)
WPP_GUID = "8e2f4c61-0b7d-4a93-b52c-1e9f406ad377"
w = [e for e in evs if e["ProviderId"] == WPP_GUID]
problems = [] if rc == 0 and w else ["exit %d, %d WPP events" % (rc, len(w))]
for e in w:
    if e["EventId"] != 10 or "TMF" not in e.get("DecodeError", "") or \
            not e.get("RawData", "").endswith("7770702D61726700") or \
            e["ProcessId"] <= 0 or e["ThreadId"] <= 0 or \
            e["EventData"] != {}:
        problems.append("WPP record: %s" % json.dumps(e)[:300])
report("WPP records (%d)" % len(w), problems)

sys.exit(1 if failures else 0)
