/*
 * Internet checksum (RFC 1071) and incremental update (RFC 1624).
 *
 * The reference for every comparison is naive_sum() below: a byte-by-byte
 * one's complement sum written independently of core/checksum.c. The UDP
 * datagrams are byte-exact packets whose checksums were produced by scapy.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <string.h>

#include "checksum.h"

/* RFC 1071 §1 by the letter: big-endian 16-bit words, odd byte padded with
 * a zero, end-around carry after every addition. */
static uint16_t
naive_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i < len; i += 2) {
		s += (uint32_t)p[i] << 8;
		if (i + 1 < len)
			s += p[i + 1];
		if (s > 0xffff)
			s = (s & 0xffff) + 1;
	}
	return (uint16_t)s;
}

/* The checksum field value (host order) from the naive sum. */
static uint16_t
naive_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~naive_sum(p, len);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* xorshift32 with a fixed seed: the randomized tests are reproducible. */
static uint32_t
test_checksum_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* RFC 1071 §3 numerical example. */
static const uint8_t rfc1071_example[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

/* The classic IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199), checksum b861. */
static const uint8_t classic_ipv4_hdr[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

/* 192.0.2.1:40000 -> 198.51.100.7:53, payload "nat64d checksum!x" (17
 * bytes, so the UDP length is odd). IPv4 checksum 3c50, UDP checksum 1b43. */
static const uint8_t udp4_datagram[45] = {
	0x45, 0x00, 0x00, 0x2d, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x3c, 0x50, 0xc0, 0x00, 0x02,
	0x01, 0xc6, 0x33, 0x64, 0x07, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x19, 0x1b, 0x43, 0x6e, 0x61,
	0x74, 0x36, 0x34, 0x64, 0x20, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x73, 0x75, 0x6d, 0x21, 0x78,
};

/* [2001:db8::1]:40000 -> [64:ff9b::198.51.100.7]:53, same payload; UDP
 * checksum af8a. */
static const uint8_t udp6_datagram[65] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x19, 0x11, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x64,
	0xff, 0x9b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x33, 0x64,
	0x07, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x19, 0xaf, 0x8a, 0x6e, 0x61, 0x74, 0x36,
	0x34, 0x64, 0x20, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x73, 0x75, 0x6d, 0x21, 0x78,
};

Test(checksum, empty_input_returns_sum_unchanged_and_reads_nothing)
{
	uint8_t buf[8];

	memcpy(buf, rfc1071_example, sizeof(buf));
	/* Length 0: a NULL pointer must not be touched and the sum passes through. */
	cr_assert_eq(csum_partial(NULL, 0, 0x1234), 0x1234);
	cr_assert_eq(csum_partial(buf, 0, 0), 0);
	cr_assert_eq(memcmp(buf, rfc1071_example, sizeof(buf)), 0, "input buffer modified");
	cr_assert_eq(csum_partial(buf, sizeof(buf), 0), 0xddf2);
	cr_assert_eq(memcmp(buf, rfc1071_example, sizeof(buf)), 0, "input buffer modified");
}

/* RFC 1071 §3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2, checksum 220d. */
Test(checksum, rfc1071_sec3_example_sum_ddf2_checksum_220d)
{
	uint32_t sum = csum_partial(rfc1071_example, sizeof(rfc1071_example), 0);

	cr_assert_eq(sum, 0xddf2, "sum %#x", sum);
	cr_assert_eq(csum_fold(sum), htons(0x220d));
}

/* RFC 1071 §2 (B): the sum can be computed in pieces. */
Test(checksum, rfc1071_sec2_sum_of_even_chunks_equals_whole)
{
	uint32_t sum = csum_partial(rfc1071_example, 2, 0);

	sum = csum_partial(rfc1071_example + 2, 4, sum);
	sum = csum_partial(rfc1071_example + 6, 2, sum);
	cr_assert_eq(sum, 0xddf2);
}

/* RFC 1071 §4.1: an odd last byte is padded with a zero byte. */
Test(checksum, odd_length_pads_last_byte_with_zero)
{
	const uint8_t three[3] = {0x12, 0x34, 0x56};

	cr_assert_eq(csum_partial(three, 3, 0), 0x1234 + 0x5600);
	cr_assert_eq(csum_partial(three, 1, 0), 0x1200);
}

/* Every length 0..300 at every start offset 0..15 agrees with the naive sum. */
Test(checksum, any_length_any_alignment_matches_naive_sum)
{
	static uint8_t buf[320];
	uint32_t seed = 0x6052c0de;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)test_checksum_rand(&seed);
	for (size_t off = 0; off < 16; off++) {
		for (size_t len = 0; len <= 300; len++) {
			uint32_t got = csum_partial(buf + off, len, 0);

			cr_assert_eq(got, naive_sum(buf + off, len), "offset %zu length %zu: %#x",
				     off, len, got);
		}
	}
}

