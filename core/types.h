/*
 * Basic value types shared by every core/ file: transport addresses,
 * protocols and the packet buffer.
 *
 * Conventions used across core/:
 *   - IPv4 and IPv6 addresses are kept as on the wire (network byte order,
 *     struct in_addr / struct in6_addr);
 *   - ports and ICMP identifiers are kept in host byte order;
 *   - time is a uint64_t count of milliseconds passed in by the caller
 *     (core/ never reads a clock).
 */
#ifndef NAT64_CORE_TYPES_H
#define NAT64_CORE_TYPES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The three kinds of flow a NAT64 keeps state for (RFC 6146 §3). */
enum l4proto {
	L4_TCP = 0,
	L4_UDP = 1,
	L4_ICMP = 2, /* ICMP query identifiers: echo request/reply */
	L4_COUNT
};

struct taddr4 {
	struct in_addr addr;
	uint16_t port; /* host order; for ICMP, the identifier */
};

struct taddr6 {
	struct in6_addr addr;
	uint16_t port; /* host order; for ICMP, the identifier */
};

/* An IPv6 prefix, e.g. pool6 (RFC 6052). */
struct prefix6 {
	struct in6_addr addr;
	uint8_t len;
};

/* An IPv4 prefix, e.g. a pool4 entry. */
struct prefix4 {
	struct in_addr addr;
	uint8_t len;
};

/*
 * A packet buffer. `data` points at the first byte of the IP header and
 * `len` bytes follow. `headroom` bytes before `data` and `tailroom` bytes
 * after `data + len` belong to the buffer too, so translation can grow the
 * header in place (4->6 needs 20 bytes, 28 with a Fragment header) without
 * moving the payload.
 */
struct pkt {
	uint8_t *data;
	uint32_t len;
	uint32_t headroom;
	uint32_t tailroom;
};

/* Headroom every receive buffer must have: IPv6 header (40) - IPv4 header
 * (20) + Fragment header (8). */
enum { PKT_HEADROOM = 40 - 20 + 8 };

static inline bool
taddr4_equal(const struct taddr4 *a, const struct taddr4 *b)
{
	return a->addr.s_addr == b->addr.s_addr && a->port == b->port;
}

static inline bool
in6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static inline bool
taddr6_equal(const struct taddr6 *a, const struct taddr6 *b)
{
	return in6_equal(&a->addr, &b->addr) && a->port == b->port;
}

#endif
