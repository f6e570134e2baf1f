# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every policy document policies.py builds, linted with parliament (no findings) and asserted exactly.

parliament checks each action exists, that each resource matches the ARN format the action takes,
that condition keys apply to the action, and flags ``*`` resources; a finding here means a document
grants something other than what it names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn, policies
from parliament import analyze_policy_string

ACCOUNT = "123456789012"
BUCKET = "notebook-scripts"
KEY = "arn:aws:kms:%s:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"  # "aws" in every partition: parliament
PREFIX = "lifecycle-configurations/"
ENDPOINT = "vpce-0a1b2c3d4e5f67890"
CALLER = "AROAEXAMPLEROLEID000:*"  # arn.user_id_pattern of a role session's aws:userid
ADMINS = ["arn:aws:iam::123456789012:user/admin", "arn:aws:iam::123456789012:role/Operators"]
NAMES = ["research-Alice", "analyst"]
ROLE = "arn:%s:iam::123456789012:role/stack-notebook"
USERS = ["arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DataScientist_0123456789abcdef"]
REGIONS = ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"]
GRANTS = [
    {"bucket": "research-data", "prefix": "team-a/raw/", "access": "read", "kms_key_arn": ""},
    {"bucket": "research-data", "prefix": "out/", "access": "read-write", "kms_key_arn": KEY % "us-east-1"},
    {"bucket": "whole-bucket", "prefix": "", "access": "read", "kms_key_arn": "", "account": "210987654321"},
]


def grants(region):
    return [dict(g, kms_key_arn=KEY % region if g["kms_key_arn"] else "") for g in GRANTS]


def documents(region):
    """(name, document) of every builder, with the inputs the role passes."""
    return [
        ("s3_read_policy", policies.s3_read_policy(BUCKET, PREFIX, region)),
        ("s3_read_policy", policies.s3_read_policy(BUCKET, PREFIX, region, KEY % region)),
        ("autostop_policy", policies.autostop_policy(NAMES, region, ACCOUNT)),
        ("trust_policy", policies.trust_policy(ACCOUNT)),
        ("trust_policy", policies.trust_policy(ACCOUNT, source_account=True)),
        ("s3_endpoint_policy", policies.s3_endpoint_policy(BUCKET, PREFIX, region)),
        (
            "s3_endpoint_policy",
            policies.s3_endpoint_policy(BUCKET, PREFIX, region, grants(region), [ROLE % arn.partition_of(region)]),
        ),
        ("data_access_policy", policies.data_access_policy(grants(region), region, ACCOUNT)),
        (
            "home_policy",
            policies.home_policy("analyst", dict(grants(region)[0], prefix="homes/analyst/"), region, ACCOUNT),
        ),
        (
            "s3_endpoint_policy",
            policies.s3_endpoint_policy(
                BUCKET,
                PREFIX,
                region,
                grants(region),
                ["arn:%s:iam::%s:role/ds/*" % (arn.partition_of(region), ACCOUNT)],
            ),
        ),
        ("sagemaker_endpoint_policy", policies.sagemaker_endpoint_policy(NAMES, region, ACCOUNT)),
        ("notebook_policy", policies.notebook_policy(NAMES, region, ACCOUNT)),
        ("logs_endpoint_policy", policies.logs_endpoint_policy(NAMES, region, ACCOUNT)),
        ("bucket_policy", policies.bucket_policy(BUCKET, ENDPOINT, ADMINS, region, [CALLER])),
        # check mode on a first run: the endpoint does not exist yet
        ("bucket_policy", policies.bucket_policy(BUCKET, "vpce-to-be-created", [], region, [CALLER])),
        (
            "kms_key_policy",
            policies.kms_key_policy(ACCOUNT, region, ADMINS, [CALLER], ROLE % arn.partition_of(region), BUCKET, USERS),
        ),
        (
            "kms_key_policy",
            policies.kms_key_policy(ACCOUNT, region, [], [CALLER], ROLE % arn.partition_of(region), BUCKET),
        ),
    ]


CASES = [(region, name, doc) for region in REGIONS for name, doc in documents(region)]


def findings(document):
    policy = analyze_policy_string(json.dumps(document), include_community_auditors=True)
    return [(f.issue, f.detail) for f in policy.findings]


