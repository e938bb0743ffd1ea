#include "nat64_harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

enum { CANARY = 0xa5 };

static const uint8_t payload[H_PAYLOAD] = {'h', 'e', 'l', 'l', 'o'};

void
h_defaults(struct globals *g, struct nat64_params *p)
{
	globals_default(g);
	cr_assert_eq(inet_pton(AF_INET6, H_POOL6, &g->pool6.addr), 1);
	g->pool6.len = 96;
	g->pool6_set = true;
	g->wkp_global_only = false;
	memset(p, 0, sizeof(*p));
	cr_assert_eq(inet_pton(AF_INET, H_OWN4, &p->own4), 1);
	cr_assert_eq(inet_pton(AF_INET6, H_OWN6, &p->own6), 1);
	p->mtu4 = 1500;
	p->mtu6 = 1500;
	p->key = (struct siphash_key){{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull}};
	p->tun_hop_compensation = false;
	p->icmp_errors_per_sec = 1000;
}

void
h_start(struct harness *h, const struct globals *g, const struct nat64_params *p)
{
	struct globals dg;
	struct nat64_params dp;
	char err[128] = "";
	int rc;

	memset(h, 0, sizeof(*h));
	h_defaults(&dg, &dp);
	rc = nat64_create(&h->n, g ? g : &dg, p ? p : &dp, err, sizeof(err));
	cr_assert_eq(rc, 0, "nat64_create: %d %s", rc, err);
	h->now = H_T0;
}

void
h_pool4(struct harness *h, enum l4proto proto, const char *addr, uint8_t len, uint16_t lo,
	uint16_t hi)
{
	struct pool4_entry e = {.proto = proto, .port_min = lo, .port_max = hi};

	e.prefix.len = len;
	cr_assert_eq(inet_pton(AF_INET, addr, &e.prefix.addr), 1);
	cr_assert_eq(nat64_pool4_add(h->n, &e, NULL), 0);
}

void
h_start_default(struct harness *h)
{
	h_start(h, NULL, NULL);
	h_pool4(h, L4_TCP, H_POOL4, 32, 1, 65535);
	h_pool4(h, L4_UDP, H_POOL4, 32, 1, 65535);
	h_pool4(h, L4_ICMP, H_POOL4, 32, 0, 65535);
}

void
h_stop(struct harness *h)
{
	nat64_destroy(h->n);
	h->n = NULL;
}

struct taddr6
h_taddr6(const char *addr, uint16_t port)
{
	struct taddr6 t = {.port = port};

	cr_assert_eq(inet_pton(AF_INET6, addr, &t.addr), 1);
	return t;
}

struct taddr4
h_taddr4(const char *addr, uint16_t port)
{
	struct taddr4 t = {.port = port};

	cr_assert_eq(inet_pton(AF_INET, addr, &t.addr), 1);
	return t;
}

void
h_bib(struct harness *h, enum l4proto proto, const char *a6, uint16_t p6, const char *a4,
      uint16_t p4)
{
	struct taddr6 t6 = h_taddr6(a6, p6);
	struct taddr4 t4 = h_taddr4(a4, p4);

	cr_assert_eq(nat64_bib_add(h->n, proto, &t6, &t4, h->now), 0);
}

/* Copy every packet the result yields, as a writer would send them. */
static void
collect(struct harness *h)
{
	struct nat64_result res = h->res; /* h->res stays as returned */
	uint32_t used = 0;
	struct pkt out;

	h->nout = 0;
	while (nat64_result_next(&res, &out)) {
		cr_assert(h->nout < H_OUT_MAX);
		cr_assert(out.len <= sizeof(h->outbuf) - used);
		memcpy(h->outbuf + used, out.data, out.len);
		h->out_off[h->nout] = used;
		h->out_len[h->nout] = out.len;
		used += out.len;
		h->nout++;
	}
	cr_assert_eq(h->nout == 0, !h->res.send);
}

static enum stat_id
run_input(struct harness *h, const uint8_t *pkt, size_t len, const struct nat64_handoff *handed)
{
	uint8_t *start = h->mem + H_HEAD;
	size_t lo = H_HEAD - PKT_HEADROOM;
	size_t hi = H_HEAD + len + H_TAILROOM;

	cr_assert(len + H_TAILROOM + H_HEAD <= sizeof(h->mem));
	memset(h->mem, CANARY, sizeof(h->mem));
	memcpy(start, pkt, len);
	h->p = (struct pkt){start, (uint32_t)len, PKT_HEADROOM, H_TAILROOM};
	memset(h->reply, 0, sizeof(h->reply));
	if (handed)
		nat64_input_handed(h->n, &h->p, handed, h->now, h->reply, &h->res);
	else
		nat64_input(h->n, &h->p, h->now, h->reply, &h->res);
	/* A reassembled datagram is in the engine's buffer, not in mem. */
	if (h->p.data >= h->mem && h->p.data < h->mem + sizeof(h->mem))
		cr_assert(h->p.data >= h->mem + lo && h->p.data + h->p.len <= h->mem + hi);
	cr_assert(h->res.reply_len <= NAT64_REPLY_MAX - h->res.reply_off);
	cr_assert_eq(h->res.send, h->res.reason == STAT_OK);
	collect(h);
	for (size_t i = 0; i < sizeof(h->mem); i++)
		if (i < lo || i >= hi)
			cr_assert_eq(h->mem[i], CANARY, "byte %zd outside the buffer written",
				     (ssize_t)i - H_HEAD);
	return h->res.reason;
}

enum stat_id
h_input(struct harness *h, const uint8_t *pkt, size_t len)
{
	return run_input(h, pkt, len, NULL);
}

