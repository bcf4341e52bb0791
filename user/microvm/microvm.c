// SPDX-License-Identifier: GPL-2.0
/*
 * The micro-VM's host side: the VM, its memory and page tables, the
 * program image copied into the guest, the vCPUs and their exits.
 *
 * Guest-physical layout (RAM at 0, ram_bytes long):
 *
 *   0x00001000  PML4
 *   0x00002000  GDT: null, code64 (0x08), data (0x10), TSS (0x18, 16 bytes)
 *   0x00003000  IDT: 256 gates to microvm_guest_isr_stubs
 *   0x00004000  TSS
 *   0x00010000  page-table pool, up to 0x00200000
 *   0x00200000  the program image (or at its own address when the program
 *               is not position-independent and sits below 4 GiB)
 *   after it    vCPU stacks, then microvm_alloc()
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <microvm/microvm.h>

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_4G		0x100000000ULL

#define MICROVM_PML4_GPA	0x1000ULL
#define MICROVM_GDT_GPA		0x2000ULL
#define MICROVM_IDT_GPA		0x3000ULL
#define MICROVM_TSS_GPA		0x4000ULL
#define MICROVM_PT_POOL_GPA	0x10000ULL
#define MICROVM_PT_POOL_END	0x200000ULL
#define MICROVM_IMAGE_GPA	0x200000ULL
#define MICROVM_TSS_ADDR	0xfffbd000ULL	/* KVM_SET_TSS_ADDR (VMX only) */

#define MICROVM_SEL_CODE	0x08
#define MICROVM_SEL_DATA	0x10
#define MICROVM_SEL_TSS		0x18

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_MP	(1ULL << 1)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_WP	(1ULL << 16)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_OSFXSR	(1ULL << 9)
#define X86_CR4_OSXMMEXCPT (1ULL << 10)
#define X86_EFER_LME	(1ULL << 8)
#define X86_EFER_LMA	(1ULL << 10)

#define MICROVM_MAX_IOEVENTFDS	64
/* KVM_COALESCED_MMIO_MAX, which the uapi header spells with PAGE_SIZE. */
#define MICROVM_COALESCED_MAX \
	((4096 - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))

/* In microvm_guest.c (guest code). */
extern const char microvm_guest_isr_stubs[];
extern const char microvm_guest_ret[];

struct microvm_exit_handler {
	uint8_t bus;
	uint64_t base;
	uint64_t len;
	microvm_exit_fn fn;
	void *opaque;
};

struct microvm_vcpu {
	struct microvm *vm;
	uint32_t id;
	int fd;
	struct kvm_run *run;
	uint64_t stack_top;	/* guest address, 16-byte aligned */
	pthread_t thread;
	bool started;
	microvm_vcpu_fn fn;
	void *arg;
};

struct microvm {
	int kvm_fd;
	int vm_fd;
	int mem_fd;
	uint8_t *ram;
	uint64_t ram_bytes;
	bool irqchip;
	size_t run_bytes;
	uint32_t nr_vcpus;
	struct microvm_vcpu *vcpus;

	uint64_t pt_next;	/* page-table pool */
	uint64_t alloc_next;	/* microvm_alloc() */

	uint64_t img_va;	/* image: [img_va, img_end) at img_gpa; img_va 2 MiB-aligned */
	uint64_t img_end;
	uint64_t img_gpa;
	uintptr_t load_bias;	/* of the executable, for addr2line */

	struct microvm_exit_handler handlers[MICROVM_MAX_EXIT_HANDLERS];
	unsigned int nr_handlers;
	microvm_exit_hook_fn hook;
	void *hook_opaque;

	int ioeventfds[MICROVM_MAX_IOEVENTFDS];
	unsigned int nr_ioeventfds;

	struct kvm_coalesced_mmio_ring *coalesced;
	size_t coalesced_bytes;
	pthread_mutex_t coalesced_lock;
};

/* ---- memory ------------------------------------------------------------------ */

void *microvm_gpa2hva(const struct microvm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa >= vm->ram_bytes || len > vm->ram_bytes - gpa)
		return NULL;
	return vm->ram + gpa;
}

void *microvm_gva2hva(const struct microvm *vm, uint64_t gva, uint64_t len)
{
	if (gva >= vm->img_va && gva < vm->img_end) {
		if (len > vm->img_end - gva)
			return NULL;
		return microvm_gpa2hva(vm, vm->img_gpa + (gva - vm->img_va), len);
	}
	if (gva < SZ_4G)
		return microvm_gpa2hva(vm, gva, len);
	return NULL;
}

