/*
 * RFC 7915 §5: IPv6 -> IPv4 translation of packets that are not ICMP
 * errors (those are in test_translate_icmp.c).
 *
 * Each test builds the IPv6 input and the IPv4 packet expected out of it
 * with pktgen, checksums computed from scratch by its reference code, and
 * compares them byte for byte. The harness (run64) also checks on every
 * call that nothing outside [data - headroom, data + len + tailroom) was
 * written, and that a refused packet and its struct pkt are unchanged.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "packet.h"
#include "pktgen.h"
#include "translate.h"
#include "xlat_harness.h"

/* Every test translates with both MTUs at 1500. */
static enum stat_id
run64(struct tbuf *b, const struct xlat_addrs4 *a, const struct xlat_config *cfg)
{
	return xh_run64(b, a, cfg, 1500, 1500);
}

/* The flow used throughout: 2001:db8::1#1234 -> 64:ff9b::192.0.2.10#80
 * becomes 198.51.100.1#6000 -> 192.0.2.10#80. */
static struct xlat_addrs4
addrs(void)
{
	struct xlat_addrs4 a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(inet_pton(AF_INET, "198.51.100.1", &a.src.addr), 1);
	cr_assert_eq(inet_pton(AF_INET, "192.0.2.10", &a.dst.addr), 1);
	a.src.port = 6000;
	a.dst.port = 80;
	a.decrement_ttl = true;
	a.ipv4_id = 0x1234;
	return a;
}

static void
fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

/* IPv6 TCP/UDP/ICMPv6 packet of the flow, transport checksum set. */
static size_t
in6(uint8_t *b, uint8_t proto, uint16_t plen, uint8_t hop_limit)
{
	size_t n = pg_ipv6(b, "2001:db8::1", "64:ff9b::c000:20a", proto, hop_limit, 0);

	if (proto == IPPROTO_UDP)
		n += pg_udp(b + n, 1234, 80, plen);
	else if (proto == IPPROTO_TCP)
		n += pg_tcp(b + n, 1234, 80, 1000, 0, PG_TCP_SYN);
	else
		n += pg_icmp(b + n, 128, 0, 1234u << 16 | 7);
	fill(b + n, plen, 3);
	n += plen;
	b[4] = (uint8_t)((n - 40) >> 8);
	b[5] = (uint8_t)(n - 40);
	pg_fix_l4_csum6(b, n);
	return n;
}

/* What in6() should become. */
static size_t
out4(uint8_t *b, uint8_t proto, uint16_t plen, uint8_t ttl, uint16_t id, uint16_t frag)
{
	size_t n = 20;

	if (proto == IPPROTO_UDP)
		n += pg_udp(b + n, 6000, 80, plen);
	else if (proto == IPPROTO_TCP)
		n += pg_tcp(b + n, 6000, 80, 1000, 0, PG_TCP_SYN);
	else
		n += pg_icmp(b + n, 8, 0, 6000u << 16 | 7);
	fill(b + n, plen, 3);
	n += plen;
	pg_ipv4(b, "198.51.100.1", "192.0.2.10", proto == IPPROTO_ICMPV6 ? 1 : proto, ttl, id, frag,
		(uint16_t)n);
	pg_fix_l4_csum4(b, n);
	return n;
}

/* Insert `elen` bytes of extension headers after the fixed header of the
 * IPv6 packet `p` (checksums don't cover them); `first` is the type of the
 * first one. Returns the new length. */
static size_t
insert_ext(uint8_t *p, size_t len, const uint8_t *ext, size_t elen, uint8_t first)
{
	memmove(p + 40 + elen, p + 40, len - 40);
	memcpy(p + 40, ext, elen);
	p[6] = first;
	len += elen;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	return len;
}

/* Fragment [off, off + n) of the transport data of the whole IPv6 packet
 * `whole`, with a Fragment header. */
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

