/*
 * A single-producer single-consumer ring of packets between two workers
 * (worker i hands a packet to worker j whose state it is: core/port_share.h
 * and STAT_HANDOFF). Lock-free: the producer owns `tail`, the consumer
 * `head`; each publishes its index with a release store after touching a
 * slot, and reads the other's with an acquire load. Slots are allocated
 * once; a full ring drops the packet (the caller logs it), it never
 * blocks a worker.
 */
#ifndef NAT64_DAEMON_HANDOFF_H
#define NAT64_DAEMON_HANDOFF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	HANDOFF_SLOTS = 32,      /* a power of two */
	HANDOFF_MAX_PKT = 65535, /* the largest IP packet */
	HANDOFF_META_MAX = 32,   /* caller's per-packet metadata (struct nat64_handoff) */
};

struct handoff_slot {
	uint32_t len;
	uint8_t meta_len;
	uint8_t meta[HANDOFF_META_MAX];
	uint8_t data[HANDOFF_MAX_PKT];
};

struct handoff_ring {
	_Alignas(64) _Atomic uint32_t head; /* next slot to read (consumer) */
	_Alignas(64) _Atomic uint32_t tail; /* next slot to write (producer) */
	_Alignas(64) struct handoff_slot *slots;
};

/* 0 or -ENOMEM. */
int handoff_ring_init(struct handoff_ring *r);
void handoff_ring_fini(struct handoff_ring *r);

/* Producer: copies the packet in; false (nothing written) when full or
 * too big. */
bool handoff_push(struct handoff_ring *r, const uint8_t *pkt, uint32_t len, const void *meta,
		  uint8_t meta_len);

/* Consumer: the oldest slot, or NULL when empty; handoff_pop() frees it
 * once the caller is done with its bytes. */
const struct handoff_slot *handoff_peek(struct handoff_ring *r);
void handoff_pop(struct handoff_ring *r);

#endif
