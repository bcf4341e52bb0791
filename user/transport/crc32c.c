// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as
 * iSCSI and ext4 use it: the SSE4.2 crc32 instruction when the CPU has it,
 * else slicing by 8 over tables built on first use.  crc32c("123456789") =
 * 0xE3069283.
 *
 * The crc32 instruction takes three cycles but can start one per cycle, so
 * one chain of it over a frame runs at a third of what the core can do.
 * Longer runs go three chains at a time over three adjacent blocks and
 * join them: CRC is linear, so for the register r after a block X and an
 * all-zero start, crc(c, X0 X1) = shift_|X1|(crc(c, X0)) ^ crc(0, X1),
 * where shift_n(c) is crc(c, n zero bytes), a linear map of the 32 bits of
 * c that four 256-entry tables apply (built on first use, one set per
 * block size).  The same idea as Intel's crc_pcl and Mark Adler's crc32c.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <softee/frame.h>

#define CRC32C_POLY	0x82f63b78u

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;

/* Three chains over blocks of these many bytes each (multiples of 8). */
#define CRC_LONG	256
#define CRC_SHORT	64
static uint32_t crc_shift_long[4][256], crc_shift_short[4][256];

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t len);
static void crc_shift_init(uint32_t tab[4][256], size_t n);

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC32C_POLY & -(c & 1));
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_tab[j][i] = (crc_tab[j - 1][i] >> 8) ^ crc_tab[0][crc_tab[j - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
	crc_shift_init(crc_shift_long, CRC_LONG);
	crc_shift_init(crc_shift_short, CRC_SHORT);
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t w;

	while (len && ((uintptr_t)p & 7)) {
		c = (c >> 8) ^ crc_tab[0][(c ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);	/* little-endian host (x86-64) */
		w ^= c;
		c = crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
		    crc_tab[5][(w >> 16) & 0xff] ^ crc_tab[4][(w >> 24) & 0xff] ^
		    crc_tab[3][(w >> 32) & 0xff] ^ crc_tab[2][(w >> 40) & 0xff] ^
		    crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ crc_tab[0][(c ^ *p++) & 0xff];
	return c;
}

/*
 * tab[k][v] = shift_n(v << 8k): the register after n zero bytes, from a
 * register holding v in its byte k.  shift_n is linear, so it is enough to
 * run the 32 one-bit registers through the zeros.
 */
static void crc_shift_init(uint32_t tab[4][256], size_t n)
{
	static const uint8_t zeros[CRC_LONG];
	uint32_t bit[32], v, x;
	int i, k;

	for (i = 0; i < 32; i++)
		bit[i] = crc_sw(1u << i, zeros, n);
	for (k = 0; k < 4; k++) {
		for (v = 0; v < 256; v++) {
			x = 0;
			for (i = 0; i < 8; i++)
				if (v & (1u << i))
					x ^= bit[8 * k + i];
			tab[k][v] = x;
		}
	}
}

static inline uint32_t crc_shift(const uint32_t tab[4][256], uint32_t c)
{
	return tab[0][c & 0xff] ^ tab[1][(c >> 8) & 0xff] ^
	       tab[2][(c >> 16) & 0xff] ^ tab[3][c >> 24];
}

#if defined(__x86_64__)
/* Three chains over the 3 * n bytes at p, joined (n a multiple of 8). */
__attribute__((target("sse4.2")))
static uint64_t crc_hw_3way(uint64_t c0, const uint8_t *p, size_t n,
			    const uint32_t tab[4][256])
{
	const uint8_t *p1 = p + n, *p2 = p + 2 * n, *end = p1;
	uint64_t c1 = 0, c2 = 0, w0, w1, w2;

	while (p < end) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p1, 8);
		memcpy(&w2, p2, 8);
		c0 = __builtin_ia32_crc32di(c0, w0);
		c1 = __builtin_ia32_crc32di(c1, w1);
		c2 = __builtin_ia32_crc32di(c2, w2);
		p += 8;
		p1 += 8;
		p2 += 8;
	}
	c0 = crc_shift(tab, (uint32_t)c0) ^ c1;
	return crc_shift(tab, (uint32_t)c0) ^ c2;
}

__attribute__((target("sse4.2")))
static uint32_t crc_hw_run(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c, w;

	while (len >= 3 * CRC_LONG) {
		c64 = crc_hw_3way(c64, p, CRC_LONG, crc_shift_long);
		p += 3 * CRC_LONG;
		len -= 3 * CRC_LONG;
	}
	while (len >= 3 * CRC_SHORT) {
		c64 = crc_hw_3way(c64, p, CRC_SHORT, crc_shift_short);
		p += 3 * CRC_SHORT;
		len -= 3 * CRC_SHORT;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		c64 = __builtin_ia32_crc32di(c64, w);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#endif

uint32_t softee_crc32c(uint32_t crc, const void *p, size_t len)
{
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
	if (crc_hw)
		return ~crc_hw_run(c, p, len);
#endif
	return ~crc_sw(c, p, len);
}

uint32_t softee_crc32c_sw(uint32_t crc, const void *p, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return ~crc_sw(~crc, p, len);
}
