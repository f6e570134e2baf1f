#!/usr/bin/env bash
# Molecule scenarios against a fresh emulator (TLS, so the bucket's TLS-only policy holds).
#   tools/molecule.sh COLLECTION_COPY [SCENARIO]
set -euo pipefail
COLL=$1
SCENARIO=${2:-isolated_notebook}
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$COLL"
# From the copy: molecule finds its scenarios there, and `-m` finds the copy's tests/emulator.
exec python -m tests.emulator run --tls --log "$REPO/${BUILD:-build}/molecule-emulator.log" -- \
    molecule test --scenario-name "$SCENARIO"
