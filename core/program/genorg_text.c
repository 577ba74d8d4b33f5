/*
 * genorg_text: a generated person (genorg_format) or survey answer
 * (genorg_survey_format) as the text fields of one CSV record, written into
 * the row's fixed buffer. Callers: `tandem gen-org` (through genorg.h), the
 * tests. Contract: genorg.h. No I/O: csv_write_row() writes the fields.
 */
#include "program/genorg_internal.h"

#include <string.h>

#include "program/people.h"

/* Appends into a fixed buffer; `full` records that something did not fit. */
struct sbuf {
	char *p, *end;
	char *start; /* where the current field began */
	int full;
};

static void
sb_str(struct sbuf *s, const char *str)
{
	size_t n = strlen(str);
	if ((size_t)(s->end - s->p) <= n) {
		s->full = 1;
		return;
	}
	memcpy(s->p, str, n);
	s->p += n;
}

static void
sb_char(struct sbuf *s, char c)
{
	if (s->end - s->p <= 1) {
		s->full = 1;
		return;
	}
	*s->p++ = c;
}

/* Unsigned decimal, zero-padded to `width` digits. */
static void
sb_uint(struct sbuf *s, unsigned long v, int width)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n < width)
		tmp[n++] = '0';
	while (n > 0)
		sb_char(s, tmp[--n]);
}

/* Ends the current field and returns its start; the next field begins after it. */
static const char *
sb_field(struct sbuf *s)
{
	const char *start = s->start;
	if (s->p < s->end)
		*s->p++ = '\0';
	else
		s->full = 1;
	s->start = s->p;
	return start;
}

static void
sb_id(struct sbuf *s, long i)
{
	sb_char(s, 'E');
	sb_uint(s, (unsigned long)i + 1, 6);
}

/* The names (name_of) of the members of set among 0..n-1, joined by ';'. */
static void
sb_join(struct sbuf *s, uint32_t set, int n, const char *(*name_of)(int))
{
	int first = 1;
	for (int k = 0; k < n; k++)
		if (set & (1u << k)) {
			if (!first)
				sb_char(s, ';');
			sb_str(s, name_of(k));
			first = 0;
		}
}

static void
sb_topics(struct sbuf *s, uint32_t set)
{
	sb_join(s, set, GENORG_NTOPICS, genorg_topic_name);
}

/* Middle initials that tell apart people sharing a first and last name. */
static void
sb_initials(struct sbuf *s, uint32_t dup)
{
	static const char letters[] = "MJRSALCDEKTBNPGHWFVOIUYZQX";
	char tmp[8];
	int n = 0;
	while (dup > 0) { /* bijective base 26: 1 -> M, 26 -> X, 27 -> MM */
		dup--;
		tmp[n++] = letters[dup % 26];
		dup /= 26;
	}
	while (n > 0) {
		sb_char(s, tmp[--n]);
		sb_str(s, ". ");
	}
}

static void
sb_title(struct sbuf *s, const struct genorg_person *p)
{
	const struct department *dep = &genorg__departments[p->department];
	if (p->level == 9) {
		sb_str(s, "Chief Executive Officer");
		return;
	}
	if (p->level >= 5) {
		static const char *const fmt[4][2] = {{"", " Manager"},
						      {"Senior ", " Manager"},
						      {"Director of ", ""},
						      {"VP of ", ""}};
		sb_str(s, fmt[p->level - 5][0]);
		sb_str(s, dep->mgmt);
		sb_str(s, fmt[p->level - 5][1]);
		return;
	}
	static const char *const ic_prefix[5] = {"", "Associate ", "", "Senior ", "Principal "};
	sb_str(s, p->level == 4 && p->reports > 0 ? "Lead " : ic_prefix[p->level]);
	sb_str(s, dep->ic);
}

