/*
 * Port and address choice for new BIB entries: RFC 6056 §3.3.3 algorithm 3,
 * RFC 6146 §3.5.1.1 (port class and parity), RFC 4787 REQ-2 (paired
 * pooling), Jool's max-iterations (JOOL-REFERENCE §3.2).
 *
 * The BIB is played by a bitmap of taken taddrs (struct taken); each
 * successful choice is marked taken, as the BIB would do.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdlib.h>

#include "pool4.h"
#include "rfc6056.h"

static const struct siphash_key key1 = {.k = {0x0123456789abcdefULL, 0xfedcba9876543210ULL}};
static const struct siphash_key key2 = {.k = {0x1111111111111111ULL, 0x2222222222222222ULL}};

static struct in_addr
v4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a;
}

static struct taddr6
v6(const char *s, uint16_t port)
{
	struct taddr6 t = {.port = port};

	cr_assert_eq(inet_pton(AF_INET6, s, &t.addr), 1, "bad test address %s", s);
	return t;
}

/* IPv6 host number `n` of 2001:db8:2::/64. */
static struct taddr6
host6(uint32_t n, uint16_t port)
{
	struct taddr6 t = v6("2001:db8:2::", port);

	t.addr.s6_addr[12] = (uint8_t)(n >> 24);
	t.addr.s6_addr[13] = (uint8_t)(n >> 16);
	t.addr.s6_addr[14] = (uint8_t)(n >> 8);
	t.addr.s6_addr[15] = (uint8_t)n;
	return t;
}

/* Taken taddrs of `naddrs` addresses from `base`, every port. */
struct taken {
	uint32_t base; /* host order */
	uint32_t naddrs;
	uint8_t *bits;
	uint64_t calls;
};

static struct taken
taken_new(const char *base, uint32_t naddrs)
{
	struct taken t = {.base = ntohl(v4(base).s_addr), .naddrs = naddrs};

	t.bits = calloc(naddrs, 65536 / 8);
	cr_assert_not_null(t.bits);
	return t;
}

static size_t
taken_bit(const struct taken *t, const struct taddr4 *a)
{
	uint32_t off = ntohl(a->addr.s_addr) - t->base;

	cr_assert_lt(off, t->naddrs, "probe outside the pool");
	return (size_t)off * 65536 + a->port;
}

static void
taken_set(struct taken *t, const char *addr, uint16_t port)
{
	struct taddr4 a = {v4(addr), port};
	size_t b = taken_bit(t, &a);

	t->bits[b / 8] |= (uint8_t)(1u << (b % 8));
}

static bool
is_taken(void *ctx, const struct taddr4 *a)
{
	struct taken *t = ctx;
	size_t b = taken_bit(t, a);

	t->calls++;
	return t->bits[b / 8] & (1u << (b % 8));
}

static void
taken_free(struct taken *t)
{
	free(t->bits);
}

static struct pool4 *
pool_with(enum l4proto proto, const char *addr, uint8_t len, uint16_t lo, uint16_t hi,
	  const struct pool4_iterations *it)
{
	struct pool4 *p = pool4_create();
	struct pool4_entry e = {
		.proto = proto,
		.prefix = {.addr = v4(addr), .len = len},
		.port_min = lo,
		.port_max = hi,
	};

	cr_assert_not_null(p);
	cr_assert_eq(pool4_add(p, &e, it), 0);
	return p;
}

/* Choose for (src, dst) and, on success, take the result like the BIB. */
static enum stat_id
alloc(struct rfc6056 *r, const struct pool4_set *set, struct taken *t, const struct taddr6 *src,
      const struct taddr6 *dst, const struct in_addr *preferred, struct rfc6056_result *res)
{
	struct rfc6056_query q = {
		.src6 = src,
		.dst6 = dst,
		.preferred = preferred,
		.is_taken = is_taken,
		.ctx = t,
	};
	enum stat_id st = rfc6056_choose(r, set, &q, res);

	if (st == STAT_OK) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &res->taddr.addr, a, sizeof(a));
		cr_assert_not(is_taken(t, &res->taddr), "handed out a taken taddr");
		taken_set(t, a, res->taddr.port);
	}
	return st;
}

