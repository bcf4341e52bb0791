// SPDX-License-Identifier: GPL-2.0
/*
 * The frame codec (softee/frame.h, Documentation/wire.rst).
 */
#include <errno.h>
#include <string.h>

#include <softee/frame.h>
#include <softee/tlp.h>

static const char *const err_names[SOFTEE_FRAME_ERR_MAX] = {
	[SOFTEE_FRAME_OK] = "ok",
	[SOFTEE_FRAME_ERR_SHORT] = "short",
	[SOFTEE_FRAME_ERR_ETHERTYPE] = "ethertype",
	[SOFTEE_FRAME_ERR_VERSION] = "version",
	[SOFTEE_FRAME_ERR_TYPE] = "type",
	[SOFTEE_FRAME_ERR_FLAGS] = "flags",
	[SOFTEE_FRAME_ERR_LENGTH] = "length",
	[SOFTEE_FRAME_ERR_CRC] = "crc",
	[SOFTEE_FRAME_ERR_TLP] = "tlp",
	[SOFTEE_FRAME_ERR_BODY] = "body",
	[SOFTEE_FRAME_ERR_VLAN] = "vlan",
};

const char *softee_frame_err_name(enum softee_frame_err err)
{
	return err < SOFTEE_FRAME_ERR_MAX ? err_names[err] : "?";
}

