/*
 * The engine's pipeline with TCP (RFC 6146 §3.5.2, JOOL-REFERENCE §3.6):
 * every CLOSED-state case, simultaneous open (type 1 and type 2 stored
 * SYNs), drop-externally-initiated-tcp, address-dependent filtering, and
 * the established / transitory expiry with the probe, on an injected
 * clock.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>

#include "nat64_harness.h"
#include "session.h"

enum {
	SYN = PG_TCP_SYN,
	ACK = PG_TCP_ACK,
	FIN = PG_TCP_FIN,
	EST_TO = 2 * 60 * 60 * 1000,
	TRANS_TO = 4 * 60 * 1000,
};

#define REMOTE4 "198.51.100.7"
#define REMOTE6 "64:ff9b::198.51.100.7"

static uint32_t
sessions(const struct harness *h)
{
	return session_count(nat64_bib(h->n), L4_TCP);
}

/* State of the session client#cport -> dst4#dport, CLOSED if none. */
static enum tcp_state
state_of(const struct harness *h, uint16_t cport, const char *dst4, uint16_t dport)
{
	struct taddr6 src = h_taddr6(H_CLIENT, cport);
	struct taddr4 dst = h_taddr4(dst4, dport);
	const struct session *s = session_find6(nat64_bib(h->n), L4_TCP, &src, &dst);

	return s ? (enum tcp_state)s->se_state : TCPS_CLOSED;
}

/* A TCP packet the parser refuses creates nothing. */
Test(pipeline_tcp, bad_input_changes_nothing)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, SYN, 64);
	in[40 + 12] = 4 << 4; /* data offset 4: below the header */
	cr_assert_eq(h_input(&h, in, n), STAT_TCP_DOFF);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n - 1), STAT_HDR4_TOTAL_LEN);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_TCP), 0);
	cr_assert_eq(h_stat(&h, STAT_TYPE1PKT), 0);
	h_stop(&h);
}

/* RFC 6146 §3.5.2.2: CLOSED + v6 SYN -> V6_INIT (BIB entry and session
 * made); V6_INIT + v4 SYN -> ESTABLISHED. Both packets byte-exact. */
Test(pipeline_tcp, sec3_5_2_2_v6_syn_v6_init_then_v4_syn_established)
{
	struct harness h;
	uint8_t in[128], want[128];
	size_t n, wn;

	h_start_default(&h);
	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_tcp4(want, H_POOL4, 1234, H_SERVER4, 80, SYN, 63, h_get16(h.p.data + 4));
	h_assert_out(&h, want, wn);
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));
	cr_assert_eq(state_of(&h, 1234, H_SERVER4, 80), TCPS_V6_INIT);

	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, 1234, SYN | ACK, 64, 3);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_tcp6(want, H_SERVER6, 80, H_CLIENT, 1234, SYN | ACK, 63);
	h_assert_out(&h, want, wn);
	cr_assert(pg_l4_csum_ok6(h.p.data, h.p.len, 40, IPPROTO_TCP));
	cr_assert_eq(state_of(&h, 1234, H_SERVER4, 80), TCPS_ESTABLISHED);
	h_stop(&h);
}

/* JOOL-REFERENCE §3.6: CLOSED + v6 non-SYN: through a BIB entry it is
 * translated and creates no session; without one, SYN6_EXPECTED. */
Test(pipeline_tcp, sec3_5_2_2_v6_non_syn_without_session)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, ACK, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_SYN6_EXPECTED);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_TCP), 0);
	h_bib(&h, L4_TCP, H_CLIENT, 1234, H_POOL4, 4321);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 20), 4321);
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));
	cr_assert_eq(sessions(&h), 0);
	h_stop(&h);
}

/* JOOL-REFERENCE §3.6: CLOSED + v4 non-SYN: same, SYN4_EXPECTED. */
Test(pipeline_tcp, sec3_5_2_2_v4_non_syn_without_session)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, 4321, ACK, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_SYN4_EXPECTED);
	cr_assert_eq(h.res.reply_len, 0);
	h_bib(&h, L4_TCP, H_CLIENT, 1234, H_POOL4, 4321);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 42), 1234);
	cr_assert_eq(sessions(&h), 0);
	h_stop(&h);
}

