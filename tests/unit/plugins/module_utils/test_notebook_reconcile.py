# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""reconcile() and the waits against a fake SageMaker that walks through the transitional statuses."""

import copy

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import (
    reconcile,
    wait_for_status,
    wait_until_settled,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.waiter import WaitTimeout
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.notebook_params import (
    params as base_params,
)
from botocore.exceptions import ClientError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/"
NO_SLEEP = dict(sleep=lambda seconds: None)


def aws_error(message, code="ValidationException"):
    return ClientError({"Error": {"Code": code, "Message": message}}, "Operation")


class Paginator:
    def __init__(self, fake):
        self.fake = fake

    def paginate(self, ResourceArn):
        self.name = ResourceArn.rsplit("/", 1)[-1]
        return self

    def build_full_result(self):
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.fake.tags.get(self.name, {}).items()]}


class FakeSageMaker:
    """Each describe shows the current status, then moves one step along the transition."""

    def __init__(self, update_error=None, start_error=None, tag_error=None):
        self.notebooks = {}
        self.tags = {}
        self.writes = []
        self.update_error = update_error
        self.start_error = start_error
        self.tag_error = tag_error

    def add(self, name, status="InService", **fields):
        self.notebooks[name] = dict(
            NotebookInstanceName=name,
            NotebookInstanceArn=ARN + name,
            NotebookInstanceStatus=status,
            InstanceType="ml.t3.medium",
            RoleArn="arn:r",
            SubnetId="subnet-1",
            SecurityGroups=["sg-1"],
            DirectInternetAccess="Disabled",
            VolumeSizeInGB=5,
            PlatformIdentifier="notebook-al2023-v1",
            InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
            _next=[],
        )
        self.notebooks[name].update(fields)

    def _get(self, name):
        if name not in self.notebooks:
            raise aws_error("RecordNotFound")
        return self.notebooks[name]

    def _move(self, notebook, status, then):
        notebook["NotebookInstanceStatus"] = status
        notebook["_next"] = [then]

    def _require(self, notebook, allowed):
        if notebook["NotebookInstanceStatus"] not in allowed:
            raise aws_error("Status (%s) not in (%s)" % (notebook["NotebookInstanceStatus"], allowed))

    def describe_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        notebook = self._get(NotebookInstanceName)
        shown = dict((k, v) for k, v in copy.deepcopy(notebook).items() if not k.startswith("_"))
        if notebook["_next"]:
            following = notebook["_next"].pop(0)
            if following is None:
                del self.notebooks[NotebookInstanceName]
            else:
                notebook["NotebookInstanceStatus"] = following
        return shown

    def create_notebook_instance(self, aws_retry=False, **request):
        self.writes.append(("create", request))
        self.add(
            request["NotebookInstanceName"],
            status="Pending",
            NotebookInstanceLifecycleConfigName=request.get("LifecycleConfigName"),
        )
        self.notebooks[request["NotebookInstanceName"]]["_next"] = ["InService"]
        self.tags[request["NotebookInstanceName"]] = dict((t["Key"], t["Value"]) for t in request.get("Tags", []))

    def stop_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        notebook = self._get(NotebookInstanceName)
        self._require(notebook, ("InService",))
        self.writes.append(("stop", NotebookInstanceName))
        self._move(notebook, "Stopping", "Stopped")

    def start_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        notebook = self._get(NotebookInstanceName)
        self._require(notebook, ("Stopped", "Failed"))
        if self.start_error:
            raise self.start_error
        self.writes.append(("start", NotebookInstanceName))
        self._move(notebook, "Pending", "InService")

    def update_notebook_instance(self, NotebookInstanceName, aws_retry=False, **request):
        notebook = self._get(NotebookInstanceName)
        self._require(notebook, ("Stopped",))
        if self.update_error:
            raise self.update_error
        self.writes.append(("update", request))
        if "LifecycleConfigName" in request:
            notebook["NotebookInstanceLifecycleConfigName"] = request["LifecycleConfigName"]
        if request.get("DisassociateLifecycleConfig"):
            notebook.pop("NotebookInstanceLifecycleConfigName", None)
        if "InstanceType" in request:
            notebook["InstanceType"] = request["InstanceType"]
        self._move(notebook, "Updating", "Stopped")

    def delete_notebook_instance(self, NotebookInstanceName, aws_retry=False):
        notebook = self._get(NotebookInstanceName)
        self._require(notebook, ("Stopped", "Failed"))
        self.writes.append(("delete", NotebookInstanceName))
        self._move(notebook, "Deleting", None)

    def get_paginator(self, operation):
        assert operation == "list_tags"
        return Paginator(self)

    def add_tags(self, ResourceArn, Tags, aws_retry=False):
        if self.tag_error:
            raise self.tag_error
        self.writes.append(("add_tags", Tags))
        self.tags.setdefault(ResourceArn.rsplit("/", 1)[-1], {}).update((t["Key"], t["Value"]) for t in Tags)

    def delete_tags(self, ResourceArn, TagKeys, aws_retry=False):
        self.writes.append(("delete_tags", TagKeys))
        for key in TagKeys:
            self.tags[ResourceArn.rsplit("/", 1)[-1]].pop(key, None)

    def status(self, name):
        return self.notebooks[name]["NotebookInstanceStatus"] if name in self.notebooks else None


