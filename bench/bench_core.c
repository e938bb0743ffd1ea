/*
 * Core benchmark (`make bench-core`): the whole engine (core/nat64.h), one
 * thread, packets in memory, no TUN device and no system call in the loop.
 *
 *   make bench-core                              # 1M UDP + 1M TCP flows
 *   make bench-core BENCH_ARGS="-f 262144 -r 3"  # smaller, quicker
 *   build/bench-core -h                          # every option
 *
 * What it measures, with the targets beside the figures:
 *   - new sessions/s: the first packet of every flow (UDP, then TCP SYN),
 *     from empty tables to `flows` sessions per protocol;
 *   - bytes per session: the RSS growth of the process across that fill,
 *     and bib_memory(), both divided by the sessions (BIB share included:
 *     one BIB entry per session here, the common case);
 *   - established flows: UDP 6->4, UDP 4->6 (the server's replies) and TCP
 *     6->4 (an ACK of an ESTABLISHED flow), in random order over all the
 *     flows (every packet a cache miss: the worst case), over a hot
 *     working set (`-w`, default 1000 flows out of the 1M: a busy
 *     translator's common case), and over 16 flows that stay in L1 (the
 *     engine's CPU cost alone, without memory stalls).
 *
 * Fairness: translation is in place, so every packet starts as a fresh
 * copy of its input into the working buffer, as a read() from the TUN
 * device would leave it. The baseline is that memcpy alone over the same
 * packets, measured in the same run; the table shows both, their
 * difference (the engine's own cost) and the ratio. Input packets are laid
 * out in arrival order (a receive ring), so the copy reads sequential
 * memory while the flows come in random order.
 *
 * Time: CLOCK_MONOTONIC around each pass (-c: the thread's CPU time); the
 * header says which share of the wall time the thread was on a CPU, so a
 * busy machine shows. Every figure is the median of `-r` passes; new
 * sessions/s the median of 3 fills, each on a new engine; memory comes from
 * the first fill, in a fresh process. The engine's clock (`now`, ms)
 * advances by 1 ms every 4096 packets; nat64_tick() runs between passes.
 *
 * Two more figures, against the performance issue's goals:
 *   - resident memory with 1M sessions (512K UDP + 512K TCP, one BIB entry
 *     each): VmRSS of a forked child that holds only an engine and those
 *     sessions, like the daemon would (goal: under 300 MB);
 *   - scaling: engines on threads, one per worker as the daemon runs one
 *     per TUN queue, each with its own flows (`-f`/4 UDP flows) and no
 *     shared state; UDP 6->4 established packets in random order,
 *     aggregate packets/s of 2 threads over 1 (goal: at least 1.7x).
 */
#define _GNU_SOURCE /* CPU_SET, pthread_setaffinity_np */
#include "checksum.h"
#include "nat64.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Under valgrind --tool=callgrind, every run_engine() pass is dumped on its
 * own (bench/callgrind_core.sh turns the dumps into instructions per
 * packet); outside valgrind these are a few no-op instructions. */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

enum {
	DEFAULT_FLOWS = 1 << 20, /* per protocol */
	DEFAULT_HOSTS = 4096,
	DEFAULT_PAYLOAD = 64,
	DEFAULT_REPEATS = 5,
	DEFAULT_HOT = 1000,
	FILL_REPEATS = 3,
	MAX_PAYLOAD = 1400,
	SERVER_PORT = 443,
	PKTS_PER_MS = 4096, /* the engine clock's pace */
	WORK_SIZE = 2048,
	/* RFC 6056 §3.2: ephemeral ports 32768-60999, as Linux picks them. */
	EPHEMERAL_MIN = 32768,
	EPHEMERAL_COUNT = 28232,
};

/* Targets of the issue. */
#define TARGET_MPPS     5.0
#define TARGET_NEW_MSPS 1.0
#define TARGET_BYTES    192.0
#define TARGET_RSS_MB   300.0 /* resident size with 1M sessions */
#define TARGET_SCALING  1.7   /* 2 workers over 1 */

enum kind {
	K_UDP6,        /* IPv6 client -> server */
	K_UDP4,        /* IPv4 server -> mask (reply) */
	K_TCP6_SYN,    /* creates the TCP session: V6_INIT */
	K_TCP4_SYNACK, /* V6_INIT -> ESTABLISHED */
	K_TCP6_ACK,    /* established data path */
};

/* Input packets in arrival order, one every `stride` bytes, all `len` long. */
struct ring {
	uint8_t *mem;
	uint32_t count;
	uint32_t stride;
	uint32_t len;
};

/* One flow as its IPv6 client sees it. */
struct flow {
	struct in6_addr src6;
	struct in6_addr dst6;
	struct in_addr server;
	uint16_t sport;
};

struct pass {
	uint64_t wall, cpu; /* ns at the start */
};

struct bench {
	uint32_t flows; /* per protocol */
	uint32_t hosts;
	uint32_t payload;
	uint32_t repeats;
	uint32_t hot;
	uint32_t host_base;      /* first host number: engines of a scaling run differ */
	struct port_share share; /* the engine's worker index and count */
	bool cpu_time;           /* -c: report thread CPU time, not wall time */
	bool profile;            /* -P: skip the 1M memory child and scaling */
	bool no_scaling;         /* -S: skip scaling */
	const char *phase;       /* what run_engine() passes are doing now */
	uint64_t wall_total;     /* ns over every timed pass */
	uint64_t cpu_total;
	struct nat64 *nat;
	uint64_t now;                  /* engine clock, ms */
	uint32_t *order;               /* arrival order of the random passes */
	uint32_t *hot_flows;           /* the hot working set */
	struct taddr4 *mask[L4_COUNT]; /* per flow: the engine's choice */
	struct taddr4 *arrival;        /* the same, in arrival order */
	enum stat_id last_drop;
	uint8_t work[WORK_SIZE] __attribute__((aligned(64)));
	uint8_t reply[NAT64_REPLY_MAX];
};

