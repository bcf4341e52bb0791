/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The micro-VM's guest -> host channel, shared by guest and host code.
 *
 * The guest builds a struct microvm_ucall on its stack (which the host
 * maps 1:1 below 4 GiB, so its address fits 32 bits) and writes that
 * address with one `outl` to MICROVM_UCALL_PORT.  The vCPU exits with
 * KVM_EXIT_IO; the host reads the struct from guest memory, and resumes
 * the vCPU (SYNC, PRINT) or not (DONE, ABORT, EXCEPTION).
 */
#ifndef _MICROVM_UCALL_H
#define _MICROVM_UCALL_H

#include <stdint.h>

/* A bus (exit handlers, ioeventfds, guest_read/guest_write); values match
 * SOFTEE_BUS_*. */
#define MICROVM_BUS_MMIO	0
#define MICROVM_BUS_PIO		1

#define MICROVM_UCALL_PORT	0x0e5e
#define MICROVM_UCALL_MAX_ARGS	6

enum microvm_ucall_cmd {
	MICROVM_UCALL_NONE,
	MICROVM_UCALL_SYNC,	 /* args[0] = stage, args[1] = a value */
	MICROVM_UCALL_DONE,	 /* the guest program finished */
	MICROVM_UCALL_ABORT,	 /* a GUEST_ASSERT failed: file, line, expr, values */
	MICROVM_UCALL_PRINT,	 /* GUEST_PRINT: file, line, expr (the message), values */
	MICROVM_UCALL_EXCEPTION, /* an unhandled exception: args = vector, error,
				  * rip, cr2 */
};

/* Guest pointers travel as guest-virtual addresses (uint64_t). */
struct microvm_ucall {
	uint64_t cmd;		/* enum microvm_ucall_cmd */
	uint64_t line;
	uint64_t file;		/* const char *, __FILE__ */
	uint64_t expr;		/* const char *, the condition or message */
	uint64_t names;		/* const char *, the values' expressions */
	uint64_t nr_args;
	uint64_t args[MICROVM_UCALL_MAX_ARGS];
};

#endif /* _MICROVM_UCALL_H */
