/*
 * feat: built-in pair features and constraints. See feat.h for the contract and
 * the definitions of each feature. This file: names, lookups and accessors;
 * building the snapshot is feat_build.c, evaluating pairs feat_eval.c (the
 * layout they share: feat_internal.h).
 */
#include "program/feat.h"

#include <stdio.h>
#include <string.h>

#include "program/feat_internal.h"

static const char *const feat_names_tab[FEAT_COUNT] = {
    "topic_fit",      "level_gap",	 "generation_gap", "cross_department",
    "cross_location", "shared_language", "tz_distance",	   "availability_overlap",
};
static const char *const pred_names_tab[FPRED_COUNT] = {
    "reporting_chain", "same_department", "same_team", "same_location", "previously_paired",
};

const char *
feat_name(int id)
{
	return id >= 0 && id < FEAT_COUNT ? feat_names_tab[id] : "?";
}

const char *
feat_pred_name(int id)
{
	return id >= 0 && id < FPRED_COUNT ? pred_names_tab[id] : "?";
}

int
feat_lookup(const char *name)
{
	for (int i = 0; i < FEAT_COUNT; i++)
		if (strcmp(name, feat_names_tab[i]) == 0)
			return i;
	return -1;
}

int
feat_pred_lookup(const char *name)
{
	for (int i = 0; i < FPRED_COUNT; i++)
		if (strcmp(name, pred_names_tab[i]) == 0)
			return i;
	return -1;
}

const char *
feat_names(void)
{
	return "topic_fit, level_gap, generation_gap, cross_department, cross_location, "
	       "shared_language, tz_distance, availability_overlap";
}

const char *
feat_pred_names(void)
{
	return "reporting_chain, same_department, same_team, same_location, previously_paired";
}

void
feat_verdict_text(int v, char *buf, size_t size)
{
	if (v == FV_ALLOWED)
		snprintf(buf, size, "allowed");
	else if (v == FV_SELF)
		snprintf(buf, size, "same person on both sides");
	else if (v == FV_VETOED)
		snprintf(buf, size, "vetoed by an administrator");
	else if (v >= FV_FORBID && v < FV_REQUIRE)
		snprintf(buf, size, "forbidden: %s", feat_pred_name(v - FV_FORBID));
	else if (v >= FV_REQUIRE && v < FV_RANGE)
		snprintf(buf, size, "required %s does not hold", feat_pred_name(v - FV_REQUIRE));
	else if (v >= FV_RANGE && v < FV_COUNT)
		snprintf(buf, size, "%s outside the required range", feat_name(v - FV_RANGE));
	else
		snprintf(buf, size, "unknown verdict %d", v);
}

/* ---- accessors ------------------------------------------------------------- */

int
feat_nmentors(const struct feat_snapshot *s)
{
	return s->nmentors;
}

int
feat_nmentees(const struct feat_snapshot *s)
{
	return s->nmentees;
}

int
feat_npeople(const struct feat_snapshot *s)
{
	return s->npeople;
}

int
feat_mentor_person(const struct feat_snapshot *s, int mentor)
{
	return s->mentors[mentor].person;
}

int
feat_mentee_person(const struct feat_snapshot *s, int mentee)
{
	return s->mentees[mentee].person;
}

int
feat_mentor_capacity(const struct feat_snapshot *s, int mentor)
{
	return s->mentors[mentor].capacity;
}
