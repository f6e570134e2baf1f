# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The on-start lifecycle script, rendered as Ansible renders it and run by bash in a sandbox.

The sandbox is a temporary root (AUTOSTOP_ROOT) and a PATH of stand-in ``aws``, ``systemctl``,
``crontab`` and ``python3`` commands that record their calls, plus the few real tools the script
needs; nothing outside the temporary folder is touched.
"""

import base64
import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest

COLLECTION = Path(__file__).resolve().parents[2]
TEMPLATE = COLLECTION / "roles" / "isolated_notebook" / "templates" / "on-start.sh.j2"
AUTOSTOP = COLLECTION / "files" / "autostop.py"
CONTENT_LIMIT = 16384  # AWS: base64 characters of one lifecycle hook
JSE = "home/ec2-user/anaconda3/envs/JupyterSystemEnv/bin/python"
REAL_TOOLS = ("bash", "cat", "chmod", "cp", "date", "dirname", "grep", "mkdir", "mktemp", "mv", "nohup", "rm",
              "sha256sum", "timeout")  # fmt: skip
STEPS_LOG = "var/log/isolated-notebook-on-start-steps.log"
STEPS_FILE = "usr/local/lib/isolated-notebook/on-start-steps.sh"
SAMPLE_CRON = "*/5 * * * * /usr/bin/python /home/ec2-user/autostop.py --time 3600 --ignore-connections"
USER_CRON = "0 3 * * * /usr/bin/find /tmp -mtime +7 -delete"


def variables(**overrides):
    values = {
        "autostop_bucket": "nb-artifacts-123456789012",
        "autostop_sha256": hashlib.sha256(AUTOSTOP.read_bytes()).hexdigest(),
        "idle_seconds": 3600,
        "region": "eu-west-3",
        "sagemaker_endpoint_url": "https://api.sagemaker.eu-west-3.amazonaws.com",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def render(**overrides):
    """Render like the template module: Ansible's and the collection's filters on Jinja2, trim_blocks,
    undefined fails."""
    from ansible.plugins.filter.core import FilterModule
    from ansible_collections.secure_sagemaker.notebooks.plugins.filter.notebooks import FilterModule as Ours

    environment = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    for name, function in FilterModule().filters().items():
        environment.filters.setdefault(name, function)  # Jinja2's own default() copes with undefined
    for name, function in Ours().filters().items():
        environment.filters["secure_sagemaker.notebooks." + name] = function
    return environment.from_string(TEMPLATE.read_text()).render(**variables(**overrides))


STANDINS = {
    "aws": """#!/bin/bash
printf '%s\\n' "$*" >>"$SANDBOX/calls/aws"
# SANDBOX_AWS_FAIL: every copy fails; SANDBOX_AWS_FAILURES=N: the first N copies fail.
calls=$(grep -c . "$SANDBOX/calls/aws")
if [[ -n ${SANDBOX_AWS_FAIL:-} || $calls -le ${SANDBOX_AWS_FAILURES:-0} ]]; then
    echo "fatal error: Could not connect to the endpoint URL" >&2; exit 1
fi
cp "$SANDBOX/s3-object" "${!#}"
""",
    "sleep": """#!/bin/bash
printf '%s\\n' "$*" >>"$SANDBOX/calls/sleep"
""",
    "systemctl": """#!/bin/bash
printf '%s\\n' "$*" >>"$SANDBOX/calls/systemctl"
""",
    "crontab": """#!/bin/bash
printf '%s\\n' "$*" >>"$SANDBOX/calls/crontab"
case $1 in
    -l) if [[ -f $SANDBOX/crontab ]]; then cat "$SANDBOX/crontab"; else echo "no crontab for root" >&2; exit 1; fi ;;
    -) cat >"$SANDBOX/crontab" ;;
    *) exit 2 ;;
esac
""",
    # A Python stand-in: answers the probe (import boto3) with the status the test chose, and hands
    # the bytecode compilation and the trial parse of the options to the real Python, so that the
    # installed copy is really compiled and really parses them.
    "python": """#!/bin/bash
