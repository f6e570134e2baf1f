# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/audit.yml against the emulator, through ansible-playbook:

- a stack built by the isolated_notebook role (playbooks/site.yml) audits clean, and drift (a NAT
  route added later) is found and fails the play, with the summary as the play's last words;
- a fleet of 50 notebooks in two subnets costs one describe per notebook and a constant number of
  calls for the shared resources (the module's own count, cross-checked with the emulator's).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

from conftest import COLLECTION

from tests.emulator import harness
from tests.emulator.audit_fleet import build_fleet, private_network

PLAYBOOKS = COLLECTION / "playbooks"
FLEET = 50
REGION = harness.REGION


def playbook(name, emulator, tmp_path, variables, timeout=600):
    """Run a playbook of the collection with the emulator's connection variables; (rc, output)."""
    values = dict(
        variables,
        aws_endpoint_url=emulator.url,
        aws_ca_bundle=emulator.ca_bundle or "",
        aws_access_key=harness.ACCESS_KEY,
        aws_secret_key=harness.SECRET_KEY,
    )
    path = tmp_path / ("%s-vars.json" % name)
    path.write_text(json.dumps(values))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(PLAYBOOKS / (name + ".yml")),
               "-e", "@%s" % path]  # fmt: skip
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION.parents[2]))
    started = time.monotonic()
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
                            check=False)  # fmt: skip
    print("%s: %.1f s" % (name, time.monotonic() - started))
    return result.returncode, result.stdout + result.stderr


def report(tmp_path, name="audit"):
    folder = tmp_path / name
    return json.loads((folder / ("isolation-audit-%s.json" % REGION)).read_text()), (
        folder / ("isolation-audit-%s.md" % REGION)
    ).read_text()


def rendered(html, tmp_path):
    """The DOM of ``html`` after Debian's Chromium ran its scripts headless (tools/bootstrap.sh installs it)."""
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: tools/bootstrap.sh installs Debian's chromium"
    # Without the background-networking flags Chromium tries Google's hosts on this closed network.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=%s" % (tmp_path / "chromium"), "--virtual-time-budget=30000", "--dump-dom"]  # fmt: skip
    result = subprocess.run([chromium] + flags + [html.as_uri()], capture_output=True, text=True, timeout=300,
                            check=False)  # fmt: skip
    assert result.returncode == 0 and "</html>" in result.stdout, result.stderr[-2000:]
    return result.stdout


def last_task_output(output):
    """The text between the last TASK header and the PLAY RECAP."""
    return output[output.rindex("TASK [") : output.rindex("PLAY RECAP")]


