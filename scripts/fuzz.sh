#!/usr/bin/env bash
# Runs every Go fuzz target of the gateway module (func FuzzXxx in a
# *_test.go file) for a bounded time each: FUZZTIME (default 10s; any
# `go test -fuzztime` value). An optional regexp argument selects targets by
# package path or name. A failing input is printed and left in the
# package's testdata/fuzz/FuzzXxx/ so it becomes a regression seed.
#
#   scripts/fuzz.sh                      # all targets, 10 s each
#   FUZZTIME=2m scripts/fuzz.sh sign     # only targets matching "sign"
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
filter="${1:-.}"

# "pkgdir Name" for each fuzz target, sorted.
mapfile -t targets < <(
  git ls-files --cached --others --exclude-standard -- '*_test.go' ':!:deploy/**' |
    xargs grep -H -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' |
    sed -E 's#^(.*)/[^/]+\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#./\1 \2#' |
    grep -E -- "$filter" | sort -u
)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no fuzz target matches $filter" >&2
  exit 1
fi

passed=0 failed=0 failures=()
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== fuzz $pkg $name ($fuzztime)"
  start=$SECONDS
  log=$(mktemp)
  # -run '^$': the seed corpora already run with `make test`.
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
    passed=$((passed + 1))
    { grep 'fuzz: elapsed' "$log" | tail -n 1; tail -n 1 "$log"; } | sed 's/^/   /'
  else
    failed=$((failed + 1))
    failures+=("$pkg $name")
    cat "$log"
    for f in $(sed -n 's#.*Failing input written to \(testdata/fuzz/[^ ]*\).*#\1#p' "$log"); do
      echo "-- failing input $pkg/$f:"
      cat "$pkg/$f" 2>/dev/null || true
    done
  fi
  rm -f "$log"
  echo "   ($((SECONDS - start)) s)"
done
echo "fuzz: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  printf 'fuzz: FAILED %s\n' "${failures[@]}" >&2
  exit 1
fi
