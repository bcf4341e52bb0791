#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# trap_exit_test.sh - softee-trap without the module: `run --exit` over every
# program, size, bus and 1-2 vCPUs (the guest checks each read, the responder
# each access); the native bench cases; every usage error exits 2 with one
# line; attach's errors without the module; run and bench without /dev/kvm
# (an empty /dev in a mount namespace), without access to it and without the
# module. TAP output.
#
# With --kmod (a "vm" test: in the test VM, softee.ko loaded), the same
# `run` matrix, wait strategies and trace through the module instead, and
# the module's bench cases; the errors and usage checks ran natively.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
T=${SOFTEE_BUILD_DIR:-build}/softee-trap	# make check-san: build-san
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n $* # SKIP"; }

mode=exit
case ${1:-} in
'') ;;
--kmod) mode=kmod ;;
*) echo "usage: trap_exit_test.sh [--kmod]" >&2; exit 2 ;;
esac

[ -x "$T" ] || { echo "1..0 # SKIP $T is not built"; exit 4; }
if [ $mode = kmod ]; then
	[ -c /dev/kvm ] || { echo "1..0 # SKIP no /dev/kvm"; exit 4; }
	[ -c /dev/softee ] || { echo "1..0 # SKIP softee.ko is not loaded (run in the test VM)"; exit 4; }
fi

# A loaded machine is slow: a generous completion timeout.
tmo="--timeout-us 2000000"

# error WANT CMD...: CMD exits 1 with WANT in its stderr.
error() {
	local want=$1 err rc
	shift
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc = 1 ] && grep -qF -- "$want" <<<"$err"; then
		ok "error: ${*#"$T "} -> $(grep -F -- "$want" <<<"$err" | head -1)"
	else
		not_ok "error: $* (exit $rc, wanted 1 and \"$want\"): $err"
	fi
}

if [ $mode = exit ]; then
# No /dev/kvm: where the machine has one, a mount namespace whose /dev
# is empty stands in for a machine without.
nokvm="/dev/kvm: No such file or directory: this machine has no KVM"
if [ ! -e /dev/kvm ]; then
	error "$nokvm" $T run --exit --count 1
	error "$nokvm" $T bench --case exit_write --count 1