# Accepted exceptions, for trust_policy only, each exactly one finding.  parliament 1.6 lints every
# document as an identity policy, and a role trust policy is not one:
# - it has no Resource element by definition (the resource is the role it is attached to; IAM
#   rejects a trust policy that names one): MALFORMED, after which parliament checks nothing else
#   in the statement.  So the same document is linted again with the role as its Resource:
# - there, the community auditor reports that sts:AssumeRole hands out credentials
#   (CREDENTIALS_EXPOSURE), which is what a trust policy is for: SageMaker gets the role's
#   credentials.  Any other finding (an unknown action or condition key, a typo) still fails.
TRUST_NO_RESOURCE = ("MALFORMED", "Statement contains neither Resource nor NotResource")
TRUST_GIVES_CREDENTIALS = ("CREDENTIALS_EXPOSURE", "")


@pytest.mark.parametrize("region,name,document", CASES, ids=["%s-%s-%d" % (c[0], c[1], i) for i, c in enumerate(CASES)])
def test_parliament_finds_nothing(region, name, document):
    found = findings(document)
    if name == "trust_policy":
        assert found == [TRUST_NO_RESOURCE]
        with_resource = json.loads(json.dumps(document))
        for statement in with_resource["Statement"]:
            statement["Resource"] = "arn:%s:iam::%s:role/notebook" % (arn.partition_of(region), ACCOUNT)
        assert findings(with_resource) == [TRUST_GIVES_CREDENTIALS]
        return
    if name == "kms_key_policy":
        # In a key policy Resource "*" is the key itself (KMS Developer Guide, "Key policies"): linted with
        # the key's ARN in its place.  Accepted there, by design: key administration and grants are
        # permissions management (PutKeyPolicy, CreateGrant, RevokeGrant), and a key policy authorizes the
        # key's side of the alias actions, IAM policies their alias side ("Controlling access to aliases").
        as_key = json.loads(json.dumps(document))
        for statement in as_key["Statement"]:
            statement["Resource"] = KEY % region
        linted = analyze_policy_string(json.dumps(as_key), include_community_auditors=True).findings
        for found_one in linted:
            if found_one.issue == "RESOURCE_MISMATCH":
                assert {d["action"] for d in found_one.detail} <= {
                    "kms:CreateAlias",
                    "kms:DeleteAlias",
                    "kms:UpdateAlias",
                }
            else:
                assert found_one.issue == "PERMISSIONS_MANAGEMENT_ACTIONS", (found_one.issue, found_one.detail)
                granted = set(found_one.location["actions"])
                assert granted <= {"kms:putkeypolicy", "kms:creategrant", "kms:revokegrant"}, granted
        return
    assert found == []


@pytest.mark.parametrize(
    "document",
    [
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                 "Resource": "arn:aws:s3:::b"}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                 "Resource": "arn:aws:s3:::b",
                                                 "Condition": {"StringLike": {"s3:prefx": ["a/*"]}}}]},
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:StopNotebook",
                                                 "Resource": "arn:aws:sagemaker:us-east-1:1:notebook-instance/a"}]},
    ],
    ids=["resource-star", "object-action-on-bucket", "unknown-condition-key", "unknown-action"],
)  # fmt: skip
def test_the_linter_does_find_mistakes(document):
    assert findings(document) != []


def test_a_mistake_in_the_trust_policy_is_still_found():
    document = policies.trust_policy(ACCOUNT)
    document["Statement"][0]["Condition"] = {"StringEquals": {"sts:SourceAccount": ACCOUNT}}
    document["Statement"][0]["Resource"] = "arn:aws:iam::%s:role/notebook" % ACCOUNT
    assert TRUST_GIVES_CREDENTIALS in findings(document) and len(findings(document)) > 1


def walk_values(document, key):
    """Every value of ``key`` anywhere in the document, lists flattened."""
    found = []
    if isinstance(document, dict):
        for k, v in document.items():
            if k == key:
                found.extend(v if isinstance(v, list) else [v])
            found.extend(walk_values(v, key))
    elif isinstance(document, list):
        for item in document:
            found.extend(walk_values(item, key))
    return found


