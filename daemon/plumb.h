/*
 * The kernel plumbing that brings pool6 and pool4 traffic to the TUN
 * device, and takes it away again: routes, proxy neighbour entries,
 * policy rules (io/netlink.h does the talking).
 *
 *   - pool6 and every pool4 prefix are routed to the TUN device;
 *   - with an uplink (--uplink4), a proxy neighbour entry per pool4
 *     address answers ARP there (prefixes up to a /20);
 *   - a pool4 address the node owns is NOT routed (the host keeps using
 *     it): only its pool4 TCP/UDP port ranges are steered to the TUN by
 *     policy rules to a table of ours, after moving the kernel's
 *     "0: lookup local" rule behind them; ranges overlapping
 *     net.ipv4.ip_local_port_range are refused unless `force`. ICMP can't
 *     be steered by port (it needs a firewall mark rule) and is skipped
 *     with a log line;
 *   - with no pool4 entry at all, the node's own addresses serve as pool4
 *     (ports 61001-65535, the engine's fallback) and are steered the same
 *     way.
 *
 * Ownership: every object nat64d adds is remembered; one that was already
 * there (-EEXIST) is not ours and is never removed. A change is made in
 * two steps so that it is all-or-nothing together with the engine's:
 * plumb_add() creates what a new plan needs (on failure it removes what it
 * created), then plumb_commit() removes what the plan no longer has, or
 * plumb_rollback() undoes the add. plumb_destroy() removes everything
 * nat64d created and restores the sysctls it changed.
 *
 * Not thread-safe; every call blocks on netlink.
 */
#ifndef NAT64_DAEMON_PLUMB_H
#define NAT64_DAEMON_PLUMB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct netlink;
struct pool4;
struct plumb;
struct plumb_plan;

/* Policy rule priorities: steering rules from PLUMB_STEER_PRIO up, the
 * moved local rule at PLUMB_LOCAL_PRIO, all before "32766: main". */
enum {
	PLUMB_STEER_PRIO = 100,
	PLUMB_LOCAL_PRIO = 1000,
	/* Route table of the steered addresses: this + the TUN ifindex. */
	PLUMB_TABLE_BASE = 64000,
	/* Largest prefix that gets proxy neighbour entries: a /20. */
	PLUMB_PROXY_MIN_LEN = 20,
};

struct plumb_params {
	int tun_ifindex;
	const char *tun_name;
	int uplink_ifindex; /* 0: no proxy entries */
	const char *uplink_name;
	bool force; /* allow steering ports inside ip_local_port_range */
};

/* Also sets accept_local on the TUN device (packets from pool4 addresses
 * the node owns) and proxy_delay 0 on the uplink. 0 or -1 with `err`. */
int plumb_create(struct plumb **out, struct netlink *nl, const struct plumb_params *p, char *err,
		 size_t errlen);
/* Removes every object nat64d created, restores proxy_delay, frees. */
void plumb_destroy(struct plumb *pl);

/*
 * What pool6 and `pool4` (a pool4 built from the configuration) need from
 * the kernel, given the node's own addresses `own` (netlink_addr4_list()).
 * With `fallback` (pool4 is empty), the own addresses are steered with the
 * fallback ports instead. Checks the limits above; nothing is changed.
 * 0, or -1 with a reason in `err`.
 */
int plumb_plan_make(struct plumb *pl, const struct prefix6 *pool6, const struct pool4 *pool4,
		    bool fallback, const struct in_addr *own, size_t nown, struct plumb_plan **out,
		    char *err, size_t errlen);
void plumb_plan_free(struct plumb_plan *plan);
/* Number of objects of the plan, for log lines. */
size_t plumb_plan_size(const struct plumb_plan *plan);

int plumb_add(struct plumb *pl, const struct plumb_plan *plan, char *err, size_t errlen);
void plumb_commit(struct plumb *pl, const struct plumb_plan *plan);
void plumb_rollback(struct plumb *pl);

#endif
