/*
 * The engine's life cycle, control plane and periodic work (nat64.h).
 * Packets go through pipeline.c.
 *
 * Every control-plane change is all-or-nothing: settings are validated
 * whole before the first one is applied, and the tables' own operations
 * (pool4_add, bib_add_static ...) change nothing when they fail.
 */
#include "nat64.h"

#include "checksum.h"
#include "pipeline.h"
#include "rfc6052.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- Settings ------------------------------------------------------- */

/* The value of a numeric or boolean key, as the key table sees it. */
static bool
key_value(const struct globals *g, const struct global_key *k, uint64_t *v)
{
	const uint8_t *f = (const uint8_t *)g + k->offset;
	uint32_t u32;

	switch (k->type) {
	case GT_BOOL: /* a byte: anything but 0 or 1 is out of range */
	case GT_U8:
		*v = f[0];
		return true;
	case GT_U32:
		memcpy(&u32, f, sizeof(u32));
		*v = u32;
		return true;
	case GT_TIME:
		memcpy(v, f, sizeof(*v));
		return true;
	default:
		return false;
	}
}

static int
check_plateaus(const struct xlat_config *x, char *err, size_t errlen)
{
	if (x->mtu_plateau_count == 0 || x->mtu_plateau_count > MTU_PLATEAUS_MAX)
		return fail(err, errlen, "mtu-plateaus: %u entries; 1 to %d are allowed",
			    x->mtu_plateau_count, MTU_PLATEAUS_MAX);
	for (unsigned i = 0; i < x->mtu_plateau_count; i++)
		if (x->mtu_plateaus[i] == 0)
			return fail(err, errlen, "mtu-plateaus: 0 is not an MTU");
	return 0;
}

static void
reasm_config_of(const struct globals *g, struct reasm_config *cfg)
{
	reasm_config_default(cfg);
	cfg->budget = g->reasm_budget;
	cfg->source_limit = g->reasm_source_limit;
	cfg->timeout = g->reasm_timeout;
}

/* The limits of the keys together (reassembly.h). */
static int
check_reasm(const struct globals *g, char *err, size_t errlen)
{
	struct reasm_config cfg;
	const char *why;

	reasm_config_of(g, &cfg);
	why = reasm_config_check(&cfg);
	if (why)
		return fail(err, errlen,
			    "reassembly-budget %" PRIu32 ", reassembly-source-limit %" PRIu32
			    ": %s",
			    g->reasm_budget, g->reasm_source_limit, why);
	return 0;
}

/* The tables' own minimums (bib.h), which the key table repeats; checked
 * here too so that applying them can't fail half way. */
static int
check_timeouts(const struct globals *g, char *err, size_t errlen)
{
	/* (ICMP has no minimum.) */
	if (g->udp_timeout < BIB_TIMEOUT_UDP_MIN || g->tcp_est_timeout < BIB_TIMEOUT_TCP_EST_MIN ||
	    g->tcp_trans_timeout < BIB_TIMEOUT_TCP_TRANS_MIN)
		return fail(err, errlen, "a timeout is below its minimum (RFC 6146 §4)");
	return 0;
}

/* Every key within the limits of the key table (globals.c), pool6 valid. */
static int
check_globals(const struct globals *g, char *err, size_t errlen)
{
	enum rfc6052_error e6;
	uint64_t v;

	if (!g->pool6_set)
		return fail(err, errlen, "pool6 is not set");
	e6 = rfc6052_validate(&g->pool6);
	if (e6 != RFC6052_OK)
		return fail(err, errlen, "pool6: %s", rfc6052_strerror(e6));
	for (const struct global_key *k = globals_keys(); k->name; k++) {
		if (!key_value(g, k, &v))
			continue;
		if (v < k->min || v > k->max)
			return fail(err, errlen,
				    "%s: %" PRIu64 " is out of range (%" PRIu64 " to %" PRIu64 ")",
				    k->name, v, k->min, k->max);
	}
	if (check_plateaus(&g->xlat, err, errlen))
		return -EINVAL;
	if (check_reasm(g, err, errlen))
		return -EINVAL;
	return check_timeouts(g, err, errlen);
}

