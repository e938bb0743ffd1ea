/*
 * Packet parser (core/packet.c): every accepted kind with every field of
 * struct pkt_info checked, then every rejection reason with a packet that
 * triggers exactly it.
 *
 * Packets are built byte by byte with pktgen (plus the extension header
 * and option builders below) and each one is parsed from a private
 * allocation of exactly its length, so AddressSanitizer reports any read
 * past its end.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "pktgen.h"

#define SRC6 "2001:db8::1"
#define DST6 "64:ff9b::c000:221" /* 192.0.2.33 */
#define SRC4 "198.51.100.2"
#define DST4 "192.0.2.33"

enum { BUF = 2048 };

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- Parsing from an exact-size copy ---------------------------------- */

static enum stat_id
parse_exact(int family, const uint8_t *b, size_t len, struct pkt_info *info)
{
	uint8_t *copy = malloc(len);
	enum stat_id rc;

	cr_assert(copy != NULL || len == 0);
	if (len != 0)
		memcpy(copy, b, len);
	rc = family == 6 ? pkt_parse6(copy, (uint32_t)len, info)
			 : pkt_parse4(copy, (uint32_t)len, info);
	/* The parser only reads. */
	if (len != 0)
		cr_assert(memcmp(copy, b, len) == 0, "the parser wrote into the packet");
	free(copy);
	return rc;
}

/* Parse and require `want`; a refusal must leave `info` as it was. */
static void
expect(int family, const uint8_t *b, size_t len, enum stat_id want, struct pkt_info *info)
{
	struct pkt_info before;
	enum stat_id got;

	memset(info, 0xa5, sizeof(*info));
	before = *info;
	got = parse_exact(family, b, len, info);
	cr_assert_eq(got, want, "IPv%d, %zu bytes: got %s, want %s", family, len, stat_name(got),
		     stat_name(want));
	if (want != STAT_OK)
		cr_assert(memcmp(&before, info, sizeof(before)) == 0,
			  "a refused packet changed the pkt_info");
}

static void
expect_reason(int family, const uint8_t *b, size_t len, enum stat_id want)
{
	struct pkt_info info;

	expect(family, b, len, want, &info);
}

static void
refused(int family, const uint8_t *b, size_t len, enum stat_id want)
{
	cr_assert_neq(want, STAT_OK);
	expect_reason(family, b, len, want);
}

static void
accepted(int family, const uint8_t *b, size_t len, struct pkt_info *info)
{
	expect(family, b, len, STAT_OK, info);
}

#define L3_EQ(f)                                                                                   \
	cr_assert_eq(got->f, want->f, "%s." #f ": got %ld, want %ld", which, (long)got->f,         \
		     (long)want->f)

static void
assert_l3(const char *which, const struct pkt_l3 *got, const struct pkt_l3 *want)
{
	L3_EQ(family);
	L3_EQ(l4_proto);
	L3_EQ(l4_off);
	L3_EQ(l3_end);
	L3_EQ(is_fragment);
	L3_EQ(more_fragments);
	L3_EQ(dont_fragment);
	L3_EQ(frag_offset);
	L3_EQ(frag_id);
	L3_EQ(frag_hdr_off);
	L3_EQ(src_route_off);
	L3_EQ(has_ports);
	L3_EQ(sport);
	L3_EQ(dport);
	L3_EQ(tcp_flags);
	L3_EQ(has_icmp);
	L3_EQ(icmp_is_error);
	L3_EQ(icmp_type);
	L3_EQ(icmp_code);
}

#undef L3_EQ

/* Every field; the inner one only matters when has_inner. */
static void
assert_info(const struct pkt_info *got, const struct pkt_info *want)
{
	assert_l3("outer", &got->outer, &want->outer);
	cr_assert_eq(got->has_inner, want->has_inner, "has_inner");
	if (!want->has_inner)
		return;
	cr_assert_eq(got->inner_off, want->inner_off, "inner_off: got %u, want %u", got->inner_off,
		     want->inner_off);
	assert_l3("inner", &got->inner, &want->inner);
}

static void
accepted_as(int family, const uint8_t *b, size_t len, const struct pkt_info *want)
{
	struct pkt_info got;

	accepted(family, b, len, &got);
	assert_info(&got, want);
}

/* ---- Builders missing from pktgen: IPv6 extension headers, IPv4 options - */

/* Hop-by-Hop or Destination Options (RFC 8200 §4.3, §4.6) of
 * (ext_len + 1) * 8 bytes, padded with one PadN option. */
static size_t
ext6_opts(uint8_t *b, uint8_t nh, uint8_t ext_len)
{
	size_t n = ((size_t)ext_len + 1) * 8;

	memset(b, 0, n);
	b[0] = nh;
	b[1] = ext_len;
	b[2] = 1; /* PadN */
	b[3] = (uint8_t)(n - 4);
	return n;
}

/* Routing header (RFC 8200 §4.4), type 0 layout with one address: 24 bytes. */
static size_t
ext6_routing(uint8_t *b, uint8_t nh, uint8_t segments_left)
{
	memset(b, 0, 24);
	b[0] = nh;
	b[1] = 2;
	b[2] = 0;
	b[3] = segments_left;
	b[8 + 15] = 1; /* address ::1 */
	return 24;
}

/* Fragment header (RFC 8200 §4.5); offset in bytes, a multiple of 8. */
static size_t
ext6_frag(uint8_t *b, uint8_t nh, uint16_t offset, bool more, uint32_t id)
{
	b[0] = nh;
	b[1] = 0;
	put16(b + 2, (uint16_t)(offset | (more ? 1 : 0)));
	put16(b + 4, (uint16_t)(id >> 16));
	put16(b + 6, (uint16_t)id);
	return 8;
}

static void
set_plen6(uint8_t *b, size_t len)
{
	put16(b + 4, (uint16_t)(len - 40));
}

/* Set Total Length and the header checksum after building. */
static void
set_total4(uint8_t *b, size_t len)
{
	put16(b + 2, (uint16_t)len);
	pg_ipv4_fix_csum(b);
}

/* Give the IPv4 header at b `opt_len` bytes of options (a multiple of 4)
 * copied from `opt`; the caller writes what follows at b + 20 + opt_len. */
static size_t
ipv4_options(uint8_t *b, const uint8_t *opt, size_t opt_len)
{
	b[0] = (uint8_t)(0x40 | (20 + opt_len) / 4);
	memcpy(b + 20, opt, opt_len);
	pg_ipv4_fix_csum(b);
	return opt_len;
}

static const uint8_t data4[4] = {'d', 'a', 't', 'a'};

static size_t
add_data(uint8_t *b, size_t n)
{
	memcpy(b + n, data4, sizeof(data4));
	return n + sizeof(data4);
}

/* ---- Reference packets ----------------------------------------------- */

/* IPv6 / TCP SYN 1234 -> 80 / "data": 64 bytes. */
static size_t
mk6_tcp(uint8_t *b)
{
	size_t n = pg_ipv6(b, SRC6, DST6, IPPROTO_TCP, 64, 0);

	n += pg_tcp(b + n, 1234, 80, 1000, 0, PG_TCP_SYN);
	n = add_data(b, n);
	set_plen6(b, n);
	pg_fix_l4_csum6(b, n);
	return n;
}

/* IPv6 / UDP 5353 -> 53 / "data": 52 bytes. */
static size_t
mk6_udp(uint8_t *b)
{
	size_t n = pg_ipv6(b, SRC6, DST6, IPPROTO_UDP, 64, 0);

	n += pg_udp(b + n, 5353, 53, 4);
	n = add_data(b, n);
	set_plen6(b, n);
	pg_fix_l4_csum6(b, n);
	return n;
}

/* IPv6 / ICMPv6 `type` id 0x4321 seq 7 / "data": 52 bytes. */
static size_t
mk6_icmp(uint8_t *b, uint8_t type)
{
	size_t n = pg_ipv6(b, SRC6, DST6, IPPROTO_ICMPV6, 64, 0);

	n += pg_icmp(b + n, type, 0, 0x43210007);
	n = add_data(b, n);
	set_plen6(b, n);
	pg_fix_l4_csum6(b, n);
	return n;
}

