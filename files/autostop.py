#!/usr/bin/env python
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop this SageMaker notebook instance once its Jupyter server has been idle for --time seconds.

Runs every few minutes on the notebook itself (systemd timer or cron, installed by the on-start
lifecycle script).  Each run asks the local Jupyter server, decides, writes one log line, and
stops the instance only when it is idle.  Any doubt (server unreachable, unexpected answer,
missing metadata) logs the reason and exits non-zero without stopping.

Idle rule: the server is busy while any kernel is ``busy``, any kernel or terminal was active
within --time seconds, or (unless --ignore-connections) any kernel has a client connected.
A kernel stuck in ``starting`` is not busy.  With no kernels and no terminals, the server's start
time stands in for the last activity.  Times are compared in UTC.

Work Jupyter does not see (a training script started with ``nohup`` from a terminal that was then
closed): once Jupyter is idle, an instance with an NVIDIA GPU (--gpu-device exists) is sampled with
``nvidia-smi`` up to --gpu-samples times, and any GPU above --gpu-threshold in any sample keeps it up;
with --cpu-threshold, CPU use over --cpu-window (from /proc/stat) counts the same way.  A GPU or
CPU reading that fails is logged and the decision is made as without it.  An instance without the
GPU device starts no process: the busy tick and the CPU-only tick cost what they cost without GPUs.

