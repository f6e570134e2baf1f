# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, reset and stop the local AWS emulator (moto server + gaps.py) on a free loopback port.

Library:  ``with Emulator(phase_seconds=2) as emu: emu.client("sagemaker") ...``
Command:  ``python -m tests.emulator run [--phase-seconds S] -- COMMAND ARGS...`` (from the folder
that holds ``tests/``, or with it on PYTHONPATH) starts the emulator, runs COMMAND with
``AWS_ENDPOINT_URL`` and test credentials in its environment, stops the emulator and exits with
COMMAND's status.  ``start``/``stop`` with ``--state-dir`` keep it up across commands (the demo).
"""

import argparse
import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"  # the emulator accepts any credentials; this is not a secret
# A test client's mark of the VPC endpoint it stands behind (authz.py evaluates that endpoint's policy).
ENDPOINT_HEADER = "x-emulator-vpc-endpoint"
# The server runs as ``python -m tests.emulator.serve`` with the folder that holds this ``tests``
# package on its PYTHONPATH, so it is this copy of the emulator whatever the caller's working directory.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_certificate(directory, host="127.0.0.1"):
    """A self-signed certificate for the loopback address: AWS endpoints are TLS-only, and bucket
    policies that deny ``aws:SecureTransport: false`` must see TLS.  Returns (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secure-sagemaker-emulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = os.path.join(directory, "emulator.crt"), os.path.join(directory, "emulator.key")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Emulator:
    """A moto server process on loopback; ``url`` is its endpoint."""

    def __init__(
        self,
        port=None,
        phase_seconds=None,
        host="127.0.0.1",
        log_path=None,
        tls=False,
        cert_dir=None,
        consistency_seconds=None,
    ):
        self.host = host
        self.port = port
        self.phase_seconds = phase_seconds
        # The eventual-consistency model of gaps.py (new resources not found, new roles not
        # assumable, first starts ignored, for this many seconds); None: off.
        self.consistency_seconds = consistency_seconds
        self.log_path = log_path
        self.tls = tls
        self.cert_dir = cert_dir
        self.ca_bundle = None
        self.process = None

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @classmethod
    def from_environment(cls, environ=None):
        """The emulator a parent process started (``python -m tests.emulator run`` exports
        AWS_ENDPOINT_URL and, with TLS, AWS_CA_BUNDLE), or None.  It is not stopped by this object."""
        environ = os.environ if environ is None else environ
        url = environ.get("AWS_ENDPOINT_URL")
        if not url:
            return None
        scheme, _sep, address = url.partition("://")
        host, _sep, port = address.rstrip("/").rpartition(":")
        emulator = cls(host=host, port=int(port), tls=scheme == "https")
        emulator.ca_bundle = environ.get("AWS_CA_BUNDLE") if emulator.tls else None
        return emulator

    def _ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_bundle) if self.tls else None

    def env(self):
        """Environment for boto3, the AWS CLI and autostop.py; amazon.aws modules take the same
        values through module_defaults (endpoint_url, access_key, secret_key, region)."""
        env = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
        if self.tls:
            # boto3, the AWS CLI and amazon.aws modules (aws_ca_bundle) all read this variable.
            env["AWS_CA_BUNDLE"] = self.ca_bundle
        return env

    def start(self, timeout=30):
        env = dict(os.environ)
        env.pop("AWS_ENDPOINT_URL", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
        if self.phase_seconds is not None:
            env["EMULATOR_PHASE_SECONDS"] = str(self.phase_seconds)
        if self.consistency_seconds is not None:
            env["EMULATOR_CONSISTENCY_SECONDS"] = str(self.consistency_seconds)
        tls_args = []
        if self.tls:
            self.cert_dir = self.cert_dir or tempfile.mkdtemp(prefix="emulator-tls-")
            self.ca_bundle, key_path = make_certificate(self.cert_dir, self.host)
            tls_args = ["--ssl-cert", self.ca_bundle, "--ssl-key", key_path]
        fixed = self.port is not None
        for _attempt in range(1 if fixed else 3):
            # A free port can be taken between the probe and the bind: try another one.
            self.port = self.port if fixed else free_port(self.host)
            log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.emulator.serve", "-H", self.host, "-p", str(self.port)] + tls_args,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError(f"the AWS emulator did not start on {self.host} (log: {self.log_path})")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/moto-api/data.json", timeout=2, context=self._ssl_context()):
                    return True
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        return False

    def reset(self):
        """Drop every resource, as a fresh server would have none."""
        request = urllib.request.Request(self.url + "/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10, context=self._ssl_context()) as response:
            response.read()

    def request_counts(self, reset=False):
        """AWS calls served so far, ``{service: {action: n}}`` (see counter.py); ``reset`` zeroes them."""
        request = urllib.request.Request(self.url + "/moto-api/request-counts", method="DELETE" if reset else "GET")
        with urllib.request.urlopen(request, timeout=10, context=self._ssl_context()) as response:
            return json.loads(response.read())

    def stop(self):
        stop_process_group(self.process)
        self.process = None

    def client(self, service, max_attempts=1, credentials=None, behind_endpoint=None):
        """A boto3 client on the emulator; one attempt so that failures show at once.
        ``credentials``: STS ``Credentials`` (AccessKeyId, SecretAccessKey, SessionToken) to call as.
        ``behind_endpoint``: a VPC endpoint id the client's requests come through (ENDPOINT_HEADER:
        the emulator adds aws:SourceVpce and evaluates that endpoint's policy)."""
        import boto3
        from botocore.config import Config

        credentials = credentials or {"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY}
        client = boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"),
            verify=self.ca_bundle if self.tls else None,
            config=Config(retries={"max_attempts": max_attempts, "mode": "standard"}),
        )
        if behind_endpoint:

            def mark(request, **_kwargs):
                request.headers[ENDPOINT_HEADER] = behind_endpoint

            client.meta.events.register("before-sign", mark)
        return client

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def stop_process_group(process, timeout=10):
    """Stop a server started with ``start_new_session=True`` and its children: SIGTERM, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


# What the on-start lifecycle script does after checking the digest (on-start.sh.j2): the copy in a
# folder of its own, with bytecode checked against the source's hash, run as `python -E -s -S -m autostop`
# from that folder.  The tests and the benchmark run autostop.py this way, as the notebook does.
AUTOSTOP_RUN = ("-E", "-s", "-S", "-m", "autostop")


def install_autostop(source, folder, python=sys.executable):
    """Install autostop.py into ``folder`` as the on-start script does; returns the folder."""
    os.makedirs(folder, exist_ok=True)
    with open(source, "rb") as original, open(os.path.join(folder, "autostop.py"), "wb") as copy:
        copy.write(original.read())
    compile_it = (
        "import py_compile as c, sys; "
        "c.compile(sys.argv[1], doraise=True, invalidation_mode=c.PycInvalidationMode.CHECKED_HASH)"
    )
    subprocess.run([python, "-E", "-S", "-c", compile_it, os.path.join(folder, "autostop.py")], check=True)
    return folder


def _terminate_group(pid, timeout=10):
    """SIGTERM the server's process group, wait for it to go, SIGKILL it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def _state_file(state_dir):
    return os.path.join(state_dir, "emulator.json")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    for name in ("run", "start"):
        action = sub.add_parser(name)
        action.add_argument("--port", type=int, default=None, help="default: a free loopback port")
        action.add_argument(
            "--phase-seconds",
            default=os.environ.get("EMULATOR_PHASE_SECONDS"),
            help="timing model, e.g. 3 or Pending=2,Stopping=10 (default: instant)",
        )
        action.add_argument(
            "--consistency-seconds",
            default=os.environ.get("EMULATOR_CONSISTENCY_SECONDS"),
            help="eventual-consistency model: new resources not found, new roles not assumable, first starts "
            "ignored, for this many seconds (default: off)",
        )
        action.add_argument("--log", default=None, help="server log file")
        action.add_argument(
            "--tls",
            dest="tls",
            action="store_true",
            default=os.environ.get("EMULATOR_TLS") == "1",
            help="serve https with a fresh self-signed certificate (AWS_CA_BUNDLE names it)",
        )
        action.add_argument("--no-tls", dest="tls", action="store_false", help="serve plain http")
    sub.choices["run"].add_argument("command", nargs=argparse.REMAINDER)
    sub.choices["start"].add_argument("--state-dir", required=True)
    sub.add_parser("stop").add_argument("--state-dir", required=True)
    args = parser.parse_args(argv)

    if args.action == "stop":
        try:
            with open(_state_file(args.state_dir)) as handle:
                pid = json.load(handle)["pid"]
        except (OSError, ValueError, KeyError):
            return 0
        _terminate_group(pid)
        os.remove(_state_file(args.state_dir))
        return 0

    cert_dir = getattr(args, "state_dir", None)
    if cert_dir:
        os.makedirs(cert_dir, exist_ok=True)
    emulator = Emulator(
        port=args.port,
        phase_seconds=args.phase_seconds,
        log_path=args.log,
        tls=args.tls,
        cert_dir=cert_dir,
        consistency_seconds=args.consistency_seconds,
    ).start()
    if args.action == "start":
        with open(_state_file(args.state_dir), "w") as handle:
            json.dump({"pid": emulator.process.pid, "url": emulator.url, "env": emulator.env()}, handle)
        print(emulator.url)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        return subprocess.call(command, env={**os.environ, **emulator.env()})
    finally:
        emulator.stop()


if __name__ == "__main__":
    # One way to run it (tools/test.sh, tools/molecule.sh, tools/demo.sh): never silently do nothing.
    sys.exit("run the emulator as a package, from the folder that holds tests/: python -m tests.emulator ARGS")
