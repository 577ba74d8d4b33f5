/*
 * tz: IANA time zones and calendar dates. For now, checking that a zone name is
 * real and that a date is a real calendar date; conversions between UTC and
 * local calendar time come here later.
 *
 * Called by: people (every person has a zone, hire dates), the enrollment
 * importer, config (program dates), sched (job zones).
 *
 * Contract: tz_valid(name) is true when name is a safe relative IANA name (starts with
 * an uppercase letter, only letters, digits and "/_+-", no "." or ".." components) and
 * TZDIR/name (TZDIR from the environment, else /usr/share/zoneinfo) is a TZif file.
 * Answers are cached for the life of the process in a small table guarded by a mutex,
 * so tz_valid is safe to call from several threads; a zone file that appears or
 * disappears after the first question is not noticed until tz_cache_clear().
 */
#ifndef TANDEM_TZ_H
#define TANDEM_TZ_H

/* 1 for a valid IANA zone name, 0 otherwise. */
int tz_valid(const char *zone);

/* 1 when s is a real calendar date written YYYY-MM-DD (year 1900 or later), 0 otherwise. */
int tz_date_valid(const char *s);

/* Forgets every cached answer (tests that change TZDIR). */
void tz_cache_clear(void);

#endif
