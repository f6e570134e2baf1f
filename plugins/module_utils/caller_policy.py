# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The identity policies a caller needs: to run site.yml and teardown.yml for one stack
(``stack_policy``), and to run audit.yml (``audit_policy``, read-only).  docs/permissions.md
explains each statement; tests/functional/test_caller_policy.py proves each one is needed.

Scoping follows the Service Authorization Reference (resource types and condition keys per action):
- EC2 Describe*, IAM ListPolicies and SageMaker List* take no resource: ``*``.
- S3, IAM and SageMaker actions name the stack's bucket, role, policies, lifecycle configuration and
  notebooks (notebooks in both spellings, as arn.notebook_arns lists them).
- EC2 writes are bound to the stack's VPC: a security group or endpoint can only be created with the
  VPC's ARN as a resource; rules and deletions need ``ec2:Vpc`` of that VPC; endpoints are created
  only for the stack's services and with the stack's tag, and modified or deleted only with it.
- Tags go on at creation only (``ec2:CreateAction``); ``iam:PassRole`` only for the notebook role and
  only to SageMaker; only the stack's policies can be attached to the role (``iam:PolicyARN``);
  notebooks can only be created without direct internet access, in the stack's subnet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.policies import (
    GRANTS_FOR_AWS_RESOURCES,
    LIMITS,
    VERSION,
    autostop_policy_names,
    size,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import SERVICE_NAME_PREFIXES

STACK_TAG = "isolated-notebook-stack"

DESCRIBE = [
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribePrefixLists",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVpcEndpointServices",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "iam:ListAccountAliases",
    "iam:ListPolicies",
    # iam_cleanup.yml and absent.yml find the notebooks' own roles (isolated_notebook_homes) at the stack's
    # path; ListRoles takes no resource (Service Authorization Reference).
    "iam:ListRoles",
    # amazon.aws.s3_bucket_info finds the script bucket (and its region) in ListBuckets.
    "s3:ListAllMyBuckets",
    "sagemaker:ListNotebookInstanceLifecycleConfigs",
    # SageMaker's tagging actions take no lifecycle-configuration ARN (Service Authorization Reference).
    "sagemaker:ListTags",
    "sagemaker:ListNotebookInstances",
]
BUCKET_READ = [
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketLocation",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetInventoryConfiguration",
    "s3:ListBucket",
]
BUCKET_WRITE = [
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
]
# What the execution_role module calls.
ROLE_ACTIONS = [
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
]
POLICY_ACTIONS = [
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListEntitiesForPolicy",
    "iam:ListPolicyVersions",
    "iam:SetDefaultPolicyVersion",
]
SECURITY_GROUP_ACTIONS = [
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
]
LIFECYCLE_CONFIG_ACTIONS = [
    "sagemaker:CreateNotebookInstanceLifecycleConfig",
    "sagemaker:DeleteNotebookInstanceLifecycleConfig",
    "sagemaker:DescribeNotebookInstanceLifecycleConfig",
    "sagemaker:UpdateNotebookInstanceLifecycleConfig",
]
NOTEBOOK_ACTIONS = [
    "sagemaker:AddTags",
    "sagemaker:DeleteNotebookInstance",
    "sagemaker:DeleteTags",
    "sagemaker:DescribeNotebookInstance",
    "sagemaker:ListTags",
    "sagemaker:StartNotebookInstance",
    "sagemaker:StopNotebookInstance",
    "sagemaker:UpdateNotebookInstance",
]
# What audit.yml calls (isolation_audit): reads of every notebook of the region and of what they use.
AUDIT_ACTIONS = [
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcEndpoints",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration",
    "s3:GetObject",
    "sagemaker:DescribeNotebookInstance",
    "sagemaker:DescribeNotebookInstanceLifecycleConfig",
    "sagemaker:ListNotebookInstances",
]


def _statement(sid, actions, resources, condition=None):
    statement = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def endpoint_services(region, services):
    """Every name the stack's endpoint services can have in ``region`` (both prefixes: which one a
    service has is looked up at run time, see vpc_endpoint.resolve_service)."""
    return sorted("%s.%s.%s" % (prefix, region, service) for prefix in SERVICE_NAME_PREFIXES for service in services)


