/*
 * cli/cmd_jobs: `tandem jobs list|run|history`, the scheduled jobs of the workspace.
 * Argument parsing and printing only: sched/job.h and sched/occur.h do the work.
 *
 * Every subcommand first brings the jobs table in step with the build's built-ins
 * and the workspace's scripts (sched_sync) and materializes what is owed up to now
 * (sched_materialize), exactly as the service does when it wakes, so what is listed
 * is what the service would see. A job script that does not load is reported on
 * stderr with its file, line and field, and the command goes on with the others
 * (exit 1 at the end for `list`, so scripts and CI notice).
 *
 * Called by main.c's dispatch (cmd_jobs).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "lua/plugin.h"
#include "report/publish.h"
#include "sched/job.h"
#include "sched/occur.h"
#include "store/store.h"

static void
jobs_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem jobs list [--json]\n"
		"       tandem jobs run NAME [--json]\n"
		"       tandem jobs history NAME [--limit N] [--json]\n\n"
		"  list        every job (built-in, and the Lua jobs in WORKSPACE/scripts/): its\n"
		"              schedule and zone, next run, last run and its result, how many runs\n"
		"              are done, failed, skipped or missed, and the latest skipped or\n"
		"              missed runs with the reason; the next due first (then by name;\n"
		"              jobs with no next run last). The built-in hourly jobs run only at\n"
		"              the hours where they have work: their next run is the first such\n"
		"              hour, or \"when work appears\". A script that does not load is\n"
		"              reported with its file, line and field (exit 1).\n"
		"  run         run job NAME now, whatever its schedule (exit 1 if it fails; a\n"
		"              second run within the same second is refused: runs are keyed\n"
		"              by the second)\n"
		"  history     the runs of job NAME, newest first (default --limit 20)\n\n"
		"Options:\n"
		"  --json        print JSON instead of a table\n"
		"  --limit N     history: at most N runs (1-10000)\n"
		"  -h, --help    print this help\n");
}

struct jopts {
	const char *name;
	long limit;
	int json;
};

static int
jobs_opts(const char *cmd, int argc, char **argv, struct jopts *o, int want_name, int limit_ok)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"limit", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->limit = 20;
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		if (ch == 1) {
			if (!want_name || o->name != NULL)
				return cli_usage(cmd, "unexpected argument '%s'", optarg);
			o->name = optarg;
		} else if (ch == 'j') {
			o->json = 1;
		} else if (ch == 'l' && limit_ok) {
			if (cli_parse_int(cmd, "--limit", optarg, 1, 10000, &o->limit) != 0)
				return CLI_USAGE;
		} else {
			return cli_usage(cmd, "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	if (want_name && o->name == NULL)
		return cli_usage(cmd, "missing the job's NAME");
	return CLI_OK;
}

/* Log lines of the scheduler: warnings and errors only (the command prints its own). */
static void
quiet_log(void *ud, int level, const char *msg)
{
	(void)ud;
	if (level == TLOG_ERROR)
		fprintf(stderr, "tandem: %s\n", msg);
}

/* The workspace's scheduler, synced and materialized at now. */
struct jws {
	struct store *st;
	struct config cfg;
	int have_cfg;
	struct plugin_host *host;
	struct sched *s;
	int script_errors;
};

static void
jws_close(struct jws *w)
{
	sched_delete(w->s);
	plugin_host_delete(w->host);
	if (w->have_cfg)
		config_fini(&w->cfg);
	store_close(w->st);
}

static int
jws_open(struct cli *c, struct jws *w)
{
	memset(w, 0, sizeof(*w));
	char path[4096];
	struct diag d;
	if (cli_need_config(c, cli_ws_path(c, "tandem.lua", path, sizeof(path))) != CLI_OK)
		return CLI_FAIL;
	if (cli_open_store(c, &w->st) != CLI_OK)
		return CLI_FAIL;
	if (config_load(path, &w->cfg, &d) != 0) {
		store_close(w->st);
		return cli_diag(&d);
	}
	w->have_cfg = 1;
	struct sched_opts o = {0};
	o.st = w->st;
	o.cfg = &w->cfg;
	o.ws = c->dir;
	o.log = quiet_log;
	o.reports = report_publish_job;
	if (config_sync_programs(w->st, &w->cfg, &d) != 0 || (w->host = plugin_host_new(&d)) == NULL)
		goto fail;
	o.host = w->host;
	if ((w->s = sched_new(&o, &d)) == NULL || sched_sync(w->s, &d) != 0 ||
	    sched_materialize(w->s, sched_now(w->s), &d) != 0)
		goto fail;
	for (size_t i = 0; i < sched_nerrors(w->s); i++)
		fprintf(stderr, "tandem: %s\n", sched_error(w->s, i));
	w->script_errors = sched_nerrors(w->s) > 0;
	return CLI_OK;
fail:
	jws_close(w);
	return cli_diag(&d);
}