/* IPv6 / HBH / DstOpt / Routing(SL) / Fragment(offset, M, id 0xdeadbeef) / `proto`
 * header at 88 (built by the caller; returns 88). */
static size_t
mk6_chain(uint8_t *b, uint8_t segments_left, uint16_t offset, bool more, uint8_t proto)
{
	size_t n = pg_ipv6(b, SRC6, DST6, IPPROTO_HOPOPTS, 64, 0);

	n += ext6_opts(b + n, IPPROTO_DSTOPTS, 0);
	n += ext6_opts(b + n, IPPROTO_ROUTING, 0);
	n += ext6_routing(b + n, IPPROTO_FRAGMENT, segments_left);
	n += ext6_frag(b + n, proto, offset, more, 0xdeadbeef);
	return n;
}

/* IPv4 / TCP ACK 40000 -> 443, DF, ID 0x1234 / "data": 44 bytes. */
static size_t
mk4_tcp(uint8_t *b)
{
	size_t n = pg_ipv4(b, SRC4, DST4, IPPROTO_TCP, 64, 0x1234, 0x4000, 0);

	n += pg_tcp(b + n, 40000, 443, 1, 2, PG_TCP_ACK);
	n = add_data(b, n);
	set_total4(b, n);
	pg_fix_l4_csum4(b, n);
	return n;
}

/* IPv4 / UDP 5353 -> 53, ID 0x1234 / "data": 32 bytes. */
static size_t
mk4_udp(uint8_t *b)
{
	size_t n = pg_ipv4(b, SRC4, DST4, IPPROTO_UDP, 64, 0x1234, 0, 0);

	n += pg_udp(b + n, 5353, 53, 4);
	n = add_data(b, n);
	set_total4(b, n);
	pg_fix_l4_csum4(b, n);
	return n;
}

/* IPv4 / ICMP `type` id 0x4321 seq 7 / "data": 32 bytes. */
static size_t
mk4_icmp(uint8_t *b, uint8_t type)
{
	size_t n = pg_ipv4(b, SRC4, DST4, IPPROTO_ICMP, 64, 0x1234, 0, 0);

	n += pg_icmp(b + n, type, 0, 0x43210007);
	n = add_data(b, n);
	set_total4(b, n);
	pg_fix_l4_csum4(b, n);
	return n;
}

/* IPv6 ICMPv6 error `type`/`code` quoting `q` (n bytes): 48 + n bytes. */
static size_t
mk6_err(uint8_t *b, uint8_t type, uint8_t code, const uint8_t *q, size_t qlen)
{
	size_t n = pg_ipv6(b, "2001:db8::ff", DST6, IPPROTO_ICMPV6, 64, 0);

	n += pg_icmp(b + n, type, code, type == 2 ? 1280 : 0);
	memcpy(b + n, q, qlen);
	n += qlen;
	set_plen6(b, n);
	pg_fix_l4_csum6(b, n);
	return n;
}

/* IPv4 ICMP error `type`/`code` quoting `q`: 28 + n bytes. */
static size_t
mk4_err(uint8_t *b, uint8_t type, uint8_t code, const uint8_t *q, size_t qlen)
{
	size_t n = pg_ipv4(b, "203.0.113.1", SRC4, IPPROTO_ICMP, 64, 0x5555, 0, 0);

	n += pg_icmp(b + n, type, code, 0);
	memcpy(b + n, q, qlen);
	n += qlen;
	set_total4(b, n);
	pg_fix_l4_csum4(b, n);
	return n;
}

/* ---- First: bad input changes nothing --------------------------------- */

Test(packet, bad_input_is_refused_and_changes_nothing)
{
	const uint8_t garbage[64] = {0x00, 0xff, 0x13};
	uint8_t p[BUF];
	size_t n = mk6_tcp(p);

	/* expect() checks the pkt_info is untouched and the bytes unchanged. */
	refused(6, garbage, 0, STAT_HDR6_TRUNCATED);
	refused(4, garbage, 0, STAT_HDR4_TRUNCATED);
	refused(6, garbage, sizeof(garbage), STAT_HDR6_VERSION);
	refused(4, garbage, sizeof(garbage), STAT_HDR4_VERSION);
	/* Each family's parser refuses the other family. */
	refused(4, p, n, STAT_HDR4_VERSION);
	n = mk4_tcp(p);
	refused(6, p, n, STAT_HDR6_VERSION);
}

Test(packet, icmp_error_predicates_follow_rfc792_and_rfc4443)
{
	for (unsigned t = 0; t < 256; t++) {
		bool e4 = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
		bool e6 = t >= 1 && t <= 4;

		cr_assert_eq(pkt_icmp4_is_error((uint8_t)t), e4, "ICMPv4 type %u", t);
		cr_assert_eq(pkt_icmp6_is_error((uint8_t)t), e6, "ICMPv6 type %u", t);
	}
}

/* ---- IPv6 accepted ---------------------------------------------------- */

/* RFC 8200 §3, RFC 9293 §3.1 */
Test(packet, rfc8200_ipv6_tcp_every_field)
{
	uint8_t p[BUF];
	size_t n = mk6_tcp(p);
	struct pkt_info want = {
		.outer = {.family = 6,
			  .l4_proto = IPPROTO_TCP,
			  .l4_off = 40,
			  .l3_end = 64,
			  .has_ports = true,
			  .sport = 1234,
			  .dport = 80,
			  .tcp_flags = PG_TCP_SYN},
	};

	cr_assert_eq(n, 64);
	accepted_as(6, p, n, &want);
}

/* RFC 8200 §3: Payload Length says where the packet ends; bytes received
 * beyond it (link padding) are not part of it. */
Test(packet, rfc8200_sec3_bytes_past_payload_length_ignored)
{
	uint8_t p[BUF];
	size_t n = mk6_udp(p);
	struct pkt_info want = {
		.outer = {.family = 6,
			  .l4_proto = IPPROTO_UDP,
			  .l4_off = 40,
			  .l3_end = 52,
			  .has_ports = true,
			  .sport = 5353,
			  .dport = 53},
	};

	memset(p + n, 0xee, 6);
	accepted_as(6, p, n + 6, &want);
}

/* RFC 768 over RFC 8200 */
Test(packet, rfc768_ipv6_udp_every_field)
{
	uint8_t p[BUF];
	size_t n = mk6_udp(p);
	struct pkt_info want = {
		.outer = {.family = 6,
			  .l4_proto = IPPROTO_UDP,
			  .l4_off = 40,
			  .l3_end = 52,
			  .has_ports = true,
			  .sport = 5353,
			  .dport = 53},
	};

	accepted_as(6, p, n, &want);
}

/* RFC 4443 §4.1, §4.2; RFC 6146 §3.4: the identifier is both "ports". */
Test(packet, rfc4443_echo_request_and_reply_identifier_as_ports)
{
	uint8_t p[BUF];
	const uint8_t types[] = {128, 129};

	for (size_t i = 0; i < sizeof(types); i++) {
		size_t n = mk6_icmp(p, types[i]);
		struct pkt_info want = {
			.outer = {.family = 6,
				  .l4_proto = IPPROTO_ICMPV6,
				  .l4_off = 40,
				  .l3_end = 52,
				  .has_ports = true,
				  .sport = 0x4321,
				  .dport = 0x4321,
				  .has_icmp = true,
				  .icmp_type = types[i]},
		};

		accepted_as(6, p, n, &want);
	}
}

/* Informational ICMPv6 other than echo (here Neighbor Solicitation) is
 * parsed but has no identifier: the translator decides its fate. */
