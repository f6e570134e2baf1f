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
    names_principal,
    owner_accounts,
    parse_document,
    statements,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.isolation import (
    effective_route_table,
    offending_routes,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import is_service

READ = ("s3:getobject", "s3:getobjectversion")
WRITE = ("s3:putobject", "s3:deleteobject", "s3:deleteobjectversion")
ACTIONS = READ + WRITE
# What the notebook reaches without an S3 endpoint in its way (direct internet access, a route out of the
# VPC, no subnet): everything its role allows.
ANYTHING = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


def _objects(resource):
    """Whether an ARN pattern can name S3 objects: "*", or an S3 ARN with a key part or a wildcard
    (in a policy, "*" matches "/" as well: arn:aws:s3:::* names every object)."""
    if resource == "*":
        return True
    return (
        resource.startswith("arn:") and ":s3:::" in resource and ("/" in resource or "*" in resource or "?" in resource)
    )


def _object_grants(document, principal=None):
    """[(resource pattern, actions, owner accounts)] of the Allow statements on S3 objects (NotAction: every
    action; NotResource: any resource, an upper bound); with ``principal``, only the statements that apply
    to it (Principal "*" narrowed by aws:PrincipalArn, or not narrowed)."""
    found = []
    for statement in statements(parse_document(document)):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        if principal is not None:
            named = named_principals(statement)
            if named and not names_principal(named, principal):
                continue
        if "NotAction" in statement:
            excluded = [str(a).lower() for a in as_list(statement.get("NotAction"))]
            granted = set(a for a in ACTIONS if not any(fnmatch.fnmatchcase(a, pattern) for pattern in excluded))
        else:
            actions = [str(a).lower() for a in as_list(statement.get("Action"))]
            granted = set(a for a in ACTIONS if any(fnmatch.fnmatchcase(a, pattern) for pattern in actions))
        resources = ["*"] if "NotResource" in statement else [str(r) for r in as_list(statement.get("Resource"))]
        owners = sorted(owner_accounts(statement))
        found += [(r, granted, owners) for r in resources if granted and _objects(r)]
    return found


def _narrower(resource, pattern):
    """(the narrower of two ARN patterns, exact) when they can name the same objects, else None: one
    matches the other, or (not exact) their literal parts up to the first wildcard agree, and then the
    one with the longer literal part (both bound what is reached; that one more tightly)."""
    if fnmatch.fnmatchcase(resource, pattern):
        return resource, True
    if fnmatch.fnmatchcase(pattern, resource):
        return pattern, True
    literal = [p.split("*", 1)[0].split("?", 1)[0] for p in (resource, pattern)]
    if literal[0].startswith(literal[1]) or literal[1].startswith(literal[0]):
        return (resource if len(literal[0]) >= len(literal[1]) else pattern), False
    return None


def _location(resource):
    if resource == "*":
        return "*", "*"
    bucket, _sep, key = resource.split(":::", 1)[1].partition("/")
    if not key and ("*" in bucket or "?" in bucket):
        return bucket, "*"
    return bucket, key[:-1] if key.endswith("*") else key


def data_reach(role_policies, endpoint_policies, role_arn):
    """[{bucket, prefix, access: read | write | read-write, accounts, exact}] the role reaches through the
    endpoints (their policies, parsed or not): ``accounts`` the bucket owners the role's statement holds
    it to ([]: any), ``exact`` false where two wildcard patterns overlap only in part (see _narrower).
    ``endpoint_policies`` empty: no S3 gateway endpoint on the route table, nothing is reached."""
    through = [grant for document in endpoint_policies for grant in _object_grants(document, role_arn)]
    reached = {}
    for document in role_policies:
        for resource, actions, owners in _object_grants(document):
            for pattern, passing, _owners in through:
                overlap = _narrower(resource, pattern)
                allowed = actions & passing
                if not overlap or not allowed:
                    continue
                location = _location(overlap[0])
                entry = reached.setdefault(location, {"reads": False, "writes": False, "accounts": set(owners),
                                                      "exact": True})  # fmt: skip
                entry["reads"] |= bool(allowed & set(READ))
                entry["writes"] |= bool(allowed & set(WRITE))
                # Reached in any of the accounts named; a statement that names none reaches any account.
                entry["accounts"] = entry["accounts"] | set(owners) if entry["accounts"] and owners else set()
                entry["exact"] &= overlap[1]
    return [
        {"bucket": bucket, "prefix": prefix,
         "access": "read-write" if e["reads"] and e["writes"] else "read" if e["reads"] else "write",
         "accounts": sorted(e["accounts"]), "exact": e["exact"]}
        for (bucket, prefix), e in sorted(reached.items())
    ]  # fmt: skip


def _endpoint_documents(notebook, subnet, route_tables, endpoints):
    """The policies of the S3 gateway endpoints on the notebook's effective route table, or [ANYTHING]
    when it has a way around them (direct internet access, a route out of the VPC, no subnet)."""
    subnet_id = notebook.get("SubnetId")
    table = effective_route_table(route_tables, subnet_id) if subnet_id and subnet else None
    around = (
        notebook.get("DirectInternetAccess") == "Enabled"
        or table is None
        or bool(offending_routes(table.get("routes")))
    )
    table_id = (table or {}).get("route_table_id")
    on_table = [e for e in endpoints if is_service(e, "s3", "Gateway") and table_id in (e.get("RouteTableIds") or [])]
    return [ANYTHING] if around else [e.get("PolicyDocument") for e in on_table]


def notebook_reach(notebook, subnet, route_tables, endpoints, role):
    """data_reach of a notebook from the audit's data: through the S3 endpoint on its subnet's effective
    route table, or bounded by its role alone when it has a way around the endpoint (direct internet
    access, a route out of the VPC, no subnet); None when the role could not be read."""
    if not role or role.get("error"):
        return None
    documents = _endpoint_documents(notebook, subnet, route_tables, endpoints)
    return data_reach([p.get("document") for p in role.get("policies") or []], documents, role.get("arn"))


def endpoint_reach(notebook, subnet, route_tables, endpoints, role_arn):
    """[{bucket, prefix, access}] the S3 endpoints on the notebook's route table let its role through
    for, whatever the role's own policy says ([] with a way around them: the role alone bounds that)."""
    documents = _endpoint_documents(notebook, subnet, route_tables, endpoints)
    if documents == [ANYTHING] or not role_arn:
        return []
    found = {}
    for document in documents:
        for resource, actions, _owners in _object_grants(document, role_arn):
            entry = found.setdefault(_location(resource), set())
            entry |= actions
    return [{"bucket": bucket, "prefix": prefix, "access": _access(actions)}
            for (bucket, prefix), actions in sorted(found.items())]  # fmt: skip


def _access(actions):
    reads, writes = bool(actions & set(READ)), bool(actions & set(WRITE))
    return "read-write" if reads and writes else "read" if reads else "write"


# The tag the isolated_notebook role puts on each team's resources, its execution roles included.
TEAM_TAG = "isolated-notebook-team"


def _overlaps(one, other):
    """Whether two reached locations ({bucket, prefix}; "*" for any) can hold the same objects."""
    buckets = one["bucket"] == other["bucket"] or "*" in (one["bucket"], other["bucket"])
    prefixes = "*" in (one["prefix"], other["prefix"]) or one["prefix"].startswith(other["prefix"]) or (
        other["prefix"].startswith(one["prefix"]))  # fmt: skip
    return buckets and prefixes


def cross_team(entries):
    """{notebook: [(finding id, evidence)]} for notebooks of a team (``entries``: name, team, data_access,
    endpoint_access) that reach, or whose endpoint lets them through to, a location another team's
    notebooks write.  A team's data is what its notebooks write: data two teams only read is no finding."""
    writes = {}
    for entry in entries:
        for reached in entry["data_access"] or []:
            if entry["team"] and reached["access"] != "read":
                writes.setdefault(entry["team"], []).append(reached)
    found = {}
    for entry in entries:
        if not entry["team"]:
            continue
        seen = set()
        reached = [("cross-team-data", r) for r in entry["data_access"] or []]
        reached += [("cross-team-endpoint", r) for r in entry["endpoint_access"] or []]
        for finding_id, location in reached:
            for team in sorted(writes):
                if team == entry["team"]:
                    continue
                for written in writes[team]:
                    key = (team, location["bucket"], location["prefix"])
                    if not _overlaps(location, written) or key in seen:
                        continue
                    seen.add(key)
                    found.setdefault(entry["name"], []).append((finding_id, {
                        "team": entry["team"], "other_team": team, "bucket": location["bucket"],
                        "prefix": location["prefix"], "access": location["access"],
                        "written": {"bucket": written["bucket"], "prefix": written["prefix"]},
                    }))  # fmt: skip
    return found
