/*
 * RFC 6146 §3.5: sessions, their two lookup tables, the expiry lists and
 * the sweep; the TCP fates of tcp_state.c are applied here.
 */
#include "session.h"

#include "tabhash.h"

#include <errno.h>

/* The memory budget (bib.h) counts on these sizes. */
_Static_assert(sizeof(struct session) == 64, "a session is one cache line");

/* A stored v4 SYN (type 2) held for a session: few (bounded by the
 * pipeline's maximum-simultaneous-opens), so kept aside rather than
 * costing 4 bytes in every session. */
struct session_stored {
	uint32_t ss_next;
	uint32_t ss_session;
	uint32_t ss_handle;
};

static struct session *
at(const struct bib *db, uint32_t idx)
{
	return session_at(db, idx);
}

static struct bib_entry *
entry_of(const struct bib *db, const struct session *s)
{
	return bib_entry_at(db, s->se_bib);
}

/* RFC 6146 §3.5.3: an ICMP session's remote "port" is the identifier on
 * each side; TCP and UDP keep the remote port across the translation. */
static uint16_t
rport6(const struct session *s, const struct bib_entry *e)
{
	return e->be_proto == L4_ICMP ? e->be_port6 : s->se_rport;
}

/* --- keys ------------------------------------------------------------ */

/* Keys packed into words for tabhash() (tabhash.h). */
static uint64_t
key64(const struct bib *db, uint8_t proto, const struct in6_addr *src, uint16_t sport,
      struct in_addr dst, uint16_t dport)
{
	uint64_t w[4];

	tabhash_addr6(w, src);
	w[2] = (uint64_t)dst.s_addr | (uint64_t)sport << 32 | (uint64_t)dport << 48;
	w[3] = proto;
	return tabhash(&db->cfg.key, w, 4);
}

static uint64_t
key46(const struct bib *db, uint8_t proto, struct in_addr mask, uint16_t mport,
      struct in_addr remote, uint16_t rport)
{
	uint64_t w[2] = {
		(uint64_t)mask.s_addr | (uint64_t)mport << 32 | (uint64_t)proto << 48,
		(uint64_t)remote.s_addr | (uint64_t)rport << 32,
	};

	return tabhash(&db->cfg.key, w, 2);
}

static uint64_t
session_key64(const struct bib *db, const struct session *s)
{
	const struct bib_entry *e = entry_of(db, s);

	return key64(db, e->be_proto, &e->be_addr6, e->be_port6, s->se_raddr4, rport6(s, e));
}

static uint64_t
session_key46(const struct bib *db, const struct session *s)
{
	const struct bib_entry *e = entry_of(db, s);

	return key46(db, e->be_proto, e->be_addr4, e->be_port4, s->se_raddr4, s->se_rport);
}

static uint64_t
rehash64(const void *ctx, const void *elem)
{
	return session_key64(ctx, elem);
}

static uint64_t
rehash46(const void *ctx, const void *elem)
{
	return session_key46(ctx, elem);
}

static uint64_t
key_stored(const struct bib *db, uint32_t session_idx)
{
	uint64_t w = session_idx;

	return tabhash(&db->cfg.key, &w, 1);
}

static uint64_t
rehash_stored(const void *ctx, const void *elem)
{
	return key_stored(ctx, ((const struct session_stored *)elem)->ss_session);
}

/* --- life cycle (called by bib.c) ------------------------------------- */

int
session_init(struct bib *db, uint32_t expected)
{
	hashtab_pool_init(&db->sessions, sizeof(struct session));
	hashtab_pool_init(&db->stored, sizeof(struct session_stored));
	if (hashtab_init(&db->by64, &db->sessions, offsetof(struct session, se_next64), rehash64,
			 db, expected) ||
	    hashtab_init(&db->by46, &db->sessions, offsetof(struct session, se_next46), rehash46,
			 db, expected) ||
	    hashtab_init(&db->stored_by_session, &db->stored,
			 offsetof(struct session_stored, ss_next), rehash_stored, db, 0))
		return -ENOMEM;
	return 0;
}

void
session_fini(struct bib *db)
{
	for (uint32_t i = hashtab_pool_next_live(&db->stored, 1); i;
	     i = hashtab_pool_next_live(&db->stored, i + 1)) {
		const struct session_stored *st = hashtab_pool_at(&db->stored, i);

		if (db->cfg.hooks.release_stored)
			db->cfg.hooks.release_stored(db->cfg.hooks.ctx, st->ss_handle);
	}
	hashtab_fini(&db->by64);
	hashtab_fini(&db->by46);
	hashtab_fini(&db->stored_by_session);
	hashtab_pool_fini(&db->sessions);
	hashtab_pool_fini(&db->stored);
}

