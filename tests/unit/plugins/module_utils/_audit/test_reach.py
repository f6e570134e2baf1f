# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data a notebook reaches: its role's object grants, as far as its S3 endpoint lets that role through."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import reach

ROLE = "arn:aws:iam::123456789012:role/team-notebook"
SCRIPTS, PREFIX = "team-scripts", "lifecycle-configurations/"
GRANTS = [
    {"bucket": "research-data", "prefix": "reference/", "access": "read", "kms_key_arn": ""},
    {"bucket": "team-a-data", "prefix": "work/", "access": "read-write", "kms_key_arn": ""},
]
SCRIPT_READ = {"bucket": SCRIPTS, "prefix": PREFIX, "access": "read", "accounts": [], "exact": True}
OWNER = ["123456789012"]


def role_policies(grants=None):
    data = policies.data_access_policy(grants or GRANTS, "us-east-1", "123456789012")
    return [
        policies.s3_read_policy(SCRIPTS, PREFIX),
        data,
        policies.notebook_policy(["nb"], "us-east-1", "123456789012"),
    ]


def test_the_collections_own_policies_reach_the_grants_and_the_scripts():
    endpoint = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, [ROLE], "123456789012")
    assert reach.data_reach(role_policies(), [json.dumps(endpoint)], ROLE) == [
        {"bucket": "research-data", "prefix": "reference/", "access": "read", "accounts": OWNER, "exact": True},
        {"bucket": "team-a-data", "prefix": "work/", "access": "read-write", "accounts": OWNER, "exact": True},
        SCRIPT_READ,
    ]


def test_the_endpoint_bounds_the_role():
    # The endpoint lets the grants through for another role only: the scripts alone remain.
    other = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, ["arn:aws:iam::123456789012:role/x"])
    assert reach.data_reach(role_policies(), [other], ROLE) == [SCRIPT_READ]
    # No endpoint on the route table: nothing is reached.
    assert reach.data_reach(role_policies(), [], ROLE) == []
    # The AWS default endpoint policy lets everything through: the role's grants bound it.
    default = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    assert len(reach.data_reach(role_policies(), [default], ROLE)) == 3


