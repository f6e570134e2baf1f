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

import json

import pytest
from botocore.exceptions import ClientError
from test_data_grants import outcome, session
from test_least_privilege import set_auth
from test_role import play

from tests.emulator import harness

PREFIX = "teams"
BUCKET = "teams-scripts"
DATA, REFERENCE, OTHER = "teams-data", "teams-reference", "teams-unrelated"
TEAMS = ("alpha", "beta", "gamma")


def role_arn(team):
    return "arn:aws:iam::%s:role/%s-%s-notebook" % (harness.ACCOUNT_ID, PREFIX, team)


def team(name, subnet, state="present"):
    return {
        "name": name,
        "subnet_id": subnet,
        "notebooks": [{"name": "%s-one" % name}],
        "data_grants": [
            {"bucket": DATA, "prefix": "%s/" % name, "access": "read-write"},
            {"bucket": REFERENCE, "prefix": "%s/" % name, "access": "read"},
        ],
        "tags": {"cost-center": name},
        "state": state,
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
        variables = {"isolated_notebook_vpc_id": vpc, "isolated_notebook_name_prefix": PREFIX,
                     "isolated_notebook_bucket": BUCKET,
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
        iam.get_role(RoleName="%s-%s-notebook" % (PREFIX, name))
        notebook = sm.describe_notebook_instance(NotebookInstanceName="%s-one" % name)
        assert notebook["SubnetId"] == stack["subnets"][name]
        assert notebook["NotebookInstanceLifecycleConfigName"] == "%s-%s-autostop" % (PREFIX, name)
        tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=notebook["NotebookInstanceArn"])["Tags"]}
        assert tags["isolated-notebook-team"] == name and tags["cost-center"] == name
    again = stack["again"]
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-4000:]
    assert again.writes() == {}, again.writes()


def principals(statements):
    return sorted(
        {p for s in statements for p in s.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalArn", [])}
    )


def test_the_shared_endpoint_policies_grant_each_team_only_its_own(stack):
    shared = json.loads(stack["endpoint"]["alpha"]["PolicyDocument"])["Statement"]
    own = json.loads(stack["endpoint"]["gamma"]["PolicyDocument"])["Statement"]
    assert principals(shared) == [role_arn("alpha"), role_arn("beta")]
    assert principals(own) == [role_arn("gamma")]
    for statement in shared + own:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
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
        [arn] = statement["Condition"]["StringEquals"]["aws:PrincipalArn"]
        team_name = arn.rsplit("-notebook", 1)[0].rsplit("-", 1)[1]
        assert statement["Resource"] == ["arn:aws:sagemaker:%s:%s:notebook-instance/%s-one"
                                         % (harness.REGION, harness.ACCOUNT_ID, team_name)]  # fmt: skip


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
    # A role whose IAM policy allows everything describes any notebook outside the VPC, none through the
    # endpoint: its policy names the teams' roles only.
    outside = stack["emulator"].client("sagemaker", credentials=authorized["other"])
    through = stack["emulator"].client(
        "sagemaker", credentials=authorized["other"], behind_endpoint=api["VpcEndpointId"]
    )
    assert [described(outside, "%s-one" % n) for n in TEAMS] == ["allow"] * 3
    assert [described(through, "%s-one" % n) for n in TEAMS] == ["deny"] * 3


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
