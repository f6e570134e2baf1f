# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The status table (notebook.STATUS_TABLE) against the installed botocore's NotebookInstanceStatus
enum: every value AWS may answer has a plan behaviour and an autostop behaviour, and the copies of the
table elsewhere (files/autostop.py, notebook_instance_info's choices) agree with it.  A value that a
newer botocore adds fails here until it has a row."""

import importlib.util
import itertools
from pathlib import Path

import botocore.session
import pytest
import yaml
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import (
    RUNNING_STATUSES,
    SERVING,
    STATUS_TABLE,
    STATUSES,
    TRANSITIONAL,
    is_running,
    is_settled,
    must_restore,
    plan,
    settled,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.modules import notebook_instance_info

ROOT = Path(__file__).resolve().parents[4]
BOTOCORE_STATUSES = tuple(
    botocore.session.get_session().get_service_model("sagemaker").shape_for("NotebookInstanceStatus").enum
)
STATES = ("present", "started", "stopped", "absent")
STEPS = {"create", "stop", "update", "start", "delete"}


def _autostop():
    spec = importlib.util.spec_from_file_location("autostop_for_table", ROOT / "files" / "autostop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


autostop = _autostop()


def test_the_model_lists_the_maintenance_statuses():
    # The reason for this table's last two rows (botocore 1.43.67); a botocore without them is older
    # than the one these tests are meant for.
    assert {"PendingMaintenance", "InMaintenance"} <= set(BOTOCORE_STATUSES)


@pytest.mark.parametrize("status", BOTOCORE_STATUSES)
def test_every_botocore_status_has_a_row(status):
    assert status in STATUS_TABLE, "botocore lists %s: give it a row in notebook.STATUS_TABLE" % status
    row = STATUS_TABLE[status]
    assert all(isinstance(value, bool) for value in (row.settled, row.running, row.autostop))


@pytest.mark.parametrize("status", BOTOCORE_STATUSES)
def test_every_botocore_status_has_a_plan_behaviour(status):
    row = STATUS_TABLE[status]
    if row.settled:
        assert settled(status) == status and is_settled(status)
        for update, state in itertools.product((False, True), STATES):
            steps = plan(status, update, state)
            assert set(steps) <= STEPS
            if "update" in steps or "delete" in steps:
                # AWS takes both only from a stopped notebook: a running one is stopped first.
                first = steps.index("update") if "update" in steps else steps.index("delete")
                assert ("stop" in steps[:first]) is row.running, (status, update, state, steps)
    else:
        # Waited for (wait_until_settled), never planned on; where it ends is a settled status.
        assert status in TRANSITIONAL and not is_settled(status)
        assert is_settled(row.settles_in)
        with pytest.raises(ValueError):
            plan(status, False, "present")


@pytest.mark.parametrize("status", BOTOCORE_STATUSES)
def test_every_botocore_status_has_an_autostop_behaviour_that_agrees_with_the_table(status):
    due, why_not = autostop.stop_due("nb-1", status)
    assert due is STATUS_TABLE[status].autostop
    assert (status in autostop.STOP_STATUSES) is STATUS_TABLE[status].autostop
    if not due:
        assert why_not.startswith("nb-1 is %s" % status)


def test_autostop_copies_the_table_exactly():
    assert set(autostop.STOP_STATUSES) == set(s for s, row in STATUS_TABLE.items() if row.autostop)
    assert set(autostop.STOP_STATUSES) <= set(BOTOCORE_STATUSES)


def test_autostop_stops_pending_maintenance_and_leaves_maintenance_alone():
    assert autostop.stop_due("nb-1", "PendingMaintenance") == (True, None)
    due, why_not = autostop.stop_due("nb-1", "InMaintenance")
    assert not due and "maintenance in progress" in why_not
    # A status neither knows is never stopped.
    assert autostop.stop_due("nb-1", "Hibernating")[0] is False


def test_maintenance_rows():
    pending, maintenance = STATUS_TABLE["PendingMaintenance"], STATUS_TABLE["InMaintenance"]
    assert pending.settled and pending.running and pending.autostop
    assert not maintenance.settled and maintenance.settles_in == "InService" and maintenance.running
    assert not maintenance.autostop


def test_derived_lists():
    assert STATUSES == tuple(STATUS_TABLE)
    assert set(SERVING) == {"InService", "PendingMaintenance"}
    # lifecycle_config's restart_required: every status whose instance an earlier start gave it.
    assert set(RUNNING_STATUSES) == {"Pending", "InService", "PendingMaintenance", "InMaintenance"}
    assert is_running("PendingMaintenance") and not is_running("Stopped") and not is_running(None)


def test_pending_maintenance_is_planned_as_in_service():
    for update, state in itertools.product((False, True), STATES):
        assert plan("PendingMaintenance", update, state) == plan("InService", update, state)
    assert must_restore("PendingMaintenance", ["stop", "update", "start"])


def test_info_status_filter_offers_every_status():
    documented = yaml.safe_load(notebook_instance_info.DOCUMENTATION)["options"]["status_equals"]["choices"]
    assert documented == list(STATUSES)
    assert set(BOTOCORE_STATUSES) <= set(documented)