Test(packet, rfc4443_informational_other_than_echo_has_no_ports)
{
	uint8_t p[BUF];
	size_t n = mk6_icmp(p, 135);
	struct pkt_info want = {
		.outer = {.family = 6,
			  .l4_proto = IPPROTO_ICMPV6,
			  .l4_off = 40,
			  .l3_end = 52,
			  .has_icmp = true,
			  .icmp_type = 135},
	};

	accepted_as(6, p, n, &want);
}

/* RFC 8200 §4.1: HBH, DstOpt, Routing (Segments Left 0), Fragment (atomic,
 * RFC 6946) are walked through; the UDP header follows at 88. */
Test(packet, rfc8200_sec4_full_chain_hbh_dst_routing_frag_udp)
{
	uint8_t p[BUF];
	size_t n = mk6_chain(p, 0, 0, false, IPPROTO_UDP);
	struct pkt_info want = {
		.outer = {.family = 6,
			  .l4_proto = IPPROTO_UDP,
			  .l4_off = 88,
			  .l3_end = 100,
			  .is_fragment = true,
			  .frag_id = 0xdeadbeef,
			  .frag_hdr_off = 80,
			  .has_ports = true,
			  .sport = 7,
			  .dport = 9},
	};

	cr_assert_eq(n, 88);
	n += pg_udp(p + n, 7, 9, 4);
	n = add_data(p, n);
	set_plen6(p, n);
	accepted_as(6, p, n, &want);
}

/* PKT_MAX_EXT_HEADERS (8) headers are still accepted. */
Test(packet, rfc8200_chain_of_eight_headers_accepted)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_DSTOPTS, 64, 0);

	for (int i = 0; i < PKT_MAX_EXT_HEADERS; i++)
		n += ext6_opts(p + n, i == PKT_MAX_EXT_HEADERS - 1 ? IPPROTO_UDP : IPPROTO_DSTOPTS,
			       1);
	n += pg_udp(p + n, 1, 2, 0);
	set_plen6(p, n);

	struct pkt_info want = {
		.outer = {.family = 6,
			  .l4_proto = IPPROTO_UDP,
			  .l4_off = 40 + 8 * 16,
			  .l3_end = (uint32_t)n,
			  .has_ports = true,
			  .sport = 1,
			  .dport = 2},
	};
	accepted_as(6, p, n, &want);
}

/* RFC 8200 §4.4, RFC 7915 §5.1: Segments Left != 0 is accepted by the
 * parser and its offset recorded for the translator's Parameter Problem. */
Test(packet, rfc8200_sec4_4_routing_segments_left_offset_recorded)
{
	uint8_t p[BUF];
	size_t n;
	struct pkt_info info;

	/* Routing right after the fixed header: Segments Left at 43. */
	n = pg_ipv6(p, SRC6, DST6, IPPROTO_ROUTING, 64, 0);
	n += ext6_routing(p + n, IPPROTO_TCP, 1);
	n += pg_tcp(p + n, 1, 2, 0, 0, PG_TCP_SYN);
	set_plen6(p, n);
	accepted(6, p, n, &info);
	cr_assert_eq(info.outer.src_route_off, 43);
	cr_assert_eq(info.outer.l4_off, 64);

	/* Behind HBH, DstOpt: 40 + 8 + 8 + 3. */
	n = mk6_chain(p, 3, 0, false, IPPROTO_TCP);
	n += pg_tcp(p + n, 1, 2, 0, 0, PG_TCP_SYN);
	set_plen6(p, n);
	accepted(6, p, n, &info);
	cr_assert_eq(info.outer.src_route_off, 59);
	cr_assert_eq(p[59], 3);

	/* Segments Left 0: nothing recorded. */
	p[59] = 0;
	accepted(6, p, n, &info);
	cr_assert_eq(info.outer.src_route_off, 0);
}

/* RFC 8200 §4.5: first, middle and last fragment of a UDP datagram of
 * 8 + 40 bytes; only the first carries the ports. */
Test(packet, rfc8200_sec4_5_fragments_first_middle_last)
{
	uint8_t p[BUF];
	struct {
		uint16_t offset;
		bool more;
		uint16_t bytes;
	} frags[] = {{0, true, 24}, {24, true, 16}, {40, false, 8}};

	for (size_t i = 0; i < 3; i++) {
		size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);

		n += ext6_frag(p + n, IPPROTO_UDP, frags[i].offset, frags[i].more, 77);
		memset(p + n, 0x11, frags[i].bytes);
		if (i == 0)
			pg_udp(p + n, 4000, 53, 40);
		n += frags[i].bytes;
		set_plen6(p, n);

		struct pkt_info want = {
			.outer = {.family = 6,
				  .l4_proto = IPPROTO_UDP,
				  .l4_off = 48,
				  .l3_end = (uint32_t)n,
				  .is_fragment = true,
				  .more_fragments = frags[i].more,
				  .frag_offset = frags[i].offset,
				  .frag_id = 77,
				  .frag_hdr_off = 40,
				  .has_ports = i == 0,
				  .sport = i == 0 ? 4000 : 0,
				  .dport = i == 0 ? 53 : 0},
		};
		accepted_as(6, p, n, &want);
	}
}

/* A non-first fragment's bytes are not a transport header: even a
 * "TCP header" of 8 bytes is accepted without being read. */
Test(packet, rfc8200_non_first_fragment_transport_not_parsed)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);
	struct pkt_info info;

	n += ext6_frag(p + n, IPPROTO_TCP, 1024, false, 1);
	memset(p + n, 0, 8);
	n += 8;
	set_plen6(p, n);
	accepted(6, p, n, &info);
	cr_assert_not(info.outer.has_ports);
	cr_assert_not(info.outer.has_icmp);
	cr_assert_eq(info.outer.frag_offset, 1024);
}

/* ---- IPv4 accepted ---------------------------------------------------- */

/* RFC 791 §3.1, RFC 9293 §3.1 */
Test(packet, rfc791_ipv4_tcp_every_field)
{
	uint8_t p[BUF];
	size_t n = mk4_tcp(p);
	struct pkt_info want = {
		.outer = {.family = 4,
			  .l4_proto = IPPROTO_TCP,
			  .l4_off = 20,
			  .l3_end = 44,
			  .dont_fragment = true,
			  .frag_id = 0x1234,
			  .has_ports = true,
			  .sport = 40000,
			  .dport = 443,
			  .tcp_flags = PG_TCP_ACK},
	};

	accepted_as(4, p, n, &want);
}

/* RFC 791 §3.1: Total Length says where the packet ends. */
Test(packet, rfc791_ipv4_udp_every_field_padding_ignored)
{
	uint8_t p[BUF];
	size_t n = mk4_udp(p);
	struct pkt_info want = {
		.outer = {.family = 4,
			  .l4_proto = IPPROTO_UDP,
			  .l4_off = 20,
			  .l3_end = 32,
			  .frag_id = 0x1234,
			  .has_ports = true,
			  .sport = 5353,
			  .dport = 53},
	};

	accepted_as(4, p, n, &want);
	memset(p + n, 0xee, 14);
	accepted_as(4, p, n + 14, &want);
}

/* RFC 792 echo (8) and echo reply (0): identifier as ports. */
Test(packet, rfc792_echo_request_and_reply_identifier_as_ports)
{
	uint8_t p[BUF];
	const uint8_t types[] = {8, 0};

	for (size_t i = 0; i < sizeof(types); i++) {
		size_t n = mk4_icmp(p, types[i]);
		struct pkt_info want = {
			.outer = {.family = 4,
				  .l4_proto = IPPROTO_ICMP,
				  .l4_off = 20,
				  .l3_end = 32,
				  .frag_id = 0x1234,
				  .has_ports = true,
				  .sport = 0x4321,
				  .dport = 0x4321,
				  .has_icmp = true,
				  .icmp_type = types[i]},
		};

		accepted_as(4, p, n, &want);
	}
}

/* RFC 791 §3.1: NOP, NOP, Record Route (7, length 7, pointer 4), EOL; the
 * transport header starts after IHL * 4 = 32 bytes. */
