/*
 * config: the workspace configuration, `tandem.lua`.
 *
 * The file is Lua 5.4 run in the plugin sandbox (no io/os/require), with two
 * declaration functions in scope: workspace{...} (organization, default zone)
 * and program{...} (one per mentoring program). Each declaration is validated as
 * it runs and all of its problems are reported at once, one per line in line
 * order, each naming the file, the line of its field (the declaration's line when
 * the field is missing) and the field:
 * "tandem.lua:19: program 'digital-2027': field 'starts' must be a date YYYY-MM-DD".
 * Callers: the CLI (init, programs, match --program) and later the daemon.
 *
 * config_sync_programs() upserts the declared programs into the `programs` table
 * (persistent ids for enrollments and matches); programs removed from the file
 * keep their rows.
 */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include <stdint.h>

#include <jansson.h>

#include "base/diag.h"

struct store;

/* The suggested questions of one topic: `topics` entries may be { name =, questions = {...} }. */
struct config_topic_questions {
	char **questions;
	int n;
};

struct config_program {
	char *name;        /* required, [a-z0-9_-]+ */
	char *title;
	char *description;
	char *starts;      /* YYYY-MM-DD or NULL */
	char *ends;        /* YYYY-MM-DD or NULL, not before starts */
	char **goals;
	int ngoals;
	char **topics;     /* the topic library's names */
	int ntopics;
	struct config_topic_questions *topic_questions; /* ntopics entries (n 0: none), or NULL */
	int sessions_per_month;  /* 0 = not set */
	int minutes_per_session; /* 0 = not set */
	char *policy;      /* matching policy name or path, or NULL */
	char *cadence;     /* session cadence plugin name, or NULL */
	char *manager;     /* the program manager's external id (people), or NULL */
	int line;          /* line of the declaration in the file */
};

/* A webhook{ name =, url =, secret =, events =, attempts =, backoff = } of tandem.lua:
 * serve/webhook POSTs the events it wants to url, signed with secret. */
struct config_webhook {
	char *name;	/* [a-z0-9_-]+, unique: the hook's part of its deliveries' keys */
	char *url;	/* http:// or https:// (config_public_url_valid) */
	char *secret;	/* at least 16 characters */
	char **events;	/* kinds or "prefix.*" or "*"; NULL (field absent): every event */
	int nevents;
	int attempts;	/* deliveries tried before the message fails: 1..20 */
	int backoff_s;	/* first retry delay, doubled per attempt (jitter added): 1..86400 */
};

enum { CONFIG_WEBHOOK_ATTEMPTS = 5, CONFIG_WEBHOOK_BACKOFF_S = 60 };
/* A hook's events list names at most this many kinds (more is refused, never cut). */
enum { CONFIG_WEBHOOK_EVENTS_MAX = 64 };

/* 1 when the hook wants events of this kind. */
int config_webhook_wants(const struct config_webhook *w, const char *kind);

struct config {
	char *path;         /* the file read */
	char *organization;
	char *timezone;     /* IANA zone; "UTC" when not set */
	char *notify;       /* the channel of messages (sched/notify.h); NULL: "eml" */
	char *mail_from;    /* the From: of messages; NULL: tandem@localhost */
	char *public_url;   /* base URL of `tandem serve --http` for participants; NULL: none */
	struct config_program *programs;
	int nprograms;
	struct config_webhook *webhooks;
	int nwebhooks;
	int has_workspace;  /* workspace{} was declared */
};

/* The commented example written by `tandem init` (core/program/templates/tandem.lua). */
extern const char config_template[];

/* Reads and validates PATH. On error returns -1 and cfg is left empty. */
int config_load(const char *path, struct config *cfg, struct diag *d);

/* The same, evaluating the file in the calling process when in_process is 1 (no worker: for
 * embedders who ask for it, and the fuzz harness, whose coverage must see the evaluation).
 * Only the in-Lua budgets apply then: a hang inside a C function hangs the caller. */
int config_load_mode(const char *path, int in_process, struct config *cfg, struct diag *d);

void config_fini(struct config *cfg);

/*
 * The line of `field = ...` in program p's declaration in cfg->path (the first
 * such line from the declaration's line on, before the next program's), or the
 * declaration's line when the file cannot be read or the field is not written
 * out as `field =` (computed by the chunk). For messages about one field.
 */
int config_field_line(const struct config *cfg, const struct config_program *p, const char *field);

/*
 * Checks that program p's `policy` and `cadence` name plugins that exist
 * (plugin_resolve of their kind, workspace ws first, then the built-ins; h the
 * plugin host, NULL for the built-in kinds). Returns how many did not, each
 * reported through report(arg, field, message) as "FILE:LINE: program 'P': field
 * 'cadence': no cadence named 'x' in ... (write one with `tandem plugins new
 * cadence x`)", LINE being the field's line. Unset fields are not checked.
 */
struct plugin_host;
int config_check_plugins(const struct config *cfg, const struct config_program *p,
			 const struct plugin_host *h, const char *ws,
			 void (*report)(void *arg, const char *field, const char *msg),
			 void *arg);

/* 1 when url can be a public_url: "http://" or "https://", a host, an optional path, no
 * query, fragment, space, control character, quote or angle bracket; at most 200 bytes. */
int config_public_url_valid(const char *url);

/* The program named NAME, or NULL (with a diag listing the declared names). */
const struct config_program *config_find_program(const struct config *cfg, const char *name,
						  struct diag *d);

/* The program as a JSON object string (malloc'd), as stored in programs.config. */
char *config_program_json(const struct config_program *p);
/* The same as a JSON value (the caller's reference); NULL when out of memory. */
json_t *config_program_value(const struct config_program *p);

/* Upserts every declared program into the programs table in one transaction. */
int config_sync_programs(struct store *st, const struct config *cfg, struct diag *d);

/* Looks up (after syncing) the database id of the declared program NAME. */
int config_program_id(struct store *st, const struct config *cfg, const char *name, int64_t *id,
		      struct diag *d);

#endif
