/*
 * pool4: entries, sets, merge/split, membership, display, accounting,
 * fallback, memory (JOOL-REFERENCE §1 "pool4 add rules", §3.1, §3.3).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pool4.h"

static struct in_addr
ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a;
}

static struct pool4_entry
ent(uint32_t mark, enum l4proto proto, const char *addr, uint8_t len, uint16_t lo, uint16_t hi)
{
	return (struct pool4_entry){
		.mark = mark,
		.proto = proto,
		.prefix = {.addr = ip4(addr), .len = len},
		.port_min = lo,
		.port_max = hi,
	};
}

static struct taddr4
t4(const char *addr, uint16_t port)
{
	return (struct taddr4){.addr = ip4(addr), .port = port};
}

static struct pool4 *
new_pool(void)
{
	struct pool4 *p = pool4_create();

	cr_assert_not_null(p);
	return p;
}

static void
add_ok(struct pool4 *p, struct pool4_entry e)
{
	int err = pool4_add(p, &e, NULL);

	cr_assert_eq(err, 0, "add: %s", pool4_strerror(err));
}

static bool
has(const struct pool4 *p, enum l4proto proto, const char *addr, uint16_t port)
{
	struct taddr4 t = t4(addr, port);

	return pool4_contains(p, proto, &t);
}

/* Whole-pool text dump through the display iterators (every protocol). */
struct dump {
	char buf[8192];
	size_t len;
	unsigned entries;
};

static int
dump_entry(void *ctx, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	struct dump *d = ctx;
	char a[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &e->prefix.addr, a, sizeof(a));
	n = snprintf(d->buf + d->len, sizeof(d->buf) - d->len, "%u %d %s/%u %u-%u it%d:%lu\n",
		     e->mark, (int)e->proto, a, e->prefix.len, e->port_min, e->port_max,
		     (int)set->iterations.kind, (unsigned long)set->max_iterations);
	cr_assert(n > 0 && (size_t)n < sizeof(d->buf) - d->len, "dump buffer too small");
	d->len += (size_t)n;
	d->entries++;
	return 0;
}

static void
dump_pool(const struct pool4 *p, struct dump *d)
{
	d->len = 0;
	d->entries = 0;
	d->buf[0] = '\0';
	for (int proto = 0; proto < L4_COUNT; proto++)
		cr_assert_eq(pool4_foreach(p, (enum l4proto)proto, dump_entry, d), 0);
}

/* Dump of one protocol, compared with an expected text. */
static void
assert_entries(const struct pool4 *p, enum l4proto proto, const char *expected)
{
	struct dump d = {.len = 0};

	cr_assert_eq(pool4_foreach(p, proto, dump_entry, &d), 0);
	cr_assert_str_eq(d.buf, expected);
}

static struct pool4 *
sample_pool(void)
{
	struct pool4 *p = new_pool();
	struct pool4_iterations fixed = {POOL4_ITER_FIXED, 77};
	struct pool4_entry e = ent(3, L4_UDP, "198.51.100.0", 30, 1000, 2000);

	add_ok(p, ent(0, L4_TCP, "192.0.2.0", 24, 1, 65535));
	add_ok(p, ent(1, L4_TCP, "192.0.2.200", 32, 7, 9));
	cr_assert_eq(pool4_add(p, &e, &fixed), 0);
	add_ok(p, ent(0, L4_ICMP, "203.0.113.1", 32, 0, 65535));
	return p;
}

/* Each rejected call: the error, and a pool identical to the one before. */
static void
assert_add_rejected(struct pool4 *p, struct pool4_entry e, const struct pool4_iterations *it,
		    int expected)
{
	struct dump before, after;
	size_t bytes = pool4_memory_bytes(p);

	dump_pool(p, &before);
	cr_assert_eq(pool4_add(p, &e, it), expected, "expected %s", pool4_strerror(expected));
	dump_pool(p, &after);
	cr_assert_str_eq(after.buf, before.buf);
	cr_assert_eq(pool4_memory_bytes(p), bytes);
}

