# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's findings: every id with its severity, title and remediation (the module documents
them all), the severity scale and the ``fail_on`` threshold, and the finding records the checks return.

A new finding id starts here; the check that raises it lives in ``checks.py`` or ``policy.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
    "logs": "low",
}


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
