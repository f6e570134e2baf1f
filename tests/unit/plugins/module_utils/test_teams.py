# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Teams: the rules of the list, each team's stack, and the shared endpoints composed from the teams."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies, teams

REGION, ACCOUNT = "eu-west-1", "123456789012"
BASE = {"prefix": "ds", "bucket": "ds-scripts", "script_prefix": "lifecycle-configurations/", "idle_seconds": 3600,
        "tags": {"owner": "platform"}, "state": "present"}  # fmt: skip
SUBNET_A, SUBNET_B, SUBNET_C = "subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"


def errors(items):
    return teams.errors(items, BASE["prefix"], BASE["bucket"], REGION, BASE["script_prefix"])


def good(name, subnet=SUBNET_A, **extra):
    return dict({"name": name, "subnet_id": subnet, "notebooks": [{"name": name + "-1"}]}, **extra)


def test_good_teams_have_no_error():
    assert errors([good("alpha"), good("beta", SUBNET_B, idle_seconds=600, tags={"a": "b"}, bucket="beta-own-bucket",
                   data_grants=[{"bucket": "data-x", "prefix": "beta/", "access": "read-write"}])]) == []  # fmt: skip


@pytest.mark.parametrize(
    "items, message",
    [
        ("alpha", "isolated_notebook_teams: must be a list"),
        ([good("Alpha")], "isolated_notebook_teams[0].name: 'Alpha' must be lower-case"),
        ([good("alpha-")], "isolated_notebook_teams[0].name: 'alpha-' must be lower-case"),
        ([good("a" * 38)],
         "isolated_notebook_teams[0].name: the team's name prefix ds-%s is 41 characters, at most 40" % ("a" * 38)),
        ([good("alpha"), good("alpha", SUBNET_B)],
         "isolated_notebook_teams[1].name: alpha is also the name of isolated_notebook_teams[0]"),
        ([good("alpha", "subnet-xyz")], "isolated_notebook_teams[0].subnet_id: 'subnet-xyz' must be a subnet id"),
        ([good("alpha", state="gone")], "isolated_notebook_teams[0].state: must be one of present, absent"),
        ([good("alpha", bucket="Bad_Bucket")],
         "isolated_notebook_teams[0].bucket: the team's script bucket 'Bad_Bucket'"),
        ([good("alpha", idle_seconds=0)], "isolated_notebook_teams[0].idle_seconds: must be a whole number"),
        ([good("alpha", idle_seconds=True)], "isolated_notebook_teams[0].idle_seconds: must be a whole number"),
        ([good("alpha", colour="red")], "isolated_notebook_teams[0]: unknown field(s) colour"),
        ([good("alpha", homes="research-homes")], "isolated_notebook_teams[0].homes: must be a mapping"),
        # one team's grant over another team's notebook homes
        ([good("alpha", data_grants=[{"bucket": "homes-b", "prefix": "", "access": "read"}]),
          good("beta", homes={"bucket": "homes-b", "prefix": "beta/"})],
         "isolated_notebook_teams[0].data_grants[0]: homes-b/ covers the homes of team beta's notebooks "
         "(homes-b/beta/)"),
        ([good("alpha", on_start_steps=["pip install x"])],
         "isolated_notebook_teams[0].on_start_steps: must be shell text"),
        ([good("alpha", notebooks=["x"])], "isolated_notebook_teams[0].notebooks: must be a list of notebooks"),
        ([good("alpha"), dict(good("beta"), notebooks=[{"name": "alpha-1"}])],
         "isolated_notebook_teams[1].notebooks[0].name: alpha-1 is also a notebook of team alpha"),
        ([good("alpha", data_grants=[{"bucket": "data-x", "prefix": "no-slash"}])],
         "isolated_notebook_teams[0].data_grants[0].prefix: 'no-slash' must be a key prefix"),
        # a team's own scripts are under <script_prefix><name>/ of its bucket
        ([good("alpha", data_grants=[{"bucket": "ds-scripts-alpha", "prefix": "lifecycle-configurations/alpha/",
                                      "access": "read-write"}])],
         "isolated_notebook_teams[0].data_grants[0]: read-write on ds-scripts-alpha/lifecycle-configurations/alpha/"),
        # two teams on one bucket would rewrite each other's bucket policy and key
        ([good("alpha", bucket="shared-scripts"), good("beta", bucket="shared-scripts")],
         "isolated_notebook_teams[1].bucket: shared-scripts is also the script bucket of team alpha"),
        ([good("alpha"), good("beta", bucket="ds-scripts-alpha")],
         "isolated_notebook_teams[1].bucket: ds-scripts-alpha is also the script bucket of team alpha"),
        # a team may not write another team's lifecycle scripts (they run as root at its start)
        ([good("alpha", data_grants=[{"bucket": "ds-scripts-beta", "prefix": "lifecycle-configurations/",
                                      "access": "read-write"}]), good("beta")],
         "isolated_notebook_teams[0].data_grants[0]: read-write on ds-scripts-beta/lifecycle-configurations/ would let "
         "team alpha rewrite the lifecycle scripts of team beta"),
    ],
)  # fmt: skip
def test_each_broken_rule_names_the_field(items, message):
    found = errors(items)
    assert any(m.startswith(message) for m in found), found


