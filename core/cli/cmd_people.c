/* cli/cmd_people: placeholder until its owner lands it. */
#include "commands.h"
int
cmd_people(struct cli *c, int argc, char **argv)
{
	return cli_error("%s: not built yet", argv[0]);
}
int
cmd_import_people(struct cli *c, int argc, char **argv)
{
	return cli_error("%s: not built yet", argv[0]);
}