printf '%s %s\\n' "$0" "$*" >>"$SANDBOX/calls/python"
if [[ $* == *py_compile* || $* == *"-m autostop"* ]]; then exec "$SANDBOX_REAL_PYTHON" "$@"; fi
exit "${SANDBOX_PYTHON_STATUS:-0}"
""",
}


class Sandbox:
    def __init__(self, folder, systemd=True, crontab=True, python3=True, jse=None):
        self.folder = folder
        self.root = folder / "root"
        self.bin = folder / "bin"
        for path in (self.root, self.bin, folder / "calls", folder / "tools"):
            path.mkdir(parents=True)
        if systemd:
            (self.root / "run/systemd/system").mkdir(parents=True)
        self._tool("aws", STANDINS["aws"])
        self._tool("systemctl", STANDINS["systemctl"])
        self._tool("sleep", STANDINS["sleep"])
        if crontab:
            self._tool("crontab", STANDINS["crontab"])
        if python3:
            self._tool("python3", STANDINS["python"].replace("SANDBOX_PYTHON_STATUS", "SANDBOX_PYTHON3_STATUS"))
        if jse is not None:  # the Jupyter system Python of the notebook platforms
            path = self.root / JSE
            path.parent.mkdir(parents=True)
            path.write_text(STANDINS["python"].replace("SANDBOX_PYTHON_STATUS", "SANDBOX_JSE_STATUS"))
            path.chmod(0o755)
        for tool in REAL_TOOLS:
            (folder / "tools" / tool).symlink_to(shutil.which(tool))
        self.put_object(AUTOSTOP.read_bytes())

    def _tool(self, name, text):
        path = self.bin / name
        path.write_text(text)
        path.chmod(0o755)

    def put_object(self, data):
        (self.folder / "s3-object").write_bytes(data)

    def run(self, script, **env):
        path = self.folder / "on-start.sh"
        path.write_text(script)
        environment = {
            "PATH": f"{self.bin}:{self.folder / 'tools'}",
            "AUTOSTOP_ROOT": str(self.root),
            "SANDBOX": str(self.folder),
            "SANDBOX_REAL_PYTHON": sys.executable,
            "LC_ALL": "C",
            **env,
        }
        started = time.monotonic()
        result = subprocess.run(
            ["/bin/bash", str(path)],
            cwd=self.folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        result.seconds = time.monotonic() - started
        return result

    def calls(self, name):
        path = self.folder / "calls" / name
        return path.read_text().splitlines() if path.exists() else []

    @property
    def installed(self):
        return self.root / "usr/local/lib/autostop/autostop.py"

    def bytecode(self):
        """(flags, source hash) of the installed copy's cached bytecode for the real Python."""
        data = Path(importlib.util.cache_from_source(str(self.installed))).read_bytes()
        assert data[:4] == importlib.util.MAGIC_NUMBER
        return int.from_bytes(data[4:8], "little"), data[8:16]

    def unit(self, suffix):
        return (self.root / f"etc/systemd/system/sagemaker-autostop.{suffix}").read_text()

    def crontab(self):
        return (self.folder / "crontab").read_text().splitlines()

    def leftovers(self):
        return [p.name for p in (self.root / "usr/local/lib/autostop").iterdir() if p.name.startswith(".autostop")]


def exec_start(sandbox):
    line = next(line for line in sandbox.unit("service").splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.split("=", 1)[1])


