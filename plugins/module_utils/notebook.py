# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A SageMaker notebook instance, the pure part: input rules, the difference to AWS, the state machine.

Nothing here takes an AWS client (``validate``, ``differences``, ``plan``, ``execute``, ``predict``),
so the decisions are unit-tested without AWS.  ``notebook_ops`` makes the calls and waits.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.arn import kms_key_arn, name_error, parse
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError, snake, tag_list

# AWS API rules (CreateNotebookInstance / UpdateNotebookInstance reference); the name rule is arn.py's.
VOLUME_MIN, VOLUME_MAX = 5, 16384
MAX_SECURITY_GROUPS = 5
MAX_ADDITIONAL_REPOSITORIES = 3

# --- notebook statuses: one table --------------------------------------------------------------------
#
# One row per value of botocore's NotebookInstanceStatus enum, the contract (a unit test fails when
# the installed botocore lists a value that has no row here).  Columns:
#   settled    - the module acts on a notebook in this status (False: it waits, within wait_timeout,
#                until the notebook leaves it, and acts on the status it really ends in);
#   settles_in - the status it ends in without anyone acting (None: gone).  For a transitional status
#                only a prediction, used by check mode and notebook_fleet's restart decision;
#   running    - it runs on a compute instance an earlier start gave it: a lifecycle configuration
#                changed since has not run on it (lifecycle_config's restart_required), an update
#                stops it first and starts it again, also after a failure (must_restore), a delete
#                stops it first;
#   autostop   - files/autostop.py stops it when idle (that script ships alone: its STOP_STATUSES
#                is a copy, and a unit test checks that the two agree for every status).
# Sources.  Pending .. Updating: the SageMaker API reference (StartNotebookInstance "sets the notebook
# instance status to InService"; DeleteNotebookInstance "Before you can delete a notebook instance, you
# must call the StopNotebookInstance API") and AWS's refusals, e.g. "Status (Pending) not in
# ([InService]). Unable to transition to (Stopping)" (github.com/aws/amazon-sagemaker-examples/issues/1094).
# PendingMaintenance, InMaintenance: added in botocore 1.43.67 ("Amazon SageMaker adds maintenance
# lifecycle statuses for Notebook Instances"); what the API accepts in them, and what InMaintenance
# ends in, is not documented (not in the API reference, the developer guide, the botocore model's
# documentation, nor SDK changelogs or public issues).  Chosen so that being wrong is safe:
#   PendingMaintenance: an InService notebook with maintenance scheduled, so running and settled, and
#     stop/update/start, stop+delete and autostop go as for InService.  If AWS refuses the stop in this
#     status, the module fails with AWS's message before anything changed; once a stop was accepted, a
#     later failure starts the notebook again, as for InService.
#   InMaintenance: maintenance in progress, so transitional like Pending/Updating: waited for, never
#     acted on (a call could interrupt AWS's work).  Predicted to end InService (maintenance of a
#     running notebook); if it ends Stopped or Failed instead, the module acts on that.  Counted as
#     running (its instance did not start with a newer lifecycle configuration); autostop leaves it
#     alone and the next check decides.
NotebookStatus = namedtuple("NotebookStatus", "settled settles_in running autostop")
STATUS_TABLE = {
    "Pending": NotebookStatus(settled=False, settles_in="InService", running=True, autostop=False),
    "InService": NotebookStatus(settled=True, settles_in="InService", running=True, autostop=True),
    "Stopping": NotebookStatus(settled=False, settles_in="Stopped", running=False, autostop=False),
    "Stopped": NotebookStatus(settled=True, settles_in="Stopped", running=False, autostop=False),
    "Failed": NotebookStatus(settled=True, settles_in="Failed", running=False, autostop=False),
    "Deleting": NotebookStatus(settled=False, settles_in=None, running=False, autostop=False),
    "Updating": NotebookStatus(settled=False, settles_in="Stopped", running=False, autostop=False),
    "PendingMaintenance": NotebookStatus(settled=True, settles_in="PendingMaintenance", running=True, autostop=True),
    "InMaintenance": NotebookStatus(settled=False, settles_in="InService", running=True, autostop=False),
}
STATUSES = tuple(STATUS_TABLE)  # notebook_instance_info's status_equals choices
# Transitional status -> the status it settles in (None: the notebook is gone).
TRANSITIONAL = dict((s, row.settles_in) for s, row in STATUS_TABLE.items() if not row.settled)
SETTLED = tuple(s for s, row in STATUS_TABLE.items() if row.settled)
RUNNING_STATUSES = tuple(s for s, row in STATUS_TABLE.items() if row.running)
# What a create or start waits for: running and settled (maintenance may be scheduled meanwhile).
SERVING = tuple(s for s in SETTLED if STATUS_TABLE[s].running)
AUTOSTOP_STATUSES = tuple(s for s, row in STATUS_TABLE.items() if row.autostop)

