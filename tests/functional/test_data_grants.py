# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data grants: the notebooks reach exactly the S3 data they are granted, through their endpoint.

site.yml runs with two grants (read on one bucket's prefix, read-write on another's) against an
emulator of its own.  Then, with request authorization on (tests/emulator/authz.py: identity
policies, bucket policies, and the policy of the VPC endpoint a client is marked as standing behind),
a session of the notebook role is tried on every cell of the matrix below through the stack's S3
gateway endpoint, each cell asserted allow or deny.  A second principal with full IAM permissions
shows the endpoint's policy alone keeps other principals in the VPC away from the data.  A second
run changes nothing; a run without grants deletes the data policy and shrinks the endpoint policy.
"""

import json

import pytest
from botocore.exceptions import ClientError
from test_least_privilege import set_auth
from test_role import notebook_list, play, policy_document, vpc_with_private_subnet

from tests.emulator import harness

PREFIX = "grants"
BUCKET = "grants-notebook-scripts"
SCRIPT = "lifecycle-configurations/autostop.py"
READ_BUCKET, RW_BUCKET, OTHER_BUCKET = "grants-read-data", "grants-rw-data", "grants-other-data"
# SSE-KMS buckets: one granted with its key, one granted without (its key is not the role's to use).
KMS_BUCKET, OTHER_KEY_BUCKET = "grants-kms-data", "grants-other-key-data"
GRANTS = [
    # listed out of order: the role sorts them, a reordered list changes nothing
    {"bucket": RW_BUCKET, "prefix": "team/", "access": "read-write"},
    # its owner asks the role to harden it: endpoint-only access (the others keep their owners' policies)
    {"bucket": READ_BUCKET, "prefix": "shared/reference/", "access": "read", "harden": True},
    {"bucket": OTHER_KEY_BUCKET, "prefix": "enc/", "access": "read"},
]
ROLE_ARN = "arn:aws:iam::%s:role/%s-notebook" % (harness.ACCOUNT_ID, PREFIX)
OBJECTS = {
    READ_BUCKET: ["shared/reference/a.csv", "private/b.csv"],
    RW_BUCKET: ["team/x.csv", "elsewhere/y.csv"],
    OTHER_BUCKET: ["team/x.csv"],
    KMS_BUCKET: ["enc/a.csv"],
    OTHER_KEY_BUCKET: ["enc/a.csv"],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with harness.Emulator(tls=True) as emulator:
        s3, kms = emulator.client("s3"), emulator.client("kms")
        keys = {
            bucket: kms.create_key(Description=bucket)["KeyMetadata"]["Arn"]
            for bucket in (KMS_BUCKET, OTHER_KEY_BUCKET)
        }
        for bucket, names in OBJECTS.items():
            s3.create_bucket(Bucket=bucket)
            if bucket in keys:
                default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys[bucket]}
                rule = {"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}
                s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
            for key in names:
                s3.put_object(Bucket=bucket, Key=key, Body=b"1,2\n")
        grants = GRANTS + [
            {"bucket": KMS_BUCKET, "prefix": "enc/", "access": "read-write", "kms_key_arn": keys[KMS_BUCKET]}
        ]
        network, _table = vpc_with_private_subnet(emulator.client("ec2"), "10.81")
        variables = dict(network, isolated_notebook_name_prefix=PREFIX, isolated_notebook_bucket=BUCKET,
                         isolated_notebook_data_grants=grants, **notebook_list(["grants-one"]))  # fmt: skip
        first = play(emulator, tmp_path_factory.mktemp("grants"), variables)
        assert first.rc == 0, first.output[-5000:]
        reordered = play(emulator, tmp_path_factory.mktemp("grants-again"),
                         dict(variables, isolated_notebook_data_grants=list(reversed(grants))))  # fmt: skip
        endpoint = emulator.client("ec2").describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [network["isolated_notebook_vpc_id"]]},
                     {"Name": "service-name", "Values": ["com.amazonaws.%s.s3" % harness.REGION]}]
        )["VpcEndpoints"][0]  # fmt: skip
        yield {"emulator": emulator, "endpoint": endpoint, "reordered": reordered, "variables": variables,
               "tmp": tmp_path_factory}  # fmt: skip


def session(emulator, role_arn, name):
    return emulator.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]


@pytest.fixture(scope="module")
def authorized(stack):
    """Sessions of the notebook role and of an all-powerful role, then authorization on."""
    emulator = stack["emulator"]
    iam = emulator.client("iam")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    admin = iam.create_role(RoleName="grants-other-workload", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=admin["RoleName"], PolicyName="all", PolicyDocument=json.dumps(everything))
    sessions = {"notebook": session(emulator, ROLE_ARN, "grants-one"),
                "other": session(emulator, admin["Arn"], "other")}  # fmt: skip
    set_auth(emulator, True)
    yield sessions
    set_auth(emulator, False)


def outcome(call, **kwargs):
    try:
        call(**kwargs)
        return "allow"
    except ClientError as error:
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403, error.response
        return "deny"


def cells(s3):
    """(label, outcome) of every cell of the matrix, for one S3 client."""
    return {
        "read grant: get": outcome(s3.get_object, Bucket=READ_BUCKET, Key="shared/reference/a.csv"),
        "read grant: list": outcome(s3.list_objects_v2, Bucket=READ_BUCKET, Prefix="shared/reference/"),
        "read grant: put": outcome(s3.put_object, Bucket=READ_BUCKET, Key="shared/reference/new.csv", Body=b"x"),
        "read grant: delete": outcome(s3.delete_object, Bucket=READ_BUCKET, Key="shared/reference/gone.csv"),
        "read bucket: get outside the prefix": outcome(s3.get_object, Bucket=READ_BUCKET, Key="private/b.csv"),
        "read bucket: list outside the prefix": outcome(s3.list_objects_v2, Bucket=READ_BUCKET, Prefix="private/"),
        "read bucket: list all": outcome(s3.list_objects_v2, Bucket=READ_BUCKET),
        "read-write grant: get": outcome(s3.get_object, Bucket=RW_BUCKET, Key="team/x.csv"),
        "read-write grant: list": outcome(s3.list_objects_v2, Bucket=RW_BUCKET, Prefix="team/"),
        "read-write grant: put": outcome(s3.put_object, Bucket=RW_BUCKET, Key="team/new.csv", Body=b"x"),
        "read-write grant: delete": outcome(s3.delete_object, Bucket=RW_BUCKET, Key="team/gone.csv"),
        "read-write bucket: get outside the prefix": outcome(s3.get_object, Bucket=RW_BUCKET, Key="elsewhere/y.csv"),
        "read-write bucket: put outside the prefix": outcome(
            s3.put_object, Bucket=RW_BUCKET, Key="elsewhere/z.csv", Body=b"x"
        ),  # fmt: skip
        "other bucket: get": outcome(s3.get_object, Bucket=OTHER_BUCKET, Key="team/x.csv"),
        "other bucket: list": outcome(s3.list_objects_v2, Bucket=OTHER_BUCKET, Prefix="team/"),
        "other bucket: put": outcome(s3.put_object, Bucket=OTHER_BUCKET, Key="team/new.csv", Body=b"x"),
        "encrypted grant with its key: get": outcome(s3.get_object, Bucket=KMS_BUCKET, Key="enc/a.csv"),
        "encrypted grant with its key: put": outcome(s3.put_object, Bucket=KMS_BUCKET, Key="enc/new.csv", Body=b"x"),
        "encrypted grant without its key: get": outcome(s3.get_object, Bucket=OTHER_KEY_BUCKET, Key="enc/a.csv"),
        "script: get": outcome(s3.get_object, Bucket=BUCKET, Key=SCRIPT),
        "script: list": outcome(s3.list_objects_v2, Bucket=BUCKET, Prefix="lifecycle-configurations/"),
        "script: put": outcome(s3.put_object, Bucket=BUCKET, Key=SCRIPT, Body=b"import os\n"),
    }


NOTEBOOK_ROLE = {
    "read grant: get": "allow", "read grant: list": "allow", "read grant: put": "deny", "read grant: delete": "deny",
    "read bucket: get outside the prefix": "deny", "read bucket: list outside the prefix": "deny",
    "read bucket: list all": "deny",
    "read-write grant: get": "allow", "read-write grant: list": "allow", "read-write grant: put": "allow",
    "read-write grant: delete": "allow",
    "read-write bucket: get outside the prefix": "deny", "read-write bucket: put outside the prefix": "deny",
    "other bucket: get": "deny", "other bucket: list": "deny", "other bucket: put": "deny",
    "encrypted grant with its key: get": "allow", "encrypted grant with its key: put": "allow",
    # granted without kms_key_arn: S3 lets the request in, KMS refuses to decrypt
    "encrypted grant without its key: get": "deny",
    "script: get": "allow", "script: list": "allow", "script: put": "deny",
}  # fmt: skip


def test_the_role_writes_the_grants_and_a_reordered_list_changes_nothing(stack):
    policies = __import__("ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.policies",
                          fromlist=["policies"])  # fmt: skip
    grants = stack["variables"]["isolated_notebook_data_grants"]
    ordered = sorted(grants, key=lambda g: (g["bucket"], g["prefix"]))
    completed = [dict(g, kms_key_arn=g.get("kms_key_arn", ""), account="") for g in ordered]
    expected = policies.data_access_policy(completed, harness.REGION, harness.ACCOUNT_ID)
    assert any(s["Sid"].startswith("DataKey") for s in expected["Statement"])
    assert policy_document(stack["emulator"], PREFIX + "-data") == expected
    attached = stack["emulator"].client("iam").list_attached_role_policies(RoleName=PREFIX + "-notebook")
    assert PREFIX + "-data" in [p["PolicyName"] for p in attached["AttachedPolicies"]]
    endpoint_policy = json.loads(stack["endpoint"]["PolicyDocument"])
    granted = [s for s in endpoint_policy["Statement"] if s["Sid"].startswith("Data")]
    assert len(granted) == 2 * len(grants) and all(
        s["Condition"]["StringEquals"] == {"aws:PrincipalArn": [ROLE_ARN], "s3:ResourceAccount": harness.ACCOUNT_ID}
        for s in granted
    )
    # the hardened bucket's policy admits the stack's endpoint only; the others have none
    s3 = stack["emulator"].client("s3")
    hardened = json.loads(s3.get_bucket_policy(Bucket=READ_BUCKET)["Policy"])
    [outside] = [s for s in hardened["Statement"] if s["Sid"] == "DenyOutsideVpcEndpoint"]
    assert outside["Condition"]["StringNotEquals"]["aws:SourceVpce"] == [stack["endpoint"]["VpcEndpointId"]]
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=RW_BUCKET)
    reordered = stack["reordered"]
    assert reordered.rc == 0 and reordered.recap["changed"] == 0, reordered.output[-4000:]
    assert reordered.writes() == {}, reordered.writes()


def test_the_notebook_role_through_its_endpoint_reaches_exactly_its_grants(stack, authorized):
    s3 = stack["emulator"].client(
        "s3", credentials=authorized["notebook"], behind_endpoint=stack["endpoint"]["VpcEndpointId"]
    )
    assert cells(s3) == NOTEBOOK_ROLE


def test_the_endpoint_keeps_every_other_principal_in_the_vpc_from_the_data(stack, authorized):
    """A role whose IAM policy allows everything: outside the VPC (no endpoint) it reads and writes the
    data buckets that have no bucket policy, and none of the hardened one (its policy admits the stack's
    endpoint only); through the endpoint none of it: the data statements name the notebook role only.
    The scripts are encrypted with the stack's key, whose policy lets the notebook role alone decrypt them."""
    emulator = stack["emulator"]
    outside = cells(emulator.client("s3", credentials=authorized["other"]))
    data = [k for k in outside if not k.startswith("script")]
    hardened = [k for k in data if k.startswith("read ")]  # READ_BUCKET's cells
    assert len(hardened) == 7
    assert {k: outside[k] for k in data} == {k: "deny" if k in hardened else "allow" for k in data}
    # The script bucket denies what does not come through the stack's endpoint (its bucket policy),
    # its listing as well as its objects.
    assert [outside[k] for k in ("script: get", "script: list", "script: put")] == ["deny"] * 3
    through = cells(emulator.client("s3", credentials=authorized["other"],
                                    behind_endpoint=stack["endpoint"]["VpcEndpointId"]))  # fmt: skip
    # Through the endpoint, anything in the VPC may list the scripts (not read them: the key).
    assert through == {k: "allow" if k == "script: list" else "deny" for k in through}


