/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softee-poller as a library (build/libsoftee_poller.a): the host side of
 * softee.  It consumes the rings of one attached VM (softee.ko's, or the
 * user-space rings of the exit path), turns guest accesses into TLPs for
 * the device behind the I/O box of its group, configures that device,
 * serves the device's DMA into guest memory, injects its MSIs, and fails
 * everything fast when the box is lost.  Documentation/poller.rst.
 *
 *	struct softee_poller_cfg cfg = { .nd = nd, .group = 7,
 *		.mmio_base = 0xc0000000, .mmio_len = 0x10000000, .vm_fd = vm_fd };
 *	softee_poller_create(&p, &cfg);
 *	softee_poller_add_ram(p, 0, ram_bytes, ram_hva);
 *	softee_poller_attach_kmod(p, vm_fd, nr_vcpus, 0, 0);	(or _attach_exit)
 *	softee_poller_start(p);			(its own thread; or _run)
 *	softee_poller_wait_ready(p, 1, 5000000000ULL);
 *	... the guest uses the device ...
 *	softee_poller_stop(p);
 *	softee_poller_destroy(p);
 *
 * Threads: one data thread runs everything that touches the rings and the
 * transport, run to completion (rings, transport poll, device
 * configuration, timers), spinning while there is work and backing off
 * with short sleeps when idle.  A control thread serves the control socket
 * (cfg.ctl_path).  The read-mostly tables (devices, regions, the guest
 * memory map) are published with liburcu (memb flavour) and read on the
 * data path without locks; the functions below that change or read them
 * may be called from any thread.
 *
 * Naming (STYLE.md 20): functions return 0 or -errno and print nothing,
 * unless cfg.log says otherwise.
 */
#ifndef _SOFTEE_POLLER_H
#define _SOFTEE_POLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <softee.h>
#include <softee/devcfg.h>
#include <softee/netdev.h>
#include <softee/tlp.h>
#include <softee/transport.h>
#include <softee/wait.h>

struct softee_poller;
struct softee_poller_exit;

#define SOFTEE_POLLER_MAX_DEVS		16	/* devices per poller */
#define SOFTEE_POLLER_SCAN_DEVS		8	/* functions probed per box */
#define SOFTEE_POLLER_CPL_TIMEOUT_NS	50000000ULL	/* 50 ms, as the module's */
#define SOFTEE_POLLER_DEF_BUS		1	/* bus of the box's devices */
#define SOFTEE_POLLER_DEF_IO_BASE	0xc000	/* I/O BAR window */
#define SOFTEE_POLLER_DEF_IO_LEN	0x3000
#define SOFTEE_POLLER_DEF_MPS		256	/* max payload: PCIe's common MPS */

/* Zeroes pick the defaults. */
struct softee_poller_cfg {
	struct softee_netdev *nd;	/* the link; the caller closes it after destroy */
	uint16_t group;			/* our group: the box of this group is ours */
	const char *name;		/* in heartbeats */
	uint32_t node_id;
	uint64_t hb_period_ns;		/* transport defaults otherwise */
	uint32_t hb_miss;
	struct softee_gbn_cfg gbn;	/* gbn.max_retries 0: 8 */
	struct softee_ratectl_cfg rate;
	uint64_t seed;			/* the transport's (0: random) */
	uint16_t ethertype;		/* the frames' (0: 0x88B5); the box's must match */

