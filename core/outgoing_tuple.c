/*
 * RFC 6146 §3.6: Computation of the Outgoing Tuple.
 *
 * From the BIB entry found or made in §3.5 and the incoming tuple, the
 * addresses and ports the translator (§3.7) writes, in its terms (struct
 * xlat_addrs4 / xlat_addrs6, translate.h):
 *
 *   6->4  source = the BIB entry's IPv4 taddr (T,t); destination = the
 *         IPv4 address embedded in the IPv6 destination, same port (Z,z);
 *   4->6  source = pool6 + Z, same port; destination = the BIB entry's
 *         IPv6 taddr (X',x).
 *
 * ICMP queries carry the identifier in both ports (RFC 6146 §3.5.3), the
 * BIB entry's on each side. ICMP errors (§3.6, last paragraphs): the
 * quoted packet travelled the other way, so its addresses are the flow's
 * reversed; the outer source is the BIB entry's IPv4 address (6->4), or
 * pool6 + the IPv4 node that sent the error (4->6, Jool's
 * source-icmpv6-errors-better, the default; off: pool6 + the quoted
 * packet's destination as RFC 6146 has it).
 */
#include "pipeline.h"

#include "rfc6052.h"

void
outgoing_tuple6(struct xlation *x)
{
	const struct tuple *t = &x->in;
	struct taddr4 mask = bib_entry_taddr4(x->bib);
	struct taddr4 remote = {t->dst4.addr, t->proto == L4_ICMP ? mask.port : t->dst4.port};
	struct xlat_addrs4 *a = &x->out4;

	*a = (struct xlat_addrs4){0};
	if (!t->is_error) {
		a->src = mask;
		a->dst = remote;
	} else {
		a->src.addr = mask.addr;
		a->dst.addr = x->outer4;
		a->inner_src = remote;
		a->inner_dst = mask;
	}
	a->decrement_ttl = !x->n->params.tun_hop_compensation;
	a->ipv4_id = x->n->ipv4_id++;
}

/*
 * The outer source of a 4->6 ICMP error is pool6 + the router that sent
 * it (source-icmpv6-errors-better) or + the quoted packet's destination
 * (RFC 6146 §3.6). RFC 6052 §3.1 forbids embedding a non-global address
 * in the WKP; routers on IPv4 paths often have private addresses (a
 * traceroute through them), so rather than drop their errors we fall
 * back to RFC 6146's choice, the flow's remote node, whose address 6->4
 * already vetted. Non-error packets: their own source.
 */
struct in_addr
outgoing_tuple4_src(const struct xlation *x)
{
	const struct globals *g = &x->n->g;
	bool strict_wkp = g->wkp_global_only && rfc6052_is_wkp(&g->pool6);

	if (!x->in.is_error || !g->src_icmp6_errors_better)
		return x->in.src4.addr;
	if (strict_wkp && rfc6052_is_nonglobal4(x->outer4))
		return x->in.src4.addr;
	return x->outer4;
}

void
outgoing_tuple4(struct xlation *x)
{
	const struct prefix6 *pool6 = &x->n->g.pool6;
	const struct tuple *t = &x->in;
	struct taddr6 node = bib_entry_taddr6(x->bib);
	struct taddr6 remote = {.port = t->proto == L4_ICMP ? node.port : t->src4.port};
	struct xlat_addrs6 *a = &x->out6;

	*a = (struct xlat_addrs6){0};
	rfc6052_embed(pool6, t->src4.addr, &remote.addr);
	if (!t->is_error) {
		a->src = remote;
		a->dst = node;
	} else {
		rfc6052_embed(pool6, outgoing_tuple4_src(x), &a->src.addr);
		a->dst.addr = node.addr;
		a->inner_src = node;
		a->inner_dst = remote;
	}
	/* §3.8: the second pass of a hairpinned packet keeps its hop limit
	 * (the first pass decremented it). */
	a->decrement_ttl = !x->n->params.tun_hop_compensation && !x->hairpin;
}
