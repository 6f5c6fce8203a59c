#!/usr/bin/env python3
# blobctl.py - a small, independent Azure Blob client for the tests.
#
# Signs requests with SharedKey itself (Python's hmac, not the C code under
# test), so the tests read back what blobsink stored through a second
# implementation. Also makes container SAS tokens from the documented
# service-SAS string-to-sign (azure.md section 8).
#
# usage: blobctl.py [--endpoint URL] [--account A] [--key K] COMMAND ...
#   list CONTAINER             blob names and content types, one per line
#   get CONTAINER BLOB         the blob's bytes on stdout
#   rows CONTAINER             every row of every blob (JSON array or NDJSON,
#                              gunzipped), byte for byte, one per line
#   sas CONTAINER PERMS        a container SAS valid for an hour
#   create CONTAINER           create the container (201 or 409)
#   delete CONTAINER           delete the container
# Defaults: Azurite's devstoreaccount1 at $AZ_BLOB_ENDPOINT.
#
# SPDX-License-Identifier: MIT
import base64
import datetime
import gzip
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

DEV_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
           "K1SZFPTOtr/KBHBeksoGMGw==")
VERSION = "2021-12-02"


def now_rfc1123():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")


class Client:
    def __init__(self, endpoint, account, key):
        self.endpoint = endpoint.rstrip("/")
        self.account = account
        self.key = base64.b64decode(key)

    def sign(self, method, url, headers, length):
        u = urllib.parse.urlsplit(url)
        std = ["Content-Encoding", "Content-Language", "Content-Length",
               "Content-MD5", "Content-Type", "Date", "If-Modified-Since",
               "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"]
        lower = {k.lower(): v for k, v in headers.items()}
        parts = [method]
        for h in std:
            if h == "Content-Length":
                parts.append(str(length) if length else "")
            else:
                parts.append(lower.get(h.lower(), ""))
        xms = sorted((k, v.strip()) for k, v in lower.items()
                     if k.startswith("x-ms-"))
        canon_h = "".join("%s:%s\n" % kv for kv in xms)
        res = "/" + self.account + (u.path or "/")
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        for name in sorted(k.lower() for k in q):
            vals = sorted(q[name])
            res += "\n%s:%s" % (name, ",".join(vals))
        sts = "\n".join(parts) + "\n" + canon_h + res
        sig = base64.b64encode(hmac.new(self.key, sts.encode(),
                                        hashlib.sha256).digest()).decode()
        return "SharedKey %s:%s" % (self.account, sig)

    def request(self, method, path, query="", body=b""):
        url = self.endpoint + "/" + path + ("?" + query if query else "")
        headers = {"x-ms-version": VERSION, "x-ms-date": now_rfc1123()}
        if method != "GET":
            # urllib would add a form Content-Type that we did not sign.
            headers["Content-Type"] = "application/octet-stream"
        headers["Authorization"] = self.sign(method, url, headers, len(body))
        req = urllib.request.Request(url, data=body if method != "GET" else None,
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def list(self, container):
        out, marker = [], ""
        while True:
            q = "restype=container&comp=list"
            if marker:
                q += "&marker=" + urllib.parse.quote(marker)
            st, _, body = self.request("GET", container, q)
            if st != 200:
                raise SystemExit("list %s: HTTP %d %s" % (container, st, body[:200]))
            root = ET.fromstring(body)
            for b in root.iter("Blob"):
                name = b.findtext("Name")
                ctype = b.findtext("Properties/Content-Type") or ""
                cenc = b.findtext("Properties/Content-Encoding") or ""
                out.append((name, ctype, cenc))
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return out

    def get(self, container, blob):
        st, hdr, body = self.request("GET", container + "/" + urllib.parse.quote(blob))
        if st != 200:
            raise SystemExit("get %s/%s: HTTP %d" % (container, blob, st))
        return body


def split_rows(data):
    """The exact bytes of each row of a JSON array or NDJSON blob."""
    text = data.decode("utf-8")
    if text.startswith("["):
        dec = json.JSONDecoder()
        rows, i = [], 1
        if text[i:i + 1] == "]":
            return rows
        while True:
            obj, end = dec.raw_decode(text, i)
            if not isinstance(obj, dict):
                raise SystemExit("array element is not an object")
            rows.append(text[i:end])
            if text[end] == "]":
                if end + 1 != len(text):
                    raise SystemExit("text after the array")
                return rows
            if text[end] != ",":
                raise SystemExit("bad separator %r" % text[end])
            i = end + 1
    return [line for line in text.split("\n") if line]


def make_sas(account, key, container, perms, hours=1, version="2021-12-02"):
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    st = (now - datetime.timedelta(minutes=5)).strftime(fmt)
    se = (now + datetime.timedelta(hours=hours)).strftime(fmt)
    # Service SAS, sv >= 2020-12-06: 16 fields (azure.md section 8).
    fields = [perms, st, se, "/blob/%s/%s" % (account, container), "", "",
              "", version, "c", "", "", "", "", "", "", ""]
    sts = "\n".join(fields)
    sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(),
                                    hashlib.sha256).digest()).decode()
    q = [("sv", version), ("st", st), ("se", se), ("sr", "c"), ("sp", perms),
         ("sig", sig)]
    return urllib.parse.urlencode(q)


def main(argv):
    endpoint = os.environ.get("AZ_BLOB_ENDPOINT",
                              "http://127.0.0.1:10000/devstoreaccount1")
    account, key = "devstoreaccount1", DEV_KEY
    args = argv[1:]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--endpoint":
            endpoint = args.pop(0)
        elif opt == "--account":
            account = args.pop(0)
        elif opt == "--key":
            key = args.pop(0)
        else:
            raise SystemExit("unknown option " + opt)
    if not args:
        raise SystemExit(__doc__ or "usage: see the header")
    c = Client(endpoint, account, key)
    cmd = args[0]
    if cmd == "list":
        for name, ctype, cenc in c.list(args[1]):
            print(name, ctype, cenc)
    elif cmd == "get":
        sys.stdout.buffer.write(c.get(args[1], args[2]))
    elif cmd == "rows":
        for name, ctype, cenc in c.list(args[1]):
            data = c.get(args[1], name)
            if name.endswith(".gz"):
                data = gzip.decompress(data)
            for row in split_rows(data):
                sys.stdout.write(row + "\n")
    elif cmd == "sas":
        print(make_sas(account, key, args[1], args[2]))
    elif cmd == "create":
        st, _, _ = c.request("PUT", args[1], "restype=container")
        print(st)
    elif cmd == "delete":
        st, _, _ = c.request("DELETE", args[1], "restype=container")
        print(st)
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
