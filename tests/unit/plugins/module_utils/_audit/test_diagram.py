# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Mermaid picture of a notebook's path: its parts, and the broken ones marked (the headless browser
test in tests/functional/test_audit_fleet.py draws it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils._audit import diagram, findings


def path(**changes):
    value = {"subnet_id": "subnet-1", "route_table_id": "rtb-1", "s3_endpoint_ids": ["vpce-1"], "bucket": "scripts",
             "direct_internet_access": "Disabled"}  # fmt: skip
    value.update(changes)
    return value


def drawn(name, where, *found):
    source = diagram.mermaid(name, where, [findings.finding(f, "r", "m", e) for f, e in found])
    prefix = source.splitlines()[1].split("_nb")[0].strip() + "_"
    return source.replace(prefix, "")


def test_an_egress_route_is_a_red_edge_to_the_internet_beside_the_path():
    text = drawn("alice", path(), ("subnet-egress-route", {"destination": "0.0.0.0/0", "target": "nat-1"}))
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert ["nb --> subnet", "subnet --> rt", "rt --> ep", "ep --> bucket",
            'rt -->|"0.0.0.0/0 via nat-1"| internet'] == [line.strip() for line in lines if "-->" in line]  # fmt: skip
    assert lines[-1].strip() == "linkStyle 4 stroke:#c0392b,stroke-width:3px"
    assert not any(line.strip().startswith("class ") for line in lines)  # no part of the path itself is broken


def test_a_missing_endpoint_and_a_bad_policy_and_bucket():
    text = drawn("bob", path(s3_endpoint_ids=[]), ("s3-endpoint-missing", {}))
    assert 'rt -->|"no S3 gateway endpoint"| bucket' in text and "linkStyle 2 " in text
    text = drawn("carol", path(), ("s3-endpoint-policy-allow-all", {}), ("bucket-policy-public", {}))
    assert "  class bucket,ep broken" in text


def test_no_subnet_goes_straight_to_the_internet_and_labels_are_quoted_safely():
    no_subnet = path(subnet_id=None, route_table_id=None, s3_endpoint_ids=[])
    text = drawn("dave", no_subnet, ("no-subnet", {}), ("direct-internet-access", {}))
    assert [line.strip() for line in text.splitlines() if "-->" in line] == ['nb -->|"SageMaker\'s own VPC"| internet']
    assert '  internet(("internet"))' in text
    assert diagram._label('a "quoted" name') == "a #34;quoted#34; name"


def test_each_notebook_has_node_ids_of_its_own():
    one = diagram.mermaid("one", path(), [])
    two = diagram.mermaid("two", path(), [])

    def ids(source):
        return {line.split("[")[0].strip() for line in source.splitlines()[1:] if "[" in line}

    assert ids(one) and not ids(one) & ids(two)


def test_labels_cannot_carry_html_directives_or_links():
    name = "x %%{init: {'theme':'dark'}}%% <img src=http://127.0.0.1:9/b.png> [link](https://evil.example)"
    text = diagram.mermaid(name, path(), [])
    label = text.splitlines()[1]
    for forbidden in ("<img", "%%", "{", "[link]", "](", "<a"):
        assert forbidden not in label.split('["', 1)[1], forbidden
    assert "#60;img" in label and "#37;#37;#123;init" in label
    assert diagram.path_of({}, "s", "r", [], "x%%{init}%%")["bucket"] == "(not a bucket name)"
    assert diagram.path_of({}, "s", "r", [], "team-scripts.v2")["bucket"] == "team-scripts.v2"


def test_high_findings_off_the_path_are_named_beside_it():
    text = drawn("erin", path(), ("role-s3-full-access", {}), ("check-failed", {}))
    assert 'other["also high<br/>check-failed<br/>role-s3-full-access"]' in text
    assert "nb --> other" in text and "class other broken" in text
