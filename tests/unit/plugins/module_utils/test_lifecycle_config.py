# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation, comparison and the create/update/delete decisions of lifecycle_config, without AWS."""

import base64
import datetime
import hashlib

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import lifecycle_config as lcc
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from botocore.exceptions import ClientError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance-lifecycle-config/%s"
WRITES = {
    "create_notebook_instance_lifecycle_config",
    "update_notebook_instance_lifecycle_config",
    "delete_notebook_instance_lifecycle_config",
    "add_tags",
    "delete_tags",
}


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Pages:
    def __init__(self, key, items):
        self.key, self.items = key, items

    def __iter__(self):
        return iter([{self.key: list(self.items)}])

    def build_full_result(self):
        return {self.key: list(self.items)}


class FakeSageMaker:
    """Just enough SageMaker for the module's logic; answers shaped like the real API's."""

    def __init__(self, configs=None, notebooks=None, tags=None):
        self.configs = configs or {}
        self.notebooks = notebooks or []
        self.tags = tags or {}
        self.calls = []

    def _missing(self, op, name):
        return ClientError(
            {
                "Error": {
                    "Code": "ValidationException",
                    "Message": "Unable to %s Notebook Instance Lifecycle Config '%s'. (Details: Notebook Instance "
                    "Lifecycle Config does not exist.)" % (op, ARN % name),
                }
            },
            op,
        )

    def writes(self):
        return [call for call in self.calls if call[0] in WRITES]

    def describe_notebook_instance_lifecycle_config(self, NotebookInstanceLifecycleConfigName, aws_retry=False):
        self.calls.append(("describe", NotebookInstanceLifecycleConfigName))
        if NotebookInstanceLifecycleConfigName not in self.configs:
            raise self._missing("describe", NotebookInstanceLifecycleConfigName)
        return dict(self.configs[NotebookInstanceLifecycleConfigName], ResponseMetadata={})

    def create_notebook_instance_lifecycle_config(self, NotebookInstanceLifecycleConfigName, aws_retry=False, **kw):
        name = NotebookInstanceLifecycleConfigName
        self.calls.append(("create_notebook_instance_lifecycle_config", name, kw))
        now = datetime.datetime(2026, 11, 28, 4, 0, tzinfo=datetime.timezone.utc)
        self.configs[name] = {
            "NotebookInstanceLifecycleConfigArn": ARN % name,
            "NotebookInstanceLifecycleConfigName": name,
            "CreationTime": now,
            "LastModifiedTime": now,
        }
        for member in ("OnStart", "OnCreate"):
            if member in kw:
                self.configs[name][member] = kw[member]
        self.tags[ARN % name] = list(kw.get("Tags", []))
        return {"NotebookInstanceLifecycleConfigArn": ARN % name}

    def update_notebook_instance_lifecycle_config(self, NotebookInstanceLifecycleConfigName, aws_retry=False, **kw):
        name = NotebookInstanceLifecycleConfigName
        self.calls.append(("update_notebook_instance_lifecycle_config", name, kw))
        self.configs[name].update(kw)
        self.configs[name]["LastModifiedTime"] = datetime.datetime(2026, 11, 28, 5, 0, tzinfo=datetime.timezone.utc)

    def delete_notebook_instance_lifecycle_config(self, NotebookInstanceLifecycleConfigName, aws_retry=False):
        self.calls.append(("delete_notebook_instance_lifecycle_config", NotebookInstanceLifecycleConfigName))
        if NotebookInstanceLifecycleConfigName not in self.configs:
            raise self._missing("delete", NotebookInstanceLifecycleConfigName)
        del self.configs[NotebookInstanceLifecycleConfigName]

    def add_tags(self, ResourceArn, Tags, aws_retry=False):
        self.calls.append(("add_tags", ResourceArn, Tags))
        keys = {t["Key"] for t in Tags}
        self.tags[ResourceArn] = [t for t in self.tags.get(ResourceArn, []) if t["Key"] not in keys] + Tags

    def delete_tags(self, ResourceArn, TagKeys, aws_retry=False):
        self.calls.append(("delete_tags", ResourceArn, TagKeys))
        self.tags[ResourceArn] = [t for t in self.tags.get(ResourceArn, []) if t["Key"] not in TagKeys]

    def get_paginator(self, operation):
        fake = self

        class Paginator:
            def paginate(self, **kw):
                fake.calls.append((operation, kw))
                if operation == "list_tags":
                    return Pages("Tags", fake.tags.get(kw["ResourceArn"], []))
                if operation == "list_notebook_instances":
                    contains = kw.get("NotebookInstanceLifecycleConfigNameContains", "")
                    found = [n for n in fake.notebooks if contains in n.get("NotebookInstanceLifecycleConfigName", "")]
                    return Pages("NotebookInstances", found)
                if operation == "list_notebook_instance_lifecycle_configs":
                    contains = kw.get("NameContains", "")
                    found = [c for name, c in fake.configs.items() if contains in name]
                    return Pages("NotebookInstanceLifecycleConfigs", found)
                raise AssertionError("unexpected paginator " + operation)

        return Paginator()


