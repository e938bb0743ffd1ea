/*
 * ICMP errors the translator originates (core/icmp_error.c): byte-exact
 * ICMPv6 (RFC 4443) and ICMPv4 (RFC 792, RFC 1812) messages, their size
 * limits, and when none may be sent (RFC 4443 §2.4 (e), RFC 1812
 * §4.3.2.7).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>

#include "icmp_error.h"
#include "pktgen.h"

#define SRC6 "2001:db8:ffff::1"
#define SRC4 "192.0.2.1"

static struct in6_addr
a6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static struct in_addr
a4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static size_t
udp6(uint8_t *b, const char *src, const char *dst, size_t payload)
{
	size_t n = pg_ipv6(b, src, dst, IPPROTO_UDP, 64, (uint16_t)(8 + payload));

	n += pg_udp(b + n, 1234, 80, (uint16_t)payload);
	for (size_t i = 0; i < payload; i++)
		b[n + i] = (uint8_t)i;
	n += payload;
	pg_fix_l4_csum6(b, n);
	return n;
}

static size_t
udp4(uint8_t *b, const char *src, const char *dst, size_t payload)
{
	size_t n = pg_ipv4(b, src, dst, IPPROTO_UDP, 64, 1, 0, (uint16_t)(28 + payload));

	n += pg_udp(b + n, 1234, 80, (uint16_t)payload);
	for (size_t i = 0; i < payload; i++)
		b[n + i] = (uint8_t)i;
	n += payload;
	pg_fix_l4_csum4(b, n);
	return n;
}

/* Too short to have a header to answer: nothing is written. */
Test(icmp_error, bad_input_builds_nothing)
{
	static const struct icmp_error e = {6, 1, 3, 0};
	struct in6_addr s6 = a6(SRC6);
	uint8_t orig[64] = {0x60}, out[1500];

	memset(out, 0xa5, sizeof(out));
	cr_assert_eq(icmp_error_build6(out, &s6, orig, 39, &e), 0);
	cr_assert_eq(icmp_error_build4(out, a4(SRC4), 1, orig, 19, &e), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0xa5);
}

/* RFC 4443 §2.2, §3.1: from the translator's address, hop limit 64,
 * type/code/rest, the whole packet quoted, checksum over the
 * pseudo-header. */
Test(icmp_error, rfc4443_sec3_1_build6_byte_exact)
{
	static const struct icmp_error e = {6, 1, 3, 0};
	struct in6_addr s6 = a6(SRC6);
	uint8_t orig[128], out[1500], want[1500];
	size_t n = udp6(orig, "2001:db8:2::10", "64:ff9b::192.0.2.10", 5);
	size_t wn = pg_ipv6(want, SRC6, "2001:db8:2::10", IPPROTO_ICMPV6, 64, (uint16_t)(8 + n));

	wn += pg_icmp(want + wn, 1, 3, 0);
	memcpy(want + wn, orig, n);
	wn += n;
	pg_fix_l4_csum6(want, wn);
	pg_assert_bytes(out, icmp_error_build6(out, &s6, orig, (uint32_t)n, &e), want, wn);
}

/* The 32-bit field after the checksum carries `rest` (RFC 4443 §3.4:
 * the Parameter Problem pointer), big-endian. */
Test(icmp_error, rfc4443_sec3_4_rest_is_the_pointer)
{
	static const struct icmp_error e = {6, 4, 0, 43};
	struct in6_addr s6 = a6(SRC6);
	uint8_t orig[128], out[1500];
	size_t n = udp6(orig, "2001:db8:2::10", "64:ff9b::192.0.2.10", 5);

	cr_assert_eq(icmp_error_build6(out, &s6, orig, (uint32_t)n, &e), 48 + n);
	cr_assert(out[40] == 4 && out[41] == 0);
	cr_assert(out[44] == 0 && out[45] == 0 && out[46] == 0 && out[47] == 43);
	cr_assert(pg_l4_csum_ok6(out, 48 + n, 40, IPPROTO_ICMPV6));
}

/* RFC 4443 §2.4 (c): "as much of invoking packet as possible without the
 * ICMPv6 packet exceeding the minimum IPv6 MTU". */
Test(icmp_error, rfc4443_sec2_4_c_build6_cut_at_1280)
{
	static const struct icmp_error e = {6, 3, 0, 0};
	struct in6_addr s6 = a6(SRC6);
	static uint8_t orig[1600], out[1500];
	size_t n = udp6(orig, "2001:db8:2::10", "64:ff9b::192.0.2.10", 1400);
	uint32_t len = icmp_error_build6(out, &s6, orig, (uint32_t)n, &e);

	cr_assert_eq(len, 1280);
	cr_assert_eq((out[4] << 8) | out[5], 1240);
	cr_assert(memcmp(out + 48, orig, 1232) == 0);
	cr_assert(pg_l4_csum_ok6(out, len, 40, IPPROTO_ICMPV6));
}

/* RFC 1812 §4.3.2 as Linux builds it (JOOL-REFERENCE §6): from the
 * translator's address, TOS 0xC0, DF clear, TTL 64, the packet quoted. */
Test(icmp_error, rfc1812_build4_byte_exact)
{
	static const struct icmp_error e = {4, 3, 3, 0};
	uint8_t orig[128], out[600], want[600];
	size_t n = udp4(orig, "192.0.2.10", "192.0.2.2", 5);
	size_t wn =
		pg_ipv4(want, SRC4, "192.0.2.10", IPPROTO_ICMP, 64, 0x4242, 0, (uint16_t)(28 + n));

	want[1] = 0xc0;
	pg_ipv4_fix_csum(want);
	wn += pg_icmp(want + wn, 3, 3, 0);
	memcpy(want + wn, orig, n);
	wn += n;
	pg_fix_l4_csum4(want, wn);
	pg_assert_bytes(out, icmp_error_build4(out, a4(SRC4), 0x4242, orig, (uint32_t)n, &e), want,
			wn);
	cr_assert(pg_ipv4_csum_ok(out));
}

