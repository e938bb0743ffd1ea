/*
 * virtio_net_hdr handling for translation: header mapping, the partial
 * (pseudo-header) checksum of NEEDS_CSUM packets, software segmentation.
 * See gso.h for the kernel conventions and docs/offloads.md for how they
 * were verified.
 */
#include "gso.h"

#include "checksum.h"

#include <arpa/inet.h>
#include <string.h>

enum {
	IPV4_MIN = 20,
	IPV6_LEN = 40,
	TCP_MIN = 20,
	UDP_LEN = 8, /* UDP header */
	TCP_CSUM_OFF = 16,
	UDP_CSUM_OFF = 6,
	TCP_FIN = 0x01,
	TCP_PSH = 0x08,
	TCP_CWR = 0x80,
	IP_MAX = 65535,
};

static const char *const status_names[] = {
	[GSO_OK] = "ok",
	[GSO_ERR_SHORT] = "short",
	[GSO_ERR_TYPE] = "type",
	[GSO_ERR_FAMILY] = "family",
	[GSO_ERR_PROTO] = "proto",
	[GSO_ERR_NO_CSUM] = "no-csum",
	[GSO_ERR_CSUM_START] = "csum-start",
	[GSO_ERR_CSUM_OFFSET] = "csum-offset",
	[GSO_ERR_HDR_LEN] = "hdr-len",
	[GSO_ERR_SIZE] = "size",
	[GSO_ERR_TOO_BIG] = "too-big",
	[GSO_ERR_FRAGMENT] = "fragment",
	[GSO_ERR_PACKET] = "packet",
	[GSO_ERR_SPACE] = "space",
};

