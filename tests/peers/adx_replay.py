#!/usr/bin/env python3
# adx_replay.py - check the ADX peer against the official SDKs' requests.
#
# Replays every Kusto, AAD, blob and queue request recorded from the
# official SDKs (../shared/design/azure-recorded/, azure.md section 12)
# against a running adx_peer.py and its Azurite, header for header and
# byte for byte, and checks the peer accepts each one with the recorded
# status and answers with the recorded result columns. Then it sends
# mutated copies (no token, an expired token, wrong endpoint, bad gzip,
# oversize bodies, unknown mapping, no streaming policy...) and checks
# each is rejected with the status and Kusto error body shape the service
# uses. The peer must run with:
#   --accept-token fake-bearer-token-abc
#   --identity-token fake-authorization-context-token
#   --tenant 22222222-0000-0000-0000-000000000002
#   ADX_PEER_CLIENT_SECRET='s3cr3t+/=&'
# usage: adx_replay.py READY_JSON RECORDED_DIR
#
# SPDX-License-Identifier: MIT

import base64
import gzip
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if cond:
        print("ok   " + what)
    else:
        failures += 1
        print("FAIL " + what)


class Rec:
    def __init__(self):
        self.name = self.listener = self.framing = None
        self.method = self.target = None
        self.headers = []
        self.body = b""
        self.status = None
        self.resp_headers = []
        self.resp_body = b""
        self.message_json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def parse_recording(path):
    """The requests of one transcript, in order."""
    recs = []
    text = open(path, encoding="utf-8").read()
    blocks = re.split(r"^=== ", text, flags=re.M)[1:]
    for b in blocks:
        lines = b.split("\n")
        r = Rec()
        m = re.match(r"\[(.*?)\] listener=(\S+) framing=(\S+)", lines[0])
        r.name, r.listener, r.framing = m.groups()
        r.method, r.target, _ = lines[1].split(" ", 2)
        i = 2
        while lines[i] != "":
            k, _, v = lines[i].partition(": ")
            if lines[i].endswith(":") and not v:
                k, v = lines[i][:-1], ""
            r.headers.append((k, v))
            i += 1
        i += 1
        body_lines = []
        while i < len(lines) and not lines[i].startswith("--- "):
            body_lines.append(lines[i])
            i += 1
        body = "\n".join(body_lines)
        gz = re.match(r"<(\d+) bytes gzip; gunzipped \((\d+) bytes\) "
                      r"follows>\n", body)
        if gz:
            raw = body[gz.end():].encode()[:int(gz.group(2))]
            r.body = gzip.compress(raw)
            r.plain = raw
        else:
            raw = body.encode()
            cl = r.header("Content-Length")
            r.body = raw[:int(cl)] if cl is not None else raw.rstrip(b"\n")
            r.plain = r.body
        if i < len(lines) and lines[i].startswith("--- MessageText"):
            i += 1
            js = []
            while i < len(lines) and not lines[i].startswith("--- "):
                js.append(lines[i])
                i += 1
            r.message_json = "\n".join(js)
        if i < len(lines) and lines[i].startswith("--- response"):
            r.status = int(lines[i].split()[2])
            i += 1
            while i < len(lines) and lines[i] != "":
                k, _, v = lines[i].partition(": ")
                r.resp_headers.append((k, v))
                i += 1
            r.resp_body = "\n".join(lines[i + 1:]).strip().encode()
        recs.append(r)
    return recs


def send(url, method, target, headers, body, chunked=False):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.putrequest(method, target, skip_host=True,
                     skip_accept_encoding=True)
        for k, v in headers:
            if k.lower() == "host":
                v = u.netloc
            if k.lower() in ("content-length", "transfer-encoding"):
                continue
            c.putheader(k, v)
        if chunked:
            c.putheader("Transfer-Encoding", "chunked")
            c.endheaders()
            for off in range(0, len(body), 50):
                part = body[off:off + 50]
                c.send(b"%x\r\n%s\r\n" % (len(part), part))
            c.send(b"0\r\n\r\n")
        else:
            if body or method in ("POST", "PUT"):
                c.putheader("Content-Length", str(len(body)))
            c.endheaders()
            if body:
                c.send(body)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if hdrs.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        return r.status, hdrs, data
    finally:
        c.close()


