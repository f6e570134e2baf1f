# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for suites that drive real programs: the local AWS emulator and real Jupyter servers.

``emulator``: the emulator ``python -m tests.emulator run`` started (``AWS_ENDPOINT_URL``), else a
private one.
``jupyter``: a factory that starts ``jupyter server`` (http or https with a self-signed
certificate, with or without a token) and stops it after the test.
"""

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.emulator import harness

COLLECTION = Path(__file__).resolve().parents[2]


def error_codes(attempts):
    """{what: the AWS error code of ``attempt()``, or "allowed"} for {what: attempt}."""
    from botocore.exceptions import ClientError

    codes = {}
    for what, attempt in attempts.items():
        try:
            attempt()
            codes[what] = "allowed"
        except ClientError as error:
            codes[what] = error.response["Error"]["Code"]
    return codes


AUTOSTOP = COLLECTION / "files" / "autostop.py"
free_port = harness.free_port


@pytest.fixture(scope="session")
def emulator():
    """An ``Emulator`` whose url/env()/client()/reset() reach a running emulator."""
    running = harness.Emulator.from_environment()
    if running:
        yield running
        return
    with harness.Emulator() as emu:
        yield emu


# --- Jupyter ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost, as SageMaker's Jupyter has (the emulator's kind)."""
    return harness.make_certificate(str(tmp_path_factory.mktemp("tls")))


