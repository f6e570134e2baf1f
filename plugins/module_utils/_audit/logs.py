# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can a notebook's lifecycle output reach CloudWatch Logs?  Over already-fetched API data: the VPC's
endpoints, the security groups, the endpoint policy and the execution role's policies.  No AWS.

SageMaker writes the output of the lifecycle hooks to the log group /aws/sagemaker/NotebookInstances,
stream <notebook>/LifecycleConfigOnStart (and .../LifecycleConfigOnCreate), with the notebook's
execution role ("CreateNotebookInstance API: Execution Role Permissions" lists the logs calls).  A
notebook without a route out of its VPC reaches CloudWatch Logs only through an interface endpoint for
com.amazonaws.<region>.logs whose private DNS name answers logs.<region>.amazonaws.com in the VPC.

What is judged, and what is given the benefit of the doubt (so that a finding means "blocked", not
"not proven"): an Allow with a Condition counts as allowing and a Deny with one as not denying; an
egress rule to an IPv4/IPv6 range counts as reaching the endpoint (its addresses are not read); an
ingress rule from a range counts when the range overlaps the notebook's subnet; a prefix list never
counts (the S3 prefix list is not the endpoint).  Permission boundaries and organization policies
are not read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import ipaddress

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn as arns
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.findings import check_failed, finding
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.policy import (
    as_list,
    parse_document,
    statements,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import (
    FAILED_STATES,
    GONE_STATES,
    is_service,
)

HTTPS = 443
# The writes that must go through for the output to arrive (the group-level calls matter only on a
# fresh account, where the group may not exist yet).
WRITES = ("logs:CreateLogStream", "logs:PutLogEvents")
HOOKS = (("OnCreate", "LifecycleConfigOnCreate"), ("OnStart", "LifecycleConfigOnStart"))


def logs_endpoints(endpoints):
    """The VPC's CloudWatch Logs interface endpoints that are not gone or failed."""
    return [
        e
        for e in endpoints or []
        if is_service(e, "logs", "Interface") and str(e.get("State", "")).lower() not in GONE_STATES + FAILED_STATES
    ]


def stream_arns(notebook, config, region):
    """ARNs of the log streams the notebook's lifecycle hooks write: the hooks its configuration has
    (both when the configuration could not be read)."""
    name = notebook["NotebookInstanceName"]
    parsed = arns.parse(notebook.get("NotebookInstanceArn")) or arns.parse(notebook.get("RoleArn"))
    partition, _service, found_region, account, _resource = parsed or (arns.partition_of(region), "", "", "", "")
    group = "arn:%s:logs:%s:%s:log-group:%s" % (partition, found_region or region, account, arns.LIFECYCLE_LOG_GROUP)
    readable = config is not None and not config.get("error")
    hooks = [stream for key, stream in HOOKS if not readable or config.get(key)]
    return account, ["%s:log-stream:%s/%s" % (group, name, hook) for hook in hooks]


def _matches(patterns, value, case_sensitive=True):
    if case_sensitive:
        return any(fnmatch.fnmatchcase(value, str(p)) for p in patterns)
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in patterns)


def _covers(statement, action, resource):
    if "NotAction" in statement:
        if _matches(as_list(statement["NotAction"]), action, case_sensitive=False):
            return False
    elif not _matches(as_list(statement.get("Action")), action, case_sensitive=False):
        return False
    if "NotResource" in statement:
        return not _matches(as_list(statement["NotResource"]), resource)
    return "Resource" not in statement or _matches(as_list(statement["Resource"]), resource)


def _principal_covers(principal, account, role_arn):
    """Whether an endpoint-policy Principal covers the notebook's role (a missing one: as AWS's default)."""
    if principal is None or principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in as_list(principal.get("AWS")):
        value = str(value)
        if value == "*" or value == account or value.endswith(":iam::%s:root" % account):
            return True
        if role_arn and fnmatch.fnmatchcase(role_arn, value):
            return True
    return False


def allowed(documents, action, resource, account=None, role_arn=None, endpoint=False):
    """Whether ``documents`` together allow ``action`` on ``resource``: some Allow covers it and no
    unconditional Deny does.  ``endpoint``: the documents are an endpoint policy (None is AWS's default,
    full access), and statements count only for a Principal covering ``role_arn``."""
    allow = False
    for document in documents:
        if document is None:
            allow = allow or endpoint
            continue
        for statement in statements(document):
            if not _covers(statement, action, resource):
                continue
            if endpoint and not _principal_covers(statement.get("Principal"), account, role_arn):
                continue
            effect = str(statement.get("Effect", "")).lower()
            if effect == "deny" and not statement.get("Condition"):
                return False
            if effect == "allow":
                allow = True
    return allow


def _denied(streams, documents, **context):
    """[{action, resource}] of the writes to ``streams`` that ``documents`` do not allow."""
    return [
        {"action": action, "resource": stream}
        for stream in streams
        for action in WRITES
        if not allowed(documents, action, stream, **context)
    ]


