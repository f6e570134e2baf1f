# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fill the documented gaps of moto's SageMaker notebook API, in one place.

Every patch here reproduces behaviour that the SageMaker API reference documents (or that was
measured, see shared FACTS.md); nothing here invents behaviour.  ``apply()`` must run in the
process that serves the emulator, before the first request.

Timing model: ``EMULATOR_PHASE_SECONDS`` (``"3"`` for every phase, or ``"Pending=2,Stopping=10"``)
makes Pending, Stopping and Updating last that long, as on AWS (minutes there).  Default: instant.
"""

import hashlib
import json
import os
import re
import threading
import time

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models.security_groups import GroupedSecurityRuleView, SecurityGroup, SecurityGroupRule
from moto.ec2.models.vpcs import VPCBackend
from moto.ec2.responses.security_groups import SecurityGroups
from moto.ec2.responses.vpcs import VPCs
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse
from moto.s3.models import FakeBucket, FakeKey
from moto.s3.responses import S3Response
from moto.sagemaker import models, responses
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeSagemakerNotebookInstance as Notebook
from moto.sagemaker.models import FakeSageMakerNotebookInstanceLifecycleConfig as LifecycleConfig
from moto.sagemaker.models import SageMakerModelBackend as Backend

ACCOUNT_ID = "123456789012"

PHASES = ("Pending", "Stopping", "Updating")
# AWS: NotebookInstanceLifecycleConfigName pattern and length (API reference).
LCC_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
LCC_NAME_MAX = 63
# AWS: NotebookInstanceLifecycleHook.Content is 1..16384 characters of base64; at most one hook.
LCC_CONTENT_MAX = 16384
VOLUME_MIN, VOLUME_MAX = 5, 16384
MAX_SECURITY_GROUPS = 5
# AWS: notebooks created without PlatformIdentifier get the current default platform, and without
# InstanceMetadataServiceConfiguration allow IMDSv1 ("1").
DEFAULT_PLATFORM = "notebook-al2023-v1"
DEFAULT_IMDS = "1"


def phase_seconds(spec=None):
    """Parse the timing model: ``"3"`` or ``"Pending=2,Stopping=10,Updating=1"``."""
    spec = os.environ.get("EMULATOR_PHASE_SECONDS", "") if spec is None else str(spec)
    spec = spec.strip()
    if not spec:
        return dict.fromkeys(PHASES, 0.0)
    if "=" not in spec:
        return dict.fromkeys(PHASES, float(spec))
    result = dict.fromkeys(PHASES, 0.0)
    for item in spec.split(","):
        phase, _sep, seconds = item.partition("=")
        if phase.strip() not in PHASES:
            raise ValueError(f"unknown phase {phase!r} in EMULATOR_PHASE_SECONDS; use {PHASES}")
        result[phase.strip()] = float(seconds)
    return result


TIMING = phase_seconds()
# The eventual-consistency model (see apply_eventual_consistency): 0 is off.
CONSISTENCY_SECONDS = float(os.environ.get("EMULATOR_CONSISTENCY_SECONDS") or 0)


# --- notebook status: transitional phases resolve lazily when the status is read -----------------


def _get_status(self):
    pending = self.__dict__.get("_phase_end")
    if pending and time.monotonic() >= pending[1]:
        self.__dict__["_status"], self.__dict__["_phase_end"] = pending[0], None
        self.last_modified_time = models.utcnow()
    return self.__dict__.get("_status")


def _set_status(self, value):
    self.__dict__["_status"], self.__dict__["_phase_end"] = value, None


def _transition(notebook, phase, final):
    seconds = TIMING.get(phase, 0.0)
    notebook.last_modified_time = models.utcnow()
    if seconds <= 0:
        notebook.status = final
    else:
        notebook.status = phase
        notebook.__dict__["_phase_end"] = (final, time.monotonic() + seconds)


def _require_status(notebook, allowed, target):
    # AWS wording: "Status (InService) not in ([Stopped, Failed]). Unable to transition to (Pending) ..."
    if notebook.status not in allowed:
        raise ValidationError(
            message=f"Status ({notebook.status}) not in ([{', '.join(allowed)}]). Unable to transition to "
            f"({target}) for Notebook Instance ({notebook.arn})."
        )


def _notebook_start(self):
    # Called by moto's constructor (status Pending) and by StartNotebookInstance.
    _transition(self, "Pending", "InService")


def _notebook_stop(self):
    _transition(self, "Stopping", "Stopped")


def _backend_start(self, notebook_instance_name):
    notebook = self.get_notebook_instance(notebook_instance_name)
    _require_status(notebook, ("Stopped", "Failed"), "Pending")
    notebook.start()


def _backend_stop(self, notebook_instance_name):
    notebook = self.get_notebook_instance(notebook_instance_name)
    _require_status(notebook, ("InService",), "Stopping")
    notebook.stop()


def _notebook_to_dict(self, _original=Notebook.to_dict):
    result = _original(self)
    result["NotebookInstanceStatus"] = self.status
    result["PlatformIdentifier"] = getattr(self, "platform_identifier", DEFAULT_PLATFORM)
    result["InstanceMetadataServiceConfiguration"] = {
        "MinimumInstanceMetadataServiceVersion": getattr(self, "imds_version", DEFAULT_IMDS)
    }
    if self.subnet_id:
        # AWS: a notebook in a VPC has an ENI in its subnet; the id is opaque, this one is stable.
        result["NetworkInterfaceId"] = "eni-" + format(abs(hash(self.arn)) % 16**17, "017x")
    # AWS omits absent members instead of returning nulls.
    return {key: value for key, value in result.items() if value is not None}


# --- validation shared by create and update -------------------------------------------------------


def _check_volume(size, current=None):
    if size is None:
        return
    if not VOLUME_MIN <= int(size) <= VOLUME_MAX:
        raise ValidationError(
            message=f"Invalid range for parameter VolumeSizeInGB, value: {size}, valid range: {VOLUME_MIN}-{VOLUME_MAX}"
        )
    if current is not None and int(size) < int(current):
        # AWS: the ML storage volume can only grow.
        raise ValidationError(
            message=f"VolumeSizeInGB cannot be decreased: current size is {current}, requested {size}."
        )


def _check_lifecycle_config_exists(backend, name):
    if name and name not in backend.notebook_instance_lifecycle_configurations:
        arn = LifecycleConfig.arn_formatter(name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Unable to find Notebook Instance Lifecycle Config ({arn}).")


def _check_lifecycle_config_input(name, hooks):
    if name is not None and (len(name) > LCC_NAME_MAX or not LCC_NAME.match(name)):
        raise ValidationError(
            message=f"1 validation error detected: Value '{name}' at 'notebookInstanceLifecycleConfigName' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$ "
            f"and have length less than or equal to {LCC_NAME_MAX}"
        )
    for field, hook_list in hooks.items():
        if hook_list is None:
            continue
        if len(hook_list) > 1:
            raise ValidationError(
                message=f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                "Member must have length less than or equal to 1"
            )
        for hook in hook_list:
            content = hook.get("Content") or ""
            if not 1 <= len(content) <= LCC_CONTENT_MAX:
                raise ValidationError(
                    message=f"1 validation error detected: Value at '{field}.1.member.content' failed to satisfy "
                    f"constraint: Member must have length between 1 and {LCC_CONTENT_MAX} (was {len(content)})"
                )


# --- response handlers for the gaps -------------------------------------------------------------


def create_notebook_instance(self):
    backend = self.sagemaker_backend
    subnet = self._get_param("SubnetId")
    if self._get_param("DirectInternetAccess") == "Disabled" and not subnet:
        # AWS: "You can set the value of this parameter to Disabled only if you set a value for SubnetId".
        raise ValidationError(message="DirectInternetAccess can be Disabled only when SubnetId is set.")
    if len(self._get_param("SecurityGroupIds") or []) > MAX_SECURITY_GROUPS:
        raise ValidationError(
            message="1 validation error detected: Value at 'securityGroupIds' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_SECURITY_GROUPS}"
        )
    _check_volume(self._get_param("VolumeSizeInGB"))
    _check_lifecycle_config_exists(backend, self._get_param("LifecycleConfigName"))
    result = _original_create_notebook_instance(self)
    notebook = backend.get_notebook_instance(self._get_param("NotebookInstanceName"))
    notebook.platform_identifier = self._get_param("PlatformIdentifier") or DEFAULT_PLATFORM
    imds = self._get_param("InstanceMetadataServiceConfiguration") or {}
    notebook.imds_version = imds.get("MinimumInstanceMetadataServiceVersion") or DEFAULT_IMDS
    return result


def update_notebook_instance(self):
    backend = self.sagemaker_backend
    notebook = backend.get_notebook_instance(self._get_param("NotebookInstanceName"))
    _require_status(notebook, ("Stopped",), "Updating")
    lcc = self._get_param("LifecycleConfigName")
    if lcc and self._get_param("DisassociateLifecycleConfig"):
        raise ValidationError(message="LifecycleConfigName and DisassociateLifecycleConfig are mutually exclusive.")
    _check_lifecycle_config_exists(backend, lcc)
    _check_volume(self._get_param("VolumeSizeInGB"), current=notebook.volume_size_in_gb)
    instance_type = self._get_param("InstanceType")
    if instance_type:
        notebook.validate_instance_type(instance_type)
    imds = (self._get_param("InstanceMetadataServiceConfiguration") or {}).get("MinimumInstanceMetadataServiceVersion")
    if imds is not None and imds not in ("1", "2"):
        raise ValidationError(message=f"MinimumInstanceMetadataServiceVersion must be 1 or 2, got {imds}.")

    # Validated: apply.  Omitted members leave the attribute as it is (AWS semantics).
    simple = {
        "InstanceType": "instance_type",
        "RoleArn": "role_arn",
        "VolumeSizeInGB": "volume_size_in_gb",
        "RootAccess": "root_access",
        "PlatformIdentifier": "platform_identifier",
        "DefaultCodeRepository": "default_code_repository",
        "AdditionalCodeRepositories": "additional_code_repositories",
        "AcceleratorTypes": "accelerator_types",
        "LifecycleConfigName": "lifecycle_config_name",
    }
    for param, attribute in simple.items():
        value = self._get_param(param)
        if value is not None:
            setattr(notebook, attribute, value)
    disassociate = {
        "DisassociateLifecycleConfig": "lifecycle_config_name",
        "DisassociateDefaultCodeRepository": "default_code_repository",
        "DisassociateAdditionalCodeRepositories": "additional_code_repositories",
        "DisassociateAcceleratorTypes": "accelerator_types",
    }
    for param, attribute in disassociate.items():
        if self._get_param(param):
            setattr(notebook, attribute, None)
    if imds is not None:
        notebook.imds_version = imds
    _transition(notebook, "Updating", "Stopped")
    return EmptyResult()


def _page(self, items, key):
    """Offset pagination with MaxResults/NextToken, as the List* calls do."""
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 10)
    body = {key: items[start : start + size]}
    if start + size < len(items):
        body["NextToken"] = str(start + size)
    return ActionResult(body)


def list_notebook_instances(self):
    # moto ignores NotebookInstanceLifecycleConfigNameContains; AWS filters on the attached config.
    notebooks = list(self.sagemaker_backend.notebook_instances.values())
    filters = {
        "NameContains": lambda n, v: v in n.notebook_instance_name,
        "StatusEquals": lambda n, v: n.status == v,
        "NotebookInstanceLifecycleConfigNameContains": lambda n, v: v in (n.lifecycle_config_name or ""),
    }
    for param, keep in filters.items():
        value = self._get_param(param)
        if value:
            notebooks = [n for n in notebooks if keep(n, value)]
    keys = {
        "Name": lambda n: n.notebook_instance_name,
        "CreationTime": lambda n: n.creation_time,
        "Status": lambda n: n.status,
    }
    notebooks.sort(key=keys[self._get_param("SortBy") or "Name"], reverse=self._get_param("SortOrder") == "Descending")
    return _page(self, [n.to_dict() for n in notebooks], "NotebookInstances")


def create_notebook_instance_lifecycle_config(self):
    name = self._get_param("NotebookInstanceLifecycleConfigName")
    hooks = {"onCreate": self._get_param("OnCreate"), "onStart": self._get_param("OnStart")}
    _check_lifecycle_config_input(name, hooks)
    result = _original_create_lifecycle_config(self)
    config = self.sagemaker_backend.notebook_instance_lifecycle_configurations[name]
    config.tags = list(self._get_param("Tags") or [])
    return result


def update_notebook_instance_lifecycle_config(self):
    name = self._get_param("NotebookInstanceLifecycleConfigName")
    on_create, on_start = self._get_param("OnCreate"), self._get_param("OnStart")
    _check_lifecycle_config_input(name, {"onCreate": on_create, "onStart": on_start})
    backend = self.sagemaker_backend
    config = backend.notebook_instance_lifecycle_configurations.get(name)
    if config is None:
        arn = LifecycleConfig.arn_formatter(name, backend.account_id, backend.region_name)
        raise ValidationError(
            message=f"Unable to update Notebook Instance Lifecycle Config '{arn}'. "
            "(Details: Notebook Instance Lifecycle Config does not exist.)"
        )
    # A given hook list replaces the stored one; an omitted one is kept.
    if on_create is not None:
        config.on_create = on_create
    if on_start is not None:
        config.on_start = on_start
    config.last_modified_time = models.utcnow()
    return EmptyResult()


def list_notebook_instance_lifecycle_configs(self):
    backend = self.sagemaker_backend
    configs = list(backend.notebook_instance_lifecycle_configurations.values())
    contains = self._get_param("NameContains")
    if contains:
        configs = [c for c in configs if contains in c.notebook_instance_lifecycle_config_name]
    sort_by = self._get_param("SortBy") or "CreationTime"
    keys = {
        "Name": lambda c: c.notebook_instance_lifecycle_config_name,
        "CreationTime": lambda c: c.creation_time,
        "LastModifiedTime": lambda c: c.last_modified_time,
    }
    configs.sort(key=keys[sort_by], reverse=(self._get_param("SortOrder") or "Descending") == "Descending")
    summaries = [
        {
            "NotebookInstanceLifecycleConfigName": c.notebook_instance_lifecycle_config_name,
            "NotebookInstanceLifecycleConfigArn": c.arn,
            "CreationTime": c.creation_time,
            "LastModifiedTime": c.last_modified_time,
        }
        for c in configs
    ]
    return _page(self, summaries, "NotebookInstanceLifecycleConfigs")


def _get_resource_from_arn(self, arn, _original=Backend._get_resource_from_arn):
    # Lifecycle configs are taggable on AWS (AddTags/ListTags/DeleteTags take their ARN).
    resource_type, _sep, name = arn.split(":")[-1].partition("/")
    if resource_type == "notebook-instance-lifecycle-config":
        config = self.notebook_instance_lifecycle_configurations.get(name)
        if config is None:
            raise ValidationError(message=f"Could not find resource with ARN {arn}")
        if not hasattr(config, "tags"):
            config.tags = []
        return config
    return _original(self, arn)


def add_tags(self, arn, tags):
    # AWS: adding a tag whose key exists overwrites its value.
    resource = self._get_resource_from_arn(arn)
    keys = {tag["Key"] for tag in tags}
    resource.tags = [t for t in resource.tags if t["Key"] not in keys] + list(tags)
    return resource.tags


_original_create_notebook_instance = responses.SageMakerResponse.create_notebook_instance
_original_create_lifecycle_config = responses.SageMakerResponse.create_notebook_instance_lifecycle_config
_ORIGINAL_S3_RESPONSES = {name: getattr(S3Response, name) for name in ("_key_response", "_bucket_response")}
_ORIGINAL_RULE_INIT = SecurityGroupRule.__init__
_ORIGINAL_CREATE_ENDPOINT = VPCBackend.create_vpc_endpoint
_ORIGINAL_MODIFY_ENDPOINT = VPCBackend.modify_vpc_endpoint
_ORIGINAL_MODIFY_ENDPOINT_RESPONSE = VPCs.modify_vpc_endpoint
_ORIGINAL_COLLECT_SERVICES = VPCBackend._collect_default_endpoint_services
_ORIGINAL_FILTER_SERVICES = VPCBackend._filter_endpoint_services
_APPLIED = []


def apply():
    """Install the patches (idempotent)."""
    if _APPLIED:
        return
    Notebook.status = property(_get_status, _set_status)
    Notebook.start = _notebook_start
    Notebook.stop = _notebook_stop
    Notebook.to_dict = _notebook_to_dict
    Backend.start_notebook_instance = _backend_start
    Backend.stop_notebook_instance = _backend_stop
    Backend._get_resource_from_arn = _get_resource_from_arn
    Backend.add_tags = add_tags
    FakeBucket.get_permission = _bucket_get_permission
    FakeKey.etag = property(_etag)
    for name in ("create_key", "put_key_policy"):
        setattr(KmsResponse, name, _with_lockout_check(getattr(KmsResponse, name)))
    for name in ("schedule_key_deletion", "cancel_key_deletion"):
        setattr(KmsBackend, name, _by_key_id(getattr(KmsBackend, name)))
    SecurityGroupRule.__init__ = _rule_init
    SecurityGroup._flattened_rules = _flattened_rules
    for direction in ("egress", "ingress"):
        name = "update_security_group_rule_descriptions_" + direction
        setattr(SecurityGroups, name, _returning(getattr(SecurityGroups, name)))
    VPCBackend.create_vpc_endpoint = _create_vpc_endpoint
    VPCBackend.modify_vpc_endpoint = _modify_vpc_endpoint
    VPCs.modify_vpc_endpoint = _modify_vpc_endpoint_response
    VPCBackend._collect_default_endpoint_services = staticmethod(_collect_default_endpoint_services)
    VPCBackend._filter_endpoint_services = staticmethod(_filter_endpoint_services)
    for name, original in _ORIGINAL_S3_RESPONSES.items():
        setattr(S3Response, name, _with_request_context(original))
    for handler in (
        create_notebook_instance,
        update_notebook_instance,
        list_notebook_instances,
        create_notebook_instance_lifecycle_config,
        update_notebook_instance_lifecycle_config,
        list_notebook_instance_lifecycle_configs,
    ):
        setattr(responses.SageMakerResponse, handler.__name__, handler)
    from tests.emulator import authz, securityhub

    securityhub.apply()
    authz.apply(caller_context)
    apply_iam_policy_size()
    if CONSISTENCY_SECONDS > 0:
        apply_eventual_consistency()
    _APPLIED.append(True)


# --- S3: bucket-policy conditions see the request ------------------------------------------------
# moto checks object requests against the bucket policy without any request context, so every
# conditional Deny matches everyone.  AWS evaluates condition keys against the request: here
# aws:SecureTransport (TLS or not), aws:PrincipalArn, aws:userid, and aws:SourceVpce/aws:SourceVpc for a
# request a test marks as coming through a VPC endpoint (authz.ENDPOINT_HEADER).  IAM User Guide, "AWS
# global condition context keys":
# aws:PrincipalArn of a role session is "the ARN of the role, not the ARN of the user that assumed the
# role" - the role's own ARN, path included (arn:aws:iam::<acct>:role/aws-reserved/sso.amazonaws.com/
# <region>/AWSReservedSSO_... for IAM Identity Center), which the session ARN does not show;
# aws:userid is "role-id:caller-specified-role-name" for a role session, the unique id for an IAM user
# and the account id for the root user.  Operators follow the IAM reference: a *NotEquals/*NotLike on an absent
# key is true, other operators on an absent key are false, ...IfExists on an absent key is true.

_REQUEST = threading.local()


def _request_context(request, full_url):
    context = {"aws:SecureTransport": "true" if full_url.startswith("https") else "false"}
    credential = re.search(r"Credential=([^/]+)/", request.headers.get("Authorization", ""))
    if credential:
        context.update(caller_context(credential.group(1)))
    region = re.search(r"Credential=[^/]+/[0-9]+/([a-z0-9-]+)/", request.headers.get("Authorization", ""))
    if region:
        from tests.emulator import authz

        where = {"account": ACCOUNT_ID, "region": region.group(1)}
        context.update(authz.endpoint_context(authz.endpoint_behind(dict(request.headers), where)))
    return context


def caller_context(access_key_id):
    """aws:userid and aws:PrincipalArn of the caller that signed with ``access_key_id``."""
    from moto.sts.models import sts_backends

    backend = sts_backends[ACCOUNT_ID]["global"]
    user_id, arn, _account = backend.get_caller_identity(access_key_id, "us-east-1")
    return {"aws:userid": user_id, "aws:PrincipalArn": _principal_arn(backend, access_key_id, arn)}


def _principal_arn(sts_backend, access_key_id, arn):
    """The caller's role ARN with its path for a role session (the role as IAM holds it), else its ARN."""
    assumed = sts_backend.get_assumed_role_from_access_key(access_key_id)
    if assumed is None:
        return arn
    from moto.iam.models import iam_backends

    try:
        return iam_backends[ACCOUNT_ID]["aws"].get_role(assumed.role_arn.rsplit("/", 1)[-1]).arn
    except Exception:  # noqa: BLE001 - a role deleted since: AWS still names the ARN it was assumed by
        return assumed.role_arn


