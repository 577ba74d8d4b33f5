/*
 * serve/service: one wake of the service (see service.h).
 */
#include "serve/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/outbox.h"
#include "lua/plugin.h"
#include "program/config.h"
#include "rewards/dispatch.h"
#include "report/publish.h"
#include "sched/job.h"
#include "sched/notify.h"
#include "sched/occur.h"
#include "store/store.h"

/* A temporary file in the outbox older than this at start is a killed writer's. */
enum { SERVICE_TMP_STALE_S = 60 };

struct service {
	char *workspace;
	char *config_path;
	struct store *st;
	const struct clock *clock;
	struct config cfg; /* the sched borrows &cfg: a reload replaces its content in place */
	int have_cfg;
	struct plugin_host *host;
	struct sched *sched;
	struct notify *notify;
	size_t nerrors;    /* script errors last logged, and the first one's text */
	char *first_error;
	int jobs_done;     /* this wake has no due occurrence left: deliver messages */
	int msgs_done;     /* this wake has no due message left */
	int turn;          /* 1: the next step tries a message first (jobs and messages alternate) */
	int dispatched;    /* this wake delivered the new events to the reward rules */
	int redispatch;    /* a job ran after that delivery (the month's reports): deliver again */
	struct dispatcher *rules; /* the reward rules, loaded once, reloaded on SIGHUP */
	struct service_counts counts;
	char *public_url;  /* --public-url: wins over tandem.lua's, across reloads */
};

static int
load_config(struct service *sv, struct diag *d)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (config_load(sv->config_path, &cfg, d) != 0)
		return -1;
	if (config_sync_programs(sv->st, &cfg, d) != 0) {
		config_fini(&cfg);
		return -1;
	}
	if (sv->public_url != NULL) {
		free(cfg.public_url);
		if ((cfg.public_url = strdup(sv->public_url)) == NULL) {
			config_fini(&cfg);
			return diag_set(d, DIAG_NOMEM, "out of memory");
		}
	}
	if (sv->have_cfg)
		config_fini(&sv->cfg);
	sv->cfg = cfg;
	sv->have_cfg = 1;
	return 0;
}

int
service_set_public_url(struct service *sv, const char *url, struct diag *d)
{
	char *a = strdup(url), *b = strdup(url);
	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return diag_set(d, DIAG_NOMEM, "out of memory");
	}
	free(sv->public_url);
	sv->public_url = a;
	free(sv->cfg.public_url);
	sv->cfg.public_url = b;
	return 0;
}

/* Logs the job scripts that did not load at the last sync (the loaded version stays),
 * when they differ from the last wake's: a broken script is said once, not every wake. */
static void
log_script_errors(struct service *sv, int always)
{
	size_t n = sched_nerrors(sv->sched);
	const char *first = n > 0 ? sched_error(sv->sched, 0) : "";
	if (!always && n == sv->nerrors && strcmp(first, sv->first_error ? sv->first_error : "") == 0)
		return;
	sv->nerrors = n;
	free(sv->first_error);
	sv->first_error = strdup(first);
	for (size_t i = 0; i < n; i++)
		tlog(TLOG_ERROR, "job script: %s", sched_error(sv->sched, i));
	sv->counts.plugin_errors += n;
}

