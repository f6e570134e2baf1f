# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cost of one idle check of files/autostop.py as a whole process: wall time and peak RSS.

Starts a real ``jupyter server`` (https with a self-signed certificate and no token, as on
SageMaker), opens 0, 5 and 50 kernels, and runs ``autostop.py --time 3600 --dry-run`` several times
for each count, installed and started as the on-start script does it (``python -E -s -S -m autostop``
from its folder, bytecode compiled at install; ``--as-script`` measures ``python autostop.py``
instead); prints the median (and range) of each figure, one line per figure.  Target: at most
70 ms and 24 MiB with 5 kernels on the dev machine.

Then the idle tick (``--time 1``: Jupyter idle, so the check goes on to the GPU and CPU readings)
with 5 kernels: on this CPU-only machine (no /dev/nvidia0: no process may be started), and as on a
GPU instance (a device file and a stand-in ``nvidia-smi`` on PATH printing 0%, so every sample is
taken, with no pause between samples), printing the processes each tick started.  ``--baseline
PATH`` measures another autostop.py (e.g. the previous release, from git) in the same series,
alternating with this one, for the figures that both can produce.

Kernels use a stand-in kernelspec (a sleeping process, left in ``starting``) so that 50 of them fit
on a small machine: /api/kernels answers with the same fields as for ipykernel.

Peak RSS: Linux keeps a process's pre-exec high-water mark, so a check forked from this (large)
Python would report this process's size.  Each run is forked from a small launcher (``python -I
-S``, a few MiB) and measured with wait4(); the launcher's own high-water mark is printed beside
it, and ``python -c pass`` measured the same way gives the floor (and shows how loaded the machine is).

    .venv/bin/python -m bench.autostop_check [--runs 15] [--kernels 0 5 50] [--python PATH] [--script PATH]
                                             [--scheme https|http] [--as-script] [--baseline PATH]
"""

import argparse
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.emulator.harness import AUTOSTOP_RUN, Emulator, free_port, install_autostop, stop_process_group

AUTOSTOP = Path(__file__).resolve().parents[1] / "files" / "autostop.py"

# Forks and measures each run.  Kept tiny on purpose (-I -S, only os/sys/time/json).
LAUNCHER = r"""
import json, os, sys, time
runs, argv = int(sys.argv[1]), sys.argv[2:]
results = []
for _ in range(runs):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _pid, status, usage = os.wait4(pid, 0)
    results.append({"seconds": time.perf_counter() - start, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                    "maxrss_kib": usage.ru_maxrss, "status": status})
