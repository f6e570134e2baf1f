# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m tests.emulator run|start|stop ...`` from the folder that holds ``tests/`` (see harness.py)."""

import sys

from tests.emulator.harness import main

sys.exit(main())
