# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VPC endpoint per VPC, service and type, reconciled in place.

amazon.aws.ec2_vpc_endpoint identifies an endpoint by VPC, service and the exact route-table set,
so a changed route-table set creates a second endpoint and a changed policy is never applied.
Here the identity is (VPC, service, type) and everything else is reconciled on that one endpoint
with ModifyVpcEndpoint.

Layout: ``validate()`` checks and normalises the options before any AWS call; ``plan()`` and
``predict()`` are pure (current endpoint + wanted spec -> changes -> resulting endpoint);
``ensure_present()`` / ``ensure_absent()`` take a boto3 EC2 client and do the calls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    NOT_FOUND_GRACE,
    NotebooksError,
    describe_or_none,
    pages,
    snake,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.waiter import poll

# AWS resource ids: prefix, then 8 (older resources) or 17 lower-case hex digits.
ID_PATTERNS = {
    "vpc_id": ("vpc", re.compile(r"^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$")),
    "route_table_ids": ("rtb", re.compile(r"^rtb-[0-9a-f]{8}(?:[0-9a-f]{9})?$")),
    "subnet_ids": ("subnet", re.compile(r"^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$")),
    "security_group_ids": ("sg", re.compile(r"^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$")),
}
# A full service name (com.amazonaws.us-east-1.s3, aws.sagemaker.us-east-1.notebook,
# com.amazonaws.vpce.us-east-1.vpce-svc-...) or a short one (s3, sagemaker.api, ecr.dkr).
SERVICE_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$")
FULL_SERVICE_PREFIXES = ("com.amazonaws.", "aws.", "cn.com.amazonaws.")
TYPES = ("Gateway", "Interface")
# Options that only one endpoint type takes (AWS: RouteTableIds are for gateway endpoints,
# SubnetIds, SecurityGroupIds and PrivateDnsEnabled for interface endpoints).
ONLY_FOR = {
    "route_table_ids": "Gateway",
    "subnet_ids": "Interface",
    "security_group_ids": "Interface",
    "private_dns_enabled": "Interface",
}
# What AWS attaches when CreateVpcEndpoint gets no PolicyDocument (full access).  ResetPolicy is
# not used to go back to it: sending this document has the same effect and is observable.
DEFAULT_POLICY = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
# Endpoint states (botocore's ``State`` enum), compared in lower case (the API model spells them
# Available, responses available).  The one list of them: the audit and the role's filters ask here.
# In these an endpoint no longer exists for our purposes (AWS lists deleted endpoints for a while).
GONE_STATES = ("deleting", "deleted")
# In these an endpoint exists but carries no traffic, and never will without someone acting.
FAILED_STATES = ("failed", "rejected", "expired")
# In these, waiting for "available" cannot succeed without someone else acting.
STUCK_STATES = ("pendingacceptance", "partial") + FAILED_STATES


def _fail(field, rule, value):
    raise NotebooksError("%s: %s (got %r)" % (field, rule, value), field=field)


def state(endpoint):
    return (endpoint.get("State") or "").lower()


def serving(endpoint):
    """Whether an endpoint exists and can carry traffic (not gone, not failed)."""
    return state(endpoint) not in GONE_STATES + FAILED_STATES


def is_service(endpoint, service, kind):
    """Whether a live endpoint (DescribeVpcEndpoints shape) is of the short ``service`` (``s3``,
    ``sagemaker.api``) in any region and of type ``kind``."""
    return (
        endpoint_type(endpoint) == kind
        and (endpoint.get("ServiceName") or "").endswith("." + service)
        and serving(endpoint)
    )


def endpoint_type(endpoint):
    """AWS always reports the type; an endpoint created without one is a gateway endpoint."""
    value = endpoint.get("VpcEndpointType") or "Gateway"
    return {"gateway": "Gateway", "interface": "Interface"}.get(value.lower(), value)


