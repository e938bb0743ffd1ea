/*
 * core/gso.c: virtio_net_hdr translation, partial checksums, software
 * segmentation. Checksums are checked with pktgen's independent ref_csum():
 * a partial checksum is "finished" the way a NIC (or skb_checksum_help())
 * does, summing from csum_start to the end and storing the complement.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "gso.h"
#include "pktgen.h"

enum { MSS = 1000, PAYLOAD = 2500 };

static uint8_t gso_payload[PAYLOAD];

static void
fill_payload(void)
{
	for (size_t i = 0; i < sizeof(gso_payload); i++)
		gso_payload[i] = (uint8_t)(i * 31 + 7);
}

static const struct gso_hdr tcp6_hdr = {
	.flags = GSO_F_NEEDS_CSUM,
	.gso_type = GSO_TCPV6,
	.hdr_len = 60,
	.gso_size = MSS,
	.csum_start = 40,
	.csum_offset = 16,
};

/* IPv4 TCP super-packet 192.0.2.1:4000 -> 198.51.100.2:80, ID 0x1234, DF. */
static size_t
build_tcp4(uint8_t *p, uint8_t flags)
{
	size_t n = pg_ipv4(p, "192.0.2.1", "198.51.100.2", 6, 64, 0x1234, 0x4000, 40 + PAYLOAD);

	n += pg_tcp(p + n, 4000, 80, 100000, 5, flags);
	memcpy(p + n, gso_payload, PAYLOAD);
	pg_fix_l4_csum4(p, n + PAYLOAD);
	return n + PAYLOAD;
}

/* IPv6 TCP super-packet 2001:db8::1:4000 -> 64:ff9b::c633:6402:80. */
static size_t
build_tcp6(uint8_t *p, uint8_t flags)
{
	size_t n = pg_ipv6(p, "2001:db8::1", "64:ff9b::c633:6402", 6, 64, 20 + PAYLOAD);

	n += pg_tcp(p + n, 4000, 80, 100000, 5, flags);
	memcpy(p + n, gso_payload, PAYLOAD);
	pg_fix_l4_csum6(p, n + PAYLOAD);
	return n + PAYLOAD;
}

/* A NIC finishing a partial checksum: complement of the sum from
 * csum_start to the end (the field holds the pseudo-header part). */
static void
finish_csum(uint8_t *pkt, size_t len, const struct gso_hdr *h)
{
	uint16_t c = ref_csum(pkt + h->csum_start, len - h->csum_start, NULL, 0);

	pkt[h->csum_start + h->csum_offset] = (uint8_t)(c >> 8);
	pkt[h->csum_start + h->csum_offset + 1] = (uint8_t)c;
}

/* virtio spec §5.1.6: 16-bit fields little-endian (TUNSETVNETLE). */
Test(gso, hdr_read_short_buffer_leaves_header)
{
	const uint8_t b[GSO_HDR_LEN] = {1, 4, 60, 0, 0xe8, 3, 40, 0, 16, 0};
	struct gso_hdr h, before;

	memset(&h, 0xa5, sizeof(h));
	before = h;
	cr_assert_eq(gso_hdr_read(b, GSO_HDR_LEN - 1, &h), GSO_ERR_SHORT);
	cr_assert_eq(gso_hdr_read(NULL, GSO_HDR_LEN, &h), GSO_ERR_SHORT);
	cr_assert_arr_eq(&h, &before, sizeof(h));
}

Test(gso, hdr_read_write_little_endian_byte_exact)
{
	const uint8_t b[GSO_HDR_LEN] = {1, 4, 60, 0, 0xe8, 3, 40, 0, 16, 0};
	uint8_t out[GSO_HDR_LEN];
	struct gso_hdr h;

	cr_assert_eq(gso_hdr_read(b, sizeof(b), &h), GSO_OK);
	cr_assert_eq(h.flags, GSO_F_NEEDS_CSUM);
	cr_assert_eq(h.gso_type, GSO_TCPV6);
	cr_assert_eq(h.hdr_len, 60);
	cr_assert_eq(h.gso_size, 1000);
	cr_assert_eq(h.csum_start, 40);
	cr_assert_eq(h.csum_offset, 16);
	gso_hdr_write(&h, out);
	pg_assert_bytes(out, sizeof(out), b, sizeof(b));
}

static const struct gso_layout six_to_four = {.version_new = 4,
					      .l4proto = IPPROTO_TCP,
					      .l3_old = 40,
					      .l3_new = 20,
					      .l4_len = 20 + PAYLOAD};