# --- the script as text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"sagemaker_endpoint_url": None},
        {"autostop_ignore_connections": True, "autostop_log": "/home/x/a.log"},
        {"on_start_steps": "pip install --quiet x\nsudo -u ec2-user -i conda env list\n"},
    ],
    ids=["all", "minimal", "options", "steps"],
)
def test_on_start_rendered_script_passes_shellcheck_and_fits(overrides, tmp_path, capsys):
    script = render(**overrides)
    path = tmp_path / "on-start.sh"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True)
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck (Debian package) is required"
    check = subprocess.run([shellcheck, "-s", "bash", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout
    encoded = len(base64.b64encode(script.encode()))
    with capsys.disabled():
        print(f"\non-start.sh [{'/'.join(overrides) or 'all'}]: {len(script.encode())} bytes, "
              f"{encoded} base64 characters of {CONTENT_LIMIT}")  # fmt: skip
    assert encoded <= CONTENT_LIMIT * 3 // 4, "keep a quarter of the lifecycle hook limit free"
    assert script.startswith("#!/bin/bash\n")
    assert "{{" not in script and "{#" not in script


def test_on_start_ansible_renders_the_same(tmp_path):
    """The template module itself, with the same variables, produces the text the sandbox runs."""
    rendered = tmp_path / "ansible.sh"
    steps = "echo \"$HOME\" '$PATH' `id -u` \\\n\techo done"
    extra = dict(variables(on_start_steps=steps), ansible_python_interpreter=sys.executable)
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    ansible = shutil.which("ansible", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    result = subprocess.run(
        [ansible, "localhost", "-c", "local", "-i", "localhost,", "-m", "ansible.builtin.template",
         "-a", f"src={TEMPLATE} dest={rendered}", "-e", f"@{tmp_path / 'vars.json'}"],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp")),
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert rendered.read_text() == render(on_start_steps=steps)


def test_on_start_values_are_quoted_and_validated(tmp_path):
    sandbox = Sandbox(tmp_path)
    for overrides, message in [
        ({"region": "eu-west-3; touch $SANDBOX/pwned"}, "is not an AWS region name"),
        ({"idle_seconds": 0}, "idle_seconds must be a whole number greater than 0"),
        ({"autostop_sha256": "abc"}, "autostop_sha256 is not a hex SHA-256 digest"),
        ({"sagemaker_endpoint_url": "https://x/%s y"}, "sagemaker_endpoint_url is not a plain URL"),
        ({"s3_endpoint_url": "http://s3.eu-west-3.amazonaws.com"}, "s3_endpoint_url is not a plain https URL"),
        ({"autostop_log": "relative.log"}, "autostop_log must be an absolute path"),
        ({"autostop_gpu_threshold": "5 --dry-run"}, "GPU and CPU settings must be plain numbers, got '5 --dry-run'"),
        ({"autostop_cpu_window": "-1"}, "GPU and CPU settings must be plain numbers, got '-1'"),
    ]:
        result = sandbox.run(render(**overrides))
        assert result.returncode == 1, (overrides, result.stdout, result.stderr)
        assert message in result.stdout
    assert not (tmp_path / "pwned").exists()
    assert sandbox.calls("aws") == []


# --- the script at work ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region, url",
    [
        ("cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "https://s3.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "https://s3.us-gov-west-1.amazonaws.com"),
        ("eu-west-1", "https://s3.eu-west-1.amazonaws.com"),
    ],
)
def test_on_start_copies_through_the_s3_endpoint_of_the_regions_partition(tmp_path, region, url):
    """The S3 URL comes from the collection's one partition table (arn.service_host), not the script."""
    sandbox = Sandbox(tmp_path)
    result = sandbox.run(render(region=region, sagemaker_endpoint_url=None))
    assert result.returncode == 0, result.stdout + result.stderr
    (download,) = sandbox.calls("aws")
    assert f"--region {region} --endpoint-url {url} " in download


def test_on_start_takes_an_s3_endpoint_url(tmp_path):
    sandbox = Sandbox(tmp_path)
    result = sandbox.run(render(s3_endpoint_url="https://bucket.vpce-0abc-123.s3.eu-west-3.vpce.amazonaws.com"))
    assert result.returncode == 0, result.stdout + result.stderr
    (download,) = sandbox.calls("aws")
    assert "--endpoint-url https://bucket.vpce-0abc-123.s3.eu-west-3.vpce.amazonaws.com " in download


def test_on_start_systemd_path_installs_the_verified_script_and_a_timer(tmp_path):
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    first = sandbox.run(render())
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.seconds < 30
    assert sandbox.installed.read_bytes() == AUTOSTOP.read_bytes()
    assert stat.S_IMODE(sandbox.installed.stat().st_mode) == 0o644
    (download,) = sandbox.calls("aws")
    *words, target = download.split(" ")
    assert words == (
        "s3 cp --only-show-errors --region eu-west-3 --endpoint-url https://s3.eu-west-3.amazonaws.com "
        "--cli-connect-timeout 10 --cli-read-timeout 30 s3://nb-artifacts-123456789012/lifecycle-configurations/autostop.py"
    ).split(" ")
    assert Path(target).parent == sandbox.installed.parent  # a temporary name beside the final one
    assert exec_start(sandbox) == [
        str(sandbox.root / JSE), "-E", "-s", "-S", "-m", "autostop", "--time", "3600",
        "--log-file", "/var/log/autostop.log", "--endpoint-url", "https://api.sagemaker.eu-west-3.amazonaws.com",
        "--gpu-threshold", "5", "--gpu-samples", "3", "--gpu-sample-interval", "1",
    ]  # fmt: skip
    assert "Type=oneshot" in sandbox.unit("service")
    assert "\nTimeoutStartSec=280\n" in sandbox.unit("service")  # a stuck check never blocks the next
    assert f"WorkingDirectory={sandbox.installed.parent}\n" in sandbox.unit("service")  # where -m finds it
    # Bytecode checked against the source's hash (PEP 552 flags 0b11), made from the verified copy.
    assert sandbox.bytecode() == (0b11, importlib.util.source_hash(sandbox.installed.read_bytes()))
    assert "OnCalendar=*:0/5" in sandbox.unit("timer")
    assert sandbox.calls("systemctl") == [
        "daemon-reload", "enable sagemaker-autostop.timer", "restart sagemaker-autostop.timer"
    ]  # fmt: skip
    assert sandbox.calls("crontab") == []
    assert "installed" in first.stdout and "scheduled every 5 minutes by sagemaker-autostop.timer" in first.stdout
    units = sandbox.unit("service"), sandbox.unit("timer")

    second = sandbox.run(render())  # a second start: same units, nothing added
    assert second.returncode == 0, second.stdout + second.stderr
    assert (sandbox.unit("service"), sandbox.unit("timer")) == units
    assert sorted(p.name for p in (sandbox.root / "etc/systemd/system").iterdir()) == [
        "sagemaker-autostop.service", "sagemaker-autostop.timer"
    ]  # fmt: skip
    assert sandbox.calls("systemctl")[3:] == sandbox.calls("systemctl")[:3]
    assert sandbox.leftovers() == []


def test_on_start_cron_path_keeps_exactly_one_entry(tmp_path):
    sandbox = Sandbox(tmp_path, systemd=False)
    (tmp_path / "crontab").write_text(f"{USER_CRON}\n{SAMPLE_CRON}\n")
    script = render(autostop_ignore_connections=True)
    for _start in range(2):
        result = sandbox.run(script)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "scheduled every 5 minutes by root's crontab" in result.stdout
    python3 = str(sandbox.bin / "python3")
    assert sandbox.crontab() == [
        USER_CRON,
        f"*/5 * * * * cd {sandbox.installed.parent} && timeout -k 10 280 {python3} -E -s -S -m autostop --time 3600 "
        "--log-file /var/log/autostop.log "
        "--endpoint-url https://api.sagemaker.eu-west-3.amazonaws.com --ignore-connections "
        "--gpu-threshold 5 --gpu-samples 3 --gpu-sample-interval 1 "
        "# secure_sagemaker.notebooks autostop",
    ]
    assert sandbox.calls("crontab") == ["-l", "-", "-l", "-"]
    assert sandbox.calls("systemctl") == []
    assert not (sandbox.root / "etc/systemd").exists()


def test_on_start_cron_path_with_an_empty_crontab(tmp_path):
    sandbox = Sandbox(tmp_path, systemd=False)
    for _start in range(2):
        assert sandbox.run(render()).returncode == 0
    assert len(sandbox.crontab()) == 1


def test_on_start_refuses_a_copy_with_another_hash(tmp_path):
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    sandbox.put_object(AUTOSTOP.read_bytes() + b"\nimport os; os.system('id')\n")  # a writable bucket
    result = sandbox.run(render())
    assert result.returncode == 1
    assert "refusing to install it" in result.stdout
    assert not sandbox.installed.exists()
    assert sandbox.leftovers() == []
    assert sandbox.calls("systemctl") == [] and sandbox.calls("crontab") == []
    # A tampered object stays tampered: it is not fetched again, the start fails at once.
    assert len(sandbox.calls("aws")) == 1 and sandbox.calls("sleep") == []


def test_on_start_refuses_a_copy_its_python_cannot_compile(tmp_path):
    # The digest matches (the role pinned this very object), but the chosen Python cannot run it.
    broken = b"def broken(:\n"
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    sandbox.put_object(broken)
    result = sandbox.run(render(autostop_sha256=hashlib.sha256(broken).hexdigest()))
    assert result.returncode == 1
    assert f"{sandbox.installed} does not compile with {sandbox.root / JSE}" in result.stdout
    assert sandbox.calls("systemctl") == [] and sandbox.calls("crontab") == []


def test_on_start_fails_when_the_bucket_cannot_be_read(tmp_path):
    """Four copies, 5, 15 and 30 s apart, each under a 45 s timeout: 230 s at worst, inside the
    platform's 5 minutes; then the start fails rather than run a notebook without its auto-stop."""
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    result = sandbox.run(render(), SANDBOX_AWS_FAIL="1")
    assert result.returncode == 1
    assert "cannot copy s3://nb-artifacts-123456789012/lifecycle-configurations/autostop.py" in result.stdout
    assert "(4 attempts over about 4 minutes)" in result.stdout
    assert len(sandbox.calls("aws")) == 4 and sandbox.calls("sleep") == ["5", "15", "30"]
    assert not sandbox.installed.exists() and sandbox.leftovers() == []
    assert sandbox.calls("systemctl") == []
    script = render()
    assert script.count("timeout 45 aws s3 cp") == 1 and "for pause in 5 15 30 0; do" in script
    assert 4 * 45 + 5 + 15 + 30 < 300  # the budget the comment states, inside the platform's limit


def test_on_start_copies_again_when_s3_is_out_of_reach_for_a_moment(tmp_path):
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    result = sandbox.run(render(), SANDBOX_AWS_FAILURES="2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(sandbox.calls("aws")) == 3 and sandbox.calls("sleep") == ["5", "15"]
    assert result.stdout.count("failed; trying again in") == 2
    assert sandbox.installed.read_bytes() == AUTOSTOP.read_bytes()


def test_on_start_python_choice(tmp_path):
    # The Jupyter system Python without boto3 is passed over for python3 on PATH.
    sandbox = Sandbox(tmp_path / "a", systemd=True, jse=True)
    assert sandbox.run(render(), SANDBOX_JSE_STATUS="1").returncode == 0
    assert exec_start(sandbox)[0] == str(sandbox.bin / "python3")
    assert [line.split()[0] for line in sandbox.calls("python")] == [
        str(sandbox.root / JSE),
        str(sandbox.bin / "python3"),
        str(sandbox.bin / "python3"),  # the chosen one compiles the installed copy
        str(sandbox.bin / "python3"),  # and parses the scheduled options once
    ]
    assert "py_compile" in sandbox.calls("python")[-2]
    assert " -m autostop --time 3600 " in sandbox.calls("python")[-1]
    # No usable Python at all: the start fails and says why.
    sandbox = Sandbox(tmp_path / "b", systemd=True, python3=False)
    result = sandbox.run(render())
    assert result.returncode == 1
    assert "no Python 3.7+ with boto3 found" in result.stdout
    assert sandbox.calls("aws") == []


@pytest.mark.parametrize(
    "overrides, scheduled",
    [
        ({}, "--gpu-threshold 5 --gpu-samples 3 --gpu-sample-interval 1"),
        ({"autostop_gpu": False, "autostop_cpu_threshold": 20, "autostop_cpu_window": 0.5},
         "--no-gpu --cpu-threshold 20 --cpu-window 0.5"),
        ({"autostop_gpu_threshold": 2.5, "autostop_gpu_samples": 5, "autostop_gpu_sample_interval": 0.5,
          "autostop_cpu_threshold": 0.0}, "--gpu-threshold 2.5 --gpu-samples 5 --gpu-sample-interval 0.5"),
    ],
    ids=["defaults", "cpu-only", "gpu-tuned"],
)  # fmt: skip
def test_on_start_schedules_the_gpu_and_cpu_settings(tmp_path, overrides, scheduled):
    sandbox = Sandbox(tmp_path, systemd=True)
    result = sandbox.run(render(**overrides))
    assert result.returncode == 0, result.stdout + result.stderr
    command = " ".join(exec_start(sandbox))
    assert command.endswith(" " + scheduled), command
    assert ("--cpu-threshold" in command) == ("cpu-threshold" in scheduled)


@pytest.mark.parametrize(
    "overrides, refused",
    [({"autostop_gpu_samples": 11}, "--gpu-samples 11"), ({"autostop_gpu_threshold": 101}, "--gpu-threshold 101"),
     ({"autostop_cpu_threshold": 5, "autostop_cpu_window": 0.01}, "--cpu-window 0.01"),
     ({"autostop_gpu_samples": 10, "autostop_gpu_sample_interval": 30}, "--gpu-sample-interval 30")],
    ids=["samples", "threshold", "window", "waits"],
)  # fmt: skip
def test_on_start_refuses_settings_autostop_would_refuse_on_every_check(tmp_path, overrides, refused):
    """A value out of autostop.py's range fails the start, before anything is scheduled."""
    sandbox = Sandbox(tmp_path, systemd=True)
    result = sandbox.run(render(**overrides))
    assert result.returncode == 1
    assert "autostop.py refuses its options (status 2):" in result.stdout and refused in result.stdout
    assert "error: " in result.stderr and refused.split()[0] in result.stderr  # argparse names the option
    assert sandbox.calls("systemctl") == [] and not (sandbox.root / "etc/systemd/system").exists()


def test_on_start_neither_systemd_nor_cron(tmp_path):
    sandbox = Sandbox(tmp_path, systemd=False, crontab=False)
    result = sandbox.run(render())
    assert result.returncode == 1
    assert "neither systemd nor crontab is available" in result.stdout


def test_on_start_installed_command_is_accepted_by_autostop(tmp_path):
    """The command line the unit runs parses in autostop.py and logs where the template said."""
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    log = tmp_path / "autostop.log"
    assert sandbox.run(render(autostop_ignore_connections=True, autostop_log=str(log))).returncode == 0
    command = exec_start(sandbox)
    assert "--ignore-connections" in command
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"ResourceName": "nb", "ResourceArn": "arn:aws:sagemaker:eu-west-3:1:x/nb"}))
    # The real Python in place of the stand-in, from the unit's working directory, where -m finds the
    # installed copy; Jupyter is not running on port 1: a logged doubt.
    workdir = next(line for line in sandbox.unit("service").splitlines() if line.startswith("WorkingDirectory="))
    result = subprocess.run(
        [sys.executable, *command[1:], "--port", "1", "--metadata-file", str(metadata)],
        cwd=workdir.split("=", 1)[1], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "unsure, not stopping: Jupyter server at https://localhost:1 unreachable" in log.read_text()


# --- the stack's own steps -----------------------------------------------------------------------------


def wait_for(path, text, seconds=60):
    """The content of ``path`` once it holds ``text`` (the detached steps write it after this script ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError("%s never held %r: %r" % (path, text, path.read_text() if path.exists() else None))


def test_on_start_steps_run_detached_after_the_autostop_is_installed(tmp_path):
    """The script ends while its steps still wait (a slow step cannot make the start run over 5 minutes);
    they see the installed auto-stop, and their output and status go to their log."""
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    real_sleep = os.path.realpath(shutil.which("sleep"))
    steps = (f"while [ ! -e {gate} ]; do {real_sleep} 0.1; done\n"
             f"if [ -e \"$AUTOSTOP_ROOT/usr/local/lib/autostop/autostop.py\" ]; then echo installed > {marker}; fi\n"
             "echo to-the-log\nexit 3\n")  # fmt: skip
    result = sandbox.run(render(on_start_steps=steps))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "started the on-start steps in the background" in result.stdout
    assert not marker.exists()  # the steps are still waiting for the gate: the script did not wait for them
    gate.touch()
    log = wait_for(sandbox.root / STEPS_LOG, "ended with status 3")
    assert marker.read_text() == "installed\n"
    assert "steps: started" in log and "to-the-log" in log
    assert stat.S_IMODE((sandbox.root / STEPS_FILE).stat().st_mode) == 0o700
    assert stat.S_IMODE((sandbox.root / STEPS_LOG).stat().st_mode) == 0o600  # root's output, not the user's


def test_on_start_steps_are_kept_as_written(tmp_path):
    """Quotes, dollars, backticks, backslashes and the steps' own heredoc reach the steps file untouched
    (they are in a quoted heredoc of their own), and run as written."""
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    steps = ("X=set\necho \"x=$X\" '$PATH' `echo tick` \\\n\tcontinued\n"
             "cat <<EOF\nheredoc ${X}\nEOF\nprintf '%s\\n' \"${Y:-none}\"\n")  # fmt: skip
    assert sandbox.run(render(on_start_steps=steps)).returncode == 0
    assert (sandbox.root / STEPS_FILE).read_text() == steps + "\n"
    log = wait_for(sandbox.root / STEPS_LOG, "ended with status 0")
    assert "x=set $PATH tick continued\nheredoc set\nnone\n" in log


def test_on_start_without_steps_runs_none(tmp_path):
    script = render()
    assert "ISOLATED_NOTEBOOK_ON_START_STEPS" not in script and "nohup" not in script
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    assert sandbox.run(script).returncode == 0
    assert not (sandbox.root / STEPS_FILE).exists() and not (sandbox.root / STEPS_LOG).exists()


def test_on_start_steps_do_not_run_when_the_autostop_cannot_be_installed(tmp_path):
    sandbox = Sandbox(tmp_path, systemd=True, jse=True)
    result = sandbox.run(render(on_start_steps="echo ran\n"), SANDBOX_AWS_FAIL="1")
    assert result.returncode == 1
    assert not (sandbox.root / STEPS_FILE).exists()
