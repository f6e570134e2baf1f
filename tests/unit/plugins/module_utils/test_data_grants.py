# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of a data grant, each with the field and the rule in its message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
        {"bucket": "a-data", "prefix": "y/", "access": "read-write", "kms_key_arn": "", "account": ""},
        {"bucket": "b-data", "prefix": "a/", "access": "read", "kms_key_arn": "", "account": ""},
        {"bucket": "b-data", "prefix": "z/", "access": "read", "kms_key_arn": "", "account": ""},
    ]
    assert data_grants.normalize(list(reversed(grants))) == data_grants.normalize(grants)
    assert data_grants.normalize(None) == []
