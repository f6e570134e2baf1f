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

import json
import re

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.arn import bucket_arn, partition_of

VERSION = "2012-10-17"

# Size quotas, in characters of the document without white space (IAM and STS quotas: "IAM does not
# count white space when calculating the size of a policy against this quota"; VPC endpoint policy
# 20,480 characters; S3 bucket policy 20 KB; KMS key policy "32 KB (32,768 bytes)", KMS quotas).  AWS
# refuses a larger one with LimitExceeded ("Cannot exceed quota for PolicySize: 6144") - after the
# calls before it were made, so the role checks first.  A role's inline policies add up to at most
# 10,240 characters (same quotas page, "Role policy size").
LIMITS = {"managed": 6144, "trust": 2048, "vpc_endpoint": 20480, "bucket": 20480, "key": 32768, "role_inline": 10240}
# The role attaches its S3 read policy and the autostop policies; IAM attaches at most 10 managed
# policies to a role by default (20 on request).
MAX_AUTOSTOP_POLICIES = 8


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
                "Condition": {"StringEquals": {"kms:ViaService": arn.service_host("s3", region)}},
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


def size(document, kind="managed"):
    """A policy's size as its service counts it: IAM (managed, trust) ignores white space, so its JSON
    without white space between tokens (white space inside strings counts: the figure errs on the safe
    side); S3 and VPC endpoint policies as the modules send them (json.dumps), in bytes."""
    if kind in ("managed", "trust", "role_inline"):
        return len(json.dumps(document, separators=(",", ":")))
    return len(json.dumps(document).encode("utf-8"))


def _split(builder, names, region, account, limit):
    """``builder(names, region, account)`` split into as few documents as fit ``limit`` each; the names
    (sorted) are kept together in order, so a re-run with the same names gives the same split."""
    groups, current = [], []
    for name in sorted(set(names)):
        if current and size(builder(current + [name], region, account)) > limit:
            groups.append(current)
            current = []
        current.append(name)
    groups.append(current)
    return [builder(group, region, account) for group in groups if group]


def autostop_policies(names, region, account, limit=LIMITS["managed"]):
    """``autostop_policy`` split into as few documents as fit IAM's managed-policy size each."""
    return _split(autostop_policy, names, region, account, limit)


# The CloudWatch Logs calls that write a notebook's lifecycle output.  SageMaker Developer Guide, "How to
# use SageMaker AI execution roles", section "CreateNotebookInstance API: Execution Role Permissions",
# lists logs:CreateLogGroup, logs:CreateLogStream, logs:DescribeLogStreams, logs:PutLogEvents and
# logs:GetLogEvents for the notebook's execution role (on "*"); GetLogEvents reads and is left out.  The
# Service Authorization Reference for CloudWatch Logs (parliament's copy of it, 1.6.4) gives each its
# resource type: CreateLogGroup and DescribeLogStreams take a log-group, CreateLogStream and PutLogEvents
# a log-stream.  So the group-level calls name the one group, the writes name each notebook's streams.
LOG_GROUP_ACTIONS = ["logs:CreateLogGroup", "logs:DescribeLogStreams"]
LOG_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


def lifecycle_log_statements(names, region, account):
    """Statements that let the named notebooks write their lifecycle output to CloudWatch Logs (group
    /aws/sagemaker/NotebookInstances, streams <notebook>/LifecycleConfigOnCreate and .../OnStart)."""
    return [
        {
            "Sid": "LifecycleLogGroup",
            "Effect": "Allow",
            "Action": list(LOG_GROUP_ACTIONS),
            "Resource": arn.log_group_arn(arn.LIFECYCLE_LOG_GROUP, region, account),
        },
        {
            "Sid": "WriteLifecycleLogs",
            "Effect": "Allow",
            "Action": list(LOG_WRITE_ACTIONS),
            "Resource": arn.lifecycle_log_stream_arns(names, region, account),
        },
    ]


def notebook_policy(names, region, account):
    """Notebook role: the autostop statement and the lifecycle-log statements for these notebooks."""
    policy = autostop_policy(names, region, account)
    policy["Statement"].extend(lifecycle_log_statements(names, region, account))
    return policy


