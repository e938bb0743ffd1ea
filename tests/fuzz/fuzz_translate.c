/*
 * libFuzzer target: parse + RFC 7915 translation, both directions.
 *
 * Input layout:
 *   byte 0   bit 0: direction (0: IPv6 -> pkt_parse6 + xlat_6to4,
 *                              1: IPv4 -> pkt_parse4 + xlat_4to6)
 *            bit 1: decrement_ttl
 *            bit 2: zeroize_traffic_class
 *            bit 3: override_tos (tos = byte 0)
 *            bit 4: repair the checksums first (see fixup4/fixup6)
 *            bit 5: no tailroom, bit 6: headroom 8 instead of PKT_HEADROOM
 *                   (the translator must refuse with *_NO_ROOM, not overrun)
 *   byte 1   MTU of the IPv6 side (see mtu_from_byte)
 *   byte 2   MTU of the IPv4 side
 *   byte 3.. the packet, starting at the IP header
 *
 * The packet is copied into a heap buffer of exactly headroom + len +
 * tailroom bytes, so AddressSanitizer catches any access before the
 * headroom or after the tailroom.
 *
 * Without bit 4 nearly every mutation of an IPv4 header or of an ICMP error
 * dies on a checksum in the parser; with it the mutated fields (types,
 * codes, pointers, lengths, options) reach the translator.
 *
 * Properties checked (abort() on violation, so libFuzzer records it):
 *   1. a refused translation leaves the packet unchanged (translate.h);
 *   2. the result stays inside the buffer and struct pkt is consistent;
 *   3. the result parses with the other family's parser (a translated packet
 *      must be valid), except for the reasons listed in reparse_excused();
 *   4. if the input's transport checksum verified (or was an absent IPv4
 *      UDP checksum, which the translator must compute), the output's
 *      verifies (unfragmented TCP, UDP, ICMP only: a fragment's checksum
 *      covers bytes we do not have).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "fuzz_csum.h"
#include "packet.h"
#include "translate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FUZZ_PREFIX = 3,     /* selector byte + two MTU bytes */
	FUZZ_TAILROOM = 128, /* 4->6 ICMP errors grow the quoted packet */
};

/* Byte -> MTU no smaller than `min`: the first eight values are the usual
 * suspects, the rest a ramp of 24-byte steps. */
static uint32_t
mtu_from_byte(uint8_t b, uint32_t min)
{
	static const uint32_t common[] = {1280, 1500, 9000, 65535, 576, 68, 1492, 1281};
	uint32_t mtu = b < 8 ? common[b] : min + (uint32_t)(b - 8) * 24;

	return mtu < min ? min : mtu;
}

static void
set_v6(struct in6_addr *a, const char *bytes16)
{
	memcpy(a->s6_addr, bytes16, 16);
}

/* 6->4: the IPv6 host 2001:db8::1 is masked as 192.0.2.1:61000 and talks to
 * 198.51.100.2:80. The packet quoted by an ICMP error went the other way. */
static void
addrs4_fixed(struct xlat_addrs4 *a, bool decrement_ttl)
{
	memset(a, 0, sizeof(*a));
	a->src.addr.s_addr = htonl(0xc0000201);
	a->src.port = 61000;
	a->dst.addr.s_addr = htonl(0xc6336402);
	a->dst.port = 80;
	a->inner_src = a->dst;
	a->inner_dst = a->src;
	a->decrement_ttl = decrement_ttl;
}

/* 4->6: 198.51.100.2:80 appears as 64:ff9b::198.51.100.2 talking to the
 * IPv6 host 2001:db8::1:40000. */
