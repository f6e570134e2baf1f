# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the audit's finding catalogue."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import findings


def test_every_finding_id_is_documented_in_the_module():
    import os

    path = os.path.join(os.path.dirname(findings.__file__), "..", "..", "modules", "isolation_audit.py")
    with open(path) as handle:
        text = handle.read()
    for finding_id in findings.FINDINGS:
        assert "C(%s)" % finding_id in text, finding_id
    assert copy.deepcopy(findings.FINDINGS) == findings.FINDINGS


def test_failed_checks_and_counts():
    """A check that cannot be made about the network or the role is high, about the script medium."""
    network = findings.check_failed("subnet", "subnet-1", "DescribeSubnets", "not found")
    script = findings.check_failed("script", "s3://b/k", "GetObject", "AccessDenied")
    assert (network["id"], network["severity"], script["severity"]) == ("check-failed", "high", "medium")
    assert network["evidence"] == {"check": "subnet", "resource": "subnet-1", "operation": "DescribeSubnets",
                                   "error": "not found"}  # fmt: skip
    assert findings.count_by_severity([network, script]) == {"high": 1, "medium": 1, "low": 0, "total": 2}
    assert findings.highest_severity([script]) == "medium" and findings.highest_severity([]) == "none"
