/*
 * prefs: preference lists from score matrices (match_prefs_from_scores,
 * match_prefs_fini). See match.h for the contract. Callers: `tandem solve
 * --stable`, the policies' stable path, the benchmark driver.
 */
#include "match/match_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Sorting the lists is the hot spot of stable matching on dense scores
 * (2 n^2 entries for n x n), so each list is sorted in two cheap, stable
 * passes: a counting pass on bucket(x) = floor((x - min) * k / (max - min)),
 * a monotone map (buckets come out in value order and equal values share a
 * bucket), then an insertion pass that only has to order each bucket's few
 * values. Ties keep the lower index first because both passes are stable.
 * A skewed distribution (a few huge buckets of distinct values) would make
 * the insertion pass quadratic; a work budget catches that and the list is
 * finished by a stable LSD radix sort on the bits of the doubles instead.
 *
 * Column lists read the row-major matrix in blocks of PREFS_BLOCK columns,
 * one short contiguous run per row, into a column-major buffer that stays in
 * the L2 cache: walking down a column with stride nc would miss the cache on
 * every entry.
 */

enum { PREFS_BLOCK = 32, PREFS_SPREAD = 4 };

/* Order-preserving map of a finite double to an unsigned key (-0 and +0 equal). */
static inline uint64_t
sort_key(double x)
{
	uint64_t b;
	if (x == 0)
		x = 0;
	memcpy(&b, &x, sizeof(b));
	return (b & 0x8000000000000000ULL) ? ~b : b | 0x8000000000000000ULL;
}

/*
 * Stable LSD radix sort of idx[0..n) by key[0..n), 8 bits per pass; passes
 * whose byte is the same for every key are skipped. The result is in idx;
 * key2 and idx2 are scratch of n entries.
 */
static void
radix_sort(uint64_t *key, int *idx, uint64_t *key2, int *idx2, int n)
{
	uint32_t hist[8][256];
	memset(hist, 0, sizeof(hist));
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 8; b++)
			hist[b][(key[i] >> (8 * b)) & 0xff]++;
	int *i0 = idx;
	for (int b = 0; b < 8; b++) {
		uint32_t *h = hist[b];
		if (h[(key[0] >> (8 * b)) & 0xff] == (uint32_t)n)
			continue;
		uint32_t sum = 0;
		for (int v = 0; v < 256; v++) {
			uint32_t c = h[v];
			h[v] = sum;
			sum += c;
		}
		for (int i = 0; i < n; i++) {
			uint32_t at = h[(key[i] >> (8 * b)) & 0xff]++;
			key2[at] = key[i];
			idx2[at] = idx[i];
		}
		uint64_t *tk = key;
		key = key2;
		key2 = tk;
		int *ti = idx;
		idx = idx2;
		idx2 = ti;
	}
	if (idx != i0) /* an odd number of passes ran: the result is in the scratch */
		memcpy(i0, idx, (size_t)n * sizeof(*idx));
}

/* Scratch for sorting one list of up to len entries. */
struct sorter {
	int len;
	double *v, *v2;
	int *ix;
	uint32_t *bk, *cnt;
	uint64_t *key, *key2;
};

static void
sorter_fini(struct sorter *s)
{
	free(s->v);
	free(s->v2);
	free(s->ix);
	free(s->bk);
	free(s->cnt);
	free(s->key);
	free(s->key2);
}

static int
sorter_init(struct sorter *s, int len)
{
	size_t n = (size_t)len + 1;
	memset(s, 0, sizeof(*s));
	s->len = len;
	s->v = malloc(n * sizeof(double));
	s->v2 = malloc(n * sizeof(double));
	s->ix = malloc(n * sizeof(int));
	s->bk = malloc(n * sizeof(uint32_t));
	s->cnt = malloc(n * PREFS_SPREAD * sizeof(uint32_t));
	s->key = malloc(n * sizeof(uint64_t));
	s->key2 = malloc(n * sizeof(uint64_t));
	if (!s->v || !s->v2 || !s->ix || !s->bk || !s->cnt || !s->key || !s->key2) {
		sorter_fini(s);
		return -1;
	}
	return 0;
}

/* Radix fallback: out[0..k) (indices, in the order of v) sorted stably by v. */
static void
sort_by_radix(struct sorter *s, const double *v, int *out, int k)
{
	for (int j = 0; j < k; j++)
		s->key[j] = sort_key(v[j]);
	radix_sort(s->key, out, s->key2, s->ix, k);
}

