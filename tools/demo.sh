#!/usr/bin/env bash
# make demo: the whole secure stack against the embedded emulator, twice, then what it built.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
VENV=${VENV:-.venv}
export PATH="$REPO/$VENV/bin:$PATH"
STATE="$REPO/build/demo"
rm -rf "$STATE" && mkdir -p "$STATE"
BUILD=build tools/collection_tree.sh >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$REPO/build" ANSIBLE_LOCAL_TEMP="$STATE/tmp" ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}

python -m tests.emulator start --tls --state-dir "$STATE" --log "$STATE/emulator.log" >/dev/null
trap 'python -m tests.emulator stop --state-dir "$STATE"' EXIT
eval "$(python -c 'import json,shlex,sys; e=json.load(open(sys.argv[1]))["env"]; print("\n".join(f"export {k}={shlex.quote(v)}" for k,v in e.items()))' "$STATE/emulator.json")"
echo "emulator: $AWS_ENDPOINT_URL (TLS, CA $AWS_CA_BUNDLE)"

python tools/demo_network.py "$STATE/network.json"
play() {
    ansible-playbook playbooks/site.yml -e @examples/demo.yml -e @"$STATE/network.json"
}

echo "== first run: build the stack"
start=$SECONDS
# The full log goes to run1.log; the screen shows the task names and the report. PIPESTATUS[0] is the
# playbook's own status (grep finding nothing must not fail the demo, a failed run must).
set +o pipefail
# The report's notebook lines are JSON strings, one per line ("demo-alpha: created, ...").
play 2>&1 | tee "$STATE/run1.log" | grep -E '^(PLAY RECAP|localhost|TASK \[.*\] \*+$)|"(notebooks|restarted|lifecycle_config)"|^ +("demo-|\],?$)|DEPRECATION'
first=${PIPESTATUS[0]}
set -o pipefail
echo "   first run: $((SECONDS - start)) s"
[[ $first -eq 0 ]] || { tail -40 "$STATE/run1.log"; echo "demo: the first run failed (see $STATE/run1.log)" >&2; exit 1; }

echo "== second run: nothing to change"
start=$SECONDS
play > "$STATE/run2.log"
grep -A1 'PLAY RECAP' "$STATE/run2.log"
echo "   second run: $((SECONDS - start)) s"
grep -qE 'localhost +: ok=[0-9]+ +changed=0 .*failed=0' "$STATE/run2.log" \
    || { echo "demo: the second run changed something (see $STATE/run2.log)" >&2; exit 1; }

python tools/demo_summary.py demo demo-notebook-scripts
