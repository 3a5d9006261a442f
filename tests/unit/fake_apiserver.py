#!/usr/bin/env python3
"""A fake Kubernetes API server for the watch client's tests (stdlib only).

Serves, over TLS, the three resources kipvs watches: LIST with limit/continue
pagination and label/field selectors, WATCH from a resourceVersion with
bookmarks, 410 Gone after compaction; for the real kubectl, the discovery
documents, namespaced and single-object reads, and the server-side Tables
`kubectl get` prints. Faults are injected by commands, one JSON object a line
on stdin; each command is answered by one JSON line on stdout (the first line
announces the port):
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
  {"op": "list_delay", "seconds": 1}  LISTs wait this long before answering
  {"op": "expire_continue"}   the next LIST with a continue token gets 410 Expired
  {"op": "bookmarks", "seconds": 0.2}
  {"op": "generate", "services": N, "slices": M, "endpoints": K}  bulk objects for benches
  {"op": "auth", "token": "t", "forbid": false}  require this bearer token (401), or refuse all (403)
  {"op": "tls_stall", "on": true}  accept TCP but answer no TLS handshake until turned off
  {"op": "stats"}             request counters, and the last request's SNI, User-Agent and Accept
  {"op": "events"}            the Events POSTed so far (events.k8s.io/v1, validated as the API server does)
  {"op": "event_status", "codes": [503]}  the next Event POSTs answer these
Usage: fake_apiserver.py CERT KEY [CLIENT_CA]
With CLIENT_CA the server requires a client certificate that CA signed (mutual TLS).
"""
import base64
import datetime
import json
import random
import re
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
        self.tls_stall = False
        self.list_delay = 0
        self.expire_continue = 0
        self.events = []        # Events POSTed and accepted, in order
        self.event_codes = []   # injected answers to the next Event POSTs
        self.stats = {"list": {}, "watch": {}, "other": 0, "list_errors": 0, "connections": 0,
                      "handshake_failures": 0, "sni": None, "user_agent": None, "accept": None}


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


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def age(obj):
    """kubectl's AGE column (apimachinery's HumanDuration), as the server prints it."""
    created = obj.get("metadata", {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    s = int((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())
    m, h, d = s // 60, s // 3600, s // 86400
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    if m < 10:
        return "%dm%ds" % (m, s % 60)
    if m < 180:
        return "%dm" % m
    if h < 8:
        return "%dh%dm" % (h, m % 60)
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd%dh" % (d, h % 24)
    if d < 365 * 2:
        return "%dd" % d
    return "%dy%dd" % (d // 365, d % 365) if d < 365 * 8 else "%dy" % (d // 365)


def service_cells(o):
    spec, st = o.get("spec", {}), o.get("status", {})
    typ = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if typ == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in (st.get("loadBalancer") or {}).get("ingress") or []]
        external = ingress + external or ["<pending>"]
    elif typ == "ExternalName":
        external = [spec.get("externalName", "")]
    ports = ",".join("%d%s/%s" % (p.get("port", 0), ":%d" % p["nodePort"] if p.get("nodePort") else "",
                                  p.get("protocol", "TCP")) for p in spec.get("ports") or [])
    selector = ",".join("%s=%s" % kv for kv in sorted((spec.get("selector") or {}).items()))
    return [typ, spec.get("clusterIP") or "<none>", ",".join(external) or "<none>", ports or "<none>", age(o),
            selector or "<none>"]


def slice_cells(o):
    ports = ",".join(str(p["port"]) if "port" in p else "<unset>" for p in o.get("ports") or []) or "<unset>"
    addrs = [a for e in o.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addrs[:3]) + (" + %d more..." % (len(addrs) - 3) if len(addrs) > 3 else "")
    return [o.get("addressType", ""), ports, shown or "<unset>", age(o)]


def node_cells(o):
    ready = [c.get("status") for c in (o.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]
    state = {"True": "Ready", "False": "NotReady"}.get(ready[0] if ready else "", "Unknown")
    return [state, "<none>", age(o), ((o.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")]


def column(name, priority=0, fmt=""):
    return {"name": name, "type": "string", "format": fmt, "description": name, "priority": priority}


# resource → (columns after Name, cells of one object)
TABLES = {
    "services": ([column("Type"), column("Cluster-IP"), column("External-IP"), column("Port(s)"), column("Age"),
                  column("Selector", 1)], service_cells),
    "endpointslices": ([column("AddressType"), column("Ports"), column("Endpoints"), column("Age")], slice_cells),
    "nodes": ([column("Status"), column("Roles"), column("Age"), column("Version")], node_cells),
}


def table(resource, objects, meta):
    """A meta.k8s.io/v1 Table: what kubectl asks for and prints as it comes."""
    columns, cells = TABLES[resource]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": [column("Name", 0, "name")] + columns,
            "rows": [{"cells": [o["metadata"].get("name", "")] + cells(o),
                      "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": o["metadata"]}} for o in objects]}


def route(path):
    """(collection path, namespace, name) of a resource URL, or None:
    /api/v1/services, /api/v1/namespaces/NS/services[/NAME], /api/v1/nodes[/NAME]."""
    for base, (resource, _, _, _, namespaced) in RESOURCES.items():
        prefix = base[:-len(resource)]
        if path == base:
            return base, "", ""
        rest = path[len(prefix):].split("/") if path.startswith(prefix) else []
        if namespaced and len(rest) in (3, 4) and rest[0] == "namespaces" and rest[2] == resource:
            return base, rest[1], rest[3] if len(rest) == 4 else ""
        if not namespaced and len(rest) == 2 and rest[0] == resource:
            return base, "", rest[1]
    return None


def in_namespace(obj, namespace):
    return not namespace or obj.get("metadata", {}).get("namespace") == namespace


EVENTS_PATH = re.compile(r"^/apis/events\.k8s\.io/v1/namespaces/([^/]+)/events$")
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
QUALIFIED_NAME = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def event_problems(ev, namespace):
    """What the API server's events.k8s.io/v1 validation would refuse."""
    problems = []
    meta = ev.get("metadata") or {}
    if ev.get("apiVersion") != "events.k8s.io/v1" or ev.get("kind") != "Event":
        problems.append("apiVersion/kind: want events.k8s.io/v1 Event")
    if not meta.get("name"):
        problems.append("metadata.name: Required value")
    if meta.get("namespace", namespace) != namespace:
        problems.append("metadata.namespace: does not match the request's namespace")
    if not MICRO_TIME.match(ev.get("eventTime") or ""):
        problems.append("eventTime: Required value (RFC 3339 with microseconds)")
    for field in ("reportingController", "reportingInstance", "action", "reason"):
        value = ev.get(field) or ""
        if not value or len(value) > 128:
            problems.append("%s: Required value, at most 128 characters" % field)
    if not QUALIFIED_NAME.match(ev.get("reportingController") or ""):
        problems.append("reportingController: not a qualified name")
    if ev.get("type") not in ("Normal", "Warning"):
        problems.append("type: Unsupported value: %r" % ev.get("type"))
    if len((ev.get("note") or "").encode()) > 1024:
        problems.append("note: Too long: must have at most 1024 bytes")
    regarding = ev.get("regarding") or {}
    if not regarding.get("kind") or not regarding.get("name"):
        problems.append("regarding: kind and name are required")
    elif (regarding.get("namespace") or "default") != namespace:
        # An event lives in its object's namespace; one about a cluster-scoped object, in default.
        problems.append("regarding.namespace: does not match the event's namespace")
    return problems


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

    def wants_table(self):
        return "as=Table" in self.headers.get("Accept", "")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        with S.lock:
            token, forbid = S.token, S.forbid
            S.stats["user_agent"] = self.headers.get("User-Agent")
            S.stats["accept"] = self.headers.get("Accept")
        if token and self.headers.get("Authorization") != "Bearer " + token:
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        if forbid:
            return self.send_json(403, status(403, "Forbidden", 'services is forbidden: User "system:anonymous" '
                                                 'cannot list resource "services" in API group "" at the cluster scope'))
        q = dict(urllib.parse.parse_qsl(url.query))
        found = route(url.path)
        if found:
            path, namespace, name = found
            if name:
                return self.get_one(path, namespace, name)
            if q.get("watch") in ("1", "true"):
                return self.watch(path, namespace, q)
            return self.list(path, namespace, q)
        with S.lock:
            S.stats["other"] += 1
        return self.discovery(url.path)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        with S.lock:
            token, forbid = S.token, S.forbid
            S.stats["user_agent"] = self.headers.get("User-Agent")
        if token and self.headers.get("Authorization") != "Bearer " + token:
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        if forbid:
            return self.send_json(403, status(403, "Forbidden", 'events.events.k8s.io is forbidden: User '
                                                 '"system:anonymous" cannot create resource "events"'))
        m = EVENTS_PATH.match(url.path)
        if not m:
            return self.send_json(405, status(405, "MethodNotAllowed", "the server does not allow this method"))
        namespace = m.group(1)
        if self.headers.get("Content-Type") != "application/json":
            return self.send_json(415, status(415, "UnsupportedMediaType", "want application/json"))
        try:
            ev = json.loads(data)
        except ValueError as e:
            return self.send_json(400, status(400, "BadRequest", "malformed JSON: %s" % e))
        with S.lock:
            if S.event_codes:
                code = S.event_codes.pop(0)
                return self.send_json(code, status(code, "Injected", "injected %d" % code))
            problems = event_problems(ev, namespace) if isinstance(ev, dict) else ["not an object"]
            if problems:
                return self.send_json(422, status(422, "Invalid", "Event is invalid: " + "; ".join(problems)))
            name = ev["metadata"]["name"]
            if any(e["metadata"]["name"] == name and e["metadata"]["namespace"] == namespace for e in S.events):
                return self.send_json(409, status(409, "AlreadyExists", 'events "%s" already exists' % name))
            S.rv += 1
            ev["metadata"] = dict(ev["metadata"], namespace=namespace, resourceVersion=str(S.rv),
                                  uid="%08x-0000-4000-9000-%012x" % (S.rv, S.rv), creationTimestamp=now_rfc3339())
            S.events.append(ev)
        return self.send_json(201, ev)

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

    def get_one(self, path, namespace, name):
        resource, _, api_version, kind, _ = RESOURCES[path]
        with S.lock:
            obj = S.objects[resource].get(namespace + "/" + name if namespace else name)
            if obj is None:
                return self.send_json(404, status(404, "NotFound", '%s "%s" not found' % (resource, name)))
            if self.wants_table():
                return self.send_json(200, table(resource, [obj], {"resourceVersion": str(S.rv)}))
            return self.send_json(200, dict(obj, kind=kind, apiVersion=api_version))

    def list(self, path, namespace, q):
        resource, list_kind, api_version, kind, _ = RESOURCES[path]
        with S.lock:
            delay = S.list_delay
        time.sleep(delay)
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
                forced = S.expire_continue > 0
                S.expire_continue -= forced
                if forced or rv < S.compacted:
                    return self.send_json(410, status(410, "Expired", "The provided continue parameter is too old"))
                # A real server lists from a snapshot at rv; the fake lists now (tests do not race pages).
            else:
                rv, offset = S.rv, 0
            items = sorted((k, o) for k, o in S.objects[resource].items() if in_namespace(o, namespace) and
                           matches(o, q.get("labelSelector", ""), q.get("fieldSelector", "")))
            page = items[offset:offset + limit] if limit else items[offset:]
            more = limit and offset + limit < len(items)
            meta = {"resourceVersion": str(rv)}
            if more:
                meta["continue"] = base64.b64encode(("%d:%d" % (rv, offset + limit)).encode()).decode()
            if self.wants_table():
                body = table(resource, [o for _, o in page], meta)
            else:
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

    def watch(self, path, namespace, q):
        resource, _, api_version, kind, _ = RESOURCES[path]
        as_table = self.wants_table()
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
            if as_table and typ in ("ADDED", "MODIFIED", "DELETED"):
                obj = table(resource, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]})
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
                    if in_namespace(obj, namespace) and matches(obj, label_sel, field_sel):
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
    """TLS is set up in each connection's thread, not in accept: a client that
    stalls or fails its handshake must not hold up the next one."""
    daemon_threads = True
    tls = None  # the ssl.SSLContext

    def finish_request(self, request, client_address):
        with S.lock:
            S.stats["connections"] += 1
            while S.tls_stall:  # the TCP connection is up; the handshake waits
                S.lock.wait(0.05)
        try:
            request.settimeout(10)
            conn = self.tls.wrap_socket(request, server_side=True)
            conn.settimeout(None)
        except (ssl.SSLError, OSError):
            with S.lock:
                S.stats["handshake_failures"] += 1
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()

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
            meta = obj.setdefault("metadata", {})
            meta["resourceVersion"] = str(S.rv)
            # What a real server fills in on create (kubectl prints AGE from it).
            old = S.objects[res].get(k, {}).get("metadata", {})
            meta.setdefault("uid", old.get("uid", "%08x-0000-4000-8000-%012x" % (S.rv, S.rv)))
            meta.setdefault("creationTimestamp", old.get("creationTimestamp", now_rfc3339()))
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
        elif op == "list_delay":
            S.list_delay = c["seconds"]
        elif op == "expire_continue":
            S.expire_continue += 1
        elif op == "tls_stall":
            S.tls_stall = c.get("on", True)
        elif op == "auth":
            S.token = c.get("token", "")
            S.forbid = c.get("forbid", False)
        elif op == "event_status":
            S.event_codes = list(c["codes"])
        elif op == "events":
            print(json.dumps({"events": S.events}), flush=True)
            return
        elif op == "stats":
            print(json.dumps(dict(S.stats, rv=S.rv)), flush=True)
            return
        S.lock.notify_all()
    print(json.dumps({"ok": op}), flush=True)


def main():
    cert, key = sys.argv[1], sys.argv[2]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    def record_sni(sslobj, name, context):
        with S.lock:
            S.stats["sni"] = name  # None: the client sent none
    ctx.sni_callback = record_sni
    if len(sys.argv) > 3:
        ctx.load_verify_locations(sys.argv[3])
        ctx.verify_mode = ssl.CERT_REQUIRED
    host = "127.0.0.1"
    server = Server((host, 0), Handler)
    server.tls = ctx
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