uint64_t microvm_alloc(struct microvm *vm, uint64_t bytes, uint64_t align)
{
	uint64_t gpa;

	if (!align)
		align = 16;
	if (align & (align - 1))
		return 0;
	gpa = (vm->alloc_next + align - 1) & ~(align - 1);
	if (gpa < vm->alloc_next || gpa > vm->ram_bytes || bytes > vm->ram_bytes - gpa)
		return 0;
	vm->alloc_next = gpa + bytes;
	memset(vm->ram + gpa, 0, bytes);
	return gpa;
}

void microvm_sync_to_guest(struct microvm *vm, const void *host_obj, size_t len)
{
	void *g = microvm_gva2hva(vm, (uintptr_t)host_obj, len);

	if (g)
		memcpy(g, host_obj, len);
}

void microvm_sync_from_guest(struct microvm *vm, void *host_obj, size_t len)
{
	const void *g = microvm_gva2hva(vm, (uintptr_t)host_obj, len);

	if (g)
		memcpy(host_obj, g, len);
}

static uint64_t microvm_pt_alloc(struct microvm *vm)
{
	uint64_t gpa = vm->pt_next;

	if (gpa + SZ_4K > MICROVM_PT_POOL_END)
		return 0;
	vm->pt_next += SZ_4K;
	memset(vm->ram + gpa, 0, SZ_4K);
	return gpa;
}

/* The next-level table that entry *e points to; made if absent. */
static uint64_t *microvm_pt_next(struct microvm *vm, uint64_t *e)
{
	uint64_t gpa;

	if (!(*e & PTE_P)) {
		gpa = microvm_pt_alloc(vm);
		if (!gpa)
			return NULL;
		*e = gpa | PTE_P | PTE_RW;
	}
	return (uint64_t *)(vm->ram + (*e & PTE_ADDR));
}

/* Map the 2 MiB page at va to gpa. */
static int microvm_map_2m(struct microvm *vm, uint64_t va, uint64_t gpa)
{
	uint64_t *pml4 = (uint64_t *)(vm->ram + MICROVM_PML4_GPA);
	uint64_t *pdpt, *pd;

	pdpt = microvm_pt_next(vm, &pml4[(va >> 39) & 511]);
	if (!pdpt)
		return -ENOMEM;
	pd = microvm_pt_next(vm, &pdpt[(va >> 30) & 511]);
	if (!pd)
		return -ENOMEM;
	pd[(va >> 21) & 511] = gpa | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

/* ---- the program image ------------------------------------------------------- */

struct microvm_image {
	uintptr_t bias;
	uint64_t lo, hi;
	unsigned int nr;
	struct { uint64_t va, memsz; } seg[16];
};

static int microvm_image_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct microvm_image *img = data;
	int i;

	(void)size;
	/* The first object is the executable. */
	img->bias = info->dlpi_addr;
	img->lo = UINT64_MAX;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t va = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (img->nr == sizeof(img->seg) / sizeof(img->seg[0]))
			return -1;
		img->seg[img->nr].va = va;
		img->seg[img->nr].memsz = ph->p_memsz;
		img->nr++;
		if (va < img->lo)
			img->lo = va;
		if (va + ph->p_memsz > img->hi)
			img->hi = va + ph->p_memsz;
	}
	return 1;
}

/*
 * Copy a whole loaded segment of our own image, padding between objects
 * included: AddressSanitizer would call that a global-buffer-overflow, so
 * this copy is not instrumented.
 */
__attribute__((no_sanitize_address))
static void microvm_copy_segment(uint8_t *dst, const void *src, uint64_t len)
{
	const volatile uint8_t *s = src;
	uint64_t i;

	for (i = 0; i < len; i++)
		dst[i] = s[i];
}

