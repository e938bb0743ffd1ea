/*
 * The engine's pipeline against RFC rules that the traceability files
 * (tests/RFC*.md) listed as gaps: illegal source addresses (RFC 7915
 * §5.1, RFC 1812 §5.3.7), RFC 6052 §3.1 for the IPv4 source, ICMP echo
 * and error hairpinning (RFC 6146 §3.8, RFC 5508 REQ-10), ICMP identifier
 * exhaustion (§3.5.3), ICMP errors leaving TCP state alone (RFC 5382
 * REQ-10), IGMP (RFC 7915 §4.2), and pool6 prefixes other than /96
 * through the whole pipeline (RFC 6052 §2.2).
 *
 * Expected addresses are written as text (parsed by pktgen), never
 * computed with core/rfc6052.c.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>

#include "nat64_harness.h"
#include "session.h"

#define GLOBAL4  "8.8.8.8"
#define GLOBAL6  "64:ff9b::808:808"
#define ROUTER4  "9.9.9.9"
#define ROUTER6  "64:ff9b::909:909"
#define PRIVATE4 "10.0.0.1"
#define CLIENT_B "2001:db8:2::20"

enum { SYN = PG_TCP_SYN, ACK = PG_TCP_ACK };

static uint32_t
all_sessions(const struct harness *h)
{
	return session_count(nat64_bib(h->n), L4_COUNT);
}

static uint32_t
all_bib(const struct harness *h)
{
	return bib_count(nat64_bib(h->n), L4_UDP) + bib_count(nat64_bib(h->n), L4_TCP) +
	       bib_count(nat64_bib(h->n), L4_ICMP);
}

static uint64_t
errors_sent(const struct harness *h)
{
	return h_stat(h, STAT_ICMP6ERR_SENT) + h_stat(h, STAT_ICMP4ERR_SENT);
}

/* An engine with pool6 64:ff9b::/96 and wkp-global-only `on`. */
static void
start_wkp(struct harness *h, bool on)
{
	struct globals g;
	struct nat64_params p;

	h_defaults(&g, &p);
	g.wkp_global_only = on;
	h_start(h, &g, &p);
	h_pool4(h, L4_UDP, H_POOL4, 32, 1, 65535);
}

/* An engine with pool6 `prefix`/`len` and the default pool4. */
static void
start_pool6(struct harness *h, const char *prefix, uint8_t len)
{
	struct globals g;
	struct nat64_params p;

	h_defaults(&g, &p);
	cr_assert_eq(inet_pton(AF_INET6, prefix, &g.pool6.addr), 1);
	g.pool6.len = len;
	h_start(h, &g, &p);
	h_pool4(h, L4_UDP, H_POOL4, 32, 1, 65535);
}

/* ---- 1. Illegal source addresses ---- */

/* RFC 7915 §5.1 (RFC 4291 §2.5.2, §2.5.3, §2.7): an IPv6 source that is
 * unspecified, loopback or multicast names no host: dropped silently
 * (SRC6_ILLEGAL), no ICMP error, no BIB entry, no session. Neighbours of
 * those addresses pass. */
Test(pipeline_rules, rfc7915_sec5_1_illegal_ipv6_source_dropped_silently)
{
	static const char *const bad[] = {"::", "::1", "ff02::1", "ff0e::1:3", "ffff::"};
	static const char *const good[] = {"::2", "fe80::1", "2001:db8:2::1"};
	struct harness h;
	uint8_t in[256], q[128];
	size_t n, qn;

	h_start_default(&h);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = h_udp6(in, bad[i], 1234, H_SERVER6, 80, 64);
		cr_assert_eq(h_input(&h, in, n), STAT_SRC6_ILLEGAL, "%s", bad[i]);
		cr_assert_eq(h.res.reply_len, 0, "%s", bad[i]);
		n = h_echo6(in, bad[i], H_SERVER6, 128, 0x1111, 1); /* hop limit 1 too */
		cr_assert_eq(h_input(&h, in, n), STAT_SRC6_ILLEGAL, "%s", bad[i]);
		cr_assert_eq(h.res.reply_len, 0, "%s", bad[i]);
	}
	/* An ICMPv6 error whose outer source is illegal, about a real flow. */
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	qn = h_udp6(q, H_SERVER6, 80, H_CLIENT, 1234, 63);
	n = h_icmp6_err(in, "::1", H_SERVER6, 1, 4, 0, 64, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_SRC6_ILLEGAL);
	cr_assert_eq(h_stat(&h, STAT_SRC6_ILLEGAL), 11);
	cr_assert_eq(errors_sent(&h), 0);
	cr_assert_eq(all_sessions(&h), 1);
	cr_assert_eq(all_bib(&h), 1);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = h_udp6(in, good[i], 1234, H_SERVER6, 80, 64);
		cr_assert_eq(h_input(&h, in, n), STAT_OK, "%s", good[i]);
	}
	cr_assert_eq(h_stat(&h, STAT_SRC6_ILLEGAL), 11);
	h_stop(&h);
}