/* All-0xFF data makes a carry out of every 64-bit addition. */
Test(checksum, max_size_all_ones_buffer_matches_naive_sum)
{
	static uint8_t buf[65535];

	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(csum_partial(buf, sizeof(buf), 0), naive_sum(buf, sizeof(buf)));
	cr_assert_eq(csum_partial(buf + 1, sizeof(buf) - 1, 0xffff),
		     csum_add(naive_sum(buf + 1, sizeof(buf) - 1), 0xffff));
}

/* A running sum near the top of 32 bits must not overflow. */
Test(checksum, large_running_sum_is_folded_not_lost)
{
	uint32_t sum = csum_partial(rfc1071_example, sizeof(rfc1071_example), 0xffffffffu);

	/* 0xffffffff folds to 0xffff (-0), and ddf2 + -0 = ddf2. */
	cr_assert_eq(sum, 0xddf2, "sum %#x", sum);
}

Test(checksum, all_zero_data_gives_checksum_ffff)
{
	const uint8_t zero[10] = {0};

	cr_assert_eq(csum_fold(csum_partial(zero, sizeof(zero), 0)), htons(0xffff));
}

Test(checksum, fold_handles_carries_above_16_bits)
{
	cr_assert_eq(csum_fold(0x2ddf0), htons((uint16_t)~0xddf2));
	cr_assert_eq(csum_fold(0x1fffe), htons(0x0000));
	cr_assert_eq(csum_fold(0xffffffffu), htons(0x0000));
	cr_assert_eq(csum_fold(0), htons(0xffff));
}

Test(checksum, add_wraps_the_carry_around)
{
	cr_assert_eq(csum_add(0xffff, 0x0001), 0x0001);
	cr_assert_eq(csum_add(0xffffffffu, 0xffffffffu), 0xffff);
	cr_assert_eq(csum_add(0x1234, 0), 0x1234);
}

Test(checksum, classic_ipv4_header_checksum_b861)
{
	uint8_t hdr[20];

	memcpy(hdr, classic_ipv4_hdr, sizeof(hdr));
	cr_assert_eq(csum_ipv4_header(hdr, sizeof(hdr)), 0, "a correct header verifies to 0");
	hdr[10] = 0;
	hdr[11] = 0;
	cr_assert_eq(csum_ipv4_header(hdr, sizeof(hdr)), htons(0xb861));
}

Test(checksum, ipv4_header_with_wrong_checksum_does_not_verify)
{
	uint8_t hdr[20];

	memcpy(hdr, classic_ipv4_hdr, sizeof(hdr));
	hdr[11] ^= 1;
	cr_assert_neq(csum_ipv4_header(hdr, sizeof(hdr)), 0);
}

/* RFC 768: UDP checksum over the IPv4 pseudo-header, header and data. */
Test(checksum, udp_over_ipv4_datagram_checksum_1b43)
{
	uint8_t d[sizeof(udp4_datagram)];
	struct in_addr src, dst;
	uint32_t udp_len = sizeof(d) - 20, sum;

	memcpy(d, udp4_datagram, sizeof(d));
	memcpy(&src, d + 12, 4);
	memcpy(&dst, d + 16, 4);
	cr_assert_eq(csum_ipv4_header(d, 20), 0);

	sum = csum_pseudo4(src, dst, IPPROTO_UDP, udp_len);
	cr_assert_eq(csum_fold(csum_partial(d + 20, udp_len, sum)), 0,
		     "a correct datagram verifies");

	put16(d + 26, 0);
	sum = csum_pseudo4(src, dst, IPPROTO_UDP, udp_len);
	cr_assert_eq(csum_fold(csum_partial(d + 20, udp_len, sum)), htons(0x1b43));
}

/* RFC 8200 §8.1: UDP checksum over the IPv6 pseudo-header. */
Test(checksum, udp_over_ipv6_datagram_checksum_af8a)
{
	uint8_t d[sizeof(udp6_datagram)];
	struct in6_addr src, dst;
	uint32_t udp_len = sizeof(d) - 40, sum;

	memcpy(d, udp6_datagram, sizeof(d));
	memcpy(&src, d + 8, 16);
	memcpy(&dst, d + 24, 16);

	sum = csum_pseudo6(&src, &dst, IPPROTO_UDP, udp_len);
	cr_assert_eq(csum_fold(csum_partial(d + 40, udp_len, sum)), 0,
		     "a correct datagram verifies");

	put16(d + 46, 0);
	sum = csum_pseudo6(&src, &dst, IPPROTO_UDP, udp_len);
	cr_assert_eq(csum_fold(csum_partial(d + 40, udp_len, sum)), htons(0xaf8a));
}

