# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The notebooks' execution role: its trust policy, description, tags, exactly its managed policies
and, when given, exactly its inline policies; deleted with its attachments.  No instance profile is
ever created or touched (a notebook role needs none), so the calls are the ones docs/permissions.md
grants."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError, error_code
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.policies import LIMITS, size

# IAM API reference: RoleName 1-64 of [\w+=,.@-]; Description up to 1,000 characters; the path
# begins and ends with "/" and has 1-512 characters.
ROLE_NAME_MAX = 64
PATH_MAX = 512
DESCRIPTION_MAX = 1000
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-")
# PutRolePolicy PolicyName: 1-128 of [\w+=,.@-].  The inline policies of a role add up to at most
# 10,240 characters, white space not counted (IAM User Guide, "IAM and AWS STS quotas": role policy size).
INLINE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")


def _check_path(path):
    if not (path.startswith("/") and path.endswith("/")) or len(path) > PATH_MAX:
        raise NotebooksError("path: an IAM path begins and ends with / and has at most %d characters (got %r)"
                             % (PATH_MAX, path), field="path")  # fmt: skip


def validate(params):
    """Bad input fails here, naming the field and the rule, before any AWS call."""
    name = params["name"]
    if not name or len(name) > ROLE_NAME_MAX or set(name) - _NAME_CHARS:
        raise NotebooksError(
            "name: an IAM role name is 1 to %d letters, digits and _+=,.@- (got %r)" % (ROLE_NAME_MAX, name),
            field="name",
        )
    _check_path(params["path"])
    if len(params.get("description") or "") > DESCRIPTION_MAX:
        raise NotebooksError("description: at most %d characters" % DESCRIPTION_MAX, field="description")
    if params["state"] == "present" and not isinstance(params.get("trust_policy"), dict):
        raise NotebooksError("trust_policy: a policy document (dict) is required with state=present",
                             field="trust_policy")  # fmt: skip
    inline = params.get("inline_policies")
    if inline is None:
        return
    for policy_name, document in sorted(inline.items()):
        if not INLINE_NAME_RE.match(policy_name):
            raise NotebooksError("inline_policies: %r is not an inline policy name (1 to 128 letters, digits and "
                                 "_+=,.@-)" % policy_name, field="inline_policies")  # fmt: skip
        if not isinstance(document, dict):
            raise NotebooksError("inline_policies: %s must be a policy document (dict)" % policy_name,
                                 field="inline_policies")  # fmt: skip
    total = sum(size(document) for document in inline.values())
    if total > LIMITS["role_inline"]:
        raise NotebooksError("inline_policies: %d characters together, over IAM's %d for a role's inline policies"
                             % (total, LIMITS["role_inline"]), field="inline_policies")  # fmt: skip


def current(iam, name, inline=False):
    """The role as IAM holds it, with its managed policies (and ``inline``: its inline ones), or None."""
    try:
        role = iam.get_role(RoleName=name, aws_retry=True)["Role"]
    except Exception as e:  # botocore's ClientError; the name keeps this importable without botocore
        if error_code(e) == "NoSuchEntity":
            return None
        raise
    attached = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        attached.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
    found = {
        "name": role["RoleName"],
        "arn": role["Arn"],
        "path": role["Path"],
        "role_id": role["RoleId"],
        "trust_policy": role["AssumeRolePolicyDocument"],
        "description": role.get("Description", ""),
        "tags": {t["Key"]: t["Value"] for t in role.get("Tags", [])},
        "managed_policy_arns": sorted(attached),
    }
    if inline:
        found["inline_policies"] = {
            policy_name: iam.get_role_policy(RoleName=name, PolicyName=policy_name, aws_retry=True)["PolicyDocument"]
            for policy_name in _inline_names(iam, name)
        }
    return found


def _inline_names(iam, name):
    names = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        names.extend(page["PolicyNames"])
    return sorted(names)