def evaluate_bucket_policy(policy, action, resource, context):
    """Explicit Deny wins, then any Allow; otherwise neutral (IAM evaluation logic, authz.evaluate:
    one evaluator for identity and bucket policies)."""
    from moto.iam.access_control import PermissionResult

    from tests.emulator import authz

    decision, _allows, _denies = authz.evaluate([policy], action, resource, context)
    results = {"deny": PermissionResult.DENIED, "allow": PermissionResult.PERMITTED}
    return results.get(decision, PermissionResult.NEUTRAL)


def _bucket_get_permission(self, action, resource):
    from moto.iam.access_control import PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    context = getattr(_REQUEST, "context", None) or {}
    return evaluate_bucket_policy(json.loads(self.policy), action, resource, context)


def _with_request_context(original):
    # Object requests and bucket requests alike: DeleteObjects (POST /bucket?delete) checks
    # s3:DeleteObject on each key against the bucket policy, so it needs the same context.
    def respond(self, request, full_url):
        _REQUEST.context = _request_context(request, full_url)
        try:
            return original(self, request, full_url)
        finally:
            _REQUEST.context = None

    return respond


# --- EC2: VPC endpoints --------------------------------------------------------------------------
# AWS: VpcEndpointType defaults to Gateway; ModifyVpcEndpoint's Add/RemoveRouteTableIds add and
# remove the service's prefix-list route in those tables (as CreateVpcEndpoint does), and its
# PrivateDnsEnabled applies to interface endpoints.  moto does none of the three.


