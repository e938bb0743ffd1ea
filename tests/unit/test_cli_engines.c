/*
 * ctl/ over several engines (ctl/engines.h), as with worker threads: 2 and
 * 3 real engines (the pipeline harness), each with its own BIB, sessions
 * and counters. The test's acquire/release count every call and fail the
 * test when two engines are held at once or a release does not match.
 * Checks: changes land in every engine or in none, tables page across
 * engines with every row exactly once, counters are summed, and the cli's
 * paging carries a cursor above 2^32 back unchanged.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "engines.h"
#include "nat64_harness.h"
#include "request.h"
#include "server.h"

enum { MAX_ENGINES = 3 };

/* --- The engine set of the test ---------------------------------------- */

/* Allocations to let through before one fails; -1: none fails (below). */
static int alloc_countdown = -1;

struct set {
	struct harness *h[MAX_ENGINES];
	unsigned int count;
	int held; /* -1: none */
	unsigned int acquires, releases;
	int fail_engine; /* its next acquire arms alloc_countdown, once ... */
	int fail_skip;   /* ... with this many allocations let through */
	struct ctl_engines engines;
};

static struct nat64 *
t_acquire(void *ctx, unsigned int i)
{
	struct set *s = ctx;

	cr_assert_eq(s->held, -1, "engine %u acquired while engine %d is held", i, s->held);
	cr_assert_lt(i, s->count);
	s->held = (int)i;
	s->acquires++;
	if ((int)i == s->fail_engine) {
		s->fail_engine = -1;
		alloc_countdown = s->fail_skip;
	}
	return s->h[i]->n;
}

static void
t_release(void *ctx, unsigned int i)
{
	struct set *s = ctx;

	cr_assert_eq(s->held, (int)i, "release of engine %u, held: %d", i, s->held);
	s->held = -1;
	s->releases++;
	alloc_countdown = -1;
}

static struct set *
set_start(unsigned int count)
{
	struct set *s = calloc(1, sizeof(*s));

	cr_assert_not_null(s);
	s->count = count;
	s->held = -1;
	s->fail_engine = -1;
	for (unsigned int i = 0; i < count; i++) {
		s->h[i] = calloc(1, sizeof(*s->h[i]));
		cr_assert_not_null(s->h[i]);
		h_start_default(s->h[i]);
	}
	s->engines = (struct ctl_engines){
		.count = count, .acquire = t_acquire, .release = t_release, .ctx = s};
	return s;
}

static void
set_stop(struct set *s)
{
	cr_assert_eq(s->held, -1);
	cr_assert_eq(s->acquires, s->releases);
	for (unsigned int i = 0; i < s->count; i++) {
		h_stop(s->h[i]);
		free(s->h[i]);
	}
	free(s);
}

/* --- Allocation failure on demand ----------------------------------------
 * Only an engine out of memory can refuse a change engine 0 accepted. The
 * unit-test binary's allocator fails once when armed (by t_acquire of the
 * engine chosen), after letting a given number of allocations through.
 * Not under AddressSanitizer, which owns malloc. */
#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_calloc(size_t n, size_t size);

static bool
alloc_fails(void)
{
	if (alloc_countdown < 0)
		return false;
	if (alloc_countdown-- > 0)
		return false;
	alloc_countdown = -1;
	return true;
}

void *
malloc(size_t size)
{
	if (alloc_fails())
		return NULL;
	return __libc_malloc(size);
}

void *
realloc(void *p, size_t size)
{
	if (alloc_fails())
		return NULL;
	return __libc_realloc(p, size);
}

void *
calloc(size_t n, size_t size)
{
	if (alloc_fails())
		return NULL;
	return __libc_calloc(n, size);
}
#endif

/* --- Requests -------------------------------------------------------------- */

/* One request through `e`: the reply, malloc'd. */
static char *
call_engines(const struct ctl_engines *e, const struct ctl_hooks *hooks, const char *text)
{
	struct buf out;
	char *reply;

	buf_init(&out, 0);
	request_handle(e, hooks, NULL, H_T0, (const uint8_t *)text, strlen(text), &out);
	cr_assert_not(buf_failed(&out));
	reply = calloc(1, out.len + 1);
	cr_assert_not_null(reply);
	memcpy(reply, out.data, out.len);
	buf_free(&out);
	return reply;
}

