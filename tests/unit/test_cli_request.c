/*
 * ctl/request.c and the commands (ctl/cmd_*.c) against a real engine (the
 * pipeline tests' harness), without sockets: every request is checked
 * before it runs, a refused one changes nothing, replies are byte-exact.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engines.h"
#include "nat64_harness.h"
#include "request.h"
#include "server.h"

/* One request: returns the reply (static buffer) and the change bits. */
static const char *
call(struct nat64 *n, const struct ctl_hooks *hooks, const char *text, unsigned int *changed)
{
	static char reply[1 << 16];
	struct ctl_engines engines = ctl_engines_one(&n);
	struct buf out;
	unsigned int bits;

	buf_init(&out, 0);
	bits = request_handle(n ? &engines : NULL, hooks, NULL, H_T0, (const uint8_t *)text,
			      strlen(text), &out);
	cr_assert_not(buf_failed(&out));
	cr_assert_lt(out.len, sizeof(reply));
	memcpy(reply, out.data, out.len);
	reply[out.len] = '\0';
	buf_free(&out);
	if (changed)
		*changed = bits;
	return reply;
}

/* The whole configuration as the daemon displays it. */
static void
snapshot(struct nat64 *n, char *out, size_t len)
{
	static const char *const reqs[] = {
		"{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"TCP\"}",
		"{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"UDP\"}",
		"{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"ICMP\"}",
		"{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"TCP\"}",
		"{\"version\":1,\"cmd\":\"global.display\"}",
	};

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		strncat(out, call(n, NULL, reqs[i], NULL), len - strlen(out) - 1);
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
expect_error(struct nat64 *n, const char *req, const char *error)
{
	char want[512];

	snprintf(want, sizeof(want), "{\"ok\":false,\"error\":\"%s\"}", error);
	cr_assert_str_eq(call(n, NULL, req, NULL), want, "request %s", req);
}

Test(ctl_request, bad_requests_are_refused_and_change_nothing)
{
	static const char *const bad[][2] = {
		{"", "malformed request: '[' or '{' expected near end of file (byte 0)"},
		{"[1]", "malformed request: not a JSON object"},
		{"{\"version\":1,\"version\":1,\"cmd\":\"hello\"}",
		 "malformed request: duplicate object key near '\\\"version\\\"' (byte 22)"},
		{"{\"cmd\":\"hello\"}",
		 "protocol version not supported: this daemon speaks version 1"},
		{"{\"version\":\"1\",\"cmd\":\"hello\"}",
		 "protocol version not supported: this daemon speaks version 1"},
		{"{\"version\":1}", "missing \\\"cmd\\\""},
		{"{\"version\":1,\"cmd\":\"pool4.grow\"}", "unknown command \\\"pool4.grow\\\""},
		{"{\"version\":1,\"cmd\":\"pool4.flush\",\"quick\":1}",
		 "pool4.flush: \\\"quick\\\" must be true or false"},
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\"],\"prefix\":\"192.0."
		 "2.9\","
		 "\"min\":-1,\"max\":5}",
		 "pool4.add: \\\"min\\\" must be an integer 0-65535"},
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[],\"prefix\":\"192.0.2.9\","
		 "\"min\":1,\"max\":5}",
		 "pool4.add: \\\"protocols\\\" must be an array of distinct protocols "
		 "(\\\"TCP\\\", "
		 "\\\"UDP\\\", \\\"ICMP\\\")"},
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\"],\"prefix\":\"192.0."
		 "2.9\","
		 "\"min\":1,\"max\":5,\"iterations\":0}",
		 "pool4.add: \\\"iterations\\\" must be \\\"auto\\\", \\\"infinity\\\" or an "
		 "integer "
		 "1-4294967295"},
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\"],\"min\":1,\"max\":"
		 "5}",
		 "pool4.add: missing argument \\\"prefix\\\""},
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\"],\"prefix\":\"192.0."
		 "2.9/24\","
		 "\"min\":1,\"max\":5}",
		 "invalid prefix '192.0.2.9/24': bits set after /24 (192.0.2.0/24?)"},
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"ICMP\",\"TCP\"],"
		 "\"prefix\":\"192.0.2.9\",\"min\":0,\"max\":0}",
		 "pool4: port 0 is not usable for TCP (ports 1-65535)"},
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"UDP\"],\"prefix\":\"10.0.0."
		 "0/8\","
		 "\"min\":1,\"max\":5}",
		 "pool4: 10.0.0.0/8 holds 16777216 addresses (shorter than /24): add --force if "
		 "you "
		 "mean it"},
		{"{\"version\":1,\"cmd\":\"pool4.remove\",\"protocols\":[\"TCP\",\"UDP\"],"
		 "\"prefix\":\"203.0.113.0/24\",\"min\":0,\"max\":65535}",
		 "pool4: 203.0.113.0/24 ports 0-65535 mark 0 is not in pool4"},
		{"{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"TCP\",\"ipv6\":\"2001:db8::1#"
		 "1\","
		 "\"ipv4\":\"203.0.113.1#1\"}",
		 "bib: 203.0.113.1#1 is not in pool4 (TCP)"},
		{"{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"TCP\",\"ipv6\":\"2001:db8::1\","
		 "\"ipv4\":\"192.0.2.2#1\"}",
		 "invalid IPv6 transport address '2001:db8::1': expected ADDRESS#PORT, port "
		 "0-65535"},
		{"{\"version\":1,\"cmd\":\"bib.remove\",\"protocol\":\"UDP\"}",
		 "bib: give the IPv6 or the IPv4 transport address (or both)"},
		{"{\"version\":1,\"cmd\":\"global.update\",\"key\":\"nope\",\"value\":\"1\"}",
		 "global: unknown key 'nope'"},
		{"{\"version\":1,\"cmd\":\"global.update\",\"key\":\"udp-timeout\",\"value\":\"1:"
		 "00\"}",
		 "udp-timeout: '1:00' is below the minimum 0:02:00"},
		{"{\"version\":1,\"cmd\":\"global.update\",\"key\":\"udp-timeout\",\"value\":5}",
		 "global.update: \\\"value\\\" must be a string"},
		{"{\"version\":1,\"cmd\":\"file.handle\",\"text\":\"{}\"}",
		 "file handle: this daemon does not accept files"},
		{"{\"version\":1,\"cmd\":\"session.display\",\"protocol\":\"TCP\",\"limit\":8193}",
		 "session.display: \\\"limit\\\" must be an integer 1-8192"},
	};
	struct harness h;
	char before[1 << 14], after[1 << 14];

	h_start_default(&h);
	h_bib(&h, L4_TCP, "2001:db8::5", 2000, H_POOL4, 2000);
	snapshot(h.n, before, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(h.n, bad[i][0], bad[i][1]);
	snapshot(h.n, after, sizeof(after));
	cr_assert_str_eq(after, before);
	h_stop(&h);
}