static bool
same_pool6(const struct globals *a, const struct globals *b)
{
	return a->pool6_set == b->pool6_set && a->pool6.len == b->pool6.len &&
	       in6_equal(&a->pool6.addr, &b->pool6.addr);
}

/* ---- Hooks from the tables ------------------------------------------ */

/* Every BIB and session event: counted, and logged as logging-bib /
 * logging-session say (read at each event, so a change applies at once). */
static void
on_event(void *ctx, const struct bib_event *ev)
{
	static const enum stat_id counter[] = {
		[BIB_EVENT_BIB_ADDED] = STAT_BIB_CREATED,
		[BIB_EVENT_BIB_REMOVED] = STAT_BIB_REMOVED,
		[BIB_EVENT_SESSION_ADDED] = STAT_SESSION_CREATED,
		[BIB_EVENT_SESSION_REMOVED] = STAT_SESSION_REMOVED,
	};
	struct nat64 *n = ctx;
	bool is_bib = ev->type == BIB_EVENT_BIB_ADDED || ev->type == BIB_EVENT_BIB_REMOVED;

	if ((unsigned)ev->type < sizeof(counter) / sizeof(counter[0]))
		stat_inc(&n->stats, counter[ev->type]);
	if (n->log && (is_bib ? n->g.logging_bib : n->g.logging_session))
		n->log(n->log_ctx, ev);
}

/* A session let go of its type-2 SYN without an error due. */
static void
on_release(void *ctx, uint32_t handle)
{
	struct nat64 *n = ctx;

	syn_queue_free(&n->synq, handle);
}

/* One worker's part of an instance-wide limit (rounded up). IPv6 flows are
 * steered by source port (docs/steering.md), so a host's sessions spread
 * over the workers and max-sessions-per-host is split as well. */
static uint32_t
share_of(const struct nat64 *n, uint32_t total)
{
	uint32_t k = n->params.share.count > 1 ? n->params.share.count : 1;

	return total / k + (total % k != 0);
}

/* One worker's part of reassembly-budget, never below the per-source
 * limit (a source's fragments all reach one worker). */
static void
reasm_share(const struct nat64 *n, struct reasm_config *cfg)
{
	uint32_t part = share_of(n, cfg->budget);

	cfg->budget = part > cfg->source_limit ? part : cfg->source_limit;
}

static void
bib_config_of(struct nat64 *n, struct bib_config *cfg)
{
	bib_config_default(cfg);
	cfg->key = n->params.key;
	cfg->share = n->params.share;
	cfg->max_sessions = share_of(n, n->g.max_sessions);
	cfg->max_sessions_per_host = share_of(n, n->g.max_sessions_per_host);
	cfg->timeout[SESSION_TIMER_UDP] = n->g.udp_timeout;
	cfg->timeout[SESSION_TIMER_ICMP] = n->g.icmp_timeout;
	cfg->timeout[SESSION_TIMER_TCP_EST] = n->g.tcp_est_timeout;
	cfg->timeout[SESSION_TIMER_TCP_TRANS] = n->g.tcp_trans_timeout;
	cfg->handle_rst_during_fin_rcv = n->g.handle_rst_during_fin_rcv;
	/* Pre-size the five session/BIB tables (bib.c, session.c) so the first
	 * 64 Ki sessions never rehash. Cost: 8 bytes of bucket heads per
	 * expected session per table (load 1/2, hashtab.h), so 5 x 512 KiB =
	 * 2.5 MiB at 64 Ki. Sizing for max_sessions (2 Mi by default) would
	 * make about 64 MiB resident as soon as a few thousand sessions had
	 * touched every page of heads. Above 64 Ki the tables still double,
	 * amortised O(1) per insert. */
	cfg->expected_sessions = n->g.max_sessions < 65536 ? n->g.max_sessions : 65536;
	cfg->hooks = (struct bib_hooks){.log = on_event, .release_stored = on_release, .ctx = n};
}

/* ---- Life cycle ----------------------------------------------------- */

