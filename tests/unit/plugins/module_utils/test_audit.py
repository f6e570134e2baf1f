# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the isolation audit: the pure checks (compliant documents are the ones the
collection writes, from policies.py) and the fetch-once cache with its call counts (botocore
Stubber: the exact calls, nothing else)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import hashlib
import io
import json
import shlex

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import audit, policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import RETRY, NotebooksError
from botocore.response import StreamingBody
from botocore.stub import Stubber

REGION = "us-east-1"
ACCOUNT = "123456789012"
VPC = "vpc-06eaf145df9e8b998"
SUBNET = "subnet-2d6a31208040cc96f"
SUBNET2 = "subnet-99103f67fbf644019"
TABLE = "rtb-5e3affca3553f9b4c"
MAIN = "rtb-0000000000000main0"
ENDPOINT = "vpce-444494563784a0f1a"
BUCKET = "audit-scripts"
PREFIX = "lifecycle-configurations/"
KEY = PREFIX + "autostop.py"
SCRIPT = b"print('autostop')\n"
SHA = hashlib.sha256(SCRIPT).hexdigest()
ROLE = "arn:aws:iam::%s:role/nb-notebook" % ACCOUNT
S3_POLICY = "arn:aws:iam::%s:policy/nb-s3-read" % ACCOUNT
STOP_POLICY = "arn:aws:iam::%s:policy/nb-autostop" % ACCOUNT
ADMIN = "arn:aws:iam::%s:user/admin" % ACCOUNT
ALLOW_ALL = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}


def ids(findings):
    return sorted(f["id"] for f in findings)


def on_start(bucket=BUCKET, key=KEY, sha=SHA, quote=shlex.quote):
    """The lines of roles/isolated_notebook/templates/on-start.sh.j2 the audit reads."""
    return "\n".join([
        "#!/bin/bash", "set -euo pipefail", "BUCKET=%s" % quote(bucket), "KEY=%s" % quote(key),
        "SHA256=%s" % quote(sha), 'timeout 120 aws s3 cp "s3://$BUCKET/$KEY" "$download"',
        'SCRIPT=$INSTALL_DIR/autostop.py', 'systemctl enable "$UNIT.timer"',
    ])  # fmt: skip


def lifecycle_config(text, name="nb-autostop"):
    hooks = [{"Content": base64.b64encode(text.encode()).decode()}] if text is not None else []
    return {"NotebookInstanceLifecycleConfigName": name, "OnStart": hooks}


def notebook(name="nb-1", **changes):
    result = {
        "NotebookInstanceName": name,
        "NotebookInstanceArn": "arn:aws:sagemaker:%s:%s:notebook-instance/%s" % (REGION, ACCOUNT, name),
        "NotebookInstanceStatus": "InService",
        "SubnetId": SUBNET,
        "SecurityGroups": ["sg-8d34e28c9def723ed"],
        "RoleArn": ROLE,
        "DirectInternetAccess": "Disabled",
        "RootAccess": "Disabled",
        "NotebookInstanceLifecycleConfigName": "nb-autostop",
        "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"},
    }
    result.update(changes)
    return {k: v for k, v in result.items() if v is not None}


def route_tables(extra_routes=()):
    """The VPC's tables in amazon.aws's snake_case shape: an explicit one for SUBNET, the main one."""
    local = {"destination_cidr_block": "10.81.0.0/16", "gateway_id": "local", "state": "active"}
    return [
        {"route_table_id": TABLE, "vpc_id": VPC, "routes": [local] + list(extra_routes),
         "associations": [{"subnet_id": SUBNET, "route_table_id": TABLE, "main": False}]},
        {"route_table_id": MAIN, "vpc_id": VPC, "routes": [local], "associations": [{"main": True}]},
    ]  # fmt: skip


def endpoints(s3_policy=None, tables=(TABLE,), sagemaker=True):
    policy = policies.s3_endpoint_policy(BUCKET, PREFIX, REGION) if s3_policy is None else s3_policy
    found = [{"VpcEndpointId": ENDPOINT, "VpcEndpointType": "Gateway", "VpcId": VPC, "State": "available",
              "ServiceName": "com.amazonaws.%s.s3" % REGION, "RouteTableIds": list(tables),
              "PolicyDocument": json.dumps(policy)}]  # fmt: skip
    if sagemaker:
        found.append({"VpcEndpointId": "vpce-0sagemaker", "VpcEndpointType": "Interface", "VpcId": VPC,
                      "State": "available", "ServiceName": "com.amazonaws.%s.sagemaker.api" % REGION})  # fmt: skip
    return found


