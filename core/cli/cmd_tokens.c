/*
 * cli/cmd_tokens: `tandem tokens create|list|revoke`, the bearer tokens of the HTTP API
 * (http/tokens.h does the work: only hashes are stored; the token is printed once, by
 * create). The actor of create and revoke is the CLI's user (cli_actor).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "http/tokens.h"
#include "store/store.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: tandem tokens create NAME --scope read|manage|admin [--json]\n"
		"       tandem tokens list [--json]\n"
		"       tandem tokens revoke NAME\n\n"
		"Bearer tokens for the HTTP API (tandem serve --http). A request sends one as\n"
		"'Authorization: Bearer TOKEN'; its scope says what it may do: read (every GET),\n"
		"manage (also the writes: approve, reject, check in, cancel, reschedule), admin\n"
		"(everything). The token's name is the actor of every write made with it.\n\n"
		"  create      make a token and print it, once: only its SHA-256 is stored, so it\n"
		"              cannot be shown again (revoke it and create another if lost).\n"
		"              NAME: 1-64 letters, digits, '.', '_' or '-', never reused\n"
		"  list        every token: name, scope, created, revoked, last used (never the\n"
		"              token itself)\n"
		"  revoke      the token stops working at the server's next request\n\n"
		"Options:\n"
		"  --scope S     read, manage or admin (create)\n"
		"  --json        print JSON\n"
		"  -h, --help    print this help\n");
}

/* NAME and the options of one subcommand. */
struct topts {
	const char *name;
	const char *scope;
	int json;
};

static int
parse(const char *cmd, int argc, char **argv, int want_name, int allow_scope, struct topts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (allow_scope && strcmp(a, "--scope") == 0) {
			if (i + 1 >= argc)
				return cli_usage(cmd, "--scope needs read, manage or admin");
			o->scope = argv[++i];
		} else if (allow_scope && strncmp(a, "--scope=", 8) == 0) {
			o->scope = a + 8;
		} else if (a[0] == '-') {
			return cli_usage(cmd, "unknown option '%s'", a);
		} else if (want_name && o->name == NULL) {
			o->name = a;
		} else {
			return cli_usage(cmd, "unexpected argument '%s'", a);
		}
	}
	if (want_name && o->name == NULL)
		return cli_usage(cmd, "missing the token's NAME");
	return CLI_OK;
}

static int
tokens_create_cmd(struct cli *c, int argc, char **argv)
{
	struct topts o;
	if (parse("tokens create", argc, argv, 1, 1, &o) != CLI_OK)
		return CLI_USAGE;
	enum http_scope scope;
	if (o.scope == NULL)
		return cli_usage("tokens create", "missing --scope read|manage|admin");
	if (http_scope_parse(o.scope, &scope) != 0)
		return cli_usage("tokens create", "--scope must be read, manage or admin (got '%s')",
				 o.scope);
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	char token[TOKENS_TEXT_MAX];
	struct diag d;
	diag_clear(&d);
	int rc = tokens_create(st, o.name, scope, cli_actor(), token, &d);
	store_close(st);
	if (rc != 0)
		return cli_diag(&d);
	if (o.json)
		return cli_json_out(
		    json_pack("{ssssss}", "name", o.name, "scope", o.scope, "token", token));
	printf("token '%s' (%s):\n%s\n", o.name, o.scope, token);
	fprintf(stderr, "tandem: this is the only time the token is shown; keep it secret\n");
	return CLI_OK;
}

static int
tokens_list_cmd(struct cli *c, int argc, char **argv)
{
	struct topts o;
	if (parse("tokens list", argc, argv, 0, 0, &o) != CLI_OK)
		return CLI_USAGE;
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	json_t *list = tokens_list_json(st, &d);
	store_close(st);
	if (list == NULL)
		return cli_diag(&d);
	if (o.json)
		return cli_json_out(list);
	struct cli_table *t = cli_table_new(5);
	const char *head[] = {"NAME", "SCOPE", "CREATED", "REVOKED", "LAST USED"};
	cli_table_add(t, head);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		const char *cells[5];
		const char *keys[] = {"name", "scope", "created_at", "revoked_at", "last_used_at"};
		for (int k = 0; k < 5; k++) {
			const char *s = json_string_value(json_object_get(v, keys[k]));
			cells[k] = s ? s : "-";
		}
		cli_table_add(t, cells);
	}
	cli_table_print(t, stdout);
	cli_table_delete(t);
	json_decref(list);
	return CLI_OK;
}

static int
tokens_revoke_cmd(struct cli *c, int argc, char **argv)
{
	struct topts o;
	if (parse("tokens revoke", argc, argv, 1, 0, &o) != CLI_OK)
		return CLI_USAGE;
	struct store *st;
	if (cli_open_store(c, &st) != CLI_OK)
		return CLI_FAIL;
	struct diag d;
	diag_clear(&d);
	int rc = tokens_revoke(st, o.name, cli_actor(), &d);
	store_close(st);
	if (rc != 0)
		return cli_diag(&d);
	printf("token '%s' revoked\n", o.name);
	return CLI_OK;
}

int
cmd_tokens(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "create") == 0)
		return tokens_create_cmd(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return tokens_list_cmd(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return tokens_revoke_cmd(c, argc - 1, argv + 1);
	fprintf(stderr, "tandem tokens: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
