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
        "--gpu-threshold",
        "--gpu-samples",
        "--gpu-sample-interval",
        "--gpu-device",
        "/dev/nvidia0",
        "--no-gpu",
        "--cpu-threshold",
        "--cpu-window",
        "nvidia-smi",
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
        ["--time", "60", "--gpu-threshold", "2.5", "--gpu-samples", "5", "--gpu-sample-interval=0",
         "--gpu-device", "/dev/nvidia3", "--cpu-threshold", "25", "--cpu-window", "0.5"],
        ["--time", "60", "--no-gpu", "--log-file", "/var/log/autostop.log"],
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


# --- work Jupyter does not see: GPU samples and CPU use ---------------------------------------------


@pytest.mark.parametrize(
    "text, readable, unreadable",
    [
        ("0\n", [(0, 0.0)], []),
        ("97\n3\n", [(0, 97.0), (1, 3.0)], []),
        (" 12 \n\n[N/A]\n", [(0, 12.0)], [(1, "[N/A]")]),  # MIG mode
        ("[Not Supported]\n", [], [(0, "[Not Supported]")]),  # older drivers
        ("101\n-1\n", [], [(0, "101"), (1, "-1")]),
        ("", [], []),
    ],
)
def test_parse_gpu_utilization(text, readable, unreadable):
    assert autostop.parse_gpu_utilization(text) == (readable, unreadable)


class Samples:
    """Stands in for sample_gpus: each call returns the next sample (or raises it)."""

    def __init__(self, *samples):
        self.samples, self.calls, self.pauses = list(samples), 0, []

    def __call__(self, command, timeout):
        self.calls += 1
        sample = self.samples.pop(0)
        if isinstance(sample, Exception):
            raise sample
        return autostop.parse_gpu_utilization(sample)

    def sleep(self, seconds):
        self.pauses.append(seconds)


@pytest.fixture
def nvidia_smi_on_path(tmp_path, monkeypatch):
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    return str(tool)


def check_gpus(samples, threshold=5, count=3):
    return autostop.check_gpus(threshold, count, 1.5, 10, sample=samples, sleep=samples.sleep)


def test_check_gpus_busy_at_the_first_sample_above_the_threshold(nvidia_smi_on_path):
    samples = Samples("2\n40\n", "0\n0\n")
    assert check_gpus(samples) == (True, "GPU 1 at 40%, above 5% (sample 1 of 3)")
    assert samples.calls == 1 and samples.pauses == []


def test_check_gpus_a_dip_in_one_sample_is_not_idleness(nvidia_smi_on_path):
    samples = Samples("1\n", "0\n", "60\n")
    assert check_gpus(samples) == (True, "GPU 0 at 60%, above 5% (sample 3 of 3)")
    assert samples.pauses == [1.5, 1.5]


def test_check_gpus_idle_when_no_sample_is_above_the_threshold(nvidia_smi_on_path):
    samples = Samples("5\n0\n", "1\n2\n", "0\n[N/A]\n")
    busy, text = check_gpus(samples)
    assert busy is False
    assert text == "1 GPU(s) at most 5% in 3 sample(s) 1.5 s apart (threshold 5%); unreadable: GPU 1 [N/A]"


def test_check_gpus_threshold_zero_counts_any_use(nvidia_smi_on_path):
    assert check_gpus(Samples("1\n"), threshold=0)[0] is True
    assert check_gpus(Samples("0\n"), threshold=0, count=1)[0] is False


def test_sample_gpus_without_a_readable_gpu_cannot_tell(nvidia_smi_on_path):
    with open(nvidia_smi_on_path, "w") as handle:
        handle.write("#!/bin/sh\necho '[Not Supported]'\n")
    with pytest.raises(autostop.ReadingError, match=r"reported no utilization \(\[Not Supported\]\)"):
        autostop.sample_gpus(nvidia_smi_on_path, 10)


def test_check_gpus_a_failing_sample_is_a_reading_error(nvidia_smi_on_path):
    samples = Samples("0\n", autostop.ReadingError("nvidia-smi exited with status 9"))
    with pytest.raises(autostop.ReadingError, match="status 9"):
        check_gpus(samples)


def test_check_gpus_without_nvidia_smi_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    samples = Samples("90\n")
    with pytest.raises(autostop.ReadingError, match=r"nvidia-smi not found on PATH \(" + str(tmp_path)):
        check_gpus(samples)
    assert samples.calls == 0