def columns(body):
    try:
        t = json.loads(body)["Tables"][0]
        return [(c["ColumnName"], c["ColumnType"]) for c in t["Columns"]]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def rows(body):
    return json.loads(body)["Tables"][0]["Rows"]


def is_kusto_error(body, code=None):
    try:
        e = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    ok = all(k in e for k in ("code", "message", "@type", "@message",
                              "@context", "@permanent"))
    ok = ok and isinstance(e["@permanent"], bool)
    return ok and (code is None or e["code"] == code)


def kusto_url(ready, rec):
    if rec.target == "/v1/rest/mgmt":
        csl = json.loads(rec.plain)["csl"]
        if csl.startswith(".get "):
            return ready["dm"]
    return ready["engine"]


# Result columns of the recorded responses that came from the recording
# peer's own choice rather than from Kusto documentation: not compared.
UNCOMPARED = (".alter table", ".create-or-alter table")


def replay(ready, recdir):
    st = {"token": None, "resources": {}}
    files = sorted(f for f in os.listdir(recdir) if f.endswith(".txt"))
    for f in files:
        for r in parse_recording(os.path.join(recdir, f)):
            replay_one(ready, f, r, st)
    return st


def subst_auth(headers, st):
    out = []
    for k, v in headers:
        if k.lower() == "authorization" and st["token"] and \
                v.startswith("Bearer ey"):
            v = "Bearer " + st["token"]
        out.append((k, v))
    return out


def replay_one(ready, f, r, st):
    label = "%s %s %s %s" % (f, r.name.split("-")[0], r.method,
                             r.target.split("?")[0])
    if r.listener == "kusto":
        url = kusto_url(ready, r)
        s, h, body = send(url, r.method, r.target, subst_auth(r.headers, st),
                          r.body, r.framing == "chunked")
        check(s == r.status, "%s: status %d (recorded %d)%s" % (
            label, s, r.status, "" if s == r.status else ": " +
            body[:300].decode("utf-8", "replace")))
        if r.target == "/v1/rest/auth/metadata":
            check(json.loads(body)["AzureAD"]["KustoServiceResourceId"] ==
                  "https://kusto.kusto.windows.net", label + ": metadata")
            return
        csl = json.loads(r.plain).get("csl", "") if \
            r.target == "/v1/rest/mgmt" else ""
        if s == 200 and not csl.startswith(UNCOMPARED):
            check(columns(body) == columns(r.resp_body),
                  "%s: result columns %s" % (label, columns(body)))
        if csl == ".get ingestion resources" and s == 200:
            for kind, url in rows(body):
                st["resources"].setdefault(kind, []).append(url)
        if csl == ".get kusto identity token" and s == 200:
            check(rows(body) == [["fake-authorization-context-token"]],
                  label + ": identity token")
        if r.target.startswith("/v1/rest/ingest/") and s == 200:
            check(rows(body)[0][0] == 3, label + ": 3 records consumed")
        return
    if r.listener == "aad":
        s, h, body = send(ready["aad"], r.method, r.target, r.headers, r.body)
        check(s == r.status, "%s: status %d (recorded %d)%s" % (
            label, s, r.status, "" if s == r.status else ": " +
            body[:300].decode("utf-8", "replace")))
        if s == 200 and "token" in r.target:
            tok = json.loads(body)
            check(sorted(tok) == sorted(json.loads(r.resp_body)),
                  label + ": token response keys")
            st["token"] = tok["access_token"]
        return
    if not st["resources"]:
        return  # blobsink's recordings (SharedKey): not the peer's business
    if r.listener == "blobproxy":
        if "-ingestdata-" not in r.target:
            return  # blobsink's SharedKey recordings
        cont = urllib.parse.urlsplit(st["resources"]["TempStorage"][0])
        name = urllib.parse.urlsplit(r.target).path.split("/")[-1]
        q = urllib.parse.urlsplit(r.target).query
        extra = "&".join(p for p in q.split("&")
                         if p.split("=")[0] in ("comp", "blockid"))
        target = "%s/%s?%s%s" % (cont.path, name, cont.query,
                                 "&" + extra if extra else "")
        if "comp=blocklist" in extra:
            st["blob"] = "%s://%s%s/%s?%s" % (cont.scheme, cont.netloc,
                                              cont.path, name, cont.query)
        elif not extra:
            st["blob"] = "%s://%s%s/%s?%s" % (cont.scheme, cont.netloc,
                                              cont.path, name, cont.query)
        s, h, body = send("%s://%s" % (cont.scheme, cont.netloc), r.method,
                          target, r.headers, r.body)
        check(s == r.status, "%s: Azurite status %d via the peer's SAS" %
              (label, s))
        return
    if r.listener == "queueproxy":
        msg = json.loads(r.message_json)
        recorded = json.loads(base64.b64decode(re.search(
            rb"<MessageText>(.*)</MessageText>", r.body).group(1)))
        check(msg == recorded, label + ": transcript decodes consistently")
        msg["BlobPath"] = st["blob"]
        text = base64.b64encode(json.dumps(msg, separators=(",", ":"))
                                .encode()).decode()
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
                "<QueueMessage><MessageText>%s</MessageText></QueueMessage>"
                % text).encode()
        qu = urllib.parse.urlsplit(
            st["resources"]["SecuredReadyForAggregationQueue"][0])
        target = "%s/messages?%s&timeout=30" % (qu.path, qu.query)
        before = peer_rows(ready, "Events")
        s, h, _ = send("%s://%s" % (qu.scheme, qu.netloc), r.method, target,
                       r.headers, body)
        check(s == r.status, "%s: Azurite accepted the message" % label)
        n = wait_rows(ready, "Events", before + 3)
        check(n == before + 3, "%s: the peer ingested the recorded message "
              "(%d -> %d rows)" % (label, before, n))


