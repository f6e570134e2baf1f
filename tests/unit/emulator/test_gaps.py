# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each gap that tests/emulator/gaps.py fills behaves as the SageMaker API documents it."""

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator import Emulator
from tests.emulator.gaps import LOCKOUT_MESSAGE, phase_seconds

ROLE = "arn:aws:iam::123456789012:role/notebook"


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def sm(emulator):
    return emulator.client("sagemaker")


@pytest.fixture
def subnet(emulator):
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]


def create_lcc(sm, name="lcc", script="echo start", **extra):
    return sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name, OnStart=[{"Content": b64(script)}], **extra
    )


def create_notebook(sm, subnet, name="nb", **extra):
    params = dict(
        NotebookInstanceName=name,
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
        SubnetId=subnet,
        SecurityGroupIds=["sg-12345678"],
        DirectInternetAccess="Disabled",
    )
    params.update(extra)
    sm.create_notebook_instance(**params)
    return sm.describe_notebook_instance(NotebookInstanceName=name)


def status(sm, name="nb"):
    return sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]


# --- describe --------------------------------------------------------------------------------------


def test_describe_returns_platform_imds_and_eni_defaults(sm, subnet):
    described = create_notebook(sm, subnet)
    assert described["PlatformIdentifier"] == "notebook-al2023-v1"
    assert described["InstanceMetadataServiceConfiguration"] == {"MinimumInstanceMetadataServiceVersion": "1"}
    assert described["NetworkInterfaceId"].startswith("eni-")
    assert "NotebookInstanceLifecycleConfigName" not in described  # absent, not null


def test_create_takes_platform_and_imds(sm, subnet):
    described = create_notebook(
        sm,
        subnet,
        PlatformIdentifier="notebook-al2-v3",
        InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
    )
    assert described["PlatformIdentifier"] == "notebook-al2-v3"
    assert described["InstanceMetadataServiceConfiguration"]["MinimumInstanceMetadataServiceVersion"] == "2"


# --- create refusals -------------------------------------------------------------------------------


def test_direct_internet_disabled_needs_subnet(sm):
    error = error_of(
        sm.create_notebook_instance,
        NotebookInstanceName="nb",
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
        DirectInternetAccess="Disabled",
    )
    assert error["Code"] == "ValidationException" and "SubnetId" in error["Message"]
    assert sm.list_notebook_instances()["NotebookInstances"] == []


def test_create_volume_out_of_range(sm, subnet):
    # botocore itself refuses sizes below 5; the upper bound is the server's.
    error = error_of(create_notebook, sm, subnet, VolumeSizeInGB=16385)
    assert "VolumeSizeInGB" in error["Message"] and "16384" in error["Message"]


def test_create_with_unknown_lifecycle_config(sm, subnet):
    error = error_of(create_notebook, sm, subnet, LifecycleConfigName="missing")
    assert "missing" in error["Message"]
    assert sm.list_notebook_instances()["NotebookInstances"] == []


def test_create_with_six_security_groups(sm, subnet):
    error = error_of(create_notebook, sm, subnet, SecurityGroupIds=[f"sg-{i:08d}" for i in range(6)])
    assert "securityGroupIds" in error["Message"]


# --- start / stop rules ----------------------------------------------------------------------------


def test_stop_only_from_in_service_and_start_only_from_stopped(sm, subnet):
    create_notebook(sm, subnet)
    assert "Stopped, Failed" in error_of(sm.start_notebook_instance, NotebookInstanceName="nb")["Message"]
    sm.stop_notebook_instance(NotebookInstanceName="nb")
    assert status(sm) == "Stopped"
    assert "InService" in error_of(sm.stop_notebook_instance, NotebookInstanceName="nb")["Message"]
    sm.start_notebook_instance(NotebookInstanceName="nb")
    assert status(sm) == "InService"


# --- UpdateNotebookInstance ------------------------------------------------------------------------


