/*
 * The command table and the checks every request goes through before its
 * command runs: well-formed JSON, an object, "version" 1, a known "cmd",
 * only the arguments that command takes, each of the right type and range,
 * the required ones present. The table is the reference of the protocol's
 * commands (docs/cli.md describes them for people).
 */
#include "request.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "engines.h"
#include "server.h"
#include "wire.h"

enum arg_kind {
	ARG_STR,
	ARG_UINT, /* integer in [min, max] */
	ARG_BOOL,
	ARG_PROTO,  /* "TCP", "UDP" or "ICMP" */
	ARG_PROTOS, /* a non-empty array of distinct protocols */
	ARG_ITER,   /* "auto", "infinity" or an integer 1-4294967295 */
};

struct arg {
	const char *name;
	enum arg_kind kind;
	bool required;
	uint64_t min, max; /* ARG_UINT */
};

enum { ARGS_MAX = 8 };

struct command {
	const char *name;
	int (*run)(struct request *r);
	struct arg args[ARGS_MAX]; /* ends at a NULL name */
};

#define U32  0, UINT32_MAX
#define PORT 0, 65535
#define CURSOR                                                                                     \
	{                                                                                          \
		"cursor", ARG_UINT, false, U32                                                     \
	}
/* Tables spread over the engines: (engine << 32) | that engine's cursor.
 * JSON integers, never doubles: jansson and the cli keep all 63 bits. */
#define CURSOR64                                                                                   \
	{                                                                                          \
		"cursor", ARG_UINT, false, 0, INT64_MAX                                            \
	}
#define LIMIT                                                                                      \
	{                                                                                          \
		"limit", ARG_UINT, false, 1, CTL_PAGE_MAX                                          \
	}
#define PROTOCOL                                                                                   \
	{                                                                                          \
		"protocol", ARG_PROTO, true, 0, 0                                                  \
	}
#define PROTOCOLS                                                                                  \
	{                                                                                          \
		"protocols", ARG_PROTOS, true, 0, 0                                                \
	}

