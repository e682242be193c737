#!/usr/bin/env bash
# buf breaking: are the protos' changes wire- and source-compatible with a
# git revision? Usage: scripts/breaking.sh [REVISION] (default: main, then
# origin/main). Locally, `make breaking AGAINST=origin/main` or
# `AGAINST=HEAD~` checks a branch or the last commit.
#
# buf's own git input (`buf breaking --against '.git#branch=main'`) cannot
# be used as is: the revision's buf.yaml names third_party/, which is
# gitignored (the third-party protos are fetched by scripts/protodeps.sh,
# never committed), so buf would not find the imported files. The revision's
# buf.yaml and proto/ are exported to a temporary directory instead, with
# this checkout's third_party/ linked into it.
#
# CI runs it against main. On a fresh clone of main that compares main with
# itself and always passes; it guards a branch that is checked before it is
# merged, and works the same locally.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-main}
if ! git rev-parse -q --verify "$rev^{commit}" >/dev/null; then
  if [ -z "${1:-}" ] && git rev-parse -q --verify "origin/main^{commit}" >/dev/null; then
    rev=origin/main
  else
    echo "breaking: no revision $rev (try AGAINST=origin/main or AGAINST=HEAD~)" >&2
    exit 1
  fi
fi
[ -e third_party/googleapis ] || ./scripts/protodeps.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
git archive "$rev" -- buf.yaml proto | tar -x -C "$dir"
ln -s "$PWD/third_party" "$dir/third_party"
echo "buf breaking against $rev ($(git rev-parse --short "$rev"))"
bin/buf breaking --against "$dir"
