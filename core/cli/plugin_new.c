/*
 * cli/plugin_new: `tandem plugins new KIND NAME [--force]`. Writes a documented
 * starting point for a plugin of KIND (policy, cadence, reward, report, job, notifier)
 * into the workspace folder of that kind (plugin_kind_dir: policies/,
 * plugins/cadences/, ..., scripts/) as NAME.lua. Each template explains every
 * field and hook it uses (after docs/plugin-api.md) and passes `tandem plugins
 * check` as written, so a user starts from something that runs. An existing
 * file is never overwritten unless --force is given. Called by cmd_plugins.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/plugin_new.h"
#include "lua/plugin.h"

/* The common head of every template: the fields every declaration has. "@NAME@" is replaced. */
static const char common_fields[] =
	"  -- The plugin's identity: 1 to 64 characters of a-z, 0-9, '_' or '-'. tandem.lua and\n"
	"  -- the command line refer to the plugin by this name, not by its file name.\n"
	"  name = \"@NAME@\",\n"
	"  -- \"MAJOR.MINOR.PATCH\" (optionally \"-pre\" or \"+build\"); shown by `tandem plugins list`.\n"
	"  version = \"0.1.0\",\n"
	"  -- The plugin API version this file targets (this tandem supports 1).\n"
	"  api = 1,\n"
	"  -- Optional: one line shown by `tandem plugins list --json`.\n"
	"  description = \"@KIND@ @NAME@: describe what it does\",\n"
	"  -- Optional budgets per hook call (the defaults are 1e8 instructions, 256 MiB,\n"
	"  -- 1000 ms per call and 10 s per batch); commands may lower them.\n"
	"  limits = { deadline_ms = 1000 },\n";

static const char policy_body[] =
	"-- @NAME@: a matching policy. It decides who may be paired and how well; the\n"
	"-- C core computes the built-in features, prunes, scores and solves.\n"
	"-- Use it in tandem.lua with `policy = \"@NAME@\"` or try it with\n"
	"--   tandem match run --program P --policy @NAME@\n"
	"-- See docs/plugin-api.md, \"Matching policies\", for every constraint and feature.\n"
	"return tandem.policy{\n"
	"@COMMON@"
	"  -- \"optimal\" (default): the maximum number of pairs with the best total score;\n"
	"  -- \"stable\": no mentor and mentee would both rather be together.\n"
	"  method = \"optimal\",\n"
	"  -- Pairs where one of these constraints holds are never proposed. Constraints:\n"
	"  -- reporting_chain, same_department, same_team, same_location, previously_paired.\n"
	"  forbid = { \"reporting_chain\", \"previously_paired\" },\n"
	"  -- constraint = true keeps only pairs where it holds; feature = {min =, max =}\n"
	"  -- bounds the feature's raw value (a pair whose value is unknown fails).\n"
	"  require = { topic_fit = { min = 0.01 } },\n"
	"  -- The built-in score: the weighted sum of the normalized features (topic_fit,\n"
	"  -- level_gap, tz_distance, ...; a negative weight penalizes).\n"
	"  weights = { topic_fit = 5, level_gap = 1 },\n"
	"  -- Optional: added to the built-in score for each allowed pair. mentor and\n"
	"  -- mentee are person tables (id, name, department, level, topics_offered, ...),\n"
	"  -- f the pair's features. Must return a finite number.\n"
	"  score = function(mentor, mentee, f)\n"
	"    return 0.5 * f.topic_fit\n"
	"  end,\n"
	"  -- Optional: how many mentees this mentor takes (an integer 0..1000000);\n"
	"  -- the default is the enrollment's capacity.\n"
	"  capacity = function(mentor)\n"
	"    return mentor.capacity\n"
	"  end,\n"
	"}\n";

