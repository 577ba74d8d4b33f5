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
 * mentor, mentee (member tables). A pair table (a cadence's first argument) is a
 * match table plus zone (the zone the cadence's wall times are in), topics (the
 * pair's shared topics), activated_at (ISO UTC) and activated (epoch seconds;
 * both absent before activation), starts_on and ends_on (the program's dates,
 * absent when open) and duration_min (the session length the program asks for).
 * A session table (a cadence's history): id, start (epoch seconds), starts_at
 * (ISO UTC), duration_min, status, topic (absent when none).
 *
 * Callers hand the values as the store keeps them: strings, and JSON text for
 * lists and attributes (arrays of plain strings are read without a JSON parser:
 * building the person tables is part of every run).
 *
 * Who calls it: program/score (the worker's person tables), sched/cadence (a
 * cadence's pair and history), lua/check (plugins check). Pushes run Lua allocations: call inside a protected call.
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

/* A pair's own fields beside its match's; strings NULL or "" are absent. */
struct shape_pair {
	const struct shape_match *match;
	const char *zone;
	const char *topics; /* JSON array of strings */
	const char *activated_at;
	int64_t activated; /* epoch seconds; meaningful when activated_at is set */
	const char *starts_on, *ends_on;
	int duration_min;
};

/* Pushes a pair table (a match table with the pair's fields) whose mentor and mentee
 * are the member tables below it on the stack (both popped). stack: -2 +1 */
void shape_push_pair(lua_State *L, const struct shape_pair *p);

struct shape_session {
	int64_t id;
	int64_t start;
	const char *starts_at, *status, *topic;
	int duration_min;
};

/* Pushes a session table. stack: +1 */
void shape_push_session(lua_State *L, const struct shape_session *s);

/*
 * Pushes a JSON value as plain Lua data: objects as tables with string keys,
 * arrays as sequences (a null inside one leaves a hole), null as nil; deeper
 * than 32 levels becomes nil. Raises on a memory error: call inside a protected
 * call. stack: +1. (The metrics a report's build receives; jansson's json_t.)
 */
struct json_t;
void shape_push_json(lua_State *L, const struct json_t *v);

#endif
