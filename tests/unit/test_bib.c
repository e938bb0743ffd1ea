/*
 * BIB entries (core/bib.c): RFC 6146 §3.1 static and dynamic mappings, both
 * indexes, the pool4-driven range removal, per-address usage, per-host
 * pairing, the address-dependent filtering query and the RFC 6888 REQ-12
 * log line.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bib.h"
#include "session.h"

static struct bib db;
static struct bib_event bev[64];
static int nbev;

static void
record_event(void *ctx, const struct bib_event *ev)
{
	(void)ctx;
	if (nbev < 64)
		bev[nbev] = *ev;
	nbev++;
}

static void
setup(void)
{
	struct bib_config cfg;

	bib_config_default(&cfg);
	cfg.key.k[0] = 0x1111;
	cfg.key.k[1] = 0x2222;
	cfg.hooks.log = record_event;
	cr_assert_eq(bib_init(&db, &cfg), 0);
	nbev = 0;
}

static void
teardown(void)
{
	bib_fini(&db);
}

TestSuite(bib, .init = setup, .fini = teardown);

static struct taddr6
a6(const char *text, uint16_t port)
{
	struct taddr6 t = {.port = port};

	cr_assert_eq(inet_pton(AF_INET6, text, &t.addr), 1, "bad test address %s", text);
	return t;
}

static struct taddr4
a4(const char *text, uint16_t port)
{
	struct taddr4 t = {.port = port};

	cr_assert_eq(inet_pton(AF_INET, text, &t.addr), 1, "bad test address %s", text);
	return t;
}

static struct in_addr
in4(const char *text)
{
	return a4(text, 0).addr;
}

/* A UDP session 6->4 from src6 (mapped to src4) to remote. */
static struct session *
udp_session(const char *s6, uint16_t sp, const char *s4, uint16_t mp, const char *remote,
	    uint16_t rp)
{
	struct session_tuple t = {
		.proto = L4_UDP,
		.src6 = a6(s6, sp),
		.src4 = a4(s4, mp),
		.dst4 = a4(remote, rp),
	};
	struct session *s = NULL;
	char text[INET6_ADDRSTRLEN + 16];

	snprintf(text, sizeof(text), "64:ff9b::%s", remote);
	t.dst6 = a6(text, rp);
	cr_assert_eq(session_add(&db, &t, TCPS_CLOSED, 1000, &s), 0);
	return s;
}

static void
assert_entry(const struct bib_entry *e, const char *s6, uint16_t p6, const char *s4, uint16_t p4)
{
	struct taddr6 want6 = a6(s6, p6), got6;
	struct taddr4 want4 = a4(s4, p4), got4;

	cr_assert_not_null(e);
	got6 = bib_entry_taddr6(e);
	got4 = bib_entry_taddr4(e);
	cr_assert(taddr6_equal(&got6, &want6), "taddr6 differs");
	cr_assert(taddr4_equal(&got4, &want4), "taddr4 differs");
}

/* Bad input first: nothing is added. */
Test(bib, add_static_bad_input_changes_nothing)
{
	struct taddr6 x = a6("2001:db8::1", 80);
	struct taddr4 y = a4("192.0.2.1", 80);

	cr_assert_eq(bib_add_static(&db, L4_COUNT, &x, &y, 0), -EINVAL);
	cr_assert_eq(bib_add_static(&db, (enum l4proto) - 1, &x, &y, 0), -EINVAL);
	cr_assert_eq(bib_add_static(&db, L4_TCP, NULL, &y, 0), -EINVAL);
	cr_assert_eq(bib_add_static(&db, L4_TCP, &x, NULL, 0), -EINVAL);
	for (int p = 0; p < L4_COUNT; p++)
		cr_assert_eq(bib_count(&db, (enum l4proto)p), 0);
	cr_assert_null(bib_find6(&db, L4_COUNT, &x));
	cr_assert_null(bib_find4(&db, L4_TCP, &y));
	cr_assert_eq(nbev, 0);
}

Test(bib, init_rejects_zero_limits_and_short_timeouts)
{
	struct bib other;
	struct bib_config cfg;

	bib_config_default(&cfg);
	cfg.max_sessions = 0;
	cr_assert_eq(bib_init(&other, &cfg), -EINVAL);
	bib_config_default(&cfg);
	cfg.timeout[SESSION_TIMER_UDP] = BIB_TIMEOUT_UDP_MIN - 1;
	cr_assert_eq(bib_init(&other, &cfg), -ERANGE);
	bib_config_default(&cfg);
	cfg.timeout[SESSION_TIMER_TCP_SYN4] = 7000;
	cr_assert_eq(bib_init(&other, &cfg), -EINVAL);
}

