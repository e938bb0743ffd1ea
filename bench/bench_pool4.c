/*
 * pool4 memory and speed check (not part of the default build, never a
 * pass/fail test: timings depend on the machine).
 *
 * Build and run from the repository root:
 *   make build/libcore.a
 *   cc -O2 -std=c17 -D_DEFAULT_SOURCE -Icore -o build/bench-pool4 \
 *       bench/bench_pool4.c build/libcore.a && build/bench-pool4
 * or without the library (only pool4 and its dependencies):
 *   cc -O2 -std=c17 -D_DEFAULT_SOURCE -Icore -o build/bench-pool4 bench/bench_pool4.c \
 *       core/pool4.c core/rfc6056.c core/siphash.c core/stats.c
 *
 * Prints, for the target (a /16 with ports 1-65535 for TCP, UDP and
 * ICMP: under 50 ms and under 1 MB), the add time and pool4_memory_bytes();
 * then lookup and port-choice costs, an address list added one address at
 * a time, and a fragmented worst case (separate items added one by one:
 * each change rebuilds the set's array, O(items)).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pool4.h"
#include "rfc6056.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
add_or_die(struct pool4 *p, enum l4proto proto, uint32_t addr, uint8_t len, uint16_t lo,
	   uint16_t hi)
{
	struct pool4_entry e = {
		.proto = proto,
		.prefix = {.addr.s_addr = htonl(addr), .len = len},
		.port_min = lo,
		.port_max = hi,
	};
	int err = pool4_add(p, &e, NULL);

	if (err) {
		fprintf(stderr, "pool4_add: %s\n", pool4_strerror(err));
		exit(1);
	}
}

static uint64_t
rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The /16 target of the issue. */
static struct pool4 *
bench_slash16(void)
{
	struct pool4 *p = pool4_create();
	double t0, t1;

	if (!p)
		exit(1);
	t0 = now_ms();
	for (int proto = 0; proto < L4_COUNT; proto++)
		add_or_die(p, (enum l4proto)proto, 0x64400000u, 16, 1, 65535);
	t1 = now_ms();
	printf("add 100.64.0.0/16 ports 1-65535, TCP+UDP+ICMP: %.3f ms, %zu bytes "
	       "(target < 50 ms, < 1048576 bytes)\n",
	       t1 - t0, pool4_memory_bytes(p));
	return p;
}

static void
bench_contains(const struct pool4 *p)
{
	enum { N = 10 * 1000 * 1000 };
	uint64_t seed = 1, hits = 0;
	double t0 = now_ms(), t1;

	for (int i = 0; i < N; i++) {
		uint64_t x = rng(&seed);
		struct taddr4 t = {.addr.s_addr = htonl(0x64400000u ^ (uint32_t)(x & 0x1FFFF)),
				   .port = (uint16_t)(x >> 32)};

		hits += pool4_contains(p, L4_UDP, &t);
	}
	t1 = now_ms();
	printf("pool4_contains: %.1f ns per lookup (%llu hits of %d)\n", (t1 - t0) * 1e6 / N,
	       (unsigned long long)hits, N);
}

/* A BIB stand-in: every even taddr of the first 256 addresses is taken. */
static bool
half_taken(void *ctx, const struct taddr4 *t)
{
	(void)ctx;
	return (ntohl(t->addr.s_addr) & 0xFF00) == 0 && t->port % 2 == 0;
}

static void
bench_choose(const struct pool4 *p)
{
	enum { N = 1000 * 1000 };
	const struct siphash_key key = {.k = {1, 2}};
	const struct pool4_set *set = pool4_find_set(p, 0, L4_TCP);
	struct taddr6 src = {.port = 40000}, dst = {.port = 443};
	struct rfc6056_query q = {.src6 = &src, .dst6 = &dst, .is_taken = half_taken};
	uint64_t probes = 0;
	struct rfc6056 r;
	double t0, t1;

	rfc6056_init(&r, &key, RFC6056_F_DEFAULT);
	t0 = now_ms();
	for (uint32_t i = 0; i < N; i++) {
		struct rfc6056_result res;

		memcpy(&src.addr.s6_addr[12], &i, sizeof(i));
		if (rfc6056_choose(&r, set, &q, &res) != STAT_OK)
			exit(1);
		probes += res.probes;
	}
	t1 = now_ms();
	printf("rfc6056_choose (even ports of 256 addresses taken): %.1f ns per choice, "
	       "%.2f probes on average\n",
	       (t1 - t0) * 1e6 / N, (double)probes / N);
}

/* Worst case for the array layout: many separate items, added one by one. */
static void
bench_fragmented(void)
{
	enum { N = 4096 };
	struct pool4 *p = pool4_create();
	double t0, t1;

	if (!p)
		exit(1);
	t0 = now_ms();
	for (uint32_t i = 0; i < N; i++)
		add_or_die(p, L4_TCP, 0x0A000000u + 2 * i, 32, 1, 65535);
	t1 = now_ms();
	printf("add %d separate /32s one by one (%d items): %.1f ms, %zu bytes\n", N, N, t1 - t0,
	       pool4_memory_bytes(p));
	pool4_destroy(p);
}

/* An address list given one address at a time: neighbours fuse. */
static void
bench_address_list(void)
{
	struct pool4 *p = pool4_create();
	double t0, t1;

	if (!p)
		exit(1);
	t0 = now_ms();
	for (uint32_t i = 0; i < 65536; i++)
		add_or_die(p, L4_UDP, 0x64400000u + i, 32, 1, 65535);
	t1 = now_ms();
	printf("add the /16 as 65536 /32s one by one: %.1f ms, %zu bytes\n", t1 - t0,
	       pool4_memory_bytes(p));
	pool4_destroy(p);
}

int
main(void)
{
	struct pool4 *p = bench_slash16();

	bench_contains(p);
	bench_choose(p);
	pool4_destroy(p);
	bench_address_list();
	bench_fragmented();
	return 0;
}