# AWS names its endpoint services <prefix>.<region>.<service>, and the prefix is not fixed: in the
# China regions most interface services are cn.com.amazonaws.<region>.<service> (sagemaker.api among
# them) while the S3 gateway stays com.amazonaws.<region>.s3, and no AWS document lists which.  So a
# short name is never expanded by rule: it is looked up in DescribeVpcEndpointServices, which the VPC
# User Guide names as the way to find a service's name ("AWS services that integrate with AWS
# PrivateLink"), among these candidates in this order.
SERVICE_NAME_PREFIXES = ("com.amazonaws", "cn.com.amazonaws")


def service_names(service, region):
    """The names a short ``service`` (``s3``, ``sagemaker.api``) may have in ``region``; a full name
    is its own only candidate."""
    if service.startswith(FULL_SERVICE_PREFIXES):
        return [service]
    if not region:
        raise NotebooksError(
            "service: the short name %r needs a region to find its name (com.amazonaws.<region>.%s or "
            "cn.com.amazonaws.<region>.%s); set region or give the full service name" % (service, service, service),
            field="service",
        )
    return ["%s.%s.%s" % (prefix, region, service) for prefix in SERVICE_NAME_PREFIXES]


def _field(detail, camel, snake_name):
    """A ServiceDetail field from the API (CamelCase) or from ec2_vpc_endpoint_service_info (snake_case)."""
    return detail.get(camel, detail.get(snake_name))


def service_types(detail):
    return [_field(t, "ServiceType", "service_type") for t in _field(detail, "ServiceType", "service_type") or []]


def pick_service(details, service, region, kind):
    """The ServiceDetail, among DescribeVpcEndpointServices' ``details``, of the short or full
    ``service`` offered as a ``kind`` endpoint (the first candidate name that is); None when none is.
    AWS lists a service once per type (S3 has a Gateway and an Interface entry of one name)."""
    offered = dict((_field(d, "ServiceName", "service_name"), d) for d in details or [] if kind in service_types(d))
    for name in service_names(service, region):
        if name in offered:
            return offered[name]
    return None


def unsupported_zones(detail, zones):
    """The zones of ``zones`` where the service of ``detail`` is not offered (AWS: "Service not
    supported in this Availability Zone"; CreateVpcEndpoint refuses such a subnet)."""
    offered = _field(detail or {}, "AvailabilityZones", "availability_zones")
    if offered is None:  # no list reported: nothing to judge by
        return []
    return sorted(set(zones) - set(offered))


def not_offered_error(service, region, kind):
    return NotebooksError(
        "service: EC2 offers no %s endpoint service named %s in %s (DescribeVpcEndpointServices); check the "
        "service name, the endpoint type and the region" % (kind, " or ".join(service_names(service, region)), region),
        field="service",
    )


def resolve_service(ec2, service, region, kind, subnet_ids=None):
    """The name EC2 offers for the short or full ``service`` as a ``kind`` endpoint (looked up in
    DescribeVpcEndpointServices before anything is created), after checking that every subnet of
    ``subnet_ids`` is in a zone the service is offered in.  Raises NotebooksError naming the field."""
    if service.startswith(FULL_SERVICE_PREFIXES):
        # A full name: asked for by name (InvalidServiceName when EC2 does not know it).
        response = describe_or_none(
            ec2.describe_vpc_endpoint_services, missing=("InvalidServiceName",), ServiceNames=[service]
        )
        details = (response or {}).get("ServiceDetails") or []
    else:
        by_type = [{"Name": "service-type", "Values": [kind]}]
        details = pages(ec2, "describe_vpc_endpoint_services", "ServiceDetails", Filters=by_type)
    detail = pick_service(details, service, region, kind)
    if detail is None:
        raise not_offered_error(service, region, kind)
    name = _field(detail, "ServiceName", "service_name")
    if kind == "Interface" and subnet_ids:
        subnets = pages(ec2, "describe_subnets", "Subnets", SubnetIds=list(subnet_ids))
        zones = dict((s["SubnetId"], s.get("AvailabilityZone")) for s in subnets)
        missing = unsupported_zones(detail, zones.values())
        if missing:
            raise NotebooksError(
                "subnet_ids: %s offers no endpoint in %s, the zone of %s; choose a subnet in one of %s "
                "(DescribeVpcEndpointServices AvailabilityZones). Nothing was changed"
                % (
                    name,
                    ", ".join(missing),
                    ", ".join(sorted(s for s, z in zones.items() if z in missing)),
                    ", ".join(_field(detail, "AvailabilityZones", "availability_zones")),
                ),
                field="subnet_ids",
            )
    return name


