/*
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "Aiq"

#include "config.h"

#include <inttypes.h>

#include <glib/gi18n-lib.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <string.h>

#include "aiq-error.h"
#include "aiq-json.h"
#include "aiq-sandbox.h"

/*
 * How the sandbox works
 *
 * One lua_State per sandbox. The libraries are opened once into the state's
 * own global table, which no user code ever sees. What user code sees is
 * built at setup time:
 *
 *  - G, a shared table of safe functions: a subset of the base library, our
 *    own next/print/setmetatable, the status functions, and read-only
 *    proxies of string, table, math and utf8 (empty tables whose __index is
 *    the real library and whose __newindex raises). G is reachable from no
 *    user code: it is the upvalue of a C function.
 *  - For every evaluation a fresh, empty environment table E whose protected
 *    metatable's __index (a C function) creates the scope variables on first
 *    access (`inputs`, `item`, `index`, `execution`, `steps`, `secrets`;
 *    `_G` is E itself) and otherwise reads G. The compiled function's _ENV
 *    upvalue is set to E before the call and cleared after it, so globals
 *    assigned by one evaluation are gone in the next.
 *  - The string metatable (shared by all strings) gets `__metatable =
 *    false`, so getmetatable("") cannot reach the real string library.
 *  - setmetatable refuses metatables with __gc: no user code ever runs
 *    outside the evaluation that created it (a finalizer would run in a
 *    later evaluation, under someone else's scope and budget).
 *  - math.randomseed is gone (the generator is shared), string.dump too.
 *
 * Limits. Memory: the allocator refuses to grow the state past its size at
 * the start of the evaluation plus the limit. Instructions: the count hook,
 * which also looks at the clock every AIQ_SANDBOX_HOOK_INTERVAL
 * instructions, because a single instruction can do a lot of work
 * (comparing 8 MiB strings, a 2000-level __index chain, utf8.len of a long
 * string): an evaluation also stops after 2 µs per allowed instruction, at
 * least 2 s. Work in C that neither allocates nor runs instructions is
 * charged to the instruction budget: string.find/match/gmatch/gsub use our
 * own implementation of Lua patterns that counts its steps (the stock one
 * can backtrack for hours), table.insert/remove/move pay for the elements
 * they shift (#t may come from __len), and string.rep never repeats an
 * empty string. Once a limit is hit, the hook fires on every instruction
 * and the message handlers of xpcall are skipped (Lua calls them with
 * hooks disabled when the error comes from a hook), so pcall cannot keep
 * the code running; and the evaluation fails even if the code caught the
 * error.
 *
 * JSON values are converted lazily. An object or array becomes an empty
 * proxy table with a shared, protected metatable; a per-evaluation map
 * (registry slot ref_map) takes each proxy to its JsonNode, or to a cache
 * table holding the node at key `true` and the members already converted.
 * __index converts one member on access; __len answers from the JSON;
 * __newindex, __pairs and our `next` first materialize the level (copy all
 * members into the table and drop the metatable), after which it is an
 * ordinary table. A proxy that comes back unmodified is returned as the
 * original node (a new reference), so `${{ steps.a.output }}` copies
 * nothing. A materialized JSON array is remembered in the map (value
 * `true`) so that it converts back to an array even when empty. The map is
 * dropped at the end of the evaluation, so no JsonNode pointer outlives the
 * scope it came from.
 *
 * Lua errors are longjmps: everything that can raise runs under lua_pcall
 * and the C functions that Lua calls own no GLib memory while they call the
 * Lua API (secret values are pushed through a nested protected call so
 * they are always wiped). Converting results to JSON happens outside any
 * protected call and therefore only uses API functions that never raise
 * and never allocate Lua memory.
 */

/* compiled functions kept per sandbox */
#define AIQ_SANDBOX_CACHE_MAX 1024
#define AIQ_SANDBOX_CACHE_MAX_BYTES (8 * 1024 * 1024)

/* tables nested deeper than this are not converted to JSON */
#define AIQ_SANDBOX_MAX_DEPTH 64

/*
 * The count hook fires at least this often, to look at the clock: some
 * instructions cost far more than others (comparing long strings, scanning
 * them in C, long __index chains), so an evaluation also stops after a time
 * derived from its instruction limit.
 */
#define AIQ_SANDBOX_HOOK_INTERVAL 100
#define AIQ_SANDBOX_USEC_PER_INSTRUCTION 2
#define AIQ_SANDBOX_MIN_TIME_SECONDS 2

typedef enum {
	AIQ_SANDBOX_LIMIT_NONE,
	AIQ_SANDBOX_LIMIT_INSTRUCTIONS,
	AIQ_SANDBOX_LIMIT_MEMORY,
	AIQ_SANDBOX_LIMIT_TIME,
} AiqSandboxLimit;

typedef enum {
	AIQ_SANDBOX_EXPRESSION,
	AIQ_SANDBOX_CHUNK,
} AiqSandboxKind;

typedef struct {
	gchar *source;
	gint ref; /* the compiled function in the registry */
	GHashTable *owner;
	GList link; /* in AiqSandbox.lru */
} AiqSandboxCacheEntry;

struct _AiqSandbox {
	lua_State *L;

	/* the allocator's accounting */
	gsize mem_used;
	gsize mem_limit; /* G_MAXSIZE outside evaluations */

	/* limits for expressions */
	gint64 max_instructions;
	gsize max_memory;

	/* the evaluation under way */
	gboolean running;
	const AiqExprScope *scope;
	gint64 instructions_left;
	gint hook_step;
	gint64 deadline; /* monotonic time */
	AiqSandboxLimit limit_hit;
	gboolean have_map;

	/* registry references made at setup */
	gint ref_env_mt;
	gint ref_lazy_mt;
	gint ref_steps_mt;
	gint ref_secrets_mt;
	gint ref_map; /* false, or the map of the evaluation under way */

	/* compiled functions, most recently used first */
	GHashTable *expressions; /* source -> AiqSandboxCacheEntry */
	GHashTable *chunks;      /* source -> AiqSandboxCacheEntry */
	GQueue lru;
	gsize cache_bytes;
};

static AiqSandbox *
aiq_sandbox_from_lua(lua_State *L)
{
	return *(AiqSandbox **)lua_getextraspace(L);
}

/* limits */

static void
aiq_sandbox_hook(lua_State *L, lua_Debug *ar);

static void
aiq_sandbox_arm_hook(AiqSandbox *self)
{
	gint64 step = MIN(self->instructions_left, AIQ_SANDBOX_HOOK_INTERVAL);
	self->hook_step = (gint)MAX(step, 1);
	lua_sethook(self->L, aiq_sandbox_hook, LUA_MASKCOUNT, self->hook_step);
}

static gint64
aiq_sandbox_time_limit_seconds(gint64 max_instructions)
{
	gint64 per_second = G_USEC_PER_SEC / AIQ_SANDBOX_USEC_PER_INSTRUCTION;
	gint64 seconds = max_instructions / per_second + (max_instructions % per_second != 0);
	return CLAMP(seconds, AIQ_SANDBOX_MIN_TIME_SECONDS, G_MAXINT32);
}

/*
 * Once a limit is hit the hook fires on every instruction, so code that
 * catches the error with pcall cannot go on: each level of pcall is left
 * after at most one more instruction.
 */
static void
aiq_sandbox_set_limit_hit(AiqSandbox *self, AiqSandboxLimit limit)
{
	if (self->limit_hit == AIQ_SANDBOX_LIMIT_NONE)
		self->limit_hit = limit;
	if (self->running) {
		self->instructions_left = 0;
		self->hook_step = 1;
		lua_sethook(self->L, aiq_sandbox_hook, LUA_MASKCOUNT, 1);
	}
}

static void
aiq_sandbox_hook(lua_State *L, lua_Debug *ar)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	self->instructions_left -= self->hook_step;
	if (self->instructions_left <= 0 || self->limit_hit != AIQ_SANDBOX_LIMIT_NONE) {
		aiq_sandbox_set_limit_hit(self, AIQ_SANDBOX_LIMIT_INSTRUCTIONS);
		luaL_error(L, "limit exceeded");
	}
	if (g_get_monotonic_time() > self->deadline) {
		aiq_sandbox_set_limit_hit(self, AIQ_SANDBOX_LIMIT_TIME);
		luaL_error(L, "limit exceeded");
	}
	aiq_sandbox_arm_hook(self);
}

/*
 * Work done in C for Lua code, counted as @n instructions. Raises when the
 * limit is hit.
 */
static void
aiq_sandbox_charge(lua_State *L, gint64 n)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	self->instructions_left -= MAX(n, 0);
	if (self->instructions_left <= 0 || self->limit_hit != AIQ_SANDBOX_LIMIT_NONE) {
		aiq_sandbox_set_limit_hit(self, AIQ_SANDBOX_LIMIT_INSTRUCTIONS);
		luaL_error(L, "limit exceeded");
	}
}

/* osize is a type tag, not a size, when ptr is NULL */
static void *
aiq_sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	AiqSandbox *self = ud;
	gpointer block;

	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		g_free(ptr);
		self->mem_used -= osize;
		return NULL;
	}
	/* shrinking never fails; growing fails past the limit */
	if (nsize > osize && nsize - osize > self->mem_limit - self->mem_used) {
		aiq_sandbox_set_limit_hit(self, AIQ_SANDBOX_LIMIT_MEMORY);
		return NULL;
	}
	block = g_try_realloc(ptr, nsize);
	if (block == NULL)
		return NULL;
	self->mem_used = self->mem_used - osize + nsize;
	return block;
}

static int
aiq_sandbox_panic(lua_State *L)
{
	const gchar *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
	g_error("unprotected error in the expression sandbox: %s", msg);
	return 0;
}

/* JSON to Lua, lazily */