/* RFC 1812 §5.3.7 (RFC 7915 §4.1 defers to the IPv4 rules): an IPv4
 * source in 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4, 240.0.0.0/4 or
 * 255.255.255.255 is dropped silently (SRC4_ILLEGAL) even when a BIB
 * entry would take it; the addresses at the edges of those blocks pass. */
Test(pipeline_rules, rfc1812_sec5_3_7_illegal_ipv4_source_dropped_silently)
{
	static const char *const bad[] = {"0.0.0.0",        "0.255.255.255",   "127.0.0.1",
					  "224.0.0.1",      "239.255.255.250", "240.0.0.1",
					  "255.255.255.255"};
	static const char *const good[] = {"1.0.0.0", "126.255.255.255", "128.0.0.0",
					   "223.255.255.255"};
	struct harness h;
	uint8_t in[256], q[128];
	size_t n, qn;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = h_udp4(in, bad[i], 80, H_POOL4, 1234, 64, 1);
		cr_assert_eq(h_input(&h, in, n), STAT_SRC4_ILLEGAL, "%s", bad[i]);
		cr_assert_eq(h.res.reply_len, 0, "%s", bad[i]);
		/* TTL 1 would otherwise be answered with Time Exceeded. */
		n = h_udp4(in, bad[i], 80, H_POOL4, 1234, 1, 1);
		cr_assert_eq(h_input(&h, in, n), STAT_SRC4_ILLEGAL, "%s", bad[i]);
		cr_assert_eq(h.res.reply_len, 0, "%s", bad[i]);
	}
	/* An ICMPv4 error from a loopback "router" about the flow. */
	n = h_icmp4_err(in, "127.0.0.1", H_POOL4, 11, 0, 0, 64, 5, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_SRC4_ILLEGAL);
	cr_assert_eq(h_stat(&h, STAT_SRC4_ILLEGAL), 15);
	cr_assert_eq(errors_sent(&h), 0);
	cr_assert_eq(all_sessions(&h), 1);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = h_udp4(in, good[i], 80, H_POOL4, 1234, 64, 1);
		cr_assert_eq(h_input(&h, in, n), STAT_OK, "%s", good[i]);
	}
	cr_assert_eq(all_sessions(&h), 5);
	cr_assert_eq(h_stat(&h, STAT_SRC4_ILLEGAL), 15);
	h_stop(&h);
}

/* ---- 2. RFC 6052 §3.1, 4->6 ---- */

/* RFC 6052 §3.1: the WKP "MUST NOT be used to represent non-global IPv4
 * addresses". With wkp-global-only on, an IPv4 packet from a non-global
 * source (which would become 64:ff9b::<it>) is dropped (NONGLOBAL_SRC),
 * silently, even through an existing mapping; a global source is
 * translated; with the option off the non-global one is translated. */
Test(pipeline_rules, rfc6052_sec3_1_nonglobal_ipv4_source_dropped_with_wkp)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128], want[128];
	size_t n, wn;

	start_wkp(&h, true);
	n = h_udp6(in, H_CLIENT, 1234, GLOBAL6, 53, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	n = h_udp4(in, PRIVATE4, 53, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_NONGLOBAL_SRC);
	cr_assert_eq(h.res.reply_len, 0);
	n = h_udp4(in, "100.64.0.1", 53, H_POOL4, 1234, 64, 1); /* RFC 6598 */
	cr_assert_eq(h_input(&h, in, n), STAT_NONGLOBAL_SRC);
	cr_assert_eq(h_stat(&h, STAT_NONGLOBAL_SRC), 2);
	cr_assert_eq(all_sessions(&h), 1);
	cr_assert_eq(errors_sent(&h), 0);

	n = h_udp4(in, GLOBAL4, 53, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, GLOBAL6, 53, H_CLIENT, 1234, 63);
	h_assert_out(&h, want, wn);

	h_defaults(&g, &p);
	g.wkp_global_only = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	n = h_udp4(in, PRIVATE4, 53, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, "64:ff9b::a00:1", 53, H_CLIENT, 1234, 63);
	h_assert_out(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_NONGLOBAL_SRC), 2);
	h_stop(&h);
}

