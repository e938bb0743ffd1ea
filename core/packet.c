/*
 * Packet parsing and validation (see packet.h).
 *
 * One static function per header kind. Each one receives the bytes it may
 * read and how many there are, and checks the length before every read;
 * multi-byte fields are assembled byte by byte, so nothing depends on the
 * alignment of the buffer. The result is built in a local struct pkt_info
 * and copied out only when the whole packet is accepted: a refused packet
 * leaves the caller's struct untouched.
 *
 * Order of the checks: fixed header, then extension headers / options,
 * then fragmentation, then the transport header, then (ICMP errors) the
 * quoted packet. The first failure is the reason returned.
 */
#include "packet.h"

#include "checksum.h"

enum {
	IPV6_HDR_LEN = 40,
	IPV4_HDR_MIN = 20,
	FRAG6_HDR_LEN = 8,
	TCP_HDR_MIN = 20,
	UDP_HDR_LEN = 8,
	ICMP_HDR_LEN = 8,
	IP_MAX_LEN = 65535,
	/* Bytes of the quoted transport header that hold the ports. */
	INNER_PORTS_LEN = 4,
};

/* RFC 791 §3.1 option types. */
enum {
	OPT4_EOL = 0,
	OPT4_NOP = 1,
	OPT4_LSRR = 131,
	OPT4_SSRR = 137,
};

/* ICMP types (RFC 792, RFC 4443) that carry an identifier. */
enum {
	ICMP4_ECHO_REPLY = 0,
	ICMP4_ECHO_REQUEST = 8,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
};

