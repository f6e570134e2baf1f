# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The isolated_notebook role through playbooks/site.yml and teardown.yml, run as
``ansible-playbook`` processes against the emulator; every outcome is read back with boto3.

- a subnet whose route table sends 0.0.0.0/0 to an internet gateway, or to a NAT gateway, is
  refused with the route named, and nothing is created;
- check mode on a converged stack reports ``changed=0`` and sends no write call;
- an S3 endpoint policy and a bucket policy changed out of band are put back by the next run;
- a notebook added to the list is created while the others get no action at all, and the autostop
  IAM policy and the SageMaker endpoint policy name it;
- a new idle time rewrites the on-start script; the running notebooks restart (and end InService),
  a stopped one stays stopped;
- the lifecycle output has a way to CloudWatch Logs: a logs interface endpoint with private DNS whose
  policy allows exactly the lifecycle-log writes of the stack's notebooks, its own security group
  admitting HTTPS from the notebook group, the notebook group's egress to it, and the writes in the
  notebook role's policies; a second run changes nothing;
- teardown removes notebooks, lifecycle configuration, endpoints, IAM role and policies and the
  security groups, keeps the bucket and its script; ``isolated_notebook_delete_bucket`` removes it.

Each playbook run costs 30-90 s on a 2-core machine, so the converged stack is built once and the
scenarios run in this file's order, each on the state the previous one left (module-scoped
fixtures chain them: converged -> rerun -> checked -> grown -> idle_changed -> torn_down -> bucket_deleted).
"""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError
from conftest import COLLECTION

from tests.emulator import harness

REGION = harness.REGION
ACCOUNT = harness.ACCOUNT_ID
PREFIX = "roletest"
BUCKET = "roletest-notebook-scripts"
SCRIPT_KEY = "lifecycle-configurations/autostop.py"
LCC = PREFIX + "-autostop"
ROLE = PREFIX + "-notebook"
POLICIES = (PREFIX + "-s3-read", PREFIX + "-autostop")
GROUPS = (PREFIX + "-notebooks", PREFIX + "-sagemaker-api", PREFIX + "-cloudwatch-logs")
LOG_STREAMS = "arn:aws:logs:%s:%s:log-group:/aws/sagemaker/NotebookInstances:log-stream:" % (REGION, ACCOUNT)
FIRST = ["roletest-alpha", "roletest-beta"]
ADDED = "roletest-gamma"
NEW_IDLE = 1800
STACK = {
    "isolated_notebook_region": REGION,
    "isolated_notebook_bucket": BUCKET,
    "isolated_notebook_name_prefix": PREFIX,
    "isolated_notebook_wait_timeout": 120,
    "isolated_notebook_tags": {"suite": "test_role"},
}
RECAP = re.compile(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
REPORT_TASK = "Report the notebooks]"
# API calls that change something: EC2/IAM/SageMaker action names, and S3 REST writes.
WRITE_ACTION = re.compile(
    r"^(Create|Put|Update|Delete|Modify|Attach|Detach|Start|Stop|Associate|Disassociate|Authorize|Revoke|"
    r"Tag|Untag|Add|Remove|Allocate|Release|Replace|Set|Reset|Upload|Enable|Disable)|^(PUT|POST|DELETE) "
)


# --- running the playbooks ------------------------------------------------------------------------


class Run:
    """One ansible-playbook run: return code, output, recap counts, the role's report, and the API
    calls the emulator served during it."""

    def __init__(self, rc, output, seconds, calls):
        self.rc, self.output, self.seconds, self.calls = rc, output, seconds, calls

    @property
    def recap(self):
        match = RECAP.search(self.output)
        assert match, self.output[-3000:]
        return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()), strict=True))

    @property
    def report(self):
        """The ``msg`` of the role's "Report the notebooks" task (lifecycle_config, notebooks, restarted)."""
        start = self.output.find(REPORT_TASK)
        assert start >= 0, "the role did not report the notebooks:\n" + self.output[-3000:]
        brace = self.output.index("=> {", start) + 3
        document, _end = json.JSONDecoder().raw_decode(self.output[brace:])
        return document["msg"]

    @property
    def failure(self):
        """The ``msg`` of the failed task (``fatal: [localhost]: FAILED! => {...}``)."""
        start = self.output.find("FAILED! => {")
        assert start >= 0, "no task failed:\n" + self.output[-3000:]
        document, _end = json.JSONDecoder().raw_decode(self.output[start + len("FAILED! => ") :])
        return document["msg"]

    def writes(self):
        """{service: {action: n}} of the calls that change something."""
        found = {}
        for service, actions in self.calls.items():
            for action, number in actions.items():
                if WRITE_ACTION.search(action):
                    found.setdefault(service, {})[action] = number
        return found

    def count(self, service, action):
        return self.calls.get(service, {}).get(action, 0)