Test(packet, rfc791_options_nop_record_route_eol)
{
	const uint8_t opt[12] = {1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0};
	uint8_t p[BUF];
	size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 9, 0, 0);
	struct pkt_info want = {
		.outer = {.family = 4,
			  .l4_proto = IPPROTO_UDP,
			  .l4_off = 32,
			  .l3_end = 44,
			  .frag_id = 9,
			  .has_ports = true,
			  .sport = 1,
			  .dport = 2},
	};

	n += ipv4_options(p, opt, sizeof(opt));
	n += pg_udp(p + n, 1, 2, 4);
	n = add_data(p, n);
	set_total4(p, n);
	accepted_as(4, p, n, &want);
}

/* RFC 791 §3.1: End of Option List ends the walk; what follows it is
 * padding, not options (0xff 0x00 would be a malformed option). */
Test(packet, rfc791_eol_ends_options_whatever_follows)
{
	const uint8_t opt[4] = {1, 0, 0xff, 0x00};
	uint8_t p[BUF];
	size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 9, 0, 0);
	struct pkt_info info;

	n += ipv4_options(p, opt, sizeof(opt));
	n += pg_udp(p + n, 1, 2, 0);
	set_total4(p, n);
	accepted(4, p, n, &info);
	cr_assert_eq(info.outer.l4_off, 24);
}

/* RFC 791 §3.1 LSRR / SSRR; RFC 7915 §4.1: an unexpired source route is
 * recorded (offset of the option) for the translator to refuse. */
Test(packet, rfc791_lsrr_unexpired_recorded_expired_not)
{
	/* NOP, LSRR length 11 (two addresses), pointer, NOP-free tail. */
	uint8_t opt[12] = {1, 131, 11, 4, 192, 0, 2, 1, 192, 0, 2, 2};
	const struct {
		uint8_t type;
		uint8_t pointer;
		uint16_t want_off;
	} cases[] = {
		{131, 4, 21},  /* LSRR, first address next */
		{131, 8, 21},  /* LSRR, second address next */
		{131, 11, 21}, /* LSRR, pointer == length: not passed yet */
		{131, 12, 0},  /* LSRR, pointer past length 11: expired */
		{137, 4, 21},  /* SSRR unexpired */
		{137, 12, 0},  /* SSRR expired */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t p[BUF];
		size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 9, 0, 0);
		struct pkt_info info;

		opt[1] = cases[i].type;
		opt[3] = cases[i].pointer;
		n += ipv4_options(p, opt, sizeof(opt));
		n += pg_udp(p + n, 1, 2, 0);
		set_total4(p, n);
		accepted(4, p, n, &info);
		cr_assert_eq(info.outer.src_route_off, cases[i].want_off, "case %zu: got %u", i,
			     info.outer.src_route_off);
		cr_assert_eq(info.outer.l4_off, 32);
	}
}

/* RFC 791 §3.2: first (MF, offset 0), middle, last fragment; only the
 * first has ports. */
Test(packet, rfc791_fragments_first_middle_last)
{
	const struct {
		uint16_t frag;
		uint16_t bytes;
		bool more;
		uint16_t offset;
	} frags[] = {{0x2000, 24, true, 0}, {0x2003, 16, true, 24}, {0x0005, 8, false, 40}};

	for (size_t i = 0; i < 3; i++) {
		uint8_t p[BUF];
		size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 0xabcd, frags[i].frag, 0);

		memset(p + n, 0x11, frags[i].bytes);
		if (i == 0)
			pg_udp(p + n, 4000, 53, 40);
		n += frags[i].bytes;
		set_total4(p, n);

		struct pkt_info want = {
			.outer = {.family = 4,
				  .l4_proto = IPPROTO_UDP,
				  .l4_off = 20,
				  .l3_end = (uint32_t)n,
				  .is_fragment = true,
				  .more_fragments = frags[i].more,
				  .frag_offset = frags[i].offset,
				  .frag_id = 0xabcd,
				  .has_ports = i == 0,
				  .sport = i == 0 ? 4000 : 0,
				  .dport = i == 0 ? 53 : 0},
		};
		accepted_as(4, p, n, &want);
	}
}

Test(packet, rfc791_non_first_fragment_transport_not_parsed)
{
	uint8_t p[BUF];
	size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_TCP, 64, 1, 0x0080, 0);
	struct pkt_info info;

	memset(p + n, 0, 8); /* would be TCP_TRUNCATED if read */
	n += 8;
	set_total4(p, n);
	accepted(4, p, n, &info);
	cr_assert_not(info.outer.has_ports);
	cr_assert_eq(info.outer.frag_offset, 1024);
	cr_assert(info.outer.is_fragment);
}

/* ---- ICMP errors accepted --------------------------------------------- */

enum quote_kind { Q_TCP, Q_UDP, Q_ECHO };

/* The packet the NAT64 sent (4 -> 6 direction): 64:ff9b:: source. Its
 * Payload Length claims 1000 bytes: the quote is cut and that is fine. */
static size_t
quote6(uint8_t *b, enum quote_kind k)
{
	const uint8_t proto[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6};
	size_t n = pg_ipv6(b, DST6, SRC6, proto[k], 63, 1000);

	if (k == Q_TCP)
		n += pg_tcp(b + n, 80, 1234, 5, 6, PG_TCP_ACK);
	else if (k == Q_UDP)
		n += pg_udp(b + n, 53, 5353, 992);
	else
		n += pg_icmp(b + n, 129, 0, 0x43210007);
	return n;
}

