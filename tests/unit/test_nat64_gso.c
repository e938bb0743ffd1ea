/*
 * nat64_input_gso(): the TUN offload header through the engine
 * (core/pipeline_offload.c, docs/offloads.md). Byte-exact packets; every
 * checksum is checked with pktgen's independent ref_csum(): a partial
 * checksum is "finished" the way the kernel does (sum from csum_start to
 * the end, complement), and a pseudo-header sum is computed from a
 * pseudo-header built here byte by byte.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "nat64_harness.h"

enum {
	MSS6 = 1440, /* TCP over IPv6, MTU 1500 */
	MSS4 = 1460,
	SEGS = 3,
	CLIENT_PORT = 5000,
	SERVER_PORT = 80,
	SEQ = 1000,
	ACK = 2000,
	PSH_ACK = 0x18,
	OUT_MAX = 16,
};

static struct harness h;
static uint8_t pkt[70000];
static uint8_t want[70000];
static uint8_t segbuf[NAT64_SEGMENT_BUF];
/* Every packet written for the last g_input(), with its header. */
static uint8_t outs[OUT_MAX][2048];
static uint32_t out_lens[OUT_MAX];
static struct gso_hdr out_hdrs[OUT_MAX];
static uint8_t replies[OUT_MAX][1280];
static uint32_t reply_lens[OUT_MAX];
static unsigned nouts, nreplies;

