# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What moto's Security Hub leaves out of BatchImportFindings and GetFindings, as AWS documents it.

moto upserts a finding by Id with a shallow merge, enforces no limit, checks no required attribute, lets a
provider set Workflow, imports into a hub that is not enabled, and ignores GetFindings' Filters.  Here:

- BatchImportFindings takes 1 to 100 findings (botocore's model, BatchImportFindingsRequestFindingList
  max 100; "Maximum of 100 findings per request"); more is InvalidInputException for the request (the
  operation's modelled error; the exact message is not documented).
- With Security Hub not enabled "the findings are returned in the FailedFindings list, with an InvalidAccess
  error" (User Guide, "Using BatchImportFindings to create and update findings").
- Required attributes (User Guide, "Required top-level attributes in ASFF"): SchemaVersion, Id, ProductArn,
  GeneratorId, AwsAccountId, CreatedAt, UpdatedAt, Title, Description, Resources, Severity, Types; lengths
  from botocore's member docs (Title 256, Description 1024, Id and GeneratorId 512, 1 to 32 Resources,
  Remediation.Recommendation.Text 512).  A finding that breaks one fails alone, as InvalidInput.
- Security Hub "checks the ID field"; if it matches, "If UpdatedAt on the update matches or occurs before
  UpdatedAt on the existing finding, then the update is ignored"; else the finding is replaced by the one sent
  (providers "resend the full finding").  Note, UserDefinedFields, VerificationState and Workflow are ignored
  in BatchImportFindings; a new finding's workflow status is NEW; NOTIFIED or RESOLVED go back to NEW when
  RecordState changes from ARCHIVED to ACTIVE or Compliance.Status from PASSED to FAILED, WARNING or
  NOT_AVAILABLE (botocore, Workflow.Status).
- GetFindings' StringFilters: EQUALS, PREFIX and CONTAINS on one field are ORed, NOT_EQUALS,
  PREFIX_NOT_EQUALS and NOT_CONTAINS ANDed, EQUALS mixed with a negative one is an error; fields are
  ANDed; values are case sensitive (botocore, StringFilter.Comparison).  A filter field this emulator does not
  evaluate is refused, so that no test passes on a filter that was silently dropped.

- What Security Hub adds to a stored finding: Severity.Normalized from the Label when only the Label is sent
  (INFORMATIONAL 0, LOW 1, MEDIUM 40, HIGH 70, CRITICAL 90; botocore, Severity.Normalized),
  FindingProviderFields from the top-level Severity and Types when the provider sends none, and the product
  fields aws/securityhub/FindingId, aws/securityhub/ProductName, aws/securityhub/CompanyName (ASFF,
  ProductFields), so a provider comparing what it sent with what it reads back sees differences.
- GetFindings in an account that has not enabled Security Hub: InvalidAccessException "Account <id> is not
  subscribed to AWS Security Hub", as AWS answers its other reads (DescribeHub, GetEnabledStandards; for
  GetFindings itself not documented).

