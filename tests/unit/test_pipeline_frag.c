/*
 * The engine's pipeline with fragments and MTUs: reassembly before the
 * RFC 6146 steps (§3.4), the RFC 7915 §4.1 / §5.1.1 fields of a packet
 * that came in fragments, fragmentation of the output (RFC 7915 §4:
 * lowest-ipv6-mtu; §5: the IPv4 MTU), the Packet Too Big / Fragmentation
 * Needed the engine originates, and the reassembly timeout's Time
 * Exceeded code 1 (RFC 792, RFC 8200 §4.5).
 *
 * Every packet is compared byte for byte with one built by pktgen: the
 * whole datagram is built, checksummed, then cut into fragments by the
 * helpers below, independently of core/fragment.c.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>

#include "nat64_harness.h"
#include "session.h"

enum {
	BIG = 70000,
	IP4_MF = 0x2000,
	IP4_DF = 0x4000,
	NH_FRAG = 44,
};

static uint8_t whole[BIG], frag[BIG], want[BIG];

static uint32_t
sessions(const struct harness *h)
{
	return session_count(nat64_bib(h->n), L4_COUNT);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
fill(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + 3);
}

/* Whole UDP datagrams with `plen` bytes of payload, checksums filled. */
static size_t
udp6_big(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	 uint16_t plen, uint8_t hlim)
{
	size_t n = pg_ipv6(b, src, dst, IPPROTO_UDP, hlim, (uint16_t)(8 + plen));

	n += pg_udp(b + n, sport, dport, plen);
	fill(b + n, plen);
	n += plen;
	pg_fix_l4_csum6(b, n);
	return n;
}

static size_t
udp4_big(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	 uint16_t plen, uint8_t ttl, uint16_t id, uint16_t flags)
{
	size_t n = pg_ipv4(b, src, dst, IPPROTO_UDP, ttl, id, flags, (uint16_t)(28 + plen));

	n += pg_udp(b + n, sport, dport, plen);
	fill(b + n, plen);
	n += plen;
	pg_fix_l4_csum4(b, n);
	return n;
}

/* RFC 8200 §4.5: the fragment of IPv6 packet `w` (fixed header only)
 * holding payload bytes [off, off + len). */
static size_t
frag6(uint8_t *out, const uint8_t *w, uint32_t off, uint32_t len, bool more, uint32_t id)
{
	memcpy(out, w, 40);
	put16(out + 4, 8 + len);
	out[6] = NH_FRAG;
	pg_frag6(out + 40, w[6], (uint16_t)off, more, id);
	memcpy(out + 48, w + 40 + off, len);
	return 48 + len;
}

/* RFC 791 §3.2: the fragment of IPv4 packet `w` (20-byte header) holding
 * payload bytes [off, off + len); DF as in `w`. */
static size_t
frag4(uint8_t *out, const uint8_t *w, uint32_t off, uint32_t len, bool more)
{
	uint16_t flags = (uint16_t)((w[6] << 8 | w[7]) & IP4_DF);

	memcpy(out, w, 20);
	put16(out + 2, 20 + len);
	put16(out + 6, flags | (more ? IP4_MF : 0) | off / 8);
	pg_ipv4_fix_csum(out);
	memcpy(out + 20, w + 20 + off, len);
	return 20 + len;
}

/* h sent `w` (IPv4) cut to `mtu`, as RFC 791 §3.2 does. */
static void
assert_split4(const struct harness *h, const uint8_t *w, size_t wlen, uint32_t mtu)
{
	uint32_t chunk = (mtu - 20) & ~7u, plen = (uint32_t)wlen - 20, len;
	unsigned k = 0;

	for (uint32_t pos = 0; pos < plen; pos += chunk, k++) {
		uint32_t n = plen - pos < chunk ? plen - pos : chunk;
		size_t fl = frag4(frag, w, pos, n, pos + n < plen);
		const uint8_t *got = h_out(h, k, &len);

		cr_assert_leq(len, mtu);
		pg_assert_bytes(got, len, frag, fl);
	}
	cr_assert_eq(h->nout, k, "%u fragments sent, %u expected", h->nout, k);
}

/* h sent `w` (IPv6) cut to `mtu` with Identification `id` (RFC 8200 §4.5). */
static void
assert_split6(const struct harness *h, const uint8_t *w, size_t wlen, uint32_t mtu, uint32_t id)
{
	uint32_t chunk = (mtu - 48) & ~7u, plen = (uint32_t)wlen - 40, len;
	unsigned k = 0;

	for (uint32_t pos = 0; pos < plen; pos += chunk, k++) {
		uint32_t n = plen - pos < chunk ? plen - pos : chunk;
		size_t fl = frag6(frag, w, pos, n, pos + n < plen, id);
		const uint8_t *got = h_out(h, k, &len);

		cr_assert_leq(len, mtu);
		pg_assert_bytes(got, len, frag, fl);
	}
	cr_assert_eq(h->nout, k, "%u fragments sent, %u expected", h->nout, k);
}

