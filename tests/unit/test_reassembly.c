/*
 * Reassembly (core/reassembly.c): RFC 791 §3.2, RFC 8200 §4.5, RFC 5722,
 * RFC 6946, RFC 6146 §3.4 (FRAGMENT_MIN), RFC 7915 §4.5 (UDP checksum 0).
 *
 * Datagrams are built with pktgen (checksums from its independent
 * reference) and cut into fragments here, byte by byte, without
 * core/fragment.c. Each fragment is parsed and handed to the reassembler
 * from a private allocation of exactly its length, so AddressSanitizer
 * catches a read past it, and is checked to be left unchanged.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "pktgen.h"
#include "reassembly.h"

#define SRC6 "2001:db8::1"
#define DST6 "64:ff9b::c000:221"
#define SRC4 "198.51.100.2"
#define DST4 "192.0.2.33"

enum {
	DGRAM_MAX = 40 + 65535 + 8,
	FRAG_MAX = 2048,
	ID6 = 0x12345678,
	ID4 = 0x4321,
};

static const struct siphash_key test_key = {{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull}};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static struct reasm *
make(const struct reasm_config *cfg)
{
	struct reasm_config def;
	struct reasm *r = NULL;

	reasm_config_default(&def);
	cr_assert_eq(reasm_create(&r, cfg != NULL ? cfg : &def, &test_key), 0);
	cr_assert_not_null(r);
	return r;
}

/* ---- Datagrams --------------------------------------------------------- */

static void
fill(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/* IPv6 + UDP with `payload` bytes of data, checksum set. */
static size_t
udp6(uint8_t *b, const char *src, size_t payload, unsigned seed)
{
	size_t len = 40 + 8 + payload;

	pg_ipv6(b, src, DST6, IPPROTO_UDP, 64, (uint16_t)(8 + payload));
	pg_udp(b + 40, 40000, 53, (uint16_t)payload);
	fill(b + 48, payload, seed);
	pg_fix_l4_csum6(b, len);
	cr_assert(pg_l4_csum_ok6(b, len, 40, IPPROTO_UDP));
	return len;
}

/* IPv4 + UDP, DF clear, with `payload` bytes of data; checksum set unless
 * `zero_csum`. */
static size_t
udp4(uint8_t *b, const char *src, uint16_t id, size_t payload, unsigned seed, bool zero_csum)
{
	size_t len = 20 + 8 + payload;

	pg_ipv4(b, src, DST4, IPPROTO_UDP, 64, id, 0, (uint16_t)len);
	pg_udp(b + 20, 40000, 53, (uint16_t)payload);
	fill(b + 28, payload, seed);
	if (!zero_csum)
		pg_fix_l4_csum4(b, len);
	return len;
}

/* ---- Fragments, cut by hand -------------------------------------------- */

/* Fragment of the IPv4 datagram `d` holding payload [off, off + len).
 * Non-first fragments carry the fixed header only. */
static size_t
frag4(uint8_t *out, const uint8_t *d, uint32_t off, uint32_t len, bool mf)
{
	size_t ihl = (size_t)(d[0] & 0x0f) * 4;
	size_t hl = off == 0 ? ihl : 20;

	memcpy(out, d, hl);
	out[0] = (uint8_t)(0x40 | hl / 4);
	put16(out + 2, (uint16_t)(hl + len));
	put16(out + 6, (uint16_t)((mf ? 0x2000 : 0) | off / 8));
	memcpy(out + hl, d + ihl + off, len);
	pg_ipv4_fix_csum(out);
	return hl + len;
}

/* Fragment of the IPv6 datagram `d`, whose first `unfrag` bytes are the
 * Per-Fragment headers and whose header before the fragmentable part has
 * its Next Header at `nh_pos`, holding payload [off, off + len). */
static size_t
frag6x(uint8_t *out, const uint8_t *d, size_t unfrag, size_t nh_pos, uint32_t off, uint32_t len,
       bool mf)
{
	size_t dlen = 40 + get16(d + 4);

	cr_assert(off + len <= dlen - unfrag);
	memcpy(out, d, unfrag);
	out[nh_pos] = 44;
	put16(out + 4, (uint16_t)(unfrag - 40 + 8 + len));
	pg_frag6(out + unfrag, d[nh_pos], (uint16_t)off, mf, ID6);
	memcpy(out + unfrag + 8, d + unfrag + off, len);
	return unfrag + 8 + len;
}

static size_t
frag6(uint8_t *out, const uint8_t *d, uint32_t off, uint32_t len, bool mf)
{
	return frag6x(out, d, 40, 6, off, len, mf);
}

/* ---- Feeding ------------------------------------------------------------- */

static enum stat_id
parse(const uint8_t *b, size_t len, struct pkt_info *info)
{
	return (b[0] >> 4) == 6 ? pkt_parse6(b, (uint32_t)len, info)
				: pkt_parse4(b, (uint32_t)len, info);
}

/* Parse the fragment (must be accepted) and add it at `now`. */
static enum stat_id
feed(struct reasm *r, const uint8_t *frag, size_t len, uint64_t now, bool amend, struct pkt *out)
{
	uint8_t *copy = malloc(len);
	struct pkt_info info;
	struct pkt p;
	enum stat_id rc;

	cr_assert_not_null(copy);
	memcpy(copy, frag, len);
	rc = parse(copy, len, &info);
	cr_assert_eq(rc, STAT_OK, "test fragment refused by the parser: %s", stat_name(rc));
	p = (struct pkt){copy, (uint32_t)len, 0, 0};
	rc = reasm_add(r, &p, &info, now, amend, out);
	cr_assert(memcmp(copy, frag, len) == 0, "reasm_add wrote into its input");
	free(copy);
	return rc;
}

static void
expect_rc(enum stat_id got, enum stat_id want)
{
	cr_assert_eq(got, want, "got %s, want %s", stat_name(got), stat_name(want));
}

/* A datagram cut into pieces of `piece` bytes, and the order to send them. */
struct cut {
	uint8_t frag[128][FRAG_MAX];
	size_t len[128];
	unsigned order[128];
	unsigned n;
};

static void
cut(struct cut *c, const uint8_t *d, size_t dlen, uint32_t piece)
{
	bool v6 = (d[0] >> 4) == 6;
	size_t hl = v6 ? 40 : (size_t)(d[0] & 0x0f) * 4;
	uint32_t payload = (uint32_t)(dlen - hl);

	c->n = 0;
	for (uint32_t off = 0; off < payload; off += piece) {
		uint32_t n = payload - off < piece ? payload - off : piece;
		bool mf = off + n < payload;

		cr_assert(c->n < 128);
		c->len[c->n] = v6 ? frag6(c->frag[c->n], d, off, n, mf)
				  : frag4(c->frag[c->n], d, off, n, mf);
		c->order[c->n] = c->n;
		c->n++;
	}
}

static void
reverse(struct cut *c)
{
	for (unsigned i = 0; i < c->n; i++)
		c->order[i] = c->n - 1 - i;
}

/* Fisher-Yates with a fixed linear congruential generator: the same
 * order on every run. */
static void
shuffle(struct cut *c, uint32_t seed)
{
	for (unsigned i = c->n - 1; i > 0; i--) {
		unsigned j;
		unsigned t;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 16) % (i + 1);
		t = c->order[i];
		c->order[i] = c->order[j];
		c->order[j] = t;
	}
}

