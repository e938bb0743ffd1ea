/*
 * RFC 7915 IP/ICMP translation, both directions, without NAT state.
 *
 * The caller decides the addresses and ports of the result (struct
 * xlat_addrs4 / xlat_addrs6): the stateful engine fills them from pool4 and
 * the BIB, a test fills them with fixed values. The translator rewrites the
 * packet in place in its buffer (struct pkt): headers are replaced using the
 * headroom, the payload is not moved except for the packet quoted inside an
 * ICMP error, whose header changes size too.
 *
 * Files: translate_6to4.c (RFC 7915 §5), translate_4to6.c (§4),
 * translate_icmp.c (§4.2, §4.3, §5.2, §5.3: ICMP types, Parameter Problem
 * pointers, inner packets), mtu.c (Packet Too Big <-> Fragmentation Needed),
 * translate_config.c (xlat_config_default).
 *
 * Buffer room: 6->4 never needs any. 4->6 needs headroom for the header
 * growth (20, 28 with a Fragment header: PKT_HEADROOM), and for an ICMP
 * error also tailroom for the quoted header's growth (20, 28 if the quoted
 * packet is a fragment, plus RFC 4884 padding), up to the 1280-byte cut.
 */
#ifndef NAT64_CORE_TRANSLATE_H
#define NAT64_CORE_TRANSLATE_H

#include "packet.h"
#include "stats.h"
#include "types.h"

enum { MTU_PLATEAUS_MAX = 64 };

/* The translation settings (Jool's global keys of the same names). */
struct xlat_config {
	bool zeroize_traffic_class; /* 4->6: Traffic Class 0 instead of TOS */
	bool override_tos;          /* 6->4: TOS = tos instead of Traffic Class */
	uint8_t tos;
	uint32_t lowest_ipv6_mtu; /* >= 1280 */
	/* 4->6 UDP with checksum 0 in a fragment (the checksum can't be
	 * computed without the whole datagram): true drops it counted in
	 * XLAT46_UDP_ZERO_CSUM_FRAG; false is not an option for NAT64 because
	 * the port rewrite needs a checksum. Unfragmented: always computed. */
	bool drop_zero_csum_udp_fragments;
	uint16_t mtu_plateaus[MTU_PLATEAUS_MAX]; /* descending, no zeros/duplicates */
	uint8_t mtu_plateau_count;
};

/* Fill `cfg` with Jool's defaults. */
void xlat_config_default(struct xlat_config *cfg);

/*
 * Addresses for a 6->4 translation.
 *
 * Non-error packets: src/dst become the IPv4 source and destination,
 * sport/dport the transport ports (ICMP echo: the identifier is sport).
 * ICMP errors: src/dst are the outer header's; inner_* describe the quoted
 * packet (which travelled the other way, so usually inner_src = dst and
 * inner_dst = src with the mapped port).
 *
 * ICMP echo: the identifier written is src.port (inner_src.port for an
 * echo quoted by an error). As in the parser and Jool, the caller sets both
 * ports of an ICMP query tuple to the identifier (RFC 6146 §3.4).
 *
 * decrement_ttl: the hop limit is checked and decremented as by a router
 * (RFC 7915 §5.1: TTL = Hop Limit - 1 when the translator forwards); a hop
 * limit <= 1 returns XLAT64_HOP_LIMIT and leaves the packet unchanged so
 * the caller can answer with Time Exceeded. Inner headers are never
 * decremented.
 */
struct xlat_addrs4 {
	struct taddr4 src;
	struct taddr4 dst;
	struct taddr4 inner_src;
	struct taddr4 inner_dst;
	bool decrement_ttl;
	/* RFC 7915 §5.1: Identification for a packet without a Fragment
	 * header comes from the translator's generator; the caller owns it. */
	uint16_t ipv4_id;
	/* The TCP/UDP checksum field holds a partial (pseudo-header) sum
	 * the kernel finishes (TUN offloads, docs/offloads.md): only the
	 * ports change, the caller rewrites the field (gso_pseudo_csum()). */
	bool l4_csum_partial;
};

/* Addresses for a 4->6 translation; same rules as struct xlat_addrs4. */
struct xlat_addrs6 {
	struct taddr6 src;
	struct taddr6 dst;
	struct taddr6 inner_src;
	struct taddr6 inner_dst;
	bool decrement_ttl;
	bool l4_csum_partial; /* as in struct xlat_addrs4 */
};

/*
 * Translate the IPv6 packet in `p` (already parsed into `info`) to IPv4, in
 * place. `mtu4` is the MTU of the IPv4 side, used for Packet Too Big ->
 * Fragmentation Needed (RFC 7915 §5.2); `mtu6_in` the MTU of the link the
 * packet arrived on. Returns STAT_OK, or why the packet must be dropped
 * (then `p` is unchanged).
 */
enum stat_id xlat_6to4(struct pkt *p, const struct pkt_info *info, const struct xlat_addrs4 *a,
		       const struct xlat_config *cfg, uint32_t mtu4, uint32_t mtu6_in);

/* Translate the IPv4 packet in `p` to IPv6, in place. `mtu6` is the MTU of
 * the IPv6 side, `mtu4_in` of the IPv4 link it came from (both used for
 * Fragmentation Needed -> Packet Too Big, RFC 7915 §4.2). Returns STAT_OK,
 * or why the packet must be dropped (then `p` is unchanged). An oversized
 * result is not split here (lowest_ipv6_mtu is the fragmentation step's). */
enum stat_id xlat_4to6(struct pkt *p, const struct pkt_info *info, const struct xlat_addrs6 *a,
		       const struct xlat_config *cfg, uint32_t mtu6, uint32_t mtu4_in);

#endif