def role(**changes):
    data = {
        "arn": ROLE,
        "trust_policy": policies.trust_policy(ACCOUNT),
        "policies": [
            {"policy_arn": S3_POLICY, "document": policies.s3_read_policy(BUCKET, PREFIX, REGION)},
            {"policy_arn": STOP_POLICY, "document": policies.autostop_policy(["nb-1", "nb-2"], REGION, ACCOUNT)},
        ],
    }
    data.update(changes)
    return data


def bucket_data(**changes):
    data = {
        "public_access_block": dict.fromkeys(audit.PUBLIC_ACCESS_FLAGS, True),
        "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "policy": policies.bucket_policy(BUCKET, ENDPOINT, [ADMIN], REGION),
        "errors": [],
    }
    data.update(changes)
    return data


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, field",
    [
        ({"names": []}, "names"),
        ({"names": ["ok", "bad_name"]}, "names[1]"),
        ({"names": ["-x"]}, "names[0]"),
        ({"names": ["a" * 64]}, "names[0]"),
        ({"fail_on": "critical"}, "fail_on"),
    ],
)
def test_validate_names_the_field(params, field):
    with pytest.raises(NotebooksError) as raised:
        audit.validate(params)
    assert raised.value.msg.startswith(field + ":")


def test_validate_defaults_and_deduplicates():
    assert audit.validate({}) == {"names": None, "fail_on": "never", "allow_root_access": False}
    assert audit.validate({"names": ["b", "a", "b"], "fail_on": "high"})["names"] == ["b", "a"]


# --- notebook settings -----------------------------------------------------------------------------


def test_compliant_notebook_has_no_finding():
    assert audit.check_notebook(notebook()) == []