/* Send every fragment in c->order at `now`: all held but the last, which
 * gives back exactly `d`. */
static void
send_all_expect(struct reasm *r, struct cut *c, const uint8_t *d, size_t dlen, uint64_t now)
{
	struct pkt out;
	enum stat_id rc;

	for (unsigned i = 0; i < c->n; i++) {
		unsigned k = c->order[i];

		rc = feed(r, c->frag[k], c->len[k], now, true, &out);
		if (i + 1 < c->n) {
			expect_rc(rc, STAT_FRAG_HELD);
			cr_assert_gt(reasm_memory(r), 0);
		} else {
			expect_rc(rc, STAT_OK);
		}
	}
	pg_assert_bytes(out.data, out.len, d, dlen);
	cr_assert_eq(out.headroom, REASM_HEADROOM);
	cr_assert_geq(out.tailroom, REASM_TAILROOM);
	cr_assert_eq(reasm_memory(r), 0, "a reassembled datagram left %u bytes", reasm_memory(r));
	cr_assert_eq(reasm_datagrams(r), 0);
}

static uint8_t dgram[DGRAM_MAX];
static struct cut pieces;

struct expired_log {
	unsigned calls;
	uint8_t first[FRAG_MAX];
	size_t len;
};

static void
on_expired(void *ctx, const struct pkt *first)
{
	struct expired_log *log = ctx;

	log->calls++;
	cr_assert_leq(first->len, sizeof(log->first));
	memcpy(log->first, first->data, first->len);
	log->len = first->len;
}

/* ---- Bad input first ----------------------------------------------------- */

Test(reassembly, not_a_fragment_refused_and_nothing_changes)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 100, 1, false);
	struct pkt out;
	struct pkt before;

	memset(&out, 0xa5, sizeof(out));
	before = out;
	expect_rc(feed(r, dgram, len, 0, true, &out), STAT_UNKNOWN);
	len = udp6(dgram, SRC6, 100, 1);
	expect_rc(feed(r, dgram, len, 0, true, &out), STAT_UNKNOWN);
	cr_assert(memcmp(&out, &before, sizeof(out)) == 0, "a refusal wrote `out`");
	cr_assert_eq(reasm_memory(r), 0);
	cr_assert_eq(reasm_datagrams(r), 0);
	reasm_destroy(r);
}