def test_update_refused_unless_stopped(sm, subnet):
    create_notebook(sm, subnet)
    error = error_of(sm.update_notebook_instance, NotebookInstanceName="nb", InstanceType="ml.t3.large")
    assert "Status (InService) not in ([Stopped])" in error["Message"]
    assert sm.describe_notebook_instance(NotebookInstanceName="nb")["InstanceType"] == "ml.t3.medium"


def test_update_applies_every_documented_field(sm, subnet):
    create_lcc(sm, "first")
    create_lcc(sm, "second")
    create_notebook(sm, subnet, LifecycleConfigName="first", VolumeSizeInGB=10, RootAccess="Enabled")
    sm.stop_notebook_instance(NotebookInstanceName="nb")
    sm.update_notebook_instance(
        NotebookInstanceName="nb",
        InstanceType="ml.t3.large",
        RoleArn=ROLE + "2",
        VolumeSizeInGB=20,
        RootAccess="Disabled",
        LifecycleConfigName="second",
        PlatformIdentifier="notebook-al2-v3",
        InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
    )
    described = sm.describe_notebook_instance(NotebookInstanceName="nb")
    assert described["NotebookInstanceStatus"] == "Stopped"
    assert (described["InstanceType"], described["RoleArn"], described["VolumeSizeInGB"]) == (
        "ml.t3.large",
        ROLE + "2",
        20,
    )
    assert described["RootAccess"] == "Disabled"
    assert described["NotebookInstanceLifecycleConfigName"] == "second"
    assert described["PlatformIdentifier"] == "notebook-al2-v3"
    assert described["InstanceMetadataServiceConfiguration"]["MinimumInstanceMetadataServiceVersion"] == "2"
    # Create-only fields are untouched.
    assert described["SubnetId"] == subnet and described["DirectInternetAccess"] == "Disabled"


def test_update_detaches_lifecycle_config(sm, subnet):
    create_lcc(sm)
    create_notebook(sm, subnet, LifecycleConfigName="lcc")
    sm.stop_notebook_instance(NotebookInstanceName="nb")
    sm.update_notebook_instance(NotebookInstanceName="nb", DisassociateLifecycleConfig=True)
    assert "NotebookInstanceLifecycleConfigName" not in sm.describe_notebook_instance(NotebookInstanceName="nb")


@pytest.mark.parametrize(
    "params, words",
    [
        ({"VolumeSizeInGB": 5}, "cannot be decreased"),
        ({"LifecycleConfigName": "missing"}, "missing"),
        ({"InstanceType": "ml.nope.large"}, "instanceType"),
        ({"InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "3"}}, "1 or 2"),
    ],
)
def test_update_refusals_change_nothing(sm, subnet, params, words):
    create_notebook(sm, subnet, VolumeSizeInGB=10)
    sm.stop_notebook_instance(NotebookInstanceName="nb")
    before = sm.describe_notebook_instance(NotebookInstanceName="nb")
    error = error_of(sm.update_notebook_instance, NotebookInstanceName="nb", **params)
    assert words in error["Message"]
    after = sm.describe_notebook_instance(NotebookInstanceName="nb")
    for key in ("VolumeSizeInGB", "InstanceType", "InstanceMetadataServiceConfiguration", "NotebookInstanceStatus"):
        assert after.get(key) == before.get(key)


# --- lifecycle configurations ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["has_underscore", "-leading", "trailing-", "x" * 64])
def test_lifecycle_config_name_rule(sm, name):
    error = error_of(create_lcc, sm, name)
    assert "regular expression pattern" in error["Message"]


def test_lifecycle_config_name_at_limit(sm):
    create_lcc(sm, "a" * 63)
    assert sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName="a" * 63)


def test_lifecycle_config_content_limit(sm):
    sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="limit", OnStart=[{"Content": "A" * 16384}]
    )
    error = error_of(
        sm.create_notebook_instance_lifecycle_config,
        NotebookInstanceLifecycleConfigName="over",
        OnStart=[{"Content": "A" * 16385}],
    )
    assert "16384" in error["Message"]
    error = error_of(
        sm.update_notebook_instance_lifecycle_config,
        NotebookInstanceLifecycleConfigName="limit",
        OnStart=[{"Content": "A" * 16385}],
    )
    assert "16384" in error["Message"]


