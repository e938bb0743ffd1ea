/*
 * Micro benchmark of the BIB and session tables (core/bib.c, session.c).
 * Not part of the default build:
 *
 *   cc -O2 -g -std=c17 -D_DEFAULT_SOURCE -Icore -o build/bench-tables bench/bench_tables.c \
 *       core/bib.c core/session.c core/tcp_state.c core/hashtab.c core/siphash.c
 *   build/bench-tables [sessions=1048576] [hosts=4096]
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 build/bench-tables   # with huge pages
 *
 * The tables allocate through malloc in chunks of about 2 MiB; with
 * transparent huge pages (THP "always", or glibc's hugetlb tunable where
 * THP is "madvise") random lookups take far fewer TLB misses. The bench
 * prints how much of its memory is on huge pages.
 *
 * Creates `sessions` UDP sessions, each with its own dynamic BIB entry (the
 * typical case: one session per BIB entry), spread over `hosts` IPv6
 * hosts, then prints:
 *   - bytes per session, from bib_memory() (pools, bitmaps, buckets);
 *   - sessions created per second;
 *   - ns per established lookup, 6->4 and 4->6, in random order (every
 *     lookup misses the CPU caches: the realistic case for 1M flows) and
 *     in creation order; and lookup + refresh;
 *   - sessions expired per second by one sweep;
 *   - bytes per session again with one host per session (the worst case
 *     for the per-host records).
 * The tuple of flow i is computed from i, so no tuple array pollutes the
 * caches; that arithmetic is included in the timings (a few ns).
 */
#include "bib.h"
#include "session.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint32_t n_hosts;

/* AnonHugePages of this process, in MiB (-1 if unknown). */
static long
huge_mib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A scrambled but reproducible remote IPv4 address for flow i. */
static uint32_t
remote_of(uint32_t i)
{
	return 0x0a000000u | ((i * 2654435761u) >> 8 & 0xffffff);
}

/* Flow i: host i % hosts, its own source port; mask 192.0.2.(i % 256)
 * port 1024 + i / 256, so both BIB keys are unique. */
static void
tuple_of(uint32_t i, struct session_tuple *t)
{
	uint32_t host = i % n_hosts;
	uint32_t remote = remote_of(i);

	memset(t, 0, sizeof(*t));
	t->proto = L4_UDP;
	t->src6.addr.s6_addr[0] = 0x20;
	t->src6.addr.s6_addr[1] = 0x01;
	t->src6.addr.s6_addr[2] = 0x0d;
	t->src6.addr.s6_addr[3] = 0xb8;
	t->src6.addr.s6_addr32[3] = htonl(host);
	t->src6.port = (uint16_t)(1024 + i / n_hosts % 64000);
	t->src6.addr.s6_addr32[2] = htonl(i / n_hosts / 64000);
	t->src4.addr.s_addr = htonl(0xc0000200u | (i & 0xff));
	t->src4.port = (uint16_t)(1024 + i / 256);
	t->dst4.addr.s_addr = htonl(remote);
	t->dst4.port = 443;
	t->dst6.addr.s6_addr[1] = 0x64;
	t->dst6.addr.s6_addr[2] = 0xff;
	t->dst6.addr.s6_addr[3] = 0x9b;
	t->dst6.addr.s6_addr32[3] = htonl(remote);
	t->dst6.port = 443;
}

static struct bib *
make_tables(uint32_t n)
{
	struct bib_config cfg;
	struct bib *db = malloc(sizeof(*db));

	bib_config_default(&cfg);
	cfg.key.k[0] = 0x0123456789abcdefULL;
	cfg.key.k[1] = 0xfedcba9876543210ULL;
	cfg.max_sessions = n;
	cfg.max_sessions_per_host = n;
	if (!db || bib_init(db, &cfg) != 0) {
		fprintf(stderr, "bib_init failed\n");
		exit(1);
	}
	return db;
}

