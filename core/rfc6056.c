/*
 * RFC 6056 port choice for new BIB entries, with paired address pooling.
 *
 * Why algorithm 3 (RFC 6056 §3.3.3, "Simple Hash-Based Port Selection"):
 *   - algorithms 1 and 2 (§3.3.1, §3.3.2) draw a fresh random port per
 *     connection: no locality, and they need a random source per packet;
 *   - algorithm 4 (§3.3.4, double hash) keeps a table of counters, memory
 *     per worker for little gain here;
 *   - algorithm 5 (§3.3.5, random increments) needs random numbers too;
 *   - algorithm 3 is a keyed hash of the flow plus one counter: unguessable
 *     without the key, deterministic for tests, no allocation. Jool uses
 *     it with MD5 and a copy of the whole set per packet; we use SipHash
 *     (siphash.h) and walk the set where it lies.
 *
 * Deviation from Jool: Jool walks the taddrs of the whole set as one flat
 * sequence, so a host's connections may spread over several addresses. We
 * choose the address first (RFC 4787 REQ-2, paired pooling: the address
 * the host already uses, else a hash of its IPv6 address), then the port
 * on that address, which is what Jool's unmerged "improved-rfc6056" branch
 * proposes.
 *
 * Port rules on one address, in order:
 *   - Port preservation (RFC 4787 §4.2): if the IPv6 source port is in the
 *     set and free, keep it. The host chose it at random already (RFC 6056
 *     applies to it too), so keeping it costs no unpredictability and helps
 *     applications that embed ports.
 *   - RFC 6146 §3.5.1.1 (and RFC 4787 §4.2.1, REQ-3): when S_port is in
 *     0-1023 and the NAT64 has an available port in 0-1023 on address T, it
 *     SHOULD allocate one of those; likewise for 1024-65535. The class rule
 *     is conditioned on a port of that class being available, so when none
 *     is free on T we fall back to the other class rather than leave T
 *     (which paired pooling asks us not to do).
 *   - RFC 6146 §3.5.1.1 also says the NAT64 SHOULD preserve the port parity
 *     (RFC 4787 §4.2.2, REQ-4). Parity is an unconditional SHOULD but the
 *     class rule says "if available", so while the class has any free port
 *     the class wins: we try same class and parity, then same class other
 *     parity, then other class same parity, then other class other parity.
 *     ICMP identifiers have no well-known range, so ICMP uses one class,
 *     0-65535 (parity kept, then dropped).
 *   - Operators who never want ports 0-1023 handed out leave them out of
 *     pool4 (the empty-pool4 fallback uses 61001-65535 only).
 *
 * Budget. Every probed taddr (preservation included) is one iteration and
 * a call makes at most min(max-iterations, taddrs of the set) of them
 * (JOOL-REFERENCE §3.2). The BIB only answers "is this one taken?", so a
 * full address or a full lane (class and parity) can only be discovered by
 * probing it. With paired pooling that matters: a host whose address is
 * full would spend the whole budget there on every attempt and never get a
 * mapping; and Linux prefers even source ports for connect(), so the even
 * lane of an address fills long before the odd one. So the budget is
 * shared (allowance()): each address in walk order, and each lane within
 * an address, may use at least half of what is left, plus whatever the
 * takers after it could not use anyway (their taddr counts are known).
 * Earlier choices keep the larger share (a lane of 32256 ports that is 99%
 * full still yields a free port within 512 probes with probability 0.994),
 * later ones are guaranteed some, and no budget is left unused while a
 * taddr remains untried.
 */
#include "rfc6056.h"

#include <arpa/inet.h>

/* One pass of the port walk: a class of ports and a parity. */
struct lane {
	uint32_t lo;
	uint32_t hi;
	uint32_t parity; /* 0 even, 1 odd */
};

enum { LANES_MAX = 4 };

