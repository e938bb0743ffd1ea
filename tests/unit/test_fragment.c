/*
 * Fragmentation of outgoing packets (core/fragment.c): RFC 8200 §4.5
 * (IPv6), RFC 791 §3.2 (IPv4), RFC 7915 §4.1 (lowest-ipv6-mtu, the IPv4
 * ID zero-extended as Fragment ID).
 *
 * Every fragment is checked field by field against the rules, then the
 * fragments are fed to the reassembler (core/reassembly.c), which must
 * give back the original packet byte for byte.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "fragment.h"
#include "packet.h"
#include "pktgen.h"
#include "reassembly.h"

#define SRC6 "2001:db8::1"
#define DST6 "64:ff9b::c000:221"
#define SRC4 "198.51.100.2"
#define DST4 "192.0.2.33"

enum {
	ROOM = PKT_HEADROOM,
	BUF = ROOM + 40 + 65535 + 64,
	MAXF = 128,
	FMAX = 2048,
};

static const struct siphash_key frag_test_key = {{42, 43}};

static uint8_t buf[BUF];
static uint8_t orig[BUF];
static uint8_t frags[MAXF][FMAX];
static size_t flen[MAXF];

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void
fill(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 11 + seed + (i >> 9));
}

/* IPv6 + UDP of `payload` data bytes at buf + ROOM; a copy in orig. */
static struct pkt
make6(size_t payload, unsigned seed)
{
	uint8_t *b = buf + ROOM;
	size_t len = 48 + payload;

	pg_ipv6(b, SRC6, DST6, IPPROTO_UDP, 64, (uint16_t)(8 + payload));
	pg_udp(b + 40, 1234, 53, (uint16_t)payload);
	fill(b + 48, payload, seed);
	pg_fix_l4_csum6(b, len);
	memcpy(orig, b, len);
	return (struct pkt){b, (uint32_t)len, ROOM, (uint32_t)(BUF - ROOM - len)};
}

/* IPv4 + UDP (flags/offset field `frag`) of `payload` data bytes. */
static struct pkt
make4(size_t payload, uint16_t frag, unsigned seed)
{
	uint8_t *b = buf + ROOM;
	size_t len = 28 + payload;

	pg_ipv4(b, SRC4, DST4, IPPROTO_UDP, 64, 0xbeef, 0, (uint16_t)len);
	pg_udp(b + 20, 1234, 53, (uint16_t)payload);
	fill(b + 28, payload, seed);
	pg_fix_l4_csum4(b, len);
	b[6] = (uint8_t)(frag >> 8);
	b[7] = (uint8_t)frag;
	pg_ipv4_fix_csum(b);
	memcpy(orig, b, len);
	return (struct pkt){b, (uint32_t)len, ROOM, (uint32_t)(BUF - ROOM - len)};
}

/* Run the iterator, copying each fragment (valid only until the next). */
static unsigned
collect(struct frag_iter *it)
{
	struct pkt f;
	unsigned n = 0;

	while (frag_next(it, &f)) {
		cr_assert_lt(n, MAXF);
		cr_assert_leq(f.len, FMAX);
		memcpy(frags[n], f.data, f.len);
		flen[n] = f.len;
		n++;
	}
	cr_assert_eq(n, it->fragments, "yielded %u, announced %u", n, it->fragments);
	cr_assert_not(frag_next(it, &f), "the iterator restarted");
	return n;
}