/* IPv4 flags and fragment offset field (RFC 791 §3.1). */
enum {
	IP4_DF = 0x4000,
	IP4_MF = 0x2000,
	IP4_OFFSET_MASK = 0x1fff,
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

bool
pkt_icmp6_is_error(uint8_t type)
{
	/* RFC 4443 §2.1: Destination Unreachable, Packet Too Big, Time
	 * Exceeded, Parameter Problem. */
	return type >= 1 && type <= 4;
}

bool
pkt_icmp4_is_error(uint8_t type)
{
	/* RFC 792: Destination Unreachable, Source Quench, Redirect, Time
	 * Exceeded, Parameter Problem. */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static bool
icmp_is_error(uint8_t family, uint8_t type)
{
	return family == 6 ? pkt_icmp6_is_error(type) : pkt_icmp4_is_error(type);
}

static bool
icmp_is_echo(uint8_t family, uint8_t type)
{
	if (family == 6)
		return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
	return type == ICMP4_ECHO_REQUEST || type == ICMP4_ECHO_REPLY;
}

/* The ICMP of the packet's own family: ICMPv4 inside IPv6 or ICMPv6
 * inside IPv4 makes no sense (RFC 7915 §4.3, §5.3 translate them into each
 * other). */
static uint8_t
icmp_proto(uint8_t family)
{
	return family == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

/* RFC 6146 §3: a NAT64 keeps state for TCP, UDP and ICMP queries only. */
static bool
l4_known(uint8_t family, uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == icmp_proto(family);
}

/* Offset != 0 or MF: the packet holds only part of its datagram. An IPv6
 * atomic fragment (RFC 6946: offset 0, M clear) holds all of it. */
static bool
is_split(const struct pkt_l3 *l3)
{
	return l3->frag_offset != 0 || l3->more_fragments;
}

/* ---- Transport headers ------------------------------------------------ */

/* RFC 9293 §3.1: 20 fixed bytes; Data Offset counts 32-bit words. */
static enum stat_id
parse_tcp(const uint8_t *l4, uint32_t len, struct pkt_l3 *l3)
{
	uint32_t doff;

	if (len < TCP_HDR_MIN)
		return STAT_TCP_TRUNCATED;
	doff = (uint32_t)(l4[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > len)
		return STAT_TCP_DOFF;
	l3->sport = get16(l4);
	l3->dport = get16(l4 + 2);
	l3->tcp_flags = l4[13];
	l3->has_ports = true;
	return STAT_OK;
}

/* RFC 768: Length covers the UDP header and its data. A whole datagram
 * fills the IP payload exactly; a first fragment holds a prefix of it, so
 * Length is never below the bytes present (which are >= 8 here: that
 * refuses a Length below 8 too). */
static enum stat_id
parse_udp(const uint8_t *l4, uint32_t len, bool split, struct pkt_l3 *l3)
{
	uint32_t ulen;

	if (len < UDP_HDR_LEN)
		return STAT_UDP_TRUNCATED;
	ulen = get16(l4 + 4);
	if (ulen < len || (!split && ulen != len))
		return STAT_UDP_LEN;
	l3->sport = get16(l4);
	l3->dport = get16(l4 + 2);
	l3->has_ports = true;
	return STAT_OK;
}

/* RFC 792 / RFC 4443 §2.1: type, code, checksum, then 4 bytes whose
 * meaning depends on the type (echo: identifier, sequence number). */
static enum stat_id
parse_icmp(const uint8_t *l4, uint32_t len, struct pkt_l3 *l3)
{
	if (len < ICMP_HDR_LEN)
		return STAT_ICMP_TRUNCATED;
	l3->has_icmp = true;
	l3->icmp_type = l4[0];
	l3->icmp_code = l4[1];
	l3->icmp_is_error = icmp_is_error(l3->family, l4[0]);
	if (icmp_is_echo(l3->family, l4[0])) {
		/* RFC 6146 §3.4: the identifier plays both ports. */
		l3->sport = get16(l4 + 4);
		l3->dport = l3->sport;
		l3->has_ports = true;
	}
	return STAT_OK;
}

/* The transport header of an outer packet whose protocol is known. */
static enum stat_id
parse_l4(const uint8_t *data, struct pkt_l3 *l3)
{
	const uint8_t *l4 = data + l3->l4_off;
	uint32_t len = l3->l3_end - l3->l4_off;

	/* Only the first fragment carries the transport header. */
	if (l3->frag_offset != 0)
		return STAT_OK;
	switch (l3->l4_proto) {
	case IPPROTO_TCP:
		return parse_tcp(l4, len, l3);
	case IPPROTO_UDP:
		return parse_udp(l4, len, is_split(l3), l3);
	default:
		return parse_icmp(l4, len, l3);
	}
}

/* ---- IPv6 ------------------------------------------------------------- */

static bool
is_ext6(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_DSTOPTS;
}

/* May header `nh` come at `off`, after `count` extension headers? */
static enum stat_id
ext6_order(uint8_t nh, uint32_t off, unsigned count, const struct pkt_l3 *l3)
{
	/* RFC 8200 §4.3: Hop-by-Hop only right after the IPv6 header. */
	if (nh == IPPROTO_HOPOPTS && off != IPV6_HDR_LEN)
		return STAT_HDR6_HOP_BY_HOP_NOT_FIRST;
	/* As Jool: nothing but the transport header after a Fragment
	 * header, whose following bytes may not even be headers. */
	if (l3->frag_hdr_off != 0)
		return nh == IPPROTO_FRAGMENT ? STAT_HDR6_DOUBLE_FRAG : STAT_HDR6_FRAG_THEN_EXT;
	if (count >= PKT_MAX_EXT_HEADERS)
		return STAT_HDR6_EXT_CHAIN_TOO_LONG;
	return STAT_OK;
}

/* Length of extension header `nh` at `off`, which must end by `end`.
 * RFC 8200 §4.2-4.6: Hdr Ext Len counts 8-octet units after the first 8;
 * the Fragment header is always 8 bytes. */
static enum stat_id
ext6_len(const uint8_t *data, uint32_t end, uint32_t off, uint8_t nh, uint32_t *hlen)
{
	if (nh == IPPROTO_FRAGMENT) {
		*hlen = FRAG6_HDR_LEN;
	} else {
		if (end - off < 2)
			return STAT_HDR6_EXT_TRUNCATED;
		*hlen = ((uint32_t)data[off + 1] + 1) * 8;
	}
	if (*hlen > end - off)
		return STAT_HDR6_EXT_TRUNCATED;
	return STAT_OK;
}

/* RFC 8200 §4.5: Next Header, reserved, offset (13 bits) | res | M, ID. */
static void
frag6_read(const uint8_t *h, uint32_t off, struct pkt_l3 *l3)
{
	uint16_t field = get16(h + 2);

	l3->frag_hdr_off = (uint16_t)off;
	l3->is_fragment = true;
	l3->frag_offset = field & 0xfff8;
	l3->more_fragments = (field & 1) != 0;
	l3->frag_id = get32(h + 4);
}

/* RFC 8200 §4.4: Segments Left (byte 3) != 0 means the packet still has
 * places to visit; RFC 7915 §5.1 then wants it refused by the translator,
 * which needs the offset for the Parameter Problem pointer. */
static void
routing6_read(const uint8_t *h, uint32_t off, struct pkt_l3 *l3)
{
	if (h[3] != 0 && l3->src_route_off == 0)
		l3->src_route_off = (uint16_t)(off + 3);
}

/* Walk the extension headers of the IPv6 packet at `data`, whose
 * l3->l3_end bytes (at least IPV6_HDR_LEN) may be read. Leaves l4_proto
 * and l4_off at the first header that is not one we walk through. */
static enum stat_id
walk6(const uint8_t *data, struct pkt_l3 *l3)
{
	uint8_t nh = data[6];
	uint32_t off = IPV6_HDR_LEN;
	uint32_t hlen = 0;
	unsigned count = 0;
	enum stat_id rc;

	while (is_ext6(nh)) {
		rc = ext6_order(nh, off, count, l3);
		if (rc == STAT_OK)
			rc = ext6_len(data, l3->l3_end, off, nh, &hlen);
		if (rc != STAT_OK)
			return rc;
		if (nh == IPPROTO_FRAGMENT)
			frag6_read(data + off, off, l3);
		else if (nh == IPPROTO_ROUTING)
			routing6_read(data + off, off, l3);
		nh = data[off];
		off += hlen;
		count++;
	}
	l3->l4_proto = nh;
	l3->l4_off = (uint16_t)off;
	return STAT_OK;
}

/* RFC 8200 §3: version 6, Payload Length covers everything after the
 * fixed header; bytes received beyond it are link padding and ignored. */
static enum stat_id
parse_fixed6(const uint8_t *data, uint32_t len, struct pkt_l3 *l3)
{
	uint32_t plen;

	if (len < IPV6_HDR_LEN)
		return STAT_HDR6_TRUNCATED;
	if (data[0] >> 4 != 6)
		return STAT_HDR6_VERSION;
	plen = get16(data + 4);
	/* 0 announces an RFC 2675 jumbogram, which no IPv4 packet can hold. */
	if (plen == 0 || plen > len - IPV6_HDR_LEN)
		return STAT_HDR6_PAYLOAD_LEN;
	l3->family = 6;
	l3->l3_end = IPV6_HDR_LEN + plen;
	return STAT_OK;
}

static enum stat_id
proto6_check(const struct pkt_l3 *l3)
{
	if (l4_known(6, l3->l4_proto))
		return STAT_OK;
	if (l3->l4_proto == IPPROTO_ICMP)
		return STAT_L4_PROTO_UNKNOWN;
	/* AH, ESP, Mobility, No Next Header (59) and the rest. */
	return STAT_HDR6_EXT_UNKNOWN;
}

/* RFC 8200 §4.5: every fragment but the last carries a multiple of 8
 * bytes, and no fragment reaches past the 65535 bytes of a datagram. */
static enum stat_id
frag6_check(const struct pkt_l3 *l3)
{
	uint32_t payload;

	if (l3->frag_hdr_off == 0)
		return STAT_OK;
	payload = l3->l3_end - l3->frag_hdr_off - FRAG6_HDR_LEN;
	if (l3->more_fragments && payload % 8 != 0)
		return STAT_HDR6_FRAG_LEN;
	if (l3->frag_offset + payload > IP_MAX_LEN)
		return STAT_HDR6_FRAG_OVERFLOW;
	return STAT_OK;
}

static enum stat_id
parse_hdr6(const uint8_t *data, uint32_t len, struct pkt_l3 *l3)
{
	enum stat_id rc;

	rc = parse_fixed6(data, len, l3);
	if (rc != STAT_OK)
		return rc;
	rc = walk6(data, l3);
	if (rc != STAT_OK)
		return rc;
	rc = proto6_check(l3);
	if (rc != STAT_OK)
		return rc;
	return frag6_check(l3);
}

/* ---- IPv4 ------------------------------------------------------------- */

/* RFC 791 §3.1 Loose/Strict Source and Record Route: type, length,
 * pointer (1-based from the type byte, at least 4), addresses. Once the
 * pointer is past the length the route has been followed to its end;
 * until then it is unexpired (Jool: length >= pointer). */
static enum stat_id
source_route4(const uint8_t *opt, uint32_t olen, uint32_t off, struct pkt_l3 *l3)
{
	if (olen < 3 || opt[2] < 4)
		return STAT_HDR4_OPTIONS;
	if (opt[2] <= olen && l3->src_route_off == 0)
		l3->src_route_off = (uint16_t)off;
	return STAT_OK;
}

/* RFC 791 §3.1: End of Option List and No Operation are one byte; every
 * other option has a length byte counting itself and the type byte. */
static enum stat_id
parse_options4(const uint8_t *data, struct pkt_l3 *l3)
{
	uint32_t end = l3->l4_off;
	uint32_t off = IPV4_HDR_MIN;
	uint32_t olen;
	enum stat_id rc;

	while (off < end && data[off] != OPT4_EOL) {
		if (data[off] == OPT4_NOP) {
			off++;
			continue;
		}
		if (end - off < 2)
			return STAT_HDR4_OPTIONS;
		olen = data[off + 1];
		if (olen < 2 || olen > end - off)
			return STAT_HDR4_OPTIONS;
		if (data[off] == OPT4_LSRR || data[off] == OPT4_SSRR) {
			rc = source_route4(data + off, olen, off, l3);
			if (rc != STAT_OK)
				return rc;
		}
		off += olen;
	}
	return STAT_OK;
}

/* Fields of the IPv4 fixed header shared by outer and quoted packets. */
static void
fields4(const uint8_t *data, struct pkt_l3 *l3)
{
	uint16_t frag = get16(data + 6);

	l3->family = 4;
	l3->l4_off = (uint16_t)((data[0] & 0x0f) * 4);
	l3->l4_proto = data[9];
	l3->frag_id = get16(data + 4);
	l3->dont_fragment = (frag & IP4_DF) != 0;
	l3->more_fragments = (frag & IP4_MF) != 0;
	l3->frag_offset = (uint16_t)((frag & IP4_OFFSET_MASK) * 8);
	l3->is_fragment = is_split(l3);
}

/* RFC 791 §3.1 (and RFC 1812 §5.2.2): version, IHL, total length, header
 * checksum. Bytes received beyond Total Length are ignored. */
static enum stat_id
parse_fixed4(const uint8_t *data, uint32_t len, struct pkt_l3 *l3)
{
	uint32_t ihl;
	uint32_t total;

	if (len < IPV4_HDR_MIN)
		return STAT_HDR4_TRUNCATED;
	if (data[0] >> 4 != 4)
		return STAT_HDR4_VERSION;
	ihl = (uint32_t)(data[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_MIN || ihl > len)
		return STAT_HDR4_IHL;
	total = get16(data + 2);
	if (total > len || total < ihl)
		return STAT_HDR4_TOTAL_LEN;
	if (csum_ipv4_header(data, ihl) != 0)
		return STAT_HDR4_CHECKSUM;
	fields4(data, l3);
	l3->l3_end = total;
	return STAT_OK;
}

/* RFC 791 §3.2: non-last fragments carry multiples of 8 bytes, and no
 * fragment reaches past the 65535 bytes of a datagram. */
static enum stat_id
frag4_check(const struct pkt_l3 *l3)
{
	uint32_t payload = l3->l3_end - l3->l4_off;

	if (l3->more_fragments && payload % 8 != 0)
		return STAT_HDR4_FRAG_LEN;
	if (l3->frag_offset + payload > IP_MAX_LEN)
		return STAT_HDR4_FRAG_OVERFLOW;
	return STAT_OK;
}

static enum stat_id
parse_hdr4(const uint8_t *data, uint32_t len, struct pkt_l3 *l3)
{
	enum stat_id rc;

	rc = parse_fixed4(data, len, l3);
	if (rc != STAT_OK)
		return rc;
	rc = parse_options4(data, l3);
	if (rc != STAT_OK)
		return rc;
	if (!l4_known(4, l3->l4_proto))
		return STAT_L4_PROTO_UNKNOWN;
	return frag4_check(l3);
}

/* ---- The packet quoted by an ICMP error ------------------------------- */

/*
 * The quote is usually cut short (RFC 792: IP header + 8 bytes; RFC 4443
 * §2.4(c): as much as fits in 1280 bytes) and some stacks quote their
 * length fields in the wrong byte order, so its length fields are not
 * checked against the bytes present, nor is its header checksum: only
 * what the translator must rewrite has to be there.
 */
static enum stat_id
inner_hdr6(const uint8_t *in, uint32_t len, struct pkt_l3 *l3)
{
	enum stat_id rc;

	if (len < IPV6_HDR_LEN)
		return STAT_INNER_TRUNCATED;
	l3->family = 6;
	l3->l3_end = len;
	rc = walk6(in, l3);
	if (rc == STAT_HDR6_EXT_TRUNCATED)
		return STAT_INNER_TRUNCATED;
	if (rc != STAT_OK)
		return STAT_INNER_MALFORMED;
	return STAT_OK;
}

static enum stat_id
inner_hdr4(const uint8_t *in, uint32_t len, struct pkt_l3 *l3)
{
	uint32_t ihl;

	if (len < IPV4_HDR_MIN)
		return STAT_INNER_TRUNCATED;
	ihl = (uint32_t)(in[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_MIN)
		return STAT_INNER_MALFORMED;
	if (ihl > len)
		return STAT_INNER_TRUNCATED;
	fields4(in, l3);
	l3->l3_end = len;
	return STAT_OK;
}

/* An ICMP query quoted: only echo has an identifier the NAT64 maps. */
static enum stat_id
inner_icmp(const uint8_t *l4, uint32_t len, struct pkt_l3 *l3)
{
	/* RFC 4443 §2.4(e), RFC 1122 §3.2.2: never an error about an error. */
	if (len >= 1 && icmp_is_error(l3->family, l4[0]))
		return STAT_INNER_ICMP_ERROR;
	if (len < ICMP_HDR_LEN || !icmp_is_echo(l3->family, l4[0]))
		return STAT_INNER_NO_PORTS;
	l3->has_icmp = true;
	l3->icmp_type = l4[0];
	l3->icmp_code = l4[1];
	l3->sport = get16(l4 + 4);
	l3->dport = l3->sport;
	l3->has_ports = true;
	return STAT_OK;
}

/* The ports of the quoted packet: RFC 6146 §3.4 finds the session of an
 * ICMP error through them. */
static enum stat_id
inner_l4(const uint8_t *in, struct pkt_l3 *l3)
{
	const uint8_t *l4 = in + l3->l4_off;
	uint32_t len = l3->l3_end - l3->l4_off;

	if (!l4_known(l3->family, l3->l4_proto))
		return STAT_INNER_PROTO_UNKNOWN;
	if (l3->frag_offset != 0)
		return STAT_INNER_NO_PORTS;
	if (l3->l4_proto == icmp_proto(l3->family))
		return inner_icmp(l4, len, l3);
	if (len < INNER_PORTS_LEN)
		return STAT_INNER_NO_PORTS;
	l3->sport = get16(l4);
	l3->dport = get16(l4 + 2);
	l3->has_ports = true;
	return STAT_OK;
}

static enum stat_id
parse_inner(const uint8_t *in, uint32_t len, uint8_t family, struct pkt_l3 *l3)
{
	uint8_t version;
	enum stat_id rc;

	if (len < 1)
		return STAT_INNER_TRUNCATED;
	version = in[0] >> 4;
	if (version != 4 && version != 6)
		return STAT_INNER_MALFORMED;
	if (version != family)
		return STAT_INNER_FAMILY;
	rc = family == 6 ? inner_hdr6(in, len, l3) : inner_hdr4(in, len, l3);
	if (rc != STAT_OK)
		return rc;
	return inner_l4(in, l3);
}

/* RFC 7915 §4.2, §5.2: an ICMP error is translated with the packet it
 * quotes, which starts right after the 8-byte ICMP header. */
static enum stat_id
parse_icmp_error(const uint8_t *data, struct pkt_info *info)
{
	const struct pkt_l3 *outer = &info->outer;
	uint32_t off;
	enum stat_id rc;

	if (!outer->icmp_is_error)
		return STAT_OK;
	/* A piece of an ICMP error does not hold the whole quote (Jool:
	 * 64_FRAGMENTED_ICMP, 46_FRAGMENTED_ICMP). */
	if (is_split(outer))
		return STAT_ICMP_FRAGMENTED;
	off = (uint32_t)outer->l4_off + ICMP_HDR_LEN;
	rc = parse_inner(data + off, outer->l3_end - off, outer->family, &info->inner);
	if (rc != STAT_OK)
		return rc;
	info->has_inner = true;
	info->inner_off = (uint16_t)off;
	return STAT_OK;
}

/* ---- Entry points ----------------------------------------------------- */

static enum stat_id
parse_rest(const uint8_t *data, struct pkt_info *p, struct pkt_info *info)
{
	enum stat_id rc;

	rc = parse_l4(data, &p->outer);
	if (rc == STAT_OK)
		rc = parse_icmp_error(data, p);
	if (rc == STAT_OK)
		*info = *p;
	return rc;
}

enum stat_id
pkt_parse6(const uint8_t *data, uint32_t len, struct pkt_info *info)
{
	struct pkt_info p;
	enum stat_id rc;

	memset(&p, 0, sizeof(p));
	rc = parse_hdr6(data, len, &p.outer);
	if (rc != STAT_OK)
		return rc;
	return parse_rest(data, &p, info);
}

enum stat_id
pkt_parse4(const uint8_t *data, uint32_t len, struct pkt_info *info)
{
	struct pkt_info p;
	enum stat_id rc;

	memset(&p, 0, sizeof(p));
	rc = parse_hdr4(data, len, &p.outer);
	if (rc != STAT_OK)
		return rc;
	return parse_rest(data, &p, info);
}
