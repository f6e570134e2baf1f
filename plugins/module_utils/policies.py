# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every policy document the collection writes, built in one place.

Each builder scopes its grants to named resources (a bucket and prefix, named notebooks in one
account and region); nothing here grants ``*`` actions or resources, and every document is
deterministic so a re-run compares equal and changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.arn import bucket_arn, partition_of

VERSION = "2012-10-17"


def _script_statements(bucket, prefix, partition):
    bucket = bucket_arn(bucket, partition)
    return [
        {
            "Sid": "ReadLifecycleScripts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "%s/%s*" % (bucket, prefix),
        },
        {
            "Sid": "ListLifecycleScripts",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": ["%s*" % prefix]}},
        },
    ]


def s3_read_policy(bucket, prefix, region="us-east-1", kms_key_arn=None):
    """Notebook role: read the lifecycle scripts under one prefix of one bucket.

    With the bucket encrypted by a KMS key, reading an object needs kms:Decrypt on that key too;
    it is granted only for requests S3 makes on the role's behalf in this region.
    """
    statements = _script_statements(bucket, prefix, partition_of(region))
    if kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptLifecycleScripts",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": "s3.%s.amazonaws.com" % region}},
            }
        )
    return {"Version": VERSION, "Statement": statements}


def kms_key_arn(key, region, account):
    """A key ARN from a key ARN or a key id; None for an alias, which a policy cannot name as the key."""
    resolved = arn.kms_key_arn(key, partition_of(region), region, account)
    return resolved if arn.is_key_arn(resolved) else None


def autostop_policy(names, region, account):
    """Notebook role: describe and stop exactly these notebooks (what autostop.py calls)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "StopIdleNotebook",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance"],
                "Resource": arn.notebook_arns(names, region, account),
            },
        ],
    }


def trust_policy(account):
    """Only SageMaker, acting for this account, may assume the notebook role."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            },
        ],
    }


def s3_endpoint_policy(bucket, prefix, region="us-east-1"):
    """S3 gateway endpoint: the VPC reaches nothing in S3 but the script prefix, read-only."""
    statements = _script_statements(bucket, prefix, partition_of(region))
    for statement in statements:
        statement["Principal"] = "*"
    return {"Version": VERSION, "Statement": statements}


def sagemaker_endpoint_policy(names, region, account):
    """SageMaker API interface endpoint: only describe/stop of these notebooks goes through."""
    policy = autostop_policy(names, region, account)
    policy["Statement"][0]["Principal"] = "*"
    return policy


def bucket_policy(bucket, endpoint_id, admin_principals, region="us-east-1"):
    """Deny plain-http requests from anyone; deny requests that do not come through the VPC's S3
    endpoint unless they come from an admin principal (so the owners are never locked out)."""
    bucket = bucket_arn(bucket, partition_of(region))
    resources = [bucket, bucket + "/*"]
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DenyOutsideVpcEndpoint",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {
                    "StringNotEquals": {"aws:SourceVpce": endpoint_id},
                    "ArnNotEquals": {"aws:PrincipalArn": sorted(admin_principals)},
                },
            },
        ],
    }
