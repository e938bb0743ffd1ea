/*
 * The engine's pipeline with ICMP: queries (RFC 6146 §3.5.3), ICMP errors
 * in transit both ways (§3.4 tuple from the inner packet, §3.6 addresses,
 * RFC 7915 translation), and the errors the engine originates (Time
 * Exceeded, Parameter Problem, Destination Unreachable) with the RFC 4443
 * §2.4 / RFC 1812 §4.3.2.7 restrictions and the rate limit.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>

#include "nat64_harness.h"
#include "session.h"

#define ROUTER4 "198.51.100.1"
#define ROUTER6 "64:ff9b::198.51.100.1"

/* Client's UDP flow to the server; the translated IPv4 packet is copied
 * to q (the packet a server or router quotes in an ICMPv4 error). */
static size_t
udp_flow(struct harness *h, uint8_t *q)
{
	uint8_t in[128];
	size_t n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);

	cr_assert_eq(h_input(h, in, n), STAT_OK);
	memcpy(q, h->p.data, h->p.len);
	return h->p.len;
}

/* The ICMPv6 error the engine builds: own6 -> dst, hop limit 64. */
static size_t
icmp6_reply(uint8_t *want, const char *dst, uint8_t type, uint8_t code, uint32_t rest,
	    const uint8_t *q, size_t qn)
{
	size_t n = pg_ipv6(want, H_OWN6, dst, IPPROTO_ICMPV6, 64, (uint16_t)(8 + qn));

	n += pg_icmp(want + n, type, code, rest);
	memcpy(want + n, q, qn);
	n += qn;
	pg_fix_l4_csum6(want, n);
	return n;
}

/* The ICMPv4 error the engine builds: own4 -> dst, TTL 64, TOS 0xC0. */
static size_t
icmp4_reply(uint8_t *want, const char *dst, uint16_t id, uint8_t type, uint8_t code,
	    const uint8_t *q, size_t qn)
{
	size_t n = pg_ipv4(want, H_OWN4, dst, IPPROTO_ICMP, 64, id, 0, (uint16_t)(28 + qn));

	want[1] = 0xc0;
	pg_ipv4_fix_csum(want);
	n += pg_icmp(want + n, type, code, 0);
	memcpy(want + n, q, qn);
	n += qn;
	pg_fix_l4_csum4(want, n);
	return n;
}

static uint16_t
reply_id(const struct harness *h)
{
	return h_get16(h->reply + h->res.reply_off + 4);
}

/* Malformed ICMP creates nothing. */
Test(pipeline_icmp, bad_input_changes_nothing)
{
	struct harness h;
	uint8_t in[256], q[128];
	size_t n, qn;

	h_start_default(&h);
	n = h_echo6(in, H_CLIENT, H_SERVER6, 128, 0x1111, 64);
	cr_assert_eq(h_input(&h, in, 44), STAT_HDR6_PAYLOAD_LEN);
	n = pg_ipv6(in, H_CLIENT, H_SERVER6, IPPROTO_ICMPV6, 64, 4);
	memset(in + n, 0, 4);
	cr_assert_eq(h_input(&h, in, n + 4), STAT_ICMP_TRUNCATED);
	qn = udp_flow(&h, q);
	n = h_icmp4_err(in, H_SERVER4, H_POOL4, 3, 3, 0, 64, 1, q, qn);
	in[22] ^= 0xff; /* ICMP checksum */
	cr_assert_eq(h_input(&h, in, n), STAT_ICMP4_CHECKSUM);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_ICMP), 0);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_COUNT), 1);
	cr_assert_eq(h.res.reply_len, 0);
	h_stop(&h);
}

/* RFC 6146 §3.5.3: an echo maps its identifier like a port (the first
 * host keeps it, a second one with the same identifier gets another),
 * and replies come back with the host's own identifier. */