static void
aiq_lua_push_map(AiqSandbox *self, lua_State *L)
{
	if (self->have_map) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, self->ref_map);
		return;
	}
	lua_createtable(L, 0, 4);
	lua_pushvalue(L, -1);
	/* the slot exists, so this does not allocate */
	lua_rawseti(L, LUA_REGISTRYINDEX, self->ref_map);
	self->have_map = TRUE;
}

/*
 * Pushes the map entry of the table at @idx (nil when there is none) and
 * returns the JsonNode of a lazy proxy, or %NULL. Never raises.
 */
static JsonNode *
aiq_lua_lazy_lookup(AiqSandbox *self, lua_State *L, int idx)
{
	JsonNode *node = NULL;

	idx = lua_absindex(L, idx);
	if (!self->have_map || lua_type(L, idx) != LUA_TTABLE) {
		lua_pushnil(L);
		return NULL;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, self->ref_map);
	lua_pushvalue(L, idx);
	lua_rawget(L, -2);
	lua_remove(L, -2);
	if (lua_type(L, -1) == LUA_TLIGHTUSERDATA) {
		node = lua_touserdata(L, -1);
	} else if (lua_type(L, -1) == LUA_TTABLE) {
		lua_pushboolean(L, 1);
		lua_rawget(L, -2);
		node = lua_touserdata(L, -1);
		lua_pop(L, 1);
	}
	return node;
}

static void
aiq_lua_push_json(AiqSandbox *self, lua_State *L, JsonNode *node);

static void
aiq_lua_push_lazy(AiqSandbox *self, lua_State *L, JsonNode *node)
{
	lua_createtable(L, 0, 0);
	lua_rawgeti(L, LUA_REGISTRYINDEX, self->ref_lazy_mt);
	lua_setmetatable(L, -2);
	aiq_lua_push_map(self, L);
	lua_pushvalue(L, -2);
	lua_pushlightuserdata(L, node);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

static void
aiq_lua_push_json(AiqSandbox *self, lua_State *L, JsonNode *node)
{
	if (node == NULL) {
		lua_pushnil(L);
		return;
	}
	switch (JSON_NODE_TYPE(node)) {
	case JSON_NODE_OBJECT:
	case JSON_NODE_ARRAY:
		aiq_lua_push_lazy(self, L, node);
		return;
	case JSON_NODE_VALUE:
		switch (json_node_get_value_type(node)) {
		case G_TYPE_INT64:
			lua_pushinteger(L, json_node_get_int(node));
			return;
		case G_TYPE_DOUBLE:
			lua_pushnumber(L, json_node_get_double(node));
			return;
		case G_TYPE_BOOLEAN:
			lua_pushboolean(L, json_node_get_boolean(node));
			return;
		case G_TYPE_STRING:
			lua_pushstring(L, json_node_get_string(node));
			return;
		default:
			break;
		}
		break;
	case JSON_NODE_NULL:
	default:
		break;
	}
	lua_pushnil(L);
}

/* the member of @node for the Lua key at @key, or %NULL */
static JsonNode *
aiq_lua_json_member(lua_State *L, JsonNode *node, int key)
{
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		if (lua_type(L, key) != LUA_TSTRING)
			return NULL;
		return json_object_get_member(json_node_get_object(node), lua_tostring(L, key));
	}
	if (JSON_NODE_HOLDS_ARRAY(node)) {
		JsonArray *array = json_node_get_array(node);
		int isnum = 0;
		lua_Integer i;
		if (lua_type(L, key) != LUA_TNUMBER)
			return NULL;
		i = lua_tointegerx(L, key, &isnum);
		if (!isnum || i < 1 || (guint64)i > json_array_get_length(array))
			return NULL;
		return json_array_get_element(array, (guint)(i - 1));
	}
	return NULL;
}

/*
 * Turns the lazy proxy at @idx into an ordinary table holding every member
 * (the ones converted already keep their identity).
 */
static void
aiq_lua_lazy_materialize(AiqSandbox *self, lua_State *L, int idx)
{
	JsonNode *node;
	int entry;
	gboolean have_cache;

	idx = lua_absindex(L, idx);
	node = aiq_lua_lazy_lookup(self, L, idx);
	entry = lua_gettop(L);
	have_cache = lua_type(L, entry) == LUA_TTABLE;
	if (node == NULL) {
		lua_pop(L, 1);
		return;
	}
	luaL_checkstack(L, 4, NULL);
	if (JSON_NODE_HOLDS_OBJECT(node)) {
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		json_object_iter_init(&iter, json_node_get_object(node));
		while (json_object_iter_next(&iter, &name, &member)) {
			lua_pushstring(L, name);
			if (have_cache) {
				lua_pushvalue(L, -1);
				lua_rawget(L, entry);
				if (lua_isnil(L, -1)) {
					lua_pop(L, 1);
					aiq_lua_push_json(self, L, member);
				}
			} else {
				aiq_lua_push_json(self, L, member);
			}
			lua_rawset(L, idx);
		}
	} else {
		JsonArray *array = json_node_get_array(node);
		guint len = json_array_get_length(array);
		for (guint i = 0; i < len; i++) {
			if (have_cache && lua_rawgeti(L, entry, (lua_Integer)i + 1) != LUA_TNIL) {
				lua_rawseti(L, idx, (lua_Integer)i + 1);
				continue;
			}
			if (have_cache)
				lua_pop(L, 1);
			aiq_lua_push_json(self, L, json_array_get_element(array, i));
			lua_rawseti(L, idx, (lua_Integer)i + 1);
		}
	}
	/* an ordinary table now; arrays stay known as arrays for the way back */
	lua_pushnil(L);
	lua_setmetatable(L, idx);
	aiq_lua_push_map(self, L);
	lua_pushvalue(L, idx);
	if (JSON_NODE_HOLDS_ARRAY(node))
		lua_pushboolean(L, 1);
	else
		lua_pushnil(L);
	lua_rawset(L, -3);
	lua_pop(L, 2);
}

static int
aiq_lua_lazy_index(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	JsonNode *node;
	JsonNode *member;
	int type;

	lua_settop(L, 2);
	node = aiq_lua_lazy_lookup(self, L, 1); /* 3: the map entry */
	if (node == NULL)
		return 0;
	if (lua_type(L, 3) == LUA_TTABLE) {
		lua_pushvalue(L, 2);
		if (lua_rawget(L, 3) != LUA_TNIL)
			return 1;
		lua_pop(L, 1);
	}
	member = aiq_lua_json_member(L, node, 2);
	if (member == NULL)
		return 0;
	aiq_lua_push_json(self, L, member); /* 4 */
	type = lua_type(L, 4);
	if (type != LUA_TTABLE && type != LUA_TSTRING)
		return 1;

	/* tables keep their identity and long strings are not copied again */
	if (lua_type(L, 3) != LUA_TTABLE) {
		lua_createtable(L, 0, 2);
		lua_pushboolean(L, 1);
		lua_pushlightuserdata(L, node);
		lua_rawset(L, -3);
		lua_replace(L, 3);
		aiq_lua_push_map(self, L);
		lua_pushvalue(L, 1);
		lua_pushvalue(L, 3);
		lua_rawset(L, -3);
		lua_pop(L, 1);
	}
	lua_pushvalue(L, 2);
	lua_pushvalue(L, 4);
	lua_rawset(L, 3);
	lua_settop(L, 4);
	return 1;
}

static int
aiq_lua_lazy_newindex(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	lua_settop(L, 3);
	aiq_lua_lazy_materialize(self, L, 1);
	lua_rawset(L, 1);
	return 0;
}

static int
aiq_lua_lazy_len(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	JsonNode *node = aiq_lua_lazy_lookup(self, L, 1);
	if (node != NULL && JSON_NODE_HOLDS_ARRAY(node))
		lua_pushinteger(L, json_array_get_length(json_node_get_array(node)));
	else
		lua_pushinteger(L, 0);
	return 1;
}

