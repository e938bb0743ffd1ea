/*
 * RFC 6146 §3.1: BIB entries of one NAT64 instance, with the per-host and
 * per-address bookkeeping they drive, the settings and the log format.
 * Sessions are session.c's; the shared layout is in bib.h.
 */
#include "bib.h"

#include "session.h"
#include "tabhash.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * (BIB entry, remote IPv4 address) -> sessions: address-dependent
 * filtering in O(1). Kept only for entries with two sessions or more: an
 * entry with one session (the usual case) asks that session, which saves
 * 20 bytes and a table update per session.
 */
struct bib_remote {
	uint32_t br_next;
	uint32_t br_entry;
	struct in_addr br_addr;
	uint32_t br_sessions;
};

/*
 * One IPv6 host (subscriber). RFC 6888 REQ-4: its sessions, for the limit.
 * Paired pooling: per protocol, the IPv4 address its entries use and how
 * many of them use it. The record lives while either count is non-zero.
 */
struct bib_host {
	uint32_t bh_next;
	uint32_t bh_sessions;
	struct in6_addr bh_addr6;
	struct in_addr bh_addr4[L4_COUNT];
	uint32_t bh_paired[L4_COUNT];
};

/* (protocol, IPv4 address) -> BIB entries on it: pool4 occupancy. */
struct bib_usage {
	uint32_t bu_next;
	struct in_addr bu_addr;
	uint32_t bu_count;
	uint8_t bu_proto;
};

/* The memory budget (bib.h) counts on these sizes. */
_Static_assert(sizeof(struct bib_entry) == 40, "BIB entry size");
_Static_assert(sizeof(struct bib_remote) == 16, "remote record size");
_Static_assert(sizeof(struct bib_host) == 48, "host record size");

static const uint32_t timeout_min[SESSION_TIMER_COUNT] = {
	[SESSION_TIMER_UDP] = BIB_TIMEOUT_UDP_MIN,
	[SESSION_TIMER_ICMP] = BIB_TIMEOUT_ICMP_MIN,
	[SESSION_TIMER_TCP_EST] = BIB_TIMEOUT_TCP_EST_MIN,
	[SESSION_TIMER_TCP_TRANS] = BIB_TIMEOUT_TCP_TRANS_MIN,
	[SESSION_TIMER_TCP_SYN4] = BIB_TIMEOUT_TCP_SYN4,
};

/* --- keys ------------------------------------------------------------ */

/* Every key is (protocol, fields) packed into words; see tabhash.h. */
static uint64_t
key6(const struct bib *db, uint8_t proto, const struct in6_addr *addr, uint16_t port)
{
	uint64_t w[3];

	tabhash_addr6(w, addr);
	w[2] = (uint64_t)port | (uint64_t)proto << 16;
	return tabhash_memo(&db->cfg.key, &db->memo[BIB_MEMO_6], w, 3);
}

static uint64_t
key4(const struct bib *db, uint8_t proto, struct in_addr addr, uint16_t port)
{
	uint64_t w = (uint64_t)addr.s_addr | (uint64_t)port << 32 | (uint64_t)proto << 48;

	return tabhash_memo(&db->cfg.key, &db->memo[BIB_MEMO_4], &w, 1);
}

static uint64_t
key_remote(const struct bib *db, uint8_t proto, struct in_addr mask, uint16_t mport,
	   struct in_addr addr)
{
	uint64_t w[2] = {
		(uint64_t)mask.s_addr | (uint64_t)mport << 32 | (uint64_t)proto << 48,
		addr.s_addr,
	};

	return tabhash(&db->cfg.key, w, 2);
}

static uint64_t
key_host(const struct bib *db, const struct in6_addr *addr)
{
	uint64_t w[2];

	tabhash_addr6(w, addr);
	return tabhash_memo(&db->cfg.key, &db->memo[BIB_MEMO_HOST], w, 2);
}

static uint64_t
rehash6(const void *ctx, const void *elem)
{
	const struct bib_entry *e = elem;

	return key6(ctx, e->be_proto, &e->be_addr6, e->be_port6);
}

static uint64_t
rehash4(const void *ctx, const void *elem)
{
	const struct bib_entry *e = elem;

	return key4(ctx, e->be_proto, e->be_addr4, e->be_port4);
}

static uint64_t
rehash_remote(const void *ctx, const void *elem)
{
	const struct bib_remote *r = elem;
	const struct bib_entry *e = bib_entry_at(ctx, r->br_entry);

	return key_remote(ctx, e->be_proto, e->be_addr4, e->be_port4, r->br_addr);
}

