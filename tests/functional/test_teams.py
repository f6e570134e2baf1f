# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Teams: three data-science teams in one VPC, each reaching exactly its own data.

alpha and beta have subnets on one route table, gamma a subnet on a route table of its own.  site.yml
builds the three teams in one run (isolated_notebook_teams) against an emulator of its own: a stack per
team, one S3 gateway endpoint per route table (alpha and beta share one), one SageMaker API endpoint.
Then, with request authorization on (tests/emulator/authz.py: identity policies, bucket policies and
the policy of the VPC endpoint a client stands behind), each team's role is tried through its own
endpoint on every cell of the matrix, and through the other route table's endpoint; each cell is
asserted allow or deny.  A second run makes no write call; removing beta (state absent) touches only
beta's resources and the shared policies, and restarts no other team's notebook; removing every team
deletes the shared endpoints.
"""

import base64
import json

import pytest
from botocore.exceptions import ClientError
from test_audit_fleet import playbook, report
from test_data_grants import outcome, session
from test_least_privilege import set_auth
from test_role import play

from tests.emulator import harness

PREFIX = "teams"
BUCKET = "teams-scripts"
DATA, REFERENCE, OTHER = "teams-data", "teams-reference", "teams-unrelated"
# gamma's notebooks have a role and a home each (isolated_notebook_homes): gamma-one, gamma-two
HOMES = "teams-homes"
GAMMA = ("gamma-one", "gamma-two")
TEAMS = ("alpha", "beta", "gamma")


def role_arn(team):
    """The role a team's notebook runs under: the team's, or for gamma gamma-one's own."""
    if team == "gamma":
        return own_role_arn("gamma-one")
    return "arn:aws:iam::%s:role/%s-%s-notebook" % (harness.ACCOUNT_ID, PREFIX, team)


def own_role_arn(notebook):
    return "arn:aws:iam::%s:role/%s-gamma/%s-gamma-nb-%s" % (harness.ACCOUNT_ID, PREFIX, PREFIX, notebook)


GAMMA_ROLES = "arn:aws:iam::%s:role/%s-gamma/*" % (harness.ACCOUNT_ID, PREFIX)


def team(name, subnet, state="present"):
    return {
        "name": name,
        "subnet_id": subnet,
        "notebooks": [{"name": n} for n in (GAMMA if name == "gamma" else ["%s-one" % name])],
        "data_grants": [
            {"bucket": DATA, "prefix": "%s/" % name, "access": "read-write"},
            # alpha asks the role to harden the reference bucket, which every team is granted
            dict(
                {"bucket": REFERENCE, "prefix": "%s/" % name, "access": "read"},
                **({"harden": True} if name == "alpha" else {}),
            ),
        ],
        "tags": {"cost-center": name},
        "state": state,
        # gamma's own on-start steps; alpha and beta run the shared ones (isolated_notebook_on_start_steps)
        **(
            {"on_start_steps": "pip install --quiet gamma-tools\n", "homes": {"bucket": HOMES, "prefix": "homes/"}}
            if name == "gamma"
            else {}
        ),
    }


