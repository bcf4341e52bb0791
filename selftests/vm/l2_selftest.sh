#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l2_selftest.sh - test of the nested-guest runner, l2-run (a "vm" test: it
# runs inside the test VM, where QEMU/KVM boots the L2 guests). Two L2
# boots, about 25 s each:
#  1. q35, with an --on-paused hook: the hook runs while QEMU is paused
#     (L2 boots only after it), sees L2_QEMU_PID, a kvm-vm fd and a memfd
#     in QEMU, and the QMP socket; in L2 lspci lists the q35 host bridge,
#     the nvme modules are loaded, fio writes a file; `false` gives 1 and
#     the kernel log is clean.
#  2. -M pc: the i440FX host bridge; a command that outlives --timeout
#     gives 124 (and --allow-klog lets a logged WARNING pass).
# TAP on stdout; exits 1 on any failure, 4 (skip) where l2-run cannot run.
# shellcheck disable=SC2317 # the helpers below are called through check
set -u

HERE=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
L2_RUN=$HERE/l2-run
# shellcheck source=selftests/lib/nested.sh
. "$HERE/../lib/nested.sh"
TMP=$(mktemp -d /tmp/l2_selftest.XXXXXX) || exit 1
trap 'rm -rf -- "$TMP"' EXIT
# A guest that does not reach its command in this long will not (see the
# skip below).  Under multi-threaded TCG (run-checks says so in SOFTEE_TCG)
# L2 boots in about 12 s, and a shared machine may take many times that.
if [[ ${SOFTEE_TCG:-} == multi ]]; then
	export L2_BOOT_TIMEOUT=${L2_BOOT_TIMEOUT:-300}
else
	export L2_BOOT_TIMEOUT=${L2_BOOT_TIMEOUT:-60}
fi

n=0
failed=0
t_all=$EPOCHREALTIME