def notebook_policies(names, region, account, limit=LIMITS["managed"]):
    """``notebook_policy`` split into as few documents as fit IAM's managed-policy size each: the role
    attaches them as its autostop policies (<prefix>-autostop, <prefix>-autostop-2, ...), so every
    notebook named for a stop is named for its logs in the same document, and the size check counts both."""
    return _split(notebook_policy, names, region, account, limit)


def home_policy(name, home, region, account):
    """A notebook's own role, inline: read-write on its home (``home``: its grant, data_grants.home_grants)
    and describe, stop and lifecycle logs of that notebook only.  Inline: the IAM User Guide's policy for a
    single identity "that maintains a strict one-to-one relationship between a policy and an identity"
    ("Managed policies and inline policies")."""
    statements = data_access_policy([home], region, account)["Statement"]
    for statement in statements:
        statement["Sid"] = statement["Sid"].replace("Data", "Home").rstrip("1")
    return {"Version": VERSION, "Statement": statements + notebook_policy([name], region, account)["Statement"]}


def autostop_policy_names(prefix):
    """The names the autostop policies of a stack take, in order: <prefix>-autostop, <prefix>-autostop-2..."""
    return [prefix + "-autostop"] + ["%s-autostop-%d" % (prefix, n) for n in range(2, MAX_AUTOSTOP_POLICIES + 1)]


def oversized(documents):
    """[(label, size, limit)] of the documents over their quota; ``documents``: [(label, kind, doc)]."""
    return [(label, size(doc, kind), LIMITS[kind]) for label, kind, doc in documents if size(doc, kind) > LIMITS[kind]]


def trust_policy(account, source_account=False):
    """Only SageMaker may assume the notebook role; with ``source_account``, only SageMaker acting
    for ``account`` (aws:SourceAccount).

    Off by default: SageMaker's execution-role trust policy for notebook instances has no condition
    ("How to use SageMaker AI execution roles"), and its confused-deputy page lists the features that
    send aws:SourceArn/aws:SourceAccount (training, processing, inference, Studio, ...) without notebook
    instances.  Were SageMaker not to send the key there, no notebook could start.  The role still
    cannot be used across accounts: passing it needs iam:PassRole in this account."""
    statement = {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": VERSION, "Statement": [statement]}


# --- data grants: {bucket, prefix, access, account, kms_key_arn} (module_utils/data_grants.py checks them) --
# Object actions per access.  read-write: PutObject covers the multipart upload calls but two (Amazon S3
# User Guide, "Multipart upload API and permissions"): listing an upload's parts (ListParts,
# s3:ListMultipartUploadParts) and aborting it; DeleteObject lets a team replace its own data.
GRANT_ACTIONS = {
    "read": ["s3:GetObject"],
    "read-write": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                   "s3:PutObject"],
}  # fmt: skip
# With SSE-KMS, reading needs kms:Decrypt, writing kms:GenerateDataKey as well (see S3_WRITE_ACTIONS).
GRANT_KEY_ACTIONS = {"read": ["kms:Decrypt"], "read-write": ["kms:Decrypt", "kms:GenerateDataKey"]}
# AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies", Considerations: "When
# using string condition operators, you must use at least six consecutive characters before or after each
# wildcard character."  An s3:prefix condition on a shorter prefix is left out of the endpoint policy (the
# role's own policy still holds the list to the prefix).
ENDPOINT_WILDCARD_CONTEXT = 6