static void
assert_out(const struct tbuf *b, const uint8_t *want, size_t want_len)
{
	pg_assert_bytes(b->p.data, b->p.len, want, want_len);
}

/* First test: bad input. RFC 7915 §5.1: hop limit 1 would expire in the
 * translator (a router); nothing may change, the caller sends Time
 * Exceeded. */
Test(translate_6to4, sec5_1_hop_limit_1_refused_and_packet_unchanged)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in6(pkt, IPPROTO_UDP, 10, 1);

	xh_load(&b, pkt, n, 28, 16);
	cr_assert_eq(run64(&b, &a, &c), STAT_XLAT64_HOP_LIMIT);
	pg_assert_bytes(b.p.data, b.p.len, pkt, n);
	pkt[7] = 0; /* 0 too */
	xh_load(&b, pkt, n, 28, 16);
	cr_assert_eq(run64(&b, &a, &c), STAT_XLAT64_HOP_LIMIT);
}

/* RFC 7915 §5.1: every field of the IPv4 header; §5.3 (RFC 1624) UDP
 * ports and checksum. */
Test(translate_6to4, sec5_1_udp_header_fields_byte_exact)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_UDP, 11, 64);
	size_t wn = out4(want, IPPROTO_UDP, 11, 63, 0x1234, 0);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_ipv4_csum_ok(b.p.data));
	cr_assert(pg_l4_csum_ok4(b.p.data, b.p.len));
	/* The header shrank in place: 20 bytes became headroom. */
	cr_assert_eq(b.p.headroom, 20);
	cr_assert_eq(b.p.tailroom, 0);
}

/* RFC 7915 §5.1: TOS "copied from the IPv6 Traffic Class", whatever the
 * flow label. */
Test(translate_6to4, sec5_1_tos_copied_from_traffic_class)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_UDP, 4, 64);
	size_t wn = out4(want, IPPROTO_UDP, 4, 63, 0x1234, 0);

	pg_ipv6_set_tc_flow(pkt, 0xb8, 0xabcde);
	want[1] = 0xb8;
	pg_ipv4_fix_csum(want);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1 allows a configured TOS instead (Jool's override-tos). */
Test(translate_6to4, sec5_1_override_tos_writes_configured_tos)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in6(pkt, IPPROTO_UDP, 4, 64);

	c.override_tos = true;
	c.tos = 0x20;
	pg_ipv6_set_tc_flow(pkt, 0xb8, 0);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	cr_assert_eq(b.p.data[1], 0x20);
	cr_assert(pg_ipv4_csum_ok(b.p.data));
}

/* RFC 7915 §5.1: TTL = Hop Limit; the decrement belongs to forwarding
 * and is the caller's choice (not done for a hairpinned second pass). */
Test(translate_6to4, sec5_1_ttl_copied_without_decrement)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in6(pkt, IPPROTO_UDP, 4, 1);

	a.decrement_ttl = false;
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	cr_assert_eq(b.p.data[8], 1);
	cr_assert(pg_ipv4_csum_ok(b.p.data));
}

/* RFC 7915 §5.1: hop limit 2 leaves as TTL 1 (only <= 1 expires). */
Test(translate_6to4, sec5_1_hop_limit_2_becomes_ttl_1)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in6(pkt, IPPROTO_UDP, 4, 2);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	cr_assert_eq(b.p.data[8], 1);
}

/* RFC 7915 §5.1: without a Fragment header DF is 0 up to 1260 bytes of
 * IPv4 packet and MF is 0. */
Test(translate_6to4, sec5_1_df_clear_at_1260_bytes)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	static uint8_t pkt[1400];
	static uint8_t want[1400];
	size_t n = in6(pkt, IPPROTO_UDP, 1260 - 28, 64);
	size_t wn = out4(want, IPPROTO_UDP, 1260 - 28, 63, 0x1234, 0);

	cr_assert_eq(wn, 1260);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1: ... and 1 above. */
