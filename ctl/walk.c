/* One cursor over the tables of every engine (walk.h). */
#include "walk.h"

#include "request.h"

bool
walk_engines(struct request *r, uint64_t cursor, walk_fn fn, void *arg, uint64_t *next)
{
	uint32_t table_cursor = (uint32_t)cursor;

	for (uint64_t i = cursor >> 32; i < request_engine_count(r); i++, table_cursor = 0) {
		struct nat64 *n = request_acquire(r, (unsigned int)i);
		int more = fn(arg, n, (unsigned int)i, &table_cursor);

		request_release(r, (unsigned int)i);
		if (more) {
			*next = i << 32 | table_cursor;
			return true;
		}
	}
	return false;
}