/* RFC 6146 §3.5.2.2 simultaneous open (type 1): a v4 SYN to a pool4
 * taddr without a BIB entry is kept; a v6 SYN toward its sender within
 * 6 s gets exactly that taddr (not the preserved port 1234), the session
 * is ESTABLISHED, and nothing is sent about the stored packet later. */
Test(pipeline_tcp, sec3_5_2_2_simultaneous_open_v6_syn_gets_stored_taddr)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE1PKT);
	cr_assert(!h.res.send);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(sessions(&h), 0);

	h.now += 5000;
	n = h_tcp6(in, H_CLIENT, 1234, REMOTE6, 5555, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert(memcmp(h.p.data + 12, (uint8_t[]){192, 0, 2, 2}, 4) == 0);
	cr_assert_eq(h_get16(h.p.data + 20), 4000);
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));
	cr_assert_eq(state_of(&h, 1234, REMOTE4, 5555), TCPS_ESTABLISHED);

	h.now += 10000;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 0);
	cr_assert_eq(h_stat(&h, STAT_SO_EXPIRED), 0);
	/* The remote's retransmitted SYN now meets the session. */
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 4000, SYN, 64, 2);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 42), 1234);
	h_stop(&h);
}

/* A stored taddr that a mapping took meanwhile is not handed out twice. */
Test(pipeline_tcp, sec3_5_2_2_stored_taddr_taken_meanwhile_is_not_reused)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE1PKT);
	h_bib(&h, L4_TCP, H_CLIENT2, 1, H_POOL4, 4000);
	n = h_tcp6(in, H_CLIENT, 1234, REMOTE6, 5555, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 20), 1234);
	cr_assert_eq(state_of(&h, 1234, REMOTE4, 5555), TCPS_V6_INIT);
	h_stop(&h);
}

/* RFC 6146 §3.5.2.2: no v6 SYN within 6 s: the sender gets ICMPv4 3/3
 * quoting its SYN (JOOL-REFERENCE §3.6), at the first tick after 6 s. */
Test(pipeline_tcp, sec3_5_2_2_stored_syn_answered_3_3_after_6s)
{
	struct harness h;
	uint8_t in[128], want[128];
	size_t n, wn;
	uint64_t t0;

	h_start_default(&h);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE1PKT);
	t0 = h.now;
	h.now = t0 + 6000;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 0);
	h.now = t0 + 6001;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 1);
	wn = pg_ipv4(want, H_OWN4, REMOTE4, IPPROTO_ICMP, 64, h_get16(h.emitted[0].b + 4), 0,
		     (uint16_t)(28 + n));
	want[1] = 0xc0;
	pg_ipv4_fix_csum(want);
	wn += pg_icmp(want + wn, 3, 3, 0);
	memcpy(want + wn, in, n);
	wn += n;
	pg_fix_l4_csum4(want, wn);
	pg_assert_bytes(h.emitted[0].b, h.emitted[0].len, want, wn);
	cr_assert_eq(h_stat(&h, STAT_SO_EXPIRED), 1);
	h.now += 10000;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 0);
	/* The v6 SYN now comes too late: an ordinary mapping. */
	n = h_tcp6(in, H_CLIENT, 1234, REMOTE6, 5555, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 20), 1234);
	h_stop(&h);
}

/* JOOL-REFERENCE §3.6: a retransmitted SYN from the same remote is
 * dropped (SO_EXISTS); maximum-simultaneous-opens full -> an immediate
 * ICMPv4 3/3 (SO_FULL). */
Test(pipeline_tcp, so_exists_and_so_full)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128], want[128];
	size_t n, wn;

	h_defaults(&g, &p);
	g.max_simultaneous_opens = 2;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_TCP, H_POOL4, 32, 1, 65535);
	n = h_tcp4(in, REMOTE4, 1, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE1PKT);
	cr_assert_eq(h_input(&h, in, n), STAT_SO_EXISTS);
	cr_assert_eq(h.res.reply_len, 0);
	n = h_tcp4(in, REMOTE4, 2, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE1PKT);
	n = h_tcp4(in, REMOTE4, 3, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_SO_FULL);
	wn = pg_ipv4(want, H_OWN4, REMOTE4, IPPROTO_ICMP, 64,
		     h_get16(h.reply + h.res.reply_off + 4), 0, (uint16_t)(28 + n));
	want[1] = 0xc0;
	pg_ipv4_fix_csum(want);
	wn += pg_icmp(want + wn, 3, 3, 0);
	memcpy(want + wn, in, n);
	wn += n;
	pg_fix_l4_csum4(want, wn);
	h_assert_reply(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_TYPE1PKT), 2);
	cr_assert_eq(h_stat(&h, STAT_SO_FULL), 1);
	/* Room again once they expire. */
	h.now += 7000;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 2);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE1PKT);
	h_stop(&h);
}

