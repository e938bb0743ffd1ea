/*
 * RFC 6052: IPv4-embedded IPv6 addresses.
 *
 * RFC 6052 §2.2 figure 1 places the 32 IPv4 bits right after the prefix,
 * skipping bits 64-71 (the "u" octet). Every allowed length is a multiple
 * of 8, so embedding is a byte copy: the IPv4 bytes go to positions
 * len/8, len/8 + 1, ... with position 8 skipped. One loop serves all six
 * lengths, which keeps /40, /48 and /56 (the split layouts) from having
 * their own, rarely exercised, code.
 */
#include "rfc6052.h"

#include <arpa/inet.h>

enum {
	U_OCTET = 8, /* byte holding bits 64-71 */
};

static bool
length_allowed(uint8_t len)
{
	switch (len) {
	case 32:
	case 40:
	case 48:
	case 56:
	case 64:
	case 96:
		return true;
	default:
		return false;
	}
}

/* Position in the IPv6 address of IPv4 byte `i` (RFC 6052 §2.2). */
static unsigned int
v4_byte_pos(uint8_t prefix_len, unsigned int i)
{
	unsigned int pos = prefix_len / 8 + i;

	return pos >= U_OCTET && prefix_len <= 64 ? pos + 1 : pos;
}

/* True when bits [from, 128) of `a` are all zero. */
static bool
zero_from_bit(const struct in6_addr *a, unsigned int from)
{
	unsigned int byte = from / 8;

	if (from % 8 != 0) {
		if (a->s6_addr[byte] & (0xffu >> (from % 8)))
			return false;
		byte++;
	}
	for (; byte < 16; byte++)
		if (a->s6_addr[byte] != 0)
			return false;
	return true;
}

enum rfc6052_error
rfc6052_validate(const struct prefix6 *prefix)
{
	if (!length_allowed(prefix->len))
		return RFC6052_BAD_LENGTH;
	/* RFC 6052 §2.2: bits 64 to 71 "MUST be set to zero", whatever the
	 * length (for /96 they are part of the prefix). */
	if (prefix->addr.s6_addr[U_OCTET] != 0)
		return RFC6052_U_OCTET;
	if (!zero_from_bit(&prefix->addr, prefix->len))
		return RFC6052_HOST_BITS;
	return RFC6052_OK;
}

const char *
rfc6052_strerror(enum rfc6052_error err)
{
	switch (err) {
	case RFC6052_OK:
		return "The prefix is a valid RFC 6052 prefix.";
	case RFC6052_BAD_LENGTH:
		return "The prefix length must be 32, 40, 48, 56, 64 or 96 (RFC 6052 section 2.2).";
	case RFC6052_U_OCTET:
		return "Bits 64 to 71 of the prefix (the u octet) must be zero (RFC 6052 section "
		       "2.2).";
	case RFC6052_HOST_BITS:
		return "The prefix has bits set after its length; clear them or fix the length.";
	}
	return "Unknown RFC 6052 prefix error.";
}

/* RFC 6052 §2.2: prefix, then the IPv4 address around the u octet, then a
 * zero suffix. */
void
rfc6052_embed(const struct prefix6 *prefix, struct in_addr v4, struct in6_addr *out)
{
	const uint8_t *b = (const uint8_t *)&v4.s_addr;
	unsigned int whole = prefix->len / 8;

	memset(out, 0, sizeof(*out));
	if (!length_allowed(prefix->len))
		return; /* contract broken: stay inside `out` */
	memcpy(out->s6_addr, prefix->addr.s6_addr, whole);
	for (unsigned int i = 0; i < 4; i++)
		out->s6_addr[v4_byte_pos(prefix->len, i)] = b[i];
}

/* RFC 6052 §2.3: read the same positions back; the suffix is ignored. */
struct in_addr
rfc6052_extract(const struct prefix6 *prefix, const struct in6_addr *v6)
{
	struct in_addr v4 = {0};
	uint8_t *b = (uint8_t *)&v4.s_addr;

	/* The common /96 (RFC 6052 §2.2: bits 96-127): one 4-byte copy. */
	if (prefix->len == 96) {
		memcpy(&v4.s_addr, &v6->s6_addr[12], sizeof(v4.s_addr));
		return v4;
	}
	if (!length_allowed(prefix->len))
		return v4; /* contract broken: stay inside `v6` */
	for (unsigned int i = 0; i < 4; i++)
		b[i] = v6->s6_addr[v4_byte_pos(prefix->len, i)];
	return v4;
}

