# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A SageMaker notebook instance: input rules, the difference to AWS, the state machine, waiting.

The pure parts (``validate``, ``differences``, ``plan``, ``execute``) take no AWS client, so the
decisions are unit-tested without AWS.  ``Notebook`` performs the API calls and waits; its waiting
helpers (``wait_for_status``, ``wait_until_settled``, ``wait_until_deleted``) are shared by every
caller that needs a notebook in a given status.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = Exception

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    NotebooksError,
    error_code,
    error_message,
    get_tags,
    is_not_found,
    paginate_all,
    reconcile_tags,
    snake,
    tag_list,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.waiter import WaitTimeout, poll

# AWS API rules (CreateNotebookInstance / UpdateNotebookInstance reference).
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
NAME_MAX = 63
VOLUME_MIN, VOLUME_MAX = 5, 16384
MAX_SECURITY_GROUPS = 5
MAX_ADDITIONAL_REPOSITORIES = 3

# Transitional status -> the status it settles in (None: the notebook is gone).
TRANSITIONAL = {"Pending": "InService", "Stopping": "Stopped", "Updating": "Stopped", "Deleting": None}
STATUSES = ("Pending", "InService", "Stopping", "Stopped", "Failed", "Deleting", "Updating")

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


# Polling: the first look comes at once and the next ones soon, so instant transitions (the
# emulator) cost nothing; the delay grows to MAX_DELAY for the minutes AWS takes.
FIRST_DELAY = 0.2
MAX_DELAY = 15.0


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
    name = params.get("name") or ""
    if len(name) > NAME_MAX or not NAME_PATTERN.match(name):
        errors.append(
            "name %r must be 1..%d characters of letters, digits and single hyphens inside "
            "(pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$)" % (name, NAME_MAX)
        )
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
    if lcc and (len(lcc) > NAME_MAX or not NAME_PATTERN.match(lcc)):
        errors.append(
            "lifecycle_config_name %r must be 1..%d characters matching ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$ "
            '(or "" to detach)' % (lcc, NAME_MAX)
        )
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


def kms_key_arn(value, home):
    """A KMS key reference as an ARN.  SageMaker resolves a key ID or alias/NAME in the notebook's own
    partition, region and account (``home``: the notebook's ARN), so the same is done here; an ARN
    stays as it is.  An alias and the key behind it still differ: telling them apart needs KMS."""
    parts = (home or "").split(":")
    if not value or value.startswith("arn:") or len(parts) < 5:
        return value or ""
    resource = value if value.startswith("alias/") else "key/" + value
    return "arn:%s:kms:%s:%s:%s" % (parts[1], parts[3], parts[4], resource)


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
        if field == "kms_key_id" and kms_key_arn(wanted, arn) == kms_key_arn(current.get(field), arn):
            continue
        change = (field, current.get(field), wanted)
        if field in CREATE_ONLY or (field == "volume_size_in_gb" and wanted < current.get(field)):
            create_only.append(change)
        else:
            updates.append(change)
    return create_only, updates


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


def plan(status, update, state):
    """The ordered API actions that bring a notebook from a settled ``status`` to ``state``.

    ``status``: None (missing), InService, Stopped or Failed; ``update``: whether updatable fields
    differ; ``state``: present, started, stopped or absent.  Update needs Stopped, so an InService
    notebook is stopped for it and started again unless ``state`` is stopped; a Stopped or Failed
    one is updated and left as it is unless ``state`` is started.
    """
    if status in TRANSITIONAL:
        raise ValueError("plan() needs a settled status, got %s" % status)
    if state == "absent":
        return {None: [], "InService": ["stop", "delete"]}.get(status, ["delete"])
    if status is None:
        return {"stopped": ["create", "stop"]}.get(state, ["create"])
    steps = []
    if update:
        if status == "InService":
            steps.append("stop")
        steps.append("update")
    running = status == "InService" and not update
    if state == "started" and not running:
        steps.append("start")
    elif state == "present" and status == "InService" and update:
        steps.append("start")
    elif state == "stopped" and running:
        steps.append("stop")
    return steps