/*
 * Lists of at most 65536 entries: each value is quantized to 16 bits,
 * q = (x - lo) * 65535 / (hi - lo) (monotone), packed with its position as
 * q << 16 | j, and the words are sorted by two stable 8-bit counting passes
 * (256 buckets each: no long prefix sums). Values sharing a q are then put in
 * order by an insertion pass, which with 2000 values over 65536 levels has a
 * few dozen short moves to make. Same contract as sort_list.
 */
static void
sort_short(struct sorter *s, const double *v, const int *ix, double sg, int k, double lo, double hi,
	   int *out)
{
	double scale = 65535.0 / (hi - lo), *v2 = s->v2;
	uint32_t *a = s->bk, *b = s->cnt, h0[256], h1[256];
	memset(h0, 0, sizeof(h0));
	memset(h1, 0, sizeof(h1));
	for (int j = 0; j < k; j++) {
		uint32_t q = (uint32_t)((sg * v[j] - lo) * scale);
		q = q < 65535 ? q : 65535;
		a[j] = q << 16 | (uint32_t)j;
		h0[q & 255]++;
		h1[q >> 8]++;
	}
	uint32_t s0 = 0, s1 = 0;
	for (int d = 0; d < 256; d++) {
		uint32_t c0 = h0[d], c1 = h1[d];
		h0[d] = s0;
		h1[d] = s1;
		s0 += c0;
		s1 += c1;
	}
	for (int j = 0; j < k; j++)
		b[h0[(a[j] >> 16) & 255]++] = a[j];
	for (int j = 0; j < k; j++)
		a[h1[b[j] >> 24]++] = b[j];
	/* Strict comparison: equal values never pass each other. */
	long budget = 8L * k + 64;
	for (int j = 0; j < k; j++) {
		int pos = (int)(a[j] & 0xffff), p = j;
		double x = sg * v[pos];
		while (p > 0 && x < v2[p - 1]) {
			v2[p] = v2[p - 1];
			out[p] = out[p - 1];
			p--;
		}
		v2[p] = x;
		out[p] = pos;
		budget -= j - p;
		if (budget < 0) {
			/* Skewed values: finish by radix on the doubles. */
			for (int t = j + 1; t < k; t++) {
				out[t] = (int)(a[t] & 0xffff);
				v2[t] = sg * v[out[t]];
			}
			if (ix)
				for (int t = 0; t < k; t++)
					out[t] = ix[out[t]];
			sort_by_radix(s, v2, out, k);
			return;
		}
	}
	if (ix)
		for (int j = 0; j < k; j++)
			out[j] = ix[out[j]];
}

/*
 * Writes to out the indices of v[0..k) (ix[j], or j when ix is NULL) ordered
 * by ascending sg * v, ties in their given order; lo and hi are the smallest
 * and largest sg * v.
 */
static void
sort_list(struct sorter *s, const double *v, const int *ix, double sg, int k, double lo, double hi,
	  int *out)
{
	double scale = PREFS_SPREAD * (double)k / (hi - lo), *v2 = s->v2;
	if (k < 2 || lo == hi || !(scale > 0 && scale < INFINITY)) {
		for (int j = 0; j < k; j++) {
			out[j] = ix ? ix[j] : j;
			v2[j] = sg * v[j];
		}
		/* All equal, or a range that overflows or underflows. */
		if (k >= 2 && lo != hi)
			sort_by_radix(s, v2, out, k);
		return;
	}
	if (k <= 65536 && 65535.0 / (hi - lo) < INFINITY) {
		sort_short(s, v, ix, sg, k, lo, hi, out);
		return;
	}
	uint32_t *bk = s->bk, *cnt = s->cnt, nb = (uint32_t)k * PREFS_SPREAD, last = nb - 1;
	memset(cnt, 0, (size_t)nb * sizeof(uint32_t));
	for (int j = 0; j < k; j++) {
		uint32_t b = (uint32_t)((sg * v[j] - lo) * scale);
		b = b < last ? b : last;
		bk[j] = b;
		cnt[b]++;
	}
	uint32_t sum = 0;
	for (uint32_t b = 0; b < nb; b++) {
		uint32_t c = cnt[b];
		cnt[b] = sum;
		sum += c;
	}
	if (ix) {
		for (int j = 0; j < k; j++) {
			uint32_t at = cnt[bk[j]]++;
			v2[at] = sg * v[j];
			out[at] = ix[j];
		}
	} else {
		for (int j = 0; j < k; j++) {
			uint32_t at = cnt[bk[j]]++;
			v2[at] = sg * v[j];
			out[at] = j;
		}
	}
	/* Strict comparison: equal values never pass each other. */
	long budget = 8L * k + 64;
	for (int j = 1; j < k; j++) {
		double x = v2[j];
		if (!(x < v2[j - 1]))
			continue;
		int id = out[j], p = j;
		do {
			v2[p] = v2[p - 1];
			out[p] = out[p - 1];
			p--;
		} while (p > 0 && x < v2[p - 1]);
		v2[p] = x;
		out[p] = id;
		budget -= j - p;
		if (budget < 0) {
			sort_by_radix(s, v2, out, k);
			return;
		}
	}
}

