#include "occupancy.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines.h"
#include "nat64.h"
#include "wire.h"

enum level { LEVEL_LOW, LEVEL_HIGH, LEVEL_FULL };

/* What the watch knows of one set. */
struct set_state {
	uint32_t mark;
	enum l4proto proto;
	enum level level; /* as last logged */
	uint64_t in_use;  /* last complete count */
	uint64_t when;    /* ms */
	bool counted;
	bool logged;
	uint64_t logged_at; /* ms */
};

enum { LINE_LEN = 200 };

struct occupancy {
	/* The pass in progress: set (proto, mark) from address cursor. */
	enum l4proto proto;
	uint32_t mark;
	bool in_set;
	uint32_t cursor;
	uint64_t in_use;
	struct set_state *sets;
	size_t nsets, cap;
	uint64_t exhausted_seen; /* STAT_POOL4_EXHAUSTED when last reported */
	uint64_t exhausted_at;
	bool exhausted_logged;
	char lines[OCCUPANCY_LINES][LINE_LEN];
	unsigned int head, count;
};

/* --- Counting ------------------------------------------------------------ */

static uint64_t
run_ports(const struct pool4_range *ranges, const struct pool4_run *run)
{
	uint64_t n = 0;

	for (uint32_t k = 0; k < run->count; k++)
		n += (uint64_t)ranges[run->first + k].port_max - ranges[run->first + k].port_min +
		     1;
	return n;
}

