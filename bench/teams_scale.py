# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Teams at scale: T teams of N notebooks in one VPC converge in one site.yml run, a second run makes
no write call, and removing one team (state absent) stops and deletes only its notebooks and restarts
no other.  Half the teams share one route table (one S3 endpoint), the others have one each.  Prints
wall time, tasks and AWS calls per run, and exits non-zero when a run breaks one of those rules.

    python -m bench.teams_scale [--teams 10] [--notebooks 10]
"""

import argparse
import json
import sys

from bench._stack import Stack, summarize


def network(stack, teams):
    """A VPC with a subnet per team, the first half on one route table, each of the others on its own."""
    with open(stack.path("network.json")) as handle:
        region = json.load(handle)["isolated_notebook_region"]
    ec2 = stack.emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    shared = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    subnets = []
    for index in range(teams):
        zone = region + "abc"[index % 3]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.90.%d.0/24" % index, AvailabilityZone=zone)["Subnet"]
        table = shared if index < teams // 2 else ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["SubnetId"])
        subnets.append(subnet["SubnetId"])
    return vpc, subnets


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--notebooks", type=int, default=10)
    args = parser.parse_args()
    problems = []
    with Stack() as stack:
        vpc, subnets = network(stack, args.teams)

        def teams(removed=None):
            return [
                {
                    "name": "t%02d" % index,
                    "subnet_id": subnet,
                    "notebooks": [{"name": "t%02d-nb%02d" % (index, n)} for n in range(args.notebooks)],
                    "data_grants": [{"bucket": "scale-data", "prefix": "t%02d/" % index, "access": "read-write"}],
                    "state": "absent" if index == removed else "present",
                }
                for index, subnet in enumerate(subnets)
            ]

        base = {"isolated_notebook_vpc_id": vpc, "isolated_notebook_bucket": "scale-scripts",
                "isolated_notebook_name_prefix": "scale"}  # fmt: skip
        runs = [("converge", teams()), ("no-op", teams()), ("remove one team", teams(removed=args.teams - 1))]
        for phase, listed in runs:
            seconds, tasks, calls, _recap = stack.run(0, variables=dict(base, isolated_notebook_teams=listed))
            text, writes = summarize(calls)
            figures = (phase, args.teams, args.teams * args.notebooks, seconds, tasks, writes, text)
            print("%-16s teams=%d notebooks=%d wall=%6.1fs tasks=%-4d writes=%-4d %s" % figures, flush=True)
            sagemaker = calls.get("sagemaker", {})
            if phase == "no-op" and writes:
                problems.append("the no-op run made %d write calls" % writes)
            if phase == "remove one team" and (
                sagemaker.get("StartNotebookInstance", 0) or sagemaker.get("StopNotebookInstance", 0) > args.notebooks
            ):
                problems.append("removing one team started or stopped other teams' notebooks: %s" % sagemaker)
    for problem in problems:
        print("FAILED: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
