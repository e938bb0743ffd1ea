/*
 * Plans are sorted arrays of kernel objects; so is the list of what is in
 * place. Adding a plan is "create every object of the plan that is not in
 * place", committing it is "remove every object in place that the plan
 * lacks": the same code serves startup, SIGHUP and shutdown (an empty plan).
 * Sorting by kind gives the order of creation (routes before the proxy
 * entries that need them, the local rule moved before the steering rules
 * it makes reachable); removal runs in the reverse order.
 *
 * Why not route an owned address: its local route (table local) would win
 * anyway, and if it did not, the host would lose its own address. Policy
 * rules keyed on protocol and destination port send just the pool4 ports
 * to the TUN device.
 */
#include "plumb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netlink.h"
#include "pool4.h"
#include "sysctl.h"

/* In creation order. */
enum obj_kind {
	OBJ_ROUTE6,
	OBJ_ROUTE4,
	OBJ_PROXY4,
	OBJ_LOCAL_RULE,
	OBJ_STEER4,
};

/* Everything that identifies an object (unused fields stay zero). */
struct obj_key {
	uint32_t kind;
	uint32_t table;
	struct prefix6 p6;           /* OBJ_ROUTE6 */
	struct prefix4 p4;           /* OBJ_ROUTE4; OBJ_PROXY4 uses p4.addr */
	struct netlink_steer4 steer; /* OBJ_STEER4 */
};

struct obj {
	struct obj_key k;
	bool owned; /* created by nat64d: removed by nat64d */
	bool fresh; /* added by the last plumb_add() */
};

struct objs {
	struct obj *v;
	size_t n, cap;
};

struct plumb_plan {
	struct objs o;
};

struct plumb {
	struct netlink *nl;
	struct plumb_params p;
	char tun_name[16], uplink_name[16];
	uint32_t table;
	struct objs cur;     /* sorted */
	int old_proxy_delay; /* -1: not changed */
};

enum { PLUMB_PROXY_MAX = 1 << 16 };

/* ---- object arrays ---- */

static int
objs_push(struct objs *a, const struct obj *o)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct obj *v = realloc(a->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *o;
	return 0;
}

#define CMP(x, y)                                                                                  \
	do {                                                                                       \
		if ((x) != (y))                                                                    \
			return (x) < (y) ? -1 : 1;                                                 \
	} while (0)

/* Field by field: padding bytes of a copied struct are not reliable. */
static int
obj_cmp(const void *x, const void *y)
{
	const struct obj_key *a = &((const struct obj *)x)->k, *b = &((const struct obj *)y)->k;
	int c;

	CMP(a->kind, b->kind);
	CMP(a->table, b->table);
	c = memcmp(&a->p6.addr, &b->p6.addr, sizeof(a->p6.addr));
	if (c)
		return c;
	CMP(a->p6.len, b->p6.len);
	CMP(ntohl(a->p4.addr.s_addr), ntohl(b->p4.addr.s_addr));
	CMP(a->p4.len, b->p4.len);
	CMP(ntohl(a->steer.addr.s_addr), ntohl(b->steer.addr.s_addr));
	CMP(a->steer.ipproto, b->steer.ipproto);
	CMP(a->steer.port_lo, b->steer.port_lo);
	CMP(a->steer.port_hi, b->steer.port_hi);
	CMP(a->steer.priority, b->steer.priority);
	CMP(a->steer.table, b->steer.table);
	return 0;
}

static void
objs_sort_unique(struct objs *a)
{
	size_t kept = 0;

	if (a->n == 0)
		return;
	qsort(a->v, a->n, sizeof(*a->v), obj_cmp);
	for (size_t i = 0; i < a->n; i++)
		if (kept == 0 || obj_cmp(&a->v[kept - 1], &a->v[i]) != 0)
			a->v[kept++] = a->v[i];
	a->n = kept;
}

static const struct obj *
objs_find(const struct objs *a, const struct obj *o)
{
	return a->n ? bsearch(o, a->v, a->n, sizeof(*a->v), obj_cmp) : NULL;
}

static struct obj
obj_new(enum obj_kind kind)
{
	struct obj o;

	memset(&o, 0, sizeof(o));
	o.k.kind = kind;
	return o;
}

