/*
 * vec: the growable array. See vec.h for the contract.
 */
#include "base/vec.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
vec_grow(void *arr, size_t *cap, size_t need, size_t elem, struct diag *d)
{
	/* arr is really a `T **`: read and write the pointer through memcpy, not a cast lvalue. */
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (elem != 0 && ncap > SIZE_MAX / elem)
		return diag_set(d, DIAG_NOMEM, "array of %zu elements of %zu bytes is too large", ncap,
				elem);
	void *old;
	memcpy(&old, arr, sizeof(old));
	void *p = realloc(old, ncap * elem);
	if (p == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory (array of %zu elements)", ncap);
	memcpy(arr, &p, sizeof(p));
	*cap = ncap;
	return 0;
}

void
vec_init(struct vec *v, size_t elem)
{
	v->data = NULL;
	v->len = v->cap = 0;
	v->elem = elem;
}

void
vec_fini(struct vec *v)
{
	free(v->data);
	vec_init(v, v->elem);
}

int
vec_reserve(struct vec *v, size_t n, struct diag *d)
{
	return vec_grow(&v->data, &v->cap, n, v->elem, d);
}

void *
vec_push_zero(struct vec *v, struct diag *d)
{
	if (v->len == v->cap && vec_grow(&v->data, &v->cap, v->len + 1, v->elem, d) != 0)
		return NULL;
	void *p = (char *)v->data + v->len * v->elem;
	memset(p, 0, v->elem);
	v->len++;
	return p;
}

int
vec_push(struct vec *v, const void *item, struct diag *d)
{
	void *p = vec_push_zero(v, d);
	if (p == NULL)
		return -1;
	memcpy(p, item, v->elem);
	return 0;
}

void *
vec_at(const struct vec *v, size_t i)
{
	assert(i < v->len);
	return (char *)v->data + i * v->elem;
}

void *
vec_release(struct vec *v)
{
	void *p = v->data;
	vec_init(v, v->elem);
	return p;
}
