/*
 * A streaming JSON writer into a struct buf: the daemon's replies. A page
 * of 2048 sessions is written straight into the client's output buffer,
 * with no tree built first (jansson would allocate an object per field).
 *
 * Commas are placed by the writer: each container remembers whether it
 * holds a member yet. Nesting is bounded (JSONW_DEPTH); deeper writes mark
 * the buffer failed.
 */
#ifndef NAT64_CTL_JSONW_H
#define NAT64_CTL_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

enum { JSONW_DEPTH = 16 };

struct jsonw {
	struct buf *b;
	unsigned depth;
	bool after_key;
	bool nonempty[JSONW_DEPTH];
};

void jsonw_init(struct jsonw *w, struct buf *b);
void jsonw_obj_open(struct jsonw *w);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w);
void jsonw_arr_close(struct jsonw *w);
/* An object member's name; the next value is its value. */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* Writes `s` as a JSON string (quotes included) into `b`. */
void jsonw_quote(struct buf *b, const char *s);

#endif