static size_t
quote4(uint8_t *b, enum quote_kind k)
{
	const uint8_t proto[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
	size_t n = pg_ipv4(b, SRC4, DST4, proto[k], 63, 0x2222, 0x4000, 1000);

	if (k == Q_TCP)
		n += pg_tcp(b + n, 40000, 443, 5, 6, PG_TCP_SYN);
	else if (k == Q_UDP)
		n += pg_udp(b + n, 5353, 53, 972);
	else
		n += pg_icmp(b + n, 8, 0, 0x43210007);
	return n;
}

static struct pkt_l3
quote_want(uint8_t family, enum quote_kind k, uint32_t qlen)
{
	struct pkt_l3 w = {.family = family, .l3_end = qlen, .has_ports = true};

	w.l4_off = family == 6 ? 40 : 20;
	if (family == 4) {
		w.dont_fragment = true;
		w.frag_id = 0x2222;
	}
	if (k == Q_TCP) {
		w.l4_proto = IPPROTO_TCP;
		w.sport = family == 6 ? 80 : 40000;
		w.dport = family == 6 ? 1234 : 443;
	} else if (k == Q_UDP) {
		w.l4_proto = IPPROTO_UDP;
		w.sport = family == 6 ? 53 : 5353;
		w.dport = family == 6 ? 5353 : 53;
	} else {
		w.l4_proto = family == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		w.sport = w.dport = 0x4321;
		w.has_icmp = true;
		w.icmp_type = family == 6 ? 129 : 8;
	}
	return w;
}

/* RFC 4443 §3.1-3.4; RFC 7915 §5.2: every ICMPv6 error type quoting TCP,
 * UDP and echo. */
Test(packet, rfc4443_each_error_type_quoting_tcp_udp_echo)
{
	const uint8_t types[] = {1, 2, 3, 4};

	for (size_t t = 0; t < sizeof(types); t++) {
		for (int k = Q_TCP; k <= Q_ECHO; k++) {
			uint8_t q[BUF], p[BUF];
			size_t qlen = quote6(q, (enum quote_kind)k);
			size_t n = mk6_err(p, types[t], 1, q, qlen);
			struct pkt_info want = {
				.outer = {.family = 6,
					  .l4_proto = IPPROTO_ICMPV6,
					  .l4_off = 40,
					  .l3_end = (uint32_t)n,
					  .has_icmp = true,
					  .icmp_is_error = true,
					  .icmp_type = types[t],
					  .icmp_code = 1},
				.has_inner = true,
				.inner_off = 48,
				.inner = quote_want(6, (enum quote_kind)k, (uint32_t)qlen),
			};

			accepted_as(6, p, n, &want);
		}
	}
}

/* RFC 792; RFC 7915 §4.2: every ICMPv4 error type quoting TCP, UDP, echo. */
Test(packet, rfc792_each_error_type_quoting_tcp_udp_echo)
{
	const uint8_t types[] = {3, 4, 5, 11, 12};

	for (size_t t = 0; t < sizeof(types); t++) {
		for (int k = Q_TCP; k <= Q_ECHO; k++) {
			uint8_t q[BUF], p[BUF];
			size_t qlen = quote4(q, (enum quote_kind)k);
			size_t n = mk4_err(p, types[t], 1, q, qlen);
			struct pkt_info want = {
				.outer = {.family = 4,
					  .l4_proto = IPPROTO_ICMP,
					  .l4_off = 20,
					  .l3_end = (uint32_t)n,
					  .frag_id = 0x5555,
					  .has_icmp = true,
					  .icmp_is_error = true,
					  .icmp_type = types[t],
					  .icmp_code = 1},
				.has_inner = true,
				.inner_off = 28,
				.inner = quote_want(4, (enum quote_kind)k, (uint32_t)qlen),
			};

			accepted_as(4, p, n, &want);
		}
	}
}

/* RFC 792: the quote is "Internet Header + 64 bits of Original Data". Cut
 * right after the ports (4 bytes) it is still enough. */
Test(packet, rfc792_quote_cut_right_after_the_ports)
{
	for (int k = Q_TCP; k <= Q_UDP; k++) {
		uint8_t q[BUF], p[BUF];
		struct pkt_info want4 = {
			.outer = {.family = 4,
				  .l4_proto = IPPROTO_ICMP,
				  .l4_off = 20,
				  .l3_end = 52,
				  .frag_id = 0x5555,
				  .has_icmp = true,
				  .icmp_is_error = true,
				  .icmp_type = 3,
				  .icmp_code = 3},
			.has_inner = true,
			.inner_off = 28,
			.inner = quote_want(4, (enum quote_kind)k, 24),
		};
		struct pkt_info want6 = {
			.outer = {.family = 6,
				  .l4_proto = IPPROTO_ICMPV6,
				  .l4_off = 40,
				  .l3_end = 92,
				  .has_icmp = true,
				  .icmp_is_error = true,
				  .icmp_type = 1,
				  .icmp_code = 4},
			.has_inner = true,
			.inner_off = 48,
			.inner = quote_want(6, (enum quote_kind)k, 44),
		};
		size_t n;

		quote4(q, (enum quote_kind)k);
		n = mk4_err(p, 3, 3, q, 24);
		accepted_as(4, p, n, &want4);
		quote6(q, (enum quote_kind)k);
		n = mk6_err(p, 1, 4, q, 44);
		accepted_as(6, p, n, &want6);
	}
}

/* The quote's extension headers are walked as the outer ones: here the
 * quoted packet is a first fragment, which still has its ports. */
Test(packet, rfc8200_quote_with_fragment_header_walked)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = pg_ipv6(q, DST6, SRC6, IPPROTO_FRAGMENT, 63, 1000);
	size_t n;
	struct pkt_info info;

	qlen += ext6_frag(q + qlen, IPPROTO_UDP, 0, true, 0x01020304);
	qlen += pg_udp(q + qlen, 53, 5353, 2000);
	n = mk6_err(p, 2, 0, q, qlen);
	accepted(6, p, n, &info);

	struct pkt_l3 want = {.family = 6,
			      .l4_proto = IPPROTO_UDP,
			      .l4_off = 48,
			      .l3_end = 56,
			      .is_fragment = true,
			      .more_fragments = true,
			      .frag_id = 0x01020304,
			      .frag_hdr_off = 40,
			      .has_ports = true,
			      .sport = 53,
			      .dport = 5353};
	assert_l3("inner", &info.inner, &want);
	cr_assert_eq(info.inner_off, 48);
}

/* An IPv6 atomic fragment (RFC 6946) holds a whole ICMP error. */
Test(packet, rfc6946_atomic_fragment_icmp_error_accepted)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = quote6(q, Q_UDP);
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);
	struct pkt_info info;

	n += ext6_frag(p + n, IPPROTO_ICMPV6, 0, false, 5);
	n += pg_icmp(p + n, 1, 0, 0);
	memcpy(p + n, q, qlen);
	n += qlen;
	set_plen6(p, n);
	accepted(6, p, n, &info);
	cr_assert(info.has_inner);
	cr_assert_eq(info.inner_off, 56);
	cr_assert_eq(info.inner.sport, 53);
}

/* ---- IPv6 refused ----------------------------------------------------- */

Test(packet, rfc8200_sec3_fixed_header_refusals)
{
	uint8_t p[BUF];
	size_t n = mk6_udp(p);

	refused(6, p, 39, STAT_HDR6_TRUNCATED);
	p[0] = 0x40;
	refused(6, p, n, STAT_HDR6_VERSION);
	p[0] = 0x60;
	/* Payload Length one more than received. */
	put16(p + 4, (uint16_t)(n - 40 + 1));
	refused(6, p, n, STAT_HDR6_PAYLOAD_LEN);
	/* RFC 2675: 0 announces a jumbogram. */
	put16(p + 4, 0);
	refused(6, p, n, STAT_HDR6_PAYLOAD_LEN);
}

/* AH, ESP, No Next Header, Mobility, SCTP: not translatable by a NAT64. */
Test(packet, rfc8200_untranslatable_next_headers)
{
	const uint8_t nh[] = {51, 50, 59, 135, 132, 253};

	for (size_t i = 0; i < sizeof(nh); i++) {
		uint8_t p[BUF];
		size_t n = mk6_chain(p, 0, 0, false, nh[i]);

		memset(p + n, 0, 16);
		n += 16;
		set_plen6(p, n);
		refused(6, p, n, STAT_HDR6_EXT_UNKNOWN);
		/* Right after the fixed header too. */
		p[6] = nh[i];
		refused(6, p, n, STAT_HDR6_EXT_UNKNOWN);
	}
}

Test(packet, rfc8200_icmpv4_inside_ipv6_is_unknown_l4)
{
	uint8_t p[BUF];
	size_t n = mk6_icmp(p, 128);

	p[6] = IPPROTO_ICMP;
	refused(6, p, n, STAT_L4_PROTO_UNKNOWN);
}

/* RFC 8200 §4.3: Hop-by-Hop only right after the IPv6 header. */
Test(packet, rfc8200_sec4_3_hop_by_hop_not_first)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_DSTOPTS, 64, 0);

	n += ext6_opts(p + n, IPPROTO_HOPOPTS, 0);
	n += ext6_opts(p + n, IPPROTO_UDP, 0);
	n += pg_udp(p + n, 1, 2, 0);
	set_plen6(p, n);
	refused(6, p, n, STAT_HDR6_HOP_BY_HOP_NOT_FIRST);
}

/* Nine Destination Options headers: longer than PKT_MAX_EXT_HEADERS. */
Test(packet, rfc8200_nine_dstopts_chain_too_long)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_DSTOPTS, 64, 0);

	for (int i = 0; i < 9; i++)
		n += ext6_opts(p + n, i == 8 ? IPPROTO_UDP : IPPROTO_DSTOPTS, 0);
	n += pg_udp(p + n, 1, 2, 0);
	set_plen6(p, n);
	refused(6, p, n, STAT_HDR6_EXT_CHAIN_TOO_LONG);
}

Test(packet, rfc8200_two_fragment_headers)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);

	n += ext6_frag(p + n, IPPROTO_FRAGMENT, 0, false, 1);
	n += ext6_frag(p + n, IPPROTO_UDP, 0, false, 2);
	n += pg_udp(p + n, 1, 2, 0);
	set_plen6(p, n);
	refused(6, p, n, STAT_HDR6_DOUBLE_FRAG);
}

