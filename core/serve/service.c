/*
 * serve/service: one wake of the service (see service.h).
 */
#include "serve/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "program/config.h"
#include "store/store.h"

struct service {
	char *workspace;
	char *config_path;
	struct store *st;
	const struct clock *clock;
	struct config cfg;
	int have_cfg;
	struct service_counts counts;
};

static int
load_config(struct service *sv, struct diag *d)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (config_load(sv->config_path, &cfg, d) != 0)
		return -1;
	if (config_sync_programs(sv->st, &cfg, d) != 0) {
		config_fini(&cfg);
		return -1;
	}
	if (sv->have_cfg)
		config_fini(&sv->cfg);
	sv->cfg = cfg;
	sv->have_cfg = 1;
	return 0;
}

struct service *
service_open(const char *workspace, struct store *st, const struct clock *c, struct diag *d)
{
	struct service *sv = calloc(1, sizeof(*sv));
	if (sv == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		return NULL;
	}
	size_t n = strlen(workspace) + sizeof("/tandem.lua");
	sv->workspace = strdup(workspace);
	sv->config_path = malloc(n);
	if (sv->workspace == NULL || sv->config_path == NULL) {
		diag_set(d, DIAG_NOMEM, "out of memory");
		service_close(sv);
		return NULL;
	}
	snprintf(sv->config_path, n, "%s/tandem.lua", workspace);
	sv->st = st;
	sv->clock = c;
	if (load_config(sv, d) != 0) {
		service_close(sv);
		return NULL;
	}
	return sv;
}

void
service_close(struct service *sv)
{
	if (sv == NULL)
		return;
	if (sv->have_cfg)
		config_fini(&sv->cfg);
	free(sv->workspace);
	free(sv->config_path);
	free(sv);
}

int
service_begin(struct service *sv, time_t now, struct diag *d)
{
	(void)sv;
	(void)now;
	(void)d;
	return 0;
}

int
service_step(struct service *sv, time_t now, struct diag *d)
{
	(void)sv;
	(void)now;
	(void)d;
	return 0;
}

int
service_next_due(struct service *sv, time_t *due, struct diag *d)
{
	(void)sv;
	(void)d;
	*due = 0;
	return 1;
}

int
service_reload(struct service *sv, struct diag *d)
{
	return load_config(sv, d); /* its messages name the file and line */
}

void
service_counts(const struct service *sv, struct service_counts *out)
{
	*out = sv->counts;
}

static int
op_begin(void *ud, time_t now, struct diag *d)
{
	return service_begin(ud, now, d);
}

static int
op_step(void *ud, time_t now, struct diag *d)
{
	return service_step(ud, now, d);
}

static int
op_next_due(void *ud, time_t *due, struct diag *d)
{
	return service_next_due(ud, due, d);
}

static int
op_reload(void *ud, struct diag *d)
{
	return service_reload(ud, d);
}

void
service_ops(struct service *sv, struct serve_ops *ops)
{
	ops->ud = sv;
	ops->begin = op_begin;
	ops->step = op_step;
	ops->next_due = op_next_due;
	ops->reload = op_reload;
}
