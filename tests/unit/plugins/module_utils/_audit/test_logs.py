# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the lifecycle-output check: can a notebook's lifecycle output reach CloudWatch Logs?
Compliant data is what the role builds (policies.py); each case breaks one thing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import audit, logs
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils._audit.audit_data import (
    ACCOUNT,
    LOGS_ENDPOINT,
    LOGS_SG,
    NOTEBOOK_SG,
    REGION,
    ROLE,
    STOP_POLICY,
    SUBNET,
    VPC,
    endpoints,
    gathered,
    https,
    ids,
    lifecycle_config,
    logs_endpoint,
    notebook,
    on_start,
    role,
    security_groups,
)

SUBNET_DATA = {"SubnetId": SUBNET, "VpcId": VPC, "CidrBlock": "10.81.1.0/24"}
STREAM = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/NotebookInstances:log-stream:nb-1/%s"


def check(nb=None, found_endpoints=None, groups=None, config=None, role_data=None):
    return logs.check_lifecycle_logs(
        nb or notebook(),
        SUBNET_DATA,
        endpoints() if found_endpoints is None else found_endpoints,
        security_groups() if groups is None else groups,
        lifecycle_config(on_start()) if config is None else config,
        role() if role_data is None else role_data,
        REGION,
    )


def test_the_stack_the_role_builds_delivers():
    assert check() == []


def test_only_the_hooks_the_configuration_has_are_checked():
    assert logs.stream_arns(notebook(), lifecycle_config(on_start()), REGION) == (
        ACCOUNT,
        [STREAM % "LifecycleConfigOnStart"],
    )
    both = dict(lifecycle_config(on_start()), OnCreate=[{"Content": "ZWNobw=="}])
    assert logs.stream_arns(notebook(), both, REGION)[1] == [
        STREAM % "LifecycleConfigOnCreate",
        STREAM % "LifecycleConfigOnStart",
    ]
    # Unreadable configuration: both.
    assert len(logs.stream_arns(notebook(), {"error": "AccessDenied"}, REGION)[1]) == 2
    china = notebook(NotebookInstanceArn="arn:aws-cn:sagemaker:cn-north-1:%s:notebook-instance/nb-1" % ACCOUNT)
    assert logs.stream_arns(china, None, "cn-north-1")[1][0].startswith("arn:aws-cn:logs:cn-north-1:%s:" % ACCOUNT)


@pytest.mark.parametrize(
    "found, reason",
    [
        (endpoints(logs=False), "there is none"),
        (endpoints(logs=logs_endpoint(PrivateDnsEnabled=False)), "its private DNS is off"),
        (endpoints(logs=logs_endpoint(State="deleted")), "there is none"),
        (endpoints(logs=logs_endpoint(VpcEndpointType="Gateway")), "there is none"),
    ],
)
def test_no_endpoint_with_private_dns(found, reason):
    result = check(found_endpoints=found)
    assert ids(result) == ["lifecycle-logs-endpoint-missing"]
    assert result[0]["severity"] == "low" and result[0]["resource"] == VPC
    assert reason in result[0]["message"]
    assert result[0]["evidence"]["service_name"] == "com.amazonaws.us-east-1.logs"


@pytest.mark.parametrize(
    "groups, blocked",
    [
        # The notebook group only reaches S3 (the prefix list is not the endpoint) and the SageMaker API.
        (security_groups(notebook_egress=[https(PrefixListIds=[{"PrefixListId": "pl-63a5400a"}]),
                                          https(UserIdGroupPairs=[{"GroupId": "sg-0api"}])]), ["egress"]),
        (security_groups(logs_ingress=[]), ["ingress"]),
        (security_groups(notebook_egress=[], logs_ingress=[https(IpRanges=[{"CidrIp": "10.99.0.0/16"}])]),
         ["egress", "ingress"]),
        # Another port, another protocol.
        (security_groups(logs_ingress=[https(FromPort=80, ToPort=80, UserIdGroupPairs=[{"GroupId": NOTEBOOK_SG}])]),
         ["ingress"]),
        (security_groups(notebook_egress=[{"IpProtocol": "udp", "FromPort": 443, "ToPort": 443,
                                           "UserIdGroupPairs": [{"GroupId": LOGS_SG}]}]), ["egress"]),
    ],
)  # fmt: skip
def test_security_groups_that_block_https(groups, blocked):
    result = check(groups=groups)
    assert ids(result) == ["lifecycle-logs-blocked"]
    assert result[0]["resource"] == LOGS_ENDPOINT
    assert result[0]["evidence"] == {"vpc_endpoint_id": LOGS_ENDPOINT, "notebook_security_groups": [NOTEBOOK_SG],
                                     "endpoint_security_groups": [LOGS_SG], "blocked": blocked}  # fmt: skip


