# SPDX-License-Identifier: GPL-2.0
# Sourced by vm-run and l2-run: the guest kernel log lines that fail a run
# (an extended regexp).  vm_selftest.sh has a sample line for each
# alternative and checks that every one fails a run.
# shellcheck shell=bash
readonly KLOG_BAD='BUG:|WARNING:|Oops|general protection|lockdep|possible recursive locking|INFO: task .* blocked|self-detected stall|stalls on CPUs|Call Trace|kernel BUG|Kernel panic|hard LOCKUP|UBSAN:|KASAN:'