/* RFC 6146 §3.4 / §4: fragments are kept at least FRAGMENT_MIN (2 s). */
Test(reassembly, config_refused_below_fragment_min_and_out_of_range)
{
	struct reasm_config cfg;
	struct reasm *r = NULL;

	reasm_config_default(&cfg);
	cr_assert_null(reasm_config_check(&cfg));
	cfg.timeout = REASM_TIMEOUT_MIN - 1;
	cr_assert_not_null(reasm_config_check(&cfg));
	cr_assert_eq(reasm_create(&r, &cfg, &test_key), -EINVAL);
	cr_assert_null(r, "a refused create wrote its output");
	reasm_config_default(&cfg);
	cfg.max_frags = 0;
	cr_assert_not_null(reasm_config_check(&cfg));
	cfg.max_frags = REASM_MAX_FRAGS_LIMIT + 1;
	cr_assert_not_null(reasm_config_check(&cfg));
	reasm_config_default(&cfg);
	cfg.source_limit = 64 << 10; /* can't hold one 65535-byte datagram */
	cr_assert_not_null(reasm_config_check(&cfg));
	reasm_config_default(&cfg);
	cfg.budget = cfg.source_limit - 1;
	cr_assert_not_null(reasm_config_check(&cfg));
}

Test(reassembly, configure_refuses_budget_above_creation_and_keeps_settings)
{
	struct reasm_config cfg;
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 2, false);

	reasm_config_default(&cfg);
	cfg.budget *= 2;
	cfg.timeout = 10000;
	cr_assert_eq(reasm_configure(r, &cfg), -EINVAL);
	cut(&pieces, dgram, len, 1480);
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 0, true, NULL), STAT_FRAG_HELD);
	/* The 2 s timeout still holds: the refused 10 s did not apply. */
	cr_assert_eq(reasm_expire(r, 2000, NULL, NULL), 1);
	reasm_destroy(r);
}

Test(reassembly, configure_longer_timeout_applies)
{
	struct reasm_config cfg;
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 2, false);

	reasm_config_default(&cfg);
	cfg.timeout = 5000;
	cr_assert_eq(reasm_configure(r, &cfg), 0);
	cut(&pieces, dgram, len, 1480);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 0, true, NULL), STAT_FRAG_HELD);
	cr_assert_eq(reasm_expire(r, 4999, NULL, NULL), 0);
	cr_assert_eq(reasm_expire(r, 5000, NULL, NULL), 1);
	reasm_destroy(r);
}

/* ---- Orders of arrival (RFC 791 §3.2, RFC 8200 §4.5) --------------------- */

Test(reassembly, ipv4_in_order_gives_back_the_datagram)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 4000, 3, false);

	cut(&pieces, dgram, len, 1480);
	cr_assert_eq(pieces.n, 3);
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

Test(reassembly, ipv4_reverse_order)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 4000, 4, false);

	cut(&pieces, dgram, len, 1480);
	reverse(&pieces);
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

/* RFC 6146 §3.4: the first fragment, holding the ports, may come last. */
Test(reassembly, ipv4_first_fragment_last)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 4000, 5, false);

	cut(&pieces, dgram, len, 1480);
	pieces.order[0] = 1;
	pieces.order[1] = 2;
	pieces.order[2] = 0;
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

Test(reassembly, ipv4_random_orders_fixed_seeds)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 6, false);

	for (uint32_t seed = 1; seed <= 20; seed++) {
		cut(&pieces, dgram, len, 96);
		shuffle(&pieces, seed);
		send_all_expect(r, &pieces, dgram, len, seed);
	}
	reasm_destroy(r);
}

Test(reassembly, ipv6_in_order_gives_back_the_datagram)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 4000, 7);

	cut(&pieces, dgram, len, 1232);
	cr_assert_eq(pieces.n, 4);
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

Test(reassembly, ipv6_reverse_order)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 4000, 8);

	cut(&pieces, dgram, len, 1232);
	reverse(&pieces);
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

Test(reassembly, ipv6_first_fragment_last)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 4000, 9);

	cut(&pieces, dgram, len, 1232);
	for (unsigned i = 0; i < pieces.n; i++)
		pieces.order[i] = (i + 1) % pieces.n;
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

Test(reassembly, ipv6_random_orders_fixed_seeds)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 3000, 10);

	for (uint32_t seed = 1; seed <= 20; seed++) {
		cut(&pieces, dgram, len, 64);
		shuffle(&pieces, seed);
		send_all_expect(r, &pieces, dgram, len, seed);
	}
	reasm_destroy(r);
}

/* The result is an ordinary packet: the parser sees no fragment, the
 * ports and a checksum that the reference verifies. */
Test(reassembly, result_parses_as_unfragmented_with_ports)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 2000, 11);
	struct pkt out;
	struct pkt_info info;

	cut(&pieces, dgram, len, 1232);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 0, true, &out), STAT_OK);
	expect_rc(pkt_parse6(out.data, out.len, &info), STAT_OK);
	cr_assert_not(info.outer.is_fragment);
	cr_assert_eq(info.outer.frag_hdr_off, 0);
	cr_assert(info.outer.has_ports);
	cr_assert_eq(info.outer.sport, 40000);
	cr_assert(pg_l4_csum_ok6(out.data, out.len, 40, IPPROTO_UDP));
	reasm_destroy(r);
}

/* RFC 8200 §4.5: the Per-Fragment headers come from the first fragment,
 * and the Next Header of the last of them from its Fragment header. */
