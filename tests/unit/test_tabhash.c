/* tabhash() (SipHash-1-3 over words) against a byte-wise SipHash-c-d
 * written here from the paper, itself checked against the paper's
 * SipHash-2-4 vector. */
#include <criterion/criterion.h>

#include "tabhash.h"

static const struct siphash_key paper_key = {
	.k = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL},
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void
round_ref(uint64_t *v)
{
	v[0] += v[1], v[1] = ROTL(v[1], 13), v[1] ^= v[0], v[0] = ROTL(v[0], 32);
	v[2] += v[3], v[3] = ROTL(v[3], 16), v[3] ^= v[2];
	v[0] += v[3], v[3] = ROTL(v[3], 21), v[3] ^= v[0];
	v[2] += v[1], v[1] = ROTL(v[1], 17), v[1] ^= v[2], v[2] = ROTL(v[2], 32);
}

/* SipHash-c-d of `len` bytes, little-endian words, one byte at a time. */
static uint64_t
siphash_ref(int c, int d, const struct siphash_key *key, const uint8_t *in, size_t len)
{
	uint64_t v[4] = {0x736f6d6570736575ULL ^ key->k[0], 0x646f72616e646f6dULL ^ key->k[1],
			 0x6c7967656e657261ULL ^ key->k[0], 0x7465646279746573ULL ^ key->k[1]};

	for (size_t blk = 0; blk <= len / 8; blk++) {
		uint64_t m = 0;

		for (size_t i = 0; i < 8 && blk * 8 + i < len; i++)
			m |= (uint64_t)in[blk * 8 + i] << (8 * i);
		if (blk == len / 8)
			m |= (uint64_t)(uint8_t)len << 56;
		v[3] ^= m;
		for (int r = 0; r < c; r++)
			round_ref(v);
		v[0] ^= m;
	}
	v[2] ^= 0xff;
	for (int r = 0; r < d; r++)
		round_ref(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void
words_to_bytes(const uint64_t *w, unsigned n, uint8_t *out)
{
	for (unsigned i = 0; i < n * 8; i++)
		out[i] = (uint8_t)(w[i / 8] >> (8 * (i % 8)));
}

Test(tabhash, no_words_is_siphash13_of_nothing)
{
	cr_assert_eq(tabhash(&paper_key, NULL, 0), siphash_ref(1, 3, &paper_key, NULL, 0));
	cr_assert_neq(tabhash(&paper_key, NULL, 0), siphash_ref(2, 4, &paper_key, NULL, 0));
}

Test(tabhash, reference_matches_the_paper)
{
	uint8_t msg[15];

	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	cr_assert_eq(siphash_ref(2, 4, &paper_key, msg, 15), 0xa129ca6149be45e5ULL);
	cr_assert_eq(siphash_ref(2, 4, &paper_key, msg, 0), 0x726fdb47dd0e0e31ULL);
}

Test(tabhash, words_hash_as_their_little_endian_bytes)
{
	uint64_t w[4] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, 0xdeadbeef00c0ffeeULL, 6};
	uint8_t bytes[32];

	words_to_bytes(w, 4, bytes);
	for (unsigned n = 1; n <= 4; n++)
		cr_assert_eq(tabhash(&paper_key, w, n), siphash_ref(1, 3, &paper_key, bytes, n * 8),
			     "%u words", n);
}

Test(tabhash, key_and_word_order_change_result)
{
	struct siphash_key other = paper_key;
	uint64_t w[2] = {1, 2}, swapped[2] = {2, 1};

	other.k[1] ^= 1;
	cr_assert_neq(tabhash(&paper_key, w, 2), tabhash(&other, w, 2));
	cr_assert_neq(tabhash(&paper_key, w, 2), tabhash(&paper_key, swapped, 2));
}

Test(tabhash, memo_empty_never_answers)
{
	struct tabhash_memo m = {0};
	uint64_t zero[1] = {0};

	/* An empty memo holds zero words and hash 0: a key of zeros must
	 * still be hashed, not answered 0. */
	cr_assert_eq(tabhash_memo(&paper_key, &m, zero, 1), tabhash(&paper_key, zero, 1));
	cr_assert_neq(tabhash(&paper_key, zero, 1), 0);
}

Test(tabhash, memo_follows_the_key)
{
	struct tabhash_memo m = {0};
	uint64_t w[3] = {11, 22, 33};

	cr_assert_eq(tabhash_memo(&paper_key, &m, w, 3), tabhash(&paper_key, w, 3));
	cr_assert_eq(tabhash_memo(&paper_key, &m, w, 3), tabhash(&paper_key, w, 3));
	/* Same first words, fewer of them: another key. */
	cr_assert_eq(tabhash_memo(&paper_key, &m, w, 2), tabhash(&paper_key, w, 2));
	w[1] = 23;
	cr_assert_eq(tabhash_memo(&paper_key, &m, w, 2), tabhash(&paper_key, w, 2));
	cr_assert_eq(m.n, 2);
}
