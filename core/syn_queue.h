/*
 * RFC 6146 §3.5.2.2: IPv4 SYNs the NAT64 keeps instead of translating
 * (simultaneous open), with Jool's two kinds (JOOL-REFERENCE §3.6):
 *
 *   type 1: a v4 SYN toward a pool4 taddr that has no BIB entry. It waits
 *           up to 6 s for an IPv6 SYN toward its sender; that SYN's new
 *           BIB entry then gets exactly the stored pool4 taddr (hole
 *           punching) and the stored packet is dropped. Without one, the
 *           sender gets ICMPv4 3/3 quoting it. The queue owns these and
 *           their 6 s expiry (a FIFO, oldest first).
 *   type 2: a v4 SYN through an existing BIB entry under address-dependent
 *           filtering. The V4_INIT session holds its handle and the 6 s
 *           timer (session_attach_stored()); the queue only keeps bytes.
 *
 * Both kinds share one capacity, maximum-simultaneous-opens, as in Jool.
 * Only what an ICMPv4 error can quote is kept (RFC 1812 §4.3.2.3: the
 * error fits in 576 bytes), so a slot is small and fixed; slots are
 * allocated as the queue first fills (a stored SYN is not the established
 * path) and reused from a free list afterwards.
 *
 * Not thread-safe: one per engine.
 */
#ifndef NAT64_CORE_SYN_QUEUE_H
#define NAT64_CORE_SYN_QUEUE_H

#include "types.h"

enum {
	/* 576 - IPv4 header - ICMP header: the most an ICMPv4 error quotes. */
	SYN_QUEUE_SNAP = 576 - 20 - 8,
	/* RFC 6146 §3.5.2.2: a stored SYN waits 6 seconds. */
	SYN_QUEUE_TIMEOUT = 6 * 1000,
};

enum syn_type {
	SYN_FREE = 0,
	SYN_TYPE1,
	SYN_TYPE2,
};

struct syn_slot {
	uint64_t ss_time;        /* ms, when stored */
	struct taddr4 ss_remote; /* type 1: the SYN's source */
	struct taddr4 ss_local;  /* type 1: the SYN's destination (pool4) */
	uint32_t ss_next;        /* free list, or type-1 FIFO */
	uint32_t ss_prev;        /* type-1 FIFO */
	uint16_t ss_len;
	uint8_t ss_type; /* enum syn_type */
	uint8_t ss_data[SYN_QUEUE_SNAP];
};

struct syn_queue {
	struct syn_slot *slots; /* slot 0 is never used: 0 means "none" */
	uint32_t nslots;        /* allocated, slot 0 included */
	uint32_t used;          /* stored packets, both types */
	uint32_t capacity;      /* maximum-simultaneous-opens */
	uint32_t free_head;
	uint32_t head; /* type-1 FIFO, oldest first */
	uint32_t tail;
};

/* Empty queue of `capacity` packets; allocates nothing yet. */
void syn_queue_init(struct syn_queue *q, uint32_t capacity);
/* Frees the slots; stored packets are simply forgotten. */
void syn_queue_fini(struct syn_queue *q);
/* New capacity; lowering it drops nothing, it only refuses new ones. */
void syn_queue_set_capacity(struct syn_queue *q, uint32_t capacity);

/*
 * Stores a type-1 SYN (`pkt`, `len` bytes, cut to SYN_QUEUE_SNAP) from
 * `remote` to `local`. 0, or -EEXIST (a SYN from `remote` to `local` is
 * already stored: Jool's SO_EXISTS), -ENOSPC (capacity reached: SO_FULL),
 * -ENOMEM. Errors change nothing.
 */
int syn_queue_add1(struct syn_queue *q, const struct taddr4 *remote, const struct taddr4 *local,
		   const uint8_t *pkt, uint32_t len, uint64_t now);
/* Stores a type-2 SYN; *handle names it for session_attach_stored().
 * -ENOSPC or -ENOMEM, nothing changed. */
int syn_queue_add2(struct syn_queue *q, const uint8_t *pkt, uint32_t len, uint64_t now,
		   uint32_t *handle);

/* Is `local` acceptable for the IPv6 SYN being handled? */
typedef bool (*syn_queue_accept_fn)(void *ctx, const struct taddr4 *local);
/* The oldest type-1 SYN from `remote` whose local taddr `accept` takes
 * (NULL: any): its handle, or 0. O(type-1 packets stored), at most the
 * capacity, and O(1) when none is stored (the usual case). */
uint32_t syn_queue_find1(const struct syn_queue *q, const struct taddr4 *remote,
			 syn_queue_accept_fn accept, void *ctx);

/* The stored bytes of `handle` (0 and NULL when it names nothing). */
const uint8_t *syn_queue_packet(const struct syn_queue *q, uint32_t handle, uint32_t *len);
/* The pool4 taddr a type-1 SYN was sent to. */
struct taddr4 syn_queue_local(const struct syn_queue *q, uint32_t handle);
/* Forgets a stored packet (either type); a bad handle is ignored. */
void syn_queue_free(struct syn_queue *q, uint32_t handle);

/* Called for each expired type-1 SYN, which is freed after the call. */
typedef void (*syn_queue_expired_fn)(void *ctx, const uint8_t *pkt, uint32_t len);
/* RFC 6146 §3.5.2.2: type-1 SYNs stored more than 6 s before `now` go to
 * `fn` and are freed. Returns how many. */
unsigned syn_queue_expire(struct syn_queue *q, uint64_t now, syn_queue_expired_fn fn, void *ctx);

/* Stored packets of both types. */
uint32_t syn_queue_count(const struct syn_queue *q);

#endif