/* Jool's drop-externally-initiated-tcp: a v4 SYN without a session is
 * dropped silently (V4_SYN), with or without a BIB entry; off, it opens
 * a V4_INIT session and is translated. */
Test(pipeline_tcp, drop_externally_initiated_tcp)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	size_t n;

	h_defaults(&g, &p);
	g.drop_external_tcp = true;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_TCP, H_POOL4, 32, 1, 65535);
	h_bib(&h, L4_TCP, H_CLIENT, 22, H_POOL4, 2222);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 2222, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_V4_SYN);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 4000, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_V4_SYN);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(h_stat(&h, STAT_TYPE1PKT), 0);

	g.drop_external_tcp = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 2222, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 42), 22);
	cr_assert_eq(state_of(&h, 22, REMOTE4, 5555), TCPS_V4_INIT);
	h_stop(&h);
}

/* JOOL-REFERENCE §3.6, ADF on: a v4 SYN through a BIB entry from an
 * address the node never talked to is kept in a V4_INIT session (type 2);
 * its retransmission can't open the filter (SO_WAITING); the node's v6
 * SYN establishes the session and the stored packet is released. */
Test(pipeline_tcp, adf_type2_stored_then_v6_syn_establishes)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	size_t n;

	h_defaults(&g, &p);
	g.adf = true;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_TCP, H_POOL4, 32, 1, 65535);
	h_bib(&h, L4_TCP, H_CLIENT, 22, H_POOL4, 2222);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 2222, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE2PKT);
	cr_assert(!h.res.send);
	cr_assert_eq(state_of(&h, 22, REMOTE4, 5555), TCPS_V4_INIT);
	cr_assert_eq(h_input(&h, in, n), STAT_SO_WAITING);

	h.now += 2000;
	n = h_tcp6(in, H_CLIENT, 22, REMOTE6, 5555, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 20), 2222);
	cr_assert_eq(state_of(&h, 22, REMOTE4, 5555), TCPS_ESTABLISHED);
	h.now += 10000;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 0);
	cr_assert_eq(sessions(&h), 1);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 2222, SYN | ACK, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h_stop(&h);
}

/* ADF on, no v6 SYN: after 6 s the session goes and the stored SYN is
 * answered with ICMPv4 3/3; ADF off: the same SYN is translated. */
Test(pipeline_tcp, adf_type2_expires_with_icmp_3_3_off_translates)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	const uint8_t *e;
	size_t n;

	h_defaults(&g, &p);
	g.adf = true;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_TCP, H_POOL4, 32, 1, 65535);
	h_bib(&h, L4_TCP, H_CLIENT, 22, H_POOL4, 2222);
	n = h_tcp4(in, REMOTE4, 5555, H_POOL4, 2222, SYN, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_TYPE2PKT);
	h.now += 6001;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 1);
	e = h.emitted[0].b;
	cr_assert_eq(h.emitted[0].len, 28 + n);
	cr_assert(e[20] == 3 && e[21] == 3);
	cr_assert(memcmp(e + 28, in, n) == 0);
	cr_assert(memcmp(e + 16, in + 12, 4) == 0);
	cr_assert(pg_ipv4_csum_ok(e) && pg_l4_csum_ok4(e, h.emitted[0].len));
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_TCP), 1, "the static entry stays");

	g.adf = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(state_of(&h, 22, REMOTE4, 5555), TCPS_V4_INIT);
	h_stop(&h);
}

/* RFC 6146 §3.5.2.2 / JOOL-REFERENCE §3.6: an ESTABLISHED session idle
 * past tcp-est-timeout is probed (a bare ACK, seq 0, ack 0, window 8192,
 * hop limit 255, from the remote to the node) and moves to TRANS; idle
 * past tcp-trans-timeout after that it is removed. */
