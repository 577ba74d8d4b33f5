/*
 * npy: .npy matrix reader (mmap) and writer. See npy.h for the contract.
 *
 * The header is a Python dict literal such as
 *   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and a newline. We parse it with a small recursive-descent
 * reader that accepts exactly the value kinds the three keys need (a string, a
 * boolean, a tuple of non-negative integers) and rejects anything else.
 */
#include "io/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c reads little-endian data in place: port it before building on a big-endian machine"
#endif

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

const char *
npy_dtype_descr(enum match_dtype dtype)
{
	switch (dtype) {
	case MATCH_F64:
		return "<f8";
	case MATCH_F32:
		return "<f4";
	case MATCH_I16:
		return "<i2";
	case MATCH_I32:
		return "<i4";
	}
	return "?";
}

/* A cursor over the header text; every reader stops at end without overrunning. */
struct hdr {
	const char *p, *end;
	const char *name; /* file name for messages */
	struct diag *d;
};

static void
hdr_ws(struct hdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

static int
hdr_expect(struct hdr *h, char c, const char *what)
{
	hdr_ws(h);
	if (h->p >= h->end || *h->p != c)
		return diag_set(h->d, DIAG_INVALID, "%s: bad .npy header: expected %s", h->name,
				what);
	h->p++;
	return 0;
}

/* A quoted string (' or "), no escapes (none of the valid values need them). */
static int
hdr_string(struct hdr *h, char *out, size_t size)
{
	hdr_ws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return diag_set(h->d, DIAG_INVALID, "%s: bad .npy header: expected a quoted string",
				h->name);
	char q = *h->p++;
	size_t n = 0;
	while (h->p < h->end && *h->p != q) {
		if (n + 1 >= size || *h->p == '\\')
			return diag_set(h->d, DIAG_INVALID,
					"%s: bad .npy header: string too long or escaped", h->name);
		out[n++] = *h->p++;
	}
	if (h->p >= h->end)
		return diag_set(h->d, DIAG_INVALID, "%s: bad .npy header: unterminated string",
				h->name);
	h->p++;
	out[n] = '\0';
	return 0;
}

static int
hdr_bool(struct hdr *h, int *out)
{
	hdr_ws(h);
	size_t left = (size_t)(h->end - h->p);
	if (left >= 4 && memcmp(h->p, "True", 4) == 0) {
		*out = 1;
		h->p += 4;
	} else if (left >= 5 && memcmp(h->p, "False", 5) == 0) {
		*out = 0;
		h->p += 5;
	} else {
		return diag_set(h->d, DIAG_INVALID,
				"%s: bad .npy header: fortran_order must be True or False",
				h->name);
	}
	return 0;
}

/* A tuple of non-negative integers: (), (n,), (a, b), ... Up to 8 dimensions kept. */
static int
hdr_shape(struct hdr *h, long long *dims, int *ndim)
{
	if (hdr_expect(h, '(', "'(' to open the shape") != 0)
		return -1;
	*ndim = 0;
	for (;;) {
		hdr_ws(h);
		if (h->p < h->end && *h->p == ')') {
			h->p++;
			return 0;
		}
		if (h->p >= h->end || *h->p < '0' || *h->p > '9')
			return diag_set(
			    h->d, DIAG_INVALID,
			    "%s: bad .npy header: shape must be a tuple of non-negative integers",
			    h->name);
		long long v = 0;
		while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
			if (v > (LLONG_MAX - 9) / 10)
				return diag_set(h->d, DIAG_INVALID,
						"%s: bad .npy header: shape dimension too large",
						h->name);
			v = v * 10 + (*h->p++ - '0');
		}
		if (h->p < h->end && (*h->p == 'L' || *h->p == 'l'))
			h->p++; /* Python 2 longs */
		if (*ndim >= 8)
			return diag_set(h->d, DIAG_INVALID,
					"%s: bad .npy header: too many dimensions", h->name);
		dims[(*ndim)++] = v;
		hdr_ws(h);
		if (h->p < h->end && *h->p == ',') {
			h->p++;
			continue;
		}
		if (h->p < h->end && *h->p == ')') {
			h->p++;
			return 0;
		}
		return diag_set(h->d, DIAG_INVALID,
				"%s: bad .npy header: expected ',' or ')' in the shape", h->name);
	}
}

