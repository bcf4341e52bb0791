/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softee's frames: PCIe TLPs in Ethernet frames (Documentation/wire.rst
 * draws it byte by byte).  All multi-byte fields are big-endian.
 *
 *	 0  destination MAC (6)
 *	 6  source MAC (6)
 *	12  [0x8100, TCI: PCP (3) DEI (1) VID (12) = group]  optional 802.1Q tag
 *	12  EtherType (2), 0x88B5 by default (IEEE local experimental 1)
 *	14  softee header (24):
 *	      +0  version (high nibble, 1) | type (low nibble)
 *	      +1  flags
 *	      +2  group (2)
 *	      +4  TLP count (2)
 *	      +6  payload length (2): bytes between this header and the CRC
 *	      +8  sequence number (4)
 *	     +12  cumulative ack (4): the next sequence number expected
 *	     +16  timestamp (4): sender's clock, ns, low 32 bits
 *	     +20  timestamp echo (4): the latest timestamp received from the peer
 *	38  payload: TLPs back to back, each delimited by its own DW0 (Fmt,
 *	    Length, TD); or the body of a heartbeat or reset
 *	..  CRC-32C (4) over both MAC addresses, the softee header and the
 *	    payload (not the tag, which switches may rewrite, nor the EtherType)
 *	..  anything after (Ethernet padding) is ignored
 *
 * Offsets after 12 move by 4 with a tag.  Software does not see the
 * Ethernet FCS on every link, so the CRC is what catches corruption end to
 * end; CRC-32C (Castagnoli) finds every 1-, 2- and 3-bit error and every
 * burst up to 32 bits in frames of this size.
 */
#ifndef _SOFTEE_FRAME_H
#define _SOFTEE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softee/netdev.h>

#define SOFTEE_ETHERTYPE		0x88b5
#define SOFTEE_ETH_P_8021Q		0x8100
#define SOFTEE_ETH_P_8021AD		0x88a8	/* the service tag (QinQ) */
#define SOFTEE_ETH_HLEN			14
#define SOFTEE_VLAN_HLEN		4
#define SOFTEE_FRAME_VERSION		1
#define SOFTEE_FRAME_HDR		24	/* the softee header */
#define SOFTEE_FRAME_CRC		4
/* Bytes a frame adds around its payload (after the EtherType): header and CRC. */
#define SOFTEE_FRAME_OVERHEAD		(SOFTEE_FRAME_HDR + SOFTEE_FRAME_CRC)
#define SOFTEE_FRAME_MIN_MTU		(SOFTEE_FRAME_OVERHEAD + 12)	/* one 3DW TLP */
#define SOFTEE_FRAME_MAX_MTU		9000

/*
 * Whether frames may carry this EtherType: a type (0x0600 and up; below
 * that the field is an 802.3 length), and not a VLAN tag's TPID (0x8100,
 * 0x88a8), which a switch or NIC would read as a tag.
 */
static inline bool softee_ethertype_ok(uint32_t et)
{
	return et >= 0x0600 && et <= 0xffff && et != SOFTEE_ETH_P_8021Q && et != SOFTEE_ETH_P_8021AD;
}

/* Frame types (low nibble of the first header byte). */
enum softee_frame_type {
	SOFTEE_FRAME_DATA = 1,		/* TLPs; may carry an ack */
	SOFTEE_FRAME_ACK = 2,		/* an ack alone */
	SOFTEE_FRAME_HEARTBEAT = 3,	/* liveness, broadcast; body: struct softee_frame_hb */
	SOFTEE_FRAME_RESET = 4,		/* "I dropped our session"; body: reason */
};

/* Flags */
#define SOFTEE_FRAME_F_SYN	0x01	/* seq is the first of the sender's stream */
#define SOFTEE_FRAME_F_ACK	0x02	/* ack is valid */
#define SOFTEE_FRAME_F_TSECR	0x04	/* the timestamp echo is valid */
#define SOFTEE_FRAME_F_NAK	0x08	/* this ack answers a frame dropped out of order */
#define SOFTEE_FRAME_F_ALL	0x0f	/* the others are reserved, must be 0 */

