# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared retry policy (each call backs off on its own, whatever other calls do meanwhile) and
the read layer every module reads through (``pages``, ``describe_or_none``): exact calls from a
Stubber, real paging from the emulator."""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import aws
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import (
    RETRY,
    NotebooksError,
    describe_or_none,
    pages,
    run,
)
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import (
    Calls,
    lifecycle_config,
    stubbed,
)
from botocore.exceptions import ClientError


def throttled():
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "DescribeNotebookInstance"
    )


def test_a_call_between_retries_does_not_reset_the_backoff(monkeypatch):
    sleeps = []
    monkeypatch.setattr(cloud.time, "sleep", sleeps.append)
    monkeypatch.setattr(cloud.random, "uniform", lambda low, high: high)  # the jitter's upper bound

    @RETRY
    def other_call():
        return "ok"

    failures = [throttled() for attempt in range(4)]

    @RETRY
    def throttled_call():
        # Another call of the policy (another notebook's thread) happens between the retries.
        assert other_call() == "ok"
        if failures:
            raise failures.pop()
        return "done"

    assert throttled_call() == "done"
    assert sleeps == [1, 2, 4, 8]


def test_the_retries_are_bounded(monkeypatch):
    sleeps = []
    monkeypatch.setattr(cloud.time, "sleep", sleeps.append)
    calls = []

    @RETRY
    def always_throttled():
        calls.append(1)
        raise throttled()

    try:
        always_throttled()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ThrottlingException"
    else:
        raise AssertionError("the throttling error was not raised")
    assert len(calls) == 8 and len(sleeps) == 7 and max(sleeps) <= 20


# --- the read layer ----------------------------------------------------------------------------------

NAMED = {"NotebookInstanceName": "nb-1"}
ANSWER = {"NotebookInstanceName": "nb-1", "NotebookInstanceStatus": "InService"}


def summaries(*names):
    return [{"NotebookInstanceName": n, "NotebookInstanceArn": "arn:x/" + n} for n in names]


def test_pages_reads_every_page_with_the_page_size():
    sm, stub = stubbed("sagemaker")
    stub.add_response(
        "list_notebook_instances",
        {"NotebookInstances": summaries("a", "b"), "NextToken": "t"},
        {"MaxResults": 2, "StatusEquals": "InService"},
    )
    stub.add_response(
        "list_notebook_instances",
        {"NotebookInstances": summaries("c")},
        {"MaxResults": 2, "StatusEquals": "InService", "NextToken": "t"},
    )
    items = pages(sm, "list_notebook_instances", "NotebookInstances", page_size=2, StatusEquals="InService")
    assert [i["NotebookInstanceName"] for i in items] == ["a", "b", "c"]
    stub.assert_no_pending_responses()


def test_pages_of_nothing_is_an_empty_list():
    sm, stub = stubbed("sagemaker")
    stub.add_response("list_notebook_instances", {}, {})
    assert pages(sm, "list_notebook_instances", "NotebookInstances") == []
    stub.assert_no_pending_responses()


def test_a_throttled_page_retries_the_whole_listing(no_backoff):
    sm, stub = stubbed("sagemaker")
    first = ("list_notebook_instances", {"NotebookInstances": summaries("a"), "NextToken": "t"}, {})
    stub.add_response(*first)
    stub.add_client_error(
        "list_notebook_instances", "ThrottlingException", "Rate exceeded", expected_params={"NextToken": "t"}
    )
    stub.add_response(*first)
    stub.add_response("list_notebook_instances", {"NotebookInstances": summaries("b")}, {"NextToken": "t"})
    assert [i["NotebookInstanceName"] for i in pages(sm, "list_notebook_instances", "NotebookInstances")] == ["a", "b"]
    stub.assert_no_pending_responses()


def test_pages_follows_the_emulators_tokens(sagemaker):
    for name in ("lcc-a", "lcc-b", "lcc-c"):
        lifecycle_config(sagemaker, name, on_start="echo\n")
    calls = Calls(sagemaker)
    items = pages(
        sagemaker, "list_notebook_instance_lifecycle_configs", "NotebookInstanceLifecycleConfigs", page_size=2
    )
    assert sorted(i["NotebookInstanceLifecycleConfigName"] for i in items) == ["lcc-a", "lcc-b", "lcc-c"]
    assert calls.operations() == ["list_notebook_instance_lifecycle_configs"] * 2


def test_describe_or_none_drops_the_metadata_and_retries_a_throttled_read(no_backoff):
    sm, stub = stubbed("sagemaker")
    stub.add_client_error("describe_notebook_instance", "ThrottlingException", "Rate exceeded", expected_params=NAMED)
    stub.add_response("describe_notebook_instance", dict(ANSWER), NAMED)
    assert describe_or_none(sm.describe_notebook_instance, **NAMED) == ANSWER
    stub.assert_no_pending_responses()


def test_describe_or_none_is_none_only_for_a_missing_resource():
    sm, stub = stubbed("sagemaker")
    stub.add_client_error("describe_notebook_instance", "ValidationException", "RecordNotFound", expected_params=NAMED)
    assert describe_or_none(sm.describe_notebook_instance, **NAMED) is None
    stub.add_client_error("describe_notebook_instance", "ValidationException", "Bad name", expected_params=NAMED)
    with pytest.raises(ClientError, match="Bad name"):
        describe_or_none(sm.describe_notebook_instance, **NAMED)
    stub.assert_no_pending_responses()


def test_describe_or_none_takes_error_codes_for_missing():
    ec2, stub = stubbed("ec2")
    ids = {"VpcEndpointIds": ["vpce-0123456789abcdef0"]}
    stub.add_client_error("describe_vpc_endpoints", "InvalidVpcEndpointId.NotFound", "gone", expected_params=ids)
    assert describe_or_none(ec2.describe_vpc_endpoints, missing=("InvalidVpcEndpointId.NotFound",), **ids) is None
    stub.add_client_error("describe_vpc_endpoints", "UnauthorizedOperation", "no", expected_params=ids)
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        describe_or_none(ec2.describe_vpc_endpoints, missing=("InvalidVpcEndpointId.NotFound",), **ids)
    stub.assert_no_pending_responses()


class Exited(Exception):
    """What AnsibleModule's exit_json/fail_json do (they never return)."""


