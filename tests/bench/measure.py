#!/usr/bin/env python3
"""measure.py - run a shell command N times; print median wall seconds and
the peak RSS (MiB) of its largest child process.

usage: measure.py RUNS 'shell command'
Output: one line "seconds=<median> rss_mib=<max peak RSS of a child>".
"""
import os, resource, statistics, subprocess, sys, time

def one(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    # Each run in its own process so RUSAGE_CHILDREN's max is per run.
    r = subprocess.run([sys.executable, "-c",
                        "import resource,subprocess,sys,time;"
                        "t=time.perf_counter();"
                        "subprocess.run(sys.argv[1],shell=True,check=True);"
                        "print(time.perf_counter()-t,"
                        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                        cmd], capture_output=True, text=True, check=True)
    secs, rss = r.stdout.split()
    return float(secs), int(rss) / 1024.0

runs = int(sys.argv[1])
res = [one(sys.argv[2]) for _ in range(runs)]
print("seconds=%.4f rss_mib=%.1f" % (statistics.median(s for s, _ in res),
                                     max(r for _, r in res)))
