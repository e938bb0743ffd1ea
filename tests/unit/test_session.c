/*
 * Sessions (core/session.c): RFC 6146 §3.5 creation and lookups in both
 * directions, expiry of every timer class with an injected clock, the TCP
 * fates applied to the tables, stored v4 SYNs, RFC 6888 REQ-4 limits, and
 * a randomized differential test of the tables against a naive array
 * model.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "bib.h"
#include "session.h"

enum {
	UDP_TO = BIB_TIMEOUT_UDP,
	ICMP_TO = BIB_TIMEOUT_ICMP,
	EST_TO = BIB_TIMEOUT_TCP_EST,
	TRANS_TO = BIB_TIMEOUT_TCP_TRANS,
	SYN4_TO = BIB_TIMEOUT_TCP_SYN4,
	T0 = 1000000, /* creation time of most sessions */
};

static struct bib db;
static struct session_action acts[16];
static int nacts;
static uint32_t released[16];
static int nreleased;
static int nadded, nremoved;

static void
on_event(void *ctx, const struct bib_event *ev)
{
	(void)ctx;
	nadded += ev->type == BIB_EVENT_SESSION_ADDED;
	nremoved += ev->type == BIB_EVENT_SESSION_REMOVED;
}

static void
on_release(void *ctx, uint32_t handle)
{
	(void)ctx;
	if (nreleased < 16)
		released[nreleased] = handle;
	nreleased++;
}

static void
on_action(void *arg, const struct session_action *a)
{
	(void)arg;
	if (nacts < 16)
		acts[nacts] = *a;
	nacts++;
}

static void
make_db(struct bib *out, uint32_t max, uint32_t per_host)
{
	struct bib_config cfg;

	bib_config_default(&cfg);
	cfg.key.k[0] = 0xabcdef;
	cfg.key.k[1] = 0x123456;
	cfg.max_sessions = max;
	cfg.max_sessions_per_host = per_host;
	cfg.hooks.log = on_event;
	cfg.hooks.release_stored = on_release;
	cr_assert_eq(bib_init(out, &cfg), 0);
}

static void
setup(void)
{
	make_db(&db, 1000, 100);
	nacts = nreleased = nadded = nremoved = 0;
}

static void
teardown(void)
{
	bib_fini(&db);
}

TestSuite(session, .init = setup, .fini = teardown);

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

/* RFC 6146 §3.5.1 (TCP/UDP: remote port kept) and §3.5.3 (ICMP: every
 * "port" is the identifier of its side). */
static struct session_tuple
tup(enum l4proto proto, const char *s6, uint16_t sp, const char *s4, uint16_t mp, const char *d4,
    uint16_t dp)
{
	struct session_tuple t = {
		.proto = proto,
		.src6 = a6(s6, sp),
		.src4 = a4(s4, mp),
		.dst4 = a4(d4, proto == L4_ICMP ? mp : dp),
	};
	char text[64];

	snprintf(text, sizeof(text), "64:ff9b::%s", d4);
	t.dst6 = a6(text, proto == L4_ICMP ? sp : dp);
	return t;
}

static struct session *
add(const struct session_tuple *t, enum tcp_state state, uint64_t now)
{
	struct session *s = NULL;

	cr_assert_eq(session_add(&db, t, state, now, &s), 0, "session_add failed");
	cr_assert_not_null(s);
	return s;
}

/* Field by field: the structs have padding. */
static bool
tuple_equal(const struct session_tuple *a, const struct session_tuple *b)
{
	return a->proto == b->proto && taddr6_equal(&a->src6, &b->src6) &&
	       taddr6_equal(&a->dst6, &b->dst6) && taddr4_equal(&a->src4, &b->src4) &&
	       taddr4_equal(&a->dst4, &b->dst4);
}

/* The session as a 6->4 packet of the tuple finds it. */
static struct session *
find6(const struct session_tuple *t)
{
	return session_find6(&db, t->proto, &t->src6, &(struct taddr4){t->dst4.addr, t->dst6.port});
}

/* The session as a 4->6 packet answering the tuple finds it. */
static struct session *
find4(const struct session_tuple *t)
{
	return session_find4(&db, t->proto, &t->src4, &t->dst4);
}

static struct session_tuple
udp1(void)
{
	return tup(L4_UDP, "2001:db8::5", 1234, "192.0.2.2", 4321, "198.51.100.9", 53);
}

static struct session_tuple
tcp1(void)
{
	return tup(L4_TCP, "2001:db8::5", 40000, "192.0.2.2", 40000, "198.51.100.9", 80);
}

/* --- creation and lookups -------------------------------------------- */

/* Bad input first: nothing is created. */
Test(session, add_bad_input_changes_nothing)
{
	struct session_tuple t = udp1();
	struct session *s = (struct session *)&t;

	t.proto = L4_COUNT;
	cr_assert_eq(session_add(&db, &t, TCPS_CLOSED, T0, &s), -EINVAL);
	cr_assert_eq(s, (struct session *)&t, "out untouched");
	cr_assert_eq(session_add(&db, NULL, TCPS_CLOSED, T0, NULL), -EINVAL);
	t = udp1();
	t.dst6.port = 54; /* RFC 6146 §3.5.1: remote port differs across families */
	cr_assert_eq(session_add(&db, &t, TCPS_CLOSED, T0, NULL), -EINVAL);
	t = tup(L4_ICMP, "2001:db8::5", 7, "192.0.2.2", 9, "198.51.100.9", 0);
	t.dst4.port = 7; /* RFC 6146 §3.5.3: dst4 id must be src4's */
	cr_assert_eq(session_add(&db, &t, TCPS_CLOSED, T0, NULL), -EINVAL);
	t = tcp1();
	cr_assert_eq(session_add(&db, &t, TCPS_CLOSED, T0, NULL), -EINVAL);
	cr_assert_eq(session_add(&db, &t, TCPS_COUNT, T0, NULL), -EINVAL);
	cr_assert_eq(session_count(&db, L4_COUNT), 0);
	cr_assert_eq(bib_count(&db, L4_TCP) + bib_count(&db, L4_UDP), 0);
	cr_assert_null(session_find6(&db, L4_COUNT, &t.src6, &t.dst4));
	cr_assert_null(session_find4(&db, L4_TCP, NULL, &t.dst4));
	cr_assert_eq(nadded, 0);
}