/* Feed fragment [off, off + len) of IPv6 datagram `w`. */
static enum stat_id
feed6(struct harness *h, const uint8_t *w, uint32_t off, uint32_t len, bool more, uint32_t id)
{
	uint8_t f[2048];

	return h_input(h, f, frag6(f, w, off, len, more, id));
}

static enum stat_id
feed4(struct harness *h, const uint8_t *w, uint32_t off, uint32_t len, bool more)
{
	uint8_t f[2048];

	return h_input(h, f, frag4(f, w, off, len, more));
}

/* The ICMPv6 error the engine builds: own6 -> dst, hop limit 64, quoting
 * as much of q as fits in 1280 bytes (RFC 4443 §2.4 (c)). */
static size_t
icmp6_err(uint8_t *w, const char *dst, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *q,
	  size_t qn)
{
	size_t n;

	if (qn > 1280 - 48)
		qn = 1280 - 48;
	n = pg_ipv6(w, H_OWN6, dst, IPPROTO_ICMPV6, 64, (uint16_t)(8 + qn));
	n += pg_icmp(w + n, type, code, rest);
	memcpy(w + n, q, qn);
	n += qn;
	pg_fix_l4_csum6(w, n);
	return n;
}

/* The ICMPv4 error the engine builds: own4 -> dst, TTL 64, TOS 0xC0, DF
 * clear, cut to 576 bytes (RFC 1812 §4.3.2.3). */
static size_t
icmp4_err(uint8_t *w, const char *dst, uint16_t id, uint8_t type, uint8_t code, uint32_t rest,
	  const uint8_t *q, size_t qn)
{
	size_t n;

	if (qn > 576 - 28)
		qn = 576 - 28;
	n = pg_ipv4(w, H_OWN4, dst, IPPROTO_ICMP, 64, id, 0, (uint16_t)(28 + qn));
	w[1] = 0xc0;
	pg_ipv4_fix_csum(w);
	n += pg_icmp(w + n, type, code, rest);
	memcpy(w + n, q, qn);
	n += qn;
	pg_fix_l4_csum4(w, n);
	return n;
}

static void
start_mtu(struct harness *h, uint32_t mtu4, uint32_t mtu6, uint32_t icmp_rate)
{
	struct globals g;
	struct nat64_params p;

	h_defaults(&g, &p);
	p.mtu4 = mtu4;
	p.mtu6 = mtu6;
	p.icmp_errors_per_sec = icmp_rate;
	h_start(h, &g, &p);
	h_pool4(h, L4_TCP, H_POOL4, 32, 1, 65535);
	h_pool4(h, L4_UDP, H_POOL4, 32, 1, 65535);
	h_pool4(h, L4_ICMP, H_POOL4, 32, 0, 65535);
}

/* Opens the client's UDP flow 2001:db8:2::10#1234 <-> 192.0.2.2#1234. */
static void
open_flow(struct harness *h)
{
	uint8_t in[128];

	cr_assert_eq(h_input(h, in, h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64)), STAT_OK);
	cr_assert_eq(h_get16(h->p.data + 20), 1234);
}

/* ---- API ---------------------------------------------------------------- */

/* nat64_result_next yields nothing for a result that sends nothing, and
 * a fragment the parser refuses leaves no state in the reassembler. */
Test(pipeline_frag, bad_input_changes_nothing)
{
	struct nat64_result res = {.reason = STAT_POOL4_MISMATCH};
	struct nat64_frag_usage u;
	struct pkt out = {.len = 77};
	struct harness h;
	uint8_t f[256];
	size_t n;

	cr_assert(!nat64_result_next(&res, &out));
	cr_assert_eq(out.len, 77);
	cr_assert_null(out.data);

	h_start_default(&h);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 100, 64);
	/* RFC 8200 §4.5: a non-last fragment whose length isn't a
	 * multiple of 8 is refused by the parser. */
	cr_assert_eq(h_input(&h, f, frag6(f, whole, 0, 100, true, 9)), STAT_HDR6_FRAG_LEN);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 100, 64, 9, 0);
	frag4(f, whole, 0, 64, true);
	f[10] ^= 1; /* header checksum */
	cr_assert_eq(h_input(&h, f, 84), STAT_HDR4_CHECKSUM);
	nat64_frag_usage(h.n, &u);
	cr_assert_eq(u.bytes, 0);
	cr_assert_eq(u.datagrams, 0);
	cr_assert_eq(h_stat(&h, STAT_FRAG_HELD), 0);
	cr_assert_eq(sessions(&h), 0);
	cr_assert_eq(h.nout, 0);
	cr_assert_eq(h.res.reply_len, 0);
	(void)n;
	h_stop(&h);
}

