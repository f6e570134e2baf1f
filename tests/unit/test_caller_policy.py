# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The callers' policies (caller_policy.py): parliament-clean, scoped, and the audit's read-only, by
the Service Authorization Reference (parliament's copy).  That each statement is needed is proved by
tests/functional/test_caller_policy.py."""

import json

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import caller_policy, policies
from parliament import analyze_policy_string

from tests.emulator import authz

REGIONS = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"]
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def stack(region, **extra):
    values = dict(
        prefix="team-a",
        bucket="team-a-scripts",
        script_prefix="lifecycle-configurations/",
        region=region,
        account="123456789012",
        vpc_id="vpc-0abc",
        subnet_id="subnet-0abc",
        notebooks=["team-a-One", "team-a-two"],
    )
    return dict(values, **extra)


# Accepted findings, each by design (docs/permissions.md):
# - the run writes the bucket policy and creates the notebook role and its policies: parliament
#   reports any such grant (PERMISSIONS_MANAGEMENT_ACTIONS, RESOURCE_POLICY_PRIVILEGE_ESCALATION, and
#   PRIVILEGE_ESCALATION for policy versions), however narrowly it is scoped - here to the stack's
#   bucket, role and policies, the role attachable only to the stack's policies;
# - CreateVpcEndpoint's resources sit in two statements, since a condition applies to every resource
#   of its statement (ec2:VpceServiceName exists only for the endpoint): parliament wants the first
#   required resource type (vpc) in each statement (RESOURCE_MISMATCH);
# - kms:CreateAlias names only the alias: its key's side is authorized by the stack key's policy
#   (KMS, "Controlling access to aliases"), so no IAM statement names a key (RESOURCE_MISMATCH);
# - the audit reads every notebook of the account and what each uses: RESOURCE_STAR.
ACCEPTED = {"PERMISSIONS_MANAGEMENT_ACTIONS", "RESOURCE_POLICY_PRIVILEGE_ESCALATION", "PRIVILEGE_ESCALATION"}


def findings(document, accepted=()):
    policy = analyze_policy_string(json.dumps(document), include_community_auditors=True)
    found = [(f.issue, f.detail, f.location) for f in policy.findings if f.issue not in accepted]
    return [
        (issue, detail)
        for issue, detail, location in found
        if not (
            issue == "RESOURCE_MISMATCH"
            and all(d["action"].endswith("VpcEndpoint") or d["action"] == "kms:CreateAlias" for d in detail)
        )  # fmt: skip
    ]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("options", [{}, {"delete_bucket": True}, {"security_group_id": "sg-0abc"},
                                     {"sagemaker_api_endpoint": False, "logs_endpoint": False},
                                     {"delete_kms_key": True}, {"kms_key_id": KEY_ID},
                                     {"create_kms_key": False}])  # fmt: skip
def test_stack_policy_is_parliament_clean(region, options):
    assert findings(caller_policy.stack_policy(stack(region, **options)), ACCEPTED) == []


def test_audit_policy_is_parliament_clean_but_for_reading_everything():
    assert [issue for issue, _detail in findings(caller_policy.audit_policy())] == ["RESOURCE_STAR"]


def access_level(action):
    import os

    import parliament

    prefix, name = action.split(":")
    with open(os.path.join(os.path.dirname(parliament.__file__), "iam_definition.json"), encoding="utf-8") as f:
        service = next(s for s in json.load(f) if s["prefix"] == prefix)
    return next(p["access_level"] for p in service["privileges"] if p["privilege"] == name)


def test_the_audit_policy_reads_only():
    actions = [a for s in caller_policy.audit_policy()["Statement"] for a in s["Action"]]
    assert actions and {a: access_level(a) for a in actions} == {a: access_level(a) for a in actions
                                                                 if access_level(a) in ("Read", "List")}  # fmt: skip


# Resource "*" only where the action takes no resource, or for the three documented reasons.
STAR_EXCEPTIONS = {"PrivateDnsOfInterfaceEndpoints", "TagTheLifecycleConfigurationOnCreate"}


@pytest.mark.parametrize("region", REGIONS)
def test_no_wildcard_beyond_what_the_services_allow(region):
    document = caller_policy.stack_policy(stack(region))
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in document["Statement"]:
        assert all("*" not in action for action in statement["Action"]), statement["Sid"]
        if statement["Resource"] == "*" and statement["Sid"] not in STAR_EXCEPTIONS:
            scoped = [a for a in statement["Action"] if set(authz.resource_types(a)) - {""}]
            # sagemaker:ListTags takes resources, but not lifecycle configurations (docs/permissions.md).
            expected = ["sagemaker:ListTags"] if statement["Sid"] == "DescribeNetworkAndList" else []
            assert scoped == expected, (statement["Sid"], scoped)


def test_scoped_to_the_stacks_names_in_its_partition():
    document = caller_policy.stack_policy(stack("cn-north-1"))
    text = json.dumps(document)
    assert (
        "arn:aws:" not in text and "arn:aws-cn:sagemaker:cn-north-1:123456789012:notebook-instance/team-a-one" in text
    )
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["PassTheNotebookRoleToSageMaker"]["Resource"] == "arn:aws-cn:iam::123456789012:role/team-a-notebook"
    assert by_sid["PassTheNotebookRoleToSageMaker"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}  # fmt: skip
    # Both spellings, as arn.notebook_arns lists them.
    assert by_sid["Notebooks"]["Resource"] == [
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:notebook-instance/team-a-One",
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:notebook-instance/team-a-one",
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:notebook-instance/team-a-two",
    ]
    services = by_sid["CreateTheStackEndpoints"]["Condition"]["StringEquals"]["ec2:VpceServiceName"]
    assert "cn.com.amazonaws.cn-north-1.sagemaker.api" in services and "com.amazonaws.cn-north-1.s3" in services


def sids(**options):
    return {s["Sid"] for s in caller_policy.stack_policy(stack("us-east-1", **options))["Statement"]}


def test_options_leave_statements_out():
    default = sids()
    assert "DeleteTheScriptBucket" not in default and "DeleteTheScriptBucket" in sids(delete_bucket=True)
    assert {"CreateSecurityGroupsInTheVpc", "SecurityGroupRulesInTheVpc"} & sids(security_group_id="sg-1") == set()
    assert "PrivateDnsOfInterfaceEndpoints" not in sids(sagemaker_api_endpoint=False, logs_endpoint=False)


def test_managed_parts_fit_and_keep_every_statement():
    document = caller_policy.stack_policy(stack("us-east-1", notebooks=["team-a-%03d" % n for n in range(40)]))
    parts = caller_policy.managed_parts(document)
    assert len(parts) > 1
    assert all(policies.size(part) <= policies.LIMITS["managed"] for part in parts)
    assert [s for part in parts for s in part["Statement"]] == document["Statement"]


def test_no_statement_makes_no_part():
    assert caller_policy.managed_parts({"Version": "2012-10-17", "Statement": []}) == []


def test_notebooks_are_created_only_without_internet_in_the_stacks_subnet():
    by_sid = {s["Sid"]: s for s in caller_policy.stack_policy(stack("us-east-1"))["Statement"]}
    assert by_sid["CreateNotebooksWithoutInternet"]["Condition"] == {
        "StringEquals": {"sagemaker:DirectInternetAccess": "Disabled"},
        "ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-0abc"]},
    }


def by_sid(**options):
    return {s["Sid"]: s for s in caller_policy.stack_policy(stack("us-east-1", **options))["Statement"]}


KMS = "arn:aws:kms:us-east-1:123456789012:"
SCRIPT_OBJECTS = {
    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
    "StringLike": {
        "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::team-a-scripts", "arn:aws:s3:::team-a-scripts/*"]
    },
}


def test_the_stack_key_is_created_with_its_tag_and_only_as_a_symmetric_key_that_keeps_its_safety_check():
    statements = by_sid()
    assert statements["CreateTheStackKey"] == {
        "Sid": "CreateTheStackKey",
        "Effect": "Allow",
        "Action": ["kms:CreateKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "aws:RequestTag/isolated-notebook-stack": "team-a",
                "kms:KeySpec": "SYMMETRIC_DEFAULT",
                "kms:KeyUsage": "ENCRYPT_DECRYPT",
                "kms:KeyOrigin": "AWS_KMS",
            },
            "Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false", "kms:MultiRegion": "false"},
        },
    }
    assert statements["TheStackKeyAlias"]["Resource"] == KMS + "alias/team-a"
    # The rest is the key policy's to grant: nothing in the IAM policy names an existing key but to tag
    # it with the stack's tag (CreateKey's Tags), and no cryptographic operation at all.
    kms = {sid: s for sid, s in statements.items() if any(a.startswith("kms:") for a in s["Action"])}
    assert {sid: s["Action"] for sid, s in kms.items()} == {
        "FindTheStackKeyByItsAlias": ["kms:ListAliases"],
        "CreateTheStackKey": ["kms:CreateKey"],
        "TagTheStackKeyAsItIsCreated": ["kms:TagResource"],
        "TheStackKeyAlias": ["kms:CreateAlias"],
    }
    assert statements["TagTheStackKeyAsItIsCreated"]["Condition"] == {
        "StringEquals": {"aws:RequestTag/isolated-notebook-stack": "team-a"}}  # fmt: skip
    assert by_sid(delete_kms_key=True) == statements  # the deletion's consent is in the key policy


def test_a_key_the_user_brings_is_used_and_never_managed():
    statements = by_sid(kms_key_id=KEY_ID)
    key = KMS + "key/" + KEY_ID
    kms = {sid: s for sid, s in statements.items() if any(a.startswith("kms:") for a in s["Action"])}
    assert {sid: (s["Action"], s["Resource"]) for sid, s in kms.items()} == {
        "EncryptTheScriptObjectsThroughS3": (["kms:Decrypt", "kms:GenerateDataKey"], key),
        "EncryptTheNotebookVolumesThroughSageMaker": (["kms:CreateGrant"], key),
        "DescribeTheKeyForSageMaker": (["kms:DescribeKey"], key),
    }


def test_opting_out_of_a_key_drops_every_kms_statement():
    actions = [a for s in caller_policy.stack_policy(stack("us-east-1", create_kms_key=False))["Statement"]
               for a in s["Action"] if a.startswith("kms:")]  # fmt: skip
    assert actions == [] and "kms:ListAliases" in json.dumps(caller_policy.stack_policy(stack("us-east-1")))


def test_the_audit_policy_with_the_security_hub_export_writes_only_the_accounts_own_findings():
    policy = caller_policy.audit_policy(security_hub=True, region="eu-west-1", account="123456789012")
    extra = policy["Statement"][1:]
    assert [(s["Action"], s["Resource"]) for s in extra] == [
        (
            ["securityhub:BatchImportFindings"],
            "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default",
        ),
        (["securityhub:GetFindings"], "arn:aws:securityhub:eu-west-1:123456789012:hub/default"),
    ]
    assert {access_level(a) for s in extra for a in s["Action"]} == {"Write", "Read"}
    assert [issue for issue, _detail in findings(policy)] == ["RESOURCE_STAR"]  # the audit's reads only
    assert caller_policy.audit_policy(security_hub=True, region="cn-north-1", account="123456789012")["Statement"][1][
        "Resource"
    ].startswith("arn:aws-cn:securityhub:cn-north-1:")
    with pytest.raises(ValueError):
        caller_policy.audit_policy(security_hub=True)
