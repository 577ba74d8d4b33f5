/*
 * fuzz_config: the workspace config (program/config.h) on arbitrary tandem.lua text.
 *
 * The file is evaluated in this process (config_load_mode with in_process = 1), so the
 * fuzzer's coverage sees the sandbox, the declaration functions and the encoding of the
 * result; the worker that config_load forks would hide them. Checked:
 *  - a failure leaves the config empty and its message names the file;
 *  - a config read has a zone, and programs with valid and distinct names, a positive line,
 *    dates YYYY-MM-DD with ends not before starts, non-negative commitments, non-NULL list
 *    items; config_find_program finds each of them and config_program_json gives JSON;
 *  - config_sync_programs stores them (into a scratch database reset before each input) and
 *    config_program_id finds every one.
 */
#include "fuzz.h"

#include <ctype.h>

#include <jansson.h>

#include "fuzz_store.h"
#include "lua/plugin.h"
#include "program/config.h"

static struct store *st;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	st = fuzz_store_open(NULL);
	return 0;
}

static int
is_date(const char *s)
{
	if (s == NULL)
		return 1;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static void
check_program(const struct config *cfg, const struct config_program *p)
{
	FUZZ_CHECK(p->name != NULL && plugin_name_valid(p->name));
	FUZZ_CHECK(p->line > 0);
	FUZZ_CHECK(is_date(p->starts) && is_date(p->ends));
	if (p->starts != NULL && p->ends != NULL)
		FUZZ_CHECK(strcmp(p->starts, p->ends) <= 0);
	FUZZ_CHECK(p->sessions_per_month >= 0 && p->minutes_per_session >= 0);
	FUZZ_CHECK(p->ngoals >= 0 && (p->ngoals == 0 || p->goals != NULL));
	for (int i = 0; i < p->ngoals; i++)
		FUZZ_CHECK(p->goals[i] != NULL);
	FUZZ_CHECK(p->ntopics >= 0 && (p->ntopics == 0 || p->topics != NULL));
	for (int i = 0; i < p->ntopics; i++)
		FUZZ_CHECK(p->topics[i] != NULL);
	struct diag d;
	FUZZ_CHECK(config_find_program(cfg, p->name, &d) == p);
	char *json = config_program_json(p);
	FUZZ_CHECK(json != NULL);
	json_error_t err;
	json_t *v = json_loads(json, 0, &err);
	FUZZ_CHECK(v != NULL && json_is_object(v));
	json_decref(v);
	free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("tandem.lua", data, size);
	char file[512];
	snprintf(file, sizeof(file), "%s", path);
	struct config cfg;
	struct diag d;
	diag_clear(&d);
	int rc = config_load_mode(file, 1, &cfg, &d);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		FUZZ_CHECK(cfg.nprograms == 0 && cfg.programs == NULL);
		FUZZ_CHECK(cfg.organization == NULL && cfg.timezone == NULL && cfg.path == NULL);
		FUZZ_CHECK_MSG(strstr(d.msg, "tandem.lua") != NULL, d.msg);
		return 0;
	}
	FUZZ_CHECK(cfg.path != NULL && strcmp(cfg.path, file) == 0);
	FUZZ_CHECK(cfg.timezone != NULL);
	FUZZ_CHECK(cfg.nprograms >= 0 && (cfg.nprograms == 0 || cfg.programs != NULL));
	for (int i = 0; i < cfg.nprograms; i++) {
		check_program(&cfg, &cfg.programs[i]);
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cfg.programs[i].name, cfg.programs[j].name) != 0);
	}

	fuzz_store_reset(st);
	/* Storing a valid config can only fail for the database's own reasons. */
	FUZZ_CHECK_MSG(config_sync_programs(st, &cfg, &d) == 0, d.msg);
	for (int i = 0; i < cfg.nprograms; i++) {
		int64_t id = 0;
		FUZZ_CHECK_MSG(config_program_id(st, &cfg, cfg.programs[i].name, &id, &d) == 0,
			       d.msg);
		FUZZ_CHECK(id > 0);
	}
	FUZZ_CHECK(store_depth(st) == 0);
	config_fini(&cfg);
	return 0;
}
