/*
 * RFC 6146 §3: the pipeline. Only sequencing: each step (one file each,
 * see pipeline.h) returns a verdict, the first one that is not CONTINUE
 * ends the run, and everything leaves through finish(), which counts the
 * success, builds the ICMP error a step recorded, and fills the result.
 *
 * The established path is: parse, one session lookup and its refresh
 * (filtering), the outgoing tuple, the translation in place, and for 6->4
 * one pool4 lookup (hairpinning). Nothing is allocated.
 *
 * TTL / hop limit (nat64_params.tun_hop_compensation): without it the
 * translator decrements as a router (RFC 7915 §4.1, §5.1) and an
 * expiring packet is answered with Time Exceeded here. With it the kernel
 * has already decremented on the way in and will again on the way out, so
 * the translated packet gets one unit back (capped at 255), which makes
 * the host cost one unit as any router. It is added to the translated
 * header rather than to the incoming one, so that an error about the
 * incoming packet quotes it as it was received.
 *
 * Fragments (docs/fragments.md): right after parsing, a fragment goes to
 * the reassembler and is STOLEN until its datagram is whole; the whole
 * packet then runs the steps like any other, from the reassembler's
 * buffer (so callers send from p->data, never from their own buffer).
 *
 * MTU (docs/mtu.md): a packet is checked against the next hop before it
 * is translated, so that a Packet Too Big / Fragmentation Needed quotes
 * it as received (RFC 7915 §4, §5.1; JOOL-REFERENCE §6 "Fragments"):
 *
 *   6->4  IPv4 result above mtu4 with DF due (> 1260 bytes, not from
 *         fragments): ICMPv6 Packet Too Big, MTU max(1280, mtu4 + 20);
 *         DF clear: split into IPv4 fragments of mtu4 after translation.
 *   4->6  DF set and IPv6 result above mtu6: ICMPv4 Fragmentation
 *         Needed, MTU mtu6 - 20; DF clear and above min(mtu6,
 *         lowest-ipv6-mtu): split into IPv6 fragments after translation,
 *         Identification the IPv4 one zero-extended (§4.1).
 */
#include "pipeline.h"

#include "checksum.h"
#include "mtu.h"
/* XLAT_DF_THRESHOLD: the translator's DF rule, which the MTU check must
 * predict. */
#include "translate_icmp.h"

enum {
	ICMPERR6_TOO_BIG = 2,     /* RFC 4443 §3.2 Packet Too Big */
	ICMPERR4_FRAG_NEEDED = 4, /* RFC 792 type 3 code 4, RFC 1191 §4 */
	IP4_HDR_MIN = 20,
	IP6_HDR = 40,
	IP4_MTU_FIELD_MAX = 0xffff, /* RFC 1191 §4: a 16-bit field */
};

/* Would the translation refuse the packet for its hop limit / TTL? That
 * error comes first, as a router checks the hop limit before the MTU. */
static bool
expiring(const struct xlation *x, bool v6)
{
	if (x->n->params.tun_hop_compensation || x->hairpin)
		return false;
	return x->p->data[v6 ? 7 : 8] <= 1;
}

/*
 * RFC 7915 §5.1 with RFC 1191: a 6->4 packet that won't fit the IPv4 MTU
 * and will carry DF can't be fragmented, so the IPv6 source learns the
 * MTU it must use: the IPv4 MTU plus the header difference, never below
 * the IPv6 minimum (RFC 8200 §5; JOOL-REFERENCE §6: max(1280, mtu4 + 20)).
 * A hairpinned packet never reaches the IPv4 side: mtu4 doesn't apply.
 */
