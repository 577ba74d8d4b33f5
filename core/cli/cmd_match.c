/* cli/cmd_match: placeholder until its owner lands it. */
#include "commands.h"
int
cmd_match(struct cli *c, int argc, char **argv)
{
	return cli_error("%s: not built yet", argv[0]);
}
