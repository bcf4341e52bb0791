#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of the test VM runner (vm-run): boots a VM per case and checks
# vm-run's exit status and output. The cases that need no VM (its skips, bad
# arguments, the sample lines of its kernel log patterns) come first, and
# run even where vm-run cannot boot a VM. Prints TAP; exits 0 if all passed,
# 4 (kselftest's skip) if vm-run cannot boot a VM here (the VM cases then
# print as skipped), 1 on a failure.

set -euo pipefail

HERE=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
VM_RUN=$HERE/vm-run
TMP=$(mktemp -d)
trap 'rm -rf -- "$TMP"' EXIT
cd -- "$HERE"

n=0
failed=0
t_all=$EPOCHREALTIME

secs() { # since
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# Runs vm-run with the arguments; leaves its status in $rc, its stdout and
# stderr in $TMP/out and $TMP/err.
vm() {
	rc=0
	"$VM_RUN" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
}

# result NAME OK [why]: prints the TAP line, and on failure what vm-run said.
result() {
	n=$((n + 1))
	if [[ $2 == 1 ]]; then
		echo "ok $n $1"
	else
		failed=$((failed + 1))
		echo "not ok $n $1${3:+ # $3}"
		sed 's/^/# stdout: /' "$TMP/out"
		sed 's/^/# stderr: /' "$TMP/err"
	fi
}

# expect NAME STATUS: vm-run's status was STATUS.
expect() {
	if [[ $rc == "$2" ]]; then
		result "$1" 1
	else
		result "$1" 0 "status $rc, want $2"
	fi
}


# skips NAME WANT: vm-run skipped: status 4, nothing on stdout, and one
# line on stderr, "vm-run: SKIP: " with WANT in it.
skips() {
	if [[ $rc == 4 && ! -s $TMP/out && $(wc -l <"$TMP/err") == 1 ]] &&
		grep -q '^vm-run: SKIP: ' "$TMP/err" && grep -qF -- "$2" "$TMP/err"; then
		result "$1" 1
	else
		result "$1" 0 "status $rc, want 4 and one line 'vm-run: SKIP: ...$2...'"
	fi
}

# vm-run's kernel log patterns (KLOG_BAD, an extended regexp), each with a
# line that matches it and none of the others: what the kernel prints,
# trimmed where a real report would also match another pattern ("BUG:
# KASAN:", "WARNING: possible recursive locking detected").
klog_pats=() klog_lines=()
while IFS=$'\t' read -r p l; do
	klog_pats+=("$p")
	klog_lines+=("$l")
done <<'END'
BUG:	BUG: kernel NULL pointer dereference, address: 0000000000000008
WARNING:	WARNING: CPU: 1 PID: 42 at fake.c:1 fake+0x1/0x2
Oops	Oops: 0002 [#1] PREEMPT SMP NOPTI
general protection	general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI
lockdep	INFO: lockdep is turned off.
possible recursive locking	possible recursive locking detected
INFO: task .* blocked	INFO: task kworker/0:1:12 blocked for more than 120 seconds.
self-detected stall	rcu: INFO: rcu_preempt self-detected stall on CPU
stalls on CPUs	rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
Call Trace	Call Trace:
kernel BUG	kernel BUG at mm/fake.c:1!
Kernel panic	Kernel panic - not syncing: fake
hard LOCKUP	watchdog: Watchdog detected hard LOCKUP on cpu 1
UBSAN:	UBSAN: array-index-out-of-bounds in fake.c:1:2
KASAN:	KASAN: slab-out-of-bounds in fake+0x1/0x2
END

# klog_line PATTERN: the sample line of one of the patterns above.
klog_line() {
	local i
	for i in "${!klog_pats[@]}"; do
		[[ ${klog_pats[i]} == "$1" ]] && printf '%s\n' "${klog_lines[i]}" && return
	done
	echo "vm_selftest: no sample line for '$1'" >&2
	exit 1
}

# The guest command that writes its arguments into the kernel log as it
# is, a line each, at KERN_WARNING. (/dev/kmsg lets only 10 lines in 5 s
# through unless printk_devkmsg is on.)
# shellcheck disable=SC2016 # expanded in the VM
KMSG='echo on >/proc/sys/kernel/printk_devkmsg
for l; do printf "<4>%s\n" "$l" >/dev/kmsg; done'

# klog_fails NAME LINE...: the command writes the lines into the kernel log
# and exits 0; vm-run must exit 1 and list every one of them on stderr.
klog_fails() {
	local name=$1 l missing=()
	shift
	vm -- sh -c "$KMSG" sh "$@"
	for l in "$@"; do
		[[ -n $l ]] || missing+=("(an empty line)")
		grep '^  | ' "$TMP/err" | grep -qF -- "$l" || missing+=("$l")
	done
	if [[ $rc == 1 ]] && ((${#missing[@]} == 0)); then
		result "$name" 1
	else
		result "$name" 0 "status $rc, want 1; not listed on stderr: ${missing[*]-}"
	fi
}

VM_CASES=15 # the cases from "a passing command" on, which boot a VM

echo "TAP version 13"
echo "1..$((5 + VM_CASES))"

# 1-3: vm-run skips (status 4, with its reason) when the VM cannot run:
# no QEMU, no kernel image, no modules for the kernel. No VM boots.
SOFTEE_VM_QEMU=$TMP/no-qemu vm -- true
skips "no QEMU: skip with the reason" "$TMP/no-qemu not found"
# Any command that exists passes the QEMU check, and it comes first.
SOFTEE_VM_QEMU=true vm --kernel "$TMP/no-vmlinuz" -- true
skips "no kernel image: skip with the reason" "cannot read the kernel image $TMP/no-vmlinuz"
: >"$TMP/vmlinuz-softee-none"
SOFTEE_VM_QEMU=true vm --kernel "$TMP/vmlinuz-softee-none" -- true
skips "no modules for the kernel: skip with the reason" "no modules for kernel softee-none"

# 4: bad arguments.
vm --timeout x -- true
if [[ $rc == 2 && $(wc -l <"$TMP/err") == 1 ]]; then
	result "bad arguments: one line, status 2" 1
else
	result "bad arguments: one line, status 2" 0 "status $rc"
fi

# 5: every pattern of vm-run's and l2-run's (lib/klog.sh) has a sample line above, which matches that
# pattern alone, so that the VM cases below test each of them.
klog_bad=$(sed -n "s/^readonly KLOG_BAD='\(.*\)'\$/\1/p" "$HERE/lib/klog.sh")
IFS='|' read -ra klog_alts <<<"$klog_bad"
why=()
((${#klog_alts[@]})) || why+=("no KLOG_BAD in $HERE/lib/klog.sh")
for a in ${klog_alts[@]+"${klog_alts[@]}"}; do
	found=0
	for p in "${klog_pats[@]}"; do [[ $p == "$a" ]] && found=1; done
	((found)) || why+=("no sample for '$a'")
done
for i in "${!klog_pats[@]}"; do
	matched=()
	for a in ${klog_alts[@]+"${klog_alts[@]}"}; do
		[[ ${klog_lines[i]} =~ $a ]] && matched+=("$a")
	done
	[[ ${matched[*]-} == "${klog_pats[i]}" ]] ||
		why+=("'${klog_lines[i]}' matches '${matched[*]-}', want '${klog_pats[i]}' only")
done
: >"$TMP/out"
printf '%s\n' ${why[@]+"${why[@]}"} >"$TMP/err"
result "each of vm-run's kernel log patterns has a line of its own" "$((${#why[@]} == 0))" \
	"$(printf '%s; ' ${why[@]+"${why[@]}"})"

# 6: a passing command. Also finds out whether vm-run can run here at all,
# and the VM's kernel version.
t=$EPOCHREALTIME
vm --timing -- uname -r
if [[ $rc == 4 ]]; then
	sed 's/^/# /' "$TMP/err"
	for ((i = 0; i < VM_CASES; i++)); do
		n=$((n + 1))
		echo "ok $n a case that boots a VM # SKIP vm-run cannot run here"
	done
	((failed == 0)) || exit 1
	exit 4
fi
expect "a passing command exits 0" 0
kver=$(head -n 1 "$TMP/out")
grep -h '^vm-run: timing:' "$TMP/err" | sed "s/^/# /;s/\$/ (wall $(secs "$t")s)/"

# 7: the command's status comes back.
vm -- sh -c 'exit 3'
expect "sh -c 'exit 3' exits 3" 3

# 8: a warning in the kernel log fails a passing command.
vm -- sh -c 'echo "<4>WARNING: fake" >/dev/kmsg'
if [[ $rc == 1 ]] && grep -q 'WARNING: fake' "$TMP/err"; then
	result "a kernel WARNING fails the run" 1
else
	result "a kernel WARNING fails the run" 0 "status $rc, want 1 and the line on stderr"
fi

# 9-11: so do a BUG, an Oops and a lockdep line, each on its own.
klog_fails "a kernel BUG: line fails the run" "$(klog_line BUG:)"
klog_fails "a kernel Oops line fails the run" "$(klog_line Oops)"
klog_fails "a kernel lockdep line fails the run" "$(klog_line lockdep)"

# 12: every pattern's line is caught (in one boot: each is listed).
klog_fails "every kernel log pattern of vm-run's is caught" "${klog_lines[@]}"

# 13: the control: harmless lines, one at warning level, do not fail a
# run, and they did reach the kernel log.
vm -- sh -c "$KMSG"'
dmesg | grep -c "vm_selftest: harmless"' sh \
	"vm_selftest: harmless, at warning level" "vm_selftest: harmless, a bug fixed, no oops"
if [[ $rc == 0 && $(cat "$TMP/out") == 2 ]]; then
	result "harmless kernel lines do not fail the run" 1
else
	result "harmless kernel lines do not fail the run" 0 "status $rc, want 0 and 2 lines in the log"
fi

# 14: KVM works inside (nested guests).
vm -- test -c /dev/kvm
expect "/dev/kvm exists in the VM" 0

# 15: output, environment and working directory. Only the command's output
# reaches stdout, a last line without a newline included, and a marker-like
# line from the command cannot fool the runner.
# shellcheck disable=SC2016 # expanded in the VM
vm --env 'FOO=a b' --env BAR= -- \
	sh -c 'echo "$FOO|$BAR|$PWD|$SOFTEE_VM"; echo SOFTEE_VM_RC=7 nonce=0; printf end'
printf '%s\n' "a b||$HERE|1" "SOFTEE_VM_RC=7 nonce=0" end >"$TMP/want"
if [[ $rc == 0 ]] && cmp -s "$TMP/want" "$TMP/out"; then
	result "output, --env and the working directory" 1
else
	result "output, --env and the working directory" 0 "status $rc or unexpected stdout"
fi

# 16: the command's timeout.
t=$EPOCHREALTIME
vm --timeout 2 -- sleep 120
if [[ $rc == 124 ]] && grep -q 'timed out' "$TMP/err"; then
	result "--timeout kills the command (status 124, $(secs "$t")s)" 1
else
	result "--timeout kills the command" 0 "status $rc, want 124"
fi

# 17: --insmod with parameters, with a stock module.
dummy=$(compgen -G "/lib/modules/$kver/kernel/drivers/net/dummy.ko*" | head -n 1) || true
if [[ -n $dummy ]]; then
	vm --insmod "$dummy numdummies=2" -- sh -c 'test -e /sys/class/net/dummy1'
	expect "--insmod with parameters" 0
else
	result "--insmod with parameters # SKIP no dummy.ko for $kver" 1
fi

# 18: a kernel crash is a VM failure, not a pass.
vm -- sh -c 'echo c >/proc/sysrq-trigger; sleep 5'
expect "a kernel panic fails the run with 125" 125

# 19: --stall kills a VM whose command goes quiet, and only then: the
# command prints for longer than the stall, a line at a time.
t=$EPOCHREALTIME
vm --stall 5 --timeout 300 -- sh -c 'for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 1; done; sleep 300'
if [[ $rc == 126 && $(wc -l <"$TMP/out") == 8 ]] && grep -q 'printed nothing for 5s' "$TMP/err" &&
	awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 120) }'; then
	result "--stall kills a quiet command's VM (status 126, $(secs "$t")s)" 1
else
	result "--stall kills a quiet command's VM" 0 "status $rc, want 126 after 8 lines, within 120s ($(secs "$t")s)"
fi

# 20: ... and the kernel's lines on the console (a wedged VM's soft lockup
# reports) are not the command's: they do not keep the VM alive, even when
# they come faster than the runner's one-second reads.
vm --stall 5 --timeout 300 -- sh -c 'echo start; echo on >/proc/sys/kernel/printk_devkmsg
	for i in $(seq 150); do echo "<0>vm_selftest: a kernel line $i" >/dev/kmsg; sleep 0.2; done
	echo never'
if [[ $rc == 126 ]] && ! grep -q never "$TMP/out"; then
	result "--stall does not count the kernel's console lines" 1
else
	result "--stall does not count the kernel's console lines" 0 "status $rc, want 126 before 'never'"
fi

echo "# $n tests, $failed failed, $(secs "$t_all")s"
((failed == 0)) || exit 1
exit 0