static struct verdict
check_mtu6(struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	struct nat64 *n = x->n;
	uint32_t len4 = IP4_HDR_MIN + o->l3_end - o->l4_off;
	uint32_t mtu = n->params.mtu4 + IP4_HDR_MIN;

	/* A super-packet passed offload_check(): its segments fit. */
	if (x->gso || len4 <= n->params.mtu4 || len4 <= XLAT_DF_THRESHOLD || x->from_fragments ||
	    o->icmp_is_error || expiring(x, true) ||
	    pool4_contains(n->pool4, x->in.proto, &x->out4.dst))
		return verdict_continue();
	return verdict_drop_icmp6(x, STAT_TOO_BIG6, ICMPERR6_TOO_BIG, 0,
				  mtu < MTU_IPV6_MIN ? MTU_IPV6_MIN : mtu);
}

/*
 * RFC 7915 §4 with RFC 1191 §4: an IPv4 packet with DF set whose IPv6
 * form exceeds the IPv6 MTU gets Fragmentation Needed with the largest
 * IPv4 packet that fits, mtu6 - 20 (JOOL-REFERENCE §6: max(576, mtu6 -
 * 20); mtu6 is at least 1280, so the floor never applies).
 * lowest-ipv6-mtu plays no part: it bounds the packets the translator
 * fragments itself (DF clear), while DF-set packets follow the Packet
 * Too Big messages of the IPv6 path, translated (RFC 7915 §5.2).
 */
static struct verdict
check_mtu4(struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	uint32_t len6 = IP6_HDR + o->l3_end - o->l4_off;
	uint32_t mtu = x->n->params.mtu6 - IP4_HDR_MIN;

	if (x->gso || !o->dont_fragment || len6 <= x->n->params.mtu6 || o->icmp_is_error ||
	    expiring(x, false))
		return verdict_continue();
	return verdict_drop_icmp4(x, STAT_TOO_BIG4, ICMPERR4_UNREACH, ICMPERR4_FRAG_NEEDED,
				  mtu > IP4_MTU_FIELD_MAX ? IP4_MTU_FIELD_MAX : mtu);
}

/* §3.7 IPv6 -> IPv4, and the errors the translator's refusals call for. */
static struct verdict
translate6(struct xlation *x)
{
	struct nat64 *n = x->n;
	struct verdict v = check_mtu6(x);
	enum stat_id rc;
	uint8_t *ip4;
	uint16_t old, new, csum;

	if (!verdict_ok(v))
		return v;
	/* RFC 7915 §5.1.1: a packet that came as fragments takes the low
	 * 16 bits of their Identification, and DF 0 (below). */
	if (x->from_fragments)
		x->out4.ipv4_id = (uint16_t)x->frag_id;
	x->out4.l4_csum_partial = x->csum_partial;
	rc = xlat_6to4(x->p, &x->info, &x->out4, &n->g.xlat, n->params.mtu4, n->params.mtu6);
	switch (rc) {
	case STAT_OK:
		break;
	case STAT_XLAT64_HOP_LIMIT: /* RFC 7915 §5.1, RFC 4443 §3.3 code 0 */
		return verdict_drop_icmp6(x, rc, ICMPERR6_TIME, 0, 0);
	case STAT_XLAT64_SEGMENTS_LEFT:
		/* RFC 7915 §5.1: Parameter Problem code 0, the pointer at
		 * the Segments Left field. */
		return verdict_drop_icmp6(x, rc, ICMPERR6_PARAM, 0, x->info.outer.src_route_off);
	default:
		return verdict_drop(x, rc);
	}
	if (x->from_fragments)
		frag_clear_df(x->p);
	ip4 = x->p->data;
	if (n->params.tun_hop_compensation && ip4[8] < 255) {
		memcpy(&old, ip4 + 8, 2);
		ip4[8]++;
		memcpy(&new, ip4 + 8, 2);
		memcpy(&csum, ip4 + 10, 2);
		csum = csum_replace16(csum, old, new);
		memcpy(ip4 + 10, &csum, 2);
	}
	return verdict_continue();
}