def play(emulator, tmp_path, variables, playbook="site", check=False, timeout=600, credentials=None):
    """Run ``playbooks/<playbook>.yml`` of the collection copy with ``-e @vars.json``;
    ``credentials``: STS ``Credentials`` to run as (default: the emulator's test keys)."""
    values = dict(STACK, **variables)
    env = emulator.env()
    values.update(
        aws_endpoint_url=emulator.url,
        aws_ca_bundle=emulator.ca_bundle or "",
        aws_access_key=env["AWS_ACCESS_KEY_ID"],
        aws_secret_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    if credentials:
        values.update(
            aws_access_key=credentials["AccessKeyId"],
            aws_secret_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    path = tmp_path / ("vars-%d.json" % time.monotonic_ns())
    path.write_text(json.dumps(values, indent=2))
    command = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        str(COLLECTION / "playbooks" / (playbook + ".yml")),
        "-e",
        "@%s" % path,
    ] + (["--check"] if check else [])
    process_env = dict(os.environ, **env)
    process_env.update(ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1", PYTHONUNBUFFERED="1")
    process_env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION.parents[2]))
    emulator.request_counts(reset=True)
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=tmp_path, env=process_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.monotonic() - started
    calls = emulator.request_counts(reset=True)
    print("%s.yml%s: rc=%d, %.1f s" % (playbook, " --check" if check else "", result.returncode, seconds))
    return Run(result.returncode, result.stdout + result.stderr, seconds, calls)


# --- the network a user brings, and reading the state back ----------------------------------------


def vpc_with_private_subnet(ec2, cidr_16, zone=REGION + "a"):
    """A VPC ``10.N.0.0/16`` with a subnet (in ``zone``) whose own route table has only the local route."""
    vpc = ec2.create_vpc(CidrBlock="%s.0.0/16" % cidr_16)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="%s.1.0/24" % cidr_16, AvailabilityZone=zone)["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return {"isolated_notebook_vpc_id": vpc, "isolated_notebook_subnet_id": subnet}, table


def notebook_list(names):
    return {"isolated_notebook_notebooks": [{"name": name} for name in names]}


def dump(emulator):
    """What the role could create, with timestamps: notebooks, lifecycle configurations, IAM roles
    and policies (with documents), VPC endpoints, security groups, buckets with their policies and
    objects."""
    sm, ec2, iam, s3 = (emulator.client(s) for s in ("sagemaker", "ec2", "iam", "s3"))
    state = {
        "notebooks": [
            sm.describe_notebook_instance(NotebookInstanceName=n["NotebookInstanceName"])
            for n in sm.list_notebook_instances(MaxResults=100)["NotebookInstances"]
        ],
        "lifecycle_configs": sm.list_notebook_instance_lifecycle_configs(MaxResults=100)[
            "NotebookInstanceLifecycleConfigs"
        ],
        "roles": iam.list_roles()["Roles"],
        "policies": [
            dict(p, Document=iam.get_policy_version(PolicyArn=p["Arn"], VersionId=p["DefaultVersionId"]))
            for p in iam.list_policies(Scope="Local")["Policies"]
        ],
        "vpc_endpoints": ec2.describe_vpc_endpoints()["VpcEndpoints"],
        "security_groups": ec2.describe_security_groups()["SecurityGroups"],
        "route_tables": ec2.describe_route_tables()["RouteTables"],
        "buckets": [],
        "kms_keys": [],
    }
    kms = emulator.client("kms")
    for listed in kms.list_keys()["Keys"]:
        key_id = listed["KeyId"]
        state["kms_keys"].append({
            "metadata": kms.describe_key(KeyId=key_id)["KeyMetadata"],
            "policy": kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"],
            "rotation": kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
            "tags": kms.list_resource_tags(KeyId=key_id)["Tags"],
            "aliases": kms.list_aliases(KeyId=key_id)["Aliases"],
        })  # fmt: skip
    for bucket in sorted(b["Name"] for b in s3.list_buckets()["Buckets"]):
        try:
            policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as error:
            policy = error.response["Error"]["Code"]
        versions = s3.list_object_versions(Bucket=bucket).get("Versions", [])
        state["buckets"].append({"name": bucket, "policy": policy, "objects": versions})
    return json.loads(json.dumps(_without_metadata(state), default=str, sort_keys=True))


def _without_metadata(value):
    if isinstance(value, dict):
        return {k: _without_metadata(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_without_metadata(v) for v in value]
    return value


def notebooks(emulator, names):
    sm = emulator.client("sagemaker")
    return {n: sm.describe_notebook_instance(NotebookInstanceName=n) for n in names}


def endpoint(emulator, vpc, service):
    found = emulator.client("ec2").describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "service-name", "Values": [service]}]
    )["VpcEndpoints"]
    assert len(found) == 1, found
    return found[0]


def policy_document(emulator, name):
    iam = emulator.client("iam")
    arn = "arn:aws:iam::%s:policy/%s" % (ACCOUNT, name)
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]


def notebooks_named_by(document, kind="sagemaker"):
    """Notebook names in the Resource ARNs of a policy document (lower-cased: ARNs of either case count):
    of the notebook ARNs (``kind`` sagemaker) or of the lifecycle log streams (``kind`` logs); any other
    resource must be the lifecycle log group itself."""
    names = {"sagemaker": set(), "logs": set()}
    for statement in document["Statement"]:
        resources = statement.get("Resource", [])
        for arn in [resources] if isinstance(resources, str) else resources:
            prefix = "arn:aws:sagemaker:%s:%s:notebook-instance/" % (REGION, ACCOUNT)
            if arn.startswith(prefix):
                names["sagemaker"].add(arn[len(prefix) :].lower())
            elif arn.startswith(LOG_STREAMS):
                stream = arn[len(LOG_STREAMS) :]
                assert stream.endswith("/LifecycleConfigOn*"), "not a lifecycle stream: %s" % arn
                names["logs"].add(stream.split("/")[0].lower())
            else:
                assert arn == LOG_STREAMS.split(":log-stream:")[0] + ":*", "a resource outside the stack: %s" % arn
    return names[kind]


def on_start_script(emulator):
    described = emulator.client("sagemaker").describe_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=LCC
    )
    return base64.b64decode(described["OnStart"][0]["Content"]).decode()


