/*
 * The engine's pipeline with UDP (RFC 6146 §3.4-3.8, §3.5.1): mapping,
 * port choice, filtering, limits, expiry, hairpinning, hop limits.
 * Packets are compared byte for byte with packets built by pktgen; the
 * IPv4 Identification of a 6->4 packet is the engine's counter, read from
 * the output and checked apart (ipv4_identification_is_a_counter).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>

#include "nat64_harness.h"
#include "session.h"

static uint32_t
sessions(const struct harness *h)
{
	return session_count(nat64_bib(h->n), L4_COUNT);
}

static uint16_t
out_sport4(const struct harness *h)
{
	return h_get16(h->p.data + 20);
}

/* Nothing but counters moves for packets the parser refuses. */
Test(pipeline_udp, bad_input_changes_nothing)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, 20), STAT_HDR6_TRUNCATED);
	in[5]++; /* payload length one past the bytes */
	cr_assert_eq(h_input(&h, in, n), STAT_HDR6_PAYLOAD_LEN);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1);
	in[10] ^= 1; /* header checksum */
	cr_assert_eq(h_input(&h, in, n), STAT_HDR4_CHECKSUM);
	in[0] = 0x75;
	cr_assert_eq(h_input(&h, in, n), STAT_HDR4_VERSION);
	cr_assert_eq(h_input(&h, in, 0), STAT_HDR4_TRUNCATED);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 0);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(h_stat(&h, STAT_RECEIVED6), 2);
	cr_assert_eq(h_stat(&h, STAT_RECEIVED4), 3);
	cr_assert_eq(h_stat(&h, STAT_HDR4_CHECKSUM), 1);
	cr_assert_eq(h_stat(&h, STAT_SUCCESS), 0);
	h_stop(&h);
}

/* RFC 6146 §3.5.1, §3.6 (DESIGN.md seed example): 2001:db8:2::10#1234 ->
 * 64:ff9b::192.0.2.10#80 leaves as 192.0.2.2#1234 -> 192.0.2.10#80, and
 * the answer comes back to 2001:db8:2::10#1234. */
Test(pipeline_udp, sec3_5_1_seed_example_maps_and_comes_back)
{
	struct harness h;
	uint8_t in[128], want[128];
	size_t n, wn;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp4(want, H_POOL4, 1234, H_SERVER4, 80, 63, h_get16(h.p.data + 4));
	h_assert_out(&h, want, wn);
	cr_assert(pg_ipv4_csum_ok(h.p.data));
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));
	cr_assert_eq(h.res.reply_len, 0);

	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 7);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, H_SERVER6, 80, H_CLIENT, 1234, 63);
	h_assert_out(&h, want, wn);
	cr_assert(pg_l4_csum_ok6(h.p.data, h.p.len, 40, IPPROTO_UDP));
	cr_assert_eq(sessions(&h), 1);
	cr_assert_eq(h_stat(&h, STAT_SUCCESS), 2);
	cr_assert_eq(h_stat(&h, STAT_BIB_CREATED), 1);
	cr_assert_eq(h_stat(&h, STAT_SESSION_CREATED), 1);
	h_stop(&h);
}

/* RFC 6146 §3.5.1.1: a second host can't share 192.0.2.2#1234; it gets
 * another port of the same address with the same parity and range
 * (RFC 4787 REQ-3, REQ-4), and the first host keeps its own. */
Test(pipeline_udp, sec3_5_1_1_second_host_gets_other_port_first_keeps_1234)
{
	struct harness h;
	uint8_t in[128];
	uint16_t port;
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(out_sport4(&h), 1234);
	n = h_udp6(in, H_CLIENT2, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	port = out_sport4(&h);
	cr_assert(memcmp(h.p.data + 12, (uint8_t[]){192, 0, 2, 2}, 4) == 0);
	cr_assert_neq(port, 1234);
	cr_assert_eq(port % 2, 0, "parity: %u", port);
	cr_assert_geq(port, 1024);
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(out_sport4(&h), 1234);
	/* The answer to the second host comes back to it. */
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, port, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert(memcmp(h.p.data + 24, h_taddr6(H_CLIENT2, 0).addr.s6_addr, 16) == 0);
	cr_assert_eq(h_get16(h.p.data + 42), 1234);
	h_stop(&h);
}

/* RFC 6146 §3.5.1.1: parity and the 1024-65535 range hold for every new
 * host, and no two hosts share a taddr. */
Test(pipeline_udp, sec3_5_1_1_parity_and_range_over_many_hosts)
{
	static bool used[65536];
	struct harness h;
	uint8_t in[128];
	char src[64];
	size_t n;

	h_start_default(&h);
	for (unsigned i = 0; i < 300; i++) {
		uint16_t sport = i % 2 ? 4321 : 1234;
		uint16_t port;

		snprintf(src, sizeof(src), "2001:db8:3::%x", i + 1);
		n = h_udp6(in, src, sport, H_SERVER6, 80, 64);
		cr_assert_eq(h_input(&h, in, n), STAT_OK);
		port = out_sport4(&h);
		cr_assert_eq(port % 2, sport % 2, "host %u: port %u", i, port);
		cr_assert_geq(port, 1024);
		cr_assert(!used[port], "port %u handed out twice", port);
		used[port] = true;
	}
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 300);
	h_stop(&h);
}

