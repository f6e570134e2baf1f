# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest

from tests.emulator import Emulator


@pytest.fixture(scope="session")
def emulator_server():
    """One real emulator process for the session (instant timing)."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server):
    """The session's emulator, empty at the start of each test."""
    emulator_server.reset()
    return emulator_server
