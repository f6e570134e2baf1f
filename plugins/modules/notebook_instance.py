#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: notebook_instance
short_description: Manage a SageMaker notebook instance, its lifecycle configuration and safe restarts
version_added: 0.1.0
description:
  - Create, reconcile, start, stop and delete one SageMaker notebook instance.
  - SageMaker changes a notebook instance only while it is C(Stopped). When updatable options differ and the
    notebook is C(InService), the module stops it, waits, updates it, waits, starts it and waits, as the AWS
    console has users do by hand. A C(Stopped) notebook is updated and left stopped (unless O(state=started)).
    A notebook in a transitional status (C(Pending), C(Stopping), C(Updating), C(Deleting), C(InMaintenance)) is
    first waited for, within O(wait_timeout). A C(PendingMaintenance) notebook (running, with maintenance scheduled)
    is handled as an C(InService) one. A C(Failed) notebook is updated and reported with a warning. A status this
    collection does not know fails the task before any change.
  - A notebook the module found running (C(InService) or C(PendingMaintenance)) and stopped for an update is
    running again when the module returns, also when the update (or a wait) fails; the task then fails with the
    original error. With O(state=stopped) the user asked for a stopped notebook, so it is not started again.
  - Options omitted on an existing notebook are left as they are, so a run never restarts a notebook or
    migrates its platform unless the task asks for a different value.
  - Create-only settings (O(subnet_id), O(security_group_ids), O(direct_internet_access), O(kms_key_id)) and a
    smaller O(volume_size_in_gb) are never changed on an existing notebook; the task fails, names each field
    with its current and wanted value, and changes nothing. Changing them means deleting the notebook and its
    storage volume, which this module does only with O(state=absent).
  - RV(actions) lists the API actions taken, in order; in check mode the actions that would be taken.
  - All input is checked before any AWS write; a rejected task changes nothing.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
options:
  name:
    description:
      - Name of the notebook instance; 1 to 63 letters, digits and hyphens, starting and ending with a letter or a
        digit.
    type: str
    required: true
  state:
    description:
      - V(present) creates the notebook (it then runs, C(InService)) or reconciles it, leaving it running or
        stopped as found.
      - V(started) also makes sure it is C(InService); V(stopped) makes sure it is C(Stopped) (a new notebook is
        created, then stopped).
      - V(absent) stops the notebook if needed and deletes it with its storage volume; a missing notebook is not a
        change.
    type: str
    choices: [present, started, stopped, absent]
    default: present
  instance_type:
    description:
      - The ML compute instance type, for example V(ml.t3.medium). Required to create. Updatable.
    type: str
  role_arn:
    description:
      - ARN of the IAM role the notebook assumes. Required to create. Updatable.
    type: str
  subnet_id:
    description:
      - The VPC subnet of the notebook's network interface. Create-only.
      - Required when the notebook is created with O(direct_internet_access=Disabled), the default.
    type: str
  security_group_ids:
    description:
      - Up to 5 VPC security group ids for the notebook's network interface. Create-only; compared as a set.
    type: list
    elements: str
  direct_internet_access:
    description:
      - Whether SageMaker gives the notebook internet access through its own network. Create-only.
      - When the module creates a notebook and this is omitted, V(Disabled) is used (this collection exists for
        isolated notebooks); then O(subnet_id) is required. On an existing notebook an omitted value is left
        alone.
    type: str
    choices: [Enabled, Disabled]
  root_access:
    description:
      - Whether users get root access on the notebook. Updatable. AWS assumes V(Enabled) when not set at
        creation.
    type: str
    choices: [Enabled, Disabled]
  kms_key_id:
    description:
      - The KMS key that encrypts the storage volume, as a key ID, key ARN, alias name or alias ARN. Create-only.
      - A key ARN and its key ID (an alias ARN and C(alias/NAME)) count as the same key; an alias and the key it
        points to count as different, since telling them apart needs a KMS call.
    type: str
  kms_key_mismatch:
    description:
      - What happens when the notebook exists with another KMS key than O(kms_key_id), or with none.
      - C(fail) refuses the change, as for every create-only setting.
      - C(warn) leaves the notebook as it is and issues a warning naming the key it keeps; for a key that new
        notebooks get by default, where replacing an existing notebook (and its volume) is not wanted.
    type: str
    choices: [fail, warn]
    default: fail
  volume_size_in_gb:
    description:
      - Size of the ML storage volume in GB, 5 to 16384. It can only grow; a smaller value fails.
      - AWS uses 5 when not set at creation.
    type: int
  lifecycle_config_name:
    description:
      - Name of the lifecycle configuration to attach; V("") detaches the current one; omitted leaves it as is.
      - The configuration takes effect at the next start, so attaching one to a running notebook restarts it.
    type: str
  platform_identifier:
    description:
      - The platform (operating system and JupyterLab version), for example V(notebook-al2023-v1).
      - When the module creates a notebook and this is omitted, V(notebook-al2023-v1) is used. On an existing
        notebook an omitted value is left alone; a different value updates the platform (restarting a running
        notebook).
    type: str
  minimum_imds_version:
    description:
      - The minimum instance metadata service version the notebook allows. V("2") requires IMDSv2.
      - When the module creates a notebook and this is omitted, V("2") is used. On an existing notebook an omitted
        value is left alone.
    type: str
    choices: ["1", "2"]
  default_code_repository:
    description:
      - A Git repository (URL or SageMaker code repository name) cloned as the notebook's default directory;
        V("") detaches it. Updatable.
    type: str
  additional_code_repositories:
    description:
      - Up to 3 further Git repositories; V([]) detaches them. Compared as a set. Updatable.
    type: list
    elements: str
  wait:
    description:
      - Wait until the last action is complete (the notebook C(InService), C(Stopped) or deleted).
      - The waits between the actions of a restart (stop, update, start) always happen, as SageMaker refuses the
        next call until the previous one is done.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for each status change (AWS takes minutes to start or stop a notebook).
    type: int
    default: 900
