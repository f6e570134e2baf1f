# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the vpc_endpoint logic: validation, planning and prediction on plain data; the calls
against the emulator's EC2 (behaviour) and a Stubber (exact sequences: pages, waits, refusals)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import types

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import vpc_endpoint as ve
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import (
    Calls,
    retrying,
    stubbed,
)

VPC = "vpc-8753e59425527e286"
RTB1 = "rtb-10e07e36508a8eec2"
RTB2 = "rtb-ef275a25b07453345"
SUBNET1 = "subnet-fe406a01fd2f4dc57"
SUBNET2 = "subnet-6a8407e3748c7ef82"
SG1 = "sg-8d34e28c9def723ed"
SG2 = "sg-e369163c0d9aef593"
S3 = "com.amazonaws.us-east-1.s3"
SAGEMAKER = "com.amazonaws.us-east-1.sagemaker.api"
ALLOW_ALL = (
    '{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}'
)
READ_PREFIX = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::bucket/prefix/*"],
        }
    ],
}

# describe_vpc_endpoints items as the emulator (moto 5.2.5) returned them.
GATEWAY = {
    "VpcEndpointId": "vpce-926e2ffbaa4533799",
    "VpcEndpointType": "Gateway",
    "VpcId": VPC,
    "ServiceName": S3,
    "State": "available",
    "PolicyDocument": ALLOW_ALL,
    "RouteTableIds": [RTB1],
    "SubnetIds": [],
    "Groups": [],
    "PrivateDnsEnabled": True,
    "NetworkInterfaceIds": [],
    "DnsEntries": [],
    "CreationTimestamp": datetime.datetime(2026, 11, 28, 4, 44, 41, tzinfo=datetime.UTC),
    "Tags": [{"Key": "a", "Value": "b"}],
    "OwnerId": "123456789012",
}
INTERFACE = {
    "VpcEndpointId": "vpce-1e87b874916272b16",
    "VpcEndpointType": "Interface",
    "VpcId": VPC,
    "ServiceName": SAGEMAKER,
    "State": "available",
    "PolicyDocument": ALLOW_ALL,
    "RouteTableIds": [],
    "SubnetIds": [SUBNET1],
    "Groups": [{"GroupId": SG1, "GroupName": "a"}],
    "PrivateDnsEnabled": True,
    "NetworkInterfaceIds": ["eni-2293f133777bbe6c7"],
    "DnsEntries": [{"DnsName": "vpce-1e87b874916272b16-7e6946cd.com.amazonaws.us-east-1.sagemaker.api"}],
    "CreationTimestamp": datetime.datetime(2026, 11, 28, 4, 44, 41, tzinfo=datetime.UTC),
    "Tags": [],
    "OwnerId": "123456789012",
}


def params(**overrides):
    base = {
        "vpc_id": VPC,
        "service": S3,
        "vpc_endpoint_type": "Gateway",
        "policy": None,
        "route_table_ids": None,
        "subnet_ids": None,
        "security_group_ids": None,
        "private_dns_enabled": None,
        "tags": None,
        "purge_tags": True,
        "state": "present",
        "wait": True,
        "wait_timeout": 320,
    }
    base.update(overrides)
    return base


def spec(**overrides):
    return ve.validate(params(**overrides), "us-east-1")


# --- validation -----------------------------------------------------------------------------------


def test_validate_lists_the_names_a_short_service_may_have():
    assert spec(service="s3")["service_names"] == [S3, "cn." + S3]
    assert spec(service="sagemaker.api", vpc_endpoint_type="Interface")["service_names"] == [
        SAGEMAKER, "cn." + SAGEMAKER
    ]  # fmt: skip


# --- the service as EC2 offers it -------------------------------------------------------------------


def detail(name, kind, zones=("us-east-1a", "us-east-1b")):
    return {"ServiceName": name, "ServiceType": [{"ServiceType": kind}], "AvailabilityZones": list(zones)}


def test_pick_service_takes_the_offered_name_of_that_type():
    china = [
        detail("com.amazonaws.cn-north-1.s3", "Gateway"),
        detail("cn.com.amazonaws.cn-north-1.s3", "Interface"),
        detail("cn.com.amazonaws.cn-north-1.sagemaker.api", "Interface"),
    ]
    assert ve.pick_service(china, "s3", "cn-north-1", "Gateway")["ServiceName"] == "com.amazonaws.cn-north-1.s3"
    assert ve.pick_service(china, "s3", "cn-north-1", "Interface")["ServiceName"] == "cn.com.amazonaws.cn-north-1.s3"
    assert ve.pick_service(china, "sagemaker.api", "cn-north-1", "Interface")["ServiceName"] == (
        "cn.com.amazonaws.cn-north-1.sagemaker.api"
    )
    assert ve.pick_service(china, "sagemaker.api", "cn-north-1", "Gateway") is None
    assert ve.pick_service(china, "ec2", "cn-north-1", "Interface") is None
    # Where both names were offered, com.amazonaws comes first.
    both = [detail("cn." + SAGEMAKER, "Interface"), detail(SAGEMAKER, "Interface")]
    assert ve.pick_service(both, "sagemaker.api", "us-east-1", "Interface")["ServiceName"] == SAGEMAKER
    # ec2_vpc_endpoint_service_info's snake_case shape, and a full name.
    snake = [{"service_name": SAGEMAKER, "service_type": [{"service_type": "Interface"}], "availability_zones": []}]
    assert ve.pick_service(snake, "sagemaker.api", "us-east-1", "Interface") is snake[0]
    assert ve.pick_service(snake, SAGEMAKER, "us-east-1", "Interface") is snake[0]


def test_unsupported_zones():
    offered = detail(SAGEMAKER, "Interface", ("us-east-1a", "us-east-1b"))
    assert ve.unsupported_zones(offered, ["us-east-1a", "us-east-1e", "us-east-1e"]) == ["us-east-1e"]
    assert ve.unsupported_zones(offered, ["us-east-1b"]) == []
    assert ve.unsupported_zones({"ServiceName": SAGEMAKER}, ["us-east-1e"]) == []  # no list: nothing to judge


@pytest.mark.parametrize(
    "name", [S3, "aws.sagemaker.us-east-1.notebook", "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"]
)
def test_validate_keeps_full_service_names(name):
    assert spec(service=name)["service"] == name
    assert spec(service=name)["service_names"] == [name]


def test_validate_short_service_without_region_names_field():
    with pytest.raises(NotebooksError, match=r"^service: .*needs a region"):
        ve.validate(params(service="s3"), None)


def test_validate_parses_policy_text_into_dict():
    assert spec(policy=json.dumps(READ_PREFIX))["policy"] == READ_PREFIX


def test_validate_dedupes_ids_keeping_order():
    assert spec(route_table_ids=[RTB2, RTB1, RTB2])["route_table_ids"] == [RTB2, RTB1]


def test_validate_accepts_short_legacy_ids():
    assert spec(vpc_id="vpc-0a1b2c3d", route_table_ids=["rtb-0a1b2c3d"])["vpc_id"] == "vpc-0a1b2c3d"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"vpc_id": "vpc-123"}, r"^vpc_id: must be a VPC id: vpc- followed by 8 or 17"),
        ({"vpc_id": "subnet-0123456789abcdef0"}, r"^vpc_id: must be a VPC id"),
        ({"vpc_id": "VPC-8753E59425527E286"}, r"^vpc_id: "),
        ({"service": "S3 bucket"}, r"^service: must be a service name"),
        ({"service": ""}, r"^service: "),
        ({"route_table_ids": [RTB1, "rtb-xyz"]}, r"^route_table_ids: every element must be an id: rtb-.*'rtb-xyz'"),
        ({"route_table_ids": [SUBNET1]}, r"^route_table_ids: every element must be an id: rtb-"),
        (
            {"vpc_endpoint_type": "Interface", "subnet_ids": ["sub-1"]},
            r"^subnet_ids: every element must be an id: subnet-",
        ),
        (
            {"vpc_endpoint_type": "Interface", "security_group_ids": ["sg-1"]},
            r"^security_group_ids: every element must be an id: sg-",
        ),
        ({"route_table_ids": [RTB1], "vpc_endpoint_type": "Interface"}, r"^route_table_ids: applies only to .*Gateway"),
        ({"route_table_ids": [], "vpc_endpoint_type": "Interface"}, r"^route_table_ids: applies only to .*Gateway"),
        ({"subnet_ids": [SUBNET1]}, r"^subnet_ids: applies only to vpc_endpoint_type=Interface"),
        ({"security_group_ids": [SG1]}, r"^security_group_ids: applies only to vpc_endpoint_type=Interface"),
        ({"private_dns_enabled": False}, r"^private_dns_enabled: applies only to vpc_endpoint_type=Interface"),
        ({"policy": "{not json"}, r"^policy: must be a JSON policy document; it does not parse"),
        ({"policy": "[]"}, r"^policy: must be a JSON object"),
        ({"policy": '{"Version": "2012-10-17"}'}, r"^policy: a policy document needs a non-empty Statement"),
        ({"vpc_endpoint_type": "GatewayLoadBalancer"}, r"^vpc_endpoint_type: must be one of Gateway, Interface"),
        ({"wait_timeout": 0}, r"^wait_timeout: must be at least 1"),
    ],
)
def test_validate_rejects_bad_input_naming_field_and_rule(overrides, message):
    with pytest.raises(NotebooksError, match=message):
        spec(**overrides)


def test_validate_makes_no_aws_call():
    # validate() gets no client at all: it cannot reach AWS.  Checked by signature, not by hope.
    import inspect

    assert list(inspect.signature(ve.validate).parameters) == ["params", "region"]


# --- planning and prediction ----------------------------------------------------------------------


def test_plan_policy_compared_semantically():
    current = dict(GATEWAY, PolicyDocument=json.dumps(READ_PREFIX))
    same = {
        "Statement": [
            {"Resource": "arn:aws:s3:::bucket/prefix/*", "Action": "s3:GetObject", "Principal": "*", "Effect": "Allow"}
        ],
        "Version": "2012-10-17",
    }
    assert ve.plan(current, spec(policy=same)) == {"modify": {}, "tags_set": {}, "tags_unset": []}


def test_plan_default_version_is_not_a_change():
    wanted = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    assert not ve.has_changes(ve.plan(GATEWAY, spec(policy=wanted)))


def test_plan_changed_policy_sends_the_document():
    changes = ve.plan(GATEWAY, spec(policy=READ_PREFIX))
    assert json.loads(changes["modify"]["PolicyDocument"]) == READ_PREFIX
    assert set(changes["modify"]) == {"PolicyDocument"}


def test_plan_omitted_options_leave_endpoint_alone():
    assert not ve.has_changes(ve.plan(GATEWAY, spec()))
    assert not ve.has_changes(ve.plan(INTERFACE, spec(service=SAGEMAKER, vpc_endpoint_type="Interface")))


def test_plan_route_table_set_change():
    changes = ve.plan(GATEWAY, spec(route_table_ids=[RTB2]))
    assert changes["modify"] == {"AddRouteTableIds": [RTB2], "RemoveRouteTableIds": [RTB1]}
    assert ve.plan(GATEWAY, spec(route_table_ids=[]))["modify"] == {"RemoveRouteTableIds": [RTB1]}


def test_plan_interface_subnets_groups_and_dns():
    wanted = spec(
        service=SAGEMAKER,
        vpc_endpoint_type="Interface",
        subnet_ids=[SUBNET1, SUBNET2],
        security_group_ids=[SG2],
        private_dns_enabled=False,
    )
    assert ve.plan(INTERFACE, wanted)["modify"] == {
        "AddSubnetIds": [SUBNET2],
        "AddSecurityGroupIds": [SG2],
        "RemoveSecurityGroupIds": [SG1],
        "PrivateDnsEnabled": False,
    }


def test_plan_tags_purge_and_keep():
    assert ve.plan(GATEWAY, spec(tags={"c": "d"}))["tags_set"] == {"c": "d"}
    assert ve.plan(GATEWAY, spec(tags={"c": "d"}))["tags_unset"] == ["a"]
    assert ve.plan(GATEWAY, spec(tags={"c": "d"}, purge_tags=False))["tags_unset"] == []
    assert ve.plan(GATEWAY, spec(tags={})).get("tags_unset") == ["a"]
    assert not ve.has_changes(ve.plan(GATEWAY, spec(tags={"a": "b"})))


def test_plan_keeps_aws_reserved_tags():
    current = dict(GATEWAY, Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "x"}])
    assert ve.plan(current, spec(tags={}))["tags_unset"] == []


def test_predict_applies_every_change():
    wanted = spec(
        service=SAGEMAKER,
        vpc_endpoint_type="Interface",
        subnet_ids=[SUBNET2],
        security_group_ids=[SG1, SG2],
        private_dns_enabled=False,
        policy=READ_PREFIX,
        tags={"x": "y"},
    )
    after = ve.predict(INTERFACE, ve.plan(INTERFACE, wanted))
    assert after["SubnetIds"] == [SUBNET2]
    assert ve.security_group_ids(after) == [SG1, SG2]
    assert after["PrivateDnsEnabled"] is False
    assert json.loads(after["PolicyDocument"]) == READ_PREFIX
    assert after["Tags"] == [{"Key": "x", "Value": "y"}]
    assert not ve.has_changes(ve.plan(after, wanted))


def test_create_request_gateway_and_interface():
    request = ve.create_request(spec(route_table_ids=[RTB1], policy=READ_PREFIX, tags={"k": "v"}))
    assert request["VpcEndpointType"] == "Gateway"
    assert request["RouteTableIds"] == [RTB1]
    assert json.loads(request["PolicyDocument"]) == READ_PREFIX
    assert request["TagSpecifications"] == [{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "k", "Value": "v"}]}]
    request = ve.create_request(
        spec(service="sagemaker.api", vpc_endpoint_type="Interface", subnet_ids=[SUBNET1], private_dns_enabled=True)
    )
    assert request == {
        "VpcId": VPC,
        "ServiceName": SAGEMAKER,
        "VpcEndpointType": "Interface",
        "SubnetIds": [SUBNET1],
        "PrivateDnsEnabled": True,
    }


def test_normalize_snake_case_policy_dict_tags_dict():
    result = ve.normalize(GATEWAY)
    assert result["vpc_endpoint_id"] == "vpce-926e2ffbaa4533799"
    assert result["policy_document"] == json.loads(ALLOW_ALL)
    assert result["tags"] == {"a": "b"}
    assert result["route_table_ids"] == [RTB1]
    assert result["creation_timestamp"] == "2026-11-28T04:44:41+00:00"
    assert ve.normalize(INTERFACE)["security_group_ids"] == [SG1]
    assert ve.normalize(None) == {}


def test_normalize_missing_type_is_gateway():
    endpoint = dict(GATEWAY)
    del endpoint["VpcEndpointType"]
    assert ve.normalize(endpoint)["vpc_endpoint_type"] == "Gateway"


# --- the calls, against the emulator's EC2 ------------------------------------------------------------


@pytest.fixture
def net(ec2):
    """A VPC with two route tables, two subnets and two security groups, on the emulator."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _index in range(2)]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    groups = [ec2.create_security_group(VpcId=vpc, GroupName=n, Description=n)["GroupId"] for n in ("a", "b")]
    return types.SimpleNamespace(
        vpc=vpc, rtb1=tables[0], rtb2=tables[1], subnet1=subnets[0], subnet2=subnets[1], sg1=groups[0], sg2=groups[1]
    )


def gateway(ec2, net, **extra):
    """GATEWAY on the emulator (S3, route table 1, tag a=b, the default policy); returns its id."""
    request = dict(
        VpcId=net.vpc,
        ServiceName=S3,
        VpcEndpointType="Gateway",
        RouteTableIds=[net.rtb1],
        TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "a", "Value": "b"}]}],
    )
    request.update(extra)
    return ec2.create_vpc_endpoint(**request)["VpcEndpoint"]["VpcEndpointId"]


def described(ec2, endpoint_id):
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]


def live_ids(ec2):
    return sorted(e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"] != "deleted")


def on(net, **overrides):
    return spec(vpc_id=net.vpc, **overrides)


def test_create_gateway_then_rerun_is_unchanged(ec2, net):
    calls = Calls(ec2)
    wanted = on(net, route_table_ids=[net.rtb1], policy=READ_PREFIX, tags={"Name": "s3"})
    result = ve.ensure_present(ec2, wanted)
    assert result["changed"] is True
    assert calls.write_names() == ["create_vpc_endpoint"]
    assert result["vpc_endpoint"]["policy_document"] == READ_PREFIX
    assert result["vpc_endpoint"]["tags"] == {"Name": "s3"}
    assert result["vpc_endpoint"]["route_table_ids"] == [net.rtb1]
    assert live_ids(ec2) == [result["vpc_endpoint"]["vpc_endpoint_id"]]
    calls.reset()
    again = ve.ensure_present(ec2, wanted)
    assert again["changed"] is False
    assert calls.operations() == ["describe_vpc_endpoints"]  # one read, no write
    assert again["vpc_endpoint"] == result["vpc_endpoint"]


def test_check_mode_create_predicts_without_writing(ec2, net):
    calls = Calls(ec2)
    wanted = on(net, route_table_ids=[net.rtb1])
    result = ve.ensure_present(ec2, wanted, check_mode=True)
    assert result["changed"] is True
    assert calls.write_names(accepted=None) == []
    assert live_ids(ec2) == []
    assert result["vpc_endpoint"]["vpc_endpoint_id"] is None
    assert result["vpc_endpoint"]["policy_document"] == ve.DEFAULT_POLICY
    assert result["diff"] == {
        "before": {},
        "after": {
            "vpc_endpoint_type": "Gateway",
            "policy": ve.DEFAULT_POLICY,
            "tags": {},
            "route_table_ids": [net.rtb1],
        },
    }
    # What check mode predicts is what the real run then reports.
    assert ve.ensure_present(ec2, wanted)["diff"] == result["diff"]


@pytest.mark.parametrize("purge_tags", [True, False])
def test_check_mode_change_predicts_exactly_what_a_real_run_returns(ec2, net, purge_tags):
    endpoint_id = gateway(ec2, net)
    before = described(ec2, endpoint_id)
    wanted = on(net, route_table_ids=[net.rtb2], policy=READ_PREFIX, tags={"x": "y"}, purge_tags=purge_tags)
    calls = Calls(ec2)
    checked = ve.ensure_present(ec2, wanted, check_mode=True)
    assert calls.write_names(accepted=None) == []
    assert described(ec2, endpoint_id) == before
    real = ve.ensure_present(ec2, wanted)
    assert checked == real
    assert real["diff"]["before"]["route_table_ids"] == [net.rtb1]
    assert real["diff"]["after"]["route_table_ids"] == [net.rtb2]
    assert real["diff"]["after"]["policy"] == READ_PREFIX
    assert real["diff"]["after"]["tags"] == ({"x": "y"} if purge_tags else {"a": "b", "x": "y"})


def test_change_is_one_modify_on_the_same_endpoint(ec2, net):
    endpoint_id = gateway(ec2, net)
    calls = Calls(ec2)
    result = ve.ensure_present(ec2, on(net, route_table_ids=[net.rtb1, net.rtb2], policy=READ_PREFIX))
    assert calls.writes() == [
        (
            "modify_vpc_endpoint",
            {
                "VpcEndpointId": endpoint_id,
                "AddRouteTableIds": [net.rtb2],
                "PolicyDocument": json.dumps(READ_PREFIX, sort_keys=True),
            },
        )
    ]
    assert result["vpc_endpoint"]["vpc_endpoint_id"] == endpoint_id
    assert sorted(result["vpc_endpoint"]["route_table_ids"]) == sorted([net.rtb1, net.rtb2])
    assert result["vpc_endpoint"]["policy_document"] == READ_PREFIX
    assert live_ids(ec2) == [endpoint_id]


def test_tags_changed_with_create_and_delete_tags(ec2, net):
    endpoint_id = gateway(ec2, net)
    calls = Calls(ec2)
    result = ve.ensure_present(ec2, on(net, tags={"c": "d"}))
    assert calls.write_names() == ["delete_tags", "create_tags"]
    assert result["vpc_endpoint"]["tags"] == {"c": "d"}
    assert described(ec2, endpoint_id)["Tags"] == [{"Key": "c", "Value": "d"}]


def test_duplicates_fail_listing_them_without_writing(ec2, net):
    ids = sorted([gateway(ec2, net), gateway(ec2, net, RouteTableIds=[net.rtb2])])
    calls = Calls(ec2)
    for ensure in (ve.ensure_present, ve.ensure_absent):
        with pytest.raises(NotebooksError) as error:
            ensure(ec2, on(net, policy=READ_PREFIX))
        assert ", ".join(ids) in error.value.msg
        assert error.value.details["vpc_endpoint_ids"] == ids
    assert calls.write_names(accepted=None) == []
    assert live_ids(ec2) == ids


def test_matching_ignores_other_types_services_vpcs_and_deleted_endpoints(ec2, net):
    match = gateway(ec2, net)
    deleted = gateway(ec2, net, RouteTableIds=[net.rtb2])
    ec2.delete_vpc_endpoints(VpcEndpointIds=[deleted])
    ec2.create_vpc_endpoint(VpcId=net.vpc, ServiceName=S3, VpcEndpointType="Interface", SubnetIds=[net.subnet1])
    ec2.create_vpc_endpoint(VpcId=net.vpc, ServiceName="com.amazonaws.us-east-1.dynamodb", VpcEndpointType="Gateway")
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=other_vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    ec2.create_vpc_endpoint(VpcId=other_vpc, ServiceName=S3, VpcEndpointType="Gateway")
    assert [e["VpcEndpointId"] for e in ve.find_endpoints(ec2, net.vpc, S3, "Gateway")] == [match]


def test_match_tags_manage_one_of_several_gateway_endpoints_of_a_service(ec2, net):
    """Teams: one S3 endpoint per route table in one VPC, each found by its tags."""
    first, second = ({"team-route-table": table} for table in (net.rtb1, net.rtb2))
    made = [ve.ensure_present(ec2, on(net, route_table_ids=[table], tags=match, match_tags=match))
            for table, match in ((net.rtb1, first), (net.rtb2, second))]  # fmt: skip
    ids = [result["vpc_endpoint"]["vpc_endpoint_id"] for result in made]
    assert len(set(ids)) == 2 and all(result["changed"] for result in made)
    again = ve.ensure_present(ec2, on(net, route_table_ids=[net.rtb2], tags=second, match_tags=second))
    assert not again["changed"] and again["vpc_endpoint"]["vpc_endpoint_id"] == ids[1]
    assert ve.ensure_absent(ec2, on(net, match_tags=first))["changed"]
    assert live_ids(ec2) == [ids[1]]
    with pytest.raises(NotebooksError, match=r"^match_tags: each key must be in tags with the same value"):
        ve.validate(dict(on(net, tags={"a": "1"}, match_tags={"a": "2"})), "us-east-1")


def test_interface_create_and_change_groups(ec2, net):
    wanted = on(
        net,
        service="sagemaker.api",
        vpc_endpoint_type="Interface",
        subnet_ids=[net.subnet1],
        security_group_ids=[net.sg1],
        private_dns_enabled=True,
    )
    created = ve.ensure_present(ec2, wanted)["vpc_endpoint"]
    assert created["security_group_ids"] == [net.sg1]
    assert created["subnet_ids"] == [net.subnet1]
    assert created["private_dns_enabled"] is True
    wanted["security_group_ids"] = [net.sg2]
    calls = Calls(ec2)
    result = ve.ensure_present(ec2, wanted)
    assert result["changed"] is True
    assert calls.writes() == [
        (
            "modify_vpc_endpoint",
            {
                "VpcEndpointId": created["vpc_endpoint_id"],
                "AddSecurityGroupIds": [net.sg2],
                "RemoveSecurityGroupIds": [net.sg1],
            },
        )
    ]
    assert result["vpc_endpoint"]["vpc_endpoint_id"] == created["vpc_endpoint_id"]
    assert result["diff"]["before"]["security_group_ids"] == [net.sg1]
    assert result["diff"]["after"]["security_group_ids"] == [net.sg2]
    assert "route_table_ids" not in result["diff"]["after"]
    assert ve.security_group_ids(described(ec2, created["vpc_endpoint_id"])) == [net.sg2]


def china_ec2(emulator):
    """EC2 of the emulator in cn-north-1 (aws-cn)."""
    import boto3

    raw = boto3.client(
        "ec2", region_name="cn-north-1", endpoint_url=emulator.url, aws_access_key_id="testing",
        aws_secret_access_key="testing", verify=emulator.ca_bundle if emulator.tls else None,
    )  # fmt: skip
    return retrying(raw)


def test_china_endpoints_take_the_names_ec2_offers(emulator):
    """In cn-north-1 the SageMaker API is cn.com.amazonaws.cn-north-1.sagemaker.api and the S3 gateway
    com.amazonaws.cn-north-1.s3: each is looked up, neither is built from the region."""
    ec2 = china_ec2(emulator)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="cn-north-1a")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    api = ve.validate(params(vpc_id=vpc, service="sagemaker.api", vpc_endpoint_type="Interface",
                             subnet_ids=[subnet]), "cn-north-1")  # fmt: skip
    predicted = ve.ensure_present(ec2, api, check_mode=True)
    assert predicted["vpc_endpoint"]["service_name"] == "cn.com.amazonaws.cn-north-1.sagemaker.api"
    created = ve.ensure_present(ec2, api)
    assert created["vpc_endpoint"]["service_name"] == "cn.com.amazonaws.cn-north-1.sagemaker.api"
    s3 = ve.validate(params(vpc_id=vpc, service="s3", route_table_ids=[table]), "cn-north-1")
    gateway = ve.with_prefix_list(ec2, s3, ve.ensure_present(ec2, s3))
    assert gateway["vpc_endpoint"]["service_name"] == "com.amazonaws.cn-north-1.s3"
    assert gateway["vpc_endpoint"]["prefix_list_id"].startswith("pl-")
    described = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert sorted(e["ServiceName"] for e in described) == [
        "cn.com.amazonaws.cn-north-1.sagemaker.api", "com.amazonaws.cn-north-1.s3"
    ]  # fmt: skip
    # Found again under its real name: nothing changes, nothing is created.
    assert ve.ensure_present(ec2, api)["changed"] is False
    assert ve.ensure_absent(ec2, api)["changed"] is True


def test_interface_endpoint_in_a_zone_without_the_service_is_refused_before_any_change(ec2, net, emulator):
    """The emulator offers the SageMaker API in every us-east-1 zone but us-east-1e (gaps.py)."""
    far = ec2.create_subnet(VpcId=net.vpc, CidrBlock="10.0.9.0/24", AvailabilityZone="us-east-1e")["Subnet"]["SubnetId"]
    calls = Calls(ec2)
    wanted = on(net, service="sagemaker.api", vpc_endpoint_type="Interface", subnet_ids=[net.subnet1, far])
    for check_mode in (True, False):
        with pytest.raises(
            NotebooksError,
            match=r"^subnet_ids: com.amazonaws.us-east-1.sagemaker.api offers no "
            r"endpoint in us-east-1e, the zone of %s; choose a subnet in one of us-east-1a, " % far,
        ):
            ve.ensure_present(ec2, wanted, check_mode=check_mode)
    assert calls.write_names(accepted=None) == []
    assert live_ids(ec2) == []
    # Adding such a subnet to an existing endpoint is refused the same way.
    ve.ensure_present(ec2, on(net, service="sagemaker.api", vpc_endpoint_type="Interface", subnet_ids=[net.subnet1]))
    calls.reset()
    with pytest.raises(NotebooksError, match=r"^subnet_ids: .* offers no endpoint in us-east-1e"):
        ve.ensure_present(ec2, wanted)
    assert calls.write_names(accepted=None) == []


def test_a_service_ec2_does_not_offer_is_refused_naming_the_field(ec2, net):
    calls = Calls(ec2)
    for service, kind in (("sagemaker.api", "Gateway"), ("no-such-service", "Interface"),
                          ("com.amazonaws.us-east-1.no-such-service", "Interface")):  # fmt: skip
        with pytest.raises(NotebooksError, match=r"^service: EC2 offers no %s endpoint service named " % kind):
            ve.ensure_present(ec2, on(net, service=service, vpc_endpoint_type=kind))
    assert calls.write_names(accepted=None) == []


def test_absent_deletes_and_absent_again_is_unchanged(ec2, net):
    endpoint_id = gateway(ec2, net)
    calls = Calls(ec2)
    result = ve.ensure_absent(ec2, on(net, state="absent"))
    assert result["changed"] is True
    assert calls.writes() == [("delete_vpc_endpoints", {"VpcEndpointIds": [endpoint_id]})]
    assert result["diff"]["after"] == {}
    assert result["diff"]["before"]["route_table_ids"] == [net.rtb1]
    assert result["vpc_endpoint"] == {}
    assert described(ec2, endpoint_id)["State"] == "deleted"
    calls.reset()
    assert ve.ensure_absent(ec2, on(net, state="absent"))["changed"] is False
    assert calls.write_names(accepted=None) == []


def test_absent_check_mode_writes_nothing(ec2, net):
    endpoint_id = gateway(ec2, net)
    calls = Calls(ec2)
    assert ve.ensure_absent(ec2, on(net, state="absent"), check_mode=True)["changed"] is True
    assert calls.write_names(accepted=None) == []
    assert described(ec2, endpoint_id)["State"] == "available"


def test_describe_endpoint_of_an_unknown_id_is_none(ec2):
    # EC2's own answer for an id it does not know (InvalidVpcEndpointId.NotFound) means "gone".
    assert ve.describe_endpoint(ec2, "vpce-0123456789abcdef0") is None


# --- exact call sequences, answered by a Stubber --------------------------------------------------------

FILTERS = [{"Name": "vpc-id", "Values": [VPC]}, {"Name": "service-name", "Values": [S3]}]


def test_matching_reads_every_page_and_takes_an_untyped_endpoint_for_a_gateway():
    ec2, stub = stubbed("ec2")
    untyped = dict(GATEWAY, VpcEndpointId="vpce-0000000000000000a")
    del untyped["VpcEndpointType"]
    others = [
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000001", State="deleted"),
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000002", VpcEndpointType="Interface"),
        # The filters leave these out; the module checks all the same.
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000003", ServiceName="com.amazonaws.us-east-1.dynamodb"),
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000004", VpcId="vpc-00000000000000004"),
    ]
    stub.add_response(
        "describe_vpc_endpoints", {"VpcEndpoints": [GATEWAY] + others[:2], "NextToken": "t2"}, {"Filters": FILTERS}
    )
    stub.add_response(
        "describe_vpc_endpoints", {"VpcEndpoints": others[2:] + [untyped]}, {"Filters": FILTERS, "NextToken": "t2"}
    )
    found = ve.find_endpoints(ec2, VPC, S3, "Gateway")
    assert [e["VpcEndpointId"] for e in found] == [GATEWAY["VpcEndpointId"], untyped["VpcEndpointId"]]
    stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": [untyped]}, {"Filters": FILTERS})
    assert ve.find_endpoints(ec2, VPC, S3, "Interface") == []
    stub.assert_no_pending_responses()


def test_absent_reports_unsuccessful_delete():
    ec2, stub = stubbed("ec2")
    stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": [GATEWAY]}, {"Filters": FILTERS})
    failure = {
        "Error": {"Code": "InvalidVpcEndpoint.NotFound", "Message": "gone"},
        "ResourceId": GATEWAY["VpcEndpointId"],
    }
    stub.add_response(
        "delete_vpc_endpoints", {"Unsuccessful": [failure]}, {"VpcEndpointIds": [GATEWAY["VpcEndpointId"]]}
    )
    with pytest.raises(NotebooksError, match="Deleting VPC endpoint vpce-926e2ffbaa4533799 failed") as error:
        ve.ensure_absent(ec2, spec(state="absent", wait=False))
    assert "InvalidVpcEndpoint.NotFound gone" in error.value.msg
    assert error.value.details["unsuccessful"] == [failure]
    stub.assert_no_pending_responses()


def describes(stub, *states, endpoint=None):
    """Queue one DescribeVpcEndpoints by id per state (of the INTERFACE endpoint by default)."""
    endpoint = endpoint or INTERFACE
    for state in states:
        stub.add_response(
            "describe_vpc_endpoints",
            {"VpcEndpoints": [dict(endpoint, State=state)]},
            {"VpcEndpointIds": [endpoint["VpcEndpointId"]]},
        )


def test_wait_available_polls_until_available():
    ec2, stub = stubbed("ec2")
    describes(stub, "pending", "pending", "available")
    sleeps = []
    endpoint = ve.wait_available(ec2, INTERFACE["VpcEndpointId"], 60, sleep=sleeps.append)
    assert endpoint["State"] == "available"
    assert len(sleeps) == 2
    stub.assert_no_pending_responses()


@pytest.mark.parametrize("final", ["failed", "rejected"])
def test_wait_available_fails_on_failed_states(final):
    ec2, stub = stubbed("ec2")
    describes(stub, "pending", final)
    with pytest.raises(NotebooksError, match="is %s" % final):
        ve.wait_available(ec2, INTERFACE["VpcEndpointId"], 60, sleep=lambda s: None)
    stub.assert_no_pending_responses()


def test_wait_deleted_accepts_not_found():
    ec2, stub = stubbed("ec2")
    stub.add_client_error(
        "describe_vpc_endpoints",
        "InvalidVpcEndpointId.NotFound",
        "The VpcEndPoint ID 'vpce-926e2ffbaa4533799' does not exist",
        expected_params={"VpcEndpointIds": ["vpce-926e2ffbaa4533799"]},
    )
    ve.wait_deleted(ec2, "vpce-926e2ffbaa4533799", 5, sleep=lambda s: None)
    stub.assert_no_pending_responses()


def test_wait_times_out_naming_the_endpoint():
    ec2, stub = stubbed("ec2")
    describes(stub, "pending", "pending")
    clock = iter(range(0, 1000, 10))
    with pytest.raises(NotebooksError, match="Timed out after 15s waiting for VPC endpoint vpce-1e87b874916272b16"):
        ve.poll(
            lambda: ve.describe_endpoint(ec2, INTERFACE["VpcEndpointId"]),
            lambda e: ve.state(e) == "available",
            15,
            "VPC endpoint vpce-1e87b874916272b16 to be available",
            clock=lambda: next(clock),
            sleep=lambda s: None,
        )
    stub.assert_no_pending_responses()
