# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is every notebook of a region isolated today?  Read-only audit behind ``isolation_audit``.

Layout:
- ``FINDINGS``: every finding id with its severity, title and remediation (the module documents them).
- Pure checks (``check_notebook``, ``check_network``, ``check_role``, ``check_lifecycle``,
  ``check_bucket``, the policy analysers): already-fetched API data in, findings out.  No AWS.
- ``ResourceCache``: fetches each notebook once and each distinct subnet, route table set, endpoint
  list, role, managed policy, lifecycle configuration, script object and bucket once per run, and
  counts the calls per service and operation with botocore ``before-parameter-build`` events.
- ``audit()``: ties them together and builds the module result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import datetime
import fnmatch
import hashlib
import json
import re
import shlex

try:
    from urllib.parse import unquote
except ImportError:  # Python 2 (never used: the collection needs Python 3)
    from urllib import unquote

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = Exception

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    NotebooksError,
    error_code,
    is_not_found,
    snake,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.isolation import (
    effective_route_table,
    offending_routes,
)

SEVERITIES = ("high", "medium", "low")
RANK = {"never": 4, "high": 3, "medium": 2, "low": 1, "none": 0}
FAIL_ON = ("high", "medium", "low", "never")
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# AWS caps a filter at 200 values.
FILTER_CHUNK = 200
# Script objects are small (autostop.py is a few KiB); a larger object is hashed all the same but
# read in chunks.
CHUNK = 1024 * 1024

