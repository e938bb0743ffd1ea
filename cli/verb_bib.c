/*
 * nat64 bib display|add|remove. Lines as Jool prints them:
 *   [Static] 192.0.2.2#2000 - 2001:db8::5#2000
 * CSV header: Protocol,IPv6 Address,IPv6 L4-ID,IPv4 Address,IPv4 L4-ID,Static?
 * JSON: an array of bib items of Jool's configuration file (plus "static").
 */
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "names.h"
#include "table.h"
#include "verbs.h"

static const char *const csv_header[] = {
	"Protocol", "IPv6 Address", "IPv6 L4-ID", "IPv4 Address", "IPv4 L4-ID", "Static?",
};

/* Row from the daemon: "IPV6 PORT IPV4 PORT static|dynamic". */
static int
print_row(void *arg, const char *text)
{
	struct rows_out *o = arg;
	const char *f[5];
	char buf[160], s6[80], s4[40];
	bool is_static;

	if (client_split(text, buf, sizeof(buf), f, 5) != 5)
		return cli_fail(EXIT_REJECTED, "malformed BIB row from the daemon");
	is_static = strcmp(f[4], "static") == 0;
	if (o->format == FMT_TABLE) {
		fprintf(o->f, "[%s] %s#%s - %s#%s\n", is_static ? "Static" : "Dynamic", f[2], f[3],
			o->numeric ? f[0] : names_ipv6(f[0]), f[1]);
	} else if (o->format == FMT_CSV) {
		const char *fields[6] = {o->proto, f[0], f[1], f[2], f[3], is_static ? "1" : "0"};

		csv_row(o->f, 6, fields);
	} else {
		snprintf(s6, sizeof(s6), "%s#%s", f[0], f[1]);
		snprintf(s4, sizeof(s4), "%s#%s", f[2], f[3]);
		fprintf(o->f,
			"%s\n  {\"protocol\": \"%s\", \"ipv6 address\": \"%s\", "
			"\"ipv4 address\": \"%s\", \"static\": %s}",
			o->count ? "," : "", o->proto, s6, s4, is_static ? "true" : "false");
	}
	o->count++;
	return 0;
}

int
verb_bib_display(struct cli *c, const struct args *a)
{
	return client_display_rows(c, a, "bib.display", "entries", 6, csv_header, print_row);
}

/* TADDR6 and TADDR4 in either order: an IPv6 one has a ':'. */
static int
sort_taddrs(const struct args *a, const char **t6, const char **t4)
{
	*t6 = *t4 = NULL;
	for (int i = 0; i < a->npos; i++) {
		const char **slot = strchr(a->pos[i], ':') ? t6 : t4;

		if (*slot)
			return cli_fail(EXIT_USAGE,
					"bib: expected one IPv6 and one IPv4 transport "
					"address (ADDRESS#PORT), got '%s' and '%s'",
					a->pos[0], a->pos[1]);
		*slot = a->pos[i];
	}
	return 0;
}

static int
one_proto(const struct args *a, const char **name)
{
	unsigned int mask = args_protos(a, 1u << L4_TCP);

	if (mask & (mask - 1))
		return cli_fail(EXIT_USAGE, "bib: give one of --tcp, --udp or --icmp");
	for (int p = 0; p < L4_COUNT; p++)
		if (mask & 1u << p)
			*name = wire_proto_name((enum l4proto)p);
	return 0;
}

/* Checks the taddrs here: a typo is a usage error, not the daemon's. */
static int
taddr_request(const char *cmd, const struct args *a, json_t **out)
{
	const char *t6, *t4, *proto = "TCP";
	struct taddr6 a6;
	struct taddr4 a4;
	char err[256];
	int rc = sort_taddrs(a, &t6, &t4);

	if (rc == 0)
		rc = one_proto(a, &proto);
	if (rc)
		return rc;
	if (t6 && !wire_parse_taddr6(t6, &a6, err, sizeof(err)))
		return cli_fail(EXIT_USAGE, "%s", err);
	if (t4 && !wire_parse_taddr4(t4, &a4, err, sizeof(err)))
		return cli_fail(EXIT_USAGE, "%s", err);
	*out = client_request(cmd);
	json_object_set_new(*out, "protocol", json_string(proto));
	if (t6)
		json_object_set_new(*out, "ipv6", json_string(t6));
	if (t4)
		json_object_set_new(*out, "ipv4", json_string(t4));
	return 0;
}

static int
call(struct cli *c, json_t *req)
{
	json_t *reply;
	int rc = client_call(c, req, &reply);

	json_decref(reply);
	return rc;
}

int
verb_bib_add(struct cli *c, const struct args *a)
{
	json_t *req;
	int rc = taddr_request("bib.add", a, &req);

	return rc ? rc : call(c, req);
}

int
verb_bib_remove(struct cli *c, const struct args *a)
{
	json_t *req;
	int rc = taddr_request("bib.remove", a, &req);

	return rc ? rc : call(c, req);
}
