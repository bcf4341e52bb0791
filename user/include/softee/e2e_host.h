/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's side of the end-to-end guest (softee/e2e.h): what softee-guest
 * and selftests/poller_e2e_test.c both do around it (user/guest/e2e_host.c).
 */
#ifndef _SOFTEE_E2E_HOST_H
#define _SOFTEE_E2E_HOST_H

#include <stdint.h>
#include <stdio.h>

#include <microvm/microvm.h>
#include <softee/e2e.h>
#include <softee/poller.h>

/* DMA buffers the guest gets: this many bytes each, the most --len may ask. */
#define PE_DMA_MAX	(1u << 20)

/*
 * The micro-VM's exit handler for the poller's MMIO window (opaque: the
 * struct softee_poller_exit): the exit path; reads no device claims see
 * all ones (a master abort).
 */
int pe_exit_access(struct microvm_vcpu *v, struct microvm_access *a, void *opaque);

/*
 * Run the guest to its next SYNC or its end, its prints (and a failed
 * assertion's report) to out with a "guest: " prefix.  The ucall kind
 * (MICROVM_UCALL_SYNC, _DONE, another: it stopped), or -errno.
 */
int pe_run_guest(struct microvm_vcpu *v, struct microvm_ucall *uc, FILE *out);

/* FNV-1a over 8-byte words: a hash of guest RAM that DMA must not touch. */
uint64_t pe_ram_hash(const void *p, uint64_t len);

/*
 * The guest's parameters and its two DMA buffers in its RAM (ram_bytes of
 * it), for the test endpoint `info` describes, with len bytes to move each
 * way; buffer A filled and its CRCs computed here (bulk work in the guest
 * is slow).  0 (and *gpa, *prm), -EINVAL (len), or -ENOMEM.
 */
int pe_params_setup(struct microvm *vm, const struct softee_poller_dev_info *info,
		    uint64_t ram_bytes, uint32_t len, uint64_t *gpa, struct pe_params **prm);

#endif /* _SOFTEE_E2E_HOST_H */