/*
 * Smallest and largest of v[0..n), two lanes at a time (GCC vector
 * extensions: SSE2 code on x86-64); returns nonzero if some v is NaN.
 */
typedef double stable_v2d __attribute__((vector_size(16)));
typedef int64_t stable_v2l __attribute__((vector_size(16)));

static int
bounds(const double *v, int n, double *lo, double *hi)
{
	stable_v2d a0 = {INFINITY, INFINITY}, a1 = a0, b0 = -a0, b1 = b0;
	stable_v2l nan = {0, 0};
	int x = 0;
	for (; x + 4 <= n; x += 4) {
		stable_v2d y0, y1;
		memcpy(&y0, v + x, sizeof(y0));
		memcpy(&y1, v + x + 2, sizeof(y1));
		stable_v2l l0 = y0<a0, l1 = y1<a1, g0 = y0> b0, g1 = y1> b1;
		a0 = (stable_v2d)(((stable_v2l)y0 & l0) | ((stable_v2l)a0 & ~l0));
		a1 = (stable_v2d)(((stable_v2l)y1 & l1) | ((stable_v2l)a1 & ~l1));
		b0 = (stable_v2d)(((stable_v2l)y0 & g0) | ((stable_v2l)b0 & ~g0));
		b1 = (stable_v2d)(((stable_v2l)y1 & g1) | ((stable_v2l)b1 & ~g1));
		nan |= (y0 != y0) | (y1 != y1);
	}
	double l = fmin(fmin(a0[0], a0[1]), fmin(a1[0], a1[1]));
	double h = fmax(fmax(b0[0], b0[1]), fmax(b1[0], b1[1]));
	int bad = (nan[0] | nan[1]) != 0;
	for (; x < n; x++) {
		l = v[x] < l ? v[x] : l;
		h = v[x] > h ? v[x] : h;
		bad |= v[x] != v[x];
	}
	*lo = l;
	*hi = h;
	return bad;
}

/*
 * Ranks one list: v[0..len) are its scores as doubles, forb its forbidden
 * flags or NULL. Writes the allowed indices, best first, to out and returns
 * their count, or -1 - x when v[x] (allowed) is not finite.
 */
static int
rank_list(struct sorter *s, const double *v, const uint8_t *forb, int len, int maximize, int *out)
{
	double lo = INFINITY, hi = -INFINITY, sg = maximize ? -1.0 : 1.0;
	if (forb == NULL) {
		/* Bounds of v, then of sg * v; an infinity fails the range test. */
		double a, b;
		int nan = bounds(v, len, &a, &b);
		if (len > 0 && (nan || !(-DBL_MAX <= a && b <= DBL_MAX))) {
			for (int x = 0; x < len; x++)
				if (!isfinite(v[x]))
					return -1 - x;
		}
		lo = maximize ? -b : a;
		hi = maximize ? -a : b;
		sort_list(s, v, NULL, sg, len, lo, hi, out);
		return len;
	}
	int k = 0, *ix = s->ix;
	double *w = s->v;
	for (int x = 0; x < len; x++) {
		if (forb[x])
			continue;
		double y = v[x] * sg;
		if (!isfinite(y))
			return -1 - x;
		lo = y < lo ? y : lo;
		hi = y > hi ? y : hi;
		w[k] = y;
		ix[k++] = x;
	}
	sort_list(s, w, ix, 1.0, k, lo, hi, out);
	return k;
}

/* Row r of m as doubles into dst. */
static void
load_row(const struct match_dense *m, int r, double *dst)
{
	size_t off = (size_t)r * (size_t)m->nc;
	int nc = m->nc;
	switch (m->dtype) {
	case MATCH_F64:
		memcpy(dst, (const double *)m->scores + off, (size_t)nc * sizeof(double));
		break;
	case MATCH_F32:
		for (int c = 0; c < nc; c++)
			dst[c] = ((const float *)m->scores)[off + c];
		break;
	case MATCH_I16:
		for (int c = 0; c < nc; c++)
			dst[c] = ((const int16_t *)m->scores)[off + c];
		break;
	case MATCH_I32:
		for (int c = 0; c < nc; c++)
			dst[c] = ((const int32_t *)m->scores)[off + c];
		break;
	}
}

