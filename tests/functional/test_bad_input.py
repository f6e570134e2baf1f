# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, table-driven: every case ends with one clear error naming the field, and the
emulator's state (every resource, timestamps included) is exactly what it was before.

Module options run through ``ansible localhost -m`` (cheap); role variables through site.yml.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import COLLECTION
from test_faults import dump_state, private_network

from tests.emulator import harness

REGION = harness.REGION
OTHER_REGION = "eu-west-1"
GOOD_NAME = "badinput-one"


@pytest.fixture(scope="module")
def world():
    """A TLS emulator holding a network, a notebook with its lifecycle config, and a bucket in
    another region; {"emulator", "network", "role_arn", "group"}."""
    with harness.Emulator(tls=True) as emulator:
        network = private_network(emulator)
        ec2, sm, iam = emulator.client("ec2"), emulator.client("sagemaker"), emulator.client("iam")
        group = ec2.create_security_group(
            VpcId=network["isolated_notebook_vpc_id"], GroupName="badinput", Description="bad input"
        )["GroupId"]
        role = iam.create_role(RoleName="badinput", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        sm.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName="badinput-autostop",
                                                     OnStart=[{"Content": "ZWNobyBoaQ=="}])  # fmt: skip
        sm.create_notebook_instance(NotebookInstanceName=GOOD_NAME, InstanceType="ml.t3.medium", RoleArn=role,
                                    SubnetId=network["isolated_notebook_subnet_id"], SecurityGroupIds=[group],
                                    DirectInternetAccess="Disabled")  # fmt: skip
        emulator.client("s3").create_bucket(
            Bucket="badinput-elsewhere", CreateBucketConfiguration={"LocationConstraint": OTHER_REGION}
        )
        yield {"emulator": emulator, "network": network, "role_arn": role, "group": group}


def full_state(emulator):
    """dump_state with timestamps, plus the VPCs and subnets of both regions."""
    state = dump_state(emulator, keep_times=True)
    for region in (REGION, OTHER_REGION):
        import boto3

        ec2 = boto3.client("ec2", endpoint_url=emulator.url, region_name=region, verify=emulator.ca_bundle,
                           aws_access_key_id=harness.ACCESS_KEY, aws_secret_access_key=harness.SECRET_KEY)  # fmt: skip
        state["vpcs-" + region] = ec2.describe_vpcs()["Vpcs"]
        state["subnets-" + region] = ec2.describe_subnets()["Subnets"]
        state["groups-" + region] = ec2.describe_security_groups()["SecurityGroups"]
    return json.dumps(state, sort_keys=True, default=str)


def env_for(tmp_path):
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1")
    for name in ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"):
        env.pop(name, None)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION.parents[2]))
    return env


def run_module(emulator, tmp_path, module, args):
    connection = dict(endpoint_url=emulator.url, aws_ca_bundle=emulator.ca_bundle, access_key=harness.ACCESS_KEY,
                      secret_key=harness.SECRET_KEY, region=REGION)  # fmt: skip
    command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m",
               "secure_sagemaker.notebooks." + module, "-a", json.dumps(dict(args, **connection)),
               "-e", "ansible_python_interpreter=%s" % sys.executable]  # fmt: skip
    result = subprocess.run(
        command, cwd=tmp_path, env=env_for(tmp_path), capture_output=True, text=True, timeout=180, check=False
    )
    return result.returncode, result.stdout + result.stderr


def run_site(emulator, tmp_path, network, variables, playbook="site"):
    values = {
        "isolated_notebook_region": REGION,
        "isolated_notebook_bucket": "badinput-scripts",
        "isolated_notebook_name_prefix": "badinput",
        "isolated_notebook_wait_timeout": 60,
        "isolated_notebook_notebooks": [{"name": "badinput-two"}],
        "aws_endpoint_url": emulator.url, "aws_ca_bundle": emulator.ca_bundle, "aws_access_key": harness.ACCESS_KEY,
        "aws_secret_key": harness.SECRET_KEY,
    }  # fmt: skip
    values.update(network)
    values.update(variables)
    path = tmp_path / "vars.json"
    path.write_text(json.dumps(values))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               str(COLLECTION / "playbooks" / (playbook + ".yml")), "-e", "@%s" % path]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env_for(tmp_path), capture_output=True, text=True,
                            timeout=300, check=False)  # fmt: skip
    return result.returncode, result.stdout + result.stderr


