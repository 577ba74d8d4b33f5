/*
 * cli/cmd_import: `tandem import people|enrollments FILE.csv ...`. Dispatches to
 * the importer of each kind; both are all-or-nothing.
 */
#include <string.h>

#include "cli/commands.h"
#include "io/textenc.h"

int
cmd_import_input_opt(const char *cmd, const char *opt, const char *arg, const char **encoding,
		     int *delimiter)
{
	if (strcmp(opt, "encoding") == 0) {
		struct diag d;
		diag_clear(&d);
		if (textenc_check(arg, &d) != 0)
			return cli_usage(cmd, "%s", d.msg);
		*encoding = arg;
		return CLI_OK;
	}
	if (strcmp(arg, ",") == 0 || strcmp(arg, "comma") == 0)
		*delimiter = ',';
	else if (strcmp(arg, ";") == 0 || strcmp(arg, "semicolon") == 0)
		*delimiter = ';';
	else if (strcmp(arg, "tab") == 0 || strcmp(arg, "\t") == 0 || strcmp(arg, "\\t") == 0)
		*delimiter = '\t';
	else
		return cli_usage(cmd, "--delimiter expects ',', ';' or tab, got '%s'", arg);
	return CLI_OK;
}

static void
import_usage(FILE *out)
{
	fprintf(out, "usage: tandem import people FILE.csv [--dry-run] [--map COLUMN=FIELD ...]\n"
		     "       tandem import enrollments FILE.csv --program P [--dry-run] [--map COLUMN=FIELD ...]\n"
		     "       (both also take --encoding NAME and --delimiter ','|';'|tab)\n\n"
		     "Imports a CSV file into the workspace database. Nothing is written unless every row\n"
		     "is valid; errors are printed as FILE:LINE:COLUMN: message.\n"
		     "Run 'tandem import people --help' for the columns each kind accepts.\n");
}

int
cmd_import(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		import_usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		import_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "people") == 0)
		return cmd_import_people(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "enrollments") == 0)
		return cmd_import_enrollments(c, argc - 1, argv + 1);
	return cli_usage("import", "unknown kind '%s' (expected people or enrollments)", argv[1]);
}