def existing(name="autostop", on_start=None, on_create=None):
    config = {
        "NotebookInstanceLifecycleConfigArn": ARN % name,
        "NotebookInstanceLifecycleConfigName": name,
        "CreationTime": datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc),
        "LastModifiedTime": datetime.datetime(2026, 11, 2, tzinfo=datetime.timezone.utc),
    }
    if on_start is not None:
        config["OnStart"] = [{"Content": b64(on_start)}]
    if on_create is not None:
        config["OnCreate"] = [{"Content": b64(on_create)}]
    return config


def notebook(name, status, config="autostop"):
    return {
        "NotebookInstanceName": name,
        "NotebookInstanceArn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/" + name,
        "NotebookInstanceStatus": status,
        "NotebookInstanceLifecycleConfigName": config,
    }


def manager(fake, check_mode=False, diff=False):
    warnings = []
    configs = lcc.LifecycleConfigs(fake, check_mode=check_mode, want_diff=diff, warn=warnings.append)
    return configs, warnings


def params(**kw):
    base = {"name": "autostop", "state": "present", "on_start": None, "on_create": None, "tags": None}
    base["purge_tags"] = True
    base.update(kw)
    return base


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "autostop", "Auto-Stop-2", "a--b", "9", "x" * 63])
def test_valid_names(name):
    assert lcc.validate_name(name) == name


@pytest.mark.parametrize(
    "name, words",
    [
        ("", ["name must not be empty"]),
        ("x" * 64, ["64 characters", "at most 63"]),
        ("-lead", ["pattern", "starting and ending"]),
        ("trail-", ["pattern"]),
        ("under_score", ["pattern"]),
        ("dot.name", ["pattern"]),
        ("spa ce", ["pattern"]),
    ],
)
def test_invalid_names_name_the_field_and_rule(name, words):
    with pytest.raises(NotebooksError) as error:
        lcc.validate_name(name)
    assert error.value.msg.startswith("name ")
    for word in words:
        assert word in error.value.msg


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\t \n"])
@pytest.mark.parametrize("field", ["on_start", "on_create"])
def test_empty_script_is_rejected(field, text):
    with pytest.raises(NotebooksError) as error:
        lcc.validate(params(**{field: text}))
    assert error.value.msg.startswith(field + " is empty")


def test_size_limit_is_on_the_base64_length():
    # 12288 bytes encode to exactly 16384 base64 characters: the largest accepted script.
    assert lcc.SCRIPT_MAX_BYTES == 12288
    assert lcc.base64_length(12288) == 16384
    assert len(lcc.validate(params(on_start="a" * 12288))["on_start"]) == 12288
    with pytest.raises(NotebooksError) as error:
        lcc.validate(params(on_start="a" * 12289))
    msg = error.value.msg
    assert msg.startswith("on_start is too large")
    assert "12289 bytes" in msg and "16388 characters once base64-encoded" in msg and "16384" in msg


def test_size_counts_utf8_bytes_not_characters():
    text = "\u00e9" * 6145  # 6145 characters, 12290 bytes
    with pytest.raises(NotebooksError) as error:
        lcc.validate(params(on_create=text))
    assert error.value.msg.startswith("on_create is too large") and "12290 bytes" in error.value.msg


def test_base64_length_matches_the_encoder():
    for size in range(0, 40):
        assert lcc.base64_length(size) == len(base64.b64encode(b"x" * size))


def test_undecodable_bytes_are_rejected():
    # What Ansible makes of a non-UTF-8 file: the bad byte as a lone surrogate.
    text = b"#!/bin/bash\necho \xff\n".decode("utf-8", "surrogateescape")
    with pytest.raises(NotebooksError) as error:
        lcc.validate(params(on_start=text))
    assert error.value.msg.startswith("on_start is not valid UTF-8 text")
    assert "character 17" in error.value.msg
    assert lcc.utf8_error("on_create", text).startswith("on_create is not valid UTF-8")
    assert lcc.utf8_error("on_create", "#!/bin/bash\necho caf\u00e9 \u2713\n") is None


