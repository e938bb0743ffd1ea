/*
 * Kernel plumbing over rtnetlink (libmnl): the routes, proxy neighbour
 * entries and policy rules that bring pool6 and pool4 traffic to the TUN
 * device, plus the link and address queries the daemon needs.
 *
 * Ownership contract: every add has a matching delete. An add returns 0
 * when it created the object and -EEXIST when an identical one was already
 * there (nothing changed); a delete returns 0 when it removed the object
 * and -ENOENT when there was none (the kernel's ESRCH for routes is
 * reported as -ENOENT too). So the daemon records what it created and
 * removes exactly that at shutdown. Other failures are negative errnos;
 * netlink_strerror() then gives the kernel's extended-ack text, if any.
 *
 * A struct netlink belongs to the network namespace of the thread that
 * opened it. It is not thread-safe; calls block until the kernel answers.
 * Routes, rules and neighbour entries are tagged with protocol
 * NETLINK_RTPROT_NAT64 so an operator (or a restarted daemon) can find
 * them: `ip route show proto 64`, `ip rule show protocol 64`.
 */
#ifndef NAT64_IO_NETLINK_H
#define NAT64_IO_NETLINK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct netlink;

/* rtm_protocol / FRA_PROTOCOL of everything we add (free in rt_protos). */
enum { NETLINK_RTPROT_NAT64 = 64 };

/* Table 0 in the calls below means the main table (254). */
enum { NETLINK_TABLE_MAIN = 254, NETLINK_TABLE_LOCAL = 255 };

int netlink_open(struct netlink **out);
void netlink_close(struct netlink *nl);

/* The extended-ack message of the last failed request, or "". */
const char *netlink_strerror(const struct netlink *nl);

/* --- links and addresses ------------------------------------------------ */

struct netlink_link {
	int index;
	unsigned int mtu;
};

/* Index and MTU of interface `name`; -ENODEV when there is none. */
int netlink_link_get(struct netlink *nl, const char *name, struct netlink_link *out);

/*
 * The node's own IPv4 addresses of universe scope (what Jool's empty-pool4
 * fallback accepts, JOOL-REFERENCE §3.1), in the kernel's order. Writes at
 * most `max` of them and returns how many there are (>= 0), so a result
 * above `max` means `out` was too small; or a negative errno.
 */
int netlink_addr4_list(struct netlink *nl, struct in_addr *out, size_t max);

/* --- routes to the TUN device ------------------------------------------ */

/*
 * A unicast route of the prefix through interface `ifindex` (no gateway:
 * the TUN device is point-to-point) in `table` (0 = main). The prefix must
 * have no host bits set (-EINVAL otherwise).
 */
int netlink_route6_add(struct netlink *nl, const struct prefix6 *dst, int ifindex, uint32_t table);
int netlink_route6_del(struct netlink *nl, const struct prefix6 *dst, int ifindex, uint32_t table);
int netlink_route4_add(struct netlink *nl, const struct prefix4 *dst, int ifindex, uint32_t table);
int netlink_route4_del(struct netlink *nl, const struct prefix4 *dst, int ifindex, uint32_t table);

/* --- proxy ARP for pool4 addresses -------------------------------------- */

/*
 * A proxy neighbour entry (NTF_PROXY) for `addr` on the uplink `ifindex`.
 * What else the kernel needs before it answers ARP for it (tested in
 * tests/io/test_netlink.c, kernel 6.18): see the comment in netlink.c above
 * netlink_proxy4_add(). In short: forwarding on the uplink, and a route to
 * `addr` through ANOTHER interface (the TUN route of pool4); proxy_arp=1 is
 * not needed. Set net.ipv4.neigh.IFACE.proxy_delay=0 to answer at once.
 */
int netlink_proxy4_add(struct netlink *nl, struct in_addr addr, int ifindex);
int netlink_proxy4_del(struct netlink *nl, struct in_addr addr, int ifindex);

/* --- policy routing for pool4 ports on the node's own addresses --------- */

/*
 * One IPv4 FIB rule: "[to dst] [ipproto P] [dport lo-hi] [fwmark M/mask]
 * lookup table", at `priority`. Zero fields are wildcards (dst.len == 0 and
 * dst.addr 0.0.0.0: any destination). The kernel refuses a port range that
 * ends at 65535 (fib_rule_port_range_valid: end < 0xffff): -EINVAL; use
 * netlink_steer4_add() for such ranges.
 */
struct netlink_rule4 {
	uint32_t priority;
	uint32_t table; /* 0 = main */
	struct prefix4 dst;
	uint8_t ipproto;             /* IPPROTO_TCP, IPPROTO_UDP, 0 = any */
	uint16_t dport_lo, dport_hi; /* both 0 = any port */
	uint32_t fwmark, fwmask;     /* fwmask 0 = no mark match */
};

int netlink_rule4_add(struct netlink *nl, const struct netlink_rule4 *r);
int netlink_rule4_del(struct netlink *nl, const struct netlink_rule4 *r);

/*
 * Sends TCP or UDP packets for `addr` (an address the node owns) whose
 * destination port is in [port_lo, port_hi] to `table`, where the daemon
 * puts a route of addr/32 to the TUN device (netlink_route4_add). Other
 * packets for `addr` still reach the local stack. Installs one rule at
 * `priority` + 1, or, when port_hi is 65535 (which a rule cannot express),
 * a rule at `priority` that hands ports 1..port_lo-1 to the local table
 * followed by a port-less rule at `priority` + 1. Requires the local rule
 * to come after `priority` + 1: see netlink_local_rule_move().
 * Returns 0, -EEXIST (already installed, nothing changed), -EINVAL.
 *
 * ICMP echo identifiers have no port, so they cannot be steered like this:
 * use a netlink_rule4 with fwmark/fwmask and a firewall rule that marks
 * echo replies whose identifier is in pool4. That firewall part (nftables)
 * is not written yet.
 */
struct netlink_steer4 {
	struct in_addr addr;
	uint8_t ipproto;           /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port_lo, port_hi; /* 1 <= lo <= hi */
	uint32_t priority;         /* uses priority and priority + 1 */
	uint32_t table;            /* != 0, != main, != local */
};

int netlink_steer4_add(struct netlink *nl, const struct netlink_steer4 *s);
int netlink_steer4_del(struct netlink *nl, const struct netlink_steer4 *s);

/*
 * The kernel's IPv4 rule "0: from all lookup local" is consulted first, and
 * the local table holds a `local` route for every address the node owns,
 * so without this no rule of ours is ever reached for such an address.
 * netlink_local_rule_move() adds "PRIORITY: lookup local" then deletes the
 * priority-0 one (in that order, so local delivery never stops), exactly
 * what `ip rule add pref P lookup local; ip rule del pref 0 lookup local`
 * does. Returns 0 when it moved the rule (call netlink_local_rule_restore()
 * at shutdown), -EALREADY when there was no priority-0 local rule (someone
 * moved it already; nothing changed), or a negative errno.
 * netlink_local_rule_restore() puts "0: from all lookup local" back (as the
 * kernel made it, protocol kernel) and deletes the one at `priority`.
 */
int netlink_local_rule_move(struct netlink *nl, uint32_t priority);
int netlink_local_rule_restore(struct netlink *nl, uint32_t priority);

#endif
