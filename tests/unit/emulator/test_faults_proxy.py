# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault proxy forwards faithfully, injects each kind in the service's error shape, and stops."""

import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from tests.emulator import Emulator
from tests.emulator.faults import FaultProxy


@pytest.fixture(scope="module")
def tls_emulator():
    with Emulator(tls=True) as emulator:
        yield emulator


def client(proxy, service, attempts=1):
    return boto3.client(
        service, endpoint_url=proxy.url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", verify=proxy.emulator.ca_bundle,
        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}, connect_timeout=5, read_timeout=10),
    )  # fmt: skip


def error(call, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"], info.value.response["Error"]["Code"]


def test_forwards_unchanged_over_tls(tls_emulator):
    with FaultProxy(tls_emulator, fraction=0.0) as proxy:
        assert proxy.url.startswith("https://127.0.0.1:")
        s3 = client(proxy, "s3")
        s3.create_bucket(Bucket="proxied")
        s3.put_object(Bucket="proxied", Key="a/b.txt", Body=b"x" * 70000)
        assert s3.head_object(Bucket="proxied", Key="a/b.txt")["ContentLength"] == 70000
        assert s3.get_object(Bucket="proxied", Key="a/b.txt")["Body"].read() == b"x" * 70000
        assert client(proxy, "sts").get_caller_identity()["Account"] == "123456789012"
        assert proxy.stats()["faults"] == 0 and proxy.stats()["requests"] == 5


@pytest.mark.parametrize(
    "service,call,expected",
    [
        ("sagemaker", lambda c: c.list_notebook_instances(), (400, "ThrottlingException")),
        ("iam", lambda c: c.list_roles(), (400, "Throttling")),
        ("ec2", lambda c: c.describe_vpcs(), (503, "RequestLimitExceeded")),
        ("s3", lambda c: c.list_buckets(), (503, "SlowDown")),
    ],
)
def test_throttles_in_each_protocol_shape(tls_emulator, service, call, expected):
    with FaultProxy(tls_emulator, kind="throttle", fraction=1.0, service=service) as proxy:
        with pytest.raises(ClientError) as info:
            call(client(proxy, service))
        response = info.value.response
        assert (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]) == expected
        # Another service passes untouched.
        assert client(proxy, "sts").get_caller_identity()["Account"] == "123456789012"
        assert proxy.stats()["faults"] == 1


def test_server_errors_alternate_and_retries_are_counted(tls_emulator):
    with FaultProxy(tls_emulator, kind="5xx", fraction=1.0, service="sagemaker") as proxy:
        with pytest.raises(ClientError) as info:
            client(proxy, "sagemaker", attempts=3).list_notebook_instances()
        assert info.value.response["Error"]["Code"] in ("InternalFailure", "ServiceUnavailable")
        stats = proxy.stats()
        assert stats["faults"] == 3 and stats["retries"] == 2
        assert stats["by_action"] == {"sagemaker:ListNotebookInstances": 3}


def test_a_fraction_is_seeded_and_a_retrying_client_gets_through(tls_emulator):
    counts = []
    for _run in range(2):
        with FaultProxy(tls_emulator, kind="throttle", fraction=0.5, seed=3) as proxy:
            sm = client(proxy, "sagemaker", attempts=10)
            for _call in range(10):
                sm.list_notebook_instances()
            counts.append(proxy.stats())
    assert counts[0]["faults"] == counts[1]["faults"] > 0
    assert counts[0]["retries"] == counts[0]["faults"]  # every fault was retried, and got through


def test_drop_closes_the_connection(tls_emulator):
    with FaultProxy(tls_emulator, kind="drop", fraction=1.0) as proxy:
        with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
            client(proxy, "sts").get_caller_identity()
        assert proxy.stats()["faults"] == 1


def test_stops_by_itself(tls_emulator):
    proxy = FaultProxy(tls_emulator, fraction=0.0, max_seconds=0.5).start()
    sts = client(proxy, "sts")
    sts.get_caller_identity()
    deadline = time.monotonic() + 10
    while proxy.stats()["stopped_because"] is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert proxy.stats()["stopped_because"] == "max_seconds"
    for _call in range(2):  # the kept-alive connection was closed, and a new one is refused
        with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
            sts.get_caller_identity()
    limited = FaultProxy(tls_emulator, fraction=0.0, max_requests=2).start()
    try:
        sts = client(limited, "sts")
        sts.get_caller_identity()
        sts.get_caller_identity()
        time.sleep(1)
        assert limited.stats()["stopped_because"] == "max_requests"
    finally:
        limited.stop()


def test_rejects_bad_configuration(tls_emulator):
    with pytest.raises(ValueError):
        FaultProxy(tls_emulator, kind="latency")
    with pytest.raises(ValueError):
        FaultProxy(tls_emulator, fraction=1.5)