	/* Device configuration */
	uint64_t mmio_base, mmio_len;	/* memory BARs go here (0xc0000000:0x10000000) */
	uint64_t io_base, io_len;	/* I/O BARs go here (0xc000:0x3000) */
	uint8_t bus;			/* config target bus of the box's devices (1) */
	uint8_t scan_devs;		/* functions 0..scan_devs-1 of device 0 probed (8, at most 32) */
	uint8_t msi_vector;		/* first vector handed out (0x40) */
	uint8_t msi_dest;		/* destination APIC ID (0) */
	uint64_t cfg_retry_ns;		/* a failed configuration is tried again after (1 s) */
	/*
	 * Slot mode, for an unmodified VMM and guest (softee.ko only): the
	 * guest's firmware and OS configure the device themselves.  The
	 * poller only finds it, sizes its BARs and leaves them unassigned;
	 * the module traps the guest's config cycles for slot_bdf
	 * (SOFTEE_CFG_BDF; CF8/CFC, and the ECAM page if ecam_base) and the
	 * poller forwards them as CfgRd0/CfgWr0, following the BARs and the
	 * command register the guest writes to trap what it enables.  The
	 * first device of the box is the one the guest sees.
	 */
	bool slot;
	uint16_t slot_bdf;
	uint64_t ecam_base;		/* the guest's ECAM window (bus 0), 0: CF8/CFC only */

	/* Data path */
	uint64_t cpl_timeout_ns;	/* a request without completion fails after (50 ms) */
	uint32_t max_payload;		/* MWr and CplD payload (0: 256, or less if a frame holds less) */
	uint32_t rcb;			/* read completion boundary (64) */
	uint32_t merge_max;		/* posted writes merge into one MWr up to this many bytes (0: max_payload; 1: no merging) */
	int vm_fd;			/* KVM_SIGNAL_MSI here (-1 or 0: MSIs counted, not delivered) */
	struct softee_wait idle;	/* how the data thread waits when idle (sleep, 200 us cap) */
	/*
	 * The exit path: may a vCPU run the data loop itself while its read
	 * is out (run to completion)?  0: on a poll-mode link, not on one
	 * whose receive blocks in the kernel (nd->blocking_rx: the socket
	 * backend); 1: always; -1: never.  On a poll-mode link it takes
	 * the hand-off to the data thread off every read's round trip; on the
	 * socket backend it was measured to halve DMA throughput.
	 */
	int vcpu_polls;
	int cpu;			/* pin the data thread (-1 or 0: do not; give cpu+1) */

	const char *ctl_path;		/* control socket (NULL: none) */
	FILE *log;			/* one line per event (NULL: stderr; set quiet) */
	bool quiet;			/* no log lines */
};

/* -EINVAL (what is wrong is logged), -ENOMEM, or the transport's error. */
int softee_poller_create(struct softee_poller **p, const struct softee_poller_cfg *cfg);
void softee_poller_destroy(struct softee_poller *p);

/*
 * Guest RAM the device may DMA to: [gpa, gpa + len) is at hva in this
 * process (the VMM's shared memory).  Any thread, any time.  0, or as
 * softee_memmap_add (softee/dma.h).
 */
int softee_poller_add_ram(struct softee_poller *p, uint64_t gpa, uint64_t len, void *hva);
int softee_poller_del_ram(struct softee_poller *p, uint64_t gpa);

/*
 * Trap the guest's accesses to the device's BARs through softee.ko: attach
 * to vm_fd with nr_rings rings (one per vCPU) of ring_entries (0: default)
 * and the module's read timeout (0: default).  Before _start.  The BARs
 * become module regions as devices are configured.  0, or as
 * softee_session_open (softee/kmod.h).
 */
int softee_poller_attach_kmod(struct softee_poller *p, int vm_fd, uint32_t nr_rings,
			      uint32_t ring_entries, uint32_t timeout_us);

/*
 * The exit path, where the module cannot load: user-space rings laid out
 * as the module's, one per vCPU, and a region table that the VMM's exit
 * handler consults.  Before _start.  *x is valid until destroy.
 */
int softee_poller_attach_exit(struct softee_poller *p, uint32_t nr_vcpus,
			      uint32_t ring_entries, uint32_t timeout_us,
			      struct softee_poller_exit **x);

