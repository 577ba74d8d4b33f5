/*
 * cli/cmd_people: `tandem import people FILE.csv` and `tandem people list|show|export|erase`.
 * Parses options, calls core/people, prints results (tables or JSON) and errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "privacy/erase.h"
#include "program/people.h"
#include "store/store.h"

enum { PEOPLE_ERRORS_SHOWN = 50 };

static void
import_people_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem import people FILE.csv [--dry-run] [--map COLUMN=FIELD ...]\n"
		"                            [--encoding NAME] [--delimiter D]\n\n"
		"Imports people from a CSV file (RFC 4180, UTF-8 or UTF-16, header line first). People are\n"
		"matched by id: existing ones are updated, others added. Nothing is written unless\n"
		"every row is valid; each problem is printed as FILE:LINE:COLUMN: field: message.\n\n"
		"Columns (any order, names case-insensitive):\n"
		"  id            the HR system's id (required, unique)\n"
		"  name          full name (required)\n"
		"  email         e-mail address (required, unique)\n"
		"  timezone      IANA time zone such as Europe/Paris (required)\n"
		"  title, department, team, location   free text\n"
		"  level         1..9\n"
		"  manager       id or e-mail of another person (in the file or already imported)\n"
		"  birth_year    e.g. 1988; generation is derived from it when absent\n"
		"  generation    baby_boomer, gen_x, millennial or gen_z\n"
		"  hire_date     YYYY-MM-DD\n"
		"  status        active (default), leave or terminated\n"
		"  skills, topics_wanted, languages    lists separated by ';'\n"
		"Any other column is kept in the person's attributes (a JSON object).\n"
		"An empty cell means no value (or the default).\n\n"
		"Options:\n"
		"  --dry-run            check the file and say what would change; write nothing\n"
		"  --map COLUMN=FIELD   read header column COLUMN as FIELD (repeatable),\n"
		"                       e.g. --map 'Employee ID=id' --map Mail=email\n"
		CMD_IMPORT_INPUT_HELP
		"  -h, --help           print this help\n");
}

static void
import_progress(void *ud, long done, long total)
{
	cli_progress(ud, "importing people", done, total);
}

int
cmd_import_people(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"map", required_argument, NULL, 'm'},
		{"encoding", required_argument, NULL, 'E'},
		{"delimiter", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	if (cli_wants_help(argc, argv)) {
		import_people_usage(stdout);
		return CLI_OK;
	}
	const char **map = calloc((size_t)argc + 1, sizeof(char *));
	if (map == NULL)
		return cli_error("out of memory");
	struct people_import_opts o = {.map = map, .progress = import_progress, .progress_ud = c};
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'n') {
			o.dry_run = 1;
		} else if (ch == 'E' || ch == 'D') {
			int urc = cmd_import_input_opt("import people", ch == 'E' ? "encoding" : "delimiter",
						       optarg, &o.encoding, &o.delimiter);
			if (urc != CLI_OK) {
				free(map);
				return urc;
			}
		} else if (ch == 'm') {
			if (strchr(optarg, '=') == NULL) {
				free(map);
				return cli_usage("import people", "--map expects COLUMN=FIELD, got '%s'",
						 optarg);
			}
			map[o.nmap++] = optarg;
		} else {
			free(map);
			return cli_usage("import people", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1) {
		free(map);
		return cli_usage("import people", argc - optind == 0 ? "missing FILE.csv"
								     : "expected one FILE.csv");
	}
	const char *file = argv[optind];
	o.actor = cli_actor();
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK) {
		free(map);
		return CLI_FAIL;
	}
	struct people_import_result res;
	struct diag d;
	diag_clear(&d);
	/* Relative paths are relative to the workspace (-C DIR); messages name the file as given. */
	char path[4096];
	FILE *f = fopen(cli_ws_path(c, file, path, sizeof(path)), "rb");
	if (f == NULL) {
		store_close(st);
		free(map);
		return cli_error("cannot open %s: %s", file, strerror(errno));
	}
	int rc = people_import(st, f, file, &o, &res, &d);
	fclose(f);
	store_close(st);
	free(map);
	if (rc != 0) {
		for (int i = 0; i < res.nkept && i < PEOPLE_ERRORS_SHOWN; i++)
			fprintf(stderr, "%s\n", res.errors[i]);
		if (res.nerrors > PEOPLE_ERRORS_SHOWN)
			fprintf(stderr, "... and %ld more\n", res.nerrors - PEOPLE_ERRORS_SHOWN);
		people_import_result_fini(&res);
		return cli_diag(&d);
	}
	char unchanged[64] = "";
	if (res.unchanged > 0)
		snprintf(unchanged, sizeof(unchanged), ", %ld unchanged", res.unchanged);
	if (o.dry_run)
		printf("would import %ld people: %ld new, %ld updated%s (dry run: nothing written)\n",
		       res.total, res.created, res.updated, unchanged);
	else
		printf("imported %ld people (%ld new, %ld updated%s)\n", res.total, res.created,
		       res.updated, unchanged);
	people_import_result_fini(&res);
	return CLI_OK;
}