Test(pipeline_tcp, sec3_5_2_2_est_expiry_sends_probe_then_trans_removes)
{
	struct harness h;
	uint8_t in[128], want[128];
	size_t n, wn;
	uint64_t t1;

	h_start_default(&h);
	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, 1234, SYN | ACK, 64, 3);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	t1 = h.now;
	h.now = t1 + EST_TO - 1;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 0);
	cr_assert_eq(state_of(&h, 1234, H_SERVER4, 80), TCPS_ESTABLISHED);
	h.now = t1 + EST_TO + 1;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 1);
	wn = pg_ipv6(want, H_SERVER6, H_CLIENT, IPPROTO_TCP, 255, 20);
	wn += pg_tcp(want + wn, 80, 1234, 0, 0, ACK);
	want[40 + 14] = 8192 >> 8;
	want[40 + 15] = 0;
	pg_fix_l4_csum6(want, wn);
	pg_assert_bytes(h.emitted[0].b, h.emitted[0].len, want, wn);
	cr_assert_eq(state_of(&h, 1234, H_SERVER4, 80), TCPS_TRANS);
	cr_assert_eq(h_stat(&h, STAT_TCP_PROBES_SENT), 1);

	h.now = t1 + EST_TO + 1 + TRANS_TO - 1;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 1);
	h.now = t1 + EST_TO + 1 + TRANS_TO + 1;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_TCP), 0);
	h_stop(&h);
}

/* A probe answered revives the session: TRANS + non-RST -> ESTABLISHED. */
Test(pipeline_tcp, sec3_5_2_2_answered_probe_revives_session)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	cr_assert_eq(h_input(&h, in, h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, SYN, 64)), STAT_OK);
	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, 1234, SYN | ACK, 64, 3);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h.now += EST_TO + 1;
	h_tick(&h);
	cr_assert_eq(state_of(&h, 1234, H_SERVER4, 80), TCPS_TRANS);
	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, ACK, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(state_of(&h, 1234, H_SERVER4, 80), TCPS_ESTABLISHED);
	h.now += TRANS_TO + 1;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 1);
	h_stop(&h);
}

/* RFC 6146 §3.5.2.2: V6_INIT lives on the transitory timer. */
Test(pipeline_tcp, sec3_5_2_2_v6_init_expires_after_trans_timeout)
{
	struct harness h;
	uint8_t in[128];
	uint64_t t0;

	h_start_default(&h);
	cr_assert_eq(h_input(&h, in, h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, SYN, 64)), STAT_OK);
	t0 = h.now;
	h.now = t0 + TRANS_TO - 1;
	h_tick(&h);
	cr_assert_eq(state_of(&h, 1234, H_SERVER4, 80), TCPS_V6_INIT);
	h.now = t0 + TRANS_TO + 1;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(h.nemitted, 0);
	h_stop(&h);
}

/* RFC 6146 §3.8 with TCP: a v6 SYN to another IPv6 host's static entry
 * opens a V6_INIT session for the client and a V4_INIT one for the
 * server, and arrives as IPv6. */
Test(pipeline_tcp, sec3_8_hairpin_syn)
{
	struct harness h;
	uint8_t in[128], want[128];
	struct taddr6 b6 = h_taddr6("2001:db8:2::20", 22);
	struct taddr4 a4 = h_taddr4(H_POOL4, 1234);
	const struct session *s;
	size_t n, wn;

	h_start_default(&h);
	h_bib(&h, L4_TCP, "2001:db8:2::20", 22, H_POOL4, 2222);
	n = h_tcp6(in, H_CLIENT, 1234, H_POOL4_6, 2222, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_tcp6(want, H_POOL4_6, 1234, "2001:db8:2::20", 22, SYN, 63);
	h_assert_out(&h, want, wn);
	cr_assert_eq(state_of(&h, 1234, H_POOL4, 2222), TCPS_V6_INIT);
	s = session_find6(nat64_bib(h.n), L4_TCP, &b6, &a4);
	cr_assert(s && s->se_state == TCPS_V4_INIT);
	h_stop(&h);
}

/* An engine whose hosts may hold `limit` sessions, pool4 for TCP. */
static void
start_limited(struct harness *h, uint32_t limit)
{
	struct globals g;
	struct nat64_params p;

	h_defaults(&g, &p);
	g.max_sessions_per_host = limit;
	h_start(h, &g, &p);
	h_pool4(h, L4_TCP, H_POOL4, 32, 1, 65535);
}

/* Connection client#cport -> server#80 opened, then a FIN each way:
 * V4_FIN_V6_FIN_RCV. Returns its pool4 port. */
static uint16_t
open_and_close(struct harness *h, uint16_t cport)
{
	uint8_t in[128];
	uint16_t mask;
	size_t n;

	cr_assert_eq(h_input(h, in, h_tcp6(in, H_CLIENT, cport, H_SERVER6, 80, SYN, 64)), STAT_OK);
	mask = h_get16(h->p.data + 20);
	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, mask, SYN | ACK, 64, 3);
	cr_assert_eq(h_input(h, in, n), STAT_OK);
	n = h_tcp6(in, H_CLIENT, cport, H_SERVER6, 80, FIN | ACK, 64);
	cr_assert_eq(h_input(h, in, n), STAT_OK);
	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, mask, FIN | ACK, 64, 4);
	cr_assert_eq(h_input(h, in, n), STAT_OK);
	cr_assert_eq(state_of(h, cport, H_SERVER4, 80), TCPS_V4_FIN_V6_FIN_RCV);
	return mask;
}

