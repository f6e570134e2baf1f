# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's identity-policy evaluation (tests/emulator/authz.py): what it takes from the
Service Authorization Reference, the condition operators, and the permissions a request implies."""

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