/* First 96 bits equal: one 8-byte and one 4-byte load each, instead of a
 * memcmp call on the data path. */
static inline bool
prefix96_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	uint64_t a_hi, b_hi;
	uint32_t a_lo, b_lo;

	memcpy(&a_hi, a->s6_addr, sizeof(a_hi));
	memcpy(&b_hi, b->s6_addr, sizeof(b_hi));
	memcpy(&a_lo, a->s6_addr + 8, sizeof(a_lo));
	memcpy(&b_lo, b->s6_addr + 8, sizeof(b_lo));
	return ((a_hi ^ b_hi) | (uint64_t)(a_lo ^ b_lo)) == 0;
}

bool
rfc6052_contains(const struct prefix6 *prefix, const struct in6_addr *v6)
{
	unsigned int whole = prefix->len / 8, rest = prefix->len % 8;
	uint8_t mask;

	if (prefix->len == 96)
		return prefix96_equal(&prefix->addr, v6);
	if (prefix->len > 128)
		return false;
	if (memcmp(prefix->addr.s6_addr, v6->s6_addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff00u >> rest);
	return ((prefix->addr.s6_addr[whole] ^ v6->s6_addr[whole]) & mask) == 0;
}

/*
 * RFC 6052 §3.1 forbids embedding non-global IPv4 addresses in the
 * Well-Known Prefix. The list is the IANA IPv4 Special-Purpose Address
 * Registry (RFC 6890 and updates), entries whose "Globally Reachable" is
 * False, plus multicast and the deprecated 6to4 relay anycast.
 *
 * Simplification: 192.0.0.0/24 is treated as non-global as a whole,
 * although the registry marks 192.0.0.9/32 (PCP anycast) and 192.0.0.10/32
 * (TURN anycast) as global. A NAT64 has no business translating either,
 * and one entry is easier to audit than a /24 with two holes.
 */
static const struct {
	uint32_t net; /* host order */
	uint8_t len;
} nonglobal4[] = {
	{0x00000000, 8},  /* 0.0.0.0/8 "this network" (RFC 791) */
	{0x0a000000, 8},  /* 10.0.0.0/8 private (RFC 1918) */
	{0x64400000, 10}, /* 100.64.0.0/10 shared address space (RFC 6598) */
	{0x7f000000, 8},  /* 127.0.0.0/8 loopback (RFC 1122) */
	{0xa9fe0000, 16}, /* 169.254.0.0/16 link local (RFC 3927) */
	{0xac100000, 12}, /* 172.16.0.0/12 private (RFC 1918) */
	{0xc0000000, 24}, /* 192.0.0.0/24 IETF protocol assignments (RFC 6890) */
	{0xc0000200, 24}, /* 192.0.2.0/24 TEST-NET-1 (RFC 5737) */
	{0xc0586300, 24}, /* 192.88.99.0/24 6to4 relay anycast, deprecated (RFC 7526) */
	{0xc0a80000, 16}, /* 192.168.0.0/16 private (RFC 1918) */
	{0xc6120000, 15}, /* 198.18.0.0/15 benchmarking (RFC 2544) */
	{0xc6336400, 24}, /* 198.51.100.0/24 TEST-NET-2 (RFC 5737) */
	{0xcb007100, 24}, /* 203.0.113.0/24 TEST-NET-3 (RFC 5737) */
	{0xe0000000, 4},  /* 224.0.0.0/4 multicast (RFC 5771) */
	{0xf0000000, 4},  /* 240.0.0.0/4 reserved, incl. 255.255.255.255 (RFC 1112) */
};

bool
rfc6052_is_nonglobal4(struct in_addr v4)
{
	uint32_t a = ntohl(v4.s_addr);

	for (size_t i = 0; i < sizeof(nonglobal4) / sizeof(nonglobal4[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - nonglobal4[i].len);

		if ((a & mask) == nonglobal4[i].net)
			return true;
	}
	return false;
}

bool
rfc6052_is_wkp(const struct prefix6 *prefix)
{
	/* RFC 6052 §2.1: 64:ff9b::/96. */
	static const uint8_t wkp[16] = {0x00, 0x64, 0xff, 0x9b};

	return prefix->len == 96 && memcmp(prefix->addr.s6_addr, wkp, sizeof(wkp)) == 0;
}
