# -*- coding: utf-8 -*-
# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit on top of the checks and the cache.

``validate()`` checks the options before any AWS call; ``gather()`` reads what the checks need
through a ``ResourceCache``; ``report()`` runs the checks over that data and builds the module
result (no AWS); ``audit()`` is the two together.  ``reaches()`` and ``failure_message()`` apply
``fail_on``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.cache import call_totals
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.checks import (
    check_bucket,
    check_lifecycle,
    check_lifecycle_script,
    check_network,
    check_notebook,
    check_role,
    on_start_text,
    parse_on_start,
    pinned_script,
    s3_gateways_on,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.diagram import mermaid, path_of
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.findings import (
    FAIL_ON,
    RANK,
    by_control,
    check_failed,
    count_by_severity,
    finding,
    highest_severity,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.logs import (
    check_lifecycle_logs,
    logs_endpoints,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit.reach import (
    TEAM_TAG,
    cross_team,
    endpoint_reach,
    notebook_reach,
)
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.arn import name_error
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.isolation import effective_route_table


def validate(params):
    """Checks the options before any AWS call; returns the normalised spec."""
    names = params.get("names")
    if names is not None:
        if not names:
            raise NotebooksError(
                "names: give at least one notebook name, or omit names to audit every notebook of the region",
                field="names",
            )
        for index, name in enumerate(names):
            error = name_error(name, "names[%d]" % index, "notebook instance")
            if error:
                raise NotebooksError(error, field="names")
        names = list(dict.fromkeys(names))
    fail_on = params.get("fail_on") or "never"
    if fail_on not in FAIL_ON:
        raise NotebooksError("fail_on: must be one of %s (got %r)" % (", ".join(FAIL_ON), fail_on), field="fail_on")
    return {"names": names, "fail_on": fail_on, "allow_root_access": bool(params.get("allow_root_access"))}


def gather(cache, spec):
    """What the checks look at, read through ``cache`` (all of the region when ``spec["names"]`` is
    None): {"notebooks": [DescribeNotebookInstance], "not_found": [name], "subnets": {id: subnet},
    "route_tables": {vpc: [table]}, "endpoints": {vpc: [endpoint]}, "roles": {arn: role},
    "lifecycle_configs": {name: config}, "scripts": {(bucket, key): script}, "buckets": {name: data},
    "security_groups": {"groups": {id: group}} (the notebooks' and the CloudWatch Logs endpoints' groups, in
    the VPCs that have such an endpoint)} in the shapes ``ResourceCache`` returns."""
    names = spec["names"] if spec["names"] is not None else cache.notebook_names()
    described, not_found = [], []
    for name in names:
        notebook = cache.notebook(name)
        if notebook is None:
            not_found.append(name)
        else:
            described.append(notebook)

    subnet_ids = set(n["SubnetId"] for n in described if n.get("SubnetId"))
    subnets = cache.subnets(subnet_ids) if subnet_ids else {}
    vpc_ids = set(s["VpcId"] for s in subnets.values())
    data = {
        "notebooks": described,
        "not_found": not_found,
        "subnets": subnets,
        "route_tables": cache.route_tables(vpc_ids) if vpc_ids else {},
        "endpoints": cache.endpoints(vpc_ids) if vpc_ids else {},
        "roles": {},
        "lifecycle_configs": {},
        "scripts": {},
        "buckets": {},
        "security_groups": {"groups": {}},
    }
    # Security groups matter only where a CloudWatch Logs endpoint could take the lifecycle output.
    with_logs = set(vpc for vpc, found in data["endpoints"].items() if logs_endpoints(found))
    group_ids = set(
        group["GroupId"]
        for vpc in with_logs
        for endpoint in logs_endpoints(data["endpoints"][vpc])
        for group in endpoint.get("Groups") or []
    )
    group_ids.update(
        group
        for n in described
        if subnets.get(n.get("SubnetId"), {}).get("VpcId") in with_logs
        for group in n.get("SecurityGroups") or []
    )
    if group_ids:
        data["security_groups"] = cache.security_groups(group_ids)
    for notebook in described:
        arn = notebook.get("RoleArn")
        if arn and arn not in data["roles"]:
            data["roles"][arn] = cache.role(arn)
        lcc = notebook.get("NotebookInstanceLifecycleConfigName")
        if not lcc or lcc in data["lifecycle_configs"]:
            continue
        config = data["lifecycle_configs"][lcc] = cache.lifecycle_config(lcc)
        if config is None or config.get("error"):
            continue
        parsed = parse_on_start(on_start_text(config))
        location = pinned_script(parsed)
        if location and location not in data["scripts"]:
            data["scripts"][location] = cache.script(*location)
        if parsed["bucket"] and parsed["bucket"] not in data["buckets"]:
            data["buckets"][parsed["bucket"]] = cache.bucket(parsed["bucket"])
    return data


def report(data, spec, region, calls, now=None):
    """The module result: the checks over ``gather()``'s data; ``calls``: {service: {operation: n}}."""
    subnets, tables, endpoints = data["subnets"], data["route_tables"], data["endpoints"]
    memo = {}

    def once(key, compute, *args):
        if key not in memo:
            memo[key] = compute(*args)
        return copy.deepcopy(memo[key])

    def lifecycle(name):
        config = data["lifecycle_configs"][name]
        if config is None:
            return check_lifecycle(name, None)
        if config.get("error"):
            return [check_failed("lifecycle-config", name, config["operation"], config["error"])]
        parsed = parse_on_start(on_start_text(config))
        location = pinned_script(parsed)
        found = check_lifecycle(name, config, data["scripts"][location] if location else None)
        bucket = parsed["bucket"]
        if bucket:
            found.extend(once(("bucket", bucket), check_bucket, bucket, data["buckets"][bucket]))
        return found

    def role(arn):
        role_data = data["roles"][arn]
        if role_data.get("error"):
            return [check_failed("role", arn, role_data["operation"], role_data["error"])]
        return check_role(role_data)

    # The execution roles of the audited notebooks, by VPC: the principals a data grant may name.
    vpc_roles = {}
    for notebook in data["notebooks"]:
        vpc = (subnets.get(notebook.get("SubnetId")) or {}).get("VpcId")
        if vpc and notebook.get("RoleArn"):
            vpc_roles.setdefault(vpc, set()).add(notebook["RoleArn"])
    now = now or datetime.datetime.now(datetime.timezone.utc)
    results, teams = [], []
    for notebook in data["notebooks"]:
        name = notebook["NotebookInstanceName"]
        findings = check_notebook(notebook, spec["allow_root_access"], now)
        subnet_id = notebook.get("SubnetId")
        subnet = subnets.get(subnet_id)
        vpc_id = subnet["VpcId"] if subnet else None
        if subnet_id:
            findings.extend(
                once(
                    ("network", subnet_id),
                    check_network,
                    subnet_id,
                    subnet,
                    tables.get(vpc_id, []),
                    endpoints.get(vpc_id, []),
                    region,
                    sorted(vpc_roles.get(vpc_id, ())),
                )
            )
        if notebook.get("RoleArn"):
            findings.extend(once(("role", notebook["RoleArn"]), role, notebook["RoleArn"]))
        lcc = notebook.get("NotebookInstanceLifecycleConfigName")
        if lcc:
            findings.extend(once(("lcc", lcc), lifecycle, lcc))
            config = data["lifecycle_configs"].get(lcc)
            if config and not config.get("error"):
                platform = notebook.get("PlatformIdentifier")
                findings.extend(once(("lint", lcc, platform), check_lifecycle_script, lcc, config, platform))
        if subnet and lcc:  # without lifecycle hooks there is no lifecycle output to deliver
            config = data["lifecycle_configs"].get(lcc)
            findings.extend(
                check_lifecycle_logs(
                    notebook,
                    subnet,
                    endpoints.get(vpc_id, []),
                    data.get("security_groups") or {},
                    config,
                    data["roles"].get(notebook.get("RoleArn")),
                    region,
                )
            )
        role_data = data["roles"].get(notebook.get("RoleArn")) or {}
        path = path_of(notebook, subnet_id, *_route_and_bucket(data, subnet, subnet_id, lcc))
        teams.append({
            "name": name, "team": (role_data.get("tags") or {}).get(TEAM_TAG),
            # The S3 data the role can reach through the endpoint on the notebook's route table.
            "data_access": notebook_reach(notebook, subnet, tables.get(vpc_id, []), endpoints.get(vpc_id, []),
                                          role_data or None),
            "endpoint_access": endpoint_reach(notebook, subnet, tables.get(vpc_id, []), endpoints.get(vpc_id, []),
                                              notebook.get("RoleArn")),
        })  # fmt: skip
        results.append(
            {
                "name": name,
                "arn": notebook.get("NotebookInstanceArn"),
                "status": notebook.get("NotebookInstanceStatus"),
                "subnet_id": subnet_id,
                "vpc_id": vpc_id,
                "role_arn": notebook.get("RoleArn"),
                "lifecycle_config_name": lcc,
                "direct_internet_access": notebook.get("DirectInternetAccess"),
                "isolated": None,  # below, with the findings between teams
                "data_access": teams[-1]["data_access"],
                "counts": None,
                "findings": findings,
                "path": path,
                "diagram": None,  # below, for a notebook that is not isolated
            }
        )
    # One team's notebooks reaching what another team's write: known only once every notebook is read.
    crossed = cross_team(teams)
    for entry in results:
        for finding_id, evidence in crossed.get(entry["name"], []):
            how = "reaches" if finding_id == "cross-team-data" else "is let through its S3 endpoint to"
            message = "%s of team %s %s %s/%s (%s), which team %s writes" % (
                entry["name"], evidence["team"], how, evidence["bucket"], evidence["prefix"], evidence["access"],
                evidence["other_team"])  # fmt: skip
            entry["findings"].append(finding(finding_id, entry["role_arn"], message, evidence))
        entry["findings"].sort(key=lambda f: (-RANK[f["severity"]], f["id"], f["resource"] or ""))
        entry["isolated"] = not any(f["severity"] == "high" for f in entry["findings"])
        entry["counts"] = count_by_severity(entry["findings"])
        if not entry["isolated"]:
            entry["diagram"] = mermaid(entry["name"], entry["path"], entry["findings"])

    results.sort(key=lambda n: n["name"])
    every = [f for n in results for f in n["findings"]]
    isolated = sum(1 for n in results if n["isolated"])
    return {
        "changed": False,
        "region": region,
        "audited_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "notebooks": results,
        "not_found": data["not_found"],
        "counts": count_by_severity(every),
        "controls": by_control(results),
        "summary": {"notebooks": len(results), "isolated": isolated, "not_isolated": len(results) - isolated},
        "highest_severity": highest_severity(every),
        "aws_calls": call_totals(calls),
        "aws_calls_by_operation": dict((s, dict(sorted(o.items()))) for s, o in sorted(calls.items())),
    }


def _route_and_bucket(data, subnet, subnet_id, lcc):
    """(route table id, S3 gateway endpoint ids on it, script bucket) of a notebook's path."""
    table_id, endpoint_ids, bucket = None, [], None
    if subnet:
        vpc = subnet["VpcId"]
        table = effective_route_table(data["route_tables"].get(vpc, []), subnet_id)
        table_id = table["route_table_id"] if table else None
        endpoint_ids = [e["VpcEndpointId"] for e in s3_gateways_on(data["endpoints"].get(vpc, []), table_id)]
    config = data["lifecycle_configs"].get(lcc) if lcc else None
    if config and not config.get("error"):
        bucket = parse_on_start(on_start_text(config))["bucket"]
    return table_id, endpoint_ids, bucket


def audit(cache, spec, region, now=None):
    """Audit the named notebooks (all of the region when ``spec["names"]`` is None); the module result."""
    return report(gather(cache, spec), spec, region, cache.calls, now)


def reaches(result, fail_on):
    """Whether any finding is at or above ``fail_on`` (never: never)."""
    return RANK[result["highest_severity"]] >= RANK[fail_on]


def failure_message(result, fail_on):
    offenders = [
        n["name"] for n in result["notebooks"] if any(RANK[f["severity"]] >= RANK[fail_on] for f in n["findings"])
    ]
    counts = result["counts"]
    return "%d of %d notebooks have findings of severity %s or higher (%d high, %d medium, %d low): %s" % (
        len(offenders),
        result["summary"]["notebooks"],
        fail_on,
        counts["high"],
        counts["medium"],
        counts["low"],
        ", ".join(offenders),
    )
