/*
 * RFC 6146 §3.5: Filtering and Updating Binding and Session Information,
 * for UDP (§3.5.1), ICMP queries (§3.5.3) and ICMP errors (which find
 * the BIB entry of the flow they quote and create or refresh nothing);
 * TCP (§3.5.2) is filtering_tcp.c. Also the address checks Jool runs in
 * this step: pool6 / pool4 membership, the hairpin loop, RFC 6052 §3.1
 * and drop-icmpv6-info.
 *
 * Order of the lookups, and why: a packet of an existing flow costs one
 * hash lookup (the session, by its 5-tuple) and a refresh. Only a packet
 * with no session looks up the BIB, and only a packet with no BIB entry
 * runs the RFC 6056 port choice: a mapping that exists is never chosen
 * again (Jool runs its choice, with an MD5 and a copy of the pool4 set,
 * before every BIB lookup: JOOL-REFERENCE §3.2).
 */
#include "pipeline.h"

#include "rfc6052.h"

#include <errno.h>

static bool
in_pool6(const struct nat64 *n, const struct in6_addr *a)
{
	return rfc6052_contains(&n->g.pool6, a);
}

/*
 * RFC 7915 §5.1 (and RFC 4291 §2.5.2, §2.5.3, §2.7): an IPv6 packet
 * whose source is unspecified, loopback or multicast came from no single
 * host; it SHOULD be dropped, and no ICMP error names such a source
 * (RFC 4443 §2.4 (e)). Jool drops these too.
 */
static bool
illegal_src6(const struct in6_addr *a)
{
	static const uint8_t zero[15];

	if (a->s6_addr[0] == 0xff) /* ff00::/8 multicast */
		return true;
	/* :: and ::1: fifteen zero bytes, then 0 or 1. */
	return memcmp(a->s6_addr, zero, sizeof(zero)) == 0 && a->s6_addr[15] <= 1;
}

/*
 * RFC 1812 §5.3.7 (and RFC 7915 §4.1, which leaves IPv4 validity to the
 * IPv4 rules): a router drops packets whose source is "this network"
 * 0.0.0.0/8, loopback 127.0.0.0/8, multicast 224.0.0.0/4, or class E
 * 240.0.0.0/4 (which holds the limited broadcast 255.255.255.255).
 */
static bool
illegal_src4(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);
	uint32_t top = h >> 24;

	return top == 0 || top == 127 || h >= 0xe0000000u;
}

/* Checks on the IPv6 packet's addresses and kind, before any state. */
static struct verdict
check6(struct xlation *x)
{
	const struct globals *g = &x->n->g;
	const struct pkt_l3 *o = &x->info.outer;
	struct in6_addr src, dst;

	memcpy(&src, x->p->data + 8, sizeof(src));
	memcpy(&dst, x->p->data + 24, sizeof(dst));
	/* RFC 6146 §3.5: the NAT64 handles packets sent to pool6 only. */
	if (!in_pool6(x->n, &dst))
		return verdict_drop(x, STAT_POOL6_MISMATCH);
	/* RFC 6146 §3.5: packets whose source is inside pool6 are silently
	 * discarded (one we sent that came back: a loop). */
	if (in_pool6(x->n, &src))
		return verdict_drop(x, STAT_HAIRPIN_LOOP);
	/* Silent: no ICMP error may go to such a source. */
	if (illegal_src6(&src))
		return verdict_drop(x, STAT_SRC6_ILLEGAL);
	/* RFC 6052 §3.1: the Well-Known Prefix "MUST NOT be used to
	 * represent non-global IPv4 addresses". */
	if (g->wkp_global_only && rfc6052_is_wkp(&g->pool6) && rfc6052_is_nonglobal4(x->outer4))
		return verdict_drop(x, STAT_NONGLOBAL_DST);
	/* Jool's drop-icmpv6-info: only echo gets this far. */
	if (g->drop_icmp6_info && o->has_icmp && !o->icmp_is_error)
		return verdict_drop(x, STAT_ICMP6_FILTER);
	/* The quoted packet of an error came from pool6 if we sent it. */
	if (x->in.is_error && !in_pool6(x->n, &x->in.dst6.addr))
		return verdict_drop(x, STAT_SESSION_NOT_FOUND);
	return verdict_continue();
}

static struct verdict
found(struct xlation *x, struct session *s)
{
	x->session = s;
	x->bib = session_bib(&x->n->bib, s);
	return verdict_continue();
}

/* session_add() refused: RFC 6888 REQ-4 limits, or memory. 6->4 answers
 * like a failed mapping (RFC 6146 §3.5.1.1: ICMPv6 1/3); 4->6 with 3/13,
 * a policy refusal (RFC 1812 §5.2.7.1). */