/* RFC 1812 §4.3.2.3: the error does not exceed 576 bytes. */
Test(icmp_error, rfc1812_sec4_3_2_3_build4_cut_at_576)
{
	static const struct icmp_error e = {4, 11, 0, 0};
	static uint8_t orig[1600], out[600];
	size_t n = udp4(orig, "192.0.2.10", "192.0.2.2", 1000);
	uint32_t len = icmp_error_build4(out, a4(SRC4), 7, orig, (uint32_t)n, &e);

	cr_assert_eq(len, 576);
	cr_assert_eq((out[2] << 8) | out[3], 576);
	cr_assert(memcmp(out + 28, orig, 548) == 0);
	cr_assert(pg_ipv4_csum_ok(out));
	cr_assert(pg_l4_csum_ok4(out, len));
}

static bool
allowed6(const uint8_t *pkt, size_t len)
{
	struct pkt_info info;

	cr_assert_eq(pkt_parse6(pkt, (uint32_t)len, &info), STAT_OK);
	return icmp_error_allowed6(pkt, &info);
}

static bool
allowed4(const uint8_t *pkt, size_t len)
{
	struct pkt_info info;

	cr_assert_eq(pkt_parse4(pkt, (uint32_t)len, &info), STAT_OK);
	return icmp_error_allowed4(pkt, &info);
}

/* RFC 4443 §2.4 (e): not about an ICMPv6 error, a packet to a multicast
 * address, a packet whose source does not name one node; a non-first
 * fragment can't show which it is. Echo and UDP are fine. */
Test(icmp_error, rfc4443_sec2_4_e_when_not_allowed6)
{
	uint8_t b[256], q[128];
	size_t n, qn;

	n = udp6(b, "2001:db8:2::10", "64:ff9b::192.0.2.10", 5);
	cr_assert(allowed6(b, n));
	qn = n;
	memcpy(q, b, qn);
	n = pg_ipv6(b, "2001:db8:2::10", "64:ff9b::192.0.2.10", IPPROTO_ICMPV6, 64, 12);
	n += pg_icmp(b + n, 128, 0, 0x00010001);
	memset(b + n, 0, 4);
	n += 4;
	pg_fix_l4_csum6(b, n);
	cr_assert(allowed6(b, n), "echo request");
	n = pg_ipv6(b, "2001:db8:2::10", "64:ff9b::192.0.2.10", IPPROTO_ICMPV6, 64,
		    (uint16_t)(8 + qn));
	n += pg_icmp(b + n, 1, 4, 0);
	memcpy(b + n, q, qn);
	n += qn;
	pg_fix_l4_csum6(b, n);
	cr_assert(!allowed6(b, n), "an ICMPv6 error");
	n = udp6(b, "ff02::1", "64:ff9b::192.0.2.10", 5);
	cr_assert(!allowed6(b, n), "multicast source");
	n = udp6(b, "::", "64:ff9b::192.0.2.10", 5);
	cr_assert(!allowed6(b, n), "unspecified source");
	n = udp6(b, "2001:db8:2::10", "ff0e::1", 5);
	cr_assert(!allowed6(b, n), "multicast destination");
	n = pg_ipv6(b, "2001:db8:2::10", "64:ff9b::192.0.2.10", 44, 64, 16);
	n += pg_frag6(b + n, IPPROTO_UDP, 8, false, 1);
	memset(b + n, 0, 8);
	cr_assert(!allowed6(b, n + 8), "non-first fragment");
}

/* RFC 1812 §4.3.2.7: not about an ICMP error, a non-first fragment, a
 * packet to a broadcast or multicast address, or from an address that
 * does not name one host (0/8, 127/8, multicast, class E, broadcast). */
Test(icmp_error, rfc1812_sec4_3_2_7_when_not_allowed4)
{
	static const char *const bad_src[] = {"0.0.0.0",        "0.1.2.3",   "127.0.0.1",
					      "224.0.0.1",      "239.1.1.1", "240.0.0.1",
					      "255.255.255.255"};
	uint8_t b[256], q[128];
	size_t n, qn;

	n = udp4(b, "192.0.2.10", "192.0.2.2", 5);
	cr_assert(allowed4(b, n));
	qn = n;
	memcpy(q, b, qn);
	for (size_t i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		n = udp4(b, bad_src[i], "192.0.2.2", 5);
		cr_assert(!allowed4(b, n), "source %s", bad_src[i]);
	}
	n = udp4(b, "192.0.2.10", "255.255.255.255", 5);
	cr_assert(!allowed4(b, n), "broadcast destination");
	n = udp4(b, "192.0.2.10", "224.0.0.9", 5);
	cr_assert(!allowed4(b, n), "multicast destination");
	n = pg_ipv4(b, "192.0.2.10", "192.0.2.2", IPPROTO_ICMP, 64, 1, 0, (uint16_t)(28 + qn));
	n += pg_icmp(b + n, 3, 3, 0);
	memcpy(b + n, q, qn);
	n += qn;
	pg_fix_l4_csum4(b, n);
	cr_assert(!allowed4(b, n), "an ICMP error");
	n = pg_ipv4(b, "192.0.2.10", "192.0.2.2", IPPROTO_UDP, 64, 1, 0x0001, 28);
	memset(b + 20, 0, 8);
	cr_assert(!allowed4(b, n + 8), "non-first fragment");
}
