# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the vpc_endpoint logic: validation, planning, prediction and the call sequence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import json

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import vpc_endpoint as ve
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from botocore.exceptions import ClientError

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

WRITES = ("create_vpc_endpoint", "modify_vpc_endpoint", "delete_vpc_endpoints", "create_tags", "delete_tags")


def not_found(endpoint_id):
    error = {"Code": "InvalidVpcEndpointId.NotFound", "Message": "The VpcEndPoint ID '%s' does not exist" % endpoint_id}
    return ClientError({"Error": error}, "DescribeVpcEndpoints")


class FakeEC2:
    """The EC2 calls the module makes, with AWS semantics, recording every call."""

    def __init__(self, *endpoints, page_size=100, states=None):
        self.endpoints = [copy.deepcopy(e) for e in endpoints]
        self.calls = []
        self.page_size = page_size
        self.states = list(states or [])  # states a describe by id walks through, one per call

    def writes(self):
        return [call[0] for call in self.calls if call[0] in WRITES]

    def _get(self, endpoint_id):
        for e in self.endpoints:
            if e["VpcEndpointId"] == endpoint_id:
                return e
        raise not_found(endpoint_id)

    def describe_vpc_endpoints(self, aws_retry=False, VpcEndpointIds=None, Filters=None, NextToken=None):
        assert aws_retry
        self.calls.append(("describe_vpc_endpoints", {"VpcEndpointIds": VpcEndpointIds, "Filters": Filters}))
        if VpcEndpointIds:
            found = [self._get(i) for i in VpcEndpointIds]
            if self.states:
                found[0]["State"] = self.states.pop(0)
            return {"VpcEndpoints": copy.deepcopy(found)}
        found = self.endpoints
        for f in Filters or []:
            key = {"vpc-id": "VpcId", "service-name": "ServiceName"}[f["Name"]]
            found = [e for e in found if e.get(key) in f["Values"]]
        start = int(NextToken or 0)
        page = {"VpcEndpoints": copy.deepcopy(found[start : start + self.page_size])}
        if start + self.page_size < len(found):
            page["NextToken"] = str(start + self.page_size)
        return page

    def create_vpc_endpoint(self, aws_retry=False, **kwargs):
        assert aws_retry
        self.calls.append(("create_vpc_endpoint", kwargs))
        endpoint = {
            "VpcEndpointId": "vpce-%017x" % (len(self.endpoints) + 1),
            "VpcEndpointType": kwargs.get("VpcEndpointType"),
            "VpcId": kwargs["VpcId"],
            "ServiceName": kwargs["ServiceName"],
            "State": "available",
            "PolicyDocument": kwargs.get("PolicyDocument", ALLOW_ALL),
            "RouteTableIds": kwargs.get("RouteTableIds", []),
            "SubnetIds": kwargs.get("SubnetIds", []),
            "Groups": [{"GroupId": g, "GroupName": g} for g in kwargs.get("SecurityGroupIds", [])],
            "PrivateDnsEnabled": kwargs.get("PrivateDnsEnabled", True),
            "Tags": [t for s in kwargs.get("TagSpecifications", []) for t in s["Tags"]],
        }
        self.endpoints.append(endpoint)
        return {"VpcEndpoint": copy.deepcopy(endpoint)}

    def modify_vpc_endpoint(self, VpcEndpointId, aws_retry=False, **kwargs):
        assert aws_retry
        self.calls.append(("modify_vpc_endpoint", dict(kwargs, VpcEndpointId=VpcEndpointId)))
        e = self._get(VpcEndpointId)
        if "PolicyDocument" in kwargs:
            e["PolicyDocument"] = kwargs["PolicyDocument"]
        for key in ("RouteTableIds", "SubnetIds"):
            e[key] = [v for v in e[key] if v not in kwargs.get("Remove" + key, [])] + kwargs.get("Add" + key, [])
        groups = [g for g in e["Groups"] if g["GroupId"] not in kwargs.get("RemoveSecurityGroupIds", [])]
        e["Groups"] = groups + [{"GroupId": g, "GroupName": g} for g in kwargs.get("AddSecurityGroupIds", [])]
        if "PrivateDnsEnabled" in kwargs:
            e["PrivateDnsEnabled"] = kwargs["PrivateDnsEnabled"]
        return {"Return": True}

    def delete_vpc_endpoints(self, VpcEndpointIds, aws_retry=False):
        assert aws_retry
        self.calls.append(("delete_vpc_endpoints", {"VpcEndpointIds": VpcEndpointIds}))
        for endpoint_id in VpcEndpointIds:
            self._get(endpoint_id)["State"] = "deleted"
        return {"Unsuccessful": []}

    def create_tags(self, Resources, Tags, aws_retry=False):
        assert aws_retry
        self.calls.append(("create_tags", {"Resources": Resources, "Tags": Tags}))
        e = self._get(Resources[0])
        keys = {t["Key"] for t in Tags}
        e["Tags"] = [t for t in e["Tags"] if t["Key"] not in keys] + Tags

    def delete_tags(self, Resources, Tags, aws_retry=False):
        assert aws_retry
        self.calls.append(("delete_tags", {"Resources": Resources, "Tags": Tags}))
        e = self._get(Resources[0])
        keys = {t["Key"] for t in Tags}
        e["Tags"] = [t for t in e["Tags"] if t["Key"] not in keys]


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


