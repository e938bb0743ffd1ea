/*
 * RFC 7915 §4: IPv4 -> IPv6 translation of packets that are not ICMP
 * errors (those are in test_translate_icmp.c).
 *
 * Inputs and expected outputs are built with pktgen, checksums computed
 * from scratch by its reference code, and compared byte for byte. The
 * harness (run46) checks on every call that nothing outside
 * [data - headroom, data + len + tailroom) was written and that a refused
 * packet and its struct pkt are unchanged.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "packet.h"
#include "pktgen.h"
#include "translate.h"
#include "xlat_harness.h"

/* Every test translates with both MTUs at 1500. */
static enum stat_id
run46(struct tbuf *b, const struct xlat_addrs6 *a, const struct xlat_config *cfg)
{
	return xh_run46(b, a, cfg, 1500, 1500);
}

/* The flow used throughout: 192.0.2.10#80 -> 198.51.100.1#6000 becomes
 * 64:ff9b::192.0.2.10#80 -> 2001:db8::1#1234. */
static struct xlat_addrs6
addrs(void)
{
	struct xlat_addrs6 a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(inet_pton(AF_INET6, "64:ff9b::c000:20a", &a.src.addr), 1);
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::1", &a.dst.addr), 1);
	a.src.port = 80;
	a.dst.port = 1234;
	a.decrement_ttl = true;
	return a;
}

static void
fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 5);
}

/* Transport header of the flow's IPv4 side (`v4`) or IPv6 side. */
static size_t
l4(uint8_t *b, uint8_t proto, uint16_t plen, bool v4, bool request)
{
	uint16_t dport = v4 ? 6000 : 1234;

	if (proto == IPPROTO_UDP)
		return pg_udp(b, 80, dport, plen);
	if (proto == IPPROTO_TCP)
		return pg_tcp(b, 80, dport, 77, 1001, PG_TCP_SYN | PG_TCP_ACK);
	/* Echo: the identifier is the IPv4 host's port, then the IPv6 one. */
	if (v4)
		return pg_icmp(b, request ? 8 : 0, 0, 6000u << 16 | 3);
	return pg_icmp(b, request ? 128 : 129, 0, 1234u << 16 | 3);
}

/* IPv4 packet of the flow: TOS 0, DF, ID 0x4321. */
static size_t
in4(uint8_t *b, uint8_t proto, uint16_t plen, uint8_t ttl)
{
	size_t n = 20 + l4(b + 20, proto, plen, true, false);

	fill(b + n, plen, 9);
	n += plen;
	pg_ipv4(b, "192.0.2.10", "198.51.100.1", proto, ttl, 0x4321, 0x4000, (uint16_t)n);
	pg_fix_l4_csum4(b, n);
	return n;
}

/* What in4() should become (no Fragment header). */
static size_t
out6(uint8_t *b, uint8_t proto, uint16_t plen, uint8_t hop_limit)
{
	size_t n = 40 + l4(b + 40, proto, plen, false, false);

	fill(b + n, plen, 9);
	n += plen;
	pg_ipv6(b, "64:ff9b::c000:20a", "2001:db8::1", proto == IPPROTO_ICMP ? 58 : proto,
		hop_limit, (uint16_t)(n - 40));
	pg_fix_l4_csum6(b, n);
	return n;
}

/* The IPv4 fragment [off, off + n) of the whole IPv4 packet `whole`. */
static size_t
frag4(uint8_t *out, const uint8_t *whole, size_t off, size_t n, bool more, uint16_t id)
{
	uint16_t frag = (uint16_t)((more ? 0x2000 : 0) | off / 8);

	memcpy(out, whole, 20);
	out[2] = (uint8_t)((20 + n) >> 8);
	out[3] = (uint8_t)(20 + n);
	out[4] = (uint8_t)(id >> 8);
	out[5] = (uint8_t)id;
	out[6] = (uint8_t)(frag >> 8);
	out[7] = (uint8_t)frag;
	pg_ipv4_fix_csum(out);
	memcpy(out + 20, whole + 20 + off, n);
	return 20 + n;
}

/* The IPv6 fragment [off, off + n) of the whole IPv6 packet `whole`. */
static size_t
frag6(uint8_t *out, const uint8_t *whole, size_t off, size_t n, bool more, uint32_t id)
{
	memcpy(out, whole, 40);
	out[6] = 44;
	pg_frag6(out + 40, whole[6], (uint16_t)off, more, id);
	memcpy(out + 48, whole + 40 + off, n);
	out[4] = (uint8_t)((8 + n) >> 8);
	out[5] = (uint8_t)(8 + n);
	return 48 + n;
}