/* RFC 6146 §3.5.1.1: with the only port taken, the second host's packet
 * is dropped (POOL4_EXHAUSTED) and answered with ICMPv6 Destination
 * Unreachable, Address Unreachable; the first flow keeps working. */
Test(pipeline_udp, sec3_5_1_1_exhausted_pool_answers_icmpv6_1_3)
{
	struct harness h;
	uint8_t in[128], want[256];
	size_t n, wn;

	h_start(&h, NULL, NULL);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 5000, 5000);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(out_sport4(&h), 5000);

	n = h_udp6(in, H_CLIENT2, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_POOL4_EXHAUSTED);
	wn = pg_ipv6(want, H_OWN6, H_CLIENT2, IPPROTO_ICMPV6, 64, (uint16_t)(8 + n));
	wn += pg_icmp(want + wn, 1, 3, 0);
	memcpy(want + wn, in, n);
	wn += n;
	pg_fix_l4_csum6(want, wn);
	h_assert_reply(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_POOL4_EXHAUSTED), 1);
	cr_assert_eq(h_stat(&h, STAT_ICMP6ERR_SENT), 1);

	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(out_sport4(&h), 5000);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 5000, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h_stop(&h);
}

/* Packets of an existing mapping never run the port choice: with pool4
 * flushed (--quick keeps the BIB), the host's flows, old and new, still
 * go out; a host without a mapping can't. */
Test(pipeline_udp, sec3_5_1_existing_mapping_needs_no_port_choice)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	nat64_pool4_flush(h.n, true, h.now);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	n = h_udp6(in, H_CLIENT, 1234, "64:ff9b::198.51.100.7", 53, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(out_sport4(&h), 1234);
	n = h_udp6(in, H_CLIENT2, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_MARK_NOT_FOUND);
	h_stop(&h);
}

/* RFC 6146 §3.5.1.1: an IPv4 packet to a pool4 taddr without a BIB
 * entry is dropped and answered with ICMPv4 3/3 (from own4, TTL 64, TOS
 * 0xC0, DF clear, the whole packet quoted). */
Test(pipeline_udp, sec3_5_1_v4_without_bib_answers_icmpv4_3_3)
{
	struct harness h;
	uint8_t in[128], want[256];
	size_t n, wn;
	uint32_t rlen;

	h_start_default(&h);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 0x1234);
	cr_assert_eq(h_input(&h, in, n), STAT_BIB4_NOT_FOUND);
	h_reply(&h, &rlen);
	cr_assert_eq(rlen, 28 + n);
	wn = pg_ipv4(want, H_OWN4, H_SERVER4, IPPROTO_ICMP, 64, h_get16(h_reply(&h, &rlen) + 4), 0,
		     (uint16_t)(28 + n));
	want[1] = 0xc0;
	pg_ipv4_fix_csum(want);
	wn += pg_icmp(want + wn, 3, 3, 0);
	memcpy(want + wn, in, n);
	wn += n;
	pg_fix_l4_csum4(want, wn);
	h_assert_reply(&h, want, wn);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(h_stat(&h, STAT_ICMP4ERR_SENT), 1);
	h_stop(&h);
}

/* RFC 6052 §3.1: with 64:ff9b::/96, an embedded non-global IPv4 address
 * is refused when wkp-global-only is on, translated when it is off. */
Test(pipeline_udp, rfc6052_sec3_1_wkp_nonglobal_refused_only_when_asked)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	size_t n;

	h_defaults(&g, &p);
	g.wkp_global_only = true;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1, 65535);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_NONGLOBAL_DST);
	cr_assert_eq(sessions(&h), 0);
	n = h_udp6(in, H_CLIENT, 1234, "64:ff9b::8.8.8.8", 53, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	g.wkp_global_only = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h_stop(&h);
}

