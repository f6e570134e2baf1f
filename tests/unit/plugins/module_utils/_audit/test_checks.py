# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the audit's checks over fetched data (notebook, network, role, lifecycle, bucket):
compliant data is what the collection writes, from policies.py; each case changes one thing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import checks, findings
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils._audit.audit_data import (
    ADMIN,
    BUCKET,
    ENDPOINT,
    KEY,
    MAIN,
    REGION,
    SHA,
    SUBNET,
    SUBNET2,
    TABLE,
    VPC,
    bucket_data,
    endpoints,
    ids,
    lifecycle_config,
    notebook,
    on_start,
    role,
    route_tables,
)

# --- notebook settings -----------------------------------------------------------------------------


def test_compliant_notebook_has_no_finding():
    assert checks.check_notebook(notebook()) == []


@pytest.mark.parametrize(
    "changes, expected, evidence",
    [
        ({"DirectInternetAccess": "Enabled"}, ["direct-internet-access"], {"direct_internet_access": "Enabled"}),
        ({"RootAccess": "Enabled"}, ["root-access-enabled"], {"root_access": "Enabled"}),
        ({"InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "1"}},
         ["imdsv1-allowed"], {"minimum_instance_metadata_service_version": "1"}),
        ({"InstanceMetadataServiceConfiguration": None}, ["imdsv1-allowed"],
         {"minimum_instance_metadata_service_version": None}),
        ({"NotebookInstanceLifecycleConfigName": None}, ["lifecycle-config-missing"], {"lifecycle_config_name": None}),
        ({"KmsKeyId": None}, ["volume-no-customer-key"], {"kms_key_id": None}),
    ],
)  # fmt: skip
def test_notebook_settings(changes, expected, evidence):
    found = checks.check_notebook(notebook(**changes))
    assert ids(found) == expected
    assert found[0]["evidence"] == evidence
    assert found[0]["remediation"] and found[0]["severity"] in findings.SEVERITIES


def test_no_subnet_comes_with_direct_internet_access():
    found = checks.check_notebook(notebook(SubnetId=None, SecurityGroups=None, DirectInternetAccess="Enabled"))
    assert ids(found) == ["direct-internet-access", "no-subnet"]
    assert all(f["severity"] == "high" for f in found)


def test_root_access_allowed_by_the_run():
    assert checks.check_notebook(notebook(RootAccess="Enabled"), allow_root_access=True) == []


# --- network ---------------------------------------------------------------------------------------


def test_compliant_network_has_no_finding():
    assert checks.check_network(SUBNET, {"VpcId": VPC}, route_tables(), endpoints(), REGION) == []


@pytest.mark.parametrize(
    "route, kind",
    [
        ({"destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1", "state": "active"}, "internet gateway"),
        ({"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "state": "active"}, "NAT gateway"),
        ({"destination_ipv6_cidr_block": "::/0", "egress_only_internet_gateway_id": "eigw-1"},
         "egress-only internet gateway"),
        ({"destination_cidr_block": "0.0.0.0/0", "vpc_peering_connection_id": "pcx-1"}, "VPC peering connection"),
        ({"destination_cidr_block": "0.0.0.0/0", "transit_gateway_id": "tgw-1"}, "transit gateway"),
        ({"destination_cidr_block": "0.0.0.0/0", "instance_id": "i-1"}, "instance"),
    ],
)  # fmt: skip
def test_egress_route_evidence(route, kind):
    found = checks.check_network(SUBNET, {"VpcId": VPC}, route_tables([route]), endpoints(), REGION)
    assert ids(found) == ["subnet-egress-route"]
    evidence = found[0]["evidence"]
    target = [v for k, v in route.items() if k.endswith("_id")][0]
    destination = route.get("destination_cidr_block") or route.get("destination_ipv6_cidr_block")
    assert evidence == {"subnet_id": SUBNET, "route_table_id": TABLE, "destination": destination,
                        "target": target, "kind": kind}  # fmt: skip
    assert found[0]["severity"] == "high" and found[0]["resource"] == TABLE


def test_blackhole_and_specific_routes_are_not_egress():
    routes = [{"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "state": "blackhole"},
              {"destination_cidr_block": "10.99.0.0/16", "vpc_peering_connection_id": "pcx-1"}]  # fmt: skip
    assert checks.check_network(SUBNET, {"VpcId": VPC}, route_tables(routes), endpoints(), REGION) == []


@pytest.mark.parametrize(
    "routes, expected",
    [
        ([{"destination_cidr_block": "0.0.0.0/0", "gateway_id": "vgw-1", "origin": "EnableVgwRoutePropagation"}],
         [("0.0.0.0/0", "vgw-1", "virtual private gateway")]),
        ([{"destination_cidr_block": "0.0.0.0/1", "gateway_id": "igw-1"},
          {"destination_cidr_block": "128.0.0.0/1", "gateway_id": "igw-1"}],
         [("0.0.0.0/1", "igw-1", "internet gateway"), ("128.0.0.0/1", "igw-1", "internet gateway")]),
        ([{"destination_cidr_block": "8.0.0.0/8", "carrier_gateway_id": "cagw-1"}],
         [("8.0.0.0/8", "cagw-1", "carrier gateway")]),
        ([{"destination_ipv6_cidr_block": "::/0", "core_network_arn": "arn:aws:networkmanager::1:core-network/c"}],
         [("::/0", "arn:aws:networkmanager::1:core-network/c", "core network")]),
        ([{"destination_cidr_block": "0.0.0.0/0", "ip_address": "10.81.1.9", "origin": "Advertisement"}],
         [("0.0.0.0/0", "10.81.1.9", "Route Server next hop")]),
        ([{"destination_prefix_list_id": "pl-1", "transit_gateway_id": "tgw-1"}],
         [("pl-1", "tgw-1", "transit gateway")]),
        ([{"destination_cidr_block": "10.0.0.0/8", "transit_gateway_id": "tgw-1"},
          {"destination_cidr_block": "0.0.0.0/0", "local_gateway_id": "lgw-1", "state": "blackhole"}], []),
    ],
)  # fmt: skip
def test_every_way_out_to_public_space_is_egress(routes, expected):
    """The audit asks the role's classifier (isolation.py): every Route target, every public destination."""
    found = checks.check_network(SUBNET, {"VpcId": VPC}, route_tables(routes), endpoints(), REGION)
    assert ids(found) == ["subnet-egress-route"] * len(expected)
    assert [(f["evidence"]["destination"], f["evidence"]["target"], f["evidence"]["kind"]) for f in found] == expected
    assert all(f["message"].startswith("%s: route table %s: " % (SUBNET, TABLE)) for f in found)


def test_subnet_without_association_uses_the_main_table():
    found = checks.check_network(SUBNET2, {"VpcId": VPC}, route_tables(), endpoints(), REGION)
    assert ids(found) == ["s3-endpoint-missing"]
    assert found[0]["evidence"] == {
        "subnet_id": SUBNET2, "vpc_id": VPC, "route_table_id": MAIN,
        "s3_gateway_endpoints": [{"vpc_endpoint_id": ENDPOINT, "route_table_ids": [TABLE]}],
    }  # fmt: skip


def test_missing_subnet_and_route_table_are_failed_checks():
    found = checks.check_network(SUBNET, None, [], [], REGION)
    assert ids(found) == ["check-failed"] and found[0]["severity"] == "high"
    found = checks.check_network(SUBNET, {"VpcId": VPC}, [], endpoints(), REGION)
    assert ids(found) == ["check-failed"] and found[0]["evidence"]["check"] == "route-table"


def test_no_sagemaker_api_endpoint():
    found = checks.check_network(SUBNET, {"VpcId": VPC}, route_tables(), endpoints(sagemaker=False), REGION)
    assert ids(found) == ["sagemaker-api-endpoint-missing"]
    assert found[0]["evidence"] == {"vpc_id": VPC, "service_name": "com.amazonaws.us-east-1.sagemaker.api"}


# vpc_endpoint.py's states: gone (AWS lists deleted endpoints for a while) or failed carry no traffic.
@pytest.mark.parametrize("state", ["deleting", "deleted", "failed", "rejected", "expired"])
def test_deleted_endpoints_do_not_count(state):
    gone = endpoints()
    for endpoint in gone:
        endpoint["State"] = state
    assert ids(checks.check_network(SUBNET, {"VpcId": VPC}, route_tables(), gone, REGION)) == [
        "s3-endpoint-missing", "sagemaker-api-endpoint-missing"]  # fmt: skip


# --- role ------------------------------------------------------------------------------------------


def test_the_collections_role_is_compliant():
    assert checks.check_role(role()) == []


# --- lifecycle script ------------------------------------------------------------------------------


@pytest.mark.parametrize("quote", [shlex.quote, lambda v: "'%s'" % v])
def test_on_start_pins_bare_or_quoted_values(quote):
    parsed = checks.parse_on_start(on_start(quote=quote))
    assert parsed == {"installs_autostop": True, "bucket": BUCKET, "key": KEY, "sha256": SHA}


def test_the_roles_template_is_recognised():
    """The real template's pinned lines, rendered the way Ansible's quote filter renders them."""
    import os

    path = os.path.join(os.path.dirname(checks.__file__), "..", "..", "..", "roles", "isolated_notebook", "templates",
                        "on-start.sh.j2")  # fmt: skip
    with open(path) as handle:
        template = handle.read()
    assert "BUCKET={{ autostop_bucket | quote }}" in template
    assert "SHA256={{ autostop_sha256 | lower | quote }}" in template
    rendered = template.replace("{{ autostop_bucket | quote }}", shlex.quote("my bucket")).replace(
        "{{ autostop_sha256 | lower | quote }}", SHA
    )
    rendered = rendered.replace("{{ autostop_key | default('lifecycle-configurations/autostop.py', true) | quote }}",
                                KEY)  # fmt: skip
    assert checks.parse_on_start(rendered) == {"installs_autostop": True, "bucket": "my bucket", "key": KEY,
                                               "sha256": SHA}  # fmt: skip


def test_compliant_lifecycle():
    assert checks.check_lifecycle("nb-autostop", lifecycle_config(on_start()), {"sha256": SHA}) == []


def test_tampered_script():
    [found] = checks.check_lifecycle("nb-autostop", lifecycle_config(on_start()), {"sha256": "0" * 64})
    assert found["id"] == "autostop-sha256-mismatch" and found["severity"] == "high"
    assert found["evidence"] == {"lifecycle_config_name": "nb-autostop", "bucket": BUCKET, "key": KEY,
                                 "expected_sha256": SHA, "actual_sha256": "0" * 64}  # fmt: skip
    assert found["resource"] == "s3://%s/%s" % (BUCKET, KEY)


@pytest.mark.parametrize(
    "config, expected",
    [
        (None, "lifecycle-config-missing"),
        (lifecycle_config(None), "autostop-not-installed"),
        (lifecycle_config("#!/bin/bash\necho hello\n"), "autostop-not-installed"),
        (lifecycle_config("wget https://example.com/autostop.py\n(crontab -l; echo '*/5 * * * * python autostop.py')"
                          " | crontab -\n"), "autostop-not-pinned"),
        (lifecycle_config(on_start(sha="not-a-digest")), "autostop-not-pinned"),
    ],
)  # fmt: skip
def test_lifecycle_problems(config, expected):
    assert ids(checks.check_lifecycle("nb-autostop", config, None)) == [expected]


def test_unreadable_script_is_a_failed_check():
    [found] = checks.check_lifecycle("nb-autostop", lifecycle_config(on_start()),
                                     {"operation": "GetObject", "error": "AccessDenied"})  # fmt: skip
    assert found["id"] == "check-failed" and found["severity"] == "medium"
    assert found["evidence"]["error"] == "AccessDenied"


# --- bucket ----------------------------------------------------------------------------------------


def test_the_collections_bucket_is_compliant():
    assert checks.check_bucket(BUCKET, bucket_data()) == []


def test_bare_bucket():
    found = checks.check_bucket(BUCKET, bucket_data(public_access_block=None, encryption=None, policy=None))
    assert ids(found) == ["bucket-not-encrypted", "bucket-policy-no-endpoint-deny", "bucket-policy-no-tls-deny",
                          "bucket-public-access-not-blocked"]  # fmt: skip
    blocked = [f for f in found if f["id"] == "bucket-public-access-not-blocked"][0]
    assert blocked["evidence"]["not_set"] == list(checks.PUBLIC_ACCESS_FLAGS)


def test_public_bucket_policy_and_partial_block():
    policy = policies.bucket_policy(BUCKET, ENDPOINT, [ADMIN], REGION)
    public = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    policy["Statement"].append(public)
    block = dict(dict.fromkeys(checks.PUBLIC_ACCESS_FLAGS, True), RestrictPublicBuckets=False)
    found = checks.check_bucket(BUCKET, bucket_data(policy=policy, public_access_block=block))
    assert ids(found) == ["bucket-policy-public", "bucket-public-access-not-blocked"]
    by_id = dict((f["id"], f) for f in found)
    assert by_id["bucket-policy-public"]["evidence"] == {"bucket": BUCKET, "statement": public}
    assert by_id["bucket-public-access-not-blocked"]["evidence"]["not_set"] == ["RestrictPublicBuckets"]


def test_unreadable_bucket_setting_is_a_failed_check_not_a_guess():
    data = bucket_data(policy=None, errors=[{"operation": "GetBucketPolicy", "error": "AccessDenied"}])
    assert ids(checks.check_bucket(BUCKET, data)) == ["check-failed"]


def test_a_volume_without_a_customer_key_names_the_control_and_the_replacement():
    (found,) = checks.check_notebook(notebook(KmsKeyId=None))
    assert found["id"] == "volume-no-customer-key" and found["severity"] == "medium"
    assert "SageMaker.21" in found["title"]
    assert "create-only" in found["remediation"] and "docs/encryption.md" in found["remediation"]
    assert "only a replacement" in found["message"]
