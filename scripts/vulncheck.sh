#!/usr/bin/env bash
# govulncheck against the pinned offline vulnerability database, with the
# policy of docs/toolchain-policy.md: fail on a vulnerability in a module
# dependency that the code reaches; report standard-library ones (fixed by a
# Go toolchain upgrade) without failing, unless VULNCHECK_STDLIB=fail.
#
#   scripts/vulncheck.sh                  # the gateway module, ./...
#   VULNCHECK_STDLIB=fail scripts/vulncheck.sh
#   VULNCHECK_GOTOOLCHAIN=go1.27.3 scripts/vulncheck.sh   # scan as built by another Go
set -euo pipefail
cd "$(dirname "$0")/.."

GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018   # golang.org/x/vulndb snapshot (Go module proxy)

# govulncheck must be built by the toolchain it scans with (a go1.26 build
# cannot load go1.27 sources), so each toolchain gets its own binary.
if [ -n "${VULNCHECK_GOTOOLCHAIN:-}" ]; then
  export GOTOOLCHAIN="$VULNCHECK_GOTOOLCHAIN"
fi
gover=$(go env GOVERSION)
bindir="$PWD/bin/govulncheck-$gover"
bin="$bindir/govulncheck"
if ! [ -x "$bin" ] || ! "$bin" -version 2>/dev/null | grep -q "govulncheck@$GOVULNCHECK_VERSION"; then
  mkdir -p "$bindir"
  GOBIN="$bindir" GOFLAGS= go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
fi
dir=$(GOFLAGS= go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
db="$dir/data/osv"
[ -d "$db" ] || { echo "vulncheck: no OSV data at $db" >&2; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# -format json exits 0 whatever it finds; the policy is applied by report.go.
"$bin" -db "file://$db" -format json ./... >"$out"
go run scripts/vulncheck/report.go -stdlib="${VULNCHECK_STDLIB:-report}" <"$out"
