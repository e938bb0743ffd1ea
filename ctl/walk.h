/*
 * Paging through a table spread over the engines (BIB entries, sessions):
 * engine 0's table, then engine 1's, and so on, with one stateless cursor
 * for the whole walk:
 *
 *   cursor = (engine index << 32) | that engine's table cursor
 *
 * A page may end inside an engine or span two or more; each engine is
 * held only while its part of the page is written. While nothing changes,
 * no row repeats or gets lost across pages (each engine's own cursor
 * promises that for its table). A cursor naming an engine past the last
 * (the daemon restarted with fewer workers) ends the walk: an empty page.
 */
#ifndef NAT64_CTL_WALK_H
#define NAT64_CTL_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct nat64;
struct request;

/*
 * Walks engine `index`'s table from *cursor, as bib_foreach() does:
 * non-zero when the page is done (then *cursor is where the next one
 * starts in this engine), 0 when this engine's table is finished.
 */
typedef int (*walk_fn)(void *arg, struct nat64 *n, unsigned int index, uint32_t *cursor);

/* Runs `fn` over the engines from `cursor`: true with *next when there is
 * more to read, false at the end of the last engine. */
bool walk_engines(struct request *r, uint64_t cursor, walk_fn fn, void *arg, uint64_t *next);

#endif
