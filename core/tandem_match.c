/*
 * tandem_match: the policy and match-run half of the public facade (tandem.h):
 * loading a policy by name, path or source text, running a program's match (dry
 * or stored) and handing the proposals back as plain data, listing matches.
 * Called by embedders only. A run goes through the match pipeline's stages
 * (program/match_run.h: cohort, solve, store, the run document), as the CLI's do.
 *
 * Policies from a string: the plugin host loads plugins from files (a worker
 * reads and checks the file before the host does, and later workers may read it
 * again), so the source is written to a private file in the workspace folder
 * (mode 0600, ".tandem-policy-XXXXXX.lua", not in policies/ so that discovery
 * never sees it), kept while the policy lives and removed by tandem_policy_free.
 * Messages name the caller's `name` instead of that file.
 */
#include "tandem_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "program/cohort.h"
#include "program/config.h"
#include "program/explain.h"
#include "program/match_run.h"
#include "program/matches.h"
#include "program/policy.h"
#include "program/solve.h"

struct tandem_policy {
	struct policy *pol;
	char *tmp_path; /* string-loaded: the private file (removed at free), else NULL */
	char *name;     /* string-loaded: the caller's name for it in messages */
};

/* Replaces every occurrence of `from` in d's message by `to` (messages of a
 * string-loaded policy name the caller's name, not the private file). */
static void
rename_source(struct diag *d, const char *from, const char *to)
{
	size_t nf = strlen(from);
	if (nf == 0 || strstr(d->msg, from) == NULL)
		return;
	char out[DIAG_MSG_MAX];
	size_t k = 0;
	for (const char *p = d->msg; *p && k + 1 < sizeof(out);) {
		if (strncmp(p, from, nf) == 0) {
			int w = snprintf(out + k, sizeof(out) - k, "%s", to);
			k += (size_t)w < sizeof(out) - k ? (size_t)w : sizeof(out) - k - 1;
			p += nf;
		} else {
			out[k++] = *p++;
		}
	}
	out[k] = '\0';
	memcpy(d->msg, out, k + 1);
}

static struct tandem_policy *
policy_wrap(struct policy *pol, struct diag *d)
{
	struct tandem_policy *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		policy_delete(pol);
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	p->pol = pol;
	return p;
}

struct tandem_policy *
tandem_policy_load(struct tandem *t, const char *ref, struct tandem_error *err)
{
	if (t == NULL || ref == NULL) {
		tandem__null_arg(err, "tandem_policy_load", t ? "ref" : "handle");
		return NULL;
	}
	struct diag d;
	diag_clear(&d);
	struct policy *pol = policy_open(t->dir, ref, &d);
	struct tandem_policy *p = pol ? policy_wrap(pol, &d) : NULL;
	if (p == NULL)
		return tandem__fail(err, &d);
	tandem__ok(err);
	return p;
}

