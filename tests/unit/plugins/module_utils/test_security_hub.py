# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's findings in Security Hub: input checks, the ASFF mapping, and the round trip on the emulator
(its Security Hub follows the documented BatchImportFindings and GetFindings rules, tests/emulator/securityhub.py):
import in batches of 100, a second export that changes nothing, a fixed finding resolved, a changed one updated,
none duplicated, other providers' findings left alone."""

import copy
import datetime

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import security_hub
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import findings
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import (
    REGION,
    on_emulator,
    stubbed,
)
from botocore.exceptions import ClientError

from tests.emulator import securityhub as emulated

ACCOUNT = "123456789012"
NOW = datetime.datetime(2026, 12, 4, 12, 0, 0, tzinfo=datetime.timezone.utc)
PRODUCT = "arn:aws:securityhub:%s:%s:product/%s/default" % (REGION, ACCOUNT, ACCOUNT)


def notebook_entry(name, *finding_ids):
    return {
        "name": name,
        "arn": "arn:aws:sagemaker:%s:%s:notebook-instance/%s" % (REGION, ACCOUNT, name),
        "findings": [findings.finding(f, name, "%s of %s" % (f, name), {}) for f in finding_ids],
    }


def audit(*entries, not_found=()):
    return {
        "region": REGION,
        "audited_at": "2026-12-04T12:00:00Z",
        "notebooks": list(entries),
        "not_found": list(not_found),
    }


def spec(result, **options):
    return security_hub.validate(dict({"audit": result, "region": REGION}, **options))


@pytest.fixture
def hub(emulator):
    client = on_emulator(emulator, "securityhub")
    client.enable_security_hub()
    return client


def stored(hub):
    return dict((f["Id"], f) for f in hub.get_paginator("get_findings").paginate().build_full_result()["Findings"])


# --- input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        ({"audit": None}, "audit: give the registered result of secure_sagemaker.notebooks.isolation_audit"),
        ({"audit": {"region": REGION}}, "audit.audited_at: missing or not a str"),
        ({"audit": dict(audit(), notebooks={})}, "audit.notebooks: missing or not a list"),
        ({"audit": audit(dict(notebook_entry("a"), arn="a"))}, "audit.notebooks[0].arn: 'a' is not a notebook"),
        ({"audit": audit({"name": "a"})}, "audit.notebooks[0]: a notebook with its name and findings is expected"),
        (
            {"audit": audit(dict(notebook_entry("a", "no-subnet"), findings=[{"id": "x", "severity": "urgent"}]))},
            "audit.notebooks[0].findings[0]: needs id, severity (high, medium or low)",
        ),
        ({"audit": audit(), "region": "eu-west-1"}, "region: the findings of an audit of us-east-1 go to Security Hub"),
        ({"audit": audit(), "product_arn": "default"}, "product_arn: 'default' is not a Security Hub product ARN"),
    ],
)
def test_bad_input_names_the_field(params, message):
    with pytest.raises(NotebooksError) as error:
        security_hub.validate(params)
    assert str(error.value).startswith(message)


# --- the mapping ---------------------------------------------------------------------------------------


def test_asff_of_a_finding():
    result = audit(notebook_entry("alice", "root-access-enabled"))
    found = security_hub.current_findings(result, ACCOUNT, PRODUCT)
    assert len(found) == 1
    asff_id, asff = list(found.items())[0]
    assert asff_id.startswith("secure-sagemaker-notebooks/%s/alice/root-access-enabled/" % REGION)
    assert asff["GeneratorId"] == "secure-sagemaker-notebooks/isolation_audit/root-access-enabled"
    assert asff["Severity"] == {"Label": "MEDIUM", "Original": "medium"}
    assert asff["Resources"] == [
        {
            "Type": "AwsSageMakerNotebookInstance",
            "Partition": "aws",
            "Region": REGION,
            "Id": result["notebooks"][0]["arn"],
        }
    ]
    assert asff["Compliance"] == {
        "Status": "FAILED",
        "RelatedRequirements": ["CKV_AWS_307", "SageMaker.3", "sagemaker_notebook_instance_root_access_disabled"],
    }
    fields = asff["ProductFields"]
    assert fields["secure_sagemaker.notebooks/FixType"] == "in-place"
    assert fields["secure_sagemaker.notebooks/FixOption"] == "root_access"
    assert fields["secure_sagemaker.notebooks/Controls/security_hub"] == "SageMaker.3"
    assert asff["Types"] == ["Software and Configuration Checks/AWS Security Best Practices"]


