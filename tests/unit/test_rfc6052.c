/*
 * RFC 6052 IPv4-embedded IPv6 addresses: the §2.4 example table verbatim,
 * prefix validation, contains(), random round trips, the non-global IPv4
 * ranges of §3.1 and the Well-Known Prefix.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <string.h>

#include "rfc6052.h"

static const uint8_t allowed_lengths[] = {32, 40, 48, 56, 64, 96};

static struct prefix6
pfx(const char *text, uint8_t len)
{
	struct prefix6 p;

	memset(&p, 0, sizeof(p));
	cr_assert_eq(inet_pton(AF_INET6, text, &p.addr), 1, "bad test prefix %s", text);
	p.len = len;
	return p;
}

static struct in6_addr
v6(const char *text)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, text, &a), 1, "bad test address %s", text);
	return a;
}

static struct in_addr
v4(const char *text)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, text, &a), 1, "bad test address %s", text);
	return a;
}

static uint32_t
test_rfc6052_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* One row of the RFC 6052 §2.4 table: validate, embed, contains, extract. */
static void
check_sec2_4_row(const char *prefix, uint8_t len, const char *embedded)
{
	struct prefix6 p = pfx(prefix, len);
	struct in6_addr want = v6(embedded), got;
	struct in_addr addr4 = v4("192.0.2.33");
	char text[INET6_ADDRSTRLEN];

	cr_assert_eq(rfc6052_validate(&p), RFC6052_OK, "%s/%u", prefix, len);
	rfc6052_embed(&p, addr4, &got);
	inet_ntop(AF_INET6, &got, text, sizeof(text));
	cr_assert(in6_equal(&got, &want), "%s/%u embeds 192.0.2.33 as %s, want %s", prefix, len,
		  text, embedded);
	cr_assert(rfc6052_contains(&p, &want));
	cr_assert_eq(rfc6052_extract(&p, &want).s_addr, addr4.s_addr, "%s/%u extract", prefix, len);
}

Test(rfc6052, bad_prefix_rejected_and_left_unchanged)
{
	struct prefix6 p = pfx("2001:db8::", 33), copy = p;

	cr_assert_eq(rfc6052_validate(&p), RFC6052_BAD_LENGTH);
	cr_assert_eq(memcmp(&p, &copy, sizeof(p)), 0, "validate modified the prefix");
}

/* A broken contract (invalid length) must still stay inside the buffers. */
Test(rfc6052, embed_and_extract_with_invalid_length_stay_in_bounds)
{
	struct prefix6 p = pfx("2001:db8::", 128);
	struct in6_addr out;
	struct in6_addr full;

	memset(&out, 0xaa, sizeof(out));
	memset(&full, 0xff, sizeof(full));
	rfc6052_embed(&p, v4("192.0.2.33"), &out);
	cr_assert(in6_equal(&out, &in6addr_any));
	p.len = 255;
	cr_assert_eq(rfc6052_extract(&p, &full).s_addr, 0);
	cr_assert_not(rfc6052_contains(&p, &full));
}

/* RFC 6052 §2.4, row 1. */
Test(rfc6052, sec2_4_prefix32_embeds_192_0_2_33)
{
	check_sec2_4_row("2001:db8::", 32, "2001:db8:c000:221::");
}

/* RFC 6052 §2.4, row 2: the IPv4 address is split around the u octet. */
Test(rfc6052, sec2_4_prefix40_embeds_192_0_2_33)
{
	check_sec2_4_row("2001:db8:100::", 40, "2001:db8:1c0:2:21::");
}

/* RFC 6052 §2.4, row 3. */
Test(rfc6052, sec2_4_prefix48_embeds_192_0_2_33)
{
	check_sec2_4_row("2001:db8:122::", 48, "2001:db8:122:c000:2:2100::");
}

/* RFC 6052 §2.4, row 4. */
Test(rfc6052, sec2_4_prefix56_embeds_192_0_2_33)
{
	check_sec2_4_row("2001:db8:122:300::", 56, "2001:db8:122:3c0:0:221::");
}

/* RFC 6052 §2.4, row 5: the u octet (bits 64-71) precedes the address. */
Test(rfc6052, sec2_4_prefix64_embeds_192_0_2_33)
{
	check_sec2_4_row("2001:db8:122:344::", 64, "2001:db8:122:344:c0:2:2100:0");
}