static uint8_t
payload_byte(size_t i)
{
	return (uint8_t)(i * 31 + 7);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The folded pseudo-header sum (not complemented) of the packet at `ip`,
 * for `l4_len` bytes of protocol `proto`: what NEEDS_CSUM puts in the
 * field (docs/offloads.md). */
static uint16_t
pseudo_partial(const uint8_t *ip, uint8_t proto, uint32_t l4_len)
{
	uint8_t ph[40] = {0};
	size_t n;

	if (ip[0] >> 4 == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = proto;
		put16(ph + 10, (uint16_t)l4_len);
		n = 12;
	} else {
		memcpy(ph, ip + 8, 32);
		put16(ph + 34, (uint16_t)l4_len);
		ph[39] = proto;
		n = 40;
	}
	return (uint16_t)~ref_csum(ph, n, NULL, 0);
}

/* The kernel finishing a partial checksum (skb_checksum_help()). */
static void
finish_csum(uint8_t *p, size_t len, const struct gso_hdr *g)
{
	uint16_t c = ref_csum(p + g->csum_start, len - g->csum_start, NULL, 0);

	put16(p + g->csum_start + g->csum_offset, c);
}

static void
record(const struct nat64_result *res)
{
	struct nat64_result r = *res;
	struct pkt out;

	if (res->reply_len != 0) {
		cr_assert(nreplies < OUT_MAX && res->reply_len <= sizeof(replies[0]));
		memcpy(replies[nreplies], h.reply + res->reply_off, res->reply_len);
		reply_lens[nreplies++] = res->reply_len;
	}
	while (nat64_result_next(&r, &out)) {
		cr_assert(nouts < OUT_MAX);
		cr_assert(out.len <= sizeof(outs[0]) || nouts == 0);
		out_lens[nouts] = out.len;
		out_hdrs[nouts] = r.gso;
		if (out.len <= sizeof(outs[0]))
			memcpy(outs[nouts], out.data, out.len);
		nouts++;
	}
}

/* Runs `p` with header `g` like the daemon: a packet that must be
 * segmented is cut and each segment runs as an ordinary packet. Returns
 * the reason of the first call. */
static enum stat_id
g_input(const uint8_t *p, size_t len, const struct gso_hdr *g)
{
	uint8_t *start = h.mem + H_HEAD;
	struct nat64_result seg_res;
	struct pkt seg;

	cr_assert(len + H_TAILROOM + H_HEAD <= sizeof(h.mem));
	memcpy(start, p, len);
	h.p = (struct pkt){start, (uint32_t)len, PKT_HEADROOM, H_TAILROOM};
	nouts = nreplies = 0;
	nat64_input_gso(h.n, &h.p, g, h.now, h.reply, &h.res);
	cr_assert_eq(h.res.send, h.res.reason == STAT_OK);
	cr_assert_eq(h.res.segment, h.res.reason == STAT_GSO_SEGMENTED);
	record(&h.res);
	while (nat64_result_segment(&h.res, segbuf, &seg)) {
		nat64_input(h.n, &seg, h.now, h.reply, &seg_res);
		record(&seg_res);
	}
	return h.res.reason;
}

/* A TCP session client#5000 <-> server#80, established; returns the
 * mask port. */
static uint16_t
establish(void)
{
	uint8_t b[128];
	size_t n;
	uint16_t mask;

	h_start_default(&h);
	n = h_tcp6(b, H_CLIENT, CLIENT_PORT, H_SERVER6, SERVER_PORT, PG_TCP_SYN, 64);
	cr_assert_eq(h_input(&h, b, n), STAT_OK);
	mask = h_get16(h.p.data + 20);
	n = h_tcp4(b, H_SERVER4, SERVER_PORT, H_POOL4, mask, PG_TCP_SYN | PG_TCP_ACK, 64, 7);
	cr_assert_eq(h_input(&h, b, n), STAT_OK);
	return mask;
}

static void
fill_payload(uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = payload_byte(i);
}

/* client -> server TCP with `pay` bytes, checksum field partial (the
 * sender had TUN_F_CSUM) or full. */
static size_t
tcp6(uint8_t *b, size_t pay, uint8_t hlim, bool partial)
{
	size_t n = pg_ipv6(b, H_CLIENT, H_SERVER6, IPPROTO_TCP, hlim, (uint16_t)(20 + pay));

	n += pg_tcp(b + n, CLIENT_PORT, SERVER_PORT, SEQ, ACK, PSH_ACK);
	fill_payload(b + n, pay);
	n += pay;
	if (partial)
		put16(b + 40 + 16, pseudo_partial(b, IPPROTO_TCP, (uint32_t)(20 + pay)));
	else
		pg_fix_l4_csum6(b, n);
	return n;
}

/* server -> mask TCP, DF as given. */
static size_t
tcp4(uint8_t *b, uint16_t mask, size_t pay, uint16_t frag, bool partial)
{
	size_t n =
		pg_ipv4(b, H_SERVER4, H_POOL4, IPPROTO_TCP, 64, 0x4242, frag, (uint16_t)(40 + pay));

	n += pg_tcp(b + n, SERVER_PORT, mask, SEQ, ACK, PSH_ACK);
	fill_payload(b + n, pay);
	n += pay;
	if (partial)
		put16(b + 20 + 16, pseudo_partial(b, IPPROTO_TCP, (uint32_t)(20 + pay)));
	else
		pg_fix_l4_csum4(b, n);
	return n;
}

static const struct gso_hdr tso6 = {
	.flags = GSO_F_NEEDS_CSUM,
	.gso_type = GSO_TCPV6,
	.hdr_len = 60,
	.gso_size = MSS6,
	.csum_start = 40,
	.csum_offset = 16,
};

static const struct gso_hdr tso4 = {
	.flags = GSO_F_NEEDS_CSUM,
	.gso_type = GSO_TCPV4,
	.hdr_len = 40,
	.gso_size = MSS4,
	.csum_start = 20,
	.csum_offset = 16,
};

static const struct gso_hdr csum6 = {
	.flags = GSO_F_NEEDS_CSUM,
	.csum_start = 40,
	.csum_offset = 16,
};

static void
assert_hdr(const struct gso_hdr *got, const struct gso_hdr *exp)
{
	cr_assert_eq(got->flags, exp->flags);
	cr_assert_eq(got->gso_type, exp->gso_type);
	cr_assert_eq(got->hdr_len, exp->hdr_len);
	cr_assert_eq(got->gso_size, exp->gso_size);
	cr_assert_eq(got->csum_start, exp->csum_start);
	cr_assert_eq(got->csum_offset, exp->csum_offset);
}

static void
assert_zero_hdr(const struct gso_hdr *got)
{
	assert_hdr(got, &(struct gso_hdr){0});
}

Test(nat64_gso, bad_headers_change_nothing)
{
	const struct gso_hdr outside = {
		.flags = GSO_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 2000};
	const struct gso_hdr udp_length = {
		.flags = GSO_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 4};
	struct gso_hdr tso_udp = tso6;
	size_t n;

	h_start_default(&h);
	/* NEEDS_CSUM whose field lies past the end: can't be finished. */
	n = tcp6(pkt, 100, 64, true);
	cr_assert_eq(g_input(pkt, n, &outside), STAT_GSO_BAD);
	pg_assert_bytes(h.mem + H_HEAD, n, pkt, n);
	cr_assert_eq(nouts + nreplies, 0);
	/* A TCPV6 super-packet that is UDP: not translatable, not segmentable. */
	n = h_udp6(pkt, H_CLIENT, 6000, H_SERVER6, 53, 64);
	tso_udp.gso_size = 2;
	cr_assert_eq(g_input(pkt, n, &tso_udp), STAT_GSO_BAD);
	pg_assert_bytes(h.mem + H_HEAD, n, pkt, n);
	/* NEEDS_CSUM pointing at the UDP length, not the checksum: finishing
	 * it would overwrite the length (found by fuzz_pipeline). */
	n = h_udp6(pkt, H_CLIENT, 6000, H_SERVER6, 53, 64);
	cr_assert_eq(g_input(pkt, n, &udp_length), STAT_GSO_BAD);
	pg_assert_bytes(h.mem + H_HEAD, n, pkt, n);
	cr_assert_eq(h_stat(&h, STAT_GSO_BAD), 3);
	cr_assert_eq(h_stat(&h, STAT_GSO_REFUSED), 0);
	cr_assert_eq(h_stat(&h, STAT_BIB_CREATED), 0);
	cr_assert_eq(h_stat(&h, STAT_SUCCESS), 0);
	h_stop(&h);
}

/* NULL, or a header of zeros: exactly nat64_input(). */
Test(nat64_gso, zero_header_is_plain_input)
{
	const struct gso_hdr zero = {0};
	uint16_t mask = establish();
	size_t n = tcp6(pkt, 100, 64, false);

	cr_assert_eq(g_input(pkt, n, &zero), STAT_OK);
	cr_assert_eq(nouts, 1);
	assert_zero_hdr(&out_hdrs[0]);
	cr_assert(pg_l4_csum_ok4(outs[0], out_lens[0]));
	cr_assert_eq(h_get16(outs[0] + 20), mask);
	cr_assert_eq(h_stat(&h, STAT_CSUM_PARTIAL), 0);
	h_stop(&h);
}

/* DATA_VALID (checksum verified by the sender's kernel, full): the
 * RFC 1624 update as always, written with a zero header. */
Test(nat64_gso, data_valid_keeps_incremental_update)
{
	const struct gso_hdr valid = {.flags = GSO_F_DATA_VALID};
	size_t n;

	establish();
	n = tcp6(pkt, 100, 64, false);
	cr_assert_eq(g_input(pkt, n, &valid), STAT_OK);
	cr_assert_eq(nouts, 1);
	assert_zero_hdr(&out_hdrs[0]);
	cr_assert(pg_l4_csum_ok4(outs[0], out_lens[0]));
	h_stop(&h);
}

/* The expected IPv4 form of tcp6(pay): TTL 63, `id`, DF. */
static size_t
want_tcp4(uint8_t *b, uint16_t mask, size_t pay, uint16_t id)
{
	size_t n =
		pg_ipv4(b, H_POOL4, H_SERVER4, IPPROTO_TCP, 63, id, 0x4000, (uint16_t)(40 + pay));

	n += pg_tcp(b + n, mask, SERVER_PORT, SEQ, ACK, PSH_ACK);
	fill_payload(b + n, pay);
	return n + pay;
}

/* A super-packet: one IPv4 packet, TCPV4, csum_start and hdr_len - 20,
 * the field the new pseudo-header sum over the whole L4 length. */
Test(nat64_gso, tcpv6_super_packet_translated_once)
{
	uint16_t mask = establish();
	size_t pay = SEGS * MSS6, n = tcp6(pkt, pay, 64, true);
	const struct gso_hdr exp = {GSO_F_NEEDS_CSUM, GSO_TCPV4, 40, MSS6, 20, 16};
	uint16_t id;
	size_t wn;

	cr_assert_eq(g_input(pkt, n, &tso6), STAT_OK);
	cr_assert_eq(nouts, 1);
	assert_hdr(&out_hdrs[0], &exp);
	cr_assert_eq(h.p.len, n - 20);
	id = h_get16(h.p.data + 4);
	wn = want_tcp4(want, mask, pay, id);
	put16(want + 20 + 16, pseudo_partial(want, IPPROTO_TCP, (uint32_t)(20 + pay)));
	h_assert_out(&h, want, wn);
	/* The kernel's segments then carry valid checksums. */
	finish_csum(h.p.data, h.p.len, &exp);
	cr_assert(pg_l4_csum_ok4(h.p.data, h.p.len));
	cr_assert_eq(h_stat(&h, STAT_GSO_TRANSLATED), 1);
	/* Segments 1 and 2 take the next IDs (inet_gso_segment()). */
	n = tcp6(pkt, 100, 64, false);
	cr_assert_eq(g_input(pkt, n, NULL), STAT_OK);
	cr_assert_eq(h_get16(outs[0] + 4), (uint16_t)(id + SEGS));
	h_stop(&h);
}

/* 4->6 mirror: TCPV6, csum_start and hdr_len + 20, IPv6 pseudo-header. */
Test(nat64_gso, tcpv4_super_packet_translated_once)
{
	uint16_t mask = establish();
	size_t pay = SEGS * MSS4, n = tcp4(pkt, mask, pay, 0x4000, true);
	const struct gso_hdr exp = {GSO_F_NEEDS_CSUM, GSO_TCPV6, 60, MSS4, 40, 16};
	struct nat64_params p;
	struct globals g;
	size_t wn;

	/* Segments of 1460 + 60 = 1520 bytes don't fit the IPv6 MTU 1500. */
	cr_assert_eq(g_input(pkt, n, &tso4), STAT_GSO_SEGMENTED);
	h_stop(&h);

	h_defaults(&g, &p);
	p.mtu6 = 1520;
	h_start(&h, &g, &p);
	h_pool4(&h, L4_TCP, H_POOL4, 32, 1, 65535);
	n = h_tcp6(pkt, H_CLIENT, CLIENT_PORT, H_SERVER6, SERVER_PORT, PG_TCP_SYN, 64);
	cr_assert_eq(h_input(&h, pkt, n), STAT_OK);
	mask = h_get16(h.p.data + 20);
	n = h_tcp4(pkt, H_SERVER4, SERVER_PORT, H_POOL4, mask, PG_TCP_SYN | PG_TCP_ACK, 64, 7);
	cr_assert_eq(h_input(&h, pkt, n), STAT_OK);
	n = tcp4(pkt, mask, pay, 0x4000, true);
	cr_assert_eq(g_input(pkt, n, &tso4), STAT_OK);
	cr_assert_eq(nouts, 1);
	assert_hdr(&out_hdrs[0], &exp);
	wn = pg_ipv6(want, H_SERVER6, H_CLIENT, IPPROTO_TCP, 63, (uint16_t)(20 + pay));
	wn += pg_tcp(want + wn, SERVER_PORT, CLIENT_PORT, SEQ, ACK, PSH_ACK);
	fill_payload(want + wn, pay);
	wn += pay;
	put16(want + 40 + 16, pseudo_partial(want, IPPROTO_TCP, (uint32_t)(20 + pay)));
	h_assert_out(&h, want, wn);
	finish_csum(h.p.data, h.p.len, &exp);
	cr_assert(pg_l4_csum_ok6(h.p.data, h.p.len, 40, IPPROTO_TCP));
	cr_assert_eq(h_stat(&h, STAT_GSO_TRANSLATED), 1);
	h_stop(&h);
}

/* A packet of one segment with NEEDS_CSUM (any local sender once
 * TUN_F_CSUM is on): stays partial, with the IPv4 pseudo-header. */
Test(nat64_gso, partial_checksum_without_gso)
{
	uint16_t mask = establish();
	size_t n = tcp6(pkt, 100, 64, true);
	const struct gso_hdr exp = {GSO_F_NEEDS_CSUM, GSO_NONE, 0, 0, 20, 16};
	size_t wn;

	cr_assert_eq(g_input(pkt, n, &csum6), STAT_OK);
	assert_hdr(&out_hdrs[0], &exp);
	wn = want_tcp4(want, mask, 100, h_get16(h.p.data + 4));
	/* 140 bytes: DF clear (RFC 7915 §5.1, <= 1260). */
	want[6] = 0;
	pg_ipv4_fix_csum(want);
	put16(want + 20 + 16, pseudo_partial(want, IPPROTO_TCP, 120));
	h_assert_out(&h, want, wn);
	cr_assert_eq(h_stat(&h, STAT_CSUM_PARTIAL), 1);
	h_stop(&h);
}

/* A partial checksum whose start lies in the IP header (no kernel makes
 * one) is refused before anything is written there: the packet, its
 * addresses included, stays as it came and no ICMP error goes anywhere. */
Test(nat64_gso, csum_start_in_the_ip_header_is_refused)
{
	struct gso_hdr bad = csum6;
	size_t n;

	establish();
	bad.csum_start = 16; /* inside the source address */
	bad.csum_offset = 0;
	n = tcp6(pkt, 100, 1, true); /* hop limit 1: would answer Time Exceeded */
	cr_assert_eq(g_input(pkt, n, &bad), STAT_GSO_BAD);
	pg_assert_bytes(h.mem + H_HEAD, n, pkt, n);
	cr_assert_eq(nouts + nreplies, 0);
	h_stop(&h);
}

/* An ICMP error quoting a partial-checksum packet quotes it finished. */
Test(nat64_gso, icmp_error_quotes_finished_checksum)
{
	size_t n;
	const uint8_t *q;

	establish();
	n = tcp6(pkt, 100, 1, true); /* hop limit 1: Time Exceeded */
	cr_assert_eq(g_input(pkt, n, &csum6), STAT_XLAT64_HOP_LIMIT);
	cr_assert_eq(nreplies, 1);
	cr_assert_eq(reply_lens[0], 48 + n);
	q = replies[0] + 48;
	cr_assert(pg_l4_csum_ok6(q, n, 40, IPPROTO_TCP));
	cr_assert(pg_l4_csum_ok6(replies[0], reply_lens[0], 40, IPPROTO_ICMPV6));
	cr_assert_eq(h_stat(&h, STAT_CSUM_SOFTWARE), 1);
	h_stop(&h);
}

/* A super-packet whose segments each get an ICMP error: segmented first,
 * one error per segment, each quoting its segment with a full checksum. */
Test(nat64_gso, super_packet_errors_are_per_segment)
{
	struct gso_hdr small = tso6;
	size_t n;

	establish();
	small.gso_size = 100;
	n = tcp6(pkt, 3 * 100, 1, true);
	cr_assert_eq(g_input(pkt, n, &small), STAT_GSO_SEGMENTED);
	cr_assert_eq(nouts, 0);
	cr_assert_eq(nreplies, 3);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *q = replies[i] + 48;

		cr_assert_eq(reply_lens[i], 48 + 160);
		cr_assert_eq(replies[i][40], 3); /* Time Exceeded */
		cr_assert(pg_l4_csum_ok6(q, 160, 40, IPPROTO_TCP), "segment %u", i);
		cr_assert_eq(h_get16(q + 40 + 6), SEQ + i * 100);
		for (unsigned k = 0; k < 100; k++)
			cr_assert_eq(q[60 + k], payload_byte(i * 100 + k));
	}
	cr_assert_eq(h_stat(&h, STAT_GSO_SEGMENTED), 1);
	cr_assert_eq(h_stat(&h, STAT_XLAT64_HOP_LIMIT), 3);
	h_stop(&h);
}

