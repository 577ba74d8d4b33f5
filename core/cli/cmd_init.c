/*
 * cli/cmd_init: `tandem init [DIR]` creates a workspace; `tandem programs
 * list|show` prints what the workspace config (tandem.lua) declares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "lua/plugin.h"
#include "lua/registry.h"
#include "program/config.h"
#include "program/policy.h"
#include "report/health.h"
#include "sched/notify.h"
#include "store/store.h"

static const char *const ws_dirs[] = {
	"policies", "plugins", "plugins/cadences", "plugins/rewards", "plugins/reports",
	"plugins/notifiers", "scripts", NULL};

static void
init_usage(FILE *out)
{
	fprintf(out, "usage: tandem init [DIR]\n\n"
		     "Creates a tandem workspace in DIR (default: the -C folder, else the current one):\n"
		     "  tandem.lua   the workspace config, a commented example declaring one program\n"
		     "               (kept if it already exists)\n"
		     "  policies/    the client's matching policies (Lua)\n"
		     "  plugins/     cadences/, rewards/, reports/, notifiers/ plugins (Lua)\n"
		     "  scripts/     automation jobs for 'tandem serve' (Lua)\n"
		     "  tandem.db    the database (SQLite)\n"
		     "Refuses a folder that already has a tandem.db.\n");
}

static int
make_dir(const char *path)
{
	if (mkdir(path, 0777) == 0 || errno == EEXIST) {
		struct stat sb;
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			return 0;
		return cli_error("%s exists and is not a folder", path);
	}
	return cli_error("cannot create folder %s: %s", path, strerror(errno));
}

static int
write_template(const char *path)
{
	if (access(path, F_OK) == 0)
		return 0; /* keep the client's config */
	FILE *f = fopen(path, "wx");
	if (f == NULL)
		return cli_error("cannot create %s: %s", path, strerror(errno));
	size_t len = strlen(config_template);
	int bad = fwrite(config_template, 1, len, f) != len;
	bad |= fclose(f) != 0;
	if (bad)
		return cli_error("cannot write %s: %s", path, strerror(errno));
	return 0;
}

int
cmd_init(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		init_usage(stdout);
		return CLI_OK;
	}
	if (argc > 2)
		return cli_usage("init", "expects at most one folder, got %d arguments", argc - 1);
	if (argc == 2 && argv[1][0] == '-')
		return cli_usage("init", "unknown option '%s'", argv[1]);
	if (argc == 2) {
		/* A folder given to init is relative to -C, like every other path. */
		static char dir[4096];
		c->dir = cli_ws_path(c, argv[1], dir, sizeof(dir));
		c->dir_name = c->dir;
	}
	if (make_dir(c->dir) != 0)
		return CLI_FAIL;
	const char *db = cli_db_path(c);
	if (access(db, F_OK) == 0)
		return cli_error("%s is a workspace already (%s exists)", c->dir_name, db);
	char path[4096];
	for (const char *const *d = ws_dirs; *d; d++)
		if (make_dir(cli_ws_path(c, *d, path, sizeof(path))) != 0)
			return CLI_FAIL;
	if (write_template(cli_ws_path(c, "tandem.lua", path, sizeof(path))) != 0)
		return CLI_FAIL;

	struct diag d;
	struct config cfg;
	if (config_load(path, &cfg, &d) != 0)
		return cli_diag(&d);
	struct store *st = store_open(db, STORE_CREATE, &d);
	if (st == NULL) {
		config_fini(&cfg);
		return cli_diag(&d);
	}
	int rc = config_sync_programs(st, &cfg, &d);
	int nprograms = cfg.nprograms;
	config_fini(&cfg);
	store_close(st);
	if (rc != 0)
		return cli_diag(&d);
	printf("created workspace %s: tandem.lua (%d program%s), policies/, plugins/, scripts/, "
	       "tandem.db\n", c->dir_name, nprograms, nprograms == 1 ? "" : "s");
	return CLI_OK;
}

