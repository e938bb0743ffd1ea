/*
 * RFC 6146 §3.2-3.3, §3.5: sessions and their expiry.
 *
 * A session is a flow between an IPv6 node and an IPv4 node through one
 * BIB entry (the tables are in struct bib, bib.h). With pool6 fixed, the
 * remote IPv6 address is pool6 + the remote IPv4 address, so a session is
 * keyed by its remote IPv4 taddr within its BIB entry; the caller gives
 * the IPv6 view at creation and it is kept for display and logs.
 *
 * Lookups (one hash lookup each, O(1) expected):
 *   6->4: (proto, packet source taddr6, IPv4 address embedded in the
 *         destination, destination port)                 session_find6()
 *   4->6: (proto, packet destination = mask taddr4, packet source taddr4)
 *                                                         session_find4()
 *
 * Expiry, without a timer per session (RFC 6146 §3.5: one timeout per
 * kind): every session is on the list of its class (enum session_timer,
 * bib.h), oldest use first. A refresh moves it to the tail in O(1); the
 * periodic session_sweep() pops expired sessions from the heads and stops
 * at the first one still alive. A session expires when now - last use >
 * the class's current timeout, so a timeout change applies at once.
 *
 * Everything here takes the caller's `now` (ms) and is not thread-safe.
 * No function allocates memory except session_add() and
 * session_attach_stored(), which take from free lists that grow a chunk at
 * a time.
 */
#ifndef NAT64_CORE_SESSION_H
#define NAT64_CORE_SESSION_H

#include "bib.h"
#include "tcp_state.h"

/*
 * The five-tuple of a session as a 6->4 packet sees it (RFC 6146 §3.5.1;
 * Jool's naming). ICMP (RFC 6146 §3.5.3): dst6.port = src6.port and
 * dst4.port = src4.port, the query identifiers. TCP and UDP: dst6.port =
 * dst4.port.
 */
struct session_tuple {
	enum l4proto proto;
	struct taddr6 src6; /* IPv6 node (X',x): the BIB entry's taddr6 */
	struct taddr6 dst6; /* IPv4 node seen from IPv6 (Y',y): pool6 + dst4 */
	struct taddr4 src4; /* mask (T,t): the BIB entry's taddr4 */
	struct taddr4 dst4; /* IPv4 node (Z,z) */
};

/* 64 bytes. Read-only outside session.c; se_state is the TCP state. */
struct session {
	struct in6_addr se_raddr6; /* dst6 address */
	uint64_t se_last_use;      /* ms */
	struct in_addr se_raddr4;  /* dst4 address */
	uint16_t se_rport;         /* dst4 port, host order */
	uint8_t se_state;          /* enum tcp_state; TCP only */
	uint8_t se_timer;          /* enum session_timer */
	uint32_t se_idx;           /* own index */
	uint32_t se_bib;           /* index of its BIB entry */
	uint32_t se_next64;        /* chain of the 6->4 table */
	uint32_t se_next46;        /* chain of the 4->6 table */
	uint32_t se_prev;          /* expiry list */
	uint32_t se_next;
	uint32_t se_bprev; /* sessions of the same BIB entry */
	uint32_t se_bnext;
};

/*
 * Creates a session, and its dynamic BIB entry when the tuple's src6 has
 * none (the pipeline has then chosen src4 in pool4). TCP starts in `state`
 * (V6_INIT or V4_INIT after a SYN; any state but CLOSED is accepted, e.g.
 * for session synchronisation); `state` is ignored for UDP and ICMP.
 * Errors change nothing:
 *   -EINVAL       bad protocol or state, ports inconsistent (see above);
 *   -EEXIST       the session exists;
 *   -EADDRNOTAVAIL src6 is mapped to another taddr4 than src4;
 *   -EADDRINUSE   src4 is mapped to another taddr6;
 *   -ENOSPC       the total session limit is reached (STAT_SESSION_LIMIT);
 *   -EDQUOT       src6's host is at its limit (STAT_HOST_SESSION_LIMIT);
 *   -ENOMEM.
 * `out` (may be NULL) receives the session, valid until it is removed.
 */
int session_add(struct bib *db, const struct session_tuple *t, enum tcp_state state, uint64_t now,
		struct session **out);

/* 6->4 lookup. `dst`: the IPv4 address embedded in the packet's
 * destination, and its destination port (ICMP: the identifier). */
struct session *session_find6(const struct bib *db, enum l4proto proto, const struct taddr6 *src,
			      const struct taddr4 *dst);
/* 4->6 lookup: `dst` is the packet's destination (our mask), `src` its
 * source (the remote node; ICMP: port = identifier). */
struct session *session_find4(const struct bib *db, enum l4proto proto, const struct taddr4 *dst,
			      const struct taddr4 *src);

/*
 * Bursts: the same lookups for up to any number of packets, staged so the
 * cache misses of different packets overlap (prefetching): use them on
 * the data path. A query with a bad protocol finds NULL.
 *   6->4: proto, src6, dst4 (as session_find6's src and dst);
 *   4->6: proto, dst4 (the mask), src4 (the remote), as session_find4.
 */