@pytest.mark.parametrize(
    "groups",
    [
        # All traffic out; a range overlapping the notebook's subnet in.
        security_groups(notebook_egress=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
                        logs_ingress=[https(IpRanges=[{"CidrIp": "10.81.0.0/16"}])]),
        security_groups(notebook_egress=[https(FromPort=0, ToPort=65535, IpRanges=[{"CidrIp": "10.81.0.0/16"}])]),
    ],
)  # fmt: skip
def test_security_groups_that_admit_https(groups):
    assert check(groups=groups) == []


def test_security_groups_that_cannot_be_read():
    result = check(groups={"error": "UnauthorizedOperation", "operation": "DescribeSecurityGroups"})
    assert [(f["id"], f["severity"], f["evidence"]["check"]) for f in result] == [("check-failed", "low", "logs")]


@pytest.mark.parametrize(
    "policy",
    [
        policies.logs_endpoint_policy(["nb-2"], REGION, ACCOUNT),  # another notebook's streams
        policies.logs_endpoint_policy(["nb-1"], "eu-west-1", ACCOUNT),  # another region
        policies.sagemaker_endpoint_policy(["nb-1"], REGION, ACCOUNT),
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "logs:*",
                        "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                       {"Effect": "Deny", "Principal": "*", "Action": "logs:PutLogEvents", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "logs:*", "Resource": "*"}]},
    ],
)  # fmt: skip
def test_endpoint_policies_that_do_not_let_the_writes_through(policy):
    found = endpoints(logs=logs_endpoint(PolicyDocument=json.dumps(policy)))
    result = check(found_endpoints=found)
    assert ids(result) == ["lifecycle-logs-endpoint-policy"]
    assert {d["resource"] for d in result[0]["evidence"]["denied"]} == {STREAM % "LifecycleConfigOnStart"}


@pytest.mark.parametrize(
    "policy",
    [
        None,  # AWS's default: full access
        {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": ["logs:Put*", "logs:Create*"],
                        "Resource": "arn:aws:logs:*:*:log-group:/aws/sagemaker/*"}]},
        # A conditional Deny is given the benefit of the doubt.
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "logs:*", "Resource": "*"},
                       {"Effect": "Deny", "Principal": "*", "Action": "logs:*", "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}}]},
    ],
)  # fmt: skip
def test_endpoint_policies_that_let_the_writes_through(policy):
    found = endpoints(logs=logs_endpoint(PolicyDocument=json.dumps(policy) if policy else None))
    assert check(found_endpoints=found) == []


def test_a_role_without_the_log_statements():
    data = role(policies=[{"policy_arn": STOP_POLICY, "document": policies.autostop_policy(["nb-1"], REGION, ACCOUNT)}])
    result = check(role_data=data)
    assert ids(result) == ["lifecycle-logs-role-denied"]
    assert result[0]["evidence"] == {"role": ROLE, "denied": [
        {"action": "logs:CreateLogStream", "resource": STREAM % "LifecycleConfigOnStart"},
        {"action": "logs:PutLogEvents", "resource": STREAM % "LifecycleConfigOnStart"}]}  # fmt: skip
    # A role that could not be read is a check-failed elsewhere: nothing more here.
    assert check(role_data={"arn": ROLE, "error": "AccessDenied", "operation": "GetRole"}) == []


def test_the_report_carries_the_finding_and_the_notebook_stays_isolated():
    data = gathered({"nb-1": notebook(), "nb-2": notebook("nb-2")}, endpoints={VPC: endpoints(logs=False)})
    result = audit.report(data, audit.validate({}), REGION, {})
    for entry in result["notebooks"]:
        assert [f["id"] for f in entry["findings"]] == ["lifecycle-logs-endpoint-missing"]
        assert entry["isolated"] is True
    # No lifecycle configuration: no lifecycle output to deliver, nothing to report about it.
    data = gathered(
        {"nb-1": notebook(NotebookInstanceLifecycleConfigName=None)}, endpoints={VPC: endpoints(logs=False)}
    )
    assert [f["id"] for f in audit.report(data, audit.validate({}), REGION, {})["notebooks"][0]["findings"]] == [
        "lifecycle-config-missing"
    ]


def test_gather_reads_security_groups_only_for_a_vpc_with_a_logs_endpoint():
    class Cache:
        def __init__(self, found):
            self.found, self.asked = found, []

        def notebook(self, name):
            return notebook(name)

        def subnets(self, ids):
            return {SUBNET: SUBNET_DATA}

        def route_tables(self, vpcs):
            return {VPC: []}

        def endpoints(self, vpcs):
            return {VPC: self.found}

        def security_groups(self, ids):
            self.asked.append(sorted(ids))
            return security_groups()

        def role(self, arn):
            return role()

        def lifecycle_config(self, name):
            return None

    with_logs = Cache(endpoints())
    assert audit.gather(with_logs, {"names": ["nb-1"]})["security_groups"] == security_groups()
    assert with_logs.asked == [sorted([LOGS_SG, NOTEBOOK_SG])]
    without = Cache(endpoints(logs=False))
    assert audit.gather(without, {"names": ["nb-1"]})["security_groups"] == {"groups": {}}
    assert without.asked == []