static uint64_t
rehash_host(const void *ctx, const void *elem)
{
	const struct bib_host *h = elem;

	return key_host(ctx, &h->bh_addr6);
}

static uint64_t
rehash_usage(const void *ctx, const void *elem)
{
	const struct bib_usage *u = elem;

	return key4(ctx, u->bu_proto, u->bu_addr, 0);
}

/* --- settings -------------------------------------------------------- */

void
bib_config_default(struct bib_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_sessions = BIB_DEFAULT_MAX_SESSIONS;
	cfg->max_sessions_per_host = BIB_DEFAULT_MAX_SESSIONS_PER_HOST;
	cfg->timeout[SESSION_TIMER_UDP] = BIB_TIMEOUT_UDP;
	cfg->timeout[SESSION_TIMER_ICMP] = BIB_TIMEOUT_ICMP;
	cfg->timeout[SESSION_TIMER_TCP_EST] = BIB_TIMEOUT_TCP_EST;
	cfg->timeout[SESSION_TIMER_TCP_TRANS] = BIB_TIMEOUT_TCP_TRANS;
	cfg->timeout[SESSION_TIMER_TCP_SYN4] = BIB_TIMEOUT_TCP_SYN4;
}

static int
check_config(const struct bib_config *cfg)
{
	if (cfg->max_sessions == 0 || cfg->max_sessions_per_host == 0)
		return -EINVAL;
	if (cfg->timeout[SESSION_TIMER_TCP_SYN4] != BIB_TIMEOUT_TCP_SYN4)
		return -EINVAL;
	for (int t = 0; t < SESSION_TIMER_COUNT; t++)
		if (cfg->timeout[t] < timeout_min[t])
			return -ERANGE;
	return 0;
}

int
bib_set_timeout(struct bib *db, enum session_timer timer, uint64_t ms)
{
	if ((unsigned)timer >= SESSION_TIMER_TCP_SYN4)
		return -EINVAL; /* SYN4: RFC 6146 §3.5.2.2 fixes it at 6 s */
	if (ms < timeout_min[timer])
		return -ERANGE;
	db->cfg.timeout[timer] = ms;
	return 0;
}

uint64_t
bib_timeout(const struct bib *db, enum session_timer timer)
{
	return (unsigned)timer < SESSION_TIMER_COUNT ? db->cfg.timeout[timer] : 0;
}

int
bib_set_limits(struct bib *db, uint32_t max_sessions, uint32_t max_sessions_per_host)
{
	if (max_sessions == 0 || max_sessions_per_host == 0)
		return -EINVAL;
	db->cfg.max_sessions = max_sessions;
	db->cfg.max_sessions_per_host = max_sessions_per_host;
	return 0;
}

void
bib_set_handle_rst(struct bib *db, bool on)
{
	db->cfg.handle_rst_during_fin_rcv = on;
}

void
bib_set_hooks(struct bib *db, const struct bib_hooks *hooks)
{
	db->cfg.hooks = *hooks;
}

/* --- life cycle ------------------------------------------------------ */

static int
init_tables(struct bib *db, uint32_t expected)
{
	if (hashtab_init(&db->by6, &db->entries, offsetof(struct bib_entry, be_next6), rehash6, db,
			 expected) ||
	    hashtab_init(&db->by4, &db->entries, offsetof(struct bib_entry, be_next4), rehash4, db,
			 expected) ||
	    hashtab_init(&db->remotes_by_key, &db->remotes, offsetof(struct bib_remote, br_next),
			 rehash_remote, db, expected) ||
	    hashtab_init(&db->hosts_by_addr, &db->hosts, offsetof(struct bib_host, bh_next),
			 rehash_host, db, 0) ||
	    hashtab_init(&db->usage_by_addr, &db->usage, offsetof(struct bib_usage, bu_next),
			 rehash_usage, db, 0))
		return -ENOMEM;
	return session_init(db, expected);
}

static void
fini_tables(struct bib *db)
{
	session_fini(db);
	hashtab_fini(&db->by6);
	hashtab_fini(&db->by4);
	hashtab_fini(&db->remotes_by_key);
	hashtab_fini(&db->hosts_by_addr);
	hashtab_fini(&db->usage_by_addr);
	hashtab_pool_fini(&db->entries);
	hashtab_pool_fini(&db->remotes);
	hashtab_pool_fini(&db->hosts);
	hashtab_pool_fini(&db->usage);
	free(db->memo);
	db->memo = NULL;
}

