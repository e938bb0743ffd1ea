/*
 * Jool's atomic configuration (JOOL-REFERENCE §5) read with jansson.
 *
 * Every value goes through the same parsers as the command line: globals
 * through globals_find()/globals_parse() (the JSON value is turned back
 * into the text form first, so a key is validated in one place), pool4
 * entries through a scratch pool4 (config_build_pool4()), so a file is
 * accepted only if each of its entries would be.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bib.h"
#include "log.h"
#include "wire.h"

/* Where an error happened: "config.json" and "pool4[2]". */
struct parser {
	const char *source;
	char where[32];
	char *err;
	size_t errlen;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "SOURCE: WHERE: message" (WHERE omitted at the top level); returns -1. */
static int
fail(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->where[0] != '\0')
		snprintf(ps->err, ps->errlen, "%s: %s: %s", ps->source, ps->where, msg);
	else
		snprintf(ps->err, ps->errlen, "%s: %s", ps->source, msg);
	return -1;
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	globals_default(&c->globals);
}

void
config_free(struct config *c)
{
	free(c->pool4);
	free(c->bib);
	config_init(c);
}

/* The text forms (prefixes, port ranges, taddrs) are parsed by ctl/wire.c,
 * the same code the `nat64` command uses, so a value means one thing
 * wherever it is written. */

/* ---- arrays ---- */

int
config_add_pool4(struct config *c, const struct config_pool4 *p)
{
	struct config_pool4 *grown = realloc(c->pool4, (c->pool4_count + 1) * sizeof(*grown));

	if (grown == NULL)
		return -ENOMEM;
	grown[c->pool4_count++] = *p;
	c->pool4 = grown;
	return 0;
}

static int
add_bib(struct config *c, const struct config_bib *b)
{
	struct config_bib *grown = realloc(c->bib, (c->bib_count + 1) * sizeof(*grown));

	if (grown == NULL)
		return -ENOMEM;
	grown[c->bib_count++] = *b;
	c->bib = grown;
	return 0;
}

/* ---- JSON: global ---- */

static const char *
json_type_wanted(enum global_type t)
{
	switch (t) {
	case GT_BOOL:
		return "a boolean (true or false)";
	case GT_U8:
	case GT_U32:
		return "an integer";
	case GT_TIME:
		return "a string such as \"1:30:00\" ([HH:[MM:]]SS[.mmm])";
	case GT_PREFIX6:
		return "a string such as \"64:ff9b::/96\"";
	case GT_PLATEAUS:
		return "an array of integers";
	}
	return "?";
}

/* mtu-plateaus: [1500, 1280] -> "1500,1280". */
static bool
plateaus_text(json_t *arr, char *buf, size_t len)
{
	size_t used = 0, i;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		int n;

		if (!json_is_integer(v))
			return false;
		n = snprintf(buf + used, len - used, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
			     json_integer_value(v));
		if (n < 0 || (size_t)n >= len - used)
			return false;
		used += (size_t)n;
	}
	return true;
}

/* The text globals_parse() expects for JSON `v`; false on a type mismatch. */
static bool
global_text(const struct global_key *k, json_t *v, char *buf, size_t len)
{
	switch (k->type) {
	case GT_BOOL:
		if (!json_is_boolean(v))
			return false;
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
		return true;
	case GT_U8:
	case GT_U32:
		if (!json_is_integer(v))
			return false;
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return true;
	case GT_TIME:
	case GT_PREFIX6:
		if (!json_is_string(v))
			return false;
		snprintf(buf, len, "%s", json_string_value(v));
		return true;
	case GT_PLATEAUS:
		return json_is_array(v) && plateaus_text(v, buf, len);
	}
	return false;
}

static int
parse_global(struct parser *ps, json_t *obj, struct globals *g)
{
	const char *key;
	json_t *v;

	snprintf(ps->where, sizeof(ps->where), "global");
	if (!json_is_object(obj))
		return fail(ps, "must be an object");
	json_object_foreach(obj, key, v)
	{
		const struct global_key *k = globals_find(key);
		char text[1024], why[256];

		if (strcmp(key, "comment") == 0)
			continue;
		if (k == NULL)
			return fail(ps, "unknown field \"%s\"", key);
		if (!global_text(k, v, text, sizeof(text)))
			return fail(ps, "\"%s\" must be %s", key, json_type_wanted(k->type));
		if (globals_parse(g, k, text, why, sizeof(why)) != 0)
			return fail(ps, "%s", why);
	}
	return 0;
}

/* ---- JSON: pool4 and bib items ---- */

