// SPDX-License-Identifier: GPL-2.0
/*
 * Endpoint models by name ("test,devmem=1048576,mps=512"), and the CRC-32
 * the models use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softee/endpoint.h>
#include <softee/tlp.h>

/* A number with an optional K/M/G/T suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *v)
{
	static const char sfx[] = "kmgt";
	const char *p;
	char *end;
	unsigned long long x;
	unsigned int sh;

	errno = 0;
	if (*s == '-')
		return -EINVAL;
	x = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	p = *end ? strchr(sfx, *end | 0x20) : NULL;
	if (p) {
		sh = 10 * (unsigned int)(p - sfx + 1);
		if (x > (~0ULL >> sh))
			return -EINVAL;
		x <<= sh;
		end++;
	}
	if (*end)
		return -EINVAL;
	*v = x;
	return 0;
}

/* The keys of the nvme model; 0, or -EINVAL with the message in err. */
static int parse_nvme_key(const char *key, const char *val, struct softee_nvme_cfg *nc,
			  char *err, size_t errlen)
{
	uint64_t v;

	if (!strcmp(key, "file")) {
		if (!*val) {
			snprintf(err, errlen, "endpoint nvme: file= needs a path");
			return -EINVAL;
		}
		nc->file = val;
	} else if (!strcmp(key, "size")) {
		if (parse_size(val, &v) || !v) {
			snprintf(err, errlen, "endpoint nvme: bad size '%s' (bytes, suffixes K M G T)",
				 val);
			return -EINVAL;
		}
		nc->size = v;
	} else if (!strcmp(key, "lbasize")) {
		if (parse_size(val, &v) || (v != 512 && v != 4096)) {
			snprintf(err, errlen, "endpoint nvme: bad lbasize '%s' (512 or 4096)", val);
			return -EINVAL;
		}
		nc->lba_size = (uint32_t)v;
	} else if (!strcmp(key, "queues")) {
		if (parse_size(val, &v) || v < 1 || v > 64) {
			snprintf(err, errlen, "endpoint nvme: bad queues '%s' (I/O queue pairs, 1..64)",
				 val);
			return -EINVAL;
		}
		nc->queues = (unsigned int)v;
	} else {
		return 1;	/* not ours */
	}
	return 0;
}

static int parse_bdf(const char *s, uint16_t *bdf)
{
	unsigned int bus, dev, fn;
	char tail;

	if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3 || bus > 0xff || dev > 0x1f ||
	    fn > 7)
		return -EINVAL;
	*bdf = SOFTEE_BDF(bus, dev, fn);
	return 0;
}

int softee_endpoint_create(const char *spec, struct softee_endpoint **ep, char *err,
			   size_t errlen)
{
	struct softee_ep_cfg cfg = { 0 };
	struct softee_nvme_cfg nc = { 0 };
	uint64_t devmem = 0;
	char *copy, *model, *tok, *save = NULL;
	int ret = 0;

	if (ep)
		*ep = NULL;
	if (!spec || !*spec) {
		snprintf(err, errlen, "endpoint: empty spec (try \"test\")");
		return -EINVAL;
	}
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	model = strtok_r(copy, ",", &save);
	if (!model || spec[0] == ',') {
		snprintf(err, errlen, "endpoint: no model first in '%s' (models: test, nvme)", spec);
		ret = -EINVAL;
		goto out;
	}
	if (strcmp(model, "test") && strcmp(model, "nvme")) {
		snprintf(err, errlen, "endpoint: unknown model '%s' (models: test, nvme)", model);
		ret = -EINVAL;
		goto out;
	}
	for (tok = strtok_r(NULL, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t v;

		if (!eq && !strcmp(model, "nvme") && !strcmp(tok, "create")) {
			nc.create = true;
			continue;
		}
		if (!eq) {
			snprintf(err, errlen, "endpoint %s: '%s' is not key=value", model, tok);
			ret = -EINVAL;
			goto out;
		}
		*eq++ = '\0';
		if (!strcmp(tok, "bdf")) {
			ret = parse_bdf(eq, &cfg.bdf);
		} else if (!strcmp(tok, "mps") || !strcmp(tok, "mrrs")) {
			ret = parse_size(eq, &v);
			if (!ret && (v < 128 || v > 4096 || (v & (v - 1))))
				ret = -EINVAL;
			if (!ret && tok[1] == 'p')
				cfg.max_payload = (uint32_t)v;
			else if (!ret)
				cfg.max_read_req = (uint32_t)v;
		} else if (!strcmp(tok, "devmem") && !strcmp(model, "test")) {
			ret = parse_size(eq, &devmem);
			if (!ret && (devmem < 4096 || devmem > (64u << 20)))
				ret = -EINVAL;
		} else if (!strcmp(model, "nvme") &&
			   (ret = parse_nvme_key(tok, eq, &nc, err, errlen)) <= 0) {
			if (ret)
				goto out;
		} else {
			snprintf(err, errlen, "endpoint %s: unknown key '%s'", model, tok);
			ret = -EINVAL;
			goto out;
		}
		if (ret) {
			snprintf(err, errlen, "endpoint %s: bad %s '%s' (bdf=BB:DD.F, mps/mrrs: a power "
				 "of two 128..4096, devmem: 4K..64M)", model, tok, eq);
			goto out;
		}
	}
	if (!strcmp(model, "nvme") && !nc.file) {
		snprintf(err, errlen, "endpoint nvme: file=PATH is required");
		ret = -EINVAL;
	} else if (!ep) {
		ret = 0;			/* the spec only */
	} else if (!strcmp(model, "test")) {
		ret = softee_testdev_create(ep, &cfg, (uint32_t)devmem);
		if (ret)
			snprintf(err, errlen, "endpoint test: %s", strerror(-ret));
	} else {
		ret = softee_nvme_create(ep, &cfg, &nc, err, errlen);
	}
out:
	free(copy);
	return ret;
}
