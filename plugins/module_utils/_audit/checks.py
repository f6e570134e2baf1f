# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's checks over already-fetched API data: the notebook's own settings, its network (the
subnet's effective route table and the VPC's endpoints), its execution role, its lifecycle
configuration (the on-start script and the pinned script object) and the script bucket.  API
shapes in, findings out; no AWS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import functools
import re
import shlex

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.findings import (
    FINDINGS,
    PLATFORMS,
    check_failed,
    finding,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.policy import (
    check_bucket_policy,
    check_identity_policy,
    check_s3_endpoint_policy,
    check_trust_policy,
    parse_document,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.isolation import (
    effective_route_table,
    offending_routes,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.vpc_endpoint import is_service

SCRIPT_LINE = re.compile(r"^\s*(BUCKET|KEY|SHA256)=(.*)$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_platform(notebook, now):
    """The platform's end of support (``PLATFORMS``), from ``now`` (an aware datetime).  Every platform but a
    supported one is a finding, before its date too, as Security Hub's SageMaker.8 fails it."""
    name, platform = notebook["NotebookInstanceName"], notebook.get("PlatformIdentifier")
    if platform not in PLATFORMS or PLATFORMS[platform][1] is None:
        return []  # supported, or a platform newer than this collection (botocore lists them: a test does)
    system, ends = PLATFORMS[platform]
    evidence = {"platform_identifier": platform, "operating_system": system, "end_of_support": ends}
    if ends == "past":
        message = "%s runs %s (%s), which is out of support" % (name, platform, system)
    else:
        days = (datetime.date.fromisoformat(ends) - now.date()).days
        evidence["days_left"] = days
        if days >= 0:  # no countdown in the message: it would change every day (and the Security Hub finding)
            message = "%s runs %s (%s), whose support ends on %s; after it the notebook cannot be started" % (
                name, platform, system, ends)  # fmt: skip
        else:
            message = "%s runs %s (%s), whose support ended on %s: once stopped, it cannot be started again" % (
                name, platform, system, ends)  # fmt: skip
    return [finding("platform-end-of-support", name, message, evidence)]


def check_notebook(notebook, allow_root_access=False, now=None):
    """Settings of the notebook itself (DescribeNotebookInstance shape); ``now``: for the platform's deadline."""
    name = notebook["NotebookInstanceName"]
    found = check_platform(notebook, now or datetime.datetime.now(datetime.timezone.utc))
    if notebook.get("DirectInternetAccess") == "Enabled":
        found.append(
            finding(
                "direct-internet-access",
                name,
                "%s has direct internet access" % name,
                {"direct_internet_access": "Enabled"},
            )
        )
    if not notebook.get("SubnetId"):
        found.append(
            finding(
                "no-subnet", name, "%s has no subnet: it runs in the SageMaker service VPC" % name, {"subnet_id": None}
            )
        )
    if notebook.get("RootAccess", "Enabled") == "Enabled" and not allow_root_access:
        found.append(
            finding(
                "root-access-enabled",
                name,
                "%s has root access enabled" % name,
                {"root_access": notebook.get("RootAccess", "Enabled")},
            )
        )
    imds = (notebook.get("InstanceMetadataServiceConfiguration") or {}).get("MinimumInstanceMetadataServiceVersion")
    if imds in (None, "1"):
        found.append(
            finding(
                "imdsv1-allowed", name, "%s allows IMDSv1" % name, {"minimum_instance_metadata_service_version": imds}
            )
        )
    if not notebook.get("KmsKeyId"):
        found.append(
            finding(
                "volume-no-customer-key",
                name,
                "%s has no customer managed KMS key on its ML storage volume; only a replacement adds one" % name,
                {"kms_key_id": None},
            )
        )
    if not notebook.get("NotebookInstanceLifecycleConfigName"):
        found.append(
            finding(
                "lifecycle-config-missing",
                name,
                "%s has no lifecycle configuration" % name,
                {"lifecycle_config_name": None},
            )
        )
    return found


def s3_gateways_on(endpoints, table_id):
    """The S3 gateway endpoints among ``endpoints`` that serve route table ``table_id``."""
    return [
        e
        for e in endpoints
        if is_service(e, "s3", "Gateway") and table_id and table_id in (e.get("RouteTableIds") or [])
    ]


def check_network(subnet_id, subnet, route_tables, endpoints, region, notebook_roles=()):
    """The subnet's effective route table and the VPC's endpoints.

    ``subnet``: DescribeSubnets shape (None: not found); ``route_tables``: the VPC's tables in
    amazon.aws's snake_case shape; ``endpoints``: the VPC's endpoints (DescribeVpcEndpoints shape);
    ``notebook_roles``: the execution roles of the VPC's audited notebooks (whose data grants may write).
    """
    if subnet is None:
        return [check_failed("subnet", subnet_id, "DescribeSubnets", "not found")]
    vpc_id = subnet["VpcId"]
    table = effective_route_table(route_tables, subnet_id)
    if table is None:
        return [
            check_failed(
                "route-table",
                subnet_id,
                "DescribeRouteTables",
                "no route table is associated with the subnet and the VPC has no main table",
            )
        ]
    table_id = table["route_table_id"]
    found = []
    # The role's preflight refuses a subnet with the same classifier (isolation.py, every Route target).
    for route in offending_routes(table.get("routes")):
        found.append(
            finding(
                "subnet-egress-route",
                table_id,
                "%s: route table %s: %s" % (subnet_id, table_id, route["reason"]),
                {
                    "subnet_id": subnet_id,
                    "route_table_id": table_id,
                    "destination": route["destination"],
                    "target": route["target"],
                    "kind": route["kind"],
                },
            )
        )
    gateways = [e for e in endpoints if is_service(e, "s3", "Gateway")]
    on_table = s3_gateways_on(gateways, table_id)
    if not on_table:
        found.append(
            finding(
                "s3-endpoint-missing",
                table_id,
                "route table %s of %s has no S3 gateway endpoint" % (table_id, subnet_id),
                {
                    "subnet_id": subnet_id,
                    "vpc_id": vpc_id,
                    "route_table_id": table_id,
                    "s3_gateway_endpoints": [
                        {"vpc_endpoint_id": e["VpcEndpointId"], "route_table_ids": sorted(e.get("RouteTableIds") or [])}
                        for e in gateways
                    ],
                },
            )
        )
    for endpoint in on_table:
        found.extend(
            check_s3_endpoint_policy(
                parse_document(endpoint.get("PolicyDocument")), endpoint["VpcEndpointId"], table_id, notebook_roles
            )
        )
    if not any(is_service(e, "sagemaker.api", "Interface") for e in endpoints):
        service = "com.amazonaws.%s.sagemaker.api" % region
        found.append(
            finding(
                "sagemaker-api-endpoint-missing",
                vpc_id,
                "VPC %s has no %s interface endpoint" % (vpc_id, service),
                {"vpc_id": vpc_id, "service_name": service},
            )
        )
    return found


def check_role(role):
    """``role``: {"arn", "trust_policy", "policies": [{"policy_arn"|"inline_policy": ..., "document"}]}."""
    arn = role["arn"]
    found = check_trust_policy(role.get("trust_policy"), arn)
    for policy in role.get("policies", []):
        source = dict((k, v) for k, v in policy.items() if k != "document")
        found.extend(check_identity_policy(policy.get("document"), arn, source))
    return found


def parse_on_start(text):
    """What the on-start script pins: ``BUCKET=``, ``KEY=``, ``SHA256=`` lines (bare or shell-quoted
    values), and whether it installs and schedules autostop.py."""
    pinned = {}
    for line in (text or "").splitlines():
        match = SCRIPT_LINE.match(line)
        if not match or match.group(1).lower() in pinned:
            continue
        try:
            words = shlex.split(match.group(2), comments=True)
        except ValueError:
            continue
        if len(words) == 1:
            pinned[match.group(1).lower()] = words[0]
    installs = "autostop.py" in (text or "") and bool(re.search(r"\b(crontab|systemctl)\b", text or ""))
    sha = (pinned.get("sha256") or "").lower()
    return {
        "installs_autostop": installs,
        "bucket": pinned.get("bucket"),
        "key": pinned.get("key"),
        "sha256": sha if SHA256.match(sha) else None,
    }


def pinned_script(parsed):
    """(bucket, key) of the autostop.py that a parsed on-start script installs with a pinned SHA-256
    (the object whose digest ``check_lifecycle`` compares), or None."""
    if parsed["installs_autostop"] and parsed["bucket"] and parsed["key"] and parsed["sha256"]:
        return parsed["bucket"], parsed["key"]
    return None


def hook_text(config, hook):
    """The decoded script of one hook (``OnStart`` or ``OnCreate``): None without one, "" when undecodable."""
    hooks = (config or {}).get(hook) or []
    if not hooks:
        return None
    try:
        return base64.b64decode(hooks[0].get("Content") or "").decode("utf-8", "replace")
    except (TypeError, ValueError):
        return ""


def on_start_text(config):
    return hook_text(config, "OnStart")


# --- lint of lifecycle scripts ---------------------------------------------------------------------------
# Every script is linted whole, the collection's own on-start script too (with the stack's own steps it
# carries): it passes because it schedules with a systemd timer and keeps cron as a fallback only.
# Hosts that are not the internet for a notebook in a VPC: regional AWS endpoints (reached through VPC
# endpoints; the global s3.amazonaws.com is not one), private and loopback addresses, the metadata service.
REGIONAL_AWS = re.compile(r"(^|\.)[a-z]{2}(-[a-z]+)+-\d+\.(amazonaws\.com(\.cn)?|api\.aws)$", re.I)
PRIVATE = re.compile(
    r"^(localhost|127(\.\d+){3}|169\.254\.169\.254|10(\.\d+){3}|192\.168(\.\d+){2}|172\.(1[6-9]|2\d|3[01])(\.\d+){2})$"
)
URL = re.compile(r"\b(?:https?|ftp|git|ssh)://(?:[^@/\s'\"]*@)?([^/:\s'\"]+)", re.I)
SCP_URL = re.compile(r"\b[\w.-]+@([a-z0-9.-]+\.[a-z]{2,}):", re.I)  # git@github.com:owner/repo
FETCHERS = re.compile(r"\b(curl|wget|git\s+clone|git\s+fetch|git\s+pull)\b")
PIP = re.compile(r"\bpip3?(\.\d+)?\s+install\b|\bpython3?(\.\d+)?\s+-m\s+pip\s+install\b")
PIP_INDEX = re.compile(r"(?:\s-i|--index-url|--extra-index-url)[=\s]+(\S+)")
# A script that points pip at an index of its own first (CodeArtifact, pip config, PIP_INDEX_URL): checked by host.
PIP_CONFIGURED = re.compile(r"codeartifact\s+login\b.*--tool\s+pip|pip3?\s+config\s+set\s+global\.index-url\s+(\S+)|"
                            r"PIP_INDEX_URL=(\S+)")  # fmt: skip
OTHER_INSTALLERS = (
    # conda reaches its channels unless offline; npm and labextension the npm registry.
    (re.compile(r"\b(conda|mamba|micromamba)\s+((env\s+)?(install|create|update))\b"), re.compile(r"--offline")),
    (re.compile(r"\bnpm\s+(install|i|ci)\b|\bjupyter\s+labextension\s+install\b"), re.compile(r"--offline")),
)  # fmt: skip
CRON = re.compile(r"\bcrontab\b|/etc/cron\.|/var/spool/cron\b")
CRON_INSTALLED = re.compile(r"\b(dnf|yum)\b.*\binstall\b.*\bcronie\b")
SYSTEMD_TIMER = re.compile(r"\bsystemctl\b.*\benable\b.*\.timer\b|\bsystemd-run\b.*--on-")
USR_BIN_PYTHON = re.compile(r"/usr/bin/python(?![\w.-])")
YUM = re.compile(r"(^|[\s;&|(`])(yum|amazon-linux-extras)(\s|$)")
LINT_LINES_SHOWN = 5
# What a script line may hold that a report must not: URL credentials, authorization headers, secret options and
# assignments.
SECRETS = (
    (re.compile(r"(://)[^/\s@'\"]+@"), r"\1***@"),
    (re.compile(r"(?i)\b(authorization|cookie|x-[a-z-]*(token|key))(\s*:\s*)[^'\"]+"), r"\1\3***"),
    (re.compile(r"(?i)(--?[a-z-]*(password|passwd|token|secret|api-key)[a-z-]*)([=\s]+)\S+"), r"\1\3***"),
    (re.compile(r"(?i)\b([a-z0-9_]*(token|secret|password|passwd|api_key|access_key)[a-z0-9_]*=)\S+"), r"\1***"),
)


FINDING_TITLES = dict((finding_id, row[1].lower()) for finding_id, row in FINDINGS.items())


def redact(line):
    for pattern, replacement in SECRETS:
        line = pattern.sub(replacement, line)
    return line


def lint_lines(text):
    """(number, line) of what is linted: every line but comments (a ``#!`` line is kept: it names an interpreter)."""
    return [
        (n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not re.match(r"^\s*#(?!!)", line)
    ]


# Names that only resolve inside a network (RFC 6762 .local, ICANN's .internal, and the usual intranet ones).
INTERNAL_NAME = re.compile(r"\.(internal|local|lan|corp|intranet|home\.arpa)$")


def _internet(host):
    host = host.strip("[]").lower()
    return not (REGIONAL_AWS.search(host) or PRIVATE.match(host) or INTERNAL_NAME.search(host))


def _hosts(url_text):
    return URL.findall(url_text) + SCP_URL.findall(url_text)


def downloads(line, pip_configured=False):
    """Whether a line fetches from a host of the internet or installs from a public package index."""
    if FETCHERS.search(line) and any(_internet(host) for host in _hosts(line)):
        return True
    match = PIP.search(line)
    if match:
        options = line[match.end() :]  # the installer's own options only (not sudo -i)
        indexes = PIP_INDEX.findall(options)
        if any(_internet(host) for index in indexes for host in _hosts(index)):
            return True
        given = re.search(r"(?:\s-i|--index-url)[=\s]", options)
        if not ("--no-index" in options or given or pip_configured):
            return True  # PyPI
    for command, exempt in OTHER_INSTALLERS:
        match = command.search(line)
        if match and not exempt.search(line[match.end() :]):
            return True
    return False


def _pip_configured(lines):
    """Whether the script points pip at an index that is not the internet before installing."""
    for _number, line in lines:
        match = PIP_CONFIGURED.search(line)
        if match:
            url = match.group(1) or match.group(2)
            if url is None or not any(_internet(host) for host in _hosts(url)):
                return True
    return False


def check_lifecycle_script(name, config, platform):
    """Lint of a lifecycle configuration's OnStart and OnCreate scripts for a notebook on ``platform``.  The
    evidence holds the offending lines with credentials redacted; the message only their numbers."""
    al2023 = (platform or "").startswith("notebook-al2023")
    found = []
    for hook in ("OnStart", "OnCreate"):
        text = hook_text(config, hook)
        if not text:
            continue
        lines = lint_lines(text)
        configured = _pip_configured(lines)
        rules = [
            ("lifecycle-script-internet-download", functools.partial(downloads, pip_configured=configured)),
            ("lifecycle-script-usr-bin-python", USR_BIN_PYTHON.search),
        ]
        if al2023:
            scheduled = any(SYSTEMD_TIMER.search(line) for _n, line in lines)
            if not scheduled and not any(CRON_INSTALLED.search(line) for _n, line in lines):
                rules.append(("lifecycle-script-crontab-al2023", CRON.search))
            rules.append(("lifecycle-script-yum-al2023", YUM.search))
        for finding_id, matches in rules:
            hits = [{"line": n, "text": redact(line.strip())[:200]} for n, line in lines if matches(line)]
            if not hits:
                continue
            evidence = {"lifecycle_config_name": name, "hook": hook, "platform_identifier": platform,
                        "lines": hits[:LINT_LINES_SHOWN], "count": len(hits)}  # fmt: skip
            message = "lifecycle configuration %s, %s script, line %s (%d in all): %s" % (
                name, hook, ", ".join(str(h["line"]) for h in hits[:LINT_LINES_SHOWN]), len(hits),
                FINDING_TITLES[finding_id])  # fmt: skip
            found.append(finding(finding_id, name, message, evidence))
    return found


def check_lifecycle(name, config, script=None):
    """``config``: DescribeNotebookInstanceLifecycleConfig shape (None: not found).
    ``script``: {"sha256"} or {"error", "operation"} of the pinned object, when the script is pinned."""
    if config is None:
        return [
            finding(
                "lifecycle-config-missing",
                name,
                "lifecycle configuration %s does not exist" % name,
                {"lifecycle_config_name": name, "error": "not found"},
            )
        ]
    text = on_start_text(config)
    parsed = parse_on_start(text)
    if not parsed["installs_autostop"]:
        reason = "no OnStart hook" if text is None else "the OnStart script does not fetch and schedule autostop.py"
        return [
            finding(
                "autostop-not-installed",
                name,
                "lifecycle configuration %s: %s" % (name, reason),
                {"lifecycle_config_name": name, "reason": reason},
            )
        ]
    if not (parsed["bucket"] and parsed["key"] and parsed["sha256"]):
        missing = [k.upper() for k in ("bucket", "key", "sha256") if not parsed[k]]
        return [
            finding(
                "autostop-not-pinned",
                name,
                "lifecycle configuration %s installs autostop.py without %s" % (name, ", ".join(missing)),
                {"lifecycle_config_name": name, "missing": missing},
            )
        ]
    if script is None:
        return []
    location = "s3://%s/%s" % (parsed["bucket"], parsed["key"])
    if script.get("error"):
        return [check_failed("script", location, script["operation"], script["error"])]
    if script["sha256"] != parsed["sha256"]:
        return [
            finding(
                "autostop-sha256-mismatch",
                location,
                "%s has SHA-256 %s, lifecycle configuration %s pins %s"
                % (location, script["sha256"], name, parsed["sha256"]),
                {
                    "lifecycle_config_name": name,
                    "bucket": parsed["bucket"],
                    "key": parsed["key"],
                    "expected_sha256": parsed["sha256"],
                    "actual_sha256": script["sha256"],
                },
            )
        ]
    return []


PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def check_bucket(bucket, data):
    """``data``: {"public_access_block": dict|None, "encryption": dict|None, "policy": dict|None,
    "errors": [{"operation", "error"}]} as ``ResourceCache.bucket`` returns it."""
    found = [check_failed("bucket", bucket, e["operation"], e["error"]) for e in data.get("errors", [])]
    failed = set(e["operation"] for e in data.get("errors", []))
    if "GetPublicAccessBlock" not in failed:
        block = data.get("public_access_block") or {}
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if not block.get(flag)]
        if off:
            found.append(
                finding(
                    "bucket-public-access-not-blocked",
                    bucket,
                    "bucket %s does not set %s" % (bucket, ", ".join(off)),
                    {
                        "bucket": bucket,
                        "public_access_block": dict((f, bool(block.get(f))) for f in PUBLIC_ACCESS_FLAGS)
                        if data.get("public_access_block") is not None
                        else None,
                        "not_set": off,
                    },
                )
            )
    if "GetBucketEncryption" not in failed and not (data.get("encryption") or {}).get("Rules"):
        found.append(
            finding(
                "bucket-not-encrypted",
                bucket,
                "bucket %s has no default encryption" % bucket,
                {"bucket": bucket, "encryption": None},
            )
        )
    if "GetBucketPolicy" not in failed:
        found.extend(check_bucket_policy(data.get("policy"), bucket))
    return found
