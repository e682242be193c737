#!/usr/bin/env bash
# Runs every Go fuzz target of the gateway module (func FuzzXxx in a
# *_test.go file) with a bounded budget each, and fails only on a finding.
#
# Budgets are execution counts (`-fuzztime Nx`), sized per target below, not
# wall-clock times: a count has no deadline, so a loaded machine makes the
# run slower but cannot make it fail. (A duration budget ends with a context
# deadline, and the Go 1.26 fuzz coordinator can report that deadline as a
# failure with no input to show: Go issue 75804, fixed in Go 1.27.)
# FUZZTIME overrides every budget with any `go test -fuzztime` value
# (`2m` for a longer local session, `500x`). An optional regexp argument
# selects targets by package path or name.
#
# A finding is a failing input: one the engine wrote under the package's
# testdata/fuzz/FuzzXxx/ (it stays there as a regression seed; commit it
# with the fix), or a committed seed that fails. Both are printed. Anything
# else that fails (a build error, a crashed worker) fails the run too and
# its log is printed; only the coordinator's bare end-of-budget deadline,
# with no input, is retried once.
#
#   scripts/fuzz.sh                      # all targets, their budgets
#   FUZZTIME=2m scripts/fuzz.sh sign     # only targets matching "sign"
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-.}"

# Executions per target: a few seconds each on an idle 2-core machine (the
# slowest targets decrypt or round-trip protobuf), about a minute loaded.
declare -A budget=(
  [FuzzSign]=100000x
  [FuzzCheckResponse]=40000x
  [FuzzDecode]=20000x
  [FuzzEncryptDecode]=20000x
  [FuzzParsePush]=30000x
  [FuzzParamsJSON]=20000x
)
default_budget=20000x

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

# bare_deadline: the log's only failure is the coordinator's own deadline.
bare_deadline() {
  grep -q -- '--- FAIL: Fuzz' "$1" &&
    grep -qx '[[:space:]]*context deadline exceeded' "$1" &&
    ! grep -q -e 'Failing input written to' -e 'failure while testing seed corpus entry' -e 'panic:' -e '_test.go:[0-9]' "$1"
}

passed=0 failed=0 failures=()
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  fuzztime="${FUZZTIME:-${budget[$name]:-$default_budget}}"
  echo "== fuzz $pkg $name ($fuzztime)"
  start=$SECONDS
  log=$(mktemp)
  ok=0
  for try in 1 2; do
    # -run '^$': the seed corpora already run with `make test`.
    if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -timeout 15m "$pkg" >"$log" 2>&1; then
      ok=1
      break
    fi
    if [ "$try" -eq 1 ] && bare_deadline "$log"; then
      echo "   coordinator deadline without a failing input (Go issue 75804); running the target again"
      continue
    fi
    break
  done
  if [ "$ok" -eq 1 ]; then
    passed=$((passed + 1))
    { grep 'fuzz: elapsed' "$log" | tail -n 1; tail -n 1 "$log"; } | sed 's/^/   /'
  else
    failed=$((failed + 1))
    failures+=("$pkg $name")
    cat "$log"
    # New findings, then failing committed seeds.
    for f in $(sed -n 's#.*Failing input written to \(testdata/fuzz/[^ ]*\).*#\1#p' "$log") \
      $(sed -n 's#.*failure while testing seed corpus entry: \([^ ]*\).*#testdata/fuzz/\1#p' "$log"); do
      echo "-- failing input $pkg/$f:"
      cat "$pkg/$f" 2>/dev/null || echo "   (not a file: an f.Add seed in the test)"
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
