# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The isolation audit's findings in AWS Security Hub: one ASFF finding per audit finding, imported with
BatchImportFindings, updated (not duplicated) on the next export and archived when the audit no longer
finds it.  ``validate()`` checks the audit result before any call; ``plan()`` compares it with what
Security Hub holds (no AWS); ``export()`` reads, plans and imports.

AWS sources (Security Hub User Guide and API reference, botocore's securityhub model):
- BatchImportFindings takes 1 to 100 findings per request, each up to 240 KB; a finding is matched by its
  ``Id`` ("Finding providers can't update findings that they didn't create"), and an update whose
  ``UpdatedAt`` is not later than the stored one "is ignored".
- A finding provider cannot set ``Workflow``, ``Note``, ``UserDefinedFields`` or ``VerificationState``
  (Security Hub ignores them); it archives a finding that is no longer relevant (``RecordState`` ARCHIVED)
  and may say so in ``Compliance.Status`` (PASSED).  A finding going back to ACTIVE, or from PASSED to
  FAILED, has its workflow status set back to NEW.
- A customer's own findings use the product ARN ``arn:<partition>:securityhub:<region>:<account>:product/
  <account>/default`` and must carry the caller's own account in ``AwsAccountId``; with Security Hub not
  enabled they come back in ``FailedFindings`` with ``InvalidAccess``.
- Required: SchemaVersion (2018-10-08), Id and GeneratorId (<= 512 characters), ProductArn, AwsAccountId,
  CreatedAt, UpdatedAt, Title (<= 256), Description (<= 1024), Resources (1 to 32), Severity, Types
  (namespace/category, "Software and Configuration Checks" among the namespaces); Remediation's text <= 512.
- GetFindings returns active and archived findings; ``EQUALS``/``PREFIX`` filters of one field are ORed,
  different fields ANDed; at most 100 findings per page.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import re

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.arn import parse, partition_of
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    ClientError,
    NotebooksError,
    error_code,
    error_message,
    pages,
)

SCHEMA_VERSION = "2018-10-08"
BATCH_LIMIT = 100
# Every finding this collection writes has a GeneratorId under this prefix (one per audit finding id): the
# prefix is how an export finds its earlier findings, and leaves every other provider's alone.
GENERATOR_PREFIX = "secure-sagemaker-notebooks/isolation_audit/"
FIELD = "secure_sagemaker.notebooks/"
TYPES = ["Software and Configuration Checks/AWS Security Best Practices"]
SEVERITY = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW"}
LIMITS = {"Title": 256, "Description": 1024, "Remediation": 512}
RESOURCE_TYPE = "AwsSageMakerNotebookInstance"
# What this collection writes (Security Hub adds its own attributes, and keeps Workflow and notes, the
# analysts'); a resolved finding is sent back with these only.
PROVIDED = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "Types",
    "Severity",
    "Title",
    "Description",
    "Remediation",
    "ProductFields",
    "Resources",
    "Compliance",
    "RecordState",
    "FindingProviderFields",
)
# Security Hub deletes an active finding that is not updated for 90 days (documented for its OCSF findings;
# the same retention for ASFF findings is unverified): an unchanged finding is sent again when its last update
# is older than this, so that a standing problem stays on record.
REFRESH_DAYS = 30


