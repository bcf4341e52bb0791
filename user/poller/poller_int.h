/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softee-poller's insides, shared by its files (one file per idea):
 *
 *   poller.c	the object, the data thread's loop, timers, snapshots
 *   bridge.c	ring entries -> MWr/MRd/IORd/IOWr, completions -> ring slots
 *   tags.c	the outstanding non-posted requests of each box, by tag
 *   devcfg.c	finding, sizing, placing and enabling the box's devices
 *   dma.c	the device's MRd/MWr into guest memory (checks in memmap.c)
 *   msi.c	the device's MWr to the MSI window -> KVM_SIGNAL_MSI
 *   trap.c	the two trap fronts: softee.ko and the exit path
 *   ctl.c	the control socket
 *
 * Ownership: everything below marked (D) belongs to the data thread and is
 * touched by no other thread.  (L) is under p->lock.  (R) is published
 * with rcu_assign_pointer under p->lock and read in urcu-memb read-side
 * critical sections by the data thread.
 */
#ifndef _POLLER_INT_H
#define _POLLER_INT_H

#include <pthread.h>
#include <stdarg.h>

#include <urcu/urcu-memb.h>

#include <softee.h>
#include <softee/barrier.h>
#include <softee/dma.h>
#include <softee/kmod.h>
#include <softee/msi.h>
#include <softee/poller.h>
#include <softee/ring.h>
#include <softee/tlp.h>

#define POLLER_NAME		"softee-poller"
#define POLLER_MAX_BOXES	8
/* MSIs a pass may take before they are injected (pmsi_flush) */
#define POLLER_MSIQ		32
#define POLLER_NR_TAGS		256
#define POLLER_DMA_QUEUE	512		/* device reads being answered */
#define POLLER_DMA_UR_RESERVE	64		/* ... of which only refused ones use the last */
#define POLLER_DMA_FLUSH	16		/* CplDs between transport flushes */
#define POLLER_TIMER_NS		1000000ULL	/* timer work every 1 ms */
#define POLLER_SNAP_NS		10000000ULL	/* snapshots for readers every 10 ms */
#define POLLER_LOG_BURST	10		/* rate-limited lines per second */
#define POLLER_REQUESTER	SOFTEE_BDF(0, 0, 0)	/* the host bridge's ID */

/* One counter increment by its only writer, readable by others at any time. */
#define PCNT(x, n)	softee_write_once(&(x), (x) + (n))

/* ---- tags: non-posted requests in flight to one box ----------------------- */

enum ptag_kind {
	PTAG_FREE = 0,
	PTAG_RING,		/* a guest read: complete ring entry (ring, seq) */
	PTAG_CFG,		/* a configuration request of devcfg.c */
	PTAG_IOWR,		/* a guest's port write (non-posted): nobody waits */
	PTAG_CFGWR,		/* slot mode: a guest's config write: nobody waits */
};

/* pdevcfg_on_cpl's status when no completion came (beside SOFTEE_TLP_CPL_*). */
#define PCFG_ST_TIMEOUT		0xff
#define PCFG_ST_LOST		0xfe

struct ptag {
	uint8_t kind;		/* enum ptag_kind */
	uint8_t len;		/* PTAG_RING: bytes the guest wants */
	uint8_t got;		/* ... bytes received so far */
	uint8_t write;		/* PTAG_CFG: a CfgWr0 */
	uint8_t io;		/* PTAG_RING: an IORd (data at addr & 3 of the DW) */
	uint32_t dev;		/* the poller's device index */
	uint32_t ring;		/* PTAG_RING */
	uint32_t seq;
	uint32_t cookie;	/* PTAG_CFG: devcfg's */
	uint64_t addr;		/* PTAG_RING: first byte */
	uint64_t t0_ns;		/* PTAG_RING: the trap */
	uint64_t deadline_ns;
	uint8_t buf[8];
};

/* ---- boxes and devices ----------------------------------------------------- */

/* A configuration step waiting for a tag (and the transport), in order. */
enum pcfgq_kind {
	PCFGQ_READ = 1,		/* CfgRd0 */
	PCFGQ_WRITE,		/* CfgWr0 */
	PCFGQ_MWR,		/* a posted DW write into a BAR (MSI-X table) */
};

