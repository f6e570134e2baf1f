#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: isolation_audit
short_description: Prove that SageMaker notebook instances are isolated, with evidence for every finding
version_added: 0.1.0
description:
  - Audits SageMaker notebook instances of one region, read-only, whether or not this collection
    created them, and reports for each one whether it is isolated today.
  - Each finding has an C(id), a C(severity) (V(high), V(medium) or V(low)), the C(evidence) (the
    route, the policy statement, the value) and the C(remediation).
  - 'Notebook checks: C(direct-internet-access) (high), C(no-subnet) (high), C(root-access-enabled)
    (medium, unless O(allow_root_access=true)), C(imdsv1-allowed) (medium), C(lifecycle-config-missing)
    (medium), C(volume-no-customer-key) (medium, Security Hub SageMaker.21: no C(KmsKeyId); the key is create-only,
    so only replacing the notebook fixes it).'
  - 'Network checks, on the subnet''s effective route table (its explicit association, else the VPC''s
    main table): C(subnet-egress-route) (high) for any route whose destination covers public address space
    (split routes such as C(0.0.0.0/1) and C(128.0.0.0/1) too) to a target out of the VPC - an internet, NAT,
    egress-only, virtual private, transit, local or carrier gateway, a core network, an ODB network, a Route
    Server next hop, an instance, a network interface or a VPC peering connection;
    C(s3-endpoint-missing) (medium) when no S3 gateway endpoint serves that table;
    C(s3-endpoint-policy-allow-all) (high) for a statement allowing C(*) or C(s3:*) actions or C(*)
    resources, the AWS default policy included; C(s3-endpoint-policy-write) (high) for any action other
    than C(s3:Get*) and C(s3:List*) that every principal may take (a statement narrowed by C(aws:PrincipalArn)
    to named roles, a read-write data grant, is no finding); C(sagemaker-api-endpoint-missing) (medium) when
    the VPC has no C(sagemaker.api) interface endpoint, without which autostop cannot stop the notebook.'
  - 'Lifecycle output checks (low), for a notebook with a lifecycle configuration, whose hooks write to the log
    group C(/aws/sagemaker/NotebookInstances), streams C(<notebook>/LifecycleConfigOnStart) and
    C(<notebook>/LifecycleConfigOnCreate): C(lifecycle-logs-endpoint-missing) when the VPC has no
    C(logs) interface endpoint with private DNS (with no route out, the only way to CloudWatch Logs);
    C(lifecycle-logs-blocked) when no egress rule of the notebook''s security groups admits TCP 443 to the
    endpoint''s group (or to any address range), or no ingress rule of the endpoint''s groups admits it from the
    notebook''s group or a range overlapping its subnet (prefix lists do not count);
    C(lifecycle-logs-endpoint-policy) when the endpoint policy does not allow C(logs:CreateLogStream) and
    C(logs:PutLogEvents) on those streams for the notebook''s role; C(lifecycle-logs-role-denied) when the
    execution role''s policies do not. An Allow with a condition counts as allowing, a Deny with one as not
    denying; permission boundaries and organization policies are not read.'
  - 'Execution role checks, over its trust policy, managed and inline policies:
    C(role-wildcard-action) (high) for C(*) or C(<service>:*) actions (C(s3:*) has its own id,
    C(role-s3-full-access), high), C(role-passrole-any) (high) for C(iam:PassRole) on C(*),
    C(role-wildcard-resource) (medium) for C(*) resources, C(role-trust-no-source-account) (medium)
    for an C(sts:AssumeRole) statement without an C(aws:SourceAccount) or C(aws:SourceArn) condition that lets
    in a principal other than C(sagemaker.amazonaws.com) alone (SageMaker documents the trust policy of the
    notebook execution role without the condition, and does not list notebook instances among the features that
    send it).'
  - 'Lifecycle checks: C(autostop-not-installed) (medium) when the on-start script does not fetch and
    schedule C(autostop.py); C(autostop-not-pinned) (medium) when it has no C(BUCKET=), C(KEY=) and
    C(SHA256=) lines; C(autostop-sha256-mismatch) (high) when the script object in S3 does not have the
    pinned SHA-256.'
  - 'Script bucket checks (the C(BUCKET) of the on-start script): C(bucket-public-access-not-blocked)
    (high), C(bucket-policy-public) (high) for an unconditional Allow to C(*), C(bucket-not-encrypted)
    (low), C(bucket-policy-no-tls-deny) and C(bucket-policy-no-endpoint-deny) (medium) when the policy
    lacks the Deny on C(aws:SecureTransport=false) or on requests not from the VPC endpoint
    (C(aws:SourceVpce)/C(aws:SourceVpc)).'
  - 'Team checks, this collection''s own, for notebooks whose execution role carries the tag
    C(isolated-notebook-team) (the isolated_notebook role tags each team''s roles): a team''s data is what its
    notebooks write (RV(notebooks[].data_access) with write access). C(cross-team-data) (medium) when a notebook
    reaches (its role and its S3 endpoint both allow) a location another team''s notebooks write;
    C(cross-team-endpoint) (low) when only the endpoint on its route table would let its role through to one.
    Data that two teams only read is no finding.'
  - 'Platform check: C(platform-end-of-support) (medium, Security Hub SageMaker.8) for a notebook on an Amazon Linux 1
    or 2 platform. AL2 platforms (C(notebook-al2-v1), C(notebook-al2-v2), C(notebook-al2-v3)) are supported until
    2026-06-30; after it a stopped AL2 notebook cannot be started. The fix is in place:
    M(secure_sagemaker.notebooks.notebook_instance) with
    O(secure_sagemaker.notebooks.notebook_instance#module:platform_identifier=notebook-al2023-v1) stops the
    notebook, updates the platform and starts it again.'
  - 'Lifecycle script lint, of the OnStart and OnCreate scripts of every lifecycle configuration (the collection''s
    own on-start script passes; the stack''s own steps it carries are linted like any script):
    C(lifecycle-script-internet-download) (medium) for C(curl), C(wget) or C(git) from a host that is not a regional
    AWS endpoint, a private address or an internal name (C(.internal), C(.local), ...), and for C(pip install) from
    PyPI or another such index (unless the script points pip elsewhere first, for example C(aws codeartifact
    login --tool pip)), C(conda install) or C(npm install) - an isolated notebook cannot reach them, and the 5-minute
    lifecycle limit fails the start; C(lifecycle-script-usr-bin-python) (low) for a hard-coded C(/usr/bin/python);
    on an AL2023 platform C(lifecycle-script-crontab-al2023) (medium) for C(crontab) or C(/etc/cron.*) when the
    script neither installs C(cronie) nor schedules with a systemd timer (AL2023 does not install cron), and
    C(lifecycle-script-yum-al2023) (low) for C(yum) or C(amazon-linux-extras). The evidence shows the lines with
    URL credentials, authorization headers and secret options or variables redacted.'
  - 'Each finding carries RV(notebooks[].findings[].controls): the ids of the matching controls of AWS Security Hub
    (C(SageMaker.1) direct internet access, C(SageMaker.2) in a VPC, C(SageMaker.3) root access, C(SageMaker.8)
    platform, C(SageMaker.21) customer managed KMS key), Prowler (C(sagemaker_notebook_instance_*)) and Checkov
    (C(CKV_AWS_122), C(CKV_AWS_306), C(CKV_AWS_307), C(CKV_AWS_371), C(CKV_AWS_22)); a finding none of them has is
    this collection''s own (RV(notebooks[].findings[].own_check)). RV(controls) counts the findings by control.'
  - 'Each finding says how it is fixed (RV(notebooks[].findings[].fix)): V(in-place) (a stop, update and start of the
    notebook, by the named option of M(secure_sagemaker.notebooks.notebook_instance)), V(replace) (only a new
    notebook: the subnet, security groups, direct internet access and KMS key are create-only) or
    V(other-resource) (the route table, an endpoint, the role, the lifecycle configuration or the bucket), and
    whether the P(secure_sagemaker.notebooks.isolated_notebook#role) role fixes it on its next run.'
  - A check that cannot be made (a missing subnet or role, access denied) is the finding
    C(check-failed), high for the network and the role, medium for the lifecycle script and its bucket.
  - A notebook is C(isolated) when it has no high finding.
  - 'Cost: one C(DescribeNotebookInstance) per notebook (plus C(ListNotebookInstances) pages when
    O(names) is omitted); subnets, route tables and VPC endpoints are read with one call each for the
    whole fleet, and each distinct role, managed policy, lifecycle configuration, script object and bucket
    once per run; security groups with one C(DescribeSecurityGroups) call when a VPC of the fleet has a
    CloudWatch Logs endpoint. RV(aws_calls) reports the calls made.'
  - Supports check mode; the module never changes anything.
