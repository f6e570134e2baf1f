# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit at scale: N compliant notebooks over S subnets (each with its own route table) of one VPC,
audited by isolation_audit through ansible-playbook (playbooks/audit.yml), then exported to the emulator's
Security Hub (security_hub_findings) with one finding per notebook.  Prints the wall time of the audit,
the AWS calls it made (its own count, cross-checked with what the emulator served), and the export's
requests.  The target: one DescribeNotebookInstance per notebook and a number of other calls that does not
grow with N.

    python -m bench.audit_scale [--notebooks 500] [--subnets 10]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bench._stack import REPO, collection_path
from tests.emulator import Emulator
from tests.emulator.audit_fleet import build_fleet

REGION = "us-east-1"


def run_audit(emulator, collections, workdir, extra):
    values = dict(
        audit_region=REGION,
        audit_report_dir=os.path.join(workdir, "report"),
        audit_fail_on="never",
        aws_endpoint_url=emulator.url,
        aws_ca_bundle=emulator.ca_bundle or "",
        **extra,
    )
    path = os.path.join(workdir, "vars.json")
    with open(path, "w") as handle:
        json.dump(values, handle)
    env = dict(os.environ, **emulator.env())
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "t"),
        PATH=os.path.dirname(sys.executable) + ":" + env["PATH"],
    )
    command = ["ansible-playbook", os.path.join(REPO, "playbooks", "audit.yml"), "-e", "@" + path]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode:
        sys.exit("audit.yml failed:\n" + done.stdout[-3000:] + done.stderr[-2000:])
    with open(os.path.join(workdir, "report", "isolation-audit-%s.json" % REGION)) as handle:
        return seconds, json.load(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", type=int, default=500)
    parser.add_argument("--subnets", type=int, default=10)
    args = parser.parse_args()
    collections = collection_path()
    sys.path.insert(0, collections)  # the collection's module_utils, for the fleet's policies
    workdir = tempfile.mkdtemp(prefix="bench-audit-")
    with Emulator(tls=True) as emulator:
        started = time.monotonic()
        with open(os.path.join(REPO, "files", "autostop.py"), "rb") as handle:
            script = handle.read()
        names = build_fleet(emulator, args.notebooks, REGION, script, subnets=args.subnets)
        print(
            "fleet     notebooks=%d subnets=%d built in %.1fs" % (len(names), args.subnets, time.monotonic() - started)
        )
        emulator.request_counts(reset=True)
        seconds, result = run_audit(emulator, collections, workdir, {})
        served = emulator.request_counts()
        calls = result["aws_calls_by_operation"]
        describes = calls["sagemaker"].get("DescribeNotebookInstance", 0)
        other = sum(result["aws_calls"].values()) - describes
        summary = result["summary"]
        print(
            "audit     wall=%.1fs notebooks=%d isolated=%d findings=%d"
            % (seconds, summary["notebooks"], summary["isolated"], result["counts"]["total"])
        )
        print(
            "audit     DescribeNotebookInstance=%d (%.2f per notebook) other calls=%d"
            % (describes, describes / float(len(names)), other)
        )
        for service, operations in sorted(calls.items()):
            print("audit     %-9s %s" % (service, ", ".join("%s=%d" % kv for kv in sorted(operations.items()))))
        agree = {s: sum(o.values()) for s, o in served.items()} == result["aws_calls"]
        print("audit     the emulator served the same totals: %s" % ("yes" if agree else "NO %s" % served))

        # Security Hub: one finding per notebook (IMDSv1 allowed again on each stopped notebook, medium).
        sm = emulator.client("sagemaker")
        hub = emulator.client("securityhub")
        hub.enable_security_hub()
        for name in names:
            sm.stop_notebook_instance(NotebookInstanceName=name)
            sm.update_notebook_instance(
                NotebookInstanceName=name,
                InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "1"},
            )
        emulator.request_counts(reset=True)
        seconds, result = run_audit(emulator, collections, workdir, {"audit_security_hub": True})
        served = emulator.request_counts().get("securityhub", {})
        print(
            "export    wall (audit and export)=%.1fs findings=%d BatchImportFindings=%d GetFindings=%d"
            % (seconds, result["counts"]["total"], served.get("BatchImportFindings", 0), served.get("GetFindings", 0))
        )
        held = hub.get_paginator("get_findings").paginate().build_full_result()["Findings"]
        print("export    findings in Security Hub=%d" % len(held))
        emulator.request_counts(reset=True)
        seconds, result = run_audit(emulator, collections, workdir, {"audit_security_hub": True})
        served = emulator.request_counts().get("securityhub", {})
        print(
            "export    again, unchanged: wall=%.1fs BatchImportFindings=%d GetFindings=%d"
            % (seconds, served.get("BatchImportFindings", 0), served.get("GetFindings", 0))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
