#!/usr/bin/env bash
# The oldest ansible-core the collection claims (meta/runtime.yml: requires_ansible >=2.17.0), in
# its own venv (.venv-core217, created from the pins below), against the same amazon.aws copy as
# the main suite.  Run by tools/integration.sh inside the emulator (CORE217=0 skips it):
#   tools/core217.sh COLLECTION_COPY
# Checks: every module, filter and the role render with ansible-doc 2.17, and playbooks/site.yml
# builds a stack in the emulator (AWS_ENDPOINT_URL) with ansible-playbook 2.17.
set -euo pipefail
COLL=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV217=${VENV217:-$REPO/.venv-core217}
PYTHON=${PYTHON:-$REPO/${VENV:-.venv}/bin/python}  # the interpreter of the main venv
PINS="ansible-core==2.17.14
boto3==1.44.8
botocore==1.44.8"
want=$(printf '%s\n' "$PINS" | sha256sum | cut -d' ' -f1)
if [[ ! -x "$VENV217/bin/ansible-playbook" || "$(cat "$VENV217/.pins.sha256" 2>/dev/null)" != "$want" ]]; then
    echo "core217: creating $VENV217"
    "$PYTHON" -m venv "$VENV217"
    printf '%s\n' "$PINS" > "$VENV217/requirements.txt"
    "$VENV217/bin/python" -m pip install --quiet --disable-pip-version-check -r "$VENV217/requirements.txt"
    echo "$want" > "$VENV217/.pins.sha256"
fi
bin=$VENV217/bin
# Only the build root (this collection's copy with amazon.aws beside it): nothing from the main venv.
export ANSIBLE_COLLECTIONS_PATH
ANSIBLE_COLLECTIONS_PATH=$(cd "$COLL/../../.." && pwd)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_NOCOLOR=1
unset PYTHONPATH
version=$("$bin/python" -c 'import ansible.release as r; print(r.__version__)')
echo "core217: ansible-core $version ($VENV217)"
[[ $version == 2.17.* ]] || { echo "core217: expected ansible-core 2.17, got $version" >&2; exit 1; }

fqcn=secure_sagemaker.notebooks
modules=$("$bin/ansible-doc" -t module -l "$fqcn" --json | "$bin/python" -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))')
filters=$("$bin/ansible-doc" -t filter -l "$fqcn" --json | "$bin/python" -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))')
echo "core217: modules: $modules"
echo "core217: filters: $filters"
[[ -n $modules && -n $filters ]] || { echo "core217: ansible-doc -l found nothing" >&2; exit 1; }
# Rendering each resolves the amazon.aws doc fragments (and the filters' sidecar docs) under 2.17.
# shellcheck disable=SC2086
"$bin/ansible-doc" -t module $modules > /dev/null
# shellcheck disable=SC2086
"$bin/ansible-doc" -t filter $filters > /dev/null
"$bin/ansible-doc" -t role "$fqcn.isolated_notebook" > /dev/null

# The site playbook against the emulator, then its state read back with boto3.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$REPO/${VENV:-.venv}/bin/python" - "$work/vars.json" <<'PY'
import json, os, sys
import boto3
region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region)
vpc = ec2.create_vpc(CidrBlock="10.217.0.0/16")["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # private DNS needs it
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.217.1.0/24", AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
json.dump({
    "aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"], "aws_ca_bundle": os.environ.get("AWS_CA_BUNDLE", ""),
    "isolated_notebook_region": region, "isolated_notebook_vpc_id": vpc, "isolated_notebook_subnet_id": subnet,
    "isolated_notebook_bucket": "core217-scripts", "isolated_notebook_name_prefix": "core217",
    "isolated_notebook_wait_timeout": 120, "isolated_notebook_notebooks": [{"name": "core217-one"}],
}, open(sys.argv[1], "w"))
PY
start=$SECONDS
(cd "$work" && ANSIBLE_LOCAL_TEMP="$work/tmp" "$bin/ansible-playbook" "$fqcn.site" -e @"$work/vars.json") > "$work/site.log" 2>&1 \
    || { tail -60 "$work/site.log"; echo "core217: site.yml failed with ansible-core $version" >&2; exit 1; }
grep -A1 'PLAY RECAP' "$work/site.log"
echo "core217: site.yml with ansible-core $version: $((SECONDS - start)) s"
"$REPO/${VENV:-.venv}/bin/python" - <<'PY'
import os
import boto3
sm = boto3.client("sagemaker", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
nb = sm.describe_notebook_instance(NotebookInstanceName="core217-one")
assert nb["NotebookInstanceStatus"] == "InService", nb["NotebookInstanceStatus"]
assert nb["NotebookInstanceLifecycleConfigName"] == "core217-autostop", nb.get("NotebookInstanceLifecycleConfigName")
assert nb["DirectInternetAccess"] == "Disabled"
print("core217: core217-one InService with core217-autostop")
PY