@pytest.mark.parametrize(
    "changes, expected, evidence",
    [
        ({"DirectInternetAccess": "Enabled"}, ["direct-internet-access"], {"direct_internet_access": "Enabled"}),
        ({"RootAccess": "Enabled"}, ["root-access-enabled"], {"root_access": "Enabled"}),
        ({"InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "1"}},
         ["imdsv1-allowed"], {"minimum_instance_metadata_service_version": "1"}),
        ({"InstanceMetadataServiceConfiguration": None}, ["imdsv1-allowed"],
         {"minimum_instance_metadata_service_version": None}),
        ({"NotebookInstanceLifecycleConfigName": None}, ["lifecycle-config-missing"], {"lifecycle_config_name": None}),
    ],
)  # fmt: skip
def test_notebook_settings(changes, expected, evidence):
    found = audit.check_notebook(notebook(**changes))
    assert ids(found) == expected
    assert found[0]["evidence"] == evidence
    assert found[0]["remediation"] and found[0]["severity"] in audit.SEVERITIES


def test_no_subnet_comes_with_direct_internet_access():
    found = audit.check_notebook(notebook(SubnetId=None, SecurityGroups=None, DirectInternetAccess="Enabled"))
    assert ids(found) == ["direct-internet-access", "no-subnet"]
    assert all(f["severity"] == "high" for f in found)


def test_root_access_allowed_by_the_run():
    assert audit.check_notebook(notebook(RootAccess="Enabled"), allow_root_access=True) == []


# --- network ---------------------------------------------------------------------------------------


def test_compliant_network_has_no_finding():
    assert audit.check_network(SUBNET, {"VpcId": VPC}, route_tables(), endpoints(), REGION) == []


@pytest.mark.parametrize(
    "route, kind",
    [
        ({"destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1", "state": "active"}, "internet gateway"),
        ({"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "state": "active"}, "NAT gateway"),
        ({"destination_ipv6_cidr_block": "::/0", "egress_only_internet_gateway_id": "eigw-1"},
         "egress-only internet gateway"),
        ({"destination_cidr_block": "0.0.0.0/0", "vpc_peering_connection_id": "pcx-1"}, "VPC peering connection"),
        ({"destination_cidr_block": "0.0.0.0/0", "transit_gateway_id": "tgw-1"}, "transit gateway"),
        ({"destination_cidr_block": "0.0.0.0/0", "instance_id": "i-1"}, "instance"),
    ],
)  # fmt: skip
def test_egress_route_evidence(route, kind):
    found = audit.check_network(SUBNET, {"VpcId": VPC}, route_tables([route]), endpoints(), REGION)
    assert ids(found) == ["subnet-egress-route"]
    evidence = found[0]["evidence"]
    target = [v for k, v in route.items() if k.endswith("_id")][0]
    destination = route.get("destination_cidr_block") or route.get("destination_ipv6_cidr_block")
    assert evidence == {"subnet_id": SUBNET, "route_table_id": TABLE, "destination": destination,
                        "target": target, "kind": kind}  # fmt: skip
    assert found[0]["severity"] == "high" and found[0]["resource"] == TABLE


def test_blackhole_and_specific_routes_are_not_egress():
    routes = [{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "state": "blackhole"},
              {"destination_cidr_block": "10.99.0.0/16", "vpc_peering_connection_id": "pcx-1"}]  # fmt: skip
    assert audit.check_network(SUBNET, {"VpcId": VPC}, route_tables(routes), endpoints(), REGION) == []


def test_subnet_without_association_uses_the_main_table():
    found = audit.check_network(SUBNET2, {"VpcId": VPC}, route_tables(), endpoints(), REGION)
    assert ids(found) == ["s3-endpoint-missing"]
    assert found[0]["evidence"] == {
        "subnet_id": SUBNET2, "vpc_id": VPC, "route_table_id": MAIN,
        "s3_gateway_endpoints": [{"vpc_endpoint_id": ENDPOINT, "route_table_ids": [TABLE]}],
    }  # fmt: skip


def test_missing_subnet_and_route_table_are_failed_checks():
    found = audit.check_network(SUBNET, None, [], [], REGION)
    assert ids(found) == ["check-failed"] and found[0]["severity"] == "high"
    found = audit.check_network(SUBNET, {"VpcId": VPC}, [], endpoints(), REGION)
    assert ids(found) == ["check-failed"] and found[0]["evidence"]["check"] == "route-table"


def test_no_sagemaker_api_endpoint():
    found = audit.check_network(SUBNET, {"VpcId": VPC}, route_tables(), endpoints(sagemaker=False), REGION)
    assert ids(found) == ["sagemaker-api-endpoint-missing"]
    assert found[0]["evidence"] == {"vpc_id": VPC, "service_name": "com.amazonaws.us-east-1.sagemaker.api"}


def test_deleted_endpoints_do_not_count():
    gone = endpoints()
    for endpoint in gone:
        endpoint["State"] = "deleted"
    assert ids(audit.check_network(SUBNET, {"VpcId": VPC}, route_tables(), gone, REGION)) == [
        "s3-endpoint-missing", "sagemaker-api-endpoint-missing"]  # fmt: skip


@pytest.mark.parametrize(
    "statement, expected",
    [
        (ALLOW_ALL["Statement"][0], "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
         "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"},
         "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
         "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "b/*"},
         "s3-endpoint-policy-write"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:*Object", "Resource": "arn:aws:s3:::b/*"},
         "s3-endpoint-policy-write"),
    ],
)  # fmt: skip
def test_endpoint_policy_statements(statement, expected):
    document = {"Version": "2012-10-17", "Statement": [statement]}
    found = audit.check_network(SUBNET, {"VpcId": VPC}, route_tables(), endpoints(document), REGION)
    assert ids(found) == [expected]
    assert found[0]["evidence"]["statement"] == statement
    assert found[0]["evidence"]["vpc_endpoint_id"] == ENDPOINT and found[0]["severity"] == "high"


def test_endpoint_policy_read_only_and_deny_statements_pass():
    document = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:Get*", "s3:ListBucket"], "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}  # fmt: skip
    assert audit.check_s3_endpoint_policy(document, ENDPOINT, TABLE) == []
    assert audit.check_s3_endpoint_policy(policies.s3_endpoint_policy(BUCKET, PREFIX, REGION), ENDPOINT, TABLE) == []


def test_write_evidence_names_the_actions():
    statement = {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "x"}
    [found] = audit.check_s3_endpoint_policy({"Statement": statement}, ENDPOINT, TABLE)
    assert found["evidence"]["write_actions"] == ["s3:PutObject"]


# --- role ------------------------------------------------------------------------------------------


def test_the_collections_role_is_compliant():
    assert audit.check_role(role()) == []


@pytest.mark.parametrize(
    "statement, expected",
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, ["role-s3-full-access"]),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, ["role-wildcard-action", "role-passrole-any",
                                                               "role-wildcard-resource"]),
        ({"Effect": "Allow", "Action": "ec2:*", "Resource": "arn:aws:ec2:*:1:instance/i-1"}, ["role-wildcard-action"]),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
         ["role-passrole-any", "role-wildcard-resource"]),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/x"}, []),
        ({"Effect": "Allow", "Action": "sagemaker:ListNotebookInstances", "Resource": "*"}, ["role-wildcard-resource"]),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, []),
    ],
)  # fmt: skip
def test_role_statements(statement, expected):
    extra = {"inline_policy": "extra", "document": {"Version": "2012-10-17", "Statement": [statement]}}
    found = audit.check_role(role(policies=role()["policies"] + [extra]))
    assert sorted(ids(found)) == sorted(expected)
    for item in found:
        assert item["evidence"] == {"inline_policy": "extra", "role": ROLE, "statement": statement}


def test_trust_policy_without_source_account():
    trust = policies.trust_policy(ACCOUNT)
    del trust["Statement"][0]["Condition"]
    [found] = audit.check_role(role(trust_policy=trust))
    assert found["id"] == "role-trust-no-source-account" and found["severity"] == "medium"
    assert found["evidence"] == {"role": ROLE, "statement": trust["Statement"][0]}


def test_documents_in_iam_wire_form_are_parsed():
    text = json.dumps(policies.trust_policy(ACCOUNT))
    assert audit.parse_document(text) == policies.trust_policy(ACCOUNT)
    assert audit.parse_document("%7B%22Statement%22%3A%20%5B%5D%7D") == {"Statement": []}


# --- lifecycle script ------------------------------------------------------------------------------


@pytest.mark.parametrize("quote", [shlex.quote, lambda v: "'%s'" % v])
def test_on_start_pins_bare_or_quoted_values(quote):
    parsed = audit.parse_on_start(on_start(quote=quote))
    assert parsed == {"installs_autostop": True, "bucket": BUCKET, "key": KEY, "sha256": SHA}


def test_the_roles_template_is_recognised():
    """The real template's pinned lines, rendered the way Ansible's quote filter renders them."""
    import os

    path = os.path.join(os.path.dirname(audit.__file__), "..", "..", "roles", "isolated_notebook", "templates",
                        "on-start.sh.j2")  # fmt: skip
    with open(path) as handle:
        template = handle.read()
    assert "BUCKET={{ autostop_bucket | quote }}" in template
    assert "SHA256={{ autostop_sha256 | lower | quote }}" in template
    rendered = template.replace("{{ autostop_bucket | quote }}", shlex.quote("my bucket")).replace(
        "{{ autostop_sha256 | lower | quote }}", SHA
    )
    rendered = rendered.replace("{{ autostop_key | default('lifecycle-configurations/autostop.py', true) | quote }}",
                                KEY)  # fmt: skip
    assert audit.parse_on_start(rendered) == {"installs_autostop": True, "bucket": "my bucket", "key": KEY,
                                              "sha256": SHA}  # fmt: skip


def test_compliant_lifecycle():
    assert audit.check_lifecycle("nb-autostop", lifecycle_config(on_start()), {"sha256": SHA}) == []


def test_tampered_script():
    [found] = audit.check_lifecycle("nb-autostop", lifecycle_config(on_start()), {"sha256": "0" * 64})
    assert found["id"] == "autostop-sha256-mismatch" and found["severity"] == "high"
    assert found["evidence"] == {"lifecycle_config_name": "nb-autostop", "bucket": BUCKET, "key": KEY,
                                 "expected_sha256": SHA, "actual_sha256": "0" * 64}  # fmt: skip
    assert found["resource"] == "s3://%s/%s" % (BUCKET, KEY)


@pytest.mark.parametrize(
    "config, expected",
    [
        (None, "lifecycle-config-missing"),
        (lifecycle_config(None), "autostop-not-installed"),
        (lifecycle_config("#!/bin/bash\necho hello\n"), "autostop-not-installed"),
        (lifecycle_config("wget https://example.com/autostop.py\n(crontab -l; echo '*/5 * * * * python autostop.py')"
                          " | crontab -\n"), "autostop-not-pinned"),
        (lifecycle_config(on_start(sha="not-a-digest")), "autostop-not-pinned"),
    ],
)  # fmt: skip
def test_lifecycle_problems(config, expected):
    assert ids(audit.check_lifecycle("nb-autostop", config, None)) == [expected]


def test_unreadable_script_is_a_failed_check():
    [found] = audit.check_lifecycle("nb-autostop", lifecycle_config(on_start()),
                                    {"operation": "GetObject", "error": "AccessDenied"})  # fmt: skip
    assert found["id"] == "check-failed" and found["severity"] == "medium"
    assert found["evidence"]["error"] == "AccessDenied"


# --- bucket ----------------------------------------------------------------------------------------


def test_the_collections_bucket_is_compliant():
    assert audit.check_bucket(BUCKET, bucket_data()) == []


def test_bare_bucket():
    found = audit.check_bucket(BUCKET, bucket_data(public_access_block=None, encryption=None, policy=None))
    assert ids(found) == ["bucket-not-encrypted", "bucket-policy-no-endpoint-deny", "bucket-policy-no-tls-deny",
                          "bucket-public-access-not-blocked"]  # fmt: skip
    blocked = [f for f in found if f["id"] == "bucket-public-access-not-blocked"][0]
    assert blocked["evidence"]["not_set"] == list(audit.PUBLIC_ACCESS_FLAGS)


def test_public_bucket_policy_and_partial_block():
    policy = policies.bucket_policy(BUCKET, ENDPOINT, [ADMIN], REGION)
    public = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    policy["Statement"].append(public)
    block = dict(dict.fromkeys(audit.PUBLIC_ACCESS_FLAGS, True), RestrictPublicBuckets=False)
    found = audit.check_bucket(BUCKET, bucket_data(policy=policy, public_access_block=block))
    assert ids(found) == ["bucket-policy-public", "bucket-public-access-not-blocked"]
    by_id = dict((f["id"], f) for f in found)
    assert by_id["bucket-policy-public"]["evidence"] == {"bucket": BUCKET, "statement": public}
    assert by_id["bucket-public-access-not-blocked"]["evidence"]["not_set"] == ["RestrictPublicBuckets"]


@pytest.mark.parametrize(
    "sid, expected",
    [
        ("DenyInsecureTransport", "bucket-policy-no-tls-deny"),
        ("DenyOutsideVpcEndpoint", "bucket-policy-no-endpoint-deny"),
    ],
)
def test_bucket_policy_missing_one_deny(sid, expected):
    policy = policies.bucket_policy(BUCKET, ENDPOINT, [ADMIN], REGION)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != sid]
    assert ids(audit.check_bucket(BUCKET, bucket_data(policy=policy))) == [expected]