static void
programs_usage(FILE *out)
{
	fprintf(out, "usage: tandem programs list [--json]\n"
		     "       tandem programs show NAME [--json]\n"
		     "       tandem programs check [NAME]\n\n"
		     "Shows the programs declared in the workspace's tandem.lua: name, title, dates,\n"
		     "goals, topics, time commitment, matching policy and session cadence.\n\n"
		     "check reads tandem.lua (every declaration error, file:line) and checks that\n"
		     "each program's (or NAME's) policy and cadence name a plugin that exists in\n"
		     "the workspace or the built-ins, and that notify is eml, jsonl or a notifier\n"
		     "plugin; each one that does not is printed with the line of its field.\n"
		     "Exit 0 when all is well, 1 otherwise. Then it lists the\n"
		     "people enrolled in two programs that overlap in time (by their starts and\n"
		     "ends; a warning, not a failure: don't run programs on the same people at\n"
		     "once).\n");
}

static const char *
dash(const char *s)
{
	return s ? s : "-";
}

static int
load_config(struct cli *c, struct config *cfg)
{
	char path[4096];
	cli_ws_path(c, "tandem.lua", path, sizeof(path));
	if (cli_need_config(c, path) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	if (config_load(path, cfg, &d) != 0)
		return cli_diag(&d);
	return 0;
}

static int
parse_json_flag(const char *cmd, int argc, char **argv, int *json, const char **name)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && json != NULL)
			*json = 1;
		else if (argv[i][0] == '-')
			return cli_usage(cmd, "unknown option '%s'", argv[i]);
		else if (name != NULL && *name == NULL)
			*name = argv[i];
		else
			return cli_usage(cmd, "unexpected argument '%s'", argv[i]);
	}
	return 0;
}

static int
programs_list(struct cli *c, int argc, char **argv)
{
	int json = 0;
	if (parse_json_flag("programs list", argc, argv, &json, NULL) != 0)
		return CLI_USAGE;
	struct config cfg;
	if (load_config(c, &cfg) != 0)
		return CLI_FAIL;
	int rc = CLI_OK;
	if (json) {
		json_t *a = json_array();
		for (int i = 0; i < cfg.nprograms; i++)
			json_array_append_new(a, config_program_value(&cfg.programs[i]));
		rc = cli_json_out(a);
	} else {
		struct cli_table *t = cli_table_new(7);
		const char *head[] = {"NAME", "TITLE", "STARTS", "ENDS", "COMMITMENT", "POLICY", "TOPICS"};
		cli_table_add(t, head);
		for (int i = 0; i < cfg.nprograms; i++) {
			const struct config_program *p = &cfg.programs[i];
			char commit[64] = "-", topics[32];
			if (p->sessions_per_month)
				snprintf(commit, sizeof(commit), "%dx%d min/month",
					 p->sessions_per_month, p->minutes_per_session);
			snprintf(topics, sizeof(topics), "%d", p->ntopics);
			const char *row[] = {p->name, dash(p->title), dash(p->starts), dash(p->ends),
					     commit, dash(p->policy), topics};
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout);
		cli_table_delete(t);
	}
	config_fini(&cfg);
	return rc;
}

static int
programs_show(struct cli *c, int argc, char **argv)
{
	int json = 0;
	const char *name = NULL;
	if (parse_json_flag("programs show", argc, argv, &json, &name) != 0)
		return CLI_USAGE;
	if (name == NULL)
		return cli_usage("programs show", "expects a program name");
	struct config cfg;
	if (load_config(c, &cfg) != 0)
		return CLI_FAIL;
	struct diag d;
	const struct config_program *p = config_find_program(&cfg, name, &d);
	int rc;
	if (p == NULL) {
		rc = cli_diag(&d);
	} else if (json) {
		rc = cli_json_out(config_program_value(p));
	} else {
		printf("name:        %s\ntitle:       %s\ndescription: %s\nstarts:      %s\n"
		       "ends:        %s\npolicy:      %s\ncadence:     %s\n",
		       p->name, dash(p->title), dash(p->description), dash(p->starts),
		       dash(p->ends), dash(p->policy), dash(p->cadence));
		if (p->sessions_per_month)
			printf("commitment:  %d sessions a month, %d minutes each\n",
			       p->sessions_per_month, p->minutes_per_session);
		printf("goals:\n");
		for (int i = 0; i < p->ngoals; i++)
			printf("  - %s\n", p->goals[i]);
		printf("topics:     ");
		for (int i = 0; i < p->ntopics; i++)
			printf(" %s", p->topics[i]);
		printf("\n");
		rc = CLI_OK;
	}
	config_fini(&cfg);
	return rc;
}

static void
report_problem(void *arg, const char *field, const char *msg)
{
	(void)arg;
	(void)field;
	cli_error("%s", msg);
}

