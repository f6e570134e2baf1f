# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml against an eventually consistent AWS: the emulator's model (tests/emulator/gaps.py,
EMULATOR_CONSISTENCY_SECONDS) keeps each new notebook and VPC endpoint out of sight, and each new
role unassumable by SageMaker, for 8 s, and ignores each notebook's first start.  The first run used
to fail at the S3 endpoint ("disappeared while waiting"), then at the SageMaker API endpoint, then at
the notebooks ("Could not assume role"); now it converges, and a second run changes nothing."""

import pytest
from test_role import notebook_list, notebooks, play, vpc_with_private_subnet

from tests.emulator import harness

LAG = 8


@pytest.fixture(scope="module")
def lagging():
    with harness.Emulator(tls=True, consistency_seconds=LAG) as emulator:
        yield emulator


def test_site_converges_under_eventual_consistency_and_reruns_with_no_change(lagging, tmp_path):
    network, _table = vpc_with_private_subnet(lagging.client("ec2"), "10.74")
    names = ["lag-one", "lag-two"]
    variables = dict(network, isolated_notebook_name_prefix="lag", **notebook_list(names))
    first = play(lagging, tmp_path, variables)
    assert first.rc == 0, first.output[-5000:]
    assert {n: d["NotebookInstanceStatus"] for n, d in notebooks(lagging, names).items()} == dict.fromkeys(
        names, "InService"
    )
    again = play(lagging, tmp_path, variables)
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-5000:]
    assert again.writes() == {}, again.writes()