def test_unreadable_bucket_setting_is_a_failed_check_not_a_guess():
    data = bucket_data(policy=None, errors=[{"operation": "GetBucketPolicy", "error": "AccessDenied"}])
    assert ids(audit.check_bucket(BUCKET, data)) == ["check-failed"]


# --- the cache: each resource once, calls counted --------------------------------------------------


def _clients():
    raw = dict((s, boto3.client(s, region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s"))
               for s in ("sagemaker", "ec2", "iam", "s3"))  # fmt: skip
    return raw, dict((s, RetryingBotoClientWrapper(c, RETRY)) for s, c in raw.items())


def _api_route_tables():
    return [{"RouteTableId": TABLE, "VpcId": VPC, "Routes": [{"DestinationCidrBlock": "10.0.0.0/16",
             "GatewayId": "local", "State": "active"}],
             "Associations": [{"SubnetId": SUBNET, "RouteTableId": TABLE, "Main": False},
                              {"SubnetId": SUBNET2, "RouteTableId": TABLE, "Main": False}]}]  # fmt: skip


def test_fleet_fetches_each_shared_resource_once():
    """Four notebooks in two subnets sharing one route table, role, lifecycle config and bucket:
    one describe per notebook, one call per shared resource (Stubber fails on any other call)."""
    raw, clients = _clients()
    cache = audit.ResourceCache(clients)  # registers the counter before the stubbers
    stubs = dict((s, Stubber(c)) for s, c in raw.items())
    sm, ec2, iam, s3 = stubs["sagemaker"], stubs["ec2"], stubs["iam"], stubs["s3"]
    names = ["nb-%d" % i for i in range(4)]
    sm.add_response("list_notebook_instances", {"NotebookInstances": [
        {"NotebookInstanceName": n, "NotebookInstanceArn": "arn:x/" + n} for n in names[:2]], "NextToken": "2"},
        {"MaxResults": 100})  # fmt: skip
    sm.add_response("list_notebook_instances", {"NotebookInstances": [
        {"NotebookInstanceName": n, "NotebookInstanceArn": "arn:x/" + n} for n in names[2:]]},
        {"MaxResults": 100, "NextToken": "2"})  # fmt: skip
    for index, name in enumerate(names):
        described = notebook(name, SubnetId=SUBNET if index % 2 else SUBNET2)
        sm.add_response("describe_notebook_instance", described, {"NotebookInstanceName": name})
    ec2.add_response("describe_subnets", {"Subnets": [{"SubnetId": SUBNET, "VpcId": VPC},
                                                      {"SubnetId": SUBNET2, "VpcId": VPC}]})  # fmt: skip
    ec2.add_response("describe_route_tables", {"RouteTables": _api_route_tables()})
    ec2.add_response("describe_vpc_endpoints", {"VpcEndpoints": endpoints()})
    iam.add_response("get_role", {"Role": {"Path": "/", "RoleName": "nb-notebook", "RoleId": "AROAEXAMPLEEXAMPLE1",
                                           "Arn": ROLE, "CreateDate": "2026-01-01T00:00:00Z",
                                           "AssumeRolePolicyDocument": json.dumps(policies.trust_policy(ACCOUNT))}},
                     {"RoleName": "nb-notebook"})  # fmt: skip
    iam.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyName": "nb-s3-read",
                                                                           "PolicyArn": S3_POLICY}]})  # fmt: skip
    iam.add_response("get_policy", {"Policy": {"Arn": S3_POLICY, "DefaultVersionId": "v1"}})
    iam.add_response("get_policy_version", {"PolicyVersion": {
        "Document": json.dumps(policies.s3_read_policy(BUCKET, PREFIX, REGION)), "VersionId": "v1"}})  # fmt: skip
    iam.add_response("list_role_policies", {"PolicyNames": []})
    sm.add_response("describe_notebook_instance_lifecycle_config", lifecycle_config(on_start()))
    s3.add_response("get_object", {"Body": StreamingBody(io.BytesIO(SCRIPT), len(SCRIPT))},
                    {"Bucket": BUCKET, "Key": KEY})  # fmt: skip
    s3.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": bucket_data()["public_access_block"]})
    s3.add_response("get_bucket_encryption", {"ServerSideEncryptionConfiguration": bucket_data()["encryption"]})
    s3.add_response("get_bucket_policy", {"Policy": json.dumps(bucket_data()["policy"])})
    for stub in stubs.values():
        stub.activate()

    result = audit.audit(cache, audit.validate({}), REGION)

    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert [n["name"] for n in result["notebooks"]] == names
    assert all(n["isolated"] and n["findings"] == [] for n in result["notebooks"])
    assert result["aws_calls_by_operation"] == {
        "ec2": {"DescribeRouteTables": 1, "DescribeSubnets": 1, "DescribeVpcEndpoints": 1},
        "iam": {"GetPolicy": 1, "GetPolicyVersion": 1, "GetRole": 1, "ListAttachedRolePolicies": 1,
                "ListRolePolicies": 1},
        "s3": {"GetBucketEncryption": 1, "GetBucketPolicy": 1, "GetObject": 1, "GetPublicAccessBlock": 1},
        "sagemaker": {"DescribeNotebookInstance": 4, "DescribeNotebookInstanceLifecycleConfig": 1,
                      "ListNotebookInstances": 2},
    }  # fmt: skip
    assert result["aws_calls"] == {"ec2": 3, "iam": 5, "s3": 4, "sagemaker": 7}
    assert result["summary"] == {"notebooks": 4, "isolated": 4, "not_isolated": 0}
    assert result["highest_severity"] == "none"