int
nat64_create(struct nat64 **out, const struct globals *g, const struct nat64_params *p, char *err,
	     size_t errlen)
{
	struct bib_config cfg;
	struct reasm_config rcfg;
	struct nat64 *n;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !g || !p)
		return fail(err, errlen, "missing argument");
	if (check_globals(g, err, errlen))
		return -EINVAL;
	if (p->share.count > 1 && p->share.index >= p->share.count)
		return fail(err, errlen, "worker %u of %u", p->share.index, p->share.count);
	n = calloc(1, sizeof(*n));
	if (!n)
		goto err_nomem;
	n->g = *g;
	n->params = *p;
	n->pool4 = pool4_create();
	if (!n->pool4)
		goto err_free;
	bib_config_of(n, &cfg);
	rc = bib_init(&n->bib, &cfg);
	if (rc)
		goto err_pool4;
	rfc6056_init(&n->rfc6056, &p->key, g->f_args);
	n->rfc6056.share = p->share;
	syn_queue_init(&n->synq, g->max_simultaneous_opens);
	ratelimit_init(&n->icmp_rl, p->icmp_errors_per_sec, 0);
	reasm_config_of(g, &rcfg);
	reasm_share(n, &rcfg);
	if (reasm_create(&n->reasm, &rcfg, &p->key))
		goto err_bib;
	n->reasm_capacity = rcfg.budget;
	*out = n;
	return 0;

err_bib:
	bib_fini(&n->bib);
	syn_queue_fini(&n->synq);
err_pool4:
	pool4_destroy(n->pool4);
err_free:
	free(n);
err_nomem:
	fail(err, errlen, "out of memory");
	return -ENOMEM;
}

void
nat64_destroy(struct nat64 *n)
{
	if (!n)
		return;
	bib_fini(&n->bib); /* hands type-2 SYNs back to on_release first */
	syn_queue_fini(&n->synq);
	pool4_destroy(n->pool4);
	reasm_destroy(n->reasm);
	free(n);
}

void
nat64_input(struct nat64 *n, struct pkt *p, uint64_t now, uint8_t *reply, struct nat64_result *res)
{
	pipeline_run(n, p, NULL, now, reply, res);
}

void
nat64_input_gso(struct nat64 *n, struct pkt *p, const struct gso_hdr *gso, uint64_t now,
		uint8_t *reply, struct nat64_result *res)
{
	pipeline_run(n, p, gso, now, reply, res);
}

bool
nat64_result_segment(struct nat64_result *res, uint8_t *buf, struct pkt *seg)
{
	enum { ROOM = NAT64_SEGMENT_BUF - PKT_HEADROOM - 40 };
	size_t len = 0;

	if (!res->segment)
		return false;
	if (gso_seg_next(&res->seg, buf + PKT_HEADROOM, ROOM, &len) != GSO_OK || len == 0) {
		res->segment = false;
		return false;
	}
	*seg = (struct pkt){
		.data = buf + PKT_HEADROOM,
		.len = (uint32_t)len,
		.headroom = PKT_HEADROOM,
		.tailroom = (uint32_t)(NAT64_SEGMENT_BUF - PKT_HEADROOM - len),
	};
	return true;
}

void
nat64_input_handed(struct nat64 *n, struct pkt *p, const struct nat64_handoff *h, uint64_t now,
		   uint8_t *reply, struct nat64_result *res)
{
	pipeline_run_handed(n, p, h, now, reply, res);
}

bool
nat64_result_next(struct nat64_result *res, struct pkt *out)
{
	if (!res->send)
		return false;
	if (res->split)
		return frag_next(&res->frags, out);
	if (res->taken)
		return false;
	res->taken = true;
	*out = res->out;
	return true;
}

/* ---- Periodic work -------------------------------------------------- */

struct tick {
	struct nat64 *n;
	uint64_t now;
	nat64_emit_fn emit;
	void *ctx;
};

enum {
	PROBE_LEN = 40 + 20,
	PROBE_WINDOW = 8192,
	PROBE_HOP_LIMIT = 255,
};

