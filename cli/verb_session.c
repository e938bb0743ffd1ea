/*
 * nat64 session display: the table is read page by page (CTL_PAGE
 * sessions per request) and printed as it comes, so a million sessions
 * never sit in memory at once, in the daemon or here.
 *
 * Jool's console form, per session:
 *   (ESTABLISHED) Expires in 1:59:58.836
 *   Remote: 192.0.2.10#80	2001:db8::5#1234
 *   Local: 192.0.2.2#1234	64:ff9b::c000:20a#80
 * "Remote" are the two nodes (IPv4 node, IPv6 node), "Local" the
 * translator's two faces (pool4 mask, pool6 address).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "globals.h"
#include "names.h"
#include "table.h"
#include "verbs.h"

static const char *const csv_header[] = {
	"Protocol",
	"IPv6 Remote Address",
	"IPv6 Remote L4-ID",
	"IPv6 Local Address",
	"IPv6 Local L4-ID",
	"IPv4 Local Address",
	"IPv4 Local L4-ID",
	"IPv4 Remote Address",
	"IPv4 Remote L4-ID",
	"Expires in",
	"State",
};

/* Daemon row: "SRC6 PORT DST6 PORT SRC4 PORT DST4 PORT EXPIRES_MS STATE". */
struct row {
	char buf[256];
	const char *addr[4];
	const char *port[4];
	const char *expires_ms;
	char expires[32];
	const char *state; /* NULL for UDP and ICMP */
};

static bool
read_row(const char *text, struct row *r)
{
	const char *f[10];

	if (client_split(text, r->buf, sizeof(r->buf), f, 10) != 10)
		return false;
	for (int i = 0; i < 4; i++) {
		r->addr[i] = f[2 * i];
		r->port[i] = f[2 * i + 1];
	}
	r->expires_ms = f[8];
	globals_print_time(strtoull(f[8], NULL, 10), r->expires, sizeof(r->expires));
	r->state = strcmp(f[9], "-") == 0 ? NULL : f[9];
	return true;
}

static void
print_table(struct rows_out *o, const struct row *r)
{
	const char *src6 = o->numeric ? r->addr[0] : names_ipv6(r->addr[0]);

	fputs("---------------------------------\n", o->f);
	if (r->state)
		fprintf(o->f, "(%s) ", r->state);
	fprintf(o->f, "Expires in %s\n", r->expires);
	fprintf(o->f, "Remote: %s#%s\t%s#%s\n", r->addr[3], r->port[3], src6, r->port[0]);
	fprintf(o->f, "Local: %s#%s\t%s#%s\n", r->addr[2], r->port[2],
		o->numeric ? r->addr[1] : names_ipv6(r->addr[1]), r->port[1]);
}

static void
print_csv(struct rows_out *o, const struct row *r)
{
	const char *fields[11] = {o->proto,
				  r->addr[0],
				  r->port[0],
				  r->addr[1],
				  r->port[1],
				  r->addr[2],
				  r->port[2],
				  r->addr[3],
				  r->port[3],
				  r->expires,
				  r->state ? r->state : ""};

	csv_row(o->f, 11, fields);
}

static void
print_json(struct rows_out *o, const struct row *r)
{
	static const char *const keys[4] = {"ipv6 remote", "ipv6 local", "ipv4 local",
					    "ipv4 remote"};

	fprintf(o->f, "%s\n  {\"protocol\": \"%s\"", o->count ? "," : "", o->proto);
	for (int i = 0; i < 4; i++)
		fprintf(o->f, ", \"%s\": \"%s#%s\"", keys[i], r->addr[i], r->port[i]);
	fprintf(o->f, ", \"expires in ms\": %s", r->expires_ms);
	if (r->state)
		fprintf(o->f, ", \"state\": \"%s\"}", r->state);
	else
		fputs(", \"state\": null}", o->f);
}

static int
print_row(void *arg, const char *text)
{
	struct rows_out *o = arg;
	struct row r;

	if (!read_row(text, &r))
		return cli_fail(EXIT_REJECTED, "malformed session row from the daemon");
	if (o->format == FMT_TABLE)
		print_table(o, &r);
	else if (o->format == FMT_CSV)
		print_csv(o, &r);
	else
		print_json(o, &r);
	o->count++;
	return 0;
}

int
verb_session_display(struct cli *c, const struct args *a)
{
	return client_display_rows(c, a, "session.display", "sessions", 11, csv_header, print_row);
}