Test(pool4, add_rejects_bad_input_and_changes_nothing)
{
	struct pool4 *p = sample_pool();
	struct pool4_iterations zero = {POOL4_ITER_FIXED, 0};
	struct pool4_iterations bogus = {(enum pool4_iter_kind)42, 5};

	assert_add_rejected(p, ent(0, (enum l4proto)3, "192.0.2.0", 24, 1, 2), NULL,
			    -EPROTONOSUPPORT);
	assert_add_rejected(p, ent(0, L4_TCP, "192.0.2.0", 33, 1, 2), NULL, -EINVAL);
	assert_add_rejected(p, ent(0, L4_TCP, "192.0.2.1", 24, 1, 2), NULL, -EADDRNOTAVAIL);
	assert_add_rejected(p, ent(0, L4_UDP, "192.0.2.1", 32, 0, 0), NULL, -EDOM);
	assert_add_rejected(p, ent(0, L4_TCP, "192.0.2.1", 32, 1, 2), &zero, -ERANGE);
	assert_add_rejected(p, ent(9, L4_TCP, "192.0.2.1", 32, 1, 2), &bogus, -ERANGE);
	/* The rejected mark-9 add must not have left an empty set behind. */
	struct pool4_set_info info;
	cr_assert_eq(pool4_get_set_info(p, 9, L4_TCP, &info), -ENOENT);
	pool4_destroy(p);
}

Test(pool4, remove_rejects_bad_input_or_absent_entry_and_changes_nothing)
{
	struct pool4 *p = sample_pool();
	struct pool4_entry cases[] = {
		ent(0, (enum l4proto)7, "192.0.2.0", 24, 1, 2),
		ent(0, L4_TCP, "192.0.2.0", 40, 1, 2),
		ent(0, L4_TCP, "192.0.2.0", 16, 1, 2),
		ent(5, L4_TCP, "192.0.2.0", 24, 1, 2),    /* no such set */
		ent(0, L4_TCP, "192.0.3.0", 24, 1, 2),    /* set exists, range does not */
		ent(0, L4_ICMP, "203.0.113.2", 32, 0, 9), /* neighbour address */
		ent(0, L4_TCP, "192.0.2.0", 24, 0, 0),    /* port 0 is never in TCP */
	};
	int expected[] = {-EPROTONOSUPPORT, -EINVAL, -EADDRNOTAVAIL, -ENOENT,
			  -ENOENT,          -ENOENT, -ENOENT};
	struct dump before, after;

	dump_pool(p, &before);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(pool4_remove(p, &cases[i]), expected[i], "case %zu", i);
		dump_pool(p, &after);
		cr_assert_str_eq(after.buf, before.buf, "case %zu", i);
	}
	pool4_destroy(p);
}

Test(pool4, strerror_names_every_code)
{
	int codes[] = {-EPROTONOSUPPORT, -EINVAL, -EADDRNOTAVAIL, -EDOM, -ERANGE, -ENOENT, -ENOMEM};
	const char *unknown = pool4_strerror(-12345);

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (size_t j = 0; j < sizeof(codes) / sizeof(codes[0]); j++)
			if (i != j)
				cr_assert_str_neq(pool4_strerror(codes[i]),
						  pool4_strerror(codes[j]));
	cr_assert_str_neq(pool4_strerror(-EINVAL), unknown);
}

/* DESIGN: a prefix is stored as one range item, not one per address. */
Test(pool4, add_prefix_is_one_entry_and_one_item)
{
	struct pool4 *p = new_pool();
	struct pool4_set_info info;

	add_ok(p, ent(0, L4_TCP, "192.0.2.0", 24, 1, 65535));
	assert_entries(p, L4_TCP, "0 0 192.0.2.0/24 1-65535 it1:8192\n");
	cr_assert_eq(pool4_get_set_info(p, 0, L4_TCP, &info), 0);
	cr_assert_eq(info.range_count, 1);
	cr_assert_eq(info.addr_count, 256);
	cr_assert_eq(info.taddr_count, 256ull * 65535);
	pool4_destroy(p);
}

/* JOOL-REFERENCE §1: adding to a set fuses adjacent or overlapping ranges. */
Test(pool4, add_fuses_adjacent_port_ranges)
{
	struct pool4 *p = new_pool();

	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 1, 100));
	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 101, 200));
	assert_entries(p, L4_UDP, "0 1 192.0.2.1/32 1-200 it1:1024\n");
	pool4_destroy(p);
}

Test(pool4, add_fuses_overlapping_port_ranges_keeps_gaps)
{
	struct pool4 *p = new_pool();

	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 1, 100));
	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 300, 400));
	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 50, 150));
	assert_entries(p, L4_UDP,
		       "0 1 192.0.2.1/32 1-150 it1:1024\n"
		       "0 1 192.0.2.1/32 300-400 it1:1024\n");
	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 151, 299));
	assert_entries(p, L4_UDP, "0 1 192.0.2.1/32 1-400 it1:1024\n");
	pool4_destroy(p);
}