/* Reassemble frags[0..n) in reverse order and compare with `want`. */
static void
reassembles_to(unsigned n, const uint8_t *want, size_t want_len)
{
	struct reasm_config cfg;
	struct reasm *r = NULL;
	struct pkt_info info;
	struct pkt out;
	enum stat_id rc = STAT_UNKNOWN;

	reasm_config_default(&cfg);
	cfg.max_frags = MAXF;
	cfg.source_limit = 1 << 20;
	cr_assert_eq(reasm_create(&r, &cfg, &frag_test_key), 0);
	for (unsigned i = n; i-- > 0;) {
		struct pkt p = {frags[i], (uint32_t)flen[i], 0, 0};

		rc = frags[i][0] >> 4 == 6 ? pkt_parse6(frags[i], (uint32_t)flen[i], &info)
					   : pkt_parse4(frags[i], (uint32_t)flen[i], &info);
		cr_assert_eq(rc, STAT_OK, "fragment %u refused by the parser: %s", i,
			     stat_name(rc));
		rc = reasm_add(r, &p, &info, 0, true, &out);
		cr_assert_eq(rc, i > 0 ? STAT_FRAG_HELD : STAT_OK, "fragment %u: %s", i,
			     stat_name(rc));
	}
	pg_assert_bytes(out.data, out.len, want, want_len);
	reasm_destroy(r);
}

/* RFC 8200 §4.5: each fragment fits, carries the original Next Header
 * and the ID, its piece is a multiple of 8 unless last, pieces are
 * contiguous, M is set on all but the last. */
static void
check_frags6(unsigned n, uint32_t mtu, uint32_t id)
{
	uint32_t next = 0;

	cr_assert_gt(n, 1);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = frags[i];
		uint16_t field = get16(f + 42);
		uint32_t piece = (uint32_t)flen[i] - 48;
		bool last = i + 1 == n;

		cr_assert_leq(flen[i], mtu, "fragment %u: %zu bytes over MTU %u", i, flen[i], mtu);
		cr_assert(memcmp(f, orig, 4) == 0, "version/class/flow changed");
		cr_assert(memcmp(f + 7, orig + 7, 33) == 0, "hop limit or addresses changed");
		cr_assert_eq(f[6], 44);
		cr_assert_eq(get16(f + 4), flen[i] - 40);
		cr_assert_eq(f[40], orig[6]);
		cr_assert_eq(f[41], 0);
		cr_assert_eq(field & 0xfff8, next, "fragment %u at %u, want %u", i, field & 0xfff8,
			     next);
		cr_assert_eq(field & 6, 0, "reserved bits");
		cr_assert_eq(field & 1, last ? 0 : 1, "M flag of fragment %u", i);
		cr_assert_eq(get32(f + 44), id);
		if (!last)
			cr_assert_eq(piece % 8, 0);
		next += piece;
	}
	cr_assert_eq(next, get16(orig + 4), "the pieces don't add up to the payload");
}

/* RFC 791 §3.2: each fragment fits, has a valid header checksum, the ID,
 * DF clear, MF on all but the last, offsets in 8-byte units. */
static void
check_frags4(unsigned n, uint32_t mtu, uint32_t base, bool last_mf)
{
	uint32_t orig_ihl = (uint32_t)(orig[0] & 15) * 4;
	uint32_t next = base;

	cr_assert_gt(n, 1);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = frags[i];
		uint32_t ihl = (uint32_t)(f[0] & 15) * 4;
		uint16_t field = get16(f + 6);
		bool last = i + 1 == n;

		cr_assert_leq(flen[i], mtu, "fragment %u: %zu bytes over MTU %u", i, flen[i], mtu);
		cr_assert(pg_ipv4_csum_ok(f), "fragment %u header checksum", i);
		cr_assert_eq(get16(f + 2), flen[i]);
		cr_assert_eq(get16(f + 4), get16(orig + 4), "ID");
		cr_assert_eq(field & 0x4000, 0, "DF");
		cr_assert_eq(field & 0x8000, 0, "reserved flag");
		cr_assert_eq((field & 0x1fff) * 8u, next, "fragment %u offset", i);
		cr_assert_eq((field & 0x2000) != 0, last ? last_mf : true, "MF of fragment %u", i);
		cr_assert(memcmp(f + 8, orig + 8, 2) == 0, "TTL or protocol");
		cr_assert(memcmp(f + 12, orig + 12, 8) == 0, "addresses");
		cr_assert(memcmp(f + ihl, orig + orig_ihl + (next - base), flen[i] - ihl) == 0,
			  "fragment %u payload", i);
		if (!last)
			cr_assert_eq((flen[i] - ihl) % 8, 0);
		next += (uint32_t)flen[i] - ihl;
	}
	cr_assert_eq(next - base, get16(orig + 2) - orig_ihl);
}