size_t
session_memory(const struct bib *db)
{
	return hashtab_pool_bytes(&db->sessions) + hashtab_bytes(&db->by64) +
	       hashtab_bytes(&db->by46) + hashtab_pool_bytes(&db->stored) +
	       hashtab_bytes(&db->stored_by_session);
}

/* --- expiry lists ---------------------------------------------------- */

static void
list_unlink(struct bib *db, struct session *s)
{
	struct session_list *l = &db->lists[s->se_timer];

	if (s->se_prev)
		at(db, s->se_prev)->se_next = s->se_next;
	else
		l->head = s->se_next;
	if (s->se_next)
		at(db, s->se_next)->se_prev = s->se_prev;
	else
		l->tail = s->se_prev;
	s->se_prev = s->se_next = HASHTAB_NIL;
}

static void
list_append(struct bib *db, struct session *s, enum session_timer timer)
{
	struct session_list *l = &db->lists[timer];

	s->se_timer = (uint8_t)timer;
	s->se_prev = l->tail;
	s->se_next = HASHTAB_NIL;
	if (l->tail)
		at(db, l->tail)->se_next = s->se_idx;
	else
		l->head = s->se_idx;
	l->tail = s->se_idx;
}

/*
 * Last use = now, at the tail of `timer`'s list. The list stays ordered
 * by last use as long as `now` never goes backwards. A session already
 * used this millisecond on this list needs no move: everything after it
 * was used at the same time.
 */
static void
arm(struct bib *db, struct session *s, enum session_timer timer, uint64_t now)
{
	if (s->se_timer == timer && (s->se_last_use == now || db->lists[timer].tail == s->se_idx)) {
		s->se_last_use = now;
		return;
	}
	list_unlink(db, s);
	s->se_last_use = now;
	list_append(db, s, timer);
}

/* --- stored packets -------------------------------------------------- */

static uint32_t
stored_lookup(const struct bib *db, uint32_t session_idx, uint64_t hv)
{
	for (uint32_t i = hashtab_first(&db->stored_by_session, hv); i;
	     i = hashtab_next(&db->stored_by_session, i)) {
		const struct session_stored *st = hashtab_pool_at(&db->stored, i);

		if (st->ss_session == session_idx)
			return i;
	}
	return HASHTAB_NIL;
}

/* Takes the stored packet away from `s`; false when it holds none. */
static bool
stored_detach(struct bib *db, const struct session *s, uint32_t *handle)
{
	uint64_t hv;
	uint32_t i;

	if (s->se_timer != SESSION_TIMER_TCP_SYN4)
		return false; /* only SYN4 sessions hold one: skip the lookup */
	hv = key_stored(db, s->se_idx);
	i = stored_lookup(db, s->se_idx, hv);
	if (i == HASHTAB_NIL)
		return false;
	*handle = ((const struct session_stored *)hashtab_pool_at(&db->stored, i))->ss_handle;
	hashtab_remove(&db->stored_by_session, i, hv);
	hashtab_pool_free(&db->stored, i);
	return true;
}

static void
stored_release(struct bib *db, const struct session *s)
{
	uint32_t handle;

	if (stored_detach(db, s, &handle) && db->cfg.hooks.release_stored)
		db->cfg.hooks.release_stored(db->cfg.hooks.ctx, handle);
}

int
session_attach_stored(struct bib *db, struct session *s, uint32_t handle, uint64_t now)
{
	uint32_t i;

	if (!s || entry_of(db, s)->be_proto != L4_TCP || s->se_state != TCPS_V4_INIT)
		return -EINVAL;
	if (s->se_timer == SESSION_TIMER_TCP_SYN4)
		return -EBUSY;
	if (hashtab_pool_reserve(&db->stored, 1))
		return -ENOMEM;
	i = hashtab_pool_alloc(&db->stored);
	*(struct session_stored *)hashtab_pool_at(&db->stored, i) = (struct session_stored){
		.ss_session = s->se_idx,
		.ss_handle = handle,
	};
	hashtab_insert(&db->stored_by_session, i, key_stored(db, s->se_idx));
	arm(db, s, SESSION_TIMER_TCP_SYN4, now);
	return 0;
}

