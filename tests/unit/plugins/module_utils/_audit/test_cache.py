# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the audit's reads: each resource once, calls counted (botocore Stubber: the exact
calls, nothing else), denied reads as data for failed checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json

import boto3
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import audit
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.cache import ResourceCache
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils._audit.audit_data import (
    ACCOUNT,
    BUCKET,
    KEY,
    PREFIX,
    REGION,
    ROLE,
    S3_POLICY,
    SCRIPT,
    STOP_POLICY,
    SUBNET,
    SUBNET2,
    TABLE,
    VPC,
    bucket_data,
    endpoints,
    lifecycle_config,
    logs_endpoint,
    notebook,
    on_start,
    security_groups,
)
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import retrying
from botocore.response import StreamingBody
from botocore.stub import Stubber

# --- the cache: each resource once, calls counted --------------------------------------------------


def _clients():
    raw = dict((s, boto3.client(s, region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s"))
               for s in ("sagemaker", "ec2", "iam", "s3"))  # fmt: skip
    return raw, dict((s, retrying(c)) for s, c in raw.items())


def _api_route_tables():
    return [{"RouteTableId": TABLE, "VpcId": VPC, "Routes": [{"DestinationCidrBlock": "10.0.0.0/16",
             "GatewayId": "local", "State": "active"}],
             "Associations": [{"SubnetId": SUBNET, "RouteTableId": TABLE, "Main": False},
                              {"SubnetId": SUBNET2, "RouteTableId": TABLE, "Main": False}]}]  # fmt: skip


def _stub_network(ec2, names=("nb-1",)):
    """SUBNET and SUBNET2 of VPC on TABLE, with the collection's endpoints: one call each."""
    ec2.add_response("describe_subnets", {"Subnets": [
        {"SubnetId": SUBNET, "VpcId": VPC, "CidrBlock": "10.0.1.0/24"},
        {"SubnetId": SUBNET2, "VpcId": VPC, "CidrBlock": "10.0.2.0/24"}]})  # fmt: skip
    ec2.add_response("describe_route_tables", {"RouteTables": _api_route_tables()})
    ec2.add_response("describe_vpc_endpoints", {"VpcEndpoints": endpoints(logs=logs_endpoint(names))})
    # The VPC has a CloudWatch Logs endpoint: the notebooks' and its security groups, in one call.
    ec2.add_response("describe_security_groups", {"SecurityGroups": list(security_groups()["groups"].values())})


def test_fleet_fetches_each_shared_resource_once():
    """Four notebooks in two subnets sharing one route table, role, lifecycle config and bucket:
    one describe per notebook, one call per shared resource (Stubber fails on any other call)."""
    raw, clients = _clients()
    cache = ResourceCache(clients)  # registers the counter before the stubbers
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
    _stub_network(ec2, names)
    iam.add_response("get_role", {"Role": {"Path": "/", "RoleName": "nb-notebook", "RoleId": "AROAEXAMPLEEXAMPLE1",
                                           "Arn": ROLE, "CreateDate": "2026-01-01T00:00:00Z",
                                           "AssumeRolePolicyDocument": json.dumps(policies.trust_policy(ACCOUNT))}},
                     {"RoleName": "nb-notebook"})  # fmt: skip
    iam.add_response("list_attached_role_policies", {"AttachedPolicies": [
        {"PolicyName": "nb-s3-read", "PolicyArn": S3_POLICY},
        {"PolicyName": "nb-autostop", "PolicyArn": STOP_POLICY}]})  # fmt: skip
    iam.add_response("get_policy", {"Policy": {"Arn": S3_POLICY, "DefaultVersionId": "v1"}})
    iam.add_response("get_policy_version", {"PolicyVersion": {
        "Document": json.dumps(policies.s3_read_policy(BUCKET, PREFIX, REGION)), "VersionId": "v1"}})  # fmt: skip
    iam.add_response("get_policy", {"Policy": {"Arn": STOP_POLICY, "DefaultVersionId": "v1"}})
    iam.add_response("get_policy_version", {"PolicyVersion": {
        "Document": json.dumps(policies.notebook_policy(names, REGION, ACCOUNT)), "VersionId": "v1"}})  # fmt: skip
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
        "ec2": {"DescribeRouteTables": 1, "DescribeSecurityGroups": 1, "DescribeSubnets": 1, "DescribeVpcEndpoints": 1},
        "iam": {"GetPolicy": 2, "GetPolicyVersion": 2, "GetRole": 1, "ListAttachedRolePolicies": 1,
                "ListRolePolicies": 1},
        "s3": {"GetBucketEncryption": 1, "GetBucketPolicy": 1, "GetObject": 1, "GetPublicAccessBlock": 1},
        "sagemaker": {"DescribeNotebookInstance": 4, "DescribeNotebookInstanceLifecycleConfig": 1,
                      "ListNotebookInstances": 2},
    }  # fmt: skip
    assert result["aws_calls"] == {"ec2": 4, "iam": 7, "s3": 4, "sagemaker": 7}
    assert result["summary"] == {"notebooks": 4, "isolated": 4, "not_isolated": 0}
    assert result["highest_severity"] == "none"


def test_named_notebooks_missing_ones_are_reported():
    raw, clients = _clients()
    cache = ResourceCache(clients)
    stub = Stubber(raw["sagemaker"])
    stub.add_client_error("describe_notebook_instance", "ValidationException", "RecordNotFound")
    stub.activate()
    result = audit.audit(cache, audit.validate({"names": ["gone"]}), REGION)
    assert result["not_found"] == ["gone"] and result["notebooks"] == []
    assert result["aws_calls"] == {"sagemaker": 1}


def test_cache_reads_a_shared_managed_policy_and_bucket_once():
    """Two roles attached to one managed policy: the policy is read once; a bucket asked for twice
    is read once (Stubber fails on any call beyond these)."""
    raw, clients = _clients()
    cache = ResourceCache(clients)
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
    cache = ResourceCache(clients)
    stubs = dict((s, Stubber(c)) for s, c in raw.items())
    iam, sm = stubs["iam"], stubs["sagemaker"]
    iam.add_client_error("get_role", "AccessDenied", "not allowed")
    sm.add_client_error("describe_notebook_instance_lifecycle_config", "AccessDeniedException", "not allowed")
    sm.add_response("describe_notebook_instance", notebook(), {"NotebookInstanceName": "nb-1"})
    _stub_network(stubs["ec2"])
    for stub in stubs.values():
        stub.activate()
    assert cache.role(ROLE) == {"arn": ROLE, "error": "AccessDenied", "operation": "GetRole"}
    assert cache.lifecycle_config("nb-autostop") == {
        "error": "AccessDeniedException", "operation": "DescribeNotebookInstanceLifecycleConfig"}  # fmt: skip

    # The audit reads the notebook and its network; not the role or the lifecycle configuration
    # again, and no script or bucket (Stubber fails on any other call).
    result = audit.audit(cache, audit.validate({"names": ["nb-1"]}), REGION)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    findings = result["notebooks"][0]["findings"]
    assert [(f["id"], f["severity"], f["evidence"]["check"], f["evidence"]["error"]) for f in findings] == [
        ("check-failed", "high", "role", "AccessDenied"),
        ("check-failed", "medium", "lifecycle-config", "AccessDeniedException"),
    ]
    assert result["notebooks"][0]["isolated"] is False