@pytest.mark.parametrize("region,name,document", CASES, ids=["%s-%s-%d" % (c[0], c[1], i) for i, c in enumerate(CASES)])
def test_no_star_action_or_resource(region, name, document):
    actions = walk_values(document, "Action") + walk_values(document, "NotAction")
    resources = walk_values(document, "Resource") + walk_values(document, "NotResource")
    assert not [a for a in actions if a == "*" or a.endswith(":*")] or name == "bucket_policy"
    if name == "kms_key_policy":
        # "*" is the key itself; every statement names the account and narrows it by a condition.
        assert set(resources) == {"*"}
        account = {"AWS": "arn:%s:iam::%s:root" % (arn.partition_of(region), ACCOUNT)}
        for statement in document["Statement"]:
            # The account narrowed by a condition, or "*" narrowed to the account and the caller.
            if statement["Principal"] != account:
                assert statement["Principal"] == {"AWS": "*"}, statement["Sid"]
                assert statement["Condition"]["StringEquals"]["kms:CallerAccount"] == ACCOUNT
                assert statement["Condition"]["StringEquals"]["aws:PrincipalAccount"] == ACCOUNT
                assert statement["Condition"]["StringLike"]["aws:userid"] == [CALLER]
            assert statement["Condition"], statement["Sid"]
        return
    for resource in resources:
        parts = resource.split(":", 5)
        # partition, service, region, account and the bucket / resource type are never wildcards;
        # the only "*" allowed is the trailing one of a key prefix.
        assert "*" not in ":".join(parts[:5]) and "*" not in parts[5].split("/", 1)[0], resource
        assert "*" not in resource[:-1], resource
    assert "*" not in resources
    assert walk_values(document, "NotPrincipal") == []
    if name == "bucket_policy":
        # s3:* appears only in Deny statements: a deny of everything is the narrow direction.
        assert {s["Effect"] for s in document["Statement"]} == {"Deny"}


def test_trust_policy_exactly():
    trust = {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert policies.trust_policy(ACCOUNT) == {"Version": "2012-10-17", "Statement": [trust]}
    assert policies.trust_policy(ACCOUNT, source_account=True) == {
        "Version": "2012-10-17",
        "Statement": [dict(trust, Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})],
    }


def test_s3_read_policy_exactly():
    assert policies.s3_read_policy(BUCKET, PREFIX, "eu-west-1") == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadLifecycleScripts", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::notebook-scripts/lifecycle-configurations/*"},
            {"Sid": "ListLifecycleScripts", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::notebook-scripts",
             "Condition": {"StringLike": {"s3:prefix": ["lifecycle-configurations/*"]}}},
        ],
    }  # fmt: skip
    assert policies.s3_read_policy(BUCKET, PREFIX, "cn-north-1")["Statement"][0]["Resource"] == (
        "arn:aws-cn:s3:::notebook-scripts/lifecycle-configurations/*"
    )


def test_s3_read_policy_with_a_kms_key_decrypts_through_s3_only():
    statements = policies.s3_read_policy(BUCKET, PREFIX, "eu-west-1", KEY % "eu-west-1")["Statement"]
    assert statements[2] == {
        "Sid": "DecryptLifecycleScripts",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": KEY % "eu-west-1",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
    }
    assert statements[:2] == policies.s3_read_policy(BUCKET, PREFIX, "eu-west-1")["Statement"]


@pytest.mark.parametrize(
    "key, arn",
    [
        ("1234abcd-12ab-34cd-56ef-1234567890ab", KEY % "eu-west-1"),
        (KEY % "us-east-2", KEY % "us-east-2"),
        ("alias/scripts", None),
        ("arn:aws:kms:eu-west-1:123456789012:alias/scripts", None),
        ("", None),
    ],
)
def test_kms_key_arn(key, arn):
    assert policies.kms_key_arn(key, "eu-west-1", ACCOUNT) == arn


def test_autostop_policy_exactly():
    arns = [
        "arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/analyst",
        "arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/research-Alice",
        "arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/research-alice",
    ]
    assert policies.autostop_policy(NAMES, "eu-west-1", ACCOUNT) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "StopIdleNotebook", "Effect": "Allow",
             "Action": ["sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance"], "Resource": arns},
        ],
    }  # fmt: skip
    endpoint = policies.sagemaker_endpoint_policy(NAMES, "eu-west-1", ACCOUNT)
    assert endpoint["Statement"] == [dict(policies.autostop_policy(NAMES, "eu-west-1", ACCOUNT)["Statement"][0],
                                          Principal="*")]  # fmt: skip


def test_s3_endpoint_policy_exactly():
    # Principal "*" is the only form a gateway endpoint policy takes; the actions and resources
    # scope it to reading the one prefix.
    assert policies.s3_endpoint_policy(BUCKET, PREFIX) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadLifecycleScripts", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::notebook-scripts/lifecycle-configurations/*"},
            {"Sid": "ListLifecycleScripts", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::notebook-scripts",
             "Condition": {"StringLike": {"s3:prefix": ["lifecycle-configurations/*"]}}},
        ],
    }  # fmt: skip