def test_the_role_bounds_the_endpoint_and_write_only_shows():
    endpoint = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, [ROLE])
    writer = {
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::team-a-data/work/*"}]
    }
    assert reach.data_reach([writer], [endpoint], ROLE) == [
        {"bucket": "team-a-data", "prefix": "work/", "access": "write", "accounts": [], "exact": True}
    ]
    everything = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert reach.data_reach([everything], [{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                           "Resource": "*"}]}], ROLE) == [
        {"bucket": "*", "prefix": "*", "access": "read-write", "accounts": [], "exact": True}]  # fmt: skip


def test_notebook_reach_picks_the_endpoint_on_the_subnets_table():
    tables = [{"route_table_id": "rtb-1", "associations": [{"subnet_id": "subnet-1", "main": False}], "routes": []},
              {"route_table_id": "rtb-2", "associations": [{"main": True}], "routes": []}]  # fmt: skip
    document = json.dumps(policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, [ROLE]))
    endpoint = {"VpcEndpointId": "vpce-1", "VpcEndpointType": "Gateway", "ServiceName": "com.amazonaws.us-east-1.s3",
                "RouteTableIds": ["rtb-1"], "PolicyDocument": document}  # fmt: skip
    role = {"arn": ROLE, "policies": [{"document": d} for d in role_policies()]}
    subnet = {"VpcId": "vpc-1"}

    def notebook(subnet_id, internet="Disabled"):
        return {"SubnetId": subnet_id, "DirectInternetAccess": internet}

    assert len(reach.notebook_reach(notebook("subnet-1"), subnet, tables, [endpoint], role)) == 3
    assert reach.notebook_reach(notebook("subnet-2"), subnet, tables, [endpoint], role) == []  # main table: no endpoint
    denied = {"arn": ROLE, "error": "AccessDenied"}
    assert reach.notebook_reach(notebook("subnet-1"), subnet, tables, [endpoint], denied) is None
    # A way around the endpoint: all that the role allows, whatever the endpoint's policy.
    bare = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1")
    around = {"route_table_id": "rtb-1", "associations": [{"subnet_id": "subnet-1", "main": False}],
              "routes": [{"destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"}]}  # fmt: skip
    for case in [
        (notebook("subnet-1", "Enabled"), subnet, tables),
        (notebook(None), None, tables),
        (notebook("subnet-1"), subnet, [around]),
    ]:
        found = reach.notebook_reach(*case, [dict(endpoint, PolicyDocument=json.dumps(bare))], role)
        assert len(found) == 3, (case, found)


def test_wider_role_grants_are_bounded_by_the_endpoint_and_no_grant_hides():
    def role(statement):
        return [{"Statement": [dict({"Effect": "Allow"}, **statement)]}]

    endpoint = [{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::research-data/team-a/*"}]}]  # fmt: skip
    narrowed = {"bucket": "research-data", "prefix": "team-a/", "access": "read", "accounts": [], "exact": True}
    # The role's grant is wider than the endpoint's: the endpoint's prefix is what is reached.
    assert reach.data_reach(role({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::research-data/*"}), endpoint,
                            ROLE) == [narrowed]  # fmt: skip
    assert reach.data_reach(role({"Action": "s3:*", "Resource": "*"}), endpoint, ROLE) == [narrowed]
    assert reach.data_reach(role({"Action": "s3:Get*", "Resource": "arn:aws:s3:::*"}), endpoint, ROLE) == [narrowed]
    # NotResource and NotAction count as any resource and every action (an upper bound).
    assert reach.data_reach(role({"Action": "s3:GetObject", "NotResource": "arn:aws:s3:::other/*"}), endpoint,
                            ROLE) == [narrowed]  # fmt: skip
    assert reach.data_reach(role({"NotAction": "iam:*", "Resource": "*"}), endpoint, ROLE) == [narrowed]
    # GetObjectVersion reads too.
    versions = [{"Statement": [dict(endpoint[0]["Statement"][0], Action="s3:GetObjectVersion")]}]
    assert reach.data_reach(role({"Action": "s3:GetObjectVersion", "Resource": "*"}), versions, ROLE) == [narrowed]
    # Two wildcard patterns that overlap in part: the one with the longer literal part, marked not exact.
    partial = reach.data_reach(role({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::research-*/x/*"}), endpoint,
                               ROLE)  # fmt: skip
    assert [(d["bucket"], d["prefix"], d["exact"]) for d in partial] == [("research-data", "team-a/", False)]


def test_a_location_reached_by_statements_of_two_accounts_names_both_and_any_account_wins():
    endpoint = [{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}]

    def held(*accounts):
        condition = {"StringEquals": {"s3:ResourceAccount": list(accounts)}} if accounts else {}
        return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-name/data/*",
                "Condition": condition}  # fmt: skip

    both = reach.data_reach([{"Statement": [held("111111111111"), held("222222222222")]}], endpoint, ROLE)
    assert [d["accounts"] for d in both] == [["111111111111", "222222222222"]]
    anyone = reach.data_reach([{"Statement": [held("111111111111"), held()]}], endpoint, ROLE)
    assert [d["accounts"] for d in anyone] == [[]]


OWN_ROLE = "arn:aws:iam::123456789012:role/team/team-nb-alice"
HOMES = {"bucket": "team-homes", "prefix": "homes/", "access": "read-write", "kms_key_arn": ""}


def test_own_roles_named_by_their_path_reach_their_home_only():
    """isolated_notebook_homes: the endpoint names the roles at path /team/ (ArnLike), each role's own
    policy its home: alice reaches homes/alice/ and not the other homes the endpoint would let through."""
    endpoint = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS + [HOMES],
                                           ["arn:aws:iam::123456789012:role/team/*"], "123456789012")  # fmt: skip
    home = policies.home_policy("alice", dict(HOMES, prefix="homes/alice/"), "us-east-1", "123456789012")
    reached = reach.data_reach(role_policies() + [home], [endpoint], OWN_ROLE)
    assert [(r["bucket"], r["prefix"], r["access"]) for r in reached] == [
        ("research-data", "reference/", "read"), ("team-a-data", "work/", "read-write"),
        ("team-homes", "homes/alice/", "read-write"), (SCRIPTS, PREFIX, "read")]  # fmt: skip
    # a role at another path is not let through for the grants
    assert reach.data_reach(role_policies() + [home], [endpoint], ROLE) == [SCRIPT_READ]


def location(bucket, prefix, access):
    return {"bucket": bucket, "prefix": prefix, "access": access}


def entry(name, team, data=(), endpoint=()):
    return {"name": name, "team": team, "data_access": [location(*d) for d in data],
            "endpoint_access": [location(*e) for e in endpoint]}  # fmt: skip


def test_a_team_reaching_what_another_team_writes_is_a_finding():
    found = reach.cross_team([
        entry("a-1", "alpha", [("data", "alpha/", "read-write"), ("reference", "", "read")]),
        # beta reads alpha's outputs: a finding for beta, none for alpha (beta writes nothing of alpha's)
        entry("b-1", "beta", [("data", "beta/", "read-write"), ("data", "alpha/x/", "read"),
                              ("reference", "", "read")]),
        # gamma's role does not reach alpha's data, but its endpoint would let it through
        entry("g-1", "gamma", [("data", "gamma/", "read-write")], [("data", "", "read-write")]),
        entry("loner", None, [("data", "alpha/", "read")]),
    ])  # fmt: skip
    assert sorted(found) == ["b-1", "g-1"]
    assert found["b-1"] == [("cross-team-data", {"team": "beta", "other_team": "alpha", "bucket": "data",
                                                 "prefix": "alpha/x/", "access": "read",
                                                 "written": {"bucket": "data", "prefix": "alpha/"}})]  # fmt: skip
    assert [(f, e["other_team"], e["prefix"]) for f, e in found["g-1"]] == [
        ("cross-team-endpoint", "alpha", ""),
        ("cross-team-endpoint", "beta", ""),
    ]


def test_teams_that_only_read_the_same_data_have_no_finding():
    assert reach.cross_team([entry("a-1", "alpha", [("reference", "", "read")]),
                             entry("b-1", "beta", [("reference", "shared/", "read")])]) == {}  # fmt: skip
