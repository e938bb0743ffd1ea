/*
 * rtnetlink requests with libmnl: one request, one answer, on a blocking
 * socket. Each request but a dump carries NLM_F_ACK so success and failure
 * both end with an NLMSG_ERROR message; the socket asks for extended acks
 * (NETLINK_EXT_ACK) with the request left out of them (NETLINK_CAP_ACK), so
 * the kernel's reason ("Invalid dport range") can be logged by the daemon.
 *
 * Adds use NLM_F_CREATE | NLM_F_EXCL so an existing identical object is
 * reported as -EEXIST instead of being silently replaced or duplicated
 * (without NLM_F_EXCL the kernel accepts duplicate FIB rules). Deletes name
 * our protocol (NETLINK_RTPROT_NAT64) so they never remove a route or rule
 * an operator made by hand.
 */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Large enough for any dump message the kernel builds (it caps them at 32 KiB). */
enum { RX_SIZE = 32768, TX_SIZE = 512 };

/* A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is retried. */
enum { DUMP_TRIES = 3 };

struct netlink {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char errmsg[160];
	uint8_t rx[RX_SIZE];
};

/* What one request's callbacks share. */
struct req {
	struct netlink *nl;
	mnl_cb_t cb; /* for data messages, or NULL */
	void *data;
};

int
netlink_open(struct netlink **out)
{
	struct netlink *nl;
	int one = 1, err;

	nl = calloc(1, sizeof(*nl));
	if (nl == NULL)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl->sock == NULL) {
		err = -errno;
		goto err_free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto err_close;
	}
	/* Both are optional: older kernels only lose the error text. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;

err_close:
	mnl_socket_close(nl->sock);
err_free:
	free(nl);
	return err;
}

void
netlink_close(struct netlink *nl)
{
	if (nl == NULL)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

const char *
netlink_strerror(const struct netlink *nl)
{
	return nl->errmsg;
}

/* Keeps the extended-ack text of an error, when the kernel sent one. */
static void
save_ext_ack(struct netlink *nl, const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || !(nlh->nlmsg_flags & NLM_F_CAPPED))
		return;
	mnl_attr_for_each(attr, nlh, sizeof(struct nlmsgerr))
	{
		if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG ||
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			continue;
		strncpy(nl->errmsg, mnl_attr_get_str(attr), sizeof(nl->errmsg) - 1);
		nl->errmsg[sizeof(nl->errmsg) - 1] = '\0';
	}
}

static int
on_error(const struct nlmsghdr *nlh, void *data)
{
	struct req *req = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP; /* the ack */
	save_ext_ack(req->nl, nlh);
	errno = -err->error;
	return MNL_CB_ERROR;
}

static int
on_done(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_STOP;
}

static int
on_data(const struct nlmsghdr *nlh, void *data)
{
	struct req *req = data;

	return req->cb != NULL ? req->cb(nlh, req->data) : MNL_CB_OK;
}