Test(gso, translate_bad_input_changes_nothing)
{
	struct gso_hdr out, before, in;
	struct gso_layout lay = six_to_four;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	in = tcp6_hdr;
	in.gso_type = GSO_UDP; /* UFO */
	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_ERR_TYPE);
	in = tcp6_hdr;
	in.gso_type = GSO_TCPV4; /* says IPv4, but the packet was IPv6 */
	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_ERR_FAMILY);
	lay.l4proto = IPPROTO_UDP;
	cr_assert_eq(gso_translate(&tcp6_hdr, &lay, &out), GSO_ERR_PROTO);
	lay = six_to_four;
	in = tcp6_hdr;
	in.flags = 0;
	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_ERR_NO_CSUM);
	in = tcp6_hdr;
	in.csum_start = 48; /* an extension header the translator did not count */
	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_ERR_CSUM_START);
	in = tcp6_hdr;
	in.csum_offset = 6;
	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_ERR_CSUM_OFFSET);
	in = tcp6_hdr;
	in.hdr_len = 30;
	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_ERR_HDR_LEN);
	in = tcp6_hdr;
	in.gso_size = 0;
	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_ERR_SIZE);
	/* RFC 791: Total Length is 16 bits; 65516 L4 bytes + 20 do not fit. */
	lay.l4_len = 65516;
	cr_assert_eq(gso_translate(&tcp6_hdr, &lay, &out), GSO_ERR_TOO_BIG);
	lay = six_to_four;
	lay.version_new = 5;
	cr_assert_eq(gso_translate(&tcp6_hdr, &lay, &out), GSO_ERR_FAMILY);
	cr_assert_arr_eq(&out, &before, sizeof(out));
}

/* RFC 7915 §5.1: 40-byte IPv6 header becomes a 20-byte IPv4 header. */
Test(gso, translate_tcpv6_to_tcpv4_shifts_by_20_keeps_mss_and_ecn)
{
	const uint8_t want[GSO_HDR_LEN] = {1, 0x81, 40, 0, 0xe8, 3, 20, 0, 16, 0};
	struct gso_hdr in = tcp6_hdr, out;
	uint8_t got[GSO_HDR_LEN];

	in.gso_type |= GSO_ECN;
	cr_assert_eq(gso_translate(&in, &six_to_four, &out), GSO_OK);
	gso_hdr_write(&out, got);
	pg_assert_bytes(got, sizeof(got), want, sizeof(want));
}

/* RFC 7915 §4.1: IPv4 options are not translated, so a 24-byte IPv4
 * header becomes 40 bytes (+16); gso_size (the MSS) stays. */
Test(gso, translate_tcpv4_with_options_to_tcpv6)
{
	const struct gso_hdr in = {GSO_F_NEEDS_CSUM, GSO_TCPV4, 44, 1460, 24, 16};
	const struct gso_layout lay = {6, IPPROTO_TCP, 24, 40, 20 + 4 * 1460};
	const uint8_t want[GSO_HDR_LEN] = {1, 4, 60, 0, 0xb4, 5, 40, 0, 16, 0};
	uint8_t got[GSO_HDR_LEN];
	struct gso_hdr out;

	cr_assert_eq(gso_translate(&in, &lay, &out), GSO_OK);
	gso_hdr_write(&out, got);
	pg_assert_bytes(got, sizeof(got), want, sizeof(want));
}

Test(gso, translate_udp_l4_keeps_type_and_non_gso_keeps_none)
{
	const struct gso_hdr uso = {
		GSO_F_NEEDS_CSUM | GSO_F_DATA_VALID, GSO_UDP_L4, 28, 1200, 20, 6};
	const struct gso_layout lay = {6, IPPROTO_UDP, 20, 40, 8 + 3 * 1200};
	const struct gso_hdr plain = {0, GSO_NONE, 0, 0, 0, 0};
	const struct gso_layout icmp = {4, IPPROTO_ICMPV6, 40, 20, 64};
	struct gso_hdr out;

	cr_assert_eq(gso_translate(&uso, &lay, &out), GSO_OK);
	cr_assert_eq(out.gso_type, GSO_UDP_L4);
	cr_assert_eq(out.flags, GSO_F_NEEDS_CSUM | GSO_F_DATA_VALID);
	cr_assert_eq(out.hdr_len, 48);
	cr_assert_eq(out.csum_start, 40);
	cr_assert_eq(out.csum_offset, 6);
	cr_assert_eq(out.gso_size, 1200);
	/* No offload at all (e.g. ICMP): the header passes through unchanged. */
	cr_assert_eq(gso_translate(&plain, &icmp, &out), GSO_OK);
	cr_assert_arr_eq(&out, &plain, sizeof(out));
}