def _grant_statements(grants, partition, account=None):
    """(grant, object statement, list statement) of each grant, Sids numbered in the grants' order.

    Each statement holds the bucket to its owner's account (s3:ResourceAccount: the grant's account, else
    ``account``): bucket names are global, and a bucket deleted and created again by someone else, or a
    misspelt name, would otherwise become a way out for the data."""
    found = []
    for number, grant in enumerate(grants, 1):
        bucket, prefix = bucket_arn(grant["bucket"], partition), grant.get("prefix") or ""
        owner = grant.get("account") or account
        objects = {"Sid": "DataObjects%d" % number, "Effect": "Allow", "Action": list(GRANT_ACTIONS[grant["access"]]),
                   "Resource": "%s/%s*" % (bucket, prefix)}  # fmt: skip
        listing = {"Sid": "DataList%d" % number, "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket}
        for statement in (objects, listing):
            if owner:
                statement["Condition"] = {"StringEquals": {"s3:ResourceAccount": owner}}
        if prefix:
            listing.setdefault("Condition", {})["StringLike"] = {"s3:prefix": ["%s*" % prefix]}
        found.append((grant, objects, listing))
    return found


def data_access_policy(grants, region="us-east-1", account=None):
    """Notebook role: exactly the granted data, in buckets of the grant's account (else ``account``); with
    a grant's KMS key, that key through S3 only, for that bucket's objects (kms:EncryptionContext:aws:s3:arn:
    the bucket's ARN with an S3 Bucket Key, the object's without: Amazon S3 User Guide, "Encryption
    context").  None without grants."""
    if not grants:
        return None
    statements = []
    for grant, objects, listing in _grant_statements(grants, partition_of(region), account):
        statements += [objects, listing]
        if grant.get("kms_key_arn"):
            bucket = bucket_arn(grant["bucket"], partition_of(region))
            encrypted = [bucket, "%s/%s*" % (bucket, grant.get("prefix") or "")]
            statements.append({
                "Sid": objects["Sid"].replace("Objects", "Key"),
                "Effect": "Allow",
                "Action": list(GRANT_KEY_ACTIONS[grant["access"]]),
                "Resource": grant["kms_key_arn"],
                "Condition": {
                    "StringEquals": {"kms:ViaService": arn.service_host("s3", region)},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": encrypted},
                },
            })  # fmt: skip
    return {"Version": VERSION, "Statement": statements}


def _endpoint_listing(statement):
    """A list statement for an endpoint policy: its s3:prefix condition only with six characters before
    the wildcard (ENDPOINT_WILDCARD_CONTEXT)."""
    like = statement.get("Condition", {}).get("StringLike", {})
    granted = like.get("s3:prefix", [""])[0]
    if like and len(granted) - 1 < ENDPOINT_WILDCARD_CONTEXT:
        del statement["Condition"]["StringLike"]
        if not statement["Condition"]:
            del statement["Condition"]
    return statement


def principal_condition(principals):
    """aws:PrincipalArn for these role ARNs: StringEquals of the ARNs, or ArnLike of a pattern (the
    notebooks' own roles, ``role/<name_prefix>/*``: their path holds them)."""
    principals = sorted(set(principals))
    operator = "ArnLike" if any("*" in p for p in principals) else "StringEquals"
    return operator, {"aws:PrincipalArn": principals}


def s3_endpoint_policy(bucket, prefix, region="us-east-1", grants=(), principal_arns=(), account=None):
    """S3 gateway endpoint: anything in the VPC may read the script prefix; ``grants`` go through for
    ``principal_arns`` (the notebook roles) only, and nothing else in S3 does.

    The principals are named by aws:PrincipalArn with Principal "*": "With gateway endpoints, you must
    use the aws:PrincipalArn condition key to grant access to a principal" (AWS PrivateLink Guide,
    "Control access to VPC endpoints using endpoint policies", Principals for gateway endpoints);
    an account in Principal would mean that account's root user only."""
    partition = partition_of(region)
    statements = _script_statements(bucket, prefix, partition)
    for statement in statements:
        statement["Principal"] = "*"
    _endpoint_listing(statements[1])
    operator, principals = principal_condition(principal_arns)
    for _grant, objects, listing in _grant_statements(grants, partition, account) if principal_arns else []:
        for statement in (objects, _endpoint_listing(listing)):
            statement["Principal"] = "*"
            condition = statement.setdefault("Condition", {})
            condition[operator] = dict(condition.get(operator, {}), **principals)
            statements.append(statement)
    return {"Version": VERSION, "Statement": statements}


def _team_statements(index, document):
    """A team's statements for a policy shared with other teams: Sids numbered by the team's place."""
    for statement in document["Statement"]:
        statement["Sid"] = "Team%d%s" % (index, statement["Sid"])
    return document["Statement"]


def shared_s3_endpoint_policy(teams, region="us-east-1", account=None):
    """One S3 gateway endpoint for the teams on one route table: each team's scripts for anything in the
    VPC, each team's grants for that team's roles only (``teams``: bucket, script_prefix, grants (with the
    homes'), role_principals, in name order).  A team's grants never go through for another team's role."""
    statements = []
    for index, team in enumerate(teams, 1):
        document = s3_endpoint_policy(team["bucket"], team["script_prefix"], region, team["grants"],
                                      team["role_principals"], account)  # fmt: skip
        statements += _team_statements(index, document)
    return {"Version": VERSION, "Statement": statements}


def shared_sagemaker_endpoint_policy(teams, region, account):
    """The one SageMaker API interface endpoint of the VPC: each team's role may describe and stop only
    that team's notebooks (``teams``: names, role_principals).  Principal "*" with aws:PrincipalArn, as the
    S3 endpoint's; an interface endpoint policy needs a Principal (AWS PrivateLink Guide, "Control access
    to VPC endpoints using endpoint policies")."""
    statements = []
    for index, team in enumerate(teams, 1):
        if not team["names"]:
            continue
        document = sagemaker_endpoint_policy(team["names"], region, account)
        operator, principals = principal_condition(team["role_principals"])
        for statement in document["Statement"]:
            statement["Condition"] = {operator: principals}
        statements += _team_statements(index, document)
    if not statements:  # no notebook yet: nothing goes through (an endpoint policy needs a statement)
        statements = [{"Sid": "NoNotebooks", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]
    return {"Version": VERSION, "Statement": statements}


def _wildcards_in_context(value):
    runs = re.split(r"[*?]", value)
    return all(max(len(runs[n]), len(runs[n + 1])) >= ENDPOINT_WILDCARD_CONTEXT for n in range(len(runs) - 1))


def endpoint_policy_errors(document, label="the endpoint policy"):
    """The rules a VPC endpoint policy breaks (AWS PrivateLink Guide, "Control access to VPC endpoints
    using endpoint policies", Considerations): every statement has a Principal; string conditions keep
    six characters next to each wildcard; at most 20,480 characters, white space included."""
    found = []
    length = size(document, "vpc_endpoint")
    if length > LIMITS["vpc_endpoint"]:
        found.append("%s is %d characters, over its quota of %d" % (label, length, LIMITS["vpc_endpoint"]))
    for number, statement in enumerate(document.get("Statement") or []):
        sid = statement.get("Sid", "#%d" % number)
        if "Principal" not in statement:
            found.append("%s statement %s has no Principal" % (label, sid))
        for operator, keyed in (statement.get("Condition") or {}).items():
            if "String" not in operator:
                continue
            for key, values in keyed.items():
                for value in values if isinstance(values, list) else [values]:
                    if not _wildcards_in_context(str(value)):
                        found.append("%s statement %s: %s %r needs six characters before or after each wildcard"
                                     % (label, sid, key, value))  # fmt: skip
    return found


def sagemaker_endpoint_policy(names, region, account):
    """SageMaker API interface endpoint: only describe/stop of these notebooks goes through."""
    policy = autostop_policy(names, region, account)
    policy["Statement"][0]["Principal"] = "*"
    return policy


def logs_endpoint_policy(names, region, account):
    """CloudWatch Logs interface endpoint: only the lifecycle-log calls of these notebooks go through,
    for principals of ``account`` (aws:PrincipalAccount; the resources are the account's own).

    An interface endpoint policy is a resource policy and needs a Principal ("Control access to VPC
    endpoints using endpoint policies", AWS PrivateLink Guide); "*" with the account condition keeps
    other accounts' credentials from writing through it.  CloudWatch Logs supports endpoint policies
    ("Using CloudWatch Logs with interface VPC endpoints", whose example allows only
    logs:CreateLogStream and logs:PutLogEvents)."""
    statements = lifecycle_log_statements(names, region, account)
    for statement in statements:
        statement["Principal"] = "*"
        statement["Condition"] = {"StringEquals": {"aws:PrincipalAccount": account}}
    return {"Version": VERSION, "Statement": statements}


# Reads of the bucket's configuration, which the endpoint-only Deny leaves to IAM: an auditor, AWS Config
# or Security Hub reads them from outside the VPC.  A Deny on s3:* outside the endpoint covers them too
# (Amazon S3 User Guide, "Controlling access from VPC endpoints with bucket policies": such a policy
# "disables console access to the specified bucket, because console requests don't originate from the
# specified VPC endpoint"), and the isolation audit could not read the bucket it audits.  None of them
# reads an object or lists a key.  GetBucketPolicy shows the admin principals' ARNs, the caller's role id
# and the endpoint id: names, no data.
BUCKET_CONFIGURATION_READS = [
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
]


def bucket_policy(bucket, endpoint_id, admin_principals, region="us-east-1", caller_user_ids=()):
    """Deny plain-http requests from anyone; deny requests that do not come through the VPC's S3
    endpoint (``endpoint_id``: one id, or a list for a data bucket several endpoints serve) unless they
    come from an admin principal or from the caller of the run - all but the reads of the bucket's
    configuration (BUCKET_CONFIGURATION_READS), which IAM alone governs.

    The caller is exempted by ``aws:userid`` (``caller_user_ids``: ``arn.user_id_pattern`` of
    GetCallerIdentity's UserId), not by ARN: ``aws:PrincipalArn`` of a role carries the role's path,
    which the caller's session ARN does not show (IAM Identity Center roles always have one), so an
    ARN built from the session would not match and the deny would cover PutBucketPolicy too: only
    the account's root user could repair the bucket.  Condition keys of one statement must all hold
    for the deny to apply, so each key is one more exemption.
    """
    bucket = bucket_arn(bucket, partition_of(region))
    resources = [bucket, bucket + "/*"]
    endpoints = sorted(set(endpoint_id)) if isinstance(endpoint_id, (list, tuple)) else endpoint_id
    outside = {"StringNotEquals": {"aws:SourceVpce": endpoints}}
    if admin_principals:
        outside["ArnNotEquals"] = {"aws:PrincipalArn": sorted(admin_principals)}
    if caller_user_ids:
        outside["StringNotLike"] = {"aws:userid": sorted(set(caller_user_ids))}
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
                "NotAction": list(BUCKET_CONFIGURATION_READS),
                "Resource": resources,
                "Condition": outside,
            },
        ],
    }