/* Not split: nat64_result_next yields the packet itself, once. */
Test(pipeline_frag, result_next_yields_the_packet_once)
{
	struct harness h;
	uint8_t in[128];
	struct pkt out;
	size_t n;

	h_start_default(&h);
	n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	cr_assert(!h.res.split);
	cr_assert(nat64_result_next(&h.res, &out));
	cr_assert_eq(out.data, h.p.data);
	cr_assert_eq(out.len, h.p.len);
	cr_assert(!nat64_result_next(&h.res, &out));
	cr_assert_eq(h.nout, 1);
	h_stop(&h);
}

/* ---- Reassembly, 6->4 ------------------------------------------------------ */

/*
 * RFC 6146 §3.4: the first fragment, the only one with the ports, comes
 * last; the datagram (3000 bytes of UDP payload in three fragments) is
 * translated whole, with the fragments' Identification (RFC 7915 §5.1.1),
 * and, at 3028 bytes, split for the 1500-byte IPv4 MTU (RFC 791 §3.2).
 */
Test(pipeline_frag, sec3_4_udp6_first_fragment_last_reassembled_and_split_for_mtu4)
{
	struct harness h;
	size_t n, wn;

	h_start_default(&h);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 3000, 64);
	cr_assert_eq(feed6(&h, whole, 2464, (uint32_t)n - 40 - 2464, false, 0x12345678),
		     STAT_FRAG_HELD);
	cr_assert_eq(h.nout, 0);
	cr_assert_eq(feed6(&h, whole, 1232, 1232, true, 0x12345678), STAT_FRAG_HELD);
	cr_assert_eq(sessions(&h), 0, "no state before the datagram is whole");
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 0x12345678), STAT_OK);
	cr_assert(h.res.split);
	wn = udp4_big(want, H_POOL4, 1234, H_SERVER4, 80, 3000, 63, 0x5678, 0);
	assert_split4(&h, want, wn, 1500);
	cr_assert_eq(h_stat(&h, STAT_FRAG_HELD), 2);
	cr_assert_eq(h_stat(&h, STAT_FRAG_REASSEMBLED), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAGMENTED_OUT), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAGMENTS_SENT), 3);
	cr_assert_eq(h_stat(&h, STAT_SUCCESS), 1);
	cr_assert_eq(sessions(&h), 1);
	h_stop(&h);
}

/* RFC 7915 §5.1.1: a datagram that came in fragments gets DF 0 even above
 * 1260 bytes (routers may fragment it again), and the low 16 bits of the
 * Fragment Identification. */
Test(pipeline_frag, sec5_1_1_reassembled_gets_fragment_id_and_df0)
{
	struct harness h;
	size_t n, wn;

	h_start_default(&h);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1400, 64);
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 0xabcd0102), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&h, whole, 1232, (uint32_t)n - 40 - 1232, false, 0xabcd0102), STAT_OK);
	wn = udp4_big(want, H_POOL4, 1234, H_SERVER4, 80, 1400, 63, 0x0102, 0);
	cr_assert(!h.res.split);
	h_assert_out(&h, want, wn);
	cr_assert_eq(h.nout, 1);
	h_stop(&h);
}

static void
start_worker(struct harness *h, unsigned int index)
{
	struct globals g;
	struct nat64_params p;

	h_defaults(&g, &p);
	p.share = (struct port_share){.index = (uint16_t)index, .count = 2};
	h_start(h, &g, &p);
	h_pool4(h, L4_UDP, H_POOL4, 32, 1, 65535);
}

/* Two workers: fragments reach the worker their source address hashes to
 * (worker 0), which reassembles; the datagram's mapping is worker 1's to
 * make (source port 1234), so it goes over with what reassembly told:
 * worker 1 still gives DF 0 and the fragments' Identification (RFC 7915
 * §5.1.1), not a Packet Too Big for a > 1260-byte packet. */
Test(pipeline_frag, sec5_1_1_holds_for_a_datagram_reassembled_by_another_worker)
{
	static struct harness w0, w1;
	struct nat64_handoff hd;
	size_t n, wn;

	start_worker(&w0, 0);
	start_worker(&w1, 1);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1400, 64);
	cr_assert_eq(feed6(&w0, whole, 0, 1232, true, 0xabcd0102), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&w0, whole, 1232, (uint32_t)n - 40 - 1232, false, 0xabcd0102),
		     STAT_HANDOFF);
	hd = w0.res.handoff;
	cr_assert_eq(hd.to, 1);
	cr_assert(hd.from_fragments);
	cr_assert_eq(hd.frag_id, 0xabcd0102);
	cr_assert_eq(w0.res.out.len, n);
	memcpy(frag, w0.res.out.data, n);
	cr_assert_eq(h_input_handed(&w1, frag, n, &hd), STAT_OK);
	wn = udp4_big(want, H_POOL4, 1234, H_SERVER4, 80, 1400, 63, 0x0102, 0);
	h_assert_out(&w1, want, wn);
	cr_assert_eq(sessions(&w0), 0);
	cr_assert_eq(sessions(&w1), 1);
	/* A handed packet that is a fragment again is refused, not held. */
	cr_assert_eq(h_input_handed(&w1, frag, frag6(frag, whole, 0, 1232, true, 7), &hd),
		     STAT_HANDOFF_LOOP);
	h_stop(&w0);
	h_stop(&w1);
}

