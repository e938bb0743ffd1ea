/*
 * BIB commands: display (paged with the table's own cursor), static
 * entries add and remove.
 */
#include "cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "nat64.h"
#include "server.h"
#include "wire.h"

struct bib_page {
	struct jsonw *w;
	uint32_t limit;
	uint32_t written;
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
	size_t n = fmt_ipv6(row, &a6.addr);

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

int
cmd_bib_display(struct request *r)
{
	struct bib_page pg = {.w = r->w, .limit = request_limit(r)};
	uint32_t cursor = (uint32_t)request_uint(r, "cursor", 0);
	int more;

	jsonw_key(r->w, "entries");
	jsonw_arr_open(r->w);
	more = bib_foreach(nat64_bib(r->engine), (enum l4proto)request_proto(r), &cursor, bib_cb,
			   &pg);
	jsonw_arr_close(r->w);
	jsonw_key(r->w, "cursor");
	if (more)
		jsonw_u64(r->w, cursor);
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

int
cmd_bib_add(struct request *r)
{
	const char *t6 = request_str(r, "ipv6"), *t4 = request_str(r, "ipv4");
	struct taddr6 a6;
	struct taddr4 a4;
	int rc;

	if (!wire_parse_taddr6(t6, &a6, r->err, sizeof(r->err)) ||
	    !wire_parse_taddr4(t4, &a4, r->err, sizeof(r->err)))
		return -1;
	rc = nat64_bib_add(r->engine, (enum l4proto)request_proto(r), &a6, &a4, r->now);
	if (rc < 0)
		return bib_error(r, rc, t6, t4);
	r->changed |= CTL_CHANGE_BIB;
	return 0;
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
	rc = nat64_bib_remove(r->engine, (enum l4proto)request_proto(r), t6 ? &a6 : NULL,
			      t4 ? &a4 : NULL, r->now);
	if (rc < 0)
		return bib_error(r, rc, t6 ? t6 : "?", t4 ? t4 : "?");
	r->changed |= CTL_CHANGE_BIB;
	return 0;
}