def params(**overrides):
    return base_params(**dict({"wait_timeout": 30}, **overrides))


def run(fake, check_mode=False, **overrides):
    warnings = []
    result = reconcile(fake, params(**overrides), check_mode=check_mode, warn=warnings.append, poll_args=NO_SLEEP)
    result["warnings"] = warnings
    return result


def test_create_waits_for_in_service_with_defaults():
    fake = FakeSageMaker()
    result = run(fake, instance_type="ml.t3.medium", role_arn="arn:r", subnet_id="subnet-1", tags={"k": "v"})
    assert result["changed"] and result["actions"] == ["create"]
    request = fake.writes[0][1]
    assert request["DirectInternetAccess"] == "Disabled"
    assert request["PlatformIdentifier"] == "notebook-al2023-v1"
    assert result["notebook_instance"]["notebook_instance_status"] == "InService"
    assert result["notebook_instance"]["tags"] == {"k": "v"}
    assert result["diff"]["before"] == {} and result["diff"]["after"]["status"] == "InService"


def test_create_without_subnet_refused_before_any_write():
    fake = FakeSageMaker()
    with pytest.raises(NotebooksError, match="subnet_id"):
        run(fake, instance_type="ml.t3.medium", role_arn="arn:r")
    assert fake.writes == []


def test_unchanged_is_not_changed_and_writes_nothing():
    fake = FakeSageMaker()
    fake.add("nb-1")
    result = run(fake, instance_type="ml.t3.medium", subnet_id="subnet-1", volume_size_in_gb=5)
    assert not result["changed"] and result["actions"] == [] and fake.writes == []


def test_running_notebook_is_stopped_updated_started():
    fake = FakeSageMaker()
    fake.add("nb-1", NotebookInstanceLifecycleConfigName="lcc-1")
    result = run(fake, lifecycle_config_name="lcc-2")
    assert result["actions"] == ["stop", "update", "start"]
    assert [w[0] for w in fake.writes] == ["stop", "update", "start"]
    assert fake.status("nb-1") == "InService"
    assert result["notebook_instance"]["notebook_instance_lifecycle_config_name"] == "lcc-2"
    assert result["diff"]["before"]["lifecycle_config_name"] == "lcc-1"
    assert result["diff"]["after"]["lifecycle_config_name"] == "lcc-2"


def test_stopped_notebook_is_updated_and_stays_stopped():
    fake = FakeSageMaker()
    fake.add("nb-1", status="Stopped")
    result = run(fake, instance_type="ml.t3.large")
    assert result["actions"] == ["update"]
    assert fake.status("nb-1") == "Stopped"


def test_wait_false_skips_only_the_last_wait():
    fake = FakeSageMaker()
    fake.add("nb-1", NotebookInstanceLifecycleConfigName="lcc-1")
    result = run(fake, lifecycle_config_name="lcc-2", wait=False)
    assert result["actions"] == ["stop", "update", "start"]
    # The stop and update were waited for (update needs Stopped); the start was not.
    assert result["notebook_instance"]["notebook_instance_status"] == "Pending"


def test_stop_wait_timeout_restarts_the_notebook():
    fake = FakeSageMaker()
    fake.add("nb-1")
    original_stop = fake.stop_notebook_instance

    def slow_stop(**kwargs):
        original_stop(**kwargs)
        fake.notebooks["nb-1"]["_next"] = ["Stopping"] * 3 + ["Stopped"]

    fake.stop_notebook_instance = slow_stop
    ticks = iter([0, 0, 100, 100] + list(range(100, 10000, 1)))
    with pytest.raises(NotebooksError, match="Timed out after 30s.*to be Stopped"):
        reconcile(
            fake, params(lifecycle_config_name="lcc-2"), poll_args=dict(sleep=lambda s: None, clock=lambda: next(ticks))
        )
    assert fake.status("nb-1") == "InService"
    assert [w[0] for w in fake.writes] == ["stop", "start"]


