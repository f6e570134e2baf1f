# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the module_utils tests: retrying clients on the emulator (clients.py builds them)."""

import types

import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.secure_sagemaker.notebooks.tests.unit.plugins.module_utils.clients import on_emulator

from tests.emulator import Emulator

# The timing model of the timed emulator: Pending, Stopping and Updating each last this long, so
# every wait of the code under test really waits, and the tests stay quick.
PHASE_SECONDS = 0.25
# The eventual-consistency model of the lagging emulator: a new notebook, endpoint or role stays out
# of sight this long.
LAG_SECONDS = 2.0


@pytest.fixture
def ec2(emulator):
    return on_emulator(emulator, "ec2")


@pytest.fixture
def sagemaker(emulator):
    return on_emulator(emulator, "sagemaker")


@pytest.fixture(scope="session")
def timed_emulator_server():
    """A second emulator process for the session, with the timing model on."""
    with Emulator(phase_seconds=PHASE_SECONDS) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def lagging_server():
    """An emulator process with the eventual-consistency model on (gaps.py)."""
    with Emulator(consistency_seconds=LAG_SECONDS) as emulator:
        yield emulator


@pytest.fixture
def lagging(lagging_server):
    lagging_server.reset()
    return lagging_server


@pytest.fixture
def timed_emulator(timed_emulator_server):
    timed_emulator_server.reset()
    return timed_emulator_server


@pytest.fixture
def timed_sagemaker(timed_emulator):
    """SageMaker where notebooks pass through Pending, Stopping and Updating as on AWS."""
    return on_emulator(timed_emulator, "sagemaker")


@pytest.fixture
def no_backoff(monkeypatch):
    """The retry policy's backoff without its sleeps (the retries themselves still happen)."""
    monkeypatch.setattr(cloud, "time", types.SimpleNamespace(sleep=lambda seconds: None))
