/*
 * pool4 changes: add, remove, flush. All or nothing:
 *
 *   1. everything pool4_add() would refuse is checked for every protocol of
 *      the request before the first one is applied;
 *   2. when the daemon keeps kernel plumbing after pool4 (routes to the TUN
 *      device, proxy ARP), it sees pool4 as it will be first
 *      (ctl_hooks.pool4_prepare, on a scratch copy) and may refuse;
 *   3. every engine changes, in order (pool4 is the same in all of them);
 *      ctl_hooks.pool4_finish tells the daemon whether they did, so it
 *      commits or rolls back its side.
 *
 * Step 3 can fail only for lack of memory, in any engine: then the engines
 * changed so far get back the pool4 they had (a copy taken before step 2)
 * and the reply gives the reason. BIB entries a removal without --quick
 * took away do not come back (Jool's are gone too once its pool4 changes).
 * Only a restore that runs out of memory as well leaves a change partly
 * made; the reply then says so.
 */
#include "cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdio.h>

#include "nat64.h"
#include "server.h"
#include "wire.h"

enum pool4_op_kind { OP_ADD, OP_REMOVE, OP_FLUSH };

struct pool4_op {
	enum pool4_op_kind kind;
	unsigned int protos; /* 1 << enum l4proto */
	struct pool4_entry entry;
	struct pool4_iterations iter; /* OP_ADD */
	bool quick;                   /* OP_REMOVE, OP_FLUSH */
};

/* The "protocols" argument as a bit mask of 1 << enum l4proto. */
static unsigned int
protocols(const struct request *r)
{
	const json_t *list = json_object_get(r->args, "protocols");
	unsigned int mask = 0;

	for (size_t i = 0; i < json_array_size(list); i++) {
		enum l4proto p;

		if (wire_parse_proto(json_string_value(json_array_get(list, i)), &p))
			mask |= 1u << p;
	}
	return mask;
}

/* The entry of the request (its protocol is set per protocol later). */
static int
read_entry(struct request *r, struct pool4_op *op)
{
	uint64_t a = request_uint(r, "min", 0), b = request_uint(r, "max", 65535);
	struct pool4_entry *e = &op->entry;

	if (!wire_parse_prefix4(request_str(r, "prefix"), &e->prefix, r->err, sizeof(r->err)))
		return -1;
	op->protos = protocols(r);
	e->mark = (uint32_t)request_uint(r, "mark", 0);
	e->proto = L4_TCP;
	e->port_min = (uint16_t)(a < b ? a : b);
	e->port_max = (uint16_t)(a < b ? b : a);
	return 0;
}

static void
read_iterations(const struct request *r, struct pool4_iterations *iter)
{
	const json_t *v = json_object_get(r->args, "iterations");
	char unused[8];

	if (json_is_integer(v))
		*iter = (struct pool4_iterations){.kind = POOL4_ITER_FIXED,
						  .value = (uint32_t)json_integer_value(v)};
	else if (v)
		wire_parse_iterations(json_string_value(v), iter, unused, sizeof(unused));
	else
		*iter = (struct pool4_iterations){.kind = POOL4_ITER_UNCHANGED};
}

/* --- Checks -------------------------------------------------------------- */

/* The netns' ephemeral port range; false when it can't be read. */
static bool
ephemeral_range(unsigned int *lo, unsigned int *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	bool ok;

	if (f == NULL)
		return false;
	ok = fscanf(f, "%u %u", lo, hi) == 2;
	fclose(f);
	return ok;
}

/* A local IPv4 address of this host inside `prefix`, or false. */
static bool
local_address_in(const struct prefix4 *prefix, struct in_addr *out)
{
	uint32_t mask = prefix->len ? ~(uint32_t)0 << (32 - prefix->len) : 0;
	struct ifaddrs *list, *i;
	bool found = false;

	if (getifaddrs(&list) < 0)
		return false;
	for (i = list; i && !found; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const void *)i->ifa_addr;

		if (sin == NULL || sin->sin_family != AF_INET)
			continue;
		if ((ntohl(sin->sin_addr.s_addr) & mask) == ntohl(prefix->addr.s_addr)) {
			*out = sin->sin_addr;
			found = true;
		}
	}
	freeifaddrs(list);
	return found;
}

/*
 * Jool 4.1.15 (issue #437): a TCP/UDP range that overlaps the ephemeral
 * ports breaks the host's own connections. That only happens when the
 * address is one of the host's (pool4 addresses are normally routed to
 * the TUN device and belong to nobody else), so only then is it refused.
 */