static struct taddr6
seed_dst(void)
{
	return v6("64:ff9b::192.0.2.10", 80);
}

Test(rfc6056, null_set_is_mark_not_found_and_changes_nothing)
{
	struct rfc6056 r;
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 src = host6(0x10, 1234), dst = seed_dst();
	struct rfc6056_result res = {.probes = 99};
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1, 65535, NULL);

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	cr_assert_eq(alloc(&r, NULL, &t, &src, &dst, NULL, &res), STAT_MARK_NOT_FOUND);
	cr_assert_eq(res.probes, 0);
	cr_assert_eq(t.calls, 0);
	cr_assert_eq(r.next_ephemeral, 0);
	/* Mark 1 has no set while TCP has entries: pool4_find_set says NULL. */
	cr_assert_eq(alloc(&r, pool4_find_set(p, 1, L4_TCP), &t, &src, &dst, NULL, &res),
		     STAT_MARK_NOT_FOUND);
	cr_assert_eq(t.calls, 0);
	pool4_destroy(p);
	taken_free(&t);
}

/* DESIGN seed: 2001:db8:2::10#1234 -> 64:ff9b::192.0.2.10#80 leaves as
 * 192.0.2.2#1234 (port preservation). */
Test(rfc6056, seed_first_host_keeps_source_port)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 src = v6("2001:db8:2::10", 1234), dst = seed_dst();
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.taddr.addr.s_addr, v4("192.0.2.2").s_addr);
	cr_assert_eq(res.taddr.port, 1234);
	cr_assert_eq(res.probes, 1);
	pool4_destroy(p);
	taken_free(&t);
}

/* DESIGN seed, second host: 1234 is taken, so another port of 192.0.2.2,
 * even like 1234 and in 1024-65535 (RFC 6146 §3.5.1.1). */
Test(rfc6056, seed_second_host_gets_other_port_same_parity_and_class)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 first = v6("2001:db8:2::10", 1234), second = v6("2001:db8:2::11", 1234);
	struct taddr6 dst = seed_dst();
	const struct pool4_set *set = pool4_find_set(p, 0, L4_TCP);
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	cr_assert_eq(alloc(&r, set, &t, &first, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.taddr.port, 1234);
	cr_assert_eq(alloc(&r, set, &t, &second, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.taddr.addr.s_addr, v4("192.0.2.2").s_addr);
	cr_assert_neq(res.taddr.port, 1234);
	cr_assert_eq(res.taddr.port % 2, 0);
	cr_assert_geq(res.taddr.port, 1024);
	pool4_destroy(p);
	taken_free(&t);
}

static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* RFC 6146 §3.5.1.1 / RFC 4787 REQ-3, REQ-4: class and parity kept while
 * the pool has room. Source ports are drawn from a few values so most
 * allocations cannot keep their port; 1000 allocations stay below the 511
 * even and 512 odd ports of 1-1023, so no fallback is legitimate. */
Test(rfc6056, parity_and_class_kept_over_random_allocations)
{
	struct pool4 *p = pool_with(L4_UDP, "192.0.2.2", 32, 1, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_UDP);
	uint16_t sports[] = {53, 80, 123, 1023, 1024, 1025, 5060, 5061, 40000, 65535};
	uint64_t seed = 42;
	unsigned moved = 0, low = 0;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	for (uint32_t i = 0; i < 1000; i++) {
		uint16_t sport = sports[rng(&seed) % 10];
		struct taddr6 src = host6(i, sport);
		struct taddr6 dst = v6("64:ff9b::203.0.113.1", (uint16_t)rng(&seed));
		struct rfc6056_result res;

		cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK);
		cr_assert_eq(res.taddr.port % 2, sport % 2, "parity lost: %u -> %u", sport,
			     res.taddr.port);
		cr_assert_eq(res.taddr.port < 1024, sport < 1024, "class lost: %u -> %u", sport,
			     res.taddr.port);
		moved += res.taddr.port != sport;
		low += sport < 1024;
	}
	cr_assert_gt(moved, 950);
	cr_assert_gt(low, 300);
	pool4_destroy(p);
	taken_free(&t);
}

