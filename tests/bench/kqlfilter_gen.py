#!/usr/bin/env python3
"""Write N Kernel-Network-shaped NDJSON events (etwcat's event contract).

usage: kqlfilter_gen.py N > events.ndjson

Deterministic (fixed seed). Event ids cycle over the TCP/UDP ids of
Microsoft-Windows-Kernel-Network (10 send, 11 receive, 12 connect, 13
disconnect, 14 retransmit, 15 accept, 42/43 UDP), about a quarter being
10 or 11; 64 process ids; sizes 1..1500; about 560 bytes per event.

SPDX-License-Identifier: MIT
"""
import random
import sys

OPS = {10: ('Data sent.', 10), 11: ('Data received.', 11),
       12: ('Connection attempted.', 12), 13: ('Disconnect issued.', 13),
       14: ('Data retransmitted.', 14), 15: ('Connection accepted.', 15),
       42: ('Data sent over UDP protocol.', 42),
       43: ('Data received over UDP protocol.', 43)}
IDS = [10, 11, 12, 13, 14, 15, 42, 43]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rnd = random.Random(42)
    out = sys.stdout
    base = 634757672330000000  # 2012-06-19T20:33:53Z in ticks/100ns
    buf = []
    for i in range(n):
        eid = IDS[rnd.randrange(8)]
        op, opv = OPS[eid]
        t = base + i * 12345
        secs, frac = divmod(t, 10000000)
        days, rem = divmod(secs, 86400)
        hh, rem = divmod(rem, 3600)
        mm, ss = divmod(rem, 60)
        pid = 1000 + rnd.randrange(64) * 4
        size = rnd.randrange(1, 1501)
        d = rnd.randrange(1, 255)
        buf.append(
            '{"TimeCreated":"2012-06-19T%02d:%02d:%02d.%07dZ",'
            '"Provider":"Microsoft-Windows-Kernel-Network",'
            '"ProviderId":"7dd42a49-5329-4832-8dfd-43d979153a88",'
            '"EventId":%d,"Version":0,"Level":"Information",'
            '"Task":"KERNEL_NETWORK_TASK_TCPIP","Opcode":"%s",'
            '"Channel":"Microsoft-Windows-Kernel-Network/Analytic",'
            '"LevelValue":4,"TaskValue":10,"OpcodeValue":%d,'
            '"Keywords":"0x8000000000000020","ProcessId":%d,"ThreadId":%d,'
            '"ProcessorNumber":%d,'
            '"ActivityId":"00000000-0000-0000-0000-000000000000",'
            '"EventData":{"PID":%d,"size":%d,"daddr":"10.0.%d.%d",'
            '"saddr":"10.121.106.118","dport":%d,"sport":%d,"seqnum":%d,'
            '"connid":0}}\n'
            % ((20 + hh) % 24, (33 + mm) % 60, ss, frac, eid, op, opv, pid,
               pid + 4, rnd.randrange(4), pid, size, d % 16, d,
               rnd.choice((80, 443, 3389, 53)), 49152 + rnd.randrange(16384),
               rnd.randrange(1 << 31)))
        if len(buf) >= 4096:
            out.write(''.join(buf))
            buf = []
    out.write(''.join(buf))


if __name__ == '__main__':
    main()
