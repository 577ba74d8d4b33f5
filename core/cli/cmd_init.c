/* cli/cmd_init: placeholder until its owner lands it. */
#include "commands.h"
int
cmd_init(struct cli *c, int argc, char **argv)
{
	return cli_error("%s: not built yet", argv[0]);
}
int
cmd_programs(struct cli *c, int argc, char **argv)
{
	return cli_error("%s: not built yet", argv[0]);
}
