/* SPDX-License-Identifier: GPL-2.0 */
/*
 * All of softee's user-space atomics, on the compiler's C11 memory-model
 * builtins.  Shared-memory fields (the rings, the micro-VM's flags) are
 * read and written only through these, never through a bare volatile.
 *
 * x86-64 is TSO: an acquire load and a release store are plain moves plus
 * a compiler barrier; a full barrier (smp_mb) is a locked instruction.
 */
#ifndef _SOFTEE_BARRIER_H
#define _SOFTEE_BARRIER_H

/* One read of a shared field, no ordering beyond that it happens once. */
#define softee_read_once(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define softee_write_once(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* Later loads and stores cannot move before it.  Pairs with a release. */
#define softee_load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)

/* Earlier loads and stores cannot move after it.  Pairs with an acquire. */
#define softee_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define softee_fetch_add(p, v)		__atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define softee_fetch_or(p, v)		__atomic_fetch_or((p), (v), __ATOMIC_RELAXED)

/* A full barrier: orders earlier stores against later loads too. */
#define softee_smp_mb()			__atomic_thread_fence(__ATOMIC_SEQ_CST)

/* What a busy-wait loop does between two looks at shared memory. */
static inline void softee_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

#endif /* _SOFTEE_BARRIER_H */
