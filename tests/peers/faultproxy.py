#!/usr/bin/env python3
# faultproxy.py - a loopback HTTP proxy that misbehaves on purpose.
#
# Sits in front of a real peer (Azurite) and, per request in arrival
# order, either forwards it or answers with a scripted failure, so the
# sinks' retry code is tested against a real socket. Every request is
# logged as one JSON line {"t": seconds, "method", "path", "status",
# "action"} to --log.
#
# usage: faultproxy.py --target http://127.0.0.1:PORT --port-file FILE
#                      --log FILE [--script ACTIONS] [--match SUBSTR]
# ACTIONS is a comma list used for the requests whose path contains SUBSTR
# (default: every request), one action per request, then "pass" forever:
#   pass            forward to the target
#   503:2           answer 503 with Retry-After: 2 (any status; no ":N" means
#                   no Retry-After header)
#   stall:30        read the request, then send nothing for 30 s
#   close           read the request and close the connection
# The proxy writes its port to --port-file once it listens, and stops on
# SIGTERM.
#
# SPDX-License-Identifier: MIT
import argparse
import http.client
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
state = {"script": [], "match": "", "log": None, "target": None, "t0": 0.0}


def next_action(path):
    with lock:
        if state["match"] and state["match"] not in path:
            return "pass"
        if state["script"]:
            return state["script"].pop(0)
        return "pass"


def log(entry):
    with lock:
        entry["t"] = round(time.monotonic() - state["t0"], 3)
        state["log"].write(json.dumps(entry) + "\n")
        state["log"].flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        data = self.body()
        action = next_action(self.path)
        entry = {"method": self.command, "path": self.path.split("?")[0],
                 "query": urllib.parse.urlsplit(self.path).query.split("&sig=")[0],
                 "action": action, "bytes": len(data)}
        if action == "close":
            log(dict(entry, status=0))
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if action.startswith("stall"):
            secs = float(action.split(":")[1]) if ":" in action else 30
            log(dict(entry, status=0))
            time.sleep(secs)
            self.close_connection = True
            return
        if action != "pass":
            status, _, after = action.partition(":")
            payload = b"<?xml version=\"1.0\"?><Error><Code>Injected</Code></Error>"
            self.send_response(int(status))
            if after:
                self.send_header("Retry-After", after)
            self.send_header("x-ms-error-code", "Injected")
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            log(dict(entry, status=int(status)))
            return
        t = urllib.parse.urlsplit(state["target"])
        conn = http.client.HTTPConnection(t.hostname, t.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "expect",
                                        "transfer-encoding")}
        headers["Content-Length"] = str(len(data))
        conn.request(self.command, self.path, body=data, headers=headers)
        r = conn.getresponse()
        payload = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding",
                                 "content-length", "keep-alive", "date",
                                 "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        conn.close()
        log(dict(entry, status=r.status))

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", default="")
    ap.add_argument("--match", default="")
    a = ap.parse_args()
    state["target"] = a.target
    state["script"] = [s for s in a.script.split(",") if s]
    state["match"] = a.match
    state["log"] = open(a.log, "a")
    state["t0"] = time.monotonic()
    srv = Server(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
