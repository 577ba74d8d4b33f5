/*
 * evkind: the closed list of event kinds the core appends to the event log, the
 * table of docs/plugin-api.md "Events", plus the open family `custom.NAME` that a
 * Lua job's `event` action appends.
 *
 * For: whoever takes an event kind from a user and must say when it names none: the
 * plugin host refuses a reward rule's `on` key that no event can ever have (lua/,
 * which sits below events/, hence this module in base/), and `tandem events --kind`
 * refuses a kind that can never match. The writers (events/ and above) keep using
 * their literals; tests/unit/test_evkind.c checks the list against the docs' table.
 *
 * Contract: pure functions over constant data; no allocation, no state.
 */
#ifndef TANDEM_EVKIND_H
#define TANDEM_EVKIND_H

#include <stddef.h>

/* The kinds the core appends, NULL-terminated, in the docs' order. */
extern const char *const evkind_all[];

/* 1 when kind is in evkind_all. */
int evkind_known(const char *kind);

/* 1 when kind is "custom." then a-z, 0-9, '_' or '.', at most 100 characters, not
 * ending in '.': the kinds a job's `event` action may append (docs/plugin-api.md "Jobs"). */
int evkind_custom(const char *kind);

/* "people.imported, people.erased, ..., custom.*" into buf (cut to size, always
 * terminated). */
void evkind_list(char *buf, size_t size);

#endif
