/*
 * RFC 7915 §4.2-4.3 and §5.2-5.3: ICMP errors, both directions, through
 * the public xlat_6to4 / xlat_4to6 (plus the pointer maps of
 * translate_icmp.h, checked exhaustively).
 *
 * Scenario. 2001:db8::1#1234 talks to 192.0.2.10#80 through the NAT64 as
 * 198.51.100.1#6000 (pool6 64:ff9b::/96).
 *   6->4: an IPv6 node reports a problem with a packet the server sent
 *         (64:ff9b::c000:20a#80 -> 2001:db8::1#1234); the error goes to
 *         the server as 198.51.100.1 -> 192.0.2.10, quoting
 *         192.0.2.10#80 -> 198.51.100.1#6000.
 *   4->6: router 203.0.113.1 reports a problem with a packet of the client
 *         (198.51.100.1#6000 -> 192.0.2.10#80); the error goes to the
 *         client as 64:ff9b::cb00:7101 -> 2001:db8::1, quoting
 *         2001:db8::1#1234 -> 64:ff9b::c000:20a#80.
 * Expected packets are built with pktgen: the quoted packet's translation
 * is built whole with from-scratch checksums, then quoted.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "packet.h"
#include "pktgen.h"
#include "translate.h"
#include "translate_icmp.h"
#include "xlat_harness.h"

enum { QTTL = 60 };

static void
set4(struct taddr4 *t, const char *addr, uint16_t port)
{
	cr_assert_eq(inet_pton(AF_INET, addr, &t->addr), 1);
	t->port = port;
}

static void
set6(struct taddr6 *t, const char *addr, uint16_t port)
{
	cr_assert_eq(inet_pton(AF_INET6, addr, &t->addr), 1);
	t->port = port;
}

static struct xlat_addrs4
addrs4(void)
{
	struct xlat_addrs4 a;

	memset(&a, 0, sizeof(a));
	set4(&a.src, "198.51.100.1", 0);
	set4(&a.dst, "192.0.2.10", 0);
	set4(&a.inner_src, "192.0.2.10", 80);
	set4(&a.inner_dst, "198.51.100.1", 6000);
	a.decrement_ttl = true;
	a.ipv4_id = 0x1234;
	return a;
}

static struct xlat_addrs6
addrs6(void)
{
	struct xlat_addrs6 a;

	memset(&a, 0, sizeof(a));
	set6(&a.src, "64:ff9b::cb00:7101", 0);
	set6(&a.dst, "2001:db8::1", 0);
	set6(&a.inner_src, "2001:db8::1", 1234);
	set6(&a.inner_dst, "64:ff9b::c000:20a", 80);
	a.decrement_ttl = true;
	return a;
}

static void
fill(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(0x11 + i * 3);
}

/* Transport header; ICMP: echo of `icmp_type`, identifier sport. */
static size_t
l4hdr(uint8_t *b, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t icmp_type, uint16_t plen)
{
	if (proto == IPPROTO_UDP)
		return pg_udp(b, sport, dport, plen);
	if (proto == IPPROTO_TCP)
		return pg_tcp(b, sport, dport, 5, 6, PG_TCP_ACK);
	return pg_icmp(b, icmp_type, 0, (uint32_t)sport << 16 | 9);
}

static void
set_len6(uint8_t *b, size_t n)
{
	b[4] = (uint8_t)((n - 40) >> 8);
	b[5] = (uint8_t)(n - 40);
}

/* The packet quoted by a 6->4 error (whole): IPv6 server -> client. */
static size_t
q6(uint8_t *b, uint8_t proto, uint16_t plen)
{
	size_t n = pg_ipv6(b, "64:ff9b::c000:20a", "2001:db8::1", proto, QTTL, 0);

	n += l4hdr(b + n, proto, proto == IPPROTO_ICMPV6 ? 1234 : 80, 1234, 129, plen);
	fill(b + n, plen);
	n += plen;
	set_len6(b, n);
	pg_fix_l4_csum6(b, n);
	return n;
}

/* Its IPv4 form: ID 0 (lost), DF over 1260 bytes, TTL not decremented. */
static size_t
q6as4(uint8_t *b, uint8_t proto, uint16_t plen)
{
	uint8_t p4 = proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : proto;
	size_t n = 20 + l4hdr(b + 20, p4, p4 == IPPROTO_ICMP ? 6000 : 80, 6000, 0, plen);

	fill(b + n, plen);
	n += plen;
	pg_ipv4(b, "192.0.2.10", "198.51.100.1", p4, QTTL, 0, n > 1260 ? 0x4000 : 0, (uint16_t)n);
	pg_fix_l4_csum4(b, n);
	return n;
}