bool
session_stored(const struct bib *db, const struct session *s, uint32_t *handle)
{
	uint32_t i;

	if (!s || s->se_timer != SESSION_TIMER_TCP_SYN4)
		return false;
	i = stored_lookup(db, s->se_idx, key_stored(db, s->se_idx));
	if (i == HASHTAB_NIL)
		return false;
	if (handle)
		*handle =
			((const struct session_stored *)hashtab_pool_at(&db->stored, i))->ss_handle;
	return true;
}

uint32_t
session_stored_count(const struct bib *db)
{
	return db->stored.used;
}

/* --- lookups --------------------------------------------------------- */

static struct session *
walk6(const struct bib *db, uint64_t hv, uint8_t proto, const struct taddr6 *src,
      const struct taddr4 *dst)
{
	for (uint32_t i = hashtab_first(&db->by64, hv); i; i = at(db, i)->se_next64) {
		struct session *s = at(db, i);
		const struct bib_entry *e;

		/* The remote address first: it rules out most other flows
		 * without reading their BIB entry. */
		if (s->se_raddr4.s_addr != dst->addr.s_addr)
			continue;
		e = entry_of(db, s);
		if (e->be_port6 == src->port && rport6(s, e) == dst->port && e->be_proto == proto &&
		    in6_equal(&e->be_addr6, &src->addr))
			return s;
	}
	return NULL;
}

static struct session *
walk4(const struct bib *db, uint64_t hv, uint8_t proto, const struct taddr4 *dst,
      const struct taddr4 *src)
{
	for (uint32_t i = hashtab_first(&db->by46, hv); i; i = at(db, i)->se_next46) {
		struct session *s = at(db, i);
		const struct bib_entry *e;

		if (s->se_raddr4.s_addr != src->addr.s_addr || s->se_rport != src->port)
			continue;
		e = entry_of(db, s);
		if (e->be_port4 == dst->port && e->be_addr4.s_addr == dst->addr.s_addr &&
		    e->be_proto == proto)
			return s;
	}
	return NULL;
}

struct session *
session_find6(const struct bib *db, enum l4proto proto, const struct taddr6 *src,
	      const struct taddr4 *dst)
{
	if ((unsigned)proto >= L4_COUNT || !src || !dst)
		return NULL;
	return walk6(db, key64(db, (uint8_t)proto, &src->addr, src->port, dst->addr, dst->port),
		     (uint8_t)proto, src, dst);
}

struct session *
session_find4(const struct bib *db, enum l4proto proto, const struct taddr4 *dst,
	      const struct taddr4 *src)
{
	if ((unsigned)proto >= L4_COUNT || !src || !dst)
		return NULL;
	return walk4(db, key46(db, (uint8_t)proto, dst->addr, dst->port, src->addr, src->port),
		     (uint8_t)proto, dst, src);
}

static void
prefetch_bucket(const struct hashtab *h, uint64_t hv)
{
	__builtin_prefetch(&h->heads[hv & h->mask]);
}

/*
 * Bursts (DPDK's l3fwd habit): a random lookup in a million flows costs
 * three dependent cache misses (bucket, session, BIB entry). Going through
 * a burst one stage at a time, prefetching what the next stage reads,
 * lets the misses of different packets overlap.
 */
static void
prefetch_chain_heads(const struct bib *db, const struct hashtab *h, const uint64_t *hv, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t idx = hashtab_first(h, hv[i]);

		if (idx)
			__builtin_prefetch(at(db, idx));
	}
}

static void
prefetch_chain_entries(const struct bib *db, const struct hashtab *h, const uint64_t *hv,
		       unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t idx = hashtab_first(h, hv[i]);

		if (idx)
			__builtin_prefetch(entry_of(db, at(db, idx)));
	}
}

void
session_find6_burst(const struct bib *db, const struct session_query *q, unsigned n,
		    struct session **out)
{
	uint64_t hv[SESSION_BURST];

	for (unsigned base = 0; base < n; base += SESSION_BURST) {
		unsigned m = n - base < SESSION_BURST ? n - base : SESSION_BURST;
		const struct session_query *b = q + base;

		for (unsigned i = 0; i < m; i++) {
			hv[i] = key64(db, (uint8_t)b[i].proto, &b[i].src6.addr, b[i].src6.port,
				      b[i].dst4.addr, b[i].dst4.port);
			prefetch_bucket(&db->by64, hv[i]);
		}
		prefetch_chain_heads(db, &db->by64, hv, m);
		prefetch_chain_entries(db, &db->by64, hv, m);
		for (unsigned i = 0; i < m; i++)
			out[base + i] = (unsigned)b[i].proto < L4_COUNT
						? walk6(db, hv[i], (uint8_t)b[i].proto, &b[i].src6,
							&b[i].dst4)
						: NULL;
	}
}