/* RFC 6052 §2.4, row 6. */
Test(rfc6052, sec2_4_prefix96_embeds_192_0_2_33)
{
	check_sec2_4_row("2001:db8:122:344::", 96, "2001:db8:122:344::192.0.2.33");
}

/* RFC 6052 §2.4, last paragraph: the Well-Known Prefix. */
Test(rfc6052, sec2_4_wkp_embeds_192_0_2_33)
{
	check_sec2_4_row("64:ff9b::", 96, "64:ff9b::192.0.2.33");
}

/* RFC 6052 §2.3: the suffix is ignored when extracting. */
Test(rfc6052, sec2_3_extract_ignores_suffix)
{
	struct prefix6 p = pfx("2001:db8::", 32);
	struct in6_addr a = v6("2001:db8:c000:221:0:ffff:ffff:ffff");

	cr_assert_eq(rfc6052_extract(&p, &a).s_addr, v4("192.0.2.33").s_addr);
}

/* RFC 6052 §2.2: only 32, 40, 48, 56, 64 and 96 are allowed. */
Test(rfc6052, sec2_2_only_six_lengths_are_valid)
{
	struct prefix6 p = pfx("::", 0);
	int ok = 0;

	for (unsigned int len = 0; len <= 255; len++) {
		bool allowed = memchr(allowed_lengths, (int)len, sizeof(allowed_lengths)) != NULL;

		p.len = (uint8_t)len;
		cr_assert_eq(rfc6052_validate(&p), allowed ? RFC6052_OK : RFC6052_BAD_LENGTH,
			     "length %u", len);
		ok += allowed;
	}
	cr_assert_eq(ok, 6);
}

Test(rfc6052, sec2_2_named_invalid_lengths_rejected)
{
	const uint8_t bad[] = {0, 8, 16, 24, 31, 33, 39, 41, 63, 65, 72, 80, 88, 95, 97, 128, 129};

	for (size_t i = 0; i < sizeof(bad); i++) {
		struct prefix6 p = pfx("2001:db8::", bad[i]);

		cr_assert_eq(rfc6052_validate(&p), RFC6052_BAD_LENGTH, "length %u", bad[i]);
	}
}

/* RFC 6052 §2.2: bits 64-71 must be zero, for every length. */
Test(rfc6052, sec2_2_u_octet_nonzero_rejected)
{
	for (size_t i = 0; i < sizeof(allowed_lengths); i++) {
		struct prefix6 p = pfx("2001:db8::", allowed_lengths[i]);

		for (int bit = 0; bit < 8; bit++) {
			p.addr.s6_addr[8] = (uint8_t)(1u << bit);
			cr_assert_eq(rfc6052_validate(&p), RFC6052_U_OCTET, "/%u bit %d",
				     allowed_lengths[i], bit);
		}
	}
	cr_assert_eq(rfc6052_validate(&(struct prefix6){v6("2001:db8:0:0:100::"), 96}),
		     RFC6052_U_OCTET);
}

