# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of a data grant, each with the field and the rule in its message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import data_grants

REGION = "eu-west-1"
SCRIPTS, SCRIPT_PREFIX = "team-scripts", "lifecycle-configurations/"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def errors(*grants):
    return data_grants.errors(list(grants), REGION, SCRIPTS, SCRIPT_PREFIX)


def test_good_grants_have_no_error():
    assert (
        errors(
            {"bucket": "research-data", "prefix": "team-a/raw/", "access": "read"},
            {"bucket": "research-data", "prefix": "team-a/out/", "access": "read-write", "kms_key_arn": KEY},
            {"bucket": "whole.bucket-1", "prefix": "", "account": "210987654321"},
            {"bucket": SCRIPTS, "prefix": SCRIPT_PREFIX, "access": "read"},
            {"bucket": SCRIPTS, "prefix": "results/", "access": "read-write"},
        )
        == []
    )


@pytest.mark.parametrize(
    "grant, expected",
    [
        ({"bucket": "Research", "prefix": "a/"}, "[0].bucket: 'Research' is not a valid S3 bucket name"),
        ({"bucket": "a..b", "prefix": "a/"}, "[0].bucket"),
        ({"prefix": "a/"}, "[0].bucket: None"),
        ({"bucket": "research-data", "prefix": "raw/*"}, "[0].prefix: 'raw/*' must be a key prefix"),
        ({"bucket": "research-data", "prefix": "raw?/"}, "[0].prefix"),
        ({"bucket": "research-data", "prefix": "raw"}, "ends with '/'"),
        ({"bucket": "research-data", "prefix": "/raw/"}, "[0].prefix"),
        ({"bucket": "research-data"}, "[0].prefix: None"),
        ({"bucket": "research-data", "prefix": "a/", "access": "write"}, "[0].access: must be one of read, read-write"),
        (
            {"bucket": "research-data", "prefix": "a/", "kms_key_arn": "alias/data"},
            "[0].kms_key_arn: 'alias/data' must",
        ),
        (
            {"bucket": "research-data", "prefix": "a/", "kms_key_arn": KEY.replace("eu-west-1", "us-east-1")},
            "the key is in us-east-1, the stack in eu-west-1",
        ),
        ({"bucket": "research-data", "prefix": "a/", "acces": "read"}, "[0]: unknown field(s) acces"),
        (
            {"bucket": SCRIPTS, "prefix": "", "access": "read-write"},
            "would let a notebook rewrite the lifecycle scripts",
        ),
        ({"bucket": SCRIPTS, "prefix": "lifecycle-configurations/sub/", "access": "read-write"}, "rewrite"),
        ("research-data", "[0]: must be a mapping"),
        ({"bucket": "192.168.1.10", "prefix": "a/"}, "not an IP address"),
        ({"bucket": "xn--data", "prefix": "a/"}, "[0].bucket"),
        ({"bucket": "data-s3alias", "prefix": "a/"}, "[0].bucket"),
        ({"bucket": "research-data", "prefix": "a/", "account": "1234"}, "[0].account: '1234' must be the 12-digit"),
    ],
)
def test_each_rule_names_the_grant_and_the_field(grant, expected):
    [message] = errors(grant)
    assert message.startswith("isolated_notebook_data_grants[0]") and expected in message, message


def test_a_bucket_and_prefix_granted_twice_is_refused_at_the_second():
    found = errors({"bucket": "research-data", "prefix": "a/"}, {"bucket": "research-data", "prefix": "a/",
                                                                 "access": "read-write"})  # fmt: skip
    assert found == ["isolated_notebook_data_grants[1]: bucket research-data, prefix 'a/' is granted twice"]