# AWS: private DNS of an interface endpoint needs both DNS attributes of the VPC.  EC2 API reference,
# CreateVpcEndpoint PrivateDnsEnabled (botocore ec2 model): "To use a private hosted zone, you must set
# the following VPC attributes to true: enableDnsHostnames and enableDnsSupport"; PrivateDnsEnabled
# defaults to true for AWS services.  AWS refuses with InvalidParameter "Enabling private DNS requires
# both enableDnsSupport and enableDnsHostnames VPC attributes set to true for <vpc>" (seen in public
# threads); moto accepts it.  A new non-default VPC has enableDnsHostnames false (moto too).


def _require_private_dns_attributes(backend, vpc_id):
    from moto.ec2.exceptions import EC2ClientError

    vpc = backend.get_vpc(vpc_id)
    if not all(str(getattr(vpc, a)).lower() == "true" for a in ("enable_dns_support", "enable_dns_hostnames")):
        raise EC2ClientError(
            "InvalidParameter",
            f"Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to "
            f"true for {vpc_id}",
        )


# --- EC2: the endpoint services offered -----------------------------------------------------------
# Service names.  In the China regions AWS lists most interface services as
# cn.com.amazonaws.<region>.<service>, not com.amazonaws.<region>.<service>, while gateway services
# (S3, DynamoDB) keep com.amazonaws: DescribeVpcEndpointServices output in cn-north-1 and
# cn-northwest-1 quoted by AWS engineers in aws/aws-cdk#25329 and #16139 (no AWS document lists
# them).  moto names every service com.amazonaws.  The ones renamed here are those in that output.
CN_PREFIXED_INTERFACE_SERVICES = frozenset(
    (
        "application-autoscaling athena autoscaling cloudformation ebs ec2 ecr.api ecr.dkr elasticfilesystem "
        "execute-api kinesis-streams lambda monitoring rds redshift s3 sagemaker.api sagemaker.runtime "
        "sagemaker.featurestore-runtime"
    ).split()
)
# Zones.  An endpoint service need not be offered in every zone of its region (AWS Knowledge Center,
# "Why can't I select an Availability Zone for my interface VPC endpoint": "Service not supported in
# this Availability Zone"); DescribeVpcEndpointServices lists the zones it is offered in, and
# CreateVpcEndpoint refuses a subnet elsewhere with InvalidParameter "The VPC endpoint service <name>
# does not support the availability zone of the subnet: <subnet>." (quoted in public threads, e.g.
# terraform-aws-modules/terraform-aws-vpc#462, #785).  moto offers every service everywhere; here the
# SageMaker API is not offered in us-east-1e, the zone public threads most often report missing
# newer services (which zone lacks what differs by account: this is one such case, not a claim).
UNOFFERED_ZONES = {"sagemaker.api": ("us-east-1e",)}
_ADJUSTED_REGIONS = set()