/* ---- one object against the kernel ---- */

static void
describe(const struct plumb *pl, const struct obj *o, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	switch (o->k.kind) {
	case OBJ_ROUTE6:
		inet_ntop(AF_INET6, &o->k.p6.addr, a, sizeof(a));
		snprintf(buf, len, "route %s/%u dev %s", a, o->k.p6.len, pl->tun_name);
		break;
	case OBJ_ROUTE4:
		inet_ntop(AF_INET, &o->k.p4.addr, a, sizeof(a));
		snprintf(buf, len, "route %s/%u dev %s table %" PRIu32, a, o->k.p4.len,
			 pl->tun_name, o->k.table ? o->k.table : NETLINK_TABLE_MAIN);
		break;
	case OBJ_PROXY4:
		inet_ntop(AF_INET, &o->k.p4.addr, a, sizeof(a));
		snprintf(buf, len, "proxy neighbour %s dev %s", a, pl->uplink_name);
		break;
	case OBJ_LOCAL_RULE:
		snprintf(buf, len, "rule 'lookup local' moved from priority 0 to %d",
			 PLUMB_LOCAL_PRIO);
		break;
	default:
		inet_ntop(AF_INET, &o->k.steer.addr, a, sizeof(a));
		snprintf(buf, len, "rules steering %s %s ports %u-%u to table %" PRIu32, a,
			 o->k.steer.ipproto == IPPROTO_TCP ? "TCP" : "UDP", o->k.steer.port_lo,
			 o->k.steer.port_hi, o->k.steer.table);
		break;
	}
}

static int
obj_add(struct plumb *pl, const struct obj *o)
{
	int tun = pl->p.tun_ifindex;

	switch (o->k.kind) {
	case OBJ_ROUTE6:
		return netlink_route6_add(pl->nl, &o->k.p6, tun, 0);
	case OBJ_ROUTE4:
		return netlink_route4_add(pl->nl, &o->k.p4, tun, o->k.table);
	case OBJ_PROXY4:
		return netlink_proxy4_add(pl->nl, o->k.p4.addr, pl->p.uplink_ifindex);
	case OBJ_LOCAL_RULE:
		return netlink_local_rule_move(pl->nl, PLUMB_LOCAL_PRIO);
	default:
		return netlink_steer4_add(pl->nl, &o->k.steer);
	}
}

static int
obj_del(struct plumb *pl, const struct obj *o)
{
	int tun = pl->p.tun_ifindex;

	switch (o->k.kind) {
	case OBJ_ROUTE6:
		return netlink_route6_del(pl->nl, &o->k.p6, tun, 0);
	case OBJ_ROUTE4:
		return netlink_route4_del(pl->nl, &o->k.p4, tun, o->k.table);
	case OBJ_PROXY4:
		return netlink_proxy4_del(pl->nl, o->k.p4.addr, pl->p.uplink_ifindex);
	case OBJ_LOCAL_RULE:
		return netlink_local_rule_restore(pl->nl, PLUMB_LOCAL_PRIO);
	default:
		return netlink_steer4_del(pl->nl, &o->k.steer);
	}
}

/* Removes an object we own; a failure is logged (nothing else to do). */
static void
remove_owned(struct plumb *pl, const struct obj *o)
{
	char what[160];
	int err;

	if (!o->owned)
		return;
	err = obj_del(pl, o);
	describe(pl, o, what, sizeof(what));
	if (err == 0 || err == -ENOENT) {
		log_debug("removed %s", what);
		return;
	}
	errno = -err;
	log_warn("could not remove %s (%s)", what, netlink_strerror(pl->nl));
}

/* ---- life cycle ---- */

/* net.ipv4.SECTION.IFNAME.KEY = val, in the path form (names may hold dots). */
static void
set_sysctl(const char *section, const char *ifname, const char *key, int val, int *old)
{
	char name[128];
	int err;

	snprintf(name, sizeof(name), "net/ipv4/%s/%s/%s", section, ifname, key);
	if (old != NULL && sysctl_read_int(name, old) != 0)
		*old = -1;
	err = sysctl_write_int(name, val);
	if (err != 0) {
		errno = -err;
		log_warn("could not set %s to %d", name, val);
		if (old != NULL)
			*old = -1;
	}
}

