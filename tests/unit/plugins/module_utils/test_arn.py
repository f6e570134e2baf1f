# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names and ARNs: one rule, asked by every caller, the role's validate.yml included."""

import pathlib
import re

import jinja2
import pytest
import yaml
from ansible_collections.secure_sagemaker.notebooks.plugins.filter.notebooks import FilterModule
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import arn, lifecycle_config, notebook
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError

COLLECTION = pathlib.Path(__file__).resolve().parents[4]
VALIDATE = COLLECTION / "roles" / "isolated_notebook" / "tasks" / "validate.yml"

# (name, valid by SageMaker's rule: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$, 1..63 characters)
NAMES = [
    ("a", True),
    ("research-alice", True),
    ("a--b", True),
    ("A1-b2", True),
    ("a" * 63, True),
    ("a" * 64, False),
    # 102 characters that match the pattern: a copy with {0,62} repetitions of (-*[a-zA-Z0-9]) took it.
    ("a" + "-a" * 50 + "a", False),
    ("", False),
    ("-lead", False),
    ("trail-", False),
    ("under_score", False),
    ("dot.name", False),
    ("spa ce", False),
]


def _raises(function, *args):
    try:
        function(*args)
    except NotebooksError:
        return True
    return False


def _role_rules():
    """The conditions of validate.yml that check a name, by the field they guard."""
    rules = {}
    for task in yaml.safe_load(VALIDATE.read_text()):
        assertion = task.get("ansible.builtin.assert") or {}
        for condition in assertion.get("that") if isinstance(assertion.get("that"), list) else []:
            if "item.name" in condition:
                rules["notebook"] = condition
        for item in task.get("loop") if isinstance(task.get("loop"), list) else []:
            if item.get("field") == "isolated_notebook_name_prefix":
                rules["prefix"] = item["rule"]
    return rules


def _render(condition, **variables):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(("secure_sagemaker.notebooks." + k, v) for k, v in FilterModule().filters().items())
    return env.compile_expression(condition)(**variables)


@pytest.mark.parametrize("name, valid", NAMES, ids=lambda v: str(v)[:20] if isinstance(v, str) else str(v))
def test_every_caller_applies_the_same_name_rule(name, valid):
    assert (arn.name_error(name) is None) is valid
    assert _raises(notebook.validate, {"name": name}) is not valid
    assert _raises(lifecycle_config.validate_name, name) is not valid
    lcc_problem = _raises(notebook.validate, {"name": "ok", "lifecycle_config_name": name})
    assert lcc_problem is (not valid and name != "")  # "" detaches: not a name
    assert _render(_role_rules()["notebook"], item={"name": name}) is valid


@pytest.mark.parametrize("length, valid", [(40, True), (41, False)])
def test_the_role_prefix_is_the_same_rule_at_most_40(length, valid):
    prefix = "p" * length
    assert _render(_role_rules()["prefix"], _isolated_notebook_stack_name_prefix=prefix) is valid
    assert _render(_role_rules()["prefix"], _isolated_notebook_stack_name_prefix="bad_prefix") is False


def test_one_message_names_the_field_and_the_rule():
    assert arn.name_error(
        "a" * 64, "names[2]"
    ) == "names[2] '%s' is 64 characters long; SageMaker allows at most 63" % ("a" * 64)
    message = arn.name_error("x_y", "lifecycle_config_name", "lifecycle configuration")
    assert message.startswith("lifecycle_config_name 'x_y' is not a valid lifecycle configuration name")
    assert arn.NAME_PATTERN in message
    assert arn.name_error("", "name") == "name must not be empty"


def test_the_pattern_is_written_once():
    """No other copy of the name pattern under plugins/ or roles/: they ask arn.py."""
    copies = []
    for path in list((COLLECTION / "plugins").rglob("*.py")) + list((COLLECTION / "roles").rglob("*.yml")):
        if path.name == "arn.py":
            continue
        if re.search(r"\(-\*\[a-zA-Z0-9\]\)", path.read_text()):
            copies.append(str(path.relative_to(COLLECTION)))
    assert copies == []


@pytest.mark.parametrize(
    "region, partition", [("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]
)
def test_partition_of(region, partition):
    assert arn.partition_of(region) == partition


KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    "value, expected",
    [
        (KEY_ID, "arn:aws:kms:eu-west-1:123456789012:key/" + KEY_ID),
        ("alias/scripts", "arn:aws:kms:eu-west-1:123456789012:alias/scripts"),
        ("arn:aws:kms:us-east-1:111111111111:key/" + KEY_ID, "arn:aws:kms:us-east-1:111111111111:key/" + KEY_ID),
        ("", ""),
        (None, ""),
    ],
)
def test_kms_key_arn_is_one_normaliser(value, expected):
    assert arn.kms_key_arn(value, "aws", "eu-west-1", "123456789012") == expected


def test_principal_arn_of_an_assumed_role_session():
    assert arn.principal_arn("arn:aws:sts::123456789012:assumed-role/Admin/alice") == (
        "arn:aws:iam::123456789012:role/Admin"
    )
    assert arn.principal_arn("arn:aws:iam::123456789012:user/bob") == "arn:aws:iam::123456789012:user/bob"


def test_notebook_arns_list_both_spellings():
    assert arn.notebook_arns(["Nb"], "eu-west-1", "1") == [
        "arn:aws:sagemaker:eu-west-1:1:notebook-instance/Nb",
        "arn:aws:sagemaker:eu-west-1:1:notebook-instance/nb",
    ]


def test_dns_suffixes_are_botocore_s_and_every_partition_of_a_region_has_one():
    import json
    import os

    import botocore

    with open(os.path.join(os.path.dirname(botocore.__file__), "data", "endpoints.json")) as handle:
        endpoints = json.load(handle)
    suffixes = {p["partition"]: p["dnsSuffix"] for p in endpoints["partitions"]}
    for partition, suffix in arn.DNS_SUFFIX.items():
        assert suffixes[partition] == suffix
    for partition in endpoints["partitions"]:
        for region in partition["regions"]:
            if partition["partition"] in arn.DNS_SUFFIX:
                assert arn.partition_of(region) == partition["partition"], region


def test_kms_via_service_names_the_partition_s_s3_host():
    from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies

    key = "arn:aws-cn:kms:cn-north-1:123456789012:key/" + KEY_ID
    [decrypt] = [
        s for s in policies.s3_read_policy("b", "p/", "cn-north-1", key)["Statement"] if s["Action"] == "kms:Decrypt"
    ]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "s3.cn-north-1.amazonaws.com.cn"}}