/* next() that sees the members of lazy proxies */
static int
aiq_lua_next(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	aiq_lua_lazy_materialize(self, L, 1);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int
aiq_lua_lazy_pairs(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	lua_settop(L, 1);
	aiq_lua_lazy_materialize(self, L, 1);
	lua_pushcfunction(L, aiq_lua_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* the scope */

static int
aiq_lua_steps_index(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	const AiqExprScope *scope = self->scope;
	JsonNode *output = NULL;
	const gchar *status = NULL;

	lua_settop(L, 2);
	if (scope == NULL || scope->lookup_step == NULL || lua_type(L, 2) != LUA_TSTRING)
		return 0;
	if (!scope->lookup_step(scope->user_data, lua_tostring(L, 2), &output, &status))
		return 0;
	lua_createtable(L, 0, 2);
	aiq_lua_push_json(self, L, output);
	lua_setfield(L, -2, "output");
	if (status != NULL) {
		lua_pushstring(L, status);
		lua_setfield(L, -2, "status");
	}
	/* one lookup per step and evaluation */
	lua_pushvalue(L, 2);
	lua_pushvalue(L, -2);
	lua_rawset(L, 1);
	return 1;
}

static int
aiq_lua_push_string_cb(lua_State *L)
{
	lua_pushstring(L, lua_touserdata(L, 1));
	return 1;
}

static int
aiq_lua_secrets_index(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	const AiqExprScope *scope = self->scope;
	gchar *value;
	int status;

	lua_settop(L, 2);
	if (lua_type(L, 2) != LUA_TSTRING)
		return 0;
	value = scope != NULL && scope->secrets != NULL
			? aiq_secrets_lookup(scope->secrets, lua_tostring(L, 2))
			: NULL;
	/* a missing secret is a clear error here, not a nil that fails later */
	if (value == NULL)
		return luaL_error(L, "secret “%s” is not set on this agent", lua_tostring(L, 2));
	/* a protected push, so that the copy is always wiped and freed */
	lua_pushcfunction(L, aiq_lua_push_string_cb);
	lua_pushlightuserdata(L, value);
	status = lua_pcall(L, 1, 1, 0);
	memset(value, 0, strlen(value));
	g_free(value);
	if (status != LUA_OK)
		return lua_error(L);
	return 1;
}

static int
aiq_lua_env_index(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	const AiqExprScope *scope = self->scope;

	lua_settop(L, 2);
	if (lua_type(L, 2) == LUA_TSTRING) {
		const gchar *name = lua_tostring(L, 2);
		gboolean found = TRUE;
		if (g_str_equal(name, "inputs")) {
			aiq_lua_push_json(self, L, scope != NULL ? scope->inputs : NULL);
		} else if (g_str_equal(name, "item")) {
			aiq_lua_push_json(self, L, scope != NULL ? scope->item : NULL);
		} else if (g_str_equal(name, "index")) {
			if (scope != NULL && scope->index >= 0)
				lua_pushinteger(L, scope->index);
			else
				lua_pushnil(L);
		} else if (g_str_equal(name, "execution")) {
			aiq_lua_push_json(self, L, scope != NULL ? scope->execution : NULL);
		} else if (g_str_equal(name, "steps")) {
			lua_createtable(L, 0, 4);
			lua_rawgeti(L, LUA_REGISTRYINDEX, self->ref_steps_mt);
			lua_setmetatable(L, -2);
		} else if (g_str_equal(name, "secrets")) {
			lua_createtable(L, 0, 0);
			lua_rawgeti(L, LUA_REGISTRYINDEX, self->ref_secrets_mt);
			lua_setmetatable(L, -2);
		} else if (g_str_equal(name, "_G")) {
			lua_pushvalue(L, 1);
		} else {
			found = FALSE;
		}
		if (found) {
			lua_pushvalue(L, 2);
			lua_pushvalue(L, 3);
			lua_rawset(L, 1);
			return 1;
		}
	}
	/* the shared functions, cached in this evaluation's environment */
	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
		lua_pushvalue(L, 2);
		lua_pushvalue(L, 3);
		lua_rawset(L, 1);
	}
	return 1;
}

static int
aiq_lua_success(lua_State *L)
{
	const AiqExprScope *scope = aiq_sandbox_from_lua(L)->scope;
	lua_pushboolean(L, scope != NULL && scope->needs_succeeded);
	return 1;
}

static int
aiq_lua_failure(lua_State *L)
{
	const AiqExprScope *scope = aiq_sandbox_from_lua(L)->scope;
	lua_pushboolean(L, scope != NULL && scope->needs_failed);
	return 1;
}

static int
aiq_lua_always(lua_State *L)
{
	lua_pushboolean(L, 1);
	return 1;
}

static int
aiq_lua_cancelled(lua_State *L)
{
	const AiqExprScope *scope = aiq_sandbox_from_lua(L)->scope;
	lua_pushboolean(L, scope != NULL && scope->cancelled);
	return 1;
}

/* expressions have nowhere to print to */
static int
aiq_lua_print(lua_State *L)
{
	return 0;
}

/* setmetatable() without finalizers; upvalue 1 is the real one */
static int
aiq_lua_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/*
 * The limit error is raised from the count hook, and Lua calls the message
 * handler of xpcall before it resets the flag that disables hooks inside
 * hooks: a handler running then could loop for ever. So once a limit is
 * hit, the user's handler (upvalue 1) is not called at all.
 */
static int
aiq_lua_xpcall_handler(lua_State *L)
{
	AiqSandbox *self = aiq_sandbox_from_lua(L);
	if (self->limit_hit != AIQ_SANDBOX_LIMIT_NONE)
		return 1;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* xpcall(f, msgh, ...); upvalue 1 is the real one */
static int
aiq_lua_xpcall(lua_State *L)
{
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, aiq_lua_xpcall_handler, 1);
	lua_replace(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/*
 * Lua patterns with a budget
 *
 * string.find, match, gmatch and gsub run in C, where the count hook never
 * fires, and a pattern that backtracks (`(".-"):rep(3) .. "x"` against a long
 * subject) can take hours. These implement the patterns of the Lua 5.4
 * manual (§6.4.1) with the same results and error messages, but charge
 * their steps to the evaluation's instruction budget.
 */

#define AIQ_MATCH_MAX_CAPTURES 32
#define AIQ_MATCH_MAX_DEPTH 200
#define AIQ_MATCH_UNFINISHED (-1)
#define AIQ_MATCH_POSITION (-2)
#define AIQ_MATCH_SPECIALS "^$*+?.([%-"
/* steps are counted locally and charged in batches: 1 instruction per 8 */
#define AIQ_MATCH_BATCH 256
#define AIQ_MATCH_BATCH_COST (AIQ_MATCH_BATCH / 8)

typedef struct {
	lua_State *L;
	const gchar *src;
	const gchar *src_end;
	const gchar *pat_end;
	guint depth;
	gint level;
	guint steps;
	struct {
		const gchar *start;
		gssize len; /* or AIQ_MATCH_UNFINISHED, AIQ_MATCH_POSITION */
	} capture[AIQ_MATCH_MAX_CAPTURES];
} AiqMatch;

static void
aiq_match_init(AiqMatch *ms, lua_State *L, const gchar *s, gsize ls, const gchar *p, gsize lp)
{
	ms->L = L;
	ms->src = s;
	ms->src_end = s + ls;
	ms->pat_end = p + lp;
	ms->depth = 0;
	ms->level = 0;
	ms->steps = 0;
}

static void
aiq_match_step(AiqMatch *ms)
{
	if (++ms->steps < AIQ_MATCH_BATCH)
		return;
	ms->steps = 0;
	aiq_sandbox_charge(ms->L, AIQ_MATCH_BATCH_COST);
}

static gboolean
aiq_match_class(guchar c, guchar cl)
{
	gboolean res;
	switch (g_ascii_tolower(cl)) {
	case 'a':
		res = g_ascii_isalpha(c);
		break;
	case 'c':
		res = g_ascii_iscntrl(c);
		break;
	case 'd':
		res = g_ascii_isdigit(c);
		break;
	case 'g':
		res = g_ascii_isgraph(c);
		break;
	case 'l':
		res = g_ascii_islower(c);
		break;
	case 'p':
		res = g_ascii_ispunct(c);
		break;
	case 's':
		res = g_ascii_isspace(c) || c == '\v';
		break;
	case 'u':
		res = g_ascii_isupper(c);
		break;
	case 'w':
		res = g_ascii_isalnum(c);
		break;
	case 'x':
		res = g_ascii_isxdigit(c);
		break;
	case 'z':
		/* deprecated, still in Lua 5.4 */
		res = c == '\0';
		break;
	default:
		/* %x for a non-alphanumeric x is x itself */
		return cl == c;
	}
	return g_ascii_isupper(cl) ? !res : res;
}

/* @p is at `[`, @last at its `]` */
static gboolean
aiq_match_set(guchar c, const gchar *p, const gchar *last)
{
	gboolean found = TRUE;
	if (p[1] == '^') {
		found = FALSE;
		p++;
	}
	while (++p < last) {
		if (*p == '%') {
			p++;
			if (aiq_match_class(c, (guchar)*p))
				return found;
		} else if (p[1] == '-' && p + 2 < last) {
			if ((guchar)p[0] <= c && c <= (guchar)p[2])
				return found;
			p += 2;
		} else if ((guchar)*p == c) {
			return found;
		}
	}
	return !found;
}

/* the end of the single-character class at @p */
static const gchar *
aiq_match_class_end(AiqMatch *ms, const gchar *p)
{
	gchar c = *p++;
	if (c == '%') {
		if (p >= ms->pat_end)
			luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return p + 1;
	}
	if (c == '[') {
		if (*p == '^')
			p++;
		/* the first character of a set is never its end, so `[]]` is `]` */
		do {
			if (p >= ms->pat_end)
				luaL_error(ms->L, "malformed pattern (missing ']')");
			c = *p++;
			if (c == '%' && p < ms->pat_end)
				p++;
		} while (p >= ms->pat_end || *p != ']');
		return p + 1;
	}
	return p;
}

static gboolean
aiq_match_single(AiqMatch *ms, const gchar *s, const gchar *p, const gchar *ep)
{
	guchar c;
	if (s >= ms->src_end)
		return FALSE;
	c = (guchar)*s;
	switch (*p) {
	case '.':
		return TRUE;
	case '%':
		return aiq_match_class(c, (guchar)p[1]);
	case '[':
		return aiq_match_set(c, p, ep - 1);
	default:
		return (guchar)*p == c;
	}
}

static const gchar *
aiq_match(AiqMatch *ms, const gchar *s, const gchar *p);

/* greedy: the longest run first, then shorter ones */
static const gchar *
aiq_match_max_expand(AiqMatch *ms, const gchar *s, const gchar *p, const gchar *ep)
{
	gsize n = 0;
	while (aiq_match_single(ms, s + n, p, ep)) {
		aiq_match_step(ms);
		n++;
	}
	for (;;) {
		const gchar *res = aiq_match(ms, s + n, ep + 1);
		if (res != NULL)
			return res;
		if (n == 0)
			return NULL;
		n--;
	}
}

/* lazy: the shortest run first */
static const gchar *
aiq_match_min_expand(AiqMatch *ms, const gchar *s, const gchar *p, const gchar *ep)
{
	for (;;) {
		const gchar *res = aiq_match(ms, s, ep + 1);
		if (res != NULL)
			return res;
		if (!aiq_match_single(ms, s, p, ep))
			return NULL;
		s++;
	}
}

static const gchar *
aiq_match_open(AiqMatch *ms, const gchar *s, const gchar *p, gssize what)
{
	const gchar *res;
	if (ms->level >= AIQ_MATCH_MAX_CAPTURES)
		luaL_error(ms->L, "too many captures");
	ms->capture[ms->level].start = s;
	ms->capture[ms->level].len = what;
	ms->level++;
	res = aiq_match(ms, s, p);
	if (res == NULL)
		ms->level--;
	return res;
}

static const gchar *
aiq_match_close(AiqMatch *ms, const gchar *s, const gchar *p)
{
	const gchar *res;
	gint l = ms->level - 1;
	while (l >= 0 && ms->capture[l].len != AIQ_MATCH_UNFINISHED)
		l--;
	if (l < 0)
		luaL_error(ms->L, "invalid pattern capture");
	ms->capture[l].len = s - ms->capture[l].start;
	res = aiq_match(ms, s, p);
	if (res == NULL)
		ms->capture[l].len = AIQ_MATCH_UNFINISHED;
	return res;
}

static const gchar *
aiq_match_balance(AiqMatch *ms, const gchar *s, const gchar *p)
{
	gint depth = 1;
	if (p + 1 >= ms->pat_end)
		luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
	if (s >= ms->src_end || *s != p[0])
		return NULL;
	while (++s < ms->src_end) {
		aiq_match_step(ms);
		if (*s == p[1]) {
			if (--depth == 0)
				return s + 1;
		} else if (*s == p[0]) {
			depth++;
		}
	}
	return NULL;
}

static const gchar *
aiq_match_backref(AiqMatch *ms, const gchar *s, gchar digit)
{
	gint l = digit - '1';
	gssize len;
	if (l < 0 || l >= ms->level || ms->capture[l].len == AIQ_MATCH_UNFINISHED)
		luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	len = ms->capture[l].len;
	/* a position capture matches nothing */
	if (len >= 0 && ms->src_end - s >= len && memcmp(ms->capture[l].start, s, (gsize)len) == 0)
		return s + len;
	return NULL;
}

/* the end of the match of @p at @s, or %NULL */
static const gchar *
aiq_match(AiqMatch *ms, const gchar *s, const gchar *p)
{
	if (ms->depth++ >= AIQ_MATCH_MAX_DEPTH)
		luaL_error(ms->L, "pattern too complex");
	while (s != NULL && p < ms->pat_end) {
		const gchar *ep;
		aiq_match_step(ms);
		if (*p == '(') {
			if (p + 1 < ms->pat_end && p[1] == ')')
				s = aiq_match_open(ms, s, p + 2, AIQ_MATCH_POSITION);
			else
				s = aiq_match_open(ms, s, p + 1, AIQ_MATCH_UNFINISHED);
			break;
		}
		if (*p == ')') {
			s = aiq_match_close(ms, s, p + 1);
			break;
		}
		if (*p == '$' && p + 1 == ms->pat_end) {
			s = s == ms->src_end ? s : NULL;
			break;
		}
		if (*p == '%' && p[1] == 'b') {
			s = aiq_match_balance(ms, s, p + 2);
			p += 4;
			continue;
		}
		if (*p == '%' && p[1] == 'f') {
			guchar prev;
			guchar cur;
			p += 2;
			if (*p != '[')
				luaL_error(ms->L, "missing '[' after '%%f' in pattern");
			ep = aiq_match_class_end(ms, p);
			prev = s == ms->src ? '\0' : (guchar)s[-1];
			cur = s < ms->src_end ? (guchar)*s : '\0';
			if (aiq_match_set(prev, p, ep - 1) || !aiq_match_set(cur, p, ep - 1))
				s = NULL;
			p = ep;
			continue;
		}
		if (*p == '%' && g_ascii_isdigit(p[1])) {
			s = aiq_match_backref(ms, s, p[1]);
			p += 2;
			continue;
		}

		/* a single-character class, maybe with a quantifier */
		ep = aiq_match_class_end(ms, p);
		if (ep < ms->pat_end && *ep == '*') {
			s = aiq_match_max_expand(ms, s, p, ep);
			break;
		}
		if (ep < ms->pat_end && *ep == '-') {
			s = aiq_match_min_expand(ms, s, p, ep);
			break;
		}
		if (ep < ms->pat_end && *ep == '+') {
			s = aiq_match_single(ms, s, p, ep) ? aiq_match_max_expand(ms, s + 1, p, ep)
							   : NULL;
			break;
		}
		if (ep < ms->pat_end && *ep == '?') {
			const gchar *res;
			if (aiq_match_single(ms, s, p, ep) &&
			    (res = aiq_match(ms, s + 1, ep + 1)) != NULL) {
				s = res;
				break;
			}
			p = ep + 1;
			continue;
		}
		if (!aiq_match_single(ms, s, p, ep)) {
			s = NULL;
			break;
		}
		s++;
		p = ep;
	}
	ms->depth--;
	return s;
}

static void
aiq_match_push_capture(AiqMatch *ms, gint i, const gchar *s, const gchar *e)
{
	if (i >= ms->level) {
		if (i != 0)
			luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		lua_pushlstring(ms->L, s, (gsize)(e - s));
		return;
	}
	if (ms->capture[i].len == AIQ_MATCH_UNFINISHED)
		luaL_error(ms->L, "unfinished capture");
	if (ms->capture[i].len == AIQ_MATCH_POSITION)
		lua_pushinteger(ms->L, ms->capture[i].start - ms->src + 1);
	else
		lua_pushlstring(ms->L, ms->capture[i].start, (gsize)ms->capture[i].len);
}

/* the captures, or the whole match (@s..@e) when there are none */
static gint
aiq_match_push_captures(AiqMatch *ms, const gchar *s, const gchar *e)
{
	gint n = ms->level == 0 && s != NULL ? 1 : ms->level;
	luaL_checkstack(ms->L, n, "too many captures");
	for (gint i = 0; i < n; i++)
		aiq_match_push_capture(ms, i, s, e);
	return n;
}

/* the 1-based start of a string function's search, as a 0-based offset */
static gsize
aiq_match_start(lua_Integer pos, gsize len)
{
	if (pos > 0)
		return (gsize)pos - 1;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 0;
	return len - (gsize)(-pos);
}

static gboolean
aiq_match_has_specials(const gchar *p, gsize lp)
{
	for (gsize i = 0; i < lp; i++) {
		if (p[i] != '\0' && strchr(AIQ_MATCH_SPECIALS, p[i]) != NULL)
			return TRUE;
	}
	return FALSE;
}

static gint
aiq_lua_str_find_aux(lua_State *L, gboolean find)
{
	gsize ls;
	gsize lp;
	const gchar *s = luaL_checklstring(L, 1, &ls);
	const gchar *p = luaL_checklstring(L, 2, &lp);
	gsize init = aiq_match_start(luaL_optinteger(L, 3, 1), ls);
	AiqMatch ms;
	const gchar *s1;
	gboolean anchor;

	if (init > ls) {
		lua_pushnil(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || !aiq_match_has_specials(p, lp))) {
		const gchar *found = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
		if (found == NULL) {
			lua_pushnil(L);
			return 1;
		}
		lua_pushinteger(L, found - s + 1);
		lua_pushinteger(L, (lua_Integer)(found - s + lp));
		return 2;
	}
	anchor = lp > 0 && *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	aiq_match_init(&ms, L, s, ls, p, lp);
	s1 = s + init;
	do {
		const gchar *e;
		ms.level = 0;
		ms.depth = 0;
		e = aiq_match(&ms, s1, p);
		if (e != NULL) {
			if (!find)
				return aiq_match_push_captures(&ms, s1, e);
			lua_pushinteger(L, s1 - s + 1);
			lua_pushinteger(L, e - s);
			return aiq_match_push_captures(&ms, NULL, NULL) + 2;
		}
	} while (s1++ < ms.src_end && !anchor);
	lua_pushnil(L);
	return 1;
}

static gint
aiq_lua_str_find(lua_State *L)
{
	return aiq_lua_str_find_aux(L, TRUE);
}

static gint
aiq_lua_str_match(lua_State *L)
{
	return aiq_lua_str_find_aux(L, FALSE);
}

typedef struct {
	gsize pos;       /* where the next search starts */
	gssize last_end; /* where the last match ended, or -1 */
} AiqGmatch;

/* upvalues: subject, pattern, state */
static gint
aiq_lua_gmatch_next(lua_State *L)
{
	gsize ls;
	gsize lp;
	const gchar *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
	const gchar *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
	AiqGmatch *gm = lua_touserdata(L, lua_upvalueindex(3));
	AiqMatch ms;

	aiq_match_init(&ms, L, s, ls, p, lp);
	for (const gchar *src = s + gm->pos; src <= ms.src_end; src++) {
		const gchar *e;
		ms.level = 0;
		ms.depth = 0;
		e = aiq_match(&ms, src, p);
		/* no empty match right where the last one ended */
		if (e != NULL && (gm->last_end < 0 || e != s + gm->last_end)) {
			gm->pos = (gsize)(e - s);
			gm->last_end = e - s;
			return aiq_match_push_captures(&ms, src, e);
		}
	}
	gm->pos = ls + 1;
	return 0;
}

static gint
aiq_lua_str_gmatch(lua_State *L)
{
	gsize ls;
	AiqGmatch *gm;

	luaL_checklstring(L, 1, &ls);
	luaL_checkstring(L, 2);
	lua_settop(L, 3);
	gm = lua_newuserdatauv(L, sizeof(AiqGmatch), 0);
	gm->pos = aiq_match_start(luaL_optinteger(L, 3, 1), ls);
	if (gm->pos > ls)
		gm->pos = ls + 1;
	gm->last_end = -1;
	lua_replace(L, 3);
	lua_pushcclosure(L, aiq_lua_gmatch_next, 3);
	return 1;
}

/* the replacement string (argument 3) with %0..%9 and %% */
static void
aiq_match_add_string(AiqMatch *ms, luaL_Buffer *b, const gchar *s, const gchar *e)
{
	lua_State *L = ms->L;
	gsize len;
	const gchar *repl = lua_tolstring(L, 3, &len);
	const gchar *end = repl + len;
	const gchar *p;

	while ((p = memchr(repl, '%', (gsize)(end - repl))) != NULL) {
		luaL_addlstring(b, repl, (gsize)(p - repl));
		p++;
		if (*p == '%') {
			luaL_addchar(b, '%');
		} else if (*p == '0') {
			luaL_addlstring(b, s, (gsize)(e - s));
		} else if (g_ascii_isdigit(*p)) {
			aiq_match_push_capture(ms, *p - '1', s, e);
			luaL_addvalue(b);
		} else {
			luaL_error(L, "invalid use of '%%' in replacement string");
		}
		repl = p + 1;
	}
	luaL_addlstring(b, repl, (gsize)(end - repl));
}

/* appends the replacement of the match @s..@e; %FALSE when it is kept */
static gboolean
aiq_match_add_value(AiqMatch *ms, luaL_Buffer *b, const gchar *s, const gchar *e, gint type)
{
	lua_State *L = ms->L;

	if (type == LUA_TFUNCTION) {
		gint n;
		lua_pushvalue(L, 3);
		n = aiq_match_push_captures(ms, s, e);
		lua_call(L, n, 1);
	} else if (type == LUA_TTABLE) {
		aiq_match_push_capture(ms, 0, s, e);
		lua_gettable(L, 3);
	} else {
		aiq_match_add_string(ms, b, s, e);
		return TRUE;
	}
	if (!lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		luaL_addlstring(b, s, (gsize)(e - s));
		return FALSE;
	}
	if (!lua_isstring(L, -1))
		luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
	luaL_addvalue(b);
	return TRUE;
}

static gint
aiq_lua_str_gsub(lua_State *L)
{
	gsize ls;
	gsize lp;
	const gchar *src = luaL_checklstring(L, 1, &ls);
	const gchar *p = luaL_checklstring(L, 2, &lp);
	const gchar *last_end = NULL;
	gint type = lua_type(L, 3);
	lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
	gboolean anchor = lp > 0 && *p == '^';
	gboolean changed = FALSE;
	lua_Integer n = 0;
	AiqMatch ms;
	luaL_Buffer b;

	luaL_argexpected(L,
			 type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION ||
				 type == LUA_TTABLE,
			 3,
			 "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--;
	}
	aiq_match_init(&ms, L, src, ls, p, lp);
	while (n < max) {
		const gchar *e;
		ms.level = 0;
		ms.depth = 0;
		e = aiq_match(&ms, src, p);
		if (e != NULL && e != last_end) {
			n++;
			changed = aiq_match_add_value(&ms, &b, src, e, type) || changed;
			src = last_end = e;
		} else if (src < ms.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		luaL_addlstring(&b, src, (gsize)(ms.src_end - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

/*
 * Library functions whose loops do not allocate as they go, so that
 * neither limit would stop them: they are charged for their work first,
 * then the real function (upvalue 1) runs.
 */

static gint
aiq_lua_call_upvalue(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* string.rep('', 1e18) would copy nothing 1e18 times */
static gint
aiq_lua_str_rep(lua_State *L)
{
	gsize len;
	gsize len_sep;
	lua_Integer n;
	luaL_checklstring(L, 1, &len);
	n = luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &len_sep);
	if (n > 0 && len + len_sep == 0) {
		lua_settop(L, 0);
		lua_pushliteral(L, "");
		return 1;
	}
	return aiq_lua_call_upvalue(L);
}

/* the elements that table.insert(t, pos, v) moves: #t can come from __len */
static gint
aiq_lua_table_insert(lua_State *L)
{
	int isnum = 0;
	if (lua_gettop(L) == 3 && lua_type(L, 1) == LUA_TTABLE) {
		lua_Integer pos = lua_tointegerx(L, 2, &isnum);
		lua_Integer n = luaL_len(L, 1);
		if (isnum && pos >= 1 && pos <= n)
			aiq_sandbox_charge(L, n - pos + 1);
	}
	return aiq_lua_call_upvalue(L);
}

static gint
aiq_lua_table_remove(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TTABLE) {
		lua_Integer n = luaL_len(L, 1);
		lua_Integer pos = n;
		int isnum = 1;
		if (!lua_isnoneornil(L, 2))
			pos = lua_tointegerx(L, 2, &isnum);
		if (isnum && pos >= 1 && pos < n)
			aiq_sandbox_charge(L, n - pos);
	}
	return aiq_lua_call_upvalue(L);
}

/* table.move({}, 1, 1e15, 2) moves nothing, 1e15 times */
static gint
aiq_lua_table_move(lua_State *L)
{
	int f_isnum = 0;
	int e_isnum = 0;
	lua_Integer f = lua_tointegerx(L, 2, &f_isnum);
	lua_Integer e = lua_tointegerx(L, 3, &e_isnum);
	if (f_isnum && e_isnum && e >= f) {
		lua_Unsigned n = (lua_Unsigned)e - (lua_Unsigned)f;
		aiq_sandbox_charge(L, n >= (lua_Unsigned)G_MAXINT64 ? G_MAXINT64 : (gint64)n + 1);
	}
	return aiq_lua_call_upvalue(L);
}

static void
aiq_lua_wrap_field(lua_State *L, const gchar *name, lua_CFunction wrapper)
{
	lua_getfield(L, -1, name);
	lua_pushcclosure(L, wrapper, 1);
	lua_setfield(L, -2, name);
}

/* read-only library tables */

static int
aiq_lua_readonly_newindex(lua_State *L)
{
	return luaL_error(L,
			  "attempt to modify read-only table '%s'",
			  lua_tostring(L, lua_upvalueindex(1)));
}

/* iterates the library table (upvalue 1) without handing it out */
static int
aiq_lua_readonly_next(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_next(L, lua_upvalueindex(1)))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int
aiq_lua_readonly_pairs(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

static void
aiq_lua_push_readonly(lua_State *L, int lib, const gchar *name)
{
	lib = lua_absindex(L, lib);
	lua_createtable(L, 0, 0);
	lua_createtable(L, 0, 4);
	lua_pushvalue(L, lib);
	lua_setfield(L, -2, "__index");
	lua_pushstring(L, name);
	lua_pushcclosure(L, aiq_lua_readonly_newindex, 1);
	lua_setfield(L, -2, "__newindex");
	lua_pushvalue(L, lib);
	lua_pushcclosure(L, aiq_lua_readonly_next, 1);
	lua_pushcclosure(L, aiq_lua_readonly_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
}

static gint
aiq_lua_ref_protected_metatable(lua_State *L, const luaL_Reg *funcs)
{
	lua_createtable(L, 0, 6);
	luaL_setfuncs(L, funcs, 0);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	return luaL_ref(L, LUA_REGISTRYINDEX);
}

static int
aiq_sandbox_setup_cb(lua_State *L)
{
	AiqSandbox *self = lua_touserdata(L, 1);
	static const gchar *base_names[] = {
		"assert",   "error",  "getmetatable", "ipairs",   "pairs", "pcall",
		"rawequal", "select", "tonumber",     "tostring", "type",  "_VERSION",
	};
	static const struct {
		const gchar *name;
		lua_CFunction open;
	} libs[] = {
		{ LUA_STRLIBNAME, luaopen_string },
		{ LUA_TABLIBNAME, luaopen_table },
		{ LUA_MATHLIBNAME, luaopen_math },
		{ LUA_UTF8LIBNAME, luaopen_utf8 },
	};
	static const luaL_Reg status_funcs[] = {
		{ "success", aiq_lua_success },
		{ "failure", aiq_lua_failure },
		{ "always", aiq_lua_always },
		{ "cancelled", aiq_lua_cancelled },
		{ "next", aiq_lua_next },
		{ "print", aiq_lua_print },
		{ NULL, NULL },
	};
	static const luaL_Reg pattern_funcs[] = {
		{ "find", aiq_lua_str_find },
		{ "match", aiq_lua_str_match },
		{ "gmatch", aiq_lua_str_gmatch },
		{ "gsub", aiq_lua_str_gsub },
		{ NULL, NULL },
	};
	static const luaL_Reg lazy_funcs[] = {
		{ "__index", aiq_lua_lazy_index },
		{ "__newindex", aiq_lua_lazy_newindex },
		{ "__len", aiq_lua_lazy_len },
		{ "__pairs", aiq_lua_lazy_pairs },
		{ NULL, NULL },
	};
	static const luaL_Reg steps_funcs[] = {
		{ "__index", aiq_lua_steps_index },
		{ NULL, NULL },
	};
	static const luaL_Reg secrets_funcs[] = {
		{ "__index", aiq_lua_secrets_index },
		{ NULL, NULL },
	};
	int globals;
	int shared;

	lua_settop(L, 0);
	luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
	globals = lua_gettop(L);
	lua_createtable(L, 0, 32);
	shared = lua_gettop(L);

	for (guint i = 0; i < G_N_ELEMENTS(base_names); i++) {
		lua_getfield(L, globals, base_names[i]);
		lua_setfield(L, shared, base_names[i]);
	}
	luaL_setfuncs(L, status_funcs, 0);
	lua_getfield(L, globals, "setmetatable");
	lua_pushcclosure(L, aiq_lua_setmetatable, 1);
	lua_setfield(L, shared, "setmetatable");
	lua_getfield(L, globals, "xpcall");
	lua_pushcclosure(L, aiq_lua_xpcall, 1);
	lua_setfield(L, shared, "xpcall");

	for (guint i = 0; i < G_N_ELEMENTS(libs); i++) {
		luaL_requiref(L, libs[i].name, libs[i].open, 0);
		if (g_str_equal(libs[i].name, LUA_STRLIBNAME)) {
			lua_pushnil(L);
			lua_setfield(L, -2, "dump");
			luaL_setfuncs(L, pattern_funcs, 0);
			aiq_lua_wrap_field(L, "rep", aiq_lua_str_rep);
		} else if (g_str_equal(libs[i].name, LUA_TABLIBNAME)) {
			aiq_lua_wrap_field(L, "insert", aiq_lua_table_insert);
			aiq_lua_wrap_field(L, "remove", aiq_lua_table_remove);
			aiq_lua_wrap_field(L, "move", aiq_lua_table_move);
		} else if (g_str_equal(libs[i].name, LUA_MATHLIBNAME)) {
			/* the generator is shared: nobody may make it predictable */
			lua_pushnil(L);
			lua_setfield(L, -2, "randomseed");
		}
		aiq_lua_push_readonly(L, -1, libs[i].name);
		lua_setfield(L, shared, libs[i].name);
		lua_pop(L, 1);
	}

	/* getmetatable("") must not hand out the string library */
	lua_pushliteral(L, "");
	if (!lua_getmetatable(L, -1))
		return luaL_error(L, "strings have no metatable");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);

	lua_createtable(L, 0, 2);
	lua_pushvalue(L, shared);
	lua_pushcclosure(L, aiq_lua_env_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	self->ref_env_mt = luaL_ref(L, LUA_REGISTRYINDEX);

	self->ref_lazy_mt = aiq_lua_ref_protected_metatable(L, lazy_funcs);
	self->ref_steps_mt = aiq_lua_ref_protected_metatable(L, steps_funcs);
	self->ref_secrets_mt = aiq_lua_ref_protected_metatable(L, secrets_funcs);

	/* a slot that later holds each evaluation's map */
	lua_pushboolean(L, 0);
	self->ref_map = luaL_ref(L, LUA_REGISTRYINDEX);

	lua_settop(L, 0);
	return 0;
}

/**
 * aiq_sandbox_new:
 *
 * Returns: (transfer full): a new sandbox with the default limits
 */
AiqSandbox *
aiq_sandbox_new(void)
{
	AiqSandbox *self = g_new0(AiqSandbox, 1);

	self->mem_limit = G_MAXSIZE;
	self->max_instructions = AIQ_SANDBOX_DEFAULT_INSTRUCTIONS;
	self->max_memory = AIQ_SANDBOX_DEFAULT_MEMORY;
	self->expressions = g_hash_table_new(g_str_hash, g_str_equal);
	self->chunks = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&self->lru);

	self->L = lua_newstate(aiq_sandbox_alloc, self);
	if (self->L == NULL)
		g_error("cannot create a Lua state: out of memory");
	*(AiqSandbox **)lua_getextraspace(self->L) = self;
	lua_atpanic(self->L, aiq_sandbox_panic);
	lua_pushcfunction(self->L, aiq_sandbox_setup_cb);
	lua_pushlightuserdata(self->L, self);
	if (lua_pcall(self->L, 1, 0, 0) != LUA_OK)
		g_error("cannot set up the expression sandbox: %s", lua_tostring(self->L, -1));
	return self;
}

static void
aiq_sandbox_cache_entry_free(AiqSandboxCacheEntry *entry)
{
	g_free(entry->source);
	g_free(entry);
}

void
aiq_sandbox_free(AiqSandbox *self)
{
	GList *link;

	if (self == NULL)
		return;
	g_return_if_fail(!self->running);
	lua_close(self->L);
	while ((link = g_queue_pop_head_link(&self->lru)) != NULL)
		aiq_sandbox_cache_entry_free(link->data);
	g_hash_table_unref(self->expressions);
	g_hash_table_unref(self->chunks);
	g_free(self);
}

static GPrivate aiq_sandbox_default_key = G_PRIVATE_INIT((GDestroyNotify)aiq_sandbox_free);

/**
 * aiq_sandbox_get_default:
 *
 * Returns: (transfer none): the calling thread's sandbox, created on first
 * use and freed when the thread exits
 */
AiqSandbox *
aiq_sandbox_get_default(void)
{
	AiqSandbox *self = g_private_get(&aiq_sandbox_default_key);
	if (self == NULL) {
		self = aiq_sandbox_new();
		g_private_set(&aiq_sandbox_default_key, self);
	}
	return self;
}

/**
 * aiq_sandbox_set_limits:
 * @max_instructions: Lua VM instructions per evaluation
 * @max_memory: bytes an evaluation may add to the state
 *
 * Sets the limits of aiq_sandbox_eval() and aiq_sandbox_compile().
 */
void
aiq_sandbox_set_limits(AiqSandbox *self, gint64 max_instructions, gsize max_memory)
{
	g_return_if_fail(self != NULL);
	g_return_if_fail(max_instructions > 0);
	g_return_if_fail(max_memory > 0);
	self->max_instructions = max_instructions;
	self->max_memory = max_memory;
}

/* the compile cache */

static void
aiq_sandbox_cache_trim(AiqSandbox *self)
{
	/* never the newest entry: it may be running */
	while (self->lru.length > 1 && (self->lru.length > AIQ_SANDBOX_CACHE_MAX ||
					self->cache_bytes > AIQ_SANDBOX_CACHE_MAX_BYTES)) {
		GList *link = g_queue_pop_tail_link(&self->lru);
		AiqSandboxCacheEntry *entry = link->data;
		g_hash_table_remove(entry->owner, entry->source);
		self->cache_bytes -= strlen(entry->source);
		/* writes to existing registry slots only: never raises */
		luaL_unref(self->L, LUA_REGISTRYINDEX, entry->ref);
		aiq_sandbox_cache_entry_free(entry);
	}
}

static void
aiq_sandbox_cache_add(AiqSandbox *self, GHashTable *owner, const gchar *source, gint ref)
{
	AiqSandboxCacheEntry *entry = g_new0(AiqSandboxCacheEntry, 1);
	entry->source = g_strdup(source);
	entry->ref = ref;
	entry->owner = owner;
	entry->link.data = entry;
	g_hash_table_insert(owner, entry->source, entry);
	g_queue_push_head_link(&self->lru, &entry->link);
	self->cache_bytes += strlen(source);
	aiq_sandbox_cache_trim(self);
}

static gint
aiq_sandbox_cache_lookup(AiqSandbox *self, GHashTable *owner, const gchar *source)
{
	AiqSandboxCacheEntry *entry = g_hash_table_lookup(owner, source);
	if (entry == NULL)
		return LUA_NOREF;
	g_queue_unlink(&self->lru, &entry->link);
	g_queue_push_head_link(&self->lru, &entry->link);
	return entry->ref;
}

/* running code */

typedef struct {
	AiqSandbox *self;
	const gchar *code;
	gsize code_len;
	const gchar *chunkname;
	gint ref;              /* in: the cached function or LUA_NOREF; out: its ref */
	gboolean compiled_new; /* @ref is new and must go into the cache */
	gboolean compile_failed;
	gboolean run;
} AiqSandboxCall;

/*
 * Protected: compiles (unless cached) and, with @run, calls the function in
 * a fresh environment. Leaves the function and its result, or the compile
 * error message alone.
 */
static int
aiq_sandbox_call_cb(lua_State *L)
{
	AiqSandboxCall *call = lua_touserdata(L, 1);

	lua_settop(L, 0);
	if (call->ref == LUA_NOREF) {
		if (luaL_loadbufferx(L, call->code, call->code_len, call->chunkname, "t") !=
		    LUA_OK) {
			call->compile_failed = TRUE;
			return 1;
		}
		lua_pushvalue(L, 1);
		call->ref = luaL_ref(L, LUA_REGISTRYINDEX);
		call->compiled_new = TRUE;
	} else {
		lua_rawgeti(L, LUA_REGISTRYINDEX, call->ref);
	}
	if (!call->run)
		return 1;
	lua_createtable(L, 0, 4);
	lua_rawgeti(L, LUA_REGISTRYINDEX, call->self->ref_env_mt);
	lua_setmetatable(L, -2);
	if (lua_setupvalue(L, 1, 1) == NULL)
		return luaL_error(L, "compiled code has no environment");
	lua_pushvalue(L, 1);
	lua_call(L, 0, 1);
	return 2;
}

static guint
aiq_count_lines(const gchar *text)
{
	guint lines = 1;
	for (const gchar *p = text; *p != '\0'; p++) {
		if (*p == '\n')
			lines++;
	}
	return lines;
}

/*
 * Lua says `expression:1: attempt to …`; users read `expression: attempt
 * to …`, or `script: line 3: attempt to …`.
 */
static gchar *
aiq_sandbox_clean_message(const gchar *msg, const gchar *name, guint max_line, gboolean always_line)
{
	gsize name_len = strlen(name);
	if (strncmp(msg, name, name_len) == 0 && msg[name_len] == ':' &&
	    g_ascii_isdigit(msg[name_len + 1])) {
		const gchar *p = msg + name_len + 1;
		guint64 line = g_ascii_strtoull(p, (gchar **)&p, 10);
		if (*p == ':') {
			p++;
			while (*p == ' ')
				p++;
			line = CLAMP(line, 1, max_line);
			if (line == 1 && !always_line)
				return g_strdup_printf("%s: %s", name, p);
			return g_strdup_printf(_("%s: line %u: %s"), name, (guint)line, p);
		}
	}
	return g_strdup_printf("%s: %s", name, msg);
}

static gchar *
aiq_sandbox_format_size(gsize bytes)
{
	if (bytes % (1024 * 1024) == 0)
		return g_strdup_printf("%" G_GSIZE_FORMAT " MiB", bytes / (1024 * 1024));
	if (bytes % 1024 == 0)
		return g_strdup_printf("%" G_GSIZE_FORMAT " KiB", bytes / 1024);
	return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static const gchar *
aiq_sandbox_kind_name(AiqSandboxKind kind)
{
	return kind == AIQ_SANDBOX_CHUNK ? "script" : "expression";
}

/* the error at the top of the stack, or the limit that was hit */
static void
aiq_sandbox_set_error(AiqSandbox *self,
		      AiqSandboxKind kind,
		      const gchar *source,
		      const AiqExprScope *scope,
		      gint64 max_instructions,
		      gsize max_memory,
		      GError **error)
{
	lua_State *L = self->L;
	const gchar *name = aiq_sandbox_kind_name(kind);
	g_autofree gchar *raw = NULL;
	g_autofree gchar *clean = NULL;
	g_autofree gchar *masked = NULL;

	if (self->limit_hit == AIQ_SANDBOX_LIMIT_INSTRUCTIONS) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_LIMIT_EXCEEDED,
			    _("%s ran more than %" PRId64 " instructions"),
			    name,
			    max_instructions);
		return;
	}
	if (self->limit_hit == AIQ_SANDBOX_LIMIT_TIME) {
		guint seconds = (guint)aiq_sandbox_time_limit_seconds(max_instructions);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_LIMIT_EXCEEDED,
			    ngettext("%s ran for more than %u second",
				     "%s ran for more than %u seconds",
				     seconds),
			    name,
			    seconds);
		return;
	}
	if (self->limit_hit == AIQ_SANDBOX_LIMIT_MEMORY) {
		g_autofree gchar *size = aiq_sandbox_format_size(max_memory);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_LIMIT_EXCEEDED,
			    _("%s used more than %s of memory"),
			    name,
			    size);
		return;
	}

	/* no conversion of the error object: that could run Lua code */
	switch (lua_type(L, -1)) {
	case LUA_TSTRING: {
		size_t len = 0;
		const gchar *msg = lua_tolstring(L, -1, &len);
		raw = g_utf8_make_valid(msg, (gssize)len);
		break;
	}
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1))
			raw = g_strdup_printf("%lld", (long long)lua_tointeger(L, -1));
		else
			raw = g_strdup_printf("%.14g", (double)lua_tonumber(L, -1));
		break;
	default:
		raw = g_strdup_printf(_("error object is a %s value"),
				      lua_typename(L, lua_type(L, -1)));
		break;
	}
	clean = aiq_sandbox_clean_message(raw,
					  name,
					  aiq_count_lines(source),
					  kind == AIQ_SANDBOX_CHUNK);
	masked = aiq_secrets_mask_string(scope != NULL ? scope->secrets : NULL, clean);
	g_set_error_literal(error, AIQ_ERROR, AIQ_ERROR_EXPRESSION, masked);
}

static gboolean
aiq_str_is_blank(const gchar *str)
{
	for (const gchar *p = str; *p != '\0'; p++) {
		if (!g_ascii_isspace(*p))
			return FALSE;
	}
	return TRUE;
}

/* puts the state back as it was before aiq_sandbox_run() */
static void
aiq_sandbox_finish(AiqSandbox *self, gint ref)
{
	lua_State *L = self->L;

	lua_sethook(L, NULL, 0, 0);
	lua_settop(L, 0);
	if (ref != LUA_NOREF && ref != LUA_REFNIL) {
		/* let the environment and what it holds be collected */
		lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
		lua_pushnil(L);
		lua_setupvalue(L, -2, 1);
		lua_pop(L, 1);
	}
	if (self->have_map) {
		lua_pushboolean(L, 0);
		lua_rawseti(L, LUA_REGISTRYINDEX, self->ref_map);
		self->have_map = FALSE;
	}
	self->scope = NULL;
	self->running = FALSE;
	self->mem_limit = G_MAXSIZE;
	if (self->limit_hit != AIQ_SANDBOX_LIMIT_NONE)
		lua_gc(L, LUA_GCCOLLECT, 0);
	self->limit_hit = AIQ_SANDBOX_LIMIT_NONE;
}

/*
 * Compiles @source (or finds it in the cache) and, with @run, runs it. On
 * success with @run, the result is at the top of the stack and the caller
 * must call aiq_sandbox_finish() with *@ref_out after reading it.
 */
static gboolean
aiq_sandbox_run(AiqSandbox *self,
		AiqSandboxKind kind,
		const gchar *source,
		const AiqExprScope *scope,
		gboolean run,
		gint64 max_instructions,
		gsize max_memory,
		gint *ref_out,
		GError **error)
{
	lua_State *L = self->L;
	GHashTable *owner = kind == AIQ_SANDBOX_CHUNK ? self->chunks : self->expressions;
	g_autofree gchar *wrapped = NULL;
	AiqSandboxCall call = {
		.self = self,
		.ref = aiq_sandbox_cache_lookup(self, owner, source),
		.run = run,
	};
	int status;

	if (self->running) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_FAILED,
				    _("the expression sandbox is already running code"));
		return FALSE;
	}
	if (kind == AIQ_SANDBOX_EXPRESSION && aiq_str_is_blank(source)) {
		g_set_error_literal(error,
				    AIQ_ERROR,
				    AIQ_ERROR_EXPRESSION,
				    _("expression is empty"));
		return FALSE;
	}
	if (call.ref == LUA_NOREF) {
		if (kind == AIQ_SANDBOX_EXPRESSION) {
			/* the newline ends a trailing `--` comment */
			wrapped = g_strconcat("return (", source, "\n)", NULL);
			call.code = wrapped;
			call.chunkname = "=expression";
		} else {
			call.code = source;
			call.chunkname = "=script";
		}
		call.code_len = strlen(call.code);
	}

	self->running = TRUE;
	self->scope = scope;
	self->limit_hit = AIQ_SANDBOX_LIMIT_NONE;
	self->mem_limit =
		max_memory > G_MAXSIZE - self->mem_used ? G_MAXSIZE : self->mem_used + max_memory;
	self->instructions_left = max_instructions;
	self->deadline = g_get_monotonic_time() +
			 aiq_sandbox_time_limit_seconds(max_instructions) * G_USEC_PER_SEC;
	if (run)
		aiq_sandbox_arm_hook(self);

	lua_settop(L, 0);
	if (!lua_checkstack(L, 8))
		g_error("cannot grow the Lua stack");
	lua_pushcfunction(L, aiq_sandbox_call_cb);
	lua_pushlightuserdata(L, &call);
	status = lua_pcall(L, 1, LUA_MULTRET, 0);
	lua_sethook(L, NULL, 0, 0);
	self->mem_limit = G_MAXSIZE;

	if (call.compiled_new)
		aiq_sandbox_cache_add(self, owner, source, call.ref);
	if (status != LUA_OK || call.compile_failed || self->limit_hit != AIQ_SANDBOX_LIMIT_NONE) {
		if (lua_gettop(L) == 0)
			lua_pushnil(L);
		aiq_sandbox_set_error(self,
				      kind,
				      source,
				      scope,
				      max_instructions,
				      max_memory,
				      error);
		aiq_sandbox_finish(self, call.ref);
		return FALSE;
	}
	if (!run) {
		aiq_sandbox_finish(self, call.ref);
		return TRUE;
	}
	*ref_out = call.ref;
	return TRUE;
}

/* Lua to JSON */

typedef struct {
	AiqSandbox *self;
	lua_State *L;
	const gchar *name; /* expression or script */
	gsize budget;      /* bytes of output still allowed */
	gsize max_output;
	guint depth;
	const void *path[AIQ_SANDBOX_MAX_DEPTH + 1];
} AiqLuaToJson;

typedef struct {
	const gchar *key;
	gsize key_len;
	JsonNode *value;
} AiqLuaMember;

static gboolean
aiq_lua_to_json_charge(AiqLuaToJson *ctx, gsize bytes, GError **error)
{
	if (bytes <= ctx->budget) {
		ctx->budget -= bytes;
		return TRUE;
	}
	{
		g_autofree gchar *size = aiq_sandbox_format_size(ctx->max_output);
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_LIMIT_EXCEEDED,
			    _("%s returned a value larger than %s"),
			    ctx->name,
			    size);
	}
	return FALSE;
}

static gboolean
aiq_lua_check_text(AiqLuaToJson *ctx, const gchar *text, gsize len, GError **error)
{
	/* also refuses NUL, which JSON strings cannot hold here */
	if (!g_utf8_validate_len(text, len, NULL)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_EXPRESSION,
			    _("%s returned text that is not valid UTF-8"),
			    ctx->name);
		return FALSE;
	}
	return TRUE;
}