def test_update_lifecycle_config_in_place(sm):
    arn = create_lcc(sm, script="one")["NotebookInstanceLifecycleConfigArn"]
    sm.update_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="lcc", OnStart=[{"Content": b64("two")}]
    )
    described = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName="lcc")
    assert base64.b64decode(described["OnStart"][0]["Content"]) == b"two"
    assert described["NotebookInstanceLifecycleConfigArn"] == arn
    assert described["LastModifiedTime"] >= described["CreationTime"]
    error = error_of(
        sm.update_notebook_instance_lifecycle_config,
        NotebookInstanceLifecycleConfigName="nope",
        OnStart=[{"Content": b64("x")}],
    )
    assert "does not exist" in error["Message"]


def test_list_lifecycle_configs_filters_and_pages(sm):
    for index in range(5):
        create_lcc(sm, f"cfg-{index}")
    create_lcc(sm, "other")
    names, token = [], None
    while True:
        kwargs = {"NameContains": "cfg", "SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = sm.list_notebook_instance_lifecycle_configs(**kwargs)
        assert len(page["NotebookInstanceLifecycleConfigs"]) <= 2
        names += [c["NotebookInstanceLifecycleConfigName"] for c in page["NotebookInstanceLifecycleConfigs"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"cfg-{index}" for index in range(5)]


def test_lifecycle_config_tags(sm):
    arn = create_lcc(sm, Tags=[{"Key": "team", "Value": "a"}])["NotebookInstanceLifecycleConfigArn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}])  # overwrites, never duplicates
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "b"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []


def test_list_notebooks_by_lifecycle_config(sm, subnet):
    create_lcc(sm, "autostop")
    create_notebook(sm, subnet, "with", LifecycleConfigName="autostop")
    create_notebook(sm, subnet, "without")
    found = sm.list_notebook_instances(NotebookInstanceLifecycleConfigNameContains="autostop")
    assert [n["NotebookInstanceName"] for n in found["NotebookInstances"]] == ["with"]


# --- timing model ----------------------------------------------------------------------------------


def test_phase_seconds_parsing():
    assert phase_seconds("") == {"Pending": 0.0, "Stopping": 0.0, "Updating": 0.0}
    assert phase_seconds("2") == {"Pending": 2.0, "Stopping": 2.0, "Updating": 2.0}
    assert phase_seconds("Stopping=10,Pending=1") == {"Pending": 1.0, "Stopping": 10.0, "Updating": 0.0}
    with pytest.raises(ValueError):
        phase_seconds("Deleting=3")


def test_timing_model_phases():
    with Emulator(phase_seconds="0.6") as emulator:
        sm = emulator.client("sagemaker")
        ec2 = emulator.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
        subnet = subnet["Subnet"]["SubnetId"]
        create_notebook(sm, subnet)
        seen = [status(sm)]
        # Transitional states refuse the calls that need a settled state, as on AWS.
        assert "Status (Pending)" in error_of(sm.stop_notebook_instance, NotebookInstanceName="nb")["Message"]
        time.sleep(0.7)
        seen.append(status(sm))
        sm.stop_notebook_instance(NotebookInstanceName="nb")
        seen.append(status(sm))
        time.sleep(0.7)
        seen.append(status(sm))
        sm.update_notebook_instance(NotebookInstanceName="nb", InstanceType="ml.t3.large")
        seen.append(status(sm))
        time.sleep(0.7)
        seen.append(status(sm))
        assert seen == ["Pending", "InService", "Stopping", "Stopped", "Updating", "Stopped"]


# --- S3 bucket-policy conditions -------------------------------------------------------------------

BUCKET = "scripts-bucket"
BUCKET_ARN = "arn:aws:s3:::" + BUCKET


def deny(sid, condition):
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET_ARN, BUCKET_ARN + "/*"],
        "Condition": condition,
    }


@pytest.fixture(scope="module")
def tls_emulator():
    with Emulator(tls=True) as emulator:
        yield emulator


def put_allowed(s3):
    try:
        s3.put_object(Bucket=BUCKET, Key="lifecycle-configurations/autostop.py", Body=b"x")
        return True
    except ClientError as error:
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        return False


@pytest.mark.parametrize("tls, allowed", [(False, False), (True, True)])
def test_secure_transport_condition(emulator, tls_emulator, tls, allowed):
    server = tls_emulator if tls else emulator
    server.reset()
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Statement": [deny("TLS", {"Bool": {"aws:SecureTransport": "false"}})]})
    )
    assert put_allowed(s3) is allowed


