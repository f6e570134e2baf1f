# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""converge(): many notebooks on threads, restarts for a new script, per-notebook failures."""

import threading

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.fleet import converge, summary
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.test_notebook_reconcile import (
    NO_SLEEP,
    FakeSageMaker,
    aws_error,
)

CREATE = dict(instance_type="ml.t3.medium", role_arn="arn:r", subnet_id="subnet-1")


def fleet(fake, notebooks, **kwargs):
    kwargs.setdefault("wait_timeout", 30)
    return converge(fake, notebooks, poll_args=NO_SLEEP, **kwargs)


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


def test_each_notebook_is_reconciled_and_reported_in_input_order():
    fake = FakeSageMaker()
    fake.add("nb-2", NotebookInstanceLifecycleConfigName="lcc-1")
    fake.add("nb-3")
    outcomes = fleet(
        fake,
        [dict(name="nb-1", **CREATE), dict(name="nb-2", lifecycle_config_name="lcc-2"), dict(name="nb-3")],
    )
    assert [o["name"] for o in outcomes] == ["nb-1", "nb-2", "nb-3"]
    assert [o["actions"] for o in outcomes] == [["create"], ["stop", "update", "start"], []]
    assert [o["changed"] for o in outcomes] == [True, True, False]
    assert [o["restarted"] for o in outcomes] == [False, True, False]
    assert not any(o["failed"] for o in outcomes)
    assert fake.notebooks["nb-2"]["NotebookInstanceLifecycleConfigName"] == "lcc-2"
    assert all(fake.status(name) == "InService" for name in ("nb-1", "nb-2", "nb-3"))
    result = summary(outcomes)
    assert result["changed"] and result["restarted"] == ["nb-2"] and result["failed_notebooks"] == []


def test_restart_only_running_notebooks_not_started_by_this_run():
    fake = FakeSageMaker()
    fake.add("run-1")
    fake.add("run-2", NotebookInstanceLifecycleConfigName="lcc-1")
    fake.add("stopped", status="Stopped")
    notebooks = [
        dict(name="run-1"),
        dict(name="run-2", lifecycle_config_name="lcc-2"),  # its update restarts it already
        dict(name="stopped"),  # runs the new script whenever it is started
        dict(name="new", **CREATE),  # created with the new script
    ]
    outcomes = by_name(fleet(fake, notebooks, restart=["run-1", "run-2", "stopped", "new"]))
    assert outcomes["run-1"]["actions"] == ["stop", "start"] and outcomes["run-1"]["restarted"]
    assert outcomes["run-1"]["notebook_instance"]["notebook_instance_status"] == "InService"
    assert outcomes["run-2"]["actions"] == ["stop", "update", "start"]
    assert outcomes["stopped"]["actions"] == [] and not outcomes["stopped"]["changed"]
    assert outcomes["new"]["actions"] == ["create"]
    stops = [name for action, name in fake.writes if action == "stop"]
    assert sorted(stops) == ["run-1", "run-2"]
    assert fake.status("run-1") == "InService" and fake.status("stopped") == "Stopped"


def test_check_mode_predicts_the_restart_and_writes_nothing():
    fake = FakeSageMaker()
    fake.add("run-1")
    outcomes = fleet(fake, [dict(name="run-1")], restart=["run-1"], check_mode=True)
    assert outcomes[0]["actions"] == ["stop", "start"] and outcomes[0]["changed"]
    assert fake.writes == [] and fake.status("run-1") == "InService"


class FailingStart(FakeSageMaker):
    """StartNotebookInstance of one notebook fails the first time only."""

    def __init__(self, name):
        super().__init__()
        self.failing = name

    def start_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        if NotebookInstanceName == self.failing:
            self.failing = None
            raise aws_error("Rate exceeded", code="InternalFailure")
        super().start_notebook_instance(NotebookInstanceName)


def test_a_failed_restart_starts_the_notebook_again_and_spares_the_others():
    fake = FailingStart("run-1")
    fake.add("run-1")
    fake.add("run-2")
    outcomes = by_name(fleet(fake, [dict(name="run-1"), dict(name="run-2")], restart=["run-1", "run-2"]))
    failed = outcomes["run-1"]
    assert failed["failed"] and "start_notebook_instance failed for notebook instance run-1" in failed["msg"]
    assert failed["actions"] == ["stop", "start"]  # the stop, then the restore's start
    assert fake.status("run-1") == "InService"
    assert outcomes["run-2"]["restarted"] and not outcomes["run-2"]["failed"]
    result = summary(list(outcomes.values()))
    assert result["failed_notebooks"] == ["run-1"]
    assert result["msg"].startswith("1 of 2 notebook instances failed: run-1: ")


