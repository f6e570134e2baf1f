#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lifecycle_config_info
short_description: List and describe SageMaker notebook instance lifecycle configurations
version_added: 0.1.0
description:
  - Describes one SageMaker notebook instance lifecycle configuration by name, those whose name contains a
    string, or all of them in the region.
  - Scripts are returned as decoded text with their SHA-256, together with the notebook instances that use
    each configuration.
  - Makes no change.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
options:
  name:
    description:
      - Describe only the configuration with this exact name. A missing configuration gives an empty list.
      - Checked against the API's naming rule (1 to 63 letters, digits and hyphens) before any AWS call.
    type: str
  name_contains:
    description:
      - Describe the configurations whose name contains this string.
      - Without O(name) and O(name_contains), all configurations are described.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe one configuration
  secure_sagemaker.notebooks.lifecycle_config_info:
    name: autostop
  register: autostop

- name: Show which notebooks its next start affects
  ansible.builtin.debug:
    msg: "{{ autostop.lifecycle_configs[0].attached_notebooks | map(attribute='name') }}"
  when: autostop.lifecycle_configs | length > 0

- name: All configurations whose name contains "research"
  secure_sagemaker.notebooks.lifecycle_config_info:
    name_contains: research
"""

RETURN = r"""
lifecycle_configs:
  description: The configurations found, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the lifecycle configuration.
      type: str
      sample: autostop
    arn:
      description: ARN of the lifecycle configuration.
      type: str
      sample: arn:aws:sagemaker:us-east-1:123456789012:notebook-instance-lifecycle-config/autostop
    on_start:
      description: The start script as text, or null without one.
      type: str
      sample: "#!/bin/bash\necho hello\n"
    on_create:
      description: The create script as text, or null without one.
      type: str
      sample: null
    on_start_sha256:
      description: SHA-256 of the start script's UTF-8 bytes, or null.
      type: str
      sample: 2c1ee42ae3f5b8b2b7ae8c1bb44a1a4d2e7b6bf7a7b4f0dd36e1e4b6a1b0d12f
    on_create_sha256:
      description: SHA-256 of the create script's UTF-8 bytes, or null.
      type: str
      sample: null
    creation_time:
      description: When the configuration was created (ISO 8601).
      type: str
      sample: "2026-11-28T04:44:29.344000+00:00"
    last_modified_time:
      description: When the configuration was last changed (ISO 8601).
      type: str
      sample: "2026-11-28T04:50:02.120000+00:00"
    tags:
      description: The configuration's tags.
      type: dict
      sample: {"team": "research"}
    attached_notebooks:
      description: The notebook instances that use the configuration.
      type: list
      elements: dict
      contains:
        name:
          description: Name of the notebook instance.
          type: str
          sample: research-1
        arn:
          description: ARN of the notebook instance.
          type: str
          sample: arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/research-1
        status:
          description: Status of the notebook instance.
          type: str
          sample: InService
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.lifecycle_config import (
    gather,
    validate_name,
)


def run_module(module):
    if module.params["name"] is not None:
        validate_name(module.params["name"])  # before the client exists
    configs = gather(client(module, "sagemaker"), module.params["name"], module.params["name_contains"])
    return dict(changed=False, lifecycle_configs=configs)


def main():
    argument_spec = dict(
        name=dict(type="str"),
        name_contains=dict(type="str"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[["name", "name_contains"]]
    )
    run(module, run_module)


if __name__ == "__main__":
    main()