static void
die(const char *what)
{
	fprintf(stderr, "bench-core: %s\n", what);
	exit(1);
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A pass is timed on both clocks: the wall clock is the figure (or the
 * thread's CPU time with -c), their ratio tells whether the machine let
 * the bench have its core. */
static void
pass_start(struct pass *t)
{
	t->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	t->wall = clock_ns(CLOCK_MONOTONIC);
}

/* ns per packet of the pass. */
static double
pass_stop(struct bench *b, const struct pass *t, uint32_t n)
{
	uint64_t wall = clock_ns(CLOCK_MONOTONIC) - t->wall;
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t->cpu;

	b->wall_total += wall;
	b->cpu_total += cpu;
	return (double)(b->cpu_time ? cpu : wall) / n;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("out of memory");
	return p;
}

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Fisher-Yates over 0..n-1 from seed `seed`. */
static uint32_t *
permutation(uint32_t n, uint64_t seed)
{
	uint32_t *p = xmalloc((size_t)n * sizeof(*p));

	for (uint32_t i = 0; i < n; i++)
		p[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(xorshift(&seed) % (i + 1));
		uint32_t t = p[i];

		p[i] = p[j];
		p[j] = t;
	}
	return p;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- /proc (the bench may read it; core/ never does) ---- */

static size_t
rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
		die("can't read /proc/self/statm");
	fclose(f);
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* AnonHugePages of the process in MiB, -1 when unknown. */
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

static void
read_line(const char *path, const char *prefix, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[256];

	snprintf(out, len, "?");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(out, len, "%s", line + strlen(prefix));
		break;
	}
	if (f)
		fclose(f);
}

/* ---- Flows and packets ---- */

/* Flow i: IPv6 host 2001:db8:H::1 (H = i % hosts, 32 bits over two
 * groups), an ephemeral source port unique within the host, one of 256
 * servers 203.0.113.x port 443 behind pool6 64:ff9b::/96. */
/*
 * Flow j of `host`: its ephemeral port, one-to-one in j within a host (109
 * is prime to 28232 and to 14116). An engine of a scaling run gets ports of
 * its own share only (core/port_share.h: pairs of ports dealt round the
 * workers), as the daemon's steering gives each worker the IPv6 flows whose
 * source port it owns; other ports would be handed off.
 */
static uint16_t
sport_of(const struct bench *b, uint32_t host, uint32_t j)
{
	uint32_t workers = b->share.count > 1 ? b->share.count : 1;
	uint32_t n = (j * 109u + host * 7919u) % (EPHEMERAL_COUNT / workers);
	uint32_t pair = n / 2 * workers + (workers > 1 ? b->share.index : 0);

	return (uint16_t)(EPHEMERAL_MIN + pair * 2 + n % 2);
}

static void
flow_get(const struct bench *b, uint32_t i, struct flow *f)
{
	uint32_t host = i % b->hosts + b->host_base, j = i / b->hosts;
	uint32_t server = 0xcb007100u | ((host * 31 + j) & 0xff);

	memset(f, 0, sizeof(*f));
	f->src6.s6_addr[0] = 0x20;
	f->src6.s6_addr[1] = 0x01;
	f->src6.s6_addr[2] = 0x0d;
	f->src6.s6_addr[3] = 0xb8;
	f->src6.s6_addr32[1] = htonl(host);
	f->src6.s6_addr[15] = 1;
	f->server.s_addr = htonl(server);
	f->dst6.s6_addr[1] = 0x64;
	f->dst6.s6_addr[2] = 0xff;
	f->dst6.s6_addr[3] = 0x9b;
	f->dst6.s6_addr32[3] = f->server.s_addr;
	f->sport = sport_of(b, host, j);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
ip6_header(uint8_t *h, const struct in6_addr *src, const struct in6_addr *dst, uint8_t proto,
	   uint32_t l4len)
{
	memset(h, 0, 8);
	h[0] = 0x60;
	put16(h + 4, (uint16_t)l4len);
	h[6] = proto;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
}

static void
ip4_header(uint8_t *h, struct in_addr src, struct in_addr dst, uint8_t proto, uint32_t l4len,
	   uint16_t id)
{
	uint16_t sum;

	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, (uint16_t)(20 + l4len));
	put16(h + 4, id);
	put16(h + 6, 0x4000); /* DF, as most IPv4 stacks send */
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, &src, 4);
	memcpy(h + 16, &dst, 4);
	sum = csum_ipv4_header(h, 20);
	memcpy(h + 10, &sum, 2);
}

/* UDP or TCP header (no options) + payload, checksum left 0. */
static uint32_t
l4_build(uint8_t *l4, bool tcp, uint16_t sport, uint16_t dport, uint32_t payload, uint8_t flags,
	 uint32_t seq, uint32_t ack)
{
	uint32_t hlen = tcp ? 20 : 8, len = hlen + payload;

	memset(l4, 0, hlen);
	put16(l4, sport);
	put16(l4 + 2, dport);
	if (tcp) {
		put32(l4 + 4, seq);
		put32(l4 + 8, ack);
		l4[12] = 5 << 4;
		l4[13] = flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)len);
	}
	for (uint32_t i = 0; i < payload; i++)
		l4[hlen + i] = (uint8_t)(i * 7 + 1);
	return len;
}

