/*
 * pool4 occupancy: how many transport addresses of a pool4 set BIB entries
 * use, and a watch that logs when a set fills up.
 *
 * A set is (mark, protocol). Its occupancy is the sum, over its addresses,
 * of the ports BIB entries use on that address (bib_usage4), each capped at
 * the ports the set has there: the BIB's IPv4 side ignores marks, so an
 * address shared by two marks counts its entries in both sets, never more
 * than the set's own ports.
 *
 * With several engines (engines.h) each counts the ports its own BIB uses
 * (every worker allocates from its own share of each range) and the set's
 * figure is the sum, capped at the set's size. A static BIB entry is in
 * every engine, so it counts once per engine: a small overestimate.
 *
 * Counting costs one hash lookup per address, so it is done in slices: the
 * watch counts at most OCCUPANCY_BUDGET addresses per tick and evaluates a
 * set when its pass is complete (a /16 needs a few ticks).
 *
 * What the watch logs, each at most once a minute per set:
 *   pool4 TCP mark 0: 92% in use (60293 of 65535 transport addresses)
 *   pool4 TCP mark 0: full (65535 of 65535 transport addresses in use)
 *   pool4 TCP mark 0: back below 90% (1200 of 65535 in use)
 * and, at most once a minute, the drops counted in STAT_POOL4_EXHAUSTED
 * (a new IPv6 flow found no free transport address):
 *   pool4 exhausted: 120 new flows dropped since the last warning
 */
#ifndef NAT64_CTL_OCCUPANCY_H
#define NAT64_CTL_OCCUPANCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct nat64;
struct ctl_engines;
struct occupancy;

enum {
	OCCUPANCY_BUDGET = 16384,     /* addresses counted per tick */
	OCCUPANCY_HIGH_PERCENT = 90,  /* the warning threshold */
	OCCUPANCY_LOG_MS = 60 * 1000, /* one line per set per minute at most */
	OCCUPANCY_LINES = 8,          /* lines queued between two pops */
};

/*
 * Counts the transport addresses of set (mark, proto) in use, adding to
 * *in_use, from address *cursor (host order; 0 the first time), taking one
 * unit of *budget per address. Returns true when the set is done (or does
 * not exist: then nothing was added); false, with *cursor where to go on,
 * when the budget ran out first.
 */
bool occupancy_count(const struct nat64 *n, uint32_t mark, enum l4proto proto, uint32_t *cursor,
		     uint64_t *budget, uint64_t *in_use);
/* The same over every engine (one held at a time), adding up: each engine
 * counts the same addresses, so *budget and *cursor end as for one. */
bool occupancy_count_all(const struct ctl_engines *e, uint32_t mark, enum l4proto proto,
			 uint32_t *cursor, uint64_t *budget, uint64_t *in_use);

struct occupancy *occupancy_create(void);
void occupancy_destroy(struct occupancy *o);

/* One slice of the watch at `now` (ms). Lines to log are queued. */
void occupancy_tick(struct occupancy *o, const struct ctl_engines *e, uint64_t now);
/* The next queued line: true and the line in `line`, or false. */
bool occupancy_pop_line(struct occupancy *o, char *line, size_t len);

/* The last complete count of a set: true with its in-use figure and the
 * time it was taken; false when the watch has not counted it yet. */
bool occupancy_last(const struct occupancy *o, uint32_t mark, enum l4proto proto, uint64_t *in_use,
		    uint64_t *when);

#endif