Test(pipeline_icmp, sec3_5_3_echo_maps_identifier_both_ways)
{
	struct harness h;
	uint8_t in[128], want[128];
	uint16_t id2;
	size_t n, wn;

	h_start_default(&h);
	n = h_echo6(in, H_CLIENT, H_SERVER6, 128, 0x1111, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_echo4(want, H_POOL4, H_SERVER4, 8, 0x1111, 63, h_get16(h.p.data + 4));
	h_assert_out(&h, want, wn);
	n = h_echo6(in, H_CLIENT2, H_SERVER6, 128, 0x1111, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	id2 = h_get16(h.p.data + 24);
	cr_assert_neq(id2, 0x1111);
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));

	n = h_echo4(in, H_SERVER4, H_POOL4, 0, id2, 64, 9);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_echo6(want, H_SERVER6, H_CLIENT2, 129, 0x1111, 63);
	h_assert_out(&h, want, wn);
	n = h_echo4(in, H_SERVER4, H_POOL4, 0, 0x1111, 64, 9);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_echo6(want, H_SERVER6, H_CLIENT, 129, 0x1111, 63);
	h_assert_out(&h, want, wn);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_ICMP), 2);
	h_stop(&h);
}

/* RFC 6146 §3.5.3: an ICMPv4 query with no BIB entry is silently
 * discarded. */
Test(pipeline_icmp, sec3_5_3_v4_echo_without_bib_silently_dropped)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_echo4(in, H_SERVER4, H_POOL4, 8, 0x2222, 64, 9);
	cr_assert_eq(h_input(&h, in, n), STAT_BIB4_NOT_FOUND);
	cr_assert_eq(h.res.reply_len, 0);
	h_stop(&h);
}

/* RFC 6146 §3.5.3: ICMP sessions live icmp-timeout (1 min) idle. */
Test(pipeline_icmp, sec3_5_3_session_expires_after_icmp_timeout)
{
	struct harness h;
	uint8_t in[128];
	uint64_t t0;

	h_start_default(&h);
	cr_assert_eq(h_input(&h, in, h_echo6(in, H_CLIENT, H_SERVER6, 128, 7, 64)), STAT_OK);
	t0 = h.now;
	h.now = t0 + 60000 - 1;
	h_tick(&h);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_ICMP), 1);
	h.now = t0 + 60000 + 1;
	h_tick(&h);
	cr_assert_eq(session_count(nat64_bib(h.n), L4_ICMP), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_ICMP), 0);
	h_stop(&h);
}

/* Jool's drop-icmpv6-info: echo dropped 6->4 only. */
Test(pipeline_icmp, drop_icmpv6_info_drops_echo_6to4_only)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];

	h_defaults(&g, &p);
	g.drop_icmp6_info = true;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_ICMP, H_POOL4, 32, 0, 65535);
	h_bib(&h, L4_ICMP, H_CLIENT, 0x3333, H_POOL4, 0x3333);
	cr_assert_eq(h_input(&h, in, h_echo6(in, H_CLIENT, H_SERVER6, 128, 0x3333, 64)),
		     STAT_ICMP6_FILTER);
	cr_assert_eq(h_input(&h, in, h_echo4(in, H_SERVER4, H_POOL4, 8, 0x3333, 64, 1)), STAT_OK);
	h_stop(&h);
}

/* RFC 7915 §5.2, §4.2: informational types other than echo are not
 * translated; they are dropped before any state is looked at. */
Test(pipeline_icmp, rfc7915_untranslatable_informational_dropped_early)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = pg_ipv6(in, H_CLIENT, H_SERVER6, IPPROTO_ICMPV6, 255, 8);
	n += pg_icmp(in + n, 135, 0, 0); /* neighbour solicitation */
	pg_fix_l4_csum6(in, n);
	cr_assert_eq(h_input(&h, in, n), STAT_ICMP6_TYPE_UNKNOWN);
	n = pg_ipv4(in, H_SERVER4, H_POOL4, IPPROTO_ICMP, 64, 1, 0, 28);
	n += pg_icmp(in + n, 13, 0, 0); /* timestamp */
	pg_fix_l4_csum4(in, n);
	cr_assert_eq(h_input(&h, in, n), STAT_ICMP4_TYPE_UNKNOWN);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_ICMP), 0);
	h_stop(&h);
}

/* RFC 6146 §3.4, §3.6: the server's ICMPv4 port unreachable about the
 * translated datagram reaches the client as ICMPv6 1/4, from pool6 + the
 * server, quoting the datagram with the client's own addresses and ports;
 * both checksums verify. */