Test(session, add_creates_dynamic_bib_and_is_found_both_ways)
{
	struct session_tuple t = udp1(), got;
	struct session *s = add(&t, TCPS_CLOSED, T0);
	struct bib_entry *e = bib_find6(&db, L4_UDP, &t.src6);

	cr_assert_not_null(e);
	cr_assert_not(bib_entry_is_static(e));
	cr_assert_eq(session_bib(&db, s), e);
	cr_assert_eq(find6(&t), s);
	cr_assert_eq(find4(&t), s);
	cr_assert_eq(session_proto(&db, s), L4_UDP);
	session_get_tuple(&db, s, &got);
	cr_assert(tuple_equal(&got, &t), "tuple round trip");
	cr_assert_eq(session_count(&db, L4_UDP), 1);
	cr_assert_eq(session_count(&db, L4_TCP), 0);
	cr_assert_eq(bib_host_sessions(&db, &t.src6.addr), 1);
	cr_assert_eq(nadded, 1);
}

Test(session, lookups_miss_on_any_other_field)
{
	struct session_tuple t = udp1(), u;

	add(&t, TCPS_CLOSED, T0);
	u = t;
	u.proto = L4_TCP;
	cr_assert_null(find6(&u));
	cr_assert_null(find4(&u));
	u = t;
	u.src6.port++;
	cr_assert_null(find6(&u));
	u = t;
	u.dst6.port++;
	cr_assert_null(find6(&u));
	u = t;
	u.dst4.addr.s_addr ^= htonl(1);
	cr_assert_null(find6(&u));
	cr_assert_null(find4(&u));
	u = t;
	u.dst4.port++;
	cr_assert_null(find4(&u));
	u = t;
	u.src4.port++;
	cr_assert_null(find4(&u));
}

/* Endpoint-independent mapping (RFC 6146 §3.5.1): a second destination
 * reuses the BIB entry. */
Test(session, second_destination_reuses_the_bib_entry)
{
	struct session_tuple t = udp1(), u = udp1();
	struct session *s1, *s2;

	u.dst4 = a4("203.0.113.1", 53);
	u.dst6 = a6("64:ff9b::203.0.113.1", 53);
	s1 = add(&t, TCPS_CLOSED, T0);
	s2 = add(&u, TCPS_CLOSED, T0);
	cr_assert_neq(s1, s2);
	cr_assert_eq(session_bib(&db, s1), session_bib(&db, s2));
	cr_assert_eq(bib_count(&db, L4_UDP), 1);
	cr_assert_eq(find4(&u), s2);
}

Test(session, add_conflicts_are_refused_with_distinct_errors)
{
	struct session_tuple t = udp1(), u;

	add(&t, TCPS_CLOSED, T0);
	cr_assert_eq(session_add(&db, &t, TCPS_CLOSED, T0, NULL), -EEXIST);
	u = t;
	u.dst4 = a4("203.0.113.1", 53);
	u.dst6 = a6("64:ff9b::203.0.113.1", 53);
	u.src4.port = 1; /* src6 is mapped to 4321 */
	cr_assert_eq(session_add(&db, &u, TCPS_CLOSED, T0, NULL), -EADDRNOTAVAIL);
	u = t;
	u.src6 = a6("2001:db8::6", 1234); /* src4 belongs to 2001:db8::5 */
	cr_assert_eq(session_add(&db, &u, TCPS_CLOSED, T0, NULL), -EADDRINUSE);
	cr_assert_eq(session_count(&db, L4_COUNT), 1);
	cr_assert_eq(bib_count(&db, L4_UDP), 1);
}

/* RFC 6146 §3.5.3: ICMP query sessions keep each side's identifier. */
Test(session, icmp_session_found_by_identifiers)
{
	struct session_tuple t = tup(L4_ICMP, "2001:db8::5", 7, "192.0.2.2", 9, "198.51.100.9", 0);
	struct session *s = add(&t, TCPS_CLOSED, T0);
	struct taddr4 reply_src = a4("198.51.100.9", 9), reply_dst = a4("192.0.2.2", 9);
	struct taddr4 req_dst = {t.dst4.addr, 7};

	cr_assert_eq(session_find6(&db, L4_ICMP, &t.src6, &req_dst), s);
	cr_assert_eq(session_find4(&db, L4_ICMP, &reply_dst, &reply_src), s);
	req_dst.port = 9;
	cr_assert_null(session_find6(&db, L4_ICMP, &t.src6, &req_dst));
}

Test(session, bursts_find_what_single_lookups_find)
{
	struct session_query q6[40], q4[40];
	struct session *want[40], *out6[40], *out4[40];

	for (int i = 0; i < 40; i++) {
		struct session_tuple t = udp1();

		t.src6.port = (uint16_t)(1000 + i);
		t.src4.port = (uint16_t)(2000 + i);
		want[i] = i % 3 ? add(&t, TCPS_CLOSED, T0) : NULL;
		q6[i] = (struct session_query){.proto = L4_UDP, .src6 = t.src6, .dst4 = t.dst4};
		q4[i] = (struct session_query){.proto = L4_UDP, .dst4 = t.src4, .src4 = t.dst4};
	}
	q6[5].proto = L4_COUNT;
	want[5] = NULL;
	q4[5].proto = L4_COUNT;
	session_find6_burst(&db, q6, 40, out6);
	session_find4_burst(&db, q4, 40, out4);
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(out6[i], want[i], "6->4 query %d", i);
		cr_assert_eq(out4[i], want[i], "4->6 query %d", i);
	}
}

/* Past the initial buckets and one pool chunk: tables grow, freed slots
 * are reused, everything stays found. */