/* The pseudo-header sums equal the naive sum of the pseudo-headers laid
 * out in memory (RFC 793 §3.1, RFC 8200 §8.1), including a 32-bit length. */
Test(checksum, pseudo_headers_match_their_wire_layout)
{
	uint8_t ph4[12] = {192, 0, 2, 1, 203, 0, 113, 9, 0, IPPROTO_TCP, 0x05, 0xdc};
	uint8_t ph6[40] = {0};
	struct in_addr s4, d4;
	struct in6_addr s6, d6;

	memcpy(&s4, ph4, 4);
	memcpy(&d4, ph4 + 4, 4);
	cr_assert_eq(csum_pseudo4(s4, d4, IPPROTO_TCP, 1500), naive_sum(ph4, sizeof(ph4)));

	for (int i = 0; i < 32; i++)
		ph6[i] = (uint8_t)(0x20 + 7 * i);
	ph6[33] = 0x01; /* length 0x00012345: a jumbogram-sized value */
	ph6[34] = 0x23;
	ph6[35] = 0x45;
	ph6[39] = IPPROTO_ICMPV6;
	memcpy(&s6, ph6, 16);
	memcpy(&d6, ph6 + 16, 16);
	cr_assert_eq(csum_pseudo6(&s6, &d6, IPPROTO_ICMPV6, 0x12345), naive_sum(ph6, sizeof(ph6)));
}

/*
 * RFC 1624 §3: the other words sum to 0xCD7A and a field changes from
 * 0x5555 to 0x3285, so HC = 0xDD2F and the recomputed checksum is +0
 * (0x0000). RFC 1141's eqn. 2 answers -0 (0xFFFF); eqn. 3 must give 0x0000.
 */
Test(checksum, rfc1624_sec3_update_gives_plus_zero_not_minus_zero)
{
	uint8_t words[4] = {0xcd, 0x7a, 0x55, 0x55};
	uint16_t hc = htons(naive_csum(words, sizeof(words)));
	uint16_t updated;

	cr_assert_eq(hc, htons(0xdd2f));
	updated = csum_replace16(hc, htons(0x5555), htons(0x3285));
	put16(words + 2, 0x3285);
	cr_assert_eq(naive_csum(words, sizeof(words)), 0x0000);
	cr_assert_eq(updated, htons(0x0000), "got %#x", ntohs(updated));
}

/* The mirror case: changing the field back from +0 must restore 0xDD2F. */
Test(checksum, rfc1624_update_from_zero_checksum_restores_original)
{
	cr_assert_eq(csum_replace16(htons(0x0000), htons(0x3285), htons(0x5555)), htons(0xdd2f));
}

/* A field that does not change leaves the checksum alone, even at 0x0000. */
Test(checksum, rfc1624_unchanged_field_keeps_checksum)
{
	cr_assert_eq(csum_replace16(htons(0x0000), htons(0x1234), htons(0x1234)), htons(0x0000));
	cr_assert_eq(csum_replace16(htons(0xb861), htons(0xffff), htons(0xffff)), htons(0xb861));
	cr_assert_eq(csum_replace(htons(0x4321), 0, 0), htons(0x4321));
}

enum { RAND_BUF = 64, RAND_ROUNDS = 20000 };

/* Random buffer whose first word is fixed non-zero, as a real pseudo-header
 * is (RFC 1624 §3: an all-zero message is the one case where eqn. 3 and a
 * recomputation differ, and no packet is all zero). */
static void
fill_random(uint8_t *buf, size_t len, uint32_t *seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)test_checksum_rand(seed);
	put16(buf, 0x0011);
}

/* RFC 1624 eqn. 3 on one 16-bit word equals a naive recomputation. */
Test(checksum, rfc1624_replace16_equals_recomputation_randomized)
{
	uint8_t buf[RAND_BUF];
	uint32_t seed = 1624;

	for (int r = 0; r < RAND_ROUNDS; r++) {
		size_t w = 2 + 2 * (test_checksum_rand(&seed) % (RAND_BUF / 2 - 1));
		uint16_t old, new, hc;

		fill_random(buf, sizeof(buf), &seed);
		/* Bias towards 0x0000/0xFFFF, where -0/+0 problems live. */
		if (r % 4 == 0)
			put16(buf + w, r % 8 ? 0xffff : 0x0000);
		hc = htons(naive_csum(buf, sizeof(buf)));
		old = get16(buf + w);
		new = (r % 3 == 0) ? (uint16_t)~old : (uint16_t)test_checksum_rand(&seed);
		put16(buf + w, new);
		cr_assert_eq(csum_replace16(hc, htons(old), htons(new)),
			     htons(naive_csum(buf, sizeof(buf))), "round %d", r);
	}
}

