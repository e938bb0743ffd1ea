/*
 * io/netlink.c against the real kernel (root), one fresh network namespace
 * per test. Every change is checked through an independent path: the JSON
 * of `ip -j route|rule|neigh`, ARP answers seen by arping in a second
 * namespace, and packets the kernel hands to the TUN device or to local
 * sockets.
 *
 * Topology of the tests that need a peer:
 *
 *   peer netns                      test netns (the "node")
 *   vb 192.0.2.100/24 ----veth---- va 192.0.2.1/24     nat64t0 (TUN, our fd)
 */
#define _GNU_SOURCE /* strcasestr */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iotest.h"
#include "netlink.h"
#include "sysctl.h"
#include "tun.h"

#define TUN       "nat64t0"
#define OWN       "192.0.2.1"
#define PEER_ADDR "192.0.2.100"
#define POOL4_ARP "192.0.2.50" /* a pool4 address inside the uplink's subnet */
#define TABLE     100u
#define JSON_SIZE 32768

struct env {
	struct netlink *nl;
	int tun;
	int tun_idx;
	int peer; /* netns fd, -1 without a peer */
	int va_idx;
};

static struct in_addr
ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "bad test address %s", s);
	return a;
}

static struct prefix4
pfx4(const char *s, uint8_t len)
{
	return (struct prefix4){.addr = ip4(s), .len = len};
}

static struct prefix6
pfx6(const char *s, uint8_t len)
{
	struct prefix6 p = {.len = len};

	cr_assert_eq(inet_pton(AF_INET6, s, &p.addr), 1, "bad test address %s", s);
	return p;
}

/* Fresh namespace with our TUN device and a netlink socket; optionally a peer on a veth. */
static void
env_up(struct env *e, bool with_peer)
{
	int err;

	iotest_netns();
	err = netlink_open(&e->nl);
	cr_assert_eq(err, 0, "netlink_open: %s", strerror(-err));
	e->tun = tun_open(TUN, 1400, 0, NULL);
	cr_assert_geq(e->tun, 0, "tun_open: %s", strerror(-e->tun));
	e->tun_idx = tun_ifindex(TUN);
	e->peer = -1;
	e->va_idx = 0;
	if (!with_peer)
		return;
	e->peer = iotest_peer_new();
	cr_assert_eq(iotest_sh("ip link add va type veth peer name vb netns /proc/%d/fd/%d",
			       getpid(), e->peer),
		     0);
	cr_assert_eq(iotest_sh("ip addr add " OWN "/24 dev va && ip link set va up"), 0);
	cr_assert_eq(
		iotest_sh(IOTEST_PEER "ip addr add " PEER_ADDR "/24 dev vb", getpid(), e->peer), 0);
	cr_assert_eq(iotest_sh(IOTEST_PEER "ip link set vb up", getpid(), e->peer), 0);
	e->va_idx = tun_ifindex("va");
	cr_assert_gt(e->va_idx, 0);
}

static void
env_down(struct env *e)
{
	netlink_close(e->nl);
	tun_close(e->tun);
	if (e->peer >= 0)
		close(e->peer);
}

static void
capture(char *json, const char *cmd)
{
	cr_assert_eq(iotest_capture(json, JSON_SIZE, "%s", cmd), 0, "%s failed", cmd);
}

#define ROUTES4 "ip -j -4 route show table all"
#define ROUTES6 "ip -j -6 route show table all"
#define RULES   "ip -j -d rule show"
#define PROXIES "ip -j neigh show proxy"

/* --- bad input --------------------------------------------------------- */