def test_named_notebooks_missing_ones_are_reported():
    raw, clients = _clients()
    cache = audit.ResourceCache(clients)
    stub = Stubber(raw["sagemaker"])
    stub.add_client_error("describe_notebook_instance", "ValidationException", "RecordNotFound")
    stub.activate()
    result = audit.audit(cache, audit.validate({"names": ["gone"]}), REGION)
    assert result["not_found"] == ["gone"] and result["notebooks"] == []
    assert result["aws_calls"] == {"sagemaker": 1}


# --- result, severity threshold --------------------------------------------------------------------


class _Cache:
    """A cache whose data is given: audit() over fixed API data."""

    calls = {}

    def __init__(self, notebooks):
        self._notebooks = notebooks

    def totals(self):
        return {}

    def notebook_names(self):
        return sorted(self._notebooks)

    def notebook(self, name):
        return self._notebooks.get(name)

    def subnets(self, ids_):
        return dict((i, {"SubnetId": i, "VpcId": VPC}) for i in ids_)

    def route_tables(self, vpcs):
        return {VPC: route_tables()}

    def endpoints(self, vpcs):
        return {VPC: endpoints()}

    def role(self, arn):
        return role()

    def lifecycle_config(self, name):
        return lifecycle_config(on_start())

    def script(self, bucket, key):
        return {"sha256": SHA}

    def bucket(self, name):
        return bucket_data()