Test(reassembly, ipv6_hop_by_hop_kept_and_next_header_restored)
{
	struct reasm *r = make(NULL);
	size_t plen = 8 + 8 + 2000;
	size_t len = 40 + plen;
	struct pkt out;
	uint8_t f0[FRAG_MAX];
	uint8_t f1[FRAG_MAX];
	size_t l0;
	size_t l1;

	pg_ipv6(dgram, SRC6, DST6, IPPROTO_HOPOPTS, 64, (uint16_t)plen);
	pg_ext6(dgram + 40, IPPROTO_UDP, 0);
	pg_udp(dgram + 48, 1000, 2000, 2000);
	fill(dgram + 56, 2000, 12);
	cr_assert_eq(dgram[40], IPPROTO_UDP);
	/* Payload after the Hop-by-Hop header: 2008 bytes, 1224 + 784. */
	l0 = frag6x(f0, dgram, 48, 40, 0, 1224, true);
	l1 = frag6x(f1, dgram, 48, 40, 1224, 784, false);
	expect_rc(feed(r, f1, l1, 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, f0, l0, 0, true, &out), STAT_OK);
	pg_assert_bytes(out.data, out.len, dgram, len);
	reasm_destroy(r);
}

/* RFC 791 §3.2: the header (options included) is the first fragment's. */
Test(reassembly, ipv4_options_of_first_fragment_kept)
{
	struct reasm *r = make(NULL);
	size_t len = 24 + 8 + 2000;

	pg_ipv4(dgram, SRC4, DST4, IPPROTO_UDP, 64, ID4, 0, (uint16_t)len);
	dgram[0] = 0x46;
	/* Router Alert (RFC 2113): type 148, length 4, value 0. */
	dgram[20] = 148;
	dgram[21] = 4;
	dgram[22] = 0;
	dgram[23] = 0;
	pg_ipv4_fix_csum(dgram);
	pg_udp(dgram + 24, 1000, 2000, 2000);
	fill(dgram + 32, 2000, 13);
	pg_fix_l4_csum4(dgram, len);
	cut(&pieces, dgram, len, 1000);
	reverse(&pieces);
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

/* RFC 791 §3.2: fragments of datagrams with different IDs never mix. */
Test(reassembly, ipv4_interleaved_datagrams_with_different_ids)
{
	struct reasm *r = make(NULL);
	static uint8_t other[DGRAM_MAX];
	static struct cut b;
	size_t la = udp4(dgram, SRC4, 1, 3000, 14, false);
	size_t lb = udp4(other, SRC4, 2, 3000, 15, false);
	struct pkt out;

	cut(&pieces, dgram, la, 1480);
	cut(&b, other, lb, 1480);
	for (unsigned i = 0; i + 1 < pieces.n; i++) {
		expect_rc(feed(r, pieces.frag[i], pieces.len[i], 0, true, &out), STAT_FRAG_HELD);
		expect_rc(feed(r, b.frag[i], b.len[i], 0, true, &out), STAT_FRAG_HELD);
	}
	cr_assert_eq(reasm_datagrams(r), 2);
	expect_rc(feed(r, b.frag[b.n - 1], b.len[b.n - 1], 0, true, &out), STAT_OK);
	pg_assert_bytes(out.data, out.len, other, lb);
	expect_rc(feed(r, pieces.frag[pieces.n - 1], pieces.len[pieces.n - 1], 0, true, &out),
		  STAT_OK);
	pg_assert_bytes(out.data, out.len, dgram, la);
	reasm_destroy(r);
}

/* RFC 6946 §4: an atomic fragment is processed in isolation, even when
 * fragments with its ID are held. */
Test(reassembly, ipv6_atomic_fragment_alone_without_fragment_header)
{
	struct reasm *r = make(NULL);
	static uint8_t small[256];
	size_t slen = udp6(small, SRC6, 100, 16);
	size_t len = udp6(dgram, SRC6, 3000, 17);
	uint8_t atomic[FRAG_MAX];
	size_t alen = frag6(atomic, small, 0, (uint32_t)(slen - 40), false);
	struct pkt out;
	uint32_t mem;

	cut(&pieces, dgram, len, 1232);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 0, true, &out), STAT_FRAG_HELD);
	mem = reasm_memory(r);
	expect_rc(feed(r, atomic, alen, 0, true, &out), STAT_OK);
	pg_assert_bytes(out.data, out.len, small, slen);
	cr_assert_eq(reasm_memory(r), mem, "the atomic fragment touched the table");
	cr_assert_eq(reasm_datagrams(r), 1);
	reasm_destroy(r);
}

/* ---- Overlaps and duplicates (RFC 5722, RFC 8200 §4.5) ------------------- */