secs() { # since
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# l2 ARGS...: runs l2-run; its status in $rc, stdout and stderr in
# $TMP/out and $TMP/err, the wall time in $took.
l2() {
	local t=$EPOCHREALTIME
	rc=0
	"$L2_RUN" --timing --cpus 1 "$@" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
	took=$(secs "$t")
	grep -h "^l2-run: timing:" "$TMP/err" | sed "s/^/# /;s/\$/ (wall ${took}s)/"
}

# result NAME OK [why]: the TAP line; on failure what l2-run said.
result() {
	n=$((n + 1))
	if [[ $2 == 1 ]]; then
		echo "ok $n $1"
	else
		failed=1
		echo "not ok $n $1${3:+ # $3}"
		sed 's/^/# stdout: /' "$TMP/out"
		sed 's/^/# stderr: /' "$TMP/err"
	fi
}
check() { # NAME COMMAND...
	local name=$1
	shift
	if "$@"; then result "$name" 1; else result "$name" 0; fi
}
skip() { # NAME WHY
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}
out_has() { grep -qE -- "$1" "$TMP/out"; }
err_has() { grep -qE -- "$1" "$TMP/err"; }
# shellcheck disable=SC2317 # these are called through check
klog_clean() { ! err_has "kernel logged problems"; }
rc_is() { [[ $rc == "$1" ]]; }
rc_clean() { rc_is "$1" && klog_clean; }

echo "TAP version 13"
# L2 and its QEMU on one CPU of the test VM, with one vCPU, as the NVMe
# tests run it: TCG's SVM emulation now and then crashes or hangs otherwise
# (selftests/lib/nested.sh).
nested_pin 2>"$TMP/pin"
sed 's/^/# /' "$TMP/pin"

# ---- 1: paused start, the hook, the guest's devices and tools

cat >"$TMP/hook" <<'EOF'
out=$HOOK_OUT
echo "start $(date +%s.%N)" >"$out"
[[ -n ${L2_QEMU_PID:-} && -d /proc/$L2_QEMU_PID ]] && echo "pid $L2_QEMU_PID" >>"$out"
fds=$(ls -l "/proc/$L2_QEMU_PID/fd" 2>/dev/null)
grep -q 'anon_inode:kvm-vm' <<<"$fds" && echo kvm-vm >>"$out"
grep -q '/memfd:' <<<"$fds" && echo memfd >>"$out"
[[ -S ${L2_QMP_SOCKET:-} ]] && echo qmp >>"$out"
# A guest that was not paused would boot meanwhile.
sleep 2.5
echo "end $(date +%s.%N)" >>"$out"
EOF
cat >"$TMP/cmd" <<'EOF'
read -r up _ </proc/uptime
echo "boot_at=$(awk -v n="$(date +%s.%N)" -v u="$up" 'BEGIN { printf "%.2f", n - u }')"
if command -v lspci >/dev/null; then lspci; else echo "no lspci"; fi
d=/sys/bus/pci/devices/0000:00:00.0
echo "hostbridge=$(cat $d/vendor):$(cat $d/device)"
lsmod | awk '{ print "module=" $1 }'
if command -v fio >/dev/null; then
	fio --name=x --size=1M --rw=write --filename=/tmp/f >fio.log 2>&1
	echo "fio_rc=$? fio_size=$(stat -c %s /tmp/f)"
	grep -E 'WRITE:|err=' fio.log
else
	echo "no fio"
fi
false
EOF
l2 --on-paused "HOOK_OUT=$TMP/hook.out bash $TMP/hook" --cmd "$(cat "$TMP/cmd")"
if [[ $rc == 4 ]]; then
	sed 's/^/# /' "$TMP/err"
	echo "1..0 # SKIP l2-run cannot run here"
	exit 4
fi
if [[ $rc == 125 ]] && err_has "did not start the command within"; then
	# Seen on QEMU 7.2: with single-threaded TCG (vm-run's default) the L2
	# kernel stops making progress during its boot; with one host thread
	# per vCPU (vm-run --tcg-threads multi) it boots in about 12 s.
	sed 's/^/# /' "$TMP/err"
	if [[ ${SOFTEE_TCG:-} == multi ]]; then
		# what it needs is here: a boot that does not finish is a failure
		echo "Bail out! L2 did not boot within ${L2_BOOT_TIMEOUT}s under multi-threaded TCG"
		exit 1
	fi
	echo "1..0 # SKIP L2 did not boot within ${L2_BOOT_TIMEOUT}s; nested Linux guests need the test VM on multi-threaded TCG (vm-run --tcg-threads multi)"
	exit 4
fi
echo "1..13"
touch "$TMP/hook.out"
check "the hook ran and saw L2_QEMU_PID" grep -q '^pid [0-9]' "$TMP/hook.out"
check "QEMU holds a kvm-vm fd (seen from the hook)" grep -qx kvm-vm "$TMP/hook.out"
check "QEMU holds a memfd for guest RAM (seen from the hook)" grep -qx memfd "$TMP/hook.out"
check "the hook got the QMP socket" grep -qx qmp "$TMP/hook.out"
hook_start=$(awk '$1 == "start" { print $2 }' "$TMP/hook.out")
boot_at=$(sed -n 's/^boot_at=//p' "$TMP/out")
# L2's wall clock starts from the RTC (whole seconds): allow 1 s.
if [[ -n $hook_start && -n $boot_at ]] &&
	awk -v h="$hook_start" -v b="$boot_at" 'BEGIN { exit !(b > h + 1.5) }'; then
	result "L2 booted only after the hook (hook started $hook_start, L2 at $boot_at)" 1
else
	result "L2 booted only after the hook" 0 "hook started ${hook_start:-?}, L2 booted at ${boot_at:-?}"
fi
check "'false' in L2 gives 1 (status $rc), kernel log clean" rc_clean 1
if out_has '^no lspci'; then
	skip "lspci in L2 lists the q35 host bridge" "no lspci (apt install pciutils)"
else
	check "lspci in L2 lists the q35 host bridge" out_has '^00:00\.0 Host bridge: Intel Corporation 82G33'
fi
check "L2's 00:00.0 is the q35 host bridge (8086:29c0)" out_has '^hostbridge=0x8086:0x29c0$'
check "the nvme, nvme_core, nvme_fabrics and nvme_tcp modules are loaded in L2" \
	eval "out_has '^module=nvme\$' && out_has '^module=nvme_core\$' && out_has '^module=nvme_fabrics\$' && out_has '^module=nvme_tcp\$'"
if out_has '^no fio'; then
	skip "fio writes 1 MiB in L2" "no fio (apt install fio)"
else
	check "fio writes 1 MiB in L2" out_has '^fio_rc=0 fio_size=1048576$'
fi

# ---- 2: -M pc, and a timeout

l2 --machine pc --timeout 5 --allow-klog 'WARNING: fake l2 allowed' \
	--cmd 'cat /sys/bus/pci/devices/0000:00:00.0/device; echo "<4>WARNING: fake l2 allowed" >/dev/kmsg; echo sleeping; sleep 60; echo woke'
check "a command past --timeout gives 124 (status $rc)" rc_is 124
check "its output until then came through, and --allow-klog let a WARNING pass" \
	eval "out_has '^sleeping' && ! out_has '^woke' && klog_clean"
check "-M pc: 00:00.0 is the i440FX host bridge (8086:1237)" out_has '^0x1237$'

echo "# all: $(secs "$t_all")s"
exit $failed
