#!/usr/bin/env bash
# Create or refresh the development virtual environment (.venv) from the pinned requirement files,
# install the system tools the tests need, and prepare ansible-test to run offline.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.requirements.sha256"
want=$(cat requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)
# ansible-test runs the sanity and integration tests with --python 3.11: the venv must be that version.
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || { echo "bootstrap: $PYTHON is $("$PYTHON" -V 2>&1); the toolchain needs Python 3.11 (set PYTHON=python3.11)" >&2; exit 1; }

if [[ ! -x "$VENV/bin/python" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "bootstrap: installing the toolchain into $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r requirements-dev.txt -c constraints.txt
    echo "$want" > "$stamp"
fi

# ansible-playbook playbooks/site.yml from the checkout finds the collection through ansible.cfg.
tools/link_checkout.sh

# Debian tools the tests use: ShellCheck checks the on-start lifecycle script (the ansible-test sanity
# test too); strace proves that autostop's tick on a CPU-only notebook starts no process; Chromium renders
# the audit's HTML report headless.
for tool in shellcheck strace chromium; do
    command -v "$tool" >/dev/null 2>&1 && continue
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing $tool"
        (apt-get install -y -qq "$tool" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "$tool" >/dev/null; })
    else
        echo "bootstrap: $tool is missing; install it (Debian package '$tool')" >&2
        exit 1
    fi
done

# Mermaid for the audit's HTML report, from the npm registry.
tools/vendor_mermaid.sh

# ansible-test downloads get-pip from a host that is unreachable offline; it reads a cached copy first.
pip_version=$("$VENV/bin/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages as g; from types import SimpleNamespace as N; print(g(N(version="3.11"))["pip"])')
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
cp tools/get_pip_offline.py "$cache"