static int
parse_descr(struct hdr *h, const char *descr, enum match_dtype *dtype)
{
	char order = descr[0];
	if (order == '>')
		return diag_set(
		    h->d, DIAG_INVALID,
		    "%s: big-endian data ('%s') is not supported; save it little-endian", h->name,
		    descr);
	if (order != '<' && order != '=' && order != '|')
		return diag_set(h->d, DIAG_INVALID, "%s: unsupported dtype '%s'", h->name, descr);
	const char *t = descr + 1;
	if (strcmp(t, "f8") == 0)
		*dtype = MATCH_F64;
	else if (strcmp(t, "f4") == 0)
		*dtype = MATCH_F32;
	else if (strcmp(t, "i2") == 0)
		*dtype = MATCH_I16;
	else if (strcmp(t, "i4") == 0)
		*dtype = MATCH_I32;
	else
		return diag_set(h->d, DIAG_INVALID,
				"%s: unsupported dtype '%s' (use float64, float32, int16 or int32)",
				h->name, descr);
	/*
	 * '=' is native order and '|' "not applicable"; both read as little-endian,
	 * the only byte order of the machines tandem runs on.
	 */
	return 0;
}

/* Parses the dict; fills dtype, fortran order and shape. Every key exactly once. */
static int
parse_dict(struct hdr *h, enum match_dtype *dtype, int *fortran, long long *dims, int *ndim)
{
	int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
	if (hdr_expect(h, '{', "a dict starting with '{'") != 0)
		return -1;
	for (;;) {
		hdr_ws(h);
		if (h->p < h->end && *h->p == '}') {
			h->p++;
			break;
		}
		char key[32];
		if (hdr_string(h, key, sizeof(key)) != 0 ||
		    hdr_expect(h, ':', "':' after a key") != 0)
			return -1;
		if (strcmp(key, "descr") == 0 && !seen_descr) {
			char descr[32];
			if (hdr_string(h, descr, sizeof(descr)) != 0 ||
			    parse_descr(h, descr, dtype) != 0)
				return -1;
			seen_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0 && !seen_fortran) {
			if (hdr_bool(h, fortran) != 0)
				return -1;
			seen_fortran = 1;
		} else if (strcmp(key, "shape") == 0 && !seen_shape) {
			if (hdr_shape(h, dims, ndim) != 0)
				return -1;
			seen_shape = 1;
		} else {
			return diag_set(h->d, DIAG_INVALID,
					"%s: bad .npy header: unexpected or repeated key '%s'",
					h->name, key);
		}
		hdr_ws(h);
		if (h->p < h->end && *h->p == ',') {
			h->p++;
			continue;
		}
		if (hdr_expect(h, '}', "',' or '}' after a value") != 0)
			return -1;
		break;
	}
	if (!seen_descr || !seen_fortran || !seen_shape)
		return diag_set(h->d, DIAG_INVALID, "%s: bad .npy header: missing key '%s'",
				h->name,
				!seen_descr	? "descr"
				: !seen_fortran ? "fortran_order"
						: "shape");
	hdr_ws(h);
	if (h->p != h->end)
		return diag_set(h->d, DIAG_INVALID,
				"%s: bad .npy header: unexpected text after the dict", h->name);
	return 0;
}

int
npy_parse(const char *name, const unsigned char *buf, size_t len, struct npy_array *arr,
	  struct diag *d)
{
	memset(arr, 0, sizeof(*arr));
	if (len < 10 || memcmp(buf, npy_magic, sizeof(npy_magic)) != 0)
		return diag_set(d, DIAG_INVALID, "%s: not a .npy file (bad magic)", name);
	int major = buf[6], minor = buf[7];
	size_t hlen, start;
	if (major == 1) {
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
		start = 10;
	} else if (major == 2 || major == 3) {
		if (len < 12)
			return diag_set(d, DIAG_INVALID, "%s: truncated .npy header", name);
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
		       (size_t)buf[11] << 24;
		start = 12;
	} else {
		return diag_set(d, DIAG_INVALID, "%s: unsupported .npy version %d.%d", name, major,
				minor);
	}
	if (minor != 0)
		return diag_set(d, DIAG_INVALID, "%s: unsupported .npy version %d.%d", name, major,
				minor);
	if (hlen > len - start)
		return diag_set(d, DIAG_INVALID,
				"%s: .npy header length %zu runs past the end of the file", name,
				hlen);
	struct hdr h = {(const char *)buf + start, (const char *)buf + start + hlen, name, d};
	enum match_dtype dtype = MATCH_F64;
	int fortran = 0, ndim = 0;
	long long dims[8];
	if (parse_dict(&h, &dtype, &fortran, dims, &ndim) != 0)
		return -1;
	if (ndim != 2)
		return diag_set(d, DIAG_INVALID, "%s: expected a 2-D matrix, got %d dimension%s",
				name, ndim, ndim == 1 ? "" : "s");
	if (fortran)
		return diag_set(d, DIAG_INVALID,
				"%s: Fortran-order arrays are not supported; save with C order "
				"(numpy.ascontiguousarray)",
				name);
	if (dims[0] > INT_MAX || dims[1] > INT_MAX)
		return diag_set(d, DIAG_INVALID, "%s: shape (%lld, %lld) is too large", name,
				dims[0], dims[1]);
	size_t esize = match_dtype_size(dtype);
	size_t offset = start + hlen;
	/* nr * nc * esize must fit in size_t and in what is left of the file. */
	if (dims[0] != 0 && (size_t)dims[1] > SIZE_MAX / esize / (size_t)dims[0])
		return diag_set(d, DIAG_INVALID,
				"%s: shape (%lld, %lld) overflows the address space", name, dims[0],
				dims[1]);
	size_t nbytes = (size_t)dims[0] * (size_t)dims[1] * esize;
	if (nbytes > len - offset)
		return diag_set(
		    d, DIAG_INVALID,
		    "%s: data is truncated: shape (%lld, %lld) needs %zu bytes, file has %zu", name,
		    dims[0], dims[1], nbytes, len - offset);
	arr->nr = (int)dims[0];
	arr->nc = (int)dims[1];
	arr->dtype = dtype;
	arr->nbytes = nbytes;
	arr->data = nbytes ? buf + offset : NULL;
	return 0;
}