Test(pipeline_icmp, icmp_error_4to6_quote_translated_back)
{
	struct harness h;
	uint8_t in[256], q[128], want[256];
	size_t n, qn, wn;

	h_start_default(&h);
	qn = udp_flow(&h, q);
	n = h_icmp4_err(in, H_SERVER4, H_POOL4, 3, 3, 0, 64, 77, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = pg_ipv6(want, H_SERVER6, H_CLIENT, IPPROTO_ICMPV6, 63, 8 + 40 + 8 + H_PAYLOAD);
	wn += pg_icmp(want + wn, 1, 4, 0);
	wn += h_udp6(want + wn, H_CLIENT, 1234, H_SERVER6, 80, 63);
	pg_fix_l4_csum6(want, wn);
	h_assert_out(&h, want, wn);
	cr_assert(pg_l4_csum_ok6(h.p.data, h.p.len, 40, IPPROTO_ICMPV6));
	cr_assert(pg_l4_csum_ok6(h.p.data + 48, h.p.len - 48, 40, IPPROTO_UDP));
	h_stop(&h);
}

/* Jool's source-icmpv6-errors-better: on (default), the outer source is
 * pool6 + the router that sent the error (traceroute works); off, pool6 +
 * the quoted packet's destination (RFC 6146 §3.6). The quoted echo gets
 * the client's identifier back. */
Test(pipeline_icmp, icmp_error_4to6_outer_source_and_quoted_echo)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[256], q[128], want[256];
	size_t n, qn, wn;

	h_defaults(&g, &p);
	h_start(&h, &g, &p);
	h_pool4(&h, L4_ICMP, H_POOL4, 32, 0, 65535);
	h_bib(&h, L4_ICMP, H_CLIENT2, 0x1111, H_POOL4, 0x1111); /* makes the client's id move */
	n = h_echo6(in, H_CLIENT, H_SERVER6, 128, 0x1111, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_neq(h_get16(h.p.data + 24), 0x1111);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;
	n = h_icmp4_err(in, ROUTER4, H_POOL4, 11, 0, 0, 64, 5, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = pg_ipv6(want, ROUTER6, H_CLIENT, IPPROTO_ICMPV6, 63, 8 + 40 + 12);
	wn += pg_icmp(want + wn, 3, 0, 0);
	wn += h_echo6(want + wn, H_CLIENT, H_SERVER6, 128, 0x1111, 63);
	pg_fix_l4_csum6(want, wn);
	h_assert_out(&h, want, wn);

	g.src_icmp6_errors_better = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(want + 8, h_taddr6(H_SERVER6, 0).addr.s6_addr, 16);
	pg_fix_l4_csum6(want, wn);
	h_assert_out(&h, want, wn);
	h_stop(&h);
}

/* RFC 6146 §3.4, §3.6 the other way: the client's ICMPv6 port
 * unreachable about the server's datagram reaches the server as ICMPv4
 * 3/3 from the client's mask, quoting the datagram as the server sent it. */
Test(pipeline_icmp, icmp_error_6to4_quote_translated_back)
{
	struct harness h;
	uint8_t in[256], q[128], want[256];
	size_t n, qn, wn;

	h_start_default(&h);
	udp_flow(&h, q);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;
	n = h_icmp6_err(in, H_CLIENT, H_SERVER6, 1, 4, 0, 64, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = pg_ipv4(want, H_POOL4, H_SERVER4, IPPROTO_ICMP, 63, h_get16(h.p.data + 4), 0,
		     28 + 28 + H_PAYLOAD);
	wn += pg_icmp(want + wn, 3, 3, 0);
	wn += h_udp4(want + wn, H_SERVER4, 80, H_POOL4, 1234, 63, 0);
	pg_fix_l4_csum4(want, wn);
	h_assert_out(&h, want, wn);
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));
	cr_assert(pg_l4_csum_ok4(h.p.data + 28, h.p.len - 28));
	h_stop(&h);
}

/* ICMP errors need the BIB entry of the flow they quote
 * (SESSION_NOT_FOUND), and create and refresh nothing. */
Test(pipeline_icmp, icmp_error_without_bib_dropped_and_changes_nothing)
{
	struct harness h;
	uint8_t in[256], q[128];
	struct taddr6 c = h_taddr6(H_CLIENT, 1234);
	struct taddr4 s4 = h_taddr4(H_SERVER4, 80);
	const struct session *s;
	size_t n, qn;

	h_start_default(&h);
	n = h_udp4(q, H_POOL4, 999, H_SERVER4, 80, 63, 1);
	n = h_icmp4_err(in, H_SERVER4, H_POOL4, 3, 3, 0, 64, 1, q, n);
	cr_assert_eq(h_input(&h, in, n), STAT_SESSION_NOT_FOUND);
	n = h_udp6(q, H_SERVER6, 80, H_CLIENT, 1234, 63);
	n = h_icmp6_err(in, H_CLIENT, H_SERVER6, 1, 4, 0, 64, q, n);
	cr_assert_eq(h_input(&h, in, n), STAT_SESSION_NOT_FOUND);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 0);
	cr_assert_eq(h_stat(&h, STAT_SESSION_NOT_FOUND), 2);

	qn = udp_flow(&h, q);
	h.now += 60000;
	n = h_icmp4_err(in, H_SERVER4, H_POOL4, 3, 3, 0, 64, 1, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	s = session_find6(nat64_bib(h.n), L4_UDP, &c, &s4);
	cr_assert(s);
	cr_assert_eq(session_expires_in(nat64_bib(h.n), s, h.now), 5 * 60000 - 60000,
		     "the error refreshed the session");
	cr_assert_eq(session_count(nat64_bib(h.n), L4_COUNT), 1);
	h_stop(&h);
}

/* RFC 7915 §5.1: hop limit 1 can't be forwarded: ICMPv6 Time Exceeded
 * (3/0) from own6, quoting the packet. */
Test(pipeline_icmp, rfc7915_sec5_1_hop_limit_1_answers_time_exceeded)
{
	struct harness h;
	uint8_t in[128], want[256];
	size_t n, wn;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_XLAT64_HOP_LIMIT);
	wn = icmp6_reply(want, H_CLIENT, 3, 0, 0, in, n);
	h_assert_reply(&h, want, wn);
	h_stop(&h);
}

