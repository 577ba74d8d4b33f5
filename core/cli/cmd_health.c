/*
 * cli/cmd_health: `tandem health --program P [--status S] [--json]`, the health of every
 * active pair of a program and the people enrolled in programs that overlap in time.
 * Argument parsing and printing only: report/health builds the document (health_program)
 * and this file prints it, as JSON or as text grouped by status (at risk first).
 *
 * Called by main.c's command table.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "report/health.h"
#include "store/store.h"

static void
health_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem health --program P [--status S] [--json]\n\n"
		"How every active pair of program P is doing: on_track, needs_checkin, at_risk\n"
		"or too_early, each with its reasons (overdue against the cadence, consecutive\n"
		"missed sessions and who cancelled them, no first session 21 days after\n"
		"activation, only one side checking in, low or falling ratings, one side rating\n"
		"much lower than the other) and the suggested action: nudge the pair, checkin\n"
		"(the program manager talks to them) or rematch (end the match, then propose\n"
		"new partners for the two: see match run). Then the people enrolled in P and\n"
		"in another program that runs at the same time. Rules and thresholds:\n"
		"docs/health.md.\n\n"
		"  --program P   the program (as declared in tandem.lua)\n"
		"  --status S    list only the pairs in status S (the counts stay whole)\n"
		"  --json        the document as JSON\n\n"
		"Exit 0 whatever the pairs' health; 1 on an error, 2 on a usage error.\n");
}

/* The pairs in status want (or all, want < 0) as an array the caller owns. */
static json_t *
filtered(json_t *pairs, int want)
{
	json_t *out = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(pairs, i, p)
	{
		enum health_status s;
		if (out && (want < 0 || (health_status_parse(json_string_value(json_object_get(
									 p, "status")),
							     &s, NULL) == 0 &&
					 (int)s == want)))
			json_array_append(out, p);
	}
	return out;
}

static void
print_person(json_t *o)
{
	printf("%s (%s)", json_string_value(json_object_get(o, "name")),
	       json_string_value(json_object_get(o, "external_id")));
}

static void
print_overlaps(json_t *overlaps)
{
	size_t n = json_array_size(overlaps), i, j;
	if (n == 0)
		return;
	printf("\n%zu %s enrolled in programs that overlap in time (don't run programs on the "
	       "same people at once):\n",
	       n, n == 1 ? "person is" : "people are");
	json_t *o, *p;
	json_array_foreach(overlaps, i, o)
	{
		printf("  ");
		print_person(json_object_get(o, "person"));
		printf(":");
		json_array_foreach(json_object_get(o, "programs"), j, p)
		{
			const char *s = json_string_value(json_object_get(p, "starts"));
			const char *e = json_string_value(json_object_get(p, "ends"));
			printf("%s %s (%s..%s)", j ? "," : "",
			       json_string_value(json_object_get(p, "name")), s ? s : "open",
			       e ? e : "open");
		}
		printf("\n");
	}
}

static void
print_text(json_t *doc, json_t *pairs)
{
	static const char *const order[] = {"at_risk", "needs_checkin", "too_early", "on_track"};
	static const char *const title[] = {"at risk", "needs a check-in", "too early to tell",
					    "on track"};
	json_t *counts = json_object_get(doc, "counts"), *cad = json_object_get(doc, "cadence");
	printf("program %s: %lld active pairs (cadence %s, every %lld days)\n",
	       json_string_value(json_object_get(doc, "program")),
	       (long long)json_array_size(json_object_get(doc, "pairs")),
	       json_string_value(json_object_get(cad, "name")),
	       (long long)json_integer_value(json_object_get(cad, "interval_days")));
	printf("  at_risk %lld, needs_checkin %lld, too_early %lld, on_track %lld\n",
	       (long long)json_integer_value(json_object_get(counts, "at_risk")),
	       (long long)json_integer_value(json_object_get(counts, "needs_checkin")),
	       (long long)json_integer_value(json_object_get(counts, "too_early")),
	       (long long)json_integer_value(json_object_get(counts, "on_track")));
	for (size_t g = 0; g < sizeof(order) / sizeof(*order); g++) {
		size_t i, j, n = 0;
		json_t *p, *r;
		json_array_foreach(pairs, i, p) n +=
		    strcmp(json_string_value(json_object_get(p, "status")), order[g]) == 0;
		if (n == 0)
			continue;
		printf("\n%s (%zu):\n", title[g], n);
		json_array_foreach(pairs, i, p)
		{
			if (strcmp(json_string_value(json_object_get(p, "status")), order[g]) != 0)
				continue;
			printf("  match %lld ",
			       (long long)json_integer_value(json_object_get(p, "match_id")));
			print_person(json_object_get(p, "mentor"));
			printf(" -> ");
			print_person(json_object_get(p, "mentee"));
			printf("\n");
			json_array_foreach(json_object_get(p, "reasons"), j, r)
			{
				const char *act = json_string_value(json_object_get(r, "action"));
				printf("    - %s", json_string_value(json_object_get(r, "text")));
				if (strcmp(act, "none") != 0)
					printf(" [%s]", act);
				printf("\n");
			}
		}
	}
	print_overlaps(json_object_get(doc, "overlaps"));
}

int
cmd_health(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"program", required_argument, NULL, 'p'},
	    {"status", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *program = NULL;
	int json = 0, want = -1, ch;
	struct diag d;
	diag_clear(&d);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		enum health_status s;
		switch (ch) {
		case 'p':
			program = optarg;
			break;
		case 's':
			if (health_status_parse(optarg, &s, &d) != 0)
				return cli_usage("health", "--status: %s", d.msg);
			want = (int)s;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			health_usage(stdout);
			return CLI_OK;
		default:
			return cli_usage("health", "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("health", "unexpected argument '%s'", argv[optind]);
	if (program == NULL)
		return cli_usage("health", "--program P is required");
	struct cli_ws w;
	if (cli_ws_open(c, program, &w) != CLI_OK)
		return CLI_FAIL;
	json_t *doc = NULL;
	int rc = CLI_OK;
	if (health_program(w.st, &w.cfg, program, store_time(w.st), &doc, &d) != 0) {
		rc = cli_diag(&d);
	} else {
		json_t *pairs = filtered(json_object_get(doc, "pairs"), want);
		if (pairs == NULL) {
			rc = cli_error("out of memory");
		} else if (json) {
			json_object_set(doc, "pairs", pairs);
			rc = cli_json_out(json_incref(doc));
		} else {
			print_text(doc, pairs);
		}
		json_decref(pairs);
	}
	json_decref(doc);
	cli_ws_close(&w);
	return rc;
}