int
npy_open(const char *path, struct npy_array *arr, struct diag *d)
{
	memset(arr, 0, sizeof(*arr));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return diag_set(d, DIAG_IO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		diag_set(d, DIAG_IO, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return diag_set(d, DIAG_INVALID, "%s: not a regular file", path);
	}
	size_t len = (size_t)st.st_size;
	if (len == 0) {
		close(fd);
		return diag_set(d, DIAG_INVALID, "%s: not a .npy file (empty)", path);
	}
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return diag_set(d, DIAG_IO, "%s: cannot map: %s", path, strerror(errno));
	if (npy_parse(path, map, len, arr, d) != 0) {
		munmap(map, len);
		return -1;
	}
	arr->map_ = map;
	arr->map_len_ = len;
	/* numpy aligns the data to 16 or 64 bytes; a hand-made file may not be. */
	if (arr->data != NULL && (uintptr_t)arr->data % match_dtype_size(arr->dtype) != 0) {
		arr->copy_ = malloc(arr->nbytes);
		if (arr->copy_ == NULL) {
			npy_close(arr);
			return diag_set(d, DIAG_NOMEM, "%s: out of memory", path);
		}
		memcpy(arr->copy_, arr->data, arr->nbytes);
		arr->data = arr->copy_;
	}
	return 0;
}

void
npy_close(struct npy_array *arr)
{
	if (arr == NULL)
		return;
	if (arr->map_ != NULL)
		munmap(arr->map_, arr->map_len_);
	free(arr->copy_);
	memset(arr, 0, sizeof(*arr));
}

int
npy_write(const char *path, int nr, int nc, enum match_dtype dtype, const void *data,
	  struct diag *d)
{
	if (nr < 0 || nc < 0)
		return diag_set(d, DIAG_INVALID, "%s: negative shape (%d, %d)", path, nr, nc);
	if (match_dtype_size(dtype) == 0)
		return diag_set(d, DIAG_INVALID, "%s: unknown dtype %d", path, (int)dtype);
	char dict[128];
	int n = snprintf(dict, sizeof(dict),
			 "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }",
			 npy_dtype_descr(dtype), nr, nc);
	/* Pad with spaces so magic + length + header + '\n' is a multiple of 64. */
	size_t total = 10 + (size_t)n + 1;
	size_t pad = (64 - total % 64) % 64;
	size_t hlen = (size_t)n + pad + 1;
	unsigned char pre[10];
	memcpy(pre, npy_magic, 6);
	pre[6] = 1;
	pre[7] = 0;
	pre[8] = (unsigned char)(hlen & 0xff);
	pre[9] = (unsigned char)(hlen >> 8);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return diag_set(d, DIAG_IO, "%s: %s", path, strerror(errno));
	size_t nbytes = (size_t)nr * (size_t)nc * match_dtype_size(dtype);
	int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
	for (size_t i = 0; ok && i < pad; i++)
		ok = fputc(' ', f) != EOF;
	ok = ok && fputc('\n', f) != EOF;
	ok = ok && (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		return diag_set(d, DIAG_IO, "%s: write failed: %s", path, strerror(errno));
	return 0;
}
