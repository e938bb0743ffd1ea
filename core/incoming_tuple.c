/*
 * RFC 6146 §3.4: Determining the Incoming Tuple.
 *
 * "If the incoming packet contains a complete (un-fragmented) UDP or TCP
 * protocol packet, then the 5-tuple is computed by extracting the
 * appropriate fields from the received packet." An ICMP query gives a
 * 3-tuple whose identifier plays both ports (the parser already sets
 * sport = dport = identifier). An ICMP error gives the tuple of the packet
 * it quotes, "as if it were the transport addresses of the outgoing
 * packet": its source and destination swapped, so that the error finds
 * the same state as the flow it is about.
 *
 * Fragments: "If the incoming IP packet contains a fragment, then more
 * processing may be needed." The pipeline reassembles fragments before
 * this step (pipeline.c, reassembly.h), so every packet here is whole and
 * carries its own ports.
 */
#include "pipeline.h"

#include "rfc6052.h"

static enum l4proto
l4proto_of(uint8_t ipproto)
{
	if (ipproto == IPPROTO_TCP)
		return L4_TCP;
	if (ipproto == IPPROTO_UDP)
		return L4_UDP;
	return L4_ICMP; /* the parser lets nothing else through */
}

/*
 * The packet has no ports to read: an ICMP informational message other
 * than echo (RFC 7915 §4.2, §5.2: those are not translated, so they are
 * dropped before any state is touched). Fragments never get here: they
 * were reassembled first.
 */
static struct verdict
no_ports(struct xlation *x, enum stat_id icmp_reason)
{
	return verdict_drop(x, icmp_reason);
}

static bool
has_tuple(const struct pkt_l3 *l3)
{
	return l3->has_ports || (l3->has_icmp && l3->icmp_is_error);
}

static struct taddr6
taddr6_at(const uint8_t *addr, uint16_t port)
{
	struct taddr6 t = {.port = port};

	memcpy(&t.addr, addr, sizeof(t.addr));
	return t;
}

static struct taddr4
taddr4_at(const uint8_t *addr, uint16_t port)
{
	struct taddr4 t = {.port = port};

	memcpy(&t.addr, addr, sizeof(t.addr));
	return t;
}

struct verdict
incoming_tuple6(struct xlation *x)
{
	const struct prefix6 *pool6 = &x->n->g.pool6;
	const struct pkt_l3 *o = &x->info.outer;
	const uint8_t *ip6 = x->p->data;
	struct tuple *t = &x->in;
	struct in6_addr dst;

	if (!has_tuple(o))
		return no_ports(x, STAT_ICMP6_TYPE_UNKNOWN);
	*t = (struct tuple){0};
	memcpy(&dst, ip6 + 24, sizeof(dst));
	x->outer4 = rfc6052_extract(pool6, &dst);
	if (o->icmp_is_error) {
		const struct pkt_l3 *i = &x->info.inner;
		const uint8_t *in6 = ip6 + x->info.inner_off;

		t->is_error = true;
		t->proto = l4proto_of(i->l4_proto);
		t->src6 = taddr6_at(in6 + 24, i->dport);
		t->dst6 = taddr6_at(in6 + 8, i->sport);
	} else {
		t->proto = l4proto_of(o->l4_proto);
		t->tcp_flags = o->tcp_flags;
		t->src6 = taddr6_at(ip6 + 8, o->sport);
		t->dst6 = taddr6_at(ip6 + 24, o->dport);
	}
	t->dst4.addr = rfc6052_extract(pool6, &t->dst6.addr);
	t->dst4.port = t->dst6.port;
	return verdict_continue();
}

struct verdict
incoming_tuple4(struct xlation *x)
{
	const struct pkt_l3 *o = &x->info.outer;
	const uint8_t *ip4 = x->p->data;
	struct tuple *t = &x->in;

	if (!has_tuple(o))
		return no_ports(x, STAT_ICMP4_TYPE_UNKNOWN);
	*t = (struct tuple){0};
	memcpy(&x->outer4, ip4 + 12, sizeof(x->outer4));
	if (o->icmp_is_error) {
		const struct pkt_l3 *i = &x->info.inner;
		const uint8_t *in4 = ip4 + x->info.inner_off;

		t->is_error = true;
		t->proto = l4proto_of(i->l4_proto);
		t->src4 = taddr4_at(in4 + 16, i->dport);
		t->dst4 = taddr4_at(in4 + 12, i->sport);
	} else {
		t->proto = l4proto_of(o->l4_proto);
		t->tcp_flags = o->tcp_flags;
		t->src4 = taddr4_at(ip4 + 12, o->sport);
		t->dst4 = taddr4_at(ip4 + 16, o->dport);
	}
	return verdict_continue();
}
