#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmod_unload.sh - softee.ko cannot be unloaded while anything uses it, and
# unloads cleanly after (a "vm" test: runs in the test VM with the module
# loaded, and leaves it loaded for the tests after it).
#
#  - rmmod is refused ("in use") while /dev/softee is open, and while a
#    process holds a session with a guest trapping through it
#    (softee-trap run --kmod);
#  - once that process is gone (killed with a vCPU busy in the module),
#    the module's reference count is 0, rmmod succeeds, /dev/softee and
#    the debugfs directory are gone and the kernel log says so;
#  - insmod of the same file works again, and so does a guest through it.
#
# TAP on stdout; exits 1 on any failure, 4 (skip) without the module.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
bdir=${SOFTEE_BUILD_DIR:-build}
ko=${SOFTEE_KO:-$bdir/softee.ko}
trap_bin=$bdir/softee-trap
n=0
failed=0

# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh

# check NAME CMD...: one test line from a command's status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# wait_for SECONDS CMD...: until CMD succeeds; its status at the end.
wait_for() {
	local tries=$(($1 * 20))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || return 1
		sleep 0.05
	done
}

refcnt() { cat /sys/module/softee/refcnt 2>/dev/null || echo none; }
refcnt_positive() { [ "$(refcnt)" != none ] && [ "$(refcnt)" -gt 0 ]; }
module_gone() { [ ! -e /sys/module/softee ]; }
dev_present() { [ -c /dev/softee ]; }
dev_gone() { [ ! -e /dev/softee ]; }

# rmmod_in_use: rmmod must fail and say the module is in use.
rmmod_in_use() {
	local out rc
	out=$(rmmod softee 2>&1)
	rc=$?
	[ -n "$out" ] && echo "# rmmod: $out"
	[ $rc -ne 0 ] && [[ $out == *"in use"* ]] && [ -e /sys/module/softee ] && dev_present
}

# Lines the kernel logged since the marker line this script wrote.
kmsg_since_mark() {
	dmesg 2>/dev/null | sed -n "/kmod_unload.sh: mark $$/,\$p"
}

echo "TAP version 13"
if [ ! -e /sys/module/softee ] || ! dev_present; then
	echo "1..0 # SKIP softee.ko is not loaded (run in the test VM: selftests/vm/vm-run --insmod $ko)"
	exit 4
fi
for tool in rmmod insmod; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP no $tool"
		exit 4
	fi
done
echo "1..11"
echo "kmod_unload.sh: mark $$" >/dev/kmsg 2>/dev/null

# 1. an open /dev/softee holds the module
exec 3<>/dev/softee
check "rmmod refused while /dev/softee is open" rmmod_in_use
exec 3>&-

# 2-4. a session with a guest trapping through it holds the module
holder=
if [ -x "$trap_bin" ] && [ -c /dev/kvm ]; then
	"$trap_bin" run --kmod --program mixed --count 100000000 --max-seconds 120 --quiet \
		>/tmp/kmod_unload.holder.log 2>&1 &
	holder=$!
	if wait_for 30 refcnt_positive && kill -0 "$holder" 2>/dev/null; then
		ok "a session holds the module (refcnt $(refcnt))"
		check "rmmod refused while a session is open" rmmod_in_use
		check "the session's process still runs" kill -0 "$holder"
	else
		not_ok "a session holds the module (refcnt $(refcnt))"
		sed 's/^/# holder: /' /tmp/kmod_unload.holder.log
		skip "rmmod refused while a session is open" "no session"
		skip "the session's process still runs" "no session"
	fi
	# killed while its vCPU traps: the session closes with the process
	kill -TERM "$holder" 2>/dev/null
	if wait_for 10 eval '! kill -0 '"$holder"' 2>/dev/null'; then
		wait "$holder" 2>/dev/null
	else
		echo "# the holder did not end on SIGTERM; SIGKILL"
		kill -KILL "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
	fi
else
	for t in "a session holds the module" "rmmod refused while a session is open" \
		 "the session's process still runs"; do
		skip "$t" "no $trap_bin or /dev/kvm"
	done
fi

# 5. nothing holds it any more
wait_for 10 eval '[ "$(refcnt)" = 0 ]'
check "refcnt back to 0 once the process is gone (refcnt $(refcnt))" [ "$(refcnt)" = 0 ]

# 6-7. it unloads, and takes its device and debugfs directory along
rmmod_out=$(rmmod softee 2>&1)
rmmod_rc=$?
[ -n "$rmmod_out" ] && echo "# rmmod: $rmmod_out"
check "rmmod succeeds" [ $rmmod_rc -eq 0 ]
check "/dev/softee, /sys/module/softee and debugfs softee/ are gone" \
	eval 'wait_for 5 dev_gone && module_gone && [ ! -e /sys/kernel/debug/softee ]'
check "the kernel log says it unloaded" eval 'kmsg_since_mark | grep -q "softee: unloaded"'

# 8-10. and loads again, and works
insmod_out=$(insmod "$ko" 2>&1)
insmod_rc=$?
[ -n "$insmod_out" ] && echo "# insmod: $insmod_out"
check "insmod $ko again" [ $insmod_rc -eq 0 ]
check "/dev/softee is back" wait_for 5 dev_present
if [ -x "$trap_bin" ] && [ -c /dev/kvm ]; then
	out=$("$trap_bin" run --kmod --program mixed --count 200 --max-seconds 60 --quiet 2>&1)
	rc=$?
	[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# softee-trap: /'
	check "a guest traps through the reloaded module" [ $rc -eq 0 ]
else
	skip "a guest traps through the reloaded module" "no $trap_bin or /dev/kvm"
fi

rm -f /tmp/kmod_unload.holder.log
exit $failed