Test(session, many_sessions_grow_the_tables_and_stay_found)
{
	const uint32_t N = 3 * (1u << db.sessions.shift) / 2;
	size_t initial = bib_memory(&db), first = 0, big;

	bib_set_limits(&db, N, N);
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < N; i++) {
			struct session_tuple t = udp1();

			t.src6.addr.s6_addr32[3] = htonl(i);
			t.src4.addr.s_addr = htonl(0xc0000000u | (i >> 8));
			t.src4.port = (uint16_t)(i & 0xff);
			t.dst4.port = t.dst6.port = (uint16_t)(1 + i % 7);
			add(&t, TCPS_CLOSED, T0 + (uint64_t)round * UDP_TO * 2);
		}
		for (uint32_t i = 0; i < N; i += 97) {
			struct session_tuple t = udp1();

			t.src6.addr.s6_addr32[3] = htonl(i);
			t.src4.addr.s_addr = htonl(0xc0000000u | (i >> 8));
			t.src4.port = (uint16_t)(i & 0xff);
			t.dst4.port = t.dst6.port = (uint16_t)(1 + i % 7);
			cr_assert_not_null(find6(&t), "session %u", i);
			cr_assert_eq(find4(&t), find6(&t));
		}
		cr_assert_eq(session_count(&db, L4_UDP), N);
		cr_assert_eq(db.sessions.nchunks, 2);
		big = bib_memory(&db);
		cr_assert_gt(big, initial);
		cr_assert_eq(session_sweep(&db, T0 + (uint64_t)round * UDP_TO * 2 + UDP_TO + 1, 0,
					   NULL, NULL),
			     N);
		cr_assert_eq(bib_count(&db, L4_UDP), 0);
		cr_assert_eq(bib_memory(&db), big, "memory is kept for reuse");
		first = round == 0 ? big : first;
	}
	cr_assert_eq(big, first, "the second round reused the first round's memory");
}

/* --- expiry ---------------------------------------------------------- */

/* RFC 6146 §3.5.1: idle longer than the UDP timeout, gone. */
Test(session, udp_expires_after_its_timeout)
{
	struct session_tuple t = udp1();

	add(&t, TCPS_CLOSED, T0);
	cr_assert_eq(session_sweep(&db, T0 + UDP_TO - 1, 0, on_action, NULL), 0);
	cr_assert_eq(session_sweep(&db, T0 + UDP_TO, 0, on_action, NULL), 0);
	cr_assert_not_null(find6(&t));
	cr_assert_eq(session_expires_in(&db, find6(&t), T0 + UDP_TO - 1), 1);
	cr_assert_eq(session_sweep(&db, T0 + UDP_TO + 1, 0, on_action, NULL), 1);
	cr_assert_null(find6(&t));
	cr_assert_null(bib_find6(&db, L4_UDP, &t.src6), "dynamic entry died with it");
	cr_assert_eq(nacts, 0);
	cr_assert_eq(nremoved, 1);
}

/* RFC 6146 §3.5.3: ICMP query timeout. */
Test(session, icmp_expires_after_its_timeout)
{
	struct session_tuple t = tup(L4_ICMP, "2001:db8::5", 7, "192.0.2.2", 9, "198.51.100.9", 0);

	add(&t, TCPS_CLOSED, T0);
	session_sweep(&db, T0 + ICMP_TO - 1, 0, on_action, NULL);
	cr_assert_not_null(find6(&t));
	session_sweep(&db, T0 + ICMP_TO + 1, 0, on_action, NULL);
	cr_assert_null(find6(&t));
	cr_assert_eq(session_count(&db, L4_ICMP), 0);
}

/* RFC 6146 §3.5.2.2: an ESTABLISHED session whose timer runs out goes
 * TRANS and the IPv6 node is probed; the session is not removed. */
Test(session, tcp_est_expiry_goes_trans_and_reports_probe)
{
	struct session_tuple t = tcp1();
	struct session *s = add(&t, TCPS_ESTABLISHED, T0);

	session_sweep(&db, T0 + EST_TO - 1, 0, on_action, NULL);
	cr_assert_eq(s->se_state, TCPS_ESTABLISHED);
	cr_assert_eq(nacts, 0);
	cr_assert_eq(session_sweep(&db, T0 + EST_TO + 1, 0, on_action, NULL), 1);
	cr_assert_eq(find6(&t), s, "still there");
	cr_assert_eq(s->se_state, TCPS_TRANS);
	cr_assert_eq(nacts, 1);
	cr_assert_eq(acts[0].type, SESSION_ACTION_PROBE);
	cr_assert(tuple_equal(&acts[0].tuple, &t), "probe names the flow");
	cr_assert_eq(session_expires_in(&db, s, T0 + EST_TO + 1), TRANS_TO);
	/* Now on the transitory timer, counted from the expiry. */
	session_sweep(&db, T0 + EST_TO + 1 + TRANS_TO - 1, 0, on_action, NULL);
	cr_assert_not_null(find6(&t));
	session_sweep(&db, T0 + EST_TO + 1 + TRANS_TO + 1, 0, on_action, NULL);
	cr_assert_null(find6(&t));
	cr_assert_eq(nacts, 1);
}

/* Half-closed sessions on the est timer are removed, not probed. */
Test(session, tcp_est_expiry_of_fin_rcv_removes)
{
	struct session_tuple t = tcp1();
	struct session *s = add(&t, TCPS_ESTABLISHED, T0);

	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_4TO6, TH_FIN, T0 + 5), TCP_FATE_PRESERVE);
	cr_assert_eq(s->se_state, TCPS_V4_FIN_RCV);
	session_sweep(&db, T0 + EST_TO + 1, 0, on_action, NULL);
	cr_assert_null(find6(&t), "the FIN kept the timer of T0");
	cr_assert_eq(nacts, 0);
}

/* A session created in a later state (session synchronisation) goes on
 * the timer of that state. */
