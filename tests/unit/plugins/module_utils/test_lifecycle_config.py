# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lifecycle_config: validation and comparison on plain data; the create/update/delete decisions
against the emulator's SageMaker (calls recorded with botocore events), a refusal from a Stubber."""

import base64
import datetime
import hashlib

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import lifecycle_config as lcc
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import (
    NOTEBOOK_ARN,
    Calls,
    create_notebook,
    inject,
    lifecycle_config,
    list_configs,
    settle,
    stubbed,
    tags_of,
)
from botocore.exceptions import ClientError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance-lifecycle-config/%s"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def existing(name="autostop", on_start=None, on_create=None):
    """A DescribeNotebookInstanceLifecycleConfig answer, as plain data."""
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


def notebook(sagemaker, name, status, config="autostop"):
    """A notebook on the emulator that uses lifecycle configuration ``config``."""
    create_notebook(sagemaker, name, state=status, LifecycleConfigName=config)


def described(sagemaker, name="autostop"):
    return sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)


def manager(sagemaker, check_mode=False):
    warnings = []
    configs = lcc.LifecycleConfigs(sagemaker, check_mode=check_mode, warn=warnings.append)
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


def test_on_start_steps_that_fit_have_no_error():
    assert lcc.on_start_errors("", "#!/bin/bash\n") == [] and lcc.on_start_errors(None, "#!/bin/bash\n") == []
    assert lcc.on_start_errors("pip install x\n", "#!/bin/bash\npip install x\n") == []


@pytest.mark.parametrize(
    "steps, message",
    [
        (["pip"], "isolated_notebook_on_start_steps: must be shell text (run by bash), got list"),
        ("echo a\n  ISOLATED_NOTEBOOK_ON_START_STEPS\necho b",
         "isolated_notebook_on_start_steps: a line reads ISOLATED_NOTEBOOK_ON_START_STEPS, which would end the steps"),
        ("echo \x00", "isolated_notebook_on_start_steps: must be UTF-8 text without NUL characters"),
    ],
)  # fmt: skip
def test_on_start_steps_rules_name_the_field(steps, message):
    found = lcc.on_start_errors(steps, "#!/bin/bash\n")
    assert any(m.startswith(message) for m in found), found


def test_on_start_steps_over_the_limit_give_the_sizes_and_the_room_left():
    installer = "#!/bin/bash\n" + "# x\n" * 1000  # 4,012 bytes
    steps = "a" * (lcc.SCRIPT_MAX_BYTES - len(installer))
    assert lcc.on_start_errors(steps, installer + steps) == []  # exactly at the limit: 16,384 base64 characters
    steps += "a"
    [message] = lcc.on_start_errors(steps, installer + steps, "isolated_notebook_teams[2].on_start_steps")
    assert message == (
        "isolated_notebook_teams[2].on_start_steps: the on-start script with these steps is 12289 bytes, 16388 "
        "characters once base64-encoded; SageMaker takes at most 16384 (NotebookInstanceLifecycleHook.Content), which "
        "leaves the steps at most 8276 bytes, they are 8277"
    )


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


# --- present (the emulator) -------------------------------------------------------------------------


def test_create_encodes_scripts_and_passes_tags(sagemaker):
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker)
    result = configs.ensure(params(on_start="echo start\n", on_create="echo create\n", tags={"team": "r"}))
    assert calls.writes() == [
        (
            "create_notebook_instance_lifecycle_config",
            {
                "NotebookInstanceLifecycleConfigName": "autostop",
                "OnStart": [{"Content": b64("echo start\n")}],
                "OnCreate": [{"Content": b64("echo create\n")}],
                "Tags": [{"Key": "team", "Value": "r"}],
            },
        )
    ]
    assert result["changed"] is True
    assert result["arn"] == ARN % "autostop"
    assert result["on_start"] == "echo start\n" and result["on_create"] == "echo create\n"
    assert result["tags"] == {"team": "r"} and result["attached_notebooks"] == []
    assert [d["after"] for d in result["diff"]] == ["echo start\n", "echo create\n", "team=r\n"]
    assert all(d["before"] == "" for d in result["diff"])
    assert lcc.scripts_of(described(sagemaker)) == {"on_start": b"echo start\n", "on_create": b"echo create\n"}
    assert tags_of(sagemaker, ARN % "autostop") == {"team": "r"}