/* The packet quoted by a 4->6 error (whole): IPv4 client side -> server. */
static size_t
q4(uint8_t *b, uint8_t proto, uint16_t plen)
{
	size_t n = 20 + l4hdr(b + 20, proto, 6000, 80, 8, plen);

	fill(b + n, plen);
	n += plen;
	pg_ipv4(b, "198.51.100.1", "192.0.2.10", proto, QTTL, 0x4321, 0x4000, (uint16_t)n);
	pg_fix_l4_csum4(b, n);
	return n;
}

static size_t
q4as6(uint8_t *b, uint8_t proto, uint16_t plen)
{
	uint8_t p6 = proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
	size_t n = pg_ipv6(b, "2001:db8::1", "64:ff9b::c000:20a", p6, QTTL, 0);

	n += l4hdr(b + n, p6, 1234, 80, 128, plen);
	fill(b + n, plen);
	n += plen;
	set_len6(b, n);
	pg_fix_l4_csum6(b, n);
	return n;
}

/* ICMPv6 error from 2001:db8::fe to the server's IPv6 address. */
static size_t
err6(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *q, size_t qlen)
{
	pg_ipv6(b, "2001:db8::fe", "64:ff9b::c000:20a", IPPROTO_ICMPV6, 64, (uint16_t)(8 + qlen));
	pg_icmp(b + 40, type, code, rest);
	memcpy(b + 48, q, qlen);
	pg_fix_l4_csum6(b, 48 + qlen);
	return 48 + qlen;
}

/* The ICMPv4 error expected from err6(). */
static size_t
want4(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *q, size_t qlen)
{
	pg_ipv4(b, "198.51.100.1", "192.0.2.10", IPPROTO_ICMP, 63, 0x1234, 0,
		(uint16_t)(28 + qlen));
	pg_icmp(b + 20, type, code, rest);
	memcpy(b + 28, q, qlen);
	pg_fix_l4_csum4(b, 28 + qlen);
	return 28 + qlen;
}

/* ICMPv4 error from router 203.0.113.1 to the client's pool4 address. */
static size_t
err4(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *q, size_t qlen)
{
	pg_ipv4(b, "203.0.113.1", "198.51.100.1", IPPROTO_ICMP, 64, 0x9999, 0,
		(uint16_t)(28 + qlen));
	pg_icmp(b + 20, type, code, rest);
	memcpy(b + 28, q, qlen);
	pg_fix_l4_csum4(b, 28 + qlen);
	return 28 + qlen;
}

/* The ICMPv6 error expected from err4(). */
static size_t
want6(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *q, size_t qlen)
{
	pg_ipv6(b, "64:ff9b::cb00:7101", "2001:db8::1", IPPROTO_ICMPV6, 63, (uint16_t)(8 + qlen));
	pg_icmp(b + 40, type, code, rest);
	memcpy(b + 48, q, qlen);
	pg_fix_l4_csum6(b, 48 + qlen);
	return 48 + qlen;
}

static void
assert_out(const struct tbuf *b, const uint8_t *want, size_t want_len)
{
	pg_assert_bytes(b->p.data, b->p.len, want, want_len);
}

/* First test: bad input. The incoming ICMPv6 error checksum is verified
 * (as Jool) before anything else, since the result's is computed from
 * scratch and would hide the damage. */
Test(translate_icmp, sec5_2_bad_icmpv6_error_checksum_refused_unchanged)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128];
	uint8_t pkt[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);
	size_t n = err6(pkt, 1, 4, 0, q, qn);

	pkt[n - 1] ^= 0x80;
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_ICMP6_CHECKSUM);
	pg_assert_bytes(b.p.data, b.p.len, pkt, n);
}

Test(translate_icmp, sec4_2_bad_icmpv4_error_checksum_refused_unchanged)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128];
	uint8_t pkt[256];
	size_t qn = q4(q, IPPROTO_UDP, 12);
	size_t n = err4(pkt, 3, 3, 0, q, qn);

	pkt[22] ^= 0x01;
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_ICMP4_CHECKSUM);
	pg_assert_bytes(b.p.data, b.p.len, pkt, n);
}

struct row {
	uint8_t in_type, in_code;
	uint32_t in_rest;
	uint8_t out_type, out_code;
	uint32_t out_rest;
};

/* RFC 7915 §5.2, every translated row of the ICMPv6 error table (Jool's
 * choices, JOOL-REFERENCE §6); byte-exact, quote included. MTUs 1500. */