def hook(ready, path, body=None):
    if body is None:
        s, h, data = send(ready["engine"], "GET", "/_peer/" + path,
                          [("Host", "")], b"")
    else:
        s, h, data = send(ready["engine"], "POST", "/_peer/" + path,
                          [("Host", ""), ("Content-Type", "application/json")],
                          json.dumps(body).encode())
    return s, data


def peer_rows(ready, table):
    s, data = hook(ready, "rows?db=TestDb&table=" + table)
    return len(data.splitlines()) if s == 200 else 0


def wait_rows(ready, table, n):
    s, data = hook(ready, "wait?db=TestDb&table=%s&rows=%d&timeout=15" %
                   (table, n))
    return json.loads(data)["rows"]


MGMT_HEADERS = [
    ("Accept", "application/json"),
    ("Content-Type", "application/json; charset=utf-8"),
    ("x-ms-client-version", "Kusto.JavaScript.Client:{7.0.3}|"
     "Runtime.Node:{v20.20.2}"),
    ("x-ms-app", "replay"),
    ("x-ms-client-request-id",
     "KNC.execute;c878932d-ac10-47c2-b59a-08b4b49d5904"),
    ("Authorization", "Bearer fake-bearer-token-abc"),
    ("Host", ""),
]


def without(headers, name):
    return [(k, v) for k, v in headers if k.lower() != name.lower()]


def replace(headers, name, value):
    return without(headers, name) + [(name, value)]


def mgmt(ready, csl, headers=MGMT_HEADERS, where="engine", db="TestDb"):
    return send(ready[where], "POST", "/v1/rest/mgmt", headers,
                json.dumps({"db": db, "csl": csl}).encode())


def stream(ready, table, body, headers=None, query="streamFormat=json&"
           "mappingName=Events_mapping", where="engine"):
    h = headers or (replace(MGMT_HEADERS, "Content-Type",
                            "application/octet-stream") +
                    [("Content-Encoding", "gzip")])
    return send(ready[where], "POST", "/v1/rest/ingest/TestDb/%s?%s" %
                (table, query), h, body)


def expect_error(label, res, status, code=None):
    s, h, body = res
    ok = s == status
    if status != 401:
        ok = ok and is_kusto_error(body, code)
    check(ok, "%s: %d %s (got %d %s)" % (label, status, code or "", s,
                                         body[:200].decode("utf-8",
                                                           "replace")))