Test(session, add_in_fin_state_uses_est_timer)
{
	struct session_tuple t = tcp1(), u = tcp1();
	struct session *s = add(&t, TCPS_V6_FIN_RCV, T0), *v;

	u.src6.port++;
	u.src4.port++;
	v = add(&u, TCPS_V4_FIN_V6_FIN_RCV, T0);
	cr_assert_eq(session_expires_in(&db, s, T0), EST_TO);
	cr_assert_eq(session_expires_in(&db, v, T0), TRANS_TO);
	cr_assert_eq(s->se_state, TCPS_V6_FIN_RCV);
}

/* RFC 6146 §3.5.2.2: V6_INIT lives on the transitory timer. */
Test(session, tcp_trans_expiry_removes)
{
	struct session_tuple t = tcp1();

	add(&t, TCPS_V6_INIT, T0);
	session_sweep(&db, T0 + TRANS_TO - 1, 0, on_action, NULL);
	cr_assert_not_null(find6(&t));
	session_sweep(&db, T0 + TRANS_TO + 1, 0, on_action, NULL);
	cr_assert_null(find6(&t));
	cr_assert_eq(bib_count(&db, L4_TCP), 0);
	cr_assert_eq(nacts, 0);
}

/* RFC 6146 §3.5.2.2: a stored v4 SYN (type 2) gets ICMP 3/3 after 6 s. */
Test(session, syn4_expiry_reports_icmp_with_stored_packet)
{
	struct session_tuple t = tcp1();
	struct session *s = add(&t, TCPS_V4_INIT, T0);
	uint32_t h = 0;

	cr_assert_eq(session_attach_stored(&db, s, 77, T0), 0);
	cr_assert(session_stored(&db, s, &h));
	cr_assert_eq(h, 77);
	cr_assert_eq(session_stored_count(&db), 1);
	session_sweep(&db, T0 + SYN4_TO - 1, 0, on_action, NULL);
	cr_assert_not_null(find6(&t));
	session_sweep(&db, T0 + SYN4_TO + 1, 0, on_action, NULL);
	cr_assert_null(find6(&t));
	cr_assert_eq(nacts, 1);
	cr_assert_eq(acts[0].type, SESSION_ACTION_ICMP);
	cr_assert_eq(acts[0].stored, 77);
	cr_assert_eq(acts[0].tuple.dst4.addr.s_addr, t.dst4.addr.s_addr);
	cr_assert_eq(nreleased, 0, "ownership went with the action, not the hook");
	cr_assert_eq(session_stored_count(&db), 0);
}

Test(session, attach_stored_refuses_bad_sessions)
{
	struct session_tuple t = tcp1(), u = udp1();
	struct session *s = add(&t, TCPS_V6_INIT, T0), *v = add(&u, TCPS_CLOSED, T0);

	cr_assert_eq(session_attach_stored(&db, s, 1, T0), -EINVAL, "not V4_INIT");
	cr_assert_eq(session_attach_stored(&db, v, 1, T0), -EINVAL, "not TCP");
	cr_assert_eq(session_attach_stored(&db, NULL, 1, T0), -EINVAL);
	cr_assert_not(session_stored(&db, s, NULL));
	t.src6.port++;
	t.src4.port++;
	s = add(&t, TCPS_V4_INIT, T0);
	cr_assert_eq(session_attach_stored(&db, s, 1, T0), 0);
	cr_assert_eq(session_attach_stored(&db, s, 2, T0), -EBUSY);
	cr_assert_eq(session_stored_count(&db), 1);
}

/* Jool: the stored SYN's sender retrying must not authorise itself; the
 * v6 SYN establishes the session and the stored packet is let go. */
Test(session, stored_syn_session_drops_v4_and_v6_syn_releases_it)
{
	struct session_tuple t = tcp1();
	struct session *s = add(&t, TCPS_V4_INIT, T0);

	session_attach_stored(&db, s, 55, T0);
	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_4TO6, TH_SYN, T0 + 1), TCP_FATE_DROP);
	cr_assert_eq(s->se_state, TCPS_V4_INIT);
	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_6TO4, TH_ACK, T0 + 2), TCP_FATE_PRESERVE);
	cr_assert(session_stored(&db, s, NULL));
	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_6TO4, TH_SYN, T0 + 3), TCP_FATE_TIMER_EST);
	cr_assert_eq(s->se_state, TCPS_ESTABLISHED);
	cr_assert_eq(nreleased, 1);
	cr_assert_eq(released[0], 55);
	cr_assert_not(session_stored(&db, s, NULL));
	session_sweep(&db, T0 + 3 + EST_TO - 1, 0, on_action, NULL);
	cr_assert_eq(nacts, 0, "on the est timer, not syn4");
}

Test(session, removal_and_fini_release_stored_packets)
{
	struct session_tuple t = tcp1(), u = tcp1();
	struct session *s = add(&t, TCPS_V4_INIT, T0), *v;

	u.src6.port++;
	u.src4.port++;
	v = add(&u, TCPS_V4_INIT, T0);
	session_attach_stored(&db, s, 1, T0);
	session_attach_stored(&db, v, 2, T0);
	session_remove(&db, s, T0);
	cr_assert_eq(nreleased, 1);
	cr_assert_eq(released[0], 1);
	bib_fini(&db);
	cr_assert_eq(nreleased, 2);
	cr_assert_eq(released[1], 2);
	make_db(&db, 10, 10); /* for teardown */
}

/* Expiry lists are ordered by last use: a refreshed older session
 * outlives a newer one left idle. */
Test(session, refresh_moves_to_tail)
{
	struct session_tuple old = udp1(), young = udp1();
	struct session *s_old;

	young.src6.port++;
	young.src4.port++;
	s_old = add(&old, TCPS_CLOSED, T0);
	add(&young, TCPS_CLOSED, T0 + 1000);
	session_refresh(&db, s_old, T0 + 2000);
	cr_assert_eq(session_sweep(&db, T0 + 1000 + UDP_TO + 1, 0, on_action, NULL), 1);
	cr_assert_not_null(find6(&old));
	cr_assert_null(find6(&young));
	cr_assert_eq(session_sweep(&db, T0 + 2000 + UDP_TO + 1, 0, on_action, NULL), 1);
	cr_assert_null(find6(&old));
}