class JupyterServer:
    """A real ``jupyter server`` process on 127.0.0.1 with its own config, data and runtime dirs."""

    def __init__(self, folder, scheme="https", token="", certificate=None, extra_args=()):
        self.folder = Path(folder)
        self.scheme = scheme
        self.token = token
        self.certificate = certificate
        self.extra_args = list(extra_args)
        self.port = None
        self.ready_at = None
        self.process = None
        self.log_path = self.folder / "jupyter.log"
        self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._ssl.check_hostname = False
        self._ssl.verify_mode = ssl.CERT_NONE
        self.websockets = []

    @property
    def url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, timeout=60):
        for sub in ("root", "config", "data", "runtime"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.folder / "config"),
            JUPYTER_DATA_DIR=str(self.folder / "data"),
            JUPYTER_RUNTIME_DIR=str(self.folder / "runtime"),
            IPYTHONDIR=str(self.folder / "ipython"),
        )
        env.pop("JUPYTER_TOKEN", None)
        self.port = free_port()
        args = [
            sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.folder / 'root'}", f"--IdentityProvider.token={self.token}",
            "--ServerApp.disable_check_xsrf=True",
        ]  # fmt: skip
        if self.scheme == "https":
            certfile, keyfile = self.certificate
            args += [f"--ServerApp.certfile={certfile}", f"--ServerApp.keyfile={keyfile}"]
        args += self.extra_args
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                args, cwd=self.folder / "root", env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited: {self.log_path.read_text()[-3000:]}")
            try:
                self.request("GET", "/api")  # needs no auth
                self.ready_at = time.monotonic()
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"jupyter server did not answer: {self.log_path.read_text()[-3000:]}")

    def stop(self):
        for socket_ in self.websockets:
            try:
                socket_.close()
            except Exception:  # noqa: BLE001 - teardown must go on
                pass
        harness.stop_process_group(self.process, timeout=15)
        self.process = None

    def request(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        context = self._ssl if self.scheme == "https" else None
        with urllib.request.urlopen(request, timeout=15, context=context) as response:
            text = response.read()
        return json.loads(text) if text else None

    def kernels(self):
        return self.request("GET", "/api/kernels?no_track_activity=1")

    def kernel(self, kernel_id):
        return next(k for k in self.kernels() if k["id"] == kernel_id)

    def start_kernel(self):
        return self.request("POST", "/api/kernels", {"name": "python3"})["id"]

    def start_terminal(self):
        return self.request("POST", "/api/terminals")

    def connect(self, kernel_id, timeout=60):
        """A browser-like client on the kernel's channels; returns once the kernel answered."""
        import websocket  # websocket-client, a jupyter_server dependency

        scheme = "wss" if self.scheme == "https" else "ws"
        url = f"{scheme}://127.0.0.1:{self.port}/api/kernels/{kernel_id}/channels"
        headers = [f"Authorization: token {self.token}"] if self.token else []
        socket_ = websocket.create_connection(
            url, header=headers, timeout=timeout, sslopt={"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
        )
        self.websockets.append(socket_)
        client = KernelClient(socket_)
        client.request("kernel_info_request", {}, timeout=timeout)
        return client

    def clean(self):
        """Close clients, shut kernels down and close terminals: back to a server with nothing open."""
        for socket_ in self.websockets:
            socket_.close()
        self.websockets = []
        for kernel in self.kernels():
            self.request("DELETE", f"/api/kernels/{kernel['id']}")
        try:
            terminals = self.request("GET", "/api/terminals?no_track_activity=1")
        except urllib.error.HTTPError as exc:
            if exc.code != 404:  # 404: terminals disabled
                raise
            terminals = []
        for terminal in terminals:
            self.request("DELETE", f"/api/terminals/{terminal['name']}")

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")


class KernelClient:
    """Jupyter messaging over the websocket (the JSON protocol a browser speaks)."""

    def __init__(self, socket_):
        self.socket = socket_
        self.session = uuid.uuid4().hex

    def send(self, msg_type, content, channel="shell"):
        msg_id = uuid.uuid4().hex
        message = {
            "header": {
                "msg_id": msg_id, "username": "test", "session": self.session, "msg_type": msg_type,
                "version": "5.3", "date": datetime.now(UTC).isoformat(),
            },
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel, "buffers": [],
        }  # fmt: skip
        self.socket.send(json.dumps(message))
        return msg_id

    def wait(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.socket.settimeout(max(0.1, deadline - time.monotonic()))
            message = json.loads(self.socket.recv())
            if predicate(message):
                return message
        raise AssertionError("no such kernel message in time")

    def request(self, msg_type, content, timeout=60):
        msg_id = self.send(msg_type, content)
        return self.wait(lambda m: m.get("parent_header", {}).get("msg_id") == msg_id
                         and m["header"]["msg_type"].endswith("_reply"), timeout)  # fmt: skip

    def run_silently(self, code, timeout=60):
        """Send a silent cell and return once the kernel reports itself busy with it."""
        msg_id = self.send(
            "execute_request",
            {"code": code, "silent": True, "store_history": False, "user_expressions": {}, "allow_stdin": False,
             "stop_on_error": True},
        )  # fmt: skip
        self.wait(
            lambda m: (
                m.get("parent_header", {}).get("msg_id") == msg_id
                and m["header"]["msg_type"] == "status"
                and m["content"].get("execution_state") == "busy"
            ),
            timeout,
        )

    def close(self):
        self.socket.close()


@pytest.fixture(scope="module")
def _jupyter_pool(tmp_path_factory, certificate):
    servers = {}

    def get(scheme, token, extra_args):
        key = (scheme, token, tuple(extra_args))
        if key not in servers:
            folder = tmp_path_factory.mktemp("jupyter")
            servers[key] = JupyterServer(folder, scheme, token, certificate, extra_args).start()
        return servers[key]

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture
def jupyter(_jupyter_pool):
    """Factory: ``jupyter(scheme="https", token="", extra_args=())`` -> a running JupyterServer.

    A jupyter server takes seconds to start on a busy machine, so each configuration is started
    once per test module and emptied (clients, kernels, terminals) after every test; a test that
    needs the server's start to be long past waits with ``server.ready_at``.
    """
    used = []

    def get(scheme="https", token="", extra_args=()):
        server = _jupyter_pool(scheme, token, extra_args)
        used.append(server)
        return server

    yield get
    for server in used:
        server.clean()


@pytest.fixture
def autostop_runner(tmp_path):
    """Run files/autostop.py as a process, installed and started as the on-start script does
    (``python -E -s -S -m autostop`` from its folder): ``run(*args, env=None) -> (returncode, log text)``."""
    folder = harness.install_autostop(AUTOSTOP, tmp_path / "autostop")

    def run(*args, env=None, timeout=120):
        log = tmp_path / "autostop.log"
        if log.exists():
            log.unlink()
        command = [sys.executable, *harness.AUTOSTOP_RUN, *map(str, args), "--log-file", str(log)]
        result = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        text = log.read_text() if log.exists() else ""
        return result.returncode, text + result.stdout + result.stderr

    return run