Test(gso, pseudo_csum_bad_input_leaves_packet)
{
	uint8_t pkt[4096], before[4096];
	struct gso_hdr h = {GSO_F_NEEDS_CSUM, GSO_TCPV4, 40, MSS, 20, 16};
	size_t len;

	fill_payload();
	len = build_tcp4(pkt, PG_TCP_ACK);
	len = 40 + 100; /* the first 100 payload bytes are enough here */
	pkt[2] = 0, pkt[3] = (uint8_t)len;
	memcpy(before, pkt, len);
	cr_assert_eq(gso_pseudo_csum(pkt, 10, &h, IPPROTO_TCP), GSO_ERR_SHORT);
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_ICMP), GSO_ERR_PROTO);
	h.csum_offset = 6;
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_TCP), GSO_ERR_CSUM_OFFSET);
	h.csum_offset = 16;
	h.csum_start = 12;
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_TCP), GSO_ERR_CSUM_START);
	h.csum_start = (uint16_t)(len - 17);
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_TCP), GSO_ERR_SHORT);
	pkt[0] = 0x55;
	h.csum_start = 20;
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_TCP), GSO_ERR_PACKET);
	pkt[0] = 0x45;
	pg_assert_bytes(pkt, len, before, len);
}

/*
 * A 6->4 translated TSO packet: the translator rewrote the addresses, so
 * the IPv6 partial sum in the field is stale. gso_pseudo_csum() replaces it
 * with the IPv4 pseudo-header sum (whole L4 length, as tcp_v4_send_check()
 * writes it); finishing it yields a correct checksum, and so does the
 * kernel's per-segment length swap (tcp_gso_segment()).
 */
Test(gso, pseudo_csum_replaces_the_sum_so_finishing_gives_a_valid_packet)
{
	uint8_t pkt[4096], pseudo[12] = {192, 0, 2, 1, 198, 51, 100, 2, 0, 6};
	struct gso_hdr h = {GSO_F_NEEDS_CSUM, GSO_TCPV4, 40, MSS, 20, 16};
	size_t len, l4_len = 20 + PAYLOAD;
	uint16_t field, want;

	fill_payload();
	len = build_tcp4(pkt, PG_TCP_ACK);
	pkt[36] = 0xde, pkt[37] = 0xad; /* stale value from the IPv6 packet */
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_TCP), GSO_OK);
	pseudo[10] = (uint8_t)(l4_len >> 8), pseudo[11] = (uint8_t)l4_len;
	want = (uint16_t)~ref_csum(pseudo, sizeof(pseudo), NULL, 0);
	field = (uint16_t)(pkt[36] << 8 | pkt[37]);
	cr_assert_eq(field, want, "field %#06x want %#06x", field, want);
	finish_csum(pkt, len, &h);
	cr_assert(pg_l4_csum_ok4(pkt, len));

	/* The kernel's segmentation: field - len(super) + len(segment). */
	uint8_t seg[2048];
	uint32_t s;

	memcpy(seg, pkt, 40 + MSS);
	seg[2] = (uint8_t)((40 + MSS) >> 8), seg[3] = (uint8_t)(40 + MSS);
	pg_ipv4_fix_csum(seg);
	s = (uint32_t)field + (uint16_t)~l4_len + (20 + MSS);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	seg[36] = (uint8_t)(s >> 8), seg[37] = (uint8_t)s;
	finish_csum(seg, 40 + MSS, &h);
	cr_assert(pg_l4_csum_ok4(seg, 40 + MSS));
}

Test(gso, pseudo_csum_ipv6_udp_and_no_needs_csum)
{
	uint8_t pkt[256], before[256];
	struct gso_hdr h = {GSO_F_NEEDS_CSUM, GSO_NONE, 0, 0, 40, 6};
	size_t len;

	len = pg_ipv6(pkt, "2001:db8::1", "2001:db8::2", 17, 64, 8 + 34);
	len += pg_udp(pkt + len, 53, 5353, 34);
	memset(pkt + len, 0x42, 34);
	len += 34;
	memcpy(before, pkt, len);
	h.flags = 0; /* full checksum: nothing to do */
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_UDP), GSO_OK);
	pg_assert_bytes(pkt, len, before, len);
	h.flags = GSO_F_NEEDS_CSUM;
	cr_assert_eq(gso_pseudo_csum(pkt, len, &h, IPPROTO_UDP), GSO_OK);
	cr_assert(!pg_l4_csum_ok6(pkt, len, 40, 17), "partial is not a full checksum");
	finish_csum(pkt, len, &h);
	cr_assert(pg_l4_csum_ok6(pkt, len, 40, 17));
}