def missing(call, code_fragment, **kwargs):
    """True when ``call(**kwargs)`` fails with an error whose code or message holds ``code_fragment``."""
    try:
        call(**kwargs)
    except ClientError as error:
        text = "%s %s" % (error.response["Error"].get("Code"), error.response["Error"].get("Message"))
        return code_fragment in text
    return False


# --- fixtures: one stack, one scenario after another ----------------------------------------------


@pytest.fixture(scope="module")
def fresh(emulator):
    """An emulator with nothing in it (other suites share it)."""
    emulator.reset()
    return emulator


@pytest.fixture(scope="module")
def network(fresh):
    variables, _table = vpc_with_private_subnet(fresh.client("ec2"), "10.61")
    return variables


@pytest.fixture(scope="module")
def converged(fresh, network, tmp_path_factory):
    run = play(fresh, tmp_path_factory.mktemp("converge"), dict(network, **notebook_list(FIRST)))
    assert run.rc == 0, run.output[-5000:]
    described = notebooks(fresh, FIRST)
    assert {n: d["NotebookInstanceStatus"] for n, d in described.items()} == dict.fromkeys(FIRST, "InService")
    return run


@pytest.fixture(scope="module")
def rerun(fresh, network, converged, tmp_path_factory):
    """The same run again on the converged stack."""
    before = dump(fresh)
    run = play(fresh, tmp_path_factory.mktemp("rerun"), dict(network, **notebook_list(FIRST)))
    return run, before, dump(fresh)


@pytest.fixture(scope="module")
def checked(fresh, network, rerun, tmp_path_factory):
    before = dump(fresh)
    run = play(fresh, tmp_path_factory.mktemp("check"), dict(network, **notebook_list(FIRST)), check=True)
    return run, before, dump(fresh)


@pytest.fixture(scope="module")
def grown(fresh, network, checked, tmp_path_factory):
    """Tamper with the S3 endpoint policy and the bucket policy, then run with a third notebook."""
    ec2, s3 = fresh.client("ec2"), fresh.client("s3")
    s3_endpoint = endpoint(fresh, network["isolated_notebook_vpc_id"], "com.amazonaws.%s.s3" % REGION)
    good = {
        "endpoint_policy": json.loads(s3_endpoint["PolicyDocument"]),
        "bucket_policy": json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]),
        "endpoint_id": s3_endpoint["VpcEndpointId"],
    }
    everything = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    open_to_all = {"Version": "2008-10-17", "Statement": [everything]}
    ec2.modify_vpc_endpoint(VpcEndpointId=good["endpoint_id"], PolicyDocument=json.dumps(open_to_all))
    weakened = dict(good["bucket_policy"], Statement=good["bucket_policy"]["Statement"][:1])  # TLS deny only
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(weakened))
    # The tampering took: the run below has something to reconcile.
    assert json.loads(endpoint(fresh, network["isolated_notebook_vpc_id"], s3_endpoint["ServiceName"])[
        "PolicyDocument"]) == open_to_all  # fmt: skip
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == weakened
    before = notebooks(fresh, FIRST)
    run = play(fresh, tmp_path_factory.mktemp("grow"), dict(network, **notebook_list(FIRST + [ADDED])))
    assert run.rc == 0, run.output[-5000:]
    return run, good, before


@pytest.fixture(scope="module")
def idle_changed(fresh, network, grown, tmp_path_factory):
    """Stop one notebook by hand, then run with a new idle time."""
    sm = fresh.client("sagemaker")
    sm.stop_notebook_instance(NotebookInstanceName=FIRST[1])
    sm.get_waiter("notebook_instance_stopped").wait(
        NotebookInstanceName=FIRST[1], WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    before = notebooks(fresh, FIRST + [ADDED])
    old_script = on_start_script(fresh)
    variables = dict(network, isolated_notebook_idle_seconds=NEW_IDLE, **notebook_list(FIRST + [ADDED]))
    run = play(fresh, tmp_path_factory.mktemp("idle"), variables)
    assert run.rc == 0, run.output[-5000:]
    return run, before, old_script


@pytest.fixture(scope="module")
def torn_down(fresh, network, idle_changed, tmp_path_factory):
    variables = dict(network, isolated_notebook_idle_seconds=NEW_IDLE, **notebook_list(FIRST + [ADDED]))
    run = play(fresh, tmp_path_factory.mktemp("teardown"), variables, playbook="teardown")
    assert run.rc == 0, run.output[-5000:]
    return run


@pytest.fixture(scope="module")
def bucket_deleted(fresh, network, torn_down, tmp_path_factory):
    variables = dict(network, isolated_notebook_delete_bucket=True, isolated_notebook_delete_kms_key=True,
                     isolated_notebook_kms_key_deletion_days=7, **notebook_list(FIRST + [ADDED]))  # fmt: skip
    run = play(fresh, tmp_path_factory.mktemp("delete-bucket"), variables, playbook="teardown")
    assert run.rc == 0, run.output[-5000:]
    return run


# --- 1. a subnet that is not isolated is refused, and nothing is created ---------------------------


def _refused(emulator, tmp_path, variables, route_table, target, destinations=("0.0.0.0/0",)):
    before = dump(emulator)
    run = play(emulator, tmp_path, dict(variables, **notebook_list(["roletest-refused"])))
    assert run.rc != 0, run.output[-3000:]
    assert run.recap["failed"] == 1
    # The error names the subnet, its route table and the offending route with its target.
    message = run.failure
    assert variables["isolated_notebook_subnet_id"] in message, run.output[-3000:]
    assert route_table in message and target in message, message
    assert all("%s routes to" % destination in message for destination in destinations), message
    # Nothing was written, and nothing is there that was not there before.
    assert run.writes() == {}, run.writes()
    assert dump(emulator) == before
    return message


def test_subnet_routed_to_an_internet_gateway_is_refused(fresh, tmp_path):
    ec2 = fresh.client("ec2")
    variables, table = vpc_with_private_subnet(ec2, "10.62")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=variables["isolated_notebook_vpc_id"])
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    _refused(fresh, tmp_path, variables, table, igw)


