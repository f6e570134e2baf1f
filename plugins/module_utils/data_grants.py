# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data grants: which S3 data a stack's notebooks may read or write, checked before any AWS call.

A grant is ``{bucket, prefix, access: read | read-write, account, kms_key_arn}``; ``account`` is the
bucket owner's (the stack's when unset), which the policies hold the bucket to (s3:ResourceAccount).
The policy documents built from grants live in policies.py; this module only says whether a list of
grants is well formed and gives it one canonical order, so that a re-run with the grants in another
order changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import isolation, policies

ACCESS = ("read", "read-write")
FIELDS = ("bucket", "prefix", "access", "account", "kms_key_arn", "harden")
# S3 bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"): 3-63 characters,
# lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit, no "..".
# Not an IP address, no reserved prefix ("xn--", "sthree-", "amzn-s3-demo-") or suffix ("-s3alias", "--ol-s3",
# ".mrap", "--x-s3", "--table-s3").
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
RESERVED_BUCKET_RE = re.compile(
    r"^(\d+\.\d+\.\d+\.\d+|xn--.*|sthree-.*|amzn-s3-demo-.*|.*-s3alias|.*--ol-s3|.*\.mrap|.*--x-s3|.*--table-s3)$"
)
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
# A key prefix of the characters S3 calls safe ("Naming Amazon S3 objects", safe characters), ending
# with "/" so that "data/" never also grants "database/"; "" grants the whole bucket.  "*" and "?" are
# refused: in a policy they would be wildcards and grant more than the prefix names.
PREFIX_RE = re.compile(r"^([A-Za-z0-9!_.'()-][A-Za-z0-9!_.'()/-]*/)?$")
# A key ARN (a policy cannot name a key by its alias), in the stack's region: "A gateway endpoint is
# available only in the Region where you created it. Be sure to create your gateway endpoint in the same
# Region as your S3 buckets" (AWS PrivateLink Guide, "Gateway endpoints for Amazon S3", Considerations),
# and a bucket's SSE-KMS key is in the bucket's region.  The bucket's own region cannot be checked here
# without a call on a bucket the caller may not be allowed to read.
KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):[0-9]{12}:key/[A-Za-z0-9-]+$")


def normalize(grants):
    """The grants with their defaults (access read, no key), sorted by bucket and prefix."""
    found = []
    for grant in grants or []:
        grant = dict(grant or {})
        grant.setdefault("access", "read")
        grant["kms_key_arn"] = grant.get("kms_key_arn") or ""
        grant["account"] = str(grant.get("account") or "")
        grant["harden"] = grant.get("harden") is True
        found.append(grant)
    return sorted(found, key=lambda g: (str(g.get("bucket")), str(g.get("prefix"))))


def valid_bucket(bucket):
    return isinstance(bucket, str) and bool(BUCKET_RE.match(bucket)) and ".." not in bucket and not (
        RESERVED_BUCKET_RE.match(bucket))  # fmt: skip


def _overlaps(prefix, other):
    return prefix.startswith(other) or other.startswith(prefix)


def errors(grants, region, script_bucket, script_prefix, field="isolated_notebook_data_grants"):
    """Messages naming the field and the rule for every grant that breaks one; [] when all hold."""
    found = []
    seen = set()
    for number, grant in enumerate(grants or [], 1):
        where = "%s[%d]" % (field, number - 1)
        if not isinstance(grant, dict):
            found.append("%s: must be a mapping with bucket, prefix and access, got %r" % (where, grant))
            continue
        unknown = sorted(set(grant) - set(FIELDS))
        if unknown:
            found.append("%s: unknown field(s) %s; a grant takes %s" % (where, ", ".join(unknown), ", ".join(FIELDS)))
        bucket, prefix = grant.get("bucket"), grant.get("prefix")
        access, key = grant.get("access", "read"), grant.get("kms_key_arn") or ""
        if not valid_bucket(bucket):
            found.append("%s.bucket: %r is not a valid S3 bucket name (3-63 lower-case letters, digits, dots, "
                         "hyphens; not an IP address, no reserved prefix or suffix)" % (where, bucket))  # fmt: skip
        if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
            found.append(
                "%s.prefix: %r must be a key prefix of safe characters that ends with '/' (no '*' or '?'), "
                "or '' for the whole bucket" % (where, prefix)
            )
        if access not in ACCESS:
            found.append("%s.access: must be one of %s, got %r" % (where, ", ".join(ACCESS), access))
        owner = grant.get("account")
        if owner not in (None, "") and not ACCOUNT_RE.match(str(owner)):
            found.append("%s.account: %r must be the 12-digit id of the bucket owner's account" % (where, owner))
        match = KEY_ARN_RE.match(key) if isinstance(key, str) else None
        if key and not match:
            found.append("%s.kms_key_arn: %r must be a KMS key ARN (not an alias or a key id)" % (where, key))
        elif match and match.group(1) != region:
            found.append(
                "%s.kms_key_arn: the key is in %s, the stack in %s; an S3 gateway endpoint reaches buckets of its "
                "own region only, and a bucket's SSE-KMS key is in the bucket's region"
                % (where, match.group(1), region)
            )
        if grant.get("harden") not in (None, True, False):
            found.append("%s.harden: must be true or false, got %r" % (where, grant.get("harden")))
        if grant.get("harden") is True and bucket == script_bucket:
            found.append("%s.harden: %s is the script bucket, whose policy the role writes anyway; harden data "
                         "buckets only" % (where, bucket))  # fmt: skip
        if not isinstance(prefix, str) or not isinstance(bucket, str):
            continue
        if (bucket, prefix) in seen:
            found.append("%s: bucket %s, prefix %r is granted twice" % (where, bucket, prefix))
        seen.add((bucket, prefix))
        if bucket == script_bucket and access == "read-write" and _overlaps(prefix, script_prefix):
            found.append(
                "%s: read-write on %s/%s would let a notebook rewrite the lifecycle scripts under %s, which every "
                "notebook runs as root at its next start; grant read, or a prefix outside the scripts"
                % (where, bucket, prefix, script_prefix)
            )
    return found