Test(translate_icmp, sec5_2_icmpv6_error_table)
{
	static const struct row rows[] = {
		{1, 0, 0, 3, 1, 0},  {1, 1, 0, 3, 10, 0}, {1, 2, 0, 3, 1, 0},
		{1, 3, 0, 3, 1, 0},  {1, 4, 0, 3, 3, 0},  {2, 0, 1500, 3, 4, 1480},
		{3, 0, 0, 11, 0, 0}, {3, 1, 0, 11, 1, 0}, {4, 0, 6, 12, 0, 9u << 24},
		{4, 1, 0, 3, 2, 0},
	};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], q4[128], pkt[256], want[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);
	size_t q4n = q6as4(q4, IPPROTO_UDP, 12);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		size_t n = err6(pkt, r->in_type, r->in_code, r->in_rest, q, qn);
		size_t wn = want4(want, r->out_type, r->out_code, r->out_rest, q4, q4n);

		xh_load(&b, pkt, n, 0, 0);
		cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK, "row %zu", i);
		assert_out(&b, want, wn);
	}
}

/* RFC 7915 §5.2: the other error types and codes are silently dropped. */
Test(translate_icmp, sec5_2_icmpv6_untranslatable_errors_dropped)
{
	static const uint8_t rows[][2] = {{1, 5}, {1, 6}, {1, 7}, {1, 200}, {4, 2}, {4, 3}};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = err6(pkt, rows[i][0], rows[i][1], 0, q, qn);

		xh_load(&b, pkt, n, 0, 0);
		cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_ICMP6_TYPE_UNKNOWN, "%u/%u",
			     rows[i][0], rows[i][1]);
	}
}

/* RFC 7915 §4.2, every translated row of the ICMPv4 error table. */
Test(translate_icmp, sec4_2_icmpv4_error_table)
{
	static const struct row rows[] = {
		{3, 0, 0, 1, 0, 0},         {3, 1, 0, 1, 0, 0},       {3, 2, 0, 4, 1, 6},
		{3, 3, 0, 1, 4, 0},         {3, 4, 1400, 2, 0, 1420}, {3, 5, 0, 1, 0, 0},
		{3, 6, 0, 1, 0, 0},         {3, 7, 0, 1, 0, 0},       {3, 8, 0, 1, 0, 0},
		{3, 9, 0, 1, 1, 0},         {3, 10, 0, 1, 1, 0},      {3, 11, 0, 1, 0, 0},
		{3, 12, 0, 1, 0, 0},        {3, 13, 0, 1, 1, 0},      {3, 15, 0, 1, 1, 0},
		{11, 0, 0, 3, 0, 0},        {11, 1, 0, 3, 1, 0},      {12, 0, 8u << 24, 4, 0, 7},
		{12, 2, 9u << 24, 4, 0, 6},
	};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], q6b[128], pkt[256], want[256];
	size_t qn = q4(q, IPPROTO_UDP, 12);
	size_t q6n = q4as6(q6b, IPPROTO_UDP, 12);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		size_t n = err4(pkt, r->in_type, r->in_code, r->in_rest, q, qn);
		size_t wn = want6(want, r->out_type, r->out_code, r->out_rest, q6b, q6n);

		xh_load(&b, pkt, n, 28, 64);
		cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK, "row %zu", i);
		assert_out(&b, want, wn);
	}
}

/* RFC 7915 §4.2: 3/14, unknown codes, Source Quench (4), Redirect (5),
 * Parameter Problem 1 (missing option) and unknown codes are dropped. */
Test(translate_icmp, sec4_2_icmpv4_untranslatable_errors_dropped)
{
	static const uint8_t rows[][2] = {{3, 14}, {3, 16}, {3, 255}, {4, 0},
					  {5, 0},  {5, 1},  {12, 1},  {12, 3}};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q4(q, IPPROTO_UDP, 12);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = err4(pkt, rows[i][0], rows[i][1], 0, q, qn);

		xh_load(&b, pkt, n, 28, 64);
		cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_ICMP4_TYPE_UNKNOWN, "%u/%u",
			     rows[i][0], rows[i][1]);
	}
}

/* Translate a PTB carrying `ptb` and return the Fragmentation Needed MTU. */
static uint16_t
ptb_to_fn(uint32_t ptb, uint32_t mtu4, uint32_t mtu6_in)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);
	size_t n = err6(pkt, 2, 0, ptb, q, qn);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, mtu4, mtu6_in), STAT_OK);
	cr_assert(pg_l4_csum_ok4(b.p.data, b.p.len));
	cr_assert_eq(b.p.data[20], 3);
	cr_assert_eq(b.p.data[21], 4);
	return (uint16_t)(b.p.data[26] << 8 | b.p.data[27]);
}

/* RFC 7915 §5.2: MTU = min(PTB - 20, MTU of the IPv4 next hop, MTU of the
 * IPv6 link - 20), each term winning once. */