def test_transitional_notebook_is_waited_for_first():
    fake = FakeSageMaker()
    fake.add("nb-1", status="Stopping")
    fake.notebooks["nb-1"]["_next"] = ["Stopping", "Stopping", "Stopped"]
    result = run(fake, instance_type="ml.t3.large", state="started")
    assert result["actions"] == ["update", "start"]
    assert fake.status("nb-1") == "InService"


def test_failed_update_restores_in_service_and_reports_original_error():
    fake = FakeSageMaker(update_error=aws_error("Unable to find Notebook Instance Lifecycle Config (x)."))
    fake.add("nb-1")
    with pytest.raises(NotebooksError) as raised:
        run(fake, lifecycle_config_name="missing")
    assert "Unable to find Notebook Instance Lifecycle Config" in raised.value.msg
    assert "update_notebook_instance" in raised.value.msg
    assert raised.value.details["actions"] == ["stop", "start"]
    assert raised.value.details["error_code"] == "ValidationException"
    assert fake.status("nb-1") == "InService"
    assert raised.value.details["notebook_instance"]["notebook_instance_status"] in ("Pending", "InService")


def test_failure_after_the_steps_still_reports_them():
    fake = FakeSageMaker(tag_error=aws_error("User is not authorized to perform: sagemaker:AddTags", "AccessDenied"))
    fake.add("nb-1", NotebookInstanceLifecycleConfigName="lcc-1")
    with pytest.raises(NotebooksError) as raised:
        run(fake, lifecycle_config_name="lcc-2", tags={"team": "a"})
    assert raised.value.details["actions"] == ["stop", "update", "start"]
    assert raised.value.details["error_code"] == "AccessDenied"
    assert "after stop, update, start" in raised.value.msg and "sagemaker:AddTags" in raised.value.msg
    assert fake.status("nb-1") == "InService"


def test_failure_of_the_first_read_reports_no_actions():
    fake = FakeSageMaker()

    def denied(NotebookInstanceName, aws_retry=False):
        raise aws_error("not authorized to perform: sagemaker:DescribeNotebookInstance", "AccessDeniedException")

    fake.describe_notebook_instance = denied
    with pytest.raises(NotebooksError) as raised:
        run(fake)
    assert raised.value.details == {"actions": [], "error_code": "AccessDeniedException"}
    assert raised.value.msg == "AWS call failed: not authorized to perform: sagemaker:DescribeNotebookInstance"
    assert fake.writes == []


def test_failed_update_on_stopped_notebook_leaves_it_stopped():
    fake = FakeSageMaker(update_error=aws_error("nope"))
    fake.add("nb-1", status="Stopped")
    with pytest.raises(NotebooksError, match="nope"):
        run(fake, lifecycle_config_name="missing")
    assert fake.status("nb-1") == "Stopped"
    assert fake.writes == []


def test_failed_restore_is_reported_with_original_error():
    fake = FakeSageMaker(update_error=aws_error("update refused"), start_error=aws_error("start refused"))
    fake.add("nb-1")
    with pytest.raises(NotebooksError) as raised:
        run(fake, lifecycle_config_name="missing")
    message = raised.value.msg
    assert message.index("update refused") < message.index("start refused")
    assert raised.value.details["actions"] == ["stop"]


def test_create_only_difference_refused_with_nothing_changed():
    fake = FakeSageMaker()
    fake.add("nb-1")
    with pytest.raises(NotebooksError) as raised:
        run(fake, subnet_id="subnet-2", volume_size_in_gb=4 + 1, instance_type="ml.t3.large")
    assert "subnet_id (current: 'subnet-1', wanted: 'subnet-2')" in raised.value.msg
    assert raised.value.details["refused"] == [dict(field="subnet_id", current="subnet-1", wanted="subnet-2")]
    assert fake.writes == []


def test_volume_shrink_refused():
    fake = FakeSageMaker()
    fake.add("nb-1", VolumeSizeInGB=20)
    with pytest.raises(NotebooksError, match=r"volume_size_in_gb \(current: 20, wanted: 10\)"):
        run(fake, volume_size_in_gb=10)
    assert fake.writes == []