def _adjust_services(services, region):
    for detail in services:
        prefix = "com.amazonaws.%s." % region
        name = detail["ServiceName"]
        if not name.startswith(prefix):
            continue
        short = name[len(prefix) :]
        types = {t["ServiceType"] for t in detail["ServiceType"]}
        if region.startswith("cn-") and "Interface" in types and short in CN_PREFIXED_INTERFACE_SERVICES:
            detail["ServiceName"] = "cn." + name
        gone = UNOFFERED_ZONES.get(short, ())
        detail["AvailabilityZones"] = [z for z in detail["AvailabilityZones"] if z not in gone]


def _collect_default_endpoint_services(account_id, region):
    services = _ORIGINAL_COLLECT_SERVICES(account_id, region)
    # moto builds the list once per region and keeps it: adjust it once.
    if region not in _ADJUSTED_REGIONS:
        _ADJUSTED_REGIONS.add(region)
        _adjust_services(services, region)
    return services


def _filter_endpoint_services(service_names_filters, filters, services):
    # moto reads a filter's values from "Value", the wire form gives "Values": it failed with HTTP 500
    # on a service-name filter.  DescribeVpcEndpointServices Filters are Name + Values (API reference).
    filters = [dict(f, Value=f.get("Values", f.get("Value", []))) for f in filters or []]
    return _ORIGINAL_FILTER_SERVICES(service_names_filters, filters, services)


