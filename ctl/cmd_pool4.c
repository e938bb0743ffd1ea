/*
 * pool4 commands: display (entries, per-address usage, per-set occupancy)
 * and the changes (add, remove, flush), all-or-nothing.
 */
#include "cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdio.h>

#include "nat64.h"
#include "occupancy.h"
#include "server.h"
#include "wire.h"

/* Sets up to this many addresses are counted live by pool4.sets (a few ms);
 * larger ones report the occupancy watch's last count. */
enum { LIVE_COUNT_MAX = 65536 };

static const char *
iter_name(enum pool4_iter_kind kind)
{
	return kind == POOL4_ITER_AUTO       ? "auto"
	       : kind == POOL4_ITER_INFINITY ? "infinity"
					     : "fixed";
}

static void
write_iterations(struct jsonw *w, const struct pool4_set_info *set)
{
	jsonw_key(w, "iter");
	jsonw_str(w, iter_name(set->iterations.kind));
	jsonw_key(w, "iterations");
	if (set->max_iterations == POOL4_ITERATIONS_INFINITE)
		jsonw_null(w);
	else
		jsonw_u64(w, set->max_iterations);
}

/* Paging by position: skip `cursor` items, write up to `limit`. */
struct page {
	struct request *r;
	uint64_t index;
	uint64_t cursor;
	uint32_t limit;
	uint32_t written;
	bool more;
	uint32_t next_addr; /* pool4.usage: where the next page starts */
};

/* Position paging: true when the item at the current index is to be written. */
static bool
page_take(struct page *pg)
{
	if (pg->index++ < pg->cursor)
		return false;
	if (pg->written == pg->limit) {
		pg->more = true;
		return false;
	}
	pg->written++;
	return true;
}

static void
page_end(struct page *pg, uint64_t next)
{
	struct jsonw *w = pg->r->w;

	jsonw_arr_close(w);
	jsonw_key(w, "cursor");
	if (pg->more)
		jsonw_u64(w, next);
	else
		jsonw_null(w);
}

static int
entry_cb(void *arg, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	struct page *pg = arg;
	struct jsonw *w = pg->r->w;
	char prefix[WIRE_PREFIX4_LEN + 1];

	if (!page_take(pg))
		return pg->more;
	wire_print_prefix4(&e->prefix, prefix, sizeof(prefix));
	jsonw_obj_open(w);
	jsonw_key(w, "mark");
	jsonw_u64(w, e->mark);
	jsonw_key(w, "prefix");
	jsonw_str(w, prefix);
	jsonw_key(w, "min");
	jsonw_u64(w, e->port_min);
	jsonw_key(w, "max");
	jsonw_u64(w, e->port_max);
	write_iterations(w, set);
	jsonw_obj_close(w);
	return 0;
}

int
cmd_pool4_display(struct request *r)
{
	struct page pg = {
		.r = r, .cursor = request_uint(r, "cursor", 0), .limit = request_limit(r)};

	jsonw_key(r->w, "entries");
	jsonw_arr_open(r->w);
	pool4_foreach(nat64_pool4(r->engine), (enum l4proto)request_proto(r), entry_cb, &pg);
	page_end(&pg, pg.cursor + pg.written);
	return 0;
}

struct usage_page {
	struct page pg;
	const struct bib *db;
	enum l4proto proto;
};

static int
usage_cb(void *arg, struct in_addr addr, uint32_t port_count)
{
	struct usage_page *u = arg;
	struct jsonw *w = u->pg.r->w;
	char text[INET_ADDRSTRLEN];

	if (ntohl(addr.s_addr) < u->pg.cursor)
		return 0;
	if (u->pg.written == u->pg.limit) {
		u->pg.more = true;
		u->pg.next_addr = ntohl(addr.s_addr);
		return 1;
	}
	u->pg.written++;
	inet_ntop(AF_INET, &addr, text, sizeof(text));
	jsonw_arr_open(w);
	jsonw_str(w, text);
	jsonw_u64(w, bib_usage4(u->db, u->proto, addr));
	jsonw_u64(w, port_count);
	jsonw_arr_close(w);
	return 0;
}

/* Per address: [address, ports in use, ports in pool4]. The cursor is the
 * next address (host order). */
int
cmd_pool4_usage(struct request *r)
{
	struct usage_page u = {
		.pg = {.r = r, .cursor = request_uint(r, "cursor", 0), .limit = request_limit(r)},
		.db = nat64_bib(r->engine),
		.proto = (enum l4proto)request_proto(r),
	};

	jsonw_key(r->w, "rows");
	jsonw_arr_open(r->w);
	pool4_foreach_address(nat64_pool4(r->engine), u.proto, usage_cb, &u);
	page_end(&u.pg, u.pg.next_addr);
	return 0;
}