/* §3.7 IPv4 -> IPv6. */
static struct verdict
translate4(struct xlation *x)
{
	struct nat64 *n = x->n;
	struct verdict v = check_mtu4(x);
	const uint8_t *ip4 = x->p->data;
	enum stat_id rc;

	if (!verdict_ok(v))
		return v;
	/* Kept for fragment_out(): the header is overwritten below. */
	x->df4 = x->info.outer.dont_fragment;
	x->id4 = (uint16_t)(ip4[4] << 8 | ip4[5]);
	x->out6.l4_csum_partial = x->csum_partial;
	rc = xlat_4to6(x->p, &x->info, &x->out6, &n->g.xlat, n->params.mtu6, n->params.mtu4);
	switch (rc) {
	case STAT_OK:
		break;
	case STAT_XLAT46_TTL: /* RFC 7915 §4.1, RFC 792 type 11 code 0 */
		return verdict_drop_icmp4(x, rc, ICMPERR4_TIME, 0, 0);
	case STAT_XLAT46_SRC_ROUTE: /* RFC 7915 §4.1: "source route failed" */
		return verdict_drop_icmp4(x, rc, ICMPERR4_UNREACH, ICMPERR4_SRC_ROUTE, 0);
	default:
		return verdict_drop(x, rc);
	}
	if (n->params.tun_hop_compensation && !x->hairpin && x->p->data[7] < 255)
		x->p->data[7]++;
	return verdict_continue();
}

struct verdict
pipeline_core4(struct xlation *x)
{
	struct verdict v;

	v = incoming_tuple4(x);
	if (!verdict_ok(v))
		return v;
	/* For an ICMP error dst4 is the quoted packet's source: our mask. */
	if (foreign_port(x, x->in.dst4.port))
		return verdict_handoff(x, x->in.dst4.port);
	if (x->gso) {
		v = offload_check(x);
		if (!verdict_ok(v))
			return v;
	}
	v = filtering4(x);
	if (!verdict_ok(v))
		return v;
	outgoing_tuple4(x);
	return translate4(x);
}

static struct verdict
core6(struct xlation *x)
{
	struct verdict v;

	v = incoming_tuple6(x);
	if (!verdict_ok(v))
		return v;
	if (x->gso) {
		v = offload_check(x);
		if (!verdict_ok(v))
			return v;
	}
	v = filtering6(x);
	if (!verdict_ok(v))
		return v;
	outgoing_tuple6(x);
	v = translate6(x);
	if (!verdict_ok(v))
		return v;
	return hairpin(x);
}

static enum stat_id
parse(struct xlation *x, bool v6)
{
	return v6 ? pkt_parse6(x->p->data, x->p->len, &x->info)
		  : pkt_parse4(x->p->data, x->p->len, &x->info);
}

/*
 * RFC 6146 §3.4: "If the incoming IP packet contains a fragment, then
 * more processing may be needed": the fragment waits in the reassembler
 * (STOLEN) until its datagram is whole, which then replaces it (*p points
 * into the reassembler's buffer) and is parsed again. An IPv6 atomic
 * fragment comes back at once without its Fragment header (RFC 6946 §4).
 */
static struct verdict
reassemble(struct xlation *x, bool v6)
{
	const struct pkt_l3 *o = &x->info.outer;
	bool atomic = v6 && o->frag_offset == 0 && !o->more_fragments;
	uint32_t id = o->frag_id;
	struct pkt whole;
	enum stat_id rc;

	rc = reasm_add(x->n->reasm, x->p, &x->info, x->now, x->n->g.amend_udp_checksum_zero,
		       &whole);
	if (rc == STAT_FRAG_HELD)
		return verdict_stolen(x, rc);
	if (rc != STAT_OK)
		return verdict_drop(x, rc);
	stat_inc(&x->n->stats, atomic ? STAT_FRAG_ATOMIC6 : STAT_FRAG_REASSEMBLED);
	*x->p = whole;
	x->from_fragments = true;
	x->frag_id = id;
	rc = parse(x, v6);
	if (rc != STAT_OK)
		return verdict_drop(x, rc);
	return verdict_continue();
}

