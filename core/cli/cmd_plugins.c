/*
 * cli/cmd_plugins: `tandem plugins list [--json] [--kind K]` and
 * `tandem plugins check [--json] FILE` and `tandem plugins new KIND NAME` (cli/plugin_new). The listing shows every plugin the
 * registry finds (workspace first, then built-ins); check loads one file,
 * validates its declaration (a job script also as the service admits it:
 * sched_job_script_check) and runs each hook once on synthetic data, each
 * result judged by its kind's check_result, the function real runs use.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/plugin_new.h"
#include "program/feat.h"
#include "lua/check.h"
#include "lua/registry.h"
#include "program/policy.h"
#include "report/query.h"
#include "sched/builtin.h"
#include "sched/job.h"

/*
 * The plugin host of a `tandem plugins` command: the built-in kinds plus the
 * policy engine's, so policies are validated as `match run` validates them,
 * and checked with the real built-in feature names.
 */
struct plugins_ctx {
	struct plugin_host *host;
	const char *features[FEAT_COUNT + 1];
};

static int
plugins_setup(struct plugins_ctx *x)
{
	struct diag d;
	diag_clear(&d);
	if ((x->host = plugin_host_new(&d)) == NULL || policy_register(x->host, &d) != 0) {
		plugin_host_delete(x->host);
		return cli_diag(&d);
	}
	for (int i = 0; i < FEAT_COUNT; i++)
		x->features[i] = feat_name(i);
	x->features[FEAT_COUNT] = NULL;
	return 0;
}

static void
plugins_help(FILE *out)
{
	fprintf(out, "usage: tandem plugins list [--json] [--kind KIND]\n"
		     "       tandem plugins check [--json] FILE\n"
		     "       tandem plugins new KIND NAME [--force]\n\n"
		     "Plugins are Lua files that declare a policy, cadence, reward, report, job or notifier.\n"
		     "They are found in the workspace (policies/, plugins/<kind>s/, scripts/), then\n"
		     "among the built-ins.\n\n"
		     "Subcommands:\n"
		     "  list    every plugin found: name, kind, version, api, source, path, load error\n"
		     "  check   load FILE, validate its declaration, run each hook once on synthetic\n"
		     "          data, print what each returned and how long it took\n"
		     "  new     write a documented plugin of KIND named NAME into the workspace\n"
		     "          folder of its kind (policies/, plugins/<kind>s/, scripts/)\n\n"
		     "Options:\n"
		     "  --kind KIND   list only plugins of KIND (policy, cadence, reward, report, job,\n"
		     "                notifier)\n"
		     "  --json        print JSON instead of a table\n"
		     "  -h, --help    print this help\n");
}

static void
list_help(FILE *out)
{
	fprintf(out, "usage: tandem plugins list [--json] [--kind KIND]\n\n"
		     "Lists every plugin found in the workspace and the built-ins, in search order.\n"
		     "A plugin that fails to load is listed with its error (the command still\n"
		     "succeeds). A built-in shadowed by a workspace plugin of the same name is marked.\n\n"
		     "  --kind KIND   policy, cadence, reward, report, job or notifier\n"
		     "  --json        print a JSON array of objects\n");
}

static void
check_help(FILE *out)
{
	fprintf(out, "usage: tandem plugins check [--json] FILE\n\n"
		     "Loads FILE in the sandbox, validates its declaration, and runs each hook once\n"
		     "on synthetic data under the plugin's budgets (in a worker process). Prints what\n"
		     "each hook returned and how long it took. Exit 0 if everything passed, 1 with\n"
		     "the error otherwise.\n\n"
		     "  --json        print a JSON object\n");
}

static int
parse_opts(const char *cmd, int argc, char **argv, int *json, const char **kind)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"kind", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			*json = 1;
		else if (c == 'k' && kind != NULL)
			*kind = optarg;
		else
			return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
	}
	return 0;
}

static json_t *
entry_json(const struct plugin_entry *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "kind", json_string(plugin_kind_name(e->kind)));
	json_object_set_new(o, "version", e->version ? json_string(e->version) : json_null());
	json_object_set_new(o, "api", e->loaded ? json_integer(e->api) : json_null());
	json_object_set_new(o, "source", json_string(plugin_source_name(e->source)));
	json_object_set_new(o, "path", json_string(e->path));
	json_object_set_new(o, "description",
			    e->description ? json_string(e->description) : json_null());
	json_object_set_new(o, "shadowed", json_boolean(e->shadowed));
	json_object_set_new(o, "error", e->error ? json_string(e->error) : json_null());
	return o;
}

