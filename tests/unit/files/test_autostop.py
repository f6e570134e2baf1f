# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The idle rule of files/autostop.py on captured Jupyter responses and on edge cases."""

import ast
import importlib.util
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "files" / "autostop.py"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jupyter"


def _load():
    spec = importlib.util.spec_from_file_location("autostop", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


autostop = _load()


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


def at(text):
    return autostop.parse_time(text)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-28T03:35:01.444001Z", datetime(2026, 11, 28, 3, 35, 1, 444001, UTC)),
        # Jupyter omits the fraction when the microseconds are 0 (the sample script crashes on it).
        ("2026-11-28T03:00:00Z", datetime(2026, 11, 28, 3, 0, 0, 0, UTC)),
        ("2026-11-28T03:00:00.5Z", datetime(2026, 11, 28, 3, 0, 0, 500000, UTC)),
        ("2026-11-28T03:00:00.123456789Z", datetime(2026, 11, 28, 3, 0, 0, 123456, UTC)),
        ("2026-11-28T08:30:00+05:30", datetime(2026, 11, 28, 3, 0, 0, 0, UTC)),
        ("2026-11-27T22:00:00-0500", datetime(2026, 11, 28, 3, 0, 0, 0, UTC)),
        ("2026-11-28T03:00:00.000001+00:00", datetime(2026, 11, 28, 3, 0, 0, 1, UTC)),
        # No offset: Jupyter's clock is UTC.
        ("2026-11-28T03:00:00", datetime(2026, 11, 28, 3, 0, 0, 0, UTC)),
    ],
)
def test_parse_time(text, expected):
    parsed = at(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-28", None, 1700000000])
def test_parse_time_refuses_garbage(text):
    with pytest.raises(autostop.CheckError):
        at(text)


# --- the rule on captured responses ------------------------------------------------------------


def test_idle_kernel_past_the_limit_is_idle():
    kernels, terminals = fixture("js2_kernels_idle.json"), fixture("js2_terminals.json")
    now = at("2026-11-28T03:40:00Z")  # kernel last active 03:33:01.48, terminal 03:27:59
    idle, reason = autostop.decide(kernels, terminals, None, 300, now=now)
    assert idle is True
    assert "idle for 418 s" in reason
    assert "019f5182-5dc2-4bd8-9b10-93049692c4f0" in reason


def test_idle_kernel_within_the_limit_is_busy():
    kernels, terminals = fixture("js2_kernels_idle.json"), fixture("js2_terminals.json")
    idle, reason = autostop.decide(kernels, terminals, None, 600, now=at("2026-11-28T03:40:00Z"))
    assert idle is False
    assert "active 418 s ago" in reason


def test_busy_kernel_is_busy_however_old_its_activity():
    # A silent cell freezes last_activity at its start: only execution_state shows the work.
    kernels = fixture("js2_kernels_busy.json")
    idle, reason = autostop.decide(kernels, [], None, 60, now=at("2026-11-29T00:00:00Z"))
    assert idle is False
    assert reason == "kernel 019f5182-5dc2-4bd8-9b10-93049692c4f0 (python3) is busy"


def test_starting_kernel_is_not_busy():
    # A kernel with no client can stay "starting" forever: it must not keep the instance up.
    kernels = fixture("js2_kernels_with_starting.json")
    assert [k["execution_state"] for k in kernels] == ["idle", "starting"]
    idle, reason = autostop.decide(kernels, [], None, 3600, now=at("2026-11-28T05:00:00Z"))
    assert idle is True
    assert "54c61645" in reason  # the starting kernel was the latest activity


def test_recent_terminal_keeps_it_awake():
    kernels, terminals = fixture("js2_kernels_idle.json"), [{"name": "1", "last_activity": "2026-11-28T03:39:30Z"}]
    idle, reason = autostop.decide(kernels, terminals, None, 300, now=at("2026-11-28T03:40:00Z"))
    assert idle is False
    assert reason.startswith("terminal 1 active 30 s ago")


def test_classic_notebook_6_responses():
    kernels, terminals = fixture("nb6_kernels.json"), fixture("nb6_terminals.json")
    assert autostop.decide(kernels, terminals, None, 60, now=at("2026-11-28T03:30:00Z"))[0] is False
    assert autostop.decide(kernels, terminals, None, 60, now=at("2026-11-28T03:31:00Z"))[0] is True


def test_status_start_stands_in_when_nothing_is_open():
    server = fixture("js2_status.json")  # started 03:26:16.595486Z
    assert autostop.needs_status([], []) is True
    idle, reason = autostop.decide([], [], server, 600, now=at("2026-11-28T03:36:00Z"))
    assert idle is False
    assert reason == "server (no kernels or terminals) started 583 s ago (limit 600 s)"
    idle, reason = autostop.decide([], [], server, 600, now=at("2026-11-28T03:37:00Z"))
    assert idle is True
    assert reason == "idle for 643 s: server (no kernels or terminals) started at 2026-11-28T03:26:16Z (limit 600 s)"


def test_status_is_not_read_when_kernels_answer():
    assert autostop.needs_status(fixture("js2_kernels_idle.json"), fixture("js2_terminals.json")) is False


def test_server_last_activity_is_not_used_when_kernels_exist():
    # /api/status last_activity moves with every open JupyterLab tab: it is not an idle signal.
    server = dict(fixture("js2_status.json"), last_activity="2026-11-28T03:59:59Z")
    idle, _reason = autostop.decide(fixture("js2_kernels_idle.json"), [], server, 300, now=at("2026-11-28T04:00:00Z"))
    assert idle is True


def test_empty_lists_without_status_is_unsure():
    with pytest.raises(autostop.CheckError, match="no started"):
        autostop.decide([], [], None, 60, now=at("2026-11-28T04:00:00Z"))


def test_terminal_without_last_activity_uses_the_server_activity():
    terminals = [{"name": "1"}]  # older servers do not report it
    assert autostop.needs_status([], terminals) is True
    server = fixture("js2_status.json")  # last_activity 03:34:15.181506Z
    idle, reason = autostop.decide([], terminals, server, 300, now=at("2026-11-28T03:36:00Z"))
    assert idle is False
    assert "terminal 1 (no last_activity; server activity)" in reason
    assert autostop.decide([], terminals, server, 300, now=at("2026-11-28T03:40:00Z"))[0] is True
    with pytest.raises(autostop.CheckError):
        autostop.decide([], terminals, None, 300, now=at("2026-11-28T03:40:00Z"))


def test_open_connection_keeps_it_awake_unless_ignored():
    kernels = [dict(fixture("js2_kernels_idle.json")[0], connections=1)]
    now = at("2026-11-29T00:00:00Z")
    idle, reason = autostop.decide(kernels, [], None, 60, now=now)
    assert idle is False
    assert "1 open connection(s)" in reason
    assert autostop.decide(kernels, [], None, 60, now=now, ignore_connections=True)[0] is True


def test_kernel_without_last_activity_is_unsure():
    kernels = [{"id": "k", "name": "python3", "execution_state": "idle", "connections": 0}]
    with pytest.raises(autostop.CheckError, match="no last_activity"):
        autostop.decide(kernels, [], None, 60)


def test_limit_boundary_counts_as_idle():
    kernels = [{"id": "k", "name": "p", "execution_state": "idle", "last_activity": "2026-11-28T03:00:00Z"}]
    assert autostop.decide(kernels, [], None, 60, now=at("2026-11-28T03:00:59.999999Z"))[0] is False
    assert autostop.decide(kernels, [], None, 60, now=at("2026-11-28T03:01:00Z"))[0] is True


@pytest.fixture
def far_timezone():
    """The machine's local clock 14 hours ahead of UTC (and then 12 behind)."""
    saved = os.environ.get("TZ")
    yield lambda zone: (os.environ.__setitem__("TZ", zone), time.tzset())
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_clock_in_another_timezone(far_timezone, zone):
    far_timezone(zone)
    assert time.localtime().tm_gmtoff != 0  # the zone is really in force
    now = autostop.utcnow()
    assert abs(now.timestamp() - time.time()) < 5
    assert now.utcoffset() == timedelta(0)
    recent = [{"id": "k", "name": "p", "execution_state": "idle", "last_activity": stamp(now - timedelta(seconds=10))}]
    old = [{"id": "k", "name": "p", "execution_state": "idle", "last_activity": stamp(now - timedelta(hours=2))}]
    # now=None: the script reads the clock itself, as on the instance.
    assert autostop.decide(recent, [], None, 3600)[0] is False
    assert autostop.decide(old, [], None, 3600)[0] is True


# --- reading the server: status codes and shapes --------------------------------------------------


class Replies:
    """Stand-in for JupyterClient.get with fixed (status, body) per path (the HTTP layer is exercised
    against real servers in tests/functional)."""

    where = "https://localhost:8443"

    def __init__(self, replies):
        self.replies = replies
        self.asked = []

    def get(self, path):
        self.asked.append(path)
        return self.replies[path]

    get_ok = autostop.JupyterClient.get_ok


def test_gather_treats_terminals_404_as_none():
    client = Replies(
        {"/api/kernels": (200, []), "/api/terminals": (404, None), "/api/status": (200, fixture("js2_status.json"))}
    )
    kernels, terminals, server = autostop.gather(client)
    assert (kernels, terminals) == ([], [])
    assert server["started"] == "2026-11-28T03:26:16.595486Z"
    assert client.asked == ["/api/kernels", "/api/terminals", "/api/status"]


def test_gather_skips_status_when_not_needed():
    client = Replies({"/api/kernels": (200, fixture("js2_kernels_idle.json")), "/api/terminals": (200, [])})
    assert autostop.gather(client)[2] is None
    assert client.asked == ["/api/kernels", "/api/terminals"]


@pytest.mark.parametrize(
    "replies, message",
    [
        ({"/api/kernels": (403, None)}, "403"),
        ({"/api/kernels": (500, None)}, "answered 500"),
        ({"/api/kernels": (200, {"not": "a list"})}, "expected a JSON list"),
        ({"/api/kernels": (200, ["x"])}, "expected a JSON list"),
        ({"/api/kernels": (200, []), "/api/terminals": (500, None)}, "answered 500 to /api/terminals"),
        ({"/api/kernels": (200, []), "/api/terminals": (403, None)}, "403"),
        ({"/api/kernels": (200, []), "/api/terminals": (200, []), "/api/status": (502, None)}, "answered 502"),
        ({"/api/kernels": (200, []), "/api/terminals": (200, []), "/api/status": (200, [])}, "JSON object"),
    ],
)
def test_gather_doubts(replies, message):
    with pytest.raises(autostop.CheckError, match=message):
        autostop.gather(Replies(replies))


# --- metadata, options, whole runs -----------------------------------------------------------------

ARN = "arn:aws:sagemaker:eu-west-3:123456789012:notebook-instance/my-notebook"


def write_metadata(tmp_path, data):
    path = tmp_path / "resource-metadata.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_read_metadata(tmp_path):
    path = write_metadata(tmp_path, {"ResourceName": "my-notebook", "ResourceArn": ARN})
    assert autostop.read_metadata(path) == ("my-notebook", ARN, "eu-west-3")


@pytest.mark.parametrize("data", ["{", "[]", {"ResourceArn": ARN}, {"ResourceName": ""}])
def test_read_metadata_doubts(tmp_path, data):
    with pytest.raises(autostop.CheckError):
        autostop.read_metadata(write_metadata(tmp_path, data))
    with pytest.raises(autostop.CheckError, match="cannot read"):
        autostop.read_metadata(str(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--time", "0"],
        ["--time", "-5"],
        ["--time", "ten"],
        ["--time", "5", "--scheme", "ftp"],
        ["--time", "5", "--port", "70000"],
    ],
)
def test_bad_options_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        autostop.main(argv)
    assert exit_info.value.code == 2
    assert "autostop.py" in capsys.readouterr().err


def test_defaults():
    args = autostop.build_parser().parse_args(["--time", "3600"])
    assert (args.port, args.scheme, args.host, args.metadata_file) == (
        8443,
        "https",
        "localhost",
        "/opt/ml/metadata/resource-metadata.json",
    )
    assert (args.ignore_connections, args.dry_run, args.region, args.endpoint_url) == (False, False, None, None)


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        autostop.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in (
        "--time",
        "--port",
        "--scheme",
        "--ignore-connections",
        "--dry-run",
        "--metadata-file",
        "--region",
        "--endpoint-url",
        "--token",
        "JUPYTER_TOKEN",
        "Exit status",
    ):
        assert option in text


def test_unreachable_server_is_unsure_and_logs_no_token(tmp_path, monkeypatch):
    log = tmp_path / "autostop.log"
    metadata = write_metadata(tmp_path, {"ResourceName": "my-notebook", "ResourceArn": ARN})
    monkeypatch.setenv("JUPYTER_TOKEN", "s3cr3t-from-env")
    status = autostop.main(
        [
            "--time",
            "60",
            "--port",
            "1",
            "--metadata-file",
            metadata,
            "--log-file",
            str(log),
            "--token",
            "s3cr3t-from-argv",
        ]
    )
    assert status == 1
    lines = log.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        "unsure, not stopping: Jupyter server at https://localhost:1 unreachable: [Errno 111] Connection refused"
    )
    datetime.strptime(lines[0].split(" ")[0], "%Y-%m-%dT%H:%M:%SZ")
    assert "s3cr3t" not in log.read_text()