static void
people_usage(FILE *out)
{
	fprintf(out, "usage: tandem people list [--json]\n"
		     "       tandem people show ID [--json]\n"
		     "       tandem people export ID\n"
		     "       tandem people erase ID --yes\n"
		     "       tandem people erase --finish\n\n"
		     "ID is a person's id (from the HR file) or e-mail address.\n\n"
		     "  list     everyone: id, name, email, level, department, location, timezone\n"
		     "           (--json: every field, lists as arrays)\n"
		     "  show     every field of one person, manager by id and name\n"
		     "  export   JSON of every row about the person in every table (for access\n"
		     "           requests): person, enrollments, matches, vetoes, sessions, feedback,\n"
		     "           rewards, events, outbox\n"
		     "  erase    delete the person and every row about them for good; their reports\n"
		     "           lose their manager, events about them are scrubbed, and a\n"
		     "           'people.erased' event keeps only a random pseudonym. The e-mail is\n"
		     "           gone from tandem.db and tandem.db-wal afterwards. Other people's\n"
		     "           messages that name them are scrubbed ('(erased)'); the copies in\n"
		     "           outbox/ of those and of theirs, and their certificate pages, are\n"
		     "           removed; published reports/ are scrubbed; each file is listed, and\n"
		     "           files tandem did not write that name them are listed as left.\n"
		     "           Their active pairs end and stay, listed by match list and\n"
		     "           sessions list/show with '(erased)' for their side.\n"
		     "           Needs --yes. --finish: only the file work an earlier erasure left\n"
		     "           (after a crash, or files it could not remove).\n");
}

/* Parses "[--json] [ARG]" style options shared by the subcommands. */
struct people_args {
	int json, yes;
	const char *id;
};

static int
people_parse(const char *cmd, int argc, char **argv, int want_id, int allow_json, int allow_yes,
	     struct people_args *a)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"yes", no_argument, NULL, 'y'},
		{NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof(*a));
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch == 'j' && allow_json)
			a->json = 1;
		else if (ch == 'y' && allow_yes)
			a->yes = 1;
		else
			return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
	}
	/* Options may also follow the id ("show E1 --json"): getopt stopped at the first operand. */
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && allow_json)
			a->json = 1;
		else if (strcmp(argv[i], "--yes") == 0 && allow_yes)
			a->yes = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage(cmd, "unknown option '%s'", argv[i]);
		else if (want_id && a->id == NULL)
			a->id = argv[i];
		else
			return cli_usage(cmd, "unexpected argument '%s'", argv[i]);
	}
	if (want_id && a->id == NULL)
		return cli_usage(cmd, "missing ID (a person's id or e-mail)");
	return CLI_OK;
}

static const char *
json_text(json_t *v, char *buf, size_t size)
{
	if (v == NULL || json_is_null(v))
		return "";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_array(v)) {
		size_t o = 0, i;
		json_t *e;
		buf[0] = '\0';
		json_array_foreach(v, i, e)
		{
			if (o < size)
				o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "; " : "",
						      json_is_string(e) ? json_string_value(e) : "?");
		}
		return buf;
	}
	char *dump = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	snprintf(buf, size, "%s", dump ? dump : "");
	free(dump);
	return buf;
}