/* As Jool: nothing but the transport header after the Fragment header. */
Test(packet, rfc8200_extension_header_after_fragment)
{
	const uint8_t after[] = {IPPROTO_DSTOPTS, IPPROTO_ROUTING};

	for (size_t i = 0; i < sizeof(after); i++) {
		uint8_t p[BUF];
		size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);

		n += ext6_frag(p + n, after[i], 0, false, 1);
		n += ext6_opts(p + n, IPPROTO_UDP, 2);
		n += pg_udp(p + n, 1, 2, 0);
		set_plen6(p, n);
		refused(6, p, n, STAT_HDR6_FRAG_THEN_EXT);
		/* In a non-first fragment the bytes after are data, but the
		 * Next Header still names an extension header. */
		put16(p + 42, 64);
		refused(6, p, n, STAT_HDR6_FRAG_THEN_EXT);
	}
}

Test(packet, rfc8200_extension_header_runs_past_payload)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_HOPOPTS, 64, 0);

	n += ext6_opts(p + n, IPPROTO_UDP, 1); /* 16 bytes */
	n += pg_udp(p + n, 1, 2, 0);
	set_plen6(p, n);
	/* Hdr Ext Len 4 claims 40 bytes; only 24 follow the fixed header. */
	p[41] = 4;
	refused(6, p, n, STAT_HDR6_EXT_TRUNCATED);
	/* The bytes are there but past Payload Length. */
	p[41] = 1;
	put16(p + 4, 12);
	refused(6, p, n, STAT_HDR6_EXT_TRUNCATED);
}

/* RFC 8200 §4.5: non-last fragments are multiples of 8 bytes. */
Test(packet, rfc8200_sec4_5_non_last_fragment_not_multiple_of_8)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);

	n += ext6_frag(p + n, IPPROTO_UDP, 0, true, 1);
	n += pg_udp(p + n, 1, 2, 100);
	n = add_data(p, n); /* 12 bytes */
	set_plen6(p, n);
	refused(6, p, n, STAT_HDR6_FRAG_LEN);
	/* The same 12 bytes are fine in a last (here non-first) fragment. */
	put16(p + 42, 8);
	accepted(6, p, n, &(struct pkt_info){0});
}

/* RFC 8200 §4.5: offset + fragment length > 65535. */
Test(packet, rfc8200_sec4_5_fragment_past_65535)
{
	uint8_t p[BUF];
	size_t n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);

	n += ext6_frag(p + n, IPPROTO_UDP, 65520, false, 1);
	memset(p + n, 0, 16);
	n += 16;
	set_plen6(p, n);
	refused(6, p, n, STAT_HDR6_FRAG_OVERFLOW);
	/* 65520 + 8 + 7 = 65535 still fits (boundary). */
	n -= 1;
	set_plen6(p, n);
	accepted(6, p, n, &(struct pkt_info){0});
}

/* ---- IPv4 refused ----------------------------------------------------- */

Test(packet, rfc791_fixed_header_refusals)
{
	uint8_t p[BUF];
	size_t n = mk4_udp(p);

	refused(4, p, 19, STAT_HDR4_TRUNCATED);
	/* IHL 4 (checksum fixed over the 16 bytes it then covers). */
	p[0] = 0x44;
	pg_ipv4_fix_csum(p);
	refused(4, p, n, STAT_HDR4_IHL);
	/* IHL 15: 60 bytes, more than the 32 received. */
	p[0] = 0x4f;
	refused(4, p, n, STAT_HDR4_IHL);
	n = mk4_udp(p);
	put16(p + 2, (uint16_t)(n + 1));
	pg_ipv4_fix_csum(p);
	refused(4, p, n, STAT_HDR4_TOTAL_LEN);
	put16(p + 2, 19);
	pg_ipv4_fix_csum(p);
	refused(4, p, n, STAT_HDR4_TOTAL_LEN);
}

/* RFC 791 §3.1: the header checksum must verify. */
Test(packet, rfc791_bad_header_checksum)
{
	uint8_t p[BUF];
	size_t n = mk4_udp(p);

	p[11] ^= 0x01;
	refused(4, p, n, STAT_HDR4_CHECKSUM);
	p[11] ^= 0x01;
	p[8] = 3; /* TTL changed without fixing the checksum */
	refused(4, p, n, STAT_HDR4_CHECKSUM);
}

/* RFC 791 §3.1: option lengths count type and length bytes and stay
 * inside the header; a source route has a pointer of at least 4. */
Test(packet, rfc791_malformed_options)
{
	const uint8_t bad[][4] = {
		{1, 1, 1, 7},   /* last option has no room for its length byte */
		{7, 0, 0, 0},   /* length 0 */
		{7, 1, 0, 0},   /* length 1 */
		{1, 7, 4, 4},   /* length 4 runs past IHL */
		{131, 2, 0, 0}, /* LSRR too short for its pointer */
		{137, 3, 3, 0}, /* SSRR pointer 3 */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t p[BUF];
		size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 9, 0, 0);

		n += ipv4_options(p, bad[i], 4);
		n += pg_udp(p + n, 1, 2, 0);
		set_total4(p, n);
		cr_log_info("option case %zu", i);
		refused(4, p, n, STAT_HDR4_OPTIONS);
	}
}

Test(packet, rfc791_icmpv6_and_gre_inside_ipv4_unknown_l4)
{
	uint8_t p[BUF];
	size_t n = mk4_icmp(p, 8);

	p[9] = IPPROTO_ICMPV6;
	pg_ipv4_fix_csum(p);
	refused(4, p, n, STAT_L4_PROTO_UNKNOWN);
	p[9] = 47;
	pg_ipv4_fix_csum(p);
	refused(4, p, n, STAT_L4_PROTO_UNKNOWN);
}

/* RFC 791 §3.2: Fragment Offset * 8 + payload must stay within 65535. */
Test(packet, rfc791_fragment_past_65535)
{
	uint8_t p[BUF];
	size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 1, 0x1fff, 0);

	memset(p + n, 0, 8);
	n += 8; /* 65528 + 8 = 65536 */
	set_total4(p, n);
	refused(4, p, n, STAT_HDR4_FRAG_OVERFLOW);
	n -= 1; /* 65535: the boundary fits */
	set_total4(p, n);
	accepted(4, p, n, &(struct pkt_info){0});
}

Test(packet, rfc791_non_last_fragment_not_multiple_of_8)
{
	uint8_t p[BUF];
	size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 1, 0x2000, 0);

	n += pg_udp(p + n, 1, 2, 100);
	n = add_data(p, n); /* 12 bytes */
	set_total4(p, n);
	refused(4, p, n, STAT_HDR4_FRAG_LEN);
}

/* ---- Transport refused ------------------------------------------------ */

/* RFC 9293 §3.1: 20 bytes, Data Offset >= 5 and inside the packet. */
Test(packet, rfc9293_tcp_truncated_and_bad_data_offset)
{
	uint8_t p[BUF];
	size_t n = mk4_tcp(p);

	set_total4(p, 39); /* 19 bytes of TCP */
	refused(4, p, 39, STAT_TCP_TRUNCATED);
	n = mk4_tcp(p);
	p[32] = 4 << 4;
	refused(4, p, n, STAT_TCP_DOFF);
	p[32] = 7 << 4; /* 28 bytes; 24 present */
	refused(4, p, n, STAT_TCP_DOFF);
	p[32] = 6 << 4; /* 24 bytes: exactly present */
	accepted(4, p, n, &(struct pkt_info){0});

	n = mk6_tcp(p);
	p[52] = 0;
	refused(6, p, n, STAT_TCP_DOFF);
	set_plen6(p, 59);
	refused(6, p, 59, STAT_TCP_TRUNCATED);
}

