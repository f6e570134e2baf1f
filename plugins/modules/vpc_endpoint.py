#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vpc_endpoint
short_description: Exactly one VPC endpoint per VPC, service and type, reconciled in place
version_added: 0.1.0
description:
  - Creates, reconciles or deletes the one VPC endpoint of a VPC for a service and endpoint type.
  - The endpoint is identified by O(vpc_id), O(service) and O(vpc_endpoint_type) only. Its policy,
    route tables (gateway), subnets, security groups and private DNS (interface) and tags are
    changed in place with C(ModifyVpcEndpoint), C(CreateTags) and C(DeleteTags); the endpoint id
    stays the same.
  - Unlike M(amazon.aws.ec2_vpc_endpoint), a changed O(policy) is applied to an existing endpoint
    and a changed O(route_table_ids) set does not create a second endpoint.
  - Policies are compared semantically (key order, single values versus one-element lists and the
    default C(Version) do not count as changes).
  - When several endpoints already match (for example duplicates created by
    M(amazon.aws.ec2_vpc_endpoint)), the module fails and lists them instead of guessing which one
    to manage.
  - All options are validated before any AWS call.
  - Supports check mode (the result predicts the endpoint exactly, nothing is changed) and diff mode
    (policy, route tables, subnets, security groups, private DNS and tags before and after).
options:
  vpc_id:
    description:
      - The VPC of the endpoint, C(vpc-) followed by 8 or 17 lower-case hex digits.
    type: str
    required: true
  service:
    description:
      - The endpoint service, either its full name such as V(com.amazonaws.us-east-1.s3) or
        V(com.amazonaws.us-east-1.sagemaker.api), or a short name such as V(s3) or V(sagemaker.api)
        whose full name is looked up in DescribeVpcEndpointServices in the module's region, among
        C(com.amazonaws.<region>.<service>) and C(cn.com.amazonaws.<region>.<service>) (most interface
        services of the China regions), before the endpoint is created.
      - A service that EC2 does not offer as an endpoint of O(vpc_endpoint_type) is refused before any change.
      - Names starting with V(com.amazonaws.), V(cn.com.amazonaws.) or V(aws.) are taken as full names.
    type: str
    required: true
  vpc_endpoint_type:
    description:
      - The type of the endpoint. Part of its identity, with O(vpc_id) and O(service).
      - Gateway endpoints take O(route_table_ids); interface endpoints take O(subnet_ids),
        O(security_group_ids) and O(private_dns_enabled).
    type: str
    choices: [Gateway, Interface]
    default: Gateway
  policy:
    description:
      - The endpoint policy, a JSON policy document as a string or a dictionary. It must be a JSON
        object with a non-empty C(Statement).
      - When omitted, the policy of an existing endpoint is left as it is, and a new endpoint gets the
        AWS default policy (full access).
      - 'To go back to the default policy give it explicitly:
        C({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}).'
    type: json
  route_table_ids:
    description:
      - The complete set of route tables of a gateway endpoint (C(rtb-) ids). Tables not listed are
        removed from the endpoint, listed ones added; AWS adds and removes the endpoint's prefix-list
        route in them.
      - When omitted, the route tables of an existing endpoint are left as they are; a new endpoint
        gets none.
      - Only for O(vpc_endpoint_type=Gateway).
    type: list
    elements: str
  subnet_ids:
    description:
      - The complete set of subnets of an interface endpoint (C(subnet-) ids; AWS allows one per
        availability zone).
      - A subnet in a zone the service is not offered in (DescribeVpcEndpointServices
        C(AvailabilityZones)) is refused before any change.
      - When omitted, the subnets of an existing endpoint are left as they are.
      - Only for O(vpc_endpoint_type=Interface).
    type: list
    elements: str
  security_group_ids:
    description:
      - The complete set of security groups of an interface endpoint (C(sg-) ids).
      - When omitted, the security groups of an existing endpoint are left as they are; a new
        endpoint gets the VPC's default security group (AWS default).
      - Only for O(vpc_endpoint_type=Interface).
    type: list
    elements: str
  private_dns_enabled:
    description:
      - Whether the service's default DNS name resolves to the endpoint inside the VPC (needs
        C(enableDnsSupport) and C(enableDnsHostnames) on the VPC).
      - When omitted, an existing endpoint is left as it is; AWS enables it on a new endpoint.
      - Only for O(vpc_endpoint_type=Interface).
    type: bool
  match_tags:
    description:
      - Tags that are part of the endpoint's identity, with O(vpc_id), O(service) and
        O(vpc_endpoint_type). Only an endpoint carrying all of them is found, reconciled or deleted,
        so that a VPC can hold several gateway endpoints of one service, each on its own route tables
        (AWS allows one endpoint of a service per route table).
      - Each key must also be in O(tags) with the same value, so that the endpoint it creates is the
        one it finds next time.
      - When omitted, the one endpoint of the VPC, service and type is managed, whatever its tags.
    type: dict
  state:
    description:
      - V(present) creates or reconciles the endpoint; V(absent) deletes it (an endpoint that does not
        exist is not a change).
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the endpoint is C(available) after a create or change (C(pendingAcceptance),
        C(partial), C(failed), C(rejected) and C(expired) end the wait; the last three fail the task),
        or C(deleted) after a delete.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait when O(wait=true).
    type: int
    default: 320
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Least privilege for this module - C(ec2:DescribeVpcEndpoints), C(ec2:CreateVpcEndpoint),
    C(ec2:ModifyVpcEndpoint), C(ec2:DeleteVpcEndpoints), C(ec2:CreateTags), C(ec2:DeleteTags); a
    gateway endpoint also needs C(ec2:CreateRoute)/C(ec2:DeleteRoute) on its route tables, and an
    interface endpoint with private DNS needs C(route53:AssociateVPCWithHostedZone).