def endpoints(ec2, vpc, service="s3"):
    found = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc]},
                 {"Name": "service-name", "Values": ["com.amazonaws.%s.%s" % (harness.REGION, service)]}]
    )["VpcEndpoints"]  # fmt: skip
    return [e for e in found if e["State"].lower() not in ("deleted", "deleting")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with harness.Emulator(tls=True) as emulator:
        ec2, s3 = emulator.client("ec2"), emulator.client("s3")
        vpc = ec2.create_vpc(CidrBlock="10.83.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnets = {
            name: ec2.create_subnet(VpcId=vpc, CidrBlock="10.83.%d.0/24" % number,
                                    AvailabilityZone=harness.REGION + zone)["Subnet"]["SubnetId"]
            for number, (name, zone) in enumerate((("alpha", "a"), ("beta", "b"), ("gamma", "a")), 1)
        }  # fmt: skip
        shared, own = (ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _table in range(2))
        for name, table in (("alpha", shared), ("beta", shared), ("gamma", own)):
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[name])
        for bucket in (DATA, REFERENCE, OTHER):
            s3.create_bucket(Bucket=bucket)
            for name in TEAMS:
                s3.put_object(Bucket=bucket, Key="%s/x.csv" % name, Body=b"1,2\n")
        s3.create_bucket(Bucket=HOMES)
        for name in GAMMA:
            s3.put_object(Bucket=HOMES, Key="homes/%s/x.csv" % name, Body=b"1,2\n")
        variables = {"isolated_notebook_vpc_id": vpc, "isolated_notebook_name_prefix": PREFIX,
                     "isolated_notebook_bucket": BUCKET, "isolated_notebook_on_start_steps": "echo shared steps\n",
                     "isolated_notebook_teams": [team(n, subnets[n]) for n in reversed(TEAMS)]}  # fmt: skip
        first = play(emulator, tmp_path_factory.mktemp("teams"), variables)
        assert first.rc == 0, first.output[-6000:]
        again = play(emulator, tmp_path_factory.mktemp("teams-again"), variables)
        by_table = {e["RouteTableIds"][0]: e for e in endpoints(ec2, vpc) if len(e["RouteTableIds"]) == 1}
        [api] = endpoints(ec2, vpc, "sagemaker.api")
        yield {"emulator": emulator, "vpc": vpc, "api": api, "subnets": subnets,
               "tables": {"shared": shared, "own": own},
               "endpoint": {"alpha": by_table.get(shared), "beta": by_table.get(shared), "gamma": by_table.get(own)},
               "first": first, "again": again, "variables": variables, "tmp": tmp_path_factory}  # fmt: skip


@pytest.fixture(scope="module")
def authorized(stack):
    emulator = stack["emulator"]
    sessions = {name: session(emulator, role_arn(name), name) for name in TEAMS}
    sessions["gamma-two"] = session(emulator, own_role_arn("gamma-two"), "gamma-two")
    iam = emulator.client("iam")
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    admin = iam.create_role(RoleName="teams-other-workload", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_role_policy(RoleName=admin["RoleName"], PolicyName="all", PolicyDocument=json.dumps(everything))
    sessions["other"] = session(emulator, admin["Arn"], "other")
    set_auth(emulator, True)
    yield sessions
    set_auth(emulator, False)


def cells(s3, me):
    """(label, outcome) of every cell for team ``me``'s role."""
    others = [name for name in TEAMS if name != me]
    found = {
        "own read-write: get": outcome(s3.get_object, Bucket=DATA, Key="%s/x.csv" % me),
        "own read-write: list": outcome(s3.list_objects_v2, Bucket=DATA, Prefix="%s/" % me),
        "own read-write: put": outcome(s3.put_object, Bucket=DATA, Key="%s/new.csv" % me, Body=b"x"),
        "own read: get": outcome(s3.get_object, Bucket=REFERENCE, Key="%s/x.csv" % me),
        "own read: list": outcome(s3.list_objects_v2, Bucket=REFERENCE, Prefix="%s/" % me),
        "own read: put": outcome(s3.put_object, Bucket=REFERENCE, Key="%s/new.csv" % me, Body=b"x"),
        "other bucket: get": outcome(s3.get_object, Bucket=OTHER, Key="%s/x.csv" % me),
        "own script: get": outcome(s3.get_object, Bucket="%s-%s" % (BUCKET, me),
                                   Key="lifecycle-configurations/%s/autostop.py" % me),
        "own script: put": outcome(s3.put_object, Bucket="%s-%s" % (BUCKET, me),
                                   Key="lifecycle-configurations/%s/autostop.py" % me, Body=b"import os\n"),
    }  # fmt: skip
    for other in others:
        found.update({
            "%s read-write: get" % other: outcome(s3.get_object, Bucket=DATA, Key="%s/x.csv" % other),
            "%s read-write: list" % other: outcome(s3.list_objects_v2, Bucket=DATA, Prefix="%s/" % other),
            "%s read-write: put" % other: outcome(s3.put_object, Bucket=DATA, Key="%s/new.csv" % other, Body=b"x"),
            "%s read: get" % other: outcome(s3.get_object, Bucket=REFERENCE, Key="%s/x.csv" % other),
        })  # fmt: skip
    return found


def expected(me, through_own=True):
    """Through its own endpoint a team reaches its grants and script; through another route table's
    endpoint none of its data (that endpoint lets other teams' grants through, for their roles)."""
    others = [name for name in TEAMS if name != me]
    allowed = {"own read-write: get", "own read-write: list", "own read-write: put", "own read: get", "own read: list",
               "own script: get"} if through_own else set()  # fmt: skip
    labels = ["own read-write: get", "own read-write: list", "own read-write: put", "own read: get", "own read: list",
              "own read: put", "other bucket: get", "own script: get", "own script: put"]  # fmt: skip
    for other in others:
        labels += [
            "%s %s" % (other, cell) for cell in ("read-write: get", "read-write: list", "read-write: put", "read: get")
        ]
    return {label: "allow" if label in allowed else "deny" for label in labels}


def test_three_teams_converge_with_a_stack_each_and_shared_endpoints(stack):
    emulator, vpc = stack["emulator"], stack["vpc"]
    ec2, iam, sm = (emulator.client(s) for s in ("ec2", "iam", "sagemaker"))
    s3_endpoints = endpoints(ec2, vpc)
    assert sorted(e["RouteTableIds"][0] for e in s3_endpoints) == sorted(stack["tables"].values())
    for endpoint in s3_endpoints:
        tags = {t["Key"]: t["Value"] for t in endpoint["Tags"]}
        assert tags["isolated-notebook-stack"] == PREFIX
        assert tags["isolated-notebook-route-table"] == endpoint["RouteTableIds"][0]
    [api] = endpoints(ec2, vpc, "sagemaker.api")
    # one subnet per zone: alpha's (a) and beta's (b); gamma's subnet is in alpha's zone
    assert sorted(api["SubnetIds"]) == sorted([stack["subnets"]["alpha"], stack["subnets"]["beta"]])
    for name in TEAMS:
        iam.get_role(RoleName=role_arn(name).rsplit("/", 1)[1])
        notebook = sm.describe_notebook_instance(NotebookInstanceName="%s-one" % name)
        assert notebook["SubnetId"] == stack["subnets"][name]
        assert notebook["NotebookInstanceLifecycleConfigName"] == "%s-%s-autostop" % (PREFIX, name)
        tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=notebook["NotebookInstanceArn"])["Tags"]}
        assert tags["isolated-notebook-team"] == name and tags["cost-center"] == name
        # one on-start script per team: the team's script bucket and prefix, then its steps (or the shared ones)
        config = sm.describe_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName="%s-%s-autostop" % (PREFIX, name))  # fmt: skip
        script = base64.b64decode(config["OnStart"][0]["Content"]).decode()
        assert "BUCKET=%s-%s\n" % (BUCKET, name) in script
        assert "KEY=lifecycle-configurations/%s/autostop.py\n" % name in script
        steps = "pip install --quiet gamma-tools\n" if name == "gamma" else "echo shared steps\n"
        assert "<<'ISOLATED_NOTEBOOK_ON_START_STEPS'\n%s\nISOLATED_NOTEBOOK_ON_START_STEPS\n" % steps in script
        assert script.count("ISOLATED_NOTEBOOK_ON_START_STEPS") == 2
    again = stack["again"]
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-4000:]
    assert again.writes() == {}, again.writes()


