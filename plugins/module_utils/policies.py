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

import re

VERSION = "2012-10-17"


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _bucket_arn(bucket, partition="aws"):
    return "arn:%s:s3:::%s" % (partition, bucket)


def _script_statements(bucket, prefix, partition):
    bucket_arn = _bucket_arn(bucket, partition)
    return [
        {
            "Sid": "ReadLifecycleScripts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "%s/%s*" % (bucket_arn, prefix),
        },
        {
            "Sid": "ListLifecycleScripts",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": ["%s*" % prefix]}},
        },
    ]


def notebook_arns(names, region, account):
    """ARNs of the named notebooks; AWS has been seen lower-casing the name in ARNs, so both
    spellings are listed (deduplicated, sorted) and either matches."""
    partition = partition_of(region)
    spelled = sorted(set(names) | set(name.lower() for name in names))
    return ["arn:%s:sagemaker:%s:%s:notebook-instance/%s" % (partition, region, account, name) for name in spelled]


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
    if not key:
        return None
    if key.startswith("arn:"):
        return key if ":key/" in key else None
    if key.startswith("alias/"):
        return None
    return "arn:%s:kms:%s:%s:key/%s" % (partition_of(region), region, account, key)


def autostop_policy(names, region, account):
    """Notebook role: describe and stop exactly these notebooks (what autostop.py calls)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "StopIdleNotebook",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance"],
                "Resource": notebook_arns(names, region, account),
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
    bucket_arn = _bucket_arn(bucket, partition_of(region))
    resources = [bucket_arn, bucket_arn + "/*"]
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


def principal_arn(caller_arn):
    """The ARN that ``aws:PrincipalArn`` carries for a caller: an assumed-role session counts as
    its role (``arn:aws:sts::1:assumed-role/R/s`` -> ``arn:aws:iam::1:role/R``; a role path is not
    visible in the session ARN, so roles with a path must be listed explicitly)."""
    match = re.match(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+$", caller_arn)
    if match:
        return "arn:%s:iam::%s:role/%s" % match.groups()
    return caller_arn
