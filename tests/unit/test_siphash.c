/* SipHash-2-4 against the reference test vectors of the SipHash paper
 * (appendix A): key 00 01 .. 0f, messages 00, 00 01, 00 01 02, ... */
#include <criterion/criterion.h>

#include "siphash.h"

static const struct siphash_key paper_key = {
	.k = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL},
};

Test(siphash, paper_vector_empty_message)
{
	cr_assert_eq(siphash(&paper_key, "", 0), 0x726fdb47dd0e0e31ULL);
}

Test(siphash, paper_vector_15_bytes)
{
	uint8_t msg[15];

	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	cr_assert_eq(siphash(&paper_key, msg, sizeof(msg)), 0xa129ca6149be45e5ULL);
}

Test(siphash, paper_vector_8_bytes)
{
	uint8_t msg[8];

	for (int i = 0; i < 8; i++)
		msg[i] = (uint8_t)i;
	cr_assert_eq(siphash(&paper_key, msg, sizeof(msg)), 0x93f5f5799a932462ULL);
}

Test(siphash, key_changes_result)
{
	struct siphash_key other = paper_key;

	other.k[0] ^= 1;
	cr_assert_neq(siphash(&paper_key, "nat64", 5), siphash(&other, "nat64", 5));
}