def validate(params):
    """The audit result (the isolation_audit module's) checked before any call; returns the spec."""
    audit = params.get("audit")
    if not isinstance(audit, dict):
        raise NotebooksError(
            "audit: give the registered result of secure_sagemaker.notebooks.isolation_audit", field="audit"
        )
    for key, kind in (("region", str), ("audited_at", str), ("notebooks", list), ("not_found", list)):
        if not isinstance(audit.get(key), kind):
            raise NotebooksError(
                "audit.%s: missing or not a %s; give the isolation_audit result as registered" % (key, kind.__name__),
                field="audit",
            )
    for index, entry in enumerate(audit["notebooks"]):
        where = "audit.notebooks[%d]" % index
        if not isinstance(entry, dict) or not isinstance(entry.get("findings"), list) or not entry.get("name"):
            raise NotebooksError("%s: a notebook with its name and findings is expected" % where, field="audit")
        arn = entry.get("arn") or ""
        if parse(arn) is None or not arn.split(":")[5].startswith("notebook-instance/"):
            raise NotebooksError("%s.arn: %r is not a notebook instance ARN" % (where, arn), field="audit")
        for number, item in enumerate(entry["findings"]):
            missing = [k for k in ("id", "severity", "title", "message", "remediation") if not item.get(k)]
            if missing or item.get("severity") not in SEVERITY:
                raise NotebooksError(
                    "%s.findings[%d]: needs id, severity (high, medium or low), title, message "
                    "and remediation" % (where, number),
                    field="audit",
                )
    region = params.get("region")
    if region and region != audit["region"]:
        raise NotebooksError(
            "region: the findings of an audit of %s go to Security Hub in %s, not %s"
            % (audit["region"], audit["region"], region),
            field="region",
        )
    product_arn = params.get("product_arn")
    if product_arn is not None and (parse(product_arn) is None or ":product/" not in product_arn):
        raise NotebooksError("product_arn: %r is not a Security Hub product ARN" % product_arn, field="product_arn")
    return {"audit": audit, "product_arn": product_arn, "resolve_others": bool(params.get("resolve_others"))}


def default_product_arn(region, account):
    """The product ARN of an account's own findings."""
    return "arn:%s:securityhub:%s:%s:product/%s/default" % (partition_of(region), region, account, account)


def _timestamp(value):
    """ASFF's ISO 8601 UTC with milliseconds (updates need a later UpdatedAt; seconds alone can tie)."""
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
        value.microsecond // 1000
    )


def _parse_time(text):
    # ASFF allows up to nine fractional digits; fromisoformat before Python 3.11 takes at most six.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(text)


def _clip(text, limit):
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The evidence that tells two findings of one id on one resource apart (the hook of a lint, the statement of a
# policy, the operation of a failed check, the route): it goes into the Id, so that fixing one never renames
# another.
IDENTITY = ("hook", "check", "operation", "destination", "target", "statement", "vpc_endpoint_id", "bucket", "key",
            "prefix", "other_team")  # fmt: skip


def _digest(value, length=16):
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:length]


def finding_id(region, notebook, item, occurrence=0):
    """A stable ASFF Id: the region, the notebook, the audit finding id, and a hash of the resource at fault and the
    evidence that identifies the finding; ``occurrence`` counts findings that still share all of it."""
    evidence = item.get("evidence") or {}
    identity = _digest([item.get("resource") or "", dict((k, evidence[k]) for k in IDENTITY if k in evidence)])
    suffix = "/%d" % occurrence if occurrence else ""
    return "secure-sagemaker-notebooks/%s/%s/%s/%s%s" % (region, notebook, item["id"], identity, suffix)


def to_asff(item, entry, audit, account, product_arn):
    """One audit finding as the ASFF attributes this collection provides (no timestamps)."""
    region = audit["region"]
    controls = item.get("controls") or {}
    related = sorted(c for ids in controls.values() for c in ids)
    fix = item.get("fix") or {}
    fields = {
        FIELD + "FindingId": item["id"],
        FIELD + "Notebook": entry["name"],
        FIELD + "Resource": _clip(item.get("resource") or "", 2048),
        FIELD + "OwnCheck": "true" if item.get("own_check") else "false",
        FIELD + "FixType": fix.get("type") or "",
        FIELD + "FixModule": fix.get("module") or "",
        FIELD + "FixOption": fix.get("option") or "",
        FIELD + "RoleFixes": "true" if fix.get("role_fixes") else "false",
    }
    for tool, ids in sorted(controls.items()):
        if ids:
            fields[FIELD + "Controls/" + tool] = " ".join(ids)
    severity = {"Label": SEVERITY[item["severity"]], "Original": item["severity"]}
    finding = {
        "SchemaVersion": SCHEMA_VERSION,
        "ProductArn": product_arn,
        "GeneratorId": GENERATOR_PREFIX + item["id"],
        "AwsAccountId": account,
        "Types": list(TYPES),
        "Severity": dict(severity),
        # Where a finding provider updates severity and types ("should not use BatchImportFindings to update
        # Severity, Types ... Instead, finding providers use FindingProviderFields").
        "FindingProviderFields": {"Severity": dict(severity), "Types": list(TYPES)},
        "Title": _clip("%s: %s" % (entry["name"], item["title"]), LIMITS["Title"]),
        "Description": _clip(item["message"], LIMITS["Description"]),
        "Remediation": {"Recommendation": {"Text": _clip(item["remediation"], LIMITS["Remediation"])}},
        "ProductFields": dict((k, v) for k, v in fields.items() if v),
        "Resources": [{"Type": RESOURCE_TYPE, "Id": entry["arn"], "Partition": partition_of(region), "Region": region}],
        "Compliance": {"Status": "FAILED"},
        "RecordState": "ACTIVE",
    }
    if related:
        finding["Compliance"]["RelatedRequirements"] = related[:32]
    return finding


