/*
 * MTU arithmetic of RFC 7915 §4.2 and §5.2: the MTU an ICMP error carries
 * when a Packet Too Big becomes a Fragmentation Needed and back, and the
 * RFC 1191 §7 plateau table used when an old IPv4 router reports MTU 0.
 *
 * Pure functions of their arguments, so the pipeline and the daemon can
 * reuse them (e.g. for the MTU of the errors the NAT64 itself sends).
 */
#ifndef NAT64_CORE_MTU_H
#define NAT64_CORE_MTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MTU_IPV6_MIN = 1280, /* RFC 8200 §5 */
	MTU_IPV4_MIN = 68,   /* RFC 791 §3.2 */
};

/*
 * RFC 7915 §5.2: ICMPv6 Packet Too Big -> ICMPv4 Fragmentation Needed.
 * Next-hop MTU = min(ptb - hdr, mtu4, mtu6_in - hdr), where hdr is the
 * IPv6/IPv4 header difference, 20, or 28 when the packet in error carried
 * a Fragment header (`frag_hdr`) that the IPv4 packet won't have.
 * `mtu4` is the MTU of the IPv4 side, `mtu6_in` of the IPv6 link the PTB
 * came from. The result is clamped to 68..65535: the ICMPv4 field has 16
 * bits and no IPv4 link is smaller than 68 (RFC 791 §3.2), so a bogus PTB
 * (below 20, or above 65535) still yields a usable value.
 */
uint16_t mtu_ptb_to_fn(uint32_t ptb, uint32_t mtu4, uint32_t mtu6_in, bool frag_hdr);

/*
 * RFC 7915 §4.2: ICMPv4 Fragmentation Needed -> ICMPv6 Packet Too Big.
 * MTU = max(1280, min(fn + 20, mtu6, mtu4_in + 20)). `fn` must already be
 * non-zero (see mtu_plateau_below for MTU 0); `mtu6` is the MTU of the
 * IPv6 side, `mtu4_in` of the IPv4 link the error came from.
 */
uint32_t mtu_fn_to_ptb(uint16_t fn, uint32_t mtu6, uint32_t mtu4_in);

/*
 * RFC 1191 §7 (and RFC 7915 §4.2): a router that reports MTU 0 predates
 * RFC 1191; guess the greatest plateau strictly less than the Total Length
 * of the packet it refused. Returns 0 when no plateau is smaller. The
 * table need not be sorted.
 */
uint16_t mtu_plateau_below(const uint16_t *plateaus, size_t count, uint16_t total_len);

#endif
