/*
 * RFC 7915 §5: IPv6 -> IPv4, in place.
 *
 * The IPv4 header is written just before the transport header, over the
 * tail of the IPv6 header and its extension headers (which RFC 7915 §5.1
 * drops), so the transport header and payload never move: the packet
 * only loses its first bytes, which become headroom. ICMPv6 errors go to
 * translate_icmp.c, because the packet they quote changes size too.
 *
 * Every check runs before the first write, so a refused packet (and its
 * struct pkt) is left exactly as it came.
 *
 * Checksums are updated incrementally (RFC 1624): the IPv6 addresses and
 * old ports are taken out of the sum, the IPv4 addresses and new ports put
 * in. The pseudo-header length and protocol are the same number in both
 * pseudo-headers (RFC 768/793 vs RFC 8200 §8.1) and cancel out, which is
 * what makes a first fragment translatable without knowing the length of
 * its whole datagram. A non-first fragment holds no transport header, so
 * only its IP header changes.
 */
#include "translate.h"

#include "checksum.h"
#include "translate_icmp.h"

/* RFC 791 §3.1 flags, in the 16-bit flags/offset field. */
enum {
	IP4_DF = 0x4000,
	IP4_MF = 0x2000,
};

enum {
	TCP_CSUM_OFF = 16,
	UDP_CSUM_OFF = 6,
	ICMP_CSUM_OFF = 2,
	ICMP_ID_OFF = 4,
	ECHO_HDR_LEN = 8,
};

uint8_t
xlat64_tos(const uint8_t *ip6, const struct xlat_config *cfg)
{
	/* RFC 7915 §5.1: TOS copied from the Traffic Class, unless the
	 * operator asked for a fixed value (Jool's override-tos). */
	if (cfg->override_tos)
		return cfg->tos;
	return (uint8_t)((ip6[0] & 0x0f) << 4 | ip6[1] >> 4);
}

/* The Identification and flags/offset fields (RFC 7915 §5.1, §5.1.1). */
static void
ids64(const struct pkt_l3 *l3, const struct xlat_hdr4 *h, uint16_t *id, uint16_t *frag)
{
	if (l3->frag_hdr_off != 0) {
		/* §5.1.1: low 16 bits of the Fragment header's ID, MF and
		 * offset copied, DF 0 so IPv4 routers may fragment further. */
		*id = (uint16_t)l3->frag_id;
		*frag = (uint16_t)(l3->frag_offset / 8) | (l3->more_fragments ? IP4_MF : 0);
		return;
	}
	/* §5.1: no Fragment header: ID from the caller's generator, MF 0,
	 * DF only when the packet is too big for a 1280-byte IPv6 path
	 * should it come back (RFC 6145's atomic fragments are gone). */
	*id = h->id;
	*frag = h->total_len > XLAT_DF_THRESHOLD ? IP4_DF : 0;
}

void
xlat64_ipv4_header(uint8_t out[IPV4_HDR_LEN], const struct pkt_l3 *l3, const struct xlat_hdr4 *h)
{
	uint8_t hdr[IPV4_HDR_LEN] = {0};
	uint16_t id;
	uint16_t frag;
	uint16_t csum;

	ids64(l3, h, &id, &frag);
	hdr[0] = 0x45; /* version 4, IHL 5: options are never produced */
	hdr[1] = h->tos;
	xlat_put16(hdr + 2, h->total_len);
	xlat_put16(hdr + 4, id);
	xlat_put16(hdr + 6, frag);
	hdr[8] = h->ttl;
	/* §5.1: the Next Header after the extension headers; ICMPv6 -> 1. */
	hdr[9] = l3->l4_proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : l3->l4_proto;
	memcpy(hdr + 12, &h->src, 4);
	memcpy(hdr + 16, &h->dst, 4);
	csum = csum_ipv4_header(hdr, IPV4_HDR_LEN);
	memcpy(hdr + 10, &csum, 2);
	/* Built aside: `out` usually overlaps the IPv6 header read above. */
	memcpy(out, hdr, IPV4_HDR_LEN);
}