Test(ctl_request, no_engine_no_service)
{
	expect_error(NULL, "{\"version\":1,\"cmd\":\"stats.display\"}",
		     "the translator is not running");
}

Test(ctl_request, pool4_add_display_remove)
{
	struct harness h;
	unsigned int changed;

	h_start_default(&h);
	cr_assert_str_eq(
		call(h.n, NULL,
		     "{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\"],"
		     "\"prefix\":\"198.51.100.0/16\",\"min\":1,\"max\":65535}",
		     &changed),
		"{\"ok\":false,\"error\":\"invalid prefix '198.51.100.0/16': bits set after "
		"/16 (198.51.0.0/16?)\"}");
	cr_assert_eq(changed, 0);
	cr_assert_str_eq(
		call(h.n, NULL,
		     "{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\",\"UDP\"],"
		     "\"prefix\":\"198.51.0.0/16\",\"min\":2000,\"max\":1000,\"mark\":7,"
		     "\"iterations\":9,\"force\":true}",
		     &changed),
		"{\"ok\":true,\"added\":[\"TCP\",\"UDP\"]}");
	cr_assert_eq(changed, CTL_CHANGE_POOL4);
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"UDP\"}",
			      NULL),
			 "{\"ok\":true,\"entries\":["
			 "{\"mark\":0,\"prefix\":\"192.0.2.2\",\"min\":1,\"max\":65535,"
			 "\"iter\":\"auto\",\"iterations\":1024},"
			 "{\"mark\":7,\"prefix\":\"198.51.0.0/16\",\"min\":1000,\"max\":2000,"
			 "\"iter\":\"fixed\",\"iterations\":9}],\"cursor\":null}");
	/* Paging by position. */
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"TCP\","
			      "\"limit\":1}",
			      NULL),
			 "{\"ok\":true,\"entries\":[{\"mark\":0,\"prefix\":\"192.0.2.2\",\"min\":1,"
			 "\"max\":65535,\"iter\":\"auto\",\"iterations\":1024}],\"cursor\":1}");
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"pool4.sets\",\"protocol\":\"TCP\"}", NULL),
			 "{\"ok\":true,\"sets\":["
			 "{\"mark\":0,\"iter\":\"auto\",\"iterations\":1024,\"taddrs\":65535,"
			 "\"addrs\":1,\"in_use\":0},"
			 "{\"mark\":7,\"iter\":\"fixed\",\"iterations\":9,\"taddrs\":65601536,"
			 "\"addrs\":65536,\"in_use\":0}],\"cursor\":null}");
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"pool4.remove\",\"protocols\":[\"TCP\","
			      "\"ICMP\"],\"prefix\":\"198.51.0.0/16\",\"min\":0,\"max\":65535,"
			      "\"mark\":7}",
			      &changed),
			 "{\"ok\":true,\"removed\":[\"TCP\"]}");
	cr_assert_eq(changed, CTL_CHANGE_POOL4 | CTL_CHANGE_BIB);
	h_stop(&h);
}

