/*
 * Building the ICMP errors the translator originates (see icmp_error.h).
 */
#include "icmp_error.h"

#include "checksum.h"

enum {
	IP6_HDR = 40,
	IP4_HDR = 20,
	ICMP_HDR = 8,
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* RFC 4443 §2.4 (e.1), (e.2): never about an ICMP error; a non-first
 * fragment can't be told apart from one. RFC 1812 §4.3.2.7 says the same
 * for IPv4. */
static bool
about_error_or_fragment(const struct pkt_l3 *l3)
{
	if (l3->frag_offset != 0)
		return true;
	return l3->has_icmp && l3->icmp_is_error;
}

bool
icmp_error_allowed6(const uint8_t *pkt, const struct pkt_info *info)
{
	static const struct in6_addr any = IN6ADDR_ANY_INIT;
	const uint8_t *src = pkt + 8;
	const uint8_t *dst = pkt + 24;

	if (about_error_or_fragment(&info->outer))
		return false;
	/* RFC 4443 §2.4 (e.3), (e.6): not to a multicast destination, not
	 * about a source that does not name a single node. */
	if (dst[0] == 0xff || src[0] == 0xff)
		return false;
	return memcmp(src, &any, sizeof(any)) != 0;
}

/* RFC 1812 §4.3.2.7 / RFC 1122 §3.2.2: the source must name one host. */
static bool
host_address4(const uint8_t *a)
{
	if (a[0] == 0 || a[0] == 127) /* "this network", loopback */
		return false;
	return a[0] < 224; /* multicast, class E and 255.255.255.255 */
}

bool
icmp_error_allowed4(const uint8_t *pkt, const struct pkt_info *info)
{
	const uint8_t *dst = pkt + 16;

	if (about_error_or_fragment(&info->outer))
		return false;
	if (dst[0] >= 224) /* multicast or broadcast destination */
		return false;
	return host_address4(pkt + 12);
}

uint32_t
icmp_error_build6(uint8_t *out, const struct in6_addr *src, const uint8_t *orig, uint32_t orig_len,
		  const struct icmp_error *e)
{
	uint32_t quote = orig_len;
	uint32_t icmp_len;
	struct in6_addr dst;
	uint16_t csum;

	if (orig_len < IP6_HDR)
		return 0;
	if (quote > ICMP_ERROR6_MAX - IP6_HDR - ICMP_HDR)
		quote = ICMP_ERROR6_MAX - IP6_HDR - ICMP_HDR;
	icmp_len = ICMP_HDR + quote;
	memcpy(&dst, orig + 8, sizeof(dst));

	/* The quote first, as in icmp_error_build4(). */
	memmove(out + IP6_HDR + ICMP_HDR, orig, quote);
	memset(out, 0, IP6_HDR + ICMP_HDR);
	out[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
	put16(out + 4, (uint16_t)icmp_len);
	out[6] = IPPROTO_ICMPV6;
	out[7] = ICMP_ERROR_TTL;
	memcpy(out + 8, src, 16);
	memcpy(out + 24, &dst, 16);
	out[IP6_HDR] = e->type;
	out[IP6_HDR + 1] = e->code;
	put32(out + IP6_HDR + 4, e->rest);
	/* RFC 4443 §2.3: the checksum covers the IPv6 pseudo-header. */
	csum = csum_fold(csum_partial(out + IP6_HDR, icmp_len,
				      csum_pseudo6(src, &dst, IPPROTO_ICMPV6, icmp_len)));
	memcpy(out + IP6_HDR + 2, &csum, 2);
	return IP6_HDR + icmp_len;
}

uint32_t
icmp_error_build4(uint8_t *out, struct in_addr src, uint16_t id, const uint8_t *orig,
		  uint32_t orig_len, const struct icmp_error *e)
{
	uint32_t quote = orig_len;
	uint32_t total;
	uint16_t csum;

	if (orig_len < IP4_HDR)
		return 0;
	if (quote > ICMP_ERROR4_MAX - IP4_HDR - ICMP_HDR)
		quote = ICMP_ERROR4_MAX - IP4_HDR - ICMP_HDR;
	total = IP4_HDR + ICMP_HDR + quote;

	/* The quote first: `orig` is read before the header is written, so a
	 * caller may build in front of its own copy of the packet. */
	memmove(out + IP4_HDR + ICMP_HDR, orig, quote);
	memset(out, 0, IP4_HDR + ICMP_HDR);
	out[0] = 0x45;
	out[1] = ICMP_ERROR4_TOS;
	put16(out + 2, (uint16_t)total);
	put16(out + 4, id);
	/* Flags and offset 0: DF clear, as the kernel sends errors. */
	out[8] = ICMP_ERROR_TTL;
	out[9] = IPPROTO_ICMP;
	memcpy(out + 12, &src, 4);
	memcpy(out + 16, out + IP4_HDR + ICMP_HDR + 12, 4); /* to the sender */
	csum = csum_ipv4_header(out, IP4_HDR);
	memcpy(out + 10, &csum, 2);
	out[IP4_HDR] = e->type;
	out[IP4_HDR + 1] = e->code;
	put32(out + IP4_HDR + 4, e->rest);
	/* RFC 792: ICMPv4 has no pseudo-header. */
	csum = csum_fold(csum_partial(out + IP4_HDR, ICMP_HDR + quote, 0));
	memcpy(out + IP4_HDR + 2, &csum, 2);
	return total;
}