static void
overlap_discards(struct reasm *r, const uint8_t *d, size_t len, size_t f_ok, size_t f_bad,
		 const uint8_t *ok, const uint8_t *bad)
{
	struct pkt out;
	struct expired_log log = {0};

	expect_rc(feed(r, ok, f_ok, 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, bad, f_bad, 0, true, &out), STAT_FRAG_OVERLAP);
	/* "including those not yet received": the rest is dropped too. */
	cut(&pieces, d, len, d[0] >> 4 == 6 ? 1232 : 1480);
	for (unsigned i = 0; i < pieces.n; i++)
		expect_rc(feed(r, pieces.frag[i], pieces.len[i], 100, true, &out),
			  STAT_FRAG_DISCARDED);
	cr_assert_eq(reasm_datagrams(r), 1);
	/* Silently: no Time Exceeded, not counted as a timeout. */
	cr_assert_eq(reasm_expire(r, 2000, on_expired, &log), 0);
	cr_assert_eq(log.calls, 0);
	cr_assert_eq(reasm_datagrams(r), 0);
	cr_assert_eq(reasm_memory(r), 0);
	/* Afterwards the same datagram reassembles again. */
	send_all_expect(r, &pieces, d, len, 3000);
}

Test(reassembly, ipv6_overlap_discards_datagram_and_later_fragments)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 3000, 18);
	uint8_t a[FRAG_MAX];
	uint8_t b[FRAG_MAX];
	size_t la = frag6(a, dgram, 0, 1232, true);
	size_t lb = frag6(b, dgram, 1224, 1232, true); /* 8 bytes over a */

	overlap_discards(r, dgram, len, la, lb, a, b);
	reasm_destroy(r);
}

/* Deliberate choice: IPv4 overlaps are treated as IPv6 ones (RFC 791
 * would let them overwrite; teardrop-style attacks are why stacks refuse). */
Test(reassembly, ipv4_overlap_discards_datagram_and_later_fragments)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 19, false);
	uint8_t a[FRAG_MAX];
	uint8_t b[FRAG_MAX];
	size_t la = frag4(a, dgram, 1480, 1480, true);
	size_t lb = frag4(b, dgram, 0, 1488, true); /* ends 8 bytes into a */

	overlap_discards(r, dgram, len, la, lb, a, b);
	reasm_destroy(r);
}

/* RFC 8200 §4.5: exact duplicates may be dropped, the datagram kept. */
Test(reassembly, exact_duplicate_dropped_datagram_kept)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 3000, 20);
	struct pkt out;
	uint32_t mem;

	cut(&pieces, dgram, len, 1232);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 0, true, &out), STAT_FRAG_HELD);
	mem = reasm_memory(r);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 0, true, &out), STAT_FRAG_DUPLICATE);
	cr_assert_eq(reasm_memory(r), mem, "a duplicate took memory");
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 0, true, &out), STAT_FRAG_DUPLICATE);
	expect_rc(feed(r, pieces.frag[2], pieces.len[2], 0, true, &out), STAT_OK);
	pg_assert_bytes(out.data, out.len, dgram, len);
	reasm_destroy(r);
}

/* Same offset and length, other bytes: an overlap, not a duplicate. */
Test(reassembly, same_place_other_bytes_is_an_overlap)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 21, false);
	struct pkt out;

	cut(&pieces, dgram, len, 1480);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 0, true, &out), STAT_FRAG_HELD);
	pieces.frag[1][100] ^= 1;
	pg_ipv4_fix_csum(pieces.frag[1]);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 0, true, &out), STAT_FRAG_OVERLAP);
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 0, true, &out), STAT_FRAG_DISCARDED);
	reasm_destroy(r);
}

/* ---- Where the datagram ends ---------------------------------------------- */

Test(reassembly, two_last_fragments_disagreeing_discard)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 22, false);
	uint8_t a[FRAG_MAX];
	uint8_t b[FRAG_MAX];
	struct pkt out;
	size_t la = frag4(a, dgram, 1480, 800, false); /* ends at 2280 */
	size_t lb = frag4(b, dgram, 2400, 200, false); /* ends at 2600 */

	cr_assert_gt(len, 20 + 2600);
	expect_rc(feed(r, a, la, 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, b, lb, 0, true, &out), STAT_FRAG_BAD_LAST);
	cr_assert_eq(reasm_datagrams(r), 1, "the record waits for its timeout");
	expect_rc(feed(r, a, la, 0, true, &out), STAT_FRAG_DISCARDED);
	reasm_destroy(r);
}

Test(reassembly, fragment_beyond_known_end_discards)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 4000, 23);
	uint8_t a[FRAG_MAX];
	uint8_t b[FRAG_MAX];
	struct pkt out;
	size_t la = frag6(a, dgram, 1232, 800, false); /* ends at 2032 */
	size_t lb = frag6(b, dgram, 2464, 1232, true); /* starts past it */

	expect_rc(feed(r, a, la, 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, b, lb, 0, true, &out), STAT_FRAG_BAD_LAST);
	cr_assert_gt(len, 40 + 3696);
	reasm_destroy(r);
}

