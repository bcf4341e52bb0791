/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Emulated PCIe endpoints in the I/O box (softee-box): the ops table a model
 * implements, and the box API a model uses to reach its host.  The box
 * object itself (create, poll, groups, control) is softee/box.h.
 *
 * A model embeds a struct softee_endpoint in its own state, fills in ops,
 * name, bar[] and cfg, and hands it to softee_box_add_endpoint().  The box
 * then turns the host's TLPs into ops calls:
 *
 *	CfgRd0 / CfgWr0		cfg_read / cfg_write (DW reads; writes split
 *				into naturally aligned 1-, 2- or 4-byte pieces
 *				by byte enables)
 *	MRd to a BAR		mem_read, then CplD, split at the read
 *				completion boundary and max payload size
 *	MWr to a BAR		mem_write, per run of enabled bytes
 *
 * The box decodes BAR addresses itself: after every CfgWr0 it reads the
 * command register and the six BAR registers back through cfg_read, and
 * claims an MRd/MWr only if memory space is enabled and the whole request
 * falls inside one BAR of bar[] (size and type as declared here).  The
 * model never sees an access outside its BARs, or any access while memory
 * space is disabled.
 *
 * The model reaches the host with softee_box_dma_read(), _dma_write() and
 * _msi(): they become MRd and MWr TLPs from the endpoint's requester ID to
 * the host that configured it (the peer of the last CfgWr0).  They fail
 * with -EPERM while the command register's Bus Master Enable is clear, and
 * with -ENOTCONN while the endpoint has no host.
 *
 * Every op and callback runs on the box's thread, inside softee_box_poll().
 * None is called re-entrantly: a DMA callback never runs inside the
 * softee_box_dma_read() call that started the transfer.
 *
 * When the endpoint's host goes away (its session ends, the box changes
 * group) the box cancels the endpoint's DMA and calls reset: the next
 * host finds a device in its power-on state and configures it again.
 */
#ifndef _SOFTEE_ENDPOINT_H
#define _SOFTEE_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct softee_box;
struct softee_endpoint;

#define SOFTEE_EP_BARS		6
#define SOFTEE_EP_MAX		8	/* endpoints per box: functions 0..7 */
#define SOFTEE_EP_CFG_SIZE	4096	/* config space, conventional 256 + extended */

/* struct softee_ep_bar.flags */
#define SOFTEE_BAR_MEM64	0x1	/* a 64-bit BAR: uses this slot and the next */
#define SOFTEE_BAR_PREFETCH	0x2

/* A memory BAR the model decodes (I/O BARs are not supported: IORd/IOWr get UR). */
struct softee_ep_bar {
	uint64_t size;		/* bytes, a power of two >= 16; 0: no BAR in this slot */
	uint32_t flags;		/* SOFTEE_BAR_* */
};

/* Settings of an endpoint; zeroes pick the defaults. */
struct softee_ep_cfg {
	/*
	 * Completer and requester ID before the host's first CfgWr0; the box
	 * then captures bus and device numbers from each CfgWr0, as a PCIe
	 * function does (PCIe 3.0, 2.2.6.2).  0: SOFTEE_BDF(1, 0, function).
	 */
	uint16_t bdf;
	uint32_t max_payload;	/* MPS in bytes, 128..4096, a power of two (256) */
	uint32_t max_read_req;	/* MRRS in bytes, 128..4096, a power of two (512) */
};

#define SOFTEE_EP_DEF_MPS	256
#define SOFTEE_EP_DEF_MRRS	512

/*
 * Return values: 0, or -errno.  A read that fails is answered with a
 * completion of status UR if it returned -ENXIO, CA (completer abort)
 * otherwise; a failed write is counted.  Lengths: cfg 1, 2 or 4 bytes,
 * naturally aligned, off < SOFTEE_EP_CFG_SIZE; mem 1..4096 bytes inside
 * the BAR (any alignment).
 */
