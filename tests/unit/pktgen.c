#include "pktgen.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
sum_bytes(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += (i % 2 == 0) ? (uint32_t)p[i] << 8 : p[i];
	return sum;
}

uint16_t
ref_csum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint32_t sum;

	cr_assert(alen % 2 == 0, "ref_csum: first chunk must be even");
	sum = sum_bytes(a, alen, 0);
	sum = sum_bytes(b, blen, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
pton(int af, const char *text, void *out)
{
	cr_assert_eq(inet_pton(af, text, out), 1, "bad test address %s", text);
}

size_t
pg_ipv6(uint8_t *b, const char *src, const char *dst, uint8_t next_header, uint8_t hop_limit,
	uint16_t payload_len)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, payload_len);
	b[6] = next_header;
	b[7] = hop_limit;
	pton(AF_INET6, src, b + 8);
	pton(AF_INET6, dst, b + 24);
	return 40;
}

void
pg_ipv6_set_tc_flow(uint8_t *ip6, uint8_t tclass, uint32_t flow)
{
	put32(ip6, 6u << 28 | (uint32_t)tclass << 20 | (flow & 0xfffff));
}

size_t
pg_ipv4(uint8_t *b, const char *src, const char *dst, uint8_t proto, uint8_t ttl, uint16_t id,
	uint16_t frag, uint16_t total_len)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, total_len);
	put16(b + 4, id);
	put16(b + 6, frag);
	b[8] = ttl;
	b[9] = proto;
	pton(AF_INET, src, b + 12);
	pton(AF_INET, dst, b + 16);
	pg_ipv4_fix_csum(b);
	return 20;
}

void
pg_ipv4_fix_csum(uint8_t *ip4)
{
	size_t ihl = (size_t)(ip4[0] & 0x0f) * 4;

	ip4[10] = ip4[11] = 0;
	put16(ip4 + 10, ref_csum(ip4, ihl, NULL, 0));
}

bool
pg_ipv4_csum_ok(const uint8_t *ip4)
{
	return ref_csum(ip4, (size_t)(ip4[0] & 0x0f) * 4, NULL, 0) == 0;
}

size_t
pg_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t payload_len)
{
	put16(b, sport);
	put16(b + 2, dport);
	put16(b + 4, (uint16_t)(8 + payload_len));
	put16(b + 6, 0);
	return 8;
}

size_t
pg_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	memset(b, 0, 20);
	put16(b, sport);
	put16(b + 2, dport);
	put32(b + 4, seq);
	put32(b + 8, ack);
	b[12] = 5 << 4;
	b[13] = flags;
	put16(b + 14, 65535);
	return 20;
}

size_t
pg_icmp(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest)
{
	b[0] = type;
	b[1] = code;
	put16(b + 2, 0);
	put32(b + 4, rest);
	return 8;
}

/* Offset of the checksum field in a transport header. */
static size_t
csum_field(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	default: /* ICMP, ICMPv6 */
		return 2;
	}
}

static uint16_t
l4_csum6(const uint8_t *pkt, size_t len, size_t l4_off, uint8_t proto)
{
	uint8_t pseudo[40];
	uint32_t l4_len = (uint32_t)(len - l4_off);

	memcpy(pseudo, pkt + 8, 32);
	put32(pseudo + 32, l4_len);
	memset(pseudo + 36, 0, 3);
	pseudo[39] = proto;
	return ref_csum(pseudo, sizeof(pseudo), pkt + l4_off, l4_len);
}

static uint16_t
l4_csum4(const uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	uint8_t pseudo[12];
	uint16_t l4_len = (uint16_t)(len - ihl);

	if (pkt[9] == IPPROTO_ICMP)
		return ref_csum(pkt + ihl, 0, pkt + ihl, l4_len);
	memcpy(pseudo, pkt + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = pkt[9];
	put16(pseudo + 10, l4_len);
	return ref_csum(pseudo, sizeof(pseudo), pkt + ihl, l4_len);
}

void
pg_fix_l4_csum6(uint8_t *pkt, size_t len)
{
	uint8_t proto = pkt[6];
	uint8_t *field = pkt + 40 + csum_field(proto);
	uint16_t c;

	put16(field, 0);
	c = l4_csum6(pkt, len, 40, proto);
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(field, c);
}

void
pg_fix_l4_csum4(uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	uint8_t *field = pkt + ihl + csum_field(pkt[9]);
	uint16_t c;

	put16(field, 0);
	c = l4_csum4(pkt, len);
	if (pkt[9] == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(field, c);
}

bool
pg_l4_csum_ok6(const uint8_t *pkt, size_t len, size_t l4_off, uint8_t proto)
{
	return l4_csum6(pkt, len, l4_off, proto) == 0;
}

bool
pg_l4_csum_ok4(const uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	if (pkt[9] == IPPROTO_UDP && get16(pkt + ihl + 6) == 0)
		return false; /* "no checksum" is not a verified checksum */
	return l4_csum4(pkt, len) == 0;
}

void
pg_assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	size_t n = got_len < want_len ? got_len : want_len;

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "byte %zu: got 0x%02x, want 0x%02x", i, got[i],
			     want[i]);
	cr_assert_eq(got_len, want_len, "length: got %zu, want %zu", got_len, want_len);
}

/* ---- Added for the translator tests (extension and fragment headers) ---- */

size_t
pg_ext6(uint8_t *b, uint8_t next_header, uint8_t units)
{
	size_t len = ((size_t)units + 1) * 8;

	memset(b, 0, len);
	b[0] = next_header;
	b[1] = units;
	/* RFC 8200 §4.2 PadN option filling the rest of the header. */
	b[2] = 1;
	b[3] = (uint8_t)(len - 4);
	return len;
}

size_t
pg_routing6(uint8_t *b, uint8_t next_header, uint8_t segments_left)
{
	memset(b, 0, 8);
	b[0] = next_header;
	b[1] = 0;
	b[2] = 4; /* RFC 8754 segment routing header type; the contents are not read */
	b[3] = segments_left;
	return 8;
}

size_t
pg_frag6(uint8_t *b, uint8_t next_header, uint16_t offset, bool more, uint32_t id)
{
	b[0] = next_header;
	b[1] = 0;
	put16(b + 2, (uint16_t)(offset | (more ? 1 : 0)));
	put32(b + 4, id);
	return 8;
}