static void
write_in_use(struct request *r, const struct pool4_set_info *set)
{
	uint64_t in_use = 0, when, budget = LIVE_COUNT_MAX;
	uint32_t cursor = 0;

	jsonw_key(r->w, "in_use");
	if (set->addr_count <= LIVE_COUNT_MAX &&
	    occupancy_count(r->engine, set->mark, set->proto, &cursor, &budget, &in_use)) {
		jsonw_u64(r->w, in_use);
		return;
	}
	if (r->occupancy && occupancy_last(r->occupancy, set->mark, set->proto, &in_use, &when)) {
		jsonw_u64(r->w, in_use);
		jsonw_key(r->w, "age_ms");
		jsonw_u64(r->w, r->now - when);
		return;
	}
	jsonw_null(r->w);
}

static int
set_cb(void *arg, const struct pool4_set_info *set)
{
	struct page *pg = arg;
	struct jsonw *w = pg->r->w;

	if (!page_take(pg))
		return pg->more;
	jsonw_obj_open(w);
	jsonw_key(w, "mark");
	jsonw_u64(w, set->mark);
	write_iterations(w, set);
	jsonw_key(w, "taddrs");
	jsonw_u64(w, set->taddr_count);
	jsonw_key(w, "addrs");
	jsonw_u64(w, set->addr_count);
	write_in_use(pg->r, set);
	jsonw_obj_close(w);
	return 0;
}

int
cmd_pool4_sets(struct request *r)
{
	struct page pg = {
		.r = r, .cursor = request_uint(r, "cursor", 0), .limit = request_limit(r)};

	jsonw_key(r->w, "sets");
	jsonw_arr_open(r->w);
	pool4_foreach_set(nat64_pool4(r->engine), (enum l4proto)request_proto(r), set_cb, &pg);
	page_end(&pg, pg.cursor + pg.written);
	return 0;
}

/* --- Changes ------------------------------------------------------------- */

/* The "protocols" argument as a bit mask of 1 << enum l4proto. */
static unsigned int
protocols(const struct request *r)
{
	const json_t *list = json_object_get(r->args, "protocols");
	unsigned int mask = 0;
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item)
	{
		enum l4proto p;

		if (wire_parse_proto(json_string_value(item), &p))
			mask |= 1u << p;
	}
	return mask;
}

/* The entry of the request, for protocol TCP until the caller sets it. */
static int
read_entry(struct request *r, struct pool4_entry *e)
{
	uint64_t a = request_uint(r, "min", 0), b = request_uint(r, "max", 65535);

	if (!wire_parse_prefix4(request_str(r, "prefix"), &e->prefix, r->err, sizeof(r->err)))
		return -1;
	e->mark = (uint32_t)request_uint(r, "mark", 0);
	e->proto = L4_TCP;
	e->port_min = (uint16_t)(a < b ? a : b);
	e->port_max = (uint16_t)(a < b ? b : a);
	return 0;
}

static void
read_iterations(const struct request *r, struct pool4_iterations *iter)
{
	const json_t *v = json_object_get(r->args, "iterations");
	char unused[8];

	if (json_is_integer(v))
		*iter = (struct pool4_iterations){.kind = POOL4_ITER_FIXED,
						  .value = (uint32_t)json_integer_value(v)};
	else if (v)
		wire_parse_iterations(json_string_value(v), iter, unused, sizeof(unused));
	else
		*iter = (struct pool4_iterations){.kind = POOL4_ITER_UNCHANGED};
}

/* The netns' ephemeral port range; false when it can't be read. */
static bool
ephemeral_range(unsigned int *lo, unsigned int *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	bool ok;

	if (f == NULL)
		return false;
	ok = fscanf(f, "%u %u", lo, hi) == 2;
	fclose(f);
	return ok;
}

/* A local IPv4 address of this host inside `prefix`, or false. */
static bool
local_address_in(const struct prefix4 *prefix, struct in_addr *out)
{
	uint32_t mask = prefix->len ? ~(uint32_t)0 << (32 - prefix->len) : 0;
	struct ifaddrs *list, *i;
	bool found = false;

	if (getifaddrs(&list) < 0)
		return false;
	for (i = list; i && !found; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const void *)i->ifa_addr;

		if (sin == NULL || sin->sin_family != AF_INET)
			continue;
		if ((ntohl(sin->sin_addr.s_addr) & mask) == ntohl(prefix->addr.s_addr)) {
			*out = sin->sin_addr;
			found = true;
		}
	}
	freeifaddrs(list);
	return found;
}

