# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The notebook state machine and input rules, without AWS."""

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import (
    create_request,
    differences,
    execute,
    known_instance_types,
    must_restore,
    plan,
    refusal,
    settled,
    update_request,
    validate,
    validate_create,
    view,
)
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.notebook_params import (
    params,
)

# (settled status, updatable fields differ, state) -> actions
PLANS = [
    # missing
    (None, False, "present", ["create"]),
    (None, False, "started", ["create"]),
    (None, False, "stopped", ["create", "stop"]),
    (None, False, "absent", []),
    # running
    ("InService", False, "present", []),
    ("InService", True, "present", ["stop", "update", "start"]),
    ("InService", False, "started", []),
    ("InService", True, "started", ["stop", "update", "start"]),
    ("InService", False, "stopped", ["stop"]),
    ("InService", True, "stopped", ["stop", "update"]),
    ("InService", False, "absent", ["stop", "delete"]),
    ("InService", True, "absent", ["stop", "delete"]),
    # running with maintenance scheduled: as InService (notebook.STATUS_TABLE says why)
    ("PendingMaintenance", True, "present", ["stop", "update", "start"]),
    ("PendingMaintenance", False, "started", []),
    ("PendingMaintenance", True, "started", ["stop", "update", "start"]),
    ("PendingMaintenance", False, "stopped", ["stop"]),
    ("PendingMaintenance", True, "stopped", ["stop", "update"]),
    ("PendingMaintenance", False, "absent", ["stop", "delete"]),
    # stopped: updated and left stopped unless started is asked for
    ("Stopped", False, "present", []),
    ("Stopped", True, "present", ["update"]),
    ("Stopped", False, "started", ["start"]),
    ("Stopped", True, "started", ["update", "start"]),
    ("Stopped", False, "stopped", []),
    ("Stopped", True, "stopped", ["update"]),
    ("Stopped", False, "absent", ["delete"]),
    # failed: update and report; start only when asked
    ("Failed", False, "present", []),
    ("Failed", True, "present", ["update"]),
    ("Failed", False, "started", ["start"]),
    ("Failed", True, "started", ["update", "start"]),
    ("Failed", False, "stopped", []),
    ("Failed", False, "absent", ["delete"]),
]


@pytest.mark.parametrize("status, update, state, expected", PLANS)
def test_plan(status, update, state, expected):
    assert plan(status, update, state) == expected


@pytest.mark.parametrize("status", ["Pending", "Stopping", "Updating", "Deleting", "InMaintenance"])
def test_plan_refuses_transitional_status(status):
    with pytest.raises(ValueError):
        plan(status, True, "present")


@pytest.mark.parametrize(
    "status, expected",
    [
        ("Pending", "InService"),
        ("Stopping", "Stopped"),
        ("Updating", "Stopped"),
        ("Deleting", None),
        ("InMaintenance", "InService"),
        ("InService", "InService"),
        ("Failed", "Failed"),
        (None, None),
    ],
)
def test_settled(status, expected):
    assert settled(status) == expected


@pytest.mark.parametrize(
    "status, steps, expected",
    [
        ("InService", ["stop", "update", "start"], True),
        ("InService", ["stop", "update"], False),  # state=stopped: the user wants it stopped
        ("InService", ["stop", "delete"], False),
        ("Stopped", ["update", "start"], False),
        ("InService", [], False),
        ("PendingMaintenance", ["stop", "update", "start"], True),
    ],
)
def test_must_restore(status, steps, expected):
    assert must_restore(status, steps) is expected


class Ops:
    """Records the steps execute() runs; fails on the named step.  Plain data for a pure function,
    not a double of AWS: execute() takes any object with one method per step (notebook_ops.Notebook
    in the modules) and makes no AWS call itself."""

    def __init__(self, fail_on=None, restore_fails=False):
        self.calls = []
        self.fail_on = fail_on
        self.restore_fails = restore_fails

    def __getattr__(self, step):
        def call():
            self.calls.append(step)
            if step == self.fail_on or (step == "restore" and self.restore_fails):
                raise NotebooksError("%s failed" % step)

        return call


def test_execute_runs_steps_in_order():
    ops = Ops()
    execute(["stop", "update", "start"], ops, restore=True)
    assert ops.calls == ["stop", "update", "start"]


def test_execute_restores_after_failed_update_and_reraises_original():
    ops = Ops(fail_on="update")
    with pytest.raises(NotebooksError, match="update failed") as raised:
        execute(["stop", "update", "start"], ops, restore=True)
    assert ops.calls == ["stop", "update", "restore"]
    assert not hasattr(raised.value, "restore_error")


def test_execute_restores_after_failed_start():
    ops = Ops(fail_on="start")
    with pytest.raises(NotebooksError, match="start failed"):
        execute(["stop", "update", "start"], ops, restore=True)
    assert ops.calls == ["stop", "update", "start", "restore"]