def test_nul_is_rejected_as_not_text():
    with pytest.raises(NotebooksError) as error:
        lcc.validate(params(on_start="#!/bin/bash\n\x00"))
    assert error.value.msg.startswith("on_start is not text") and "character 12" in error.value.msg


def test_absent_checks_only_the_name():
    assert lcc.validate(params(state="absent", on_start="")) == {}
    with pytest.raises(NotebooksError):
        lcc.validate(params(state="absent", name="bad_name"))


def test_omitted_scripts_mean_no_hook():
    assert lcc.validate(params(on_start="echo\n")) == {"on_start": b"echo\n", "on_create": None}


# --- encoding and comparison ----------------------------------------------------------------------


def test_hooks_round_trip():
    data = "#!/bin/bash\necho caf\u00e9\n".encode()
    assert lcc.decode_hook(lcc.encode_hook(data)) == data
    assert lcc.encode_hook(None) == []
    assert lcc.decode_hook([]) is None and lcc.decode_hook(None) is None


def test_comparison_is_on_decoded_content():
    # The same script spelled with a line break in its base64 is not a change.
    current = lcc.scripts_of({"OnStart": [{"Content": "ZWNo\nbyBoaQo="}]})
    assert current == {"on_start": b"echo hi\n", "on_create": None}
    assert lcc.changed_scripts(current, {"on_start": b"echo hi\n", "on_create": None}) == []
    assert lcc.changed_scripts(current, {"on_start": b"echo hi", "on_create": None}) == ["on_start"]
    assert lcc.changed_scripts(current, {"on_start": b"echo hi\n", "on_create": b"x"}) == ["on_create"]
    assert lcc.changed_scripts(current, {"on_start": None, "on_create": None}) == ["on_start"]


def test_summary_decodes_and_hashes():
    scripts = {"on_start": b"echo hi\n", "on_create": None}
    result = lcc.summarize("autostop", existing(on_start="echo hi\n"), scripts, {"a": "b"}, [])
    assert result["on_start"] == "echo hi\n" and result["on_create"] is None
    assert result["on_start_sha256"] == hashlib.sha256(b"echo hi\n").hexdigest()
    assert result["on_create_sha256"] is None
    assert result["creation_time"] == "2026-11-01T00:00:00+00:00"
    assert result["arn"] == ARN % "autostop"


def test_diff_has_one_entry_per_changed_script_and_tags():
    diff = lcc.build_diff(
        "autostop",
        {"on_start": b"echo 1\n", "on_create": b"same\n"},
        {"on_start": b"echo 2\n", "on_create": b"same\n"},
        {"a": "1"},
        {"a": "2", "b": "3"},
    )
    assert diff == [
        {
            "before_header": "autostop: on_start (before)",
            "after_header": "autostop: on_start (after)",
            "before": "echo 1\n",
            "after": "echo 2\n",
        },
        {
            "before_header": "autostop: tags (before)",
            "after_header": "autostop: tags (after)",
            "before": "a=1\n",
            "after": "a=2\nb=3\n",
        },
    ]
    assert lcc.build_diff("x", {"on_start": b"a"}, {"on_start": b"a"}, {}, None) == []


# --- present --------------------------------------------------------------------------------------


def test_create_encodes_scripts_and_passes_tags():
    fake = FakeSageMaker()
    configs, _warnings = manager(fake, diff=True)
    result = configs.ensure(params(on_start="echo start\n", on_create="echo create\n", tags={"team": "r"}))
    create = [c for c in fake.writes() if c[0] == "create_notebook_instance_lifecycle_config"]
    assert len(fake.writes()) == 1 and create
    assert create[0][2] == {
        "OnStart": [{"Content": b64("echo start\n")}],
        "OnCreate": [{"Content": b64("echo create\n")}],
        "Tags": [{"Key": "team", "Value": "r"}],
    }
    assert result["changed"] is True
    assert result["arn"] == ARN % "autostop"
    assert result["on_start"] == "echo start\n" and result["on_create"] == "echo create\n"
    assert result["tags"] == {"team": "r"} and result["attached_notebooks"] == []
    assert [d["after"] for d in result["diff"]] == ["echo start\n", "echo create\n", "team=r\n"]
    assert all(d["before"] == "" for d in result["diff"])