/* The refused call left the packet and its buffer (headroom included)
 * exactly as they were. */
static void
refused(enum stat_id got, enum stat_id want, const struct pkt *p, const struct pkt *before,
	const uint8_t *snapshot)
{
	cr_assert_eq(got, want, "got %s, want %s", stat_name(got), stat_name(want));
	cr_assert(memcmp(p, before, sizeof(*p)) == 0, "struct pkt changed");
	cr_assert(memcmp(buf, snapshot, ROOM + p->len) == 0, "packet bytes changed");
}

static uint8_t snapshot[BUF];

/* ---- Bad input first ------------------------------------------------------- */

Test(fragment, split6_refusals_leave_packet_unchanged)
{
	struct frag_iter it;
	struct pkt p = make6(3000, 1);
	struct pkt before = p;
	struct pkt q;

	memcpy(snapshot, buf, ROOM + p.len);
	/* RFC 8200 §5: no IPv6 link is below 1280. */
	refused(frag_split6(&it, &p, 1279, 1), STAT_FRAG_OUT_MTU, &p, &before, snapshot);
	q = p;
	q.headroom = 7;
	refused(frag_split6(&it, &q, 1280, 1), STAT_FRAG_OUT_NO_ROOM, &q, &q, snapshot);
	q = p;
	q.len = 39;
	refused(frag_split6(&it, &q, 1280, 1), STAT_HDR6_TRUNCATED, &q, &q, snapshot);
	q = p;
	q.len = p.len - 1;
	refused(frag_split6(&it, &q, 1280, 1), STAT_HDR6_PAYLOAD_LEN, &q, &q, snapshot);
	p = make4(3000, 0, 1);
	before = p;
	memcpy(snapshot, buf, ROOM + p.len);
	refused(frag_split6(&it, &p, 1280, 1), STAT_HDR6_VERSION, &p, &before, snapshot);
}

/* Translated packets have no extension headers; a packet that does (or is
 * already a fragment) is refused rather than fragmented wrongly. */
Test(fragment, split6_extension_or_fragment_header_refused)
{
	struct frag_iter it;
	struct pkt p = make6(3000, 2);
	struct pkt before;

	p.data[6] = IPPROTO_HOPOPTS;
	before = p;
	memcpy(snapshot, buf, ROOM + p.len);
	refused(frag_split6(&it, &p, 1280, 1), STAT_FRAG_OUT_EXT6, &p, &before, snapshot);
	p.data[6] = IPPROTO_FRAGMENT;
	memcpy(snapshot, buf, ROOM + p.len);
	refused(frag_split6(&it, &p, 1280, 1), STAT_FRAG_OUT_EXT6, &p, &before, snapshot);
}

Test(fragment, split4_refusals_leave_packet_unchanged)
{
	struct frag_iter it;
	struct pkt p = make4(1000, 0x4000, 3); /* DF */
	struct pkt before = p;
	struct pkt q;

	memcpy(snapshot, buf, ROOM + p.len);
	/* DF set: Fragmentation Needed is the caller's answer (RFC 1191). */
	refused(frag_split4(&it, &p, 576), STAT_FRAG_OUT_DF, &p, &before, snapshot);
	p = make4(1000, 0, 3);
	before = p;
	memcpy(snapshot, buf, ROOM + p.len);
	/* RFC 791 §3.2: 68 is the least MTU. */
	refused(frag_split4(&it, &p, 67), STAT_FRAG_OUT_MTU, &p, &before, snapshot);
	q = p;
	q.len = 19;
	refused(frag_split4(&it, &q, 576), STAT_HDR4_TRUNCATED, &q, &q, snapshot);
	q = p;
	q.len = p.len - 1;
	refused(frag_split4(&it, &q, 576), STAT_HDR4_TOTAL_LEN, &q, &q, snapshot);
	p = make6(1000, 3);
	before = p;
	memcpy(snapshot, buf, ROOM + p.len);
	refused(frag_split4(&it, &p, 576), STAT_HDR4_VERSION, &p, &before, snapshot);
}

