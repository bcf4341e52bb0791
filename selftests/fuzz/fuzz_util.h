/* SPDX-License-Identifier: GPL-2.0 */
/* What the harnesses share. */
#ifndef _SOFTEE_FUZZ_UTIL_H
#define _SOFTEE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <softee/frame.h>

/* Make the CRC of a frame right (if its lengths let us find it). */
static inline void fix_crc(uint8_t *b, size_t size)
{
	size_t hoff = 14, plen;
	uint32_t crc;

	if (size >= 18 && b[12] == 0x81 && b[13] == 0x00)
		hoff = 18;
	if (size < hoff + SOFTEE_FRAME_OVERHEAD)
		return;
	plen = (size_t)b[hoff + 6] << 8 | b[hoff + 7];
	if (hoff + SOFTEE_FRAME_OVERHEAD + plen > size)
		return;
	crc = softee_crc32c(softee_crc32c(0, b, 12), b + hoff, SOFTEE_FRAME_HDR + plen);
	b[hoff + SOFTEE_FRAME_HDR + plen] = crc >> 24;
	b[hoff + SOFTEE_FRAME_HDR + plen + 1] = crc >> 16;
	b[hoff + SOFTEE_FRAME_HDR + plen + 2] = crc >> 8;
	b[hoff + SOFTEE_FRAME_HDR + plen + 3] = crc;
}

#endif /* _SOFTEE_FUZZ_UTIL_H */