def must_restore(status, steps):
    """A notebook found InService that the plan stops and starts again is restarted on failure."""
    return status == "InService" and "stop" in steps and "start" in steps[steps.index("stop") :]


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


# --- waiting ---------------------------------------------------------------------------------------


def describe(sagemaker, name):
    """DescribeNotebookInstance, or None when the notebook does not exist."""
    try:
        return sagemaker.describe_notebook_instance(NotebookInstanceName=name, aws_retry=True)
    except (BotoCoreError, ClientError) as e:
        if is_not_found(e):
            return None
        raise


def _failed(name, described, wanted):
    reason = described.get("FailureReason") or "no failure reason given"
    return NotebooksError(
        "Notebook instance %s is Failed while waiting for %s: %s" % (name, wanted, reason),
        failure_reason=described.get("FailureReason"),
    )


def wait_for_status(sagemaker, name, wanted, timeout, delay=FIRST_DELAY, max_delay=MAX_DELAY, **poll_args):
    """Poll until the notebook's status is one of ``wanted`` (None in it: deleted); return the
    description.  Failed (when not wanted) stops the wait at once with AWS's failure reason.
    """
    wanted = tuple(wanted)
    label = " or ".join(w or "deleted" for w in wanted)
    seen = {}

    def done(described):
        status = status_of(described)
        seen["status"] = status or "deleted"
        if status in wanted:
            return True
        if status == "Failed":
            raise _failed(name, described, label)
        if status is None:
            raise NotebooksError("Notebook instance %s disappeared while waiting for %s" % (name, label))
        return False

    try:
        return poll(
            lambda: describe(sagemaker, name),
            done,
            timeout,
            "notebook instance %s to be %s" % (name, label),
            delay=delay,
            max_delay=max_delay,
            **poll_args,
        )
    except WaitTimeout:
        raise WaitTimeout(
            "Timed out after %ss (wait_timeout) waiting for notebook instance %s to be %s; its status is still %s"
            % (timeout, name, label, seen.get("status")),
            status=seen.get("status"),
        ) from None


def wait_until_settled(sagemaker, name, timeout, **poll_args):
    """Wait while the notebook is Pending, Stopping, Updating or Deleting; return the description
    (None when it is gone).  Failed counts as settled here."""
    settled_statuses = ("InService", "Stopped", "Failed", None)

    def fetch():
        return describe(sagemaker, name)

    try:
        return poll(
            fetch,
            lambda described: status_of(described) in settled_statuses,
            timeout,
            "notebook instance %s to settle" % name,
            delay=poll_args.pop("delay", FIRST_DELAY),
            max_delay=poll_args.pop("max_delay", MAX_DELAY),
            **poll_args,
        )
    except WaitTimeout as e:
        raise WaitTimeout(
            "Timed out after %ss (wait_timeout) waiting for notebook instance %s to leave status %s"
            % (timeout, name, status_of(e.details.get("last_seen"))),
            status=status_of(e.details.get("last_seen")),
        ) from None


def wait_until_deleted(sagemaker, name, timeout, **poll_args):
    return wait_for_status(sagemaker, name, (None,), timeout, **poll_args)


# --- the API actions ---------------------------------------------------------------------------------


