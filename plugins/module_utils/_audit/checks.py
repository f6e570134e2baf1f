# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's checks over already-fetched API data: the notebook's own settings, its network (the
subnet's effective route table and the VPC's endpoints), its execution role, its lifecycle
configuration (the on-start script and the pinned script object) and the script bucket.  API
shapes in, findings out; no AWS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re
import shlex

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.findings import check_failed, finding
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.policy import (
    check_bucket_policy,
    check_identity_policy,
    check_s3_endpoint_policy,
    check_trust_policy,
    parse_document,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.isolation import (
    effective_route_table,
    offending_routes,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import is_service

SCRIPT_LINE = re.compile(r"^\s*(BUCKET|KEY|SHA256)=(.*)$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


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
    if not notebook.get("KmsKeyId"):
        found.append(
            finding(
                "volume-no-customer-key",
                name,
                "%s has no customer managed KMS key on its ML storage volume; only a replacement adds one" % name,
                {"kms_key_id": None},
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


def check_network(subnet_id, subnet, route_tables, endpoints, region, notebook_roles=()):
    """The subnet's effective route table and the VPC's endpoints.

    ``subnet``: DescribeSubnets shape (None: not found); ``route_tables``: the VPC's tables in
    amazon.aws's snake_case shape; ``endpoints``: the VPC's endpoints (DescribeVpcEndpoints shape);
    ``notebook_roles``: the execution roles of the VPC's audited notebooks (whose data grants may write).
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
    # The role's preflight refuses a subnet with the same classifier (isolation.py, every Route target).
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
    gateways = [e for e in endpoints if is_service(e, "s3", "Gateway")]
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
                parse_document(endpoint.get("PolicyDocument")), endpoint["VpcEndpointId"], table_id, notebook_roles
            )
        )
    if not any(is_service(e, "sagemaker.api", "Interface") for e in endpoints):
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


def pinned_script(parsed):
    """(bucket, key) of the autostop.py that a parsed on-start script installs with a pinned SHA-256
    (the object whose digest ``check_lifecycle`` compares), or None."""
    if parsed["installs_autostop"] and parsed["bucket"] and parsed["key"] and parsed["sha256"]:
        return parsed["bucket"], parsed["key"]
    return None


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