# --- the stack's KMS key -------------------------------------------------------------------------
# What a run calls on the key it owns (amazon.aws.kms_key: create, reconcile); the deletion only
# when the teardown is asked for it (the key policy is put with it first, see kms_key_policy).
KEY_RUN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DescribeKey",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
]
# What a key administrator may do: the run's actions and the ones a run never needs, and no
# cryptographic operation, since administering a key is not using it (AWS KMS Developer Guide,
# "Default key policy", "Allows key administrators to administer the KMS key", less kms:Create*/Put*'s
# CreateGrant and the Replicate*/Import* of other key kinds).
KEY_ADMIN_ACTIONS = sorted(
    KEY_RUN_ACTIONS
    + ["kms:DeleteAlias", "kms:DisableKey", "kms:DisableKeyRotation", "kms:RevokeGrant", "kms:ScheduleKeyDeletion",
       "kms:UpdateAlias"]
)  # fmt: skip
# A notebook's volume: whoever calls CreateNotebookInstance or StartNotebookInstance with a key needs
# kms:DescribeKey and kms:CreateGrant on it (SageMaker Developer Guide, "Amazon SageMaker API
# Permissions: Actions, Permissions, and Resources Reference", rows CreateNotebookInstance and
# StartNotebookInstance: "required only if you specify an encryption key"); DeleteNotebookInstance
# needs kms:DescribeKey.  The notebook's execution role needs nothing on the volume key ("How to use
# SageMaker AI execution roles", CreateNotebookInstance API: Execution Role Permissions).  Grants only
# an AWS service creates on the principal's behalf (kms:GrantIsForAWSResource), never one the
# principal creates for itself, which would let it decrypt at will.
GRANTS_FOR_AWS_RESOURCES = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
# Objects under SSE-KMS: S3 asks KMS for a data key on PutObject and to decrypt it on GetObject
# (Amazon S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)", permissions).
S3_WRITE_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def _key_statement(sid, account, partition, actions, condition):
    # Principal: the account, so that IAM policies must allow as well (KMS, "Allows access to the AWS
    # account and enables IAM policies"); the condition narrows it to exactly the principals named.
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": "arn:%s:iam::%s:root" % (partition, account)},
        "Action": actions,
        "Resource": "*",
        "Condition": condition,
    }