Test(netlink, bad_input_is_refused_and_changes_nothing)
{
	static char r4[JSON_SIZE], r6[JSON_SIZE], ru[JSON_SIZE], nb[JSON_SIZE], now[JSON_SIZE];
	struct prefix4 p4 = pfx4("198.51.100.0", 24), host_bits = pfx4("198.51.100.1", 24);
	struct prefix6 p6 = pfx6("64:ff9b::", 96), host_bits6 = pfx6("64:ff9b::1", 96);
	struct netlink_rule4 to_top = {.priority = 50,
				       .table = TABLE,
				       .ipproto = IPPROTO_TCP,
				       .dport_lo = 61001,
				       .dport_hi = 65535};
	struct netlink_steer4 steer = {.addr = ip4(OWN),
				       .ipproto = IPPROTO_TCP,
				       .port_lo = 61001,
				       .port_hi = 65535,
				       .priority = 50,
				       .table = TABLE};
	struct netlink_link link = {.index = -7};
	struct env e;

	env_up(&e, true);
	capture(r4, ROUTES4);
	capture(r6, ROUTES6);
	capture(ru, RULES);
	capture(nb, PROXIES);

	cr_assert_eq(netlink_route4_add(e.nl, &host_bits, e.tun_idx, 0), -EINVAL);
	cr_assert_eq(netlink_route4_add(e.nl, &(struct prefix4){.len = 33}, e.tun_idx, 0), -EINVAL);
	cr_assert_eq(netlink_route4_add(e.nl, &p4, 0, 0), -EINVAL);
	cr_assert_eq(netlink_route4_add(e.nl, NULL, e.tun_idx, 0), -EINVAL);
	cr_assert_eq(netlink_route6_add(e.nl, &host_bits6, e.tun_idx, 0), -EINVAL);
	cr_assert_eq(netlink_route6_add(e.nl, &(struct prefix6){.len = 129}, e.tun_idx, 0),
		     -EINVAL);
	cr_assert_eq(netlink_route6_add(e.nl, &p6, -1, 0), -EINVAL);
	cr_assert_eq(netlink_route4_add(e.nl, &p4, 9999, 0), -ENODEV);
	cr_assert_eq(netlink_proxy4_add(e.nl, ip4(POOL4_ARP), 0), -EINVAL);
	cr_assert_eq(netlink_proxy4_add(e.nl, ip4("0.0.0.0"), e.va_idx), -EINVAL);
	cr_assert_eq(netlink_rule4_add(e.nl, &to_top), -EINVAL);
	to_top.dport_hi = 61000; /* lo > hi */
	cr_assert_eq(netlink_rule4_add(e.nl, &to_top), -EINVAL);
	to_top =
		(struct netlink_rule4){.priority = 50, .dport_lo = 1, .dport_hi = 2}; /* no proto */
	cr_assert_eq(netlink_rule4_add(e.nl, &to_top), -EINVAL);
	to_top = (struct netlink_rule4){.priority = 50, .fwmark = 1}; /* mark without mask */
	cr_assert_eq(netlink_rule4_add(e.nl, &to_top), -EINVAL);
	steer.table = 0; /* main */
	cr_assert_eq(netlink_steer4_add(e.nl, &steer), -EINVAL);
	steer.table = TABLE;
	steer.ipproto = IPPROTO_ICMP;
	cr_assert_eq(netlink_steer4_add(e.nl, &steer), -EINVAL);
	steer.ipproto = IPPROTO_TCP;
	steer.port_lo = 0;
	cr_assert_eq(netlink_steer4_add(e.nl, &steer), -EINVAL);
	cr_assert_eq(netlink_local_rule_move(e.nl, 0), -EINVAL);
	cr_assert_eq(netlink_link_get(e.nl, "sixteen-chars-xx", &link), -EINVAL);
	cr_assert_eq(netlink_link_get(e.nl, "absent0", &link), -ENODEV);
	cr_assert_eq(link.index, -7);

	capture(now, ROUTES4);
	cr_assert_str_eq(now, r4);
	capture(now, ROUTES6);
	cr_assert_str_eq(now, r6);
	capture(now, RULES);
	cr_assert_str_eq(now, ru);
	capture(now, PROXIES);
	cr_assert_str_eq(now, nb);
	env_down(&e);
}

/* --- links and addresses ------------------------------------------------- */

Test(netlink, link_get_reports_index_and_mtu)
{
	struct netlink_link link;
	struct env e;

	env_up(&e, false);
	cr_assert_eq(netlink_link_get(e.nl, TUN, &link), 0);
	cr_assert_eq(link.index, e.tun_idx);
	cr_assert_eq(link.mtu, 1400);
	cr_assert_eq(iotest_sh("ip link set " TUN " mtu 1280"), 0);
	cr_assert_eq(netlink_link_get(e.nl, TUN, &link), 0);
	cr_assert_eq(link.mtu, 1280);
	cr_assert_eq(netlink_link_get(e.nl, "lo", &link), 0);
	cr_assert_eq(link.index, 1);
	cr_assert_eq(link.mtu, 65536);
	env_down(&e);
}

