# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret in any output: a module and the whole site play at -vvv with a recognisable secret key
and session token, and autostop.py with a Jupyter token, have their output (and the files Ansible
leaves behind) searched for those values.

Our modules take credentials only through amazon.aws's shared options, where ``secret_key`` and
``session_token`` are ``no_log``; ``access_key`` is not (an access key id identifies, it does not
authenticate) and shows at -vvv, which the tests use to prove the search sees the arguments at all.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest
from conftest import AUTOSTOP, COLLECTION
from test_faults import private_network

from tests.emulator import harness

SECRET = "SeCrEtKeY" + uuid.uuid4().hex
SESSION = "SeSsIoNtOkEn" + uuid.uuid4().hex
ACCESS = "AKIANOSECRET" + uuid.uuid4().hex[:8].upper()
JUPYTER_TOKEN = "JuPyTeRtOkEn" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def tls_emulator():
    with harness.Emulator(tls=True) as emulator:  # accepts any credentials: authorization is off
        yield emulator


def env_for(tmp_path):
    env = dict(os.environ, ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_KEEP_REMOTE_FILES="0")  # fmt: skip
    for name in ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTION.parents[2]))
    return env


def leftovers(folder):
    """Text of every file Ansible left under ``folder``."""
    texts = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                texts.append(handle.read().decode("utf-8", "replace"))
    return "\n".join(texts)


def assert_no_secret(output):
    for value, what in ((SECRET, "secret key"), (SESSION, "session token"), (JUPYTER_TOKEN, "Jupyter token")):
        assert value not in output, "the %s appears in the output" % what


def test_module_at_vvv_shows_no_secret(tls_emulator, tmp_path):
    args = {"name": "nosecret", "on_start": "echo hi", "endpoint_url": tls_emulator.url,
            "aws_ca_bundle": tls_emulator.ca_bundle, "access_key": ACCESS, "secret_key": SECRET,
            "session_token": SESSION, "region": harness.REGION}  # fmt: skip
    outputs = []
    for module in ("lifecycle_config", "notebook_instance_info"):
        module_args = args if module == "lifecycle_config" else {k: v for k, v in args.items() if k != "on_start"}
        command = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-vvv", "-m",
                   "secure_sagemaker.notebooks." + module, "-a", json.dumps(module_args),
                   "-e", "ansible_python_interpreter=%s" % sys.executable]  # fmt: skip
        result = subprocess.run(command, cwd=tmp_path, env=env_for(tmp_path), capture_output=True, text=True,
                                timeout=180, check=False)  # fmt: skip
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        outputs.append(result.stdout + result.stderr)
    output = "\n".join(outputs) + leftovers(tmp_path / "ansible-tmp")
    # The search sees the module's arguments: the access key id (not a secret) is there, masked values are not.
    assert '"module_args"' in output and ACCESS in output
    assert '"secret_key": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output
    assert_no_secret(output)


def test_site_play_at_vvv_shows_no_secret(tls_emulator, tmp_path):
    values = dict(private_network(tls_emulator), isolated_notebook_region=harness.REGION,
                  isolated_notebook_bucket="nosecret-scripts", isolated_notebook_name_prefix="nosecret",
                  isolated_notebook_wait_timeout=60, isolated_notebook_notebooks=[{"name": "nosecret-one"}],
                  aws_endpoint_url=tls_emulator.url, aws_ca_bundle=tls_emulator.ca_bundle, aws_access_key=ACCESS,
                  aws_secret_key=SECRET, aws_session_token=SESSION)  # fmt: skip
    variables = tmp_path / "vars.json"  # the one file meant to hold the secret: not searched
    variables.write_text(json.dumps(values))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv",
               str(COLLECTION / "playbooks" / "site.yml"), "-e", "@%s" % variables]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env_for(tmp_path), capture_output=True, text=True,
                            timeout=400, check=False)  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "nosecret-one" in output and ACCESS in output  # the run did happen, verbosely
    assert_no_secret(output + leftovers(tmp_path / "ansible-tmp"))


def test_autostop_never_prints_the_jupyter_token(jupyter, autostop_runner):
    server = jupyter(scheme="https", token=JUPYTER_TOKEN)
    port = server.port
    env = dict(os.environ, JUPYTER_TOKEN=JUPYTER_TOKEN)
    # Right token through the environment, wrong one on the command line, none at all: every path logs.
    for args, run_env in (
        (["--dry-run", "--verbose"], env),
        (["--dry-run", "--verbose", "--token", JUPYTER_TOKEN + "x"], env),
        (["--dry-run", "--verbose"], dict(os.environ)),
    ):
        code, text = autostop_runner("--time", 3600, "--port", port, "--scheme", "https", *args, env=run_env)
        assert text.strip(), "autostop.py said nothing (exit %d)" % code
        assert JUPYTER_TOKEN not in text, "the Jupyter token appears in autostop.py's output: %s" % text[-2000:]
    assert AUTOSTOP.exists()