def parse_policy(policy, field="policy"):
    """A policy given as JSON text or a dict -> dict; raise naming ``field`` when it is not one."""
    if isinstance(policy, dict):
        document = policy
    else:
        try:
            document = json.loads(policy)
        except (TypeError, ValueError) as e:
            msg = "%s: must be a JSON policy document; it does not parse: %s" % (field, e)
            raise NotebooksError(msg, field=field) from None
    if not isinstance(document, dict):
        _fail(field, "must be a JSON object (a policy document), not %s" % type(document).__name__, policy)
    if not document.get("Statement"):
        _fail(field, "a policy document needs a non-empty Statement", policy)
    return document


def _unique(values):
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def validate(params, region):
    """Check the module options before any AWS call; return the normalised spec.

    Raises NotebooksError naming the field and the rule it breaks.
    """
    spec = dict(params)
    kind = params.get("vpc_endpoint_type") or "Gateway"
    if kind not in TYPES:
        _fail("vpc_endpoint_type", "must be one of %s" % ", ".join(TYPES), kind)
    spec["vpc_endpoint_type"] = kind

    vpc_id = params.get("vpc_id")
    if not vpc_id or not ID_PATTERNS["vpc_id"][1].match(vpc_id):
        _fail("vpc_id", "must be a VPC id: vpc- followed by 8 or 17 lower-case hex digits", vpc_id)

    service = params.get("service")
    if not service or not SERVICE_PATTERN.match(service) or len(service) > 255:
        _fail(
            "service",
            "must be a service name like com.amazonaws.<region>.s3 or a short name like s3 or sagemaker.api "
            "(lower-case letters, digits, '.', '-', '_')",
            service,
        )
    # Resolved to the name EC2 offers by resolve_service() before a create; until then, the first candidate.
    spec["service_names"] = service_names(service, region)
    spec["service_given"] = service
    spec["service"] = spec["service_names"][0]
    spec["region"] = region

    for field in ("route_table_ids", "subnet_ids", "security_group_ids"):
        values = params.get(field)
        if values is None:
            continue
        prefix, pattern = ID_PATTERNS[field]
        for value in values:
            if not isinstance(value, str) or not pattern.match(value):
                _fail(
                    field, "every element must be an id: %s- followed by 8 or 17 lower-case hex digits" % prefix, value
                )
        spec[field] = _unique(values)

    for field, only in ONLY_FOR.items():
        if params.get(field) is not None and kind != only:
            _fail(
                field,
                "applies only to vpc_endpoint_type=%s endpoints; this one is %s" % (only, kind),
                params.get(field),
            )

    if params.get("policy") is not None:
        spec["policy"] = parse_policy(params["policy"])

    match = params.get("match_tags") or {}
    for key, value in match.items():
        if not isinstance(value, str) or not value:
            _fail("match_tags", "every value must be a non-empty string (the tag's value)", {key: value})
        if spec.get("tags") is not None and spec["tags"].get(key) != value:
            _fail("match_tags", "each key must be in tags with the same value, so that the endpoint it creates "
                  "is the one it finds next time", {key: value})  # fmt: skip
    spec["match_tags"] = dict(match)

    timeout = params.get("wait_timeout")
    if timeout is not None and timeout < 1:
        _fail("wait_timeout", "must be at least 1 second", timeout)
    return spec