/* RFC 6146 §3.5.2.2 minimums; SYN4 is fixed. */
Test(bib, set_timeout_rejects_below_minimum_and_syn4)
{
	cr_assert_eq(bib_set_timeout(&db, SESSION_TIMER_TCP_EST, BIB_TIMEOUT_TCP_EST_MIN - 1),
		     -ERANGE);
	cr_assert_eq(bib_set_timeout(&db, SESSION_TIMER_TCP_TRANS, 1000), -ERANGE);
	cr_assert_eq(bib_set_timeout(&db, SESSION_TIMER_TCP_SYN4, 10000), -EINVAL);
	cr_assert_eq(bib_set_timeout(&db, SESSION_TIMER_COUNT, 10000), -EINVAL);
	cr_assert_eq(bib_timeout(&db, SESSION_TIMER_TCP_EST), BIB_TIMEOUT_TCP_EST);
	cr_assert_eq(bib_set_timeout(&db, SESSION_TIMER_ICMP, 0), 0);
	cr_assert_eq(bib_timeout(&db, SESSION_TIMER_ICMP), 0);
	cr_assert_eq(bib_set_limits(&db, 0, 5), -EINVAL);
	cr_assert_eq(bib_set_limits(&db, 5, 0), -EINVAL);
}

/* RFC 6146 §3.1: found by either taddr. */
Test(bib, static_add_then_lookup_both_ways)
{
	struct taddr6 x = a6("2001:db8::5", 8080);
	struct taddr4 y = a4("192.0.2.2", 80);
	struct bib_entry *e;

	cr_assert_eq(bib_add_static(&db, L4_TCP, &x, &y, 0), 0);
	e = bib_find6(&db, L4_TCP, &x);
	assert_entry(e, "2001:db8::5", 8080, "192.0.2.2", 80);
	cr_assert(bib_entry_is_static(e));
	cr_assert_eq(bib_entry_proto(e), L4_TCP);
	cr_assert_eq(bib_find4(&db, L4_TCP, &y), e);
	cr_assert_eq(bib_count(&db, L4_TCP), 1);
	/* One BIB per protocol. */
	cr_assert_null(bib_find6(&db, L4_UDP, &x));
	cr_assert_null(bib_find4(&db, L4_ICMP, &y));
	/* Neighbouring keys miss. */
	x.port++;
	y.port++;
	cr_assert_null(bib_find6(&db, L4_TCP, &x));
	cr_assert_null(bib_find4(&db, L4_TCP, &y));
}

Test(bib, protocols_are_separate_bibs)
{
	struct taddr6 x = a6("2001:db8::5", 1);
	struct taddr4 y = a4("192.0.2.2", 1);

	for (int p = 0; p < L4_COUNT; p++)
		cr_assert_eq(bib_add_static(&db, (enum l4proto)p, &x, &y, 0), 0);
	for (int p = 0; p < L4_COUNT; p++) {
		cr_assert_eq(bib_count(&db, (enum l4proto)p), 1);
		cr_assert_eq(bib_usage4(&db, (enum l4proto)p, y.addr), 1);
	}
}

Test(bib, static_add_collision_in_taddr6_index_fails)
{
	struct taddr6 x = a6("2001:db8::5", 1000);
	struct taddr4 y = a4("192.0.2.2", 1000), z = a4("192.0.2.3", 1000);

	cr_assert_eq(bib_add_static(&db, L4_UDP, &x, &y, 0), 0);
	cr_assert_eq(bib_add_static(&db, L4_UDP, &x, &z, 0), -EEXIST);
	cr_assert_eq(bib_count(&db, L4_UDP), 1);
	cr_assert_null(bib_find4(&db, L4_UDP, &z));
	assert_entry(bib_find6(&db, L4_UDP, &x), "2001:db8::5", 1000, "192.0.2.2", 1000);
}