const char *
gso_status_name(enum gso_status st)
{
	if ((size_t)st >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[st];
}

static uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

enum gso_status
gso_hdr_read(const uint8_t *b, size_t len, struct gso_hdr *h)
{
	if (b == NULL || len < GSO_HDR_LEN)
		return GSO_ERR_SHORT;
	h->flags = b[0];
	h->gso_type = b[1];
	h->hdr_len = get_le16(b + 2);
	h->gso_size = get_le16(b + 4);
	h->csum_start = get_le16(b + 6);
	h->csum_offset = get_le16(b + 8);
	return GSO_OK;
}

void
gso_hdr_write(const struct gso_hdr *h, uint8_t out[GSO_HDR_LEN])
{
	out[0] = h->flags;
	out[1] = h->gso_type;
	put_le16(out + 2, h->hdr_len);
	put_le16(out + 4, h->gso_size);
	put_le16(out + 6, h->csum_start);
	put_le16(out + 8, h->csum_offset);
}

/* The checksum field offset of a protocol the kernel offloads, or 0. */
static uint16_t
csum_offset_of(uint8_t l4proto)
{
	if (l4proto == IPPROTO_TCP)
		return TCP_CSUM_OFF;
	if (l4proto == IPPROTO_UDP)
		return UDP_CSUM_OFF;
	return 0;
}

/* RFC 7915 §4/§5: TCP segmentation offload follows the packet across
 * versions; USO has one type for both (VIRTIO_NET_HDR_GSO_UDP_L4). */
static enum gso_status
map_type(uint8_t in, const struct gso_layout *lay, uint8_t *out)
{
	uint8_t type = in & (uint8_t)~GSO_ECN;

	switch (type) {
	case GSO_NONE:
		*out = in;
		return GSO_OK;
	case GSO_TCPV4:
	case GSO_TCPV6:
		if (lay->version_new != (type == GSO_TCPV4 ? 6 : 4))
			return GSO_ERR_FAMILY;
		if (lay->l4proto != IPPROTO_TCP)
			return GSO_ERR_PROTO;
		*out = (uint8_t)((in & GSO_ECN) | (type == GSO_TCPV4 ? GSO_TCPV6 : GSO_TCPV4));
		return GSO_OK;
	case GSO_UDP_L4:
		if (lay->l4proto != IPPROTO_UDP)
			return GSO_ERR_PROTO;
		*out = in;
		return GSO_OK;
	default:
		return GSO_ERR_TYPE;
	}
}

/* The checksum fields must point at the L4 header the translator rebuilt. */
static enum gso_status
check_csum(const struct gso_hdr *in, const struct gso_layout *lay)
{
	uint16_t want = csum_offset_of(lay->l4proto);

	if (!(in->flags & GSO_F_NEEDS_CSUM))
		return (in->gso_type & ~GSO_ECN) == GSO_NONE ? GSO_OK : GSO_ERR_NO_CSUM;
	if (want == 0)
		return GSO_ERR_PROTO;
	if (in->csum_start != lay->l3_old)
		return GSO_ERR_CSUM_START;
	if (in->csum_offset != want)
		return GSO_ERR_CSUM_OFFSET;
	return GSO_OK;
}

/* IPv4 Total Length / IPv6 Payload Length must still fit in 16 bits. */
static bool
fits(const struct gso_layout *lay)
{
	uint32_t l3 = lay->version_new == 4 ? lay->l3_new : (uint32_t)lay->l3_new - IPV6_LEN;

	return lay->l4_len <= IP_MAX && l3 + lay->l4_len <= IP_MAX;
}

enum gso_status
gso_translate(const struct gso_hdr *in, const struct gso_layout *lay, struct gso_hdr *out)
{
	enum gso_status st;
	uint8_t type;

	if ((lay->version_new != 4 && lay->version_new != 6) ||
	    lay->l3_new < (lay->version_new == 4 ? IPV4_MIN : IPV6_LEN))
		return GSO_ERR_FAMILY;
	st = map_type(in->gso_type, lay, &type);
	if (st != GSO_OK)
		return st;
	st = check_csum(in, lay);
	if (st != GSO_OK)
		return st;
	if ((type & ~GSO_ECN) != GSO_NONE && in->gso_size == 0)
		return GSO_ERR_SIZE;
	if (in->hdr_len != 0 && in->hdr_len < lay->l3_old)
		return GSO_ERR_HDR_LEN;
	if (!fits(lay))
		return GSO_ERR_TOO_BIG;
	*out = *in;
	out->gso_type = type;
	if (in->hdr_len != 0)
		out->hdr_len = (uint16_t)(in->hdr_len - lay->l3_old + lay->l3_new);
	if (in->flags & GSO_F_NEEDS_CSUM)
		out->csum_start = lay->l3_new;
	return GSO_OK;
}

/* Sum of the pseudo-header of `pkt` (RFC 793 §3.1 / RFC 8200 §8.1). */
static uint32_t
pseudo_sum(const uint8_t *pkt, uint8_t l4proto, uint32_t l4_len)
{
	if (pkt[0] >> 4 == 4) {
		struct in_addr src, dst;

		memcpy(&src, pkt + 12, sizeof(src));
		memcpy(&dst, pkt + 16, sizeof(dst));
		return csum_pseudo4(src, dst, l4proto, l4_len);
	}
	struct in6_addr src6, dst6;

	memcpy(&src6, pkt + 8, sizeof(src6));
	memcpy(&dst6, pkt + 24, sizeof(dst6));
	return csum_pseudo6(&src6, &dst6, l4proto, l4_len);
}

/* Smallest L3 header of the packet's version, 0 for anything else. */
static size_t
l3_min(const uint8_t *pkt, size_t len)
{
	if (len < 1)
		return 0;
	if (pkt[0] >> 4 == 4)
		return IPV4_MIN;
	return pkt[0] >> 4 == 6 ? IPV6_LEN : 0;
}

enum gso_status
gso_pseudo_csum(uint8_t *pkt, size_t len, const struct gso_hdr *h, uint8_t l4proto)
{
	uint16_t want = csum_offset_of(l4proto);
	size_t min, field;

	if (!(h->flags & GSO_F_NEEDS_CSUM))
		return GSO_OK;
	if (pkt == NULL || len < 1)
		return GSO_ERR_SHORT;
	min = l3_min(pkt, len);
	if (len < min)
		return GSO_ERR_SHORT;
	if (min == 0)
		return GSO_ERR_PACKET;
	if (want == 0)
		return GSO_ERR_PROTO;
	if (h->csum_offset != want)
		return GSO_ERR_CSUM_OFFSET;
	if (h->csum_start < min)
		return GSO_ERR_CSUM_START;
	field = (size_t)h->csum_start + h->csum_offset;
	if (field + 2 > len)
		return GSO_ERR_SHORT;
	/* Partial checksum: the pseudo-header sum folded but not complemented
	 * (the kernel's ~tcp_v4_check(len, ...)); the finisher adds the rest. */
	put_be16(pkt + field, (uint16_t)pseudo_sum(pkt, l4proto, (uint32_t)(len - h->csum_start)));
	return GSO_OK;
}

enum gso_status
gso_csum_complete(uint8_t *pkt, size_t len, const struct gso_hdr *h)
{
	size_t field;
	uint16_t csum;

	if (!(h->flags & GSO_F_NEEDS_CSUM))
		return GSO_ERR_NO_CSUM;
	if (pkt == NULL)
		return GSO_ERR_SHORT;
	field = (size_t)h->csum_start + h->csum_offset;
	if (field + 2 > len)
		return GSO_ERR_SHORT;
	csum = csum_fold(csum_partial(pkt + h->csum_start, len - h->csum_start, 0));
	if (csum == 0 && h->csum_offset == UDP_CSUM_OFF)
		csum = 0xffff;
	memcpy(pkt + field, &csum, sizeof(csum));
	return GSO_OK;
}

/* IPv4: total length covers the buffer, not a fragment; sets the L4 offset. */
static enum gso_status
seg_check4(const uint8_t *pkt, size_t len, const struct gso_hdr *h, uint8_t proto, size_t *l4)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	if (len < IPV4_MIN)
		return GSO_ERR_SHORT;
	if (ihl < IPV4_MIN || ihl > len || get_be16(pkt + 2) != len)
		return GSO_ERR_PACKET;
	if (get_be16(pkt + 6) & 0x3fff)
		return GSO_ERR_FRAGMENT;
	if (pkt[9] != proto)
		return GSO_ERR_PROTO;
	if (h->csum_start != ihl)
		return GSO_ERR_CSUM_START;
	*l4 = ihl;
	return GSO_OK;
}

