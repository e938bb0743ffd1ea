/*
 * pool4: the IPv4 transport addresses a stateful NAT64 masks IPv6 hosts
 * behind (RFC 6146 §3.5.1.1, "the IPv4 pool"), with Jool's semantics.
 *
 * Model:
 *   - an entry is (mark, protocol, IPv4 prefix, port range);
 *   - entries sharing (mark, protocol) form a set; a set has one
 *     max-iterations value (auto, infinity or a fixed N >= 1) that bounds
 *     the RFC 6056 walk (rfc6056.h);
 *   - the mark picks the set in the 6->4 direction only; in 4->6 the
 *     question is "is this taddr in pool4 for this protocol?", whatever the
 *     mark (pool4_contains()).
 *
 * Storage is by rectangles (an address interval times a port interval), so
 * a /16 with ports 1-65535 is ONE item, not 65536; see pool4.c for the
 * layout and why.
 *
 * Empty-pool4 fallback (Jool, JOOL-REFERENCE §3.1): for a protocol without
 * any entry, the node's own addresses (given by the daemon through
 * pool4_set_fallback()) with ports 61001-65535 and unlimited iterations
 * answer membership and port choice instead.
 *
 * Threading: single-threaded. A struct pool4 is self-contained (no
 * globals); reads never write, so several readers may share it as long as
 * nobody changes it. Pointers returned by pool4_find_set() and the read
 * accessors stay valid until the next change to the pool4.
 */
#ifndef NAT64_CORE_POOL4_H
#define NAT64_CORE_POOL4_H

#include "types.h"

struct pool4;     /* the whole pool4 of one instance */
struct pool4_set; /* the entries of one (mark, protocol) */

/* Ports of the empty-pool4 fallback: Linux's default ephemeral range ends
 * at 61000, so the translator stays out of the host's own sockets. */
enum {
	POOL4_FALLBACK_PORT_MIN = 61001,
	POOL4_FALLBACK_PORT_MAX = 65535,
};

/* Bounds of max-iterations "auto" (see pool4_auto_iterations()). */
enum {
	POOL4_AUTO_ITERATIONS_MIN = 1024,
	POOL4_AUTO_ITERATIONS_MAX = 8192,
	POOL4_AUTO_ITERATIONS_DIVISOR = 128,
};

/* Effective max-iterations of an "infinity" set. */
#define POOL4_ITERATIONS_INFINITE UINT64_MAX

enum pool4_iter_kind {
	POOL4_ITER_UNCHANGED = 0, /* on add: keep the set's value (auto for a new set) */
	POOL4_ITER_AUTO,          /* clamp(taddr_count / 128, 1024, 8192) */
	POOL4_ITER_INFINITY,      /* walk the whole set if needed */
	POOL4_ITER_FIXED,         /* `value` probes, value >= 1 */
};

struct pool4_iterations {
	enum pool4_iter_kind kind;
	uint32_t value; /* only for POOL4_ITER_FIXED */
};

/*
 * One entry as the operator writes it (`pool4 add --tcp 192.0.2.0/24
 * 1-65535 --mark 0`), and as pool4_foreach() hands it back.
 *
 * Normalisation on add and remove (the core is tolerant, like Jool's
 * client): port_min > port_max are swapped; for TCP and UDP port 0 is
 * raised to 1 on add (a range 0-0 is rejected with -EDOM).
 */
struct pool4_entry {
	uint32_t mark;
	enum l4proto proto;
	struct prefix4 prefix; /* host bits after the length must be zero */
	uint16_t port_min;
	uint16_t port_max;
};

/* What pool4 knows about one set, for display and accounting. */
struct pool4_set_info {
	uint32_t mark;
	enum l4proto proto;
	struct pool4_iterations iterations; /* AUTO, INFINITY or FIXED */
	uint64_t max_iterations;            /* effective; POOL4_ITERATIONS_INFINITE */
	uint64_t taddr_count;               /* address#port pairs in the set */
	uint64_t addr_count;                /* distinct addresses in the set */
	uint32_t range_count;               /* stored items (memory grows with this) */
};

/*
 * Read model of a set, used by the RFC 6056 walk (rfc6056.c).
 *
 * A set is a sorted array of pool4_range: every address in
 * [addr_first, addr_last] owns the ports [port_min, port_max]. Items that
 * share the same address interval form a "run" (an address interval with a
 * list of port intervals). The form is canonical: runs are disjoint and
 * sorted; within a run port intervals are sorted, disjoint and not
 * adjacent; two runs that touch have different port lists (else they are
 * fused). Addresses are in HOST byte order here, unlike the rest of core/,
 * because this array is about arithmetic on addresses.
 */
struct pool4_range {
	uint32_t addr_first; /* host byte order */
	uint32_t addr_last;  /* host byte order, inclusive */
	uint16_t port_min;
	uint16_t port_max; /* inclusive */
};

struct pool4_run {
	uint32_t addr_first;   /* host byte order */
	uint32_t addr_last;    /* host byte order, inclusive */
	uint32_t first;        /* index of the run's first pool4_range */
	uint32_t count;        /* number of port intervals (pool4_range items) */
	uint64_t addrs_before; /* addresses in the runs before this one */
};

/* ---- Life cycle ---- */

/* A new, empty pool4 (no fallback). NULL when out of memory. */
struct pool4 *pool4_create(void);
void pool4_destroy(struct pool4 *p);

/* ---- Control plane: every change is all-or-nothing ---- */

