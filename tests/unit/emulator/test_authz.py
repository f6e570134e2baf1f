# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's identity-policy evaluation (tests/emulator/authz.py): what it takes from the
Service Authorization Reference, the condition operators, and the permissions a request implies."""

import json

import pytest

from tests.emulator import authz

WHERE = {"account": "123456789012", "region": "eu-west-1", "partition": "aws"}


def test_every_s3_action_of_the_map_exists_in_the_reference():
    actions = {a for table in authz.S3_ACTIONS.values() for a in table.values()}
    missing = sorted(a for a in actions if not authz.resource_types("s3:" + a))
    assert missing == []


def test_arns_come_from_the_reference_templates():
    assert authz.arn_of("sagemaker", "notebook-instance", "aws-cn", "cn-north-1", "1", "nb") == (
        "arn:aws-cn:sagemaker:cn-north-1:1:notebook-instance/nb")  # fmt: skip
    assert authz.arn_of("ec2", "vpc", "aws", "eu-west-1", "1", "vpc-1") == "arn:aws:ec2:eu-west-1:1:vpc/vpc-1"


def test_an_action_without_resource_types_is_authorized_on_star():
    check = authz.Check("ec2:DescribeVpcs", "arn:aws:ec2:eu-west-1:1:vpc/vpc-1", "vpc")
    assert check.effective({})[0] == "*"


def test_only_the_condition_keys_the_reference_lists_reach_the_policy():
    # CreateVpcEndpoint's security-group row lists no ec2:Vpc: a statement conditioned on it cannot match.
    check = authz.Check("ec2:CreateVpcEndpoint", "arn:aws:ec2:eu-west-1:1:security-group/sg-1", "security-group",
                        {"ec2:Vpc": "arn:aws:ec2:eu-west-1:1:vpc/vpc-1", "ec2:SecurityGroupID": "sg-1"})  # fmt: skip
    _arn, context = check.effective({"aws:PrincipalArn": "arn:aws:iam::1:role/r", "ec2:Vpc": "x"})
    assert context == {"ec2:SecurityGroupID": "sg-1", "aws:PrincipalArn": "arn:aws:iam::1:role/r"}


@pytest.mark.parametrize(
    "operator, key, expected, context, holds",
    [
        ("StringEquals", "k", "a", {}, False),
        ("StringNotEquals", "k", "a", {}, True),
        ("StringEqualsIfExists", "k", "a", {}, True),
        ("ForAllValues:StringEquals", "k", ["a"], {}, True),
        ("ForAnyValue:StringEquals", "k", ["a"], {}, False),
        ("ForAllValues:StringEquals", "k", ["a", "b"], {"k": ["a", "b"]}, True),
        ("ForAllValues:StringEquals", "k", ["a"], {"k": ["a", "b"]}, False),
        ("ForAnyValue:StringEquals", "k", ["a"], {"k": ["a", "b"]}, True),
        ("StringLike", "k", "a*", {"k": "abc"}, True),
        ("ArnEquals", "k", "arn:x", {"k": "arn:y"}, False),
        ("ArnNotEquals", "k", "arn:x", {"k": "arn:y"}, True),
        ("Bool", "k", "true", {"k": "True"}, True),
        ("Null", "k", "true", {}, True),
        ("Null", "k", "false", {}, False),
    ],
)
def test_condition_operators(operator, key, expected, context, holds):
    assert authz._holds(operator, key, expected, context) is holds


def test_an_unmodelled_operator_is_refused_rather_than_passed():
    with pytest.raises(ValueError, match="NumericLessThan"):
        authz._holds("NumericLessThan", "k", "1", {"k": "0"})
    with pytest.raises(ValueError, match="multivalued"):
        authz._holds("StringEquals", "k", "a", {"k": ["a", "b"]})


def test_explicit_deny_wins_and_nothing_allowed_is_denied():
    allow = {"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    deny = {"Statement": [{"Sid": "D", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    assert authz.evaluate([allow, deny], "s3:GetObject", "arn:aws:s3:::b/k", {}) == ("deny", ["A"], ["D"])
    assert authz.evaluate([allow, deny], "s3:PutObject", "arn:aws:s3:::b/k", {}) == ("allow", ["A"], [])
    assert authz.evaluate([deny], "s3:PutObject", "arn:aws:s3:::b/k", {})[0] == "implicit-deny"


def test_creating_a_tagged_notebook_implies_pass_role_and_add_tags():
    body = {"NotebookInstanceName": "Team-One", "RoleArn": "arn:aws:iam::123456789012:role/nb",
            "DirectInternetAccess": "Disabled", "Tags": [{"Key": "team", "Value": "a"}]}  # fmt: skip
    checks = authz.sagemaker_checks(WHERE, "sagemaker:CreateNotebookInstance", body)
    summary = [(c.action, c.resource, c.context) for c in checks]
    notebook = "arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/team-one"
    assert summary[0][:2] == ("sagemaker:CreateNotebookInstance", notebook)
    assert summary[0][2]["sagemaker:DirectInternetAccess"] == "Disabled"
    assert summary[1] == ("iam:PassRole", body["RoleArn"], {"iam:PassedToService": "sagemaker.amazonaws.com"})
    tagging = {"aws:RequestTag/team": "a", "aws:TagKeys": ["team"], "sagemaker:TaggingAction": "CreateNotebookInstance"}
    assert summary[2] == ("sagemaker:AddTags", notebook, tagging)


def test_a_lifecycle_configuration_is_tagged_on_star():
    """SageMaker's AddTags lists no lifecycle-configuration resource type: the ARN does not count."""
    body = {"NotebookInstanceLifecycleConfigName": "autostop", "Tags": [{"Key": "team", "Value": "a"}]}
    tagging = authz.sagemaker_checks(WHERE, "sagemaker:CreateNotebookInstanceLifecycleConfig", body)[1]
    assert tagging.action == "sagemaker:AddTags" and tagging.effective({})[0] == "*"


