# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""files/autostop.py as a process against real Jupyter servers and a SageMaker emulator.

Each test holds one InService notebook in the emulator, brings a real ``jupyter server`` into a
state (idle, busy kernel, terminal, open connection, down ...), and for GPU instances a stand-in
``nvidia-smi`` into one too, runs autostop.py once and checks the notebook's status in the emulator
afterwards.
"""

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time

import pytest
from conftest import AUTOSTOP

from tests.emulator import harness

LIMIT = 3  # --time: short, so that "older than the limit" is a few seconds of waiting
STOPPED = ("Stopping", "Stopped")  # the emulator may model the Stopping phase


@pytest.fixture
def notebook(emulator, tmp_path):
    """A fresh InService notebook and its instance metadata file."""
    emulator.reset()
    sagemaker = emulator.client("sagemaker")
    name = "autostop-test"
    arn = sagemaker.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn="arn:aws:iam::123456789012:role/notebook",
    )["NotebookInstanceArn"]
    assert status_of(sagemaker, name) == "InService"
    metadata = tmp_path / "resource-metadata.json"
    metadata.write_text(json.dumps({"ResourceName": name, "ResourceArn": arn}))
    return {"name": name, "arn": arn, "metadata": str(metadata), "sagemaker": sagemaker}


def status_of(sagemaker, name):
    return sagemaker.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]


@pytest.fixture
def check(autostop_runner, emulator, notebook, tmp_path):
    """Run autostop.py once against a server: returns (exit status, log, notebook status after)."""

    def run(server, *extra, env_token=None, limit=LIMIT, path="/usr/bin:/bin"):
        env = dict(emulator.env())
        env["PATH"] = path
        if env_token:
            env["JUPYTER_TOKEN"] = env_token
        args = [
            "--time",
            limit,
            "--metadata-file",
            notebook["metadata"],
            "--endpoint-url",
            emulator.url,
            "--timeout",
            5,
            "--gpu-device",  # no GPU, even on a machine that has one; the GPU tests give their own
            str(tmp_path / "no-gpu"),
        ]
        if server is not None:
            args += ["--port", server.port, "--scheme", server.scheme]
        code, log = autostop_runner(*args, *extra, env=env)
        return code, log, status_of(notebook["sagemaker"], notebook["name"])

    return run


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_past_limit(seconds=LIMIT):
    time.sleep(seconds + 0.5)


def wait_until_old(server):
    """Until the server's start is older than the limit (at once for a server shared by earlier tests)."""
    time.sleep(max(0.0, server.ready_at + LIMIT + 0.5 - time.monotonic()))


@pytest.mark.parametrize(
    "scheme, token",
    [("https", ""), ("https", "t0ken-https"), ("http", ""), ("http", "t0ken-http")],
    ids=["https-tokenless", "https-token", "http-tokenless", "http-token"],
)
def test_autostop_no_kernels_server_started_long_ago_is_stopped(jupyter, check, scheme, token):
    server = jupyter(scheme=scheme, token=token)
    wait_until_old(server)
    code, log, status = check(server, env_token=token or None)
    assert code == 0, log
    assert status in STOPPED, log
    assert "idle: idle for" in log and "server (no kernels or terminals) started at" in log
    assert "stop requested for autostop-test" in log
    if token:
        assert token not in log


def test_autostop_idle_kernel_older_than_limit_is_stopped(jupyter, check):
    server = jupyter()
    kernel_id = server.start_kernel()
    server.connect(kernel_id).close()  # a client made it leave "starting", then left
    server.wait_for(lambda: server.kernel(kernel_id)["connections"] == 0, "the client to disconnect")
    assert server.kernel(kernel_id)["execution_state"] == "idle"
    wait_past_limit()
    code, log, status = check(server)
    assert code == 0, log
    assert status in STOPPED, log
    assert f": kernel {kernel_id} (python3) active at" in log


def test_autostop_busy_kernel_running_a_silent_cell_is_not_stopped(jupyter, check):
    server = jupyter()
    kernel_id = server.start_kernel()
    client = server.connect(kernel_id)
    client.run_silently("import time; time.sleep(120)")
    client.close()  # no browser either: only execution_state shows the work
    server.wait_for(lambda: server.kernel(kernel_id)["connections"] == 0, "the client to disconnect")
    wait_past_limit()
    kernel = server.kernel(kernel_id)
    assert kernel["execution_state"] == "busy"
    code, log, status = check(server)
    assert code == 0, log
    assert status == "InService", log
    assert f"busy: kernel {kernel_id} (python3) is busy" in log