enum stat_id
h_input_handed(struct harness *h, const uint8_t *pkt, size_t len, const struct nat64_handoff *hd)
{
	return run_input(h, pkt, len, hd);
}

const uint8_t *
h_out(const struct harness *h, unsigned i, uint32_t *len)
{
	cr_assert(i < h->nout, "packet %u of %u sent", i, h->nout);
	*len = h->out_len[i];
	return h->outbuf + h->out_off[i];
}

static void
on_emit(void *ctx, const uint8_t *pkt, uint32_t len)
{
	struct harness *h = ctx;

	cr_assert(len <= sizeof(h->emitted[0].b));
	cr_assert(h->nemitted < H_EMIT_MAX);
	memcpy(h->emitted[h->nemitted].b, pkt, len);
	h->emitted[h->nemitted].len = len;
	h->nemitted++;
}

void
h_tick(struct harness *h)
{
	h->nemitted = 0;
	nat64_tick(h->n, h->now, on_emit, h);
}

uint64_t
h_stat(const struct harness *h, enum stat_id id)
{
	return nat64_stats(h->n)->count[id];
}

const uint8_t *
h_reply(const struct harness *h, uint32_t *len)
{
	*len = h->res.reply_len;
	return h->res.reply_len ? h->reply + h->res.reply_off : NULL;
}

void
h_log_hook(void *ctx, const struct bib_event *ev)
{
	struct harness *h = ctx;

	if (h->nevents < sizeof(h->events) / sizeof(h->events[0]))
		h->events[h->nevents] = *ev;
	h->nevents++;
}

void
h_assert_out(const struct harness *h, const uint8_t *want, size_t len)
{
	cr_assert(h->res.send, "not sent: %s", stat_name(h->res.reason));
	pg_assert_bytes(h->p.data, h->p.len, want, len);
}

void
h_assert_reply(const struct harness *h, const uint8_t *want, size_t len)
{
	uint32_t n;
	const uint8_t *r = h_reply(h, &n);

	cr_assert(r, "no reply built");
	pg_assert_bytes(r, n, want, len);
}

uint16_t
h_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t
h_udp6(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t hlim)
{
	size_t n = pg_ipv6(b, src, dst, IPPROTO_UDP, hlim, 8 + H_PAYLOAD);

	n += pg_udp(b + n, sport, dport, H_PAYLOAD);
	memcpy(b + n, payload, H_PAYLOAD);
	n += H_PAYLOAD;
	pg_fix_l4_csum6(b, n);
	return n;
}

size_t
h_udp4(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t ttl,
       uint16_t id)
{
	size_t n = pg_ipv4(b, src, dst, IPPROTO_UDP, ttl, id, 0, 20 + 8 + H_PAYLOAD);

	n += pg_udp(b + n, sport, dport, H_PAYLOAD);
	memcpy(b + n, payload, H_PAYLOAD);
	n += H_PAYLOAD;
	pg_fix_l4_csum4(b, n);
	return n;
}

static uint32_t
ack_of(uint8_t flags)
{
	return (flags & PG_TCP_ACK) ? 200 : 0;
}

size_t
h_tcp6(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags,
       uint8_t hlim)
{
	size_t n = pg_ipv6(b, src, dst, IPPROTO_TCP, hlim, 20);

	n += pg_tcp(b + n, sport, dport, 100, ack_of(flags), flags);
	pg_fix_l4_csum6(b, n);
	return n;
}

size_t
h_tcp4(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags,
       uint8_t ttl, uint16_t id)
{
	size_t n = pg_ipv4(b, src, dst, IPPROTO_TCP, ttl, id, 0, 40);

	n += pg_tcp(b + n, sport, dport, 100, ack_of(flags), flags);
	pg_fix_l4_csum4(b, n);
	return n;
}

size_t
h_echo6(uint8_t *b, const char *src, const char *dst, uint8_t type, uint16_t ident, uint8_t hlim)
{
	size_t n = pg_ipv6(b, src, dst, IPPROTO_ICMPV6, hlim, 12);

	n += pg_icmp(b + n, type, 0, (uint32_t)ident << 16 | 1);
	memcpy(b + n, "ping", 4);
	n += 4;
	pg_fix_l4_csum6(b, n);
	return n;
}

size_t
h_echo4(uint8_t *b, const char *src, const char *dst, uint8_t type, uint16_t ident, uint8_t ttl,
	uint16_t id)
{
	size_t n = pg_ipv4(b, src, dst, IPPROTO_ICMP, ttl, id, 0, 32);

	n += pg_icmp(b + n, type, 0, (uint32_t)ident << 16 | 1);
	memcpy(b + n, "ping", 4);
	n += 4;
	pg_fix_l4_csum4(b, n);
	return n;
}

size_t
h_icmp6_err(uint8_t *b, const char *src, const char *dst, uint8_t type, uint8_t code, uint32_t rest,
	    uint8_t hlim, const uint8_t *quote, size_t qlen)
{
	size_t n = pg_ipv6(b, src, dst, IPPROTO_ICMPV6, hlim, (uint16_t)(8 + qlen));

	n += pg_icmp(b + n, type, code, rest);
	memcpy(b + n, quote, qlen);
	n += qlen;
	pg_fix_l4_csum6(b, n);
	return n;
}

size_t
h_icmp4_err(uint8_t *b, const char *src, const char *dst, uint8_t type, uint8_t code, uint32_t rest,
	    uint8_t ttl, uint16_t id, const uint8_t *quote, size_t qlen)
{
	size_t n = pg_ipv4(b, src, dst, IPPROTO_ICMP, ttl, id, 0, (uint16_t)(28 + qlen));

	n += pg_icmp(b + n, type, code, rest);
	memcpy(b + n, quote, qlen);
	n += qlen;
	pg_fix_l4_csum4(b, n);
	return n;
}