# --- KMS ---------------------------------------------------------------------------------------------


@pytest.fixture
def kms_key():
    """A key in this process's moto backend (authz reads the backends of the process that serves)."""
    from moto.kms.models import kms_backends

    backend = kms_backends[WHERE["account"]][WHERE["region"]]
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                             "Action": "kms:*", "Resource": "*"}]}  # fmt: skip
    tags = [{"TagKey": "isolated-notebook-stack", "TagValue": "team-a"}]
    key = backend.create_key(json.dumps(policy), "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "", tags, False)
    backend.create_alias(key.id, "alias/team-a")
    yield key
    backend.keys.pop(key.id, None)


def test_a_key_check_carries_the_keys_tags_and_policy_by_any_name_of_the_key(kms_key):
    for name in (kms_key.id, kms_key.arn, "alias/team-a", "arn:aws:kms:eu-west-1:123456789012:alias/team-a"):
        (check,) = authz.kms_checks(WHERE, "kms:PutKeyPolicy", {"KeyId": name})
        assert (check.resource, check.kind) == (kms_key.arn, "key")
        assert check.key_policy["Statement"][0]["Action"] == "kms:*"
        # aws:ResourceTag is a condition key of the key resource type, not of the action row.
        _arn, context = check.effective({})
        assert context["aws:ResourceTag/isolated-notebook-stack"] == "team-a"


def test_a_key_that_does_not_exist_gets_no_check_kms_answers_not_found():
    assert authz.kms_checks(WHERE, "kms:DescribeKey", {"KeyId": "alias/nothing-here"}) == []


def test_creating_a_tagged_key_implies_tag_resource_and_the_key_spec_keys():
    body = {"Tags": [{"TagKey": "isolated-notebook-stack", "TagValue": "team-a"}], "Policy": "{}"}
    create, tag = authz.kms_checks(WHERE, "kms:CreateKey", body)
    _arn, context = create.effective({})
    assert {k: context[k] for k in ("kms:KeySpec", "kms:KeyUsage", "kms:KeyOrigin", "kms:MultiRegion",
                                    "kms:BypassPolicyLockoutSafetyCheck")} == {
        "kms:KeySpec": "SYMMETRIC_DEFAULT", "kms:KeyUsage": "ENCRYPT_DECRYPT", "kms:KeyOrigin": "AWS_KMS",
        "kms:MultiRegion": "false", "kms:BypassPolicyLockoutSafetyCheck": "false"}  # fmt: skip
    assert (tag.action, tag.resource) == ("kms:TagResource", "arn:aws:kms:eu-west-1:123456789012:key/*")
    assert tag.effective({})[1]["aws:RequestTag/isolated-notebook-stack"] == "team-a"


def test_an_alias_is_authorized_on_the_alias_and_on_its_key(kms_key):
    alias, key = authz.kms_checks(WHERE, "kms:CreateAlias", {"AliasName": "alias/team-b", "TargetKeyId": kms_key.id})
    assert (alias.resource, alias.kind) == ("arn:aws:kms:eu-west-1:123456789012:alias/team-b", "alias")
    assert (key.resource, key.kind) == (kms_key.arn, "key")


def test_the_key_policy_decides_first_and_the_account_principal_needs_iam_too():
    root = {"AWS": "arn:aws:iam::123456789012:root"}
    caller = {"aws:userid": "AROAEXAMPLE:alice"}
    by_account = {"Statement": [{"Effect": "Allow", "Principal": root, "Action": "kms:Decrypt", "Resource": "*",
                                 "Condition": {"StringLike": {"aws:userid": "AROAEXAMPLE:*"}}}]}  # fmt: skip
    decide = authz.key_policy_decision
    assert decide(by_account, "123456789012", ["arn:x"], "kms:Decrypt", caller, identity_allows=True) == "allow"
    assert decide(by_account, "123456789012", ["arn:x"], "kms:Decrypt", caller, identity_allows=False) == (
        "implicit-deny")  # fmt: skip
    assert decide(by_account, "123456789012", ["arn:x"], "kms:Decrypt", {"aws:userid": "AROAOTHER:bob"}) == (
        "implicit-deny")  # fmt: skip
    # Another account's root grants nothing here; a principal named directly needs no IAM allow.
    assert decide(by_account, "210987654321", ["arn:x"], "kms:Decrypt", caller) == "implicit-deny"
    direct = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:x"}, "Action": "kms:*", "Resource": "*"}]}
    assert decide(direct, "123456789012", ["arn:x"], "kms:Decrypt", {}, identity_allows=False) == "allow"
    deny = {"Statement": direct["Statement"] + [dict(direct["Statement"][0], Effect="Deny", Action="kms:Decrypt")]}
    assert decide(deny, "123456789012", ["arn:x"], "kms:Decrypt", {}) == "deny"


@pytest.mark.parametrize("bucket_key, context_arn", [("true", "arn:aws:s3:::scripts"),
                                                     (None, "arn:aws:s3:::scripts/a/b.py")])  # fmt: skip
def test_s3_uses_the_buckets_key_with_the_callers_credentials(kms_key, bucket_key, context_arn):
    from moto.s3.models import s3_backends

    backend = s3_backends[WHERE["account"]]["aws"]
    backend.create_bucket("scripts", WHERE["region"])
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key.arn}}
    if bucket_key:
        rule["BucketKeyEnabled"] = bucket_key
    backend.put_bucket_encryption("scripts", {"Rule": rule})
    try:
        put = authz.checks_for(WHERE, "s3:PutObject", {}, "arn:aws:s3:::scripts/a/b.py", "PUT", {})
        assert [c.action for c in put] == ["s3:PutObject", "kms:GenerateDataKey"]
        _arn, context = put[1].effective({})
        assert context["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
        assert context["kms:EncryptionContext:aws:s3:arn"] == context_arn
        # An explicit SSE-S3 upload, and a HEAD, use no key.
        sse_s3 = {"x-amz-server-side-encryption": "AES256"}
        assert len(authz.checks_for(WHERE, "s3:PutObject", {}, "arn:aws:s3:::scripts/a/b.py", "PUT", sse_s3)) == 1
        assert len(authz.checks_for(WHERE, "s3:GetObject", {}, "arn:aws:s3:::scripts/a/b.py", "HEAD", {})) == 1
    finally:
        backend.delete_bucket("scripts")


def test_a_notebook_with_a_key_implies_describe_key_and_a_grant_for_an_aws_resource(kms_key):
    body = {"NotebookInstanceName": "nb", "RoleArn": "arn:aws:iam::123456789012:role/nb", "KmsKeyId": "alias/team-a"}
    checks = authz.checks_for(WHERE, "sagemaker:CreateNotebookInstance", body)
    kms = [(c.action, c.resource, c.context.get("kms:GrantIsForAWSResource")) for c in checks if c.key_policy]
    assert kms == [("kms:DescribeKey", kms_key.arn, None), ("kms:CreateGrant", kms_key.arn, "true")]
    without = dict(body, KmsKeyId=None)
    assert not [c for c in authz.checks_for(WHERE, "sagemaker:CreateNotebookInstance", without) if c.key_policy]


def test_keys_with_a_variable_part_are_listed_by_their_stem():
    assert authz._listed(["kms:EncryptionContext:${EncryptionContextKey}"], "kms:EncryptionContext:aws:s3:arn")
    assert not authz._listed(["kms:EncryptionContext:${EncryptionContextKey}"], "kms:EncryptionContext:")
    assert not authz._listed(["kms:ViaService"], "kms:ViaServices")


# --- VPC endpoints ---------------------------------------------------------------------------------


class _Endpoint:
    def __init__(self, kind, statements, service="com.amazonaws.us-east-1.s3"):
        self.id, self.vpc_id, self.vpc_endpoint_type, self.service_name = "vpce-1", "vpc-1", kind, service
        self.policy_document = json.dumps({"Statement": statements})


ROLE_ARN = "arn:aws:iam::123456789012:role/team-notebook"
GET = ("s3:GetObject", "arn:aws:s3:::data/a/b.csv")


def _allow(principal, condition=None):
    statement = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::data/a/*",
    }
    return dict(statement, Condition=condition) if condition else statement


@pytest.mark.parametrize("kind, principal, decision", [
    # a gateway endpoint: only "*" applies (then a condition picks the principal); an account or a
    # role named as principal means the account's root user only
    ("Gateway", "*", "allow"),
    ("Gateway", {"AWS": "*"}, "allow"),
    ("Gateway", {"AWS": "123456789012"}, "implicit-deny"),
    ("Gateway", {"AWS": "arn:aws:iam::123456789012:root"}, "implicit-deny"),
    ("Gateway", {"AWS": ROLE_ARN}, "implicit-deny"),
    # an interface endpoint: an account means its principals
    ("Interface", {"AWS": "arn:aws:iam::123456789012:root"}, "allow"),
    ("Interface", {"AWS": ROLE_ARN}, "allow"),
    ("Interface", {"AWS": "arn:aws:iam::123456789012:role/someone-else"}, "implicit-deny"),
])  # fmt: skip
def test_which_endpoint_policy_statements_apply_to_a_role(kind, principal, decision):
    endpoint = _Endpoint(
        kind, [_allow(principal)], "com.amazonaws.us-east-1." + ("s3" if kind == "Gateway" else "sagemaker.api")
    )
    service = "s3" if kind == "Gateway" else "sagemaker"
    assert (
        authz.endpoint_decision(endpoint, service, "123456789012", [ROLE_ARN], *GET, {"aws:PrincipalArn": ROLE_ARN})
        == decision
    )


def test_a_gateway_endpoint_names_its_principals_by_aws_principal_arn():
    endpoint = _Endpoint("Gateway", [_allow("*", {"StringEquals": {"aws:PrincipalArn": [ROLE_ARN]}})])
    assert (
        authz.endpoint_decision(endpoint, "s3", "123456789012", [ROLE_ARN], *GET, {"aws:PrincipalArn": ROLE_ARN})
        == "allow"
    )
    other = "arn:aws:iam::123456789012:role/other"
    assert (
        authz.endpoint_decision(endpoint, "s3", "123456789012", [other], *GET, {"aws:PrincipalArn": other})
        == "implicit-deny"
    )
    denying = _Endpoint("Gateway", [_allow("*"), dict(_allow("*"), Effect="Deny")])
    assert authz.endpoint_decision(denying, "s3", "123456789012", [ROLE_ARN], *GET, {}) == "deny"


def test_a_request_cannot_go_through_another_services_endpoint():
    with pytest.raises(ValueError, match="cannot go through vpce-1"):
        authz.endpoint_decision(_Endpoint("Gateway", [_allow("*")]), "sagemaker", "123456789012", [ROLE_ARN], *GET, {})


def test_a_request_through_an_endpoint_carries_its_ids():
    assert authz.endpoint_context(_Endpoint("Gateway", [])) == {"aws:SourceVpce": "vpce-1", "aws:SourceVpc": "vpc-1"}
    assert authz.endpoint_context(None) == {}
    assert "aws:SourceVpce" in authz.GLOBAL_KEYS and "aws:SourceVpc" in authz.GLOBAL_KEYS


def test_a_bucket_policy_deny_reaches_bucket_requests_too(monkeypatch):
    class Bucket:
        policy = json.dumps({"Statement": [
            {"Sid": "DenyOutsideVpcEndpoint", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::scripts", "arn:aws:s3:::scripts/*"],
             "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}},
            {"Sid": "NotForThisRole", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:role/x"},
             "Action": "s3:*", "Resource": "*"},
        ]})  # fmt: skip

    from moto.s3 import models

    monkeypatch.setitem(models.s3_backends["123456789012"]["aws"].buckets, "scripts", Bucket())
    decide = authz._bucket_policy_decision
    where, listing = WHERE, ("arn:aws:s3:::scripts", "s3:ListBucket")
    assert decide(where, *listing, [ROLE_ARN], {}) == ("deny", ["DenyOutsideVpcEndpoint"])
    assert decide(where, *listing, [ROLE_ARN], {"aws:SourceVpce": "vpce-1"}) is None
    assert decide(where, "arn:aws:s3:::other", "s3:ListBucket", [ROLE_ARN], {}) is None
    x = "arn:aws:iam::123456789012:role/x"
    assert decide(where, *listing, [x], {"aws:SourceVpce": "vpce-1"}) == ("deny", ["NotForThisRole"])


def test_the_script_buckets_endpoint_deny_leaves_configuration_reads_to_iam(monkeypatch):
    """The collection's bucket policy, evaluated as the emulator does for bucket requests: an auditor
    outside the endpoint reads the bucket's configuration, and neither lists nor reads its objects."""
    from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
    from moto.s3 import models

    class Bucket:
        policy = json.dumps(policies.bucket_policy("scripts", "vpce-1", [], "eu-west-1", ["AROAOPERATOR:*"]))

    monkeypatch.setitem(models.s3_backends["123456789012"]["aws"].buckets, "scripts", Bucket())
    auditor = {"aws:userid": "AROAAUDITOR:job", "aws:PrincipalArn": "arn:aws:iam::123456789012:role/auditor"}
    decide = authz._bucket_policy_decision
    for action in policies.BUCKET_CONFIGURATION_READS:
        assert decide(WHERE, "arn:aws:s3:::scripts", action, [ROLE_ARN], auditor) is None, action
    assert decide(WHERE, "arn:aws:s3:::scripts", "s3:ListBucket", [ROLE_ARN], auditor)[0] == "deny"
    assert decide(WHERE, "arn:aws:s3:::scripts/a.py", "s3:GetObject", [ROLE_ARN], auditor)[0] == "deny"
    assert decide(WHERE, "arn:aws:s3:::scripts", "s3:PutBucketPolicy", [ROLE_ARN], auditor)[0] == "deny"