def write_finding(statement):
    return findings.finding(
        "s3-endpoint-policy-write", "vpce-1", "m", {"statement": statement, "vpc_endpoint_id": "vpce-1"}
    )


def test_two_findings_of_one_id_on_one_resource_keep_their_ids_when_the_other_goes():
    entry = notebook_entry("bob", "no-subnet")
    entry["findings"] += [write_finding({"Sid": "A"}), write_finding({"Sid": "B"})]
    both = security_hub.current_findings(audit(entry), ACCOUNT, PRODUCT)
    assert len(both) == 3 and not any(i.endswith("/1") for i in both)
    entry["findings"] = [entry["findings"][0], entry["findings"][2]]  # statement A fixed
    left = security_hub.current_findings(audit(entry), ACCOUNT, PRODUCT)
    assert set(left) < set(both) and len(left) == 2
    # Findings that share everything are told apart by their order.
    entry["findings"] = [write_finding({"Sid": "C"}), write_finding({"Sid": "C"})]
    twins = sorted(security_hub.current_findings(audit(entry), ACCOUNT, PRODUCT))
    assert len(twins) == 2 and twins[1] == twins[0] + "/1"


def test_long_text_is_clipped_to_the_asff_limits():
    entry = notebook_entry("c", "no-subnet")
    entry["findings"][0].update(message="m" * 5000, remediation="r" * 900, title="t" * 400)
    found = list(security_hub.current_findings(audit(entry), ACCOUNT, PRODUCT).values())
    assert len(found) == 1
    asff = found[0]
    assert len(asff["Description"]) == 1024 and asff["Description"].endswith("...")
    assert len(asff["Title"]) == 256 and len(asff["Remediation"]["Recommendation"]["Text"]) == 512


# --- the round trip on the emulator --------------------------------------------------------------------


def test_round_trip_batches_updates_resolves_and_never_duplicates(hub):
    # 150 findings: two requests.
    entries = [notebook_entry("nb-%03d" % i, "root-access-enabled", "imdsv1-allowed", "no-subnet") for i in range(50)]
    result = audit(*entries)
    first = security_hub.export(hub, spec(result), ACCOUNT, False, NOW)
    assert (len(first["created"]), first["batches"], first["changed"]) == (150, 2, True)
    held = stored(hub)
    assert sorted(held) == first["created"]
    assert {f["RecordState"] for f in held.values()} == {"ACTIVE"}
    assert {f["Workflow"]["Status"] for f in held.values()} == {"NEW"}

    # The same audit again: nothing to send.
    again = security_hub.export(hub, spec(result), ACCOUNT, False, NOW + datetime.timedelta(minutes=5))
    assert (again["changed"], again["batches"], len(again["unchanged"])) == (False, 0, 150)

    # nb-000 fixed its root access; nb-001's finding says something new; nb-002 was not audited this time.
    fixed = copy.deepcopy(result)
    fixed["notebooks"][0]["findings"] = [f for f in fixed["notebooks"][0]["findings"] if f["id"] != "no-subnet"]
    fixed["notebooks"][1]["findings"][0]["message"] = "root access is enabled again"
    del fixed["notebooks"][2]
    later = NOW + datetime.timedelta(hours=1)
    third = security_hub.export(hub, spec(fixed), ACCOUNT, False, later)
    assert len(third["resolved"]) == 1 and "/nb-000/no-subnet/" in third["resolved"][0]
    assert len(third["updated"]) == 1 and "/nb-001/root-access-enabled/" in third["updated"][0]
    assert third["created"] == [] and third["batches"] == 1
    held = stored(hub)
    assert len(held) == 150  # updated and resolved in place: no duplicate
    gone = held[third["resolved"][0]]
    assert gone["RecordState"] == "ARCHIVED" and gone["Compliance"]["Status"] == "PASSED"
    assert held[third["updated"][0]]["Description"] == "root access is enabled again"
    assert held[third["updated"][0]]["CreatedAt"] == held[first["created"][0]]["CreatedAt"]
    # nb-002 was not audited: its findings stay active.
    assert all(held[i]["RecordState"] == "ACTIVE" for i in held if "/nb-002/" in i)

    # The finding comes back: the archived one is made active again, still no duplicate.
    back = security_hub.export(hub, spec(result), ACCOUNT, False, later + datetime.timedelta(hours=1))
    assert back["reopened"] == third["resolved"] and back["created"] == []
    held = stored(hub)
    assert len(held) == 150 and held[third["resolved"][0]]["RecordState"] == "ACTIVE"
    assert held[third["resolved"][0]]["Compliance"]["Status"] == "FAILED"


