# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a subnet isolated?  Route analysis shared by the role's preflight and the audit, and the region
of the script bucket (the S3 gateway endpoint reaches only buckets of its own region).

One classifier, ``classify_route``, judges every route of the subnet's effective route table, in the
snake_case shape of amazon.aws's ``ec2_vpc_route_table_info`` (the audit converts DescribeRouteTables
the same way).  It looks at every member of botocore's EC2 ``Route`` shape:

- its target: the VPC itself (``gateway_id: local``), an S3/DynamoDB gateway endpoint (a ``vpce-``
  gateway with a ``pl-`` prefix-list destination), or a way out of the VPC (every other target:
  internet, virtual private, local and carrier gateways, NAT and egress-only gateways, Gateway Load
  Balancer endpoints, instances, network interfaces, peering, transit gateways, core networks, ODB
  networks, Route Server next hops);
- its destination: private only (every address in a range that is not globally reachable, see
  ``NON_PUBLIC``), or covering public address space (anything else, a prefix list too: its entries
  are not in the route and can change without touching the table).

A route out of the VPC whose destination covers a public address is offending, unless it is a
``blackhole`` (its target is gone: it carries nothing).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

# Where a route's target sends traffic.
VPC = "vpc"  # the VPC's own CIDRs: GatewayId "local"
GATEWAY_ENDPOINT = "gateway endpoint"  # S3/DynamoDB gateway endpoint, reached by its AWS prefix list
OUT = "out"  # out of the VPC, or through a machine that can forward traffic anywhere

# Every target member of botocore's EC2 ``Route`` shape, in snake_case, with what it is.  A route names
# one target, except that an instance route also names the instance's network interface (and its owner):
# the first key found is reported.  ``gateway_id`` is told apart by its prefix (GATEWAYS).
TARGETS = (
    ("gateway_id", "gateway"),
    ("nat_gateway_id", "NAT gateway"),
    ("egress_only_internet_gateway_id", "egress-only internet gateway"),
    ("instance_id", "instance"),
    ("network_interface_id", "network interface"),
    ("vpc_peering_connection_id", "VPC peering connection"),
    ("transit_gateway_id", "transit gateway"),
    ("local_gateway_id", "local gateway"),
    ("carrier_gateway_id", "carrier gateway"),
    ("core_network_arn", "core network"),
    ("odb_network_arn", "ODB network"),
    # A next hop that VPC Route Server propagated (Origin "Advertisement"): an appliance in the VPC.
    ("ip_address", "Route Server next hop"),
)
# GatewayId holds an internet gateway or a virtual private gateway (CreateRoute), a gateway endpoint
# (with the service's prefix list as destination) or a Gateway Load Balancer endpoint (CreateRoute's
# VpcEndpointId, "supported for Gateway Load Balancer endpoints only"; the Route shape has no
# VpcEndpointId member, so it can only come back as a vpce- GatewayId).  A vpce- target with a prefix-list
# destination is taken for a gateway endpoint without asking EC2 which kind the endpoint is.
GATEWAYS = (
    ("igw-", "internet gateway"),
    ("vgw-", "virtual private gateway"),
    ("vpce-", "Gateway Load Balancer endpoint"),
)
# The other members of the Route shape: where the route goes to, and facts about it.  ``igw_firewall``
# describes a firewall inspecting an internet gateway route; the target is still the gateway.
DESTINATIONS = ("destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id")
NOT_TARGETS = DESTINATIONS + ("origin", "state", "instance_owner_id", "igw_firewall")
# Keys amazon.aws's ec2_vpc_route_table_info adds: ``interface_id`` repeats ``network_interface_id``.
ALIASES = ("interface_id",)

# Addresses that are not globally reachable: IANA's IPv4 and IPv6 Special-Purpose Address Registries
# ("Globally Reachable: False"), the ranges Python's ``ipaddress`` calls private, plus 100.64.0.0/10
# (shared address space, RFC 6598) which ``is_private`` leaves out but nothing on the internet answers.
# Left out on purpose (they count as public): multicast 224.0.0.0/4, NAT64 64:ff9b::/96 and
# 64:ff9b:1::/48 (a NAT gateway translates them to public IPv4), IPv4-mapped ::ffff:0:0/96, 6to4
# 2002::/16 and 2001::/23 (Teredo and global sub-blocks).  ``ip_network(x).is_private`` asks the same
# question (both ends inside one such range), but over a list that changes between Python releases and
# without 100.64.0.0/10: the list is kept here.
NON_PUBLIC_IPV4 = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # RFC 1918
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local
    "172.16.0.0/12",  # RFC 1918
    "192.0.0.0/29",  # IETF protocol assignments (DS-Lite); 192.0.0.9 and .10 are global
    "192.0.0.170/31",  # NAT64/DNS64 discovery
    "192.0.2.0/24",  # documentation (TEST-NET-1)
    "192.168.0.0/16",  # RFC 1918
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation (TEST-NET-2)
    "203.0.113.0/24",  # documentation (TEST-NET-3)
    "240.0.0.0/4",  # reserved, with the limited broadcast 255.255.255.255
)
NON_PUBLIC_IPV6 = (
    "::/128",  # unspecified
    "::1/128",  # loopback
    "100::/64",  # discard-only
    "2001:db8::/32",  # documentation
    "fc00::/7",  # unique local addresses
    "fe80::/10",  # link-local
)
# Collapsed, so that a CIDR lies within the union exactly when it lies within one block.
NON_PUBLIC = tuple(
    block
    for blocks in (NON_PUBLIC_IPV4, NON_PUBLIC_IPV6)
    for block in ipaddress.collapse_addresses(ipaddress.ip_network(b) for b in blocks)
)