def notebook(world, **changes):
    args = {"name": "badinput-new", "instance_type": "ml.t3.medium", "role_arn": world["role_arn"],
            "subnet_id": world["network"]["isolated_notebook_subnet_id"], "security_group_ids": [world["group"]],
            "lifecycle_config_name": "badinput-autostop", "wait_timeout": 30}  # fmt: skip
    args.update(changes)
    return args


def fleet_item(world, **changes):
    """One notebook of a notebook_fleet task (wait_timeout is the module's, not the item's)."""
    item = notebook(world, **changes)
    del item["wait_timeout"]
    return item


def groups(count):
    return ["sg-%08x" % n for n in range(count)]


# (case id, module or "site", args or role variables (a function of the world), field the error names)
CASES = [
    ("lcc-invalid-name", "lifecycle_config", lambda w: {"name": "bad_name!", "on_start": "echo hi"}, "name"),
    ("lcc-name-too-long", "lifecycle_config", lambda w: {"name": "a" * 64, "on_start": "echo hi"}, "name"),
    ("lcc-empty-script", "lifecycle_config", lambda w: {"name": "badinput-lcc", "on_start": ""}, "on_start"),
    ("lcc-blank-script", "lifecycle_config", lambda w: {"name": "badinput-lcc", "on_create": "  \n"}, "on_create"),
    ("lcc-oversize-script", "lifecycle_config", lambda w: {"name": "badinput-lcc", "on_start": "#" * 12289},
     "on_start"),
    ("nb-invalid-name", "notebook_instance", lambda w: notebook(w, name="under_score"), "name"),
    ("nb-name-too-long", "notebook_instance", lambda w: notebook(w, name="n" * 64), "name"),
    ("nb-six-security-groups", "notebook_instance", lambda w: notebook(w, security_group_ids=groups(6)),
     "security_group_ids"),
    ("nb-volume-too-small", "notebook_instance", lambda w: notebook(w, volume_size_in_gb=2), "volume_size_in_gb"),
    ("nb-unknown-instance-type", "notebook_instance", lambda w: notebook(w, instance_type="ml.bogus.large"),
     "instance_type"),
    ("nb-wait-timeout-zero", "notebook_instance", lambda w: notebook(w, wait_timeout=0), "wait_timeout"),
    ("nb-lcc-name-invalid", "notebook_instance", lambda w: notebook(w, lifecycle_config_name="x_y"),
     "lifecycle_config_name"),
    ("fleet-bad-volume-and-repeated-name", "notebook_fleet",
     lambda w: {"notebooks": [fleet_item(w), fleet_item(w, volume_size_in_gb=2)]}, "notebooks[1] (badinput-new)"),
    ("fleet-restart-unknown", "notebook_fleet", lambda w: {"notebooks": [fleet_item(w)], "restart": ["other"]},
     "restart"),
    ("fleet-max-concurrency-zero", "notebook_fleet", lambda w: {"notebooks": [fleet_item(w)], "max_concurrency": 0},
     "max_concurrency"),
    ("vpce-bad-vpc-id", "vpc_endpoint", lambda w: {"vpc_id": "vpc-12345", "service": "s3"}, "vpc_id"),
    ("vpce-bad-subnet-id", "vpc_endpoint",
     lambda w: {"vpc_id": w["network"]["isolated_notebook_vpc_id"], "service": "sagemaker.api",
                "vpc_endpoint_type": "Interface", "subnet_ids": ["subnet-XYZ"]}, "subnet_ids"),
    ("vpce-policy-not-json", "vpc_endpoint",
     lambda w: {"vpc_id": w["network"]["isolated_notebook_vpc_id"], "service": "s3", "policy": "{not json"},
     "policy"),
    ("role-prefix-too-long", "site", lambda w: {"isolated_notebook_name_prefix": "p" * 41},
     "isolated_notebook_name_prefix"),
    ("role-invalid-notebook-name", "site", lambda w: {"isolated_notebook_notebooks": [{"name": "bad_name"}]},
     "isolated_notebook_notebooks[0]"),
    ("role-idle-zero", "site", lambda w: {"isolated_notebook_idle_seconds": 0}, "isolated_notebook_idle_seconds"),
    ("role-idle-negative", "site", lambda w: {"isolated_notebook_idle_seconds": -60},
     "isolated_notebook_idle_seconds"),
    ("role-gpu-samples-zero", "site", lambda w: {"isolated_notebook_gpu_samples": 0}, "isolated_notebook_gpu_samples"),
    ("role-gpu-samples-fraction", "site", lambda w: {"isolated_notebook_gpu_samples": 3.5},
     "isolated_notebook_gpu_samples"),
    ("role-gpu-threshold-boolean", "site", lambda w: {"isolated_notebook_gpu_threshold": True},
     "isolated_notebook_gpu_threshold"),
    ("role-gpu-threshold-exponent", "site", lambda w: {"isolated_notebook_gpu_threshold": 0.00001},
     "isolated_notebook_gpu_threshold"),
    ("role-reading-waits-over-a-minute", "site",
     lambda w: {"isolated_notebook_gpu_samples": 10, "isolated_notebook_gpu_sample_interval": 30},
     "at most 60 seconds, got 270"),
    ("role-cpu-threshold-over-100", "site", lambda w: {"isolated_notebook_cpu_threshold": 150},
     "isolated_notebook_cpu_threshold"),
    ("role-grant-wildcard-prefix", "site",
     lambda w: {"isolated_notebook_data_grants": [{"bucket": "team-data", "prefix": "raw/*", "access": "read"}]},
     "isolated_notebook_data_grants[0].prefix"),
    ("role-grant-writes-the-scripts", "site",
     lambda w: {"isolated_notebook_data_grants": [{"bucket": "badinput-scripts", "prefix": "",
                                                   "access": "read-write"}]},
     "would let a notebook rewrite the lifecycle scripts"),
    ("role-grant-key-alias", "site",
     lambda w: {"isolated_notebook_data_grants": [{"bucket": "team-data", "prefix": "raw/",
                                                   "kms_key_arn": "alias/team-data"}]},
     "isolated_notebook_data_grants[0].kms_key_arn"),
    ("role-grant-bad-access", "site",
     lambda w: {"isolated_notebook_data_grants": [{"bucket": "team-data", "prefix": "raw/", "access": "write"}]},
     "access"),
    ("role-grants-over-the-policy-quota", "site",
     lambda w: {"isolated_notebook_data_grants": [{"bucket": "team-data", "prefix": "project-%03d/" % n,
                                                   "access": "read-write"} for n in range(40)]},
     "the data policy (isolated_notebook_data_grants) is"),
    # The installer is about 6.7 KB of the 12,288 bytes a lifecycle hook holds: 6,000 bytes of steps do not fit.
    ("role-on-start-steps-over-the-script-limit", "site",
     lambda w: {"isolated_notebook_on_start_steps": "echo step\n" * 600},
     "isolated_notebook_on_start_steps: the on-start script with these steps is"),
    ("teams-on-start-steps-end-the-heredoc", "site",
     lambda w: {"isolated_notebook_teams": [
         {"name": t, "subnet_id": w["network"]["isolated_notebook_subnet_id"]} for t in ("a", "b")]
         + [{"name": "c", "subnet_id": w["network"]["isolated_notebook_subnet_id"],
             "on_start_steps": "echo one\nISOLATED_NOTEBOOK_ON_START_STEPS\necho two\n"}]},
     "isolated_notebook_teams[2].on_start_steps: a line reads ISOLATED_NOTEBOOK_ON_START_STEPS"),
    ("role-grant-covers-the-homes", "site",
     lambda w: {"isolated_notebook_homes": {"bucket": "team-homes", "prefix": "homes/"},
                "isolated_notebook_data_grants": [{"bucket": "team-homes", "prefix": "", "access": "read"}]},
     "isolated_notebook_data_grants[0]: team-homes/ covers the notebooks' homes"),
    ("role-harden-a-bucket-that-does-not-exist", "site",
     lambda w: {"isolated_notebook_data_grants": [{"bucket": "no-such-data-bucket", "prefix": "x/", "harden": True}]},
     "isolated_notebook_data_grants[0].harden: bucket no-such-data-bucket does not exist"),
    ("teams-bad-name", "site",
     lambda w: {"isolated_notebook_teams": [{"name": "Team_A",
                                             "subnet_id": w["network"]["isolated_notebook_subnet_id"]}]},
     "isolated_notebook_teams[0].name"),
    ("teams-notebook-of-two-teams", "site",
     lambda w: {"isolated_notebook_teams": [
         {"name": t, "subnet_id": w["network"]["isolated_notebook_subnet_id"], "notebooks": [{"name": "shared-nb"}]}
         for t in ("a", "b")]},
     "isolated_notebook_teams[1].notebooks[0].name"),
    ("teams-grant-bad-prefix", "site",
     lambda w: {"isolated_notebook_teams": [{"name": "a", "subnet_id": w["network"]["isolated_notebook_subnet_id"],
                                             "data_grants": [{"bucket": "team-data", "prefix": "raw"}]}]},
     "isolated_notebook_teams[0].data_grants[0].prefix"),
    # Each team's own policies fit (data policy 5,388 of 6,144); the endpoint the three teams share (one route
    # table) would not (24,859 of 20,480).
    ("teams-shared-endpoint-policy-over-its-quota", "site",
     lambda w: {"isolated_notebook_teams": [
         {"name": t, "subnet_id": w["network"]["isolated_notebook_subnet_id"],
          "data_grants": [{"bucket": "team-data", "prefix": "%s-project-%03d/" % (t, n), "access": "read-write"}
                          for n in range(11)]} for t in ("a", "b", "c")]},
     "the S3 endpoint policy of route table"),
    ("role-bad-subnet-id", "site", lambda w: {"isolated_notebook_subnet_id": "subnet-1"},
     "isolated_notebook_subnet_id"),
    ("role-bad-instance-type", "site", lambda w: {"isolated_notebook_notebooks": [{"name": "ok",
                                                                                   "instance_type": "t3.medium"}]},
     "isolated_notebook_notebooks[0]"),
    ("role-unknown-instance-type", "site",
     lambda w: {"isolated_notebook_notebooks": [{"name": "ok", "instance_type": "ml.bogus.large"}]},
     "isolated_notebook_notebooks[0]"),
    ("role-unknown-default-key", "site",
     lambda w: {"isolated_notebook_notebook_defaults": {"instance_type": "ml.t3.medium", "wait_timeout": 5}},
     "isolated_notebook_notebook_defaults"),
    ("role-max-concurrency-zero", "site", lambda w: {"isolated_notebook_max_concurrency": 0},
     "isolated_notebook_max_concurrency"),
    ("role-kms-alias", "site", lambda w: {"isolated_notebook_bucket_kms_key_id": "alias/scripts"},
     "isolated_notebook_bucket_kms_key_id"),
    ("role-kms-key-alias", "site", lambda w: {"isolated_notebook_kms_key_id": "alias/stack"},
     "isolated_notebook_kms_key_id"),
    ("role-kms-deletion-window", "site", lambda w: {"isolated_notebook_kms_key_deletion_days": 3},
     "isolated_notebook_kms_key_deletion_days"),
    # Teardown would keep the bucket, whose objects the key encrypts.
    ("role-delete-key-but-keep-bucket", "teardown", lambda w: {"isolated_notebook_delete_kms_key": True},
     "isolated_notebook_delete_kms_key"),
    ("role-notebook-user-not-an-arn", "site", lambda w: {"isolated_notebook_notebook_users": ["data-scientists"]},
     "isolated_notebook_notebook_users"),
    # 400 users' ARNs make the stack key's policy over KMS's 32 KB: refused before the key is created.
    ("role-key-policy-over-quota", "site",
     lambda w: {"isolated_notebook_notebook_users": ["arn:aws:iam::123456789012:role/data-scientist-%03d" % n
                                                     for n in range(400)]},
     "isolated_notebook_notebook_users"),
    ("role-subnet-in-another-region", "site", lambda w: {"isolated_notebook_region": OTHER_REGION},
     "isolated_notebook_subnet_id"),
    ("role-bucket-in-another-region", "site", lambda w: {"isolated_notebook_bucket": "badinput-elsewhere"},
     "isolated_notebook_bucket"),
    # 500 admin ARNs make a bucket policy over S3's 20 KB: refused before the first change, not at PutBucketPolicy.
    ("role-bucket-policy-over-quota", "site",
     lambda w: {"isolated_notebook_admin_principals": ["arn:aws:iam::123456789012:role/admin-%03d" % n
                                                       for n in range(500)]},
     "isolated_notebook_admin_principals"),
]  # fmt: skip


@pytest.mark.parametrize("case,target,make,field", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_naming_the_field_and_changes_nothing(world, tmp_path, case, target, make, field):
    emulator = world["emulator"]
    before = full_state(emulator)
    if target in ("site", "teardown"):
        rc, output = run_site(emulator, tmp_path, world["network"], make(world), target)
    else:
        rc, output = run_module(emulator, tmp_path, target, make(world))
    assert rc != 0, output[-3000:]
    failures = re.findall(
        r"^(?:fatal: \[localhost\]: FAILED!|failed: \[localhost\] \(item=.*?\) =>|localhost \| FAILED!).*$",
        output,
        re.MULTILINE,
    )
    assert len(failures) == 1, output[-3000:]
    found = re.search(r'"msg": "((?:[^"\\]|\\.)*)"', output[output.index(failures[0]) :])
    assert found, output[-3000:]
    message = found.group(1)
    assert field in message, "%s: %s" % (case, message)
    assert full_state(emulator) == before, "%s changed the emulator's state" % case