/*
 * RFC 6146 §3.5.2.2: when an established session's timer runs out the
 * NAT64 may probe the IPv6 node. Jool's probe (JOOL-REFERENCE §3.6): a
 * bare ACK, sequence and acknowledgement 0, window 8192, hop limit 255,
 * from the remote (dst6) to the node (src6). A live node answers with an
 * RST or an ACK, and that packet revives the session (TRANS + non-RST ->
 * ESTABLISHED); otherwise the session dies on the transitory timer.
 */
static uint32_t
build_probe(uint8_t *b, const struct session_tuple *t)
{
	uint8_t *tcp = b + 40;
	uint16_t csum;

	memset(b, 0, PROBE_LEN);
	b[0] = 0x60;
	b[5] = 20; /* payload length */
	b[6] = IPPROTO_TCP;
	b[7] = PROBE_HOP_LIMIT;
	memcpy(b + 8, &t->dst6.addr, 16);
	memcpy(b + 24, &t->src6.addr, 16);
	tcp[0] = (uint8_t)(t->dst6.port >> 8);
	tcp[1] = (uint8_t)t->dst6.port;
	tcp[2] = (uint8_t)(t->src6.port >> 8);
	tcp[3] = (uint8_t)t->src6.port;
	tcp[12] = 5 << 4; /* data offset: no options */
	tcp[13] = 0x10;   /* ACK */
	tcp[14] = PROBE_WINDOW >> 8;
	tcp[15] = PROBE_WINDOW & 0xff;
	csum = csum_fold(
		csum_partial(tcp, 20, csum_pseudo6(&t->dst6.addr, &t->src6.addr, IPPROTO_TCP, 20)));
	memcpy(tcp + 16, &csum, 2);
	return PROBE_LEN;
}

/* RFC 6146 §3.5.2.2: a stored v4 SYN whose 6 s ran out gets ICMPv4 3/3
 * (JOOL-REFERENCE §3.6: port unreachable, as Jool's code). */
static void
answer_syn(void *arg, const uint8_t *pkt, uint32_t len)
{
	static const struct icmp_error e = {4, ICMPERR4_UNREACH, ICMPERR4_PORT, 0};
	const struct pkt_info syn = {0}; /* a stored SYN: TCP, first fragment */
	struct tick *t = arg;
	struct nat64 *n = t->n;
	uint8_t buf[ICMP_ERROR4_MAX];
	uint32_t out;

	stat_inc(&n->stats, STAT_SO_EXPIRED);
	if (!t->emit || len < 20)
		return;
	if (!icmp_error_allowed4(pkt, &syn)) {
		stat_inc(&n->stats, STAT_ICMPERR_NOT_ALLOWED);
		return;
	}
	if (!pipeline_icmp_allowed(n, t->now))
		return;
	out = icmp_error_build4(buf, n->params.own4, n->ipv4_id++, pkt, len, &e);
	stat_inc(&n->stats, STAT_ICMP4ERR_SENT);
	t->emit(t->ctx, buf, out);
}

static void
on_action(void *arg, const struct session_action *a)
{
	struct tick *t = arg;
	struct nat64 *n = t->n;
	uint8_t probe[PROBE_LEN];
	const uint8_t *pkt;
	uint32_t len;

	if (a->type == SESSION_ACTION_PROBE) {
		stat_inc(&n->stats, STAT_TCP_PROBES_SENT);
		if (t->emit)
			t->emit(t->ctx, probe, build_probe(probe, &a->tuple));
		return;
	}
	pkt = syn_queue_packet(&n->synq, a->stored, &len);
	if (pkt)
		answer_syn(t, pkt, len);
	syn_queue_free(&n->synq, a->stored);
}

/*
 * A datagram whose fragments did not all come within reassembly-timeout,
 * and whose first fragment did: ICMPv4 Time Exceeded code 1 / ICMPv6 Time
 * Exceeded code 1 "fragment reassembly time exceeded" to its source,
 * quoting that first fragment (RFC 792, RFC 1122 §3.3.2, RFC 8200 §4.5).
 *
 * A deliberate choice (docs/icmp.md): Jool never sends it (Linux's
 * conntrack defrag, which reassembles for Jool, leaves it to end hosts),
 * but nat64d is where the datagram is reassembled and lost, and the
 * sender gets no other sign of it. The same rules as every error the
 * engine originates apply: rate limit, never about an ICMP error or a
 * packet from or to a non-unicast address.
 */
