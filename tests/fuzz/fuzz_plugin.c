/*
 * fuzz_plugin: plugin declarations (lua/plugin.h) on arbitrary Lua text, of every kind
 * (the text picks its constructor: tandem.policy, cadence, reward, report, job), with the
 * kinds of a plugin host where the policy module registered its own, as `tandem match` does.
 *
 * The file is loaded in this process (limits.isolate = 0: the in-process mode), so the
 * fuzzer's coverage sees the sandbox, the constructors, the validators and the marshalling
 * of the declaration; budgets are lowered (2e6 instructions, 64 MiB) so that loops end fast.
 * Checked:
 *  - a failure's message names the file;
 *  - a plugin loaded has a known kind, a valid name, a version, a description, the API
 *    version, and its hooks sorted, each one reported by plugin_has_hook;
 *  - its declaration as data (what an isolated host rebuilds the plugin from) decodes in
 *    another state (marshal_push) to a table whose encoding is the same bytes again;
 *  - reading the declaration leaves the plugin's stack as it was;
 *  - a policy is accepted by policy_from_plugin (the validator already ran in the
 *    constructor: the host's parse must agree with it).
 */
#include "fuzz.h"

#include <lua.h>

#include "base/buf.h"
#include "lua/marshal.h"
#include "lua/plugin.h"
#include "lua/sandbox.h"
#include "program/policy.h"

static lua_State *scratch;
static struct plugin_host *host;
static struct plugin_host *host; /* the built-in kinds and the policy engine's */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct diag d;
	if ((host = plugin_host_new(&d)) == NULL || policy_register(host, &d) != 0 ||
	    (scratch = plugin_sandbox_new(NULL, &d)) == NULL) {
		fprintf(stderr, "fuzz_plugin: %s\n", d.msg);
		abort();
	}
	return 0;
}

static int
stub(lua_State *L)
{
	(void)L;
	return 0;
}

/* The declaration's bytes decode to a table that encodes to the same bytes. */
static void
check_decl_data(const struct plugin *p)
{
	size_t len;
	const char *data = plugin_decl_data(p, &len);
	FUZZ_CHECK(data != NULL && len > 0);
	struct diag d;
	int top = lua_gettop(scratch);
	FUZZ_CHECK_MSG(marshal_push(scratch, data, len, NULL, stub, &d) == 0, d.msg);
	FUZZ_CHECK(lua_type(scratch, -1) == LUA_TTABLE);
	struct buf again;
	buf_init(&again);
	FUZZ_CHECK_MSG(marshal_encode(scratch, -1, MARSHAL_FUNCTIONS | MARSHAL_SORTED, "decl",
				      &again, &d) == 0,
		       d.msg);
	FUZZ_CHECK(again.len == len && memcmp(again.data, data, len) == 0);
	buf_fini(&again);
	lua_settop(scratch, top);
	lua_gc(scratch, LUA_GCCOLLECT);
}

static void
check_plugin(struct plugin *p)
{
	FUZZ_CHECK((int)plugin_kind(p) >= 0 && plugin_kind(p) < PLUGIN_KIND_COUNT);
	FUZZ_CHECK(plugin_name(p) != NULL && plugin_name_valid(plugin_name(p)));
	FUZZ_CHECK(plugin_version(p) != NULL && plugin_description(p) != NULL);
	FUZZ_CHECK(plugin_api(p) == PLUGIN_API_VERSION);
	FUZZ_CHECK(!plugin_isolated(p));
	struct diag d;
	char **hooks;
	int n = plugin_hooks(p, &hooks, &d);
	FUZZ_CHECK(n >= 0);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(plugin_has_hook(p, hooks[i]));
		if (i > 0)
			FUZZ_CHECK(strcmp(hooks[i - 1], hooks[i]) < 0);
	}
	free(hooks);
	lua_State *L = plugin_state(p);
	int top = lua_gettop(L);
	plugin_push_decl(p);
	FUZZ_CHECK(lua_type(L, -1) == LUA_TTABLE);
	lua_pop(L, 1);
	FUZZ_CHECK(lua_gettop(L) == top);
	check_decl_data(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_write("plugin.lua", data, size);
	char file[512];
	snprintf(file, sizeof(file), "%s", path);
	struct plugin_limits lim = {.instructions = 2000000,
				    .memory = (size_t)64 << 20,
				    .deadline_ms = 2000,
				    .batch_deadline_ms = 2000,
				    .isolate = 0,
				    .isolate_set = 1};
	struct diag d;
	diag_clear(&d);
	struct plugin *p = plugin_load(host, file, &lim, &d);
	if (p == NULL) {
		FUZZ_CHECK_MSG(strstr(d.msg, "plugin.lua") != NULL, d.msg);
		return 0;
	}
	check_plugin(p);
	if (plugin_kind(p) == PLUGIN_POLICY) {
		struct policy *pol = policy_from_plugin(p, &d);
		FUZZ_CHECK_MSG(pol != NULL, d.msg);
		policy_delete(pol);
	} else {
		plugin_delete(p);
	}
	return 0;
}