static void
addrs6_fixed(struct xlat_addrs6 *a, bool decrement_ttl)
{
	memset(a, 0, sizeof(*a));
	set_v6(&a->src.addr, "\x00\x64\xff\x9b\0\0\0\0\0\0\0\0\xc6\x33\x64\x02");
	a->src.port = 80;
	set_v6(&a->dst.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01");
	a->dst.port = 40000;
	a->inner_src = a->dst;
	a->inner_dst = a->src;
	a->decrement_ttl = decrement_ttl;
}

/* Build with -DFUZZ_VERBOSE to see what happens to each input (e.g. to check
 * that the seeds get past the parser). */
static void
trace(const char *step, enum stat_id why)
{
#ifdef FUZZ_VERBOSE
	fprintf(stderr, "fuzz_translate: %s: %s\n", step, stat_name(why));
#else
	(void)step;
	(void)why;
#endif
}

static void
fail(const char *what, int detail)
{
	fprintf(stderr, "fuzz_translate: %s (%d)\n", what, detail);
	abort();
}

/*
 * Reasons a correct translation may still fail the re-parse. Each entry
 * must say why it is not a translator bug. None has been needed: the two
 * parsers apply the same rules to outer and quoted packets, the translator
 * recomputes ICMP error checksums and caps ICMP errors well above the
 * 8 bytes of quoted transport header the parsers require, and 6->4 refuses
 * (XLAT64_TOO_BIG) what would not fit an IPv4 Total Length.
 */
static bool
reparse_excused(enum stat_id why)
{
	(void)why;
	return false;
}

/* Property 2: the result lies inside the buffer and the room adds up. */
static void
check_bounds(const struct pkt *p, const uint8_t *buf, size_t bufsize)
{
	if (p->data < buf + p->headroom || p->data - p->headroom != buf)
		fail("headroom does not lead back to the buffer start", (int)p->headroom);
	if ((size_t)p->headroom + p->len + p->tailroom != bufsize)
		fail("headroom + len + tailroom != buffer size", (int)p->len);
}

/*
 * Property 4. A good checksum must stay good, and an unfragmented IPv4 UDP
 * datagram without checksum must get one (translate.h). 6->4 UDP whose
 * checksum computes to 0 must carry 0xFFFF (RFC 768), never 0 (absent).
 */
static void
check_csum(const uint8_t *pkt, const struct pkt_l3 *out, enum csum_state in)
{
	enum csum_state now = l4_csum_state(pkt, out);

	if (in != CSUM_GOOD && in != CSUM_ABSENT4)
		return;
	if (now == CSUM_BAD || now == CSUM_ABSENT4)
		fail("transport checksum wrong or missing after translation", out->l4_proto);
}

static void
check_result(const struct pkt *p, int family_out, enum csum_state csum_in)
{
	struct pkt_info out;
	enum stat_id why;

	why = family_out == 4 ? pkt_parse4(p->data, p->len, &out)
			      : pkt_parse6(p->data, p->len, &out);
	if (why != STAT_OK) {
		if (reparse_excused(why))
			return;
		fprintf(stderr, "re-parse of translated packet: %s\n", stat_name(why));
		fail("translated packet does not parse", (int)why);
	}
	check_csum(p->data, &out.outer, csum_in);
}

static void
run(const uint8_t *data, size_t size)
{
	uint8_t sel = data[0];
	bool to4 = (sel & 1) == 0;
	uint32_t mtu6 = mtu_from_byte(data[1], 1280), mtu4 = mtu_from_byte(data[2], 68);
	uint32_t len = (uint32_t)(size - FUZZ_PREFIX);
	uint32_t head = sel & 64 ? 8 : PKT_HEADROOM, tail = sel & 32 ? 0 : FUZZ_TAILROOM;
	size_t bufsize = head + (size_t)len + tail;
	uint8_t *buf = malloc(bufsize), *ref = malloc(len);
	struct pkt p = {buf + head, len, head, tail};
	struct pkt_info info;
	struct xlat_config cfg;
	enum stat_id why;
	enum csum_state csum_in;

	if (buf == NULL || ref == NULL)
		goto out;
	memcpy(p.data, data + FUZZ_PREFIX, len);
	if (sel & 16)
		(to4 ? fixup6 : fixup4)(p.data, len);
	memcpy(ref, p.data, len);
	xlat_config_default(&cfg);
	cfg.zeroize_traffic_class = sel & 4;
	cfg.override_tos = sel & 8;
	cfg.tos = sel;

	why = to4 ? pkt_parse6(p.data, p.len, &info) : pkt_parse4(p.data, p.len, &info);
	trace("parse", why);
	if (why != STAT_OK)
		goto out;
	csum_in = l4_csum_state(p.data, &info.outer);
	if (to4) {
		struct xlat_addrs4 a;

		addrs4_fixed(&a, sel & 2);
		why = xlat_6to4(&p, &info, &a, &cfg, mtu4, mtu6);
	} else {
		struct xlat_addrs6 a;

		addrs6_fixed(&a, sel & 2);
		why = xlat_4to6(&p, &info, &a, &cfg, mtu6, mtu4);
	}
	check_bounds(&p, buf, bufsize);
	trace("translate", why);
	if (why != STAT_OK) {
		/* Property 1. */
		if (p.data != buf + head || p.len != len || memcmp(p.data, ref, len) != 0)
			fail("refused translation modified the packet", (int)why);
		goto out;
	}
	check_result(&p, to4 ? 4 : 6, csum_in);
out:
	free(ref);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_PREFIX &&
	    size - FUZZ_PREFIX <= 40 + UINT16_MAX) /* IPv6: header + payload */
		run(data, size);
	return 0;
}
