#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: execution_role_info
short_description: List the IAM roles at one path, as the notebooks' own roles are kept
version_added: 0.1.0
description:
  - Lists the IAM roles exactly at O(path) (not at a deeper path) whose name begins with O(name_prefix).
  - One paginated C(iam:ListRoles) call and nothing else, so the caller needs no C(iam:GetRole) or tag reads
    for it; ListRoles returns no tags, permissions boundary or last use, and neither does this module.
  - Makes no change.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
options:
  path:
    description:
      - The path of the roles (begins and ends with C(/), at most 512 characters).
    type: str
    required: true
  name_prefix:
    description: Only the roles whose name begins with this; all the roles at O(path) by default.
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The own roles of the notebooks of stack team-a
  secure_sagemaker.notebooks.execution_role_info:
    path: /team-a/
    name_prefix: team-a-nb-
  register: own

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ own.roles | map(attribute='name') }}"
"""

RETURN = r"""
roles:
  description: The roles found, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the role.
      type: str
      sample: team-a-nb-alice
    arn:
      description: ARN of the role.
      type: str
      sample: arn:aws:iam::123456789012:role/team-a/team-a-nb-alice
    path:
      description: Path of the role.
      type: str
      sample: /team-a/
    role_id:
      description: Unique id of the role.
      type: str
      sample: AROAEXAMPLEROLEID0001
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.execution_role import (
    listed,
    validate_listing,
)


def run_module(module):
    validate_listing(module.params)  # before the client exists
    roles = listed(client(module, "iam"), module.params["path"], module.params["name_prefix"])
    return dict(changed=False, roles=roles)


def main():
    argument_spec = dict(
        path=dict(type="str", required=True),
        name_prefix=dict(type="str", default=""),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, run_module)


if __name__ == "__main__":
    main()
