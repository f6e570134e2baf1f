# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a subnet isolated?  Route analysis shared by the role's preflight and the audit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DEFAULT_ROUTES = ("0.0.0.0/0", "::/0")
# Route targets that lead out of the VPC or through a machine that could forward traffic.
EGRESS_TARGETS = (
    ("gateway_id", "igw-", "internet gateway"),
    ("nat_gateway_id", "", "NAT gateway"),
    ("egress_only_internet_gateway_id", "", "egress-only internet gateway"),
    ("instance_id", "", "instance"),
    ("network_interface_id", "", "network interface"),
    ("vpc_peering_connection_id", "", "VPC peering connection"),
    ("transit_gateway_id", "", "transit gateway"),
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


def offending_routes(routes):
    """Default routes (IPv4 or IPv6) that leave the VPC, with a readable reason each.

    ``routes`` are in the snake_case shape of amazon.aws's route-table info; a blackhole route
    goes nowhere and is not offending.
    """
    found = []
    for route in routes or []:
        destination = route.get("destination_cidr_block") or route.get("destination_ipv6_cidr_block")
        if destination not in DEFAULT_ROUTES or route.get("state") == "blackhole":
            continue
        for key, prefix, kind in EGRESS_TARGETS:
            target = route.get(key)
            if target and target.startswith(prefix):
                found.append(
                    {
                        "destination": destination,
                        "target": target,
                        "kind": kind,
                        "reason": "%s routes to %s %s" % (destination, kind, target),
                    }
                )
                break
    return found
