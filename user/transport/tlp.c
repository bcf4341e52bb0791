// SPDX-License-Identifier: GPL-2.0
/*
 * The TLP codec (softee/tlp.h).  Field positions are those of the PCIe
 * Base Specification 3.0, section 2.2; the references in the comments are
 * to its sections.
 */
#include <errno.h>
#include <string.h>

#include <softee/tlp.h>

static const char *const kind_names[SOFTEE_TLP_KIND_MAX] = {
	[SOFTEE_TLP_MRD] = "MRd",	[SOFTEE_TLP_MWR] = "MWr",
	[SOFTEE_TLP_IORD] = "IORd",	[SOFTEE_TLP_IOWR] = "IOWr",
	[SOFTEE_TLP_CFGRD0] = "CfgRd0",	[SOFTEE_TLP_CFGWR0] = "CfgWr0",
	[SOFTEE_TLP_CFGRD1] = "CfgRd1",	[SOFTEE_TLP_CFGWR1] = "CfgWr1",
	[SOFTEE_TLP_CPL] = "Cpl",	[SOFTEE_TLP_CPLD] = "CplD",
};

static const char *const err_names[SOFTEE_TLP_ERR_MAX] = {
	[SOFTEE_TLP_OK] = "ok",
	[SOFTEE_TLP_ERR_SHORT] = "short",
	[SOFTEE_TLP_ERR_FMT_TYPE] = "fmt_type",
	[SOFTEE_TLP_ERR_LENGTH] = "length",
	[SOFTEE_TLP_ERR_BE_1DW] = "be_1dw",
	[SOFTEE_TLP_ERR_BE_ZERO] = "be_zero",
	[SOFTEE_TLP_ERR_BE_NONCONTIG] = "be_noncontig",
	[SOFTEE_TLP_ERR_RESERVED] = "reserved",
	[SOFTEE_TLP_ERR_FIXED] = "fixed",
	[SOFTEE_TLP_ERR_UNSUPPORTED] = "unsupported",
	[SOFTEE_TLP_ERR_4K] = "cross_4k",
	[SOFTEE_TLP_ERR_STATUS] = "status",
};

const char *softee_tlp_kind_name(enum softee_tlp_kind kind)
{
	return kind > 0 && kind < SOFTEE_TLP_KIND_MAX ? kind_names[kind] : "?";
}

const char *softee_tlp_err_name(enum softee_tlp_err err)
{
	return err < SOFTEE_TLP_ERR_MAX ? err_names[err] : "?";
}

bool softee_tlp_kind_has_data(enum softee_tlp_kind kind)
{
	switch (kind) {
	case SOFTEE_TLP_MWR: case SOFTEE_TLP_IOWR: case SOFTEE_TLP_CFGWR0:
	case SOFTEE_TLP_CFGWR1: case SOFTEE_TLP_CPLD:
		return true;
	default:
		return false;
	}
}

static bool kind_is_mem(enum softee_tlp_kind kind)
{
	return kind == SOFTEE_TLP_MRD || kind == SOFTEE_TLP_MWR;
}

static bool kind_is_cfg(enum softee_tlp_kind kind)
{
	return kind >= SOFTEE_TLP_CFGRD0 && kind <= SOFTEE_TLP_CFGWR1;
}

static bool kind_is_io(enum softee_tlp_kind kind)
{
	return kind == SOFTEE_TLP_IORD || kind == SOFTEE_TLP_IOWR;
}