Test(translate_6to4, sec5_1_df_set_above_1260_bytes)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	static uint8_t pkt[1400];
	static uint8_t want[1400];
	size_t n = in6(pkt, IPPROTO_UDP, 1261 - 28, 64);
	size_t wn = out4(want, IPPROTO_UDP, 1261 - 28, 63, 0x1234, 0x4000);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1: Identification from the translator's generator, here the
 * caller's ipv4_id. */
Test(translate_6to4, sec5_1_identification_from_caller)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	size_t n = in6(pkt, IPPROTO_UDP, 4, 64);

	a.ipv4_id = 0xbeef;
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	cr_assert_eq(b.p.data[4], 0xbe);
	cr_assert_eq(b.p.data[5], 0xef);
}

/* RFC 7915 §5.1: Hop-by-Hop, Destination Options and a Routing header
 * whose Segments Left is 0 are dropped; Total Length counts none of them. */
Test(translate_6to4, sec5_1_extension_headers_removed)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[256];
	uint8_t ext[64];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_TCP, 9, 64);
	size_t wn = out4(want, IPPROTO_TCP, 9, 63, 0x1234, 0);
	size_t e = pg_ext6(ext, 60, 1); /* HBH (16 bytes) -> DstOpt */

	e += pg_ext6(ext + e, 43, 0); /* DstOpt -> Routing */
	e += pg_routing6(ext + e, IPPROTO_TCP, 0);
	n = insert_ext(pkt, n, ext, e, 0);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert_eq(b.p.headroom, 20 + e);
}

/* RFC 7915 §5.1: a Routing header with Segments Left != 0 "MUST NOT be
 * translated" (the caller answers Parameter Problem). */
Test(translate_6to4, sec5_1_routing_header_segments_left_refused)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[256];
	uint8_t ext[8];
	size_t n = in6(pkt, IPPROTO_UDP, 8, 64);

	n = insert_ext(pkt, n, ext, pg_routing6(ext, IPPROTO_UDP, 2), 43);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_XLAT64_SEGMENTS_LEFT);
}

/* RFC 7915 §5.3 / RFC 1624: TCP checksum updated for addresses and ports;
 * the result equals pktgen's checksum computed from scratch. */
Test(translate_6to4, sec5_3_tcp_checksum_updated_incrementally)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_TCP, 13, 64);
	size_t wn = out4(want, IPPROTO_TCP, 13, 63, 0x1234, 0);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok4(b.p.data, b.p.len));
}

/* Incremental means incremental: a wrong TCP checksum stays exactly as
 * wrong (Jool: "a bad checksum in stays bad"), no payload recomputation. */
Test(translate_6to4, sec5_3_bad_tcp_checksum_stays_bad_by_same_amount)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_TCP, 13, 64);
	size_t wn = out4(want, IPPROTO_TCP, 13, 63, 0x1234, 0);

	pkt[n - 1] ^= 0x01; /* payload corrupted after the checksum was set */
	want[wn - 1] ^= 0x01;
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert_not(pg_l4_csum_ok4(b.p.data, b.p.len));
}

/* RFC 768: a UDP checksum that computes to 0 is sent as 0xFFFF. The
 * payload is chosen so the IPv4 checksum is exactly 0. */
Test(translate_6to4, sec5_3_udp_checksum_zero_result_sent_as_ffff)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_UDP, 2, 64);
	size_t wn = out4(want, IPPROTO_UDP, 2, 63, 0x1234, 0);
	uint8_t pseudo[12] = {0};
	uint16_t w;

	/* Payload word = the checksum computed with that word 0: the sum
	 * then becomes 0xFFFF and the checksum 0. */
	want[26] = want[27] = want[28] = want[29] = 0;
	memcpy(pseudo, want + 12, 8);
	pseudo[9] = IPPROTO_UDP;
	pseudo[11] = 10;
	w = ref_csum(pseudo, sizeof(pseudo), want + 20, 10);
	want[28] = (uint8_t)(w >> 8);
	want[29] = (uint8_t)w;
	cr_assert_eq(ref_csum(pseudo, sizeof(pseudo), want + 20, 10), 0);
	want[26] = want[27] = 0xff;
	memcpy(pkt + 48, want + 28, 2);
	pg_fix_l4_csum6(pkt, n);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok4(b.p.data, b.p.len));
}

