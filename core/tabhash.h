/*
 * The hash of the BIB and session tables (bib.c, session.c): SipHash-1-3
 * over a few 64-bit words that the caller packs in registers.
 *
 * Why not siphash() (SipHash-2-4 over a byte buffer), which these tables
 * used before: a new session hashes about ten keys and every packet one,
 * and the profile showed SipHash as the largest single cost. Two savings:
 *  - SipHash-1-3 (one compression round per word, three at the end) is
 *    what Linux (hsiphash on 64-bit), Rust and Python use for hash tables:
 *    still keyed, so a sender who does not know the key cannot aim for one
 *    bucket (RFC 6146 §3 tables are filled by strangers); the stronger
 *    SipHash-2-4 stays for the RFC 6056 port choice, whose outputs leave
 *    the box.
 *  - Words, not bytes: building a key byte by byte on the stack and
 *    reading it back 8 bytes at a time stalls store forwarding, and a
 *    fixed word count lets the compiler unroll.
 * The result is SipHash-1-3 of the words' little-endian bytes (8 n bytes).
 */
#ifndef NAT64_CORE_TABHASH_H
#define NAT64_CORE_TABHASH_H

#include "siphash.h"

#include <string.h>

static inline uint64_t
tabhash_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
tabhash_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = tabhash_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = tabhash_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = tabhash_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = tabhash_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = tabhash_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = tabhash_rotl(v[2], 32);
}

static inline void
tabhash_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	tabhash_round(v);
	v[0] ^= m;
}

/* n words (n < 32). */
static inline uint64_t
tabhash(const struct siphash_key *key, const uint64_t *w, unsigned n)
{
	uint64_t v[4] = {
		0x736f6d6570736575ULL ^ key->k[0],
		0x646f72616e646f6dULL ^ key->k[1],
		0x6c7967656e657261ULL ^ key->k[0],
		0x7465646279746573ULL ^ key->k[1],
	};

	for (unsigned i = 0; i < n; i++)
		tabhash_block(v, w[i]);
	tabhash_block(v, (uint64_t)(uint8_t)(n * 8) << 56); /* length, no tail bytes */
	v[2] ^= 0xff;
	tabhash_round(v);
	tabhash_round(v);
	tabhash_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/*
 * The last key one kind of lookup hashed, and its hash. A new flow looks
 * the same keys up several times (the pipeline's session and BIB lookups
 * miss, then session_add() checks and inserts the same keys): the second
 * time costs a comparison of n words instead of SipHash. n == 0: empty.
 */
enum { TABHASH_MEMO_WORDS = 4 };

struct tabhash_memo {
	uint64_t w[TABHASH_MEMO_WORDS];
	uint64_t hv;
	unsigned n;
};

/* tabhash() of n (1..TABHASH_MEMO_WORDS) words, through `m`. */
static inline uint64_t
tabhash_memo(const struct siphash_key *key, struct tabhash_memo *m, const uint64_t *w, unsigned n)
{
	if (m->n == n && memcmp(m->w, w, n * sizeof(*w)) == 0)
		return m->hv;
	memcpy(m->w, w, n * sizeof(*w));
	m->n = n;
	m->hv = tabhash(key, w, n);
	return m->hv;
}

/* An IPv6 address as two words (host order: only equality matters). */
static inline void
tabhash_addr6(uint64_t w[2], const void *addr6)
{
	memcpy(w, addr6, 16);
}

#endif
