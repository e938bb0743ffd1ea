/*
 * RFC 6146 §3.5.2: TCP Session Handling, the part of Filtering and
 * Updating that depends on the TCP state machine.
 *
 * A packet that meets a session hands its flags to session_tcp_update()
 * (tcp_state.c decides, session.c applies). The CLOSED state, "no
 * session", is decided here, case by case as JOOL-REFERENCE §3.6 lists
 * them:
 *   v6 SYN       BIB entry (existing, taken from a stored type-1 v4 SYN,
 *                or chosen) + session in V6_INIT;
 *   v6 non-SYN   translated through an existing BIB entry without a
 *                session, else SYN6_EXPECTED;
 *   v4 SYN       drop-externally-initiated-tcp: V4_SYN; no BIB entry:
 *                stored as type 1 (simultaneous open); BIB entry refused
 *                by address-dependent filtering: V4_INIT session holding
 *                the packet as type 2; else V4_INIT session, translated;
 *   v4 non-SYN   translated through an existing BIB entry without a
 *                session, else SYN4_EXPECTED.
 *
 * Deviation from Jool: a v4 non-SYN through a BIB entry without a session
 * also passes address-dependent filtering (else an RST or ACK would reach
 * a node ADF is meant to shield); Jool lets it through.
 */
#include "pipeline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>

static bool
is_syn(const struct xlation *x)
{
	return (x->in.tcp_flags & TH_SYN) != 0;
}

/* A packet of a live session (RFC 6146 §3.5.2.2, every state but CLOSED). */
static struct verdict
update(struct xlation *x, struct session *s, enum tcp_dir dir)
{
	struct bib *db = &x->n->bib;

	/* The only DROP a live session gives: a v4 packet while the v4 SYN it
	 * holds (type 2) waits; it must not authorise itself. */
	if (session_tcp_update(db, s, dir, x->in.tcp_flags, x->now) == TCP_FATE_DROP)
		return verdict_drop(x,
				    session_stored(db, s, NULL) ? STAT_SO_WAITING : STAT_UNKNOWN);
	x->session = s;
	x->bib = session_bib(db, s);
	return verdict_continue();
}

/* Is `t` in pool4 set `set`? */
static bool
set_has(const struct pool4_set *set, const struct taddr4 *t)
{
	const struct pool4_range *r;
	const struct pool4_run *run;
	uint32_t count;

	if (!set)
		return false;
	run = pool4_set_find_run(set, ntohl(t->addr.s_addr));
	if (!run)
		return false;
	r = pool4_set_ranges(set, &count);
	for (uint32_t i = run->first; i < run->first + run->count && i < count; i++)
		if (t->port >= r[i].port_min && t->port <= r[i].port_max)
			return true;
	return false;
}

struct accept_ctx {
	const struct xlation *x;
	const struct pool4_set *set;
};

/* JOOL-REFERENCE §3.6: the stored taddr is used only if it is in the
 * packet's mask domain, and it must still be free. */
static bool
accept_local(void *ctx, const struct taddr4 *local)
{
	const struct accept_ctx *c = ctx;

	return set_has(c->set, local) && !bib_find4(&c->x->n->bib, L4_TCP, local);
}

/*
 * RFC 6146 §3.5.2.2 simultaneous open: a v4 SYN from the remote this v6
 * SYN goes to is stored (type 1). The new BIB entry gets exactly the
 * pool4 taddr it was sent to, so both sides' guesses of the mapping meet
 * (hole punching). The session starts as that v4 SYN would have made it,
 * V4_INIT, and this v6 SYN moves it to ESTABLISHED; the stored packet is
 * dropped (the remote will retransmit it into the open session).
 */
static struct verdict
simultaneous_open(struct xlation *x, uint32_t handle)
{
	struct nat64 *n = x->n;
	struct taddr4 mask = syn_queue_local(&n->synq, handle);
	struct verdict v = filtering_add_session6(x, &mask, TCPS_V4_INIT);

	if (!verdict_ok(v))
		return v;
	syn_queue_free(&n->synq, handle);
	session_tcp_update(&n->bib, x->session, TCP_DIR_6TO4, x->in.tcp_flags, x->now);
	return verdict_continue();
}

/* CLOSED + v6 SYN. */
static struct verdict
v6_syn(struct xlation *x)
{
	struct nat64 *n = x->n;
	const struct bib_entry *e = bib_find6(&n->bib, L4_TCP, &x->in.src6);
	struct accept_ctx ctx = {x, NULL};
	struct taddr4 mask;
	uint32_t handle;
	struct verdict v;

	if (e) {
		mask = bib_entry_taddr4(e);
		if (foreign_port(x, mask.port))
			return verdict_handoff(x, mask.port);
		return filtering_add_session6(x, &mask, TCPS_V6_INIT);
	}
	if (maps_elsewhere(x))
		return verdict_handoff(x, x->in.src6.port);
	if (syn_queue_count(&n->synq) != 0) {
		ctx.set = pool4_find_set(n->pool4, 0, L4_TCP);
		handle = syn_queue_find1(&n->synq, &x->in.dst4, accept_local, &ctx);
		if (handle)
			return simultaneous_open(x, handle);
	}
	v = filtering_choose_mask(x, &mask);
	if (!verdict_ok(v))
		return v;
	return filtering_add_session6(x, &mask, TCPS_V6_INIT);
}

