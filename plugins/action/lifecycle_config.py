# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of lifecycle_config: reject scripts that are not UTF-8 text, then run the module.

Ansible hands bytes it cannot decode (a binary file through a lookup, ``b64decode`` of non-text)
over as lone surrogates, and then fails to serialize the module arguments with a message that
names neither the option nor the rule.  Checking here gives the module's own clear error instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.lifecycle_config import HOOKS, utf8_error


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars or {})
        for field, _member in HOOKS:
            value = self._task.args.get(field)
            msg = utf8_error(field, value) if isinstance(value, str) else None
            if msg:
                # Values would not serialize; the args are left out of the result for the same reason.
                result.update(failed=True, changed=False, msg=msg)
                return result
        wrap_async = self._task.async_val and not self._connection.has_native_async
        return merge_hash(result, self._execute_module(task_vars=task_vars or {}, wrap_async=wrap_async))
