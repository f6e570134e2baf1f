# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml refuses, before any change, what AWS would refuse only halfway through the run, and fits
AWS's quotas.

A subnet in a zone where the SageMaker API endpoint service is not offered (DescribeVpcEndpointServices
lists the zones; CreateVpcEndpoint refuses the others).

A VPC without ``enableDnsHostnames`` (the default of a new VPC): an interface endpoint with private
DNS needs it and ``enableDnsSupport`` (CreateVpcEndpoint, PrivateDnsEnabled; the emulator refuses the
endpoint as AWS does, tests/emulator/gaps.py).  Without the check, the security groups and the S3
endpoint already existed when the SageMaker API endpoint failed.
"""

import json

import pytest
from test_role import dump, notebook_list, play, vpc_with_private_subnet

from tests.emulator import harness


@pytest.fixture
def network_without_dns_hostnames(emulator):
    emulator.reset()
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.72.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.72.1.0/24", AvailabilityZone=harness.REGION + "a")
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["Subnet"]["SubnetId"])
    return {"isolated_notebook_vpc_id": vpc, "isolated_notebook_subnet_id": subnet["Subnet"]["SubnetId"]}


def test_a_vpc_without_dns_host_names_is_refused_before_any_change(emulator, network_without_dns_hostnames, tmp_path):
    before = dump(emulator)
    run = play(emulator, tmp_path, dict(network_without_dns_hostnames, **notebook_list(["dns-one"])))
    assert run.rc != 0
    assert "isolated_notebook_vpc_id" in run.failure and "enableDnsHostnames" in run.failure, run.failure
    assert "enableDnsSupport" not in run.failure.split(" off;")[0]  # only the attribute that is off is named
    assert run.writes() == {}, run.writes()
    assert dump(emulator) == before


def test_a_subnet_in_a_zone_without_the_sagemaker_api_is_refused_before_any_change(emulator, tmp_path):
    """The emulator offers the SageMaker API endpoint service in every us-east-1 zone but us-east-1e, and
    refuses an endpoint there as AWS does (gaps.py); without the check, the security groups and the S3
    endpoint already existed when CreateVpcEndpoint failed."""
    emulator.reset()
    network, _table = vpc_with_private_subnet(emulator.client("ec2"), "10.74", zone=harness.REGION + "e")
    before = dump(emulator)
    run = play(emulator, tmp_path, dict(network, **notebook_list(["zone-one"])))
    assert run.rc != 0
    assert (
        "isolated_notebook_subnet_id: com.amazonaws.us-east-1.sagemaker.api is not offered in us-east-1e, the zone of "
        "subnet %s; choose a subnet in one of us-east-1a, " % network["isolated_notebook_subnet_id"]
    ) in run.failure, run.failure
    assert run.writes() == {}, run.writes()
    assert dump(emulator) == before


def _stop_policies(emulator):
    iam = emulator.client("iam")
    found = {}
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        if "-autostop" in policy["PolicyName"]:
            version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
            found[policy["PolicyName"]] = version["PolicyVersion"]["Document"]
    return found


def test_forty_mixed_case_notebooks_stay_named_within_the_iam_size_quota(emulator, tmp_path):
    """40 mixed-case 20-character names are 6,816 characters in one autostop policy, over IAM's 6,144
    (the emulator refuses it as IAM does): the role splits them over named policies, and a smaller
    fleet drops the surplus policy again."""
    emulator.reset()
    network, _table = vpc_with_private_subnet(emulator.client("ec2"), "10.73")
    names = ["Quota-Notebook-%04d" % n for n in range(40)]
    variables = dict(network, isolated_notebook_name_prefix="quota", isolated_notebook_max_concurrency=40)
    run = play(emulator, tmp_path, dict(variables, **notebook_list(names)))
    assert run.rc == 0, run.output[-5000:]
    documents = _stop_policies(emulator)
    # Each policy also grants its notebooks' lifecycle log streams: four policies for these 40.
    expected = ["quota-autostop"] + ["quota-autostop-%d" % n for n in range(2, len(documents) + 1)]
    assert len(documents) > 1 and sorted(documents) == sorted(expected)
    granted = set()
    for document in documents.values():
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144
        stop = next(s for s in document["Statement"] if s["Sid"] == "StopIdleNotebook")
        assert stop["Action"] == ["sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance"]
        granted.update(stop["Resource"])
    prefix = "arn:aws:sagemaker:%s:%s:notebook-instance/" % (harness.REGION, harness.ACCOUNT_ID)
    assert granted == {prefix + n for n in names} | {prefix + n.lower() for n in names}
    attached = emulator.client("iam").list_attached_role_policies(RoleName="quota-notebook")["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in attached) == sorted(expected + ["quota-s3-read"])

    smaller = play(emulator, tmp_path, dict(variables, **notebook_list(names[:3])))
    assert smaller.rc == 0, smaller.output[-5000:]
    assert sorted(_stop_policies(emulator)) == ["quota-autostop"]


def test_check_mode_on_a_first_run_predicts_without_writing(emulator, tmp_path):
    """Nothing exists yet: the role's IAM step names the policies by ARN (amazon.aws would look names
    up among the account's policies, and a policy of a first run does not exist)."""
    emulator.reset()
    network, _table = vpc_with_private_subnet(emulator.client("ec2"), "10.75")
    before = dump(emulator)
    run = play(emulator, tmp_path, dict(network, isolated_notebook_name_prefix="dry", **notebook_list(["dry-one"])),
               check=True)  # fmt: skip
    assert run.rc == 0, run.output[-5000:]
    assert run.writes() == {}, run.writes()
    assert dump(emulator) == before
