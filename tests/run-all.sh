#!/usr/bin/env bash
# Runs every test suite of nat64d and ends with one summary line:
#   "N passed, N failed"
# Suites: the Criterion unit tests of core/ (no root needed), the Criterion
# io/ tests (root, a network namespace per test), then the end-to-end pytest
# suite when it exists (root, network namespaces).
set -u
build=${1:-build}
passed=0
failed=0
status=0

# Runs one Criterion binary and adds its synthesis counts to the totals.
run_criterion() {
	local label=$1 bin=$2
	local out
	out=$("$bin" --jobs 2 2>&1)
	local rc=$?
	printf '%s\n' "$out" | grep -vE '^\[----\]|^\[RUN \]|^\[PASS\]' | tail -n 40
	local line
	line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	if [ -z "$line" ]; then
		echo "run-all: $label printed no synthesis (exit $rc)"
		failed=$((failed + 1))
		status=1
		return
	fi
	local ok fail crash
	ok=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
	fail=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
	crash=$(sed -E 's/.*Crashing: ([0-9]+).*/\1/' <<<"$line")
	passed=$((passed + ok))
	failed=$((failed + fail + crash))
	[ "$rc" = 0 ] || status=1
}

run_unit() {
	run_criterion "unit tests" "$build/unit-tests"
}

# io/ against the kernel: root, one network namespace per test. Not root:
# skipped on a desk, failed when CI=true (the tests decide).
run_io() {
	run_criterion "io tests" "$build/io-tests"
}

run_e2e() {
	[ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1 || return 0
	local out rc
	local dir
	dir=$(cd "$build" && pwd)
	out=$(NAT64D="${NAT64D:-$dir/nat64d}" NAT64="${NAT64:-$dir/nat64}" \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e 2>&1)
	rc=$?
	printf '%s\n' "$out" | tail -n 40
	local line
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ (passed|failed|error)' | tail -n 1)
	local p f e
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || true)
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || true)
	e=$(grep -oE '[0-9]+ error' <<<"$line" | grep -oE '[0-9]+' || true)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0}))
	if [ "$rc" != 0 ]; then
		status=1
		[ -z "$line" ] && failed=$((failed + 1))
	fi
}

run_unit
run_io
run_e2e
echo "$passed passed, $failed failed"
exit $status