def test_subnet_routed_to_a_nat_gateway_is_refused(fresh, tmp_path):
    ec2 = fresh.client("ec2")
    variables, table = vpc_with_private_subnet(ec2, "10.63")
    public = ec2.create_subnet(VpcId=variables["isolated_notebook_vpc_id"], CidrBlock="10.63.2.0/24",
                               AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]  # fmt: skip
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    _refused(fresh, tmp_path, variables, table, nat)


def test_subnet_with_a_default_route_to_a_virtual_private_gateway_is_refused(fresh, tmp_path):
    # A VPN or Direct Connect path leads out of the VPC as much as an internet gateway does.
    ec2 = fresh.client("ec2")
    variables, table = vpc_with_private_subnet(ec2, "10.66")
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=variables["isolated_notebook_vpc_id"])
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=vgw)
    _refused(fresh, tmp_path, variables, table, vgw)


def test_subnet_with_split_routes_to_an_internet_gateway_is_refused(fresh, tmp_path):
    # 0.0.0.0/1 and 128.0.0.0/1 cover every address without a 0.0.0.0/0 route; a private route to a
    # transit gateway next to them is not what is named.
    ec2 = fresh.client("ec2")
    variables, table = vpc_with_private_subnet(ec2, "10.67")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=variables["isolated_notebook_vpc_id"])
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    for half in ("0.0.0.0/1", "128.0.0.0/1"):
        ec2.create_route(RouteTableId=table, DestinationCidrBlock=half, GatewayId=igw)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="10.0.0.0/8", TransitGatewayId=tgw)
    message = _refused(fresh, tmp_path, variables, table, igw, destinations=("0.0.0.0/1", "128.0.0.0/1"))
    assert tgw not in message and "10.0.0.0/8" not in message, message


def regional_client(emulator, service, region):
    """A boto3 client on the emulator in ``region`` (the harness's clients are in REGION)."""
    import boto3
    from botocore.config import Config

    env = emulator.env()
    return boto3.client(service, endpoint_url=emulator.url, region_name=region,
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        verify=emulator.ca_bundle if emulator.tls else None,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))  # fmt: skip


def test_bucket_with_the_legacy_eu_location_is_accepted_in_eu_west_1(fresh, tmp_path):
    """GetBucketLocation answers EU for a bucket made with the legacy constraint (botocore S3 model,
    GetBucketLocationOutput: "Buckets with a LocationConstraint of EU reside in eu-west-1"); moto makes one
    when CreateBucket with LocationConstraint EU goes to us-east-1, as AWS's global endpoint did."""
    region, prefix, bucket = "eu-west-1", "roleeu", "roleeu-notebook-scripts"
    fresh.client("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "EU"})
    assert fresh.client("s3").get_bucket_location(Bucket=bucket)["LocationConstraint"] == "EU"
    network, _table = vpc_with_private_subnet(regional_client(fresh, "ec2", region), "10.68", zone=region + "a")
    variables = dict(network, isolated_notebook_region=region, isolated_notebook_bucket=bucket,
                     isolated_notebook_name_prefix=prefix)  # fmt: skip
    run = play(fresh, tmp_path, dict(variables, **notebook_list([prefix + "-alpha"])))
    assert run.rc == 0, run.output[-5000:]
    assert "is in region" not in run.output
    # The stack was built around that bucket, in eu-west-1.
    s3, sagemaker = regional_client(fresh, "s3", region), regional_client(fresh, "sagemaker", region)
    script = s3.get_object(Bucket=bucket, Key=SCRIPT_KEY)["Body"].read()
    assert script == (COLLECTION / "files" / "autostop.py").read_bytes()
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    described = sagemaker.describe_notebook_instance(NotebookInstanceName=prefix + "-alpha")
    assert described["NotebookInstanceStatus"] == "InService"
    assert described["SubnetId"] == network["isolated_notebook_subnet_id"]


def test_a_stack_in_china_uses_the_aws_cn_names(fresh, tmp_path):
    """cn-north-1 (aws-cn): the SageMaker API endpoint service is cn.com.amazonaws.cn-north-1.sagemaker.api
    (looked up; the emulator names it as AWS does there, gaps.py), ARNs are arn:aws-cn and the on-start
    script copies through s3.cn-north-1.amazonaws.com.cn; a second run changes nothing."""
    region, prefix = "cn-north-1", "rolecn"
    ec2 = regional_client(fresh, "ec2", region)
    network, _table = vpc_with_private_subnet(ec2, "10.69", zone=region + "a")
    vpc = network["isolated_notebook_vpc_id"]
    variables = dict(network, isolated_notebook_region=region, isolated_notebook_bucket=prefix + "-notebook-scripts",
                     isolated_notebook_name_prefix=prefix)  # fmt: skip
    variables.update(notebook_list([prefix + "-alpha"]))
    run = play(fresh, tmp_path, variables)
    assert run.rc == 0, run.output[-5000:]
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert sorted((e["ServiceName"], e["VpcEndpointType"]) for e in endpoints) == [
        ("cn.com.amazonaws.cn-north-1.sagemaker.api", "Interface"), ("com.amazonaws.cn-north-1.logs", "Interface"),
        ("com.amazonaws.cn-north-1.s3", "Gateway")
    ]  # fmt: skip
    logs = [e for e in endpoints if e["ServiceName"].endswith(".logs")][0]
    resources = [r for s in json.loads(logs["PolicyDocument"])["Statement"] for r in
                 ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])]  # fmt: skip
    assert resources and all(r.startswith("arn:aws-cn:logs:cn-north-1:") for r in resources), resources
    s3 = regional_client(fresh, "s3", region)
    bucket_policy = json.loads(s3.get_bucket_policy(Bucket=variables["isolated_notebook_bucket"])["Policy"])
    resources = [r for st in bucket_policy["Statement"] for r in st["Resource"]]
    assert resources and all(r.startswith("arn:aws-cn:s3:::") for r in resources), resources
    sagemaker = regional_client(fresh, "sagemaker", region)
    lcc_name = prefix + "-autostop"
    config = sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=lcc_name)
    script = base64.b64decode(config["OnStart"][0]["Content"]).decode()
    assert "S3_URL=https://s3.cn-north-1.amazonaws.com.cn\n" in script
    described = sagemaker.describe_notebook_instance(NotebookInstanceName=prefix + "-alpha")
    assert described["NotebookInstanceStatus"] == "InService"
    assert described["NotebookInstanceArn"].startswith("arn:aws-cn:sagemaker:cn-north-1:")
    again = play(fresh, tmp_path, variables)
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-5000:]