static double
create_all(struct bib *db, uint32_t n)
{
	struct session_tuple t;
	uint64_t start = now_ns();

	for (uint32_t i = 0; i < n; i++) {
		tuple_of(i, &t);
		if (session_add(db, &t, TCPS_CLOSED, 1000, NULL) != 0) {
			fprintf(stderr, "session_add %u failed\n", i);
			exit(1);
		}
	}
	return (double)(now_ns() - start);
}

/* Random order: a permutation read sequentially (it stays cache-friendly). */
static uint32_t *
permutation(uint32_t n)
{
	uint32_t *p = malloc((size_t)n * sizeof(*p));
	uint64_t x = 88172645463325252ULL;

	for (uint32_t i = 0; i < n; i++)
		p[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (uint32_t)(x % (i + 1));
		uint32_t tmp = p[i];
		p[i] = p[j];
		p[j] = tmp;
	}
	return p;
}

enum mode { FIND6, FIND4, FIND6_REFRESH };

/* The CPU cost alone: the same 8 flows over and over, all in L1. */
static double
hot_lookups(struct bib *db, uint32_t n, enum mode mode)
{
	struct session_tuple t[8];
	uint64_t start, found = 0;

	for (uint32_t i = 0; i < 8; i++)
		tuple_of(i, &t[i]);
	start = now_ns();
	for (uint32_t k = 0; k < n; k++) {
		const struct session_tuple *x = &t[k & 7];

		if (mode == FIND4)
			found += session_find4(db, L4_UDP, &x->src4, &x->dst4) != NULL;
		else
			found += session_find6(db, L4_UDP, &x->src6, &x->dst4) != NULL;
	}
	if (found != n) {
		fprintf(stderr, "hot lookup found %llu of %u\n", (unsigned long long)found, n);
		exit(1);
	}
	return (double)(now_ns() - start) / n;
}

/* Bursts of SESSION_BURST lookups, as the pipeline would do. */
static double
burst_lookups(struct bib *db, const uint32_t *order, uint32_t n, enum mode mode)
{
	struct session_query q[SESSION_BURST];
	struct session *out[SESSION_BURST];
	struct session_tuple t;
	uint64_t start = now_ns(), found = 0;
	uint32_t done = n - n % SESSION_BURST;

	for (uint32_t k = 0; k < done; k += SESSION_BURST) {
		for (unsigned j = 0; j < SESSION_BURST; j++) {
			tuple_of(order ? order[k + j] : k + j, &t);
			q[j] = (struct session_query){
				.proto = t.proto,
				.src6 = t.src6,
				.src4 = mode == FIND4 ? t.dst4 : t.src4,
				.dst4 = mode == FIND4 ? t.src4 : t.dst4,
			};
		}
		if (mode == FIND4)
			session_find4_burst(db, q, SESSION_BURST, out);
		else
			session_find6_burst(db, q, SESSION_BURST, out);
		for (unsigned j = 0; j < SESSION_BURST; j++) {
			if (out[j] && mode == FIND6_REFRESH)
				session_refresh(db, out[j], 2000 + k / 1024);
			found += out[j] != NULL;
		}
	}
	if (found != done) {
		fprintf(stderr, "burst lookup found %llu of %u\n", (unsigned long long)found, done);
		exit(1);
	}
	return (double)(now_ns() - start) / done;
}

/*
 * Baselines measured in the same run, over an array as large as the
 * tables: one dependent random read (pointer chasing: a lookup makes
 * about three in a row), and independent random reads (what prefetching
 * can reach).
 */
static void
baselines(size_t bytes)
{
	size_t n = bytes / sizeof(uint64_t);
	uint64_t *a = malloc(n * sizeof(*a));
	uint64_t x = 88172645463325252ULL, sum = 0, start;
	size_t p = 0;
	enum { READS = 1 << 20 };

	/* Sattolo's shuffle: one cycle through every slot. */
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j, tmp;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % i);
		tmp = a[i];
		a[i] = a[j];
		a[j] = tmp;
	}
	start = now_ns();
	for (int k = 0; k < READS; k++)
		p = a[p];
	printf("baseline: dependent random read %.1f ns", (double)(now_ns() - start) / READS);
	start = now_ns();
	for (int k = 0; k < READS; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += a[x % n];
	}
	printf(", independent random read %.1f ns (%zu MB array)%s\n",
	       (double)(now_ns() - start) / READS, bytes >> 20, (p ^ sum) == 42 ? " " : "");
	free(a);
}