int
bib_init(struct bib *db, const struct bib_config *cfg)
{
	int err = check_config(cfg);

	if (err)
		return err;
	memset(db, 0, sizeof(*db));
	db->cfg = *cfg;
	db->memo = calloc(BIB_MEMO_COUNT, sizeof(*db->memo));
	if (!db->memo)
		return -ENOMEM;
	hashtab_pool_init(&db->entries, sizeof(struct bib_entry));
	hashtab_pool_init(&db->remotes, sizeof(struct bib_remote));
	hashtab_pool_init(&db->hosts, sizeof(struct bib_host));
	hashtab_pool_init(&db->usage, sizeof(struct bib_usage));
	err = init_tables(db, cfg->expected_sessions);
	if (err)
		fini_tables(db); /* every fini accepts a zeroed table */
	return err;
}

void
bib_fini(struct bib *db)
{
	fini_tables(db);
}

void
bib_log(const struct bib *db, const struct bib_event *ev)
{
	if (db->cfg.hooks.log)
		db->cfg.hooks.log(db->cfg.hooks.ctx, ev);
}

static void
log_entry(const struct bib *db, const struct bib_entry *e, enum bib_event_type type, uint64_t now)
{
	struct bib_event ev = {
		.time = now,
		.type = type,
		.proto = bib_entry_proto(e),
		.is_static = e->be_static,
		.src6 = bib_entry_taddr6(e),
		.src4 = bib_entry_taddr4(e),
	};

	bib_log(db, &ev);
}

/* --- hosts and addresses --------------------------------------------- */

static struct bib_host *
host_at(const struct bib *db, uint32_t idx)
{
	return hashtab_pool_at(&db->hosts, idx);
}

static uint32_t
host_lookup(const struct bib *db, const struct in6_addr *addr, uint64_t hv)
{
	for (uint32_t i = hashtab_first(&db->hosts_by_addr, hv); i; i = host_at(db, i)->bh_next)
		if (in6_equal(&host_at(db, i)->bh_addr6, addr))
			return i;
	return HASHTAB_NIL;
}

/* The host's record, created if needed (bib_reserve() made room). */
static struct bib_host *
host_get(struct bib *db, const struct in6_addr *addr, uint64_t hv)
{
	uint32_t idx = host_lookup(db, addr, hv);

	if (idx == HASHTAB_NIL) {
		idx = hashtab_pool_alloc(&db->hosts);
		host_at(db, idx)->bh_addr6 = *addr;
		hashtab_insert(&db->hosts_by_addr, idx, hv);
	}
	return host_at(db, idx);
}

/* Frees record `idx` once nothing counts on it. */
static void
host_put(struct bib *db, uint32_t idx, uint64_t hv)
{
	const struct bib_host *h = host_at(db, idx);

	if (h->bh_sessions || h->bh_paired[L4_TCP] || h->bh_paired[L4_UDP] || h->bh_paired[L4_ICMP])
		return;
	hashtab_remove(&db->hosts_by_addr, idx, hv);
	hashtab_pool_free(&db->hosts, idx);
}

/*
 * Paired pooling bookkeeping. The first entry of a host (per protocol)
 * sets its address; later entries on the same address count toward it.
 * An entry on another address (static, or pool4 had no room on the
 * paired one) is not counted, so once the counted ones are gone the host
 * is unpaired and the next entry sets the address again: a hint, not a
 * guarantee.
 */
static void
host_pair(struct bib *db, const struct bib_entry *e, uint64_t hv)
{
	struct bib_host *h = host_get(db, &e->be_addr6, hv);

	if (h->bh_paired[e->be_proto] == 0)
		h->bh_addr4[e->be_proto] = e->be_addr4;
	if (h->bh_addr4[e->be_proto].s_addr == e->be_addr4.s_addr)
		h->bh_paired[e->be_proto]++;
}

static void
host_unpair(struct bib *db, const struct bib_entry *e)
{
	uint64_t hv = key_host(db, &e->be_addr6);
	uint32_t idx = host_lookup(db, &e->be_addr6, hv);
	struct bib_host *h;

	if (idx == HASHTAB_NIL)
		return;
	h = host_at(db, idx);
	if (h->bh_paired[e->be_proto] && h->bh_addr4[e->be_proto].s_addr == e->be_addr4.s_addr)
		h->bh_paired[e->be_proto]--;
	host_put(db, idx, hv);
}

static struct bib_usage *
usage_at(const struct bib *db, uint32_t idx)
{
	return hashtab_pool_at(&db->usage, idx);
}