def test_reading_another_teams_scripts_is_no_error():
    grant = {"bucket": "ds-scripts-beta", "prefix": "lifecycle-configurations/beta/", "access": "read"}
    assert errors([good("alpha", data_grants=[grant]), good("beta")]) == []


def test_a_teardown_removes_every_team_whatever_it_says():
    stacks = teams.stacks([good("alpha", state="present"), good("beta")], dict(BASE, state="absent"))
    assert [s["state"] for s in stacks] == ["absent", "absent"]
    stacks = teams.stacks([good("alpha", state="absent"), good("beta")], BASE)
    assert [s["state"] for s in stacks] == ["absent", "present"]


def test_stacks_give_each_team_its_names_and_the_shared_values():
    [alpha, beta] = teams.stacks([good("beta", SUBNET_B, idle_seconds=60, tags={"owner": "beta"}), good("alpha")], BASE)
    assert alpha["name"] == "alpha" and alpha["name_prefix"] == "ds-alpha" and alpha["bucket"] == "ds-scripts-alpha"
    assert alpha["script_prefix"] == "lifecycle-configurations/alpha/" and alpha["idle_seconds"] == 3600
    assert alpha["tags"] == {"owner": "platform", "isolated-notebook-team": "alpha"} and alpha["state"] == "present"
    assert beta["idle_seconds"] == 60 and beta["tags"] == {"owner": "beta", "isolated-notebook-team": "beta"}
    # the field of messages about the team is its place in the list as given, not in name order
    assert alpha["field"] == "isolated_notebook_teams[1]" and beta["field"] == "isolated_notebook_teams[0]"


def test_a_team_runs_its_own_steps_or_the_shared_ones():
    base = dict(BASE, on_start_steps="echo shared")
    [alpha, beta, gamma] = teams.stacks(
        [good("alpha"), good("beta", on_start_steps="echo beta"), good("gamma", on_start_steps="")], base
    )
    assert (alpha["on_start_steps"], beta["on_start_steps"], gamma["on_start_steps"]) == (
        "echo shared",
        "echo beta",
        "",
    )
    assert teams.stacks([good("alpha", on_start_steps=None)], BASE)[0]["on_start_steps"] == ""


def plan(name, table, subnet, state="present", grants=()):
    return {"name": name, "state": state, "subnet_id": subnet, "route_table_ids": [table],
            "role_principals": ["arn:aws:iam::%s:role/ds-%s-notebook" % (ACCOUNT, name)],
            "bucket": "ds-scripts-" + name,
            "script_prefix": "lifecycle-configurations/%s/" % name, "names": [name + "-1"],
            "grants": [dict(g, kms_key_arn="", account="") for g in grants]}  # fmt: skip


GRANT = {"bucket": "research-data", "prefix": "alpha/", "access": "read-write"}
ZONES = {SUBNET_A: "eu-west-1a", SUBNET_B: "eu-west-1a", SUBNET_C: "eu-west-1b"}