static void
l4_checksum(uint8_t *l4, bool tcp, uint32_t len, uint32_t pseudo)
{
	uint16_t sum = csum_fold(csum_partial(l4, len, pseudo));

	if (!tcp && sum == 0)
		sum = 0xffff; /* RFC 768: 0 means "no checksum" */
	memcpy(l4 + (tcp ? 16 : 6), &sum, 2);
}

/* Initial sequence numbers of flow i, client and server side. */
static uint32_t
isn(uint32_t i, bool server)
{
	return (i * 2654435761u) ^ (server ? 0x5bd1e995u : 0x1b873593u);
}

/* The packet of `kind` for flow i; returns its length. */
static uint32_t
packet_build(const struct bench *b, enum kind kind, uint32_t i, uint8_t *out)
{
	static const uint8_t flags[] = {
		[K_TCP6_SYN] = 0x02, [K_TCP4_SYNACK] = 0x12, [K_TCP6_ACK] = 0x10};
	bool tcp = kind != K_UDP6 && kind != K_UDP4;
	bool v6 = kind == K_UDP6 || kind == K_TCP6_SYN || kind == K_TCP6_ACK;
	uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t payload = kind == K_TCP6_SYN || kind == K_TCP4_SYNACK ? 0 : b->payload;
	uint32_t seq = isn(i, !v6) + (kind == K_TCP6_ACK);
	uint32_t ack = kind == K_TCP6_SYN ? 0 : isn(i, v6) + 1;
	const struct taddr4 *mask;
	struct flow f;
	uint32_t len;

	flow_get(b, i, &f);
	if (v6) {
		len = l4_build(out + 40, tcp, f.sport, SERVER_PORT, payload, flags[kind], seq, ack);
		ip6_header(out, &f.src6, &f.dst6, proto, len);
		l4_checksum(out + 40, tcp, len, csum_pseudo6(&f.src6, &f.dst6, proto, len));
		return 40 + len;
	}
	mask = &b->mask[tcp ? L4_TCP : L4_UDP][i];
	len = l4_build(out + 20, tcp, SERVER_PORT, mask->port, payload, flags[kind], seq, ack);
	ip4_header(out, f.server, mask->addr, proto, len, (uint16_t)i);
	l4_checksum(out + 20, tcp, len, csum_pseudo4(f.server, mask->addr, proto, len));
	return 20 + len;
}

/* Room for `count` packets of the largest kind (TCP over IPv6). The memory
 * is touched here, so it is resident before any RSS reading. */
static void
ring_alloc(const struct bench *b, struct ring *r, uint32_t count)
{
	r->count = count;
	r->stride = (40 + 20 + b->payload + 63) & ~63u;
	r->len = 0;
	r->mem = xmalloc((size_t)count * r->stride);
	memset(r->mem, 0, (size_t)count * r->stride);
}

/* Packets of `kind` for flows[0..count-1], in that (arrival) order, each
 * on its own cache lines as in a receive ring. */
static void
ring_fill(const struct bench *b, struct ring *r, enum kind kind, const uint32_t *flows)
{
	r->len = packet_build(b, kind, flows[0], r->mem);
	for (uint32_t k = 1; k < r->count; k++)
		if (packet_build(b, kind, flows[k], r->mem + (size_t)k * r->stride) != r->len)
			die("packets of one ring must have one length");
}

/* ---- The engine ---- */

static void
engine_create(struct bench *b)
{
	struct globals g;
	struct nat64_params p;
	struct pool4_entry e = {.prefix.len = 24, .port_min = 1024, .port_max = 65535};
	char err[256];

	globals_default(&g);
	inet_pton(AF_INET6, "64:ff9b::", &g.pool6.addr);
	g.pool6.len = 96;
	g.pool6_set = true;
	g.wkp_global_only = false; /* the servers are in 203.0.113.0/24 */
	if (g.max_sessions < 2 * b->flows)
		g.max_sessions = 2 * b->flows;
	g.max_sessions_per_host = 2 * b->flows / b->hosts + 64;
	/* A worker's limits are its share of these (nat64_params.share). */
	if (b->share.count > 1) {
		g.max_sessions *= b->share.count;
		g.max_sessions_per_host *= b->share.count;
	}

	memset(&p, 0, sizeof(p));
	inet_pton(AF_INET, "192.0.2.1", &p.own4);
	inet_pton(AF_INET6, "2001:db8:ffff::1", &p.own6);
	p.mtu4 = p.mtu6 = 1500;
	p.key.k[0] = 0x0123456789abcdefULL; /* fixed: runs are reproducible */
	p.key.k[1] = 0xfedcba9876543210ULL;
	p.tun_hop_compensation = true;
	p.icmp_errors_per_sec = 100;
	p.share = b->share;
	if (nat64_create(&b->nat, &g, &p, err, sizeof(err)) != 0)
		die(err);

	/* 198.51.100.0/24 x 1024-65535: 16M taddrs per protocol. */
	inet_pton(AF_INET, "198.51.100.0", &e.prefix.addr);
	for (enum l4proto proto = L4_TCP; proto <= L4_UDP; proto++) {
		e.proto = proto;
		if (nat64_pool4_add(b->nat, &e, NULL) != 0)
			die("nat64_pool4_add failed");
	}
}