static uint32_t
usage_lookup(const struct bib *db, uint8_t proto, struct in_addr addr, uint64_t hv)
{
	for (uint32_t i = hashtab_first(&db->usage_by_addr, hv); i; i = usage_at(db, i)->bu_next) {
		const struct bib_usage *u = usage_at(db, i);

		if (u->bu_proto == proto && u->bu_addr.s_addr == addr.s_addr)
			return i;
	}
	return HASHTAB_NIL;
}

static void
usage_add(struct bib *db, uint8_t proto, struct in_addr addr, int delta)
{
	uint64_t hv = key4(db, proto, addr, 0);
	uint32_t idx = usage_lookup(db, proto, addr, hv);

	if (idx == HASHTAB_NIL) {
		if (delta < 0)
			return;
		idx = hashtab_pool_alloc(&db->usage);
		usage_at(db, idx)->bu_proto = proto;
		usage_at(db, idx)->bu_addr = addr;
		hashtab_insert(&db->usage_by_addr, idx, hv);
	}
	usage_at(db, idx)->bu_count += (uint32_t)delta;
	if (usage_at(db, idx)->bu_count == 0) {
		hashtab_remove(&db->usage_by_addr, idx, hv);
		hashtab_pool_free(&db->usage, idx);
	}
}

uint32_t
bib_usage4(const struct bib *db, enum l4proto proto, struct in_addr addr)
{
	uint32_t idx;

	if ((unsigned)proto >= L4_COUNT)
		return 0;
	idx = usage_lookup(db, (uint8_t)proto, addr, key4(db, (uint8_t)proto, addr, 0));
	return idx ? usage_at(db, idx)->bu_count : 0;
}

bool
bib_host_addr4(const struct bib *db, enum l4proto proto, const struct in6_addr *addr6,
	       struct in_addr *out)
{
	uint32_t idx;

	if ((unsigned)proto >= L4_COUNT || !addr6 || !out)
		return false;
	idx = host_lookup(db, addr6, key_host(db, addr6));
	if (idx == HASHTAB_NIL || host_at(db, idx)->bh_paired[proto] == 0)
		return false;
	*out = host_at(db, idx)->bh_addr4[proto];
	return true;
}

uint32_t
bib_host_sessions(const struct bib *db, const struct in6_addr *addr6)
{
	uint32_t idx;

	if (!addr6)
		return 0;
	idx = host_lookup(db, addr6, key_host(db, addr6));
	return idx ? host_at(db, idx)->bh_sessions : 0;
}

/* --- remote addresses (address-dependent filtering) ------------------ */

static struct bib_remote *
remote_at(const struct bib *db, uint32_t idx)
{
	return hashtab_pool_at(&db->remotes, idx);
}

static uint32_t
remote_lookup(const struct bib *db, uint32_t entry, struct in_addr addr, uint64_t hv)
{
	for (uint32_t i = hashtab_first(&db->remotes_by_key, hv); i;
	     i = remote_at(db, i)->br_next) {
		const struct bib_remote *r = remote_at(db, i);

		if (r->br_entry == entry && r->br_addr.s_addr == addr.s_addr)
			return i;
	}
	return HASHTAB_NIL;
}

static uint64_t
entry_key_remote(const struct bib *db, const struct bib_entry *e, struct in_addr addr)
{
	return key_remote(db, e->be_proto, e->be_addr4, e->be_port4, addr);
}

/* One more session of entry `idx` toward `addr` (bib_reserve() made room). */
static void
remote_add(struct bib *db, uint32_t idx, struct in_addr addr)
{
	uint64_t hv = entry_key_remote(db, bib_entry_at(db, idx), addr);
	uint32_t r = remote_lookup(db, idx, addr, hv);

	if (r == HASHTAB_NIL) {
		r = hashtab_pool_alloc(&db->remotes);
		remote_at(db, r)->br_entry = idx;
		remote_at(db, r)->br_addr = addr;
		hashtab_insert(&db->remotes_by_key, r, hv);
	}
	remote_at(db, r)->br_sessions++;
}

static void
remote_del(struct bib *db, uint32_t idx, struct in_addr addr)
{
	uint64_t hv = entry_key_remote(db, bib_entry_at(db, idx), addr);
	uint32_t r = remote_lookup(db, idx, addr, hv);

	if (r != HASHTAB_NIL && --remote_at(db, r)->br_sessions == 0) {
		hashtab_remove(&db->remotes_by_key, r, hv);
		hashtab_pool_free(&db->remotes, r);
	}
}