static int microvm_load_image(struct microvm *vm)
{
	struct microvm_image img = { 0 };
	uint64_t va, span;
	unsigned int i;
	int ret;

	if (dl_iterate_phdr(microvm_image_cb, &img) != 1 || !img.nr)
		return -ENOEXEC;
	vm->load_bias = img.bias;
	vm->img_va = img.lo & ~(SZ_2M - 1);
	vm->img_end = img.hi;
	span = img.hi - vm->img_va;
	if (img.hi <= SZ_4G) {
		/* Not position-independent: the image sits in the 1:1 map. */
		if (vm->img_va < MICROVM_IMAGE_GPA)
			return -ERANGE;
		vm->img_gpa = vm->img_va;
	} else {
		vm->img_gpa = MICROVM_IMAGE_GPA;
	}
	if (vm->img_gpa + span > vm->ram_bytes)
		return -E2BIG;
	for (i = 0; i < img.nr; i++)
		microvm_copy_segment(vm->ram + vm->img_gpa + (img.seg[i].va - vm->img_va),
				     (const void *)(uintptr_t)img.seg[i].va, img.seg[i].memsz);
	if (vm->img_gpa != vm->img_va) {
		for (va = vm->img_va; va < img.hi; va += SZ_2M) {
			ret = microvm_map_2m(vm, va, vm->img_gpa + (va - vm->img_va));
			if (ret)
				return ret;
		}
	}
	vm->alloc_next = (vm->img_gpa + span + SZ_4K - 1) & ~(SZ_4K - 1);
	return 0;
}

/* ---- system tables --------------------------------------------------------------- */

static int microvm_build_tables(struct microvm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->ram + MICROVM_GDT_GPA);
	uint64_t va, tss = MICROVM_TSS_GPA, stub;
	uint32_t *idt = (uint32_t *)(vm->ram + MICROVM_IDT_GPA);
	int i, ret;

	vm->pt_next = MICROVM_PT_POOL_GPA;
	memset(vm->ram + MICROVM_PML4_GPA, 0, SZ_4K);
	/* 0 .. 4 GiB 1:1 with 2 MiB pages: RAM and every MMIO hole. */
	for (va = 0; va < SZ_4G; va += SZ_2M) {
		ret = microvm_map_2m(vm, va, va);
		if (ret)
			return ret;
	}

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL;		/* code: 64-bit, present, ring 0 */
	gdt[2] = 0x00cf92000000ffffULL;		/* data: writable, 4 GiB */
	gdt[3] = 0x67 | ((tss & 0xffffff) << 16) | (0x8bULL << 40) |	/* busy TSS */
		 (((tss >> 24) & 0xff) << 56);
	gdt[4] = tss >> 32;

	for (i = 0; i < 256; i++) {
		stub = (uintptr_t)microvm_guest_isr_stubs + 16 * (uint64_t)i;
		idt[4 * i + 0] = (uint32_t)(stub & 0xffff) | (MICROVM_SEL_CODE << 16);
		idt[4 * i + 1] = (uint32_t)(stub & 0xffff0000) | 0x8e00; /* interrupt gate */
		idt[4 * i + 2] = (uint32_t)(stub >> 32);
		idt[4 * i + 3] = 0;
	}
	return 0;
}

static void microvm_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