def test_role_built_stack_audits_clean_and_drift_is_found(emulator, tmp_path):
    emulator.reset()
    ec2 = emulator.client("ec2")
    vpc, subnet, table = private_network(ec2, REGION)
    stack = {
        "isolated_notebook_region": REGION,
        "isolated_notebook_vpc_id": vpc,
        "isolated_notebook_subnet_id": subnet,
        "isolated_notebook_bucket": "audit-role-scripts",
        "isolated_notebook_name_prefix": "auditrole",
        "isolated_notebook_wait_timeout": 120,
        "isolated_notebook_notebooks": [{"name": "auditrole-one"}, {"name": "auditrole-two"}],
    }
    rc, output = playbook("site", emulator, tmp_path, stack)
    assert rc == 0, output[-4000:]

    audit_vars = dict(stack, audit_fail_on="low", audit_report_dir=str(tmp_path / "audit"))
    rc, output = playbook("audit", emulator, tmp_path, audit_vars)
    assert rc == 0, output[-4000:]
    result, markdown = report(tmp_path)
    assert [(n["name"], n["isolated"], n["findings"]) for n in result["notebooks"]] == [
        ("auditrole-one", True, []),
        ("auditrole-two", True, []),
    ]
    assert result["counts"] == {"high": 0, "medium": 0, "low": 0, "total": 0}
    # The audit read what the role built: the notebook's own subnet, role and lifecycle config.
    assert {n["subnet_id"] for n in result["notebooks"]} == {subnet}
    assert {n["lifecycle_config_name"] for n in result["notebooks"]} == {"auditrole-autostop"}
    assert {n["role_arn"].split("/")[-1] for n in result["notebooks"]} == {"auditrole-notebook"}
    assert result["aws_calls_by_operation"]["s3"]["GetObject"] == 1
    assert "| auditrole-one | isolated | 0 | 0 | 0 |" in markdown
    assert result["controls"] == [] and "| - | (no findings) |" in markdown
    assert "2 notebooks in us-east-1: 2 isolated, 0 not isolated; findings: 0 high, 0 medium, 0 low" in (
        last_task_output(output)
    )

    # Drift: someone adds a NAT route to the notebooks' route table.
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    # This time Security Hub follows the audit too.
    hub = emulator.client("securityhub")
    hub.enable_security_hub()
    rc, output = playbook("audit", emulator, tmp_path, dict(audit_vars, audit_security_hub=True))
    assert rc != 0
    result, markdown = report(tmp_path)
    held = hub.get_findings()["Findings"]
    assert sorted((f["Resources"][0]["Id"].split("/")[-1], f["GeneratorId"], f["RecordState"]) for f in held) == [
        (name, "secure-sagemaker-notebooks/isolation_audit/subnet-egress-route", "ACTIVE")
        for name in ("auditrole-one", "auditrole-two")]  # fmt: skip
    assert "Security Hub: 2 new, 0 updated, 0 reopened, 0 resolved" in last_task_output(output)
    # The Markdown report draws the path above the findings, the route out marked broken.
    section = markdown.split("## auditrole-two: NOT isolated")[1]
    assert section.index("```mermaid") < section.index("`subnet-egress-route`")
    assert re.search(r'\n  (n[0-9a-f]{8}_)rt -->\|"0\.0\.0\.0/0 via %s"\| \1internet\n' % nat, section), section
    # The HTML report, in a real headless browser: the diagram is drawn (Mermaid from beside the report), the
    # table by control is there.
    dom = rendered(tmp_path / "audit" / ("isolation-audit-%s.html" % REGION), tmp_path)
    assert (tmp_path / "audit" / "mermaid.min.js").is_file()
    svg_ids = set()
    for name in ("auditrole-one", "auditrole-two"):
        drawn = dom.split('id="notebook-%s"' % name)[1].split("</section>")[0]
        assert 'aria-roledescription="flowchart' in drawn and "<svg" in drawn, drawn[:2000]
        assert "internet" in drawn and table in drawn and nat in drawn and name in drawn
        assert 'class="mermaid" data-processed="true"' in drawn
        svg_ids.add(drawn.split('<svg id="')[1].split('"')[0])
    assert len(svg_ids) == 2  # two diagrams, two drawings
    controls = dom.split('id="controls"')[1].split("</table>")[0]
    assert "<code>subnet-egress-route</code>" in controls and "own check" in controls
    for entry in result["notebooks"]:
        assert entry["isolated"] is False
        assert [(f["id"], f["evidence"]) for f in entry["findings"]] == [
            ("subnet-egress-route", {"subnet_id": subnet, "route_table_id": table, "destination": "0.0.0.0/0",
                                     "target": nat, "kind": "NAT gateway"}),
        ]  # fmt: skip
    assert "| auditrole-two | **NOT isolated** | 1 | 0 | 0 |" in markdown
    # The table by control comes first: the route is this collection's own check, fixed on the route table.
    assert markdown.index("## Findings by control") < markdown.index("## Notebooks")
    assert ("| own check | `subnet-egress-route` | high | 2 | 2 | other-resource | subnet-egress-route |"
            in markdown)  # fmt: skip
    assert ("  - Fix: other-resource (amazon.aws.ec2_vpc_route_table: routes); the isolated_notebook role does not "
            "fix it" in markdown)  # fmt: skip
    assert "  - Controls: this collection's own check" in markdown
    assert "## auditrole-two: NOT isolated" in markdown and "`subnet-egress-route`" in markdown
    assert nat in markdown
    last = last_task_output(output)
    assert "2 notebooks in us-east-1: 0 isolated, 2 not isolated; findings: 2 high, 0 medium, 0 low" in last
    assert "findings reach audit_fail_on=low" in last

    # Drift of the lifecycle output's way out: the notebook group loses its egress to the CloudWatch Logs
    # endpoint's group, and the endpoint's policy is replaced by one that lets other streams through.
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]}  # fmt: skip
    notebooks_group, logs_group = groups["auditrole-notebooks"], groups["auditrole-cloudwatch-logs"]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [notebooks_group["GroupId"]]}])
    to_logs = [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if r["IsEgress"]
               and (r.get("ReferencedGroupInfo") or {}).get("GroupId") == logs_group["GroupId"]]  # fmt: skip
    assert len(to_logs) == 1, rules
    ec2.revoke_security_group_egress(GroupId=notebooks_group["GroupId"], SecurityGroupRuleIds=to_logs)
    logs_endpoint = ec2.describe_vpc_endpoints(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "service-name", "Values": ["com.amazonaws.%s.logs" % REGION]}
    ])["VpcEndpoints"][0]  # fmt: skip
    other = policies_module().logs_endpoint_policy(
        ["someone-else"], REGION, emulator.client("sts").get_caller_identity()["Account"]
    )
    ec2.modify_vpc_endpoint(VpcEndpointId=logs_endpoint["VpcEndpointId"], PolicyDocument=json.dumps(other))
    rc, output = playbook("audit", emulator, tmp_path, audit_vars)
    assert rc != 0, output[-3000:]
    result, _markdown = report(tmp_path)
    for entry in result["notebooks"]:
        found = {f["id"]: f for f in entry["findings"]}
        assert sorted(found) == ["lifecycle-logs-blocked", "lifecycle-logs-endpoint-policy", "subnet-egress-route"]
        assert found["lifecycle-logs-blocked"]["severity"] == "low"
        assert found["lifecycle-logs-blocked"]["evidence"] == {
            "vpc_endpoint_id": logs_endpoint["VpcEndpointId"], "blocked": ["egress"],
            "notebook_security_groups": [notebooks_group["GroupId"]],
            "endpoint_security_groups": [logs_group["GroupId"]]}  # fmt: skip
        assert found["lifecycle-logs-endpoint-policy"]["evidence"]["denied"] == [
            {"action": action, "resource": "arn:aws:logs:%s:%s:log-group:/aws/sagemaker/NotebookInstances:log-stream:"
             "%s/LifecycleConfigOnStart" % (REGION, entry["arn"].split(":")[4], entry["name"])}
            for action in ("logs:CreateLogStream", "logs:PutLogEvents")]  # fmt: skip
    assert result["aws_calls_by_operation"]["ec2"]["DescribeSecurityGroups"] == 1


