# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test data shared by the audit's unit tests: a compliant stack as the collection builds it
(documents from policies.py, the on-start lines of the role's template) and builders that change
one thing of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import shlex

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.checks import PUBLIC_ACCESS_FLAGS

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
NOTEBOOK_SG = "sg-8d34e28c9def723ed"
LOGS_SG = "sg-0c1f9a7e2b3d4c5f6"
LOGS_ENDPOINT = "vpce-0logs5a6b7c8d9e0f"
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
        "SecurityGroups": [NOTEBOOK_SG],
        "RoleArn": ROLE,
        "DirectInternetAccess": "Disabled",
        "RootAccess": "Disabled",
        "KmsKeyId": "arn:aws:kms:%s:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % (REGION, ACCOUNT),
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


def logs_endpoint(names=("nb-1", "nb-2"), **changes):
    """The CloudWatch Logs interface endpoint the role builds: private DNS, its own group, the policy."""
    found = {"VpcEndpointId": LOGS_ENDPOINT, "VpcEndpointType": "Interface", "VpcId": VPC, "State": "available",
             "ServiceName": "com.amazonaws.%s.logs" % REGION, "PrivateDnsEnabled": True, "SubnetIds": [SUBNET],
             "Groups": [{"GroupId": LOGS_SG, "GroupName": "nb-cloudwatch-logs"}],
             "PolicyDocument": json.dumps(policies.logs_endpoint_policy(list(names), REGION, ACCOUNT))}  # fmt: skip
    found.update(changes)
    return found


def https(**peer):
    return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [], "Ipv6Ranges": [],
            "PrefixListIds": [], "UserIdGroupPairs": [], **peer}  # fmt: skip


def security_groups(notebook_egress=None, logs_ingress=None):
    """DescribeSecurityGroups of the notebook group (HTTPS to the logs group) and the logs group (HTTPS in
    from the notebooks), as ``ResourceCache.security_groups`` returns them."""
    egress = [https(UserIdGroupPairs=[{"GroupId": LOGS_SG}])] if notebook_egress is None else notebook_egress
    ingress = [https(UserIdGroupPairs=[{"GroupId": NOTEBOOK_SG}])] if logs_ingress is None else logs_ingress
    return {"groups": {
        NOTEBOOK_SG: {"GroupId": NOTEBOOK_SG, "VpcId": VPC, "IpPermissions": [], "IpPermissionsEgress": egress},
        LOGS_SG: {"GroupId": LOGS_SG, "VpcId": VPC, "IpPermissions": ingress, "IpPermissionsEgress": []},
    }}  # fmt: skip


def endpoints(s3_policy=None, tables=(TABLE,), sagemaker=True, logs=True):
    policy = policies.s3_endpoint_policy(BUCKET, PREFIX, REGION) if s3_policy is None else s3_policy
    found = [{"VpcEndpointId": ENDPOINT, "VpcEndpointType": "Gateway", "VpcId": VPC, "State": "available",
              "ServiceName": "com.amazonaws.%s.s3" % REGION, "RouteTableIds": list(tables),
              "PolicyDocument": json.dumps(policy)}]  # fmt: skip
    if sagemaker:
        found.append({"VpcEndpointId": "vpce-0sagemaker", "VpcEndpointType": "Interface", "VpcId": VPC,
                      "State": "available", "ServiceName": "com.amazonaws.%s.sagemaker.api" % REGION})  # fmt: skip
    if logs:
        found.append(logs_endpoint() if logs is True else logs)
    return found


def role(**changes):
    data = {
        "arn": ROLE,
        "trust_policy": policies.trust_policy(ACCOUNT),
        "policies": [
            {"policy_arn": S3_POLICY, "document": policies.s3_read_policy(BUCKET, PREFIX, REGION)},
            {"policy_arn": STOP_POLICY, "document": policies.notebook_policy(["nb-1", "nb-2"], REGION, ACCOUNT)},
        ],
    }
    data.update(changes)
    return data


def bucket_data(**changes):
    data = {
        "public_access_block": dict.fromkeys(PUBLIC_ACCESS_FLAGS, True),
        "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "policy": policies.bucket_policy(BUCKET, ENDPOINT, [ADMIN], REGION),
        "errors": [],
    }
    data.update(changes)
    return data


def gathered(notebooks, **changes):
    """``gather()``'s data for ``notebooks`` ({name: DescribeNotebookInstance}) in the stack the
    collection builds (every notebook in SUBNET or SUBNET2 of VPC, the role, lifecycle
    configuration, script and bucket above), then ``changes``: audit.report() over plain data."""
    described = [notebooks[name] for name in sorted(notebooks)]
    data = {
        "notebooks": described,
        "not_found": [],
        "subnets": dict(
            (n["SubnetId"], {"SubnetId": n["SubnetId"], "VpcId": VPC, "CidrBlock": "10.81.1.0/24"})
            for n in described
            if n.get("SubnetId")
        ),
        "route_tables": {VPC: route_tables()},
        "endpoints": {VPC: endpoints()},
        "roles": {ROLE: role()},
        "lifecycle_configs": {"nb-autostop": lifecycle_config(on_start())},
        "scripts": {(BUCKET, KEY): {"sha256": SHA}},
        "buckets": {BUCKET: bucket_data()},
        "security_groups": security_groups(),
    }
    data.update(changes)
    return data