# --- an S3 endpoint the stack did not create is neither taken over nor deleted ---------------------


def shared_s3_endpoint(ec2, cidr_16):
    variables, table = vpc_with_private_subnet(ec2, cidr_16)
    vpce = ec2.create_vpc_endpoint(VpcId=variables["isolated_notebook_vpc_id"], VpcEndpointType="Gateway",
                                   ServiceName="com.amazonaws.%s.s3" % REGION,
                                   RouteTableIds=[table])["VpcEndpoint"]["VpcEndpointId"]  # fmt: skip
    return variables, table, vpce


def test_an_upgrade_keeps_a_notebook_without_a_key_warns_and_the_audit_names_the_replacement(fresh, tmp_path):
    """A stack built before the stack key existed (here: with it turned off) is upgraded: its notebook is
    neither replaced nor refused, the run warns, a new notebook gets the key, and the audit reports the
    old one (Security Hub SageMaker.21) with the replacement as its fix."""
    network_vars, _table = vpc_with_private_subnet(fresh.client("ec2"), "10.64")
    old, new = "roleupgrade-old", "roleupgrade-new"
    stack = dict(
        network_vars, isolated_notebook_name_prefix="roleupgrade", isolated_notebook_bucket="roleupgrade-scripts"
    )
    before_key = play(fresh, tmp_path, dict(stack, isolated_notebook_create_kms_key=False, **notebook_list([old])))
    assert before_key.rc == 0, before_key.output[-5000:]
    sm = fresh.client("sagemaker")
    kept = sm.describe_notebook_instance(NotebookInstanceName=old)
    assert "KmsKeyId" not in kept
    (rule,) = fresh.client("s3").get_bucket_encryption(Bucket="roleupgrade-scripts")[
        "ServerSideEncryptionConfiguration"]["Rules"]  # fmt: skip
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}

    upgraded = play(fresh, tmp_path, dict(stack, **notebook_list([old, new])))
    assert upgraded.rc == 0, upgraded.output[-5000:]
    key_arn = stack_key(fresh, "roleupgrade")["Arn"]
    # No replacement: the same notebook (ARN, creation time), no delete, one create (the new notebook).
    now = sm.describe_notebook_instance(NotebookInstanceName=old)
    assert (now["NotebookInstanceArn"], now["CreationTime"]) == (kept["NotebookInstanceArn"], kept["CreationTime"])
    assert "KmsKeyId" not in now and now["NotebookInstanceStatus"] == "InService"
    assert upgraded.count("sagemaker", "DeleteNotebookInstance") == 0
    assert upgraded.count("sagemaker", "CreateNotebookInstance") == 1
    assert sm.describe_notebook_instance(NotebookInstanceName=new)["KmsKeyId"] == key_arn
    # The warning names the notebook, the control and the only fix.
    warning = " ".join(upgraded.output[upgraded.output.index("[WARNING]: Notebook instance " + old) :].split())
    assert warning.startswith("[WARNING]: Notebook instance %s keeps no customer managed KMS key" % old), warning
    assert "SageMaker.21" in warning[:600] and "only replacing the notebook applies it" in warning[:600]
    # The bucket moved to the key (new objects; the script was uploaded again under it).
    head = fresh.client("s3").head_object(Bucket="roleupgrade-scripts", Key=SCRIPT_KEY)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)

    audit_dir = tmp_path / "audit"
    audit = play(fresh, tmp_path, {"audit_names": [old, new], "audit_fail_on": "never",
                                   "audit_report_dir": str(audit_dir)}, playbook="audit")  # fmt: skip
    assert audit.rc == 0, audit.output[-5000:]
    report = json.loads((audit_dir / ("isolation-audit-%s.json" % REGION)).read_text())
    found = {n["name"]: {f["id"]: f for f in n["findings"]} for n in report["notebooks"]}
    assert "volume-no-customer-key" not in found[new]
    volume = found[old]["volume-no-customer-key"]
    assert "SageMaker.21" in volume["title"] and "create-only" in volume["remediation"]
    assert "only a replacement adds one" in volume["message"]