def negatives(ready, st):
    line = b'{"ts":"2026-11-25T10:00:00Z","level":"info","msg":"x","n":1}\n'
    good = gzip.compress(line)
    expect_error("mgmt without Authorization",
                 mgmt(ready, ".show tables", without(MGMT_HEADERS,
                                                     "Authorization")), 401)
    expect_error("mgmt with an unknown token",
                 mgmt(ready, ".show tables", replace(
                     MGMT_HEADERS, "Authorization", "Bearer nope")), 401)
    if st["token"]:
        hook(ready, "expire-tokens", {})
        expect_error("mgmt with an expired token",
                     mgmt(ready, ".show tables", replace(
                         MGMT_HEADERS, "Authorization",
                         "Bearer " + st["token"])), 401)
    expect_error("mgmt with Content-Type text/plain",
                 mgmt(ready, ".show tables", replace(
                     MGMT_HEADERS, "Content-Type", "text/plain")), 400,
                 "BadRequest_InvalidContentType")
    for hname in ("x-ms-client-request-id", "x-ms-app",
                  "x-ms-client-version"):
        expect_error("mgmt without " + hname,
                     mgmt(ready, ".show tables",
                          without(MGMT_HEADERS, hname)), 400,
                     "BadRequest_PeerStrictCheck")
    expect_error("mgmt with Accept text/html",
                 mgmt(ready, ".show tables", replace(
                     MGMT_HEADERS, "Accept", "text/html")), 400,
                 "BadRequest_PeerStrictCheck")
    s, h, body = send(ready["engine"], "POST", "/v1/rest/mgmt", MGMT_HEADERS,
                      b'{"db":"TestDb"}')
    expect_error("mgmt without csl", (s, h, body), 400)
    s, h, body = send(ready["engine"], "POST", "/v1/rest/mgmt", MGMT_HEADERS,
                      b'{"db":"TestDb","csl":".show tables"')
    expect_error("mgmt with truncated JSON", (s, h, body), 400)
    res = mgmt(ready, ".get ingestion resources", db="NetDefaultDB")
    expect_error("ingestion resources on the engine", res, 400)
    check("AdminCommandWrongEndpoint" in res[2].decode(),
          "ingestion resources on the engine: AdminCommandWrongEndpoint")
    expect_error(".show tables on the DM endpoint",
                 mgmt(ready, ".show tables", where="dm"), 400)
    expect_error("unknown command", mgmt(ready, ".frobnicate table Events"),
                 400, "BadRequest_SyntaxError")
    expect_error("bad type", mgmt(ready, ".create table X (a:frob)"), 400,
                 "BadRequest_SyntaxError")
    expect_error("unknown database", mgmt(ready, ".show tables",
                                          db="NoSuchDb"), 400,
                 "BadRequest_EntityNotFound")
    expect_error("type change in .create-merge",
                 mgmt(ready, ".create-merge table Events (n:string)"), 400)
    expect_error("mapping on a missing column", mgmt(
        ready, ".create-or-alter table Events ingestion json mapping 'm2' "
        "'[{\"column\":\"nope\",\"Properties\":{\"Path\":\"$.x\"}}]'"), 400,
        "BadRequest_InvalidMapping")
    expect_error("streaming to the DM endpoint",
                 stream(ready, "Events", good, where="dm"), 400)
    expect_error("streaming without Authorization", stream(
        ready, "Events", good, without(replace(
            MGMT_HEADERS, "Content-Type", "application/octet-stream") +
            [("Content-Encoding", "gzip")], "Authorization")), 401)
    expect_error("streaming with bad gzip",
                 stream(ready, "Events", b"\x1f\x8bnot gzip at all"), 400,
                 "BadRequest_InvalidCompression")
    expect_error("streaming without streamFormat",
                 stream(ready, "Events", good, query="mappingName=Events_"
                        "mapping"), 400)
    expect_error("streaming with an unknown format",
                 stream(ready, "Events", good, query="streamFormat=xml&"
                        "mappingName=Events_mapping"), 400)
    big = os.urandom(4 * 1024 * 1024 + 1)
    expect_error("streaming over 4 MiB",
                 stream(ready, "Events", big), 413,
                 "Stream_InputStreamTooLarge")
    expect_error("streaming with an unknown mapping",
                 stream(ready, "Events", good, query="streamFormat=json&"
                        "mappingName=nope"), 400,
                 "BadRequest_MappingReferenceWasNotFound")
    expect_error("streaming a line that is not an object",
                 stream(ready, "Events", gzip.compress(b"[1,2]\n")), 400)
    expect_error("streaming half an object",
                 stream(ready, "Events", gzip.compress(b'{"a":\n1}\n')), 400)
    mgmt(ready, ".create table NoPolicy (a:string)")
    mgmt(ready, ".create table NoPolicy ingestion json mapping 'm' "
         "'[{\"column\":\"a\",\"Properties\":{\"Path\":\"$.a\"}}]'")
    expect_error("streaming without the streaming policy",
                 stream(ready, "NoPolicy", good, query="streamFormat=json&"
                        "mappingName=m"), 400,
                 "BadRequest_StreamingIngestionPolicyNotEnabled")
    aad_negatives(ready)
    queued_negatives(ready, st)