static int
want_string(struct parser *ps, const char *key, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return fail(ps, "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static int
item_proto(struct parser *ps, json_t *v, enum l4proto *out)
{
	const char *s = NULL;

	if (want_string(ps, "protocol", v, &s))
		return -1;
	if (!wire_parse_proto(s, out))
		return fail(ps, "protocol '%s' is not TCP, UDP or ICMP", s);
	return 0;
}

static int
item_prefix(struct parser *ps, json_t *v, struct prefix4 *out)
{
	const char *s = NULL;

	char why[160];

	if (want_string(ps, "prefix", v, &s))
		return -1;
	if (!wire_parse_prefix4(s, out, why, sizeof(why)))
		return fail(ps, "%s", why);
	return 0;
}

static int
item_mark(struct parser *ps, json_t *v, uint32_t *out)
{
	json_int_t m;

	if (!json_is_integer(v))
		return fail(ps, "\"mark\" must be an integer");
	m = json_integer_value(v);
	if (m < 0 || m > (json_int_t)UINT32_MAX)
		return fail(ps, "mark %" JSON_INTEGER_FORMAT " is out of range (0-4294967295)", m);
	*out = (uint32_t)m;
	return 0;
}

static int
item_ports(struct parser *ps, json_t *v, struct pool4_entry *e)
{
	const char *s = NULL;

	char why[160];

	if (want_string(ps, "port range", v, &s))
		return -1;
	if (!wire_parse_port_range(s, &e->port_min, &e->port_max, why, sizeof(why)))
		return fail(ps, "%s", why);
	return 0;
}

static int
item_iterations(struct parser *ps, json_t *v, struct pool4_iterations *out)
{
	json_int_t n;

	if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0) {
		*out = (struct pool4_iterations){.kind = POOL4_ITER_AUTO};
		return 0;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), "infinity") == 0) {
		*out = (struct pool4_iterations){.kind = POOL4_ITER_INFINITY};
		return 0;
	}
	if (!json_is_integer(v))
		return fail(ps, "\"max-iterations\" must be an integer >= 1, \"auto\" or "
				"\"infinity\"");
	n = json_integer_value(v);
	if (n < 1 || n > (json_int_t)UINT32_MAX)
		return fail(ps,
			    "max-iterations %" JSON_INTEGER_FORMAT
			    " is out of range (1-4294967295)",
			    n);
	*out = (struct pool4_iterations){.kind = POOL4_ITER_FIXED, .value = (uint32_t)n};
	return 0;
}

static int
pool4_field(struct parser *ps, const char *key, json_t *v, struct config_pool4 *p,
	    unsigned int *seen)
{
	if (strcmp(key, "protocol") == 0) {
		*seen |= 1;
		return item_proto(ps, v, &p->entry.proto);
	}
	if (strcmp(key, "prefix") == 0) {
		*seen |= 2;
		return item_prefix(ps, v, &p->entry.prefix);
	}
	if (strcmp(key, "mark") == 0)
		return item_mark(ps, v, &p->entry.mark);
	if (strcmp(key, "port range") == 0)
		return item_ports(ps, v, &p->entry);
	if (strcmp(key, "max-iterations") == 0)
		return item_iterations(ps, v, &p->iter);
	if (strcmp(key, "comment") == 0)
		return 0;
	return fail(ps, "unknown field \"%s\"", key);
}

static int
parse_pool4_item(struct parser *ps, json_t *obj, struct config *c)
{
	struct config_pool4 p = {
		.entry = {.port_min = CONFIG_PORT_MIN_DEFAULT, .port_max = CONFIG_PORT_MAX_DEFAULT},
	};
	unsigned int seen = 0;
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return fail(ps, "must be an object");
	json_object_foreach(obj, key, v)
	{
		if (pool4_field(ps, key, v, &p, &seen))
			return -1;
	}
	if (!(seen & 1))
		return fail(ps, "missing field \"protocol\"");
	if (!(seen & 2))
		return fail(ps, "missing field \"prefix\"");
	if (config_add_pool4(c, &p))
		return fail(ps, "out of memory");
	return 0;
}

static int
bib_taddr(struct parser *ps, const char *key, json_t *v, struct config_bib *b)
{
	bool six = strcmp(key, "ipv6 address") == 0;
	const char *s = NULL;

	char why[160];

	if (want_string(ps, key, v, &s))
		return -1;
	if (six ? !wire_parse_taddr6(s, &b->addr6, why, sizeof(why))
		: !wire_parse_taddr4(s, &b->addr4, why, sizeof(why)))
		return fail(ps, "\"%s\": %s", key, why);
	return 0;
}

