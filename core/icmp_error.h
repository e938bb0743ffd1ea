/*
 * ICMP errors the translator itself originates (not the ones it
 * translates, which are translate_icmp.c's): Destination Unreachable when
 * no mapping can be made or found (RFC 6146 §3.5.1.1, §3.5.2.2), Time
 * Exceeded when a hop limit runs out (RFC 7915 §4.1, §5.1), Parameter
 * Problem for a Routing header with Segments Left (RFC 7915 §5.1) ...
 *
 * They are built like the kernel builds them (Jool calls icmp_send() and
 * icmpv6_send()): IPv6 from own6 with hop limit 64 and as much of the
 * offending packet as fits in 1280 bytes (RFC 4443 §2.4 (c)); IPv4 from
 * own4 with TTL 64, TOS 0xC0 (Internetwork Control, as Linux), DF clear
 * and the error cut to 576 bytes (RFC 1812 §4.3.2.3). Pure functions of
 * their arguments; the rate limit is the caller's.
 */
#ifndef NAT64_CORE_ICMP_ERROR_H
#define NAT64_CORE_ICMP_ERROR_H

#include "packet.h"
#include "types.h"

enum {
	ICMP_ERROR6_MAX = 1280, /* RFC 4443 §2.4 (c) */
	ICMP_ERROR4_MAX = 576,  /* RFC 1812 §4.3.2.3 */
	ICMP_ERROR_TTL = 64,
	ICMP_ERROR4_TOS = 0xc0,
};

/* Types and codes the engine sends (RFC 792, RFC 4443 §3). */
enum {
	ICMPERR4_UNREACH = 3,
	ICMPERR4_PORT = 3,      /* port unreachable */
	ICMPERR4_SRC_ROUTE = 5, /* source route failed */
	ICMPERR4_ADMIN = 13,    /* communication administratively prohibited */
	ICMPERR4_TIME = 11,     /* time exceeded, code 0: TTL in transit */
	ICMPERR6_UNREACH = 1,
	ICMPERR6_ADDR = 3,  /* address unreachable */
	ICMPERR6_TIME = 3,  /* time exceeded, code 0: hop limit in transit */
	ICMPERR6_PARAM = 4, /* parameter problem, code 0: erroneous field */
};

/* An error to send: family 0 means none. `rest` is the 32-bit field after
 * the checksum (Parameter Problem pointer, MTU ...), host order. */
struct icmp_error {
	uint8_t family; /* 0, 4 or 6 */
	uint8_t type;
	uint8_t code;
	uint32_t rest;
};

/*
 * May the translator answer this packet (`pkt`, parsed into `info`) with
 * an ICMP error? Never about an ICMP error, a non-first fragment, or a
 * packet whose source does not name one host (unspecified, multicast,
 * IPv4 broadcast, loopback, class E) or whose destination is multicast or
 * broadcast: RFC 4443 §2.4 (e), RFC 1812 §4.3.2.7, RFC 1122 §3.2.2.
 */
bool icmp_error_allowed6(const uint8_t *pkt, const struct pkt_info *info);
bool icmp_error_allowed4(const uint8_t *pkt, const struct pkt_info *info);

/*
 * Build in `out` (room for ICMP_ERROR6_MAX bytes) the ICMPv6 error `e`
 * from `src` to the source of the IPv6 packet `orig` (`orig_len` bytes,
 * at least its 40-byte header), quoting as much of it as fits. Returns
 * the length written, 0 if `orig_len` is too short.
 */
uint32_t icmp_error_build6(uint8_t *out, const struct in6_addr *src, const uint8_t *orig,
			   uint32_t orig_len, const struct icmp_error *e);

/* Same for ICMPv4 (room for ICMP_ERROR4_MAX bytes): from `src` to the
 * source of the IPv4 packet `orig` (at least 20 bytes), Identification
 * `id` (the caller's generator). */
uint32_t icmp_error_build4(uint8_t *out, struct in_addr src, uint16_t id, const uint8_t *orig,
			   uint32_t orig_len, const struct icmp_error *e);

#endif
