/* cli/cmd_enroll: placeholder until its owner lands it. */
#include "commands.h"
int
cmd_import_enrollments(struct cli *c, int argc, char **argv)
{
	return cli_error("%s: not built yet", argv[0]);
}
