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

import re

ACCESS = ("read", "read-write")
FIELDS = ("bucket", "prefix", "access", "account", "kms_key_arn")
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