def test_bucket_policy_exactly():
    resources = ["arn:aws:s3:::notebook-scripts", "arn:aws:s3:::notebook-scripts/*"]
    assert policies.bucket_policy(BUCKET, ENDPOINT, list(reversed(ADMINS))) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": resources, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "DenyOutsideVpcEndpoint", "Effect": "Deny", "Principal": "*",
             "NotAction": ["s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation", "s3:GetBucketLogging",
                           "s3:GetBucketNotification", "s3:GetBucketObjectLockConfiguration",
                           "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus",
                           "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:GetBucketVersioning",
                           "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
                           "s3:GetReplicationConfiguration"],
             "Resource": resources,
             "Condition": {"StringNotEquals": {"aws:SourceVpce": ENDPOINT},
                           "ArnNotEquals": {"aws:PrincipalArn": sorted(ADMINS)}}},
        ],
    }  # fmt: skip


def test_bucket_policy_exempts_the_caller_by_user_id_and_admins_by_arn():
    outside = policies.bucket_policy(BUCKET, ENDPOINT, ADMINS, "eu-west-1", [CALLER, CALLER])["Statement"][1]
    assert outside["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": ENDPOINT},
        "ArnNotEquals": {"aws:PrincipalArn": sorted(ADMINS)},
        "StringNotLike": {"aws:userid": [CALLER]},
    }
    # No admins: the caller alone is exempt; an empty ArnNotEquals list would exempt nobody anyway.
    only_caller = policies.bucket_policy(BUCKET, ENDPOINT, [], "eu-west-1", [CALLER])["Statement"][1]
    assert only_caller["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": ENDPOINT},
        "StringNotLike": {"aws:userid": [CALLER]},
    }


@pytest.mark.parametrize(
    "user_id, pattern",
    [
        ("AROAEXAMPLEROLEID000:alice@example.com", "AROAEXAMPLEROLEID000:*"),
        ("AIDAEXAMPLEUSERID000", "AIDAEXAMPLEUSERID000"),
        ("123456789012", "123456789012"),
        # A federated user (GetFederationToken): "<account>:<name>"; "<account>:*" would match them all.
        ("123456789012:alice", "123456789012:alice"),
    ],
)
def test_user_id_pattern(user_id, pattern):
    assert arn.user_id_pattern(user_id) == pattern


def test_autostop_policies_fit_the_managed_policy_quota_and_name_every_notebook():
    # 100 mixed-case names of 20 characters: 8,676+ characters in one document.
    names = ["Team-Notebook-%06d" % n for n in range(100)]
    documents = policies.autostop_policies(names, "us-east-1", ACCOUNT)
    assert policies.size(policies.autostop_policy(names, "us-east-1", ACCOUNT)) > policies.LIMITS["managed"]
    assert 1 < len(documents) <= policies.MAX_AUTOSTOP_POLICIES
    granted = [r for d in documents for s in d["Statement"] for r in s["Resource"]]
    assert sorted(granted) == arn.notebook_arns(names, "us-east-1", ACCOUNT)
    assert all(policies.size(d) <= policies.LIMITS["managed"] for d in documents)
    assert policies.autostop_policies(list(reversed(names)), "us-east-1", ACCOUNT) == documents  # stable
    assert policies.autostop_policies(NAMES, "us-east-1", ACCOUNT) == [
        policies.autostop_policy(NAMES, "us-east-1", ACCOUNT)
    ]


def test_policy_size_is_compact_json_and_oversized_names_each_quota():
    document = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}]}
    assert policies.size(document) == len(json.dumps(document).replace(" ", ""))
    big = {"Statement": [{"Resource": "x" * 2100}]}
    assert policies.oversized([("trust", "trust", big), ("bucket", "bucket", big)]) == [
        ("trust", policies.size(big), 2048)
    ]
    assert policies.autostop_policy_names("team")[:2] == ["team-autostop", "team-autostop-2"]
    assert len(policies.autostop_policy_names("team")) == policies.MAX_AUTOSTOP_POLICIES


# --- lifecycle logs: the notebook role's statements and the CloudWatch Logs endpoint policy -------------

LOG_GROUP = "arn:%s:logs:%s:123456789012:log-group:/aws/sagemaker/NotebookInstances"


@pytest.mark.parametrize("region, partition", [("eu-west-1", "aws"), ("cn-north-1", "aws-cn"),
                                               ("us-gov-west-1", "aws-us-gov")])  # fmt: skip