Test(reassembly, last_fragment_ending_before_held_data_discards)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 4000, 24, false);
	uint8_t a[FRAG_MAX];
	uint8_t b[FRAG_MAX];
	struct pkt out;
	size_t la = frag4(a, dgram, 2960, 1000, true);  /* MF: more after 3960 */
	size_t lb = frag4(b, dgram, 1480, 1000, false); /* says it ends at 2480 */

	expect_rc(feed(r, a, la, 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, b, lb, 0, true, &out), STAT_FRAG_BAD_LAST);
	expect_rc(feed(r, a, la, 0, true, &out), STAT_FRAG_DISCARDED);
	cr_assert_gt(len, 20 + 3960);
	reasm_destroy(r);
}

Test(reassembly, too_many_fragments_discards)
{
	struct reasm_config cfg;
	struct reasm *r;
	size_t len = udp4(dgram, SRC4, ID4, 2000, 25, false);
	struct pkt out;

	reasm_config_default(&cfg);
	cfg.max_frags = 4;
	r = make(&cfg);
	cut(&pieces, dgram, len, 64);
	for (unsigned i = 0; i < 4; i++)
		expect_rc(feed(r, pieces.frag[i], pieces.len[i], 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, pieces.frag[4], pieces.len[4], 0, true, &out), STAT_FRAG_TOO_MANY);
	expect_rc(feed(r, pieces.frag[5], pieces.len[5], 0, true, &out), STAT_FRAG_DISCARDED);
	reasm_destroy(r);
}

/* RFC 791: Total Length is 16 bits, so header + payload must fit. */
Test(reassembly, ipv4_datagram_over_65535_bytes_discarded)
{
	struct reasm *r = make(NULL);
	size_t payload = 65535 - 8;    /* UDP data: fragments cover 65535 bytes */
	size_t len = 20 + 8 + payload; /* 65555: one that can't exist */
	struct pkt out;
	enum stat_id rc = STAT_OK;

	udp4(dgram, SRC4, ID4, payload, 26, true);
	put16(dgram + 2, 0); /* never parsed itself; only its pieces are */
	cut(&pieces, dgram, len, 1480);
	for (unsigned i = 0; i < pieces.n; i++)
		rc = feed(r, pieces.frag[i], pieces.len[i], 0, true, &out);
	expect_rc(rc, STAT_FRAG_TOO_BIG);
	cr_assert_eq(reasm_memory(r), 0);
	reasm_destroy(r);
}

/* RFC 8200 §4.5: an IPv6 payload of exactly 65535 bytes reassembles. */
Test(reassembly, ipv6_largest_datagram_reassembles)
{
	struct reasm *r = make(NULL);
	size_t len = udp6(dgram, SRC6, 65535 - 8, 27);

	cut(&pieces, dgram, len, 1232);
	shuffle(&pieces, 99);
	send_all_expect(r, &pieces, dgram, len, 0);
	reasm_destroy(r);
}

Test(reassembly, ipv6_payload_over_65535_with_extension_header_discarded)
{
	struct reasm *r = make(NULL);
	uint32_t frag_payload = 65535; /* after the 8-byte Hop-by-Hop header */
	struct pkt out;
	uint8_t f[FRAG_MAX];
	enum stat_id rc = STAT_OK;
	size_t l;

	pg_ipv6(dgram, SRC6, DST6, IPPROTO_HOPOPTS, 64, 0xffff);
	pg_ext6(dgram + 40, IPPROTO_UDP, 0);
	/* 8 bytes of Hop-by-Hop + 65535 fragmentable: a payload of 65543. */
	pg_udp(dgram + 48, 1000, 2000, (uint16_t)(frag_payload - 8));
	fill(dgram + 56, frag_payload - 8, 28);
	for (uint32_t off = 0; off < frag_payload; off += 1232) {
		uint32_t n = frag_payload - off < 1232 ? frag_payload - off : 1232;

		memcpy(f, dgram, 48);
		f[40] = 44;
		put16(f + 4, (uint16_t)(8 + 8 + n));
		pg_frag6(f + 48, IPPROTO_UDP, (uint16_t)off, off + n < frag_payload, ID6);
		memcpy(f + 56, dgram + 48 + off, n);
		l = 56 + n;
		rc = feed(r, f, l, 0, true, &out);
	}
	expect_rc(rc, STAT_FRAG_TOO_BIG);
	cr_assert_eq(reasm_memory(r), 0);
	reasm_destroy(r);
}

/* ---- UDP checksum 0 (RFC 768, RFC 7915 §4.5, amend-udp-checksum-zero) --- */

Test(reassembly, ipv4_udp_zero_checksum_computed_after_reassembly)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 29, true);
	static uint8_t want[DGRAM_MAX];
	struct pkt out;
	enum stat_id rc = STAT_OK;

	memcpy(want, dgram, len);
	pg_fix_l4_csum4(want, len);
	cr_assert(pg_l4_csum_ok4(want, len));
	cut(&pieces, dgram, len, 1480);
	for (unsigned i = 0; i < pieces.n; i++)
		rc = feed(r, pieces.frag[i], pieces.len[i], 0, true, &out);
	expect_rc(rc, STAT_OK);
	cr_assert(pg_l4_csum_ok4(out.data, out.len));
	pg_assert_bytes(out.data, out.len, want, len);
	reasm_destroy(r);
}

