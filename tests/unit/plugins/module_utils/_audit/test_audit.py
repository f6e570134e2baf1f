# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the audit on top: option validation, the result that report() builds from
gathered data (plain data, no AWS), the fail_on threshold."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import audit
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils._audit.audit_data import (
    BUCKET,
    REGION,
    bucket_data,
    gathered,
    ids,
    notebook,
)

# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, field, start",
    [
        ({"names": []}, "names", "names:"),
        ({"names": ["ok", "bad_name"]}, "names", "names[1] 'bad_name' is not a valid notebook instance name"),
        ({"names": ["-x"]}, "names", "names[0] '-x' is not a valid notebook instance name"),
        ({"names": ["a" * 64]}, "names", "names[0] '%s' is 64 characters long" % ("a" * 64)),
        ({"fail_on": "critical"}, "fail_on", "fail_on:"),
    ],
)
def test_validate_names_the_field(params, field, start):
    with pytest.raises(NotebooksError) as raised:
        audit.validate(params)
    assert raised.value.msg.startswith(start)
    assert raised.value.details == {"field": field}


# The audit's own pattern, ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$, counted groups, not characters: with
# hyphens in the groups it let a 102-character name through.  arn.name_error is the one rule.
@pytest.mark.parametrize("name", ["a" * 64, "a" + "-a" * 39 + "a" * 23], ids=["64", "102"])
def test_validate_refuses_names_longer_than_sagemaker_allows(name):
    assert arn.NAME_RE.match(name) and len(name) in (64, 102)
    if len(name) == 102:
        assert re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", name)
    with pytest.raises(NotebooksError) as raised:
        audit.validate({"names": ["ok", name]})
    assert raised.value.msg == "names[1] '%s' is %d characters long; SageMaker allows at most 63" % (name, len(name))
    assert audit.validate({"names": [name[:63].rstrip("-")]})["names"] == [name[:63].rstrip("-")]


def test_validate_defaults_and_deduplicates():
    assert audit.validate({}) == {"names": None, "fail_on": "never", "allow_root_access": False}
    assert audit.validate({"names": ["b", "a", "b"], "fail_on": "high"})["names"] == ["b", "a"]


# --- result, severity threshold --------------------------------------------------------------------


def report(data):
    return audit.report(data, audit.validate({}), REGION, {})


@pytest.mark.parametrize(
    "changes, fail_on, reaches",
    [
        ({}, "low", False),
        ({"RootAccess": "Enabled"}, "high", False),
        ({"RootAccess": "Enabled"}, "medium", True),
        ({"RootAccess": "Enabled"}, "low", True),
        ({"DirectInternetAccess": "Enabled"}, "high", True),
        ({"DirectInternetAccess": "Enabled"}, "never", False),
    ],
)
def test_fail_on(changes, fail_on, reaches):
    result = report(gathered({"nb-1": notebook(**changes), "nb-2": notebook("nb-2")}))
    assert audit.reaches(result, fail_on) is reaches
    if reaches:
        assert audit.failure_message(result, fail_on).startswith("1 of 2 notebooks have findings of severity")


def test_result_counts_and_isolation():
    fleet = {"nb-1": notebook(), "nb-2": notebook("nb-2", DirectInternetAccess="Enabled", RootAccess="Enabled")}
    result = report(gathered(fleet))
    assert [(n["name"], n["isolated"], n["counts"]) for n in result["notebooks"]] == [
        ("nb-1", True, {"high": 0, "medium": 0, "low": 0, "total": 0}),
        ("nb-2", False, {"high": 1, "medium": 1, "low": 0, "total": 2}),
    ]
    assert result["counts"] == {"high": 1, "medium": 1, "low": 0, "total": 2}
    assert result["summary"] == {"notebooks": 2, "isolated": 1, "not_isolated": 1}
    assert result["highest_severity"] == "high" and result["changed"] is False
    # The most severe first, so the report reads top-down.
    assert [f["id"] for f in result["notebooks"][1]["findings"]] == ["direct-internet-access", "root-access-enabled"]


def test_shared_findings_are_copies():
    fleet = {"nb-1": notebook(), "nb-2": notebook("nb-2")}
    result = report(gathered(fleet, buckets={BUCKET: bucket_data(encryption=None)}))
    first, second = (n["findings"] for n in result["notebooks"])
    assert ids(first) == ids(second) == ["bucket-not-encrypted"]
    assert first[0] is not second[0]
    first[0]["evidence"]["bucket"] = "changed"
    assert second[0]["evidence"]["bucket"] == BUCKET