/*
 * The translated packet against the next hop (the checks that answer
 * with an ICMP error ran before translation): too big, and DF clear, it
 * is split into fragments. IPv6: min(mtu6, lowest-ipv6-mtu) (RFC 7915
 * §4), the IPv4 Identification zero-extended as Fragment Identification
 * (§4.1, as Jool); a DF-set packet is only held to mtu6, checked before.
 * IPv4: mtu4 (RFC 791 §3.2).
 */
static struct verdict
fragment_out(struct xlation *x)
{
	struct nat64 *n = x->n;
	struct pkt *p = x->p;
	uint32_t limit;
	enum stat_id rc;

	if (x->gso) /* offload_check(): every segment fits */
		return verdict_continue();
	if (p->len > 0 && p->data[0] >> 4 == 4) {
		if (p->len <= n->params.mtu4)
			return verdict_continue();
		if (x->csum_partial)
			offload_csum_complete(x, &x->gso_out);
		rc = frag_split4(&x->frags, p, n->params.mtu4);
	} else {
		limit = n->params.mtu6;
		if (!x->df4 && n->g.xlat.lowest_ipv6_mtu < limit)
			limit = n->g.xlat.lowest_ipv6_mtu;
		if (p->len <= limit)
			return verdict_continue();
		if (x->csum_partial)
			offload_csum_complete(x, &x->gso_out);
		rc = frag_split6(&x->frags, p, limit, x->id4);
	}
	if (rc != STAT_OK)
		return verdict_drop(x, rc);
	x->split = true;
	stat_inc(&n->stats, STAT_FRAGMENTED_OUT);
	n->stats.count[STAT_FRAGMENTS_SENT] += x->frags.fragments;
	return verdict_continue();
}

static struct verdict
run(struct xlation *x, bool v6)
{
	struct verdict v;
	enum stat_id rc;

	if (!x->n->g.enabled)
		return verdict_drop(x, STAT_XLATOR_DISABLED);
	rc = parse(x, v6);
	if (rc != STAT_OK)
		return verdict_drop(x, rc);
	if (x->gso_in) {
		v = offload_in(x);
		if (!verdict_ok(v))
			return v;
	}
	if (x->info.outer.is_fragment) {
		if (x->handed) /* reassembled by the worker that handed it */
			return verdict_drop(x, STAT_HANDOFF_LOOP);
		v = reassemble(x, v6);
		if (!verdict_ok(v))
			return v;
	}
	v = v6 ? core6(x) : pipeline_core4(x);
	if (!verdict_ok(v))
		return v;
	if (x->csum_partial) {
		v = offload_out(x);
		if (!verdict_ok(v))
			return v;
	}
	return fragment_out(x);
}

bool
pipeline_icmp_allowed(struct nat64 *n, uint64_t now)
{
	/* RFC 4443 §2.4 (f), RFC 1812 §4.3.2.8: rate-limited. */
	if (ratelimit_take(&n->icmp_rl, now))
		return true;
	stat_inc(&n->stats, STAT_ICMPERR_RATE_LIMITED);
	return false;
}

/* Build the error a step recorded, about the packet as it came in (every
 * step that records one runs before the packet changes, and the
 * translator leaves a packet it refuses untouched). */
