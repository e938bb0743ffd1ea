/*
 * RFC 7915 §4: IPv4 -> IPv6, in place.
 *
 * The IPv6 header (40 bytes, 48 with a Fragment header) is written so that
 * it ends where the IPv4 header and its options ended: the transport
 * header and payload never move, the header grows into the buffer's
 * headroom (PKT_HEADROOM = 28 covers a 20-byte IPv4 header becoming 48
 * bytes). ICMPv4 errors go to translate_icmp.c, because the packet they
 * quote grows too.
 *
 * Only a fragment gets a Fragment header (§4.1). An unfragmented packet
 * gets none, whatever its DF bit says: RFC 7915 dropped RFC 6145's atomic
 * fragments (RFC 8021). Splitting an oversized DF=0 packet to fit
 * lowest_ipv6_mtu is left to the caller (the fragmentation step).
 *
 * Every check runs before the first write, so a refused packet (and its
 * struct pkt) is left exactly as it came. Checksums are updated
 * incrementally (RFC 1624), as in translate_6to4.c; the one exception is
 * a whole UDP datagram without a checksum, which IPv6 can't carry
 * (RFC 8200 §8.1), so its checksum is computed.
 */
#include "translate.h"

#include "checksum.h"
#include "translate_icmp.h"

enum {
	NEXTHDR_FRAGMENT = 44, /* RFC 8200 §4.5 */
	FRAG6_M = 0x0001,
	TCP_CSUM_OFF = 16,
	UDP_CSUM_OFF = 6,
	ICMP_CSUM_OFF = 2,
	ICMP_ID_OFF = 4,
	ECHO_HDR_LEN = 8,
	UDP_HDR_LEN = 8,
};

uint8_t
xlat46_tclass(const uint8_t *ip4, const struct xlat_config *cfg)
{
	/* RFC 7915 §4.1: "By default, copied from the IP Type Of Service
	 * (TOS) octet"; an option sets it to 0 (Jool's
	 * zeroize-traffic-class). */
	return cfg->zeroize_traffic_class ? 0 : ip4[1];
}

uint32_t
xlat46_ipv6_header_len(const struct pkt_l3 *l3)
{
	return IPV6_HDR_LEN + (l3->is_fragment ? FRAG6_HDR_LEN : 0);
}

/* RFC 7915 §4.1 Fragment header: "Next Header: ... ICMPv4 (1) changed to
 * ICMPv6 (58)", offset and M copied, ID the IPv4 ID zero-extended. */
static void
frag_header(uint8_t *fh, uint8_t proto, const struct pkt_l3 *l3)
{
	fh[0] = proto;
	fh[1] = 0;
	xlat_put16(fh + 2, (uint16_t)(l3->frag_offset | (l3->more_fragments ? FRAG6_M : 0)));
	xlat_put32(fh + 4, l3->frag_id);
}

uint32_t
xlat46_ipv6_header(uint8_t out[IPV6_HDR_LEN + FRAG6_HDR_LEN], const struct pkt_l3 *l3,
		   const struct xlat_hdr6 *h)
{
	uint8_t hdr[IPV6_HDR_LEN + FRAG6_HDR_LEN] = {0};
	uint8_t proto = l3->l4_proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : l3->l4_proto;
	uint32_t len = xlat46_ipv6_header_len(l3);

	/* §4.1: version 6, Traffic Class, Flow Label 0. */
	xlat_put32(hdr, 6u << 28 | (uint32_t)h->tclass << 20);
	xlat_put16(hdr + 4, (uint16_t)(h->payload_len + len - IPV6_HDR_LEN));
	hdr[6] = l3->is_fragment ? NEXTHDR_FRAGMENT : proto;
	hdr[7] = h->hop_limit;
	memcpy(hdr + 8, h->src, 16);
	memcpy(hdr + 24, h->dst, 16);
	if (l3->is_fragment)
		frag_header(hdr + IPV6_HDR_LEN, proto, l3);
	/* Built aside: `out` usually overlaps the IPv4 header read above. */
	memcpy(out, hdr, len);
	return len;
}

/* Sum of new addresses and ports as they enter a checksum. */
static uint32_t
taddrs6_sum(const struct taddr6 *src, const struct taddr6 *dst)
{
	uint32_t sum = csum_partial(&src->addr, 16, 0);

	sum = csum_add(sum, csum_partial(&dst->addr, 16, 0));
	return csum_add(sum, (uint32_t)src->port + dst->port);
}