def test_a_refused_notebook_fails_alone():
    fake = FakeSageMaker()
    fake.add("nb-1")
    outcomes = by_name(fleet(fake, [dict(name="nb-1", subnet_id="subnet-2"), dict(name="nb-2", **CREATE)]))
    assert outcomes["nb-1"]["failed"] and "subnet_id" in outcomes["nb-1"]["msg"]
    assert outcomes["nb-1"]["refused"][0]["field"] == "subnet_id"
    assert outcomes["nb-2"]["actions"] == ["create"] and not outcomes["nb-2"]["failed"]


class Rendezvous(FakeSageMaker):
    """Every StopNotebookInstance waits for the others: it passes only when all stop at once."""

    def __init__(self, parties):
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=5)

    def stop_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        self.barrier.wait()
        super().stop_notebook_instance(NotebookInstanceName)


def test_notebooks_are_restarted_concurrently():
    names = ["nb-%d" % number for number in range(8)]
    fake = Rendezvous(len(names))
    for name in names:
        fake.add(name)
    outcomes = fleet(fake, [dict(name=name) for name in names], restart=names, max_concurrency=8)
    assert all(o["restarted"] and not o["failed"] for o in outcomes)


def test_max_concurrency_bounds_the_threads():
    fake = Rendezvous(2)
    fake.add("nb-1")
    fake.add("nb-2")
    outcomes = fleet(fake, [dict(name="nb-1"), dict(name="nb-2")], restart=["nb-1", "nb-2"], max_concurrency=1)
    # One at a time: the first stop waits for a partner that never comes.
    assert outcomes[0]["failed"] and "BrokenBarrierError" in outcomes[0]["msg"]
    assert fake.status("nb-1") == "InService"


def test_an_empty_fleet_does_nothing():
    assert converge(object(), []) == []


class ThrottledAfterStop(FakeSageMaker):
    """The first DescribeNotebookInstance after the stop is throttled (retries exhausted)."""

    def __init__(self, **errors):
        super().__init__(**errors)
        self.throttle = False

    def stop_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        super().stop_notebook_instance(NotebookInstanceName)
        self.throttle = True

    def describe_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        if self.throttle:
            self.throttle = False
            raise aws_error("Rate exceeded", code="ThrottlingException")
        return super().describe_notebook_instance(NotebookInstanceName)


def test_an_aws_error_mid_restart_restores_and_reports_the_notebook_as_it_is_now():
    fake = ThrottledAfterStop()
    fake.add("run-1")
    outcome = fleet(fake, [dict(name="run-1")], restart=["run-1"])[0]
    assert outcome["failed"] and outcome["msg"] == "AWS call failed: Rate exceeded"
    assert outcome["actions"] == ["stop", "start"]  # the stop, then the restore's start
    assert fake.status("run-1") == "InService"
    assert outcome["notebook_instance"]["notebook_instance_status"] == "InService"


def test_a_failed_restore_after_an_aws_error_is_reported_with_the_status_it_left():
    fake = ThrottledAfterStop(start_error=aws_error("Insufficient capacity", code="ResourceLimitExceeded"))
    fake.add("run-1")
    outcome = fleet(fake, [dict(name="run-1")], restart=["run-1"])[0]
    assert outcome["failed"] and outcome["msg"].startswith("AWS call failed: Rate exceeded")
    assert "Starting the notebook again afterwards failed too" in outcome["msg"]
    assert "Insufficient capacity" in outcome["msg"]
    assert outcome["actions"] == ["stop"] and not outcome["restarted"]
    assert fake.status("run-1") == "Stopped"
    assert outcome["notebook_instance"]["notebook_instance_status"] == "Stopped"


def test_check_mode_predicts_the_restart_of_a_pending_notebook():
    fake = FakeSageMaker()
    fake.add("starting", status="Pending")
    outcome = fleet(fake, [dict(name="starting")], restart=["starting"], check_mode=True)[0]
    assert outcome["actions"] == ["stop", "start"] and outcome["changed"]
    assert fake.writes == []