/* RFC 768: Length >= 8 and equal to the IP payload in a whole datagram. */
Test(packet, rfc768_udp_length_must_match_payload)
{
	const uint16_t bad[] = {7, 0, 13, 11, 9};
	uint8_t p[BUF];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = mk4_udp(p); /* payload 12 */
		put16(p + 24, bad[i]);
		refused(4, p, n, STAT_UDP_LEN);
		n = mk6_udp(p);
		put16(p + 44, bad[i]);
		refused(6, p, n, STAT_UDP_LEN);
	}
	n = mk4_udp(p);
	set_total4(p, 27);
	refused(4, p, 27, STAT_UDP_TRUNCATED);
}

/* In a first fragment the datagram is longer than the fragment, but its
 * Length can't be below 8 or below what the fragment already holds. */
Test(packet, rfc768_udp_length_in_first_fragment)
{
	uint8_t p[BUF];
	size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_UDP, 64, 1, 0x2000, 0);

	n += pg_udp(p + n, 1, 2, 1000);
	memset(p + n, 0, 8);
	n += 8;
	set_total4(p, n);
	accepted(4, p, n, &(struct pkt_info){0});
	put16(p + 24, 4);
	refused(4, p, n, STAT_UDP_LEN);
	put16(p + 24, 15); /* fragment holds 16 */
	refused(4, p, n, STAT_UDP_LEN);
}

Test(packet, rfc792_rfc4443_icmp_header_truncated)
{
	uint8_t p[BUF];

	mk4_icmp(p, 8);
	set_total4(p, 27);
	refused(4, p, 27, STAT_ICMP_TRUNCATED);
	mk6_icmp(p, 128);
	set_plen6(p, 47);
	refused(6, p, 47, STAT_ICMP_TRUNCATED);
}

/* ---- ICMP errors refused ---------------------------------------------- */

/* RFC 7915 §4.2 / §5.2 need the whole quote: a fragmented ICMP error is
 * refused (Jool 46_FRAGMENTED_ICMP, 64_FRAGMENTED_ICMP). */
Test(packet, icmp_error_that_is_a_fragment)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = add_data(q, quote4(q, Q_UDP));
	size_t n = mk4_err(p, 3, 1, q, qlen); /* 40 bytes of payload */

	p[6] = 0x20; /* MF */
	pg_ipv4_fix_csum(p);
	refused(4, p, n, STAT_ICMP_FRAGMENTED);

	qlen = quote6(q, Q_UDP);
	n = pg_ipv6(p, SRC6, DST6, IPPROTO_FRAGMENT, 64, 0);
	n += ext6_frag(p + n, IPPROTO_ICMPV6, 0, true, 5);
	n += pg_icmp(p + n, 3, 0, 0);
	memcpy(p + n, q, qlen);
	n += qlen; /* 8 + 48 bytes after the Fragment header */
	set_plen6(p, n);
	refused(6, p, n, STAT_ICMP_FRAGMENTED);
}

Test(packet, icmp_error_quoting_other_family)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = quote4(q, Q_TCP);
	size_t n = mk6_err(p, 1, 0, q, qlen);

	refused(6, p, n, STAT_INNER_FAMILY);
	qlen = quote6(q, Q_TCP);
	n = mk4_err(p, 3, 1, q, qlen);
	refused(4, p, n, STAT_INNER_FAMILY);
}

Test(packet, icmp_error_quote_header_cut_short)
{
	uint8_t q[BUF], p[BUF];
	size_t n;

	quote4(q, Q_TCP);
	n = mk4_err(p, 11, 0, q, 19);
	refused(4, p, n, STAT_INNER_TRUNCATED);
	n = mk4_err(p, 11, 0, q, 0);
	refused(4, p, n, STAT_INNER_TRUNCATED);
	q[0] = 0x46; /* IHL 6: 24 bytes, 22 present */
	n = mk4_err(p, 11, 0, q, 22);
	refused(4, p, n, STAT_INNER_TRUNCATED);

	quote6(q, Q_TCP);
	n = mk6_err(p, 3, 0, q, 39);
	refused(6, p, n, STAT_INNER_TRUNCATED);
	n = mk6_err(p, 3, 0, q, 0);
	refused(6, p, n, STAT_INNER_TRUNCATED);
}

/* The quoted extension header chain cut short is a truncated quote. */
Test(packet, icmp_error_quote_extension_chain_cut_short)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = pg_ipv6(q, DST6, SRC6, IPPROTO_HOPOPTS, 63, 1000);
	size_t n;

	qlen += ext6_opts(q + qlen, IPPROTO_UDP, 1);
	qlen += pg_udp(q + qlen, 1, 2, 0);
	for (size_t cut = 40; cut < 56; cut++) {
		n = mk6_err(p, 1, 0, q, cut);
		refused(6, p, n, STAT_INNER_TRUNCATED);
	}
	n = mk6_err(p, 1, 0, q, qlen);
	accepted(6, p, n, &(struct pkt_info){0});
}

Test(packet, icmp_error_quote_malformed)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = quote4(q, Q_UDP);
	size_t n;

	q[0] = 0x44; /* IHL 4 */
	n = mk4_err(p, 3, 1, q, qlen);
	refused(4, p, n, STAT_INNER_MALFORMED);
	q[0] = 0x55; /* version 5 */
	n = mk4_err(p, 3, 1, q, qlen);
	refused(4, p, n, STAT_INNER_MALFORMED);

	/* Two Fragment headers in the quote. */
	qlen = pg_ipv6(q, DST6, SRC6, IPPROTO_FRAGMENT, 63, 1000);
	qlen += ext6_frag(q + qlen, IPPROTO_FRAGMENT, 0, false, 1);
	qlen += ext6_frag(q + qlen, IPPROTO_UDP, 0, false, 1);
	qlen += pg_udp(q + qlen, 1, 2, 0);
	n = mk6_err(p, 1, 0, q, qlen);
	refused(6, p, n, STAT_INNER_MALFORMED);
}

Test(packet, icmp_error_quoting_untranslatable_protocol)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = quote4(q, Q_UDP);
	size_t n;

	q[9] = 47; /* GRE; the quote's checksum is not verified */
	n = mk4_err(p, 3, 1, q, qlen);
	refused(4, p, n, STAT_INNER_PROTO_UNKNOWN);
	q[9] = IPPROTO_ICMPV6;
	n = mk4_err(p, 3, 1, q, qlen);
	refused(4, p, n, STAT_INNER_PROTO_UNKNOWN);

	qlen = quote6(q, Q_UDP);
	q[6] = 50; /* ESP */
	n = mk6_err(p, 1, 0, q, qlen);
	refused(6, p, n, STAT_INNER_PROTO_UNKNOWN);
	q[6] = IPPROTO_ICMP;
	n = mk6_err(p, 1, 0, q, qlen);
	refused(6, p, n, STAT_INNER_PROTO_UNKNOWN);
}

/* RFC 4443 §2.4(e), RFC 1122 §3.2.2: no error about an error. */
Test(packet, icmp_error_inside_icmp_error)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = quote4(q, Q_ECHO);
	size_t n;

	q[20] = 11;
	n = mk4_err(p, 3, 1, q, qlen);
	refused(4, p, n, STAT_INNER_ICMP_ERROR);
	/* Only the type byte of the inner ICMP is needed to know. */
	n = mk4_err(p, 3, 1, q, 21);
	refused(4, p, n, STAT_INNER_ICMP_ERROR);

	qlen = quote6(q, Q_ECHO);
	q[40] = 2;
	n = mk6_err(p, 1, 0, q, qlen);
	refused(6, p, n, STAT_INNER_ICMP_ERROR);
}