def test_check_mode_reports_actions_and_takes_none():
    fake = FakeSageMaker()
    fake.add("nb-1")
    result = run(fake, check_mode=True, lifecycle_config_name="lcc-2", tags={"a": "b"})
    assert result["changed"] and result["actions"] == ["stop", "update", "start", "tag"]
    assert fake.writes == []
    assert result["diff"]["after"]["lifecycle_config_name"] == "lcc-2"
    assert result["diff"]["after"]["tags"] == {"a": "b"}


def test_check_mode_on_missing_notebook_predicts_create():
    fake = FakeSageMaker()
    result = run(fake, check_mode=True, state="stopped", instance_type="t", role_arn="r", subnet_id="s")
    assert result["actions"] == ["create", "stop"] and fake.writes == []
    assert result["diff"]["after"]["status"] == "Stopped"
    assert result["diff"]["after"]["direct_internet_access"] == "Disabled"


def test_started_stopped_absent():
    fake = FakeSageMaker()
    fake.add("nb-1")
    assert run(fake, state="stopped")["actions"] == ["stop"]
    assert fake.status("nb-1") == "Stopped"
    assert run(fake, state="stopped")["actions"] == []
    assert run(fake, state="started")["actions"] == ["start"]
    assert fake.status("nb-1") == "InService"
    result = run(fake, state="absent")
    assert result["actions"] == ["stop", "delete"] and result["notebook_instance"] == {}
    assert fake.status("nb-1") is None
    assert run(fake, state="absent") == dict(
        changed=False, actions=[], notebook_instance={}, diff=dict(before={}, after={}), warnings=[]
    )


def test_tags_reconcile_with_purge():
    fake = FakeSageMaker()
    fake.add("nb-1")
    fake.tags["nb-1"] = {"old": "1", "keep": "2"}
    result = run(fake, tags={"keep": "2", "new": "3"})
    assert result["actions"] == ["tag"]
    assert fake.tags["nb-1"] == {"keep": "2", "new": "3"}
    assert run(fake, tags={"keep": "2", "new": "3"})["actions"] == []
    assert run(fake, tags={"more": "4"}, purge_tags=False)["actions"] == ["tag"]
    assert fake.tags["nb-1"] == {"keep": "2", "new": "3", "more": "4"}


def test_failed_notebook_is_updated_and_reported():
    fake = FakeSageMaker()
    fake.add("nb-1", status="Failed", FailureReason="lifecycle script failed")
    # The fake refuses updates outside Stopped, as the emulator does: the error names it.
    with pytest.raises(NotebooksError, match="Status \\(Failed\\)"):
        run(fake, lifecycle_config_name="fixed")
    result = run(fake, state="started")
    assert result["actions"] == ["start"]
    assert any("lifecycle script failed" in w for w in result["warnings"])


# --- the waits ----------------------------------------------------------------------------------------


def test_wait_for_status_fails_at_once_on_failed():
    fake = FakeSageMaker()
    fake.add("nb-1", status="Pending", FailureReason="no capacity")
    fake.notebooks["nb-1"]["_next"] = ["Failed"]
    with pytest.raises(NotebooksError, match="is Failed while waiting for InService: no capacity"):
        wait_for_status(fake, "nb-1", ("InService",), 30, **NO_SLEEP)


def test_wait_timeout_names_the_timeout_and_status():
    fake = FakeSageMaker()
    fake.add("nb-1", status="Pending")
    fake.notebooks["nb-1"]["_next"] = ["Pending"] * 100
    ticks = iter(range(0, 1000, 5))
    with pytest.raises(WaitTimeout, match=r"Timed out after 12s \(wait_timeout\).*still Pending"):
        wait_for_status(fake, "nb-1", ("InService",), 12, clock=lambda: next(ticks), **NO_SLEEP)


def test_wait_until_settled_accepts_gone():
    fake = FakeSageMaker()
    fake.add("nb-1", status="Deleting")
    fake.notebooks["nb-1"]["_next"] = [None]
    assert wait_until_settled(fake, "nb-1", 30, **NO_SLEEP) is None


def test_first_poll_is_immediate_and_delays_start_short():
    fake = FakeSageMaker()
    fake.add("nb-1", status="Stopping")
    fake.notebooks["nb-1"]["_next"] = ["Stopping", "Stopped"]
    slept = []
    wait_for_status(fake, "nb-1", ("Stopped",), 30, sleep=slept.append)
    assert slept and slept[0] <= 0.5