static int
jobs_list(struct cli *c, int argc, char **argv)
{
	struct jopts o;
	int rc = jobs_opts("jobs list", argc, argv, &o, 0, 0);
	if (rc != CLI_OK)
		return rc;
	struct jws w;
	if (jws_open(c, &w) != CLI_OK)
		return CLI_FAIL;
	struct sched_job_info *v;
	size_t n;
	struct diag d;
	if (sched_list(w.s, 5, &v, &n, &d) != 0) {
		jws_close(&w);
		return cli_diag(&d);
	}
	if (o.json) {
		json_t *jobs = json_array(), *errs = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(jobs, sched_job_json(&v[i]));
		for (size_t i = 0; i < sched_nerrors(w.s); i++)
			json_array_append_new(errs, json_string(sched_error(w.s, i)));
		rc = cli_json_out(json_pack("{s:o, s:o}", "jobs", jobs, "errors", errs));
	} else {
		struct cli_table *t = cli_table_new(7);
		const char *head[] = {"JOB", "KIND", "SCHEDULE", "ZONE", "NEXT RUN", "LAST RUN",
				      "DONE/FAILED/SKIPPED/MISSED"};
		cli_table_add(t, head);
		for (size_t i = 0; i < n; i++) {
			const struct sched_job_info *j = &v[i];
			char last[256], counts[64], kind[32];
			if (j->last.id == 0)
				snprintf(last, sizeof(last), "-");
			else
				snprintf(last, sizeof(last), "%s %s %s", j->last.due_at, j->last.status,
					 j->last.reason ? j->last.reason
					 : j->last.result ? j->last.result : "");
			snprintf(counts, sizeof(counts), "%lld/%lld/%lld/%lld", (long long)j->counts[2],
				 (long long)j->counts[3], (long long)j->counts[4],
				 (long long)j->counts[5]);
			snprintf(kind, sizeof(kind), "%s%s", j->kind, j->enabled ? "" : " (disabled)");
			const char *row[] = {j->name, kind, j->schedule, j->timezone,
					     j->next_run ? j->next_run
					     : j->on_work ? "when work appears"
							  : "-",
					     last, counts};
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
		cli_table_delete(t);
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < v[i].nmissed; k++) {
				const struct sched_occ_info *m = &v[i].missed[k];
				/* A backlog's summary row stands for many instants (sched/occur.h). */
				if (m->covers > 1)
					printf("%s: %s %d runs due up to %s: %s\n", v[i].name, m->status,
					       m->covers, m->due_at, m->reason ? m->reason : "");
				else
					printf("%s: %s run due %s: %s\n", v[i].name, m->status, m->due_at,
					       m->reason ? m->reason : "");
			}
	}
	int errors = w.script_errors;
	sched_list_free(v, n);
	jws_close(&w);
	return rc != CLI_OK ? rc : errors ? CLI_FAIL : CLI_OK;
}

static int
jobs_run(struct cli *c, int argc, char **argv)
{
	struct jopts o;
	int rc = jobs_opts("jobs run", argc, argv, &o, 1, 0);
	if (rc != CLI_OK)
		return rc;
	struct jws w;
	if (jws_open(c, &w) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	int64_t id;
	struct sched_occ_info *h = NULL;
	size_t n = 0;
	if (sched_run_job(w.s, o.name, sched_now(w.s), &id, &d) != 0 ||
	    sched_history(w.s, o.name, 50, &h, &n, &d) != 0) {
		jws_close(&w);
		return cli_diag(&d);
	}
	const struct sched_occ_info *r = NULL;
	for (size_t i = 0; i < n; i++)
		if (h[i].id == id)
			r = &h[i];
	if (r == NULL) {
		sched_occ_free(h, n);
		jws_close(&w);
		return cli_error("job %s: its run #%lld was not found afterwards", o.name, (long long)id);
	}
	int ok = strcmp(r->status, "done") == 0;
	if (o.json) {
		json_t *v = sched_occ_json(r);
		json_object_set_new(v, "job", json_string(o.name));
		rc = cli_json_out(v);
	} else if (ok) {
		printf("job %s: done (due %s) %s\n", o.name, r->due_at, r->result ? r->result : "{}");
	} else {
		fprintf(stderr, "tandem: job %s: %s: %s\n", o.name, r->status,
			r->reason ? r->reason : "");
	}
	sched_occ_free(h, n);
	jws_close(&w);
	return rc != CLI_OK ? rc : ok ? CLI_OK : CLI_FAIL;
}

static int
jobs_history(struct cli *c, int argc, char **argv)
{
	struct jopts o;
	int rc = jobs_opts("jobs history", argc, argv, &o, 1, 1);
	if (rc != CLI_OK)
		return rc;
	struct jws w;
	if (jws_open(c, &w) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	struct sched_occ_info *h;
	size_t n;
	if (sched_history(w.s, o.name, (size_t)o.limit, &h, &n, &d) != 0) {
		jws_close(&w);
		return cli_diag(&d);
	}
	if (o.json) {
		json_t *v = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(v, sched_occ_json(&h[i]));
		rc = cli_json_out(json_pack("{s:s, s:o}", "job", o.name, "runs", v));
	} else {
		struct cli_table *t = cli_table_new(6);
		const char *head[] = {"DUE", "RUN AT", "STATUS", "FINISHED", "COVERS", "RESULT / REASON"};
		cli_table_add(t, head);
		for (size_t i = 0; i < n; i++) {
			char covers[16];
			snprintf(covers, sizeof(covers), "%d", h[i].covers);
			const char *row[] = {h[i].due_at, h[i].run_at, h[i].status,
					     h[i].finished_at ? h[i].finished_at : "-", covers,
					     h[i].reason ? h[i].reason : h[i].result ? h[i].result : ""};
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
		cli_table_delete(t);
	}
	sched_occ_free(h, n);
	jws_close(&w);
	return rc;
}

static const struct {
	const char *name;
	cli_cmd_fn fn;
} subs[] = {
    {"list", jobs_list},
    {"run", jobs_run},
    {"history", jobs_history},
};

int
cmd_jobs(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		jobs_usage(stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || cli_wants_help(argc, argv)) {
		jobs_usage(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].fn(c, argc - 1, argv + 1);
	return cli_usage("jobs", "unknown subcommand '%s'", sub);
}
