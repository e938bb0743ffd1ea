/*
 * Internals of the RFC 7915 translator shared by translate_6to4.c,
 * translate_4to6.c and translate_icmp.c. Not an API for the rest of core/:
 * callers use translate.h.
 *
 * translate_6to4.c and translate_4to6.c export the pieces that translate
 * one IP header and one transport header, because RFC 7915 §4.3 and §5.3
 * translate the packet quoted by an ICMP error "by invoking the function
 * that translated the outer IP headers"; translate_icmp.c exports the ICMP
 * tables and the whole ICMP error translation.
 */
#ifndef NAT64_CORE_TRANSLATE_ICMP_H
#define NAT64_CORE_TRANSLATE_ICMP_H

#include "translate.h"

enum {
	IPV4_HDR_LEN = 20,
	IPV6_HDR_LEN = 40,
	FRAG6_HDR_LEN = 8,
	ICMP_HDR_LEN = 8,
	IPV4_MAX_LEN = 65535,
	/* RFC 7915 §5.1: DF is set only on translated packets larger than
	 * this (1280 - 20: what still fits the IPv6 minimum MTU). */
	XLAT_DF_THRESHOLD = 1260,
	/* RFC 1812 §4.3.2.3, as Jool: translated ICMPv4 errors are cut here. */
	ICMP4_ERROR_MAX = 576,
	/* RFC 4443 §2.4 (c): ICMPv6 errors fit the minimum IPv6 MTU. */
	ICMP6_ERROR_MAX = 1280,
};

/* ICMP types (RFC 792, RFC 4443 §2.1). */
enum {
	ICMP4_ECHO_REPLY = 0,
	ICMP4_DEST_UNREACH = 3,
	ICMP4_ECHO_REQUEST = 8,
	ICMP4_TIME_EXCEEDED = 11,
	ICMP4_PARAM_PROB = 12,
	ICMP6_DEST_UNREACH = 1,
	ICMP6_PACKET_TOO_BIG = 2,
	ICMP6_TIME_EXCEEDED = 3,
	ICMP6_PARAM_PROB = 4,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
};

/* ---- Byte access: every multi-byte field is big-endian and unaligned. */

static inline uint16_t
xlat_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
xlat_get32(const uint8_t *p)
{
	return (uint32_t)xlat_get16(p) << 16 | xlat_get16(p + 2);
}

static inline void
xlat_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
xlat_put32(uint8_t *p, uint32_t v)
{
	xlat_put16(p, (uint16_t)(v >> 16));
	xlat_put16(p + 2, (uint16_t)v);
}

/* Point `p` at its new `len` bytes starting at `data`, which must lie in
 * the same buffer: the buffer's ends stay where they were, so the
 * headroom and tailroom absorb the difference. */
static inline void
xlat_pkt_reframe(struct pkt *p, uint8_t *data, uint32_t len)
{
	uint8_t *start = p->data - p->headroom;
	uint8_t *end = p->data + p->len + p->tailroom;

	p->data = data;
	p->len = len;
	p->headroom = (uint32_t)(data - start);
	p->tailroom = (uint32_t)(end - (data + len));
}

/* ---- translate_6to4.c: one header at a time (RFC 7915 §5.1, §5.1.1) */

/* What an IPv4 header built from an IPv6 one needs beyond `struct pkt_l3`. */
struct xlat_hdr4 {
	struct in_addr src;
	struct in_addr dst;
	uint16_t total_len;
	uint8_t tos;
	uint8_t ttl;
	uint16_t id; /* used only when the IPv6 packet had no Fragment header */
};

/* The Traffic Class of the IPv6 header at `ip6`, or cfg->tos (§5.1). */
uint8_t xlat64_tos(const uint8_t *ip6, const struct xlat_config *cfg);

/* Build in `out` the IPv4 header (no options, checksum set) for the IPv6
 * packet described by `l3` (§5.1; with a Fragment header §5.1.1). */
void xlat64_ipv4_header(uint8_t out[IPV4_HDR_LEN], const struct pkt_l3 *l3,
			const struct xlat_hdr4 *h);