/* Writes source to a new private file in the workspace folder; its path in *out. */
static int
write_private_file(const struct tandem *t, const char *source, char **out, struct diag *d)
{
	char dir[PATH_MAX];
	if (realpath(t->dir, dir) == NULL)
		return diag_set(d, DIAG_IO, "%s: %s", t->dir, strerror(errno));
	size_t n = strlen(dir) + sizeof("/.tandem-policy-XXXXXX.lua");
	char *path = malloc(n);
	if (path == NULL)
		return diag_set(d, DIAG_NOMEM, "out of memory");
	snprintf(path, n, "%s/.tandem-policy-XXXXXX.lua", dir);
	int fd = mkstemps(path, 4); /* 0600 */
	if (fd < 0) {
		diag_set(d, DIAG_IO, "cannot create a file in %s: %s", t->dir, strerror(errno));
		free(path);
		return -1;
	}
	size_t len = strlen(source), done = 0;
	while (done < len) {
		ssize_t w = write(fd, source + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	int bad = done < len;
	int saved = errno;
	if (close(fd) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		diag_set(d, DIAG_IO, "cannot write %s: %s", path, strerror(saved));
		unlink(path);
		free(path);
		return -1;
	}
	*out = path;
	return 0;
}

struct tandem_policy *
tandem_policy_load_string(struct tandem *t, const char *name, const char *source,
			  struct tandem_error *err)
{
	if (t == NULL || name == NULL || source == NULL) {
		tandem__null_arg(err, "tandem_policy_load_string",
				 t == NULL ? "handle" : name == NULL ? "name" : "source");
		return NULL;
	}
	struct diag d;
	diag_clear(&d);
	char *path = NULL, *copy = strdup(name);
	if (copy == NULL) {
		diag_set(&d, DIAG_NOMEM, "out of memory");
		return tandem__fail(err, &d);
	}
	if (write_private_file(t, source, &path, &d) != 0) {
		free(copy);
		return tandem__fail(err, &d);
	}
	struct policy *pol = policy_open(t->dir, path, &d);
	struct tandem_policy *p = pol ? policy_wrap(pol, &d) : NULL;
	if (p == NULL) {
		rename_source(&d, path, name);
		unlink(path);
		free(path);
		free(copy);
		return tandem__fail(err, &d);
	}
	p->tmp_path = path;
	p->name = copy;
	tandem__ok(err);
	return p;
}

const char *
tandem_policy_name(const struct tandem_policy *p)
{
	return p ? p->pol->name : NULL;
}

const char *
tandem_policy_version(const struct tandem_policy *p)
{
	return p ? p->pol->version : NULL;
}

void
tandem_policy_free(struct tandem_policy *p)
{
	if (p == NULL)
		return;
	policy_delete(p->pol);
	if (p->tmp_path != NULL)
		unlink(p->tmp_path);
	free(p->tmp_path);
	free(p->name);
	free(p);
}

/* ---- runs ------------------------------------------------------------------------ */

struct tandem_run {
	struct tandem_proposal *props;
	int nprops;
	struct tandem_feature *feats; /* nfeatures per proposal, when explained */
	json_t **explanations;        /* per proposal, when explained: feature names point here */
	char **unmatched;
	int nunmatched;
	double total;
	char *run_id;
	char *json; /* the run as `tandem match run --json` prints it */
};

void
tandem_run_free(struct tandem_run *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->nprops; i++) {
		struct tandem_proposal *p = &r->props[i];
		free((char *)p->mentor_id);
		free((char *)p->mentor_name);
		free((char *)p->mentee_id);
		free((char *)p->mentee_name);
		free((char *)p->explanation_json);
		if (r->explanations != NULL)
			json_decref(r->explanations[i]);
	}
	for (int i = 0; i < r->nunmatched; i++)
		free(r->unmatched[i]);
	free(r->props);
	free(r->feats);
	free(r->explanations);
	free(r->unmatched);
	free(r->run_id);
	free(r->json);
	free(r);
}

int
tandem_run_count(const struct tandem_run *r)
{
	return r ? r->nprops : 0;
}

const struct tandem_proposal *
tandem_run_proposal(const struct tandem_run *r, int i)
{
	return r && i >= 0 && i < r->nprops ? &r->props[i] : NULL;
}

int
tandem_run_unmatched_count(const struct tandem_run *r)
{
	return r ? r->nunmatched : 0;
}

const char *
tandem_run_unmatched(const struct tandem_run *r, int i)
{
	return r && i >= 0 && i < r->nunmatched ? r->unmatched[i] : NULL;
}

double
tandem_run_total(const struct tandem_run *r)
{
	return r ? r->total : 0;
}

const char *
tandem_run_id(const struct tandem_run *r)
{
	return r ? r->run_id : NULL;
}

const char *
tandem_run_json(const struct tandem_run *r)
{
	return r ? r->json : NULL;
}

static char *
dup_str(const char *s, int *oom)
{
	char *c = strdup(s ? s : "");
	*oom |= c == NULL;
	return c;
}

/* Fills p's features from the explanation (kept in the run: names point into it). */
static int
explain_proposal(struct tandem_run *r, int i, const struct policy *pol,
		 const struct cohort *co, const struct solve_pair *pair)
{
	json_t *ex = explain_pair(pol, co, pair->mentor, pair->mentee, pair->lua);
	if (ex == NULL)
		return -1;
	r->explanations[i] = ex;
	struct tandem_proposal *p = &r->props[i];
	p->explanation_json = json_dumps(ex, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (p->explanation_json == NULL)
		return -1;
	json_t *feats = json_object_get(ex, "features");
	struct tandem_feature *f = &r->feats[(size_t)i * FEAT_COUNT];
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach(feats, k, v)
	{
		if (n == FEAT_COUNT)
			break;
		json_t *raw = json_object_get(v, "raw");
		f[n] = (struct tandem_feature){
		    .name = k,
		    .value = json_number_value(json_object_get(v, "value")),
		    .raw = json_is_number(raw) ? json_number_value(raw) : 0,
		    .known = json_is_number(raw),
		    .weight = json_number_value(json_object_get(v, "weight")),
		    .contribution = json_number_value(json_object_get(v, "contribution")),
		};
		n++;
	}
	p->features = f;
	p->nfeatures = n;
	return 0;
}

static const char *
person_field(const struct cohort *co, int person, int name)
{
	const struct cohort_person *p = &co->people[person];
	return name ? p->name : p->external_id;
}

/* Copies the solver's result (and its JSON document) into a run the caller owns. */
static struct tandem_run *
run_build(const struct match_run *mr, int explain, int dry_run, struct diag *d)
{
	const struct cohort *co = &mr->cohort;
	const struct solve_result *res = &mr->res;
	struct tandem_run *r = calloc(1, sizeof(*r));
	int oom = r == NULL;
	if (!oom && res->npairs > 0) {
		r->props = calloc((size_t)res->npairs, sizeof(*r->props));
		oom |= r->props == NULL;
		if (!oom && explain) {
			r->feats = calloc((size_t)res->npairs * FEAT_COUNT, sizeof(*r->feats));
			r->explanations = calloc((size_t)res->npairs, sizeof(*r->explanations));
			oom |= r->feats == NULL || r->explanations == NULL;
		}
	}
	if (!oom && res->nunmatched > 0) {
		r->unmatched = calloc((size_t)res->nunmatched, sizeof(*r->unmatched));
		oom |= r->unmatched == NULL;
	}
	for (int i = 0; !oom && i < res->npairs; i++) {
		const struct solve_pair *pair = &res->pairs[i];
		int mp = co->mentors[pair->mentor].person, ep = co->mentees[pair->mentee].person;
		struct tandem_proposal *p = &r->props[i];
		r->nprops = i + 1;
		p->mentor_id = dup_str(person_field(co, mp, 0), &oom);
		p->mentor_name = dup_str(person_field(co, mp, 1), &oom);
		p->mentee_id = dup_str(person_field(co, ep, 0), &oom);
		p->mentee_name = dup_str(person_field(co, ep, 1), &oom);
		p->score = pair->score;
		p->builtin = pair->builtin;
		p->lua = pair->lua;
		p->kept = pair->kept;
		if (!oom && explain)
			oom |= explain_proposal(r, i, mr->pol, co, pair) != 0;
	}
	for (int i = 0; !oom && i < res->nunmatched; i++) {
		r->nunmatched = i + 1;
		r->unmatched[i] =
		    dup_str(person_field(co, co->mentees[res->unmatched[i]].person, 0), &oom);
	}
	if (!oom && !dry_run)
		r->run_id = dup_str(mr->run_id, &oom);
	if (!oom) {
		/* The same document as `tandem match run --json` (--explain with EXPLAIN). */
		json_t *doc = match_run_json(mr, explain, dry_run);
		r->json = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(doc);
		oom |= r->json == NULL;
	}
	if (oom) {
		tandem_run_free(r);
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	r->total = res->total;
	return r;
}

struct tandem_run *
tandem_match_run(struct tandem *t, const char *program, struct tandem_policy *policy, int flags,
		 struct tandem_error *err)
{
	if (t == NULL || program == NULL) {
		tandem__null_arg(err, "tandem_match_run", t ? "program" : "handle");
		return NULL;
	}
	struct diag d;
	diag_clear(&d);
	int dry = (flags & TANDEM_MATCH_DRY_RUN) != 0;
	struct config cfg;
	struct match_run_ctx x = {.st = t->st, .ws = t->dir};
	struct match_run mr;
	struct tandem_run *r = NULL;
	if (tandem__open_program(t, program, &cfg, &x.prog, &x.program_id, &d) == 0) {
		/* The caller's policy is borrowed by the run; with none, the run resolves
		 * the program's `policy` in tandem.lua (errors at its line) and owns it. */
		int rc = policy ? match_run_solve_with(&x, policy->pol, &mr, &d)
				: match_run_solve(&x, NULL, &mr, &d);
		/* The embedder asked for this run: it replaces the unreviewed proposals
		 * whatever their number, as `match run --replace` does. */
		if (rc == 0 && (dry || match_run_store(&x, &mr, t->actor, 1, &d) == 0))
			r = run_build(&mr, (flags & TANDEM_MATCH_EXPLAIN) != 0, dry, &d);
		match_run_fini(&mr);
	}
	config_fini(&cfg);
	if (r == NULL) {
		if (policy != NULL && policy->tmp_path != NULL)
			rename_source(&d, policy->tmp_path, policy->name);
		return tandem__fail(err, &d);
	}
	tandem__ok(err);
	return r;
}

/* ---- listing ------------------------------------------------------------------------ */

char *
tandem_matches_json(struct tandem *t, const char *program, const char *status,
		    struct tandem_error *err)
{
	if (t == NULL || program == NULL) {
		tandem__null_arg(err, "tandem_matches_json", t ? "program" : "handle");
		return NULL;
	}
	struct diag d;
	diag_clear(&d);
	static const char *const statuses[] = {"proposed", "approved", "rejected",
					       "active",   "ended",	   "superseded"};
	int known = status == NULL;
	for (size_t i = 0; !known && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		known = strcmp(status, statuses[i]) == 0;
	if (!known) {
		diag_set(&d, DIAG_INVALID,
			 "status must be proposed, approved, rejected, active, ended or superseded "
			 "(got '%s')",
			 status);
		return tandem__fail(err, &d);
	}
	struct config cfg;
	const struct config_program *prog;
	int64_t program_id;
	int rc = tandem__open_program(t, program, &cfg, &prog, &program_id, &d);
	config_fini(&cfg);
	if (rc != 0)
		return tandem__fail(err, &d);
	return tandem__json_result(matches_list_json(t->st, program_id, status, &d), err, &d);
}