def _offered_service(backend, name, kind):
    """The ServiceDetail of ``name`` offered as a ``kind`` endpoint in the backend's region, or None."""
    services = VPCBackend._collect_default_endpoint_services(backend.account_id, backend.region_name)
    custom = [c.to_dict() for c in getattr(backend, "configurations", {}).values()]
    for detail in services + custom:
        if detail["ServiceName"] == name and kind in {t["ServiceType"] for t in detail["ServiceType"]}:
            return detail
    return None


def _require_offered_zones(backend, detail, subnet_ids):
    from moto.ec2.exceptions import EC2ClientError

    for subnet_id in subnet_ids or []:
        if backend.get_subnet(subnet_id).availability_zone not in detail["AvailabilityZones"]:
            raise EC2ClientError(
                "InvalidParameter",
                "The VPC endpoint service %s does not support the availability zone of the subnet: %s."
                % (detail["ServiceName"], subnet_id),
            )


def _create_vpc_endpoint(self, *args, **kwargs):
    from moto.ec2.exceptions import EC2ClientError

    kwargs["endpoint_type"] = kwargs.get("endpoint_type") or "Gateway"
    # AWS: a name EC2 does not offer (as this type) is refused: InvalidServiceName "The Vpc Endpoint
    # Service '<name>' does not exist" (quoted in aws/aws-cdk#9864, #14721 for com.amazonaws names in
    # cn-north-1); moto accepts any name.
    detail = _offered_service(self, kwargs["service_name"], kwargs["endpoint_type"].capitalize())
    if detail is None:
        raise EC2ClientError(
            "InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist" % kwargs["service_name"]
        )
    if kwargs["endpoint_type"].lower() == "interface":
        if kwargs.get("private_dns_enabled") is not False:
            _require_private_dns_attributes(self, kwargs.get("vpc_id") or args[0])
        _require_offered_zones(self, detail, kwargs.get("subnet_ids"))
    return _ORIGINAL_CREATE_ENDPOINT(self, *args, **kwargs)


