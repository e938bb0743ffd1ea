/*
 * pool4 display commands: entries, per-address usage, per-set occupancy
 * (changes: cmd_pool4_edit.c).
 */
#include "cmd.h"

#include <arpa/inet.h>
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
