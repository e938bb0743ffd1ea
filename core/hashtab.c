#include "hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	INITIAL_CHUNK_SLOTS = 16,
	MIN_SHIFT = 8,
	MAX_SHIFT = 16,
};

static uint32_t
chunk_len(const struct hashtab_pool *p)
{
	return 1u << p->shift;
}

static size_t
chunk_bytes(const struct hashtab_pool *p)
{
	return (size_t)p->elem_size << p->shift;
}

static size_t
bitmap_bytes(const struct hashtab_pool *p)
{
	return chunk_len(p) / 8;
}

void
hashtab_pool_init(struct hashtab_pool *p, uint32_t elem_size)
{
	memset(p, 0, sizeof(*p));
	p->elem_size = elem_size;
	p->shift = MIN_SHIFT;
	while (p->shift < MAX_SHIFT && ((size_t)elem_size << (p->shift + 1)) <= HASHTAB_CHUNK_BYTES)
		p->shift++;
	p->top = 1; /* index 0 is HASHTAB_NIL */
}

void
hashtab_pool_fini(struct hashtab_pool *p)
{
	for (uint32_t i = 0; i < p->nchunks; i++) {
		free(p->chunks[i]);
		free(p->live[i]);
	}
	free(p->chunks);
	free(p->live);
	memset(p, 0, sizeof(*p));
}

static int
grow_chunk_slots(struct hashtab_pool *p)
{
	uint32_t cap = p->chunks_cap ? p->chunks_cap * 2 : INITIAL_CHUNK_SLOTS;
	uint8_t **chunks = realloc(p->chunks, cap * sizeof(*chunks));
	uint64_t **live;

	if (!chunks)
		return -ENOMEM;
	p->chunks = chunks;
	live = realloc(p->live, cap * sizeof(*live));
	if (!live)
		return -ENOMEM; /* `chunks` is merely larger than needed */
	p->live = live;
	p->chunks_cap = cap;
	return 0;
}

static int
add_chunk(struct hashtab_pool *p)
{
	uint8_t *chunk;
	uint64_t *live;

	if (p->nchunks >= (UINT32_MAX >> p->shift))
		return -ENOMEM; /* out of 32-bit indices */
	if (p->nchunks == p->chunks_cap && grow_chunk_slots(p) != 0)
		return -ENOMEM;
	/* Aligned so that no element straddles more cache lines than it
	 * must; untouched pages of the chunk cost no memory. */
	chunk = aligned_alloc(HASHTAB_ALIGN, chunk_bytes(p));
	live = calloc(1, bitmap_bytes(p));
	if (!chunk || !live) {
		free(chunk);
		free(live);
		return -ENOMEM;
	}
	p->chunks[p->nchunks] = chunk;
	p->live[p->nchunks] = live;
	p->nchunks++;
	return 0;
}

/* Elements that can be handed out without allocating. */
static uint64_t
spare(const struct hashtab_pool *p)
{
	return (uint64_t)p->free_count + ((uint64_t)p->nchunks << p->shift) - (p->top - 1);
}

int
hashtab_pool_reserve(struct hashtab_pool *p, uint32_t n)
{
	if (spare(p) >= n)
		return 0;
	return add_chunk(p);
}

static void
set_live(struct hashtab_pool *p, uint32_t idx, bool live)
{
	uint32_t slot = idx - 1;
	uint64_t *word = p->live[slot >> p->shift] + ((slot & (chunk_len(p) - 1)) >> 6);
	uint64_t bit = 1ULL << (slot & 63);

	*word = live ? *word | bit : *word & ~bit;
}

uint32_t
hashtab_pool_alloc(struct hashtab_pool *p)
{
	uint32_t idx;

	if (p->free_head != HASHTAB_NIL) {
		idx = p->free_head;
		memcpy(&p->free_head, hashtab_pool_at(p, idx), sizeof(p->free_head));
		p->free_count--;
	} else {
		if (((p->top - 1) >> p->shift) >= p->nchunks && add_chunk(p) != 0)
			return HASHTAB_NIL;
		idx = p->top++;
	}
	memset(hashtab_pool_at(p, idx), 0, p->elem_size);
	set_live(p, idx, true);
	p->used++;
	return idx;
}

void
hashtab_pool_free(struct hashtab_pool *p, uint32_t idx)
{
	memcpy(hashtab_pool_at(p, idx), &p->free_head, sizeof(p->free_head));
	p->free_head = idx;
	p->free_count++;
	set_live(p, idx, false);
	p->used--;
}