int
plumb_create(struct plumb **out, struct netlink *nl, const struct plumb_params *p, char *err,
	     size_t errlen)
{
	struct plumb *pl = calloc(1, sizeof(*pl));

	if (pl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pl->nl = nl;
	pl->p = *p;
	snprintf(pl->tun_name, sizeof(pl->tun_name), "%s", p->tun_name);
	snprintf(pl->uplink_name, sizeof(pl->uplink_name), "%s",
		 p->uplink_name ? p->uplink_name : "");
	pl->p.tun_name = pl->tun_name;
	pl->p.uplink_name = pl->uplink_name;
	pl->table = PLUMB_TABLE_BASE + (uint32_t)p->tun_ifindex;
	pl->old_proxy_delay = -1;
	/* Replies leave the TUN device with a source the node owns: without
	 * accept_local the kernel drops them as martians. The setting dies
	 * with the device. */
	set_sysctl("conf", pl->tun_name, "accept_local", 1, NULL);
	/* netlink.h: proxy entries answer broadcast ARP after up to
	 * proxy_delay (0.8 s by default); answer at once. */
	if (p->uplink_ifindex > 0)
		set_sysctl("neigh", pl->uplink_name, "proxy_delay", 0, &pl->old_proxy_delay);
	*out = pl;
	return 0;
}

void
plumb_destroy(struct plumb *pl)
{
	char name[128];

	if (pl == NULL)
		return;
	for (size_t i = pl->cur.n; i-- > 0;)
		remove_owned(pl, &pl->cur.v[i]);
	if (pl->old_proxy_delay > 0) {
		snprintf(name, sizeof(name), "net/ipv4/neigh/%s/proxy_delay", pl->uplink_name);
		sysctl_write_int(name, pl->old_proxy_delay);
	}
	free(pl->cur.v);
	free(pl);
}

/* ---- plans ---- */

struct entries {
	struct pool4_entry *v;
	size_t n, cap;
};

static int
collect_entry(void *ctx, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	struct entries *a = ctx;

	(void)set;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 32;
		struct pool4_entry *v = realloc(a->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *e;
	return 0;
}

/* Every entry of every protocol, or the fallback's: own addresses, TCP and
 * UDP, 61001-65535 (ICMP would need the mark rule that is not written). */
static int
collect(const struct pool4 *pool, bool fallback, const struct in_addr *own, size_t nown,
	struct entries *a)
{
	if (!fallback) {
		for (int proto = 0; proto < L4_COUNT; proto++) {
			int err = pool4_foreach(pool, (enum l4proto)proto, collect_entry, a);

			if (err)
				return err;
		}
		return 0;
	}
	for (size_t i = 0; i < nown; i++) {
		for (int proto = L4_TCP; proto <= L4_UDP; proto++) {
			struct pool4_entry e = {
				.proto = (enum l4proto)proto,
				.prefix = {.addr = own[i], .len = 32},
				.port_min = POOL4_FALLBACK_PORT_MIN,
				.port_max = POOL4_FALLBACK_PORT_MAX,
			};

			if (collect_entry(a, &e, NULL))
				return -ENOMEM;
		}
	}
	return 0;
}

static bool
prefix_has(const struct prefix4 *p, struct in_addr a)
{
	uint32_t mask = p->len == 0 ? 0 : UINT32_MAX << (32 - p->len);

	return ((ntohl(a.s_addr) ^ ntohl(p->addr.s_addr)) & mask) == 0;
}

static bool
is_own(struct in_addr a, const struct in_addr *own, size_t nown)
{
	for (size_t i = 0; i < nown; i++)
		if (own[i].s_addr == a.s_addr)
			return true;
	return false;
}

struct planner {
	struct plumb *pl;
	struct plumb_plan *plan;
	struct objs steers; /* candidate OBJ_STEER4, merged later */
	const struct in_addr *own;
	size_t nown;
	size_t proxies;
	char *err;
	size_t errlen;
};

static int
plan_proxies(struct planner *pn, const struct prefix4 *p)
{
	uint32_t first = ntohl(p->addr.s_addr);
	uint64_t count = UINT64_C(1) << (32 - p->len);
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &p->addr, a, sizeof(a));
	if (p->len < PLUMB_PROXY_MIN_LEN) {
		snprintf(pn->err, pn->errlen,
			 "pool4 %s/%u is too large for proxy ARP entries on %s (at most a /%d, "
			 "%d addresses): route it to this host instead and drop --uplink4",
			 a, p->len, pn->pl->uplink_name, PLUMB_PROXY_MIN_LEN,
			 1 << (32 - PLUMB_PROXY_MIN_LEN));
		return -1;
	}
	for (uint64_t i = 0; i < count; i++) {
		struct obj o = obj_new(OBJ_PROXY4);

		o.k.p4.addr.s_addr = htonl(first + (uint32_t)i);
		o.k.p4.len = 32;
		if (is_own(o.k.p4.addr, pn->own, pn->nown))
			continue;
		if (++pn->proxies > PLUMB_PROXY_MAX) {
			snprintf(pn->err, pn->errlen, "more than %d proxy ARP entries needed",
				 PLUMB_PROXY_MAX);
			return -1;
		}
		if (objs_push(&pn->plan->o, &o))
			return -ENOMEM;
	}
	return 0;
}

/* An own address inside entry `e`: its TCP/UDP ports become a steering candidate. */
static int
plan_own(struct planner *pn, const struct pool4_entry *e, struct in_addr addr)
{
	struct obj o = obj_new(OBJ_STEER4);
	char a[INET_ADDRSTRLEN];

	if (e->proto == L4_ICMP) {
		inet_ntop(AF_INET, &addr, a, sizeof(a));
		log_warnx("pool4 ICMP on %s, an address of this node: echo replies reach the "
			  "local stack unless a firewall rule marks them for the TUN device "
			  "(not done); skipped",
			  a);
		return 0;
	}
	o.k.steer.addr = addr;
	o.k.steer.ipproto = e->proto == L4_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	o.k.steer.port_lo = e->port_min ? e->port_min : 1;
	o.k.steer.port_hi = e->port_max;
	o.k.steer.table = pn->pl->table;
	return objs_push(&pn->steers, &o);
}

static int
plan_entry(struct planner *pn, const struct pool4_entry *e)
{
	bool whole_own = e->prefix.len == 32 && is_own(e->prefix.addr, pn->own, pn->nown);
	struct obj route = obj_new(OBJ_ROUTE4);

	for (size_t i = 0; i < pn->nown; i++)
		if (prefix_has(&e->prefix, pn->own[i]) && plan_own(pn, e, pn->own[i]))
			return -ENOMEM;
	if (whole_own)
		return 0;
	route.k.p4 = e->prefix;
	if (objs_push(&pn->plan->o, &route))
		return -ENOMEM;
	return pn->pl->p.uplink_ifindex > 0 ? plan_proxies(pn, &e->prefix) : 0;
}

static int
steer_cmp(const void *x, const void *y)
{
	const struct netlink_steer4 *a = &((const struct obj *)x)->k.steer;
	const struct netlink_steer4 *b = &((const struct obj *)y)->k.steer;

	if (a->addr.s_addr != b->addr.s_addr)
		return ntohl(a->addr.s_addr) < ntohl(b->addr.s_addr) ? -1 : 1;
	if (a->ipproto != b->ipproto)
		return a->ipproto < b->ipproto ? -1 : 1;
	return (a->port_lo > b->port_lo) - (a->port_lo < b->port_lo);
}

/* Fuses overlapping or adjacent ranges of the same address and protocol
 * (several marks may list the same ports). */
static void
merge_steers(struct objs *s)
{
	size_t kept = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), steer_cmp);
	for (size_t i = 0; i < s->n; i++) {
		struct netlink_steer4 *last = kept ? &s->v[kept - 1].k.steer : NULL;
		const struct netlink_steer4 *cur = &s->v[i].k.steer;

		if (last && last->addr.s_addr == cur->addr.s_addr &&
		    last->ipproto == cur->ipproto && (uint32_t)cur->port_lo <= last->port_hi + 1u) {
			if (cur->port_hi > last->port_hi)
				last->port_hi = cur->port_hi;
			continue;
		}
		s->v[kept++] = s->v[i];
	}
	s->n = kept;
}