def test_endpoint_of_other_workloads_is_not_taken_over(fresh, tmp_path):
    ec2 = fresh.client("ec2")
    variables, _table, vpce = shared_s3_endpoint(ec2, "10.64")
    before, policy = dump(fresh), endpoint_policy(ec2, vpce)
    run = play(fresh, tmp_path, dict(variables, **notebook_list(["roletest-shared"])))
    assert run.rc != 0 and run.recap["failed"] == 1, run.output[-3000:]
    message = run.failure
    assert message.startswith("isolated_notebook_vpc_id: VPC " + variables["isolated_notebook_vpc_id"]), message
    assert vpce in message and "isolated_notebook_adopt_endpoints=true" in message, message
    assert run.writes() == {}, run.writes()
    assert dump(fresh) == before and endpoint_policy(ec2, vpce) == policy


def endpoint_policy(ec2, vpce):
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"][0]["PolicyDocument"]


def test_teardown_leaves_other_endpoints_even_on_a_routed_subnet(fresh, tmp_path):
    # Teardown neither deletes an endpoint it did not create nor refuses a subnet that gained a route out.
    ec2 = fresh.client("ec2")
    variables, table, vpce = shared_s3_endpoint(ec2, "10.65")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=variables["isolated_notebook_vpc_id"])
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    run = play(fresh, tmp_path, dict(variables, **notebook_list(["roletest-shared"])), playbook="teardown")
    assert run.rc == 0, run.output[-3000:]
    assert "Left in place (not tagged isolated-notebook-stack=%s): %s" % (PREFIX, vpce) in run.output
    assert [e["State"].lower() for e in ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce])["VpcEndpoints"]] == [
        "available"
    ]
    assert run.count("ec2", "DeleteVpcEndpoints") == 0


# --- the lifecycle output's way to CloudWatch Logs -------------------------------------------------


def security_group(emulator, vpc, name):
    found = emulator.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    assert len(found) == 1, found
    return found[0]


def https_rules(rules):
    """(protocol, from, to, kind, peer) of security group rules, one per peer (EC2 lists the peers of
    one protocol and port range in one IpPermission)."""
    found = []
    for rule in rules:
        head = (rule["IpProtocol"], rule.get("FromPort"), rule.get("ToPort"))
        for key, field, kind in (("UserIdGroupPairs", "GroupId", "group"),
                                 ("PrefixListIds", "PrefixListId", "prefix list"),
                                 ("IpRanges", "CidrIp", "range"), ("Ipv6Ranges", "CidrIpv6", "range")):  # fmt: skip
            found.extend(head + (kind, peer[field]) for peer in rule.get(key) or [])
    return sorted(found)


def test_converged_stack_has_the_logs_endpoint_with_exactly_the_lifecycle_log_policy(fresh, network, converged):
    vpc = network["isolated_notebook_vpc_id"]
    logs = endpoint(fresh, vpc, "com.amazonaws.%s.logs" % REGION)
    assert logs["VpcEndpointType"] == "Interface" and logs["State"].lower() == "available"
    assert logs["PrivateDnsEnabled"] is True
    assert logs["SubnetIds"] == [network["isolated_notebook_subnet_id"]]
    assert {t["Key"]: t["Value"] for t in logs["Tags"]}["isolated-notebook-stack"] == PREFIX
    streams = [LOG_STREAMS + "%s/LifecycleConfigOn*" % name for name in sorted(FIRST)]
    condition = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
    assert json.loads(logs["PolicyDocument"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "LifecycleLogGroup", "Effect": "Allow", "Principal": "*", "Condition": condition,
             "Action": ["logs:CreateLogGroup", "logs:DescribeLogStreams"],
             "Resource": LOG_STREAMS.split(":log-stream:")[0] + ":*"},
            {"Sid": "WriteLifecycleLogs", "Effect": "Allow", "Principal": "*", "Condition": condition,
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": streams},
        ],
    }  # fmt: skip
    # Its own group admits HTTPS from the notebooks only, and the notebook group's egress reaches it.
    notebooks_group = security_group(fresh, vpc, GROUPS[0])
    logs_group = security_group(fresh, vpc, GROUPS[2])
    assert [g["GroupId"] for g in logs["Groups"]] == [logs_group["GroupId"]]
    assert https_rules(logs_group["IpPermissions"]) == [("tcp", 443, 443, "group", notebooks_group["GroupId"])]
    assert logs_group["IpPermissionsEgress"] == []
    api_group = security_group(fresh, vpc, GROUPS[1])
    egress = https_rules(notebooks_group["IpPermissionsEgress"])
    assert [r for r in egress if r[3] == "group"] == sorted(
        [("tcp", 443, 443, "group", logs_group["GroupId"]), ("tcp", 443, 443, "group", api_group["GroupId"])]
    )
    # The third: HTTPS to S3's prefix list (through the gateway endpoint); nothing else.
    assert [r[:4] for r in egress if r[3] != "group"] == [("tcp", 443, 443, "prefix list")]
    assert notebooks_group["IpPermissions"] == []


def stack_key(emulator, prefix=PREFIX):
    return emulator.client("kms").describe_key(KeyId="alias/" + prefix)["KeyMetadata"]