/* RFC 6052 §3.1 with source-icmpv6-errors-better (on by default): an
 * ICMPv4 error from a router with a non-global address (a private hop on
 * the path) is not dropped; its IPv6 source falls back to RFC 6146 §3.6's,
 * pool6 + the quoted packet's destination. A global router keeps its own
 * address. If that fallback is non-global too (a flow made while the
 * option was off), the error is dropped (NONGLOBAL_SRC). */
Test(pipeline_rules, rfc6052_sec3_1_icmp_error_from_nonglobal_router_uses_flow_remote)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[256], q[128], want[256];
	size_t n, qn, wn;

	start_wkp(&h, true);
	n = h_udp6(in, H_CLIENT, 1234, GLOBAL6, 53, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;

	n = h_icmp4_err(in, PRIVATE4, H_POOL4, 11, 0, 0, 64, 5, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = pg_ipv6(want, GLOBAL6, H_CLIENT, IPPROTO_ICMPV6, 63, 8 + 40 + 8 + H_PAYLOAD);
	wn += pg_icmp(want + wn, 3, 0, 0);
	wn += h_udp6(want + wn, H_CLIENT, 1234, GLOBAL6, 53, 63);
	pg_fix_l4_csum6(want, wn);
	h_assert_out(&h, want, wn);

	n = h_icmp4_err(in, ROUTER4, H_POOL4, 11, 0, 0, 64, 5, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(want + 8, h_taddr6(ROUTER6, 0).addr.s6_addr, 16);
	pg_fix_l4_csum6(want, wn);
	h_assert_out(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_NONGLOBAL_SRC), 0);

	/* A flow to 10.9.9.9 made with the option off, then on again. */
	h_defaults(&g, &p);
	g.wkp_global_only = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	n = h_udp6(in, H_CLIENT, 1234, "64:ff9b::a09:909", 53, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;
	g.wkp_global_only = true;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	n = h_icmp4_err(in, PRIVATE4, H_POOL4, 11, 0, 0, 64, 5, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_NONGLOBAL_SRC);
	cr_assert_eq(h.res.reply_len, 0);
	h_stop(&h);
}

/* ---- 3. Implemented, now tested ---- */

/* RFC 6146 §3.8, RFC 5508 REQ-10: an echo to pool6 + pool4 hairpins.
 * The identifier is the "port" on both sides (§3.5.3), so the request to
 * the client's own mask comes back to the client from 64:ff9b::192.0.2.2,
 * hop limit decremented once; the client's reply takes the same path, so
 * pinging the pool4 address answers. */
Test(pipeline_rules, rfc6146_sec3_8_echo_hairpinned_back_and_answered)
{
	struct harness h;
	uint8_t in[128], want[128];
	size_t n, wn;

	h_start_default(&h);
	n = h_echo6(in, H_CLIENT, H_POOL4_6, 128, 0x1111, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_echo6(want, H_POOL4_6, H_CLIENT, 128, 0x1111, 63);
	h_assert_out(&h, want, wn);
	cr_assert(pg_l4_csum_ok6(h.p.data, h.p.len, 40, IPPROTO_ICMPV6));
	n = h_echo6(in, H_CLIENT, H_POOL4_6, 129, 0x1111, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_echo6(want, H_POOL4_6, H_CLIENT, 129, 0x1111, 63);
	h_assert_out(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_HAIRPINNED), 2);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_ICMP), 1);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_ICMP), 1);
	h_stop(&h);
}

/* RFC 6146 §3.8, RFC 5508 REQ-10: an ICMPv6 error from host B about the
 * hairpinned datagram host A sent it reaches A as an ICMPv6 error from
 * pool6 + B's mask (the address A wrote to), quoting A's datagram with
 * A's own addresses and ports; both passes count as HAIRPINNED. */
