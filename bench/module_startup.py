# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start-up cost of one no-op module invocation against the emulator, and where it goes.

Each module runs as its own process (``python MODULE args.json``, which is what AnsiballZ ends in
on the controller's host) with nothing to change: median wall and CPU time over --runs runs, peak
RSS, and the import time by top-level package (``python -X importtime``).  The same no-op through
``ansible localhost -m`` shows what a task costs with the controller around it.

    python -m bench.module_startup [--runs 15]
"""

import argparse
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from bench._stack import REPO, collection_path
from tests.emulator import Emulator

FQCN = "secure_sagemaker.notebooks"
SCRIPT = "#!/bin/bash\necho start\n"


def module_path(collections_root, name):
    return os.path.join(collections_root, "ansible_collections", *FQCN.split("."), "plugins", "modules", name + ".py")


def invocations(emulator):
    aws = {"endpoint_url": emulator.url, "region": "us-east-1", "access_key": "testing", "secret_key": "testing"}
    return {
        "lifecycle_config (present, unchanged)": (
            "lifecycle_config",
            dict(aws, name="bench-startup", on_start=SCRIPT, state="present"),
        ),
        "lifecycle_config_info (one)": ("lifecycle_config_info", dict(aws, name="bench-startup")),
        "notebook_instance_info (one)": ("notebook_instance_info", dict(aws, name="bench-startup")),
    }


def run_module(path, params, env, workdir, importtime=False):
    args = os.path.join(workdir, "args.json")
    with open(args, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": params}, handle)
    command = [sys.executable] + (["-X", "importtime"] if importtime else []) + [path, args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stdout)
    if done.returncode or result.get("failed"):
        raise SystemExit("%s failed: %s %s" % (path, done.stdout[-2000:], done.stderr[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, result, done.stderr


def import_time_by_package(stderr):
    """Self time (microseconds) summed by top-level package, from -X importtime output."""
    totals = collections.Counter()
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:") :].split("|")
        name = name.strip()
        parts = name.split(".")
        top = ".".join(parts[:3]) if parts[0] == "ansible_collections" else parts[0]
        totals[top] += int(self_us)
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    root = collection_path()
    workdir = tempfile.mkdtemp(prefix="bench-startup-")
    with Emulator() as emulator:
        sagemaker = emulator.client("sagemaker")
        sagemaker.create_notebook_instance(
            NotebookInstanceName="bench-startup", InstanceType="ml.t3.medium",
            RoleArn="arn:aws:iam::123456789012:role/bench",
        )  # fmt: skip
        env = dict(os.environ, PYTHONPATH=root, ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "tmp"))
        print("# no-op module start-up: python %s, %d runs, load average %.2f, %d CPUs"
              % (sys.version.split()[0], args.runs, os.getloadavg()[0], os.cpu_count()))  # fmt: skip
        for label, (module, params) in invocations(emulator).items():
            path = module_path(root, module)
            run_module(path, params, env, workdir)  # creates what a no-op needs; warms the page cache
            samples = [run_module(path, params, env, workdir) for _run in range(args.runs)]
            changed = [s[2].get("changed") for s in samples]
            if any(changed):
                raise SystemExit("%s was not a no-op: changed=%s" % (label, changed))
            walls, cpus = [s[0] * 1000 for s in samples], [s[1] * 1000 for s in samples]
            print("%-38s wall_ms median=%.0f min=%.0f max=%.0f cpu_ms median=%.0f"
                  % (label, statistics.median(walls), min(walls), max(walls), statistics.median(cpus)))  # fmt: skip
            imports = import_time_by_package(run_module(path, params, env, workdir, importtime=True)[3])
            top = ", ".join("%s %.0f" % (name, us / 1000) for name, us in imports.most_common(6))
            print("%-38s import_ms total=%.0f: %s" % (label, sum(imports.values()) / 1000, top))
        print(
            "%-38s peak_rss_MiB max=%.1f"
            % ("any of the above", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        )

        floor = [run_module_floor(env) for _run in range(args.runs)]
        print("%-38s wall_ms median=%.0f" % ("boto3 import + client alone (floor)", statistics.median(floor)))

        # One task through the controller: ansible's start-up, AnsiballZ packing, the module.
        adhoc_env = dict(env, ANSIBLE_COLLECTIONS_PATH=root, ANSIBLE_NOCOLOR="1")
        adhoc_env.pop("PYTHONPATH")
        ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
        argv = [ansible, "localhost", "-m", FQCN + ".lifecycle_config_info", "-a",
                json.dumps(invocations(emulator)["lifecycle_config_info (one)"][1]),
                "-e", "ansible_python_interpreter=" + sys.executable]  # fmt: skip
        walls = []
        for _run in range(max(3, args.runs // 3)):
            start = time.perf_counter()
            subprocess.run(argv, env=adhoc_env, check=True, capture_output=True, cwd=REPO)
            walls.append((time.perf_counter() - start) * 1000)
        print("%-38s wall_ms median=%.0f" % ("ansible localhost -m lifecycle_config_info", statistics.median(walls)))
    return 0


def run_module_floor(env):
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import boto3; boto3.client('sagemaker', region_name='us-east-1')"], env=env, check=True
    )
    return (time.perf_counter() - start) * 1000


if __name__ == "__main__":
    sys.exit(main())