/* RFC 6946 §4: an atomic fragment (offset 0, M 0) is processed alone; its
 * Identification still becomes the IPv4 one and DF is 0 (§5.1.1). */
Test(pipeline_frag, rfc6946_atomic_fragment_translated_alone)
{
	struct harness h;
	size_t n, wn;

	h_start_default(&h);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1300, 64);
	cr_assert_eq(feed6(&h, whole, 0, (uint32_t)n - 40, false, 0x00c0ffee), STAT_OK);
	wn = udp4_big(want, H_POOL4, 1234, H_SERVER4, 80, 1300, 63, 0xffee, 0);
	h_assert_out(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_FRAG_ATOMIC6), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAG_REASSEMBLED), 0);
	cr_assert_eq(h_stat(&h, STAT_FRAG_HELD), 0);
	h_stop(&h);
}

/* RFC 5722 §4: overlapping fragments discard the datagram, and its later
 * fragments are dropped until it times out; an exact duplicate is
 * dropped alone (RFC 8200 §4.5) and the datagram completes. */
Test(pipeline_frag, rfc5722_overlap_discards_duplicate_does_not)
{
	struct harness h;
	size_t n;

	h_start_default(&h);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 2000, 64);
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 1), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&h, whole, 1224, 16, true, 1), STAT_FRAG_OVERLAP);
	cr_assert_eq(feed6(&h, whole, 1232, (uint32_t)n - 40 - 1232, false, 1),
		     STAT_FRAG_DISCARDED);
	cr_assert_eq(h.nout, 0);

	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 2), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 2), STAT_FRAG_DUPLICATE);
	cr_assert_eq(feed6(&h, whole, 1232, (uint32_t)n - 40 - 1232, false, 2), STAT_OK);
	cr_assert_eq(h.nout, 2, "2028 bytes of IPv4 in two fragments");
	cr_assert_eq(h_stat(&h, STAT_FRAG_OVERLAP), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAG_DISCARDED), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAG_DUPLICATE), 1);
	cr_assert_eq(h_stat(&h, STAT_SUCCESS), 1);
	h_stop(&h);
}

/* ---- Reassembly, 4->6 ------------------------------------------------------ */

/*
 * RFC 7915 §4: IPv4 fragments (DF clear) are reassembled, translated and,
 * above lowest-ipv6-mtu (1280 by default), cut into IPv6 fragments whose
 * Identification is the IPv4 one zero-extended (§4.1, as Jool).
 */
Test(pipeline_frag, sec4_udp4_fragments_reassembled_and_split_for_lowest_ipv6_mtu)
{
	struct harness h;
	size_t n, wn;

	h_start_default(&h);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 3000, 64, 0xbeef, 0);
	cr_assert_eq(feed4(&h, whole, 1480, 1480, true), STAT_FRAG_HELD);
	cr_assert_eq(feed4(&h, whole, 2960, (uint32_t)n - 20 - 2960, false), STAT_FRAG_HELD);
	cr_assert_eq(feed4(&h, whole, 0, 1480, true), STAT_OK);
	wn = udp6_big(want, H_SERVER6, 80, H_CLIENT, 1234, 3000, 63);
	assert_split6(&h, want, wn, 1280, 0xbeef);
	cr_assert_eq(h_stat(&h, STAT_FRAG_REASSEMBLED), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAGMENTS_SENT), 3);
	h_stop(&h);
}

/* lowest-ipv6-mtu set to the IPv6 MTU: the same datagram leaves in
 * 1500-byte IPv6 fragments. */
Test(pipeline_frag, sec4_lowest_ipv6_mtu_raises_the_fragment_size)
{
	struct globals g;
	struct harness h;
	size_t n, wn;
	char err[128];

	h_start_default(&h);
	g = *nat64_globals(h.n);
	g.xlat.lowest_ipv6_mtu = 1500;
	cr_assert_eq(nat64_set_globals(h.n, &g, err, sizeof(err)), 0, "%s", err);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 3000, 64, 0x0101, 0);
	cr_assert_eq(feed4(&h, whole, 0, 1480, true), STAT_FRAG_HELD);
	cr_assert_eq(feed4(&h, whole, 1480, 1480, true), STAT_FRAG_HELD);
	cr_assert_eq(feed4(&h, whole, 2960, (uint32_t)n - 20 - 2960, false), STAT_OK);
	wn = udp6_big(want, H_SERVER6, 80, H_CLIENT, 1234, 3000, 63);
	assert_split6(&h, want, wn, 1500, 0x0101);
	h_stop(&h);
}

