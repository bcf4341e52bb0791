// SPDX-License-Identifier: GPL-2.0
/* Wrappers for the ioctls of softee.ko (see softee/kmod.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <softee/kmod.h>

const char *softee_bus_name(uint8_t bus)
{
	switch (bus) {
	case SOFTEE_BUS_MMIO: return "MMIO";
	case SOFTEE_BUS_PIO: return "PIO";
	case SOFTEE_BUS_CFG: return "CFG";
	default: return "?";
	}
}

static int softee_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* What every ioctl can answer that is not about its own arguments. */
static const char *softee_common_hint(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return "permission denied: softee needs CAP_SYS_ADMIN (run as root)";
	case -ENOTTY:
		return "the fd is not a softee session, or softee.ko is older than this program";
	case -E2BIG:
		return "this program uses a newer ABI than the loaded softee.ko: rebuild and reload the module";
	case -EINVAL:
		return "the module refused an argument (flag, reserved field or range)";
	case -ENOMEM:
		return "out of memory";
	default:
		return NULL;
	}
}

static int softee_fail(int err, const char *what, const char *hint)
{
	if (!hint)
		hint = softee_common_hint(err);
	fprintf(stderr, "softee: %s: %s%s%s\n", what, strerror(-err),
		hint ? ": " : "", hint ? hint : "");
	return err;
}