static struct verdict
refused(struct xlation *x, int err, bool v6)
{
	enum stat_id why;

	switch (err) {
	case -ENOSPC:
		why = STAT_SESSION_LIMIT;
		break;
	case -EDQUOT:
		why = STAT_HOST_SESSION_LIMIT;
		break;
	case -ENOMEM:
		return verdict_drop(x, STAT_STATE_NOMEM);
	default: /* -EEXIST, -EADDRINUSE ...: the lookups said otherwise */
		return verdict_drop(x, STAT_UNKNOWN);
	}
	if (v6)
		return verdict_drop_icmp6(x, why, ICMPERR6_UNREACH, ICMPERR6_ADDR, 0);
	return verdict_drop_icmp4(x, why, ICMPERR4_UNREACH, ICMPERR4_ADMIN, 0);
}

static bool
taken(void *ctx, const struct taddr4 *t)
{
	const struct xlation *x = ctx;

	return bib_find4(&x->n->bib, x->in.proto, t) != NULL;
}

struct verdict
filtering_choose_mask(struct xlation *x, struct taddr4 *mask)
{
	struct nat64 *n = x->n;
	struct rfc6056_query q = {
		.src6 = &x->in.src6,
		.dst6 = &x->in.dst6,
		.is_taken = taken,
		.ctx = x,
	};
	struct rfc6056_result res;
	struct in_addr paired;
	enum stat_id rc;

	/* RFC 4787 REQ-2 (paired pooling): the address this host uses. */
	if (bib_host_addr4(&n->bib, x->in.proto, &x->in.src6.addr, &paired))
		q.preferred = &paired;
	/* The daemon sets no marks yet: every packet has mark 0. */
	rc = rfc6056_choose(&n->rfc6056, pool4_find_set(n->pool4, 0, x->in.proto), &q, &res);
	/* RFC 6146 §3.5.1.1: when no IPv4 transport address can be
	 * allocated the packet is discarded, and the NAT64 SHOULD answer
	 * with ICMPv6 Destination Unreachable, Code 3 (Address Unreachable).
	 * Jool is silent. */
	if (rc == STAT_POOL4_EXHAUSTED && x->overflow + 1u < n->params.share.count)
		return verdict_overflow(x);
	if (rc != STAT_OK)
		return verdict_drop_icmp6(x, rc, ICMPERR6_UNREACH, ICMPERR6_ADDR, 0);
	*mask = res.taddr;
	return verdict_continue();
}

struct verdict
filtering_add_session6(struct xlation *x, const struct taddr4 *mask, enum tcp_state state)
{
	const struct tuple *t = &x->in;
	/* RFC 6146 §3.5.3: an ICMP session's remote "port" is the
	 * identifier on each side. */
	struct session_tuple st = {
		.proto = t->proto,
		.src6 = t->src6,
		.dst6 = t->dst6,
		.src4 = *mask,
		.dst4 = {t->dst4.addr, t->proto == L4_ICMP ? mask->port : t->dst4.port},
	};
	struct session *s;
	int err = session_add(&x->n->bib, &st, state, x->now, &s);

	if (err)
		return refused(x, err, true);
	return found(x, s);
}

struct verdict
filtering_add_session4(struct xlation *x, const struct bib_entry *e, enum tcp_state state)
{
	const struct tuple *t = &x->in;
	bool icmp = t->proto == L4_ICMP;
	struct session_tuple st = {
		.proto = t->proto,
		.src6 = bib_entry_taddr6(e),
		.src4 = bib_entry_taddr4(e),
		.dst4 = {t->src4.addr, icmp ? e->be_port4 : t->src4.port},
	};
	struct session *s;
	int err;

	rfc6052_embed(&x->n->g.pool6, t->src4.addr, &st.dst6.addr);
	st.dst6.port = icmp ? e->be_port6 : t->src4.port;
	err = session_add(&x->n->bib, &st, state, x->now, &s);
	if (err)
		return refused(x, err, false);
	return found(x, s);
}

bool
filtering_adf_allows(const struct xlation *x, const struct bib_entry *e)
{
	/* Address-dependent filtering (RFC 4787 §5 REQ-8 option, Jool's
	 * address-dependent-filtering): only from IPv4 addresses the IPv6
	 * node has a session with, whatever the port. */
	return !x->n->g.adf || bib_has_session_to_addr4(&x->n->bib, e, x->in.src4.addr);
}

/* RFC 6146 §3.5.1.1 (UDP) and §3.5.3 (ICMP query), IPv6 side. */
static struct verdict
udp_icmp6(struct xlation *x)
{
	struct bib *db = &x->n->bib;
	const struct tuple *t = &x->in;
	const struct bib_entry *e;
	struct taddr4 mask;
	struct session *s;
	struct verdict v;

	s = session_find6(db, t->proto, &t->src6, &t->dst4);
	if (s) {
		session_refresh(db, s, x->now);
		return found(x, s);
	}
	/* Endpoint-independent mapping (RFC 6146 §3.5.1, RFC 4787 REQ-1):
	 * the host's entry serves every destination. */
	e = bib_find6(db, t->proto, &t->src6);
	if (e) {
		mask = bib_entry_taddr4(e);
		if (foreign_port(x, mask.port))
			return verdict_handoff(x, mask.port);
	} else {
		if (maps_elsewhere(x))
			return verdict_handoff(x, t->src6.port);
		v = filtering_choose_mask(x, &mask);
		if (!verdict_ok(v))
			return v;
	}
	return filtering_add_session6(x, &mask, TCPS_CLOSED);
}