static int microvm_vcpu_sregs(struct microvm_vcpu *v)
{
	struct kvm_sregs sr;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sr.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	sr.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	sr.efer = X86_EFER_LME | X86_EFER_LMA;
	sr.cr3 = MICROVM_PML4_GPA;
	microvm_seg(&sr.cs, MICROVM_SEL_CODE, 11, true);
	microvm_seg(&sr.ds, MICROVM_SEL_DATA, 3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.base = MICROVM_TSS_GPA;
	sr.tr.limit = 0x67;
	sr.tr.selector = MICROVM_SEL_TSS;
	sr.tr.type = 11;
	sr.tr.present = 1;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.limit = 0xffff;
	sr.ldt.type = 2;
	sr.ldt.present = 1;
	sr.gdt.base = MICROVM_GDT_GPA;
	sr.gdt.limit = 5 * 8 - 1;
	sr.idt.base = MICROVM_IDT_GPA;
	sr.idt.limit = 256 * 16 - 1;
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
		return -errno;
	return 0;
}

static int microvm_vcpu_cpuid(struct microvm_vcpu *v)
{
	struct kvm_cpuid2 *c;
	uint32_t n = 128, i;
	int ret;

	for (;;) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (!ioctl(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		ret = -errno;
		free(c);
		if (ret != -E2BIG || n >= 4096)
			return ret;
		n *= 2;
	}
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		/* The initial APIC id is the vCPU id. */
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (v->id << 24);
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->id;
	}
	ret = ioctl(v->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return ret;
}

static int microvm_vcpu_create(struct microvm *vm, uint32_t id)
{
	struct microvm_vcpu *v = &vm->vcpus[id];
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	uint64_t stack;
	int ret;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return -errno;
	v->run = mmap(NULL, vm->run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	ret = microvm_vcpu_cpuid(v);
	if (ret)
		return ret;
	ret = microvm_vcpu_sregs(v);
	if (ret)
		return ret;
	/* With an in-kernel LAPIC, vCPUs but the first wait for INIT/SIPI. */
	if (vm->irqchip && ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	stack = microvm_alloc(vm, MICROVM_STACK_BYTES, SZ_4K);
	if (!stack)
		return -ENOMEM;
	v->stack_top = stack + MICROVM_STACK_BYTES;
	return microvm_vcpu_set_entry(v, microvm_guest_ret, 0);
}

/* ---- the VM ------------------------------------------------------------------------ */

static void microvm_kick_handler(int sig)
{
	(void)sig;
}

static void microvm_kick_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = microvm_kick_handler;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN + 1, &sa, NULL);
}

int __microvm_create(const struct microvm_config *cfg, struct microvm **out)
{
	static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
	struct kvm_userspace_memory_region slot;
	struct microvm *vm;
	uint32_t i;
	int ret;

	*out = NULL;
	if (!cfg->nr_vcpus || cfg->nr_vcpus > MICROVM_MAX_VCPUS)
		return -EINVAL;
	if (cfg->ram_bytes && ((cfg->ram_bytes & (SZ_2M - 1)) || cfg->ram_bytes > MICROVM_RAM_MAX))
		return -EINVAL;
	pthread_once(&kick_once, microvm_kick_setup);

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = vm->mem_fd = -1;
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	vm->ram_bytes = cfg->ram_bytes ? cfg->ram_bytes : MICROVM_RAM_DEFAULT;
	vm->vcpus = calloc(cfg->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < cfg->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		goto err;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		ret = -EPROTONOSUPPORT;
		goto err;
	}
	ret = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret <= 0) {
		ret = ret < 0 ? -errno : -EINVAL;
		goto err;
	}
	vm->run_bytes = (size_t)ret;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0UL);
	if (vm->vm_fd < 0) {
		ret = -errno;
		goto err;
	}
	/* Only VMX uses it (real mode without unrestricted guest); cheap. */
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)MICROVM_TSS_ADDR);
	if (cfg->flags & MICROVM_F_IRQCHIP) {
		if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
			ret = -errno;
			goto err;
		}
		vm->irqchip = true;
	}

	vm->mem_fd = memfd_create("microvm-ram", MFD_CLOEXEC);
	if (vm->mem_fd < 0 || ftruncate(vm->mem_fd, (off_t)vm->ram_bytes) < 0) {
		ret = -errno;
		goto err;
	}
	vm->ram = mmap(NULL, vm->ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vm->mem_fd, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		ret = -errno;
		goto err;
	}
	memset(&slot, 0, sizeof(slot));
	slot.slot = 0;
	slot.guest_phys_addr = 0;
	slot.memory_size = vm->ram_bytes;
	slot.userspace_addr = (uintptr_t)vm->ram;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		ret = -errno;
		goto err;
	}

	ret = microvm_build_tables(vm);
	if (ret)
		goto err;
	ret = microvm_load_image(vm);
	if (ret)
		goto err;
	for (i = 0; i < cfg->nr_vcpus; i++) {
		ret = microvm_vcpu_create(vm, i);
		vm->nr_vcpus = i + 1;
		if (ret)
			goto err;
	}
	*out = vm;
	return 0;
err:
	microvm_destroy(vm);
	return ret;
}

struct microvm *microvm_create(const struct microvm_config *cfg)
{
	struct microvm *vm;
	int ret = __microvm_create(cfg, &vm);

	if (!ret)
		return vm;
	switch (ret) {
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		fprintf(stderr, "microvm: /dev/kvm: %s: this machine has no KVM (load kvm_intel or kvm_amd, or run where virtualization is enabled)\n",
			strerror(-ret));
		break;
	case -EACCES:
	case -EPERM:
		fprintf(stderr, "microvm: /dev/kvm: %s: run as root or join the kvm group\n",
			strerror(-ret));
		break;
	case -EINVAL:
		fprintf(stderr, "microvm: bad configuration: %u vCPUs (1..%u), %llu bytes of RAM (a multiple of 2 MiB up to %llu MiB)\n",
			cfg->nr_vcpus, MICROVM_MAX_VCPUS, (unsigned long long)cfg->ram_bytes,
			(unsigned long long)(MICROVM_RAM_MAX >> 20));
		break;
	case -E2BIG:
		fprintf(stderr, "microvm: the program image does not fit the guest RAM: give the micro-VM more RAM\n");
		break;
	case -ERANGE:
		fprintf(stderr, "microvm: the program is linked below 2 MiB, where the micro-VM keeps its tables: link it as PIE (the default) or higher\n");
		break;
	default:
		fprintf(stderr, "microvm: creating the VM: %s\n", strerror(-ret));
	}
	return NULL;
}