/*
 * RFC 6146 §3.5.1.1 fallbacks, in our order: same class and parity, same
 * class other parity, other class same parity, other class other parity,
 * then exhaustion. Pool: 1020-1023 and 2000-2003; source port 1022.
 */
Test(rfc6056, fallback_order_parity_then_class_then_exhausted)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1020, 1023, NULL);
	struct pool4_entry high = {
		.proto = L4_TCP,
		.prefix = {.addr = v4("192.0.2.2"), .len = 32},
		.port_min = 2000,
		.port_max = 2003,
	};
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 dst = seed_dst();
	const struct pool4_set *set;
	uint16_t got[8];
	struct rfc6056_result res;
	struct rfc6056 r;

	cr_assert_eq(pool4_add(p, &high, NULL), 0);
	set = pool4_find_set(p, 0, L4_TCP);
	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	for (uint32_t i = 0; i < 8; i++) {
		struct taddr6 src = host6(i, 1022);

		cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK, "alloc %u", i);
		got[i] = res.taddr.port;
	}
	cr_assert_eq(got[0], 1022);
	cr_assert_eq(got[1], 1020);
	cr_assert(got[2] == 1021 || got[2] == 1023);
	cr_assert(got[3] == 1021 || got[3] == 1023);
	cr_assert(got[4] == 2000 || got[4] == 2002);
	cr_assert(got[5] == 2000 || got[5] == 2002);
	cr_assert(got[6] == 2001 || got[6] == 2003);
	cr_assert(got[7] == 2001 || got[7] == 2003);
	struct taddr6 src = host6(99, 1022);
	cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_POOL4_EXHAUSTED);
	cr_assert_not(res.max_iterations_reached);
	cr_assert_eq(res.probes, 8, "each taddr probed once");
	pool4_destroy(p);
	taken_free(&t);
}

/* Well-known source ports stay well-known while 0-1023 has room. */
Test(rfc6056, well_known_port_stays_below_1024)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_TCP);
	struct taddr6 dst = seed_dst();
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	for (uint32_t i = 0; i < 500; i++) {
		struct taddr6 src = host6(i, 80);
		struct rfc6056_result res;

		cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK);
		cr_assert_lt(res.taddr.port, 1024);
		cr_assert_eq(res.taddr.port % 2, 0);
	}
	pool4_destroy(p);
	taken_free(&t);
}

/* ICMP identifiers have no well-known range: the whole range is used. */
Test(rfc6056, icmp_identifier_has_no_port_class)
{
	struct pool4 *p = pool_with(L4_ICMP, "192.0.2.2", 32, 0, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_ICMP);
	struct taddr6 dst = v6("64:ff9b::192.0.2.10", 0);
	unsigned high = 0;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	taken_set(&t, "192.0.2.2", 5);
	for (uint32_t i = 0; i < 32; i++) {
		struct taddr6 src = host6(i, 5);
		struct rfc6056_result res;

		dst.port = (uint16_t)i;
		cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK);
		cr_assert_eq(res.taddr.port % 2, 1);
		high += res.taddr.port >= 1024;
	}
	cr_assert_gt(high, 16);
	pool4_destroy(p);
	taken_free(&t);
}

Test(rfc6056, one_port_pool_second_allocation_exhausted)
{
	struct pool4 *p = pool_with(L4_UDP, "192.0.2.2", 32, 5000, 5000, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_UDP);
	struct taddr6 a = host6(1, 1234), b = host6(2, 1234), dst = seed_dst();
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	cr_assert_eq(alloc(&r, set, &t, &a, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.taddr.port, 5000);
	cr_assert_eq(alloc(&r, set, &t, &b, &dst, NULL, &res), STAT_POOL4_EXHAUSTED);
	cr_assert_not(res.max_iterations_reached);
	cr_assert_eq(res.probes, 1);
	pool4_destroy(p);
	taken_free(&t);
}

static void
take_all(struct taken *t)
{
	memset(t->bits, 0xff, (size_t)t->naddrs * 65536 / 8);
}

/* JOOL-REFERENCE §3.2: the walk stops after max-iterations probes. */
Test(rfc6056, max_iterations_fixed_stops_the_walk)
{
	struct pool4_iterations ten = {POOL4_ITER_FIXED, 10};
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1024, 2047, &ten);
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 src = host6(1, 1500), dst = seed_dst();
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	take_all(&t);
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, NULL, &res),
		     STAT_POOL4_EXHAUSTED);
	cr_assert(res.max_iterations_reached);
	cr_assert_eq(res.probes, 10);
	cr_assert_eq(t.calls, 10);
	pool4_destroy(p);
	taken_free(&t);
}