static gint
aiq_lua_member_cmp(gconstpointer a, gconstpointer b)
{
	const AiqLuaMember *ma = a;
	const AiqLuaMember *mb = b;
	gint rc = memcmp(ma->key, mb->key, MIN(ma->key_len, mb->key_len));
	if (rc != 0)
		return rc;
	return ma->key_len < mb->key_len ? -1 : ma->key_len > mb->key_len ? 1 : 0;
}

static void
aiq_lua_member_clear(gpointer data)
{
	AiqLuaMember *member = data;
	g_clear_pointer(&member->value, json_node_unref);
}

static JsonNode *
aiq_lua_to_json(AiqLuaToJson *ctx, int idx, GError **error);

static JsonNode *
aiq_lua_table_to_json(AiqLuaToJson *ctx, int idx, GError **error)
{
	lua_State *L = ctx->L;
	int top = lua_gettop(L);
	const void *ptr = lua_topointer(L, idx);
	gboolean json_array = FALSE;
	gsize count = 0;
	gsize n_strings = 0;
	lua_Integer max_index = 0;
	gboolean other_keys = FALSE;
	JsonNode *node;

	/* a JSON value that came in and was not changed goes back as it was */
	node = aiq_lua_lazy_lookup(ctx->self, L, idx);
	json_array = lua_type(L, -1) == LUA_TBOOLEAN;
	lua_settop(L, top);
	if (node != NULL)
		return json_node_ref(node);

	for (guint i = 0; i < ctx->depth; i++) {
		if (ctx->path[i] == ptr) {
			g_set_error(error,
				    AIQ_ERROR,
				    AIQ_ERROR_EXPRESSION,
				    _("%s returned a table that contains itself"),
				    ctx->name);
			return NULL;
		}
	}
	if (ctx->depth >= AIQ_SANDBOX_MAX_DEPTH) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_EXPRESSION,
			    _("%s returned tables nested deeper than %u levels"),
			    ctx->name,
			    (guint)AIQ_SANDBOX_MAX_DEPTH);
		return NULL;
	}
	if (!lua_checkstack(L, 6)) {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_LIMIT_EXCEEDED,
			    _("%s returned a value too large to convert"),
			    ctx->name);
		return NULL;
	}

	/* what kind of keys? lua_type and lua_tointeger do not convert keys */
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		count++;
		if (lua_type(L, -2) == LUA_TSTRING)
			n_strings++;
		else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1)
			max_index = MAX(max_index, lua_tointeger(L, -2));
		else
			other_keys = TRUE;
		lua_pop(L, 1);
	}

	ctx->path[ctx->depth++] = ptr;
	if (count == 0) {
		node = json_array ? aiq_json_new_array(json_array_new())
				  : aiq_json_new_object(json_object_new());
	} else if (!other_keys && n_strings == 0 && ((gsize)max_index == count || json_array)) {
		/* a sequence 1..n; arrays that came from JSON may have holes (nulls) */
		JsonArray *array = json_array_sized_new(MIN((guint)count, 1024u));
		node = aiq_json_new_array(array);
		for (lua_Integer i = 1; i <= max_index; i++) {
			JsonNode *elem;
			lua_rawgeti(L, idx, i);
			elem = aiq_lua_to_json(ctx, lua_gettop(L), error);
			lua_settop(L, top);
			if (elem == NULL) {
				g_clear_pointer(&node, json_node_unref);
				break;
			}
			json_array_add_element(array, elem);
		}
	} else if (n_strings == count) {
		/* sorted, so that the same table always gives the same text */
		g_autoptr(GArray) members =
			g_array_sized_new(FALSE, TRUE, sizeof(AiqLuaMember), count);
		g_array_set_clear_func(members, aiq_lua_member_clear);
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			AiqLuaMember member = { 0 };
			member.key = lua_tolstring(L, -2, &member.key_len);
			if (!aiq_lua_check_text(ctx, member.key, member.key_len, error) ||
			    !aiq_lua_to_json_charge(ctx, member.key_len, error))
				break;
			member.value = aiq_lua_to_json(ctx, lua_gettop(L), error);
			if (member.value == NULL)
				break;
			g_array_append_val(members, member);
			lua_pop(L, 1);
		}
		lua_settop(L, top);
		if (members->len == count) {
			JsonObject *object = json_object_new();
			g_array_sort(members, aiq_lua_member_cmp);
			for (guint i = 0; i < members->len; i++) {
				AiqLuaMember *member = &g_array_index(members, AiqLuaMember, i);
				json_object_set_member(object,
						       member->key,
						       g_steal_pointer(&member->value));
			}
			node = aiq_json_new_object(object);
		}
	} else {
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_EXPRESSION,
			    _("%s returned a table whose keys are neither all strings nor 1…n"),
			    ctx->name);
	}
	ctx->depth--;
	lua_settop(L, top);
	return node;
}

