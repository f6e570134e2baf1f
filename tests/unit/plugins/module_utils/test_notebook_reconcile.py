# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""reconcile() and the waits against the emulator with its timing model: Pending, Stopping and
Updating really last a moment, so every wait really waits.  Failures the emulator cannot produce
(an AccessDenied, a refused start) are injected into the real client (clients.inject); a Failed or
Deleting notebook, which it cannot produce either, is answered by a Stubber."""

import time

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import PERMISSIONS_DOC, NotebooksError
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook_ops import (
    reconcile,
    wait_for_status,
    wait_until_settled,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.waiter import WaitTimeout
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import (
    NOTEBOOK_ARN,
    ROLE,
    Calls,
    create_notebook,
    inject,
    lifecycle_config,
    status,
    stubbed,
    tags_of,
)
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.notebook_params import (
    params as base_params,
)

# The code under test polls quickly, so that each wait ends soon after the emulator's phase does.
FAST = dict(delay=0.05, max_delay=0.05)
NO_SLEEP = dict(sleep=lambda seconds: None)
MISSING_CONFIG = "Unable to find Notebook Instance Lifecycle Config"


@pytest.fixture
def sm(timed_sagemaker):
    """The timed emulator; ``sagemaker`` (instant) serves the tests in which no status changes."""
    return timed_sagemaker


def params(**overrides):
    return base_params(**dict({"wait_timeout": 30}, **overrides))


def run(sagemaker, check_mode=False, **overrides):
    warnings = []
    result = reconcile(sagemaker, params(**overrides), check_mode=check_mode, warn=warnings.append, poll_args=FAST)
    result["warnings"] = warnings
    return result


def writes(calls, accepted=True):
    """The notebook writes, named like the actions (stop, update, start, add_tags, ...)."""
    return [name.replace("_notebook_instance", "") for name in calls.write_names(accepted)]


def test_create_waits_for_in_service_with_defaults(sm):
    calls = Calls(sm)
    result = run(sm, instance_type="ml.t3.medium", role_arn=ROLE, subnet_id="subnet-1", tags={"k": "v"})
    assert result["changed"] and result["actions"] == ["create"]
    assert writes(calls) == ["create"]
    request = calls.writes()[0][1]
    assert request["DirectInternetAccess"] == "Disabled"
    assert request["PlatformIdentifier"] == "notebook-al2023-v1"
    assert result["notebook_instance"]["notebook_instance_status"] == "InService"
    assert result["notebook_instance"]["tags"] == {"k": "v"}
    assert result["diff"]["before"] == {} and result["diff"]["after"]["status"] == "InService"
    assert calls.statuses()[0] == "Pending"  # it waited


def test_create_without_subnet_refused_before_any_write(sagemaker):
    calls = Calls(sagemaker)
    with pytest.raises(NotebooksError, match="subnet_id"):
        run(sagemaker, instance_type="ml.t3.medium", role_arn=ROLE)
    assert writes(calls, accepted=None) == []


def test_unchanged_is_not_changed_and_writes_nothing(sagemaker):
    create_notebook(sagemaker, "nb-1")
    calls = Calls(sagemaker)
    result = run(sagemaker, instance_type="ml.t3.medium", subnet_id="subnet-1", volume_size_in_gb=5)
    assert not result["changed"] and result["actions"] == [] and writes(calls, accepted=None) == []


def test_running_notebook_is_stopped_updated_started(sm):
    create_notebook(sm, "nb-1", LifecycleConfigName="lcc-1")
    lifecycle_config(sm, "lcc-2", on_start="echo 2\n")
    calls = Calls(sm)
    result = run(sm, lifecycle_config_name="lcc-2")
    assert result["actions"] == ["stop", "update", "start"]
    assert writes(calls) == ["stop", "update", "start"]
    # Each step waited for the phase of the one before (AWS refuses an update while Stopping).
    assert {"Stopping", "Updating", "Pending"} <= set(calls.statuses())
    assert status(sm, "nb-1") == "InService"
    assert result["notebook_instance"]["notebook_instance_lifecycle_config_name"] == "lcc-2"
    assert result["diff"]["before"]["lifecycle_config_name"] == "lcc-1"
    assert result["diff"]["after"]["lifecycle_config_name"] == "lcc-2"


def test_stopped_notebook_is_updated_and_stays_stopped(sm):
    create_notebook(sm, "nb-1", state="Stopped")
    result = run(sm, instance_type="ml.t3.large")
    assert result["actions"] == ["update"]
    assert status(sm, "nb-1") == "Stopped"
    assert sm.describe_notebook_instance(NotebookInstanceName="nb-1")["InstanceType"] == "ml.t3.large"


def test_wait_false_skips_only_the_last_wait(sm):
    create_notebook(sm, "nb-1", LifecycleConfigName="lcc-1")
    lifecycle_config(sm, "lcc-2", on_start="echo 2\n")
    result = run(sm, lifecycle_config_name="lcc-2", wait=False)
    assert result["actions"] == ["stop", "update", "start"]
    # The stop and update were waited for (update needs Stopped); the start was not.
    assert result["notebook_instance"]["notebook_instance_status"] == "Pending"


def test_stop_wait_timeout_restarts_the_notebook(sm):
    create_notebook(sm, "nb-1")
    lifecycle_config(sm, "lcc-2", on_start="echo 2\n")
    calls = Calls(sm)
    # The clock jumps past the timeout while the notebook is still Stopping; then it runs normally.
    ticks = iter([0, 0, 100, 100] + list(range(100, 10000, 1)))
    with pytest.raises(NotebooksError, match="Timed out after 30s.*to be Stopped"):
        reconcile(sm, params(lifecycle_config_name="lcc-2"), poll_args=dict(FAST, clock=lambda: next(ticks)))
    assert status(sm, "nb-1") == "InService"
    assert writes(calls) == ["stop", "start"]


def test_transitional_notebook_is_waited_for_first(sm):
    create_notebook(sm, "nb-1", state="Stopping")
    calls = Calls(sm)
    result = run(sm, instance_type="ml.t3.large", state="started")
    assert calls.statuses()[0] == "Stopping"
    assert result["actions"] == ["update", "start"]
    assert status(sm, "nb-1") == "InService"


def test_failed_update_restores_in_service_and_reports_original_error(sm):
    create_notebook(sm, "nb-1")
    with pytest.raises(NotebooksError) as raised:
        run(sm, lifecycle_config_name="missing")  # AWS refuses the update: no such config
    assert MISSING_CONFIG in raised.value.msg
    assert "update_notebook_instance" in raised.value.msg
    assert raised.value.details["actions"] == ["stop", "start"]
    assert raised.value.details["error_code"] == "ValidationException"
    assert status(sm, "nb-1") == "InService"
    assert raised.value.details["notebook_instance"]["notebook_instance_status"] in ("Pending", "InService")


def test_failure_after_the_steps_still_reports_them(sm):
    create_notebook(sm, "nb-1", LifecycleConfigName="lcc-1")
    lifecycle_config(sm, "lcc-2", on_start="echo 2\n")
    inject(sm, "add_tags", "AccessDenied", "User is not authorized to perform: sagemaker:AddTags")
    with pytest.raises(NotebooksError) as raised:
        run(sm, lifecycle_config_name="lcc-2", tags={"team": "a"})
    assert raised.value.details["actions"] == ["stop", "update", "start"]
    assert raised.value.details["error_code"] == "AccessDenied"
    assert "after stop, update, start" in raised.value.msg and "sagemaker:AddTags" in raised.value.msg
    assert status(sm, "nb-1") == "InService"


def test_failure_of_the_first_read_reports_no_actions(sagemaker):
    message = "not authorized to perform: sagemaker:DescribeNotebookInstance"
    inject(sagemaker, "describe_notebook_instance", "AccessDeniedException", message)
    calls = Calls(sagemaker)
    with pytest.raises(NotebooksError) as raised:
        run(sagemaker)
    assert raised.value.details == {"actions": [], "error_code": "AccessDeniedException"}
    # A denial names the call, keeps AWS's message and says where the permissions are listed.
    assert raised.value.msg == "AWS call failed: DescribeNotebookInstance denied (AccessDeniedException): %s %s" % (
        message,
        PERMISSIONS_DOC,
    )
    assert calls.operations() == ["describe_notebook_instance"]


def test_failed_update_on_stopped_notebook_leaves_it_stopped(sm):
    create_notebook(sm, "nb-1", state="Stopped")
    calls = Calls(sm)
    with pytest.raises(NotebooksError, match=MISSING_CONFIG):
        run(sm, lifecycle_config_name="missing")
    assert status(sm, "nb-1") == "Stopped"
    assert writes(calls) == [] and writes(calls, accepted=None) == ["update"]  # the refused update only


def test_failed_restore_is_reported_with_original_error(sm):
    create_notebook(sm, "nb-1")
    inject(sm, "start_notebook_instance", "ValidationException", "start refused")
    with pytest.raises(NotebooksError) as raised:
        run(sm, lifecycle_config_name="missing")
    message = raised.value.msg
    assert message.index(MISSING_CONFIG) < message.index("start refused")
    assert raised.value.details["actions"] == ["stop"]
    assert status(sm, "nb-1") == "Stopped"


def test_create_only_difference_refused_with_nothing_changed(sagemaker):
    create_notebook(sagemaker, "nb-1")
    calls = Calls(sagemaker)
    with pytest.raises(NotebooksError) as raised:
        run(sagemaker, subnet_id="subnet-2", volume_size_in_gb=4 + 1, instance_type="ml.t3.large")
    assert "subnet_id (current: 'subnet-1', wanted: 'subnet-2')" in raised.value.msg
    assert raised.value.details["refused"] == [dict(field="subnet_id", current="subnet-1", wanted="subnet-2")]
    assert writes(calls, accepted=None) == []


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_default_key_leaves_a_notebook_without_it_as_it_is_and_warns(sagemaker):
    create_notebook(sagemaker, "nb-1")
    calls = Calls(sagemaker)
    result = run(sagemaker, kms_key_id=KEY, kms_key_mismatch="warn", instance_type="ml.t3.large")
    # The other change still applies; the notebook is kept (no delete, no create), the key only warned about.
    assert writes(calls) == ["stop", "update", "start"]
    assert "KmsKeyId" not in sagemaker.describe_notebook_instance(NotebookInstanceName="nb-1")
    (warning,) = result["warnings"]
    assert "nb-1 keeps no customer managed KMS key" in warning and KEY in warning
    assert "SageMaker.21" in warning and "replacing the notebook" in warning


def test_a_default_key_still_refuses_other_create_only_differences(sagemaker):
    create_notebook(sagemaker, "nb-1")
    calls = Calls(sagemaker)
    with pytest.raises(NotebooksError) as raised:
        run(sagemaker, kms_key_id=KEY, kms_key_mismatch="warn", subnet_id="subnet-2")
    assert raised.value.details["refused"] == [dict(field="subnet_id", current="subnet-1", wanted="subnet-2")]
    assert writes(calls, accepted=None) == []


def test_a_key_the_notebook_names_is_refused_on_a_notebook_without_it(sagemaker):
    create_notebook(sagemaker, "nb-1")
    calls = Calls(sagemaker)
    with pytest.raises(NotebooksError) as raised:
        run(sagemaker, kms_key_id=KEY)
    assert raised.value.details["refused"] == [dict(field="kms_key_id", current="", wanted=KEY)]
    assert writes(calls, accepted=None) == []


def test_a_default_key_is_given_to_a_new_notebook(sagemaker):
    run(
        sagemaker,
        kms_key_id=KEY,
        kms_key_mismatch="warn",
        instance_type="ml.t3.medium",
        role_arn=ROLE,
        subnet_id="subnet-1",
    )
    assert sagemaker.describe_notebook_instance(NotebookInstanceName="nb-1")["KmsKeyId"] == KEY


def test_volume_shrink_refused(sagemaker):
    create_notebook(sagemaker, "nb-1", VolumeSizeInGB=20)
    calls = Calls(sagemaker)
    with pytest.raises(NotebooksError, match=r"volume_size_in_gb \(current: 20, wanted: 10\)"):
        run(sagemaker, volume_size_in_gb=10)
    assert writes(calls, accepted=None) == []


def test_check_mode_reports_actions_and_takes_none(sagemaker):
    create_notebook(sagemaker, "nb-1")
    calls = Calls(sagemaker)
    result = run(sagemaker, check_mode=True, lifecycle_config_name="lcc-2", tags={"a": "b"})
    assert result["changed"] and result["actions"] == ["stop", "update", "start", "tag"]
    assert writes(calls, accepted=None) == []
    assert status(sagemaker, "nb-1") == "InService"
    assert result["diff"]["after"]["lifecycle_config_name"] == "lcc-2"
    assert result["diff"]["after"]["tags"] == {"a": "b"}


def test_check_mode_on_missing_notebook_predicts_create(sagemaker):
    calls = Calls(sagemaker)
    result = run(
        sagemaker, check_mode=True, state="stopped", instance_type="ml.t3.medium", role_arn=ROLE, subnet_id="s"
    )
    assert result["actions"] == ["create", "stop"] and writes(calls, accepted=None) == []
    assert result["diff"]["after"]["status"] == "Stopped"
    assert result["diff"]["after"]["direct_internet_access"] == "Disabled"
    assert status(sagemaker, "nb-1") is None


def test_started_stopped_absent(sm):
    create_notebook(sm, "nb-1")
    assert run(sm, state="stopped")["actions"] == ["stop"]
    assert status(sm, "nb-1") == "Stopped"
    assert run(sm, state="stopped")["actions"] == []
    assert run(sm, state="started")["actions"] == ["start"]
    assert status(sm, "nb-1") == "InService"
    result = run(sm, state="absent")
    assert result["actions"] == ["stop", "delete"] and result["notebook_instance"] == {}
    assert status(sm, "nb-1") is None
    assert run(sm, state="absent") == dict(
        changed=False, actions=[], notebook_instance={}, diff=dict(before={}, after={}), warnings=[]
    )


def test_tags_reconcile_with_purge(sagemaker):
    create_notebook(sagemaker, "nb-1", tags={"old": "1", "keep": "2"})
    result = run(sagemaker, tags={"keep": "2", "new": "3"})
    assert result["actions"] == ["tag"]
    assert tags_of(sagemaker, NOTEBOOK_ARN + "nb-1") == {"keep": "2", "new": "3"}
    assert run(sagemaker, tags={"keep": "2", "new": "3"})["actions"] == []
    assert run(sagemaker, tags={"more": "4"}, purge_tags=False)["actions"] == ["tag"]
    assert tags_of(sagemaker, NOTEBOOK_ARN + "nb-1") == {"keep": "2", "new": "3", "more": "4"}


# --- Failed and Deleting notebooks: the emulator has neither, a Stubber answers ------------------------

ARN = NOTEBOOK_ARN + "nb-1"
NAMED = {"NotebookInstanceName": "nb-1"}


def described(status, **fields):
    """A DescribeNotebookInstance answer for nb-1 (the notebook create_notebook() makes)."""
    answer = dict(
        NotebookInstanceName="nb-1",
        NotebookInstanceArn=ARN,
        NotebookInstanceStatus=status,
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
        SubnetId="subnet-1",
        SecurityGroups=["sg-1"],
        DirectInternetAccess="Disabled",
        VolumeSizeInGB=5,
        PlatformIdentifier="notebook-al2023-v1",
        InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
    )
    answer.update(fields)
    return answer


def test_failed_notebook_is_updated_and_reported():
    sagemaker, stub = stubbed("sagemaker")
    failed = described("Failed", FailureReason="lifecycle script failed")
    # An update of a Failed notebook: AWS refuses it outside Stopped, as the emulator does.
    stub.add_response("describe_notebook_instance", failed, NAMED)
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_client_error(
        "update_notebook_instance",
        "ValidationException",
        "Status (Failed) not in ([Stopped]). Unable to transition to (Updating) for Notebook Instance (%s)." % ARN,
        expected_params=dict(NAMED, LifecycleConfigName="fixed"),
    )
    stub.add_response("describe_notebook_instance", failed, NAMED)
    warnings = []
    with pytest.raises(NotebooksError, match="Status \\(Failed\\)"):
        reconcile(sagemaker, params(lifecycle_config_name="fixed"), warn=warnings.append, poll_args=NO_SLEEP)
    assert any("lifecycle script failed" in w for w in warnings)
    # Started: the start, the wait through Pending, the notebook as it is then.
    stub.add_response("describe_notebook_instance", failed, NAMED)
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_response("start_notebook_instance", {}, NAMED)
    for now in ("Pending", "InService", "InService"):
        stub.add_response("describe_notebook_instance", described(now), NAMED)
    warnings = []
    result = reconcile(sagemaker, params(state="started"), warn=warnings.append, poll_args=NO_SLEEP)
    assert result["actions"] == ["start"]
    assert any("lifecycle script failed" in w for w in warnings)
    assert result["notebook_instance"]["notebook_instance_status"] == "InService"
    stub.assert_no_pending_responses()


def test_wait_for_status_fails_at_once_on_failed():
    sagemaker, stub = stubbed("sagemaker")
    stub.add_response("describe_notebook_instance", described("Pending"), NAMED)
    stub.add_response("describe_notebook_instance", described("Failed", FailureReason="no capacity"), NAMED)
    with pytest.raises(NotebooksError, match="is Failed while waiting for InService: no capacity"):
        wait_for_status(sagemaker, "nb-1", ("InService",), 30, **NO_SLEEP)
    stub.assert_no_pending_responses()


def test_wait_until_settled_accepts_gone():
    sagemaker, stub = stubbed("sagemaker")
    stub.add_response("describe_notebook_instance", described("Deleting"), NAMED)
    stub.add_client_error("describe_notebook_instance", "ValidationException", "RecordNotFound", expected_params=NAMED)
    assert wait_until_settled(sagemaker, "nb-1", 30, **NO_SLEEP) is None
    stub.assert_no_pending_responses()


# --- the waits, on the timed emulator ------------------------------------------------------------------


def test_wait_timeout_names_the_timeout_and_status(sm):
    create_notebook(sm, "nb-1", state="Pending")
    ticks = iter(range(0, 1000, 5))
    with pytest.raises(WaitTimeout, match=r"Timed out after 12s \(wait_timeout\).*still Pending"):
        wait_for_status(sm, "nb-1", ("InService",), 12, clock=lambda: next(ticks), **NO_SLEEP)


def test_first_poll_is_immediate_and_delays_start_short(sm):
    create_notebook(sm, "nb-1", state="Stopping")
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        time.sleep(seconds)

    wait_for_status(sm, "nb-1", ("Stopped",), 30, sleep=sleep)
    assert slept and slept[0] <= 0.5
    assert status(sm, "nb-1") == "Stopped"


# --- maintenance statuses (botocore 1.43.67): the emulator has neither, a Stubber answers ----------------
# What each means and why the module treats it so: notebook.STATUS_TABLE.


def answers(stub, *statuses, **fields):
    for now in statuses:
        stub.add_response("describe_notebook_instance", described(now, **fields), NAMED)


def test_pending_maintenance_needing_an_update_is_stopped_updated_and_started():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "PendingMaintenance")
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_response("stop_notebook_instance", {}, NAMED)
    answers(stub, "Stopping", "Stopped")
    stub.add_response("update_notebook_instance", {}, dict(NAMED, LifecycleConfigName="fixed"))
    answers(stub, "Updating", "Stopped")
    stub.add_response("start_notebook_instance", {}, NAMED)
    answers(stub, "Pending", "InService")
    answers(stub, "InService", NotebookInstanceLifecycleConfigName="fixed")  # the notebook afterwards
    result = reconcile(sagemaker, params(lifecycle_config_name="fixed"), poll_args=NO_SLEEP)
    assert result["actions"] == ["stop", "update", "start"]
    assert result["notebook_instance"]["notebook_instance_status"] == "InService"
    assert result["diff"]["before"]["status"] == "PendingMaintenance"
    stub.assert_no_pending_responses()


def test_pending_maintenance_is_started_again_when_the_update_fails():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "PendingMaintenance")
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_response("stop_notebook_instance", {}, NAMED)
    answers(stub, "Stopped")
    stub.add_client_error(
        "update_notebook_instance",
        "ValidationException",
        "Unable to find Notebook Instance Lifecycle Config fixed",
        expected_params=dict(NAMED, LifecycleConfigName="fixed"),
    )
    answers(stub, "Stopped")  # the restore: settled ...
    stub.add_response("start_notebook_instance", {}, NAMED)  # ... not running: started
    answers(stub, "Pending", "InService")
    answers(stub, "InService")  # the notebook as the failure reports it
    with pytest.raises(
        NotebooksError, match="update_notebook_instance failed for notebook instance nb-1: Unable to find"
    ) as caught:
        reconcile(sagemaker, params(lifecycle_config_name="fixed"), poll_args=NO_SLEEP)
    assert caught.value.details["actions"] == ["stop", "start"]
    assert caught.value.details["notebook_instance"]["notebook_instance_status"] == "InService"
    stub.assert_no_pending_responses()


def test_pending_maintenance_is_stopped_before_a_delete():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "PendingMaintenance")
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_response("stop_notebook_instance", {}, NAMED)
    answers(stub, "Stopped")
    stub.add_response("delete_notebook_instance", {}, NAMED)
    for _read in ("the wait for deleted", "the notebook afterwards"):
        stub.add_client_error(
            "describe_notebook_instance", "ValidationException", "RecordNotFound", expected_params=NAMED
        )
    result = reconcile(sagemaker, params(state="absent"), poll_args=NO_SLEEP)
    assert result["actions"] == ["stop", "delete"] and result["notebook_instance"] == {}
    stub.assert_no_pending_responses()


def test_a_start_ends_once_the_notebook_runs_even_with_maintenance_scheduled():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "Stopped")
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_response("start_notebook_instance", {}, NAMED)
    answers(stub, "Pending", "PendingMaintenance")  # running: the wait for the start is over
    answers(stub, "PendingMaintenance")
    result = reconcile(sagemaker, params(state="started"), poll_args=NO_SLEEP)
    assert result["actions"] == ["start"]
    assert result["notebook_instance"]["notebook_instance_status"] == "PendingMaintenance"
    stub.assert_no_pending_responses()


def test_in_maintenance_is_waited_for_then_updated():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "InMaintenance", "InMaintenance", "InService")  # found, waited for, settled
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_response("stop_notebook_instance", {}, NAMED)
    answers(stub, "Stopped")
    stub.add_response("update_notebook_instance", {}, dict(NAMED, LifecycleConfigName="fixed"))
    answers(stub, "Stopped")
    stub.add_response("start_notebook_instance", {}, NAMED)
    answers(stub, "InService")
    answers(stub, "InService", NotebookInstanceLifecycleConfigName="fixed")
    result = reconcile(sagemaker, params(lifecycle_config_name="fixed"), poll_args=NO_SLEEP)
    assert result["actions"] == ["stop", "update", "start"]
    assert result["diff"]["before"]["status"] == "InService"  # acted on the status it settled in
    stub.assert_no_pending_responses()


def test_in_maintenance_ending_stopped_is_acted_on_as_stopped():
    # The table predicts InService; when maintenance ends Stopped instead, the module acts on that.
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "InMaintenance", "Stopped")
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    stub.add_response("start_notebook_instance", {}, NAMED)
    answers(stub, "InService", "InService")
    result = reconcile(sagemaker, params(state="started"), poll_args=NO_SLEEP)
    assert result["actions"] == ["start"]
    stub.assert_no_pending_responses()


def test_in_maintenance_past_wait_timeout_fails_without_any_write():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "InMaintenance", "InMaintenance", "InMaintenance")
    ticks = iter(range(0, 1000, 5))
    with pytest.raises(WaitTimeout, match=r"Timed out after 10s \(wait_timeout\).*leave status InMaintenance") as e:
        reconcile(sagemaker, params(wait_timeout=10), poll_args=dict(NO_SLEEP, clock=lambda: next(ticks)))
    assert e.value.details["actions"] == []
    stub.assert_no_pending_responses()


def test_check_mode_on_in_maintenance_predicts_without_waiting():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "InMaintenance")
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": ARN})
    result = reconcile(sagemaker, params(lifecycle_config_name="fixed"), check_mode=True, poll_args=NO_SLEEP)
    assert result["actions"] == ["stop", "update", "start"]
    assert result["diff"]["after"]["status"] == "InService"
    stub.assert_no_pending_responses()


def test_a_status_the_collection_does_not_know_is_refused_before_any_write():
    sagemaker, stub = stubbed("sagemaker")
    answers(stub, "Hibernating")
    with pytest.raises(NotebooksError, match="has status Hibernating, which this collection does not know") as e:
        reconcile(sagemaker, params(state="stopped"), poll_args=NO_SLEEP)
    assert e.value.details["actions"] == [] and e.value.details["status"] == "Hibernating"
    stub.assert_no_pending_responses()
