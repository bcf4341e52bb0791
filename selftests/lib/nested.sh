# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# selftests/lib/nested.sh - for the scripts that boot a nested (L2) guest
# in the test VM and give it a softee device.  Source it from bash.
#
#   nested_pin     moves this shell, and so everything it starts later (the
#                  box, softeectl attach and its poller, l2-run and QEMU),
#                  onto one CPU of the test VM (the last one); prints what
#                  it did on stderr; NESTED_CPU is that CPU (for DPDK's -l)
#
# Why: QEMU's TCG emulation of AMD SVM (7.2 and 10.0 alike) now and then
# runs an exception handler of whichever kernel owns the vCPU with the
# other's state: the test VM oopses in a "CPU n/KVM" thread ("TASK stack
# guard page was hit", %gs pointing at the L2 guest's per-CPU area), or
# L2 dies with "RIP: 0000:0x0 ... Fatal exception in interrupt".  It comes
# with interrupts that reach a test VM CPU while it runs L2: the poller's
# MSIs (KVM kicks the vCPU with an IPI), wakeups of the box and the
# poller.  With L2, its QEMU, the poller and the box on one CPU, those
# never cross CPUs: no crash in 5 boots (selftests/vm/README.md,
# "Nested guests"), against 3 TCG crashes in 11 boots without.
# shellcheck disable=SC2034 # NESTED_CPU is for the sourcing script
nested_pin() {
	local n cpu
	n=$(nproc)
	cpu=$((n - 1))
	NESTED_CPU=0
	if [ "$cpu" -ge 1 ] && taskset -pc "$cpu" $$ >/dev/null 2>&1; then
		NESTED_CPU=$cpu
		echo "nested: the box, the poller and L2's QEMU run on CPU $cpu of $n" >&2
	fi
}
