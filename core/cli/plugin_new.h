/*
 * cli/plugin_new: `tandem plugins new KIND NAME [--force]`, the documented plugin
 * templates (see plugin_new.c). Called by cmd_plugins.
 */
#ifndef TANDEM_CLI_PLUGIN_NEW_H
#define TANDEM_CLI_PLUGIN_NEW_H

#include <stdio.h>

#include "cli/cli.h"

/* argv[0] = "new". Returns CLI_OK, CLI_FAIL or CLI_USAGE. */
int plugins_new(struct cli *c, int argc, char **argv);
void plugins_new_help(FILE *out);

#endif