struct softee_endpoint_ops {
	int (*cfg_read)(struct softee_endpoint *ep, uint32_t off, uint32_t len, uint32_t *val);
	int (*cfg_write)(struct softee_endpoint *ep, uint32_t off, uint32_t len, uint32_t val);
	int (*mem_read)(struct softee_endpoint *ep, unsigned int bar, uint64_t off, uint32_t len,
			void *buf);
	int (*mem_write)(struct softee_endpoint *ep, unsigned int bar, uint64_t off, uint32_t len,
			 const void *buf);
	/*
	 * Optional: called every box poll.  Returns true while the model has
	 * work that needs polling soon (the daemon then does not block).
	 */
	bool (*poll)(struct softee_endpoint *ep, uint64_t now_ns);
	/* Back to the power-on state (config space included).  The box cancelled its DMA. */
	void (*reset)(struct softee_endpoint *ep);
	/* Free the model (the box cancelled its DMA). */
	void (*destroy)(struct softee_endpoint *ep);
	/* Optional: one line about the model's state for `status` (plain text, no newline). */
	int (*describe)(struct softee_endpoint *ep, char *buf, size_t len);
};

/* Counters the box keeps per endpoint. */
struct softee_ep_stats {
	uint64_t cfg_reads, cfg_writes;
	uint64_t mem_reads, mem_writes;		/* MRd and MWr the endpoint claimed */
	uint64_t mem_read_bytes, mem_write_bytes;
	uint64_t op_errors;			/* ops that returned an error */
	uint64_t dma_reads, dma_read_bytes, dma_read_errors;
	uint64_t dma_writes, dma_write_bytes;
	uint64_t dma_refused;			/* -EPERM (bus master off), -ENOTCONN (no host) */
	uint64_t msis;
	uint64_t resets;			/* host lost: cancelled and reset */
};

struct softee_endpoint {
	/* Filled in by the model */
	const struct softee_endpoint_ops *ops;
	const char *model;			/* "test", "nvme" */
	struct softee_ep_bar bar[SOFTEE_EP_BARS];
	struct softee_ep_cfg cfg;
	void *priv;				/* the model's */

	/* Written by the box, read-only for the model */
	struct softee_box *box;
	unsigned int fn;			/* function number in the box */
	uint16_t bdf;				/* requester and completer ID */
	uint16_t command;			/* last command register read back */
	uint64_t bar_base[SOFTEE_EP_BARS];	/* as the host programmed them */
	uint32_t max_payload, max_read_req;	/* in effect (cfg, bounded by the frame size) */
	struct softee_ep_stats stats;
};