def plan(role, wanted):
    """[(step, argument)] that turn ``role`` (None: absent) into ``wanted``."""
    inline = wanted.get("inline_policies")
    if role is None:
        return ([("create", None)] + [("attach", arn) for arn in sorted(wanted["managed_policy_arns"])]
                + [("put", name) for name in sorted(inline or {})])  # fmt: skip
    steps = []
    if compare_policies(role["trust_policy"], wanted["trust_policy"]):
        steps.append(("trust", None))
    if wanted["description"] is not None and role["description"] != wanted["description"]:
        steps.append(("describe", None))
    tags = wanted["tags"]
    added = {k: v for k, v in tags.items() if role["tags"].get(k) != v}
    if added:
        steps.append(("tag", added))
    removed = sorted(set(role["tags"]) - set(tags)) if wanted["purge_tags"] else []
    if removed:
        steps.append(("untag", removed))
    steps += [("attach", arn) for arn in sorted(set(wanted["managed_policy_arns"]) - set(role["managed_policy_arns"]))]
    steps += [("detach", arn) for arn in sorted(set(role["managed_policy_arns"]) - set(wanted["managed_policy_arns"]))]
    if inline is not None:
        held = role.get("inline_policies", {})
        steps += [("put", n) for n in sorted(inline) if n not in held or compare_policies(held[n], inline[n])]
        steps += [("delete_inline", n) for n in sorted(set(held) - set(inline))]
    return steps


def predicted(role, wanted, steps):
    """The role as the steps leave it (check mode and the diff's ``after``)."""
    after = dict(role or {"name": wanted["name"], "arn": None, "path": wanted["path"], "role_id": None,
                          "description": "", "tags": {}, "managed_policy_arns": []})  # fmt: skip
    for step, argument in steps:
        if step in ("create", "trust"):
            after["trust_policy"] = wanted["trust_policy"]
        if step in ("create", "describe") and wanted["description"] is not None:
            after["description"] = wanted["description"]
        if step == "create":
            after["tags"] = dict(wanted["tags"])
        elif step == "tag":
            after["tags"] = dict(after["tags"], **argument)
        elif step == "untag":
            after["tags"] = {k: v for k, v in after["tags"].items() if k not in argument}
        elif step == "attach":
            after["managed_policy_arns"] = sorted(set(after["managed_policy_arns"]) | {argument})
        elif step == "detach":
            after["managed_policy_arns"] = sorted(set(after["managed_policy_arns"]) - {argument})
        elif step == "put":
            after["inline_policies"] = dict(
                after.get("inline_policies") or {}, **{argument: wanted["inline_policies"][argument]}
            )
        elif step == "delete_inline":
            after["inline_policies"] = {k: v for k, v in after["inline_policies"].items() if k != argument}
    return after