/* Columns c0 .. c0+w-1 of m, column-major (stride nr), as doubles into dst; flags into fdst. */
static void
load_cols(const struct match_dense *m, int c0, int w, double *dst, uint8_t *fdst)
{
	int nr = m->nr;
	size_t nc = (size_t)m->nc;
	for (int r = 0; r < nr; r++) {
		size_t off = (size_t)r * nc + (size_t)c0;
		switch (m->dtype) {
		case MATCH_F64:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const double *)m->scores)[off + j];
			break;
		case MATCH_F32:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const float *)m->scores)[off + j];
			break;
		case MATCH_I16:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const int16_t *)m->scores)[off + j];
			break;
		case MATCH_I32:
			for (int j = 0; j < w; j++)
				dst[(size_t)j * nr + r] = ((const int32_t *)m->scores)[off + j];
			break;
		}
		if (fdst)
			for (int j = 0; j < w; j++)
				fdst[(size_t)j * nr + r] = m->forbidden[off + j];
	}
}

int
match_prefs_from_scores(const struct match_dense *m, int by_rows, int maximize,
			struct match_prefs *out, struct diag *d)
{
	memset(out, 0, sizeof(*out));
	if (m == NULL || m->nr < 0 || m->nc < 0 || (m->nr > 0 && m->nc > 0 && m->scores == NULL))
		return diag_set(d, DIAG_INVALID, "score matrix: missing or negative shape");
	int nr = m->nr, nc = m->nc;
	int n = by_rows ? nr : nc, len = by_rows ? nc : nr;
	size_t total = (size_t)nr * (size_t)nc;
	if (total > INT32_MAX)
		return diag_set(d, DIAG_INVALID, "score matrix: %d x %d is too large for lists", nr,
				nc);
	int bw = by_rows ? 1 : PREFS_BLOCK;
	int *ptr = malloc(((size_t)n + 1) * sizeof(int));
	int *items = match__big_alloc((total + 1) * sizeof(int));
	double *buf = malloc(((size_t)bw * len + 1) * sizeof(double));
	uint8_t *fbuf = m->forbidden ? malloc((size_t)bw * len + 1) : NULL;
	struct sorter s;
	int sok = sorter_init(&s, len) == 0;
	if (!ptr || !items || !buf || (m->forbidden && !fbuf) || !sok) {
		free(ptr), free(items), free(buf), free(fbuf);
		if (sok)
			sorter_fini(&s);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	int at = 0, rc = 0;
	for (int e0 = 0; e0 < n && rc == 0; e0 += bw) {
		int w = n - e0 < bw ? n - e0 : bw;
		const double *vals = buf;
		if (by_rows && m->dtype == MATCH_F64)
			vals = (const double *)m->scores + (size_t)e0 * nc; /* read in place */
		else if (by_rows)
			load_row(m, e0, buf);
		else
			load_cols(m, e0, w, buf, fbuf);
		for (int j = 0; j < w; j++) {
			int e = e0 + j;
			const uint8_t *forb = NULL;
			if (m->forbidden)
				forb = by_rows ? m->forbidden + (size_t)e * nc
					       : fbuf + (size_t)j * len;
			ptr[e] = at;
			int k =
			    rank_list(&s, vals + (size_t)j * len, forb, len, maximize, items + at);
			if (k < 0) {
				int x = -1 - k, r = by_rows ? e : x, c = by_rows ? x : e;
				rc = diag_set(d, DIAG_INVALID,
					      "score of row %d, column %d is not finite (%g)", r, c,
					      match_score_at(m->dtype, m->scores, (size_t)r * nc + c));
				break;
			}
			at += k;
		}
	}
	ptr[n] = at;
	free(buf);
	free(fbuf);
	sorter_fini(&s);
	if (rc != 0) {
		free(ptr);
		free(items);
		return -1;
	}
	out->n = n;
	out->ptr = ptr;
	out->items = items;
	return 0;
}

void
match_prefs_fini(struct match_prefs *p)
{
	if (p == NULL)
		return;
	free((void *)p->ptr);
	free((void *)p->items);
	memset(p, 0, sizeof(*p));
}
