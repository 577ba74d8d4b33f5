/*
 * cli/cmd_events: `tandem events`, the event log. Argument parsing and printing only:
 * events/events_list reads the log.
 *
 * Called by main.c's dispatch (cmd_events).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/evkind.h"
#include "cli/commands.h"
#include "events/events_list.h"
#include "store/store.h"

static void
events_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem events [--since ID] [--kind K] [--program P] [--limit N] [--json]\n\n"
		"The event log, oldest first: every state change tandem records (people imported\n"
		"or erased, enrollments, matches proposed/approved/rejected/activated/ended,\n"
		"sessions planned/held/missed/cancelled/rescheduled, feedback given or revealed,\n"
		"rewards granted or revoked, programs started or ended, jobs run). People are\n"
		"named by their internal id; payloads never hold an e-mail. See\n"
		"docs/plugin-api.md \"Events\" for every kind and its payload.\n\n"
		"Options:\n"
		"  --since ID    only events after event ID (default 0: from the start)\n"
		"  --kind K      only kind K (\"session.held\"), or a domain (\"session\" or\n"
		"                \"session.\": every session.* kind); one that no event has\n"
		"                is a usage error (exit 2) listing the kinds\n"
		"  --program P   only the events of program P\n"
		"  --limit N     at most N events (1-1000000; default all)\n"
		"  --json        print a JSON array of {id, at, kind, actor, subject_id,\n"
		"                program_id, program, payload}\n"
		"  -h, --help    print this help\n");
}

static const char *
text_or(json_t *v, const char *dflt, char *buf, size_t size)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return dflt;
}

/* 1 when --kind K can match an event: a kind of the Events table, custom.NAME, or a
 * domain ("session" or "session.") of either. A typo would list nothing and say nothing. */
static int
kind_filter_known(const char *k)
{
	size_t n = strlen(k);
	if (evkind_known(k) || evkind_custom(k))
		return 1;
	if (n > 0 && k[n - 1] == '.')
		n--;
	if (n == 0)
		return 0;
	if (n == 6 && strncmp(k, "custom", 6) == 0)
		return 1;
	for (int i = 0; evkind_all[i]; i++)
		if (strncmp(evkind_all[i], k, n) == 0 && evkind_all[i][n] == '.')
			return 1;
	return 0;
}

int
cmd_events(struct cli *c, int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		events_usage(stdout);
		return CLI_OK;
	}
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'}, {"kind", required_argument, NULL, 'k'},
	    {"program", required_argument, NULL, 'p'}, {"limit", required_argument, NULL, 'l'},
	    {"json", no_argument, NULL, 'j'},	       {NULL, 0, NULL, 0},
	};
	struct events_filter f = {0};
	int json = 0, ch;
	long v;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (cli_parse_int("events", "--since", optarg, 0, 0x7fffffffffffffffL, &v) != 0)
				return CLI_USAGE;
			f.since = v;
			break;
		case 'k':
			if (!kind_filter_known(optarg)) {
				char kinds[800];
				evkind_list(kinds, sizeof(kinds));
				return cli_usage("events",
						 "--kind: no event has the kind '%s' (kinds: %s; or a "
						 "domain such as 'session')",
						 optarg, kinds);
			}
			f.kind = optarg;
			break;
		case 'p':
			f.program = optarg;
			break;
		case 'l':
			if (cli_parse_int("events", "--limit", optarg, 1, 1000000, &f.limit) != 0)
				return CLI_USAGE;
			break;
		case 'j':
			json = 1;
			break;
		case 1:
			return cli_usage("events", "unexpected argument '%s'", optarg);
		default:
			return cli_usage("events", "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	struct store *st;
	int rc = cli_open_store_readonly(c, &st);
	if (rc != CLI_OK)
		return rc;
	if (cli_program_known(c, st, f.program) != CLI_OK) {
		store_close(st);
		return CLI_FAIL;
	}
	struct diag d;
	diag_clear(&d);
	json_t *arr;
	if (events_list(st, &f, &arr, &d) != 0) {
		store_close(st);
		return cli_diag(&d);
	}
	store_close(st);
	if (json)
		return cli_json_out(arr);
	struct cli_table *t = cli_table_new(6);
	cli_table_add(t, (const char *const[]){"ID", "AT", "KIND", "SUBJECT", "PROGRAM", "PAYLOAD"});
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		char id[32], subj[32];
		char *payload = json_dumps(json_object_get(e, "payload"), JSON_COMPACT | JSON_SORT_KEYS);
		const char *cells[6] = {
		    text_or(json_object_get(e, "id"), "", id, sizeof(id)),
		    text_or(json_object_get(e, "at"), "", NULL, 0),
		    text_or(json_object_get(e, "kind"), "", NULL, 0),
		    text_or(json_object_get(e, "subject_id"), "-", subj, sizeof(subj)),
		    text_or(json_object_get(e, "program"), "-", NULL, 0),
		    payload ? payload : "{}"};
		cli_table_add(t, cells);
		free(payload);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_decref(arr);
	return CLI_OK;
}