Test(rfc6056, max_iterations_infinity_walks_the_whole_set)
{
	struct pool4_iterations inf = {POOL4_ITER_INFINITY, 0};
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 31, 1024, 2047, &inf);
	struct taken t = taken_new("192.0.2.2", 2);
	struct taddr6 src = host6(1, 1500), dst = seed_dst();
	struct in_addr preferred = v4("192.0.2.3");
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	take_all(&t);
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, NULL, &res),
		     STAT_POOL4_EXHAUSTED);
	cr_assert_not(res.max_iterations_reached);
	cr_assert_eq(res.probes, 2 * 1024);
	/* The preferred address, once found full, is not walked again. */
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, &preferred, &res),
		     STAT_POOL4_EXHAUSTED);
	cr_assert_eq(res.probes, 2 * 1024, "every taddr exactly once");
	pool4_destroy(p);
	taken_free(&t);
}

/* auto on 65535 taddrs is 1024 probes. */
Test(rfc6056, max_iterations_auto_bounds_a_full_address)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 src = host6(1, 1500), dst = seed_dst();
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	take_all(&t);
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, NULL, &res),
		     STAT_POOL4_EXHAUSTED);
	cr_assert(res.max_iterations_reached);
	cr_assert_eq(res.probes, 1024);
	pool4_destroy(p);
	taken_free(&t);
}

/*
 * RFC 4787 REQ-2: one IPv6 host stays on the address it already uses while
 * that address has ports. The preferred address is deliberately not the
 * one the host's hash would pick, so only the preferred rule keeps it there;
 * once it is full, the hash pick takes over.
 */
Test(rfc6056, paired_pooling_keeps_host_on_its_address_until_full)
{
	struct pool4 *p = pool_with(L4_UDP, "192.0.2.16", 28, 1024, 1063, NULL);
	struct taken t = taken_new("192.0.2.16", 16);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_UDP);
	struct taddr6 dst = v6("64:ff9b::203.0.113.9", 53);
	struct taddr6 src = host6(0x77, 40000);
	struct rfc6056_result res;
	struct in_addr hashed, mine;
	uint64_t seed = 7;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK);
	hashed = res.taddr.addr;
	mine.s_addr = hashed.s_addr ^ htonl(1); /* its neighbour, inside the /28 */
	for (int i = 0; i < 40; i++) {
		src.port = (uint16_t)(1024 + rng(&seed) % 60000);
		dst.port = (uint16_t)rng(&seed);
		cr_assert_eq(alloc(&r, set, &t, &src, &dst, &mine, &res), STAT_OK);
		cr_assert_eq(res.taddr.addr.s_addr, mine.s_addr, "allocation %d moved", i);
	}
	/* All 40 ports of the preferred address are taken now: it has to move. */
	cr_assert_eq(alloc(&r, set, &t, &src, &dst, &mine, &res), STAT_OK);
	cr_assert_eq(res.taddr.addr.s_addr, hashed.s_addr);
	pool4_destroy(p);
	taken_free(&t);
}

/*
 * Budget sharing (rfc6056.c): a full preferred address must not eat the
 * whole max-iterations budget (here auto = 1024 < its 64512 ports), or the
 * host could never get another mapping.
 */
Test(rfc6056, full_preferred_address_does_not_block_the_host)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 31, 1024, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 2);
	struct taddr6 src = host6(5, 40000), dst = seed_dst();
	struct in_addr full = v4("192.0.2.2");
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	memset(t.bits, 0xff, 65536 / 8); /* every port of 192.0.2.2 */
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, &full, &res), STAT_OK);
	cr_assert_eq(res.taddr.addr.s_addr, v4("192.0.2.3").s_addr);
	cr_assert_leq(res.probes, 1024);
	pool4_destroy(p);
	taken_free(&t);
}

