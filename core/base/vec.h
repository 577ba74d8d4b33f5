/*
 * vec: the one growable array of the core.
 *
 * For: lists whose length is found while reading (rows, candidates, plugin fields).
 * Two ways in, one growth rule:
 *  - vec_grow(&arr, &cap, need, elem, d) grows a plain typed array in place, for
 *    code that keeps `struct x *items; size_t n, cap;` in its own structs;
 *  - struct vec keeps data, len, cap and the element size together, for code that
 *    only pushes and reads back.
 *
 * Contract:
 *  - Growth doubles the capacity (at least 8 elements) until it holds `need`; the
 *    multiplication is checked for overflow. New memory is not zeroed.
 *  - A failed growth returns -1 with DIAG_NOMEM and leaves the array and its
 *    capacity exactly as they were: a realloc result is never assigned over the
 *    only pointer to the old block.
 *  - Pointers into the array are invalidated by any call that may grow it.
 *  - A zeroed struct vec with elem set (or vec_init) is empty and owns nothing.
 *    Not thread-safe: one owner.
 */
#ifndef TANDEM_VEC_H
#define TANDEM_VEC_H

#include <stddef.h>

#include "base/diag.h"

/* Ensures *cap >= need for the array *arr of elements of elem bytes, moving it if needed. */
int vec_grow(void *arr, size_t *cap, size_t need, size_t elem, struct diag *d);

struct vec {
	void *data;
	size_t len, cap, elem;
};

void vec_init(struct vec *v, size_t elem);
void vec_fini(struct vec *v);

/* Room for n elements in all (not n more). */
int vec_reserve(struct vec *v, size_t n, struct diag *d);

/* Copies one element (elem bytes from item) to the end. */
int vec_push(struct vec *v, const void *item, struct diag *d);

/* Adds one element at the end and returns it, zeroed; NULL when out of memory. */
void *vec_push_zero(struct vec *v, struct diag *d);

/* The i-th element; i must be below len. */
void *vec_at(const struct vec *v, size_t i);

/* The array (malloc'd, or NULL when nothing was pushed) handed to the caller; v is empty after. */
void *vec_release(struct vec *v);

#endif
