#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: execution_role
short_description: The IAM execution role of SageMaker notebooks, with exactly its managed policies
version_added: 0.1.0
description:
  - Creates or reconciles an IAM role - its trust policy (compared semantically), description, tags and
    exactly the managed policies listed (others are detached) - or deletes it with its policy attachments.
  - Never creates, changes or deletes an instance profile; a role in one is not deleted and the module fails
    naming the profile.
  - Supports check mode and diff mode.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
options:
  name:
    description: Name of the role (1 to 64 letters, digits and C(_+=,.@-)).
    type: str
    required: true
  path:
    description:
      - Path of a role this module creates (begins and ends with C(/), at most 512 characters); an existing role keeps
        its path.
    type: str
    default: /
  trust_policy:
    description: The trust policy document. Required with O(state=present).
    type: dict
  description:
    description: Description of the role (at most 1,000 characters); left as it is when not given.
    type: str
  managed_policy_arns:
    description: ARNs of exactly the managed policies the role holds; any other attached policy is detached.
    type: list
    elements: str
    default: []
  inline_policies:
    description:
      - Exactly the inline policies the role holds, by name; any other inline policy is deleted. Left as they are
        when not given. For a policy that belongs to this one role only, as a notebook's own.
      - Names are 1 to 128 letters, digits and C(_+=,.@-); together the documents may have at most 10240 characters
        without white space (IAM's quota of a role's inline policies), checked before any AWS call.
    type: dict
  tags:
    description: Tags of the role.
    type: dict
    default: {}
  purge_tags:
    description: Remove tags not in O(tags).
    type: bool
    default: true
  state:
    description: V(present) to create or reconcile the role, V(absent) to delete it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Notebook role that only SageMaker can assume, holding two policies
  secure_sagemaker.notebooks.execution_role:
    name: team-a-notebook
    description: Execution role of the team's notebooks
    trust_policy: "{{ '123456789012' | secure_sagemaker.notebooks.trust_policy }}"
    managed_policy_arns:
      - arn:aws:iam::123456789012:policy/team-a-s3-read
      - arn:aws:iam::123456789012:policy/team-a-autostop
    tags:
      team: a

- name: A notebook's own role, holding the shared policy and one inline policy of its own
  secure_sagemaker.notebooks.execution_role:
    name: team-a-nb-alice
    path: /team-a/
    trust_policy: "{{ '123456789012' | secure_sagemaker.notebooks.trust_policy }}"
    managed_policy_arns:
      - arn:aws:iam::123456789012:policy/team-a-s3-read
    inline_policies:
      home: "{{ lookup('ansible.builtin.file', 'alice-home.json') | from_json }}"

- name: Delete it (its policies are detached, not deleted)
  secure_sagemaker.notebooks.execution_role:
    name: team-a-notebook
    state: absent
"""

RETURN = r"""
role:
  description: The role after the run (predicted in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the role.
      type: str
      sample: team-a-notebook
    arn:
      description: ARN of the role (null in check mode before it exists).
      type: str
      sample: arn:aws:iam::123456789012:role/team-a-notebook
    path:
      description: Path of the role.
      type: str
      sample: /
    role_id:
      description: Unique id of the role.
      type: str
      sample: AROAEXAMPLEROLEID0001
    trust_policy:
      description: The trust policy document.
      type: dict
    description:
      description: Description of the role.
      type: str
    tags:
      description: Tags of the role.
      type: dict
      sample: {"team": "a"}
    managed_policy_arns:
      description: ARNs of the attached managed policies, sorted.
      type: list
      elements: str
    inline_policies:
      description: The inline policies by name, when O(inline_policies) was given.
      type: dict
      returned: when O(inline_policies) is given
actions:
  description:
    - What the run changed, in order - V(create), V(trust), V(describe), V(tag), V(untag), V(attach), V(detach).
  returned: with state=present
  type: list
  elements: str
  sample: [create, attach, attach]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.execution_role import execute, validate


def run_module(module):
    validate(module.params)  # before the client exists
    return execute(client(module, "iam"), module.params, module.check_mode)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        trust_policy=dict(type="dict"),
        description=dict(type="str"),
        managed_policy_arns=dict(type="list", elements="str", default=[]),
        inline_policies=dict(type="dict"),
        tags=dict(type="dict", default={}),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, run_module)


if __name__ == "__main__":
    main()