def form(ready, tenant, fields, headers=()):
    body = urllib.parse.urlencode(fields).encode()
    return send(ready["aad"], "POST", "/%s/oauth2/v2.0/token" % tenant,
                [("Host", ""), ("Content-Type",
                                "application/x-www-form-urlencoded;"
                                "charset=utf-8")] + list(headers), body)


def expect_aad(label, res, status, error):
    s, h, body = res
    try:
        e = json.loads(body)
        ok = e.get("error") == error and "error_description" in e
    except ValueError:
        ok = False
    check(s == status and ok, "%s: %d %s (got %d %s)" % (
        label, status, error, s, body[:160].decode("utf-8", "replace")))


def aad_negatives(ready):
    t = "22222222-0000-0000-0000-000000000002"
    base = {"client_id": "11111111-aaaa-bbbb-cccc-000000000001",
            "scope": "https://kusto.kusto.windows.net/.default",
            "grant_type": "client_credentials",
            "client_secret": "s3cr3t+/=&"}
    s, h, body = form(ready, t, base)
    check(s == 200, "client credentials from the recorded values")
    expect_aad("wrong secret", form(ready, t, dict(base,
                                                   client_secret="x")),
               401, "invalid_client")
    expect_aad("unknown client", form(ready, t, dict(base, client_id="x")),
               400, "unauthorized_client")
    expect_aad("unknown tenant", form(ready, "other.example", base), 400,
               "invalid_tenant")
    expect_aad("scope without /.default", form(ready, t, dict(
        base, scope="https://kusto.kusto.windows.net")), 400,
        "invalid_scope")
    b = dict(base)
    del b["client_secret"]
    basic = base64.b64encode(b"11111111-aaaa-bbbb-cccc-000000000001:" +
                             urllib.parse.quote_plus("s3cr3t+/=&").encode())
    s, h, body = form(ready, t, b, [("Authorization",
                                     "Basic " + basic.decode())])
    check(s == 200, "client credentials with HTTP Basic")
    expect_aad("unsupported grant", form(ready, t, dict(base,
                                                        grant_type="pw")),
               400, "unsupported_grant_type")
    imds = "/metadata/identity/oauth2/token?api-version=2018-02-01&" \
        "resource=https%3A%2F%2Fkusto.kusto.windows.net"
    s, h, body = send(ready["aad"], "GET", imds, [("Host", ""),
                                                 ("Metadata", "true")], b"")
    check(s == 200 and isinstance(json.loads(body)["expires_in"], str),
          "IMDS token (expires_in a string)")
    s, h, body = send(ready["aad"], "GET", imds, [("Host", "")], b"")
    check(s == 400, "IMDS without Metadata: true")
    s, h, body = send(ready["aad"], "GET", imds.replace("2018-02-01", "x"),
                      [("Host", ""), ("Metadata", "true")], b"")
    check(s == 400, "IMDS with a bad api-version")