/* A request to the whole set; checks the engines were handed back. */
static char *
call(struct set *s, const char *text)
{
	char *reply = call_engines(&s->engines, NULL, text);

	cr_assert_eq(s->held, -1);
	cr_assert_eq(s->acquires, s->releases);
	return reply;
}

static void
expect(struct set *s, const char *text, const char *want)
{
	char *reply = call(s, text);

	cr_assert_str_eq(reply, want, "request %s\ngot %s", text, reply);
	free(reply);
}

/* A request to engine i alone. */
static char *
call_one(struct set *s, unsigned int i, const char *text)
{
	struct ctl_engines one = ctl_engines_one(&s->h[i]->n);

	return call_engines(&one, NULL, text);
}

/* Engine i's configuration and tables as it displays them. */
static void
snapshot(struct set *s, unsigned int i, char *out, size_t len)
{
	static const char *const reqs[] = {
		"{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"TCP\"}",
		"{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"UDP\"}",
		"{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":\"ICMP\"}",
		"{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"TCP\"}",
		"{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"UDP\"}",
		"{\"version\":1,\"cmd\":\"session.display\",\"protocol\":\"UDP\"}",
		"{\"version\":1,\"cmd\":\"global.display\"}",
	};

	out[0] = '\0';
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		char *reply = call_one(s, i, reqs[k]);

		strncat(out, reply, len - strlen(out) - 1);
		free(reply);
	}
	cr_assert_lt(strlen(out), len - 1, "snapshot truncated");
}

enum { SNAP = 1 << 15 };

struct snaps {
	char text[MAX_ENGINES][SNAP];
};

static void
snap_all(struct set *s, struct snaps *out)
{
	for (unsigned int i = 0; i < s->count; i++)
		snapshot(s, i, out->text[i], SNAP);
}

static void
expect_unchanged(struct set *s, const struct snaps *before)
{
	static struct snaps after;

	snap_all(s, &after);
	for (unsigned int i = 0; i < s->count; i++)
		cr_assert_str_eq(after.text[i], before->text[i], "engine %u changed", i);
}

/* `count` UDP sessions in engine i, from client address `client` ports
 * 5000.. to H_SERVER6 port 53: one dynamic BIB entry and session each. */
static void
udp_sessions(struct set *s, unsigned int i, const char *client, int count)
{
	uint8_t pkt[256];

	for (int k = 0; k < count; k++) {
		size_t len = h_udp6(pkt, client, (uint16_t)(5000 + k), H_SERVER6, 53, 64);

		cr_assert_eq(h_input(s->h[i], pkt, len), STAT_OK);
	}
}

/* --- Paging ---------------------------------------------------------------- */

enum { ROWS_MAX = 256 };

struct rows {
	char *row[ROWS_MAX];
	int n;
};

/* The string rows of a reply's array (no escapes in rows), appended. */
static void
collect_rows(const char *reply, const char *key, struct rows *out)
{
	char pattern[32];
	const char *p, *end;

	snprintf(pattern, sizeof(pattern), "\"%s\":[", key);
	p = strstr(reply, pattern);
	cr_assert_not_null(p, "%s", reply);
	p += strlen(pattern);
	while (*p == '"') {
		end = strchr(p + 1, '"');
		cr_assert_lt(out->n, ROWS_MAX);
		out->row[out->n++] = strndup(p + 1, (size_t)(end - p - 1));
		p = end + 1;
		if (*p == ',')
			p++;
	}
	cr_assert_eq(*p, ']', "%s", reply);
}

/* The "cursor" of a reply: -1 for null. */
static long long
reply_cursor(const char *reply)
{
	const char *c = strstr(reply, "\"cursor\":");

	cr_assert_not_null(c);
	if (strncmp(c + 9, "null", 4) == 0)
		return -1;
	return strtoll(c + 9, NULL, 10);
}

