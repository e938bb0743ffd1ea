/*
 * io/tun.c against the real kernel, in a fresh network namespace per test
 * (root). Results are read back through an independent path: /sys/class/net,
 * `ip -j link`, and packets the kernel routes into or out of the device.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iotest.h"
#include "sysctl.h"
#include "tun.h"

#define TUN "nat64t0"

static void
sys_attr(const char *ifname, const char *attr, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	cr_assert(iotest_read_file(path, buf, size), "cannot read %s", path);
}

static bool
link_listed(const char *ifname)
{
	char json[8192], frag[64];

	cr_assert_eq(iotest_capture(json, sizeof(json), "ip -j link show"), 0);
	snprintf(frag, sizeof(frag), "\"ifname\":\"%s\"", ifname);
	return iotest_json_has(json, frag, NULL);
}

Test(tun, bad_input_creates_no_device)
{
	char json[8192], name[IFNAMSIZ] = "untouched";

	iotest_netns();
	cr_assert_eq(tun_open(NULL, 1400, 0, name), -EINVAL);
	cr_assert_eq(tun_open("", 1400, 0, name), -EINVAL);
	cr_assert_eq(tun_open("sixteen-chars-xx", 1400, 0, name), -EINVAL);
	cr_assert_eq(tun_open(TUN, 0, 0, name), -EINVAL);
	cr_assert_eq(tun_open(TUN, 70000, 0, name), -EINVAL);
	cr_assert_eq(tun_open(TUN, 1400, IFF_TAP, name), -EINVAL);
	cr_assert_eq(tun_set_mtu("absent0", 1400), -ENODEV);
	cr_assert_eq(tun_set_up("absent0"), -ENODEV);
	cr_assert_eq(tun_ifindex("absent0"), -ENODEV);
	cr_assert_str_eq(name, "untouched");
	cr_assert_eq(iotest_capture(json, sizeof(json), "ip -j link show"), 0);
	cr_assert(iotest_json_has(json, "\"ifname\":\"lo\"", NULL));
	cr_assert_not(iotest_json_has(json, "\"ifname\":\"" TUN "\"", NULL), "%s", json);
	cr_assert_null(strstr(json, "\"ifname\":\"tun"), "%s", json);
}

Test(tun, open_sets_mtu_up_flags_and_nonblocking)
{
	char name[IFNAMSIZ], val[64];
	uint8_t pkt[2048];
	int fd;

	iotest_netns();
	fd = tun_open(TUN, 1400, 0, name);
	cr_assert_geq(fd, 0, "tun_open: %s", strerror(-fd));
	cr_assert_str_eq(name, TUN);
	sys_attr(TUN, "mtu", val, sizeof(val));
	cr_assert_str_eq(val, "1400");
	/* IFF_TUN | IFF_NO_PI, as TUNGETIFF reports them. */
	sys_attr(TUN, "tun_flags", val, sizeof(val));
	cr_assert_str_eq(val, "0x1001");
	sys_attr(TUN, "flags", val, sizeof(val));
	cr_assert(strtoul(val, NULL, 16) & IFF_UP, "flags %s", val);
	cr_assert(strtoul(val, NULL, 16) & IFF_POINTOPOINT, "flags %s", val);
	sys_attr(TUN, "carrier", val, sizeof(val));
	cr_assert_str_eq(val, "1");
	/* A TUN device has no carrier detection of its own: "unknown" is up. */
	sys_attr(TUN, "operstate", val, sizeof(val));
	cr_assert(strcmp(val, "unknown") == 0 || strcmp(val, "up") == 0, "operstate %s", val);
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Empty queue: EAGAIN at once (after whatever IPv6 autoconf sent, e.g. an MLD report). */
	for (int i = 0; i < 64 && read(fd, pkt, sizeof(pkt)) > 0; i++)
		;
	cr_assert_eq(read(fd, pkt, sizeof(pkt)), -1);
	cr_assert_eq(errno, EAGAIN);
	tun_close(fd);
}

