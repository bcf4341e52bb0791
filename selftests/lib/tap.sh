# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# selftests/lib/tap.sh - TAP lines for the shell tests.  Source it from
# bash; the sourcing script sets n=0 and failed=0 and ends with
# "exit $failed" (run-checks counts the lines, and the status).
#
#   ok NAME          "ok N NAME"
#   not_ok NAME      "not ok N NAME", and failed=1
#   skip NAME WHY    "ok N NAME # SKIP WHY"
#   show LOG...      the last SHOW_LINES (25) lines of each, as TAP comments
# shellcheck disable=SC2034 # n and failed are the sourcing script's
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n $1"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
show() {
	local l
	for l in "$@"; do
		echo "#   -- $l"
		tail -n "${SHOW_LINES:-25}" "$l" 2>/dev/null | sed 's/^/#   /'
	done
}