struct pcfgq {
	uint8_t kind;		/* enum pcfgq_kind */
	uint8_t len;		/* 1, 2, 4 bytes at off */
	uint16_t bdf;
	uint16_t off;		/* config offset */
	uint32_t dev;		/* device index, or device number while scanning */
	uint32_t val;
	uint32_t cookie;	/* what the answer is for (devcfg.c) */
	uint64_t addr;		/* PCFGQ_MWR */
};

#define POLLER_CFGQ		1024

enum pbox_phase {
	PBOX_IDLE = 0,		/* down, or waiting for a retry */
	PBOX_SCAN,		/* CfgRd0 of every device number */
	PBOX_HEADER,		/* the found devices' headers */
	PBOX_SIZE,		/* BAR sizing */
	PBOX_PROGRAM,		/* BARs, MSI, command */
	PBOX_DONE,
};

struct pbox {				/* (D) unless said */
	bool used;
	bool up;
	struct softee_peer *peer;
	uint8_t mac[SOFTEE_ETH_ALEN];
	enum pbox_phase phase;
	bool phase_done;		/* every request of the phase completed */
	bool phase_failed;
	uint32_t outstanding;		/* queued and in flight */
	struct pcfgq cfgq[POLLER_CFGQ];	/* FIFO */
	uint32_t cfgq_head, cfgq_tail;
	uint64_t retry_at_ns;
	uint32_t found;			/* scan: functions (devfn) that answered */
	int dev_of[32];			/* devfn -> device index, -1 */
	struct ptag tags[POLLER_NR_TAGS];
	uint32_t tags_busy;
	uint8_t next_tag;
	struct softee_poller_session snap;	/* (L) */
};

struct pdev {
	bool used;			/* (L) set once */
	uint32_t idx;
	uint32_t box;			/* index in p->boxes */
	uint16_t bdf;
	/* (D) */
	enum softee_poller_dev_state state;
	uint8_t cfg[SOFTEE_PCI_CFG_SIZE];
	uint32_t sizing[SOFTEE_PCI_NR_BARS];	/* BARs read back after all ones */
	struct softee_bar bar[SOFTEE_PCI_NR_BARS];
	bool placed;			/* bar[].addr assigned once: kept across returns */
	uint32_t region[SOFTEE_PCI_NR_BARS];	/* trap region id, UINT32_MAX */
	uint8_t msi_kind, nr_msi;
	uint8_t msi_vec_base;		/* handed out once, kept */
	bool has_vec;
	uint64_t msi_addr;
	uint32_t msi_data[SOFTEE_POLLER_MAX_MSI];
	/* slot mode: the guest configures the device (devcfg.c, "slot mode") */
	struct softee_bar hw[SOFTEE_PCI_NR_BARS];	/* (D) sizes and types the poller found */
	bool cfg_trapped;			/* (D) its slot is a module config trap */
	uint32_t cfg_id;			/* (D) ... with this id */
	uint32_t track_left;			/* (D) read-backs of command and BARs to come */
	/* (D) slot mode: the BARs last asked to be trapped (slot_decode) */
	struct softee_bar slot_req[SOFTEE_PCI_NR_BARS];
	struct softee_poller_counters c;	/* (D) written, others read relaxed */
	struct softee_poller_dev_info pub;	/* (L) what readers get */
	uint64_t log_ts;			/* rate limit of its log lines */
	uint32_t log_n;
};

/* ---- regions: trap region id -> device BAR (R) ---------------------------- */

struct pregion {
	bool used;
	uint8_t bus;		/* SOFTEE_BUS_* */
	uint8_t bar;
	uint32_t dev;
	uint64_t base, len;
};

struct pregion_map {
	struct pregion r[SOFTEE_MAX_REGIONS];	/* indexed by region id */
};

/* The devices (R): appended, never removed while the poller lives. */
struct pdev_table {
	uint32_t nr;
	struct pdev *d[SOFTEE_POLLER_MAX_DEVS];
};

/* ---- the trap fronts -------------------------------------------------------- */