void
session_find4_burst(const struct bib *db, const struct session_query *q, unsigned n,
		    struct session **out)
{
	uint64_t hv[SESSION_BURST];

	for (unsigned base = 0; base < n; base += SESSION_BURST) {
		unsigned m = n - base < SESSION_BURST ? n - base : SESSION_BURST;
		const struct session_query *b = q + base;

		for (unsigned i = 0; i < m; i++) {
			hv[i] = key46(db, (uint8_t)b[i].proto, b[i].dst4.addr, b[i].dst4.port,
				      b[i].src4.addr, b[i].src4.port);
			prefetch_bucket(&db->by46, hv[i]);
		}
		prefetch_chain_heads(db, &db->by46, hv, m);
		prefetch_chain_entries(db, &db->by46, hv, m);
		for (unsigned i = 0; i < m; i++)
			out[base + i] = (unsigned)b[i].proto < L4_COUNT
						? walk4(db, hv[i], (uint8_t)b[i].proto, &b[i].dst4,
							&b[i].src4)
						: NULL;
	}
}

/* --- creation -------------------------------------------------------- */

static enum session_timer
timer_for(enum l4proto proto, enum tcp_state state)
{
	if (proto == L4_UDP)
		return SESSION_TIMER_UDP;
	if (proto == L4_ICMP)
		return SESSION_TIMER_ICMP;
	switch (state) {
	case TCPS_ESTABLISHED:
	case TCPS_V4_FIN_RCV:
	case TCPS_V6_FIN_RCV:
		return SESSION_TIMER_TCP_EST;
	default:
		return SESSION_TIMER_TCP_TRANS;
	}
}

static int
check_tuple(const struct session_tuple *t, enum tcp_state state)
{
	if (!t || (unsigned)t->proto >= L4_COUNT)
		return -EINVAL;
	if (t->proto == L4_TCP && (state == TCPS_CLOSED || (unsigned)state >= TCPS_COUNT))
		return -EINVAL;
	if (t->proto == L4_ICMP)
		return t->dst6.port == t->src6.port && t->dst4.port == t->src4.port ? 0 : -EINVAL;
	return t->dst6.port == t->dst4.port ? 0 : -EINVAL;
}

static void
log_session(const struct bib *db, const struct session *s, enum bib_event_type type, uint64_t now)
{
	struct session_tuple t;
	struct bib_event ev = {.time = now, .type = type};

	if (!db->cfg.hooks.log)
		return;
	session_get_tuple(db, s, &t);
	ev.proto = t.proto;
	ev.is_static = entry_of(db, s)->be_static;
	ev.src6 = t.src6;
	ev.src4 = t.src4;
	ev.dst6 = t.dst6;
	ev.dst4 = t.dst4;
	bib_log(db, &ev);
}

static void
bib_list_add(struct bib *db, struct session *s)
{
	struct bib_entry *e = entry_of(db, s);

	s->se_bprev = HASHTAB_NIL;
	s->se_bnext = e->be_sessions;
	if (e->be_sessions)
		at(db, e->be_sessions)->se_bprev = s->se_idx;
	e->be_sessions = s->se_idx;
}

static void
bib_list_del(struct bib *db, struct session *s)
{
	if (s->se_bprev)
		at(db, s->se_bprev)->se_bnext = s->se_bnext;
	else
		entry_of(db, s)->be_sessions = s->se_bnext;
	if (s->se_bnext)
		at(db, s->se_bnext)->se_bprev = s->se_bprev;
}

/* Every check passed and memory is reserved: nothing can fail now. */
static struct session *
create(struct bib *db, const struct session_tuple *t, uint32_t bib_idx, enum tcp_state state,
       uint64_t now, const uint64_t hv[2], const struct bib_keys *k)
{
	uint32_t idx = hashtab_pool_alloc(&db->sessions);
	struct session *s = at(db, idx);

	s->se_raddr6 = t->dst6.addr;
	s->se_raddr4 = t->dst4.addr;
	s->se_rport = t->dst4.port;
	s->se_state = (uint8_t)(t->proto == L4_TCP ? state : TCPS_CLOSED);
	s->se_idx = idx;
	s->se_bib = bib_idx;
	s->se_last_use = now;
	hashtab_insert(&db->by64, idx, hv[0]);
	hashtab_insert(&db->by46, idx, hv[1]);
	bib_list_add(db, s);
	list_append(db, s, timer_for(t->proto, state));
	db->nsessions[t->proto]++;
	bib_session_added(db, bib_idx, s, k);
	log_session(db, s, BIB_EVENT_SESSION_ADDED, now);
	return s;
}