static void
on_frag_expired(void *arg, const struct pkt *first)
{
	struct tick *t = arg;
	struct nat64 *n = t->n;
	bool v6 = first->len > 0 && first->data[0] >> 4 == 6;
	struct icmp_error e = {v6 ? 6 : 4, v6 ? ICMPERR6_TIME : ICMPERR4_TIME, 1, 0};
	uint8_t buf[ICMP_ERROR6_MAX];
	struct pkt_info info;
	uint32_t len;

	if (!t->emit)
		return;
	if ((v6 ? pkt_parse6(first->data, first->len, &info)
		: pkt_parse4(first->data, first->len, &info)) != STAT_OK ||
	    !(v6 ? icmp_error_allowed6(first->data, &info)
		 : icmp_error_allowed4(first->data, &info))) {
		stat_inc(&n->stats, STAT_ICMPERR_NOT_ALLOWED);
		return;
	}
	if (!pipeline_icmp_allowed(n, t->now))
		return;
	if (v6)
		len = icmp_error_build6(buf, &n->params.own6, first->data, first->len, &e);
	else
		len = icmp_error_build4(buf, n->params.own4, n->ipv4_id++, first->data, first->len,
					&e);
	if (len == 0)
		return;
	stat_inc(&n->stats, v6 ? STAT_ICMP6ERR_SENT : STAT_ICMP4ERR_SENT);
	stat_inc(&n->stats, STAT_FRAG_TIMEOUT_ICMP);
	t->emit(t->ctx, buf, len);
}

void
nat64_tick(struct nat64 *n, uint64_t now, nat64_emit_fn emit, void *ctx)
{
	struct tick t = {n, now, emit, ctx};

	session_sweep(&n->bib, now, 0, on_action, &t);
	syn_queue_expire(&n->synq, now, answer_syn, &t);
	n->stats.count[STAT_FRAG_TIMEOUT] += reasm_expire(n->reasm, now, on_frag_expired, &t);
}

/* ---- Control plane -------------------------------------------------- */

const struct globals *
nat64_globals(const struct nat64 *n)
{
	return &n->g;
}

/*
 * New reassembly settings, first of the changes since it is the only one
 * that can fail (memory). A budget above the arena's size needs a new
 * arena: the fragments held are dropped with the old one (as at a
 * timeout); below it, reasm_configure applies it at once.
 */
static int
set_reasm(struct nat64 *n, const struct globals *g, char *err, size_t errlen)
{
	struct reasm_config cfg;
	struct reasm *r;

	reasm_config_of(g, &cfg);
	reasm_share(n, &cfg);
	if (cfg.budget <= n->reasm_capacity)
		return reasm_configure(n->reasm, &cfg) ? fail(err, errlen, "reassembly settings")
						       : 0;
	if (reasm_create(&r, &cfg, &n->params.key)) {
		fail(err, errlen, "reassembly-budget %" PRIu32 ": out of memory", cfg.budget);
		return -1;
	}
	reasm_destroy(n->reasm);
	n->reasm = r;
	n->reasm_capacity = cfg.budget;
	return 0;
}

int
nat64_set_globals(struct nat64 *n, const struct globals *g, char *err, size_t errlen)
{
	if (!g) {
		fail(err, errlen, "missing argument");
		return -1;
	}
	if (check_globals(g, err, errlen))
		return -1;
	if (!same_pool6(&n->g, g)) {
		fail(err, errlen, "pool6 can't change on a NAT64 instance");
		return -1;
	}
	if (set_reasm(n, g, err, errlen))
		return -1;
	/* Validated above: none of these can fail now. */
	bib_set_timeout(&n->bib, SESSION_TIMER_UDP, g->udp_timeout);
	bib_set_timeout(&n->bib, SESSION_TIMER_ICMP, g->icmp_timeout);
	bib_set_timeout(&n->bib, SESSION_TIMER_TCP_EST, g->tcp_est_timeout);
	bib_set_timeout(&n->bib, SESSION_TIMER_TCP_TRANS, g->tcp_trans_timeout);
	bib_set_limits(&n->bib, share_of(n, g->max_sessions),
		       share_of(n, g->max_sessions_per_host));
	bib_set_handle_rst(&n->bib, g->handle_rst_during_fin_rcv);
	n->rfc6056.f_args = g->f_args;
	syn_queue_set_capacity(&n->synq, g->max_simultaneous_opens);
	n->g = *g;
	return 0;
}

