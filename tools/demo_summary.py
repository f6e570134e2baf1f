# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print what exists after the demo, read back from the emulator with boto3 (not from Ansible).

python tools/demo_summary.py NAME_PREFIX BUCKET
"""

import base64
import json
import os
import sys
import urllib.parse

import boto3


def client(service):
    return boto3.client(
        service,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


def policy_lines(document, indent="      "):
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    lines = []
    for statement in document.get("Statement", []):
        actions = statement.get("Action")
        actions = ", ".join(actions) if isinstance(actions, list) else actions
        resources = statement.get("Resource") or "principal %s" % json.dumps(statement.get("Principal"))
        resources = ", ".join(resources) if isinstance(resources, list) else resources
        condition = f" if {json.dumps(statement['Condition'])}" if "Condition" in statement else ""
        lines.append(f"{indent}{statement['Effect']} {actions} on {resources}{condition}")
    return lines


def main(prefix, bucket):
    sm, ec2, iam, s3, kms = (client(s) for s in ("sagemaker", "ec2", "iam", "s3", "kms"))
    out = ["", "What the demo built (read back from the emulator):", "", "Notebooks"]
    for notebook in sm.list_notebook_instances()["NotebookInstances"]:
        described = sm.describe_notebook_instance(NotebookInstanceName=notebook["NotebookInstanceName"])
        out.append(
            f"  {described['NotebookInstanceName']:<24} {described['NotebookInstanceStatus']:<10} "
            f"{described['InstanceType']:<14} internet={described['DirectInternetAccess']:<8} "
            f"lifecycle={described.get('NotebookInstanceLifecycleConfigName', '-')} "
            f"imds>={described['InstanceMetadataServiceConfiguration']['MinimumInstanceMetadataServiceVersion']} "
            f"volume key={described.get('KmsKeyId', 'none (SageMaker-managed)')}"
        )
    lcc_name = f"{prefix}-autostop"
    lcc = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=lcc_name)
    script = base64.b64decode(lcc["OnStart"][0]["Content"]).decode()
    pinned = [line for line in script.splitlines() if line.startswith(("SHA256=", "IDLE_SECONDS="))]
    out += [
        "",
        f"Lifecycle configuration {lcc_name}: on-start script of {len(script)} characters, " + ", ".join(pinned),
    ]
    try:
        key = kms.describe_key(KeyId=f"alias/{prefix}")["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        key = None
    if key:
        rotation = kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
        out += [
            "",
            f"KMS key alias/{prefix}: {key['Arn']} ({key['KeyManager']}, {key['KeyState']}, rotation={rotation})",
        ]
        out += policy_lines(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"], "      policy: ")
    out += ["", "VPC endpoints"]
    for endpoint in ec2.describe_vpc_endpoints()["VpcEndpoints"]:
        where = endpoint.get("RouteTableIds") or endpoint.get("SubnetIds")
        kind = endpoint["VpcEndpointType"]
        out.append(f"  {endpoint['VpcEndpointId']} {endpoint['ServiceName']} ({kind}) on {where}")
        out += policy_lines(endpoint["PolicyDocument"], "      policy: ")
    role = iam.get_role(RoleName=f"{prefix}-notebook")["Role"]
    out += ["", f"IAM role {role['RoleName']}"]
    out += policy_lines(role["AssumeRolePolicyDocument"], "      trust: ")
    for attached in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        out.append(f"  policy {policy['PolicyName']}")
        out += policy_lines(version["PolicyVersion"]["Document"])
    out += ["", f"Bucket {bucket}"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    out.append(
        f"  public access blocked: {all(block.values())}; versioning: "
        f"{s3.get_bucket_versioning(Bucket=bucket).get('Status')}"
    )
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    default = rule["ApplyServerSideEncryptionByDefault"]
    out.append(
        f"  default encryption: {default['SSEAlgorithm']} {default.get('KMSMasterKeyID', '')} "
        f"bucket key={rule.get('BucketKeyEnabled', False)}"
    )
    out += policy_lines(s3.get_bucket_policy(Bucket=bucket)["Policy"], "      policy: ")
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        head = s3.head_object(Bucket=bucket, Key=listed["Key"])
        out.append(
            f"  object {listed['Key']} ({listed['Size']} bytes, {head.get('ServerSideEncryption')} "
            f"{head.get('SSEKMSKeyId', '')})"
        )
    print("\n".join(out))


if __name__ == "__main__":
    main(*sys.argv[1:3])
