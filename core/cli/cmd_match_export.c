/*
 * cli/cmd_match_export: `tandem match export --program P --format csv|json [--status S]
 * [--out FILE]`, the program's matches as a file for the client.
 *
 * Called by cmd_match.c (the `export` subcommand). Reads matches_list_json() and
 * writes one flat record per match: ids, names and departments of both people,
 * status, pinned, score, policy and run. By default the current matches (proposed,
 * approved, active): what the client is asked to look at, not rejected, ended or
 * superseded rows; --status picks one status instead. --out writes FILE through a
 * temporary file renamed into place, so a failed export never leaves half a file;
 * without it the records go to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "io/csv.h"
#include "program/matches.h"
#include "store/store.h"

#define NCOLS 13

static const char *const export_cols[NCOLS] = {
    "match_id",	     "status",	   "mentor_id", "mentor_name",	  "mentor_department",
    "mentee_id",     "mentee_name", "mentee_department", "score", "pinned", "policy",
    "policy_version", "run_id"};

static const char *
str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The flat record of one match from matches_list_json(). */
static json_t *
flat_record(json_t *m)
{
	json_t *mt = json_object_get(m, "mentor"), *me = json_object_get(m, "mentee");
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
			 "match_id", json_object_get(m, "id"), "status",
			 json_object_get(m, "status"), "mentor_id", json_object_get(mt, "id"),
			 "mentor_name", json_object_get(mt, "name"), "mentor_department",
			 json_object_get(m, "mentor_department"), "mentee_id",
			 json_object_get(me, "id"), "mentee_name", json_object_get(me, "name"),
			 "mentee_department", json_object_get(m, "mentee_department"), "score",
			 json_object_get(m, "score"), "pinned", json_object_get(m, "pinned"),
			 "policy", json_object_get(m, "policy"), "policy_version",
			 json_object_get(m, "policy_version"), "run_id",
			 json_object_get(m, "run_id"));
}

/* One CSV record of a flat record; 0 or -1 (stream failed). */
static int
write_csv_record(FILE *f, json_t *r)
{
	char id[32], score[64];
	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(r, "match_id")));
	json_t *sc = json_object_get(r, "score");
	if (json_is_number(sc))
		snprintf(score, sizeof(score), "%.4f", json_number_value(sc));
	else
		score[0] = '\0';
	const char *row[NCOLS] = {id,
				  str_of(r, "status"),
				  str_of(r, "mentor_id"),
				  str_of(r, "mentor_name"),
				  str_of(r, "mentor_department"),
				  str_of(r, "mentee_id"),
				  str_of(r, "mentee_name"),
				  str_of(r, "mentee_department"),
				  score,
				  json_is_true(json_object_get(r, "pinned")) ? "yes" : "no",
				  str_of(r, "policy"),
				  str_of(r, "policy_version"),
				  str_of(r, "run_id")};
	return csv_write_row(f, row, NCOLS);
}

/* Writes the records to f in the format; 0 or -1 (stream failed). */
static int
write_export(FILE *f, json_t *recs, int csv, const char *program)
{
	if (!csv) {
		json_t *doc = json_pack("{s:s, s:I, s:O}", "program", program, "count",
					(json_int_t)json_array_size(recs), "matches", recs);
		if (doc == NULL)
			return -1;
		int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
						JSON_REAL_PRECISION(17));
		json_decref(doc);
		return rc != 0 || fputc('\n', f) == EOF ? -1 : 0;
	}
	if (csv_write_row(f, export_cols, NCOLS) < 0)
		return -1;
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r)
	{
		if (write_csv_record(f, r) < 0)
			return -1;
	}
	return 0;
}

/* Writes to path through path.tmp.PID renamed into place. */
static int
write_file(const char *path, json_t *recs, int csv, const char *program)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	if (tmp == NULL)
		return cli_error("out of memory");
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		int rc = cli_error("cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	int bad = write_export(f, recs, csv, program) < 0;
	bad |= fclose(f) != 0;
	if (!bad && rename(tmp, path) != 0)
		bad = 1;
	int rc = CLI_OK;
	if (bad) {
		rc = cli_error("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* Keeps the matches the export is about; flat records in a new array, or NULL. */
static json_t *
select_records(json_t *arr, const char *status)
{
	json_t *recs = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(arr, i, m)
	{
		const char *st = str_of(m, "status");
		if (recs == NULL || st == NULL)
			break;
		int keep = status ? 1
				  : strcmp(st, "proposed") == 0 || strcmp(st, "approved") == 0 ||
					strcmp(st, "active") == 0;
		if (keep && json_array_append_new(recs, flat_record(m)) != 0) {
			json_decref(recs);
			return NULL;
		}
	}
	return recs;
}

int
cmd_match_export(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"program", required_argument, NULL, 'p'}, {"format", required_argument, NULL, 'f'},
	    {"out", required_argument, NULL, 'o'},     {"status", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	const char *program = NULL, *format = NULL, *out = NULL, *status = NULL;
	int ch;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "-", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			program = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			status = optarg;
			break;
		case 1:
			return cli_usage("match export", "unexpected argument '%s'", optarg);
		default:
			return cli_usage("match export", "unknown option or missing argument '%s'",
					 argv[optind - 1]);
		}
	}
	if (program == NULL)
		return cli_usage("match export", "missing --program P");
	if (format == NULL || (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0))
		return cli_usage("match export", "--format must be csv or json");
	static const char *const statuses[] = {"proposed", "approved", "rejected",
					       "active",   "ended",    "superseded"};
	int ok = status == NULL;
	for (int i = 0; status && i < 6; i++)
		ok |= strcmp(status, statuses[i]) == 0;
	if (!ok)
		return cli_usage("match export",
				 "--status must be proposed, approved, rejected, active, ended or "
				 "superseded (got '%s')",
				 status);
	struct cli_ws w;
	if (cli_ws_open(c, program, &w) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	json_t *arr = matches_list_json(w.st, w.program_id, status, &d);
	cli_ws_close(&w);
	if (arr == NULL)
		return cli_diag(&d);
	json_t *recs = select_records(arr, status);
	json_decref(arr);
	if (recs == NULL)
		return cli_error("out of memory");
	int csv = strcmp(format, "csv") == 0;
	int rc = CLI_OK;
	if (out) {
		rc = write_file(out, recs, csv, program);
		if (rc == CLI_OK)
			fprintf(stderr, "tandem: exported %zu matches of %s to %s\n",
				json_array_size(recs), program, out);
	} else if (write_export(stdout, recs, csv, program) < 0 || fflush(stdout) != 0) {
		rc = cli_error("cannot write the export to stdout");
	}
	json_decref(recs);
	return rc;
}
