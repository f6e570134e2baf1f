#!/usr/bin/env bash
# Run test stages on a fresh copy of the collection and print a summary.
#   tools/test.sh [sanity] [units] [integration] [lint]     (default: all four, in that order)
# Narrower loops: BUILD=build-x (separate copy), SANITY_ARGS="--test pep8", TARGETS="lifecycle_config",
# PYTEST_ARGS="-k 'a or b'" (units and functional suites; shell quoting), MOLECULE=0 (skip the molecule scenario),
# TIMED=0 (skip the notebook_instance run with the timing model), CORE217=0 (skip the ansible-core 2.17 check),
# FUNCTIONAL=0 (skip the tests/functional suites).  `make help` lists them with an example each.
# Every stage runs even when an earlier one fails; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
VENV=${VENV:-.venv}
BUILD=${BUILD:-build}
export BUILD
export PATH="$REPO/$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$REPO/$BUILD"
export ANSIBLE_LOCAL_TEMP="$REPO/$BUILD/tmp" ANSIBLE_REMOTE_TEMP="$REPO/$BUILD/tmp"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1 MOLECULE_NO_COLOR=1 PY_COLORS=0
read -ra sanity_args <<< "${SANITY_ARGS:-}"
# Shell words, quotes respected (PYTEST_ARGS="-k 'autostop or on_start'"), never evaluated.
words=$(python3 -c 'import os, shlex; print("\n".join(shlex.split(os.environ.get("PYTEST_ARGS", ""))))') \
    || { echo "PYTEST_ARGS is not valid shell quoting: ${PYTEST_ARGS:-}" >&2; exit 2; }
pytest_args=()
[[ -n $words ]] && mapfile -t pytest_args <<< "$words"
stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(sanity units integration lint)

COLL=$(tools/collection_tree.sh) || exit 1
COLL="$REPO/$COLL"
declare -A result seconds

run_stage() {
    case $1 in
        sanity)
            # No ignore files: every sanity test must pass as it is.
            (cd "$COLL" && ansible-test sanity --local --python 3.11 --color no "${sanity_args[@]}") ;;
        units)
            (cd "$COLL" && PYTHONPATH="$REPO/$BUILD" python -m pytest -q -p no:cacheprovider tests/unit "${pytest_args[@]}") ;;
        integration)
            # Targets and functional suites share one emulator; molecule gets a fresh one.
            local rc=0
            python -m tests.emulator run --tls --log "$REPO/$BUILD/emulator.log" -- tools/integration.sh "$COLL" || rc=1
            # notebook_instance and notebook_fleet once more with the timing model on: every Pending,
            # Stopping and Updating phase takes 2 s, so each wait really waits (TIMED=0 skips it).
            local timed=()
            for target in notebook_instance notebook_fleet; do
                [[ -z ${TARGETS:-} || ${TARGETS:-} == *$target* ]] && timed+=("$target")
            done
            if [[ ${TIMED:-1} == 1 && ${#timed[@]} -gt 0 ]]; then
                echo "----- ${timed[*]} with the timing model (2 s per phase)"
                python -m tests.emulator run --tls --phase-seconds 2 --log "$REPO/$BUILD/emulator-timed.log" -- \
                    env TARGETS="${timed[*]}" FUNCTIONAL=0 CORE217=0 tools/integration.sh "$COLL" || rc=1
            fi
            if [[ ${MOLECULE:-1} == 1 ]]; then tools/molecule.sh "$COLL" || rc=1; fi
            return $rc ;;
        lint)
            ruff check . && ruff format --check plugins tests files tools \
                && (cd "$COLL" && ansible-lint --offline --profile production) ;;
        *)
            echo "unknown stage: $1" >&2; return 2 ;;
    esac
}

for stage in "${stages[@]}"; do
    echo "===== $stage"
    start=$SECONDS
    if run_stage "$stage"; then result[$stage]=passed; else result[$stage]=FAILED; fi
    seconds[$stage]=$((SECONDS - start))
done

echo "===== summary"
status=0 passed=0 failed=0
for stage in "${stages[@]}"; do
    printf '%-12s %-7s %5ss\n' "$stage" "${result[$stage]}" "${seconds[$stage]}"
    if [[ ${result[$stage]} == passed ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
done
echo "stages: $passed passed, $failed failed"
exit $status