Test(pipeline_rules, rfc6146_sec3_8_icmp_error_hairpinned_to_the_sender)
{
	struct harness h;
	uint8_t in[256], q[128], want[256];
	size_t n, qn, wn;

	h_start_default(&h);
	h_bib(&h, L4_UDP, CLIENT_B, 22, H_POOL4, 2222);
	n = h_udp6(in, H_CLIENT, 1234, H_POOL4_6, 2222, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, H_POOL4_6, 1234, CLIENT_B, 22, 63);
	h_assert_out(&h, want, wn);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;

	/* B: port unreachable, about what it got. */
	n = h_icmp6_err(in, CLIENT_B, H_POOL4_6, 1, 4, 0, 64, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = pg_ipv6(want, H_POOL4_6, H_CLIENT, IPPROTO_ICMPV6, 63, 8 + 40 + 8 + H_PAYLOAD);
	wn += pg_icmp(want + wn, 1, 4, 0);
	wn += h_udp6(want + wn, H_CLIENT, 1234, H_POOL4_6, 2222, 63);
	pg_fix_l4_csum6(want, wn);
	h_assert_out(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_HAIRPINNED), 2);
	h_stop(&h);
}

/* RFC 6146 §3.5.3: no free ICMP identifier in pool4: the echo is
 * dropped (POOL4_EXHAUSTED) and answered with ICMPv6 Destination
 * Unreachable, Address Unreachable (1/3), quoting it; the host holding
 * the identifier keeps it. */
Test(pipeline_rules, rfc6146_sec3_5_3_icmp_id_exhaustion_answers_icmpv6_1_3)
{
	struct harness h;
	uint8_t in[128], want[256];
	size_t n, wn;

	h_start(&h, NULL, NULL);
	h_pool4(&h, L4_ICMP, H_POOL4, 32, 7, 7);
	n = h_echo6(in, H_CLIENT, H_SERVER6, 128, 0x1111, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 24), 7);

	n = h_echo6(in, H_CLIENT2, H_SERVER6, 128, 0x2222, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_POOL4_EXHAUSTED);
	wn = pg_ipv6(want, H_OWN6, H_CLIENT2, IPPROTO_ICMPV6, 64, (uint16_t)(8 + n));
	wn += pg_icmp(want + wn, 1, 3, 0);
	memcpy(want + wn, in, n);
	wn += n;
	pg_fix_l4_csum6(want, wn);
	h_assert_reply(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_ICMP6ERR_SENT), 1);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_ICMP), 1);

	n = h_echo4(in, H_SERVER4, H_POOL4, 0, 7, 64, 9);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_echo6(want, H_SERVER6, H_CLIENT, 129, 0x1111, 63);
	h_assert_out(&h, want, wn);
	h_stop(&h);
}

/* RFC 5382 REQ-10: ICMP errors about a TCP connection must not tear it
 * down or change it: after an ICMPv4 3/1 and an ICMPv6 1/4 about an
 * ESTABLISHED session, both translated, its state is still ESTABLISHED
 * and its expiry has not moved (no refresh either). */
Test(pipeline_rules, rfc5382_req10_icmp_error_leaves_tcp_session_alone)
{
	struct harness h;
	uint8_t in[256], q[128];
	struct taddr6 c = h_taddr6(H_CLIENT, 1234);
	struct taddr4 s4 = h_taddr4(H_SERVER4, 80);
	const struct session *s;
	uint64_t left;
	size_t n, qn;

	h_start_default(&h);
	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, SYN, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;
	n = h_tcp4(in, H_SERVER4, 80, H_POOL4, 1234, SYN | ACK, 64, 3);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	s = session_find6(nat64_bib(h.n), L4_TCP, &c, &s4);
	cr_assert(s);
	cr_assert_eq(s->se_state, TCPS_ESTABLISHED);
	left = session_expires_in(nat64_bib(h.n), s, h.now);

	h.now += 10000;
	n = h_icmp4_err(in, ROUTER4, H_POOL4, 3, 1, 0, 64, 5, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h.p.data[40], 1); /* RFC 7915 §4.2: 3/1 becomes 1/0 */
	cr_assert_eq(h.p.data[41], 0);
	h.now += 10000;
	qn = h_tcp6(q, H_SERVER6, 80, H_CLIENT, 1234, SYN | ACK, 63);
	n = h_icmp6_err(in, H_CLIENT, H_SERVER6, 1, 4, 0, 64, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);

	s = session_find6(nat64_bib(h.n), L4_TCP, &c, &s4);
	cr_assert(s);
	cr_assert_eq(s->se_state, TCPS_ESTABLISHED);
	cr_assert_eq(session_expires_in(nat64_bib(h.n), s, h.now), left - 20000,
		     "an ICMP error refreshed the TCP session");
	cr_assert_eq(session_count(nat64_bib(h.n), L4_TCP), 1);
	h_stop(&h);
}

/* RFC 7915 §4.2: "IGMP messages ... are single-hop messages and SHOULD
 * be silently dropped". Protocol 2 over IPv4, to pool4 or to a group:
 * L4_PROTO_UNKNOWN, no reply, nothing created. */