def principals(statements):
    """The roles named by aws:PrincipalArn, exactly (StringEquals) or by their path (ArnLike)."""
    return sorted({p for s in statements for operator in ("StringEquals", "ArnLike")
                   for p in s.get("Condition", {}).get(operator, {}).get("aws:PrincipalArn", [])})  # fmt: skip


def test_the_shared_endpoint_policies_grant_each_team_only_its_own(stack):
    shared = json.loads(stack["endpoint"]["alpha"]["PolicyDocument"])["Statement"]
    own = json.loads(stack["endpoint"]["gamma"]["PolicyDocument"])["Statement"]
    assert principals(shared) == [role_arn("alpha"), role_arn("beta")]
    # gamma's notebooks each have their own role, at the team's path: the endpoint names the path
    assert principals(own) == [GAMMA_ROLES]
    for statement in shared + own:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for arn in statement.get("Condition", {}).get("ArnLike", {}).get("aws:PrincipalArn", []):
            assert arn == GAMMA_ROLES and all(
                r.endswith((":::%s/gamma/*" % DATA, ":::%s/gamma/*" % REFERENCE, ":::%s/homes/*" % HOMES,
                            ":::" + DATA, ":::" + REFERENCE, ":::" + HOMES)) for r in resources), statement  # fmt: skip
        for arn in statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalArn", []):
            team_name = arn.rsplit("-notebook", 1)[0].rsplit("-", 1)[1]
            assert all(
                r.endswith(":::%s/%s/*" % (DATA, team_name))
                or r.endswith(":::%s/%s/*" % (REFERENCE, team_name))
                or r.endswith(":::%s" % DATA)
                or r.endswith(":::%s" % REFERENCE)
                for r in resources
            ), statement
    for statement in json.loads(stack["api"]["PolicyDocument"])["Statement"]:
        if "ArnLike" in statement["Condition"]:
            assert statement["Condition"]["ArnLike"]["aws:PrincipalArn"] == [GAMMA_ROLES]
            names = list(GAMMA)
        else:
            [arn] = statement["Condition"]["StringEquals"]["aws:PrincipalArn"]
            names = ["%s-one" % arn.rsplit("-notebook", 1)[0].rsplit("-", 1)[1]]
        assert statement["Resource"] == ["arn:aws:sagemaker:%s:%s:notebook-instance/%s"
                                         % (harness.REGION, harness.ACCOUNT_ID, n) for n in names]  # fmt: skip