/*
 * Add an entry, merging it into its (mark, protocol) set: overlapping or
 * adjacent ranges fuse. `iter` may be NULL (= POOL4_ITER_UNCHANGED); when
 * given, it overwrites the set's value, as Jool's --max-iterations does.
 * Returns 0, or a negative errno and changes nothing:
 *   -EPROTONOSUPPORT  protocol not TCP, UDP or ICMP
 *   -EINVAL           prefix length above 32
 *   -EADDRNOTAVAIL    prefix has bits set after its length
 *   -EDOM             TCP/UDP range 0-0 (port 0 is not usable)
 *   -ERANGE           max-iterations FIXED with 0, or an unknown kind
 *   -ENOMEM
 */
int pool4_add(struct pool4 *p, const struct pool4_entry *e, const struct pool4_iterations *iter);

/*
 * Remove the taddrs of `e` from its set, splitting ranges as needed
 * (removing 192.0.2.5 ports 100-200 from 192.0.2.0/24 1-65535 leaves the
 * rest). A set left empty disappears with its max-iterations. Same errors
 * as pool4_add(), plus -ENOENT when nothing of `e` was in the set (then
 * nothing changes). The BIB entries of the removed taddrs are the caller's
 * business (Jool removes them unless --quick).
 */
int pool4_remove(struct pool4 *p, const struct pool4_entry *e);

/* Remove every set. The fallback addresses stay (they are not entries). */
void pool4_flush(struct pool4 *p);

/*
 * Install the empty-pool4 fallback: `addrs` (network order, duplicates
 * allowed, n may be 0 to clear) with ports 61001-65535 for each protocol,
 * max-iterations infinity. Used only for a protocol that has no entry.
 * Returns 0 or -ENOMEM (nothing changed).
 */
int pool4_set_fallback(struct pool4 *p, const struct in_addr *addrs, size_t n);

/* A sentence for a negative code returned above. */
const char *pool4_strerror(int err);

/* ---- Data plane ---- */

/*
 * 4->6 (RFC 6146 §3.5): is `t` in pool4 for `proto`, under any mark? Falls
 * back to the fallback addresses when `proto` has no entry. O(log n).
 */
bool pool4_contains(const struct pool4 *p, enum l4proto proto, const struct taddr4 *t);

/*
 * 6->4: the set that masks packets of (mark, proto). When `proto` has no
 * entry under any mark, the fallback set (NULL if none was installed).
 * NULL when `proto` has entries but none under `mark` (Jool counts that in
 * MARK_NOT_FOUND). O(log sets).
 */
const struct pool4_set *pool4_find_set(const struct pool4 *p, uint32_t mark, enum l4proto proto);

/* ---- Set read accessors (rfc6056.c, display) ---- */

void pool4_set_get_info(const struct pool4_set *s, struct pool4_set_info *out);
enum l4proto pool4_set_proto(const struct pool4_set *s);
/* Effective max-iterations; POOL4_ITERATIONS_INFINITE for infinity. */
uint64_t pool4_set_max_iterations(const struct pool4_set *s);
const struct pool4_range *pool4_set_ranges(const struct pool4_set *s, uint32_t *count);
const struct pool4_run *pool4_set_runs(const struct pool4_set *s, uint32_t *count);
uint64_t pool4_set_addr_count(const struct pool4_set *s);
uint64_t pool4_set_taddr_count(const struct pool4_set *s);
/* The run holding `addr` (host order), or NULL. O(log runs). */
const struct pool4_run *pool4_set_find_run(const struct pool4_set *s, uint32_t addr);

/* ---- Display and accounting ---- */

/*
 * Call `cb` for each entry of `proto`, sets in mark order, entries by
 * address then port. Address intervals are cut into the fewest CIDR
 * prefixes, so an added 192.0.2.0/24 comes back as one entry. `cb`
 * returning non-zero stops the walk and that value is returned; else 0.
 * The fallback is not listed (it is not an entry).
 */
typedef int (*pool4_entry_cb)(void *ctx, const struct pool4_entry *e,
			      const struct pool4_set_info *set);
int pool4_foreach(const struct pool4 *p, enum l4proto proto, pool4_entry_cb cb, void *ctx);

/* Same, one call per set of `proto`, in mark order. */
typedef int (*pool4_set_cb)(void *ctx, const struct pool4_set_info *set);
int pool4_foreach_set(const struct pool4 *p, enum l4proto proto, pool4_set_cb cb, void *ctx);

/* Info of the (mark, proto) set: 0, or -ENOENT. The fallback is not a set. */
int pool4_get_set_info(const struct pool4 *p, uint32_t mark, enum l4proto proto,
		       struct pool4_set_info *out);

/*
 * Ports of `proto` that `addr` (network order) has in pool4, all marks
 * together. A port listed under two marks counts once: the BIB's IPv4 side
 * ignores the mark, so it is one taddr. Uses the fallback when `proto` has
 * no entry. This is the denominator of per-address usage.
 */
uint32_t pool4_port_count(const struct pool4 *p, enum l4proto proto, struct in_addr addr);

/*
 * Call `cb` for every address of `proto` in pool4 (all marks, or the
 * fallback), in increasing order, with its port count as above. Non-zero
 * from `cb` stops the walk and is returned.
 */
typedef int (*pool4_addr_cb)(void *ctx, struct in_addr addr, uint32_t port_count);
int pool4_foreach_address(const struct pool4 *p, enum l4proto proto, pool4_addr_cb cb, void *ctx);

/* ---- Sizes ---- */

/*
 * Jool's max-iterations "auto": clamp(taddr_count / 128, 1024, 8192), i.e.
 * 1024 up to 128 Ki taddrs, taddr_count / 128 up to 1 Mi taddrs, 8192 above.
 */
uint32_t pool4_auto_iterations(uint64_t taddr_count);

/* Bytes allocated by `p` (structure, sets, ranges, indexes, fallback). */
size_t pool4_memory_bytes(const struct pool4 *p);

#endif
