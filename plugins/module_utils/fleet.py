# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many notebook instances in one module process, each on its own thread.

One ``notebook_instance`` task per notebook costs a module process per notebook and step (boto3
import and client: about 1 s of CPU each), and a poller per process.  Here one process and one
client serve the whole fleet and every notebook's waits overlap.  Each notebook is reconciled
exactly as ``notebook_instance`` does it (``notebook_ops.reconcile``), including putting back a
notebook it found running; a failure of one notebook does not stop the others.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = Exception

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError, error_message
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import (
    NOTEBOOK_OPTIONS,
    is_running,
    known_instance_types,
    result_of,
    settled,
    validate,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook_ops import (
    Notebook,
    describe,
    reconcile,
)

MAX_CONCURRENCY = 100


def validate_fleet(notebooks, restart, max_concurrency, wait_timeout, instance_types=None):
    """Raise NotebooksError naming every bad field of the whole fleet, before any AWS call."""
    errors = []
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        errors.append("max_concurrency must be between 1 and %d, got %s" % (MAX_CONCURRENCY, max_concurrency))
    names = [item.get("name") for item in notebooks]
    for index, item in enumerate(notebooks):
        try:
            validate(dict(item, wait_timeout=wait_timeout), instance_types)
        except NotebooksError as e:
            errors.extend("notebooks[%d] (%s): %s" % (index, item.get("name"), rule) for rule in e.details["invalid"])
    repeated = sorted(set(name for name in names if names.count(name) > 1))
    if repeated:
        errors.append("notebooks: each name may appear once; repeated: %s" % ", ".join(repeated))
    unknown = [name for name in restart if name not in names]
    if unknown:
        errors.append("restart: %s not in notebooks" % ", ".join(unknown))
    if errors:
        raise NotebooksError("Invalid input: " + "; ".join(errors), invalid=errors)


def converge(sagemaker, notebooks, restart=(), max_concurrency=10, wait_timeout=900, check_mode=False, poll_args=None):
    """Reconcile every notebook concurrently; restart those in ``restart`` that run afterwards
    and were not created or started by it.  Returns one outcome per notebook, in input order:
    the ``notebook_instance`` result plus ``name``, ``restarted``, ``warnings``, and ``failed``
    with ``msg`` for a notebook that failed."""
    restart = list(restart or [])
    service_model = getattr(getattr(sagemaker, "meta", None), "service_model", None)
    validate_fleet(notebooks, restart, max_concurrency, wait_timeout, known_instance_types(service_model))
    if not notebooks:
        return []

    def one(item):
        params = dict((option, spec.get("default")) for option, spec in NOTEBOOK_OPTIONS.items())
        params.update(item, wait=True, wait_timeout=wait_timeout)
        return _converge_one(sagemaker, params, params["name"] in restart, check_mode, dict(poll_args or {}))

    with ThreadPoolExecutor(max_workers=min(max_concurrency, len(notebooks))) as pool:
        return list(pool.map(one, notebooks))


def _restarted(actions):
    return "stop" in actions and "start" in actions[actions.index("stop") :]


def _needs_restart(result):
    """Whether the notebook runs (or, in check mode, will run once settled) a script older than
    the new one: a create or start of this run already ran the new script."""
    status = settled((result.get("diff") or {}).get("after", {}).get("status"))
    return is_running(status) and not {"create", "start"} & set(result["actions"])


def _failure_message(error):
    if isinstance(error, NotebooksError):
        message = error.msg
    elif isinstance(error, (BotoCoreError, ClientError)):
        message = "AWS call failed: %s" % error_message(error)
    else:
        # Reported on this notebook, so that the others' outcomes are not lost with it.
        message = "Unexpected error: %s: %s" % (type(error).__name__, error)
    restore_error = getattr(error, "restore_error", None)
    if restore_error is not None:
        message += " Starting the notebook again afterwards failed too: %s" % getattr(
            restore_error, "msg", restore_error
        )
    return message


def _converge_one(sagemaker, params, restart, check_mode, poll_args):
    name, warnings = params["name"], []
    outcome = dict(name=name, failed=False, changed=False, actions=[], notebook_instance={}, warnings=warnings)
    ops = None
    try:
        result = reconcile(sagemaker, params, check_mode, warnings.append, dict(poll_args))
        outcome.update(result)
        if restart and _needs_restart(result):
            if check_mode:
                outcome["actions"] = result["actions"] + ["stop", "start"]
            else:
                # A failure from the stop on starts the notebook again (restore) and is reported
                # with the original error.
                ops = Notebook(sagemaker, name, params["wait_timeout"], poll_args=poll_args)
                try:
                    ops.run(["stop", "start"], restore=True)
                finally:
                    outcome["actions"] = result["actions"] + ops.actions
                outcome["notebook_instance"] = _now(sagemaker, name, outcome["notebook_instance"])
    except Exception as e:  # pylint: disable=broad-except
        outcome.update(getattr(e, "details", None) or {}, failed=True, msg=_failure_message(e))
        if ops is not None:
            # The restart failed: report the notebook as it is now, not as the reconcile left it.
            outcome["notebook_instance"] = _now(sagemaker, name, outcome["notebook_instance"])
    outcome["changed"] = bool(outcome["actions"]) or bool(outcome.get("changed"))
    outcome["restarted"] = _restarted(outcome["actions"])
    return outcome


def _now(sagemaker, name, known):
    """The notebook as AWS describes it now, with the tags already known; ``known`` when even
    that read fails (the failure being reported is the one that matters)."""
    try:
        return result_of(describe(sagemaker, name), known.get("tags"))
    except (BotoCoreError, ClientError):
        return known


def summary(outcomes):
    """The module result: changed, the per-notebook outcomes, the restarted names, the failures."""
    failed = [o for o in outcomes if o["failed"]]
    result = dict(
        changed=any(o["changed"] for o in outcomes),
        notebooks=outcomes,
        restarted=[o["name"] for o in outcomes if o["restarted"]],
        failed_notebooks=[o["name"] for o in failed],
    )
    if failed:
        result["msg"] = "%d of %d notebook instances failed: %s" % (
            len(failed),
            len(outcomes),
            "; ".join("%s: %s" % (o["name"], o["msg"]) for o in failed),
        )
    return result


def module_result(outcomes, warn):
    """notebook_fleet's result: each changed notebook's diff under its name, the warnings passed to
    ``warn``; raises NotebooksError carrying the whole result when any notebook failed."""
    diffs = []
    for outcome in outcomes:
        diff = outcome.pop("diff", None)
        if diff and outcome["changed"]:
            diffs.append(dict(diff, before_header=outcome["name"], after_header=outcome["name"]))
        for warning in outcome["warnings"]:
            warn(warning)
    result = summary(outcomes)
    result["diff"] = diffs
    if result["failed_notebooks"]:
        raise NotebooksError(result.pop("msg"), **result)
    return result