def _rule_admits(rule, peer_groups, peer_cidr=None):
    """Whether a security group rule (DescribeSecurityGroups IpPermission) admits TCP 443 to or from
    the peer: one of ``peer_groups``, or (``peer_cidr`` None: any) addresses in ``peer_cidr``."""
    protocol = str(rule.get("IpProtocol"))
    if protocol not in ("-1", "tcp", "6"):
        return False
    if protocol != "-1" and not (rule.get("FromPort", 0) <= HTTPS <= rule.get("ToPort", -1)):
        return False
    if any(pair.get("GroupId") in peer_groups for pair in rule.get("UserIdGroupPairs") or []):
        return True
    ranges = [r.get("CidrIp") for r in rule.get("IpRanges") or []]
    ranges += [r.get("CidrIpv6") for r in rule.get("Ipv6Ranges") or []]
    for cidr in filter(None, ranges):
        if peer_cidr is None:
            return True
        try:
            if ipaddress.ip_network(cidr, strict=False).overlaps(ipaddress.ip_network(peer_cidr, strict=False)):
                return True
        except (TypeError, ValueError):
            continue
    return False


def _admits(groups, group_ids, direction, peer_groups, peer_cidr=None):
    key = "IpPermissionsEgress" if direction == "egress" else "IpPermissions"
    return any(
        _rule_admits(rule, peer_groups, peer_cidr)
        for group_id in group_ids
        for rule in (groups.get(group_id) or {}).get(key) or []
    )


def _listed(denied):
    """The denied writes, as a finding's text names them."""
    return ", ".join("%s on %s" % (d["action"], d["resource"]) for d in denied)


def check_lifecycle_logs(notebook, subnet, endpoints, security_groups, config, role, region):
    """Findings for a notebook whose lifecycle output cannot reach CloudWatch Logs.

    ``subnet``: DescribeSubnets shape; ``endpoints``: the VPC's (DescribeVpcEndpoints shape);
    ``security_groups``: {"groups": {id: DescribeSecurityGroups item}} or {"error", "operation"};
    ``config``: the lifecycle configuration (None: not found); ``role``: ``ResourceCache.role``'s data.
    """
    name = notebook["NotebookInstanceName"]
    vpc_id = subnet["VpcId"]
    account, streams = stream_arns(notebook, config, region)
    candidates = logs_endpoints(endpoints)
    with_dns = [e for e in candidates if e.get("PrivateDnsEnabled")]
    if not with_dns:
        reason = "its private DNS is off" if candidates else "there is none"
        return [
            finding(
                "lifecycle-logs-endpoint-missing",
                vpc_id,
                "%s: VPC %s has no CloudWatch Logs interface endpoint with private DNS (%s)" % (name, vpc_id, reason),
                {
                    "vpc_id": vpc_id,
                    "service_name": "com.amazonaws.%s.logs" % region,
                    "endpoints_without_private_dns": sorted(e["VpcEndpointId"] for e in candidates),
                },
            )
        ]
    endpoint = with_dns[0]  # one endpoint per service and VPC can hold the private DNS name
    endpoint_id = endpoint["VpcEndpointId"]
    found = []
    if security_groups.get("error"):
        found.append(check_failed("logs", endpoint_id, security_groups["operation"], security_groups["error"]))
    else:
        groups = security_groups.get("groups") or {}
        notebook_groups = sorted(as_list(notebook.get("SecurityGroups")))
        endpoint_groups = sorted(g["GroupId"] for g in endpoint.get("Groups") or [])
        blocked = []
        if not _admits(groups, notebook_groups, "egress", endpoint_groups):
            blocked.append("egress")
        if not _admits(groups, endpoint_groups, "ingress", notebook_groups, subnet.get("CidrBlock")):
            blocked.append("ingress")
        if blocked:
            why = {"egress": "no egress from the notebook's security groups", "ingress": "no ingress on the endpoint's"}
            found.append(
                finding(
                    "lifecycle-logs-blocked",
                    endpoint_id,
                    "%s: HTTPS to CloudWatch Logs endpoint %s is not admitted (%s)"
                    % (name, endpoint_id, "; ".join(why[d] for d in blocked)),
                    {
                        "vpc_endpoint_id": endpoint_id,
                        "notebook_security_groups": notebook_groups,
                        "endpoint_security_groups": endpoint_groups,
                        "blocked": blocked,
                    },
                )
            )
    role_arn = notebook.get("RoleArn")
    policy = parse_document(endpoint.get("PolicyDocument"))
    denied = _denied(streams, [policy], account=account, role_arn=role_arn, endpoint=True)
    if denied:
        found.append(
            finding(
                "lifecycle-logs-endpoint-policy",
                endpoint_id,
                "%s: the policy of CloudWatch Logs endpoint %s does not allow %s"
                % (name, endpoint_id, _listed(denied)),
                {"vpc_endpoint_id": endpoint_id, "denied": denied},
            )
        )
    if role and not role.get("error"):
        documents = [p.get("document") for p in role.get("policies", []) if p.get("document") is not None]
        denied = _denied(streams, documents)
        if denied:
            found.append(
                finding(
                    "lifecycle-logs-role-denied",
                    role_arn,
                    "%s: execution role %s may not %s" % (name, role_arn, _listed(denied)),
                    {"role": role_arn, "denied": denied},
                )
            )
    return found
