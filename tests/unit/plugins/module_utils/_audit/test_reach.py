# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data a notebook reaches: its role's object grants, as far as its S3 endpoint lets that role through."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import policies
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import reach

ROLE = "arn:aws:iam::123456789012:role/team-notebook"
SCRIPTS, PREFIX = "team-scripts", "lifecycle-configurations/"
GRANTS = [
    {"bucket": "research-data", "prefix": "reference/", "access": "read", "kms_key_arn": ""},
    {"bucket": "team-a-data", "prefix": "work/", "access": "read-write", "kms_key_arn": ""},
]
SCRIPT_READ = {"bucket": SCRIPTS, "prefix": PREFIX, "access": "read"}


def role_policies(grants=None):
    return [policies.s3_read_policy(SCRIPTS, PREFIX), policies.data_access_policy(grants or GRANTS),
            policies.notebook_policy(["nb"], "us-east-1", "123456789012")]  # fmt: skip


def test_the_collections_own_policies_reach_the_grants_and_the_scripts():
    endpoint = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, [ROLE])
    assert reach.data_reach(role_policies(), [json.dumps(endpoint)], ROLE) == [
        {"bucket": "research-data", "prefix": "reference/", "access": "read"},
        {"bucket": "team-a-data", "prefix": "work/", "access": "read-write"},
        SCRIPT_READ,
    ]


def test_the_endpoint_bounds_the_role():
    # The endpoint lets the grants through for another role only: the scripts alone remain.
    other = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, ["arn:aws:iam::123456789012:role/x"])
    assert reach.data_reach(role_policies(), [other], ROLE) == [SCRIPT_READ]
    # No endpoint on the route table: nothing is reached.
    assert reach.data_reach(role_policies(), [], ROLE) == []
    # The AWS default endpoint policy lets everything through: the role's grants bound it.
    default = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    assert len(reach.data_reach(role_policies(), [default], ROLE)) == 3


def test_the_role_bounds_the_endpoint_and_write_only_shows():
    endpoint = policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, [ROLE])
    writer = {
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::team-a-data/work/*"}]
    }
    assert reach.data_reach([writer], [endpoint], ROLE) == [
        {"bucket": "team-a-data", "prefix": "work/", "access": "write"}
    ]
    everything = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert reach.data_reach([everything], [{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                           "Resource": "*"}]}], ROLE) == [
        {"bucket": "*", "prefix": "*", "access": "read-write"}]  # fmt: skip


def test_notebook_reach_picks_the_endpoint_on_the_subnets_table():
    tables = [{"route_table_id": "rtb-1", "associations": [{"subnet_id": "subnet-1", "main": False}], "routes": []},
              {"route_table_id": "rtb-2", "associations": [{"main": True}], "routes": []}]  # fmt: skip
    document = json.dumps(policies.s3_endpoint_policy(SCRIPTS, PREFIX, "us-east-1", GRANTS, [ROLE]))
    endpoint = {"VpcEndpointId": "vpce-1", "VpcEndpointType": "Gateway", "ServiceName": "com.amazonaws.us-east-1.s3",
                "RouteTableIds": ["rtb-1"], "PolicyDocument": document}  # fmt: skip
    role = {"arn": ROLE, "policies": [{"document": d} for d in role_policies()]}
    assert len(reach.notebook_reach("subnet-1", tables, [endpoint], role)) == 3
    assert reach.notebook_reach("subnet-2", tables, [endpoint], role) == []  # on the main table: no endpoint
    assert reach.notebook_reach("subnet-1", tables, [endpoint], {"arn": ROLE, "error": "AccessDenied"}) is None