/* RFC 768 / RFC 7915 §4.5, amend-udp-checksum-zero on (the default): an
 * IPv4 UDP datagram sent in fragments with checksum 0 gets its checksum
 * computed on the whole datagram. */
Test(pipeline_frag, amend_udp_checksum_zero_computes_it_after_reassembly)
{
	struct harness h;
	size_t n, wn;

	h_start_default(&h);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 200, 64, 5, 0);
	whole[26] = whole[27] = 0;
	cr_assert_eq(feed4(&h, whole, 0, 104, true), STAT_FRAG_HELD);
	cr_assert_eq(feed4(&h, whole, 104, (uint32_t)n - 20 - 104, false), STAT_OK);
	wn = udp6_big(want, H_SERVER6, 80, H_CLIENT, 1234, 200, 63);
	h_assert_out(&h, want, wn);
	h_stop(&h);
}

/* amend-udp-checksum-zero off: such a datagram is dropped, counted. */
Test(pipeline_frag, amend_udp_checksum_zero_off_drops_counted)
{
	struct globals g;
	struct harness h;
	char err[128];
	size_t n;

	h_start_default(&h);
	g = *nat64_globals(h.n);
	g.amend_udp_checksum_zero = false;
	cr_assert_eq(nat64_set_globals(h.n, &g, err, sizeof(err)), 0, "%s", err);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 200, 64, 5, 0);
	whole[26] = whole[27] = 0;
	cr_assert_eq(feed4(&h, whole, 104, (uint32_t)n - 20 - 104, false), STAT_FRAG_HELD);
	cr_assert_eq(feed4(&h, whole, 0, 104, true), STAT_XLAT46_UDP_ZERO_CSUM_FRAG);
	cr_assert_eq(h.nout, 0);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(h_stat(&h, STAT_XLAT46_UDP_ZERO_CSUM_FRAG), 1);
	h_stop(&h);
}

/* ---- MTU, 4->6 ------------------------------------------------------------- */

/* RFC 7915 §4, RFC 1191 §4: DF set and 20 bytes too big once translated
 * for a 1280-byte IPv6 MTU: Fragmentation Needed with MTU 1260 (Jool:
 * mtu6 - 20), quoting the packet, and nothing sent. */
Test(pipeline_frag, sec4_df_set_too_big_answers_fragmentation_needed)
{
	struct harness h;
	size_t n, wn;

	start_mtu(&h, 1500, 1280, 1000);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 1300 - 28, 64, 3, IP4_DF);
	cr_assert_eq(h_input(&h, whole, n), STAT_TOO_BIG4);
	cr_assert_eq(h.nout, 0);
	wn = icmp4_err(want, H_SERVER4, h_get16(h.reply + h.res.reply_off + 4), 3, 4, 1260, whole,
		       n);
	h_assert_reply(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_TOO_BIG4), 1);
	cr_assert_eq(h_stat(&h, STAT_ICMP4ERR_SENT), 1);
	/* One byte less fits exactly: 1260 + 20 = 1280. */
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 1260 - 28, 64, 4, IP4_DF);
	cr_assert_eq(h_input(&h, whole, n), STAT_OK);
	cr_assert_eq(h.p.len, 1280);
	h_stop(&h);
}

/* lowest-ipv6-mtu bounds only what the translator fragments itself: a DF
 * packet above it but within the IPv6 MTU leaves whole (Jool). */
Test(pipeline_frag, sec4_df_set_above_lowest_ipv6_mtu_sent_whole)
{
	struct harness h;
	size_t n, wn;

	h_start_default(&h);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 1400, 64, 3, IP4_DF);
	cr_assert_eq(h_input(&h, whole, n), STAT_OK);
	cr_assert(!h.res.split);
	wn = udp6_big(want, H_SERVER6, 80, H_CLIENT, 1234, 1400, 63);
	h_assert_out(&h, want, wn);
	h_stop(&h);
}

/* The same packet with DF clear is split to lowest-ipv6-mtu, never
 * answered with an error. */
Test(pipeline_frag, sec4_df_clear_above_lowest_ipv6_mtu_split)
{
	struct harness h;
	size_t n, wn;

	start_mtu(&h, 1500, 1280, 1000);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 1400, 64, 0x4242, 0);
	cr_assert_eq(h_input(&h, whole, n), STAT_OK);
	wn = udp6_big(want, H_SERVER6, 80, H_CLIENT, 1234, 1400, 63);
	assert_split6(&h, want, wn, 1280, 0x4242);
	cr_assert_eq(h.res.reply_len, 0);
	cr_assert_eq(h_stat(&h, STAT_FRAGMENTED_OUT), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAGMENTS_SENT), 2);
	h_stop(&h);
}