Test(pool4, add_fuses_adjacent_addresses_with_same_ports)
{
	struct pool4 *p = new_pool();
	struct pool4_set_info info;

	add_ok(p, ent(0, L4_TCP, "192.0.2.128", 25, 10, 20));
	add_ok(p, ent(0, L4_TCP, "192.0.2.0", 25, 10, 20));
	assert_entries(p, L4_TCP, "0 0 192.0.2.0/24 10-20 it1:1024\n");
	cr_assert_eq(pool4_get_set_info(p, 0, L4_TCP, &info), 0);
	cr_assert_eq(info.range_count, 1);
	pool4_destroy(p);
}

/* JOOL-REFERENCE §1: "For TCP and UDP, port 0 is raised to 1." */
Test(pool4, add_raises_port_zero_for_tcp_and_udp_not_icmp)
{
	struct pool4 *p = new_pool();

	add_ok(p, ent(0, L4_TCP, "192.0.2.1", 32, 0, 10));
	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 0, 10));
	add_ok(p, ent(0, L4_ICMP, "192.0.2.1", 32, 0, 10));
	assert_entries(p, L4_TCP, "0 0 192.0.2.1/32 1-10 it1:1024\n");
	assert_entries(p, L4_UDP, "0 1 192.0.2.1/32 1-10 it1:1024\n");
	assert_entries(p, L4_ICMP, "0 2 192.0.2.1/32 0-10 it1:1024\n");
	cr_assert_not(has(p, L4_TCP, "192.0.2.1", 0));
	cr_assert(has(p, L4_ICMP, "192.0.2.1", 0));
	pool4_destroy(p);
}

/* JOOL-REFERENCE §1: "Min and max are swapped if given in reverse." */
Test(pool4, add_and_remove_swap_a_reversed_range)
{
	struct pool4 *p = new_pool();
	struct pool4_entry rm = ent(0, L4_TCP, "192.0.2.1", 32, 150, 120);

	add_ok(p, ent(0, L4_TCP, "192.0.2.1", 32, 200, 100));
	assert_entries(p, L4_TCP, "0 0 192.0.2.1/32 100-200 it1:1024\n");
	cr_assert_eq(pool4_remove(p, &rm), 0);
	assert_entries(p, L4_TCP,
		       "0 0 192.0.2.1/32 100-119 it1:1024\n"
		       "0 0 192.0.2.1/32 151-200 it1:1024\n");
	pool4_destroy(p);
}

/* Removing 192.0.2.5 ports 100-200 from 192.0.2.0/24 1-65535 leaves the rest. */
Test(pool4, remove_splits_prefix_and_ports)
{
	struct pool4 *p = new_pool();
	struct pool4_entry rm = ent(0, L4_TCP, "192.0.2.5", 32, 100, 200);
	struct pool4_set_info info;

	add_ok(p, ent(0, L4_TCP, "192.0.2.0", 24, 1, 65535));
	cr_assert_eq(pool4_remove(p, &rm), 0);
	assert_entries(p, L4_TCP,
		       "0 0 192.0.2.0/30 1-65535 it1:8192\n"
		       "0 0 192.0.2.4/32 1-65535 it1:8192\n"
		       "0 0 192.0.2.5/32 1-99 it1:8192\n"
		       "0 0 192.0.2.5/32 201-65535 it1:8192\n"
		       "0 0 192.0.2.6/31 1-65535 it1:8192\n"
		       "0 0 192.0.2.8/29 1-65535 it1:8192\n"
		       "0 0 192.0.2.16/28 1-65535 it1:8192\n"
		       "0 0 192.0.2.32/27 1-65535 it1:8192\n"
		       "0 0 192.0.2.64/26 1-65535 it1:8192\n"
		       "0 0 192.0.2.128/25 1-65535 it1:8192\n");
	cr_assert_eq(pool4_get_set_info(p, 0, L4_TCP, &info), 0);
	cr_assert_eq(info.taddr_count, 256ull * 65535 - 101);
	cr_assert_eq(info.addr_count, 256);
	cr_assert(has(p, L4_TCP, "192.0.2.5", 99));
	cr_assert_not(has(p, L4_TCP, "192.0.2.5", 100));
	cr_assert_not(has(p, L4_TCP, "192.0.2.5", 200));
	cr_assert(has(p, L4_TCP, "192.0.2.5", 201));
	cr_assert(has(p, L4_TCP, "192.0.2.4", 150));
	cr_assert(has(p, L4_TCP, "192.0.2.6", 150));
	/* Putting the hole back restores the single item. */
	add_ok(p, rm);
	assert_entries(p, L4_TCP, "0 0 192.0.2.0/24 1-65535 it1:8192\n");
	pool4_destroy(p);
}