static int
people_list(struct cli *c, int argc, char **argv)
{
	struct people_args a;
	int rc = people_parse("people list", argc, argv, 0, 1, 0, &a);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	json_t *list = people_list_json(st, &d);
	store_close(st);
	if (list == NULL)
		return cli_diag(&d);
	if (a.json)
		return cli_json_out(list);
	static const char *const cols[] = {"id", "name", "email", "level", "department", "location",
					   "timezone"};
	static const char *const head[] = {"ID", "NAME", "EMAIL", "LEVEL", "DEPARTMENT",
					   "LOCATION", "TIMEZONE"};
	struct cli_table *t = cli_table_new(7);
	cli_table_add(t, head);
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p)
	{
		char bufs[7][64];
		const char *cells[7];
		for (int k = 0; k < 7; k++)
			cells[k] = json_text(json_object_get(p, cols[k]), bufs[k], sizeof(bufs[k]));
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_decref(list);
	return CLI_OK;
}

/* Parses "ID [--json]", opens the workspace and asks get() for the person's JSON (*out). */
static int
people_fetch(struct cli *c, const char *cmd, int argc, char **argv, int allow_json,
	     json_t *(*get)(struct store *, const char *, struct diag *), struct people_args *a,
	     json_t **out)
{
	int rc = people_parse(cmd, argc, argv, 1, allow_json, 0, a);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	*out = get(st, a->id, &d);
	store_close(st);
	return *out == NULL ? cli_diag(&d) : CLI_OK;
}

