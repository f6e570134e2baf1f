# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The caller's least-privilege policy (caller_policy.py, docs/permissions.md), proved.

The emulator runs with request authorization on, evaluating identity policies as AWS does
(tests/emulator/authz.py: resources and condition keys from the Service Authorization Reference,
iam:PassRole and tag-on-create permissions).  A role session holding exactly the rendered policy
runs site.yml (converge, a zero-change re-run, a grown fleet with a new idle limit) and
teardown.yml; a session holding exactly the audit policy runs audit.yml.  KMS decides by the key
policy first: the emulator evaluates the stack key's policy too, and the uses S3 and SageMaker make
of the key with the caller's credentials (a data key for the script, the grant of a volume).  Then each statement is
removed in turn and the run that needs it fails with a denial naming one of its actions: none is
dead weight.

The emulator logs every authorization with the statements that allowed it; a statement's removal
is tried on the run where it first was the only one allowing a request, from the state the runs
before it left, in the order of those requests (a failed run only ever does steps that come before
the next statement's first request).
"""

import json
import urllib.request

import pytest
from conftest import error_codes
from test_role import play, vpc_with_private_subnet

from tests.emulator import harness

PREFIX = "cp"
BUCKET = "cp-notebook-scripts"
FIRST, GROWN = ["cp-one"], ["cp-one", "cp-two"]
VARIABLES = {
    "isolated_notebook_region": harness.REGION,
    "isolated_notebook_bucket": BUCKET,
    "isolated_notebook_name_prefix": PREFIX,
    "isolated_notebook_wait_timeout": 120,
    "isolated_notebook_tags": {"team": "platform"},
}
DENIALS = ("AccessDenied", "UnauthorizedOperation", "AccessDeniedException")
ADMIN = "arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PlatformAdmin_0123456789abcdef" % (
    harness.ACCOUNT_ID)  # fmt: skip


def module(name):
    import importlib

    return importlib.import_module("ansible_collections.secure_sagemaker.notebooks.plugins.module_utils." + name)


def _moto_api(emulator, path, method="GET", body=None):
    request = urllib.request.Request(emulator.url + path, method=method, data=body,
                                     headers={"Content-Type": "text/plain"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10, context=emulator._ssl_context()) as response:
        return json.loads(response.read())


def set_auth(emulator, on):
    _moto_api(emulator, "/moto-api/reset-auth", "POST", b"0" if on else b"inf")


def authorization_log(emulator):
    return _moto_api(emulator, "/moto-api/authorization-log", "DELETE")


def stack_of(network, names):
    return {
        "prefix": PREFIX, "bucket": BUCKET, "script_prefix": "lifecycle-configurations/", "region": harness.REGION,
        "account": harness.ACCOUNT_ID, "vpc_id": network["isolated_notebook_vpc_id"],
        "subnet_id": network["isolated_notebook_subnet_id"], "notebooks": names,
    }  # fmt: skip


def variables(network, names, **extra):
    return dict(VARIABLES, **network, isolated_notebook_notebooks=[{"name": n} for n in names], **extra)


class Caller:
    """A role holding exactly ``document`` (as managed policies of at most 6,144 characters each),
    and a session of it.  Changes happen with authorization off, as an administrator would make them."""

    def __init__(self, emulator, name, document):
        self.emulator, self.name = emulator, name
        iam = emulator.client("iam")
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
        self.arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.attached = []
        self.hold(document)
        session = emulator.client("sts").assume_role(RoleArn=self.arn, RoleSessionName="awx-job")
        self.credentials = session["Credentials"]

    def hold(self, document):
        """Replace the role's policies with ``document``'s statements (auth must be off)."""
        iam = self.emulator.client("iam")
        for policy_arn in self.attached:
            iam.detach_role_policy(RoleName=self.name, PolicyArn=policy_arn)
            iam.delete_policy(PolicyArn=policy_arn)
        self.attached = []
        for number, part in enumerate(module("caller_policy").managed_parts(document), 1):
            created = iam.create_policy(PolicyName="%s-%d-%d" % (self.name, len(document["Statement"]), number),
                                        PolicyDocument=json.dumps(part))  # fmt: skip
            iam.attach_role_policy(RoleName=self.name, PolicyArn=created["Policy"]["Arn"])
            self.attached.append(created["Policy"]["Arn"])


def without(document, sid):
    return dict(document, Statement=[s for s in document["Statement"] if s["Sid"] != sid])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with harness.Emulator(tls=True, log_path=str(log)) as emulator:
        yield emulator


def prepare(emulator):
    """A fresh account: the user's network, the operator and auditor roles; authorization on."""
    set_auth(emulator, False)
    emulator.reset()
    network, _table = vpc_with_private_subnet(emulator.client("ec2"), "10.91")
    caller_policy = module("caller_policy")
    operator = Caller(emulator, "stack-operator", caller_policy.stack_policy(stack_of(network, FIRST)))
    auditor = Caller(emulator, "auditor", caller_policy.audit_policy())
    authorization_log(emulator)
    set_auth(emulator, True)
    return network, operator, auditor


def grow(emulator, operator, network, document=None):
    """The operator's policy rendered for the grown fleet (or ``document``)."""
    set_auth(emulator, False)
    operator.hold(document or module("caller_policy").stack_policy(stack_of(network, GROWN)))
    set_auth(emulator, True)


# The runs, in order: (name, playbook, notebooks, extra variables, caller).
RUNS = [
    ("converge", "site", FIRST, {}, "operator"),
    ("re-run", "site", FIRST, {}, "operator"),
    # A new admin principal changes the bucket policy and the key policy (kms:PutKeyPolicy on the stack's key).
    (
        "grow",
        "site",
        GROWN,
        {"isolated_notebook_idle_seconds": 1800, "isolated_notebook_admin_principals": [ADMIN]},
        "operator",
    ),
    ("audit", "audit", GROWN, {}, "auditor"),
    ("teardown", "teardown", GROWN, {}, "operator"),
]


def run(emulator, tmp_path, network, callers, index, policy_of_grown=None):
    name, playbook, names, extra, who = RUNS[index]
    if name == "grow":
        grow(emulator, callers["operator"], network, policy_of_grown)
    audit_vars = {"audit_names": GROWN, "audit_report_dir": str(tmp_path / "report")} if playbook == "audit" else {}
    return play(emulator, tmp_path, variables(network, names, **extra, **audit_vars), playbook=playbook,
                credentials=callers[who].credentials)  # fmt: skip


@pytest.fixture(scope="module")
def proved(world, tmp_path_factory):
    """Every run with exactly the policies: the runs and, per run, the authorization log."""
    network, operator, auditor = prepare(world)
    callers = {"operator": operator, "auditor": auditor}
    results = []
    for index in range(len(RUNS)):
        result = run(world, tmp_path_factory.mktemp(RUNS[index][0]), network, callers, index)
        results.append((result, authorization_log(world)))
    return network, results


def test_the_documented_policy_runs_every_playbook(world, proved):
    network, results = proved
    for (name, playbook, *_rest), (result, log) in zip(RUNS, results, strict=True):
        assert result.rc == 0, "%s (%s.yml) failed:\n%s" % (name, playbook, result.output[-5000:])
        assert log, "%s: the emulator authorized nothing - is authorization on?" % name
        assert not [e for e in log if e["decision"] != "allow"], name
        # A normal run shows no deprecation warning (amazon.aws's iam_role gave two on every run).
        assert "DEPRECATION" not in result.output, "%s:\n%s" % (name, result.output[-3000:])
    assert results[1][0].recap["changed"] == 0, results[1][0].output[-3000:]
    # The teardown left nothing of the stack (checked with the emulator's own keys).
    set_auth(world, False)
    try:
        assert world.client("sagemaker").list_notebook_instances()["NotebookInstances"] == []
        vpc = network["isolated_notebook_vpc_id"]
        endpoints = world.client("ec2").describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
        assert [e for e in endpoints["VpcEndpoints"] if e["State"].lower() not in ("deleted", "deleting")] == []
        assert sorted(r["RoleName"] for r in world.client("iam").list_roles()["Roles"]) == ["auditor", "stack-operator"]
    finally:
        set_auth(world, True)


def test_requests_outside_the_stack_are_denied(world, proved):
    """The same session cannot touch another stack's names, nor pass another role."""

    network, results = proved
    credentials = None
    for (name, *_rest), (result, _log) in zip(RUNS, results, strict=True):
        assert result.rc == 0, name
    set_auth(world, False)
    session = world.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/stack-operator" % harness.ACCOUNT_ID,
                                              RoleSessionName="probe")  # fmt: skip
    credentials = session["Credentials"]
    # Another workload's key, with the default key policy (IAM policies decide).
    victim = world.client("kms").create_key()["KeyMetadata"]["Arn"]
    set_auth(world, True)
    kms = world.client("kms", credentials=credentials)
    sagemaker = world.client("sagemaker", credentials=credentials)
    iam = world.client("iam", credentials=credentials)
    s3 = world.client("s3", credentials=credentials)
    attempts = {
        "another notebook": lambda: sagemaker.stop_notebook_instance(NotebookInstanceName="someone-else"),
        "another role": lambda: iam.create_role(RoleName="escalate", AssumeRolePolicyDocument="{}"),
        "another bucket": lambda: s3.create_bucket(Bucket="someone-elses-bucket"),
        "an admin policy on the role": lambda: iam.attach_role_policy(
            RoleName=PREFIX + "-notebook", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
        "another key's policy": lambda: kms.put_key_policy(KeyId=victim, PolicyName="default", Policy="{}"),
        "another key's deletion": lambda: kms.schedule_key_deletion(KeyId=victim, PendingWindowInDays=7),
        "another key's data key": lambda: kms.generate_data_key(KeyId=victim, KeySpec="AES_256"),
        "a grant on another key": lambda: kms.create_grant(KeyId=victim, GranteePrincipal="arn:aws:iam::%s:root"
                                                           % harness.ACCOUNT_ID, Operations=["Decrypt"]),
        "another alias": lambda: kms.create_alias(AliasName="alias/someone-else", TargetKeyId=victim),
        "a key without the stack's tag": lambda: kms.create_key(Tags=[{"TagKey": "team", "TagValue": "x"}]),
    }  # fmt: skip
    codes = error_codes(attempts)
    assert all(code in DENIALS for code in codes.values()), codes


def first_sole_uses(results):
    """{Sid: (run index, position)} of the first request only that statement allowed."""
    found = {}
    for index, (_result, log) in enumerate(results):
        for position, entry in enumerate(log):
            if len(entry["allowed_by"]) == 1 and entry["allowed_by"][0] not in found:
                found[entry["allowed_by"][0]] = (index, position)
    return found


def test_each_statement_is_needed(world, proved, tmp_path_factory):
    network, results = proved
    assert all(result.rc == 0 for result, _log in results)
    full = module("caller_policy").stack_policy(stack_of(network, GROWN))
    audit = module("caller_policy").audit_policy()
    sids = [s["Sid"] for s in full["Statement"]] + [s["Sid"] for s in audit["Statement"]]
    uses = first_sole_uses(results)
    assert sorted(uses) == sorted(sids), "statements never alone in allowing a request: %s" % sorted(
        set(sids) - set(uses)
    )

    # A fresh account, with a new VPC: the policies are rendered for it.
    network, operator, auditor = prepare(world)
    callers = {"operator": operator, "auditor": auditor}
    first = module("caller_policy").stack_policy(stack_of(network, FIRST))
    full = module("caller_policy").stack_policy(stack_of(network, GROWN))
    failures = {}
    for index in range(len(RUNS)):
        who = RUNS[index][4]
        document = audit if who == "auditor" else (full if index >= 2 else first)
        due = sorted((position, sid) for sid, (at, position) in uses.items() if at == index)
        for _position, sid in due:
            set_auth(world, False)
            callers[who].hold(without(document, sid))
            set_auth(world, True)
            authorization_log(world)
            result = run(world, tmp_path_factory.mktemp("without-" + sid), network, callers, index,
                         without(full, sid) if who == "operator" else None)  # fmt: skip
            denials = [e for e in authorization_log(world) if e["decision"] != "allow"]
            actions = next(s for s in document["Statement"] if s["Sid"] == sid)["Action"]
            failures[sid] = {
                "run": RUNS[index][0],
                "rc": result.rc,
                "denied": denials[0]["action"] if denials else None,
                # What the user reads: the denied action named in the output (amazon.aws's EC2
                # modules and S3's HEAD requests do not pass AWS's message on).
                "named_in_output": [a for a in actions if a in result.output],
                "actions": actions,
            }
            set_auth(world, False)
            callers[who].hold(document)
            set_auth(world, True)
        # The run itself, with the whole policy, to reach the next run's state.
        assert run(world, tmp_path_factory.mktemp("again-%d" % index), network, callers, index).rc == 0
    print(json.dumps(failures, indent=1))
    named = sum(1 for f in failures.values() if f["named_in_output"])
    print("%d statements removed; the failure names the denied action in the output for %d" % (len(failures), named))
    # Each removal failed, on a denial of one of the removed statement's own actions.
    wrong = {sid: f for sid, f in failures.items() if f["rc"] == 0 or f["denied"] not in f["actions"]}
    assert wrong == {}, wrong
    # Where the module is this collection's, the output names it (aws.error_message).
    ours = {"ChangeOnlyTheStackEndpoints", "CreateTheStackEndpoints", "LifecycleConfiguration", "Notebooks",
            "CreateNotebooksWithoutInternet", "PassTheNotebookRoleToSageMaker", "NotebookRole",
            "ReadNotebooksAndWhatTheyUse"}  # fmt: skip
    assert {sid: f for sid, f in failures.items() if sid in ours and not f["named_in_output"]} == {}


def test_the_playbook_writes_the_policies_the_filters_build(world, tmp_path):
    """playbooks/caller_policy.yml, from the same variables as site.yml, changes nothing in AWS."""
    set_auth(world, False)
    try:
        network, _table = vpc_with_private_subnet(world.client("ec2"), "10.92")
        out = tmp_path / "policies"
        out.mkdir()
        result = play(world, tmp_path, variables(network, GROWN, isolated_notebook_policy_dir=str(out)),
                      playbook="caller_policy")  # fmt: skip
        assert result.rc == 0, result.output[-3000:]
        assert not result.writes(), result.writes()
    finally:
        set_auth(world, True)
    caller_policy = module("caller_policy")
    assert json.loads((out / "caller-policy.json").read_text()) == caller_policy.stack_policy(stack_of(network, GROWN))
    assert json.loads((out / "audit-policy.json").read_text()) == caller_policy.audit_policy()
