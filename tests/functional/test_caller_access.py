# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The caller of site.yml never locks itself out of the script bucket.

Run as an IAM Identity Center (SSO) role session: the role has the path
``/aws-reserved/sso.amazonaws.com/<region>/``, which ``aws:PrincipalArn`` carries and the session
ARN of GetCallerIdentity does not show (IAM global condition context keys; the emulator evaluates
bucket policies with that key and ``aws:userid`` as AWS does, tests/emulator/gaps.py).  The run also
names an admin principal that is not the caller.  Both used to end in a bucket whose policy denies
the caller ``s3:*`` (PutBucketPolicy included) from outside the VPC endpoint, and a failed upload.
"""

import json

import pytest
from botocore.exceptions import ClientError
from test_role import BUCKET, SCRIPT_KEY, notebook_list, play, vpc_with_private_subnet

from tests.emulator import harness

SSO_PATH = "/aws-reserved/sso.amazonaws.com/%s/" % harness.REGION
SSO_ROLE = "AWSReservedSSO_PlatformAdmin_0123456789abcdef"
SOMEONE_ELSE = "arn:aws:iam::%s:role/someone-else" % harness.ACCOUNT_ID


@pytest.fixture(scope="module")
def sso_session(emulator):
    emulator.reset()
    iam = emulator.client("iam")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=SSO_ROLE, Path=SSO_PATH, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    credentials = emulator.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="alice@example.com")
    return role, credentials["Credentials"]


@pytest.fixture(scope="module")
def converged_as_sso(emulator, sso_session, tmp_path_factory):
    _role, credentials = sso_session
    network, _table = vpc_with_private_subnet(emulator.client("ec2"), "10.71")
    variables = dict(network, isolated_notebook_admin_principals=[SOMEONE_ELSE], **notebook_list(["sso-one"]))
    first = play(emulator, tmp_path_factory.mktemp("sso"), dict(variables, isolated_notebook_name_prefix="sso"),
                 credentials=credentials)  # fmt: skip
    again = play(emulator, tmp_path_factory.mktemp("sso-again"), dict(variables, isolated_notebook_name_prefix="sso"),
                 credentials=credentials)  # fmt: skip
    return first, again


def test_an_sso_role_session_converges_and_keeps_its_bucket(emulator, sso_session, converged_as_sso):
    role, credentials = sso_session
    first, again = converged_as_sso
    assert first.rc == 0, first.output[-5000:]
    # The second run reads and rewrites the bucket's settings as the same caller: nothing to change.
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-5000:]

    policy = json.loads(emulator.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"])
    outside = next(s for s in policy["Statement"] if s["Sid"] == "DenyOutsideVpcEndpoint")
    assert outside["Condition"]["StringNotLike"] == {"aws:userid": [role["RoleId"] + ":*"]}
    assert outside["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": [SOMEONE_ELSE]}

    # The caller, from outside the endpoint, still reads the script and can repair the policy.
    s3 = emulator.client("s3", credentials=credentials)
    assert s3.get_object(Bucket=BUCKET, Key=SCRIPT_KEY)["Body"].read()
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))


def test_another_principal_is_still_denied_outside_the_endpoint(emulator, sso_session, converged_as_sso):
    """The exemption is the caller's role, not everyone: a different role's session is denied."""
    iam = emulator.client("iam")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    other = iam.create_role(RoleName="not-an-admin", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    credentials = emulator.client("sts").assume_role(RoleArn=other["Arn"], RoleSessionName="mallory")["Credentials"]
    s3 = emulator.client("s3", credentials=credentials)
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=BUCKET, Key=SCRIPT_KEY)
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
