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

static void sys_attr(const char *ifname, const char *attr, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	cr_assert(iotest_read_file(path, buf, size), "cannot read %s", path);
}

static bool link_listed(const char *ifname)
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
static uint16_t udp6_checksum(const uint8_t *pkt, size_t udp_len)
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
static size_t build_udp6(uint8_t *p, const char *src, uint16_t sport, const char *dst,
			 uint16_t dport, const char *payload)
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
static int tun_with_ipv6(void)
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

static int udp6_socket(const char *addr, uint16_t port)
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
