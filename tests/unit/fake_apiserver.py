#!/usr/bin/env python3
"""A fake Kubernetes API server for the watch client's tests (stdlib only).

Serves, over TLS, the three resources kipvs watches: LIST with limit/continue
pagination and label/field selectors, WATCH from a resourceVersion with
bookmarks, 410 Gone after compaction, and the discovery documents kubectl
needs. Faults are injected by commands, one JSON object a line on stdin; each
command is answered by one JSON line on stdout (the first line announces the
port):
  {"op": "put", "resource": "services", "object": {...}}   ADDED or MODIFIED
  {"op": "delete", "resource": "services", "key": "ns/name"}
  {"op": "compact"}           history before now is gone; open watches get 410
  {"op": "gone_as_status", "on": true}  410 as HTTP status instead of an ERROR event
  {"op": "disconnect"}        drop every open watch without ending it
  {"op": "end_watches"}       end every open watch cleanly (as its timeout would)
  {"op": "stall"}             open watches go silent (no events, no bookmarks)
  {"op": "malformed"}         the next watch event is sent as a broken line
  {"op": "split", "on": true} events are cut into 1-7 byte chunks
  {"op": "list_status", "codes": [500, 429]}  the next LISTs answer these
  {"op": "bookmarks", "seconds": 0.2}
  {"op": "generate", "services": N, "slices": M, "endpoints": K}  bulk objects for benches
  {"op": "auth", "token": "t", "forbid": false}  require this bearer token (401), or refuse all (403)
  {"op": "stats"}             request counters
Usage: fake_apiserver.py CERT KEY [CLIENT_CA]
"""
import base64
import json
import random
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESOURCES = {
    "/api/v1/services": ("services", "ServiceList", "v1", "Service", True),
    "/apis/discovery.k8s.io/v1/endpointslices": ("endpointslices", "EndpointSliceList", "discovery.k8s.io/v1",
                                                 "EndpointSlice", True),
    "/api/v1/nodes": ("nodes", "NodeList", "v1", "Node", False),
}


class State:
    def __init__(self):
        self.lock = threading.Condition()
        self.rv = 100
        self.objects = {r[0]: {} for r in RESOURCES.values()}
        self.log = []  # (rv, resource, type, object)
        self.compacted = 0
        self.gone_as_status = False
        self.stall = False
        self.malformed = 0
        self.split = False
        self.list_codes = []
        self.bookmark_seconds = 0.5
        self.generation = 0      # bumped to end open watches cleanly
        self.kill_generation = 0  # bumped to drop them abruptly
        self.token = ""
        self.forbid = False
        self.stats = {"list": {}, "watch": {}, "other": 0, "list_errors": 0}


S = State()


def key_of(obj):
    m = obj.get("metadata", {})
    return (m.get("namespace", "") + "/" if m.get("namespace") else "") + m.get("name", "")