def test_missing_metadata_is_unsure(tmp_path, capsys):
    assert autostop.main(["--time", "60", "--metadata-file", str(tmp_path / "none.json")]) == 1
    assert "unsure, not stopping: cannot read instance metadata" in capsys.readouterr().out


def test_stop_reports_an_unreachable_sagemaker_api(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    started = time.monotonic()
    status, message = autostop.stop_instance("my-notebook", "eu-west-3", "http://127.0.0.1:1", timeout=2)
    assert status == 3
    assert "cannot reach http://127.0.0.1:1 to stop my-notebook" in message
    assert "com.amazonaws.eu-west-3.sagemaker.api interface endpoint" in message
    assert time.monotonic() - started < 30


@pytest.fixture
def sagemaker_stub(monkeypatch):
    """A Stubber answering the SageMaker client stop_instance() builds (boto3.client is patched)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "sagemaker", region_name="eu-west-3", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    stub = Stubber(client)
    stub.activate()
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    yield stub
    stub.deactivate()


def describe_answer(stub, status):
    answer = {"NotebookInstanceName": "my-notebook", "NotebookInstanceStatus": status}
    stub.add_response("describe_notebook_instance", answer, {"NotebookInstanceName": "my-notebook"})


def test_stop_instance_stops_an_idle_instance_with_maintenance_scheduled(sagemaker_stub):
    # PendingMaintenance runs like InService (the collection's STATUS_TABLE, notebook.py).
    describe_answer(sagemaker_stub, "PendingMaintenance")
    sagemaker_stub.add_response("stop_notebook_instance", {}, {"NotebookInstanceName": "my-notebook"})
    status, message = autostop.stop_instance("my-notebook", "eu-west-3")
    assert (status, message) == (0, "stop requested for my-notebook (was PendingMaintenance)")
    sagemaker_stub.assert_no_pending_responses()


def test_stop_instance_leaves_an_instance_in_maintenance_alone_and_says_why(sagemaker_stub):
    describe_answer(sagemaker_stub, "InMaintenance")  # and no StopNotebookInstance queued
    status, message = autostop.stop_instance("my-notebook", "eu-west-3")
    assert status == 0
    assert message == "my-notebook is InMaintenance, maintenance in progress: not stopping; the next check decides"
    sagemaker_stub.assert_no_pending_responses()


# --- the script runs on the notebook's own Python (3.7+) with the standard library only ---------


def test_python37_syntax():
    ast.parse(SCRIPT.read_text(), feature_version=(3, 7))


def test_top_level_imports_are_stdlib():
    tree = ast.parse(SCRIPT.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    assert names <= set(sys.stdlib_module_names), names - set(sys.stdlib_module_names)
    assert "boto3" not in names and "requests" not in names


def test_script_is_executable_with_env_python_shebang():
    # The shebang ansible-test's sanity test allows; the on-start script runs it with the Python 3 it found.
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python\n")
    assert os.access(SCRIPT, os.X_OK)


@pytest.mark.parametrize(
    "argv",
    [
        ["--time", "3600"],
        ["--time=60", "--port=8888", "--scheme=http", "--dry-run"],
        ["--time", "3600", "--log-file", "/var/log/autostop.log", "--endpoint-url", "https://api.sagemaker.x",
         "--ignore-connections", "--host", "127.0.0.1", "--token", "t", "--region", "eu-west-3", "--timeout", "5",
         "--metadata-file", "/tmp/m.json"],
        ["--port", "1", "--time", "1", "--time", "2"],  # the last one wins, as in argparse
    ],
)  # fmt: skip
def test_fast_parser_agrees_with_argparse(argv):
    fast = autostop.fast_parse(argv)
    assert fast is not None
    assert vars(fast) == vars(autostop.build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [[], ["--help"], ["--version"], ["--time"], ["--time", "0"], ["--ti", "5"], ["--time", "5", "--dry-run=1"],
     ["--time", "5", "--scheme", "ftp"], ["--time", "5", "--port", "--dry-run"], ["--time", "5", "extra"]],
)  # fmt: skip
def test_fast_parser_leaves_the_rest_to_argparse(argv):
    assert autostop.fast_parse(argv) is None


def test_a_timer_run_imports_neither_argparse_nor_http_client(tmp_path):
    """What a timer run loads (measured with -X importtime): the costly modules stay out."""
    import subprocess

    metadata = write_metadata(tmp_path, {"ResourceName": "my-notebook", "ResourceArn": ARN})
    argv = ["--time", "5", "--port", "1", "--metadata-file", metadata, "--log-file", str(tmp_path / "log")]
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1  # nothing listens on port 1: a logged doubt
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "socket" in imported and "json" in imported  # the measurement works
    assert not {"argparse", "http.client", "email", "urllib.request", "boto3", "encodings.idna"} & imported


# --- the minimal HTTP client on framings Jupyter's tornado does not use by default ---------------


class CannedServer:
    """A loopback TCP server that answers each request with the next canned reply; ``close`` in a
    reply drops the connection after it.  Exercises the HTTP framing, not Jupyter's behaviour."""

    def __init__(self, replies):
        import socket
        import threading

        self.replies = list(replies)
        self.requests = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(5)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.replies:
            connection, _address = self.listener.accept()
            with connection:
                data = b""
                while self.replies:
                    while b"\r\n\r\n" not in data:
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if b"\r\n\r\n" not in data:
                        break
                    request, _sep, data = data.partition(b"\r\n\r\n")
                    self.requests.append(request.decode())
                    reply, close = self.replies.pop(0)
                    connection.sendall(reply)
                    if close:
                        break
        self.listener.close()


def canned_client(replies, token=None):
    server = CannedServer(replies)
    return server, autostop.JupyterClient("127.0.0.1", server.port, "http", token=token, timeout=5)


def test_http_content_length_keep_alive_and_headers():
    body = b'[{"name": "1", "last_activity": "2026-11-28T03:00:00Z"}]'
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    server, client = canned_client([(reply, False), (reply, False)], token="abc")
    assert client.get("/api/terminals") == (200, json.loads(body))
    assert client.get("/api/kernels?x=1")[0] == 200
    assert server.requests[0].startswith("GET /api/terminals?no_track_activity=1 HTTP/1.1\r\n")
    assert server.requests[1].startswith("GET /api/kernels?x=1&no_track_activity=1 HTTP/1.1\r\n")
    assert "Authorization: token abc" in server.requests[0]
    client.close()


def test_http_chunked_and_read_to_close():
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[{"a\r\n6;ext=1\r\n": 1}]\r\n0\r\n\r\n'
    to_close = b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"started": "x"}'
    server, client = canned_client([(chunked, False), (to_close, True)])
    assert client.get("/api/kernels") == (200, [{"a": 1}])
    assert client.get("/api/status") == (200, {"started": "x"})
    assert len(server.requests) == 2


def test_http_reconnects_once_when_keep_alive_was_dropped():
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"
    server, client = canned_client([(reply, True), (reply, True)])  # the server closes after each answer
    assert client.get("/api/kernels") == (200, [])
    assert client.get("/api/terminals") == (200, [])
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "reply, message",
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "bad answer to /api/kernels: bad status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]", "bad answer to /api/kernels: connection closed"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nnot-json", "/api/kernels is not JSON"),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n<html/>..", "answered 404 to /api/kernels"),
    ],
)
def test_http_broken_answers_are_doubts(reply, message):
    _server, client = canned_client([(reply, True)])
    with pytest.raises(autostop.CheckError, match=message):
        client.get_ok("/api/kernels")


def test_token_with_control_characters_is_refused_without_echo():
    with pytest.raises(autostop.CheckError) as error:
        autostop.JupyterClient("localhost", 8443, "https", token="abc\r\nX-Evil: 1")
    assert "abc" not in str(error.value)