Test(bib, static_add_collision_in_taddr4_index_fails)
{
	struct taddr6 x = a6("2001:db8::5", 1000), w = a6("2001:db8::6", 1000);
	struct taddr4 y = a4("192.0.2.2", 1000);

	cr_assert_eq(bib_add_static(&db, L4_UDP, &x, &y, 0), 0);
	cr_assert_eq(bib_add_static(&db, L4_UDP, &w, &y, 0), -EADDRINUSE);
	cr_assert_eq(bib_count(&db, L4_UDP), 1);
	cr_assert_null(bib_find6(&db, L4_UDP, &w));
	cr_assert_eq(bib_find4(&db, L4_UDP, &y), bib_find6(&db, L4_UDP, &x));
}

Test(bib, static_add_of_existing_static_is_ealready)
{
	struct taddr6 x = a6("2001:db8::5", 1000);
	struct taddr4 y = a4("192.0.2.2", 1000);

	cr_assert_eq(bib_add_static(&db, L4_ICMP, &x, &y, 0), 0);
	cr_assert_eq(bib_add_static(&db, L4_ICMP, &x, &y, 0), -EALREADY);
	cr_assert_eq(bib_count(&db, L4_ICMP), 1);
	cr_assert_eq(bib_usage4(&db, L4_ICMP, y.addr), 1);
}

/* Jool: `bib add` of a mapping that exists as dynamic makes it static. */
Test(bib, dynamic_upgraded_to_static_survives_its_sessions)
{
	struct session *s = udp_session("2001:db8::5", 1234, "192.0.2.2", 1234, "198.51.100.9", 53);
	struct taddr6 x = a6("2001:db8::5", 1234);
	struct taddr4 y = a4("192.0.2.2", 1234);
	struct bib_entry *e = bib_find6(&db, L4_UDP, &x);

	cr_assert_not(bib_entry_is_static(e));
	cr_assert_eq(bib_add_static(&db, L4_UDP, &x, &y, 0), 0);
	cr_assert_eq(bib_find6(&db, L4_UDP, &x), e, "upgraded in place");
	cr_assert(bib_entry_is_static(e));
	session_remove(&db, s, 2000);
	cr_assert_eq(bib_find4(&db, L4_UDP, &y), e);
	cr_assert_eq(bib_count(&db, L4_UDP), 1);
}

Test(bib, static_add_colliding_with_dynamic_mapping_fails)
{
	struct taddr6 x = a6("2001:db8::5", 1234), w = a6("2001:db8::7", 1);
	struct taddr4 y = a4("192.0.2.2", 1234), z = a4("192.0.2.9", 1);

	udp_session("2001:db8::5", 1234, "192.0.2.2", 1234, "198.51.100.9", 53);
	cr_assert_eq(bib_add_static(&db, L4_UDP, &x, &z, 0), -EEXIST);
	cr_assert_eq(bib_add_static(&db, L4_UDP, &w, &y, 0), -EADDRINUSE);
	cr_assert_not(bib_entry_is_static(bib_find6(&db, L4_UDP, &x)));
	cr_assert_eq(bib_count(&db, L4_UDP), 1);
}

Test(bib, remove_bad_input_and_missing_entry)
{
	struct taddr6 x = a6("2001:db8::5", 1);
	struct taddr4 y = a4("192.0.2.2", 1);

	cr_assert_eq(bib_add_static(&db, L4_TCP, &x, &y, 0), 0);
	cr_assert_eq(bib_remove6(&db, L4_COUNT, &x, 0), -EINVAL);
	cr_assert_eq(bib_remove4(&db, L4_TCP, NULL, 0), -EINVAL);
	cr_assert_eq(bib_remove6(&db, L4_UDP, &x, 0), -ENOENT);
	y.port = 2;
	cr_assert_eq(bib_remove4(&db, L4_TCP, &y, 0), -ENOENT);
	bib_remove(&db, NULL, 0);
	cr_assert_eq(bib_count(&db, L4_TCP), 1);
}