# id: (severity, title, remediation).  ``isolated`` is false for a notebook with any high finding.
FINDINGS = {
    "direct-internet-access": (
        "high",
        "Direct internet access is enabled",
        "Recreate the notebook with DirectInternetAccess=Disabled in an isolated subnet (the setting is create-only).",
    ),
    "no-subnet": (
        "high",
        "The notebook is not in a VPC subnet",
        "Recreate the notebook with a SubnetId of an isolated subnet and DirectInternetAccess=Disabled.",
    ),
    "subnet-egress-route": (
        "high",
        "The subnet's route table routes a default route out of the VPC",
        "Remove the route from the route table, or move the notebook to a subnet whose route table has none.",
    ),
    "s3-endpoint-missing": (
        "medium",
        "No S3 gateway endpoint on the subnet's route table",
        "Add the route table to the VPC's S3 gateway endpoint (or create one) so the notebook reaches its "
        "lifecycle script through a policy-restricted path.",
    ),
    "s3-endpoint-policy-allow-all": (
        "high",
        "The S3 endpoint policy allows all actions or all resources",
        "Replace the endpoint policy with read-only access to the script prefix "
        "(secure_sagemaker.notebooks.s3_endpoint_policy); the AWS default policy lets the VPC reach every bucket.",
    ),
    "s3-endpoint-policy-write": (
        "high",
        "The S3 endpoint policy grants write actions",
        "Allow only s3:GetObject/s3:ListBucket on the script prefix; writes through the endpoint are an "
        "exfiltration path.",
    ),
    "sagemaker-api-endpoint-missing": (
        "medium",
        "No SageMaker API interface endpoint in the VPC",
        "Create an interface endpoint for com.amazonaws.<region>.sagemaker.api with private DNS; without it "
        "autostop cannot stop the notebook.",
    ),
    "role-wildcard-action": (
        "high",
        "The execution role allows '*' actions",
        "Replace the statement with the actions the notebook needs, on named resources.",
    ),
    "role-s3-full-access": (
        "high",
        "The execution role allows s3:*",
        "Grant s3:GetObject on the script prefix (and the data prefixes the notebook needs) instead of s3:*.",
    ),
    "role-passrole-any": (
        "high",
        "The execution role allows iam:PassRole on any role",
        "Remove iam:PassRole or scope it to the role ARNs the notebook must pass.",
    ),
    "role-wildcard-resource": (
        "medium",
        "The execution role allows actions on '*' resources",
        "Scope the statement's Resource to the ARNs the notebook needs.",
    ),
    "role-trust-no-source-account": (
        "medium",
        "The execution role's trust policy has no source-account condition",
        "Add Condition StringEquals aws:SourceAccount=<account> to the sts:AssumeRole statement "
        "(confused-deputy protection).",
    ),
    "lifecycle-config-missing": (
        "medium",
        "No lifecycle configuration",
        "Attach the autostop lifecycle configuration (the isolated_notebook role creates <prefix>-autostop).",
    ),
    "autostop-not-installed": (
        "medium",
        "The on-start script does not install the autostop",
        "Use the collection's on-start script, which installs autostop.py and schedules it.",
    ),
    "autostop-not-pinned": (
        "medium",
        "The on-start script installs an autostop without a pinned SHA-256",
        "Pin the script: BUCKET, KEY and SHA256 lines as in the collection's on-start template.",
    ),
    "autostop-sha256-mismatch": (
        "high",
        "The script object in S3 does not match the pinned SHA-256",
        "Find out who changed the object (bucket versioning, CloudTrail), restore the released autostop.py and "
        "re-run the role; the on-start script refuses the copy, so the notebook cannot start.",
    ),
    "root-access-enabled": (
        "medium",
        "Root access is enabled",
        "Set RootAccess=Disabled (update the stopped notebook), or allow it explicitly with allow_root_access.",
    ),
    "imdsv1-allowed": (
        "medium",
        "Instance metadata service version 1 is allowed",
        "Set InstanceMetadataServiceConfiguration.MinimumInstanceMetadataServiceVersion=2 (update the stopped "
        "notebook).",
    ),
    "bucket-public-access-not-blocked": (
        "high",
        "The script bucket does not block all public access",
        "Turn on all four public access block settings of the bucket.",
    ),
    "bucket-policy-public": (
        "high",
        "The script bucket policy allows anyone",
        "Remove the unconditional Allow statement for Principal '*'.",
    ),
    "bucket-not-encrypted": (
        "low",
        "The script bucket has no default encryption",
        "Set default encryption (AES256 or aws:kms) on the bucket.",
    ),
    "bucket-policy-no-tls-deny": (
        "medium",
        "The script bucket policy does not deny insecure transport",
        "Add a Deny on s3:* for aws:SecureTransport=false (Sid DenyInsecureTransport in "
        "secure_sagemaker.notebooks.bucket_policy).",
    ),
    "bucket-policy-no-endpoint-deny": (
        "medium",
        "The script bucket policy does not deny requests from outside the VPC endpoint",
        "Add a Deny on s3:* unless aws:SourceVpce is the S3 endpoint (Sid DenyOutsideVpcEndpoint in "
        "secure_sagemaker.notebooks.bucket_policy).",
    ),
    "check-failed": (
        "high",
        "A check could not be made",
        "Grant the auditor read access to the resource (see the module's notes), or fix the missing resource.",
    ),
}
# A check that cannot be made about the network or the role leaves isolation unproven (high); one
# about the lifecycle script or its bucket does not (medium).
CHECK_FAILED_SEVERITY = {
    "subnet": "high",
    "route-table": "high",
    "role": "high",
    "lifecycle-config": "medium",
    "script": "medium",
    "bucket": "medium",
}

