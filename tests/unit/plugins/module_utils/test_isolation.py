# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The route classifier (every member of botocore's EC2 ``Route`` shape, every destination) that the
role's preflight and the audit share, and the bucket-region mapping of the preflight; both driven by the
installed botocore models, so that a new Route member or location constraint fails here first."""

import ipaddress
import pathlib

import botocore.session
import jinja2
import pytest
import yaml
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.secure_sagemaker.notebooks.plugins.filter.notebooks import FilterModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import isolation

COLLECTION = pathlib.Path(__file__).resolve().parents[4]
PREFLIGHT = COLLECTION / "roles" / "isolated_notebook" / "tasks" / "preflight.yml"
SESSION = botocore.session.get_session()


def route_members():
    """The members of the installed botocore's EC2 Route shape, as amazon.aws names them (snake_case)."""
    members = SESSION.get_service_model("ec2").shape_for("Route").members
    return dict((camel_dict_to_snake_dict({name: None}).popitem()[0], name) for name in members)


# One sample value per target member, and the kind the classifier gives it (with a CIDR destination).
SAMPLES = {
    "gateway_id": ("igw-0a1b2c3d", "internet gateway"),
    "nat_gateway_id": ("nat-0a1b2c3d", "NAT gateway"),
    "egress_only_internet_gateway_id": ("eigw-0a1b2c3d", "egress-only internet gateway"),
    "instance_id": ("i-0a1b2c3d", "instance"),
    "network_interface_id": ("eni-0a1b2c3d", "network interface"),
    "vpc_peering_connection_id": ("pcx-0a1b2c3d", "VPC peering connection"),
    "transit_gateway_id": ("tgw-0a1b2c3d", "transit gateway"),
    "local_gateway_id": ("lgw-0a1b2c3d", "local gateway"),
    "carrier_gateway_id": ("cagw-0a1b2c3d", "carrier gateway"),
    "core_network_arn": ("arn:aws:networkmanager::123456789012:core-network/core-network-0a1b", "core network"),
    "odb_network_arn": ("arn:aws:odb:us-east-1:123456789012:odb-network/odb-0a1b", "ODB network"),
    "ip_address": ("10.81.1.10", "Route Server next hop"),
}
# Every target that leads out of the VPC: each target member, and the GatewayId kinds told by prefix.
OUT_TARGETS = sorted(SAMPLES.items()) + [
    ("gateway_id", ("vgw-0a1b2c3d", "virtual private gateway")),
    ("gateway_id", ("vpce-0a1b2c3d", "Gateway Load Balancer endpoint")),
    ("gateway_id", ("xgw-0a1b2c3d", "gateway")),
]


def route(destination, key, target, **more):
    family = "destination_ipv6_cidr_block" if ":" in destination else "destination_cidr_block"
    found = {family: destination, key: target, "state": "active", "origin": "CreateRoute"}
    found.update(more)
    return found


# --- the classifier knows every member of the Route shape -------------------------------------------


def test_every_route_member_is_a_target_or_a_known_attribute():
    members = route_members()
    targets = [key for key, _kind in isolation.TARGETS]
    for key, name in members.items():
        assert (key in targets) != (key in isolation.NOT_TARGETS), "Route.%s is not classified" % name
    # Nothing classified that botocore does not have (a typo would classify nothing).
    assert sorted(set(targets) | set(isolation.NOT_TARGETS)) == sorted(members)
    assert sorted(SAMPLES) == sorted(targets)


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_every_target_member_has_a_kind_and_leads_out(key):
    target, kind = SAMPLES[key]
    classified = isolation.classify_route(route("0.0.0.0/0", key, target))
    assert (classified["target"], classified["kind"], classified["where"]) == (target, kind, isolation.OUT)
    assert classified["offending"] and classified["reason"] == "0.0.0.0/0 routes to %s %s" % (kind, target)


def test_the_vpc_itself_and_gateway_endpoints_stay_in_the_vpc():
    local = isolation.classify_route(route("10.81.0.0/16", "gateway_id", "local"))
    assert (local["where"], local["offending"]) == (isolation.VPC, False)
    # A VPC may use a public CIDR as its own: its local route still stays in the VPC.
    assert not isolation.classify_route(route("8.8.0.0/16", "gateway_id", "local"))["offending"]
    endpoint = {"destination_prefix_list_id": "pl-63a5400a", "gateway_id": "vpce-0a1b2c3d", "state": "active"}
    classified = isolation.classify_route(endpoint)
    assert (classified["where"], classified["kind"], classified["offending"]) == (
        isolation.GATEWAY_ENDPOINT, "gateway endpoint", False)  # fmt: skip


# --- every way out, with every kind of destination ---------------------------------------------------