def test_converged_stack_has_its_own_key_with_rotation_and_the_least_privilege_key_policy(fresh, converged):
    kms = fresh.client("kms")
    key = stack_key(fresh)
    assert (key["KeyManager"], key["KeyState"], key["KeySpec"], key["KeyUsage"], key["MultiRegion"]) == (
        "CUSTOMER", "Enabled", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", False)  # fmt: skip
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}
    assert tags == {"suite": "test_role", "isolated-notebook-stack": PREFIX}
    # The role passes the policy builder (asserted literally in the unit tests) the caller, the role and the bucket.
    from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn, policies

    caller = fresh.client("sts").get_caller_identity()["UserId"]
    role_arn = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE)
    expected = policies.kms_key_policy(ACCOUNT, REGION, [], [arn.user_id_pattern(caller)], role_arn, BUCKET)
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == expected
    assert [s["Sid"] for s in expected["Statement"]] == [
        "TheRunAdministersTheKey", "TheRunEncryptsNotebookVolumes", "TheRunWritesScriptsThroughS3",
        "NotebooksReadScriptsThroughS3"]  # fmt: skip


def test_converged_stack_encrypts_volumes_bucket_and_script_with_its_key(fresh, converged):
    key_arn = stack_key(fresh)["Arn"]
    assert {n: d.get("KmsKeyId") for n, d in notebooks(fresh, FIRST).items()} == dict.fromkeys(FIRST, key_arn)
    s3 = fresh.client("s3")
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True}  # fmt: skip
    head = s3.head_object(Bucket=BUCKET, Key=SCRIPT_KEY)
    script = (COLLECTION / "files" / "autostop.py").read_bytes()
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head.get("BucketKeyEnabled")) == (
        "aws:kms",
        key_arn,
        True,
    )
    assert head["Metadata"] == {"sha256": hashlib.sha256(script).hexdigest()}
    # The notebook role decrypts with that key only, only through S3 in the region.
    decrypt = [s for s in policy_document(fresh, POLICIES[0])["Statement"] if s["Action"] == "kms:Decrypt"]
    assert decrypt == [{"Sid": "DecryptLifecycleScripts", "Effect": "Allow", "Action": "kms:Decrypt",
                        "Resource": key_arn,
                        "Condition": {"StringEquals": {"kms:ViaService": "s3.%s.amazonaws.com" % REGION}}}]  # fmt: skip


def test_notebook_role_may_write_exactly_its_notebooks_lifecycle_streams(fresh, converged):
    document = policy_document(fresh, POLICIES[1])
    assert notebooks_named_by(document, "logs") == {n.lower() for n in FIRST}
    assert notebooks_named_by(document) == {n.lower() for n in FIRST}
    writes = [s for s in document["Statement"] if s.get("Sid") == "WriteLifecycleLogs"]
    assert [s["Action"] for s in writes] == [["logs:CreateLogStream", "logs:PutLogEvents"]]


def test_a_second_run_changes_nothing(rerun):
    run, before, after = rerun
    assert run.rc == 0, run.output[-5000:]
    assert run.recap["changed"] == 0, run.output[-5000:]
    assert run.writes() == {}, run.writes()
    assert after == before


# --- 6. check mode on the converged stack ---------------------------------------------------------


def test_check_mode_on_a_converged_stack_changes_nothing(checked):
    run, before, after = checked
    assert run.rc == 0, run.output[-5000:]
    assert run.recap["changed"] == 0, run.output[-5000:]
    assert run.writes() == {}, run.writes()
    assert after == before
    assert run.report["restarted"] == []


# --- 2. out-of-band policy changes are reconciled --------------------------------------------------


def test_changed_endpoint_policy_is_put_back(fresh, network, grown):
    _run, good, _before = grown
    s3_endpoint = endpoint(fresh, network["isolated_notebook_vpc_id"], "com.amazonaws.%s.s3" % REGION)
    assert s3_endpoint["VpcEndpointId"] == good["endpoint_id"]  # reconciled in place, no second endpoint
    assert json.loads(s3_endpoint["PolicyDocument"]) == good["endpoint_policy"]


def test_changed_bucket_policy_is_put_back(fresh, grown):
    _run, good, _before = grown
    assert json.loads(fresh.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]) == good["bucket_policy"]
    assert [s["Sid"] for s in good["bucket_policy"]["Statement"]] == ["DenyInsecureTransport", "DenyOutsideVpcEndpoint"]


# --- 3. a notebook added to the list ----------------------------------------------------------------


def test_added_notebook_is_created_isolated_with_the_lifecycle_config(fresh, network, grown):
    run, _good, _before = grown
    added = notebooks(fresh, [ADDED])[ADDED]
    assert added["NotebookInstanceStatus"] == "InService"
    assert added["NotebookInstanceLifecycleConfigName"] == LCC
    assert added["DirectInternetAccess"] == "Disabled"
    assert added["SubnetId"] == network["isolated_notebook_subnet_id"]
    assert added["RoleArn"] == "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE)
    assert run.count("sagemaker", "CreateNotebookInstance") == 1


def test_added_notebook_leaves_the_others_untouched(fresh, grown):
    run, _good, before = grown
    after = notebooks(fresh, FIRST)
    for name in FIRST:
        assert after[name]["NotebookInstanceStatus"] == "InService"
        assert after[name]["LastModifiedTime"] == before[name]["LastModifiedTime"], name  # not stopped/started
    for action in ("StopNotebookInstance", "StartNotebookInstance", "UpdateNotebookInstance",
                   "UpdateNotebookInstanceLifecycleConfig", "DeleteNotebookInstance"):  # fmt: skip
        assert run.count("sagemaker", action) == 0, (action, run.calls["sagemaker"])
    report = run.report
    assert report["restarted"] == []
    assert sorted(report["notebooks"]) == sorted(
        ["%s: InService" % n for n in FIRST] + ["%s: InService (create)" % ADDED]
    )
    assert report["lifecycle_config"] == "%s (unchanged)" % LCC