/* `bib remove`: removes the entry's sessions too, found by either side. */
Test(bib, remove6_cascades_to_sessions)
{
	struct taddr6 x = a6("2001:db8::5", 1234);

	udp_session("2001:db8::5", 1234, "192.0.2.2", 1234, "198.51.100.9", 53);
	udp_session("2001:db8::5", 1234, "192.0.2.2", 1234, "198.51.100.10", 53);
	udp_session("2001:db8::6", 1234, "192.0.2.2", 1235, "198.51.100.10", 53);
	cr_assert_eq(session_count(&db, L4_UDP), 3);
	cr_assert_eq(bib_remove6(&db, L4_UDP, &x, 5000), 0);
	cr_assert_null(bib_find6(&db, L4_UDP, &x));
	cr_assert_eq(session_count(&db, L4_UDP), 1);
	cr_assert_null(session_find6(&db, L4_UDP, &x, &(struct taddr4){in4("198.51.100.9"), 53}));
	cr_assert_eq(bib_host_sessions(&db, &x.addr), 0);
}

Test(bib, remove4_cascades_to_sessions)
{
	struct taddr4 y = a4("192.0.2.2", 1234);
	struct taddr4 remote = a4("198.51.100.9", 53);

	udp_session("2001:db8::5", 1234, "192.0.2.2", 1234, "198.51.100.9", 53);
	cr_assert_not_null(session_find4(&db, L4_UDP, &y, &remote));
	cr_assert_eq(bib_remove4(&db, L4_UDP, &y, 5000), 0);
	cr_assert_null(session_find4(&db, L4_UDP, &y, &remote));
	cr_assert_eq(session_count(&db, L4_COUNT), 0);
	cr_assert_eq(bib_count(&db, L4_UDP), 0);
	cr_assert_eq(bib_usage4(&db, L4_UDP, y.addr), 0);
}

Test(bib, remove_by_pointer_removes_static_entry_and_sessions)
{
	struct taddr6 x = a6("2001:db8::5", 1234);
	struct taddr4 y = a4("192.0.2.2", 1234);

	cr_assert_eq(bib_add_static(&db, L4_UDP, &x, &y, 0), 0);
	udp_session("2001:db8::5", 1234, "192.0.2.2", 1234, "198.51.100.9", 53);
	bib_remove(&db, bib_find4(&db, L4_UDP, &y), 9);
	cr_assert_eq(bib_count(&db, L4_UDP), 0);
	cr_assert_eq(session_count(&db, L4_UDP), 0);
}

static void
add_statics(enum l4proto proto, const char *addr, uint16_t first, uint16_t last)
{
	for (uint32_t p = first; p <= last; p++) {
		char text[64];
		struct taddr4 y = a4(addr, (uint16_t)p);
		struct taddr6 x;

		snprintf(text, sizeof(text), "2001:db8::%s", addr);
		x = a6(text, (uint16_t)p);
		cr_assert_eq(bib_add_static(&db, proto, &x, &y, 0), 0);
	}
}

Test(bib, remove_range4_bad_input_changes_nothing)
{
	add_statics(L4_TCP, "192.0.2.1", 10, 12);
	cr_assert_eq(bib_remove_range4(&db, L4_COUNT, in4("0.0.0.0"), in4("255.255.255.255"), 0,
				       65535, 0),
		     -EINVAL);
	cr_assert_eq(
		bib_remove_range4(&db, L4_TCP, in4("192.0.2.2"), in4("192.0.2.1"), 0, 65535, 0),
		-EINVAL);
	cr_assert_eq(bib_remove_range4(&db, L4_TCP, in4("192.0.2.1"), in4("192.0.2.1"), 12, 10, 0),
		     -EINVAL);
	cr_assert_eq(bib_count(&db, L4_TCP), 3);
}

/* `pool4 remove` without --quick, small range: static entries go too, and
 * only the range's addresses, ports and protocol. */
Test(bib, remove_range4_small_range_includes_static_entries)
{
	add_statics(L4_TCP, "192.0.2.1", 10, 20);
	add_statics(L4_TCP, "192.0.2.2", 10, 20);
	add_statics(L4_TCP, "192.0.2.3", 10, 20);
	add_statics(L4_UDP, "192.0.2.2", 10, 20);
	udp_session("2001:db8::99", 1, "192.0.2.2", 25, "198.51.100.1", 7);
	udp_session("2001:db8::99", 2, "192.0.2.2", 26, "198.51.100.1", 7);
	cr_assert_eq(bib_remove_range4(&db, L4_UDP, in4("192.0.2.2"), in4("192.0.2.2"), 12, 25, 0),
		     10, "9 static entries and 1 dynamic");
	cr_assert_eq(bib_count(&db, L4_UDP), 3);
	cr_assert_eq(session_count(&db, L4_UDP), 1, "the session on port 26 stays");
	cr_assert_eq(bib_count(&db, L4_TCP), 33);
	cr_assert_null(bib_find4(&db, L4_UDP, &(struct taddr4){in4("192.0.2.2"), 12}));
	cr_assert_null(bib_find4(&db, L4_UDP, &(struct taddr4){in4("192.0.2.2"), 20}));
	cr_assert_null(bib_find4(&db, L4_UDP, &(struct taddr4){in4("192.0.2.2"), 25}));
	cr_assert_not_null(bib_find4(&db, L4_UDP, &(struct taddr4){in4("192.0.2.2"), 26}));
	cr_assert_not_null(bib_find4(&db, L4_UDP, &(struct taddr4){in4("192.0.2.2"), 11}));
	cr_assert_not_null(bib_find4(&db, L4_TCP, &(struct taddr4){in4("192.0.2.2"), 15}));
}