Test(session, tcp_update_moves_between_timers)
{
	struct session_tuple t = tcp1();
	struct session *s = add(&t, TCPS_V6_INIT, T0);

	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_4TO6, TH_SYN | TH_ACK, T0 + 10),
		     TCP_FATE_TIMER_EST);
	cr_assert_eq(s->se_state, TCPS_ESTABLISHED);
	session_sweep(&db, T0 + 10 + TRANS_TO + 1, 0, on_action, NULL);
	cr_assert_not_null(find6(&t), "off the transitory list");
	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_6TO4, TH_RST, T0 + 20),
		     TCP_FATE_TIMER_TRANS);
	cr_assert_eq(s->se_state, TCPS_TRANS);
	session_sweep(&db, T0 + 20 + TRANS_TO + 1, 0, on_action, NULL);
	cr_assert_null(find6(&t));
}

Test(session, tcp_update_refuses_non_tcp_sessions)
{
	struct session_tuple u = udp1();
	struct session *v = add(&u, TCPS_CLOSED, T0);

	cr_assert_eq(session_tcp_update(&db, v, TCP_DIR_6TO4, TH_SYN, T0), TCP_FATE_DROP);
	cr_assert_eq(session_tcp_update(&db, NULL, TCP_DIR_6TO4, TH_SYN, T0), TCP_FATE_DROP);
	cr_assert_eq(session_expires_in(&db, v, T0), UDP_TO, "not refreshed");
}

Test(session, handle_rst_setting_reaches_the_state_machine)
{
	struct session_tuple t = tcp1();
	struct session *s = add(&t, TCPS_V4_FIN_RCV, T0);

	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_6TO4, TH_RST, T0), TCP_FATE_TIMER_EST);
	bib_set_handle_rst(&db, true);
	cr_assert_eq(session_tcp_update(&db, s, TCP_DIR_6TO4, TH_RST, T0 + 1),
		     TCP_FATE_TIMER_TRANS);
	cr_assert_eq(session_expires_in(&db, s, T0 + 1), TRANS_TO);
}

/* JOOL-REFERENCE §2: expiry uses the current timeout. */
Test(session, timeout_change_applies_to_existing_sessions)
{
	struct session_tuple t = udp1();

	add(&t, TCPS_CLOSED, T0);
	session_sweep(&db, T0 + 3 * 60 * 1000, 0, on_action, NULL);
	cr_assert_not_null(find6(&t));
	cr_assert_eq(bib_set_timeout(&db, SESSION_TIMER_UDP, 2 * 60 * 1000), 0);
	session_sweep(&db, T0 + 3 * 60 * 1000, 0, on_action, NULL);
	cr_assert_null(find6(&t));
}

Test(session, sweep_budget_bounds_the_work)
{
	for (int i = 0; i < 5; i++) {
		struct session_tuple t = udp1();

		t.src6.port = (uint16_t)(100 + i);
		t.src4.port = (uint16_t)(100 + i);
		add(&t, TCPS_CLOSED, T0 + (uint64_t)i);
	}
	cr_assert_eq(session_sweep(&db, T0 + UDP_TO + 10, 2, on_action, NULL), 2);
	cr_assert_eq(session_count(&db, L4_UDP), 3);
	cr_assert_eq(session_sweep(&db, T0 + UDP_TO + 10, 0, on_action, NULL), 3);
	cr_assert_eq(session_count(&db, L4_UDP), 0);
}

/* RFC 6146 §3.5.1: a dynamic entry lives while a session uses it. */
Test(session, dynamic_bib_dies_with_last_session_static_survives)
{
	struct session_tuple t = udp1(), u = udp1(), w = udp1();
	struct session *s1, *s2;

	u.dst4 = a4("203.0.113.1", 53);
	u.dst6 = a6("64:ff9b::203.0.113.1", 53);
	s1 = add(&t, TCPS_CLOSED, T0);
	s2 = add(&u, TCPS_CLOSED, T0);
	session_remove(&db, s1, T0);
	cr_assert_not_null(bib_find6(&db, L4_UDP, &t.src6), "one session left");
	session_remove(&db, s2, T0);
	cr_assert_null(bib_find6(&db, L4_UDP, &t.src6));
	cr_assert_eq(bib_usage4(&db, L4_UDP, t.src4.addr), 0);

	w.src6.port = 9;
	w.src4.port = 9;
	cr_assert_eq(bib_add_static(&db, L4_UDP, &w.src6, &w.src4, T0), 0);
	add(&w, TCPS_CLOSED, T0);
	session_sweep(&db, T0 + UDP_TO + 1, 0, on_action, NULL);
	cr_assert_null(find6(&w));
	cr_assert_not_null(bib_find6(&db, L4_UDP, &w.src6), "static survives");
}

/* RFC 6888 REQ-4: bounded total, and one host can't take it all. */
Test(session, host_limit_refuses_one_host_but_not_another)
{
	struct session_tuple more = udp1(), other = udp1();

	bib_set_limits(&db, 1000, 3);
	for (int i = 0; i < 3; i++) {
		struct session_tuple t = udp1();

		t.src6.port = (uint16_t)(100 + i);
		t.src4.port = (uint16_t)(100 + i);
		add(&t, TCPS_CLOSED, T0);
	}
	more.src6.port = 200;
	more.src4.port = 200;
	cr_assert_eq(session_add(&db, &more, TCPS_CLOSED, T0, NULL), -EDQUOT);
	more = tcp1(); /* every protocol counts */
	cr_assert_eq(session_add(&db, &more, TCPS_V6_INIT, T0, NULL), -EDQUOT);
	cr_assert_null(bib_find6(&db, L4_TCP, &more.src6), "no BIB entry left behind");
	other.src6 = a6("2001:db8::6", 1);
	other.src4.port = 300;
	cr_assert_eq(session_add(&db, &other, TCPS_CLOSED, T0, NULL), 0);
	more = udp1();
	cr_assert_eq(bib_host_sessions(&db, &more.src6.addr), 3);
	session_sweep(&db, T0 + UDP_TO + 1, 0, on_action, NULL);
	more = udp1();
	cr_assert_eq(session_add(&db, &more, TCPS_CLOSED, T0 + UDP_TO + 2, NULL), 0,
		     "room again after expiry");
}

