#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# trap_attach_qemu.sh - `softee-trap attach` against an unmodified QEMU/KVM
# guest (a "vm" test: QEMU runs inside the test VM, nested, with softee.ko
# loaded).
#
# The guest is our own firmware, build/selftests/attach_fw.bin
# (selftests/lib/attach_fw.S): port writes and a read at 0x5000, then MMIO
# writes and a read at 0xE0000000, each read's value written back, then an
# exit through QEMU's isa-debug-exit.  For the port region and then the
# MMIO region: QEMU starts paused (-S), the tracer attaches to it by PID,
# QEMU is resumed through its monitor, and
#  - QEMU exits 33: the firmware ran to its end, and QEMU's own device
#    (port 0xF4) still reached QEMU;
#  - the tracer printed exactly the firmware's accesses to that region, in
#    order, with their sizes and data, and nothing else;
#  - the read returned the tracer's --read-value (the firmware wrote it back);
#  - the tracer's counters agree and it exits 0.
# Then, against a third paused QEMU: a range over its RAM is refused with
# its reason, and so is a second tracer while a first has the VM.
#
# TAP on stdout; exits 1 on any failure, 4 (skip) without QEMU, KVM or
# softee.ko.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
bdir=${SOFTEE_BUILD_DIR:-build}
trap_bin=$bdir/softee-trap
fw=$bdir/selftests/attach_fw.bin
qemu=${SOFTEE_QEMU:-qemu-system-x86_64}
read_value=0x1234abcd
work=$(mktemp -d /tmp/trap_attach_qemu.XXXXXX) || exit 1
port=45454
n=0
failed=0
qpid=
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh
tpid=

cleanup() {
	[ -n "$tpid" ] && kill -KILL "$tpid" 2>/dev/null
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
skip_all() {
	echo "1..0 # SKIP $1"
	exit 4
}

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local tries=$(($1 * 20))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || return 1
		sleep 0.05
	done
}

dead() { ! kill -0 "$1" 2>/dev/null; }
monitor_up() { (exec 6<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# The firmware's accesses, as "op bus address size data" of the tracer.
expected() {
	local i
	case $1 in
	pio)
		for i in 0 1 2 3 4 5 6 7; do
			printf 'write PIO 0x000000005000 4 0xa000000%d\n' $i
		done
		echo "write PIO 0x000000005002 2 0xbeef"
		echo "write PIO 0x000000005003 1 0x42"
		echo "read PIO 0x000000005000 4 $read_value"
		echo "write PIO 0x000000005000 4 $read_value"
		;;
	mmio)
		for i in 0 1 2 3 4 5 6 7; do
			printf 'write MMIO 0x0000e00000%02x 4 0xb000000%d\n' $((4 * i)) $i
		done
		echo "write MMIO 0x0000e0000020 2 0xcafe"
		echo "write MMIO 0x0000e0000022 1 0x99"
		echo "read MMIO 0x0000e0000040 4 $read_value"
		echo "write MMIO 0x0000e0000044 4 $read_value"
		;;
	esac
}

# HMP command to QEMU's monitor; waits for the prompt after it.
monitor() {
	local line
	exec 5<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%s\n' "$1" >&5
	# the greeting's prompt, then the one after the command
	timeout 10 bash -c 'n=0; while IFS= read -r -d ")" x; do
		[[ $x == *"(qemu"* ]] && n=$((n + 1)); [ $n -ge 2 ] && exit 0; done; exit 1' <&5
	line=$?
	exec 5>&-
	return $line
}

# A run that stops early leaves no paused QEMU or tracer behind: the next
# run would lose their pids, and cleanup's wait would block on them.
stop_both() {
	[ -n "$tpid" ] && kill -KILL "$tpid" 2>/dev/null && wait "$tpid" 2>/dev/null
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	tpid= qpid=
}

# start_qemu TAG: QEMU on the firmware, paused, its monitor on a new port
# (qpid); 1 if its monitor did not come up (reported, QEMU stopped).  The
# monitor listens before QEMU has built the machine (its RAM is not in KVM
# yet); it answers a command only from the main loop, after.
start_qemu() {
	port=$((port + 1))
	"$qemu" -M pc -accel kvm -m 64 -nodefaults -nographic -no-reboot -S \
		-bios "$fw" -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-monitor "tcp:127.0.0.1:$port,server=on,wait=off" \
		>"$work/qemu.$1.log" 2>&1 &
	qpid=$!
	if ! wait_for 60 monitor_up || ! monitor "info status"; then
		not_ok "$1: QEMU starts, paused"
		sed 's/^/# qemu: /' "$work/qemu.$1.log"
		stop_both
		return 1
	fi
}

# start_tracer TAG REGION-OPTION: softee-trap attach on QEMU (tpid), its
# output in $work/trace.TAG(.err); 1 if it did not attach (reported, both
# stopped).
start_tracer() {
	"$trap_bin" attach --pid "$qpid" $2 --read-value "$read_value" \
		>"$work/trace.$1" 2>"$work/trace.$1.err" &
	tpid=$!
	if ! wait_for 30 grep -q "reads answer" "$work/trace.$1.err"; then
		not_ok "$1: softee-trap attach --pid QEMU $2"
		sed 's/^/# softee-trap: /' "$work/trace.$1.err"
		stop_both
		return 1
	fi
}