/* PCI config header offsets and bits the box and the models use. */
#define SOFTEE_PCI_VENDOR_ID		0x00
#define SOFTEE_PCI_DEVICE_ID		0x02
#define SOFTEE_PCI_COMMAND		0x04
#define  SOFTEE_PCI_COMMAND_MEMORY	0x0002
#define  SOFTEE_PCI_COMMAND_MASTER	0x0004
#define  SOFTEE_PCI_COMMAND_PARITY	0x0040
#define  SOFTEE_PCI_COMMAND_SERR	0x0100
#define  SOFTEE_PCI_COMMAND_INTX_DISABLE 0x0400
#define SOFTEE_PCI_STATUS		0x06
#define  SOFTEE_PCI_STATUS_CAP_LIST	0x0010
#define  SOFTEE_PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define  SOFTEE_PCI_STATUS_REC_TARGET_ABORT 0x1000
#define  SOFTEE_PCI_STATUS_REC_MASTER_ABORT 0x2000
#define  SOFTEE_PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define  SOFTEE_PCI_STATUS_DETECTED_PARITY 0x8000
#define SOFTEE_PCI_REVISION_ID		0x08
#define SOFTEE_PCI_CLASS_PROG		0x09
#define SOFTEE_PCI_CACHE_LINE_SIZE	0x0c
#define SOFTEE_PCI_HEADER_TYPE		0x0e
#define  SOFTEE_PCI_HEADER_TYPE_MFD	0x80
#define SOFTEE_PCI_BAR0			0x10
#define  SOFTEE_PCI_BAR_MEM_TYPE_64	0x04
#define  SOFTEE_PCI_BAR_PREFETCH	0x08
#define SOFTEE_PCI_SUBSYS_VENDOR_ID	0x2c
#define SOFTEE_PCI_SUBSYS_ID		0x2e
#define SOFTEE_PCI_ROM_ADDRESS		0x30
#define SOFTEE_PCI_CAP_PTR		0x34
#define SOFTEE_PCI_INTERRUPT_LINE	0x3c
#define SOFTEE_PCI_INTERRUPT_PIN	0x3d
#define SOFTEE_PCI_CAP_ID_MSI		0x05
#define SOFTEE_PCI_CAP_ID_MSIX		0x11
/* MSI capability, offsets from the capability */
#define SOFTEE_MSI_FLAGS		0x02
#define  SOFTEE_MSI_FLAGS_ENABLE	0x0001
#define  SOFTEE_MSI_FLAGS_QMASK		0x000e	/* Multiple Message Capable */
#define  SOFTEE_MSI_FLAGS_QSIZE		0x0070	/* Multiple Message Enable */
#define  SOFTEE_MSI_FLAGS_64BIT		0x0080
#define  SOFTEE_MSI_FLAGS_MASKBIT	0x0100
#define SOFTEE_MSI_ADDRESS_LO		0x04
#define SOFTEE_MSI_ADDRESS_HI		0x08	/* 64-bit capability */
#define SOFTEE_MSI_DATA_64		0x0c
#define SOFTEE_MSI_MASK_64		0x10
#define SOFTEE_MSI_PENDING_64		0x14
#define SOFTEE_MSI_CAP_SIZE_64_MASK	0x18
/* MSI-X capability, offsets from the capability */
#define SOFTEE_MSIX_FLAGS		0x02
#define  SOFTEE_MSIX_FLAGS_QSIZE	0x07ff	/* table size - 1 */
#define  SOFTEE_MSIX_FLAGS_MASKALL	0x4000
#define  SOFTEE_MSIX_FLAGS_ENABLE	0x8000
#define SOFTEE_MSIX_TABLE		0x04	/* offset | BIR */
#define SOFTEE_MSIX_PBA			0x08
#define SOFTEE_MSIX_CAP_SIZE		0x0c
#define SOFTEE_MSIX_ENTRY_SIZE		16
#define  SOFTEE_MSIX_ENTRY_ADDR_LO	0x0
#define  SOFTEE_MSIX_ENTRY_ADDR_HI	0x4
#define  SOFTEE_MSIX_ENTRY_DATA		0x8
#define  SOFTEE_MSIX_ENTRY_CTRL		0xc
#define   SOFTEE_MSIX_ENTRY_CTRL_MASKBIT 0x1

/* ---- The box API for endpoints -------------------------------------------------- */

/*
 * err: 0, or why the transfer failed:
 *	-EFAULT		the host answered Unsupported Request (an address outside
 *			the guest's memory, for softee-poller)
 *	-EIO		Completer Abort, or CRS
 *	-EBADMSG	a poisoned or malformed completion
 *	-ETIMEDOUT	no completion within the completion timeout
 *	-ENOTCONN	the host went away (session ended) before the end
 *	-ECONNRESET	the host lost our stream (a session reset): requests lost
 */
typedef void (*softee_dma_done_fn)(void *ctx, int err);