/* JOOL-REFERENCE §3.1 (Jool 4.1.15): pool4 ports inside the ephemeral range
 * break the host's own connections from that address. */
static int
check_local_ports(struct planner *pn)
{
	int range[2];
	char a[INET_ADDRSTRLEN];

	if (pn->pl->p.force || pn->steers.n == 0)
		return 0;
	if (sysctl_read_ints(SYSCTL_LOCAL_PORT_RANGE, range, 2) != 0) {
		log_warnx("could not read %s; pool4 ports not checked against it",
			  SYSCTL_LOCAL_PORT_RANGE);
		return 0;
	}
	for (size_t i = 0; i < pn->steers.n; i++) {
		const struct netlink_steer4 *s = &pn->steers.v[i].k.steer;

		if (s->port_hi < range[0] || s->port_lo > range[1])
			continue;
		inet_ntop(AF_INET, &s->addr, a, sizeof(a));
		snprintf(pn->err, pn->errlen,
			 "pool4 %s %s ports %u-%u: %s is an address of this node and the range "
			 "overlaps %s (%d-%d), so the host's own connections would break; use "
			 "ports outside it (e.g. 61001-65535) or --force",
			 a, s->ipproto == IPPROTO_TCP ? "TCP" : "UDP", s->port_lo, s->port_hi, a,
			 SYSCTL_LOCAL_PORT_RANGE, range[0], range[1]);
		return -1;
	}
	return 0;
}