def test_a_deleted_notebook_is_resolved_when_not_found_or_with_resolve_others(hub):
    result = audit(notebook_entry("gone", "no-subnet"), notebook_entry("other", "no-subnet"))
    security_hub.export(hub, spec(result), ACCOUNT, False, NOW)
    listed = audit(not_found=["gone"])
    step = security_hub.export(hub, spec(listed), ACCOUNT, False, NOW + datetime.timedelta(minutes=1))
    assert [i.split("/")[2] for i in step["resolved"]] == ["gone"]
    rest = security_hub.export(
        hub, spec(audit(), resolve_others=True), ACCOUNT, False, NOW + datetime.timedelta(minutes=2)
    )
    assert [i.split("/")[2] for i in rest["resolved"]] == ["other"]
    assert {f["RecordState"] for f in stored(hub).values()} == {"ARCHIVED"}


def test_check_mode_sends_nothing(hub):
    result = security_hub.export(hub, spec(audit(notebook_entry("a", "no-subnet"))), ACCOUNT, True, NOW)
    assert result["changed"] and len(result["created"]) == 1 and result["batches"] == 0
    assert stored(hub) == {}


def test_an_unchanged_finding_is_refreshed_before_security_hub_would_delete_it(hub):
    result = audit(notebook_entry("a", "no-subnet"))
    security_hub.export(hub, spec(result), ACCOUNT, False, NOW)
    soon = security_hub.export(hub, spec(result), ACCOUNT, False, NOW + datetime.timedelta(days=29))
    late = security_hub.export(hub, spec(result), ACCOUNT, False, NOW + datetime.timedelta(days=31))
    assert soon["changed"] is False and len(late["updated"]) == 1
    [held] = stored(hub).values()
    assert held["UpdatedAt"].startswith("2027-01-04T12:00:00.000")


def test_other_providers_findings_are_left_alone(hub):
    hub.batch_import_findings(Findings=[asff(1, GeneratorId="other-tool", RecordState="ACTIVE")])
    security_hub.export(hub, spec(audit(), resolve_others=True), ACCOUNT, False, NOW)
    assert stored(hub)["f-1"]["RecordState"] == "ACTIVE"
    assert security_hub.stored_findings(hub, PRODUCT) == {}


def test_a_hub_that_is_not_enabled_fails_naming_it(emulator):
    client = on_emulator(emulator, "securityhub")
    with pytest.raises(NotebooksError) as error:
        security_hub.export(client, spec(audit(notebook_entry("a", "no-subnet"))), ACCOUNT, False, NOW)
    assert str(error.value).startswith("Security Hub is not enabled in this account and region (")
    assert error.value.details["error"]["Code"] == "InvalidAccessException"


def test_findings_refused_one_by_one_fail_the_task_with_their_reasons():
    """The import's own answer for a hub that is not enabled (documented): FailedFindings, InvalidAccess."""
    client, stub = stubbed("securityhub")
    stub.add_response("get_findings", {"Findings": []})
    refused = {"Id": "x", "ErrorCode": "InvalidAccess", "ErrorMessage": "Account %s is not subscribed" % ACCOUNT}
    stub.add_response("batch_import_findings", {"FailedCount": 1, "SuccessCount": 0, "FailedFindings": [refused]})
    with pytest.raises(NotebooksError) as error:
        security_hub.export(client, spec(audit(notebook_entry("a", "no-subnet"))), ACCOUNT, False, NOW)
    assert "Security Hub refused 1 of 1 findings (InvalidAccess: Account %s is not subscribed)" % ACCOUNT in str(
        error.value
    )
    assert error.value.details["failed"] == [refused]


def test_a_notebook_whose_check_failed_keeps_its_findings_open(hub):
    security_hub.export(hub, spec(audit(notebook_entry("a", "subnet-egress-route"))), ACCOUNT, False, NOW)
    failed = notebook_entry("a")
    failed["findings"] = [findings.check_failed("route-table", "subnet-1", "DescribeRouteTables", "Throttling")]
    step = security_hub.export(hub, spec(audit(failed)), ACCOUNT, False, NOW + datetime.timedelta(minutes=1))
    assert step["resolved"] == [] and len(step["created"]) == 1
    assert {f["RecordState"] for f in stored(hub).values()} == {"ACTIVE"}