Test(translate_icmp, sec5_2_ptb_mtu_is_min_of_three_terms)
{
	cr_assert_eq(ptb_to_fn(1400, 1500, 1500), 1380);
	cr_assert_eq(ptb_to_fn(1500, 1300, 9000), 1300);
	cr_assert_eq(ptb_to_fn(9000, 9000, 1350), 1330);
}

/* A PTB above 65535 (the ICMPv6 field has 32 bits) is clamped to the
 * 16-bit ICMPv4 field; see mtu.h. */
Test(translate_icmp, sec5_2_ptb_mtu_clamped_to_16_bits)
{
	cr_assert_eq(ptb_to_fn(100000, 200000, 200000), 65535);
}

/* RFC 7915 §5.2: "taking into account whether or not the packet in error
 * includes a Fragment Header": 28 bytes then, not 20. The quoted packet's
 * Fragment header also gives the inner IPv4 ID and MF (§5.1.1). */
Test(translate_icmp, sec5_2_ptb_quoting_fragment_subtracts_28)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t whole[256], whole4[256], q[256], q4[256], pkt[512], want[512];
	size_t qn = 48 + 64;
	size_t q4n = 20 + 64;
	size_t n;
	size_t wn;

	q6(whole, IPPROTO_UDP, 100);
	q6as4(whole4, IPPROTO_UDP, 100);
	/* First fragment (64 of 108 transport bytes) of the quoted packet. */
	memcpy(q, whole, 40);
	q[6] = 44;
	pg_frag6(q + 40, IPPROTO_UDP, 0, true, 0xaaaa0bcd);
	memcpy(q + 48, whole + 40, 64);
	set_len6(q, qn);
	memcpy(q4, whole4, q4n);
	q4[2] = 0;
	q4[3] = (uint8_t)q4n;
	q4[4] = 0x0b;
	q4[5] = 0xcd;
	q4[6] = 0x20; /* MF, DF 0 */
	pg_ipv4_fix_csum(q4);
	n = err6(pkt, 2, 0, 1500, q, qn);
	wn = want4(want, 3, 4, 1472, q4, q4n);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 9000, 9000), STAT_OK);
	assert_out(&b, want, wn);
}

/* Translate a Fragmentation Needed of MTU `fn` quoting a packet whose
 * Total Length is `total`; return the Packet Too Big MTU. */
static uint32_t
fn_to_ptb(uint16_t fn, uint16_t total, uint32_t mtu6, uint32_t mtu4_in)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t n;

	q4(q, IPPROTO_UDP, 12);
	/* The router quotes header + 8 bytes of a longer packet. */
	q[2] = (uint8_t)(total >> 8);
	q[3] = (uint8_t)total;
	pg_ipv4_fix_csum(q);
	n = err4(pkt, 3, 4, fn, q, 28);
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, mtu6, mtu4_in), STAT_OK);
	cr_assert(pg_l4_csum_ok6(b.p.data, b.p.len, 40, IPPROTO_ICMPV6));
	cr_assert_eq(b.p.data[40], 2);
	return (uint32_t)b.p.data[44] << 24 | (uint32_t)b.p.data[45] << 16 |
	       (uint32_t)b.p.data[46] << 8 | b.p.data[47];
}

/* RFC 7915 §4.2: MTU = min(FN + 20, IPv6 next-hop MTU, IPv4 link MTU +
 * 20), each term winning once. */
Test(translate_icmp, sec4_2_fn_mtu_is_min_of_three_terms)
{
	cr_assert_eq(fn_to_ptb(1400, 1500, 1500, 1500), 1420);
	cr_assert_eq(fn_to_ptb(1400, 1500, 1300, 1500), 1300);
	cr_assert_eq(fn_to_ptb(1400, 1500, 1500, 1290), 1310);
}

/* RFC 7915 §4.2 / RFC 8200 §5: never below 1280. */
Test(translate_icmp, sec4_2_fn_mtu_floor_1280)
{
	cr_assert_eq(fn_to_ptb(1000, 1500, 1500, 1500), 1280);
	cr_assert_eq(fn_to_ptb(68, 1500, 1500, 1500), 1280);
}

/* RFC 7915 §4.2 / RFC 1191 §7: MTU 0 -> the greatest plateau LESS than
 * the quoted Total Length, + 20, then the usual minimum and floor. */