options:
  names:
    description:
      - The notebook instances to audit. Omit to audit every notebook instance of the region.
      - Names that do not exist are listed in RV(not_found).
    type: list
    elements: str
  fail_on:
    description:
      - Fail the task when any finding has this severity or a higher one (the result, with all findings,
        is returned all the same). V(never) only reports.
    type: str
    choices: [high, medium, low, never]
    default: never
  allow_root_access:
    description:
      - Whether the policy of this run allows root access on notebooks. When V(false), a notebook with
        C(RootAccess=Enabled) has the finding C(root-access-enabled).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - 'Permissions needed: C(sagemaker:ListNotebookInstances), C(sagemaker:DescribeNotebookInstance),
    C(sagemaker:DescribeNotebookInstanceLifecycleConfig), C(ec2:DescribeSubnets),
    C(ec2:DescribeRouteTables), C(ec2:DescribeVpcEndpoints), C(ec2:DescribeSecurityGroups), C(iam:GetRole),
    C(iam:ListAttachedRolePolicies), C(iam:ListRolePolicies), C(iam:GetRolePolicy), C(iam:GetPolicy),
    C(iam:GetPolicyVersion), C(s3:GetObject) on the script, C(s3:GetBucketPublicAccessBlock),
    C(s3:GetEncryptionConfiguration), C(s3:GetBucketPolicy).'
  - The script bucket policy written by the P(secure_sagemaker.notebooks.isolated_notebook#role) role
    denies requests from outside the VPC endpoint except for its admin principals; run the audit as one
    of them, or the script check reports C(check-failed).
  - Routes to private address space only (for example C(10.0.0.0/8) through a transit gateway) are not
    findings; security groups and network ACLs are not analysed.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Audit every notebook of the region and fail on any high finding
  secure_sagemaker.notebooks.isolation_audit:
    region: eu-west-1
    fail_on: high
  register: audit

- name: Show the notebooks that are not isolated
  ansible.builtin.debug:
    msg: "{{ audit.notebooks | rejectattr('isolated') | map(attribute='name') | list }}"

- name: Audit two notebooks where root access is allowed
  secure_sagemaker.notebooks.isolation_audit:
    names:
      - research-alice
      - research-gpu
    allow_root_access: true

# A Markdown and JSON report of the whole region: playbooks/audit.yml
#   ansible-playbook secure_sagemaker.notebooks.audit -e audit_region=eu-west-1
"""

RETURN = r"""
notebooks:
  description: One entry per audited notebook, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The notebook instance name.
      type: str
    arn:
      description: The notebook instance ARN.
      type: str
    status:
      description: Its status when audited, for example C(InService).
      type: str
    subnet_id:
      description: Its subnet (null without one).
      type: str
    vpc_id:
      description: The subnet's VPC.
      type: str
    role_arn:
      description: Its execution role.
      type: str
    lifecycle_config_name:
      description: Its lifecycle configuration.
      type: str
    direct_internet_access:
      description: V(Enabled) or V(Disabled).
      type: str
    isolated:
      description: True when the notebook has no high finding.
      type: bool
    data_access:
      description:
        - The S3 data the notebook's role can reach through the S3 gateway endpoint on the notebook's route
          table - what both the role's policies and the endpoint's policy (its statements for that role) allow on
          objects; empty without such an endpoint, V(null) when the role could not be read. A notebook with a way
          around the endpoint (direct internet access, a route out of the VPC) reaches all that its role allows.
        - An upper bound - bucket and key policies may deny more, and Deny statements are not subtracted.
      type: list
      elements: dict
      contains:
        bucket:
          description: The bucket, or C(*) for a policy that allows every resource.
          type: str
        prefix:
          description: The key prefix (C("") for the whole bucket).
          type: str
        access:
          description: V(read), V(write) or V(read-write).
          type: str
        accounts:
          description:
            - The bucket owners' accounts the role's statement holds the bucket to (C(s3:ResourceAccount)); empty
              for any account.
          type: list
          elements: str
        exact:
          description:
            - V(false) where two wildcard patterns overlap only in part; the bucket and prefix are then an upper bound.
          type: bool
    counts:
      description: Its findings by severity (C(high), C(medium), C(low), C(total)).
      type: dict
    path:
      description:
        - What its path to the data is made of - C(subnet_id), C(route_table_id) (its effective route table),
          C(s3_endpoint_ids) (the S3 gateway endpoints on that table), C(bucket) (the script bucket its lifecycle
          script names) and C(direct_internet_access); null where there is none.
      type: dict
    diagram:
      description:
        - For a notebook that is not isolated, its path as Mermaid flowchart source (notebook, subnet, route table,
          S3 gateway endpoint, bucket, and the internet where it gets there), the parts its findings name drawn as
          broken; null for an isolated notebook. The audit playbook's Markdown and HTML reports show it.
      type: str
    findings:
      description: Its findings, the most severe first.
      type: list
      elements: dict
      contains:
        id:
          description: The check, for example C(subnet-egress-route).
          type: str
        severity:
          description: V(high), V(medium) or V(low).
          type: str
        title:
          description: What the check found, in general terms.
          type: str
        resource:
          description: The resource at fault (notebook name, route table, endpoint, role ARN, bucket, s3:// URL).
          type: str
        message:
          description: What was found, with the values.
          type: str
        evidence:
          description: The data behind the finding (the route, the statement, the value).
          type: dict
        remediation:
          description: How to fix it.
          type: str
        controls:
          description:
            - The control ids of other tools that check the same thing, by tool (C(security_hub), C(prowler),
              C(checkov)); each list is empty where the tool has none.
          type: dict
          sample:
            security_hub: [SageMaker.3]
            prowler: [sagemaker_notebook_instance_root_access_disabled]
            checkov: [CKV_AWS_307]
        own_check:
          description: True when no tool above has a control for it (a check of this collection's own).
          type: bool
        fix:
          description: How it is fixed.
          type: dict
          contains:
            type:
              description:
                - V(in-place) (stop, update and start the notebook), V(replace) (create the notebook again) or
                  V(other-resource) (change another resource).
              type: str
            module:
              description: The module that makes the change (null where there is none).
              type: str
            option:
              description: Its option that does it.
              type: str
            role_fixes:
              description: Whether the isolated_notebook role's next run fixes it on a notebook the role manages.
              type: bool
          sample:
            type: in-place
            module: secure_sagemaker.notebooks.notebook_instance
            option: root_access
            role_fixes: true
  sample:
    - name: research-alice
      isolated: false
      data_access:
        - {bucket: research-data, prefix: team-a/, access: read-write, accounts: ["123456789012"], exact: true}
        - {bucket: team-a-scripts, prefix: lifecycle-configurations/, access: read, accounts: [], exact: true}
      counts: {high: 1, medium: 0, low: 0, total: 1}
      findings:
        - id: subnet-egress-route
          severity: high
          resource: rtb-0123456789abcdef0
          evidence:
            subnet_id: subnet-0123456789abcdef0
            route_table_id: rtb-0123456789abcdef0
            destination: 0.0.0.0/0
            target: nat-0123456789abcdef0
            kind: NAT gateway
not_found:
  description: Names given in O(names) that do not exist.
  returned: always
  type: list
  elements: str
counts:
  description: Findings of all notebooks by severity (a shared resource's finding counts once per notebook).
  returned: always
  type: dict
  sample: {high: 1, medium: 2, low: 0, total: 3}
controls:
  description:
    - The findings by control, for triage by control id - one entry per control id of each tool with a finding
      (Security Hub, Prowler, Checkov, in that order), then one per own check (C(tool=own), the finding id as
      C(control)).
  returned: always
  type: list
  elements: dict
  contains:
    tool:
      description: V(security_hub), V(prowler), V(checkov) or V(own).
      type: str
    control:
      description: The control id (the finding id for an own check).
      type: str
    finding_ids:
      description: The finding ids that map to it.
      type: list
      elements: str
    severity:
      description: The highest severity of those findings.
      type: str
    fix_types:
      description: Their fix types.
      type: list
      elements: str
    notebooks:
      description: The notebooks that fail it, sorted.
      type: list
      elements: str
    findings:
      description: The number of findings.
      type: int
  sample:
    - {tool: security_hub, control: SageMaker.8, finding_ids: [platform-end-of-support], severity: medium,
       fix_types: [in-place], notebooks: [research-old], findings: 1}
summary:
  description: Number of notebooks audited, isolated and not isolated.
  returned: always
  type: dict
  sample: {notebooks: 3, isolated: 2, not_isolated: 1}
highest_severity:
  description: The most severe finding's severity, or V(none).
  returned: always
  type: str
region:
  description: The audited region.
  returned: always
  type: str
audited_at:
  description: When the audit ran (UTC, ISO 8601).
  returned: always
  type: str
aws_calls:
  description: AWS API calls made by the audit, per service.
  returned: always
  type: dict
  sample: {ec2: 3, iam: 5, s3: 4, sagemaker: 52}
aws_calls_by_operation:
  description: The same, per service and operation.
  returned: always
  type: dict
  sample: {sagemaker: {DescribeNotebookInstance: 50, ListNotebookInstances: 1}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.audit import (
    audit,
    failure_message,
    reaches,
    validate,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.cache import ResourceCache
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError, client, run


def audit_region(module):
    """The module result; with ``fail_on`` reached, NotebooksError carrying the whole result."""
    spec = validate(module.params)
    cache = ResourceCache(dict((service, client(module, service)) for service in ("sagemaker", "ec2", "iam", "s3")))
    result = audit(cache, spec, module.region)
    if reaches(result, spec["fail_on"]):
        raise NotebooksError(failure_message(result, spec["fail_on"]), **result)
    return result


def main():
    argument_spec = dict(
        names=dict(type="list", elements="str"),
        fail_on=dict(type="str", choices=["high", "medium", "low", "never"], default="never"),
        allow_root_access=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, audit_region)


if __name__ == "__main__":
    main()