class Notebook:
    """The API actions on one notebook, each followed by the wait the next action needs.

    ``actions`` records every action that AWS accepted, in order.  ``wait`` false skips only the
    wait after the last action of a plan: stop -> update -> start always waits in between, as AWS
    refuses each next call until the previous one is done.
    """

    def __init__(self, sagemaker, name, timeout, wait=True, create_args=None, update_args=None, poll_args=None):
        self.sagemaker = sagemaker
        self.name = name
        self.timeout = timeout
        self.wait = wait
        self.create_args = create_args
        self.update_args = update_args
        self.poll_args = poll_args or {}
        self.actions = []
        self.last = None  # the action after which waiting is optional
        self.found = None  # the settled status before the first action

    def _call(self, action, operation, request):
        try:
            getattr(self.sagemaker, operation)(aws_retry=True, **request)
        except (BotoCoreError, ClientError) as e:
            raise NotebooksError(
                "%s failed for notebook instance %s: %s" % (operation, self.name, error_message(e)),
                error_code=error_code(e),
            ) from e
        self.actions.append(action)

    def _wait(self, action, statuses):
        if self.wait or action != self.last:
            wait_for_status(self.sagemaker, self.name, statuses, self.timeout, **self.poll_args)

    def create(self):
        self._call("create", "create_notebook_instance", self.create_args)
        self._wait("create", ("InService",))

    def stop(self):
        self._call("stop", "stop_notebook_instance", {"NotebookInstanceName": self.name})
        self._wait("stop", ("Stopped",))

    def update(self):
        self._call("update", "update_notebook_instance", self.update_args)
        if self.found == "Failed":
            # Whether AWS moves a Failed notebook through Updating is not documented: wait for any
            # settled status and report it.
            if self.wait or self.last != "update":
                wait_until_settled(self.sagemaker, self.name, self.timeout, **self.poll_args)
        else:
            # Updating ends in Stopped (or Failed, which the wait reports).
            self._wait("update", ("Stopped",))

    def start(self):
        self._call("start", "start_notebook_instance", {"NotebookInstanceName": self.name})
        self._wait("start", ("InService",))

    def delete(self):
        self._call("delete", "delete_notebook_instance", {"NotebookInstanceName": self.name})
        if self.wait or self.last != "delete":
            wait_until_deleted(self.sagemaker, self.name, self.timeout, **self.poll_args)

    def restore(self):
        """After a failure mid-plan: let the notebook settle, then start it if it is not running."""
        described = wait_until_settled(self.sagemaker, self.name, self.timeout, **self.poll_args)
        if status_of(described) in ("Stopped", "Failed"):
            self._call("start", "start_notebook_instance", {"NotebookInstanceName": self.name})
            wait_for_status(self.sagemaker, self.name, ("InService",), self.timeout, **self.poll_args)

    def run(self, steps, restore=False):
        self.last = steps[-1] if steps else None
        execute(steps, self, restore=restore)


# --- the whole reconciliation --------------------------------------------------------------------------


def result_of(described, tags):
    """The module's ``notebook_instance`` return value: the description in snake_case plus tags."""
    if not described:
        return {}
    result = snake(dict((k, v) for k, v in described.items() if k != "ResponseMetadata"))
    result["tags"] = tags or {}
    return result


def reconcile(sagemaker, params, check_mode=False, warn=None, poll_args=None):
    """Bring the notebook ``params['name']`` to the options; return the module result.

    Failures raise NotebooksError whose details carry ``actions`` (what was done before the failure)
    and, once AWS was called, the notebook as it is afterwards.
    """
    try:
        return _reconcile(sagemaker, params, check_mode, warn, poll_args)
    except NotebooksError as e:
        e.details.setdefault("actions", [])
        raise
    except (BotoCoreError, ClientError) as e:
        # A read before anything was done (describe, tags).
        raise _aws_failure(e, []) from e


def _aws_failure(error, actions):
    done = " after %s" % ", ".join(actions) if actions else ""
    return NotebooksError(
        "AWS call failed%s: %s" % (done, error_message(error)), actions=actions, error_code=error_code(error)
    )