def effective_route_table(tables, subnet_id):
    """The table associated with the subnet, else the VPC's main table (None if neither)."""
    main = None
    for table in tables:
        for association in table.get("associations", []):
            if association.get("subnet_id") == subnet_id:
                return table
            if association.get("main"):
                main = table
    return main


def covers_public(destination):
    """Whether a CIDR (IPv4 or IPv6) holds any globally reachable address.  A prefix list (``pl-``),
    a missing or unreadable destination cannot be shown private: it covers public space."""
    try:
        network = ipaddress.ip_network(str(destination), strict=False)
    except ValueError:
        return True
    return not any(network.version == block.version and network.subnet_of(block) for block in NON_PUBLIC)


def route_target(route):
    """(target id, kind, where) of a route: where is VPC, GATEWAY_ENDPOINT or OUT.

    A value under a key that is neither a known target nor a known attribute is a target this code
    does not know (a newer API): it counts as a way out, as does a route with no target at all."""
    for key, kind in TARGETS:
        target = route.get(key)
        if not target:
            continue
        if key != "gateway_id":
            return target, kind, OUT
        if target == "local":
            return target, "VPC (local)", VPC
        if target.startswith("vpce-") and route.get("destination_prefix_list_id"):
            return target, GATEWAY_ENDPOINT, GATEWAY_ENDPOINT
        return target, next((k for prefix, k in GATEWAYS if target.startswith(prefix)), kind), OUT
    for key, value in sorted(route.items()):
        if value and key not in NOT_TARGETS and key not in ALIASES:
            return "%s" % (value,), "unrecognised target (%s)" % key, OUT
    return "none", "no target", OUT


def route_destination(route):
    """The route's destination: its IPv4 or IPv6 CIDR, else its prefix list id (None if none)."""
    for key in DESTINATIONS:
        if route.get(key):
            return route[key]
    return None


def classify_route(route):
    """Everything the classifier knows about one route (snake_case, as amazon.aws gives it):
    destination, target, kind, where (VPC, GATEWAY_ENDPOINT, OUT), covers_public, offending, reason."""
    destination = route_destination(route)
    target, kind, where = route_target(route)
    public = covers_public(destination)
    # Route.State: "blackhole" means the target isn't available, so the route carries nothing; the model
    # says nothing of "filtered", which therefore counts like "active".
    blackhole = route.get("state") == "blackhole"
    offending = where == OUT and public and not blackhole
    if destination and destination.startswith("pl-"):
        shown = "%s (a prefix list, whose entries can change)" % destination
    else:
        shown = destination or "a route without a destination"
    return {
        "destination": destination,
        "target": target,
        "kind": kind,
        "where": where,
        "covers_public": public,
        "offending": offending,
        "reason": "%s routes to %s %s" % (shown, kind, target),
    }


def offending_routes(routes):
    """The routes that leave the VPC towards public address space, each as destination, target,
    kind and a readable reason.  ``routes`` are in the snake_case shape of amazon.aws's route-table
    info; a blackhole route goes nowhere and is not offending."""
    found = []
    for route in routes or []:
        classified = classify_route(route)
        if classified["offending"]:
            found.append(dict((key, classified[key]) for key in ("destination", "target", "kind", "reason")))
    return found


# GetBucketLocation (botocore S3 model, GetBucketLocationOutput): "Buckets in Region us-east-1 have a
# LocationConstraint of null. Buckets with a LocationConstraint of EU reside in eu-west-1."
LEGACY_LOCATIONS = {"EU": "eu-west-1"}


def bucket_region(location_constraint):
    """The region of a bucket from its GetBucketLocation ``LocationConstraint``: ``EU`` is eu-west-1,
    null or empty is us-east-1, any other value is the region itself."""
    if not location_constraint:
        return "us-east-1"
    return LEGACY_LOCATIONS.get(location_constraint, location_constraint)
