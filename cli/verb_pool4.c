/*
 * nat64 pool4 display|add|remove|flush.
 *
 * display shows Jool's table (or its CSV), then what Jool does not: the
 * ports in use on each address (BIB entries) against the ports pool4 gives
 * it, and per set how full it is, with a warning above 90%.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "table.h"
#include "verbs.h"

enum { WARN_PERCENT = 90 };

static const char *const jool_csv_header[] = {
	"Mark", "Protocol", "Address", "Min port", "Max port", "Iterations", "Iterations fixed",
};

struct collect {
	json_t *into;
	const char *proto;
};

static int
collect_row(void *arg, json_t *row)
{
	struct collect *col = arg;

	if (json_is_object(row))
		json_object_set_new(row, "protocol", json_string(col->proto));
	json_array_append(col->into, row);
	return 0;
}

/* Appends every item of the paged command `cmd` for protocol `p`. */
static int
fetch(struct cli *c, const char *cmd, enum l4proto p, const char *key, json_t *into)
{
	struct collect col = {.into = into, .proto = wire_proto_name(p)};
	json_t *req = client_request(cmd);

	json_object_set_new(req, "protocol", json_string(col.proto));
	return client_pages(c, req, key, collect_row, &col);
}

static uint64_t
u64_of(const json_t *obj, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(obj, key));
}

static const char *
str_of(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/* "1024 (auto)", "5 (fixed)", "infinity", as Jool's table. */
static void
iterations_text(const json_t *e, char *out, size_t len)
{
	const char *kind = str_of(e, "iter");

	if (strcmp(kind, "infinity") == 0)
		snprintf(out, len, "infinity");
	else
		snprintf(out, len, "%" PRIu64 " (%s)", u64_of(e, "iterations"), kind);
}

static double
percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* --- Table ----------------------------------------------------------------- */

static void
entries_table(FILE *f, const json_t *entries, bool headers)
{
	static const char *const head[] = {"Mark", "Proto", "Max iterations", "Address", "Ports"};
	struct table t;
	const char *last_proto = "";
	uint64_t last_mark = UINT64_MAX;
	size_t i;

	table_init(&t, 5, head);
	for (i = 0; i < json_array_size(entries); i++) {
		json_t *e = json_array_get(entries, i);
		char mark[16], iter[40], ports[16];
		const char *proto = str_of(e, "protocol");
		bool first = strcmp(proto, last_proto) != 0 || u64_of(e, "mark") != last_mark;
		const char *cells[5] = {first ? mark : "", first ? proto : "", first ? iter : "",
					str_of(e, "prefix"), ports};

		/* Jool names a set once, on its first row, and rules between sets. */
		if (first && i > 0)
			table_add_separator(&t);
		snprintf(mark, sizeof(mark), "%" PRIu64, u64_of(e, "mark"));
		iterations_text(e, iter, sizeof(iter));
		snprintf(ports, sizeof(ports), "%" PRIu64 "-%" PRIu64, u64_of(e, "min"),
			 u64_of(e, "max"));
		table_add_row(&t, cells);
		last_proto = proto;
		last_mark = u64_of(e, "mark");
	}
	if (table_print(&t, f, headers) < 0)
		fputs("(out of memory: rows missing)\n", f);
	table_free(&t);
}

/* A run of consecutive addresses with the same figures, shown as one row. */
struct usage_run {
	const char *proto;
	uint32_t first, last; /* host order */
	uint64_t in_use, ports;
	bool open;
};

static void
run_row(struct table *t, const struct usage_run *r)
{
	char addrs[40], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], used[24], avail[24], pct[16];
	const char *cells[5] = {r->proto, addrs, used, avail, pct};

	inet_ntop(AF_INET, &(struct in_addr){htonl(r->first)}, a, sizeof(a));
	inet_ntop(AF_INET, &(struct in_addr){htonl(r->last)}, b, sizeof(b));
	if (r->first == r->last)
		snprintf(addrs, sizeof(addrs), "%s", a);
	else
		snprintf(addrs, sizeof(addrs), "%s-%s", a, b);
	snprintf(used, sizeof(used), "%" PRIu64, r->in_use);
	snprintf(avail, sizeof(avail), "%" PRIu64, r->ports);
	snprintf(pct, sizeof(pct), "%.1f%%", percent(r->in_use, r->ports));
	table_add_row(t, cells);
}

