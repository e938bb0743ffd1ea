#include "handoff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
handoff_ring_init(struct handoff_ring *r)
{
	/* Virtual memory: pages of a slot are touched only by packets that
	 * big, so 32 x 64 KiB costs little unless used. */
	r->slots = malloc(sizeof(*r->slots) * HANDOFF_SLOTS);
	if (r->slots == NULL)
		return -ENOMEM;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void
handoff_ring_fini(struct handoff_ring *r)
{
	free(r->slots);
	r->slots = NULL;
}

bool
handoff_push(struct handoff_ring *r, const uint8_t *pkt, uint32_t len, const void *meta,
	     uint8_t meta_len)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	struct handoff_slot *s;

	if (tail - head == HANDOFF_SLOTS || len > HANDOFF_MAX_PKT || meta_len > HANDOFF_META_MAX)
		return false;
	s = &r->slots[tail % HANDOFF_SLOTS];
	s->len = len;
	s->meta_len = meta_len;
	if (meta_len)
		memcpy(s->meta, meta, meta_len);
	memcpy(s->data, pkt, len);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

const struct handoff_slot *
handoff_peek(struct handoff_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head == tail)
		return NULL;
	return &r->slots[head % HANDOFF_SLOTS];
}

void
handoff_pop(struct handoff_ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}