def test_autostop_recent_terminal_activity_is_not_stopped(jupyter, check):
    server = jupyter()
    wait_until_old(server)  # the server's start alone would count as idle now
    terminal = server.start_terminal()
    code, log, status = check(server)
    assert code == 0, log
    assert status == "InService", log
    assert f"busy: terminal {terminal['name']} active" in log


@pytest.mark.parametrize("ignore", [False, True], ids=["counted", "ignored"])
def test_autostop_open_connection(jupyter, check, ignore):
    server = jupyter()
    kernel_id = server.start_kernel()
    server.connect(kernel_id)  # stays open, as a browser tab would
    wait_past_limit()
    assert server.kernel(kernel_id)["connections"] == 1
    code, log, status = check(server, *(["--ignore-connections"] if ignore else []))
    assert code == 0, log
    if ignore:
        assert status in STOPPED, log
    else:
        assert status == "InService", log
        assert "has 1 open connection(s)" in log


def test_autostop_jupyter_down_is_not_stopped(check):
    port = free_port()
    code, log, status = check(None, "--port", port, "--scheme", "https")
    assert code == 1, log
    assert status == "InService"
    assert f"unsure, not stopping: Jupyter server at https://localhost:{port} unreachable" in log


def test_autostop_wrong_token_is_not_stopped(jupyter, check):
    server = jupyter(token="t0ken-https")
    wait_until_old(server)
    code, log, status = check(server, env_token="wrong-token")
    assert code == 1, log
    assert status == "InService"
    assert "(403): wrong or missing token" in log
    assert "wrong-token" not in log and "t0ken-https" not in log


def test_autostop_terminals_disabled_is_not_a_doubt(jupyter, check):
    # Terminals disabled: /api/terminals answers 404 with an HTML page.
    server = jupyter(extra_args=["--ServerApp.terminals_enabled=False"])
    wait_until_old(server)
    code, log, status = check(server)
    assert code == 0, log
    assert status in STOPPED, log


def test_autostop_dry_run_never_stops(jupyter, check):
    server = jupyter()
    wait_until_old(server)
    code, log, status = check(server, "--dry-run")
    assert code == 0, log
    assert status == "InService"
    assert "-> would stop autostop-test (dry run)" in log


def test_autostop_instance_not_in_service_is_left_alone(jupyter, check, notebook):
    notebook["sagemaker"].stop_notebook_instance(NotebookInstanceName=notebook["name"])
    server = jupyter()
    wait_until_old(server)
    code, log, status = check(server)
    assert code == 0, log
    assert status == "Stopped"
    assert "not InService: nothing to stop" in log


def test_autostop_sagemaker_api_unreachable(jupyter, autostop_runner, emulator, notebook):
    server = jupyter()
    wait_until_old(server)
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    code, log = autostop_runner(
        "--time", LIMIT, "--port", server.port, "--metadata-file", notebook["metadata"], "--endpoint-url", closed,
        "--timeout", 2, env=dict(emulator.env(), PATH="/usr/bin:/bin"),
    )  # fmt: skip
    assert code == 3, log
    assert time.monotonic() - started < 60
    assert f"cannot reach {closed} to stop autostop-test" in log
    assert "sagemaker.api interface endpoint" in log
    assert status_of(notebook["sagemaker"], notebook["name"]) == "InService"


def test_autostop_busy_check_does_not_import_boto3(jupyter, emulator, notebook, tmp_path):
    """A tick as the timer runs it: cached bytecode, no site-packages, no boto3."""
    server = jupyter()
    server.start_terminal()
    folder = harness.install_autostop(AUTOSTOP, tmp_path / "autostop")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-v", *harness.AUTOSTOP_RUN, "--time", "3600", "--port", str(server.port),
         "--metadata-file", notebook["metadata"]],
        cwd=folder, env=dict(emulator.env(), PATH="/usr/bin:/bin"), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "busy: terminal" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert {"socket", "ssl", "json"} <= imported  # the check itself, over https
    assert not {"site", "boto3", "botocore", "requests", "urllib3", "http.client", "argparse"} & imported
    bytecode = importlib.util.cache_from_source(str(folder / "autostop.py"))
    assert f"code object from '{bytecode}'" in result.stderr  # not compiled again on this tick