def stack_policy(stack):
    """The caller's policy for one stack.  ``stack``: prefix, bucket, script_prefix, region, account,
    vpc_id, subnet_id, notebooks (names); optional sagemaker_api_endpoint, logs_endpoint,
    create_bucket, delete_bucket (booleans, the role's defaults), security_group_id (a group the
    user brings: no security group is created), kms_key_id (a key the user brings), create_kms_key
    and delete_kms_key (booleans: the stack's own key, its deletion at teardown)."""
    prefix, region, account = stack["prefix"], stack["region"], stack["account"]
    partition = arn.partition_of(region)
    ec2 = "arn:%s:ec2:%s:%s:" % (partition, region, account)
    sagemaker = "arn:%s:sagemaker:%s:%s:" % (partition, region, account)
    vpc = ec2 + "vpc/" + stack["vpc_id"]
    api, logs = stack.get("sagemaker_api_endpoint", True), stack.get("logs_endpoint", True)
    own_groups = not stack.get("security_group_id")
    bucket = arn.bucket_arn(stack["bucket"], partition)
    role = arn.role_arn(prefix + "-notebook", account, partition)
    policies = [
        "arn:%s:iam::%s:policy/%s" % (partition, account, name)
        for name in [prefix + "-s3-read", prefix + "-data"] + autostop_policy_names(prefix)
    ]
    notebooks = arn.notebook_arns(stack["notebooks"], region, account)
    services = ["s3"] + (["sagemaker.api"] if api else []) + (["logs"] if logs else [])
    created = ["CreateVpcEndpoint"] + (["CreateSecurityGroup"] if own_groups else [])

    statements = [
        _statement("DescribeNetworkAndList", DESCRIBE, "*"),
        _statement("ScriptBucketRead", BUCKET_READ, bucket),
        _statement(
            "ScriptBucketConfigure",
            (["s3:CreateBucket"] if stack.get("create_bucket", True) else []) + BUCKET_WRITE,
            bucket,
        ),
        _statement(
            "ScriptObjects",
            ["s3:GetObject", "s3:GetObjectTagging", "s3:PutObject"],
            "%s/%s*" % (bucket, stack["script_prefix"]),
        ),
        _statement("NotebookRolePolicies", POLICY_ACTIONS, policies),
        _statement("NotebookRole", ROLE_ACTIONS, role),
        _statement(
            "AttachOnlyTheStackPolicies",
            ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            role,
            {"ArnEquals": {"iam:PolicyARN": policies}},
        ),
        _statement(
            "PassTheNotebookRoleToSageMaker",
            ["iam:PassRole"],
            role,
            {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    ]
    if own_groups:
        statements += [
            _statement("CreateSecurityGroupsInTheVpc", ["ec2:CreateSecurityGroup"], [vpc, ec2 + "security-group/*"]),
            _statement(
                "SecurityGroupRulesInTheVpc",
                SECURITY_GROUP_ACTIONS,
                ec2 + "security-group/*",
                {"ArnEquals": {"ec2:Vpc": vpc}},
            ),
        ]
    statements += [
        _statement(
            "TagOnCreateOnly",
            ["ec2:CreateTags"],
            [ec2 + "vpc-endpoint/*"] + ([ec2 + "security-group/*"] if own_groups else []),
            {"StringEquals": {"ec2:CreateAction": created}},
        ),
        _statement(
            "CreateTheStackEndpoints",
            ["ec2:CreateVpcEndpoint"],
            ec2 + "vpc-endpoint/*",
            {
                "StringEquals": {
                    "ec2:VpceServiceName": endpoint_services(region, services),
                    "aws:RequestTag/" + STACK_TAG: prefix,
                }
            },
        ),
        # DNS attributes of the VPC: private DNS needs them, the role checks them first.
        _statement("ReadTheVpcAttributes", ["ec2:DescribeVpcAttribute"], vpc),
        _statement(
            "EndpointsInTheVpc",
            ["ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint"],
            [vpc, ec2 + "subnet/" + stack["subnet_id"], ec2 + "route-table/*", ec2 + "security-group/*"],
        ),
        _statement(
            "ChangeOnlyTheStackEndpoints",
            ["ec2:DeleteVpcEndpoints", "ec2:ModifyVpcEndpoint"],
            ec2 + "vpc-endpoint/*",
            {"StringEquals": {"aws:ResourceTag/" + STACK_TAG: prefix}},
        ),
    ]
    if api or logs:
        # Private DNS for an interface endpoint associates the VPC with a private hosted zone that AWS
        # owns (a dependent action of CreateVpcEndpoint): no ARN of it is known to the caller.
        statements.append(_statement("PrivateDnsOfInterfaceEndpoints", ["route53:AssociateVPCWithHostedZone"], "*"))
    lifecycle_config = sagemaker + "notebook-instance-lifecycle-config/" + (prefix + "-autostop").lower()
    statements += [
        _statement("LifecycleConfiguration", LIFECYCLE_CONFIG_ACTIONS, lifecycle_config),
        # Tags of a lifecycle configuration: no ARN (see DESCRIBE), so only as it is created.
        _statement(
            "TagTheLifecycleConfigurationOnCreate",
            ["sagemaker:AddTags"],
            "*",
            {"StringEquals": {"sagemaker:TaggingAction": "CreateNotebookInstanceLifecycleConfig"}},
        ),
        _statement(
            "CreateNotebooksWithoutInternet",
            ["sagemaker:CreateNotebookInstance"],
            notebooks,
            # Only in the stack's subnet (SageMaker refuses DirectInternetAccess=Disabled without one).
            {
                "StringEquals": {"sagemaker:DirectInternetAccess": "Disabled"},
                "ForAllValues:StringEquals": {"sagemaker:VpcSubnets": [stack["subnet_id"]]},
            },
        ),
        _statement("Notebooks", NOTEBOOK_ACTIONS, notebooks),
    ]
    statements += _key_statements(stack, bucket)
    if stack.get("delete_bucket"):
        statements.append(
            _statement(
                "DeleteTheScriptBucket",
                ["s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"],
                [bucket, bucket + "/*"],
            )
        )
    return {"Version": VERSION, "Statement": statements}


def _key_statements(stack, bucket):
    """The KMS statements.  The stack's own key: creating it (with its alias and tags) is all the IAM
    policy allows; its key policy grants the caller the rest by itself (policies.kms_key_policy), so no
    statement names a key the stack does not own.  A key the user brings: the uses S3 and SageMaker make
    of it with the caller's credentials, a data key for the script objects (Amazon S3 User Guide, SSE-KMS
    permissions) and the grant of a notebook's volume (SageMaker API permissions reference:
    CreateNotebookInstance, StartNotebookInstance), on that key only."""
    prefix, region, account = stack["prefix"], stack["region"], stack["account"]
    partition = arn.partition_of(region)
    named = stack.get("kms_key_id") or ""
    kms = "arn:%s:kms:%s:%s:" % (partition, region, account)
    if not named:
        if not stack.get("create_kms_key", True):
            return []
        return [
            # amazon.aws.kms_key finds the stack's key by its alias in ListAliases (no resource type).
            _statement("FindTheStackKeyByItsAlias", ["kms:ListAliases"], "*"),
            _statement(
                "CreateTheStackKey",
                ["kms:CreateKey"],
                "*",
                {
                    "StringEquals": {
                        "aws:RequestTag/" + STACK_TAG: prefix,
                        "kms:KeySpec": "SYMMETRIC_DEFAULT",
                        "kms:KeyUsage": "ENCRYPT_DECRYPT",
                        "kms:KeyOrigin": "AWS_KMS",
                    },
                    "Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false", "kms:MultiRegion": "false"},
                },
            ),
            # CreateKey's Tags need kms:TagResource in an IAM policy (KMS API reference, CreateKey, Tags); the
            # key has no ARN yet.  This also lets the caller add the stack's tag to a key that leaves its
            # access to IAM policies: no statement here gives that tag any meaning (docs/permissions.md).
            _statement(
                "TagTheStackKeyAsItIsCreated",
                ["kms:TagResource"],
                kms + "key/*",
                {"StringEquals": {"aws:RequestTag/" + STACK_TAG: prefix}},
            ),
            # An alias is authorized on the alias (here) and on its key (by that key's policy).
            _statement("TheStackKeyAlias", ["kms:CreateAlias"], kms + "alias/" + prefix),
        ]
    key = arn.kms_key_arn(named, partition, region, account)
    return [
        _statement(
            "EncryptTheScriptObjectsThroughS3",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            key,
            {
                "StringEquals": {"kms:ViaService": arn.service_host("s3", region)},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, bucket + "/*"]},
            },
        ),
        _statement(
            "EncryptTheNotebookVolumesThroughSageMaker",
            ["kms:CreateGrant"],
            key,
            GRANTS_FOR_AWS_RESOURCES,
        ),
        _statement("DescribeTheKeyForSageMaker", ["kms:DescribeKey"], key),
    ]


