# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SageMaker notebook-instance lifecycle configurations: validation, comparison and the API calls.

Scripts are handled as bytes internally (UTF-8 of the text the user gave) and compared decoded,
so two base64 spellings of the same script never count as a change.  Everything here is usable
without Ansible: the modules only wire parameters in and results out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = Exception

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.arn import name_error
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    NotebooksError,
    describe_or_none,
    get_tags,
    lifecycle_config_missing,
    pages,
    reconcile_tags,
    tag_list,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.notebook import RUNNING_STATUSES
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.waiter import poll

# AWS API reference: NotebookInstanceLifecycleHook.Content (the name rule is arn.py's).
CONTENT_MAX = 16384  # base64 characters
SCRIPT_MAX_BYTES = CONTENT_MAX // 4 * 3  # the largest script whose base64 fits

# (module option, API member); OnStart runs at every start, OnCreate once, when a notebook is created.
HOOKS = (("on_start", "OnStart"), ("on_create", "OnCreate"))


# --- validation (no AWS call) ---------------------------------------------------------------------


def validate_name(name, field="name"):
    problem = name_error(name, field, "lifecycle configuration")
    if problem:
        raise NotebooksError(problem, field=field)
    return name


def base64_length(size):
    return 4 * ((size + 2) // 3)


def utf8_error(field, text):
    """Why ``text`` cannot be a script's UTF-8 text, or None.

    Ansible hands undecodable input bytes over as lone surrogates (surrogateescape); they have no
    UTF-8 encoding.  The lifecycle_config action plugin calls this on the controller as well.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return "%s is not valid UTF-8 text (undecodable data at character %d); lifecycle scripts must be text" % (
            field,
            e.start,
        )
    return None


def script_bytes(field, text):
    """The UTF-8 bytes of a script option, or None when the option is omitted (no hook)."""
    if text is None:
        return None
    if not text.strip():
        raise NotebooksError(
            "%s is empty; give the script text, or omit %s for a configuration without that hook" % (field, field)
        )
    error = utf8_error(field, text)
    if error:
        raise NotebooksError(error)
    data = text.encode("utf-8")
    if "\x00" in text:
        # Valid UTF-8, but no text file contains NUL: this is binary data given as a script.
        raise NotebooksError(
            "%s is not text (NUL character at character %d); lifecycle scripts must be text"
            % (field, text.index("\x00"))
        )
    encoded = base64_length(len(data))
    if encoded > CONTENT_MAX:
        raise NotebooksError(
            "%s is too large: the script is %d bytes, %d characters once base64-encoded; SageMaker accepts at "
            "most %d base64 characters (a script of at most %d bytes)"
            % (field, len(data), encoded, CONTENT_MAX, SCRIPT_MAX_BYTES)
        )
    return data


# The line that ends the heredoc holding a stack's own on-start steps (templates/on-start.sh.j2): steps
# with that line would end it early and run the rest outside it.
STEPS_END = "ISOLATED_NOTEBOOK_ON_START_STEPS"


def on_start_errors(steps, script, field="isolated_notebook_on_start_steps"):
    """Why a stack's own on-start ``steps``, composed into the rendered ``script``, cannot be the
    notebooks' on-start hook; [] when they can.  Checked before any AWS call: the lifecycle
    configuration is written after the bucket, role and endpoints."""
    if steps is None or steps == "":
        return []
    if not isinstance(steps, str):
        return ["%s: must be shell text (run by bash), got %s" % (field, type(steps).__name__)]
    found = []
    if STEPS_END in [line.strip() for line in steps.splitlines()]:
        found.append("%s: a line reads %s, which would end the steps early; the steps must not hold that line"
                     % (field, STEPS_END))  # fmt: skip
    if "\x00" in steps or utf8_error(field, steps):
        found.append("%s: must be UTF-8 text without NUL characters" % field)
        return found
    size = len(script.encode("utf-8"))
    encoded = base64_length(size)
    if encoded > CONTENT_MAX:
        room = SCRIPT_MAX_BYTES - (size - len(steps.encode("utf-8")))
        found.append(
            "%s: the on-start script with these steps is %d bytes, %d characters once base64-encoded; SageMaker "
            "takes at most %d (NotebookInstanceLifecycleHook.Content), which leaves the steps at most %d bytes, "
            "they are %d" % (field, size, encoded, CONTENT_MAX, max(room, 0), len(steps.encode("utf-8")))
        )
    return found


def validate(params):
    """Check a lifecycle_config task before any AWS call; return the desired scripts as bytes."""
    validate_name(params.get("name"))
    if params.get("state", "present") == "absent":
        return {}
    return dict((option, script_bytes(option, params.get(option))) for option, _member in HOOKS)


# --- encoding and comparison ----------------------------------------------------------------------


def encode_hook(data):
    """Script bytes -> the API's hook list ([] means no hook)."""
    if data is None:
        return []
    return [{"Content": base64.b64encode(data).decode("ascii")}]


def decode_hook(hooks):
    """The API's hook list -> script bytes, or None when there is no hook."""
    if not hooks:
        return None
    content = hooks[0].get("Content") or ""
    try:
        # Not strict: line breaks or other spelling differences in the base64 are not a change.
        return base64.b64decode(content)
    except (binascii.Error, ValueError):
        # Not base64 at all: keep it as is so it differs from any desired script.
        return content.encode("utf-8", "surrogateescape")


def scripts_of(config):
    """{option: bytes or None} of a DescribeNotebookInstanceLifecycleConfig answer."""
    config = config or {}
    return dict((option, decode_hook(config.get(member))) for option, member in HOOKS)


def as_text(data):
    if data is None:
        return None
    return data.decode("utf-8", "replace")


def sha256(data):
    if data is None:
        return None
    return hashlib.sha256(data).hexdigest()


def changed_scripts(current, desired):
    """Options whose script differs, compared as decoded bytes."""
    return [option for option, _member in HOOKS if current.get(option) != desired.get(option)]


def _tag_lines(tags):
    return "".join("%s=%s\n" % (key, tags[key]) for key in sorted(tags or {}))


def build_diff(name, before, after, before_tags=None, after_tags=None):
    """Unified-diff entries as the copy module returns them: one per changed script, then tags."""
    entries = []
    for option in changed_scripts(before, after):
        entries.append(
            {
                "before_header": "%s: %s (before)" % (name, option),
                "after_header": "%s: %s (after)" % (name, option),
                "before": as_text(before.get(option)) or "",
                "after": as_text(after.get(option)) or "",
            }
        )
    if (before_tags or {}) != (after_tags or {}):
        entries.append(
            {
                "before_header": "%s: tags (before)" % name,
                "after_header": "%s: tags (after)" % name,
                "before": _tag_lines(before_tags),
                "after": _tag_lines(after_tags),
            }
        )
    return entries


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def summarize(name, config, scripts, tags, attached, restart_required=None):
    """The result a user sees: decoded scripts, their digests, and who uses the config."""
    config = config or {}
    result = {
        "name": name,
        "arn": config.get("NotebookInstanceLifecycleConfigArn"),
        "creation_time": _iso(config.get("CreationTime")),
        "last_modified_time": _iso(config.get("LastModifiedTime")),
        "tags": tags or {},
        "attached_notebooks": attached,
        "restart_required": restart_required or [],
    }
    for option, _member in HOOKS:
        result[option] = as_text(scripts.get(option))
        result[option + "_sha256"] = sha256(scripts.get(option))
    return result


# --- AWS reads ------------------------------------------------------------------------------------


def describe(sagemaker, name):
    """DescribeNotebookInstanceLifecycleConfig, or None when there is no such config."""
    return describe_or_none(
        sagemaker.describe_notebook_instance_lifecycle_config,
        missing=lifecycle_config_missing,
        NotebookInstanceLifecycleConfigName=name,
    )


def list_names(sagemaker, name_contains=None):
    kwargs = {"NameContains": name_contains} if name_contains else {}
    summaries = pages(
        sagemaker, "list_notebook_instance_lifecycle_configs", "NotebookInstanceLifecycleConfigs", **kwargs
    )
    return sorted(s["NotebookInstanceLifecycleConfigName"] for s in summaries)


def _notebook(summary):
    return {
        "name": summary.get("NotebookInstanceName"),
        "arn": summary.get("NotebookInstanceArn"),
        "status": summary.get("NotebookInstanceStatus"),
    }


def attached_notebooks(sagemaker, name=None):
    """Notebooks using config ``name`` (a list), or, without a name, {config name: [notebooks]}."""
    kwargs = {"NotebookInstanceLifecycleConfigNameContains": name} if name else {}
    summaries = pages(sagemaker, "list_notebook_instances", "NotebookInstances", **kwargs)
    by_config = {}
    for summary in sorted(summaries, key=lambda s: s.get("NotebookInstanceName", "")):
        config = summary.get("NotebookInstanceLifecycleConfigName")
        if config:
            by_config.setdefault(config, []).append(_notebook(summary))
    if name:
        # The filter is a substring match: keep the exact name only.
        return by_config.get(name, [])
    return by_config


def running(notebooks):
    """Names of the notebooks that have started already: a new OnStart script reaches them only when
    they start again (notebook.RUNNING_STATUSES, the one status table)."""
    return [n["name"] for n in notebooks if n.get("status") in RUNNING_STATUSES]


# --- the lifecycle_config module's work -----------------------------------------------------------


class LifecycleConfigs:
    """Brings one lifecycle configuration to the state a task asks for.

    ``warn`` receives messages meant for the user.
    Returns the module result (``changed`` included); raises NotebooksError on refusal.
    """

    def __init__(self, sagemaker, check_mode=False, warn=None, wait_timeout=60, sleep=None):
        self.sagemaker = sagemaker
        self.check_mode = check_mode
        self.warn = warn or (lambda msg: None)
        self.wait_timeout = wait_timeout
        self.sleep = sleep

    def ensure(self, params):
        desired = validate(params)
        if params.get("state", "present") == "absent":
            return self.absent(params["name"])
        return self.present(params["name"], desired, params.get("tags"), params.get("purge_tags", True))

    def _result(self, changed, diff, **summary):
        result = summarize(**summary)
        result["changed"] = changed
        result["diff"] = diff
        return result

    def _describe_after_write(self, name):
        # A config just written can take a moment to be readable on AWS.
        kwargs = {"sleep": self.sleep} if self.sleep else {}
        return poll(
            lambda: describe(self.sagemaker, name),
            lambda config: config is not None,
            self.wait_timeout,
            "lifecycle configuration %s to be readable" % name,
            **kwargs,
        )

    def present(self, name, desired, tags, purge_tags):
        config = describe(self.sagemaker, name)
        if config is None:
            return self._create(name, desired, tags)
        current = scripts_of(config)
        arn = config["NotebookInstanceLifecycleConfigArn"]
        current_tags = get_tags(self.sagemaker, arn)
        attached = attached_notebooks(self.sagemaker, name)
        changes = changed_scripts(current, desired)

        if changes and not self.check_mode:
            # Send both hooks, the whole desired state ([] removes a hook the task no longer has): the API
            # reference does not say whether an omitted hook is kept or removed.
            update = dict((member, encode_hook(desired[option])) for option, member in HOOKS)
            self.sagemaker.update_notebook_instance_lifecycle_config(
                NotebookInstanceLifecycleConfigName=name, aws_retry=True, **update
            )
        tags_changed, new_tags = reconcile_tags(self.sagemaker, arn, current_tags, tags, purge_tags, self.check_mode)

        restart = running(attached) if "on_start" in changes else []
        if restart:
            self.warn(
                "Lifecycle configuration %s %s a new on_start script; it runs only when a notebook starts, so "
                "these running notebook instances keep the old one until they are restarted: %s"
                % (name, "would get" if self.check_mode else "has", ", ".join(restart))
            )
        if changes and not self.check_mode:
            config = self._describe_after_write(name)
        scripts = desired if changes else current
        diff = build_diff(name, current, scripts, current_tags, new_tags)
        return self._result(
            bool(changes) or tags_changed,
            diff,
            name=name,
            config=config,
            scripts=scripts,
            tags=new_tags,
            attached=attached,
            restart_required=restart,
        )

    def _create(self, name, desired, tags):
        diff = build_diff(name, {}, desired, {}, tags or {})
        if self.check_mode:
            return self._result(True, diff, name=name, config=None, scripts=desired, tags=tags, attached=[])
        kwargs = dict((member, encode_hook(desired[option])) for option, member in HOOKS if desired.get(option))
        if tags:
            kwargs["Tags"] = tag_list(tags)
        self.sagemaker.create_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=name, aws_retry=True, **kwargs
        )
        config = self._describe_after_write(name)
        return self._result(
            True, diff, name=name, config=config, scripts=scripts_of(config), tags=tags or {}, attached=[]
        )

    def absent(self, name):
        config = describe(self.sagemaker, name)
        if config is None:
            return self._result(False, [], name=name, config=None, scripts={}, tags={}, attached=[])
        attached = attached_notebooks(self.sagemaker, name)
        if attached:
            # SageMaker's own answer is undocumented here; deleting a config in use would leave
            # notebooks pointing at nothing, so refuse and say which notebooks hold it.
            raise NotebooksError(
                "Lifecycle configuration %s is attached to notebook instances %s; detach it from them "
                "(or delete them) before deleting it"
                % (name, ", ".join("%s (%s)" % (n["name"], n["status"]) for n in attached)),
                attached_notebooks=attached,
            )
        current = scripts_of(config)
        tags = get_tags(self.sagemaker, config["NotebookInstanceLifecycleConfigArn"])
        if not self.check_mode:
            try:
                self.sagemaker.delete_notebook_instance_lifecycle_config(
                    NotebookInstanceLifecycleConfigName=name, aws_retry=True
                )
            except ClientError as e:
                # Deleted meanwhile by someone else: the goal is met.  Asked again rather than read
                # from the error's wording, which AWS does not document.
                if not lifecycle_config_missing(e) or describe(self.sagemaker, name) is not None:
                    raise
        diff = build_diff(name, current, {}, tags, {})
        return self._result(True, diff, name=name, config=config, scripts={}, tags={}, attached=[])


# --- the lifecycle_config_info module's work ------------------------------------------------------


def gather(sagemaker, name=None, name_contains=None):
    """Describe the configs asked for (one by name, those whose name contains a string, or all)."""
    if name is not None:
        names = [validate_name(name)]
    else:
        names = list_names(sagemaker, name_contains)
    configs = []
    by_config = None
    for config_name in names:
        config = describe(sagemaker, config_name)
        if config is None:  # asked for by name and missing, or deleted since the listing
            continue
        if by_config is None:
            by_config = (
                {name: attached_notebooks(sagemaker, name)} if name is not None else attached_notebooks(sagemaker)
            )
        tags = get_tags(sagemaker, config["NotebookInstanceLifecycleConfigArn"])
        summary = summarize(config_name, config, scripts_of(config), tags, by_config.get(config_name, []))
        summary.pop("restart_required")
        configs.append(summary)
    return configs
