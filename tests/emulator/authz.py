# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request authorization as AWS evaluates identity policies, once authorization is on.

moto checks the signature and the caller's policies, but with resource ``*`` for every service but
S3 and IAM roles, with every Condition it does not know taken as failed (an Allow with a condition
becomes a Deny), without the permissions a request implies (``iam:PassRole``, tagging on create),
and with S3 sub-resources mapped to actions that do not exist (``s3:HeadBucket``) or to the wrong
one (``GET ?encryption`` as ``s3:ListBucket``).  A policy scoped as AWS needs it would then fail
here, and one that AWS refuses would pass.  This module replaces the identity evaluation:

- **Which resources and condition keys an action has** come from the Service Authorization
  Reference, read in its machine-readable form (parliament's ``iam_definition.json``, generated
  from https://docs.aws.amazon.com/service-authorization/latest/reference/): an ARN counts only for
  the resource types the reference lists for the action (``*`` otherwise), built from the
  reference's ARN template, and a request carries only the condition keys the reference lists for
  that action and resource type, plus the global ones (IAM User Guide, "AWS global condition
  context keys").
- **Evaluation** (IAM User Guide, "Policy evaluation logic"): an explicit Deny wins, then any Allow,
  else the request is implicitly denied; every resource of a request must be allowed.
- **Implied permissions** (the reference's "Dependent actions" column): ``iam:PassRole`` on the
  role a notebook is created or updated with, with ``iam:PassedToService`` (IAM User Guide,
  "Grant a user permissions to pass a role to an AWS service"); ``sagemaker:AddTags`` when a
  SageMaker resource is created with tags; ``ec2:CreateTags`` with ``ec2:CreateAction`` when an EC2
  resource is created with a TagSpecification (EC2 User Guide, "Grant permission to tag Amazon EC2
  resources during creation"); ``route53:AssociateVPCWithHostedZone`` for an interface endpoint
  with private DNS.
- **Denials** use each service's code and AWS's message form (IAM User Guide, "Troubleshoot access
  denied error messages"): ``User: <arn> is not authorized to perform: <action> on resource:
  <arn> because no identity-based policy allows the <action> action``; EC2 answers
  ``UnauthorizedOperation``, SageMaker ``AccessDeniedException`` (HTTP 400), IAM and STS
  ``AccessDenied`` (403); S3 keeps moto's ``AccessDenied`` 403.

- **VPC endpoints** (AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint
  policies"): a test client stands behind an endpoint by sending the header ``ENDPOINT_HEADER``
  with the endpoint's id (the harness's ``behind_endpoint``; nothing in AWS sends it).  Its request
  then carries ``aws:SourceVpce`` and ``aws:SourceVpc`` (IAM User Guide, global condition keys), and
  it must also be allowed by the endpoint's policy: "An endpoint policy does not override or
  replace identity-based policies or resource-based policies", so an explicit Deny or no Allow
  there denies.  In a gateway endpoint's policy a statement applies to a role only with Principal
  ``*`` (and then its aws:PrincipalArn condition decides): "With gateway endpoints, you must use the
  aws:PrincipalArn condition key to grant access to a principal"; an account there means "only the
  AWS account root user".  In an interface endpoint's policy an account means its principals.
- **Bucket policies on bucket requests**: moto checks a bucket policy for object requests only
  (gaps.py gives it the request's context); here an explicit Deny of the bucket policy denies bucket
  requests (ListBucket, ...) as well: an explicit deny in any policy that applies overrides every
  allow (IAM User Guide, "Policy evaluation logic"), and a bucket policy's Resource names the bucket itself
  as well as its objects (Amazon S3 User Guide, "Bucket policies for Amazon S3").  An Allow in a
  bucket policy is not counted (the identity policy must allow): stricter than AWS for the same
  account, never looser.

Every decision is logged: ``GET /moto-api/authorization-log`` returns ``[{action, resource,
principal, allowed_by: [Sid, ...], denied_by: [...]}]``, ``DELETE`` returns it and clears it (a
test instrument, like the request counter).
"""

import fnmatch
import functools
import io
import json
import os
import re
import threading
import urllib.parse

from moto.core.exceptions import JsonRESTError, _RESTError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.responses import S3Response

from tests.emulator import harness

LOG_PATH = "/moto-api/authorization-log"
_LOG = []
_LOCK = threading.Lock()
_SCHEME = threading.local()
ENDPOINT_HEADER = harness.ENDPOINT_HEADER
# The request's service as the endpoint's service name ends (com.amazonaws.<region>.<name>).
ENDPOINT_SERVICES = {"s3": "s3", "sagemaker": "sagemaker.api", "logs": "logs", "kms": "kms", "sts": "sts"}
GLOBAL_KEYS = (
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:userid",
    "aws:SecureTransport",
    "aws:username",
    "aws:SourceVpce",
    "aws:SourceVpc",
)


# --- the Service Authorization Reference ----------------------------------------------------------


@functools.lru_cache(maxsize=1)
def reference():
    """{prefix: {"actions": {Action: {resource_type: [condition keys]}}, "arns": {type: template},
    "resource_keys": {type: [condition keys]}}}: a resource type's own keys (the reference's resource
    types table: aws:ResourceTag of a KMS key), see Check.effective."""
    import parliament

    path = os.path.join(os.path.dirname(parliament.__file__), "iam_definition.json")
    with open(path, encoding="utf-8") as handle:
        services = json.load(handle)
    found = {}
    for service in services:
        entry = found.setdefault(service["prefix"], {"actions": {}, "arns": {}, "resource_keys": {}})
        for privilege in service["privileges"]:
            types = entry["actions"].setdefault(privilege["privilege"], {})
            for row in privilege["resource_types"]:
                types[row["resource_type"].rstrip("*")] = list(row.get("condition_keys") or [])
        for resource in service["resources"]:
            entry["arns"][resource["resource"]] = resource["arn"]
            entry["resource_keys"][resource["resource"]] = list(resource.get("condition_keys") or [])
    return found


def resource_types(action):
    """The resource types the reference lists for ``prefix:Action`` ('' is the action-level row)."""
    prefix, name = action.split(":", 1)
    return reference().get(prefix, {}).get("actions", {}).get(name, {})


def arn_of(prefix, kind, partition, region, account, *names):
    """The reference's ARN template for ``kind`` with its ``${...}`` names filled in, in order."""
    template = reference()[prefix]["arns"][kind]
    values = {"Partition": partition, "Region": region, "Account": account}
    slots = [slot for slot in re.findall(r"\$\{(\w+)\}", template) if slot not in values]
    values.update(zip(slots, names, strict=False))
    return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), "*"), template)


def _listed(keys, key):
    for pattern in keys:
        # A key with a variable part: aws:RequestTag/${TagKey}, kms:EncryptionContext:${EncryptionContextKey}.
        stem = re.sub(r"\$\{\w+\}$", "", pattern)
        if pattern == key or (stem != pattern and key.startswith(stem) and len(key) > len(stem)):
            return True
    return False


class Check:
    """One authorization AWS makes for a request: an action on one resource, with its context."""

    def __init__(self, action, resource, kind="", context=None, key_policy=None):
        self.action, self.resource, self.kind, self.context = action, resource, kind, dict(context or {})
        # A KMS key's policy: KMS authorizes by it first (see key_policy_decision).
        self.key_policy = key_policy

    def effective(self, global_context):
        """(resource, context) as the reference allows them for this action and resource type."""
        types = resource_types(self.action)
        resource = self.resource if self.kind in types else "*"
        keys = types.get("", [])
        if self.kind in types:
            # An action row that lists keys for the resource type is complete (EC2 lists ec2:Vpc for
            # DeleteSecurityGroup, not for CreateVpcEndpoint); one that lists none takes the resource
            # type's own keys: the reference's resource types table lists the keys "you can use with
            # the resource type" (a KMS key's aws:ResourceTag, which "ABAC for AWS KMS" uses for key
            # operations).  That combination is this emulator's reading of the reference.
            prefix = self.action.split(":", 1)[0]
            keys = keys + (types[self.kind] or reference()[prefix]["resource_keys"].get(self.kind, []))
        context = {k: v for k, v in self.context.items() if _listed(keys, k)}
        context.update({k: v for k, v in global_context.items() if k in GLOBAL_KEYS})
        return resource, context


# --- what each request asks for --------------------------------------------------------------------


def _tags(pairs):
    found = {}
    for key, value in pairs:
        found["aws:RequestTag/" + key] = value
    if found:
        found["aws:TagKeys"] = [key for key, _value in pairs]
    return found


def _indexed(params, stem):
    """EC2 query lists: ``SubnetId.1``, ``SubnetId.2``, ... in order."""
    pattern = re.compile(r"^%s\.(\d+)$" % re.escape(stem))
    return [v for _n, v in sorted((int(m.group(1)), params[k]) for k in params for m in [pattern.match(k)] if m)]


def _ec2_tag_specification(params, kind):
    pairs, index = [], 1
    while "TagSpecification.%d.ResourceType" % index in params:
        if params["TagSpecification.%d.ResourceType" % index] == kind:
            member = 1
            while "TagSpecification.%d.Tag.%d.Key" % (index, member) in params:
                key = params["TagSpecification.%d.Tag.%d.Key" % (index, member)]
                pairs.append((key, params.get("TagSpecification.%d.Tag.%d.Value" % (index, member), "")))
                member += 1
        index += 1
    return pairs


def _ec2_backend(account, region):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _ec2_resource(where, resource_id):
    """(kind, ARN, context) of an existing EC2 resource: its tags, its VPC."""
    backend = _ec2_backend(where["account"], where["region"])
    kinds = {"sg-": "security-group", "vpce-": "vpc-endpoint", "subnet-": "subnet", "rtb-": "route-table",
             "vpc-": "vpc"}  # fmt: skip
    kind = next(kind for prefix, kind in kinds.items() if resource_id.startswith(prefix))
    context = {"aws:ResourceTag/" + k: v for k, v in backend.tags.get(resource_id, {}).items()}
    vpc_id = None
    if kind == "security-group":
        group = backend.get_security_group_from_id(resource_id)
        vpc_id = group.vpc_id if group else None
    elif kind == "subnet":
        vpc_id = backend.get_subnet(resource_id).vpc_id
    elif kind == "route-table":
        vpc_id = backend.get_route_table(resource_id).vpc_id
    elif kind == "vpc-endpoint":
        endpoint = backend.vpc_end_points.get(resource_id)
        if endpoint is not None:
            context["ec2:VpceServiceName"] = endpoint.service_name
    if vpc_id:
        context["ec2:Vpc"] = _arn(where, "ec2", "vpc", vpc_id)
    id_key = {"security-group": "SecurityGroup", "subnet": "Subnet", "route-table": "RouteTable", "vpc": "Vpc"}
    context["ec2:%sID" % id_key.get(kind, "Resource")] = resource_id
    return kind, _arn(where, "ec2", kind, resource_id), context


def _arn(where, prefix, kind, *names):
    return arn_of(prefix, kind, where["partition"], where["region"], where["account"], *names)


def _created_with_tags(where, action, kind, params, extra=None):
    """The created resource (ARN with ``*``: it has no id yet), and ec2:CreateTags if tagged."""
    pairs = _ec2_tag_specification(params, kind)
    checks = [Check(action, _arn(where, "ec2", kind, "*"), kind, dict(_tags(pairs), **(extra or {})))]
    if pairs:
        context = dict(_tags(pairs), **{"ec2:CreateAction": action.split(":")[1]})
        checks.append(Check("ec2:CreateTags", _arn(where, "ec2", kind, "*"), kind, context))
    return checks


def ec2_checks(where, action, params):
    name = action.split(":")[1]
    existing = functools.partial(_ec2_resource, where)
    checks = []
    if name == "DescribeVpcAttribute":
        checks.append(Check(action, *_vpc(where, params["VpcId"])))
    elif name == "CreateSecurityGroup":
        checks += _created_with_tags(where, action, "security-group", params)
        checks.append(Check(action, *_vpc(where, params["VpcId"])))
    elif name in ("AuthorizeSecurityGroupEgress", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress",
                  "RevokeSecurityGroupIngress", "DeleteSecurityGroup", "UpdateSecurityGroupRuleDescriptionsEgress",
                  "UpdateSecurityGroupRuleDescriptionsIngress"):  # fmt: skip
        kind, arn, context = existing(params["GroupId"])
        checks.append(Check(action, arn, kind, context))
    elif name == "CreateVpcEndpoint":
        service = {"ec2:VpceServiceName": params.get("ServiceName", ""), "ec2:VpceServiceOwner": "amazon"}
        checks += _created_with_tags(where, action, "vpc-endpoint", params, service)
        checks.append(Check(action, *_vpc(where, params["VpcId"])))
        for stem in ("RouteTableId", "SubnetId", "SecurityGroupId"):
            for resource_id in _indexed(params, stem):
                kind, arn, context = existing(resource_id)
                checks.append(Check(action, arn, kind, context))
        if params.get("PrivateDnsEnabled", "false").lower() == "true":
            checks.append(Check("route53:AssociateVPCWithHostedZone", "*"))
    elif name == "ModifyVpcEndpoint":
        kind, arn, context = existing(params["VpcEndpointId"])
        checks.append(Check(action, arn, kind, context))
        for stem in ("AddRouteTableId", "RemoveRouteTableId", "AddSubnetId", "RemoveSubnetId",
                     "AddSecurityGroupId", "RemoveSecurityGroupId"):  # fmt: skip
            for resource_id in _indexed(params, stem):
                kind, arn, context = existing(resource_id)
                checks.append(Check(action, arn, kind, context))
    elif name == "DeleteVpcEndpoints":
        for resource_id in _indexed(params, "VpcEndpointId"):
            kind, arn, context = existing(resource_id)
            checks.append(Check(action, arn, kind, context))
    elif name in ("CreateTags", "DeleteTags"):
        pairs, member = [], 1
        while "Tag.%d.Key" % member in params:
            pairs.append((params["Tag.%d.Key" % member], params.get("Tag.%d.Value" % member, "")))
            member += 1
        for resource_id in _indexed(params, "ResourceId"):
            kind, arn, context = existing(resource_id)
            checks.append(Check(action, arn, kind, dict(context, **_tags(pairs))))
    return checks or [Check(action, "*")]


def _vpc(where, vpc_id):
    return _arn(where, "ec2", "vpc", vpc_id), "vpc", {"ec2:VpcID": vpc_id}


def sagemaker_checks(where, action, body):
    """Notebooks and lifecycle configurations by name (SageMaker ARNs carry the name in lower case:
    DescribeNotebookInstance returns ``notebook-instance/<name lowered>``), tags by ResourceArn."""
    checks = []
    if "NotebookInstanceName" in body:
        arn = _arn(where, "sagemaker", "notebook-instance", body["NotebookInstanceName"].lower())
        context = {}
        if action == "sagemaker:CreateNotebookInstance":
            context = dict(_sagemaker_tags(body), **{
                "sagemaker:InstanceTypes": body.get("InstanceType"),
                "sagemaker:RootAccess": body.get("RootAccess"),
                "sagemaker:DirectInternetAccess": body.get("DirectInternetAccess"),
                "sagemaker:VpcSubnets": [body["SubnetId"]] if body.get("SubnetId") else None,
                "sagemaker:VpcSecurityGroupIds": body.get("SecurityGroupIds"),
                "sagemaker:VolumeKmsKey": body.get("KmsKeyId"),
            })  # fmt: skip
        checks.append(Check(action, arn, "notebook-instance", {k: v for k, v in context.items() if v is not None}))
        if action in ("sagemaker:CreateNotebookInstance", "sagemaker:UpdateNotebookInstance") and body.get("RoleArn"):
            passed = {"iam:PassedToService": "sagemaker.amazonaws.com"}
            checks.append(Check("iam:PassRole", body["RoleArn"], "role", passed))
        if body.get("Tags"):
            checks.append(Check("sagemaker:AddTags", arn, "notebook-instance", _tagging(action, body)))
    elif "NotebookInstanceLifecycleConfigName" in body:
        kind = "notebook-instance-lifecycle-config"
        arn = _arn(where, "sagemaker", kind, body["NotebookInstanceLifecycleConfigName"].lower())
        checks.append(Check(action, arn, kind, _sagemaker_tags(body)))
        if body.get("Tags"):
            checks.append(Check("sagemaker:AddTags", arn, kind, _tagging(action, body)))
    elif "ResourceArn" in body:
        kind = body["ResourceArn"].split(":")[5].split("/")[0]
        checks.append(Check(action, body["ResourceArn"], kind, _sagemaker_tags(body)))
    return checks or [Check(action, "*")]


def _tagging(action, body):
    """Tags given to a create: sagemaker:TaggingAction is "the name of the API operation that creates a
    taggable resource" (Service Authorization Reference, SageMaker condition keys)."""
    return dict(_sagemaker_tags(body), **{"sagemaker:TaggingAction": action.split(":")[1]})


def _sagemaker_tags(body):
    return _tags([(t["Key"], t.get("Value", "")) for t in body.get("Tags") or []])


def iam_checks(where, action, params):
    """Roles by name (with the path IAM holds, or the one being created), policies by ARN."""
    from moto.iam.models import iam_backends

    backend = iam_backends[where["account"]][where["partition"]]
    context = {"iam:PolicyARN": params["PolicyArn"]} if "PolicyArn" in params and "RoleName" in params else {}
    if "RoleName" in params:
        path = params.get("Path", "/")
        try:
            path = backend.get_role(params["RoleName"]).path
        except Exception:  # noqa: BLE001 - a role not created yet: the path of the request
            pass
        context.update(_tags(_member_tags(params)))
        return [Check(action, _arn(where, "iam", "role", path.lstrip("/") + params["RoleName"]), "role", context)]
    if "PolicyArn" in params:
        return [Check(action, params["PolicyArn"], "policy")]
    if action == "iam:CreatePolicy":
        name = params.get("Path", "/").lstrip("/") + params["PolicyName"]
        return [Check(action, _arn(where, "iam", "policy", name), "policy", _tags(_member_tags(params)))]
    return [Check(action, "*")]


def _member_tags(params):
    pairs, member = [], 1
    while "Tags.member.%d.Key" % member in params:
        pairs.append((params["Tags.member.%d.Key" % member], params.get("Tags.member.%d.Value" % member, "")))
        member += 1
    return pairs


# --- KMS -------------------------------------------------------------------------------------------
# A key by key id, key ARN, alias name or alias ARN; a key that does not exist gets no check (KMS
# answers NotFoundException).  Every check on a key carries its key policy, its tags as
# aws:ResourceTag and kms:CallerAccount.


def _kms_key(where, reference_to_key):
    from moto.kms.models import kms_backends

    backend = kms_backends[where["account"]][where["region"]]
    try:
        return backend.keys.get(backend.any_id_to_key_id(reference_to_key or ""))
    except Exception:  # noqa: BLE001 - an alias that names no key
        return None


def _key_check(where, action, key, context=None):
    from moto.kms.models import kms_backends

    tags = kms_backends[where["account"]][where["region"]].tagger.get_tag_dict_for_resource(key.id)
    found = {"aws:ResourceTag/" + k: v for k, v in tags.items()}
    found.update({"kms:CallerAccount": where["account"]}, **(context or {}))
    return Check(action, key.arn, "key", found, key_policy=json.loads(key.policy or "{}"))


def _kms_tags(body):
    return _tags([(t["TagKey"], t.get("TagValue", "")) for t in body.get("Tags") or []])


def kms_checks(where, action, body):
    account = {"kms:CallerAccount": where["account"]}
    if action == "kms:CreateKey":
        tags = _kms_tags(body)
        context = dict(tags, **account, **{
            "kms:KeySpec": body.get("KeySpec") or body.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT",
            "kms:KeyUsage": body.get("KeyUsage") or "ENCRYPT_DECRYPT",
            "kms:KeyOrigin": body.get("Origin") or "AWS_KMS",
            "kms:MultiRegion": str(bool(body.get("MultiRegion"))).lower(),
            "kms:BypassPolicyLockoutSafetyCheck": str(bool(body.get("BypassPolicyLockoutSafetyCheck"))).lower(),
        })  # fmt: skip
        checks = [Check(action, "*", "", context)]
        if tags:
            # KMS API reference, CreateKey Tags: "you must have kms:TagResource permission".
            checks.append(Check("kms:TagResource", _arn(where, "kms", "key", "*"), "key", dict(tags, **account)))
        return checks
    if action in ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"):
        # Authorized on the alias and on the key (KMS Developer Guide, "Controlling access to aliases").
        alias = body.get("AliasName", "")
        checks = [Check(action, _arn(where, "kms", "alias", alias[len("alias/") :]), "alias", account)]
        key = _kms_key(where, body.get("TargetKeyId") or alias)
        return checks + ([_key_check(where, action, key)] if key else [])
    if "KeyId" in body:
        key = _kms_key(where, body["KeyId"])
        context = {"kms:RequestAlias": body["KeyId"]} if "alias/" in body["KeyId"] else {}
        if action == "kms:TagResource":
            context.update(_kms_tags(body))
        elif action == "kms:UntagResource":
            context["aws:TagKeys"] = list(body.get("TagKeys") or [])
        return [_key_check(where, action, key, context)] if key else []
    return [Check(action, "*", "", account)]


def _volume_key_checks(where, key_reference, actions):
    """SageMaker's use of a notebook's volume key with the caller's credentials (SageMaker Developer
    Guide, API permissions reference: CreateNotebookInstance and StartNotebookInstance need
    kms:DescribeKey and kms:CreateGrant "if you specify an encryption key", DeleteNotebookInstance
    kms:DescribeKey).  The grant is one for an AWS resource (kms:GrantIsForAWSResource); which
    kms:ViaService it carries is not documented, so none is given."""
    key = _kms_key(where, key_reference) if key_reference else None
    if key is None:
        return []
    grant = {"kms:GrantIsForAWSResource": "true"}
    return [_key_check(where, action, key, grant if action == "kms:CreateGrant" else None) for action in actions]


def _notebook_key(where, name):
    from moto.sagemaker.models import sagemaker_backends

    notebooks = sagemaker_backends[where["account"]][where["region"]].notebook_instances
    notebook = notebooks.get(name)
    return getattr(notebook, "kms_key_id", None)


def _s3_key_checks(where, action, s3_resource, method, headers):
    """S3's use of the bucket's KMS key with the caller's credentials (Amazon S3 User Guide, SSE-KMS:
    uploading needs kms:GenerateDataKey, downloading kms:Decrypt; HeadObject needs neither without
    checksum mode).  The encryption context is the bucket's ARN with an S3 Bucket Key, else the
    object's; kms:ViaService is s3.<region>.amazonaws.com.  Not modelled: a GET of an older version
    (the latest one's key is checked) and CopyObject (no KMS check; the collection makes none)."""
    from moto.s3.models import s3_backends

    bucket_name, _sep, object_key = s3_resource.split(":::", 1)[-1].partition("/")
    if not object_key or (action, method) not in (("s3:PutObject", "PUT"), ("s3:GetObject", "GET")):
        return []
    bucket = s3_backends[where["account"]][where["partition"]].buckets.get(bucket_name)
    if bucket is None:
        return []
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if action == "s3:PutObject":
        if any(h.startswith("x-amz-copy-source") for h in headers):
            return []
        rule = (bucket.encryption or {}).get("Rule", {})
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        algorithm = headers.get("x-amz-server-side-encryption") or default.get("SSEAlgorithm")
        key_id = headers.get("x-amz-server-side-encryption-aws-kms-key-id") or default.get("KMSMasterKeyID")
        bucket_key = headers.get("x-amz-server-side-encryption-bucket-key-enabled", rule.get("BucketKeyEnabled"))
        kms_action = "kms:GenerateDataKey"
    else:
        stored = bucket.keys.get(object_key)
        if stored is None:
            return []
        algorithm, key_id, bucket_key = stored.encryption, stored.kms_key_id, stored.bucket_key_enabled
        kms_action = "kms:Decrypt"
    key = _kms_key(where, key_id) if algorithm == "aws:kms" else None
    if key is None:
        return []
    with_bucket_key = str(bucket_key).lower() == "true"
    context = {
        "kms:ViaService": "s3.%s.amazonaws.com%s" % (where["region"], ".cn" if where["partition"] == "aws-cn" else ""),
        "kms:EncryptionContext:aws:s3:arn": "arn:%s:s3:::%s" % (where["partition"], bucket_name)
        + ("" if with_bucket_key else "/" + object_key),
    }
    return [_key_check(where, kms_action, key, context)]


def checks_for(where, action, params, s3_resource=None, method=None, headers=None):
    prefix = action.split(":")[0]
    if prefix == "s3":
        kind = "object" if s3_resource and "/" in s3_resource.split(":::", 1)[-1] else "bucket"
        context = {"s3:prefix": params["prefix"]} if "prefix" in params else {}
        # The bucket owner's account (Service Authorization Reference, S3 condition keys: s3:ResourceAccount
        # "by the resource owner AWS account ID"); the emulator's buckets are all of the one account.
        context["s3:ResourceAccount"] = where["account"]
        checks = [Check(action, s3_resource or "*", kind, context)]
        return checks + (_s3_key_checks(where, action, s3_resource, method, headers) if s3_resource else [])
    handler = {"ec2": ec2_checks, "sagemaker": sagemaker_checks, "iam": iam_checks, "kms": kms_checks}.get(prefix)
    checks = handler(where, action, params) if handler else [Check(action, "*")]
    volume = {
        "sagemaker:CreateNotebookInstance": (params.get("KmsKeyId"), ["kms:DescribeKey", "kms:CreateGrant"]),
        "sagemaker:StartNotebookInstance": (None, ["kms:DescribeKey", "kms:CreateGrant"]),
        "sagemaker:DeleteNotebookInstance": (None, ["kms:DescribeKey"]),
    }.get(action)
    if volume:
        key = volume[0] or _notebook_key(where, params.get("NotebookInstanceName"))
        checks += _volume_key_checks(where, key, volume[1])
    return checks


# --- evaluation --------------------------------------------------------------------------------------


def _holds(operator, key, expected, context):
    """One condition, as the IAM User Guide's condition operators define it (the subset this
    collection's policies use; anything else is refused so that it cannot pass unnoticed)."""
    qualifier, _sep, base = operator.rpartition(":")
    expected = expected if isinstance(expected, list) else [expected]
    if base == "Null":
        return (key not in context) == (str(expected[0]).lower() == "true")
    if_exists = base.endswith("IfExists")
    base = base[: -len("IfExists")] if if_exists else base
    if key not in context:
        # ForAllValues over no values is true; a negated operator on an absent key is true.
        return if_exists or qualifier == "ForAllValues" or base.startswith(("StringNot", "ArnNot"))
    actual = context[key]
    values = actual if isinstance(actual, list) else [actual]
    matchers = {
        "StringEquals": lambda v, e: v == e,
        "StringLike": fnmatch.fnmatchcase,
        "ArnEquals": lambda v, e: v == e,
        "ArnLike": fnmatch.fnmatchcase,
        "Bool": lambda v, e: str(v).lower() == str(e).lower(),
    }
    negated = base.startswith(("StringNot", "ArnNot"))
    positive = base.replace("Not", "", 1) if negated else base
    if positive not in matchers:
        raise ValueError("emulator: condition operator %s is not modelled" % operator)

    def hit(value):
        return any(matchers[positive](str(value), str(e)) for e in expected)

    if qualifier == "ForAllValues":
        result = all(hit(v) for v in values)
    elif qualifier == "ForAnyValue" or len(values) == 1:
        result = any(hit(v) for v in values)
    else:
        raise ValueError("emulator: %s on the multivalued key %s needs ForAllValues or ForAnyValue" % (operator, key))
    return not result if negated else result


def _matches(patterns, value):
    patterns = patterns if isinstance(patterns, list) else [patterns]
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def evaluate(documents, action, resource, context):
    """(decision, [Sids that allow], [Sids that deny]) over identity policy documents."""
    allows, denies = [], []
    for document in documents:
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        for number, statement in enumerate(statements):
            if "Action" in statement and not _matches(statement["Action"], action):
                continue
            if "NotAction" in statement and _matches(statement["NotAction"], action):
                continue
            if "Resource" in statement and not _matches(statement["Resource"], resource):
                continue
            if "NotResource" in statement and _matches(statement["NotResource"], resource):
                continue
            pairs = [(op, key, value) for op, keyed in statement.get("Condition", {}).items()
                     for key, value in keyed.items()]  # fmt: skip
            if not all(_holds(op, key, value, context) for op, key, value in pairs):
                continue
            (denies if statement["Effect"] == "Deny" else allows).append(statement.get("Sid", "#%d" % number))
    return ("deny" if denies else "allow" if allows else "implicit-deny"), allows, denies


def _named(statement):
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    names = principal.get("AWS", []) if isinstance(principal, dict) else []
    return names if isinstance(names, list) else [names]


def key_policy_decision(policy, account, principals, action, context, identity_allows=True):
    """KMS's decision for a key (KMS Developer Guide, "Troubleshooting key access", "How AWS KMS
    evaluates"): an explicit Deny in the key policy wins; an Allow that names the principal (or "*")
    is enough; an Allow that names the account (``arn:...:iam::<account>:root`` or the id) counts only
    when the principal's IAM policies allow too (``identity_allows``); otherwise implicit deny."""
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    root = re.compile(r"^arn:[^:]+:iam::%s:root$" % re.escape(account))
    direct = [st for st in statements if any(n == "*" or n in principals for n in _named(st))]
    delegated = [st for st in statements if st not in direct and any(n == account or root.match(n) for n in _named(st))]
    decision, _allows, _denies = evaluate([{"Statement": direct}], action, "*", context)
    if decision == "deny":
        return "deny"
    through_account, _allows, _denies = evaluate([{"Statement": delegated}], action, "*", context)
    if through_account == "deny":
        return "deny"
    if decision == "allow" or (through_account == "allow" and identity_allows):
        return "allow"
    return "implicit-deny"


def endpoint_behind(headers, where):
    """The VPC endpoint a request comes through (ENDPOINT_HEADER), or None; an unknown id is a test's
    mistake and fails loudly."""
    headers = {str(k).lower(): v for k, v in (headers or {}).items()}
    endpoint_id = headers.get(ENDPOINT_HEADER)
    if not endpoint_id:
        return None
    endpoint = _ec2_backend(where["account"], where["region"]).vpc_end_points.get(endpoint_id)
    if endpoint is None:
        raise ValueError(
            "emulator: %s names no VPC endpoint in %s: %s" % (ENDPOINT_HEADER, where["region"], endpoint_id)
        )
    return endpoint


def endpoint_context(endpoint):
    """The condition keys a request through ``endpoint`` carries."""
    return {"aws:SourceVpce": endpoint.id, "aws:SourceVpc": endpoint.vpc_id} if endpoint is not None else {}


def _endpoint_statements(endpoint, account, principals):
    """The endpoint policy's statements that apply to these principals (see the module's docstring)."""
    policy = (
        json.loads(endpoint.policy_document) if isinstance(endpoint.policy_document, str) else endpoint.policy_document
    )
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    gateway = (endpoint.vpc_endpoint_type or "Gateway") == "Gateway"
    root = re.compile(r"^arn:[^:]+:iam::%s:root$" % re.escape(account))
    found = []
    for statement in statements:
        named = _named(statement)
        if "*" in named:
            found.append(statement)
        elif not gateway and any(n in principals or n == account or root.match(n) for n in named):
            found.append(statement)
    return found


def endpoint_decision(endpoint, service, account, principals, action, resource, context):
    """allow, deny or implicit-deny of the endpoint's policy for one check of a request through it."""
    wanted = ENDPOINT_SERVICES.get(service, service)
    if not endpoint.service_name.endswith("." + wanted):
        raise ValueError(
            "emulator: a %s request cannot go through %s (%s)" % (service, endpoint.id, endpoint.service_name)
        )
    decision, _allows, _denies = evaluate(
        [{"Statement": _endpoint_statements(endpoint, account, principals)}], action, resource, context)  # fmt: skip
    return decision


def _bucket_policy_decision(where, resource, action, principals, context):
    """An explicit Deny of the bucket's policy for a request on the bucket or its objects, else None."""
    from moto.s3.models import s3_backends

    bucket_name = resource.split(":::", 1)[-1].split("/", 1)[0]
    bucket = s3_backends[where["account"]][where["partition"]].buckets.get(bucket_name)
    if bucket is None or not bucket.policy:
        return None
    policy = json.loads(bucket.policy)
    statements = policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    applying = [
        st for st in statements if st.get("Effect") == "Deny" and any(n == "*" or n in principals for n in _named(st))
    ]
    decision, _allows, denies = evaluate([{"Statement": applying}], action, resource, context)
    return ("deny", denies) if decision == "deny" else None


# --- the hook into moto ------------------------------------------------------------------------------


class _Denied(_RESTError):
    code = 403


class _JsonDenied(JsonRESTError):
    code = 400


def _denial(service, principal, action, resource, by_key_policy=False, by=None):
    """``by``: "endpoint" (no VPC endpoint policy allows), "endpoint-deny" or "bucket-deny" (an explicit
    deny in a VPC endpoint / resource-based policy), the IAM User Guide's forms of the message."""
    message = "User: %s is not authorized to perform: %s on resource: %s" % (principal, action, resource)
    if by == "endpoint":
        message += " because no VPC endpoint policy allows the %s action" % action
    elif by in ("endpoint-deny", "bucket-deny"):
        message += " with an explicit deny in a %s policy" % (
            "VPC endpoint" if by == "endpoint-deny" else "resource-based"
        )
    else:
        message += " because no %s policy allows the %s action" % (
            "resource-based" if by_key_policy else "identity-based", action)  # fmt: skip
    if service == "ec2":
        return _Denied("UnauthorizedOperation", "You are not authorized to perform this operation. " + message)
    if service in ("sagemaker", "kms"):
        return _JsonDenied("AccessDeniedException", message)
    return _Denied("AccessDenied", message)


def _request_params(request):
    """Query/form parameters as single values, or the JSON body of a JSON-protocol request."""
    body = request._body or b""
    if isinstance(body, str):
        body = body.encode()
    if request._headers.get("X-Amz-Target") or request._headers.get("x-amz-target"):
        try:
            return json.loads(body or b"{}")
        except ValueError:
            return {}
    params = {k: (v[0] if isinstance(v, list) and v else v) for k, v in (request._data or {}).items()}
    query = urllib.parse.urlsplit(request._path).query
    for source in (query, body.decode("utf-8", "replace") if request._service != "s3" else ""):
        for key, values in urllib.parse.parse_qs(source, keep_blank_values=True).items():
            params[key] = values[0]
    return params


def _documents(access_key):
    from moto.iam.access_control import IAMPolicy

    return [IAMPolicy(policy)._policy_json for policy in access_key.collect_policies()]


def check_action_permitted(self, resource):
    from moto.utilities.utils import get_partition

    if self._action == "sts:GetCallerIdentity":  # needs no permission (STS API reference)
        return
    if self._action.startswith("sts:AssumeRole"):
        return _ORIGINALS["check_action_permitted"](self, resource)
    where = {"account": self.account_id, "region": self._region, "partition": get_partition(self._region)}
    params = _request_params(self)
    s3_resource = resource if self._service == "s3" else None
    checks = checks_for(where, self._action, params, s3_resource, self._method, self._headers)
    key_id = self._get_string_between("Credential=", "/", self._headers["Authorization"])
    global_context = dict(_CALLER["context"](key_id), **{"aws:PrincipalAccount": self.account_id})
    global_context["aws:SecureTransport"] = "true" if getattr(_SCHEME, "secure", True) else "false"
    endpoint = endpoint_behind(self._headers, where)
    global_context.update(endpoint_context(endpoint))
    documents = _documents(self._access_key)
    principal = self._access_key.arn
    principals = [principal, global_context.get("aws:PrincipalArn")]
    for check in checks:
        arn, context = check.effective(global_context)
        decision, allows, denies = evaluate(documents, check.action, arn, context)
        by_key_policy = check.key_policy is not None and decision == "allow"
        by = None
        if check.key_policy is not None and decision != "deny":
            decision = key_policy_decision(check.key_policy, self.account_id, principals, check.action, context,
                                           identity_allows=decision == "allow")  # fmt: skip
        # The service S3 calls on the caller's behalf (KMS for SSE-KMS) is not reached through the endpoint.
        if check.action.startswith("s3:") and decision != "deny":
            bucket_denied = _bucket_policy_decision(where, arn, check.action, principals, context)
            if bucket_denied:
                decision, denies, by = "deny", denies + bucket_denied[1], "bucket-deny"
        if endpoint is not None and decision == "allow" and check.action.split(":")[0] == self._service:
            through = endpoint_decision(
                endpoint, self._service, self.account_id, principals, check.action, arn, context
            )
            if through != "allow":
                decision, by = through, "endpoint-deny" if through == "deny" else "endpoint"
        with _LOCK:
            _LOG.append({"action": check.action, "resource": arn, "principal": principal,
                         "endpoint": endpoint and endpoint.id, "allowed_by": allows, "denied_by": denies,
                         "decision": decision, "by": by})  # fmt: skip
        if decision != "allow":
            if self._service == "s3":
                self._raise_access_denied()
            raise _denial(self._service, principal, check.action, arn, by_key_policy, by)


# S3: the action each REST request is authorized as (Amazon S3 User Guide, "Required permissions for
# Amazon S3 API operations").  moto's own map misses most sub-resources and names actions that do
# not exist; a sub-resource missing here falls back to moto's map.
S3_ACTIONS = {
    ("BUCKET", "HEAD"): {"": "ListBucket"},
    ("BUCKET", "GET"): {
        "accelerate": "GetAccelerateConfiguration", "acl": "GetBucketAcl", "cors": "GetBucketCORS",
        "encryption": "GetEncryptionConfiguration", "inventory": "GetInventoryConfiguration",
        "lifecycle": "GetLifecycleConfiguration", "location": "GetBucketLocation", "logging": "GetBucketLogging",
        "notification": "GetBucketNotification", "object-lock": "GetBucketObjectLockConfiguration",
        "ownershipControls": "GetBucketOwnershipControls", "policy": "GetBucketPolicy",
        "policyStatus": "GetBucketPolicyStatus", "publicAccessBlock": "GetBucketPublicAccessBlock",
        "replication": "GetReplicationConfiguration", "requestPayment": "GetBucketRequestPayment",
        "tagging": "GetBucketTagging", "uploads": "ListBucketMultipartUploads", "versioning": "GetBucketVersioning",
        "versions": "ListBucketVersions", "website": "GetBucketWebsite", "": "ListBucket",
    },
    ("BUCKET", "PUT"): {
        "accelerate": "PutAccelerateConfiguration", "acl": "PutBucketAcl", "cors": "PutBucketCORS",
        "encryption": "PutEncryptionConfiguration", "lifecycle": "PutLifecycleConfiguration",
        "logging": "PutBucketLogging", "notification": "PutBucketNotification",
        "object-lock": "PutBucketObjectLockConfiguration", "ownershipControls": "PutBucketOwnershipControls",
        "policy": "PutBucketPolicy", "publicAccessBlock": "PutBucketPublicAccessBlock",
        "requestPayment": "PutBucketRequestPayment", "tagging": "PutBucketTagging",
        "versioning": "PutBucketVersioning", "website": "PutBucketWebsite", "": "CreateBucket",
    },
    ("BUCKET", "DELETE"): {
        "cors": "PutBucketCORS", "encryption": "PutEncryptionConfiguration", "lifecycle": "PutLifecycleConfiguration",
        "ownershipControls": "PutBucketOwnershipControls", "policy": "DeleteBucketPolicy",
        "publicAccessBlock": "PutBucketPublicAccessBlock", "tagging": "PutBucketTagging",
        "website": "DeleteBucketWebsite", "": "DeleteBucket",
    },
    ("KEY", "HEAD"): {"": "GetObject"},
    ("KEY", "GET"): {"acl": "GetObjectAcl", "tagging": "GetObjectTagging", "": "GetObject"},
    ("KEY", "PUT"): {"acl": "PutObjectAcl", "tagging": "PutObjectTagging", "": "PutObject"},
    ("KEY", "DELETE"): {"tagging": "DeleteObjectTagging", "": "DeleteObject"},
}  # fmt: skip


def _s3_set_action(self, action_resource_type, method, querystring):
    table = S3_ACTIONS.get((action_resource_type, method))
    if table is None:
        return _ORIGINALS["_set_action"](self, action_resource_type, method, querystring)
    chosen = [action for sub, action in table.items() if sub and sub in querystring]
    if not chosen and any(k not in ("prefix", "list-type", "max-keys", "delimiter", "x-id", "encoding-type",
                                    "continuation-token", "start-after", "marker") for k in querystring):  # fmt: skip
        return _ORIGINALS["_set_action"](self, action_resource_type, method, querystring)
    self.data["Action"] = chosen[0] if chosen else table[""]


def _serve_log(original):
    def call(self, environ, start_response):
        if environ.get("PATH_INFO") != LOG_PATH:
            _SCHEME.secure = environ.get("wsgi.url_scheme") == "https"
            return original(self, environ, start_response)
        with _LOCK:
            body = json.dumps(_LOG).encode()
            if environ.get("REQUEST_METHOD") == "DELETE":
                _LOG.clear()
        environ["wsgi.input"] = io.BytesIO(b"")
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return call


_ORIGINALS = {}
_CALLER = {}


def apply(caller_context):
    """Install the evaluation (idempotent).  ``caller_context(access_key_id)``: the caller's
    aws:userid and aws:PrincipalArn (gaps.py, shared with the bucket-policy evaluation)."""
    from moto.iam.access_control import IAMRequestBase

    if _ORIGINALS:
        return
    _CALLER["context"] = caller_context
    _ORIGINALS["check_action_permitted"] = IAMRequestBase.check_action_permitted
    _ORIGINALS["_set_action"] = S3Response._set_action
    IAMRequestBase.check_action_permitted = check_action_permitted
    S3Response._set_action = _s3_set_action
    DomainDispatcherApplication.__call__ = _serve_log(DomainDispatcherApplication.__call__)