/* An error the later steps record about a super-packet (no BIB entry
 * for a 4->6 UDP super-packet: ICMPv4 3/3) quotes it, finished. */
Test(nat64_gso, error_about_super_packet_quotes_it_finished)
{
	const struct gso_hdr uso = {GSO_F_NEEDS_CSUM, GSO_UDP_L4, 28, 100, 20, 6};
	size_t n;

	h_start_default(&h);
	n = pg_ipv4(pkt, H_SERVER4, H_POOL4, IPPROTO_UDP, 64, 9, 0x4000, 20 + 8 + 300);
	n += pg_udp(pkt + n, 53, 7000, 300);
	fill_payload(pkt + n, 300);
	n += 300;
	put16(pkt + 26, pseudo_partial(pkt, IPPROTO_UDP, 308));
	cr_assert_eq(g_input(pkt, n, &uso), STAT_BIB4_NOT_FOUND);
	cr_assert_eq(nreplies, 1);
	cr_assert_eq(reply_lens[0], 28 + n);
	cr_assert(pg_l4_csum_ok4(replies[0] + 28, n));
	h_stop(&h);
}

/* The packet outs[2 * i] and outs[2 * i + 1] (two IPv6 fragments, each
 * with a Fragment header) were cut from, rebuilt in `whole` with
 * next header `proto`; returns the L4 length. */