def queued_negatives(ready, st):
    res = st["resources"]
    if not res:
        return
    cont = urllib.parse.urlsplit(res["TempStorage"][0])
    qu = urllib.parse.urlsplit(res["SecuredReadyForAggregationQueue"][0])
    name = "TestDb__Events__neg.json.gz"
    data = gzip.compress(b'{"ts":"2026-11-25T10:00:00Z","n":1}\n')
    s, h, _ = send("%s://%s" % (cont.scheme, cont.netloc), "PUT",
                   "%s/%s?%s" % (cont.path, name, cont.query),
                   [("Host", ""), ("x-ms-blob-type", "BlockBlob"),
                    ("x-ms-version", "2021-12-02")], data)
    check(s == 201, "blob upload with the peer's SAS")
    blob = "%s://%s%s/%s?%s" % (cont.scheme, cont.netloc, cont.path, name,
                                cont.query)
    base = {"Id": "fc3c9d58-04b1-4570-a857-64a661f8c757", "BlobPath": blob,
            "RawDataSize": 36, "DatabaseName": "TestDb",
            "TableName": "Events", "RetainBlobOnSuccess": True,
            "FlushImmediately": False, "IgnoreSizeLimit": False,
            "ReportLevel": 0, "ReportMethod": 0,
            "SourceMessageCreationTime": "2026-11-25T16:45:47.254Z",
            "AdditionalProperties": {
                "authorizationContext": "fake-authorization-context-token",
                "ingestionMappingReference": "Events_mapping",
                "format": "json"}}
    cases = [
        ("an authorizationContext the DM did not issue",
         {"AdditionalProperties": dict(base["AdditionalProperties"],
                                       authorizationContext="forged")},
         "Unauthorized"),
        ("RetainBlobOnSuccess as a string",
         {"RetainBlobOnSuccess": "true"}, "BadRequest_InvalidMessage"),
        ("an Id that is not a GUID", {"Id": "x"},
         "BadRequest_InvalidMessage"),
        ("a wrong RawDataSize", {"RawDataSize": 999},
         "BadRequest_RawDataSizeMismatch"),
        ("an unknown mapping", {"AdditionalProperties": dict(
            base["AdditionalProperties"],
            ingestionMappingReference="nope")},
         "BadRequest_MappingReferenceWasNotFound"),
        ("a blob outside the temp containers",
         {"BlobPath": blob.replace(cont.path, "/devstoreaccount1/other")},
         "Download_SourceNotFound"),
        ("an unknown key", {"Extra": 1}, "BadRequest_InvalidMessage"),
    ]
    for label, change, code in cases:
        msg = dict(base, **change)
        s, b = hook(ready, "state")
        before = len(json.loads(b)["ingest_errors"])
        text = base64.b64encode(json.dumps(msg).encode()).decode()
        send("%s://%s" % (qu.scheme, qu.netloc), "POST",
             "%s/messages?%s" % (qu.path, qu.query),
             [("Host", ""), ("Content-Type", "application/xml")],
             ("<QueueMessage><MessageText>%s</MessageText></QueueMessage>" %
              text).encode())
        errs = []
        for _ in range(200):
            s, b = hook(ready, "state")
            errs = json.loads(b)["ingest_errors"]
            if len(errs) > before:
                break
            time.sleep(0.05)
        got = errs[before]["code"] if len(errs) > before else None
        check(got == code, "queued message with %s: %s (got %s)" %
              (label, code, got))
    s, b = hook(ready, "status-queue?queue=failed")
    check(s == 200 and len(json.loads(b)) >= 1,
          "failures reported on the failed-ingestions queue")


def main():
    ready = json.load(open(sys.argv[1]))
    st = replay(ready, sys.argv[2])
    check(peer_rows(ready, "Events") == 9,
          "9 rows ingested from the recorded streaming and queued requests")
    s, b = hook(ready, "rows?db=TestDb&table=Events")
    first = json.loads(b.splitlines()[0])
    check(first == {"ts": "2026-11-25T10:00:00.0000000Z", "level": "info",
                    "msg": "one", "n": 1}, "values read back: %s" % first)
    s, b = hook(ready, "state")
    warnings = json.loads(b)["warnings"]
    check(not warnings, "the recorded requests raise no strict warnings %s"
          % warnings)
    s, h, body = send(ready["engine"], "POST", "/v1/rest/query", MGMT_HEADERS,
                      b'{"db":"TestDb","csl":"Events | count"}')
    check(s == 200 and rows(body) == [[9]], "row count query: Events | count")
    s, h, body = send(ready["engine"], "POST", "/v1/rest/query", MGMT_HEADERS,
                      b'{"db":"TestDb","csl":"Events | take 2"}')
    check(s == 200 and len(rows(body)) == 2 and
          columns(body)[0] == ("ts", "datetime"), "query: Events | take 2")
    negatives(ready, st)
    print("%d checks, %d failed" % (checks, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