def _modify_vpc_endpoint(self, vpc_id, **changes):
    endpoint = self.describe_vpc_endpoints(vpc_end_point_ids=[vpc_id])[0]
    if changes.get("add_subnets"):
        detail = _offered_service(self, endpoint.service_name, "Interface")
        if detail is not None:
            _require_offered_zones(self, detail, changes["add_subnets"])
    _ORIGINAL_MODIFY_ENDPOINT(self, vpc_id=vpc_id, **changes)
    add_route_tables, remove_route_tables = changes.get("add_route_tables"), changes.get("remove_route_tables")
    prefix_list = endpoint.destination_prefix_list_id
    if not prefix_list:
        return
    for table in add_route_tables or []:
        self.create_route(table, None, gateway_id=endpoint.id, destination_prefix_list_id=prefix_list)
    for table in remove_route_tables or []:
        self.delete_route(table, None, destination_prefix_list_id=prefix_list)


def _modify_vpc_endpoint_response(self):
    private_dns = self._get_param("PrivateDnsEnabled")
    endpoint = self.ec2_backend.describe_vpc_endpoints(vpc_end_point_ids=[self._get_param("VpcEndpointId")])[0]
    interface = (endpoint.vpc_endpoint_type or "").lower() == "interface"
    if interface and str(private_dns).lower() == "true":
        _require_private_dns_attributes(self.ec2_backend, endpoint.vpc_id)
    result = _ORIGINAL_MODIFY_ENDPOINT_RESPONSE(self)
    if private_dns is not None and interface:
        endpoint.private_dns_enabled = str(private_dns).lower() == "true"
    return result


# --- EC2: security group rules that name a prefix list --------------------------------------------
# AWS keeps a rule's Description on a PrefixListIds entry (as on IpRanges) and answers
# UpdateSecurityGroupRuleDescriptions* with Return=true; moto drops the description and returns
# nothing, so every re-run would see a changed rule.


def _rule_init(self, *args, **kwargs):
    _ORIGINAL_RULE_INIT(self, *args, **kwargs)
    # prefix_list_id is the 8th positional parameter (after ec2_backend ... source_group).
    entry = kwargs.get("prefix_list_id") if "prefix_list_id" in kwargs else (args[7] if len(args) > 7 else None)
    self.prefix_list_entry = dict(entry) if entry else None