/* The first run that ends at or after `addr` (runs are sorted). */
static uint32_t
first_run(const struct pool4_run *runs, uint32_t n, uint32_t addr)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (runs[mid].addr_last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool
occupancy_count(const struct nat64 *n, uint32_t mark, enum l4proto proto, uint32_t *cursor,
		uint64_t *budget, uint64_t *in_use)
{
	const struct pool4 *p = nat64_pool4(n);
	const struct bib *db = nat64_bib(n);
	struct pool4_set_info info;
	const struct pool4_set *s;
	const struct pool4_run *runs;
	const struct pool4_range *ranges;
	uint32_t nruns, nranges;

	/* pool4_find_set() answers the fallback for a protocol without
	 * entries: only a real set counts. */
	if (pool4_get_set_info(p, mark, proto, &info) < 0)
		return true;
	s = pool4_find_set(p, mark, proto);
	if (s == NULL)
		return true;
	runs = pool4_set_runs(s, &nruns);
	ranges = pool4_set_ranges(s, &nranges);
	for (uint32_t i = first_run(runs, nruns, *cursor); i < nruns; i++) {
		uint64_t ports = run_ports(ranges, &runs[i]);
		uint32_t a = runs[i].addr_first > *cursor ? runs[i].addr_first : *cursor;

		for (;;) {
			uint64_t used;

			if (*budget == 0) {
				*cursor = a;
				return false;
			}
			(*budget)--;
			used = bib_usage4(db, proto, (struct in_addr){htonl(a)});
			*in_use += used < ports ? used : ports;
			if (a == runs[i].addr_last)
				break;
			a++;
		}
	}
	return true;
}

bool
occupancy_count_all(const struct ctl_engines *e, uint32_t mark, enum l4proto proto,
		    uint32_t *cursor, uint64_t *budget, uint64_t *in_use)
{
	uint32_t c = *cursor;
	uint64_t b = *budget;
	bool done = true;

	for (unsigned int i = 0; i < e->count; i++) {
		c = *cursor;
		b = *budget;
		done = occupancy_count(e->acquire(e->ctx, i), mark, proto, &c, &b, in_use);
		e->release(e->ctx, i);
	}
	*cursor = c;
	*budget = b;
	return done;
}

/* --- The watch ----------------------------------------------------------- */

struct occupancy *
occupancy_create(void)
{
	return calloc(1, sizeof(struct occupancy));
}

void
occupancy_destroy(struct occupancy *o)
{
	if (o == NULL)
		return;
	free(o->sets);
	free(o);
}

static void queue_line(struct occupancy *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
queue_line(struct occupancy *o, const char *fmt, ...)
{
	va_list ap;

	if (o->count == OCCUPANCY_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(o->lines[(o->head + o->count) % OCCUPANCY_LINES], LINE_LEN, fmt, ap);
	va_end(ap);
	o->count++;
}

bool
occupancy_pop_line(struct occupancy *o, char *line, size_t len)
{
	if (o->count == 0)
		return false;
	snprintf(line, len, "%s", o->lines[o->head]);
	o->head = (o->head + 1) % OCCUPANCY_LINES;
	o->count--;
	return true;
}

static struct set_state *
find_state(const struct occupancy *o, uint32_t mark, enum l4proto proto)
{
	for (size_t i = 0; i < o->nsets; i++)
		if (o->sets[i].mark == mark && o->sets[i].proto == proto)
			return &o->sets[i];
	return NULL;
}

static struct set_state *
get_state(struct occupancy *o, uint32_t mark, enum l4proto proto)
{
	struct set_state *st = find_state(o, mark, proto);

	if (st)
		return st;
	if (o->nsets == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 8;
		struct set_state *sets = realloc(o->sets, cap * sizeof(*sets));

		if (sets == NULL)
			return NULL;
		o->sets = sets;
		o->cap = cap;
	}
	st = &o->sets[o->nsets++];
	memset(st, 0, sizeof(*st));
	st->mark = mark;
	st->proto = proto;
	return st;
}

static enum level
level_of(uint64_t in_use, uint64_t taddrs)
{
	if (in_use >= taddrs)
		return LEVEL_FULL;
	if (in_use * 100 >= taddrs * OCCUPANCY_HIGH_PERCENT)
		return LEVEL_HIGH;
	return LEVEL_LOW;
}

/* A set's pass is complete: remember the count, log a change of level. A
 * change refused by the rate limit is not recorded, so it is logged later
 * if it still holds. */
static void
evaluate(struct occupancy *o, const struct ctl_engines *e, uint64_t now)
{
	struct set_state *st = get_state(o, o->mark, o->proto);
	const char *proto = wire_proto_name(o->proto);
	struct pool4_set_info info;
	enum level level;
	int rc;

	if (st == NULL)
		return;
	rc = pool4_get_set_info(nat64_pool4(e->acquire(e->ctx, 0)), o->mark, o->proto, &info);
	e->release(e->ctx, 0);
	if (rc < 0)
		return;
	if (o->in_use > info.taddr_count)
		o->in_use = info.taddr_count;
	st->in_use = o->in_use;
	st->when = now;
	st->counted = true;
	level = level_of(o->in_use, info.taddr_count);
	if (level == st->level || (st->logged && now - st->logged_at < OCCUPANCY_LOG_MS))
		return;
	if (level == LEVEL_FULL)
		queue_line(o,
			   "pool4 %s mark %" PRIu32 ": full (%" PRIu64 " of %" PRIu64
			   " transport addresses in use)",
			   proto, o->mark, o->in_use, info.taddr_count);
	else if (level == LEVEL_HIGH)
		queue_line(o,
			   "pool4 %s mark %" PRIu32 ": %" PRIu64 "%% in use (%" PRIu64
			   " of %" PRIu64 " transport addresses)",
			   proto, o->mark, o->in_use * 100 / info.taddr_count, o->in_use,
			   info.taddr_count);
	else
		queue_line(o,
			   "pool4 %s mark %" PRIu32 ": back below %d%% (%" PRIu64 " of %" PRIu64
			   " in use)",
			   proto, o->mark, OCCUPANCY_HIGH_PERCENT, o->in_use, info.taddr_count);
	st->level = level;
	st->logged = true;
	st->logged_at = now;
}

struct find_ctx {
	uint32_t min_mark;
	bool found;
	uint32_t mark;
};

static int
find_cb(void *arg, const struct pool4_set_info *set)
{
	struct find_ctx *f = arg;

	if (set->mark < f->min_mark)
		return 0;
	f->found = true;
	f->mark = set->mark;
	return 1;
}

/* Moves the pass to the first set at or after (proto, mark). False at the
 * end of the pass (which then starts over from TCP mark 0). */
static bool
next_set(struct occupancy *o, const struct ctl_engines *e)
{
	for (; o->proto < L4_COUNT; o->proto++, o->mark = 0) {
		struct find_ctx f = {.min_mark = o->mark};

		pool4_foreach_set(nat64_pool4(e->acquire(e->ctx, 0)), o->proto, find_cb, &f);
		e->release(e->ctx, 0);
		if (f.found) {
			o->mark = f.mark;
			o->in_set = true;
			o->cursor = 0;
			o->in_use = 0;
			return true;
		}
	}
	o->proto = L4_TCP;
	o->mark = 0;
	return false;
}

static void
advance(struct occupancy *o)
{
	o->in_set = false;
	if (o->mark == UINT32_MAX) {
		o->mark = 0;
		o->proto++;
	} else {
		o->mark++;
	}
}

static void
check_exhausted(struct occupancy *o, const struct ctl_engines *e, uint64_t now)
{
	uint64_t cur = 0;

	for (unsigned int i = 0; i < e->count; i++) {
		cur += nat64_stats(e->acquire(e->ctx, i))->count[STAT_POOL4_EXHAUSTED];
		e->release(e->ctx, i);
	}
	if (cur < o->exhausted_seen) /* a new engine: counters restarted */
		o->exhausted_seen = cur;
	if (cur == o->exhausted_seen ||
	    (o->exhausted_logged && now - o->exhausted_at < OCCUPANCY_LOG_MS))
		return;
	queue_line(o,
		   "pool4 exhausted: %" PRIu64 " new flows dropped for lack of a free transport "
		   "address since the last warning",
		   cur - o->exhausted_seen);
	o->exhausted_seen = cur;
	o->exhausted_at = now;
	o->exhausted_logged = true;
}

void
occupancy_tick(struct occupancy *o, const struct ctl_engines *e, uint64_t now)
{
	uint64_t budget = OCCUPANCY_BUDGET;

	check_exhausted(o, e, now);
	while (budget > 0) {
		if (!o->in_set && !next_set(o, e))
			return;
		if (!occupancy_count_all(e, o->mark, o->proto, &o->cursor, &budget, &o->in_use))
			return;
		evaluate(o, e, now);
		advance(o);
	}
}

bool
occupancy_last(const struct occupancy *o, uint32_t mark, enum l4proto proto, uint64_t *in_use,
	       uint64_t *when)
{
	const struct set_state *st = find_state(o, mark, proto);

	if (st == NULL || !st->counted)
		return false;
	*in_use = st->in_use;
	*when = st->when;
	return true;
}