def test_execute_restores_after_failed_stop():
    # The stop call may have been accepted before its wait failed; restore() starts only if needed.
    ops = Ops(fail_on="stop")
    with pytest.raises(NotebooksError, match="stop failed"):
        execute(["stop", "update", "start"], ops, restore=True)
    assert ops.calls == ["stop", "restore"]


def test_execute_no_restore_for_steps_before_the_stop():
    ops = Ops(fail_on="update")
    with pytest.raises(NotebooksError):
        execute(["update", "start"], ops, restore=True)
    assert ops.calls == ["update"]


def test_execute_no_restore_when_not_asked():
    ops = Ops(fail_on="update")
    with pytest.raises(NotebooksError):
        execute(["stop", "update"], ops, restore=False)
    assert ops.calls == ["stop", "update"]


def test_execute_keeps_original_error_when_restore_fails():
    ops = Ops(fail_on="update", restore_fails=True)
    with pytest.raises(NotebooksError, match="update failed") as raised:
        execute(["stop", "update", "start"], ops, restore=True)
    assert str(raised.value.restore_error) == "restore failed"


# --- input rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(name="-bad"), "name"),
        (dict(name="bad_name"), "name"),
        (dict(name="a" * 64), "name"),
        (dict(volume_size_in_gb=4), "volume_size_in_gb"),
        (dict(volume_size_in_gb=16385), "volume_size_in_gb"),
        (dict(security_group_ids=["sg-%d" % i for i in range(6)]), "security_group_ids"),
        (dict(additional_code_repositories=["r1", "r2", "r3", "r4"]), "additional_code_repositories"),
        (dict(lifecycle_config_name="bad name"), "lifecycle_config_name"),
        (dict(direct_internet_access="Disabled", subnet_id=""), "subnet_id"),
        (dict(wait_timeout=0), "wait_timeout"),
    ],
)
def test_validate_names_field(overrides, field):
    with pytest.raises(NotebooksError) as raised:
        validate(params(**overrides))
    assert field in raised.value.msg


def test_validate_accepts_good_input_and_detach():
    validate(params(name="a" * 63, volume_size_in_gb=5, security_group_ids=["sg-1"] * 5, lifecycle_config_name=""))


def test_instance_type_is_checked_against_botocore_model():
    import botocore.session

    known = known_instance_types(botocore.session.get_session().get_service_model("sagemaker"))
    assert {"ml.t3.medium", "ml.g5.xlarge"} <= known and "ml.bogus.large" not in known
    validate(params(instance_type="ml.t3.medium"), known)
    with pytest.raises(NotebooksError) as raised:
        validate(params(instance_type="ml.bogus.large"), known)
    assert "instance_type 'ml.bogus.large'" in raised.value.msg
    # Without a model to ask (None), the type is left to the API.
    assert known_instance_types(None) is None
    validate(params(instance_type="ml.bogus.large"), None)


def test_validate_create_requires_type_role_and_subnet_for_default_isolation():
    with pytest.raises(NotebooksError) as raised:
        validate_create(params())
    for field in ("instance_type", "role_arn", "subnet_id", "Disabled"):
        assert field in raised.value.msg
    validate_create(params(instance_type="ml.t3.medium", role_arn="arn:r", direct_internet_access="Enabled"))
    validate_create(params(instance_type="ml.t3.medium", role_arn="arn:r", subnet_id="subnet-1"))


def test_create_request_applies_creation_defaults():
    request = create_request(
        params(
            instance_type="ml.t3.medium",
            role_arn="arn:r",
            subnet_id="subnet-1",
            tags={"a": "b"},
            lifecycle_config_name="lcc",
        )
    )
    assert request == {
        "NotebookInstanceName": "nb-1",
        "InstanceType": "ml.t3.medium",
        "RoleArn": "arn:r",
        "SubnetId": "subnet-1",
        "DirectInternetAccess": "Disabled",
        "PlatformIdentifier": "notebook-al2023-v1",
        "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"},
        "LifecycleConfigName": "lcc",
        "Tags": [{"Key": "a", "Value": "b"}],
    }


def test_create_request_keeps_explicit_values():
    request = create_request(
        params(
            instance_type="t",
            role_arn="r",
            direct_internet_access="Enabled",
            platform_identifier="notebook-al2-v3",
            minimum_imds_version="1",
            lifecycle_config_name="",
        )
    )
    assert request["DirectInternetAccess"] == "Enabled"
    assert request["PlatformIdentifier"] == "notebook-al2-v3"
    assert request["InstanceMetadataServiceConfiguration"] == {"MinimumInstanceMetadataServiceVersion": "1"}
    assert "LifecycleConfigName" not in request


# --- differences -------------------------------------------------------------------------------------