/* Large range (more taddrs than entries): the scan path. */
Test(bib, remove_range4_large_range_includes_static_entries)
{
	add_statics(L4_TCP, "192.0.2.1", 10, 20);
	add_statics(L4_TCP, "192.0.2.2", 10, 20);
	add_statics(L4_TCP, "192.0.2.9", 10, 20);
	cr_assert_eq(
		bib_remove_range4(&db, L4_TCP, in4("192.0.2.0"), in4("192.0.2.8"), 0, 65535, 0),
		22);
	cr_assert_eq(bib_count(&db, L4_TCP), 11);
	cr_assert_eq(bib_usage4(&db, L4_TCP, in4("192.0.2.1")), 0);
	cr_assert_eq(bib_usage4(&db, L4_TCP, in4("192.0.2.9")), 11);
	cr_assert_eq(
		bib_remove_range4(&db, L4_TCP, in4("0.0.0.0"), in4("255.255.255.255"), 15, 15, 0),
		1);
	cr_assert_eq(bib_count(&db, L4_TCP), 10);
}

Test(bib, flush_removes_every_protocol_and_session)
{
	add_statics(L4_TCP, "192.0.2.1", 10, 20);
	add_statics(L4_ICMP, "192.0.2.1", 10, 20);
	udp_session("2001:db8::99", 1, "192.0.2.2", 15, "198.51.100.1", 7);
	bib_flush(&db, 0);
	for (int p = 0; p < L4_COUNT; p++)
		cr_assert_eq(bib_count(&db, (enum l4proto)p), 0);
	cr_assert_eq(session_count(&db, L4_COUNT), 0);
	cr_assert_eq(bib_usage4(&db, L4_ICMP, in4("192.0.2.1")), 0);
}

/* pool4 occupancy per address and protocol. */
Test(bib, usage4_counts_up_and_down)
{
	struct in_addr addr = in4("192.0.2.2");
	struct taddr4 y = a4("192.0.2.2", 1001);
	struct session *s;

	cr_assert_eq(bib_usage4(&db, L4_UDP, addr), 0);
	s = udp_session("2001:db8::5", 1, "192.0.2.2", 1000, "198.51.100.9", 53);
	udp_session("2001:db8::5", 2, "192.0.2.2", 1001, "198.51.100.9", 53);
	udp_session("2001:db8::5", 2, "192.0.2.2", 1001, "198.51.100.8", 53);
	cr_assert_eq(bib_usage4(&db, L4_UDP, addr), 2, "two entries, three sessions");
	cr_assert_eq(bib_usage4(&db, L4_TCP, addr), 0);
	cr_assert_eq(bib_usage4(&db, L4_UDP, in4("192.0.2.3")), 0);
	cr_assert_eq(bib_usage4(&db, L4_COUNT, addr), 0);
	session_remove(&db, s, 2000);
	cr_assert_eq(bib_usage4(&db, L4_UDP, addr), 1);
	bib_remove4(&db, L4_UDP, &y, 3000);
	cr_assert_eq(bib_usage4(&db, L4_UDP, addr), 0);
}