struct ptrap_ops {
	const char *name;
	int (*region_add)(struct softee_poller *p, uint8_t bus, uint64_t base, uint64_t len,
			  uint32_t *id);
	int (*region_del)(struct softee_poller *p, uint32_t id);
	/* slot mode: trap the config space of bdf (-EOPNOTSUPP: not on this front) */
	int (*cfg_add)(struct softee_poller *p, uint16_t bdf, uint64_t ecam_base, uint32_t *id);
	void (*close)(struct softee_poller *p);
};

/* Per ring (D). */
struct pring {
	bool waiting;		/* a read at cons_head is in flight */
	bool broken;
	uint8_t tag;
	uint32_t box;
} __attribute__((aligned(64)));

/* ---- the poller ------------------------------------------------------------ */

struct softee_poller {
	struct softee_poller_cfg cfg;	/* defaults filled in */
	struct softee_transport *t;
	FILE *log;

	/* trap (set before start) */
	const struct ptrap_ops *trap;
	struct softee_session sess;
	struct softee_poller_exit *exit;
	struct softee_ring *rings;
	uint32_t nr_rings;
	struct pring *rs;

	/* tables */
	pthread_mutex_t lock;
	/*
	 * Serialises ptrap_region_sync, whose softee.ko ioctls wait for every
	 * vCPU in a trap callback (KVM's SRCU): never p->lock, which the data
	 * thread takes, and the read such a vCPU waits for needs the data
	 * thread.
	 */
	pthread_mutex_t region_mu;
	struct softee_memmap *memmap;		/* (R) */
	struct pregion_map *regions;		/* (R) */
	struct pdev_table *devs;		/* (R) */
	struct pdev dev[SOFTEE_POLLER_MAX_DEVS];
	struct pbox box[POLLER_MAX_BOXES];	/* (D) */
	uint64_t mmio_next, io_next;		/* (D) window allocators */
	uint32_t next_vector;			/* (D) MSI vectors handed out */
	uint32_t max_payload;

	/* device reads being answered (D): a FIFO */
	struct softee_dma_read *dmaq;
	uint32_t dmaq_head, dmaq_tail;

	/*
	 * One pass of the data loop at a time: the data thread's, or a vCPU's
	 * that runs it while its read is out (the exit path: ppoller_help).
	 * Everything marked (D) is touched under it.
	 */
	pthread_mutex_t iter_mu;
	/*
	 * vCPUs blocked for iter_mu (atomic): while not zero the data thread
	 * does not take it again after a pass, so that a vCPU on its core
	 * gets it at once instead of sleeping and trying again.
	 */
	int help_want;
	/*
	 * The CPU the data thread's last pass ran on (atomic, relaxed): a
	 * vCPU thread on that CPU knows the data thread is not running now
	 * (ppoller_kick).
	 */
	int data_cpu;

	/* the data thread */
	pthread_t thread;
	bool have_thread;
	int stop;				/* atomic */
	bool running;				/* atomic-ish: in the loop */
	uint64_t now;				/* (D) this loop's time */
	/*
	 * MSIs that passes took, injected once the pass is over (pmsi_flush),
	 * or before any read it completes: an injection wakes the vCPU, which
	 * on a shared core preempts the injector, and its next access must
	 * not find the passes held by a preempted thread.  (M): under msi_mu;
	 * msiq_n is also read without it (pmsi_flush).
	 */
	pthread_mutex_t msi_mu;
	struct pmsi {
		struct pdev *d;			/* p->dev[]: lives as long as p */
		uint64_t addr;
		uint32_t data;
	} msiq[POLLER_MSIQ];			/* (M) */
	uint32_t msiq_n;			/* (M) */
	uint64_t msi_log_ts;			/* (M) rate limit of injection errors */
	uint32_t msi_log_n;			/* (M) */
	uint64_t next_timer_ns, next_snap_ns;
	struct softee_poller_stats st;		/* (D) written, others read relaxed */
	uint64_t log_ts;
	uint32_t log_n;
	pthread_cond_t ready_cv;		/* (L) a device became ready */

