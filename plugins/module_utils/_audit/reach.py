# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The S3 data a notebook can reach: what its role's identity policies allow on S3 objects, as far as
the policy of the S3 gateway endpoint on its route table lets that role through.

A request through a gateway endpoint needs both (AWS PrivateLink Guide, "Control access to VPC
endpoints using endpoint policies": an endpoint policy "does not override or replace identity-based
policies or resource-based policies").  The figure is what the two policies allow; bucket policies
and KMS key policies may deny more, and Deny statements are not subtracted (the collection writes
none in these policies): it is an upper bound, which is what an auditor needs to see.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.policy import (
    as_list,
    named_principals,
    parse_document,
    statements,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.isolation import effective_route_table
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import is_service

READ = ("s3:getobject",)
WRITE = ("s3:putobject", "s3:deleteobject")


def _object_grants(document, principal=None):
    """[(resource pattern, actions)] of the Allow statements on S3 objects; with ``principal``, only the
    statements that apply to it (Principal "*" narrowed by aws:PrincipalArn, or not narrowed)."""
    found = []
    for statement in statements(parse_document(document)):
        if str(statement.get("Effect", "")).lower() != "allow" or "NotAction" in statement:
            continue
        if principal is not None:
            named = named_principals(statement)
            if named and principal not in named:
                continue
        actions = [str(a).lower() for a in as_list(statement.get("Action"))]
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        objects = [r for r in resources if r == "*" or (r.startswith("arn:") and ":s3:::" in r and "/" in r)]
        granted = set(a for a in READ + WRITE if any(fnmatch.fnmatchcase(a, pattern) for pattern in actions))
        if objects and granted:
            found += [(resource, granted) for resource in objects]
    return found


def _location(resource):
    if resource == "*":
        return "*", "*"
    bucket, _sep, key = resource.split(":::", 1)[1].partition("/")
    return bucket, key[:-1] if key.endswith("*") else key


def data_reach(role_policies, endpoint_policies, role_arn):
    """[{bucket, prefix, access: read | write | read-write}] the role reaches through the endpoints (their
    policies, parsed or not);
    ``endpoint_policies`` empty: no S3 gateway endpoint on the route table, nothing is reached."""
    through = [grant for document in endpoint_policies for grant in _object_grants(document, role_arn)]
    reached = {}
    for document in role_policies:
        for resource, actions in _object_grants(document):
            allowed = set()
            for pattern, passing in through:
                if fnmatch.fnmatchcase(resource, pattern):
                    allowed |= actions & passing
            if allowed:
                location = _location(resource)
                reads, writes = "s3:getobject" in allowed or "read" in reached.get(location, ""), bool(
                    allowed & set(WRITE)) or "write" in reached.get(location, "")  # fmt: skip
                reached[location] = "read-write" if reads and writes else "read" if reads else "write"
    return [{"bucket": b, "prefix": p, "access": a} for (b, p), a in sorted(reached.items())]


def notebook_reach(subnet_id, route_tables, endpoints, role):
    """data_reach of a notebook from the audit's data: its subnet's effective route table, the VPC's
    endpoints and its role ({"arn", "policies": [{"document"}]}); None when the role could not be read."""
    if not role or role.get("error"):
        return None
    table = effective_route_table(route_tables, subnet_id) if subnet_id else None
    table_id = (table or {}).get("route_table_id")
    on_table = [e for e in endpoints if is_service(e, "s3", "Gateway") and table_id in (e.get("RouteTableIds") or [])]
    return data_reach([p.get("document") for p in role.get("policies") or []],
                      [e.get("PolicyDocument") for e in on_table], role.get("arn"))  # fmt: skip