def matches(obj, label_selector, field_selector):
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, label_selector.split(",")):
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k) != v:
                return False
        elif term not in labels:
            return False
    for term in filter(None, field_selector.split(",")):
        k, v = term.split("=", 1)
        if k == "metadata.name" and obj.get("metadata", {}).get("name") != v:
            return False
    return True


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        with S.lock:
            token, forbid = S.token, S.forbid
        if token and self.headers.get("Authorization") != "Bearer " + token:
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        if forbid:
            return self.send_json(403, status(403, "Forbidden", 'services is forbidden: User "system:anonymous" '
                                                 'cannot list resource "services" in API group "" at the cluster scope'))
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path in RESOURCES:
            if q.get("watch") in ("1", "true"):
                return self.watch(url.path, q)
            return self.list(url.path, q)
        with S.lock:
            S.stats["other"] += 1
        return self.discovery(url.path)

    def discovery(self, path):
        def resource(name, kind, namespaced, short=None):
            r = {"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                 "verbs": ["get", "list", "watch"]}
            if short:
                r["shortNames"] = short
            return r
        if path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                        "serverAddress": "127.0.0.1"}]})
        if path == "/apis":
            gv = {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": "discovery.k8s.io", "versions": [gv], "preferredVersion": gv}]})
        if path == "/api/v1":
            return self.send_json(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                resource("services", "Service", True, ["svc"]), resource("nodes", "Node", False, ["no"])]})
        if path == "/apis/discovery.k8s.io/v1":
            return self.send_json(200, {"kind": "APIResourceList", "groupVersion": "discovery.k8s.io/v1",
                                        "resources": [resource("endpointslices", "EndpointSlice", True)]})
        if path == "/version":
            return self.send_json(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"})
        return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))

    def list(self, path, q):
        resource, list_kind, api_version, kind, _ = RESOURCES[path]
        with S.lock:
            S.stats["list"][resource] = S.stats["list"].get(resource, 0) + 1
            if S.list_codes:
                code = S.list_codes.pop(0)
                S.stats["list_errors"] += 1
                extra = {"Retry-After": "1"} if code == 429 else None
                return self.send_json(code, status(code, "Injected", "injected %d" % code), extra)
            limit = int(q.get("limit", "0") or 0)
            cont = q.get("continue", "")
            if cont:
                rv, offset = base64.b64decode(cont).decode().split(":")
                rv, offset = int(rv), int(offset)
                if rv < S.compacted:
                    return self.send_json(410, status(410, "Expired", "The provided continue parameter is too old"))
                # A real server lists from a snapshot at rv; the fake lists now (tests do not race pages).
            else:
                rv, offset = S.rv, 0
            items = sorted((k, o) for k, o in S.objects[resource].items()
                           if matches(o, q.get("labelSelector", ""), q.get("fieldSelector", "")))
            page = items[offset:offset + limit] if limit else items[offset:]
            more = limit and offset + limit < len(items)
            meta = {"resourceVersion": str(rv)}
            if more:
                meta["continue"] = base64.b64encode(("%d:%d" % (rv, offset + limit)).encode()).decode()
            body = {"kind": list_kind, "apiVersion": api_version, "metadata": meta,
                    "items": [dict(o, kind=kind, apiVersion=api_version) for _, o in page]}
        return self.send_json(200, body)

    def chunk(self, data):
        pieces = [data]
        if S.split:
            pieces, i = [], 0
            while i < len(data):
                n = random.randint(1, 7)
                pieces.append(data[i:i + n])
                i += n
        for p in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(p), p))
            self.wfile.flush()

    def watch(self, path, q):
        resource, _, api_version, kind, _ = RESOURCES[path]
        label_sel, field_sel = q.get("labelSelector", ""), q.get("fieldSelector", "")
        bookmarks = q.get("allowWatchBookmarks") == "true"
        timeout = float(q.get("timeoutSeconds", "1800"))
        with S.lock:
            S.stats["watch"][resource] = S.stats["watch"].get(resource, 0) + 1
            since = int(q.get("resourceVersion") or S.rv)
            gone = since < S.compacted
            if gone and S.gone_as_status:
                return self.send_json(410, status(410, "Expired", "too old resource version: %d (%d)" %
                                                  (since, S.compacted)))
            generation, kill = S.generation, S.kill_generation
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

        def event(typ, obj):
            self.chunk(json.dumps({"type": typ, "object": obj}).encode() + b"\n")

        if gone:
            event("ERROR", status(410, "Expired", "too old resource version: %d (%d)" % (since, S.compacted)))
            self.wfile.write(b"0\r\n\r\n")
            return
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + S.bookmark_seconds
        sent = since
        try:
            while True:
                with S.lock:
                    while True:
                        now = time.monotonic()
                        if S.kill_generation != kill:
                            self.connection.shutdown(socket.SHUT_RDWR)
                            self.close_connection = True
                            return
                        if S.generation != generation or now >= deadline:
                            break
                        if S.compacted > sent:
                            break
                        pending = [e for e in S.log if e[0] > sent and e[1] == resource]
                        if pending and not S.stall:
                            break
                        if bookmarks and not S.stall and now >= next_bookmark:
                            break
                        S.lock.wait(0.05)
                    if S.generation != generation or time.monotonic() >= deadline:
                        break
                    if S.compacted > sent:
                        event("ERROR", status(410, "Expired", "too old resource version: %d (%d)" %
                                              (sent, S.compacted)))
                        break
                    pending = [e for e in S.log if e[0] > sent and e[1] == resource]
                    malformed = S.malformed > 0 and bool(pending)
                    if malformed:
                        S.malformed -= 1
                    rv_now = S.rv
                for rv, _, typ, obj in pending:
                    sent = rv
                    if malformed:
                        self.chunk(b'{"type": "ADDED", "object": {"metadata": \n')
                        malformed = False
                        continue
                    if matches(obj, label_sel, field_sel):
                        event(typ, dict(obj, kind=kind, apiVersion=api_version))
                if not pending and bookmarks and time.monotonic() >= next_bookmark:
                    event("BOOKMARK", {"kind": kind, "apiVersion": api_version,
                                       "metadata": {"resourceVersion": str(rv_now)}})
                    sent = max(sent, rv_now)
                    next_bookmark = time.monotonic() + S.bookmark_seconds
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients dropping connections is what the tests do on purpose