Test(reassembly, ipv4_udp_zero_checksum_dropped_when_not_amended)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 3000, 30, true);
	struct pkt out;
	enum stat_id rc = STAT_OK;

	cut(&pieces, dgram, len, 1480);
	for (unsigned i = 0; i < pieces.n; i++)
		rc = feed(r, pieces.frag[i], pieces.len[i], 0, false, &out);
	expect_rc(rc, STAT_XLAT46_UDP_ZERO_CSUM_FRAG);
	cr_assert_eq(reasm_memory(r), 0);
	cr_assert_eq(reasm_datagrams(r), 0);
	reasm_destroy(r);
}

/* ---- Timeout (RFC 6146 §4 FRAGMENT_MIN, RFC 8200 §4.5, RFC 792) ---------- */

static void
timeout_case(const uint8_t *d, size_t len, uint32_t piece)
{
	struct reasm *r = make(NULL);
	struct expired_log log = {0};
	struct pkt out;

	cut(&pieces, d, len, piece);
	/* With the first fragment: Time Exceeded quoting it. */
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 1000, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, pieces.frag[2], pieces.len[2], 2500, true, &out), STAT_FRAG_HELD);
	cr_assert_eq(reasm_expire(r, 1000 + 2000 - 1, on_expired, &log), 0);
	cr_assert_eq(reasm_datagrams(r), 1);
	cr_assert_eq(log.calls, 0);
	cr_assert_eq(reasm_expire(r, 1000 + 2000 + 1, on_expired, &log), 1);
	cr_assert_eq(log.calls, 1);
	pg_assert_bytes(log.first, log.len, pieces.frag[0], pieces.len[0]);
	cr_assert_eq(reasm_memory(r), 0);
	cr_assert_eq(reasm_datagrams(r), 0);
	/* Without it: freed, counted, no Time Exceeded. */
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 5000, true, &out), STAT_FRAG_HELD);
	cr_assert_eq(reasm_expire(r, 7001, on_expired, &log), 1);
	cr_assert_eq(log.calls, 1);
	cr_assert_eq(reasm_memory(r), 0);
	reasm_destroy(r);
}

Test(reassembly, ipv4_timeout_2s_time_exceeded_only_with_first_fragment)
{
	size_t len = udp4(dgram, SRC4, ID4, 4000, 31, false);

	timeout_case(dgram, len, 1480);
}

Test(reassembly, ipv6_timeout_2s_time_exceeded_only_with_first_fragment)
{
	size_t len = udp6(dgram, SRC6, 4000, 32);

	timeout_case(dgram, len, 1232);
}

/* RFC 8200 §4.5: the time counts from the first-arriving fragment. */
Test(reassembly, expiry_counts_from_first_arrival_not_last)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 4000, 33, false);
	struct pkt out;

	cut(&pieces, dgram, len, 1480);
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 1900, true, &out), STAT_FRAG_HELD);
	cr_assert_eq(reasm_expire(r, 2000, NULL, NULL), 1);
	expect_rc(feed(r, pieces.frag[2], pieces.len[2], 2000, true, &out), STAT_FRAG_HELD);
	reasm_destroy(r);
}

/* RFC 6146 §3.4: FRAGMENT_MIN is a floor: a datagram completed after it
 * but before the next sweep is still delivered. */
Test(reassembly, late_completion_before_sweep_delivered)
{
	struct reasm *r = make(NULL);
	size_t len = udp4(dgram, SRC4, ID4, 4000, 37, false);

	struct pkt out;

	cut(&pieces, dgram, len, 1480);
	expect_rc(feed(r, pieces.frag[2], pieces.len[2], 0, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 1000, true, &out), STAT_FRAG_HELD);
	expect_rc(feed(r, pieces.frag[1], pieces.len[1], 2500, true, &out), STAT_OK);
	pg_assert_bytes(out.data, out.len, dgram, len);
	cr_assert_eq(reasm_expire(r, 2500, NULL, NULL), 0);
	reasm_destroy(r);
}

/* ---- Memory limits ---------------------------------------------------------- */

