// SPDX-License-Identifier: GPL-2.0
/* The host's side of the end-to-end guest (softee/e2e_host.h). */
#include <errno.h>
#include <string.h>

#include <softee/e2e_host.h>
#include <softee/endpoint.h>
#include <softee/testdev.h>

int pe_exit_access(struct microvm_vcpu *v, struct microvm_access *a, void *opaque)
{
	int r = softee_poller_exit_access(opaque, microvm_vcpu_id(v), a->bus, a->is_write,
					  a->addr, a->len, a->data);

	if (r == -ENOENT && !a->is_write)
		memset(a->data, 0xff, a->len);	/* nothing there: master abort */
	return 0;
}

int pe_run_guest(struct microvm_vcpu *v, struct microvm_ucall *uc, FILE *out)
{
	int r;

	for (;;) {
		r = microvm_vcpu_run(v, uc);
		if (r == MICROVM_UCALL_PRINT) {
			microvm_ucall_print(v, uc, "guest: ", out);
			continue;
		}
		if (r > 0 && r != MICROVM_UCALL_SYNC && r != MICROVM_UCALL_DONE)
			microvm_ucall_print(v, uc, "guest: ", out);
		return r;
	}
}

uint64_t pe_ram_hash(const void *p, uint64_t len)
{
	const uint64_t *q = p;
	uint64_t h = 0xcbf29ce484222325ULL, i;

	for (i = 0; i < len / 8; i++)
		h = (h ^ q[i]) * 0x100000001b3ULL;
	return h;
}

int pe_params_setup(struct microvm *vm, const struct softee_poller_dev_info *info,
		    uint64_t ram_bytes, uint32_t len, uint64_t *gpa, struct pe_params **prm)
{
	struct pe_params *p;
	uint64_t *a, i;

	if (len < 65536 || len > PE_DMA_MAX || (len & 7))
		return -EINVAL;
	*gpa = microvm_alloc(vm, sizeof(*p), 64);
	p = *gpa ? microvm_gpa2hva(vm, *gpa, sizeof(*p)) : NULL;
	if (!p)
		return -ENOMEM;
	p->bar0 = info->bar[SOFTEE_TESTDEV_REG_BAR].addr;
	p->bar2 = info->bar[SOFTEE_TESTDEV_MEM_BAR].addr;
	p->len = len;
	p->buf_a = microvm_alloc(vm, PE_DMA_MAX, 4096);
	p->buf_b = microvm_alloc(vm, PE_DMA_MAX, 4096);
	a = p->buf_a ? microvm_gpa2hva(vm, p->buf_a, PE_DMA_MAX) : NULL;
	if (!a || !p->buf_b)
		return -ENOMEM;
	p->ram_end = ram_bytes;
	p->vector = info->msi_data[0] & 0xff;
	p->bad_host = p->bar2;
	for (i = 0; i < PE_DMA_MAX / 8; i++)
		a[i] = (i + 1) * 0x9e3779b97f4a7c15ULL ^ 0x5eed;
	p->crc_a = softee_crc32(0, a, len);
	p->crc_a_small = softee_crc32(0, a, 65536);
	p->word_a1 = a[1];
	p->word_a_last = a[len / 8 - 1];
	*prm = p;
	return 0;
}