int
session_add(struct bib *db, const struct session_tuple *t, enum tcp_state state, uint64_t now,
	    struct session **out)
{
	struct taddr4 dst;
	struct bib_keys k;
	uint32_t bib_idx;
	uint64_t hv[2];
	struct session *s;
	int err = check_tuple(t, state);

	if (err)
		return err;
	dst = (struct taddr4){.addr = t->dst4.addr, .port = t->dst6.port}; /* 6->4 view */
	/* Every key first, so the buckets of the five tables load together. */
	hv[0] = key64(db, (uint8_t)t->proto, &t->src6.addr, t->src6.port, dst.addr, dst.port);
	hv[1] = key46(db, (uint8_t)t->proto, t->src4.addr, t->src4.port, t->dst4.addr,
		      t->dst4.port);
	prefetch_bucket(&db->by64, hv[0]);
	prefetch_bucket(&db->by46, hv[1]);
	bib_keys_get(db, t->proto, &t->src6, &t->src4, &k);

	if (walk6(db, hv[0], (uint8_t)t->proto, &t->src6, &dst))
		return -EEXIST;
	err = bib_check_mapping(db, t->proto, &t->src6, &t->src4, &k, &bib_idx);
	if (!err)
		err = bib_check_limits(db, &t->src6.addr, &k);
	if (!err && (bib_reserve(db) || hashtab_pool_reserve(&db->sessions, 1)))
		err = -ENOMEM;
	if (err)
		return err;
	if (bib_idx == HASHTAB_NIL)
		bib_idx = bib_add_dynamic(db, t->proto, &t->src6, &t->src4, &k, now);
	s = create(db, t, bib_idx, state, now, hv, &k);
	if (out)
		*out = s;
	return 0;
}

/* --- refresh and TCP ------------------------------------------------- */

void
session_refresh(struct bib *db, struct session *s, uint64_t now)
{
	arm(db, s, (enum session_timer)s->se_timer, now);
}

enum tcp_fate
session_tcp_update(struct bib *db, struct session *s, enum tcp_dir dir, uint8_t flags, uint64_t now)
{
	const struct tcp_settings settings = {
		.handle_rst_during_fin_rcv = db->cfg.handle_rst_during_fin_rcv,
	};
	struct tcp_transition tr;

	if (!s || entry_of(db, s)->be_proto != L4_TCP)
		return TCP_FATE_DROP;
	/* Jool: the stored SYN's sender retrying must not open the filter
	 * for itself (address-dependent filtering, type-2 packet). */
	if (s->se_timer == SESSION_TIMER_TCP_SYN4 && dir == TCP_DIR_4TO6)
		return TCP_FATE_DROP;
	tr = tcp_state_next((enum tcp_state)s->se_state, dir, flags, &settings);
	switch (tr.fate) {
	case TCP_FATE_TIMER_EST:
	case TCP_FATE_TIMER_TRANS:
		/* RFC 6146 §3.5.2.2: V4_INIT + v6 SYN: the stored packet, if
		 * any, is no longer needed. */
		stored_release(db, s);
		arm(db, s,
		    tr.fate == TCP_FATE_TIMER_EST ? SESSION_TIMER_TCP_EST : SESSION_TIMER_TCP_TRANS,
		    now);
		break;
	case TCP_FATE_PRESERVE:
		break;
	default:
		return TCP_FATE_DROP; /* not an answer for a live session */
	}
	s->se_state = (uint8_t)tr.state;
	return tr.fate;
}

/* --- removal --------------------------------------------------------- */

static void
destroy(struct bib *db, struct session *s, uint64_t now, bool release_bib)
{
	uint32_t idx = s->se_idx, bib_idx = s->se_bib;
	struct bib_entry *e = entry_of(db, s);

	log_session(db, s, BIB_EVENT_SESSION_REMOVED, now);
	stored_release(db, s);
	hashtab_remove(&db->by64, idx, session_key64(db, s));
	hashtab_remove(&db->by46, idx, session_key46(db, s));
	list_unlink(db, s);
	bib_list_del(db, s);
	db->nsessions[e->be_proto]--;
	bib_session_removed(db, bib_idx, s);
	hashtab_pool_free(&db->sessions, idx);
	if (release_bib)
		bib_release_if_unused(db, bib_idx, now);
}