def _reconcile(sagemaker, params, check_mode, warn, poll_args):
    warn = warn or (lambda message: None)
    validate(params, known_instance_types(getattr(getattr(sagemaker, "meta", None), "service_model", None)))
    name, state, timeout = params["name"], params["state"], params["wait_timeout"]
    poll_args = poll_args or {}

    described = describe(sagemaker, name)
    found = status_of(described)
    if found in TRANSITIONAL and not check_mode:
        # Act on a settled notebook only; check mode predicts where it settles instead of waiting.
        described = wait_until_settled(sagemaker, name, timeout, **poll_args)
    status = settled(status_of(described))
    if status is None:
        described = None
    tags = get_tags(sagemaker, described["NotebookInstanceArn"]) if described else {}
    before = view(described, tags)

    updates, request = [], None
    if state == "absent" or status is None:
        if state != "absent":
            validate_create(params)
            request = create_request(params)
    else:
        create_only, updates = differences(before, params, described["NotebookInstanceArn"])
        if create_only:
            raise NotebooksError(
                refusal(name, create_only),
                actions=[],
                refused=[dict(field=f, current=c, wanted=w) for f, c, w in create_only],
                notebook_instance=result_of(described, tags),
            )
        if status == "Failed":
            warn(
                "Notebook instance %s is Failed (%s)"
                % (name, (described or {}).get("FailureReason") or "no failure reason given")
            )
    steps = plan(status, bool(updates), state)

    ops = Notebook(
        sagemaker,
        name,
        timeout,
        wait=params.get("wait", True),
        create_args=request,
        update_args=update_request(name, updates),
        poll_args=poll_args,
    )
    ops.found = status
    after = _predict(before, params, steps, updates)
    if check_mode:
        ops.actions = list(steps) + (["tag"] if _tags_change(before, params, steps) else [])
        return _result(ops.actions, described, tags, before, after)

    try:
        ops.run(steps, restore=must_restore(status, steps))
    except (NotebooksError, BotoCoreError, ClientError) as e:
        if isinstance(e, NotebooksError):
            message, details = e.msg, dict(e.details)
        else:
            failure = _aws_failure(e, [])
            message, details = failure.msg, dict(failure.details)
        restore_error = getattr(e, "restore_error", None)
        if restore_error is not None:
            message += " Starting the notebook again afterwards failed too: %s" % getattr(
                restore_error, "msg", restore_error
            )
        now = describe(sagemaker, name)
        details.update(actions=ops.actions, notebook_instance=result_of(now, tags if now else {}))
        raise NotebooksError(message, **details) from e

    if state == "absent":
        now = describe(sagemaker, name) if ops.actions else None
        return _result(ops.actions, now, {}, before, after)

    try:
        now = describe(sagemaker, name) if ops.actions else described
        arn = now["NotebookInstanceArn"]
        if "create" in steps:
            tags = get_tags(sagemaker, arn)
        else:
            changed, tags = reconcile_tags(sagemaker, arn, tags, params.get("tags"), params.get("purge_tags"), False)
            if changed:
                ops.actions.append("tag")
    except (BotoCoreError, ClientError) as e:
        # The steps are done: say so, so that the caller knows the notebook was (re)started or updated.
        raise _aws_failure(e, ops.actions) from e
    if status_of(now) == "Failed" and status != "Failed":
        warn("Notebook instance %s is Failed (%s)" % (name, now.get("FailureReason") or "no failure reason given"))
    return _result(ops.actions, now, tags, before, view(now, tags))


def _tags_change(before, params, steps):
    if "create" in steps or "delete" in steps or params.get("tags") is None:
        return False
    current = before.get("tags", {})
    wanted = params["tags"]
    if params.get("purge_tags") and set(current) - set(wanted):
        return True
    return any(current.get(k) != v for k, v in wanted.items())


def _predict(before, params, steps, updates):
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


def _result(actions, described, tags, before, after):
    return dict(
        changed=bool(actions),
        actions=actions,
        notebook_instance=result_of(described, tags),
        diff=dict(before=before, after=after),
    )


# --- reading many ----------------------------------------------------------------------------------

LIST_FILTERS = {
    "name_contains": "NameContains",
    "status_equals": "StatusEquals",
    "lifecycle_config_name_contains": "NotebookInstanceLifecycleConfigNameContains",
}


def _list_pages(sagemaker, request):
    return paginate_all(sagemaker, "list_notebook_instances", **request)


def list_notebooks(sagemaker, filters, page_size=None):
    """ListNotebookInstances over every page; ``filters`` use the info module's option names."""
    request = dict((LIST_FILTERS[k], v) for k, v in filters.items() if v)
    if page_size:
        request["PaginationConfig"] = {"PageSize": page_size}
    return _list_pages(sagemaker, request).get("NotebookInstances", [])


def describe_with_tags(sagemaker, name):
    """One notebook as the modules return it, or {} when it does not exist."""
    described = describe(sagemaker, name)
    if not described:
        return {}
    return result_of(described, get_tags(sagemaker, described["NotebookInstanceArn"]))