def audit_policy(_ignored=None, security_hub=False, region=None, account=None):
    """The auditor's policy: read-only, every notebook of the account (what the audit is for).  With
    ``security_hub``, also the export of its findings (security_hub_findings): the import under the account's own
    product only, and reads of the region's hub (Service Authorization Reference: BatchImportFindings on
    ``product``, GetFindings on ``hub``)."""
    statements = [_statement("ReadNotebooksAndWhatTheyUse", AUDIT_ACTIONS, "*")]
    if security_hub:
        if not (region and account):
            raise ValueError("audit_policy: security_hub needs the region and the account")
        base = "arn:%s:securityhub:%s:%s:" % (arn.partition_of(region), region, account)
        statements.append(_statement("ImportTheAuditsFindings", ["securityhub:BatchImportFindings"],
                                     base + "product/%s/default" % account))  # fmt: skip
        statements.append(_statement("ReadTheHubsFindings", ["securityhub:GetFindings"], base + "hub/default"))
    return {"Version": VERSION, "Statement": statements}


def managed_parts(document, limit=LIMITS["managed"]):
    """``document``'s statements packed, in order, into as few documents as fit IAM's managed-policy
    size each (the stack policy of a larger fleet is over 6,144 characters: attach every part)."""
    parts, current = [], []
    for statement in document["Statement"]:
        trial = {"Version": VERSION, "Statement": current + [statement]}
        if current and size(trial) > limit:
            parts.append({"Version": VERSION, "Statement": current})
            current = []
        current.append(statement)
    if current:
        parts.append({"Version": VERSION, "Statement": current})
    return parts
