/*
 * A token bucket, for the ICMP errors the translator originates (RFC 4443
 * §2.4 (f): "an IPv6 node MUST limit the rate of ICMPv6 error messages it
 * originates"; RFC 1812 §4.3.2.8 likewise for IPv4).
 *
 * `rate` tokens per second, at most `rate` in the bucket (a burst of one
 * second's worth), one token per message. Tokens are counted in
 * thousandths so that the caller's millisecond clock refills them
 * exactly: `rate` thousandths per millisecond. Time comes from the caller
 * and must not go backwards (if it does, nothing is refilled).
 */
#ifndef NAT64_CORE_RATELIMIT_H
#define NAT64_CORE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

enum { RATELIMIT_UNIT = 1000 }; /* thousandths of a token per token */

struct ratelimit {
	uint64_t tokens; /* thousandths */
	uint64_t last;   /* ms of the last refill */
	uint32_t rate;   /* tokens per second; 0: nothing passes */
};

/* A full bucket of `rate` per second. */
static inline void
ratelimit_init(struct ratelimit *r, uint32_t rate, uint64_t now)
{
	r->rate = rate;
	r->tokens = (uint64_t)rate * RATELIMIT_UNIT;
	r->last = now;
}

/* True (and one token spent) when a message may go at `now`. */
static inline bool
ratelimit_take(struct ratelimit *r, uint64_t now)
{
	uint64_t cap = (uint64_t)r->rate * RATELIMIT_UNIT;

	if (now > r->last) {
		uint64_t elapsed = now - r->last;

		/* Past one second the bucket is full whatever the rate: no
		 * overflow for any elapsed time. */
		if (elapsed >= RATELIMIT_UNIT)
			r->tokens = cap;
		else if (r->tokens + elapsed * r->rate > cap)
			r->tokens = cap;
		else
			r->tokens += elapsed * r->rate;
		r->last = now;
	}
	if (r->tokens < RATELIMIT_UNIT)
		return false;
	r->tokens -= RATELIMIT_UNIT;
	return true;
}

#endif