Test(session, total_limit_refuses_everybody)
{
	struct session_tuple t;

	bib_set_limits(&db, 4, 100);
	for (int i = 0; i < 4; i++) {
		t = udp1();
		t.src6.addr.s6_addr[15] = (uint8_t)i;
		t.src4.port = (uint16_t)i;
		add(&t, TCPS_CLOSED, T0);
	}
	t = udp1();
	t.src6.addr.s6_addr[15] = 99;
	t.src4.port = 99;
	cr_assert_eq(session_add(&db, &t, TCPS_CLOSED, T0, NULL), -ENOSPC);
	cr_assert_eq(session_count(&db, L4_COUNT), 4);
	cr_assert_eq(bib_count(&db, L4_UDP), 4);
}

static int
count_visit(void *arg, const struct session *s)
{
	(void)s;
	return ++*(int *)arg == 2 ? 1 : 0;
}

Test(session, foreach_filters_protocol_and_resumes)
{
	struct session_tuple t = udp1(), u = tcp1(), w = udp1();
	uint32_t cursor = 0;
	int n = 0;

	w.src6.port++;
	w.src4.port++;
	add(&t, TCPS_CLOSED, T0);
	add(&u, TCPS_V6_INIT, T0);
	add(&w, TCPS_CLOSED, T0);
	cr_assert_eq(session_foreach(&db, L4_UDP, &cursor, count_visit, &n), 1);
	cr_assert_eq(n, 2);
	cr_assert_eq(session_foreach(&db, L4_UDP, &cursor, count_visit, &n), 0);
	cr_assert_eq(n, 2, "no third UDP session");
	cursor = 0;
	n = 10;
	cr_assert_eq(session_foreach(&db, L4_COUNT, &cursor, count_visit, &n), 0);
	cr_assert_eq(n, 13);
}

/* --- differential test against a naive model --------------------------- */

/*
 * The model keeps plain arrays and answers every question by a linear
 * search, with the rules written the obvious way. Random operations with
 * a fixed seed are applied to both, and everything observable is compared
 * after each one.
 */
/* At most 3 protocols x 16 taddr6 entries; M_MAX sessions. */
enum { M_BIB = 64, M_SESS = 64, M_MAX = 30, M_PER_HOST = 9 };

struct m_bib {
	bool used, is_static;
	enum l4proto proto;
	struct taddr6 a6;
	struct taddr4 a4;
};

struct m_sess {
	bool used;
	struct session_tuple t;
	uint64_t last;
	enum session_timer timer;
	enum tcp_state state;
};

struct m_host {
	struct in_addr addr4[L4_COUNT];
	uint32_t paired[L4_COUNT];
};

static struct m_bib mb[M_BIB];
static struct m_sess ms[M_SESS];
static struct m_host mh[4];
static uint64_t m_timeout[SESSION_TIMER_COUNT];
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Small universes so that collisions, limits and reuse happen often. */
static struct session_tuple
random_tuple(void)
{
	static const enum l4proto protos[] = {L4_TCP, L4_UDP, L4_ICMP};
	char s6[64], s4[32], d4[32];
	enum l4proto p = protos[rnd(3)];

	snprintf(s6, sizeof(s6), "2001:db8::%u", rnd(4));
	snprintf(s4, sizeof(s4), "192.0.2.%u", 1 + rnd(3));
	snprintf(d4, sizeof(d4), "198.51.100.%u", 1 + rnd(3));
	return tup(p, s6, (uint16_t)(1 + rnd(4)), s4, (uint16_t)(1 + rnd(4)), d4,
		   (uint16_t)(80 + rnd(2)));
}

static int
m_host_of(const struct in6_addr *a)
{
	return a->s6_addr[15];
}

static int
m_find_bib6(enum l4proto p, const struct taddr6 *a)
{
	for (int i = 0; i < M_BIB; i++)
		if (mb[i].used && mb[i].proto == p && taddr6_equal(&mb[i].a6, a))
			return i;
	return -1;
}

static int
m_find_bib4(enum l4proto p, const struct taddr4 *a)
{
	for (int i = 0; i < M_BIB; i++)
		if (mb[i].used && mb[i].proto == p && taddr4_equal(&mb[i].a4, a))
			return i;
	return -1;
}

static int
m_find_sess(const struct session_tuple *t)
{
	for (int i = 0; i < M_SESS; i++)
		if (ms[i].used && ms[i].t.proto == t->proto &&
		    taddr6_equal(&ms[i].t.src6, &t->src6) &&
		    ms[i].t.dst4.addr.s_addr == t->dst4.addr.s_addr &&
		    ms[i].t.dst6.port == t->dst6.port)
			return i;
	return -1;
}

static int
m_count_sess(int host)
{
	int n = 0;

	for (int i = 0; i < M_SESS; i++)
		n += ms[i].used && (host < 0 || m_host_of(&ms[i].t.src6.addr) == host);
	return n;
}

static bool
m_bib_has_sessions(int b)
{
	for (int i = 0; i < M_SESS; i++)
		if (ms[i].used && ms[i].t.proto == mb[b].proto &&
		    taddr6_equal(&ms[i].t.src6, &mb[b].a6))
			return true;
	return false;
}

static void
m_bib_add(int b, enum l4proto p, const struct taddr6 *a6, const struct taddr4 *a4, bool is_static)
{
	struct m_host *h = &mh[m_host_of(&a6->addr)];

	mb[b] = (struct m_bib){true, is_static, p, *a6, *a4};
	if (h->paired[p] == 0)
		h->addr4[p] = a4->addr;
	if (h->addr4[p].s_addr == a4->addr.s_addr)
		h->paired[p]++;
}