def test_normalize_fills_the_defaults_and_sorts():
    grants = [{"bucket": "b-data", "prefix": "z/"}, {"bucket": "a-data", "prefix": "y/", "access": "read-write"},
              {"bucket": "b-data", "prefix": "a/", "kms_key_arn": None}]  # fmt: skip
    assert data_grants.normalize(grants) == [
        {"bucket": "a-data", "prefix": "y/", "access": "read-write", "kms_key_arn": "", "account": "", "harden": False},
        {"bucket": "b-data", "prefix": "a/", "access": "read", "kms_key_arn": "", "account": "", "harden": False},
        {"bucket": "b-data", "prefix": "z/", "access": "read", "kms_key_arn": "", "account": "", "harden": False},
    ]
    assert data_grants.normalize(list(reversed(grants))) == data_grants.normalize(grants)
    assert data_grants.normalize(None) == []


# --- each notebook's home -------------------------------------------------------------------------------

HOMES = {"bucket": "research-homes", "prefix": "homes/"}


def home_errors(homes, grants=(), names=("nb-1",), prefix="ds"):
    return data_grants.home_errors(homes, list(grants), list(names), prefix, "eu-west-1", "scripts",
                                   "lifecycle-configurations/")  # fmt: skip


def test_homes_that_hold_and_no_homes_have_no_error():
    assert home_errors(HOMES, [{"bucket": "research-homes", "prefix": "shared/", "access": "read"}]) == []
    assert home_errors({}) == [] and home_errors(None) == []


@pytest.mark.parametrize(
    "homes, grants, names, expected",
    [
        ("research-homes", [], ["nb-1"], "isolated_notebook_homes: must be a mapping"),
        ({"prefix": "homes/"}, [], ["nb-1"], "isolated_notebook_homes.bucket: required"),
        (dict(HOMES, colour="red"), [], ["nb-1"], "isolated_notebook_homes: unknown field(s) colour"),
        (dict(HOMES, prefix="homes"), [], ["nb-1"], "isolated_notebook_homes.prefix: 'homes' must be a key prefix"),
        (dict(HOMES, bucket="scripts", prefix="lifecycle-configurations/x/"), [], ["nb-1"],
         "isolated_notebook_homes: read-write on scripts/lifecycle-configurations/x/ would let a notebook rewrite"),
        (HOMES, [], ["n" * 59],
         "isolated_notebook_homes: the role of notebook %s would be ds-nb-%s, 65" % ("n" * 59, "n" * 59)),
        (HOMES, [{"bucket": "research-homes", "prefix": "", "access": "read"}], ["nb-1"],
         "isolated_notebook_data_grants[0]: research-homes/ covers the notebooks' homes under research-homes/homes/"),
        (HOMES, [{"bucket": "research-homes", "prefix": "homes/nb-2/", "access": "read"}], ["nb-1"],
         "isolated_notebook_data_grants[0]: research-homes/homes/nb-2/ covers the notebooks' homes"),
    ],
)  # fmt: skip
def test_each_home_rule_names_the_field(homes, grants, names, expected):
    found = home_errors(homes, grants, names)
    assert any(m.startswith(expected) for m in found), found


def test_a_role_name_of_64_characters_is_allowed():
    assert home_errors(HOMES, names=["n" * 59]) != [] and home_errors(HOMES, names=["n" * 58]) == []


def test_each_notebook_has_its_own_home_under_the_prefix():
    homes = data_grants.home_grants(dict(HOMES, account="210987654321"), ["nb-2", "nb-1"])
    assert homes == {
        name: {"bucket": "research-homes", "prefix": "homes/%s/" % name, "access": "read-write",
               "account": "210987654321", "kms_key_arn": "", "harden": False} for name in ("nb-1", "nb-2")
    }  # fmt: skip
    assert data_grants.home_grants({}, ["nb-1"]) == {} and data_grants.homes_grant({}) is None
    assert data_grants.homes_grant(HOMES)["prefix"] == "homes/"


# --- hardened data buckets ------------------------------------------------------------------------------