def test_create_without_a_hook_omits_it(sagemaker):
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker)
    configs.ensure(params(on_start="echo\n"))
    assert calls.writes() == [
        (
            "create_notebook_instance_lifecycle_config",
            {"NotebookInstanceLifecycleConfigName": "autostop", "OnStart": [{"Content": b64("echo\n")}]},
        )
    ]
    assert not described(sagemaker).get("OnCreate")


def test_create_in_check_mode_writes_nothing(sagemaker):
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker, check_mode=True)
    result = configs.ensure(params(on_start="echo\n", tags={"a": "b"}))
    assert calls.writes(accepted=None) == [] and list_configs(sagemaker) == []
    assert result["changed"] is True and result["arn"] is None and result["on_start"] == "echo\n"
    assert len(result["diff"]) == 2


def test_unchanged_config_makes_no_write_call(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="echo\n", tags={"a": "b"})
    notebook(sagemaker, "nb1", "InService")
    calls = Calls(sagemaker)
    configs, warnings = manager(sagemaker)
    result = configs.ensure(params(on_start="echo\n", tags={"a": "b"}))
    assert calls.writes(accepted=None) == []
    assert result["changed"] is False and result["diff"] == [] and warnings == []
    assert result["restart_required"] == []
    assert result["attached_notebooks"] == [{"name": "nb1", "arn": NOTEBOOK_ARN + "nb1", "status": "InService"}]


def test_changed_on_start_updates_in_place_and_names_running_notebooks(timed_sagemaker):
    # The timed emulator: c-pending is still Pending while the module reads (it was created last).
    sagemaker = timed_sagemaker
    lifecycle_config(sagemaker, "autostop", on_start="echo 1\n", on_create="setup\n")
    for name, config in (("a-running", "autostop"), ("b-stopped", "autostop"), ("other", "autostop-old")):
        notebook(sagemaker, name, "Pending", config=config)
    for name in ("a-running", "b-stopped", "other"):
        settle(sagemaker, name, "InService")
    sagemaker.stop_notebook_instance(NotebookInstanceName="b-stopped")
    settle(sagemaker, "b-stopped", "Stopped")
    notebook(sagemaker, "c-pending", "Pending")
    before = described(sagemaker)["LastModifiedTime"]
    calls = Calls(sagemaker)
    configs, warnings = manager(sagemaker)
    result = configs.ensure(params(on_start="echo 2\n", on_create="setup\n"))
    # Both hooks are sent, the whole desired state; the ARN stays.
    assert calls.writes() == [
        (
            "update_notebook_instance_lifecycle_config",
            {
                "NotebookInstanceLifecycleConfigName": "autostop",
                "OnStart": [{"Content": b64("echo 2\n")}],
                "OnCreate": [{"Content": b64("setup\n")}],
            },
        )
    ]
    assert result["changed"] is True and result["arn"] == ARN % "autostop"
    assert result["on_start"] == "echo 2\n"
    after = described(sagemaker)
    assert result["last_modified_time"] == after["LastModifiedTime"].isoformat() and after["LastModifiedTime"] > before
    assert lcc.scripts_of(after)["on_start"] == b"echo 2\n"
    assert result["restart_required"] == ["a-running", "c-pending"]
    assert [(n["name"], n["status"]) for n in result["attached_notebooks"]] == [
        ("a-running", "InService"),
        ("b-stopped", "Stopped"),
        ("c-pending", "Pending"),
    ]
    assert len(warnings) == 1 and "a-running, c-pending" in warnings[0] and "b-stopped" not in warnings[0]
    assert [(d["before"], d["after"]) for d in result["diff"]] == [("echo 1\n", "echo 2\n")]