Test(pool4, remove_whole_set_forgets_it_and_its_iterations)
{
	struct pool4 *p = new_pool();
	struct pool4_iterations fixed = {POOL4_ITER_FIXED, 9};
	struct pool4_entry e = ent(4, L4_UDP, "192.0.2.0", 31, 1, 10);
	struct pool4_set_info info;

	cr_assert_eq(pool4_add(p, &e, &fixed), 0);
	cr_assert_eq(pool4_remove(p, &e), 0);
	cr_assert_eq(pool4_get_set_info(p, 4, L4_UDP, &info), -ENOENT);
	cr_assert_null(pool4_find_set(p, 4, L4_UDP));
	assert_entries(p, L4_UDP, "");
	add_ok(p, e);
	cr_assert_eq(pool4_get_set_info(p, 4, L4_UDP, &info), 0);
	cr_assert_eq(info.iterations.kind, POOL4_ITER_AUTO);
	pool4_destroy(p);
}

Test(pool4, flush_empties_every_set_and_index)
{
	struct pool4 *p = sample_pool();
	struct dump d;
	size_t empty_bytes;
	struct pool4 *fresh = new_pool();

	empty_bytes = pool4_memory_bytes(fresh);
	pool4_destroy(fresh);
	pool4_flush(p);
	dump_pool(p, &d);
	cr_assert_eq(d.entries, 0);
	cr_assert_not(has(p, L4_TCP, "192.0.2.1", 80));
	cr_assert_not(has(p, L4_ICMP, "203.0.113.1", 1));
	cr_assert_null(pool4_find_set(p, 0, L4_TCP));
	cr_assert_eq(pool4_memory_bytes(p), empty_bytes);
	add_ok(p, ent(0, L4_TCP, "192.0.2.1", 32, 5, 5));
	assert_entries(p, L4_TCP, "0 0 192.0.2.1/32 5-5 it1:1024\n");
	pool4_destroy(p);
}

/* `pool4 display --tcp`: sets in mark order, then by address and port. */
Test(pool4, display_orders_by_mark_then_address_then_port)
{
	struct pool4 *p = new_pool();

	add_ok(p, ent(5, L4_TCP, "192.0.2.9", 32, 1, 1));
	add_ok(p, ent(1, L4_TCP, "192.0.2.7", 32, 500, 600));
	add_ok(p, ent(1, L4_TCP, "192.0.2.3", 32, 10, 20));
	add_ok(p, ent(1, L4_TCP, "192.0.2.7", 32, 1, 2));
	add_ok(p, ent(3, L4_TCP, "10.0.0.0", 8, 1, 1));
	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 1, 1));
	assert_entries(p, L4_TCP,
		       "1 0 192.0.2.3/32 10-20 it1:1024\n"
		       "1 0 192.0.2.7/32 1-2 it1:1024\n"
		       "1 0 192.0.2.7/32 500-600 it1:1024\n"
		       "3 0 10.0.0.0/8 1-1 it1:8192\n" /* 16 Mi taddrs */
		       "5 0 192.0.2.9/32 1-1 it1:1024\n");
	assert_entries(p, L4_UDP, "0 1 192.0.2.1/32 1-1 it1:1024\n");
	pool4_destroy(p);
}

/* An address interval that is not a prefix comes back as the fewest prefixes. */
Test(pool4, display_cuts_address_intervals_into_prefixes)
{
	struct pool4 *p = new_pool();

	add_ok(p, ent(0, L4_TCP, "192.0.2.1", 32, 1, 1));
	add_ok(p, ent(0, L4_TCP, "192.0.2.2", 31, 1, 1));
	add_ok(p, ent(0, L4_TCP, "192.0.2.4", 32, 1, 1));
	assert_entries(p, L4_TCP,
		       "0 0 192.0.2.1/32 1-1 it1:1024\n"
		       "0 0 192.0.2.2/31 1-1 it1:1024\n"
		       "0 0 192.0.2.4/32 1-1 it1:1024\n");
	pool4_destroy(p);
}

static int
stop_after_two(void *ctx, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	int *calls = ctx;

	(void)e;
	(void)set;
	return ++*calls == 2 ? 42 : 0;
}

Test(pool4, foreach_stops_when_callback_returns_nonzero)
{
	struct pool4 *p = new_pool();
	int calls = 0;

	add_ok(p, ent(0, L4_TCP, "192.0.2.1", 32, 1, 1));
	add_ok(p, ent(0, L4_TCP, "192.0.2.3", 32, 1, 1));
	add_ok(p, ent(0, L4_TCP, "192.0.2.5", 32, 1, 1));
	cr_assert_eq(pool4_foreach(p, L4_TCP, stop_after_two, &calls), 42);
	cr_assert_eq(calls, 2);
	pool4_destroy(p);
}