/* Checksums that end at 0x0000 are the -0/+0 trap: force the new value so
 * that the recomputed checksum is exactly 0x0000, many times. */
Test(checksum, rfc1624_replace16_landing_on_zero_checksum_randomized)
{
	uint8_t buf[RAND_BUF];
	uint32_t seed = 0xfeedf00d;

	for (int r = 0; r < 2000; r++) {
		uint16_t hc, old, rest, new;

		fill_random(buf, sizeof(buf), &seed);
		hc = htons(naive_csum(buf, sizeof(buf)));
		old = get16(buf + 10);
		put16(buf + 10, 0);
		rest = naive_sum(buf, sizeof(buf));
		new = (uint16_t)~rest; /* rest + new = 0xFFFF: checksum +0 */
		put16(buf + 10, new);
		cr_assert_eq(naive_csum(buf, sizeof(buf)), 0x0000);
		cr_assert_eq(csum_replace16(hc, htons(old), htons(new)), htons(0x0000), "round %d",
			     r);
	}
}

/* Address and multi-byte span changes (a NAT rewriting src/dst/ports). */
Test(checksum, rfc1624_replace_spans_equals_recomputation_randomized)
{
	uint8_t buf[RAND_BUF], before[RAND_BUF];
	uint32_t seed = 0x1071;

	for (int r = 0; r < RAND_ROUNDS; r++) {
		size_t off = 2 + 2 * (test_checksum_rand(&seed) % 16);
		size_t len = 2 + 2 * (test_checksum_rand(&seed) % 10);
		struct in_addr a_old, a_new;
		uint16_t hc, got;

		fill_random(buf, sizeof(buf), &seed);
		memcpy(before, buf, sizeof(buf));
		hc = htons(naive_csum(buf, sizeof(buf)));
		for (size_t i = off; i < off + len; i++)
			buf[i] = (uint8_t)test_checksum_rand(&seed);
		got = csum_replace(hc, csum_partial(before + off, len, 0),
				   csum_partial(buf + off, len, 0));
		cr_assert_eq(got, htons(naive_csum(buf, sizeof(buf))), "round %d", r);

		/* Then an IPv4 address at an even offset changes too. */
		memcpy(&a_old, buf + 20, 4);
		a_new.s_addr = test_checksum_rand(&seed);
		memcpy(buf + 20, &a_new, 4);
		got = csum_replace4(got, a_old, a_new);
		cr_assert_eq(got, htons(naive_csum(buf, sizeof(buf))), "round %d", r);
	}
}

/* RFC 1624 used the way the translator does: swap the IPv6 pseudo-header
 * of a UDP datagram for an IPv4 one and move the ports, incrementally. */
Test(checksum, rfc1624_pseudo_header_swap_6to4_matches_recomputation)
{
	uint8_t udp[25];
	struct in6_addr s6, d6;
	struct in_addr s4 = {htonl(0xcb007101)}, d4 = {htonl(0xc6336407)};
	uint16_t hc6, want;
	uint32_t old_sum, new_sum;

	memcpy(udp, udp6_datagram + 40, sizeof(udp));
	memcpy(&s6, udp6_datagram + 8, 16);
	memcpy(&d6, udp6_datagram + 24, 16);
	memcpy(&hc6, udp + 6, 2);

	old_sum = csum_add(csum_pseudo6(&s6, &d6, IPPROTO_UDP, sizeof(udp)), get16(udp));
	new_sum = csum_add(csum_pseudo4(s4, d4, IPPROTO_UDP, sizeof(udp)), 61001);
	put16(udp, 61001); /* new source port */

	put16(udp + 6, 0);
	want = csum_fold(csum_partial(udp, sizeof(udp), csum_pseudo4(s4, d4, IPPROTO_UDP, 25)));
	cr_assert_eq(csum_replace(hc6, old_sum, new_sum), want);
}

/* csum_replace() accepts unfolded 32-bit sums: 0x15554 is 0x5555 + carry. */
Test(checksum, rfc1624_replace_folds_unfolded_sums)
{
	cr_assert_eq(csum_replace(htons(0xdd2f), 0x15554, 0x3285), htons(0x0000));
	cr_assert_eq(csum_replace(htons(0x0000), 0x3285, 0x25553), htons(0xdd2f));
}