S3_READ_ACTION = re.compile(r"^s3:(get|list)[a-z0-9]*\*?$")
WILDCARD_RESOURCE = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$")
GONE_ENDPOINT_STATES = ("deleting", "deleted", "failed", "rejected", "expired")
SCRIPT_LINE = re.compile(r"^\s*(BUCKET|KEY|SHA256)=(.*)$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Errors that make a check impossible without failing the whole audit.
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def finding(finding_id, resource, message, evidence, severity=None):
    default_severity, title, remediation = FINDINGS[finding_id]
    return {
        "id": finding_id,
        "severity": severity or default_severity,
        "title": title,
        "resource": resource,
        "message": message,
        "evidence": evidence,
        "remediation": remediation,
    }


def check_failed(kind, resource, operation, error):
    return finding(
        "check-failed",
        resource,
        "%s %s could not be read (%s: %s)" % (kind, resource, operation, error),
        {"check": kind, "resource": resource, "operation": operation, "error": error},
        severity=CHECK_FAILED_SEVERITY[kind],
    )


# --- validation ------------------------------------------------------------------------------------


def validate(params):
    """Checks the options before any AWS call; returns the normalised spec."""
    names = params.get("names")
    if names is not None:
        if not names:
            raise NotebooksError(
                "names: give at least one notebook name, or omit names to audit every notebook of the region",
                field="names",
            )
        for index, name in enumerate(names):
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                raise NotebooksError(
                    "names[%d]: %r is not a notebook instance name (letters, digits and single hyphens, start "
                    "and end alphanumeric, at most 63 characters)" % (index, name),
                    field="names",
                )
        names = list(dict.fromkeys(names))
    fail_on = params.get("fail_on") or "never"
    if fail_on not in FAIL_ON:
        raise NotebooksError("fail_on: must be one of %s (got %r)" % (", ".join(FAIL_ON), fail_on), field="fail_on")
    return {"names": names, "fail_on": fail_on, "allow_root_access": bool(params.get("allow_root_access"))}


# --- policy documents ------------------------------------------------------------------------------


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_document(document):
    """A policy document as a dict, from a dict, JSON text or URL-encoded JSON (IAM's wire form)."""
    if document is None or isinstance(document, dict):
        return document
    text = document
    if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
        text = unquote(text)
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


def statements(document):
    return [s for s in as_list((document or {}).get("Statement")) if isinstance(s, dict)]


def is_wildcard_resource(resource):
    return resource == "*" or bool(WILDCARD_RESOURCE.match(resource or ""))


def _allows(statement):
    return str(statement.get("Effect", "")).lower() == "allow"


def _principal_is_anyone(principal):
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


def check_s3_endpoint_policy(document, endpoint_id, route_table_id):
    """S3 gateway endpoint policy: no ``*``/``s3:*`` actions, no ``*`` resources, no writes."""
    found = []
    if document is None:
        # AWS never returns an endpoint without a policy; none means the default, full access.
        document = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    for statement in statements(document):
        if not _allows(statement):
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        evidence = {"vpc_endpoint_id": endpoint_id, "route_table_id": route_table_id, "statement": statement}
        everything = (
            "NotAction" in statement
            or "NotResource" in statement
            or any(a in ("*", "s3:*") or a.lower() == "s3:*" for a in actions)
            or any(is_wildcard_resource(r) for r in resources)
        )
        if everything:
            found.append(
                finding(
                    "s3-endpoint-policy-allow-all",
                    endpoint_id,
                    "endpoint %s allows %s on %s"
                    % (endpoint_id, ", ".join(actions) or "NotAction", ", ".join(resources) or "NotResource"),
                    evidence,
                )
            )
            continue
        writes = [a for a in actions if not S3_READ_ACTION.match(a.lower())]
        if writes:
            evidence = dict(evidence, write_actions=writes)
            found.append(
                finding(
                    "s3-endpoint-policy-write",
                    endpoint_id,
                    "endpoint %s allows %s" % (endpoint_id, ", ".join(writes)),
                    evidence,
                )
            )
    return found


def check_identity_policy(document, role, source):
    """Execution-role statements broader than the design needs."""
    found = []
    for statement in statements(document):
        if not _allows(statement):
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        any_resource = "NotResource" in statement or any(is_wildcard_resource(r) for r in resources)
        evidence = dict(source, role=role, statement=statement)
        lowered = [a.lower() for a in actions]
        wildcard = [a for a in actions if a == "*" or (a.endswith(":*") and a.lower() != "s3:*")]
        if "NotAction" in statement:
            wildcard.append("NotAction")
        if wildcard:
            found.append(finding("role-wildcard-action", role, "%s allows %s" % (role, ", ".join(wildcard)), evidence))
        if "s3:*" in lowered:
            found.append(finding("role-s3-full-access", role, "%s allows s3:*" % role, evidence))
        passes = "NotAction" in statement or any(fnmatch.fnmatchcase("iam:passrole", a) for a in lowered)
        if passes and any_resource:
            found.append(finding("role-passrole-any", role, "%s allows iam:PassRole on any role" % role, evidence))
        if any_resource:
            found.append(
                finding(
                    "role-wildcard-resource",
                    role,
                    "%s allows %s on %s"
                    % (role, ", ".join(actions) or "NotAction", ", ".join(resources) or "NotResource"),
                    evidence,
                )
            )
    return found


def check_trust_policy(document, role):
    """Every statement that lets a principal assume the role must name the source account (or ARN)."""
    found = []
    for statement in statements(document):
        if not _allows(statement):
            continue
        actions = [str(a).lower() for a in as_list(statement.get("Action"))]
        if not any(fnmatch.fnmatchcase("sts:assumerole", a) for a in actions):
            continue
        keys = set()
        for conditions in (statement.get("Condition") or {}).values():
            keys.update(str(k).lower() for k in (conditions or {}))
        if not keys & {"aws:sourceaccount", "aws:sourcearn"}:
            found.append(
                finding(
                    "role-trust-no-source-account",
                    role,
                    "%s can be assumed without an aws:SourceAccount or aws:SourceArn condition" % role,
                    {"role": role, "statement": statement},
                )
            )
    return found


def _covers_s3(statement):
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(a in ("*", "s3:*") for a in actions)


def _condition_values(statement, operators, key):
    for operator, conditions in (statement.get("Condition") or {}).items():
        if operator in operators:
            for name, value in (conditions or {}).items():
                if name.lower() == key:
                    return [str(v).lower() for v in as_list(value)]
    return None


def check_bucket_policy(document, bucket):
    found = []
    tls_deny = endpoint_deny = False
    for statement in statements(document):
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny" and _covers_s3(statement) and _principal_is_anyone(statement.get("Principal")):
            if _condition_values(statement, ("Bool", "BoolIfExists"), "aws:securetransport") == ["false"]:
                tls_deny = True
            operators = ("StringNotEquals", "StringNotEqualsIfExists", "StringNotLike", "StringNotLikeIfExists")
            if _condition_values(statement, operators, "aws:sourcevpce") or _condition_values(
                statement, operators, "aws:sourcevpc"
            ):
                endpoint_deny = True
        if effect == "allow" and _principal_is_anyone(statement.get("Principal")) and not statement.get("Condition"):
            found.append(
                finding(
                    "bucket-policy-public",
                    bucket,
                    "bucket %s policy allows anyone %s"
                    % (bucket, ", ".join(str(a) for a in as_list(statement.get("Action")))),
                    {"bucket": bucket, "statement": statement},
                )
            )
    sids = [s.get("Sid") for s in statements(document) if s.get("Sid")]
    if not tls_deny:
        found.append(
            finding(
                "bucket-policy-no-tls-deny",
                bucket,
                "bucket %s policy has no Deny for aws:SecureTransport=false" % bucket,
                {"bucket": bucket, "policy_present": document is not None, "statement_sids": sids},
            )
        )
    if not endpoint_deny:
        found.append(
            finding(
                "bucket-policy-no-endpoint-deny",
                bucket,
                "bucket %s policy has no Deny for requests outside the VPC endpoint" % bucket,
                {"bucket": bucket, "policy_present": document is not None, "statement_sids": sids},
            )
        )
    return found


# --- pure checks over fetched data -----------------------------------------------------------------


def check_notebook(notebook, allow_root_access=False):
    """Settings of the notebook itself (DescribeNotebookInstance shape)."""
    name = notebook["NotebookInstanceName"]
    found = []
    if notebook.get("DirectInternetAccess") == "Enabled":
        found.append(
            finding(
                "direct-internet-access",
                name,
                "%s has direct internet access" % name,
                {"direct_internet_access": "Enabled"},
            )
        )
    if not notebook.get("SubnetId"):
        found.append(
            finding(
                "no-subnet", name, "%s has no subnet: it runs in the SageMaker service VPC" % name, {"subnet_id": None}
            )
        )
    if notebook.get("RootAccess", "Enabled") == "Enabled" and not allow_root_access:
        found.append(
            finding(
                "root-access-enabled",
                name,
                "%s has root access enabled" % name,
                {"root_access": notebook.get("RootAccess", "Enabled")},
            )
        )
    imds = (notebook.get("InstanceMetadataServiceConfiguration") or {}).get("MinimumInstanceMetadataServiceVersion")
    if imds in (None, "1"):
        found.append(
            finding(
                "imdsv1-allowed", name, "%s allows IMDSv1" % name, {"minimum_instance_metadata_service_version": imds}
            )
        )
    if not notebook.get("NotebookInstanceLifecycleConfigName"):
        found.append(
            finding(
                "lifecycle-config-missing",
                name,
                "%s has no lifecycle configuration" % name,
                {"lifecycle_config_name": None},
            )
        )
    return found


def is_s3_gateway(endpoint):
    return (
        (endpoint.get("VpcEndpointType") or "Gateway").lower() == "gateway"
        and (endpoint.get("ServiceName") or "").endswith(".s3")
        and (endpoint.get("State") or "").lower() not in GONE_ENDPOINT_STATES
    )


def is_sagemaker_api(endpoint):
    return (
        (endpoint.get("VpcEndpointType") or "").lower() == "interface"
        and (endpoint.get("ServiceName") or "").endswith(".sagemaker.api")
        and (endpoint.get("State") or "").lower() not in GONE_ENDPOINT_STATES
    )


def check_network(subnet_id, subnet, route_tables, endpoints, region):
    """The subnet's effective route table and the VPC's endpoints.

    ``subnet``: DescribeSubnets shape (None: not found); ``route_tables``: the VPC's tables in
    amazon.aws's snake_case shape; ``endpoints``: the VPC's endpoints (DescribeVpcEndpoints shape).
    """
    if subnet is None:
        return [check_failed("subnet", subnet_id, "DescribeSubnets", "not found")]
    vpc_id = subnet["VpcId"]
    table = effective_route_table(route_tables, subnet_id)
    if table is None:
        return [
            check_failed(
                "route-table",
                subnet_id,
                "DescribeRouteTables",
                "no route table is associated with the subnet and the VPC has no main table",
            )
        ]
    table_id = table["route_table_id"]
    found = []
    for route in offending_routes(table.get("routes")):
        found.append(
            finding(
                "subnet-egress-route",
                table_id,
                "%s: route table %s: %s" % (subnet_id, table_id, route["reason"]),
                {
                    "subnet_id": subnet_id,
                    "route_table_id": table_id,
                    "destination": route["destination"],
                    "target": route["target"],
                    "kind": route["kind"],
                },
            )
        )
    gateways = [e for e in endpoints if is_s3_gateway(e)]
    on_table = [e for e in gateways if table_id in (e.get("RouteTableIds") or [])]
    if not on_table:
        found.append(
            finding(
                "s3-endpoint-missing",
                table_id,
                "route table %s of %s has no S3 gateway endpoint" % (table_id, subnet_id),
                {
                    "subnet_id": subnet_id,
                    "vpc_id": vpc_id,
                    "route_table_id": table_id,
                    "s3_gateway_endpoints": [
                        {"vpc_endpoint_id": e["VpcEndpointId"], "route_table_ids": sorted(e.get("RouteTableIds") or [])}
                        for e in gateways
                    ],
                },
            )
        )
    for endpoint in on_table:
        found.extend(
            check_s3_endpoint_policy(
                parse_document(endpoint.get("PolicyDocument")), endpoint["VpcEndpointId"], table_id
            )
        )
    if not any(is_sagemaker_api(e) for e in endpoints):
        service = "com.amazonaws.%s.sagemaker.api" % region
        found.append(
            finding(
                "sagemaker-api-endpoint-missing",
                vpc_id,
                "VPC %s has no %s interface endpoint" % (vpc_id, service),
                {"vpc_id": vpc_id, "service_name": service},
            )
        )
    return found


def check_role(role):
    """``role``: {"arn", "trust_policy", "policies": [{"policy_arn"|"inline_policy": ..., "document"}]}."""
    arn = role["arn"]
    found = check_trust_policy(role.get("trust_policy"), arn)
    for policy in role.get("policies", []):
        source = dict((k, v) for k, v in policy.items() if k != "document")
        found.extend(check_identity_policy(policy.get("document"), arn, source))
    return found


def parse_on_start(text):
    """What the on-start script pins: ``BUCKET=``, ``KEY=``, ``SHA256=`` lines (bare or shell-quoted
    values), and whether it installs and schedules autostop.py."""
    pinned = {}
    for line in (text or "").splitlines():
        match = SCRIPT_LINE.match(line)
        if not match or match.group(1).lower() in pinned:
            continue
        try:
            words = shlex.split(match.group(2), comments=True)
        except ValueError:
            continue
        if len(words) == 1:
            pinned[match.group(1).lower()] = words[0]
    installs = "autostop.py" in (text or "") and bool(re.search(r"\b(crontab|systemctl)\b", text or ""))
    sha = (pinned.get("sha256") or "").lower()
    return {
        "installs_autostop": installs,
        "bucket": pinned.get("bucket"),
        "key": pinned.get("key"),
        "sha256": sha if SHA256.match(sha) else None,
    }


def on_start_text(config):
    hooks = (config or {}).get("OnStart") or []
    if not hooks:
        return None
    try:
        return base64.b64decode(hooks[0].get("Content") or "").decode("utf-8", "replace")
    except (TypeError, ValueError):
        return ""


def check_lifecycle(name, config, script=None):
    """``config``: DescribeNotebookInstanceLifecycleConfig shape (None: not found).
    ``script``: {"sha256"} or {"error", "operation"} of the pinned object, when the script is pinned."""
    if config is None:
        return [
            finding(
                "lifecycle-config-missing",
                name,
                "lifecycle configuration %s does not exist" % name,
                {"lifecycle_config_name": name, "error": "not found"},
            )
        ]
    text = on_start_text(config)
    parsed = parse_on_start(text)
    if not parsed["installs_autostop"]:
        reason = "no OnStart hook" if text is None else "the OnStart script does not fetch and schedule autostop.py"
        return [
            finding(
                "autostop-not-installed",
                name,
                "lifecycle configuration %s: %s" % (name, reason),
                {"lifecycle_config_name": name, "reason": reason},
            )
        ]
    if not (parsed["bucket"] and parsed["key"] and parsed["sha256"]):
        missing = [k.upper() for k in ("bucket", "key", "sha256") if not parsed[k]]
        return [
            finding(
                "autostop-not-pinned",
                name,
                "lifecycle configuration %s installs autostop.py without %s" % (name, ", ".join(missing)),
                {"lifecycle_config_name": name, "missing": missing},
            )
        ]
    if script is None:
        return []
    location = "s3://%s/%s" % (parsed["bucket"], parsed["key"])
    if script.get("error"):
        return [check_failed("script", location, script["operation"], script["error"])]
    if script["sha256"] != parsed["sha256"]:
        return [
            finding(
                "autostop-sha256-mismatch",
                location,
                "%s has SHA-256 %s, lifecycle configuration %s pins %s"
                % (location, script["sha256"], name, parsed["sha256"]),
                {
                    "lifecycle_config_name": name,
                    "bucket": parsed["bucket"],
                    "key": parsed["key"],
                    "expected_sha256": parsed["sha256"],
                    "actual_sha256": script["sha256"],
                },
            )
        ]
    return []


PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def check_bucket(bucket, data):
    """``data``: {"public_access_block": dict|None, "encryption": dict|None, "policy": dict|None,
    "errors": [{"operation", "error"}]} as ``ResourceCache.bucket`` returns it."""
    found = [check_failed("bucket", bucket, e["operation"], e["error"]) for e in data.get("errors", [])]
    failed = set(e["operation"] for e in data.get("errors", []))
    if "GetPublicAccessBlock" not in failed:
        block = data.get("public_access_block") or {}
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if not block.get(flag)]
        if off:
            found.append(
                finding(
                    "bucket-public-access-not-blocked",
                    bucket,
                    "bucket %s does not set %s" % (bucket, ", ".join(off)),
                    {
                        "bucket": bucket,
                        "public_access_block": dict((f, bool(block.get(f))) for f in PUBLIC_ACCESS_FLAGS)
                        if data.get("public_access_block") is not None
                        else None,
                        "not_set": off,
                    },
                )
            )
    if "GetBucketEncryption" not in failed and not (data.get("encryption") or {}).get("Rules"):
        found.append(
            finding(
                "bucket-not-encrypted",
                bucket,
                "bucket %s has no default encryption" % bucket,
                {"bucket": bucket, "encryption": None},
            )
        )
    if "GetBucketPolicy" not in failed:
        found.extend(check_bucket_policy(data.get("policy"), bucket))
    return found


