/*
 * session.display: one page of the session tables per request, engine 0's
 * table then engine 1's ... (walk.h).
 *
 * The walk covers the sessions of every protocol and filters here, so a
 * page can stop after a bounded number of sessions visited (VISIT_FACTOR
 * times the page) even when few of them are of the protocol asked for: a
 * request never stalls the packet path for a walk of the whole table (the
 * bound holds for the whole page, however many engines it spans). Such
 * a page may hold fewer rows than the limit, or none, with a cursor to go
 * on.
 */
#include "cmd.h"

#include <string.h>

#include "fmt.h"
#include "nat64.h"
#include "walk.h"

enum { VISIT_FACTOR = 4 };

struct session_page {
	struct jsonw *w;
	const struct bib *db;
	enum l4proto proto;
	uint64_t now;
	uint32_t limit;
	uint32_t written;
	uint32_t visits_left;
};

enum { ROW_MAX = 2 * (FMT_IPV6_MAX + 7) + 2 * (FMT_IPV4_MAX + 7) + FMT_U64_MAX + 24 };

static size_t
put6(char *out, const struct taddr6 *t)
{
	size_t n = fmt_ipv6(out, &t->addr);

	out[n++] = ' ';
	n += fmt_u64(out + n, t->port);
	out[n++] = ' ';
	return n;
}

static size_t
put4(char *out, const struct taddr4 *t)
{
	size_t n = fmt_ipv4(out, t->addr);

	out[n++] = ' ';
	n += fmt_u64(out + n, t->port);
	out[n++] = ' ';
	return n;
}

/*
 * A row is one string of space-separated fields (RFC 6146 §3.5 / Jool
 * naming of the tuple):
 *   "SRC6 PORT DST6 PORT SRC4 PORT DST4 PORT EXPIRES_MS STATE"
 * STATE is the TCP state, "-" for UDP and ICMP. One string per session
 * rather than an array of ten values: the client parses a million of them.
 */
static int
session_cb(void *arg, const struct session *s)
{
	struct session_page *pg = arg;
	struct session_tuple t;
	char row[ROW_MAX];
	const char *state;
	size_t n;

	pg->visits_left--;
	session_get_tuple(pg->db, s, &t);
	if (t.proto == pg->proto) {
		n = put6(row, &t.src6);
		n += put6(row + n, &t.dst6);
		n += put4(row + n, &t.src4);
		n += put4(row + n, &t.dst4);
		n += fmt_u64(row + n, session_expires_in(pg->db, s, pg->now));
		state = t.proto == L4_TCP ? tcp_state_name((enum tcp_state)s->se_state) : "-";
		row[n++] = ' ';
		memcpy(row + n, state, strlen(state) + 1);
		jsonw_str(pg->w, row);
		pg->written++;
	}
	return pg->written == pg->limit || pg->visits_left == 0;
}

static int
session_walk(void *arg, struct nat64 *n, unsigned int index, uint32_t *cursor)
{
	struct session_page *pg = arg;

	(void)index;
	pg->db = nat64_bib(n);
	return session_foreach(pg->db, L4_COUNT, cursor, session_cb, pg);
}

int
cmd_session_display(struct request *r)
{
	struct session_page pg = {
		.w = r->w,
		.proto = (enum l4proto)request_proto(r),
		.now = r->now,
		.limit = request_limit(r),
	};
	uint64_t next;
	bool more;

	pg.visits_left = pg.limit * VISIT_FACTOR;
	jsonw_key(r->w, "sessions");
	jsonw_arr_open(r->w);
	more = walk_engines(r, request_uint(r, "cursor", 0), session_walk, &pg, &next);
	jsonw_arr_close(r->w);
	jsonw_key(r->w, "cursor");
	if (more)
		jsonw_u64(r->w, next);
	else
		jsonw_null(r->w);
	return 0;
}
