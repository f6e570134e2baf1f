# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that expose the collection's policy builders and route checks to the role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import isolation, policies


def with_defaults(item, defaults, common_tags=None):
    """A notebook item over the defaults; unset (None) fields take the default, tags merge over
    the role's common tags."""
    merged = dict(defaults or {})
    merged.update((key, value) for key, value in (item or {}).items() if value is not None)
    merged["tags"] = dict(common_tags or {}, **(defaults or {}).get("tags") or {})
    merged["tags"].update((item or {}).get("tags") or {})
    return merged


def job_summary(result):
    """One notebook's outcome from a notebook_instance result (direct, or through async_status)."""
    item = result.get("item") or {}
    while isinstance(item, dict) and isinstance(item.get("item"), dict):
        item = item["item"]
    notebook = result.get("notebook_instance") or {}
    name = notebook.get("notebook_instance_name") or (item.get("name") if isinstance(item, dict) else item)
    actions = result.get("actions") or []
    status = notebook.get("notebook_instance_status", "unknown")
    return {
        "name": name,
        "status": status,
        "actions": actions,
        "changed": bool(result.get("changed")),
        "restarted": "stop" in actions and "start" in actions,
        "line": "%s: %s%s" % (name, status, " (%s)" % ", ".join(actions) if actions else ""),
    }


class FilterModule(object):
    def filters(self):
        return {
            "with_defaults": with_defaults,
            "job_summary": job_summary,
            "offending_routes": isolation.offending_routes,
            "effective_route_table": isolation.effective_route_table,
            "principal_arn": policies.principal_arn,
            "partition": policies.partition_of,
            "s3_read_policy": policies.s3_read_policy,
            "autostop_policy": policies.autostop_policy,
            "trust_policy": policies.trust_policy,
            "s3_endpoint_policy": policies.s3_endpoint_policy,
            "sagemaker_endpoint_policy": policies.sagemaker_endpoint_policy,
            "bucket_policy": policies.bucket_policy,
        }