notes:
  - Throttled calls are retried with backoff.
  - Supports check mode (RV(actions) lists what would be done) and diff mode (before and after of the
    reconciled options, tags and status).
  - For many notebooks, M(secure_sagemaker.notebooks.notebook_fleet) applies the same logic to all of them in one
    task and one module process, concurrently.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: An isolated notebook in a private subnet, with a lifecycle configuration
  secure_sagemaker.notebooks.notebook_instance:
    name: research-1
    instance_type: ml.t3.medium
    role_arn: arn:aws:iam::123456789012:role/notebook-research
    subnet_id: subnet-0123456789abcdef0
    security_group_ids: [sg-0123456789abcdef0]
    volume_size_in_gb: 20
    lifecycle_config_name: autostop
    tags:
      team: research
  register: notebook

- name: Attach another lifecycle configuration; a running notebook is stopped, updated and started again
  secure_sagemaker.notebooks.notebook_instance:
    name: research-1
    lifecycle_config_name: autostop-v2
  register: result
  # result.actions == ["stop", "update", "start"]

- name: Detach the lifecycle configuration but leave the notebook stopped
  secure_sagemaker.notebooks.notebook_instance:
    name: research-1
    lifecycle_config_name: ""
    state: stopped

- name: Start several stopped notebooks at once (a running one is left as it is)
  secure_sagemaker.notebooks.notebook_instance:
    name: "{{ item }}"
    state: started
  loop: [research-1, research-2]
  async: 1800
  poll: 0
  register: starts

- name: Delete a notebook and its storage volume
  secure_sagemaker.notebooks.notebook_instance:
    name: research-1
    state: absent
"""

RETURN = r"""
actions:
  description:
    - The API actions taken, in order (V(create), V(stop), V(update), V(start), V(delete), V(tag)); in check mode
      the actions that would be taken. Also returned when the task fails.
  returned: always
  type: list
  elements: str
  sample: [stop, update, start]
notebook_instance:
  description:
    - The notebook instance as DescribeNotebookInstance returns it, in snake_case, with its tags.
    - Empty when the notebook does not exist (after O(state=absent)). In check mode, the notebook as it was found.
  returned: always
  type: dict
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
    failure_reason:
      description: Why the notebook is C(Failed).
      type: str
      returned: when the notebook is Failed
    url:
      description: The notebook's Jupyter URL (without scheme).
      type: str
      sample: research-1.notebook.us-east-1.sagemaker.aws
    instance_type:
      description: The ML compute instance type.
      type: str
      sample: ml.t3.medium
    role_arn:
      description: The IAM role ARN.
      type: str
    subnet_id:
      description: The subnet.
      type: str
      returned: when the notebook is in a VPC
    security_groups:
      description: The security group ids.
      type: list
      elements: str
    network_interface_id:
      description: The notebook's network interface in the subnet.
      type: str
      returned: when the notebook is in a VPC
      sample: eni-0123456789abcdef0
    direct_internet_access:
      description: Enabled or Disabled.
      type: str
      sample: Disabled
    kms_key_id:
      description: The KMS key of the storage volume.
      type: str
      returned: when set
    volume_size_in_gb:
      description: The storage volume size.
      type: int
      sample: 20
    root_access:
      description: Enabled or Disabled.
      type: str
    notebook_instance_lifecycle_config_name:
      description: The attached lifecycle configuration.
      type: str
      returned: when one is attached
      sample: autostop
    platform_identifier:
      description: The platform.
      type: str
      sample: notebook-al2023-v1
    instance_metadata_service_configuration:
      description: The IMDS settings.
      type: dict
      contains:
        minimum_instance_metadata_service_version:
          description: The minimum IMDS version.
          type: str
          sample: "2"
    default_code_repository:
      description: The default Git repository.
      type: str
      returned: when set
    additional_code_repositories:
      description: Further Git repositories.
      type: list
      elements: str
      returned: when set
    creation_time:
      description: When the notebook was created.
      type: str
    last_modified_time:
      description: When the notebook last changed.
      type: str
    tags:
      description: The notebook's tags.
      type: dict
      sample: {team: research}
refused:
  description: The create-only fields (and a volume shrink) that made the task fail, with current and wanted values.
  returned: when the task fails for them
  type: list
  elements: dict
  sample: [{field: subnet_id, current: subnet-1, wanted: subnet-2}]
"""

# Ansible modules keep their documentation above the imports.
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import notebook_options
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook_ops import reconcile


def run_module(module):
    return reconcile(client(module, "sagemaker"), module.params, check_mode=module.check_mode, warn=module.warn)


def main():
    argument_spec = notebook_options()
    argument_spec.update(wait=dict(type="bool", default=True), wait_timeout=dict(type="int", default=900))
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, run_module)


if __name__ == "__main__":
    main()
