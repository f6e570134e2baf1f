# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A compliant fleet for the audit, built with boto3 on the emulator: the functional audit test (50 notebooks,
2 subnets) and bench/audit_scale.py (500 notebooks, 10 subnets) share it.  The collection's module_utils
(policies, arn) must be importable (its build root on sys.path).

Every notebook is as the isolated_notebook role leaves it: private subnet, S3 gateway endpoint with the
collection's policy on every subnet's route table, SageMaker API and CloudWatch Logs interface endpoints, one
execution role with the collection's policies, one lifecycle configuration pinning autostop.py, one script
bucket, a customer managed key."""

import base64
import hashlib
import importlib
import json
import shlex

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def module_util(name):
    return importlib.import_module("ansible_collections.secure_sagemaker.notebooks.plugins.module_utils." + name)


def private_network(ec2, region, cidr="10.30", zone="a"):
    """A VPC with DNS host names (private DNS needs them) and one subnet with its own route table."""
    vpc = ec2.create_vpc(CidrBlock=cidr + ".0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr + ".1.0/24", AvailabilityZone=region + zone)["Subnet"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["SubnetId"])
    return vpc, subnet["SubnetId"], table


def build_fleet(emulator, size, region, script, subnets=2, prefix="fleet"):
    """``size`` compliant notebooks spread over ``subnets`` subnets (each with its own route table) of one VPC,
    sharing the endpoints, one role, one lifecycle configuration and one script bucket; ``script``: the bytes of
    autostop.py.  Returns the notebook names, sorted."""
    policies, arn = module_util("policies"), module_util("arn")
    ec2, s3, iam, sm = (emulator.client(s) for s in ("ec2", "s3", "iam", "sagemaker"))
    vpc, first_subnet, first_table = private_network(ec2, region, "10.40", "b")
    subnet_ids, tables = [first_subnet], [first_table]
    zones = "abcdef"
    for index in range(1, subnets):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.40.%d.0/24" % (index + 1), AvailabilityZone=region + zones[index % len(zones)]
        )["Subnet"]["SubnetId"]
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        subnet_ids.append(subnet)
        tables.append(table)
    group = ec2.create_security_group(VpcId=vpc, GroupName=prefix, Description=prefix)["GroupId"]
    bucket, key_prefix = prefix + "-audit-scripts", "lifecycle-configurations/"
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.%s.s3" % region,
        VpcEndpointType="Gateway",
        RouteTableIds=tables,
        PolicyDocument=json.dumps(policies.s3_endpoint_policy(bucket, key_prefix)),
    )["VpcEndpoint"]["VpcEndpointId"]
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.%s.sagemaker.api" % region,
        VpcEndpointType="Interface",
        SubnetIds=[first_subnet],
        SecurityGroupIds=[group],
    )
    width = max(2, len(str(size - 1)))
    names = ["%s-%0*d" % (prefix, width, i) for i in range(size)]
    caller = emulator.client("sts").get_caller_identity()
    # The lifecycle output's way to CloudWatch Logs (the notebook group keeps AWS's default egress).
    logs_group = ec2.create_security_group(VpcId=vpc, GroupName=prefix + "-logs", Description=prefix)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=logs_group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": group}]}],
    )
    logs_policy = policies.logs_endpoint_policy(names, region, caller["Account"])
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.%s.logs" % region,
        VpcEndpointType="Interface",
        SubnetIds=[first_subnet],
        SecurityGroupIds=[logs_group],
        PrivateDnsEnabled=True,
        PolicyDocument=json.dumps(logs_policy),
    )

    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict.fromkeys(PUBLIC_ACCESS_FLAGS, True))
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps(policies.bucket_policy(bucket, endpoint, [arn.principal_arn(caller["Arn"])]))
    )
    s3.put_object(Bucket=bucket, Key=key_prefix + "autostop.py", Body=script)

    role_name = prefix + "-notebook"
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(policies.trust_policy(caller["Account"])))
    # The role's per-notebook policies, split as the role splits them.
    stop = policies.notebook_policies(names, region, caller["Account"])
    for name, document in [(prefix + "-s3-read", policies.s3_read_policy(bucket, key_prefix))] + [
        ("%s-autostop-%d" % (prefix, n), document) for n, document in enumerate(stop, 1)
    ]:
        policy_arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    on_start = "\n".join(
        [
            "#!/bin/bash",
            "BUCKET=%s" % shlex.quote(bucket),
            "KEY=%s" % shlex.quote(key_prefix + "autostop.py"),
            "SHA256=%s" % hashlib.sha256(script).hexdigest(),
            'aws s3 cp "s3://$BUCKET/$KEY" /usr/local/lib/autostop.py',
            "systemctl enable sagemaker-autostop.timer",
        ]
    )
    content = base64.b64encode(on_start.encode()).decode()
    sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=prefix + "-autostop", OnStart=[{"Content": content}]
    )
    role = "arn:aws:iam::%s:role/%s" % (caller["Account"], role_name)
    key = emulator.client("kms").create_key()["KeyMetadata"]["Arn"]  # a customer managed key on every volume
    for index, name in enumerate(names):
        sm.create_notebook_instance(
            NotebookInstanceName=name,
            InstanceType="ml.t3.medium",
            RoleArn=role,
            SubnetId=subnet_ids[index % subnets],
            SecurityGroupIds=[group],
            DirectInternetAccess="Disabled",
            RootAccess="Disabled",
            LifecycleConfigName=prefix + "-autostop",
            InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
            KmsKeyId=key,
        )
    return names