static int
check_ephemeral(struct request *r, const struct pool4_entry *e)
{
	unsigned int lo, hi;
	struct in_addr local;
	char addr[INET_ADDRSTRLEN];

	if (e->proto == L4_ICMP || !ephemeral_range(&lo, &hi))
		return 0;
	if (e->port_min > hi || e->port_max < lo || !local_address_in(&e->prefix, &local))
		return 0;
	inet_ntop(AF_INET, &local, addr, sizeof(addr));
	return request_fail(r,
			    "pool4: ports %u-%u overlap the ephemeral range %u-%u "
			    "(net.ipv4.ip_local_port_range) of this host's address %s: use other "
			    "ports or --force",
			    e->port_min, e->port_max, lo, hi, addr);
}

/* What pool4_add() would refuse, for one protocol. */
static int
check_add(struct request *r, const struct pool4_entry *e, bool force)
{
	char prefix[WIRE_PREFIX4_LEN + 1];

	wire_print_prefix4(&e->prefix, prefix, sizeof(prefix));
	if (e->proto != L4_ICMP && e->port_max == 0)
		return request_fail(r, "pool4: port 0 is not usable for %s (ports 1-65535)",
				    wire_proto_name(e->proto));
	/* Jool's client: a userspace guard against typos, not a limit. */
	if (e->prefix.len < 24 && !force)
		return request_fail(r,
				    "pool4: %s holds %" PRIu64 " addresses (shorter than /24): "
				    "add --force if you mean it",
				    prefix, (uint64_t)1 << (32 - e->prefix.len));
	return force ? 0 : check_ephemeral(r, e);
}

/* --- Applying ------------------------------------------------------------ */

static int
copy_entry(void *ctx, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	return pool4_add(ctx, e, &set->iterations);
}

/* `op` applied to `p`; 0, or a negative errno (ENOENT of a removal ignored). */
static int
apply_to(struct pool4 *p, const struct pool4_op *op)
{
	struct pool4_entry e = op->entry;
	int rc = 0;

	if (op->kind == OP_FLUSH) {
		pool4_flush(p);
		return 0;
	}
	for (e.proto = 0; e.proto < L4_COUNT && rc == 0; e.proto++) {
		if (!(op->protos & 1u << e.proto))
			continue;
		rc = op->kind == OP_ADD ? pool4_add(p, &e, &op->iter) : pool4_remove(p, &e);
		if (rc == -ENOENT)
			rc = 0;
	}
	return rc;
}

/* A copy of `from`, or NULL when out of memory. */
static struct pool4 *
copy_pool4(const struct pool4 *from)
{
	struct pool4 *to = pool4_create();
	int rc = to ? 0 : -ENOMEM;

	for (int proto = 0; proto < L4_COUNT && rc == 0; proto++)
		rc = pool4_foreach(from, (enum l4proto)proto, copy_entry, to);
	if (rc < 0) {
		pool4_destroy(to);
		return NULL;
	}
	return to;
}

/* Step 2: the daemon sees pool4 as it will be, on a scratch copy. */
static int
prepare(struct request *r, const struct pool4 *before, const struct pool4_op *op)
{
	struct pool4 *next = copy_pool4(before);
	int rc = next ? apply_to(next, op) : -ENOMEM;

	if (rc < 0) {
		pool4_destroy(next);
		return request_fail(r, "pool4: %s", pool4_strerror(rc));
	}
	rc = r->hooks->pool4_prepare(r->hooks->ctx, next, r->err, sizeof(r->err));
	pool4_destroy(next);
	if (rc < 0 && r->err[0] == '\0')
		return request_fail(r, "pool4: refused by the daemon");
	return rc < 0 ? -1 : 0;
}

/* Step 3 in one engine, one protocol after the other: 0 with the protocols
 * that changed in *protos, or a negative errno. */
static int
apply_engine(struct nat64 *n, const struct pool4_op *op, uint64_t now, unsigned int *protos)
{
	struct pool4_entry e = op->entry;

	*protos = 0;
	if (op->kind == OP_FLUSH) {
		nat64_pool4_flush(n, op->quick, now);
		*protos = (1u << L4_COUNT) - 1;
		return 0;
	}
	for (e.proto = 0; e.proto < L4_COUNT; e.proto++) {
		int rc;

		if (!(op->protos & 1u << e.proto))
			continue;
		rc = op->kind == OP_ADD ? nat64_pool4_add(n, &e, &op->iter)
					: nat64_pool4_remove(n, &e, op->quick, now);
		if (rc == -ENOENT && op->kind == OP_REMOVE)
			continue;
		if (rc < 0)
			return rc;
		*protos |= 1u << e.proto;
	}
	return 0;
}

