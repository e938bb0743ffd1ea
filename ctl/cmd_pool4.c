/*
 * pool4 display commands: entries, per-address usage, per-set occupancy
 * (changes: cmd_pool4_edit.c). pool4 is the same in every engine, so the
 * entries and sets are engine 0's; the ports in use are the sum over the
 * engines, each BIB counting its own. A page is read from engine 0 first
 * (into an array), then every engine adds its counts: one engine held at a
 * time.
 */
#include "cmd.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "engines.h"
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
	pool4_foreach(nat64_pool4(request_acquire(r, 0)), (enum l4proto)request_proto(r), entry_cb,
		      &pg);
	request_release(r, 0);
	page_end(&pg, pg.cursor + pg.written);
	return 0;
}

struct usage_row {
	struct in_addr addr;
	uint32_t port_count;
	uint64_t in_use;
};

struct usage_page {
	struct page pg;
	enum l4proto proto;
	struct usage_row *rows; /* pg.limit of them */
};

static int
usage_cb(void *arg, struct in_addr addr, uint32_t port_count)
{
	struct usage_page *u = arg;

	if (ntohl(addr.s_addr) < u->pg.cursor)
		return 0;
	if (u->pg.written == u->pg.limit) {
		u->pg.more = true;
		u->pg.next_addr = ntohl(addr.s_addr);
		return 1;
	}
	u->rows[u->pg.written++] = (struct usage_row){.addr = addr, .port_count = port_count};
	return 0;
}

/* Per address: [address, ports in use, ports in pool4]. The cursor is the
 * next address (host order). */
int
cmd_pool4_usage(struct request *r)
{
	struct usage_page u = {
		.pg = {.r = r, .cursor = request_uint(r, "cursor", 0), .limit = request_limit(r)},
		.proto = (enum l4proto)request_proto(r),
	};
	char text[INET_ADDRSTRLEN];

	u.rows = calloc(u.pg.limit, sizeof(*u.rows));
	if (u.rows == NULL)
		return request_fail(r, "pool4: out of memory");
	pool4_foreach_address(nat64_pool4(request_acquire(r, 0)), u.proto, usage_cb, &u);
	request_release(r, 0);
	for (unsigned int i = 0; i < request_engine_count(r); i++) {
		const struct bib *db = nat64_bib(request_acquire(r, i));

		for (uint32_t k = 0; k < u.pg.written; k++)
			u.rows[k].in_use += bib_usage4(db, u.proto, u.rows[k].addr);
		request_release(r, i);
	}
	jsonw_key(r->w, "rows");
	jsonw_arr_open(r->w);
	for (uint32_t k = 0; k < u.pg.written; k++) {
		inet_ntop(AF_INET, &u.rows[k].addr, text, sizeof(text));
		jsonw_arr_open(r->w);
		jsonw_str(r->w, text);
		jsonw_u64(r->w, u.rows[k].in_use);
		jsonw_u64(r->w, u.rows[k].port_count);
		jsonw_arr_close(r->w);
	}
	free(u.rows);
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
	    occupancy_count_all(r->engines, set->mark, set->proto, &cursor, &budget, &in_use)) {
		jsonw_u64(r->w, in_use < set->taddr_count ? in_use : set->taddr_count);
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

struct sets_page {
	struct page pg;
	struct pool4_set_info *sets; /* pg.limit of them */
};

static int
set_cb(void *arg, const struct pool4_set_info *set)
{
	struct sets_page *sp = arg;
	uint32_t k = sp->pg.written;

	if (!page_take(&sp->pg))
		return sp->pg.more;
	sp->sets[k] = *set;
	return 0;
}

static void
write_set(struct request *r, const struct pool4_set_info *set)
{
	struct jsonw *w = r->w;

	jsonw_obj_open(w);
	jsonw_key(w, "mark");
	jsonw_u64(w, set->mark);
	write_iterations(w, set);
	jsonw_key(w, "taddrs");
	jsonw_u64(w, set->taddr_count);
	jsonw_key(w, "addrs");
	jsonw_u64(w, set->addr_count);
	write_in_use(r, set);
	jsonw_obj_close(w);
}

int
cmd_pool4_sets(struct request *r)
{
	struct sets_page sp = {
		.pg = {.r = r, .cursor = request_uint(r, "cursor", 0), .limit = request_limit(r)}};

	sp.sets = calloc(sp.pg.limit, sizeof(*sp.sets));
	if (sp.sets == NULL)
		return request_fail(r, "pool4: out of memory");
	pool4_foreach_set(nat64_pool4(request_acquire(r, 0)), (enum l4proto)request_proto(r),
			  set_cb, &sp);
	request_release(r, 0);
	jsonw_key(r->w, "sets");
	jsonw_arr_open(r->w);
	for (uint32_t k = 0; k < sp.pg.written; k++)
		write_set(r, &sp.sets[k]);
	free(sp.sets);
	page_end(&sp.pg, sp.pg.cursor + sp.pg.written);
	return 0;
}
