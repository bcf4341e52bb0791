/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The size checks every softee ioctl must pass (uapi/softee.h, "General
 * ioctl format"), made on one good call so that each fails if the
 * module's check is gone:
 *
 *  - exact: size = the struct's size;
 *  - short: a __u32 short of the smallest size the module takes, a byte
 *    short, and 0: EINVAL.  What the short call leaves out is zero in the
 *    good call (checked), so a module that did not check would read the
 *    same values and succeed;
 *  - long, zeroed: 8 bytes more, all zero, and a whole page: as exact;
 *  - long with garbage: a byte past the struct, first or last of 8
 *    extra, not zero: E2BIG (a module that read only its own bytes would
 *    succeed); a byte past size is not the module's business: as exact;
 *  - longer than a page, zeroed: E2BIG (the module does not scan 4 GiB);
 *  - a bad pointer: EFAULT.
 *
 * A call that succeeds, whether it should or not, goes to done(), which
 * checks the answer and undoes what the call did, so that the next one
 * meets the same state.  Asserts through the harness: include this after
 * kselftest_harness.h.
 */
#ifndef _SELFTESTS_KMOD_SIZES_H
#define _SELFTESTS_KMOD_SIZES_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct ksz_call {
	const char *name;
	int fd;
	unsigned long cmd;
	const void *arg;	/* a good argument; its size field is set here */
	uint32_t ksize;		/* sizeof its struct, as the module has it */
	uint32_t min;		/* the smallest size the module takes */
	/* the answer to a call that went through: check it, undo the call */
	void (*done)(struct __test_metadata *_metadata, void *ctx, long ret, void *arg);
	void *ctx;
};

static inline long ksz_ioctl(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

/*
 * One call of c's good argument with size in its size field and the bytes
 * past ksize from tail (of tail_len); want: -errno, or 1 for "goes
 * through".
 */
static inline void ksz_try(struct __test_metadata *_metadata, const struct ksz_call *c,
			   uint8_t *buf, size_t cap, uint32_t size, const uint8_t *tail,
			   size_t tail_len, long want, const char *what)
{
	long ret;

	memset(buf, 0, cap);
	memcpy(buf, c->arg, c->ksize);
	memcpy(buf, &size, sizeof(size));
	if (tail_len)
		memcpy(buf + c->ksize, tail, tail_len);
	ret = ksz_ioctl(c->fd, c->cmd, buf);
	if (want < 0) {
		EXPECT_EQ(want, ret) TH_LOG("%s: %s (size %u)", c->name, what, size);
	} else {
		EXPECT_LE(0, ret) TH_LOG("%s: %s (size %u): %s", c->name, what, size,
					 strerror(-ret));
	}
	if (ret >= 0)
		c->done(_metadata, c->ctx, ret, buf);
}

static inline void ksz_check(struct __test_metadata *_metadata, const struct ksz_call *c)
{
	uint32_t page = sysconf(_SC_PAGESIZE);
	size_t cap = page + 16;
	uint8_t *buf = calloc(1, cap);
	uint8_t tail[8] = { 0 };
	uint32_t i;

	ASSERT_NE(NULL, buf);
	ASSERT_LE(8, c->min);
	ASSERT_LE(c->min, c->ksize);
	/* the short calls leave out only zeroes: without the check they go through */
	for (i = c->min - 4; i < c->ksize; i++)
		ASSERT_EQ(0, ((const uint8_t *)c->arg)[i]) TH_LOG("%s: byte %u of the good call",
								 c->name, i);

	ksz_try(_metadata, c, buf, cap, c->ksize, NULL, 0, 1, "exact");
	if (c->min < c->ksize)
		ksz_try(_metadata, c, buf, cap, c->min, NULL, 0, 1, "the smallest");
	ksz_try(_metadata, c, buf, cap, c->min - 4, NULL, 0, -EINVAL, "a __u32 short");
	ksz_try(_metadata, c, buf, cap, c->min - 1, NULL, 0, -EINVAL, "a byte short");
	ksz_try(_metadata, c, buf, cap, 0, NULL, 0, -EINVAL, "size 0");

	ksz_try(_metadata, c, buf, cap, c->ksize + 8, tail, 8, 1, "8 zero bytes more");
	ksz_try(_metadata, c, buf, cap, page, NULL, 0, 1, "a page, zeroed");
	tail[0] = 0x01;
	ksz_try(_metadata, c, buf, cap, c->ksize + 8, tail, 8, -E2BIG,
		"8 bytes more, the first not zero");
	ksz_try(_metadata, c, buf, cap, c->ksize, tail, 8, 1, "garbage past size");
	tail[0] = 0;
	tail[7] = 0x80;
	ksz_try(_metadata, c, buf, cap, c->ksize + 8, tail, 8, -E2BIG,
		"8 bytes more, the last not zero");
	ksz_try(_metadata, c, buf, cap, page + 1, NULL, 0, -E2BIG, "a page and a byte, zeroed");

	EXPECT_EQ(-EFAULT, ksz_ioctl(c->fd, c->cmd, (void *)8)) TH_LOG("%s: bad pointer", c->name);
	free(buf);
}

#endif /* _SELFTESTS_KMOD_SIZES_H */
