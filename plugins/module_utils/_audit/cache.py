# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's reads: ``ResourceCache`` fetches each notebook once and each distinct subnet, route
table set, endpoint list, role, managed policy, lifecycle configuration, script object and bucket
once per run, and counts the calls per service and operation with botocore
``before-parameter-build`` events.  Reads go through the collection's read layer (``aws.pages``,
``aws.describe_or_none``); a denied or missing resource becomes data for a ``check-failed``
finding, not a failed audit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = Exception

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.policy import parse_document
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    describe_or_none,
    error_code,
    lifecycle_config_missing,
    pages,
    snake,
)

# AWS caps a filter at 200 values.
FILTER_CHUNK = 200
# Script objects are small (autostop.py is a few KiB); a larger object is hashed all the same but
# read in chunks.
CHUNK = 1024 * 1024
# Errors that make a check impossible without failing the whole audit.
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def call_totals(calls):
    """{service: {operation: n}} -> {service: calls}."""
    return dict((service, sum(ops.values())) for service, ops in sorted(calls.items()))


def _chunks(items, size=FILTER_CHUNK):
    items = sorted(items)
    return [items[i : i + size] for i in range(0, len(items), size)]


class ResourceCache:
    """Fetches every resource once per run and counts the calls by service and operation.

    ``clients``: {"sagemaker", "ec2", "iam", "s3"} -> boto3 clients (with the collection's retry
    wrapper: methods take ``aws_retry``).
    """

    def __init__(self, clients):
        self.clients = clients
        self.calls = {}
        self._memo = {}
        for service_client in clients.values():
            # Fires once per API call, before anything (a stubbed or cached response included) can
            # answer it; botocore's own retries happen later, inside the call, and are not counted.
            service_client.meta.events.register("before-parameter-build", self._count)

    def _count(self, model=None, **kwargs):
        service = model.service_model.service_name
        by_operation = self.calls.setdefault(service, {})
        by_operation[model.name] = by_operation.get(model.name, 0) + 1
        return None

    def totals(self):
        return call_totals(self.calls)

    def _once(self, key, fetch):
        if key not in self._memo:
            self._memo[key] = fetch()
        return self._memo[key]

    # SageMaker
    def notebook_names(self):
        items = pages(self.clients["sagemaker"], "list_notebook_instances", "NotebookInstances", page_size=100)
        return sorted(set(i["NotebookInstanceName"] for i in items))

    def notebook(self, name):
        return describe_or_none(self.clients["sagemaker"].describe_notebook_instance, NotebookInstanceName=name)

    def lifecycle_config(self, name):
        def fetch():
            try:
                return describe_or_none(
                    self.clients["sagemaker"].describe_notebook_instance_lifecycle_config,
                    missing=lifecycle_config_missing,
                    NotebookInstanceLifecycleConfigName=name,
                )
            except (BotoCoreError, ClientError) as e:
                if error_code(e) in DENIED:
                    return {"error": error_code(e), "operation": "DescribeNotebookInstanceLifecycleConfig"}
                raise

        return self._once(("lcc", name), fetch)

    # EC2: one call per kind for the whole fleet
    def _filtered(self, operation, key, name, values):
        """Every item of ``operation`` whose filter ``name`` is one of ``values``."""
        items = []
        for chunk in _chunks(values):
            items.extend(pages(self.clients["ec2"], operation, key, Filters=[{"Name": name, "Values": chunk}]))
        return items

    def subnets(self, subnet_ids):
        return dict((s["SubnetId"], s) for s in self._filtered("describe_subnets", "Subnets", "subnet-id", subnet_ids))

    def route_tables(self, vpc_ids):
        found = dict((vpc, []) for vpc in vpc_ids)
        for table in self._filtered("describe_route_tables", "RouteTables", "vpc-id", vpc_ids):
            found.setdefault(table["VpcId"], []).append(snake(table))
        return found

    def endpoints(self, vpc_ids):
        found = dict((vpc, []) for vpc in vpc_ids)
        for endpoint in self._filtered("describe_vpc_endpoints", "VpcEndpoints", "vpc-id", vpc_ids):
            found.setdefault(endpoint["VpcId"], []).append(endpoint)
        return found

    def security_groups(self, group_ids):
        """{"groups": {id: group}} of the groups (one call per 200), or {"error", "operation"} when denied."""
        try:
            groups = self._filtered("describe_security_groups", "SecurityGroups", "group-id", group_ids)
        except ClientError as e:
            if error_code(e) in DENIED:
                return {"error": error_code(e), "operation": "DescribeSecurityGroups"}
            raise
        return {"groups": dict((g["GroupId"], g) for g in groups)}

    # IAM
    def managed_policy(self, arn):
        def fetch():
            iam = self.clients["iam"]
            version = iam.get_policy(PolicyArn=arn, aws_retry=True)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version, aws_retry=True)
            return parse_document(document["PolicyVersion"]["Document"])

        return self._once(("policy", arn), fetch)

    def role(self, arn):
        def fetch():
            try:
                return read()
            except ClientError as e:
                if error_code(e) in ("NoSuchEntity",) + DENIED:
                    return {"arn": arn, "error": error_code(e), "operation": e.operation_name}
                raise

        def read():
            iam = self.clients["iam"]
            name = arn.split("/")[-1]
            role = iam.get_role(RoleName=name, aws_retry=True)["Role"]
            policies = []
            for policy in pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
                policies.append(
                    {"policy_arn": policy["PolicyArn"], "document": self.managed_policy(policy["PolicyArn"])}
                )
            for policy_name in pages(iam, "list_role_policies", "PolicyNames", RoleName=name):
                document = iam.get_role_policy(RoleName=name, PolicyName=policy_name, aws_retry=True)
                policies.append({"inline_policy": policy_name, "document": parse_document(document["PolicyDocument"])})
            return {
                "arn": arn,
                "trust_policy": parse_document(role.get("AssumeRolePolicyDocument")),
                "policies": policies,
                # GetRole answers with the role's tags: the team of a notebook the role built, for free.
                "tags": dict((t["Key"], t["Value"]) for t in role.get("Tags") or []),
            }

        return self._once(("role", arn), fetch)

    # S3
    def script(self, bucket, key):
        def fetch():
            try:
                body = self.clients["s3"].get_object(Bucket=bucket, Key=key, aws_retry=True)["Body"]
            except (BotoCoreError, ClientError) as e:
                return {"operation": "GetObject", "error": error_code(e) or str(e)}
            digest = hashlib.sha256()
            for chunk in iter(lambda: body.read(CHUNK), b""):
                digest.update(chunk)
            return {"sha256": digest.hexdigest()}

        return self._once(("script", bucket, key), fetch)

    def bucket(self, name):
        def fetch():
            s3 = self.clients["s3"]
            data = {"public_access_block": None, "encryption": None, "policy": None, "errors": []}
            absent = {
                "GetPublicAccessBlock": "NoSuchPublicAccessBlockConfiguration",
                "GetBucketEncryption": "ServerSideEncryptionConfigurationNotFoundError",
                "GetBucketPolicy": "NoSuchBucketPolicy",
            }
            calls = (
                (
                    "GetPublicAccessBlock",
                    "public_access_block",
                    lambda: s3.get_public_access_block(Bucket=name, aws_retry=True)["PublicAccessBlockConfiguration"],
                ),
                (
                    "GetBucketEncryption",
                    "encryption",
                    lambda: s3.get_bucket_encryption(Bucket=name, aws_retry=True)["ServerSideEncryptionConfiguration"],
                ),
                (
                    "GetBucketPolicy",
                    "policy",
                    lambda: parse_document(s3.get_bucket_policy(Bucket=name, aws_retry=True)["Policy"]),
                ),
            )
            for operation, field, call in calls:
                try:
                    data[field] = call()
                except (BotoCoreError, ClientError) as e:
                    if error_code(e) != absent[operation]:
                        data["errors"].append({"operation": operation, "error": error_code(e) or str(e)})
            return data

        return self._once(("bucket", name), fetch)
