/*
 * The engine's control plane (core/nat64.h): creation and settings,
 * pool4 add/remove/flush with the BIB cascade (or --quick), static BIB
 * entries, the log hook, manually-enabled, the empty-pool4 fallback.
 * Every operation's bad input must leave the state as it was: the tests
 * compare what a display shows (pool4_foreach, bib_foreach, the
 * settings) before and after.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>

#include "nat64_harness.h"
#include "session.h"

enum { DUMP_MAX = 32 };

struct bib_dump {
	unsigned n;
	struct taddr6 a6[DUMP_MAX];
	struct taddr4 a4[DUMP_MAX];
	bool is_static[DUMP_MAX];
};

static int
bib_visit(void *arg, const struct bib_entry *e)
{
	struct bib_dump *d = arg;

	cr_assert(d->n < DUMP_MAX);
	d->a6[d->n] = bib_entry_taddr6(e);
	d->a4[d->n] = bib_entry_taddr4(e);
	d->is_static[d->n] = bib_entry_is_static(e);
	d->n++;
	return 0;
}

static void
bib_dump(const struct harness *h, enum l4proto proto, struct bib_dump *d)
{
	uint32_t cursor = 0;

	memset(d, 0, sizeof(*d));
	bib_foreach(nat64_bib(h->n), proto, &cursor, bib_visit, d);
}

static void
assert_bib_same(const struct bib_dump *a, const struct bib_dump *b)
{
	cr_assert_eq(a->n, b->n, "BIB entries: %u then %u", a->n, b->n);
	for (unsigned i = 0; i < a->n; i++)
		cr_assert(taddr6_equal(&a->a6[i], &b->a6[i]) &&
			  taddr4_equal(&a->a4[i], &b->a4[i]) && a->is_static[i] == b->is_static[i]);
}

struct pool4_dump {
	unsigned n;
	struct pool4_entry e[DUMP_MAX];
};

static int
pool4_visit(void *ctx, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	struct pool4_dump *d = ctx;

	(void)set;
	cr_assert(d->n < DUMP_MAX);
	d->e[d->n++] = *e;
	return 0;
}

static void
pool4_dump(const struct harness *h, enum l4proto proto, struct pool4_dump *d)
{
	memset(d, 0, sizeof(*d));
	pool4_foreach(nat64_pool4(h->n), proto, pool4_visit, d);
}

static void
assert_pool4_same(const struct pool4_dump *a, const struct pool4_dump *b)
{
	cr_assert_eq(a->n, b->n, "pool4 entries: %u then %u", a->n, b->n);
	for (unsigned i = 0; i < a->n; i++) {
		const struct pool4_entry *x = &a->e[i], *y = &b->e[i];

		cr_assert(x->mark == y->mark && x->proto == y->proto &&
			  x->prefix.addr.s_addr == y->prefix.addr.s_addr &&
			  x->prefix.len == y->prefix.len && x->port_min == y->port_min &&
			  x->port_max == y->port_max);
	}
}

static struct pool4_entry
entry(enum l4proto proto, const char *addr, uint8_t len, uint16_t lo, uint16_t hi)
{
	struct pool4_entry e = {.proto = proto, .port_min = lo, .port_max = hi};

	e.prefix.len = len;
	cr_assert_eq(inet_pton(AF_INET, addr, &e.prefix.addr), 1);
	return e;
}

static int
try_create(struct globals *g, struct nat64_params *p, char *err, size_t errlen)
{
	struct nat64 *n = (struct nat64 *)1;
	int rc = nat64_create(&n, g, p, err, errlen);

	if (rc == 0)
		nat64_destroy(n);
	else
		cr_assert_null(n, "no engine on failure");
	return rc;
}

/* nat64_create: pool6 must be set and valid (RFC 6052 §2.2), every
 * setting within its key's limits; the error text names the problem. */
Test(pipeline_control, create_refuses_bad_settings)
{
	struct globals g;
	struct nat64_params p;
	char err[128];

	h_defaults(&g, &p);
	cr_assert_eq(try_create(NULL, &p, err, sizeof(err)), -EINVAL);
	g.pool6_set = false;
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "pool6"), "%s", err);
	h_defaults(&g, &p);
	g.pool6.len = 33;
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	h_defaults(&g, &p);
	g.pool6.addr.s6_addr[8] = 1; /* the u octet of a /96 */
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	h_defaults(&g, &p);
	g.udp_timeout = 60 * 1000; /* RFC 6146 §4: at least 2 min */
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "udp-timeout"), "%s", err);
	h_defaults(&g, &p);
	g.max_sessions = 0;
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	h_defaults(&g, &p);
	g.f_args = 16;
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "f-args"), "%s", err);
	h_defaults(&g, &p);
	g.ss_enabled = true;
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	h_defaults(&g, &p);
	g.xlat.mtu_plateau_count = 0;
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), -EINVAL);
	h_defaults(&g, &p);
	cr_assert_eq(try_create(&g, &p, err, sizeof(err)), 0);
}