/* CLOSED + v6 non-SYN: through the BIB entry, creating nothing. */
static struct verdict
v6_other(struct xlation *x)
{
	x->bib = bib_find6(&x->n->bib, L4_TCP, &x->in.src6);
	if (!x->bib && maps_elsewhere(x))
		return verdict_handoff(x, x->in.src6.port);
	if (!x->bib)
		return verdict_drop(x, STAT_SYN6_EXPECTED);
	return filtering_owned(x, x->bib);
}

struct verdict
filtering_tcp6(struct xlation *x)
{
	struct session *s = session_find6(&x->n->bib, L4_TCP, &x->in.src6, &x->in.dst4);

	if (s)
		return update(x, s, TCP_DIR_6TO4);
	return is_syn(x) ? v6_syn(x) : v6_other(x);
}

/* CLOSED + v4 SYN without a BIB entry: type 1. */
static struct verdict
store_type1(struct xlation *x)
{
	struct nat64 *n = x->n;
	int err = syn_queue_add1(&n->synq, &x->in.src4, &x->in.dst4, x->p->data,
				 x->info.outer.l3_end, x->now);

	switch (err) {
	case 0:
		return verdict_stolen(x, STAT_TYPE1PKT);
	case -EEXIST:
		return verdict_drop(x, STAT_SO_EXISTS);
	case -ENOSPC:
		/* JOOL-REFERENCE §2: once full, an immediate ICMPv4 3/3. */
		return verdict_drop_icmp4(x, STAT_SO_FULL, ICMPERR4_UNREACH, ICMPERR4_PORT, 0);
	default:
		return verdict_drop(x, STAT_STATE_NOMEM);
	}
}

/* CLOSED + v4 SYN through a BIB entry ADF refuses: type 2, a V4_INIT
 * session holding the packet for 6 s (session_attach_stored()). */
static struct verdict
store_type2(struct xlation *x, const struct bib_entry *e)
{
	struct nat64 *n = x->n;
	uint32_t handle;
	struct verdict v;
	int err;

	err = syn_queue_add2(&n->synq, x->p->data, x->info.outer.l3_end, x->now, &handle);
	if (err == -ENOSPC)
		return verdict_drop_icmp4(x, STAT_SO_FULL, ICMPERR4_UNREACH, ICMPERR4_PORT, 0);
	if (err)
		return verdict_drop(x, STAT_STATE_NOMEM);
	v = filtering_add_session4(x, e, TCPS_V4_INIT);
	if (!verdict_ok(v)) {
		syn_queue_free(&n->synq, handle);
		return v;
	}
	if (session_attach_stored(&n->bib, x->session, handle, x->now)) {
		session_remove(&n->bib, x->session, x->now);
		syn_queue_free(&n->synq, handle);
		return verdict_drop(x, STAT_STATE_NOMEM);
	}
	return verdict_stolen(x, STAT_TYPE2PKT);
}

/* CLOSED + v4 SYN. */
static struct verdict
v4_syn(struct xlation *x, const struct bib_entry *e)
{
	/* Jool's drop-externally-initiated-tcp: silent, counted. */
	if (x->n->g.drop_external_tcp)
		return verdict_drop(x, STAT_V4_SYN);
	if (!e)
		return store_type1(x);
	if (!filtering_adf_allows(x, e))
		return store_type2(x, e);
	return filtering_add_session4(x, e, TCPS_V4_INIT);
}

/* CLOSED + v4 non-SYN: through the BIB entry, creating nothing. */
static struct verdict
v4_other(struct xlation *x, const struct bib_entry *e)
{
	if (!e)
		return verdict_drop(x, STAT_SYN4_EXPECTED);
	if (!filtering_adf_allows(x, e))
		return verdict_drop_icmp4(x, STAT_ADF, ICMPERR4_UNREACH, ICMPERR4_ADMIN, 0);
	x->bib = e;
	return verdict_continue();
}

struct verdict
filtering_tcp4(struct xlation *x)
{
	struct bib *db = &x->n->bib;
	struct session *s = session_find4(db, L4_TCP, &x->in.dst4, &x->in.src4);
	const struct bib_entry *e;

	if (s)
		return update(x, s, TCP_DIR_4TO6);
	e = bib_find4(db, L4_TCP, &x->in.dst4);
	return is_syn(x) ? v4_syn(x, e) : v4_other(x, e);
}