/* ---- MTU, 6->4 ------------------------------------------------------------- */

/* RFC 7915 §5.1: a packet whose IPv4 form (DF set above 1260 bytes) is
 * too big for the IPv4 MTU: Packet Too Big with max(1280, mtu4 + 20). */
Test(pipeline_frag, sec5_1_too_big_for_mtu4_answers_packet_too_big)
{
	struct harness h;
	size_t n, wn;

	start_mtu(&h, 1400, 1500, 1000);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1500 - 48, 64);
	cr_assert_eq(h_input(&h, whole, n), STAT_TOO_BIG6);
	wn = icmp6_err(want, H_CLIENT, 2, 0, 1420, whole, n);
	h_assert_reply(&h, want, wn);
	cr_assert_eq(h.nout, 0);
	cr_assert_eq(h_stat(&h, STAT_TOO_BIG6), 1);
	cr_assert_eq(h_stat(&h, STAT_ICMP6ERR_SENT), 1);
	cr_assert_eq(sessions(&h), 1, "the session was made before the MTU check");
	/* 1420 bytes of IPv6 are 1400 of IPv4: they fit. */
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1420 - 48, 64);
	cr_assert_eq(h_input(&h, whole, n), STAT_OK);
	cr_assert_eq(h.p.len, 1400);
	h_stop(&h);
}

/* RFC 8200 §5: the MTU a Packet Too Big reports is never below 1280, even
 * for a smaller IPv4 MTU (the IPv4 packet then gets DF 0, see below). */
Test(pipeline_frag, sec5_1_packet_too_big_never_below_1280)
{
	struct harness h;
	size_t n, wn;

	start_mtu(&h, 1000, 1500, 1000);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1320 - 48, 64);
	cr_assert_eq(h_input(&h, whole, n), STAT_TOO_BIG6);
	wn = icmp6_err(want, H_CLIENT, 2, 0, 1280, whole, n);
	h_assert_reply(&h, want, wn);
	h_stop(&h);
}

/* RFC 7915 §5.1: at most 1260 bytes the IPv4 packet has DF 0, so one
 * too big for a 1000-byte IPv4 MTU is split, not refused (RFC 791). */
Test(pipeline_frag, sec5_1_df_clear_too_big_for_mtu4_split)
{
	struct harness h;
	size_t n, wn;

	start_mtu(&h, 1000, 1500, 1000);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1280 - 48, 64);
	cr_assert_eq(h_input(&h, whole, n), STAT_OK);
	cr_assert(h.res.split);
	wn = udp4_big(want, H_POOL4, 1234, H_SERVER4, 80, 1280 - 48, 63,
		      h_get16(h_out(&h, 0, &(uint32_t){0}) + 4), 0);
	assert_split4(&h, want, wn, 1000);
	cr_assert_eq(h.res.reply_len, 0);
	h_stop(&h);
}

/* A router checks the hop limit before the MTU: hop limit 1 and too big
 * gets Time Exceeded, not Packet Too Big. */
Test(pipeline_frag, hop_limit_checked_before_mtu)
{
	struct harness h;
	size_t n;

	start_mtu(&h, 1400, 1500, 1000);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1500 - 48, 1);
	cr_assert_eq(h_input(&h, whole, n), STAT_XLAT64_HOP_LIMIT);
	cr_assert_eq(h.reply[h.res.reply_off + 40], 3);
	h_stop(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 1400, 1, 3, IP4_DF);
	start_mtu(&h, 1500, 1280, 1000);
	open_flow(&h);
	cr_assert_eq(h_input(&h, whole, n), STAT_XLAT46_TTL);
	cr_assert_eq(h.reply[h.res.reply_off + 20], 11);
	h_stop(&h);
}

/* RFC 4443 §2.4 (f): the Packet Too Big the engine sends is rate-limited
 * like every error it originates. */
Test(pipeline_frag, packet_too_big_rate_limited)
{
	struct harness h;
	size_t n;

	start_mtu(&h, 1400, 1500, 2);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 1500 - 48, 64);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(h_input(&h, whole, n), STAT_TOO_BIG6);
	cr_assert_eq(h_stat(&h, STAT_TOO_BIG6), 5);
	cr_assert_eq(h_stat(&h, STAT_ICMP6ERR_SENT), 2);
	cr_assert_eq(h_stat(&h, STAT_ICMPERR_RATE_LIMITED), 3);
	h_stop(&h);
}

