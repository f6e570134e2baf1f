# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A SageMaker notebook instance, the calls: describe, wait, act, and the whole reconciliation.

``Notebook`` performs the API actions of a plan and waits between them; the waiting helpers
(``wait_for_status``, ``wait_until_settled``, ``wait_until_deleted``) serve every caller that needs
a notebook in a given status.  The decisions come from ``notebook`` (pure).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = Exception

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    NOT_FOUND_GRACE,
    NotebooksError,
    describe_or_none,
    error_code,
    error_message,
    get_tags,
    pages,
    reconcile_tags,
    snake,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import (
    LIST_FILTERS,
    SERVING,
    STATUS_TABLE,
    create_request,
    differences,
    execute,
    is_settled,
    kept_key,
    key_warning,
    known_instance_types,
    must_restore,
    plan,
    predict,
    refusal,
    result_of,
    settled,
    status_of,
    tags_change,
    unknown_status,
    update_request,
    validate,
    validate_create,
    view,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.waiter import WaitTimeout, poll

# Polling: the first look comes at once and the next ones soon, so instant transitions (the
# emulator) cost nothing; the delay grows to MAX_DELAY for the minutes AWS takes.
FIRST_DELAY = 0.2
MAX_DELAY = 15.0

# Eventual consistency, each waited out within a stated bound (the orders of magnitude of Terraform's
# AWS provider: IAM propagation 2 minutes; a start re-sent when no transition shows within 30 s, for
# 5 minutes at most; not-found tolerated after a create).
ROLE_PROPAGATION = 120.0  # CreateNotebookInstance is retried this long while SageMaker cannot assume the role
START_TAKES = 30.0  # a start that shows no transition this long after the call is sent again
START_BOUND = 300.0  # ... until this long after the first start call
ROLE_NOT_ASSUMABLE = "could not assume role"  # in CreateNotebookInstance's ValidationException


class StartNotTaken(NotebooksError):
    """The notebook still shows the status it had before StartNotebookInstance."""


# --- waiting ---------------------------------------------------------------------------------------


def describe(sagemaker, name):
    """DescribeNotebookInstance, or None when the notebook does not exist."""
    return describe_or_none(sagemaker.describe_notebook_instance, NotebookInstanceName=name)


def _failed(name, described, wanted):
    reason = described.get("FailureReason") or "no failure reason given"
    return NotebooksError(
        "Notebook instance %s is Failed while waiting for %s: %s" % (name, wanted, reason),
        failure_reason=described.get("FailureReason"),
    )


def wait_for_status(
    sagemaker,
    name,
    wanted,
    timeout,
    delay=FIRST_DELAY,
    max_delay=MAX_DELAY,
    missing_grace=0.0,
    unchanged=(),
    unchanged_timeout=None,
    **poll_args,
):
    """Poll until the notebook's status is one of ``wanted`` (None in it: deleted); return the
    description.  Failed (when not wanted) stops the wait at once with AWS's failure reason.

    ``missing_grace``: seconds during which "not found" means "not visible yet" (just created), not
    "deleted".  ``unchanged``/``unchanged_timeout``: statuses that mean the call before the wait has
    not taken yet; still shown after ``unchanged_timeout`` s, they raise StartNotTaken.
    """
    wanted = tuple(wanted)
    label = " or ".join(w or "deleted" for w in wanted)
    seen = {"changed": False}
    clock = poll_args.get("clock", time.monotonic)
    started = clock()

    def done(described):
        status = status_of(described)
        seen["status"] = status or "deleted"
        if status in wanted:
            return True
        elapsed = clock() - started
        if status in unchanged and not seen["changed"]:
            if elapsed >= unchanged_timeout:
                raise StartNotTaken("it is still %s %ds after the call" % (status, elapsed), status=status)
            return False
        seen["changed"] = True
        if status == "Failed":
            raise _failed(name, described, label)
        if status is None:
            if elapsed < missing_grace:
                return False
            raise NotebooksError(
                "Notebook instance %s disappeared while waiting for %s%s"
                % (name, label, " (not found for %ss after its creation)" % missing_grace if missing_grace else "")
            )
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


def _settled_or_unknown(described):
    status = status_of(described)
    # A status without a row in STATUS_TABLE ends the wait too: the caller refuses it at once.
    return is_settled(status) or status not in STATUS_TABLE


def wait_until_settled(sagemaker, name, timeout, **poll_args):
    """Wait while the notebook is in a transitional status (Pending, Stopping, Updating, Deleting,
    InMaintenance: STATUS_TABLE); return the description (None when it is gone).  Failed counts as
    settled here."""

    def fetch():
        return describe(sagemaker, name)

    try:
        return poll(
            fetch,
            _settled_or_unknown,
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
        # A role created moments ago is not assumable by SageMaker yet (IAM is eventually consistent):
        # the create is refused with a ValidationException naming the role; retry it within a bound.
        refused = []

        def attempt():
            try:
                self._call("create", "create_notebook_instance", self.create_args)
                return True
            except NotebooksError as e:
                if ROLE_NOT_ASSUMABLE not in e.msg.lower():
                    raise
                refused.append(e)
                return False

        bound = min(ROLE_PROPAGATION, self.timeout)
        try:
            timing = dict((k, v) for k, v in self.poll_args.items() if k in ("clock", "sleep"))
            poll(attempt, bool, bound, "SageMaker to assume the role", delay=2.0, max_delay=15.0, **timing)
        except WaitTimeout:
            raise NotebooksError(
                "%s; SageMaker still could not assume role %s %ds after the first try (a role just created "
                "takes seconds to propagate in IAM): check its trust policy"
                % (refused[-1].msg, self.create_args.get("RoleArn"), bound),
                **refused[-1].details,
            ) from None
        if self.wait or self.last != "create":
            # A notebook just created may be "not found" for a moment: not a deletion.
            wait_for_status(
                self.sagemaker, self.name, SERVING, self.timeout, missing_grace=NOT_FOUND_GRACE, **self.poll_args
            )

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
        # After a stop or an update the notebook is Stopped; otherwise it is as it was found.
        before = "Stopped" if self.actions else self.found
        self._start(self.wait or self.last != "start", before)

    def _start(self, wait, before):
        """StartNotebookInstance, re-sent while the notebook still shows ``before`` (a start sometimes
        does not take), for at most min(START_BOUND, wait_timeout); then the wait for it to serve, all
        within wait_timeout after the first call."""
        clock = self.poll_args.get("clock", time.monotonic)
        first = clock()
        resend_until = first + min(START_BOUND, self.timeout)
        resent = False
        while True:
            try:
                self._call("start", "start_notebook_instance", {"NotebookInstanceName": self.name})
            except NotebooksError as e:
                # The earlier start took after all: AWS refuses the re-send ("Status (Pending) not in
                # ([Stopped, Failed])"), and the wait below sees the transition.
                if not (resent and "Status (" in e.msg and ") not in (" in e.msg):
                    raise
            if not wait:
                return
            timeout = self.timeout if not resent else max(1, round(first + self.timeout - clock()))
            try:
                wait_for_status(
                    self.sagemaker,
                    self.name,
                    SERVING,
                    timeout,
                    unchanged=(before,) if before in ("Stopped", "Failed") else (),
                    unchanged_timeout=START_TAKES,
                    **self.poll_args,
                )
                return
            except StartNotTaken as e:
                if clock() + START_TAKES > resend_until:
                    raise NotebooksError(
                        "StartNotebookInstance did not take for notebook instance %s: %s; it was sent again for "
                        "%ds" % (self.name, e.msg, min(START_BOUND, self.timeout)),
                        **e.details,
                    ) from None
                resent = True

    def delete(self):
        self._call("delete", "delete_notebook_instance", {"NotebookInstanceName": self.name})
        if self.wait or self.last != "delete":
            wait_until_deleted(self.sagemaker, self.name, self.timeout, **self.poll_args)

    def restore(self):
        """After a failure mid-plan: let the notebook settle, then start it if it is not running."""
        described = wait_until_settled(self.sagemaker, self.name, self.timeout, **self.poll_args)
        if status_of(described) in ("Stopped", "Failed"):
            self._start(True, status_of(described))

    def run(self, steps, restore=False):
        self.last = steps[-1] if steps else None
        execute(steps, self, restore=restore)


# --- the whole reconciliation --------------------------------------------------------------------------


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


def _refuse_unknown(name, status):
    if status is not None and status not in STATUS_TABLE:
        raise NotebooksError(unknown_status(name, status), actions=[], status=status)


def _reconcile(sagemaker, params, check_mode, warn, poll_args):
    warn = warn or (lambda message: None)
    validate(params, known_instance_types(getattr(getattr(sagemaker, "meta", None), "service_model", None)))
    name, state, timeout = params["name"], params["state"], params["wait_timeout"]
    poll_args = poll_args or {}

    described = describe(sagemaker, name)
    found = status_of(described)
    _refuse_unknown(name, found)
    if not is_settled(found) and not check_mode:
        # Act on a settled notebook only; check mode predicts where it settles instead of waiting.
        described = wait_until_settled(sagemaker, name, timeout, **poll_args)
        _refuse_unknown(name, status_of(described))
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
        create_only, key_kept = kept_key(params, create_only)
        if key_kept:
            warn(key_warning(name, key_kept))
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
    after = predict(before, params, steps, updates)
    if check_mode:
        ops.actions = list(steps) + (["tag"] if tags_change(before, params, steps) else [])
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


def _result(actions, described, tags, before, after):
    return dict(
        changed=bool(actions),
        actions=actions,
        notebook_instance=result_of(described, tags),
        diff=dict(before=before, after=after),
    )


# --- reading many ----------------------------------------------------------------------------------


def list_notebooks(sagemaker, filters, page_size=None):
    """ListNotebookInstances over every page; ``filters`` use the info module's option names."""
    request = dict((LIST_FILTERS[k], v) for k, v in filters.items() if v)
    return pages(sagemaker, "list_notebook_instances", "NotebookInstances", page_size=page_size, **request)


def gather(sagemaker, params):
    """notebook_instance_info's list: one notebook with tags by ``name``, else the filtered listing."""
    if params.get("name") is not None:
        found = describe_with_tags(sagemaker, params["name"])
        return [found] if found else []
    filters = dict((option, params.get(option)) for option in LIST_FILTERS)
    return [snake(summary) for summary in list_notebooks(sagemaker, filters, page_size=params.get("page_size"))]


def describe_with_tags(sagemaker, name):
    """One notebook as the modules return it, or {} when it does not exist."""
    described = describe(sagemaker, name)
    if not described:
        return {}
    return result_of(described, get_tags(sagemaker, described["NotebookInstanceArn"]))