def test_autostop_as_a_plain_script_stops_too(jupyter, emulator, notebook):
    """Run by hand as `python autostop.py` (site-packages on the path from the start) it works alike."""
    server = jupyter()
    wait_until_old(server)
    result = subprocess.run(
        [sys.executable, str(AUTOSTOP), "--time", str(LIMIT), "--port", str(server.port), "--metadata-file",
         notebook["metadata"], "--endpoint-url", emulator.url],
        env=dict(emulator.env(), PATH="/usr/bin:/bin"), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stop requested for autostop-test" in result.stdout
    assert status_of(notebook["sagemaker"], notebook["name"]) in STOPPED


# --- work Jupyter does not see: GPUs (a stand-in nvidia-smi) and CPU -------------------------------

NVIDIA_SMI_QUERY = "--query-gpu=utilization.gpu --format=csv,noheader,nounits"
# What nvidia-smi prints, with status 9, when it cannot reach the driver (reported in NVIDIA's
# forums and many bug threads; the status is not documented by NVIDIA).
DRIVER_FAILURE = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)
STAND_IN = """#!/bin/sh
# Stand-in nvidia-smi: records its arguments, then prints line N of {samples} on its N-th call (the last
# line once they run out), one GPU per comma-separated value; FAIL fails as nvidia-smi does without a driver.
printf '%s\\n' "$*" >>{calls}
n=$(wc -l <{calls})
line=$(sed -n "${{n}}p" {samples})
[ -n "$line" ] || line=$(tail -n 1 {samples})
case $line in
    FAIL) echo "{failure}" >&2; exit 9 ;;
esac
printf '%s\\n' "$line" | tr ',' '\\n'
"""


@pytest.fixture
def gpu(tmp_path):
    """A GPU instance as autostop.py sees it: a device file and a stand-in nvidia-smi on PATH.

    ``gpu.set(["90", "2"])`` chooses what each call prints; ``gpu.calls()`` lists the calls' arguments."""
    folder = tmp_path / "gpu"
    (folder / "bin").mkdir(parents=True)
    device, samples, calls = folder / "nvidia0", folder / "samples", folder / "calls"
    device.touch()
    tool = folder / "bin" / "nvidia-smi"
    tool.write_text(STAND_IN.format(samples=samples, calls=calls, failure=DRIVER_FAILURE))
    tool.chmod(0o755)

    class Gpu:
        path = f"{folder / 'bin'}:/usr/bin:/bin"
        args = ("--gpu-device", str(device), "--gpu-sample-interval", "0.2")

        @staticmethod
        def set(lines):
            samples.write_text("".join(line + "\n" for line in lines))

        @staticmethod
        def calls():
            return calls.read_text().splitlines() if calls.exists() else []

    return Gpu


@pytest.fixture
def gpu_tick(jupyter, check, gpu):
    """One check of an idle Jupyter on a GPU instance whose nvidia-smi prints ``samples``: (log, status)."""

    def run(samples, *extra):
        server = jupyter()
        wait_until_old(server)
        gpu.set(samples)
        code, log, status = check(server, *gpu.args, *extra, path=gpu.path)
        assert code == 0, log
        return log, status

    return run


def test_autostop_busy_gpu_without_a_busy_kernel_is_not_stopped(gpu_tick, gpu):
    """A training script from a closed terminal: Jupyter idle, the GPU at work."""
    log, status = gpu_tick(["97"])
    assert status == "InService", log
    assert "busy: GPU 0 at 97%, above 5% (sample 1 of 3); Jupyter idle for" in log
    assert gpu.calls() == [NVIDIA_SMI_QUERY]  # busy at the first sample: no more processes


def test_autostop_idle_gpus_and_idle_jupyter_are_stopped(gpu_tick, gpu):
    log, status = gpu_tick(["0,1", "3,0", "5,2"])  # two GPUs, never above 5%
    assert status in STOPPED, log
    assert "; 2 GPU(s) at most 5% in 3 sample(s) 0.2 s apart (threshold 5%)" in log
    assert "stop requested for autostop-test" in log
    assert gpu.calls() == [NVIDIA_SMI_QUERY] * 3  # one short-lived process per sample


def test_autostop_a_dip_in_one_gpu_sample_does_not_stop(gpu_tick, gpu):
    log, status = gpu_tick(["1", "88"])  # between two batches, then at work again
    assert status == "InService", log
    assert "busy: GPU 0 at 88%, above 5% (sample 2 of 3)" in log
    assert len(gpu.calls()) == 2


