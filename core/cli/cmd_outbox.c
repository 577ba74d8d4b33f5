/*
 * cli/cmd_outbox: `tandem outbox list|send|remind|retry`, the messages tandem sends. Argument
 * parsing and printing only: events/outbox lists and counts, sched/notify delivers,
 * sched/remind queues reminders, events/outbox_retry puts failed ones back. The service
 * does the same on its own timer (but retry); these are for operators and tests (deliver
 * now, look at what is stuck and why, send again what failed once its cause is fixed).
 *
 * Called by main.c's dispatch (cmd_outbox).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "events/outbox.h"
#include "lua/plugin.h"
#include "program/config.h"
#include "sched/notify.h"
#include "sched/remind.h"
#include "store/store.h"

static void
outbox_usage(FILE *out)
{
	fprintf(out,
		"usage: tandem outbox list [--status S] [--json]\n"
		"       tandem outbox send [--json]\n"
		"       tandem outbox remind [--lead HOURS] [--json]\n"
		"       tandem outbox retry KEY|--all-failed [--json]\n\n"
		"  list    the messages, oldest first: key, state, channel, recipient, when it may\n"
		"          go (not before / not after), attempts and the last error. --status is\n"
		"          one of pending, sending, sent, failed, expired, unknown.\n"
		"  send    deliver every message due now through its notifier (eml: a file in\n"
		"          outbox/, jsonl: a line of outbox/messages.jsonl, or a notifier plugin)\n"
		"          and print how many were sent, retried later, failed or expired\n"
		"  remind  queue the reminders of the planned sessions starting within HOURS\n"
		"          (default 24), one per side, as the service's send-reminders job does,\n"
		"          and the calendar updates of reminded sessions cancelled or moved since\n"
		"          (\"update:SESSION:PERSON:SEQUENCE\", the new .ics attached)\n"
		"  retry   put the failed message KEY (or every failed one) back in the queue:\n"
		"          pending, attempts 0, due now (event message.retried); send or the\n"
		"          service delivers it. One past its not_after time expires instead, and\n"
		"          an expired one stays expired; each is said. Prints retried N, expired N\n\n"
		"Every message has an idempotency key (\"reminder:SESSION:PERSON\": one reminder per\n"
		"session and side, whatever the lead): queueing it twice keeps one. A message\n"
		"whose sender died while sending becomes 'unknown' when its lease runs out and\n"
		"is sent again; the built-in notifiers skip a key they already wrote. An expired\n"
		"message (its session cancelled or begun) is said as info, not as an error.\n"
		"The channel and From address come from tandem.lua:\n"
		"workspace{ notify = \"eml\"|\"jsonl\"|NOTIFIER, mail_from = \"...\" }.\n");
}

static const char *
outbox_time_text(time_t t, char buf[STORE_TIME_MAX])
{
	if (t == 0 || store_format_time(t, buf) != 0)
		return "";
	return buf;
}

static json_t *
outbox_row_json(const struct outbox_row *r)
{
	char nb[STORE_TIME_MAX], na[STORE_TIME_MAX], sa[STORE_TIME_MAX], lu[STORE_TIME_MAX];
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:i}", "id", (json_int_t)r->id,
			      "key", r->key, "kind", r->kind, "channel", r->channel, "status",
			      outbox_status_name(r->status), "subject", r->subject, "last_error",
			      r->last_error, "attempts", r->attempts);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "recipient_id", r->recipient_id ? json_integer(r->recipient_id) : json_null());
	json_object_set_new(o, "session_id", r->session_id ? json_integer(r->session_id) : json_null());
	json_object_set_new(o, "not_before", json_string(outbox_time_text(r->not_before, nb)));
	json_object_set_new(o, "not_after", r->not_after ? json_string(outbox_time_text(r->not_after, na))
							 : json_null());
	json_object_set_new(o, "sent_at", r->sent_at ? json_string(outbox_time_text(r->sent_at, sa))
						     : json_null());
	json_object_set_new(o, "lease_until", r->lease_until ? json_string(outbox_time_text(r->lease_until, lu))
							     : json_null());
	return o;
}

struct oopts {
	const char *status;
	long lead;
	int json;
	int all_failed;  /* retry --all-failed */
	const char *key; /* retry KEY */
};