def test_harden_must_be_a_boolean_and_never_the_script_bucket():
    found = data_grants.errors([{"bucket": "data-x", "prefix": "a/", "harden": "yes"},
                                {"bucket": "scripts", "prefix": "other/", "harden": True}],
                               "eu-west-1", "scripts", "lifecycle-configurations/")  # fmt: skip
    assert found == [
        "isolated_notebook_data_grants[0].harden: must be true or false, got 'yes'",
        "isolated_notebook_data_grants[1].harden: scripts is the script bucket, whose policy the role writes anyway; "
        "harden data buckets only",
    ]
    assert data_grants.normalize([{"bucket": "b", "prefix": ""}])[0]["harden"] is False


def found_bucket(name, location="eu-west-1"):
    return {"item": name, "buckets": [{"name": name, "bucket_location": {"LocationConstraint": location}}]}


def test_a_bucket_is_hardened_only_in_the_callers_account_region_and_when_it_exists():
    grants = [{"bucket": "data-a", "prefix": "x/", "harden": True}, {"bucket": "data-b", "prefix": "", "harden": True},
              {"bucket": "data-c", "prefix": "", "harden": True, "account": "210987654321"},
              {"bucket": "data-d", "prefix": "", "harden": True}, {"bucket": "data-e", "prefix": ""}]  # fmt: skip
    found = [found_bucket("data-a"), {"item": "data-b", "buckets": []}, found_bucket("data-d", "us-west-2")]
    assert data_grants.harden_errors(grants, found, "eu-west-1", "123456789012") == [
        "isolated_notebook_data_grants[1].harden: bucket data-b does not exist in account 123456789012; the role "
        "hardens the data owner's bucket, it never creates one",
        "isolated_notebook_data_grants[2].harden: bucket data-c is account 210987654321's, the run is account "
        "123456789012's; a bucket is hardened by its owner's account",
        "isolated_notebook_data_grants[3].harden: bucket data-d is in us-west-2, the stack in eu-west-1",
    ]


def test_a_hardened_bucket_admits_the_endpoints_of_every_plan_granted_it():
    def plan(tables, grants, state="present"):
        return {"state": state, "route_table_ids": tables, "grants": data_grants.normalize(grants)}

    plans = [
        plan(["rtb-1"], [{"bucket": "ref", "prefix": "a/", "harden": True}, {"bucket": "data", "prefix": "a/"}]),
        plan(["rtb-2"], [{"bucket": "ref", "prefix": "b/"}]),  # granted, not hardening: admitted
        plan(["rtb-3"], [{"bucket": "ref", "prefix": "c/"}], "absent"),
    ]  # being removed: not admitted
    endpoints = {"rtb-1": "vpce-1", "rtb-2": {"vpc_endpoint": {"vpc_endpoint_id": "vpce-2"}}, "rtb-3": "vpce-3"}
    assert data_grants.hardened_buckets(plans, endpoints) == [{"bucket": "ref", "endpoint_ids": ["vpce-1", "vpce-2"]}]
    assert data_grants.hardened_buckets(plans[1:], endpoints) == []


def test_a_bucket_whose_policy_holds_the_owners_statements_is_not_hardened():
    owners = json.dumps({"Statement": [{"Sid": "AllowPartner", "Effect": "Allow"}, {"Sid": "DenyInsecureTransport"}]})
    ours = json.dumps({"Statement": [{"Sid": "DenyInsecureTransport"}, {"Sid": "DenyOutsideVpcEndpoint"}]})
    grants = [{"bucket": "data-a", "prefix": "", "harden": True}, {"bucket": "data-b", "prefix": "", "harden": True}]
    found = [dict(found_bucket("data-a")), dict(found_bucket("data-b"))]
    found[0]["buckets"][0]["bucket_policy"] = {"Policy": owners}
    found[1]["buckets"][0]["bucket_policy"] = {"Policy": ours}  # the role's own: rewritten on every run
    assert data_grants.harden_errors(grants, found, "eu-west-1", "123456789012") == [
        "isolated_notebook_data_grants[0].harden: the policy of bucket data-a has statements the role did not write "
        "(AllowPartner), which hardening would replace; merge them away or leave the bucket to its owner"
    ]
