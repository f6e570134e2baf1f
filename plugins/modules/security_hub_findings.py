#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: security_hub_findings
short_description: Put the isolation audit's findings into AWS Security Hub, kept in step with each audit
version_added: 0.1.0
description:
  - Imports the findings of an M(secure_sagemaker.notebooks.isolation_audit) result into AWS Security Hub of the
    audited region, in the AWS Security Finding Format (ASFF), with C(BatchImportFindings) in batches of 100 (the
    API's limit).
  - Each audit finding is one Security Hub finding with a stable C(Id) (region, notebook, finding id and the resource
    at fault), so the next export updates it instead of adding a duplicate. A finding the audit no longer reports,
    on a notebook the audit looked at (or listed in its
    RV(secure_sagemaker.notebooks.isolation_audit#module:not_found)), is resolved - C(RecordState=ARCHIVED),
    C(Compliance.Status=PASSED). Findings that reappear are made active again, which sets their workflow status
    back to C(NEW).
  - The findings carry C(Severity.Label), the notebook as an C(AwsSageMakerNotebookInstance) resource, the audit's
    remediation, the matching Security Hub, Prowler and Checkov control ids in C(Compliance.RelatedRequirements), and
    the finding id, fix type and fix option in C(ProductFields) (keys C(secure_sagemaker.notebooks/...)).
  - Only the findings this collection wrote are read or changed - those with a C(GeneratorId) beginning with
    C(secure-sagemaker-notebooks/isolation_audit/) under O(product_arn). Workflow status, notes and other analyst
    changes are Security Hub's to keep; a finding provider cannot set them.
  - A finding whose content has not changed is not sent again (the task reports no change), unless its last update is
    more than 30 days old - Security Hub deletes findings 90 days after their last update. What this collection sent
    is known by a digest in C(ProductFields) (C(secure_sagemaker.notebooks/Digest)), so what Security Hub adds (such
    as C(Severity.Normalized)) and analysts change does not count as a change.
  - A notebook with a C(check-failed) finding keeps its earlier findings open - a check that could not be made proves
    nothing fixed.
  - Supports check mode (reads, plans and sends nothing).
options:
  audit:
    description:
      - The registered result of M(secure_sagemaker.notebooks.isolation_audit).
    type: dict
    required: true
  product_arn:
    description:
      - The product ARN the findings are imported under.
      - Default - the account's own findings,
        C(arn:<partition>:securityhub:<region>:<account>:product/<account>/default).
    type: str
  resolve_others:
    description:
      - Also resolve this collection's active findings of notebooks the audit did not look at (for example, after an
        audit of the whole region, those of notebooks deleted since).
      - When V(false), an audit of some notebooks leaves the findings of the others as they are.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Security Hub must be enabled in the account and region; otherwise every finding is refused (C(InvalidAccess)) and
    the task fails naming it.
  - 'Permissions needed: C(securityhub:BatchImportFindings) on the product ARN, C(securityhub:GetFindings) on the hub
    (C(arn:<partition>:securityhub:<region>:<account>:hub/default)); C(sts:GetCallerIdentity) names the account.'
  - The region is the audit's; a different O(region) is refused before any call.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Audit the region
  secure_sagemaker.notebooks.isolation_audit:
    region: eu-west-1
  register: audit

- name: Keep Security Hub in step with it (resolve what is gone, also of deleted notebooks)
  secure_sagemaker.notebooks.security_hub_findings:
    region: eu-west-1
    audit: "{{ audit }}"
    resolve_others: true

# playbooks/audit.yml does both: ansible-playbook secure_sagemaker.notebooks.audit -e audit_security_hub=true
"""

RETURN = r"""
product_arn:
  description: The product ARN the findings are under.
  returned: always
  type: str
  sample: arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default
created:
  description: The Ids of the findings imported for the first time.
  returned: always
  type: list
  elements: str
  sample: [secure-sagemaker-notebooks/eu-west-1/research-alice/root-access-enabled/0f3c5a1e9b2d4c6a]
updated:
  description: The Ids of the active findings updated (their content changed, or they were refreshed).
  returned: always
  type: list
  elements: str
reopened:
  description: The Ids of archived findings the audit reports again, made active.
  returned: always
  type: list
  elements: str
resolved:
  description: The Ids of the findings resolved (archived, compliance PASSED).
  returned: always
  type: list
  elements: str
unchanged:
  description: The Ids of the findings already in Security Hub as the audit reports them.
  returned: always
  type: list
  elements: str
batches:
  description: The number of BatchImportFindings requests made (0 in check mode).
  returned: always
  type: int
failed:
  description: The findings Security Hub refused, with C(Id), C(ErrorCode) and C(ErrorMessage) (the task fails).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.security_hub import export, validate


def run_module(module):
    spec = validate(dict(module.params, region=module.region))  # before any client exists
    account = client(module, "sts").get_caller_identity(aws_retry=True)["Account"]
    return export(client(module, "securityhub"), spec, account, module.check_mode)


def main():
    argument_spec = dict(
        audit=dict(type="dict", required=True),
        product_arn=dict(type="str"),
        resolve_others=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, run_module)


if __name__ == "__main__":
    main()
