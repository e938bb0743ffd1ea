/*
 * Which worker owns a pool4 port (or ICMP identifier) when the daemon runs
 * several workers, each with its own BIB and session tables.
 *
 * Every worker allocates ports only from its own share of every pool4
 * range, so an IPv4 packet can be steered to the worker that holds its
 * state by its destination port alone (bpf/steer.bpf.c computes the same
 * function in the kernel). Ports go by pairs (2k, 2k+1): each worker then
 * owns ports of both parities in every range of more than two ports, which
 * RFC 4787 REQ-4 parity preservation needs, and both port classes
 * (RFC 6146 §3.5.1.1) in any range that spans them.
 *
 * THE FORMULA IS SHARED WITH THE STEERING PROGRAM: change both or neither.
 */
#ifndef NAT64_CORE_PORT_SHARE_H
#define NAT64_CORE_PORT_SHARE_H

#include <stdbool.h>
#include <stdint.h>

struct port_share {
	uint16_t index; /* this worker, 0 .. count - 1 */
	uint16_t count; /* workers; 0 or 1: one owns everything */
};

static inline unsigned int
port_share_owner(uint16_t port, unsigned int count)
{
	return count <= 1 ? 0 : ((unsigned int)port >> 1) % count;
}

static inline bool
port_share_mine(const struct port_share *s, uint16_t port)
{
	return port_share_owner(port, s->count) == s->index;
}

#endif
