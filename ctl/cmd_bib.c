/*
 * BIB commands: display (every engine's table in turn, walk.h), static
 * entries add and remove (in every engine: a static entry is configuration,
 * replicated so whichever worker owns the flow finds it).
 */
#include "cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "nat64.h"
#include "server.h"
#include "walk.h"
#include "wire.h"

struct bib_page {
	struct jsonw *w;
	enum l4proto proto;
	uint32_t limit;
	uint32_t written;
	unsigned int engine; /* the one walked now */
};

/* A row is one string: "IPV6 PORT IPV4 PORT static|dynamic" (as session
 * rows, a string per entry keeps large tables cheap to parse). */
static int
bib_cb(void *arg, const struct bib_entry *e)
{
	struct bib_page *pg = arg;
	struct taddr6 a6 = bib_entry_taddr6(e);
	struct taddr4 a4 = bib_entry_taddr4(e);
	const char *kind = bib_entry_is_static(e) ? " static" : " dynamic";
	char row[FMT_IPV6_MAX + FMT_IPV4_MAX + 2 * FMT_U64_MAX + 16];
	size_t n;

	/* Static entries are in every engine: shown once, engine 0's. */
	if (pg->engine > 0 && bib_entry_is_static(e))
		return 0;
	n = fmt_ipv6(row, &a6.addr);
	row[n++] = ' ';
	n += fmt_u64(row + n, a6.port);
	row[n++] = ' ';
	n += fmt_ipv4(row + n, a4.addr);
	row[n++] = ' ';
	n += fmt_u64(row + n, a4.port);
	memcpy(row + n, kind, strlen(kind) + 1);
	jsonw_str(pg->w, row);
	return ++pg->written == pg->limit;
}

static int
bib_walk(void *arg, struct nat64 *n, unsigned int index, uint32_t *cursor)
{
	struct bib_page *pg = arg;

	pg->engine = index;
	return bib_foreach(nat64_bib(n), pg->proto, cursor, bib_cb, pg);
}

int
cmd_bib_display(struct request *r)
{
	struct bib_page pg = {
		.w = r->w, .proto = (enum l4proto)request_proto(r), .limit = request_limit(r)};
	uint64_t next;
	bool more;

	jsonw_key(r->w, "entries");
	jsonw_arr_open(r->w);
	more = walk_engines(r, request_uint(r, "cursor", 0), bib_walk, &pg, &next);
	jsonw_arr_close(r->w);
	jsonw_key(r->w, "cursor");
	if (more)
		jsonw_u64(r->w, next);
	else
		jsonw_null(r->w);
	return 0;
}

static int
bib_error(struct request *r, int rc, const char *t6, const char *t4)
{
	const char *proto = wire_proto_name((enum l4proto)request_proto(r));

	switch (rc) {
	case -EADDRNOTAVAIL:
		return request_fail(r, "bib: %s is not in pool4 (%s)", t4, proto);
	case -EEXIST:
		return request_fail(
			r, "bib: %s is already mapped to another IPv4 transport address", t6);
	case -EADDRINUSE:
		return request_fail(
			r, "bib: %s is already mapped to another IPv6 transport address", t4);
	case -EALREADY:
		return request_fail(r, "bib: the static entry %s - %s already exists", t6, t4);
	case -ENOENT:
		return request_fail(r, "bib: no %s entry matches", proto);
	case -ENOMEM:
		return request_fail(r, "bib: out of memory");
	default:
		return request_fail(r, "bib: refused (%s)", strerror(-rc));
	}
}

/* Takes the entry out of engines 0 .. count - 1 again. */
static void
undo_add(struct request *r, unsigned int count, const struct taddr6 *a6, const struct taddr4 *a4)
{
	for (unsigned int i = 0; i < count; i++) {
		nat64_bib_remove(request_acquire(r, i), (enum l4proto)request_proto(r), a6, a4,
				 r->now);
		request_release(r, i);
	}
}

/* In every engine, in order, or in none: an engine that refuses (its own
 * dynamic entry holds one of the taddrs) undoes the ones before it, and its
 * reason is the reply. */
int
cmd_bib_add(struct request *r)
{
	const char *t6 = request_str(r, "ipv6"), *t4 = request_str(r, "ipv4");
	struct taddr6 a6;
	struct taddr4 a4;
	int rc = 0;

	if (!wire_parse_taddr6(t6, &a6, r->err, sizeof(r->err)) ||
	    !wire_parse_taddr4(t4, &a4, r->err, sizeof(r->err)))
		return -1;
	for (unsigned int i = 0; i < request_engine_count(r) && rc == 0; i++) {
		rc = nat64_bib_add(request_acquire(r, i), (enum l4proto)request_proto(r), &a6, &a4,
				   r->now);
		request_release(r, i);
		if (rc < 0) {
			undo_add(r, i, &a6, &a4);
			return bib_error(r, rc, t6, t4);
		}
	}
	r->changed |= CTL_CHANGE_BIB;
	return 0;
}

/* From every engine: a static entry is in all of them, a dynamic one in
 * one. 0 when some engine had it, else the first engine's error. */
static int
remove_everywhere(struct request *r, const struct taddr6 *a6, const struct taddr4 *a4)
{
	int first = 0;
	bool removed = false;

	for (unsigned int i = 0; i < request_engine_count(r); i++) {
		int rc = nat64_bib_remove(request_acquire(r, i), (enum l4proto)request_proto(r), a6,
					  a4, r->now);

		request_release(r, i);
		if (rc == 0)
			removed = true;
		else if (i == 0)
			first = rc;
	}
	return removed ? 0 : first;
}

int
cmd_bib_remove(struct request *r)
{
	const char *t6 = request_str(r, "ipv6"), *t4 = request_str(r, "ipv4");
	struct taddr6 a6;
	struct taddr4 a4;
	int rc;

	if (t6 == NULL && t4 == NULL)
		return request_fail(r,
				    "bib: give the IPv6 or the IPv4 transport address (or both)");
	if (t6 && !wire_parse_taddr6(t6, &a6, r->err, sizeof(r->err)))
		return -1;
	if (t4 && !wire_parse_taddr4(t4, &a4, r->err, sizeof(r->err)))
		return -1;
	rc = remove_everywhere(r, t6 ? &a6 : NULL, t4 ? &a4 : NULL);
	if (rc < 0)
		return bib_error(r, rc, t6 ? t6 : "?", t4 ? t4 : "?");
	r->changed |= CTL_CHANGE_BIB;
	return 0;
}