/* RFC 6888 REQ-11 (d): a new session refused for a quota (RFC 6888 REQ-4,
 * max-sessions-per-host) MUST NOT delete existing mappings to make room,
 * not even a connection both ends closed, which keeps its session for the
 * transitory lifetime (V4_FIN_V6_FIN_RCV, RFC 6146 §3.5.2.2) and counts. */
Test(pipeline_tcp, rfc6888_req11_closed_connection_is_not_deleted_for_room)
{
	struct harness h;
	uint8_t in[128];
	const uint8_t *r;
	uint32_t rlen;
	size_t n;

	start_limited(&h, 2);
	open_and_close(&h, 1000);
	cr_assert_eq(h_input(&h, in, h_tcp6(in, H_CLIENT, 1001, H_SERVER6, 80, SYN, 64)), STAT_OK);
	h.now += 1000;
	n = h_tcp6(in, H_CLIENT, 1002, H_SERVER6, 80, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_HOST_SESSION_LIMIT);
	r = h_reply(&h, &rlen);
	cr_assert(r && r[40] == 1 && r[41] == 3);
	cr_assert_eq(state_of(&h, 1000, H_SERVER4, 80), TCPS_V4_FIN_V6_FIN_RCV);
	cr_assert_eq(state_of(&h, 1001, H_SERVER4, 80), TCPS_V6_INIT);
	cr_assert_eq(sessions(&h), 2);
	/* Room again once the closed one's 4 minutes are over. */
	h.now += TRANS_TO;
	h_tick(&h);
	cr_assert_eq(state_of(&h, 1000, H_SERVER4, 80), TCPS_CLOSED);
	cr_assert_eq(h_input(&h, in, h_tcp6(in, H_CLIENT, 1003, H_SERVER6, 80, SYN, 64)), STAT_OK);
	h_stop(&h);
}

/* A new connection on the four-tuple of one that both ends closed (the
 * client reusing its port while in TIME-WAIT, RFC 1122 §4.2.2.13) is
 * tracked from its SYN: V6_INIT, then ESTABLISHED, so it lives on the
 * established timer, not until the old connection's 4 minutes run out. */
Test(pipeline_tcp, new_connection_on_a_closed_four_tuple_is_tracked_again)
{
	struct harness h;
	uint8_t in[128];
	uint16_t mask;
	size_t n;

	start_limited(&h, 1);
	mask = open_and_close(&h, 1000);
	/* Same four-tuple, new connection. */
	h.now += 2000;
	cr_assert_eq(h_input(&h, in, h_tcp6(in, H_CLIENT, 1000, H_SERVER6, 80, SYN, 64)), STAT_OK);
	cr_assert_eq(state_of(&h, 1000, H_SERVER4, 80), TCPS_V6_INIT);
	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, mask, SYN | ACK, 64, 5);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(state_of(&h, 1000, H_SERVER4, 80), TCPS_ESTABLISHED);
	/* Past the old connection's 4 minutes it is still there. */
	h.now += TRANS_TO + 1;
	h_tick(&h);
	cr_assert_eq(state_of(&h, 1000, H_SERVER4, 80), TCPS_ESTABLISHED);
	h_stop(&h);
}