def with_digest(finding):
    """``finding`` with a digest of what this collection provides in its ProductFields: Security Hub adds its own
    attributes (Severity.Normalized, aws/securityhub/* product fields, ...) and analysts change others, so the
    digest, not the stored finding, says whether the next export has anything new to send."""
    provided = dict((k, v) for k, v in finding.items() if k not in ("Id", "CreatedAt", "UpdatedAt"))
    provided["ProductFields"] = dict((k, v) for k, v in provided["ProductFields"].items() if k != FIELD + "Digest")
    fields = dict(provided["ProductFields"], **{FIELD + "Digest": _digest(provided, 64)})
    return dict(finding, ProductFields=fields)


def own(stored):
    """The attributes this collection provided, out of a stored finding (Security Hub's additions dropped)."""
    mine = dict((k, stored[k]) for k in PROVIDED if k in stored)
    mine["ProductFields"] = dict((k, v) for k, v in (stored.get("ProductFields") or {}).items() if k.startswith(FIELD))
    if "Severity" in mine:
        mine["Severity"] = dict((k, v) for k, v in mine["Severity"].items() if k in ("Label", "Original"))
    if "FindingProviderFields" in mine:
        fields = mine["FindingProviderFields"]
        mine["FindingProviderFields"] = dict(
            fields,
            Severity=dict((k, v) for k, v in (fields.get("Severity") or {}).items() if k in ("Label", "Original")),
        )
    return mine


def current_findings(audit, account, product_arn):
    """{ASFF Id: provided attributes, with their digest} of every finding of the audit."""
    found = {}
    for entry in audit["notebooks"]:
        for item in entry["findings"]:
            asff = to_asff(item, entry, audit, account, product_arn)
            occurrence = 0
            while finding_id(audit["region"], entry["name"], item, occurrence) in found:
                occurrence += 1
            asff["Id"] = finding_id(audit["region"], entry["name"], item, occurrence)
            found[asff["Id"]] = with_digest(asff)
    return found


def _digest_of(finding):
    return (finding.get("ProductFields") or {}).get(FIELD + "Digest")


def _later(now, stored):
    """``now``, or just after the stored UpdatedAt when that is not earlier (a clock behind Security Hub's)."""
    previous = stored.get("UpdatedAt")
    if previous:
        floor = _parse_time(previous) + datetime.timedelta(milliseconds=1)
        if floor > now:
            return floor
    return now