# Applied only when the module creates a notebook; on an existing one an omitted option is left alone.
CREATE_DEFAULTS = {
    "direct_internet_access": "Disabled",
    "platform_identifier": "notebook-al2023-v1",
    "minimum_imds_version": "2",
}
# What AWS assumes when a create call omits these (describe may then omit them too).
AWS_DEFAULTS = {"direct_internet_access": "Enabled", "root_access": "Enabled", "volume_size_in_gb": 5}

CREATE_ONLY = ("subnet_id", "security_group_ids", "direct_internet_access", "kms_key_id")
UPDATABLE = (
    "instance_type",
    "role_arn",
    "root_access",
    "volume_size_in_gb",
    "lifecycle_config_name",
    "platform_identifier",
    "minimum_imds_version",
    "default_code_repository",
    "additional_code_repositories",
)
# Lists whose order AWS does not give meaning to.
UNORDERED = ("security_group_ids", "additional_code_repositories")

# The options of one notebook, as notebook_instance takes them and notebook_fleet takes each item.
NOTEBOOK_OPTIONS = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "started", "stopped", "absent"]),
    instance_type=dict(type="str"),
    role_arn=dict(type="str"),
    subnet_id=dict(type="str"),
    security_group_ids=dict(type="list", elements="str"),
    direct_internet_access=dict(type="str", choices=["Enabled", "Disabled"]),
    root_access=dict(type="str", choices=["Enabled", "Disabled"]),
    kms_key_id=dict(type="str"),
    kms_key_mismatch=dict(type="str", default="fail", choices=["fail", "warn"]),
    volume_size_in_gb=dict(type="int"),
    lifecycle_config_name=dict(type="str"),
    platform_identifier=dict(type="str"),
    minimum_imds_version=dict(type="str", choices=["1", "2"]),
    default_code_repository=dict(type="str"),
    additional_code_repositories=dict(type="list", elements="str"),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
)


def notebook_options():
    """A fresh copy of NOTEBOOK_OPTIONS for an argument spec."""
    return dict((option, dict(spec)) for option, spec in NOTEBOOK_OPTIONS.items())


# --- input -----------------------------------------------------------------------------------------


def known_instance_types(service_model):
    """The notebook instance types the installed botocore's SageMaker model lists (None: it cannot tell).

    The API refuses any other value; checking here refuses it before the stop an update needs.
    """
    try:
        shape = service_model.operation_model("CreateNotebookInstance").input_shape.members["InstanceType"]
    except (AttributeError, KeyError, LookupError):
        return None
    return frozenset(shape.enum or ()) or None


def validate(params, instance_types=None):
    """Raise NotebooksError naming every bad field and its rule; called before any AWS call."""
    errors = []
    instance_type = params.get("instance_type")
    if instance_type and instance_types and instance_type not in instance_types:
        errors.append(
            "instance_type %r is not a notebook instance type SageMaker offers (for example ml.t3.medium); "
            "a type newer than the installed botocore needs a newer botocore" % instance_type
        )
    problem = name_error(params.get("name") or "", "name", "notebook instance")
    if problem:
        errors.append(problem)
    volume = params.get("volume_size_in_gb")
    if volume is not None and not VOLUME_MIN <= volume <= VOLUME_MAX:
        errors.append("volume_size_in_gb must be between %d and %d, got %s" % (VOLUME_MIN, VOLUME_MAX, volume))
    groups = params.get("security_group_ids")
    if groups is not None and len(groups) > MAX_SECURITY_GROUPS:
        errors.append("security_group_ids takes at most %d groups, got %d" % (MAX_SECURITY_GROUPS, len(groups)))
    repositories = params.get("additional_code_repositories")
    if repositories is not None and len(repositories) > MAX_ADDITIONAL_REPOSITORIES:
        errors.append(
            "additional_code_repositories takes at most %d repositories, got %d"
            % (MAX_ADDITIONAL_REPOSITORIES, len(repositories))
        )
    lcc = params.get("lifecycle_config_name")
    problem = name_error(lcc, "lifecycle_config_name", "lifecycle configuration") if lcc else None
    if problem:
        errors.append(problem + ' (or "" to detach)')
    if params.get("direct_internet_access") == "Disabled" and params.get("subnet_id") == "":
        errors.append("direct_internet_access Disabled requires a subnet_id")
    if params.get("wait_timeout") is not None and params["wait_timeout"] < 1:
        errors.append("wait_timeout must be at least 1 second, got %s" % params["wait_timeout"])
    if errors:
        raise NotebooksError("Invalid input: " + "; ".join(errors), invalid=errors)


