/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash, so that nobody
 * who does not know the key can choose inputs that collide. Used for the
 * RFC 6056 port choice and for every hash table that packets fill.
 */
#ifndef NAT64_CORE_SIPHASH_H
#define NAT64_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k[2];
};

uint64_t siphash(const struct siphash_key *key, const void *data, size_t len);

#endif