static JsonNode *
aiq_lua_to_json(AiqLuaToJson *ctx, int idx, GError **error)
{
	lua_State *L = ctx->L;

	if (!aiq_lua_to_json_charge(ctx, 16, error))
		return NULL;
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return json_node_new(JSON_NODE_NULL);
	case LUA_TBOOLEAN:
		return aiq_json_new_bool(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			return aiq_json_new_int(lua_tointeger(L, idx));
		} else {
			gdouble value = lua_tonumber(L, idx);
			JsonNode *node;
			if (!isfinite(value)) {
				g_set_error(error,
					    AIQ_ERROR,
					    AIQ_ERROR_EXPRESSION,
					    _("%s returned a number JSON cannot hold"),
					    ctx->name);
				return NULL;
			}
			node = json_node_new(JSON_NODE_VALUE);
			json_node_set_double(node, value);
			return node;
		}
	case LUA_TSTRING: {
		size_t len = 0;
		const gchar *text = lua_tolstring(L, idx, &len);
		if (!aiq_lua_check_text(ctx, text, len, error) ||
		    !aiq_lua_to_json_charge(ctx, len, error))
			return NULL;
		return aiq_json_new_string(text);
	}
	case LUA_TTABLE:
		return aiq_lua_table_to_json(ctx, idx, error);
	default:
		g_set_error(error,
			    AIQ_ERROR,
			    AIQ_ERROR_EXPRESSION,
			    _("%s returned a %s"),
			    ctx->name,
			    lua_typename(L, lua_type(L, idx)));
		return NULL;
	}
}

