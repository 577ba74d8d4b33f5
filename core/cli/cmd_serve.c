/*
 * cli/cmd_serve: `tandem serve`, the background service of the workspace. Parses the
 * options, installs the log sink (text or JSON lines on stderr, serve/log.h), sets up
 * the service's clock (real, or --time-scale N times faster) and hands over to
 * serve_run (serve/serve.h), with the HTTP API on the same loop when --http names an
 * address; --routes prints the API's route table. Exit status: 0 after SIGTERM/SIGINT
 * or a clean --once, 1 when another service holds the workspace or cannot start.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "http/api.h"
#include "http/server.h"
#include "program/config.h"
#include "serve/log.h"
#include "serve/serve.h"
#include "store/store.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: tandem serve [--http ADDR:PORT [--http-public]] [--public-url URL]\n"
		"                    [--time-scale N [--time-from T]] [--log-format text|json] [--once]\n"
		"       tandem serve --routes\n\n"
		"Runs the workspace's background service: due jobs run (plan sessions, send\n"
		"reminders, mark missed sessions, activate matches, the Lua jobs in scripts/),\n"
		"due messages are delivered from the outbox. It sleeps until the next thing is\n"
		"due (no polling) and re-reads that time from the database after every wake.\n"
		"One service per workspace: a second one exits 1 naming the first one's pid.\n\n"
		"Options:\n"
		"  --http ADDR:PORT    also serve the HTTP JSON API on this address, on the same\n"
		"                      loop: 127.0.0.1:8080, [::1]:8080, or a bare PORT (loopback);\n"
		"                      port 0 lets the system pick one (the log names it)\n"
		"  --http-public       allow an --http address that is not loopback (the API is\n"
		"                      then reachable from the network: put TLS in front)\n"
		"  --public-url URL    where participants reach this server (http:// or https://,\n"
		"                      no query): reminders carry check-in links URL/c/TOKEN;\n"
		"                      replaces tandem.lua's workspace{ public_url = }\n"
		"  --routes            print the HTTP API's routes (method, path, scope) and exit\n"
		"  --time-scale N      run a virtual clock N times faster than real time (N >= 1;\n"
		"                      timers are divided by N), for demos and tests. The virtual\n"
		"                      future is written into the database (sessions marked missed\n"
		"                      and reminders sent days early): use a copy of a workspace\n"
		"  --time-from T       with --time-scale: anchor the virtual clock at real time T\n"
		"                      (UTC seconds since the epoch, or YYYY-MM-DDTHH:MM:SSZ):\n"
		"                      virtual now = T + (real now - T) x N, so a restarted\n"
		"                      service continues the same virtual timeline\n"
		"  --log-format F      text (default) or json (one JSON object per line)\n"
		"  --once              run everything due now, then exit (for tests and cron)\n"
		"  -h, --help          print this help\n\n"
		"Signals: SIGTERM and SIGINT finish the running step and exit 0; SIGHUP reloads\n"
		"tandem.lua and the plugins (a broken file keeps the loaded version; the log\n"
		"says why). Logs go to stderr. See docs/service.md and docs/http.md.\n");
}

struct sink {
	enum serve_log_format format;
	struct timescale *ts;
	int debug;
	pid_t pid; /* the service's process */
};

/*
 * The service's virtual now for a log line, -1 on the real clock. In the service's
 * process, the clock its loop last ticked (the time its rows are stamped with). A
 * plugin's worker (print, tandem.log) is a forked child: it inherited this sink with
 * the clock as it was at its fork, and nothing ticks it there, so every line it wrote
 * carried the worker's start (walk2 #13). It reads the timeline for itself instead:
 * the same origin and scale, so the time the service's next tick reads.
 */
static time_t
sink_now(const struct sink *s)
{
	if (s->ts->scale <= 1)
		return -1;
	if (getpid() == s->pid)
		return timescale_now(s->ts);
	struct timescale live = *s->ts;
	timescale_tick(&live);
	return timescale_now(&live);
}

static void
log_sink(void *ud, int level, const char *msg)
{
	struct sink *s = ud;
	if (level == TLOG_DEBUG && !s->debug)
		return;
	struct buf b;
	buf_init(&b);
	time_t now = sink_now(s);
	if (serve_log_line(&b, s->format, time(NULL), now, level, msg, NULL) == 0)
		fputs(b.data, stderr);
	else
		fprintf(stderr, "tandem: %s\n", msg);
	fflush(stderr);
	buf_fini(&b);
}

/* UTC seconds, or YYYY-MM-DDTHH:MM:SSZ. */
static int
parse_time(const char *s, time_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end != s && *end == '\0' && v > 0) {
		*out = (time_t)v;
		return 0;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	char z = 0, extra = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &z, &extra) != 7 || z != 'Z' || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return 0;
}

