# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that expose the collection's policy builders and route checks to the role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import (
    arn,
    caller_policy,
    data_grants,
    isolation,
    lifecycle_config,
    notebook,
    policies,
    teams,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import (
    FAILED_STATES,
    GONE_STATES,
    pick_service,
    service_names,
)


def with_defaults(item, defaults, common_tags=None):
    """A notebook item over the defaults; unset (None or "") fields take the default, tags merge
    over the role's common tags.  An empty value is left out: it means "not set" for every field
    of an item (a kms_key_id "" must not read as "no key" on a notebook that has one)."""
    merged = dict((key, value) for key, value in (defaults or {}).items() if value not in (None, ""))
    merged.update((key, value) for key, value in (item or {}).items() if value not in (None, ""))
    merged["tags"] = dict(common_tags or {}, **(defaults or {}).get("tags") or {})
    merged["tags"].update((item or {}).get("tags") or {})
    return merged


def volume_key(items, key_arn):
    """Notebook items with the stack's KMS key for their volume where they name none: applied when a
    notebook is created, and only warned about on one that exists without it (kms_key_mismatch=warn);
    a key an item names itself stays strict."""
    if not key_arn:
        return list(items or [])
    return [
        dict(item) if item.get("kms_key_id") else dict(item, kms_key_id=key_arn, kms_key_mismatch="warn")
        for item in items or []
    ]


def job_summary(result):
    """One notebook's outcome from a notebook_instance result (direct, or through async_status) or
    from an entry of notebook_fleet's ``notebooks``."""
    item = result.get("item") or {}
    while isinstance(item, dict) and isinstance(item.get("item"), dict):
        item = item["item"]
    notebook = result.get("notebook_instance") or {}
    name = (
        notebook.get("notebook_instance_name")
        or result.get("name")
        or (item.get("name") if isinstance(item, dict) else item)
    )
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


def unknown_instance_types(instance_types):
    """The given instance types that the controller's botocore does not list for notebook instances."""
    # Only this filter needs botocore: the others load without it.
    import botocore.session  # pylint: disable=import-outside-toplevel

    known = notebook.known_instance_types(botocore.session.get_session().get_service_model("sagemaker"))
    return [value for value in instance_types or [] if known and value not in known]


# The tag the role puts on what it shares with other workloads (the VPC endpoints), naming the stack.
STACK_TAG = "isolated-notebook-stack"
# (short service, endpoint type) that the role keeps one of per VPC.
ROUTE_TABLE_TAG = "isolated-notebook-route-table"
STACK_ENDPOINTS = (("s3", "Gateway"), ("sagemaker.api", "Interface"), ("logs", "Interface"))


def stack_endpoints(endpoints, region, stack):
    """Sort a VPC's S3 gateway, SageMaker API and CloudWatch Logs interface endpoints
    (ec2_vpc_endpoint_info results) into this stack's (tagged with its name) and others' (untagged, or
    another stack's); each entry names its short service (``name``: s3, sagemaker.api, logs)."""
    wanted = dict(
        (name, (service, kind)) for service, kind in STACK_ENDPOINTS for name in service_names(service, region)
    )
    sorted_out = {"own": [], "other": []}
    for endpoint in endpoints or []:
        short, kind = wanted.get(endpoint.get("service_name"), (None, None))
        if kind is None or kind != endpoint.get("vpc_endpoint_type"):
            continue
        if str(endpoint.get("state", "")).lower() in GONE_STATES + FAILED_STATES:
            continue
        tags = endpoint.get("tags") or []
        if isinstance(tags, list):  # ec2_vpc_endpoint_info: [{key, value}]
            tags = dict((t.get("key", t.get("Key")), t.get("value", t.get("Value"))) for t in tags)
        owner = tags.get(STACK_TAG)
        entry = {
            "id": endpoint.get("vpc_endpoint_id"),
            "name": short,
            "service": endpoint.get("service_name"),
            "type": endpoint.get("vpc_endpoint_type"),
            "stack": owner,
            # The route table of a team's S3 endpoint (teams share one per route table).
            "route_table": tags.get(ROUTE_TABLE_TAG),
        }
        sorted_out["own" if owner == stack else "other"].append(entry)
    return sorted_out


def endpoint_service(details, service, region, kind):
    """The ServiceDetail (ec2_vpc_endpoint_service_info's ``service_details``) of ``service`` offered as a
    ``kind`` endpoint in ``region`` - ``com.amazonaws.<region>.<service>`` or, in the China regions,
    often ``cn.com.amazonaws.<region>.<service>`` - or {} when EC2 offers none."""
    return pick_service(details, service, region, kind) or {}