def _caller_statement(sid, account, actions, caller_user_ids, condition=None):
    # Principal "*" narrowed to the account (kms:CallerAccount, and aws:PrincipalAccount, which policy
    # scanners read as "not public") and the caller (aws:userid), as AWS's own managed keys' policies
    # name "all principals in the account" with conditions: the key policy alone grants it, so the
    # caller's IAM policy needs no permission on keys it does not know yet.
    condition = dict(condition or {})
    account_only = {"aws:PrincipalAccount": account, "kms:CallerAccount": account}
    condition["StringEquals"] = dict(condition.get("StringEquals", {}), **account_only)
    condition["StringLike"] = dict(condition.get("StringLike", {}), **{"aws:userid": sorted(set(caller_user_ids))})
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": actions, "Resource": "*",
            "Condition": condition}  # fmt: skip


def kms_key_policy(
    account, region, admin_principals, caller_user_ids, role_arn, bucket, notebook_users=(), caller_may_delete=False
):
    """The key policy of the stack's key: administration for the admin principals and the caller;
    use only through the services that need it, by exactly the principals that need it.

    - administration, no cryptographic use: the admin principals (by aws:PrincipalArn, deletion
      included) and the caller of the run (by aws:userid, as the bucket policy exempts it, see
      ``bucket_policy``); PutKeyPolicy is among them, so CreateKey's policy lockout safety check passes;
      the caller schedules the key's deletion only with ``caller_may_delete`` (the teardown's consent);
    - the notebooks' volumes: the caller, and ``notebook_users`` (principal ARNs that start stopped
      notebooks), may describe the key and let SageMaker create the volume's grant
      (GRANTS_FOR_AWS_RESOURCES);
    - the script objects: the caller writes and reads, the notebook role (by aws:PrincipalArn) only
      decrypts, both only through S3 in the region (kms:ViaService) and only for the stack's bucket
      (kms:EncryptionContext:aws:s3:arn is the bucket's ARN with an S3 Bucket Key, the object's without:
      Amazon S3 User Guide, "Encryption context").

    The caller's statements grant by the key policy alone (``_caller_statement``); every other one
    names the account and narrows it by a condition, so that principal's IAM policies must agree.
    Conditions rather than principal ARNs: a role named as principal turns into an unusable unique id
    once deleted (IAM User Guide, "AWS JSON policy elements: Principal").  The caller is matched by its
    role id, which a role created again under the same name does not keep: name admin principals.
    """
    partition = partition_of(region)
    bucket = bucket_arn(bucket, partition)
    objects = [bucket, bucket + "/*"]
    via_s3 = {"kms:ViaService": arn.service_host("s3", region)}
    statements = []
    if admin_principals:
        admins = {"ArnEquals": {"aws:PrincipalArn": sorted(admin_principals)}}
        statements.append(_key_statement("AdministerTheKey", account, partition, KEY_ADMIN_ACTIONS, admins))
    run_actions = sorted(KEY_RUN_ACTIONS + (["kms:ScheduleKeyDeletion"] if caller_may_delete else []))
    statements += [
        _caller_statement("TheRunAdministersTheKey", account, run_actions, caller_user_ids),
        _caller_statement(
            "TheRunEncryptsNotebookVolumes",
            account,
            ["kms:CreateGrant"],
            caller_user_ids,
            GRANTS_FOR_AWS_RESOURCES,
        ),
        _caller_statement(
            "TheRunWritesScriptsThroughS3",
            account,
            S3_WRITE_ACTIONS,
            caller_user_ids,
            {"StringEquals": via_s3, "StringLike": {"kms:EncryptionContext:aws:s3:arn": objects}},
        ),
        _key_statement(
            "NotebooksReadScriptsThroughS3",
            account,
            partition,
            ["kms:Decrypt"],
            {
                ("ArnLike" if "*" in role_arn else "ArnEquals"): {"aws:PrincipalArn": role_arn},
                "StringEquals": via_s3,
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": objects},
            },
        ),
    ]
    if notebook_users:
        users = {"ArnEquals": {"aws:PrincipalArn": sorted(notebook_users)}}
        statements += [
            _key_statement("NotebookUsersDescribeTheKey", account, partition, ["kms:DescribeKey"], users),
            _key_statement(
                "NotebookUsersStartNotebooks",
                account,
                partition,
                ["kms:CreateGrant"],
                dict(users, **GRANTS_FOR_AWS_RESOURCES),
            ),
        ]
    return {"Version": VERSION, "Statement": statements}