void
bib_session_added(struct bib *db, uint32_t idx, const struct session *s, const struct bib_keys *k)
{
	const struct session *older;

	host_get(db, &bib_entry_at(db, idx)->be_addr6, k->host)->bh_sessions++;
	if (s->se_bnext == HASHTAB_NIL)
		return; /* the entry's only session */
	older = session_at(db, s->se_bnext);
	if (older->se_bnext == HASHTAB_NIL)
		remote_add(db, idx, older->se_raddr4); /* it was alone until now */
	remote_add(db, idx, s->se_raddr4);
}

void
bib_session_removed(struct bib *db, uint32_t idx, const struct session *s)
{
	const struct bib_entry *e = bib_entry_at(db, idx);
	uint64_t hh = key_host(db, &e->be_addr6);
	uint32_t h = host_lookup(db, &e->be_addr6, hh);
	const struct session *first;

	if (h != HASHTAB_NIL && host_at(db, h)->bh_sessions) {
		host_at(db, h)->bh_sessions--;
		host_put(db, h, hh);
	}
	if (e->be_sessions == HASHTAB_NIL)
		return; /* `s` was alone: it had no record */
	remote_del(db, idx, s->se_raddr4);
	first = session_at(db, e->be_sessions);
	if (first->se_bnext == HASHTAB_NIL)
		remote_del(db, idx, first->se_raddr4); /* alone now */
}

bool
bib_has_session_to_addr4(const struct bib *db, const struct bib_entry *e, struct in_addr addr)
{
	const struct session *first;
	uint64_t hv;

	if (!e || e->be_sessions == HASHTAB_NIL)
		return false;
	first = session_at(db, e->be_sessions);
	if (first->se_bnext == HASHTAB_NIL)
		return first->se_raddr4.s_addr == addr.s_addr;
	hv = entry_key_remote(db, e, addr);
	/* The entry does not store its own index (memory): compare places. */
	for (uint32_t i = hashtab_first(&db->remotes_by_key, hv); i;
	     i = remote_at(db, i)->br_next) {
		const struct bib_remote *r = remote_at(db, i);

		if (r->br_addr.s_addr == addr.s_addr && bib_entry_at(db, r->br_entry) == e)
			return true;
	}
	return false;
}

/* --- entries --------------------------------------------------------- */

static uint32_t
lookup6(const struct bib *db, uint8_t proto, const struct taddr6 *a6, uint64_t hv)
{
	for (uint32_t i = hashtab_first(&db->by6, hv); i; i = bib_entry_at(db, i)->be_next6) {
		const struct bib_entry *e = bib_entry_at(db, i);

		if (e->be_port6 == a6->port && e->be_proto == proto &&
		    in6_equal(&e->be_addr6, &a6->addr))
			return i;
	}
	return HASHTAB_NIL;
}

static uint32_t
lookup4(const struct bib *db, uint8_t proto, const struct taddr4 *a4, uint64_t hv)
{
	for (uint32_t i = hashtab_first(&db->by4, hv); i; i = bib_entry_at(db, i)->be_next4) {
		const struct bib_entry *e = bib_entry_at(db, i);

		if (e->be_port4 == a4->port && e->be_addr4.s_addr == a4->addr.s_addr &&
		    e->be_proto == proto)
			return i;
	}
	return HASHTAB_NIL;
}

struct bib_entry *
bib_find6(const struct bib *db, enum l4proto proto, const struct taddr6 *a6)
{
	uint32_t idx;

	if ((unsigned)proto >= L4_COUNT || !a6)
		return NULL;
	idx = lookup6(db, (uint8_t)proto, a6, key6(db, (uint8_t)proto, &a6->addr, a6->port));
	return idx ? bib_entry_at(db, idx) : NULL;
}

struct bib_entry *
bib_find4(const struct bib *db, enum l4proto proto, const struct taddr4 *a4)
{
	uint32_t idx;

	if ((unsigned)proto >= L4_COUNT || !a4)
		return NULL;
	idx = lookup4(db, (uint8_t)proto, a4, key4(db, (uint8_t)proto, a4->addr, a4->port));
	return idx ? bib_entry_at(db, idx) : NULL;
}

static void
prefetch_bucket(const struct hashtab *h, uint64_t hv)
{
	__builtin_prefetch(&h->heads[hv & h->mask]);
}

void
bib_keys_get(const struct bib *db, enum l4proto proto, const struct taddr6 *a6,
	     const struct taddr4 *a4, struct bib_keys *k)
{
	k->h6 = key6(db, (uint8_t)proto, &a6->addr, a6->port);
	k->h4 = key4(db, (uint8_t)proto, a4->addr, a4->port);
	k->host = key_host(db, &a6->addr);
	prefetch_bucket(&db->by6, k->h6);
	prefetch_bucket(&db->by4, k->h4);
	prefetch_bucket(&db->hosts_by_addr, k->host);
}