static uint32_t
reassemble_pair(unsigned i, uint8_t proto, uint8_t *whole)
{
	const uint8_t *f1 = outs[2 * i], *f2 = outs[2 * i + 1];
	uint32_t l1 = out_lens[2 * i] - 48, l2 = out_lens[2 * i + 1] - 48;

	cr_assert_eq(f1[6], 44);
	cr_assert_leq(out_lens[2 * i], 1280);
	assert_zero_hdr(&out_hdrs[2 * i]);
	assert_zero_hdr(&out_hdrs[2 * i + 1]);
	memcpy(whole, f1, 40);
	whole[6] = proto;
	put16(whole + 4, (uint16_t)(l1 + l2));
	memcpy(whole + 40, f1 + 48, l1);
	memcpy(whole + 40 + l1, f2 + 48, l2);
	return l1 + l2;
}

/* 4->6, DF clear, segments above lowest-ipv6-mtu (1280): segmented,
 * each segment translated and cut into IPv6 fragments (RFC 7915 §4). */
Test(nat64_gso, df_clear_super_packet_segmented_and_fragmented)
{
	uint16_t mask = establish();
	size_t pay = SEGS * MSS4, n = tcp4(pkt, mask, pay, 0, true);
	uint8_t whole[1600];

	cr_assert_eq(g_input(pkt, n, &tso4), STAT_GSO_SEGMENTED);
	cr_assert_eq(nouts, 2 * SEGS);
	for (unsigned i = 0; i < SEGS; i++) {
		uint32_t l4 = reassemble_pair(i, IPPROTO_TCP, whole);

		cr_assert_eq(l4, 20 + MSS4);
		cr_assert(pg_l4_csum_ok6(whole, 40 + l4, 40, IPPROTO_TCP), "segment %u", i);
		cr_assert_eq(h_get16(whole + 40 + 6), SEQ + i * MSS4);
		for (unsigned k = 0; k < MSS4; k++)
			cr_assert_eq(whole[60 + k], payload_byte(i * MSS4 + k));
	}
	cr_assert_eq(h_stat(&h, STAT_GSO_SEGMENTED), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAGMENTED_OUT), SEGS);
	h_stop(&h);
}