void microvm_destroy(struct microvm *vm)
{
	uint32_t i;

	if (!vm)
		return;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct microvm_vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, vm->run_bytes);
		if (v->fd >= 0)
			close(v->fd);
	}
	for (i = 0; i < vm->nr_ioeventfds; i++)
		close(vm->ioeventfds[i]);
	if (vm->coalesced)
		munmap(vm->coalesced, vm->coalesced_bytes);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_bytes);
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->coalesced_lock);
	free(vm->vcpus);
	free(vm);
}

int microvm_kvm_fd(const struct microvm *vm) { return vm->kvm_fd; }
int microvm_vm_fd(const struct microvm *vm) { return vm->vm_fd; }
uint32_t microvm_nr_vcpus(const struct microvm *vm) { return vm->nr_vcpus; }
uint64_t microvm_ram_bytes(const struct microvm *vm) { return vm->ram_bytes; }
bool microvm_has_irqchip(const struct microvm *vm) { return vm->irqchip; }

struct microvm_vcpu *microvm_vcpu(const struct microvm *vm, uint32_t idx)
{
	return idx < vm->nr_vcpus ? &vm->vcpus[idx] : NULL;
}

/* ---- exits, ioeventfds, coalesced MMIO, MSIs ------------------------------------ */

int microvm_add_exit_handler(struct microvm *vm, uint8_t bus, uint64_t base,
			     uint64_t len, microvm_exit_fn fn, void *opaque)
{
	struct microvm_exit_handler *h;
	unsigned int i;

	if (!len || base + len < base || (bus != MICROVM_BUS_MMIO && bus != MICROVM_BUS_PIO))
		return -EINVAL;
	if (bus == MICROVM_BUS_PIO && (base + len > 0x10000 ||
	    (MICROVM_UCALL_PORT + 4 > base && MICROVM_UCALL_PORT < base + len)))
		return -EEXIST;
	for (i = 0; i < vm->nr_handlers; i++) {
		h = &vm->handlers[i];
		if (h->bus == bus && base < h->base + h->len && h->base < base + len)
			return -EEXIST;
	}
	if (vm->nr_handlers == MICROVM_MAX_EXIT_HANDLERS)
		return -ENOSPC;
	h = &vm->handlers[vm->nr_handlers++];
	h->bus = bus;
	h->base = base;
	h->len = len;
	h->fn = fn;
	h->opaque = opaque;
	return 0;
}

void microvm_set_exit_hook(struct microvm *vm, microvm_exit_hook_fn fn, void *opaque)
{
	vm->hook = fn;
	vm->hook_opaque = opaque;
}

int microvm_ioeventfd_add(struct microvm *vm, uint8_t bus, uint64_t addr,
			  uint32_t len, bool datamatch, uint64_t data)
{
	struct kvm_ioeventfd io;
	int fd, ret;

	if (vm->nr_ioeventfds == MICROVM_MAX_IOEVENTFDS)
		return -ENOSPC;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(&io, 0, sizeof(io));
	io.addr = addr;
	io.len = len;
	io.fd = fd;
	io.datamatch = data;
	io.flags = (datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
		   (bus == MICROVM_BUS_PIO ? KVM_IOEVENTFD_FLAG_PIO : 0);
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	vm->ioeventfds[vm->nr_ioeventfds++] = fd;
	return fd;
}

int microvm_coalesced_add(struct microvm *vm, uint8_t bus, uint64_t base, uint32_t len)
{
	struct kvm_coalesced_mmio_zone z;
	long page = sysconf(_SC_PAGESIZE);
	int off;
	void *p;

	off = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (off <= 0)
		return -EOPNOTSUPP;
	/* a kernel without it would take a port zone for an MMIO one */
	if (bus == MICROVM_BUS_PIO && ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return -EOPNOTSUPP;
	if (!vm->nr_vcpus)
		return -ENODEV;
	if (!vm->coalesced) {
		p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vm->vcpus[0].fd, (off_t)off * page);
		if (p == MAP_FAILED)
			return -errno;
		vm->coalesced = p;
		vm->coalesced_bytes = (size_t)page;
	}
	memset(&z, 0, sizeof(z));
	z.addr = base;
	z.size = len;
	z.pio = bus == MICROVM_BUS_PIO;
	if (ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &z) < 0)
		return -errno;
	return 0;
}

