/*
 * Packet parsing and validation: IPv4 (options, header checksum), IPv6
 * (extension header chain), TCP, UDP, ICMPv4, ICMPv6 and the packet quoted
 * inside an ICMP error.
 *
 * The parser only reads: it fills a struct pkt_info with offsets and the
 * fields later steps need, or returns the reason it refused the packet.
 * It never reads outside [data, data + len).
 */
#ifndef NAT64_CORE_PACKET_H
#define NAT64_CORE_PACKET_H

#include "stats.h"
#include "types.h"

/* Longest IPv6 extension header chain we walk before giving up. */
enum { PKT_MAX_EXT_HEADERS = 8 };

/* One IP header and what follows it, outer or inner. */
struct pkt_l3 {
	uint8_t family;   /* 4 or 6 */
	uint8_t l4_proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
	uint16_t l4_off;  /* offset of the transport header from the IP header */
	uint32_t l3_end;  /* bytes of this packet present (outer: IP total length) */

	/* Fragmentation (IPv4 flags/offset, or the IPv6 Fragment header). */
	bool is_fragment;      /* offset != 0 or MF set (or IPv6 Fragment header present) */
	bool more_fragments;   /* MF */
	bool dont_fragment;    /* IPv4 DF; false for IPv6 */
	uint16_t frag_offset;  /* in bytes */
	uint32_t frag_id;      /* IPv4: 16-bit ID; IPv6: Fragment header ID */
	uint16_t frag_hdr_off; /* IPv6: offset of the Fragment header, 0 if none */

	/* IPv6: offset of an unexpired Routing header's Segments Left byte, 0 if none.
	 * IPv4: offset of an unexpired LSRR/SSRR option, 0 if none. */
	uint16_t src_route_off;

	/* Transport: valid when has_ports (first fragment, header present). */
	bool has_ports;
	uint16_t sport; /* host order; ICMP query: identifier */
	uint16_t dport; /* host order; ICMP query: identifier */
	uint8_t tcp_flags;

	/* ICMP (l4_proto ICMP or ICMPv6): valid when has_icmp. */
	bool has_icmp;
	bool icmp_is_error;
	uint8_t icmp_type;
	uint8_t icmp_code;
};

struct pkt_info {
	struct pkt_l3 outer;
	/* The packet quoted by an ICMP error (outer.icmp_is_error). Its
	 * offsets are relative to inner_off, the offset of the inner IP header
	 * from the outer IP header. The inner transport header may be cut
	 * short, but a quote without its ports (or identifier) is refused
	 * (STAT_INNER_NO_PORTS), so inner.has_ports is true whenever
	 * has_inner is. inner.l3_end is the number of quoted bytes present,
	 * whatever the inner length field says. */
	bool has_inner;
	uint16_t inner_off;
	struct pkt_l3 inner;
};

/* Parse an IPv6 packet. Returns STAT_OK or the reason for refusing it. */
enum stat_id pkt_parse6(const uint8_t *data, uint32_t len, struct pkt_info *info);

/* Parse an IPv4 packet (verifies the header checksum). */
enum stat_id pkt_parse4(const uint8_t *data, uint32_t len, struct pkt_info *info);

/* ICMPv6 error types (RFC 4443): 1-4. Informational: 128-255. */
bool pkt_icmp6_is_error(uint8_t type);
/* ICMPv4 error types (RFC 792): 3, 4, 5, 11, 12. */
bool pkt_icmp4_is_error(uint8_t type);

#endif