static const char cadence_body[] =
	"-- @NAME@: a session cadence. For each active pair it says when the pair meets;\n"
	"-- the planner (`tandem sessions plan`, and `tandem serve` every hour) inserts the\n"
	"-- sessions, clipped to the planning window, never in the past, and never twice.\n"
	"-- Use it in tandem.lua with `cadence = \"@NAME@\"`. See docs/plugin-api.md, \"Cadences\".\n"
	"return tandem.cadence{\n"
	"@COMMON@"
	"  -- Optional: whose zone wall times are in: \"pair\" (the pair's agreed zone, by\n"
	"  -- default the mentee's), \"mentee\" or \"mentor\".\n"
	"  zone = \"pair\",\n"
	"  -- Optional: minutes per session (default: the program's minutes_per_session).\n"
	"  duration_min = 45,\n"
	"  -- A cadence has a recurrence rule, a plan function, or both. With only\n"
	"  --   rule = \"FREQ=WEEKLY;INTERVAL=2\",\n"
	"  -- the planner expands the rule from the pair's activation; a weekday or hour the\n"
	"  -- rule leaves open is taken from the pair's first shared availability slot.\n"
	"  -- plan(pair, history, ctx) returns a list of sessions { start =, duration =,\n"
	"  -- topic = } and rule segments { rule =, from =, until = }; times are epoch\n"
	"  -- seconds or \"YYYY-MM-DDTHH:MM\" in the pair's zone. pair = the match with zone,\n"
	"  -- topics, activated (epoch seconds), ...; history = the pair's sessions so far\n"
	"  -- ({start, status, ...}); ctx = {now, horizon, program = {...}}. Plan from the\n"
	"  -- pair's activation, not from ctx.now, so that planning again gives the same times.\n"
	"  plan = function(pair, history, ctx)\n"
	"    local start = pair.activated or ctx.now\n"
	"    -- A first meeting two days after activation at 10:00 in the pair's zone, then\n"
	"    -- every two weeks from the week after, at a shared slot.\n"
	"    local first = tandem.time.add(start, 2, \"days\", pair.zone)\n"
	"    local day = tandem.time.format(first, pair.zone):sub(1, 10)\n"
	"    return {\n"
	"      { start = day .. \"T10:00\", topic = \"getting to know each other\" },\n"
	"      { rule = \"FREQ=WEEKLY;INTERVAL=2\", from = tandem.time.add(start, 1, \"weeks\", pair.zone) },\n"
	"    }\n"
	"  end,\n"
	"}\n";

static const char reward_body[] =
	"-- @NAME@: a reward rule. For each event of the kinds it listens to, it grants points\n"
	"-- and badges (docs/plugin-api.md \"Reward rules\").\n"
	"return tandem.reward{\n"
	"@COMMON@"
	"  -- Required: one handler per event kind, handler(ev, ctx) returns a list of grants\n"
	"  -- { person_id =, points =, badge =, reason =, key = } (badge and key optional) or\n"
	"  -- revocations { revoke = AWARD_KEY, reason = }. ev = {id, kind, at, actor,\n"
	"  -- subject_id, program, program_id, payload, match = {id, mentor_id, mentee_id,\n"
	"  -- status, sessions, ratings}}; ctx = {now, now_iso, timezone, rule, program}.\n"
	"  on = {\n"
	"    [\"session.held\"] = function(ev, ctx)\n"
	"      return {\n"
	"        { person_id = ev.match.mentor_id, points = 10, reason = \"session held\" },\n"
	"        { person_id = ev.match.mentee_id, points = 10, reason = \"session held\" },\n"
	"      }\n"
	"    end,\n"
	"  },\n"
	"}\n";

