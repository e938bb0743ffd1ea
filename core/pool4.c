/*
 * pool4 storage.
 *
 * Layout, and the alternatives that lost:
 *   - Jool 3.3 kept per-port structures for each address: ~0.5 MB per
 *     address, slow to add (JOOL-REFERENCE §3.3).
 *   - Jool 3.5+ keeps sorted arrays of /32 ranges (address, min port, max
 *     port) in rb-trees: memory and add time grow with the number of
 *     ADDRESSES, so a /16 costs 65536 items per protocol, and every new
 *     mapping copies the whole set.
 *   - Here an item is a rectangle: an address interval times a port
 *     interval (struct pool4_range). A set is a sorted, canonical array of
 *     rectangles (see pool4.h for the canonical form), so a /16 with ports
 *     1-65535 is one item, and memory grows only with how fragmented the
 *     operator's ranges are, never with the number of addresses or ports.
 *
 * Changes (add, remove, the per-protocol membership index) are computed by
 * one routine, combine(): a sweep over both operands' address boundaries
 * that unions or subtracts the port lists of each elementary address
 * segment and fuses neighbours that end up equal. It builds a NEW array, so
 * every change is built aside and swapped in whole, or not at all. Changes
 * cost O(items) and happen on the control plane only.
 *
 * Reads are binary searches: sets are sorted by (protocol, mark); each set
 * and each per-protocol index (the union of all marks, for the 4->6
 * direction that ignores the mark) has a run array (struct pool4_run) over
 * its items, so a membership test is a search by address then by port.
 */
#include "pool4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

/* One past the last IPv4 address, so loops over addresses cannot wrap. */
#define ADDR_END ((uint64_t)1 << 32)

/* A canonical array of rectangles plus its run index. */
struct body {
	struct pool4_range *ranges;
	struct pool4_run *runs;
	uint32_t nranges;
	uint32_t nruns;
	uint64_t taddrs; /* address#port pairs */
	uint64_t addrs;  /* distinct addresses */
};

struct pool4_set {
	uint32_t mark;
	enum l4proto proto;
	struct pool4_iterations iter;
	struct body body;
};

struct pool4 {
	struct pool4_set *sets; /* sorted by (proto, mark); no set is empty */
	uint32_t nsets;
	uint32_t setcap;
	struct body index[L4_COUNT];         /* union of every mark, per protocol */
	struct pool4_set fallback[L4_COUNT]; /* empty pool4: node addresses */
};

static const struct body empty_body;

/* ---- Building canonical arrays ---- */

enum op { OP_UNION, OP_SUBTRACT };

/* An output array being built, and the last run emitted (for fusing). */
struct builder {
	struct pool4_range *r;
	uint32_t n;
	uint32_t cap;
	uint32_t prev;     /* index of the last run's first item */
	uint32_t prev_len; /* items of the last run; 0 before the first */
};

static int
builder_reserve(struct builder *b, uint32_t extra)
{
	uint64_t want = (uint64_t)b->n + extra;
	uint64_t cap = b->cap ? (uint64_t)b->cap * 2 : 16;
	struct pool4_range *r;

	if (want <= b->cap)
		return 0;
	if (cap < want)
		cap = want;
	if (cap > UINT32_MAX)
		return -ENOMEM;
	r = realloc(b->r, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	b->r = r;
	b->cap = (uint32_t)cap;
	return 0;
}

static void
builder_push(struct builder *b, uint32_t lo, uint32_t hi)
{
	b->r[b->n++] = (struct pool4_range){.port_min = (uint16_t)lo, .port_max = (uint16_t)hi};
}

static bool
same_ports(const struct pool4_range *a, const struct pool4_range *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].port_min != b[i].port_min || a[i].port_max != b[i].port_max)
			return false;
	return true;
}

/*
 * The port intervals pushed since `start` belong to addresses
 * [first, last]: stamp them, and fuse them into the previous run when it
 * ends right before `first` with the same ports (canonical form).
 */
