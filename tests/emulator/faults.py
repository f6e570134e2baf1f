# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault-injecting HTTP(S) proxy in front of the emulator, for the fault tests (a test instrument).

    with FaultProxy(emulator, kind="throttle", fraction=0.3, seed=7) as proxy:
        run(..., endpoint_url=proxy.url)          # same CA bundle as the emulator
        proxy.stats()  # {"requests": n, "faults": n, "retries": n, "by_action": {...}}

It listens on loopback only, speaks TLS when the emulator does (with the emulator's own certificate,
so clients keep their CA bundle), and forwards every request unchanged; a seeded fraction of the
requests that match ``service`` (and ``actions``, when given) get, instead of the emulator's answer:

- ``throttle``: the service's throttling error as AWS sends it: JSON protocols (SageMaker, STS
  JSON) ``400 ThrottlingException``; IAM/STS query protocol ``400 Throttling``; EC2
  ``503 RequestLimitExceeded``; S3 ``503 SlowDown``;
- ``5xx``: ``500 InternalFailure`` / ``503 ServiceUnavailable`` (S3: ``InternalError``), alternating;
- ``drop``: the connection is closed without an answer (the request never reaches the emulator).

A faulted request is not forwarded, so it changes nothing.  Bounded: after ``max_requests``
requests or ``max_seconds`` it stops by itself (later connections are refused).  A *retry* is a
request identical (method, path, query, body) to one that got a fault and was not yet answered.
"""

import collections
import hashlib
import http.client
import http.server
import json
import random
import re
import socket
import ssl
import threading
import time
import urllib.parse

KINDS = ("throttle", "5xx", "drop")
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}


def describe(method, path, headers, body):
    """(service, action) of a request, as counter.py names them."""
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    service = scope.group(1) if scope else "unknown"
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    parsed = urllib.parse.urlsplit(path)
    if service == "s3":
        kind = "object" if "/" in parsed.path.strip("/") else "bucket"
        return service, "%s %s" % (method, kind)
    params = urllib.parse.parse_qs(parsed.query)
    if "Action" not in params and method == "POST":
        params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return service, (params.get("Action") or ["unknown"])[0]


def is_json_protocol(headers):
    return bool(headers.get("X-Amz-Target")) or "json" in headers.get("Content-Type", "")


def fault_response(kind, service, headers, flip=False):
    """(status, headers, body) of an injected error in the service's own error shape."""
    if kind == "throttle":
        if service == "s3":
            code, status, message = "SlowDown", 503, "Please reduce your request rate."
        elif service == "ec2":
            code, status, message = "RequestLimitExceeded", 503, "Request limit exceeded."
        elif is_json_protocol(headers):
            code, status, message = "ThrottlingException", 400, "Rate exceeded"
        else:
            code, status, message = "Throttling", 400, "Rate exceeded"
    else:
        status = 503 if flip else 500
        if service == "s3":
            code = "ServiceUnavailable" if flip else "InternalError"
        else:
            code = "ServiceUnavailable" if flip else "InternalFailure"
        message = "Injected server error (fault proxy)"
    request_id = "fault-%016x" % random.getrandbits(64)
    if is_json_protocol(headers) and service != "s3":
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = headers.get("Content-Type") or "application/x-amz-json-1.1"
    elif service == "s3":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message>"
                "<RequestId>%s</RequestId></Error>" % (code, message, request_id)).encode()  # fmt: skip
        content_type = "application/xml"
    elif service == "ec2":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>%s</Code>"
                "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
                % (code, message, request_id)).encode()  # fmt: skip
        content_type = "text/xml"
    else:
        kind_of = "Sender" if status < 500 else "Receiver"
        body = ("<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>%s</RequestId></ErrorResponse>"
                % (kind_of, code, message, request_id)).encode()  # fmt: skip
        content_type = "text/xml"
    response_headers = {"Content-Type": content_type, "Content-Length": str(len(body)),
                        "x-amzn-RequestId": request_id}  # fmt: skip
    return status, response_headers, body


