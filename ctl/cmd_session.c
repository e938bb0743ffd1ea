/*
 * session.display: one page of the session table per request.
 *
 * The walk covers the sessions of every protocol and filters here, so a
 * page can stop after a bounded number of sessions visited (VISIT_FACTOR
 * times the page) even when few of them are of the protocol asked for: a
 * request never stalls the packet path for a walk of the whole table. Such
 * a page may hold fewer rows than the limit, or none, with a cursor to go
 * on.
 */
#include "cmd.h"

#include <arpa/inet.h>

#include "nat64.h"
#include "wire.h"

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

static void
write_taddr6(struct jsonw *w, const struct taddr6 *t)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &t->addr, text, sizeof(text));
	jsonw_str(w, text);
	jsonw_u64(w, t->port);
}

static void
write_taddr4(struct jsonw *w, const struct taddr4 *t)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &t->addr, text, sizeof(text));
	jsonw_str(w, text);
	jsonw_u64(w, t->port);
}

/* Row: [src6, port, dst6, port, src4, port, dst4, port, expires in (ms),
 * TCP state or null] (RFC 6146 §3.5 / Jool naming of the tuple). */
static int
session_cb(void *arg, const struct session *s)
{
	struct session_page *pg = arg;
	struct session_tuple t;

	pg->visits_left--;
	session_get_tuple(pg->db, s, &t);
	if (t.proto == pg->proto) {
		jsonw_arr_open(pg->w);
		write_taddr6(pg->w, &t.src6);
		write_taddr6(pg->w, &t.dst6);
		write_taddr4(pg->w, &t.src4);
		write_taddr4(pg->w, &t.dst4);
		jsonw_u64(pg->w, session_expires_in(pg->db, s, pg->now));
		if (t.proto == L4_TCP)
			jsonw_str(pg->w, tcp_state_name((enum tcp_state)s->se_state));
		else
			jsonw_null(pg->w);
		jsonw_arr_close(pg->w);
		pg->written++;
	}
	return pg->written == pg->limit || pg->visits_left == 0;
}

int
cmd_session_display(struct request *r)
{
	struct session_page pg = {
		.w = r->w,
		.db = nat64_bib(r->engine),
		.proto = (enum l4proto)request_proto(r),
		.now = r->now,
		.limit = request_limit(r),
	};
	uint32_t cursor = (uint32_t)request_uint(r, "cursor", 0);
	int more;

	pg.visits_left = pg.limit * VISIT_FACTOR;
	jsonw_key(r->w, "sessions");
	jsonw_arr_open(r->w);
	more = session_foreach(pg.db, L4_COUNT, &cursor, session_cb, &pg);
	jsonw_arr_close(r->w);
	jsonw_key(r->w, "cursor");
	if (more)
		jsonw_u64(r->w, cursor);
	else
		jsonw_null(r->w);
	return 0;
}
