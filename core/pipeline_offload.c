/*
 * The TUN offload header (virtio_net_hdr, core/gso.h) across the pipeline
 * steps: docs/offloads.md.
 *
 * A packet comes with a header when the TUN device has IFF_VNET_HDR and
 * offloads on. Two things in it matter to a translator:
 *
 *   - GSO_F_NEEDS_CSUM: the TCP/UDP checksum field holds the sum of the
 *     pseudo-header only (the kernel finishes it on the way out). The
 *     translation changes the pseudo-header, so the field is rewritten
 *     with the new one (gso_pseudo_csum()) instead of the RFC 1624 update,
 *     and the packet goes out with the translated header, still partial.
 *   - a GSO type (TCPV4/TCPV6/UDP_L4): the packet is a super-packet, up to
 *     64 KB, that stands for gso_size-byte segments. It is translated ONCE
 *     and the kernel cuts it after the write, each segment as the
 *     translator would have made it (addresses, ports, TTL, TOS ...: the
 *     same header on every segment).
 *
 * Everything that would treat the segments differently from the
 * super-packet takes the software path instead: the super-packet is
 * segmented (gso_seg_*) and each segment runs through the pipeline as an
 * ordinary packet, with a full checksum. offload_check() decides it
 * before any state changes (the segments then find the state they would
 * have found anyway): a segment too big for the next hop (the ICMP error
 * or the fragmentation of RFC 7915 §4 / §5.1 is per packet), a hop limit
 * that expires here (RFC 7915 §4.1 / §5.1 Time Exceeded), hairpinning
 * (RFC 6146 §3.8: the packet goes through the 4->6 steps again), or a
 * header gso_translate() refuses. An ICMP error the later steps record
 * about a super-packet (e.g. pool4 exhausted) quotes it with its checksum
 * finished, as does any error quoting a partial-checksum packet.
 */
#include "pipeline.h"

#include "translate_icmp.h" /* XLAT_DF_THRESHOLD */

enum {
	IP4_HDR = 20,
	IP6_HDR = 40,
	TCP_HDR_MIN = 20,
	UDP_HDR = 8,
	TCP_SYN = 0x02,
	TCP_ACK = 0x10,
	TCP_CSUM_FIELD = 16, /* checksum offsets in the transport header */
	UDP_CSUM_FIELD = 6,
	ICMP_CSUM_FIELD = 2,
};

static bool
is_v6(const struct xlation *x)
{
	return x->p->data[0] >> 4 == 6;
}

/* The header change translation will make, predicted from the parse
 * (never a fragment here: those carry no offloads). */
static struct gso_layout
predicted_layout(const struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	bool v6 = is_v6(x);

	return (struct gso_layout){
		.version_new = v6 ? 4 : 6,
		.l4proto = o->l4_proto,
		.l3_old = (uint16_t)o->l4_off,
		.l3_new = v6 ? IP4_HDR : IP6_HDR,
		.l4_len = o->l3_end - o->l4_off,
	};
}

/*
 * Packets of one segment whose checksum is finished here rather than by
 * the kernel after the write:
 *   - a 4->6 SYN without ACK may be kept in the syn queue and quoted by an
 *     ICMP error seconds later (syn_queue.h);
 *   - UDP: the usual answer to a datagram is an ICMP error quoting all of
 *     it (port unreachable), and a receiver that trusts the partial sum
 *     (a local socket behind a veth) would quote the unfinished field,
 *     which the translated error would then carry (RFC 7915 §4.5, §5.2
 *     update the quoted checksum, they can't repair it). Datagrams are
 *     small and the kernel summed them before offloads anyway; a USO
 *     super-packet stays partial.
 */