/* JOOL-REFERENCE §1: passing --max-iterations on a later add overwrites it. */
Test(pool4, max_iterations_later_add_overwrites_absent_keeps)
{
	struct pool4 *p = new_pool();
	struct pool4_entry e = ent(0, L4_TCP, "192.0.2.1", 32, 1, 10);
	struct pool4_iterations fixed = {POOL4_ITER_FIXED, 50};
	struct pool4_iterations inf = {POOL4_ITER_INFINITY, 0};
	struct pool4_iterations aut = {POOL4_ITER_AUTO, 0};
	struct pool4_set_info info;

	cr_assert_eq(pool4_add(p, &e, &fixed), 0);
	e.port_max = 20;
	cr_assert_eq(pool4_add(p, &e, NULL), 0);
	cr_assert_eq(pool4_get_set_info(p, 0, L4_TCP, &info), 0);
	cr_assert_eq(info.iterations.kind, POOL4_ITER_FIXED);
	cr_assert_eq(info.max_iterations, 50);
	cr_assert_eq(pool4_add(p, &e, &inf), 0);
	cr_assert_eq(pool4_get_set_info(p, 0, L4_TCP, &info), 0);
	cr_assert_eq(info.max_iterations, POOL4_ITERATIONS_INFINITE);
	cr_assert_eq(pool4_add(p, &e, &aut), 0);
	cr_assert_eq(pool4_get_set_info(p, 0, L4_TCP, &info), 0);
	cr_assert_eq(info.max_iterations, 1024);
	pool4_destroy(p);
}

/* JOOL-REFERENCE §3.2: auto = clamp(taddr_count / 128, 1024, 8192). */
Test(pool4, auto_iterations_formula_boundaries)
{
	cr_assert_eq(pool4_auto_iterations(0), 1024);
	cr_assert_eq(pool4_auto_iterations(128 * 1024 - 1), 1024);
	cr_assert_eq(pool4_auto_iterations(128 * 1024), 1024);
	cr_assert_eq(pool4_auto_iterations(128 * 1024 + 128), 1025);
	cr_assert_eq(pool4_auto_iterations(1024 * 1024 - 128), 8191);
	cr_assert_eq(pool4_auto_iterations(1024 * 1024), 8192);
	cr_assert_eq(pool4_auto_iterations(1024 * 1024 + 128), 8192);
	cr_assert_eq(pool4_auto_iterations(UINT64_MAX), 8192);
}

static uint64_t
set_max_iterations(const struct pool4 *p, uint32_t mark, enum l4proto proto)
{
	struct pool4_set_info info;

	cr_assert_eq(pool4_get_set_info(p, mark, proto, &info), 0);
	return info.max_iterations;
}

/* The same boundaries through real sets: ICMP addresses hold 65536 ids. */
Test(pool4, auto_iterations_follow_set_size)
{
	struct pool4 *p = new_pool();

	add_ok(p, ent(0, L4_ICMP, "10.0.0.0", 31, 0, 65535)); /* 128 Ki */
	cr_assert_eq(set_max_iterations(p, 0, L4_ICMP), 1024);
	add_ok(p, ent(0, L4_ICMP, "10.0.1.0", 32, 0, 127)); /* + 128 */
	cr_assert_eq(set_max_iterations(p, 0, L4_ICMP), 1025);
	add_ok(p, ent(0, L4_ICMP, "10.0.0.0", 28, 0, 65535)); /* 1 Mi + 128 */
	cr_assert_eq(set_max_iterations(p, 0, L4_ICMP), 8192);
	add_ok(p, ent(1, L4_ICMP, "10.0.0.0", 28, 0, 65535)); /* exactly 1 Mi */
	cr_assert_eq(set_max_iterations(p, 1, L4_ICMP), 8192);
	add_ok(p, ent(2, L4_ICMP, "10.0.0.0", 28, 0, 65407)); /* 1 Mi - 16 * 128 */
	cr_assert_eq(set_max_iterations(p, 2, L4_ICMP), 8192 - 16);
	pool4_destroy(p);
}