# --- reading ---------------------------------------------------------------------------------------


def find_endpoints(ec2, vpc_id, service, wanted_type, match_tags=None):
    """Every live endpoint of this VPC, service (a name or a list of candidate names) and type that
    carries ``match_tags`` (normally zero or one)."""
    names = [service] if isinstance(service, str) else list(service)
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "service-name", "Values": names}]
    filters += [{"Name": "tag:%s" % key, "Values": [value]} for key, value in sorted((match_tags or {}).items())]
    found = pages(ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=filters)
    return [
        e
        for e in found
        if endpoint_type(e) == wanted_type
        and e.get("VpcId") == vpc_id
        and e.get("ServiceName") in names
        and state(e) not in GONE_STATES
        and all(boto3_tag_list_to_ansible_dict(e.get("Tags") or []).get(k) == v for k, v in (match_tags or {}).items())
    ]


def describe_endpoint(ec2, endpoint_id):
    """The endpoint, or None once AWS no longer knows it."""
    found = describe_or_none(
        ec2.describe_vpc_endpoints, missing=("InvalidVpcEndpointId.NotFound",), VpcEndpointIds=[endpoint_id]
    )
    return ((found or {}).get("VpcEndpoints") or [None])[0]


def current_policy(endpoint):
    document = endpoint.get("PolicyDocument")
    if not document:
        return None
    if isinstance(document, dict):
        return document
    try:
        return json.loads(document)
    except ValueError:
        return document  # compared as text: it will differ from any wanted document


def security_group_ids(endpoint):
    return [g["GroupId"] for g in endpoint.get("Groups") or []]


def normalize(endpoint):
    """API shape -> the module's snake_case result (policy as a dict, tags as a dict)."""
    if not endpoint:
        return {}
    result = snake(dict((k, v) for k, v in endpoint.items() if k not in ("PolicyDocument", "Tags")))
    result["vpc_endpoint_type"] = endpoint_type(endpoint)
    result["policy_document"] = current_policy(endpoint)
    result["tags"] = boto3_tag_list_to_ansible_dict(endpoint.get("Tags") or [])
    result["security_group_ids"] = security_group_ids(endpoint)
    for key in ("route_table_ids", "subnet_ids"):
        result.setdefault(key, [])
    if "creation_timestamp" in result and not isinstance(result["creation_timestamp"], str):
        result["creation_timestamp"] = result["creation_timestamp"].isoformat()
    return result


def view(endpoint):
    """What diff mode shows: the attributes this module manages, for this endpoint's type."""
    if not endpoint:
        return {}
    result = {
        "vpc_endpoint_type": endpoint_type(endpoint),
        "policy": current_policy(endpoint),
        "tags": boto3_tag_list_to_ansible_dict(endpoint.get("Tags") or []),
    }
    if result["vpc_endpoint_type"] == "Gateway":
        result["route_table_ids"] = sorted(endpoint.get("RouteTableIds") or [])
    else:
        result["subnet_ids"] = sorted(endpoint.get("SubnetIds") or [])
        result["security_group_ids"] = sorted(security_group_ids(endpoint))
        result["private_dns_enabled"] = endpoint.get("PrivateDnsEnabled")
    return result


# --- planning (pure) ---------------------------------------------------------------------------------


def _set_change(current, wanted):
    """(to_add, to_remove), each sorted; wanted None means leave the set alone."""
    if wanted is None:
        return [], []
    return sorted(set(wanted) - set(current)), sorted(set(current) - set(wanted))


