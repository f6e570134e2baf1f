# Copyright: secure_sagemaker.notebooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test runs ``python get_pip_<version>.py ARGS`` in an empty virtual environment; the real
script comes from a host that is not reachable here.  This one runs the pip wheel bundled with
``ensurepip`` as ``pip install ARGS`` (packages still come from the package index).
"""

import ensurepip
import glob
import os
import sys

WHEELS = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
if not WHEELS:
    sys.exit("get_pip_offline: ensurepip has no bundled pip wheel")
sys.path.insert(0, WHEELS[-1])

from pip._internal.cli.main import main  # noqa: E402  (importable only from the wheel above)

ARGS = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install"] + ARGS))
