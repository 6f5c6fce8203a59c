#!/usr/bin/env python3
# adx_peer.py - a strict loopback Azure Data Explorer (Kusto) peer for tests.
#
# Three loopback listeners, each on a port of its own (0 = any free port):
#   engine  mgmt commands, queries, streaming ingestion, auth metadata,
#           and the test hooks under /_peer/;
#   dm      the data-management endpoint: .get ingestion resources and
#           .get kusto identity token; a worker drains the ready queues in
#           Azurite, downloads each blob with its SAS, ingests it and posts
#           status messages;
#   aad     Entra ID v2 token endpoint (client credentials with a form
#           secret or HTTP Basic, device code, refresh token),
#           openid-configuration, and the IMDS managed-identity endpoint.
# The requests it accepts are the ones the official Kusto SDKs send
# (../shared/design/azure-recorded/, described in azure.md); anything
# else is answered the way Kusto answers it, with the same error body
# shape. With --strict (the default) the headers every recorded SDK
# request carries (x-ms-client-request-id, x-ms-app, x-ms-client-version,
# a JSON Accept) are required too. tests/peers/adx_replay.py replays the
# recorded requests against this peer so it cannot drift into accepting
# only what adxsink sends.
#
# When ready it writes {"engine","dm","aad","pid"} as JSON to --ready-file.
# Python 3 standard library only.
#
# SPDX-License-Identifier: MIT

import argparse
import base64
import datetime as dt
import gzip
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib

STREAM_LIMIT = 4 * 1024 * 1024
BODY_CEILING = 64 * 1024 * 1024
KUSTO_RESOURCE = "https://kusto.kusto.windows.net"
KUSTO_CLIENT_APP = "db662dc1-0cfe-4e1c-a843-19a68e65be58"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")
STORAGE_VERSION = "2021-12-02"
STREAM_FORMATS = ("csv", "tsv", "scsv", "sohsv", "psv", "json",
                  "multijson", "avro", "txt", "raw", "w3clogfile", "tsve",
                  "singlejson", "apacheavro", "parquet", "orc")
JSON_FORMATS = ("json", "multijson", "singlejson")
REQUEST_ID_RE = re.compile(r"^[^;\s]+;[0-9A-Fa-f-]{36}$")
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})"
                   r"(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
                   r"(Z|[+-]\d{2}:?\d{2})?$")
TIMESPAN_RE = re.compile(r"^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})"
                         r"(?:\.(\d{1,7}))?$")

TYPE_ALIASES = {
    "bool": "bool", "boolean": "bool", "int": "int", "long": "long",
    "real": "real", "double": "real", "decimal": "decimal",
    "string": "string", "datetime": "datetime", "date": "datetime",
    "timespan": "timespan", "time": "timespan", "guid": "guid",
    "uniqueid": "guid", "dynamic": "dynamic",
}
DOTNET_TYPES = {
    "bool": "Boolean", "int": "Int32", "long": "Int64", "real": "Double",
    "decimal": "Decimal", "string": "String", "datetime": "DateTime",
    "timespan": "TimeSpan", "guid": "Guid", "dynamic": "Object",
}


def now_utc():
    return dt.datetime.now(dt.timezone.utc)


def iso_now():
    return now_utc().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rfc1123(t=None):
    t = t or time.time()
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


class KustoError(Exception):
    """An error Kusto reports with its JSON error body."""

    def __init__(self, status, code, message, etype=None, permanent=None,
                 retry_after=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = message
        self.etype = etype or "Kusto.Data.Exceptions.KustoRequestException"
        if permanent is None:
            permanent = status < 500 and status != 429
        self.permanent = permanent
        self.retry_after = retry_after


def bad_request(code, msg, etype=None):
    return KustoError(400, code, msg, etype or
                      "Kusto.Data.Exceptions.KustoBadRequestException")


def syntax_error(msg):
    return KustoError(400, "BadRequest_SyntaxError", "Syntax error: " + msg,
                      "Kusto.Data.Exceptions.SyntaxException")


def not_found(what):
    return KustoError(400, "BadRequest_EntityNotFound", what,
                      "Kusto.Data.Exceptions.EntityNotFoundException")


class AadError(Exception):
    def __init__(self, status, error, code, desc):
        super().__init__(desc)
        self.status = status
        self.error = error
        self.code = code
        self.desc = desc


# --------------------------------------------------------------------------
# KQL management-command lexing and parsing


class Tok:
    __slots__ = ("kind", "val", "pos", "quoted")

    def __init__(self, kind, val, pos, quoted=False):
        self.kind = kind      # cmd, ident, str, punct, data, eof
        self.val = val
        self.pos = pos
        self.quoted = quoted  # ident written as ['...']


def lex_string(text, i):
    """A Kusto string literal at text[i]; returns (value, next index)."""
    n = len(text)
    verbatim = False
    if text[i] in "hH" and i + 1 < n and text[i + 1] in "'\"@":
        i += 1
    if text[i] == "@":
        verbatim = True
        i += 1
    if i >= n or text[i] not in "'\"":
        raise syntax_error("string literal expected at %d" % i)
    q = text[i]
    i += 1
    out = []
    while True:
        if i >= n:
            raise syntax_error("unterminated string literal")
        c = text[i]
        if c == q:
            if verbatim and i + 1 < n and text[i + 1] == q:
                out.append(q)
                i += 2
                continue
            return "".join(out), i + 1
        if c == "\n" and not verbatim:
            raise syntax_error("newline in string literal")
        if c == "\\" and not verbatim:
            if i + 1 >= n:
                raise syntax_error("unterminated escape")
            e = text[i + 1]
            if e in "\\'\"/":
                out.append(e)
            elif e == "n":
                out.append("\n")
            elif e == "t":
                out.append("\t")
            elif e == "r":
                out.append("\r")
            elif e == "u" and re.match(r"[0-9a-fA-F]{4}", text[i + 2:i + 6]):
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 4
            else:
                raise syntax_error("bad escape \\%s in string literal" % e)
            i += 2
            continue
        out.append(c)
        i += 1


def lex(text):
    toks = []
    i = 0
    n = len(text)
    while i < n and text[i].isspace():
        i += 1
    m = re.compile(r"\.[a-z][a-z-]*").match(text, i)
    if not m:
        raise syntax_error("a management command starts with '.'")
    toks.append(Tok("cmd", m.group(0), i))
    i = m.end()
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("<|", i):
            toks.append(Tok("data", text[i + 2:], i))
            i = n
            break
        if c in "'\"" or (c in "hH@" and i + 1 < n and text[i + 1] in "'\"@"):
            v, i = lex_string(text, i)
            toks.append(Tok("str", v, i))
            continue
        if c == "[":
            j = i + 1
            while j < n and text[j].isspace():
                j += 1
            if j < n and text[j] in "'\"@":
                v, j = lex_string(text, j)
                while j < n and text[j].isspace():
                    j += 1
                if j >= n or text[j] != "]":
                    raise syntax_error("']' expected after bracketed name")
                toks.append(Tok("ident", v, i, True))
                i = j + 1
                continue
        if c.isalpha() or c == "_":
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, i)
            toks.append(Tok("ident", m.group(0), i))
            i = m.end()
            continue
        if c.isdigit():
            m = re.compile(r"[0-9]+").match(text, i)
            toks.append(Tok("num", m.group(0), i))
            i = m.end()
            continue
        if c in "(),:=;|":
            toks.append(Tok("punct", c, i))
            i += 1
            continue
        raise syntax_error("unexpected character %r at position %d" % (c, i))
    toks.append(Tok("eof", None, n))
    return toks


class Cmd:
    def __init__(self, text):
        self.toks = lex(text)
        self.i = 1
        self.name = self.toks[0].val

    def peek(self):
        return self.toks[self.i]

    def take(self):
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def accept(self, word):
        t = self.peek()
        if t.kind == "ident" and not t.quoted and t.val == word:
            self.i += 1
            return True
        return False

    def expect(self, word):
        if not self.accept(word):
            t = self.peek()
            raise syntax_error("expected '%s' at position %d, found %s" %
                               (word, t.pos, t.val if t.val else t.kind))

    def punct(self, p):
        t = self.peek()
        if t.kind == "punct" and t.val == p:
            self.i += 1
            return True
        return False

    def expect_punct(self, p):
        if not self.punct(p):
            raise syntax_error("expected '%s' at position %d" %
                               (p, self.peek().pos))

    def entity(self):
        t = self.take()
        if t.kind != "ident":
            raise syntax_error("entity name expected at position %d" % t.pos)
        if not t.val or len(t.val) > 1024:
            raise syntax_error("bad entity name")
        return t.val

    def string(self):
        t = self.take()
        if t.kind != "str":
            raise syntax_error("string literal expected at position %d" %
                               t.pos)
        return t.val

    def end(self):
        t = self.peek()
        if t.kind != "eof":
            raise syntax_error("unexpected '%s' at position %d" %
                               (t.val, t.pos))

    def schema(self):
        self.expect_punct("(")
        cols = []
        while True:
            name = self.entity()
            self.expect_punct(":")
            t = self.take()
            if t.kind != "ident" or t.val not in TYPE_ALIASES:
                raise syntax_error("unknown column type %r" % (t.val,))
            cols.append((name, TYPE_ALIASES[t.val]))
            if self.punct(")"):
                break
            self.expect_punct(",")
        names = [c[0] for c in cols]
        if len(set(names)) != len(names):
            raise bad_request("BadRequest_DuplicateColumnName",
                              "a column name appears twice in the schema")
        return cols

    def with_props(self):
        props = {}
        if not self.accept("with"):
            return props
        self.expect_punct("(")
        while True:
            k = self.entity()
            self.expect_punct("=")
            t = self.take()
            if t.kind not in ("str", "ident", "num"):
                raise syntax_error("property value expected")
            props[k] = t.val
            if self.punct(")"):
                break
            self.expect_punct(",")
        return props