/* Heartbeat body (28 bytes; longer bodies are accepted, the rest ignored). */
#define SOFTEE_HB_LEN		28
#define SOFTEE_HB_NAME_LEN	16
#define SOFTEE_ROLE_HOST	1
#define SOFTEE_ROLE_BOX		2

struct softee_frame_hb {
	uint8_t role;			/* SOFTEE_ROLE_* */
	uint8_t flags;			/* 0 */
	uint16_t period_ms;		/* the sender's heartbeat period */
	uint32_t node_id;
	uint32_t incarnation;		/* changes when the node restarts */
	char name[SOFTEE_HB_NAME_LEN];	/* NUL-padded, not always NUL-terminated */
};

/* Reset body (4 bytes): reason, 3 zero bytes. */
#define SOFTEE_RESET_LEN	4
#define SOFTEE_RESET_RESYNC	1	/* I have no session with you: start over */
#define SOFTEE_RESET_LEAVE	2	/* I leave the group (or stop): forget me */

/* Why a frame was refused: a counter each in struct softee_frame_stats. */
enum softee_frame_err {
	SOFTEE_FRAME_OK = 0,
	SOFTEE_FRAME_ERR_SHORT,		/* shorter than the headers */
	SOFTEE_FRAME_ERR_ETHERTYPE,	/* not our EtherType: not ours, not an error of the peer */
	SOFTEE_FRAME_ERR_VERSION,
	SOFTEE_FRAME_ERR_TYPE,		/* unknown frame type */
	SOFTEE_FRAME_ERR_FLAGS,		/* reserved flag bits, or flags that make no sense for the type */
	SOFTEE_FRAME_ERR_LENGTH,	/* payload length runs past the frame */
	SOFTEE_FRAME_ERR_CRC,
	SOFTEE_FRAME_ERR_TLP,		/* TLPs do not tile the payload, or count differs */
	SOFTEE_FRAME_ERR_BODY,		/* heartbeat/reset/ack body of the wrong size */
	SOFTEE_FRAME_ERR_VLAN,		/* tagged, and the VID is not the header's group */
	SOFTEE_FRAME_ERR_MAX,
};

struct softee_frame_stats {
	uint64_t ok;
	uint64_t err[SOFTEE_FRAME_ERR_MAX];	/* [0] unused */
};

/* The decoded headers. */
struct softee_frame_hdr {
	uint8_t dst[SOFTEE_ETH_ALEN];
	uint8_t src[SOFTEE_ETH_ALEN];
	bool vlan;		/* tagged; vid is the group */
	uint8_t pcp;		/* 802.1Q priority */
	uint16_t ethertype;
	uint8_t type;		/* enum softee_frame_type */
	uint8_t flags;		/* SOFTEE_FRAME_F_* */
	uint16_t group;
	uint16_t tlp_count;
	uint32_t seq;
	uint32_t ack;
	uint32_t tsval;
	uint32_t tsecr;
};

/* A parsed frame: headers, and where the payload is in the buffer. */
struct softee_frame {
	struct softee_frame_hdr h;
	const uint8_t *payload;
	uint32_t payload_len;
};

/*
 * Parse a received frame (the buffer from the link, FCS not included).
 * Checks everything the header can say: EtherType (ethertype, 0 = 0x88B5),
 * version, type, flags, lengths, CRC, that the TLPs tile the payload
 * exactly and match the count, body sizes.  Returns 0 or -enum
 * softee_frame_err, counted in stats (may be NULL); never reads past
 * buf + len.  f->payload points into buf.
 */
int softee_frame_parse(struct softee_frame *f, const uint8_t *buf, uint32_t len,
		       uint16_t ethertype, struct softee_frame_stats *stats);

/*
 * Walk the TLPs of a parsed DATA frame: *off starts at 0.  Returns 1 and
 * the next TLP, or 0 at the end.  (softee_frame_parse checked the tiling.)
 */
int softee_frame_next_tlp(const struct softee_frame *f, uint32_t *off,
			  const uint8_t **tlp, uint32_t *len);

/* Heartbeat body to and from the wire (parse: len >= SOFTEE_HB_LEN). */
void softee_frame_hb_put(uint8_t *p, const struct softee_frame_hb *hb);
int softee_frame_hb_get(struct softee_frame_hb *hb, const uint8_t *p, uint32_t len);