/*
 * Called by the VMM's vCPU thread for a KVM_EXIT_MMIO or KVM_EXIT_IO
 * (bus SOFTEE_BUS_*): if the access falls wholly inside a device region it
 * goes through vcpu's ring exactly as the module would send it (a write is
 * posted; a read waits, bounded, for its completion and gets all ones on a
 * timeout or error) and 0 is returned, data filled for a read (len bytes,
 * little endian).  -ENOENT: not a device's; the VMM handles it.
 */
int softee_poller_exit_access(struct softee_poller_exit *x, uint32_t vcpu, uint8_t bus,
			      bool is_write, uint64_t addr, uint8_t len, uint8_t *data);
/* The exit path's counters for one vCPU's ring (the module's semantics). */
int softee_poller_exit_counters(struct softee_poller_exit *x, uint32_t vcpu,
				struct softee_counters *c);

/*
 * The data thread: _start runs it in a new thread, _run in the caller's
 * until _stop (from another thread or a signal handler: it only sets a
 * flag and, for _start, joins).
 */
int softee_poller_start(struct softee_poller *p);
int softee_poller_run(struct softee_poller *p);
void softee_poller_stop(struct softee_poller *p);

/* ---- what the poller found and did ---------------------------------------- */

enum softee_poller_dev_state {
	SOFTEE_PDEV_FREE = 0,
	SOFTEE_PDEV_PROBING,		/* reading its header, sizing BARs */
	SOFTEE_PDEV_CONFIGURING,	/* writing BARs, MSI, command */
	SOFTEE_PDEV_READY,		/* in use */
	SOFTEE_PDEV_DOWN,		/* its box is lost: accesses fail fast */
	SOFTEE_PDEV_FAILED,		/* configuration failed: tried again later */
};

/* Counters of one device; the session's (transport) counters beside them. */
struct softee_poller_counters {
	uint64_t mmio_reads, mmio_writes;	/* guest accesses taken from the rings */
	uint64_t mmio_read_bytes, mmio_write_bytes;
	uint64_t mwr_tlps;			/* MWr sent (after merging) */
	uint64_t mwr_merged;			/* writes that joined a previous MWr */
	uint64_t mrd_tlps;			/* MRd, IORd sent */
	uint64_t cpl_ok;			/* reads completed with data */
	uint64_t cpl_errors;			/* ... with UR, CA or malformed completions */
	uint64_t cpl_timeouts;			/* ... by the completion timeout */
	uint64_t cpl_unexpected;		/* completions for no request (late, unknown tag) */
	uint64_t fail_fast;			/* reads answered all ones at once: device down */
	uint64_t write_drops;			/* posted writes dropped: device down */
	uint64_t bad_access;			/* accesses that fit no BAR, cross 4 KiB... */
	uint64_t read_lat_ns_sum, read_lat_ns_max;	/* trap to completion, cpl_ok reads */
	uint64_t dma_reads, dma_read_bytes;	/* device MRd served, bytes returned */
	uint64_t dma_writes, dma_write_bytes;	/* device MWr into guest memory */
	uint64_t dma_rejected;			/* refused: outside guest memory etc. */
	uint64_t msi;				/* MSIs injected */
	uint64_t msi_blocked;			/* KVM_SIGNAL_MSI said the guest blocked it */
	uint64_t msi_errors;			/* no VM fd, or the ioctl failed */
	uint64_t configured;			/* times configured */
	uint64_t downs;				/* times its box was lost */
	uint64_t cfg_reads, cfg_writes;		/* slot mode: the guest's config accesses forwarded */
	uint64_t bar_syncs;			/* slot mode: the guest moved or enabled its BARs */
};