def _flattened_rules(self, rules):
    views = []
    for rule in rules:
        view = next(
            (
                v
                for v in views
                if (v.from_port, v.to_port, v.ip_protocol) == (rule.from_port, rule.to_port, rule.ip_protocol)
            ),
            None,
        )
        if view is None:
            view = GroupedSecurityRuleView(rule.from_port, rule.to_port, rule.ip_protocol)
            views.append(view)
        if rule.ip_range:
            view.all_ip_ranges.append(rule.ip_range)
        if rule.source_group:
            view.source_groups.append(rule.source_group)
        if rule.prefix_list_id:
            view.prefix_list_ids.append(
                getattr(rule, "prefix_list_entry", None) or {"PrefixListId": rule.prefix_list_id}
            )
    return views


def _returning(handler):
    def update_descriptions(self):
        handler(self)
        return ActionResult({"Return": True})

    return update_descriptions


# --- IAM: identity policies are evaluated by authz.py (resources, conditions, implied actions) ---

_IAM_ORIGINALS = {}


# --- S3: the ETag of an SSE-KMS object ------------------------------------------------------------
# Amazon S3 API Reference, Object (ETag): "Objects encrypted by SSE-C or SSE-KMS have ETags that are
# not an MD5 digest of their object data."  moto gives every object the MD5 of its data, so a client
# that compares ETags with a local MD5 (amazon.aws.s3_object overwrite=different) would find SSE-KMS
# objects unchanged here and changed, upload after upload, on AWS.  Which digest AWS uses is not
# documented: here an MD5 over the data and the key id, stable per object version like AWS's.
def _etag(self, _original=FakeKey.etag):
    if self.encryption != "aws:kms":
        return _original.fget(self)
    if self.__dict__.get("_kms_etag") is None:
        digest = hashlib.md5(usedforsecurity=False)
        self._value_buffer.seek(0)
        for block in iter(lambda: self._value_buffer.read(1 << 20), b""):
            digest.update(block)
        digest.update(b"\0sse-kms\0" + str(self.kms_key_id).encode())
        self.__dict__["_kms_etag"] = digest.hexdigest()
    return '"%s"' % self.__dict__["_kms_etag"]


# --- KMS: the key policy lockout safety check ---------------------------------------------------
# KMS API Reference, CreateKey and PutKeyPolicy, Policy: "The key policy must allow the calling
# principal to make a subsequent PutKeyPolicy request on the KMS key" unless
# BypassPolicyLockoutSafetyCheck is true; AWS refuses with MalformedPolicyDocumentException "The new
# key policy will not allow you to update the key policy in the future."  moto takes any policy.  The
# check here evaluates the new policy's statements that name the caller or its account (authz.py,
# key_policy_decision) for kms:PutKeyPolicy with the caller's aws:userid and aws:PrincipalArn; that
# AWS's check evaluates those condition keys is not documented (an assumption, docs/encryption.md).
LOCKOUT_MESSAGE = "The new key policy will not allow you to update the key policy in the future."


def _check_lockout(response):
    from moto.core.exceptions import JsonRESTError

    from tests.emulator import authz

    policy = response._get_param("Policy")
    if not policy or response._get_param("BypassPolicyLockoutSafetyCheck"):
        return
    credential = re.search(r"Credential=([^/]+)/", response.headers.get("Authorization", ""))
    if not credential:
        return
    account = response.current_account
    context = dict(
        caller_context(credential.group(1)), **{"kms:CallerAccount": account, "aws:PrincipalAccount": account}
    )
    principals = [context["aws:PrincipalArn"]]
    if authz.key_policy_decision(json.loads(policy), response.current_account, principals, "kms:PutKeyPolicy",
                                 context) != "allow":  # fmt: skip
        raise JsonRESTError("MalformedPolicyDocumentException", LOCKOUT_MESSAGE)


def _with_lockout_check(original):
    def respond(self):
        _check_lockout(self)
        return original(self)

    return respond


# KMS API Reference, ScheduleKeyDeletion and CancelKeyDeletion, KeyId: "Specify the key ID or key ARN
# of the KMS key"; moto looks a key ARN up as if it were an id and fails with HTTP 500.
def _by_key_id(original):
    def call(self, key_id, *args, **kwargs):
        return original(self, self.get_key_id(key_id), *args, **kwargs)

    return call


# --- IAM: the managed-policy size quota ---------------------------------------------------------
# IAM and AWS STS quotas: a managed policy holds at most 6,144 characters, and "IAM does not count
# white space when calculating the size of a policy against this quota".  AWS answers CreatePolicy and
# CreatePolicyVersion over it with LimitExceeded "Cannot exceed quota for PolicySize: 6144"; moto
# accepts any size.
POLICY_SIZE_QUOTA = 6144


def _policy_size(document):
    return sum(1 for character in document if not character.isspace())


def _check_policy_size(document):
    from moto.iam.exceptions import LimitExceededException

    if _policy_size(document) > POLICY_SIZE_QUOTA:
        raise LimitExceededException("Cannot exceed quota for PolicySize: %d" % POLICY_SIZE_QUOTA)