/* Per address; consecutive addresses with equal figures share a row, so an
 * idle /16 takes one line (each row's figures are per address). */
static void
usage_table(FILE *f, const json_t *usage, bool headers)
{
	static const char *const head[] = {"Proto", "Address", "Ports in use", "Ports available",
					   "Use"};
	struct usage_run run = {0};
	struct table t;
	size_t i;

	table_init(&t, 5, head);
	for (i = 0; i < json_array_size(usage); i++) {
		json_t *u = json_array_get(usage, i);
		const char *proto = json_string_value(json_array_get(u, 3));
		uint64_t in_use = (uint64_t)json_integer_value(json_array_get(u, 1));
		uint64_t ports = (uint64_t)json_integer_value(json_array_get(u, 2));
		struct in_addr addr;

		if (proto == NULL || inet_pton(AF_INET,
					       json_string_value(json_array_get(u, 0))
						       ? json_string_value(json_array_get(u, 0))
						       : "",
					       &addr) != 1)
			continue;
		if (run.open && strcmp(run.proto, proto) == 0 &&
		    run.last + 1 == ntohl(addr.s_addr) && run.in_use == in_use &&
		    run.ports == ports) {
			run.last++;
			continue;
		}
		if (run.open)
			run_row(&t, &run);
		run = (struct usage_run){
			proto, ntohl(addr.s_addr), ntohl(addr.s_addr), in_use, ports, true};
	}
	if (run.open)
		run_row(&t, &run);
	if (table_print(&t, f, headers) < 0)
		fputs("(out of memory: rows missing)\n", f);
	table_free(&t);
}

/* One line per set, and a warning for the sets above WARN_PERCENT. */
static void
set_lines(FILE *f, FILE *warn, const json_t *sets)
{
	size_t i;

	for (i = 0; i < json_array_size(sets); i++) {
		json_t *s = json_array_get(sets, i);
		const json_t *in_use = json_object_get(s, "in_use");
		uint64_t used = (uint64_t)json_integer_value(in_use), total = u64_of(s, "taddrs");
		double pct = percent(used, total);

		if (f && json_is_integer(in_use))
			fprintf(f,
				"%s mark %" PRIu64 ": %" PRIu64 " of %" PRIu64
				" transport addresses in use (%.1f%%)\n",
				str_of(s, "protocol"), u64_of(s, "mark"), used, total, pct);
		else if (f)
			fprintf(f,
				"%s mark %" PRIu64 ": %" PRIu64 " transport addresses, use not "
				"counted yet\n",
				str_of(s, "protocol"), u64_of(s, "mark"), total);
		if (json_is_integer(in_use) && used * 100 > total * WARN_PERCENT)
			fprintf(warn,
				"Warning: pool4 %s mark %" PRIu64 " is %.1f%% full (%" PRIu64
				" of %" PRIu64 " transport addresses in use)\n",
				str_of(s, "protocol"), u64_of(s, "mark"), pct, used, total);
	}
}

/* --- CSV and JSON ------------------------------------------------------------ */

static void
entries_csv(FILE *f, const json_t *entries, bool headers)
{
	size_t i;

	if (headers)
		csv_row(f, 7, jool_csv_header);
	for (i = 0; i < json_array_size(entries); i++) {
		json_t *e = json_array_get(entries, i);
		char mark[16], min[8], max[8], iter[24];
		const char *kind = str_of(e, "iter");
		const char *fields[7] = {mark,
					 str_of(e, "protocol"),
					 str_of(e, "prefix"),
					 min,
					 max,
					 iter,
					 strcmp(kind, "auto") == 0 ? "0" : "1"};

		snprintf(mark, sizeof(mark), "%" PRIu64, u64_of(e, "mark"));
		snprintf(min, sizeof(min), "%" PRIu64, u64_of(e, "min"));
		snprintf(max, sizeof(max), "%" PRIu64, u64_of(e, "max"));
		if (strcmp(kind, "infinity") == 0)
			snprintf(iter, sizeof(iter), "infinity");
		else
			snprintf(iter, sizeof(iter), "%" PRIu64, u64_of(e, "iterations"));
		csv_row(f, 7, fields);
	}
}

/* "max-iterations" as the configuration file writes it: auto, infinity or N. */
static json_t *
max_iterations_json(const json_t *e)
{
	const char *kind = str_of(e, "iter");

	if (strcmp(kind, "fixed") == 0)
		return json_integer(json_integer_value(json_object_get(e, "iterations")));
	return json_string(kind);
}