static void
m_bib_free(int b)
{
	struct m_host *h = &mh[m_host_of(&mb[b].a6.addr)];

	if (h->paired[mb[b].proto] && h->addr4[mb[b].proto].s_addr == mb[b].a4.addr.s_addr)
		h->paired[mb[b].proto]--;
	mb[b].used = false;
}

static void
m_sess_free(int i)
{
	int b = m_find_bib6(ms[i].t.proto, &ms[i].t.src6);

	ms[i].used = false;
	if (!mb[b].is_static && !m_bib_has_sessions(b))
		m_bib_free(b);
}

static void
m_bib_remove(int b)
{
	for (int i = 0; i < M_SESS; i++)
		if (ms[i].used && ms[i].t.proto == mb[b].proto &&
		    taddr6_equal(&ms[i].t.src6, &mb[b].a6))
			ms[i].used = false;
	m_bib_free(b);
}

static enum session_timer
m_timer(enum l4proto p, enum tcp_state st)
{
	if (p != L4_TCP)
		return p == L4_UDP ? SESSION_TIMER_UDP : SESSION_TIMER_ICMP;
	return st == TCPS_ESTABLISHED ? SESSION_TIMER_TCP_EST : SESSION_TIMER_TCP_TRANS;
}

static int
m_add(const struct session_tuple *t, enum tcp_state st, uint64_t now)
{
	int b = m_find_bib6(t->proto, &t->src6), i;

	if (m_find_sess(t) >= 0)
		return -EEXIST;
	if (b >= 0 && !taddr4_equal(&mb[b].a4, &t->src4))
		return -EADDRNOTAVAIL;
	if (b < 0 && m_find_bib4(t->proto, &t->src4) >= 0)
		return -EADDRINUSE;
	if (m_count_sess(-1) >= M_MAX)
		return -ENOSPC;
	if (m_count_sess(m_host_of(&t->src6.addr)) >= M_PER_HOST)
		return -EDQUOT;
	if (b < 0) {
		for (b = 0; mb[b].used; b++)
			;
		m_bib_add(b, t->proto, &t->src6, &t->src4, false);
	}
	for (i = 0; ms[i].used; i++)
		;
	ms[i] = (struct m_sess){true, *t, now, m_timer(t->proto, st), st};
	return 0;
}

static int
m_add_static(enum l4proto p, const struct taddr6 *a6, const struct taddr4 *a4)
{
	int b6 = m_find_bib6(p, a6), b4 = m_find_bib4(p, a4), b;

	if (b6 >= 0 && b6 == b4) {
		if (mb[b6].is_static)
			return -EALREADY;
		mb[b6].is_static = true;
		return 0;
	}
	if (b6 >= 0)
		return -EEXIST;
	if (b4 >= 0)
		return -EADDRINUSE;
	for (b = 0; mb[b].used; b++)
		;
	m_bib_add(b, p, a6, a4, true);
	return 0;
}

static int
m_sweep(uint64_t now)
{
	int expired = 0;

	for (int i = 0; i < M_SESS; i++) {
		if (!ms[i].used || now - ms[i].last <= m_timeout[ms[i].timer])
			continue;
		expired++;
		if (ms[i].timer == SESSION_TIMER_TCP_EST && ms[i].state == TCPS_ESTABLISHED) {
			ms[i].state = TCPS_TRANS;
			ms[i].timer = SESSION_TIMER_TCP_TRANS;
			ms[i].last = now;
		} else {
			m_sess_free(i);
		}
	}
	return expired;
}

static void
compare_bib(int b)
{
	struct bib_entry *e6 = bib_find6(&db, mb[b].proto, &mb[b].a6);
	struct bib_entry *e4 = bib_find4(&db, mb[b].proto, &mb[b].a4);
	struct taddr4 got4;

	cr_assert_not_null(e6, "model entry %d missing", b);
	cr_assert_eq(e6, e4);
	got4 = bib_entry_taddr4(e6);
	cr_assert(taddr4_equal(&got4, &mb[b].a4));
	cr_assert_eq(bib_entry_is_static(e6), mb[b].is_static);
	for (int r = 1; r <= 3; r++) {
		char d4[32];
		bool want = false;

		snprintf(d4, sizeof(d4), "198.51.100.%d", r);
		for (int i = 0; i < M_SESS; i++)
			want |= ms[i].used && ms[i].t.proto == mb[b].proto &&
				taddr6_equal(&ms[i].t.src6, &mb[b].a6) &&
				ms[i].t.dst4.addr.s_addr == a4(d4, 0).addr.s_addr;
		cr_assert_eq(bib_has_session_to_addr4(&db, e6, a4(d4, 0).addr), want,
			     "ADF answer for entry %d and %s", b, d4);
	}
}

static void
compare_session(int i, uint64_t now)
{
	struct session *s = find6(&ms[i].t);
	struct session_tuple got;

	cr_assert_not_null(s, "model session %d missing", i);
	cr_assert_eq(find4(&ms[i].t), s);
	session_get_tuple(&db, s, &got);
	cr_assert(tuple_equal(&got, &ms[i].t));
	cr_assert_eq(s->se_timer, ms[i].timer);
	if (ms[i].t.proto == L4_TCP)
		cr_assert_eq(s->se_state, ms[i].state);
	cr_assert_eq(session_expires_in(&db, s, now),
		     now - ms[i].last < m_timeout[ms[i].timer]
			     ? m_timeout[ms[i].timer] - (now - ms[i].last)
			     : 0);
}

/* Remote records: one per (entry, remote address) of entries with two
 * sessions or more. */
