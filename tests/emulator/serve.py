# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator process: moto's server with the SageMaker gaps filled (see gaps.py).

python -m tests.emulator.serve MOTO_SERVER_ARGS...   (harness.Emulator starts it)
"""

import sys

from tests.emulator import counter, gaps


def main(argv=None):
    gaps.apply()
    counter.apply()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