static const struct command commands[] = {
	{"hello", cmd_hello, {{0}}},
	{"pool4.display", cmd_pool4_display, {PROTOCOL, CURSOR, LIMIT}},
	{"pool4.usage", cmd_pool4_usage, {PROTOCOL, CURSOR, LIMIT}},
	{"pool4.sets", cmd_pool4_sets, {PROTOCOL, CURSOR, LIMIT}},
	{"pool4.add",
	 cmd_pool4_add,
	 {PROTOCOLS,
	  {"prefix", ARG_STR, true, 0, 0},
	  {"min", ARG_UINT, true, PORT},
	  {"max", ARG_UINT, true, PORT},
	  {"mark", ARG_UINT, false, U32},
	  {"iterations", ARG_ITER, false, 0, 0},
	  {"force", ARG_BOOL, false, 0, 0}}},
	{"pool4.remove",
	 cmd_pool4_remove,
	 {PROTOCOLS,
	  {"prefix", ARG_STR, true, 0, 0},
	  {"min", ARG_UINT, true, PORT},
	  {"max", ARG_UINT, true, PORT},
	  {"mark", ARG_UINT, false, U32},
	  {"quick", ARG_BOOL, false, 0, 0}}},
	{"pool4.flush", cmd_pool4_flush, {{"quick", ARG_BOOL, false, 0, 0}}},
	{"bib.display", cmd_bib_display, {PROTOCOL, CURSOR64, LIMIT}},
	{"bib.add",
	 cmd_bib_add,
	 {PROTOCOL, {"ipv6", ARG_STR, true, 0, 0}, {"ipv4", ARG_STR, true, 0, 0}}},
	{"bib.remove",
	 cmd_bib_remove,
	 {PROTOCOL, {"ipv6", ARG_STR, false, 0, 0}, {"ipv4", ARG_STR, false, 0, 0}}},
	{"session.display", cmd_session_display, {PROTOCOL, CURSOR64, LIMIT}},
	{"stats.display", cmd_stats_display, {{0}}},
	{"global.display", cmd_global_display, {{0}}},
	{"global.update",
	 cmd_global_update,
	 {{"key", ARG_STR, true, 0, 0}, {"value", ARG_STR, true, 0, 0}}},
	{"file.handle", cmd_file_handle, {{"text", ARG_STR, true, 0, 0}}},
};

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const struct arg *
find_arg(const struct command *c, const char *name)
{
	for (const struct arg *a = c->args; a < c->args + ARGS_MAX && a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

int
request_fail(struct request *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
is_proto(const json_t *v)
{
	enum l4proto p;

	return json_is_string(v) && wire_parse_proto(json_string_value(v), &p);
}

static bool
check_protos(const json_t *v)
{
	unsigned int seen = 0;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	for (i = 0; i < json_array_size(v); i++) {
		json_t *item = json_array_get(v, i);
		enum l4proto p;

		if (!json_is_string(item) || !wire_parse_proto(json_string_value(item), &p) ||
		    (seen & 1u << p))
			return false;
		seen |= 1u << p;
	}
	return true;
}

static bool
check_uint(const json_t *v, uint64_t min, uint64_t max)
{
	json_int_t n;

	if (!json_is_integer(v))
		return false;
	n = json_integer_value(v);
	return n >= 0 && (uint64_t)n >= min && (uint64_t)n <= max;
}

static bool
check_value(const struct arg *a, const json_t *v)
{
	switch (a->kind) {
	case ARG_STR:
		return json_is_string(v);
	case ARG_UINT:
		return check_uint(v, a->min, a->max);
	case ARG_BOOL:
		return json_is_boolean(v);
	case ARG_PROTO:
		return is_proto(v);
	case ARG_PROTOS:
		return check_protos(v);
	case ARG_ITER:
		if (json_is_string(v))
			return strcmp(json_string_value(v), "auto") == 0 ||
			       strcmp(json_string_value(v), "infinity") == 0;
		return check_uint(v, 1, UINT32_MAX);
	}
	return false;
}

static const char *
expected(const struct arg *a, char *buf, size_t len)
{
	switch (a->kind) {
	case ARG_STR:
		return "a string";
	case ARG_UINT:
		snprintf(buf, len, "an integer %llu-%llu", (unsigned long long)a->min,
			 (unsigned long long)a->max);
		return buf;
	case ARG_BOOL:
		return "true or false";
	case ARG_PROTO:
		return "\"TCP\", \"UDP\" or \"ICMP\"";
	case ARG_PROTOS:
		return "an array of distinct protocols (\"TCP\", \"UDP\", \"ICMP\")";
	case ARG_ITER:
		return "\"auto\", \"infinity\" or an integer 1-4294967295";
	}
	return "?";
}

/* Checks the request against the command table; the command or NULL. */
static const struct command *
check(struct request *r)
{
	const json_t *version = json_object_get(r->args, "version");
	const json_t *cmd = json_object_get(r->args, "cmd");
	const struct command *c;
	char range[64];

	if (!json_is_integer(version) || json_integer_value(version) != CTL_VERSION) {
		request_fail(r, "protocol version not supported: this daemon speaks version %d",
			     CTL_VERSION);
		return NULL;
	}
	if (!json_is_string(cmd)) {
		request_fail(r, "missing \"cmd\"");
		return NULL;
	}
	c = find_command(json_string_value(cmd));
	if (c == NULL) {
		request_fail(r, "unknown command \"%s\"", json_string_value(cmd));
		return NULL;
	}
	for (void *it = json_object_iter(r->args); it; it = json_object_iter_next(r->args, it)) {
		const char *key = json_object_iter_key(it);
		json_t *value = json_object_iter_value(it);
		const struct arg *a = find_arg(c, key);

		if (strcmp(key, "version") == 0 || strcmp(key, "cmd") == 0)
			continue;
		if (a == NULL) {
			request_fail(r, "%s: unknown argument \"%s\"", c->name, key);
			return NULL;
		}
		if (!check_value(a, value)) {
			request_fail(r, "%s: \"%s\" must be %s", c->name, key,
				     expected(a, range, sizeof(range)));
			return NULL;
		}
	}
	for (const struct arg *a = c->args; a < c->args + ARGS_MAX && a->name; a++) {
		if (a->required && json_object_get(r->args, a->name) == NULL) {
			request_fail(r, "%s: missing argument \"%s\"", c->name, a->name);
			return NULL;
		}
	}
	return c;
}

static int
parse(struct request *r, const uint8_t *text, size_t len)
{
	json_error_t error;

	r->args = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &error);
	if (r->args == NULL)
		return request_fail(r, "malformed request: %s (byte %d)", error.text,
				    error.position);
	if (!json_is_object(r->args))
		return request_fail(r, "malformed request: not a JSON object");
	return 0;
}

unsigned int
request_handle(const struct ctl_engines *engines, const struct ctl_hooks *hooks,
	       const struct occupancy *occupancy, uint64_t now, const uint8_t *text, size_t len,
	       struct buf *out)
{
	struct jsonw w;
	struct request r = {.engines = engines,
			    .held = -1,
			    .hooks = hooks,
			    .occupancy = occupancy,
			    .now = now,
			    .w = &w};
	size_t start = out->len;
	const struct command *c = NULL;
	int rc = -1;

	jsonw_init(&w, out);
	jsonw_obj_open(&w);
	jsonw_key(&w, "ok");
	jsonw_bool(&w, true);
	if (parse(&r, text, len) == 0 && (c = check(&r)) != NULL) {
		if (engines == NULL || engines->count == 0)
			request_fail(&r, "the translator is not running");
		else
			rc = c->run(&r);
	}
	json_decref(r.args);
	assert(r.held < 0);
	if (rc < 0) {
		/* Whatever the command wrote goes: the reply is the error alone. */
		out->len = start;
		out->failed = false;
		buf_puts(out, "{\"ok\":false,\"error\":");
		jsonw_quote(out, r.err[0] ? r.err : "failed");
		buf_putc(out, '}');
		return r.changed; /* a failure half-way (ENOMEM) may have changed some */
	}
	jsonw_obj_close(&w);
	return r.changed;
}

unsigned int
request_engine_count(const struct request *r)
{
	return r->engines->count;
}

struct nat64 *
request_acquire(struct request *r, unsigned int i)
{
	assert(r->held < 0 && i < r->engines->count);
	r->held = (int)i;
	return r->engines->acquire(r->engines->ctx, i);
}

void
request_release(struct request *r, unsigned int i)
{
	assert(r->held == (int)i);
	r->engines->release(r->engines->ctx, i);
	r->held = -1;
}

const char *
request_str(const struct request *r, const char *name)
{
	return json_string_value(json_object_get(r->args, name));
}

uint64_t
request_uint(const struct request *r, const char *name, uint64_t dflt)
{
	const json_t *v = json_object_get(r->args, name);

	return v ? (uint64_t)json_integer_value(v) : dflt;
}

bool
request_bool(const struct request *r, const char *name)
{
	return json_is_true(json_object_get(r->args, name));
}

uint32_t
request_limit(const struct request *r)
{
	return (uint32_t)request_uint(r, "limit", CTL_PAGE);
}

int
request_proto(const struct request *r)
{
	enum l4proto p = L4_TCP;

	wire_parse_proto(request_str(r, "protocol"), &p);
	return (int)p;
}