/* IPv6: payload length covers the buffer; the L4 header is at csum_start
 * (past any extension headers, which are copied into every segment). */
static enum gso_status
seg_check6(const uint8_t *pkt, size_t len, const struct gso_hdr *h, uint8_t proto, size_t *l4)
{
	if (len < IPV6_LEN)
		return GSO_ERR_SHORT;
	if ((size_t)get_be16(pkt + 4) + IPV6_LEN != len)
		return GSO_ERR_PACKET;
	if (h->csum_start < IPV6_LEN)
		return GSO_ERR_CSUM_START;
	if (h->csum_start == IPV6_LEN && pkt[6] != proto)
		return GSO_ERR_PROTO;
	if (pkt[6] == 44) /* RFC 8200 §4.5: Fragment header first */
		return GSO_ERR_FRAGMENT;
	*l4 = h->csum_start;
	return GSO_OK;
}

/* Sets the transport protocol (TCP, or UDP for UDP_L4) and its offset. */
static enum gso_status
seg_check(const uint8_t *pkt, size_t len, const struct gso_hdr *h, uint8_t *proto, size_t *l4)
{
	uint8_t type = h->gso_type & (uint8_t)~GSO_ECN;
	uint8_t version;

	if (type != GSO_TCPV4 && type != GSO_TCPV6 && type != GSO_UDP_L4)
		return GSO_ERR_TYPE;
	*proto = type == GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP;
	if (h->gso_size == 0)
		return GSO_ERR_SIZE;
	if (!(h->flags & GSO_F_NEEDS_CSUM))
		return GSO_ERR_NO_CSUM;
	if (h->csum_offset != csum_offset_of(*proto))
		return GSO_ERR_CSUM_OFFSET;
	if (pkt == NULL || len < 1)
		return GSO_ERR_SHORT;
	version = pkt[0] >> 4;
	if (type == GSO_UDP_L4 ? version != 4 && version != 6
			       : version != (type == GSO_TCPV4 ? 4 : 6))
		return GSO_ERR_FAMILY;
	if (len > IP_MAX + IPV6_LEN)
		return GSO_ERR_PACKET;
	return version == 4 ? seg_check4(pkt, len, h, *proto, l4)
			    : seg_check6(pkt, len, h, *proto, l4);
}