/*
 * Read len bytes of host memory at host_addr into buf (the caller's, valid
 * until done runs).  The box sends MRd of at most max_read_req bytes each,
 * aligned to max_read_req (so never across 4 KiB), one tag each, as many
 * at a time as tags are free; it reassembles the completions, split ones
 * included, in any order across requests.  done runs exactly once, later
 * (never inside this call), unless the endpoint is cancelled first.
 * Returns 0, or -EINVAL (len 0, or host_addr + len wraps), -EPERM (bus
 * master disabled), -ENOTCONN (no host), -ENOMEM; done does not run then.
 */
int softee_box_dma_read(struct softee_box *box, struct softee_endpoint *ep, uint64_t host_addr,
			void *buf, uint32_t len, softee_dma_done_fn done, void *ctx);

/*
 * Write len bytes from buf to host memory at host_addr: MWr of at most
 * max_payload bytes, aligned to max_payload (never across 4 KiB).  The box
 * copies buf at once; the writes go out in order behind everything the
 * endpoint sent before, and everything it sends after goes behind them
 * (PCIe ordering: posted writes and completions never pass posted
 * writes).  Returns 0, or -EINVAL, -EPERM, -ENOTCONN, -EAGAIN (the box's
 * backlog to this host is full: try again on a later poll), -ENOMEM.
 */
int softee_box_dma_write(struct softee_box *box, struct softee_endpoint *ep, uint64_t host_addr,
			 const void *buf, uint32_t len);

/*
 * An MSI or MSI-X message: a 4-byte MWr of data (little-endian) to addr,
 * which must be DW aligned; ordered behind the endpoint's DMA writes.
 * Returns 0, or -EINVAL, -EPERM, -ENOTCONN, -EAGAIN, -ENOMEM.
 */
int softee_box_msi(struct softee_box *box, struct softee_endpoint *ep, uint64_t addr,
		   uint32_t data);

/*
 * Drop everything the endpoint has in flight: queued writes and MSIs go,
 * reads in flight complete silently (their done never runs and their
 * buffers are never written again).  The box does this before reset and
 * destroy; a model may do it on a function-level reset of its own.
 */
void softee_box_dma_cancel(struct softee_box *box, struct softee_endpoint *ep);

/* The time of the current poll (what poll got), for models that need one. */
uint64_t softee_box_now(const struct softee_box *box);