Test(gso, seg_bad_input_leaves_iterator)
{
	uint8_t pkt[4096];
	struct gso_hdr h = {GSO_F_NEEDS_CSUM, GSO_TCPV4, 40, MSS, 20, 16};
	struct gso_seg it, before;
	size_t len;

	fill_payload();
	len = build_tcp4(pkt, PG_TCP_ACK);
	memset(&it, 0x77, sizeof(it));
	before = it;
	h.gso_type = GSO_UDP; /* UFO: never segmented here */
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_TYPE);
	h.gso_type = GSO_UDP_L4; /* a UDP header offset on a TCP packet */
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_CSUM_OFFSET);
	h.csum_offset = 6;
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_PROTO);
	h.csum_offset = 16;
	h.gso_type = GSO_TCPV6;
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_FAMILY);
	h.gso_type = GSO_TCPV4;
	h.gso_size = 0;
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_SIZE);
	h.gso_size = MSS;
	cr_assert_eq(gso_seg_begin(&it, pkt, len - 1, &h), GSO_ERR_PACKET);
	cr_assert_eq(gso_seg_begin(&it, pkt, 10, &h), GSO_ERR_SHORT);
	h.csum_start = 24;
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_CSUM_START);
	h.csum_start = 20;
	pkt[6] |= 0x20; /* MF: a fragment */
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_FRAGMENT);
	pkt[6] &= (uint8_t)~0x20;
	pkt[9] = 17;
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_PROTO);
	pkt[9] = 6;
	h.flags = 0;
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_NO_CSUM);
	cr_assert_arr_eq(&it, &before, sizeof(it));
}

/* The segments as the kernel's tcp_gso_segment() + inet_gso_segment()
 * produce them, built independently with pktgen. */
static size_t
want_seg4(uint8_t *p, uint32_t i, size_t pay, uint8_t flags)
{
	size_t n = pg_ipv4(p, "192.0.2.1", "198.51.100.2", 6, 64, (uint16_t)(0x1234 + i), 0x4000,
			   (uint16_t)(40 + pay));

	n += pg_tcp(p + n, 4000, 80, 100000 + i * MSS, 5, flags);
	memcpy(p + n, gso_payload + i * MSS, pay);
	pg_fix_l4_csum4(p, n + pay);
	return n + pay;
}

Test(gso, seg_tcp4_byte_exact_ids_seqs_flags_checksums)
{
	uint8_t pkt[4096], out[2048], want[2048];
	const struct gso_hdr h = {GSO_F_NEEDS_CSUM, GSO_TCPV4, 40, MSS, 20, 16};
	const size_t pays[] = {MSS, MSS, PAYLOAD - 2 * MSS};
	struct gso_seg it;
	size_t len, n;

	fill_payload();
	len = build_tcp4(pkt, PG_TCP_ACK | 0x08 | PG_TCP_FIN);
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_OK);
	cr_assert_eq(gso_seg_max_len(&it), 40 + MSS);
	cr_assert_eq(gso_seg_next(&it, out, 40 + MSS - 1, &n), GSO_ERR_SPACE);
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t flags = i == 2 ? PG_TCP_ACK | 0x08 | PG_TCP_FIN : PG_TCP_ACK;
		size_t wl = want_seg4(want, i, pays[i], flags);

		cr_assert_eq(gso_seg_next(&it, out, sizeof(out), &n), GSO_OK);
		pg_assert_bytes(out, n, want, wl);
		cr_assert(pg_l4_csum_ok4(out, n));
		cr_assert(pg_ipv4_csum_ok(out));
	}
	cr_assert_eq(gso_seg_next(&it, out, sizeof(out), &n), GSO_OK);
	cr_assert_eq(n, 0);
}

/* IPv6: no ID; CWR only on the first segment (RFC 3168 §6.1.2: one CWR per
 * window reduction), FIN/PSH only on the last. */