/*
 * Priorities: a range ending at 65535 is written as "ports below it go to
 * the local table, then every port to ours" (netlink.h), so it must come
 * after every other range of its address, or its first rule would hand
 * those ranges to the local table.
 */
static int
plan_steers(struct planner *pn)
{
	uint32_t prio = PLUMB_STEER_PRIO;
	struct obj rule = obj_new(OBJ_LOCAL_RULE);

	merge_steers(&pn->steers);
	if (check_local_ports(pn))
		return -1;
	if (pn->steers.n == 0)
		return 0;
	if (PLUMB_STEER_PRIO + 2 * pn->steers.n + 1 >= PLUMB_LOCAL_PRIO) {
		snprintf(pn->err, pn->errlen, "too many steered port ranges (%zu)", pn->steers.n);
		return -1;
	}
	for (int top = 0; top < 2; top++) {
		for (size_t i = 0; i < pn->steers.n; i++) {
			struct obj o = pn->steers.v[i];
			struct obj route = obj_new(OBJ_ROUTE4);

			if ((o.k.steer.port_hi == 65535) != top)
				continue;
			o.k.steer.priority = prio;
			prio += 2;
			route.k.p4 = (struct prefix4){.addr = o.k.steer.addr, .len = 32};
			route.k.table = pn->pl->table;
			if (objs_push(&pn->plan->o, &o) || objs_push(&pn->plan->o, &route))
				return -ENOMEM;
		}
	}
	return objs_push(&pn->plan->o, &rule);
}

static int
plan_fill(struct planner *pn, const struct prefix6 *pool6, const struct pool4 *pool4, bool fallback)
{
	struct obj r6 = obj_new(OBJ_ROUTE6);
	struct entries ents = {0};
	int err;

	r6.k.p6 = *pool6;
	err = objs_push(&pn->plan->o, &r6);
	if (err == 0)
		err = collect(pool4, fallback, pn->own, pn->nown, &ents);
	for (size_t i = 0; err == 0 && i < ents.n; i++)
		err = plan_entry(pn, &ents.v[i]);
	if (err == 0)
		err = plan_steers(pn);
	free(ents.v);
	if (err == -ENOMEM)
		snprintf(pn->err, pn->errlen, "out of memory");
	return err;
}

int
plumb_plan_make(struct plumb *pl, const struct prefix6 *pool6, const struct pool4 *pool4,
		bool fallback, const struct in_addr *own, size_t nown, struct plumb_plan **out,
		char *err, size_t errlen)
{
	struct planner pn = {
		.pl = pl,
		.own = own,
		.nown = nown,
		.err = err,
		.errlen = errlen,
	};
	int ret;

	pn.plan = calloc(1, sizeof(*pn.plan));
	if (pn.plan == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = plan_fill(&pn, pool6, pool4, fallback);
	free(pn.steers.v);
	if (ret) {
		plumb_plan_free(pn.plan);
		return -1;
	}
	objs_sort_unique(&pn.plan->o);
	*out = pn.plan;
	return 0;
}

void
plumb_plan_free(struct plumb_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->o.v);
	free(plan);
}