static void
sb_team(struct sbuf *s, const struct team *t)
{
	const struct department *dep = &genorg__departments[t->dept];
	switch (t->kind) {
	case TEAM_CEO:
		sb_str(s, "Office of the CEO");
		return;
	case TEAM_DEPT:
		sb_str(s, dep->name);
		sb_str(s, " Leadership");
		break;
	case TEAM_AREA:
		sb_str(s, dep->areas[t->area]);
		break;
	default:
		sb_str(s, dep->areas[t->area]);
		sb_char(s, ' ');
		sb_str(s, genorg__team_subs[t->sub]);
		break;
	}
	if (t->seq > 1) {
		sb_char(s, ' ');
		sb_uint(s, t->seq, 1);
	}
}

int
genorg_format(const struct genorg *g, long i, struct genorg_row *row, struct diag *d)
{
	const struct genorg_person *p = &g->people[i];
	const struct name_forms *first = &g->names.first[p->first];
	const struct name_forms *last = &g->names.last[p->last];
	struct sbuf s = {row->buf, row->buf + sizeof(row->buf), row->buf, 0};
	const char **f = row->field;

	sb_id(&s, i);
	f[0] = sb_field(&s);

	sb_str(&s, first->display);
	sb_char(&s, ' ');
	sb_initials(&s, p->name_dup);
	sb_str(&s, last->display);
	f[1] = sb_field(&s);

	sb_str(&s, first->ascii);
	sb_char(&s, '.');
	sb_str(&s, last->ascii);
	if (p->name_dup > 0)
		sb_uint(&s, p->name_dup + 1, 1);
	sb_str(&s, "@example.com");
	f[2] = sb_field(&s);

	sb_title(&s, p);
	f[3] = sb_field(&s);

	sb_uint(&s, p->level, 1);
	f[4] = sb_field(&s);

	f[5] = genorg__departments[p->department].name;

	sb_team(&s, &g->teams[p->team]);
	f[6] = sb_field(&s);

	f[7] = genorg__locations[p->location].name;
	f[8] = genorg__locations[p->location].zone;

	if (p->manager >= 0)
		sb_id(&s, p->manager);
	f[9] = sb_field(&s);

	sb_uint(&s, p->birth_year, 4);
	f[10] = sb_field(&s);

	f[11] = people_generations[p->generation];

	sb_uint(&s, p->hire_year, 4);
	sb_char(&s, '-');
	sb_uint(&s, p->hire_month, 2);
	sb_char(&s, '-');
	sb_uint(&s, p->hire_day, 2);
	f[12] = sb_field(&s);

	f[13] = genorg__status_names[p->status];

	sb_topics(&s, p->skills);
	f[14] = sb_field(&s);

	sb_topics(&s, p->wanted);
	f[15] = sb_field(&s);

	sb_join(&s, p->languages, NLANGS, genorg_language_code);
	f[16] = sb_field(&s);

	if (s.full)
		return diag_set(d, DIAG_INTERNAL, "gen-org: row %ld does not fit its buffer",
				i + 1);
	return 0;
}

int
genorg_survey_format(const struct genorg_survey *s, long i, struct genorg_row *row,
		     struct diag *d)
{
	const struct genorg_enrollment *e = &s->entries[i];
	struct sbuf b = {row->buf, row->buf + sizeof(row->buf), row->buf, 0};
	const char **f = row->field;

	sb_id(&b, e->person);
	f[0] = sb_field(&b);

	f[1] = genorg__role_names[e->role];

	if (e->role != GENORG_MENTEE)
		sb_uint(&b, e->capacity, 1);
	f[2] = sb_field(&b);

	sb_topics(&b, e->offered);
	f[3] = sb_field(&b);

	sb_topics(&b, e->wanted);
	f[4] = sb_field(&b);

	sb_join(&b, e->availability, GENORG_NSLOTS, genorg_slot_name);
	f[5] = sb_field(&b);
	f[6] = e->consent ? "yes" : "no";
	if (b.full)
		return diag_set(d, DIAG_INTERNAL, "gen-org: survey row %ld does not fit its buffer",
				i + 1);
	return 0;
}