static void
emit_nothing(void *ctx, const uint8_t *pkt, uint32_t len)
{
	(void)ctx;
	(void)pkt;
	(void)len;
}

/* Housekeeping between passes, as the daemon's timer would do it. */
static void
engine_tick(struct bench *b)
{
	b->now += 1000;
	nat64_tick(b->nat, b->now, emit_nothing, NULL);
}

/* ---- Timed passes ---- */

/* The baseline: copy `n` packets of `r` into the working buffer. */
static double
run_memcpy(struct bench *b, const struct ring *r, uint32_t n)
{
	struct pass t;
	uint32_t idx = 0;

	pass_start(&t);
	for (uint32_t k = 0; k < n; k++) {
		memcpy(b->work + PKT_HEADROOM, r->mem + (size_t)idx * r->stride, r->len);
		/* Keep the copy: the compiler must assume the buffer is read. */
		__asm__ volatile("" : : "r"(b->work) : "memory");
		if (++idx == r->count)
			idx = 0;
	}
	return pass_stop(b, &t, n);
}

/* The IPv4 source of the translated 6->4 packet: the mask. */
static struct taddr4
mask_of(const struct pkt *p)
{
	struct taddr4 t;
	uint32_t ihl = (p->data[0] & 0x0fu) * 4;

	memcpy(&t.addr, p->data + 12, 4);
	t.port = (uint16_t)(p->data[ihl] << 8 | p->data[ihl + 1]);
	return t;
}

/* The same copy, then nat64_input(); `record`, when given, receives the
 * mask of each packet in arrival order. Returns ns/packet; dies when a
 * packet is not translated. */
static double
run_engine(struct bench *b, const struct ring *r, uint32_t n, struct taddr4 *record)
{
	struct nat64_result res;
	struct pass t;
	uint32_t idx = 0, sent = 0;
	double ns;
	char label[96];

	CALLGRIND_ZERO_STATS;
	pass_start(&t);
	for (uint32_t k = 0; k < n; k++) {
		struct pkt p = {
			.data = b->work + PKT_HEADROOM,
			.len = r->len,
			.headroom = PKT_HEADROOM,
			.tailroom = WORK_SIZE - PKT_HEADROOM - r->len,
		};

		memcpy(p.data, r->mem + (size_t)idx * r->stride, r->len);
		nat64_input(b->nat, &p, b->now + k / PKTS_PER_MS, b->reply, &res);
		sent += res.send;
		if (!res.send)
			b->last_drop = res.reason;
		if (record)
			record[k] = mask_of(&p);
		if (++idx == r->count)
			idx = 0;
	}
	ns = pass_stop(b, &t, n);
	snprintf(label, sizeof(label), "%s; packets %u", b->phase ? b->phase : "?", n);
	CALLGRIND_DUMP_STATS_AT(label);
	b->now += n / PKTS_PER_MS + 1;
	if (sent != n) {
		fprintf(stderr, "bench-core: %u of %u packets dropped, last reason %s\n", n - sent,
			n, stat_name(b->last_drop));
		exit(1);
	}
	return ns;
}

/* ---- Phases ---- */

struct fill_result {
	double ns_udp, ns_tcp; /* per new session */
	double rss_per_session, table_per_session;
	size_t table_bytes, rss_delta;
};

/* The first packet of every flow, UDP then TCP, into a new engine. */
static void
fill(struct bench *b, struct ring *udp6, struct ring *syn6, struct fill_result *fr)
{
	const struct bib *db;
	size_t rss0 = rss_bytes();
	uint32_t sessions;

	engine_create(b);
	b->phase = "new UDP 6->4";
	fr->ns_udp = run_engine(b, udp6, b->flows, b->arrival);
	for (uint32_t k = 0; k < b->flows; k++)
		b->mask[L4_UDP][b->order[k]] = b->arrival[k];
	b->phase = "new TCP SYN 6->4";
	fr->ns_tcp = run_engine(b, syn6, b->flows, b->arrival);
	for (uint32_t k = 0; k < b->flows; k++)
		b->mask[L4_TCP][b->order[k]] = b->arrival[k];
	fr->rss_delta = rss_bytes() - rss0;
	db = nat64_bib(b->nat);
	sessions = session_count(db, L4_UDP) + session_count(db, L4_TCP);
	if (sessions != 2 * b->flows || bib_count(db, L4_UDP) + bib_count(db, L4_TCP) != sessions)
		die("the fill did not create one session and one BIB entry per flow");
	fr->table_bytes = bib_memory(db);
	fr->rss_per_session = (double)fr->rss_delta / sessions;
	fr->table_per_session = (double)fr->table_bytes / sessions;
	engine_tick(b);
}

/* Every 1021st TCP session must be ESTABLISHED after the SYN-ACKs. */
static void
check_established(const struct bench *b)
{
	const struct bib *db = nat64_bib(b->nat);

	for (uint32_t i = 0; i < b->flows; i += 1021) {
		struct flow f;
		struct taddr6 src;
		struct taddr4 dst;
		const struct session *s;

		flow_get(b, i, &f);
		src = (struct taddr6){.addr = f.src6, .port = f.sport};
		dst = (struct taddr4){.addr = f.server, .port = SERVER_PORT};
		s = session_find6(db, L4_TCP, &src, &dst);
		if (!s || s->se_state != TCPS_ESTABLISHED)
			die("a TCP session is not ESTABLISHED after its SYN-ACK");
	}
}

struct row {
	char name[48];
	double copy_ns;
	double total_ns;
};