enum gso_status
gso_seg_begin(struct gso_seg *it, const uint8_t *pkt, size_t len, const struct gso_hdr *h)
{
	enum gso_status st;
	size_t l4 = 0, thl, min;
	uint8_t proto = 0;

	st = seg_check(pkt, len, h, &proto, &l4);
	if (st != GSO_OK)
		return st;
	min = proto == IPPROTO_UDP ? UDP_LEN : TCP_MIN;
	if (l4 + min > len)
		return GSO_ERR_SHORT;
	thl = proto == IPPROTO_UDP ? UDP_LEN : (size_t)(pkt[l4 + 12] >> 4) * 4;
	if (thl < min || l4 + thl > len)
		return GSO_ERR_PACKET;
	/* A UDP length other than the packet's: not what the kernel sends. */
	if (proto == IPPROTO_UDP && get_be16(pkt + l4 + 4) != len - l4)
		return GSO_ERR_PACKET;
	it->pkt = pkt;
	it->proto = proto;
	it->len = (uint32_t)len;
	it->l4_off = (uint16_t)l4;
	it->hdrs = (uint16_t)(l4 + thl);
	it->mss = h->gso_size;
	it->next = (uint32_t)(l4 + thl);
	it->index = 0;
	return GSO_OK;
}

size_t
gso_seg_max_len(const struct gso_seg *it)
{
	size_t payload = it->len - it->hdrs;

	return it->hdrs + (payload < it->mss ? payload : it->mss);
}

/* IPv4 ID + index (RFC 6864 §4.1: non-atomic datagrams keep a per-flow
 * sequence, as the kernel's inet_gso_segment() does); IPv6 payload length. */
static void
seg_fix_l3(const struct gso_seg *it, uint8_t *out, size_t n)
{
	if (out[0] >> 4 == 4) {
		size_t ihl = (size_t)(out[0] & 0x0f) * 4;
		uint16_t csum;

		put_be16(out + 2, (uint16_t)n);
		put_be16(out + 4, (uint16_t)(get_be16(out + 4) + it->index));
		put_be16(out + 10, 0);
		csum = csum_ipv4_header(out, ihl);
		memcpy(out + 10, &csum, sizeof(csum));
	} else {
		put_be16(out + 4, (uint16_t)(n - IPV6_LEN));
	}
}

/* Sequence number, flags as tcp_gso_segment() leaves them, full checksum. */
static void
seg_fix_tcp(const struct gso_seg *it, uint8_t *out, size_t n, bool last)
{
	uint8_t *th = out + it->l4_off;
	uint32_t seq, sum;
	uint16_t csum;

	memcpy(&seq, th + 4, sizeof(seq));
	seq = htonl(ntohl(seq) + it->index * (uint32_t)it->mss);
	memcpy(th + 4, &seq, sizeof(seq));
	if (!last)
		th[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (it->index > 0)
		th[13] &= (uint8_t)~TCP_CWR;
	put_be16(th + TCP_CSUM_OFF, 0);
	sum = pseudo_sum(out, IPPROTO_TCP, (uint32_t)(n - it->l4_off));
	sum = csum_partial(th, n - it->l4_off, sum);
	csum = csum_fold(sum);
	memcpy(th + TCP_CSUM_OFF, &csum, sizeof(csum));
}

/* Its own UDP length and a full checksum (0 is sent as all ones, RFC 768),
 * as the kernel's __udp_gso_segment() gives each segment. */
static void
seg_fix_udp(const struct gso_seg *it, uint8_t *out, size_t n)
{
	uint8_t *uh = out + it->l4_off;
	uint32_t sum;
	uint16_t csum;

	put_be16(uh + 4, (uint16_t)(n - it->l4_off));
	put_be16(uh + UDP_CSUM_OFF, 0);
	sum = pseudo_sum(out, IPPROTO_UDP, (uint32_t)(n - it->l4_off));
	csum = csum_fold(csum_partial(uh, n - it->l4_off, sum));
	if (csum == 0)
		csum = 0xffff;
	memcpy(uh + UDP_CSUM_OFF, &csum, sizeof(csum));
}

enum gso_status
gso_seg_next(struct gso_seg *it, uint8_t *out, size_t size, size_t *seg_len)
{
	size_t left = it->len - it->next, pay, n;

	if (it->index > 0 && left == 0) {
		*seg_len = 0;
		return GSO_OK;
	}
	pay = left < it->mss ? left : it->mss;
	n = it->hdrs + pay;
	if (out == NULL || n > size)
		return GSO_ERR_SPACE;
	memcpy(out, it->pkt, it->hdrs);
	memcpy(out + it->hdrs, it->pkt + it->next, pay);
	seg_fix_l3(it, out, n);
	if (it->proto == IPPROTO_UDP)
		seg_fix_udp(it, out, n);
	else
		seg_fix_tcp(it, out, n, pay == left);
	it->next += (uint32_t)pay;
	it->index++;
	*seg_len = n;
	return GSO_OK;
}