# --------------------------------------------------------------------------
# Values


def parse_datetime(s):
    m = DT_RE.match(s.strip()) if isinstance(s, str) else None
    if not m:
        return None
    y, mo, d, h, mi, sec, frac, tz = m.groups()
    try:
        t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0),
                        int(sec or 0), tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    ticks = int(((frac or "") + "0000000")[:7])
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        hh, mm = int(tz[1:3]), int(tz[-2:])
        t -= sign * dt.timedelta(hours=hh, minutes=mm)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%07dZ" % ticks


def coerce(v, ctype):
    """A JSON value converted to a column type as Kusto does; None when it
    cannot be converted."""
    if v is None:
        return None
    if ctype in ("long", "int"):
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            return int(v) if v == v and abs(v) < 2 ** 63 else None
        if isinstance(v, str):
            try:
                return int(v.strip())
            except ValueError:
                return None
        return None
    if ctype in ("real", "decimal"):
        if isinstance(v, bool):
            return float(v)
        if isinstance(v, (int, float)):
            return float(v)
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                return None
        return None
    if ctype == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            return v != 0
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        return None
    if ctype == "string":
        if isinstance(v, str):
            return v
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    if ctype == "datetime":
        return parse_datetime(v) if isinstance(v, str) else None
    if ctype == "guid":
        if isinstance(v, str) and GUID_RE.match(v):
            return v.lower()
        return None
    if ctype == "timespan":
        if isinstance(v, str) and TIMESPAN_RE.match(v):
            return v
        return None
    return v  # dynamic


def json_path_get(row, path):
    """Evaluate a mapping path ($.a.b, $['a'], $[0]) on a parsed row."""
    if path == "$":
        return row
    cur = row
    i = 1
    n = len(path)
    while i < n:
        if path[i] == ".":
            m = re.compile(r"\.([^.\[]+)").match(path, i)
            if not m:
                return None
            key = m.group(1)
            i = m.end()
        elif path[i] == "[":
            m = re.compile(r"\[\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\""
                           r"|(\d+))\s*\]").match(path, i)
            if not m:
                return None
            i = m.end()
            if m.group(3) is not None:
                idx = int(m.group(3))
                if isinstance(cur, list) and idx < len(cur):
                    cur = cur[idx]
                    continue
                return None
            key = m.group(1) if m.group(1) is not None else m.group(2)
            key = re.sub(r"\\(.)", r"\1", key)
        else:
            return None
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return cur


def valid_path(path):
    if not isinstance(path, str) or not path.startswith("$"):
        return False
    return re.fullmatch(r"\$(?:\.[^.\[]+|\[\s*(?:'(?:[^'\\]|\\.)*'|"
                        r"\"(?:[^\"\\]|\\.)*\"|\d+)\s*\])*", path) is not None


# --------------------------------------------------------------------------
# State


class Table:
    def __init__(self, name, cols):
        self.name = name
        self.cols = list(cols)
        self.rows = []
        self.mappings = {}  # name -> [(column, path)]
        self.mapping_text = {}
        self.streaming = False
        self.ingestiontime = False
        self.created = iso_now()

    def col_index(self):
        return {c[0]: i for i, c in enumerate(self.cols)}

    def schema_json(self, db):
        return json.dumps({"Name": self.name, "OrderedColumns": [
            {"Name": c, "Type": "System." + DOTNET_TYPES[t], "CslType": t}
            for c, t in self.cols]}, separators=(",", ":"))

    def cslschema(self):
        return ",".join("%s:%s" % (kql_name(c), t) for c, t in self.cols)


def kql_name(n):
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n):
        return n
    return "['" + n.replace("\\", "\\\\").replace("'", "\\'") + "']"


class Database:
    def __init__(self, name):
        self.name = name
        self.tables = {}
        self.streaming = False


class Fault:
    def __init__(self, spec):
        self.target = spec["target"]
        self.status = int(spec.get("status", 503))
        self.code = spec.get("code") or {
            429: "TooManyRequests", 500: "InternalServiceError",
            503: "ServiceUnavailable"}.get(self.status, "BadRequest")
        self.message = spec.get("message", "injected by the test")
        self.permanent = spec.get("permanent")
        self.retry_after = spec.get("retry_after")
        self.count = int(spec.get("count", 1))
        self.skip = int(spec.get("skip", 0))
        self.delay = float(spec.get("delay", 0))
        self.drop = bool(spec.get("drop", False))
        self.table = spec.get("table")
        self.hits = 0


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.dbs = {}
        for d in args.database or ["TestDb"]:
            self.dbs[d] = Database(d)
        self.tokens = {}   # token -> (expires_at or None, subject)
        for t in args.accept_token or []:
            self.tokens[t] = (None, "fixed")
        self.refresh_tokens = {}
        self.auth_contexts = set()
        if args.identity_token:
            self.auth_contexts.add(args.identity_token)
        self.devices = {}  # device_code -> dict
        self.faults = []
        self.requests = []
        self.warnings = []
        self.queued = []   # ingestion messages seen, decoded
        self.status_posted = []
        self.ingest_errors = []
        self.counters = {}
        self.urls = {}
        self.resources = None

    def count(self, k):
        with self.lock:
            self.counters[k] = self.counters.get(k, 0) + 1

    def issue_token(self, subject, lifetime=None):
        tok = "peer." + secrets.token_urlsafe(24)
        life = self.args.token_lifetime if lifetime is None else lifetime
        with self.lock:
            self.tokens[tok] = (time.time() + life, subject)
        return tok, life

    def check_bearer(self, hdr):
        if not hdr or not hdr.startswith("Bearer "):
            return "missing bearer token"
        tok = hdr[7:]
        with self.lock:
            ent = self.tokens.get(tok)
        if not ent:
            return "unknown token"
        if ent[0] is not None and time.time() >= ent[0]:
            return "token expired"
        return None

    def take_fault(self, target, table=None):
        with self.lock:
            for f in self.faults:
                if f.target != target or f.count <= 0:
                    continue
                if f.table and table and f.table != table:
                    continue
                if f.skip > 0:
                    f.skip -= 1
                    continue
                f.count -= 1
                f.hits += 1
                return f
        return None

    def db(self, name):
        d = self.dbs.get(name)
        if not d:
            raise not_found("Database '%s' was not found." % name)
        return d

    def table(self, db, name):
        t = self.db(db).tables.get(name)
        if not t:
            raise not_found("Table '%s' was not found in database '%s'." %
                            (name, db))
        return t


# --------------------------------------------------------------------------
# Azure Storage (Azurite) client with SharedKey, and SAS generation