/* A header gso_translate() refuses (hdr_len inside the IPv6 header) but
 * the packet is fine: refused, counted, segmented, every segment sent. */
Test(nat64_gso, refused_header_segmented)
{
	struct gso_hdr bad = tso6;
	size_t pay = SEGS * MSS6, n;

	establish();
	bad.hdr_len = 10;
	n = tcp6(pkt, pay, 64, true);
	cr_assert_eq(g_input(pkt, n, &bad), STAT_GSO_SEGMENTED);
	cr_assert_eq(nouts, SEGS);
	for (unsigned i = 0; i < SEGS; i++) {
		assert_zero_hdr(&out_hdrs[i]);
		cr_assert_eq(out_lens[i], 40 + MSS6);
		cr_assert(pg_l4_csum_ok4(outs[i], out_lens[i]), "segment %u", i);
		cr_assert(pg_ipv4_csum_ok(outs[i]));
	}
	cr_assert_eq(h_stat(&h, STAT_GSO_REFUSED), 1);
	cr_assert_eq(h_stat(&h, STAT_GSO_SEGMENTED), 1);
	h_stop(&h);
}

/* A TCPV6 super-packet whose csum_start is not its TCP header (40 here,
 * the parser's transport offset): segmenting it would take payload bytes
 * for the TCP header (sequence numbers and checksum written into the
 * payload, segments sent with wrong checksums). Dropped as GSO_BAD, like
 * a TCPV4 one (gso_seg_begin() checks csum_start against the IHL).
 * Found by fuzz_pipeline. */