static void
builder_close_run(struct builder *b, uint32_t start, uint64_t first, uint64_t last)
{
	uint32_t len = b->n - start;

	if (len == 0)
		return;
	for (uint32_t i = start; i < b->n; i++) {
		b->r[i].addr_first = (uint32_t)first;
		b->r[i].addr_last = (uint32_t)last;
	}
	if (b->prev_len == len && (uint64_t)b->r[b->prev].addr_last + 1 == first &&
	    same_ports(b->r + b->prev, b->r + start, len)) {
		for (uint32_t i = b->prev; i < b->prev + len; i++)
			b->r[i].addr_last = (uint32_t)last;
		b->n = start;
		return;
	}
	b->prev = start;
	b->prev_len = len;
}

/* x ∪ y for two sorted, disjoint, non-adjacent port lists. Fuses adjacent. */
static void
ports_union(struct builder *b, const struct pool4_range *x, uint32_t xn,
	    const struct pool4_range *y, uint32_t yn)
{
	uint32_t i = 0, j = 0, lo = 0, hi = 0;
	bool open = false;

	while (i < xn || j < yn) {
		const struct pool4_range *next;

		if (j >= yn || (i < xn && x[i].port_min <= y[j].port_min))
			next = &x[i++];
		else
			next = &y[j++];
		if (open && next->port_min <= hi + 1) {
			if (next->port_max > hi)
				hi = next->port_max;
			continue;
		}
		if (open)
			builder_push(b, lo, hi);
		lo = next->port_min;
		hi = next->port_max;
		open = true;
	}
	if (open)
		builder_push(b, lo, hi);
}

/* x \ y for two sorted, disjoint port lists. */
static void
ports_subtract(struct builder *b, const struct pool4_range *x, uint32_t xn,
	       const struct pool4_range *y, uint32_t yn)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < xn; i++) {
		uint32_t lo = x[i].port_min, hi = x[i].port_max;

		/* y intervals wholly before this x cannot touch later ones. */
		while (j < yn && y[j].port_max < lo)
			j++;
		for (uint32_t k = j; k < yn && y[k].port_min <= hi && lo <= hi; k++) {
			if (y[k].port_min > lo)
				builder_push(b, lo, y[k].port_min - 1u);
			if ((uint32_t)y[k].port_max + 1 > lo)
				lo = (uint32_t)y[k].port_max + 1;
		}
		if (lo <= hi)
			builder_push(b, lo, hi);
	}
}

/* Walks the runs (items sharing an address interval) of a canonical array. */
struct cursor {
	const struct pool4_range *r;
	uint32_t n;
	uint32_t i;   /* first item of the current run */
	uint32_t len; /* items in the current run */
};

static void
cursor_load(struct cursor *c)
{
	c->len = 0;
	while (c->i + c->len < c->n && c->r[c->i + c->len].addr_first == c->r[c->i].addr_first)
		c->len++;
}

static void
cursor_init(struct cursor *c, const struct pool4_range *r, uint32_t n)
{
	*c = (struct cursor){.r = r, .n = n};
	cursor_load(c);
}

static void
cursor_next(struct cursor *c)
{
	c->i += c->len;
	cursor_load(c);
}

static uint64_t
cursor_first(const struct cursor *c)
{
	return c->i < c->n ? c->r[c->i].addr_first : ADDR_END;
}

static uint64_t
cursor_last(const struct cursor *c)
{
	return c->r[c->i].addr_last;
}

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Emit the result of `op` for the addresses [first, last]. */
static int
segment(struct builder *b, uint64_t first, uint64_t last, const struct cursor *cx,
	const struct cursor *cy, enum op op)
{
	const struct pool4_range *x = cx ? cx->r + cx->i : NULL;
	const struct pool4_range *y = cy ? cy->r + cy->i : NULL;
	uint32_t xn = cx ? cx->len : 0, yn = cy ? cy->len : 0;
	uint32_t start = b->n;
	int err;

	err = builder_reserve(b, xn + yn);
	if (err)
		return err;
	if (op == OP_UNION)
		ports_union(b, x, xn, y, yn);
	else
		ports_subtract(b, x, xn, y, yn);
	builder_close_run(b, start, first, last);
	return 0;
}