int
bib_check_mapping(const struct bib *db, enum l4proto proto, const struct taddr6 *a6,
		  const struct taddr4 *a4, const struct bib_keys *k, uint32_t *idx)
{
	*idx = lookup6(db, (uint8_t)proto, a6, k->h6);
	if (*idx) {
		struct taddr4 mapped = bib_entry_taddr4(bib_entry_at(db, *idx));

		return taddr4_equal(&mapped, a4) ? 0 : -EADDRNOTAVAIL;
	}
	return lookup4(db, (uint8_t)proto, a4, k->h4) ? -EADDRINUSE : 0;
}

int
bib_check_limits(const struct bib *db, const struct in6_addr *addr6, const struct bib_keys *k)
{
	uint32_t h;

	if (db->sessions.used >= db->cfg.max_sessions)
		return -ENOSPC;
	h = host_lookup(db, addr6, k->host);
	if (h && host_at(db, h)->bh_sessions >= db->cfg.max_sessions_per_host)
		return -EDQUOT;
	return 0;
}

int
bib_reserve(struct bib *db)
{
	if (hashtab_pool_reserve(&db->entries, 1) || hashtab_pool_reserve(&db->hosts, 1) ||
	    hashtab_pool_reserve(&db->usage, 1) || hashtab_pool_reserve(&db->remotes, 2))
		return -ENOMEM;
	return 0;
}

static uint32_t
add_entry(struct bib *db, enum l4proto proto, const struct taddr6 *a6, const struct taddr4 *a4,
	  bool is_static, const struct bib_keys *k, uint64_t now)
{
	uint32_t idx = hashtab_pool_alloc(&db->entries);
	struct bib_entry *e = bib_entry_at(db, idx);

	e->be_addr6 = a6->addr;
	e->be_port6 = a6->port;
	e->be_addr4 = a4->addr;
	e->be_port4 = a4->port;
	e->be_proto = (uint8_t)proto;
	e->be_static = is_static;
	hashtab_insert(&db->by6, idx, k->h6);
	hashtab_insert(&db->by4, idx, k->h4);
	db->nentries[proto]++;
	if (port_share_mine(&db->cfg.share, e->be_port4))
		usage_add(db, e->be_proto, e->be_addr4, 1);
	host_pair(db, e, k->host);
	log_entry(db, e, BIB_EVENT_BIB_ADDED, now);
	return idx;
}

uint32_t
bib_add_dynamic(struct bib *db, enum l4proto proto, const struct taddr6 *a6,
		const struct taddr4 *a4, const struct bib_keys *k, uint64_t now)
{
	return add_entry(db, proto, a6, a4, false, k, now);
}

int
bib_add_static(struct bib *db, enum l4proto proto, const struct taddr6 *a6, const struct taddr4 *a4,
	       uint64_t now)
{
	struct bib_keys k;
	uint32_t i6, i4;

	if ((unsigned)proto >= L4_COUNT || !a6 || !a4)
		return -EINVAL;
	bib_keys_get(db, proto, a6, a4, &k);
	i6 = lookup6(db, (uint8_t)proto, a6, k.h6);
	i4 = lookup4(db, (uint8_t)proto, a4, k.h4);
	if (i6 && i6 == i4) {
		if (bib_entry_at(db, i6)->be_static)
			return -EALREADY;
		bib_entry_at(db, i6)->be_static = true; /* Jool: upgrade in place */
		return 0;
	}
	if (i6)
		return -EEXIST;
	if (i4)
		return -EADDRINUSE;
	if (bib_reserve(db))
		return -ENOMEM;
	add_entry(db, proto, a6, a4, true, &k, now);
	return 0;
}

/* Removes entry `idx`, whose sessions are gone. */
static void
free_entry(struct bib *db, uint32_t idx, uint64_t now)
{
	struct bib_entry *e = bib_entry_at(db, idx);

	log_entry(db, e, BIB_EVENT_BIB_REMOVED, now);
	hashtab_remove(&db->by6, idx, key6(db, e->be_proto, &e->be_addr6, e->be_port6));
	hashtab_remove(&db->by4, idx, key4(db, e->be_proto, e->be_addr4, e->be_port4));
	db->nentries[e->be_proto]--;
	if (port_share_mine(&db->cfg.share, e->be_port4))
		usage_add(db, e->be_proto, e->be_addr4, -1);
	host_unpair(db, e);
	hashtab_pool_free(&db->entries, idx);
}

static void
remove_entry(struct bib *db, uint32_t idx, uint64_t now)
{
	session_remove_of_bib(db, idx, now);
	free_entry(db, idx, now);
}