/* JOOL-REFERENCE §3.1: in 4->6 only address, port and protocol count. */
Test(pool4, contains_ignores_mark_and_follows_add_remove)
{
	struct pool4 *p = new_pool();
	struct pool4_entry e = ent(7, L4_TCP, "192.0.2.2", 32, 1000, 2000);
	struct pool4_entry other = ent(8, L4_TCP, "192.0.2.2", 32, 1500, 2500);

	cr_assert_not(has(p, L4_TCP, "192.0.2.2", 1500));
	add_ok(p, e);
	cr_assert(has(p, L4_TCP, "192.0.2.2", 1000));
	cr_assert(has(p, L4_TCP, "192.0.2.2", 2000));
	cr_assert_not(has(p, L4_TCP, "192.0.2.2", 999));
	cr_assert_not(has(p, L4_TCP, "192.0.2.2", 2001));
	cr_assert_not(has(p, L4_TCP, "192.0.2.3", 1500));
	cr_assert_not(has(p, L4_UDP, "192.0.2.2", 1500));
	add_ok(p, other);
	cr_assert(has(p, L4_TCP, "192.0.2.2", 2500));
	cr_assert_eq(pool4_remove(p, &e), 0);
	/* Still there through mark 8. */
	cr_assert(has(p, L4_TCP, "192.0.2.2", 1600));
	cr_assert_not(has(p, L4_TCP, "192.0.2.2", 1499));
	cr_assert_eq(pool4_remove(p, &other), 0);
	cr_assert_not(has(p, L4_TCP, "192.0.2.2", 1600));
	pool4_destroy(p);
}

Test(pool4, contains_at_the_ends_of_the_address_space)
{
	struct pool4 *p = new_pool();

	add_ok(p, ent(0, L4_ICMP, "0.0.0.0", 0, 65535, 65535));
	cr_assert(has(p, L4_ICMP, "255.255.255.255", 65535));
	cr_assert(has(p, L4_ICMP, "0.0.0.0", 65535));
	cr_assert_not(has(p, L4_ICMP, "255.255.255.255", 65534));
	add_ok(p, ent(0, L4_UDP, "255.255.255.255", 32, 1, 65535));
	cr_assert(has(p, L4_UDP, "255.255.255.255", 1));
	cr_assert_not(has(p, L4_UDP, "255.255.255.254", 1));
	pool4_destroy(p);
}

Test(pool4, find_set_by_mark_and_protocol)
{
	struct pool4 *p = new_pool();
	const struct pool4_set *s;
	uint32_t n;

	add_ok(p, ent(3, L4_UDP, "192.0.2.0", 30, 10, 20));
	add_ok(p, ent(3, L4_UDP, "192.0.2.8", 31, 10, 20));
	s = pool4_find_set(p, 3, L4_UDP);
	cr_assert_not_null(s);
	cr_assert_eq(pool4_set_proto(s), L4_UDP);
	cr_assert_eq(pool4_set_addr_count(s), 6);
	cr_assert_not_null(pool4_set_runs(s, &n));
	cr_assert_eq(n, 2);
	cr_assert_not_null(pool4_set_find_run(s, ntohl(ip4("192.0.2.9").s_addr)));
	cr_assert_null(pool4_set_find_run(s, ntohl(ip4("192.0.2.4").s_addr)));
	cr_assert_null(pool4_find_set(p, 4, L4_UDP));
	cr_assert_null(pool4_find_set(p, 3, L4_TCP));
	pool4_destroy(p);
}

struct addr_list {
	char text[512];
	size_t len;
};

static int
list_addr(void *ctx, struct in_addr addr, uint32_t ports)
{
	struct addr_list *l = ctx;
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s:%u ", a, ports);
	return 0;
}

/* Usage accounting: ports per address across marks, each taddr once. */
Test(pool4, port_count_and_address_iteration_merge_marks)
{
	struct pool4 *p = new_pool();
	struct addr_list l = {.len = 0};

	add_ok(p, ent(0, L4_TCP, "192.0.2.1", 32, 1, 100));
	add_ok(p, ent(1, L4_TCP, "192.0.2.1", 32, 51, 150));
	add_ok(p, ent(1, L4_TCP, "192.0.2.2", 31, 1000, 1009));
	add_ok(p, ent(0, L4_UDP, "192.0.2.9", 32, 1, 1));
	cr_assert_eq(pool4_port_count(p, L4_TCP, ip4("192.0.2.1")), 150);
	cr_assert_eq(pool4_port_count(p, L4_TCP, ip4("192.0.2.3")), 10);
	cr_assert_eq(pool4_port_count(p, L4_TCP, ip4("192.0.2.9")), 0);
	cr_assert_eq(pool4_foreach_address(p, L4_TCP, list_addr, &l), 0);
	cr_assert_str_eq(l.text, "192.0.2.1:150 192.0.2.2:10 192.0.2.3:10 ");
	pool4_destroy(p);
}

