#!/usr/bin/env bash
# Make a checkout usable as the collection itself: ansible.cfg (collections_path = .collections)
# then finds secure_sagemaker.notebooks in .collections/, a link back to the checkout, so
# `ansible-playbook playbooks/site.yml` runs from the repository without installing anything.
#   tools/link_checkout.sh [CHECKOUT]     (default: this repository)
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
mkdir -p "$root/.collections/ansible_collections/secure_sagemaker"
ln -sfn ../../.. "$root/.collections/ansible_collections/secure_sagemaker/notebooks"