/* Follows the cursor of `cmd` over the set; returns pages read. Sets
 * *crossed when a cursor named an engine other than 0. */
static int
read_pages(struct set *s, const char *cmd, const char *key, int limit, struct rows *out,
	   bool *crossed)
{
	long long cursor = 0;
	int pages = 0;
	char req[256];

	while (cursor >= 0) {
		char *reply;

		snprintf(req, sizeof(req),
			 "{\"version\":1,\"cmd\":\"%s\",\"protocol\":\"UDP\",\"limit\":%d,"
			 "\"cursor\":%lld}",
			 cmd, limit, cursor);
		reply = call(s, req);
		collect_rows(reply, key, out);
		cursor = reply_cursor(reply);
		if (cursor >> 32)
			*crossed = true;
		free(reply);
		cr_assert_lt(++pages, 200, "the cursor does not advance");
	}
	return pages;
}

/* What every page together must hold: each engine's table read alone,
 * engine 0's static entries only (they are in every engine). */
static void
expected_rows(struct set *s, const char *cmd, const char *key, struct rows *out)
{
	char req[128];

	snprintf(req, sizeof(req), "{\"version\":1,\"cmd\":\"%s\",\"protocol\":\"UDP\"}", cmd);
	for (unsigned int i = 0; i < s->count; i++) {
		struct rows one = {.n = 0};
		char *reply = call_one(s, i, req);

		cr_assert_eq(reply_cursor(reply), -1);
		collect_rows(reply, key, &one);
		free(reply);
		for (int k = 0; k < one.n; k++) {
			if (i > 0 && strstr(one.row[k], " static")) {
				free(one.row[k]);
				continue;
			}
			out->row[out->n++] = one.row[k];
		}
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Same rows, each exactly once. */
static void
expect_same_rows(struct rows *got, struct rows *want, int limit)
{
	qsort(got->row, (size_t)got->n, sizeof(char *), cmp_str);
	qsort(want->row, (size_t)want->n, sizeof(char *), cmp_str);
	cr_assert_eq(got->n, want->n, "limit %d: %d rows, want %d", limit, got->n, want->n);
	for (int k = 0; k < got->n; k++) {
		cr_assert_str_eq(got->row[k], want->row[k], "limit %d", limit);
		if (k > 0)
			cr_assert_str_neq(got->row[k], got->row[k - 1], "repeated row, limit %d",
					  limit);
	}
}

static void
free_rows(struct rows *r)
{
	for (int k = 0; k < r->n; k++)
		free(r->row[k]);
	r->n = 0;
}

/* Every page size from 1 to past the whole table: every row once. */
static void
check_paging(struct set *s, const char *cmd, const char *key, int total)
{
	struct rows want = {.n = 0};

	expected_rows(s, cmd, key, &want);
	cr_assert_eq(want.n, total);
	for (int limit = 1; limit <= total + 1; limit++) {
		struct rows got = {.n = 0};
		bool crossed = false;
		int pages = read_pages(s, cmd, key, limit, &got, &crossed);

		expect_same_rows(&got, &want, limit);
		cr_assert(crossed, "limit %d: no cursor named engine 1 or 2", limit);
		cr_assert_geq(pages, (total + limit - 1) / limit);
		free_rows(&got);
	}
	free_rows(&want);
}

/* --- Tests ----------------------------------------------------------------- */

Test(ctl_engines, refused_requests_change_no_engine)
{
	static const char *const bad[][2] = {
		{"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\"],\"prefix\":"
		 "\"198.51.100.1/24\",\"min\":1,\"max\":5}",
		 "{\"ok\":false,\"error\":\"invalid prefix '198.51.100.1/24': bits set after /24 "
		 "(198.51.100.0/24?)\"}"},
		{"{\"version\":1,\"cmd\":\"pool4.remove\",\"protocols\":[\"UDP\"],\"prefix\":"
		 "\"203.0.113.0/24\",\"min\":0,\"max\":65535}",
		 "{\"ok\":false,\"error\":\"pool4: 203.0.113.0/24 ports 0-65535 mark 0 is not in "
		 "pool4\"}"},
		{"{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"UDP\",\"ipv6\":\"2001:db8::1#"
		 "1\","
		 "\"ipv4\":\"203.0.113.1#1\"}",
		 "{\"ok\":false,\"error\":\"bib: 203.0.113.1#1 is not in pool4 (UDP)\"}"},
		{"{\"version\":1,\"cmd\":\"bib.remove\",\"protocol\":\"UDP\",\"ipv4\":\"192.0.2.2#"
		 "9\"}",
		 "{\"ok\":false,\"error\":\"bib: no UDP entry matches\"}"},
		{"{\"version\":1,\"cmd\":\"global.update\",\"key\":\"nope\",\"value\":\"1\"}",
		 "{\"ok\":false,\"error\":\"global: unknown key 'nope'\"}"},
		{"{\"version\":1,\"cmd\":\"global.update\",\"key\":\"udp-timeout\",\"value\":\"1:"
		 "00\"}",
		 "{\"ok\":false,\"error\":\"udp-timeout: '1:00' is below the minimum 0:02:00\"}"},
		{"{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"UDP\",\"cursor\":-1}",
		 "{\"ok\":false,\"error\":\"bib.display: \\\"cursor\\\" must be an integer "
		 "0-9223372036854775807\"}"},
	};
	struct set *s = set_start(3);
	static struct snaps before;

	udp_sessions(s, 1, H_CLIENT, 2);
	h_bib(s->h[0], L4_UDP, "2001:db8::5", 53, H_POOL4, 5353);
	snap_all(s, &before);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		expect(s, bad[k][0], bad[k][1]);
	expect_unchanged(s, &before);
	set_stop(s);
}

Test(ctl_engines, no_engines_no_service)
{
	char *reply = call_engines(NULL, NULL, "{\"version\":1,\"cmd\":\"stats.display\"}");

	cr_assert_str_eq(reply, "{\"ok\":false,\"error\":\"the translator is not running\"}");
	free(reply);
}

Test(ctl_engines, pool4_changes_land_in_every_engine)
{
	static const char display[] = "{\"version\":1,\"cmd\":\"pool4.display\",\"protocol\":"
				      "\"UDP\"}";
	struct set *s = set_start(3);
	char *one;

	expect(s,
	       "{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"TCP\",\"UDP\"],\"prefix\":"
	       "\"198.51.100.0/30\",\"min\":100,\"max\":200,\"mark\":4,\"iterations\":7}",
	       "{\"ok\":true,\"added\":[\"TCP\",\"UDP\"]}");
	for (unsigned int i = 0; i < 3; i++) {
		one = call_one(s, i, display);
		cr_assert_str_eq(one,
				 "{\"ok\":true,\"entries\":["
				 "{\"mark\":0,\"prefix\":\"192.0.2.2\",\"min\":1,\"max\":65535,"
				 "\"iter\":\"auto\",\"iterations\":1024},"
				 "{\"mark\":4,\"prefix\":\"198.51.100.0/30\",\"min\":100,"
				 "\"max\":200,\"iter\":\"fixed\",\"iterations\":7}],"
				 "\"cursor\":null}",
				 "engine %u", i);
		free(one);
	}
	/* The set's display is engine 0's, the same. */
	one = call_one(s, 0, display);
	expect(s, display, one);
	free(one);
	expect(s,
	       "{\"version\":1,\"cmd\":\"pool4.remove\",\"protocols\":[\"UDP\",\"ICMP\"],"
	       "\"prefix\":"
	       "\"198.51.100.0/30\",\"min\":0,\"max\":65535,\"mark\":4}",
	       "{\"ok\":true,\"removed\":[\"UDP\"]}");
	for (unsigned int i = 0; i < 3; i++) {
		struct in_addr a;

		inet_pton(AF_INET, "198.51.100.1", &a);
		cr_assert_eq(pool4_port_count(nat64_pool4(s->h[i]->n), L4_UDP, a), 0);
		cr_assert_eq(pool4_port_count(nat64_pool4(s->h[i]->n), L4_TCP, a), 101);
	}
	expect(s, "{\"version\":1,\"cmd\":\"pool4.flush\",\"quick\":true}", "{\"ok\":true}");
	for (unsigned int i = 0; i < 3; i++) {
		struct in_addr a;

		inet_pton(AF_INET, H_POOL4, &a);
		cr_assert_eq(pool4_port_count(nat64_pool4(s->h[i]->n), L4_TCP, a), 0, "engine %u",
			     i);
	}
	set_stop(s);
}

#ifndef __SANITIZE_ADDRESS__
/* Engine `fail` runs out of memory at its allocation number `skip` of a
 * pool4 add (of two protocols): every engine, the ones before it included,
 * keeps the pool4 it had. True when it failed; false when the engine
 * needed fewer allocations and the add went through everywhere. */
static bool
failing_add(unsigned int count, int fail, int skip)
{
	static const char add[] =
		"{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"UDP\","
		"\"TCP\"],\"prefix\":\"203.0.113.0/25\",\"min\":3000,\"max\":4000}";
	struct set *s = set_start(count);
	static struct snaps before;
	char *reply;
	bool failed;

	/* A set to merge into, so the add has to allocate. */
	for (unsigned int i = 0; i < count; i++)
		h_pool4(s->h[i], L4_TCP, "203.0.113.0", 24, 1000, 2000);
	udp_sessions(s, 0, H_CLIENT, 1);
	snap_all(s, &before);
	s->fail_engine = fail;
	s->fail_skip = skip;
	reply = call(s, add);
	cr_assert_eq(s->fail_engine, -1, "engine %d never acquired", fail);
	failed = strcmp(reply, "{\"ok\":true,\"added\":[\"TCP\",\"UDP\"]}") != 0;
	if (failed) {
		cr_assert_str_eq(reply, "{\"ok\":false,\"error\":\"pool4: Out of memory.\"}",
				 "skip %d", skip);
		expect_unchanged(s, &before);
	} else {
		for (unsigned int i = 0; i < count; i++) {
			struct in_addr a;

			inet_pton(AF_INET, "203.0.113.9", &a);
			cr_assert_eq(pool4_port_count(nat64_pool4(s->h[i]->n), L4_TCP, a), 2002);
			cr_assert_eq(pool4_port_count(nat64_pool4(s->h[i]->n), L4_UDP, a), 1001);
		}
	}
	free(reply);
	set_stop(s);
	return failed;
}

/* Every allocation of the engine's add fails in turn, the later ones after
 * the first protocol is in (the engine itself must be put back too). */
static void
failing_adds(unsigned int count, int fail)
{
	int skip = 0;

	while (failing_add(count, fail, skip))
		cr_assert_lt(++skip, 100);
	cr_assert_geq(skip, 2, "the add never failed half-way through the engine");
}

Test(ctl_engines, a_pool4_add_failing_in_a_later_engine_changes_no_engine)
{
	failing_adds(2, 1);
	failing_adds(3, 2);
	failing_adds(3, 1);
}

Test(ctl_engines, a_global_update_failing_in_a_later_engine_changes_no_engine)
{
	struct set *s = set_start(3);
	static struct snaps before;

	snap_all(s, &before);
	s->fail_engine = 2;
	/* A bigger reassembly arena: engine 2 can't get one. */
	expect(s,
	       "{\"version\":1,\"cmd\":\"global.update\",\"key\":\"reassembly-budget\","
	       "\"value\":\"8388608\"}",
	       "{\"ok\":false,\"error\":\"reassembly-budget 8388608: out of memory\"}");
	expect_unchanged(s, &before);
	set_stop(s);
}
#endif

/* The daemon's side of pool4 changes (ctl_hooks), recorded. */
struct plumbing {
	bool refuse;
	int prepared, applied, undone;
	uint32_t next_ports; /* UDP ports of 198.51.100.1 in the pool4 to be */
};

static int
fake_prepare(void *ctx, const struct pool4 *next, char *err, size_t errlen)
{
	struct plumbing *pl = ctx;
	struct in_addr a;

	inet_pton(AF_INET, "198.51.100.1", &a);
	pl->prepared++;
	pl->next_ports = pool4_port_count(next, L4_UDP, a);
	if (pl->refuse) {
		snprintf(err, errlen, "plumbing: no");
		return -1;
	}
	return 0;
}

static void
fake_finish(void *ctx, bool applied)
{
	struct plumbing *pl = ctx;

	if (applied)
		pl->applied++;
	else
		pl->undone++;
}

Test(ctl_engines, pool4_refused_by_the_daemon_changes_no_engine)
{
	static const char add[] = "{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"UDP\"],"
				  "\"prefix\":\"198.51.100.0/30\",\"min\":1,\"max\":10}";
	struct plumbing pl = {.refuse = true};
	struct ctl_hooks hooks = {
		.ctx = &pl, .pool4_prepare = fake_prepare, .pool4_finish = fake_finish};
	struct set *s = set_start(2);
	static struct snaps before;
	char *reply;

	snap_all(s, &before);
	reply = call_engines(&s->engines, &hooks, add);
	cr_assert_str_eq(reply, "{\"ok\":false,\"error\":\"plumbing: no\"}");
	free(reply);
	cr_assert(pl.prepared == 1 && pl.next_ports == 10 && pl.applied == 0 && pl.undone == 0);
	expect_unchanged(s, &before);
	pl.refuse = false;
	reply = call_engines(&s->engines, &hooks, add);
	cr_assert_str_eq(reply, "{\"ok\":true,\"added\":[\"UDP\"]}");
	free(reply);
	cr_assert(pl.prepared == 2 && pl.applied == 1 && pl.undone == 0);
#ifndef __SANITIZE_ADDRESS__
	/* Engine 1 fails: the daemon hears nothing changed. */
	s->fail_engine = 1;
	reply = call_engines(&s->engines, &hooks,
			     "{\"version\":1,\"cmd\":\"pool4.add\",\"protocols\":[\"UDP\"],"
			     "\"prefix\":\"198.51.100.0/30\",\"min\":20,\"max\":30}");
	cr_assert_str_eq(reply, "{\"ok\":false,\"error\":\"pool4: Out of memory.\"}");
	free(reply);
	cr_assert(pl.prepared == 3 && pl.next_ports == 21 && pl.applied == 1 && pl.undone == 1);
#endif
	cr_assert_eq(s->held, -1);
	set_stop(s);
}

Test(ctl_engines, globals_change_in_every_engine)
{
	struct set *s = set_start(3);
	char *one;

	expect(s,
	       "{\"version\":1,\"cmd\":\"global.update\",\"key\":\"udp-timeout\",\"value\":"
	       "\"3:00\"}",
	       "{\"ok\":true}");
	for (unsigned int i = 0; i < 3; i++)
		cr_assert_eq(nat64_globals(s->h[i]->n)->udp_timeout, 180000, "engine %u", i);
	one = call_one(s, 0, "{\"version\":1,\"cmd\":\"global.display\"}");
	expect(s, "{\"version\":1,\"cmd\":\"global.display\"}", one);
	free(one);
	set_stop(s);
}

Test(ctl_engines, static_bib_entries_go_to_every_engine_or_none)
{
	struct set *s = set_start(3);
	static struct snaps before;
	struct taddr6 a6 = h_taddr6("2001:db8::5", 53);

	expect(s,
	       "{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"UDP\",\"ipv6\":\"2001:db8::5#"
	       "53\","
	       "\"ipv4\":\"192.0.2.2#5353\"}",
	       "{\"ok\":true}");
	for (unsigned int i = 0; i < 3; i++) {
		const struct bib_entry *e = bib_find6(nat64_bib(s->h[i]->n), L4_UDP, &a6);

		cr_assert(e && bib_entry_is_static(e), "engine %u", i);
	}
	expect(s, "{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"UDP\",\"limit\":1}",
	       "{\"ok\":true,\"entries\":[\"2001:db8::5 53 192.0.2.2 5353 static\"],"
	       "\"cursor\":2}");
	/* Engines 1 and 2 have it too, and show nothing. */
	expect(s, "{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"UDP\",\"cursor\":2}",
	       "{\"ok\":true,\"entries\":[],\"cursor\":null}");
	expect(s,
	       "{\"version\":1,\"cmd\":\"bib.remove\",\"protocol\":\"UDP\",\"ipv6\":\"2001:db8::5#"
	       "53\"}",
	       "{\"ok\":true}");
	for (unsigned int i = 0; i < 3; i++)
		cr_assert_null(bib_find6(nat64_bib(s->h[i]->n), L4_UDP, &a6), "engine %u", i);

	/* Engine 2's own dynamic entry holds the IPv6 taddr: it refuses, and
	 * engines 0 and 1, which had accepted, let go again. */
	udp_sessions(s, 2, H_CLIENT, 1);
	snap_all(s, &before);
	expect(s,
	       "{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"UDP\",\"ipv6\":\"" H_CLIENT
	       "#5000\",\"ipv4\":\"192.0.2.2#5353\"}",
	       "{\"ok\":false,\"error\":\"bib: " H_CLIENT "#5000 is already mapped to another "
	       "IPv4 transport address\"}");
	expect_unchanged(s, &before);
	/* A dynamic entry lives in one engine: removing it there is enough. */
	expect(s,
	       "{\"version\":1,\"cmd\":\"bib.remove\",\"protocol\":\"UDP\",\"ipv6\":\"" H_CLIENT
	       "#5000\"}",
	       "{\"ok\":true}");
	cr_assert_eq(bib_count(nat64_bib(s->h[2]->n), L4_UDP), 0);
	set_stop(s);
}

static void
bib_paging(unsigned int count)
{
	static const char *const clients[] = {"2001:db8:2::10", "2001:db8:2::11", "2001:db8:2::12"};
	struct set *s = set_start(count);
	int total = 2;

	expect(s,
	       "{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"UDP\",\"ipv6\":\"2001:db8::5#"
	       "53\","
	       "\"ipv4\":\"192.0.2.2#5353\"}",
	       "{\"ok\":true}");
	expect(s,
	       "{\"version\":1,\"cmd\":\"bib.add\",\"protocol\":\"UDP\",\"ipv6\":\"2001:db8::6#"
	       "53\","
	       "\"ipv4\":\"192.0.2.2#5354\"}",
	       "{\"ok\":true}");
	/* Engine 1 has none of its own: a page crosses an empty table. */
	for (unsigned int i = 0; i < count; i++) {
		int own = i == 1 ? 0 : (int)(3 + 2 * i);

		udp_sessions(s, i, clients[i], own);
		total += own;
	}
	check_paging(s, "bib.display", "entries", total);
	set_stop(s);
}

Test(ctl_engines, bib_display_pages_across_engines)
{
	bib_paging(2);
	bib_paging(3);
}

static void
session_paging(unsigned int count)
{
	static const char *const clients[] = {"2001:db8:2::10", "2001:db8:2::11", "2001:db8:2::12"};
	struct set *s = set_start(count);
	int total = 0;

	for (unsigned int i = 0; i < count; i++) {
		int own = (int)(4 + 3 * i);

		udp_sessions(s, i, clients[i], own);
		total += own;
	}
	check_paging(s, "session.display", "sessions", total);
	set_stop(s);
}

Test(ctl_engines, session_display_pages_across_engines)
{
	session_paging(2);
	session_paging(3);
}

Test(ctl_engines, a_cursor_past_the_last_engine_ends_the_walk)
{
	struct set *s = set_start(2);

	udp_sessions(s, 1, H_CLIENT, 1);
	expect(s,
	       "{\"version\":1,\"cmd\":\"session.display\",\"protocol\":\"UDP\","
	       "\"cursor\":8589934592}",
	       "{\"ok\":true,\"sessions\":[],\"cursor\":null}");
	/* Engine 1 from its start: its one session. */
	expect(s,
	       "{\"version\":1,\"cmd\":\"bib.display\",\"protocol\":\"UDP\","
	       "\"cursor\":4294967296}",
	       "{\"ok\":true,\"entries\":[\"2001:db8:2::10 5000 192.0.2.2 5000 dynamic\"],"
	       "\"cursor\":null}");
	set_stop(s);
}

/* The value of row `name` of a stats.display reply. */
static long long
stat_value(const char *reply, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "[\"%s\",", name);
	p = strstr(reply, key);
	cr_assert_not_null(p, "%s", name);
	return strtoll(p + strlen(key), NULL, 10);
}

Test(ctl_engines, counters_and_usage_are_summed)
{
	struct set *s = set_start(3);
	char *reply;

	udp_sessions(s, 0, H_CLIENT, 1);
	udp_sessions(s, 1, H_CLIENT, 2);
	udp_sessions(s, 2, H_CLIENT2, 4);
	reply = call(s, "{\"version\":1,\"cmd\":\"stats.display\"}");
	cr_assert_eq(stat_value(reply, "RECEIVED6"), 7);
	cr_assert_eq(stat_value(reply, "BIB_ENTRIES"), 7);
	cr_assert_eq(stat_value(reply, "SESSIONS"), 7);
	free(reply);
	/* Each engine's BIB holds its own ports: 7 in use on 192.0.2.2. */
	expect(s, "{\"version\":1,\"cmd\":\"pool4.usage\",\"protocol\":\"UDP\"}",
	       "{\"ok\":true,\"rows\":[[\"192.0.2.2\",7,65535]],\"cursor\":null}");
	expect(s, "{\"version\":1,\"cmd\":\"pool4.sets\",\"protocol\":\"UDP\"}",
	       "{\"ok\":true,\"sets\":[{\"mark\":0,\"iter\":\"auto\",\"iterations\":1024,"
	       "\"taddrs\":65535,\"addrs\":1,\"in_use\":7}],\"cursor\":null}");
	set_stop(s);
}

/* --- The cli against a server over three engines --------------------------- */

struct client_run {
	char path[CTL_PATH_MAX];
	int rows;
	int rc;
	bool done;
};

static int
count_row(void *ctx, const char *row)
{
	struct client_run *run = ctx;

	(void)row;
	run->rows++;
	return 0;
}

static void *
client_thread(void *arg)
{
	struct client_run *run = arg;
	struct cli c = {.fd = -1, .out = stdout};
	json_t *req = client_request("session.display");

	snprintf(c.socket, sizeof(c.socket), "%s", run->path);
	buf_init(&c.in, 0);
	json_object_set_new(req, "protocol", json_string("UDP"));
	json_object_set_new(req, "limit", json_integer(3));
	run->rc = client_rows(&c, req, "sessions", count_row, run);
	client_close(&c);
	__atomic_store_n(&run->done, true, __ATOMIC_RELEASE);
	return NULL;
}

Test(ctl_engines, the_cli_follows_cursors_across_engines)
{
	struct set *s = set_start(3);
	struct ctl_config cfg = {.instance = "engines", .group = (gid_t)-1};
	struct client_run run = {.rc = -1};
	char dir[] = "/tmp/nat64-engines-XXXXXX", err[256];
	struct ctl_server *srv;
	pthread_t t;

	udp_sessions(s, 0, H_CLIENT, 2);
	udp_sessions(s, 2, H_CLIENT2, 5);
	cr_assert_not_null(mkdtemp(dir));
	cfg.dir = dir;
	srv = ctl_server_open(&cfg, &s->engines, NULL, err, sizeof(err));
	cr_assert_not_null(srv, "%s", err);
	snprintf(run.path, sizeof(run.path), "%s", ctl_server_path(srv));
	cr_assert_eq(pthread_create(&t, NULL, client_thread, &run), 0);
	while (!__atomic_load_n(&run.done, __ATOMIC_ACQUIRE)) {
		struct pollfd p = {.fd = ctl_server_fd(srv), .events = POLLIN};

		if (poll(&p, 1, 100) > 0)
			ctl_server_on_event(srv, p.fd, POLLIN);
	}
	pthread_join(t, NULL);
	cr_assert_eq(run.rc, 0);
	cr_assert_eq(run.rows, 7);
	ctl_server_close(srv);
	rmdir(dir);
	set_stop(s);
}