/* RFC 6146 §3.5.1 (UDP) and §3.5.3 (ICMP query), IPv4 side. */
static struct verdict
udp_icmp4(struct xlation *x)
{
	struct bib *db = &x->n->bib;
	const struct tuple *t = &x->in;
	bool udp = t->proto == L4_UDP;
	const struct bib_entry *e;
	struct session *s;

	s = session_find4(db, t->proto, &t->dst4, &t->src4);
	if (s) {
		session_refresh(db, s, x->now);
		return found(x, s);
	}
	/* UDP without a BIB entry: discarded, answered with ICMPv4 3/3 (RFC
	 * 6146 §3.5.1.1; Jool hands it to the kernel, which does the same).
	 * ICMP query (§3.5.3): silently discarded. */
	e = bib_find4(db, t->proto, &t->dst4);
	if (!e && udp)
		return verdict_drop_icmp4(x, STAT_BIB4_NOT_FOUND, ICMPERR4_UNREACH, ICMPERR4_PORT,
					  0);
	if (!e)
		return verdict_drop(x, STAT_BIB4_NOT_FOUND);
	/* Jool answers the UDP refusal with 3/13; a query is discarded as
	 * the one without a BIB entry. */
	if (!filtering_adf_allows(x, e) && udp)
		return verdict_drop_icmp4(x, STAT_ADF, ICMPERR4_UNREACH, ICMPERR4_ADMIN, 0);
	if (!filtering_adf_allows(x, e))
		return verdict_drop(x, STAT_ADF);
	return filtering_add_session4(x, e, TCPS_CLOSED);
}

/* ICMP errors: the BIB entry of the flow they are about, no session, no
 * change to any state (JOOL-REFERENCE §6; Jool counts a miss in
 * SESSION_NOT_FOUND). */
static struct verdict
icmp_error6(struct xlation *x)
{
	x->bib = bib_find6(&x->n->bib, x->in.proto, &x->in.src6);
	if (!x->bib && maps_elsewhere(x))
		return verdict_handoff(x, x->in.src6.port);
	if (!x->bib)
		return verdict_drop(x, STAT_SESSION_NOT_FOUND);
	return filtering_owned(x, x->bib);
}

static struct verdict
icmp_error4(struct xlation *x)
{
	x->bib = bib_find4(&x->n->bib, x->in.proto, &x->in.dst4);
	if (!x->bib)
		return verdict_drop(x, STAT_SESSION_NOT_FOUND);
	return verdict_continue();
}

struct verdict
filtering_owned(struct xlation *x, const struct bib_entry *e)
{
	uint16_t port = bib_entry_taddr4(e).port;

	return foreign_port(x, port) ? verdict_handoff(x, port) : verdict_continue();
}

struct verdict
filtering6(struct xlation *x)
{
	struct verdict v = check6(x);

	if (!verdict_ok(v))
		return v;
	if (x->in.is_error)
		return icmp_error6(x);
	if (x->in.proto == L4_TCP)
		return filtering_tcp6(x);
	return udp_icmp6(x);
}

/* Checks on the IPv4 packet's addresses, before any state. */
static struct verdict
check4(struct xlation *x)
{
	const struct globals *g = &x->n->g;

	/* Jool: a destination outside pool4 is not ours. For an ICMP error
	 * the tuple's destination is the quoted packet's source: our mask. */
	if (!pool4_contains(x->n->pool4, x->in.proto, &x->in.dst4))
		return verdict_drop(x, STAT_POOL4_MISMATCH);
	/* The outer source, for errors too (the router that sent it).
	 * Silent: no ICMP error may go to such a source. */
	if (illegal_src4(x->outer4))
		return verdict_drop(x, STAT_SRC4_ILLEGAL);
	/* RFC 6052 §3.1, the 4->6 half of NONGLOBAL_DST: the address that
	 * becomes the IPv6 source must not be embedded in the WKP when it is
	 * not global. For ICMP errors outgoing_tuple4_src() already fell back
	 * from a non-global router to the flow's remote node. */
	if (g->wkp_global_only && rfc6052_is_wkp(&g->pool6) &&
	    rfc6052_is_nonglobal4(outgoing_tuple4_src(x)))
		return verdict_drop(x, STAT_NONGLOBAL_SRC);
	return verdict_continue();
}

struct verdict
filtering4(struct xlation *x)
{
	struct verdict v = check4(x);

	if (!verdict_ok(v))
		return v;
	if (x->in.is_error)
		return icmp_error4(x);
	if (x->in.proto == L4_TCP)
		return filtering_tcp4(x);
	return udp_icmp4(x);
}