	/*
	 * slot mode: module config trap id -> device (D); and the BAR regions
	 * the guest enabled, trapped by a thread of their own (REGION_ADD
	 * waits for the VM's SRCU readers, and a vCPU waiting for one of our
	 * completions is one: the data thread must go on meanwhile).
	 */
	int32_t cfg_dev[SOFTEE_MAX_CFG];
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	uint32_t sync_pending;			/* (sync_mu) devices to sync, by bit */
	struct softee_bar sync_bar[SOFTEE_POLLER_MAX_DEVS][SOFTEE_PCI_NR_BARS];	/* (sync_mu) */
	pthread_t sync_thread;
	bool have_sync, sync_stop;

	/* the control socket */
	int ctl_fd;
	pthread_t ctl_thread;
	bool have_ctl;
	int pctl_stop;
};

/* poller.c */
int ppoller_help(void *p);
void ppoller_kick(struct softee_poller *p);
void ppoller_help_done(void *p);
__attribute__((format(printf, 2, 3)))
void plog(struct softee_poller *p, const char *fmt, ...);
/* At most POLLER_LOG_BURST lines a second per (ts, n) pair. */
__attribute__((format(printf, 4, 5)))
void plog_rl(struct softee_poller *p, uint64_t *ts, uint32_t *n, const char *fmt, ...);
int poller_send(struct softee_poller *p, struct pbox *b, const struct softee_tlp *t);
void poller_publish_dev(struct softee_poller *p, struct pdev *d);
int poller_publish_regions(struct softee_poller *p, const struct pregion_map *m);
struct pdev *poller_dev_get(struct softee_poller *p, uint32_t box, uint16_t bdf);

/* tags.c */
int ptag_alloc(struct pbox *b, uint64_t deadline_ns);
void ptag_free(struct pbox *b, uint8_t tag);
void ptag_expire(struct softee_poller *p, struct pbox *b, uint64_t now);
void ptag_fail_all(struct softee_poller *p, struct pbox *b);

/* bridge.c */
int pbridge_poll(struct softee_poller *p);
void pbridge_on_cpl(struct softee_poller *p, struct pbox *b, const struct softee_tlp *t);
/* Complete a PTAG_RING tag's read with status (0 = data in tag->buf) and free the tag. */
void pbridge_finish(struct softee_poller *p, struct pbox *b, uint8_t tag, uint32_t status);

/* devcfg.c */
void pdevcfg_box_up(struct softee_poller *p, struct pbox *b);
void pdevcfg_box_down(struct softee_poller *p, struct pbox *b);
void pdevcfg_on_cpl(struct softee_poller *p, struct pbox *b, struct ptag *tg,
		   uint8_t status, uint32_t value);
/* Phase transitions, retries: from the loop, outside the RCU read side. */
void pdevcfg_work(struct softee_poller *p);
/* slot mode: read the command register and BARs back, then trap what they enable */
void pdevcfg_track(struct softee_poller *p, struct pbox *b, struct pdev *d);

/* dma.c */
void pdma_on_request(struct softee_poller *p, struct pbox *b, const struct softee_tlp *t);
int pdma_service(struct softee_poller *p);
void pdma_drop_box(struct softee_poller *p, uint32_t box);

/* msi.c */
void pmsi_deliver(struct softee_poller *p, struct pdev *d, const struct softee_tlp *t);
int pmsi_flush(struct softee_poller *p);
void pmsi_flush_try(struct softee_poller *p);

/* trap.c */
int ptrap_region_sync(struct softee_poller *p, struct pdev *d);
/* slot mode: trap these BARs of d, from the sync thread (the data thread goes on) */
void ptrap_sync_request(struct softee_poller *p, struct pdev *d, const struct softee_bar *bars);
void ptrap_sync_stop(struct softee_poller *p);
void ptrap_close(struct softee_poller *p);

/* ctl.c */
int pctl_start(struct softee_poller *p);
void pctl_stop(struct softee_poller *p);

static inline uint32_t box_idx(const struct softee_poller *p, const struct pbox *b)
{
	return (uint32_t)(b - p->box);
}

#endif /* _POLLER_INT_H */