# --- each notebook's home (isolated_notebook_homes) -------------------------------------------------

HOME_FIELD = "isolated_notebook_homes"
HOME_FIELDS = ("bucket", "prefix", "account", "kms_key_arn")
# A notebook's own role is <name_prefix>-nb-<notebook>; IAM role names are at most 64 characters.
ROLE_NAME_MAX = 64


def home_role_name(name_prefix, notebook):
    return "%s-nb-%s" % (name_prefix, notebook)


def homes_grant(homes):
    """The grant that covers every home of the stack (``<bucket>/<prefix>``), as the S3 endpoint lets
    the notebooks' roles through; None without homes."""
    if not isinstance(homes, dict) or not homes.get("bucket"):
        return None
    return normalize([{"bucket": homes["bucket"], "prefix": homes.get("prefix") or "", "access": "read-write",
                       "account": homes.get("account"), "kms_key_arn": homes.get("kms_key_arn")}])[0]  # fmt: skip


def home_grants(homes, names):
    """{notebook: the grant of its home, read-write on <bucket>/<prefix><notebook>/}; {} without homes."""
    umbrella = homes_grant(homes)
    if umbrella is None:
        return {}
    return {name: dict(umbrella, prefix="%s%s/" % (umbrella["prefix"], name)) for name in names}


def home_errors(homes, grants, names, name_prefix, region, script_bucket, script_prefix, field=HOME_FIELD,
                grants_field="isolated_notebook_data_grants"):  # fmt: skip
    """Messages for homes that break a rule: the fields, the grant rules on the homes' location, a role
    name IAM would refuse, and a data grant that covers the homes (which every notebook's role holds, so
    every notebook would reach every home).  [] when the homes hold, or are not asked for."""
    if homes in (None, {}, ""):
        return []
    if not isinstance(homes, dict):
        return ["%s: must be a mapping with bucket and prefix, got %r" % (field, homes)]
    found = []
    unknown = sorted(set(homes) - set(HOME_FIELDS))
    if unknown:
        found.append("%s: unknown field(s) %s; homes take %s" % (field, ", ".join(unknown), ", ".join(HOME_FIELDS)))
    if not homes.get("bucket"):
        return found + ["%s.bucket: required: the bucket that holds the notebooks' homes" % field]
    umbrella = dict(homes, prefix=homes.get("prefix") or "", access="read-write")
    found += [m.replace(field + "[0]", field) for m in errors([umbrella], region, script_bucket, script_prefix, field)]
    for name in names:
        role = home_role_name(name_prefix, name)
        if len(role) > ROLE_NAME_MAX:
            found.append("%s: the role of notebook %s would be %s, %d characters; IAM allows %d: a shorter name "
                         "or name prefix" % (field, name, role, len(role), ROLE_NAME_MAX))  # fmt: skip
    for number, grant in enumerate(grants or []):
        if not isinstance(grant, dict) or not isinstance(grant.get("prefix"), str):
            continue
        if grant.get("bucket") == homes["bucket"] and _overlaps(grant["prefix"], umbrella["prefix"]):
            found.append("%s[%d]: %s/%s covers the notebooks' homes under %s/%s; every notebook's role holds the "
                         "grants, so every notebook would reach every home: grant a prefix outside the homes"
                         % (grants_field, number, grant["bucket"], grant["prefix"], homes["bucket"],
                            umbrella["prefix"]))  # fmt: skip
    return found


