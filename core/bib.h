/*
 * RFC 6146 §3.1-3.3: the Binding Information Bases and the tables around
 * them.
 *
 * One `struct bib` holds every table of one NAT64 instance, as Jool's
 * struct bib does: the BIB entries of the three protocols (TCP, UDP, ICMP;
 * the ICMP "port" is the query identifier), their sessions (session.h),
 * the session expiry lists, per-IPv6-host and per-IPv4-address
 * accounting, limits, timeouts and hooks. bib.c owns BIB entries, hosts,
 * address usage and settings; session.c owns sessions and expiry. They
 * share this struct, so its members are private to those two files: use
 * the functions.
 *
 * A BIB entry maps an IPv6 transport address to an IPv4 one (RFC 6146
 * §3.1). It is static (added by the operator, never expires) or dynamic
 * (created with its first session, dies with its last). Mapping is always
 * endpoint-independent (RFC 6146 §3.5.1: one entry per IPv6 taddr whatever
 * the destination). Both taddrs are unique per protocol: an entry is found
 * by either in O(1) expected time.
 *
 * Table layout (why, see hashtab.h): each kind of element lives in its own
 * chunked pool and is linked by 32-bit indices; one SipHash-keyed table
 * per lookup key, all protocols in the same table (the protocol is part of
 * the key):
 *   BIB entry    by (proto, taddr6) and by (proto, taddr4);
 *   session      by (proto, src6 taddr, dst4 taddr)    6->4, one lookup;
 *                by (proto, src4 taddr, dst4 taddr)    4->6, one lookup;
 *   remote       (BIB entry, remote IPv4 address) -> sessions: the O(1)
 *                address-dependent filtering query (entries with two
 *                sessions or more; one session answers for itself);
 *   host         IPv6 address -> sessions (RFC 6888 REQ-4 limit) and the
 *                IPv4 address its entries use (paired pooling);
 *   usage        (proto, IPv4 address) -> BIB entries on it.
 * Memory per session, typical case (one session per BIB entry, many
 * sessions per host): 64 (session) + 40 (BIB entry) + the bucket heads of
 * four tables (4 bytes per bucket, 2-4 buckets per element at load <= 1/2:
 * 32-64 bytes) + a share of the host record; + 20 for the remote record
 * when an entry has several sessions: bench/bench_tables.c prints the
 * measured figure.
 *
 * Time is the caller's millisecond clock, passed to every call that can
 * create, refresh, log or remove (it must not go backwards). A struct bib
 * must stay where bib_init() put it (its tables point back to it). Not
 * thread-safe: one struct bib per worker, or the caller serialises.
 */
#ifndef NAT64_CORE_BIB_H
#define NAT64_CORE_BIB_H

#include "hashtab.h"
#include "port_share.h"
#include "siphash.h"
#include "types.h"

struct session;
struct tabhash_memo;

/* Expiry classes: every session of a class shares one timeout (ms). */
enum session_timer {
	SESSION_TIMER_UDP = 0,
	SESSION_TIMER_ICMP,
	SESSION_TIMER_TCP_EST,   /* ESTABLISHED and the FIN states */
	SESSION_TIMER_TCP_TRANS, /* V6_INIT, V4_INIT, V4_FIN_V6_FIN_RCV, TRANS */
	SESSION_TIMER_TCP_SYN4,  /* V4_INIT holding a stored v4 SYN */
	SESSION_TIMER_COUNT
};

/* Jool's defaults and minimums (JOOL-REFERENCE §2), milliseconds. */
enum {
	BIB_TIMEOUT_UDP = 5 * 60 * 1000,
	BIB_TIMEOUT_UDP_MIN = 2 * 60 * 1000, /* RFC 6146 §3.5.1.1: at least 2 min */
	BIB_TIMEOUT_ICMP = 60 * 1000,
	BIB_TIMEOUT_ICMP_MIN = 0,
	BIB_TIMEOUT_TCP_EST = 2 * 60 * 60 * 1000,
	/* RFC 6146 §3.5.2.2 asks 2 h 4 min (RFC 5382); Jool accepts 2 h. */
	BIB_TIMEOUT_TCP_EST_MIN = 2 * 60 * 60 * 1000,
	BIB_TIMEOUT_TCP_TRANS = 4 * 60 * 1000,
	BIB_TIMEOUT_TCP_TRANS_MIN = 4 * 60 * 1000,  /* RFC 6146 §3.5.2.2: 4 min */
	BIB_TIMEOUT_TCP_SYN4 = 6 * 1000,            /* RFC 6146 §3.5.2.2: 6 s, fixed */
	BIB_DEFAULT_MAX_SESSIONS = 2 * 1024 * 1024, /* as globals.c */
	BIB_DEFAULT_MAX_SESSIONS_PER_HOST = 65536,  /* as globals.c */
};

