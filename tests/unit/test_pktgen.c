/* The test helpers themselves: the reference checksum must agree with
 * published values, or every translation test would be vacuous. */
#include <criterion/criterion.h>

#include "pktgen.h"

/* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; checksum 220d. */
Test(pktgen, rfc1071_sec3_example_checksum)
{
	const uint8_t words[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	cr_assert_eq(ref_csum(words, sizeof(words), NULL, 0), 0x220d);
}

/* A textbook IPv4 header whose checksum is b861. */
Test(pktgen, ipv4_header_checksum_b861)
{
	uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	pg_ipv4_fix_csum(h);
	cr_assert_eq(h[10], 0xb8);
	cr_assert_eq(h[11], 0x61);
	cr_assert(pg_ipv4_csum_ok(h));
	h[15] ^= 1;
	cr_assert_not(pg_ipv4_csum_ok(h));
}

Test(pktgen, udp6_checksum_round_trip_detects_corruption)
{
	uint8_t p[64];
	size_t n = pg_ipv6(p, "2001:db8::1", "64:ff9b::c000:20a", 17, 64, 12);

	n += pg_udp(p + n, 1234, 80, 4);
	memcpy(p + n, "abcd", 4);
	n += 4;
	pg_fix_l4_csum6(p, n);
	cr_assert(pg_l4_csum_ok6(p, n, 40, 17));
	p[n - 1] ^= 0x40;
	cr_assert_not(pg_l4_csum_ok6(p, n, 40, 17));
}