Test(translate_icmp, sec4_2_fn_mtu0_uses_plateau_below_total_length)
{
	cr_assert_eq(fn_to_ptb(0, 1500, 9000, 9000), 1492 + 20);
	cr_assert_eq(fn_to_ptb(0, 4400, 9000, 9000), 4352 + 20);
	cr_assert_eq(fn_to_ptb(0, 4352, 9000, 9000), 2002 + 20, "strictly less");
	cr_assert_eq(fn_to_ptb(0, 1492, 9000, 9000), 1280, "1006 + 20, floored");
	cr_assert_eq(fn_to_ptb(0, 4400, 3000, 9000), 3000);
}

/* The operator's plateau list is the one used. */
Test(translate_icmp, sec4_2_fn_mtu0_uses_configured_plateaus)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t n;

	c.mtu_plateaus[0] = 3000;
	c.mtu_plateaus[1] = 1400;
	c.mtu_plateau_count = 2;
	q4(q, IPPROTO_UDP, 12);
	q[2] = 0x0f; /* Total Length 4000 */
	q[3] = 0xa0;
	pg_ipv4_fix_csum(q);
	n = err4(pkt, 3, 4, 0, q, 28);
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 9000, 9000), STAT_OK);
	cr_assert_eq(b.p.data[46] << 8 | b.p.data[47], 3020);
}

/* RFC 7915 §5.2 Figure 6, every pointer 0..255 (larger ones too). */
Test(translate_icmp, sec5_2_param_prob_pointer_map_exhaustive)
{
	for (uint32_t p = 0; p < 300; p++) {
		uint8_t got = 0xee;
		int want = -1;
		enum stat_id rc = xlat_icmp_pointer64(p, &got);

		if (p <= 1)
			want = (int)p;
		else if (p == 4 || p == 5)
			want = 2;
		else if (p == 6)
			want = 9;
		else if (p == 7)
			want = 8;
		else if (p >= 8 && p <= 23)
			want = 12;
		else if (p >= 24 && p <= 39)
			want = 16;
		if (want < 0) {
			cr_assert_eq(rc, STAT_XLAT64_PARAM_PROB_PTR, "pointer %u", p);
		} else {
			cr_assert_eq(rc, STAT_OK, "pointer %u", p);
			cr_assert_eq(got, want, "pointer %u", p);
		}
	}
	cr_assert_eq(xlat_icmp_pointer64(0xffffffffu, &(uint8_t){0}), STAT_XLAT64_PARAM_PROB_PTR);
}

/* RFC 7915 §4.2 Figure 3, every pointer. */
Test(translate_icmp, sec4_2_param_prob_pointer_map_exhaustive)
{
	for (unsigned p = 0; p < 256; p++) {
		uint32_t got = 0xeeee;
		long want = -1;
		enum stat_id rc = xlat_icmp_pointer46((uint8_t)p, &got);

		if (p <= 1)
			want = p;
		else if (p == 2 || p == 3)
			want = 4;
		else if (p == 8)
			want = 7;
		else if (p == 9)
			want = 6;
		else if (p >= 12 && p <= 15)
			want = 8;
		else if (p >= 16 && p <= 19)
			want = 24;
		if (want < 0) {
			cr_assert_eq(rc, STAT_XLAT46_PARAM_PROB_PTR, "pointer %u", p);
		} else {
			cr_assert_eq(rc, STAT_OK, "pointer %u", p);
			cr_assert_eq(got, (uint32_t)want, "pointer %u", p);
		}
	}
}

/* RFC 7915 §5.2: a pointer with no IPv4 equivalent (flow label, 2)
 * drops the error, which stays untouched. */
Test(translate_icmp, sec5_2_param_prob_untranslatable_pointer_refused)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);
	size_t n = err6(pkt, 4, 0, 2, q, qn);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_XLAT64_PARAM_PROB_PTR);
	n = err6(pkt, 4, 0, 40, q, qn);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_XLAT64_PARAM_PROB_PTR);
}

/* RFC 7915 §4.2: same the other way (Identification, 4). */
Test(translate_icmp, sec4_2_param_prob_untranslatable_pointer_refused)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q4(q, IPPROTO_UDP, 12);
	size_t n = err4(pkt, 12, 0, 4u << 24, q, qn);

	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_XLAT46_PARAM_PROB_PTR);
}

/* RFC 7915 §5.3: the quoted packet becomes IPv4 with the inner
 * addresses and ports; its header checksum and (incrementally) its UDP,
 * TCP checksums verify on their own. */
Test(translate_icmp, sec5_3_inner_packet_translated_with_valid_checksums)
{
	static const uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], q4[128], pkt[256], want[256];

	for (size_t i = 0; i < sizeof(protos); i++) {
		size_t qn = q6(q, protos[i], 21);
		size_t q4n = q6as4(q4, protos[i], 21);
		size_t n = err6(pkt, 3, 0, 0, q, qn);
		size_t wn = want4(want, 11, 0, 0, q4, q4n);

		xh_load(&b, pkt, n, 0, 0);
		cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
		assert_out(&b, want, wn);
		cr_assert(pg_ipv4_csum_ok(b.p.data + 28));
		cr_assert(pg_l4_csum_ok4(b.p.data + 28, b.p.len - 28));
		cr_assert(pg_l4_csum_ok4(b.p.data, b.p.len));
	}
}