/* RFC 6888 REQ-12 logging: what happened to which mapping. */
enum bib_event_type {
	BIB_EVENT_BIB_ADDED,
	BIB_EVENT_BIB_REMOVED,
	BIB_EVENT_SESSION_ADDED,
	BIB_EVENT_SESSION_REMOVED,
};

struct bib_event {
	/* The `now` of the call that caused the event. A daemon that runs the
	 * tables on a monotonic clock converts it to wall time before
	 * formatting. */
	uint64_t time;
	enum bib_event_type type;
	enum l4proto proto;
	bool is_static;     /* BIB events */
	struct taddr6 src6; /* the mapping: IPv6 node ... */
	struct taddr4 src4; /* ... and its IPv4 mask */
	struct taddr6 dst6; /* session events: the remote node, IPv6 view ... */
	struct taddr4 dst4; /* ... and IPv4 view */
};

struct bib_hooks {
	/* Optional: called on every BIB entry and session creation and
	 * removal (bib_event_format() writes the log line). Must not change
	 * the tables. */
	void (*log)(void *ctx, const struct bib_event *ev);
	/* Optional: a session let go of its stored packet (session.h) and no
	 * ICMP error is due: the owner frees it. */
	void (*release_stored)(void *ctx, uint32_t handle);
	void *ctx;
};

struct bib_config {
	/* SipHash key of every table; draw it at random. */
	struct siphash_key key;
	/* With several workers, static entries are in every worker's BIB;
	 * the per-address usage (bib_usage4) counts the entries of this
	 * worker's ports only, so that the workers' counts add up. */
	struct port_share share;
	/* RFC 6888 REQ-4: new sessions are refused beyond these (> 0). */
	uint32_t max_sessions;
	uint32_t max_sessions_per_host;
	uint64_t timeout[SESSION_TIMER_COUNT]; /* ms; SYN4 is fixed */
	bool handle_rst_during_fin_rcv;
	/* Pre-sizes the hash tables to avoid growth pauses (their heads cost
	 * no resident memory until used, hashtab.h); 0: start small. */
	uint32_t expected_sessions;
	struct bib_hooks hooks;
};

/* A mapping. Read it through the bib_entry_* accessors. */
struct bib_entry {
	struct in6_addr be_addr6;
	struct in_addr be_addr4;
	uint16_t be_port6;    /* host order */
	uint16_t be_port4;    /* host order */
	uint32_t be_next6;    /* chain of the taddr6 table */
	uint32_t be_next4;    /* chain of the taddr4 table */
	uint32_t be_sessions; /* first session of this entry (session.c) */
	uint8_t be_proto;     /* enum l4proto */
	bool be_static;
};

/* An expiry list, oldest first (session.c). */
struct session_list {
	uint32_t head;
	uint32_t tail;
};

struct bib {
	struct bib_config cfg;
	/* bib.c */
	struct hashtab_pool entries; /* struct bib_entry */
	struct hashtab by6;
	struct hashtab by4;
	uint32_t nentries[L4_COUNT];
	struct hashtab_pool remotes; /* struct bib_remote */
	struct hashtab remotes_by_key;
	struct hashtab_pool hosts; /* struct bib_host */
	struct hashtab hosts_by_addr;
	struct hashtab_pool usage; /* struct bib_usage */
	struct hashtab usage_by_addr;
	/* session.c */
	struct hashtab_pool sessions; /* struct session */
	struct hashtab by64;
	struct hashtab by46;
	struct session_list lists[SESSION_TIMER_COUNT];
	uint32_t nsessions[L4_COUNT];
	struct hashtab_pool stored; /* struct session_stored */
	struct hashtab stored_by_session;
	/* bib.c: the last hash of each kind of BIB key (tabhash.h), written
	 * by lookups too, hence behind a pointer. A new flow hashes each of
	 * them twice (lookup, then session_add()); the session keys are not
	 * memoised, as an established packet's lookup would pay the check. */
	struct tabhash_memo *memo; /* BIB_MEMO_COUNT of them */
};