/* IPv6 forbids UDP checksum 0 but IPv4 means "none" by it (RFC 768): an
 * IPv6 packet that carries 0 anyway (RFC 6935 tunnels) keeps it, rather
 * than getting a checksum adjusted from a value that was never summed. */
Test(translate_6to4, sec5_3_udp_checksum_zero_stays_zero)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_UDP, 6, 64);
	size_t wn = out4(want, IPPROTO_UDP, 6, 63, 0x1234, 0);

	pkt[46] = pkt[47] = 0;
	want[26] = want[27] = 0;
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1.1: with a Fragment header, ID = its low 16 bits, MF
 * copied, DF 0; §5.3 the first fragment's ports and checksum (which covers
 * the whole datagram) are translated. */
Test(translate_6to4, sec5_1_1_first_fragment_ports_id_mf_df0)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	static uint8_t whole6[1600];
	static uint8_t whole4[1600];
	uint8_t pkt[256];
	uint8_t want[256];
	size_t n;
	size_t wn;

	in6(whole6, IPPROTO_UDP, 1392, 64); /* 1400 bytes of UDP */
	out4(whole4, IPPROTO_UDP, 1392, 63, 0, 0);
	n = frag6(pkt, whole6, 0, 96, true, 0xabcd5678);
	wn = frag4(want, whole4, 0, 96, true, 0x5678);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1.1: a non-first fragment: offset copied, no transport
 * header to touch, the payload leaves untouched. */
Test(translate_6to4, sec5_1_1_non_first_fragment_payload_untouched)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	static uint8_t whole6[1600];
	static uint8_t whole4[1600];
	uint8_t pkt[256];
	uint8_t want[256];
	size_t n;
	size_t wn;

	in6(whole6, IPPROTO_UDP, 1392, 64);
	out4(whole4, IPPROTO_UDP, 1392, 63, 0, 0);
	n = frag6(pkt, whole6, 1392, 8, false, 0x00010002);
	/* The tail of the UDP data is the same in both. */
	wn = frag4(want, whole4, 1392, 8, false, 0x0002);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1.1: DF stays 0 on a big packet with a Fragment header (an
 * atomic fragment), since IPv4 routers may fragment it. */
Test(translate_6to4, sec5_1_1_atomic_fragment_over_1260_has_df_clear)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	static uint8_t whole6[1600];
	static uint8_t whole4[1600];
	static uint8_t pkt[1600];
	static uint8_t want[1600];
	size_t n;
	size_t wn;

	in6(whole6, IPPROTO_UDP, 1392, 64);
	out4(whole4, IPPROTO_UDP, 1392, 63, 0, 0);
	n = frag6(pkt, whole6, 0, 1400, false, 0x77);
	wn = frag4(want, whole4, 0, 1400, false, 0x77);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert_eq(b.p.data[6] & 0x40, 0);
}

/* RFC 7915 §5.2: echo request 128 -> 8, identifier mapped, checksum
 * without the pseudo-header; Protocol 58 -> 1. */
Test(translate_6to4, sec5_2_echo_request_becomes_type_8)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_ICMPV6, 20, 64);
	size_t wn = out4(want, IPPROTO_ICMPV6, 20, 63, 0x1234, 0);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok4(b.p.data, b.p.len));
}

/* RFC 7915 §5.2: echo reply 129 -> 0. */
Test(translate_6to4, sec5_2_echo_reply_becomes_type_0)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];
	uint8_t want[128];
	size_t n = in6(pkt, IPPROTO_ICMPV6, 5, 64);
	size_t wn = out4(want, IPPROTO_ICMPV6, 5, 63, 0x1234, 0);

	pkt[40] = 129;
	pg_fix_l4_csum6(pkt, n);
	want[20] = 0;
	pg_fix_l4_csum4(want, wn);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.2: MLD (130-132), Neighbor Discovery (133-137) and unknown
 * informational types are silently dropped. */