static int
plugins_list(struct cli *c, struct plugins_ctx *x, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		list_help(stdout);
		return CLI_OK;
	}
	int json = 0;
	const char *kind_name = NULL;
	if (parse_opts("plugins list", argc, argv, &json, &kind_name))
		return CLI_USAGE;
	if (optind < argc)
		return cli_usage("plugins list", "unexpected argument '%s'", argv[optind]);
	int kind = -1;
	if (kind_name != NULL) {
		enum plugin_kind k;
		if (plugin_kind_parse(kind_name, &k) != 0)
			return cli_usage("plugins list",
					 "unknown kind '%s' (policy, cadence, reward, report, job, notifier)",
					 kind_name);
		kind = (int)k;
	}
	struct plugin_list l;
	struct diag d;
	diag_clear(&d);
	if (plugin_discover(x->host, c->dir, kind, NULL, &l, &d) != 0)
		return cli_diag(&d);
	if (json) {
		json_t *a = json_array();
		for (int i = 0; i < l.n; i++)
			json_array_append_new(a, entry_json(&l.v[i]));
		plugin_list_fini(&l);
		return cli_json_out(a);
	}
	struct cli_table *t = cli_table_new(7);
	const char *head[] = {"NAME", "KIND", "VERSION", "API", "SOURCE", "PATH", "STATUS"};
	cli_table_add(t, head);
	for (int i = 0; i < l.n; i++) {
		const struct plugin_entry *e = &l.v[i];
		char api[16];
		snprintf(api, sizeof(api), "%d", e->api);
		const char *row[] = {e->name, plugin_kind_name(e->kind), e->version ? e->version : "-",
				     e->loaded ? api : "-", plugin_source_name(e->source), e->path,
				     e->error ? e->error : e->shadowed ? "shadowed" : "ok"};
		cli_table_add(t, row);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	plugin_list_fini(&l);
	return CLI_OK;
}

/*
 * A hook's returned value for --json: a number stays a number (the check renders
 * values as Lua-like text, where a string is quoted, so bare numeric text is a
 * number); anything else is the text.
 */
static json_t *
value_json(const char *text)
{
	if (text == NULL)
		return json_null();
	char *end;
	errno = 0;
	long long i = strtoll(text, &end, 10);
	if (text[0] != '\0' && *end == '\0' && errno == 0 && !isspace((unsigned char)text[0]))
		return json_integer(i);
	double v = strtod(text, &end);
	if (text[0] != '\0' && *end == '\0' && isfinite(v) && !isspace((unsigned char)text[0]))
		return json_real(v);
	return json_string(text);
}

static json_t *
report_json(const struct plugin *p, const struct plugin_check_report *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "path", json_string(plugin_path(p)));
	json_object_set_new(o, "kind", json_string(plugin_kind_name(plugin_kind(p))));
	json_object_set_new(o, "name", json_string(plugin_name(p)));
	json_object_set_new(o, "version", json_string(plugin_version(p)));
	json_object_set_new(o, "api", json_integer(plugin_api(p)));
	json_object_set_new(o, "ok", json_boolean(r->failed == 0));
	json_t *hooks = json_array();
	for (int i = 0; i < r->n; i++) {
		const struct plugin_check_hook *h = &r->hooks[i];
		json_t *ho = json_object();
		json_object_set_new(ho, "hook", json_string(h->hook));
		json_object_set_new(ho, "ok", json_boolean(h->ok));
		json_object_set_new(ho, "ms", json_real(h->ms));
		json_object_set_new(ho, "value", h->ok ? value_json(h->value) : json_null());
		json_object_set_new(ho, "error", h->ok ? json_null() : json_string(h->error));
		json_array_append_new(hooks, ho);
	}
	json_object_set_new(o, "hooks", hooks);
	return o;
}

/*
 * The queries a report's hooks made in the check, prepared against an empty database of
 * the schema as the report's q would prepare them: a hook whose query would fail (a
 * misspelled table or column, a write, a wrong number of values) fails the check with
 * FILE:LINE. 0, or -1 when the schema cannot be made.
 */
