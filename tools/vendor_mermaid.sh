#!/usr/bin/env bash
# Mermaid, which draws the path diagrams of audit.yml's HTML report, from the npm registry at build time
# (the report loads it from beside itself, never from a CDN): files/vendor/mermaid/{mermaid.min.js,LICENSE},
# where audit.yml looks for it (git ignores it), the tarball checked against the registry's integrity pinned
# here. tools/collection_tree.sh copies it into the collection tree, so the built collection carries it.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=12.3.0
INTEGRITY=sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw==
# sha256 of dist/mermaid.min.js in that tarball: a copy already here is checked too.
SCRIPT_SHA256=336df803d87a38b70a01e736e666c8f7601d2ce42f5e47c8fafe5d721074b9a3
dest=files/vendor/mermaid
if [[ -f $dest/mermaid.min.js ]] && sha256sum "$dest/mermaid.min.js" | grep -q "^$SCRIPT_SHA256 "; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "vendor_mermaid: npm is missing (Debian package 'npm')" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "mermaid@$VERSION" --silent >/dev/null)
tarball=$tmp/mermaid-$VERSION.tgz
got=sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")
[[ $got == "$INTEGRITY" ]] || { echo "vendor_mermaid: mermaid-$VERSION.tgz is $got, not the pinned $INTEGRITY" >&2; exit 1; }
tar -xzf "$tarball" -C "$tmp" package/dist/mermaid.min.js package/LICENSE
sha256sum "$tmp/package/dist/mermaid.min.js" | grep -q "^$SCRIPT_SHA256 " \
    || { echo "vendor_mermaid: dist/mermaid.min.js does not have the pinned SHA-256" >&2; exit 1; }
mkdir -p "$dest"
cp "$tmp/package/dist/mermaid.min.js" "$tmp/package/LICENSE" "$dest/"
echo "$VERSION" > "$dest/VERSION"
echo "vendor_mermaid: mermaid $VERSION in $dest"
