// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the TLP decoder (softee/tlp.h).  Besides "no crash,
 * no read past the buffer" (ASan, and the input is copied to a buffer of
 * its exact size), it checks the codec's own promises on whatever it
 * accepts: the size is what DW0 says, the encoding is canonical (encoding
 * the decoded TLP gives the same bytes back), and the byte helpers and the
 * completion splitter agree with the request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <softee/tlp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SOFTEE_TLP_MAX_SIZE], cbuf[SOFTEE_TLP_MAX_SIZE];
	struct softee_tlp_stats st = { 0 };
	struct softee_tlp t, cpl;
	uint8_t *buf = malloc(size ? size : 1);
	uint32_t len, done;
	uint64_t addr;
	int n, m, k;

	memcpy(buf, data, size);
	n = softee_tlp_decode(&t, buf, size, &st);
	if (n < 0) {
		if (-n >= SOFTEE_TLP_ERR_MAX || st.err[-n] != 1)
			abort();			/* every refusal counted, with a reason */
		goto out;
	}
	if (st.ok != 1 || (size_t)n > size || softee_tlp_size(buf, size) != n)
		abort();
	m = softee_tlp_encode(&t, out, sizeof(out));
	if (m != n || memcmp(out, buf, n))
		abort();				/* not canonical */
	if (t.kind == SOFTEE_TLP_MRD || t.kind == SOFTEE_TLP_MWR) {
		softee_tlp_range(&t, &addr, &len);
		/* (as offsets into the TLP's DWs: a request may end exactly at 2^64) */
		if (len > 4u * t.len_dw || (len && (addr < t.addr || addr - t.addr > 4u * t.len_dw - len)))
			abort();
	}
	if (t.kind == SOFTEE_TLP_MRD) {
		for (done = 0, k = 0; k < 64; k++) {
			int c = softee_tlp_cpl_split(&t, done, 128, 64, &cpl);

			if (c <= 0)
				break;
			if (softee_tlp_encode(&(struct softee_tlp){ .kind = SOFTEE_TLP_CPLD,
				.len_dw = cpl.len_dw, .byte_count = cpl.byte_count,
				.lower_addr = cpl.lower_addr, .data = out }, cbuf, sizeof(cbuf)) < 0)
				abort();		/* the splitter made a bad completion */
			done += c;
		}
		softee_tlp_range(&t, &addr, &len);
		if (done != (len ? len : 1))
			abort();
	}
out:
	free(buf);
	return 0;
}
