# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that only the role uses directly."""

from ansible_collections.secure_sagemaker.notebooks.plugins.filter.notebooks import (
    FilterModule,
    job_summary,
    unknown_instance_types,
    volume_key,
    with_defaults,
)


def test_unknown_instance_types_keeps_order_and_only_the_unknown():
    types = ["ml.bogus.large", "ml.t3.medium", "ml.p3.2xlarge", "ml.t3.gigantic"]
    assert unknown_instance_types(types) == ["ml.bogus.large", "ml.t3.gigantic"]
    assert unknown_instance_types([]) == []


def test_every_filter_is_registered_with_a_doc():
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    docs = os.path.join(here, "..", "..", "..", "..", "plugins", "filter")
    for name in FilterModule().filters():
        assert os.path.exists(os.path.join(docs, name + ".yml")), name


def test_stack_endpoints_sorts_by_the_stack_tag():
    from ansible_collections.secure_sagemaker.notebooks.plugins.filter.notebooks import stack_endpoints

    def endpoint(vpce, service, kind, tags=None, state="available"):
        return {"vpc_endpoint_id": vpce, "service_name": "com.amazonaws.eu-west-1." + service,
                "vpc_endpoint_type": kind, "state": state,
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]}  # fmt: skip

    found = [
        endpoint("vpce-own-s3", "s3", "Gateway", {"isolated-notebook-stack": "team-a", "Name": "x"}),
        endpoint("vpce-shared-s3", "s3", "Gateway"),
        endpoint("vpce-b-api", "sagemaker.api", "Interface", {"isolated-notebook-stack": "team-b"}),
        endpoint("vpce-s3-interface", "s3", "Interface"),  # another kind: not one the role keeps
        endpoint("vpce-ecr", "ecr.api", "Interface"),
        endpoint("vpce-gone", "s3", "Gateway", state="deleted"),
        endpoint("vpce-own-logs", "logs", "Interface", {"isolated-notebook-stack": "team-a"}),
    ]
    result = stack_endpoints(found, "eu-west-1", "team-a")
    assert [(e["id"], e["name"]) for e in result["own"]] == [("vpce-own-s3", "s3"), ("vpce-own-logs", "logs")]
    assert [(e["id"], e["stack"]) for e in result["other"]] == [("vpce-shared-s3", None), ("vpce-b-api", "team-b")]
    assert stack_endpoints([], "eu-west-1", "team-a") == {"own": [], "other": []}


def test_job_summary_of_a_fleet_entry_and_of_a_loop_result():
    entry = {
        "name": "nb-1",
        "changed": True,
        "actions": ["stop", "start"],
        "notebook_instance": {"notebook_instance_name": "nb-1", "notebook_instance_status": "InService"},
    }
    assert job_summary(entry) == {
        "name": "nb-1",
        "status": "InService",
        "actions": ["stop", "start"],
        "changed": True,
        "restarted": True,
        "line": "nb-1: InService (stop, start)",
    }
    # A failed fleet entry has no notebook description: the name still comes through.
    failed = job_summary({"name": "nb-2", "failed": True, "actions": [], "notebook_instance": {}})
    assert failed["name"] == "nb-2" and failed["status"] == "unknown" and not failed["restarted"]
    looped = job_summary({"item": {"name": "nb-3"}, "changed": False, "actions": []})
    assert looped["line"] == "nb-3: unknown" and not looped["changed"]


def test_with_defaults_leaves_unset_fields_out():
    defaults = {"instance_type": "ml.t3.medium", "kms_key_id": "", "volume_size_in_gb": 5, "tags": {"d": "1"}}
    item = {"name": "nb-1", "instance_type": None, "volume_size_in_gb": 20, "root_access": "", "tags": {"i": "2"}}
    assert with_defaults(item, defaults, {"c": "0"}) == {
        "name": "nb-1", "instance_type": "ml.t3.medium", "volume_size_in_gb": 20,
        "tags": {"c": "0", "d": "1", "i": "2"},
    }  # fmt: skip


def test_volume_key_is_a_default_that_only_warns_and_a_named_key_stays_strict():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    own = "arn:aws:kms:us-east-1:123456789012:key/own"
    items = [{"name": "a"}, {"name": "b", "kms_key_id": own}]
    assert volume_key(items, key) == [
        {"name": "a", "kms_key_id": key, "kms_key_mismatch": "warn"},
        {"name": "b", "kms_key_id": own},
    ]
    assert volume_key(items, "") == items
    assert items == [{"name": "a"}, {"name": "b", "kms_key_id": own}]  # not changed in place


def test_each_notebook_gets_its_own_role_at_the_stacks_path():
    from ansible_collections.secure_sagemaker.notebooks.plugins.filter.notebooks import notebook_roles, own_roles

    homes = {
        "nb-b": {"bucket": "h", "prefix": "homes/nb-b/", "access": "read-write", "account": "", "kms_key_arn": ""},
        "nb-a": {"bucket": "h", "prefix": "homes/nb-a/", "access": "read-write", "account": "", "kms_key_arn": ""},
    }
    roles = notebook_roles(homes, "ds-alpha", "eu-west-1", "123456789012")
    assert [(r["notebook"], r["role"], r["path"], r["arn"]) for r in roles] == [
        ("nb-a", "ds-alpha-nb-nb-a", "/ds-alpha/", "arn:aws:iam::123456789012:role/ds-alpha/ds-alpha-nb-nb-a"),
        ("nb-b", "ds-alpha-nb-nb-b", "/ds-alpha/", "arn:aws:iam::123456789012:role/ds-alpha/ds-alpha-nb-nb-b"),
    ]
    assert roles[0]["check"][1] == "role_inline" and roles[0]["check"][2] == roles[0]["policy"]
    items = [{"name": "nb-a", "role_arn": "shared"}, {"name": "other", "role_arn": "shared"}]
    assert [i["role_arn"] for i in own_roles(items, roles)] == [roles[0]["arn"], "shared"]
    assert notebook_roles({}, "ds", "eu-west-1", "123456789012") == []