author:
  - secure_sagemaker.notebooks contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: S3 gateway endpoint on the private subnets' route tables, read-only on one prefix
  secure_sagemaker.notebooks.vpc_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: s3
    route_table_ids:
      - rtb-0123456789abcdef0
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: s3:GetObject
          Resource: arn:aws:s3:::my-bucket/lifecycle-configurations/*
    tags:
      Name: notebooks-s3

- name: SageMaker API interface endpoint with private DNS
  secure_sagemaker.notebooks.vpc_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: sagemaker.api
    vpc_endpoint_type: Interface
    subnet_ids:
      - subnet-0123456789abcdef0
    security_group_ids:
      - sg-0123456789abcdef0
    private_dns_enabled: true
    policy: "{{ lookup('ansible.builtin.template', 'sagemaker-endpoint-policy.json.j2') }}"

- name: Remove the gateway endpoint
  secure_sagemaker.notebooks.vpc_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: com.amazonaws.us-east-1.s3
    state: absent

- name: One of several S3 gateway endpoints of a VPC, found by its route table's tag
  secure_sagemaker.notebooks.vpc_endpoint:
    vpc_id: vpc-0123456789abcdef0
    service: s3
    route_table_ids:
      - rtb-0123456789abcdef1
    tags:
      isolated-notebook-route-table: rtb-0123456789abcdef1
    match_tags:
      isolated-notebook-route-table: rtb-0123456789abcdef1
"""

RETURN = r"""
vpc_endpoint:
  description:
    - The endpoint after the task (predicted in check mode); empty after O(state=absent).
  returned: always
  type: dict
  contains:
    vpc_endpoint_id:
      description: The endpoint id (null when check mode predicts a creation).
      type: str
      sample: vpce-0123456789abcdef0
    vpc_endpoint_type:
      description: V(Gateway) or V(Interface).
      type: str
    vpc_id:
      description: The VPC id.
      type: str
    service_name:
      description: The full service name.
      type: str
      sample: com.amazonaws.us-east-1.s3
    state:
      description: The endpoint state as AWS reports it, for example C(available) or C(pending).
      type: str
    policy_document:
      description: The endpoint policy, parsed into a dictionary.
      type: dict
    route_table_ids:
      description: Route tables of a gateway endpoint.
      type: list
      elements: str
    subnet_ids:
      description: Subnets of an interface endpoint.
      type: list
      elements: str
    security_group_ids:
      description: Security group ids of an interface endpoint.
      type: list
      elements: str
    groups:
      description: Security groups of an interface endpoint, with their names.
      type: list
      elements: dict
    private_dns_enabled:
      description: Whether private DNS is enabled (interface endpoints).
      type: bool
    network_interface_ids:
      description: Network interfaces of an interface endpoint.
      type: list
      elements: str
    dns_entries:
      description: DNS names of an interface endpoint.
      type: list
      elements: dict
    creation_timestamp:
      description: When the endpoint was created (ISO 8601).
      type: str
    owner_id:
      description: The account that owns the endpoint.
      type: str
    tags:
      description: The endpoint's tags.
      type: dict
    prefix_list_id:
      description:
        - The AWS-managed prefix list of the service, for security group rules that allow traffic
          to it through a gateway endpoint (C(ip_prefix) in M(amazon.aws.ec2_security_group)).
      returned: when O(vpc_endpoint_type=Gateway) and O(state=present)
      type: str
      sample: pl-63a5400a
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import client, run
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import (
    ensure_absent,
    ensure_present,
    validate,
    with_prefix_list,
)


def run_module(module):
    spec = validate(module.params, module.region)
    ec2 = client(module, "ec2")
    if spec["state"] == "absent":
        return ensure_absent(ec2, spec, check_mode=module.check_mode)
    return with_prefix_list(ec2, spec, ensure_present(ec2, spec, check_mode=module.check_mode))


def main():
    argument_spec = dict(
        vpc_id=dict(type="str", required=True),
        service=dict(type="str", required=True),
        vpc_endpoint_type=dict(type="str", choices=["Gateway", "Interface"], default="Gateway"),
        policy=dict(type="json"),
        route_table_ids=dict(type="list", elements="str"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        private_dns_enabled=dict(type="bool"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        match_tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=320),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, run_module)


if __name__ == "__main__":
    main()