/* RFC 7915 §4.1: TTL 1 likewise: ICMPv4 Time Exceeded (11/0) from own4. */
Test(pipeline_icmp, rfc7915_sec4_1_ttl_1_answers_time_exceeded)
{
	struct harness h;
	uint8_t in[128], q[128], want[256];
	size_t n, wn;

	h_start_default(&h);
	udp_flow(&h, q);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 1, 3);
	cr_assert_eq(h_input(&h, in, n), STAT_XLAT46_TTL);
	wn = icmp4_reply(want, H_SERVER4, reply_id(&h), 11, 0, in, n);
	h_assert_reply(&h, want, wn);
	h_stop(&h);
}

/* RFC 7915 §5.1: a Routing header with Segments Left: Parameter Problem
 * 0, pointer at the Segments Left byte (40 + 3). */
Test(pipeline_icmp, rfc7915_sec5_1_segments_left_answers_parameter_problem)
{
	struct harness h;
	uint8_t in[128], want[256];
	size_t n, wn;

	h_start_default(&h);
	n = pg_ipv6(in, H_CLIENT, H_SERVER6, IPPROTO_ROUTING, 64, 8 + 8 + H_PAYLOAD);
	n += pg_routing6(in + n, IPPROTO_UDP, 1);
	n += pg_udp(in + n, 1234, 80, H_PAYLOAD);
	memcpy(in + n, "hello", H_PAYLOAD);
	n += H_PAYLOAD;
	cr_assert_eq(h_input(&h, in, n), STAT_XLAT64_SEGMENTS_LEFT);
	wn = icmp6_reply(want, H_CLIENT, 4, 0, 43, in, n);
	h_assert_reply(&h, want, wn);
	h_stop(&h);
}

/* RFC 7915 §4.1: an unexpired source route: ICMPv4 3/5. */
Test(pipeline_icmp, rfc7915_sec4_1_source_route_answers_3_5)
{
	struct harness h;
	uint8_t in[128], q[128], want[256];
	const uint8_t lsrr[8] = {1, 131, 7, 4, 198, 51, 100, 9};
	size_t n, wn;

	h_start_default(&h);
	udp_flow(&h, q);
	pg_ipv4(in, H_SERVER4, H_POOL4, IPPROTO_UDP, 64, 3, 0, 28 + 8 + H_PAYLOAD);
	in[0] = 0x47;
	memcpy(in + 20, lsrr, sizeof(lsrr));
	pg_ipv4_fix_csum(in);
	n = 28 + pg_udp(in + 28, 80, 1234, H_PAYLOAD);
	memcpy(in + n, "hello", H_PAYLOAD);
	n += H_PAYLOAD;
	pg_fix_l4_csum4(in, n);
	cr_assert_eq(h_input(&h, in, n), STAT_XLAT46_SRC_ROUTE);
	wn = icmp4_reply(want, H_SERVER4, reply_id(&h), 3, 5, in, n);
	h_assert_reply(&h, want, wn);
	h_stop(&h);
}