/* State of one rfc6056_choose() call. */
struct walk {
	const struct rfc6056_query *q;
	const struct port_share *share;
	const struct pool4_range *ranges; /* the set's items */
	struct lane lanes[LANES_MAX];
	unsigned nlanes;
	uint64_t offset;      /* F() + next_ephemeral */
	uint64_t budget;      /* probes left for the whole call */
	uint64_t probes;      /* all probes */
	uint64_t walk_probes; /* probes of algorithm 3 proper (next_ephemeral) */
	bool cut_short;       /* some taddr was left untried for want of budget */
	struct taddr4 found;
};

void
rfc6056_init(struct rfc6056 *r, const struct siphash_key *key, uint8_t f_args)
{
	*r = (struct rfc6056){.key = *key, .f_args = f_args & RFC6056_F_MASK};
}

static size_t
put_port(uint8_t *buf, uint16_t port)
{
	buf[0] = (uint8_t)(port >> 8);
	buf[1] = (uint8_t)port;
	return 2;
}

uint64_t
rfc6056_offset(const struct rfc6056 *r, const struct taddr6 *src6, const struct taddr6 *dst6)
{
	/* Tag byte: keeps F() apart from the address hash below even when
	 * f-args selects the source address alone. */
	uint8_t buf[1 + 2 * (sizeof(struct in6_addr) + 2)];
	size_t len = 0;

	buf[len++] = 'P';
	if (r->f_args & RFC6056_F_SRC_ADDR) {
		memcpy(buf + len, &src6->addr, sizeof(src6->addr));
		len += sizeof(src6->addr);
	}
	if (r->f_args & RFC6056_F_SRC_PORT)
		len += put_port(buf + len, src6->port);
	if (r->f_args & RFC6056_F_DST_ADDR) {
		memcpy(buf + len, &dst6->addr, sizeof(dst6->addr));
		len += sizeof(dst6->addr);
	}
	if (r->f_args & RFC6056_F_DST_PORT)
		len += put_port(buf + len, dst6->port);
	return siphash(&r->key, buf, len);
}

/* RFC 4787 REQ-2: one IPv6 host, one IPv4 address, stable for the key. */
static uint64_t
address_hash(const struct rfc6056 *r, const struct in6_addr *src)
{
	uint8_t buf[1 + sizeof(*src)];

	buf[0] = 'A';
	memcpy(buf + 1, src, sizeof(*src));
	return siphash(&r->key, buf, sizeof(buf));
}

/*
 * The probes a taker (an address, or a lane of one) may use out of `left`
 * when the takers after it hold `later` taddrs: half at least, and all
 * that the later ones could not use. A taker never probes more than its
 * own taddrs, so what it leaves goes on to the next.
 */
static uint64_t
allowance(uint64_t left, uint64_t later)
{
	uint64_t a = left - left / 2;

	if (later < left && left - later > a)
		a = left - later;
	return a;
}

/* Lane order as explained at the top of the file. */
static unsigned
lanes_for(enum l4proto proto, uint16_t sport, struct lane *out)
{
	uint32_t par = sport & 1u;
	bool low = sport < 1024;
	struct lane own = low ? (struct lane){0, 1023, 0} : (struct lane){1024, 65535, 0};
	struct lane other = low ? (struct lane){1024, 65535, 0} : (struct lane){0, 1023, 0};

	if (proto == L4_ICMP) {
		out[0] = (struct lane){0, 65535, par};
		out[1] = (struct lane){0, 65535, par ^ 1u};
		return 2;
	}
	out[0] = own;
	out[0].parity = par;
	out[1] = own;
	out[1].parity = par ^ 1u;
	out[2] = other;
	out[2].parity = par;
	out[3] = other;
	out[3].parity = par ^ 1u;
	return 4;
}

/*
 * The ports of `r` inside lane `l`: returns how many, and the first and
 * last of them (both of the lane's parity).
 */
static uint32_t
lane_span(const struct pool4_range *r, const struct lane *l, uint32_t *first, uint32_t *last)
{
	uint32_t lo = r->port_min > l->lo ? r->port_min : l->lo;
	uint32_t hi = r->port_max < l->hi ? r->port_max : l->hi;

	if (lo > hi)
		return 0;
	if ((lo & 1u) != l->parity)
		lo++;
	if ((hi & 1u) != l->parity)
		hi--;
	if (lo > hi || hi == UINT32_MAX)
		return 0;
	*first = lo;
	*last = hi;
	return (hi - lo) / 2 + 1;
}