const char *softee_frame_type_name(enum softee_frame_type type)
{
	switch (type) {
	case SOFTEE_FRAME_DATA: return "data";
	case SOFTEE_FRAME_ACK: return "ack";
	case SOFTEE_FRAME_HEARTBEAT: return "heartbeat";
	case SOFTEE_FRAME_RESET: return "reset";
	}
	return "?";
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* CRC over the MAC addresses, then the softee header and payload. */
static uint32_t frame_crc(const uint8_t *buf, uint32_t hoff, uint32_t plen)
{
	uint32_t crc = softee_crc32c(0, buf, 2 * SOFTEE_ETH_ALEN);

	return softee_crc32c(crc, buf + hoff, SOFTEE_FRAME_HDR + plen);
}

static int parse(struct softee_frame *f, const uint8_t *buf, uint32_t len, uint16_t ethertype)
{
	struct softee_frame_hdr *h = &f->h;
	uint32_t hoff = SOFTEE_ETH_HLEN, plen, off, count;
	uint16_t et, vid = 0;
	const uint8_t *s;
	int n;

	memset(f, 0, sizeof(*f));
	if (!ethertype)
		ethertype = SOFTEE_ETHERTYPE;
	if (len < SOFTEE_ETH_HLEN)
		return -SOFTEE_FRAME_ERR_SHORT;
	memcpy(h->dst, buf, SOFTEE_ETH_ALEN);
	memcpy(h->src, buf + SOFTEE_ETH_ALEN, SOFTEE_ETH_ALEN);
	et = get16(buf + 12);
	if (et == SOFTEE_ETH_P_8021Q && ethertype != SOFTEE_ETH_P_8021Q) {
		if (len < SOFTEE_ETH_HLEN + SOFTEE_VLAN_HLEN)
			return -SOFTEE_FRAME_ERR_SHORT;
		h->vlan = true;
		h->pcp = buf[14] >> 5;
		vid = get16(buf + 14) & 0xfff;
		et = get16(buf + 16);
		hoff += SOFTEE_VLAN_HLEN;
	}
	h->ethertype = et;
	if (et != ethertype)
		return -SOFTEE_FRAME_ERR_ETHERTYPE;
	if (len < hoff + SOFTEE_FRAME_OVERHEAD)
		return -SOFTEE_FRAME_ERR_SHORT;
	s = buf + hoff;
	if (s[0] >> 4 != SOFTEE_FRAME_VERSION)
		return -SOFTEE_FRAME_ERR_VERSION;
	plen = get16(s + 6);
	if (plen > len - hoff - SOFTEE_FRAME_OVERHEAD)
		return -SOFTEE_FRAME_ERR_LENGTH;
	if (get32(s + SOFTEE_FRAME_HDR + plen) != frame_crc(buf, hoff, plen))
		return -SOFTEE_FRAME_ERR_CRC;

	h->type = s[0] & 0xf;
	h->flags = s[1];
	h->group = get16(s + 2);
	h->tlp_count = get16(s + 4);
	h->seq = get32(s + 8);
	h->ack = get32(s + 12);
	h->tsval = get32(s + 16);
	h->tsecr = get32(s + 20);
	f->payload = s + SOFTEE_FRAME_HDR;
	f->payload_len = plen;

	if (h->flags & ~SOFTEE_FRAME_F_ALL)
		return -SOFTEE_FRAME_ERR_FLAGS;
	if ((h->flags & SOFTEE_FRAME_F_NAK) && !(h->flags & SOFTEE_FRAME_F_ACK))
		return -SOFTEE_FRAME_ERR_FLAGS;
	switch (h->type) {
	case SOFTEE_FRAME_DATA:
		if (!h->tlp_count)
			return -SOFTEE_FRAME_ERR_TLP;
		for (off = 0, count = 0; off < plen; off += n, count++) {
			n = softee_tlp_size(f->payload + off, plen - off);
			if (n < 0 || count == h->tlp_count)
				return -SOFTEE_FRAME_ERR_TLP;
		}
		if (count != h->tlp_count)
			return -SOFTEE_FRAME_ERR_TLP;
		break;
	case SOFTEE_FRAME_ACK:
		if (!(h->flags & SOFTEE_FRAME_F_ACK) || (h->flags & SOFTEE_FRAME_F_SYN))
			return -SOFTEE_FRAME_ERR_FLAGS;
		if (plen || h->tlp_count)
			return -SOFTEE_FRAME_ERR_BODY;
		break;
	case SOFTEE_FRAME_HEARTBEAT:
		if (h->flags)
			return -SOFTEE_FRAME_ERR_FLAGS;
		if (plen < SOFTEE_HB_LEN || h->tlp_count)
			return -SOFTEE_FRAME_ERR_BODY;
		break;
	case SOFTEE_FRAME_RESET:
		if (h->flags)
			return -SOFTEE_FRAME_ERR_FLAGS;
		if (plen < SOFTEE_RESET_LEN || h->tlp_count)
			return -SOFTEE_FRAME_ERR_BODY;
		break;
	default:
		return -SOFTEE_FRAME_ERR_TYPE;
	}
	if (h->vlan && vid != h->group)
		return -SOFTEE_FRAME_ERR_VLAN;
	return 0;
}

int softee_frame_parse(struct softee_frame *f, const uint8_t *buf, uint32_t len,
		       uint16_t ethertype, struct softee_frame_stats *stats)
{
	int ret = parse(f, buf, len, ethertype);

	if (stats) {
		if (!ret)
			stats->ok++;
		else if (-ret < SOFTEE_FRAME_ERR_MAX)
			stats->err[-ret]++;
	}
	return ret;
}

int softee_frame_next_tlp(const struct softee_frame *f, uint32_t *off,
			  const uint8_t **tlp, uint32_t *len)
{
	int n;

	if (f->h.type != SOFTEE_FRAME_DATA || *off >= f->payload_len)
		return 0;
	n = softee_tlp_size(f->payload + *off, f->payload_len - *off);
	if (n <= 0)
		return 0;
	*tlp = f->payload + *off;
	*len = n;
	*off += n;
	return 1;
}

void softee_frame_hb_put(uint8_t *p, const struct softee_frame_hb *hb)
{
	p[0] = hb->role;
	p[1] = hb->flags;
	put16(p + 2, hb->period_ms);
	put32(p + 4, hb->node_id);
	put32(p + 8, hb->incarnation);
	memcpy(p + 12, hb->name, SOFTEE_HB_NAME_LEN);
}

int softee_frame_hb_get(struct softee_frame_hb *hb, const uint8_t *p, uint32_t len)
{
	if (len < SOFTEE_HB_LEN)
		return -EINVAL;
	hb->role = p[0];
	hb->flags = p[1];
	hb->period_ms = get16(p + 2);
	hb->node_id = get32(p + 4);
	hb->incarnation = get32(p + 8);
	memcpy(hb->name, p + 12, SOFTEE_HB_NAME_LEN);
	return 0;
}

int softee_frame_begin(struct softee_frame_build *b, uint8_t *buf, uint32_t cap,
		       const struct softee_frame_hdr *h)
{
	uint32_t hoff = SOFTEE_ETH_HLEN + (h->vlan ? SOFTEE_VLAN_HLEN : 0);
	uint8_t *s;

	if (cap < hoff + SOFTEE_FRAME_OVERHEAD)
		return -ENOSPC;
	memcpy(buf, h->dst, SOFTEE_ETH_ALEN);
	memcpy(buf + SOFTEE_ETH_ALEN, h->src, SOFTEE_ETH_ALEN);
	if (h->vlan) {
		put16(buf + 12, SOFTEE_ETH_P_8021Q);
		put16(buf + 14, (uint16_t)((h->pcp & 7) << 13 | (h->group & 0xfff)));
	}
	put16(buf + hoff - 2, h->ethertype ? h->ethertype : SOFTEE_ETHERTYPE);
	s = buf + hoff;
	s[0] = SOFTEE_FRAME_VERSION << 4 | (h->type & 0xf);
	s[1] = h->flags;
	put16(s + 2, h->group);
	put16(s + 4, 0);
	put16(s + 6, 0);
	put32(s + 8, h->seq);
	put32(s + 12, h->ack);
	put32(s + 16, h->tsval);
	put32(s + 20, h->tsecr);
	b->buf = buf;
	b->cap = cap > 0xffff + hoff + SOFTEE_FRAME_OVERHEAD ? 0xffff + hoff + SOFTEE_FRAME_OVERHEAD : cap;
	b->hoff = hoff;
	b->len = hoff + SOFTEE_FRAME_HDR;
	b->count = 0;
	return 0;
}

int softee_frame_add_tlp(struct softee_frame_build *b, const uint8_t *tlp, uint32_t len)
{
	int n = softee_tlp_size(tlp, len);

	if (n < 0 || (uint32_t)n != len)
		return -EINVAL;
	if (len > softee_frame_room(b) || b->count == 0xffff)
		return -ENOSPC;
	memcpy(b->buf + b->len, tlp, len);
	b->len += len;
	b->count++;
	return 0;
}

int softee_frame_add_bytes(struct softee_frame_build *b, const void *p, uint32_t len)
{
	if (len > softee_frame_room(b))
		return -ENOSPC;
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	return 0;
}

uint32_t softee_frame_close(struct softee_frame_build *b)
{
	uint8_t *s = b->buf + b->hoff;
	uint32_t plen = b->len - b->hoff - SOFTEE_FRAME_HDR;

	put16(s + 4, b->count);
	put16(s + 6, plen);
	return b->len + SOFTEE_FRAME_CRC;
}

uint32_t softee_frame_finish(struct softee_frame_build *b)
{
	uint32_t len = softee_frame_close(b);

	put32(b->buf + b->len, frame_crc(b->buf, b->hoff, b->len - b->hoff - SOFTEE_FRAME_HDR));
	return len;
}

void softee_frame_restamp(uint8_t *frame, uint32_t len, uint8_t flags, uint32_t ack,
			  uint32_t tsval, uint32_t tsecr)
{
	uint32_t hoff = get16(frame + 12) == SOFTEE_ETH_P_8021Q ?
			SOFTEE_ETH_HLEN + SOFTEE_VLAN_HLEN : SOFTEE_ETH_HLEN;
	uint8_t *s = frame + hoff;
	uint32_t plen = get16(s + 6);

	(void)len;
	s[1] = flags;
	put32(s + 12, ack);
	put32(s + 16, tsval);
	put32(s + 20, tsecr);
	put32(s + SOFTEE_FRAME_HDR + plen, frame_crc(frame, hoff, plen));
}