/* JOOL-REFERENCE §3.1: empty pool4 -> node addresses, ports 61001-65535. */
Test(pool4, fallback_answers_only_while_protocol_has_no_entry)
{
	struct pool4 *p = new_pool();
	struct in_addr node[] = {ip4("198.51.100.7"), ip4("198.51.100.6"), ip4("198.51.100.7")};
	const struct pool4_set *s;
	struct pool4_set_info info;

	cr_assert_null(pool4_find_set(p, 0, L4_UDP));
	cr_assert_eq(pool4_set_fallback(p, node, 3), 0);
	cr_assert(has(p, L4_UDP, "198.51.100.7", 61001));
	cr_assert(has(p, L4_UDP, "198.51.100.6", 65535));
	cr_assert_not(has(p, L4_UDP, "198.51.100.7", 61000));
	cr_assert_not(has(p, L4_UDP, "198.51.100.8", 61001));
	cr_assert_eq(pool4_port_count(p, L4_UDP, ip4("198.51.100.6")), 4535);
	s = pool4_find_set(p, 12345, L4_UDP);
	cr_assert_not_null(s);
	pool4_set_get_info(s, &info);
	cr_assert_eq(info.addr_count, 2);
	cr_assert_eq(info.range_count, 1); /* .6 and .7 fused */
	cr_assert_eq(info.max_iterations, POOL4_ITERATIONS_INFINITE);
	/* An entry for UDP switches UDP, and only UDP, away from the fallback. */
	add_ok(p, ent(0, L4_UDP, "192.0.2.1", 32, 1, 65535));
	cr_assert_not(has(p, L4_UDP, "198.51.100.7", 61001));
	cr_assert_null(pool4_find_set(p, 12345, L4_UDP));
	cr_assert(has(p, L4_TCP, "198.51.100.7", 61001));
	/* Not listed as an entry, and kept by flush. */
	assert_entries(p, L4_TCP, "");
	pool4_flush(p);
	cr_assert(has(p, L4_UDP, "198.51.100.7", 61001));
	cr_assert_eq(pool4_set_fallback(p, NULL, 0), 0);
	cr_assert_not(has(p, L4_UDP, "198.51.100.7", 61001));
	pool4_destroy(p);
}

/* DESIGN "pool4 stores ranges": a /16 with all ports, three protocols. */
Test(pool4, slash16_all_ports_three_protocols_under_1mb)
{
	struct pool4 *p = new_pool();
	struct pool4_set_info info;

	for (int proto = 0; proto < L4_COUNT; proto++)
		add_ok(p, ent(0, (enum l4proto)proto, "100.64.0.0", 16, 1, 65535));
	cr_assert_lt(pool4_memory_bytes(p), 1024 * 1024);
	for (int proto = 0; proto < L4_COUNT; proto++) {
		cr_assert_eq(pool4_get_set_info(p, 0, (enum l4proto)proto, &info), 0);
		cr_assert_eq(info.taddr_count, 65536ull * 65535);
		cr_assert_eq(info.range_count, 1);
	}
	cr_assert(has(p, L4_ICMP, "100.64.255.255", 65535));
	cr_assert_not(has(p, L4_ICMP, "100.65.0.0", 1));
	pool4_destroy(p);
}

/* ---- Randomized differential test against a bitmap model ---- */

enum {
	M_MARKS = 2,
	M_ADDRS = 8,  /* 10.0.0.0 - 10.0.0.7 */
	M_PORTS = 64, /* 0 - 63 */
};

struct model {
	bool bit[M_MARKS][L4_COUNT][M_ADDRS][M_PORTS];
};

static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t
model_count(const struct model *m, int mark, int proto)
{
	uint32_t n = 0;

	for (int a = 0; a < M_ADDRS; a++)
		for (int port = 0; port < M_PORTS; port++)
			n += m->bit[mark][proto][a][port];
	return n;
}

/* Apply an operation to the model the way pool4 documents it. */
static int
model_apply(struct model *m, bool adding, const struct pool4_entry *e, int first, int naddr)
{
	int lo = e->port_min < e->port_max ? e->port_min : e->port_max;
	int hi = e->port_min < e->port_max ? e->port_max : e->port_min;
	int changed = 0;

	if (adding && e->proto != L4_ICMP) {
		if (hi == 0)
			return -EDOM;
		if (lo == 0)
			lo = 1;
	}
	for (int a = first; a < first + naddr; a++)
		for (int port = lo; port <= hi && port < M_PORTS; port++) {
			bool *b = &m->bit[e->mark][e->proto][a][port];

			changed += *b != adding;
			*b = adding;
		}
	if (!adding && !changed)
		return -ENOENT;
	return 0;
}

