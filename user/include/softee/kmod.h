/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctls of softee.ko (uapi/softee.h), wrapped.
 *
 * __softee_x() does the system call and returns its raw result: a value
 * >= 0 or -errno, and prints nothing.  softee_x() calls it, and on failure
 * prints one line to stderr that says what failed and what to do, then
 * returns the same -errno.
 */
#ifndef _SOFTEE_KMOD_H
#define _SOFTEE_KMOD_H

#include <stddef.h>
#include <stdint.h>

#include <softee.h>
#include <softee/ring.h>

/* A session: the fd SOFTEE_ATTACH returned, its rings mapped. */
struct softee_session {
	int fd;				/* the session fd, -1 when closed */
	struct softee_attach attach;	/* as the module answered */
	void *map;			/* all rings, attach.mmap_bytes */
	uint32_t nr_rings;
	struct softee_ring *rings;	/* ring i serves vCPU index i */
};

/* Open /dev/softee (O_RDWR | O_CLOEXEC): the fd or -errno. */
int __softee_open(void);
int softee_open(void);

/* SOFTEE_ATTACH on dev_fd: the session fd or -errno; *a is updated. */
int __softee_attach(int dev_fd, struct softee_attach *a);

/*
 * Open /dev/softee, attach to vm_fd with nr_rings rings of ring_entries
 * (0 = default), timeout_us (0 = default) and flags (SOFTEE_ATTACH_F_*),
 * map the rings and build a
 * view of each.  /dev/softee is closed again; the session holds the VM.
 * 0 or -errno; on failure *s is left closed.
 */
int __softee_session_open(struct softee_session *s, int vm_fd, uint32_t nr_rings,
			  uint32_t ring_entries, uint32_t timeout_us, uint32_t flags);
int softee_session_open(struct softee_session *s, int vm_fd, uint32_t nr_rings,
			uint32_t ring_entries, uint32_t timeout_us, uint32_t flags);
void softee_session_close(struct softee_session *s);

/* SOFTEE_REGION_ADD: 0 and the region's id in *id, or -errno. */
int __softee_region_add(int session_fd, uint8_t bus, uint64_t base,
			uint64_t len, uint32_t flags, uint32_t *id);
int softee_region_add(int session_fd, uint8_t bus, uint64_t base,
		      uint64_t len, uint32_t flags, uint32_t *id);

/* SOFTEE_REGION_DEL. */
int __softee_region_del(int session_fd, uint32_t id);
int softee_region_del(int session_fd, uint32_t id);

/* SOFTEE_SET_TIMEOUT: 0 and the old value in *old_us (may be NULL). */
int __softee_set_timeout(int session_fd, uint32_t timeout_us, uint32_t *old_us);
int softee_set_timeout(int session_fd, uint32_t timeout_us, uint32_t *old_us);

/* SOFTEE_GET_STATS for scope SOFTEE_STATS_* and index. */
int __softee_get_stats(int session_fd, uint32_t scope, uint32_t index,
		       struct softee_stats *st);
int softee_get_stats(int session_fd, uint32_t scope, uint32_t index,
		     struct softee_stats *st);

/*
 * SOFTEE_CFG_ADD: trap the config space of bdf (SOFTEE_CFG_BDF(bus, dev, fn)):
 * CONFIG_ADDRESS/CONFIG_DATA always, and with SOFTEE_CFG_F_ECAM in flags
 * the BDF's page of the ECAM window at ecam_base (bus 0's address, as in
 * MCFG) that decodes buses ecam_bus_start..ecam_bus_end (0 without the
 * flag).  0 and the trap's id in *id (may be NULL), or -errno.
 */
int __softee_cfg_add(int session_fd, uint32_t bdf, uint32_t flags, uint64_t ecam_base,
		     uint8_t ecam_bus_start, uint8_t ecam_bus_end, uint32_t *id);
int softee_cfg_add(int session_fd, uint32_t bdf, uint32_t flags, uint64_t ecam_base,
		   uint8_t ecam_bus_start, uint8_t ecam_bus_end, uint32_t *id);

/* SOFTEE_CFG_DEL. */
int __softee_cfg_del(int session_fd, uint32_t id);
int softee_cfg_del(int session_fd, uint32_t id);

/*
 * SOFTEE_SIGNAL_MSI: an MSI into the session's VM (KVM_SIGNAL_MSI's answer:
 * > 0 delivered, 0 taken by no vCPU), or -errno.
 */
int __softee_signal_msi(int session_fd, uint64_t address, uint32_t data);

/* "MMIO" / "PIO" / "CFG" for a SOFTEE_BUS_*. */
const char *softee_bus_name(uint8_t bus);

#endif /* _SOFTEE_KMOD_H */
