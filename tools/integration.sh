#!/usr/bin/env bash
# Integration stage, run inside `python -m tests.emulator run` (AWS_ENDPOINT_URL points at the emulator):
# ansible-test integration targets, then the pytest suites that drive real programs
# (ansible-playbook, jupyter server, autostop.py) against the same emulator.
set -uo pipefail
read -ra targets <<< "${TARGETS:-}"
# Shell words, quotes respected (PYTEST_ARGS="-k 'autostop or on_start'"), never evaluated.
words=$(python3 -c 'import os, shlex; print("\n".join(shlex.split(os.environ.get("PYTEST_ARGS", ""))))') \
    || { echo "PYTEST_ARGS is not valid shell quoting: ${PYTEST_ARGS:-}" >&2; exit 2; }
pytest_args=()
[[ -n $words ]] && mapfile -t pytest_args <<< "$words"
COLL=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=$(command -v python)
cat > "$COLL/tests/integration/integration_config.yml" <<YAML
---
aws_endpoint_url: "$AWS_ENDPOINT_URL"
aws_access_key: "$AWS_ACCESS_KEY_ID"
aws_secret_key: "$AWS_SECRET_ACCESS_KEY"
aws_region: "$AWS_DEFAULT_REGION"
aws_ca_bundle: "${AWS_CA_BUNDLE:-}"
aws_requests_url: "$AWS_ENDPOINT_URL/moto-api/request-counts"
aws_probe: "env PYTHONPATH=$REPO $PY -m tests.emulator.probe --endpoint-url $AWS_ENDPOINT_URL --ca-bundle=${AWS_CA_BUNDLE:-}"
ansible_python_interpreter: "$PY"
YAML
status=0
(cd "$COLL" && ansible-test integration --local --python 3.11 --color no --continue-on-error "${targets[@]}") || status=1
if [[ ${FUNCTIONAL:-1} == 1 && -d "$COLL/tests/functional" ]]; then
    (cd "$COLL" && PYTHONPATH="$REPO/${BUILD:-build}" python -m pytest -q -p no:cacheprovider tests/functional "${pytest_args[@]}")
    rc=$?
    # 5: a -k filter selected nothing, which is what a narrow loop asks for.
    [[ $rc -eq 0 || ($rc -eq 5 && ${#pytest_args[@]} -gt 0) ]] || status=1
fi
# The oldest ansible-core claimed (2.17), in its own venv: ansible-doc and site.yml (CORE217=0 skips it).
if [[ ${CORE217:-1} == 1 ]]; then "$REPO/tools/core217.sh" "$COLL" || status=1; fi
exit $status