/* JOOL-REFERENCE §3.1: the empty-pool4 fallback accepts universe-scope addresses only. */
Test(netlink, addr4_list_returns_universe_scope_addresses_only)
{
	struct in_addr got[8], one[2];
	struct env e;
	int n;

	env_up(&e, true);
	cr_assert_eq(iotest_sh("ip addr add 198.51.100.7/24 dev va"), 0);
	cr_assert_eq(iotest_sh("ip addr add 203.0.113.9/24 dev va scope link"), 0);
	cr_assert_eq(iotest_sh("ip addr add 203.0.113.10/32 dev " TUN " scope host"), 0);
	n = netlink_addr4_list(e.nl, got, 8);
	cr_assert_eq(n, 2, "got %d addresses", n);
	cr_assert_eq(got[0].s_addr, ip4(OWN).s_addr);
	cr_assert_eq(got[1].s_addr, ip4("198.51.100.7").s_addr);
	/* Too small a buffer: the count says so, nothing is written past it. */
	one[1] = ip4("203.0.113.255");
	cr_assert_eq(netlink_addr4_list(e.nl, one, 1), 2);
	cr_assert_eq(one[0].s_addr, ip4(OWN).s_addr);
	cr_assert_eq(one[1].s_addr, ip4("203.0.113.255").s_addr);
	cr_assert_eq(netlink_addr4_list(e.nl, NULL, 0), 2);
	cr_assert_eq(netlink_addr4_list(e.nl, NULL, 1), -EINVAL);
	env_down(&e);
}

/* --- routes ---------------------------------------------------------------- */

Test(netlink, route6_pool6_to_tun_is_listed_then_deleted)
{
	static char json[JSON_SIZE];
	struct prefix6 pool6 = pfx6("64:ff9b::", 96);
	struct env e;

	env_up(&e, false);
	cr_assert_eq(netlink_route6_add(e.nl, &pool6, e.tun_idx, 0), 0);
	capture(json, ROUTES6);
	cr_assert(iotest_json_has(json, "\"dst\":\"64:ff9b::/96\"", "\"dev\":\"" TUN "\"",
				  "\"protocol\":\"64\"", NULL),
		  "%s", json);
	cr_assert_eq(netlink_route6_add(e.nl, &pool6, e.tun_idx, 0), -EEXIST);
	cr_assert_eq(netlink_route6_del(e.nl, &pool6, e.tun_idx, 0), 0);
	capture(json, ROUTES6);
	cr_assert_not(iotest_json_has(json, "\"dst\":\"64:ff9b::/96\"", NULL), "%s", json);
	cr_assert_eq(netlink_route6_del(e.nl, &pool6, e.tun_idx, 0), -ENOENT);
	env_down(&e);
}

Test(netlink, route4_pool4_in_a_table_is_listed_then_deleted)
{
	static char json[JSON_SIZE];
	struct prefix4 pool4 = pfx4("198.51.100.0", 24);
	struct env e;

	env_up(&e, false);
	cr_assert_eq(netlink_route4_add(e.nl, &pool4, e.tun_idx, TABLE), 0);
	capture(json, ROUTES4);
	cr_assert(iotest_json_has(json, "\"dst\":\"198.51.100.0/24\"", "\"dev\":\"" TUN "\"",
				  "\"table\":\"100\"", "\"protocol\":\"64\"", "\"scope\":\"link\"",
				  NULL),
		  "%s", json);
	cr_assert_eq(netlink_route4_add(e.nl, &pool4, e.tun_idx, TABLE), -EEXIST);
	/* Same prefix in main is another route. */
	cr_assert_eq(netlink_route4_add(e.nl, &pool4, e.tun_idx, 0), 0);
	cr_assert_eq(netlink_route4_del(e.nl, &pool4, e.tun_idx, TABLE), 0);
	capture(json, ROUTES4);
	cr_assert_not(
		iotest_json_has(json, "\"dst\":\"198.51.100.0/24\"", "\"table\":\"100\"", NULL),
		"%s", json);
	cr_assert(iotest_json_has(json, "\"dst\":\"198.51.100.0/24\"", NULL), "%s", json);
	cr_assert_eq(netlink_route4_del(e.nl, &pool4, e.tun_idx, TABLE), -ENOENT);
	cr_assert_eq(netlink_route4_del(e.nl, &pool4, e.tun_idx, 0), 0);
	env_down(&e);
}

