#!/usr/bin/env bash
# govulncheck against the pinned offline vulnerability database, with the
# policy of docs/toolchain-policy.md: fail on a vulnerability that the code
# reaches, in a module dependency or in the standard library of the Go that
# builds the shipped binary; list the ones it does not reach.
#
# The scan runs under the Dockerfile's GO_TOOLCHAIN (the Go the image and
# CI build with; fetched through the Go module proxy on first use), because
# govulncheck judges the standard library of the Go it runs under.
#
#   scripts/vulncheck.sh                               # the gateway module, ./...
#   VULNCHECK_STDLIB=report scripts/vulncheck.sh       # list standard-library findings, do not fail on them
#   VULNCHECK_GOTOOLCHAIN=local scripts/vulncheck.sh   # scan as built by this machine's own Go
set -euo pipefail
cd "$(dirname "$0")/.."

GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018   # golang.org/x/vulndb snapshot (Go module proxy)

stdlib=${VULNCHECK_STDLIB:-fail}
case "$stdlib" in
  fail|report) ;;
  *) echo "vulncheck: VULNCHECK_STDLIB=$stdlib: want fail or report" >&2; exit 2 ;;
esac
toolchain=${VULNCHECK_GOTOOLCHAIN:-$(sed -n 's/^ARG GO_TOOLCHAIN=//p' Dockerfile)}
[ -n "$toolchain" ] || { echo "vulncheck: no ARG GO_TOOLCHAIN= line in the Dockerfile" >&2; exit 1; }
export GOTOOLCHAIN="$toolchain"

# govulncheck must be built by the toolchain it scans with (a go1.26 build
# cannot load go1.27 sources), so each toolchain gets its own binary.
gover=$(go env GOVERSION)
echo "vulncheck: scanning as built by $gover (GOTOOLCHAIN=$GOTOOLCHAIN), standard-library findings: $stdlib"
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
go run scripts/vulncheck/report.go -stdlib="$stdlib" <"$out"