DESTINATIONS = [
    (["0.0.0.0/0"], True),
    (["::/0"], True),
    (["0.0.0.0/1", "128.0.0.0/1"], True),  # split default routes
    (["8.0.0.0/8"], True),  # a public /8
    (["2600::/12"], True),
    (["10.0.0.0/8"], False),  # private: to a transit gateway or a peering connection this is fine
    (["172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fd00::/8"], False),
]
ALL = [destinations for destinations, _offending in DESTINATIONS]


@pytest.mark.parametrize("key, sample", OUT_TARGETS, ids=lambda v: v if isinstance(v, str) else v[1])
@pytest.mark.parametrize("destinations, offending", DESTINATIONS, ids=lambda v: "+".join(v) if v in ALL else str(v))
def test_way_out_to_public_space_is_offending(key, sample, destinations, offending):
    target, kind = sample
    routes = [route(d, key, target) for d in destinations]
    found = isolation.offending_routes(routes)
    if not offending:
        assert found == []
        return
    assert found == [
        {"destination": d, "target": target, "kind": kind, "reason": "%s routes to %s %s" % (d, kind, target)}
        for d in destinations
    ]


@pytest.mark.parametrize("key, sample", OUT_TARGETS, ids=lambda v: v if isinstance(v, str) else v[1])
def test_blackhole_routes_are_not_offending(key, sample):
    routes = [route(d, key, sample[0], state="blackhole") for d in ("0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1")]
    assert isolation.offending_routes(routes) == []
    # Only blackhole is documented as carrying nothing: any other state counts.
    assert len(isolation.offending_routes([route("0.0.0.0/0", key, sample[0], state="filtered")])) == 1


def test_a_transit_gateway_route_is_judged_by_its_destination():
    # To the rest of a private network: fine; to public space, even without a default route: a way out.
    routes = [route(d, "transit_gateway_id", "tgw-0a1b2c3d") for d in ("10.0.0.0/8", "192.168.0.0/16", "52.0.0.0/8")]
    assert [f["destination"] for f in isolation.offending_routes(routes)] == ["52.0.0.0/8"]


def test_prefix_list_to_anything_but_a_gateway_endpoint_is_offending():
    # A customer-managed prefix list: its entries are not in the route and can change at any time.
    routes = [{"destination_prefix_list_id": "pl-0customer", "transit_gateway_id": "tgw-0a1b2c3d"},
              {"destination_prefix_list_id": "pl-0customer", "gateway_id": "igw-0a1b2c3d"}]  # fmt: skip
    found = isolation.offending_routes(routes)
    assert [(f["destination"], f["kind"]) for f in found] == [
        ("pl-0customer", "transit gateway"), ("pl-0customer", "internet gateway")]  # fmt: skip
    reason = "pl-0customer (a prefix list, whose entries can change) routes to transit gateway tgw-0a1b2c3d"
    assert found[0]["reason"] == reason


def test_route_of_amazon_aws_route_table_info():
    """ec2_vpc_route_table_info sets absent legacy keys to None and repeats network_interface_id as
    interface_id; an instance route names the instance and its network interface: the instance is reported."""
    legacy = {"destination_cidr_block": None, "gateway_id": None, "instance_id": None, "origin": "CreateRoute",
              "state": "active", "network_interface_id": None, "interface_id": None}  # fmt: skip
    assert isolation.offending_routes([dict(legacy, destination_ipv6_cidr_block="fd00::/8",
                                            transit_gateway_id="tgw-1")]) == []  # fmt: skip
    instance = dict(legacy, destination_cidr_block="0.0.0.0/0", instance_id="i-1", instance_owner_id="123456789012",
                    network_interface_id="eni-1", interface_id="eni-1")  # fmt: skip
    interface = dict(legacy, destination_cidr_block="128.0.0.0/1", network_interface_id="eni-2", interface_id="eni-2")
    assert [(f["target"], f["kind"]) for f in isolation.offending_routes([instance, interface])] == [
        ("i-1", "instance"), ("eni-2", "network interface")]  # fmt: skip


def test_unknown_target_or_none_is_a_way_out():
    unknown = isolation.classify_route({"destination_cidr_block": "0.0.0.0/0", "future_gateway_id": "fgw-1"})
    assert (unknown["kind"], unknown["target"], unknown["offending"]) == (
        "unrecognised target (future_gateway_id)", "fgw-1", True)  # fmt: skip
    assert isolation.classify_route({"destination_cidr_block": "0.0.0.0/0", "state": "active"})["offending"]
    assert not isolation.classify_route({"destination_cidr_block": "10.0.0.0/8", "future_gateway_id": "x"})["offending"]


# --- destinations: private only, or covering public space -------------------------------------------


