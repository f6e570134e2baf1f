# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the audit's policy-document analysers: the S3 endpoint policy, the execution
role's statements and trust policy, the script bucket policy, IAM's wire form."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import checks, policy
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils._audit.audit_data import (
    ACCOUNT,
    ADMIN,
    ALLOW_ALL,
    BUCKET,
    ENDPOINT,
    PREFIX,
    REGION,
    ROLE,
    SUBNET,
    TABLE,
    VPC,
    bucket_data,
    endpoints,
    ids,
    role,
    route_tables,
)

# --- S3 endpoint policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement, expected",
    [
        (ALLOW_ALL["Statement"][0], "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
         "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"},
         "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
         "s3-endpoint-policy-allow-all"),
        ({"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "b/*"},
         "s3-endpoint-policy-write"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:*Object", "Resource": "arn:aws:s3:::b/*"},
         "s3-endpoint-policy-write"),
        # narrowed to a principal by a pattern: still anyone whose ARN matches
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
          "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}}},
         "s3-endpoint-policy-write"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
          "Condition": {"StringEquals": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:role/*"]}}},
         "s3-endpoint-policy-write"),
    ],
)  # fmt: skip
def test_endpoint_policy_statements(statement, expected):
    document = {"Version": "2012-10-17", "Statement": [statement]}
    found = checks.check_network(SUBNET, {"VpcId": VPC}, route_tables(), endpoints(document), REGION)
    assert ids(found) == [expected]
    assert found[0]["evidence"]["statement"] == statement
    assert found[0]["evidence"]["vpc_endpoint_id"] == ENDPOINT and found[0]["severity"] == "high"


def test_endpoint_policy_read_only_and_deny_statements_pass():
    document = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:Get*", "s3:ListBucket"], "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}  # fmt: skip
    assert policy.check_s3_endpoint_policy(document, ENDPOINT, TABLE) == []
    assert policy.check_s3_endpoint_policy(policies.s3_endpoint_policy(BUCKET, PREFIX, REGION), ENDPOINT, TABLE) == []


def test_write_evidence_names_the_actions():
    statement = {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "x"}
    [found] = policy.check_s3_endpoint_policy({"Statement": statement}, ENDPOINT, TABLE)
    assert found["evidence"]["write_actions"] == ["s3:PutObject"]


# --- role ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement, expected",
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}, ["role-s3-full-access"]),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, ["role-wildcard-action", "role-passrole-any",
                                                               "role-wildcard-resource"]),
        ({"Effect": "Allow", "Action": "ec2:*", "Resource": "arn:aws:ec2:*:1:instance/i-1"}, ["role-wildcard-action"]),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
         ["role-passrole-any", "role-wildcard-resource"]),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/x"}, []),
        ({"Effect": "Allow", "Action": "sagemaker:ListNotebookInstances", "Resource": "*"}, ["role-wildcard-resource"]),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, []),
    ],
)  # fmt: skip
def test_role_statements(statement, expected):
    extra = {"inline_policy": "extra", "document": {"Version": "2012-10-17", "Statement": [statement]}}
    found = checks.check_role(role(policies=role()["policies"] + [extra]))
    assert sorted(ids(found)) == sorted(expected)
    for item in found:
        assert item["evidence"] == {"inline_policy": "extra", "role": ROLE, "statement": statement}


def test_trust_policy_without_source_account():
    """SageMaker alone without a condition is the collection's default, as SageMaker documents a notebook
    execution role's trust policy; another service let in without one is flagged."""
    assert checks.check_role(role(trust_policy=policies.trust_policy(ACCOUNT))) == []
    assert checks.check_role(role(trust_policy=policies.trust_policy(ACCOUNT, source_account=True))) == []
    for services in (["sagemaker.amazonaws.com", "ec2.amazonaws.com"], "glue.amazonaws.com"):
        trust = policies.trust_policy(ACCOUNT)
        trust["Statement"][0]["Principal"] = {"Service": services}
        [found] = checks.check_role(role(trust_policy=trust))
        assert found["id"] == "role-trust-no-source-account" and found["severity"] == "medium"
        assert found["evidence"] == {"role": ROLE, "statement": trust["Statement"][0]}


def test_documents_in_iam_wire_form_are_parsed():
    text = json.dumps(policies.trust_policy(ACCOUNT))
    assert policy.parse_document(text) == policies.trust_policy(ACCOUNT)
    assert policy.parse_document("%7B%22Statement%22%3A%20%5B%5D%7D") == {"Statement": []}


# --- bucket ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sid, expected",
    [
        ("DenyInsecureTransport", "bucket-policy-no-tls-deny"),
        ("DenyOutsideVpcEndpoint", "bucket-policy-no-endpoint-deny"),
    ],
)
def test_bucket_policy_missing_one_deny(sid, expected):
    policy = policies.bucket_policy(BUCKET, ENDPOINT, [ADMIN], REGION)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != sid]
    assert ids(checks.check_bucket(BUCKET, bucket_data(policy=policy))) == [expected]


TEAM_ROLE = "arn:aws:iam::123456789012:role/team-notebook"
GRANT = {"bucket": "research-data", "prefix": "team-a/", "access": "read-write", "kms_key_arn": "", "account": ""}


def test_a_read_write_grant_for_the_vpcs_notebook_roles_is_no_finding():
    document = policies.s3_endpoint_policy(BUCKET, PREFIX, REGION, [GRANT], [TEAM_ROLE], ACCOUNT)
    assert any("s3:PutObject" in s["Action"] for s in document["Statement"])
    assert policy.check_s3_endpoint_policy(document, ENDPOINT, TABLE, [TEAM_ROLE]) == []
    assert policy.named_principals(document["Statement"][2]) == [TEAM_ROLE]
    # The same writes for a role that is no audited notebook's, or for everyone: findings.
    assert ids(policy.check_s3_endpoint_policy(document, ENDPOINT, TABLE, [])) == ["s3-endpoint-policy-write"]
    opened = dict(document, Statement=[dict(s, Condition={}) for s in document["Statement"]])
    assert ids(policy.check_s3_endpoint_policy(opened, ENDPOINT, TABLE, [TEAM_ROLE])) == ["s3-endpoint-policy-write"]


OWN_ROLES = "arn:aws:iam::123456789012:role/team/*"
OWN_ROLE = "arn:aws:iam::123456789012:role/team/team-nb-alice"


def test_writes_for_the_roles_at_a_path_that_holds_notebook_roles_are_no_finding():
    """isolated_notebook_homes names the notebooks' own roles by their path (ArnLike role/<path>/*)."""
    document = policies.s3_endpoint_policy(BUCKET, PREFIX, REGION, [GRANT], [OWN_ROLES], ACCOUNT)
    assert policy.named_principals(document["Statement"][2]) == [OWN_ROLES]
    assert policy.check_s3_endpoint_policy(document, ENDPOINT, TABLE, [OWN_ROLE]) == []
    # the path holds no audited notebook's role: a finding
    assert ids(policy.check_s3_endpoint_policy(document, ENDPOINT, TABLE, [TEAM_ROLE])) == ["s3-endpoint-policy-write"]


@pytest.mark.parametrize(
    "pattern",
    [
        "arn:aws:iam::123456789012:role/*",
        "arn:aws:iam::123456789012:role/team-*",
        "arn:aws:iam::*:role/team/*",
        "arn:aws:iam::123456789012:role/te?m/*",
    ],
)
def test_any_other_principal_pattern_counts_as_anyone(pattern):
    statement = {"Effect": "Allow", "Condition": {"ArnLike": {"aws:PrincipalArn": [pattern]}}}
    assert policy.named_principals(statement) == []


def _grant_statement(**change):
    statement = policies.s3_endpoint_policy(BUCKET, PREFIX, REGION, [GRANT], [TEAM_ROLE], ACCOUNT)["Statement"][2]
    return dict(statement, **change)


@pytest.mark.parametrize("change", [
    {"Condition": {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/x",
                                    "s3:ResourceAccount": ACCOUNT}}},  # another account's role
    {"Action": ["s3:PutObject", "s3:PutBucketPolicy"]},  # more than a grant's writes
    {"Resource": "arn:aws:s3:::*/team-a/*"},  # any bucket
    {"Resource": "arn:aws:s3:::research-dat?/team-a/*"},  # any bucket like it
    {"Resource": []},
    {"Condition": {"StringEquals": {"aws:PrincipalArn": TEAM_ROLE}}},  # a bucket of any account
    {"Condition": {"StringEquals": {"aws:PrincipalArn": TEAM_ROLE, "s3:ResourceAccount": "*"}}},
])  # fmt: skip
def test_a_write_beyond_a_grant_is_a_finding(change):
    assert policy.check_s3_endpoint_policy({"Statement": [_grant_statement()]}, ENDPOINT, TABLE, [TEAM_ROLE]) == []
    found = policy.check_s3_endpoint_policy({"Statement": [_grant_statement(**change)]}, ENDPOINT, TABLE, [TEAM_ROLE])
    assert "s3-endpoint-policy-write" in ids(found) or "s3-endpoint-policy-allow-all" in ids(found)


@pytest.mark.parametrize("exempt, guarded", [
    (policies.BUCKET_CONFIGURATION_READS, True),  # the collection's own: configuration reads only
    (["s3:GetObject"], False),
    (["s3:Get*"], False),  # would exempt GetObject
    (["s3:List*"], False),
    (["s3:*"], False),
    # a configuration read left out and a hole added: GetObjectVersion reads old versions
    (policies.BUCKET_CONFIGURATION_READS[1:] + ["s3:GetObjectVersion"], False),
    (["s3:GetBucketPolicy", "s3:PutBucketPolicy"], False),
    (["S3:GetBucketPolicy"], True),  # action names are not case-sensitive
])  # fmt: skip
def test_an_endpoint_deny_with_not_action_guards_the_data_unless_it_exempts_it(exempt, guarded):
    policy = policies.bucket_policy(BUCKET, ENDPOINT, [ADMIN], REGION)
    policy["Statement"][1]["NotAction"] = list(exempt)
    found = ids(checks.check_bucket(BUCKET, bucket_data(policy=policy)))
    assert found == ([] if guarded else ["bucket-policy-no-endpoint-deny"])
