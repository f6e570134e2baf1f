# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the stack benchmarks: a fresh emulator, the demo network, and timed site.yml runs
whose AWS calls are counted at the emulator (tests/emulator/counter.py)."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

from tests.emulator import Emulator

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WRITE = re.compile(
    r"^(Create|Put|Update|Delete|Modify|Add|Attach|Detach|Authorize|Revoke|Start|Stop|Tag|Untag|"
    r"Associate|Disassociate|Set|Upload|Replace)|^(PUT|POST|DELETE) "
)


def collection_path():
    """The build root holding the collection copy (tools/collection_tree.sh)."""
    build = os.environ.get("BUILD", "build")
    subprocess.run(
        [os.path.join(REPO, "tools", "collection_tree.sh")],
        check=True,
        stdout=subprocess.DEVNULL,
        env=dict(os.environ, BUILD=build),
    )
    return os.path.join(REPO, build)


class Stack:
    """Runs playbooks/site.yml against a private emulator with N notebooks."""

    def __init__(self, phase_seconds=None):
        self.emulator = Emulator(tls=True, phase_seconds=phase_seconds)
        self.workdir = tempfile.mkdtemp(prefix="bench-")
        self.collections = collection_path()

    def __enter__(self):
        self.emulator.start()
        env = dict(os.environ, **self.emulator.env())
        subprocess.run(
            [sys.executable, os.path.join(REPO, "tools", "demo_network.py"), self.path("network.json")],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        return self

    def __exit__(self, *exc):
        self.emulator.stop()

    def path(self, name):
        return os.path.join(self.workdir, name)

    def run(self, notebooks, idle_seconds=3600, check=False, variables=None):
        """One site.yml run: (seconds, tasks, calls {service: {action: n}}, recap dict); ``variables``
        replace the single stack's."""
        variables = variables or {
            "isolated_notebook_bucket": "bench-notebook-scripts",
            "isolated_notebook_name_prefix": "bench",
            "isolated_notebook_idle_seconds": idle_seconds,
            "isolated_notebook_notebooks": [{"name": "bench-%03d" % index} for index in range(notebooks)],
        }
        with open(self.path("vars.json"), "w") as handle:
            json.dump(variables, handle)
        command = [
            "ansible-playbook",
            os.path.join(REPO, "playbooks", "site.yml"),
            "-e",
            "@" + self.path("network.json"),
            "-e",
            "@" + self.path("vars.json"),
        ]
        if check:
            command.append("--check")
        env = dict(os.environ, **self.emulator.env())
        env.update(
            ANSIBLE_COLLECTIONS_PATH=self.collections,
            ANSIBLE_NOCOLOR="1",
            # Per-task durations at the end of the run (ansible.posix, shipped in the ansible package).
            ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
            PROFILE_TASKS_TASK_OUTPUT_LIMIT="all",
            ANSIBLE_LOCAL_TEMP=self.path("tmp"),
            PATH=os.path.dirname(sys.executable) + ":" + env["PATH"],
        )
        self.emulator.request_counts(reset=True)
        start = time.monotonic()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
        if done.returncode:
            sys.exit("site.yml failed:\n" + done.stdout[-3000:] + done.stderr[-2000:])
        recap = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", done.stdout.split("PLAY RECAP")[-1]))
        tasks = recap.get("ok", 0) + recap.get("failed", 0) + recap.get("skipped", 0)
        self.task_seconds = task_durations(done.stdout)
        return seconds, tasks, self.emulator.request_counts(), recap


def task_durations(output):
    """{task name: seconds} from profile_tasks' closing table ("role : task ---- 1.23s")."""
    table = output.split("PLAY RECAP")[-1]
    found = re.findall(r"^(.+?) -+ ?(\d+\.\d+)s$", table, re.MULTILINE)
    return {name.strip(): float(seconds) for name, seconds in found}


def summarize(calls):
    """'sagemaker 12 (2 writes), ec2 9 (0 writes)' and the total number of write calls."""
    parts, writes_total = [], 0
    for service, actions in sorted(calls.items()):
        total = sum(actions.values())
        writes = sum(n for action, n in actions.items() if WRITE.search(action))
        writes_total += writes
        parts.append("%s %d (%d writes)" % (service, total, writes))
    return ", ".join(parts), writes_total
