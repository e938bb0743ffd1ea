/*
 * Several workers, one engine each (core/port_share.h): every worker
 * hands out pool4 ports of its own share only, and a packet whose state
 * another worker owns comes back untouched as STAT_HANDOFF, naming the
 * owner. Two engines stand for two workers; the owner of port p is
 * (p >> 1) % 2, so 5000 and 1000 are worker 0's, 5002 and 1234 worker 1's.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nat64_harness.h"
#include "session.h"

#define STATIC6 "2001:db8:2::20"

static struct harness *
worker(unsigned int index)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct globals g;
	struct nat64_params p;

	cr_assert(h);
	h_defaults(&g, &p);
	p.share = (struct port_share){.index = (uint16_t)index, .count = 2};
	h_start(h, &g, &p);
	h_pool4(h, L4_UDP, H_POOL4, 32, 1, 65535);
	h_pool4(h, L4_TCP, H_POOL4, 32, 1, 65535);
	h_pool4(h, L4_ICMP, H_POOL4, 32, 0, 65535);
	return h;
}

static void
done(struct harness *h)
{
	h_stop(h);
	free(h);
}

static uint32_t
sessions(const struct harness *h)
{
	return session_count(nat64_bib(h->n), L4_COUNT);
}

Test(pipeline_workers, worker_index_out_of_range_is_refused)
{
	struct nat64 *n = (struct nat64 *)1;
	struct globals g;
	struct nat64_params p;
	char err[128] = "";

	h_defaults(&g, &p);
	p.share = (struct port_share){.index = 2, .count = 2};
	cr_assert_eq(nat64_create(&n, &g, &p, err, sizeof(err)), -EINVAL);
	cr_assert_null(n);
	cr_assert_str_eq(err, "worker 2 of 2");
}

Test(pipeline_workers, share_owner_formula_keeps_port_pairs_together)
{
	cr_assert_eq(port_share_owner(5000, 2), 0);
	cr_assert_eq(port_share_owner(5001, 2), 0);
	cr_assert_eq(port_share_owner(5002, 2), 1);
	cr_assert_eq(port_share_owner(5003, 2), 1);
	cr_assert_eq(port_share_owner(65535, 3), 32767 % 3);
	cr_assert_eq(port_share_owner(1234, 1), 0);
	cr_assert_eq(port_share_owner(1234, 0), 0);
}

/* Each worker's new BIB entries use its own ports, both parities (RFC 4787
 * REQ-4 stays possible), never the other's. */
Test(pipeline_workers, new_mappings_take_ports_of_the_own_share_only)
{
	for (unsigned int w = 0; w < 2; w++) {
		struct harness *h = worker(w);
		unsigned int parity[2] = {0, 0};
		uint8_t in[128];

		for (uint16_t sport = 2000; sport < 2200; sport++) {
			size_t n = h_udp6(in, H_CLIENT, sport, H_SERVER6, 53, 64);
			uint16_t mask;

			cr_assert_eq(h_input(h, in, n), STAT_OK);
			mask = h_get16(h->p.data + 20);
			cr_assert_eq(port_share_owner(mask, 2), w, "worker %u got port %u", w,
				     mask);
			parity[mask & 1]++;
		}
		cr_assert_eq(parity[0], 100);
		cr_assert_eq(parity[1], 100);
		done(h);
	}
}

/* RFC 4787 §4.2 port preservation holds where the source port is the
 * worker's own; elsewhere the worker picks one of its own. */
Test(pipeline_workers, port_preservation_within_the_share)
{
	struct harness *w0 = worker(0), *w1 = worker(1);
	uint8_t in[128];
	size_t n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 53, 64);

	cr_assert_eq(h_input(w1, in, n), STAT_OK);
	cr_assert_eq(h_get16(w1->p.data + 20), 1234);
	n = h_udp6(in, H_CLIENT2, 1234, H_SERVER6, 53, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_OK);
	cr_assert_neq(h_get16(w0->p.data + 20), 1234);
	cr_assert_eq(port_share_owner(h_get16(w0->p.data + 20), 2), 0);
	done(w0);
	done(w1);
}

/* A range of 8 ports gives worker 0 its 4 (2000, 2001, 2004, 2005), then
 * exhaustion, although worker 1's 4 are free. */
Test(pipeline_workers, a_worker_exhausts_its_share)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct globals g;
	struct nat64_params p;
	uint8_t in[128];
	unsigned int got = 0;

	h_defaults(&g, &p);
	p.share = (struct port_share){.index = 0, .count = 2};
	h_start(h, &g, &p);
	h_pool4(h, L4_UDP, H_POOL4, 32, 2000, 2007);
	for (uint16_t sport = 3000; sport < 3005; sport++) {
		size_t n = h_udp6(in, H_CLIENT, sport, H_SERVER6, 53, 64);
		enum stat_id rc = h_input(h, in, n);

		if (rc == STAT_OK) {
			uint16_t mask = h_get16(h->p.data + 20);

			cr_assert(mask == 2000 || mask == 2001 || mask == 2004 || mask == 2005);
			got++;
		} else {
			cr_assert_eq(rc, STAT_POOL4_EXHAUSTED);
		}
	}
	cr_assert_eq(got, 4);
	done(h);
}

