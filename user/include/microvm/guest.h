/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What guest code may use.  Include this only from guest source files
 * (compiled with $(MICROVM_GUEST_CFLAGS), see user/microvm/README.md):
 * guest code runs in the micro-VM at ring 0 in 64-bit mode, with no libc,
 * no TLS and no floating point.  It may call only other guest code, which
 * the build checks.
 *
 * Memory the guest sees: the whole program image at the same addresses as
 * in the host process (a copy made at microvm_create(): globals start with
 * the host's values of that moment and are the guest's own after), and
 * guest-physical memory 1:1 below 4 GiB (its RAM, then MMIO holes).
 */
#ifndef _MICROVM_GUEST_H
#define _MICROVM_GUEST_H

#include <stdint.h>

#include <microvm/ucall.h>

/* ---- MMIO, port I/O and the TSC ------------------------------------------ */

#define __MICROVM_MMIO(sfx, type, reg)						\
static inline type read##sfx(uint64_t addr)					\
{										\
	type v;									\
	__asm__ __volatile__("mov" #sfx " %1, %0"				\
			     : "=" reg (v) : "m" (*(volatile type *)addr) : "memory"); \
	return v;								\
}										\
static inline void write##sfx(type v, uint64_t addr)				\
{										\
	__asm__ __volatile__("mov" #sfx " %0, %1"				\
			     : : reg (v), "m" (*(volatile type *)addr) : "memory"); \
}

__MICROVM_MMIO(b, uint8_t, "q")
__MICROVM_MMIO(w, uint16_t, "r")
__MICROVM_MMIO(l, uint32_t, "r")
__MICROVM_MMIO(q, uint64_t, "r")