enum { SESSION_BURST = 32 }; /* lookups staged together */

struct session_query {
	enum l4proto proto;
	struct taddr6 src6;
	struct taddr4 src4;
	struct taddr4 dst4;
};

void session_find6_burst(const struct bib *db, const struct session_query *q, unsigned n,
			 struct session **out);
void session_find4_burst(const struct bib *db, const struct session_query *q, unsigned n,
			 struct session **out);

/* RFC 6146 §3.5.1, §3.5.3: a packet went through; re-arm the session's
 * current timer (for TCP use session_tcp_update()). */
void session_refresh(struct bib *db, struct session *s, uint64_t now);

/*
 * RFC 6146 §3.5.2.2: runs the TCP state machine (tcp_state.c) for a packet
 * and applies the fate: a new state, the est or trans timer re-armed, or
 * nothing. A v4 packet meeting a session that holds a stored v4 SYN
 * returns TCP_FATE_DROP and changes nothing (it must not authorise
 * itself); the v6 SYN that establishes such a session releases the stored
 * packet (release_stored hook). Returns the fate applied: DROP means drop
 * the packet, anything else means translate it.
 */
enum tcp_fate session_tcp_update(struct bib *db, struct session *s, enum tcp_dir dir, uint8_t flags,
				 uint64_t now);

/*
 * Type-2 simultaneous open (RFC 6146 §3.5.2.2, address-dependent
 * filtering on): the v4 SYN is kept by the pipeline under `handle` (its own
 * index or pointer), the session goes on the 6 s SYN4 timer. On expiry the
 * sweep hands the handle back with SESSION_ACTION_ICMP; if the session
 * goes otherwise, the release_stored hook gets it. -EINVAL unless a TCP
 * session in V4_INIT; -EBUSY when it already holds one; -ENOMEM.
 */
int session_attach_stored(struct bib *db, struct session *s, uint32_t handle, uint64_t now);
bool session_stored(const struct bib *db, const struct session *s, uint32_t *handle);
/* Stored packets held by sessions (they count toward
 * maximum-simultaneous-opens with the pipeline's type-1 packets). */
uint32_t session_stored_count(const struct bib *db);

/* Removes one session; its dynamic BIB entry goes with its last one. */
void session_remove(struct bib *db, struct session *s, uint64_t now);

enum session_action_type {
	/* RFC 6146 §3.5.2.2: the est timer ran out; send the IPv6 node a
	 * probe (bare ACK from tuple.dst6 to tuple.src6). The session is now
	 * TRANS. */
	SESSION_ACTION_PROBE,
	/* The SYN4 timer ran out: answer the stored v4 SYN with ICMPv4 3/3
	 * and free it. The session is gone. */
	SESSION_ACTION_ICMP,
};

struct session_action {
	enum session_action_type type;
	struct session_tuple tuple;
	uint32_t stored; /* SESSION_ACTION_ICMP: the caller owns it again */
};

/* Must not change the tables. */
typedef void (*session_action_fn)(void *arg, const struct session_action *a);

/*
 * Expires what has to (call it every 2 s or so): removes sessions idle
 * longer than their class's timeout, moves expired ESTABLISHED ones to
 * TRANS, and reports probes and ICMP errors to `fn`. With `fn` NULL the
 * stored packets go to the release_stored hook. At most `budget` sessions
 * are handled (0: no limit), so a daemon can bound the pause and call
 * again soon when the budget was used up. Returns how many expired
 * (removed or moved to TRANS).
 */
unsigned session_sweep(struct bib *db, uint64_t now, unsigned budget, session_action_fn fn,
		       void *arg);

struct bib_entry *session_bib(const struct bib *db, const struct session *s);
enum l4proto session_proto(const struct bib *db, const struct session *s);
void session_get_tuple(const struct bib *db, const struct session *s, struct session_tuple *out);
/* Milliseconds until the sweep may expire it (0: overdue). */
uint64_t session_expires_in(const struct bib *db, const struct session *s, uint64_t now);
/* Sessions of `proto`; L4_COUNT: all. */
uint32_t session_count(const struct bib *db, enum l4proto proto);

/* As bib_foreach(), over the sessions of `proto`. */
typedef int (*session_visit_fn)(void *arg, const struct session *s);
int session_foreach(const struct bib *db, enum l4proto proto, uint32_t *cursor,
		    session_visit_fn visit, void *arg);

/* For bib.c only. */
static inline struct session *
session_at(const struct bib *db, uint32_t idx)
{
	return hashtab_pool_at(&db->sessions, idx);
}

int session_init(struct bib *db, uint32_t expected);
void session_fini(struct bib *db);
size_t session_memory(const struct bib *db);
void session_remove_of_bib(struct bib *db, uint32_t bib_idx, uint64_t now);

#endif
