/*
 * Checksum helpers shared by the fuzz targets: which transport checksums
 * can be checked, whether they verify, and the "repair" that lets mutated
 * inputs past the parsers' checksum checks so the fuzzer reaches deeper.
 * Header-only (static functions) because each target is one translation
 * unit built by clang with the core sources.
 */
#ifndef NAT64_TESTS_FUZZ_CSUM_H
#define NAT64_TESTS_FUZZ_CSUM_H

#include <string.h>

#include "checksum.h"
#include "packet.h"

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Length of the transport segment the checksum covers, or 0 to skip. */
static uint32_t
l4_span(const uint8_t *pkt, const struct pkt_l3 *l3)
{
	uint32_t len;

	if (l3->is_fragment || l3->l4_off >= l3->l3_end)
		return 0;
	len = l3->l3_end - l3->l4_off;
	if (l3->l4_proto == IPPROTO_UDP) {
		if (len < 8 || get16(pkt + l3->l4_off + 4) > len)
			return 0;
		return get16(pkt + l3->l4_off + 4);
	}
	if (l3->l4_proto == IPPROTO_TCP || l3->l4_proto == IPPROTO_ICMP ||
	    l3->l4_proto == IPPROTO_ICMPV6)
		return len;
	return 0;
}

enum csum_state {
	CSUM_SKIP,    /* fragment or other protocol: not checkable */
	CSUM_BAD,     /* present and wrong */
	CSUM_GOOD,    /* present and right */
	CSUM_ABSENT4, /* IPv4 UDP with checksum 0 */
};

static enum csum_state
l4_csum_state(const uint8_t *pkt, const struct pkt_l3 *l3)
{
	uint32_t len = l4_span(pkt, l3), sum = 0;
	const uint8_t *l4 = pkt + l3->l4_off;

	if (len == 0)
		return CSUM_SKIP;
	if (l3->family == 6) {
		struct in6_addr src, dst;

		memcpy(&src, pkt + 8, 16);
		memcpy(&dst, pkt + 24, 16);
		sum = csum_pseudo6(&src, &dst, l3->l4_proto, len);
	} else if (l3->l4_proto != IPPROTO_ICMP) {
		struct in_addr src, dst;

		if (l3->l4_proto == IPPROTO_UDP && get16(l4 + 6) == 0)
			return CSUM_ABSENT4;
		memcpy(&src, pkt + 12, 4);
		memcpy(&dst, pkt + 16, 4);
		sum = csum_pseudo4(src, dst, l3->l4_proto, len);
	}
	return csum_fold(csum_partial(l4, len, sum)) == 0 ? CSUM_GOOD : CSUM_BAD;
}

/* Recompute the checksum of a transport segment of `len` bytes. */
static void
fix_l4(uint8_t *l4, uint32_t len, uint8_t proto, uint32_t pseudo)
{
	uint32_t off;
	uint16_t c;

	if (proto == IPPROTO_TCP)
		off = 16;
	else if (proto == IPPROTO_UDP)
		off = 6;
	else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		off = 2;
	else
		return;
	if (len < off + 2)
		return;
	l4[off] = 0;
	l4[off + 1] = 0;
	c = csum_fold(csum_partial(l4, len, pseudo));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff; /* RFC 768: 0 means "no checksum" */
	memcpy(l4 + off, &c, 2);
}

/* IPv4: transport checksum of an unfragmented packet (an IPv4 UDP checksum
 * of 0 stays absent), then the header checksum. */
static void
fixup4(uint8_t *b, uint32_t len)
{
	uint32_t ihl, total;
	struct in_addr src, dst;
	uint16_t c;

	if (len < 20)
		return;
	ihl = (b[0] & 15u) * 4;
	total = get16(b + 2);
	if (ihl < 20 || total < ihl || total > len)
		return;
	if ((get16(b + 6) & 0x3fff) == 0 &&
	    !(b[9] == IPPROTO_UDP && total >= ihl + 8 && get16(b + ihl + 6) == 0)) {
		memcpy(&src, b + 12, 4);
		memcpy(&dst, b + 16, 4);
		fix_l4(b + ihl, total - ihl, b[9],
		       b[9] == IPPROTO_ICMP ? 0 : csum_pseudo4(src, dst, b[9], total - ihl));
	}
	b[10] = 0;
	b[11] = 0;
	c = csum_ipv4_header(b, ihl);
	memcpy(b + 10, &c, 2);
}

/* IPv6: only a transport header right after the fixed header. */
static void
fixup6(uint8_t *b, uint32_t len)
{
	struct in6_addr src, dst;
	uint32_t plen;

	if (len < 40)
		return;
	plen = get16(b + 4);
	if (40 + plen > len)
		return;
	memcpy(&src, b + 8, 16);
	memcpy(&dst, b + 24, 16);
	fix_l4(b + 40, plen, b[6], csum_pseudo6(&src, &dst, b[6], plen));
}

#endif