def test_what_security_hub_adds_does_not_make_a_finding_look_changed(hub):
    result = audit(notebook_entry("a", "no-subnet"))
    security_hub.export(hub, spec(result), ACCOUNT, False, NOW)
    [held] = stored(hub).values()
    assert held["Severity"]["Normalized"] == 70 and "aws/securityhub/FindingId" in held["ProductFields"]
    again = security_hub.export(hub, spec(result), ACCOUNT, False, NOW + datetime.timedelta(minutes=1))
    assert again["changed"] is False
    # Resolved, it is sent back with this collection's own attributes only.
    gone = security_hub.export(hub, spec(audit(notebook_entry("a"))), ACCOUNT, False, NOW + datetime.timedelta(2))
    assert len(gone["resolved"]) == 1
    [held] = stored(hub).values()
    assert held["RecordState"] == "ARCHIVED" and held["Severity"]["Normalized"] == 70


# --- the emulator's Security Hub, against the documented rules ------------------------------------------


def asff(number, **changes):
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": "f-%d" % number,
        "ProductArn": PRODUCT,
        "GeneratorId": "g/%d" % number,
        "AwsAccountId": ACCOUNT,
        "CreatedAt": "2026-12-01T00:00:00.000Z",
        "UpdatedAt": "2026-12-01T00:00:00.000Z",
        "Title": "t",
        "Description": "d",
        "Severity": {"Label": "LOW"},
        "Types": ["TTPs"],
        "Resources": [{"Type": "Other", "Id": "x"}],
    }
    finding.update(changes)
    return finding


def test_emulator_takes_at_most_100_findings_a_request(hub):
    with pytest.raises(ClientError) as error:
        hub.batch_import_findings(Findings=[asff(i) for i in range(101)])
    assert error.value.response["Error"]["Code"] == "InvalidInputException"
    assert hub.batch_import_findings(Findings=[asff(i) for i in range(100)])["SuccessCount"] == 100


def test_emulator_ignores_an_update_that_is_not_later_and_the_workflow_a_provider_sends(hub):
    hub.batch_import_findings(Findings=[asff(1, Workflow={"Status": "SUPPRESSED"})])
    hub.batch_import_findings(Findings=[asff(1, Title="same time")])
    [held] = stored(hub).values()
    assert held["Title"] == "t" and held["Workflow"] == {"Status": "NEW"}
    answer = hub.batch_import_findings(Findings=[asff(2, Title="x" * 257)])
    assert answer["FailedCount"] == 1 and answer["FailedFindings"][0]["ErrorCode"] == "InvalidInput"


def test_emulator_filters_as_get_findings_documents(hub):
    hub.batch_import_findings(Findings=[asff(1), asff(2, GeneratorId="h/2"), asff(3, RecordState="ARCHIVED")])

    def ids(**filters):
        return sorted(f["Id"] for f in hub.get_findings(Filters=filters)["Findings"])

    assert ids(GeneratorId=[{"Value": "g/", "Comparison": "PREFIX"}]) == ["f-1", "f-3"]
    assert ids(GeneratorId=[{"Value": "g/1", "Comparison": "EQUALS"}, {"Value": "h/2", "Comparison": "EQUALS"}]) == [
        "f-1",
        "f-2",
    ]
    assert ids(
        GeneratorId=[{"Value": "g/", "Comparison": "PREFIX"}],
        RecordState=[{"Value": "ARCHIVED", "Comparison": "NOT_EQUALS"}],
    ) == ["f-1"]
    assert ids(Id=[{"Value": "F-1", "Comparison": "EQUALS"}]) == []  # case sensitive
    with pytest.raises(ClientError):
        ids(Id=[{"Value": "f-1", "Comparison": "EQUALS"}, {"Value": "f-2", "Comparison": "NOT_EQUALS"}])
    with pytest.raises(ClientError):
        ids(CompanyName=[{"Value": "x", "Comparison": "EQUALS"}])  # not evaluated here: refused, not dropped


@pytest.mark.parametrize(
    "stored_finding, incoming, status",
    [
        ({"Workflow": {"Status": "RESOLVED"}, "RecordState": "ARCHIVED"}, {"RecordState": "ACTIVE"}, "NEW"),
        (
            {"Workflow": {"Status": "NOTIFIED"}, "Compliance": {"Status": "PASSED"}},
            {"Compliance": {"Status": "FAILED"}},
            "NEW",
        ),
        ({"Workflow": {"Status": "SUPPRESSED"}, "RecordState": "ARCHIVED"}, {"RecordState": "ACTIVE"}, "SUPPRESSED"),
        ({"Workflow": {"Status": "RESOLVED"}, "RecordState": "ACTIVE"}, {"RecordState": "ACTIVE"}, "RESOLVED"),
    ],
)
def test_emulator_workflow_goes_back_to_new_as_documented(stored_finding, incoming, status):
    assert emulated._workflow(stored_finding, incoming)["Status"] == status