/* The daemon must never delete what an operator made: its deletes name protocol 64. */
Test(netlink, route_made_by_the_operator_is_neither_replaced_nor_deleted)
{
	static char json[JSON_SIZE];
	struct prefix4 pool4 = pfx4("198.51.100.0", 24);
	struct env e;

	env_up(&e, false);
	cr_assert_eq(iotest_sh("ip route add 198.51.100.0/24 dev " TUN), 0);
	cr_assert_eq(netlink_route4_add(e.nl, &pool4, e.tun_idx, 0), -EEXIST);
	cr_assert_eq(netlink_route4_del(e.nl, &pool4, e.tun_idx, 0), -ENOENT);
	capture(json, ROUTES4);
	/* iproute2 prints no protocol for its default, boot. */
	cr_assert(iotest_json_has(json, "\"dst\":\"198.51.100.0/24\"", "\"dev\":\"" TUN "\"", NULL),
		  "%s", json);
	cr_assert_not(
		iotest_json_has(json, "\"dst\":\"198.51.100.0/24\"", "\"protocol\":\"64\"", NULL),
		"%s", json);
	env_down(&e);
}

/* --- proxy ARP --------------------------------------------------------------- */

Test(netlink, proxy4_entry_is_listed_then_deleted)
{
	static char json[JSON_SIZE];
	struct env e;

	env_up(&e, true);
	cr_assert_eq(netlink_proxy4_add(e.nl, ip4(POOL4_ARP), e.va_idx), 0);
	capture(json, PROXIES);
	cr_assert(iotest_json_has(json, "\"dst\":\"" POOL4_ARP "\"", "\"dev\":\"va\"", NULL), "%s",
		  json);
	/* The kernel itself says nothing about an existing proxy entry: we do. */
	cr_assert_eq(netlink_proxy4_add(e.nl, ip4(POOL4_ARP), e.va_idx), -EEXIST);
	cr_assert_eq(netlink_proxy4_del(e.nl, ip4(POOL4_ARP), e.va_idx), 0);
	capture(json, PROXIES);
	cr_assert_not(iotest_json_has(json, "\"dst\":\"" POOL4_ARP "\"", NULL), "%s", json);
	cr_assert_eq(netlink_proxy4_del(e.nl, ip4(POOL4_ARP), e.va_idx), -ENOENT);
	env_down(&e);
}

/* Whether the peer gets an ARP reply for `addr`, and from va's MAC address. */
static bool
peer_arp_answered(const struct env *e, const char *addr)
{
	char out[2048], mac[32];

	if (iotest_capture(out, sizeof(out), IOTEST_PEER "arping -c 1 -w 1 -I vb %s", getpid(),
			   e->peer, addr) != 0)
		return false;
	cr_assert(iotest_read_file("/sys/class/net/va/address", mac, sizeof(mac)));
	cr_assert_not_null(strcasestr(out, mac), "reply not from va (%s): %s", mac, out);
	return true;
}

static void
proxy_topology(struct env *e, bool forwarding, bool tun_route)
{
	struct prefix4 pool4 = pfx4("192.0.2.48", 28); /* holds POOL4_ARP */

	env_up(e, true);
	if (forwarding)
		cr_assert_eq(sysctl_write_int(SYSCTL_IP_FORWARD, 1), 0);
	/* Reply at once instead of after up to 0.8 s (see netlink.c). */
	cr_assert_eq(sysctl_write_int("net/ipv4/neigh/va/proxy_delay", 0), 0);
	if (tun_route)
		cr_assert_eq(netlink_route4_add(e->nl, &pool4, e->tun_idx, 0), 0);
}