static int
bib_field(struct parser *ps, const char *key, json_t *v, struct config_bib *b, unsigned int *seen)
{
	if (strcmp(key, "protocol") == 0) {
		*seen |= 1;
		return item_proto(ps, v, &b->proto);
	}
	if (strcmp(key, "ipv6 address") == 0) {
		*seen |= 2;
		return bib_taddr(ps, key, v, b);
	}
	if (strcmp(key, "ipv4 address") == 0) {
		*seen |= 4;
		return bib_taddr(ps, key, v, b);
	}
	if (strcmp(key, "comment") == 0)
		return 0;
	return fail(ps, "unknown field \"%s\"", key);
}

static int
parse_bib_item(struct parser *ps, json_t *obj, struct config *c)
{
	static const char *const required[] = {"protocol", "ipv6 address", "ipv4 address"};
	struct config_bib b = {0};
	unsigned int seen = 0;
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return fail(ps, "must be an object");
	json_object_foreach(obj, key, v)
	{
		if (bib_field(ps, key, v, &b, &seen))
			return -1;
	}
	for (unsigned int i = 0; i < 3; i++)
		if (!(seen & (1u << i)))
			return fail(ps, "missing field \"%s\"", required[i]);
	if (add_bib(c, &b))
		return fail(ps, "out of memory");
	return 0;
}

typedef int (*item_fn)(struct parser *ps, json_t *obj, struct config *c);

static int
parse_array(struct parser *ps, const char *name, json_t *arr, item_fn item, struct config *c)
{
	size_t i;
	json_t *v;

	snprintf(ps->where, sizeof(ps->where), "%s", name);
	if (!json_is_array(arr))
		return fail(ps, "must be an array");
	json_array_foreach(arr, i, v)
	{
		snprintf(ps->where, sizeof(ps->where), "%s[%zu]", name, i);
		if (item(ps, v, c))
			return -1;
	}
	return 0;
}

/* ---- JSON: the top level ---- */

static int
parse_instance(struct parser *ps, json_t *v, struct config *c)
{
	const char *s = NULL;

	if (want_string(ps, "instance", v, &s))
		return -1;
	if (!wire_instance_valid(s))
		return fail(ps, "instance '%s' is not 1-15 printable ASCII characters", s);
	snprintf(c->instance, sizeof(c->instance), "%s", s);
	return 0;
}

static int
parse_framework(struct parser *ps, json_t *v)
{
	const char *s = NULL;

	/* Jool chooses netfilter or iptables hooks; a TUN device has neither. */
	if (want_string(ps, "framework", v, &s))
		return -1;
	if (strcmp(s, "netfilter") != 0 && strcmp(s, "iptables") != 0)
		return fail(ps, "framework '%s' is not \"netfilter\" or \"iptables\"", s);
	return 0;
}

static int
root_field(struct parser *ps, const char *key, json_t *v, struct config *c)
{
	ps->where[0] = '\0';
	if (strcmp(key, "instance") == 0)
		return parse_instance(ps, v, c);
	if (strcmp(key, "framework") == 0)
		return parse_framework(ps, v);
	if (strcmp(key, "global") == 0)
		return parse_global(ps, v, &c->globals);
	if (strcmp(key, "pool4") == 0)
		return parse_array(ps, "pool4", v, parse_pool4_item, c);
	if (strcmp(key, "bib") == 0)
		return parse_array(ps, "bib", v, parse_bib_item, c);
	if (strcmp(key, "comment") == 0)
		return 0;
	return fail(ps, "unknown field \"%s\"", key);
}

/* JOOL-REFERENCE §5: each bib entry's IPv4 taddr must be in the file's pool4. */
static int
check_bib(struct parser *ps, const struct config *c)
{
	struct pool4 *pool;
	int err = 0;

	if (c->bib_count == 0)
		return 0;
	if (config_build_pool4(c, &pool, ps->err, ps->errlen))
		return -1;
	for (size_t i = 0; i < c->bib_count && err == 0; i++) {
		const struct config_bib *b = &c->bib[i];
		char a4[INET_ADDRSTRLEN];

		if (pool4_contains(pool, b->proto, &b->addr4))
			continue;
		inet_ntop(AF_INET, &b->addr4.addr, a4, sizeof(a4));
		snprintf(ps->where, sizeof(ps->where), "bib[%zu]", i);
		err = fail(ps, "%s %s#%u is not in the file's pool4", bib_proto_name(b->proto), a4,
			   b->addr4.port);
	}
	pool4_destroy(pool);
	return err;
}

