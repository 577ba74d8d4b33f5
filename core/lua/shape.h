/*
 * lua/shape: the one builder of the tables hooks receive for people,
 * enrollments and matches, so that `tandem plugins check` (synthetic data) and
 * real runs (the cohort from the database) hand hooks exactly the same shapes.
 * docs/plugin-api.md ("What hooks receive") documents them once.
 *
 * A member table (a person enrolled in a program) has: id (the person's
 * external id, what users see), name, email, title, department, team,
 * location, timezone, generation (strings; absent when unknown), level (an
 * integer; absent when unknown), role, capacity, languages, skills,
 * topics_offered (the enrollment's, or the person's skills when empty),
 * topics_wanted (the enrollment's, or the person's when empty), availability
 * (arrays of strings), attributes (the person's merged with the enrollment's;
 * the enrollment wins). A match table: id, program, status, score, created_at,
 * mentor, mentee (member tables).
 *
 * Callers hand the values as the store keeps them: strings, and JSON text for
 * lists and attributes (arrays of plain strings are read without a JSON parser:
 * building the person tables is part of every run).
 *
 * Who calls it: program/score (the worker's person tables), lua/check (plugins
 * check). Pushes run Lua allocations: call inside a protected call.
 */
#ifndef TANDEM_LUA_SHAPE_H
#define TANDEM_LUA_SHAPE_H

#include <stdint.h>

#include <lua.h>

/* A person's columns; NULL or "" strings are unknown. Lists and attributes: JSON text. */
struct shape_person {
	const char *id; /* the external id */
	const char *name, *email, *title, *department, *team, *location, *timezone, *generation;
	int level; /* 0 = unknown */
	const char *languages, *skills, *topics_wanted, *attributes;
};

/* The enrollment's fields; lists and attributes: JSON text. */
struct shape_enrollment {
	const char *role;
	int capacity;
	const char *topics_offered, *topics_wanted, *availability, *attributes;
};

/* A match's own fields. */
struct shape_match {
	int64_t id;
	const char *program, *status, *created_at;
	double score;
};

/* Pushes a member table. stack: +1 */
void shape_push_member(lua_State *L, const struct shape_person *p, const struct shape_enrollment *e);

/* Pushes a match table whose mentor and mentee are the member tables below it on the
 * stack (mentor, then mentee, both popped). stack: -2 +1 */
void shape_push_match(lua_State *L, const struct shape_match *m);

#endif
