# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local AWS emulator used by every test suite, molecule and the demo."""

from .harness import ACCOUNT_ID, REGION, Emulator  # noqa: F401