/*
 * Building a frame in a caller's buffer:
 *
 *	struct softee_frame_build b;
 *	softee_frame_begin(&b, buf, cap, &hdr);	   (hdr: MACs, tag, type, flags, group, seq...)
 *	while (softee_frame_add_tlp(&b, tlp, n) == 0)
 *		...;
 *	len = softee_frame_finish(&b);		   (count, length, CRC)
 *
 * A finished frame's ack, timestamps and flags can be rewritten (with its
 * CRC) before each retransmission: softee_frame_restamp().
 */
struct softee_frame_build {
	uint8_t *buf;
	uint32_t cap;		/* bytes usable for the frame, CRC included */
	uint32_t hoff;		/* offset of the softee header */
	uint32_t len;		/* bytes so far */
	uint16_t count;		/* TLPs so far */
};

/* Bytes before the payload: 38, or 42 with a tag. */
static inline uint32_t softee_frame_hdr_len(bool vlan)
{
	return SOFTEE_ETH_HLEN + (vlan ? SOFTEE_VLAN_HLEN : 0) + SOFTEE_FRAME_HDR;
}

/* Payload bytes a frame holds with this MTU (bytes after the EtherType). */
static inline uint32_t softee_frame_payload_max(uint32_t mtu)
{
	return mtu > SOFTEE_FRAME_OVERHEAD ? mtu - SOFTEE_FRAME_OVERHEAD : 0;
}

/* Largest frame for an MTU, tag included if any: what a buffer needs. */
static inline uint32_t softee_frame_max_len(uint32_t mtu, bool vlan)
{
	return SOFTEE_ETH_HLEN + (vlan ? SOFTEE_VLAN_HLEN : 0) + mtu;
}

/* cap: the buffer's bytes; the frame will not exceed it.  -ENOSPC if the headers do not fit. */
int softee_frame_begin(struct softee_frame_build *b, uint8_t *buf, uint32_t cap,
		       const struct softee_frame_hdr *h);
/* Append one TLP (its size must be what its DW0 says).  -ENOSPC, -EINVAL. */
int softee_frame_add_tlp(struct softee_frame_build *b, const uint8_t *tlp, uint32_t len);
/* Append raw payload (heartbeat, reset bodies).  -ENOSPC. */
int softee_frame_add_bytes(struct softee_frame_build *b, const void *p, uint32_t len);
/* Payload bytes still free. */
static inline uint32_t softee_frame_room(const struct softee_frame_build *b)
{
	return b->cap - b->len >= SOFTEE_FRAME_CRC ? b->cap - b->len - SOFTEE_FRAME_CRC : 0;
}
/* Write count, length and CRC; returns the frame's length. */
uint32_t softee_frame_finish(struct softee_frame_build *b);
/*
 * Count and length, but no CRC: for a frame that softee_frame_restamp()
 * seals before every send anyway (the transport's data frames), so that a
 * new frame's bytes go through the CRC once, not twice.  Returns its length.
 */
uint32_t softee_frame_close(struct softee_frame_build *b);

/* Rewrite flags, ack and timestamps of a finished frame, and its CRC. */
void softee_frame_restamp(uint8_t *frame, uint32_t len, uint8_t flags, uint32_t ack,
			  uint32_t tsval, uint32_t tsecr);

/* CRC-32C (Castagnoli, reflected, init and final xor ~0), continuable: crc = 0 to start. */
uint32_t softee_crc32c(uint32_t crc, const void *p, size_t len);
/* The same by tables, whatever the CPU has (the tests compare the two). */
uint32_t softee_crc32c_sw(uint32_t crc, const void *p, size_t len);

/* Bytes on the wire for a frame of len bytes (no FCS): preamble+SFD 8, FCS 4, IFG 12, min 60. */
static inline uint32_t softee_wire_bytes(uint32_t len)
{
	return (len < 60 ? 60 : len) + 8 + 4 + 12;
}

const char *softee_frame_err_name(enum softee_frame_err err);
const char *softee_frame_type_name(enum softee_frame_type type);

#endif /* _SOFTEE_FRAME_H */