/* nat64_set_globals: all or nothing; pool6 can't change (Jool). */
Test(pipeline_control, set_globals_bad_input_changes_nothing)
{
	struct harness h;
	struct globals g, before;
	char err[128];

	h_start_default(&h);
	before = *nat64_globals(h.n);
	g = before;
	g.pool6.len = 64;
	g.udp_timeout = 3 * 60 * 1000;
	cr_assert_eq(nat64_set_globals(h.n, &g, err, sizeof(err)), -1);
	cr_assert(strstr(err, "pool6"), "%s", err);
	g = before;
	g.udp_timeout = 3 * 60 * 1000;
	g.tcp_est_timeout = 60 * 1000;
	cr_assert_eq(nat64_set_globals(h.n, &g, err, sizeof(err)), -1);
	g = before;
	g.adf = true;
	g.max_sessions_per_host = 0;
	cr_assert_eq(nat64_set_globals(h.n, &g, err, sizeof(err)), -1);
	cr_assert_eq(nat64_set_globals(h.n, NULL, err, sizeof(err)), -1);
	cr_assert(memcmp(nat64_globals(h.n), &before, sizeof(before)) == 0);
	cr_assert_eq(bib_timeout(nat64_bib(h.n), SESSION_TIMER_UDP), 5 * 60 * 1000);
	h_stop(&h);
}

/* Timeouts apply at once to existing sessions (JOOL-REFERENCE §2). */
Test(pipeline_control, set_globals_timeout_applies_to_existing_sessions)
{
	struct harness h;
	struct globals g;
	uint8_t in[128];

	h_start_default(&h);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64)), STAT_OK);
	g = *nat64_globals(h.n);
	g.udp_timeout = 2 * 60 * 1000;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	h.now += 2 * 60 * 1000 + 1;
	h_tick(&h);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_UDP), 0);
	h_stop(&h);
}

/* pool4 add: refused input leaves pool4 as displayed before. */
Test(pipeline_control, pool4_add_bad_input_changes_nothing)
{
	struct harness h;
	struct pool4_dump before, after;
	struct pool4_entry e;

	h_start_default(&h);
	pool4_dump(&h, L4_UDP, &before);
	e = entry(L4_UDP, "192.0.2.3", 24, 1, 100); /* host bits set */
	cr_assert_eq(nat64_pool4_add(h.n, &e, NULL), -EADDRNOTAVAIL);
	e = entry(L4_UDP, "192.0.2.0", 33, 1, 100);
	cr_assert_eq(nat64_pool4_add(h.n, &e, NULL), -EINVAL);
	e = entry(L4_UDP, "192.0.2.9", 32, 0, 0);
	cr_assert_eq(nat64_pool4_add(h.n, &e, NULL), -EDOM);
	pool4_dump(&h, L4_UDP, &after);
	assert_pool4_same(&before, &after);
	cr_assert_eq(before.n, 1);
	h_stop(&h);
}

/* Creates the client's dynamic UDP mapping 192.0.2.2#1234 and a static
 * one 192.0.2.2#7000. */
static void
two_mappings(struct harness *h)
{
	uint8_t in[128];

	cr_assert_eq(h_input(h, in, h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64)), STAT_OK);
	h_bib(h, L4_UDP, H_CLIENT2, 7, H_POOL4, 7000);
	cr_assert_eq(bib_count(nat64_bib(h->n), L4_UDP), 2);
}

/* Jool: pool4 remove deletes the BIB entries (static too) and sessions
 * of the removed taddrs; with --quick it leaves them. */
Test(pipeline_control, pool4_remove_cascades_unless_quick)
{
	struct harness h;
	struct pool4_entry e = entry(L4_UDP, H_POOL4, 32, 1, 65535);
	uint8_t in[128];

	h_start_default(&h);
	two_mappings(&h);
	cr_assert_eq(nat64_pool4_remove(h.n, &e, true, h.now), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 2, "--quick keeps the BIB");
	cr_assert_eq(session_count(nat64_bib(h.n), L4_UDP), 1);
	/* ... but nothing reaches them from IPv4 any more. */
	cr_assert_eq(h_input(&h, in, h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1)),
		     STAT_POOL4_MISMATCH);
	h_stop(&h);

	h_start_default(&h);
	two_mappings(&h);
	cr_assert_eq(nat64_pool4_remove(h.n, &e, false, h.now), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 0);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_UDP), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_TCP), 0);
	h_stop(&h);
}