static void
reply_icmp(struct xlation *x, uint8_t *reply, struct nat64_result *res)
{
	struct nat64 *n = x->n;
	const uint8_t *orig = x->p->data;
	uint32_t len = x->info.outer.l3_end;
	uint8_t *out = reply + PKT_HEADROOM;
	bool v6 = x->icmp.family == 6;

	if (v6 ? !icmp_error_allowed6(orig, &x->info) : !icmp_error_allowed4(orig, &x->info)) {
		stat_inc(&n->stats, STAT_ICMPERR_NOT_ALLOWED);
		return;
	}
	if (!pipeline_icmp_allowed(n, x->now))
		return;
	/* The quote must show a real checksum (pipeline_offload.c). */
	if (x->csum_partial)
		offload_csum_complete(x, x->gso_in);
	if (v6)
		len = icmp_error_build6(out, &n->params.own6, orig, len, &x->icmp);
	else
		len = icmp_error_build4(out, n->params.own4, n->ipv4_id++, orig, len, &x->icmp);
	if (len == 0)
		return;
	stat_inc(&n->stats, v6 ? STAT_ICMP6ERR_SENT : STAT_ICMP4ERR_SENT);
	res->reply_off = PKT_HEADROOM;
	res->reply_len = len;
}

/* The header to send with a packet sent whole (zero unless offloads). */
static void
offload_result(const struct xlation *x, struct nat64_result *res)
{
	if (!x->csum_partial)
		return;
	res->gso = x->gso_out;
	stat_inc(&x->n->stats, x->gso ? STAT_GSO_TRANSLATED : STAT_CSUM_PARTIAL);
}

/* The single exit. */
static void
finish(struct xlation *x, struct verdict v, uint8_t *reply, struct nat64_result *res)
{
	*res = (struct nat64_result){.reason = STAT_OK};
	if (verdict_ok(v)) {
		stat_inc(&x->n->stats, STAT_SUCCESS);
		res->send = true;
		res->out = *x->p;
		res->split = x->split;
		if (x->split)
			res->frags = x->frags;
		else
			offload_result(x, res);
		return;
	}
	res->reason = x->reason;
	if (v.code == VERDICT_HANDOFF) {
		res->out = *x->p;
		res->handoff = (struct nat64_handoff){
			.to = x->handoff_to,
			.hairpin = x->hairpin,
			.from_fragments = x->from_fragments,
			.frag_id = x->frag_id,
			.overflow = x->overflow,
		};
		/* A hairpin's IPv4 half with a partial checksum goes with
		 * the header translated for it (hairpin.c). */
		if (x->gso_in)
			res->handoff.gso = x->hairpin && x->csum_partial ? x->gso_out : *x->gso_in;
		return;
	}
	res->segment = x->segment;
	if (x->segment)
		res->seg = x->seg;
	if (x->icmp.family != 0 && !x->hairpin && reply)
		reply_icmp(x, reply, res);
}

void
pipeline_run(struct nat64 *n, struct pkt *p, const struct gso_hdr *gso, uint64_t now,
	     uint8_t *reply, struct nat64_result *res)
{
	struct xlation x = {.n = n, .p = p, .now = now};

	if (gso && (gso->flags != 0 || gso->gso_type != GSO_NONE))
		x.gso_in = gso;
	bool v6 = p->len > 0 && p->data[0] >> 4 == 6;

	stat_inc(&n->stats, v6 ? STAT_RECEIVED6 : STAT_RECEIVED4);
	finish(&x, run(&x, v6), reply, res);
}

void
pipeline_run_handed(struct nat64 *n, struct pkt *p, const struct nat64_handoff *h, uint64_t now,
		    uint8_t *reply, struct nat64_result *res)
{
	struct xlation x = {
		.n = n,
		.p = p,
		.now = now,
		.hairpin = h->hairpin,
		.handed = true,
		.from_fragments = h->from_fragments,
		.frag_id = h->frag_id,
		.overflow = h->overflow,
	};
	bool v6 = p->len > 0 && p->data[0] >> 4 == 6;
	struct verdict v;

	/* The 4->6 half of a hairpin (hairpin.c), a datagram the other worker
	 * reassembled, or any packet whose state is here, with its offload
	 * header. */
	if (h->gso.flags != 0 || h->gso.gso_type != GSO_NONE)
		x.gso_in = &h->gso;
	v = run(&x, v6);
	if (verdict_ok(v) && x.hairpin)
		stat_inc(&n->stats, STAT_HAIRPINNED);
	finish(&x, v, reply, res);
}