def validate_create(params):
    """The rules that apply only when the notebook does not exist yet (still before any write)."""
    errors = []
    for required in ("instance_type", "role_arn"):
        if not params.get(required):
            errors.append("%s is required to create a notebook instance" % required)
    access = params.get("direct_internet_access") or CREATE_DEFAULTS["direct_internet_access"]
    if access == "Disabled" and not params.get("subnet_id"):
        errors.append(
            "direct_internet_access Disabled (the default) requires subnet_id: a notebook without internet "
            "access reaches AWS only through its VPC"
        )
    if errors:
        raise NotebooksError("Cannot create notebook instance %s: %s" % (params.get("name"), "; ".join(errors)))


def create_request(params):
    """CreateNotebookInstance arguments from the module options, with the creation defaults."""
    values = dict(CREATE_DEFAULTS)
    values.update((k, v) for k, v in params.items() if v is not None)
    request = {
        "NotebookInstanceName": values["name"],
        "InstanceType": values["instance_type"],
        "RoleArn": values["role_arn"],
        "DirectInternetAccess": values["direct_internet_access"],
        "PlatformIdentifier": values["platform_identifier"],
        "InstanceMetadataServiceConfiguration": {
            "MinimumInstanceMetadataServiceVersion": values["minimum_imds_version"],
        },
    }
    optional = {
        "subnet_id": "SubnetId",
        "security_group_ids": "SecurityGroupIds",
        "kms_key_id": "KmsKeyId",
        "root_access": "RootAccess",
        "volume_size_in_gb": "VolumeSizeInGB",
        "lifecycle_config_name": "LifecycleConfigName",
        "default_code_repository": "DefaultCodeRepository",
        "additional_code_repositories": "AdditionalCodeRepositories",
    }
    for option, member in optional.items():
        if values.get(option) not in (None, "", []):
            request[member] = values[option]
    if values.get("tags"):
        request["Tags"] = tag_list(values["tags"])
    return request


# --- the difference to AWS ---------------------------------------------------------------------------


def status_of(described):
    return (described or {}).get("NotebookInstanceStatus")


def view(described, tags=None):
    """The reconciled fields of a described notebook, named like the module options ({} when absent)."""
    if not described:
        return {}
    imds = described.get("InstanceMetadataServiceConfiguration") or {}
    result = {
        "status": described.get("NotebookInstanceStatus"),
        "instance_type": described.get("InstanceType"),
        "role_arn": described.get("RoleArn"),
        "subnet_id": described.get("SubnetId") or "",
        "security_group_ids": sorted(described.get("SecurityGroups") or []),
        "direct_internet_access": described.get("DirectInternetAccess") or AWS_DEFAULTS["direct_internet_access"],
        "kms_key_id": described.get("KmsKeyId") or "",
        "root_access": described.get("RootAccess") or AWS_DEFAULTS["root_access"],
        "volume_size_in_gb": described.get("VolumeSizeInGB") or AWS_DEFAULTS["volume_size_in_gb"],
        "lifecycle_config_name": described.get("NotebookInstanceLifecycleConfigName") or "",
        "platform_identifier": described.get("PlatformIdentifier"),
        "minimum_imds_version": imds.get("MinimumInstanceMetadataServiceVersion"),
        "default_code_repository": described.get("DefaultCodeRepository") or "",
        "additional_code_repositories": sorted(described.get("AdditionalCodeRepositories") or []),
    }
    if tags is not None:
        result["tags"] = tags
    return result


def _wanted(params, field):
    value = params.get(field)
    if value is not None and field in UNORDERED:
        value = sorted(value)
    return value


def same_kms_key(a, b, home):
    """Whether two KMS key references name the same key.  SageMaker resolves a key ID or alias/NAME
    in the notebook's own partition, region and account (``home``: the notebook's ARN)."""
    parts = parse(home)
    if parts is None:
        return a == b
    partition, _service, region, account, _resource = parts
    return kms_key_arn(a, partition, region, account) == kms_key_arn(b, partition, region, account)