static uint32_t
lane_count(const struct pool4_range *r, uint32_t n, const struct lane *l)
{
	uint32_t total = 0, first, last;

	for (uint32_t i = 0; i < n; i++)
		total += lane_span(&r[i], l, &first, &last);
	return total;
}

/*
 * Ask the BIB about one taddr, if `*left` allows; true when it is free
 * (then it is `found`).
 */
static bool
probe(struct walk *w, uint32_t addr, uint32_t port, uint64_t *left)
{
	struct taddr4 t = {.addr.s_addr = htonl(addr), .port = (uint16_t)port};

	if (*left == 0) {
		w->cut_short = true;
		return false;
	}
	(*left)--;
	w->budget--;
	w->probes++;
	if (w->q->is_taken(w->q->ctx, &t))
		return false;
	w->found = t;
	return true;
}

/* Port number `k` (0-based) of lane `l` in the run's items; sets *item. */
static uint32_t
lane_port_at(const struct pool4_range *r, const struct lane *l, uint64_t k, uint32_t *item)
{
	uint32_t first = 0, last, i = 0;

	for (;; i++) {
		uint32_t c = lane_span(&r[i], l, &first, &last);

		if (k < c)
			break;
		k -= c;
	}
	*item = i;
	return first + 2 * (uint32_t)k;
}

/* The lane port after `port` (in item *item), wrapping around the run. */
static uint32_t
lane_next(const struct pool4_range *r, uint32_t n, const struct lane *l, uint32_t port,
	  uint32_t *item)
{
	uint32_t first, last;

	lane_span(&r[*item], l, &first, &last);
	if (port + 2 <= last)
		return port + 2;
	do
		*item = (*item + 1) % n;
	while (lane_span(&r[*item], l, &first, &last) == 0);
	return first;
}

/*
 * RFC 6056 §3.3.3: start at offset mod (ports of the lane) and step
 * through the lane, wrapping, until a free port or `left` probes are used.
 * `skip` is the source port when preservation already probed it.
 */
static bool
walk_lane(struct walk *w, uint32_t addr, const struct pool4_run *run, const struct lane *l,
	  int32_t skip, uint64_t left)
{
	const struct pool4_range *r = w->ranges + run->first;
	uint32_t total = lane_count(r, run->count, l);
	uint32_t item, port;

	if (total == 0)
		return false;
	port = lane_port_at(r, l, w->offset % total, &item);
	for (uint32_t todo = total; todo > 0; todo--) {
		if ((int32_t)port != skip && port_share_mine(w->share, (uint16_t)port)) {
			if (left == 0) {
				w->cut_short = true;
				break;
			}
			w->walk_probes++;
			if (probe(w, addr, port, &left))
				return true;
		}
		port = lane_next(r, run->count, l, port, &item);
	}
	return false;
}

static bool
run_has_port(const struct pool4_range *r, uint32_t n, uint16_t port)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].port_min <= port && port <= r[i].port_max)
			return true;
	return false;
}

static uint64_t
run_ports(const struct pool4_range *r, uint32_t n)
{
	uint64_t ports = 0;

	for (uint32_t i = 0; i < n; i++)
		ports += (uint32_t)r[i].port_max - r[i].port_min + 1;
	return ports;
}

/* All the port rules on one address of the set, within `left` probes. */
static bool
try_address(struct walk *w, const struct pool4_run *run, uint32_t addr, uint64_t left)
{
	const struct pool4_range *r = w->ranges + run->first;
	uint16_t sport = w->q->src6->port;
	uint64_t size[LANES_MAX], later = 0;
	int32_t skip = -1;

	if (run_has_port(r, run->count, sport) && port_share_mine(w->share, sport)) {
		if (probe(w, addr, sport, &left))
			return true;
		skip = sport; /* in lane 0 (its own class and parity) */
	}
	for (unsigned i = 0; i < w->nlanes; i++) {
		size[i] = lane_count(r, run->count, &w->lanes[i]) - (i == 0 && skip >= 0);
		later += size[i];
	}
	for (unsigned i = 0; i < w->nlanes; i++) {
		uint64_t before = w->probes, a;

		later -= size[i];
		a = allowance(left, later);
		if (walk_lane(w, addr, run, &w->lanes[i], skip, a))
			return true;
		left -= w->probes - before;
	}
	return false;
}

