# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml under failure, through tests/emulator/faults.py (a proxy before the emulator):

- with 30% of all requests throttled it converges to the state a fault-free run builds, and a
  second run (still throttled) changes nothing;
- when every SageMaker call fails it stops with an error naming the call, after the collection's
  bounded retries, and leaves the notebooks as they were;
- an UpdateNotebookInstance that fails after the module stopped a running notebook leaves it
  InService again, and the task fails with the update's error;
- a run killed at several points and run again converges, without duplicates.

The module runs its own TLS emulator; each site.yml run costs 30-90 s on a 2-core machine, so runs
are shared: the fault-free run's state is the reference for the throttled and the killed runs.
"""

import base64
import json
import os
import re
import subprocess
import sys
import time

import pytest
from conftest import COLLECTION

from tests.emulator import harness
from tests.emulator.faults import FaultProxy

REGION = harness.REGION
NOTEBOOKS = ["faults-one", "faults-two"]
STACK = {
    "isolated_notebook_region": REGION,
    "isolated_notebook_bucket": "faults-notebook-scripts",
    "isolated_notebook_name_prefix": "faults",
    "isolated_notebook_wait_timeout": 120,
    "isolated_notebook_notebooks": [{"name": NOTEBOOKS[0]}, {"name": NOTEBOOKS[1], "instance_type": "ml.t3.large"}],
}
RECAP = re.compile(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


# --- helpers ----------------------------------------------------------------------------------------


def private_network(emulator):
    """The VPC and isolated subnet a user brings (fixed CIDRs, so two builds compare equal)."""
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.1.0/24", AvailabilityZone=REGION + "a")["Subnet"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["SubnetId"])
    return {"isolated_notebook_vpc_id": vpc, "isolated_notebook_subnet_id": subnet["SubnetId"]}


def command_and_env(url, emulator, tmp_path, variables, playbook="site", extra_env=None):
    values = dict(STACK, **variables)
    values.update(aws_endpoint_url=url, aws_ca_bundle=emulator.ca_bundle or "", aws_access_key=harness.ACCESS_KEY,
                  aws_secret_key=harness.SECRET_KEY)  # fmt: skip
    path = tmp_path / ("vars-%d.json" % time.monotonic_ns())
    path.write_text(json.dumps(values))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               str(COLLECTION / "playbooks" / (playbook + ".yml")), "-e", "@%s" % path]  # fmt: skip
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1", PYTHONUNBUFFERED="1")
    for name in ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"):  # only what the play is told
        env.pop(name, None)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION.parents[2]))
    for name, value in (extra_env or {}).items():  # None: not set at all
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return command, env


def site(url, emulator, tmp_path, variables, timeout=400, extra_env=None):
    """Run site.yml against ``url``; (rc, output, seconds)."""
    command, env = command_and_env(url, emulator, tmp_path, variables, extra_env=extra_env)
    started = time.monotonic()
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
                            check=False)  # fmt: skip
    seconds = time.monotonic() - started
    print("site.yml: rc=%d, %.1f s" % (result.returncode, seconds))
    return result.returncode, result.stdout + result.stderr, seconds


def site_killed_at(url, emulator, tmp_path, variables, marker, timeout=300, after=0.0):
    """Start site.yml and SIGKILL it ``after`` seconds once its output shows ``marker`` (a task name)."""
    command, env = command_and_env(url, emulator, tmp_path, variables)
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)  # fmt: skip
    lines, deadline = [], time.monotonic() + timeout
    try:
        for line in process.stdout:
            lines.append(line)
            if marker in line or time.monotonic() > deadline:
                break
        time.sleep(after)
    finally:
        # SIGKILL the ansible-playbook process only: its detached async jobs go on, as they would.
        process.kill()
        process.wait(30)
        process.stdout.close()
    output = "".join(lines)
    assert marker in output, output[-3000:]
    return output


def recap(output):
    match = RECAP.search(output)
    assert match, output[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()), strict=True))


def _drop_times(value, times=True):
    """Without response metadata and (``times``) timestamps, ETags and version ids."""
    dropped = ("ResponseMetadata", "ETag", "VersionId") if times else ("ResponseMetadata",)
    if isinstance(value, dict):
        return {
            k: _drop_times(v, times)
            for k, v in value.items()
            if k not in dropped and not (times and re.search(r"(Time|Date|Timestamp)$", k))
        }
    if isinstance(value, list):
        return [_drop_times(v, times) for v in value]
    return value


def dump_state(emulator, keep_times=False):
    """Every resource the stack consists of, read from the emulator (``keep_times``: with timestamps
    and ETags, to compare one emulator before and after), notebooks,
    lifecycle configs (decoded), VPC endpoints and their policies, route tables, security groups,
    IAM roles/policies/versions/attachments, buckets with settings, policy and objects."""
    sm, ec2, iam, s3 = (emulator.client(s) for s in ("sagemaker", "ec2", "iam", "s3"))
    state = {"notebooks": [], "lifecycle_configs": [], "iam_policies": [], "iam_roles": [], "buckets": []}
    for summary in sm.list_notebook_instances(MaxResults=100)["NotebookInstances"]:
        described = sm.describe_notebook_instance(NotebookInstanceName=summary["NotebookInstanceName"])
        described["Tags"] = sm.list_tags(ResourceArn=described["NotebookInstanceArn"])["Tags"]
        state["notebooks"].append(described)
    for summary in sm.list_notebook_instance_lifecycle_configs(MaxResults=100)["NotebookInstanceLifecycleConfigs"]:
        described = sm.describe_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=summary["NotebookInstanceLifecycleConfigName"]
        )
        for hook in described.get("OnStart", []) + described.get("OnCreate", []):
            hook["Content"] = base64.b64decode(hook["Content"]).decode()
        state["lifecycle_configs"].append(described)
    endpoints = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    for endpoint in endpoints:
        endpoint["PolicyDocument"] = json.loads(endpoint.get("PolicyDocument") or "{}")
        endpoint.pop("DnsEntries", None)
    state["vpc_endpoints"] = sorted(endpoints, key=lambda e: e["ServiceName"])
    state["route_tables"] = ec2.describe_route_tables()["RouteTables"]
    kms = emulator.client("kms")
    state["kms_keys"] = []
    for listed in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]
        state["kms_keys"].append({
            "key": {k: v for k, v in metadata.items() if keep_times or not k.endswith("Date")},
            "policy": json.loads(kms.get_key_policy(KeyId=listed["KeyId"], PolicyName="default")["Policy"]),
            "aliases": sorted(a["AliasName"] for a in kms.list_aliases(KeyId=listed["KeyId"])["Aliases"]),
        })  # fmt: skip
    state["kms_keys"].sort(key=lambda k: k["aliases"])
    state["security_groups"] = sorted(
        (g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"),
        key=lambda g: g["GroupName"],
    )
    # EC2 lists the peers of one protocol and port range in one permission, in the order the rules were
    # added (a run killed between them adds them in another): order them by their stable description.
    for group in state["security_groups"]:
        for permission in group["IpPermissions"] + group["IpPermissionsEgress"]:
            permission["UserIdGroupPairs"] = sorted(permission.get("UserIdGroupPairs") or [],
                                                    key=lambda p: p.get("Description", ""))  # fmt: skip
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
        default = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        state["iam_policies"].append({
            "name": policy["PolicyName"], "arn": policy["Arn"], "versions": len(versions),
            "attachments": policy["AttachmentCount"], "document": default["PolicyVersion"]["Document"],
        })  # fmt: skip
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        state["iam_roles"].append({
            "role": iam.get_role(RoleName=name)["Role"],
            "attached": sorted(p["PolicyArn"]
                               for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]),
            "inline": iam.list_role_policies(RoleName=name)["PolicyNames"],
        })  # fmt: skip
    for bucket in sorted(b["Name"] for b in s3.list_buckets()["Buckets"]):
        entry = {"name": bucket}
        for key, call in (("versioning", s3.get_bucket_versioning), ("encryption", s3.get_bucket_encryption),
                          ("public_access", s3.get_public_access_block),
                          ("ownership", s3.get_bucket_ownership_controls), ("policy", s3.get_bucket_policy),
                          ("tags", s3.get_bucket_tagging)):  # fmt: skip
            try:
                entry[key] = call(Bucket=bucket)
            except s3.exceptions.ClientError as error:
                entry[key] = error.response["Error"]["Code"]
        if isinstance(entry["policy"], dict):
            entry["policy"] = json.loads(entry["policy"]["Policy"])
        versions = s3.list_object_versions(Bucket=bucket).get("Versions", [])
        entry["objects"] = sorted((v["Key"], v["Size"], v["IsLatest"]) for v in versions)
        state["buckets"].append(entry)
    return _drop_times(state, times=not keep_times)


TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
ID = re.compile(
    r"\b(vpc|subnet|sg|vpce|rtb|pl|eni|igw|nat|rtbassoc|sgr|acl)-[0-9a-f]{8,17}\b|\b(AROA|ANPA|AIDA)[A-Z0-9]{12,}\b"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"  # a KMS key id
)


def normalized(state):
    """The dump as text with generated ids replaced by their order of appearance: two builds of the
    same stack in two emulators compare equal, and a second resource of a kind still shows."""
    text = TIMESTAMP.sub("<time>", json.dumps(state, sort_keys=True, default=str))
    seen = {}
    return ID.sub(
        lambda m: seen.setdefault(m.group(0), "%s-<%d>" % (m.group(1) or m.group(2) or "key", len(seen))), text
    )


def statuses(emulator):
    sm = emulator.client("sagemaker")
    return {n: sm.describe_notebook_instance(NotebookInstanceName=n)["NotebookInstanceStatus"] for n in NOTEBOOKS}


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    log = tmp_path_factory.mktemp("faults-emulator") / "emulator.log"
    with harness.Emulator(tls=True, log_path=str(log)) as emu:
        yield emu


@pytest.fixture(scope="module")
def reference(emulator, tmp_path_factory):
    """The state a fault-free site.yml run builds (normalized)."""
    tmp_path = tmp_path_factory.mktemp("reference")
    emulator.reset()
    network = private_network(emulator)
    rc, output, _seconds = site(emulator.url, emulator, tmp_path, network)
    assert rc == 0, output[-4000:]
    state = dump_state(emulator)
    assert sorted(n["NotebookInstanceName"] for n in state["notebooks"]) == NOTEBOOKS
    return normalized(state)


# --- tests ----------------------------------------------------------------------------------------------


def test_throttled_run_converges_to_the_fault_free_state(emulator, reference, tmp_path):
    emulator.reset()
    network = private_network(emulator)
    # botocore's default budget (3 attempts) is not enough for amazon.aws modules that do not retry
    # throttling themselves (s3_bucket's PutPublicAccessBlock failed after 3 SlowDowns in a 30% run):
    # site.yml gives them 10 attempts per call through botocore's own setting; nothing set here.
    clean = {"AWS_RETRY_MODE": None, "AWS_MAX_ATTEMPTS": None}
    with FaultProxy(emulator, kind="throttle", fraction=0.3, seed=2026, max_seconds=900) as proxy:
        rc, output, first = site(proxy.url, emulator, tmp_path, network, extra_env=clean)
        assert rc == 0, output[-4000:]
        after_first = proxy.stats()
        rc, output, second = site(proxy.url, emulator, tmp_path, network, extra_env=clean)
        assert rc == 0, output[-4000:]
        assert recap(output)["changed"] == 0, output[-4000:]
        stats = proxy.stats()
    print("throttled runs: first %.0f s (%d requests, %d throttled, %d retried), second %.0f s (%d requests, "
          "%d throttled, %d retried)" % (first, after_first["requests"], after_first["faults"], after_first["retries"],
                                         second, stats["requests"] - after_first["requests"],
                                         stats["faults"] - after_first["faults"],
                                         stats["retries"] - after_first["retries"]))  # fmt: skip
    print("throttled by action: %s" % json.dumps(stats["by_action"], sort_keys=True))
    assert after_first["faults"] > 0.2 * after_first["requests"]
    assert {key.split(":")[0] for key in stats["by_action"]} >= {"sagemaker", "ec2", "iam", "s3", "sts"}
    assert normalized(dump_state(emulator)) == reference


def test_persistent_sagemaker_failure_stops_with_the_call_named_and_notebooks_untouched(emulator, reference, tmp_path):
    # Built by the previous test (or by the reference run when this test runs alone).
    if sorted(statuses(emulator)) != NOTEBOOKS:
        pytest.fail("needs the stack the other tests build")
    network = {"isolated_notebook_vpc_id": emulator.client("ec2").describe_subnets(
        Filters=[{"Name": "cidr-block", "Values": ["10.50.1.0/24"]}])["Subnets"][0]["VpcId"]}  # fmt: skip
    network["isolated_notebook_subnet_id"] = emulator.client("ec2").describe_subnets(
        Filters=[{"Name": "cidr-block", "Values": ["10.50.1.0/24"]}]
    )["Subnets"][0]["SubnetId"]
    # Stop one notebook: both states must be kept as found.
    emulator.client("sagemaker").stop_notebook_instance(NotebookInstanceName=NOTEBOOKS[1])
    try:
        check_persistent_failure(emulator, network, tmp_path)
    finally:
        emulator.client("sagemaker").start_notebook_instance(NotebookInstanceName=NOTEBOOKS[1])


def check_persistent_failure(emulator, network, tmp_path):
    before = dump_state(emulator, keep_times=True)
    # A budget of 10 in the environment (what site.yml gives the amazon.aws modules) must not
    # multiply with the collection's own tries: its clients pin botocore to 3 attempts.
    budget = {"AWS_MAX_ATTEMPTS": "10", "AWS_RETRY_MODE": "standard"}
    with FaultProxy(emulator, kind="5xx", fraction=1.0, service="sagemaker", max_seconds=400) as proxy:
        rc, output, seconds = site(proxy.url, emulator, tmp_path, network, extra_env=budget)
        stats = proxy.stats()
    print("persistent SageMaker failure: failed after %.0f s, %d faults, %d retries: %s"
          % (seconds, stats["faults"], stats["retries"], stats["by_action"]))  # fmt: skip
    assert rc != 0
    failed = output[output.rindex("fatal:") :]
    assert "AWS call failed" in failed and "when calling the DescribeNotebookInstanceLifecycleConfig operation" in (
        failed
    ), failed[:2000]
    # Bounded: the first SageMaker call was tried 8 times (aws.RETRY, retries=8) of 3 attempts each
    # (aws.BOTOCORE_RETRIES), nothing after it ran.
    assert stats["by_action"] == {"sagemaker:DescribeNotebookInstanceLifecycleConfig": 8 * 3}
    assert seconds < 240
    assert dump_state(emulator, keep_times=True) == before
    assert statuses(emulator) == {NOTEBOOKS[0]: "InService", NOTEBOOKS[1]: "Stopped"}


def test_failed_update_after_stop_restores_in_service(emulator, reference, tmp_path):
    if statuses(emulator) != dict.fromkeys(NOTEBOOKS, "InService"):
        pytest.fail("needs the stack the other tests build, running")
    sm = emulator.client("sagemaker")
    described = sm.describe_notebook_instance(NotebookInstanceName=NOTEBOOKS[0])
    args = {
        "name": NOTEBOOKS[0], "state": "present", "instance_type": "ml.t3.xlarge",
        "role_arn": described["RoleArn"], "subnet_id": described["SubnetId"],
        "security_group_ids": described["SecurityGroups"], "direct_internet_access": "Disabled",
        "lifecycle_config_name": described["NotebookInstanceLifecycleConfigName"],
        "volume_size_in_gb": described["VolumeSizeInGB"], "root_access": described["RootAccess"],
        "platform_identifier": described["PlatformIdentifier"], "minimum_imds_version": "2", "wait_timeout": 60,
    }  # fmt: skip
    emulator.request_counts(reset=True)
    with FaultProxy(emulator, kind="5xx", fraction=1.0, actions={"UpdateNotebookInstance"}, max_seconds=300) as proxy:
        args.update(endpoint_url=proxy.url, aws_ca_bundle=emulator.ca_bundle, access_key=harness.ACCESS_KEY,
                    secret_key=harness.SECRET_KEY, region=REGION)  # fmt: skip
        command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m",
                   "secure_sagemaker.notebooks.notebook_instance", "-a", json.dumps(args),
                   "-e", "ansible_python_interpreter=%s" % sys.executable]  # fmt: skip
        env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1", AWS_MAX_ATTEMPTS="10",
                   AWS_RETRY_MODE="standard")  # fmt: skip
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION.parents[2]))
        started = time.monotonic()
        result = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        seconds = time.monotonic() - started
        stats = proxy.stats()
        requests = emulator.request_counts()["sagemaker"]
    output = result.stdout + result.stderr
    print("failed update: %.0f s, %d faults: %s" % (seconds, stats["faults"], stats["by_action"]))
    assert result.returncode != 0, output[-3000:]
    # The task fails with the update's own error, and says it stopped and started the notebook again.
    assert "update_notebook_instance failed for notebook instance %s" % NOTEBOOKS[0] in output, output[-3000:]
    assert re.search(r'"error_code": "(InternalFailure|ServiceUnavailable)"', output), output[-3000:]
    assert re.search(r'"actions": \[\s*"stop",\s*"start"\s*\]', output), output[-3000:]
    assert stats["by_action"] == {"sagemaker:UpdateNotebookInstance": 8 * 3}  # tries x botocore attempts
    # The module stopped the notebook, the update failed, the notebook runs again unchanged.
    assert requests.get("StopNotebookInstance") == 1 and requests.get("StartNotebookInstance") == 1, requests
    after = sm.describe_notebook_instance(NotebookInstanceName=NOTEBOOKS[0])
    assert after["NotebookInstanceStatus"] == "InService"
    assert after["InstanceType"] == described["InstanceType"] == "ml.t3.medium"


def test_killed_runs_then_a_full_run_converge_without_duplicates(emulator, reference, tmp_path):
    emulator.reset()
    network = private_network(emulator)
    # Three points: in the network tasks, between the two policy writes, while notebooks are created.
    markers = [
        "TASK [secure_sagemaker.notebooks.isolated_notebook : SageMaker API interface endpoint",
        "TASK [secure_sagemaker.notebooks.isolated_notebook : Policies to stop these notebooks",
        "TASK [secure_sagemaker.notebooks.isolated_notebook : Create, reconcile and restart the notebooks",
    ]
    for marker in markers:
        # In the notebooks task, 3 s in: the fleet module is creating the notebooks.
        site_killed_at(emulator.url, emulator, tmp_path, network, marker, after=3.0 if marker == markers[-1] else 0.0)
    time.sleep(2)  # the killed run's module process may still be finishing on its own
    rc, output, _seconds = site(emulator.url, emulator, tmp_path, network)
    assert rc == 0, output[-4000:]
    state = dump_state(emulator)
    assert sorted(e["ServiceName"] for e in state["vpc_endpoints"]) == [
        "com.amazonaws.%s.logs" % REGION, "com.amazonaws.%s.s3" % REGION,
        "com.amazonaws.%s.sagemaker.api" % REGION]  # fmt: skip
    assert [r["role"]["RoleName"] for r in state["iam_roles"]] == ["faults-notebook"]
    assert sorted((p["name"], p["versions"]) for p in state["iam_policies"]) == [
        ("faults-autostop", 1), ("faults-s3-read", 1)]  # fmt: skip
    assert sorted(g["GroupName"] for g in state["security_groups"]) == [
        "faults-cloudwatch-logs", "faults-notebooks", "faults-sagemaker-api"]  # fmt: skip
    assert [c["NotebookInstanceLifecycleConfigName"] for c in state["lifecycle_configs"]] == ["faults-autostop"]
    assert normalized(state) == reference