struct service *
service_open(const char *workspace, struct store *st, const struct clock *c, struct diag *d)
{
	struct service *sv = calloc(1, sizeof(*sv));
	if (sv == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	size_t n = strlen(workspace) + sizeof("/tandem.lua");
	sv->workspace = strdup(workspace);
	sv->config_path = malloc(n);
	if (sv->workspace == NULL || sv->config_path == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		service_close(sv);
		return NULL;
	}
	snprintf(sv->config_path, n, "%s/tandem.lua", workspace);
	sv->st = st;
	sv->clock = c;
	if (load_config(sv, d) != 0 || (sv->host = plugin_host_new(d)) == NULL) {
		service_close(sv);
		return NULL;
	}
	struct sched_opts so = {.st = st, .cfg = &sv->cfg, .host = sv->host, .ws = workspace,
				.clock = c, .reports = report_publish_job};
	struct notify_opts no = {.workspace = workspace, .from = sv->cfg.mail_from,
				 .timezone = sv->cfg.timezone, .host = sv->host};
	if ((sv->sched = sched_new(&so, d)) == NULL || (sv->notify = notify_new(st, &no, d)) == NULL ||
	    (sv->rules = dispatcher_new(workspace, NULL, d)) == NULL) {
		service_close(sv);
		return NULL;
	}
	/* Temporary files of a writer killed before its rename: never renamed now. */
	int removed = 0;
	struct diag cd;
	diag_clear(&cd);
	if (notify_clean_temps(workspace, SERVICE_TMP_STALE_S, &removed, &cd) != 0)
		tlog(TLOG_WARN, "outbox: %s", cd.msg);
	else if (removed > 0)
		tlog(TLOG_INFO, "outbox: removed %d temporary file(s) left by an interrupted write",
		     removed);
	return sv;
}

void
service_close(struct service *sv)
{
	if (sv == NULL)
		return;
	dispatcher_delete(sv->rules);
	notify_delete(sv->notify);
	sched_delete(sv->sched);
	plugin_host_delete(sv->host);
	if (sv->have_cfg)
		config_fini(&sv->cfg);
	free(sv->first_error);
	free(sv->public_url);
	free(sv->workspace);
	free(sv->config_path);
	free(sv);
}

int
service_begin(struct service *sv, time_t now, struct diag *d)
{
	int unknown = 0;
	if (outbox_recover(sv->st, now, &unknown, d) != 0)
		return diag_prefix(d, "outbox");
	if (unknown > 0)
		tlog(TLOG_WARN, "%d message(s) left 'sending' by a sender that died are now 'unknown'",
		     unknown);
	if (sched_sync(sv->sched, d) != 0)
		return diag_prefix(d, "jobs");
	log_script_errors(sv, 0);
	sched_rematerialize(sv->sched); /* a write since the last wake may be new work */
	if (sched_materialize(sv->sched, now, d) != 0)
		return diag_prefix(d, "jobs");
	sv->jobs_done = 0;
	sv->msgs_done = 0;
	sv->turn = 0;
	sv->dispatched = 0;
	sv->redispatch = 0;
	/* The month's reports wait for the wake's other jobs (sched_run_one orders them last)
	 * and for the rewards those jobs' events earn: released after the first delivery. */
	sched_hold_reports(sv->sched, 1);
	return 0;
}

/* Once per wake, after its jobs: the new events to the reward rules (rewards/dispatch), each
 * batch in its own transaction, so no write lock is held while the rules' workers run. A rule
 * that stops at an event is logged and retried at the next wake; the others go on. */
static int
service_dispatch(struct service *sv, time_t now, struct diag *d)
{
	sv->dispatched = 1;
	struct dispatch_opts o = {.ws = sv->workspace, .cfg = sv->have_cfg ? &sv->cfg : NULL};
	struct dispatch_result r;
	if (dispatcher_run(sv->rules, sv->st, &o, now, &r, d) != 0) {
		dispatch_result_fini(&r);
		return diag_prefix(d, "rewards");
	}
	for (int i = 0; i < r.nrules; i++)
		if (r.rules[i].error[0]) {
			tlog(TLOG_ERROR, "reward rule %s: %s", r.rules[i].name, r.rules[i].error);
			sv->counts.plugin_errors++;
		}
	if (r.delivered > 0)
		tlog(TLOG_INFO, "rewards: %ld event(s) delivered, %ld granted, %ld revoked",
		     r.delivered, r.granted, r.revoked);
	dispatch_result_fini(&r);
	return 0;
}

/* One due message: 1 when one was handled, 0 when none is due, -1 on a store failure. */
static int
service_message(struct service *sv, time_t now, struct diag *d)
{
	int outcome = 0;
	int rc = notify_deliver_one(sv->notify, now, &outcome, d);
	if (rc < 0)
		return diag_prefix(d, "outbox");
	if (rc == 1) {
		sv->msgs_done = 1;
		return 0;
	}
	if (outcome == OUTBOX_SENT)
		sv->counts.messages_sent++;
	else if (outcome == OUTBOX_EXPIRED)
		sv->counts.messages_expired++;
	return 1;
}

int
service_step(struct service *sv, time_t now, struct diag *d)
{
	/* Jobs and messages take turns, so neither waits for the other: a long run of due
	 * occurrences (a backlog, a fast time scale) does not hold back a message whose time
	 * is short, and a job's reminders still go out in the same wake. */
	if (sv->turn && !sv->msgs_done) {
		sv->turn = 0;
		int rc = service_message(sv, now, d);
		if (rc != 0)
			return rc;
	}
	if (!sv->jobs_done) {
		int ran = 0;
		if (sched_run_one(sv->sched, now, &ran, d) != 0)
			return diag_prefix(d, "jobs");
		if (ran) {
			sv->counts.jobs_run++;
			sv->turn = 1;
			sv->msgs_done = 0; /* the job may have queued messages due now */
			sv->redispatch = sv->dispatched;
			return 1;
		}
		sv->jobs_done = 1;
	}
	if (!sv->dispatched || sv->redispatch) {
		sv->redispatch = 0;
		if (service_dispatch(sv, now, d) != 0)
			return -1;
		if (sched_holds_reports(sv->sched)) {
			sched_hold_reports(sv->sched, 0); /* now the month's reports, if due */
			sv->jobs_done = 0;
		}
		return 1;
	}
	if (sv->msgs_done)
		return 0;
	return service_message(sv, now, d);
}

int
service_next_due(struct service *sv, time_t *due, struct diag *d)
{
	time_t job = 0, msg = 0;
	int rj = sched_next_due(sv->sched, &job, d);
	if (rj < 0)
		return diag_prefix(d, "jobs");
	int rm = outbox_next_due(sv->st, clock_now(sv->clock), &msg, d);
	if (rm < 0)
		return diag_prefix(d, "outbox");
	if (rj == 1 && rm == 1)
		return 1;
	*due = rj == 1 ? msg : rm == 1 ? job : (job < msg ? job : msg);
	return 0;
}

int
service_reload(struct service *sv, struct diag *d)
{
	/* tandem.lua: its messages name the file and line; a failure keeps the loaded one. */
	if (load_config(sv, d) != 0)
		return -1;
	/* The notifier copied mail_from and the zone at start: the reloaded ones from now on. */
	if (notify_set_sender(sv->notify, sv->cfg.mail_from, sv->cfg.timezone, d) != 0)
		return -1;
	/* Plugins: each edited one loaded again now; one that no longer loads keeps its
	 * loaded version, and the reload says which and why (the first such problem). */
	struct diag pd;
	diag_clear(&pd);
	int kept = 0;
	int rc = sched_refresh_cadences(sv->sched, &pd);
	if (rc < 0)
		return diag_set(d, pd.code, "cadences: %s", pd.msg);
	kept += rc;
	struct diag rd;
	diag_clear(&rd);
	if ((rc = dispatcher_refresh(sv->rules, &rd)) < 0)
		return diag_set(d, rd.code, "%s", rd.msg);
	if (rc > 0 && kept++ == 0) {
		pd = rd;
	} else if (rc > 0) {
		tlog(TLOG_ERROR, "SIGHUP: %s", rd.msg);
		sv->counts.plugin_errors++;
	}
	/* The job scripts: a broken one keeps its loaded version (sched_sync's contract). */
	sched_forget_scripts(sv->sched);
	if (sched_sync(sv->sched, d) != 0)
		return diag_prefix(d, "jobs");
	if (sched_nerrors(sv->sched) > 0) {
		log_script_errors(sv, 1);
		sv->counts.plugin_errors--; /* the one returned: the loop counts it */
		if (kept > 0) {
			tlog(TLOG_ERROR, "SIGHUP: %s", pd.msg);
			sv->counts.plugin_errors++;
		}
		return diag_set(d, DIAG_PLUGIN, "%s", sched_error(sv->sched, 0));
	}
	if (kept > 0)
		return diag_set(d, pd.code, "%s", pd.msg);
	return 0;
}

void
service_set_no_sync(struct service *sv)
{
	notify_set_no_sync(sv->notify, 1);
}

void
service_set_no_files(struct service *sv)
{
	notify_set_no_files(sv->notify, 1);
}

void
service_counts(const struct service *sv, struct service_counts *out)
{
	*out = sv->counts;
	out->jobs_failed = sched_failed_runs(sv->sched);
	out->parts_failed = sched_failed_parts(sv->sched);
}

static int
op_begin(void *ud, time_t now, struct diag *d)
{
	return service_begin(ud, now, d);
}

static int
op_step(void *ud, time_t now, struct diag *d)
{
	return service_step(ud, now, d);
}

static int
op_next_due(void *ud, time_t *due, struct diag *d)
{
	return service_next_due(ud, due, d);
}

static int
op_reload(void *ud, struct diag *d)
{
	return service_reload(ud, d);
}

void
service_ops(struct service *sv, struct serve_ops *ops)
{
	ops->ud = sv;
	ops->begin = op_begin;
	ops->step = op_step;
	ops->next_due = op_next_due;
	ops->reload = op_reload;
}

const struct config *
service_config(const struct service *sv)
{
	return &sv->cfg;
}

struct sched *
service_sched(struct service *sv)
{
	return sv->sched;
}