/* Rewrite the ports of the TCP or UDP header at `l4` (of which `avail`
 * bytes are present) and update its checksum for the change of addresses
 * from those of the IPv6 header at `ip6` to src/dst (RFC 1624). Fields
 * beyond `avail` are left alone; UDP checksum 0 stays 0. */
void xlat64_tcpudp(uint8_t *l4, uint32_t avail, uint8_t proto, const uint8_t *ip6,
		   const struct taddr4 *src, const struct taddr4 *dst);

/* ICMPv6 echo -> ICMPv4 echo at `icmp` (`avail` bytes present): type,
 * identifier `id`, and the checksum minus the IPv6 pseudo-header of the
 * header at `ip6` for an ICMPv6 message of `icmp_len` bytes (§5.2). */
void xlat64_echo(uint8_t *icmp, uint32_t avail, const uint8_t *ip6, uint32_t icmp_len, uint16_t id);

/* ---- translate_4to6.c: one header at a time (RFC 7915 §4.1) --------- */

struct xlat_hdr6 {
	const struct in6_addr *src;
	const struct in6_addr *dst;
	uint16_t payload_len; /* not counting a Fragment header */
	uint8_t tclass;
	uint8_t hop_limit;
};

/* The Traffic Class for the IPv4 header at `ip4`: its TOS, or 0 (§4.1). */
uint8_t xlat46_tclass(const uint8_t *ip4, const struct xlat_config *cfg);

/* Build in `out` the IPv6 header for the IPv4 packet described by `l3`,
 * plus a Fragment header when that packet is a fragment (§4.1). Returns
 * the bytes written: 40, or 48 with a Fragment header. */
uint32_t xlat46_ipv6_header(uint8_t out[IPV6_HDR_LEN + FRAG6_HDR_LEN], const struct pkt_l3 *l3,
			    const struct xlat_hdr6 *h);

/* Bytes xlat46_ipv6_header writes for `l3`. */
uint32_t xlat46_ipv6_header_len(const struct pkt_l3 *l3);

/* Mirror images of xlat64_tcpudp / xlat64_echo; `ip4` is the IPv4 header
 * whose addresses are replaced. The echo checksum gains the IPv6
 * pseudo-header of src/dst for an ICMPv6 message of `icmp_len` bytes. */
void xlat46_tcpudp(uint8_t *l4, uint32_t avail, uint8_t proto, const uint8_t *ip4,
		   const struct taddr6 *src, const struct taddr6 *dst);
void xlat46_echo(uint8_t *icmp, uint32_t avail, uint32_t icmp_len, const struct taddr6 *src,
		 const struct taddr6 *dst);

/* ---- translate_icmp.c ---------------------------------------------- */

/* RFC 7915 §5.2 Figure 6: IPv6 Parameter Problem pointer -> IPv4 pointer.
 * XLAT64_PARAM_PROB_PTR when the field has no IPv4 equivalent. */
enum stat_id xlat_icmp_pointer64(uint32_t ptr6, uint8_t *ptr4);

/* RFC 7915 §4.2 Figure 3: IPv4 Parameter Problem pointer -> IPv6 pointer.
 * XLAT46_PARAM_PROB_PTR when the field has no IPv6 equivalent. */
enum stat_id xlat_icmp_pointer46(uint8_t ptr4, uint32_t *ptr6);

/* Translate the ICMPv6 error in `p` (outer and quoted packet) into an
 * ICMPv4 error, in place (RFC 7915 §5.2, §5.3). Same contract as
 * xlat_6to4, whose outer checks (hop limit, routing header) are done. */
enum stat_id xlat_icmp_error64(struct pkt *p, const struct pkt_info *info,
			       const struct xlat_addrs4 *a, const struct xlat_config *cfg,
			       uint32_t mtu4, uint32_t mtu6_in);

/* Translate the ICMPv4 error in `p` into an ICMPv6 error, in place
 * (RFC 7915 §4.2, §4.3). Same contract as xlat_4to6. */
enum stat_id xlat_icmp_error46(struct pkt *p, const struct pkt_info *info,
			       const struct xlat_addrs6 *a, const struct xlat_config *cfg,
			       uint32_t mtu6, uint32_t mtu4_in);

#endif