static JsonNode *
aiq_sandbox_result_to_json(AiqSandbox *self, AiqSandboxKind kind, gsize max_memory, GError **error)
{
	AiqLuaToJson ctx = {
		.self = self,
		.L = self->L,
		.name = aiq_sandbox_kind_name(kind),
		.budget = max_memory,
		.max_output = max_memory,
	};
	return aiq_lua_to_json(&ctx, lua_gettop(self->L), error);
}

/* the public API */

/**
 * aiq_sandbox_compile:
 * @expr: the text inside `${{ }}`
 *
 * Compiles @expr (and keeps it for aiq_sandbox_eval()) without running it.
 *
 * Returns: %FALSE with %AIQ_ERROR_EXPRESSION when it does not compile
 */
gboolean
aiq_sandbox_compile(AiqSandbox *self, const gchar *expr, GError **error)
{
	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(expr != NULL, FALSE);
	return aiq_sandbox_run(self,
			       AIQ_SANDBOX_EXPRESSION,
			       expr,
			       NULL,
			       FALSE,
			       self->max_instructions,
			       self->max_memory,
			       NULL,
			       error);
}

/**
 * aiq_sandbox_compile_chunk:
 * @code: Lua statements, as for aiq_sandbox_run_chunk()
 */
gboolean
aiq_sandbox_compile_chunk(AiqSandbox *self, const gchar *code, GError **error)
{
	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(code != NULL, FALSE);
	return aiq_sandbox_run(self,
			       AIQ_SANDBOX_CHUNK,
			       code,
			       NULL,
			       FALSE,
			       self->max_instructions,
			       self->max_memory,
			       NULL,
			       error);
}

