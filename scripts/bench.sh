#!/usr/bin/env bash
# The process-level benchmark (`make bench`): builds cmd/server, cmd/sandbox
# and cmd/bench into a temp dir, then runs bench, which starts the sandbox,
# the server and the floor service (bench itself as `bench floor`: the least
# a gRPC service can do to honour PlatformService.Call) as separate processes
# on loopback and measures the gateway against the floor and against a
# direct signing client of the sandbox (the physical limit).
# The report goes to stdout, docs/benchmarks-latest.md and the "Performance"
# section of docs/benchmarks.md. Extra arguments go to bench, e.g.
#   scripts/bench.sh -duration 10s -concurrency 1,32,256,512
# (bench -h lists them). Load is bounded: loopback only, fixed durations.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kwaishop-bench.XXXXXX")
keep=${BENCH_KEEP:-}
cleanup() { if [ -z "$keep" ]; then rm -rf "$tmp"; else echo "bench: logs kept in $tmp" >&2; fi; }
trap cleanup EXIT
echo "bench: building into $tmp" >&2
go build -o "$tmp/server" ./cmd/server
go build -o "$tmp/sandbox" ./cmd/sandbox
go build -o "$tmp/bench" ./cmd/bench
mkdir -p "$tmp/work"
"$tmp/bench" -server "$tmp/server" -sandbox "$tmp/sandbox" -workdir "$tmp/work" \
  -repo . -go "$(command -v go)" \
  -out docs/benchmarks-latest.md -doc docs/benchmarks.md \
  -command "make bench${*:+ (scripts/bench.sh $*)}" "$@"