class ModuleRecord:
    """The two exits of an AnsibleModule, recorded: run() is the only caller of either."""

    def __init__(self, diff):
        self._diff = diff
        self.exited = None

    def exit_json(self, **result):
        self.exited = ("exit", result)
        raise Exited()

    def fail_json(self, **result):
        self.exited = ("fail", result)
        raise Exited()


@pytest.mark.parametrize("diff", [True, False])
def test_run_exits_with_the_result_and_keeps_diff_only_in_diff_mode(diff):
    module = ModuleRecord(diff)
    with pytest.raises(Exited):
        run(module, lambda m: {"changed": True, "diff": {"before": 1, "after": 2}})
    expected = {"changed": True, "diff": {"before": 1, "after": 2}} if diff else {"changed": True}
    assert module.exited == ("exit", expected)


@pytest.mark.parametrize("diff", [True, False])
def test_run_turns_the_collections_error_into_fail_json(diff):
    def logic(module):
        raise NotebooksError("refused", field="name", diff={"before": {}, "after": {}})

    module = ModuleRecord(diff)
    with pytest.raises(Exited):
        run(module, logic)
    expected = {"msg": "refused", "field": "name"}
    if diff:
        expected["diff"] = {"before": {}, "after": {}}
    assert module.exited == ("fail", expected)


@pytest.mark.parametrize("code", aws.DENIED_CODES)
def test_a_denial_names_the_call_and_the_permissions_document(code):
    message = "User: arn:aws:sts::123456789012:assumed-role/awx/job is not authorized to perform: iam:PassRole"
    error = ClientError({"Error": {"Code": code, "Message": message}}, "CreateNotebookInstance")
    assert aws.is_denied(error)
    expected = "CreateNotebookInstance denied (%s): %s %s" % (code, message, aws.PERMISSIONS_DOC)
    assert aws.error_message(error) == expected
    assert "docs/permissions.md" in aws.PERMISSIONS_DOC


def test_other_errors_keep_their_message():
    error = ClientError({"Error": {"Code": "ValidationException", "Message": "bad"}}, "CreateNotebookInstance")
    assert not aws.is_denied(error) and aws.error_message(error) == "bad"
