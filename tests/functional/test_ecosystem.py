# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection the way users get it and run it:

- ``ansible-galaxy collection build`` makes a tarball with nothing from tests, tools, venvs, build
  dirs or caches; installed into an empty collections path (amazon.aws beside it, nothing else), it
  runs ``ansible-playbook secure_sagemaker.notebooks.site`` against the emulator;
- AWX/Automation Controller: ``ansible-runner run`` on a private data dir laid out as AWX writes it,
  with the credentials only in ``env/envvars`` as an AWX AWS credential injects them;
- ``ansible-builder create`` makes an execution environment build context; the collection's
  ``meta/execution-environment.yml`` is what ``ansible-builder introspect`` reads;
- ``antsibull-docs lint-collection-docs --plugin-docs``, every filter's ``ansible-doc``,
  ``antsibull-changelog lint`` and ``release`` (on a copy).
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
from pathlib import Path

import pytest
import yaml
from conftest import COLLECTION

from tests.emulator import harness

BIN = Path(sys.executable).parent
REGION = harness.REGION
AMAZON_AWS = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections" / "amazon" / "aws"
GALAXY = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
FQCN = "%s.%s" % (GALAXY["namespace"], GALAXY["name"])


def clean_env(**extra):
    """A fresh shell's environment: no AWS credentials or endpoint, no Ansible settings, no
    PYTHONPATH (the test run puts the build copy on it), no AWS config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_")) and k != "PYTHONPATH"}
    env.update(
        PATH="%s:%s" % (BIN, env.get("PATH", "")),
        ANSIBLE_NOCOLOR="1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    env.update(extra)
    return env


def run(command, timeout=900, **kwargs):
    started = time.monotonic()
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    print("%s: %.1f s" % (" ".join(map(str, command[:3])), time.monotonic() - started))
    return result


def private_network(ec2, cidr):
    """What a user brings: a VPC with a subnet whose route table has only the local route."""
    vpc = ec2.create_vpc(CidrBlock=cidr + ".0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr + ".1.0/24", AvailabilityZone=REGION + "a")["Subnet"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["SubnetId"])
    return vpc, subnet["SubnetId"]


def stack_vars(emulator, prefix, cidr):
    """The role's variables for a fresh private network (no credentials: callers add them)."""
    vpc, subnet = private_network(emulator.client("ec2"), cidr)
    return {
        "isolated_notebook_region": REGION,
        "isolated_notebook_vpc_id": vpc,
        "isolated_notebook_subnet_id": subnet,
        "isolated_notebook_bucket": "%s-scripts" % prefix,
        "isolated_notebook_name_prefix": prefix,
        "isolated_notebook_wait_timeout": 120,
        "isolated_notebook_notebooks": [{"name": "%s-one" % prefix}, {"name": "%s-two" % prefix}],
        "aws_endpoint_url": emulator.url,
        "aws_ca_bundle": emulator.ca_bundle or "",
    }


def assert_stack(emulator, variables):
    """The notebooks are InService with the autostop lifecycle config, whose on-start script pins the
    SHA-256 of the autostop.py in the bucket; returns that autostop.py."""
    prefix, bucket = variables["isolated_notebook_name_prefix"], variables["isolated_notebook_bucket"]
    sagemaker = emulator.client("sagemaker")
    config_name = "%s-autostop" % prefix
    for item in variables["isolated_notebook_notebooks"]:
        notebook = sagemaker.describe_notebook_instance(NotebookInstanceName=item["name"])
        assert notebook["NotebookInstanceStatus"] == "InService"
        assert notebook["NotebookInstanceLifecycleConfigName"] == config_name
        assert notebook["DirectInternetAccess"] == "Disabled"
        assert notebook["SubnetId"] == variables["isolated_notebook_subnet_id"]
    config = sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=config_name)
    on_start = base64.b64decode(config["OnStart"][0]["Content"]).decode()
    script = emulator.client("s3").get_object(Bucket=bucket, Key="lifecycle-configurations/autostop.py")["Body"].read()
    assert hashlib.sha256(script).hexdigest() in on_start
    return script


