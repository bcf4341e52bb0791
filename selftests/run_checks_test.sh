#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run_checks_test.sh - run-checks itself, on lists of its own of tiny fake
# tests in a temporary directory (SOFTEE_TESTS_LIST: never tests.list, and
# always --where native, so that no VM boots and nothing recurses):
#  - the last line, "N passed, N failed, N skipped", counts exit statuses
#    (0 passed, 4 skipped, others failed), TAP lines ("ok", "not ok",
#    "# SKIP"), one failure more for a test that prints TAP lines and then
#    exits 1, and a failure for a test that SOFTEE_TEST_TIMEOUT kills;
#  - run-checks exits non-zero when a test failed, 0 when all passed or
#    skipped;
#  - --only NAME runs the tests whose name holds NAME and no others;
#    --where native leaves out the vm and vm-nested lines.
# TAP on stdout; exits 1 on a failure.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh

RUN_CHECKS=$top/selftests/run-checks
# SOFTEE_TEST_TIMEOUT for the fake tests: "hang" outlives it, the others
# take milliseconds.
TIMEOUT=3
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fake NAME BODY: a test program $tmp/NAME that runs BODY.
fake() {
	printf '#!/bin/bash\n%s\n' "$2" >"$tmp/$1"
	chmod +x "$tmp/$1"
}
fake pass 'echo "all is well"; exit 0'
fake fail 'echo "something broke" >&2; exit 1'
fake skip 'echo "nothing to test here"; exit 4'
fake tap 'printf "%s\n" "ok 1 a" "not ok 2 b" "ok 3 c # SKIP why"'
fake tapfail 'printf "%s\n" "ok 1 a" "ok 2 b" "ok 3 c"; exit 1'
fake hang 'sleep 60'
fake tapgood 'printf "%s\n" "ok 1 a" "ok 2 b # SKIP why"'
fake tapskipped 'printf "%s\n" "ok 1 a # skip why" "ok 2 b # SKIP why"; exit 4'
fake never 'echo "a vm line ran natively"; exit 1'

# list FILE NAME...: a tests.list of those fake tests, native, and two
# lines for the VMs that --where native must leave out.
list() {
	local f=$1 t
	shift
	{
		printf '# where\tname\tcommand\n'
		for t; do printf 'native\t%s\t%s\n' "$t" "$tmp/$t"; done
		printf '\n'
		printf 'vm\tin_vm\t%s\n' "$tmp/never"
		printf 'vm-nested\tin_nested\t%s\n' "$tmp/never"
	} >"$f"
}
list "$tmp/all.list" pass fail skip tap tapfail hang
list "$tmp/good.list" pass skip tapgood
list "$tmp/skipped.list" skip tapskipped

# run LIST ARGS...: run-checks --where native on LIST; its output (stdout
# and stderr) in $tmp/out, its status in $rc, its time in $took.
run() {
	local l=$1 t0=$SECONDS
	shift
	rc=0
	# SOFTEE_VM_QEMU: a vm line run by mistake would skip at once.
	SOFTEE_TESTS_LIST=$l SOFTEE_TEST_TIMEOUT=$TIMEOUT SOFTEE_VM_QEMU=$tmp/no-qemu \
		timeout 120 "$RUN_CHECKS" --where native "$@" >"$tmp/out" 2>&1 || rc=$?
	took=$((SECONDS - t0))
}

# expect WHAT SUMMARY STATUS NAMES: the last run's last line is SUMMARY,
# its status STATUS (0, or "non-zero"), and it started the tests NAMES
# (in the list's order), no other.
expect() {
	local what=$1 summary=$2 status=$3 names=$4 last ran why=
	last=$(tail -n 1 "$tmp/out")
	ran=$(sed -n 's/^# ---- \([^:]*\): .*/\1/p' "$tmp/out" | paste -sd ' ')
	[ "$last" = "$summary" ] || why+=" last line '$last', want '$summary';"
	case $status in
	0) [ "$rc" = 0 ] || why+=" status $rc, want 0;" ;;
	*) [ "$rc" != 0 ] && [ "$rc" != 124 ] || why+=" status $rc, want non-zero (and no timeout);" ;;
	esac
	[ "$ran" = "$names" ] || why+=" ran '$ran', want '$names';"
	if [ -z "$why" ]; then
		ok "$what: $summary, status $rc"
	else
		not_ok "$what:$why"
		show "$tmp/out"
	fi
}

# has WHAT LINE: the last run's output has this line.
has() {
	if grep -qxF -- "$2" "$tmp/out"; then
		ok "$1"
	else
		not_ok "$1: no line '$2'"
		show "$tmp/out"
	fi
}

echo "TAP version 13"
echo "1..11"

# Everything: pass 1; fail 1 failed; skip 1 skipped; tap 1 of each;
# tapfail 3 passed and its exit 1 one failure; hang 1 failed.
run "$tmp/all.list"
expect "a list with failures" "5 passed, 4 failed, 2 skipped" non-zero "pass fail skip tap tapfail hang"
has "a test that prints TAP lines and exits 1 is counted as failed" "not ok - tapfail exited with status 1"
has "a test past SOFTEE_TEST_TIMEOUT is stopped and counted as failed" "not ok - hang timed out after ${TIMEOUT}s"
if [ "$took" -lt 30 ]; then
	ok "the hanging test did not hold run-checks (${took}s)"
else
	not_ok "the hanging test held run-checks for ${took}s (its timeout: ${TIMEOUT}s)"
fi
failures=$(sed -n 's/^# failed: //p' "$tmp/out" | paste -sd ' ')
if [ "$failures" = "fail tap tapfail hang" ]; then
	ok "the failed tests are named: $failures"
else
	not_ok "the failed tests named: '$failures', want 'fail tap tapfail hang'"
fi

# Only passes and skips, by exit status and by TAP lines.
run "$tmp/good.list"
expect "a list that passes" "2 passed, 0 failed, 2 skipped" 0 "pass skip tapgood"
# Only skips ("# skip" in any case, and a TAP test's exit 4 is no failure).
run "$tmp/skipped.list"
expect "a list that only skips" "0 passed, 0 failed, 3 skipped" 0 "skip tapskipped"

# --only NAME: the names that hold NAME.
run "$tmp/all.list" --only tapfail
expect "--only tapfail" "3 passed, 1 failed, 0 skipped" non-zero "tapfail"
run "$tmp/all.list" --only tap
expect "--only tap" "4 passed, 2 failed, 1 skipped" non-zero "tap tapfail"
run "$tmp/all.list" --only skip
expect "--only skip: a list with failures, none of them selected" "0 passed, 0 failed, 1 skipped" 0 "skip"
run "$tmp/all.list" --only no_such_test
expect "--only matching nothing" "0 passed, 0 failed, 0 skipped" 0 ""

exit "$failed"