Test(nat64_gso, csum_start_elsewhere_is_not_segmented)
{
	struct gso_hdr bad = tso6;
	size_t n;

	establish();
	bad.csum_start = 59;
	n = tcp6(pkt, SEGS * MSS6, 64, true);
	cr_assert_eq(g_input(pkt, n, &bad), STAT_GSO_BAD);
	pg_assert_bytes(h.mem + H_HEAD, n, pkt, n);
	cr_assert_eq(nouts + nreplies, 0);
	cr_assert_eq(h_stat(&h, STAT_GSO_SEGMENTED), 0);
	h_stop(&h);
}

/* 4->6 partial checksum, DF clear, above 1280: fragmented, so the
 * checksum is finished first (fragments go with a zero header). */
Test(nat64_gso, partial_checksum_fragmented_is_finished)
{
	const struct gso_hdr csum4 = {
		.flags = GSO_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16};
	uint16_t mask = establish();
	size_t n = tcp4(pkt, mask, 1400, 0, true);
	uint8_t whole[1600];
	uint32_t l1, l2;

	cr_assert_eq(g_input(pkt, n, &csum4), STAT_OK);
	cr_assert_eq(nouts, 2);
	assert_zero_hdr(&out_hdrs[0]);
	assert_zero_hdr(&out_hdrs[1]);
	l1 = out_lens[0] - 48;
	l2 = out_lens[1] - 48;
	memcpy(whole, outs[0], 40);
	whole[6] = IPPROTO_TCP;
	put16(whole + 4, (uint16_t)(l1 + l2));
	memcpy(whole + 40, outs[0] + 48, l1);
	memcpy(whole + 40 + l1, outs[1] + 48, l2);
	cr_assert(pg_l4_csum_ok6(whole, 40 + l1 + l2, 40, IPPROTO_TCP));
	cr_assert_eq(h_stat(&h, STAT_CSUM_SOFTWARE), 1);
	h_stop(&h);
}

