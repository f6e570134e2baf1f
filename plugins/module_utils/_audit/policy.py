# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy-document analysers of the audit: the S3 endpoint policy, the execution role's identity and
trust policies and the script bucket's policy.  Documents in (dicts, JSON or IAM's URL-encoded
JSON), findings out; no AWS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import re

try:
    from urllib.parse import unquote
except ImportError:  # Python 2 (never used: the collection needs Python 3)
    from urllib import unquote

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.findings import finding
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.data_grants import ACCOUNT_RE
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.policies import (
    BUCKET_CONFIGURATION_READS,
    GRANT_ACTIONS,
)

S3_READ_ACTION = re.compile(r"^s3:(get|list)[a-z0-9]*\*?$")
WILDCARD_RESOURCE = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$")


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_document(document):
    """A policy document as a dict, from a dict, JSON text or URL-encoded JSON (IAM's wire form)."""
    if document is None or isinstance(document, dict):
        return document
    text = document
    if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
        text = unquote(text)
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


def statements(document):
    return [s for s in as_list((document or {}).get("Statement")) if isinstance(s, dict)]


def is_wildcard_resource(resource):
    return resource == "*" or bool(WILDCARD_RESOURCE.match(resource or ""))


def _allows(statement):
    return str(statement.get("Effect", "")).lower() == "allow"


def _principal_is_anyone(principal):
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


# The roles at one IAM path, as the collection names the notebooks' own roles (role/<name_prefix>/*).
ROLE_PATH_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)+\*$")


def named_principals(statement):
    """The principal ARNs a statement is narrowed to by aws:PrincipalArn, the form a gateway endpoint
    policy names principals in: exact ARNs (StringEquals, ArnEquals), or the roles at one path
    (ArnLike, StringLike of role/<path>/*); [] for anyone (any other wildcard counts as anyone)."""
    found, patterns = [], []
    for operator in ("StringEquals", "ArnEquals", "ArnLike", "StringLike"):
        keyed = (statement.get("Condition") or {}).get(operator) or {}
        for key, values in keyed.items():
            if key.lower() == "aws:principalarn":
                (patterns if operator.endswith("Like") else found).extend(str(v) for v in as_list(values))
    if any("*" in v or "?" in v for v in found) or any(not ROLE_PATH_PATTERN.match(p) for p in patterns):
        return []
    return sorted(found + patterns)


def names_principal(named, principal):
    """Whether ``principal`` is one of ``named`` (named_principals: ARNs, or role path patterns)."""
    return any(fnmatch.fnmatchcase(principal, n) for n in named)


# The writes a read-write data grant puts in the endpoint policy (policies.GRANT_ACTIONS).
GRANT_WRITES = frozenset(a.lower() for a in GRANT_ACTIONS["read-write"])


def owner_accounts(statement):
    """The accounts a statement holds its buckets to (StringEquals s3:ResourceAccount); [] for any."""
    keyed = (statement.get("Condition") or {}).get("StringEquals") or {}
    return [str(v) for key, values in keyed.items() if key.lower() == "s3:resourceaccount" for v in as_list(values)]


def _named_bucket(resource):
    return (
        ":s3:::" in resource and "/" in resource and not re.search(r"[*?]", resource.split(":::", 1)[1].split("/")[0])
    )


def _granted_write(statement, writes, notebook_roles):
    """A read-write data grant: writes no other than a grant's, on objects under a named bucket held to
    its owner's account (s3:ResourceAccount), for notebook roles of the VPC only (aws:PrincipalArn)."""
    named = named_principals(statement)
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    owners = owner_accounts(statement)
    return (
        bool(named)
        # each named principal a notebook role of the VPC, or a path that holds some of them
        and all(any(fnmatch.fnmatchcase(role, n) for role in notebook_roles) for n in named)
        and all("*" in n or n in notebook_roles for n in named)
        and set(a.lower() for a in writes) <= GRANT_WRITES
        and bool(resources)
        and all(_named_bucket(r) for r in resources)
        and bool(owners)
        and all(ACCOUNT_RE.match(o) for o in owners)
    )


def check_s3_endpoint_policy(document, endpoint_id, route_table_id, notebook_roles=()):
    """S3 gateway endpoint policy: no ``*``/``s3:*`` actions, no ``*`` resources, no writes - but those
    of a read-write data grant to ``notebook_roles`` (the roles of the VPC's audited notebooks)."""
    found = []
    if document is None:
        # AWS never returns an endpoint without a policy; none means the default, full access.
        document = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    for statement in statements(document):
        if not _allows(statement):
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        evidence = {"vpc_endpoint_id": endpoint_id, "route_table_id": route_table_id, "statement": statement}
        everything = (
            "NotAction" in statement
            or "NotResource" in statement
            or any(a in ("*", "s3:*") or a.lower() == "s3:*" for a in actions)
            or any(is_wildcard_resource(r) for r in resources)
        )
        if everything:
            found.append(
                finding(
                    "s3-endpoint-policy-allow-all",
                    endpoint_id,
                    "endpoint %s allows %s on %s"
                    % (endpoint_id, ", ".join(actions) or "NotAction", ", ".join(resources) or "NotResource"),
                    evidence,
                )
            )
            continue
        writes = [a for a in actions if not S3_READ_ACTION.match(a.lower())]
        if writes and not _granted_write(statement, writes, notebook_roles):
            evidence = dict(evidence, write_actions=writes)
            found.append(
                finding(
                    "s3-endpoint-policy-write",
                    endpoint_id,
                    "endpoint %s allows %s" % (endpoint_id, ", ".join(writes)),
                    evidence,
                )
            )
    return found