static const char report_body[] =
	"-- @NAME@: a report: a document of sections with text, tables and charts,\n"
	"-- rendered by `tandem report --plugin @NAME@` as HTML, Markdown, CSV or JSON.\n"
	"return tandem.report{\n"
	"@COMMON@"
	"  -- Optional: the report's title (the document's own title is what is shown).\n"
	"  title = \"@NAME@\",\n"
	"  -- Optional: publish = \"monthly\" has the service publish it on the 1st of each\n"
	"  -- month for the month just ended, into reports/YYYY-MM/ (docs/service.md).\n"
	"  -- publish = \"monthly\",\n"
	"  -- Required: build(metrics, q, ctx) returns the document. metrics: the program's\n"
	"  -- metrics (docs/metrics.md), health under metrics.health; q.rows(sql, ...) and\n"
	"  -- q.one(sql, ...): read-only SQL with ? parameters; ctx = {now, now_iso, timezone,\n"
	"  -- program = {name, title, starts_on, ends_on}, and period = {month, from, to} when\n"
	"  -- the service publishes it} (docs/plugin-api.md, Report documents).\n"
	"  build = function(metrics, q, ctx)\n"
	"    local f = metrics.funnel\n"
	"    local row = q.one(\"SELECT count(*) AS n FROM people\")\n"
	"    return {\n"
	"      title = \"@NAME@: \" .. ctx.program.name,\n"
	"      sections = {\n"
	"        { heading = \"Participation\",\n"
	"          text = (row and row.n or 0) .. \" people in the workspace.\",\n"
	"          chart = { type = \"funnel\", title = \"Participation funnel\",\n"
	"                    labels = { \"enrolled\", \"matched\", \"first session\", \"active\", \"completed\" },\n"
	"                    series = { { name = \"people\", values = { f.enrolled, f.matched,\n"
	"                                 f.first_session, f.active, f.completed } } } } },\n"
	"      },\n"
	"    }\n"
	"  end,\n"
	"}\n";

static const char job_body[] =
	"-- @NAME@: an automation job, run on a schedule by `tandem serve`.\n"
	"return tandem.job{\n"
	"@COMMON@"
	"  -- Required: when the job runs: a recurrence rule like\n"
	"  -- \"FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0\", or \"every 7d\".\n"
	"  schedule = \"every 7d\",\n"
	"  -- Optional: timezone, misfire (\"once\"|\"all\"|\"skip\"), grace (\"1h\"), overlap,\n"
	"  -- jitter, max_lateness, needs = {\"sessions\", \"matches\"} (docs/plugin-api.md, Jobs).\n"
	"  -- Required: run(ctx) returns nil or a list of actions ({event =}, {message =},\n"
	"  -- {cancel_session =}, {end_match =}) that the core checks and applies.\n"
	"  -- ctx = {job, now, due, covers, timezone, programs = {...}, sessions, matches}.\n"
	"  run = function(ctx)\n"
	"    tandem.log(\"info\", \"@NAME@ at \" .. ctx.now .. \" for \" .. #ctx.programs .. \" programs\")\n"
	"    return { {event = {kind = \"custom.note\", payload = {job = ctx.job, programs = #ctx.programs}}} }\n"
	"  end,\n"
	"}\n";

static const char notifier_body[] =
	"-- @NAME@: a notifier. It writes the text of the messages sent on channel \"@NAME@\"\n"
	"-- (workspace{ notify = \"@NAME@\" } in tandem.lua); tandem delivers them.\n"
	"return tandem.notifier{\n"
	"@COMMON@"
	"  -- Optional: how tandem delivers the text: \"eml\" (a .eml file, default) or \"jsonl\".\n"
	"  format = \"eml\",\n"
	"  -- Required: render(msg, ctx) returns { subject =, body = }. msg = {key, kind,\n"
	"  -- subject, body, recipient = {name, timezone}, session = {...} or nil};\n"
	"  -- ctx = {now, now_iso, timezone}.\n"
	"  render = function(msg, ctx)\n"
	"    return { subject = msg.subject, body = \"Hello \" .. msg.recipient.name .. \",\\n\\n\" .. msg.body }\n"
	"  end,\n"
	"}\n";