/* ---- Hairpinning ------------------------------------------------------------ */

/* RFC 6146 §3.8 with fragments: client2's datagram to the client's pool4
 * taddr, in IPv6 fragments, is reassembled, goes 6->4->6 and leaves as
 * IPv6 fragments of lowest-ipv6-mtu with the low 16 bits of its
 * Identification (the IPv4 ID of the middle step), never checked against
 * the IPv4 MTU it does not cross. */
Test(pipeline_frag, sec3_8_hairpinned_datagram_reassembled_and_split)
{
	struct harness h;
	uint32_t len;
	uint16_t port;
	size_t n, wn;

	start_mtu(&h, 1300, 1500, 1000);
	h_bib(&h, L4_UDP, H_CLIENT, 1234, H_POOL4, 1234);
	n = udp6_big(whole, H_CLIENT2, 5555, H_POOL4_6, 1234, 2000, 64);
	cr_assert_eq(feed6(&h, whole, 0, 1448, true, 0x77778888), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&h, whole, 1448, (uint32_t)n - 40 - 1448, false, 0x77778888), STAT_OK);
	port = h_get16(h_out(&h, 0, &len) + 48);
	wn = udp6_big(want, H_POOL4_6, port, H_CLIENT, 1234, 2000, 63);
	assert_split6(&h, want, wn, 1280, 0x8888);
	cr_assert_eq(h_stat(&h, STAT_HAIRPINNED), 1);
	cr_assert_eq(h_stat(&h, STAT_TOO_BIG6), 0);
	h_stop(&h);
}

/* ---- Reassembly timeout ------------------------------------------------------ */

/* RFC 792, RFC 1122 §3.3.2: the first fragment came, the rest did not
 * within reassembly-timeout (2 s): ICMPv4 Time Exceeded code 1 quoting
 * it, from own4, at the next tick. Never earlier. */
Test(pipeline_frag, rfc792_reassembly_timeout_v4_time_exceeded_code_1)
{
	struct harness h;
	uint8_t f[2048];
	size_t n, fn, wn;

	h_start_default(&h);
	open_flow(&h);
	n = udp4_big(whole, H_SERVER4, 80, H_POOL4, 1234, 3000, 64, 0x0a0b, 0);
	fn = frag4(f, whole, 0, 1480, true);
	cr_assert_eq(h_input(&h, f, fn), STAT_FRAG_HELD);
	h.now += 1999;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 0);
	h.now += 1;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 1);
	wn = icmp4_err(want, H_SERVER4, h_get16(h.emitted[0].b + 4), 11, 1, 0, f, fn);
	pg_assert_bytes(h.emitted[0].b, h.emitted[0].len, want, wn);
	cr_assert_eq(h_stat(&h, STAT_FRAG_TIMEOUT), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAG_TIMEOUT_ICMP), 1);
	cr_assert_eq(h_stat(&h, STAT_ICMP4ERR_SENT), 1);
	(void)n;
	h_stop(&h);
}

/* RFC 8200 §4.5: the same for IPv6 (Time Exceeded code 1 from own6); a
 * datagram whose first fragment never came expires silently. */
Test(pipeline_frag, rfc8200_sec4_5_reassembly_timeout_v6_only_with_first_fragment)
{
	struct nat64_frag_usage u;
	struct harness h;
	uint8_t f[2048];
	size_t n, fn, wn;

	h_start_default(&h);
	n = udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 3000, 64);
	fn = frag6(f, whole, 0, 1232, true, 1);
	cr_assert_eq(h_input(&h, f, fn), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&h, whole, 1232, 1232, true, 2), STAT_FRAG_HELD);
	nat64_frag_usage(h.n, &u);
	cr_assert_eq(u.datagrams, 2);
	cr_assert_gt(u.bytes, 2464);
	h.now += 2000;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 1);
	wn = icmp6_err(want, H_CLIENT, 3, 1, 0, f, fn);
	pg_assert_bytes(h.emitted[0].b, h.emitted[0].len, want, wn);
	cr_assert_eq(h_stat(&h, STAT_FRAG_TIMEOUT), 2);
	cr_assert_eq(h_stat(&h, STAT_FRAG_TIMEOUT_ICMP), 1);
	nat64_frag_usage(h.n, &u);
	cr_assert_eq(u.bytes, 0);
	cr_assert_eq(u.datagrams, 0);
	(void)n;
	h_stop(&h);
}

/* The reassembly Time Exceeded obeys the rate limit too. */
Test(pipeline_frag, reassembly_timeout_errors_rate_limited)
{
	struct harness h;

	start_mtu(&h, 1500, 1500, 1);
	udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 3000, 64);
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 1), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 2), STAT_FRAG_HELD);
	h.now += 2000;
	h_tick(&h);
	cr_assert_eq(h.nemitted, 1);
	cr_assert_eq(h_stat(&h, STAT_FRAG_TIMEOUT), 2);
	cr_assert_eq(h_stat(&h, STAT_ICMPERR_RATE_LIMITED), 1);
	h_stop(&h);
}