def test_teams_on_one_route_table_share_an_endpoint_and_each_grant_is_its_teams_only():
    plans = [plan("alpha", "rtb-1", SUBNET_A, grants=[GRANT]), plan("beta", "rtb-1", SUBNET_B,
             grants=[dict(GRANT, prefix="beta/", access="read")]), plan("gamma", "rtb-2", SUBNET_C),
             plan("delta", "rtb-3", SUBNET_C, state="absent", grants=[dict(GRANT, prefix="delta/")])]  # fmt: skip
    shared = teams.shared_endpoints(plans, REGION, ACCOUNT, ZONES)
    assert [(g["route_table_id"], g["teams"]) for g in shared["s3"]] == [
        ("rtb-1", ["alpha", "beta"]),
        ("rtb-2", ["gamma"]),
    ]
    assert shared["errors"] == []
    statements = shared["s3"][0]["policy"]["Statement"]
    for statement in statements:
        principals = statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalArn")
        resource = statement["Resource"]
        if principals == [plans[0]["role_principals"][0]]:
            assert "beta/" not in str(statement.get("Condition")) and "beta" not in resource.split(":::")[1].replace(
                "research-data", ""
            )
        elif principals:
            assert principals == [plans[1]["role_principals"][0]] and "alpha/" not in str(statement.get("Condition"))
    sids = [s["Sid"] for s in statements]
    assert len(sids) == len(set(sids)) and sids[0] == "Team1ReadLifecycleScripts"
    # the absent team is in no policy; one interface subnet per zone, the first team's
    assert "delta" not in str(shared).replace("delta/", "")
    assert shared["subnet_ids"] == [SUBNET_A, SUBNET_C] and shared["names"] == ["alpha-1", "beta-1", "gamma-1"]
    api = shared["sagemaker_api_policy"]["Statement"]
    assert [(s["Condition"]["StringEquals"]["aws:PrincipalArn"], s["Resource"]) for s in api] == [
        (p["role_principals"], ["arn:aws:sagemaker:%s:%s:notebook-instance/%s-1" % (REGION, ACCOUNT, p["name"])])
        for p in plans[:3]
    ]


def test_a_shared_policy_over_its_quota_is_an_error_naming_the_route_table_and_teams():
    many = [dict(GRANT, prefix="p%03d/" % n) for n in range(90)]
    shared = teams.shared_endpoints([plan("alpha", "rtb-1", SUBNET_A, grants=many), plan("beta", "rtb-1", SUBNET_B,
                                     grants=many)], REGION, ACCOUNT, ZONES)  # fmt: skip
    size = policies.size(shared["s3"][0]["policy"], "vpc_endpoint")
    assert size > 20480
    assert shared["errors"] == ["the S3 endpoint policy of route table rtb-1 (teams alpha, beta) is %d characters, "
                                "over its quota of 20480" % size]  # fmt: skip


def test_no_notebook_means_nothing_goes_through_the_api_endpoint():
    document = policies.shared_sagemaker_endpoint_policy(
        [dict(plan("alpha", "rtb-1", SUBNET_A), names=[])], REGION, ACCOUNT
    )
    assert document["Statement"] == [
        {"Sid": "NoNotebooks", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    ]


def test_teams_have_their_own_homes_or_the_shared_ones():
    base = dict(BASE, homes={"bucket": "homes-x", "prefix": "homes/"})
    [alpha, beta, gamma] = teams.stacks([good("alpha"), good("beta", homes={}), good("gamma", homes={"bucket": "g"})],
                                        base)  # fmt: skip
    # a team that names none has its part of the shared homes: no team's endpoint covers another's homes
    assert alpha["homes"] == {"bucket": "homes-x", "prefix": "homes/alpha/"} and beta["homes"] == {}
    assert gamma["homes"] == {"bucket": "g"}
    # teams sharing the base homes each hold their own notebooks' homes there: no error between them
    assert teams.errors([good("alpha"), good("beta", SUBNET_B)], "ds", "ds-scripts", REGION,
                        "lifecycle-configurations/", {"bucket": "homes-x", "prefix": "homes/"}) == []  # fmt: skip


@pytest.mark.parametrize(
    "items, message",
    [
        ([good("alpha", homes={"bucket": "h", "prefix": ""}),
          good("beta", SUBNET_B, homes={"bucket": "h", "prefix": "b/"})],
         "isolated_notebook_teams[1].homes: h/b/ overlaps the homes of team alpha (h/)"),
        # IAM role names are the account's: alpha's nb-x and alpha-nb's x would both be <prefix>-alpha-nb-nb-x
        ([good("alpha", notebooks=[{"name": "nb-x"}], homes={"bucket": "h", "prefix": "a/"}),
          good("alpha-nb", SUBNET_B, notebooks=[{"name": "x"}], homes={"bucket": "h", "prefix": "b/"})],
         "isolated_notebook_teams: the role <prefix>-alpha-nb-nb-x would be both teams' alpha and alpha-nb"),
    ],
)  # fmt: skip
def test_teams_homes_stay_apart(items, message):
    found = errors(items)
    assert any(m.startswith(message) for m in found), found