# --- hardened data buckets ------------------------------------------------------------------------------


def hardened_buckets(plans, endpoints_by_table):
    """[{bucket, endpoint_ids}] of the buckets a present plan's grant asks to harden (``harden: true``),
    in name order: the bucket policy then admits requests through the S3 endpoints of the route tables
    of every present plan granted that bucket (hardened or not: a team granted it must still reach it),
    and denies the others but the admins' and the caller's (policies.bucket_policy).  ``plans``: state,
    route_table_ids, grants; ``endpoints_by_table``: {route table: endpoint id}."""
    present = [plan for plan in plans if plan.get("state", "present") == "present"]
    buckets = sorted({g["bucket"] for plan in present for g in plan["grants"] if g.get("harden") is True})
    found = []
    for bucket in buckets:
        tables = {t for plan in present if any(g["bucket"] == bucket for g in plan["grants"])
                  for t in plan["route_table_ids"]}  # fmt: skip
        ids = sorted({_endpoint_id(endpoints_by_table.get(t)) for t in tables if endpoints_by_table.get(t)})
        found.append({"bucket": bucket, "endpoint_ids": ids})
    return found


# The statements of policies.bucket_policy: a bucket policy holding only these is one the role wrote.
OWN_BUCKET_SIDS = ("DenyInsecureTransport", "DenyOutsideVpcEndpoint")


def _foreign_statements(policy):
    """The Sids (or "unnamed") of a bucket policy's statements that policies.bucket_policy did not write."""
    if not policy:
        return []
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
        statements = document.get("Statement") or []
    except (ValueError, AttributeError):
        return ["unreadable policy"]
    statements = statements if isinstance(statements, list) else [statements]
    return sorted({str(s.get("Sid") or "unnamed") for s in statements if s.get("Sid") not in OWN_BUCKET_SIDS})


def _endpoint_id(endpoint):
    """An endpoint id, or the id in a vpc_endpoint result (a stand-in in check mode before it exists)."""
    if isinstance(endpoint, dict):
        return (endpoint.get("vpc_endpoint") or {}).get("vpc_endpoint_id") or "vpce-to-be-created"
    return endpoint


def harden_errors(grants, found, region, account, admins=(), caller_user_ids=(), tables=1,
                  field="isolated_notebook_data_grants"):  # fmt: skip
    """Why the buckets the grants ask to harden cannot be: one the caller's account does not hold (the
    role hardens owners' buckets, never creates one), one in another region, a grant naming another
    account, or a bucket policy over S3's 20 KB.  ``found``: the s3_bucket_info results of those buckets
    (item: the bucket; buckets: what ListBuckets holds of that name, with its location)."""
    held, foreign = {}, {}
    for result in found or []:
        for bucket in result.get("buckets") or []:
            if bucket.get("name") == result.get("item"):
                location = (bucket.get("bucket_location") or {}).get("LocationConstraint")
                held[bucket["name"]] = isolation.bucket_region(location)
                foreign[bucket["name"]] = _foreign_statements((bucket.get("bucket_policy") or {}).get("Policy"))
    messages = []
    for number, grant in enumerate(grants or []):
        if grant.get("harden") is not True:
            continue
        where, bucket = "%s[%d]" % (field, number), grant["bucket"]
        if grant.get("account") and str(grant["account"]) != str(account):
            messages.append("%s.harden: bucket %s is account %s's, the run is account %s's; a bucket is hardened by "
                            "its owner's account" % (where, bucket, grant["account"], account))  # fmt: skip
        elif bucket not in held:
            messages.append("%s.harden: bucket %s does not exist in account %s; the role hardens the data owner's "
                            "bucket, it never creates one" % (where, bucket, account))  # fmt: skip
        elif held[bucket] != region:
            messages.append("%s.harden: bucket %s is in %s, the stack in %s" % (where, bucket, held[bucket], region))
        elif foreign.get(bucket):
            messages.append("%s.harden: the policy of bucket %s has statements the role did not write (%s), which "
                            "hardening would replace; merge them away or leave the bucket to its owner"
                            % (where, bucket, ", ".join(foreign[bucket])))  # fmt: skip
        document = policies.bucket_policy(bucket, ["vpce-0123456789abcdef0"] * max(tables, 1), admins, region,
                                          caller_user_ids)  # fmt: skip
        size = policies.size(document, "bucket")
        if size > policies.LIMITS["bucket"]:
            messages.append("%s.harden: the policy of bucket %s would be %d characters, over S3's %d"
                            % (where, bucket, size, policies.LIMITS["bucket"]))  # fmt: skip
    return messages