static int
restore_entry(void *ctx, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	return nat64_pool4_add(ctx, e, &set->iterations);
}

/* Engine `n` gets pool4 `before` back (the fallback never changed). */
static int
restore(struct nat64 *n, const struct pool4 *before, uint64_t now)
{
	int rc = 0;

	nat64_pool4_flush(n, true, now);
	for (int proto = 0; proto < L4_COUNT && rc == 0; proto++)
		rc = pool4_foreach(before, (enum l4proto)proto, restore_entry, n);
	return rc;
}

/* Engines 0 .. last (the one that failed with `rc`) go back to `before`.
 * Returns -1 with the reason. */
static int
roll_back(struct request *r, const struct pool4 *before, unsigned int last, int rc)
{
	bool partly = false;

	for (unsigned int i = 0; i <= last; i++) {
		if (restore(request_acquire(r, i), before, r->now) < 0)
			partly = true;
		request_release(r, i);
	}
	if (partly)
		r->changed |= CTL_CHANGE_POOL4;
	return request_fail(r, "pool4: %s%s", pool4_strerror(rc),
			    partly ? " (the change is only partly made)" : "");
}

/* Step 3 in every engine. Engine 0 tells what changed (the others have the
 * same pool4): the protocols are listed in the reply. 1 when a removal
 * found nothing. */
static int
apply_all(struct request *r, const struct pool4 *before, const struct pool4_op *op)
{
	unsigned int protos = 0, first = 0;

	for (unsigned int i = 0; i < request_engine_count(r); i++) {
		int rc = apply_engine(request_acquire(r, i), op, r->now, &protos);

		request_release(r, i);
		if (rc < 0)
			return roll_back(r, before, i, rc);
		if (i == 0)
			first = protos;
		if (first == 0)
			return 1; /* nothing of it anywhere */
	}
	r->changed |= CTL_CHANGE_POOL4;
	if (op->kind != OP_ADD && !op->quick)
		r->changed |= CTL_CHANGE_BIB;
	if (op->kind == OP_FLUSH)
		return 0;
	jsonw_key(r->w, op->kind == OP_ADD ? "added" : "removed");
	jsonw_arr_open(r->w);
	for (int proto = 0; proto < L4_COUNT; proto++)
		if (first & 1u << proto)
			jsonw_str(r->w, wire_proto_name((enum l4proto)proto));
	jsonw_arr_close(r->w);
	return 0;
}

/* Steps 2 and 3 of every change. 1 when a removal found nothing. */
static int
change(struct request *r, const struct pool4_op *op)
{
	const struct ctl_hooks *h = r->hooks;
	bool plumbing = h && h->pool4_prepare;
	struct pool4 *before = copy_pool4(nat64_pool4(request_acquire(r, 0)));
	int rc;

	request_release(r, 0);
	if (before == NULL)
		return request_fail(r, "pool4: out of memory");
	if (plumbing && prepare(r, before, op) < 0) {
		pool4_destroy(before);
		return -1;
	}
	rc = apply_all(r, before, op);
	pool4_destroy(before);
	if (plumbing && h->pool4_finish)
		h->pool4_finish(h->ctx, r->changed & CTL_CHANGE_POOL4);
	return rc;
}

int
cmd_pool4_add(struct request *r)
{
	struct pool4_op op = {.kind = OP_ADD};
	bool force = request_bool(r, "force");
	struct pool4_entry e;

	if (read_entry(r, &op) < 0)
		return -1;
	read_iterations(r, &op.iter);
	e = op.entry;
	for (e.proto = 0; e.proto < L4_COUNT; e.proto++)
		if ((op.protos & 1u << e.proto) && check_add(r, &e, force) < 0)
			return -1;
	return change(r, &op) < 0 ? -1 : 0;
}

int
cmd_pool4_remove(struct request *r)
{
	struct pool4_op op = {.kind = OP_REMOVE, .quick = request_bool(r, "quick")};
	char prefix[WIRE_PREFIX4_LEN + 1];
	int rc;

	if (read_entry(r, &op) < 0)
		return -1;
	rc = change(r, &op);
	if (rc == 1) {
		wire_print_prefix4(&op.entry.prefix, prefix, sizeof(prefix));
		return request_fail(r, "pool4: %s ports %u-%u mark %" PRIu32 " is not in pool4",
				    prefix, op.entry.port_min, op.entry.port_max, op.entry.mark);
	}
	return rc;
}

int
cmd_pool4_flush(struct request *r)
{
	struct pool4_op op = {.kind = OP_FLUSH, .quick = request_bool(r, "quick")};

	return change(r, &op);
}