def test_changed_on_create_needs_no_restart(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="s\n", on_create="c1\n")
    notebook(sagemaker, "nb", "InService")
    configs, warnings = manager(sagemaker)
    result = configs.ensure(params(on_start="s\n", on_create="c2\n"))
    assert result["changed"] is True and result["restart_required"] == [] and warnings == []
    assert lcc.scripts_of(described(sagemaker))["on_create"] == b"c2\n"


def test_omitted_hook_is_removed_with_an_empty_list(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="s\n", on_create="c\n")
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker)
    result = configs.ensure(params(on_start="s\n"))
    assert calls.writes() == [
        (
            "update_notebook_instance_lifecycle_config",
            {"NotebookInstanceLifecycleConfigName": "autostop", "OnStart": [{"Content": b64("s\n")}], "OnCreate": []},
        )
    ]
    assert result["on_create"] is None and result["on_create_sha256"] is None
    assert lcc.scripts_of(described(sagemaker)) == {"on_start": b"s\n", "on_create": None}


def test_change_in_check_mode_predicts_without_writing(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="echo 1\n")
    notebook(sagemaker, "nb", "InService")
    calls = Calls(sagemaker)
    configs, warnings = manager(sagemaker, check_mode=True)
    result = configs.ensure(params(on_start="echo 2\n", tags={"new": "tag"}))
    assert calls.writes(accepted=None) == []
    assert lcc.scripts_of(described(sagemaker))["on_start"] == b"echo 1\n"
    assert tags_of(sagemaker, ARN % "autostop") == {}
    assert result["changed"] is True and result["restart_required"] == ["nb"]
    assert result["on_start"] == "echo 2\n" and result["tags"] == {"new": "tag"}
    assert "would get" in warnings[0]
    assert len(result["diff"]) == 2
    # What check mode predicts is what the real run then reports (but the times of the write).
    real, _warnings = manager(sagemaker)
    done = real.ensure(params(on_start="echo 2\n", tags={"new": "tag"}))
    for key in ("arn", "creation_time", "last_modified_time"):
        result.pop(key), done.pop(key)
    assert done == result


def test_tags_only_change_uses_tagging_calls(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="s\n", tags={"old": "1", "keep": "2"})
    notebook(sagemaker, "nb", "InService")
    calls = Calls(sagemaker)
    configs, warnings = manager(sagemaker)
    result = configs.ensure(params(on_start="s\n", tags={"keep": "2", "new": "3"}))
    assert calls.write_names() == ["delete_tags", "add_tags"]
    assert result["changed"] is True and result["tags"] == {"keep": "2", "new": "3"}
    assert result["restart_required"] == [] and warnings == []
    assert tags_of(sagemaker, ARN % "autostop") == {"keep": "2", "new": "3"}


def test_tags_omitted_are_left_alone(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="s\n", tags={"k": "v"})
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker)
    result = configs.ensure(params(on_start="s\n"))
    assert calls.writes(accepted=None) == [] and result["changed"] is False and result["tags"] == {"k": "v"}


# --- absent (the emulator) --------------------------------------------------------------------------


def test_absent_refuses_an_attached_config_and_names_notebooks(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="s\n")
    notebook(sagemaker, "nb1", "InService")
    notebook(sagemaker, "nb2", "Stopped")
    calls = Calls(sagemaker)
    for check_mode in (True, False):
        configs, _warnings = manager(sagemaker, check_mode=check_mode)
        with pytest.raises(NotebooksError) as error:
            configs.ensure(params(state="absent"))
        assert "nb1 (InService), nb2 (Stopped)" in error.value.msg
        assert [n["name"] for n in error.value.details["attached_notebooks"]] == ["nb1", "nb2"]
    assert calls.writes(accepted=None) == [] and list_configs(sagemaker) == ["autostop"]