/**
 * aiq_sandbox_eval:
 * @expr: the text inside `${{ }}`, a Lua expression
 * @scope: (nullable): what the expression can see
 *
 * Returns: (transfer full): the value as JSON (a null node for nil), or
 * %NULL with %AIQ_ERROR_EXPRESSION or %AIQ_ERROR_LIMIT_EXCEEDED
 */
JsonNode *
aiq_sandbox_eval(AiqSandbox *self, const gchar *expr, const AiqExprScope *scope, GError **error)
{
	JsonNode *result;
	gint ref = LUA_NOREF;

	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(expr != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!aiq_sandbox_run(self,
			     AIQ_SANDBOX_EXPRESSION,
			     expr,
			     scope,
			     TRUE,
			     self->max_instructions,
			     self->max_memory,
			     &ref,
			     error))
		return NULL;
	result = aiq_sandbox_result_to_json(self, AIQ_SANDBOX_EXPRESSION, self->max_memory, error);
	aiq_sandbox_finish(self, ref);
	return result;
}

/**
 * aiq_sandbox_eval_boolean:
 * @expr: the text inside `${{ }}`
 * @scope: (nullable): what the expression can see
 * @result: (out): the value's truth in Lua: %FALSE for nil and false only
 *
 * Evaluates a condition (`if:`) without converting the value to JSON.
 */