def test_the_audit_reports_the_data_the_notebook_reaches(stack, authorized):
    emulator, report_dir = stack["emulator"], stack["tmp"].mktemp("grants-audit")
    set_auth(emulator, False)
    try:
        run = play(emulator, report_dir, {"audit_names": ["grants-one"], "audit_report_dir": str(report_dir)},
                   playbook="audit")  # fmt: skip
    finally:
        set_auth(emulator, True)
    assert run.rc == 0, run.output[-5000:]
    [notebook] = json.loads((report_dir / ("isolation-audit-%s.json" % harness.REGION)).read_text())["notebooks"]
    assert notebook["isolated"], notebook["findings"]
    owner = [harness.ACCOUNT_ID]
    assert notebook["data_access"] == [
        {"bucket": KMS_BUCKET, "prefix": "enc/", "access": "read-write", "accounts": owner, "exact": True},
        {"bucket": BUCKET, "prefix": "lifecycle-configurations/", "access": "read", "accounts": [], "exact": True},
        {"bucket": OTHER_KEY_BUCKET, "prefix": "enc/", "access": "read", "accounts": owner, "exact": True},
        {"bucket": READ_BUCKET, "prefix": "shared/reference/", "access": "read", "accounts": owner, "exact": True},
        {"bucket": RW_BUCKET, "prefix": "team/", "access": "read-write", "accounts": owner, "exact": True},
    ]
    markdown = (report_dir / ("isolation-audit-%s.md" % harness.REGION)).read_text()
    assert "| grants-one | %s | `team/` | read-write | %s |" % (RW_BUCKET, harness.ACCOUNT_ID) in markdown


