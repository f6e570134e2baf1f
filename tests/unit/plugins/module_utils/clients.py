# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real boto3 clients for the module_utils tests, built in one place.

The rule: plain data for pure functions, botocore's Stubber for call sequences, the emulator for
behaviour.  Every client here is a real boto3 client with the collection's retry wrapper (methods
take ``aws_retry=True``, as the modules call them); none is a hand-written double of AWS.

- ``on_emulator(emulator, service)``: a client of the emulator (conftest.py has the fixtures);
- ``stubbed(service)``: a client answered by a Stubber, which fails on any call not queued;
- ``Calls(client)``: records every call a client makes (botocore ``before-parameter-build``, as
  the audit's ResourceCache counts them) and whether AWS accepted it (``after-call``);
- ``inject(client, operation, code, ...)``: the next call(s) of one operation get an AWS error
  instead of reaching AWS (a ``before-call`` answer, as the Stubber gives): failures the emulator
  cannot produce, such as a throttled read or a start refused for capacity;
- ``create_notebook(s)()`` / ``lifecycle_config()``: set-up through the API, as a user would.
"""

import base64
import copy
import time

import boto3
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import RETRY
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/notebook"
NOTEBOOK_ARN = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/"
LCC_ARN = "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance-lifecycle-config/"
READS = ("describe_", "list_", "get_")
# The collection's retry policy tries a call this often before it gives up (aws.py: retries=8;
# test_aws.py checks the bound).
RETRY_TRIES = 8


def retrying(client):
    """A boto3 client whose methods take ``aws_retry=True`` with the collection's retry policy, as
    ``aws.client()`` builds it through amazon.aws (``module.client(..., retry_decorator=RETRY)``)."""
    return RetryingBotoClientWrapper(client, RETRY)


def on_emulator(emulator, service):
    return retrying(emulator.client(service))


def stubbed(service):
    """(client, stubber): a retrying client whose calls the active Stubber answers, in order."""
    raw = boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    stub = Stubber(raw)
    stub.activate()
    return retrying(raw), stub


class Call:
    def __init__(self, operation, params):
        self.operation = operation
        self.params = params
        self.accepted = None  # True once AWS answered with success, False on an error answer
        self.response = None  # the parsed answer

    def __repr__(self):
        return "Call(%s, %r, accepted=%s)" % (self.operation, self.params, self.accepted)


class Calls:
    """Every API call ``client`` makes from now on, in order (thread-safe enough: list appends)."""

    def __init__(self, client):
        self.all = []
        events = client.meta.events
        events.register("before-parameter-build", self._before)
        events.register("after-call", self._after)

    def _before(self, params, model, context, **kwargs):
        call = Call(xform_name(model.name), copy.deepcopy(params))
        context["recorded_call"] = call
        self.all.append(call)

    def _after(self, http_response, parsed, context, **kwargs):
        call = context.get("recorded_call")
        if call is not None:
            call.accepted = http_response.status_code < 300
            call.response = parsed

    def operations(self):
        return [call.operation for call in self.all]

    def writes(self, accepted=True):
        """(operation, params) of every call that is not a read; by default only those AWS accepted
        (a refused write changed nothing); ``accepted=None``: every write attempted."""
        return [
            (call.operation, call.params)
            for call in self.all
            if not call.operation.startswith(READS) and (accepted is None or call.accepted is accepted)
        ]

    def statuses(self):
        """The notebook statuses DescribeNotebookInstance answered, in order."""
        return [
            call.response["NotebookInstanceStatus"]
            for call in self.all
            if call.operation == "describe_notebook_instance" and call.accepted
        ]

    def write_names(self, accepted=True):
        return [operation for operation, _params in self.writes(accepted)]

    def reset(self):
        self.all = []


def aws_error(code, message, status=400):
    """The (http, parsed) answer of an AWS error, as botocore hands it to the client."""
    return AWSResponse(None, status, {}, None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


def inject(client, operation, code, message, times=1, when=None, status=400):
    """The next ``times`` calls of ``operation`` (snake_case) whose parameters satisfy ``when``
    get the AWS error ``code`` instead of reaching AWS; later calls reach AWS as usual.
    Returns a dict whose ``left`` counts the errors still to come."""
    suffix = "%s.%s" % (client.meta.service_model.service_id.hyphenize(), client.meta.method_to_api_mapping[operation])
    state = {"left": times}

    def mark(params, context, **kwargs):
        if state["left"] > 0 and (when is None or when(params)):
            state["left"] -= 1
            context["injected_error"] = True

    def answer(context, **kwargs):
        if context.pop("injected_error", False):
            return aws_error(code, message, status)
        return None

    client.meta.events.register("before-parameter-build." + suffix, mark)
    client.meta.events.register("before-call." + suffix, answer)
    return state


# --- set-up through the API --------------------------------------------------------------------------


def b64(text):
    return base64.b64encode(text.encode()).decode()


def lifecycle_config(sagemaker, name, on_start=None, on_create=None, tags=None):
    """Create a lifecycle configuration (hooks as script text); returns its description."""
    kwargs = {}
    if on_start is not None:
        kwargs["OnStart"] = [{"Content": b64(on_start)}]
    if on_create is not None:
        kwargs["OnCreate"] = [{"Content": b64(on_create)}]
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    sagemaker.create_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name, **kwargs)
    return sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)


def status(sagemaker, name):
    """A notebook's status now (None: it does not exist)."""
    try:
        return sagemaker.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]
    except ClientError as e:
        if "RecordNotFound" in str(e):
            return None
        raise