/*
 * The device is quiet: with forwarding on (a router joins all-routers on
 * every multicast device and reports it with MLD; an interface with an
 * address sends Router Solicitations), the kernel sends nothing of its own
 * into the device in its first seconds up, for one queue and for several.
 */
Test(tun, kernel_sends_no_control_traffic_into_the_device)
{
	char val[64];
	uint8_t pkt[2048];
	int fds[2], fd;

	iotest_netns();
	cr_assert_eq(sysctl_write_int("net.ipv6.conf.all.forwarding", 1), 0);
	fd = tun_open(TUN, 1500, 0, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(tun_open_queues("tunq", 1500, 0, 2, fds, NULL), 0);
	sys_attr(TUN, "flags", val, sizeof(val));
	cr_assert_not(strtoul(val, NULL, 16) & IFF_MULTICAST, "flags %s", val);
	/* MLD reports go out within a second or two of up (robustness 2). */
	cr_assert_not(iotest_readable(fd, 2500), "%zd bytes from the kernel",
		      read(fd, pkt, sizeof(pkt)));
	cr_assert_not(iotest_readable(fds[0], 10) || iotest_readable(fds[1], 10));
	close(fds[0]);
	close(fds[1]);
	tun_close(fd);
}

Test(tun, ifindex_matches_sysfs)
{
	char val[32];
	int fd;

	iotest_netns();
	fd = tun_open(TUN, 1500, 0, NULL);
	cr_assert_geq(fd, 0);
	sys_attr(TUN, "ifindex", val, sizeof(val));
	cr_assert_eq(tun_ifindex(TUN), atoi(val));
	cr_assert_eq(tun_ifindex("lo"), 1);
	tun_close(fd);
}

Test(tun, template_name_gets_the_kernel_choice)
{
	char name[IFNAMSIZ] = "";
	int fd;

	iotest_netns();
	fd = tun_open("nat64x%d", 1280, 0, name);
	cr_assert_geq(fd, 0);
	cr_assert_str_eq(name, "nat64x0");
	cr_assert(link_listed("nat64x0"));
	tun_close(fd);
}

Test(tun, second_open_of_a_busy_device_is_ebusy)
{
	int fd;

	iotest_netns();
	fd = tun_open(TUN, 1400, 0, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(tun_open(TUN, 1400, 0, NULL), -EBUSY);
	tun_close(fd);
}

Test(tun, close_removes_the_device)
{
	int fd;

	iotest_netns();
	fd = tun_open(TUN, 1400, 0, NULL);
	cr_assert_geq(fd, 0);
	cr_assert(link_listed(TUN));
	tun_close(fd);
	cr_assert_not(link_listed(TUN));
	cr_assert_eq(access("/sys/class/net/" TUN, F_OK), -1);
}

/* RFC 8200 §8.1 pseudo-header checksum of a UDP datagram in `pkt` (IPv6 header first). */
static uint16_t
udp6_checksum(const uint8_t *pkt, size_t udp_len)
{
	uint32_t sum = 17 + (uint32_t)udp_len;

	for (size_t i = 8; i < 40; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	for (size_t i = 0; i < udp_len; i += 2)
		sum += (uint32_t)(pkt[40 + i] << 8 | (i + 1 < udp_len ? pkt[40 + i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return sum == 0 ? 0xffff : (uint16_t)sum;
}

/* An IPv6/UDP packet, hop limit 64, flow label 0; returns its length. */
static size_t
build_udp6(uint8_t *p, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	   const char *payload)
{
	size_t plen = strlen(payload), ulen = 8 + plen;
	uint16_t sum;

	memset(p, 0, 40 + ulen);
	p[0] = 0x60;
	p[4] = (uint8_t)(ulen >> 8);
	p[5] = (uint8_t)ulen;
	p[6] = 17;
	p[7] = 64;
	cr_assert_eq(inet_pton(AF_INET6, src, p + 8), 1);
	cr_assert_eq(inet_pton(AF_INET6, dst, p + 24), 1);
	p[40] = (uint8_t)(sport >> 8);
	p[41] = (uint8_t)sport;
	p[42] = (uint8_t)(dport >> 8);
	p[43] = (uint8_t)dport;
	p[44] = (uint8_t)(ulen >> 8);
	p[45] = (uint8_t)ulen;
	memcpy(p + 48, payload, plen);
	sum = udp6_checksum(p, ulen);
	p[46] = (uint8_t)(sum >> 8);
	p[47] = (uint8_t)sum;
	return 40 + ulen;
}

/* tun0 with 2001:db8:1::1/64 and 2001:db8:99::/64 routed to it. */
static int
tun_with_ipv6(void)
{
	int fd;

	iotest_netns();
	/* Deterministic packets: no automatic flow label (RFC 6437 §3). */
	cr_assert_eq(sysctl_write_int("net.ipv6.auto_flowlabels", 0), 0);
	fd = tun_open(TUN, 1400, 0, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(iotest_sh("ip -6 addr add 2001:db8:1::1/64 dev " TUN " nodad"), 0);
	cr_assert_eq(iotest_sh("ip -6 route add 2001:db8:99::/64 dev " TUN), 0);
	return fd;
}

static int
udp6_socket(const char *addr, uint16_t port)
{
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(s, 0);
	cr_assert_eq(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: %s", strerror(errno));
	return s;
}

Test(tun, kernel_routes_a_udp6_datagram_into_the_fd)
{
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(9999)};
	uint8_t got[2048], want[128];
	size_t want_len, n;
	int fd, s;

	fd = tun_with_ipv6();
	s = udp6_socket("2001:db8:1::1", 5555);
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8:99::5", &to.sin6_addr), 1);
	cr_assert_eq(sendto(s, "nat64io", 7, 0, (struct sockaddr *)&to, sizeof(to)), 7);
	n = iotest_tun_find(fd, 6, 17, 9999, got, sizeof(got), 2000);
	want_len = build_udp6(want, "2001:db8:1::1", 5555, "2001:db8:99::5", 9999, "nat64io");
	cr_assert_eq(n, want_len, "read %zu bytes", n);
	cr_assert_arr_eq(got, want, want_len, "the packet on the fd is not the datagram sent");
	close(s);
	tun_close(fd);
}

Test(tun, packet_written_to_the_fd_reaches_a_local_socket)
{
	struct sockaddr_in6 from;
	socklen_t from_len = sizeof(from);
	uint8_t pkt[128];
	char buf[64], addr[INET6_ADDRSTRLEN];
	size_t len;
	ssize_t n;
	int fd, s;

	fd = tun_with_ipv6();
	s = udp6_socket("2001:db8:1::1", 7000);
	len = build_udp6(pkt, "2001:db8:99::5", 9999, "2001:db8:1::1", 7000, "from-tun");
	cr_assert_eq(write(fd, pkt, len), (ssize_t)len, "write: %s", strerror(errno));
	cr_assert(iotest_readable(s, 2000), "the socket got nothing");
	n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
	cr_assert_eq(n, 8);
	cr_assert_arr_eq(buf, "from-tun", 8);
	inet_ntop(AF_INET6, &from.sin6_addr, addr, sizeof(addr));
	cr_assert_str_eq(addr, "2001:db8:99::5");
	cr_assert_eq(ntohs(from.sin6_port), 9999);
	close(s);
	tun_close(fd);
}

Test(tun, corrupt_checksum_written_to_the_fd_is_dropped)
{
	uint8_t pkt[128];
	size_t len;
	int fd, s;

	fd = tun_with_ipv6();
	s = udp6_socket("2001:db8:1::1", 7000);
	len = build_udp6(pkt, "2001:db8:99::5", 9999, "2001:db8:1::1", 7000, "from-tun");
	pkt[47] ^= 0x01;
	cr_assert_eq(write(fd, pkt, len), (ssize_t)len);
	cr_assert_not(iotest_readable(s, 300), "a bad checksum was delivered");
	close(s);
	tun_close(fd);
}

/* ---- IFF_VNET_HDR and offloads (docs/offloads.md) ---- */

#define TUN_B "nat64t1"

enum {
	VNET_NEEDS_CSUM = 1,
	VNET_GSO_TCPV4 = 1,
	VNET_GSO_TCPV6 = 4,
	VNET_GSO_UDP_L4 = 5,
};

/* struct virtio_net_hdr as the test reads it: little-endian (TUNSETVNETLE). */
struct vnet {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

static uint16_t
le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
be32_put(uint8_t *p, uint32_t v)
{
	be16_put(p, (uint16_t)(v >> 16));
	be16_put(p + 2, (uint16_t)v);
}

static struct vnet
vnet_at(const uint8_t *b)
{
	return (struct vnet){b[0],           b[1],           le16_at(b + 2),
			     le16_at(b + 4), le16_at(b + 6), le16_at(b + 8)};
}

static void
vnet_put(uint8_t *b, struct vnet v)
{
	b[0] = v.flags;
	b[1] = v.gso_type;
	b[2] = (uint8_t)v.hdr_len, b[3] = (uint8_t)(v.hdr_len >> 8);
	b[4] = (uint8_t)v.gso_size, b[5] = (uint8_t)(v.gso_size >> 8);
	b[6] = (uint8_t)v.csum_start, b[7] = (uint8_t)(v.csum_start >> 8);
	b[8] = (uint8_t)v.csum_offset, b[9] = (uint8_t)(v.csum_offset >> 8);
}

/* Naive one's complement sum of 16-bit big-endian words, not folded. */
static uint32_t
sum_words(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += i % 2 == 0 ? (uint32_t)p[i] << 8 : p[i];
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum (RFC 793 §3.1, RFC 8200 §8.1) of the packet at `ip`. */
static uint32_t
pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4_len)
{
	if (ip[0] >> 4 == 4)
		return sum_words(ip + 12, 8, proto + (l4_len >> 16) + (l4_len & 0xffff));
	return sum_words(ip + 8, 32, proto + (l4_len >> 16) + (l4_len & 0xffff));
}

static size_t
l3_len(const uint8_t *ip)
{
	return ip[0] >> 4 == 4 ? (size_t)(ip[0] & 0x0f) * 4 : 40;
}

/* Whether the full L4 checksum of the whole packet verifies (sums to 0xffff). */
static bool
l4_csum_ok(const uint8_t *ip, size_t len, uint8_t proto)
{
	size_t l3 = l3_len(ip);

	return fold(sum_words(ip + l3, len - l3, pseudo(ip, proto, (uint32_t)(len - l3)))) ==
	       0xffff;
}

/* IPv4 or IPv6 header (no options), TCP header with `opt`, payload. The TCP
 * checksum is full, or with `partial` the kernel's NEEDS_CSUM form: the
 * folded pseudo-header sum with the whole L4 length, not complemented. */
struct tcpspec {
	const char *src, *dst;
	uint16_t sport, dport, ipid;
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *opt;
	size_t optlen;
	const uint8_t *payload;
	size_t plen;
	bool partial;
};

static size_t
build_ip(uint8_t *p, bool v6, const char *src, const char *dst, uint8_t proto, size_t l4_len)
{
	if (v6) {
		memset(p, 0, 40);
		p[0] = 0x60;
		be16_put(p + 4, (uint16_t)l4_len);
		p[6] = proto;
		p[7] = 64;
		cr_assert_eq(inet_pton(AF_INET6, src, p + 8), 1);
		cr_assert_eq(inet_pton(AF_INET6, dst, p + 24), 1);
		return 40;
	}
	memset(p, 0, 20);
	p[0] = 0x45;
	be16_put(p + 2, (uint16_t)(20 + l4_len));
	be16_put(p + 6, 0x4000); /* DF */
	p[8] = 64;
	p[9] = proto;
	cr_assert_eq(inet_pton(AF_INET, src, p + 12), 1);
	cr_assert_eq(inet_pton(AF_INET, dst, p + 16), 1);
	be16_put(p + 10, (uint16_t)~fold(sum_words(p, 20, 0)));
	return 20;
}

static size_t
build_tcp(uint8_t *p, bool v6, const struct tcpspec *t)
{
	size_t thl = 20 + t->optlen, l4_len = thl + t->plen, l3;
	uint8_t *th;
	uint32_t sum;

	l3 = build_ip(p, v6, t->src, t->dst, 6, l4_len);
	if (!v6) {
		be16_put(p + 4, t->ipid);
		be16_put(p + 10, 0);
		be16_put(p + 10, (uint16_t)~fold(sum_words(p, 20, 0)));
	}
	th = p + l3;
	memset(th, 0, 20);
	be16_put(th, t->sport);
	be16_put(th + 2, t->dport);
	be32_put(th + 4, t->seq);
	be32_put(th + 8, t->ack);
	th[12] = (uint8_t)((thl / 4) << 4);
	th[13] = t->flags;
	be16_put(th + 14, 65535);
	memcpy(th + 20, t->opt, t->optlen);
	memcpy(th + thl, t->payload, t->plen);
	sum = pseudo(p, 6, (uint32_t)l4_len);
	if (t->partial)
		be16_put(th + 16, fold(sum));
	else
		be16_put(th + 16, (uint16_t)~fold(sum_words(th, l4_len, sum)));
	return l3 + l4_len;
}

/* TUN device with IFF_VNET_HDR and every offload the kernel has, plus
 * 10.0.0.1/24 and 2001:db8:1::1/64 on it. */
static int
vnet_tun(unsigned int *offloads)
{
	char val[32];
	int fd, got;

	iotest_netns();
	cr_assert_eq(sysctl_write_int("net.ipv6.auto_flowlabels", 0), 0);
	fd = tun_open(TUN, 1500, IFF_VNET_HDR, NULL);
	cr_assert_geq(fd, 0, "tun_open: %s", strerror(-fd));
	sys_attr(TUN, "tun_flags", val, sizeof(val));
	cr_assert_str_eq(val, "0x5001");
	got = tun_set_offload(fd, TUN_OFFLOAD_ALL);
	cr_assert_geq(got, 0, "tun_set_offload: %s", strerror(-got));
	cr_assert_eq(got & 0x07, 0x07, "CSUM|TSO4|TSO6 missing: %#x", got);
	if (offloads != NULL)
		*offloads = (unsigned int)got;
	cr_assert_eq(iotest_sh("ip addr add 10.0.0.1/24 dev " TUN), 0);
	cr_assert_eq(iotest_sh("ip -6 addr add 2001:db8:1::1/64 dev " TUN " nodad"), 0);
	return fd;
}

Test(tun, offload_bad_input_changes_nothing)
{
	char val[32];
	int fd, vfd;

	iotest_netns();
	fd = tun_open(TUN, 1500, 0, NULL);
	cr_assert_geq(fd, 0);
	/* No IFF_VNET_HDR: offloads would hand packets with nowhere to say so. */
	cr_assert_eq(tun_set_offload(fd, TUN_OFFLOAD_ALL), -EINVAL);
	cr_assert_eq(tun_set_offload(-1, TUN_OFFLOAD_CSUM), -EBADF);
	sys_attr(TUN, "tun_flags", val, sizeof(val));
	cr_assert_str_eq(val, "0x1001");
	vfd = tun_open(TUN_B, 1500, IFF_VNET_HDR, NULL);
	cr_assert_geq(vfd, 0);
	/* TSO without CSUM, unknown bits (UFO 0x10 is deprecated). */
	cr_assert_eq(tun_set_offload(vfd, TUN_OFFLOAD_TSO4), -EINVAL);
	cr_assert_eq(tun_set_offload(vfd, TUN_OFFLOAD_CSUM | 0x10), -EINVAL);
	cr_assert_eq(tun_set_offload(vfd, 0), 0);
	tun_close(vfd);
	tun_close(fd);
}

Test(tun, vnet_offloads_report_uso_when_the_kernel_has_it)
{
	unsigned int got = 0;
	int fd = vnet_tun(&got);

	/* USO on TUN appeared in Linux 6.2; older kernels fall back to TSO. */
	cr_log_info("offloads enabled: %#x", got);
	cr_assert(got == TUN_OFFLOAD_ALL || got == 0x07, "offloads %#x", got);
	tun_close(fd);
}

/* Reads one TCP packet to port `dport` (with payload when `want_data`),
 * vnet header first; returns the bytes read, header included (0: none). */
static size_t
read_tcp(int fd, bool v6, uint16_t dport, bool want_data, uint8_t *buf, size_t size)
{
	for (int tries = 0; tries < 200; tries++) {
		const uint8_t *ip = buf + TUN_VNET_HDR_LEN;
		size_t l3, thl;
		ssize_t r;

		if (!iotest_readable(fd, 2000))
			return 0;
		r = read(fd, buf, size);
		if (r <= TUN_VNET_HDR_LEN + 40 || ip[0] >> 4 != (v6 ? 6 : 4))
			continue;
		l3 = l3_len(ip);
		if ((v6 ? ip[6] : ip[9]) != 6 || be16_at(ip + l3 + 2) != dport)
			continue;
		thl = (size_t)(ip[l3 + 12] >> 4) * 4;
		if (want_data && (size_t)r - TUN_VNET_HDR_LEN <= l3 + thl)
			continue;
		return (size_t)r;
	}
	return 0;
}

static void
connect_nb(int s, bool v6, const char *dst, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, dst, &a->sin6_addr), 1);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, dst, &a->sin_addr), 1);
		sl = sizeof(*a);
	}
	cr_assert_eq(connect(s, (struct sockaddr *)&ss, sl), -1);
	cr_assert_eq(errno, EINPROGRESS, "connect: %s", strerror(errno));
}

/*
 * A local TCP socket sends 64 KiB to a peer behind the device; the test
 * plays the peer's SYN-ACK (MSS 1460) and then reads what TSO hands over:
 * one super-packet larger than the MTU, gso_type TCPV4/6, NEEDS_CSUM, and
 * in the checksum field the kernel's partial sum. The test checks which
 * length that pseudo-header carries: the whole super-packet's L4 length.
 */
static void
tso_read(bool v6)
{
	static uint8_t buf[70000], pkt[128], data[65536];
	static const uint8_t mss[] = {2, 4, 0x05, 0xb4};
	const char *me = v6 ? "2001:db8:1::1" : "10.0.0.1",
		   *peer = v6 ? "2001:db8:1::2" : "10.0.0.2";
	const uint8_t *ip = buf + TUN_VNET_HDR_LEN, *th;
	size_t n, len, l3, l4_len;
	struct vnet h;
	uint32_t seq;
	int fd, s;

	fd = vnet_tun(NULL);
	s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(s, 0);
	connect_nb(s, v6, peer, 5001);
	n = read_tcp(fd, v6, 5001, false, buf, sizeof(buf));
	cr_assert_gt(n, 0, "no SYN on the device");
	l3 = l3_len(ip);
	seq = (uint32_t)be16_at(ip + l3 + 4) << 16 | be16_at(ip + l3 + 6);
	struct tcpspec synack = {.src = peer,
				 .dst = me,
				 .sport = 5001,
				 .dport = be16_at(ip + l3),
				 .seq = 1000,
				 .ack = seq + 1,
				 .flags = 0x12,
				 .opt = mss,
				 .optlen = sizeof(mss)};
	memset(pkt, 0, TUN_VNET_HDR_LEN); /* GSO_NONE, full checksum */
	len = build_tcp(pkt + TUN_VNET_HDR_LEN, v6, &synack) + TUN_VNET_HDR_LEN;
	cr_assert_eq(write(fd, pkt, len), (ssize_t)len, "write: %s", strerror(errno));
	for (int i = 0; i < 100 && send(s, data, sizeof(data), 0) < 0; i++)
		usleep(10000);
	do {
		n = read_tcp(fd, v6, 5001, true, buf, sizeof(buf));
		cr_assert_gt(n, 0, "no data on the device");
	} while (n - TUN_VNET_HDR_LEN <= 1500);
	h = vnet_at(buf);
	len = n - TUN_VNET_HDR_LEN;
	l4_len = len - l3;
	th = ip + l3;
	cr_assert_eq(h.gso_type, v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4);
	cr_assert(h.flags & VNET_NEEDS_CSUM, "flags %#x", h.flags);
	/* min(advertised 1460, MTU 1500 - IP - TCP): 1460 over IPv4, 1440 over IPv6. */
	cr_assert_eq(h.gso_size, v6 ? 1440 : 1460, "gso_size %u", h.gso_size);
	cr_assert_eq(h.csum_start, l3);
	cr_assert_eq(h.csum_offset, 16);
	cr_assert_geq(h.hdr_len, l3 + 20, "hdr_len %u", h.hdr_len);
	/* The partial checksum: pseudo-header with the whole L4 length. */
	cr_assert_eq(be16_at(th + 16), fold(pseudo(ip, 6, (uint32_t)l4_len)),
		     "field %#06x; pseudo with len %zu: %#06x, with len 0: %#06x", be16_at(th + 16),
		     l4_len, fold(pseudo(ip, 6, (uint32_t)l4_len)), fold(pseudo(ip, 6, 0)));
	/* Finishing it as a NIC would gives a valid checksum for the whole. */
	memmove(buf, ip, len);
	be16_put(buf + l3 + 16, (uint16_t)~fold(sum_words(buf + l3, l4_len, 0)));
	cr_assert(l4_csum_ok(buf, len, 6));
	close(s);
	tun_close(fd);
}

Test(tun, tso4_read_is_a_super_packet_with_partial_checksum)
{
	tso_read(false);
}

Test(tun, tso6_read_is_a_super_packet_with_partial_checksum)
{
	tso_read(true);
}

/*
 * A TCP super-packet written to the device (gso_size 1000, 3000 bytes,
 * partial checksum with the whole L4 length) is forwarded to a second TUN
 * device without offloads, so the kernel segments it and completes the
 * checksums in software: three segments, each with a valid checksum, the
 * right sequence number, IPv4 ID, PSH on the last one only, and the bytes.
 */
static void
gso_write_forwarded(bool v6)
{
	static uint8_t pkt[4096], got[4096], payload[3000];
	const char *src = v6 ? "2001:db8:1::2" : "10.0.0.2",
		   *dst = v6 ? "2001:db8:2::2" : "10.0.1.2";
	size_t len, l3 = v6 ? 40 : 20;
	int fd, fdb;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	fd = vnet_tun(NULL);
	fdb = tun_open(TUN_B, 1500, 0, NULL);
	cr_assert_geq(fdb, 0);
	cr_assert_eq(iotest_sh("ip addr add 10.0.1.1/24 dev " TUN_B), 0);
	cr_assert_eq(iotest_sh("ip -6 addr add 2001:db8:2::1/64 dev " TUN_B " nodad"), 0);
	cr_assert_eq(sysctl_write_int("net.ipv4.ip_forward", 1), 0);
	cr_assert_eq(sysctl_write_int("net.ipv6.conf.all.forwarding", 1), 0);
	struct tcpspec t = {.src = src,
			    .dst = dst,
			    .sport = 4000,
			    .dport = 5000,
			    .ipid = 0x1234,
			    .seq = 7777,
			    .ack = 1,
			    .flags = 0x18,
			    .payload = payload,
			    .plen = sizeof(payload),
			    .partial = true};
	len = build_tcp(pkt + TUN_VNET_HDR_LEN, v6, &t);
	vnet_put(pkt, (struct vnet){VNET_NEEDS_CSUM, v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
				    (uint16_t)(l3 + 20), 1000, (uint16_t)l3, 16});
	len += TUN_VNET_HDR_LEN;
	cr_assert_eq(write(fd, pkt, len), (ssize_t)len, "write: %s", strerror(errno));
	for (uint32_t i = 0; i < 3; i++) {
		size_t n = iotest_tun_find(fdb, v6 ? 6 : 4, 6, 5000, got, sizeof(got), 2000);

		cr_assert_eq(n, l3 + 20 + 1000, "segment %u: %zu bytes", i, n);
		cr_assert(l4_csum_ok(got, n, 6), "segment %u: bad TCP checksum", i);
		cr_assert_eq(be16_at(got + l3 + 4) << 16 | be16_at(got + l3 + 6), 7777 + 1000 * i);
		cr_assert_eq(got[l3 + 13], i == 2 ? 0x18 : 0x10, "segment %u flags %#x", i,
			     got[l3 + 13]);
		if (!v6) {
			cr_assert_eq(be16_at(got + 4), 0x1234 + i, "segment %u IPv4 ID", i);
			cr_assert_eq(fold(sum_words(got, 20, 0)), 0xffff, "IPv4 header checksum");
		}
		cr_assert_arr_eq(got + l3 + 20, payload + 1000 * i, 1000, "segment %u bytes", i);
	}
	tun_close(fdb);
	tun_close(fd);
}

Test(tun, tso4_write_is_segmented_with_valid_checksums)
{
	gso_write_forwarded(false);
}

Test(tun, tso6_write_is_segmented_with_valid_checksums)
{
	gso_write_forwarded(true);
}

/*
 * A UDP GSO (USO) packet written to the device for a local socket: the
 * kernel splits it into gso_size datagrams (udp_rcv_segment()), each
 * delivered intact.
 */
Test(tun, uso4_write_reaches_a_local_socket_as_datagrams)
{
	static uint8_t pkt[2048], payload[1500];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7000)};
	uint8_t buf[2048], *ip = pkt + TUN_VNET_HDR_LEN, *uh;
	int fd, s;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	fd = vnet_tun(NULL);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(s, 0);
	cr_assert_eq(inet_pton(AF_INET, "10.0.0.1", &sa.sin_addr), 1);
	cr_assert_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	build_ip(ip, false, "10.0.0.2", "10.0.0.1", 17, 8 + sizeof(payload));
	uh = ip + 20;
	be16_put(uh, 9000);
	be16_put(uh + 2, 7000);
	be16_put(uh + 4, 8 + sizeof(payload));
	be16_put(uh + 6, fold(pseudo(ip, 17, 8 + sizeof(payload))));
	memcpy(uh + 8, payload, sizeof(payload));
	vnet_put(pkt, (struct vnet){VNET_NEEDS_CSUM, VNET_GSO_UDP_L4, 28, 500, 20, 6});
	cr_assert_eq(write(fd, pkt, TUN_VNET_HDR_LEN + 28 + sizeof(payload)),
		     (ssize_t)(TUN_VNET_HDR_LEN + 28 + sizeof(payload)), "write: %s",
		     strerror(errno));
	for (int i = 0; i < 3; i++) {
		cr_assert(iotest_readable(s, 2000), "datagram %d missing", i);
		cr_assert_eq(recv(s, buf, sizeof(buf), 0), 500, "datagram %d size", i);
		cr_assert_arr_eq(buf, payload + 500 * i, 500, "datagram %d bytes", i);
	}
	cr_assert_not(iotest_readable(s, 100), "more than three datagrams");
	close(s);
	tun_close(fd);
}