static void
src4_of(char *buf, unsigned i)
{
	snprintf(buf, 32, "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

/* One incomplete datagram (its second fragment) from source number `i`. */
static enum stat_id
junk4(struct reasm *r, unsigned i, uint16_t id, uint64_t now)
{
	static uint8_t d[4096];
	uint8_t f[FRAG_MAX];
	char src[32];
	size_t l;

	src4_of(src, i);
	udp4(d, src, id, 3000, i, false);
	l = frag4(f, d, 1480, 1480, true);
	return feed(r, f, l, now, true, NULL);
}

/* A flood of incomplete datagrams from many sources never takes more than
 * the budget; once it times out, others reassemble again. */
Test(reassembly, flood_from_many_sources_stays_within_budget)
{
	struct reasm_config cfg;
	struct reasm *r;
	unsigned refused = 0;
	size_t len;
	enum stat_id rc;

	reasm_config_default(&cfg);
	cfg.budget = 1 << 20;
	r = make(&cfg);
	for (unsigned i = 0; i < 4000; i++) {
		rc = junk4(r, i, (uint16_t)i, 0);
		cr_assert(rc == STAT_FRAG_HELD || rc == STAT_FRAG_BUDGET, "%s", stat_name(rc));
		refused += rc == STAT_FRAG_BUDGET;
		cr_assert_leq(reasm_memory(r), cfg.budget);
	}
	cr_assert_gt(refused, 0, "the flood never reached the budget");
	/* While the flood is held, a new datagram is refused, counted. */
	len = udp4(dgram, "203.0.113.9", ID4, 3000, 34, false);
	cut(&pieces, dgram, len, 1480);
	expect_rc(feed(r, pieces.frag[0], pieces.len[0], 10, true, NULL), STAT_FRAG_BUDGET);
	cr_assert_eq(reasm_expire(r, 2000, NULL, NULL), 4000 - refused);
	cr_assert_eq(reasm_memory(r), 0);
	send_all_expect(r, &pieces, dgram, len, 2001);
	reasm_destroy(r);
}

/* One source can't take the whole budget: others still get through. */
Test(reassembly, one_source_held_to_its_share)
{
	struct reasm *r = make(NULL);
	unsigned refused = 0;
	size_t len;
	enum stat_id rc;

	for (unsigned i = 0; i < 2000; i++) {
		rc = junk4(r, 7, (uint16_t)i, 0);
		cr_assert(rc == STAT_FRAG_HELD || rc == STAT_FRAG_SOURCE_LIMIT, "%s",
			  stat_name(rc));
		refused += rc == STAT_FRAG_SOURCE_LIMIT;
		cr_assert_leq(reasm_memory(r), REASM_DEFAULT_SOURCE_LIMIT);
	}
	cr_assert_gt(refused, 0);
	len = udp4(dgram, "203.0.113.9", ID4, 3000, 35, false);
	cut(&pieces, dgram, len, 1480);
	shuffle(&pieces, 5);
	for (unsigned i = 0; i + 1 < pieces.n; i++)
		expect_rc(feed(r, pieces.frag[pieces.order[i]], pieces.len[pieces.order[i]], 1,
			       true, NULL),
			  STAT_FRAG_HELD);
	{
		struct pkt out;
		unsigned k = pieces.order[pieces.n - 1];

		expect_rc(feed(r, pieces.frag[k], pieces.len[k], 1, true, &out), STAT_OK);
		pg_assert_bytes(out.data, out.len, dgram, len);
	}
	reasm_destroy(r);
}

/* A fragment refused for memory dooms its datagram, whose held fragments
 * are freed at once. */
Test(reassembly, refused_fragment_frees_its_datagram)
{
	struct reasm_config cfg;
	struct reasm *r;
	size_t len = udp6(dgram, SRC6, 60000, 36);
	enum stat_id rc = STAT_OK;
	uint32_t before;
	unsigned i;

	reasm_config_default(&cfg);
	cfg.source_limit = 140 << 10;
	cfg.budget = cfg.source_limit;
	r = make(&cfg);
	/* About 100 KiB from other sources: the 60000-byte datagram can't
	 * fit in what is left. */
	for (i = 0; reasm_memory(r) < (100 << 10); i++)
		expect_rc(junk4(r, i, 1, 0), STAT_FRAG_HELD);
	before = reasm_memory(r);
	cut(&pieces, dgram, len, 1232);
	for (i = 0; i < pieces.n; i++) {
		rc = feed(r, pieces.frag[i], pieces.len[i], 0, true, NULL);
		if (rc != STAT_FRAG_HELD)
			break;
	}
	expect_rc(rc, STAT_FRAG_BUDGET);
	cr_assert_gt(i, 0, "refused before anything was held");
	cr_assert_lt(reasm_memory(r), before + 2048, "the doomed datagram kept its fragments");
	expect_rc(feed(r, pieces.frag[i + 1], pieces.len[i + 1], 0, true, NULL),
		  STAT_FRAG_DISCARDED);
	reasm_destroy(r);
}

/* Completed datagrams give their blocks back to their source, so a source
 * with one datagram pending can go on reassembling others forever. */
Test(reassembly, completed_datagrams_return_their_share)
{
	struct reasm *r = make(NULL);
	struct pkt out;
	uint32_t before;

	expect_rc(junk4(r, 9, 1, 0), STAT_FRAG_HELD);
	before = reasm_memory(r);
	for (unsigned i = 0; i < 300; i++) {
		char src[32];
		size_t len;

		src4_of(src, 9);
		len = udp4(dgram, src, (uint16_t)(i + 2), 3000, i, false);
		cut(&pieces, dgram, len, 1480);
		for (unsigned k = 0; k + 1 < pieces.n; k++)
			expect_rc(feed(r, pieces.frag[k], pieces.len[k], 0, true, &out),
				  STAT_FRAG_HELD);
		expect_rc(
			feed(r, pieces.frag[pieces.n - 1], pieces.len[pieces.n - 1], 0, true, &out),
			STAT_OK);
	}
	cr_assert_eq(reasm_memory(r), before);
	reasm_destroy(r);
}
