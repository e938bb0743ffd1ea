/*
 * MTU arithmetic of RFC 7915 §4.2 / §5.2 and the RFC 1191 plateau table
 * (core/mtu.c), plus the translator's default settings that feed it.
 */
#include <criterion/criterion.h>

#include "mtu.h"
#include "translate.h"

static const uint16_t jool_plateaus[] = {65535, 32000, 17914, 8166, 4352, 2002,
					 1492,  1006,  508,   296,  68};

/* First test: bad input. A PTB smaller than the header difference (no
 * IPv6 link is, RFC 8200 §5) must not wrap around to a huge MTU; the
 * result is the IPv4 minimum of 68 (RFC 791 §3.2). */
Test(mtu, sec5_2_ptb_below_header_size_gives_ipv4_minimum)
{
	cr_assert_eq(mtu_ptb_to_fn(0, 1500, 1500, false), 68);
	cr_assert_eq(mtu_ptb_to_fn(19, 1500, 1500, false), 68);
	cr_assert_eq(mtu_ptb_to_fn(1500, 1500, 10, true), 68);
	cr_assert_eq(mtu_ptb_to_fn(1500, 0, 1500, false), 68);
}

/* RFC 7915 §5.2: minimum(advertised MTU - 20, MTU_of_IPv4_nexthop,
 * MTU_of_IPv6_nexthop - 20), each term winning once. */
Test(mtu, sec5_2_ptb_to_fn_is_min_of_three_terms)
{
	cr_assert_eq(mtu_ptb_to_fn(1400, 1500, 1500, false), 1380);
	cr_assert_eq(mtu_ptb_to_fn(1500, 1300, 1500, false), 1300);
	cr_assert_eq(mtu_ptb_to_fn(1500, 1500, 1400, false), 1380);
}

/* RFC 7915 §5.2: "taking into account whether or not the packet in error
 * includes a Fragment Header": 28 instead of 20 on the IPv6 terms. */
Test(mtu, sec5_2_ptb_to_fn_fragment_header_subtracts_28)
{
	cr_assert_eq(mtu_ptb_to_fn(1400, 1500, 1500, true), 1372);
	cr_assert_eq(mtu_ptb_to_fn(1500, 1500, 1400, true), 1372);
	cr_assert_eq(mtu_ptb_to_fn(1500, 1300, 9000, true), 1300);
}

/* The ICMPv4 field has 16 bits; the ICMPv6 one 32. */
Test(mtu, sec5_2_ptb_to_fn_clamped_to_65535)
{
	cr_assert_eq(mtu_ptb_to_fn(0xffffffffu, 0xffffffffu, 0xffffffffu, false), 65535);
	cr_assert_eq(mtu_ptb_to_fn(65555, 70000, 70000, false), 65535);
	cr_assert_eq(mtu_ptb_to_fn(65554, 70000, 70000, false), 65534);
}

/* RFC 7915 §4.2: minimum(advertised MTU + 20, MTU_of_IPv6_nexthop,
 * MTU_of_IPv4_nexthop + 20), each term winning once. */
Test(mtu, sec4_2_fn_to_ptb_is_min_of_three_terms)
{
	cr_assert_eq(mtu_fn_to_ptb(1400, 1500, 1500), 1420);
	cr_assert_eq(mtu_fn_to_ptb(1500, 1400, 1500), 1400);
	cr_assert_eq(mtu_fn_to_ptb(1500, 1500, 1300), 1320);
}

/* RFC 7915 §4.2 (plateau "larger than or equal to 1280") and RFC 8200 §5:
 * the result never goes below 1280. */
Test(mtu, sec4_2_fn_to_ptb_floor_1280)
{
	cr_assert_eq(mtu_fn_to_ptb(1259, 9000, 9000), 1280);
	cr_assert_eq(mtu_fn_to_ptb(1260, 9000, 9000), 1280);
	cr_assert_eq(mtu_fn_to_ptb(1261, 9000, 9000), 1281);
	cr_assert_eq(mtu_fn_to_ptb(0, 9000, 9000), 1280);
	cr_assert_eq(mtu_fn_to_ptb(1500, 576, 9000), 1280);
}

/* Large values don't wrap: mtu4_in + 20 is computed in 64 bits. */
Test(mtu, sec4_2_fn_to_ptb_no_overflow)
{
	cr_assert_eq(mtu_fn_to_ptb(65535, 0xffffffffu, 0xffffffffu), 65555);
	cr_assert_eq(mtu_fn_to_ptb(9000, 0xffffffffu, 0xfffffff0u), 9020);
}

/* RFC 1191 §7: "the greatest plateau value that is less than" the
 * returned Total Length; strictly less. */
Test(mtu, rfc1191_plateau_strictly_below_total_length)
{
	size_t n = sizeof(jool_plateaus) / sizeof(jool_plateaus[0]);

	cr_assert_eq(mtu_plateau_below(jool_plateaus, n, 1500), 1492);
	cr_assert_eq(mtu_plateau_below(jool_plateaus, n, 1492), 1006);
	cr_assert_eq(mtu_plateau_below(jool_plateaus, n, 1493), 1492);
	cr_assert_eq(mtu_plateau_below(jool_plateaus, n, 65535), 32000);
	cr_assert_eq(mtu_plateau_below(jool_plateaus, n, 69), 68);
}

/* No plateau below a tiny Total Length: 0, left to the 1280 floor. */
Test(mtu, rfc1191_no_plateau_below_gives_0)
{
	size_t n = sizeof(jool_plateaus) / sizeof(jool_plateaus[0]);

	cr_assert_eq(mtu_plateau_below(jool_plateaus, n, 68), 0);
	cr_assert_eq(mtu_plateau_below(jool_plateaus, n, 0), 0);
	cr_assert_eq(mtu_plateau_below(jool_plateaus, 0, 1500), 0);
}

/* A table out of order still yields the greatest plateau below. */
Test(mtu, rfc1191_unsorted_table)
{
	static const uint16_t t[] = {296, 1492, 68, 8166, 1006};

	cr_assert_eq(mtu_plateau_below(t, 5, 2000), 1492);
	cr_assert_eq(mtu_plateau_below(t, 5, 1000), 296);
}

/* Jool's defaults (JOOL-REFERENCE §2): lowest-ipv6-mtu 1280, the RFC 1191
 * plateaus, TOS copied, Traffic Class copied, zero-checksum UDP fragments
 * dropped. */
Test(mtu, jool_default_config)
{
	struct xlat_config c;

	memset(&c, 0xff, sizeof(c));
	xlat_config_default(&c);
	cr_assert_eq(c.lowest_ipv6_mtu, 1280);
	cr_assert_not(c.override_tos);
	cr_assert_eq(c.tos, 0);
	cr_assert_not(c.zeroize_traffic_class);
	cr_assert(c.drop_zero_csum_udp_fragments);
	cr_assert_eq(c.mtu_plateau_count, 11);
	for (size_t i = 0; i < 11; i++)
		cr_assert_eq(c.mtu_plateaus[i], jool_plateaus[i], "plateau %zu", i);
	cr_assert_eq(c.mtu_plateaus[11], 0);
}