unsigned int microvm_coalesced_drain(struct microvm *vm, microvm_coalesced_fn fn,
				     void *opaque)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced;
	uint32_t first, last;
	unsigned int n = 0;

	if (!ring)
		return 0;
	pthread_mutex_lock(&vm->coalesced_lock);
	first = __atomic_load_n(&ring->first, __ATOMIC_RELAXED);
	/* Pairs with KVM's smp_wmb() before it advances last. */
	last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	while (first != last) {
		if (first >= MICROVM_COALESCED_MAX)
			break;		/* KVM keeps it in range; never trust it */
		fn(&ring->coalesced_mmio[first], opaque);
		first = (first + 1) % MICROVM_COALESCED_MAX;
		n++;
	}
	/* We are done with the entries before KVM sees them free. */
	__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->coalesced_lock);
	return n;
}

int microvm_signal_msi(struct microvm *vm, uint64_t address, uint32_t data)
{
	struct kvm_msi msi;
	int ret;

	memset(&msi, 0, sizeof(msi));
	msi.address_lo = (uint32_t)address;
	msi.address_hi = (uint32_t)(address >> 32);
	msi.data = data;
	ret = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);
	return ret < 0 ? -errno : ret;
}

/* ---- vCPUs --------------------------------------------------------------------------- */

uint32_t microvm_vcpu_id(const struct microvm_vcpu *v) { return v->id; }
int microvm_vcpu_fd(const struct microvm_vcpu *v) { return v->fd; }
struct microvm *microvm_vcpu_vm(const struct microvm_vcpu *v) { return v->vm; }
struct kvm_run *microvm_vcpu_kvm_run(const struct microvm_vcpu *v) { return v->run; }

int microvm_vcpu_set_entry(struct microvm_vcpu *v, const void *guest_fn,
			   unsigned int nargs, ...)
{
	struct kvm_regs r;
	uint64_t args[6] = { 0 };
	uint64_t *ret_slot;
	unsigned int i;
	va_list ap;

	if (nargs > 6)
		return -EINVAL;
	va_start(ap, nargs);
	for (i = 0; i < nargs; i++)
		args[i] = va_arg(ap, uint64_t);
	va_end(ap);

	ret_slot = microvm_gva2hva(v->vm, v->stack_top - 8, 8);
	if (!ret_slot)
		return -EFAULT;
	*ret_slot = (uintptr_t)microvm_guest_ret;
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = (uintptr_t)guest_fn;
	r.rsp = v->stack_top - 8;	/* as after a call: rsp + 8 is 16-aligned */
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.rcx = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	return ioctl(v->fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

static const char *microvm_exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
	case KVM_EXIT_IO: return "KVM_EXIT_IO";
	case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
	case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
	case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN (triple fault)";
	case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
	default: return "an unknown exit";
	}
}

/* Where rip is in the program, for addr2line; 0 if it is not in it. */
static uint64_t microvm_image_offset(const struct microvm *vm, uint64_t rip)
{
	if (rip >= vm->img_va && rip < vm->img_end)
		return rip - vm->load_bias;
	return 0;
}

static void microvm_addr2line_hint(const struct microvm *vm, uint64_t rip, FILE *f)
{
	char exe[512];
	ssize_t n;
	uint64_t off = microvm_image_offset(vm, rip);

	if (!off)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = 0;
	fprintf(f, "  (addr2line -f -i -e %s 0x%" PRIx64 ")\n", exe, off);
}

void microvm_vcpu_dump(struct microvm_vcpu *v, FILE *f)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(f, "  (registers unavailable: %s)\n", strerror(errno));
		return;
	}
	fprintf(f, "  rip=0x%llx rsp=0x%llx rflags=0x%llx rax=0x%llx rdi=0x%llx rsi=0x%llx\n"
		   "  cr0=0x%llx cr2=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rdi, r.rsi,
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	microvm_addr2line_hint(v->vm, r.rip, f);
}

static const struct microvm_exit_handler *
microvm_find_handler(const struct microvm *vm, uint8_t bus, uint64_t addr, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < vm->nr_handlers; i++) {
		const struct microvm_exit_handler *h = &vm->handlers[i];

		if (h->bus == bus && addr >= h->base && addr - h->base + len <= h->len)
			return h;
	}
	return NULL;
}

