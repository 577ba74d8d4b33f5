/*
 * people_read: reading people back (people_list_json, people_show_json and
 * people_export_json of people.h), plus the two things the erasure shares with the export:
 * finding a person by external id or e-mail, and the list of tables that hold rows about a
 * person. Internal to core/program (people_*.c); embedders use people.h.
 */
#ifndef TANDEM_PEOPLE_READ_H
#define TANDEM_PEOPLE_READ_H

#include <stddef.h>

#include <jansson.h>

#include "base/diag.h"

struct store;

/* A table with rows about a person, and the query that finds them (?1 = people.id). */
struct people_table {
	const char *table;
	const char *sql;
};

extern const struct people_table people_tables[];
extern const size_t people_ntables;

/* Finds a person by external id, else by e-mail; their people.id, or 0 + diag
 * (DIAG_NOTFOUND when there is no such person). */
long long people_find(struct store *st, const char *key, struct diag *d);

/* Rows of sql as JSON objects (people_list_json's typing), with ?1 = id, ?2 = after, ?3 =
 * limit (-1 when limit <= 0), as many of them as sql takes: every reader of people_read.c
 * and the paged enrollments. */
json_t *people_rows_page_json(struct store *st, const char *sql, long long id, const char *after,
			      int limit, struct diag *d);

#endif