/* RFC 6146 §3.5: only packets to pool6; a source inside pool6 is a loop;
 * IPv4 only to pool4 (Jool: POOL6_MISMATCH, HAIRPIN_LOOP, POOL4_MISMATCH). */
Test(pipeline_udp, sec3_5_addresses_outside_the_pools_dropped)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, "2001:db8:9::1", 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_POOL6_MISMATCH);
	n = h_udp6(in, "64:ff9b::198.51.100.1", 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_HAIRPIN_LOOP);
	n = h_udp4(in, H_SERVER4, 80, "192.0.2.3", 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_POOL4_MISMATCH);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(sessions(&h), 0);
	h_stop(&h);
}

/* RFC 6146 §3.4: a non-first fragment has no ports; it waits in the
 * reassembler for the rest of its datagram (test_pipeline_frag.c), and
 * nothing is sent or created meanwhile. */
Test(pipeline_udp, sec3_4_non_first_fragment_waits_for_its_datagram)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = pg_ipv4(in, H_SERVER4, H_POOL4, IPPROTO_UDP, 64, 9, 0x0001 /* offset 8 */, 36);
	memset(in + n, 0x42, 16);
	cr_assert_eq(h_input(&h, in, n + 16), STAT_FRAG_HELD);
	n = pg_ipv6(in, H_CLIENT, H_SERVER6, 44, 64, 8 + 16);
	n += pg_frag6(in + n, IPPROTO_UDP, 8, false, 77);
	memset(in + n, 0x42, 16);
	cr_assert_eq(h_input(&h, in, n + 16), STAT_FRAG_HELD);
	cr_assert_eq(h_stat(&h, STAT_FRAG_HELD), 2);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(sessions(&h), 0);
	h_stop(&h);
}

/* RFC 6146 §3.5.1 expiry: the session lives while idle for at most
 * udp-timeout; then a sweep removes it with its dynamic BIB entry and the
 * answer finds nothing. */
Test(pipeline_udp, sec3_5_1_session_expires_after_udp_timeout)
{
	struct harness h;
	uint8_t in[128];
	size_t n;
	uint64_t t0;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	t0 = h.now;
	h.now = t0 + 5 * 60 * 1000 - 1;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 1);
	h.now = t0 + 5 * 60 * 1000 + 1;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(bib_count(nat64_bib(h.n), L4_UDP), 0);
	cr_assert_eq(h.nemitted, 0);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_BIB4_NOT_FOUND);
	h_stop(&h);
}

/* A packet refreshes its session (RFC 6146 §3.5.1: "the NAT64 updates
 * the lifetime"), so a flow that talks never expires. */
Test(pipeline_udp, sec3_5_1_traffic_refreshes_the_session)
{
	struct harness h;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h.now += 4 * 60 * 1000;
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h.now += 4 * 60 * 1000;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 1, "refreshed 6->4");
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	h.now += 4 * 60 * 1000;
	h_tick(&h);
	cr_assert_eq(sessions(&h), 1, "refreshed 4->6");
	h_stop(&h);
}

/* Jool's address-dependent-filtering: on, an IPv4 node the IPv6 host
 * never talked to is refused (ICMPv4 3/13) while another port of a known
 * node passes; off, anyone reaches the mapping (endpoint-independent). */
Test(pipeline_udp, adf_on_filters_by_address_off_lets_anyone)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	const uint8_t *r;
	uint32_t rlen;
	size_t n;

	h_defaults(&g, &p);
	g.adf = true;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1, 65535);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	n = h_udp4(in, "198.51.100.7", 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_ADF);
	r = h_reply(&h, &rlen);
	cr_assert(r && r[20] == 3 && r[21] == 13);
	cr_assert(memcmp(r + 16, in + 12, 4) == 0);
	n = h_udp4(in, H_SERVER4, 9999, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(sessions(&h), 2);

	g.adf = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, NULL, 0), 0);
	n = h_udp4(in, "198.51.100.7", 80, H_POOL4, 1234, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(sessions(&h), 3);
	h_stop(&h);
}

/* RFC 6888 REQ-4: a host at max-sessions-per-host is refused (with the
 * ICMPv6 error of a failed mapping) while another host still gets one. */
Test(pipeline_udp, rfc6888_req4_host_limit_refuses_a_not_b)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	const uint8_t *r;
	uint32_t rlen;
	size_t n;

	h_defaults(&g, &p);
	g.max_sessions_per_host = 2;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1, 65535);
	for (uint16_t port = 80; port < 82; port++) {
		n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, port, 64);
		cr_assert_eq(h_input(&h, in, n), STAT_OK);
	}
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 82, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_HOST_SESSION_LIMIT);
	r = h_reply(&h, &rlen);
	cr_assert(r && r[40] == 1 && r[41] == 3);
	n = h_udp6(in, H_CLIENT2, 1234, H_SERVER6, 82, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(sessions(&h), 3);
	h_stop(&h);
}