def plan(endpoint, spec):
    """What ModifyVpcEndpoint and the tag calls must do to bring ``endpoint`` to ``spec``.

    Returns a dict with only the changes needed: ``modify`` (ModifyVpcEndpoint keyword arguments
    without the id), ``tags_set`` (dict) and ``tags_unset`` (list).  Empty values mean nothing to do.
    """
    modify = {}
    wanted_policy = spec.get("policy")
    if wanted_policy is not None and compare_policies(current_policy(endpoint), wanted_policy):
        modify["PolicyDocument"] = json.dumps(wanted_policy, sort_keys=True)

    pairs = (
        ("route_table_ids", endpoint.get("RouteTableIds") or [], "RouteTableIds"),
        ("subnet_ids", endpoint.get("SubnetIds") or [], "SubnetIds"),
        ("security_group_ids", security_group_ids(endpoint), "SecurityGroupIds"),
    )
    for field, current, api in pairs:
        to_add, to_remove = _set_change(current, spec.get(field))
        if to_add:
            modify["Add" + api] = to_add
        if to_remove:
            modify["Remove" + api] = to_remove

    wanted_dns = spec.get("private_dns_enabled")
    if wanted_dns is not None and bool(endpoint.get("PrivateDnsEnabled")) != wanted_dns:
        modify["PrivateDnsEnabled"] = wanted_dns

    tags_set, tags_unset = {}, []
    if spec.get("tags") is not None:
        current_tags = boto3_tag_list_to_ansible_dict(endpoint.get("Tags") or [])
        tags_set, tags_unset = compare_aws_tags(current_tags, spec["tags"], purge_tags=spec.get("purge_tags", True))
    return {"modify": modify, "tags_set": tags_set, "tags_unset": sorted(tags_unset)}


def has_changes(changes):
    return bool(changes["modify"] or changes["tags_set"] or changes["tags_unset"])


