/*
 * RFC 6146 §3.8: Handling Hairpinning.
 *
 * When the destination of the translated IPv4 packet is in pool4, the
 * packet is a hairpin packet: an IPv6 node reached another IPv6 node
 * through the latter's pool4 taddr. The IPv4 packet is not sent; the
 * outgoing tuple becomes the incoming one and the packet goes through the
 * 4->6 steps as if it had arrived on the IPv4 side (its source is the
 * first node's mask, so the second node sees pool6 + that mask) and
 * leaves as IPv6 again. For an ICMP error the test is on the quoted
 * packet's source, the address 4->6 checks against pool4 for errors.
 *
 * The second pass changes no hop limit (JOOL-REFERENCE §6: "Neither is
 * the second pass of a hairpinned packet") and builds no ICMP error: the
 * packet's source is then one of our own pool4 addresses.
 */
#include "pipeline.h"

static struct verdict
handoff_partial(struct xlation *x, struct verdict handoff)
{
	struct verdict v = offload_out(x);

	return verdict_ok(v) ? handoff : v;
}

struct verdict
hairpin(struct xlation *x)
{
	const struct xlat_addrs4 *a = &x->out4;
	const struct taddr4 *to = x->in.is_error ? &a->inner_src : &a->dst;
	enum stat_id rc;
	struct verdict v;

	if (!pool4_contains(x->n->pool4, x->in.proto, to))
		return verdict_continue();
	rc = pkt_parse4(x->p->data, x->p->len, &x->info);
	if (rc != STAT_OK)
		return verdict_drop(x, rc); /* the translator's output: never */
	x->hairpin = true;
	/* A new packet, the IPv4 one: it may go to the owner of `to` even when
	 * its IPv6 form was handed here (a static entry's answer). */
	x->handed = false;
	x->bib = NULL;
	x->session = NULL;
	v = pipeline_core4(x);
	/* Counted by the worker that owns `to` when it gets the packet. */
	if (verdict_ok(v))
		stat_inc(&x->n->stats, STAT_HAIRPINNED);
	/* Handed over with a partial checksum: the field still holds the
	 * IPv6 pseudo-header sum, at the IPv6 offsets of gso_in. It goes
	 * with the IPv4 pseudo-header sum and a header of the IPv4 layout
	 * (x->gso_out, which finish() hands over). */
	if (v.code == VERDICT_HANDOFF && x->csum_partial)
		return handoff_partial(x, v);
	return v;
}