# --- the tarball ----------------------------------------------------------------------------------

# What a working tree holds beside the collection; none of it may reach the tarball.
JUNK = [
    ".venv/bin/python",
    ".venv-core217/pyvenv.cfg",
    "build/ansible_collections/x.txt",
    "build-eco/ansible_collections/x.txt",
    ".pytest_cache/v/cache/nodeids",
    ".ruff_cache/0.1/x",
    ".mypy_cache/x.json",
    ".ansible/tmp/x",
    "plugins/filter/__pycache__/notebooks.cpython-311.pyc",
    "plugins/module_utils/x.pyc",
    "tests/output/junit/x.xml",
    "molecule/extra/molecule.yml",
    "bench/x.py",
    "tools/x.sh",
    "secure_sagemaker-notebooks-0.0.1.tar.gz",
]


def forbidden(name):
    parts = name.split("/")
    return (
        parts[0] in {"tests", "tools", "bench", "molecule", ".git", ".ci", ".ansible", ".cache"}
        or parts[0].startswith(("build", ".venv"))
        or any(part in {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"} for part in parts)
        or name.endswith((".pyc", ".tar.gz", ".plugin-cache.yaml"))
    )


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    source = tmp_path_factory.mktemp("source") / "notebooks"
    shutil.copytree(COLLECTION, source, symlinks=True)
    for relative in JUNK:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text("junk\n")
    out = tmp_path_factory.mktemp("dist")
    result = run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, source], cwd=source,
                 env=clean_env())  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    path = out / ("%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"]))
    assert path.is_file(), sorted(out.iterdir())
    return path