uint32_t
hashtab_pool_next_live(const struct hashtab_pool *p, uint32_t from)
{
	uint32_t slot = from == HASHTAB_NIL ? 0 : from - 1;

	while (slot + 1 < p->top) {
		const uint64_t *bits = p->live[slot >> p->shift];
		uint32_t in_chunk = slot & (chunk_len(p) - 1);
		uint64_t word = bits[in_chunk >> 6] >> (in_chunk & 63);

		if (word != 0)
			return slot + 1 + (uint32_t)__builtin_ctzll(word);
		slot = (slot | 63) + 1; /* next bitmap word */
	}
	return HASHTAB_NIL;
}

size_t
hashtab_pool_bytes(const struct hashtab_pool *p)
{
	return (size_t)p->nchunks * (chunk_bytes(p) + bitmap_bytes(p)) +
	       (size_t)p->chunks_cap * (sizeof(*p->chunks) + sizeof(*p->live));
}

/*
 * Zeroed. calloc: a large array comes straight from mmap, whose pages are
 * zero until touched, so a table presized for the session limit costs
 * address space, not resident memory, until sessions fill it. (4-byte
 * heads never straddle a cache line, whatever the alignment.)
 */
static uint32_t *
alloc_heads(uint32_t n)
{
	return calloc(n, sizeof(uint32_t));
}

static uint32_t
round_buckets(uint32_t n)
{
	uint32_t b = HASHTAB_MIN_BUCKETS;

	while (b < n && b < (1u << 31))
		b <<= 1;
	return b;
}

int
hashtab_init(struct hashtab *h, struct hashtab_pool *pool, size_t link_off, hashtab_hash_fn hash,
	     const void *ctx, uint32_t expected)
{
	uint32_t n = round_buckets(expected > (1u << 30) ? 1u << 31 : expected * HASHTAB_MAX_LOAD);

	memset(h, 0, sizeof(*h));
	h->heads = alloc_heads(n);
	if (!h->heads)
		return -ENOMEM;
	h->mask = n - 1;
	h->link_off = (uint32_t)link_off;
	h->pool = pool;
	h->hash = hash;
	h->ctx = ctx;
	return 0;
}

void
hashtab_fini(struct hashtab *h)
{
	free(h->heads);
	memset(h, 0, sizeof(*h));
}

static void
relink(struct hashtab *h, uint32_t *heads, uint32_t mask, uint32_t i)
{
	uint64_t hv = h->hash(h->ctx, hashtab_pool_at(h->pool, i));

	*hashtab_link(h, i) = heads[hv & mask];
	heads[hv & mask] = i;
}

/*
 * Links every element into `heads`. When the table holds every live
 * element of its pool (the BIB and session tables do), they are visited
 * in storage order: sequential memory, which the hardware prefetches,
 * where following the chains reads the elements in random order (a cache
 * miss each in a large table).
 */
static void
relink_all(struct hashtab *h, uint32_t *heads, uint32_t mask)
{
	if (h->count == h->pool->used) {
		for (uint32_t i = hashtab_pool_next_live(h->pool, 1); i;
		     i = hashtab_pool_next_live(h->pool, i + 1))
			relink(h, heads, mask, i);
		return;
	}
	for (uint32_t b = 0; b <= h->mask; b++) {
		uint32_t i = h->heads[b];

		while (i != HASHTAB_NIL) {
			uint32_t next = hashtab_next(h, i);

			relink(h, heads, mask, i);
			i = next;
		}
	}
}

/* Doubles the bucket array; on allocation failure keeps the old one. */
static void
grow(struct hashtab *h)
{
	uint32_t old_n = h->mask + 1;
	uint32_t *heads;

	if (old_n >= (1u << 31))
		return;
	heads = alloc_heads(old_n * 2);
	if (!heads)
		return;
	relink_all(h, heads, old_n * 2 - 1);
	free(h->heads);
	h->heads = heads;
	h->mask = old_n * 2 - 1;
}

void
hashtab_insert(struct hashtab *h, uint32_t idx, uint64_t hash)
{
	uint32_t *head = &h->heads[hash & h->mask];

	*hashtab_link(h, idx) = *head;
	*head = idx;
	h->count++;
	if (h->count > (h->mask + 1) / HASHTAB_MAX_LOAD)
		grow(h);
}

bool
hashtab_remove(struct hashtab *h, uint32_t idx, uint64_t hash)
{
	uint32_t *prev = &h->heads[hash & h->mask];

	while (*prev != HASHTAB_NIL) {
		if (*prev == idx) {
			*prev = hashtab_next(h, idx);
			h->count--;
			return true;
		}
		prev = hashtab_link(h, *prev);
	}
	return false;
}

size_t
hashtab_bytes(const struct hashtab *h)
{
	return h->heads ? ((size_t)h->mask + 1) * sizeof(*h->heads) : 0;
}