size_t
plumb_plan_size(const struct plumb_plan *plan)
{
	return plan->o.n;
}

/* ---- applying a plan ---- */

/* Drops the entries of cur for which `gone` is true, keeping the order. */
static void
cur_compact(struct plumb *pl, bool (*gone)(const struct obj *o, const void *arg), const void *arg)
{
	size_t kept = 0;

	for (size_t i = 0; i < pl->cur.n; i++)
		if (!gone(&pl->cur.v[i], arg))
			pl->cur.v[kept++] = pl->cur.v[i];
	pl->cur.n = kept;
}

static bool
is_fresh(const struct obj *o, const void *arg)
{
	(void)arg;
	return o->fresh;
}

static bool
not_in_plan(const struct obj *o, const void *arg)
{
	return objs_find(&((const struct plumb_plan *)arg)->o, o) == NULL;
}

void
plumb_rollback(struct plumb *pl)
{
	for (size_t i = pl->cur.n; i-- > 0;)
		if (pl->cur.v[i].fresh)
			remove_owned(pl, &pl->cur.v[i]);
	cur_compact(pl, is_fresh, NULL);
}

/* An object that was there before us: tracked (so it is not added again)
 * but never removed. Lines about it tell the operator what they own. */
static void
note_foreign(struct plumb *pl, const struct obj *o, int err)
{
	char what[160];

	describe(pl, o, what, sizeof(what));
	if (err == -EALREADY)
		log_warnx("the 'lookup local' rule is not at priority 0 (moved by another "
			  "instance?); assuming it comes after priority %d",
			  PLUMB_LOCAL_PRIO);
	else if (o->k.kind == OBJ_PROXY4)
		log_debug("%s already exists: not created by this instance, left at exit", what);
	else
		log_warnx("%s: an object with the same key already exists; not created by this "
			  "instance, left at exit (if it does not point to %s, traffic will "
			  "not reach nat64d)",
			  what, pl->tun_name);
}

static int
add_one(struct plumb *pl, const struct obj *want, char *err, size_t errlen)
{
	struct obj o = *want;
	char what[160];
	int r = obj_add(pl, &o);

	o.fresh = true;
	o.owned = r == 0;
	if (r != 0 && r != -EEXIST && r != -EALREADY) {
		describe(pl, &o, what, sizeof(what));
		snprintf(err, errlen, "could not add %s: %s%s%s", what, strerror(-r),
			 netlink_strerror(pl->nl)[0] ? ": " : "", netlink_strerror(pl->nl));
		return -1;
	}
	if (r != 0)
		note_foreign(pl, &o, r);
	if (objs_push(&pl->cur, &o)) {
		if (o.owned)
			remove_owned(pl, &o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
plumb_add(struct plumb *pl, const struct plumb_plan *plan, char *err, size_t errlen)
{
	size_t before = pl->cur.n;

	for (size_t i = 0; i < pl->cur.n; i++)
		pl->cur.v[i].fresh = false;
	for (size_t i = 0; i < plan->o.n; i++) {
		/* cur is sorted up to `before`; fresh ones are appended after it. */
		struct objs old = {.v = pl->cur.v, .n = before};

		if (objs_find(&old, &plan->o.v[i]) != NULL)
			continue;
		if (add_one(pl, &plan->o.v[i], err, errlen)) {
			plumb_rollback(pl);
			return -1;
		}
	}
	return 0;
}

void
plumb_commit(struct plumb *pl, const struct plumb_plan *plan)
{
	for (size_t i = pl->cur.n; i-- > 0;)
		if (not_in_plan(&pl->cur.v[i], plan))
			remove_owned(pl, &pl->cur.v[i]);
	cur_compact(pl, not_in_plan, plan);
	for (size_t i = 0; i < pl->cur.n; i++)
		pl->cur.v[i].fresh = false;
	objs_sort_unique(&pl->cur);
}
