#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: notebook_instance_info
short_description: Describe one SageMaker notebook instance or list many
version_added: 0.1.0
description:
  - With O(name), describes that notebook instance in full, with its tags (an empty list when it does not exist).
  - Without O(name), lists the notebook instances that match every given filter, reading all result pages.
    The list has the summary fields ListNotebookInstances returns.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
options:
  name:
    description:
      - The notebook instance to describe. Mutually exclusive with the filters.
    type: str
  name_contains:
    description:
      - Only notebook instances whose name contains this string.
    type: str
  status_equals:
    description:
      - Only notebook instances in this status.
    type: str
    choices: [Pending, InService, Stopping, Stopped, Failed, Deleting, Updating, PendingMaintenance, InMaintenance]
  lifecycle_config_name_contains:
    description:
      - Only notebook instances whose attached lifecycle configuration name contains this string.
    type: str
  page_size:
    description:
      - How many notebook instances to ask for per ListNotebookInstances call (1 to 100); AWS's default when omitted.
      - Every page is read whatever the size.
    type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe one notebook instance
  secure_sagemaker.notebooks.notebook_instance_info:
    name: research-1
  register: info

- name: Running notebooks that use an autostop lifecycle configuration
  secure_sagemaker.notebooks.notebook_instance_info:
    status_equals: InService
    lifecycle_config_name_contains: autostop
  register: running

- name: Their names
  ansible.builtin.debug:
    msg: "{{ running.notebook_instances | map(attribute='notebook_instance_name') | list }}"
"""

RETURN = r"""
notebook_instances:
  description:
    - With O(name), the described notebook instance (as M(secure_sagemaker.notebooks.notebook_instance) returns it,
      with tags) or nothing when it does not exist.
    - Without O(name), the matching notebook instances as ListNotebookInstances summarises them, in snake_case.
  returned: always
  type: list
  elements: dict
  contains:
    notebook_instance_name:
      description: The name.
      type: str
      sample: research-1
    notebook_instance_arn:
      description: The ARN.
      type: str
      sample: arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/research-1
    notebook_instance_status:
      description: >-
        Pending, InService, Stopping, Stopped, Failed, Deleting, Updating, PendingMaintenance (running, with
        maintenance scheduled) or InMaintenance.
      type: str
      sample: InService
    url:
      description: The notebook's Jupyter URL (without scheme).
      type: str
    instance_type:
      description: The ML compute instance type.
      type: str
      sample: ml.t3.medium
    notebook_instance_lifecycle_config_name:
      description: The attached lifecycle configuration.
      type: str
      returned: when one is attached
    creation_time:
      description: When the notebook was created.
      type: str
    last_modified_time:
      description: When the notebook last changed.
      type: str
    tags:
      description: The notebook's tags.
      type: dict
      returned: with O(name)
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import STATUSES, validate_info
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook_ops import gather


def run_module(module):
    validate_info(module.params)  # before the client exists: bad input never reaches AWS
    return dict(changed=False, notebook_instances=gather(client(module, "sagemaker"), module.params))


def main():
    argument_spec = dict(
        name=dict(type="str"),
        name_contains=dict(type="str"),
        status_equals=dict(type="str", choices=list(STATUSES)),
        lifecycle_config_name_contains=dict(type="str"),
        page_size=dict(type="int"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[
            ("name", "name_contains"),
            ("name", "status_equals"),
            ("name", "lifecycle_config_name_contains"),
        ],
    )
    run(module, run_module)


if __name__ == "__main__":
    main()
