# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's findings: every id with its severity, title and remediation (the module documents
them all), the severity scale and the ``fail_on`` threshold, and the finding records the checks return.

A new finding id starts here; the check that raises it lives in ``checks.py`` or ``policy.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SEVERITIES = ("high", "medium", "low")
RANK = {"never": 4, "high": 3, "medium": 2, "low": 1, "none": 0}
FAIL_ON = ("high", "medium", "low", "never")

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
        "The subnet's route table routes public address space out of the VPC",
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
        "The S3 endpoint policy grants write actions to every principal in the VPC",
        "Allow only s3:GetObject/s3:ListBucket on the script prefix for everyone, and writes only to the "
        "principals granted them (aws:PrincipalArn); writes open to everyone are an exfiltration path.",
    ),
    "sagemaker-api-endpoint-missing": (
        "medium",
        "No SageMaker API interface endpoint in the VPC",
        "Create an interface endpoint for com.amazonaws.<region>.sagemaker.api with private DNS; without it "
        "autostop cannot stop the notebook.",
    ),
    # Lifecycle output (CloudWatch Logs): low, as losing it costs the reason a notebook failed to start,
    # not isolation.
    "lifecycle-logs-endpoint-missing": (
        "low",
        "The lifecycle output cannot reach CloudWatch Logs: no CloudWatch Logs interface endpoint with private DNS",
        "Create an interface endpoint for com.amazonaws.<region>.logs in the notebook's VPC with private DNS "
        "enabled, a security group admitting HTTPS from the notebook and a policy allowing logs:CreateLogStream "
        "and logs:PutLogEvents on log-group:/aws/sagemaker/NotebookInstances:log-stream:<notebook>/"
        "LifecycleConfigOn* (the isolated_notebook role does, isolated_notebook_logs_endpoint).",
    ),
    "lifecycle-logs-blocked": (
        "low",
        "The security groups do not let the notebook reach the CloudWatch Logs endpoint",
        "Allow TCP 443 egress from the notebook's security group to the endpoint's security group, and TCP 443 "
        "ingress on the endpoint's security group from the notebook's group.",
    ),
    "lifecycle-logs-endpoint-policy": (
        "low",
        "The CloudWatch Logs endpoint policy does not allow the notebook's lifecycle-log writes",
        "Allow logs:CreateLogStream and logs:PutLogEvents on arn:<partition>:logs:<region>:<account>:log-group:"
        "/aws/sagemaker/NotebookInstances:log-stream:<notebook>/LifecycleConfigOn* for principals of the account "
        "(secure_sagemaker.notebooks.logs_endpoint_policy).",
    ),
    "lifecycle-logs-role-denied": (
        "low",
        "The execution role may not write the notebook's lifecycle log streams",
        "Grant the role logs:CreateLogStream and logs:PutLogEvents on the notebook's streams "
        "<notebook>/LifecycleConfigOn* of /aws/sagemaker/NotebookInstances, and logs:CreateLogGroup, "
        "logs:DescribeLogStreams on the group (secure_sagemaker.notebooks.notebook_policies).",
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
        "The execution role's trust policy lets a service other than SageMaker assume it without a source condition",
        "Remove the other service principal, or add Condition StringEquals aws:SourceAccount=<account> to its "
        "sts:AssumeRole statement (confused-deputy protection).",
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
    # Security Hub SageMaker.21 and AWS Config sagemaker-notebook-instance-kms-key-configured; the key is
    # create-only (UpdateNotebookInstance has no KmsKeyId).  Medium: the volume is still encrypted (with
    # a key SageMaker manages), the notebook's isolation does not depend on it.
    "volume-no-customer-key": (
        "medium",
        "The ML storage volume is not encrypted with a customer managed KMS key (Security Hub SageMaker.21)",
        "Only replacing the notebook adds a key (KmsKeyId is create-only): copy what /home/ec2-user/SageMaker holds "
        "out of the notebook, delete it, create it again with KmsKeyId (the isolated_notebook role does this for new "
        "notebooks), and copy the data back; docs/encryption.md walks through it, and through the ways out of an "
        "isolated notebook.",
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
    # Teams (the isolated-notebook-team tag of the execution role, which the isolated_notebook role sets):
    # one team's notebooks reaching what another team writes.  This collection's own checks.
    "cross-team-data": (
        "medium",
        "The notebook reaches data that another team's notebooks write",
        "Remove the grant from the team's data grants (isolated_notebook_teams[].data_grants) or the role's policy; "
        "data two teams are meant to share belongs under a prefix of its own that neither team writes, granted read "
        "to both.",
    ),
    "cross-team-endpoint": (
        "low",
        "The S3 endpoint lets the notebook's role through to data that another team's notebooks write",
        "Compose the endpoint policy from each team's own grants (the isolated_notebook role does); the role's "
        "policy still denies it, but the endpoint is the second barrier and no longer holds.",
    ),
    # Security Hub SageMaker.8 passes notebook-al2023-v1 only; the dates are PLATFORMS' below.
    "platform-end-of-support": (
        "medium",
        "The notebook's platform is out of support, or leaves it soon (Security Hub SageMaker.8)",
        "Move the notebook to notebook-al2023-v1 in place: the notebook_instance module's platform_identifier "
        "stops it, updates PlatformIdentifier and starts it again (the isolated_notebook role does so on its next "
        "run). The ML storage volume stays; what the lifecycle script installs must work on AL2023 (the "
        "lifecycle-script-* findings).",
    ),
    # Lint of lifecycle scripts this collection did not write (and of the stack's own on-start steps).
    "lifecycle-script-internet-download": (
        "medium",
        "The lifecycle script downloads from the internet",
        "Put what the script fetches in the script bucket (or a package mirror in the VPC) and fetch it through "
        "the S3 gateway endpoint: an isolated notebook has no route to the internet, so the download hangs until "
        "the 5-minute lifecycle limit fails the start, and a notebook on which it works is not isolated.",
    ),
    "lifecycle-script-crontab-al2023": (
        "medium",
        "The lifecycle script uses cron on Amazon Linux 2023, which does not install it",
        "Schedule with a systemd timer (as the collection's on-start script does) or install cronie first; "
        "without cron the job never runs (an autostop that never stops the notebook).",
    ),
    "lifecycle-script-usr-bin-python": (
        "low",
        "The lifecycle script runs a hard-coded /usr/bin/python",
        "Name the interpreter the script needs (/usr/bin/python3, or the Jupyter environment's python): "
        "/usr/bin/python is Python 2 on Amazon Linux 2 and is not the notebook's Python anywhere.",
    ),
    "lifecycle-script-yum-al2023": (
        "low",
        "The lifecycle script uses yum or amazon-linux-extras on Amazon Linux 2023",
        "Use dnf with AL2023 package names: on AL2023 yum runs dnf, amazon-linux-extras and EPEL do not exist, "
        "and packages named for Amazon Linux 2 may be missing.",
    ),
    "check-failed": (
        "high",
        "A check could not be made",
        "Grant the auditor read access to the resource (see the module's notes), or fix the missing resource.",
    ),
}

# The controls of the tools security teams triage by, per finding id, as each tool documents them:
#   Security Hub: AWS Security Hub User Guide, "Security Hub controls for SageMaker"
#     (docs.aws.amazon.com/securityhub/latest/userguide/sagemaker-controls.html): SageMaker.1 (high,
#     sagemaker-notebook-no-direct-internet-access), .2 (high, sagemaker-notebook-instance-inside-vpc), .3 (high,
#     sagemaker-notebook-instance-root-access-check), .8 (medium, sagemaker-notebook-instance-platform-version,
#     passes notebook-al2023-v1 only), .21 (medium, sagemaker-notebook-instance-storage-vol-kms-encrypted).
#   Prowler: prowler/providers/aws/services/sagemaker/<check>/ in prowler-cloud/prowler.
#   Checkov: checkov/terraform/checks/resource/aws/ in bridgecrewio/checkov (aws_sagemaker_notebook_instance):
#     CKV_AWS_122 direct_internet_access, CKV_AWS_306 subnet_id, CKV_AWS_307 root_access, CKV_AWS_371
#     instance_metadata_service_configuration (IMDSv2), CKV_AWS_22 kms_key_id.
# A finding with none is this collection's own check (``own_check``): no tool follows the notebook's whole path.
CONTROL_TOOLS = ("security_hub", "prowler", "checkov")
CONTROLS = {
    "direct-internet-access": {
        "security_hub": ["SageMaker.1"],
        "prowler": ["sagemaker_notebook_instance_without_direct_internet_access_configured"],
        "checkov": ["CKV_AWS_122"],
    },
    "no-subnet": {
        "security_hub": ["SageMaker.2"],
        "prowler": ["sagemaker_notebook_instance_vpc_settings_configured"],
        "checkov": ["CKV_AWS_306"],
    },
    "root-access-enabled": {
        "security_hub": ["SageMaker.3"],
        "prowler": ["sagemaker_notebook_instance_root_access_disabled"],
        "checkov": ["CKV_AWS_307"],
    },
    "imdsv1-allowed": {"checkov": ["CKV_AWS_371"]},
    "volume-no-customer-key": {
        "security_hub": ["SageMaker.21"],
        "prowler": ["sagemaker_notebook_instance_encryption_enabled"],
        "checkov": ["CKV_AWS_22"],
    },
    "platform-end-of-support": {"security_hub": ["SageMaker.8"]},
}

# How each finding is fixed:
#   in-place        a stop / UpdateNotebookInstance / start of the notebook (``option`` of ``module`` does it);
#   replace         only deleting and creating the notebook again (create-only settings: the subnet, security
#                   groups, direct internet access, the KMS key);
#   other-resource  a change to another resource (the route table, an endpoint, the role, the lifecycle
#                   configuration, the bucket), by ``module``'s ``option`` where this collection has one.
# ``role_fixes``: whether the isolated_notebook role's next run fixes it on a notebook it manages.
FIX_TYPES = ("in-place", "replace", "other-resource")
NOTEBOOK_MODULE = "secure_sagemaker.notebooks.notebook_instance"
ENDPOINT_MODULE = "secure_sagemaker.notebooks.vpc_endpoint"
ROLE_MODULE = "secure_sagemaker.notebooks.execution_role"
LIFECYCLE_MODULE = "secure_sagemaker.notebooks.lifecycle_config"
BUCKET_MODULE = "amazon.aws.s3_bucket"
FIXES = {
    "direct-internet-access": ("replace", NOTEBOOK_MODULE, "direct_internet_access", False),
    "no-subnet": ("replace", NOTEBOOK_MODULE, "subnet_id", False),
    "volume-no-customer-key": ("replace", NOTEBOOK_MODULE, "kms_key_id", False),
    "root-access-enabled": ("in-place", NOTEBOOK_MODULE, "root_access", True),
    "imdsv1-allowed": ("in-place", NOTEBOOK_MODULE, "minimum_imds_version", True),
    "platform-end-of-support": ("in-place", NOTEBOOK_MODULE, "platform_identifier", True),
    "lifecycle-config-missing": ("in-place", NOTEBOOK_MODULE, "lifecycle_config_name", True),
    # The role's preflight refuses such a subnet rather than changing a route table it does not own.
    "subnet-egress-route": ("other-resource", "amazon.aws.ec2_vpc_route_table", "routes", False),
    "s3-endpoint-missing": ("other-resource", ENDPOINT_MODULE, "route_table_ids", True),
    "s3-endpoint-policy-allow-all": ("other-resource", ENDPOINT_MODULE, "policy", True),
    "s3-endpoint-policy-write": ("other-resource", ENDPOINT_MODULE, "policy", True),
    "sagemaker-api-endpoint-missing": ("other-resource", ENDPOINT_MODULE, "service", True),
    "lifecycle-logs-endpoint-missing": ("other-resource", ENDPOINT_MODULE, "private_dns_enabled", True),
    "lifecycle-logs-blocked": ("other-resource", "amazon.aws.ec2_security_group", "rules", True),
    "lifecycle-logs-endpoint-policy": ("other-resource", ENDPOINT_MODULE, "policy", True),
    "lifecycle-logs-role-denied": ("other-resource", ROLE_MODULE, "managed_policy_arns", True),
    # The role detaches managed policies it did not attach, but leaves inline policies of the shared role alone.
    "role-wildcard-action": ("other-resource", ROLE_MODULE, "inline_policies", False),
    "role-s3-full-access": ("other-resource", ROLE_MODULE, "inline_policies", False),
    "role-passrole-any": ("other-resource", ROLE_MODULE, "inline_policies", False),
    "role-wildcard-resource": ("other-resource", ROLE_MODULE, "inline_policies", False),
    "role-trust-no-source-account": ("other-resource", ROLE_MODULE, "trust_policy", True),
    "autostop-not-installed": ("other-resource", LIFECYCLE_MODULE, "on_start", True),
    "autostop-not-pinned": ("other-resource", LIFECYCLE_MODULE, "on_start", True),
    "autostop-sha256-mismatch": ("other-resource", "amazon.aws.s3_object", "src", True),
    "lifecycle-script-internet-download": ("other-resource", LIFECYCLE_MODULE, "on_start", False),
    "lifecycle-script-crontab-al2023": ("other-resource", LIFECYCLE_MODULE, "on_start", False),
    "lifecycle-script-usr-bin-python": ("other-resource", LIFECYCLE_MODULE, "on_start", False),
    "lifecycle-script-yum-al2023": ("other-resource", LIFECYCLE_MODULE, "on_start", False),
    "bucket-public-access-not-blocked": ("other-resource", BUCKET_MODULE, "public_access", True),
    "bucket-policy-public": ("other-resource", BUCKET_MODULE, "policy", True),
    "bucket-not-encrypted": ("other-resource", BUCKET_MODULE, "encryption", True),
    "bucket-policy-no-tls-deny": ("other-resource", BUCKET_MODULE, "policy", True),
    "bucket-policy-no-endpoint-deny": ("other-resource", BUCKET_MODULE, "policy", True),
    # What a team is granted is the run's input: the role composes it, it does not second-guess it.
    "cross-team-data": ("other-resource", ROLE_MODULE, "managed_policy_arns", False),
    "cross-team-endpoint": ("other-resource", ENDPOINT_MODULE, "policy", True),
    "check-failed": ("other-resource", None, None, False),
}

# Notebook platforms: botocore's PlatformIdentifier pattern lists them (a test enumerates it).  The end of
# support, from the SageMaker Developer Guide (notebook instances on Amazon Linux 2 and AL2023): AL2 platforms
# are supported until 2026-06-30, after which a stopped AL2 notebook cannot be started; AL1 ended earlier
# (its date is not needed: it is past).  None: supported.
AL2_END_OF_SUPPORT = "2026-06-30"
PLATFORMS = {
    "notebook-al1-v1": ("Amazon Linux 1", "past"),
    "notebook-al2-v1": ("Amazon Linux 2", AL2_END_OF_SUPPORT),
    "notebook-al2-v2": ("Amazon Linux 2", AL2_END_OF_SUPPORT),
    "notebook-al2-v3": ("Amazon Linux 2", AL2_END_OF_SUPPORT),
    "notebook-al2023-v1": ("Amazon Linux 2023", None),
    # In botocore 1.44's model; Security Hub's SageMaker.8 page named only -v1 when read (whether it passes -v2
    # is unverified).  AL2023 itself is supported until 2029.
    "notebook-al2023-v2": ("Amazon Linux 2023", None),
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
    "logs": "low",
}


def controls(finding_id):
    """{tool: [control id]} of one finding id, every tool present (empty lists for none)."""
    known = CONTROLS.get(finding_id, {})
    return dict((tool, list(known.get(tool, []))) for tool in CONTROL_TOOLS)


def fix(finding_id):
    fix_type, module, option, role_fixes = FIXES[finding_id]
    return {"type": fix_type, "module": module, "option": option, "role_fixes": role_fixes}


def finding(finding_id, resource, message, evidence, severity=None):
    default_severity, title, remediation = FINDINGS[finding_id]
    mapped = controls(finding_id)
    return {
        "id": finding_id,
        "severity": severity or default_severity,
        "title": title,
        "resource": resource,
        "message": message,
        "evidence": evidence,
        "remediation": remediation,
        "controls": mapped,
        "own_check": not any(mapped.values()),
        "fix": fix(finding_id),
    }


def check_failed(kind, resource, operation, error):
    return finding(
        "check-failed",
        resource,
        "%s %s could not be read (%s: %s)" % (kind, resource, operation, error),
        {"check": kind, "resource": resource, "operation": operation, "error": error},
        severity=CHECK_FAILED_SEVERITY[kind],
    )


def count_by_severity(findings):
    """Findings by severity, with the total."""
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


def by_control(notebooks):
    """The findings of the audited notebooks by control: one row per control id of each tool with a finding,
    then one per own check (tool ``own``, the finding id as the control); each with the finding ids, the highest
    severity, the fix types and the notebooks that fail it."""
    rows = {}
    for entry in notebooks:
        for item in entry["findings"]:
            keys = [(tool, control) for tool in CONTROL_TOOLS for control in item["controls"][tool]]
            for key in keys or [("own", item["id"])]:
                row = rows.setdefault(key, {"tool": key[0], "control": key[1], "finding_ids": set(),
                                            "severity": "none", "fix_types": set(), "notebooks": set(),
                                            "findings": 0})  # fmt: skip
                row["finding_ids"].add(item["id"])
                row["fix_types"].add(item["fix"]["type"])
                row["notebooks"].add(entry["name"])
                row["findings"] += 1
                if RANK[item["severity"]] > RANK[row["severity"]]:
                    row["severity"] = item["severity"]
    order = dict((tool, index) for index, tool in enumerate(CONTROL_TOOLS + ("own",)))

    def natural(control):  # SageMaker.3 before SageMaker.21, CKV_AWS_22 before CKV_AWS_122
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", control)]

    return [
        dict(
            row,
            finding_ids=sorted(row["finding_ids"]),
            fix_types=sorted(row["fix_types"]),
            notebooks=sorted(row["notebooks"]),
        )  # fmt: skip
        for _key, row in sorted(rows.items(), key=lambda kv: (order[kv[0][0]], natural(kv[0][1])))
    ]