def policies_module():
    import importlib

    return importlib.import_module("ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.policies")


def test_fleet_of_50_costs_one_describe_each_and_constant_shared_calls(emulator, tmp_path):
    emulator.reset()
    started = time.monotonic()
    names = build_fleet(emulator, FLEET, REGION, (COLLECTION / "files" / "autostop.py").read_bytes())
    print("fleet built in %.1f s" % (time.monotonic() - started))
    counting = hasattr(emulator, "request_counts")
    if counting:
        emulator.request_counts(reset=True)

    audit_vars = {"audit_region": REGION, "audit_report_dir": str(tmp_path / "audit")}
    rc, output = playbook("audit", emulator, tmp_path, audit_vars)
    assert rc == 0, output[-4000:]
    result, markdown = report(tmp_path)

    assert [n["name"] for n in result["notebooks"]] == names
    assert all(n["isolated"] and n["findings"] == [] for n in result["notebooks"]), result["counts"]
    assert result["summary"] == {"notebooks": FLEET, "isolated": FLEET, "not_isolated": 0}
    assert result["aws_calls_by_operation"] == {
        # One describe per notebook; one list page (100 per page) and one lifecycle config.
        "sagemaker": {"DescribeNotebookInstance": FLEET, "ListNotebookInstances": 1,
                      "DescribeNotebookInstanceLifecycleConfig": 1},
        # Two subnets, two route tables, one VPC, two security groups: one call each for the whole fleet.
        "ec2": {"DescribeSubnets": 1, "DescribeRouteTables": 1, "DescribeVpcEndpoints": 1, "DescribeSecurityGroups": 1},
        # One role with three managed policies.
        "iam": {"GetRole": 1, "ListAttachedRolePolicies": 1, "ListRolePolicies": 1, "GetPolicy": 3,
                "GetPolicyVersion": 3},
        # One script object and one bucket.
        "s3": {"GetObject": 1, "GetPublicAccessBlock": 1, "GetBucketEncryption": 1, "GetBucketPolicy": 1},
    }  # fmt: skip
    assert result["aws_calls"] == {"ec2": 4, "iam": 9, "s3": 4, "sagemaker": FLEET + 2}
    if counting:
        # The emulator saw exactly those calls (the play makes no other AWS call); it names S3
        # operations by method and sub-resource, so S3 is compared by total.
        served = emulator.request_counts()
        assert {k: v for k, v in served.items() if k != "s3"} == {
            k: v for k, v in result["aws_calls_by_operation"].items() if k != "s3"
        }, served
        assert {s: sum(ops.values()) for s, ops in served.items()} == result["aws_calls"], served

    # The verdict table's rows (the data-access table's rows name the notebooks too).
    verdict, reach = markdown.split("## S3 data each notebook can reach")
    rows = [line for line in verdict.splitlines() if line.startswith("| fleet-")]
    assert len(rows) == FLEET and all("| isolated |" in row for row in rows)
    # Each notebook reads its script prefix, the one object grant of the fleet's role.
    assert len([line for line in reach.splitlines() if line.startswith("| fleet-") and "| read |" in line]) == FLEET
    assert "**50** notebooks, **50** isolated" in markdown
    assert "50 notebooks in us-east-1: 50 isolated, 0 not isolated" in last_task_output(output)
