# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create what a user brings to the demo (a VPC with a private subnet) in the emulator, and write
the play's variables for it.  Idempotent: an existing demo VPC is reused.

    python tools/demo_network.py OUT_VARS_FILE
"""

import json
import os
import sys

import boto3

TAG = {"Key": "Name", "Value": "secure-sagemaker-demo"}


def main(out):
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region)
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [TAG["Value"]]}])["Vpcs"]
    if found:
        vpc = found[0]["VpcId"]
        subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    else:
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [TAG]}])[
            "Vpc"
        ]["VpcId"]
        # The notebooks resolve the endpoints through the VPC's DNS; private DNS needs host names too.
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone=region + "a")["Subnet"][
            "SubnetId"
        ]
        # A private route table: only the VPC-local route, so the subnet is isolated.
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    variables = {
        "aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"],
        "aws_ca_bundle": os.environ.get("AWS_CA_BUNDLE", ""),
        "aws_access_key": os.environ["AWS_ACCESS_KEY_ID"],
        "aws_secret_key": os.environ["AWS_SECRET_ACCESS_KEY"],
        "isolated_notebook_region": region,
        "isolated_notebook_vpc_id": vpc,
        "isolated_notebook_subnet_id": subnet,
    }
    with open(out, "w") as handle:
        json.dump(variables, handle, indent=2)
    print(f"demo network: {vpc}, private subnet {subnet}")


if __name__ == "__main__":
    main(sys.argv[1])