enum bib_memo { BIB_MEMO_6, BIB_MEMO_4, BIB_MEMO_HOST, BIB_MEMO_COUNT };

/* Jool's defaults, limits as above, a zero key (set cfg->key!), no hooks. */
void bib_config_default(struct bib_config *cfg);

/* -EINVAL (limit 0), -ERANGE (timeout below its minimum), -ENOMEM. */
int bib_init(struct bib *db, const struct bib_config *cfg);
/* Frees everything; stored packets go to the release_stored hook; no log
 * events. */
void bib_fini(struct bib *db);

/* Run-time settings; they apply to existing sessions at once because
 * expiry is computed at sweep time. -EINVAL for SYN4 or a bad class,
 * -ERANGE below the minimum. */
int bib_set_timeout(struct bib *db, enum session_timer timer, uint64_t ms);
uint64_t bib_timeout(const struct bib *db, enum session_timer timer);
/* -EINVAL when a limit is 0. Lowering a limit removes nothing. */
int bib_set_limits(struct bib *db, uint32_t max_sessions, uint32_t max_sessions_per_host);
void bib_set_handle_rst(struct bib *db, bool on);
void bib_set_hooks(struct bib *db, const struct bib_hooks *hooks);

/*
 * Adds a static entry (`bib add`). Errors, none of which changes anything:
 * -EINVAL bad protocol; -EEXIST `a6` is mapped to another taddr4;
 * -EADDRINUSE `a4` is mapped to another taddr6; -EALREADY this exact
 * static entry exists; -ENOMEM. The same mapping existing as a dynamic
 * entry becomes static (Jool).
 */
int bib_add_static(struct bib *db, enum l4proto proto, const struct taddr6 *a6,
		   const struct taddr4 *a4, uint64_t now);

struct bib_entry *bib_find6(const struct bib *db, enum l4proto proto, const struct taddr6 *a6);
struct bib_entry *bib_find4(const struct bib *db, enum l4proto proto, const struct taddr4 *a4);

/* Removes an entry, static or not, with its sessions. */
void bib_remove(struct bib *db, struct bib_entry *e, uint64_t now);
/* Same, found by either taddr: -EINVAL bad protocol, -ENOENT no entry. */
int bib_remove6(struct bib *db, enum l4proto proto, const struct taddr6 *a6, uint64_t now);
int bib_remove4(struct bib *db, enum l4proto proto, const struct taddr4 *a4, uint64_t now);

/*
 * `pool4 remove` without --quick: removes every entry of `proto`, static
 * included (as Jool), whose IPv4 address is in [first, last] and port in
 * [min_port, max_port], with their sessions. Returns how many entries
 * went, or -EINVAL (bad protocol, first > last or min_port > max_port).
 */
int bib_remove_range4(struct bib *db, enum l4proto proto, struct in_addr first, struct in_addr last,
		      uint16_t min_port, uint16_t max_port, uint64_t now);
/* `pool4 flush` without --quick: every entry of every protocol. */
void bib_flush(struct bib *db, uint64_t now);

uint32_t bib_count(const struct bib *db, enum l4proto proto);
/* How many taddrs of `addr` BIB entries of `proto` use: pool4 occupancy. */
uint32_t bib_usage4(const struct bib *db, enum l4proto proto, struct in_addr addr);
/* Paired address pooling (RFC 4787 REQ-2, RFC 6888 REQ-2): the IPv4
 * address this IPv6 host's `proto` entries use, so the next one can get
 * the same. False when the host has no such entry. */
bool bib_host_addr4(const struct bib *db, enum l4proto proto, const struct in6_addr *addr6,
		    struct in_addr *out);
/* Sessions of all protocols this IPv6 host holds (what the limit counts). */
uint32_t bib_host_sessions(const struct bib *db, const struct in6_addr *addr6);
/* Address-dependent filtering (RFC 4787 §5, Jool's ADF): true when `e`
 * has a session toward IPv4 address `addr`, whatever the port. O(1). */
bool bib_has_session_to_addr4(const struct bib *db, const struct bib_entry *e, struct in_addr addr);

