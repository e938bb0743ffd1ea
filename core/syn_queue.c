/*
 * Stored IPv4 SYNs for simultaneous open (see syn_queue.h).
 *
 * Slots are an array indexed from 1, grown by doubling up to the capacity
 * when the free list is empty: a handful of allocations over the life of
 * the engine, none once the queue has been full once. Handles are slot
 * indices, so growth (which moves the array) never invalidates them.
 * Type-1 slots are also on a FIFO in storage order, so expiry pops from
 * its head and stops at the first one still young.
 */
#include "syn_queue.h"

#include <errno.h>
#include <stdlib.h>

enum { FIRST_SLOTS = 8 };

static struct syn_slot *
slot(const struct syn_queue *q, uint32_t handle)
{
	if (handle == 0 || handle >= q->nslots || q->slots[handle].ss_type == SYN_FREE)
		return NULL;
	return &q->slots[handle];
}

void
syn_queue_init(struct syn_queue *q, uint32_t capacity)
{
	memset(q, 0, sizeof(*q));
	q->capacity = capacity;
}

void
syn_queue_fini(struct syn_queue *q)
{
	free(q->slots);
	memset(q, 0, sizeof(*q));
}

void
syn_queue_set_capacity(struct syn_queue *q, uint32_t capacity)
{
	q->capacity = capacity;
}

/* Makes room for one more slot on the free list. -ENOMEM. */
static int
grow(struct syn_queue *q)
{
	uint64_t want = q->nslots < FIRST_SLOTS ? FIRST_SLOTS : (uint64_t)q->nslots * 2;
	struct syn_slot *s;

	/* Slot 0 is not a slot: capacity + 1 covers every packet. */
	if (want > (uint64_t)q->capacity + 1)
		want = (uint64_t)q->capacity + 1;
	if (want > UINT32_MAX)
		want = UINT32_MAX;
	if (want <= q->nslots)
		return -ENOMEM; /* only when `used` is corrupt: be safe */
	s = realloc(q->slots, want * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (uint32_t i = (uint32_t)want - 1; i >= (q->nslots ? q->nslots : 1); i--) {
		s[i].ss_type = SYN_FREE;
		s[i].ss_next = q->free_head;
		q->free_head = i;
	}
	q->slots = s;
	q->nslots = (uint32_t)want;
	return 0;
}

/* A free slot filled with `pkt`, not linked anywhere yet. 0 when full. */
static uint32_t
take(struct syn_queue *q, const uint8_t *pkt, uint32_t len, uint64_t now, enum syn_type type,
     int *err)
{
	struct syn_slot *s;
	uint32_t i;

	if (q->used >= q->capacity) {
		*err = -ENOSPC;
		return 0;
	}
	if (!q->free_head && (*err = grow(q)) != 0)
		return 0;
	i = q->free_head;
	s = &q->slots[i];
	q->free_head = s->ss_next;
	if (len > SYN_QUEUE_SNAP)
		len = SYN_QUEUE_SNAP;
	memcpy(s->ss_data, pkt, len);
	s->ss_len = (uint16_t)len;
	s->ss_time = now;
	s->ss_type = (uint8_t)type;
	s->ss_next = s->ss_prev = 0;
	q->used++;
	return i;
}

static bool
stored1(const struct syn_queue *q, const struct taddr4 *remote, const struct taddr4 *local)
{
	for (uint32_t i = q->head; i; i = q->slots[i].ss_next)
		if (taddr4_equal(&q->slots[i].ss_remote, remote) &&
		    taddr4_equal(&q->slots[i].ss_local, local))
			return true;
	return false;
}

int
syn_queue_add1(struct syn_queue *q, const struct taddr4 *remote, const struct taddr4 *local,
	       const uint8_t *pkt, uint32_t len, uint64_t now)
{
	struct syn_slot *s;
	uint32_t i;
	int err = 0;

	/* Jool's SO_EXISTS: the sender retransmitted; one copy is enough. */
	if (stored1(q, remote, local))
		return -EEXIST;
	i = take(q, pkt, len, now, SYN_TYPE1, &err);
	if (!i)
		return err;
	s = &q->slots[i];
	s->ss_remote = *remote;
	s->ss_local = *local;
	s->ss_prev = q->tail;
	if (q->tail)
		q->slots[q->tail].ss_next = i;
	else
		q->head = i;
	q->tail = i;
	return 0;
}

int
syn_queue_add2(struct syn_queue *q, const uint8_t *pkt, uint32_t len, uint64_t now,
	       uint32_t *handle)
{
	int err = 0;
	uint32_t i = take(q, pkt, len, now, SYN_TYPE2, &err);

	if (!i)
		return err;
	q->slots[i].ss_remote = (struct taddr4){0};
	q->slots[i].ss_local = (struct taddr4){0};
	*handle = i;
	return 0;
}

uint32_t
syn_queue_find1(const struct syn_queue *q, const struct taddr4 *remote, syn_queue_accept_fn accept,
		void *ctx)
{
	for (uint32_t i = q->head; i; i = q->slots[i].ss_next) {
		const struct syn_slot *s = &q->slots[i];

		if (taddr4_equal(&s->ss_remote, remote) && (!accept || accept(ctx, &s->ss_local)))
			return i;
	}
	return 0;
}

const uint8_t *
syn_queue_packet(const struct syn_queue *q, uint32_t handle, uint32_t *len)
{
	const struct syn_slot *s = slot(q, handle);

	*len = s ? s->ss_len : 0;
	return s ? s->ss_data : NULL;
}

struct taddr4
syn_queue_local(const struct syn_queue *q, uint32_t handle)
{
	const struct syn_slot *s = slot(q, handle);

	return s ? s->ss_local : (struct taddr4){0};
}

static void
unlink1(struct syn_queue *q, struct syn_slot *s)
{
	if (s->ss_prev)
		q->slots[s->ss_prev].ss_next = s->ss_next;
	else
		q->head = s->ss_next;
	if (s->ss_next)
		q->slots[s->ss_next].ss_prev = s->ss_prev;
	else
		q->tail = s->ss_prev;
}

void
syn_queue_free(struct syn_queue *q, uint32_t handle)
{
	struct syn_slot *s = slot(q, handle);

	if (!s)
		return;
	if (s->ss_type == SYN_TYPE1)
		unlink1(q, s);
	s->ss_type = SYN_FREE;
	s->ss_next = q->free_head;
	q->free_head = handle;
	q->used--;
}

unsigned
syn_queue_expire(struct syn_queue *q, uint64_t now, syn_queue_expired_fn fn, void *ctx)
{
	unsigned n = 0;
	uint32_t i;

	/* The FIFO is in storage order, so the first young one ends it. */
	while ((i = q->head) != 0) {
		const struct syn_slot *s = &q->slots[i];

		if (now < s->ss_time || now - s->ss_time <= SYN_QUEUE_TIMEOUT)
			break;
		if (fn)
			fn(ctx, s->ss_data, s->ss_len);
		syn_queue_free(q, i);
		n++;
	}
	return n;
}

uint32_t
syn_queue_count(const struct syn_queue *q)
{
	return q->used;
}