static int
outbox_opts(const char *cmd, int argc, char **argv, struct oopts *o, int allow_status,
	    int allow_lead, int retry)
{
	static const struct option longopts[] = {
		{"status", required_argument, NULL, 's'},
		{"lead", required_argument, NULL, 'l'},
		{"all-failed", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!allow_status)
				return cli_usage(cmd, "unknown option '--status'");
			o->status = optarg;
			break;
		case 'l':
			if (!allow_lead)
				return cli_usage(cmd, "unknown option '--lead'");
			if (cli_parse_int(cmd, "--lead", optarg, 1, 24 * 365, &o->lead) != 0)
				return CLI_USAGE;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'a':
			if (!retry)
				return cli_usage(cmd, "unknown option '--all-failed'");
			o->all_failed = 1;
			break;
		default:
			return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (retry && optind < argc)
		o->key = argv[optind++];
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (retry && (o->key == NULL) == !o->all_failed)
		return cli_usage(cmd, "give one message's KEY or --all-failed");
	return CLI_OK;
}

static int
outbox_list_cmd(struct cli *c, int argc, char **argv)
{
	struct oopts o;
	int rc = outbox_opts("outbox list", argc, argv, &o, 1, 0, 0);
	if (rc != CLI_OK)
		return rc;
	struct outbox_filter f = {.status = -1};
	if (o.status != NULL) {
		enum outbox_status s;
		if (outbox_status_parse(o.status, &s) != 0)
			return cli_usage("outbox list",
					 "--status must be pending, sending, sent, failed, expired or"
					 " unknown (got '%s')",
					 o.status);
		f.status = (int)s;
	}
	struct store *st;
	if ((rc = cli_open_store(c, &st)) != CLI_OK)
		return rc;
	struct diag d;
	struct outbox_row *rows = NULL;
	size_t n = 0;
	if (outbox_list(st, &f, &rows, &n, &d) != 0) {
		store_close(st);
		return cli_diag(&d);
	}
	store_close(st);
	if (o.json) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < n; i++)
			if (json_array_append_new(a, outbox_row_json(&rows[i])) != 0) {
				json_decref(a);
				a = NULL;
			}
		outbox_rows_free(rows, n);
		return a != NULL ? cli_json_out(a) : cli_error("out of memory");
	}
	struct cli_table *t = cli_table_new(8);
	const char *head[8] = {"ID", "KEY", "STATUS", "CHANNEL", "NOT_BEFORE", "NOT_AFTER",
			       "ATTEMPTS", "LAST_ERROR"};
	cli_table_add(t, head);
	for (size_t i = 0; i < n; i++) {
		char id[24], att[16], nb[STORE_TIME_MAX], na[STORE_TIME_MAX];
		snprintf(id, sizeof(id), "%lld", (long long)rows[i].id);
		snprintf(att, sizeof(att), "%d", rows[i].attempts);
		const char *cells[8] = {id, rows[i].key, outbox_status_name(rows[i].status),
					rows[i].channel, outbox_time_text(rows[i].not_before, nb),
					outbox_time_text(rows[i].not_after, na), att,
					rows[i].last_error != NULL ? rows[i].last_error : ""};
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	printf("%zu message%s\n", n, n == 1 ? "" : "s");
	outbox_rows_free(rows, n);
	return CLI_OK;
}