def test_added_notebook_is_named_by_the_autostop_and_endpoint_policies(fresh, network, grown):
    everyone = {n.lower() for n in FIRST + [ADDED]}
    assert notebooks_named_by(policy_document(fresh, POLICIES[1])) == everyone
    assert notebooks_named_by(policy_document(fresh, POLICIES[1]), "logs") == everyone
    api = endpoint(fresh, network["isolated_notebook_vpc_id"], "com.amazonaws.%s.sagemaker.api" % REGION)
    assert notebooks_named_by(json.loads(api["PolicyDocument"])) == everyone
    logs = endpoint(fresh, network["isolated_notebook_vpc_id"], "com.amazonaws.%s.logs" % REGION)
    assert notebooks_named_by(json.loads(logs["PolicyDocument"]), "logs") == everyone
    # IAM keeps one version of the policy (the cap is five).
    arn = "arn:aws:iam::%s:policy/%s" % (ACCOUNT, POLICIES[1])
    assert len(fresh.client("iam").list_policy_versions(PolicyArn=arn)["Versions"]) == 1


# --- 4. a new idle time -------------------------------------------------------------------------------


def test_new_idle_time_rewrites_the_on_start_script(fresh, idle_changed):
    run, _before, old_script = idle_changed
    script = on_start_script(fresh)
    assert "IDLE_SECONDS=3600\n" in old_script
    assert "IDLE_SECONDS=%d\n" % NEW_IDLE in script and "IDLE_SECONDS=3600" not in script
    assert run.report["lifecycle_config"] == "%s (changed)" % LCC


def test_new_idle_time_restarts_the_running_notebooks_only(fresh, idle_changed):
    run, before, _old = idle_changed
    running = [FIRST[0], ADDED]
    after = notebooks(fresh, FIRST + [ADDED])
    assert before[FIRST[1]]["NotebookInstanceStatus"] == "Stopped"
    assert {n: d["NotebookInstanceStatus"] for n, d in after.items()} == {
        FIRST[0]: "InService",
        ADDED: "InService",
        FIRST[1]: "Stopped",
    }
    for name in running:
        assert after[name]["LastModifiedTime"] > before[name]["LastModifiedTime"], name
        assert after[name]["NotebookInstanceLifecycleConfigName"] == LCC
    assert after[FIRST[1]]["LastModifiedTime"] == before[FIRST[1]]["LastModifiedTime"]
    # One stop and one start per running notebook, nothing for the stopped one.
    assert run.count("sagemaker", "StopNotebookInstance") == len(running)
    assert run.count("sagemaker", "StartNotebookInstance") == len(running)
    assert sorted(run.report["restarted"]) == sorted(running)


# --- 5. teardown -------------------------------------------------------------------------------------


def test_teardown_removes_the_stack(fresh, network, torn_down):
    sm, ec2, iam = fresh.client("sagemaker"), fresh.client("ec2"), fresh.client("iam")
    assert sm.list_notebook_instances(NameContains=PREFIX)["NotebookInstances"] == []
    assert missing(sm.describe_notebook_instance_lifecycle_config, "", NotebookInstanceLifecycleConfigName=LCC)
    vpc = network["isolated_notebook_vpc_id"]
    # AWS lists a deleted endpoint for a while, with State "deleted".
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert sorted(e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints) == ["api", "logs", "s3"], endpoints
    assert {e["State"].lower() for e in endpoints} == {"deleted"}, endpoints
    assert missing(iam.get_role, "NoSuchEntity", RoleName=ROLE)
    for name in POLICIES:
        assert missing(iam.get_policy, "NoSuchEntity", PolicyArn="arn:aws:iam::%s:policy/%s" % (ACCOUNT, name))
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]


def test_teardown_keeps_the_bucket_and_its_script(fresh, torn_down):
    s3 = fresh.client("s3")
    s3.head_bucket(Bucket=BUCKET)
    body = s3.get_object(Bucket=BUCKET, Key=SCRIPT_KEY)["Body"].read()
    assert body == (COLLECTION / "files" / "autostop.py").read_bytes()
    assert torn_down.count("s3", "DELETE bucket") == 0


def test_teardown_keeps_the_stack_key(fresh, torn_down):
    # Deleting it would make the script (and any snapshot of a volume) unreadable.
    key = fresh.client("kms").describe_key(KeyId="alias/" + PREFIX)["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    assert "The stack's KMS key alias/%s stays" % PREFIX in torn_down.output


def test_teardown_with_delete_bucket_removes_it(fresh, bucket_deleted):
    assert missing(fresh.client("s3").head_bucket, "404", Bucket=BUCKET)
    assert BUCKET not in [b["Name"] for b in fresh.client("s3").list_buckets()["Buckets"]]


def test_teardown_with_delete_kms_key_schedules_its_deletion(fresh, bucket_deleted):
    key = fresh.client("kms").describe_key(KeyId="alias/" + PREFIX)["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
    days = (key["DeletionDate"] - key["CreationDate"]).total_seconds() / 86400
    assert 6.9 < days < 7.1, key
    assert bucket_deleted.count("kms", "ScheduleKeyDeletion") == 1