def test_lifecycle_log_statements_exactly(region, partition):
    group = LOG_GROUP % (partition, region)
    assert policies.lifecycle_log_statements(NAMES, region, ACCOUNT) == [
        {"Sid": "LifecycleLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:DescribeLogStreams"],
         "Resource": group + ":*"},
        {"Sid": "WriteLifecycleLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [group + ":log-stream:analyst/LifecycleConfigOn*",
                      group + ":log-stream:research-Alice/LifecycleConfigOn*",
                      group + ":log-stream:research-alice/LifecycleConfigOn*"]},
    ]  # fmt: skip
    role = policies.notebook_policy(NAMES, region, ACCOUNT)
    assert role["Statement"] == (policies.autostop_policy(NAMES, region, ACCOUNT)["Statement"]
                                 + policies.lifecycle_log_statements(NAMES, region, ACCOUNT))  # fmt: skip
    endpoint = policies.logs_endpoint_policy(NAMES, region, ACCOUNT)
    assert endpoint == {"Version": "2012-10-17", "Statement": [
        dict(s, Principal="*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})
        for s in policies.lifecycle_log_statements(NAMES, region, ACCOUNT)]}  # fmt: skip


def test_lifecycle_log_streams_name_only_the_given_notebooks():
    """The wildcard stays inside each notebook's own streams: another notebook whose name starts the same
    is not covered (the "/" ends the name), nor a stream of the group that is not a lifecycle hook."""
    from fnmatch import fnmatchcase

    resources = policies.lifecycle_log_statements(["team-a"], "us-east-1", ACCOUNT)[1]["Resource"]
    stream = (LOG_GROUP % ("aws", "us-east-1")) + ":log-stream:%s"
    for wanted in ("team-a/LifecycleConfigOnStart", "team-a/LifecycleConfigOnCreate"):
        assert any(fnmatchcase(stream % wanted, r) for r in resources), wanted
    for other in ("team-ab/LifecycleConfigOnStart", "team-b/LifecycleConfigOnStart", "team-a/jupyter.log"):
        assert not any(fnmatchcase(stream % other, r) for r in resources), other


def test_notebook_policies_split_to_the_quota_and_name_every_notebook_for_stop_and_logs():
    names = ["Team-Notebook-%06d" % n for n in range(100)]
    documents = policies.notebook_policies(names, "us-east-1", ACCOUNT)
    assert 1 < len(documents) <= policies.MAX_AUTOSTOP_POLICIES
    assert all(policies.size(d) <= policies.LIMITS["managed"] for d in documents)
    # The log statements are counted: a split of the autostop statement alone needs fewer documents.
    assert len(documents) > len(policies.autostop_policies(names, "us-east-1", ACCOUNT))
    stopped = sorted(r for d in documents for r in d["Statement"][0]["Resource"])
    logged = sorted(r for d in documents for r in d["Statement"][2]["Resource"])
    assert stopped == arn.notebook_arns(names, "us-east-1", ACCOUNT)
    assert logged == sorted(arn.lifecycle_log_stream_arns(names, "us-east-1", ACCOUNT))
    # Each document names the same notebooks in its stop and its log statements.
    for document in documents:
        stop, group, write = document["Statement"]
        stopped_names = {r.rsplit("/", 1)[1] for r in stop["Resource"]}
        assert stopped_names == {r.split(":log-stream:")[1].split("/")[0] for r in write["Resource"]}
        assert group["Resource"] == LOG_GROUP % ("aws", "us-east-1") + ":*"
    assert policies.notebook_policies(list(reversed(names)), "us-east-1", ACCOUNT) == documents  # stable
    assert policies.notebook_policies(NAMES, "us-east-1", ACCOUNT) == [
        policies.notebook_policy(NAMES, "us-east-1", ACCOUNT)
    ]


def test_logs_endpoint_policy_size_is_checked_by_the_role():
    """About 145 names of 20 characters fit the 20,480 characters of an endpoint policy; more are refused
    by the preflight's size check (oversized) before any change."""
    fits = policies.logs_endpoint_policy(["team-notebook-%06d" % n for n in range(140)], "us-east-1", ACCOUNT)
    over = policies.logs_endpoint_policy(["team-notebook-%06d" % n for n in range(160)], "us-east-1", ACCOUNT)
    assert policies.oversized([("fits", "vpc_endpoint", fits), ("over", "vpc_endpoint", over)]) == [
        ("over", policies.size(over, "vpc_endpoint"), 20480)
    ]


def key_statement(sid, actions, condition):
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": actions, "Resource": "*", "Condition": condition}  # fmt: skip


def caller_statement(sid, actions, condition):
    condition = dict(condition)
    condition["StringEquals"] = dict(
        condition.get("StringEquals", {}), **{"aws:PrincipalAccount": ACCOUNT, "kms:CallerAccount": ACCOUNT}
    )
    condition["StringLike"] = dict(condition.get("StringLike", {}), **{"aws:userid": [CALLER]})
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": actions, "Resource": "*",
            "Condition": condition}  # fmt: skip