/* An IPv4 packet for worker 1's port that reached worker 0 (a datagram
 * reassembled from fragments, say) leaves untouched for worker 1. */
Test(pipeline_workers, ipv4_for_another_workers_port_is_handed_off)
{
	struct harness *w0 = worker(0), *w1 = worker(1);
	uint8_t in[128], copy[128];
	size_t n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 53, 64);

	cr_assert_eq(h_input(w1, in, n), STAT_OK);
	n = h_udp4(in, H_SERVER4, 53, H_POOL4, 1234, 64, 7);
	memcpy(copy, in, n);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	cr_assert_eq(w0->res.handoff_to, 1);
	cr_assert_not(w0->res.handoff_hairpin);
	cr_assert_not(w0->res.send);
	cr_assert_eq(w0->res.reply_len, 0);
	cr_assert_eq(w0->res.out.len, n);
	cr_assert_arr_eq(w0->res.out.data, copy, n);
	cr_assert_eq(sessions(w0), 0);
	cr_assert_eq(h_stat(w0, STAT_HANDOFF), 1);
	cr_assert_eq(h_input(w1, in, n), STAT_OK);
	done(w0);
	done(w1);
}

/* A static BIB entry is in every worker; its sessions live with the
 * owner of its port. The IPv6 server's packets, steered by its address to
 * worker 0, go over to worker 1, which translates them. */
Test(pipeline_workers, static_bib_of_another_worker_hands_off_the_ipv6_side)
{
	struct harness *w0 = worker(0), *w1 = worker(1);
	uint8_t in[128], want[128];
	size_t n, wn;

	h_bib(w0, L4_UDP, STATIC6, 5002, H_POOL4, 5002);
	h_bib(w1, L4_UDP, STATIC6, 5002, H_POOL4, 5002);
	n = h_udp6(in, STATIC6, 5002, H_SERVER6, 53, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	cr_assert_eq(w0->res.handoff_to, 1);
	cr_assert_eq(sessions(w0), 0);
	cr_assert_eq(h_input(w1, in, n), STAT_OK);
	wn = h_udp4(want, H_POOL4, 5002, H_SERVER4, 53, 63, h_get16(w1->p.data + 4));
	h_assert_out(w1, want, wn);
	cr_assert_eq(sessions(w1), 1);

	/* TCP: a SYN and a non-SYN through the entry, ICMP error quoting. */
	h_bib(w0, L4_TCP, STATIC6, 5002, H_POOL4, 5002);
	n = h_tcp6(in, STATIC6, 5002, H_SERVER6, 80, 0x02, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	n = h_tcp6(in, STATIC6, 5002, H_SERVER6, 80, 0x10, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	cr_assert_eq(h_stat(w0, STAT_HANDOFF), 3);
	done(w0);
	done(w1);
}

/* RFC 6146 §3.8 across workers: A (worker 0) reaches B's static entry
 * (worker 1's port). Worker 0 does the 6->4 half and hands the IPv4
 * packet over; worker 1 runs the 4->6 half as a hairpin (hop limit
 * untouched) and B gets it from pool6 + A's mask. */
Test(pipeline_workers, hairpin_to_another_workers_port)
{
	struct harness *w0 = worker(0), *w1 = worker(1);
	uint8_t in[128], v4[128], want[128];
	uint32_t v4len;
	uint16_t mask;
	size_t n, wn;

	h_bib(w0, L4_UDP, STATIC6, 5002, H_POOL4, 5002);
	h_bib(w1, L4_UDP, STATIC6, 5002, H_POOL4, 5002);
	n = h_udp6(in, H_CLIENT, 1000, H_POOL4_6, 5002, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	cr_assert_eq(w0->res.handoff_to, 1);
	cr_assert(w0->res.handoff_hairpin);
	v4len = w0->res.out.len;
	memcpy(v4, w0->res.out.data, v4len);
	cr_assert_eq(v4[0] >> 4, 4);
	mask = h_get16(v4 + 20);
	cr_assert_eq(mask, 1000, "worker 0 owns 1000: preserved");
	cr_assert_eq(h_stat(w0, STAT_HAIRPINNED), 0);

	cr_assert_eq(h_input_hairpin(w1, v4, v4len), STAT_OK);
	wn = h_udp6(want, H_POOL4_6, mask, STATIC6, 5002, 63);
	h_assert_out(w1, want, wn);
	cr_assert(pg_l4_csum_ok6(w1->p.data, w1->p.len, 40, IPPROTO_UDP));
	cr_assert_eq(h_stat(w1, STAT_HAIRPINNED), 1);
	done(w0);
	done(w1);
}