def test_create_without_a_hook_omits_it():
    fake = FakeSageMaker()
    configs, _warnings = manager(fake)
    configs.ensure(params(on_start="echo\n"))
    assert fake.writes()[0][2] == {"OnStart": [{"Content": b64("echo\n")}]}


def test_create_in_check_mode_writes_nothing():
    fake = FakeSageMaker()
    configs, _warnings = manager(fake, check_mode=True, diff=True)
    result = configs.ensure(params(on_start="echo\n", tags={"a": "b"}))
    assert fake.writes() == [] and fake.configs == {}
    assert result["changed"] is True and result["arn"] is None and result["on_start"] == "echo\n"
    assert len(result["diff"]) == 2


def test_unchanged_config_makes_no_write_call():
    fake = FakeSageMaker(
        configs={"autostop": existing(on_start="echo\n")},
        tags={ARN % "autostop": [{"Key": "a", "Value": "b"}]},
        notebooks=[notebook("nb1", "InService")],
    )
    configs, warnings = manager(fake, diff=True)
    result = configs.ensure(params(on_start="echo\n", tags={"a": "b"}))
    assert fake.writes() == []
    assert result["changed"] is False and result["diff"] == [] and warnings == []
    assert result["restart_required"] == []
    assert result["attached_notebooks"] == [
        {"name": "nb1", "arn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb1", "status": "InService"}
    ]


def test_changed_on_start_updates_in_place_and_names_running_notebooks():
    fake = FakeSageMaker(
        configs={"autostop": existing(on_start="echo 1\n", on_create="setup\n")},
        notebooks=[
            notebook("a-running", "InService"),
            notebook("b-stopped", "Stopped"),
            notebook("c-pending", "Pending"),
            notebook("other", "InService", config="autostop-old"),
        ],
    )
    configs, warnings = manager(fake, diff=True)
    result = configs.ensure(params(on_start="echo 2\n", on_create="setup\n"))
    # Both hooks are sent, the whole desired state; the ARN stays.
    assert fake.writes() == [
        (
            "update_notebook_instance_lifecycle_config",
            "autostop",
            {"OnStart": [{"Content": b64("echo 2\n")}], "OnCreate": [{"Content": b64("setup\n")}]},
        )
    ]
    assert result["changed"] is True and result["arn"] == ARN % "autostop"
    assert result["on_start"] == "echo 2\n"
    assert result["last_modified_time"] == "2026-11-28T05:00:00+00:00"
    assert result["restart_required"] == ["a-running", "c-pending"]
    assert [n["name"] for n in result["attached_notebooks"]] == ["a-running", "b-stopped", "c-pending"]
    assert len(warnings) == 1 and "a-running, c-pending" in warnings[0] and "b-stopped" not in warnings[0]
    assert [(d["before"], d["after"]) for d in result["diff"]] == [("echo 1\n", "echo 2\n")]


def test_changed_on_create_needs_no_restart():
    fake = FakeSageMaker(
        configs={"autostop": existing(on_start="s\n", on_create="c1\n")}, notebooks=[notebook("nb", "InService")]
    )
    configs, warnings = manager(fake)
    result = configs.ensure(params(on_start="s\n", on_create="c2\n"))
    assert result["changed"] is True and result["restart_required"] == [] and warnings == []


def test_omitted_hook_is_removed_with_an_empty_list():
    fake = FakeSageMaker(configs={"autostop": existing(on_start="s\n", on_create="c\n")})
    configs, _warnings = manager(fake)
    result = configs.ensure(params(on_start="s\n"))
    assert fake.writes() == [
        (
            "update_notebook_instance_lifecycle_config",
            "autostop",
            {"OnStart": [{"Content": b64("s\n")}], "OnCreate": []},
        )
    ]
    assert result["on_create"] is None and result["on_create_sha256"] is None


def test_change_in_check_mode_predicts_without_writing():
    fake = FakeSageMaker(configs={"autostop": existing(on_start="echo 1\n")}, notebooks=[notebook("nb", "InService")])
    configs, warnings = manager(fake, check_mode=True, diff=True)
    result = configs.ensure(params(on_start="echo 2\n", tags={"new": "tag"}))
    assert fake.writes() == []
    assert lcc.scripts_of(fake.configs["autostop"])["on_start"] == b"echo 1\n"
    assert result["changed"] is True and result["restart_required"] == ["nb"]
    assert result["on_start"] == "echo 2\n" and result["tags"] == {"new": "tag"}
    assert "would get" in warnings[0]
    assert len(result["diff"]) == 2


