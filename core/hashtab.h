/*
 * Index-linked hash tables over chunked element pools: the storage under
 * the BIB and session tables (bib.c, session.c).
 *
 * Layout choices, and why the alternatives lost:
 *  - Elements are named by 32-bit indices, not pointers. A session sits in
 *    two hash chains, an expiry list and its BIB entry's list: six links,
 *    24 bytes as indices against 48 as pointers. That saving is what keeps
 *    a session with its share of BIB entry and buckets under 192 bytes.
 *  - Elements live in chunks (about 2 MiB) that never move, so a
 *    pointer to a live element stays valid until it is freed, and growth
 *    never copies elements (a realloc'd array would move them all and
 *    briefly need twice the memory). Freed elements go to a free list;
 *    a new chunk is allocated only when the free list is empty, so steady
 *    traffic allocates nothing.
 *  - Chaining, not open addressing: an element can be in several tables
 *    at once, each with its own link field inside the element (intrusive),
 *    deletion needs no tombstones, and a chain link costs 4 bytes.
 *  - Buckets are SipHash(key) & mask with a secret key given at creation,
 *    so packets can't choose collisions (RFC 6146 §3 tables are filled by
 *    strangers). The table doubles when it holds more elements than
 *    half its buckets (HASHTAB_MAX_LOAD); growth rehashes every element
 *    once (amortised O(1) per insert; a pause proportional to the table).
 *    If growth can't get memory the table keeps working at a higher load.
 *  - Load at most 1/2, not 1: every element a chain walk passes is
 *    usually a cache miss (a random lookup among a million flows touches
 *    cold memory), and a lookup passes about load/2 other elements when it
 *    finds its key and load when it does not (a new flow). Halving the
 *    load halves those misses for 4 more bytes of heads per element.
 *
 * Index 0 (HASHTAB_NIL) is never handed out, so zeroed memory is a valid
 * empty bucket array. Not thread-safe; the caller serialises.
 */
#ifndef NAT64_CORE_HASHTAB_H
#define NAT64_CORE_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASHTAB_NIL 0u

enum {
	/* A chunk holds at most this many bytes of elements: one 2 MiB huge
	 * page for 64-byte sessions, so that with transparent huge pages a
	 * million flows need few TLB entries. */
	HASHTAB_CHUNK_BYTES = 2 << 20,
	HASHTAB_MIN_BUCKETS = 64,
	HASHTAB_ALIGN = 64,   /* cache line: a 64-byte element sits in one */
	HASHTAB_MAX_LOAD = 2, /* elements per bucket at most 1/this */
};

/*
 * Fixed-size elements in chunks of 2^shift elements (shift chosen from the
 * element size, see HASHTAB_CHUNK_BYTES), each with a bitmap of the live
 * ones for iteration. A free element keeps the free list link in its
 * first 4 bytes.
 */
struct hashtab_pool {
	uint8_t **chunks;
	uint64_t **live;     /* per chunk: bit i set when element i is live */
	uint32_t nchunks;    /* chunks allocated */
	uint32_t chunks_cap; /* slots in `chunks` and `live` */
	uint32_t elem_size;  /* bytes, a multiple of 4 */
	uint32_t shift;      /* log2 of the elements per chunk */
	uint32_t top;        /* indices below this have been handed out at least once */
	/* Index i lives in slot i - 1, so 2^k elements fill 2^k slots. */
	uint32_t free_head;  /* first free element, HASHTAB_NIL if none */
	uint32_t free_count; /* elements on the free list */
	uint32_t used;       /* live elements */
};

/* elem_size must be a non-zero multiple of 4 (8 if the element holds
 * 64-bit fields). Allocates nothing yet. */
void hashtab_pool_init(struct hashtab_pool *p, uint32_t elem_size);
void hashtab_pool_fini(struct hashtab_pool *p);

/* Makes sure the next `n` (<= 256) allocations succeed without
 * allocating memory. -ENOMEM on failure. */
int hashtab_pool_reserve(struct hashtab_pool *p, uint32_t n);

/* A zeroed element, or HASHTAB_NIL when out of memory or indices. */
uint32_t hashtab_pool_alloc(struct hashtab_pool *p);
void hashtab_pool_free(struct hashtab_pool *p, uint32_t idx);

/* First live index >= from, or HASHTAB_NIL when there is none. */
uint32_t hashtab_pool_next_live(const struct hashtab_pool *p, uint32_t from);

/* Bytes of memory held (chunks, bitmaps and the chunk array). */
size_t hashtab_pool_bytes(const struct hashtab_pool *p);

/* The element at `idx`, which must have been handed out. */
static inline void *
hashtab_pool_at(const struct hashtab_pool *p, uint32_t idx)
{
	uint32_t slot = idx - 1;

	return p->chunks[slot >> p->shift] + (size_t)(slot & ((1u << p->shift) - 1)) * p->elem_size;
}

/* Recomputes an element's hash when the table grows. */
typedef uint64_t (*hashtab_hash_fn)(const void *ctx, const void *elem);

/*
 * A chained hash table of elements of one pool. Each element has a
 * uint32_t chain link at `link_off`.
 */
struct hashtab {
	uint32_t *heads; /* bucket -> first element, HASHTAB_NIL if empty */
	uint32_t mask;   /* buckets - 1 */
	uint32_t count;
	uint32_t link_off;
	struct hashtab_pool *pool;
	hashtab_hash_fn hash;
	const void *ctx;
};

/* Sized so that `expected` elements fit without growing: buckets a power
 * of two >= HASHTAB_MIN_BUCKETS. The heads cost no resident memory until
 * used (see alloc_heads()). -ENOMEM when they can't be allocated. */
int hashtab_init(struct hashtab *h, struct hashtab_pool *pool, size_t link_off,
		 hashtab_hash_fn hash, const void *ctx, uint32_t expected);
void hashtab_fini(struct hashtab *h);

/* Adds element `idx` whose key hashes to `hash`. Never fails. */
void hashtab_insert(struct hashtab *h, uint32_t idx, uint64_t hash);
/* Unlinks element `idx`; `hash` must be the one it was inserted with.
 * Returns false when it was not in the table. */
bool hashtab_remove(struct hashtab *h, uint32_t idx, uint64_t hash);

size_t hashtab_bytes(const struct hashtab *h);

/* Chain walk: for (i = hashtab_first(h, hv); i; i = hashtab_next(h, i)) */
static inline uint32_t
hashtab_first(const struct hashtab *h, uint64_t hash)
{
	return h->heads[hash & h->mask];
}

static inline uint32_t *
hashtab_link(const struct hashtab *h, uint32_t idx)
{
	return (uint32_t *)(void *)((uint8_t *)hashtab_pool_at(h->pool, idx) + h->link_off);
}

static inline uint32_t
hashtab_next(const struct hashtab *h, uint32_t idx)
{
	return *hashtab_link(h, idx);
}

#endif