Test(gso, seg_tcp6_cwr_first_fin_psh_last)
{
	uint8_t pkt[4096], out[2048], want[2048];
	struct gso_hdr h = tcp6_hdr;
	struct gso_seg it;
	size_t len, n;

	fill_payload();
	len = build_tcp6(pkt, 0x80 | PG_TCP_ACK | 0x08 | PG_TCP_FIN);
	cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_OK);
	for (uint32_t i = 0; i < 3; i++) {
		size_t pay = i < 2 ? MSS : PAYLOAD - 2 * MSS, wl;
		uint8_t flags = PG_TCP_ACK | (i == 0 ? 0x80 : 0) | (i == 2 ? 0x08 | PG_TCP_FIN : 0);

		wl = pg_ipv6(want, "2001:db8::1", "64:ff9b::c633:6402", 6, 64,
			     (uint16_t)(20 + pay));
		wl += pg_tcp(want + wl, 4000, 80, 100000 + i * MSS, 5, flags);
		memcpy(want + wl, gso_payload + i * MSS, pay);
		pg_fix_l4_csum6(want, wl + pay);
		cr_assert_eq(gso_seg_next(&it, out, sizeof(out), &n), GSO_OK);
		pg_assert_bytes(out, n, want, wl + pay);
		cr_assert(pg_l4_csum_ok6(out, n, 40, 6));
	}
	cr_assert_eq(gso_seg_next(&it, out, sizeof(out), &n), GSO_OK);
	cr_assert_eq(n, 0);
}

/* UDP super-packet (USO) 192.0.2.1:4000 -> 198.51.100.2:443 or its IPv6
 * form: the UDP length covers the whole payload, as the kernel sends it. */
static size_t
build_udp(uint8_t *p, int version)
{
	size_t n = version == 4
			   ? pg_ipv4(p, "192.0.2.1", "198.51.100.2", 17, 64, 0x1234, 0x4000,
				     20 + 8 + PAYLOAD)
			   : pg_ipv6(p, "2001:db8::1", "64:ff9b::c633:6402", 17, 64, 8 + PAYLOAD);

	n += pg_udp(p + n, 4000, 443, PAYLOAD);
	memcpy(p + n, gso_payload, PAYLOAD);
	if (version == 4)
		pg_fix_l4_csum4(p, n + PAYLOAD);
	else
		pg_fix_l4_csum6(p, n + PAYLOAD);
	return n + PAYLOAD;
}

/* Each segment a datagram of its own (__udp_gso_segment()): its UDP length
 * and full checksum, IPv4 ID + i; the same bytes as built independently. */
Test(gso, seg_udp4_and_udp6_byte_exact)
{
	uint8_t pkt[4096], out[2048], want[2048];
	const size_t pays[] = {MSS, MSS, PAYLOAD - 2 * MSS};
	struct gso_seg it;
	size_t len, n, wl;

	fill_payload();
	for (int v = 4; v <= 6; v += 2) {
		const struct gso_hdr h = {
			GSO_F_NEEDS_CSUM, GSO_UDP_L4, 0, MSS, (uint16_t)(v == 4 ? 20 : 40), 6};

		len = build_udp(pkt, v);
		cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_OK);
		cr_assert_eq(gso_seg_max_len(&it), h.csum_start + 8 + MSS);
		for (uint32_t i = 0; i < 3; i++) {
			wl = v == 4 ? pg_ipv4(want, "192.0.2.1", "198.51.100.2", 17, 64,
					      (uint16_t)(0x1234 + i), 0x4000,
					      (uint16_t)(28 + pays[i]))
				    : pg_ipv6(want, "2001:db8::1", "64:ff9b::c633:6402", 17, 64,
					      (uint16_t)(8 + pays[i]));
			wl += pg_udp(want + wl, 4000, 443, pays[i]);
			memcpy(want + wl, gso_payload + i * MSS, pays[i]);
			wl += pays[i];
			if (v == 4)
				pg_fix_l4_csum4(want, wl);
			else
				pg_fix_l4_csum6(want, wl);
			cr_assert_eq(gso_seg_next(&it, out, sizeof(out), &n), GSO_OK);
			pg_assert_bytes(out, n, want, wl);
		}
		cr_assert_eq(gso_seg_next(&it, out, sizeof(out), &n), GSO_OK);
		cr_assert_eq(n, 0);
		/* A UDP length other than the packet's is refused. */
		pkt[h.csum_start + 5] ^= 1;
		cr_assert_eq(gso_seg_begin(&it, pkt, len, &h), GSO_ERR_PACKET);
	}
}

Test(gso, status_names_are_distinct)
{
	for (int a = GSO_OK; a <= GSO_ERR_SPACE; a++) {
		cr_assert_str_neq(gso_status_name(a), "unknown");
		for (int b = a + 1; b <= GSO_ERR_SPACE; b++)
			cr_assert_str_neq(gso_status_name(a), gso_status_name(b));
	}
	cr_assert_str_eq(gso_status_name(GSO_ERR_SPACE + 1), "unknown");
}