/* Budget sharing: a full parity lane (Linux connect()s from even ports)
 * leaves budget for the other parity of the same address. */
Test(rfc6056, full_parity_lane_leaves_budget_for_the_other_parity)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1024, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 src = host6(5, 40000), dst = seed_dst();
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	for (uint32_t port = 1024; port <= 65534; port += 2)
		taken_set(&t, "192.0.2.2", (uint16_t)port);
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.taddr.port % 2, 1);
	cr_assert_leq(res.probes, 1024);
	pool4_destroy(p);
	taken_free(&t);
}

/* Without a preferred address, the host's hash picks it: other hosts
 * spread over the pool, one host always gets the same one. */
Test(rfc6056, address_hash_spreads_hosts_and_is_stable_per_host)
{
	struct pool4 *p = pool_with(L4_UDP, "192.0.2.16", 28, 1024, 65535, NULL);
	struct taken t = taken_new("192.0.2.16", 16);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_UDP);
	struct taddr6 dst = v6("64:ff9b::203.0.113.9", 53);
	bool used[16] = {false};
	unsigned distinct = 0;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	for (uint32_t h = 0; h < 32; h++) {
		struct taddr6 src = host6(h, 5000);
		struct rfc6056_result a, b;

		cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &a), STAT_OK);
		src.port = 6001;
		dst.port = (uint16_t)(h + 1000);
		cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &b), STAT_OK);
		cr_assert_eq(a.taddr.addr.s_addr, b.taddr.addr.s_addr);
		uint32_t i = ntohl(a.taddr.addr.s_addr) - ntohl(v4("192.0.2.16").s_addr);
		distinct += !used[i];
		used[i] = true;
	}
	cr_assert_geq(distinct, 8, "32 hosts on only %u of 16 addresses", distinct);
	pool4_destroy(p);
	taken_free(&t);
}

Test(rfc6056, preferred_address_outside_the_set_is_ignored)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	struct taddr6 src = host6(1, 1234), dst = seed_dst();
	struct in_addr elsewhere = v4("198.51.100.1");
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_TCP), &t, &src, &dst, &elsewhere, &res),
		     STAT_OK);
	cr_assert_eq(res.taddr.addr.s_addr, v4("192.0.2.2").s_addr);
	pool4_destroy(p);
	taken_free(&t);
}

/* Choose once with a fresh state; the source port is taken so algorithm 3
 * decides. */
static struct taddr4
choose_fresh(const struct siphash_key *key, const struct pool4_set *set, struct taddr6 src,
	     struct taddr6 dst)
{
	struct taken t = taken_new("192.0.2.0", 4);
	struct rfc6056_result res;
	struct rfc6056 r;

	rfc6056_init(&r, key, RFC6056_F_DEFAULT);
	for (int a = 0; a < 4; a++) {
		struct taddr4 x = {{htonl(t.base + (uint32_t)a)}, src.port};
		size_t b = taken_bit(&t, &x);

		t.bits[b / 8] |= (uint8_t)(1u << (b % 8));
	}
	cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK);
	taken_free(&t);
	return res.taddr;
}

Test(rfc6056, same_key_same_choice_other_key_other_offset)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.0", 30, 1, 65535, NULL);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_TCP);
	unsigned same_port = 0;

	for (uint16_t i = 0; i < 64; i++) {
		struct taddr6 src = host6(i, 2000), dst = v6("64:ff9b::198.51.100.1", i);
		struct taddr4 a = choose_fresh(&key1, set, src, dst);
		struct taddr4 b = choose_fresh(&key1, set, src, dst);
		struct taddr4 c = choose_fresh(&key2, set, src, dst);
		struct rfc6056 r1, r2;

		cr_assert(taddr4_equal(&a, &b), "same key, different result");
		same_port += a.port == c.port;
		rfc6056_init(&r1, &key1, RFC6056_F_DEFAULT);
		rfc6056_init(&r2, &key2, RFC6056_F_DEFAULT);
		cr_assert_neq(rfc6056_offset(&r1, &src, &dst), rfc6056_offset(&r2, &src, &dst));
	}
	/* 32256 even ports in 1024-65535: a few equal ports would be chance. */
	cr_assert_leq(same_port, 2);
	pool4_destroy(p);
}