/* Bits after the prefix length must be zero: each bit after it is tried. */
Test(rfc6052, host_bits_after_length_rejected)
{
	for (size_t i = 0; i < sizeof(allowed_lengths); i++) {
		uint8_t len = allowed_lengths[i];

		for (unsigned int bit = len; bit < 128; bit++) {
			struct prefix6 p = pfx("2001:db8::", len);

			if (bit / 8 == 8)
				continue; /* the u octet has its own error */
			p.addr.s6_addr[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
			cr_assert_eq(rfc6052_validate(&p), RFC6052_HOST_BITS, "/%u bit %u", len,
				     bit);
		}
	}
	cr_assert_eq(rfc6052_validate(&(struct prefix6){v6("64:ff9b::1"), 96}), RFC6052_HOST_BITS);
}

/* The last bit of every allowed prefix may be set. */
Test(rfc6052, last_prefix_bit_set_is_valid)
{
	for (size_t i = 0; i < sizeof(allowed_lengths); i++) {
		uint8_t len = allowed_lengths[i];
		struct prefix6 p = pfx("2001:db8::", len);

		p.addr.s6_addr[(len - 1) / 8] |= (uint8_t)(0x80u >> ((len - 1) % 8));
		cr_assert_eq(rfc6052_validate(&p), RFC6052_OK, "/%u", len);
	}
}

Test(rfc6052, strerror_gives_distinct_sentences)
{
	const enum rfc6052_error all[] = {RFC6052_OK, RFC6052_BAD_LENGTH, RFC6052_U_OCTET,
					  RFC6052_HOST_BITS};

	for (size_t i = 0; i < 4; i++) {
		const char *s = rfc6052_strerror(all[i]);

		cr_assert(s != NULL && strlen(s) > 10);
		cr_assert_eq(s[strlen(s) - 1], '.', "'%s' is not a sentence", s);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(s, rfc6052_strerror(all[j]));
	}
	cr_assert_not_null(strstr(rfc6052_strerror(RFC6052_BAD_LENGTH), "96"));
	cr_assert_not_null(rfc6052_strerror((enum rfc6052_error)99));
}

/* contains(): the prefix's own addresses are inside; flipping any bit of
 * the prefix part takes an address outside, flipping a bit after it does not. */
Test(rfc6052, contains_true_inside_false_outside_each_length)
{
	const char *base[] = {"2001:db8::",         "2001:db8:100::",     "2001:db8:122::",
			      "2001:db8:122:300::", "2001:db8:122:344::", "2001:db8:122:344::"};

	for (size_t i = 0; i < sizeof(allowed_lengths); i++) {
		uint8_t len = allowed_lengths[i];
		struct prefix6 p = pfx(base[i], len);
		struct in6_addr a;

		rfc6052_embed(&p, v4("203.0.113.77"), &a);
		cr_assert(rfc6052_contains(&p, &a), "/%u own address", len);
		for (unsigned int bit = 0; bit < 128; bit++) {
			struct in6_addr b = a;

			b.s6_addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
			cr_assert_eq(rfc6052_contains(&p, &b), bit >= len, "/%u bit %u", len, bit);
		}
	}
}

Test(rfc6052, contains_false_for_other_prefix)
{
	struct prefix6 wkp = pfx("64:ff9b::", 96);
	struct in6_addr other = v6("64:ff9b:1::c000:221"), inside = v6("64:ff9b::c000:221");

	cr_assert_not(rfc6052_contains(&wkp, &in6addr_any));
	cr_assert_not(rfc6052_contains(&wkp, &other));
	cr_assert(rfc6052_contains(&wkp, &inside));
}

/* extract(embed(x)) == x for random addresses at every length; the u octet
 * and the suffix of the result are zero (RFC 6052 §2.2). */
Test(rfc6052, random_ipv4_round_trip_each_length)
{
	uint32_t seed = 6052;

	for (size_t i = 0; i < sizeof(allowed_lengths); i++) {
		uint8_t len = allowed_lengths[i];
		struct prefix6 p = pfx("2001:db8::", len);
		unsigned int last_pos = len == 96 ? 15 : len / 8 + 4;

		/* Fill the prefix bits with noise, keeping it valid. */
		for (unsigned int b = 4; b < len / 8; b++)
			if (b != 8)
				p.addr.s6_addr[b] = (uint8_t)test_rfc6052_rand(&seed);
		cr_assert_eq(rfc6052_validate(&p), RFC6052_OK);
		for (int r = 0; r < 5000; r++) {
			struct in_addr x = {test_rfc6052_rand(&seed)};
			struct in6_addr a;

			rfc6052_embed(&p, x, &a);
			cr_assert_eq(rfc6052_extract(&p, &a).s_addr, x.s_addr, "/%u", len);
			cr_assert(rfc6052_contains(&p, &a));
			cr_assert_eq(a.s6_addr[8], 0, "/%u u octet", len);
			for (unsigned int b = last_pos + 1; b < 16; b++)
				cr_assert_eq(a.s6_addr[b], 0, "/%u suffix byte %u", len, b);
		}
	}
}

/* RFC 6052 §3.1 / IANA special-purpose registry: first and last address of
 * each non-global range, and the neighbours just outside it (NULL where
 * the neighbour is in another non-global range or would wrap). */
static const struct {
	const char *below, *first, *last, *above;
} nonglobal_ranges[] = {
	{NULL, "0.0.0.0", "0.255.255.255", "1.0.0.0"},
	{"9.255.255.255", "10.0.0.0", "10.255.255.255", "11.0.0.0"},
	{"100.63.255.255", "100.64.0.0", "100.127.255.255", "100.128.0.0"},
	{"126.255.255.255", "127.0.0.0", "127.255.255.255", "128.0.0.0"},
	{"169.253.255.255", "169.254.0.0", "169.254.255.255", "169.255.0.0"},
	{"172.15.255.255", "172.16.0.0", "172.31.255.255", "172.32.0.0"},
	{"191.255.255.255", "192.0.0.0", "192.0.0.255", "192.0.1.0"},
	{"192.0.1.255", "192.0.2.0", "192.0.2.255", "192.0.3.0"},
	{"192.88.98.255", "192.88.99.0", "192.88.99.255", "192.88.100.0"},
	{"192.167.255.255", "192.168.0.0", "192.168.255.255", "192.169.0.0"},
	{"198.17.255.255", "198.18.0.0", "198.19.255.255", "198.20.0.0"},
	{"198.51.99.255", "198.51.100.0", "198.51.100.255", "198.51.101.0"},
	{"203.0.112.255", "203.0.113.0", "203.0.113.255", "203.0.114.0"},
	{"223.255.255.255", "224.0.0.0", "239.255.255.255", NULL},
	{NULL, "240.0.0.0", "255.255.255.255", NULL},
};

Test(rfc6052, sec3_1_nonglobal_ranges_inside_and_just_outside)
{
	for (size_t i = 0; i < sizeof(nonglobal_ranges) / sizeof(nonglobal_ranges[0]); i++) {
		cr_assert(rfc6052_is_nonglobal4(v4(nonglobal_ranges[i].first)), "%s",
			  nonglobal_ranges[i].first);
		cr_assert(rfc6052_is_nonglobal4(v4(nonglobal_ranges[i].last)), "%s",
			  nonglobal_ranges[i].last);
		if (nonglobal_ranges[i].below)
			cr_assert_not(rfc6052_is_nonglobal4(v4(nonglobal_ranges[i].below)), "%s",
				      nonglobal_ranges[i].below);
		if (nonglobal_ranges[i].above)
			cr_assert_not(rfc6052_is_nonglobal4(v4(nonglobal_ranges[i].above)), "%s",
				      nonglobal_ranges[i].above);
	}
}

Test(rfc6052, sec3_1_public_resolvers_are_global)
{
	cr_assert_not(rfc6052_is_nonglobal4(v4("8.8.8.8")));
	cr_assert_not(rfc6052_is_nonglobal4(v4("1.1.1.1")));
	cr_assert_not(rfc6052_is_nonglobal4(v4("223.255.255.254")));
}

/* Documented simplification: the registry's global 192.0.0.9 and
 * 192.0.0.10 are inside 192.0.0.0/24, which is treated as non-global. */
Test(rfc6052, sec3_1_whole_192_0_0_0_24_is_nonglobal)
{
	cr_assert(rfc6052_is_nonglobal4(v4("192.0.0.9")));
	cr_assert(rfc6052_is_nonglobal4(v4("192.0.0.10")));
}

/* RFC 6052 §2.1: the Well-Known Prefix is 64:ff9b::/96 and nothing else. */
Test(rfc6052, sec2_1_is_wkp_only_for_64_ff9b_96)
{
	cr_assert(rfc6052_is_wkp(&(struct prefix6){v6("64:ff9b::"), 96}));
	cr_assert_not(rfc6052_is_wkp(&(struct prefix6){v6("64:ff9b::"), 64}));
	cr_assert_not(rfc6052_is_wkp(&(struct prefix6){v6("64:ff9b::"), 32}));
	cr_assert_not(rfc6052_is_wkp(&(struct prefix6){v6("64:ff9b:1::"), 96}));
	cr_assert_not(rfc6052_is_wkp(&(struct prefix6){v6("64:ff9b::1"), 96}));
	cr_assert_not(rfc6052_is_wkp(&(struct prefix6){v6("2001:db8::"), 96}));
}

/* contains() compares bits, not bytes, should it get a length that is not
 * a multiple of 8 (e.g. from a future caller): /33 looks at one bit more. */
Test(rfc6052, contains_compares_partial_byte)
{
	struct prefix6 p = pfx("2001:db8:8000::", 33);
	struct in6_addr in = v6("2001:db8:ffff::1"), out = v6("2001:db8:7fff::1");

	cr_assert(rfc6052_contains(&p, &in));
	cr_assert_not(rfc6052_contains(&p, &out));
}
