# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names and ARNs: the one home of the SageMaker name rule, partitions, ARN builders and KMS key forms.

Every caller asks here, the role included (its ``validate.yml`` uses the ``name_error`` filter), so
that no two copies of a rule can drift apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# AWS API reference: NotebookInstanceName and NotebookInstanceLifecycleConfigName share this
# pattern and the 63-character maximum.
NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"
NAME_RE = re.compile(NAME_PATTERN)
NAME_MAX = 63


def name_error(value, field="name", what="SageMaker", max_length=NAME_MAX):
    """Why ``value`` breaks the SageMaker name rule (one message naming ``field``), or None.

    ``what`` names the kind of resource in the message; ``max_length`` is lower where the name is a
    prefix of longer names (the role's name prefix).
    """
    if not isinstance(value, str) or not value:
        return "%s must not be empty" % field if value in (None, "") else "%s must be a string" % field
    if len(value) > max_length:
        return "%s '%s' is %d characters long; %s allows at most %d" % (
            field,
            value,
            len(value),
            "SageMaker" if max_length == NAME_MAX else "this field",
            max_length,
        )
    if not NAME_RE.match(value):
        return (
            "%s '%s' is not a valid %s name: use letters, digits and single or repeated hyphens, starting and "
            "ending with a letter or digit (pattern %s)" % (field, value, what, NAME_PATTERN)
        )
    return None


# Partitions: the domain of their service endpoints (botocore's endpoints.json "dnsSuffix"; aws-cn's
# services answer at <service>.<region>.amazonaws.com.cn, and kms:ViaService names that host).
DNS_SUFFIX = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}


def partition_of(region):
    """The partition of a region (aws, aws-cn, aws-us-gov)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def service_host(service, region):
    """The regional host name of a service (``s3.cn-north-1.amazonaws.com.cn``), as kms:ViaService names it."""
    return "%s.%s.%s" % (service, region, DNS_SUFFIX[partition_of(region)])


def bucket_arn(bucket, partition="aws"):
    return "arn:%s:s3:::%s" % (partition, bucket)


def notebook_arns(names, region, account):
    """ARNs of the named notebooks; AWS has been seen lower-casing the name in ARNs, so both
    spellings are listed (deduplicated, sorted) and either matches."""
    partition = partition_of(region)
    spelled = sorted(set(names) | set(name.lower() for name in names))
    return ["arn:%s:sagemaker:%s:%s:notebook-instance/%s" % (partition, region, account, name) for name in spelled]


# Lifecycle configuration output (CreateNotebookInstanceLifecycleConfig, SageMaker API reference): "View
# CloudWatch Logs for notebook instance lifecycle configurations in log group /aws/sagemaker/NotebookInstances
# in log stream [notebook-instance-name]/[LifecycleConfigHook]"; the hooks are OnCreate and OnStart, so the
# streams are <name>/LifecycleConfigOnCreate and <name>/LifecycleConfigOnStart.
LIFECYCLE_LOG_GROUP = "/aws/sagemaker/NotebookInstances"
LIFECYCLE_LOG_STREAM = "%s/LifecycleConfigOn*"


def log_group_arn(group, region, account):
    """A log group's ARN as IAM policies name it: with the trailing ``:*`` (CloudWatch Logs API
    reference, LogGroup.arn: "Use this version to refer to the ARN in IAM policies when specifying
    permissions for most API actions"; only the tagging actions take the form without it)."""
    return "arn:%s:logs:%s:%s:log-group:%s:*" % (partition_of(region), region, account, group)


def lifecycle_log_stream_arns(names, region, account):
    """ARNs of the lifecycle-configuration log streams of the named notebooks, in the Service
    Authorization Reference's log-stream form
    ``arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}``.

    One pattern per notebook, ``<name>/LifecycleConfigOn*``: the ``/`` pins the notebook, the prefix its
    lifecycle hooks (OnCreate, OnStart); two exact ARNs per notebook would halve the fleet that fits
    IAM's 6,144 characters and the endpoint policy's 20,480.  Whether SageMaker keeps the name's case in
    the stream name is unverified (it lower-cases it in ARNs): both spellings are listed, as in
    ``notebook_arns``."""
    group = "arn:%s:logs:%s:%s:log-group:%s" % (partition_of(region), region, account, LIFECYCLE_LOG_GROUP)
    spelled = sorted(set(names) | set(name.lower() for name in names))
    return ["%s:log-stream:%s" % (group, LIFECYCLE_LOG_STREAM % name) for name in spelled]


def role_arn(name, account, partition="aws", path="/"):
    return "arn:%s:iam::%s:role%s%s" % (partition, account, path or "/", name)


def kms_key_arn(value, partition, region, account):
    """A KMS key reference as an ARN: a key ID becomes ``key/ID`` and ``alias/NAME`` an alias ARN in
    ``partition``, ``region`` and ``account``, as KMS and SageMaker resolve them; an ARN stays as it
    is; "" and None give "".  An alias and the key behind it still differ: telling them apart needs
    kms:DescribeKey."""
    if not value or value.startswith("arn:"):
        return value or ""
    resource = value if value.startswith("alias/") else "key/" + value
    return "arn:%s:kms:%s:%s:%s" % (partition, region, account, resource)


def is_key_arn(arn):
    """Whether an ARN names a key itself (a policy's Resource cannot name a key by its alias)."""
    return bool(arn) and arn.startswith("arn:") and ":key/" in arn


def parse(arn):
    """(partition, service, region, account, resource) of an ARN; None when it is not one."""
    parts = (arn or "").split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return tuple(parts[1:])


def user_id_pattern(user_id):
    """The ``aws:userid`` pattern of a caller (GetCallerIdentity's UserId): an assumed-role session
    (``AROA...:session``) becomes ``AROA...:*``, so every session of that role matches whatever the
    role's path; an IAM user's id or the root user's account id stays as it is."""
    role_id, sep, _session = (user_id or "").partition(":")
    # Only a role id (AROA...): a federated user's aws:userid is "<account>:<name>", and "<account>:*"
    # would match every federated user of the account.
    return role_id + ":*" if sep and role_id.startswith("AROA") else user_id


def principal_arn(caller_arn):
    """The ARN that ``aws:PrincipalArn`` carries for a caller: an assumed-role session counts as
    its role (``arn:aws:sts::1:assumed-role/R/s`` -> ``arn:aws:iam::1:role/R``; a role path is not
    visible in the session ARN, so roles with a path must be listed explicitly)."""
    match = re.match(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+$", caller_arn)
    if match:
        partition, account, name = match.groups()
        return role_arn(name, account, partition)
    return caller_arn