def test_autostop_gpu_threshold_is_an_option(gpu_tick):
    log, status = gpu_tick(["40"], "--gpu-threshold", "50", "--gpu-samples", "2")
    assert status in STOPPED, log
    assert "1 GPU(s) at most 40% in 2 sample(s)" in log and "(threshold 50%)" in log


def test_autostop_failing_nvidia_smi_is_logged_and_the_check_falls_back(gpu_tick, gpu):
    log, status = gpu_tick(["FAIL"])
    assert status in STOPPED, log
    assert f"GPU not checked, deciding as without GPUs: {gpu.path.split(':')[0]}/nvidia-smi exited with status 9: " \
           f"{DRIVER_FAILURE}" in log  # fmt: skip
    assert len(gpu.calls()) == 1  # no second try within the tick: the next tick samples afresh


def test_autostop_missing_nvidia_smi_is_logged_and_the_check_falls_back(jupyter, check, gpu, tmp_path):
    server = jupyter()
    wait_until_old(server)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    code, log, status = check(server, *gpu.args, path=str(empty))  # the device, but no nvidia-smi on PATH
    assert code == 0, log
    assert status in STOPPED, log
    assert f"GPU not checked, deciding as without GPUs: nvidia-smi not found on PATH ({empty})" in log


def test_autostop_gpu_is_not_sampled_while_jupyter_is_busy(jupyter, check, gpu):
    server = jupyter()
    server.start_terminal()
    gpu.set(["0"])
    code, log, status = check(server, *gpu.args, path=gpu.path)
    assert code == 0, log
    assert status == "InService" and "busy: terminal" in log
    assert gpu.calls() == []


def test_autostop_cpu_only_tick_starts_no_process(jupyter, emulator, notebook, gpu, tmp_path):
    """An idle tick of a CPU-only notebook, as the timer runs it, traced by strace: the interpreter's
    own execve and nothing else (no fork, clone or exec), although nvidia-smi is on PATH."""
    strace = shutil.which("strace")
    assert strace, "strace (Debian package, installed by tools/bootstrap.sh) is required"
    server = jupyter()
    wait_until_old(server)
    gpu.set(["99"])  # were it sampled, it would say busy
    folder = harness.install_autostop(AUTOSTOP, tmp_path / "autostop")
    trace = tmp_path / "trace"
    result = subprocess.run(
        [strace, "-f", "-qq", "-e", "trace=process", "-o", str(trace), sys.executable, "-X", "importtime",
         *harness.AUTOSTOP_RUN, "--time", str(LIMIT), "--port", str(server.port), "--metadata-file",
         notebook["metadata"], "--gpu-device", str(tmp_path / "no-such-device"), "--dry-run"],
        cwd=folder, env=dict(emulator.env(), PATH=gpu.path), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "-> would stop autostop-test (dry run)" in result.stdout
    calls = [line.split(None, 1)[1] for line in trace.read_text().splitlines() if "(" in line]
    started = [call for call in calls if call.startswith(("execve", "fork", "vfork", "clone"))]
    assert len(started) == 1 and started[0].startswith(f'execve("{sys.executable}"'), started
    assert gpu.calls() == []
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert {"socket", "json"} <= imported and not {"subprocess", "shutil"} & imported  # what sampling would load


def test_autostop_cpu_busy_without_jupyter_activity_is_not_stopped(jupyter, check):
    server = jupyter()
    wait_until_old(server)
    # A CPU-bound job on one core: 100/N % of the N CPUs /proc/stat counts; half of that is the threshold.
    cpus = sum(1 for line in open("/proc/stat") if line[:3] == "cpu" and line[3].isdigit())
    threshold = "%g" % (50.0 / cpus)
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        code, log, status = check(server, "--cpu-threshold", threshold, "--cpu-window", "1")
    finally:
        spinner.kill()
        spinner.wait()
    assert code == 0, log
    assert status == "InService", log
    assert "busy: CPU at " in log and f"over 1 s, above {threshold}%; Jupyter idle for" in log


def test_autostop_cpu_at_or_below_the_threshold_is_stopped(jupyter, check):
    server = jupyter()
    wait_until_old(server)
    code, log, status = check(server, "--cpu-threshold", "100", "--cpu-window", "0.5")
    assert code == 0, log
    assert status in STOPPED, log
    assert "over 0.5 s, at or below 100%" in log