static int microvm_unhandled(struct microvm_vcpu *v, const char *what, bool is_write,
			     uint32_t len, uint64_t addr)
{
	fprintf(stderr, "microvm: vCPU %u: guest %s of %u bytes at %s 0x%" PRIx64
		" has no handler (microvm_add_exit_handler)\n",
		v->id, is_write ? "write" : "read", len, what, addr);
	microvm_vcpu_dump(v, stderr);
	return -EIO;
}

static int microvm_dispatch(struct microvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	const struct microvm_exit_handler *h;
	struct microvm_access a;
	uint32_t i;
	int ret;

	if (run->exit_reason == KVM_EXIT_MMIO) {
		a.bus = MICROVM_BUS_MMIO;
		a.is_write = run->mmio.is_write;
		a.len = (uint8_t)run->mmio.len;
		a.addr = run->mmio.phys_addr;
		a.data = run->mmio.data;
		h = microvm_find_handler(v->vm, a.bus, a.addr, a.len);
		if (!h)
			return microvm_unhandled(v, "MMIO", a.is_write, a.len, a.addr);
		return h->fn(v, &a, h->opaque);
	}
	/* KVM_EXIT_IO, maybe a string instruction: count accesses in a row. */
	a.bus = MICROVM_BUS_PIO;
	a.is_write = run->io.direction == KVM_EXIT_IO_OUT;
	a.len = run->io.size;
	a.addr = run->io.port;
	h = microvm_find_handler(v->vm, a.bus, a.addr, a.len);
	if (!h)
		return microvm_unhandled(v, "port", a.is_write, a.len, a.addr);
	for (i = 0; i < run->io.count; i++) {
		a.data = (uint8_t *)run + run->io.data_offset + (size_t)i * run->io.size;
		ret = h->fn(v, &a, h->opaque);
		if (ret)
			return ret;
	}
	return 0;
}

static int microvm_get_ucall(struct microvm_vcpu *v, struct microvm_ucall *uc)
{
	struct kvm_run *run = v->run;
	uint32_t gpa;
	const void *p;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1) {
		fprintf(stderr, "microvm: vCPU %u: bad access to the ucall port 0x%x\n",
			v->id, MICROVM_UCALL_PORT);
		microvm_vcpu_dump(v, stderr);
		return -EPROTO;
	}
	memcpy(&gpa, (uint8_t *)run + run->io.data_offset, 4);
	p = microvm_gpa2hva(v->vm, gpa, sizeof(*uc));
	if (!p) {
		fprintf(stderr, "microvm: vCPU %u: ucall struct at 0x%x is outside guest RAM\n",
			v->id, gpa);
		return -EPROTO;
	}
	memcpy(uc, p, sizeof(*uc));
	if (uc->cmd == MICROVM_UCALL_NONE || uc->cmd > MICROVM_UCALL_EXCEPTION) {
		fprintf(stderr, "microvm: vCPU %u: unknown ucall %" PRIu64 "\n", v->id, uc->cmd);
		return -EPROTO;
	}
	if (uc->nr_args > MICROVM_UCALL_MAX_ARGS)
		uc->nr_args = MICROVM_UCALL_MAX_ARGS;
	return (int)uc->cmd;
}

int microvm_vcpu_run(struct microvm_vcpu *v, struct microvm_ucall *uc)
{
	struct kvm_run *run = v->run;
	int ret;

	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			ret = -errno;
			if (ret == -EINTR || ret == -EAGAIN) {
				/*
				 * Ordered before the caller's look at its stop flag:
				 * a stopper that sets the flag and immediate_exit
				 * after this load would otherwise see its 1 wiped by
				 * this late 0, and its kick land in user space.
				 */
				__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELAXED);
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				return -EINTR;
			}
			fprintf(stderr, "microvm: vCPU %u: KVM_RUN: %s\n", v->id, strerror(-ret));
			microvm_vcpu_dump(v, stderr);
			return ret;
		}
		if (v->vm->hook)
			v->vm->hook(v, v->vm->hook_opaque);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port == MICROVM_UCALL_PORT)
				return microvm_get_ucall(v, uc);
			/* fall through */
		case KVM_EXIT_MMIO:
			ret = microvm_dispatch(v);
			if (ret)
				return ret;
			break;
		case KVM_EXIT_INTR:
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELAXED);
			return -EINTR;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr, "microvm: vCPU %u: KVM_EXIT_FAIL_ENTRY, reason 0x%llx\n",
				v->id, run->fail_entry.hardware_entry_failure_reason);
			microvm_vcpu_dump(v, stderr);
			return -EIO;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "microvm: vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u\n",
				v->id, run->internal.suberror);
			microvm_vcpu_dump(v, stderr);
			return -EIO;
		default:
			fprintf(stderr, "microvm: vCPU %u: %s (%u)%s\n", v->id,
				microvm_exit_name(run->exit_reason), run->exit_reason,
				run->exit_reason == KVM_EXIT_SHUTDOWN ?
				": the guest faulted with no way to report it (bad stack or IDT?)" : "");
			microvm_vcpu_dump(v, stderr);
			return -EIO;
		}
	}
}