/* Sum of new addresses and ports as they enter a checksum. */
static uint32_t
taddrs4_sum(const struct taddr4 *src, const struct taddr4 *dst)
{
	uint32_t sum = csum_partial(&src->addr, 4, 0);

	sum = csum_add(sum, csum_partial(&dst->addr, 4, 0));
	return csum_add(sum, (uint32_t)src->port + dst->port);
}

void
xlat64_tcpudp(uint8_t *l4, uint32_t avail, uint8_t proto, const uint8_t *ip6,
	      const struct taddr4 *src, const struct taddr4 *dst)
{
	uint32_t coff = proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	uint16_t csum;
	uint32_t from;

	if (avail < 4)
		return;
	if (avail >= coff + 2) {
		memcpy(&csum, l4 + coff, 2);
		/* IPv4 allows UDP without a checksum (RFC 768): keep 0. */
		if (!(proto == IPPROTO_UDP && csum == 0)) {
			from = csum_add(csum_partial(ip6 + 8, 32, 0), csum_partial(l4, 4, 0));
			csum = csum_replace(csum, from, taddrs4_sum(src, dst));
			/* RFC 768: a computed 0 is sent as all ones. */
			if (proto == IPPROTO_UDP && csum == 0)
				csum = 0xffff;
			memcpy(l4 + coff, &csum, 2);
		}
	}
	xlat_put16(l4, src->port);
	xlat_put16(l4 + 2, dst->port);
}

/* The IPv6 pseudo-header of the header at `ip6` (RFC 8200 §8.1). */
static uint32_t
pseudo6_of(const uint8_t *ip6, uint8_t proto, uint32_t len)
{
	struct in6_addr src;
	struct in6_addr dst;

	memcpy(&src, ip6 + 8, sizeof(src));
	memcpy(&dst, ip6 + 24, sizeof(dst));
	return csum_pseudo6(&src, &dst, proto, len);
}

void
xlat64_echo(uint8_t *icmp, uint32_t avail, const uint8_t *ip6, uint32_t icmp_len, uint16_t id)
{
	uint8_t type = icmp[0] == ICMP6_ECHO_REQUEST ? ICMP4_ECHO_REQUEST : ICMP4_ECHO_REPLY;
	uint32_t from;
	uint32_t to;
	uint16_t csum;

	if (avail < ECHO_HDR_LEN)
		return;
	/* RFC 7915 §5.2: "adjust the ICMP checksum both to take the type
	 * change into account and to exclude the ICMPv6 pseudo-header". */
	from = pseudo6_of(ip6, IPPROTO_ICMPV6, icmp_len);
	from = csum_add(from, (uint32_t)xlat_get16(icmp) + xlat_get16(icmp + ICMP_ID_OFF));
	to = ((uint32_t)type << 8 | icmp[1]) + id;
	memcpy(&csum, icmp + ICMP_CSUM_OFF, 2);
	csum = csum_replace(csum, from, to);
	icmp[0] = type;
	memcpy(icmp + ICMP_CSUM_OFF, &csum, 2);
	xlat_put16(icmp + ICMP_ID_OFF, id);
}

/* Checks on the IP layer that hold for every packet (RFC 7915 §5.1). */
static enum stat_id
check_ip6(const uint8_t *ip6, const struct pkt_l3 *l3, const struct xlat_addrs4 *a)
{
	/* The translator forwards like a router: Hop Limit 1 would reach 0. */
	if (a->decrement_ttl && ip6[7] <= 1)
		return STAT_XLAT64_HOP_LIMIT;
	/* "If a Routing header with a non-zero Segments Left field is
	 * present, then the packet MUST NOT be translated". */
	if (l3->src_route_off != 0)
		return STAT_XLAT64_SEGMENTS_LEFT;
	return STAT_OK;
}