Test(ctl_request, pool4_usage_pages_by_address)
{
	struct harness h;

	h_start_default(&h);
	h_pool4(&h, L4_TCP, "192.0.2.16", 30, 1, 10);
	h_bib(&h, L4_TCP, "2001:db8::5", 2000, H_POOL4, 2000);
	h_bib(&h, L4_TCP, "2001:db8::6", 2000, "192.0.2.17", 5);
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"pool4.usage\",\"protocol\":\"TCP\","
			      "\"limit\":3}",
			      NULL),
			 "{\"ok\":true,\"rows\":[[\"192.0.2.2\",1,65535],[\"192.0.2.16\",0,10],"
			 "[\"192.0.2.17\",1,10]],\"cursor\":3221226002}");
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"pool4.usage\",\"protocol\":\"TCP\","
			      "\"limit\":3,\"cursor\":3221226002}",
			      NULL),
			 "{\"ok\":true,\"rows\":[[\"192.0.2.18\",0,10],[\"192.0.2.19\",0,10]],"
			 "\"cursor\":null}");
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"pool4.sets\",\"protocol\":\"TCP\"}", NULL),
			 "{\"ok\":true,\"sets\":[{\"mark\":0,\"iter\":\"auto\",\"iterations\":1024,"
			 "\"taddrs\":65575,\"addrs\":5,\"in_use\":2}],\"cursor\":null}");
	h_stop(&h);
}

Test(ctl_request, bib_add_display_remove)
{
	struct harness h;
	unsigned int changed;

	h_start_default(&h);
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"UDP\","
			      "\"ipv6\":\"2001:db8::5#53\",\"ipv4\":\"192.0.2.2#5353\"}",
			      &changed),
			 "{\"ok\":true}");
	cr_assert_eq(changed, CTL_CHANGE_BIB);
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"UDP\","
			      "\"ipv6\":\"2001:db8::5#53\",\"ipv4\":\"192.0.2.2#5354\"}",
			      NULL),
			 "{\"ok\":false,\"error\":\"bib: 2001:db8::5#53 is already mapped to "
			 "another IPv4 transport address\"}");
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"UDP\"}", NULL),
			 "{\"ok\":true,\"entries\":[\"2001:db8::5 53 192.0.2.2 5353 static\"],"
			 "\"cursor\":null}");
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"bib.remove\",\"protocol\":\"UDP\","
			      "\"ipv4\":\"192.0.2.2#5353\"}",
			      NULL),
			 "{\"ok\":true}");
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"bib.remove\",\"protocol\":\"UDP\","
			      "\"ipv4\":\"192.0.2.2#5353\"}",
			      NULL),
			 "{\"ok\":false,\"error\":\"bib: no UDP entry matches\"}");
	h_stop(&h);
}