int
nat64_pool4_add(struct nat64 *n, const struct pool4_entry *e, const struct pool4_iterations *iter)
{
	return pool4_add(n->pool4, e, iter);
}

int
nat64_pool4_remove(struct nat64 *n, const struct pool4_entry *e, bool quick, uint64_t now)
{
	uint32_t mask, first;
	uint16_t lo, hi;
	int rc = pool4_remove(n->pool4, e);

	if (rc || quick)
		return rc;
	/* Jool: without --quick, the BIB entries (and sessions) of the
	 * removed taddrs go too, static ones included. */
	mask = e->prefix.len == 0 ? 0 : UINT32_MAX << (32 - e->prefix.len);
	first = ntohl(e->prefix.addr.s_addr) & mask;
	lo = e->port_min < e->port_max ? e->port_min : e->port_max;
	hi = e->port_min < e->port_max ? e->port_max : e->port_min;
	bib_remove_range4(&n->bib, e->proto, (struct in_addr){htonl(first)},
			  (struct in_addr){htonl(first | ~mask)}, lo, hi, now);
	return 0;
}

void
nat64_pool4_flush(struct nat64 *n, bool quick, uint64_t now)
{
	pool4_flush(n->pool4);
	if (!quick)
		bib_flush(&n->bib, now);
}

int
nat64_pool4_set_fallback(struct nat64 *n, const struct in_addr *addrs, size_t count)
{
	return pool4_set_fallback(n->pool4, addrs, count);
}

const struct pool4 *
nat64_pool4(const struct nat64 *n)
{
	return n->pool4;
}

int
nat64_bib_add(struct nat64 *n, enum l4proto proto, const struct taddr6 *a6, const struct taddr4 *a4,
	      uint64_t now)
{
	if ((unsigned)proto >= L4_COUNT || !a6 || !a4)
		return -EINVAL;
	/* Jool (since 2022): a static entry's IPv4 taddr must be in pool4,
	 * else no packet could ever reach it. */
	if (!pool4_contains(n->pool4, proto, a4))
		return -EADDRNOTAVAIL;
	return bib_add_static(&n->bib, proto, a6, a4, now);
}

int
nat64_bib_remove(struct nat64 *n, enum l4proto proto, const struct taddr6 *a6,
		 const struct taddr4 *a4, uint64_t now)
{
	struct bib_entry *e;
	struct taddr4 t4;

	if ((unsigned)proto >= L4_COUNT || (!a6 && !a4))
		return -EINVAL;
	if (!a6)
		return bib_remove4(&n->bib, proto, a4, now);
	if (!a4)
		return bib_remove6(&n->bib, proto, a6, now);
	/* Both given: they must name the same entry. */
	e = bib_find6(&n->bib, proto, a6);
	if (!e)
		return -ENOENT;
	t4 = bib_entry_taddr4(e);
	if (!taddr4_equal(&t4, a4))
		return -ENOENT;
	bib_remove(&n->bib, e, now);
	return 0;
}

const struct bib *
nat64_bib(const struct nat64 *n)
{
	return &n->bib;
}

const struct stats *
nat64_stats(const struct nat64 *n)
{
	return &n->stats;
}

void
nat64_frag_usage(const struct nat64 *n, struct nat64_frag_usage *u)
{
	u->bytes = reasm_memory(n->reasm);
	u->datagrams = reasm_datagrams(n->reasm);
	u->budget = n->g.reasm_budget;
}

void
nat64_set_log_hook(struct nat64 *n, void (*log)(void *ctx, const struct bib_event *ev), void *ctx)
{
	n->log = log;
	n->log_ctx = ctx;
}