static void
assert_out(const struct tbuf *b, const uint8_t *want, size_t want_len)
{
	pg_assert_bytes(b->p.data, b->p.len, want, want_len);
}

/* First test: bad input. RFC 7915 §4.1: TTL 1 would expire in the
 * translator; nothing may change, the caller sends Time Exceeded. */
Test(translate_4to6, sec4_1_ttl_1_refused_and_packet_unchanged)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in4(pkt, IPPROTO_UDP, 10, 1);

	xh_load(&b, pkt, n, 28, 16);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_TTL);
	pg_assert_bytes(b.p.data, b.p.len, pkt, n);
	pkt[8] = 0;
	pg_ipv4_fix_csum(pkt);
	xh_load(&b, pkt, n, 28, 16);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_TTL);
}

/* RFC 7915 §4.1: every field of the IPv6 header (version, traffic class,
 * flow label 0, payload length, next header, hop limit, addresses); §4.5
 * UDP ports and checksum. */
Test(translate_4to6, sec4_1_udp_header_fields_byte_exact)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_UDP, 11, 64);
	size_t wn = out6(want, IPPROTO_UDP, 11, 63);

	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok6(b.p.data, b.p.len, 40, IPPROTO_UDP));
	/* The header grew into the headroom, the payload stayed put. */
	cr_assert_eq(b.p.headroom, 0);
	cr_assert_eq(b.p.tailroom, 0);
}

/* RFC 7915 §4.1: Traffic Class "copied from the IP Type Of Service". */
Test(translate_4to6, sec4_1_traffic_class_copied_from_tos)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_UDP, 4, 64);
	size_t wn = out6(want, IPPROTO_UDP, 4, 63);

	pkt[1] = 0xb9;
	pg_ipv4_fix_csum(pkt);
	pg_ipv6_set_tc_flow(want, 0xb9, 0);
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.1 allows Traffic Class 0 instead (Jool's
 * zeroize-traffic-class). */
Test(translate_4to6, sec4_1_zeroize_traffic_class)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_UDP, 4, 64);
	size_t wn = out6(want, IPPROTO_UDP, 4, 63);

	c.zeroize_traffic_class = true;
	pkt[1] = 0xb9;
	pg_ipv4_fix_csum(pkt);
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.1: Hop Limit = TTL; the decrement is the caller's choice. */
Test(translate_4to6, sec4_1_hop_limit_copied_without_decrement)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in4(pkt, IPPROTO_UDP, 4, 1);

	a.decrement_ttl = false;
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	cr_assert_eq(b.p.data[7], 1);
}

/* RFC 7915 §4.1: TTL 2 leaves as hop limit 1. */
Test(translate_4to6, sec4_1_ttl_2_becomes_hop_limit_1)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in4(pkt, IPPROTO_UDP, 4, 2);

	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	cr_assert_eq(b.p.data[7], 1);
}

/* IPv4 packet `pkt` of length n with `opt` inserted as options. */
static size_t
with_options(uint8_t *pkt, size_t n, const uint8_t *opt, size_t olen)
{
	memmove(pkt + 20 + olen, pkt + 20, n - 20);
	memcpy(pkt + 20, opt, olen);
	n += olen;
	pkt[0] = (uint8_t)(0x40 | (20 + olen) / 4);
	pkt[2] = (uint8_t)(n >> 8);
	pkt[3] = (uint8_t)n;
	pg_ipv4_fix_csum(pkt);
	return n;
}

/* RFC 7915 §4.1: options "MUST be ignored": Payload Length counts
 * neither header nor options. An expired source route (pointer past its
 * length) is just an option. */
Test(translate_4to6, sec4_1_options_dropped)
{
	/* NOP, then LSRR of 7 bytes whose pointer (8) is past its length:
	 * the route is done. */
	static const uint8_t opt[8] = {1, 131, 7, 8, 192, 0, 2, 1};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_TCP, 6, 64);
	size_t wn = out6(want, IPPROTO_TCP, 6, 63);

	n = with_options(pkt, n, opt, sizeof(opt));
	xh_load(&b, pkt, n, 12, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.1: an unexpired LSRR or SSRR: "the packet MUST instead be
 * discarded" (the caller answers 3/5). */
Test(translate_4to6, sec4_1_unexpired_source_route_refused)
{
	static const uint8_t lsrr[8] = {1, 131, 7, 4, 192, 0, 2, 1};
	static const uint8_t ssrr[8] = {1, 137, 7, 4, 192, 0, 2, 1};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in4(pkt, IPPROTO_UDP, 6, 64);

	n = with_options(pkt, n, lsrr, sizeof(lsrr));
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_SRC_ROUTE);
	n = in4(pkt, IPPROTO_UDP, 6, 64);
	n = with_options(pkt, n, ssrr, sizeof(ssrr));
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_SRC_ROUTE);
}