/* ---- Memory bounds and settings ------------------------------------------------ */

/* A flood of incomplete datagrams from one source stops at its share
 * (reassembly-source-limit), counted, while other traffic still flows;
 * the memory comes back at the timeout. */
Test(pipeline_frag, flood_stops_at_source_limit_and_traffic_flows)
{
	struct nat64_frag_usage u;
	struct harness h;
	uint8_t in[128];
	uint32_t id;
	size_t n;

	h_start_default(&h);
	udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 100, 64);
	for (id = 0; id < 1000; id++) {
		enum stat_id rc = feed6(&h, whole, 8, 16, true, id);

		if (rc == STAT_FRAG_SOURCE_LIMIT)
			break;
		cr_assert_eq(rc, STAT_FRAG_HELD);
	}
	cr_assert_lt(id, 1000, "the source limit never applied");
	nat64_frag_usage(h.n, &u);
	cr_assert_leq(u.bytes, nat64_globals(h.n)->reasm_source_limit);
	cr_assert_eq(u.datagrams, id);
	cr_assert_eq(h_stat(&h, STAT_FRAG_SOURCE_LIMIT), 1);
	n = h_udp6(in, H_CLIENT2, 1234, H_SERVER6, 80, 64);
	cr_assert_eq(h_input(&h, in, n), STAT_OK);
	udp6_big(whole, H_CLIENT2, 1234, H_SERVER6, 80, 2000, 64);
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 5), STAT_FRAG_HELD);
	cr_assert_eq(feed6(&h, whole, 1232, 2008 - 1232, false, 5), STAT_OK);
	h.now += 2000;
	h_tick(&h);
	nat64_frag_usage(h.n, &u);
	cr_assert_eq(u.bytes, 0);
	h_stop(&h);
}

/* The reassembly keys go through nat64_set_globals all-or-nothing: a
 * budget below the source limit is refused naming both keys; a budget
 * above the arena's size gets a new arena. */
Test(pipeline_frag, reassembly_settings_checked_and_applied)
{
	struct nat64_frag_usage u;
	struct globals g, before;
	struct harness h;
	char err[256] = "";

	h_start_default(&h);
	before = *nat64_globals(h.n);
	g = before;
	g.reasm_budget = 200000;
	g.reasm_source_limit = 300000;
	g.udp_timeout = 600000;
	cr_assert_eq(nat64_set_globals(h.n, &g, err, sizeof(err)), -1);
	cr_assert(strstr(err, "reassembly-budget") && strstr(err, "reassembly-source-limit"), "%s",
		  err);
	cr_assert(memcmp(nat64_globals(h.n), &before, sizeof(before)) == 0);
	g = before;
	g.reasm_budget = 16 << 20;
	g.reasm_timeout = 5000;
	cr_assert_eq(nat64_set_globals(h.n, &g, err, sizeof(err)), 0, "%s", err);
	nat64_frag_usage(h.n, &u);
	cr_assert_eq(u.budget, 16 << 20);
	udp6_big(whole, H_CLIENT, 1234, H_SERVER6, 80, 3000, 64);
	cr_assert_eq(feed6(&h, whole, 0, 1232, true, 1), STAT_FRAG_HELD);
	h.now += 4999;
	h_tick(&h);
	cr_assert_eq(h_stat(&h, STAT_FRAG_TIMEOUT), 0);
	h.now += 1;
	h_tick(&h);
	cr_assert_eq(h_stat(&h, STAT_FRAG_TIMEOUT), 1);
	h_stop(&h);
}

/* The key table: names, defaults, and the RFC 6146 FRAGMENT_MIN floor. */
Test(pipeline_frag, reassembly_keys_in_the_table)
{
	struct globals g, before;
	char buf[64], err[256];

	globals_default(&g);
	globals_print(&g, globals_find("reassembly-timeout"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "0:00:02");
	globals_print(&g, globals_find("reassembly-budget"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "4194304");
	globals_print(&g, globals_find("reassembly-source-limit"), buf, sizeof(buf));
	cr_assert_str_eq(buf, "262144");
	before = g;
	cr_assert_eq(
		globals_parse(&g, globals_find("reassembly-timeout"), "1.999", err, sizeof(err)),
		-1);
	cr_assert(strstr(err, "reassembly-timeout"), "%s", err);
	cr_assert(memcmp(&g, &before, sizeof(g)) == 0);
	cr_assert_eq(globals_parse(&g, globals_find("reassembly-timeout"), "30", err, sizeof(err)),
		     0);
	cr_assert_eq(g.reasm_timeout, 30000);
}