def differences(current, params, arn=None):
    """Compare a ``view()`` with the options; omitted options (None) are left as they are.

    Returns (create_only, updates): lists of (field, current, wanted).  A smaller volume counts as
    create-only: AWS only grows the ML storage volume.  ``arn``: the notebook's, for KMS key forms.
    """
    create_only, updates = [], []
    for field in CREATE_ONLY + UPDATABLE:
        wanted = _wanted(params, field)
        if wanted is None or wanted == current.get(field):
            continue
        if field == "kms_key_id" and same_kms_key(wanted, current.get(field), arn):
            continue
        change = (field, current.get(field), wanted)
        if field in CREATE_ONLY or (field == "volume_size_in_gb" and wanted < current.get(field)):
            create_only.append(change)
        else:
            updates.append(change)
    return create_only, updates


def kept_key(params, create_only):
    """(create_only without the KMS key, the key difference or None) when ``kms_key_mismatch`` is warn:
    the key is then a default for new notebooks, and one that exists with another key (or none) is
    left as it is."""
    if params.get("kms_key_mismatch") != "warn":
        return create_only, None
    key = [change for change in create_only if change[0] == "kms_key_id"]
    return [change for change in create_only if change[0] != "kms_key_id"], (key[0] if key else None)


def key_warning(name, change):
    """The warning for a notebook kept without the wanted KMS key."""
    _field, current, wanted = change
    return (
        "Notebook instance %s keeps %s on its ML storage volume, not the KMS key %s: SageMaker sets the key only "
        "when it creates the notebook, so only replacing the notebook applies it (Security Hub SageMaker.21, AWS "
        "Config sagemaker-notebook-instance-kms-key-configured); docs/encryption.md describes a safe replacement."
        % (name, ("the KMS key %s" % current) if current else "no customer managed KMS key", wanted)
    )


def refusal(name, create_only):
    """The failure message for create-only differences (and a volume shrink)."""
    fields = ", ".join("%s (current: %r, wanted: %r)" % change for change in create_only)
    return (
        "Cannot change %s of notebook instance %s: SageMaker sets these only when it creates the notebook "
        "(the ML storage volume can only grow). Changing them means deleting the notebook instance and its "
        "storage volume with everything in it, which this module never does to apply a change; delete it "
        "explicitly (state: absent) and create it again, or keep the current values." % (fields, name)
    )


def update_request(name, updates):
    """UpdateNotebookInstance arguments for the (field, current, wanted) updates."""
    members = {
        "instance_type": "InstanceType",
        "role_arn": "RoleArn",
        "root_access": "RootAccess",
        "volume_size_in_gb": "VolumeSizeInGB",
        "platform_identifier": "PlatformIdentifier",
    }
    request = {"NotebookInstanceName": name}
    for field, _current, wanted in updates:
        if field in members:
            request[members[field]] = wanted
        elif field == "minimum_imds_version":
            request["InstanceMetadataServiceConfiguration"] = {"MinimumInstanceMetadataServiceVersion": wanted}
        elif field == "lifecycle_config_name":
            if wanted:
                request["LifecycleConfigName"] = wanted
            else:
                request["DisassociateLifecycleConfig"] = True
        elif field == "default_code_repository":
            if wanted:
                request["DefaultCodeRepository"] = wanted
            else:
                request["DisassociateDefaultCodeRepository"] = True
        elif field == "additional_code_repositories":
            if wanted:
                request["AdditionalCodeRepositories"] = wanted
            else:
                request["DisassociateAdditionalCodeRepositories"] = True
    return request


# --- the state machine -----------------------------------------------------------------------------


def settled(status):
    """The status a notebook in ``status`` ends in without anyone acting (None: gone)."""
    return TRANSITIONAL.get(status, status)


def is_settled(status):
    """Whether the module acts on a notebook in ``status`` as it is (None: missing, settled too)."""
    return status is None or status in SETTLED


def is_running(status):
    """Whether a notebook in ``status`` runs on a compute instance an earlier start gave it."""
    return status in RUNNING_STATUSES


def unknown_status(name, status):
    """The refusal for a status the table has no row for (a botocore newer than this collection)."""
    return (
        "Notebook instance %s has status %s, which this collection does not know (it knows %s); it takes no "
        "action on it. Wait until the notebook is InService or Stopped, or use a newer version of the collection."
        % (name, status, ", ".join(STATUSES))
    )