/* Median over `repeats` interleaved passes of `n` packets each, the
 * baseline then the engine. */
static void
measure(struct bench *b, const struct ring *r, uint32_t n, struct row *out)
{
	double copy[64], total[64];

	b->phase = out->name;
	for (uint32_t i = 0; i < b->repeats; i++) {
		copy[i] = run_memcpy(b, r, n);
		total[i] = run_engine(b, r, n, NULL);
		engine_tick(b);
	}
	out->copy_ns = median(copy, b->repeats);
	out->total_ns = median(total, b->repeats);
}

/*
 * The input rings of every measurement: [0] UDP 6->4, [1] TCP (SYN during
 * the fill, then ACK), [2] IPv4 (SYN-ACK, then UDP 4->6). `big` covers
 * every flow in random order, `hot` the hot set, `cached` a few flows that
 * stay in L1: the engine's CPU cost without memory stalls.
 */
struct rings {
	struct ring big[3];
	struct ring hot[3];
	struct ring cached[3];
};

enum { CACHED_FLOWS = 16, ROWS = 9 };

static void
rings_alloc(struct bench *b, struct rings *r)
{
	for (int i = 0; i < 3; i++) {
		ring_alloc(b, &r->big[i], b->flows);
		ring_alloc(b, &r->hot[i], b->hot);
		ring_alloc(b, &r->cached[i], b->hot < CACHED_FLOWS ? b->hot : CACHED_FLOWS);
	}
	ring_fill(b, &r->big[0], K_UDP6, b->order);
	ring_fill(b, &r->big[1], K_TCP6_SYN, b->order);
}

static void
rings_free(struct rings *r)
{
	for (int i = 0; i < 3; i++) {
		free(r->big[i].mem);
		free(r->hot[i].mem);
		free(r->cached[i].mem);
	}
}

/* FILL_REPEATS fills, each on a new engine; the last one stays. */
static void
fill_all(struct bench *b, struct rings *r, struct fill_result *out)
{
	struct fill_result fr[FILL_REPEATS];
	double udp[FILL_REPEATS], tcp[FILL_REPEATS];

	for (int i = 0; i < FILL_REPEATS; i++) {
		if (b->nat)
			nat64_destroy(b->nat);
		fill(b, &r->big[0], &r->big[1], &fr[i]);
		udp[i] = fr[i].ns_udp;
		tcp[i] = fr[i].ns_tcp;
	}
	/* Memory from the first fill: later ones may reuse pages malloc kept. */
	*out = fr[0];
	out->ns_udp = median(udp, FILL_REPEATS);
	out->ns_tcp = median(tcp, FILL_REPEATS);
}

/* Completes the TCP handshakes, then builds the data-path rings. */
static void
establish(struct bench *b, struct rings *r)
{
	static const enum kind kinds[3] = {K_UDP6, K_TCP6_ACK, K_UDP4};

	ring_fill(b, &r->big[2], K_TCP4_SYNACK, b->order);
	b->phase = "SYN-ACK 4->6";
	run_engine(b, &r->big[2], b->flows, NULL);
	check_established(b);
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			ring_fill(b, &r->big[i], kinds[i], b->order);
		ring_fill(b, &r->hot[i], kinds[i], b->hot_flows);
		ring_fill(b, &r->cached[i], kinds[i], b->hot_flows);
	}
}

static void
measure_all(struct bench *b, struct rings *r, struct row rows[ROWS])
{
	static const char *const kind[3] = {"UDP 6->4", "TCP ACK 6->4", "UDP 4->6"};
	static const int order[3] = {0, 2, 1}; /* print UDP 6->4, UDP 4->6, TCP */

	for (int j = 0; j < 3; j++) {
		int i = order[j];

		snprintf(rows[j].name, sizeof(rows[j].name), "%s, random, all flows", kind[i]);
		measure(b, &r->big[i], b->flows, &rows[j]);
		snprintf(rows[3 + j].name, sizeof(rows[j].name), "%s, hot set of %u", kind[i],
			 b->hot);
		measure(b, &r->hot[i], b->flows, &rows[3 + j]);
		snprintf(rows[6 + j].name, sizeof(rows[j].name), "%s, %u flows (cached)", kind[i],
			 r->cached[i].count);
		/* Stable in L1: a quarter of the packets is enough. */
		measure(b, &r->cached[i], b->flows / 4, &rows[6 + j]);
	}
}

/* ---- Output ---- */

static const char *
verdict(bool pass)
{
	return pass ? "PASS" : "MISS";
}

static void
print_header(const struct bench *b, const struct ring *udp6, const struct ring *udp4,
	     const struct ring *tcp6)
{
	char cpu[128], thp[128];
	const char *tun = getenv("GLIBC_TUNABLES");
	double share = b->wall_total ? (double)b->cpu_total / (double)b->wall_total : 0;

	read_line("/proc/cpuinfo", "model name\t: ", cpu, sizeof(cpu));
	read_line("/sys/kernel/mm/transparent_hugepage/enabled", "", thp, sizeof(thp));
	printf("nat64d core benchmark: %u UDP + %u TCP flows (%u live sessions, one BIB entry "
	       "each), %u IPv6 hosts\n",
	       b->flows, b->flows, 2 * b->flows, b->hosts);
	printf("CPU %s, 1 thread; THP %s%s%s; median of %u passes of %u packets\n", cpu, thp,
	       tun ? "; GLIBC_TUNABLES=" : "", tun ? tun : "", b->repeats, b->flows);
	printf("packets: UDP 6->4 %u B, UDP 4->6 %u B, TCP ACK 6->4 %u B (payload %u B)\n",
	       udp6->len, udp4->len, tcp6->len, b->payload);
	printf("time: %s; the bench thread was on a CPU %.0f%% of the wall time%s\n\n",
	       b->cpu_time ? "thread CPU time (-c)" : "wall clock (CLOCK_MONOTONIC)", share * 100,
	       share < 0.9 ? " (BUSY MACHINE: rerun on an idle one)" : "");
}

