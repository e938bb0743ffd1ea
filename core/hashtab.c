#include "hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	BITMAP_BYTES = HASHTAB_CHUNK_LEN / 8,
	INITIAL_CHUNK_SLOTS = 16,
};

static uint64_t *chunk_bitmap(const struct hashtab_pool *p, uint32_t chunk)
{
	return (uint64_t *)(void *)(p->chunks[chunk] + (size_t)p->elem_size * HASHTAB_CHUNK_LEN);
}

void hashtab_pool_init(struct hashtab_pool *p, uint32_t elem_size)
{
	memset(p, 0, sizeof(*p));
	p->elem_size = elem_size;
	p->top = 1; /* index 0 is HASHTAB_NIL */
}

void hashtab_pool_fini(struct hashtab_pool *p)
{
	for (uint32_t i = 0; i < p->nchunks; i++)
		free(p->chunks[i]);
	free(p->chunks);
	memset(p, 0, sizeof(*p));
}

static int add_chunk(struct hashtab_pool *p)
{
	uint8_t *chunk;

	if (p->nchunks >= (UINT32_MAX >> HASHTAB_CHUNK_SHIFT))
		return -ENOMEM; /* out of 32-bit indices */
	if (p->nchunks == p->chunks_cap) {
		uint32_t cap = p->chunks_cap ? p->chunks_cap * 2 : INITIAL_CHUNK_SLOTS;
		uint8_t **bigger = realloc(p->chunks, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		p->chunks = bigger;
		p->chunks_cap = cap;
	}
	chunk = malloc((size_t)p->elem_size * HASHTAB_CHUNK_LEN + BITMAP_BYTES);
	if (!chunk)
		return -ENOMEM;
	p->chunks[p->nchunks] = chunk;
	memset(chunk_bitmap(p, p->nchunks), 0, BITMAP_BYTES);
	p->nchunks++;
	return 0;
}

/* Elements that can be handed out without allocating. */
static uint64_t spare(const struct hashtab_pool *p)
{
	return (uint64_t)p->free_count + ((uint64_t)p->nchunks << HASHTAB_CHUNK_SHIFT) - p->top;
}

int hashtab_pool_reserve(struct hashtab_pool *p, uint32_t n)
{
	/* top starts at 1, so with no chunk spare() would underflow. */
	if (p->nchunks == 0 && add_chunk(p) != 0)
		return -ENOMEM;
	if (spare(p) >= n)
		return 0;
	return add_chunk(p);
}

static void set_live(struct hashtab_pool *p, uint32_t idx, bool live)
{
	uint64_t *word = chunk_bitmap(p, idx >> HASHTAB_CHUNK_SHIFT) +
			 ((idx & (HASHTAB_CHUNK_LEN - 1)) >> 6);
	uint64_t bit = 1ULL << (idx & 63);

	*word = live ? *word | bit : *word & ~bit;
}

uint32_t hashtab_pool_alloc(struct hashtab_pool *p)
{
	uint32_t idx;
	void *elem;

	if (p->free_head != HASHTAB_NIL) {
		idx = p->free_head;
		memcpy(&p->free_head, hashtab_pool_at(p, idx), sizeof(p->free_head));
		p->free_count--;
	} else {
		if ((p->top >> HASHTAB_CHUNK_SHIFT) >= p->nchunks && add_chunk(p) != 0)
			return HASHTAB_NIL;
		idx = p->top++;
	}
	elem = hashtab_pool_at(p, idx);
	memset(elem, 0, p->elem_size);
	set_live(p, idx, true);
	p->used++;
	return idx;
}

void hashtab_pool_free(struct hashtab_pool *p, uint32_t idx)
{
	memcpy(hashtab_pool_at(p, idx), &p->free_head, sizeof(p->free_head));
	p->free_head = idx;
	p->free_count++;
	set_live(p, idx, false);
	p->used--;
}

uint32_t hashtab_pool_next_live(const struct hashtab_pool *p, uint32_t from)
{
	if (from == HASHTAB_NIL)
		from = 1;
	while (from < p->top) {
		const uint64_t *bits = chunk_bitmap(p, from >> HASHTAB_CHUNK_SHIFT);
		uint32_t in_chunk = from & (HASHTAB_CHUNK_LEN - 1);
		uint64_t word = bits[in_chunk >> 6] >> (in_chunk & 63);

		if (word != 0) {
			uint32_t idx = from + (uint32_t)__builtin_ctzll(word);

			return idx < p->top ? idx : HASHTAB_NIL;
		}
		from = (from | 63) + 1; /* next bitmap word */
	}
	return HASHTAB_NIL;
}

size_t hashtab_pool_bytes(const struct hashtab_pool *p)
{
	return (size_t)p->nchunks * ((size_t)p->elem_size * HASHTAB_CHUNK_LEN + BITMAP_BYTES) +
	       (size_t)p->chunks_cap * sizeof(*p->chunks);
}

static uint32_t round_buckets(uint32_t n)
{
	uint32_t b = HASHTAB_MIN_BUCKETS;

	while (b < n && b < (1u << 31))
		b <<= 1;
	return b;
}

int hashtab_init(struct hashtab *h, struct hashtab_pool *pool, size_t link_off, hashtab_hash_fn hash,
		 const void *ctx, uint32_t min_buckets)
{
	uint32_t n = round_buckets(min_buckets);

	memset(h, 0, sizeof(*h));
	h->heads = calloc(n, sizeof(*h->heads));
	if (!h->heads)
		return -ENOMEM;
	h->mask = n - 1;
	h->link_off = (uint32_t)link_off;
	h->pool = pool;
	h->hash = hash;
	h->ctx = ctx;
	return 0;
}

void hashtab_fini(struct hashtab *h)
{
	free(h->heads);
	memset(h, 0, sizeof(*h));
}

/* Doubles the bucket array; on allocation failure keeps the old one. */
static void grow(struct hashtab *h)
{
	uint32_t old_n = h->mask + 1;
	uint32_t new_mask;
	uint32_t *heads;

	if (old_n >= (1u << 31))
		return;
	heads = calloc((size_t)old_n * 2, sizeof(*heads));
	if (!heads)
		return;
	new_mask = old_n * 2 - 1;
	for (uint32_t b = 0; b < old_n; b++) {
		uint32_t i = h->heads[b];

		while (i != HASHTAB_NIL) {
			uint32_t *link = hashtab_link(h, i);
			uint32_t next = *link;
			uint64_t hv = h->hash(h->ctx, hashtab_pool_at(h->pool, i));

			*link = heads[hv & new_mask];
			heads[hv & new_mask] = i;
			i = next;
		}
	}
	free(h->heads);
	h->heads = heads;
	h->mask = new_mask;
}

void hashtab_insert(struct hashtab *h, uint32_t idx, uint64_t hash)
{
	uint32_t *head = &h->heads[hash & h->mask];

	*hashtab_link(h, idx) = *head;
	*head = idx;
	h->count++;
	if (h->count > h->mask + 1)
		grow(h);
}

bool hashtab_remove(struct hashtab *h, uint32_t idx, uint64_t hash)
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

size_t hashtab_bytes(const struct hashtab *h)
{
	return h->heads ? ((size_t)h->mask + 1) * sizeof(*h->heads) : 0;
}