def apply(iam, wanted, steps):
    """Make the steps; returns the role CreateRole returned (None without a create)."""
    name, created = wanted["name"], None
    for step, argument in steps:
        if step == "create":
            request = dict(
                RoleName=name, Path=wanted["path"], AssumeRolePolicyDocument=json.dumps(wanted["trust_policy"])
            )
            if wanted["description"]:
                request["Description"] = wanted["description"]
            if wanted["tags"]:
                request["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(wanted["tags"].items())]
            created = iam.create_role(aws_retry=True, **request)["Role"]
        elif step == "trust":
            iam.update_assume_role_policy(
                RoleName=name, PolicyDocument=json.dumps(wanted["trust_policy"]), aws_retry=True
            )
        elif step == "describe":
            iam.update_role(RoleName=name, Description=wanted["description"], aws_retry=True)
        elif step == "tag":
            iam.tag_role(
                RoleName=name, Tags=[{"Key": k, "Value": v} for k, v in sorted(argument.items())], aws_retry=True
            )
        elif step == "untag":
            iam.untag_role(RoleName=name, TagKeys=argument, aws_retry=True)
        elif step == "attach":
            iam.attach_role_policy(RoleName=name, PolicyArn=argument, aws_retry=True)
        elif step == "detach":
            iam.detach_role_policy(RoleName=name, PolicyArn=argument, aws_retry=True)
        elif step == "put":
            document = json.dumps(wanted["inline_policies"][argument])
            iam.put_role_policy(RoleName=name, PolicyName=argument, PolicyDocument=document, aws_retry=True)
        elif step == "delete_inline":
            iam.delete_role_policy(RoleName=name, PolicyName=argument, aws_retry=True)
    return created


def delete(iam, role, check_mode):
    """Detach the managed policies, delete the inline ones and the role.  A role in an instance
    profile is refused, naming it: this module never made one, so it is not its to change."""
    name = role["name"]
    profiles = iam.list_instance_profiles_for_role(RoleName=name, aws_retry=True)["InstanceProfiles"]
    if profiles:
        raise NotebooksError(
            "name: role %s is in instance profile(s) %s, which this module did not create; remove it from them "
            "first" % (name, ", ".join(p["InstanceProfileName"] for p in profiles)), field="name")  # fmt: skip
    inline = iam.list_role_policies(RoleName=name, aws_retry=True)["PolicyNames"]
    if check_mode:
        return
    for arn in role["managed_policy_arns"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=arn, aws_retry=True)
    for policy_name in inline:
        iam.delete_role_policy(RoleName=name, PolicyName=policy_name, aws_retry=True)
    iam.delete_role(RoleName=name, aws_retry=True)


def listed(iam, path, name_prefix=""):
    """The roles exactly at ``path`` whose name begins with ``name_prefix``, sorted by name: one
    paginated ListRoles (PathPrefix matches deeper paths too, which are not the caller's).  ListRoles
    answers no tags, permissions boundary or last use (IAM API reference), and none is read here."""
    found = []
    for page in iam.get_paginator("list_roles").paginate(PathPrefix=path):
        found.extend(
            {"name": r["RoleName"], "arn": r["Arn"], "path": r["Path"], "role_id": r["RoleId"]}
            for r in page["Roles"] if r["Path"] == path and r["RoleName"].startswith(name_prefix)
        )  # fmt: skip
    return sorted(found, key=lambda r: r["name"])


def validate_listing(params):
    """The info module's input rules, before any AWS call."""
    _check_path(params["path"])
    if set(params.get("name_prefix") or "") - _NAME_CHARS:
        raise NotebooksError("name_prefix: a role name has only letters, digits and _+=,.@- (got %r)"
                             % params["name_prefix"], field="name_prefix")  # fmt: skip


def view(role):
    """The role as the module returns it (None when absent)."""
    return None if role is None else dict(role)


def execute(iam, params, check_mode):
    """The module's whole job; returns its result."""
    validate(params)
    inline = params.get("inline_policies") is not None
    role = current(iam, params["name"], inline)
    if params["state"] == "absent":
        if role is None:
            return dict(changed=False, role=None, diff=dict(before={}, after={}))
        delete(iam, role, check_mode)
        return dict(changed=True, role=None, diff=dict(before=view(role), after={}))
    # IAM holds tag values as strings: a YAML number would otherwise differ on every run.
    tags = {str(k): str(v) for k, v in (params.get("tags") or {}).items()}
    wanted = dict(params, tags=tags, managed_policy_arns=params.get("managed_policy_arns") or [])
    steps = plan(role, wanted)
    if steps and not check_mode:
        created = apply(iam, wanted, steps)
        # A new role can be missing from reads for a few seconds (IAM is eventually consistent):
        # then CreateRole's answer names it.
        after = current(iam, params["name"], inline)
        if after is None:  # only after a create: an existing role was read at the start
            after = predicted(role, wanted, steps)
            if created:
                after.update(arn=created["Arn"], role_id=created["RoleId"])
    else:
        after = predicted(role, wanted, steps)
    return dict(changed=bool(steps), role=after, actions=[s for s, _a in steps],
                diff=dict(before=view(role) or {}, after=after))  # fmt: skip