elif [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
     unshare -m sh -c 'mount -t tmpfs none /dev' 2>/dev/null; then
	error "$nokvm" unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh $T run --exit --count 1
	error "$nokvm" unshare -m sh -c 'mount -t tmpfs none /dev && exec "$@"' sh $T bench --case exit_write --count 1
else
	skip "error: no /dev/kvm (needs root and unshare -m to hide it)"
fi
if [ -c /dev/kvm ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
   ! setpriv --reuid=65534 --regid=65534 --clear-groups test -r /dev/kvm; then
	error "/dev/kvm: Permission denied: run as root or join the kvm group" \
		setpriv --reuid=65534 --regid=65534 --clear-groups $T run --exit --count 1
else
	skip "error: /dev/kvm not accessible (needs root, setpriv and a /dev/kvm that nobody cannot open)"
fi

fi

if [ ! -c /dev/kvm ]; then
	skip "run --exit and bench cases: no /dev/kvm"
	echo "1..$n"
	[ $failed = 0 ]
	exit
fi

for bus in "--mmio 0xc0000000:0x1000" "--pio 0x6000:0x100"; do
	for v in 1 2; do
		for p in write read mixed; do
			for s in 1 2 4 8 all; do
				[ "$s" = 8 ] && [[ $bus == --pio* ]] && continue
				name="run --$mode $bus --vcpus $v --program $p --size $s"
				if out=$($T run --$mode --quiet $tmo $bus --vcpus $v --program $p --size $s --count 300 2>&1) &&
				   grep -q ': OK$' <<<"$out"; then
					ok "$name"
				else
					not_ok "$name"; sed 's/^/# /' <<<"$out"
				fi
			done
		done
	done
done

for w in spin yield sleep; do
	if out=$($T run --$mode --quiet $tmo --wait $w --count 500 2>&1); then ok "run --$mode --wait $w"
	else not_ok "run --$mode --wait $w"; sed 's/^/# /' <<<"$out"; fi
done

# --trace prints one line per access.
out=$($T run --$mode --trace --count 16 2>/dev/null)
lines=$(grep -c ' vcpu 0 ' <<<"$out")
[ "$lines" = 16 ] && ok "run --trace prints every access" || { not_ok "run --trace prints every access ($lines lines)"; sed 's/^/# /' <<<"$out"; }

cases="exit_write exit_read exitring_write exitring_read ioeventfd_write coalesced_write"
[ $mode = kmod ] && cases="null_write softee_write softee_read"
for c in $cases; do
	if out=$($T bench --case $c --count 2000 $tmo 2>&1) && grep -qE '^ns_per_access=[0-9]+\.[0-9]$' <<<"$out"; then
		ok "bench --case $c: $out"
	else
		not_ok "bench --case $c"; sed 's/^/# /' <<<"$out"
	fi
done

# --laps: the median lap's figure, and the laps' spread on stderr.
out=$($T bench --case "${cases%% *}" --count 2000 --laps 10 $tmo 2>&1)
laps=$(sed -n 's/^softee-trap: 10 laps: fastest \([0-9.]*\), median \([0-9.]*\), slowest \([0-9.]*\) ns per access$/\1 \2 \3/p' <<<"$out")
nspa=$(sed -n 's/^ns_per_access=\([0-9]*\.[0-9]\)$/\1/p' <<<"$out")
if [ -n "$laps" ] && [ -n "$nspa" ] &&
   awk -v l="$laps" -v m="$nspa" 'BEGIN { split(l, a, " "); exit !(a[1] > 0 && a[1] <= a[2] && a[2] <= a[3] && a[2] == m) }'; then
	ok "bench --case ${cases%% *} --laps 10: $(tr '\n' ' ' <<<"$out")"
else
	not_ok "bench --case ${cases%% *} --laps 10"; sed 's/^/# /' <<<"$out"
fi

if [ $mode = kmod ]; then
	echo "1..$n"
	[ $failed = 0 ]
	exit
fi

# Usage errors: exit 2, one line on stderr naming the argument.
usage() {
	local want=$1; shift
	local err rc
	err=$($T "$@" 2>&1 >/dev/null); rc=$?
	if [ $rc = 2 ] && [ "$(wc -l <<<"$err")" = 1 ] && grep -qF -- "$want" <<<"$err"; then
		ok "usage error: $* -> $err"
	else
		not_ok "usage error: $* (exit $rc): $err"
	fi
}
usage "not a command" frobnicate
usage "--size" run --size 3
usage "--count" run --count 0
usage "--count" run --count x
usage "--vcpus" run --vcpus 65
usage "--mmio" run --mmio 0xc0000000
usage "--mmio" run --mmio 0x1000:0x100
usage "--mmio" run --mmio 0xc0000004:0x100
usage "--mmio" run --mmio 0x100000000:0x100
usage "--pio" run --pio 0xfff0:0x100
usage "--pio" run --pio 0xe00:0x100
usage "--size" run --pio 0x6000:0x100 --size 8
usage "--kmod" run --kmod --exit
usage "--wait" run --wait busy
usage "--program" run --program rw
usage "--bogus" run --bogus
usage "--case" bench
usage "--case" bench --case nope
usage "--laps" bench --case exit_write --laps 0
usage "--laps" bench --case exit_write --laps 1001
usage "--laps" bench --case exit_write --count 5 --laps 10
usage "--laps" run --laps 3
usage "--pid" attach --mmio 0xc0000000:0x10
usage "--pid" attach --pid abc --mmio 0xc0000000:0x10
usage "--mmio" attach --pid 1
usage "--mmio" attach --pid 1 --mmio 0xc0000000
usage "--mmio" attach --pid 1 --mmio 0xc0000000:0
usage "--mmio" attach --pid 1 --mmio 0xffffffffffffff00:0x200
usage "--pio" attach --pid 1 --pio 0xfff0:0x100
usage "--pio" attach --pid 1 --pio 0x10000:0x1
usage "--pio" attach --pid 1 --mmio 0xc0000000:0x10 --pio 0x6000:0x10
usage "--pid" attach --pid 0 --mmio 0xc0000000:0x10
usage "--rings" attach --pid 1 --mmio 0xc0000000:0x10 --rings 0
usage "--timeout-us" attach --pid 1 --mmio 0xc0000000:0x10 --timeout-us 0
usage "--duration" attach --pid 1 --mmio 0xc0000000:0x10 --duration -1
usage "--wait" attach --pid 1 --mmio 0xc0000000:0x10 --wait busy
usage "unexpected" attach --pid 1 --mmio 0xc0000000:0x10 extra

# attach's errors (no module needed for these).
err=$($T attach --pid 2147483647 --mmio 0xc0000000:0x10 2>&1); rc=$?
[ $rc = 1 ] && grep -q "no such process" <<<"$err" && ok "attach: no such process" || not_ok "attach: no such process: $err"
err=$($T attach --pid $$ --mmio 0xc0000000:0x10 2>&1); rc=$?
[ $rc = 1 ] && grep -q "is not a KVM VMM: no anon_inode:kvm-vm in /proc/$$/fd" <<<"$err" &&
	ok "attach: not a VMM" || not_ok "attach: not a VMM: $err"
if [ ! -e /dev/softee ]; then
	$T run --exit --quiet $tmo --program write --count 100000000 --max-seconds 60 >/dev/null 2>&1 &
	vmm=$!
	for _ in $(seq 50); do ls -l /proc/$vmm/fd 2>/dev/null | grep -q kvm-vm && break; sleep 0.1; done
	err=$($T attach --pid $vmm --mmio 0xc0000000:0x10 2>&1); rc=$?
	[ $rc = 1 ] && grep -q "softee.ko is not loaded (insmod build/softee.ko)" <<<"$err" &&
		ok "attach: module not loaded" || not_ok "attach: module not loaded: $err"
	error "softee.ko is not loaded (insmod build/softee.ko)" $T run --kmod --count 1
	error "softee.ko is not loaded (insmod build/softee.ko)" $T bench --case softee_write --count 1
	if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
		err=$(setpriv --reuid=65534 --regid=65534 --clear-groups $T attach --pid $vmm --mmio 0xc0000000:0x10 2>&1); rc=$?
		[ $rc = 1 ] && grep -q "permission denied" <<<"$err" && ok "attach: permission" || not_ok "attach: permission: $err"
	else
		skip "attach: permission (needs root and setpriv)"
	fi
	kill $vmm 2>/dev/null; wait $vmm 2>/dev/null
else
	skip "attach: module not loaded (/dev/softee exists)"
	skip "attach: permission"
	skip "run --kmod, bench: module not loaded (/dev/softee exists)"
fi

echo "1..$n"
[ $failed = 0 ]