static void
print_rows(const struct row *rows, unsigned n)
{
	printf("%-34s %9s %9s %9s %7s %7s  %-12s\n", "established flows", "memcpy", "+engine",
	       "engine", "Mpps", "ratio", "target");
	printf("%-34s %9s %9s %9s %7s %7s\n", "", "ns/pkt", "ns/pkt", "ns/pkt", "", "");
	for (unsigned i = 0; i < n; i++) {
		double mpps = 1e3 / rows[i].total_ns;

		if (i > 0 && i % 3 == 0)
			putchar('\n');
		printf("%-34s %9.1f %9.1f %9.1f %7.2f %6.1fx  >= %.0f Mpps %s\n", rows[i].name,
		       rows[i].copy_ns, rows[i].total_ns, rows[i].total_ns - rows[i].copy_ns, mpps,
		       rows[i].total_ns / rows[i].copy_ns, TARGET_MPPS,
		       verdict(mpps >= TARGET_MPPS));
	}
}

static void
print_fill(const struct fill_result *fr)
{
	double udp = 1e3 / fr->ns_udp, tcp = 1e3 / fr->ns_tcp;

	printf("\n%-34s %9s %9s  %-12s\n", "new sessions (first packet)", "ns/sess", "M/s",
	       "target");
	printf("%-34s %9.1f %9.2f  >= %.0f M/s   %s\n", "UDP 6->4 (session + BIB entry)",
	       fr->ns_udp, udp, TARGET_NEW_MSPS, verdict(udp >= TARGET_NEW_MSPS));
	printf("%-34s %9.1f %9.2f  >= %.0f M/s   %s\n", "TCP SYN 6->4 (session + BIB entry)",
	       fr->ns_tcp, tcp, TARGET_NEW_MSPS, verdict(tcp >= TARGET_NEW_MSPS));

	printf("\n%-34s %9s %9s  %-12s\n", "memory per session", "bytes", "MiB", "target");
	printf("%-34s %9.1f %9.1f  <= %.0f B    %s\n", "RSS growth / sessions", fr->rss_per_session,
	       fr->rss_delta / 1048576.0, TARGET_BYTES,
	       verdict(fr->rss_per_session <= TARGET_BYTES));
	printf("%-34s %9.1f %9.1f  <= %.0f B    %s\n", "bib_memory() / sessions",
	       fr->table_per_session, fr->table_bytes / 1048576.0, TARGET_BYTES,
	       verdict(fr->table_per_session <= TARGET_BYTES));
}

/* ---- Resident memory with 1M sessions ---- */

enum { MEM_FLOWS = 1 << 19 }; /* per protocol: 1M sessions in all */

struct mem_result {
	size_t rss;  /* VmRSS with the sessions in place */
	size_t base; /* VmRSS before the engine existed */
	uint32_t sessions;
};

/* VmRSS of this process in bytes. */
static size_t
vm_rss(void)
{
	char v[64];

	read_line("/proc/self/status", "VmRSS:", v, sizeof(v));
	return (size_t)strtoul(v, NULL, 10) * 1024;
}

/* In the child: an engine, the first packet of MEM_FLOWS UDP and of
 * MEM_FLOWS TCP flows built one at a time (no rings), then VmRSS. */
static void
memory_child(const struct bench *proto, struct mem_result *m)
{
	static struct bench b;
	static uint8_t in[WORK_SIZE];
	struct ring one = {.mem = in, .count = 1, .stride = WORK_SIZE};
	uint32_t idx;

	b.flows = MEM_FLOWS;
	b.hosts = proto->hosts < MEM_FLOWS ? proto->hosts : MEM_FLOWS;
	b.payload = proto->payload;
	m->base = vm_rss();
	engine_create(&b);
	for (uint32_t i = 0; i < MEM_FLOWS; i++) {
		for (int k = 0; k < 2; k++) {
			idx = i;
			one.len = packet_build(&b, k ? K_TCP6_SYN : K_UDP6, idx, in);
			run_engine(&b, &one, 1, NULL);
		}
	}
	m->sessions =
		session_count(nat64_bib(b.nat), L4_UDP) + session_count(nat64_bib(b.nat), L4_TCP);
	m->rss = vm_rss();
}

/* Forked first, so nothing of the benchmark's own (rings, flow tables)
 * is resident: what the child holds is what a translator with 1M
 * sessions holds, the daemon's few buffers aside. */
static void
memory_1m(const struct bench *b, struct mem_result *m)
{
	int fds[2], status;
	pid_t pid;

	memset(m, 0, sizeof(*m));
	if (pipe(fds) != 0)
		die("pipe failed");
	pid = fork();
	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		memory_child(b, m);
		if (write(fds[1], m, sizeof(*m)) != (ssize_t)sizeof(*m))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], m, sizeof(*m)) != (ssize_t)sizeof(*m))
		die("the memory child failed");
	close(fds[0]);
	waitpid(pid, &status, 0);
}