void
bib_release_if_unused(struct bib *db, uint32_t idx, uint64_t now)
{
	const struct bib_entry *e = bib_entry_at(db, idx);

	/* RFC 6146 §3.5.1: a dynamic entry lives as long as a session uses it. */
	if (!e->be_static && e->be_sessions == HASHTAB_NIL)
		free_entry(db, idx, now);
}

/* The index of an entry the caller holds a pointer to. */
static uint32_t
entry_index(const struct bib *db, const struct bib_entry *e)
{
	uint64_t hv = key6(db, e->be_proto, &e->be_addr6, e->be_port6);

	for (uint32_t i = hashtab_first(&db->by6, hv); i; i = bib_entry_at(db, i)->be_next6)
		if (bib_entry_at(db, i) == e)
			return i;
	return HASHTAB_NIL;
}

void
bib_remove(struct bib *db, struct bib_entry *e, uint64_t now)
{
	uint32_t idx = e ? entry_index(db, e) : HASHTAB_NIL;

	if (idx != HASHTAB_NIL)
		remove_entry(db, idx, now);
}

int
bib_remove6(struct bib *db, enum l4proto proto, const struct taddr6 *a6, uint64_t now)
{
	uint32_t idx;

	if ((unsigned)proto >= L4_COUNT || !a6)
		return -EINVAL;
	idx = lookup6(db, (uint8_t)proto, a6, key6(db, (uint8_t)proto, &a6->addr, a6->port));
	if (idx == HASHTAB_NIL)
		return -ENOENT;
	remove_entry(db, idx, now);
	return 0;
}

int
bib_remove4(struct bib *db, enum l4proto proto, const struct taddr4 *a4, uint64_t now)
{
	uint32_t idx;

	if ((unsigned)proto >= L4_COUNT || !a4)
		return -EINVAL;
	idx = lookup4(db, (uint8_t)proto, a4, key4(db, (uint8_t)proto, a4->addr, a4->port));
	if (idx == HASHTAB_NIL)
		return -ENOENT;
	remove_entry(db, idx, now);
	return 0;
}

struct range4 {
	uint8_t proto;
	uint32_t first, last; /* host order */
	uint16_t min_port, max_port;
};

static bool
in_range(const struct range4 *r, const struct bib_entry *e)
{
	uint32_t a = ntohl(e->be_addr4.s_addr);

	return e->be_proto == r->proto && a >= r->first && a <= r->last &&
	       e->be_port4 >= r->min_port && e->be_port4 <= r->max_port;
}

/* Small ranges: look each taddr up, skipping addresses nobody uses. */
static int
remove_range_by_lookup(struct bib *db, const struct range4 *r, uint64_t now)
{
	int removed = 0;

	for (uint64_t a = r->first; a <= r->last; a++) {
		struct taddr4 t = {.addr.s_addr = htonl((uint32_t)a)};

		if (bib_usage4(db, r->proto, t.addr) == 0)
			continue;
		for (uint32_t p = r->min_port; p <= r->max_port; p++) {
			uint32_t idx;

			t.port = (uint16_t)p;
			idx = lookup4(db, r->proto, &t, key4(db, r->proto, t.addr, t.port));
			if (idx) {
				remove_entry(db, idx, now);
				removed++;
			}
		}
	}
	return removed;
}

/* Large ranges: one pass over every entry. */
static int
remove_range_by_scan(struct bib *db, const struct range4 *r, uint64_t now)
{
	int removed = 0;

	for (uint32_t i = hashtab_pool_next_live(&db->entries, 1); i;
	     i = hashtab_pool_next_live(&db->entries, i + 1)) {
		if (in_range(r, bib_entry_at(db, i))) {
			remove_entry(db, i, now);
			removed++;
		}
	}
	return removed;
}

int
bib_remove_range4(struct bib *db, enum l4proto proto, struct in_addr first, struct in_addr last,
		  uint16_t min_port, uint16_t max_port, uint64_t now)
{
	struct range4 r = {
		.proto = (uint8_t)proto,
		.first = ntohl(first.s_addr),
		.last = ntohl(last.s_addr),
		.min_port = min_port,
		.max_port = max_port,
	};
	uint64_t taddrs;

	if ((unsigned)proto >= L4_COUNT || r.first > r.last || min_port > max_port)
		return -EINVAL;
	taddrs = ((uint64_t)r.last - r.first + 1) * ((uint32_t)max_port - min_port + 1);
	/* Either way the cost is bounded by the number of entries. */
	if (taddrs <= db->entries.used)
		return remove_range_by_lookup(db, &r, now);
	return remove_range_by_scan(db, &r, now);
}