def command(line):
    c = json.loads(line)
    op = c["op"]
    with S.lock:
        if op == "put":
            obj = c["object"]
            res = c["resource"]
            k = key_of(obj)
            typ = "MODIFIED" if k in S.objects[res] else "ADDED"
            S.rv += 1
            obj.setdefault("metadata", {})["resourceVersion"] = str(S.rv)
            S.objects[res][k] = obj
            S.log.append((S.rv, res, typ, obj))
        elif op == "delete":
            res = c["resource"]
            obj = S.objects[res].pop(c["key"], None)
            if obj is not None:
                S.rv += 1
                obj = dict(obj, metadata=dict(obj["metadata"], resourceVersion=str(S.rv)))
                S.log.append((S.rv, res, "DELETED", obj))
        elif op == "compact":
            S.compacted = S.rv + 1
            S.rv += 1
            S.log = []
        elif op == "gone_as_status":
            S.gone_as_status = c["on"]
        elif op == "disconnect":
            S.kill_generation += 1
        elif op == "end_watches":
            S.generation += 1
        elif op == "stall":
            S.stall = c.get("on", True)
        elif op == "malformed":
            S.malformed += 1
        elif op == "split":
            S.split = c["on"]
        elif op == "list_status":
            S.list_codes = list(c["codes"])
        elif op == "bookmarks":
            S.bookmark_seconds = c["seconds"]
        elif op == "generate":
            for i in range(c["services"]):
                S.rv += 1
                name = "svc-%d" % i
                S.objects["services"]["bench/" + name] = {
                    "metadata": {"name": name, "namespace": "bench", "resourceVersion": str(S.rv),
                                 "uid": "%08d-aaaa-bbbb-cccc-dddddddddddd" % i,
                                 "labels": {"app": name, "app.kubernetes.io/part-of": "bench"}},
                    "spec": {"type": "ClusterIP", "clusterIP": "10.%d.%d.%d" % (96 + i // 65536, i // 256 % 256, i % 256),
                             "clusterIPs": ["10.%d.%d.%d" % (96 + i // 65536, i // 256 % 256, i % 256)],
                             "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                             "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080}],
                             "selector": {"app": name}, "sessionAffinity": "None",
                             "internalTrafficPolicy": "Cluster"}}
            for j in range(c["slices"]):
                S.rv += 1
                svc = "svc-%d" % (j % max(1, c["services"]))
                name = "%s-%05d" % (svc, j)
                S.objects["endpointslices"]["bench/" + name] = {
                    "metadata": {"name": name, "namespace": "bench", "resourceVersion": str(S.rv),
                                 "labels": {"kubernetes.io/service-name": svc,
                                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
                    "addressType": "IPv4",
                    "ports": [{"name": "http", "protocol": "TCP", "port": 8080}],
                    "endpoints": [{"addresses": ["10.%d.%d.%d" % (128 + (j * c["endpoints"] + k) // 65536,
                                                                  (j * c["endpoints"] + k) // 256 % 256,
                                                                  (j * c["endpoints"] + k) % 256)],
                                   "conditions": {"ready": True, "serving": True, "terminating": False},
                                   "nodeName": "node-%d" % (k % 50), "zone": "zone-%d" % (k % 3),
                                   "targetRef": {"kind": "Pod", "namespace": "bench", "name": "%s-pod-%d" % (svc, k)}}
                                  for k in range(c["endpoints"])]}
        elif op == "auth":
            S.token = c.get("token", "")
            S.forbid = c.get("forbid", False)
        elif op == "stats":
            print(json.dumps(dict(S.stats, rv=S.rv)), flush=True)
            return
        S.lock.notify_all()
    print(json.dumps({"ok": op}), flush=True)


def main():
    cert, key = sys.argv[1], sys.argv[2]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if len(sys.argv) > 3:
        ctx.load_verify_locations(sys.argv[3])
        ctx.verify_mode = ssl.CERT_OPTIONAL
    host = "127.0.0.1"
    server = Server((host, 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    for line in sys.stdin:
        if line.strip():
            try:
                command(line)
            except Exception as e:  # a broken command must not kill the server mid-test
                print(json.dumps({"error": str(e)}), flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