static double
lookups(struct bib *db, const uint32_t *order, uint32_t n, enum mode mode)
{
	struct session_tuple t;
	uint64_t start = now_ns(), found = 0;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = order ? order[k] : k;
		struct taddr4 dst;
		struct session *s;

		tuple_of(i, &t);
		dst = (struct taddr4){t.dst4.addr, t.dst6.port};
		if (mode == FIND4)
			s = session_find4(db, L4_UDP, &t.src4, &t.dst4);
		else
			s = session_find6(db, L4_UDP, &t.src6, &dst);
		if (s && mode == FIND6_REFRESH)
			session_refresh(db, s, 2000 + k / 1024);
		found += s != NULL;
	}
	if (found != n) {
		fprintf(stderr, "lookup found %llu of %u\n", (unsigned long long)found, n);
		exit(1);
	}
	return (double)(now_ns() - start) / n;
}

int
main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1u << 20;
	uint32_t *order;
	struct bib *db;
	double ns;
	unsigned removed;
	uint64_t start;

	n_hosts = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 4096;
	if (n < 256 || n_hosts == 0 || n > 16u << 20) {
		fprintf(stderr, "usage: bench-tables [sessions 256..16M] [hosts >= 1]\n");
		return 2;
	}
	db = make_tables(n);
	order = permutation(n);

	ns = create_all(db, n);
	printf("sessions: %u (one BIB entry each), hosts: %u\n", n, n_hosts);
	printf("memory: %.1f bytes/session (%zu bytes in all)\n", (double)bib_memory(db) / n,
	       bib_memory(db));
	printf("create: %.0f ns/session, %.2f M sessions/s\n", ns / n, n / ns * 1e3);
	printf("huge pages: %ld MiB of the process\n", huge_mib());
	printf("lookup 6->4 random: %.1f ns\n", lookups(db, order, n, FIND6));
	printf("lookup 4->6 random: %.1f ns\n", lookups(db, order, n, FIND4));
	printf("lookup 6->4 in creation order: %.1f ns\n", lookups(db, NULL, n, FIND6));
	printf("lookup 4->6 in creation order: %.1f ns\n", lookups(db, NULL, n, FIND4));
	printf("lookup 6->4 + refresh random: %.1f ns\n", lookups(db, order, n, FIND6_REFRESH));
	printf("burst lookup 6->4 random: %.1f ns\n", burst_lookups(db, order, n, FIND6));
	printf("burst lookup 4->6 random: %.1f ns\n", burst_lookups(db, order, n, FIND4));
	printf("burst lookup 6->4 + refresh random: %.1f ns\n",
	       burst_lookups(db, order, n, FIND6_REFRESH));
	printf("burst lookup 6->4 in creation order: %.1f ns\n", burst_lookups(db, NULL, n, FIND6));
	printf("lookup 6->4 hot (8 flows, cached): %.1f ns\n", hot_lookups(db, n, FIND6));
	printf("lookup 4->6 hot (8 flows, cached): %.1f ns\n", hot_lookups(db, n, FIND4));
	baselines(bib_memory(db));

	start = now_ns();
	removed = session_sweep(db, 1000000000, 0, NULL, NULL);
	ns = (double)(now_ns() - start);
	printf("sweep: %u expired, %.0f ns/session, %.2f M sessions/s\n", removed, ns / removed,
	       removed / ns * 1e3);
	bib_fini(db);
	free(db);

	n_hosts = n;
	db = make_tables(n);
	create_all(db, n);
	printf("memory, one host per session: %.1f bytes/session\n", (double)bib_memory(db) / n);
	bib_fini(db);
	free(db);
	free(order);
	return 0;
}