@pytest.mark.parametrize(
    "changes, fail_on, reaches",
    [
        ({}, "low", False),
        ({"RootAccess": "Enabled"}, "high", False),
        ({"RootAccess": "Enabled"}, "medium", True),
        ({"RootAccess": "Enabled"}, "low", True),
        ({"DirectInternetAccess": "Enabled"}, "high", True),
        ({"DirectInternetAccess": "Enabled"}, "never", False),
    ],
)
def test_fail_on(changes, fail_on, reaches):
    result = audit.audit(_Cache({"nb-1": notebook(**changes), "nb-2": notebook("nb-2")}), audit.validate({}), REGION)
    assert audit.reaches(result, fail_on) is reaches
    if reaches:
        assert audit.failure_message(result, fail_on).startswith("1 of 2 notebooks have findings of severity")


def test_result_counts_and_isolation():
    fleet = {"nb-1": notebook(), "nb-2": notebook("nb-2", DirectInternetAccess="Enabled", RootAccess="Enabled")}
    result = audit.audit(_Cache(fleet), audit.validate({}), REGION)
    assert [(n["name"], n["isolated"], n["counts"]) for n in result["notebooks"]] == [
        ("nb-1", True, {"high": 0, "medium": 0, "low": 0, "total": 0}),
        ("nb-2", False, {"high": 1, "medium": 1, "low": 0, "total": 2}),
    ]
    assert result["counts"] == {"high": 1, "medium": 1, "low": 0, "total": 2}
    assert result["summary"] == {"notebooks": 2, "isolated": 1, "not_isolated": 1}
    assert result["highest_severity"] == "high" and result["changed"] is False
    # The most severe first, so the report reads top-down.
    assert [f["id"] for f in result["notebooks"][1]["findings"]] == ["direct-internet-access", "root-access-enabled"]