def test_validate_expands_short_service_with_region():
    assert spec(service="s3")["service"] == S3
    assert spec(service="sagemaker.api", vpc_endpoint_type="Interface")["service"] == SAGEMAKER


@pytest.mark.parametrize(
    "name", [S3, "aws.sagemaker.us-east-1.notebook", "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"]
)
def test_validate_keeps_full_service_names(name):
    assert spec(service=name)["service"] == name


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


# --- the call sequence against a fake EC2 ---------------------------------------------------------


def test_create_gateway_then_rerun_is_unchanged():
    ec2 = FakeEC2()
    wanted = spec(route_table_ids=[RTB1], policy=READ_PREFIX, tags={"Name": "s3"})
    result = ve.ensure_present(ec2, wanted)
    assert result["changed"] is True
    assert ec2.writes() == ["create_vpc_endpoint"]
    assert result["vpc_endpoint"]["policy_document"] == READ_PREFIX
    assert result["vpc_endpoint"]["tags"] == {"Name": "s3"}
    ec2.calls = []
    again = ve.ensure_present(ec2, wanted)
    assert again["changed"] is False
    assert ec2.writes() == []
    assert again["vpc_endpoint"] == result["vpc_endpoint"]


def test_check_mode_create_predicts_without_writing():
    ec2 = FakeEC2()
    result = ve.ensure_present(ec2, spec(route_table_ids=[RTB1]), check_mode=True, diff=True)
    assert result["changed"] is True
    assert ec2.writes() == []
    assert result["vpc_endpoint"]["vpc_endpoint_id"] is None
    assert result["vpc_endpoint"]["policy_document"] == ve.DEFAULT_POLICY
    assert result["diff"] == {
        "before": {},
        "after": {
            "vpc_endpoint_type": "Gateway",
            "policy": ve.DEFAULT_POLICY,
            "tags": {},
            "route_table_ids": [RTB1],
        },
    }


def test_check_mode_change_predicts_exactly_what_a_real_run_returns():
    wanted = spec(route_table_ids=[RTB2], policy=READ_PREFIX, tags={"x": "y"})
    checked_ec2, real_ec2 = FakeEC2(GATEWAY), FakeEC2(GATEWAY)
    checked = ve.ensure_present(checked_ec2, wanted, check_mode=True, diff=True)
    real = ve.ensure_present(real_ec2, wanted, diff=True)
    assert checked_ec2.writes() == []
    assert checked_ec2.endpoints == [GATEWAY]
    assert checked == real
    assert real["diff"]["before"]["route_table_ids"] == [RTB1]
    assert real["diff"]["after"]["route_table_ids"] == [RTB2]
    assert real["diff"]["after"]["policy"] == READ_PREFIX


def test_change_is_one_modify_on_the_same_endpoint():
    ec2 = FakeEC2(GATEWAY)
    result = ve.ensure_present(ec2, spec(route_table_ids=[RTB1, RTB2], policy=READ_PREFIX))
    assert ec2.writes() == ["modify_vpc_endpoint"]
    assert ec2.calls[1][1] == {
        "VpcEndpointId": GATEWAY["VpcEndpointId"],
        "AddRouteTableIds": [RTB2],
        "PolicyDocument": json.dumps(READ_PREFIX, sort_keys=True),
    }
    assert result["vpc_endpoint"]["vpc_endpoint_id"] == GATEWAY["VpcEndpointId"]
    assert len(ec2.endpoints) == 1


def test_tags_changed_with_create_and_delete_tags():
    ec2 = FakeEC2(GATEWAY)
    result = ve.ensure_present(ec2, spec(tags={"c": "d"}))
    assert ec2.writes() == ["delete_tags", "create_tags"]
    assert result["vpc_endpoint"]["tags"] == {"c": "d"}