static uint32_t
m_remote_records(void)
{
	uint32_t n = 0;

	for (int b = 0; b < M_BIB; b++) {
		int mine = 0;

		for (int i = 0; i < M_SESS; i++)
			mine += ms[i].used && ms[i].t.proto == mb[b].proto &&
				taddr6_equal(&ms[i].t.src6, &mb[b].a6);
		if (!mb[b].used || mine < 2)
			continue;
		for (int i = 0; i < M_SESS; i++) {
			bool first = ms[i].used && ms[i].t.proto == mb[b].proto &&
				     taddr6_equal(&ms[i].t.src6, &mb[b].a6);

			for (int j = 0; first && j < i; j++)
				first = !(ms[j].used && ms[j].t.proto == mb[b].proto &&
					  taddr6_equal(&ms[j].t.src6, &mb[b].a6) &&
					  ms[j].t.dst4.addr.s_addr == ms[i].t.dst4.addr.s_addr);
			n += first;
		}
	}
	return n;
}

static void
compare_counts(void)
{
	int bibs[L4_COUNT] = {0}, sess[L4_COUNT] = {0};

	cr_assert_eq(db.remotes.used, m_remote_records());
	for (int b = 0; b < M_BIB; b++)
		bibs[mb[b].proto] += mb[b].used;
	for (int i = 0; i < M_SESS; i++)
		sess[ms[i].t.proto] += ms[i].used;
	for (int p = 0; p < L4_COUNT; p++) {
		cr_assert_eq(bib_count(&db, (enum l4proto)p), (uint32_t)bibs[p]);
		cr_assert_eq(session_count(&db, (enum l4proto)p), (uint32_t)sess[p]);
		for (int a = 1; a <= 3; a++) {
			char s4[32];
			uint32_t want = 0;
			struct in_addr addr;

			snprintf(s4, sizeof(s4), "192.0.2.%d", a);
			addr = a4(s4, 0).addr;
			for (int b = 0; b < M_BIB; b++)
				want += mb[b].used && (int)mb[b].proto == p &&
					mb[b].a4.addr.s_addr == addr.s_addr;
			cr_assert_eq(bib_usage4(&db, (enum l4proto)p, addr), want);
		}
	}
	for (int h = 0; h < 4; h++) {
		struct in6_addr host = a6("2001:db8::", 0).addr;
		struct in_addr got;

		host.s6_addr[15] = (uint8_t)h;
		cr_assert_eq(bib_host_sessions(&db, &host), (uint32_t)m_count_sess(h));
		for (int p = 0; p < L4_COUNT; p++) {
			bool paired = bib_host_addr4(&db, (enum l4proto)p, &host, &got);

			cr_assert_eq(paired, mh[h].paired[p] > 0);
			if (paired)
				cr_assert_eq(got.s_addr, mh[h].addr4[p].s_addr);
		}
	}
}

static void
compare_all(uint64_t now)
{
	for (int b = 0; b < M_BIB; b++)
		if (mb[b].used)
			compare_bib(b);
	for (int i = 0; i < M_SESS; i++)
		if (ms[i].used)
			compare_session(i, now);
	compare_counts();
}

/* One random operation on both; returns the new time. */
static uint64_t
random_op(uint64_t now)
{
	struct session_tuple t = random_tuple();
	uint32_t op = rnd(100);
	int i;

	if (op < 45) {
		enum tcp_state st = rnd(2) ? TCPS_V6_INIT : TCPS_ESTABLISHED;

		/* Mostly as the pipeline does: reuse the existing mapping. */
		i = m_find_bib6(t.proto, &t.src6);
		if (i >= 0 && rnd(4)) {
			t.src4 = mb[i].a4;
			if (t.proto == L4_ICMP)
				t.dst4.port = t.src4.port;
		}

		cr_assert_eq(session_add(&db, &t, st, now, NULL), m_add(&t, st, now));
	} else if (op < 50) {
		cr_assert_eq(bib_add_static(&db, t.proto, &t.src6, &t.src4, now),
			     m_add_static(t.proto, &t.src6, &t.src4));
	} else if (op < 65) {
		i = m_find_sess(&t);
		cr_assert_eq(find6(&t) != NULL, i >= 0);
		if (i >= 0) {
			session_refresh(&db, find6(&t), now);
			ms[i].last = now;
		}
	} else if (op < 72) {
		i = m_find_sess(&t);
		if (i >= 0) {
			session_remove(&db, find6(&t), now);
			m_sess_free(i);
		}
	} else if (op < 76) {
		i = m_find_bib6(t.proto, &t.src6);
		cr_assert_eq(bib_remove6(&db, t.proto, &t.src6, now), i >= 0 ? 0 : -ENOENT);
		if (i >= 0)
			m_bib_remove(i);
	} else if (op < 80) {
		i = m_find_bib4(t.proto, &t.src4);
		cr_assert_eq(bib_remove4(&db, t.proto, &t.src4, now), i >= 0 ? 0 : -ENOENT);
		if (i >= 0)
			m_bib_remove(i);
	} else if (op < 81) {
		uint64_t udp = BIB_TIMEOUT_UDP_MIN + rnd(8) * 60000;

		cr_assert_eq(bib_set_timeout(&db, SESSION_TIMER_UDP, udp), 0);
		m_timeout[SESSION_TIMER_UDP] = udp;
	} else if (op < 92) {
		now += rnd(3000); /* time passes between packets */
	} else {
		/* Mostly seconds, sometimes hours, so every timer fires. */
		now += rnd(20) ? rnd(20000) : rnd(3 * 3600) * 1000u;
		cr_assert_eq(session_sweep(&db, now, 0, NULL, NULL), (unsigned)m_sweep(now));
	}
	return now;
}

Test(session, differential_against_naive_model)
{
	uint64_t now = T0;

	bib_fini(&db);
	make_db(&db, M_MAX, M_PER_HOST);
	for (int t = 0; t < SESSION_TIMER_COUNT; t++)
		m_timeout[t] = bib_timeout(&db, (enum session_timer)t);
	for (int step = 0; step < 20000; step++) {
		now = random_op(now);
		compare_all(now);
	}
	cr_assert_eq(nadded - nremoved, (int)session_count(&db, L4_COUNT), "log events pair up");
}