/* Paired address pooling (RFC 4787 REQ-2): the host's IPv4 address. */
Test(bib, host_addr4_pairs_a_host_with_its_first_address)
{
	struct in6_addr host = a6("2001:db8::5", 0).addr, other = a6("2001:db8::6", 0).addr;
	struct in_addr got;
	struct session *s1, *s2;

	cr_assert_not(bib_host_addr4(&db, L4_UDP, &host, &got));
	cr_assert_not(bib_host_addr4(&db, L4_COUNT, &host, &got));
	s1 = udp_session("2001:db8::5", 1, "192.0.2.7", 1000, "198.51.100.9", 53);
	cr_assert(bib_host_addr4(&db, L4_UDP, &host, &got));
	cr_assert_eq(got.s_addr, in4("192.0.2.7").s_addr);
	cr_assert_not(bib_host_addr4(&db, L4_TCP, &host, &got), "per protocol");
	cr_assert_not(bib_host_addr4(&db, L4_UDP, &other, &got), "per host");
	s2 = udp_session("2001:db8::5", 2, "192.0.2.7", 1001, "198.51.100.9", 53);
	udp_session("2001:db8::5", 3, "192.0.2.8", 1001, "198.51.100.9", 53);
	session_remove(&db, s1, 2000);
	cr_assert(bib_host_addr4(&db, L4_UDP, &host, &got), "still one entry on .7");
	cr_assert_eq(got.s_addr, in4("192.0.2.7").s_addr);
	session_remove(&db, s2, 2000);
	cr_assert_not(bib_host_addr4(&db, L4_UDP, &host, &got), "hint lost: .8 was unpaired");
}

/* Jool's address-dependent filtering: same remote address, any port. */
Test(bib, has_session_to_addr4_ignores_port)
{
	struct taddr6 x = a6("2001:db8::5", 1);
	struct bib_entry *e;
	struct session *s, *s2;

	cr_assert_not(bib_has_session_to_addr4(&db, NULL, in4("198.51.100.9")));
	s = udp_session("2001:db8::5", 1, "192.0.2.7", 1000, "198.51.100.9", 53);
	udp_session("2001:db8::6", 1, "192.0.2.7", 1001, "198.51.100.10", 53);
	e = bib_find6(&db, L4_UDP, &x);
	cr_assert_eq(db.remotes.used, 0, "single-session entries need no record");
	cr_assert(bib_has_session_to_addr4(&db, e, in4("198.51.100.9")));
	cr_assert_not(bib_has_session_to_addr4(&db, e, in4("198.51.100.10")), "other entry's");
	cr_assert_not(bib_has_session_to_addr4(&db, e, in4("198.51.100.8")));
	s2 = udp_session("2001:db8::5", 1, "192.0.2.7", 1000, "198.51.100.9", 9999);
	session_remove(&db, s, 2000);
	cr_assert(bib_has_session_to_addr4(&db, e, in4("198.51.100.9")), "port 9999 remains");
	udp_session("2001:db8::5", 1, "192.0.2.7", 1000, "198.51.100.8", 1);
	cr_assert_eq(db.remotes.used, 2);
	session_remove(&db, s2, 2000);
	cr_assert_eq(db.remotes.used, 0, "one session left: records dropped");
	cr_assert_eq(bib_find6(&db, L4_UDP, &x), e, "kept by the session to .8");
	cr_assert_not(bib_has_session_to_addr4(&db, e, in4("198.51.100.9")), "last one gone");
	cr_assert(bib_has_session_to_addr4(&db, e, in4("198.51.100.8")));
}

Test(bib, has_session_to_addr4_false_for_static_entry_without_sessions)
{
	struct taddr6 x = a6("2001:db8::5", 1);
	struct taddr4 y = a4("192.0.2.7", 1);

	cr_assert_eq(bib_add_static(&db, L4_TCP, &x, &y, 0), 0);
	cr_assert_not(bib_has_session_to_addr4(&db, bib_find6(&db, L4_TCP, &x), y.addr));
}

static int
collect_ports(void *arg, const struct bib_entry *e)
{
	uint32_t *sum = arg;

	*sum += e->be_port4;
	return e->be_port4 == 12 ? 7 : 0;
}

Test(bib, foreach_visits_one_protocol_and_resumes)
{
	uint32_t cursor = 0, sum = 0;

	add_statics(L4_TCP, "192.0.2.1", 10, 14);
	add_statics(L4_UDP, "192.0.2.1", 100, 101);
	cr_assert_eq(bib_foreach(&db, L4_TCP, &cursor, collect_ports, &sum), 7);
	cr_assert_eq(sum, 10 + 11 + 12);
	cr_assert_eq(bib_foreach(&db, L4_TCP, &cursor, collect_ports, &sum), 0);
	cr_assert_eq(sum, 10 + 11 + 12 + 13 + 14);
}