void
xlat46_tcpudp(uint8_t *l4, uint32_t avail, uint8_t proto, const uint8_t *ip4,
	      const struct taddr6 *src, const struct taddr6 *dst)
{
	uint32_t coff = proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	uint16_t csum;
	uint32_t from;

	if (avail < 4)
		return;
	if (avail >= coff + 2) {
		memcpy(&csum, l4 + coff, 2);
		/* A quoted UDP header without checksum stays so: the quote is
		 * cut short, the sum can't be computed (xlat_4to6 computes it
		 * for whole datagrams before calling this). */
		if (!(proto == IPPROTO_UDP && csum == 0)) {
			from = csum_add(csum_partial(ip4 + 12, 8, 0), csum_partial(l4, 4, 0));
			csum = csum_replace(csum, from, taddrs6_sum(src, dst));
			if (proto == IPPROTO_UDP && csum == 0)
				csum = 0xffff; /* RFC 768 */
			memcpy(l4 + coff, &csum, 2);
		}
	}
	xlat_put16(l4, src->port);
	xlat_put16(l4 + 2, dst->port);
}

void
xlat46_echo(uint8_t *icmp, uint32_t avail, uint32_t icmp_len, const struct taddr6 *src,
	    const struct taddr6 *dst)
{
	uint8_t type = icmp[0] == ICMP4_ECHO_REQUEST ? ICMP6_ECHO_REQUEST : ICMP6_ECHO_REPLY;
	uint32_t from;
	uint32_t to;
	uint16_t csum;

	if (avail < ECHO_HDR_LEN)
		return;
	/* RFC 7915 §4.2: "adjust the ICMP checksum both to take the type
	 * change into account and to include the ICMPv6 pseudo-header". */
	from = (uint32_t)xlat_get16(icmp) + xlat_get16(icmp + ICMP_ID_OFF);
	to = csum_pseudo6(&src->addr, &dst->addr, IPPROTO_ICMPV6, icmp_len);
	to = csum_add(to, ((uint32_t)type << 8 | icmp[1]) + src->port);
	memcpy(&csum, icmp + ICMP_CSUM_OFF, 2);
	csum = csum_replace(csum, from, to);
	icmp[0] = type;
	memcpy(icmp + ICMP_CSUM_OFF, &csum, 2);
	xlat_put16(icmp + ICMP_ID_OFF, src->port);
}

/* RFC 768 / RFC 8200 §8.1: the whole checksum of a UDP datagram whose
 * IPv4 sender sent none, with its new ports and IPv6 pseudo-header. */
static void
udp_full_csum(uint8_t *udp, uint32_t len, const struct taddr6 *src, const struct taddr6 *dst)
{
	uint32_t sum;
	uint16_t csum;

	xlat_put16(udp, src->port);
	xlat_put16(udp + 2, dst->port);
	sum = csum_pseudo6(&src->addr, &dst->addr, IPPROTO_UDP, len);
	sum = csum_partial(udp, len, sum);
	csum = csum_fold(sum);
	if (csum == 0)
		csum = 0xffff;
	memcpy(udp + UDP_CSUM_OFF, &csum, 2);
}

/* Checks on the IP layer that hold for every packet (RFC 7915 §4.1). */
static enum stat_id
check_ip4(const uint8_t *ip4, const struct pkt_l3 *l3, const struct xlat_addrs6 *a)
{
	/* The translator forwards like a router: TTL 1 would reach 0. */
	if (a->decrement_ttl && ip4[8] <= 1)
		return STAT_XLAT46_TTL;
	/* "if an unexpired source route option is present, then the packet
	 * MUST instead be discarded". */
	if (l3->src_route_off != 0)
		return STAT_XLAT46_SRC_ROUTE;
	return STAT_OK;
}

static bool
is_first_fragment(const struct pkt_l3 *l3)
{
	return l3->more_fragments && l3->frag_offset == 0;
}

static bool
udp_csum_zero(const uint8_t *ip4, const struct pkt_l3 *l3)
{
	const uint8_t *udp = ip4 + l3->l4_off;

	return l3->l4_proto == IPPROTO_UDP && l3->has_ports && udp[6] == 0 && udp[7] == 0;
}