static bool kind_is_cpl(enum softee_tlp_kind kind)
{
	return kind == SOFTEE_TLP_CPL || kind == SOFTEE_TLP_CPLD;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static bool use_4dw(const struct softee_tlp *t)
{
	return kind_is_mem(t->kind) && (t->addr64 || t->addr > 0xffffffffULL);
}

uint32_t softee_tlp_hdr_len(const struct softee_tlp *t)
{
	return use_4dw(t) ? SOFTEE_TLP_HDR4 : SOFTEE_TLP_HDR3;
}

uint32_t softee_tlp_encoded_len(const struct softee_tlp *t)
{
	uint32_t n = softee_tlp_hdr_len(t);

	if (softee_tlp_kind_has_data(t->kind))
		n += 4u * t->len_dw;
	if (t->td)
		n += 4;
	return n;
}

int softee_tlp_size(const uint8_t *buf, size_t len)
{
	uint32_t fmt, n, dw;

	if (len < 4)
		return -SOFTEE_TLP_ERR_SHORT;
	fmt = buf[0] >> 5;
	if (fmt > SOFTEE_TLP_FMT_4DW_DATA)
		return -SOFTEE_TLP_ERR_FMT_TYPE;
	n = (fmt & 1) ? SOFTEE_TLP_HDR4 : SOFTEE_TLP_HDR3;
	if (fmt & 2) {
		dw = (buf[2] & 3u) << 8 | buf[3];
		n += 4 * (dw ? dw : SOFTEE_TLP_MAX_DW);
	}
	if (buf[2] & 0x80)
		n += 4;
	if (n > len)
		return len < ((fmt & 1) ? SOFTEE_TLP_HDR4 : SOFTEE_TLP_HDR3) ?
			-SOFTEE_TLP_ERR_SHORT : -SOFTEE_TLP_ERR_LENGTH;
	return n;
}

/* Contiguous enables, as requests of 3 DW or more need (2.2.5). */
static bool first_be_contig(uint8_t be)
{
	return be == 0xf || be == 0xe || be == 0xc || be == 0x8;
}

static bool last_be_contig(uint8_t be)
{
	return be == 0xf || be == 0x7 || be == 0x3 || be == 0x1;
}

/*
 * The byte-enable rules of 2.2.5 for a request of len_dw DWs at addr.
 * Length 1: Last DW BE must be 0; any First DW BE (0 is a zero-length
 * request).  Longer: neither may be 0.  Non-contiguous enables are allowed
 * only for a 2-DW memory request whose address is QW aligned; otherwise
 * the enabled bytes must form one run.
 */
static int check_be(enum softee_tlp_kind kind, uint32_t len_dw, uint64_t addr,
		    uint8_t first_be, uint8_t last_be)
{
	if (len_dw == 1)
		return last_be ? -SOFTEE_TLP_ERR_BE_1DW : 0;
	if (!first_be || !last_be)
		return -SOFTEE_TLP_ERR_BE_ZERO;
	if (len_dw == 2 && kind_is_mem(kind) && !(addr & 7))
		return 0;
	if (!first_be_contig(first_be) || !last_be_contig(last_be))
		return -SOFTEE_TLP_ERR_BE_NONCONTIG;
	return 0;
}

/* The checks encode and decode share, on the decoded fields. */
static int check_fields(const struct softee_tlp *t)
{
	enum softee_tlp_kind k = t->kind;
	int ret;

	if (k <= 0 || k >= SOFTEE_TLP_KIND_MAX)
		return -SOFTEE_TLP_ERR_FMT_TYPE;
	if (t->tc > 7 || t->attr > 7 || t->first_be > 0xf || t->last_be > 0xf ||
	    t->lower_addr > 0x7f)
		return -SOFTEE_TLP_ERR_RESERVED;
	if (kind_is_cpl(k)) {
		if (t->status != SOFTEE_TLP_CPL_SC && t->status != SOFTEE_TLP_CPL_UR &&
		    t->status != SOFTEE_TLP_CPL_CRS && t->status != SOFTEE_TLP_CPL_CA)
			return -SOFTEE_TLP_ERR_STATUS;
		if (t->byte_count < 1 || t->byte_count > SOFTEE_TLP_MAX_DATA)
			return -SOFTEE_TLP_ERR_FIXED;
		if (k == SOFTEE_TLP_CPL ? t->len_dw != 0 :
		    t->len_dw < 1 || t->len_dw > SOFTEE_TLP_MAX_DW)
			return -SOFTEE_TLP_ERR_FIXED;
		/* 2.2.9: a completion that is not Successful carries no data (a Cpl) */
		if (k == SOFTEE_TLP_CPLD && t->status != SOFTEE_TLP_CPL_SC)
			return -SOFTEE_TLP_ERR_FIXED;
		return 0;
	}
	if (t->len_dw < 1 || t->len_dw > SOFTEE_TLP_MAX_DW)
		return -SOFTEE_TLP_ERR_FIXED;
	if (kind_is_cfg(k) || kind_is_io(k)) {
		/* 2.2.7 (config), 2.2.5 (I/O): TC 0, Attr 0, Length 1, Last BE 0 */
		if (t->tc || t->attr || t->len_dw != 1)
			return -SOFTEE_TLP_ERR_FIXED;
		if (t->last_be)
			return -SOFTEE_TLP_ERR_BE_1DW;
		if (kind_is_cfg(k) && t->reg > 0x3ff)
			return -SOFTEE_TLP_ERR_RESERVED;
		if (kind_is_io(k) && (t->addr > 0xffffffffULL || (t->addr & 3)))
			return -SOFTEE_TLP_ERR_RESERVED;
		return 0;
	}
	/* memory */
	if (t->addr & 3)
		return -SOFTEE_TLP_ERR_RESERVED;
	ret = check_be(k, t->len_dw, t->addr, t->first_be, t->last_be);
	if (ret)
		return ret;
	if ((t->addr & 0xfff) + 4ULL * t->len_dw > 0x1000)
		return -SOFTEE_TLP_ERR_4K;
	return 0;
}

int softee_tlp_encode(const struct softee_tlp *t, uint8_t *buf, size_t cap)
{
	enum softee_tlp_kind k = t->kind;
	uint32_t n = softee_tlp_encoded_len(t), hdr = softee_tlp_hdr_len(t);
	uint8_t fmt = 0, type = 0;
	bool data;

	if (check_fields(t))
		return -EINVAL;
	if (n > cap)
		return -ENOSPC;
	data = softee_tlp_kind_has_data(k);
	if (data && !t->data)
		return -EINVAL;
	switch (k) {
	case SOFTEE_TLP_MRD: case SOFTEE_TLP_MWR: type = SOFTEE_TLP_TYPE_MEM; break;
	case SOFTEE_TLP_IORD: case SOFTEE_TLP_IOWR: type = SOFTEE_TLP_TYPE_IO; break;
	case SOFTEE_TLP_CFGRD0: case SOFTEE_TLP_CFGWR0: type = SOFTEE_TLP_TYPE_CFG0; break;
	case SOFTEE_TLP_CFGRD1: case SOFTEE_TLP_CFGWR1: type = SOFTEE_TLP_TYPE_CFG1; break;
	default: type = SOFTEE_TLP_TYPE_CPL; break;
	}
	fmt = (hdr == SOFTEE_TLP_HDR4 ? 1 : 0) | (data ? 2 : 0);

	memset(buf, 0, hdr);
	buf[0] = fmt << 5 | type;
	buf[1] = t->tc << 4 | ((t->attr & SOFTEE_TLP_ATTR_IDO) ? 0x04 : 0);
	buf[2] = (t->td ? 0x80 : 0) | (t->ep ? 0x40 : 0) | (t->attr & 3) << 4 |
		 ((t->len_dw >> 8) & 3);
	buf[3] = t->len_dw & 0xff;	/* 1024 wraps to 0, as the spec wants */

	if (kind_is_cpl(k)) {
		buf[4] = t->completer >> 8;
		buf[5] = t->completer;
		buf[6] = t->status << 5 | (t->bcm ? 0x10 : 0) | ((t->byte_count >> 8) & 0xf);
		buf[7] = t->byte_count & 0xff;	/* 4096 wraps to 0 */
		buf[8] = t->requester >> 8;
		buf[9] = t->requester;
		buf[10] = t->tag;
		buf[11] = t->lower_addr & 0x7f;
	} else {
		buf[4] = t->requester >> 8;
		buf[5] = t->requester;
		buf[6] = t->tag;
		buf[7] = t->last_be << 4 | t->first_be;
		if (kind_is_cfg(k)) {
			buf[8] = SOFTEE_BDF_BUS(t->target);
			buf[9] = t->target & 0xff;
			buf[10] = (t->reg >> 6) & 0xf;
			buf[11] = (t->reg & 0x3f) << 2;
		} else if (hdr == SOFTEE_TLP_HDR4) {
			put_be32(buf + 8, t->addr >> 32);
			put_be32(buf + 12, (uint32_t)t->addr & ~3u);
		} else {
			put_be32(buf + 8, (uint32_t)t->addr & ~3u);
		}
	}
	if (data)
		memcpy(buf + hdr, t->data, 4u * t->len_dw);
	if (t->td)
		put_be32(buf + n - 4, t->digest);
	return n;
}

static int decode(struct softee_tlp *t, const uint8_t *buf, size_t len,
		  struct softee_tlp_stats *stats)
{
	uint8_t fmt, type;
	uint32_t hdr, n, dw;
	int size, ret;

	memset(t, 0, sizeof(*t));
	size = softee_tlp_size(buf, len);
	if (size < 0)
		return size;
	n = size;
	fmt = buf[0] >> 5;
	type = buf[0] & 0x1f;
	hdr = (fmt & 1) ? SOFTEE_TLP_HDR4 : SOFTEE_TLP_HDR3;

	switch (type) {
	case SOFTEE_TLP_TYPE_MEM:
		t->kind = (fmt & 2) ? SOFTEE_TLP_MWR : SOFTEE_TLP_MRD;
		break;
	case SOFTEE_TLP_TYPE_IO:
		t->kind = (fmt & 2) ? SOFTEE_TLP_IOWR : SOFTEE_TLP_IORD;
		break;
	case SOFTEE_TLP_TYPE_CFG0:
		t->kind = (fmt & 2) ? SOFTEE_TLP_CFGWR0 : SOFTEE_TLP_CFGRD0;
		break;
	case SOFTEE_TLP_TYPE_CFG1:
		t->kind = (fmt & 2) ? SOFTEE_TLP_CFGWR1 : SOFTEE_TLP_CFGRD1;
		break;
	case SOFTEE_TLP_TYPE_CPL:
		t->kind = (fmt & 2) ? SOFTEE_TLP_CPLD : SOFTEE_TLP_CPL;
		break;
	default:
		return -SOFTEE_TLP_ERR_FMT_TYPE;	/* messages, locked, ... */
	}
	/* Only memory requests have a 4DW form (2.2.1, table 2-3). */
	if (hdr == SOFTEE_TLP_HDR4 && !kind_is_mem(t->kind))
		return -SOFTEE_TLP_ERR_FMT_TYPE;

	/* DW0 */
	if (buf[1] & 0x8a)			/* R (T9), R (T8), R (LN) */
		return -SOFTEE_TLP_ERR_RESERVED;
	if (buf[1] & 0x01)			/* TH */
		return kind_is_mem(t->kind) ? -SOFTEE_TLP_ERR_UNSUPPORTED : -SOFTEE_TLP_ERR_RESERVED;
	if (buf[2] & 0x0c)			/* AT */
		return kind_is_mem(t->kind) ? -SOFTEE_TLP_ERR_UNSUPPORTED : -SOFTEE_TLP_ERR_RESERVED;
	t->tc = (buf[1] >> 4) & 7;
	t->attr = ((buf[1] & 0x04) ? SOFTEE_TLP_ATTR_IDO : 0) | ((buf[2] >> 4) & 3);
	t->td = buf[2] & 0x80;
	t->ep = buf[2] & 0x40;
	dw = (buf[2] & 3u) << 8 | buf[3];

	if (kind_is_cpl(t->kind)) {
		if (t->kind == SOFTEE_TLP_CPL) {
			if (dw)				/* Length is reserved without data */
				return -SOFTEE_TLP_ERR_RESERVED;
		} else {
			t->len_dw = dw ? dw : SOFTEE_TLP_MAX_DW;
		}
		t->completer = buf[4] << 8 | buf[5];
		t->status = buf[6] >> 5;
		t->bcm = buf[6] & 0x10;
		t->byte_count = (buf[6] & 0xfu) << 8 | buf[7];
		if (!t->byte_count)
			t->byte_count = SOFTEE_TLP_MAX_DATA;
		t->requester = buf[8] << 8 | buf[9];
		t->tag = buf[10];
		if (buf[11] & 0x80)
			return -SOFTEE_TLP_ERR_RESERVED;
		t->lower_addr = buf[11] & 0x7f;
	} else {
		t->len_dw = dw ? dw : SOFTEE_TLP_MAX_DW;
		t->requester = buf[4] << 8 | buf[5];
		t->tag = buf[6];
		t->last_be = buf[7] >> 4;
		t->first_be = buf[7] & 0xf;
		if (kind_is_cfg(t->kind)) {
			if ((buf[10] & 0xf0) || (buf[11] & 3))
				return -SOFTEE_TLP_ERR_RESERVED;
			t->target = buf[8] << 8 | buf[9];
			t->reg = (buf[10] & 0xfu) << 6 | buf[11] >> 2;
		} else if (hdr == SOFTEE_TLP_HDR4) {
			if (buf[15] & 3)
				return -SOFTEE_TLP_ERR_RESERVED;
			t->addr = (uint64_t)get_be32(buf + 8) << 32 | get_be32(buf + 12);
			t->addr64 = true;
		} else {
			if (buf[11] & 3)
				return -SOFTEE_TLP_ERR_RESERVED;
			t->addr = get_be32(buf + 8);
		}
	}
	ret = check_fields(t);
	if (ret)
		return ret;
	if (softee_tlp_kind_has_data(t->kind))
		t->data = buf + hdr;
	if (t->td)
		t->digest = get_be32(buf + n - 4);
	if (t->addr64 && t->addr <= 0xffffffffULL && stats)
		stats->addr64_below_4g++;
	return n;
}

int softee_tlp_decode(struct softee_tlp *t, const uint8_t *buf, size_t len,
		      struct softee_tlp_stats *stats)
{
	int ret = decode(t, buf, len, stats);

	if (stats) {
		if (ret >= 0)
			stats->ok++;
		else if (-ret < SOFTEE_TLP_ERR_MAX)
			stats->err[-ret]++;
	}
	return ret;
}

int softee_tlp_set_range(struct softee_tlp *t, uint64_t addr, uint32_t len)
{
	uint64_t start = addr & ~3ULL, end;

	if (len > SOFTEE_TLP_MAX_DATA)
		return -EINVAL;
	if (!len) {
		t->addr = start;
		t->len_dw = 1;
		t->first_be = 0;
		t->last_be = 0;
		return 0;
	}
	end = addr + len;				/* exclusive */
	if (end < addr || ((addr ^ (end - 1)) & ~0xfffULL))
		return -EINVAL;				/* crosses 4 KiB */
	t->addr = start;
	t->len_dw = ((end + 3) & ~3ULL) / 4 - start / 4;
	t->first_be = (0xf << (addr & 3)) & 0xf;
	if (t->len_dw == 1) {
		t->first_be &= 0xf >> ((4 - (end & 3)) & 3);
		t->last_be = 0;
	} else {
		t->last_be = 0xf >> ((4 - (end & 3)) & 3);
	}
	return 0;
}

/* Lowest and highest set bit of a non-zero 4-bit enable. */
static unsigned int be_lo(uint8_t be)
{
	return __builtin_ctz(be);
}

static unsigned int be_hi(uint8_t be)
{
	return 31 - __builtin_clz(be);
}

void softee_tlp_range(const struct softee_tlp *t, uint64_t *addr, uint32_t *len)
{
	uint32_t dws = t->len_dw ? t->len_dw : 1;

	if (!t->first_be) {
		*addr = t->addr;
		*len = 0;
		return;
	}
	*addr = t->addr + be_lo(t->first_be);
	if (dws == 1 || !t->last_be)
		*len = be_hi(t->first_be) - be_lo(t->first_be) + 1;
	else
		*len = 4 * (dws - 1) + be_hi(t->last_be) + 1 - be_lo(t->first_be);
}

int softee_tlp_cpl_split(const struct softee_tlp *req, uint32_t done, uint32_t max_payload,
			 uint32_t rcb, struct softee_tlp *cpl)
{
	uint64_t start, cur, end, stop, dw0, dw1;
	uint32_t len;

	if ((rcb != 64 && rcb != 128) || max_payload < rcb || (max_payload % rcb) ||
	    max_payload > SOFTEE_TLP_MAX_DATA)
		return -EINVAL;
	memset(cpl, 0, sizeof(*cpl));
	cpl->kind = SOFTEE_TLP_CPLD;
	cpl->requester = req->requester;
	cpl->tag = req->tag;
	cpl->tc = req->tc;
	cpl->attr = req->attr;

	if (req->kind != SOFTEE_TLP_MRD) {
		/* I/O and configuration reads: one DW, Byte Count 4, Lower Address 0 */
		if (req->kind != SOFTEE_TLP_IORD && req->kind != SOFTEE_TLP_CFGRD0 &&
		    req->kind != SOFTEE_TLP_CFGRD1)
			return -EINVAL;
		if (done)
			return 0;
		cpl->len_dw = 1;
		cpl->byte_count = 4;
		return 4;
	}
	softee_tlp_range(req, &start, &len);
	if (!len) {
		/* A zero-length read: one DW, Byte Count 1 (2.3.1.1) */
		if (done)
			return 0;
		cpl->len_dw = 1;
		cpl->byte_count = 1;
		cpl->lower_addr = start & 0x7f;
		return 1;
	}
	if (done >= len)
		return 0;
	/* Offsets in the request's 4 KiB page: no overflow at the top of memory. */
	cur = (start & 0xfff) + done;
	end = (start & 0xfff) + len;
	stop = (cur + max_payload) & ~(uint64_t)(rcb - 1);
	if (stop > end)
		stop = end;
	dw0 = cur & ~3ULL;
	dw1 = (stop + 3) & ~3ULL;
	cpl->len_dw = (dw1 - dw0) / 4;
	cpl->byte_count = end - cur;
	cpl->lower_addr = cur & 0x7f;
	return stop - cur;
}
