#!/usr/bin/env bash
# Lay the collection out where ansible-test needs it: a real copy (not a symlink) under
# build/ansible_collections/secure_sagemaker/notebooks, with amazon.aws beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
BUILD=${BUILD:-build}
root=$BUILD/ansible_collections
dest=$root/secure_sagemaker/notebooks
mkdir -p "$dest" "$root/amazon"
# Copy tracked and new (not ignored) files only, so venvs, caches and build output stay out.
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
git ls-files -z --cached --others --exclude-standard \
    | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$dest.tmp"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
# ansible-test lists content with git: give the copy its own repository so the outer one's
# ignore rules (build/ is ignored) do not hide it.
git -C "$dest" init -q
# Mermaid for the HTML audit report (tools/vendor_mermaid.sh), as the built collection carries it; third-party
# minified code, so the copy's repository ignores it and ansible-test's sanity tests do not read it.
if [[ -f files/vendor/mermaid/mermaid.min.js ]]; then
    mkdir -p "$dest/files/vendor/mermaid"
    cp files/vendor/mermaid/mermaid.min.js files/vendor/mermaid/LICENSE "$dest/files/vendor/mermaid/"
    echo "files/vendor/" >> "$dest/.git/info/exclude"
fi
site=$("$VENV/bin/python" -c 'import ansible_collections.amazon.aws as m; print(list(m.__path__)[0])')
if [[ ! -d "$root/amazon/aws" ]]; then
    cp -r "$site" "$root/amazon/aws"
fi
echo "$dest"
