/*
 * Stored IPv4 SYNs for simultaneous open (core/syn_queue.c, RFC 6146
 * §3.5.2.2): type-1 storage keyed by (remote, local), SO_EXISTS, one
 * capacity for both types, the 6 s expiry in storage order, the cut to
 * what an ICMPv4 error quotes, and slot reuse.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>

#include "syn_queue.h"

static struct taddr4
t4(const char *a, uint16_t port)
{
	struct taddr4 t = {.port = port};

	cr_assert_eq(inet_pton(AF_INET, a, &t.addr), 1);
	return t;
}

static const uint8_t pkt[40] = {0x45, 0, 0, 40, [9] = 6, [12] = 198, 51, 100, 7};

struct expired {
	unsigned n;
	uint8_t first[2];
	uint32_t lens[8];
};

static void
on_expired(void *ctx, const uint8_t *p, uint32_t len)
{
	struct expired *e = ctx;

	if (e->n < 2)
		e->first[e->n] = p[39];
	if (e->n < 8)
		e->lens[e->n] = len;
	e->n++;
}

/* Handles that name nothing are refused or ignored; nothing changes. */
Test(syn_queue, bad_handles_change_nothing)
{
	struct syn_queue q;
	struct taddr4 r = t4("198.51.100.7", 5555), l = t4("192.0.2.2", 4000);
	struct taddr4 none;
	uint32_t len = 99;

	syn_queue_init(&q, 4);
	cr_assert_null(syn_queue_packet(&q, 0, &len));
	cr_assert_eq(len, 0);
	syn_queue_free(&q, 0);
	syn_queue_free(&q, 12345);
	cr_assert_eq(syn_queue_find1(&q, &r, NULL, NULL), 0);
	cr_assert_eq(syn_queue_expire(&q, UINT64_MAX, on_expired, NULL), 0);
	cr_assert_eq(syn_queue_add1(&q, &r, &l, pkt, sizeof(pkt), 10), 0);
	syn_queue_free(&q, 12345);
	syn_queue_free(&q, 2); /* allocated but free */
	cr_assert_eq(syn_queue_count(&q), 1);
	none = syn_queue_local(&q, 3);
	cr_assert_eq(none.addr.s_addr, 0);
	cr_assert_eq(none.port, 0);
	cr_assert_neq(syn_queue_find1(&q, &r, NULL, NULL), 0);
	syn_queue_fini(&q);
}

static bool
accept_4001(void *ctx, const struct taddr4 *local)
{
	(void)ctx;
	return local->port == 4001;
}

/* JOOL-REFERENCE §3.6: a stored SYN is found by its sender; the caller
 * may refuse the local taddr (not in the mask domain) and get the next. */
Test(syn_queue, find1_by_remote_with_accept)
{
	struct syn_queue q;
	struct taddr4 r = t4("198.51.100.7", 5555), other = t4("198.51.100.8", 5555);
	struct taddr4 l0 = t4("192.0.2.2", 4000), l1 = t4("192.0.2.2", 4001);
	struct taddr4 got;
	uint32_t h, len;

	syn_queue_init(&q, 4);
	cr_assert_eq(syn_queue_add1(&q, &r, &l0, pkt, sizeof(pkt), 10), 0);
	cr_assert_eq(syn_queue_add1(&q, &r, &l1, pkt, sizeof(pkt), 11), 0);
	cr_assert_eq(syn_queue_find1(&q, &other, NULL, NULL), 0);
	h = syn_queue_find1(&q, &r, NULL, NULL);
	got = syn_queue_local(&q, h);
	cr_assert(taddr4_equal(&got, &l0), "the oldest first");
	h = syn_queue_find1(&q, &r, accept_4001, NULL);
	got = syn_queue_local(&q, h);
	cr_assert(taddr4_equal(&got, &l1));
	cr_assert(memcmp(syn_queue_packet(&q, h, &len), pkt, sizeof(pkt)) == 0);
	cr_assert_eq(len, sizeof(pkt));
	syn_queue_free(&q, h);
	cr_assert_eq(syn_queue_find1(&q, &r, accept_4001, NULL), 0);
	cr_assert_eq(syn_queue_count(&q), 1);
	syn_queue_fini(&q);
}

/* Jool's SO_EXISTS: the same sender to the same taddr is stored once. */
Test(syn_queue, same_remote_and_local_is_eexist)
{
	struct syn_queue q;
	struct taddr4 r = t4("198.51.100.7", 5555);
	struct taddr4 l0 = t4("192.0.2.2", 4000), l1 = t4("192.0.2.2", 4001);

	syn_queue_init(&q, 4);
	cr_assert_eq(syn_queue_add1(&q, &r, &l0, pkt, sizeof(pkt), 10), 0);
	cr_assert_eq(syn_queue_add1(&q, &r, &l0, pkt, sizeof(pkt), 11), -EEXIST);
	cr_assert_eq(syn_queue_add1(&q, &r, &l1, pkt, sizeof(pkt), 11), 0);
	cr_assert_eq(syn_queue_count(&q), 2);
	syn_queue_fini(&q);
}

