#!/usr/bin/env bash
# Writes internal/catalog/catalog.json from the platform API declarations of
# the npm package pinned in scripts/catalog/package-lock.json (make catalog),
# or, with --check, regenerates it into a temporary directory and fails when
# it differs from the committed file (make catalog-check; CI).
set -euo pipefail
cd "$(dirname "$0")"
check=false
[ "${1:-}" = --check ] && check=true

command -v npm >/dev/null 2>&1 || { echo "catalog: npm not found (Node 20+ and npm generate the catalog)" >&2; exit 1; }

# npm ci from the lock file unless node_modules was installed from this very
# lock file. --ignore-scripts: the packages are read, never run.
sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.kwaishop-lock.sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$sum" >"$stamp"
fi

committed=../../internal/catalog/catalog.json
if ! $check; then
  node generate.mjs --out "$committed"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node generate.mjs --out "$tmp/catalog.json" >/dev/null
if ! cmp -s "$committed" "$tmp/catalog.json"; then
  diff -u "$committed" "$tmp/catalog.json" | head -n 60 >&2 || true
  echo "internal/catalog/catalog.json is stale: run make catalog and commit" >&2
  exit 1
fi
echo "catalog: internal/catalog/catalog.json is what the generator makes"