static int
parse_json(struct parser *ps, json_t *root, struct config *c)
{
	const char *key;
	json_t *v;

	if (!json_is_object(root))
		return fail(ps, "the top level must be a JSON object");
	json_object_foreach(root, key, v)
	{
		if (root_field(ps, key, v, c))
			return -1;
	}
	ps->where[0] = '\0';
	if (config_build_pool4(c, NULL, ps->err, ps->errlen)) {
		/* Prefix the source: the message names the entry. */
		char why[256];

		snprintf(why, sizeof(why), "%s", ps->err);
		return fail(ps, "%s", why);
	}
	return check_bib(ps, c);
}

static int
parse_loaded(struct parser *ps, json_t *root, const json_error_t *jerr, struct config *c)
{
	int err;

	if (root == NULL) {
		ps->where[0] = '\0';
		if (jerr->line > 0)
			return fail(ps, "line %d column %d: %s", jerr->line, jerr->column,
				    jerr->text);
		return fail(ps, "%s", jerr->text);
	}
	err = parse_json(ps, root, c);
	json_decref(root);
	if (err)
		config_free(c);
	return err;
}

int
config_parse_string(struct config *c, const char *text, const char *source, char *err,
		    size_t errlen)
{
	struct parser ps = {.source = source, .err = err, .errlen = errlen};
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

	return parse_loaded(&ps, root, &jerr, c);
}

int
config_parse_file(struct config *c, const char *path, char *err, size_t errlen)
{
	struct parser ps = {.source = path, .err = err, .errlen = errlen};
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL && jerr.line <= 0) {
		/* jansson says "unable to open PATH: ..."; keep it, without PATH twice. */
		snprintf(err, errlen, "%s", jerr.text);
		return -1;
	}
	return parse_loaded(&ps, root, &jerr, c);
}

/* ---- the kernel module's pool4 list, and the scratch pool4 ---- */

static int
add_for_every_protocol(struct config *c, const struct prefix4 *p)
{
	for (int proto = 0; proto < L4_COUNT; proto++) {
		/* ICMP identifiers may be 0; TCP and UDP port 0 is not a port. */
		struct config_pool4 e = {
			.entry = {.proto = (enum l4proto)proto,
				  .prefix = *p,
				  .port_min = proto == L4_ICMP ? 0 : 1,
				  .port_max = 65535},
		};

		if (config_add_pool4(c, &e))
			return -1;
	}
	return 0;
}

int
config_add_pool4_list(struct config *c, const char *list, char *err, size_t errlen)
{
	size_t before = c->pool4_count;
	char *copy = strdup(list), *save = NULL;
	int added = 0, ret = 0;

	if (copy == NULL) {
		snprintf(err, errlen, "pool4: out of memory");
		return -1;
	}
	for (char *tok = strtok_r(copy, ", \t", &save); tok && ret == 0;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct prefix4 p;
		char why[160], net[WIRE_PREFIX4_LEN];
		bool masked;

		if (!wire_parse_prefix4_masked(tok, &p, &masked, why, sizeof(why))) {
			snprintf(err, errlen, "pool4: %s", why);
			ret = -1;
		} else if (add_for_every_protocol(c, &p)) {
			snprintf(err, errlen, "pool4: out of memory");
			ret = -1;
		} else if (masked) {
			wire_print_prefix4(&p, net, sizeof(net));
			log_warnx("pool4: '%s' has bits set after its length: using %s", tok, net);
		}
		added++;
	}
	free(copy);
	if (ret == 0 && added == 0) {
		snprintf(err, errlen, "pool4: empty list (give addresses or prefixes)");
		ret = -1;
	}
	if (ret)
		c->pool4_count = before;
	return ret;
}

int
config_build_pool4(const struct config *c, struct pool4 **out, char *err, size_t errlen)
{
	struct pool4 *pool = pool4_create();

	if (pool == NULL) {
		snprintf(err, errlen, "pool4: out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->pool4_count; i++) {
		const struct config_pool4 *p = &c->pool4[i];
		char a[INET_ADDRSTRLEN];
		int e = pool4_add(pool, &p->entry, &p->iter);

		if (e == 0)
			continue;
		inet_ntop(AF_INET, &p->entry.prefix.addr, a, sizeof(a));
		snprintf(err, errlen, "pool4[%zu]: %s %s/%u %u-%u: %s", i,
			 bib_proto_name(p->entry.proto), a, p->entry.prefix.len, p->entry.port_min,
			 p->entry.port_max, pool4_strerror(e));
		pool4_destroy(pool);
		return -1;
	}
	if (out)
		*out = pool;
	else
		pool4_destroy(pool);
	return 0;
}