/* The stored form must be canonical (pool4.h). */
static void
assert_canonical(const struct pool4_set *s)
{
	uint32_t nr, nruns;
	const struct pool4_range *r = pool4_set_ranges(s, &nr);
	const struct pool4_run *runs = pool4_set_runs(s, &nruns);

	for (uint32_t i = 0; i < nruns; i++) {
		const struct pool4_run *run = &runs[i];

		cr_assert_leq(run->addr_first, run->addr_last);
		if (i > 0) {
			const struct pool4_run *prev = &runs[i - 1];

			cr_assert_lt(prev->addr_last, run->addr_first);
			if (prev->addr_last + 1 == run->addr_first && prev->count == run->count) {
				bool same = true;

				for (uint32_t k = 0; k < run->count; k++)
					same &= r[prev->first + k].port_min ==
							r[run->first + k].port_min &&
						r[prev->first + k].port_max ==
							r[run->first + k].port_max;
				cr_assert_not(same, "touching runs with equal ports not fused");
			}
		}
		for (uint32_t k = run->first; k < run->first + run->count; k++) {
			cr_assert_eq(r[k].addr_first, run->addr_first);
			cr_assert_eq(r[k].addr_last, run->addr_last);
			cr_assert_leq(r[k].port_min, r[k].port_max);
			if (k > run->first)
				cr_assert_lt(r[k - 1].port_max + 1, r[k].port_min);
		}
	}
}

static void
compare_with_model(const struct pool4 *p, const struct model *m)
{
	for (int proto = 0; proto < L4_COUNT; proto++) {
		for (int a = -1; a <= M_ADDRS; a++) {
			struct in_addr addr = {htonl(0x0A000000u + (uint32_t)a)};
			uint32_t ports = 0;

			for (int port = 0; port <= M_PORTS; port++) {
				bool want = false;
				struct taddr4 t = {addr, (uint16_t)port};

				for (int mark = 0;
				     a >= 0 && a < M_ADDRS && port < M_PORTS && mark < M_MARKS;
				     mark++)
					want |= m->bit[mark][proto][a][port];
				ports += want;
				cr_assert_eq(pool4_contains(p, (enum l4proto)proto, &t), want,
					     "proto %d addr %d port %d", proto, a, port);
			}
			cr_assert_eq(pool4_port_count(p, (enum l4proto)proto, addr), ports);
		}
		for (int mark = 0; mark < M_MARKS; mark++) {
			struct pool4_set_info info;
			uint32_t want = model_count(m, mark, proto);
			int err = pool4_get_set_info(p, (uint32_t)mark, (enum l4proto)proto, &info);

			cr_assert_eq(err, want ? 0 : -ENOENT);
			if (want) {
				cr_assert_eq(info.taddr_count, want);
				assert_canonical(
					pool4_find_set(p, (uint32_t)mark, (enum l4proto)proto));
			}
		}
	}
}

/* STYLE §5: tables get a randomized differential test against a naive model. */
Test(pool4, randomized_add_remove_matches_bitmap_model)
{
	struct pool4 *p = new_pool();
	struct model *m = calloc(1, sizeof(*m));
	uint64_t seed = 0x9E3779B97F4A7C15ull;

	cr_assert_not_null(m);
	for (int step = 0; step < 3000; step++) {
		uint8_t len = (uint8_t)(29 + rng_next(&seed) % 4);
		int naddr = 1 << (32 - len);
		int first = (int)(rng_next(&seed) % M_ADDRS) & ~(naddr - 1);
		struct pool4_entry e = {
			.mark = (uint32_t)(rng_next(&seed) % M_MARKS),
			.proto = (enum l4proto)(rng_next(&seed) % L4_COUNT),
			.prefix = {.addr.s_addr = htonl(0x0A000000u + (uint32_t)first), .len = len},
			.port_min = (uint16_t)(rng_next(&seed) % M_PORTS),
			.port_max = (uint16_t)(rng_next(&seed) % M_PORTS),
		};
		bool adding = rng_next(&seed) % 100 < 55;
		int want = model_apply(m, adding, &e, first, naddr);
		int got = adding ? pool4_add(p, &e, NULL) : pool4_remove(p, &e);

		cr_assert_eq(got, want, "step %d: got %d want %d", step, got, want);
		compare_with_model(p, m);
	}
	free(m);
	pool4_destroy(p);
}