def check_identity_policy(document, role, source):
    """Execution-role statements broader than the design needs."""
    found = []
    for statement in statements(document):
        if not _allows(statement):
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        any_resource = "NotResource" in statement or any(is_wildcard_resource(r) for r in resources)
        evidence = dict(source, role=role, statement=statement)
        lowered = [a.lower() for a in actions]
        wildcard = [a for a in actions if a == "*" or (a.endswith(":*") and a.lower() != "s3:*")]
        if "NotAction" in statement:
            wildcard.append("NotAction")
        if wildcard:
            found.append(finding("role-wildcard-action", role, "%s allows %s" % (role, ", ".join(wildcard)), evidence))
        if "s3:*" in lowered:
            found.append(finding("role-s3-full-access", role, "%s allows s3:*" % role, evidence))
        passes = "NotAction" in statement or any(fnmatch.fnmatchcase("iam:passrole", a) for a in lowered)
        if passes and any_resource:
            found.append(finding("role-passrole-any", role, "%s allows iam:PassRole on any role" % role, evidence))
        if any_resource:
            found.append(
                finding(
                    "role-wildcard-resource",
                    role,
                    "%s allows %s on %s"
                    % (role, ", ".join(actions) or "NotAction", ", ".join(resources) or "NotResource"),
                    evidence,
                )
            )
    return found


# SageMaker documents a notebook execution role trusted by sagemaker.amazonaws.com with no condition,
# and its confused-deputy page does not list notebook instances among the features that send
# aws:SourceAccount/aws:SourceArn (policies.trust_policy): a statement for SageMaker alone is not
# flagged for lacking them; one that also lets another service in is.
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"


def _sagemaker_only(statement):
    principal = statement.get("Principal")
    return (
        isinstance(principal, dict)
        and list(principal) == ["Service"]
        and [str(s).lower() for s in as_list(principal["Service"])] == [SAGEMAKER_PRINCIPAL]
    )


def check_trust_policy(document, role):
    """Every statement that lets a service other than SageMaker assume the role must name the source
    account (or ARN)."""
    found = []
    for statement in statements(document):
        if not _allows(statement) or _sagemaker_only(statement):
            continue
        actions = [str(a).lower() for a in as_list(statement.get("Action"))]
        if not any(fnmatch.fnmatchcase("sts:assumerole", a) for a in actions):
            continue
        keys = set()
        for conditions in (statement.get("Condition") or {}).values():
            keys.update(str(k).lower() for k in (conditions or {}))
        if not keys & {"aws:sourceaccount", "aws:sourcearn"}:
            found.append(
                finding(
                    "role-trust-no-source-account",
                    role,
                    "%s can be assumed without an aws:SourceAccount or aws:SourceArn condition" % role,
                    {"role": role, "statement": statement},
                )
            )
    return found


# A Deny with NotAction guards the bucket when it exempts nothing but reads of the bucket's configuration
# (policies.BUCKET_CONFIGURATION_READS), named exactly: a wildcard or any other action is a hole.
CONFIGURATION_READS = frozenset(a.lower() for a in BUCKET_CONFIGURATION_READS)


def _covers_s3(statement):
    if "NotAction" in statement:
        return set(str(a).lower() for a in as_list(statement.get("NotAction"))) <= CONFIGURATION_READS
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(a in ("*", "s3:*") for a in actions)


def _condition_values(statement, operators, key):
    for operator, conditions in (statement.get("Condition") or {}).items():
        if operator in operators:
            for name, value in (conditions or {}).items():
                if name.lower() == key:
                    return [str(v).lower() for v in as_list(value)]
    return None


def check_bucket_policy(document, bucket):
    found = []
    tls_deny = endpoint_deny = False
    for statement in statements(document):
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny" and _covers_s3(statement) and _principal_is_anyone(statement.get("Principal")):
            if _condition_values(statement, ("Bool", "BoolIfExists"), "aws:securetransport") == ["false"]:
                tls_deny = True
            operators = ("StringNotEquals", "StringNotEqualsIfExists", "StringNotLike", "StringNotLikeIfExists")
            if _condition_values(statement, operators, "aws:sourcevpce") or _condition_values(
                statement, operators, "aws:sourcevpc"
            ):
                endpoint_deny = True
        if effect == "allow" and _principal_is_anyone(statement.get("Principal")) and not statement.get("Condition"):
            found.append(
                finding(
                    "bucket-policy-public",
                    bucket,
                    "bucket %s policy allows anyone %s"
                    % (bucket, ", ".join(str(a) for a in as_list(statement.get("Action")))),
                    {"bucket": bucket, "statement": statement},
                )
            )
    sids = [s.get("Sid") for s in statements(document) if s.get("Sid")]
    if not tls_deny:
        found.append(
            finding(
                "bucket-policy-no-tls-deny",
                bucket,
                "bucket %s policy has no Deny for aws:SecureTransport=false" % bucket,
                {"bucket": bucket, "policy_present": document is not None, "statement_sids": sids},
            )
        )
    if not endpoint_deny:
        found.append(
            finding(
                "bucket-policy-no-endpoint-deny",
                bucket,
                "bucket %s policy has no Deny for requests outside the VPC endpoint" % bucket,
                {"bucket": bucket, "policy_present": document is not None, "statement_sids": sids},
            )
        )
    return found