# A forked child starts from this process's high-water mark (VmHWM), not from its pre-exec one.
hwm = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(json.dumps({"runs": results, "launcher_hwm_kib": hwm}))
"""

SLEEPER_KERNEL = {
    "argv": ["/bin/sh", "-c", "exec sleep 86400", "sleeper", "{connection_file}"],
    "display_name": "stand-in kernel (sleeps)",
    "language": "none",
}


class Server:
    def __init__(self, folder, scheme):
        self.folder, self.scheme, self.port, self.process = Path(folder), scheme, free_port(), None
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.scheme}://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        context = self.context if self.scheme == "https" else None
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return json.loads(response.read() or b"null")

    def start(self):
        kernels = self.folder / "data" / "kernels" / "sleeper"
        kernels.mkdir(parents=True)
        (kernels / "kernel.json").write_text(json.dumps(SLEEPER_KERNEL))
        (self.folder / "root").mkdir()
        args = [
            sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
            "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={self.folder / 'root'}",
        ]  # fmt: skip
        if self.scheme == "https":
            cert, key = self.folder / "cert.pem", self.folder / "key.pem"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
                check=True, capture_output=True,
            )  # fmt: skip
            args += [f"--ServerApp.certfile={cert}", f"--ServerApp.keyfile={key}"]
        env = dict(os.environ, JUPYTER_DATA_DIR=str(self.folder / "data"), JUPYTER_CONFIG_DIR=str(self.folder / "cfg"),
                   JUPYTER_RUNTIME_DIR=str(self.folder / "run"))  # fmt: skip
        log = open(self.folder / "jupyter.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/api")
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        raise SystemExit(f"jupyter server did not start; see {self.folder / 'jupyter.log'}")

    def set_kernels(self, count):
        current = self.request("GET", "/api/kernels")
        for kernel in current[count:]:
            self.request("DELETE", f"/api/kernels/{kernel['id']}")
        for _number in range(count - len(current)):
            self.request("POST", "/api/kernels", {"name": "sleeper"})
        if len(self.request("GET", "/api/kernels")) != count:
            raise SystemExit(f"could not open {count} kernels")

    def stop(self):
        stop_process_group(self.process, timeout=30)


WARMUP = 2  # runs that fill the page cache, not reported


def measure(python, argv, runs, warmup=WARMUP, env=None, cwd=None):
    """Fork `runs` checks from the small launcher; returns (per-run dicts, launcher peak KiB)."""
    launcher = subprocess.run(
        [python, "-I", "-S", "-c", LAUNCHER, str(runs + warmup), python, *argv],
        check=True, capture_output=True, text=True, env=env, cwd=cwd,
    )  # fmt: skip
    report = json.loads(launcher.stdout)
    results = report["runs"][warmup:]  # warm-up runs fill the page cache
    failed = [r["status"] for r in results if r["status"] != 0]
    if failed:
        raise SystemExit(f"autostop.py failed (wait statuses {failed}); run it by hand: {' '.join(argv)}")
    return results, report["launcher_hwm_kib"]


def report(label, results, launcher_kib):
    for name, key, scale, unit in (
        ("wall", "seconds", 1000, "ms"),
        ("cpu", "cpu_seconds", 1000, "ms"),
        ("peak_rss", "maxrss_kib", 1 / 1024, "MiB"),
    ):
        values = [r[key] * scale for r in results]
        extra = f" (launcher {launcher_kib / 1024:.1f} MiB)" if key == "maxrss_kib" else ""
        print(
            f"{label:<24} {name}_{unit} median={statistics.median(values):.1f} min={min(values):.1f} "
            f"max={max(values):.1f}{extra}"
        )


def command(args, python, folder, script=None, name="autostop"):
    """(argv after the interpreter, working directory): the installed form unless --as-script."""
    script = script or args.script
    if args.as_script:
        return [script], None
    return list(AUTOSTOP_RUN), install_autostop(script, Path(folder) / name, python)


# A stand-in nvidia-smi: one line per call in its log, and an idle GPU (so that every sample is taken).
NVIDIA_SMI = "#!/bin/sh\necho call >>'{calls}'\necho 0\n"


def measure_idle_ticks(python, args, server, folder, metadata):
    """The idle tick with 5 kernels: CPU-only (for each script, alternating) and with a GPU."""
    server.set_kernels(5)
    time.sleep(1.5)  # the kernels' last activity older than --time 1
    scripts = [("current", args.script)] + ([("baseline", args.baseline)] if args.baseline else [])
    commands = {label: command(args, python, folder, script, "autostop-" + label) for label, script in scripts}
    common = ["--time", "1", "--dry-run", "--port", str(server.port), "--scheme", args.scheme, "--metadata-file",
              str(metadata)]  # fmt: skip
    series = {label: [] for label, _script in scripts}
    launcher_kib = 0
    for _round in range(2):  # alternating, so that a drift of the machine hits both alike
        for label, (run, cwd) in commands.items():
            results, launcher_kib = measure(python, [*run, *common], args.runs, cwd=cwd)
            series[label] += results
    for label, results in series.items():
        report(f"idle cpu-only [{label}]", results, launcher_kib)
    if args.baseline:
        current, baseline = (statistics.median(r["seconds"] for r in series[key]) for key in ("current", "baseline"))
        print(f"{'idle cpu-only':<24} wall current/baseline={current / baseline:.3f}")
    gpu = Path(folder) / "gpu"
    (gpu / "bin").mkdir(parents=True)
    (gpu / "nvidia0").touch()
    calls = gpu / "calls"
    tool = gpu / "bin" / "nvidia-smi"
    tool.write_text(NVIDIA_SMI.format(calls=calls))
    tool.chmod(0o755)
    run, cwd = commands["current"]
    env = dict(os.environ, PATH=f"{gpu / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    for samples in (1, 3):
        calls.write_text("")
        argv = [*run, *common, "--gpu-device", str(gpu / "nvidia0"), "--gpu-samples", str(samples),
                "--gpu-sample-interval", "0"]  # fmt: skip
        results, launcher_kib = measure(python, argv, args.runs, env=env, cwd=cwd)
        ticks = args.runs + WARMUP  # the warm-up runs sampled too
        report(f"idle gpu x{samples}", results, launcher_kib)
        print(f"{'idle gpu x' + str(samples):<24} processes_per_tick={len(calls.read_text().splitlines()) / ticks:g}")


def measure_stop_path(python, args, port, folder):
    """The stop path, reported apart from the check: an idle verdict (--time 1, nothing open) without
    --dry-run imports boto3 and calls SageMaker (the local emulator).  Found Stopped: import, client and
    DescribeNotebookInstance.  Found InService: the same plus StopNotebookInstance; the notebook is
    started again between runs, so each of those runs is launched on its own."""
    with Emulator() as emulator:
        sagemaker = emulator.client("sagemaker")
        sagemaker.create_notebook_instance(
            NotebookInstanceName="bench-stop", InstanceType="ml.t3.medium",
            RoleArn="arn:aws:iam::123456789012:role/bench",
        )  # fmt: skip
        metadata = Path(folder) / "stop-metadata.json"
        arn = sagemaker.describe_notebook_instance(NotebookInstanceName="bench-stop")["NotebookInstanceArn"]
        metadata.write_text(json.dumps({"ResourceName": "bench-stop", "ResourceArn": arn}))
        run, cwd = command(args, python, folder)
        argv = [*run, "--time", "1", "--port", str(port), "--scheme", args.scheme, "--metadata-file",
                str(metadata), "--endpoint-url", emulator.url]  # fmt: skip
        env = dict(os.environ, **emulator.env())
        sagemaker.stop_notebook_instance(NotebookInstanceName="bench-stop")
        report("stop: Stopped", *measure(python, argv, args.runs, env=env, cwd=cwd))
        results, launcher_kib = [], 0
        for index in range(args.runs + 2):
            sagemaker.start_notebook_instance(NotebookInstanceName="bench-stop")
            runs, launcher_kib = measure(python, argv, 1, warmup=0, env=env, cwd=cwd)
            status = sagemaker.describe_notebook_instance(NotebookInstanceName="bench-stop")["NotebookInstanceStatus"]
            if status not in ("Stopping", "Stopped"):
                raise SystemExit(f"the stop path did not stop bench-stop (it is {status})")
            results += runs if index >= 2 else []
        report("stop: InService", results, launcher_kib)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="measured runs per kernel count (default: 15)")
    parser.add_argument("--kernels", type=int, nargs="+", default=[0, 5, 50], help="kernel counts (default: 0 5 50)")
    parser.add_argument("--python", default=sys.executable, help="Python that runs autostop.py (default: this one)")
    parser.add_argument("--script", default=str(AUTOSTOP), help="the script to measure (default: files/autostop.py)")
    parser.add_argument("--scheme", choices=("https", "http"), default="https", help="Jupyter scheme (default: https)")
    parser.add_argument("--as-script", action="store_true", help="run `python SCRIPT` instead of the installed form")
    parser.add_argument("--baseline", help="another autostop.py measured alongside in the idle-tick series")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="autostop-bench-")
    server = Server(folder, args.scheme).start()
    metadata = Path(folder) / "resource-metadata.json"
    metadata.write_text(json.dumps({
        "ResourceName": "bench", "ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/bench"
    }))  # fmt: skip
    python = shutil.which(args.python) or args.python
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, check=False
    )
    run, cwd = command(args, python, folder)
    print(f"# autostop.py check: python {version.stdout.strip()} ({python}) {' '.join(run)}, {args.scheme}, "
          f"{args.runs} runs per count, load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")  # fmt: skip
    try:
        for count in args.kernels:
            server.set_kernels(count)
            argv = [*run, "--time", "3600", "--dry-run", "--port", str(server.port), "--scheme", args.scheme,
                    "--metadata-file", str(metadata)]  # fmt: skip
            results, launcher_kib = measure(python, argv, args.runs, cwd=cwd)
            report(f"busy kernels={count:<3}", results, launcher_kib)
        # The interpreter alone, measured the same way: the floor under the figures above.
        report("python -c pass", *measure(python, ["-c", "pass"], args.runs))
        measure_idle_ticks(python, args, server, folder, metadata)
        server.set_kernels(0)
        measure_stop_path(python, args, server.port, folder)
    finally:
        server.set_kernels(0)
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