/*
 * Visits the entries of `proto` in storage order, starting at *cursor (0
 * for the first call). When `visit` returns non-zero the walk stops,
 * *cursor is set to resume after that entry and the value is returned; 0
 * at the end. `visit` must not change the tables.
 */
typedef int (*bib_visit_fn)(void *arg, const struct bib_entry *e);
int bib_foreach(const struct bib *db, enum l4proto proto, uint32_t *cursor, bib_visit_fn visit,
		void *arg);

/* Bytes held by every table of `db` (pools and bucket arrays). */
size_t bib_memory(const struct bib *db);

/*
 * One parseable log line, UTC, no newline, e.g.
 *   2026-11-26T04:40:00.123Z session-added TCP 2001:db8::5#1234 192.0.2.2#1234 198.51.100.9#80
 *   2026-11-26T04:40:00.123Z bib-added UDP 2001:db8::5#1234 192.0.2.2#1234 dynamic
 * Returns the length (as snprintf: the output is cut to size - 1 bytes),
 * or -EINVAL for an event with a bad type or protocol.
 */
int bib_event_format(const struct bib_event *ev, char *buf, size_t size);
/* "TCP", "UDP", "ICMP"; "?" when out of range. */
const char *bib_proto_name(enum l4proto proto);

static inline struct taddr6
bib_entry_taddr6(const struct bib_entry *e)
{
	return (struct taddr6){.addr = e->be_addr6, .port = e->be_port6};
}

static inline struct taddr4
bib_entry_taddr4(const struct bib_entry *e)
{
	return (struct taddr4){.addr = e->be_addr4, .port = e->be_port4};
}

static inline enum l4proto
bib_entry_proto(const struct bib_entry *e)
{
	return (enum l4proto)e->be_proto;
}

static inline bool
bib_entry_is_static(const struct bib_entry *e)
{
	return e->be_static;
}

/*
 * For session.c only: the pieces of BIB bookkeeping a session creation
 * or removal drives.
 */
static inline struct bib_entry *
bib_entry_at(const struct bib *db, uint32_t idx)
{
	return hashtab_pool_at(&db->entries, idx);
}

/*
 * The hashes of the BIB-side keys of one new session. session_add()
 * computes them all first and prefetches their buckets, so the cache
 * misses of the tables it touches overlap instead of queueing up.
 */
struct bib_keys {
	uint64_t h6;   /* (proto, src6 taddr) */
	uint64_t h4;   /* (proto, src4 taddr) */
	uint64_t host; /* src6 address */
};
void bib_keys_get(const struct bib *db, enum l4proto proto, const struct taddr6 *a6,
		  const struct taddr4 *a4, struct bib_keys *k);
/* 0 with *idx = the entry mapping a6 to a4, or NIL when both are free;
 * -EADDRNOTAVAIL (a6 mapped elsewhere), -EADDRINUSE (a4 taken). */
int bib_check_mapping(const struct bib *db, enum l4proto proto, const struct taddr6 *a6,
		      const struct taddr4 *a4, const struct bib_keys *k, uint32_t *idx);
/* RFC 6888 REQ-4: -ENOSPC (total) or -EDQUOT (this host) for one more. */
int bib_check_limits(const struct bib *db, const struct in6_addr *addr6, const struct bib_keys *k);
/* Makes sure the next bib_add_dynamic() and bib_session_added() can't
 * fail for lack of memory. -ENOMEM. */
int bib_reserve(struct bib *db);
/* A new dynamic entry; both taddrs must be free. Returns its index. */
uint32_t bib_add_dynamic(struct bib *db, enum l4proto proto, const struct taddr6 *a6,
			 const struct taddr4 *a4, const struct bib_keys *k, uint64_t now);
/* Counts session `s` of entry `idx` (host and remote tables): after it
 * joined the entry's list, and after it left it. */
void bib_session_added(struct bib *db, uint32_t idx, const struct session *s,
		       const struct bib_keys *k);
void bib_session_removed(struct bib *db, uint32_t idx, const struct session *s);
/* Removes a dynamic entry that has no session left. */
void bib_release_if_unused(struct bib *db, uint32_t idx, uint64_t now);
/* Sends an event to the log hook, if any. */
void bib_log(const struct bib *db, const struct bib_event *ev);

#endif