def test_tags_only_change_uses_tagging_calls():
    fake = FakeSageMaker(
        configs={"autostop": existing(on_start="s\n")},
        tags={ARN % "autostop": [{"Key": "old", "Value": "1"}, {"Key": "keep", "Value": "2"}]},
        notebooks=[notebook("nb", "InService")],
    )
    configs, warnings = manager(fake)
    result = configs.ensure(params(on_start="s\n", tags={"keep": "2", "new": "3"}))
    assert [c[0] for c in fake.writes()] == ["delete_tags", "add_tags"]
    assert result["changed"] is True and result["tags"] == {"keep": "2", "new": "3"}
    assert result["restart_required"] == [] and warnings == []


def test_tags_omitted_are_left_alone():
    fake = FakeSageMaker(
        configs={"autostop": existing(on_start="s\n")}, tags={ARN % "autostop": [{"Key": "k", "Value": "v"}]}
    )
    configs, _warnings = manager(fake)
    result = configs.ensure(params(on_start="s\n"))
    assert fake.writes() == [] and result["changed"] is False and result["tags"] == {"k": "v"}


# --- absent ---------------------------------------------------------------------------------------


def test_absent_refuses_an_attached_config_and_names_notebooks():
    fake = FakeSageMaker(
        configs={"autostop": existing(on_start="s\n")},
        notebooks=[notebook("nb1", "InService"), notebook("nb2", "Stopped")],
    )
    for check_mode in (True, False):
        configs, _warnings = manager(fake, check_mode=check_mode)
        with pytest.raises(NotebooksError) as error:
            configs.ensure(params(state="absent"))
        assert "nb1 (InService), nb2 (Stopped)" in error.value.msg
        assert [n["name"] for n in error.value.details["attached_notebooks"]] == ["nb1", "nb2"]
    assert fake.writes() == [] and "autostop" in fake.configs


def test_absent_deletes_and_reports_the_diff():
    fake = FakeSageMaker(configs={"autostop": existing(on_start="s\n")})
    configs, _warnings = manager(fake, diff=True)
    result = configs.ensure(params(state="absent"))
    assert fake.writes() == [("delete_notebook_instance_lifecycle_config", "autostop")]
    assert result["changed"] is True and result["arn"] == ARN % "autostop" and result["on_start"] is None
    assert result["diff"][0]["before"] == "s\n" and result["diff"][0]["after"] == ""


def test_absent_in_check_mode_deletes_nothing():
    fake = FakeSageMaker(configs={"autostop": existing(on_start="s\n")})
    configs, _warnings = manager(fake, check_mode=True)
    assert configs.ensure(params(state="absent"))["changed"] is True
    assert fake.writes() == [] and "autostop" in fake.configs


def test_absent_on_a_missing_config_is_no_change():
    fake = FakeSageMaker()
    configs, _warnings = manager(fake)
    result = configs.ensure(params(state="absent"))
    assert result["changed"] is False and result["arn"] is None and fake.writes() == []


def test_other_aws_errors_are_not_taken_for_missing():
    class Denied(FakeSageMaker):
        def describe_notebook_instance_lifecycle_config(self, **kw):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "describe")

    configs, _warnings = manager(Denied())
    with pytest.raises(ClientError):
        configs.ensure(params(state="absent"))


# --- info -----------------------------------------------------------------------------------------


def test_gather_lists_sorted_with_notebooks_and_tags():
    fake = FakeSageMaker(
        configs={"zeta": existing("zeta", on_start="z\n"), "alpha": existing("alpha", on_create="a\n")},
        notebooks=[notebook("nb", "Stopped", config="zeta")],
        tags={ARN % "alpha": [{"Key": "k", "Value": "v"}]},
    )
    configs = lcc.gather(fake)
    assert [c["name"] for c in configs] == ["alpha", "zeta"]
    assert configs[0]["on_create"] == "a\n" and configs[0]["tags"] == {"k": "v"}
    assert configs[1]["attached_notebooks"][0]["name"] == "nb" and configs[0]["attached_notebooks"] == []
    assert "restart_required" not in configs[0]
    assert [c["name"] for c in lcc.gather(fake, name_contains="alp")] == ["alpha"]
    assert [c["name"] for c in lcc.gather(fake, name="zeta")] == ["zeta"]
    assert lcc.gather(fake, name="missing") == []
    assert fake.writes() == []


def test_gather_validates_a_name_before_calling_aws():
    fake = FakeSageMaker()
    with pytest.raises(NotebooksError):
        lcc.gather(fake, name="bad_name")
    assert fake.calls == []