/*
 * x op y, both canonical, appended to `b` in canonical form. The sweep
 * cuts the address line at every run boundary of either operand, so each
 * segment has one port list on each side.
 */
static int
combine(struct builder *b, const struct pool4_range *x, uint32_t xn, const struct pool4_range *y,
	uint32_t yn, enum op op)
{
	struct cursor cx, cy;
	uint64_t a = 0;

	cursor_init(&cx, x, xn);
	cursor_init(&cy, y, yn);
	while (cx.i < cx.n || cy.i < cy.n) {
		uint64_t xf = cursor_first(&cx), yf = cursor_first(&cy);
		uint64_t end = ADDR_END - 1;
		bool inx, iny;
		int err;

		if (a < xf && a < yf)
			a = min64(xf, yf);
		inx = xf <= a;
		iny = yf <= a;
		end = min64(end, inx ? cursor_last(&cx) : xf - 1);
		end = min64(end, iny ? cursor_last(&cy) : yf - 1);
		err = segment(b, a, end, inx ? &cx : NULL, iny ? &cy : NULL, op);
		if (err)
			return err;
		if (inx && cursor_last(&cx) == end)
			cursor_next(&cx);
		if (iny && cursor_last(&cy) == end)
			cursor_next(&cy);
		a = end + 1;
	}
	return 0;
}

static void
body_free(struct body *b)
{
	free(b->ranges);
	free(b->runs);
	*b = empty_body;
}

static uint32_t
count_runs(const struct pool4_range *r, uint32_t n)
{
	uint32_t runs = 0;

	for (uint32_t i = 0; i < n; i++)
		if (i == 0 || r[i].addr_first != r[i - 1].addr_first)
			runs++;
	return runs;
}

/* Fill the run index and the totals of a body whose ranges are set. */
static void
body_index_runs(struct body *b)
{
	struct pool4_run *run = NULL;

	b->taddrs = 0;
	b->addrs = 0;
	for (uint32_t i = 0; i < b->nranges; i++) {
		const struct pool4_range *r = &b->ranges[i];
		uint64_t naddr = (uint64_t)r->addr_last - r->addr_first + 1;

		if (!run || run->addr_first != r->addr_first) {
			run = run ? run + 1 : b->runs;
			*run = (struct pool4_run){
				.addr_first = r->addr_first,
				.addr_last = r->addr_last,
				.first = i,
				.addrs_before = b->addrs,
			};
			b->addrs += naddr;
		}
		run->count++;
		b->taddrs += naddr * ((uint64_t)r->port_max - r->port_min + 1);
	}
}

/* Turn a finished builder into an exactly sized body. Frees the builder. */
static int
body_from_builder(struct builder *bld, struct body *out)
{
	*out = empty_body;
	if (bld->n == 0)
		goto out;
	out->nranges = bld->n;
	out->nruns = count_runs(bld->r, bld->n);
	out->ranges = malloc(out->nranges * sizeof(*out->ranges));
	out->runs = malloc(out->nruns * sizeof(*out->runs));
	if (!out->ranges || !out->runs) {
		body_free(out);
		free(bld->r);
		return -ENOMEM;
	}
	memcpy(out->ranges, bld->r, out->nranges * sizeof(*out->ranges));
	body_index_runs(out);
out:
	free(bld->r);
	return 0;
}

/* out = x op y (out is new; x and y are untouched). */
static int
body_combine(const struct pool4_range *x, uint32_t xn, const struct pool4_range *y, uint32_t yn,
	     enum op op, struct body *out)
{
	struct builder bld = {0};
	int err;

	err = combine(&bld, x, xn, y, yn, op);
	if (err) {
		free(bld.r);
		*out = empty_body;
		return err;
	}
	return body_from_builder(&bld, out);
}