/* RFC 4443 §2.4 (e.1) / RFC 1812 §4.3.2.7: no error about an error. */
Test(pipeline_icmp, rfc4443_sec2_4_no_error_about_an_error)
{
	struct harness h;
	uint8_t in[256], q[128];
	size_t n, qn;

	h_start_default(&h);
	udp_flow(&h, q);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	memcpy(q, h.p.data, h.p.len);
	qn = h.p.len;
	n = h_icmp6_err(in, H_CLIENT, H_SERVER6, 1, 4, 0, 1, q, qn);
	cr_assert_eq(h_input(&h, in, n), STAT_XLAT64_HOP_LIMIT);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(h_stat(&h, STAT_ICMPERR_NOT_ALLOWED), 1);
	cr_assert_eq(h_stat(&h, STAT_ICMP6ERR_SENT), 0);
	h_stop(&h);
}

/* RFC 1812 §4.3.2.7 / RFC 4443 §2.4 (e.6): not to a source that names
 * no single host (multicast, unspecified). Such sources are now dropped
 * before any state (SRC4_ILLEGAL / SRC6_ILLEGAL, test_pipeline_rules.c),
 * so no error is even considered; icmp_error_allowed*() stays as a second
 * guard (test_icmp_error.c). */
Test(pipeline_icmp, rfc1812_no_error_to_multicast_or_unspecified_source)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start(&h, NULL, NULL);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 5000, 5000);
	n = h_udp4(in, "224.1.2.3", 80, H_POOL4, 5000, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_SRC4_ILLEGAL);
	cr_assert_eq(h.res.reply_len, 0);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	n = h_udp6(in, "::", 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_SRC6_ILLEGAL);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(h_stat(&h, STAT_ICMP4ERR_SENT) + h_stat(&h, STAT_ICMP6ERR_SENT), 0);
	/* A unicast sender of the same packet does get one. */
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 5001, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_POOL4_MISMATCH);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 5000, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h_stop(&h);
}

/* RFC 4443 §2.4 (f): errors are rate-limited by a token bucket of
 * icmp_errors_per_sec, burst the same; suppressed ones are counted. */
Test(pipeline_icmp, rfc4443_sec2_4_f_rate_limit_burst_then_refill)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	unsigned sent = 0;
	size_t n;

	h_defaults(&g, &p);
	p.icmp_errors_per_sec = 3;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1, 65535);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(h_input(&h, in, n), STAT_BIB4_NOT_FOUND);
		sent += h.res.reply_len != 0;
	}
	cr_assert_eq(sent, 3);
	cr_assert_eq(h_stat(&h, STAT_ICMPERR_RATE_LIMITED), 2);
	h.now += 333;
	cr_assert_eq(h_input(&h, in, n), STAT_BIB4_NOT_FOUND);
	cr_assert_eq(h.res.reply_len, 0, "333 ms make 0.999 of a token");
	h.now += 1;
	cr_assert_eq(h_input(&h, in, n), STAT_BIB4_NOT_FOUND);
	cr_assert_neq(h.res.reply_len, 0);
	h.now += 10000;
	sent = 0;
	for (int i = 0; i < 5; i++) {
		h_input(&h, in, n);
		sent += h.res.reply_len != 0;
	}
	cr_assert_eq(sent, 3, "the burst is capped at one second's worth");
	h_stop(&h);
}

/* icmp_errors_per_sec 0: the engine originates no error at all. */
Test(pipeline_icmp, rate_zero_disables_errors)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	size_t n;

	h_defaults(&g, &p);
	p.icmp_errors_per_sec = 0;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1, 65535);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_BIB4_NOT_FOUND);
	cr_assert_eq(h.res.reply_len, 0);
	h_stop(&h);
}