/* The session with the device's box (a snapshot the data thread takes every 10 ms). */
struct softee_poller_session {
	bool up;
	uint8_t mac[SOFTEE_ETH_ALEN];
	char name[SOFTEE_HB_NAME_LEN + 1];
	uint32_t node_id;
	uint64_t tx_tlps, rx_tlps, tx_frames, rx_frames;
	uint64_t retrans, timeouts, tlps_dropped;
	uint64_t rate_Bps, srtt_ns, min_rtt_ns;
	uint64_t rate_max_Bps;		/* the rate control's ceiling */
	uint64_t rate_cuts;		/* decisions to cut the rate, timeouts included */
	uint64_t rate_app_limited;	/* delay over target or a timeout, rate kept: the
					 * sender was not limited */
	struct softee_ratectl_cfg rate_cfg;	/* its settings, defaults filled in */
	struct softee_ratectl_stats rate_stats;	/* and all its counts */
};

#define SOFTEE_POLLER_MAX_MSI	32

struct softee_poller_dev_info {
	uint32_t idx;			/* the poller's device index */
	uint32_t state;			/* enum softee_poller_dev_state */
	uint16_t bdf;			/* SOFTEE_BDF() on the box */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys;
	uint32_t class_rev;		/* class << 8 | revision */
	struct softee_bar bar[SOFTEE_PCI_NR_BARS];
	uint32_t region[SOFTEE_PCI_NR_BARS];	/* trap region id, UINT32_MAX: none */
	uint8_t msi_kind;		/* 0 none, SOFTEE_PCI_CAP_MSI, SOFTEE_PCI_CAP_MSIX */
	uint8_t nr_msi;			/* vectors programmed */
	uint64_t msi_addr;
	uint32_t msi_data[SOFTEE_POLLER_MAX_MSI];	/* vector i's data */
	uint8_t cfg[SOFTEE_PCI_CFG_SIZE];	/* as read at the last configuration */
	struct softee_poller_counters c;
	struct softee_poller_session s;
};

/* Devices known (any state): how many; info for index idx (-ENOENT). */
unsigned int softee_poller_nr_devs(struct softee_poller *p);
int softee_poller_dev_info(struct softee_poller *p, unsigned int idx,
			   struct softee_poller_dev_info *info);

/*
 * Wait (sleeping, from another thread) until at least n devices are READY:
 * 0, or -ETIMEDOUT after timeout_ns.
 */
int softee_poller_wait_ready(struct softee_poller *p, unsigned int n, uint64_t timeout_ns);

/* Counters the poller keeps for itself (not per device). */
struct softee_poller_stats {
	uint64_t loops, idle_sleeps;
	uint64_t help_yields;			/* passes left to a vCPU waiting for them */
	uint64_t vcpu_kicks;			/* passes a vCPU ran after a posted write */
	uint64_t ring_entries;			/* entries taken from the rings */
	uint64_t ring_errors;			/* rings found broken or dead */
	uint64_t no_region;			/* entries of no known region */
	uint64_t rx_tlps, rx_bad_tlps;		/* TLPs from boxes, refused ones */
	uint64_t rx_tlp_err[SOFTEE_TLP_ERR_MAX];	/* the refused by reason ([0] unused;
						 * softee_tlp_err_name) */
	uint64_t rx_unexpected;			/* requests of kinds we do not serve, MSIs
						 * from no device of ours */
	uint64_t boxes_up, boxes_down;
	uint64_t dma_rejected;			/* device requests refused (also per device) */
	uint64_t log_suppressed;		/* log lines the rate limit ate */
	uint64_t flush_errors;			/* link errors of mid-pass flushes (DMA) */
	int64_t lcore;				/* the DPDK lcore id the loop's thread
						 * took (softee_lcore_enter); -1: none */
};
void softee_poller_get_stats(struct softee_poller *p, struct softee_poller_stats *st);

const char *softee_poller_dev_state_name(enum softee_poller_dev_state s);

/*
 * The control socket's answer to one command line (Documentation/poller.rst,
 * "The control socket") into buf: the length written (NUL-terminated,
 * truncated at cap), -EINVAL for an unknown command.  The socket thread uses
 * it; tests call it directly.
 */
int softee_poller_ctl_command(struct softee_poller *p, const char *line, char *buf, size_t cap);

#endif /* _SOFTEE_POLLER_H */