/* The cascade covers exactly the removed range (prefix and ports). */
Test(pipeline_control, pool4_remove_cascades_only_the_removed_range)
{
	struct harness h;
	struct pool4_entry e = entry(L4_UDP, H_POOL4, 32, 6000, 65535);
	struct bib_dump d;

	h_start_default(&h);
	two_mappings(&h);
	cr_assert_eq(nat64_pool4_remove(h.n, &e, false, h.now), 0);
	bib_dump(&h, L4_UDP, &d);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.a4[0].port, 1234);
	/* Reversed ports and a wider prefix are normalised the same way. */
	e = entry(L4_UDP, "192.0.2.0", 24, 1500, 1000);
	cr_assert_eq(nat64_pool4_remove(h.n, &e, false, h.now), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 0);
	h_stop(&h);
}

/* A removal that matches nothing fails and changes nothing, BIB
 * included, even without --quick. */
Test(pipeline_control, pool4_remove_bad_input_changes_nothing)
{
	struct harness h;
	struct pool4_entry e;
	struct bib_dump b0, b1;
	struct pool4_dump p0, p1;

	h_start_default(&h);
	two_mappings(&h);
	bib_dump(&h, L4_UDP, &b0);
	pool4_dump(&h, L4_UDP, &p0);
	e = entry(L4_UDP, "198.51.100.1", 32, 1, 65535);
	cr_assert_eq(nat64_pool4_remove(h.n, &e, false, h.now), -ENOENT);
	e = entry(L4_UDP, "192.0.2.3", 24, 1, 65535);
	cr_assert_eq(nat64_pool4_remove(h.n, &e, false, h.now), -EADDRNOTAVAIL);
	e = entry(L4_COUNT, H_POOL4, 32, 1, 65535);
	cr_assert_eq(nat64_pool4_remove(h.n, &e, false, h.now), -EPROTONOSUPPORT);
	bib_dump(&h, L4_UDP, &b1);
	pool4_dump(&h, L4_UDP, &p1);
	assert_bib_same(&b0, &b1);
	assert_pool4_same(&p0, &p1);
	h_stop(&h);
}

/* pool4 flush: every BIB entry goes, unless --quick. */
Test(pipeline_control, pool4_flush_cascades_unless_quick)
{
	struct harness h;
	struct pool4_dump d;

	h_start_default(&h);
	two_mappings(&h);
	nat64_pool4_flush(h.n, true, h.now);
	pool4_dump(&h, L4_UDP, &d);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 2);
	nat64_pool4_flush(h.n, false, h.now);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 0);
	h_stop(&h);
}

/* bib add: the IPv4 taddr must be in pool4 for that protocol; refused
 * input changes nothing. */
Test(pipeline_control, bib_add_bad_input_changes_nothing)
{
	struct harness h;
	struct bib_dump b0, b1;
	struct taddr6 a6 = h_taddr6(H_CLIENT, 80);
	struct taddr6 other6 = h_taddr6(H_CLIENT2, 80);
	struct taddr4 a4 = h_taddr4(H_POOL4, 8080);
	struct taddr4 out4 = h_taddr4("192.0.2.3", 8080);
	struct taddr4 other4 = h_taddr4(H_POOL4, 8081);

	h_start(&h, NULL, NULL);
	h_pool4(&h, L4_TCP, H_POOL4, 32, 8000, 8999);
	h_bib(&h, L4_TCP, H_CLIENT2, 22, H_POOL4, 8022);
	bib_dump(&h, L4_TCP, &b0);
	cr_assert_eq(nat64_bib_add(h.n, L4_TCP, &a6, &out4, h.now), -EADDRNOTAVAIL);
	cr_assert_eq(nat64_bib_add(h.n, L4_UDP, &a6, &a4, h.now), -EADDRNOTAVAIL);
	cr_assert_eq(nat64_bib_add(h.n, L4_COUNT, &a6, &a4, h.now), -EINVAL);
	cr_assert_eq(nat64_bib_add(h.n, L4_TCP, NULL, &a4, h.now), -EINVAL);
	cr_assert_eq(nat64_bib_add(h.n, L4_TCP, &other6, &a4, h.now), 0);
	bib_dump(&h, L4_TCP, &b1);
	cr_assert_eq(b1.n, b0.n + 1);
	cr_assert_eq(nat64_bib_add(h.n, L4_TCP, &other6, &a4, h.now), -EALREADY);
	cr_assert_eq(nat64_bib_add(h.n, L4_TCP, &a6, &a4, h.now), -EADDRINUSE);
	cr_assert_eq(nat64_bib_add(h.n, L4_TCP, &other6, &other4, h.now), -EEXIST);
	bib_dump(&h, L4_TCP, &b0);
	assert_bib_same(&b0, &b1);
	h_stop(&h);
}

/* bib remove: by either taddr; both must name the same entry; refused
 * input changes nothing. */