static void
print_memory(const struct mem_result *m)
{
	double mb = m->rss / 1e6;

	printf("\n%-34s %9s %9s  %-12s\n", "resident memory", "sessions", "MB", "target");
	printf("%-34s %9u %9.1f  < %.0f MB   %s\n", "VmRSS, engine with 1M sessions", m->sessions,
	       mb, TARGET_RSS_MB, verdict(mb < TARGET_RSS_MB));
	printf("%-34s %9s %9.1f\n", "  of which before the engine", "", m->base / 1e6);
}

/* ---- Scaling: one engine per worker thread ---- */

/*
 * One worker: its own engine and flows, as the daemon's workers each own
 * an engine and the flows the TUN queue steers to them (no shared state,
 * so 2 workers should do twice the work). The flows of worker w come from
 * hosts w * hosts .. (w + 1) * hosts - 1.
 */
struct worker {
	struct bench b;
	struct ring ring;
	pthread_t thread;
	pthread_barrier_t *start;
	int cpu;
	uint32_t packets; /* per pass */
	double ns;        /* per packet, last pass (wall clock, or CPU with -c) */
	double cpu_ns;    /* per packet, last pass, the thread's CPU time */
};

/*
 * The flows worker `index` of 2 owns, in random order: a new mapping is
 * made by the worker that owns the IPv6 source port (port_share.h; the
 * steering program sends it there), so the others hand it off.
 */
static uint32_t *
worker_flows(const struct bench *b, uint32_t index)
{
	uint32_t *order = permutation(b->flows, 0x2545f4914f6cdd1dULL + index);
	uint32_t *mine = xmalloc((size_t)b->flows * sizeof(*mine));
	uint32_t n = 0;

	for (uint32_t i = 0; n < b->flows; i++) {
		struct flow f;

		flow_get(b, i, &f);
		if (port_share_mine(&b->share, f.sport))
			mine[n++] = i;
	}
	for (uint32_t k = 0; k < b->flows; k++)
		order[k] = mine[order[k]];
	free(mine);
	return order;
}

static void
worker_setup(struct worker *w, const struct bench *proto, uint32_t index)
{
	memset(w, 0, sizeof(*w));
	w->b.flows = proto->flows / 4;
	w->b.hosts = proto->hosts / 4 ? proto->hosts / 4 : 1;
	w->b.host_base = index * w->b.hosts;
	/* The daemon's way: worker `index` of 2, pool4 ports of its share. */
	w->b.share = (struct port_share){.index = (uint16_t)index, .count = 2};
	w->b.payload = proto->payload;
	w->b.repeats = proto->repeats;
	w->b.cpu_time = proto->cpu_time;
	w->b.order = worker_flows(&w->b, index);
	w->cpu = (int)index;
	w->packets = proto->flows; /* long passes: thread start-up is noise */
	engine_create(&w->b);
	ring_alloc(&w->b, &w->ring, w->b.flows);
	ring_fill(&w->b, &w->ring, K_UDP6, w->b.order);
	run_engine(&w->b, &w->ring, w->b.flows, NULL); /* the sessions */
	engine_tick(&w->b);
}

static void
worker_free(struct worker *w)
{
	nat64_destroy(w->b.nat);
	free(w->ring.mem);
	free(w->b.order);
}

/* One pass of the worker's packets, pinned to its own CPU when there are
 * enough; the workers of a run start it together. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu % CPU_SETSIZE, &set);
	if (w->cpu < sysconf(_SC_NPROCESSORS_ONLN))
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	uint64_t cpu0;

	pthread_barrier_wait(w->start);
	cpu0 = w->b.cpu_total;
	w->ns = run_engine(&w->b, &w->ring, w->packets, NULL);
	w->cpu_ns = (double)(w->b.cpu_total - cpu0) / w->packets;
	engine_tick(&w->b);
	return NULL;
}

/* Aggregate Mpps of one pass of `n` workers at once: every worker's
 * packets over the slowest worker's time. `*by_cpu`: the sum of each
 * worker's packets/s on its own CPU time (what the workers would do if
 * nothing else wanted the CPUs; memory and cache contention remain). */
static double
scaling_pass(struct worker *w, uint32_t n, double *by_cpu)
{
	pthread_barrier_t start;
	double slowest = 0;

	*by_cpu = 0;
	pthread_barrier_init(&start, NULL, n);
	for (uint32_t i = 0; i < n; i++) {
		w[i].start = &start;
		if (pthread_create(&w[i].thread, NULL, worker_run, &w[i]) != 0)
			die("pthread_create failed");
	}
	for (uint32_t i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		slowest = w[i].ns > slowest ? w[i].ns : slowest;
		*by_cpu += 1e3 / w[i].cpu_ns;
	}
	pthread_barrier_destroy(&start);
	return n * 1e3 / slowest;
}

struct scaling {
	uint32_t flows; /* per worker */
	double mpps[2]; /* 1 and 2 workers */
	double cpu[2];  /* the same by thread CPU time */
	double share;   /* of the wall time the worker threads had a CPU */
};

/* 1-worker and 2-worker passes alternate, so a machine that gets busier
 * during the run weighs on both alike; medians of `repeats` each. */