Test(translate_6to4, sec5_2_informational_other_than_echo_dropped)
{
	static const uint8_t types[] = {130, 131, 132, 133, 134, 135, 136, 137, 200, 255};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	uint8_t pkt[128];

	for (size_t i = 0; i < sizeof(types); i++) {
		size_t n = in6(pkt, IPPROTO_ICMPV6, 8, 64);

		pkt[40] = types[i];
		pg_fix_l4_csum6(pkt, n);
		xh_load(&b, pkt, n, 0, 0);
		cr_assert_eq(run64(&b, &a, &c), STAT_ICMP6_TYPE_UNKNOWN, "type %u", types[i]);
	}
}

/* The checksum of a first fragment of an echo covers a pseudo-header
 * with the whole datagram's length, which the fragment doesn't carry. */
Test(translate_6to4, sec5_2_echo_first_fragment_refused)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	static uint8_t whole6[1600];
	uint8_t pkt[256];
	size_t n;

	in6(whole6, IPPROTO_ICMPV6, 1392, 64);
	n = frag6(pkt, whole6, 0, 96, true, 9);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_XLAT64_ICMP_FRAG);
}

/* A non-first fragment of ICMPv6 only changes its IP header (58 -> 1). */
Test(translate_6to4, sec5_1_icmp_non_first_fragment_protocol_1)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	static struct tbuf b;
	static uint8_t whole6[1600];
	static uint8_t whole4[1600];
	uint8_t pkt[256];
	uint8_t want[256];
	size_t n;
	size_t wn;

	in6(whole6, IPPROTO_ICMPV6, 1392, 64);
	out4(whole4, IPPROTO_ICMPV6, 1392, 63, 0, 0);
	n = frag6(pkt, whole6, 1200, 64, true, 9);
	wn = frag4(want, whole4, 1200, 64, true, 9);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(run64(&b, &a, &c), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1 Total Length = Payload Length + 20 must fit 16 bits: a
 * 65535-byte IPv6 payload without extension headers does not. */
Test(translate_6to4, sec5_1_total_length_over_65535_refused)
{
	static uint8_t mem[65535 + 40 + 64];
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs();
	struct pkt_info info;
	struct pkt p = {mem + 32, 65535 + 40, 32, 0};
	size_t n = pg_ipv6(p.data, "2001:db8::1", "64:ff9b::c000:20a", IPPROTO_UDP, 64, 65535);

	n += pg_udp(p.data + n, 1234, 80, 65535 - 8);
	pg_fix_l4_csum6(p.data, 65535 + 40);
	cr_assert_eq(pkt_parse6(p.data, p.len, &info), STAT_OK);
	cr_assert_eq(xlat_6to4(&p, &info, &a, &c, 65535, 65535), STAT_XLAT64_TOO_BIG);
	cr_assert(p.data == mem + 32 && p.len == 65535 + 40);
	cr_assert_eq(p.data[0], 0x60);
	/* 65515 bytes fit exactly: 65515 + 20 = 65535. */
	p.data[4] = 0xff;
	p.data[5] = 0xeb;
	p.len = 40 + 65515;
	p.data[44] = 0xff;
	p.data[45] = 0xeb; /* UDP length */
	cr_assert_eq(pkt_parse6(p.data, p.len, &info), STAT_OK);
	cr_assert_eq(xlat_6to4(&p, &info, &a, &c, 65535, 65535), STAT_OK);
	cr_assert_eq(p.len, 65535);
	cr_assert_eq(p.data[2], 0xff);
	cr_assert_eq(p.data[3], 0xff);
	cr_assert_eq(p.data[6], 0x40, "DF: over 1260 bytes");
}