RUN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DescribeKey", "kms:EnableKey", "kms:EnableKeyRotation",
    "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags",
    "kms:PutKeyPolicy", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription"]  # fmt: skip


def test_kms_key_policy_exactly():
    objects = {"kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::notebook-scripts", "arn:aws:s3:::notebook-scripts/*"]}
    via_s3 = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    grants = {"kms:GrantIsForAWSResource": "true"}
    users = {"aws:PrincipalArn": USERS}
    assert policies.kms_key_policy(ACCOUNT, "eu-west-1", list(reversed(ADMINS)), [CALLER, CALLER], ROLE % "aws",
                                   BUCKET, USERS) == {
        "Version": "2012-10-17",
        "Statement": [
            key_statement("AdministerTheKey", [
                "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
                "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
                "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags",
                "kms:PutKeyPolicy", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
                "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription"],
                {"ArnEquals": {"aws:PrincipalArn": sorted(ADMINS)}}),
            caller_statement("TheRunAdministersTheKey", RUN_ACTIONS, {}),
            caller_statement("TheRunEncryptsNotebookVolumes", ["kms:CreateGrant"], {"Bool": grants}),
            caller_statement("TheRunWritesScriptsThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"],
                             {"StringEquals": via_s3, "StringLike": objects}),
            key_statement("NotebooksReadScriptsThroughS3", ["kms:Decrypt"],
                          {"ArnEquals": {"aws:PrincipalArn": ROLE % "aws"}, "StringEquals": via_s3,
                           "StringLike": objects}),
            key_statement("NotebookUsersDescribeTheKey", ["kms:DescribeKey"], {"ArnEquals": users}),
            key_statement("NotebookUsersStartNotebooks", ["kms:CreateGrant"], {"ArnEquals": users, "Bool": grants}),
        ],
    }  # fmt: skip
    # The teardown's consent adds the deletion for the caller, and nothing else.
    doomed = policies.kms_key_policy(ACCOUNT, "eu-west-1", [], [CALLER], ROLE % "aws", BUCKET, caller_may_delete=True)
    assert doomed["Statement"][0]["Action"] == sorted(RUN_ACTIONS + ["kms:ScheduleKeyDeletion"])
    assert doomed["Statement"][1:] == policies.kms_key_policy(ACCOUNT, "eu-west-1", [], [CALLER], ROLE % "aws",
                                                              BUCKET)["Statement"][1:]  # fmt: skip


def test_kms_key_policy_administration_never_uses_the_key():
    document = policies.kms_key_policy(ACCOUNT, "us-east-1", ADMINS, [CALLER], ROLE % "aws", BUCKET, USERS)
    crypto = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt", "kms:CreateGrant")
    for statement in document["Statement"]:
        if statement["Sid"] in ("AdministerTheKey", "TheRunAdministersTheKey"):
            assert not [a for a in statement["Action"] if a.startswith(crypto)], statement["Sid"]
        else:
            # Use: only through S3 or only by grants for AWS resources, or only describing the key.
            condition = statement["Condition"]
            assert (
                condition.get("StringEquals", {}).get("kms:ViaService", "").startswith("s3.")
                or condition.get("Bool") == {"kms:GrantIsForAWSResource": "true"}
                or statement["Action"] == ["kms:DescribeKey"]
            ), statement["Sid"]