/* Whether a received buffer ends the answer to `seq` (NLMSG_DONE or an error/ack). */
static bool
answer_ends(const void *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		if (nlh->nlmsg_seq == seq &&
		    (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/*
 * Reads the rest of an answer that was abandoned midway (libmnl stops at
 * the first NLM_F_DUMP_INTR message), so the next request does not read it.
 */
static void
drain(struct netlink *nl, size_t len, uint32_t seq)
{
	while (!answer_ends(nl->rx, len, seq)) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->rx, sizeof(nl->rx));

		if (n <= 0)
			return;
		len = (size_t)n;
	}
}

/*
 * Sends `nlh` and runs the answer through `cb` until the ack, the end of
 * the dump, or an error. Returns 0 or -errno.
 */
static int
request(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {0};
	struct req req = {.nl = nl, .cb = cb, .data = data};
	uint32_t seq = ++nl->seq;
	int ret;

	ctl[NLMSG_ERROR] = on_error;
	ctl[NLMSG_DONE] = on_done;
	nl->errmsg[0] = '\0';
	nlh->nlmsg_seq = seq;
	/* A dump ends with NLMSG_DONE; an ack is asked for everything else. */
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	if ((nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->rx, sizeof(nl->rx));

		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(nl->rx, (size_t)n, seq, nl->portid, on_data, &req, ctl,
				  NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR && errno == EINTR) {
			drain(nl, (size_t)n, seq);
			return -EINTR;
		}
	} while (ret > MNL_CB_STOP);
	return ret == MNL_CB_ERROR ? -errno : 0;
}

/* A dump, retried when the kernel says a concurrent change interrupted it. */
static int
dump(struct netlink *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, void (*reset)(void *))
{
	int err = -EINTR;

	nlh->nlmsg_flags |= NLM_F_DUMP;
	for (int i = 0; i < DUMP_TRIES && err == -EINTR; i++) {
		reset(data);
		err = request(nl, nlh, cb, data);
	}
	return err;
}

static struct nlmsghdr *
put_header(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, TX_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

/* Deletes report "not there" as -ENOENT whatever the family says (ESRCH for routes). */
static int
del_result(int err)
{
	return err == -ESRCH ? -ENOENT : err;
}

/* --- links and addresses ------------------------------------------------ */

static int
on_link(const struct nlmsghdr *nlh, void *data)
{
	struct netlink_link *link = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	link->index = ifi->ifi_index;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(attr) == IFLA_MTU &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			link->mtu = mnl_attr_get_u32(attr);
	}
	return MNL_CB_OK;
}

int
netlink_link_get(struct netlink *nl, const char *name, struct netlink_link *out)
{
	uint8_t buf[TX_SIZE];
	struct netlink_link link = {0};
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int err;

	if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	nlh = put_header(buf, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	err = request(nl, nlh, on_link, &link);
	if (err)
		return err;
	if (link.index <= 0)
		return -ENODEV;
	*out = link;
	return 0;
}

struct addr_list {
	struct in_addr *out;
	size_t max;
	size_t count;
};

static void
addr_list_reset(void *data)
{
	((struct addr_list *)data)->count = 0;
}

/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links. */
static int
on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list *list = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa))
	{
		if (mnl_attr_get_payload_len(attr) != sizeof(struct in_addr))
			continue;
		if (mnl_attr_get_type(attr) == IFA_LOCAL)
			local = attr;
		else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
			address = attr;
	}
	if (local == NULL)
		local = address;
	if (local == NULL)
		return MNL_CB_OK;
	if (list->count < list->max)
		memcpy(&list->out[list->count], mnl_attr_get_payload(local),
		       sizeof(struct in_addr));
	list->count++;
	return MNL_CB_OK;
}

int
netlink_addr4_list(struct netlink *nl, struct in_addr *out, size_t max)
{
	uint8_t buf[TX_SIZE];
	struct addr_list list = {.out = out, .max = max};
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int err;

	if (out == NULL && max != 0)
		return -EINVAL;
	nlh = put_header(buf, RTM_GETADDR, 0);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	err = dump(nl, nlh, on_addr, &list, addr_list_reset);
	if (err)
		return err;
	return list.count > (size_t)INT32_MAX ? -EOVERFLOW : (int)list.count;
}

/* --- routes ------------------------------------------------------------- */

static uint32_t
table_id(uint32_t table)
{
	return table == 0 ? NETLINK_TABLE_MAIN : table;
}

static bool
prefix4_ok(const struct prefix4 *p)
{
	uint32_t mask;

	if (p->len > 32)
		return false;
	mask = p->len == 0 ? 0 : htonl(~(uint32_t)0 << (32 - p->len));
	return (p->addr.s_addr & ~mask) == 0;
}