Test(packet, icmp_error_quote_without_ports)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen;
	size_t n;

	/* Cut before the ports are complete. */
	quote4(q, Q_UDP);
	n = mk4_err(p, 3, 3, q, 23);
	refused(4, p, n, STAT_INNER_NO_PORTS);
	n = mk4_err(p, 3, 3, q, 20);
	refused(4, p, n, STAT_INNER_NO_PORTS);
	quote6(q, Q_TCP);
	n = mk6_err(p, 1, 4, q, 43);
	refused(6, p, n, STAT_INNER_NO_PORTS);
	/* An echo needs its 8 bytes. */
	quote4(q, Q_ECHO);
	n = mk4_err(p, 3, 3, q, 27);
	refused(4, p, n, STAT_INNER_NO_PORTS);
	/* A query other than echo (timestamp) has nothing the NAT64 maps. */
	q[20] = 13;
	n = mk4_err(p, 3, 3, q, 28);
	refused(4, p, n, STAT_INNER_NO_PORTS);

	/* A non-first fragment quoted. */
	qlen = quote4(q, Q_UDP);
	q[6] = 0x00;
	q[7] = 0x10;
	n = mk4_err(p, 3, 3, q, qlen);
	refused(4, p, n, STAT_INNER_NO_PORTS);
	qlen = pg_ipv6(q, DST6, SRC6, IPPROTO_FRAGMENT, 63, 1000);
	qlen += ext6_frag(q + qlen, IPPROTO_UDP, 8, false, 1);
	qlen += pg_udp(q + qlen, 1, 2, 0);
	n = mk6_err(p, 1, 0, q, qlen);
	refused(6, p, n, STAT_INNER_NO_PORTS);
}

/* ---- Every truncation ------------------------------------------------- */

/* A reason for each range of lengths: lengths below upto[i] give why[i]. */
struct cut_rule {
	size_t upto;
	enum stat_id why;
};

static enum stat_id
cut_expect(const struct cut_rule *rules, size_t len)
{
	for (; rules->upto != 0; rules++)
		if (len < rules->upto)
			return rules->why;
	return STAT_OK;
}

/* Raw cuts: the length fields still describe the whole packet. */
static void
cut_raw(int family, const uint8_t *p, size_t n, size_t ihl)
{
	for (size_t len = 0; len <= n; len++) {
		enum stat_id want;

		if (family == 6)
			want = len < 40 ? STAT_HDR6_TRUNCATED : STAT_HDR6_PAYLOAD_LEN;
		else
			want = len < 20    ? STAT_HDR4_TRUNCATED
			       : len < ihl ? STAT_HDR4_IHL
					   : STAT_HDR4_TOTAL_LEN;
		if (len == n)
			want = STAT_OK;
		expect_reason(family, p, len, want);
	}
}

/* Consistent cuts: the length field is set to the cut, so the parser
 * gets past the IP header and meets the cut in the next one. */
static void
cut_fixed(int family, const uint8_t *p, size_t n, const struct cut_rule *rules)
{
	uint8_t c[BUF];

	for (size_t len = 0; len <= n; len++) {
		memcpy(c, p, n);
		if (family == 6 && len >= 40)
			set_plen6(c, len);
		else if (family == 4)
			set_total4(c, len);
		expect_reason(family, c, len, cut_expect(rules, len));
	}
}

Test(packet, every_truncation_ipv6_chain_tcp)
{
	uint8_t p[BUF];
	size_t n = mk6_chain(p, 0, 0, false, IPPROTO_TCP);
	const struct cut_rule rules[] = {
		{40, STAT_HDR6_TRUNCATED},
		{41, STAT_HDR6_PAYLOAD_LEN},
		{88, STAT_HDR6_EXT_TRUNCATED},
		{108, STAT_TCP_TRUNCATED},
		{0, STAT_OK},
	};

	n += pg_tcp(p + n, 1, 2, 3, 4, PG_TCP_SYN);
	n = add_data(p, n);
	set_plen6(p, n);
	cut_raw(6, p, n, 0);
	cut_fixed(6, p, n, rules);
}

Test(packet, every_truncation_ipv6_udp_and_echo)
{
	uint8_t p[BUF];
	size_t n = mk6_udp(p);
	const struct cut_rule udp[] = {
		{40, STAT_HDR6_TRUNCATED},
		{41, STAT_HDR6_PAYLOAD_LEN},
		{48, STAT_UDP_TRUNCATED},
		{52, STAT_UDP_LEN},
		{0, STAT_OK},
	};
	const struct cut_rule echo[] = {
		{40, STAT_HDR6_TRUNCATED},
		{41, STAT_HDR6_PAYLOAD_LEN},
		{48, STAT_ICMP_TRUNCATED},
		{0, STAT_OK},
	};

	cut_raw(6, p, n, 0);
	cut_fixed(6, p, n, udp);
	n = mk6_icmp(p, 128);
	cut_raw(6, p, n, 0);
	cut_fixed(6, p, n, echo);
}

/* Outer IPv6 / ICMPv6 / quoted IPv6 / Fragment / UDP / 4 bytes. */
Test(packet, every_truncation_ipv6_icmp_error)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = pg_ipv6(q, DST6, SRC6, IPPROTO_FRAGMENT, 63, 1000);
	size_t n;
	const struct cut_rule rules[] = {
		{40, STAT_HDR6_TRUNCATED},  {41, STAT_HDR6_PAYLOAD_LEN}, {48, STAT_ICMP_TRUNCATED},
		{96, STAT_INNER_TRUNCATED}, {100, STAT_INNER_NO_PORTS},  {0, STAT_OK},
	};

	qlen += ext6_frag(q + qlen, IPPROTO_UDP, 0, true, 1);
	qlen += pg_udp(q + qlen, 1, 2, 100);
	qlen = add_data(q, qlen);
	n = mk6_err(p, 1, 0, q, qlen);
	cut_raw(6, p, n, 0);
	cut_fixed(6, p, n, rules);
}

Test(packet, every_truncation_ipv4_options_tcp)
{
	const uint8_t opt[8] = {1, 7, 7, 4, 0, 0, 0, 0};
	uint8_t p[BUF];
	size_t n = pg_ipv4(p, SRC4, DST4, IPPROTO_TCP, 64, 9, 0, 0);
	const struct cut_rule rules[] = {
		{20, STAT_HDR4_TRUNCATED},
		{28, STAT_HDR4_IHL},
		{48, STAT_TCP_TRUNCATED},
		{0, STAT_OK},
	};

	n += ipv4_options(p, opt, sizeof(opt));
	n += pg_tcp(p + n, 1, 2, 3, 4, PG_TCP_SYN);
	n = add_data(p, n);
	set_total4(p, n);
	cut_raw(4, p, n, 28);
	cut_fixed(4, p, n, rules);
}

Test(packet, every_truncation_ipv4_udp_and_echo)
{
	uint8_t p[BUF];
	size_t n = mk4_udp(p);
	const struct cut_rule udp[] = {
		{20, STAT_HDR4_TRUNCATED},
		{28, STAT_UDP_TRUNCATED},
		{32, STAT_UDP_LEN},
		{0, STAT_OK},
	};
	const struct cut_rule echo[] = {
		{20, STAT_HDR4_TRUNCATED},
		{28, STAT_ICMP_TRUNCATED},
		{0, STAT_OK},
	};

	cut_raw(4, p, n, 20);
	cut_fixed(4, p, n, udp);
	n = mk4_icmp(p, 8);
	cut_raw(4, p, n, 20);
	cut_fixed(4, p, n, echo);
}

/* Outer IPv4 / ICMP / quoted IPv4 / TCP (20) / 4 bytes. */
Test(packet, every_truncation_ipv4_icmp_error)
{
	uint8_t q[BUF], p[BUF];
	size_t qlen = quote4(q, Q_TCP);
	size_t n;
	const struct cut_rule rules[] = {
		{20, STAT_HDR4_TRUNCATED},
		{28, STAT_ICMP_TRUNCATED},
		{48, STAT_INNER_TRUNCATED},
		{52, STAT_INNER_NO_PORTS},
		{0, STAT_OK},
	};

	qlen = add_data(q, qlen);
	n = mk4_err(p, 3, 3, q, qlen);
	cut_raw(4, p, n, 20);
	cut_fixed(4, p, n, rules);
}