def predict(endpoint, changes):
    """The endpoint as it will be once ``changes`` are applied (check mode reports this)."""
    result = dict(endpoint)
    modify = changes["modify"]
    if "PolicyDocument" in modify:
        result["PolicyDocument"] = modify["PolicyDocument"]
    for api, key in (("RouteTableIds", "RouteTableIds"), ("SubnetIds", "SubnetIds")):
        current = list(endpoint.get(key) or [])
        removed = set(modify.get("Remove" + api, []))
        result[key] = [v for v in current if v not in removed] + modify.get("Add" + api, [])
    if "AddSecurityGroupIds" in modify or "RemoveSecurityGroupIds" in modify:
        removed = set(modify.get("RemoveSecurityGroupIds", []))
        groups = [g for g in endpoint.get("Groups") or [] if g["GroupId"] not in removed]
        result["Groups"] = groups + [{"GroupId": g} for g in modify.get("AddSecurityGroupIds", [])]
    if "PrivateDnsEnabled" in modify:
        result["PrivateDnsEnabled"] = modify["PrivateDnsEnabled"]
    if changes["tags_set"] or changes["tags_unset"]:
        tags = boto3_tag_list_to_ansible_dict(endpoint.get("Tags") or [])
        for key in changes["tags_unset"]:
            tags.pop(key, None)
        tags.update(changes["tags_set"])
        result["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return result


def create_request(spec):
    """CreateVpcEndpoint keyword arguments for ``spec``."""
    request = {
        "VpcId": spec["vpc_id"],
        "ServiceName": spec["service"],
        # Always explicit: AWS defaults to Gateway, but an explicit type is what describe reports back.
        "VpcEndpointType": spec["vpc_endpoint_type"],
    }
    if spec.get("policy") is not None:
        request["PolicyDocument"] = json.dumps(spec["policy"], sort_keys=True)
    if spec["vpc_endpoint_type"] == "Gateway":
        request["RouteTableIds"] = list(spec.get("route_table_ids") or [])
    else:
        if spec.get("subnet_ids"):
            request["SubnetIds"] = list(spec["subnet_ids"])
        if spec.get("security_group_ids"):
            request["SecurityGroupIds"] = list(spec["security_group_ids"])
        if spec.get("private_dns_enabled") is not None:
            request["PrivateDnsEnabled"] = spec["private_dns_enabled"]
    if spec.get("tags"):
        request["TagSpecifications"] = [
            {"ResourceType": "vpc-endpoint", "Tags": ansible_dict_to_boto3_tag_list(spec["tags"])}
        ]
    return request


def predict_created(spec):
    """The endpoint CreateVpcEndpoint will make (check mode): AWS defaults where options are omitted.

    Not predicted: the id, and the VPC's default security group that AWS gives an interface
    endpoint created without security_group_ids.
    """
    request = create_request(spec)
    endpoint = {
        "VpcEndpointId": None,
        "VpcEndpointType": spec["vpc_endpoint_type"],
        "VpcId": spec["vpc_id"],
        "ServiceName": spec["service"],
        "State": "pending" if spec["vpc_endpoint_type"] == "Interface" else "available",
        "PolicyDocument": request.get("PolicyDocument") or json.dumps(DEFAULT_POLICY),
        "RouteTableIds": request.get("RouteTableIds", []),
        "SubnetIds": request.get("SubnetIds", []),
        "Groups": [{"GroupId": g} for g in request.get("SecurityGroupIds", [])],
        "Tags": ansible_dict_to_boto3_tag_list(spec.get("tags") or {}),
    }
    if spec["vpc_endpoint_type"] == "Interface":
        # AWS: PrivateDnsEnabled defaults to true for AWS services.
        endpoint["PrivateDnsEnabled"] = request.get("PrivateDnsEnabled", True)
    return endpoint


# --- doing -----------------------------------------------------------------------------------------


def find(ec2, spec):
    return find_endpoints(ec2, spec["vpc_id"], spec["service_names"], spec["vpc_endpoint_type"], spec.get("match_tags"))


def _single(endpoints, spec):
    if len(endpoints) > 1:
        ids = sorted(e["VpcEndpointId"] for e in endpoints)
        raise NotebooksError(
            "%d %s endpoints for %s exist in %s (%s); expected at most one. Delete the duplicates "
            "(for example the ones amazon.aws.ec2_vpc_endpoint created) and run again; this module does "
            "not guess which one to keep"
            % (len(ids), spec["vpc_endpoint_type"], spec["service"], spec["vpc_id"], ", ".join(ids)),
            vpc_endpoint_ids=ids,
        )
    return endpoints[0] if endpoints else None


def wait_available(ec2, endpoint_id, timeout, sleep=None, missing_grace=0.0, clock=time.monotonic):
    """Wait for ``available``; ``missing_grace``: seconds during which "not found" means "not visible
    yet" - the EC2 API is eventually consistent, and an endpoint just created may not be found at once
    (EC2 API reference, "Eventual consistency")."""
    kwargs = {"sleep": sleep} if sleep else {}
    started = clock()
    endpoint = poll(
        lambda: describe_endpoint(ec2, endpoint_id),
        lambda e: (
            (e is None and clock() - started >= missing_grace)
            or (e is not None and state(e) in ("available",) + STUCK_STATES)
        ),
        timeout,
        "VPC endpoint %s to be available" % endpoint_id,
        clock=clock,
        **kwargs,
    )
    if endpoint is None:
        raise NotebooksError(
            "VPC endpoint %s disappeared while waiting for it to be available%s"
            % (endpoint_id, " (not found for %ds after its creation)" % missing_grace if missing_grace else "")
        )
    if state(endpoint) in FAILED_STATES:
        raise NotebooksError(
            "VPC endpoint %s is %s" % (endpoint_id, endpoint.get("State")), vpc_endpoint=normalize(endpoint)
        )
    return endpoint


def wait_deleted(ec2, endpoint_id, timeout, sleep=None):
    kwargs = {"sleep": sleep} if sleep else {}
    poll(
        lambda: describe_endpoint(ec2, endpoint_id),
        lambda e: e is None or state(e) == "deleted",
        timeout,
        "VPC endpoint %s to be deleted" % endpoint_id,
        **kwargs,
    )


def _result(changed, before, after):
    return {
        "changed": changed,
        "vpc_endpoint": normalize(after),
        "diff": {"before": view(before), "after": view(after)},
    }


def ensure_present(ec2, spec, check_mode=False, sleep=None):
    """Create or reconcile the one endpoint of ``spec``; return the module result."""
    endpoint = _single(find(ec2, spec), spec)
    if endpoint is None:
        kind = spec["vpc_endpoint_type"]
        service = resolve_service(ec2, spec["service_given"], spec["region"], kind, spec.get("subnet_ids"))
        spec = dict(spec, service=service)
        if check_mode:
            return _result(True, None, predict_created(spec))
        request = create_request(spec)
        endpoint = ec2.create_vpc_endpoint(aws_retry=True, **request)["VpcEndpoint"]
        if spec.get("wait"):
            endpoint = wait_available(
                ec2, endpoint["VpcEndpointId"], spec["wait_timeout"], sleep=sleep, missing_grace=NOT_FOUND_GRACE
            )
        else:
            endpoint = describe_endpoint(ec2, endpoint["VpcEndpointId"]) or endpoint
        return _result(True, None, endpoint)

    changes = plan(endpoint, spec)
    if not has_changes(changes):
        return _result(False, endpoint, endpoint)
    if changes["modify"].get("AddSubnetIds"):  # the zones of the subnets added
        resolve_service(ec2, endpoint["ServiceName"], spec["region"], "Interface", changes["modify"]["AddSubnetIds"])
    if check_mode:
        return _result(True, endpoint, predict(endpoint, changes))

    endpoint_id = endpoint["VpcEndpointId"]
    if changes["modify"]:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, aws_retry=True, **changes["modify"])
    if changes["tags_unset"]:
        ec2.delete_tags(Resources=[endpoint_id], Tags=[{"Key": k} for k in changes["tags_unset"]], aws_retry=True)
    if changes["tags_set"]:
        ec2.create_tags(
            Resources=[endpoint_id], Tags=ansible_dict_to_boto3_tag_list(changes["tags_set"]), aws_retry=True
        )
    if spec.get("wait"):
        after = wait_available(ec2, endpoint_id, spec["wait_timeout"], sleep=sleep)
    else:
        after = describe_endpoint(ec2, endpoint_id) or predict(endpoint, changes)
    return _result(True, endpoint, after)