/* maximum-simultaneous-opens counts type 1 and type 2 together; a full
 * queue refuses both (-ENOSPC, Jool's SO_FULL); capacity 0 refuses all. */
Test(syn_queue, one_capacity_for_both_types)
{
	struct syn_queue q;
	struct taddr4 l = t4("192.0.2.2", 4000);
	uint32_t h = 77;

	syn_queue_init(&q, 2);
	cr_assert_eq(syn_queue_add1(&q, &(struct taddr4){.port = 1}, &l, pkt, sizeof(pkt), 1), 0);
	cr_assert_eq(syn_queue_add2(&q, pkt, sizeof(pkt), 1, &h), 0);
	cr_assert_neq(h, 0);
	cr_assert_eq(syn_queue_add1(&q, &(struct taddr4){.port = 2}, &l, pkt, sizeof(pkt), 1),
		     -ENOSPC);
	cr_assert_eq(syn_queue_add2(&q, pkt, sizeof(pkt), 1, &h), -ENOSPC);
	cr_assert_eq(syn_queue_count(&q), 2);
	syn_queue_set_capacity(&q, 1);
	cr_assert_eq(syn_queue_count(&q), 2, "lowering drops nothing");
	syn_queue_fini(&q);

	syn_queue_init(&q, 0);
	cr_assert_eq(syn_queue_add2(&q, pkt, sizeof(pkt), 1, &h), -ENOSPC);
	syn_queue_fini(&q);
}

/* RFC 6146 §3.5.2.2: type-1 SYNs stored more than 6 s ago go to the
 * callback, oldest first, and are freed; type 2 belongs to its session's
 * timer and stays. */
Test(syn_queue, expire_after_6s_oldest_first_type1_only)
{
	struct syn_queue q;
	struct taddr4 l = t4("192.0.2.2", 4000);
	struct expired e = {0};
	uint8_t p1[40], p2[40];
	uint32_t h2;

	memcpy(p1, pkt, 40);
	memcpy(p2, pkt, 40);
	p1[39] = 1;
	p2[39] = 2;
	syn_queue_init(&q, 8);
	cr_assert_eq(syn_queue_add1(&q, &(struct taddr4){.port = 1}, &l, p1, 40, 1000), 0);
	cr_assert_eq(syn_queue_add2(&q, pkt, 40, 1000, &h2), 0);
	cr_assert_eq(syn_queue_add1(&q, &(struct taddr4){.port = 2}, &l, p2, 40, 2000), 0);
	cr_assert_eq(syn_queue_expire(&q, 7000, on_expired, &e), 0);
	cr_assert_eq(syn_queue_expire(&q, 7001, on_expired, &e), 1);
	cr_assert_eq(e.first[0], 1);
	cr_assert_eq(syn_queue_expire(&q, 100000, on_expired, &e), 1);
	cr_assert_eq(e.first[1], 2);
	cr_assert_eq(syn_queue_count(&q), 1);
	cr_assert_neq(syn_queue_packet(&q, h2, &(uint32_t){0}), NULL);
	syn_queue_fini(&q);
}

/* Only what an ICMPv4 error can quote is kept: 576 - 28 bytes. */
Test(syn_queue, long_packet_cut_to_icmp_quote)
{
	static uint8_t big[1500];
	struct syn_queue q;
	uint32_t h, len;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	syn_queue_init(&q, 1);
	cr_assert_eq(syn_queue_add2(&q, big, sizeof(big), 1, &h), 0);
	cr_assert(memcmp(syn_queue_packet(&q, h, &len), big, SYN_QUEUE_SNAP) == 0);
	cr_assert_eq(len, 548);
	syn_queue_fini(&q);
}

/* Freed slots are reused: many store/free cycles never need more slots
 * than the capacity. */
Test(syn_queue, slots_reused)
{
	struct syn_queue q;
	struct taddr4 l = t4("192.0.2.2", 4000);
	uint32_t h[3];

	syn_queue_init(&q, 3);
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 3; i++)
			cr_assert_eq(syn_queue_add2(&q, pkt, sizeof(pkt), 1, &h[i]), 0);
		cr_assert_eq(syn_queue_add1(&q, &l, &l, pkt, sizeof(pkt), 1), -ENOSPC);
		for (int i = 0; i < 3; i++)
			syn_queue_free(&q, h[i]);
	}
	cr_assert_leq(q.nslots, 4);
	cr_assert_eq(syn_queue_count(&q), 0);
	syn_queue_fini(&q);
}