static void
scaling_measure(const struct bench *b, struct scaling *s)
{
	struct worker *w = xmalloc(2 * sizeof(*w));
	double one[64], two[64], cpu1[64], cpu2[64];

	worker_setup(&w[0], b, 0);
	worker_setup(&w[1], b, 1);
	for (uint32_t r = 0; r < b->repeats; r++) {
		one[r] = scaling_pass(w, 1, &cpu1[r]);
		two[r] = scaling_pass(w, 2, &cpu2[r]);
	}
	s->flows = w[0].b.flows;
	s->share = (double)(w[0].b.cpu_total + w[1].b.cpu_total) /
		   (double)(w[0].b.wall_total + w[1].b.wall_total);
	s->mpps[0] = median(one, b->repeats);
	s->mpps[1] = median(two, b->repeats);
	s->cpu[0] = median(cpu1, b->repeats);
	s->cpu[1] = median(cpu2, b->repeats);
	worker_free(&w[0]);
	worker_free(&w[1]);
	free(w);
}

static void
print_scaling(const struct scaling *s)
{
	double ratio = s->mpps[1] / s->mpps[0];

	printf("\n%-34s %9s %9s  %-12s\n", "scaling, UDP 6->4 random", "Mpps", "ratio", "target");
	printf("%-34s %9.2f\n", "1 worker thread (1 engine)", s->mpps[0]);
	printf("%-34s %9.2f %8.2fx  >= %.1fx     %s\n", "2 worker threads (2 engines)", s->mpps[1],
	       ratio, TARGET_SCALING, verdict(ratio >= TARGET_SCALING));
	printf("%-34s %9.2f %8.2fx  (1 worker %.2f Mpps)\n", "  by thread CPU time, 2 vs 1",
	       s->cpu[1], s->cpu[1] / s->cpu[0], s->cpu[0]);
	printf("(each engine: %u UDP sessions of its own, packets in random order; %ld CPUs;\n"
	       " the worker threads were on a CPU %.0f%% of the wall time%s)\n",
	       s->flows, sysconf(_SC_NPROCESSORS_ONLN), s->share * 100,
	       s->share < 0.9 ? ": BUSY MACHINE, rerun on an idle one" : "");
}

/* ---- main ---- */

static void
usage(int status)
{
	fprintf(stderr,
		"usage: bench-core [-f flows per protocol, 1024..4M (1M)] "
		"[-H IPv6 hosts (4096)]\n"
		"                  [-p payload bytes 0..%d (%d)] [-r passes 1..63 (%d)] "
		"[-w hot flows (%d)]\n"
		"                  [-c: thread CPU time instead of wall time]\n"
		"                  [-P: profile run, no 1M memory child, no scaling]\n"
		"                  [-S: no scaling run]\n",
		MAX_PAYLOAD, DEFAULT_PAYLOAD, DEFAULT_REPEATS, DEFAULT_HOT);
	exit(status);
}

static void
parse_args(struct bench *b, int argc, char **argv)
{
	int c;

	b->flows = DEFAULT_FLOWS;
	b->hosts = DEFAULT_HOSTS;
	b->payload = DEFAULT_PAYLOAD;
	b->repeats = DEFAULT_REPEATS;
	b->hot = DEFAULT_HOT;
	while ((c = getopt(argc, argv, "cf:H:p:PSr:w:h")) != -1) {
		uint32_t v = optarg ? (uint32_t)strtoul(optarg, NULL, 0) : 0;

		switch (c) {
		case 'c':
			b->cpu_time = true;
			break;
		case 'f':
			b->flows = v;
			break;
		case 'H':
			b->hosts = v;
			break;
		case 'p':
			b->payload = v;
			break;
		case 'P':
			b->profile = true;
			break;
		case 'S':
			b->no_scaling = true;
			break;
		case 'r':
			b->repeats = v;
			break;
		case 'w':
			b->hot = v;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc || b->flows < 1024 || b->flows > 4u << 20 || b->hosts == 0 ||
	    b->hosts > b->flows || b->flows / b->hosts >= EPHEMERAL_COUNT ||
	    b->payload > MAX_PAYLOAD || b->repeats == 0 || b->repeats > 63 || b->hot == 0 ||
	    b->hot > b->flows)
		usage(2);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	static struct rings r;
	struct fill_result fr;
	struct row rows[ROWS];
	struct mem_result mem = {0};
	struct scaling sc = {0};

	parse_args(&b, argc, argv);
	if (!b.profile)
		memory_1m(&b, &mem);
	b.order = permutation(b.flows, 88172645463325252ULL);
	b.hot_flows = permutation(b.flows, 0x9e3779b97f4a7c15ULL);
	for (int i = 0; i < 3; i++) {
		struct taddr4 **t = i == 0 ? &b.arrival : &b.mask[i == 1 ? L4_UDP : L4_TCP];

		/* Touched now, so the fill's RSS growth is the engine's alone. */
		*t = xmalloc((size_t)b.flows * sizeof(**t));
		memset(*t, 0, (size_t)b.flows * sizeof(**t));
	}
	rings_alloc(&b, &r);
	fill_all(&b, &r, &fr);
	establish(&b, &r);
	measure_all(&b, &r, rows);
	if (!b.profile && !b.no_scaling)
		scaling_measure(&b, &sc);

	print_header(&b, &r.big[0], &r.big[2], &r.big[1]);
	print_rows(rows, ROWS);
	printf("(hot set: flows picked at random among all; huge pages in use: %ld MiB)\n",
	       huge_mib());
	print_fill(&fr);
	if (!b.profile)
		print_memory(&mem);
	if (!b.profile && !b.no_scaling)
		print_scaling(&sc);

	nat64_destroy(b.nat);
	rings_free(&r);
	free(b.order);
	free(b.hot_flows);
	free(b.mask[L4_UDP]);
	free(b.mask[L4_TCP]);
	free(b.arrival);
	return 0;
}
