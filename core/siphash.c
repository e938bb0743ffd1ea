#include "siphash.h"

#include <endian.h>
#include <string.h>

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* Little-endian load, whatever the host order, as the specification says.
 * memcpy: any alignment, and compilers turn it into one load (plus a byte
 * swap on big-endian hosts). */
static inline uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline uint64_t
load_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t
load_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

/* The last 0-7 bytes as a little-endian word, without a stack buffer (a
 * byte-wise store then a 64-bit reload stalls store forwarding). */
static inline uint64_t
load_tail(const uint8_t *p, size_t n)
{
	switch (n) {
	case 7:
		return load_le32(p) | load_le16(p + 4) << 32 | (uint64_t)p[6] << 48;
	case 6:
		return load_le32(p) | load_le16(p + 4) << 32;
	case 5:
		return load_le32(p) | (uint64_t)p[4] << 32;
	case 4:
		return load_le32(p);
	case 3:
		return load_le16(p) | (uint64_t)p[2] << 16;
	case 2:
		return load_le16(p);
	case 1:
		return p[0];
	default:
		return 0;
	}
}

#define SIPROUND(v0, v1, v2, v3)                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

uint64_t
siphash(const struct siphash_key *key, const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key->k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key->k[1];
	size_t whole = len & ~(size_t)7;
	uint64_t m;

	for (size_t i = 0; i < whole; i += 8) {
		m = load_le64(in + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	/* Final block: the 0-7 remaining bytes, then len mod 256 in the top
	 * byte. */
	m = load_tail(in + whole, len - whole) | (uint64_t)(uint8_t)len << 56;
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;

	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