void
bib_flush(struct bib *db, uint64_t now)
{
	for (uint32_t i = hashtab_pool_next_live(&db->entries, 1); i;
	     i = hashtab_pool_next_live(&db->entries, i + 1))
		remove_entry(db, i, now);
}

uint32_t
bib_count(const struct bib *db, enum l4proto proto)
{
	return (unsigned)proto < L4_COUNT ? db->nentries[proto] : 0;
}

int
bib_foreach(const struct bib *db, enum l4proto proto, uint32_t *cursor, bib_visit_fn visit,
	    void *arg)
{
	uint32_t i = hashtab_pool_next_live(&db->entries, *cursor);

	for (; i; i = hashtab_pool_next_live(&db->entries, i + 1)) {
		const struct bib_entry *e = bib_entry_at(db, i);
		int rc;

		if (e->be_proto != proto)
			continue;
		rc = visit(arg, e);
		if (rc) {
			*cursor = i + 1;
			return rc;
		}
	}
	*cursor = db->entries.top;
	return 0;
}

size_t
bib_memory(const struct bib *db)
{
	return hashtab_pool_bytes(&db->entries) + hashtab_bytes(&db->by6) +
	       hashtab_bytes(&db->by4) + hashtab_pool_bytes(&db->remotes) +
	       hashtab_bytes(&db->remotes_by_key) + hashtab_pool_bytes(&db->hosts) +
	       hashtab_bytes(&db->hosts_by_addr) + hashtab_pool_bytes(&db->usage) +
	       hashtab_bytes(&db->usage_by_addr) + session_memory(db);
}

/* --- log lines ------------------------------------------------------- */

const char *
bib_proto_name(enum l4proto proto)
{
	static const char *const names[L4_COUNT] = {
		[L4_TCP] = "TCP",
		[L4_UDP] = "UDP",
		[L4_ICMP] = "ICMP",
	};

	return (unsigned)proto < L4_COUNT ? names[proto] : "?";
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * civil_from_days), so formatting needs neither gmtime nor a time zone. */
static void
civil_from_days(uint64_t days, uint64_t *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468; /* days since 0000-03-01 */
	uint64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

/* ISO 8601 UTC with milliseconds: 2026-11-26T04:40:00.123Z */
static void
format_time(uint64_t ms, char *buf, size_t size)
{
	uint64_t secs = ms / 1000, year;
	unsigned month, day, sod = (unsigned)(secs % 86400);

	civil_from_days(secs / 86400, &year, &month, &day);
	snprintf(buf, size, "%04" PRIu64 "-%02u-%02uT%02u:%02u:%02u.%03uZ", year, month, day,
		 sod / 3600, sod / 60 % 60, sod % 60, (unsigned)(ms % 1000));
}

int
bib_event_format(const struct bib_event *ev, char *buf, size_t size)
{
	static const char *const names[] = {
		[BIB_EVENT_BIB_ADDED] = "bib-added",
		[BIB_EVENT_BIB_REMOVED] = "bib-removed",
		[BIB_EVENT_SESSION_ADDED] = "session-added",
		[BIB_EVENT_SESSION_REMOVED] = "session-removed",
	};
	char t[48], s6[INET6_ADDRSTRLEN], s4[INET_ADDRSTRLEN], d4[INET_ADDRSTRLEN];

	if (!ev || (unsigned)ev->type > BIB_EVENT_SESSION_REMOVED ||
	    (unsigned)ev->proto >= L4_COUNT || (!buf && size))
		return -EINVAL;
	format_time(ev->time, t, sizeof(t));
	inet_ntop(AF_INET6, &ev->src6.addr, s6, sizeof(s6));
	inet_ntop(AF_INET, &ev->src4.addr, s4, sizeof(s4));
	inet_ntop(AF_INET, &ev->dst4.addr, d4, sizeof(d4));
	if (ev->type == BIB_EVENT_BIB_ADDED || ev->type == BIB_EVENT_BIB_REMOVED)
		return snprintf(buf, size, "%s %s %s %s#%u %s#%u %s", t, names[ev->type],
				bib_proto_name(ev->proto), s6, ev->src6.port, s4, ev->src4.port,
				ev->is_static ? "static" : "dynamic");
	return snprintf(buf, size, "%s %s %s %s#%u %s#%u %s#%u", t, names[ev->type],
			bib_proto_name(ev->proto), s6, ev->src6.port, s4, ev->src4.port, d4,
			ev->dst4.port);
}