DESCRIBED = {
    "NotebookInstanceArn": "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb-1",
    "NotebookInstanceName": "nb-1",
    "NotebookInstanceStatus": "InService",
    "InstanceType": "ml.t3.medium",
    "RoleArn": "arn:r",
    "SubnetId": "subnet-1",
    "SecurityGroups": ["sg-2", "sg-1"],
    "DirectInternetAccess": "Disabled",
    "VolumeSizeInGB": 10,
    "NotebookInstanceLifecycleConfigName": "lcc-1",
    "PlatformIdentifier": "notebook-al2023-v1",
    "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"},
}


def test_omitted_options_leave_everything_alone():
    assert differences(view(DESCRIBED), params()) == ([], [])


def test_same_values_are_no_difference():
    same = params(
        instance_type="ml.t3.medium",
        subnet_id="subnet-1",
        security_group_ids=["sg-1", "sg-2"],
        direct_internet_access="Disabled",
        volume_size_in_gb=10,
        lifecycle_config_name="lcc-1",
        platform_identifier="notebook-al2023-v1",
        minimum_imds_version="2",
        root_access="Enabled",
        kms_key_id="",
        default_code_repository="",
        additional_code_repositories=[],
    )
    assert differences(view(DESCRIBED), same) == ([], [])


KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/" + KEY_ID  # DESCRIBED's region and account


@pytest.mark.parametrize(
    "described, wanted, same",
    [
        (KEY_ARN, KEY_ID, True),
        (KEY_ID, KEY_ARN, True),
        ("arn:aws:kms:us-east-1:123456789012:alias/nb", "alias/nb", True),
        (KEY_ARN, "arn:aws:kms:us-east-1:123456789012:key/other", False),
        (KEY_ARN, "alias/nb", False),  # an alias is not resolved
        ("arn:aws:kms:us-east-1:222222222222:alias/nb", "alias/nb", False),  # another account's alias
        ("arn:aws:kms:eu-west-1:123456789012:key/mrk-1", "mrk-1", False),  # a multi-Region replica elsewhere
        ("arn:aws-cn:kms:us-east-1:123456789012:key/" + KEY_ID, KEY_ID, False),  # another partition
        ("", KEY_ID, False),
        (KEY_ID, "", False),
    ],
)
def test_kms_key_forms(described, wanted, same):
    notebook = dict(DESCRIBED, KmsKeyId=described)
    create_only, updates = differences(view(notebook), params(kms_key_id=wanted), notebook["NotebookInstanceArn"])
    assert updates == []
    assert create_only == ([] if same else [("kms_key_id", described, wanted)])


def test_create_only_changes_and_shrink_are_refused():
    wanted = params(
        subnet_id="subnet-2",
        security_group_ids=["sg-1"],
        direct_internet_access="Enabled",
        kms_key_id="key-1",
        volume_size_in_gb=5,
        instance_type="ml.t3.large",
    )
    create_only, updates = differences(view(DESCRIBED), wanted)
    assert [c[0] for c in create_only] == [
        "subnet_id",
        "security_group_ids",
        "direct_internet_access",
        "kms_key_id",
        "volume_size_in_gb",
    ]
    assert updates == [("instance_type", "ml.t3.medium", "ml.t3.large")]
    message = refusal("nb-1", create_only)
    assert "subnet_id (current: 'subnet-1', wanted: 'subnet-2')" in message
    assert "volume_size_in_gb (current: 10, wanted: 5)" in message
    assert "deleting the notebook instance and its storage volume" in message


def test_updates_become_one_request():
    wanted = params(
        lifecycle_config_name="lcc-2",
        volume_size_in_gb=20,
        minimum_imds_version="1",
        platform_identifier="notebook-al2023-v2",
        root_access="Disabled",
    )
    _create_only, updates = differences(view(DESCRIBED), wanted)
    assert update_request("nb-1", updates) == {
        "NotebookInstanceName": "nb-1",
        "RootAccess": "Disabled",
        "VolumeSizeInGB": 20,
        "LifecycleConfigName": "lcc-2",
        "PlatformIdentifier": "notebook-al2023-v2",
        "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "1"},
    }


def test_empty_values_detach():
    current = view(dict(DESCRIBED, DefaultCodeRepository="https://git/x", AdditionalCodeRepositories=["r"]))
    wanted = params(lifecycle_config_name="", default_code_repository="", additional_code_repositories=[])
    _create_only, updates = differences(current, wanted)
    assert update_request("nb-1", updates) == {
        "NotebookInstanceName": "nb-1",
        "DisassociateLifecycleConfig": True,
        "DisassociateDefaultCodeRepository": True,
        "DisassociateAdditionalCodeRepositories": True,
    }


def test_detach_when_nothing_attached_is_no_change():
    current = view(dict(DESCRIBED, NotebookInstanceLifecycleConfigName=None))
    assert differences(current, params(lifecycle_config_name="")) == ([], [])


def test_view_fills_aws_defaults():
    current = view({"NotebookInstanceStatus": "Stopped"})
    assert current["direct_internet_access"] == "Enabled"
    assert current["root_access"] == "Enabled"
    assert current["volume_size_in_gb"] == 5
    assert view(None) == {}