def plan(current, stored, audit, resolve_others, now):
    """What to send: {"created", "updated", "reopened", "resolved", "unchanged"} lists of ASFF findings (complete,
    timestamps set), from ``current`` (``current_findings``) and ``stored`` ({Id: finding} as Security Hub
    returns them).  Findings of notebooks this audit did not look at stay as they are unless
    ``resolve_others``."""
    audited = set(e["name"] for e in audit["notebooks"]) | set(audit["not_found"])
    # A check that could not be made proves nothing fixed: such a notebook's earlier findings stay open.
    unproven = set(e["name"] for e in audit["notebooks"] if any(f["id"] == "check-failed" for f in e["findings"]))
    result = dict((k, []) for k in ("created", "updated", "reopened", "resolved", "unchanged"))
    for asff_id, wanted in sorted(current.items()):
        old = stored.get(asff_id)
        if old is None:
            result["created"].append(dict(wanted, CreatedAt=_timestamp(now), UpdatedAt=_timestamp(now)))
            continue
        fresh = _parse_time(old["UpdatedAt"]) > now - datetime.timedelta(days=REFRESH_DAYS)
        if _digest_of(old) == _digest_of(wanted) and old.get("RecordState", "ACTIVE") == "ACTIVE" and fresh:
            result["unchanged"].append(old)
            continue
        kind = "reopened" if old.get("RecordState") == "ARCHIVED" else "updated"
        result[kind].append(
            dict(wanted, CreatedAt=old.get("CreatedAt") or _timestamp(now), UpdatedAt=_timestamp(_later(now, old)))
        )
    for asff_id, old in sorted(stored.items()):
        if asff_id in current or old.get("RecordState") == "ARCHIVED":
            continue
        notebook = (old.get("ProductFields") or {}).get(FIELD + "Notebook")
        if (notebook not in audited and not resolve_others) or notebook in unproven:
            continue
        resolved = own(old)
        resolved.update(RecordState="ARCHIVED", Compliance=dict(resolved.get("Compliance") or {}, Status="PASSED"))
        resolved = with_digest(resolved)
        resolved.update(CreatedAt=old.get("CreatedAt"), UpdatedAt=_timestamp(_later(now, old)))
        result["resolved"].append(resolved)
    return result


def batches(findings, size=BATCH_LIMIT):
    return [findings[i : i + size] for i in range(0, len(findings), size)]


def stored_findings(securityhub, product_arn):
    """{Id: finding} of every finding this collection wrote under ``product_arn``, active or archived."""
    filters = {
        "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
        "GeneratorId": [{"Value": GENERATOR_PREFIX, "Comparison": "PREFIX"}],
    }
    try:
        found = pages(securityhub, "get_findings", "Findings", page_size=BATCH_LIMIT, Filters=filters)
    except ClientError as error:
        # Seen on Security Hub's reads in an account that has not enabled it (the import itself answers with
        # FailedFindings, InvalidAccess).
        if error_code(error) != "InvalidAccessException":
            raise
        raise NotebooksError(
            "Security Hub is not enabled in this account and region (%s): enable it, or do not "
            "export" % error_message(error),
            error=error.response.get("Error", {}),
        ) from None
    return dict((f["Id"], f) for f in found)


def import_findings(securityhub, findings):
    """BatchImportFindings in batches of 100; (batches sent, [failed findings])."""
    failed, sent = [], 0
    for batch in batches(findings):
        response = securityhub.batch_import_findings(Findings=batch, aws_retry=True)
        sent += 1
        failed.extend(response.get("FailedFindings") or [])
    return sent, failed


def export(securityhub, spec, account, check_mode, now=None):
    """The module result: the audit's findings in Security Hub (nothing sent in check mode)."""
    audit = spec["audit"]
    product_arn = spec["product_arn"] or default_product_arn(audit["region"], account)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    current = current_findings(audit, account, product_arn)
    planned = plan(current, stored_findings(securityhub, product_arn), audit, spec["resolve_others"], now)
    to_send = planned["created"] + planned["updated"] + planned["reopened"] + planned["resolved"]
    sent, failed = (0, []) if check_mode or not to_send else import_findings(securityhub, to_send)
    result = {
        "changed": bool(to_send),
        "product_arn": product_arn,
        "batches": sent,
        "failed": failed,
    }
    for kind, findings in planned.items():
        result[kind] = sorted(f["Id"] for f in findings)
    if failed:
        reasons = sorted(set("%s: %s" % (f.get("ErrorCode"), f.get("ErrorMessage")) for f in failed))
        raise NotebooksError(
            "Security Hub refused %d of %d findings (%s)" % (len(failed), len(to_send), "; ".join(reasons)), **result
        )
    return result