/* Hairpinning (RFC 6146 §3.8) runs the 4->6 steps again: segmented. */
Test(nat64_gso, hairpinned_super_packet_segmented)
{
	size_t pay = SEGS * MSS6, n;

	h_start_default(&h);
	h_bib(&h, L4_TCP, H_CLIENT2, 80, H_POOL4, 8080);
	n = pg_ipv6(pkt, H_CLIENT, H_POOL4_6, IPPROTO_TCP, 64, (uint16_t)(20 + pay));
	n += pg_tcp(pkt + n, CLIENT_PORT, 8080, SEQ, 0, PG_TCP_SYN);
	n += pay;
	fill_payload(pkt + 60, pay);
	put16(pkt + 56, pseudo_partial(pkt, IPPROTO_TCP, (uint32_t)(20 + pay)));
	cr_assert_eq(g_input(pkt, n, &tso6), STAT_GSO_SEGMENTED);
	cr_assert_eq(nouts, SEGS);
	for (unsigned i = 0; i < SEGS; i++) {
		cr_assert_eq(outs[i][0] >> 4, 6);
		cr_assert(pg_l4_csum_ok6(outs[i], out_lens[i], 40, IPPROTO_TCP), "segment %u", i);
	}
	cr_assert_eq(h_stat(&h, STAT_HAIRPINNED), SEGS);
	h_stop(&h);
}

/* UDP (not USO) with NEEDS_CSUM: finished here, sent with a zero header,
 * so an ICMP error about it quotes a real checksum wherever it lands. */