/* The finding documented above netlink_proxy4_add(): entry + forwarding + TUN route suffice. */
Test(netlink, proxy4_kernel_answers_arp_for_the_entry_without_proxy_arp_sysctl)
{
	int proxy_arp = -1;
	struct env e;

	proxy_topology(&e, true, true);
	cr_assert_not(peer_arp_answered(&e, POOL4_ARP), "answered before the entry existed");
	cr_assert_eq(netlink_proxy4_add(e.nl, ip4(POOL4_ARP), e.va_idx), 0);
	cr_assert(peer_arp_answered(&e, POOL4_ARP), "no ARP reply for the proxy entry");
	cr_assert_eq(sysctl_read_int("net/ipv4/conf/va/proxy_arp", &proxy_arp), 0);
	cr_assert_eq(proxy_arp, 0);
	/* Only the entry's address: its neighbour in pool4 gets no answer. */
	cr_assert_not(peer_arp_answered(&e, "192.0.2.51"));
	cr_assert_eq(netlink_proxy4_del(e.nl, ip4(POOL4_ARP), e.va_idx), 0);
	cr_assert_not(peer_arp_answered(&e, POOL4_ARP), "still answered after the delete");
	env_down(&e);
}

Test(netlink, proxy4_needs_forwarding_on_the_uplink)
{
	struct env e;

	proxy_topology(&e, false, true);
	cr_assert_eq(netlink_proxy4_add(e.nl, ip4(POOL4_ARP), e.va_idx), 0);
	cr_assert_not(peer_arp_answered(&e, POOL4_ARP), "answered without forwarding");
	cr_assert_eq(sysctl_write_int("net/ipv4/conf/va/forwarding", 1), 0);
	cr_assert(peer_arp_answered(&e, POOL4_ARP), "no reply with forwarding on va");
	env_down(&e);
}

Test(netlink, proxy4_needs_a_route_through_another_interface)
{
	struct prefix4 pool4 = pfx4("192.0.2.48", 28);
	struct env e;

	proxy_topology(&e, true, false);
	cr_assert_eq(netlink_proxy4_add(e.nl, ip4(POOL4_ARP), e.va_idx), 0);
	/* Routed back out of va itself (the connected /24): ignored. */
	cr_assert_not(peer_arp_answered(&e, POOL4_ARP), "answered without the TUN route");
	cr_assert_eq(netlink_route4_add(e.nl, &pool4, e.tun_idx, 0), 0);
	cr_assert(peer_arp_answered(&e, POOL4_ARP), "no reply with the TUN route");
	env_down(&e);
}

/* --- rules --------------------------------------------------------------------- */

Test(netlink, rule4_with_protocol_and_port_range_is_listed_then_deleted)
{
	static char json[JSON_SIZE];
	const struct netlink_rule4 r = {.priority = 50,
					.table = TABLE,
					.dst = pfx4(OWN, 32),
					.ipproto = IPPROTO_TCP,
					.dport_lo = 61001,
					.dport_hi = 65534};
	struct env e;

	env_up(&e, false);
	cr_assert_eq(netlink_rule4_add(e.nl, &r), 0);
	capture(json, RULES);
	cr_assert(iotest_json_has(json, "\"priority\":50,", "\"dst\":\"" OWN "\"",
				  "\"ipproto\":\"tcp\"", "\"dport_start\":61001",
				  "\"dport_end\":65534", "\"table\":\"100\"", "\"protocol\":\"64\"",
				  NULL),
		  "%s", json);
	cr_assert_eq(netlink_rule4_add(e.nl, &r), -EEXIST);
	cr_assert_eq(netlink_rule4_del(e.nl, &r), 0);
	capture(json, RULES);
	cr_assert_not(iotest_json_has(json, "\"priority\":50,", NULL), "%s", json);
	cr_assert_eq(netlink_rule4_del(e.nl, &r), -ENOENT);
	env_down(&e);
}

Test(netlink, rule4_with_fwmark_is_listed_then_deleted)
{
	static char json[JSON_SIZE];
	const struct netlink_rule4 r = {
		.priority = 52, .table = TABLE, .fwmark = 0x40, .fwmask = 0xff};
	struct env e;

	env_up(&e, false);
	cr_assert_eq(netlink_rule4_add(e.nl, &r), 0);
	capture(json, RULES);
	cr_assert(iotest_json_has(json, "\"priority\":52,", "\"fwmark\":\"0x40\"",
				  "\"fwmask\":\"0xff\"", "\"table\":\"100\"", NULL),
		  "%s", json);
	cr_assert_eq(netlink_rule4_add(e.nl, &r), -EEXIST);
	cr_assert_eq(netlink_rule4_del(e.nl, &r), 0);
	capture(json, RULES);
	cr_assert_not(iotest_json_has(json, "\"priority\":52,", NULL), "%s", json);
	env_down(&e);
}