/* RFC 7915 §4.3: likewise 4->6: the inner IPv6 packet's UDP/TCP checksum
 * verifies with its new pseudo-header. */
Test(translate_icmp, sec4_3_inner_packet_translated_with_valid_checksums)
{
	static const uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP};
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], q6b[128], pkt[256], want[256];

	for (size_t i = 0; i < sizeof(protos); i++) {
		size_t qn = q4(q, protos[i], 21);
		size_t q6n = q4as6(q6b, protos[i], 21);
		size_t n = err4(pkt, 11, 0, 0, q, qn);
		size_t wn = want6(want, 3, 0, 0, q6b, q6n);

		xh_load(&b, pkt, n, 28, 64);
		cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
		assert_out(&b, want, wn);
		cr_assert(pg_l4_csum_ok6(b.p.data + 48, b.p.len - 48, 40, protos[i]));
	}
}

/* RFC 7915 §5.3: a quoted echo becomes an ICMPv4 echo (type, identifier,
 * checksum without the pseudo-header). */
Test(translate_icmp, sec5_3_inner_echo_translated)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], q4[128], pkt[256], want[256];
	size_t qn = q6(q, IPPROTO_ICMPV6, 16);
	size_t q4n = q6as4(q4, IPPROTO_ICMPV6, 16);
	size_t n = err6(pkt, 1, 0, 0, q, qn);
	size_t wn = want4(want, 3, 1, 0, q4, q4n);

	a.inner_src.port = a.inner_dst.port = 6000; /* the identifier */
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok4(b.p.data + 28, b.p.len - 28));
}

/* RFC 7915 §4.3: a quoted ICMPv4 echo becomes ICMPv6 echo, its checksum
 * gaining the inner IPv6 pseudo-header. */
Test(translate_icmp, sec4_3_inner_echo_translated)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], q6b[128], pkt[256], want[256];
	size_t qn = q4(q, IPPROTO_ICMP, 16);
	size_t q6n = q4as6(q6b, IPPROTO_ICMP, 16);
	size_t n = err4(pkt, 3, 1, 0, q, qn);
	size_t wn = want6(want, 1, 0, 0, q6b, q6n);

	a.inner_src.port = a.inner_dst.port = 1234;
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert(pg_l4_csum_ok6(b.p.data + 48, b.p.len - 48, 40, IPPROTO_ICMPV6));
}

/* RFC 792 quotes: IP header + 8 bytes. A TCP quote of 8 bytes holds the
 * ports but not the checksum: ports rewritten, nothing else touched. */
Test(translate_icmp, sec4_3_inner_tcp_cut_before_checksum)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], q6b[128], pkt[256], want[256];
	size_t n;
	size_t wn;

	q4(q, IPPROTO_TCP, 30);
	q4as6(q6b, IPPROTO_TCP, 30);
	n = err4(pkt, 3, 3, 0, q, 28);
	wn = want6(want, 1, 4, 0, q6b, 48);
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* A TCP quote that stops one byte short of the checksum's end: only the
 * ports change, and nothing is written past the end of the packet (the
 * harness checks the bytes around a buffer without tailroom). */
Test(translate_icmp, sec5_3_inner_tcp_cut_inside_checksum)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], q4[128], pkt[256], want[256];
	size_t n;
	size_t wn;

	q6(q, IPPROTO_TCP, 30);
	q6as4(q4, IPPROTO_TCP, 30);
	memcpy(q4 + 20 + 16, q + 40 + 16, 1); /* old checksum byte, untouched */
	n = err6(pkt, 1, 4, 0, q, 40 + 17);
	wn = want4(want, 3, 3, 0, q4, 20 + 17);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.3 + §5.1: the inner Total Length comes from the quoted
 * Payload Length, not from the bytes quoted; the result is cut to 576
 * bytes (RFC 1812 §4.3.2.3, as Jool). */
Test(translate_icmp, sec5_3_inner_length_from_header_and_cut_to_576)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	static uint8_t q[1600], q4[1600], pkt[1600], want[1600];
	size_t n;
	size_t wn;

	q6(q, IPPROTO_UDP, 1400);
	q6as4(q4, IPPROTO_UDP, 1400); /* 1428 bytes: DF set */
	n = err6(pkt, 1, 4, 0, q, 1280 - 48);
	wn = want4(want, 3, 3, 0, q4, 576 - 28);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert_eq(b.p.len, 576);
}