/* RFC 7915 §4.1: a fragment gets a Fragment header: ID zero-extended,
 * offset and M copied, Next Header 44 then the protocol; §4.5 the first
 * fragment's checksum (of the whole datagram) is updated. */
Test(translate_4to6, sec4_1_fragment_gets_fragment_header)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	static uint8_t whole4[1600];
	static uint8_t whole6[1600];
	uint8_t pkt[256];
	uint8_t want[256];
	size_t n;
	size_t wn;

	in4(whole4, IPPROTO_UDP, 992, 64); /* 1000 bytes of UDP */
	out6(whole6, IPPROTO_UDP, 992, 63);
	n = frag4(pkt, whole4, 0, 104, true, 0xfedc);
	wn = frag6(want, whole6, 0, 104, true, 0x0000fedc);
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.1: the last fragment: offset copied, M 0, no transport
 * header, payload untouched. */
Test(translate_4to6, sec4_1_non_first_fragment_payload_untouched)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	static uint8_t whole4[1600];
	static uint8_t whole6[1600];
	uint8_t pkt[256];
	uint8_t want[256];
	size_t n;
	size_t wn;

	in4(whole4, IPPROTO_UDP, 992, 64);
	out6(whole6, IPPROTO_UDP, 992, 63);
	n = frag4(pkt, whole4, 896, 104, false, 0x0102);
	wn = frag6(want, whole6, 896, 104, false, 0x0102);
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.1 (RFC 8021): no Fragment header on an unfragmented packet,
 * DF set or not, big or small. */
Test(translate_4to6, sec4_1_unfragmented_gets_no_fragment_header_whatever_df)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	static uint8_t pkt[1600];
	static uint8_t want[1600];
	size_t n = in4(pkt, IPPROTO_UDP, 1400, 64);
	size_t wn = out6(want, IPPROTO_UDP, 1400, 63);

	pkt[6] = 0; /* DF 0 */
	pg_ipv4_fix_csum(pkt);
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert_eq(b.p.data[6], IPPROTO_UDP);
}

/* PKT_HEADROOM is what a fragment needs; less is refused, untouched. */
Test(translate_4to6, sec4_1_fragment_without_28_bytes_headroom_refused)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	static uint8_t whole4[1600];
	uint8_t pkt[256];
	size_t n;

	in4(whole4, IPPROTO_UDP, 992, 64);
	n = frag4(pkt, whole4, 0, 104, true, 1);
	xh_load(&b, pkt, n, PKT_HEADROOM - 1, 100);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_NO_ROOM);
	xh_load(&b, pkt, n, PKT_HEADROOM, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	cr_assert_eq(b.p.headroom, 0);
}

/* 20 bytes of headroom suffice without a Fragment header, 19 don't. */
Test(translate_4to6, sec4_1_unfragmented_needs_20_bytes_headroom)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in4(pkt, IPPROTO_UDP, 4, 64);

	xh_load(&b, pkt, n, 19, 64);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_NO_ROOM);
}

/* RFC 7915 §4.5 / RFC 1624: TCP checksum updated incrementally; equals
 * pktgen's from-scratch checksum. */
Test(translate_4to6, sec4_5_tcp_checksum_updated_incrementally)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_TCP, 17, 64);
	size_t wn = out6(want, IPPROTO_TCP, 17, 63);

	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok6(b.p.data, b.p.len, 40, IPPROTO_TCP));
}

/* RFC 7915 §4.5: an unfragmented UDP datagram without checksum gets one
 * computed (IPv6 requires it, RFC 8200 §8.1). */
Test(translate_4to6, sec4_5_udp_zero_checksum_computed_when_unfragmented)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_UDP, 15, 64);
	size_t wn = out6(want, IPPROTO_UDP, 15, 63);

	pkt[26] = pkt[27] = 0;
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok6(b.p.data, b.p.len, 40, IPPROTO_UDP));
}

/* RFC 7915 §4.5: a fragment of a UDP datagram without checksum can't get
 * one: dropped, whatever drop_zero_csum_udp_fragments says (IPv6 would
 * drop it anyway; see translate_4to6.c). */