static int
body_copy(const struct body *src, struct body *out)
{
	*out = *src;
	if (src->nranges == 0)
		return 0;
	out->ranges = malloc(src->nranges * sizeof(*src->ranges));
	out->runs = malloc(src->nruns * sizeof(*src->runs));
	if (!out->ranges || !out->runs) {
		body_free(out);
		return -ENOMEM;
	}
	memcpy(out->ranges, src->ranges, src->nranges * sizeof(*src->ranges));
	memcpy(out->runs, src->runs, src->nruns * sizeof(*src->runs));
	return 0;
}

static const struct pool4_run *
body_find_run(const struct body *b, uint32_t addr)
{
	uint32_t lo = 0, hi = b->nruns;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct pool4_run *run = &b->runs[mid];

		if (addr < run->addr_first)
			hi = mid;
		else if (addr > run->addr_last)
			lo = mid + 1;
		else
			return run;
	}
	return NULL;
}

static bool
run_has_port(const struct body *b, const struct pool4_run *run, uint16_t port)
{
	const struct pool4_range *r = b->ranges + run->first;
	uint32_t lo = 0, hi = run->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (port < r[mid].port_min)
			hi = mid;
		else if (port > r[mid].port_max)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static uint32_t
run_port_count(const struct body *b, const struct pool4_run *run)
{
	uint32_t ports = 0;

	for (uint32_t i = run->first; i < run->first + run->count; i++)
		ports += (uint32_t)b->ranges[i].port_max - b->ranges[i].port_min + 1;
	return ports;
}

static size_t
body_bytes(const struct body *b)
{
	return b->nranges * sizeof(*b->ranges) + b->nruns * sizeof(*b->runs);
}

/* ---- Validation ---- */

static uint32_t
host_mask(uint8_t len)
{
	return len >= 32 ? 0 : UINT32_MAX >> len;
}

/* Check `e` and turn it into one rectangle. Adding raises TCP/UDP port 0. */
static int
entry_to_range(const struct pool4_entry *e, bool adding, struct pool4_range *out)
{
	uint32_t addr, mask;
	uint16_t lo, hi;

	if ((unsigned)e->proto >= L4_COUNT)
		return -EPROTONOSUPPORT;
	if (e->prefix.len > 32)
		return -EINVAL;
	addr = ntohl(e->prefix.addr.s_addr);
	mask = host_mask(e->prefix.len);
	if (addr & mask)
		return -EADDRNOTAVAIL;
	/* Jool's client swaps a reversed range; we accept it the same way. */
	lo = e->port_min < e->port_max ? e->port_min : e->port_max;
	hi = e->port_min < e->port_max ? e->port_max : e->port_min;
	/* JOOL-REFERENCE §1: for TCP and UDP, port 0 is raised to 1. */
	if (adding && e->proto != L4_ICMP) {
		if (hi == 0)
			return -EDOM;
		if (lo == 0)
			lo = 1;
	}
	*out = (struct pool4_range){addr, addr | mask, lo, hi};
	return 0;
}

static int
iterations_check(const struct pool4_iterations *it)
{
	if (!it)
		return 0;
	switch (it->kind) {
	case POOL4_ITER_UNCHANGED:
	case POOL4_ITER_AUTO:
	case POOL4_ITER_INFINITY:
		return 0;
	case POOL4_ITER_FIXED:
		/* JOOL-REFERENCE §3.2: 0 is rejected. */
		return it->value >= 1 ? 0 : -ERANGE;
	}
	return -ERANGE;
}

const char *
pool4_strerror(int err)
{
	switch (err) {
	case 0:
		return "Success.";
	case -EPROTONOSUPPORT:
		return "The protocol must be TCP, UDP or ICMP.";
	case -EINVAL:
		return "The prefix length must be 0 to 32.";
	case -EADDRNOTAVAIL:
		return "The prefix has bits set after its length.";
	case -EDOM:
		return "Port 0 is not usable for TCP or UDP: the range must include a port above "
		       "0.";
	case -ERANGE:
		return "max-iterations must be auto, infinity or a number of at least 1.";
	case -ENOENT:
		return "Nothing to remove: no such pool4 entry.";
	case -ENOMEM:
		return "Out of memory.";
	}
	return "Unknown pool4 error.";
}

/* ---- Sets ---- */

static uint64_t
set_key(enum l4proto proto, uint32_t mark)
{
	return ((uint64_t)proto << 32) | mark;
}

/* Index of the first set whose key is >= (proto, mark). */
static uint32_t
set_lower_bound(const struct pool4 *p, enum l4proto proto, uint32_t mark)
{
	uint64_t key = set_key(proto, mark);
	uint32_t lo = 0, hi = p->nsets;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (set_key(p->sets[mid].proto, p->sets[mid].mark) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct pool4_set *
set_find(const struct pool4 *p, enum l4proto proto, uint32_t mark)
{
	uint32_t i = set_lower_bound(p, proto, mark);

	if (i < p->nsets && p->sets[i].proto == proto && p->sets[i].mark == mark)
		return &p->sets[i];
	return NULL;
}

/* Insert an empty (mark, proto) set with iterations auto. */
static int
set_insert(struct pool4 *p, enum l4proto proto, uint32_t mark, struct pool4_set **out)
{
	uint32_t i = set_lower_bound(p, proto, mark);

	if (p->nsets == p->setcap) {
		uint32_t cap = p->setcap ? p->setcap * 2 : 4;
		struct pool4_set *sets = realloc(p->sets, cap * sizeof(*sets));

		if (!sets)
			return -ENOMEM;
		p->sets = sets;
		p->setcap = cap;
	}
	memmove(&p->sets[i + 1], &p->sets[i], (p->nsets - i) * sizeof(*p->sets));
	p->sets[i] = (struct pool4_set){
		.mark = mark,
		.proto = proto,
		.iter = {.kind = POOL4_ITER_AUTO},
	};
	p->nsets++;
	*out = &p->sets[i];
	return 0;
}

static void
set_delete(struct pool4 *p, struct pool4_set *s)
{
	uint32_t i = (uint32_t)(s - p->sets);

	body_free(&s->body);
	memmove(&p->sets[i], &p->sets[i + 1], (p->nsets - i - 1) * sizeof(*p->sets));
	p->nsets--;
}

/*
 * The 4->6 index of `proto` once set `mark` holds `repl`: the union of
 * every set of the protocol, the mark forgotten.
 */
static int
index_build(const struct pool4 *p, enum l4proto proto, uint32_t mark, const struct body *repl,
	    struct body *out)
{
	struct body acc;
	int err;

	err = body_copy(repl, &acc);
	for (uint32_t i = set_lower_bound(p, proto, 0);
	     !err && i < p->nsets && p->sets[i].proto == proto; i++) {
		const struct body *b = &p->sets[i].body;
		struct body next;

		if (p->sets[i].mark == mark)
			continue;
		err = body_combine(acc.ranges, acc.nranges, b->ranges, b->nranges, OP_UNION, &next);
		body_free(&acc);
		acc = next;
	}
	if (err) {
		body_free(&acc);
		return err;
	}
	*out = acc;
	return 0;
}

/* Swap in a set's new body and its protocol's new index. */
static void
commit(struct pool4 *p, struct pool4_set *s, struct body *nb, struct body *ni)
{
	enum l4proto proto = s->proto;

	body_free(&s->body);
	s->body = *nb;
	body_free(&p->index[proto]);
	p->index[proto] = *ni;
	if (s->body.nranges == 0)
		set_delete(p, s);
}

int
pool4_add(struct pool4 *p, const struct pool4_entry *e, const struct pool4_iterations *iter)
{
	struct pool4_range rect;
	struct pool4_set *s;
	struct body nb, ni;
	int err;

	err = entry_to_range(e, true, &rect);
	if (!err)
		err = iterations_check(iter);
	if (err)
		return err;
	s = set_find(p, e->proto, e->mark);
	err = body_combine(s ? s->body.ranges : NULL, s ? s->body.nranges : 0, &rect, 1, OP_UNION,
			   &nb);
	if (err)
		return err;
	err = index_build(p, e->proto, e->mark, &nb, &ni);
	if (err)
		goto err_free_nb;
	if (!s) {
		err = set_insert(p, e->proto, e->mark, &s);
		if (err)
			goto err_free_ni;
	}
	if (iter && iter->kind != POOL4_ITER_UNCHANGED)
		s->iter = *iter;
	commit(p, s, &nb, &ni);
	return 0;

err_free_ni:
	body_free(&ni);
err_free_nb:
	body_free(&nb);
	return err;
}

int
pool4_remove(struct pool4 *p, const struct pool4_entry *e)
{
	struct pool4_range rect;
	struct pool4_set *s;
	struct body nb, ni;
	int err;

	err = entry_to_range(e, false, &rect);
	if (err)
		return err;
	s = set_find(p, e->proto, e->mark);
	if (!s)
		return -ENOENT;
	err = body_combine(s->body.ranges, s->body.nranges, &rect, 1, OP_SUBTRACT, &nb);
	if (err)
		return err;
	if (nb.taddrs == s->body.taddrs) {
		body_free(&nb);
		return -ENOENT;
	}
	err = index_build(p, e->proto, e->mark, &nb, &ni);
	if (err) {
		body_free(&nb);
		return err;
	}
	commit(p, s, &nb, &ni);
	return 0;
}

void
pool4_flush(struct pool4 *p)
{
	for (uint32_t i = 0; i < p->nsets; i++)
		body_free(&p->sets[i].body);
	free(p->sets);
	p->sets = NULL;
	p->nsets = 0;
	p->setcap = 0;
	for (int proto = 0; proto < L4_COUNT; proto++)
		body_free(&p->index[proto]);
}

/* ---- Fallback ---- */

static int
cmp_range_addr(const void *a, const void *b)
{
	uint32_t x = ((const struct pool4_range *)a)->addr_first;
	uint32_t y = ((const struct pool4_range *)b)->addr_first;

	return (x > y) - (x < y);
}

/* Sorted, duplicate-free /32 items with the fallback ports. Returns count. */
static uint32_t
fallback_items(const struct in_addr *addrs, uint32_t n, struct pool4_range *out)
{
	uint32_t m = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t a = ntohl(addrs[i].s_addr);

		out[i] = (struct pool4_range){a, a, POOL4_FALLBACK_PORT_MIN,
					      POOL4_FALLBACK_PORT_MAX};
	}
	qsort(out, n, sizeof(*out), cmp_range_addr);
	for (uint32_t i = 0; i < n; i++)
		if (m == 0 || out[m - 1].addr_first != out[i].addr_first)
			out[m++] = out[i];
	return m;
}

int
pool4_set_fallback(struct pool4 *p, const struct in_addr *addrs, size_t n)
{
	struct body nb[L4_COUNT] = {0};
	struct pool4_range *items = NULL;
	uint32_t m = 0;
	int err = 0;

	if (n > UINT32_MAX)
		return -ENOMEM;
	if (n) {
		items = malloc(n * sizeof(*items));
		if (!items)
			return -ENOMEM;
		m = fallback_items(addrs, (uint32_t)n, items);
	}
	/* Sorted distinct /32s are runs already; the union with nothing fuses
	 * neighbours into canonical form. */
	for (int proto = 0; !err && proto < L4_COUNT; proto++)
		err = body_combine(items, m, NULL, 0, OP_UNION, &nb[proto]);
	free(items);
	for (int proto = 0; proto < L4_COUNT; proto++) {
		if (err) {
			body_free(&nb[proto]);
			continue;
		}
		body_free(&p->fallback[proto].body);
		p->fallback[proto].body = nb[proto];
	}
	return err;
}

/* ---- Life cycle ---- */

struct pool4 *
pool4_create(void)
{
	struct pool4 *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	for (int proto = 0; proto < L4_COUNT; proto++)
		p->fallback[proto] = (struct pool4_set){
			.proto = (enum l4proto)proto,
			.iter = {.kind = POOL4_ITER_INFINITY},
		};
	return p;
}

void
pool4_destroy(struct pool4 *p)
{
	if (!p)
		return;
	pool4_flush(p);
	for (int proto = 0; proto < L4_COUNT; proto++)
		body_free(&p->fallback[proto].body);
	free(p);
}

/* ---- Reads ---- */

/* What answers for `proto` in 4->6: the entries, or the fallback. */
static const struct body *
effective_index(const struct pool4 *p, enum l4proto proto)
{
	if (p->index[proto].nranges)
		return &p->index[proto];
	return &p->fallback[proto].body;
}

bool
pool4_contains(const struct pool4 *p, enum l4proto proto, const struct taddr4 *t)
{
	const struct body *b;
	const struct pool4_run *run;

	if ((unsigned)proto >= L4_COUNT)
		return false;
	b = effective_index(p, proto);
	run = body_find_run(b, ntohl(t->addr.s_addr));
	return run && run_has_port(b, run, t->port);
}

const struct pool4_set *
pool4_find_set(const struct pool4 *p, uint32_t mark, enum l4proto proto)
{
	if ((unsigned)proto >= L4_COUNT)
		return NULL;
	if (p->index[proto].nranges == 0)
		return p->fallback[proto].body.nranges ? &p->fallback[proto] : NULL;
	return set_find(p, proto, mark);
}

uint32_t
pool4_auto_iterations(uint64_t taddr_count)
{
	uint64_t n = taddr_count / POOL4_AUTO_ITERATIONS_DIVISOR;

	if (n < POOL4_AUTO_ITERATIONS_MIN)
		return POOL4_AUTO_ITERATIONS_MIN;
	if (n > POOL4_AUTO_ITERATIONS_MAX)
		return POOL4_AUTO_ITERATIONS_MAX;
	return (uint32_t)n;
}

uint64_t
pool4_set_max_iterations(const struct pool4_set *s)
{
	switch (s->iter.kind) {
	case POOL4_ITER_FIXED:
		return s->iter.value;
	case POOL4_ITER_INFINITY:
		return POOL4_ITERATIONS_INFINITE;
	default:
		return pool4_auto_iterations(s->body.taddrs);
	}
}

void
pool4_set_get_info(const struct pool4_set *s, struct pool4_set_info *out)
{
	*out = (struct pool4_set_info){
		.mark = s->mark,
		.proto = s->proto,
		.iterations = s->iter,
		.max_iterations = pool4_set_max_iterations(s),
		.taddr_count = s->body.taddrs,
		.addr_count = s->body.addrs,
		.range_count = s->body.nranges,
	};
}

enum l4proto
pool4_set_proto(const struct pool4_set *s)
{
	return s->proto;
}

const struct pool4_range *
pool4_set_ranges(const struct pool4_set *s, uint32_t *count)
{
	*count = s->body.nranges;
	return s->body.ranges;
}

const struct pool4_run *
pool4_set_runs(const struct pool4_set *s, uint32_t *count)
{
	*count = s->body.nruns;
	return s->body.runs;
}

uint64_t
pool4_set_addr_count(const struct pool4_set *s)
{
	return s->body.addrs;
}

uint64_t
pool4_set_taddr_count(const struct pool4_set *s)
{
	return s->body.taddrs;
}

const struct pool4_run *
pool4_set_find_run(const struct pool4_set *s, uint32_t addr)
{
	return body_find_run(&s->body, addr);
}

int
pool4_get_set_info(const struct pool4 *p, uint32_t mark, enum l4proto proto,
		   struct pool4_set_info *out)
{
	const struct pool4_set *s;

	if ((unsigned)proto >= L4_COUNT)
		return -EPROTONOSUPPORT;
	s = set_find(p, proto, mark);
	if (!s)
		return -ENOENT;
	pool4_set_get_info(s, out);
	return 0;
}

/* Length of the largest CIDR block that starts at `first` and ends by `last`. */
static uint8_t
cidr_len(uint64_t first, uint64_t last)
{
	uint8_t len = 0;
	uint64_t size = ADDR_END;

	while (len < 32 && ((first & (size - 1)) != 0 || first + size - 1 > last)) {
		size >>= 1;
		len++;
	}
	return len;
}

/* One run of a set, cut into CIDR blocks, each with every port interval. */
static int
foreach_run(const struct pool4_set *s, const struct pool4_run *run,
	    const struct pool4_set_info *info, pool4_entry_cb cb, void *ctx)
{
	uint64_t a = run->addr_first;

	while (a <= run->addr_last) {
		uint8_t len = cidr_len(a, run->addr_last);
		struct pool4_entry e = {
			.mark = s->mark,
			.proto = s->proto,
			.prefix = {.addr.s_addr = htonl((uint32_t)a), .len = len},
		};

		for (uint32_t i = run->first; i < run->first + run->count; i++) {
			int ret;

			e.port_min = s->body.ranges[i].port_min;
			e.port_max = s->body.ranges[i].port_max;
			ret = cb(ctx, &e, info);
			if (ret)
				return ret;
		}
		a += ADDR_END >> len;
	}
	return 0;
}

int
pool4_foreach(const struct pool4 *p, enum l4proto proto, pool4_entry_cb cb, void *ctx)
{
	if ((unsigned)proto >= L4_COUNT)
		return 0;
	for (uint32_t i = set_lower_bound(p, proto, 0); i < p->nsets && p->sets[i].proto == proto;
	     i++) {
		const struct pool4_set *s = &p->sets[i];
		struct pool4_set_info info;

		pool4_set_get_info(s, &info);
		for (uint32_t r = 0; r < s->body.nruns; r++) {
			int ret = foreach_run(s, &s->body.runs[r], &info, cb, ctx);

			if (ret)
				return ret;
		}
	}
	return 0;
}

int
pool4_foreach_set(const struct pool4 *p, enum l4proto proto, pool4_set_cb cb, void *ctx)
{
	if ((unsigned)proto >= L4_COUNT)
		return 0;
	for (uint32_t i = set_lower_bound(p, proto, 0); i < p->nsets && p->sets[i].proto == proto;
	     i++) {
		struct pool4_set_info info;
		int ret;

		pool4_set_get_info(&p->sets[i], &info);
		ret = cb(ctx, &info);
		if (ret)
			return ret;
	}
	return 0;
}

uint32_t
pool4_port_count(const struct pool4 *p, enum l4proto proto, struct in_addr addr)
{
	const struct body *b;
	const struct pool4_run *run;

	if ((unsigned)proto >= L4_COUNT)
		return 0;
	b = effective_index(p, proto);
	run = body_find_run(b, ntohl(addr.s_addr));
	return run ? run_port_count(b, run) : 0;
}

int
pool4_foreach_address(const struct pool4 *p, enum l4proto proto, pool4_addr_cb cb, void *ctx)
{
	const struct body *b;

	if ((unsigned)proto >= L4_COUNT)
		return 0;
	b = effective_index(p, proto);
	for (uint32_t r = 0; r < b->nruns; r++) {
		const struct pool4_run *run = &b->runs[r];
		uint32_t ports = run_port_count(b, run);

		for (uint64_t a = run->addr_first; a <= run->addr_last; a++) {
			int ret = cb(ctx, (struct in_addr){htonl((uint32_t)a)}, ports);

			if (ret)
				return ret;
		}
	}
	return 0;
}

size_t
pool4_memory_bytes(const struct pool4 *p)
{
	size_t bytes = sizeof(*p) + p->setcap * sizeof(*p->sets);

	for (uint32_t i = 0; i < p->nsets; i++)
		bytes += body_bytes(&p->sets[i].body);
	for (int proto = 0; proto < L4_COUNT; proto++) {
		bytes += body_bytes(&p->index[proto]);
		bytes += body_bytes(&p->fallback[proto].body);
	}
	return bytes;
}