/* Why netlink_steer4 exists: fib_rule_port_range_valid() wants end < 0xffff. */
Test(netlink, kernel_refuses_a_rule_port_range_ending_at_65535)
{
	char out[512];

	iotest_netns();
	cr_assert_neq(iotest_capture(out, sizeof(out),
				     "ip rule add pref 50 to " OWN
				     " ipproto tcp dport 61001-65535 lookup 100 2>&1"),
		      0);
	cr_assert_not_null(strstr(out, "Invalid dport range"), "%s", out);
	cr_assert_eq(iotest_sh("ip rule add pref 50 to " OWN
			       " ipproto tcp dport 61001-65534 lookup 100"),
		     0);
}

Test(netlink, local_rule_move_then_restore_gives_back_the_original_rules)
{
	static char before[JSON_SIZE], moved[JSON_SIZE], json[JSON_SIZE];
	struct env e;

	env_up(&e, false);
	capture(before, RULES);
	cr_assert(iotest_json_has(before, "\"priority\":0,", "\"table\":\"local\"", NULL), "%s",
		  before);
	cr_assert_eq(netlink_local_rule_move(e.nl, 100), 0);
	capture(moved, RULES);
	cr_assert(iotest_json_has(moved, "\"priority\":100,", "\"table\":\"local\"", NULL), "%s",
		  moved);
	cr_assert_not(iotest_json_has(moved, "\"priority\":0,", NULL), "%s", moved);
	/* Nothing at 0 any more: a second move changes nothing and says so. */
	cr_assert_eq(netlink_local_rule_move(e.nl, 100), -EALREADY);
	capture(json, RULES);
	cr_assert_str_eq(json, moved);
	cr_assert_eq(netlink_local_rule_restore(e.nl, 100), 0);
	capture(json, RULES);
	cr_assert_str_eq(json, before);
	env_down(&e);
}

/* --- steering pool4 ports of an owned address: real traffic -------------------- */

static int
tcp_listener(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip4(addr)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	cr_assert_geq(s, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %u: %s", port,
		     strerror(errno));
	cr_assert_eq(listen(s, 4), 0);
	return s;
}

static int
udp_socket(int nsfd, const char *addr, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip4(addr)};
	int s = nsfd >= 0 ? iotest_socket_in(nsfd, AF_INET, SOCK_DGRAM, 0)
			  : socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(s, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %u: %s", port,
		     strerror(errno));
	return s;
}

/* A non-blocking connect from the peer: its SYN (and retries) leave at once. */
static int
peer_syn(const struct env *e, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip4(OWN)};
	int s = iotest_socket_in(e->peer, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	cr_assert_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	return s;
}

static void
udp_to_own(int s, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = ip4(OWN)};

	cr_assert_eq(sendto(s, "pool4", 5, 0, (struct sockaddr *)&sa, sizeof(sa)), 5);
}

/* The SYN came from the peer through forwarding (TTL 64 - 1) to OWN:port. */
static void
assert_forwarded_syn(const uint8_t *p, size_t n, uint16_t port)
{
	cr_assert_geq(n, 40);
	cr_assert_eq(p[8], 63, "TTL %u: not forwarded", p[8]);
	cr_assert_eq(p[9], IPPROTO_TCP);
	cr_assert_arr_eq(p + 12, &(struct in_addr){ip4(PEER_ADDR).s_addr}, 4);
	cr_assert_arr_eq(p + 16, &(struct in_addr){ip4(OWN).s_addr}, 4);
	cr_assert_eq((p[22] << 8) | p[23], port);
	cr_assert_eq(p[(p[0] & 0xf) * 4 + 13] & 0x12, 0x02, "not a SYN");
}

static bool
accepted(int listener)
{
	int c;

	if (!iotest_readable(listener, 2000))
		return false;
	c = accept(listener, NULL, NULL);
	if (c < 0)
		return false;
	close(c);
	return true;
}

static void
steer_topology(struct env *e, const struct netlink_steer4 *s)
{
	struct prefix4 own = pfx4(OWN, 32);

	env_up(e, true);
	cr_assert_eq(sysctl_write_int(SYSCTL_IP_FORWARD, 1), 0);
	cr_assert_eq(netlink_route4_add(e->nl, &own, e->tun_idx, s->table), 0);
	cr_assert_eq(netlink_steer4_add(e->nl, s), 0, "steer4_add: %s", netlink_strerror(e->nl));
	cr_assert_eq(netlink_local_rule_move(e->nl, 100), 0);
}