def test_removing_the_grants_deletes_the_data_policy_and_shrinks_the_endpoint_policy(stack, authorized):
    emulator, endpoint_id = stack["emulator"], stack["endpoint"]["VpcEndpointId"]
    set_auth(emulator, False)
    try:
        run = play(
            emulator, stack["tmp"].mktemp("grants-removed"), dict(stack["variables"], isolated_notebook_data_grants=[])
        )
        statements = json.loads(emulator.client("ec2").describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])
                                ["VpcEndpoints"][0]["PolicyDocument"])["Statement"]  # fmt: skip
        attached = emulator.client("iam").list_attached_role_policies(RoleName=PREFIX + "-notebook")["AttachedPolicies"]
        policies = [p["PolicyName"] for p in emulator.client("iam").list_policies(Scope="Local")["Policies"]]
    finally:
        set_auth(emulator, True)
    assert run.rc == 0, run.output[-5000:]
    assert run.count("iam", "DeletePolicy") == 1, run.writes()
    assert PREFIX + "-data" not in policies + [p["PolicyName"] for p in attached]
    assert [s["Sid"] for s in statements] == ["ReadLifecycleScripts", "ListLifecycleScripts"]
    s3 = emulator.client("s3", credentials=authorized["notebook"], behind_endpoint=endpoint_id)
    assert outcome(s3.get_object, Bucket=READ_BUCKET, Key="shared/reference/a.csv") == "deny"
    assert outcome(s3.get_object, Bucket=BUCKET, Key=SCRIPT) == "allow"