def oversized_policies(documents):
    """[label, "<size> characters, over its quota of <limit>"] of the documents over their size quota;
    ``documents``: [[label, kind, document]] (kind: managed, trust, vpc_endpoint or bucket)."""
    return [
        [label, "%d characters, over its quota of %d" % (size, limit)]
        for label, size, limit in policies.oversized(documents)
    ]


def data_grant_errors(grants, region, script_bucket, script_prefix):
    """data_grants.errors: the messages of every grant that breaks a rule ([] when all hold)."""
    return data_grants.errors(grants, region, script_bucket, script_prefix)


def name_error(value, field="name", max_length=arn.NAME_MAX):
    """The role's check of a SageMaker name: arn.py's one rule and message ("" when the name is valid)."""
    return arn.name_error(value, field, max_length=max_length) or ""


def https_from_groups(group_ids, description="HTTPS from the notebooks"):
    """amazon.aws.ec2_security_group rules: HTTPS (tcp 443) from each of these security groups."""
    return [{"proto": "tcp", "ports": [443], "group_id": group, "rule_desc": description} for group in group_ids]


def notebook_roles(homes, name_prefix, region, account):
    """Each notebook's own role (``homes``: data_grants.home_grants, {notebook: its home's grant}), in
    name order: {notebook, role, arn, policy, check}; ``check`` is its policy as oversized_policies takes
    it.  The roles are at path /<name_prefix>/, which the endpoint policies name them by."""
    path = "/%s/" % name_prefix
    found = []
    for name in sorted(homes or {}):
        role = data_grants.home_role_name(name_prefix, name)
        policy = policies.home_policy(name, homes[name], region, account)
        found.append({
            "notebook": name, "role": role, "path": path, "policy": policy,
            "arn": "arn:%s:iam::%s:role%s%s" % (arn.partition_of(region), account, path, role),
            "check": ["the own policy of notebook %s (isolated_notebook_homes)" % name, "role_inline", policy],
        })  # fmt: skip
    return found


def own_roles(items, roles):
    """Fleet items with their notebook's own role (``roles``: notebook_roles), where it has one."""
    arns = dict((role["notebook"], role["arn"]) for role in roles or [])
    return [dict(item, role_arn=arns[item["name"]]) if item.get("name") in arns else dict(item) for item in items]


class FilterModule(object):
    def filters(self):
        return {
            "with_defaults": with_defaults,
            "volume_key": volume_key,
            "kms_key_policy": policies.kms_key_policy,
            "job_summary": job_summary,
            "offending_routes": isolation.offending_routes,
            "effective_route_table": isolation.effective_route_table,
            "bucket_region": isolation.bucket_region,
            "principal_arn": arn.principal_arn,
            "user_id_pattern": arn.user_id_pattern,
            "partition": arn.partition_of,
            "service_host": arn.service_host,
            "name_error": name_error,
            "s3_read_policy": policies.s3_read_policy,
            "kms_key_arn": policies.kms_key_arn,
            "autostop_policy": policies.autostop_policy,
            "autostop_policies": policies.autostop_policies,
            "autostop_policy_names": policies.autostop_policy_names,
            "notebook_policies": policies.notebook_policies,
            "oversized_policies": oversized_policies,
            "trust_policy": policies.trust_policy,
            "s3_endpoint_policy": policies.s3_endpoint_policy,
            "endpoint_policy_errors": policies.endpoint_policy_errors,
            "data_access_policy": policies.data_access_policy,
            "data_grants": data_grants.normalize,
            "data_grant_errors": data_grant_errors,
            "sagemaker_endpoint_policy": policies.sagemaker_endpoint_policy,
            "logs_endpoint_policy": policies.logs_endpoint_policy,
            "bucket_policy": policies.bucket_policy,
            "caller_policy": caller_policy.stack_policy,
            "audit_policy": caller_policy.audit_policy,
            "unknown_instance_types": unknown_instance_types,
            "stack_endpoints": stack_endpoints,
            "team_errors": teams.errors,
            "https_from_groups": https_from_groups,
            "team_stacks": teams.stacks,
            "shared_endpoints": teams.shared_endpoints,
            "endpoint_service": endpoint_service,
            "on_start_errors": lifecycle_config.on_start_errors,
            "home_errors": data_grants.home_errors,
            "home_grants": data_grants.home_grants,
            "homes_grant": data_grants.homes_grant,
            "notebook_roles": notebook_roles,
            "own_roles": own_roles,
            "hardened_buckets": data_grants.hardened_buckets,
            "harden_errors": data_grants.harden_errors,
        }