Test(pipeline_control, bib_remove_by_either_taddr)
{
	struct harness h;
	struct bib_dump b0, b1;
	struct taddr6 a6 = h_taddr6(H_CLIENT, 80);
	struct taddr4 a4 = h_taddr4(H_POOL4, 8080);
	struct taddr6 b6 = h_taddr6(H_CLIENT2, 80);
	struct taddr4 b4 = h_taddr4(H_POOL4, 8081);

	h_start_default(&h);
	h_bib(&h, L4_UDP, H_CLIENT, 80, H_POOL4, 8080);
	h_bib(&h, L4_UDP, H_CLIENT2, 80, H_POOL4, 8081);
	bib_dump(&h, L4_UDP, &b0);
	cr_assert_eq(nat64_bib_remove(h.n, L4_UDP, NULL, NULL, h.now), -EINVAL);
	cr_assert_eq(nat64_bib_remove(h.n, L4_COUNT, &a6, NULL, h.now), -EINVAL);
	cr_assert_eq(nat64_bib_remove(h.n, L4_UDP, &a6, &b4, h.now), -ENOENT);
	cr_assert_eq(nat64_bib_remove(h.n, L4_TCP, &a6, NULL, h.now), -ENOENT);
	bib_dump(&h, L4_UDP, &b1);
	assert_bib_same(&b0, &b1);
	cr_assert_eq(nat64_bib_remove(h.n, L4_UDP, NULL, &a4, h.now), 0);
	cr_assert_eq(nat64_bib_remove(h.n, L4_UDP, &b6, &b4, h.now), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 0);
	h_stop(&h);
}

/* The log hook gets BIB events only with logging-bib, session events
 * only with logging-session; the counters count all. */
Test(pipeline_control, log_hook_filters_by_logging_bib_and_session)
{
	struct harness h;
	struct globals g;
	uint8_t in[128];

	h_start_default(&h);
	nat64_set_log_hook(h.n, h_log_hook, &h);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 1, H_SERVER6, 80, 64)), STAT_OK);
	cr_assert_eq(h.nevents, 0);
	g = *nat64_globals(h.n);
	g.logging_bib = true;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 2, H_SERVER6, 80, 64)), STAT_OK);
	cr_assert_eq(h.nevents, 1);
	cr_assert_eq(h.events[0].type, BIB_EVENT_BIB_ADDED);
	cr_assert_eq(h.events[0].src6.port, 2);
	g.logging_bib = false;
	g.logging_session = true;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 3, H_SERVER6, 80, 64)), STAT_OK);
	cr_assert_eq(h.nevents, 2);
	cr_assert_eq(h.events[1].type, BIB_EVENT_SESSION_ADDED);
	cr_assert_eq(h_stat(&h, STAT_BIB_CREATED), 3);
	cr_assert_eq(h_stat(&h, STAT_SESSION_CREATED), 3);
	h.now += 6 * 60 * 1000;
	h_tick(&h);
	cr_assert_eq(h.nevents, 5, "three session removals");
	cr_assert_eq(h_stat(&h, STAT_BIB_REMOVED), 3);
	h_stop(&h);
}

/* manually-enabled false: every packet dropped, counted; timers run. */
Test(pipeline_control, manually_enabled_false_drops_everything)
{
	struct harness h;
	struct globals g;
	uint8_t in[128];

	h_start_default(&h);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 1, H_SERVER6, 80, 64)), STAT_OK);
	g = *nat64_globals(h.n);
	g.enabled = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 1, H_SERVER6, 80, 64)),
		     STAT_XLATOR_DISABLED);
	cr_assert_eq(h_input(&h, in, h_udp4(in, H_SERVER4, 80, H_POOL4, 1, 64, 1)),
		     STAT_XLATOR_DISABLED);
	cr_assert_eq(h_stat(&h, STAT_XLATOR_DISABLED), 2);
	cr_assert_eq(h_stat(&h, STAT_RECEIVED4), 1);
	h.now += 6 * 60 * 1000;
	h_tick(&h);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_COUNT), 0);
	h_stop(&h);
}

/* JOOL-REFERENCE §3.1: with no pool4 entry for a protocol, the node's own
 * addresses with ports 61001-65535 mask it. */
Test(pipeline_control, empty_pool4_uses_fallback_addresses)
{
	struct harness h;
	struct in_addr own;
	uint8_t in[128];
	uint16_t port;

	h_start(&h, NULL, NULL);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64)),
		     STAT_MARK_NOT_FOUND);
	inet_pton(AF_INET, "203.0.113.5", &own);
	cr_assert_eq(nat64_pool4_set_fallback(h.n, &own, 1), 0);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64)), STAT_OK);
	cr_assert(memcmp(h.p.data + 12, &own, 4) == 0);
	port = h_get16(h.p.data + 20);
	cr_assert(port >= 61001, "port %u", port);
	h_stop(&h);
}
