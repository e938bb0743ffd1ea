/*
 * MTU arithmetic for translated ICMP errors (see mtu.h).
 *
 * Everything is computed in 64 bits so `mtu4_in + 20` or a PTB near
 * 2^32 can't wrap, then clamped to what the ICMP field can carry.
 */
#include "mtu.h"

enum {
	HDR_DIFF = 40 - 20, /* IPv6 header minus IPv4 header */
	FRAG_HDR_LEN = 8,   /* RFC 8200 §4.5 */
	FN_FIELD_MAX = 65535,
};

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* a - b, or 0 when b is larger. */
static uint64_t
sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

uint16_t
mtu_ptb_to_fn(uint32_t ptb, uint32_t mtu4, uint32_t mtu6_in, bool frag_hdr)
{
	/* RFC 7915 §5.2: "taking into account whether or not the packet in
	 * error includes a Fragment Header". The header difference applies to
	 * both IPv6 terms: both measure IPv6 packets. */
	uint64_t hdr = HDR_DIFF + (frag_hdr ? FRAG_HDR_LEN : 0);
	uint64_t mtu = min64(sub_sat(ptb, hdr), mtu4);

	mtu = min64(mtu, sub_sat(mtu6_in, hdr));
	if (mtu < MTU_IPV4_MIN)
		mtu = MTU_IPV4_MIN;
	return (uint16_t)min64(mtu, FN_FIELD_MAX);
}

uint32_t
mtu_fn_to_ptb(uint16_t fn, uint32_t mtu6, uint32_t mtu4_in)
{
	uint64_t mtu = min64((uint64_t)fn + HDR_DIFF, mtu6);

	mtu = min64(mtu, (uint64_t)mtu4_in + HDR_DIFF);
	/* RFC 7915 §4.2: the plateau must be "larger than or equal to 1280";
	 * RFC 8200 §5: no IPv6 link is smaller. */
	if (mtu < MTU_IPV6_MIN)
		mtu = MTU_IPV6_MIN;
	return (uint32_t)mtu;
}

uint16_t
mtu_plateau_below(const uint16_t *plateaus, size_t count, uint16_t total_len)
{
	uint16_t best = 0;

	for (size_t i = 0; i < count; i++)
		if (plateaus[i] < total_len && plateaus[i] > best)
			best = plateaus[i];
	return best;
}