int __softee_open(void)
{
	int fd = open(SOFTEE_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int softee_open(void)
{
	int fd = __softee_open();

	switch (fd) {
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		fprintf(stderr, "softee: %s: softee.ko is not loaded (insmod build/softee.ko)\n",
			SOFTEE_DEVICE);
		break;
	case -EACCES:
	case -EPERM:
		fprintf(stderr, "softee: %s: permission denied: run as root\n", SOFTEE_DEVICE);
		break;
	default:
		if (fd < 0)
			fprintf(stderr, "softee: open %s: %s\n", SOFTEE_DEVICE, strerror(-fd));
	}
	return fd;
}

int __softee_attach(int dev_fd, struct softee_attach *a)
{
	a->size = sizeof(*a);
	return softee_ioctl(dev_fd, SOFTEE_ATTACH, a);
}

static int softee_session_map(struct softee_session *s)
{
	const struct softee_attach *a = &s->attach;
	uint32_t i;
	int ret;

	if (!a->ring_bytes || a->mmap_bytes < (uint64_t)a->ring_bytes * a->nr_rings)
		return -EPROTO;
	s->map = mmap(NULL, a->mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		      SOFTEE_OFF_RINGS);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	/* The views have cache-line-aligned members: aligned memory. */
	s->rings = aligned_alloc(64, (size_t)a->nr_rings * sizeof(*s->rings));
	if (!s->rings)
		return -ENOMEM;
	memset(s->rings, 0, (size_t)a->nr_rings * sizeof(*s->rings));
	s->nr_rings = a->nr_rings;
	for (i = 0; i < a->nr_rings; i++) {
		ret = softee_ring_init(&s->rings[i],
				       (char *)s->map + (size_t)i * a->ring_bytes,
				       a->ring_bytes, &a->ring_off);
		if (ret)
			return -EPROTO;
	}
	return 0;
}

/* Attach through an open /dev/softee and map the rings. */
static int softee_session_attach(struct softee_session *s, int dev, int vm_fd,
				 uint32_t nr_rings, uint32_t ring_entries,
				 uint32_t timeout_us, uint32_t flags)
{
	int ret;

	s->attach.flags = flags;
	s->attach.vm_fd = vm_fd;
	s->attach.nr_rings = nr_rings;
	s->attach.ring_entries = ring_entries;
	s->attach.timeout_us = timeout_us;
	ret = __softee_attach(dev, &s->attach);
	if (ret < 0)
		return ret;
	s->fd = ret;
	ret = softee_session_map(s);
	if (ret) {
		softee_session_close(s);
		return ret;
	}
	return 0;
}

int __softee_session_open(struct softee_session *s, int vm_fd, uint32_t nr_rings,
			  uint32_t ring_entries, uint32_t timeout_us, uint32_t flags)
{
	int dev, ret;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	dev = __softee_open();
	if (dev < 0)
		return dev;
	ret = softee_session_attach(s, dev, vm_fd, nr_rings, ring_entries, timeout_us, flags);
	close(dev);
	return ret;
}

int softee_session_open(struct softee_session *s, int vm_fd, uint32_t nr_rings,
			uint32_t ring_entries, uint32_t timeout_us, uint32_t flags)
{
	char what[96];
	int dev, ret;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	dev = softee_open();
	if (dev < 0)
		return dev;
	ret = softee_session_attach(s, dev, vm_fd, nr_rings, ring_entries, timeout_us, flags);
	close(dev);
	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "SOFTEE_ATTACH vm_fd %d, %u rings", vm_fd, nr_rings);
	switch (ret) {
	case -EBADF:
		return softee_fail(ret, what, "the VM fd is not open");
	case -ENOTTY:
		return softee_fail(ret, what, "the fd is not a KVM VM (anon_inode:kvm-vm)");
	case -EBUSY:
		return softee_fail(ret, what, "the VM already has a softee session: close it first");
	case -EINVAL:
		return softee_fail(ret, what, "ring count, ring size or timeout out of range (uapi/softee.h limits)");
	case -EPROTO:
		return softee_fail(ret, what, "the module's ring layout makes no sense to this program: rebuild both");
	default:
		return softee_fail(ret, what, NULL);
	}
}

void softee_session_close(struct softee_session *s)
{
	if (s->map)
		munmap(s->map, s->attach.mmap_bytes);
	free(s->rings);
	if (s->fd >= 0)
		close(s->fd);
	s->map = NULL;
	s->rings = NULL;
	s->nr_rings = 0;
	s->fd = -1;
}

int __softee_region_add(int session_fd, uint8_t bus, uint64_t base,
			uint64_t len, uint32_t flags, uint32_t *id)
{
	struct softee_region r = {
		.size = sizeof(r),
		.flags = flags,
		.bus = bus,
		.base = base,
		.len = len,
	};
	int ret = softee_ioctl(session_fd, SOFTEE_REGION_ADD, &r);

	if (!ret && id)
		*id = r.id;
	return ret;
}

int softee_region_add(int session_fd, uint8_t bus, uint64_t base,
		      uint64_t len, uint32_t flags, uint32_t *id)
{
	int ret = __softee_region_add(session_fd, bus, base, len, flags, id);
	char what[96];

	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "SOFTEE_REGION_ADD %s 0x%llx+0x%llx",
		 softee_bus_name(bus), (unsigned long long)base, (unsigned long long)len);
	switch (ret) {
	case -EEXIST:
		return softee_fail(ret, what, "overlaps a region of this session: remove it or pick another range");
	case -EADDRNOTAVAIL:
		return softee_fail(ret, what, "overlaps guest RAM (a memslot): pick an address outside the guest's memory");
	case -EOVERFLOW:
		return softee_fail(ret, what, "base + length wraps, or a PIO range goes past port 0xffff");
	case -ENOSPC:
		return softee_fail(ret, what, "too many regions (SOFTEE_MAX_REGIONS) or KVM's I/O bus is full");
	case -EINVAL:
		return softee_fail(ret, what, "bad bus, zero length or unknown flag");
	default:
		return softee_fail(ret, what, NULL);
	}
}

int __softee_region_del(int session_fd, uint32_t id)
{
	struct softee_region_del d = { .size = sizeof(d), .id = id };

	return softee_ioctl(session_fd, SOFTEE_REGION_DEL, &d);
}

int softee_region_del(int session_fd, uint32_t id)
{
	int ret = __softee_region_del(session_fd, id);
	char what[64];

	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "SOFTEE_REGION_DEL id %u", id);
	return softee_fail(ret, what, ret == -ENOENT ? "no region with that id" : NULL);
}

int __softee_set_timeout(int session_fd, uint32_t timeout_us, uint32_t *old_us)
{
	struct softee_timeout t = { .size = sizeof(t), .timeout_us = timeout_us };
	int ret = softee_ioctl(session_fd, SOFTEE_SET_TIMEOUT, &t);

	if (!ret && old_us)
		*old_us = t.old_us;
	return ret;
}

