# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place for AWS clients, retries, errors and tags shared by every module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

try:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = Exception
    Config = None

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

# One retry policy for every call of the collection: throttling and transient server errors are
# retried with jittered exponential backoff (1 s doubling to 20 s, 8 retries, about 90 s at worst).
# Security Hub throttles with LimitExceededException (its modelled error "...or throttling limits") and
# TooManyRequestsException (seen on GetFindings), and answers a server fault with InternalException;
# botocore's standard retry counts the first two as throttling too.
RETRY_CODES = [
    "ThrottlingException",
    "SlowDown",
    "InternalServerError",
    "ServiceUnavailableException",
    "TooManyRequestsException",
    "LimitExceededException",
    "InternalException",
]


def _backoff():
    return AWSRetry.jittered_backoff(retries=8, delay=1, backoff=2.0, max_delay=20, catch_extra_error_codes=RETRY_CODES)


def retry(func):
    """The retry policy as a decorator, with its own backoff for each call.

    An amazon.aws retry decorator keeps the growing delay in one iterator that every call restarts:
    with notebook_fleet's threads sharing a client, one thread's new call would reset the delay of
    another thread that is being throttled.
    """

    @functools.wraps(func)
    def retrying(*args, **kwargs):
        return _backoff()(func)(*args, **kwargs)

    return retrying


RETRY = retry


# Eventual consistency: a resource just created may be reported as not found this long (EC2 API
# reference, "Eventual consistency"; Terraform's AWS provider tolerates not-found reads after a create
# for a similar time).  Every wait right after a create shares it.
NOT_FOUND_GRACE = 60.0


class NotebooksError(Exception):
    """A failure the module reports as is; ``details`` go into the failure result."""

    def __init__(self, msg, **details):
        super(NotebooksError, self).__init__(msg)
        self.msg = msg
        self.details = details


# botocore's own attempts under each of those tries (it also retries dropped connections, which the
# policy above does not see), fixed at its standard default: AWS_MAX_ATTEMPTS, which site.yml raises
# for the amazon.aws modules, would otherwise multiply with the 8 tries (10 x 8 on a persistent 5xx).
BOTOCORE_RETRIES = {"mode": "standard", "total_max_attempts": 3}


def client(module, service, **extra):
    """A boto3 client with the collection's retry policy (call methods with ``aws_retry=True``);
    ``extra`` goes to boto3 (``config`` is merged into amazon.aws's)."""
    config = Config(retries=dict(BOTOCORE_RETRIES))
    if extra.get("config") is not None:
        config = config.merge(extra["config"])
    extra["config"] = config
    return module.client(service, retry_decorator=RETRY, **extra)


def error_code(error):
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


# How each service says "denied": IAM, STS and S3 AccessDenied, SageMaker AccessDeniedException, EC2
# UnauthorizedOperation (each API reference's common errors).
DENIED_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation")
PERMISSIONS_DOC = (
    "The permissions a run needs are listed in docs/permissions.md of secure_sagemaker.notebooks;"
    " playbooks/caller_policy.yml writes them for a stack."
)


def is_denied(error):
    return error_code(error) in DENIED_CODES


def error_message(error):
    """AWS's message; for a denial (which names the principal, action and resource), where the
    permissions are listed."""
    message = getattr(error, "response", {}).get("Error", {}).get("Message", "") or str(error)
    if is_denied(error):
        operation = getattr(error, "operation_name", "")
        message = "%s denied (%s): %s %s" % (operation or "call", error_code(error), message, PERMISSIONS_DOC)
    return message


def is_not_found(error):
    """SageMaker reports a missing resource as ValidationException with a telling message."""
    if not isinstance(error, ClientError):
        return False
    message = error_message(error)
    return error_code(error) in ("ResourceNotFound", "ValidationException") and (
        "RecordNotFound" in message or "does not exist" in message or "Could not find" in message
    )