/* The people enrolled in two programs that overlap in time (health_overlaps), one line
 * each; nothing when the workspace has no database yet. */
static int
print_overlaps(struct cli *c, const struct config *cfg, const char *program)
{
	if (access(cli_db_path(c), F_OK) != 0)
		return CLI_OK;
	struct store *st;
	if (cli_open_store_readonly(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	json_t *o = NULL;
	int rc = health_overlaps(st, cfg, program, &o, &d) != 0 ? cli_diag(&d) : CLI_OK;
	store_close(st);
	size_t n = json_array_size(o), i, j;
	if (n > 0)
		printf("warning: %zu %s enrolled in programs that overlap in time (don't run "
		       "programs on the same people at once):\n",
		       n, n == 1 ? "person is" : "people are");
	json_t *e, *p;
	json_array_foreach(o, i, e)
	{
		json_t *who = json_object_get(e, "person");
		printf("  %s (%s):", json_string_value(json_object_get(who, "name")),
		       json_string_value(json_object_get(who, "external_id")));
		json_array_foreach(json_object_get(e, "programs"), j, p)
		    printf("%s %s", j ? "," : "", json_string_value(json_object_get(p, "name")));
		printf("\n");
	}
	json_decref(o);
	return rc;
}

/* The line of the first `notify =` in path (the workspace declaration's), or 0. */
static int
notify_line(const char *path)
{
	FILE *f = path != NULL ? fopen(path, "r") : NULL;
	if (f == NULL)
		return 0;
	char line[1024];
	int n = 0, found = 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		n++;
		const char *p = line + strspn(line, " \t{,");
		if (strncmp(p, "notify", 6) == 0 && p[6 + strspn(p + 6, " \t")] == '=')
			found = n;
	}
	fclose(f);
	return found;
}

/* workspace{ notify = NAME }: a built-in channel or a notifier plugin that loads. 1 when
 * it is neither (reported), else 0. */
static int
check_notify(const struct config *cfg, const struct plugin_host *h, const char *ws)
{
	if (cfg->notify == NULL || notify_builtin(cfg->notify))
		return 0;
	char path[4096];
	struct diag d;
	diag_clear(&d);
	if (plugin_resolve(h, ws, PLUGIN_NOTIFIER, cfg->notify, NULL, path, sizeof(path), &d) == 0)
		return 0;
	cli_error("%s:%d: workspace: field 'notify': %s (the built-in channels are \"eml\" and "
		  "\"jsonl\")",
		  cfg->path != NULL ? cfg->path : "tandem.lua", notify_line(cfg->path), d.msg);
	return 1;
}

static int
programs_check(struct cli *c, int argc, char **argv)
{
	const char *name = NULL;
	if (parse_json_flag("programs check", argc, argv, NULL, &name) != 0)
		return CLI_USAGE;
	struct config cfg;
	if (load_config(c, &cfg) != 0)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	const struct config_program *only = NULL;
	if (name != NULL && (only = config_find_program(&cfg, name, &d)) == NULL) {
		config_fini(&cfg);
		return cli_diag(&d);
	}
	struct plugin_host *h = plugin_host_new(&d);
	if (h == NULL || policy_register(h, &d) != 0) {
		plugin_host_delete(h);
		config_fini(&cfg);
		return cli_diag(&d);
	}
	int bad = check_notify(&cfg, h, c->dir), n = 0;
	for (int i = 0; i < cfg.nprograms; i++) {
		if (only != NULL && only != &cfg.programs[i])
			continue;
		n++;
		bad += config_check_plugins(&cfg, &cfg.programs[i], h, c->dir, report_problem, NULL);
	}
	plugin_host_delete(h);
	int rc = bad > 0 ? CLI_FAIL : CLI_OK;
	if (rc == CLI_OK)
		printf("%d program%s checked: policies and cadences found\n", n, n == 1 ? "" : "s");
	if (print_overlaps(c, &cfg, only ? only->name : NULL) != CLI_OK)
		rc = CLI_FAIL;
	config_fini(&cfg);
	return rc;
}

int
cmd_programs(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		programs_usage(stderr);
		return CLI_USAGE;
	}
	if (cli_wants_help(argc, argv)) {
		programs_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "list") == 0)
		return programs_list(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return programs_show(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return programs_check(c, argc - 1, argv + 1);
	return cli_usage("programs", "unknown subcommand '%s' (expected list, show or check)",
			 argv[1]);
}
