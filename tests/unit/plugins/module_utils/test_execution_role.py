# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution_role: the pure plan and prediction, input rules, and the calls against the emulator."""

import pytest
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils import execution_role as er
from ansible_collections.secure_sagemaker.notebooks.plugins.module_utils.aws import NotebooksError
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import on_emulator

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}  # fmt: skip


def params(**changes):
    values = dict(name="nb-role", path="/", trust_policy=TRUST, description="d", managed_policy_arns=["arn:p1"],
                  tags={"team": "a"}, purge_tags=True, state="present")  # fmt: skip
    values.update(changes)
    return values


def role(**changes):
    values = dict(name="nb-role", arn="arn:aws:iam::123456789012:role/nb-role", path="/", role_id="AROA1",
                  trust_policy=TRUST, description="d", tags={"team": "a"}, managed_policy_arns=["arn:p1"])  # fmt: skip
    values.update(changes)
    return values


@pytest.mark.parametrize(
    "field, value, rule",
    [
        ("name", "has space", "1 to 64"),
        ("name", "x" * 65, "1 to 64"),
        ("path", "no-slashes", "begins and ends with /"),
        ("description", "d" * 1001, "at most 1000"),
        ("trust_policy", None, "required with state=present"),
        ("inline_policies", {"has space": {}}, "is not an inline policy name"),
        ("inline_policies", {"home": "not a dict"}, "must be a policy document"),
        ("inline_policies", {"home": {"Statement": [{"Resource": "x" * 10300}]}}, "over IAM's 10240"),
    ],
)
def test_bad_input_names_the_field_and_the_rule(field, value, rule):
    with pytest.raises(NotebooksError) as refused:
        er.validate(params(**{field: value}))
    assert refused.value.msg.startswith(field + ":") and rule in refused.value.msg


def test_plan_of_a_new_role_creates_then_attaches():
    assert er.plan(None, params(managed_policy_arns=["arn:p2", "arn:p1"])) == [
        ("create", None), ("attach", "arn:p1"), ("attach", "arn:p2")]  # fmt: skip


def test_an_equal_role_needs_nothing_even_written_differently():
    statement = {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Principal": {"Service": ["sagemaker.amazonaws.com"]}}
    lists = {"Version": "2012-10-17", "Statement": [statement]}
    assert er.plan(role(trust_policy=lists), params()) == []


def test_plan_changes_exactly_what_differs():
    trust = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Action="sts:TagSession")])
    wanted = params(description="new", tags={"owner": "b"}, managed_policy_arns=["arn:p2"], trust_policy=trust)
    steps = er.plan(role(), wanted)
    assert steps == [("trust", None), ("describe", None), ("tag", {"owner": "b"}), ("untag", ["team"]),
                     ("attach", "arn:p2"), ("detach", "arn:p1")]  # fmt: skip
    after = er.predicted(role(), wanted, steps)
    assert (after["description"], after["tags"], after["managed_policy_arns"]) == ("new", {"owner": "b"}, ["arn:p2"])


def test_tags_stay_without_purge_and_description_without_one():
    assert er.plan(role(), params(description=None, tags={}, purge_tags=False)) == []


def test_on_the_emulator_create_reconcile_delete(emulator):
    iam = on_emulator(emulator, "iam")
    arn = iam.create_policy(PolicyName="er-unit", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":'
                            '"Allow","Action":"s3:GetObject","Resource":"*"}]}')["Policy"]["Arn"]  # fmt: skip
    try:
        created = er.execute(iam, params(name="er-unit-role", managed_policy_arns=[arn]), check_mode=False)
        assert created["changed"] and created["role"]["managed_policy_arns"] == [arn]
        assert iam.get_role(RoleName="er-unit-role")["Role"]["Tags"] == [{"Key": "team", "Value": "a"}]
        again = er.execute(iam, params(name="er-unit-role", managed_policy_arns=[arn]), check_mode=False)
        assert not again["changed"]
        gone = er.execute(iam, params(name="er-unit-role", state="absent"), check_mode=False)
        assert gone["changed"] and er.current(iam, "er-unit-role") is None
    finally:
        iam.delete_policy(PolicyArn=arn)