/* RFC 7915 §4.3 (RFC 4443 §2.4 (c)): 4->6 output is cut to 1280 bytes. */
Test(translate_icmp, sec4_3_output_cut_to_1280)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	static uint8_t q[1600], q6b[1600], pkt[1600], want[1600];
	size_t n;
	size_t wn;

	q4(q, IPPROTO_UDP, 1400);
	q4as6(q6b, IPPROTO_UDP, 1400);
	n = err4(pkt, 3, 3, 0, q, 1400);
	wn = want6(want, 1, 4, 0, q6b, 1280 - 48);
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
	cr_assert_eq(b.p.len, 1280);
}

/* 4->6 errors grow twice: the outer header into the headroom (20), the
 * inner one pushes the quote into the tailroom (20). Less is refused,
 * untouched. */
Test(translate_icmp, sec4_3_needs_20_headroom_and_20_tailroom)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q4(q, IPPROTO_UDP, 12);
	size_t n = err4(pkt, 3, 3, 0, q, qn);

	xh_load(&b, pkt, n, 20, 19);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_XLAT46_NO_ROOM);
	xh_load(&b, pkt, n, 19, 20);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_XLAT46_NO_ROOM);
	xh_load(&b, pkt, n, 20, 20);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	cr_assert_eq(b.p.headroom, 0);
	cr_assert_eq(b.p.tailroom, 0);
}

/* RFC 7915 §4.3 + §4.1: options of the quoted header are dropped; the
 * quote after it moves by 16 bytes only. */
Test(translate_icmp, sec4_3_inner_options_dropped)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[128], q6b[128], pkt[256], want[256];
	size_t qn = q4(q, IPPROTO_UDP, 12);
	size_t q6n = q4as6(q6b, IPPROTO_UDP, 12);
	size_t n;
	size_t wn;

	memmove(q + 24, q + 20, qn - 20);
	memset(q + 20, 1, 4); /* four NOPs */
	qn += 4;
	q[0] = 0x46;
	q[3] = (uint8_t)qn;
	pg_ipv4_fix_csum(q);
	n = err4(pkt, 3, 3, 0, q, qn);
	wn = want6(want, 1, 4, 0, q6b, q6n);
	xh_load(&b, pkt, n, 28, 16);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §4.3 + §4.1: a quoted first fragment gets a Fragment header
 * (the quote grows by 28). */
Test(translate_icmp, sec4_3_inner_fragment_gets_fragment_header)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[256], whole6[256], q6b[256], pkt[512], want[512];
	size_t qn = q4(q, IPPROTO_UDP, 100);
	size_t n;
	size_t wn;

	q4as6(whole6, IPPROTO_UDP, 100);
	/* Quote: first fragment of 64 transport bytes, ID 0x4321, MF. */
	q[2] = 0;
	q[3] = 84;
	q[6] = 0x20;
	q[7] = 0;
	pg_ipv4_fix_csum(q);
	qn = 84;
	memcpy(q6b, whole6, 40);
	q6b[6] = 44;
	pg_frag6(q6b + 40, IPPROTO_UDP, 0, true, 0x4321);
	memcpy(q6b + 48, whole6 + 40, 64);
	set_len6(q6b, 48 + 64);
	n = err4(pkt, 11, 0, 0, q, qn);
	wn = want6(want, 3, 0, 0, q6b, 48 + 64);
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.3 + §5.1: extension headers of the quoted packet go too,
 * and its Total Length doesn't count them. */
Test(translate_icmp, sec5_3_inner_extension_headers_removed)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[256], q4[128], pkt[512], want[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);
	size_t q4n = q6as4(q4, IPPROTO_UDP, 12);
	size_t n;
	size_t wn;

	memmove(q + 56, q + 40, qn - 40);
	pg_ext6(q + 40, IPPROTO_UDP, 1);
	q[6] = 60; /* Destination Options */
	qn += 16;
	set_len6(q, qn);
	n = err6(pkt, 1, 4, 0, q, qn);
	wn = want4(want, 3, 3, 0, q4, q4n);
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* TOS settings apply to the quoted header too (the same function
 * translates it, RFC 7915 §5.3). */
Test(translate_icmp, sec5_3_override_tos_applies_to_inner_header)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);
	size_t n = err6(pkt, 1, 4, 0, q, qn);

	c.override_tos = true;
	c.tos = 0x48;
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
	cr_assert_eq(b.p.data[1], 0x48);
	cr_assert_eq(b.p.data[28 + 1], 0x48);
	cr_assert(pg_ipv4_csum_ok(b.p.data + 28));
}