@pytest.mark.parametrize("me", TEAMS)
def test_each_team_through_its_endpoint_reaches_exactly_its_data(stack, authorized, me):
    s3 = stack["emulator"].client(
        "s3", credentials=authorized[me], behind_endpoint=stack["endpoint"][me]["VpcEndpointId"]
    )
    assert cells(s3, me) == expected(me)


@pytest.mark.parametrize("me", TEAMS)
def test_another_route_tables_endpoint_lets_none_of_a_teams_data_through(stack, authorized, me):
    other = stack["endpoint"]["gamma" if me != "gamma" else "alpha"]["VpcEndpointId"]
    s3 = stack["emulator"].client("s3", credentials=authorized[me], behind_endpoint=other)
    assert cells(s3, me) == expected(me, through_own=False)


def described(sm, name):
    """allow, or deny for AccessDeniedException (SageMaker answers it with HTTP 400, a JSON protocol)."""
    try:
        sm.describe_notebook_instance(NotebookInstanceName=name)
        return "allow"
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException", error.response
        return "deny"


def test_each_team_describes_only_its_own_notebooks_through_the_shared_api_endpoint(stack, authorized):
    api = stack["api"]
    found = {}
    for me in TEAMS:
        sm = stack["emulator"].client("sagemaker", credentials=authorized[me], behind_endpoint=api["VpcEndpointId"])
        for name in TEAMS:
            found[me, name] = described(sm, "%s-one" % name)
    assert found == {(me, name): "allow" if me == name else "deny" for me in TEAMS for name in TEAMS}
    # gamma's notebooks have a role each: each describes (and so stops) only its own notebook
    for me in GAMMA:
        who = "gamma" if me == "gamma-one" else me
        sm = stack["emulator"].client("sagemaker", credentials=authorized[who], behind_endpoint=api["VpcEndpointId"])
        assert [described(sm, name) for name in GAMMA] == ["allow" if name == me else "deny" for name in GAMMA]
    # A role whose IAM policy allows everything describes any notebook outside the VPC, none through the
    # endpoint: its policy names the teams' roles only.
    outside = stack["emulator"].client("sagemaker", credentials=authorized["other"])
    through = stack["emulator"].client(
        "sagemaker", credentials=authorized["other"], behind_endpoint=api["VpcEndpointId"]
    )
    assert [described(outside, "%s-one" % n) for n in TEAMS] == ["allow"] * 3
    assert [described(through, "%s-one" % n) for n in TEAMS] == ["deny"] * 3


def home_cells(s3):
    found = {}
    for name in GAMMA:
        found.update({
            "%s home: get" % name: outcome(s3.get_object, Bucket=HOMES, Key="homes/%s/x.csv" % name),
            "%s home: list" % name: outcome(s3.list_objects_v2, Bucket=HOMES, Prefix="homes/%s/" % name),
            "%s home: put" % name: outcome(s3.put_object, Bucket=HOMES, Key="homes/%s/new.csv" % name, Body=b"x"),
        })  # fmt: skip
    found["all homes: list"] = outcome(s3.list_objects_v2, Bucket=HOMES, Prefix="homes/")
    return found


