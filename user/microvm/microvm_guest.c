// SPDX-License-Identifier: GPL-2.0
/*
 * The micro-VM's guest runtime: ucalls, assertions, and the interrupt and
 * exception entry.  Guest code: built with $(MICROVM_GUEST_CFLAGS).
 */
#include <stddef.h>

#include <microvm/guest.h>

/* Handlers by vector; in the guest's copy of the image, shared by vCPUs. */
static microvm_guest_handler microvm_guest_handlers[256];

void microvm_guest_ucall(struct microvm_ucall *uc)
{
	/*
	 * uc is on this vCPU's stack, which is mapped 1:1 below 4 GiB: its
	 * address is its guest-physical address and fits the 32-bit out.
	 */
	__asm__ __volatile__("outl %0, %w1"
			     : : "a" ((uint32_t)(uintptr_t)uc), "Nd" (MICROVM_UCALL_PORT)
			     : "memory");
}

static void microvm_guest_fill(struct microvm_ucall *uc, uint64_t cmd,
			       const char *file, int line, const char *expr,
			       const char *names, const uint64_t *v, int n)
{
	int i;

	uc->cmd = cmd;
	uc->line = (uint64_t)line;
	uc->file = (uint64_t)(uintptr_t)file;
	uc->expr = (uint64_t)(uintptr_t)expr;
	uc->names = (uint64_t)(uintptr_t)names;
	if (n > MICROVM_UCALL_MAX_ARGS)
		n = MICROVM_UCALL_MAX_ARGS;
	if (n < 0)
		n = 0;
	uc->nr_args = (uint64_t)n;
	for (i = 0; i < n; i++)
		uc->args[i] = v[i];
}

void microvm_guest_sync(uint64_t stage, uint64_t arg)
{
	struct microvm_ucall uc;
	const uint64_t v[2] = { stage, arg };

	microvm_guest_fill(&uc, MICROVM_UCALL_SYNC, NULL, 0, NULL, NULL, v, 2);
	microvm_guest_ucall(&uc);
}

static __attribute__((noreturn)) void microvm_guest_stop(void)
{
	/* The host does not resume a vCPU after DONE or ABORT. */
	for (;;)
		__asm__ __volatile__("cli; hlt" ::: "memory");
}

void microvm_guest_done(void)
{
	struct microvm_ucall uc;

	microvm_guest_fill(&uc, MICROVM_UCALL_DONE, NULL, 0, NULL, NULL, NULL, 0);
	microvm_guest_ucall(&uc);
	microvm_guest_stop();
}

void microvm_guest_abort(const char *file, int line, const char *expr,
			 const char *names, const uint64_t *v, int n)
{
	struct microvm_ucall uc;

	microvm_guest_fill(&uc, MICROVM_UCALL_ABORT, file, line, expr, names, v, n);
	microvm_guest_ucall(&uc);
	microvm_guest_stop();
}

void microvm_guest_print(const char *file, int line, const char *msg,
			 const char *names, const uint64_t *v, int n)
{
	struct microvm_ucall uc;

	microvm_guest_fill(&uc, MICROVM_UCALL_PRINT, file, line, msg, names, v, n);
	microvm_guest_ucall(&uc);
}

void microvm_guest_set_handler(uint8_t vector, microvm_guest_handler fn)
{
	__atomic_store_n(&microvm_guest_handlers[vector], fn, __ATOMIC_RELEASE);
}

static inline uint64_t microvm_guest_cr2(void)
{
	uint64_t v;

	__asm__ __volatile__("mov %%cr2, %0" : "=r" (v));
	return v;
}

/* Called by the entry stubs below with the saved frame. */
void microvm_guest_isr_dispatch(struct microvm_guest_regs *regs);
void microvm_guest_isr_dispatch(struct microvm_guest_regs *regs)
{
	microvm_guest_handler fn =
		__atomic_load_n(&microvm_guest_handlers[regs->vector & 0xff], __ATOMIC_ACQUIRE);
	struct microvm_ucall uc;
	uint64_t v[4];

	if (fn) {
		fn(regs);
		return;
	}
	v[0] = regs->vector;
	v[1] = regs->error;
	v[2] = regs->rip;
	v[3] = regs->vector == 14 ? microvm_guest_cr2() : 0;
	microvm_guest_fill(&uc, MICROVM_UCALL_EXCEPTION, NULL, 0, NULL, NULL, v, 4);
	microvm_guest_ucall(&uc);
	microvm_guest_stop();
}

/*
 * 256 entry stubs, 16 bytes apart from microvm_guest_isr_stubs: each pushes
 * a zero where the CPU pushes no error code, then its vector, and jumps to
 * the common entry.  The CPU aligned rsp to 16 before its 5-word frame; the
 * error code, the vector and 15 registers make 22 words in all, so rsp is
 * 16-byte aligned again at the call.
 *
 * microvm_guest_ret is where a vCPU's entry function returns to.
 */
__asm__(
	"	.pushsection .text.microvm_guest, \"ax\", @progbits\n"
	"	.globl microvm_guest_isr_stubs\n"
	"	.balign 16\n"
	"microvm_guest_isr_stubs:\n"
	"	.set microvm_vec, 0\n"
	"	.rept 256\n"
	"	.balign 16\n"
	"	.if (microvm_vec == 8) || ((microvm_vec >= 10) && (microvm_vec <= 14)) || (microvm_vec == 17) || (microvm_vec == 21) || (microvm_vec == 29) || (microvm_vec == 30)\n"
	"	.else\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $microvm_vec\n"
	"	jmp microvm_guest_isr_common\n"
	"	.set microvm_vec, microvm_vec + 1\n"
	"	.endr\n"
	"	.balign 16\n"
	"microvm_guest_isr_common:\n"
	"	pushq %rax\n"
	"	pushq %rbx\n"
	"	pushq %rcx\n"
	"	pushq %rdx\n"
	"	pushq %rsi\n"
	"	pushq %rdi\n"
	"	pushq %rbp\n"
	"	pushq %r8\n"
	"	pushq %r9\n"
	"	pushq %r10\n"
	"	pushq %r11\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, %rdi\n"
	"	cld\n"
	"	call microvm_guest_isr_dispatch\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %r11\n"
	"	popq %r10\n"
	"	popq %r9\n"
	"	popq %r8\n"
	"	popq %rbp\n"
	"	popq %rdi\n"
	"	popq %rsi\n"
	"	popq %rdx\n"
	"	popq %rcx\n"
	"	popq %rbx\n"
	"	popq %rax\n"
	"	addq $16, %rsp\n"
	"	iretq\n"
	"	.globl microvm_guest_ret\n"
	"microvm_guest_ret:\n"
	"	andq $-16, %rsp\n"
	"	call microvm_guest_done\n"
	"	ud2\n"
	"	.popsection\n");