def test_duplicates_fail_listing_them_without_writing():
    second = dict(GATEWAY, VpcEndpointId="vpce-0000000000000000f", RouteTableIds=[RTB2])
    for ensure in (ve.ensure_present, ve.ensure_absent):
        ec2 = FakeEC2(GATEWAY, second)
        with pytest.raises(NotebooksError) as error:
            ensure(ec2, spec(policy=READ_PREFIX))
        assert "vpce-0000000000000000f, vpce-926e2ffbaa4533799" in error.value.msg
        assert error.value.details["vpc_endpoint_ids"] == ["vpce-0000000000000000f", "vpce-926e2ffbaa4533799"]
        assert ec2.writes() == []


def test_matching_ignores_other_types_services_vpcs_and_deleted_endpoints():
    others = [
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000001", State="deleted"),
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000002", VpcEndpointType="Interface"),
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000003", ServiceName="com.amazonaws.us-east-1.dynamodb"),
        dict(GATEWAY, VpcEndpointId="vpce-00000000000000004", VpcId="vpc-00000000000000004"),
    ]
    ec2 = FakeEC2(GATEWAY, *others, page_size=2)
    assert [e["VpcEndpointId"] for e in ve.find_endpoints(ec2, VPC, S3, "Gateway")] == [GATEWAY["VpcEndpointId"]]
    untyped = dict(GATEWAY)
    del untyped["VpcEndpointType"]
    assert len(ve.find_endpoints(FakeEC2(untyped), VPC, S3, "Gateway")) == 1
    assert ve.find_endpoints(FakeEC2(untyped), VPC, S3, "Interface") == []


def test_interface_create_and_change_groups():
    ec2 = FakeEC2()
    wanted = spec(
        service="sagemaker.api",
        vpc_endpoint_type="Interface",
        subnet_ids=[SUBNET1],
        security_group_ids=[SG1],
        private_dns_enabled=True,
    )
    created = ve.ensure_present(ec2, wanted)["vpc_endpoint"]
    assert created["security_group_ids"] == [SG1]
    assert created["private_dns_enabled"] is True
    wanted["security_group_ids"] = [SG2]
    result = ve.ensure_present(ec2, wanted, diff=True)
    assert result["changed"] is True
    assert result["vpc_endpoint"]["vpc_endpoint_id"] == created["vpc_endpoint_id"]
    assert result["diff"]["before"]["security_group_ids"] == [SG1]
    assert result["diff"]["after"]["security_group_ids"] == [SG2]
    assert "route_table_ids" not in result["diff"]["after"]


def test_absent_deletes_and_absent_again_is_unchanged():
    ec2 = FakeEC2(GATEWAY)
    result = ve.ensure_absent(ec2, spec(state="absent"), diff=True)
    assert result["changed"] is True
    assert ec2.writes() == ["delete_vpc_endpoints"]
    assert result["diff"]["after"] == {}
    assert result["diff"]["before"]["route_table_ids"] == [RTB1]
    assert result["vpc_endpoint"] == {}
    ec2.calls = []
    assert ve.ensure_absent(ec2, spec(state="absent"))["changed"] is False
    assert ec2.writes() == []


def test_absent_check_mode_writes_nothing():
    ec2 = FakeEC2(GATEWAY)
    assert ve.ensure_absent(ec2, spec(state="absent"), check_mode=True)["changed"] is True
    assert ec2.writes() == []
    assert ec2.endpoints[0]["State"] == "available"


def test_absent_reports_unsuccessful_delete():
    ec2 = FakeEC2(GATEWAY)
    ec2.delete_vpc_endpoints = lambda **kw: {
        "Unsuccessful": [{"Error": {"Code": "InvalidVpcEndpoint.NotFound", "Message": "gone"}, "ResourceId": "x"}]
    }
    with pytest.raises(NotebooksError, match="Deleting VPC endpoint vpce-926e2ffbaa4533799 failed"):
        ve.ensure_absent(ec2, spec(state="absent", wait=False))


def test_wait_available_polls_until_available():
    ec2 = FakeEC2(dict(INTERFACE, State="pending"), states=["pending", "pending", "available"])
    sleeps = []
    endpoint = ve.wait_available(ec2, INTERFACE["VpcEndpointId"], 60, sleep=sleeps.append)
    assert endpoint["State"] == "available"
    assert len(sleeps) == 2


@pytest.mark.parametrize("final", ["failed", "rejected"])
def test_wait_available_fails_on_failed_states(final):
    ec2 = FakeEC2(INTERFACE, states=["pending", final])
    with pytest.raises(NotebooksError, match="is %s" % final):
        ve.wait_available(ec2, INTERFACE["VpcEndpointId"], 60, sleep=lambda s: None)


def test_wait_deleted_accepts_not_found():
    ec2 = FakeEC2()
    ve.wait_deleted(ec2, "vpce-926e2ffbaa4533799", 5, sleep=lambda s: None)


def test_wait_times_out_naming_the_endpoint():
    ec2 = FakeEC2(dict(INTERFACE, State="pending"))
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