int softee_set_timeout(int session_fd, uint32_t timeout_us, uint32_t *old_us)
{
	int ret = __softee_set_timeout(session_fd, timeout_us, old_us);
	char what[64];

	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "SOFTEE_SET_TIMEOUT %u us", timeout_us);
	return softee_fail(ret, what, ret == -EINVAL ? "the timeout must be 1.." "10000000 us (0 = default)" : NULL);
}

int __softee_get_stats(int session_fd, uint32_t scope, uint32_t index,
		       struct softee_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->scope = scope;
	st->index = index;
	return softee_ioctl(session_fd, SOFTEE_GET_STATS, st);
}

int softee_get_stats(int session_fd, uint32_t scope, uint32_t index,
		     struct softee_stats *st)
{
	int ret = __softee_get_stats(session_fd, scope, index, st);
	char what[64];

	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "SOFTEE_GET_STATS scope %u index %u", scope, index);
	return softee_fail(ret, what, ret == -ENOENT ? "no ring or region with that index" : NULL);
}

int __softee_cfg_add(int session_fd, uint32_t bdf, uint32_t flags, uint64_t ecam_base,
		     uint8_t ecam_bus_start, uint8_t ecam_bus_end, uint32_t *id)
{
	struct softee_cfg c = {
		.size = sizeof(c),
		.flags = flags,
		.bdf = bdf,
		.ecam_base = ecam_base,
		.ecam_bus_start = ecam_bus_start,
		.ecam_bus_end = ecam_bus_end,
	};
	int ret = softee_ioctl(session_fd, SOFTEE_CFG_ADD, &c);

	if (!ret && id)
		*id = c.id;
	return ret;
}

int softee_cfg_add(int session_fd, uint32_t bdf, uint32_t flags, uint64_t ecam_base,
		   uint8_t ecam_bus_start, uint8_t ecam_bus_end, uint32_t *id)
{
	int ret = __softee_cfg_add(session_fd, bdf, flags, ecam_base, ecam_bus_start,
				   ecam_bus_end, id);
	char what[96];

	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "SOFTEE_CFG_ADD %02x:%02x.%x", (bdf >> 8) & 0xff,
		 (bdf >> 3) & 0x1f, bdf & 7);
	switch (ret) {
	case -EEXIST:
		return softee_fail(ret, what, "the BDF is trapped already, or a region claims ports 0xcf8-0xcff or its ECAM page");
	case -EADDRNOTAVAIL:
		return softee_fail(ret, what, "its ECAM page lies in guest RAM (a memslot): check the ECAM base");
	case -EOVERFLOW:
		return softee_fail(ret, what, "the ECAM window (base + bus range) ends past 2^52");
	case -ENOSPC:
		return softee_fail(ret, what, "too many config traps (SOFTEE_MAX_CFG) or KVM's I/O bus is full");
	case -ENOTTY:
		return softee_fail(ret, what, "softee.ko has no config traps (SOFTEE_FEAT_CFG): rebuild and reload it");
	case -EINVAL:
		return softee_fail(ret, what, "bad BDF or flag, ECAM base not 1 MiB aligned, or the bus outside the ECAM bus range");
	default:
		return softee_fail(ret, what, NULL);
	}
}

int __softee_cfg_del(int session_fd, uint32_t id)
{
	struct softee_cfg_del d = { .size = sizeof(d), .id = id };

	return softee_ioctl(session_fd, SOFTEE_CFG_DEL, &d);
}

int softee_cfg_del(int session_fd, uint32_t id)
{
	int ret = __softee_cfg_del(session_fd, id);
	char what[64];

	if (!ret)
		return 0;
	snprintf(what, sizeof(what), "SOFTEE_CFG_DEL id %u", id);
	return softee_fail(ret, what, ret == -ENOENT ? "no config trap with that id" : NULL);
}

int __softee_signal_msi(int session_fd, uint64_t address, uint32_t data)
{
	struct softee_msi m = {
		.size = sizeof(m),
		.address_lo = (uint32_t)address,
		.address_hi = (uint32_t)(address >> 32),
		.data = data,
	};
	int ret = ioctl(session_fd, SOFTEE_SIGNAL_MSI, &m);

	return ret < 0 ? -errno : ret;
}