# --- fetching, once per resource -------------------------------------------------------------------


def _chunks(items, size=FILTER_CHUNK):
    items = sorted(items)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _pages(call, key, **kwargs):
    """Every item of a NextToken-paginated call."""
    items, token = [], None
    while True:
        page = call(NextToken=token, aws_retry=True, **kwargs) if token else call(aws_retry=True, **kwargs)
        items.extend(page.get(key) or [])
        token = page.get("NextToken")
        if not token:
            return items


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
        return dict((service, sum(ops.values())) for service, ops in sorted(self.calls.items()))

    def _once(self, key, fetch):
        if key not in self._memo:
            self._memo[key] = fetch()
        return self._memo[key]

    # SageMaker
    def notebook_names(self):
        items = _pages(self.clients["sagemaker"].list_notebook_instances, "NotebookInstances", MaxResults=100)
        return sorted(set(i["NotebookInstanceName"] for i in items))

    def notebook(self, name):
        try:
            result = self.clients["sagemaker"].describe_notebook_instance(NotebookInstanceName=name, aws_retry=True)
        except (BotoCoreError, ClientError) as e:
            if is_not_found(e):
                return None
            raise
        result.pop("ResponseMetadata", None)
        return result

    def lifecycle_config(self, name):
        def fetch():
            try:
                return self.clients["sagemaker"].describe_notebook_instance_lifecycle_config(
                    NotebookInstanceLifecycleConfigName=name, aws_retry=True
                )
            except (BotoCoreError, ClientError) as e:
                if is_not_found(e):
                    return None
                if error_code(e) in DENIED:
                    return {"error": error_code(e), "operation": "DescribeNotebookInstanceLifecycleConfig"}
                raise

        return self._once(("lcc", name), fetch)

    # EC2: one call per kind for the whole fleet
    def subnets(self, subnet_ids):
        found = {}
        for chunk in _chunks(subnet_ids):
            for subnet in _pages(
                self.clients["ec2"].describe_subnets, "Subnets", Filters=[{"Name": "subnet-id", "Values": chunk}]
            ):
                found[subnet["SubnetId"]] = subnet
        return found

    def route_tables(self, vpc_ids):
        found = dict((vpc, []) for vpc in vpc_ids)
        for chunk in _chunks(vpc_ids):
            for table in _pages(
                self.clients["ec2"].describe_route_tables, "RouteTables", Filters=[{"Name": "vpc-id", "Values": chunk}]
            ):
                found.setdefault(table["VpcId"], []).append(snake(table))
        return found

    def endpoints(self, vpc_ids):
        found = dict((vpc, []) for vpc in vpc_ids)
        for chunk in _chunks(vpc_ids):
            for endpoint in _pages(
                self.clients["ec2"].describe_vpc_endpoints,
                "VpcEndpoints",
                Filters=[{"Name": "vpc-id", "Values": chunk}],
            ):
                found.setdefault(endpoint["VpcId"], []).append(endpoint)
        return found

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
            attached = self._marker_pages(iam.list_attached_role_policies, "AttachedPolicies", RoleName=name)
            for policy in attached:
                policies.append(
                    {"policy_arn": policy["PolicyArn"], "document": self.managed_policy(policy["PolicyArn"])}
                )
            for policy_name in self._marker_pages(iam.list_role_policies, "PolicyNames", RoleName=name):
                document = iam.get_role_policy(RoleName=name, PolicyName=policy_name, aws_retry=True)
                policies.append({"inline_policy": policy_name, "document": parse_document(document["PolicyDocument"])})
            return {
                "arn": arn,
                "trust_policy": parse_document(role.get("AssumeRolePolicyDocument")),
                "policies": policies,
            }

        return self._once(("role", arn), fetch)

    @staticmethod
    def _marker_pages(call, key, **kwargs):
        """IAM paginates with Marker/IsTruncated."""
        items, marker = [], None
        while True:
            page = call(Marker=marker, aws_retry=True, **kwargs) if marker else call(aws_retry=True, **kwargs)
            items.extend(page.get(key) or [])
            if not page.get("IsTruncated"):
                return items
            marker = page.get("Marker")

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