static const char *const bodies[PLUGIN_KIND_COUNT] = {
	[PLUGIN_POLICY] = policy_body, [PLUGIN_CADENCE] = cadence_body,
	[PLUGIN_REWARD] = reward_body, [PLUGIN_REPORT] = report_body,
	[PLUGIN_JOB] = job_body, [PLUGIN_NOTIFIER] = notifier_body,
};

/* Writes `text` to f, expanding @NAME@, @KIND@ and @COMMON@. */
static void
put_expanded(FILE *f, const char *text, const char *name, const char *kind)
{
	for (const char *p = text; *p != '\0';) {
		if (strncmp(p, "@NAME@", 6) == 0) {
			fputs(name, f);
			p += 6;
		} else if (strncmp(p, "@KIND@", 6) == 0) {
			fputs(kind, f);
			p += 6;
		} else if (strncmp(p, "@COMMON@", 8) == 0) {
			put_expanded(f, common_fields, name, kind);
			p += 8;
		} else {
			fputc(*p++, f);
		}
	}
}

void
plugins_new_help(FILE *out)
{
	fprintf(out, "usage: tandem plugins new KIND NAME [--force]\n\n"
		     "Writes a documented plugin of KIND named NAME into the workspace folder of\n"
		     "its kind, as NAME.lua: policy -> policies/, cadence -> plugins/cadences/,\n"
		     "reward -> plugins/rewards/, report -> plugins/reports/, job -> scripts/,\n"
		     "notifier -> plugins/notifiers/.\n"
		     "Comments explain each field and hook; the file passes `tandem plugins check`\n"
		     "as written. Prints the path written. An existing file is not overwritten.\n\n"
		     "  KIND          policy, cadence, reward, report, job or notifier\n"
		     "  NAME          1 to 64 characters of a-z, 0-9, '_' or '-'\n"
		     "  --force       overwrite an existing file\n");
}

/* mkdir -p of a relative folder below the workspace (at most two levels here). */
static int
make_dirs(struct cli *c, const char *rel)
{
	char part[256], path[4096];
	for (const char *p = rel;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - rel);
			if (n >= sizeof(part))
				return -1;
			memcpy(part, rel, n);
			part[n] = '\0';
			cli_ws_path(c, part, path, sizeof(path));
			if (mkdir(path, 0777) != 0 && errno != EEXIST)
				return cli_error("cannot create %s: %s", path, strerror(errno));
			if (*p == '\0')
				return 0;
		}
	}
}

int
plugins_new(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		plugins_new_help(stdout);
		return CLI_OK;
	}
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	optind = 0;
	opterr = 0;
	int force = 0, o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'f')
			force = 1;
		else
			return cli_usage("plugins new", "unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 2)
		return cli_usage("plugins new", "expected KIND and NAME");
	const char *kind_name = argv[optind], *name = argv[optind + 1];
	enum plugin_kind kind;
	if (plugin_kind_parse(kind_name, &kind) != 0)
		return cli_usage("plugins new",
				 "unknown kind '%s' (policy, cadence, reward, report, job, notifier)", kind_name);
	if (!plugin_name_valid(name))
		return cli_usage("plugins new",
				 "invalid name '%s' (1 to 64 characters of a-z, 0-9, '_' or '-')",
				 name);
	char rel[512], path[4096];
	snprintf(rel, sizeof(rel), "%s/%s.lua", plugin_kind_dir(kind), name);
	cli_ws_path(c, rel, path, sizeof(path));
	struct stat sb;
	if (!force && stat(path, &sb) == 0)
		return cli_error("%s already exists (use --force to overwrite it)", path);
	if (make_dirs(c, plugin_kind_dir(kind)) != 0)
		return CLI_FAIL;
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return cli_error("cannot write %s: %s", path, strerror(errno));
	put_expanded(f, bodies[kind], name, kind_name);
	if (ferror(f) | (fclose(f) != 0))
		return cli_error("cannot write %s", path);
	printf("%s\n", path);
	return CLI_OK;
}