int
cmd_serve(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"time-scale", required_argument, NULL, 's'},
	    {"time-from", required_argument, NULL, 'f'},
	    {"log-format", required_argument, NULL, 'l'},
	    {"once", no_argument, NULL, 'o'},
	    {"http", required_argument, NULL, 'H'},
	    {"http-public", no_argument, NULL, 'P'},
	    {"public-url", required_argument, NULL, 'U'},
	    {"routes", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	double scale = 1;
	time_t from = 0;
	int once = 0, http_public = 0, routes = 0;
	const char *http = NULL, *public_url = NULL;
	enum serve_log_format format = SERVE_LOG_TEXT;
	optind = 0;
	opterr = 0; /* cli_bad_option says it, once */
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': {
			char *end;
			scale = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !isfinite(scale) || scale < 1 || scale > 1e9)
				return cli_usage("serve", "--time-scale must be a number from 1 to 1e9 (got '%s')",
						 optarg);
			break;
		}
		case 'f':
			if (parse_time(optarg, &from) != 0)
				return cli_usage("serve", "--time-from must be UTC seconds or "
							  "YYYY-MM-DDTHH:MM:SSZ (got '%s')", optarg);
			break;
		case 'l':
			if (serve_log_format_parse(optarg, &format) != 0)
				return cli_usage("serve", "--log-format must be text or json (got '%s')", optarg);
			break;
		case 'o':
			once = 1;
			break;
		case 'H': {
			struct sockaddr_storage ss;
			int loopback;
			struct diag ad;
			if (http_addr_parse(optarg, &ss, &loopback, &ad) != 0)
				return cli_usage("serve", "--http: %s", ad.msg);
			http = optarg;
			break;
		}
		case 'P':
			http_public = 1;
			break;
		case 'U':
			if (!config_public_url_valid(optarg))
				return cli_usage("serve", "--public-url must be an http:// or https:// URL "
							  "without query or fragment (got '%s')", optarg);
			public_url = optarg;
			break;
		case 'r':
			routes = 1;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_bad_option("serve", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage("serve", "unexpected argument '%s'", argv[optind]);
	if (from != 0 && scale <= 1)
		return cli_usage("serve", "--time-from needs --time-scale N with N > 1");
	if (http_public && http == NULL)
		return cli_usage("serve", "--http-public goes with --http ADDR:PORT");
	if (http != NULL && once)
		return cli_usage("serve", "--once serves no HTTP: drop --http or --once");
	if (routes) {
		for (size_t i = 0; i < http_nroutes; i++)
			printf("%-6s %-40s %-6s %s\n", http_routes[i].method, http_routes[i].pattern,
			       http_scope_name(http_routes[i].scope), http_routes[i].summary);
		return CLI_OK;
	}

	/* The database and the config must be there before the lock file is written. */
	struct store *probe;
	if (cli_open_store(c, &probe) != CLI_OK)
		return CLI_FAIL;
	store_close(probe);
	char cfg_path[4096];
	if (cli_need_config(c, cli_ws_path(c, "tandem.lua", cfg_path, sizeof(cfg_path))) != CLI_OK)
		return CLI_FAIL;

	struct timescale ts;
	timescale_init(&ts, scale, from);
	struct sink sink = {.format = format, .ts = &ts, .debug = getenv("TANDEM_DEBUG") != NULL,
			    .pid = getpid()};
	tlog_set_handler(log_sink, &sink);
	if (scale > 1)
		tlog(TLOG_WARN, "--time-scale %g: the virtual clock's future is written into %s "
		     "(sessions marked missed, reminders sent ahead of time): run it on a copy of a "
		     "real workspace", scale, cli_db_path(c));

	struct serve_opts o = {.workspace = c->dir, .db_path = cli_db_path(c), .ts = &ts, .once = once,
			     .http = http, .http_public = http_public, .public_url = public_url};
	struct serve_stats st;
	struct diag d;
	diag_clear(&d);
	long holder = 0;
	int rc = serve_run(&o, &st, &holder, &d);
	if (rc == 1) {
		/* Held: the workspace's lock, by its absolute path ("." says nothing in a log or
		 * to another user), or (d.msg) the lock of the database's folder. */
		char abs[PATH_MAX];
		const char *ws = c->dir ? c->dir : ".";
		if (d.msg[0])
			ws = d.msg;
		else if (realpath(ws, abs) != NULL)
			ws = abs;
		if (holder > 0)
			return cli_error("error: another tandem serve (pid %ld) is running on %s",
					 holder, ws);
		return cli_error("error: another tandem serve is running on %s", ws);
	}
	if (rc != 0) {
		tlog(TLOG_ERROR, "%s", d.msg[0] ? d.msg : "unknown error");
		return CLI_FAIL;
	}
	return CLI_OK;
}