/* RFC 6888 REQ-12: one event per creation and removal. */
Test(bib, log_hook_sees_bib_and_session_events)
{
	struct taddr6 x = a6("2001:db8::5", 1234);

	udp_session("2001:db8::5", 1234, "192.0.2.2", 4321, "198.51.100.9", 53);
	cr_assert_eq(nbev, 2);
	cr_assert_eq(bev[0].type, BIB_EVENT_BIB_ADDED);
	cr_assert_eq(bev[1].type, BIB_EVENT_SESSION_ADDED);
	cr_assert_eq(bev[1].time, 1000);
	cr_assert_eq(bev[1].dst4.port, 53);
	cr_assert_eq(bev[1].src4.port, 4321);
	bib_remove6(&db, L4_UDP, &x, 7000);
	cr_assert_eq(nbev, 4);
	cr_assert_eq(bev[2].type, BIB_EVENT_SESSION_REMOVED);
	cr_assert_eq(bev[3].type, BIB_EVENT_BIB_REMOVED);
	cr_assert_eq(bev[3].time, 7000);
	cr_assert_not(bev[3].is_static);
}

Test(bib, event_format_session_line)
{
	struct bib_event ev = {
		.time = 1795668000123ULL, /* 2026-11-26T04:40:00.123Z */
		.type = BIB_EVENT_SESSION_ADDED,
		.proto = L4_TCP,
		.src6 = a6("2001:db8::5", 1234),
		.src4 = a4("192.0.2.2", 1234),
		.dst6 = a6("64:ff9b::198.51.100.9", 80),
		.dst4 = a4("198.51.100.9", 80),
	};
	char line[160];
	int n = bib_event_format(&ev, line, sizeof(line));

	cr_assert_str_eq(line, "2026-11-26T04:40:00.123Z session-added TCP 2001:db8::5#1234 "
			       "192.0.2.2#1234 198.51.100.9#80");
	cr_assert_eq(n, (int)strlen(line));
}

Test(bib, event_format_bib_line_and_leap_day)
{
	struct bib_event ev = {
		.time = 951868799999ULL, /* 2000-02-29T23:59:59.999Z */
		.type = BIB_EVENT_BIB_REMOVED,
		.proto = L4_ICMP,
		.is_static = true,
		.src6 = a6("2001:db8::1", 7),
		.src4 = a4("192.0.2.3", 9),
	};
	char line[160];

	bib_event_format(&ev, line, sizeof(line));
	cr_assert_str_eq(
		line, "2000-02-29T23:59:59.999Z bib-removed ICMP 2001:db8::1#7 192.0.2.3#9 static");
	ev.time = 0;
	ev.type = BIB_EVENT_BIB_ADDED;
	ev.is_static = false;
	ev.proto = L4_UDP;
	bib_event_format(&ev, line, sizeof(line));
	cr_assert_str_eq(
		line, "1970-01-01T00:00:00.000Z bib-added UDP 2001:db8::1#7 192.0.2.3#9 dynamic");
}

Test(bib, event_format_rejects_bad_event_and_truncates)
{
	struct bib_event ev = {.type = BIB_EVENT_SESSION_REMOVED, .proto = L4_COUNT};
	char line[16];

	memset(line, 'x', sizeof(line));
	cr_assert_eq(bib_event_format(&ev, line, sizeof(line)), -EINVAL);
	cr_assert_eq(line[0], 'x', "untouched");
	ev.proto = L4_UDP;
	ev.type = (enum bib_event_type)9;
	cr_assert_eq(bib_event_format(&ev, line, sizeof(line)), -EINVAL);
	cr_assert_eq(bib_event_format(NULL, line, sizeof(line)), -EINVAL);
	ev.type = BIB_EVENT_SESSION_REMOVED;
	cr_assert_gt(bib_event_format(&ev, line, sizeof(line)), 15);
	cr_assert_eq(strlen(line), 15);
	cr_assert_str_eq(line, "1970-01-01T00:0");
}

Test(bib, memory_grows_with_entries)
{
	size_t before = bib_memory(&db);

	add_statics(L4_TCP, "192.0.2.1", 1, 100);
	cr_assert_gt(bib_memory(&db), before);
}