Test(fragment, split4_malformed_option_refused)
{
	struct frag_iter it;
	struct pkt p = make4(1000, 0, 4);
	struct pkt before;

	/* Rebuild with IHL 6 and an option whose length runs past it. */
	memmove(p.data + 24, p.data + 20, p.len - 20);
	p.len += 4;
	p.data[0] = 0x46;
	p.data[2] = (uint8_t)(p.len >> 8);
	p.data[3] = (uint8_t)p.len;
	p.data[20] = 148;
	p.data[21] = 8;
	pg_ipv4_fix_csum(p.data);
	before = p;
	memcpy(snapshot, buf, ROOM + p.len);
	refused(frag_split4(&it, &p, 576), STAT_HDR4_OPTIONS, &p, &before, snapshot);
}

/* ---- Packets that fit ------------------------------------------------------- */

/* RFC 8021: no atomic fragments; a packet that fits goes as it is. */
Test(fragment, fitting_packets_yielded_once_unchanged)
{
	struct frag_iter it;
	struct pkt p = make6(1232, 5);
	unsigned n;

	cr_assert_eq(p.len, 1280);
	cr_assert_eq(frag_split6(&it, &p, 1280, 7), STAT_OK);
	n = collect(&it);
	cr_assert_eq(n, 1);
	pg_assert_bytes(frags[0], flen[0], orig, p.len);
	p = make4(1472, 0x4000, 5); /* 1500 bytes, DF: fits, DF irrelevant */
	cr_assert_eq(frag_split4(&it, &p, 1500), STAT_OK);
	n = collect(&it);
	cr_assert_eq(n, 1);
	pg_assert_bytes(frags[0], flen[0], orig, p.len);
}

/* ---- IPv6 ------------------------------------------------------------------ */

/* RFC 7915 §4: DF clear and larger than lowest-ipv6-mtu (1280): split to
 * fit, Fragment ID = IPv4 ID zero-extended. */
Test(fragment, split6_to_1280_fields_and_round_trip)
{
	struct frag_iter it;
	struct pkt p = make6(3000, 6);
	size_t len = p.len;
	unsigned n;

	cr_assert_eq(frag_split6(&it, &p, 1280, 0x0000beef), STAT_OK);
	n = collect(&it);
	cr_assert_eq(n, 3); /* 3008 = 1232 + 1232 + 544 */
	check_frags6(n, 1280, 0x0000beef);
	cr_assert_eq(flen[0], 1280);
	reassembles_to(n, orig, len);
}

Test(fragment, split6_odd_mtu_rounds_pieces_down_to_8)
{
	struct frag_iter it;
	struct pkt p = make6(5000, 7);
	size_t len = p.len;
	unsigned n;

	cr_assert_eq(frag_split6(&it, &p, 1283, 9), STAT_OK);
	n = collect(&it);
	check_frags6(n, 1283, 9);
	cr_assert_eq(flen[0], 48 + 1232);
	reassembles_to(n, orig, len);
	p = make6(5000, 8);
	cr_assert_eq(frag_split6(&it, &p, 1500, 10), STAT_OK);
	n = collect(&it);
	check_frags6(n, 1500, 10);
	cr_assert_eq(flen[0], 48 + 1448);
	reassembles_to(n, orig, len);
}

Test(fragment, split6_largest_packet)
{
	struct frag_iter it;
	struct pkt p = make6(65535 - 8, 9);
	size_t len = p.len;
	unsigned n;

	cr_assert_eq(frag_split6(&it, &p, 1280, 0xffff), STAT_OK);
	n = collect(&it);
	cr_assert_eq(n, 54);
	check_frags6(n, 1280, 0xffff);
	reassembles_to(n, orig, len);
}

