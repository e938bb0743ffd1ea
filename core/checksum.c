/*
 * Internet checksums: RFC 1071 (computation), RFC 1624 (incremental update).
 *
 * Representation of a partial sum: every function here returns the one's
 * complement sum of big-endian 16-bit words already folded to 16 bits
 * (0 .. 0xFFFF) inside a uint32_t. A folded sum is 0 only when every word
 * summed was 0 (end-around carry never produces +0 from non-zero data), so
 * folding early loses nothing, and callers may add a few thousand such sums
 * with a plain `+` before the 32-bit accumulator could overflow.
 *
 * csum_partial() is the data-path routine. RFC 1071 §2 (B) and (C): the
 * sum is independent of byte order and may be computed on wider words, so
 * it loads 64-bit words in host order (memcpy: any alignment), adds them
 * with end-around carry, folds to 16 bits and only then swaps the result to
 * big-endian word order. The word pairing follows the position relative to
 * `data`, so an odd start address does not matter.
 */
#include "checksum.h"

#include <arpa/inet.h>
#include <string.h>

/* Fold a 64-bit end-around-carry accumulator to 16 bits; zero stays zero
 * and non-zero stays non-zero. Adding a word to itself rotated by half its
 * width puts hi + lo + (carry out of lo + hi) in the upper half: the
 * end-around-carry sum of the halves, in two steps instead of five. */
static inline uint32_t
fold64(uint64_t acc)
{
	uint64_t t = acc + (acc << 32 | acc >> 32);
	uint32_t s = (uint32_t)(t >> 32);

	s += s << 16 | s >> 16;
	return s >> 16;
}

/* One's complement addition: a + b with the carry wrapped around. */
static inline uint64_t
add_carry(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint64_t
load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

static inline uint64_t
load16(const uint8_t *p)
{
	uint16_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* A byte at an even offset, placed where a host-order 16-bit load of that
 * byte and a zero pad byte would put it (RFC 1071 §4.1: an odd last byte
 * is padded with zero). */
static inline uint64_t
load8_padded(const uint8_t *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return p[0];
#else
	return (uint64_t)p[0] << 8;
#endif
}

/* A 16-bit sum of host-order words, re-read as one big-endian word. */
static uint32_t
host_to_be_word(uint32_t folded)
{
	return ntohs((uint16_t)folded);
}

/* The last 0-7 bytes. Each piece starts at an even offset from `data`, so
 * adding the 32-, 16- and 8-bit loads unshifted keeps the 16-bit word
 * pairing (the sum is folded later); no stack buffer, so no byte stores
 * read back as one word (a store-forwarding stall). */
static inline uint64_t
sum_tail(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;

	if (len & 4) {
		acc += load32(p);
		p += 4;
	}
	if (len & 2) {
		acc += load16(p);
		p += 2;
	}
	if (len & 1)
		acc += load8_padded(p);
	return acc; /* < 2^33: no carry out of 64 bits when added */
}

/* Host-order sum of `len` bytes: 32 bytes per round, then 8, then the tail. */
static uint64_t
sum_host_order(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;

	for (; len >= 32; p += 32, len -= 32) {
		acc = add_carry(acc, load64(p));
		acc = add_carry(acc, load64(p + 8));
		acc = add_carry(acc, load64(p + 16));
		acc = add_carry(acc, load64(p + 24));
	}
	for (; len >= 8; p += 8, len -= 8)
		acc = add_carry(acc, load64(p));
	return add_carry(acc, sum_tail(p, len));
}

uint32_t
csum_partial(const void *data, size_t len, uint32_t sum)
{
	uint32_t part = host_to_be_word(fold64(sum_host_order(data, len)));

	return fold64((uint64_t)sum + part);
}

uint16_t
csum_fold(uint32_t sum)
{
	return htons((uint16_t)~fold64(sum));
}

uint32_t
csum_add(uint32_t a, uint32_t b)
{
	return fold64((uint64_t)a + b);
}

/* RFC 768 / RFC 793 pseudo-header: src, dst, zero, protocol, length. The
 * length is the 16-bit UDP/TCP length; both halves are summed so a larger
 * value is not silently truncated. */
uint32_t
csum_pseudo4(struct in_addr src, struct in_addr dst, uint8_t proto, uint32_t len)
{
	uint64_t acc = (uint64_t)proto + (len >> 16) + (len & 0xffffu);

	/* Both addresses in one host-order sum: one fold and one swap. */
	acc += host_to_be_word(fold64((uint64_t)src.s_addr + dst.s_addr));
	return fold64(acc);
}

/* RFC 8200 §8.1: src, dst, 32-bit upper-layer length, 24 zero bits, next
 * header. */
uint32_t
csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst, uint8_t proto, uint32_t len)
{
	uint64_t acc = (uint64_t)proto + (len >> 16) + (len & 0xffffu);
	uint64_t h = 0;

	/* Both addresses in one host-order sum: one fold and one swap. */
	h = add_carry(h, load64(src->s6_addr));
	h = add_carry(h, load64(src->s6_addr + 8));
	h = add_carry(h, load64(dst->s6_addr));
	h = add_carry(h, load64(dst->s6_addr + 8));
	acc += host_to_be_word(fold64(h));
	return fold64(acc);
}

/*
 * RFC 1624 §3, eqn. 3: HC' = ~(~HC + ~m + m'). Unlike RFC 1141's eqn. 2
 * (HC' = HC + m + ~m'), this never yields -0 (0xFFFF) where a computation
 * from scratch gives +0 (0x0000): the inner sum has end-around carry, so it
 * is 0 only if all three terms are 0.
 */
uint16_t
csum_replace(uint16_t old_csum, uint32_t old_sum, uint32_t new_sum)
{
	uint64_t acc = (uint16_t)~ntohs(old_csum);

	acc += (uint16_t)~fold64(old_sum);
	acc += fold64(new_sum);
	return htons((uint16_t)~fold64(acc));
}

uint16_t
csum_replace16(uint16_t old_csum, uint16_t old, uint16_t new)
{
	return csum_replace(old_csum, ntohs(old), ntohs(new));
}

uint16_t
csum_replace4(uint16_t old_csum, struct in_addr old, struct in_addr new)
{
	return csum_replace(old_csum, host_to_be_word(fold64(old.s_addr)),
			    host_to_be_word(fold64(new.s_addr)));
}

uint16_t
csum_ipv4_header(const void *hdr, size_t ihl_bytes)
{
	return csum_fold(csum_partial(hdr, ihl_bytes, 0));
}