/* The store and tandem.lua, for send and remind. */
static int
outbox_open(struct cli *c, struct store **st, struct config *cfg)
{
	char path[4096];
	memset(cfg, 0, sizeof(*cfg));
	if (cli_need_config(c, cli_ws_path(c, "tandem.lua", path, sizeof(path))) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	if (config_load(path, cfg, &d) != 0)
		return cli_diag(&d);
	int rc = cli_open_store(c, st);
	if (rc != CLI_OK)
		config_fini(cfg);
	return rc;
}

static int
outbox_send_cmd(struct cli *c, int argc, char **argv)
{
	struct oopts o;
	int rc = outbox_opts("outbox send", argc, argv, &o, 0, 0, 0);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	struct config cfg;
	if ((rc = outbox_open(c, &st, &cfg)) != CLI_OK)
		return rc;
	struct diag d;
	struct plugin_host *host = plugin_host_new(&d);
	struct notify *n = host != NULL ? notify_new(st, &(struct notify_opts){.workspace = c->dir,
										.from = cfg.mail_from,
										.timezone = cfg.timezone,
										.host = host},
						     &d)
					: NULL;
	struct notify_stats s = {0};
	time_t now = store_time(st);
	int recovered = 0;
	if (n == NULL || outbox_recover(st, now, &recovered, &d) != 0 ||
	    notify_deliver_due(n, now, 0, &s, &d) != 0)
		rc = cli_diag(&d);
	notify_delete(n);
	plugin_host_delete(host);
	store_close(st);
	config_fini(&cfg);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		return cli_json_out(json_pack("{s:i, s:i, s:i, s:i, s:i}", "sent", s.sent, "retried",
					      s.retried, "failed", s.failed, "expired", s.expired,
					      "unknown", recovered));
	printf("sent %d, to retry %d, failed %d, expired %d", s.sent, s.retried, s.failed, s.expired);
	if (recovered > 0)
		printf(" (%d found unknown after a crash, sent again unless already written)", recovered);
	printf("\n");
	return CLI_OK;
}

static int
outbox_remind_cmd(struct cli *c, int argc, char **argv)
{
	struct oopts o;
	int rc = outbox_opts("outbox remind", argc, argv, &o, 0, 1, 0);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	struct config cfg;
	if ((rc = outbox_open(c, &st, &cfg)) != CLI_OK)
		return rc;
	struct remind_opts ro;
	char domain[CALENDAR_DOMAIN_MAX];
	remind_opts_from_config(&cfg, &ro, domain);
	ro.lead_hours = (int)o.lead;
	int queued = 0, updates = 0;
	struct diag d;
	if (remind_run(st, store_time(st), &ro, &queued, &updates, &d) != 0)
		rc = cli_diag(&d);
	store_close(st);
	config_fini(&cfg);
	if (rc != CLI_OK)
		return rc;
	if (o.json)
		return cli_json_out(json_pack("{s:i, s:i}", "queued", queued, "updates", updates));
	printf("queued %d reminder%s\n", queued, queued == 1 ? "" : "s");
	if (updates > 0)
		printf("queued %d calendar update%s (sessions cancelled or moved after their "
		       "reminder)\n", updates, updates == 1 ? "" : "s");
	return CLI_OK;
}

/* One line per message looked at: retried, expired now, or expired already. */
static void
outbox_retry_say(const struct outbox_retried *r)
{
	char na[STORE_TIME_MAX];
	if (r->status == OUTBOX_PENDING)
		printf("retried '%s' (%s): pending again, due now (it had failed after %d "
		       "attempt%s)\n", r->key, r->channel, r->attempts, r->attempts == 1 ? "" : "s");
	else if (r->retried)
		printf("not retried '%s' (%s): its not_after time %s has passed: expired\n", r->key,
		       r->channel, outbox_time_text(r->not_after, na));
	else
		printf("not retried '%s' (%s): it is expired (not sent before its not_after time "
		       "or its session's end), and stays expired\n", r->key, r->channel);
}

static int
outbox_retry_cmd(struct cli *c, int argc, char **argv)
{
	struct oopts o;
	int rc = outbox_opts("outbox retry", argc, argv, &o, 0, 0, 1);
	if (rc != CLI_OK)
		return rc;
	struct store *st;
	if ((rc = cli_open_store(c, &st)) != CLI_OK)
		return rc;
	struct diag d;
	struct outbox_retried *r = NULL;
	size_t n = 0;
	if (outbox_retry(st, o.key, store_time(st), cli_actor(), &r, &n, &d) != 0) {
		store_close(st);
		return cli_diag(&d);
	}
	store_close(st);
	int retried = 0, expired = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].status == OUTBOX_PENDING)
			retried++;
		else
			expired++;
	if (o.json) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < n; i++) {
			char na[STORE_TIME_MAX];
			json_t *m = json_pack("{s:s, s:s, s:s, s:b, s:i}", "key", r[i].key, "channel",
					      r[i].channel, "status", outbox_status_name(r[i].status),
					      "changed", r[i].retried, "attempts", r[i].attempts);
			if (m != NULL)
				json_object_set_new(m, "not_after",
						    r[i].not_after ? json_string(outbox_time_text(
									     r[i].not_after, na))
								   : json_null());
			if (m == NULL || json_array_append_new(a, m) != 0) {
				json_decref(a);
				a = NULL;
			}
		}
		outbox_retried_free(r, n);
		if (a == NULL)
			return cli_error("out of memory");
		return cli_json_out(json_pack("{s:i, s:i, s:o}", "retried", retried, "expired",
					      expired, "messages", a));
	}
	for (size_t i = 0; i < n; i++)
		outbox_retry_say(&r[i]);
	outbox_retried_free(r, n);
	printf("retried %d, expired %d\n", retried, expired);
	return CLI_OK;
}

int
cmd_outbox(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		outbox_usage(stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || cli_wants_help(argc, argv)) {
		outbox_usage(stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "list") == 0)
		return outbox_list_cmd(c, argc - 1, argv + 1);
	if (strcmp(sub, "send") == 0)
		return outbox_send_cmd(c, argc - 1, argv + 1);
	if (strcmp(sub, "remind") == 0)
		return outbox_remind_cmd(c, argc - 1, argv + 1);
	if (strcmp(sub, "retry") == 0)
		return outbox_retry_cmd(c, argc - 1, argv + 1);
	return cli_usage("outbox", "unknown subcommand '%s'", sub);
}