/* Log through the box's logger (levels: SOFTEE_LOG_* in softee/box.h). */
void softee_box_log(struct softee_box *box, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- A type-0 config space for models ------------------------------------------- */

/*
 * Config-space bytes with a mask of writable bits and a mask of
 * write-1-to-clear bits, as a real function's header behaves: a BAR takes
 * only the bits its size allows (writing all ones reads back the size
 * mask), read-only fields keep their value, RW1C status bits clear.  A
 * model's cfg_read/cfg_write may simply call softee_pcicfg_read/_write and
 * then look at what changed.
 */
struct softee_pcicfg {
	uint8_t data[256];
	uint8_t wmask[256];
	uint8_t w1cmask[256];
	uint8_t cap_last;	/* offset of the last capability added (0: none) */
	uint8_t cap_free;	/* next free offset for a capability */
};

/* A type-0 header: IDs, class (24 bits: class, subclass, prog-if), no INTx. */
void softee_pcicfg_init(struct softee_pcicfg *c, uint16_t vendor, uint16_t device,
			uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
			uint16_t subsys);
/* The BAR registers for ep->bar[] (sizes and types). */
void softee_pcicfg_set_bars(struct softee_pcicfg *c, const struct softee_ep_bar *bars);
/* Append a capability of len bytes: its offset, or -ENOSPC. */
int softee_pcicfg_add_cap(struct softee_pcicfg *c, uint8_t id, uint8_t len);
/* An MSI capability: 64-bit address, per-vector masking if maskable, one vector. */
int softee_pcicfg_add_msi(struct softee_pcicfg *c, bool maskable);
/* An MSI-X capability: nvec vectors, table and PBA at offsets in BARs. */
int softee_pcicfg_add_msix(struct softee_pcicfg *c, unsigned int nvec, unsigned int table_bar,
			   uint32_t table_off, unsigned int pba_bar, uint32_t pba_off);

/* Reads past the 256 bytes of the header read 0; writes there are ignored. */
uint32_t softee_pcicfg_read(const struct softee_pcicfg *c, uint32_t off, uint32_t len);
void softee_pcicfg_write(struct softee_pcicfg *c, uint32_t off, uint32_t len, uint32_t val);

static inline uint16_t softee_pcicfg_get16(const struct softee_pcicfg *c, uint32_t off)
{
	return (uint16_t)(c->data[off] | c->data[off + 1] << 8);
}

static inline uint32_t softee_pcicfg_get32(const struct softee_pcicfg *c, uint32_t off)
{
	return (uint32_t)c->data[off] | (uint32_t)c->data[off + 1] << 8 |
	       (uint32_t)c->data[off + 2] << 16 | (uint32_t)c->data[off + 3] << 24;
}

/* Set bits of a field regardless of its masks (a model's own status bits). */
void softee_pcicfg_set16(struct softee_pcicfg *c, uint32_t off, uint16_t val);
void softee_pcicfg_set32(struct softee_pcicfg *c, uint32_t off, uint32_t val);

/* The MSI capability's state (at cap): enabled, address, data, mask bit of vector 0. */
struct softee_msi_state {
	bool enabled;
	bool masked;
	uint64_t addr;
	uint32_t data;
};
void softee_pcicfg_msi(const struct softee_pcicfg *c, int cap, struct softee_msi_state *s);
/* Set or clear the pending bit of vector 0. */
void softee_pcicfg_msi_pending(struct softee_pcicfg *c, int cap, bool pending);

/* ---- Models, by name -------------------------------------------------------------- */

/*
 * Make an endpoint from a spec "MODEL[,key=value]...".  Keys every model
 * takes: bdf=BB:DD.F, mps=BYTES, mrrs=BYTES.  Models:
 *	test	the test endpoint (softee/testdev.h); devmem=BYTES (device
 *		memory, 4 KiB..64 MiB; BAR2 is the next power of two)
 *	nvme	an NVMe controller (Documentation/nvme.rst): file=PATH
 *		(required), size=BYTES, lbasize=512|4096, queues=N, create
 * 0, or -errno and a message in err.  With ep NULL, only check the spec
 * (a command line, before anything is opened): nothing is created.
 */
int softee_endpoint_create(const char *spec, struct softee_endpoint **ep, char *err,
			   size_t errlen);

/* The test endpoint; devmem 0: SOFTEE_TESTDEV_MEM_SIZE. */
int softee_testdev_create(struct softee_endpoint **ep, const struct softee_ep_cfg *cfg,
			  uint32_t devmem);

/* The NVMe controller's backing store and shape (zeroes pick the defaults). */
struct softee_nvme_cfg {
	const char *file;	/* a regular file or a block device */
	uint64_t size;		/* namespace bytes, a multiple of lba_size (0: the file's size) */
	uint32_t lba_size;	/* 512 or 4096 (512) */
	unsigned int queues;	/* I/O queue pairs, 1..64 (4); MSI-X vectors: queues + 1 */
	bool create;		/* create the file, or extend it to size */
};

/* The NVMe controller: 0, or -errno and a message in err. */
int softee_nvme_create(struct softee_endpoint **ep, const struct softee_ep_cfg *cfg,
		       const struct softee_nvme_cfg *ncfg, char *err, size_t errlen);

/*
 * CRC-32 as IEEE 802.3 and zlib compute it (continuable: crc = 0 to start);
 * folded with carry-less multiplies where the CPU has them (user/box/crc32.c).
 * _tables: the same from tables alone, for tests and comparisons.
 */
uint32_t softee_crc32(uint32_t crc, const void *p, size_t len);
uint32_t softee_crc32_tables(uint32_t crc, const void *p, size_t len);

#endif /* _SOFTEE_ENDPOINT_H */
