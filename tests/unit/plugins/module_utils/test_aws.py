# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared retry policy: each call backs off on its own, whatever other calls do meanwhile."""

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import RETRY
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