gboolean
aiq_sandbox_eval_boolean(AiqSandbox *self,
			 const gchar *expr,
			 const AiqExprScope *scope,
			 gboolean *result,
			 GError **error)
{
	gint ref = LUA_NOREF;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(expr != NULL, FALSE);
	g_return_val_if_fail(result != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (!aiq_sandbox_run(self,
			     AIQ_SANDBOX_EXPRESSION,
			     expr,
			     scope,
			     TRUE,
			     self->max_instructions,
			     self->max_memory,
			     &ref,
			     error))
		return FALSE;
	*result = lua_toboolean(self->L, -1);
	aiq_sandbox_finish(self, ref);
	return TRUE;
}

/**
 * aiq_sandbox_run_chunk:
 * @code: Lua statements; what the chunk returns (its first value) becomes
 *   the output, nothing returned gives a null node
 * @scope: (nullable): what the chunk can see, as for expressions
 * @max_instructions: the instruction limit, or 0 for the default
 * @max_memory: the memory limit in bytes, or 0 for the default
 *
 * Returns: (transfer full): the value as JSON, or %NULL with an error
 */
JsonNode *
aiq_sandbox_run_chunk(AiqSandbox *self,
		      const gchar *code,
		      const AiqExprScope *scope,
		      gint64 max_instructions,
		      gsize max_memory,
		      GError **error)
{
	JsonNode *result;
	gint ref = LUA_NOREF;

	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(code != NULL, NULL);
	g_return_val_if_fail(max_instructions >= 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (max_instructions == 0)
		max_instructions = AIQ_SANDBOX_DEFAULT_INSTRUCTIONS;
	if (max_memory == 0)
		max_memory = AIQ_SANDBOX_DEFAULT_MEMORY;
	if (!aiq_sandbox_run(self,
			     AIQ_SANDBOX_CHUNK,
			     code,
			     scope,
			     TRUE,
			     max_instructions,
			     max_memory,
			     &ref,
			     error))
		return NULL;
	result = aiq_sandbox_result_to_json(self, AIQ_SANDBOX_CHUNK, max_memory, error);
	aiq_sandbox_finish(self, ref);
	return result;
}
