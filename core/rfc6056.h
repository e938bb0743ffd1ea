/*
 * Choosing the IPv4 transport address of a new BIB entry (RFC 6146
 * §3.5.1.1 and §3.5.2: "the NAT64 allocates an IPv4 transport address"),
 * with RFC 6056 algorithm 3 for the port and RFC 4787 REQ-2 (paired
 * address pooling) for the address.
 *
 * Order of the rules (rfc6056.c explains each):
 *   1. the address: the `preferred` one (the address this IPv6 host
 *      already uses in the set) while it has a free port; else one chosen
 *      by hashing the IPv6 source address, then the next ones;
 *   2. on that address, the IPv6 source port itself if it is in the set
 *      and free (port preservation);
 *   3. else a port from the algorithm 3 offset, of the same class
 *      (0-1023 / 1024-65535) and parity as the source port, then the other
 *      parity, then the other class (ICMP identifiers: no class);
 *   4. every probed taddr counts against the set's max-iterations.
 * Whether a taddr is free is asked through `is_taken`, because the BIB
 * knows which are in use. No allocation, no system call.
 *
 * Threading: a struct rfc6056 is written by every call (next_ephemeral);
 * keep one per worker.
 */
#ifndef NAT64_CORE_RFC6056_H
#define NAT64_CORE_RFC6056_H

#include "pool4.h"
#include "port_share.h"
#include "siphash.h"
#include "stats.h"
#include "types.h"

/* Jool's f-args bits: which fields feed F(). From most significant bit. */
enum {
	RFC6056_F_SRC_ADDR = 1 << 3,
	RFC6056_F_SRC_PORT = 1 << 2,
	RFC6056_F_DST_ADDR = 1 << 1,
	RFC6056_F_DST_PORT = 1 << 0,
	/* Jool's default 0b1011: everything but the source port, so that one
	 * application's connections to one server start at the same offset. */
	RFC6056_F_DEFAULT = 0xB,
	RFC6056_F_MASK = 0xF,
};

/* Port-choice state of one worker. */
struct rfc6056 {
	struct siphash_key key;  /* secret; the daemon draws it with getrandom() */
	uint8_t f_args;          /* RFC6056_F_* bits; others ignored */
	uint32_t next_ephemeral; /* RFC 6056 §3.3.3 algorithm 3's counter */
	/* With several workers: only ports of this worker's share are
	 * handed out (port_share.h). Zero: every port. */
	struct port_share share;
};

void rfc6056_init(struct rfc6056 *r, const struct siphash_key *key, uint8_t f_args);

/* True when `taddr` (of the set's protocol) already backs a BIB entry. */
typedef bool (*rfc6056_taken_fn)(void *ctx, const struct taddr4 *taddr);

struct rfc6056_query {
	const struct taddr6 *src6; /* the IPv6 host's taddr (S', S_port) */
	const struct taddr6 *dst6; /* where the packet goes */
	/* The IPv4 address this IPv6 host's other BIB entries use, or NULL.
	 * Ignored when not in the set. */
	const struct in_addr *preferred;
	rfc6056_taken_fn is_taken;
	void *ctx; /* handed to is_taken */
};

struct rfc6056_result {
	struct taddr4 taddr;         /* the choice, when STAT_OK */
	uint64_t probes;             /* taddrs handed to is_taken */
	bool max_iterations_reached; /* gave up with taddrs left untried */
};

/*
 * Choose a free taddr of `set` (from pool4_find_set()) for the query.
 * Returns STAT_OK and fills res->taddr; STAT_MARK_NOT_FOUND when `set` is
 * NULL; STAT_POOL4_EXHAUSTED when every taddr is taken or max-iterations
 * was reached first (res->max_iterations_reached tells which).
 */
enum stat_id rfc6056_choose(struct rfc6056 *r, const struct pool4_set *set,
			    const struct rfc6056_query *q, struct rfc6056_result *res);

/* F(): the keyed hash of the f-args fields (RFC 6056 §3.3.3 "offset"). */
uint64_t rfc6056_offset(const struct rfc6056 *r, const struct taddr6 *src6,
			const struct taddr6 *dst6);

#endif
