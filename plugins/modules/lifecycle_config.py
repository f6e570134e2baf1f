#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lifecycle_config
short_description: Manage SageMaker notebook instance lifecycle configurations
version_added: 0.1.0
description:
  - Create, update in place and delete a SageMaker notebook instance lifecycle configuration, that is
    the shell scripts a notebook instance runs when it is created (O(on_create)) and every time it starts
    (O(on_start)).
  - Scripts are given as plain text; the module does the base64 encoding the API needs, and compares
    scripts decoded, so an unchanged script never causes a write.
  - A changed script keeps the configuration's name and ARN. It takes effect only at the next start of a
    notebook instance; this module never restarts anything. When the O(on_start) script changes while
    the configuration is attached to running notebook instances, the result lists them in
    RV(restart_required) and a warning names them. Restart them with
    M(secure_sagemaker.notebooks.notebook_instance).
  - All input is checked before any AWS call; a rejected task changes nothing.
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
options:
  name:
    description:
      - Name of the lifecycle configuration.
      - 1 to 63 characters; letters, digits and hyphens, starting and ending with a letter or a digit
        (the API's pattern C(^[a-zA-Z0-9]+(-+[a-zA-Z0-9]+)*$)).
    type: str
    required: true
  state:
    description:
      - V(present) creates the configuration or brings its scripts and tags to what the task says.
      - V(absent) deletes it. A configuration still attached to a notebook instance is not deleted; the task
        fails and names the notebook instances. Deleting a configuration that does not exist is not a change.
    type: str
    choices: [present, absent]
    default: present
  on_start:
    description:
      - The script that runs every time a notebook instance using this configuration starts, as plain text
        (typically starting with C(#!/bin/bash)).
      - It runs as root from C(/); a script that runs longer than 5 minutes makes the start fail.
      - The task describes the whole configuration; omitting O(on_start) means the configuration has no
        start script, and an existing one is removed.
      - Must be non-empty UTF-8 text of at most 12288 bytes (SageMaker takes at most 16384 characters of
        base64).
    type: str
  on_create:
    description:
      - The script that runs once, when a notebook instance using this configuration is created, as plain text.
      - Changing it does not affect notebook instances that already exist.
      - Omitting O(on_create) means the configuration has no create script, and an existing one is removed.
      - Same limits as O(on_start).
    type: str
notes:
  - Supports C(--check), which reports exactly the change a real run would make (including a refusal to
    delete an attached configuration) and calls no write API.
  - Supports C(--diff), which shows a unified diff of each changed script and of the tags, like
    M(ansible.builtin.copy) does for files.
  - Throttling and transient errors are retried with jittered exponential backoff.
  - Tags are given to the create call; later changes use the SageMaker AddTags and DeleteTags calls.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Stop idle notebooks from a start script shipped with the playbook
  secure_sagemaker.notebooks.lifecycle_config:
    name: autostop
    on_start: "{{ lookup('ansible.builtin.file', 'files/on-start.sh') }}"
    tags:
      team: research
  register: lcc

- name: Stop the running notebooks that still have the old start script
  secure_sagemaker.notebooks.notebook_instance:
    name: "{{ item }}"
    state: stopped
  loop: "{{ lcc.restart_required }}"

- name: Start them again, which runs the new script
  secure_sagemaker.notebooks.notebook_instance:
    name: "{{ item }}"
    state: started
  loop: "{{ lcc.restart_required }}"

- name: A configuration with both hooks, written inline
  secure_sagemaker.notebooks.lifecycle_config:
    name: research-setup
    on_create: |
      #!/bin/bash
      set -euo pipefail
      sudo -u ec2-user mkdir -p /home/ec2-user/SageMaker/work
    on_start: |
      #!/bin/bash
      set -euo pipefail
      echo "started $(date -u)" >> /home/ec2-user/SageMaker/.starts

- name: Delete a configuration (fails while a notebook instance still uses it)
  secure_sagemaker.notebooks.lifecycle_config:
    name: research-setup
    state: absent
"""

RETURN = r"""
name:
  description: Name of the lifecycle configuration.
  returned: always
  type: str
  sample: autostop
arn:
  description:
    - ARN of the lifecycle configuration; it stays the same when a script changes.
    - For V(state=absent), the ARN of the deleted configuration. Null when nothing exists, or when check mode
      predicts a creation.
  returned: always
  type: str
  sample: arn:aws:sagemaker:us-east-1:123456789012:notebook-instance-lifecycle-config/autostop
on_start:
  description: The start script as text, or null when the configuration has none (or is absent).
  returned: always
  type: str
  sample: "#!/bin/bash\necho hello\n"
on_create:
  description: The create script as text, or null when the configuration has none (or is absent).
  returned: always
  type: str
  sample: null
on_start_sha256:
  description: SHA-256 of the start script's UTF-8 bytes, or null without a start script.
  returned: always
  type: str
  sample: 2c1ee42ae3f5b8b2b7ae8c1bb44a1a4d2e7b6bf7a7b4f0dd36e1e4b6a1b0d12f
on_create_sha256:
  description: SHA-256 of the create script's UTF-8 bytes, or null without a create script.
  returned: always
  type: str
  sample: null
creation_time:
  description: When the configuration was created (ISO 8601); null when it does not exist (yet).
  returned: always
  type: str
  sample: "2026-11-28T04:44:29.344000+00:00"
last_modified_time:
  description: When the configuration was last changed (ISO 8601); null when it does not exist (yet).
  returned: always
  type: str
  sample: "2026-11-28T04:50:02.120000+00:00"
tags:
  description: The configuration's tags.
  returned: always
  type: dict
  sample: {"team": "research"}
attached_notebooks:
  description:
    - The notebook instances that use this configuration, that is, what its next start affects.
    - Empty for a new or deleted configuration.
  returned: always
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
      description: Status of the notebook instance (V(InService), V(Stopped), ...).
      type: str
      sample: InService
restart_required:
  description:
    - Names of the attached notebook instances that are running (V(InService) or V(Pending)) while the
      O(on_start) script changed (or, in check mode, would change). They run the new script only after a restart.
  returned: always
  type: list
  elements: str
  sample: ["research-1"]
diff:
  description: Before and after text of each changed script and of the tags, in diff mode.
  returned: when diff mode is on
  type: list
  elements: dict
  sample: [{"before_header": "autostop: on_start (before)", "after_header": "autostop: on_start (after)",
            "before": "#!/bin/bash\necho 1\n", "after": "#!/bin/bash\necho 2\n"}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.lifecycle_config import (
    LifecycleConfigs,
    validate,
)


def run_module(module):
    validate(module.params)  # before the client exists: bad input never reaches AWS
    configs = LifecycleConfigs(client(module, "sagemaker"), check_mode=module.check_mode, warn=module.warn)
    return configs.ensure(module.params)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        on_start=dict(type="str"),
        on_create=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, run_module)


if __name__ == "__main__":
    main()