static int
check_queries(struct plugin *p, struct plugin_check_report *r, struct diag *d)
{
	struct query *q = NULL;
	for (int i = 0; i < r->n; i++) {
		struct plugin_check_hook *h = &r->hooks[i];
		for (int j = 0; h->ok && j < h->nqueries; j++) {
			const struct plugin_check_query *e = &h->queries[j];
			if (q == NULL && (q = query_open_schema(d)) == NULL)
				return diag_prefix(d, "checking the report's queries");
			struct diag qd;
			diag_clear(&qd);
			if (query_check(q, e->all, e->sql, e->nargs, &qd) == 0)
				continue;
			h->ok = 0;
			r->failed++;
			if (e->line > 0)
				snprintf(h->error, sizeof(h->error), "%s:%d: %.600s (in hook %s)",
					 plugin_path(p), e->line, qd.msg, h->hook);
			else
				snprintf(h->error, sizeof(h->error), "%s: %.600s (in hook %s)",
					 plugin_path(p), qd.msg, h->hook);
		}
	}
	query_close(q);
	return 0;
}

static int
plugins_check(struct cli *c, struct plugins_ctx *x, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		check_help(stdout);
		return CLI_OK;
	}
	int json = 0;
	if (parse_opts("plugins check", argc, argv, &json, NULL))
		return CLI_USAGE;
	/* Options may come before or after FILE (getopt permutes), as in the other commands. */
	if (optind >= argc)
		return cli_usage("plugins check", "missing FILE");
	if (optind < argc - 1)
		return cli_usage("plugins check", "unexpected argument '%s' (one FILE at a time)",
				 argv[optind + 1]);
	const char *file = argv[optind];
	struct diag d;
	diag_clear(&d);
	struct plugin *p = plugin_load(x->host, file, NULL, &d);
	/* A job script is held to what the service's loading holds it to (sched/job). */
	size_t nbuiltin;
	const struct sched_job_ops *builtin = sched_builtin_jobs(&nbuiltin);
	struct jobdecl decl;
	if (p != NULL && plugin_kind(p) == PLUGIN_JOB &&
	    sched_job_script_check(builtin, nbuiltin, p, &decl, &d) != 0) {
		plugin_delete(p);
		p = NULL;
	}
	if (p == NULL) {
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "path", json_string(file));
			json_object_set_new(o, "ok", json_false());
			json_object_set_new(o, "error", json_string(d.msg));
			cli_json_out(o);
		}
		return cli_diag(&d);
	}
	struct plugin_check_report r;
	if (plugin_check_run(p, x->features, &r, &d) != 0) {
		plugin_delete(p);
		return cli_diag(&d);
	}
	if (check_queries(p, &r, &d) != 0) {
		plugin_check_fini(&r);
		plugin_delete(p);
		return cli_diag(&d);
	}
	int rc = r.failed ? CLI_FAIL : CLI_OK;
	if (json) {
		if (cli_json_out(report_json(p, &r)) != CLI_OK)
			rc = CLI_FAIL;
	} else {
		printf("%s: %s '%s' %s (api %d)\n", plugin_path(p), plugin_kind_name(plugin_kind(p)),
		       plugin_name(p), plugin_version(p), plugin_api(p));
		if (r.n == 0) /* a rule-only cadence: nothing to call, an empty table says less */
			printf("no hooks to call: the declaration is valid\n");
		struct cli_table *t = r.n > 0 ? cli_table_new(4) : NULL;
		const char *head[] = {"HOOK", "STATUS", "TIME", "RETURNED"};
		cli_table_add(t, head);
		for (int i = 0; i < r.n; i++) {
			char ms[32];
			snprintf(ms, sizeof(ms), "%.2f ms", r.hooks[i].ms);
			const char *row[] = {r.hooks[i].hook, r.hooks[i].ok ? "ok" : "FAILED", ms,
					     r.hooks[i].ok ? r.hooks[i].value : "-"};
			cli_table_add(t, row);
		}
		if (t != NULL)
			cli_table_print(t, stdout);
		cli_table_delete(t);
	}
	fflush(stdout);
	for (int i = 0; i < r.n; i++)
		if (!r.hooks[i].ok)
			cli_error("%s", r.hooks[i].error);
	plugin_check_fini(&r);
	plugin_delete(p);
	return rc;
}

int
cmd_plugins(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		plugins_help(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		plugins_help(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "new") == 0)
		return plugins_new(c, argc - 1, argv + 1);
	int list = strcmp(argv[1], "list") == 0, check = strcmp(argv[1], "check") == 0;
	if (!list && !check)
		return cli_usage("plugins", "unknown subcommand '%s' (list, check, new)", argv[1]);
	struct plugins_ctx x;
	int rc = plugins_setup(&x);
	if (rc != 0)
		return rc;
	rc = list ? plugins_list(c, &x, argc - 1, argv + 1) : plugins_check(c, &x, argc - 1, argv + 1);
	plugin_host_delete(x.host);
	return rc;
}