Not reproduced (not documented precisely enough): the 240 KB size of one finding, the refusal of an
AwsAccountId other than the caller's, ProductArn as part of the match.
"""

import copy
import datetime

from moto.securityhub.exceptions import InvalidInputException, SecurityHubClientError
from moto.securityhub.models import Finding, SecurityHubBackend
from moto.utilities.paginator import paginate

MAX_FINDINGS = 100
REQUIRED = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "CreatedAt",
    "UpdatedAt",
    "Title",
    "Description",
    "Resources",
    "Severity",
    "Types",
)
LENGTHS = {"Title": 256, "Description": 1024, "Id": 512, "GeneratorId": 512}
IGNORED = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
REOPENED_FROM = ("NOTIFIED", "RESOLVED")
POSITIVE = ("EQUALS", "PREFIX", "CONTAINS")
NEGATIVE = ("NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS")


def _values(finding, field):
    """The values a filter field compares, as AwsSecurityFindingFilters names them."""
    nested = {
        "ComplianceStatus": lambda f: [(f.get("Compliance") or {}).get("Status")],
        "WorkflowStatus": lambda f: [(f.get("Workflow") or {}).get("Status")],
        "SeverityLabel": lambda f: [(f.get("Severity") or {}).get("Label")],
        "ResourceId": lambda f: [r.get("Id") for r in f.get("Resources") or []],
        "ResourceType": lambda f: [r.get("Type") for r in f.get("Resources") or []],
    }
    if field in nested:
        return [v for v in nested[field](finding) if v is not None]
    if field in ("Id", "ProductArn", "GeneratorId", "AwsAccountId", "RecordState", "Title", "Description"):
        return [finding[field]] if finding.get(field) is not None else []
    raise InvalidInputException(op="GetFindings", msg="the emulator does not evaluate the filter %s" % field)


def _compare(comparison, value, wanted):
    return {
        "EQUALS": value == wanted,
        "PREFIX": value.startswith(wanted),
        "CONTAINS": wanted in value,
        "NOT_EQUALS": value != wanted,
        "PREFIX_NOT_EQUALS": not value.startswith(wanted),
        "NOT_CONTAINS": wanted not in value,
    }[comparison]


def matches(finding, filters):
    for field, conditions in (filters or {}).items():
        comparisons = set(c["Comparison"] for c in conditions)
        if "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
            raise InvalidInputException(op="GetFindings", msg="EQUALS cannot be combined with a negative filter")
        if comparisons - set(POSITIVE + NEGATIVE):
            raise InvalidInputException(op="GetFindings", msg="unknown comparison in %s" % field)
        values = _values(finding, field)
        positive = [c for c in conditions if c["Comparison"] in POSITIVE]
        negative = [c for c in conditions if c["Comparison"] in NEGATIVE]
        if positive and not any(_compare(c["Comparison"], v, c["Value"]) for c in positive for v in values):
            return False
        if not all(_compare(c["Comparison"], v, c["Value"]) for c in negative for v in values):
            return False
    return True


NORMALIZED = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}


def _as_stored(finding):
    """A finding as Security Hub keeps it: with what it adds."""
    stored = copy.deepcopy(finding)
    severity = stored.get("Severity") or {}
    if "Label" in severity and "Normalized" not in severity:
        severity["Normalized"] = NORMALIZED[severity["Label"]]
    stored.setdefault("FindingProviderFields", {"Severity": dict(severity), "Types": list(stored.get("Types") or [])})
    fields = stored.setdefault("ProductFields", {})
    fields.update(
        {
            "aws/securityhub/FindingId": "%s/%s" % (stored["ProductArn"], stored["Id"]),
            "aws/securityhub/ProductName": "Default",
            "aws/securityhub/CompanyName": "Personal",
        }
    )
    stored.update(ProductName="Default", CompanyName="Personal")
    return stored


@paginate(pagination_model=SecurityHubBackend.PAGINATION_MODEL)
def get_findings(self, filters=None, sort_criteria=None, max_results=None):
    if not self.enabled:
        raise SecurityHubClientError(
            "InvalidAccessException", "Account %s is not subscribed to AWS Security Hub" % self.account_id
        )
    if max_results is not None and not 1 <= int(max_results) <= 100:
        raise InvalidInputException(op="GetFindings", msg="MaxResults must be a number between 1 and 100")
    return [copy.deepcopy(f.data) for f in self.findings if matches(f.data, filters)]


def _invalid(finding):
    missing = [k for k in REQUIRED if finding.get(k) in (None, "", [], {})]
    if missing:
        return "Finding is missing the required attributes %s" % ", ".join(missing)
    for key, limit in LENGTHS.items():
        if len(finding[key]) > limit:
            return "%s is longer than %d characters" % (key, limit)
    if not isinstance(finding["Resources"], list) or not 1 <= len(finding["Resources"]) <= 32:
        return "Resources must hold 1 to 32 resources"
    text = ((finding.get("Remediation") or {}).get("Recommendation") or {}).get("Text") or ""
    if len(text) > 512:
        return "Remediation.Recommendation.Text is longer than 512 characters"
    return None


def _time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _workflow(stored, incoming):
    status = (stored.get("Workflow") or {}).get("Status", "NEW")
    reactivated = stored.get("RecordState") == "ARCHIVED" and incoming.get("RecordState", "ACTIVE") == "ACTIVE"
    failed_again = (stored.get("Compliance") or {}).get("Status") == "PASSED" and (
        (incoming.get("Compliance") or {}).get("Status") in ("FAILED", "WARNING", "NOT_AVAILABLE")
    )
    if status in REOPENED_FROM and (reactivated or failed_again):
        status = "NEW"
    return dict(stored.get("Workflow") or {}, Status=status)


def batch_import_findings(self, findings):
    if not 1 <= len(findings) <= MAX_FINDINGS:
        raise InvalidInputException(op="BatchImportFindings", msg="Findings must hold 1 to 100 findings")
    failed, succeeded = [], 0
    for incoming in findings:
        if not self.enabled:
            failed.append(
                {
                    "Id": incoming.get("Id", ""),
                    "ErrorCode": "InvalidAccess",
                    "ErrorMessage": "Account %s is not subscribed to AWS Security Hub" % self.account_id,
                }
            )
            continue
        problem = _invalid(incoming)
        if problem:
            failed.append({"Id": incoming.get("Id", ""), "ErrorCode": "InvalidInput", "ErrorMessage": problem})
            continue
        provided = dict((k, v) for k, v in incoming.items() if k not in IGNORED)
        stored = next((f for f in self.findings if f.id == incoming["Id"]), None)
        succeeded += 1
        if stored is None:
            self.findings.append(Finding(incoming["Id"], _as_stored(dict(provided, Workflow={"Status": "NEW"}))))
        elif _time(incoming["UpdatedAt"]) > _time(stored.data["UpdatedAt"]):
            kept = dict((k, stored.data[k]) for k in IGNORED if k in stored.data)
            stored.data = _as_stored(dict(provided, **dict(kept, Workflow=_workflow(stored.data, incoming))))
    return len(failed), succeeded, failed


def apply():
    SecurityHubBackend.get_findings = get_findings
    SecurityHubBackend.batch_import_findings = batch_import_findings