static void
steer_undo(struct env *e, const struct netlink_steer4 *s)
{
	struct prefix4 own = pfx4(OWN, 32);

	cr_assert_eq(netlink_steer4_del(e->nl, s), 0);
	cr_assert_eq(netlink_local_rule_restore(e->nl, 100), 0);
	cr_assert_eq(netlink_route4_del(e->nl, &own, e->tun_idx, s->table), 0);
}

Test(netlink, steer4_tcp_syn_in_range_reaches_tun_and_the_rest_the_local_stack)
{
	static char before[JSON_SIZE], json[JSON_SIZE];
	const struct netlink_steer4 s = {.addr = ip4(OWN),
					 .ipproto = IPPROTO_TCP,
					 .port_lo = 61001,
					 .port_hi = 65535,
					 .priority = 50,
					 .table = TABLE};
	int l5000, l62000, l65535, c1, c2, c3, c4;
	uint8_t pkt[2048];
	size_t n;
	struct env e;

	env_up(&e, false);
	capture(before, RULES);
	env_down(&e);
	steer_topology(&e, &s);
	l5000 = tcp_listener(OWN, 5000);
	l62000 = tcp_listener(OWN, 62000);
	l65535 = tcp_listener(OWN, 65535);

	c1 = peer_syn(&e, 62000);
	n = iotest_tun_find(e.tun, 4, IPPROTO_TCP, 62000, pkt, sizeof(pkt), 2000);
	cr_assert_gt(n, 0, "SYN to " OWN ":62000 did not reach the TUN device");
	assert_forwarded_syn(pkt, n, 62000);
	c2 = peer_syn(&e, 65535);
	n = iotest_tun_find(e.tun, 4, IPPROTO_TCP, 65535, pkt, sizeof(pkt), 2000);
	cr_assert_gt(n, 0, "SYN to " OWN ":65535 did not reach the TUN device");
	assert_forwarded_syn(pkt, n, 65535);
	c3 = peer_syn(&e, 5000);
	cr_assert(accepted(l5000), "port 5000 (outside the range) was not delivered locally");
	cr_assert_eq(iotest_tun_find(e.tun, 4, IPPROTO_TCP, 5000, pkt, sizeof(pkt), 200), 0);
	cr_assert_not(accepted(l62000), "port 62000 reached the local listener");
	cr_assert_not(iotest_readable(l65535, 0), "port 65535 reached the local listener");
	/* No port, no steering: ICMP echo is still answered by the node. */
	cr_assert_eq(iotest_sh(IOTEST_PEER "ping -c 1 -W 2 " OWN " >/dev/null", getpid(), e.peer),
		     0);

	steer_undo(&e, &s);
	capture(json, RULES);
	cr_assert_str_eq(json, before);
	c4 = peer_syn(&e, 62000);
	cr_assert(accepted(l62000), "after undo, port 62000 is not delivered locally");
	close(c1);
	close(c2);
	close(c3);
	close(c4);
	close(l5000);
	close(l62000);
	close(l65535);
	env_down(&e);
}

Test(netlink, steer4_udp_range_below_65535_is_one_rule)
{
	static char json[JSON_SIZE];
	const struct netlink_steer4 s = {.addr = ip4(OWN),
					 .ipproto = IPPROTO_UDP,
					 .port_lo = 40000,
					 .port_hi = 40010,
					 .priority = 50,
					 .table = TABLE};
	uint8_t pkt[2048];
	int tx, below, above, in;
	struct env e;

	steer_topology(&e, &s);
	capture(json, RULES);
	cr_assert(iotest_json_has(json, "\"priority\":51,", "\"ipproto\":\"udp\"",
				  "\"dport_start\":40000", "\"dport_end\":40010",
				  "\"table\":\"100\"", NULL),
		  "%s", json);
	cr_assert_not(iotest_json_has(json, "\"priority\":50,", NULL), "%s", json);
	in = udp_socket(-1, OWN, 40005);
	below = udp_socket(-1, OWN, 39999);
	above = udp_socket(-1, OWN, 40011);
	tx = udp_socket(e.peer, PEER_ADDR, 7000);
	udp_to_own(tx, 40005);
	cr_assert_gt(iotest_tun_find(e.tun, 4, IPPROTO_UDP, 40005, pkt, sizeof(pkt), 2000), 0);
	cr_assert_not(iotest_readable(in, 100), "40005 reached the local socket");
	udp_to_own(tx, 39999);
	udp_to_own(tx, 40011);
	cr_assert(iotest_readable(below, 2000), "39999 was not delivered locally");
	cr_assert(iotest_readable(above, 2000), "40011 was not delivered locally");
	cr_assert_eq(netlink_steer4_add(e.nl, &s), -EEXIST);
	steer_undo(&e, &s);
	cr_assert_eq(netlink_steer4_del(e.nl, &s), -ENOENT);
	close(tx);
	close(in);
	close(below);
	close(above);
	env_down(&e);
}