/* RFC 6888 REQ-4: max-sessions counts every host together. */
Test(pipeline_udp, rfc6888_req4_total_limit)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	size_t n;

	h_defaults(&g, &p);
	g.max_sessions = 3;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1, 65535);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 1, H_SERVER6, 80, 64)), STAT_OK);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT, 2, H_SERVER6, 80, 64)), STAT_OK);
	cr_assert_eq(h_input(&h, in, h_udp6(in, H_CLIENT2, 1, H_SERVER6, 80, 64)), STAT_OK);
	n = h_udp6(in, "2001:db8:2::12", 1, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_SESSION_LIMIT);
	cr_assert_eq(h_stat(&h, STAT_SESSION_LIMIT), 1);
	/* Refused from the IPv4 side too, with 3/13. */
	h_bib(&h, L4_UDP, "2001:db8:2::20", 5000, H_POOL4, 5000);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 5000, 64, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_SESSION_LIMIT);
	cr_assert(h.res.reply_len && h.reply[h.res.reply_off + 21] == 13);
	h_stop(&h);
}

/* RFC 6146 §3.8: IPv6 host A reaches IPv6 host B through B's static BIB
 * entry; the packet never leaves as IPv4 and reaches B from pool6 + A's
 * mask, decremented once; B's answer goes back the same way. */
Test(pipeline_udp, sec3_8_hairpin_through_static_bib)
{
	struct harness h;
	uint8_t in[128], want[128];
	size_t n, wn;

	h_start_default(&h);
	h_bib(&h, L4_UDP, "2001:db8:2::20", 5000, H_POOL4, 5000);
	n = h_udp6(in, H_CLIENT, 1234, H_POOL4_6, 5000, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, H_POOL4_6, 1234, "2001:db8:2::20", 5000, 63);
	h_assert_out(&h, want, wn);
	cr_assert(pg_l4_csum_ok6(h.p.data, h.p.len, 40, IPPROTO_UDP));
	cr_assert_eq(h_stat(&h, STAT_HAIRPINNED), 1);
	cr_assert_eq(sessions(&h), 2);

	n = h_udp6(in, "2001:db8:2::20", 5000, H_POOL4_6, 1234, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	wn = h_udp6(want, H_POOL4_6, 5000, H_CLIENT, 1234, 63);
	h_assert_out(&h, want, wn);
	cr_assert_eq(sessions(&h), 2);
	h_stop(&h);
}

/* RFC 7915 §5.1 / §4.1: without hop compensation the translator
 * decrements like a router (TTL = hop limit - 1 and back); with it the
 * packet gets one back for the kernel's two decrements (in + 1); the
 * second pass of a hairpinned packet changes nothing either way. */
Test(pipeline_udp, tun_hop_compensation_in_plus_one_else_minus_one)
{
	struct harness h;
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 30);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h.p.data[8], 29);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 30, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h.p.data[7], 29);
	h_stop(&h);

	h_defaults(&g, &p);
	p.tun_hop_compensation = true;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1, 65535);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 30);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h.p.data[8], 31);
	cr_assert(pg_ipv4_csum_ok(h.p.data));
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 30, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h.p.data[7], 31);
	n = h_udp4(in, H_SERVER4, 80, H_POOL4, 1234, 255, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h.p.data[7], 255, "capped");
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 1);
	cr_assert_eq(h_input(&h, in, n), STAT_OK, "no expiry: the kernel checked");
	cr_assert_eq(h.p.data[8], 2);
	h_bib(&h, L4_UDP, "2001:db8:2::20", 5000, H_POOL4, 5000);
	n = h_udp6(in, H_CLIENT, 1234, H_POOL4_6, 5000, 30);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h.p.data[7], 31, "hairpin: once");
	h_stop(&h);
}

/* RFC 7915 §5.1: the Identification of a packet without a Fragment
 * header is the translator's; the engine counts. */
Test(pipeline_udp, ipv4_identification_is_a_counter)
{
	struct harness h;
	uint8_t in[128];
	uint16_t first;
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	first = h_get16(h.p.data + 4);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 4), (uint16_t)(first + 1));
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert_eq(h_get16(h.p.data + 4), (uint16_t)(first + 2));
	h_stop(&h);
}
