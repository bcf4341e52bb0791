/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCIe transaction-layer packets, as the PCI Express Base Specification
 * (rev. 3.0, section 2.2) lays them out: a header of 3 or 4 big-endian DWs,
 * then the data payload (Length DWs) for the formats that carry data, then
 * the TLP digest (one DW of ECRC) when TD is set.  No TLP prefixes.
 *
 * DW0, every TLP:
 *
 *	  +0              +1              +2              +3
 *	  7 6 5 4 3 2 1 0 7 6 5 4 3 2 1 0 7 6 5 4 3 2 1 0 7 6 5 4 3 2 1 0
 *	 +-----+---------+-+-----+-+-+-+-+-+-+---+---+---+---------------+
 *	 | Fmt |  Type   |R| TC  |R|A|R|T|T|E|Att| AT|Len|    Length     |
 *	 |     |         | |     | |2| |H|D|P|1:0|   |9:8|     7:0       |
 *	 +-----+---------+-+-----+-+-+-+-+-+-+---+---+---+---------------+
 *
 * Requests (memory, I/O, configuration), DW1:
 *	Requester ID (16) | Tag (8) | Last DW BE (4) | First DW BE (4)
 * Memory and I/O, 32-bit address (3DW header), DW2:
 *	Address[31:2] | R R
 * Memory, 64-bit address (4DW header), DW2 and DW3:
 *	Address[63:32]
 *	Address[31:2] | R R
 * Configuration, DW2:
 *	Bus (8) | Device (5) Function (3) | R (4) Ext Reg (4) | Reg (6) R R
 * Completions, DW1 and DW2:
 *	Completer ID (16) | Status (3) BCM (1) Byte Count[11:8] | Byte Count[7:0]
 *	Requester ID (16) | Tag (8) | R Lower Address (7)
 *
 * The codec handles MRd, MWr (32- and 64-bit), IORd, IOWr, CfgRd0/CfgWr0,
 * CfgRd1/CfgWr1, Cpl and CplD.  MSIs are MWr.  Callers deal in bytes:
 * softee_tlp_set_range() turns a byte address and length into the DW
 * address, Length and byte enables; softee_tlp_range() goes back;
 * softee_tlp_cpl_split() builds the completions of a read.
 *
 * Decisions where the specification leaves room (Documentation/wire.rst):
 *  - A 4DW memory request whose address is below 4 GiB (the spec says a
 *    requester must use 3DW there; a receiver's behaviour is unspecified)
 *    is accepted and counted (stats.addr64_below_4g).  The encoder writes
 *    3DW below 4 GiB unless the caller sets addr64 (to test a receiver).
 *  - Bits the 3.0 spec reserves in DW0 (byte 1 bits 7, 3 and 1: later
 *    revisions' 10-bit tag bits T9/T8 and LN) are rejected as reserved;
 *    TH (processing hints) and AT != 0 (translated addresses) are rejected
 *    as unsupported.
 *  - TD: the digest DW is carried through but not checked (the frame's
 *    CRC-32C protects the TLP end to end).
 */
#ifndef _SOFTEE_TLP_H
#define _SOFTEE_TLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fmt[2:0] */
#define SOFTEE_TLP_FMT_3DW		0x0	/* 3DW header, no data */
#define SOFTEE_TLP_FMT_4DW		0x1	/* 4DW header, no data */
#define SOFTEE_TLP_FMT_3DW_DATA		0x2	/* 3DW header, with data */
#define SOFTEE_TLP_FMT_4DW_DATA		0x3	/* 4DW header, with data */
#define SOFTEE_TLP_FMT_PREFIX		0x4	/* a TLP prefix: not supported */

/* Type[4:0] */
#define SOFTEE_TLP_TYPE_MEM		0x00	/* MRd, MWr */
#define SOFTEE_TLP_TYPE_MEMLK		0x01	/* MRdLk: not supported */
#define SOFTEE_TLP_TYPE_IO		0x02	/* IORd, IOWr */
#define SOFTEE_TLP_TYPE_CFG0		0x04	/* CfgRd0, CfgWr0 */
#define SOFTEE_TLP_TYPE_CFG1		0x05	/* CfgRd1, CfgWr1 */
#define SOFTEE_TLP_TYPE_CPL		0x0a	/* Cpl, CplD */
#define SOFTEE_TLP_TYPE_CPLLK		0x0b	/* CplLk, CplDLk: not supported */

/* Attr: bit 0 No Snoop, bit 1 Relaxed Ordering (byte 2), bit 2 ID-Based Ordering (byte 1) */
#define SOFTEE_TLP_ATTR_NS		0x1
#define SOFTEE_TLP_ATTR_RO		0x2
#define SOFTEE_TLP_ATTR_IDO		0x4

/* Completion Status */
#define SOFTEE_TLP_CPL_SC		0x0	/* successful completion */
#define SOFTEE_TLP_CPL_UR		0x1	/* unsupported request */
#define SOFTEE_TLP_CPL_CRS		0x2	/* configuration request retry status */
#define SOFTEE_TLP_CPL_CA		0x4	/* completer abort */

#define SOFTEE_TLP_HDR3			12
#define SOFTEE_TLP_HDR4			16
#define SOFTEE_TLP_MAX_DW		1024	/* Length 0 means 1024 */
#define SOFTEE_TLP_MAX_DATA		4096
#define SOFTEE_TLP_MAX_SIZE		(SOFTEE_TLP_HDR4 + SOFTEE_TLP_MAX_DATA + 4)

/* A requester, completer or configuration target: bus, device, function. */
#define SOFTEE_BDF(bus, dev, fn)	((uint16_t)(((bus) & 0xff) << 8 | ((dev) & 0x1f) << 3 | ((fn) & 7)))
#define SOFTEE_BDF_BUS(bdf)		((uint8_t)((bdf) >> 8))
#define SOFTEE_BDF_DEV(bdf)		((uint8_t)(((bdf) >> 3) & 0x1f))
#define SOFTEE_BDF_FN(bdf)		((uint8_t)((bdf) & 7))

enum softee_tlp_kind {
	SOFTEE_TLP_MRD = 1,
	SOFTEE_TLP_MWR,
	SOFTEE_TLP_IORD,
	SOFTEE_TLP_IOWR,
	SOFTEE_TLP_CFGRD0,
	SOFTEE_TLP_CFGWR0,
	SOFTEE_TLP_CFGRD1,
	SOFTEE_TLP_CFGWR1,
	SOFTEE_TLP_CPL,
	SOFTEE_TLP_CPLD,
	SOFTEE_TLP_KIND_MAX,
};

/* Why a TLP was refused: one counter each in struct softee_tlp_stats. */
enum softee_tlp_err {
	SOFTEE_TLP_OK = 0,
	SOFTEE_TLP_ERR_SHORT,		/* buffer shorter than the header */
	SOFTEE_TLP_ERR_FMT_TYPE,	/* Fmt/Type not one of the kinds above (or a prefix) */
	SOFTEE_TLP_ERR_LENGTH,		/* payload (+digest) runs past the buffer */
	SOFTEE_TLP_ERR_BE_1DW,		/* Length 1 with Last DW BE != 0 */
	SOFTEE_TLP_ERR_BE_ZERO,		/* Length > 1 with First or Last DW BE == 0 */
	SOFTEE_TLP_ERR_BE_NONCONTIG,	/* non-contiguous enables where the spec forbids them */
	SOFTEE_TLP_ERR_RESERVED,	/* a reserved bit is set */
	SOFTEE_TLP_ERR_FIXED,		/* a field the spec fixes for this kind has another value */
	SOFTEE_TLP_ERR_UNSUPPORTED,	/* TH, AT != 0 */
	SOFTEE_TLP_ERR_4K,		/* a memory request crosses a 4 KiB boundary */
	SOFTEE_TLP_ERR_STATUS,		/* reserved completion status */
	SOFTEE_TLP_ERR_MAX,
};

struct softee_tlp_stats {
	uint64_t ok;
	uint64_t err[SOFTEE_TLP_ERR_MAX];	/* [0] unused */
	uint64_t addr64_below_4g;		/* accepted, see above */
};

/*
 * A TLP, decoded or to encode.  Fields a kind does not have are ignored by
 * the encoder and zero after decoding.
 */
struct softee_tlp {
	uint8_t kind;		/* enum softee_tlp_kind */
	uint8_t tc;		/* traffic class 0..7 */
	uint8_t attr;		/* SOFTEE_TLP_ATTR_* */
	bool td;		/* a digest DW follows the data (carried, not checked) */
	bool ep;		/* poisoned */
	bool addr64;		/* memory: 4DW header (encode: forced; above 4 GiB always) */
	uint16_t len_dw;	/* Length in DW, 1..1024 (Cpl: 0, no Length) */
	/* Requests, and the requester a completion answers */
	uint16_t requester;	/* SOFTEE_BDF() */
	uint8_t tag;
	uint8_t first_be;	/* requests */
	uint8_t last_be;
	uint64_t addr;		/* memory and I/O: byte address, DW aligned */
	/* Configuration requests */
	uint16_t target;	/* SOFTEE_BDF() of the function addressed */
	uint16_t reg;		/* DW register number 0..1023 (Ext Reg << 6 | Reg) */
	/* Completions */
	uint16_t completer;	/* SOFTEE_BDF() */
	uint8_t status;		/* SOFTEE_TLP_CPL_* */
	bool bcm;		/* byte count modified (PCI-X completers only) */
	uint16_t byte_count;	/* bytes left including this completion, 1..4096 */
	uint8_t lower_addr;	/* address bits 6:0 of the first byte returned */
	/* Payload: len_dw * 4 bytes for kinds with data */
	const uint8_t *data;
	uint32_t digest;	/* with td */
};

/* The kind's properties. */
bool softee_tlp_kind_has_data(enum softee_tlp_kind kind);
const char *softee_tlp_kind_name(enum softee_tlp_kind kind);
const char *softee_tlp_err_name(enum softee_tlp_err err);

/* Header bytes the encoder will use for t (12 or 16). */
uint32_t softee_tlp_hdr_len(const struct softee_tlp *t);
/* Total encoded size of t: header, data, digest. */
uint32_t softee_tlp_encoded_len(const struct softee_tlp *t);

/*
 * Encode t into buf (cap bytes).  Returns the size written, or -EINVAL if t
 * is not a TLP the decoder would accept (the same checks), -ENOSPC if cap
 * is too small.  t->data must hold len_dw * 4 bytes for kinds with data.
 */
int softee_tlp_encode(const struct softee_tlp *t, uint8_t *buf, size_t cap);

/*
 * Decode the TLP at the start of buf (len bytes; it may be followed by
 * more).  Returns its size (header + data + digest), or -enum
 * softee_tlp_err; never reads past buf + len.  t->data points into buf.
 * stats (may be NULL) counts the outcome.
 */
int softee_tlp_decode(struct softee_tlp *t, const uint8_t *buf, size_t len,
		      struct softee_tlp_stats *stats);

/*
 * The size of the TLP at the start of buf from DW0 alone (Fmt, Length,
 * TD): what delimits TLPs packed back to back in a frame.  -SOFTEE_TLP_ERR_SHORT,
 * -SOFTEE_TLP_ERR_FMT_TYPE (reserved Fmt or a prefix) or
 * -SOFTEE_TLP_ERR_LENGTH (runs past len).
 */
int softee_tlp_size(const uint8_t *buf, size_t len);

/*
 * Bytes to DWs: set t->addr, len_dw, first_be and last_be for the byte range
 * [addr, addr + len).  len 0 makes a zero-length request (1 DW, no bytes
 * enabled).  -EINVAL if len > 4096 or the range crosses a 4 KiB boundary
 * (a request must not: split it first).
 */
int softee_tlp_set_range(struct softee_tlp *t, uint64_t addr, uint32_t len);

/*
 * DWs to bytes: the address of the first enabled byte and the length up to
 * and including the last enabled byte (for the non-contiguous enables of
 * 1- and 2-DW requests, holes are inside the range).  A zero-length request
 * gives its DW address and 0.  This is the Byte Count and Lower Address a
 * completer starts from (PCIe 3.0, 2.3.1.1).
 */
void softee_tlp_range(const struct softee_tlp *t, uint64_t *addr, uint32_t *len);

/*
 * The next completion of a read: req is the request (memory, I/O or
 * configuration read), done the bytes already returned.  Fills cpl with the
 * completion's header fields (kind CplD, requester, tag, Length, Byte Count,
 * Lower Address; completer, status and data are the caller's) and returns
 * the bytes it covers; the caller puts them at cpl data offset
 * (lower_addr & 3).  Every completion but the last ends at a multiple of rcb
 * (64 or 128, the read completion boundary) and carries at most max_payload
 * bytes (a multiple of rcb).  0 once done covers the request; -EINVAL on
 * bad arguments.
 */
int softee_tlp_cpl_split(const struct softee_tlp *req, uint32_t done, uint32_t max_payload,
			 uint32_t rcb, struct softee_tlp *cpl);

#endif /* _SOFTEE_TLP_H */