@pytest.mark.parametrize("me", GAMMA + ("alpha",))
def test_each_notebook_reaches_its_own_home_and_no_other(stack, authorized, me):
    """Through gamma's endpoint each gamma notebook's role reads, lists and writes its home only; the
    other notebook's home and the listing of all homes are denied, as is every home to another team."""
    who = "gamma" if me == "gamma-one" else me
    s3 = stack["emulator"].client("s3", credentials=authorized[who],
                                  behind_endpoint=stack["endpoint"]["gamma"]["VpcEndpointId"])  # fmt: skip
    expected_cells = {"%s home: %s" % (name, cell): "allow" if name == me else "deny"
                      for name in GAMMA for cell in ("get", "list", "put")}  # fmt: skip
    expected_cells["all homes: list"] = "deny"
    assert home_cells(s3) == expected_cells


def test_the_notebooks_with_homes_run_under_their_own_roles_only(stack, authorized):
    emulator = stack["emulator"]
    iam, sm = emulator.client("iam"), emulator.client("sagemaker")
    set_auth(emulator, False)
    try:
        found = {}
        for name in GAMMA:
            role = own_role_arn(name).rsplit("/", 1)[1]
            found[name] = (
                sm.describe_notebook_instance(NotebookInstanceName=name)["RoleArn"],
                iam.list_role_policies(RoleName=role)["PolicyNames"],
                sorted(p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]),
            )
        roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
        policies = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    finally:
        set_auth(emulator, True)
    assert found == {name: (own_role_arn(name), ["home"], [PREFIX + "-gamma-data", PREFIX + "-gamma-s3-read"])
                     for name in GAMMA}  # fmt: skip
    # no shared role and no shared autostop policy for gamma: each notebook stops only itself
    assert PREFIX + "-gamma-notebook" not in roles and PREFIX + "-alpha-notebook" in roles
    assert PREFIX + "-gamma-autostop" not in policies and PREFIX + "-alpha-autostop" in policies


def test_a_hardened_bucket_admits_the_teams_endpoints_only(stack, authorized):
    """alpha's grant hardens the reference bucket: its policy admits the endpoints of every team granted it
    (both route tables'), so alpha's role reads it through its endpoint and not from outside; the data
    bucket, which no grant hardens, keeps its owner's (no) policy."""
    emulator = stack["emulator"]
    s3 = emulator.client("s3")
    set_auth(emulator, False)
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=REFERENCE)["Policy"])
        blocked = s3.get_public_access_block(Bucket=REFERENCE)["PublicAccessBlockConfiguration"]
        with pytest.raises(ClientError) as none:
            s3.get_bucket_policy(Bucket=DATA)
    finally:
        set_auth(emulator, True)
    assert none.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    assert all(blocked.values())
    [outside] = [s for s in policy["Statement"] if s["Sid"] == "DenyOutsideVpcEndpoint"]
    ends = sorted({stack["endpoint"]["alpha"]["VpcEndpointId"], stack["endpoint"]["gamma"]["VpcEndpointId"]})
    assert outside["Condition"]["StringNotEquals"]["aws:SourceVpce"] == ends
    through = emulator.client("s3", credentials=authorized["alpha"],
                              behind_endpoint=stack["endpoint"]["alpha"]["VpcEndpointId"])  # fmt: skip
    away = emulator.client("s3", credentials=authorized["alpha"])
    assert outcome(through.get_object, Bucket=REFERENCE, Key="alpha/x.csv") == "allow"
    assert outcome(away.get_object, Bucket=REFERENCE, Key="alpha/x.csv") == "deny"
    assert outcome(away.get_object, Bucket=DATA, Key="alpha/x.csv") == "allow"  # not hardened: the role decides


def audited(stack, name):
    emulator = stack["emulator"]
    folder = stack["tmp"].mktemp(name)
    variables = {"isolated_notebook_region": harness.REGION, "audit_fail_on": "never",
                 "audit_report_dir": str(folder / "audit")}  # fmt: skip
    set_auth(emulator, False)
    try:
        rc, output = playbook("audit", emulator, folder, variables)
    finally:
        set_auth(emulator, True)
    assert rc == 0, output[-4000:]
    result, _markdown = report(folder)
    return {n["name"]: n for n in result["notebooks"]}