def test_kms_key_policy_lets_the_caller_change_it_later():
    # CreateKey's policy lockout safety check: "The key policy must allow the calling principal to make a
    # subsequent PutKeyPolicy request" (KMS API reference, CreateKey Policy).
    from tests.emulator import authz

    document = policies.kms_key_policy(ACCOUNT, "us-east-1", [], [CALLER], ROLE % "aws", BUCKET)
    context = {"aws:userid": "AROAEXAMPLEROLEID000:alice", "aws:PrincipalArn": "arn:aws:iam::123456789012:role/x",
               "kms:CallerAccount": ACCOUNT, "aws:PrincipalAccount": ACCOUNT}  # fmt: skip
    # By the key policy alone (no IAM policy needed), for the caller's role in this account only.
    decide = authz.key_policy_decision
    assert decide(document, ACCOUNT, ["arn:x"], "kms:PutKeyPolicy", context, identity_allows=False) == "allow"
    assert decide(document, ACCOUNT, ["arn:x"], "kms:ScheduleKeyDeletion", context) == "implicit-deny"
    stranger = dict(context, **{"aws:userid": "AROAOTHERROLEID00000:bob"})
    assert decide(document, ACCOUNT, ["arn:x"], "kms:PutKeyPolicy", stranger) == "implicit-deny"
    elsewhere = dict(context, **{"kms:CallerAccount": "210987654321", "aws:PrincipalAccount": "210987654321"})
    assert decide(document, ACCOUNT, ["arn:x"], "kms:PutKeyPolicy", elsewhere) == "implicit-deny"


def test_kms_key_policy_size_is_checked_by_the_role():
    many = ["arn:aws:iam::123456789012:role/team/data-scientist-%03d" % n for n in range(600)]
    document = policies.kms_key_policy(ACCOUNT, "us-east-1", [], [CALLER], ROLE % "aws", BUCKET, many)
    assert policies.oversized([["the key policy", "key", document]]) == [
        ("the key policy", policies.size(document, "key"), 32768)]  # fmt: skip