def plan(status, update, state):
    """The ordered API actions that bring a notebook from a settled ``status`` to ``state``.

    ``status``: None (missing) or a settled status (STATUS_TABLE); ``update``: whether updatable
    fields differ; ``state``: present, started, stopped or absent.  Update needs Stopped, so a
    running notebook (InService, PendingMaintenance) is stopped for it and started again unless
    ``state`` is stopped; a Stopped or Failed one is updated and left as it is unless ``state`` is
    started.
    """
    if status is not None and status not in STATUS_TABLE:
        raise ValueError("plan() got a status it has no row for: %s" % status)
    if not is_settled(status):
        raise ValueError("plan() needs a settled status, got %s" % status)
    running_now = is_running(status)
    if state == "absent":
        if status is None:
            return []
        return ["stop", "delete"] if running_now else ["delete"]
    if status is None:
        return {"stopped": ["create", "stop"]}.get(state, ["create"])
    steps = []
    if update:
        if running_now:
            steps.append("stop")
        steps.append("update")
    running = running_now and not update
    if state == "started" and not running:
        steps.append("start")
    elif state == "present" and running_now and update:
        steps.append("start")
    elif state == "stopped" and running:
        steps.append("stop")
    return steps


def must_restore(status, steps):
    """A notebook found running that the plan stops and starts again is restarted on failure."""
    return is_running(status) and "stop" in steps and "start" in steps[steps.index("stop") :]


def execute(steps, ops, restore=False):
    """Run ``steps`` through ``ops.<step>()``; with ``restore``, bring the notebook back InService
    (``ops.restore()``) when a step fails from the stop on, then re-raise the original error.

    A failing stop counts too: AWS may have accepted the call before the wait for Stopped failed.
    ``ops.restore()`` starts the notebook only if it is not running.
    """
    stopping = False
    for step in steps:
        stopping = stopping or step == "stop"
        try:
            getattr(ops, step)()
        except Exception as error:
            if restore and stopping:
                try:
                    ops.restore()
                except Exception as restore_error:  # report both; the original error comes first
                    error.restore_error = restore_error
            raise


# --- results and predictions (pure) -----------------------------------------------------------------


def result_of(described, tags):
    """The module's ``notebook_instance`` return value: the description in snake_case plus tags."""
    if not described:
        return {}
    result = snake(dict((k, v) for k, v in described.items() if k != "ResponseMetadata"))
    result["tags"] = tags or {}
    return result


def tags_change(before, params, steps):
    if "create" in steps or "delete" in steps or params.get("tags") is None:
        return False
    current = before.get("tags", {})
    wanted = params["tags"]
    if params.get("purge_tags") and set(current) - set(wanted):
        return True
    return any(current.get(k) != v for k, v in wanted.items())


def predict(before, params, steps, updates):
    """The reconciled fields after ``steps`` (for --diff and check mode)."""
    if "delete" in steps or (not before and not steps):
        return {}
    if "create" in steps:
        values = dict(CREATE_DEFAULTS)
        values.update((k, v) for k, v in params.items() if v is not None)
        after = {field: _wanted(values, field) for field in CREATE_ONLY + UPDATABLE if values.get(field) is not None}
        after["tags"] = params.get("tags") or {}
    else:
        after = dict(before)
        after.update((field, wanted) for field, _current, wanted in updates)
        if params.get("tags") is not None:
            tags = {} if params.get("purge_tags") else dict(before.get("tags", {}))
            tags.update(params["tags"])
            after["tags"] = tags
    final = before.get("status")
    for step in steps:
        final = {"create": "InService", "start": "InService", "stop": "Stopped", "update": "Stopped"}[step]
    after["status"] = final
    return after


LIST_FILTERS = {
    "name_contains": "NameContains",
    "status_equals": "StatusEquals",
    "lifecycle_config_name_contains": "NotebookInstanceLifecycleConfigNameContains",
}


def validate_info(params):
    """notebook_instance_info's options, before any AWS call."""
    name = params.get("name")
    problem = name_error(name, "name", "notebook instance") if name is not None else None
    if problem:
        raise NotebooksError(problem, field="name")
    page_size = params.get("page_size")
    if page_size is not None and not 1 <= page_size <= 100:
        raise NotebooksError("page_size must be between 1 and 100, got %d" % page_size, field="page_size")
