/*
 * ctl/occupancy.c: counting the transport addresses of a pool4 set that
 * BIB entries use, in slices, and the watch that logs (rate-limited) when a
 * set goes above 90%, fills up, comes back, or when new flows found no free
 * transport address.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engines.h"
#include "nat64_harness.h"
#include "occupancy.h"

/* A set of 10 ports on 203.0.113.5 (mark 9), `used` of them in the BIB. */
static void
small_set(struct harness *h, int used)
{
	struct pool4_entry e = {.mark = 9, .proto = L4_TCP, .port_min = 1000, .port_max = 1009};
	char a6[64];

	inet_pton(AF_INET, "203.0.113.5", &e.prefix.addr);
	e.prefix.len = 32;
	cr_assert_eq(nat64_pool4_add(h->n, &e, NULL), 0);
	for (int i = 0; i < used; i++) {
		snprintf(a6, sizeof(a6), "2001:db8::9:%d", i);
		h_bib(h, L4_TCP, a6, 80, "203.0.113.5", (uint16_t)(1000 + i));
	}
}

Test(ctl_occupancy, missing_sets_count_nothing)
{
	struct harness h;
	uint64_t in_use = 0, budget = 100;
	uint32_t cursor = 0;

	h_start(&h, NULL, NULL); /* empty pool4: only the fallback, which is no set */
	cr_assert(occupancy_count(h.n, 0, L4_TCP, &cursor, &budget, &in_use));
	cr_assert(in_use == 0 && budget == 100 && cursor == 0);
	h_stop(&h);
}

Test(ctl_occupancy, slices_add_up_to_the_whole_count)
{
	struct harness h;
	uint64_t whole = 0, sliced = 0, budget = 1000;
	uint32_t cursor = 0;
	int calls = 0;

	h_start_default(&h);
	h_pool4(&h, L4_TCP, "192.0.2.16", 28, 1, 65535);
	h_bib(&h, L4_TCP, "2001:db8::1", 1, H_POOL4, 7);
	h_bib(&h, L4_TCP, "2001:db8::2", 1, "192.0.2.16", 7);
	h_bib(&h, L4_TCP, "2001:db8::3", 1, "192.0.2.31", 7);
	h_bib(&h, L4_TCP, "2001:db8::4", 1, "192.0.2.31", 8);
	h_bib(&h, L4_UDP, "2001:db8::5", 1, H_POOL4, 8); /* another protocol */
	cr_assert(occupancy_count(h.n, 0, L4_TCP, &cursor, &budget, &whole));
	cr_assert_eq(whole, 4);
	cr_assert_eq(budget, 1000 - 17); /* one unit per address */
	cursor = 0;
	for (;;) {
		uint64_t slice = 3;

		calls++;
		if (occupancy_count(h.n, 0, L4_TCP, &cursor, &slice, &sliced))
			break;
		cr_assert_eq(slice, 0);
	}
	cr_assert_eq(sliced, whole);
	cr_assert_eq(calls, 6); /* 17 addresses, 3 per call */
	h_stop(&h);
}

static void
expect_line(struct occupancy *o, const char *want)
{
	char line[256];

	cr_assert(occupancy_pop_line(o, line, sizeof(line)), "no line, want: %s", want);
	cr_assert_str_eq(line, want);
}

static void
expect_quiet(struct occupancy *o)
{
	char line[256];

	cr_assert_not(occupancy_pop_line(o, line, sizeof(line)), "unexpected: %s", line);
}

Test(ctl_occupancy, watch_logs_levels_once_a_minute)
{
	struct harness h;
	struct ctl_engines engines = ctl_engines_one(&h.n);
	struct occupancy *o = occupancy_create();
	struct taddr4 t4 = h_taddr4("203.0.113.5", 1000);
	uint64_t in_use, when;

	h_start_default(&h);
	small_set(&h, 8);
	occupancy_tick(o, &engines, H_T0);
	expect_quiet(o); /* 80% */
	cr_assert(occupancy_last(o, 9, L4_TCP, &in_use, &when));
	cr_assert(in_use == 8 && when == H_T0);
	cr_assert_not(occupancy_last(o, 9, L4_UDP, &in_use, &when));

	h_bib(&h, L4_TCP, "2001:db8::9:8", 80, "203.0.113.5", 1008);
	occupancy_tick(o, &engines, H_T0 + 1000);
	expect_line(o, "pool4 TCP mark 9: 90% in use (9 of 10 transport addresses)");
	expect_quiet(o);

	h_bib(&h, L4_TCP, "2001:db8::9:9", 80, "203.0.113.5", 1009);
	occupancy_tick(o, &engines, H_T0 + 2000);
	expect_quiet(o); /* full, but within the minute */
	occupancy_tick(o, &engines, H_T0 + 1000 + OCCUPANCY_LOG_MS);
	expect_line(o, "pool4 TCP mark 9: full (10 of 10 transport addresses in use)");

	for (uint16_t p = 1000; p < 1005; p++) {
		t4.port = p;
		cr_assert_eq(nat64_bib_remove(h.n, L4_TCP, NULL, &t4, H_T0), 0);
	}
	occupancy_tick(o, &engines, H_T0 + 1000 + 2 * OCCUPANCY_LOG_MS);
	expect_line(o, "pool4 TCP mark 9: back below 90% (5 of 10 in use)");
	occupancy_tick(o, &engines, H_T0 + 1000 + 4 * OCCUPANCY_LOG_MS);
	expect_quiet(o);
	occupancy_destroy(o);
	h_stop(&h);
}

Test(ctl_occupancy, exhaustion_drops_are_reported_once_a_minute)
{
	struct harness h;
	struct ctl_engines engines = ctl_engines_one(&h.n);
	struct occupancy *o = occupancy_create();
	uint8_t pkt[256];
	size_t len;

	h_start(&h, NULL, NULL);
	h_pool4(&h, L4_UDP, H_POOL4, 32, 1000, 1000); /* one port */
	len = h_udp6(pkt, H_CLIENT, 5000, H_SERVER6, 53, 64);
	cr_assert_eq(h_input(&h, pkt, len), STAT_OK);
	occupancy_tick(o, &engines, H_T0);
	expect_line(o, "pool4 UDP mark 0: full (1 of 1 transport addresses in use)");
	expect_quiet(o); /* no drop yet */
	len = h_udp6(pkt, H_CLIENT2, 5000, H_SERVER6, 53, 64);
	cr_assert_eq(h_input(&h, pkt, len), STAT_POOL4_EXHAUSTED);
	cr_assert_eq(h_input(&h, pkt, len), STAT_POOL4_EXHAUSTED);
	occupancy_tick(o, &engines, H_T0 + 1000);
	expect_line(o, "pool4 exhausted: 2 new flows dropped for lack of a free transport address "
		       "since the last warning");
	cr_assert_eq(h_input(&h, pkt, len), STAT_POOL4_EXHAUSTED);
	occupancy_tick(o, &engines, H_T0 + 2000);
	expect_quiet(o);
	occupancy_tick(o, &engines, H_T0 + 1000 + OCCUPANCY_LOG_MS);
	expect_line(o, "pool4 exhausted: 1 new flows dropped for lack of a free transport address "
		       "since the last warning");
	occupancy_destroy(o);
	h_stop(&h);
}