# run_one pio|mmio REGION-OPTION
run_one() {
	local bus=$1 region=$2 qrc trc got want

	start_qemu "$bus" || return
	ok "$bus: QEMU starts, paused"

	start_tracer "$bus" "$region" || return
	ok "$bus: softee-trap attach --pid QEMU $region"

	check "$bus: QEMU resumed through its monitor" monitor cont
	if wait_for 60 dead "$qpid"; then
		wait "$qpid"
		qrc=$?
	else
		qrc=timeout
		kill -KILL "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
	fi
	qpid=
	[ "$qrc" = 33 ] || sed 's/^/# qemu: /' "$work/qemu.$bus.log"
	check "$bus: the firmware ran to its end and exited through QEMU's device (status $qrc)" \
		[ "$qrc" = 33 ]

	# the guest is gone; the tracer prints what is left and stops
	kill -TERM "$tpid" 2>/dev/null
	if wait_for 20 dead "$tpid"; then
		wait "$tpid"
		trc=$?
	else
		trc=timeout
		kill -KILL "$tpid" 2>/dev/null
		wait "$tpid" 2>/dev/null
	fi
	tpid=
	sed 's/^/# trace: /' "$work/trace.$bus"
	sed 's/^/# softee-trap: /' "$work/trace.$bus.err"
	check "$bus: the tracer exits 0 (status $trc)" [ "$trc" = 0 ]

	got=$(awk '{ print $4, $5, $6, $7, $8 }' "$work/trace.$bus")
	want=$(expected "$bus")
	if [ "$got" = "$want" ]; then
		ok "$bus: the tracer saw exactly the firmware's accesses, in order"
	else
		not_ok "$bus: the tracer saw exactly the firmware's accesses, in order"
		diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
	fi
	check "$bus: every access came from vCPU 0 (column 3)" \
		eval "[ -z \"\$(awk '\$2 != \"vcpu\" || \$3 != 0' '$work/trace.$bus')\" ]"
	check "$bus: the guest read $read_value (and wrote it back)" \
		eval "[ \"\$(grep -c ' $read_value\$' '$work/trace.$bus')\" = 2 ]"
	check "$bus: the tracer's counters: 11 writes, 1 read, no timeouts or drops" \
		grep -q "writes=11 reads=1 timeouts=0 drops=0 " "$work/trace.$bus.err"
}

# attach_errors: against a paused QEMU, a range over its RAM is refused
# (--duration: a tracer that attached by mistake ends, and fails the check)
# with its reason, a second tracer on the VM one of them has is refused,
# and neither disturbs the first, which still sees the firmware through.
attach_errors() {
	local err rc

	start_qemu errors || return
	err=$("$trap_bin" attach --pid "$qpid" --mmio 0x100000:0x1000 --duration 5 2>&1 >/dev/null)
	rc=$?
	check "errors: attach over QEMU's RAM exits 1 and says why (status $rc: $(tail -1 <<<"$err"))" \
		eval '[ $rc = 1 ] && grep -q "overlaps guest RAM (a memslot): pick an address outside" <<<"$err"'

	start_tracer first "--pio 0x5000:4" || return
	err=$("$trap_bin" attach --pid "$qpid" --mmio 0xe0000000:0x1000 --duration 5 2>&1 >/dev/null)
	rc=$?
	check "errors: a second tracer on the same VM exits 1 and says why (status $rc: $(tail -1 <<<"$err"))" \
		eval '[ $rc = 1 ] && grep -q "the VM already has a softee session: close it first" <<<"$err"'

	check "errors: QEMU resumed through its monitor" monitor cont
	if wait_for 60 dead "$qpid"; then
		wait "$qpid"
		rc=$?
		qpid=
	else
		rc=timeout
	fi
	kill -TERM "$tpid" 2>/dev/null
	wait_for 20 dead "$tpid"
	stop_both
	[ "$rc" = 33 ] || sed 's/^/# qemu: /' "$work/qemu.errors.log"
	sed 's/^/# softee-trap: /' "$work/trace.first.err"
	check "errors: the firmware ran to its end (status $rc) and the first tracer saw its 11 port writes and its read" \
		eval '[ "$rc" = 33 ] && grep -q "writes=11 reads=1 timeouts=0 drops=0 " "$work/trace.first.err"'
}

echo "TAP version 13"
command -v "$qemu" >/dev/null || skip_all "no $qemu"
[ -c /dev/kvm ] || skip_all "no /dev/kvm"
[ -c /dev/softee ] || skip_all "softee.ko is not loaded (run in the test VM)"
[ -x "$trap_bin" ] || skip_all "no $trap_bin (make)"
[ -f "$fw" ] || skip_all "no $fw (make)"
echo "1..22"
run_one pio "--pio 0x5000:4"
run_one mmio "--mmio 0xe0000000:0x1000"
attach_errors
exit $failed
