/*
 * kernels: the dense solvers' inner loops over one contiguous matrix row
 * (relax, colmin, best2, cand), instantiated per dtype and sense.
 * Callers: dense.c, tall.c and zone.c, through match__pick_kernels (the
 * loops are reached by function pointer, chosen once per solve).
 * Contract: match_internal.h ("Row kernels").
 */
#include "match/match_internal.h"

#include <math.h>
#include <string.h>

/*
 * The hot loops run over one contiguous matrix row, four columns at a time with
 * GCC vector extensions (SSE2 or AVX2 code, chosen at load time by
 * target_clones), and are instantiated per dtype and sense so they hold no
 * switch: the score is converted to double and negated for maximize in
 * registers, the matrix is never copied. Finalized, vetoed and slot-less columns
 * carry v_j = -inf, so c - v = +inf for them: no index lists, no branches.
 */
/* The vector helpers are static inline: the AVX argument-passing ABI note does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double match_v4d __attribute__((vector_size(32)));
typedef int64_t match_v4l __attribute__((vector_size(32)));
typedef int32_t match_v4i __attribute__((vector_size(16)));
typedef float match_v4f __attribute__((vector_size(16)));
typedef int16_t match_v4s __attribute__((vector_size(8)));
typedef uint8_t match_v4b __attribute__((vector_size(4)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define MATCH_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MATCH_CLONES
#endif

static inline __attribute__((always_inline)) match_v4d
ld4_f64(const void *p, int j)
{
	match_v4d x;
	memcpy(&x, (const double *)p + j, sizeof(x));
	return x;
}

static inline __attribute__((always_inline)) match_v4d
ld4_f32(const void *p, int j)
{
	match_v4f x;
	memcpy(&x, (const float *)p + j, sizeof(x));
	return __builtin_convertvector(x, match_v4d);
}

static inline __attribute__((always_inline)) match_v4d
ld4_i32(const void *p, int j)
{
	match_v4i x;
	memcpy(&x, (const int32_t *)p + j, sizeof(x));
	return __builtin_convertvector(x, match_v4d);
}

static inline __attribute__((always_inline)) match_v4d
ld4_i16(const void *p, int j)
{
	match_v4s x;
	memcpy(&x, (const int16_t *)p + j, sizeof(x));
	return __builtin_convertvector(x, match_v4d);
}

static inline __attribute__((always_inline)) double
ld1_f64(const void *p, int j)
{
	return ((const double *)p)[j];
}

static inline __attribute__((always_inline)) double
ld1_f32(const void *p, int j)
{
	return ((const float *)p)[j];
}

static inline __attribute__((always_inline)) double
ld1_i32(const void *p, int j)
{
	return ((const int32_t *)p)[j];
}

static inline __attribute__((always_inline)) double
ld1_i16(const void *p, int j)
{
	return ((const int16_t *)p)[j];
}

static inline __attribute__((always_inline)) match_v4d
vsel(match_v4l m, match_v4d a, match_v4d b)
{
	return (match_v4d)(((match_v4l)a & m) | ((match_v4l)b & ~m));
}

static inline __attribute__((always_inline)) match_v4l
mask4(const uint8_t *mk, int j)
{
	match_v4b b;
	memcpy(&b, mk + j, sizeof(b));
	return __builtin_convertvector(b, match_v4l) != 0;
}

static inline __attribute__((always_inline)) match_v4d
ldv(const double *p)
{
	match_v4d x;
	memcpy(&x, p, sizeof(x));
	return x;
}

#define MATCH_RELAX_BODY(DT, SGN, MASKED)                                                    \
	do {                                                                                 \
		for (; j + 4 <= nc; j += 4) {                                                \
			match_v4d nd = o + (SGN ld4_##DT(row, j)) - ldv(v + j);              \
			match_v4d dj = ldv(d + j);                                           \
			match_v4l better = nd < dj;                                          \
			if (MASKED)                                                          \
				better &= ~mask4(mk, j);                                     \
			dj = vsel(better, nd, dj);                                           \
			memcpy(d + j, &dj, sizeof(dj));                                      \
			match_v4i b32 = __builtin_convertvector(better, match_v4i);          \
			match_v4i pj;                                                        \
			memcpy(&pj, pred + j, sizeof(pj));                                   \
			pj = (rv & b32) | (pj & ~b32);                                       \
			memcpy(pred + j, &pj, sizeof(pj));                                   \
			match_v4l lt = dj < mv;                                              \
			mv = vsel(lt, dj, mv);                                               \
			mi = (lt & jv) | (~lt & mi);                                         \
			jv += 4;                                                             \
		}                                                                            \
	} while (0)

#define MATCH_KERNELS(DT, SN, SGN)                                                           \
	MATCH_CLONES static double relax_##DT##_##SN(                                        \
		const void *row, const uint8_t *mk, const double *restrict v,                \
		double *restrict d, int *restrict pred, int nc, int r, double o, int *amin)  \
	{                                                                                    \
		match_v4d mv = {INFINITY, INFINITY, INFINITY, INFINITY};                     \
		match_v4i rv = {r, r, r, r};                                                 \
		match_v4l mi = {-1, -1, -1, -1}, jv = {0, 1, 2, 3};                          \
		int j = 0;                                                                   \
		if (mk)                                                                      \
			MATCH_RELAX_BODY(DT, SGN, 1);                                        \
		else                                                                         \
			MATCH_RELAX_BODY(DT, SGN, 0);                                        \
		double m = INFINITY;                                                         \
		int am = -1;                                                                 \
		for (int l = 0; l < 4; l++)                                                  \
			if (mv[l] < m || (mv[l] == m && mi[l] < am)) {                       \
				m = mv[l];                                                   \
				am = (int)mi[l];                                             \
			}                                                                    \
		for (; j < nc; j++) {                                                        \
			double nd = o + (SGN ld1_##DT(row, j)) - v[j];                       \
			if (nd < d[j] && !(mk && mk[j])) {                                   \
				d[j] = nd;                                                   \
				pred[j] = r;                                                 \
			}                                                                    \
			if (d[j] < m) {                                                      \
				m = d[j];                                                    \
				am = j;                                                      \
			}                                                                    \
		}                                                                            \
		*amin = am;                                                                  \
		return m;                                                                    \
	}                                                                                    \
	MATCH_CLONES static void colmin_##DT##_##SN(const void *row, const uint8_t *mk,      \
						    double *restrict cm, int *restrict am,   \
						    int nc, int r)                           \
	{                                                                                    \
		match_v4i rv = {r, r, r, r};                                                 \
		match_v4l none = {0, 0, 0, 0};                                               \
		int j = 0;                                                                   \
		for (; j + 4 <= nc; j += 4) {                                                \
			match_v4d c = SGN ld4_##DT(row, j);                                  \
			match_v4d cj = ldv(cm + j);                                          \
			match_v4l lt = (c < cj) & (mk ? ~mask4(mk, j) : ~none);              \
			cj = vsel(lt, c, cj);                                                \
			memcpy(cm + j, &cj, sizeof(cj));                                     \
			match_v4i b32 = __builtin_convertvector(lt, match_v4i);              \
			match_v4i aj;                                                        \
			memcpy(&aj, am + j, sizeof(aj));                                     \
			aj = (rv & b32) | (aj & ~b32);                                       \
			memcpy(am + j, &aj, sizeof(aj));                                     \
		}                                                                            \
		for (; j < nc; j++) {                                                        \
			double c = SGN ld1_##DT(row, j);                                     \
			if (c < cm[j] && !(mk && mk[j])) {                                   \
				cm[j] = c;                                                   \
				am[j] = r;                                                   \
			}                                                                    \
		}                                                                            \
	}                                                                                    \
	MATCH_CLONES static void best2_##DT##_##SN(const void *row, const uint8_t *mk,       \
						   const double *restrict v, int nc,         \
						   double *u1, int *j1, double *u2, int *j2) \
	{                                                                                    \
		match_v4d inf4 = {INFINITY, INFINITY, INFINITY, INFINITY};                   \
		match_v4d m1 = inf4, m2 = inf4;                                              \
		match_v4l i1 = {-1, -1, -1, -1}, i2 = i1, jv = {0, 1, 2, 3};                 \
		int j = 0;                                                                   \
		for (; j + 4 <= nc; j += 4, jv += 4) {                                       \
			match_v4d x = (SGN ld4_##DT(row, j)) - ldv(v + j);                   \
			if (mk)                                                              \
				x = vsel(mask4(mk, j), inf4, x);                             \
			match_v4l lt1 = x < m1, lt2 = x < m2;                                \
			m2 = vsel(lt1, m1, vsel(lt2, x, m2));                                \
			i2 = (lt1 & i1) | (~lt1 & ((lt2 & jv) | (~lt2 & i2)));               \
			m1 = vsel(lt1, x, m1);                                               \
			i1 = (lt1 & jv) | (~lt1 & i1);                                       \
		}                                                                            \
		double b1 = INFINITY, b2 = INFINITY;                                         \
		int k1 = -1, k2 = -1;                                                        \
		/* merge the lanes, then the tail, keeping the lowest column on ties */      \
		double cand[8 + 3];                                                          \
		int cidx[8 + 3], nc8 = 0;                                                    \
		for (int l = 0; l < 4; l++) {                                                \
			cand[nc8] = m1[l], cidx[nc8++] = (int)i1[l];                         \
			cand[nc8] = m2[l], cidx[nc8++] = (int)i2[l];                         \
		}                                                                            \
		for (; j < nc; j++) {                                                        \
			cand[nc8] = (mk && mk[j]) ? INFINITY : (SGN ld1_##DT(row, j)) - v[j]; \
			cidx[nc8++] = j;                                                     \
		}                                                                            \
		for (int q = 0; q < nc8; q++) {                                              \
			double x = cand[q];                                                  \
			int c = cidx[q];                                                     \
			if (c < 0 || !(x < INFINITY))                                        \
				continue;                                                    \
			if (x < b1 || (x == b1 && c < k1)) {                                 \
				b2 = b1, k2 = k1;                                            \
				b1 = x, k1 = c;                                              \
			} else if (x < b2 || (x == b2 && c < k2)) {                          \
				b2 = x, k2 = c;                                              \
			}                                                                    \
		}                                                                            \
		*u1 = b1, *j1 = k1, *u2 = b2, *j2 = k2;                                      \
	}                                                                                    \
	MATCH_CLONES static int cand_##DT##_##SN(const void *row, const uint8_t *mk,         \
						 double o, const double *restrict thr,       \
						 double *restrict rej, int nc, int *hit,     \
						 double *hitc)                               \
	{                                                                                    \
		match_v4d inf4 = {INFINITY, INFINITY, INFINITY, INFINITY};                   \
		match_v4l none = {0, 0, 0, 0};                                               \
		int j = 0, nh = 0;                                                           \
		for (; j + 4 <= nc; j += 4) {                                                \
			match_v4d c = (SGN ld4_##DT(row, j)) - o;                            \
			match_v4l ok = mk ? ~mask4(mk, j) : ~none;                           \
			match_v4l lt = (c <= ldv(thr + j)) & ok;                             \
			match_v4d rj = ldv(rej + j);                                         \
			rj = vsel(~lt & ok & (c < rj), c, rj);                               \
			memcpy(rej + j, &rj, sizeof(rj));                                    \
			if (lt[0] | lt[1] | lt[2] | lt[3])                                   \
				for (int l = 0; l < 4; l++)                                  \
					if (lt[l]) {                                         \
						hit[nh] = j + l;                             \
						hitc[nh++] = c[l];                           \
					}                                                    \
		}                                                                            \
		(void)inf4;                                                                  \
		for (; j < nc; j++) {                                                        \
			if (mk && mk[j])                                                     \
				continue;                                                    \
			double c = (SGN ld1_##DT(row, j)) - o;                               \
			if (c <= thr[j]) {                                                   \
				hit[nh] = j;                                                 \
				hitc[nh++] = c;                                              \
			} else if (c < rej[j]) {                                             \
				rej[j] = c;                                                  \
			}                                                                    \
		}                                                                            \
		return nh;                                                                   \
	}

MATCH_KERNELS(f64, min, +)
MATCH_KERNELS(f64, max, -)
MATCH_KERNELS(f32, min, +)
MATCH_KERNELS(f32, max, -)
MATCH_KERNELS(i16, min, +)
MATCH_KERNELS(i16, max, -)
MATCH_KERNELS(i32, min, +)
MATCH_KERNELS(i32, max, -)

struct kernels
match__pick_kernels(enum match_dtype t, int maximize)
{
#define MATCH_K(DT, SN)                                                                    \
	((struct kernels){relax_##DT##_##SN, colmin_##DT##_##SN, best2_##DT##_##SN,          \
			  cand_##DT##_##SN})
	switch (t) {
	case MATCH_F64:
		return maximize ? MATCH_K(f64, max) : MATCH_K(f64, min);
	case MATCH_F32:
		return maximize ? MATCH_K(f32, max) : MATCH_K(f32, min);
	case MATCH_I16:
		return maximize ? MATCH_K(i16, max) : MATCH_K(i16, min);
	case MATCH_I32:
		return maximize ? MATCH_K(i32, max) : MATCH_K(i32, min);
	}
#undef MATCH_K
	return (struct kernels){NULL, NULL, NULL, NULL};
}