Test(netlink, steer4_range_to_65535_is_listed_as_low_exception_and_catch_all)
{
	static char json[JSON_SIZE];
	const struct netlink_steer4 s = {.addr = ip4(OWN),
					 .ipproto = IPPROTO_TCP,
					 .port_lo = 61001,
					 .port_hi = 65535,
					 .priority = 50,
					 .table = TABLE};
	struct env e;

	env_up(&e, false);
	cr_assert_eq(netlink_steer4_add(e.nl, &s), 0);
	capture(json, RULES);
	cr_assert(iotest_json_has(json, "\"priority\":50,", "\"dst\":\"" OWN "\"",
				  "\"ipproto\":\"tcp\"", "\"dport_start\":1", "\"dport_end\":61000",
				  "\"table\":\"local\"", NULL),
		  "%s", json);
	cr_assert(iotest_json_has(json, "\"priority\":51,", "\"dst\":\"" OWN "\"",
				  "\"ipproto\":\"tcp\"", "\"table\":\"100\"", NULL),
		  "%s", json);
	cr_assert_not(iotest_json_has(json, "\"priority\":51,", "dport", NULL), "%s", json);
	cr_assert_eq(netlink_steer4_add(e.nl, &s), -EEXIST);
	cr_assert_eq(netlink_steer4_del(e.nl, &s), 0);
	capture(json, RULES);
	cr_assert_not(iotest_json_has(json, "\"dst\":\"" OWN "\"", NULL), "%s", json);
	cr_assert_eq(netlink_steer4_del(e.nl, &s), -ENOENT);
	env_down(&e);
}

/*
 * ICMP echo identifiers have no port: a firewall rule (not written yet)
 * will mark the packets, and a fwmark rule sends them to the TUN device.
 * SO_MARK stands in for that firewall mark here.
 */
Test(netlink, fwmark_rule_sends_marked_packets_for_an_own_address_to_tun)
{
	const struct netlink_rule4 r = {
		.priority = 50, .table = TABLE, .fwmark = 0x40, .fwmask = 0xff};
	struct sockaddr_in to = {
		.sin_family = AF_INET, .sin_port = htons(7777), .sin_addr = ip4(OWN)};
	struct prefix4 own = pfx4(OWN, 32);
	uint8_t pkt[2048];
	int rx, marked, plain, mark = 0x40;
	struct env e;

	env_up(&e, true);
	cr_assert_eq(netlink_route4_add(e.nl, &own, e.tun_idx, TABLE), 0);
	cr_assert_eq(netlink_rule4_add(e.nl, &r), 0);
	cr_assert_eq(netlink_local_rule_move(e.nl, 100), 0);
	rx = udp_socket(-1, OWN, 7777);
	marked = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	plain = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(setsockopt(marked, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)), 0);
	cr_assert_eq(sendto(marked, "m", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	cr_assert_gt(iotest_tun_find(e.tun, 4, IPPROTO_UDP, 7777, pkt, sizeof(pkt), 2000), 0);
	cr_assert_not(iotest_readable(rx, 100), "the marked datagram was delivered locally");
	cr_assert_eq(sendto(plain, "p", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	cr_assert(iotest_readable(rx, 2000), "the unmarked datagram was not delivered locally");
	cr_assert_eq(netlink_local_rule_restore(e.nl, 100), 0);
	cr_assert_eq(netlink_rule4_del(e.nl, &r), 0);
	close(rx);
	close(marked);
	close(plain);
	env_down(&e);
}