def test_shared_findings_are_copies():
    fleet = {"nb-1": notebook(), "nb-2": notebook("nb-2")}
    cache = _Cache(fleet)
    cache.bucket = lambda name: bucket_data(encryption=None)
    result = audit.audit(cache, audit.validate({}), REGION)
    first, second = (n["findings"] for n in result["notebooks"])
    assert ids(first) == ids(second) == ["bucket-not-encrypted"]
    assert first[0] is not second[0]
    first[0]["evidence"]["bucket"] = "changed"
    assert second[0]["evidence"]["bucket"] == BUCKET


def test_every_finding_id_is_documented_in_the_module():
    import os

    path = os.path.join(os.path.dirname(audit.__file__), "..", "modules", "isolation_audit.py")
    with open(path) as handle:
        text = handle.read()
    for finding_id in audit.FINDINGS:
        assert "C(%s)" % finding_id in text, finding_id
    assert copy.deepcopy(audit.FINDINGS) == audit.FINDINGS


def test_cache_reads_a_shared_managed_policy_and_bucket_once():
    """Two roles attached to one managed policy: the policy is read once; a bucket asked for twice
    is read once (Stubber fails on any call beyond these)."""
    raw, clients = _clients()
    cache = audit.ResourceCache(clients)
    iam, s3 = Stubber(raw["iam"]), Stubber(raw["s3"])
    trust = json.dumps(policies.trust_policy(ACCOUNT))
    for index, name in enumerate(("role-a", "role-b")):
        described = {"Path": "/", "RoleName": name, "RoleId": "AROAEXAMPLEEXAMPLE%d" % index,
                     "Arn": "arn:aws:iam::%s:role/%s" % (ACCOUNT, name), "CreateDate": "2026-01-01T00:00:00Z",
                     "AssumeRolePolicyDocument": trust}  # fmt: skip
        iam.add_response("get_role", {"Role": described}, {"RoleName": name})
        iam.add_response("list_attached_role_policies",
                         {"AttachedPolicies": [{"PolicyName": "nb-s3-read", "PolicyArn": S3_POLICY}]})  # fmt: skip
        if index == 0:
            iam.add_response("get_policy", {"Policy": {"Arn": S3_POLICY, "DefaultVersionId": "v3"}})
            iam.add_response("get_policy_version", {"PolicyVersion": {"Document": json.dumps({"Statement": []})}},
                             {"PolicyArn": S3_POLICY, "VersionId": "v3"})  # fmt: skip
        iam.add_response("list_role_policies", {"PolicyNames": []})
    s3.add_client_error("get_public_access_block", "NoSuchPublicAccessBlockConfiguration")
    s3.add_client_error("get_bucket_encryption", "AccessDenied")
    s3.add_client_error("get_bucket_policy", "NoSuchBucketPolicy")
    iam.activate()
    s3.activate()
    for name in ("role-a", "role-b", "role-a"):
        data = cache.role("arn:aws:iam::%s:role/%s" % (ACCOUNT, name))
        assert data["policies"] == [{"policy_arn": S3_POLICY, "document": {"Statement": []}}]
    assert cache.bucket(BUCKET) is cache.bucket(BUCKET)
    denied = [{"operation": "GetBucketEncryption", "error": "AccessDenied"}]
    assert cache.bucket(BUCKET) == {"public_access_block": None, "encryption": None, "policy": None, "errors": denied}
    iam.assert_no_pending_responses()
    s3.assert_no_pending_responses()
    assert cache.totals() == {"iam": 8, "s3": 3}


