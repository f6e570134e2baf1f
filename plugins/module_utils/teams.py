# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Teams: many data-science teams in one VPC, each a stack of its own that shares the VPC's endpoints.

A team is ``{name, subnet_id, notebooks, data_grants, idle_seconds, tags, bucket, homes, on_start_steps,
state}``.  Each team gets what a single stack has (role, policies, security group, script bucket, key, lifecycle
configuration, notebooks) under the name prefix ``<prefix>-<name>``; the VPC's endpoints are shared:
one SageMaker API and one CloudWatch Logs interface endpoint (only one endpoint of a service can hold
its private DNS name in a VPC), and one S3 gateway endpoint per route table the teams' subnets use (a
route table takes one gateway endpoint of a service).  This module checks the list before any AWS call,
derives each team's stack variables and groups the teams by route table; the shared policies are
composed in policies.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn, data_grants, policies

FIELDS = (
    "name",
    "subnet_id",
    "notebooks",
    "data_grants",
    "idle_seconds",
    "tags",
    "bucket",
    "homes",
    "on_start_steps",
    "state",
)
# A DNS label, so that <prefix>-<name> is a SageMaker name and <bucket>-<name> a bucket name.
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
SUBNET_RE = re.compile(r"^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
STATES = ("present", "absent")
# The single-stack limit of the name prefix (validate.yml): names built from it stay within 63.
PREFIX_MAX = 40
FIELD = "isolated_notebook_teams"
TEAM_TAG = "isolated-notebook-team"


def bucket_of(team, base_bucket):
    return team.get("bucket") or "%s-%s" % (base_bucket, team.get("name"))


def errors(teams, base_prefix, base_bucket, region, script_prefix, base_homes=None):
    """Messages naming the field and the rule for every team that breaks one; [] when all hold."""
    if not isinstance(teams, list):
        return ["%s: must be a list of teams, got %r" % (FIELD, teams)]
    found, names, notebooks, buckets = [], {}, {}, {}
    for index, team in enumerate(teams):
        where = "%s[%d]" % (FIELD, index)
        if not isinstance(team, dict):
            found.append("%s: must be a mapping with name, subnet_id and notebooks, got %r" % (where, team))
            continue
        unknown = sorted(set(team) - set(FIELDS))
        if unknown:
            found.append("%s: unknown field(s) %s; a team takes %s" % (where, ", ".join(unknown), ", ".join(FIELDS)))
        name = team.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            found.append("%s.name: %r must be lower-case letters, digits and inner hyphens" % (where, name))
            continue
        prefix = "%s-%s" % (base_prefix, name)
        if len(prefix) > PREFIX_MAX:
            rule = "at most %d (isolated_notebook_name_prefix and the name)" % PREFIX_MAX
            found.append("%s.name: the team's name prefix %s is %d characters, %s" % (where, prefix, len(prefix), rule))
        if name in names:
            found.append("%s.name: %s is also the name of %s[%d]" % (where, name, FIELD, names[name]))
        names.setdefault(name, index)
        if not isinstance(team.get("subnet_id"), str) or not SUBNET_RE.match(team["subnet_id"]):
            found.append(
                "%s.subnet_id: %r must be a subnet id (subnet- and 8 or 17 hex digits)" % (where, team.get("subnet_id"))
            )
        if team.get("state", "present") not in STATES:
            found.append("%s.state: must be one of %s, got %r" % (where, ", ".join(STATES), team.get("state")))
        bucket = bucket_of(team, base_bucket)
        if not data_grants.valid_bucket(bucket):
            found.append("%s.bucket: the team's script bucket %r is not a valid S3 bucket name; name one in bucket"
                         % (where, bucket))  # fmt: skip
        idle = team.get("idle_seconds")
        if idle is not None and (isinstance(idle, bool) or not str(idle).isdigit() or int(idle) < 1):
            found.append("%s.idle_seconds: must be a whole number of seconds greater than 0, got %r" % (where, idle))
        if not isinstance(team.get("tags", {}), dict):
            found.append("%s.tags: must be a mapping" % where)
        if team.get("homes") is not None and not isinstance(team["homes"], dict):
            found.append("%s.homes: must be a mapping with bucket and prefix, or {} for none" % where)
        if not isinstance(team.get("on_start_steps") or "", str):
            found.append("%s.on_start_steps: must be shell text (run by bash)" % where)
        items = team.get("notebooks", [])
        if not isinstance(items, list) or not all(isinstance(n, dict) and n.get("name") for n in items):
            found.append("%s.notebooks: must be a list of notebooks, each with a name" % where)
            items = []
        for number, item in enumerate(items):
            problem = arn.name_error(item["name"], "%s.notebooks[%d].name" % (where, number))
            if problem:
                found.append(problem)
            # Notebook names are the account's in a region, whichever team asks for them.
            if item["name"] in notebooks:
                found.append("%s.notebooks[%d].name: %s is also a notebook of team %s"
                             % (where, number, item["name"], notebooks[item["name"]]))  # fmt: skip
            notebooks.setdefault(item["name"], name)
        found += data_grants.errors(team.get("data_grants") or [], region, bucket, "%s%s/" % (script_prefix, name),
                                    field="%s.data_grants" % where)  # fmt: skip
        if bucket in buckets:
            rule = "each team's bucket is its own (its policy names the team's endpoint, its key the team's)"
            found.append(
                "%s.bucket: %s is also the script bucket of team %s; %s" % (where, bucket, buckets[bucket], rule)
            )
        buckets.setdefault(bucket, name)
    return found + _script_writes(teams, base_bucket, script_prefix) + _home_reach(teams, base_homes)


def inherited_homes(team, base_homes):
    """A team's homes: its own, else its part of the shared ones (``<prefix><team>/``), else {}."""
    if team.get("homes") is not None:
        return dict(team["homes"]) if isinstance(team["homes"], dict) else team["homes"]
    if not isinstance(base_homes, dict) or not base_homes.get("bucket"):
        return {}
    return dict(base_homes, prefix="%s%s/" % (base_homes.get("prefix") or "", team.get("name")))


def _homes_of(team, base_homes):
    return data_grants.homes_grant(inherited_homes(team, base_homes))


def _homes_apart(teams, base_homes):
    """Two teams' homes must not overlap, and own role names (<prefix>-<team>-nb-<notebook>: IAM role names
    are the account's, whatever the path) must be unique across teams; else one team's notebook would hold
    another team's home, or one team's run would rewrite another's role."""
    found, seen, roles = [], [], {}
    for index, team in enumerate(teams):
        if not isinstance(team, dict) or not isinstance(team.get("name"), str):
            continue
        home = _homes_of(team, base_homes)
        if not home:
            continue
        for other_home, other in seen:
            if home["bucket"] == other_home["bucket"] and (
                home["prefix"].startswith(other_home["prefix"]) or other_home["prefix"].startswith(home["prefix"])
            ):
                found.append("%s[%d].homes: %s/%s overlaps the homes of team %s (%s/%s); give each team a prefix of "
                             "its own" % (FIELD, index, home["bucket"], home["prefix"], other, other_home["bucket"],
                                          other_home["prefix"]))  # fmt: skip
        seen.append((home, team["name"]))
        for item in team.get("notebooks") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                roles.setdefault(("%s-nb-%s" % (team["name"], item["name"])).lower(), []).append(team["name"])
    shared = {("%s-notebook" % t["name"]).lower(): t["name"] for t in teams if isinstance(t, dict) and t.get("name")}
    for role, owners in sorted(roles.items()):
        if len(owners) > 1 or role in shared:
            clash = sorted(set(owners) | ({shared[role]} if role in shared else set()))
            found.append("%s: the role <prefix>-%s would be both teams' %s (IAM role names are the account's); "
                         "rename a team or a notebook" % (FIELD, role, " and ".join(clash)))  # fmt: skip
    return found


def _home_reach(teams, base_homes):
    """A grant of one team over another team's homes would let that team read (or write) what each of the
    other team's notebooks keeps as its own (a team's own grants over its homes: data_grants.home_errors)."""
    found = _homes_apart(teams, base_homes)
    homes = [(_homes_of(t, base_homes), t.get("name")) for t in teams if isinstance(t, dict)]
    for index, team in enumerate(teams):
        if not isinstance(team, dict) or not isinstance(team.get("data_grants"), list):
            continue
        for number, grant in enumerate(team["data_grants"]):
            if not isinstance(grant, dict) or not isinstance(grant.get("prefix"), str):
                continue
            for home, owner in homes:
                if (
                    home
                    and owner != team.get("name")
                    and grant.get("bucket") == home["bucket"]
                    and (grant["prefix"].startswith(home["prefix"]) or home["prefix"].startswith(grant["prefix"]))
                ):
                    where = "%s[%d].data_grants[%d]" % (FIELD, index, number)
                    found.append("%s: %s/%s covers the homes of team %s's notebooks (%s/%s); grant a prefix outside "
                                 "them" % (where, grant["bucket"], grant["prefix"], owner, home["bucket"],
                                           home["prefix"]))  # fmt: skip
    return found


def _script_writes(teams, base_bucket, script_prefix):
    """A read-write grant over another team's lifecycle scripts would let one team rewrite or delete what
    another team's notebooks run as root at their start."""
    found = []
    scripts = [(bucket_of(t, base_bucket), "%s%s/" % (script_prefix, t.get("name")), t.get("name"))
               for t in teams if isinstance(t, dict)]  # fmt: skip
    for index, team in enumerate(teams):
        if not isinstance(team, dict) or not isinstance(team.get("data_grants"), list):
            continue
        for number, grant in enumerate(team["data_grants"]):
            if not isinstance(grant, dict) or grant.get("access") != "read-write":
                continue
            prefix = grant.get("prefix") if isinstance(grant.get("prefix"), str) else ""
            for bucket, scripts_prefix, owner in scripts:
                if (
                    owner != team.get("name")
                    and grant.get("bucket") == bucket
                    and (prefix.startswith(scripts_prefix) or scripts_prefix.startswith(prefix))
                ):
                    found.append("%s[%d].data_grants[%d]: read-write on %s/%s would let team %s rewrite the lifecycle "
                                 "scripts of team %s; grant read, or a prefix outside the scripts"
                                 % (FIELD, index, number, bucket, prefix, team.get("name"), owner))  # fmt: skip
    return found


def stacks(teams, base):
    """Each team's stack variables (``base``: prefix, bucket, script_prefix, idle_seconds, tags, homes,
    on_start_steps, state), in the teams' name order; ``field`` is the team's place in the list, for messages."""
    found = []
    for index, team in sorted(enumerate(teams), key=lambda pair: pair[1]["name"]):
        found.append({
            "name": team["name"],
            "field": "%s[%d]" % (FIELD, index),
            "name_prefix": "%s-%s" % (base["prefix"], team["name"]),
            "subnet_id": team["subnet_id"],
            "bucket": bucket_of(team, base["bucket"]),
            "script_prefix": "%s%s/" % (base["script_prefix"], team["name"]),
            "notebooks": list(team.get("notebooks") or []),
            "data_grants": list(team.get("data_grants") or []),
            "idle_seconds": int(team.get("idle_seconds") or base["idle_seconds"]),
            "tags": dict(base.get("tags") or {}, **dict(team.get("tags") or {}, **{TEAM_TAG: team["name"]})),
            # A team that names none has its own part of the shared homes (<prefix><team>/), so that no
            # team's endpoint statement covers another team's homes; {} none.
            "homes": inherited_homes(team, base.get("homes")),
            # A team that names none runs the shared steps (isolated_notebook_on_start_steps), if any; "" none.
            "on_start_steps": base.get("on_start_steps") or "" if team.get("on_start_steps") is None
            else team["on_start_steps"],
            # A teardown (isolated_notebook_state absent) removes every team, whatever the team says.
            "state": "absent" if base.get("state") == "absent" else team.get("state") or "present",
        })  # fmt: skip
    return found


def s3_groups(plans):
    """The S3 gateway endpoints the present teams need: one per route table, with the teams on it."""
    groups = {}
    for plan in plans:
        if plan["state"] != "present":
            continue
        for table in plan["route_table_ids"]:
            groups.setdefault(table, []).append(plan)
    return [{"route_table_id": table, "teams": groups[table]} for table in sorted(groups)]


def interface_subnets(plans, zones):
    """One subnet per availability zone of the present teams, the first team's in name order (an interface
    endpoint takes one subnet per zone: EC2 refuses more with DuplicateSubnetsInSameZone, "Found another VPC
    endpoint subnet in the availability zone of subnet-... VPC endpoint subnets should be in different
    availability zones", as real CreateVpcEndpoint/ModifyVpcEndpoint answers quoted in
    terraform-aws-modules/terraform-aws-vpc issues 451 and 583 show); ``zones`` maps subnet to zone."""
    chosen = {}
    for plan in plans:
        if plan["state"] == "present":
            chosen.setdefault(zones[plan["subnet_id"]], plan["subnet_id"])
    return [chosen[zone] for zone in sorted(chosen)]


def shared_endpoints(plans, region, account, zones):
    """The VPC's shared endpoints for the teams' plans (each: name, state, subnet_id, route_table_ids,
    role_principals, bucket, script_prefix, grants, names): the S3 gateway endpoints by route table with
    their composed policies and teams, the interface endpoints' subnets and policies.  Only the present
    teams count: a team being removed is gone from every shared policy."""
    present = [plan for plan in plans if plan["state"] == "present"]
    names = sorted(name for plan in present for name in plan["names"])
    s3 = [
        {
            "route_table_id": group["route_table_id"],
            "teams": [team["name"] for team in group["teams"]],
            "policy": policies.shared_s3_endpoint_policy(group["teams"], region, account),
        }
        for group in s3_groups(plans)
    ]
    shared = {
        "s3": s3,
        "subnet_ids": interface_subnets(plans, zones),
        "sagemaker_api_policy": policies.shared_sagemaker_endpoint_policy(present, region, account),
        "logs_policy": policies.logs_endpoint_policy(names, region, account),
        "names": names,
    }
    # Size (20,480 characters) and form, before any change: AWS checks them only when the policy is set.
    labels = [("the S3 endpoint policy of route table %s (teams %s)" % (g["route_table_id"], ", ".join(g["teams"])),
               g["policy"]) for g in s3]  # fmt: skip
    labels += [("the shared SageMaker API endpoint policy", shared["sagemaker_api_policy"]),
               ("the shared CloudWatch Logs endpoint policy", shared["logs_policy"])]  # fmt: skip
    shared["errors"] = [
        error for label, document in labels for error in policies.endpoint_policy_errors(document, label)
    ]
    return shared