/* `count` UDP sessions from H_CLIENT#5000 to H_SERVER6 ports 80.. */
static void
udp_sessions(struct harness *h, int count)
{
	uint8_t pkt[256];

	for (int i = 0; i < count; i++) {
		size_t len = h_udp6(pkt, H_CLIENT, 5000, H_SERVER6, (uint16_t)(80 + i), 64);

		cr_assert_eq(h_input(h, pkt, len), STAT_OK);
	}
}

/* Follows the cursor; returns the pages read and the rows seen. */
static int
read_pages(struct nat64 *n, const char *proto, int limit, int *rows)
{
	char req[256];
	long long cursor = 0;
	int pages = 0;

	*rows = 0;
	for (;;) {
		const char *reply, *c;

		snprintf(req, sizeof(req),
			 "{\"version\":1,\"cmd\":\"session.display\",\"protocol\":\"%s\","
			 "\"limit\":%d,\"cursor\":%lld}",
			 proto, limit, cursor);
		reply = call(n, NULL, req, NULL);
		pages++;
		for (c = strstr(reply, " -\""); c; c = strstr(c + 1, " -\""))
			(*rows)++;
		c = strstr(reply, "\"cursor\":");
		cr_assert_not_null(c);
		if (strncmp(c + 9, "null", 4) == 0)
			return pages;
		cursor = strtoll(c + 9, NULL, 10);
		cr_assert_lt(pages, 100, "the cursor does not advance");
	}
}

Test(ctl_request, sessions_come_in_pages)
{
	struct harness h;
	int rows, pages;

	h_start_default(&h);
	udp_sessions(&h, 1);
	cr_assert_str_eq(call(h.n, NULL,
			      "{\"version\":1,\"cmd\":\"session.display\",\"protocol\":\"UDP\"}",
			      NULL),
			 "{\"ok\":true,\"sessions\":[\"2001:db8:2::10 5000 64:ff9b::c000:20a 80 "
			 "192.0.2.2 5000 192.0.2.10 80 300000 -\"],\"cursor\":null}");
	udp_sessions(&h, 5);
	pages = read_pages(h.n, "UDP", 2, &rows);
	cr_assert_eq(rows, 5);
	cr_assert_geq(pages, 3);
	h_stop(&h);
}

Test(ctl_request, a_page_visits_a_bounded_number_of_sessions)
{
	struct harness h;
	int rows, pages;

	h_start_default(&h);
	udp_sessions(&h, 10);
	/* Asking TCP with limit 1: each page visits at most 4 sessions, so
	 * none is found but the walk goes on page after page. */
	pages = read_pages(h.n, "TCP", 1, &rows);
	cr_assert_eq(rows, 0);
	cr_assert_geq(pages, 3);
	h_stop(&h);
}

Test(ctl_request, stats_and_globals)
{
	struct harness h;
	const char *reply;
	unsigned int changed;

	h_start_default(&h);
	udp_sessions(&h, 1);
	reply = call(h.n, NULL, "{\"version\":1,\"cmd\":\"stats.display\"}", NULL);
	cr_assert(starts_with(reply, "{\"ok\":true,\"stats\":[[\"RECEIVED6\",1,\"IPv6 packets "
				     "received.\"],"),
		  "%s", reply);
	cr_assert_not_null(strstr(reply, "[\"BIB_ENTRIES\",1,\"BIB entries now (gauge).\"],"
					 "[\"SESSIONS\",1,\"Sessions now (gauge).\"]]}"));
	cr_assert_null(strstr(reply, "\"OK\""));

	reply = call(h.n, NULL,
		     "{\"version\":1,\"cmd\":\"global.update\",\"key\":\"udp-timeout\","
		     "\"value\":\"3:00\"}",
		     &changed);
	cr_assert_str_eq(reply, "{\"ok\":true}");
	cr_assert_eq(changed, CTL_CHANGE_GLOBALS);
	cr_assert_eq(nat64_globals(h.n)->udp_timeout, 180000);
	reply = call(h.n, NULL, "{\"version\":1,\"cmd\":\"global.display\"}", NULL);
	cr_assert(starts_with(reply, "{\"ok\":true,\"globals\":[[\"manually-enabled\",\"true\"],"
				     "[\"pool6\",\"64:ff9b::/96\"],"),
		  "%s", reply);
	cr_assert_not_null(strstr(reply, "[\"udp-timeout\",\"0:03:00\"]"));
	h_stop(&h);
}