/* ---- IPv4 ------------------------------------------------------------------ */

Test(fragment, split4_to_576_fields_and_round_trip)
{
	struct frag_iter it;
	struct pkt p = make4(3000, 0, 11);
	size_t len = p.len;
	unsigned n;

	cr_assert_eq(frag_split4(&it, &p, 576), STAT_OK);
	n = collect(&it);
	cr_assert_eq(n, 6); /* 3008 = 5 * 552 + 248 */
	check_frags4(n, 576, 0, false);
	reassembles_to(n, orig, len);
}

/* RFC 791 §3.1: options with the copied flag go into every fragment, the
 * others into the first only; at MTU 68 a 60-byte header leaves 8 bytes. */
Test(fragment, split4_options_copied_flag_and_mtu_68)
{
	struct frag_iter it;
	struct pkt p = make4(200, 0, 12);
	size_t len;
	unsigned n;

	/* IHL 15: Router Alert (148, copied), Timestamp-like option 68 (not
	 * copied) of 32 bytes, then NOPs. */
	memmove(p.data + 60, p.data + 20, p.len - 20);
	p.len += 40;
	p.data[0] = 0x4f;
	p.data[2] = (uint8_t)(p.len >> 8);
	p.data[3] = (uint8_t)p.len;
	memset(p.data + 20, 1, 40);
	p.data[20] = 148;
	p.data[21] = 4;
	p.data[22] = 0;
	p.data[23] = 0;
	p.data[24] = 68;
	p.data[25] = 32;
	memset(p.data + 26, 0, 30);
	pg_ipv4_fix_csum(p.data);
	len = p.len;
	memcpy(orig, p.data, len);
	cr_assert_eq(frag_split4(&it, &p, 68), STAT_OK);
	n = collect(&it);
	check_frags4(n, 68, 0, false);
	cr_assert_eq(flen[0], 68, "first: 60-byte header and 8 bytes");
	cr_assert_eq(frags[0][0], 0x4f, "first: all the options");
	pg_assert_bytes(frags[0] + 20, 40, orig + 20, 40);
	for (unsigned i = 1; i < n; i++) {
		cr_assert_eq(frags[i][0], 0x46, "fragment %u: IHL 6 (Router Alert only)", i);
		cr_assert(memcmp(frags[i] + 20, orig + 20, 4) == 0);
	}
	cr_assert_eq(flen[1], 24 + 40);
	reassembles_to(n, orig, len);
}

/* RFC 791 §3.2: a fragment may be fragmented again; offsets stay those
 * of its datagram and the last piece keeps its MF. */
Test(fragment, split4_of_a_fragment_keeps_offsets_and_mf)
{
	struct frag_iter it;
	struct pkt p = make4(1472, 0x2000 | 1480 / 8, 13); /* MF, offset 1480 */
	unsigned n;

	cr_assert_eq(frag_split4(&it, &p, 576), STAT_OK);
	n = collect(&it);
	check_frags4(n, 576, 1480, true);
	p = make4(1472, 1480 / 8, 14); /* the last fragment */
	cr_assert_eq(frag_split4(&it, &p, 576), STAT_OK);
	n = collect(&it);
	check_frags4(n, 576, 1480, false);
}

/* RFC 7915 §5.1.1: DF 0 for a packet that came as IPv6 fragments. */
Test(fragment, clear_df_keeps_header_checksum_valid)
{
	struct pkt p = make4(100, 0x4000, 15);

	frag_clear_df(&p);
	cr_assert_eq(get16(p.data + 6), 0);
	cr_assert(pg_ipv4_csum_ok(p.data));
	memcpy(orig, p.data, p.len);
	frag_clear_df(&p);
	pg_assert_bytes(p.data, p.len, orig, p.len);
	p = make6(100, 15);
	frag_clear_df(&p);
	pg_assert_bytes(p.data, p.len, orig, p.len);
}