/* Entries as pool4 items of Jool's configuration file, so they can be fed
 * back; usage rows and sets as objects. */
static json_t *
to_json(const json_t *entries, const json_t *usage, const json_t *sets)
{
	json_t *out = json_pack("{s:[], s:[], s:[]}", "pool4", "usage", "sets");
	size_t i;

	for (i = 0; i < json_array_size(entries); i++) {
		json_t *x = json_array_get(entries, i);
		char range[16];

		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, u64_of(x, "min"),
			 u64_of(x, "max"));
		json_array_append_new(json_object_get(out, "pool4"),
				      json_pack("{s:I, s:s, s:s, s:s, s:o, s:O}", "mark",
						(json_int_t)u64_of(x, "mark"), "protocol",
						str_of(x, "protocol"), "prefix",
						str_of(x, "prefix"), "port range", range,
						"max-iterations", max_iterations_json(x),
						"iterations", json_object_get(x, "iterations")));
	}
	for (i = 0; i < json_array_size(usage); i++) {
		json_t *x = json_array_get(usage, i);

		json_array_append_new(
			json_object_get(out, "usage"),
			json_pack("{s:O, s:O, s:O, s:O}", "protocol", json_array_get(x, 3),
				  "address", json_array_get(x, 0), "in use", json_array_get(x, 1),
				  "available", json_array_get(x, 2)));
	}
	for (i = 0; i < json_array_size(sets); i++) {
		json_t *x = json_array_get(sets, i);
		uint64_t used = (uint64_t)json_integer_value(json_object_get(x, "in_use"));

		json_array_append_new(json_object_get(out, "sets"),
				      json_pack("{s:I, s:s, s:o, s:O, s:I, s:I, s:O, s:f}", "mark",
						(json_int_t)u64_of(x, "mark"), "protocol",
						str_of(x, "protocol"), "max-iterations",
						max_iterations_json(x), "iterations",
						json_object_get(x, "iterations"), "taddrs",
						(json_int_t)u64_of(x, "taddrs"), "addresses",
						(json_int_t)u64_of(x, "addrs"), "in use",
						json_object_get(x, "in_use"), "percent",
						percent(used, u64_of(x, "taddrs"))));
	}
	return out;
}

/* Usage rows come as [address, in use, available]; the protocol is added
 * as a fourth item. */
static int
fetch_usage(struct cli *c, enum l4proto p, json_t *into)
{
	json_t *rows = json_array();
	size_t i;
	int rc = fetch(c, "pool4.usage", p, "rows", rows);

	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);
		json_array_append_new(row, json_string(wire_proto_name(p)));
		json_array_append(into, row);
	}
	json_decref(rows);
	return rc;
}

int
verb_pool4_display(struct cli *c, const struct args *a)
{
	unsigned int mask = args_protos(a, a->legacy ? ALL_PROTOS : 1u << L4_TCP);
	bool headers = !a->set[OPT_NO_HEADERS];
	json_t *entries = json_array(), *usage = json_array(), *sets = json_array();
	int rc = 0;

	for (int p = 0; p < L4_COUNT && rc == 0; p++) {
		if (!(mask & 1u << p))
			continue;
		rc = fetch(c, "pool4.display", (enum l4proto)p, "entries", entries);
		if (rc == 0 && !a->set[OPT_CSV])
			rc = fetch_usage(c, (enum l4proto)p, usage);
		if (rc == 0)
			rc = fetch(c, "pool4.sets", (enum l4proto)p, "sets", sets);
	}
	if (rc == 0 && a->set[OPT_JSON]) {
		json_t *out = to_json(entries, usage, sets);

		json_dumpf(out, c->out, JSON_INDENT(2));
		fputc('\n', c->out);
		json_decref(out);
	} else if (rc == 0 && a->set[OPT_CSV]) {
		entries_csv(c->out, entries, headers);
		set_lines(NULL, stderr, sets);
	} else if (rc == 0) {
		entries_table(c->out, entries, headers);
		if (json_array_size(entries) == 0 && json_array_size(usage) > 0)
			fputs("pool4 is empty: the host's own addresses serve, ports "
			      "61001-65535.\n",
			      c->out);
		if (json_array_size(usage) > 0) {
			fputc('\n', c->out);
			usage_table(c->out, usage, headers);
		}
		if (json_array_size(sets) > 0)
			fputc('\n', c->out);
		set_lines(c->out, c->out, sets);
	}
	json_decref(entries);
	json_decref(usage);
	json_decref(sets);
	return rc;
}