def test_principal_and_endpoint_conditions(tls_emulator):
    tls_emulator.reset()
    s3 = tls_emulator.client("s3")
    caller = tls_emulator.client("sts").get_caller_identity()["Arn"]
    s3.create_bucket(Bucket=BUCKET)

    def outside_endpoint_denied_except(admins):
        condition = {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}, "ArnNotEquals": {"aws:PrincipalArn": admins}}
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Statement": [deny("Endpoint", condition)]}))
        return put_allowed(s3)

    # Requests never come through a VPC endpoint here: only the admin exemption lets one pass.
    assert outside_endpoint_denied_except([caller]) is True
    assert outside_endpoint_denied_except(["arn:aws:iam::123456789012:role/other"]) is False
    s3.delete_bucket_policy(Bucket=BUCKET)
    assert put_allowed(s3) is True


def test_a_role_session_is_its_role_with_the_path_and_its_role_id(tls_emulator):
    """IAM global condition keys: aws:PrincipalArn of a role session is the role's ARN (with its path,
    which the session ARN does not show); aws:userid is role-id:session-name."""
    tls_emulator.reset()
    iam, sts = tls_emulator.client("iam"), tls_emulator.client("sts")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(
        RoleName="AWSReservedSSO_Admin_0123456789abcdef",
        Path="/aws-reserved/sso.amazonaws.com/us-east-1/",
        AssumeRolePolicyDocument=json.dumps(trust),
    )["Role"]
    keys = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="alice")["Credentials"]
    session = tls_emulator.client("s3", credentials=keys)
    tls_emulator.client("s3").create_bucket(Bucket=BUCKET)

    def allowed_with(operator, key, values):
        condition = {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}, operator: {key: values}}
        tls_emulator.client("s3").put_bucket_policy(
            Bucket=BUCKET, Policy=json.dumps({"Statement": [deny("Endpoint", condition)]})
        )
        return put_allowed(session)

    without_path = "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef"
    assert allowed_with("ArnNotEquals", "aws:PrincipalArn", [role["Arn"]]) is True
    assert allowed_with("ArnNotEquals", "aws:PrincipalArn", [without_path]) is False
    assert allowed_with("StringNotLike", "aws:userid", [role["RoleId"] + ":*"]) is True
    assert allowed_with("StringNotLike", "aws:userid", ["AROAOTHERROLE:*"]) is False


def test_delete_objects_sees_the_request(tls_emulator):
    # DeleteObjects is a bucket request that checks s3:DeleteObject per key: the admin exemption
    # must hold there too, or a teardown by the admin could not empty the bucket.
    tls_emulator.reset()
    s3 = tls_emulator.client("s3")
    caller = tls_emulator.client("sts").get_caller_identity()["Arn"]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="a", Body=b"a")
    for admins, deleted in ((["arn:aws:iam::123456789012:role/other"], []), ([caller], ["a"])):
        condition = {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}, "ArnNotEquals": {"aws:PrincipalArn": admins}}
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Statement": [deny("Endpoint", condition)]}))
        answer = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "a"}]})
        assert [d["Key"] for d in answer.get("Deleted", [])] == deleted


# --- EC2 VPC endpoints -----------------------------------------------------------------------------