class Storage:
    def __init__(self, blob_url, queue_url, account, key):
        self.blob = blob_url.rstrip("/")
        self.queue = queue_url.rstrip("/")
        self.account = account
        self.key = base64.b64decode(key)

    def _sign(self, method, url, headers, length):
        u = urllib.parse.urlsplit(url)
        canon_h = "".join("%s:%s\n" % (k.lower(), str(v).strip())
                          for k, v in sorted(headers.items(),
                                             key=lambda kv: kv[0].lower())
                          if k.lower().startswith("x-ms-"))
        res = "/" + self.account + u.path
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        for k in sorted(q, key=str.lower):
            res += "\n%s:%s" % (k.lower(), ",".join(sorted(q[k])))
        sts = "\n".join([
            method, headers.get("Content-Encoding", ""),
            headers.get("Content-Language", ""),
            str(length) if length else "", headers.get("Content-MD5", ""),
            headers.get("Content-Type", ""), "", "", "", "", "", ""])
        sts += "\n" + canon_h + res
        sig = base64.b64encode(hmac.new(self.key, sts.encode(),
                                        hashlib.sha256).digest()).decode()
        return "SharedKey %s:%s" % (self.account, sig)

    def request(self, method, url, body=b"", headers=None, sign=True,
                timeout=10):
        headers = dict(headers or {})
        if sign:
            headers["x-ms-date"] = rfc1123()
            headers["x-ms-version"] = STORAGE_VERSION
            headers["Authorization"] = self._sign(method, url, headers,
                                                  len(body))
        u = urllib.parse.urlsplit(url)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        try:
            path = u.path + ("?" + u.query if u.query else "")
            headers["Content-Length"] = str(len(body))
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            return r.status, dict((k.lower(), v) for k, v in
                                  r.getheaders()), data
        finally:
            c.close()

    def sas(self, kind, name, perms, lifetime):
        st = (now_utc() - dt.timedelta(minutes=5)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        se = (now_utc() + dt.timedelta(seconds=lifetime)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        sv = "2022-11-02"
        if kind == "blob":
            fields = [perms, st, se, "/blob/%s/%s" % (self.account, name),
                      "", "", "", sv, "c", "", "", "", "", "", "", ""]
        else:
            fields = [perms, st, se, "/queue/%s/%s" % (self.account, name),
                      "", "", "", sv]
        sig = base64.b64encode(hmac.new(self.key, "\n".join(fields).encode(),
                                        hashlib.sha256).digest()).decode()
        q = [("sv", sv), ("st", st), ("se", se)]
        if kind == "blob":
            q.append(("sr", "c"))
        q += [("sp", perms), ("sig", sig)]
        return urllib.parse.urlencode(q, quote_via=urllib.parse.quote,
                                      safe="")

    def create_container(self, name):
        s, h, _ = self.request("PUT", "%s/%s?restype=container" %
                               (self.blob, name))
        if s not in (201, 409):
            raise RuntimeError("create container %s: HTTP %d" % (name, s))

    def delete_container(self, name):
        self.request("DELETE", "%s/%s?restype=container" % (self.blob, name))

    def create_queue(self, name):
        s, h, _ = self.request("PUT", "%s/%s" % (self.queue, name))
        if s not in (201, 204):
            raise RuntimeError("create queue %s: HTTP %d" % (name, s))

    def get_messages(self, queue, n=32, visibility=30):
        s, h, data = self.request(
            "GET", "%s/%s/messages?numofmessages=%d&visibilitytimeout=%d" %
            (self.queue, queue, n, visibility))
        if s != 200:
            raise RuntimeError("get messages %s: HTTP %d" % (queue, s))
        out = []
        root = ET.fromstring(data)
        for m in root.findall("QueueMessage"):
            out.append({k: (m.findtext(k) or "") for k in (
                "MessageId", "PopReceipt", "MessageText", "DequeueCount")})
        return out

    def delete_message(self, queue, mid, pop):
        self.request("DELETE", "%s/%s/messages/%s?popreceipt=%s" % (
            self.queue, queue, mid, urllib.parse.quote(pop, safe="")))

    def put_message(self, queue, text):
        body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage>"
                "<MessageText>%s</MessageText></QueueMessage>" % text).encode()
        s, h, _ = self.request("POST", "%s/%s/messages" % (self.queue, queue),
                               body, {"Content-Type": "application/xml"})
        if s != 201:
            raise RuntimeError("put message %s: HTTP %d" % (queue, s))

    def peek_all(self, queue):
        s, h, data = self.request(
            "GET", "%s/%s/messages?peekonly=true&numofmessages=32" %
            (self.queue, queue))
        if s != 200:
            return []
        root = ET.fromstring(data)
        return [m.findtext("MessageText") or "" for m in
                root.findall("QueueMessage")]


# --------------------------------------------------------------------------
# Kusto behaviour: management commands, ingestion, queries


def v1(cols, rows):
    return {"Tables": [{"TableName": "Table_0", "Columns": [
        {"ColumnName": n, "DataType": DOTNET_TYPES[t], "ColumnType": t}
        for n, t in cols], "Rows": rows}]}


TABLES_COLS = [("TableName", "string"), ("DatabaseName", "string"),
               ("Folder", "string"), ("DocString", "string")]
SCHEMA_COLS = [("TableName", "string"), ("Schema", "string"),
               ("DatabaseName", "string"), ("Folder", "string"),
               ("DocString", "string")]
POLICY_COLS = [("PolicyName", "string"), ("EntityName", "string"),
               ("Policy", "string"), ("ChildEntities", "string"),
               ("EntityType", "string")]
MAPPING_COLS = [("Name", "string"), ("Kind", "string"),
                ("Mapping", "string"), ("LastUpdatedOn", "datetime"),
                ("Database", "string"), ("Table", "string")]


def parse_mapping(text, table):
    try:
        m = json.loads(text)
    except ValueError as e:
        raise bad_request("BadRequest_InvalidMapping",
                          "the mapping is not valid JSON: %s" % e)
    if not isinstance(m, list) or not m:
        raise bad_request("BadRequest_InvalidMapping",
                          "a JSON mapping is a non-empty array")
    out = []
    have = table.col_index()
    for ent in m:
        if not isinstance(ent, dict) or not isinstance(ent.get("column"),
                                                         str):
            raise bad_request("BadRequest_InvalidMapping",
                              "each mapping entry needs a 'column'")
        props = ent.get("Properties")
        if props is not None:
            if not isinstance(props, dict):
                raise bad_request("BadRequest_InvalidMapping",
                                  "'Properties' must be an object")
            path = props.get("Path")
        else:
            path = ent.get("path")
        if not valid_path(path):
            raise bad_request("BadRequest_InvalidMapping",
                              "bad JSON path %r for column '%s'" %
                              (path, ent["column"]))
        if ent["column"] not in have:
            raise bad_request("BadRequest_InvalidMapping",
                              "mapping column '%s' is not in table '%s'" %
                              (ent["column"], table.name))
        out.append((ent["column"], path))
    return out


def parse_records(data, fmt):
    """Decoded ingestion data to a list of dicts."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("BadRequest_InvalidEncoding",
                          "ingestion data is not valid UTF-8")
    recs = []
    if fmt == "json":
        for no, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                v = json.loads(line)
            except ValueError as e:
                raise bad_request("BadRequest_InvalidJsonFormat",
                                  "line %d is not one JSON object: %s" %
                                  (no, e))
            if not isinstance(v, dict):
                raise bad_request("BadRequest_InvalidJsonFormat",
                                  "line %d is not a JSON object" % no)
            recs.append(v)
        return recs
    if fmt == "singlejson":
        try:
            v = json.loads(text)
        except ValueError as e:
            raise bad_request("BadRequest_InvalidJsonFormat", str(e))
        if not isinstance(v, dict):
            raise bad_request("BadRequest_InvalidJsonFormat",
                              "singlejson holds one object")
        return [v]
    if fmt == "multijson":
        dec = json.JSONDecoder()
        i = 0
        n = len(text)
        while True:
            while i < n and text[i] in " \t\r\n":
                i += 1
            if i >= n:
                break
            try:
                v, i = dec.raw_decode(text, i)
            except ValueError as e:
                raise bad_request("BadRequest_InvalidJsonFormat", str(e))
            items = v if isinstance(v, list) else [v]
            for it in items:
                if not isinstance(it, dict):
                    raise bad_request("BadRequest_InvalidJsonFormat",
                                      "multijson records must be objects")
                recs.append(it)
        return recs
    raise bad_request("BadRequest_FormatNotSupported",
                      "the peer ingests only JSON formats, not '%s'" % fmt)


def ingest_records(state, db, tname, fmt, data, mapping_name=None,
                   inline_mapping=None):
    with state.lock:
        t = state.table(db, tname)
        if mapping_name:
            mapping = t.mappings.get(mapping_name)
            if mapping is None:
                raise bad_request(
                    "BadRequest_MappingReferenceWasNotFound",
                    "Mapping reference '%s' of type 'mappingReference' in "
                    "database '%s' could not be found." % (mapping_name, db))
        elif inline_mapping is not None:
            mapping = parse_mapping(inline_mapping, t)
        else:
            mapping = [(c, "$['%s']" % c.replace("'", "\\'"))
                       for c, _ in t.cols]
    recs = parse_records(data, fmt)
    with state.lock:
        t = state.table(db, tname)
        idx = t.col_index()
        for r in recs:
            row = [None] * len(t.cols)
            for col, path in mapping:
                i = idx.get(col)
                if i is None:
                    continue
                row[i] = coerce(json_path_get(r, path), t.cols[i][1])
            t.rows.append(row)
    return len(recs)


def merge_columns(t, cols, strict_types):
    have = dict(t.cols)
    for name, typ in cols:
        if name in have:
            if have[name] != typ and strict_types:
                raise bad_request(
                    "BadRequest_BadRequest",
                    "column '%s' already exists with type '%s', not '%s'"
                    % (name, have[name], typ))
            continue
        t.cols.append((name, typ))
        for r in t.rows:
            r.append(None)


def policy_row(kind, entity, policy, etype):
    return [[kind, entity, json.dumps(policy, separators=(",", ":")),
             "[]", etype]]


def run_engine_command(state, db, csl):
    c = Cmd(csl)
    name = c.name
    if name in (".get",):
        raise KustoError(400, "BadRequest",
                         "The command '%s' must be sent to the data "
                         "management endpoint (ingest-...)." % csl.strip(),
                         "Kusto.Common.Svc.Exceptions."
                         "AdminCommandWrongEndpointException", True)
    d = state.db(db)
    if name == ".show":
        if c.accept("tables"):
            c.end()
            return v1(TABLES_COLS, [[t, db, "", ""] for t in d.tables])
        c.expect("table")
        tn = c.entity()
        t = state.table(db, tn)
        if c.accept("cslschema"):
            c.end()
            return v1(SCHEMA_COLS, [[tn, t.cslschema(), db, "", ""]])
        if c.accept("schema"):
            c.expect("as")
            c.expect("json")
            c.end()
            return v1(SCHEMA_COLS, [[tn, t.schema_json(db), db, "", ""]])
        if c.accept("ingestion"):
            c.accept("json")
            c.expect("mappings")
            c.end()
            return v1(MAPPING_COLS, [
                [mn, "Json", t.mapping_text[mn], t.created, db, tn]
                for mn in t.mappings])
        if c.accept("policy"):
            c.expect("streamingingestion")
            c.end()
            return v1(POLICY_COLS, policy_row(
                "StreamingIngestionPolicy", "[%s].[%s]" % (db, tn),
                {"IsEnabled": t.streaming}, "Table"))
        raise syntax_error("unsupported .show command")
    if name == ".drop":
        c.expect("table")
        tn = c.entity()
        if c.accept("ingestion"):
            c.expect("json")
            c.expect("mapping")
            mn = c.string()
            c.end()
            t = state.table(db, tn)
            if mn not in t.mappings:
                raise not_found("Mapping '%s' was not found." % mn)
            del t.mappings[mn]
            del t.mapping_text[mn]
            return v1(MAPPING_COLS, [])
        ifexists = c.accept("ifexists")
        c.end()
        if tn not in d.tables and not ifexists:
            raise not_found("Table '%s' was not found." % tn)
        d.tables.pop(tn, None)
        return v1(TABLES_COLS, [[t, db, "", ""] for t in d.tables])
    if name in (".create", ".create-merge", ".alter-merge",
                ".create-or-alter", ".alter"):
        if name == ".alter" and c.accept("database"):
            dn = c.entity()
            if dn != db:
                raise bad_request("BadRequest", "database name mismatch")
            c.expect("policy")
            c.expect("streamingingestion")
            d.streaming = streaming_value(c)
            return v1(POLICY_COLS, policy_row(
                "StreamingIngestionPolicy", "[%s]" % db,
                {"IsEnabled": d.streaming}, "Database"))
        c.expect("table")
        tn = c.entity()
        if c.accept("ingestion"):
            c.expect("json")
            c.expect("mapping")
            mn = c.string()
            text = c.string()
            c.end()
            t = state.table(db, tn)
            if name == ".create" and mn in t.mappings:
                raise bad_request("BadRequest_EntityAlreadyExists",
                                  "Mapping '%s' already exists." % mn)
            if name == ".alter" and mn not in t.mappings:
                raise not_found("Mapping '%s' was not found." % mn)
            if name in (".create-merge", ".alter-merge"):
                raise syntax_error("mappings are created with .create, "
                                   ".create-or-alter or .alter")
            t.mappings[mn] = parse_mapping(text, t)
            t.mapping_text[mn] = text
            return v1(MAPPING_COLS, [[mn, "Json", text, iso_now(), db, tn]])
        if name == ".alter" and c.accept("policy"):
            t = state.table(db, tn)
            if c.accept("ingestiontime"):
                t2 = c.take()
                if t2.kind != "ident" or t2.val not in ("true", "false"):
                    raise syntax_error("true or false expected")
                c.end()
                t.ingestiontime = t2.val == "true"
                return v1(POLICY_COLS, policy_row(
                    "IngestionTimePolicy", "[%s].[%s]" % (db, tn),
                    {"IsEnabled": t.ingestiontime}, "Table"))
            c.expect("streamingingestion")
            t.streaming = streaming_value(c)
            return v1(POLICY_COLS, policy_row(
                "StreamingIngestionPolicy", "[%s].[%s]" % (db, tn),
                {"IsEnabled": t.streaming}, "Table"))
        if name == ".create-or-alter" or name == ".alter":
            raise syntax_error("unsupported %s command" % name)
        cols = c.schema()
        c.with_props()
        c.end()
        t = d.tables.get(tn)
        if name == ".create":
            if t:
                if [x for x in t.cols] != cols:
                    raise bad_request("BadRequest_EntityAlreadyExists",
                                      "Table '%s' already exists with a "
                                      "different schema." % tn)
            else:
                t = d.tables[tn] = Table(tn, cols)
        elif name == ".create-merge":
            if t:
                merge_columns(t, cols, True)
            else:
                t = d.tables[tn] = Table(tn, cols)
        else:  # .alter-merge
            if not t:
                raise not_found("Table '%s' was not found." % tn)
            merge_columns(t, cols, True)
        return v1(SCHEMA_COLS, [[tn, t.schema_json(db), db, "", ""]])
    if name == ".delete":
        c.expect("table")
        tn = c.entity()
        c.expect("policy")
        c.expect("streamingingestion")
        c.end()
        state.table(db, tn).streaming = False
        return v1(POLICY_COLS, [])
    if name == ".ingest":
        c.expect("inline")
        c.expect("into")
        c.expect("table")
        tn = c.entity()
        props = c.with_props()
        t = c.take()
        if t.kind != "data":
            raise syntax_error("'<|' expected")
        data = t.val
        if data.startswith(" "):
            data = data[1:]
        fmt = props.get("format", "csv").lower()
        n = ingest_records(state, db, tn, fmt, data.encode("utf-8"),
                           props.get("ingestionMappingReference"),
                           props.get("ingestionMapping"))
        return v1([("ExtentId", "guid"), ("ItemLoaded", "string"),
                   ("Duration", "timespan"), ("HasErrors", "bool"),
                   ("OperationId", "guid")],
                  [[str(uuid.uuid4()), "inproc:%d" % n, "00:00:00.0010000",
                    False, str(uuid.uuid4())]])
    raise syntax_error("unknown or unsupported command '%s'" % name)


def streaming_value(c):
    t = c.take()
    if t.kind == "ident" and t.val in ("enable", "disable"):
        c.end()
        return t.val == "enable"
    if t.kind == "str":
        c.end()
        try:
            p = json.loads(t.val)
            return bool(p.get("IsEnabled"))
        except (ValueError, AttributeError):
            raise bad_request("BadRequest_InvalidPolicy", "bad policy JSON")
    raise syntax_error("enable, disable or a policy string expected")


def run_query(state, db, csl):
    m = re.fullmatch(r"\s*(\[\s*'[^']+'\s*\]|[A-Za-z_][A-Za-z0-9_]*)\s*"
                     r"(?:\|\s*(count|take\s+(\d+)))?\s*;?\s*", csl)
    if not m:
        raise syntax_error("the peer answers 'T', 'T | count' and "
                           "'T | take N' only")
    tn = m.group(1)
    if tn.startswith("["):
        tn = tn.strip("[] '")
    with state.lock:
        t = state.table(db, tn)
        if m.group(2) == "count":
            return v1([("Count", "long")], [[len(t.rows)]])
        rows = t.rows
        if m.group(3):
            rows = rows[:int(m.group(3))]
        return v1(t.cols, [list(r) for r in rows])


# --------------------------------------------------------------------------
# Data management: ingestion resources and the queue worker


class Dm:
    def __init__(self, state, storage, args):
        self.state = state
        self.st = storage
        self.args = args
        self.stop = False
        self.gen = 0
        self.containers = []
        self.ready = []
        self.failed = "failedingestions"
        self.succeeded = "successfulingestions"
        self.rows = []

    def setup(self):
        day = now_utc().strftime("%Y%m%d")
        with self.state.lock:
            self.gen += 1
            tag = secrets.token_hex(8)[:15]
            old = self.containers
            self.containers = ["%s-ingestdata-%s-%d" % (day, tag, i)
                               for i in range(self.args.containers)]
            self.ready = ["readyforaggregation-secured-%d" % i
                          for i in range(self.args.queues)]
        for c in self.containers:
            self.st.create_container(c)
        for q in self.ready + [self.failed, self.succeeded]:
            self.st.create_queue(q)
        life = self.args.sas_lifetime
        rows = []
        for q in self.ready:
            rows.append(["SecuredReadyForAggregationQueue", "%s/%s?%s" % (
                self.st.queue, q, self.st.sas("queue", q, "a", life))])
        rows.append(["FailedIngestionsQueue", "%s/%s?%s" % (
            self.st.queue, self.failed,
            self.st.sas("queue", self.failed, "rp", life))])
        rows.append(["SuccessfulIngestionsQueue", "%s/%s?%s" % (
            self.st.queue, self.succeeded,
            self.st.sas("queue", self.succeeded, "rp", life))])
        for c in self.containers:
            rows.append(["TempStorage", "%s/%s?%s" % (
                self.st.blob, c, self.st.sas("blob", c, "rcw", life))])
        rows.append(["IngestionsStatusTable",
                     "%s/ingestionsstatus%s?sv=2019-02-02&sig=x&sp=raud" %
                     (self.st.blob, day)])
        with self.state.lock:
            self.rows = rows
        return old

    def rotate(self, delete_old):
        old = self.setup()
        if delete_old:
            for c in old:
                self.st.delete_container(c)

    def resources(self):
        with self.state.lock:
            return v1([("ResourceTypeName", "string"),
                       ("StorageRoot", "string")], [list(r) for r in
                                                    self.rows])

    def run(self):
        while not self.stop:
            busy = False
            for q in list(self.ready):
                try:
                    msgs = self.st.get_messages(q)
                except (OSError, RuntimeError, ET.ParseError):
                    time.sleep(0.3)
                    continue
                for m in msgs:
                    busy = True
                    try:
                        self.process(m["MessageText"], q)
                    except Exception as e:  # keep the worker alive
                        self.state.ingest_errors.append(
                            {"error": "peer bug: %r" % e})
                    try:
                        self.st.delete_message(q, m["MessageId"],
                                               m["PopReceipt"])
                    except OSError:
                        pass
            if not busy:
                time.sleep(0.05)

    def report(self, msg, ok, code=None, details=None, permanent=True):
        level = msg.get("ReportLevel", 0)
        method = msg.get("ReportMethod", 0)
        if level == 1 or method == 1 or (ok and level != 2):
            return
        blob = str(msg.get("BlobPath", "")).split("?")[0]
        body = {"OperationId": msg.get("Id"),
                "Database": msg.get("DatabaseName"),
                "Table": msg.get("TableName")}
        if ok:
            body["SucceededOn"] = iso_now()
        else:
            body["FailedOn"] = iso_now()
        body["IngestionSourceId"] = msg.get("Id")
        body["IngestionSourcePath"] = blob
        if not ok:
            body.update({"Details": details, "ErrorCode": code,
                         "FailureStatus": "Permanent" if permanent
                         else "Transient"})
        body["RootActivityId"] = str(uuid.uuid4())
        if not ok:
            body["OriginatesFromUpdatePolicy"] = False
            body["ShouldRetry"] = not permanent
        text = base64.b64encode(json.dumps(body).encode()).decode()
        self.st.put_message(self.succeeded if ok else self.failed, text)
        self.state.status_posted.append(body)

    def fail(self, entry, msg, code, details, permanent=True):
        entry.update({"result": "Failed", "code": code, "details": details})
        self.state.ingest_errors.append(entry)
        if isinstance(msg, dict):
            self.report(msg, False, code, details, permanent)

    def process(self, text, queue=None):
        entry = {"received": iso_now(), "queue": queue}
        self.state.queued.append(entry)
        self.state.count("queued_messages")
        try:
            raw = base64.b64decode(text, validate=True)
            msg = json.loads(raw)
        except ValueError:
            return self.fail(entry, None, "BadRequest_InvalidMessage",
                             "the queue message is not base64 JSON")
        entry["message"] = msg
        err = check_ingestion_message(msg, self.state.args.strict)
        if err:
            return self.fail(entry, msg if isinstance(msg, dict) else None,
                             "BadRequest_InvalidMessage", err)
        props = msg["AdditionalProperties"]
        if props.get("authorizationContext") not in self.state.auth_contexts:
            return self.fail(entry, msg, "Unauthorized",
                             "authorizationContext was not issued by this "
                             "data management endpoint")
        f = self.state.take_fault("queued", msg["TableName"])
        if f:
            if f.delay:
                time.sleep(f.delay)
            return self.fail(entry, msg, f.code, f.message,
                             f.permanent is not False)
        u = urllib.parse.urlsplit(msg["BlobPath"])
        b = urllib.parse.urlsplit(self.st.blob)
        parts = u.path.split("/")
        if (u.scheme, u.hostname, u.port) != (b.scheme, b.hostname, b.port) \
                or len(parts) < 4 or parts[2] not in self.containers \
                or "sig=" not in u.query:
            return self.fail(entry, msg, "Download_SourceNotFound",
                             "BlobPath is not a blob in a temp storage "
                             "container with its SAS")
        try:
            s, h, data = self.st.request("GET", msg["BlobPath"], sign=False)
        except OSError as e:
            return self.fail(entry, msg, "Download_SourceNotAccessible",
                             str(e), False)
        if s != 200:
            return self.fail(entry, msg, "Download_SourceNotFound" if s == 404
                             else "Download_AccessDenied",
                             "blob download: HTTP %d %s" %
                             (s, h.get("x-ms-error-code", "")))
        entry["blob_bytes"] = len(data)
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                return self.fail(entry, msg, "BadRequest_InvalidCompression",
                                 "the blob is not valid gzip")
        elif u.path.endswith(".gz"):
            return self.fail(entry, msg, "BadRequest_InvalidCompression",
                             "a .gz blob without the gzip magic")
        size = msg.get("RawDataSize")
        if size is not None and size != len(data) and self.state.args.strict:
            return self.fail(entry, msg, "BadRequest_RawDataSizeMismatch",
                             "RawDataSize %d but the data has %d bytes" %
                             (size, len(data)))
        fmt = str(props.get("format", "csv")).lower()
        try:
            n = ingest_records(self.state, msg["DatabaseName"],
                               msg["TableName"], fmt, data,
                               props.get("ingestionMappingReference"),
                               props.get("ingestionMapping"))
        except KustoError as e:
            return self.fail(entry, msg, e.code, e.detail, e.permanent)
        entry.update({"result": "Succeeded", "rows": n})
        self.state.count("queued_rows")
        if msg.get("RetainBlobOnSuccess") is False:
            self.st.request("DELETE", "%s://%s%s" % (u.scheme, u.netloc,
                                                     u.path))
        self.report(msg, True)


MESSAGE_KEYS = {
    "Id", "BlobPath", "RawDataSize", "DatabaseName", "TableName",
    "RetainBlobOnSuccess", "FlushImmediately", "IgnoreSizeLimit",
    "ReportLevel", "ReportMethod", "SourceMessageCreationTime",
    "AdditionalProperties", "IngestionStatusInTable",
    "ApplicationForTracing", "ClientVersionForTracing"}
PROP_KEYS = {"authorizationContext", "ingestionMappingReference",
             "ingestionMapping", "ingestionMappingType", "format", "tags",
             "ingestIfNotExists", "ValidationPolicy", "ignoreFirstRecord",
             "creationTime", "extend_schema", "zipPattern"}


def check_ingestion_message(m, strict):
    """None when m has the shape the official SDKs send, else why not."""
    if not isinstance(m, dict):
        return "the message is not a JSON object"
    if strict:
        extra = set(m) - MESSAGE_KEYS
        if extra:
            return "unknown keys %s" % sorted(extra)
    for k in ("Id", "BlobPath", "DatabaseName", "TableName"):
        if not isinstance(m.get(k), str) or not m[k]:
            return "'%s' must be a non-empty string" % k
    if not GUID_RE.match(m["Id"]):
        return "'Id' is not a GUID"
    if not re.match(r"^https?://", m["BlobPath"]):
        return "'BlobPath' is not an http(s) URL"
    for k in ("RetainBlobOnSuccess", "FlushImmediately", "IgnoreSizeLimit"):
        if k in m and not isinstance(m[k], bool):
            return "'%s' must be a boolean" % k
    for k in ("ReportLevel", "ReportMethod"):
        v = m.get(k, 0)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 2:
            return "'%s' must be 0, 1 or 2" % k
    size = m.get("RawDataSize")
    if size is not None and (isinstance(size, bool) or
                             not isinstance(size, int) or size < 0):
        return "'RawDataSize' must be a non-negative integer or null"
    t = m.get("SourceMessageCreationTime")
    if t is not None and (not isinstance(t, str) or not parse_datetime(t)):
        return "'SourceMessageCreationTime' is not an ISO-8601 time"
    p = m.get("AdditionalProperties")
    if not isinstance(p, dict):
        return "'AdditionalProperties' must be an object"
    if strict:
        extra = set(p) - PROP_KEYS
        if extra:
            return "unknown AdditionalProperties %s" % sorted(extra)
    for k in p:
        if not isinstance(p[k], str):
            return "AdditionalProperties.%s must be a string" % k
    if not p.get("authorizationContext"):
        return "AdditionalProperties.authorizationContext is missing"
    fmt = p.get("format")
    if strict and fmt is None:
        return "AdditionalProperties.format is missing"
    if fmt is not None and fmt.lower() not in STREAM_FORMATS:
        return "unknown format '%s'" % fmt
    if (strict and fmt and fmt.lower() in JSON_FORMATS and
            not p.get("ingestionMappingReference") and
            not p.get("ingestionMapping")):
        return "JSON ingestion needs a mapping"
    return None


# --------------------------------------------------------------------------
# HTTP


class DropConnection(Exception):
    pass


CLIENT_VERSION_RE = re.compile(r"^[^:|{}]+:\{[^{}]*\}(\|[^:|{}]+:\{[^{}]*\})*$")
REDACT_FORM = ("client_secret", "refresh_token", "device_code",
               "client_assertion")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "adx-peer/1.0"

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("adx_peer %s: %s\n" % (self.server.role,
                                                    fmt % args))

    # -- plumbing --------------------------------------------------------

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te:
            if te.lower() != "chunked":
                raise KustoError(400, "BadRequest",
                                 "unsupported Transfer-Encoding")
            self.framing = "chunked"
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise DropConnection()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        t = self.rfile.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return bytes(out)
                if len(out) + size > BODY_CEILING:
                    self.close_connection = True
                    raise KustoError(413, "RequestEntityTooLarge",
                                     "request body too large")
                out += self.rfile.read(size)
                self.rfile.readline(8)
        self.framing = "content-length"
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        try:
            n = int(n)
        except ValueError:
            raise KustoError(400, "BadRequest", "bad Content-Length")
        if n > BODY_CEILING:
            self.close_connection = True
            raise KustoError(413, "RequestEntityTooLarge",
                             "request body too large")
        return self.rfile.read(n)

    def send(self, status, body=b"", ctype="application/json; charset=utf-8",
             headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        ae = self.headers.get("Accept-Encoding", "") or ""
        gz = (self.server.role != "aad" and len(body) > 256 and
              "gzip" in ae.lower() and not self.server.state.args.no_gzip)
        if gz:
            body = gzip.compress(body)
        self.send_response(status)
        if body or status >= 400:
            self.send_header("Content-Type", ctype)
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        rid = self.headers.get("x-ms-client-request-id")
        if self.server.role != "aad":
            self.send_header("x-ms-client-request-id", rid or "")
            self.send_header("x-ms-activity-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.status = status

    def send_kusto_error(self, e):
        body = {"error": {
            "code": e.code,
            "message": "Request is invalid and cannot be executed."
            if e.status == 400 else "Request failed.",
            "@type": e.etype,
            "@message": e.detail,
            "@context": {
                "timestamp": iso_now(),
                "serviceAlias": "ADXPEER",
                "machineName": "adx-peer",
                "processName": "adx_peer",
                "processId": os.getpid(),
                "threadId": threading.get_ident() & 0xffff,
                "clientRequestId":
                    self.headers.get("x-ms-client-request-id", ""),
                "activityId": str(uuid.uuid4()),
                "subActivityId": str(uuid.uuid4()),
                "activityType": "PO-OWIN-CallContext",
                "parentActivityId": str(uuid.uuid4()),
                "activityStack": "(Activity stack: CRID=%s ARID=%s)" % (
                    self.headers.get("x-ms-client-request-id", ""),
                    uuid.uuid4()),
            },
            "@permanent": e.permanent,
        }}
        h = {}
        if e.retry_after is not None:
            h["Retry-After"] = str(e.retry_after)
        self.error_code = e.code
        self.send(e.status, body, headers=h)

    def send_unauthorized(self, why):
        self.error_code = "Unauthorized"
        self.unauth_reason = why
        self.send(401, b"", headers={
            "WWW-Authenticate": 'Bearer authorization_uri="%s", '
            'error="invalid_token", error_description="%s"' %
            (self.server.state.urls.get("aad", ""), why)})

    def apply_fault(self, target, table=None):
        f = self.server.state.take_fault(target, table)
        if not f:
            return
        if f.delay:
            time.sleep(f.delay)
        if f.drop:
            raise DropConnection()
        if f.status in (0, 200):
            return
        if target in ("token", "devicecode", "imds"):
            raise AadError(f.status, "temporarily_unavailable", 50000
                           if f.status >= 500 else 90000, f.message)
        raise KustoError(f.status, f.code, f.message,
                         "Kusto.Common.Svc.Exceptions.InjectedFault",
                         f.permanent, f.retry_after)

    def warn(self, what):
        st = self.server.state
        st.warnings.append({"path": self.path, "warning": what})
        if st.args.strict:
            raise KustoError(400, "BadRequest_PeerStrictCheck",
                             "strict peer: %s" % what)

    def check_kusto_headers(self, body_type):
        h = self.headers
        rid = h.get("x-ms-client-request-id")
        if not rid:
            self.warn("missing x-ms-client-request-id")
        elif not REQUEST_ID_RE.match(rid):
            self.warn("x-ms-client-request-id is not '<prefix>;<uuid>'")
        if not h.get("x-ms-app"):
            self.warn("missing x-ms-app")
        cv = h.get("x-ms-client-version")
        if not cv:
            self.warn("missing x-ms-client-version")
        elif not CLIENT_VERSION_RE.match(cv):
            self.warn("x-ms-client-version is not 'Name:{ver}|...'")
        acc = h.get("Accept", "")
        if "application/json" not in acc and "*/*" not in acc:
            self.warn("Accept does not allow application/json")
        ct = (h.get("Content-Type") or "").split(";")[0].strip().lower()
        if body_type == "json" and ct != "application/json":
            raise KustoError(400, "BadRequest_InvalidContentType",
                             "Content-Type must be application/json, not "
                             "'%s'" % h.get("Content-Type", ""))
        if body_type == "stream" and ct and ct != "application/octet-stream":
            self.warn("unexpected Content-Type '%s' for streaming"
                      % h.get("Content-Type"))

    def log_request_entry(self, body):
        st = self.server.state
        hdrs = []
        for k, v in self.headers.items():
            if k.lower() == "authorization":
                v = v.split(" ")[0] + " <redacted>"
            hdrs.append([k, v])
        ent = {"role": self.server.role, "method": self.command,
               "path": self.path, "headers": hdrs,
               "framing": getattr(self, "framing", ""),
               "body_len": len(body), "time": time.time()}
        ct = (self.headers.get("Content-Type") or "").lower()
        if ct.startswith("application/json") and len(body) < 65536:
            try:
                ent["json"] = json.loads(body)
            except ValueError:
                pass
        elif ct.startswith("application/x-www-form-urlencoded"):
            form = urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                          keep_blank_values=True)
            ent["form"] = [[k, "<redacted>" if k in REDACT_FORM else v]
                           for k, v in form]
        with st.lock:
            st.requests.append(ent)
            if len(st.requests) > 5000:
                del st.requests[:1000]
        return ent

    def handle_one(self):
        self.status = 0
        self.error_code = None
        self.unauth_reason = None
        self.framing = ""
        body = b""
        ent = None
        try:
            body = self.read_body()
            ent = self.log_request_entry(body)
            self.route(body)
        except DropConnection:
            self.close_connection = True
            self.status = -1
        except KustoError as e:
            self.send_kusto_error(e)
        except AadError as e:
            self.send_aad_error(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if ent is not None:
            ent["status"] = self.status
            if self.error_code:
                ent["code"] = self.error_code
            if self.unauth_reason:
                ent["unauthorized"] = self.unauth_reason

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one

    def route(self, body):
        role = self.server.role
        path = urllib.parse.urlsplit(self.path).path
        if role == "aad":
            return self.route_aad(path, body)
        if path.startswith("/_peer/") and role == "engine":
            return self.route_hooks(path, body)
        if path == "/v1/rest/auth/metadata" and self.command == "GET":
            return self.send(200, self.auth_metadata())
        if path == "/v1/rest/mgmt":
            return self.mgmt(body)
        if path == "/v1/rest/query" and role == "engine":
            return self.query(body)
        if path.startswith("/v1/rest/ingest/"):
            return self.streaming(path, body)
        raise KustoError(404, "NotFound", "no such endpoint: %s %s" %
                         (self.command, path),
                         "Kusto.Common.Svc.Exceptions.EndpointNotFound", True)

    def auth_metadata(self):
        st = self.server.state
        return {"AzureAD": {
            "LoginEndpoint": st.urls.get("aad", ""),
            "LoginMfaRequired": False,
            "KustoClientAppId": KUSTO_CLIENT_APP,
            "KustoClientRedirectUri": "https://microsoft/kustoclient",
            "KustoServiceResourceId": KUSTO_RESOURCE,
            "FirstPartyAuthorityUrl": "https://login.microsoftonline.com/"
            "f8cdef31-a31e-4b4a-93e4-5f571e91255a"}, "dSTS": {}}

    def authorize(self):
        why = self.server.state.check_bearer(self.headers.get(
            "Authorization"))
        if why:
            self.send_unauthorized(why)
            return False
        return True

    def parse_json_request(self, body):
        try:
            req = json.loads(body)
        except ValueError:
            raise bad_request("BadRequest_InvalidRequestBody",
                              "the request body is not JSON")
        if not isinstance(req, dict):
            raise bad_request("BadRequest_InvalidRequestBody",
                              "the request body is not a JSON object")
        extra = set(req) - {"db", "csl", "properties"}
        if extra:
            self.warn("unknown request keys %s" % sorted(extra))
        if not isinstance(req.get("csl"), str) or not req["csl"].strip():
            raise bad_request("BadRequest_MissingCsl",
                              "the request has no 'csl' string")
        if not isinstance(req.get("db"), str) or not req["db"]:
            raise bad_request("BadRequest_MissingDatabase",
                              "the request has no 'db' string")
        props = req.get("properties")
        if isinstance(props, str):
            try:
                props = json.loads(props)
            except ValueError:
                raise bad_request("BadRequest_InvalidProperties",
                                  "'properties' is not JSON")
        if props is not None and not isinstance(props, dict):
            raise bad_request("BadRequest_InvalidProperties",
                              "'properties' is not an object")
        return req

    def mgmt(self, body):
        st = self.server.state
        role = self.server.role
        if self.command != "POST":
            raise KustoError(405, "MethodNotAllowed", "mgmt takes POST")
        self.apply_fault("mgmt" if role == "engine" else "dm")
        if not self.authorize():
            return
        self.check_kusto_headers("json")
        req = self.parse_json_request(body)
        csl = req["csl"]
        st.count(role + "_mgmt")
        if role == "dm":
            return self.send(200, self.dm_command(req["db"], csl))
        with st.lock:
            res = run_engine_command(st, req["db"], csl)
        self.send(200, res)

    def dm_command(self, db, csl):
        st = self.server.state
        norm = " ".join(csl.split())
        if st.args.strict and db != "NetDefaultDB":
            self.warn("data management commands use db 'NetDefaultDB'")
        if norm == ".get ingestion resources":
            if not st.dm:
                raise KustoError(500, "InternalServiceError",
                                 "the peer was started without Azurite")
            return st.dm.resources()
        if norm == ".get kusto identity token":
            tok = st.args.identity_token or ("peer-authctx-" +
                                             secrets.token_urlsafe(32))
            with st.lock:
                st.auth_contexts.add(tok)
            return v1([("AuthorizationContext", "string")], [[tok]])
        raise KustoError(400, "BadRequest",
                         "The command '%s' must be sent to the engine "
                         "endpoint, not to data management." % norm,
                         "Kusto.Common.Svc.Exceptions."
                         "AdminCommandWrongEndpointException", True)

    def query(self, body):
        if self.command != "POST":
            raise KustoError(405, "MethodNotAllowed", "query takes POST")
        self.apply_fault("query")
        if not self.authorize():
            return
        self.check_kusto_headers("json")
        req = self.parse_json_request(body)
        if req["csl"].lstrip().startswith("."):
            raise bad_request("BadRequest_SyntaxError",
                              "management commands go to /v1/rest/mgmt")
        self.send(200, run_query(self.server.state, req["db"], req["csl"]))

    def streaming(self, path, body):
        st = self.server.state
        if self.server.role != "engine":
            raise KustoError(400, "BadRequest",
                             "streaming ingestion is served by the engine "
                             "endpoint, not by data management",
                             "Kusto.Common.Svc.Exceptions."
                             "AdminCommandWrongEndpointException", True)
        if self.command != "POST":
            raise KustoError(405, "MethodNotAllowed", "ingest takes POST")
        parts = path.split("/")
        if len(parts) != 6 or not parts[4] or not parts[5]:
            raise KustoError(404, "NotFound", "expected "
                             "/v1/rest/ingest/{database}/{table}")
        db = urllib.parse.unquote(parts[4])
        tn = urllib.parse.unquote(parts[5])
        self.apply_fault("ingest", tn)
        if not self.authorize():
            return
        self.check_kusto_headers("stream")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query,
                                  keep_blank_values=True)
        extra = set(q) - {"streamFormat", "mappingName"}
        if extra:
            self.warn("unknown query parameters %s" % sorted(extra))
        fmt = (q.get("streamFormat") or [""])[0]
        if not fmt:
            raise bad_request("BadRequest_MissingStreamFormat",
                              "streamFormat is required")
        if fmt.lower() not in STREAM_FORMATS:
            raise bad_request("BadRequest_InvalidStreamFormat",
                              "unknown streamFormat '%s'" % fmt)
        fmt = fmt.lower()
        mapping = (q.get("mappingName") or [None])[0]
        if len(body) > STREAM_LIMIT:
            raise KustoError(413, "Stream_InputStreamTooLarge",
                             "the request body has %d bytes; streaming "
                             "ingestion takes at most %d" %
                             (len(body), STREAM_LIMIT),
                             "Kusto.Data.Exceptions.KustoRequestException",
                             True)
        enc = (self.headers.get("Content-Encoding") or "").lower()
        if enc == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error):
                raise bad_request("BadRequest_InvalidCompression",
                                  "Content-Encoding is gzip but the body is "
                                  "not valid gzip")
        elif enc:
            raise bad_request("BadRequest_InvalidCompression",
                              "unsupported Content-Encoding '%s'" % enc)
        with st.lock:
            d = st.db(db)
            t = d.tables.get(tn)
            if not d.streaming and not (t and t.streaming):
                raise KustoError(
                    400, "BadRequest_StreamingIngestionPolicyNotEnabled",
                    "Streaming ingestion policy is not enabled for the "
                    "table '%s' in database '%s'." % (tn, db),
                    "Kusto.DataNode.Exceptions."
                    "StreamingIngestionPolicyNotEnabledException", True)
            if not t:
                raise not_found("Table '%s' was not found in database '%s'."
                                % (tn, db))
        if fmt in JSON_FORMATS + ("avro", "apacheavro") and not mapping \
                and st.args.strict:
            self.warn("streamFormat=%s without mappingName" % fmt)
        n = ingest_records(st, db, tn, fmt, body, mapping)
        st.count("streamed_rows")
        self.send(200, v1([("ConsumedRecordsCount", "long"),
                           ("UpdatePolicyStatus", "string"),
                           ("UpdatePolicyFailureCode", "string"),
                           ("UpdatePolicyFailureReason", "string")],
                          [[n, "Inactive", "Unknown", None]]))

    # -- AAD and IMDS ----------------------------------------------------

    def send_aad_error(self, e):
        if e.status == 400 and e.error.startswith("imds:"):
            self.status = 400
            return self.send(400, {"error": e.error[5:],
                                   "error_description": e.desc})
        tid = str(uuid.uuid4())
        cid = str(uuid.uuid4())
        ts = now_utc().strftime("%Y-%m-%d %H:%M:%SZ")
        self.error_code = e.error
        self.send(e.status, {
            "error": e.error,
            "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: "
            "%s Timestamp: %s" % (e.code, e.desc, tid, cid, ts),
            "error_codes": [e.code], "timestamp": ts, "trace_id": tid,
            "correlation_id": cid,
            "error_uri": "%s/error?code=%d" % (self.server.state.urls["aad"],
                                               e.code)})

    def route_aad(self, path, body):
        st = self.server.state
        if path == "/metadata/identity/oauth2/token":
            return self.imds()
        m = re.fullmatch(r"/([^/]+)/(v2\.0/\.well-known/openid-configuration|"
                         r"oauth2/v2\.0/token|oauth2/v2\.0/devicecode)", path)
        if not m:
            raise AadError(404, "invalid_request", 90000,
                           "No such endpoint %s." % path)
        tenant, what = m.group(1), m.group(2)
        if tenant not in st.args.tenant:
            raise AadError(400, "invalid_tenant", 90002,
                           "Tenant '%s' not found." % tenant)
        base = "%s/%s" % (st.urls["aad"], tenant)
        if what.startswith("v2.0"):
            if self.command != "GET":
                raise AadError(405, "invalid_request", 90000, "GET only.")
            return self.send(200, {
                "token_endpoint": base + "/oauth2/v2.0/token",
                "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                "device_authorization_endpoint": base +
                "/oauth2/v2.0/devicecode",
                "issuer": base + "/v2.0",
                "jwks_uri": base + "/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token",
                                             "code id_token"],
                "scopes_supported": ["openid", "profile", "email",
                                     "offline_access"]})
        if self.command != "POST":
            raise AadError(405, "invalid_request", 900561,
                           "The endpoint only accepts POST requests.")
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct.lower() != "application/x-www-form-urlencoded":
            raise AadError(400, "invalid_request", 900144,
                           "The request body must be "
                           "application/x-www-form-urlencoded.")
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"),
                                           keep_blank_values=True,
                                           strict_parsing=bool(body))
        except (ValueError, UnicodeDecodeError):
            raise AadError(400, "invalid_request", 900144,
                           "The request body is not form-encoded.")
        form = {}
        for k, v in pairs:
            if k in form:
                raise AadError(400, "invalid_request", 90015,
                               "Parameter '%s' appears twice." % k)
            form[k] = v
        if what.endswith("devicecode"):
            self.apply_fault("devicecode")
            return self.devicecode(form)
        self.apply_fault("token")
        return self.token(form)

    def scope_ok(self, scope, parts_allowed=("offline_access", "openid",
                                             "profile")):
        st = self.server.state
        resources = {KUSTO_RESOURCE, st.urls["engine"],
                     st.urls["engine"].replace("http://", "https://")}
        found = False
        for s in scope.split(" "):
            if s in parts_allowed:
                continue
            if s.endswith("/.default") and s[:-9] in resources:
                found = True
                continue
            return False
        return found

    def token(self, form):
        st = self.server.state
        gt = form.get("grant_type")
        if not gt:
            raise AadError(400, "invalid_request", 900144,
                           "The request body must contain the following "
                           "parameter: 'grant_type'.")
        if gt == "client_credentials":
            cid, secret = form.get("client_id"), form.get("client_secret")
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                if secret is not None:
                    raise AadError(401, "invalid_client", 7000218,
                                   "Two client authentication methods.")
                try:
                    u, _, p = base64.b64decode(basic[6:],
                                               validate=True).decode(
                        ).partition(":")
                except (ValueError, UnicodeDecodeError):
                    raise AadError(401, "invalid_client", 7000215,
                                   "Malformed Basic authorization.")
                u = urllib.parse.unquote_plus(u)
                if cid is not None and cid != u:
                    raise AadError(401, "invalid_client", 7000215,
                                   "client_id does not match.")
                cid, secret = u, urllib.parse.unquote_plus(p)
            if not cid:
                raise AadError(400, "invalid_request", 900144,
                               "The request body must contain the "
                               "following parameter: 'client_id'.")
            if cid != st.args.client_id:
                raise AadError(400, "unauthorized_client", 700016,
                               "Application with identifier '%s' was not "
                               "found in the directory." % cid)
            if secret is None:
                raise AadError(401, "invalid_client", 7000218,
                               "The request body must contain the "
                               "following parameter: 'client_assertion' or "
                               "'client_secret'.")
            if not hmac.compare_digest(secret.encode(),
                                       (st.client_secret or "").encode()):
                raise AadError(401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the "
                               "secret being sent in the request is the "
                               "client secret value, not the client secret "
                               "ID, for a secret added to app '%s'." % cid)
            scope = form.get("scope", "")
            if not self.scope_ok(scope, ()):
                raise AadError(400, "invalid_scope", 1002012,
                               "The provided value for scope %s is not "
                               "valid. Client credential flows must have a "
                               "scope value with /.default suffixed to the "
                               "resource identifier." % scope)
            tok, life = st.issue_token("app:" + cid)
            st.count("token_client_credentials")
            return self.send(200, {"token_type": "Bearer",
                                   "expires_in": life,
                                   "ext_expires_in": life,
                                   "access_token": tok})
        if gt == "urn:ietf:params:oauth:grant-type:device_code":
            code = form.get("device_code", "")
            with st.lock:
                dev = st.devices.get(code)
            if not dev or dev["client_id"] != form.get("client_id"):
                raise AadError(400, "invalid_grant", 70000,
                               "The device code is not valid.")
            now = time.time()
            last = dev.get("last_poll")
            dev["last_poll"] = now
            dev["polls"] = dev.get("polls", 0) + 1
            if now > dev["expires"]:
                raise AadError(400, "expired_token", 70020,
                               "The device code has expired.")
            if last is not None and now - last < dev["interval"] - 0.25:
                dev["too_fast"] = dev.get("too_fast", 0) + 1
                raise AadError(400, "slow_down", 70016,
                               "Polling faster than the interval.")
            auto = st.args.device_auto_approve
            if auto and dev["polls"] >= auto and dev["state"] == "pending":
                dev["state"] = "approved"
            if dev["state"] == "pending":
                raise AadError(400, "authorization_pending", 70016,
                               "OAuth 2.0 device flow error. Authorization "
                               "is pending. Continue polling.")
            if dev["state"] == "declined":
                raise AadError(400, "authorization_declined", 70000,
                               "The user declined the sign-in.")
            if dev["state"] == "used":
                raise AadError(400, "invalid_grant", 70000,
                               "The device code was already redeemed.")
            dev["state"] = "used"
            return self.send_user_token(dev["client_id"], dev["scope"])
        if gt == "refresh_token":
            rt = form.get("refresh_token", "")
            with st.lock:
                ent = st.refresh_tokens.get(rt)
            if not ent or ent["client_id"] != form.get("client_id"):
                raise AadError(400, "invalid_grant", 9002313,
                               "Invalid request. Request is malformed or "
                               "invalid.")
            scope = form.get("scope") or ent["scope"]
            if not self.scope_ok(scope):
                raise AadError(400, "invalid_scope", 70011,
                               "The provided scope %s is not valid." % scope)
            st.count("token_refresh")
            return self.send_user_token(ent["client_id"], scope)
        raise AadError(400, "unsupported_grant_type", 70003,
                       "The app requested an unsupported grant type '%s'." %
                       gt)

    def send_user_token(self, client_id, scope):
        st = self.server.state
        tok, life = st.issue_token("user:" + client_id)
        out = {"token_type": "Bearer", "scope": scope, "expires_in": life,
               "ext_expires_in": life, "access_token": tok}
        if "offline_access" in scope.split(" "):
            rt = "peer-refresh." + secrets.token_urlsafe(32)
            with st.lock:
                st.refresh_tokens[rt] = {"client_id": client_id,
                                         "scope": scope}
            out["refresh_token"] = rt
        st.count("token_user")
        self.send(200, out)

    def devicecode(self, form):
        st = self.server.state
        cid = form.get("client_id")
        if cid not in (KUSTO_CLIENT_APP, st.args.client_id):
            raise AadError(400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found "
                           "in the directory." % cid)
        scope = form.get("scope", "")
        if not self.scope_ok(scope):
            raise AadError(400, "invalid_scope", 70011,
                           "The provided scope '%s' is not valid." % scope)
        code = secrets.token_urlsafe(48)
        user = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                       for _ in range(9))
        with st.lock:
            st.devices[code] = {"client_id": cid, "scope": scope,
                                "user_code": user, "state": "pending",
                                "interval": st.args.device_interval,
                                "expires": time.time() +
                                st.args.device_expires}
        uri = "https://microsoft.com/devicelogin"
        self.send(200, {
            "user_code": user, "device_code": code,
            "verification_uri": uri,
            "expires_in": st.args.device_expires,
            "interval": st.args.device_interval,
            "message": "To sign in, use a web browser to open the page %s "
            "and enter the code %s to authenticate." % (uri, user)})

    def imds(self):
        st = self.server.state
        if self.command != "GET":
            raise AadError(400, "imds:invalid_request", 0,
                           "The request method is not supported.")
        if self.headers.get("X-Forwarded-For"):
            raise AadError(400, "imds:invalid_request", 0,
                           "Request is not allowed through a proxy.")
        if self.headers.get("Metadata") != "true":
            raise AadError(400, "imds:invalid_request", 0,
                           "Required metadata header not specified")
        q = dict(urllib.parse.parse_qsl(
            urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
        if q.get("api-version") != "2018-02-01":
            raise AadError(400, "imds:invalid_request", 0,
                           "Required query variable 'api-version' is "
                           "missing or unsupported")
        self.apply_fault("imds")
        res = q.get("resource", "")
        resources = {KUSTO_RESOURCE, st.urls["engine"],
                     st.urls["engine"].replace("http://", "https://")}
        if res.rstrip("/") not in resources:
            raise AadError(400, "imds:invalid_resource", 0,
                           "AADSTS500011: The resource principal named %s "
                           "was not found in the tenant." % res)
        ids = [q[k] for k in ("client_id", "object_id", "msi_res_id")
               if k in q]
        if len(ids) > 1 or (ids and ids[0] != st.args.msi_client_id):
            raise AadError(400, "imds:invalid_request", 0,
                           "Identity not found")
        tok, life = st.issue_token("msi")
        now = int(time.time())
        st.count("token_imds")
        self.send(200, {"access_token": tok,
                        "client_id": st.args.msi_client_id,
                        "expires_in": str(life), "expires_on": str(now + life),
                        "ext_expires_in": str(life), "not_before": str(now),
                        "resource": res, "token_type": "Bearer"})

    # -- test hooks --------------------------------------------------------

    def route_hooks(self, path, body):
        st = self.server.state
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
            self.path).query))
        try:
            arg = json.loads(body) if body else {}
        except ValueError:
            return self.send(400, {"error": "hook body is not JSON"})
        h = path[len("/_peer/"):]
        if h == "state":
            return self.send(200, dump_state(st))
        if h == "rows":
            with st.lock:
                t = st.table(q.get("db", "TestDb"), q.get("table", ""))
                lines = "".join(json.dumps(dict(zip([c[0] for c in t.cols],
                                                    r))) + "\n"
                                for r in t.rows)
            return self.send(200, lines, "application/x-ndjson")
        if h == "requests":
            with st.lock:
                return self.send(200, list(st.requests))
        if h == "clear-log":
            with st.lock:
                st.requests.clear()
                st.warnings.clear()
            return self.send(200, {})
        if h == "fault":
            specs = arg if isinstance(arg, list) else [arg]
            with st.lock:
                st.faults.extend(Fault(s) for s in specs)
            return self.send(200, {"faults": len(st.faults)})
        if h == "clear-faults":
            with st.lock:
                st.faults.clear()
            return self.send(200, {})
        if h == "expire-tokens":
            with st.lock:
                for k, v in list(st.tokens.items()):
                    if v[0] is not None or arg.get("all"):
                        st.tokens[k] = (time.time() - 1, v[1])
            return self.send(200, {})
        if h == "approve-device":
            n = 0
            with st.lock:
                for d in st.devices.values():
                    if d["state"] == "pending" and (
                            not arg.get("user_code") or
                            arg["user_code"] == d["user_code"]):
                        d["state"] = "declined" if arg.get("decline") \
                            else "approved"
                        n += 1
            return self.send(200, {"approved": n})
        if h == "exec":
            with st.lock:
                return self.send(200, run_engine_command(
                    st, arg.get("db", "TestDb"), arg["csl"]))
        if h == "wait":
            want = int(q.get("rows", "1"))
            end = time.time() + float(q.get("timeout", "10"))
            while True:
                with st.lock:
                    d = st.dbs.get(q.get("db", "TestDb"))
                    t = d.tables.get(q.get("table", "")) if d else None
                    n = len(t.rows) if t else 0
                    queued = len(st.queued)
                if n >= want or time.time() > end:
                    return self.send(200 if n >= want else 408,
                                     {"rows": n, "queued": queued})
                time.sleep(0.05)
        if h == "rotate-resources":
            if not st.dm:
                return self.send(400, {"error": "no Azurite"})
            st.dm.rotate(bool(arg.get("delete_old")))
            return self.send(200, {})
        if h == "status-queue":
            if not st.dm:
                return self.send(400, {"error": "no Azurite"})
            which = q.get("queue", "failed")
            name = st.dm.failed if which == "failed" else st.dm.succeeded
            return self.send(200, st.dm.st.peek_all(name))
        raise KustoError(404, "NotFound", "no such hook %s" % h)


def dump_state(st):
    with st.lock:
        dbs = {}
        for dn, d in st.dbs.items():
            dbs[dn] = {"streaming": d.streaming, "tables": {
                tn: {"columns": [list(c) for c in t.cols],
                     "rows": len(t.rows),
                     "mappings": {k: [list(x) for x in v]
                                  for k, v in t.mappings.items()},
                     "mapping_text": dict(t.mapping_text),
                     "streaming": t.streaming,
                     "ingestiontime": t.ingestiontime}
                for tn, t in d.tables.items()}}
        return {"databases": dbs, "warnings": list(st.warnings),
                "counters": dict(st.counters), "queued": list(st.queued),
                "status_posted": list(st.status_posted),
                "ingest_errors": list(st.ingest_errors),
                "faults": [{"target": f.target, "count": f.count,
                            "hits": f.hits} for f in st.faults],
                "devices": [{"user_code": d["user_code"],
                             "state": d["state"],
                             "polls": d.get("polls", 0),
                             "too_fast": d.get("too_fast", 0)}
                            for d in st.devices.values()],
                "urls": dict(st.urls)}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(role, state, port, tls=None):
    srv = Server(("127.0.0.1", port), Handler)
    srv.role = role
    srv.state = state
    scheme = "http"
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    state.urls[role] = "%s://127.0.0.1:%d" % (scheme, srv.server_address[1])
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    return srv, th


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--engine-port", type=int, default=0)
    ap.add_argument("--dm-port", type=int, default=0)
    ap.add_argument("--aad-port", type=int, default=0)
    ap.add_argument("--aad-cert", help="serve AAD/IMDS over TLS: cert PEM")
    ap.add_argument("--aad-key", help="... and its key PEM")
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--database", action="append",
                    help="a database that exists (repeatable; TestDb)")
    ap.add_argument("--tenant", action="append",
                    help="accepted tenant (repeatable)")
    ap.add_argument("--client-id", default="11111111-aaaa-bbbb-cccc-"
                    "000000000001")
    ap.add_argument("--client-secret-env", default="ADX_PEER_CLIENT_SECRET",
                    help="environment variable holding the app secret")
    ap.add_argument("--msi-client-id", default="33333333-0000-0000-0000-"
                    "000000000003")
    ap.add_argument("--accept-token", action="append",
                    help="a fixed bearer token accepted without expiry")
    ap.add_argument("--identity-token",
                    help="the AuthorizationContext to issue (default random)")
    ap.add_argument("--token-lifetime", type=int, default=3599)
    ap.add_argument("--device-interval", type=int, default=1)
    ap.add_argument("--device-expires", type=int, default=900)
    ap.add_argument("--device-auto-approve", type=int, default=0,
                    help="approve a device code after N polls (0: hook)")
    ap.add_argument("--azurite-blob", help="http://127.0.0.1:P/devstoreaccount1")
    ap.add_argument("--azurite-queue")
    ap.add_argument("--containers", type=int, default=2)
    ap.add_argument("--queues", type=int, default=2)
    ap.add_argument("--sas-lifetime", type=int, default=86400)
    ap.add_argument("--lenient", dest="strict", action="store_false",
                    help="record header problems as warnings only")
    ap.add_argument("--no-gzip", action="store_true",
                    help="never gzip responses")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    args.tenant = args.tenant or ["microsoft.com"]
    state = State(args)
    state.client_secret = os.environ.get(args.client_secret_env, "")
    state.dm = None
    servers = []
    for role, port in (("engine", args.engine_port), ("dm", args.dm_port),
                       ("aad", args.aad_port)):
        tls = (args.aad_cert, args.aad_key) if role == "aad" and \
            args.aad_cert else None
        servers.append(serve(role, state, port, tls))
    if args.azurite_blob:
        st = Storage(args.azurite_blob, args.azurite_queue, AZURITE_ACCOUNT,
                     AZURITE_KEY)
        dm = Dm(state, st, args)
        for i in range(50):
            try:
                dm.setup()
                break
            except (OSError, RuntimeError):
                if i == 49:
                    raise
                time.sleep(0.1)
        state.dm = dm
        threading.Thread(target=dm.run, daemon=True).start()
    for srv, th in servers:
        th.start()
    info = dict(state.urls)
    info["pid"] = os.getpid()
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, args.ready_file)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