static bool
keeps_full_checksum(const struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	const uint8_t *tcp = x->p->data + o->l4_off;

	if (o->l4_proto == IPPROTO_UDP)
		return true;
	if (is_v6(x) || o->l4_proto != IPPROTO_TCP || o->l3_end - o->l4_off < TCP_HDR_MIN)
		return false;
	return (tcp[13] & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

/* The kernel's partial checksums start at the transport header and point
 * at its checksum field. Anything else would be finished over the wrong
 * bytes: starting in the IP header, over the addresses the packet was
 * parsed with; pointing at a UDP length, over the length. Both found by
 * fuzz_pipeline. */
static bool
csum_field_is_l4(const struct xlation *x, const struct gso_hdr *h)
{
	const struct pkt_l3 *o = &x->info.outer;
	uint16_t want;

	switch (o->l4_proto) {
	case IPPROTO_TCP:
		want = TCP_CSUM_FIELD;
		break;
	case IPPROTO_UDP:
		want = UDP_CSUM_FIELD;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		want = ICMP_CSUM_FIELD;
		break;
	default:
		return false;
	}
	return h->csum_start == o->l4_off && h->csum_offset == want;
}

/* Finishes the checksum of a packet as it came in; false: can't. */
static bool
complete_in(struct xlation *x)
{
	if (gso_csum_complete(x->p->data, x->p->len, x->gso_in) != GSO_OK)
		return false;
	stat_inc(&x->n->stats, STAT_CSUM_SOFTWARE);
	x->gso_in = NULL;
	return true;
}

struct verdict
offload_in(struct xlation *x)
{
	const struct gso_hdr *h = x->gso_in;
	struct gso_layout lay = predicted_layout(x);
	struct gso_hdr out;

	if ((h->gso_type & ~GSO_ECN) == GSO_NONE && !(h->flags & GSO_F_NEEDS_CSUM)) {
		x->gso_in = NULL; /* DATA_VALID or nothing: a full checksum */
		return verdict_continue();
	}
	/* The kernel completes checksums and segments before it fragments. */
	if (x->info.outer.is_fragment)
		return verdict_drop(x, STAT_GSO_BAD);
	if ((h->flags & GSO_F_NEEDS_CSUM) && !csum_field_is_l4(x, h))
		return verdict_drop(x, STAT_GSO_BAD);
	if ((h->gso_type & ~GSO_ECN) != GSO_NONE) {
		x->gso = true; /* offload_check() decides */
		x->csum_partial = true;
		return verdict_continue();
	}
	if (!keeps_full_checksum(x) && gso_translate(h, &lay, &out) == GSO_OK) {
		x->csum_partial = true;
		return verdict_continue();
	}
	/* E.g. an ICMP packet with NEEDS_CSUM. */
	if (!complete_in(x))
		return verdict_drop(x, STAT_GSO_BAD);
	return verdict_continue();
}

/* Transport header + gso_size: the L4 bytes of a full-size segment. */
static uint32_t
segment_l4_len(const struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	uint32_t l4 = o->l3_end - o->l4_off;
	uint32_t thl = UDP_HDR;
	uint32_t seg;

	if (o->l4_proto == IPPROTO_TCP && l4 >= TCP_HDR_MIN)
		thl = (uint32_t)(x->p->data[o->l4_off + 12] >> 4) * 4;
	seg = thl + x->gso_in->gso_size;
	return seg < l4 ? seg : l4;
}

/* Would one segment, translated alone, be treated differently from the
 * super-packet? (The reasons are in the comment at the top.) */
static bool
needs_segments(const struct xlation *x)
{
	const struct nat64 *n = x->n;
	const struct pkt_l3 *o = &x->info.outer;
	uint32_t seg = segment_l4_len(x);
	bool hop = !n->params.tun_hop_compensation;
	uint32_t limit = n->params.mtu6;

	if (is_v6(x))
		return IP4_HDR + seg > n->params.mtu4 || (hop && x->p->data[7] <= 1) ||
		       pool4_contains(n->pool4, x->in.proto, &x->in.dst4);
	/* RFC 7915 §4: DF clear, cut to lowest-ipv6-mtu (fragment_out()). */
	if (!o->dont_fragment && n->g.xlat.lowest_ipv6_mtu < limit)
		limit = n->g.xlat.lowest_ipv6_mtu;
	return IP6_HDR + seg > limit || (hop && x->p->data[8] <= 1);
}

struct verdict
offload_check(struct xlation *x)
{
	struct gso_layout lay = predicted_layout(x);
	struct gso_hdr out;

	if (!needs_segments(x)) {
		if (gso_translate(x->gso_in, &lay, &out) == GSO_OK)
			return verdict_continue();
		stat_inc(&x->n->stats, STAT_GSO_REFUSED);
	}
	/* gso_seg_begin() takes an IPv6 csum_start as the TCP header (past
	 * extension headers it doesn't walk): it must be the one parsed. */
	if (x->gso_in->csum_start != x->info.outer.l4_off)
		return verdict_drop(x, STAT_GSO_BAD);
	if (gso_seg_begin(&x->seg, x->p->data, x->p->len, x->gso_in) != GSO_OK)
		return verdict_drop(x, STAT_GSO_BAD);
	x->segment = true;
	return verdict_stolen(x, STAT_GSO_SEGMENTED);
}

/*
 * A 6->4 super-packet: the kernel gives segment i the Identification
 * ID + i (inet_gso_segment()), so the engine's counter skips them all
 * (RFC 6864 §4.1 asks IDs not to repeat too soon), and DF follows the
 * size of a segment, not of the super-packet (RFC 7915 §5.1, as
 * translate_6to4.c does for every packet).
 */
static void
fix_ipv4_super(struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	uint32_t seg = segment_l4_len(x);
	uint32_t thl = seg - x->gso_in->gso_size;
	uint32_t payload = o->l3_end - o->l4_off - thl;
	uint32_t segs = (payload + x->gso_in->gso_size - 1) / x->gso_in->gso_size;

	if (segs > 1)
		x->n->ipv4_id = (uint16_t)(x->n->ipv4_id + segs - 1);
	if (IP4_HDR + seg <= XLAT_DF_THRESHOLD)
		frag_clear_df(x->p);
}

struct verdict
offload_out(struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	uint8_t *pkt = x->p->data;
	uint32_t l4_len = o->l3_end - o->l4_off;
	struct gso_layout lay = {
		.version_new = (uint8_t)(pkt[0] >> 4),
		.l4proto = o->l4_proto,
		/* Checked against the L4 offset by gso_translate() before. */
		.l3_old = x->gso_in->csum_start,
		.l3_new = (uint16_t)(x->p->len - l4_len),
		.l4_len = l4_len,
	};

	/* Both calls passed on the predicted layout, which this is (a
	 * hairpinned packet is never a super-packet). */
	if (gso_translate(x->gso_in, &lay, &x->gso_out) != GSO_OK ||
	    gso_pseudo_csum(pkt, x->p->len, &x->gso_out, o->l4_proto) != GSO_OK)
		return verdict_drop(x, STAT_UNKNOWN);
	if (x->gso && lay.version_new == 4)
		fix_ipv4_super(x);
	return verdict_continue();
}

void
offload_csum_complete(struct xlation *x, const struct gso_hdr *h)
{
	if (gso_csum_complete(x->p->data, x->p->len, h) == GSO_OK)
		stat_inc(&x->n->stats, STAT_CSUM_SOFTWARE);
	x->csum_partial = false;
	x->gso_out = (struct gso_hdr){0};
}
