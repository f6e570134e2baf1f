# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Eventual consistency, waited out within a stated bound, against the emulator's model of it
(tests/emulator/gaps.py, EMULATOR_CONSISTENCY_SECONDS): a new notebook or VPC endpoint is not found
for a while, a new role is not assumable by SageMaker for a while, a notebook's first start does
not take."""

import json

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import notebook_ops
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import vpc_endpoint as ve
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import (
    on_emulator,
    settle,
    status,
)
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.notebook_params import params


def _network(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    return vpc, subnet


def _role(iam):
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}  # fmt: skip
    return iam.create_role(RoleName="lagging-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _notebook(role, subnet, **extra):
    return params(name="lagging", instance_type="ml.t3.medium", role_arn=role, subnet_id=subnet,
                  security_group_ids=["sg-1"], wait_timeout=60, **extra)  # fmt: skip


def test_a_notebook_on_a_role_just_created_is_created_once_the_role_propagates(lagging):
    sagemaker = on_emulator(lagging, "sagemaker")
    _vpc, subnet = _network(lagging.client("ec2"))
    role = _role(lagging.client("iam"))
    # Today's code: "Could not assume role" on the first try; then "disappeared" while not found.
    result = notebook_ops.reconcile(sagemaker, _notebook(role, subnet))
    assert result["actions"] == ["create"]
    assert status(lagging.client("sagemaker"), "lagging") == "InService"


def test_the_role_retry_is_bounded_and_says_so(lagging, monkeypatch):
    monkeypatch.setattr(notebook_ops, "ROLE_PROPAGATION", 0.5)
    sagemaker = on_emulator(lagging, "sagemaker")
    _vpc, subnet = _network(lagging.client("ec2"))
    role = _role(lagging.client("iam"))
    with pytest.raises(NotebooksError) as failed:
        notebook_ops.reconcile(sagemaker, _notebook(role, subnet))
    assert "Could not assume role" in failed.value.msg and "takes seconds to propagate" in failed.value.msg
    assert lagging.client("sagemaker").list_notebook_instances()["NotebookInstances"] == []


def test_a_start_that_does_not_take_is_sent_again(lagging, monkeypatch):
    monkeypatch.setattr(notebook_ops, "START_TAKES", 0.5)
    raw = lagging.client("sagemaker")
    _vpc, subnet = _network(lagging.client("ec2"))
    role = _role(lagging.client("iam"))
    sagemaker = on_emulator(lagging, "sagemaker")
    notebook_ops.reconcile(sagemaker, _notebook(role, subnet))
    raw.stop_notebook_instance(NotebookInstanceName="lagging")
    settle(raw, "lagging", "Stopped")
    result = notebook_ops.reconcile(sagemaker, _notebook(role, subnet, state="started"))
    # The first start was accepted and ignored (the notebook stayed Stopped); the second one took.
    assert result["actions"] == ["start", "start"]
    assert status(raw, "lagging") == "InService"


def test_a_vpc_endpoint_just_created_is_waited_for_not_reported_gone(lagging):
    ec2 = on_emulator(lagging, "ec2")
    vpc, _subnet = _network(lagging.client("ec2"))
    table = lagging.client("ec2").create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    spec = ve.validate(
        {"vpc_id": vpc, "service": "s3", "route_table_ids": [table], "wait": True, "wait_timeout": 30,
         "state": "present", "vpc_endpoint_type": "Gateway"},
        "us-east-1",
    )  # fmt: skip
    # Today's code: "disappeared while waiting for it to be available" at the first describe.
    result = ve.ensure_present(ec2, spec)
    assert result["changed"] is True and result["vpc_endpoint"]["state"].lower() == "available"