def test_private_dns_needs_both_vpc_dns_attributes(emulator):
    """CreateVpcEndpoint/ModifyVpcEndpoint PrivateDnsEnabled: enableDnsHostnames and enableDnsSupport."""
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    service = "com.amazonaws.us-east-1.sagemaker.api"
    with pytest.raises(ClientError) as refused:  # PrivateDnsEnabled defaults to true for AWS services
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service, VpcEndpointType="Interface", SubnetIds=[subnet])
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"
    assert "enableDnsSupport and enableDnsHostnames" in refused.value.response["Error"]["Message"]
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=service, VpcEndpointType="Interface", SubnetIds=[subnet], PrivateDnsEnabled=False
    )["VpcEndpoint"]["VpcEndpointId"]
    with pytest.raises(ClientError) as refused:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PrivateDnsEnabled=True)
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PrivateDnsEnabled=True)
    assert ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["PrivateDnsEnabled"] is True
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": False})
    with pytest.raises(ClientError):
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service, VpcEndpointType="Interface", SubnetIds=[subnet])


@pytest.fixture
def network(emulator):
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _index in range(2)]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    return ec2, vpc, tables, subnet


def endpoint_routes(ec2, table):
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    return [r["GatewayId"] for r in routes if r.get("DestinationPrefixListId")]


def test_endpoint_type_defaults_to_gateway(network):
    ec2, vpc, tables, _subnet = network
    created = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=tables[:1])
    endpoint_id = created["VpcEndpoint"]["VpcEndpointId"]
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-type", "Values": ["Gateway"]}])
    assert [e["VpcEndpointId"] for e in found["VpcEndpoints"]] == [endpoint_id]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    assert endpoint_routes(ec2, tables[0]) == []


def test_modify_moves_the_prefix_list_route(network):
    ec2, vpc, (first, second), _subnet = network
    endpoint_id = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway", RouteTableIds=[first]
    )["VpcEndpoint"]["VpcEndpointId"]
    assert endpoint_routes(ec2, first) == [endpoint_id]
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddRouteTableIds=[second], RemoveRouteTableIds=[first])
    assert endpoint_routes(ec2, first) == []
    assert endpoint_routes(ec2, second) == [endpoint_id]
    # Deleting removes the route from the table it is on now.
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    assert endpoint_routes(ec2, second) == []


def test_modify_private_dns_of_interface_endpoint(network):
    ec2, vpc, _tables, subnet = network
    endpoint_id = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName="com.amazonaws.us-east-1.sagemaker.api",
        VpcEndpointType="Interface",
        SubnetIds=[subnet],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]

    def private_dns():
        return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["PrivateDnsEnabled"]

    assert private_dns() is False
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=True)
    assert private_dns() is True


def offered(ec2, **kwargs):
    return {(d["ServiceName"], d["ServiceType"][0]["ServiceType"]): d for d in
            ec2.describe_vpc_endpoint_services(**kwargs)["ServiceDetails"]}  # fmt: skip


def test_china_interface_services_are_named_cn_com(emulator):
    """DescribeVpcEndpointServices in cn-north-1 (aws/aws-cdk#25329): cn.com.amazonaws for most interface
    services, com.amazonaws for the S3 gateway."""
    import boto3

    ec2 = boto3.client(
        "ec2", region_name="cn-north-1", endpoint_url=emulator.url, aws_access_key_id="testing",
        aws_secret_access_key="testing", verify=emulator.ca_bundle if emulator.tls else None,
    )  # fmt: skip
    names = offered(ec2)
    assert ("cn.com.amazonaws.cn-north-1.sagemaker.api", "Interface") in names
    assert ("com.amazonaws.cn-north-1.sagemaker.api", "Interface") not in names
    assert ("com.amazonaws.cn-north-1.s3", "Gateway") in names
    assert ("cn.com.amazonaws.cn-north-1.s3", "Interface") in names
    assert ("com.amazonaws.us-east-1.sagemaker.api", "Interface") in offered(emulator.client("ec2"))