Test(pipeline_rules, rfc7915_sec4_2_igmp_dropped_silently)
{
	static const char *const dst[] = {H_POOL4, "224.0.0.22"};
	struct harness h;
	uint8_t in[64];
	size_t n;

	h_start_default(&h);
	for (size_t i = 0; i < sizeof(dst) / sizeof(dst[0]); i++) {
		n = pg_ipv4(in, H_SERVER4, dst[i], 2, 1, 7, 0, 28);
		/* IGMPv2 membership report for 224.0.0.22 (RFC 2236 §2). */
		memcpy(in + n, (const uint8_t[]){0x16, 0, 0, 0, 224, 0, 0, 22}, 8);
		pg_fix_l4_csum4(in, n + 8);
		cr_assert_eq(h_input(&h, in, n + 8), STAT_L4_PROTO_UNKNOWN, "%s", dst[i]);
		cr_assert_eq(h.res.reply_len, 0);
	}
	cr_assert_eq(h_stat(&h, STAT_L4_PROTO_UNKNOWN), 2);
	cr_assert_eq(errors_sent(&h), 0);
	cr_assert_eq(all_sessions(&h), 0);
	cr_assert_eq(all_bib(&h), 0);
	h_stop(&h);
}

/* RFC 6052 §2.2, §2.4 table: the seed example through a /64 pool6. The
 * server 192.0.2.33 is 2001:db8:122:344:c0:2:2100:0 (bits 64-71, the u
 * octet, zero), both ways, byte for byte. */
Test(pipeline_rules, rfc6052_sec2_2_seed_example_through_pool6_64)
{
	struct harness h;
	uint8_t in[128], want[128];
	size_t n, wn;

	start_pool6(&h, "2001:db8:122:344::", 64);
	n = h_udp6(in, H_CLIENT, 1234, "2001:db8:122:344:c0:2:2100:0", 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp4(want, H_POOL4, 1234, "192.0.2.33", 80, 63, h_get16(h.p.data + 4));
	h_assert_out(&h, want, wn);
	n = h_udp4(in, "192.0.2.33", 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, "2001:db8:122:344:c0:2:2100:0", 80, H_CLIENT, 1234, 63);
	h_assert_out(&h, want, wn);
	/* A non-zero u octet or suffix is still inside pool6 and maps to
	 * the same IPv4 address (RFC 6052 §2.2: ignored on extraction). */
	n = h_udp6(in, H_CLIENT, 1234, "2001:db8:122:344:ffc0:2:2100:0", 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp4(want, H_POOL4, 1234, "192.0.2.33", 80, 63, h_get16(h.p.data + 4));
	h_assert_out(&h, want, wn);
	h_stop(&h);
}

/* RFC 6052 §2.2, §2.4 table: through a /32 pool6, 192.0.2.33 is
 * 2001:db8:c000:221::; the client lives outside pool6 (RFC 9637
 * documentation space). ICMP errors take the same embedding. */
Test(pipeline_rules, rfc6052_sec2_2_seed_example_through_pool6_32)
{
	struct harness h;
	uint8_t in[256], q[128], want[256];
	size_t n, qn, wn;

	start_pool6(&h, "2001:db8::", 32);
	n = h_udp6(in, "3fff::10", 1234, "2001:db8:c000:221::", 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp4(want, H_POOL4, 1234, "192.0.2.33", 80, 63, h_get16(h.p.data + 4));
	h_assert_out(&h, want, wn);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;
	n = h_udp4(in, "192.0.2.33", 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, "2001:db8:c000:221::", 80, "3fff::10", 1234, 63);
	h_assert_out(&h, want, wn);

	n = h_icmp4_err(in, "192.0.2.77", H_POOL4, 11, 0, 0, 64, 5, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = pg_ipv6(want, "2001:db8:c000:24d::", "3fff::10", IPPROTO_ICMPV6, 63,
		     8 + 40 + 8 + H_PAYLOAD);
	wn += pg_icmp(want + wn, 3, 0, 0);
	wn += h_udp6(want + wn, "3fff::10", 1234, "2001:db8:c000:221::", 80, 63);
	pg_fix_l4_csum6(want, wn);
	h_assert_out(&h, want, wn);
	/* The client's own addresses are not in pool6: a source inside it
	 * is a loop. */
	n = h_udp6(in, "2001:db8:2::10", 1234, "2001:db8:c000:221::", 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_HAIRPIN_LOOP);
	h_stop(&h);
}
