/*
 * config_internal: what config.c and config_wire.c share: the config as bytes between the
 * worker that evaluates tandem.lua and the host.
 */
#ifndef TANDEM_PROGRAM_CONFIG_INTERNAL_H
#define TANDEM_PROGRAM_CONFIG_INTERNAL_H

#include <stddef.h>

#include "base/buf.h"
#include "base/diag.h"
#include "program/config.h"

/* Appends cfg to b. */
int config__encode(const struct config *cfg, struct buf *b, struct diag *d);
/* Fills cfg from the worker's bytes; -1 (cfg emptied) on a malformed encoding. */
int config__decode(const char *data, size_t len, struct config *cfg, struct diag *d);

/* config_webhook.c: the webhook{} declaration function in the config's sandbox, and
 * freeing what it kept. */
struct lua_State;
void config__webhook_register(struct lua_State *L, struct config *cfg);
void config__webhooks_fini(struct config *cfg);

#endif