def apply_iam_policy_size():
    from moto.iam.models import IAMBackend

    if "create_policy" in _IAM_ORIGINALS:
        return
    for name in ("create_policy", "create_policy_version"):
        _IAM_ORIGINALS[name] = getattr(IAMBackend, name)
    IAMBackend.create_policy = _create_policy
    IAMBackend.create_policy_version = _create_policy_version


def _create_policy(self, description, path, policy_document, *args, **kwargs):
    _check_policy_size(policy_document)
    return _IAM_ORIGINALS["create_policy"](self, description, path, policy_document, *args, **kwargs)


def _create_policy_version(self, policy_arn, policy_document, *args, **kwargs):
    _check_policy_size(policy_document)
    return _IAM_ORIGINALS["create_policy_version"](self, policy_arn, policy_document, *args, **kwargs)


# --- eventual consistency (EMULATOR_CONSISTENCY_SECONDS=N) -------------------------------------
# AWS APIs are eventually consistent, and moto is not:
# - EC2 API reference, "Eventual consistency": a resource just created may not be returned by a
#   describe call for a while (InvalidVpcEndpointId.NotFound for a new VPC endpoint);
# - SageMaker answers DescribeNotebookInstance of a notebook just created with RecordNotFound at times
#   (Terraform's provider waits out NotFound after CreateNotebookInstance);
# - IAM: "changes ... take time to become visible" - a role just created is not assumable by a service
#   for seconds; CreateNotebookInstance then answers ValidationException "Could not assume role ...";
# - StartNotebookInstance "sometimes doesn't take" (Terraform's provider re-sends it when the status
#   does not change within 30 s).
# With N > 0: a notebook or VPC endpoint is not found by id for N s after its creation, a role is not
# assumable by SageMaker for N s after its creation, and each notebook's first start is accepted and
# ignored.


def _young(obj):
    created = obj.__dict__.get("_created_monotonic")
    return created is not None and time.monotonic() - created < CONSISTENCY_SECONDS


def _born(obj):
    obj.__dict__["_created_monotonic"] = time.monotonic()
    return obj


_EC_ORIGINALS = {}


def _ec_create_role(self, *args, **kwargs):
    return _born(_EC_ORIGINALS["create_role"](self, *args, **kwargs))


def _ec_create_notebook_instance(self):
    from moto.iam.models import iam_backends

    role_arn = self._get_param("RoleArn") or ""
    try:
        role = iam_backends[ACCOUNT_ID]["aws"].get_role(role_arn.rsplit("/", 1)[-1])
    except Exception:  # noqa: BLE001 - no such role: the original handler answers as it does
        role = None
    if role is not None and _young(role):
        raise ValidationError(
            message=f"Could not assume role {role_arn}. Please ensure that the role exists and allows principal "
            "'sagemaker.amazonaws.com' to assume the role."
        )
    result = _EC_ORIGINALS["create_notebook_instance"](self)
    _born(self.sagemaker_backend.get_notebook_instance(self._get_param("NotebookInstanceName")))
    return result


def _ec_describe_notebook_instance(self):
    name = self._get_param("NotebookInstanceName")
    notebook = self.sagemaker_backend.notebook_instances.get(name)
    if notebook is not None and _young(notebook):
        raise ValidationError(message="RecordNotFound")
    return _EC_ORIGINALS["describe_notebook_instance"](self)


def _ec_start(self, notebook_instance_name):
    notebook = self.get_notebook_instance(notebook_instance_name)
    _require_status(notebook, ("Stopped", "Failed"), "Pending")
    if not notebook.__dict__.get("_start_ignored"):
        notebook.__dict__["_start_ignored"] = True
        return None
    return _EC_ORIGINALS["start_notebook_instance"](self, notebook_instance_name)


def _ec_create_vpc_endpoint(self, *args, **kwargs):
    return _born(_EC_ORIGINALS["create_vpc_endpoint"](self, *args, **kwargs))


def _ec_describe_vpc_endpoints(self, vpc_end_point_ids=None, filters=None):
    from moto.ec2.exceptions import InvalidVpcEndPointIdError

    found = _EC_ORIGINALS["describe_vpc_endpoints"](self, vpc_end_point_ids=vpc_end_point_ids, filters=filters)
    if vpc_end_point_ids:
        for endpoint in found:
            if _young(endpoint):
                raise InvalidVpcEndPointIdError(endpoint.id)
    return found


def apply_eventual_consistency():
    from moto.iam.models import IAMBackend

    if _EC_ORIGINALS:
        return
    _EC_ORIGINALS.update(
        create_role=IAMBackend.create_role,
        create_notebook_instance=responses.SageMakerResponse.create_notebook_instance,
        describe_notebook_instance=responses.SageMakerResponse.describe_notebook_instance,
        start_notebook_instance=Backend.start_notebook_instance,
        create_vpc_endpoint=VPCBackend.create_vpc_endpoint,
        describe_vpc_endpoints=VPCBackend.describe_vpc_endpoints,
    )
    IAMBackend.create_role = _ec_create_role
    responses.SageMakerResponse.create_notebook_instance = _ec_create_notebook_instance
    responses.SageMakerResponse.describe_notebook_instance = _ec_describe_notebook_instance
    Backend.start_notebook_instance = _ec_start
    VPCBackend.create_vpc_endpoint = _ec_create_vpc_endpoint
    VPCBackend.describe_vpc_endpoints = _ec_describe_vpc_endpoints