void microvm_vcpu_kick(struct microvm_vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (v->started)
		pthread_kill(v->thread, SIGRTMIN + 1);
}

static void *microvm_vcpu_thread(void *p)
{
	struct microvm_vcpu *v = p;

	return v->fn(v, v->arg);
}

int microvm_vcpu_start(struct microvm_vcpu *v, microvm_vcpu_fn fn, void *arg)
{
	int ret;

	v->fn = fn;
	v->arg = arg;
	ret = pthread_create(&v->thread, NULL, microvm_vcpu_thread, v);
	if (ret)
		return -ret;
	v->started = true;
	return 0;
}

void *microvm_vcpu_join(struct microvm_vcpu *v)
{
	void *ret = NULL;

	if (v->started) {
		pthread_join(v->thread, &ret);
		v->started = false;
	}
	return ret;
}

/* ---- ucalls for people --------------------------------------------------------------- */

/* A string from guest memory, bounded; "?" if it is not there. */
static const char *microvm_guest_str(struct microvm *vm, uint64_t gva, char *buf, size_t size)
{
	size_t i;
	const char *p;

	if (!gva)
		return "";
	for (i = 0; i + 1 < size; i++) {
		p = microvm_gva2hva(vm, gva + i, 1);
		if (!p)
			return "?";
		buf[i] = *p;
		if (!*p)
			return buf;
	}
	buf[i] = 0;
	return buf;
}

static const char *microvm_vector_name(uint64_t v)
{
	static const char *const names[] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(9)",
		"#TS", "#NP", "#SS", "#GP", "#PF", "(15)", "#MF", "#AC", "#MC", "#XM",
		"#VE", "#CP",
	};

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : v < 32 ? "exception" : "interrupt";
}

void microvm_ucall_print(struct microvm_vcpu *v, const struct microvm_ucall *uc,
			 const char *prefix, FILE *f)
{
	char file[256], expr[256], names[256];
	uint64_t i;

	switch (uc->cmd) {
	case MICROVM_UCALL_EXCEPTION:
		fprintf(f, "%sguest vCPU %u: unhandled %s (vector %" PRIu64 ") at rip 0x%" PRIx64
			", error code 0x%" PRIx64 ", cr2 0x%" PRIx64 "\n", prefix, v->id,
			microvm_vector_name(uc->args[0]), uc->args[0], uc->args[2], uc->args[1],
			uc->args[3]);
		if (uc->args[0] == 14)
			fprintf(f, "%s  guest code touched memory the guest does not map (host-only code or data: libc, TLS, the heap?)\n",
				prefix);
		microvm_addr2line_hint(v->vm, uc->args[2], f);
		return;
	case MICROVM_UCALL_ABORT:
	case MICROVM_UCALL_PRINT:
		fprintf(f, "%s%s%s:%" PRIu64 ": %s", prefix,
			uc->cmd == MICROVM_UCALL_ABORT ? "guest assertion failed at " : "guest: ",
			microvm_guest_str(v->vm, uc->file, file, sizeof(file)), uc->line,
			microvm_guest_str(v->vm, uc->expr, expr, sizeof(expr)));
		if (uc->nr_args) {
			fprintf(f, "  [%s] =", microvm_guest_str(v->vm, uc->names, names, sizeof(names)));
			for (i = 0; i < uc->nr_args; i++)
				fprintf(f, "%s 0x%" PRIx64, i ? "," : "", uc->args[i]);
		}
		fprintf(f, " (vCPU %u)\n", v->id);
		return;
	case MICROVM_UCALL_SYNC:
		fprintf(f, "%sguest vCPU %u: sync %" PRIu64 " 0x%" PRIx64 "\n", prefix, v->id,
			uc->args[0], uc->args[1]);
		return;
	case MICROVM_UCALL_DONE:
		fprintf(f, "%sguest vCPU %u: done\n", prefix, v->id);
		return;
	default:
		fprintf(f, "%sguest vCPU %u: ucall %" PRIu64 "\n", prefix, v->id, uc->cmd);
	}
}