def test_denied_reads_become_failed_checks_not_a_failed_audit():
    """The auditor may not read a role or a lifecycle configuration: the notebook gets check-failed
    (high for the role: isolation is unproven) and the audit goes on."""
    raw, clients = _clients()
    cache = audit.ResourceCache(clients)
    iam, sm = Stubber(raw["iam"]), Stubber(raw["sagemaker"])
    iam.add_client_error("get_role", "AccessDenied", "not allowed")
    sm.add_client_error("describe_notebook_instance_lifecycle_config", "AccessDeniedException", "not allowed")
    iam.activate()
    sm.activate()
    assert cache.role(ROLE) == {"arn": ROLE, "error": "AccessDenied", "operation": "GetRole"}
    assert cache.lifecycle_config("nb-autostop") == {
        "error": "AccessDeniedException", "operation": "DescribeNotebookInstanceLifecycleConfig"}  # fmt: skip

    class Denied(_Cache):
        role = staticmethod(cache.role)
        lifecycle_config = staticmethod(cache.lifecycle_config)

    result = audit.audit(Denied({"nb-1": notebook()}), audit.validate({}), REGION)
    findings = result["notebooks"][0]["findings"]
    assert [(f["id"], f["severity"], f["evidence"]["check"], f["evidence"]["error"]) for f in findings] == [
        ("check-failed", "high", "role", "AccessDenied"),
        ("check-failed", "medium", "lifecycle-config", "AccessDeniedException"),
    ]
    assert result["notebooks"][0]["isolated"] is False