def test_tag_values_compare_as_the_strings_iam_holds(emulator):
    """A YAML number as a tag value is the string IAM holds: a re-run changes nothing."""
    iam = on_emulator(emulator, "iam")
    try:
        assert er.execute(iam, params(name="er-tags", managed_policy_arns=[], tags={"cost": 1234}), False)["changed"]
        assert iam.get_role(RoleName="er-tags")["Role"]["Tags"] == [{"Key": "cost", "Value": "1234"}]
        again = er.execute(iam, params(name="er-tags", managed_policy_arns=[], tags={"cost": 1234}), False)
        assert again["changed"] is False and again["actions"] == []
    finally:
        er.execute(iam, params(name="er-tags", state="absent"), False)


HOME = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::homes/nb-1/*"}]}  # fmt: skip


def test_inline_policies_are_put_replaced_and_deleted_exactly():
    assert er.plan(None, params(inline_policies={"home": HOME}))[-1] == ("put", "home")
    held = role(inline_policies={"home": HOME, "stray": HOME})
    other = dict(HOME, Statement=[dict(HOME["Statement"][0], Action="s3:PutObject")])
    assert er.plan(held, params(inline_policies={"home": other})) == [("put", "home"), ("delete_inline", "stray")]
    assert er.plan(role(inline_policies={"home": HOME}), params(inline_policies={"home": HOME})) == []
    # not given: whatever inline policies the role holds are left alone
    assert er.plan(held, params()) == []


def test_inline_policies_on_the_emulator(emulator):
    iam = on_emulator(emulator, "iam")
    try:
        made = er.execute(iam, params(name="er-inline", managed_policy_arns=[], inline_policies={"home": HOME}), False)
        assert made["actions"] == ["create", "put"] and made["role"]["inline_policies"] == {"home": HOME}
        assert iam.get_role_policy(RoleName="er-inline", PolicyName="home")["PolicyDocument"] == HOME
        again = er.execute(iam, params(name="er-inline", managed_policy_arns=[], inline_policies={"home": HOME}), False)
        assert again["changed"] is False
        iam.put_role_policy(RoleName="er-inline", PolicyName="stray", PolicyDocument='{"Version":"2012-10-17",'
                            '"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}')  # fmt: skip
        cleaned = er.execute(iam, params(name="er-inline", managed_policy_arns=[], inline_policies={"home": HOME}),
                             False)  # fmt: skip
        assert cleaned["actions"] == ["delete_inline"]
        assert iam.list_role_policies(RoleName="er-inline")["PolicyNames"] == ["home"]
    finally:
        er.execute(iam, params(name="er-inline", state="absent"), False)
    assert er.current(iam, "er-inline") is None


@pytest.mark.parametrize(
    "field, value, rule",
    [
        ("path", "ds/", "begins and ends with /"),
        ("path", "/" + "p" * 511 + "/", "at most 512"),
        ("name_prefix", "ds nb", "only letters, digits"),
    ],
)
def test_listing_input_names_the_field_and_the_rule(field, value, rule):
    with pytest.raises(NotebooksError) as refused:
        er.validate_listing(dict({"path": "/ds/", "name_prefix": ""}, **{field: value}))
    assert refused.value.msg.startswith(field + ":") and rule in refused.value.msg


def test_listing_finds_exactly_the_roles_at_the_path_by_name_prefix(emulator):
    """A deeper path and another name at the same path are not the stack's; more roles than a page
    of ListRoles (100 by default) are all found."""
    iam = on_emulator(emulator, "iam")
    made = [("/lst/", "lst-nb-%03d" % i) for i in range(105)] + [("/lst/", "etl-runner"), ("/lst/ci/", "lst-nb-deep")]
    try:
        for path, name in made:
            iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument='{"Version":"2012-10-17"}')
        found = er.listed(iam, "/lst/", "lst-nb-")
        assert [r["name"] for r in found] == ["lst-nb-%03d" % i for i in range(105)]
        assert found[0]["arn"] == "arn:aws:iam::123456789012:role/lst/lst-nb-000" and found[0]["path"] == "/lst/"
        assert [r["name"] for r in er.listed(iam, "/lst/")] == ["etl-runner"] + ["lst-nb-%03d" % i for i in range(105)]
        assert er.listed(iam, "/none/", "lst-nb-") == []
    finally:
        for _path, name in made:
            iam.delete_role(RoleName=name)