def test_data_access_policy_exactly():
    assert policies.data_access_policy([], "eu-west-1") is None
    via = {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    owner = {"s3:ResourceAccount": ACCOUNT}
    foreign = {"s3:ResourceAccount": "210987654321"}  # a grant that names the bucket owner's account
    assert policies.data_access_policy(grants("eu-west-1"), "eu-west-1", ACCOUNT) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DataObjects1", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": "arn:aws:s3:::research-data/team-a/raw/*", "Condition": {"StringEquals": owner}},
            {"Sid": "DataList1", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::research-data",
             "Condition": {"StringEquals": owner, "StringLike": {"s3:prefix": ["team-a/raw/*"]}}},
            {"Sid": "DataObjects2", "Effect": "Allow",
             "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                        "s3:PutObject"],
             "Resource": "arn:aws:s3:::research-data/out/*", "Condition": {"StringEquals": owner}},
            {"Sid": "DataList2", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::research-data",
             "Condition": {"StringEquals": owner, "StringLike": {"s3:prefix": ["out/*"]}}},
            {"Sid": "DataKey2", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": KEY % "eu-west-1",
             "Condition": {"StringEquals": via, "StringLike": {"kms:EncryptionContext:aws:s3:arn": [
                 "arn:aws:s3:::research-data", "arn:aws:s3:::research-data/out/*"]}}},
            # the prefix "": the whole bucket, listing included
            {"Sid": "DataObjects3", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": "arn:aws:s3:::whole-bucket/*", "Condition": {"StringEquals": foreign}},
            {"Sid": "DataList3", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::whole-bucket",
             "Condition": {"StringEquals": foreign}},
        ],
    }  # fmt: skip
    # No account anywhere (library use): no owner condition.
    statements = policies.data_access_policy([dict(g, account="") for g in grants("eu-west-1")], "eu-west-1")[
        "Statement"
    ]
    assert "Condition" not in statements[0]


def test_s3_endpoint_policy_lets_the_grants_through_for_the_named_roles_only():
    role = ROLE % "aws"
    document = policies.s3_endpoint_policy(BUCKET, PREFIX, "us-east-1", grants("us-east-1"), [role, role], ACCOUNT)
    assert document["Statement"][:2] == policies.s3_endpoint_policy(BUCKET, PREFIX)["Statement"]
    granted = document["Statement"][2:]
    identity = [s for s in policies.data_access_policy(grants("us-east-1"), "us-east-1", ACCOUNT)["Statement"]
                if "Key" not in s["Sid"]]  # fmt: skip
    assert [s["Sid"] for s in granted] == [s["Sid"] for s in identity]
    for statement, same in zip(granted, identity, strict=True):
        assert statement["Principal"] == "*"
        assert (statement["Action"], statement["Resource"]) == (same["Action"], same["Resource"])
        owner = same["Condition"]["StringEquals"]["s3:ResourceAccount"]
        assert statement["Condition"]["StringEquals"] == {"s3:ResourceAccount": owner, "aws:PrincipalArn": [role]}
    # "team-a/raw/*" keeps its condition; "out/*" has too few characters next to its wildcard for an
    # endpoint policy, and the whole bucket has none.
    assert granted[1]["Condition"]["StringLike"] == {"s3:prefix": ["team-a/raw/*"]}
    assert "StringLike" not in granted[3]["Condition"] and "StringLike" not in granted[5]["Condition"]
    assert policies.endpoint_policy_errors(document) == []
    # No principal, no grant: the grants never go through for everyone.
    assert policies.s3_endpoint_policy(
        BUCKET, PREFIX, "us-east-1", grants("us-east-1"), []
    ) == policies.s3_endpoint_policy(BUCKET, PREFIX)


@pytest.mark.parametrize("value, holds", [
    ("team-a/raw/*", True), ("out/*", False), ("*", False), ("abcdef*", True), ("*abcdef", True),
    ("ab*cdefg*ij", False), ("abcdef*gh*ijklmn", True), ("abcdef?", True), ("no-wildcard", True),
])  # fmt: skip
def test_endpoint_policy_errors_keeps_six_characters_next_to_each_wildcard(value, holds):
    listing = {"Sid": "S", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"}
    document = {"Statement": [dict(listing, Condition={"StringLike": {"s3:prefix": [value]}})]}
    found = policies.endpoint_policy_errors(document, "the S3 endpoint policy")
    assert found == ([] if holds else ["the S3 endpoint policy statement S: s3:prefix %r needs six characters before "
                                       "or after each wildcard" % value])  # fmt: skip


def test_endpoint_policy_errors_wants_a_principal_and_counts_white_space():
    assert policies.endpoint_policy_errors({"Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject",
                                                           "Resource": "*"}]}) == [
        "the endpoint policy statement S has no Principal"]  # fmt: skip
    big = {"Statement": [{"Sid": "S", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": ["arn:aws:s3:::b/%05d" % n for n in range(1200)]}]}  # fmt: skip
    [message] = policies.endpoint_policy_errors(big)
    assert message == "the endpoint policy is %d characters, over its quota of 20480" % len(json.dumps(big))


def test_a_short_script_prefix_keeps_the_endpoint_policy_valid():
    # "lc/*" has three characters next to its wildcard: AWS wants six in an endpoint policy's conditions.
    document = policies.s3_endpoint_policy(BUCKET, "lc/")
    assert [s.get("Condition") for s in document["Statement"]] == [None, None]
    assert policies.endpoint_policy_errors(document) == []
    # The role's own policy still holds the listing to the prefix.
    assert policies.s3_read_policy(BUCKET, "lc/")["Statement"][1]["Condition"] == {
        "StringLike": {"s3:prefix": ["lc/*"]}
    }


def test_home_policy_exactly():
    home = {"bucket": "research-homes", "prefix": "homes/analyst/", "access": "read-write", "account": "",
            "kms_key_arn": ""}  # fmt: skip
    document = policies.home_policy("analyst", home, "eu-west-1", ACCOUNT)
    sids = ["HomeObjects", "HomeList", "StopIdleNotebook", "LifecycleLogGroup", "WriteLifecycleLogs"]
    assert [s["Sid"] for s in document["Statement"]] == sids
    objects, listing, stop = document["Statement"][:3]
    assert objects["Resource"] == "arn:aws:s3:::research-homes/homes/analyst/*"
    assert objects["Action"] == policies.GRANT_ACTIONS["read-write"]
    assert listing["Condition"]["StringLike"] == {"s3:prefix": ["homes/analyst/*"]}
    assert stop["Resource"] == ["arn:aws:sagemaker:eu-west-1:%s:notebook-instance/analyst" % ACCOUNT]


def test_a_role_pattern_is_named_with_arn_like_and_role_arns_with_string_equals():
    pattern = "arn:aws:iam::%s:role/ds/*" % ACCOUNT
    shared = policies.s3_endpoint_policy(BUCKET, PREFIX, "eu-west-1", grants("eu-west-1"), [ROLE % "aws"])
    own = policies.s3_endpoint_policy(BUCKET, PREFIX, "eu-west-1", grants("eu-west-1"), [pattern])
    granted = [s for s in own["Statement"] if "aws:PrincipalArn" in str(s)]
    assert granted and all(s["Condition"]["ArnLike"] == {"aws:PrincipalArn": [pattern]} for s in granted)
    assert all("ArnLike" not in s["Condition"] for s in shared["Statement"] if "aws:PrincipalArn" in str(s))
    assert policies.endpoint_policy_errors(own) == []