def test_endpoint_services_filter_by_name_and_type(network):
    ec2 = network[0]
    by_name = offered(ec2, Filters=[{"Name": "service-name", "Values": ["com.amazonaws.us-east-1.s3"]}])
    assert sorted(by_name) == [("com.amazonaws.us-east-1.s3", "Gateway"), ("com.amazonaws.us-east-1.s3", "Interface")]
    gateways = offered(ec2, Filters=[{"Name": "service-type", "Values": ["Gateway"]}])
    assert gateways and all(kind == "Gateway" for _name, kind in gateways)


def test_create_endpoint_refuses_a_service_not_offered(network):
    ec2, vpc, tables, _subnet = network
    for name, kind in (("com.amazonaws.cn-north-1.sagemaker.api", "Interface"),
                       ("com.amazonaws.us-east-1.sagemaker.api", "Gateway")):  # fmt: skip
        with pytest.raises(ClientError, match="does not exist") as error:
            ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=name, VpcEndpointType=kind)
        assert error.value.response["Error"]["Code"] == "InvalidServiceName"
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []


def test_interface_endpoint_only_in_the_zones_the_service_is_offered_in(network):
    ec2, vpc, _tables, subnet = network
    far = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.5.0/24", AvailabilityZone="us-east-1e")["Subnet"]["SubnetId"]
    name = "com.amazonaws.us-east-1.sagemaker.api"
    assert "us-east-1e" not in offered(ec2)[(name, "Interface")]["AvailabilityZones"]
    assert "us-east-1e" in offered(ec2)[("com.amazonaws.us-east-1.s3", "Interface")]["AvailabilityZones"]
    with pytest.raises(ClientError, match="does not support the availability zone of the subnet: %s" % far) as error:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=name, VpcEndpointType="Interface", SubnetIds=[subnet, far])
    assert error.value.response["Error"]["Code"] == "InvalidParameter"
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=name, VpcEndpointType="Interface", SubnetIds=[subnet])
    endpoint_id = endpoint["VpcEndpoint"]["VpcEndpointId"]
    with pytest.raises(ClientError, match="does not support the availability zone"):
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddSubnetIds=[far])
    assert ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["SubnetIds"] == [subnet]


# --- EC2 security group rules on prefix lists ------------------------------------------------------


def test_prefix_list_rule_keeps_its_description(network):
    ec2, vpc, _tables, _subnet = network
    prefix_list = ec2.describe_prefix_lists()["PrefixLists"][0]["PrefixListId"]
    group = ec2.create_security_group(GroupName="notebooks", Description="d", VpcId=vpc)["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    ec2.authorize_security_group_egress(
        GroupId=group, IpPermissions=[dict(rule, PrefixListIds=[{"PrefixListId": prefix_list, "Description": "s3"}])]
    )
    egress = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissionsEgress"]
    assert [p["PrefixListIds"] for p in egress if p["PrefixListIds"]] == [
        [{"PrefixListId": prefix_list, "Description": "s3"}]
    ]
    answer = ec2.update_security_group_rule_descriptions_egress(
        GroupId=group, IpPermissions=[dict(rule, PrefixListIds=[{"PrefixListId": prefix_list, "Description": "x"}])]
    )
    assert answer["Return"] is True


# --- IAM identity-policy conditions on s3:prefix (authorization on) --------------------------------


def _set_auth(emulator, count):
    import urllib.request

    request = urllib.request.Request(emulator.url + "/moto-api/reset-auth", method="POST", data=count.encode(),
                                     headers={"Content-Type": "text/plain"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def test_list_bucket_honours_the_s3_prefix_condition(emulator):
    import boto3

    s3, iam = emulator.client("s3"), emulator.client("iam")
    s3.create_bucket(Bucket="scripts")
    s3.put_object(Bucket="scripts", Key="lcc/a.py", Body=b"a")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::scripts",
         "Condition": {"StringLike": {"s3:prefix": ["lcc/*"]}}}]}  # fmt: skip
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="list", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = boto3.client("s3", endpoint_url=emulator.url, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])  # fmt: skip
    _set_auth(emulator, "0")
    try:
        assert [o["Key"] for o in reader.list_objects_v2(Bucket="scripts", Prefix="lcc/")["Contents"]] == ["lcc/a.py"]
        for kwargs in ({"Prefix": "other/"}, {}):  # another prefix; no prefix at all (the key is absent)
            with pytest.raises(ClientError) as denied:
                reader.list_objects_v2(Bucket="scripts", **kwargs)
            assert denied.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        _set_auth(emulator, "inf")