/*
 * Jool 4.1.15 (issue #437): a TCP/UDP range that overlaps the ephemeral
 * ports breaks the host's own connections. That only happens when the
 * address is one of the host's (pool4 addresses are normally routed to
 * the TUN device and belong to nobody else), so only then is it refused.
 */
static int
check_ephemeral(struct request *r, const struct pool4_entry *e)
{
	unsigned int lo, hi;
	struct in_addr local;
	char addr[INET_ADDRSTRLEN];

	if (e->proto == L4_ICMP || !ephemeral_range(&lo, &hi))
		return 0;
	if (e->port_min > hi || e->port_max < lo || !local_address_in(&e->prefix, &local))
		return 0;
	inet_ntop(AF_INET, &local, addr, sizeof(addr));
	return request_fail(r,
			    "pool4: ports %u-%u overlap the ephemeral range %u-%u "
			    "(net.ipv4.ip_local_port_range) of this host's address %s: use other "
			    "ports or --force",
			    e->port_min, e->port_max, lo, hi, addr);
}

/* What pool4_add() would refuse, checked for every protocol before the
 * first one is added, so a refusal changes nothing. */
static int
check_add(struct request *r, const struct pool4_entry *e, bool force)
{
	char prefix[WIRE_PREFIX4_LEN + 1];

	wire_print_prefix4(&e->prefix, prefix, sizeof(prefix));
	if (e->proto != L4_ICMP && e->port_max == 0)
		return request_fail(r, "pool4: port 0 is not usable for %s (ports 1-65535)",
				    wire_proto_name(e->proto));
	/* Jool's client: a userspace guard against typos, not a limit. */
	if (e->prefix.len < 24 && !force)
		return request_fail(r,
				    "pool4: %s holds %" PRIu64 " addresses (shorter than /24): "
				    "add --force if you mean it",
				    prefix, (uint64_t)1 << (32 - e->prefix.len));
	return force ? 0 : check_ephemeral(r, e);
}

int
cmd_pool4_add(struct request *r)
{
	unsigned int mask = protocols(r);
	bool force = request_bool(r, "force");
	struct pool4_iterations iter;
	struct pool4_entry e;

	if (read_entry(r, &e) < 0)
		return -1;
	read_iterations(r, &iter);
	for (e.proto = 0; e.proto < L4_COUNT; e.proto++)
		if ((mask & 1u << e.proto) && check_add(r, &e, force) < 0)
			return -1;
	for (e.proto = 0; e.proto < L4_COUNT; e.proto++) {
		int rc;

		if (!(mask & 1u << e.proto))
			continue;
		rc = nat64_pool4_add(r->engine, &e, &iter);
		if (rc < 0)
			return request_fail(r, "pool4: %s", pool4_strerror(rc));
		r->changed |= CTL_CHANGE_POOL4;
	}
	return 0;
}

int
cmd_pool4_remove(struct request *r)
{
	unsigned int mask = protocols(r), removed = 0;
	bool quick = request_bool(r, "quick");
	char prefix[WIRE_PREFIX4_LEN + 1];
	struct pool4_entry e;

	if (read_entry(r, &e) < 0)
		return -1;
	jsonw_key(r->w, "removed");
	jsonw_arr_open(r->w);
	for (e.proto = 0; e.proto < L4_COUNT; e.proto++) {
		int rc;

		if (!(mask & 1u << e.proto))
			continue;
		rc = nat64_pool4_remove(r->engine, &e, quick, r->now);
		if (rc == -ENOENT)
			continue;
		if (rc < 0)
			return request_fail(r, "pool4: %s", pool4_strerror(rc));
		jsonw_str(r->w, wire_proto_name(e.proto));
		removed++;
		r->changed |= CTL_CHANGE_POOL4 | (quick ? 0 : CTL_CHANGE_BIB);
	}
	jsonw_arr_close(r->w);
	if (removed == 0) {
		wire_print_prefix4(&e.prefix, prefix, sizeof(prefix));
		return request_fail(r, "pool4: %s ports %u-%u mark %" PRIu32 " is not in pool4",
				    prefix, e.port_min, e.port_max, e.mark);
	}
	return 0;
}

int
cmd_pool4_flush(struct request *r)
{
	bool quick = request_bool(r, "quick");

	nat64_pool4_flush(r->engine, quick, r->now);
	r->changed |= CTL_CHANGE_POOL4 | (quick ? 0 : CTL_CHANGE_BIB);
	return 0;
}