def test_absent_deletes_and_reports_the_diff(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="s\n")
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker)
    result = configs.ensure(params(state="absent"))
    assert calls.writes() == [
        ("delete_notebook_instance_lifecycle_config", {"NotebookInstanceLifecycleConfigName": "autostop"})
    ]
    assert result["changed"] is True and result["arn"] == ARN % "autostop" and result["on_start"] is None
    assert result["diff"][0]["before"] == "s\n" and result["diff"][0]["after"] == ""
    assert list_configs(sagemaker) == []


def test_absent_in_check_mode_deletes_nothing(sagemaker):
    lifecycle_config(sagemaker, "autostop", on_start="s\n")
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker, check_mode=True)
    assert configs.ensure(params(state="absent"))["changed"] is True
    assert calls.writes(accepted=None) == [] and list_configs(sagemaker) == ["autostop"]


def test_absent_on_a_missing_config_is_no_change(sagemaker):
    calls = Calls(sagemaker)
    configs, _warnings = manager(sagemaker)
    result = configs.ensure(params(state="absent"))
    assert result["changed"] is False and result["arn"] is None and calls.writes(accepted=None) == []


@pytest.mark.parametrize("message", ["Lifecycle configuration 'autostop' is gone", "Invalid request", ""])
def test_a_missing_config_is_recognised_whatever_the_wording(sagemaker, message):
    """AWS documents no wording for a missing config: any ValidationException on the describe of a
    valid name means missing, so a create follows (the emulator's own wording is not relied upon)."""
    inject(sagemaker, "describe_notebook_instance_lifecycle_config", "ValidationException", message)
    assert lcc.describe(sagemaker, "autostop") is None
    configs, _warnings = manager(sagemaker)
    inject(sagemaker, "describe_notebook_instance_lifecycle_config", "ValidationException", message)
    assert configs.ensure(params(on_start="echo start\n"))["changed"] is True
    assert list_configs(sagemaker) == ["autostop"]


def test_other_aws_errors_are_not_taken_for_missing():
    sagemaker, stub = stubbed("sagemaker")
    stub.add_client_error(
        "describe_notebook_instance_lifecycle_config",
        "AccessDeniedException",
        "User is not authorized to perform: sagemaker:DescribeNotebookInstanceLifecycleConfig",
        expected_params={"NotebookInstanceLifecycleConfigName": "autostop"},
    )
    configs, _warnings = manager(sagemaker)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        configs.ensure(params(state="absent"))
    stub.assert_no_pending_responses()


# --- info (the emulator) ----------------------------------------------------------------------------


def test_gather_lists_sorted_with_notebooks_and_tags(sagemaker):
    lifecycle_config(sagemaker, "zeta", on_start="z\n")
    lifecycle_config(sagemaker, "alpha", on_create="a\n", tags={"k": "v"})
    notebook(sagemaker, "nb", "Stopped", config="zeta")
    calls = Calls(sagemaker)
    configs = lcc.gather(sagemaker)
    assert [c["name"] for c in configs] == ["alpha", "zeta"]
    assert configs[0]["on_create"] == "a\n" and configs[0]["tags"] == {"k": "v"}
    assert configs[1]["attached_notebooks"][0]["name"] == "nb" and configs[0]["attached_notebooks"] == []
    assert "restart_required" not in configs[0]
    assert [c["name"] for c in lcc.gather(sagemaker, name_contains="alp")] == ["alpha"]
    assert [c["name"] for c in lcc.gather(sagemaker, name="zeta")] == ["zeta"]
    assert lcc.gather(sagemaker, name="missing") == []
    assert calls.writes(accepted=None) == []


def test_gather_validates_a_name_before_calling_aws(sagemaker):
    calls = Calls(sagemaker)
    with pytest.raises(NotebooksError):
        lcc.gather(sagemaker, name="bad_name")
    assert calls.all == []