#define __MICROVM_PIO(sfx, type, reg)						\
static inline type in##sfx(uint16_t port)					\
{										\
	type v;									\
	__asm__ __volatile__("in" #sfx " %w1, %0" : "=a" (v) : "Nd" (port) : "memory"); \
	return v;								\
}										\
static inline void out##sfx(type v, uint16_t port)				\
{										\
	__asm__ __volatile__("out" #sfx " %0, %w1" : : "a" (v), "Nd" (port) : "memory"); \
}

__MICROVM_PIO(b, uint8_t, "a")
__MICROVM_PIO(w, uint16_t, "a")
__MICROVM_PIO(l, uint32_t, "a")

/* An access of len bytes (1, 2, 4, 8; port I/O stops at 4) on a bus. */
static inline void guest_write(uint32_t bus, uint64_t addr, uint32_t len, uint64_t v)
{
	if (bus == MICROVM_BUS_PIO) {
		switch (len) {
		case 1: outb((uint8_t)v, (uint16_t)addr); return;
		case 2: outw((uint16_t)v, (uint16_t)addr); return;
		default: outl((uint32_t)v, (uint16_t)addr); return;
		}
	}
	switch (len) {
	case 1: writeb((uint8_t)v, addr); return;
	case 2: writew((uint16_t)v, addr); return;
	case 4: writel((uint32_t)v, addr); return;
	default: writeq(v, addr); return;
	}
}

static inline uint64_t guest_read(uint32_t bus, uint64_t addr, uint32_t len)
{
	if (bus == MICROVM_BUS_PIO) {
		switch (len) {
		case 1: return inb((uint16_t)addr);
		case 2: return inw((uint16_t)addr);
		default: return inl((uint16_t)addr);
		}
	}
	switch (len) {
	case 1: return readb(addr);
	case 2: return readw(addr);
	case 4: return readl(addr);
	default: return readq(addr);
	}
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a" (lo), "=d" (hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static inline void guest_irq_enable(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

static inline void guest_irq_disable(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

/* Enable interrupts and halt until one comes (sti's shadow covers hlt). */
static inline void guest_safe_halt(void)
{
	__asm__ __volatile__("sti; hlt" ::: "memory");
}

/* ---- to the host ----------------------------------------------------------- */

void microvm_guest_ucall(struct microvm_ucall *uc);
void microvm_guest_sync(uint64_t stage, uint64_t arg);
__attribute__((noreturn)) void microvm_guest_done(void);
__attribute__((noreturn)) void microvm_guest_abort(const char *file, int line,
						   const char *expr, const char *names,
						   const uint64_t *v, int n);
void microvm_guest_print(const char *file, int line, const char *msg,
			 const char *names, const uint64_t *v, int n);

/* Stop at the host: microvm_vcpu_run() returns MICROVM_UCALL_SYNC. */
#define GUEST_SYNC(stage)		microvm_guest_sync((stage), 0)
#define GUEST_SYNC_ARG(stage, arg)	microvm_guest_sync((stage), (arg))
#define GUEST_DONE()			microvm_guest_done()

/*
 * GUEST_ASSERT(cond) and GUEST_ASSERT_V(cond, values...): on failure the
 * host prints "file:line: cond" and up to MICROVM_UCALL_MAX_ARGS values
 * with their expressions, and the vCPU stops.
 */
#define GUEST_ASSERT_V(cond, ...)						\
	do {									\
		if (__builtin_expect(!(cond), 0)) {				\
			const uint64_t __v[] = { 0, ##__VA_ARGS__ };		\
			microvm_guest_abort(__FILE__, __LINE__, #cond,		\
					    #__VA_ARGS__, __v + 1,		\
					    (int)(sizeof(__v) / sizeof(__v[0])) - 1); \
		}								\
	} while (0)
#define GUEST_ASSERT(cond)	GUEST_ASSERT_V(cond)

/* a == b, both as uint64_t; prints both and up to four more values. */
#define GUEST_ASSERT_EQ(a, b, ...)						\
	do {									\
		const uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);	\
		if (__builtin_expect(__a != __b, 0)) {				\
			const uint64_t __v[] = { __a, __b, ##__VA_ARGS__ };	\
			microvm_guest_abort(__FILE__, __LINE__, #a " == " #b,	\
					    #a ", " #b ", " #__VA_ARGS__, __v,	\
					    (int)(sizeof(__v) / sizeof(__v[0]))); \
		}								\
	} while (0)

/* Unconditional failure with a message and values. */
#define GUEST_FAIL(msg, ...)							\
	do {									\
		const uint64_t __v[] = { 0, ##__VA_ARGS__ };			\
		microvm_guest_abort(__FILE__, __LINE__, msg, #__VA_ARGS__,	\
				    __v + 1,					\
				    (int)(sizeof(__v) / sizeof(__v[0])) - 1);	\
	} while (0)

/* A line on the host's stderr: msg and the values; the guest goes on. */
#define GUEST_PRINT(msg, ...)							\
	do {									\
		const uint64_t __v[] = { 0, ##__VA_ARGS__ };			\
		microvm_guest_print(__FILE__, __LINE__, msg, #__VA_ARGS__,	\
				    __v + 1,					\
				    (int)(sizeof(__v) / sizeof(__v[0])) - 1);	\
	} while (0)

/* ---- interrupts and exceptions --------------------------------------------- */

/*
 * What an interrupt or exception pushed, and the general registers the
 * entry stub saved.  A handler may change them; they are restored on iretq.
 */
struct microvm_guest_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;		/* error is 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*microvm_guest_handler)(struct microvm_guest_regs *regs);

/*
 * Run fn for vector (0-255) on every vCPU.  Vectors without a handler:
 * an exception (0-31) is reported to the host (MICROVM_UCALL_EXCEPTION)
 * and stops the vCPU; any other vector is reported the same way.  An
 * interrupt handler must signal EOI to its interrupt controller itself.
 */
void microvm_guest_set_handler(uint8_t vector, microvm_guest_handler fn);

#endif /* _MICROVM_GUEST_H */