def test_sample_gpus_runs_the_documented_query(nvidia_smi_on_path, tmp_path):
    record = tmp_path / "argv"
    with open(nvidia_smi_on_path, "w") as handle:
        handle.write("#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s\nprintf '7\\n0\\n'\n" % record)
    assert autostop.sample_gpus(nvidia_smi_on_path, 10) == ([(0, 7.0), (1, 0.0)], [])
    assert record.read_text().splitlines() == ["--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]


@pytest.mark.parametrize(
    "script, message",
    [
        ("echo 'No devices were found'; exit 6", "exited with status 6: No devices were found"),
        ("echo 'NVIDIA-SMI has failed' >&2; exit 9", "exited with status 9: NVIDIA-SMI has failed"),
        ("exec sleep 30", "gave no answer within 1 s"),
        ("echo garbage", r"reported no utilization \(garbage\)"),
    ],
    ids=["no-devices", "no-driver", "hangs", "garbage"],
)
def test_sample_gpus_failures_are_reading_errors(nvidia_smi_on_path, script, message, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with open(nvidia_smi_on_path, "w") as handle:
        handle.write("#!/bin/sh\n%s\n" % script)
    started = time.monotonic()
    with pytest.raises(autostop.ReadingError, match=message):
        autostop.sample_gpus(nvidia_smi_on_path, 1)
    assert time.monotonic() - started < 10


def test_sample_gpus_a_command_that_cannot_run(tmp_path):
    with pytest.raises(autostop.ReadingError, match="cannot run .*nvidia-smi"):
        autostop.sample_gpus(str(tmp_path / "nvidia-smi"), 1)


def test_find_command(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = tmp_path / "a" / "tool"
    plain.write_text("")  # not executable: passed over, as a shell would
    runnable = tmp_path / "b" / "tool"
    runnable.write_text("#!/bin/sh\n")
    runnable.chmod(0o755)
    search = "%s:%s" % (tmp_path / "a", tmp_path / "b")
    assert autostop.find_command("tool", search) == str(runnable)
    assert autostop.find_command("missing", search) is None
    assert autostop.find_command(str(runnable), "") == str(runnable)
    assert autostop.find_command(str(plain), "") is None
    monkeypatch.chdir(tmp_path / "b")
    assert autostop.find_command("tool", ":") is None  # an empty entry is not the current directory


def stat_file(tmp_path, line):
    path = tmp_path / "stat"
    path.write_text(line + "\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    return str(path)


def test_read_cpu_times_counts_steal_as_not_busy(tmp_path):
    # user nice system idle iowait irq softirq steal guest guest_nice
    path = stat_file(tmp_path, "cpu  100 10 50 800 20 5 5 10 7 0")
    assert autostop.read_cpu_times(path) == (170, 1000)


@pytest.mark.parametrize("line", ["intr 1 2 3", "cpu 1 2 3", "cpu a b c d e f g h"], ids=["not-cpu", "short", "text"])
def test_read_cpu_times_refuses_what_it_cannot_read(tmp_path, line):
    with pytest.raises(autostop.ReadingError, match="cannot read CPU times"):
        autostop.read_cpu_times(stat_file(tmp_path, line))


def test_read_cpu_times_of_this_machine():
    busy, total = autostop.read_cpu_times()
    assert 0 <= busy <= total


def test_check_cpu_over_the_window():
    readings = iter([(1000, 10000), (1250, 10500)])
    pauses = []
    busy, text = autostop.check_cpu(40, 2.5, read=lambda: next(readings), sleep=pauses.append)
    assert (busy, text, pauses) == (True, "CPU at 50% over 2.5 s, above 40%", [2.5])
    readings = iter([(1000, 10000), (1010, 10500)])
    assert autostop.check_cpu(40, 1, read=lambda: next(readings), sleep=pauses.append) == (
        False,
        "CPU at 2% over 1 s, at or below 40%",
    )
    readings = iter([(1000, 10000), (1000, 10000)])
    with pytest.raises(autostop.ReadingError, match="no CPU time passed"):
        autostop.check_cpu(40, 1, read=lambda: next(readings), sleep=pauses.append)


def options(*argv):
    return autostop.parse_args(["--time", "60", *argv])


def test_other_activity_starts_nothing_without_the_gpu_device(tmp_path, monkeypatch):
    def forbidden(*_args):
        raise AssertionError("sampled on an instance without a GPU device")

    monkeypatch.setattr(autostop, "check_gpus", forbidden)
    monkeypatch.setattr(autostop, "sample_gpus", forbidden)
    assert autostop.other_activity(options("--gpu-device", str(tmp_path / "nvidia0"))) == (None, [])
    (tmp_path / "nvidia0").touch()
    assert autostop.other_activity(options("--gpu-device", str(tmp_path / "nvidia0"), "--no-gpu")) == (None, [])


def test_other_activity_gpu_first_then_cpu(tmp_path, monkeypatch):
    device = tmp_path / "nvidia0"
    device.touch()
    seen = []
    monkeypatch.setattr(autostop, "check_gpus", lambda *args: seen.append(("gpu", args)) or (False, "gpus idle"))
    monkeypatch.setattr(autostop, "check_cpu", lambda *args: seen.append(("cpu", args)) or (True, "cpu busy"))
    args = options(
        "--gpu-device", str(device), "--gpu-threshold", "7", "--gpu-samples", "2", "--gpu-sample-interval", "0.5",
        "--timeout", "4", "--cpu-threshold", "30", "--cpu-window", "3",
    )  # fmt: skip
    assert autostop.other_activity(args) == ("cpu busy", ["gpus idle"])
    assert seen == [("gpu", (7.0, 2, 0.5, 4)), ("cpu", (30.0, 3.0))]


def test_other_activity_notes_a_reading_that_failed(tmp_path, monkeypatch):
    device = tmp_path / "nvidia0"
    device.touch()

    def fails(*_args):
        raise autostop.ReadingError("nvidia-smi exited with status 9")

    monkeypatch.setattr(autostop, "check_gpus", fails)
    monkeypatch.setattr(autostop, "check_cpu", fails)
    busy, notes = autostop.other_activity(options("--gpu-device", str(device), "--cpu-threshold", "10"))
    assert busy is None
    assert notes == [
        "GPU not checked, deciding as without GPUs: nvidia-smi exited with status 9",
        "CPU not checked, deciding without it: nvidia-smi exited with status 9",
    ]


def test_gpu_and_cpu_defaults():
    args = options()
    assert (args.gpu_threshold, args.gpu_samples, args.gpu_sample_interval, args.gpu_device, args.no_gpu) == (
        5.0, 3, 1.0, "/dev/nvidia0", False)  # fmt: skip
    assert (args.cpu_threshold, args.cpu_window) == (None, 2.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--gpu-threshold", "101"], "must be a percentage 0-100"),
        (["--gpu-threshold", "x"], "must be a percentage 0-100"),
        (["--gpu-samples", "0"], "must be a whole number 1-10"),
        (["--gpu-samples", "11"], "must be a whole number 1-10"),
        (["--gpu-sample-interval", "61"], "must be 0-60 seconds"),
        (["--cpu-threshold", "-1"], "must be a percentage 0-100"),
        (["--cpu-window", "0.05"], "must be 0.1-60 seconds"),
        (["--gpu-threshold", "nan"], "must be a percentage 0-100"),
    ],
)
def test_bad_gpu_and_cpu_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        autostop.main(["--time", "5", *argv])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "argument " + argv[0] in error and message in error


@pytest.mark.parametrize(
    "argv, refused",
    [
        (["--gpu-samples", "10", "--gpu-sample-interval", "7"], "got 63"),
        (["--gpu-samples", "4", "--gpu-sample-interval", "15", "--cpu-threshold", "5", "--cpu-window", "30"], "got 75"),
        (["--gpu-samples", "10", "--gpu-sample-interval", "7", "--no-gpu"], None),  # not sampled: no waits
        (["--gpu-samples", "10", "--gpu-sample-interval", "60", "--gpu-samples", "1"], None),  # one sample, no pause
        (["--cpu-window", "60"], None),  # no CPU threshold: no window
    ],
)
def test_the_readings_planned_waits_are_bounded(argv, refused, capsys):
    """A check that waits minutes would stop the instance on a Jupyter reading minutes old."""
    if refused is None:
        assert autostop.parse_args(["--time", "5", *argv]) is not None
        return
    with pytest.raises(SystemExit) as exit_info:
        autostop.parse_args(["--time", "5", *argv])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--cpu-window must be at most 60 seconds, " + refused in error


def test_jupyter_is_asked_again_after_the_readings(tmp_path, monkeypatch):
    """Idle, then GPUs idle after seconds of sampling, then a kernel opened meanwhile: not stopped."""
    metadata = write_metadata(tmp_path, {"ResourceName": "my-notebook", "ResourceArn": ARN})
    verdicts = [(True, "idle for 4000 s", "0 kernel(s), 0 terminal(s)"), (False, "kernel k is busy", "1 kernel(s)")]
    monkeypatch.setattr(autostop, "jupyter_verdict", lambda args: verdicts.pop(0))
    monkeypatch.setattr(autostop, "other_activity", lambda args: (None, ["1 GPU(s) at most 0%"]))
    monkeypatch.setattr(autostop, "stop_instance", lambda *args, **kwargs: pytest.fail("stopped"))
    lines = []
    assert autostop.run(options("--metadata-file", metadata), lines.append) == 0
    assert lines == ["busy: kernel k is busy (after the GPU/CPU readings: 1 GPU(s) at most 0%) [1 kernel(s)]"]
    assert verdicts == []


def test_no_second_question_without_readings(tmp_path, monkeypatch):
    metadata = write_metadata(tmp_path, {"ResourceName": "my-notebook", "ResourceArn": ARN})
    verdicts = [(True, "idle for 4000 s", "0 kernel(s), 0 terminal(s)")]
    monkeypatch.setattr(autostop, "jupyter_verdict", lambda args: verdicts.pop(0))
    lines = []
    assert autostop.run(options("--metadata-file", metadata, "--dry-run", "--no-gpu"), lines.append) == 0
    assert lines == ["idle: idle for 4000 s [0 kernel(s), 0 terminal(s)] -> would stop my-notebook (dry run)"]