def test_the_audit_shows_each_notebooks_data_and_a_team_reaching_another_teams(stack, authorized):
    """The audit's data_access per notebook is its team's grants (and its home); a role or an endpoint
    that lets one team reach what another team writes is a finding."""
    found = audited(stack, "teams-audit")
    reached = {name: sorted((d["bucket"], d["prefix"], d["access"]) for d in entry["data_access"])
               for name, entry in found.items()}  # fmt: skip
    for team_name in ("alpha", "beta"):
        assert reached["%s-one" % team_name] == sorted([
            (BUCKET + "-" + team_name, "lifecycle-configurations/%s/" % team_name, "read"),
            (DATA, team_name + "/", "read-write"), (REFERENCE, team_name + "/", "read")])  # fmt: skip
    for name in GAMMA:
        assert reached[name] == sorted([(BUCKET + "-gamma", "lifecycle-configurations/gamma/", "read"),
                                        (DATA, "gamma/", "read-write"), (HOMES, "homes/%s/" % name, "read-write"),
                                        (REFERENCE, "gamma/", "read")])  # fmt: skip
    assert {name: [f["id"] for f in entry["findings"] if f["id"].startswith("cross-team")]
            for name, entry in found.items()} == {name: [] for name in found}  # fmt: skip
    assert all(entry["isolated"] for entry in found.values())

    # Drift: the shared endpoint lets alpha's and beta's writes through for both roles, and alpha's role
    # gets a read of beta's data.
    emulator = stack["emulator"]
    ec2, iam = emulator.client("ec2"), emulator.client("iam")
    shared = stack["endpoint"]["alpha"]
    set_auth(emulator, False)
    try:
        document = json.loads(ec2.describe_vpc_endpoints(VpcEndpointIds=[shared["VpcEndpointId"]])["VpcEndpoints"][0][
            "PolicyDocument"])  # fmt: skip
    finally:
        set_auth(emulator, True)
    opened = json.loads(json.dumps(document))
    for statement in opened["Statement"]:
        named = statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalArn")
        if named and ":::%s/" % DATA in str(statement["Resource"]):
            statement["Condition"]["StringEquals"]["aws:PrincipalArn"] = [role_arn("alpha"), role_arn("beta")]
    read_beta = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/beta/*" % DATA}]}  # fmt: skip
    set_auth(emulator, False)
    try:
        ec2.modify_vpc_endpoint(VpcEndpointId=shared["VpcEndpointId"], PolicyDocument=json.dumps(opened))
        iam.put_role_policy(
            RoleName="%s-alpha-notebook" % PREFIX, PolicyName="drift", PolicyDocument=json.dumps(read_beta)
        )
    finally:
        set_auth(emulator, True)
    try:
        drifted = audited(stack, "teams-audit-drift")
    finally:
        set_auth(emulator, False)
        ec2.modify_vpc_endpoint(VpcEndpointId=shared["VpcEndpointId"], PolicyDocument=json.dumps(document))
        iam.delete_role_policy(RoleName="%s-alpha-notebook" % PREFIX, PolicyName="drift")
        set_auth(emulator, True)
    crossed = {name: sorted((f["id"], f["severity"], f["evidence"]["other_team"], f["evidence"]["bucket"],
                             f["evidence"]["prefix"]) for f in entry["findings"] if f["id"].startswith("cross-team"))
               for name, entry in drifted.items()}  # fmt: skip
    assert crossed == {
        # alpha's role reads beta's data and the endpoint lets it through: alpha reaches it
        "alpha-one": [("cross-team-data", "medium", "beta", DATA, "beta/")],
        # beta's role has no grant of alpha's data; only the endpoint would let it through
        "beta-one": [("cross-team-endpoint", "low", "alpha", DATA, "alpha/")],
        "gamma-one": [],
        "gamma-two": [],
    }


def test_removing_a_team_touches_only_its_resources_and_the_shared_policies(stack, authorized):
    emulator, vpc = stack["emulator"], stack["vpc"]
    variables = dict(stack["variables"], isolated_notebook_teams=[
        team(name, stack["subnets"][name], "absent" if name == "beta" else "present") for name in TEAMS])  # fmt: skip
    gamma_before = stack["endpoint"]["gamma"]
    set_auth(emulator, False)
    try:
        run = play(emulator, stack["tmp"].mktemp("teams-beta-removed"), variables)
        ec2, iam, sm = (emulator.client(s) for s in ("ec2", "iam", "sagemaker"))
        by_table = {e["RouteTableIds"][0]: e for e in endpoints(ec2, vpc)}
        roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
        notebooks = [n["NotebookInstanceName"] for n in sm.list_notebook_instances()["NotebookInstances"]]
        configs = [c["NotebookInstanceLifecycleConfigName"] for c in
                   sm.list_notebook_instance_lifecycle_configs()["NotebookInstanceLifecycleConfigs"]]  # fmt: skip
        groups = [
            g["GroupName"]
            for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
        ]
    finally:
        set_auth(emulator, True)
    assert run.rc == 0, run.output[-6000:]
    assert (
        PREFIX + "-beta-notebook" not in roles
        and "beta-one" not in notebooks
        and PREFIX + "-beta-autostop" not in configs
    )
    assert PREFIX + "-beta-notebooks" not in groups and PREFIX + "-alpha-notebooks" in groups
    assert {"alpha-one", "gamma-one"} <= set(notebooks)
    # beta's notebook is stopped to be deleted; no other notebook is stopped or started
    assert (
        run.count("sagemaker", "StopNotebookInstance") == 1 and run.count("sagemaker", "StartNotebookInstance") == 0
    ), run.writes()
    shared = by_table[stack["tables"]["shared"]]
    assert principals(json.loads(shared["PolicyDocument"])["Statement"]) == [role_arn("alpha")]
    assert by_table[stack["tables"]["own"]]["PolicyDocument"] == gamma_before["PolicyDocument"]
    s3 = emulator.client("s3", credentials=authorized["alpha"], behind_endpoint=shared["VpcEndpointId"])
    assert outcome(s3.get_object, Bucket=DATA, Key="alpha/x.csv") == "allow"


def test_adding_a_team_restarts_no_other(stack):
    """beta back: its stack is built again and the shared policies name it again; no other notebook is
    stopped or started (their lifecycle configurations do not change)."""
    emulator, vpc = stack["emulator"], stack["vpc"]
    set_auth(emulator, False)
    try:
        gamma_before = endpoints(emulator.client("ec2"), vpc)
        run = play(emulator, stack["tmp"].mktemp("teams-beta-added"), stack["variables"])
        ec2, sm = emulator.client("ec2"), emulator.client("sagemaker")
        by_table = {e["RouteTableIds"][0]: e for e in endpoints(ec2, vpc)}
        beta = sm.describe_notebook_instance(NotebookInstanceName="beta-one")
    finally:
        set_auth(emulator, True)
    assert run.rc == 0, run.output[-6000:]
    assert beta["NotebookInstanceStatus"] == "InService" and beta["SubnetId"] == stack["subnets"]["beta"]
    assert run.count("sagemaker", "StopNotebookInstance") == 0 and run.count("sagemaker", "StartNotebookInstance") == 0
    assert run.count("sagemaker", "CreateNotebookInstance") == 1, run.writes()
    shared = by_table[stack["tables"]["shared"]]
    assert principals(json.loads(shared["PolicyDocument"])["Statement"]) == [role_arn("alpha"), role_arn("beta")]
    own = [e for e in gamma_before if e["RouteTableIds"] == [stack["tables"]["own"]]][0]
    assert by_table[stack["tables"]["own"]]["PolicyDocument"] == own["PolicyDocument"]


def test_removing_every_team_deletes_the_shared_endpoints(stack):
    emulator, vpc = stack["emulator"], stack["vpc"]
    variables = dict(stack["variables"], isolated_notebook_state="absent",
                     isolated_notebook_teams=[team(n, stack["subnets"][n], None) for n in TEAMS])  # fmt: skip
    for item in variables["isolated_notebook_teams"]:
        del item["state"]  # the teams take isolated_notebook_state
    set_auth(emulator, False)
    run = play(emulator, stack["tmp"].mktemp("teams-all-removed"), variables)
    assert run.rc == 0, run.output[-6000:]
    ec2 = emulator.client("ec2")
    assert (
        endpoints(ec2, vpc) == [] and endpoints(ec2, vpc, "sagemaker.api") == [] and endpoints(ec2, vpc, "logs") == []
    )
    groups = [
        g["GroupName"]
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    ]
    assert [g for g in groups if g.startswith(PREFIX)] == []
    assert emulator.client("sagemaker").list_notebook_instances()["NotebookInstances"] == []
    # the notebooks' own roles went with their team
    assert emulator.client("iam").list_roles(PathPrefix="/%s-gamma/" % PREFIX)["Roles"] == []