Test(nat64_gso, udp_partial_checksum_finished)
{
	const struct gso_hdr csum_udp = {
		.flags = GSO_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 6};
	size_t n;

	h_start_default(&h);
	n = h_udp6(pkt, H_CLIENT, 6000, H_SERVER6, 53, 64);
	put16(pkt + 46, pseudo_partial(pkt, IPPROTO_UDP, (uint32_t)(n - 40)));
	cr_assert_eq(g_input(pkt, n, &csum_udp), STAT_OK);
	cr_assert_eq(nouts, 1);
	assert_zero_hdr(&out_hdrs[0]);
	cr_assert(pg_l4_csum_ok4(outs[0], out_lens[0]));
	cr_assert_eq(h_stat(&h, STAT_CSUM_SOFTWARE), 1);
	cr_assert_eq(h_stat(&h, STAT_CSUM_PARTIAL), 0);
	h_stop(&h);
}

/* A 4->6 SYN may wait in the syn queue to be quoted: finished here. */
Test(nat64_gso, ipv4_syn_partial_checksum_finished)
{
	const struct gso_hdr csum4 = {
		.flags = GSO_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16};
	size_t n;

	h_start_default(&h);
	h_bib(&h, L4_TCP, H_CLIENT, 80, H_POOL4, 8080);
	n = h_tcp4(pkt, H_SERVER4, 4000, H_POOL4, 8080, PG_TCP_SYN, 64, 3);
	put16(pkt + 36, pseudo_partial(pkt, IPPROTO_TCP, 20));
	cr_assert_eq(g_input(pkt, n, &csum4), STAT_OK);
	cr_assert_eq(nouts, 1);
	assert_zero_hdr(&out_hdrs[0]);
	cr_assert(pg_l4_csum_ok6(outs[0], out_lens[0], 40, IPPROTO_TCP));
	cr_assert_eq(h_stat(&h, STAT_CSUM_SOFTWARE), 1);
	h_stop(&h);
}

/* 4->6 USO super-packet (QUIC-sized datagrams, 1472 bytes of payload: 1500
 * as IPv4, 1520 as IPv6) with DF clear: segmented in software, each
 * datagram translated alone and cut into IPv6 fragments (RFC 7915 §4),
 * payload and checksum intact. Before, it was dropped as GSO_BAD. */
Test(nat64_gso, uso_super_packet_segmented_and_fragmented)
{
	const uint16_t dgram = 1472;
	const struct gso_hdr uso = {GSO_F_NEEDS_CSUM, GSO_UDP_L4, 0, dgram, 20, 6};
	uint16_t mask;
	size_t n;
	uint8_t whole[1600];

	h_start_default(&h);
	n = h_udp6(pkt, H_CLIENT, CLIENT_PORT, H_SERVER6, 443, 64);
	cr_assert_eq(g_input(pkt, n, NULL), STAT_OK);
	mask = h_get16(outs[0] + 20);
	n = pg_ipv4(pkt, H_SERVER4, H_POOL4, IPPROTO_UDP, 64, 9, 0, 20 + 8 + SEGS * dgram);
	n += pg_udp(pkt + n, 443, mask, SEGS * dgram);
	for (size_t k = 0; k < SEGS * dgram; k++)
		pkt[n + k] = payload_byte(k);
	n += SEGS * dgram;
	put16(pkt + 26, pseudo_partial(pkt, IPPROTO_UDP, 8 + SEGS * dgram));

	cr_assert_eq(g_input(pkt, n, &uso), STAT_GSO_SEGMENTED);
	cr_assert_eq(nouts, 2 * SEGS);
	for (unsigned i = 0; i < SEGS; i++) {
		uint32_t l4 = reassemble_pair(i, IPPROTO_UDP, whole);

		cr_assert_eq(l4, 8 + dgram);
		cr_assert_eq(h_get16(whole + 40 + 2), CLIENT_PORT);
		cr_assert_eq(h_get16(whole + 40 + 4), 8 + dgram);
		cr_assert(pg_l4_csum_ok6(whole, 40 + l4, 40, IPPROTO_UDP), "datagram %u", i);
		for (unsigned k = 0; k < dgram; k++)
			cr_assert_eq(whole[48 + k], payload_byte(i * dgram + k));
	}
	cr_assert_eq(h_stat(&h, STAT_GSO_SEGMENTED), 1);
	cr_assert_eq(h_stat(&h, STAT_FRAGMENTED_OUT), SEGS);
	cr_assert_eq(h_stat(&h, STAT_GSO_BAD), 0);
	h_stop(&h);
}