# --- IAM: managed-policy size ---------------------------------------------------------------------


def test_a_managed_policy_over_6144_characters_is_refused_white_space_aside(emulator):
    """IAM quotas: 6,144 characters for a managed policy; white space does not count."""
    iam = emulator.client("iam")

    def document(resource_length, indent=None):
        statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/" + "k" * resource_length}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=indent)

    base = len(document(0).replace(" ", ""))
    fits = document(6144 - base)
    assert sum(1 for c in fits if not c.isspace()) == 6144
    iam.create_policy(PolicyName="fits", PolicyDocument=document(6144 - base, indent=8))  # white space aside
    with pytest.raises(ClientError) as refused:
        iam.create_policy(PolicyName="over", PolicyDocument=document(6145 - base))
    assert refused.value.response["Error"]["Code"] == "LimitExceeded"
    assert "PolicySize: 6144" in refused.value.response["Error"]["Message"]
    arn = "arn:aws:iam::123456789012:policy/fits"
    with pytest.raises(ClientError):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document(6145 - base), SetAsDefault=True)


# --- S3 and KMS --------------------------------------------------------------------------------------


def test_an_sse_kms_objects_etag_is_not_the_md5_of_its_data(emulator):
    import hashlib

    s3, kms = emulator.client("s3"), emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=BUCKET)
    body = b"print('autostop')\n"
    md5 = '"%s"' % hashlib.md5(body, usedforsecurity=False).hexdigest()
    plain = s3.put_object(Bucket=BUCKET, Key="sse-s3", Body=body, ServerSideEncryption="AES256")["ETag"]
    encrypted = s3.put_object(Bucket=BUCKET, Key="sse-kms", Body=body, ServerSideEncryption="aws:kms",
                              SSEKMSKeyId=key)["ETag"]  # fmt: skip
    assert plain == md5 and encrypted != md5
    # Stable for the object: a HEAD and a GET give the ETag the PUT did.
    assert s3.head_object(Bucket=BUCKET, Key="sse-kms")["ETag"] == encrypted
    assert s3.get_object(Bucket=BUCKET, Key="sse-kms")["ETag"] == encrypted


def test_a_key_policy_that_would_lock_the_caller_out_is_refused(emulator):
    kms = emulator.client("kms")
    caller = emulator.client("sts").get_caller_identity()
    account = {"AWS": "arn:aws:iam::123456789012:root"}
    others_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": account, "Action": "kms:*", "Resource": "*",
        "Condition": {"StringLike": {"aws:userid": "AROAOTHERROLEID00000:*"}}}]}  # fmt: skip
    error = error_of(kms.create_key, Policy=json.dumps(others_only))
    assert error == {"Code": "MalformedPolicyDocumentException", "Message": LOCKOUT_MESSAGE}
    assert kms.list_keys()["Keys"] == []
    # Naming the caller (by its aws:userid) passes; so does a bypass.
    mine = json.loads(json.dumps(others_only))
    mine["Statement"][0]["Condition"] = {"StringLike": {"aws:userid": caller["UserId"]}}
    key = kms.create_key(Policy=json.dumps(mine))["KeyMetadata"]["KeyId"]
    kms.create_key(Policy=json.dumps(others_only), BypassPolicyLockoutSafetyCheck=True)
    # PutKeyPolicy is checked the same way.
    error = error_of(kms.put_key_policy, KeyId=key, PolicyName="default", Policy=json.dumps(others_only))
    assert error["Code"] == "MalformedPolicyDocumentException"
    assert json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]) == mine


def test_key_deletion_takes_the_key_arn(emulator):
    kms = emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=key["Arn"], PendingWindowInDays=7)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=key["Arn"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