@pytest.mark.parametrize(
    "destination, public",
    [
        ("10.0.0.0/8", False), ("10.81.1.0/24", False), ("172.16.0.0/12", False), ("192.168.0.0/16", False),
        ("100.64.0.0/10", False), ("169.254.169.254/32", False), ("127.0.0.0/8", False), ("fc00::/7", False),
        ("fe80::/10", False), ("::1/128", False), ("2001:db8::/32", False),
        ("0.0.0.0/0", True), ("0.0.0.0/1", True), ("128.0.0.0/1", True), ("10.0.0.0/7", True), ("11.0.0.0/8", True),
        ("8.8.8.8/32", True), ("172.0.0.0/8", True), ("224.0.0.0/4", True), ("::/0", True), ("2000::/3", True),
        ("64:ff9b::/96", True), ("fc00::/6", True),
        ("pl-0a1b2c3d", True), (None, True), ("not a cidr", True), ("10.0.0.1/8", False),
    ],
)  # fmt: skip
def test_destination_covers_public_space(destination, public):
    assert isolation.covers_public(destination) is public


def test_non_public_ranges_are_not_globally_reachable_for_python():
    for block in isolation.NON_PUBLIC:
        assert not block.network_address.is_global and not block.broadcast_address.is_global, block
    # Python's own is_private misses the shared address space that the classifier includes.
    assert not ipaddress.ip_network("100.64.0.0/10").is_private
    assert not isolation.covers_public("100.64.0.0/10")


# --- the bucket's region ----------------------------------------------------------------------------


def known_regions():
    found = set()
    for partition in SESSION.get_data("endpoints")["partitions"]:
        found.update(partition["regions"])
    return found


def test_every_location_constraint_maps_to_a_region():
    """botocore's BucketLocationConstraint enum; GetBucketLocationOutput: "Buckets in Region us-east-1 have a
    LocationConstraint of null. Buckets with a LocationConstraint of EU reside in eu-west-1." """
    constraints = SESSION.get_service_model("s3").shape_for("BucketLocationConstraint").enum
    assert "EU" in constraints
    regions = known_regions()
    for constraint in constraints:
        region = isolation.bucket_region(constraint)
        assert region == ("eu-west-1" if constraint == "EU" else constraint)
        assert region in regions, constraint
    assert isolation.bucket_region(None) == isolation.bucket_region("") == "us-east-1"


def _bucket_check():
    """The condition and the found-region expression of the preflight's "Refuse a bucket in another region"."""
    for task in yaml.safe_load(PREFLIGHT.read_text()):
        if task.get("name") == "Refuse a bucket in another region":
            found = task["vars"]["_isolated_notebook_found_region"].strip()
            assert found.startswith("{{") and found.endswith("}}")
            return task["ansible.builtin.assert"]["that"], found[2:-2]
    raise AssertionError("no task 'Refuse a bucket in another region' in preflight.yml")


def _render(expression, **variables):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(("secure_sagemaker.notebooks." + k, v) for k, v in FilterModule().filters().items())
    return env.compile_expression(expression)(**variables)


@pytest.mark.parametrize(
    "buckets, region, found, accepted",
    [
        ([{"name": "b", "bucket_location": {"LocationConstraint": "EU"}}], "eu-west-1", "eu-west-1", True),
        ([{"name": "b", "bucket_location": {"LocationConstraint": "EU"}}], "eu-west-2", "eu-west-1", False),
        ([{"name": "b", "bucket_location": {"LocationConstraint": "eu-west-1"}}], "eu-west-1", "eu-west-1", True),
        ([{"name": "b", "bucket_location": {"LocationConstraint": "us-east-1"}}], "us-east-1", "us-east-1", True),
        ([{"name": "b", "bucket_location": {"LocationConstraint": None}}], "eu-west-1", "us-east-1", False),
        ([{"name": "b", "bucket_location": {"LocationConstraint": "ap-south-2"}}], "eu-west-1", "ap-south-2", False),
        ([{"name": "b", "bucket_location": {}}], "eu-west-1", "", True),  # location unreadable: later tasks tell
        ([{"name": "other", "bucket_location": {"LocationConstraint": "EU"}}], "us-east-1", "", True),
        ([], "us-east-1", "", True),  # the bucket does not exist yet
    ],
)  # fmt: skip
def test_the_preflight_reads_the_bucket_region_through_bucket_region(buckets, region, found, accepted):
    that, expression = _bucket_check()
    variables = {"_isolated_notebook_bucket_region": {"buckets": buckets}, "_isolated_notebook_stack_bucket": "b",
                 "isolated_notebook_region": region}  # fmt: skip
    assert _render(expression, **variables) == found
    assert _render(that, _isolated_notebook_found_region=found, isolated_notebook_region=region) is accepted