/* --- Changes -------------------------------------------------------------- */

static json_t *
protocols_json(unsigned int mask)
{
	json_t *list = json_array();

	for (int p = 0; p < L4_COUNT; p++)
		if (mask & 1u << p)
			json_array_append_new(list, json_string(wire_proto_name((enum l4proto)p)));
	return list;
}

/* PREFIX [PORT-RANGE] of add and remove, checked here so a typo is a usage
 * error (exit 2) before anything is sent. */
static int
entry_request(const char *cmd, const struct args *a, unsigned int mask, uint16_t dmin,
	      uint16_t dmax, json_t **out)
{
	char err[256];
	struct prefix4 prefix;
	uint16_t min = dmin, max = dmax;
	uint32_t mark = 0;
	json_t *req;

	if (!wire_parse_prefix4(a->pos[0], &prefix, err, sizeof(err)))
		return cli_fail(EXIT_USAGE, "%s", err);
	if (a->npos > 1 && !wire_parse_port_range(a->pos[1], &min, &max, err, sizeof(err)))
		return cli_fail(EXIT_USAGE, "%s", err);
	if (a->set[OPT_MARK] && !wire_parse_mark(a->value[OPT_MARK], &mark, err, sizeof(err)))
		return cli_fail(EXIT_USAGE, "%s", err);
	req = client_request(cmd);
	json_object_set_new(req, "protocols", protocols_json(mask));
	json_object_set_new(req, "prefix", json_string(a->pos[0]));
	json_object_set_new(req, "min", json_integer(min));
	json_object_set_new(req, "max", json_integer(max));
	json_object_set_new(req, "mark", json_integer(mark));
	*out = req;
	return 0;
}

static int
call(struct cli *c, json_t *req)
{
	json_t *reply;
	int rc = client_call(c, req, &reply);

	json_decref(reply);
	return rc;
}

static int
add_iterations(json_t *req, const char *text)
{
	struct pool4_iterations iter;
	char err[256];

	if (!wire_parse_iterations(text, &iter, err, sizeof(err)))
		return cli_fail(EXIT_USAGE, "%s", err);
	if (iter.kind == POOL4_ITER_FIXED)
		json_object_set_new(req, "iterations", json_integer(iter.value));
	else
		json_object_set_new(req, "iterations", json_string(text));
	return 0;
}

int
verb_pool4_add(struct cli *c, const struct args *a)
{
	unsigned int mask = args_protos(a, a->legacy ? ALL_PROTOS : 0);
	json_t *req;
	int rc;

	/* Jool: one protocol, and a port range (the old style defaults both). */
	if (!a->legacy && (mask == 0 || (mask & (mask - 1))))
		return cli_fail(EXIT_USAGE, "pool4 add: give one of --tcp, --udp or --icmp");
	if (!a->legacy && a->npos != 2)
		return cli_fail(EXIT_USAGE, "pool4 add: expected PREFIX PORT-RANGE, e.g. "
					    "192.0.2.0/24 1-65535");
	/* The old style's defaults: TCP/UDP 1-65535 (the daemon raises port 0
	 * to 1 for them), ICMP 0-65535. */
	rc = entry_request("pool4.add", a, mask, 0, 65535, &req);
	if (rc)
		return rc;
	if (a->set[OPT_MAX_ITER] && (rc = add_iterations(req, a->value[OPT_MAX_ITER]))) {
		json_decref(req);
		return rc;
	}
	json_object_set_new(req, "force", json_boolean(a->set[OPT_FORCE]));
	return call(c, req);
}

int
verb_pool4_remove(struct cli *c, const struct args *a)
{
	json_t *req;
	int rc = entry_request("pool4.remove", a, args_protos(a, ALL_PROTOS), 0, 65535, &req);

	if (rc)
		return rc;
	json_object_set_new(req, "quick", json_boolean(a->set[OPT_QUICK]));
	return call(c, req);
}

int
verb_pool4_flush(struct cli *c, const struct args *a)
{
	json_t *req = client_request("pool4.flush");

	json_object_set_new(req, "quick", json_boolean(a->set[OPT_QUICK]));
	return call(c, req);
}