static char file_seen[64];

static int
fake_apply(void *ctx, const char *text, char *err, size_t errlen)
{
	(void)ctx;
	snprintf(file_seen, sizeof(file_seen), "%s", text);
	if (strstr(text, "bad")) {
		snprintf(err, errlen, "file.json: bad things");
		return -1;
	}
	return 0;
}

Test(ctl_request, file_handle_goes_to_the_daemon_hook)
{
	struct ctl_hooks hooks = {.apply_file = fake_apply};
	struct harness h;

	h_start_default(&h);
	cr_assert_str_eq(call(h.n, &hooks,
			      "{\"version\":1,\"cmd\":\"file.handle\",\"text\":\"{\\\"x\\\":1}\"}",
			      NULL),
			 "{\"ok\":true}");
	cr_assert_str_eq(file_seen, "{\"x\":1}");
	cr_assert_str_eq(
		call(h.n, &hooks, "{\"version\":1,\"cmd\":\"file.handle\",\"text\":\"bad\"}", NULL),
		"{\"ok\":false,\"error\":\"file.json: bad things\"}");
	h_stop(&h);
}

struct plumbing {
	bool refuse;
	int prepared, finished_ok, finished_fail;
	uint32_t next_ports; /* TCP ports of 192.0.2.9 in the pool4 to be */
};

static int
fake_prepare(void *ctx, const struct pool4 *next, char *err, size_t errlen)
{
	struct plumbing *pl = ctx;
	struct in_addr a;

	inet_pton(AF_INET, "192.0.2.9", &a);
	pl->prepared++;
	pl->next_ports = pool4_port_count(next, L4_TCP, a);
	if (pl->refuse) {
		snprintf(err, errlen, "plumbing: too many proxy entries");
		return -1;
	}
	return 0;
}

static void
fake_finish(void *ctx, bool applied)
{
	struct plumbing *pl = ctx;

	if (applied)
		pl->finished_ok++;
	else
		pl->finished_fail++;
}

Test(ctl_request, pool4_changes_go_through_the_daemon_plumbing_hooks)
{
	struct plumbing pl = {.refuse = true};
	struct ctl_hooks hooks = {
		.ctx = &pl, .pool4_prepare = fake_prepare, .pool4_finish = fake_finish};
	static const char add[] = "{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\"],"
				  "\"prefix\":\"192.0.2.9\",\"min\":1,\"max\":100}";
	static const char rm[] = "{\"version\":1,\"cmd\":\"pool4.remove\",\"protocols\":[\"TCP\"],"
				 "\"prefix\":\"192.0.2.9\",\"min\":0,\"max\":65535}";
	struct harness h;
	char before[1 << 14], after[1 << 14];
	unsigned int changed;

	h_start_default(&h);
	snapshot(h.n, before, sizeof(before));
	/* Refused by the daemon: the engine never changes, no finish. */
	cr_assert_str_eq(call(h.n, &hooks, add, &changed),
			 "{\"ok\":false,\"error\":\"plumbing: too many proxy entries\"}");
	cr_assert_eq(changed, 0);
	cr_assert(pl.prepared == 1 && pl.next_ports == 100);
	cr_assert(pl.finished_ok == 0 && pl.finished_fail == 0);
	snapshot(h.n, after, sizeof(after));
	cr_assert_str_eq(after, before);
	/* Accepted: prepare sees the entry to be, finish says it is done. */
	pl.refuse = false;
	cr_assert_str_eq(call(h.n, &hooks, add, NULL), "{\"ok\":true,\"added\":[\"TCP\"]}");
	cr_assert(pl.prepared == 2 && pl.finished_ok == 1);
	cr_assert_str_eq(call(h.n, &hooks, rm, NULL), "{\"ok\":true,\"removed\":[\"TCP\"]}");
	cr_assert(pl.prepared == 3 && pl.next_ports == 0 && pl.finished_ok == 2);
	/* Nothing to remove: the daemon hears that nothing changed. */
	cr_assert_str_eq(call(h.n, &hooks, rm, NULL),
			 "{\"ok\":false,\"error\":\"pool4: 192.0.2.9 ports 0-65535 mark 0 is not "
			 "in pool4\"}");
	cr_assert(pl.prepared == 4 && pl.finished_fail == 1);
	h_stop(&h);
}