def prefix_list_id(ec2, service):
    """The AWS-managed prefix list of a gateway service (e.g. S3): security group rules that
    allow traffic to the service through the endpoint name it.  None when AWS has none."""
    lists = ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [service]}], aws_retry=True).get(
        "PrefixLists", []
    )
    return lists[0]["PrefixListId"] if lists else None


def with_prefix_list(ec2, spec, result):
    """Add ``prefix_list_id`` to a gateway endpoint's result."""
    if spec["vpc_endpoint_type"] == "Gateway" and result.get("vpc_endpoint"):
        service = result["vpc_endpoint"].get("service_name") or spec["service"]
        result["vpc_endpoint"]["prefix_list_id"] = prefix_list_id(ec2, service)
    return result


def ensure_absent(ec2, spec, check_mode=False, sleep=None):
    """Delete the endpoint of ``spec`` if it exists; return the module result."""
    endpoint = _single(find(ec2, spec), spec)
    if endpoint is None:
        return _result(False, None, None)
    if not check_mode:
        endpoint_id = endpoint["VpcEndpointId"]
        response = ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id], aws_retry=True)
        failures = response.get("Unsuccessful") or []
        if failures:
            error = failures[0].get("Error") or {}
            raise NotebooksError(
                "Deleting VPC endpoint %s failed: %s %s" % (endpoint_id, error.get("Code"), error.get("Message")),
                unsuccessful=failures,
            )
        if spec.get("wait"):
            wait_deleted(ec2, endpoint_id, spec["wait_timeout"], sleep=sleep)
    return _result(True, endpoint, None)