def settle(sagemaker, name, wanted, timeout=30):
    """Wait (test set-up, not the code under test) until the notebook's status is ``wanted``."""
    deadline = time.monotonic() + timeout
    while status(sagemaker, name) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError("notebook %s did not reach %s in %ss" % (name, wanted, timeout))
        time.sleep(0.02)


# A notebook as a user of the collection creates it: in a VPC, without internet access.
NOTEBOOK = dict(
    InstanceType="ml.t3.medium",
    RoleArn=ROLE,
    SubnetId="subnet-1",
    SecurityGroupIds=["sg-1"],
    DirectInternetAccess="Disabled",
    VolumeSizeInGB=5,
    PlatformIdentifier="notebook-al2023-v1",
    InstanceMetadataServiceConfiguration={"MinimumInstanceMetadataServiceVersion": "2"},
)


def create_notebook(sagemaker, name, state="InService", tags=None, **fields):
    """Create notebook ``name`` (NOTEBOOK with ``fields``; a LifecycleConfigName that does not exist
    yet is created) and bring it to ``state``: Pending (just created), InService, Stopping (just
    stopped) or Stopped."""
    create_notebooks(sagemaker, {name: state}, {name: dict(fields, Tags=tags)})


def create_notebooks(sagemaker, states, fields=None):
    """Create the notebooks ``states`` names ({name: state}, as create_notebook() takes it) at once,
    so that their phases overlap on the timed emulator; ``fields``: {name: {member: value}}."""
    fields = fields or {}
    for name in states:
        request = dict(NOTEBOOK, NotebookInstanceName=name, **fields.get(name, {}))
        tags = request.pop("Tags", None)
        if tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        config = request.get("LifecycleConfigName")
        if config and config not in list_configs(sagemaker):
            lifecycle_config(sagemaker, config, on_start="echo %s\n" % config)
        sagemaker.create_notebook_instance(**request)
    started = [name for name, state in states.items() if state != "Pending"]
    for name in started:
        settle(sagemaker, name, "InService")
    stopped = [name for name in started if states[name] in ("Stopping", "Stopped")]
    for name in stopped:
        sagemaker.stop_notebook_instance(NotebookInstanceName=name)
    for name in stopped:
        if states[name] == "Stopped":
            settle(sagemaker, name, "Stopped")


def list_configs(sagemaker):
    return [
        c["NotebookInstanceLifecycleConfigName"]
        for c in sagemaker.list_notebook_instance_lifecycle_configs(MaxResults=100)["NotebookInstanceLifecycleConfigs"]
    ]


def tags_of(sagemaker, arn):
    return dict((t["Key"], t["Value"]) for t in sagemaker.list_tags(ResourceArn=arn)["Tags"])
