/* cli/cmd_genorg: placeholder until its owner lands it. */
#include "commands.h"
int
cmd_gen_org(struct cli *c, int argc, char **argv)
{
	return cli_error("%s: not built yet", argv[0]);
}
