/* SPDX-License-Identifier: GPL-2.0 */
/* softee-trap: what its subcommands share (host code). */
#ifndef _TRAP_H
#define _TRAP_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#include <softee.h>
#include <softee/ring.h>
#include <softee/wait.h>

#include "trap_pattern.h"

#define TRAP_NAME		"softee-trap"
#define TRAP_EXIT_USAGE		2

enum trap_mode {
	TRAP_MODE_AUTO,
	TRAP_MODE_KMOD,		/* softee.ko traps, rings mmap'd from it */
	TRAP_MODE_EXIT,		/* KVM_EXIT_MMIO/IO, pushed through user rings */
};

enum trap_verbosity {
	TRAP_V_QUIET = -1,
	TRAP_V_NORMAL = 0,
	TRAP_V_TRACE = 1,
};

/* How the guest's accesses reach the host, for `bench` (and `run`). */
enum trap_case {
	TRAP_CASE_RUN,		/* `run`: the checked pattern */
	TRAP_CASE_NULL_WRITE,	/* kmod, SOFTEE_REGION_F_NULL */
	TRAP_CASE_SOFTEE_WRITE,	/* kmod, a responder draining */
	TRAP_CASE_SOFTEE_READ,	/* kmod, a responder answering */
	TRAP_CASE_EXIT_WRITE,	/* KVM_EXIT_MMIO handled in the vCPU thread */
	TRAP_CASE_EXIT_READ,
	TRAP_CASE_EXITRING_WRITE, /* KVM_EXIT_MMIO through a user ring to a responder */
	TRAP_CASE_EXITRING_READ,
	TRAP_CASE_IOEVENTFD_WRITE, /* KVM_IOEVENTFD, no exit */
	TRAP_CASE_COALESCED_WRITE, /* KVM_REGISTER_COALESCED_MMIO, ring drained */
};

#define TRAP_MAX_LAPS	1000

struct trap_opts {
	const char *cmd;		/* "run", "bench" */
	enum trap_mode mode;
	enum trap_case bcase;
	uint32_t program;		/* TRAP_PROG_* */
	uint32_t size;			/* 1, 2, 4, 8; 0 = all */
	uint32_t nr_vcpus;
	uint64_t count;			/* accesses per vCPU */
	uint32_t laps;			/* bench: timed in this many laps, the
					 * median lap's figure reported (1) */
	uint8_t bus;			/* SOFTEE_BUS_* */
	uint64_t base, len;
	struct softee_wait wait;
	uint32_t timeout_us;		/* read completion timeout */
	uint32_t ring_entries;
	uint32_t max_seconds;		/* watchdog */
	bool pin;			/* vCPU threads and the responder on
					 * separate CPUs (when there are two) */
	int verbosity;
};

/*
 * One line per access, as `attach` and `run --trace` print it: seconds
 * since t0_ns, vCPU, op, bus, address, size, data (for a read: the answer).
 */
void trap_print_entry(FILE *f, const struct softee_ring_entry *e, uint64_t data,
		      uint64_t t0_ns);

/* responder.c: the thread that consumes the rings and answers reads. */
struct trap_responder {
	struct softee_ring *rings;	/* ring i serves vCPU i */
	uint32_t nr_rings;
	const struct trap_params *params; /* check against the pattern; NULL:
					   * a sink (no checks, reads answer 0) */
	uint32_t region;		/* expected region id */
	const struct softee_wait *wait;
	int verbosity;
	uint64_t t0_ns;
	int cpu;			/* pin to this CPU; -1: do not */

	int stop;			/* atomic: drain what is left, then end */
	pthread_t thread;

	/* Results, read after trap_responder_stop(). */
	uint64_t seen, writes, reads, mismatches;
	uint64_t answer_ns_sum, answer_ns_max;	/* reads: trap to answer */
	int ring_error;			/* first ring error (-EUCLEAN, -EPIPE) */
	uint32_t ring_error_idx;
	uint64_t *next_k;		/* per ring: the next access expected */
};

int trap_responder_start(struct trap_responder *r);
void trap_responder_stop(struct trap_responder *r);

/* Usage errors: one line naming the argument, exit status 2. */
__attribute__((format(printf, 2, 3)))
int trap_usage_error(const char *cmd, const char *fmt, ...);
int trap_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t min,
		   uint64_t max, uint64_t *out);
int trap_parse_range(const char *cmd, const char *opt, const char *s, uint8_t bus,
		     uint64_t *base, uint64_t *len);

/* Pin the calling thread to cpu (no-op for -1); the CPU plan of a run. */
void trap_pin_self(int cpu);
int trap_cpu_plan(uint32_t nr_vcpus, int *vcpu_cpu, int *resp_cpu);

int trap_cmd_run(int argc, char **argv);
int trap_cmd_bench(int argc, char **argv);
int trap_cmd_attach(int argc, char **argv);

/* run.c: the micro-VM engine behind `run` and `bench`. */
int trap_engine(struct trap_opts *o, double *ns_per_access);

#endif /* _TRAP_H */