/* An RFC 4884 extension structure (opaque here: the translator copies it). */
static const uint8_t ext_obj[12] = {0x20, 0, 0x12, 0x34, 0, 8, 1, 1, 0xde, 0xad, 0xbe, 0xef};

/* RFC 4884 §4, ICMPv4 -> ICMPv6: Time Exceeded with a 128-byte original datagram
 * field (length 32 words) and an extension. The translated field is
 * padded to a multiple of 8 (148 -> 152, length 19) and the extension
 * follows it unchanged. */
Test(translate_icmp, rfc4884_time_exceeded_46_length_rescaled_and_extension_kept)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[256], q6b[256], pkt[512], want[512], body[512];
	size_t n;
	size_t wn;

	q4(q, IPPROTO_UDP, 180);
	q4as6(q6b, IPPROTO_UDP, 180);
	memcpy(body, q, 128);
	memcpy(body + 128, ext_obj, sizeof(ext_obj));
	n = err4(pkt, 11, 0, 32u << 16, body, 128 + sizeof(ext_obj));
	memcpy(body, q6b, 148);
	memset(body + 148, 0, 4);
	memcpy(body + 152, ext_obj, sizeof(ext_obj));
	wn = want6(want, 3, 0, 19u << 24, body, 152 + sizeof(ext_obj));
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 4884 §4, ICMPv6 -> ICMPv4: Destination Unreachable with a 128-byte field
 * (length 16) and an extension: 108 bytes once IPv4, padded back to the
 * RFC 4884 minimum of 128 (length 32). */
Test(translate_icmp, rfc4884_dest_unreach_64_length_rescaled_and_extension_kept)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[256], q4[256], pkt[512], want[512], body[512];
	size_t n;
	size_t wn;

	q6(q, IPPROTO_UDP, 180);
	q6as4(q4, IPPROTO_UDP, 180);
	memcpy(body, q, 128);
	memcpy(body + 128, ext_obj, sizeof(ext_obj));
	n = err6(pkt, 1, 4, 16u << 24, body, 128 + sizeof(ext_obj));
	memcpy(body, q4, 108);
	memset(body + 108, 0, 20);
	memcpy(body + 128, ext_obj, sizeof(ext_obj));
	wn = want4(want, 3, 3, 32u << 16, body, 128 + sizeof(ext_obj));
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* Packet Too Big has no length attribute: the extension of a
 * Fragmentation Needed is dropped, the original datagram field kept. */
Test(translate_icmp, rfc4884_extension_dropped_when_new_type_has_no_length)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs6 a = addrs6();
	static struct tbuf b;
	uint8_t q[256], q6b[256], pkt[512], want[512], body[512];
	size_t n;
	size_t wn;

	q4(q, IPPROTO_UDP, 180);
	q4as6(q6b, IPPROTO_UDP, 180);
	memcpy(body, q, 128);
	memcpy(body + 128, ext_obj, sizeof(ext_obj));
	n = err4(pkt, 3, 4, 32u << 16 | 1400, body, 128 + sizeof(ext_obj));
	wn = want6(want, 2, 0, 1420, q6b, 148);
	xh_load(&b, pkt, n, 28, 64);
	cr_assert_eq(xh_run46(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 4884 §5: a length below 128 bytes is not a compliant one: the
 * whole message is taken as quote and the length leaves as 0. */
Test(translate_icmp, rfc4884_invalid_length_ignored)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[256], q4[256], pkt[512], want[512];
	size_t qn = q6(q, IPPROTO_UDP, 40);
	size_t q4n = q6as4(q4, IPPROTO_UDP, 40);
	size_t n = err6(pkt, 3, 0, 5u << 24, q, qn);
	size_t wn = want4(want, 11, 0, 0, q4, q4n);

	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_OK);
	assert_out(&b, want, wn);
}

/* RFC 7915 §5.1: the outer hop limit of an error is decremented and
 * checked like any packet's; the quoted one never is (its TTL QTTL
 * appears unchanged in every byte-exact test above). */
Test(translate_icmp, sec5_1_error_with_hop_limit_1_refused)
{
	struct xlat_config c = xh_cfg_default();
	struct xlat_addrs4 a = addrs4();
	static struct tbuf b;
	uint8_t q[128], pkt[256];
	size_t qn = q6(q, IPPROTO_UDP, 12);
	size_t n = err6(pkt, 1, 4, 0, q, qn);

	pkt[7] = 1;
	xh_load(&b, pkt, n, 0, 0);
	cr_assert_eq(xh_run64(&b, &a, &c, 1500, 1500), STAT_XLAT64_HOP_LIMIT);
}
