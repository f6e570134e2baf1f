# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least privilege, proved by the emulator's request authorization (moto checks each request's
signature; tests/emulator/authz.py evaluates the caller's IAM policies as AWS documents it).

An IAM user holding exactly the notebook role's two managed policies (built by policies.py, as the
role writes them) stands in for the notebook; an admin user stands in for the admin principals of
the bucket policy.  The module runs its own emulators, so switching authorization on affects no
other test: a TLS one, and a plain-http one for the requests without TLS.

The emulator cannot route a request through a VPC endpoint (``aws:SourceVpce`` is always absent), so
the identity policies are proved first on the bucket without its policy, then the bucket policy is
put and proved on its own: it denies the notebook user (not an admin, not through the endpoint)
and never the admin, and denies everyone without TLS.
"""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError
from conftest import error_codes

from tests.emulator import harness

BUCKET, OTHER_BUCKET = "lp-notebook-scripts", "lp-other-bucket"
PREFIX = "lifecycle-configurations/"
SCRIPT = PREFIX + "autostop.py"
NAMES = ["lp-notebook"]
VPCE = "vpce-0123456789abcdef0"


def policies_module():
    import importlib

    return importlib.import_module("ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.policies")


def set_auth(emulator, on):
    """``/moto-api/reset-auth``: 0 requests without authorization (on), or infinitely many (off)."""
    body = b"0" if on else b"inf"
    request = urllib.request.Request(
        emulator.url + "/moto-api/reset-auth", method="POST", data=body, headers={"Content-Type": "text/plain"}
    )  # a form content type would hide the body from the server
    with urllib.request.urlopen(request, timeout=10, context=emulator._ssl_context()) as response:
        return json.loads(response.read())


def client_as(emulator, keys, service="s3"):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, endpoint_url=emulator.url, region_name=harness.REGION, aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1], verify=emulator.ca_bundle if emulator.tls else None,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def build(emulator):
    """Bucket, objects, the notebook role's policies on a user, an admin user; auth still off.
    Returns {"notebook": (key, secret), "admin": (key, secret), "admin_arn": ...}."""
    policies = policies_module()
    s3, iam = emulator.client("s3"), emulator.client("iam")
    for bucket in (BUCKET, OTHER_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=BUCKET, Key=SCRIPT, Body=b"print('autostop')\n")
    s3.put_object(Bucket=BUCKET, Key="private/data.csv", Body=b"secret,data\n")
    s3.put_object(Bucket=OTHER_BUCKET, Key=SCRIPT, Body=b"print('other')\n")
    documents = {
        "lp-s3-read": policies.s3_read_policy(BUCKET, PREFIX, harness.REGION),
        "lp-autostop": policies.autostop_policy(NAMES, harness.REGION, harness.ACCOUNT_ID),
    }
    iam.create_user(UserName="lp-notebook-user")
    for name, document in documents.items():
        arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="lp-notebook-user", PolicyArn=arn)
    admin = iam.create_user(UserName="lp-admin")["User"]["Arn"]
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="lp-admin", PolicyName="admin", PolicyDocument=json.dumps(everything))
    keys = {}
    for user in ("lp-notebook-user", "lp-admin"):
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
    # The user holds exactly the role's two policies and nothing else.
    attached = iam.list_attached_user_policies(UserName="lp-notebook-user")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == ["lp-autostop", "lp-s3-read"]
    assert iam.list_user_policies(UserName="lp-notebook-user")["PolicyNames"] == []
    return {"notebook": keys["lp-notebook-user"], "admin": keys["lp-admin"], "admin_arn": admin}


@pytest.fixture(scope="module")
def tls_stack():
    with harness.Emulator(tls=True) as emulator:
        users = build(emulator)
        set_auth(emulator, True)
        yield emulator, users


def status_of(call, **kwargs):
    """HTTP status of an S3 call: 200 when it worked, the error status (403: denied) otherwise."""
    try:
        call(**kwargs)
        return 200
    except ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"]


def test_authorization_is_on(tls_stack):
    emulator, _users = tls_stack
    # The emulator's default test keys belong to no IAM user: refused once authorization is on.
    with pytest.raises(ClientError) as denied:
        emulator.client("s3").list_buckets()
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_notebook_policies_read_the_prefix_and_nothing_else(tls_stack):
    emulator, users = tls_stack
    s3 = client_as(emulator, users["notebook"])
    assert s3.get_object(Bucket=BUCKET, Key=SCRIPT)["Body"].read() == b"print('autostop')\n"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)
    assert [o["Key"] for o in listed["Contents"]] == [SCRIPT]

    denied = {
        "put the script": status_of(s3.put_object, Bucket=BUCKET, Key=SCRIPT, Body=b"evil"),
        "put a new object": status_of(s3.put_object, Bucket=BUCKET, Key=PREFIX + "new.py", Body=b"x"),
        "delete the script": status_of(s3.delete_object, Bucket=BUCKET, Key=SCRIPT),
        "read another prefix": status_of(s3.get_object, Bucket=BUCKET, Key="private/data.csv"),
        "read another bucket": status_of(s3.get_object, Bucket=OTHER_BUCKET, Key=SCRIPT),
        "list another bucket": status_of(s3.list_objects_v2, Bucket=OTHER_BUCKET, Prefix=PREFIX),
        "list another prefix": status_of(s3.list_objects_v2, Bucket=BUCKET, Prefix="private/"),
        "list the whole bucket": status_of(s3.list_objects_v2, Bucket=BUCKET),
        "read the bucket policy": status_of(s3.get_bucket_policy, Bucket=BUCKET),
        "list buckets": status_of(s3.list_buckets),
    }
    assert denied == dict.fromkeys(denied, 403)
    # Nothing changed: the script is as it was, nothing new under the prefix.
    admin = client_as(emulator, users["admin"])
    assert admin.get_object(Bucket=BUCKET, Key=SCRIPT)["Body"].read() == b"print('autostop')\n"
    assert [o["Key"] for o in admin.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["Contents"]] == [SCRIPT]


def test_notebook_policies_grant_no_iam_and_no_other_notebook(tls_stack):
    emulator, users = tls_stack
    iam = client_as(emulator, users["notebook"], "iam")
    with pytest.raises(ClientError) as denied:
        iam.create_user(UserName="intruder")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        iam.list_attached_user_policies(UserName="lp-notebook-user")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_bucket_policy_denies_outside_the_endpoint_but_never_the_admins(tls_stack):
    emulator, users = tls_stack
    policies = policies_module()
    admin = client_as(emulator, users["admin"])
    notebook = client_as(emulator, users["notebook"])
    document = policies.bucket_policy(BUCKET, VPCE, [users["admin_arn"]], harness.REGION)
    admin.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(document))
    try:
        # The notebook user's own policies allow this read (previous test); the bucket policy
        # denies it, since the request does not come through the endpoint.
        assert status_of(notebook.get_object, Bucket=BUCKET, Key=SCRIPT) == 403
        # The admin, over TLS and outside the endpoint, can still read, write and delete.
        assert admin.get_object(Bucket=BUCKET, Key=SCRIPT)["Body"].read() == b"print('autostop')\n"
        admin.put_object(Bucket=BUCKET, Key=PREFIX + "admin.txt", Body=b"x")
        admin.delete_object(Bucket=BUCKET, Key=PREFIX + "admin.txt")
        assert json.loads(admin.get_bucket_policy(Bucket=BUCKET)["Policy"]) == document
    finally:
        admin.delete_bucket_policy(Bucket=BUCKET)
    # Without the policy the same notebook request works again: the bucket policy made the difference.
    assert status_of(notebook.get_object, Bucket=BUCKET, Key=SCRIPT) == 200


def test_requests_without_tls_are_denied_even_to_the_admins():
    with harness.Emulator(tls=False) as emulator:
        users = build(emulator)
        policies = policies_module()
        document = policies.bucket_policy(BUCKET, VPCE, [users["admin_arn"]], harness.REGION)
        emulator.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(document))
        set_auth(emulator, True)
        admin = client_as(emulator, users["admin"])
        assert status_of(admin.get_object, Bucket=BUCKET, Key=SCRIPT) == 403
        assert status_of(admin.put_object, Bucket=BUCKET, Key=PREFIX + "x.py", Body=b"x") == 403
        assert status_of(client_as(emulator, users["notebook"]).get_object, Bucket=BUCKET, Key=SCRIPT) == 403
        # The same admin on plain http reads an object of the bucket without the policy: TLS was the cause.
        assert status_of(admin.get_object, Bucket=OTHER_BUCKET, Key=SCRIPT) == 200


# --- the stack's KMS key: the notebook role decrypts its script through S3, and nothing else -----------


@pytest.fixture(scope="module")
def kms_stack():
    """A bucket encrypted with the stack key (SSE-KMS, S3 Bucket Key) whose policy is the one the role
    writes, with the notebook user as the notebook role and the admin user as the caller of the run;
    another key with the default key policy (the account decides by IAM policies alone)."""
    policies = policies_module()
    with harness.Emulator(tls=True) as emulator:
        s3, iam, kms = emulator.client("s3"), emulator.client("iam"), emulator.client("kms")
        admin = iam.create_user(UserName="lpk-admin")["User"]
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName="lpk-admin", PolicyName="admin", PolicyDocument=json.dumps(everything))
        notebook = iam.create_user(UserName="lpk-notebook")["User"]
        admin_keys = iam.create_access_key(UserName="lpk-admin")["AccessKey"]
        admin_keys = (admin_keys["AccessKeyId"], admin_keys["SecretAccessKey"])
        as_admin = {service: client_as(emulator, admin_keys, service) for service in ("s3", "kms")}
        key_policy = policies.kms_key_policy(harness.ACCOUNT_ID, harness.REGION, [], [admin["UserId"]],
                                             notebook["Arn"], BUCKET)  # fmt: skip
        set_auth(emulator, True)
        key = as_admin["kms"].create_key(Policy=json.dumps(key_policy))["KeyMetadata"]
        set_auth(emulator, False)
        other = kms.create_key()["KeyMetadata"]
        s3.create_bucket(Bucket=BUCKET)
        rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
                "BucketKeyEnabled": True}  # fmt: skip
        s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [rule]})
        read = policies.s3_read_policy(BUCKET, PREFIX, harness.REGION, key["Arn"])
        arn = iam.create_policy(PolicyName="lpk-s3-read", PolicyDocument=json.dumps(read))["Policy"]["Arn"]
        iam.attach_user_policy(UserName="lpk-notebook", PolicyArn=arn)
        notebook_keys = iam.create_access_key(UserName="lpk-notebook")["AccessKey"]
        set_auth(emulator, True)
        # The caller of the run uploads the script: a data key through S3, allowed by both policies.
        as_admin["s3"].put_object(Bucket=BUCKET, Key=SCRIPT, Body=b"print('autostop')\n")
        set_auth(emulator, False)
        stored = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
        set_auth(emulator, True)
        yield emulator, {"key": key, "other": other, "read": read, "key_policy": stored,
                         "notebook": (notebook_keys["AccessKeyId"], notebook_keys["SecretAccessKey"])}  # fmt: skip


def test_the_notebook_role_reads_its_encrypted_script_through_s3(kms_stack):
    emulator, stack = kms_stack
    s3 = client_as(emulator, stack["notebook"])
    head = s3.head_object(Bucket=BUCKET, Key=SCRIPT)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", stack["key"]["Arn"])
    assert s3.get_object(Bucket=BUCKET, Key=SCRIPT)["Body"].read() == b"print('autostop')\n"


def test_the_notebook_role_cannot_use_the_key_but_through_s3_nor_any_other_key(kms_stack):
    emulator, stack = kms_stack
    kms = client_as(emulator, stack["notebook"], "kms")
    blob = b"\x01" * 64
    attempts = {
        "decrypt directly": lambda: kms.decrypt(KeyId=stack["key"]["Arn"], CiphertextBlob=blob),
        "a data key": lambda: kms.generate_data_key(KeyId=stack["key"]["Arn"], KeySpec="AES_256"),
        "encrypt": lambda: kms.encrypt(KeyId=stack["key"]["Arn"], Plaintext=b"x"),
        "describe": lambda: kms.describe_key(KeyId=stack["key"]["Arn"]),
        "another key": lambda: kms.decrypt(KeyId=stack["other"]["Arn"], CiphertextBlob=blob),
    }  # fmt: skip
    codes = error_codes(attempts)
    assert codes == dict.fromkeys(attempts, "AccessDeniedException")


def test_the_notebook_roles_identity_policy_allows_decrypt_only_for_the_key_and_only_through_s3(kms_stack):
    from tests.emulator import authz

    _emulator, stack = kms_stack
    key, other = stack["key"]["Arn"], stack["other"]["Arn"]
    via = {"kms:ViaService": "s3.%s.amazonaws.com" % harness.REGION}
    decisions = {
        "decrypt through S3": authz.evaluate([stack["read"]], "kms:Decrypt", key, via)[0],
        "decrypt directly": authz.evaluate([stack["read"]], "kms:Decrypt", key, {})[0],
        "decrypt through SageMaker": authz.evaluate(
            [stack["read"]], "kms:Decrypt", key, {"kms:ViaService": "sagemaker.%s.amazonaws.com" % harness.REGION})[0],
        "another key through S3": authz.evaluate([stack["read"]], "kms:Decrypt", other, via)[0],
        "a data key through S3": authz.evaluate([stack["read"]], "kms:GenerateDataKey", key, via)[0],
        "a grant": authz.evaluate([stack["read"]], "kms:CreateGrant", key, via)[0],
    }  # fmt: skip
    assert decisions == {"decrypt through S3": "allow", **dict.fromkeys(list(decisions)[1:], "implicit-deny")}
    # The key policy grants the notebook role nothing else either: no grant, even one for an AWS
    # resource, and no data key, whatever its IAM policies might allow.
    key_policy = stack["key_policy"]
    role = {"aws:PrincipalArn": "arn:aws:iam::%s:user/lpk-notebook" % harness.ACCOUNT_ID, "aws:userid": "AIDANOTEBOOK",
            "kms:CallerAccount": harness.ACCOUNT_ID, "aws:PrincipalAccount": harness.ACCOUNT_ID}  # fmt: skip
    by_key = {
        "decrypt through S3": authz.key_policy_decision(key_policy, harness.ACCOUNT_ID, [], "kms:Decrypt", dict(
            role, **via, **{"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::%s" % BUCKET})),
        "a grant for an AWS resource": authz.key_policy_decision(key_policy, harness.ACCOUNT_ID, [], "kms:CreateGrant",
                                                                 dict(role, **{"kms:GrantIsForAWSResource": "true"})),
        "a data key through S3": authz.key_policy_decision(key_policy, harness.ACCOUNT_ID, [], "kms:GenerateDataKey",
                                                           dict(role, **via)),
    }  # fmt: skip
    assert by_key == {"decrypt through S3": "allow", "a grant for an AWS resource": "implicit-deny",
                      "a data key through S3": "implicit-deny"}  # fmt: skip