/* JOOL-REFERENCE §2 f-args: default 0b1011 leaves the source port out. */
Test(rfc6056, f_args_select_the_hashed_fields)
{
	struct taddr6 s1 = host6(1, 1000), s2 = host6(1, 1001), s3 = host6(2, 1000);
	struct taddr6 d1 = v6("64:ff9b::192.0.2.10", 80), d2 = v6("64:ff9b::192.0.2.10", 81);
	struct rfc6056 def, all, dst_only;

	rfc6056_init(&def, &key1, RFC6056_F_DEFAULT);
	rfc6056_init(&all, &key1, RFC6056_F_MASK);
	rfc6056_init(&dst_only, &key1, RFC6056_F_DST_ADDR);
	cr_assert_eq(rfc6056_offset(&def, &s1, &d1), rfc6056_offset(&def, &s2, &d1));
	cr_assert_neq(rfc6056_offset(&def, &s1, &d1), rfc6056_offset(&def, &s3, &d1));
	cr_assert_neq(rfc6056_offset(&def, &s1, &d1), rfc6056_offset(&def, &s1, &d2));
	cr_assert_neq(rfc6056_offset(&all, &s1, &d1), rfc6056_offset(&all, &s2, &d1));
	cr_assert_eq(rfc6056_offset(&dst_only, &s1, &d1), rfc6056_offset(&dst_only, &s3, &d2));
	cr_assert_eq(all.f_args, 0xF);
	rfc6056_init(&all, &key1, 0xFF);
	cr_assert_eq(all.f_args, 0xF, "bits above f-args are dropped");
}

/* RFC 6056 §3.3.3: next_ephemeral moves the start by the ports tried, so
 * the same flow tuple does not re-probe the port it got last time. */
Test(rfc6056, next_ephemeral_skips_the_last_choice_of_the_same_tuple)
{
	struct pool4 *p = pool_with(L4_TCP, "192.0.2.2", 32, 1024, 65535, NULL);
	struct taken t = taken_new("192.0.2.2", 1);
	const struct pool4_set *set = pool4_find_set(p, 0, L4_TCP);
	struct taddr6 src = host6(1, 3000), dst = seed_dst();
	struct rfc6056_result res;
	struct rfc6056 r;
	uint16_t first;

	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	taken_set(&t, "192.0.2.2", 3000);
	cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.probes, 2); /* 3000, then the offset's port */
	cr_assert_eq(r.next_ephemeral, 1);
	first = res.taddr.port;
	cr_assert_eq(alloc(&r, set, &t, &src, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.probes, 2, "the taken port was probed again");
	cr_assert_neq(res.taddr.port, first);
	cr_assert_eq(r.next_ephemeral, 2);
	pool4_destroy(p);
	taken_free(&t);
}

/* JOOL-REFERENCE §3.1: empty pool4 masks behind the node's addresses. */
Test(rfc6056, fallback_set_uses_node_addresses_and_high_ports)
{
	struct pool4 *p = pool4_create();
	struct in_addr node = v4("198.51.100.7");
	struct taken t = taken_new("198.51.100.7", 1);
	struct taddr6 src = host6(1, 1234), dst = seed_dst();
	struct rfc6056_result res;
	struct rfc6056 r;

	cr_assert_not_null(p);
	cr_assert_eq(pool4_set_fallback(p, &node, 1), 0);
	rfc6056_init(&r, &key1, RFC6056_F_DEFAULT);
	cr_assert_eq(alloc(&r, pool4_find_set(p, 0, L4_UDP), &t, &src, &dst, NULL, &res), STAT_OK);
	cr_assert_eq(res.taddr.addr.s_addr, node.s_addr);
	cr_assert_geq(res.taddr.port, 61001);
	cr_assert_eq(res.taddr.port % 2, 0);
	pool4_destroy(p);
	taken_free(&t);
}
