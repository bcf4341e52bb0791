// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the frame parser (softee/frame.h).  The first input
 * byte chooses whether to fix the CRC up before parsing, so that the
 * fuzzer gets past it and explores the checks behind it; the rest is the
 * frame, copied to a buffer of its exact size.  On a frame the parser
 * accepts: the TLP walk tiles the payload with the announced count, and
 * building the same frame again gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <softee/frame.h>
#include <softee/tlp.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SOFTEE_NETDEV_MAX_FRAME + 70000];
	struct softee_frame_stats st = { 0 };
	struct softee_frame_build bld;
	struct softee_frame_hb hb;
	struct softee_frame f;
	const uint8_t *tlp;
	uint32_t off = 0, len, n = 0, sum = 0, flen;
	uint8_t *buf;
	int ret;

	if (!size)
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		fix_crc(buf, size - 1);
	ret = softee_frame_parse(&f, buf, size - 1, (data[0] & 2) ? 0x88b6 : 0, &st);
	if (ret) {
		if (-ret >= SOFTEE_FRAME_ERR_MAX || st.err[-ret] != 1)
			abort();
		goto out;
	}
	if (f.payload < buf || f.payload + f.payload_len > buf + size - 1)
		abort();
	while (softee_frame_next_tlp(&f, &off, &tlp, &len)) {
		n++;
		sum += len;
	}
	if (f.h.type == SOFTEE_FRAME_DATA && (n != f.h.tlp_count || sum != f.payload_len))
		abort();
	if (f.h.type == SOFTEE_FRAME_HEARTBEAT && softee_frame_hb_get(&hb, f.payload, f.payload_len))
		abort();
	/* build it again */
	if (softee_frame_begin(&bld, out, sizeof(out), &f.h))
		abort();
	if (f.h.type == SOFTEE_FRAME_DATA) {
		off = 0;
		while (softee_frame_next_tlp(&f, &off, &tlp, &len))
			if (softee_frame_add_tlp(&bld, tlp, len))
				abort();
	} else if (softee_frame_add_bytes(&bld, f.payload, f.payload_len)) {
		abort();
	}
	flen = softee_frame_finish(&bld);
	/* same bytes, but the tag's PCP/DEI nibble, which the parser keeps only in part */
	if (flen > size - 1)
		abort();
	if (f.h.vlan)
		out[14] = (out[14] & 0x0f) | (buf[14] & 0xf0);
	if (memcmp(out, buf, flen))
		abort();
out:
	free(buf);
	return 0;
}