void
session_remove(struct bib *db, struct session *s, uint64_t now)
{
	if (s)
		destroy(db, s, now, true);
}

void
session_remove_of_bib(struct bib *db, uint32_t bib_idx, uint64_t now)
{
	uint32_t i;

	while ((i = bib_entry_at(db, bib_idx)->be_sessions) != HASHTAB_NIL)
		destroy(db, at(db, i), now, false);
}

/* --- sweep ----------------------------------------------------------- */

static void
report(const struct bib *db, const struct session *s, enum session_action_type type,
       uint32_t stored, session_action_fn fn, void *arg)
{
	struct session_action a = {.type = type, .stored = stored};

	session_get_tuple(db, s, &a.tuple);
	fn(arg, &a);
}

/* The head of `timer`'s list ran out. */
static void
expire(struct bib *db, struct session *s, enum session_timer timer, uint64_t now,
       session_action_fn fn, void *arg)
{
	uint32_t handle;

	if (timer == SESSION_TIMER_TCP_EST) {
		struct tcp_transition tr = tcp_state_est_expired((enum tcp_state)s->se_state);

		if (tr.fate == TCP_FATE_PROBE) {
			s->se_state = (uint8_t)tr.state;
			arm(db, s, SESSION_TIMER_TCP_TRANS, now);
			if (fn)
				report(db, s, SESSION_ACTION_PROBE, 0, fn, arg);
			return;
		}
	}
	/* RFC 6146 §3.5.2.2: the stored SYN is answered with ICMP 3/3. */
	if (fn && stored_detach(db, s, &handle))
		report(db, s, SESSION_ACTION_ICMP, handle, fn, arg);
	destroy(db, s, now, true);
}

unsigned
session_sweep(struct bib *db, uint64_t now, unsigned budget, session_action_fn fn, void *arg)
{
	unsigned expired = 0;

	for (int t = 0; t < SESSION_TIMER_COUNT; t++) {
		uint64_t timeout = db->cfg.timeout[t];
		uint32_t i;

		while ((i = db->lists[t].head) != HASHTAB_NIL && (!budget || expired < budget)) {
			struct session *s = at(db, i);

			if (now < s->se_last_use || now - s->se_last_use <= timeout)
				break;
			expire(db, s, (enum session_timer)t, now, fn, arg);
			expired++;
		}
	}
	return expired;
}

/* --- display --------------------------------------------------------- */

struct bib_entry *
session_bib(const struct bib *db, const struct session *s)
{
	return entry_of(db, s);
}

enum l4proto
session_proto(const struct bib *db, const struct session *s)
{
	return (enum l4proto)entry_of(db, s)->be_proto;
}

void
session_get_tuple(const struct bib *db, const struct session *s, struct session_tuple *out)
{
	const struct bib_entry *e = entry_of(db, s);

	out->proto = (enum l4proto)e->be_proto;
	out->src6 = bib_entry_taddr6(e);
	out->src4 = bib_entry_taddr4(e);
	out->dst6 = (struct taddr6){.addr = s->se_raddr6, .port = rport6(s, e)};
	out->dst4 = (struct taddr4){.addr = s->se_raddr4, .port = s->se_rport};
}

uint64_t
session_expires_in(const struct bib *db, const struct session *s, uint64_t now)
{
	uint64_t idle = now > s->se_last_use ? now - s->se_last_use : 0;
	uint64_t timeout = db->cfg.timeout[s->se_timer];

	return idle < timeout ? timeout - idle : 0;
}

uint32_t
session_count(const struct bib *db, enum l4proto proto)
{
	if (proto == L4_COUNT)
		return db->sessions.used;
	return (unsigned)proto < L4_COUNT ? db->nsessions[proto] : 0;
}

int
session_foreach(const struct bib *db, enum l4proto proto, uint32_t *cursor, session_visit_fn visit,
		void *arg)
{
	uint32_t i = hashtab_pool_next_live(&db->sessions, *cursor);

	for (; i; i = hashtab_pool_next_live(&db->sessions, i + 1)) {
		const struct session *s = at(db, i);
		int rc;

		if (proto != L4_COUNT && entry_of(db, s)->be_proto != proto)
			continue;
		rc = visit(arg, s);
		if (rc) {
			*cursor = i + 1;
			return rc;
		}
	}
	*cursor = db->sessions.top;
	return 0;
}