def test_tarball_holds_the_collection_and_nothing_from_the_working_tree(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        autostop = archive.extractfile("files/autostop.py").read()
    assert [name for name in names if forbidden(name)] == []
    expected = {
        "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml", "meta/execution-environment.yml",
        "requirements.txt", "files/autostop.py", "playbooks/site.yml", "playbooks/teardown.yml",
        "roles/isolated_notebook/meta/argument_specs.yml", "roles/isolated_notebook/templates/on-start.sh.j2",
        "plugins/filter/notebooks.py", "plugins/filter/bucket_policy.yml", "docs/awx.md",
        # Mermaid for the HTML audit report, from the npm registry when the collection is built.
        "files/vendor/mermaid/mermaid.min.js", "files/vendor/mermaid/LICENSE",
    }  # fmt: skip
    assert expected - set(names) == set()
    assert autostop == (COLLECTION / "files" / "autostop.py").read_bytes()


def test_installed_tarball_runs_the_site_playbook(tarball, emulator, tmp_path):
    root = tmp_path / "collections"
    root.mkdir()
    env = clean_env(ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    result = run([BIN / "ansible-galaxy", "collection", "install", tarball, "-p", root, "--no-deps"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    installed = root / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    assert sorted(p.name for p in (root / "ansible_collections").iterdir()) == [GALAXY["namespace"]]
    assert (installed / "files" / "autostop.py").is_file()
    assert not (installed / "tests").exists()
    shutil.copytree(AMAZON_AWS, root / "ansible_collections" / "amazon" / "aws")

    emulator.reset()
    variables = dict(
        stack_vars(emulator, "tarball", "10.41"), aws_access_key=harness.ACCESS_KEY, aws_secret_key=harness.SECRET_KEY
    )
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    work = tmp_path / "work"
    work.mkdir()
    # Only the installed tarball: no collections from the venv's site-packages or the build copy.
    env.update(ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    result = run([BIN / "ansible-playbook", FQCN + ".site", "-e", "@%s" % (tmp_path / "vars.json")], cwd=work,
                 env=env)  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=[1-9]\d*\s+unreachable=0\s+failed=0", output), output[-2000:]
    # The role found files/autostop.py inside the installed collection and uploaded that file.
    assert assert_stack(emulator, variables) == (installed / "files" / "autostop.py").read_bytes()


def test_checkout_runs_the_site_playbook_in_place(emulator, tmp_path):
    # A checkout is the collection: ansible.cfg and tools/link_checkout.sh (what bootstrap runs)
    # let `ansible-playbook playbooks/site.yml` find it, with amazon.aws from the venv.
    checkout = tmp_path / "checkout"
    shutil.copytree(COLLECTION, checkout, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "output", ".collections"))  # fmt: skip
    result = run([checkout / "tools" / "link_checkout.sh"])
    assert result.returncode == 0, result.stderr
    emulator.reset()
    variables = dict(
        stack_vars(emulator, "checkout", "10.42"), aws_access_key=harness.ACCESS_KEY, aws_secret_key=harness.SECRET_KEY
    )
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = clean_env(ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    result = run([BIN / "ansible-playbook", "playbooks/site.yml", "-e", "@%s" % (tmp_path / "vars.json")],
                 cwd=checkout, env=env)  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert_stack(emulator, variables)
    # Nothing else provides the collection (no collections path in the environment, none in the venv):
    # it came through the checkout's ansible.cfg.
    found = run([BIN / "ansible-config", "dump", "--only-changed"], cwd=checkout, env=env).stdout
    assert "COLLECTIONS_PATHS(%s)" % (checkout / "ansible.cfg") in found, found


# --- AWX / Automation Controller: ansible-runner -------------------------------------------------


def test_ansible_runner_job_with_credentials_from_the_environment(emulator, tmp_path):
    emulator.reset()
    variables = stack_vars(emulator, "awxjob", "10.42")
    assert not {"aws_access_key", "aws_secret_key", "aws_profile"} & set(variables)
    job = tmp_path / "job"
    for folder in ("inventory", "env", "project"):
        (job / folder).mkdir(parents=True)
    (job / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
    )
    (job / "env" / "extravars").write_text(yaml.safe_dump(variables))
    # As AWX's AWS credential type injects them; amazon.aws reads them since site.yml gets no keys.
    envvars = {
        "AWS_ACCESS_KEY_ID": harness.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": harness.SECRET_KEY,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTION.parents[2]),
    }
    (job / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    shutil.copy(COLLECTION / "playbooks" / "site.yml", job / "project" / "site.yml")

    result = run([BIN / "ansible-runner", "run", job, "-p", "site.yml", "--ident", "job1"], env=clean_env())
    artifacts = job / "artifacts" / "job1"
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr + stdout)[-5000:]
    assert (artifacts / "status").read_text().strip() == "successful"
    assert (artifacts / "rc").read_text().strip() == "0"
    events = [json.loads(path.read_text()) for path in (artifacts / "job_events").glob("*.json")]
    assert [
        e for e in events if e.get("event") == "runner_on_failed" and not e["event_data"].get("ignore_errors")
    ] == []
    stats = next(e for e in events if e.get("event") == "playbook_on_stats")["event_data"]
    assert stats["changed"].get("localhost", 0) > 0 and not stats["failures"] and not stats["dark"]
    assert_stack(emulator, variables)


# --- execution environment ------------------------------------------------------------------------


def test_ansible_builder_creates_the_build_context(tmp_path):
    context = tmp_path / "context"
    definition = COLLECTION / "execution-environment.yml"
    result = run([BIN / "ansible-builder", "create", "-f", definition, "-c", context, "--output-filename",
                  "Containerfile"], cwd=COLLECTION, env=clean_env())  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = (context / "Containerfile").read_text()
    spec = yaml.safe_load(definition.read_text())
    assert spec["version"] == 3
    assert 'ARG EE_BASE_IMAGE="%s"' % spec["images"]["base_image"]["name"] in containerfile
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile).group(1).split()
    assert refs == [
        spec["dependencies"]["ansible_core"]["package_pip"],
        spec["dependencies"]["ansible_runner"]["package_pip"],
    ]
    assert refs[0].startswith("ansible-core>=2.17")
    # The image installs the collections with ansible-galaxy, then introspects their metadata
    # (meta/execution-environment.yml -> requirements.txt) for the Python packages.
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect.py introspect" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    wanted = {entry["name"]: entry.get("version") for entry in galaxy["collections"]}
    assert wanted.get("amazon.aws") == ">=10.0.0"
    assert FQCN in wanted


def test_collection_metadata_feeds_ansible_builder_introspect():
    result = run([BIN / "ansible-builder", "introspect", "--sanitize", COLLECTION.parents[2]], env=clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    found = yaml.safe_load(result.stdout.split("\n", 1)[1])
    ours = sorted(line.split("#")[0].strip() for line in found["python"] if line.endswith("# from collection " + FQCN))
    wanted = sorted(
        line.strip()
        for line in (COLLECTION / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert ours == wanted and {w.split(">=")[0] for w in wanted} == {"boto3", "botocore"}, found["python"]
    meta = yaml.safe_load((COLLECTION / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 3
    assert meta["dependencies"]["python"] == "requirements.txt"


# --- documentation and release --------------------------------------------------------------------


def test_every_filter_is_documented():
    from ansible_collections.secure_sagemaker.notebooks.plugins.filter.notebooks import FilterModule

    names = sorted(FilterModule().filters())
    assert sorted(p.stem for p in (COLLECTION / "plugins" / "filter").glob("*.yml")) == names
    env = clean_env(ANSIBLE_COLLECTIONS_PATH=str(COLLECTION.parents[2]))
    result = run([BIN / "ansible-doc", "-t", "filter", "--json", *("%s.%s" % (FQCN, n) for n in names)], env=env)
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    for name in names:
        doc = docs["%s.%s" % (FQCN, name)]
        assert doc["doc"]["name"] == name and doc["doc"]["short_description"], name
        assert doc["examples"] and FQCN + "." + name in doc["examples"], name
        assert doc["return"]["_value"]["description"], name


def test_antsibull_docs_lint_with_plugin_docs():
    root = COLLECTION.parents[2]
    assert (root / "ansible_collections" / "amazon" / "aws").is_dir()
    # antsibull-docs copies the collection and its dependencies (found with `ansible-galaxy
    # collection list`) into a temp dir; a dependency inside an ignored folder of a git work tree
    # (the venv, build/) would be copied as nothing, so git must not look above the build root, and
    # the venv's site-packages copy must not shadow the one beside the collection.
    env = clean_env(ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                    GIT_CEILING_DIRECTORIES=str(root.parent))  # fmt: skip
    result = run([BIN / "antsibull-docs", "lint-collection-docs", "--plugin-docs", "."], cwd=COLLECTION, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_changelog_lints_and_releases_0_1_0(tmp_path):
    env = clean_env()
    result = run([BIN / "antsibull-changelog", "lint"], cwd=COLLECTION, env=env)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
    copy = tmp_path / "collection"
    shutil.copytree(COLLECTION, copy, ignore=shutil.ignore_patterns(".git", "tests", "__pycache__"))
    fragments = sorted(p.name for p in (copy / "changelogs" / "fragments").glob("*.yml"))
    assert fragments
    result = run([BIN / "antsibull-changelog", "release", "--version", GALAXY["version"]], cwd=copy, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    changelog = (copy / "CHANGELOG.rst").read_text()
    assert "v%s" % GALAXY["version"] in changelog
    assert "Release Summary" in changelog or "Minor Changes" in changelog
    for module in ("lifecycle_config", "notebook_instance", "vpc_endpoint"):
        assert "%s.%s" % (FQCN, module) in changelog, module
    data = yaml.safe_load((copy / "changelogs" / "changelog.yaml").read_text())
    assert list(data["releases"]) == [GALAXY["version"]]
    # release consumed the fragments of the copy, and only of the copy
    assert list((copy / "changelogs" / "fragments").glob("*.yml")) == []
    assert sorted(p.name for p in (COLLECTION / "changelogs" / "fragments").glob("*.yml")) == fragments
