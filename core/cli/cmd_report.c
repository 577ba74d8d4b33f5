/*
 * cli/cmd_report: `tandem report --program P [--plugin NAME] [--format F] [--out FILE]
 * [--as-of D]`,
 * a program's report built by a report plugin and rendered as HTML, Markdown, CSV
 * or JSON. Argument parsing only: report/report builds the document in the
 * plugin's worker, report/render writes it; --out goes through io/outfile (a
 * temporary file renamed into place, so a failure never leaves half a report).
 *
 * Called by main.c's dispatch (cmd_report).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "cli/commands.h"
#include "io/outfile.h"
#include "report/render.h"
#include "report/report.h"
#include "store/store.h"

static void
report_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem report --program P [--plugin NAME] [--format html|md|csv|json]\n"
		"                     [--out FILE] [--as-of D]\n\n"
		"Builds a program's report with a report plugin (build(metrics, q, ctx) returns a\n"
		"document of sections with text, tables and charts) and writes it.\n\n"
		"Options:\n"
		"  --program P      a program of tandem.lua\n"
		"  --plugin NAME    a report plugin's name or path (default: program-overview;\n"
		"                   built-ins: program-overview, monthly-pulse, mentor-recognition)\n"
		"  --format F       html (one self-contained page with SVG charts), md, csv (the\n"
		"                   tables) or json (the document); default: from --out's\n"
		"                   extension (.html .md .csv .json; another one is refused), else\n"
		"                   md. An --out extension of another format than F is refused.\n"
		"  --out FILE       write FILE (atomically) instead of standard output\n"
		"  --as-of D        the report as of D instead of now (YYYY-MM-DD: the end of\n"
		"                   that day, UTC; or YYYY-MM-DDTHH:MM[:SS]Z), e.g. the last day\n"
		"                   of a simulated copy (tandem simulate --keep DIR)\n"
		"  -h, --help       print this help\n");
}

int
cmd_report(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"program", required_argument, NULL, 'g'},
		{"plugin", required_argument, NULL, 'p'},
		{"format", required_argument, NULL, 'f'},
		{"out", required_argument, NULL, 'o'},
		{"as-of", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *program = NULL, *plugin = NULL, *format = NULL, *out = NULL, *as_of = NULL;
	if (cli_wants_help(argc, argv)) {
		report_usage(stdout);
		return CLI_OK;
	}
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'g':
			program = optarg;
			break;
		case 'p':
			plugin = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'a':
			as_of = optarg;
			break;
		default:
			return cli_usage("report", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("report", "unexpected argument '%s'", argv[optind]);
	if (program == NULL)
		return cli_usage("report", "--program is required");
	enum render_format f = RENDER_MD;
	if (format != NULL && render_format_parse(format, &f) != 0)
		return cli_usage("report", "unknown format '%s' (html, md, csv or json)", format);
	/* --out's extension: it decides without --format (none: Markdown); one that is not a
	 * format's, or another format than --format's, is a mistake (r.pdf holding Markdown). */
	enum render_format pf = RENDER_MD;
	int ext = out != NULL ? render_format_from_path(out, &pf) : -1;
	if (format == NULL && ext == 0)
		f = pf;
	else if (format == NULL && ext == -2)
		return cli_usage("report",
				 "--out '%s': its extension is not a report format's (.html, .md, "
				 ".csv, .json): give --format F or such a name",
				 out);
	else if (format != NULL && ext == 0 && pf != f)
		return cli_usage("report", "--format %s and --out '%s' disagree (its extension is %s's)",
				 format, out, render_format_name(pf));
	time_t now = 0;
	if (as_of != NULL && (cli_parse_instant(as_of, 1, &now) != 0 || now <= 0))
		return cli_usage("report",
				 "--as-of '%s' is not a date (YYYY-MM-DD) or an instant "
				 "(YYYY-MM-DDTHH:MM[:SS]Z)",
				 as_of);

	struct cli_ws w;
	int rc = cli_ws_open(c, program, &w);
	if (rc != CLI_OK)
		return rc;
	struct diag d;
	struct report_opts o = {.ws = c->dir, .plugin = plugin, .now = now};
	json_t *doc = NULL;
	struct buf b;
	buf_init(&b);
	if (report_build(w.st, &w.cfg, program, &o, &doc, &d) != 0 || render_doc(f, doc, &b, &d) != 0)
		rc = cli_diag(&d);
	json_decref(doc);
	cli_ws_close(&w);
	if (rc == CLI_OK) {
		if (outfile_write_all(out, b.data, b.len, &d) != 0)
			rc = cli_diag(&d);
	}
	buf_fini(&b);
	if (rc == CLI_OK && out != NULL)
		fprintf(stderr, "tandem: wrote the %s report of %s to %s\n", render_format_name(f),
			program, out);
	return rc;
}