def lifecycle_config_missing(error):
    """Whether DescribeNotebookInstanceLifecycleConfig failed because the config does not exist: any
    ValidationException, whatever its wording.  The botocore model lists no error for the operation and
    AWS documents no wording; the name is checked against the API's pattern before any call
    (arn.name_error), so a ValidationException for a valid name is the missing config (Terraform's
    provider reads it the same way).  The emulator's wording is not relied upon."""
    return isinstance(error, ClientError) and error_code(error) == "ValidationException"


def snake(resource):
    """camelCase API shape -> snake_case result, leaving tag keys alone."""
    return camel_dict_to_snake_dict(resource or {}, ignore_list=["Tags"])


# --- the read layer: every module and the audit read through these two -----------------------------


def describe_or_none(call, missing=is_not_found, **kwargs):
    """``call(**kwargs)`` with the retry policy, without ``ResponseMetadata``; None when the resource
    does not exist.  ``missing``: a predicate on the error (SageMaker's ValidationException wording,
    the default) or a tuple of error codes (EC2's ``InvalidVpcEndpointId.NotFound``)."""
    try:
        response = call(aws_retry=True, **kwargs)
    except (BotoCoreError, ClientError) as e:
        if missing(e) if callable(missing) else error_code(e) in missing:
            return None
        raise
    response = dict(response)
    response.pop("ResponseMetadata", None)
    return response


@RETRY
def paginate_all(client, operation, **kwargs):
    """Every page of ``operation`` merged into one response.

    botocore's paginator knows each operation's token (NextToken, Marker/IsTruncated, ...), so one
    helper covers them all.  A paginator's calls cannot take ``aws_retry``: the whole listing is
    retried instead.
    """
    return client.get_paginator(operation).paginate(**kwargs).build_full_result()


def pages(client, operation, key, page_size=None, **kwargs):
    """The items under ``key`` of every page of ``operation`` (a list)."""
    if page_size:
        kwargs["PaginationConfig"] = {"PageSize": page_size}
    return paginate_all(client, operation, **kwargs).get(key) or []


def get_tags(sagemaker, arn):
    return boto3_tag_list_to_ansible_dict(pages(sagemaker, "list_tags", "Tags", ResourceArn=arn))


def reconcile_tags(sagemaker, arn, current, wanted, purge, check_mode):
    """Bring a SageMaker resource's tags to ``wanted`` (None: leave tags alone).

    Returns (changed, resulting_tags).
    """
    if wanted is None:
        return False, current
    to_set, to_remove = compare_aws_tags(current, wanted, purge_tags=purge)
    if not to_set and not to_remove:
        return False, current
    if not check_mode:
        if to_remove:
            sagemaker.delete_tags(ResourceArn=arn, TagKeys=to_remove, aws_retry=True)
        if to_set:
            sagemaker.add_tags(ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True)
    result = dict((k, v) for k, v in current.items() if k not in to_remove)
    result.update(to_set)
    return True, result


def tag_list(tags):
    """Ansible tag dict -> the list shape create calls take."""
    return ansible_dict_to_boto3_tag_list(tags or {})


def run(module, function, *args, **kwargs):
    """The one module contract: ``function(module, ...)`` returns the module result or raises
    NotebooksError (its ``details`` go into the failure result).  Only this calls exit_json and
    fail_json, and it drops ``diff`` when diff mode is off, so main() stays one line."""
    try:
        try:
            result = function(module, *args, **kwargs)
        finally:
            _no_duplicate_warnings(module)
    except NotebooksError as e:
        module.fail_json(msg=e.msg, **_without_diff(module, e.details))
    except (BotoCoreError, ClientError) as e:
        if is_denied(e):
            module.fail_json(msg=error_message(e), error=e.response.get("Error", {}))
        module.fail_json_aws(e, msg="AWS call failed")
    module.exit_json(**_without_diff(module, result))


def _no_duplicate_warnings(module):
    """amazon.aws 10's AnsibleAWSModule copies every warning into the result's ``warnings`` under
    ansible-core >= 2.19, which core then reports as a deprecated use of ``warnings``; core returns
    the warnings issued with ``warn()`` itself, so the copy goes."""
    if getattr(module, "_warnings", None):
        module._warnings = []


def _without_diff(module, result):
    result = dict(result)
    if not module._diff:
        result.pop("diff", None)
    return result
