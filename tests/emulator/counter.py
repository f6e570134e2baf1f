# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the AWS API calls the emulator serves, by service and action (a test instrument, not an
AWS behaviour).  ``GET /moto-api/request-counts`` returns ``{service: {action: n}}``;
``DELETE`` on the same path returns them and zeroes them.  Benchmarks and call-count tests read it.
"""

import collections
import io
import json
import re
import threading
import urllib.parse

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

PATH = "/moto-api/request-counts"
_COUNTS = collections.Counter()
_LOCK = threading.Lock()
_ORIGINAL_CALL = DomainDispatcherApplication.__call__


def _body(environ):
    """Read the request body and put it back for the application."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


# REST-JSON services name the operation by method and path only (botocore's ``http.requestUri``).
REST_JSON = ("securityhub",)
_ROUTES = {}


def _rest_operation(service, method, path):
    if service not in _ROUTES:
        import botocore.session

        model = botocore.session.get_session().get_service_model(service)
        routes = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(http["requestUri"].split("?")[0]))
            routes.append((http["method"], re.compile("^" + pattern + "$"), name))
        _ROUTES[service] = routes
    for route_method, pattern, name in _ROUTES[service]:
        if route_method == method and pattern.match(path):
            return name
    return "unknown"


def describe(environ):
    """(service, action) of a request: JSON protocols name it in X-Amz-Target, query protocols in
    ``Action``, and S3 (REST) by method, bucket/object and sub-resource."""
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    if service in REST_JSON:
        return service, _rest_operation(service, environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "/"))
    if service == "s3":
        path = environ.get("PATH_INFO", "/").strip("/")
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        subresource = sorted(k for k in query if k not in ("x-id", "prefix", "list-type", "max-keys"))
        kind = "object" if "/" in path else "bucket"
        return service, "%s %s%s" % (environ["REQUEST_METHOD"], kind, "?" + subresource[0] if subresource else "")
    params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" not in params and environ.get("REQUEST_METHOD") == "POST":
        params = urllib.parse.parse_qs(_body(environ).decode("utf-8", "replace"))
    return service, (params.get("Action") or ["unknown"])[0]


def _counting_call(self, environ, start_response):
    if environ.get("PATH_INFO") == PATH:
        with _LOCK:
            counts = {}
            for (service, action), number in sorted(_COUNTS.items()):
                counts.setdefault(service, {})[action] = number
            if environ.get("REQUEST_METHOD") == "DELETE":  # returns what was counted, then zeroes
                _COUNTS.clear()
        body = json.dumps(counts).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if not environ.get("PATH_INFO", "").startswith("/moto-api"):
        key = describe(environ)
        with _LOCK:
            _COUNTS[key] += 1
    return _ORIGINAL_CALL(self, environ, start_response)


def apply():
    """Count from here on, in front of whatever serves requests now (gaps.py's own instruments)."""
    global _ORIGINAL_CALL
    _ORIGINAL_CALL = DomainDispatcherApplication.__call__
    DomainDispatcherApplication.__call__ = _counting_call
