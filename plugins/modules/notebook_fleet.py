#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: notebook_fleet
short_description: Reconcile many SageMaker notebook instances at once, and restart them for a new lifecycle script
version_added: 0.1.0
description:
  - Brings every notebook instance of O(notebooks) to its options, as
    M(secure_sagemaker.notebooks.notebook_instance) does for one, with the same rules, waits, restore and results.
  - The notebooks are handled concurrently in one module process with one AWS client, so a fleet costs one module
    start instead of one per notebook and step, and the notebooks' stops and starts overlap.
  - O(restart) names notebooks to restart (stop, then start) so that a changed lifecycle configuration script
    runs; SageMaker runs it only at a start. A notebook is restarted only when it is running (C(InService) or
    C(PendingMaintenance)) after its reconciliation and that reconciliation did not already stop and start it. A
    notebook whose restart fails after the stop is started again, and the failure is reported.
  - A notebook that fails does not stop the others. The task then fails, naming each failed notebook and its
    error, and RV(notebooks) still reports what was done to every notebook.
  - All input of every notebook is checked before any AWS call; a rejected task changes nothing.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
options:
  notebooks:
    description:
      - The notebook instances, each with the options of M(secure_sagemaker.notebooks.notebook_instance) (except
        O(secure_sagemaker.notebooks.notebook_instance#module:wait) and
        O(secure_sagemaker.notebooks.notebook_instance#module:wait_timeout), which this module sets for all).
        Options omitted on an existing notebook are left as they are.
      - Each name may appear once.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the notebook instance.
        type: str
        required: true
      state:
        description: V(present), V(started), V(stopped) or V(absent), as for notebook_instance.
        type: str
        choices: [present, started, stopped, absent]
        default: present
      instance_type:
        description: The ML compute instance type. Required to create. Updatable.
        type: str
      role_arn:
        description: ARN of the IAM role the notebook assumes. Required to create. Updatable.
        type: str
      subnet_id:
        description: The VPC subnet. Create-only.
        type: str
      security_group_ids:
        description: Up to 5 security group ids. Create-only; compared as a set.
        type: list
        elements: str
      direct_internet_access:
        description: Create-only; V(Disabled) when the module creates the notebook and this is omitted.
        type: str
        choices: [Enabled, Disabled]
      root_access:
        description: Whether users get root access. Updatable.
        type: str
        choices: [Enabled, Disabled]
      kms_key_id:
        description: The KMS key of the storage volume (key ID or ARN, alias name or ARN). Create-only.
        type: str
      kms_key_mismatch:
        description:
          - What a notebook that exists with another KMS key (or none) does. C(fail) refuses, as for any create-only
            field; C(warn) leaves the notebook as it is and warns, for a key meant for new notebooks only.
        type: str
        choices: [fail, warn]
        default: fail
      volume_size_in_gb:
        description: Storage volume size, 5 to 16384 GB; it can only grow.
        type: int
      lifecycle_config_name:
        description: The lifecycle configuration to attach; V("") detaches; omitted leaves it as is.
        type: str
      platform_identifier:
        description: The platform; V(notebook-al2023-v1) when the module creates the notebook and this is omitted.
        type: str
      minimum_imds_version:
        description: The minimum IMDS version; V("2") when the module creates the notebook and this is omitted.
        type: str
        choices: ["1", "2"]
      default_code_repository:
        description: The default Git repository; V("") detaches it. Updatable.
        type: str
      additional_code_repositories:
        description: Up to 3 further Git repositories; V([]) detaches them. Updatable.
        type: list
        elements: str
      tags:
        description: The notebook's tags; omitted leaves them alone.
        type: dict
        aliases: [resource_tags]
      purge_tags:
        description: Remove tags not in O(notebooks[].tags) (when given).
        type: bool
        default: true
  restart:
    description:
      - Names from O(notebooks) to restart so that their lifecycle configuration's new script runs, typically the
        RV(secure_sagemaker.notebooks.lifecycle_config#module:restart_required) of the task that changed it.
    type: list
    elements: str
    default: []
  max_concurrency:
    description:
      - How many notebooks are handled at the same time, 1 to 100. Each polls DescribeNotebookInstance while it
        waits, at most every 15 seconds once a phase lasts minutes.
    type: int
    default: 20
  wait_timeout:
    description:
      - How many seconds to wait for each status change of each notebook.
    type: int
    default: 900
notes:
  - Throttled calls are retried with backoff.
  - Supports check mode (RV(notebooks[].actions) lists what would be done, restarts included) and diff mode (one
    diff per changed notebook).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A new on-start script for the whole fleet
  secure_sagemaker.notebooks.lifecycle_config:
    name: autostop
    on_start: "{{ lookup('ansible.builtin.file', 'on-start.sh') }}"
  register: lcc

- name: Every team's notebook, restarted where the new script must run
  secure_sagemaker.notebooks.notebook_fleet:
    notebooks:
      - name: research-1
        instance_type: ml.t3.medium
        role_arn: arn:aws:iam::123456789012:role/notebook-research
        subnet_id: subnet-0123456789abcdef0
        security_group_ids: [sg-0123456789abcdef0]
        lifecycle_config_name: autostop
      - name: research-2
        instance_type: ml.g5.xlarge
        role_arn: arn:aws:iam::123456789012:role/notebook-research
        subnet_id: subnet-0123456789abcdef0
        security_group_ids: [sg-0123456789abcdef0]
        lifecycle_config_name: autostop
    restart: "{{ lcc.restart_required }}"
  register: fleet

- name: New notebooks get the platform's KMS key; existing ones without it are kept, with a warning
  secure_sagemaker.notebooks.notebook_fleet:
    notebooks:
      - name: research-3
        instance_type: ml.t3.medium
        role_arn: arn:aws:iam::123456789012:role/notebook-research
        subnet_id: subnet-0123456789abcdef0
        security_group_ids: [sg-0123456789abcdef0]
        kms_key_id: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
        kms_key_mismatch: warn

- name: Delete two notebooks at once
  secure_sagemaker.notebooks.notebook_fleet:
    notebooks:
      - {name: old-1, state: absent}
      - {name: old-2, state: absent}
"""

RETURN = r"""
notebooks:
  description:
    - One entry per notebook, in the order of O(notebooks); also returned when the task fails.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The notebook's name.
      type: str
      sample: research-1
    changed:
      description: Whether anything was done to this notebook.
      type: bool
    failed:
      description: Whether this notebook failed.
      type: bool
    msg:
      description: Why this notebook failed.
      type: str
      returned: when it failed
    actions:
      description:
        - The API actions taken on this notebook, in order, the restart included; in check mode the actions that
          would be taken.
      type: list
      elements: str
      sample: [stop, start]
    restarted:
      description: Whether this notebook was stopped and started again (by an update or for O(restart)).
      type: bool
    notebook_instance:
      description:
        - The notebook as M(secure_sagemaker.notebooks.notebook_instance) returns it (DescribeNotebookInstance in
          snake_case, with its tags).
      type: dict
    warnings:
      description: Warnings about this notebook (also issued as task warnings).
      type: list
      elements: str
restarted:
  description: The notebooks stopped and started again by this task.
  returned: always
  type: list
  elements: str
  sample: [research-1]
failed_notebooks:
  description: The notebooks that failed.
  returned: always
  type: list
  elements: str
  sample: []
"""

# Ansible modules keep their documentation above the imports.
try:
    from botocore.config import Config
except ImportError:  # handled by AnsibleAWSModule
    Config = None

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.fleet import converge, module_result
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import notebook_options


def run_module(module):
    params = module.params
    # One connection per concurrent notebook, so that no thread waits for another's.
    config = Config(max_pool_connections=max(10, min(params["max_concurrency"], 100)))
    outcomes = converge(
        client(module, "sagemaker", config=config),
        params["notebooks"],
        restart=params["restart"],
        max_concurrency=params["max_concurrency"],
        wait_timeout=params["wait_timeout"],
        check_mode=module.check_mode,
    )
    return module_result(outcomes, module.warn)


def main():
    argument_spec = dict(
        notebooks=dict(type="list", elements="dict", required=True, options=notebook_options()),
        restart=dict(type="list", elements="str", default=[]),
        max_concurrency=dict(type="int", default=20),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, run_module)


if __name__ == "__main__":
    main()