Must run on Python 3.7+ with the standard library only; boto3 is imported only to stop.  The
on-start script runs it as ``python -E -s -S -m autostop`` from its folder, from bytecode compiled
(checked against the source's hash) at install: no site-packages and no compiling on each tick.
"""

import json
import os
import re
import socket
import sys
import time
from datetime import datetime, timedelta, timezone

__version__ = "1.1.0"

DEFAULT_METADATA_FILE = "/opt/ml/metadata/resource-metadata.json"
TOKEN_ENV = "JUPYTER_TOKEN"
# Exit statuses (documented in --help).
EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_STOP_FAILED = 3

# The SageMaker statuses (botocore's NotebookInstanceStatus) in which an idle instance is stopped: a
# copy of the ``autostop`` column of the collection's status table (plugins/module_utils/notebook.py,
# STATUS_TABLE; this script ships alone, and a unit test checks that the two agree for every status).
# PendingMaintenance is InService with maintenance scheduled: stopped like InService (whether AWS accepts
# StopNotebookInstance in it is not documented; a refusal is logged and the next check tries again).
STOP_STATUSES = ("InService", "PendingMaintenance")
# Maintenance in progress: SageMaker is at work on the instance; not stopped, the next check decides.
MAINTENANCE_STATUSES = ("InMaintenance",)

# The first NVIDIA device node the driver creates (one /dev/nvidiaN per GPU, plus /dev/nvidiactl):
# its presence is what tells a GPU instance from a CPU-only one without starting any process.
DEFAULT_GPU_DEVICE = "/dev/nvidia0"
# utilization.gpu: "percent of time over the past sample period during which one or more kernels was
# executing on the GPU"; the period is 1/6 s to 1 s depending on the product (NVIDIA, NVML API
# reference, nvmlUtilization_t, which nvidia-smi reports).  One line per GPU, in nvidia-smi's order;
# a GPU that cannot report it prints [N/A] or [Not Supported] (MIG mode, some models) instead.
NVIDIA_SMI = "nvidia-smi"
NVIDIA_SMI_QUERY = ("--query-gpu=utilization.gpu", "--format=csv,noheader,nounits")
# /proc/stat's first line (proc(5)): "cpu user nice system idle iowait irq softirq steal guest
# guest_nice" in USER_HZ ticks, summed over all CPUs; guest time is already counted in user and nice.
PROC_STAT = "/proc/stat"
# The most a check may plan to wait for its GPU samples and CPU window, in seconds (see parse_args).
READING_WAIT_LIMIT = 60

# Jupyter writes UTC with "Z" and omits the fraction when it is zero; Python 3.7's fromisoformat
# accepts neither "Z" nor every fraction length, so parse by hand.
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


class CheckError(Exception):
    """The idle state cannot be known for sure: never stop on it."""


def utcnow():
    return datetime.now(timezone.utc)


def parse_time(value):
    """Parse a Jupyter ISO 8601 timestamp into an aware UTC datetime (no offset means UTC)."""
    match = _TIMESTAMP.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise CheckError("unparseable timestamp %r" % (value,))
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone.utc)
    except ValueError as exc:
        raise CheckError("invalid timestamp %r: %s" % (value, exc)) from exc
    zone = match.group(8)
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        moment = moment - offset if zone[0] == "+" else moment + offset
    return moment


def format_time(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_metadata(path):
    """Return (name, arn, region-from-arn) from the notebook's resource metadata file."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise CheckError("cannot read instance metadata %s: %s" % (path, exc)) from exc
    if not isinstance(data, dict):
        raise CheckError("instance metadata %s is not a JSON object" % path)
    name, arn = data.get("ResourceName"), data.get("ResourceArn")
    if not isinstance(name, str) or not name:
        raise CheckError("instance metadata %s has no ResourceName" % path)
    region = None
    if isinstance(arn, str) and arn.count(":") >= 5:
        region = arn.split(":")[3] or None
    return name, arn, region


def _as_list(data, what):
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise CheckError("%s: expected a JSON list of objects" % what)
    return data


class HTTPError(Exception):
    """A malformed HTTP answer."""


class JupyterClient:
    """GETs on the local Jupyter server over one keep-alive connection.

    A minimal HTTP/1.1 client on a socket: http.client would pull in the email package and more,
    about a third of the whole check's start-up, on every tick of every notebook.
    """

    MAX_BODY = 16 * 1024 * 1024

    def __init__(self, host, port, scheme, token=None, timeout=10.0):
        self.host, self.port, self.scheme, self.timeout = host, port, scheme, timeout
        self.where = "%s://%s:%s" % (scheme, host, port)
        if token and any(ord(char) < 33 or ord(char) == 127 for char in token):
            raise CheckError("the Jupyter token contains blanks or control characters")
        self.head = "Host: %s:%s\r\nAccept: application/json\r\n" % (host, port)
        if token:
            self.head += "Authorization: token %s\r\n" % token
        self.sock = None
        self.buffer = b""

    def _connect(self):
        # An ASCII host as bytes: a str host loads the idna codec (and unicodedata) on every run.
        host = self.host.encode("ascii") if self.host.isascii() else self.host
        sock = socket.create_connection((host, self.port), timeout=self.timeout)
        if self.scheme == "https":
            import ssl  # pylint: disable=import-outside-toplevel

            # The server is this machine's own, behind a self-signed certificate: nothing to verify,
            # so no CA bundle to load either (a default context spends milliseconds on it).
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            try:
                sock = context.wrap_socket(sock)  # no SNI: nothing is verified, and it would load idna
            except OSError:
                sock.close()
                raise
        self.sock, self.buffer = sock, b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise HTTPError("connection closed mid-answer")
        self.buffer += data
        if len(self.buffer) > self.MAX_BODY:
            raise HTTPError("answer larger than %d bytes" % self.MAX_BODY)

    def _read_until(self, marker):
        while marker not in self.buffer:
            self._fill()
        data, _sep, self.buffer = self.buffer.partition(marker)
        return data

    def _read_exactly(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _exchange(self, target):
        """One GET; returns (status, body bytes)."""
        request = "GET %s HTTP/1.1\r\n%s\r\n" % (target, self.head)
        self.sock.sendall(request.encode("latin-1"))
        lines = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HTTPError("bad status line %r" % lines[0][:80])
        headers = {}
        for line in lines[1:]:
            name, _sep, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    self._read_until(b"\r\n")  # no trailers from Jupyter: the final empty line
                    break
                body += self._read_exactly(size)
                self._read_exactly(2)
        elif "content-length" in headers:
            body = self._read_exactly(int(headers["content-length"]))
        else:  # HTTP/1.0 style: the body runs to the end of the connection
            while True:
                try:
                    self._fill()
                except HTTPError:
                    break
            body, self.buffer = self.buffer, b""
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
            self.close()
        return int(parts[1]), body

    def get(self, path):
        """Return (status, parsed JSON or None).  no_track_activity keeps our own requests from
        counting as user activity."""
        target = path + ("&" if "?" in path else "?") + "no_track_activity=1"
        try:
            reused = self.sock is not None
            if not reused:
                self._connect()
            try:
                status, body = self._exchange(target)
            except (OSError, HTTPError):
                if not reused:
                    raise
                self.close()  # the server may drop an idle keep-alive connection: once more, afresh
                self._connect()
                status, body = self._exchange(target)
        except OSError as exc:
            self.close()
            raise CheckError(
                "Jupyter server at %s unreachable: %s" % (self.where, str(exc) or type(exc).__name__)
            ) from exc
        except (HTTPError, ValueError) as exc:
            self.close()
            raise CheckError("Jupyter server at %s: bad answer to %s: %s" % (self.where, path, exc)) from exc
        if status != 200:
            return status, None
        try:
            return 200, json.loads(body.decode("utf-8"))
        except ValueError as exc:
            raise CheckError("Jupyter server at %s: %s is not JSON" % (self.where, path)) from exc

    def get_ok(self, path):
        status, data = self.get(path)
        if status == 403:
            raise CheckError("Jupyter server at %s refused %s (403): wrong or missing token" % (self.where, path))
        if status != 200:
            raise CheckError("Jupyter server at %s answered %s to %s" % (self.where, status, path))
        return data

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""


def gather(client):
    """Read what the rule needs: kernels, terminals and (only when needed) the server status."""
    kernels = _as_list(client.get_ok("/api/kernels"), "/api/kernels")
    status, terminals = client.get("/api/terminals")
    if status == 404:  # terminals disabled on this server (HTML 404 page)
        terminals = []
    elif status == 403:
        raise CheckError("Jupyter server at %s refused /api/terminals (403): wrong or missing token" % client.where)
    elif status != 200:
        raise CheckError("Jupyter server at %s answered %s to /api/terminals" % (client.where, status))
    terminals = _as_list(terminals, "/api/terminals")
    server = None
    if needs_status(kernels, terminals):
        server = client.get_ok("/api/status")
        if not isinstance(server, dict):
            raise CheckError("/api/status: expected a JSON object")
    return kernels, terminals, server


def needs_status(kernels, terminals):
    """The status is needed for its start time (nothing open) or as the stand-in activity of a
    terminal that does not report its own (older servers)."""
    return (not kernels and not terminals) or any("last_activity" not in term for term in terminals)


def _count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decide(kernels, terminals, server, idle_seconds, now=None, ignore_connections=False):
    """Apply the idle rule.  Returns (idle, reason); raises CheckError when unsure."""
    now = utcnow() if now is None else now
    limit = timedelta(seconds=idle_seconds)
    activity = []  # (moment, what, verb) of everything open

    for kernel in kernels:
        what = "kernel %s (%s)" % (kernel.get("id", "?"), kernel.get("name", "?"))
        if kernel.get("execution_state") == "busy":
            return False, "%s is busy" % what
        if not ignore_connections and _count(kernel.get("connections")) > 0:
            return False, "%s has %d open connection(s)" % (what, kernel["connections"])
        if "last_activity" not in kernel:
            raise CheckError("%s has no last_activity" % what)
        activity.append((parse_time(kernel["last_activity"]), what, "active"))
    for terminal in terminals:
        what = "terminal %s" % terminal.get("name", "?")
        if "last_activity" in terminal:
            activity.append((parse_time(terminal["last_activity"]), what, "active"))
        else:
            # The server's last activity includes terminal traffic: a safe upper bound.
            moment = _server_time(server, "last_activity")
            activity.append((moment, "%s (no last_activity; server activity)" % what, "active"))
    if not activity:
        activity.append((_server_time(server, "started"), "server (no kernels or terminals)", "started"))
    moment, what, verb = max(activity, key=lambda item: item[0])
    quiet = now - moment
    quiet_text = "%d s" % max(0, int(quiet.total_seconds()))
    if quiet < limit:
        return False, "%s %s %s ago (limit %d s)" % (what, verb, quiet_text, idle_seconds)
    return True, "idle for %s: %s %s at %s (limit %d s)" % (quiet_text, what, verb, format_time(moment), idle_seconds)


def _server_time(server, key):
    if not isinstance(server, dict) or key not in server:
        raise CheckError("/api/status has no %s" % key)
    return parse_time(server[key])


class ReadingError(Exception):
    """A GPU or CPU reading failed: logged, and the decision is made without it."""


def find_command(name, search_path=None):
    """The executable ``name`` on PATH, or None (by hand: shutil's imports would cost every tick)."""
    if "/" in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    search_path = os.environ.get("PATH", os.defpath) if search_path is None else search_path
    for folder in search_path.split(os.pathsep):
        if not folder:  # an empty entry means the current directory: never, in a root job
            continue
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def parse_gpu_utilization(text):
    """nvidia-smi's utilization.gpu lines -> ([(gpu, percent)], [(gpu, what it printed instead)])."""
    readable, unreadable = [], []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for gpu, line in enumerate(lines):
        try:
            value = float(line)
        except ValueError:
            unreadable.append((gpu, line[:40]))
            continue
        if not 0 <= value <= 100:
            unreadable.append((gpu, line[:40]))
            continue
        readable.append((gpu, value))
    return readable, unreadable


def sample_gpus(command, timeout):
    """One nvidia-smi run (the one process a sample costs): parse_gpu_utilization of its output."""
    import subprocess  # pylint: disable=import-outside-toplevel  # GPU instances only: it costs a CPU-only tick

    pipe = subprocess.PIPE
    try:
        process = subprocess.Popen([command, *NVIDIA_SMI_QUERY], stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe)
    except OSError as exc:
        raise ReadingError("cannot run %s: %s" % (command, exc.strerror or exc)) from exc
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        # Not subprocess.run: it waits for the killed process without a limit, and an nvidia-smi stuck
        # in the driver (a GPU fallen off the bus) cannot be killed; this check must end all the same.
        process.kill()
        try:
            process.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        raise ReadingError("%s gave no answer within %d s" % (command, timeout)) from exc
    output = stdout.decode("utf-8", "replace")
    if process.returncode != 0:
        said = (stderr.decode("utf-8", "replace").strip() or output.strip()).splitlines()
        detail = ": " + said[0][:160] if said else ""
        raise ReadingError("%s exited with status %d%s" % (command, process.returncode, detail))
    readable, unreadable = parse_gpu_utilization(output)
    if not readable:
        printed = ", ".join(text for _gpu, text in unreadable) or "no lines"
        raise ReadingError("%s reported no utilization (%s)" % (command, printed))
    return readable, unreadable


def _percent(value):
    return "%g%%" % value


def check_gpus(threshold, samples, interval, timeout, sample=None, sleep=time.sleep):
    """Sample every GPU up to ``samples`` times, ``interval`` seconds apart: busy at the first sample in
    which any GPU is above ``threshold`` (a short dip in one sample does not make the instance idle).
    Returns (busy, text); raises ReadingError when it cannot tell."""
    command = find_command(NVIDIA_SMI)
    if command is None:
        raise ReadingError("%s not found on PATH (%s)" % (NVIDIA_SMI, os.environ.get("PATH", os.defpath)))
    sample = sample_gpus if sample is None else sample
    peak, gpus, unreadable = 0.0, 0, []
    for number in range(1, samples + 1):
        if number > 1:
            sleep(interval)
        readable, unreadable = sample(command, timeout)
        gpu, value = max(readable, key=lambda item: item[1])
        if value > threshold:
            above = (gpu, _percent(value), _percent(threshold), number, samples)
            return True, "GPU %d at %s, above %s (sample %d of %d)" % above
        peak, gpus = max(peak, value), len(readable)
    text = "%d GPU(s) at most %s in %d sample(s) %g s apart (threshold %s)" % (
        gpus,
        _percent(peak),
        samples,
        interval,
        _percent(threshold),
    )
    if unreadable:
        text += "; unreadable: %s" % ", ".join("GPU %d %s" % item for item in unreadable)
    return False, text


def read_cpu_times(path=PROC_STAT):
    """(busy, total) ticks of all CPUs from /proc/stat; steal time (another guest's) is not busy."""
    try:
        with open(path) as handle:
            fields = handle.readline().split()
        if len(fields) < 9 or fields[0] != "cpu":
            raise ValueError("first line is not the cpu total")
        user, nice, system, idle, iowait, irq, softirq, steal = (int(field) for field in fields[1:9])
    except (OSError, ValueError) as exc:
        raise ReadingError("cannot read CPU times from %s: %s" % (path, exc)) from exc
    busy = user + nice + system + irq + softirq
    return busy, busy + idle + iowait + steal


def check_cpu(threshold, window, read=read_cpu_times, sleep=time.sleep):
    """CPU use of the whole instance over ``window`` seconds: (busy, text)."""
    busy_before, total_before = read()
    sleep(window)
    busy_after, total_after = read()
    if total_after <= total_before:
        raise ReadingError("no CPU time passed in %g s" % window)
    used = round(100.0 * (busy_after - busy_before) / (total_after - total_before), 1)
    above = used > threshold
    relation = "above" if above else "at or below"
    return above, "CPU at %s over %g s, %s %s" % (_percent(used), window, relation, _percent(threshold))


def other_activity(args):
    """Work Jupyter cannot see, once it is idle: (busy reason or None, notes for the log line)."""
    readings = []  # (what a failed reading means, the reading), GPU first: the usual reason to stay up
    if not args.no_gpu and os.path.exists(args.gpu_device):
        gpu = (args.gpu_threshold, args.gpu_samples, args.gpu_sample_interval, args.timeout)
        readings.append(("GPU not checked, deciding as without GPUs", lambda: check_gpus(*gpu)))
    if args.cpu_threshold is not None:
        cpu = (args.cpu_threshold, args.cpu_window)
        readings.append(("CPU not checked, deciding without it", lambda: check_cpu(*cpu)))
    notes = []
    for failed, read in readings:
        try:
            busy, text = read()
        except ReadingError as exc:
            notes.append("%s: %s" % (failed, exc))
            continue
        if busy:
            return text, notes
        notes.append(text)
    return None, notes


def stop_due(name, status):
    """Whether an idle instance in SageMaker ``status`` is stopped, and why not: (due, message)."""
    if status in STOP_STATUSES:
        return True, None
    if status in MAINTENANCE_STATUSES:
        return False, "%s is %s, maintenance in progress: not stopping; the next check decides" % (name, status)
    return False, "%s is %s, not InService: nothing to stop" % (name, status)


def stop_instance(name, region, endpoint_url=None, timeout=10):
    """Stop the instance if its status is one of STOP_STATUSES.  Returns (exit status, message)."""
    # pylint: disable=import-outside-toplevel
    if sys.flags.no_site:
        # The timer runs the check with -S (no site: the .pth files of a conda environment cost
        # milliseconds on every tick); boto3 lives in site-packages, added now that a stop is due.
        import site

        site.main()
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError
    except ImportError as exc:
        return EXIT_STOP_FAILED, "cannot stop %s: boto3 is not importable by %s (%s)" % (name, sys.executable, exc)
    where = endpoint_url or "the SageMaker API in %s" % region
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2, "mode": "standard"})
    try:
        client = boto3.client("sagemaker", region_name=region, endpoint_url=endpoint_url or None, config=config)
        status = client.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]
        due, why_not = stop_due(name, status)
        if not due:
            return EXIT_OK, why_not
        client.stop_notebook_instance(NotebookInstanceName=name)
    except (EndpointConnectionError, ConnectTimeoutError) as exc:
        return EXIT_STOP_FAILED, (
            "cannot reach %s to stop %s (%s); an instance without internet access needs the "
            "com.amazonaws.%s.sagemaker.api interface endpoint in its VPC" % (where, name, exc, region)
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return EXIT_STOP_FAILED, "SageMaker refused to stop %s: %s: %s" % (
            name,
            error.get("Code"),
            error.get("Message"),
        )
    except BotoCoreError as exc:
        return EXIT_STOP_FAILED, "cannot stop %s through %s: %s" % (name, where, exc)
    return EXIT_OK, "stop requested for %s (was %s)" % (name, status)


class Log:
    """One timestamped line per event, appended to a file or written to stdout."""

    def __init__(self, path=None):
        self.path = path

    def __call__(self, message):
        line = "%s autostop: %s\n" % (format_time(utcnow()), message)
        if self.path:
            try:
                with open(self.path, "a") as handle:
                    handle.write(line)
                return
            except OSError as exc:
                sys.stderr.write("autostop: cannot write %s (%s)\n" % (self.path, exc))
        sys.stdout.write(line)
        sys.stdout.flush()


class UsageError(ValueError):
    """A bad option value (argparse reports it as a usage error)."""


def ranged(kind, low, high, rule):
    """An option converter: ``kind(text)`` within [low, high], else a UsageError stating ``rule``."""

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # NaN fails the comparison too
            raise UsageError("must be %s, got %r" % (rule, text))
        return value

    return convert


positive_int = ranged(int, 1, float("inf"), "a whole number of seconds greater than 0")
port_number = ranged(int, 1, 65535, "a port number 1-65535")
percent = ranged(float, 0, 100, "a percentage 0-100")
sample_count = ranged(int, 1, 10, "a whole number 1-10")
short_seconds = ranged(float, 0, 60, "0-60 seconds")
window_seconds = ranged(float, 0.1, 60, "0.1-60 seconds")


def scheme_name(text):
    if text not in ("https", "http"):
        raise UsageError("must be https or http, got %r" % text)
    return text


# One table for both parsers: (option, converter or "flag", default, metavar, help).
OPTIONS = (
    ("--time", positive_int, None, "SECONDS", "idle time after which the instance is stopped (required, > 0)"),
    ("--host", str, "localhost", None, "Jupyter server host (default: localhost)"),
    ("--port", port_number, 8443, None, "Jupyter server port (default: 8443)"),
    ("--scheme", scheme_name, "https", "{https,http}",
     "Jupyter server scheme (default: https; the local certificate is not verified)"),
    ("--token", str, None, None,
     "Jupyter API token, for servers that need one (default: the %s environment variable; prefer it, a command "
     "line is visible to every local user)" % TOKEN_ENV),
    ("--ignore-connections", "flag", False, None,
     "do not count clients connected to kernels (e.g. a browser tab left open) as activity"),
    ("--dry-run", "flag", False, None, "decide and log, never stop"),
    ("--metadata-file", str, DEFAULT_METADATA_FILE, None,
     "instance metadata with ResourceName and ResourceArn (default: %s)" % DEFAULT_METADATA_FILE),
    ("--region", str, None, None, "AWS region (default: the region in the ResourceArn)"),
    ("--endpoint-url", str, None, None,
     "SageMaker API endpoint, e.g. a VPC interface endpoint or a local emulator (default: the regional endpoint "
     "boto3 chooses)"),
    ("--timeout", positive_int, 10, "SECONDS",
     "timeout of each Jupyter and SageMaker request and of each nvidia-smi run (default: 10)"),
    ("--log-file", str, None, None, "append log lines to this file (default: standard output)"),
    ("--gpu-threshold", percent, 5.0, "PERCENT",
     "a GPU whose utilization (nvidia-smi utilization.gpu) is above this keeps the instance up (default: 5)"),
    ("--gpu-samples", sample_count, 3, "N",
     "GPU samples per check, 1-10; any one above the threshold means busy, so a short dip is not idleness "
     "(default: 3)"),
    ("--gpu-sample-interval", short_seconds, 1.0, "SECONDS",
     "pause between GPU samples, 0-60 (default: 1, about the period each utilization reading covers)"),
    ("--gpu-device", str, DEFAULT_GPU_DEVICE, "PATH",
     "GPUs are sampled, one nvidia-smi process per sample, only when this device exists; an instance without it "
     "starts no process (default: %s)" % DEFAULT_GPU_DEVICE),
    ("--no-gpu", "flag", False, None, "never sample GPUs"),
    ("--cpu-threshold", percent, None, "PERCENT",
     "CPU use above this share of all CPUs, measured from /proc/stat over --cpu-window, keeps the instance up "
     "(default: CPU use is not counted)"),
    ("--cpu-window", window_seconds, 2.0, "SECONDS", "how long CPU use is measured, 0.1-60 (default: 2)"),
)  # fmt: skip
REQUIRED = ("--time",)


def _dest(option):
    return option[2:].replace("-", "_")


class Options:  # pylint: disable=too-few-public-methods
    """Parsed options (the fast path's stand-in for argparse.Namespace)."""

    def __init__(self, **values):
        self.__dict__.update(values)


def fast_parse(argv):
    """Parse the plain forms a timer passes (``--opt value``, ``--opt=value``, flags) without
    importing argparse, a large share of each run's start-up.  Returns None for anything else
    (help, version, errors, abbreviations): argparse then handles it with its full messages."""
    table = {option: (convert, default) for option, convert, default, _metavar, _help in OPTIONS}
    values = {_dest(option): default for option, (_convert, default) in table.items()}
    seen = set()
    args = list(argv)
    while args:
        word = args.pop(0)
        option, has_value, value = word.partition("=")
        if option not in table:
            return None
        convert = table[option][0]
        if convert == "flag":
            if has_value:
                return None
            values[_dest(option)] = True
        else:
            if not has_value:
                if not args or args[0].startswith("--"):
                    return None
                value = args.pop(0)
            try:
                values[_dest(option)] = convert(value)
            except UsageError:
                return None
        seen.add(option)
    if any(option not in seen for option in REQUIRED):
        return None
    return Options(**values)


def build_parser():
    import argparse  # pylint: disable=import-outside-toplevel

    def checked(convert):
        def wrapper(text):
            try:
                return convert(text)
            except UsageError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from exc

        wrapper.__name__ = convert.__name__
        return wrapper

    parser = argparse.ArgumentParser(
        prog="autostop.py",
        description="Stop this SageMaker notebook instance when its Jupyter server has been idle for --time seconds.",
        epilog=(
            "Idle means: no kernel busy, no kernel or terminal active within --time seconds, no client connected to a "
            "kernel (unless --ignore-connections); with nothing open, the server's start time counts as the last "
            "activity. Once Jupyter is idle, a GPU above --gpu-threshold in any of --gpu-samples samples (when "
            "--gpu-device exists) or, with --cpu-threshold, CPU use over --cpu-window keeps the instance up; a GPU or "
            "CPU reading that fails (nvidia-smi missing or failing) is logged and the decision is made without it. "
            "Exit status: 0 decided (busy, stopped, dry run, or neither InService nor PendingMaintenance); "
            "1 the state could not be read (nothing stopped); 2 usage error; 3 the stop failed."
        ),
    )
    for option, convert, default, metavar, text in OPTIONS:
        if convert == "flag":
            parser.add_argument(option, action="store_true", help=text)
        else:
            parser.add_argument(
                option, type=checked(convert), default=default, metavar=metavar, required=option in REQUIRED, help=text
            )
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    return parser


def reading_wait_error(args):
    """The planned waits of one check's GPU and CPU readings must end well within the 5-minute timer
    (a stop decided long after Jupyter was read would be a stop on stale news): None, or the error."""
    waits = 0.0 if args.no_gpu else (args.gpu_samples - 1) * args.gpu_sample_interval
    waits += 0.0 if args.cpu_threshold is None else args.cpu_window
    if waits > READING_WAIT_LIMIT:
        return "(--gpu-samples - 1) x --gpu-sample-interval + --cpu-window must be at most %d seconds, got %g" % (
            READING_WAIT_LIMIT,
            waits,
        )
    return None


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = fast_parse(argv)
    parser = None
    if args is None:
        parser = build_parser()
        args = parser.parse_args(argv)
    problem = reading_wait_error(args)
    if problem:
        (parser or build_parser()).error(problem)
    return args


def jupyter_verdict(args):
    """Ask the Jupyter server and apply the idle rule: (idle, reason, counts); raises CheckError."""
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    client = JupyterClient(args.host, args.port, args.scheme, token=token, timeout=args.timeout)
    try:
        kernels, terminals, server = gather(client)
    finally:
        client.close()
    idle, reason = decide(kernels, terminals, server, args.time, ignore_connections=args.ignore_connections)
    return idle, reason, "%d kernel(s), %d terminal(s)" % (len(kernels), len(terminals))


def run(args, log):
    """Read, decide, act.  Returns the exit status."""
    try:
        name, _arn, arn_region = read_metadata(args.metadata_file)
        region = args.region or arn_region
        if not region:
            raise CheckError("no region: give --region or a ResourceArn in %s" % args.metadata_file)
        idle, reason, counts = jupyter_verdict(args)
        if not idle:
            log("busy: %s [%s]" % (reason, counts))
            return EXIT_OK
        # Only now, and only on an instance with a GPU device or a CPU threshold: a busy tick stays cheap.
        busy, notes = other_activity(args)
        if busy:
            log("busy: %s; Jupyter %s [%s]" % (busy, reason, counts))
            return EXIT_OK
        if notes:
            # Readings took seconds: ask Jupyter again, so a kernel opened meanwhile is not stopped under its user.
            idle, again, counts = jupyter_verdict(args)
            if not idle:
                log("busy: %s (after the GPU/CPU readings: %s) [%s]" % (again, "; ".join(notes), counts))
                return EXIT_OK
    except CheckError as exc:
        log("unsure, not stopping: %s" % exc)
        return EXIT_CHECK_FAILED
    reason = "; ".join([reason] + notes)
    if args.dry_run:
        log("idle: %s [%s] -> would stop %s (dry run)" % (reason, counts, name))
        return EXIT_OK
    log("idle: %s [%s] -> stopping %s" % (reason, counts, name))
    status, message = stop_instance(name, region, args.endpoint_url, timeout=args.timeout)
    log(message)
    return status


def main(argv=None):
    args = parse_args(argv)
    return run(args, Log(args.log_file))


if __name__ == "__main__":
    sys.exit(main())