static bool
prefix6_ok(const struct prefix6 *p)
{
	if (p->len > 128)
		return false;
	for (unsigned int bit = p->len; bit < 128; bit++)
		if (p->addr.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* One route message; `add` selects RTM_NEWROUTE (exclusive create) or RTM_DELROUTE. */
static int
route_request(struct netlink *nl, bool add, int family, const void *dst, size_t dst_size,
	      uint8_t len, int ifindex, uint32_t table)
{
	uint8_t buf[TX_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = put_header(buf, add ? RTM_NEWROUTE : RTM_DELROUTE,
			 add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = len;
	rtm->rtm_table = table_id(table) < 256 ? (uint8_t)table_id(table) : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = NETLINK_RTPROT_NAT64;
	rtm->rtm_type = RTN_UNICAST;
	/* A gateway-less IPv4 route is on-link; a delete matches any scope. */
	if (!add)
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	else
		rtm->rtm_scope = family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, RTA_DST, dst_size, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, RTA_TABLE, table_id(table));
	return request(nl, nlh, NULL, NULL);
}

int
netlink_route6_add(struct netlink *nl, const struct prefix6 *dst, int ifindex, uint32_t table)
{
	if (dst == NULL || !prefix6_ok(dst))
		return -EINVAL;
	return route_request(nl, true, AF_INET6, &dst->addr, sizeof(dst->addr), dst->len, ifindex,
			     table);
}

int
netlink_route6_del(struct netlink *nl, const struct prefix6 *dst, int ifindex, uint32_t table)
{
	if (dst == NULL || !prefix6_ok(dst))
		return -EINVAL;
	return del_result(route_request(nl, false, AF_INET6, &dst->addr, sizeof(dst->addr),
					dst->len, ifindex, table));
}

int
netlink_route4_add(struct netlink *nl, const struct prefix4 *dst, int ifindex, uint32_t table)
{
	if (dst == NULL || !prefix4_ok(dst))
		return -EINVAL;
	return route_request(nl, true, AF_INET, &dst->addr, sizeof(dst->addr), dst->len, ifindex,
			     table);
}

int
netlink_route4_del(struct netlink *nl, const struct prefix4 *dst, int ifindex, uint32_t table)
{
	if (dst == NULL || !prefix4_ok(dst))
		return -EINVAL;
	return del_result(route_request(nl, false, AF_INET, &dst->addr, sizeof(dst->addr), dst->len,
					ifindex, table));
}

/* --- proxy neighbours ---------------------------------------------------- */

static struct nlmsghdr *
put_proxy(void *buf, uint16_t type, uint16_t flags, struct in_addr addr, int ifindex)
{
	struct nlmsghdr *nlh = put_header(buf, type, flags);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_flags = NTF_PROXY;
	if (type == RTM_NEWNEIGH)
		ndm->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, sizeof(addr), &addr);
	return nlh;
}

/*
 * RTM_NEWNEIGH with NTF_PROXY succeeds whether or not the entry exists
 * (pneigh_lookup(..., creat=1) returns the old one), so existence is asked
 * first with RTM_GETNEIGH, which answers -ENOENT for a missing entry.
 */
static int
proxy_exists(struct netlink *nl, struct in_addr addr, int ifindex)
{
	uint8_t buf[TX_SIZE];
	int err;

	err = request(nl, put_proxy(buf, RTM_GETNEIGH, 0, addr, ifindex), NULL, NULL);
	if (err == 0)
		return 1;
	return err == -ENOENT ? 0 : err;
}

/*
 * What makes the kernel answer ARP for a proxy entry (arp_process(),
 * net/ipv4/arp.c), checked in namespaces on kernel 6.18 by
 * tests/io/test_netlink.c (netlink.proxy4_*) and by hand with arping:
 *   - forwarding must be on for the uplink: net.ipv4.conf.IFACE.forwarding
 *     (net.ipv4.ip_forward=1 turns it on for every interface); without it
 *     there is no answer even with the entry and the route;
 *   - the target must route (unicast) through a DIFFERENT interface than
 *     the uplink the request came in on, i.e. pool4's route to the TUN
 *     device; an entry for an address of the uplink's own subnet with no
 *     such route is ignored;
 *   - net.ipv4.conf.IFACE.proxy_arp is NOT needed: it is the other,
 *     route-based mechanism, which would answer for EVERY address routed
 *     elsewhere, so leave it off;
 *   - broadcast requests are answered after a random delay of up to
 *     net.ipv4.neigh.IFACE.proxy_delay (default 80 = 0.8 s; measured
 *     ~640 ms); set it to 0 to answer at once.
 */
int
netlink_proxy4_add(struct netlink *nl, struct in_addr addr, int ifindex)
{
	uint8_t buf[TX_SIZE];
	int found;

	if (ifindex <= 0 || addr.s_addr == INADDR_ANY)
		return -EINVAL;
	found = proxy_exists(nl, addr, ifindex);
	if (found < 0)
		return found;
	if (found)
		return -EEXIST;
	return request(nl, put_proxy(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, addr, ifindex),
		       NULL, NULL);
}

int
netlink_proxy4_del(struct netlink *nl, struct in_addr addr, int ifindex)
{
	uint8_t buf[TX_SIZE];

	if (ifindex <= 0 || addr.s_addr == INADDR_ANY)
		return -EINVAL;
	return del_result(request(nl, put_proxy(buf, RTM_DELNEIGH, 0, addr, ifindex), NULL, NULL));
}

/* --- rules --------------------------------------------------------------- */

static bool
rule4_ok(const struct netlink_rule4 *r)
{
	if (!prefix4_ok(&r->dst))
		return false;
	if (r->dport_lo != 0 || r->dport_hi != 0) {
		/* Ports need a protocol; fib_rule_port_range_valid() wants end < 0xffff. */
		if (r->ipproto == 0 || r->dport_lo == 0 || r->dport_lo > r->dport_hi ||
		    r->dport_hi == 0xffff)
			return false;
	}
	if (r->fwmask == 0 && r->fwmark != 0)
		return false;
	return true;
}

static int
rule4_request(struct netlink *nl, bool add, const struct netlink_rule4 *r, uint8_t proto)
{
	uint8_t buf[TX_SIZE];
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	uint32_t table = table_id(r->table);

	nlh = put_header(buf, add ? RTM_NEWRULE : RTM_DELRULE, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	if (proto != 0)
		mnl_attr_put_u8(nlh, FRA_PROTOCOL, proto);
	if (r->dst.len != 0 || r->dst.addr.s_addr != 0) {
		frh->dst_len = r->dst.len;
		mnl_attr_put(nlh, FRA_DST, sizeof(r->dst.addr), &r->dst.addr);
	}
	if (r->ipproto != 0)
		mnl_attr_put_u8(nlh, FRA_IP_PROTO, r->ipproto);
	if (r->dport_lo != 0) {
		/* Host byte order, as fib_nl2rule() reads it. */
		struct fib_rule_port_range range = {.start = r->dport_lo, .end = r->dport_hi};

		mnl_attr_put(nlh, FRA_DPORT_RANGE, sizeof(range), &range);
	}
	if (r->fwmask != 0) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, r->fwmask);
	}
	return request(nl, nlh, NULL, NULL);
}

int
netlink_rule4_add(struct netlink *nl, const struct netlink_rule4 *r)
{
	if (r == NULL || !rule4_ok(r))
		return -EINVAL;
	return rule4_request(nl, true, r, NETLINK_RTPROT_NAT64);
}

int
netlink_rule4_del(struct netlink *nl, const struct netlink_rule4 *r)
{
	if (r == NULL || !rule4_ok(r))
		return -EINVAL;
	return del_result(rule4_request(nl, false, r, NETLINK_RTPROT_NAT64));
}

/* --- steering pool4 ports of an owned address ----------------------------- */

static bool
steer4_ok(const struct netlink_steer4 *s)
{
	uint32_t table = table_id(s->table);

	if (s->ipproto != IPPROTO_TCP && s->ipproto != IPPROTO_UDP)
		return false;
	if (s->port_lo == 0 || s->port_lo > s->port_hi || s->addr.s_addr == INADDR_ANY)
		return false;
	return s->priority < UINT32_MAX && table != NETLINK_TABLE_MAIN &&
	       table != NETLINK_TABLE_LOCAL && table != RT_TABLE_DEFAULT;
}

/*
 * Builds the rules of a steer: `low` hands ports below the range back to
 * the local table when the range ends at 65535 (the kernel cannot match a
 * port range that includes 65535, so the range is written as "every port"
 * minus "the ports below it"). Returns whether `low` is needed.
 */
static bool
steer4_rules(const struct netlink_steer4 *s, struct netlink_rule4 *low, struct netlink_rule4 *main)
{
	bool to_top = s->port_hi == 0xffff;

	*main = (struct netlink_rule4){
		.priority = s->priority + 1,
		.table = s->table,
		.dst = {.addr = s->addr, .len = 32},
		.ipproto = s->ipproto,
		.dport_lo = to_top ? 0 : s->port_lo,
		.dport_hi = to_top ? 0 : s->port_hi,
	};
	*low = (struct netlink_rule4){
		.priority = s->priority,
		.table = NETLINK_TABLE_LOCAL,
		.dst = {.addr = s->addr, .len = 32},
		.ipproto = s->ipproto,
		.dport_lo = 1,
		.dport_hi = (uint16_t)(s->port_lo - 1),
	};
	return to_top && s->port_lo > 1;
}

int
netlink_steer4_add(struct netlink *nl, const struct netlink_steer4 *s)
{
	struct netlink_rule4 low, main;
	bool need_low;
	int err;

	if (s == NULL || !steer4_ok(s))
		return -EINVAL;
	need_low = steer4_rules(s, &low, &main);
	/* The exception first, so no port below the range ever reaches the TUN device. */
	if (need_low) {
		err = netlink_rule4_add(nl, &low);
		if (err)
			return err;
	}
	err = netlink_rule4_add(nl, &main);
	if (err && need_low)
		netlink_rule4_del(nl, &low);
	return err;
}

int
netlink_steer4_del(struct netlink *nl, const struct netlink_steer4 *s)
{
	struct netlink_rule4 low, main;
	bool need_low;
	int err;

	if (s == NULL || !steer4_ok(s))
		return -EINVAL;
	need_low = steer4_rules(s, &low, &main);
	/* The catch-all first, for the same reason as in netlink_steer4_add(). */
	err = netlink_rule4_del(nl, &main);
	if (need_low) {
		int err_low = netlink_rule4_del(nl, &low);

		if (err == 0 && err_low != -ENOENT)
			err = err_low;
	}
	return err;
}

/* --- the local table rule -------------------------------------------------- */

int
netlink_local_rule_move(struct netlink *nl, uint32_t priority)
{
	const struct netlink_rule4 moved = {.priority = priority, .table = NETLINK_TABLE_LOCAL};
	const struct netlink_rule4 orig = {.priority = 0, .table = NETLINK_TABLE_LOCAL};
	int added, err;

	if (priority == 0)
		return -EINVAL;
	added = rule4_request(nl, true, &moved, NETLINK_RTPROT_NAT64);
	if (added != 0 && added != -EEXIST)
		return added;
	/* Protocol 0: match the kernel's rule whatever its protocol. */
	err = rule4_request(nl, false, &orig, 0);
	if (err == 0)
		return 0;
	if (added == 0)
		rule4_request(nl, false, &moved, NETLINK_RTPROT_NAT64);
	return err == -ENOENT ? -EALREADY : err;
}

int
netlink_local_rule_restore(struct netlink *nl, uint32_t priority)
{
	const struct netlink_rule4 moved = {.priority = priority, .table = NETLINK_TABLE_LOCAL};
	const struct netlink_rule4 orig = {.priority = 0, .table = NETLINK_TABLE_LOCAL};
	int err;

	if (priority == 0)
		return -EINVAL;
	/* Back first, then remove ours: local delivery never has a gap. */
	err = rule4_request(nl, true, &orig, RTPROT_KERNEL);
	if (err != 0 && err != -EEXIST)
		return err;
	err = del_result(rule4_request(nl, false, &moved, NETLINK_RTPROT_NAT64));
	return err == -ENOENT ? 0 : err;
}