# --- the audit -------------------------------------------------------------------------------------


def _counts(findings):
    counts = dict((s, 0) for s in SEVERITIES)
    for item in findings:
        counts[item["severity"]] += 1
    counts["total"] = len(findings)
    return counts


def highest_severity(findings):
    present = set(f["severity"] for f in findings)
    for severity in SEVERITIES:
        if severity in present:
            return severity
    return "none"


def audit(cache, spec, region, now=None):
    """Audit the named notebooks (all of the region when ``spec["names"]`` is None); the module result."""
    names = spec["names"] if spec["names"] is not None else cache.notebook_names()
    described, not_found = [], []
    for name in names:
        notebook = cache.notebook(name)
        if notebook is None:
            not_found.append(name)
        else:
            described.append(notebook)

    subnet_ids = set(n["SubnetId"] for n in described if n.get("SubnetId"))
    subnets = cache.subnets(subnet_ids) if subnet_ids else {}
    vpc_ids = set(s["VpcId"] for s in subnets.values())
    tables = cache.route_tables(vpc_ids) if vpc_ids else {}
    endpoints = cache.endpoints(vpc_ids) if vpc_ids else {}

    memo = {}

    def once(key, compute, *args):
        if key not in memo:
            memo[key] = compute(*args)
        return copy.deepcopy(memo[key])

    def lifecycle(name):
        config = cache.lifecycle_config(name)
        if config is None:
            return check_lifecycle(name, None)
        if config.get("error"):
            return [check_failed("lifecycle-config", name, config["operation"], config["error"])]
        parsed = parse_on_start(on_start_text(config))
        pinned = parsed["installs_autostop"] and parsed["bucket"] and parsed["key"] and parsed["sha256"]
        script = cache.script(parsed["bucket"], parsed["key"]) if pinned else None
        found = check_lifecycle(name, config, script)
        if parsed["bucket"]:
            found.extend(once(("bucket", parsed["bucket"]), bucket, parsed["bucket"]))
        return found

    def bucket(name):
        return check_bucket(name, cache.bucket(name))

    def role(arn):
        data = cache.role(arn)
        if data.get("error"):
            return [check_failed("role", arn, data["operation"], data["error"])]
        return check_role(data)

    results = []
    for notebook in described:
        name = notebook["NotebookInstanceName"]
        findings = check_notebook(notebook, spec["allow_root_access"])
        subnet_id = notebook.get("SubnetId")
        subnet = subnets.get(subnet_id)
        vpc_id = subnet["VpcId"] if subnet else None
        if subnet_id:
            findings.extend(
                once(
                    ("network", subnet_id),
                    check_network,
                    subnet_id,
                    subnet,
                    tables.get(vpc_id, []),
                    endpoints.get(vpc_id, []),
                    region,
                )
            )
        if notebook.get("RoleArn"):
            findings.extend(once(("role", notebook["RoleArn"]), role, notebook["RoleArn"]))
        lcc = notebook.get("NotebookInstanceLifecycleConfigName")
        if lcc:
            findings.extend(once(("lcc", lcc), lifecycle, lcc))
        findings.sort(key=lambda f: (-RANK[f["severity"]], f["id"], f["resource"] or ""))
        results.append(
            {
                "name": name,
                "arn": notebook.get("NotebookInstanceArn"),
                "status": notebook.get("NotebookInstanceStatus"),
                "subnet_id": subnet_id,
                "vpc_id": vpc_id,
                "role_arn": notebook.get("RoleArn"),
                "lifecycle_config_name": lcc,
                "direct_internet_access": notebook.get("DirectInternetAccess"),
                "isolated": not any(f["severity"] == "high" for f in findings),
                "counts": _counts(findings),
                "findings": findings,
            }
        )

    results.sort(key=lambda n: n["name"])
    every = [f for n in results for f in n["findings"]]
    isolated = sum(1 for n in results if n["isolated"])
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return {
        "changed": False,
        "region": region,
        "audited_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "notebooks": results,
        "not_found": not_found,
        "counts": _counts(every),
        "summary": {"notebooks": len(results), "isolated": isolated, "not_isolated": len(results) - isolated},
        "highest_severity": highest_severity(every),
        "aws_calls": cache.totals(),
        "aws_calls_by_operation": dict((s, dict(sorted(o.items()))) for s, o in sorted(cache.calls.items())),
    }


def reaches(result, fail_on):
    """Whether any finding is at or above ``fail_on`` (never: never)."""
    return RANK[result["highest_severity"]] >= RANK[fail_on]


def failure_message(result, fail_on):
    offenders = [
        n["name"] for n in result["notebooks"] if any(RANK[f["severity"]] >= RANK[fail_on] for f in n["findings"])
    ]
    counts = result["counts"]
    return "%d of %d notebooks have findings of severity %s or higher (%d high, %d medium, %d low): %s" % (
        len(offenders),
        result["summary"]["notebooks"],
        fail_on,
        counts["high"],
        counts["medium"],
        counts["low"],
        ", ".join(offenders),
    )