/* The run holding address number `k` of the set (0-based). */
static uint32_t
run_at(const struct pool4_run *runs, uint32_t nruns, uint64_t k)
{
	uint32_t lo = 0, hi = nruns;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (runs[mid].addrs_before <= k)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * No preferred address, or it is full: start at the address the host's
 * hash picks and go through every other address in order. `skip` is the
 * preferred address (host order) already tried, or -1; `rest` the taddrs
 * not tried yet.
 */
static bool
walk_addresses(struct walk *w, const struct pool4_set *set, uint64_t start, int64_t skip,
	       uint64_t rest)
{
	uint32_t nruns;
	const struct pool4_run *runs = pool4_set_runs(set, &nruns);
	uint64_t naddrs = pool4_set_addr_count(set);
	uint32_t ri = run_at(runs, nruns, start);
	uint32_t addr = runs[ri].addr_first + (uint32_t)(start - runs[ri].addrs_before);

	for (uint64_t todo = naddrs; todo > 0; todo--) {
		if ((int64_t)addr != skip) {
			uint64_t size = run_ports(w->ranges + runs[ri].first, runs[ri].count);

			if (w->budget == 0) {
				w->cut_short = true;
				return false;
			}
			rest -= size;
			if (try_address(w, &runs[ri], addr, allowance(w->budget, rest)))
				return true;
		}
		if (addr == runs[ri].addr_last) {
			ri = (ri + 1) % nruns;
			addr = runs[ri].addr_first;
		} else {
			addr++;
		}
	}
	return false;
}

/* RFC 4787 REQ-2: the address the host already uses, if it is in the set.
 * Returns its taddr count (0 when not tried). */
static uint64_t
try_preferred(struct walk *w, const struct pool4_set *set, uint64_t rest, int64_t *skip,
	      bool *found)
{
	const struct pool4_run *run;
	uint64_t size;
	uint32_t addr;

	if (!w->q->preferred)
		return 0;
	addr = ntohl(w->q->preferred->s_addr);
	run = pool4_set_find_run(set, addr);
	if (!run)
		return 0;
	*skip = addr;
	size = run_ports(w->ranges + run->first, run->count);
	*found = try_address(w, run, addr, allowance(w->budget, rest - size));
	return size;
}

enum stat_id
rfc6056_choose(struct rfc6056 *r, const struct pool4_set *set, const struct rfc6056_query *q,
	       struct rfc6056_result *res)
{
	struct walk w = {.q = q, .share = &r->share};
	uint64_t rest, max;
	uint32_t nranges;
	int64_t skip = -1;
	bool found = false;

	*res = (struct rfc6056_result){0};
	if (!set)
		return STAT_MARK_NOT_FOUND;
	w.ranges = pool4_set_ranges(set, &nranges);
	if (nranges == 0)
		return STAT_POOL4_EXHAUSTED;
	w.nlanes = lanes_for(pool4_set_proto(set), q->src6->port, w.lanes);
	w.offset = rfc6056_offset(r, q->src6, q->dst6) + r->next_ephemeral;
	rest = pool4_set_taddr_count(set);
	max = pool4_set_max_iterations(set);
	w.budget = max < rest ? max : rest;

	rest -= try_preferred(&w, set, rest, &skip, &found);
	if (!found)
		found = walk_addresses(&w, set,
				       address_hash(r, &q->src6->addr) % pool4_set_addr_count(set),
				       skip, rest);

	/* RFC 6056 §3.3.3: next_ephemeral++ per port tried. */
	r->next_ephemeral += (uint32_t)w.walk_probes;
	res->probes = w.probes;
	res->max_iterations_reached = !found && w.cut_short;
	if (!found)
		return STAT_POOL4_EXHAUSTED;
	res->taddr = w.found;
	return STAT_OK;
}