static int
people_show(struct cli *c, int argc, char **argv)
{
	struct people_args a;
	json_t *p;
	int rc = people_fetch(c, "people show", argc, argv, 1, people_show_json, &a, &p);
	if (rc != CLI_OK)
		return rc;
	if (a.json)
		return cli_json_out(p);
	struct cli_table *t = cli_table_new(2);
	const char *key;
	json_t *v;
	json_object_foreach(p, key, v)
	{
		char buf[1024], label[64];
		const char *text;
		if (strcmp(key, "manager") == 0 && json_is_object(v)) {
			snprintf(buf, sizeof(buf), "%s (%s)",
				 json_string_value(json_object_get(v, "id")),
				 json_text(json_object_get(v, "name"), label, sizeof(label)));
			text = buf;
		} else {
			text = json_text(v, buf, sizeof(buf));
		}
		snprintf(label, sizeof(label), "%s:", key);
		const char *cells[2] = {label, text};
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_decref(p);
	return CLI_OK;
}

static int
people_export(struct cli *c, int argc, char **argv)
{
	struct people_args a;
	json_t *x;
	int rc = people_fetch(c, "people export", argc, argv, 1, people_export_json, &a, &x);
	return rc != CLI_OK ? rc : cli_json_out(x);
}

/* Prints the files an erasure dealt with; the failed ones go to stderr. */
static void
people_erase_files(const struct privacy_erase_result *res)
{
	if (res->removed + res->scrubbed > 0)
		printf("files: %ld removed, %ld scrubbed (the name and e-mail replaced by "
		       "'(erased)')\n", res->removed, res->scrubbed);
	size_t i;
	json_t *e;
	json_array_foreach(res->files, i, e)
	{
		const char *act = json_string_value(json_object_get(e, "action"));
		const char *path = json_string_value(json_object_get(e, "path"));
		if (strcmp(act, "removed") == 0 || strcmp(act, "scrubbed") == 0)
			printf("  %s %s\n", act, path);
	}
	if (res->left > 0) {
		printf("left as they are (not written by tandem), still naming them:\n");
		json_array_foreach(res->files, i, e)
		{
			const char *err = json_string_value(json_object_get(e, "error"));
			if (strcmp(json_string_value(json_object_get(e, "action")), "left") == 0)
				printf("  %s%s%s%s\n", json_string_value(json_object_get(e, "path")),
				       err ? " (" : "", err ? err : "", err ? ")" : "");
		}
		printf("  edit or delete them yourself; an HR export imported again brings the "
		       "person back\n");
	}
	if (res->failed > 0) {
		fprintf(stderr, "tandem: could not remove or rewrite %ld file%s:\n", res->failed,
			res->failed == 1 ? "" : "s");
		json_array_foreach(res->files, i, e)
		{
			if (strcmp(json_string_value(json_object_get(e, "action")), "failed") == 0)
				fprintf(stderr, "  %s: %s\n",
					json_string_value(json_object_get(e, "path")),
					json_string_value(json_object_get(e, "error")));
		}
		fprintf(stderr, "tandem: the erasure's file work stays recorded (with the name and "
				"e-mail) until `tandem people erase --finish` completes it\n");
	}
}

static int
people_erase_cmd(struct cli *c, int argc, char **argv)
{
	/* --finish: only the leftover file work of earlier erasures. */
	int finish = 0;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--finish") == 0) {
			finish = 1;
			memmove(argv + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof(*argv));
			argc--, i--;
		}
	struct people_args a;
	int rc = people_parse("people erase", argc, argv, !finish, 0, 1, &a);
	if (rc != CLI_OK)
		return rc;
	if (finish && a.id != NULL)
		return cli_usage("people erase", "--finish takes no ID");
	if (!finish && !a.yes)
		return cli_usage("people erase", "erasing '%s' cannot be undone; add --yes to confirm",
				 a.id);
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	char ws[4096];
	cli_ws_path(c, ".", ws, sizeof(ws));
	struct diag d;
	diag_clear(&d);
	struct privacy_erase_result res;
	memset(&res, 0, sizeof(res));
	rc = finish ? privacy_erase_finish(st, ws, &res, &d) : privacy_erase(st, ws, a.id, &res, &d);
	store_close(st);
	if (rc != 0) {
		if (res.files != NULL)
			people_erase_files(&res);
		privacy_erase_result_fini(&res);
		return cli_diag(&d);
	}
	if (finish) {
		printf("%d erasure%s had file work left\n", res.pending, res.pending == 1 ? "" : "s");
	} else {
		const struct people_erase_result *p = &res.people;
		printf("erased %s: %ld row%s deleted, %ld event%s scrubbed, %ld report%s detached; "
		       "tombstone pseudonym %s\n",
		       p->external_id, p->rows, p->rows == 1 ? "" : "s", p->events_scrubbed,
		       p->events_scrubbed == 1 ? "" : "s", p->reports_detached,
		       p->reports_detached == 1 ? "" : "s", p->pseudonym);
		if (p->matches_ended > 0)
			printf("ended %ld match%s (partner erased), %ld later session%s cancelled; "
			       "the partner keeps them in their calendar\n",
			       p->matches_ended, p->matches_ended == 1 ? "" : "es",
			       p->sessions_cancelled, p->sessions_cancelled == 1 ? "" : "s");
		if (res.messages_scrubbed > 0 || res.certificates > 0)
			printf("scrubbed %ld message%s to other people that named them; kept %d "
			       "certificate tombstone%s (code hash, program, date)\n",
			       res.messages_scrubbed, res.messages_scrubbed == 1 ? "" : "s",
			       res.certificates, res.certificates == 1 ? "" : "s");
		if (res.pending > 1)
			printf("also finished the file work %d earlier erasure%s had left\n",
			       res.pending - 1, res.pending == 2 ? "" : "s");
	}
	people_erase_files(&res);
	rc = res.failed > 0 ? CLI_FAIL : CLI_OK;
	privacy_erase_result_fini(&res);
	return rc;
}

int
cmd_people(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		people_usage(stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		people_usage(stdout);
		return CLI_OK;
	}
	static const struct {
		const char *name;
		cli_cmd_fn fn;
	} subs[] = {
		{"list", people_list},
		{"show", people_show},
		{"export", people_export},
		{"erase", people_erase_cmd},
	};
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(sub, subs[i].name) != 0)
			continue;
		if (cli_wants_help(argc - 1, argv + 1)) {
			people_usage(stdout);
			return CLI_OK;
		}
		return subs[i].fn(c, argc - 1, argv + 1);
	}
	return cli_usage("people", "unknown subcommand '%s' (list, show, export, erase)", sub);
}