Test(translate_4to6, sec4_5_udp_zero_checksum_fragment_dropped)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	static uint8_t whole4[1600];
	uint8_t pkt[256];
	size_t n;

	in4(whole4, IPPROTO_UDP, 992, 64);
	whole4[26] = whole4[27] = 0;
	n = frag4(pkt, whole4, 0, 104, true, 1);
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_UDP_ZERO_CSUM_FRAG);
	c.drop_zero_csum_udp_fragments = false;
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_UDP_ZERO_CSUM_FRAG);
}

/* RFC 768: a UDP checksum that computes to 0 is sent as 0xFFFF. The
 * payload is chosen so the IPv6 checksum is exactly 0. */
Test(translate_4to6, sec4_5_udp_checksum_zero_result_sent_as_ffff)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_UDP, 2, 64);
	size_t wn = out6(want, IPPROTO_UDP, 2, 63);
	uint8_t pseudo[40] = {0};
	uint16_t w;

	/* Payload word = the checksum computed with that word 0. */
	want[46] = want[47] = want[48] = want[49] = 0;
	memcpy(pseudo, want + 8, 32);
	pseudo[35] = 10;
	pseudo[39] = IPPROTO_UDP;
	w = ref_csum(pseudo, sizeof(pseudo), want + 40, 10);
	want[48] = (uint8_t)(w >> 8);
	want[49] = (uint8_t)w;
	cr_assert_eq(ref_csum(pseudo, sizeof(pseudo), want + 40, 10), 0);
	want[46] = want[47] = 0xff;
	memcpy(pkt + 28, want + 48, 2);
	pg_fix_l4_csum4(pkt, n);
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.2: echo reply 0 -> 129, the checksum now includes the
 * IPv6 pseudo-header; Next Header 1 -> 58. */
Test(translate_4to6, sec4_2_echo_reply_becomes_type_129)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_ICMP, 24, 64);
	size_t wn = out6(want, IPPROTO_ICMP, 24, 63);

	/* ICMP queries: both ports carry the identifier (RFC 6146 §3.4). */
	a.src.port = a.dst.port = 1234;
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok6(b.p.data, b.p.len, 40, IPPROTO_ICMPV6));
}

/* RFC 7915 §4.2: echo request 8 -> 128. */
Test(translate_4to6, sec4_2_echo_request_becomes_type_128)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in4(pkt, IPPROTO_ICMP, 3, 64);
	size_t wn = out6(want, IPPROTO_ICMP, 3, 63);

	pkt[20] = 8;
	pg_fix_l4_csum4(pkt, n);
	want[40] = 128;
	pg_fix_l4_csum6(want, wn);
	/* ICMP queries: both ports carry the identifier (RFC 6146 §3.4). */
	a.src.port = a.dst.port = 1234;
	xh_load(&b, pkt, n, 20, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.2: information request/reply, timestamp, address mask,
 * router advertisement/solicitation and unknown informational types are
 * silently dropped. */
Test(translate_4to6, sec4_2_informational_other_than_echo_dropped)
{
	static const uint8_t types[] = {9, 10, 13, 14, 15, 16, 17, 18, 42, 255};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];

	for (size_t i = 0; i < sizeof(types); i++) {
		size_t n = in4(pkt, IPPROTO_ICMP, 8, 64);

		pkt[20] = types[i];
		pg_fix_l4_csum4(pkt, n);
		xh_load(&b, pkt, n, 20, 0);
		cr_assert_eq(run46(&b, &a, &c), STAT_ICMP4_TYPE_UNKNOWN, "type %u", types[i]);
	}
}

/* The ICMPv6 checksum of a first fragment would need the length of the
 * whole datagram in its pseudo-header. */
Test(translate_4to6, sec4_2_echo_first_fragment_refused)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	static uint8_t whole4[1600];
	uint8_t pkt[256];
	size_t n;

	in4(whole4, IPPROTO_ICMP, 992, 64);
	n = frag4(pkt, whole4, 0, 104, true, 1);
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_XLAT46_ICMP_FRAG);
}

/* ... while a later fragment only changes its IP header (1 -> 58). */
Test(translate_4to6, sec4_1_icmp_non_first_fragment_next_header_58)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs();
	static struct tbuf b;
	static uint8_t whole4[1600];
	static uint8_t whole6[1600];
	uint8_t pkt[256];
	uint8_t want[256];
	size_t n;
	size_t wn;

	in4(whole4, IPPROTO_ICMP, 992, 64);
	out6(whole6, IPPROTO_ICMP, 992, 63);
	n = frag4(pkt, whole4, 504, 96, true, 0x0304);
	wn = frag6(want, whole6, 504, 96, true, 0x0304);
	xh_load(&b, pkt, n, 28, 0);
	cr_assert_eq(run46(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert_eq(b.p.data[40], IPPROTO_ICMPV6);
}
