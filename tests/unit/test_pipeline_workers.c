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

/* Engine `index` of two, with an empty pool4. */
static struct harness *
bare_worker(unsigned int index)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct globals g;
	struct nat64_params p;

	cr_assert(h);
	h_defaults(&g, &p);
	p.share = (struct port_share){.index = (uint16_t)index, .count = 2};
	h_start(h, &g, &p);
	return h;
}

static struct harness *
worker(unsigned int index)
{
	struct harness *h = bare_worker(index);

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

		for (uint16_t sport = 2000; sport < 2400; sport++) {
			size_t n = h_udp6(in, H_CLIENT, sport, H_SERVER6, 53, 64);
			uint16_t mask;

			if (port_share_owner(sport, 2) != w) {
				cr_assert_eq(h_input(h, in, n), STAT_HANDOFF);
				cr_assert_eq(h->res.handoff.to, 1 - w);
				continue;
			}
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

/* RFC 4787 §4.2 port preservation: a new mapping is made by the owner of
 * the IPv6 source port, which can keep it; another worker hands the
 * packet over (TCP SYN, UDP, ICMP identifier alike), and hands over the
 * flow's later packets, which find no state there, too. */
Test(pipeline_workers, new_mappings_are_made_by_the_owner_of_the_source_port)
{
	struct harness *w0 = worker(0), *w1 = worker(1);
	uint8_t in[128];
	size_t n = h_udp6(in, H_CLIENT, 1234, H_SERVER6, 53, 64);

	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	cr_assert_eq(w0->res.handoff.to, 1);
	cr_assert_eq(sessions(w0), 0);
	cr_assert_eq(h_input(w1, in, n), STAT_OK);
	cr_assert_eq(h_get16(w1->p.data + 20), 1234);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);

	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, 0x02, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	n = h_tcp6(in, H_CLIENT, 1234, H_SERVER6, 80, 0x10, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	n = h_echo6(in, H_CLIENT, H_SERVER6, 128, 1234, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	cr_assert_eq(h_input(w1, in, n), STAT_OK);
	cr_assert_eq(sessions(w0), 0);
	done(w0);
	done(w1);
}

static struct harness *
worker_small_pool(unsigned int index)
{
	struct harness *h = bare_worker(index);

	h_pool4(h, L4_UDP, H_POOL4, 32, 2000, 2007);
	return h;
}

/* A range of 8 ports gives worker 0 its 4 (2000, 2001, 2004, 2005). The
 * fifth new flow overflows to worker 1 (not counted as exhaustion), which
 * maps it from its own 4; when those are gone too, worker 1, the last to
 * try, counts POOL4_EXHAUSTED and answers ICMPv6 1/3 (RFC 6146
 * §3.5.1.1). */
Test(pipeline_workers, a_full_share_overflows_to_the_next_worker)
{
	static const uint16_t sports[] = {3000, 3001, 3004, 3005, 3008}; /* worker 0's */
	struct harness *w0 = worker_small_pool(0), *w1 = worker_small_pool(1);
	struct nat64_handoff hd;
	uint8_t in[128], v6[128];
	size_t n;

	for (unsigned int i = 0; i < 4; i++) {
		uint16_t mask;

		n = h_udp6(in, H_CLIENT, sports[i], H_SERVER6, 53, 64);
		cr_assert_eq(h_input(w0, in, n), STAT_OK);
		mask = h_get16(w0->p.data + 20);
		cr_assert(mask == 2000 || mask == 2001 || mask == 2004 || mask == 2005);
	}
	n = h_udp6(in, H_CLIENT, sports[4], H_SERVER6, 53, 64);
	memcpy(v6, in, n);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	hd = w0->res.handoff;
	cr_assert_eq(hd.to, 1);
	cr_assert_eq(hd.overflow, 1);
	cr_assert_eq(h_stat(w0, STAT_POOL4_EXHAUSTED), 0);
	cr_assert_eq(w0->res.reply_len, 0);
	cr_assert_eq(h_input_handed(w1, v6, n, &hd), STAT_OK);
	cr_assert_eq(port_share_owner(h_get16(w1->p.data + 20), 2), 1);

	/* Worker 1 fills its other three, then the overflow finds nothing. */
	static const uint16_t own1[] = {4002, 4003, 4006}; /* worker 1's */

	for (unsigned int i = 0; i < 3; i++) {
		n = h_udp6(in, H_CLIENT2, own1[i], H_SERVER6, 53, 64);
		cr_assert_eq(h_input(w1, in, n), STAT_OK);
	}
	n = h_udp6(in, H_CLIENT2, 3009, H_SERVER6, 53, 64);
	cr_assert_eq(h_input_handed(w1, in, n, &hd), STAT_POOL4_EXHAUSTED);
	cr_assert_eq(h_stat(w1, STAT_POOL4_EXHAUSTED), 1);
	cr_assert(w1->res.reply_len > 0, "ICMPv6 Address Unreachable");
	done(w0);
	done(w1);
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
	cr_assert_eq(w0->res.handoff.to, 1);
	cr_assert_not(w0->res.handoff.hairpin);
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
	cr_assert_eq(w0->res.handoff.to, 1);
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
	cr_assert_eq(w0->res.handoff.to, 1);
	cr_assert(w0->res.handoff.hairpin);
	v4len = w0->res.out.len;
	memcpy(v4, w0->res.out.data, v4len);
	cr_assert_eq(v4[0] >> 4, 4);
	mask = h_get16(v4 + 20);
	cr_assert_eq(mask, 1000, "worker 0 owns 1000: preserved");
	cr_assert_eq(h_stat(w0, STAT_HAIRPINNED), 0);

	cr_assert_eq(h_input_handed(w1, v4, v4len, &w0->res.handoff), STAT_OK);
	wn = h_udp6(want, H_POOL4_6, mask, STATIC6, 5002, 63);
	h_assert_out(w1, want, wn);
	cr_assert(pg_l4_csum_ok6(w1->p.data, w1->p.len, 40, IPPROTO_UDP));
	cr_assert_eq(h_stat(w1, STAT_HAIRPINNED), 1);
	done(w0);
	done(w1);
}

/* The answer of a static entry's IPv6 node to a hairpinned flow goes
 * round twice: B's packet (IPv6 port 5000, worker 0's) goes to the entry's
 * owner (pool4 port 5002, worker 1), which translates it and hands the
 * IPv4 half to the owner of A's mask (worker 0). */
Test(pipeline_workers, static_entry_answer_to_a_hairpin_is_handed_twice)
{
	struct harness *w0 = worker(0), *w1 = worker(1);
	struct nat64_handoff hd;
	uint8_t in[128], v[128], want[128];
	uint32_t vlen;
	size_t n, wn;

	h_bib(w0, L4_UDP, STATIC6, 5000, H_POOL4, 5002);
	h_bib(w1, L4_UDP, STATIC6, 5000, H_POOL4, 5002);
	n = h_udp6(in, H_CLIENT, 1000, H_POOL4_6, 5002, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	hd = w0->res.handoff;
	vlen = w0->res.out.len;
	memcpy(v, w0->res.out.data, vlen);
	cr_assert_eq(h_input_handed(w1, v, vlen, &hd), STAT_OK);

	/* B answers from 5000 to pool6 + A's mask (192.0.2.2#1000). */
	n = h_udp6(in, STATIC6, 5000, H_POOL4_6, 1000, 64);
	cr_assert_eq(h_input(w0, in, n), STAT_HANDOFF);
	hd = w0->res.handoff;
	cr_assert_eq(hd.to, 1);
	cr_assert_not(hd.hairpin);
	memcpy(v, in, n);
	cr_assert_eq(h_input_handed(w1, v, n, &hd), STAT_HANDOFF);
	hd = w1->res.handoff;
	cr_assert_eq(hd.to, 0);
	cr_assert(hd.hairpin);
	vlen = w1->res.out.len;
	memcpy(v, w1->res.out.data, vlen);
	cr_assert_eq(v[0] >> 4, 4);
	cr_assert_eq(h_input_handed(w0, v, vlen, &hd), STAT_OK);
	wn = h_udp6(want, H_POOL4_6, 5002, H_CLIENT, 1000, 63);
	h_assert_out(w0, want, wn);
	/* The IPv4 half handed to its owner goes no further. */
	cr_assert_eq(h_stat(w0, STAT_HANDOFF_LOOP), 0);
	cr_assert_eq(h_stat(w1, STAT_HANDOFF_LOOP), 0);
	done(w0);
	done(w1);
}

/* The same hairpin from a TUN with offloads: A's SYN comes with a partial
 * checksum (NEEDS_CSUM, the IPv6 pseudo-header sum in the field). The
 * IPv4 half goes over with an offload header of ITS layout (csum_start at
 * the IPv4 packet's TCP header, the IPv4 pseudo-header sum in the field),
 * so that worker 1 can finish the checksum. Handing over the IPv6 header
 * made worker 1 finish it 20 bytes too far (GSO_BAD for a SYN, a corrupt
 * payload and checksum for longer packets). Found by fuzz_pipeline. */
Test(pipeline_workers, hairpin_with_partial_checksum_to_another_worker)
{
	struct harness *w0 = worker(0), *w1 = worker(1);
	struct gso_hdr g = {.flags = GSO_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 16};
	struct nat64_handoff hd;
	uint8_t in[128], v4[128];
	uint32_t v4len;
	uint16_t c;
	size_t n;

	h_bib(w0, L4_TCP, STATIC6, 5002, H_POOL4, 5002);
	h_bib(w1, L4_TCP, STATIC6, 5002, H_POOL4, 5002);
	n = h_tcp6(in, H_CLIENT, 1000, H_POOL4_6, 5002, 0x02, 64);
	cr_assert_eq(gso_pseudo_csum(in, n, &g, IPPROTO_TCP), GSO_OK);
	memcpy(w0->mem + H_HEAD, in, n);
	w0->p = (struct pkt){w0->mem + H_HEAD, (uint32_t)n, PKT_HEADROOM, H_TAILROOM};
	nat64_input_gso(w0->n, &w0->p, &g, w0->now, w0->reply, &w0->res);
	cr_assert_eq(w0->res.reason, STAT_HANDOFF);
	cr_assert(w0->res.handoff.hairpin);
	hd = w0->res.handoff;
	v4len = w0->res.out.len;
	memcpy(v4, w0->res.out.data, v4len);
	cr_assert_eq(v4[0], 0x45);
	cr_assert_eq(hd.gso.flags, GSO_F_NEEDS_CSUM);
	cr_assert_eq(hd.gso.csum_start, 20);
	cr_assert_eq(hd.gso.csum_offset, 16);
	/* Finished as the kernel would, the IPv4 half's checksum is right. */
	c = ref_csum(v4 + 20, v4len - 20, NULL, 0);
	v4[36] = (uint8_t)(c >> 8);
	v4[37] = (uint8_t)c;
	cr_assert(pg_l4_csum_ok4(v4, v4len));
	memcpy(v4, w0->res.out.data, v4len);

	cr_assert_eq(h_input_handed(w1, v4, v4len, &hd), STAT_OK);
	cr_assert_eq(h_stat(w1, STAT_HAIRPINNED), 1);
	/* An IPv4 SYN's checksum is finished here (pipeline_offload.c). */
	cr_assert_eq(w1->res.gso.flags, 0);
	cr_assert(pg_l4_csum_ok6(w1->p.data, w1->p.len, 40, IPPROTO_TCP));
	done(w0);
	done(w1);
}

/* RFC 6888 REQ-4 with two workers: a host's flows spread over them by
 * source port, so each enforces half of max-sessions-per-host (4 here):
 * two sessions in each, the third of either worker refused. */
Test(pipeline_workers, host_limit_is_split_between_the_workers)
{
	struct harness *w[2];
	struct globals g;
	struct nat64_params p;
	/* Owners: 5000, 5001, 5004 worker 0; 5002, 5003, 5006 worker 1. */
	static const uint16_t ports[2][3] = {{5000, 5001, 5004}, {5002, 5003, 5006}};
	uint8_t in[128];
	size_t n;

	for (unsigned i = 0; i < 2; i++) {
		w[i] = calloc(1, sizeof(*w[i]));
		cr_assert(w[i]);
		h_defaults(&g, &p);
		g.max_sessions_per_host = 4;
		p.share = (struct port_share){.index = (uint16_t)i, .count = 2};
		h_start(w[i], &g, &p);
		h_pool4(w[i], L4_UDP, H_POOL4, 32, 1, 65535);
	}
	for (unsigned i = 0; i < 2; i++) {
		for (unsigned k = 0; k < 3; k++) {
			n = h_udp6(in, H_CLIENT, ports[i][k], H_SERVER6, 53, 64);
			cr_assert_eq(h_input(w[i], in, n),
				     k < 2 ? STAT_OK : STAT_HOST_SESSION_LIMIT,
				     "worker %u, port %u", i, ports[i][k]);
		}
		cr_assert_eq(sessions(w[i]), 2);
	}
	/* Another host still has its own share in each. */
	n = h_udp6(in, H_CLIENT2, 5000, H_SERVER6, 53, 64);
	cr_assert_eq(h_input(w[0], in, n), STAT_OK);
	done(w[0]);
	done(w[1]);
}