/* Transport checks of a packet that is not an ICMPv6 error. */
static enum stat_id
check_l4(const struct pkt_l3 *l3)
{
	uint8_t type = l3->icmp_type;

	/* A 65535-byte IPv6 payload without extension headers does not fit
	 * the 16-bit Total Length once the 20-byte IPv4 header is added. */
	if (IPV4_HDR_LEN + l3->l3_end - l3->l4_off > IPV4_MAX_LEN)
		return STAT_XLAT64_TOO_BIG;
	if (l3->l4_proto != IPPROTO_ICMPV6 || !l3->has_icmp)
		return STAT_OK;
	/* §5.2: echo is translated; MLD, ND, unknown informational and any
	 * other type are "silently dropped". */
	if (type != ICMP6_ECHO_REQUEST && type != ICMP6_ECHO_REPLY)
		return STAT_ICMP6_TYPE_UNKNOWN;
	/* The checksum of a first fragment covers a pseudo-header holding
	 * the length of the whole datagram, which it does not carry. */
	if (l3->more_fragments && l3->frag_offset == 0)
		return STAT_XLAT64_ICMP_FRAG;
	return STAT_OK;
}

/* RFC 7915 §5.3 (transport headers): ports or identifier, checksum. */
static void
translate_l4(uint8_t *ip6, const struct pkt_l3 *l3, const struct xlat_addrs4 *a)
{
	uint8_t *l4 = ip6 + l3->l4_off;
	uint32_t avail = l3->l3_end - l3->l4_off;

	if (!l3->has_ports)
		return; /* non-first fragment: nothing but payload here */
	if (a->l4_csum_partial && (l3->l4_proto == IPPROTO_TCP || l3->l4_proto == IPPROTO_UDP)) {
		/* No RFC 1624 update: the field is not a checksum yet. */
		xlat_put16(l4, a->src.port);
		xlat_put16(l4 + 2, a->dst.port);
	} else if (l3->l4_proto == IPPROTO_TCP || l3->l4_proto == IPPROTO_UDP)
		xlat64_tcpudp(l4, avail, l3->l4_proto, ip6, &a->src, &a->dst);
	else if (l3->l4_proto == IPPROTO_ICMPV6)
		xlat64_echo(l4, avail, ip6, avail, a->src.port);
}

enum stat_id
xlat_6to4(struct pkt *p, const struct pkt_info *info, const struct xlat_addrs4 *a,
	  const struct xlat_config *cfg, uint32_t mtu4, uint32_t mtu6_in)
{
	const struct pkt_l3 *l3 = &info->outer;
	uint8_t *ip6 = p->data;
	struct xlat_hdr4 h;
	enum stat_id rc;

	rc = check_ip6(ip6, l3, a);
	if (rc != STAT_OK)
		return rc;
	if (l3->has_icmp && l3->icmp_is_error)
		return xlat_icmp_error64(p, info, a, cfg, mtu4, mtu6_in);
	rc = check_l4(l3);
	if (rc != STAT_OK)
		return rc;

	h.src = a->src.addr;
	h.dst = a->dst.addr;
	/* §5.1: Payload Length minus the extension headers, plus 20. */
	h.total_len = (uint16_t)(IPV4_HDR_LEN + l3->l3_end - l3->l4_off);
	h.tos = xlat64_tos(ip6, cfg);
	h.ttl = (uint8_t)(ip6[7] - (a->decrement_ttl ? 1 : 0));
	h.id = a->ipv4_id;
	/* Transport first: it reads the IPv6 addresses the new header
	 * overwrites. */
	translate_l4(ip6, l3, a);
	xlat64_ipv4_header(ip6 + l3->l4_off - IPV4_HDR_LEN, l3, &h);
	xlat_pkt_reframe(p, ip6 + l3->l4_off - IPV4_HDR_LEN, h.total_len);
	return STAT_OK;
}