/*
 * Transport checks of a packet that is not an ICMPv4 error.
 *
 * UDP with checksum 0 in a fragment (RFC 7915 §4.5: "SHOULD drop"): the
 * checksum covers the whole datagram, which only reassembly could give.
 * It is dropped whatever cfg->drop_zero_csum_udp_fragments says: IPv6
 * can't carry a zero UDP checksum, so forwarding it would only make the
 * receiver drop it. The flag is kept for a future reassembly path. Only
 * the first fragment shows the checksum; the other fragments of that
 * datagram pass and are useless to the receiver without it.
 */
static enum stat_id
check_l4(const uint8_t *ip4, const struct pkt_l3 *l3)
{
	uint8_t type = l3->icmp_type;

	if (udp_csum_zero(ip4, l3) && is_first_fragment(l3))
		return STAT_XLAT46_UDP_ZERO_CSUM_FRAG;
	if (l3->l4_proto != IPPROTO_ICMP || !l3->has_icmp)
		return STAT_OK;
	/* §4.2: echo is translated; information request/reply, timestamp,
	 * address mask, router advertisement/solicitation and unknown
	 * types are "silently dropped". */
	if (type != ICMP4_ECHO_REQUEST && type != ICMP4_ECHO_REPLY)
		return STAT_ICMP4_TYPE_UNKNOWN;
	/* The ICMPv6 checksum needs the length of the whole datagram. */
	if (is_first_fragment(l3))
		return STAT_XLAT46_ICMP_FRAG;
	return STAT_OK;
}

/* RFC 7915 §4.5: ports or identifier, checksum. */
static void
translate_l4(uint8_t *ip4, const struct pkt_l3 *l3, const struct xlat_addrs6 *a)
{
	uint8_t *l4 = ip4 + l3->l4_off;
	uint32_t avail = l3->l3_end - l3->l4_off;

	if (!l3->has_ports)
		return; /* non-first fragment: nothing but payload here */
	if (a->l4_csum_partial && (l3->l4_proto == IPPROTO_TCP || l3->l4_proto == IPPROTO_UDP)) {
		/* No RFC 1624 update: the field is not a checksum yet. */
		xlat_put16(l4, a->src.port);
		xlat_put16(l4 + 2, a->dst.port);
	} else if (udp_csum_zero(ip4, l3))
		udp_full_csum(l4, avail, &a->src, &a->dst);
	else if (l3->l4_proto == IPPROTO_TCP || l3->l4_proto == IPPROTO_UDP)
		xlat46_tcpudp(l4, avail, l3->l4_proto, ip4, &a->src, &a->dst);
	else if (l3->l4_proto == IPPROTO_ICMP)
		xlat46_echo(l4, avail, avail, &a->src, &a->dst);
}

enum stat_id
xlat_4to6(struct pkt *p, const struct pkt_info *info, const struct xlat_addrs6 *a,
	  const struct xlat_config *cfg, uint32_t mtu6, uint32_t mtu4_in)
{
	const struct pkt_l3 *l3 = &info->outer;
	uint8_t *ip4 = p->data;
	uint32_t hlen = xlat46_ipv6_header_len(l3);
	struct xlat_hdr6 h;
	enum stat_id rc;

	rc = check_ip4(ip4, l3, a);
	if (rc != STAT_OK)
		return rc;
	if (l3->has_icmp && l3->icmp_is_error)
		return xlat_icmp_error46(p, info, a, cfg, mtu6, mtu4_in);
	rc = check_l4(ip4, l3);
	if (rc != STAT_OK)
		return rc;
	if (hlen > l3->l4_off + p->headroom)
		return STAT_XLAT46_NO_ROOM;

	h.src = &a->src.addr;
	h.dst = &a->dst.addr;
	/* §4.1: Total Length minus the IPv4 header and its options, which
	 * are dropped. */
	h.payload_len = (uint16_t)(l3->l3_end - l3->l4_off);
	h.tclass = xlat46_tclass(ip4, cfg);
	h.hop_limit = (uint8_t)(ip4[8] - (a->decrement_ttl ? 1 : 0));
	/* Transport first: it reads the IPv4 addresses the new header
	 * overwrites. */
	translate_l4(ip4, l3, a);
	xlat46_ipv6_header(ip4 + l3->l4_off - hlen, l3, &h);
	xlat_pkt_reframe(p, ip4 + l3->l4_off - hlen, hlen + h.payload_len);
	return STAT_OK;
}