class FaultProxy:
    """A bounded, loopback-only fault-injecting proxy in front of ``emulator`` (a harness.Emulator)."""

    def __init__(self, emulator, kind="throttle", fraction=0.3, service=None, actions=None, seed=0,
                 max_requests=20000, max_seconds=900, upstream_timeout=60):  # fmt: skip
        if kind not in KINDS:
            raise ValueError("kind must be one of %s, got %r" % (KINDS, kind))
        if not 0.0 <= float(fraction) <= 1.0:
            raise ValueError("fraction must be between 0 and 1, got %r" % fraction)
        self.emulator = emulator
        self.kind = kind
        self.fraction = float(fraction)
        self.service = service
        self.actions = set(actions) if actions else None
        self.random = random.Random(seed)
        self.max_requests = int(max_requests)
        self.max_seconds = float(max_seconds)
        self.upstream_timeout = upstream_timeout
        self.lock = threading.Lock()
        self.requests = 0
        self.faults = 0
        self.retries = 0
        self.by_action = collections.Counter()
        self.outstanding = collections.Counter()
        self.server = None
        self.thread = None
        self.timer = None
        self.stopped_because = None
        self.connections = set()

    # --- configuration while running ------------------------------------------------------------

    def configure(self, **changes):
        """Change kind/fraction/service/actions of a running proxy (e.g. fraction=0 to heal)."""
        with self.lock:
            for name, value in changes.items():
                if name == "actions":
                    value = set(value) if value else None
                if name not in ("kind", "fraction", "service", "actions"):
                    raise ValueError("cannot configure %s" % name)
                setattr(self, name, value)

    # --- life cycle -----------------------------------------------------------------------------

    @property
    def url(self):
        scheme = "https" if self.emulator.tls else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.server.server_address[1])

    def start(self):
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.emulator.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert_dir = self.emulator.cert_dir
            context.load_cert_chain(cert_dir + "/emulator.crt", cert_dir + "/emulator.key")
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()
        self.timer = threading.Timer(self.max_seconds, self._expire, args=("max_seconds",))
        self.timer.daemon = True
        self.timer.start()
        return self

    def _expire(self, reason):
        if self.stopped_because is None:
            self.stopped_because = reason
            threading.Thread(target=self.stop, daemon=True).start()

    def stop(self):
        if self.timer:
            self.timer.cancel()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            with self.lock:  # keep-alive connections end too: nothing gets through after a stop
                connections, self.connections = list(self.connections), set()
            for connection in connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "faults": self.faults, "retries": self.retries,
                    "by_action": dict(self.by_action), "stopped_because": self.stopped_because}  # fmt: skip

    # --- one request ----------------------------------------------------------------------------

    def decide(self, method, path, headers, body):
        """Count the request; return the fault kind to inject, or None to forward it."""
        service, action = describe(method, path, headers, body)
        fingerprint = hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()
        with self.lock:
            self.requests += 1
            if self.requests >= self.max_requests:
                self._expire("max_requests")
            if self.outstanding[fingerprint] > 0:
                self.retries += 1
                self.outstanding[fingerprint] -= 1
            matches = (self.service in (None, service)) and (self.actions is None or action in self.actions)
            if matches and self.fraction > 0 and self.random.random() < self.fraction:
                self.faults += 1
                self.by_action["%s:%s" % (service, action)] += 1
                self.outstanding[fingerprint] += 1
                return self.kind, service, self.faults % 2 == 0
        return None, service, False

    def forward(self, method, path, headers, body):
        context = ssl.create_default_context(cafile=self.emulator.ca_bundle) if self.emulator.tls else None
        if context:
            connection = http.client.HTTPSConnection(
                self.emulator.host, self.emulator.port, timeout=self.upstream_timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(self.emulator.host, self.emulator.port,
                                                    timeout=self.upstream_timeout)  # fmt: skip
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                if name.lower() not in HOP_HEADERS and name.lower() != "content-length":
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            connection.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    owner = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        with self.owner.lock:
            self.owner.connections.add(self.connection)

    def finish(self):
        with self.owner.lock:
            self.owner.connections.discard(self.connection)
        super().finish()

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        owner = self.owner
        body = self._body()
        headers = dict(self.headers.items())
        fault, service, flip = owner.decide(self.command, self.path, headers, body)
        if fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault:
            status, response_headers, payload = fault_response(fault, service, headers, flip)
            reason = ""
        else:
            try:
                status, reason, upstream_headers, payload = owner.forward(self.command, self.path, headers, body)
            except (OSError, http.client.HTTPException):
                self.close_connection = True
                return
            response_headers = {k: v for k, v in upstream_headers if k.lower() not in HOP_HEADERS}
            if self.command != "HEAD":  # a HEAD answer keeps the object's length
                response_headers["Content-Length"] = str(len(payload))
        self.send_response(status, reason or None)
        for name, value in response_headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle
