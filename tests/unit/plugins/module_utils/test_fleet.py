# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""converge(): many notebooks on threads, restarts for a new script, per-notebook failures, against
the emulator with its timing model.  What it cannot do is added to the real client with botocore
events: an error for one call (clients.inject), a barrier the stops meet at."""

import threading

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.fleet import converge, summary
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import (
    NOTEBOOK_ARN,
    RETRY_TRIES,
    ROLE,
    Calls,
    create_notebook,
    create_notebooks,
    inject,
    lifecycle_config,
    status,
    stubbed,
)

CREATE = dict(instance_type="ml.t3.medium", role_arn=ROLE, subnet_id="subnet-1")
FAST = dict(delay=0.05, max_delay=0.05)


@pytest.fixture
def sm(timed_sagemaker):
    """The timed emulator; ``sagemaker`` (instant) serves the tests in which no status changes."""
    return timed_sagemaker


def fleet(sagemaker, notebooks, **kwargs):
    kwargs.setdefault("wait_timeout", 30)
    return converge(sagemaker, notebooks, poll_args=FAST, **kwargs)


def by_name(outcomes):
    return dict((o["name"], o) for o in outcomes)


def test_bad_input_of_any_notebook_is_refused_before_any_aws_call():
    notebooks = [dict(name="nb-1"), dict(name="nb-2", volume_size_in_gb=2), dict(name="nb-1")]
    with pytest.raises(NotebooksError) as caught:
        # Any AWS call on object() would raise AttributeError instead.
        converge(object(), notebooks, restart=["nb-9"], max_concurrency=0)
    invalid = caught.value.details["invalid"]
    assert "max_concurrency must be between 1 and 100, got 0" in invalid
    assert "notebooks[1] (nb-2): volume_size_in_gb must be between 5 and 16384, got 2" in invalid
    assert "notebooks: each name may appear once; repeated: nb-1" in invalid
    assert "restart: nb-9 not in notebooks" in invalid


def test_each_notebook_is_reconciled_and_reported_in_input_order(sm):
    create_notebooks(sm, {"nb-2": "InService", "nb-3": "InService"}, {"nb-2": dict(LifecycleConfigName="lcc-1")})
    lifecycle_config(sm, "lcc-2", on_start="echo 2\n")
    outcomes = fleet(
        sm,
        [dict(name="nb-1", **CREATE), dict(name="nb-2", lifecycle_config_name="lcc-2"), dict(name="nb-3")],
    )
    assert [o["name"] for o in outcomes] == ["nb-1", "nb-2", "nb-3"]
    assert [o["actions"] for o in outcomes] == [["create"], ["stop", "update", "start"], []]
    assert [o["changed"] for o in outcomes] == [True, True, False]
    assert [o["restarted"] for o in outcomes] == [False, True, False]
    assert not any(o["failed"] for o in outcomes)
    described = sm.describe_notebook_instance(NotebookInstanceName="nb-2")
    assert described["NotebookInstanceLifecycleConfigName"] == "lcc-2"
    assert all(status(sm, name) == "InService" for name in ("nb-1", "nb-2", "nb-3"))
    result = summary(outcomes)
    assert result["changed"] and result["restarted"] == ["nb-2"] and result["failed_notebooks"] == []


def test_restart_only_running_notebooks_not_started_by_this_run(sm):
    lifecycle_config(sm, "lcc-2", on_start="echo 2\n")
    states = {"run-1": "InService", "run-2": "InService", "stopped": "Stopped"}
    create_notebooks(sm, states, {"run-2": dict(LifecycleConfigName="lcc-1")})
    calls = Calls(sm)
    items = [
        dict(name="run-1"),
        dict(name="run-2", lifecycle_config_name="lcc-2"),  # its update restarts it already
        dict(name="stopped"),  # runs the new script whenever it is started
        dict(name="new", **CREATE),  # created with the new script
    ]
    outcomes = by_name(fleet(sm, items, restart=["run-1", "run-2", "stopped", "new"]))
    assert outcomes["run-1"]["actions"] == ["stop", "start"] and outcomes["run-1"]["restarted"]
    assert outcomes["run-1"]["notebook_instance"]["notebook_instance_status"] == "InService"
    assert outcomes["run-2"]["actions"] == ["stop", "update", "start"]
    assert outcomes["stopped"]["actions"] == [] and not outcomes["stopped"]["changed"]
    assert outcomes["new"]["actions"] == ["create"]
    stops = [params["NotebookInstanceName"] for op, params in calls.writes() if op == "stop_notebook_instance"]
    assert sorted(stops) == ["run-1", "run-2"]
    assert status(sm, "run-1") == "InService" and status(sm, "stopped") == "Stopped"


def test_check_mode_predicts_the_restart_and_writes_nothing(sagemaker):
    create_notebook(sagemaker, "run-1")
    calls = Calls(sagemaker)
    outcomes = fleet(sagemaker, [dict(name="run-1")], restart=["run-1"], check_mode=True)
    assert outcomes[0]["actions"] == ["stop", "start"] and outcomes[0]["changed"]
    assert calls.writes(accepted=None) == [] and status(sagemaker, "run-1") == "InService"


def test_a_failed_restart_starts_the_notebook_again_and_spares_the_others(sm):
    create_notebooks(sm, {"run-1": "InService", "run-2": "InService"})
    # The first StartNotebookInstance of run-1 is refused (not an error the retry policy retries).
    inject(
        sm,
        "start_notebook_instance",
        "ResourceLimitExceeded",
        "The account-level service limit for ml.t3.medium is exceeded",
        when=lambda params: params["NotebookInstanceName"] == "run-1",
    )
    outcomes = by_name(fleet(sm, [dict(name="run-1"), dict(name="run-2")], restart=["run-1", "run-2"]))
    failed = outcomes["run-1"]
    assert failed["failed"] and "start_notebook_instance failed for notebook instance run-1" in failed["msg"]
    assert failed["actions"] == ["stop", "start"]  # the stop, then the restore's start
    assert status(sm, "run-1") == "InService"
    assert outcomes["run-2"]["restarted"] and not outcomes["run-2"]["failed"]
    result = summary(list(outcomes.values()))
    assert result["failed_notebooks"] == ["run-1"]
    assert result["msg"].startswith("1 of 2 notebook instances failed: run-1: ")


def test_a_refused_notebook_fails_alone(sagemaker):
    create_notebook(sagemaker, "nb-1")
    outcomes = by_name(fleet(sagemaker, [dict(name="nb-1", subnet_id="subnet-2"), dict(name="nb-2", **CREATE)]))
    assert outcomes["nb-1"]["failed"] and "subnet_id" in outcomes["nb-1"]["msg"]
    assert outcomes["nb-1"]["refused"][0]["field"] == "subnet_id"
    assert outcomes["nb-2"]["actions"] == ["create"] and not outcomes["nb-2"]["failed"]


def rendezvous(sagemaker, parties, timeout):
    """Every StopNotebookInstance waits at a barrier for the others: it reaches AWS only when
    ``parties`` stops are made at once (a BrokenBarrierError otherwise)."""
    barrier = threading.Barrier(parties, timeout=timeout)

    def meet(**kwargs):
        barrier.wait()  # then the call goes on to AWS (a handler that returns None does not answer it)

    sagemaker.meta.events.register("before-call.sagemaker.StopNotebookInstance", meet)


def test_notebooks_are_restarted_concurrently(sm):
    names = ["nb-%d" % number for number in range(8)]
    create_notebooks(sm, dict.fromkeys(names, "InService"))
    rendezvous(sm, len(names), timeout=5)
    outcomes = fleet(sm, [dict(name=name) for name in names], restart=names, max_concurrency=8)
    assert all(o["restarted"] and not o["failed"] for o in outcomes)
    assert all(status(sm, name) == "InService" for name in names)


def test_max_concurrency_bounds_the_threads(sm):
    create_notebooks(sm, {"nb-1": "InService", "nb-2": "InService"})
    rendezvous(sm, 2, timeout=0.5)
    outcomes = fleet(sm, [dict(name="nb-1"), dict(name="nb-2")], restart=["nb-1", "nb-2"], max_concurrency=1)
    # One at a time: the first stop waits for a partner that never comes.
    assert outcomes[0]["failed"] and "BrokenBarrierError" in outcomes[0]["msg"]
    assert status(sm, "nb-1") == "InService"


def test_an_empty_fleet_does_nothing():
    assert converge(object(), []) == []


def throttle_after_stop(sagemaker):
    """The first DescribeNotebookInstance after the stop is throttled until the retry policy gives
    up (each of its tries): the wait for Stopped fails with ThrottlingException."""
    after_stop = {"stopped": False}
    sagemaker.meta.events.register(
        "after-call.sagemaker.StopNotebookInstance",
        lambda http_response, **kwargs: after_stop.update(stopped=http_response.status_code < 300),
    )
    inject(
        sagemaker,
        "describe_notebook_instance",
        "ThrottlingException",
        "Rate exceeded",
        times=RETRY_TRIES,
        when=lambda params: after_stop["stopped"],
    )


def test_an_aws_error_mid_restart_restores_and_reports_the_notebook_as_it_is_now(sm, no_backoff):
    create_notebook(sm, "run-1")
    throttle_after_stop(sm)
    outcome = fleet(sm, [dict(name="run-1")], restart=["run-1"])[0]
    assert outcome["failed"] and outcome["msg"] == "AWS call failed: Rate exceeded"
    assert outcome["actions"] == ["stop", "start"]  # the stop, then the restore's start
    assert status(sm, "run-1") == "InService"
    assert outcome["notebook_instance"]["notebook_instance_status"] == "InService"


def test_a_failed_restore_after_an_aws_error_is_reported_with_the_status_it_left(sm, no_backoff):
    create_notebook(sm, "run-1")
    throttle_after_stop(sm)
    inject(sm, "start_notebook_instance", "ResourceLimitExceeded", "Insufficient capacity")
    outcome = fleet(sm, [dict(name="run-1")], restart=["run-1"])[0]
    assert outcome["failed"] and outcome["msg"].startswith("AWS call failed: Rate exceeded")
    assert "Starting the notebook again afterwards failed too" in outcome["msg"]
    assert "Insufficient capacity" in outcome["msg"]
    assert outcome["actions"] == ["stop"] and not outcome["restarted"]
    assert status(sm, "run-1") == "Stopped"
    assert outcome["notebook_instance"]["notebook_instance_status"] == "Stopped"


def test_check_mode_predicts_the_restart_of_a_pending_notebook(sm):
    create_notebook(sm, "starting", state="Pending")
    calls = Calls(sm)
    outcome = fleet(sm, [dict(name="starting")], restart=["starting"], check_mode=True)[0]
    assert calls.statuses()[0] == "Pending"
    assert outcome["actions"] == ["stop", "start"] and outcome["changed"]
    assert calls.writes(accepted=None) == []


def test_a_notebook_with_maintenance_scheduled_is_restarted_for_a_new_script():
    # PendingMaintenance is running (notebook.STATUS_TABLE): it runs the old script as InService would.
    sagemaker, stub = stubbed("sagemaker")
    arn = NOTEBOOK_ARN + "run-1"
    answer = dict(
        NotebookInstanceName="run-1",
        NotebookInstanceArn=arn,
        NotebookInstanceStatus="PendingMaintenance",
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
    )
    stub.add_response("describe_notebook_instance", answer, {"NotebookInstanceName": "run-1"})
    stub.add_response("list_tags", {"Tags": []}, {"ResourceArn": arn})
    outcome = fleet(sagemaker, [dict(name="run-1")], restart=["run-1"], check_mode=True)[0]
    assert not outcome["failed"], outcome.get("msg")
    assert outcome["actions"] == ["stop", "start"] and outcome["changed"]
    stub.assert_no_pending_responses()
