/*
 * io/steer.c and bpf/steer.bpf.c (docs/steering.md), as root.
 *
 * Two halves: the program run on crafted bytes with BPF_PROG_TEST_RUN
 * (truncated and garbage packets, exact queue numbers), then a real
 * multi-queue TUN device in a fresh network namespace with the program
 * attached: the kernel routes packets into it and the test checks on which
 * queue fd each one arrives.
 *
 * Expected queues are computed with bpf/steer_hash.h, the arithmetic the
 * program itself uses; the port rule is also written out literally.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iotest.h"
#include "steer.h"
#include "steer_hash.h"
#include "sysctl.h"
#include "tun.h"

#define TUN "nat64s0"

/* ---- packet bytes ---- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint16_t
csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += i % 2 == 0 ? (uint32_t)p[i] << 8 : p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 header with `ihl` 32-bit words (options zero), valid checksum. */
static size_t
ip4(uint8_t *p, unsigned int ihl, uint8_t proto, const char *src, const char *dst, uint16_t frag,
    uint16_t id, size_t l4_len)
{
	size_t hl = ihl * 4u;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | ihl);
	put16(p + 2, (uint16_t)(hl + l4_len));
	put16(p + 4, id);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	cr_assert_eq(inet_pton(AF_INET, src, p + 12), 1);
	cr_assert_eq(inet_pton(AF_INET, dst, p + 16), 1);
	put16(p + 10, csum(p, hl));
	return hl;
}

/* IPv4 UDP datagram (checksum 0: none, RFC 768) with 4 bytes of payload. */
static size_t
udp4(uint8_t *p, unsigned int ihl, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	size_t hl = ip4(p, ihl, 17, src, dst, 0, 1, 12);

	put16(p + hl, sport);
	put16(p + hl + 2, dport);
	put16(p + hl + 4, 12);
	put16(p + hl + 6, 0);
	memcpy(p + hl + 8, "ping", 4);
	return hl + 12;
}

/* IPv4 ICMP message of `type` whose 4 bytes after the checksum are `rest`
 * and whose body is `body`; valid checksums. */
static size_t
icmp4(uint8_t *p, const char *src, const char *dst, uint8_t type, uint32_t rest,
      const uint8_t *body, size_t blen)
{
	size_t hl = ip4(p, 5, 1, src, dst, 0, 7, 8 + blen);
	uint8_t *ic = p + hl;

	ic[0] = type;
	ic[1] = 0;
	put16(ic + 2, 0);
	put16(ic + 4, (uint16_t)(rest >> 16));
	put16(ic + 6, (uint16_t)rest);
	memcpy(ic + 8, body, blen);
	put16(ic + 2, csum(ic, 8 + blen));
	return hl + 8 + blen;
}

/* IPv6 header + `l4` bytes (no extension headers). */
static size_t
ip6(uint8_t *p, uint8_t nh, uint8_t hlim, const char *src, const char *dst, const uint8_t *l4,
    size_t l4_len)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)l4_len);
	p[6] = nh;
	p[7] = hlim;
	cr_assert_eq(inet_pton(AF_INET6, src, p + 8), 1);
	cr_assert_eq(inet_pton(AF_INET6, dst, p + 24), 1);
	memcpy(p + 40, l4, l4_len);
	return 40 + l4_len;
}

static uint32_t
addr4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static uint32_t
q6(const char *s, uint32_t n)
{
	uint8_t a[16];

	cr_assert_eq(inet_pton(AF_INET6, s, a), 1);
	return steer_addr6(a, n);
}

/* ---- BPF_PROG_TEST_RUN ---- */

static int
load_or_skip(unsigned int n)
{
	char err[512];
	int fd;

	iotest_netns();
	fd = steer_load(n, err, sizeof(err));
	cr_assert_geq(fd, 0, "steer_load(%u): %d %s", n, fd, err);
	return fd;
}

/* Ethernet type for the test run: it refuses an IPv4 / IPv6 type whose
 * header is short, so shorter inputs go as local experimental 0x88b5 (the
 * program looks at the bytes only, never at skb->protocol). */
static uint16_t
ethertype(const uint8_t *ip, size_t len)
{
	if (len >= 20 && ip[0] >> 4 == 4)
		return 0x0800;
	if (len >= 40 && ip[0] >> 4 == 6)
		return 0x86dd;
	return 0x88b5;
}

/* The queue the program returns for the IP packet `ip`: the test run wants
 * an Ethernet header in front, which it pulls off before the program runs. */
static uint32_t
run(int fd, const uint8_t *ip, size_t len)
{
	uint8_t buf[2048] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (__u32)(14 + len));
	int e;

	cr_assert_leq(len, sizeof(buf) - 14);
	put16(buf + 12, ethertype(ip, len));
	memcpy(buf + 14, ip, len);
	e = bpf_prog_test_run_opts(fd, &o);
	cr_assert_eq(e, 0, "BPF_PROG_TEST_RUN: %s", strerror(errno));
	return o.retval;
}

Test(steer, bad_input_changes_nothing)
{
	char err[256] = "", json[8192], name[IFNAMSIZ] = "untouched";
	int fds[4] = {-1, -1, -1, -1}, s;

	iotest_netns();
	cr_assert_eq(steer_load(0, err, sizeof(err)), -EINVAL);
	cr_assert_neq(err[0], '\0');
	cr_assert_eq(steer_load(STEER_MAX_QUEUES + 1, err, sizeof(err)), -EINVAL);
	cr_assert_eq(steer_attach(-1, 2, err, sizeof(err)), -EBADF);
	cr_assert_eq(steer_attach(3, 0, err, sizeof(err)), -EINVAL);
	/* Not a TUN device: the ioctl fails, with a message naming it. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_lt(steer_attach(s, 2, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "TUNSETSTEERINGEBPF"), "%s", err);
	close(s);
	/* One queue: nothing to steer, nothing loaded. */
	cr_assert_eq(steer_attach(s, 1, err, sizeof(err)), 0);
	cr_assert_eq(tun_open_queues(TUN, 1400, 0, 0, fds, name), -EINVAL);
	cr_assert_eq(tun_open_queues(TUN, 1400, 0, 257, fds, name), -EINVAL);
	cr_assert_eq(tun_open_queues(TUN, 0, 0, 2, fds, name), -EINVAL);
	cr_assert_eq(tun_open_queues(TUN, 1400, IFF_TAP, 2, fds, name), -EINVAL);
	cr_assert_eq(tun_open_queues("", 1400, 0, 2, fds, name), -EINVAL);
	cr_assert_eq(tun_open_queues(TUN, 1400, 0, 2, NULL, name), -EINVAL);
	/* A single-queue device of that name exists: the second queue can't join. */
	s = tun_open(TUN, 1400, 0, NULL);
	cr_assert_geq(s, 0);
	cr_assert_eq(tun_open_queues(TUN, 1400, 0, 2, fds, name), -EINVAL);
	tun_close(s);
	cr_assert_str_eq(name, "untouched");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(fds[i], -1);
	cr_assert_eq(iotest_capture(json, sizeof(json), "ip -j link show"), 0);
	cr_assert_not(iotest_json_has(json, "\"ifname\":\"" TUN "\"", NULL), "%s", json);
}

Test(steer, truncated_or_garbage_ipv4_goes_to_queue_0)
{
	uint8_t p[256];
	size_t len;
	int fd = load_or_skip(3);

	cr_assert_eq(run(fd, p, 0), 0);
	len = udp4(p, 5, "192.0.2.2", 9, "192.0.2.1", 1001);
	cr_assert_eq(run(fd, p, len), 2, "sanity: (1001 >> 1) %% 3");
	for (size_t cut = 1; cut < 24; cut++)
		cr_assert_eq(run(fd, p, cut), 0, "cut at %zu", cut);
	p[0] = 0x44; /* IHL 4 < 5 */
	cr_assert_eq(run(fd, p, len), 0);
	p[0] = 0x75; /* version 7 */
	cr_assert_eq(run(fd, p, len), 0);
	/* Protocols without ports: queue 0. */
	len = ip4(p, 5, 47, "192.0.2.2", "192.0.2.1", 0, 1, 0);
	cr_assert_eq(run(fd, p, len), 0);
	/* ICMP types other than echo and the three errors: 0. */
	len = icmp4(p, "192.0.2.2", "192.0.2.1", 5, 0x0000ffff, NULL, 0);
	cr_assert_eq(run(fd, p, len), 0);
	close(fd);
}

Test(steer, ipv4_ports_and_icmp_identifiers)
{
	uint8_t p[256];
	size_t len;
	int fd = load_or_skip(3);

	/* IP options (IHL 6) move the ports; the destination port counts. */
	len = udp4(p, 6, "192.0.2.2", 1005, "192.0.2.1", 1001);
	cr_assert_eq(run(fd, p, len), 2);
	len = udp4(p, 5, "192.0.2.2", 1001, "192.0.2.1", 1005);
	cr_assert_eq(run(fd, p, len), (1005 >> 1) % 3);
	p[9] = 6; /* TCP: the same two bytes */
	cr_assert_eq(run(fd, p, len), (1005 >> 1) % 3);
	len = udp4(p, 5, "192.0.2.2", 1, "192.0.2.1", 65535);
	cr_assert_eq(run(fd, p, len), 32767 % 3);
	/* Echo request and reply: the identifier. */
	len = icmp4(p, "192.0.2.2", "192.0.2.1", 8, 0x10010001, NULL, 0);
	cr_assert_eq(run(fd, p, len), (0x1001 >> 1) % 3);
	len = icmp4(p, "192.0.2.2", "192.0.2.1", 0, 0x10050001, NULL, 0);
	cr_assert_eq(run(fd, p, len), (0x1005 >> 1) % 3);
	len = icmp4(p, "192.0.2.2", "192.0.2.1", 8, 0, NULL, 0);
	cr_assert_eq(run(fd, p, len - 4), 0, "identifier cut off");
	close(fd);
}

Test(steer, ipv4_icmp_errors_go_by_the_quoted_source)
{
	uint8_t p[256], in[128];
	size_t len, ilen;
	int fd = load_or_skip(3);

	/* Quoted UDP with IP options: source 1001 -> 2, destination 1005 -> 1. */
	udp4(in, 7, "192.0.2.1", 1001, "198.51.100.9", 1005);
	for (uint8_t type = 3; type <= 12; type++) {
		len = icmp4(p, "203.0.113.1", "192.0.2.1", type, 0, in, 28 + 8);
		cr_assert_eq(run(fd, p, len), type == 3 || type == 11 || type == 12 ? 2 : 0,
			     "type %u", type);
	}
	/* Quoted TCP: same two bytes. */
	in[9] = 6;
	len = icmp4(p, "203.0.113.1", "192.0.2.1", 11, 0, in, 28 + 8);
	cr_assert_eq(run(fd, p, len), 2);
	/* Quoted header or ports cut short: 0. */
	for (size_t cut = 0; cut < 30; cut++) {
		len = icmp4(p, "203.0.113.1", "192.0.2.1", 3, 0, in, cut);
		cr_assert_eq(run(fd, p, len), 0, "inner cut at %zu", cut);
	}
	/* A quoted non-first fragment has no ports. */
	ilen = udp4(in, 5, "192.0.2.1", 1001, "198.51.100.9", 1005);
	put16(in + 6, 100);
	len = icmp4(p, "203.0.113.1", "192.0.2.1", 3, 0, in, ilen);
	cr_assert_eq(run(fd, p, len), 0);
	/* Quoted echo request: its identifier. */
	ilen = icmp4(in, "192.0.2.1", "198.51.100.9", 8, 0x0fa50003, NULL, 0);
	len = icmp4(p, "203.0.113.1", "192.0.2.1", 3, 0, in, ilen);
	cr_assert_eq(run(fd, p, len), (0x0fa5 >> 1) % 3);
	/* Quoted garbage version: 0. */
	in[0] = 0x65;
	len = icmp4(p, "203.0.113.1", "192.0.2.1", 3, 0, in, ilen);
	cr_assert_eq(run(fd, p, len), 0);
	close(fd);
}

Test(steer, ipv4_fragments_go_by_datagram)
{
	uint8_t p[256];
	uint32_t s = addr4("198.51.100.7"), d = addr4("192.0.2.1"), want;
	size_t len;
	int fd = load_or_skip(3);

	for (uint16_t id = 1; id < 40; id++) {
		want = steer_frag4(s, d, 17, id, 3);
		len = udp4(p, 5, "198.51.100.7", 1, "192.0.2.1", 1001);
		put16(p + 4, id);
		put16(p + 6, 0x2000); /* MF, offset 0: has ports, still by datagram */
		cr_assert_eq(run(fd, p, len), want, "id %u first", id);
		put16(p + 6, 185); /* last fragment, offset 1480 */
		cr_assert_eq(run(fd, p, len), want, "id %u last", id);
		put16(p + 6, 0x2000 | 185);
		cr_assert_eq(run(fd, p, 20), want, "id %u middle, header only", id);
	}
	close(fd);
}

Test(steer, random_bytes_always_give_a_queue_in_range)
{
	uint8_t p[128];
	int fd = load_or_skip(3);

	srandom(6146);
	for (int i = 0; i < 3000; i++) {
		size_t len = (size_t)random() % sizeof(p);

		for (size_t j = 0; j < len; j++)
			p[j] = (uint8_t)random();
		if (len > 0 && i % 2 == 0)
			p[0] = (uint8_t)((i % 4 == 0 ? 0x40 : 0x60) | (p[0] & 0x0f));
		if (len > 9 && i % 3 == 0)
			p[9] = (uint8_t)(i % 9 == 0 ? 1 : 17);
		cr_assert_lt(run(fd, p, len), 3, "input %d", i);
	}
	close(fd);
}

/* The loader really writes the queue count: with the default 1 every
 * answer would be 0. */
Test(steer, queue_count_reaches_the_program)
{
	uint8_t p[64];
	size_t len = udp4(p, 5, "192.0.2.2", 1, "192.0.2.1", 9);

	for (unsigned int n = 2; n <= 9; n++) {
		int fd = load_or_skip(n);

		cr_assert_eq(run(fd, p, len), 4 % n, "n %u", n);
		close(fd);
	}
}

/* IPv6 UDP (or TCP: next header `nh`) from src:sport to dst:dport, 4 bytes
 * of payload, no checksum (the program reads the ports only). */
static size_t
udp6(uint8_t *p, uint8_t nh, uint8_t hlim, const char *src, uint16_t sport, const char *dst,
     uint16_t dport)
{
	uint8_t l4[20] = {0};

	put16(l4, sport);
	put16(l4 + 2, dport);
	put16(l4 + 4, 12);
	memcpy(l4 + 8, "ping", 4);
	return ip6(p, nh, hlim, src, dst, l4, nh == 6 ? 20 : 12);
}

/* ICMPv6 message of `type` whose 4 bytes after the checksum are `rest`,
 * with `body` after them (checksum not filled in). */
static size_t
icmp6(uint8_t *p, const char *src, const char *dst, uint8_t type, uint32_t rest,
      const uint8_t *body, size_t blen)
{
	uint8_t l4[256] = {type};

	cr_assert_leq(blen, sizeof(l4) - 8);
	put16(l4 + 4, (uint16_t)(rest >> 16));
	put16(l4 + 6, (uint16_t)rest);
	memcpy(l4 + 8, body, blen);
	return ip6(p, 58, 64, src, dst, l4, 8 + blen);
}

static uint32_t
own(uint16_t port, uint32_t n)
{
	return (uint32_t)(port >> 1) % n;
}

Test(steer, truncated_ipv6_goes_to_queue_0)
{
	uint8_t p[256];
	size_t len;
	int fd = load_or_skip(3);

	for (size_t cut = 0; cut < 40; cut++)
		cr_assert_eq(run(fd, (uint8_t[40]){0x60}, cut), 0, "cut at %zu", cut);
	len = udp6(p, 17, 64, "2001:db8:1::5", 1005, "64:ff9b::c000:201", 1003);
	cr_assert_eq(run(fd, p, len), 1, "sanity: (1005 >> 1) %% 3");
	/* Source port missing or half there. */
	cr_assert_eq(run(fd, p, 40), 0);
	cr_assert_eq(run(fd, p, 41), 0);
	p[6] = 6;
	cr_assert_eq(run(fd, p, 41), 0);
	/* ICMPv6 without its type, echo without its whole identifier. */
	len = icmp6(p, "2001:db8:1::5", "64:ff9b::c000:201", 128, 0x0fa50001, NULL, 0);
	cr_assert_eq(run(fd, p, len), own(0x0fa5, 3), "sanity");
	for (size_t cut = 40; cut < 46; cut++)
		cr_assert_eq(run(fd, p, cut), 0, "echo cut at %zu", cut);
	close(fd);
}

/* The SOURCE port picks the queue, whatever the addresses or the
 * destination port: the subscriber's port, which its worker keeps. */
Test(steer, ipv6_udp_and_tcp_land_by_source_port)
{
	static const char *const srcs[] = {"2001:db8:1::5", "2001:db8:2::7", "2001:db8:1::6"};
	static const uint16_t dports[] = {1001, 1003, 1005, 80};
	uint8_t p[256];
	int fd = load_or_skip(3);

	for (uint16_t sport = 1000; sport < 1012; sport++)
		for (size_t a = 0; a < 3; a++)
			for (size_t d = 0; d < 4; d++) {
				size_t len = udp6(p, 17, 64, srcs[a], sport, "64:ff9b::c000:201",
						  dports[d]);

				cr_assert_eq(run(fd, p, len), own(sport, 3), "UDP %s %u -> %u",
					     srcs[a], sport, dports[d]);
				len = udp6(p, 6, 64, srcs[a], sport, "64:ff9b::c000:201",
					   dports[d]);
				cr_assert_eq(run(fd, p, len), own(sport, 3), "TCP %s %u -> %u",
					     srcs[a], sport, dports[d]);
			}
	cr_assert_eq(run(fd, p, udp6(p, 17, 64, srcs[0], 65535, "64:ff9b::1", 1)), 32767 % 3);
	cr_assert_eq(run(fd, p, udp6(p, 17, 64, srcs[0], 0, "64:ff9b::1", 1005)), 0);
	close(fd);
}

Test(steer, icmpv6_echo_lands_by_identifier)
{
	uint8_t p[256];
	int fd = load_or_skip(3);

	for (uint16_t id = 0x1000; id < 0x100c; id++)
		for (int type = 128; type <= 129; type++) {
			/* The sequence number (low half, owner one queue further) must not
			 * count. */
			size_t len = icmp6(p, "2001:db8:1::5", "64:ff9b::c000:201", (uint8_t)type,
					   (uint32_t)id << 16 | (uint16_t)(id + 2), NULL, 0);

			cr_assert_eq(run(fd, p, len), own(id, 3), "type %d id %#x", type, id);
		}
	close(fd);
}

/* Other informational ICMPv6 (RFC 4443 §2.1: types 128-255) and next
 * headers without ports at offset 40 (extension headers, fragments,
 * anything else): hash(source address), never the bytes after the header. */
Test(steer, ipv6_other_packets_and_fragments_land_by_source_address)
{
	static const uint8_t nhs[] = {0, 43, 44, 47, 50, 59, 60, 132, 255};
	static const int types[] = {130, 133, 134, 135, 136, 143, 200, 255};
	uint8_t p[256], l4[64] = {0};
	int fd = load_or_skip(3);

	for (unsigned int i = 0; i < 12; i++) {
		char src[64];

		snprintf(src, sizeof(src), "2001:db8:1::%x", 0x100 + i);
		for (size_t k = 0; k < sizeof(nhs); k++) {
			/* What would be ports: owner 0, 1, 2 as i goes. */
			put16(l4, (uint16_t)(2 * i));
			put16(l4 + 2, (uint16_t)(2 * i + 2));
			if (nhs[k] == 44)
				l4[0] = 17; /* a fragment header whose next is UDP */
			cr_assert_eq(run(fd, p, ip6(p, nhs[k], 64, src, "64:ff9b::1", l4, 40)),
				     q6(src, 3), "%s next header %u", src, nhs[k]);
		}
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
			size_t len = icmp6(p, src, "64:ff9b::1", (uint8_t)types[k],
					   (uint32_t)(2 * i) << 16, l4, 40);

			cr_assert_eq(run(fd, p, len), q6(src, 3), "%s ICMPv6 type %d", src,
				     types[k]);
		}
	}
	close(fd);
}

/*
 * ICMPv6 errors (types below 128) quote a packet the translator sent to a
 * subscriber: its DESTINATION port (or echo identifier) is the
 * subscriber's, and picks the queue; other quoted packets go by their
 * destination address.
 */
Test(steer, icmpv6_errors_land_by_quoted_destination_port)
{
	const char *src = "2001:db8:ffff::9", *sub = "2001:db8:1::5";
	uint8_t p[256], in[128];
	size_t len, ilen;
	int fd = load_or_skip(3);

	for (uint16_t dport = 1000; dport < 1012; dport++) {
		/* Source port 1007 (queue 0) and the addresses must not count. */
		for (int type = 0; type < 128; type += type < 5 ? 1 : 61) {
			ilen = udp6(in, 17, 63, "64:ff9b::c000:201", 1007, sub, dport);
			len = icmp6(p, src, "64:ff9b::c000:201", (uint8_t)type, 1280, in, ilen);
			cr_assert_eq(run(fd, p, len), own(dport, 3), "type %d UDP dport %u", type,
				     dport);
			ilen = udp6(in, 6, 63, "64:ff9b::c000:201", 1007, sub, dport);
			len = icmp6(p, src, "64:ff9b::c000:201", (uint8_t)type, 0, in, ilen);
			cr_assert_eq(run(fd, p, len), own(dport, 3), "type %d TCP dport %u", type,
				     dport);
		}
		/* A quoted echo request or reply: its identifier. */
		for (int et = 128; et <= 129; et++) {
			ilen = icmp6(in, "64:ff9b::c000:201", sub, (uint8_t)et,
				     (uint32_t)dport << 16 | 1007, NULL, 0);
			len = icmp6(p, src, "64:ff9b::c000:201", 3, 0, in, ilen);
			cr_assert_eq(run(fd, p, len), own(dport, 3), "quoted echo %d id %u", et,
				     dport);
		}
	}
	/* Quoted port or identifier cut short: 0. */
	ilen = udp6(in, 17, 63, "64:ff9b::c000:201", 1007, sub, 1005);
	len = icmp6(p, src, "64:ff9b::c000:201", 1, 0, in, ilen);
	cr_assert_eq(run(fd, p, len), 1, "sanity");
	for (size_t cut = 0; cut < 44; cut++) {
		len = icmp6(p, src, "64:ff9b::c000:201", 1, 0, in, cut);
		cr_assert_eq(run(fd, p, len), 0, "inner cut at %zu", cut);
	}
	/* (Quoted ICMPv6 without its type: the next test.) */
	ilen = icmp6(in, "64:ff9b::c000:201", sub, 128, 0x0fa50001, NULL, 0);
	for (size_t cut = 41; cut < 46; cut++) {
		len = icmp6(p, src, "64:ff9b::c000:201", 1, 0, in, cut);
		cr_assert_eq(run(fd, p, len), 0, "quoted echo cut at %zu", cut);
	}
	close(fd);
}

/* A quoted packet without ports at its offset 40 (other ICMPv6, extension
 * headers, fragments): hash(quoted destination address), not the outer
 * source; cut before that address ends: 0. */
Test(steer, icmpv6_errors_quoting_other_packets_land_by_quoted_destination)
{
	static const uint8_t nhs[] = {0, 44, 58, 59, 60};
	uint8_t p[256], in[128], l4[16] = {1, 0, 0, 0, 0x03, 0xe8, 0x03, 0xe9};
	bool used[3] = {false};
	size_t len, ilen;
	int fd = load_or_skip(3);

	for (unsigned int i = 0; i < 12; i++) {
		char qd[64];

		snprintf(qd, sizeof(qd), "2001:db8:1::%x", 0x200 + i);
		for (size_t k = 0; k < sizeof(nhs); k++) {
			ilen = ip6(in, nhs[k], 63, "64:ff9b::c000:201", qd, l4, 16);
			len = icmp6(p, "2001:db8:ffff::9", "64:ff9b::c000:201", 3, 0, in, ilen);
			cr_assert_eq(run(fd, p, len), q6(qd, 3), "%s next header %u", qd, nhs[k]);
			/* Quoted ICMPv6 whose type is cut off: the same. */
			if (nhs[k] == 58)
				cr_assert_eq(run(fd, p, 48 + 40), q6(qd, 3));
			cr_assert_eq(run(fd, p, 48 + 39), 0, "%s quote cut", qd);
		}
		used[q6(qd, 3)] = true;
	}
	cr_assert(used[0] && used[1] && used[2]);
	close(fd);
}

/* The address hash (extension headers, fragments) spreads subscribers that
 * differ only in their /64 (a few low bits of word 1), or only in the low
 * bits of the interface identifier; source ports spread exactly. */
Test(steer, ipv6_sources_and_source_ports_spread_over_queues)
{
	static const char *const kind[] = {"2001:db8:0:N::1", "2001:db8::N", "2001:db8:N::1"};
	uint8_t p[128], l4[8] = {17};
	unsigned int ports[4] = {0};
	int fd = load_or_skip(4);

	for (size_t f = 0; f < 3; f++) {
		unsigned int count[4] = {0};

		for (unsigned int i = 0; i < 256; i++) {
			char src[64];

			if (f == 0)
				snprintf(src, sizeof(src), "2001:db8:0:%x::1", i);
			else if (f == 1)
				snprintf(src, sizeof(src), "2001:db8::%x", i);
			else
				snprintf(src, sizeof(src), "2001:db8:%x::1", i);
			count[run(fd, p, ip6(p, 44, 64, src, "64:ff9b::1", l4, 8))]++;
			/* The same source port from every source: one queue. */
			cr_assert_eq(run(fd, p, udp6(p, 17, 64, src, 40001, "64:ff9b::1", 80)),
				     own(40001, 4));
		}
		for (int q = 0; q < 4; q++)
			cr_assert(count[q] >= 40 && count[q] <= 88, "%s: queue %d got %u of 256",
				  kind[f], q, count[q]);
	}
	for (unsigned int port = 49152; port < 49152 + 256; port++)
		ports[run(fd, p,
			  udp6(p, 17, 64, "2001:db8::1", (uint16_t)port, "64:ff9b::1", 80))]++;
	for (int q = 0; q < 4; q++)
		cr_assert_eq(ports[q], 64, "queue %d got %u of 256 source ports", q, ports[q]);
	close(fd);
}

/* ---- tun_open_queues() (io/tun.c) ---- */

static void
sys_attr(const char *ifname, const char *attr, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	cr_assert(iotest_read_file(path, buf, size), "cannot read %s", path);
}

Test(tun_queues, open_sets_multi_queue_flags_mtu_up_and_nonblocking)
{
	char name[IFNAMSIZ] = "", val[64];
	int fds[3];

	iotest_netns();
	cr_assert_eq(tun_open_queues("nat64q%d", 1280, IFF_VNET_HDR, 3, fds, name), 0);
	cr_assert_str_eq(name, "nat64q0");
	/* IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE */
	sys_attr(name, "tun_flags", val, sizeof(val));
	cr_assert_str_eq(val, "0x5101");
	sys_attr(name, "mtu", val, sizeof(val));
	cr_assert_str_eq(val, "1280");
	sys_attr(name, "flags", val, sizeof(val));
	cr_assert(strtoul(val, NULL, 16) & IFF_UP, "flags %s", val);
	cr_assert_eq(
		iotest_capture(val, sizeof(val), "ls /sys/class/net/%s/queues | grep -c tx-", name),
		0);
	cr_assert_eq(atoi(val), 3, "%s", val);
	for (int i = 0; i < 3; i++) {
		cr_assert(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		cr_assert(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
	}
	for (int i = 0; i < 3; i++)
		tun_close(fds[i]);
	cr_assert_eq(access("/sys/class/net/nat64q0", F_OK), -1);
}

/* ---- a real multi-queue TUN device ---- */

enum { MAXQ = 4 };

struct dev {
	int fds[MAXQ];
	unsigned int n;
	size_t hdr; /* bytes before the IP header in a read: the vnet header */
};

/* TUN with n queues (and `flags`) and the program attached; 192.0.2.1/24
 * and 2001:db8:1::1/64 on it, 2001:db8:99::/64 routed to it. */
static struct dev
dev_up_flags(unsigned int n, int flags)
{
	struct dev d = {.n = n, .hdr = flags & IFF_VNET_HDR ? TUN_VNET_HDR_LEN : 0};
	char err[512];
	int e;

	iotest_netns();
	e = tun_open_queues(TUN, 1400, flags, n, d.fds, NULL);
	cr_assert_eq(e, 0, "tun_open_queues: %s", strerror(-e));
	e = steer_attach(d.fds[n - 1], n, err, sizeof(err));
	cr_assert_eq(e, 0, "steer_attach: %s", err);
	cr_assert_eq(iotest_sh("ip addr add 192.0.2.1/24 dev " TUN), 0);
	cr_assert_eq(iotest_sh("ip -6 addr add 2001:db8:1::1/64 dev " TUN " nodad"), 0);
	cr_assert_eq(iotest_sh("ip -6 route add 2001:db8:99::/64 dev " TUN), 0);
	return d;
}

static struct dev
dev_up(unsigned int n)
{
	return dev_up_flags(n, 0);
}

static void
dev_down(struct dev *d)
{
	steer_detach(d->fds[0]);
	for (unsigned int i = 0; i < d->n; i++)
		tun_close(d->fds[i]);
}

/* What to look for: IP version, transport protocol, optionally the first
 * byte of the transport header (ICMP type), and `len` bytes at `off` from
 * the transport header. */
struct want {
	int version;
	uint8_t proto;
	int type;
	size_t off;
	uint8_t val[16];
	size_t len;
};

static bool
matches(const uint8_t *p, size_t n, const struct want *w)
{
	size_t l4;

	if (n < 1 || p[0] >> 4 != w->version)
		return false;
	if (w->version == 4) {
		if (n < 20 || p[9] != w->proto)
			return false;
		l4 = (size_t)(p[0] & 0x0f) * 4;
	} else {
		if (n < 40 || p[6] != w->proto)
			return false;
		l4 = 40;
	}
	if (n < l4 + w->off + w->len || (w->type >= 0 && (n <= l4 || p[l4] != w->type)))
		return false;
	return memcmp(p + l4 + w->off, w->val, w->len) == 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads every queue until a packet matches `w`; returns its queue (-1:
 * none within 2 s) and the packet in `buf`. Other packets are dropped. */
static int
queue_of(const struct dev *d, const struct want *w, uint8_t *buf, size_t size)
{
	int64_t deadline = now_ms() + 2000;
	struct pollfd pfd[MAXQ];

	for (unsigned int i = 0; i < d->n; i++)
		pfd[i] = (struct pollfd){.fd = d->fds[i], .events = POLLIN};
	while (now_ms() < deadline) {
		if (poll(pfd, d->n, (int)(deadline - now_ms())) <= 0)
			continue;
		for (unsigned int i = 0; i < d->n; i++) {
			ssize_t r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			r = read(d->fds[i], buf, size);
			if (r <= (ssize_t)d->hdr || !matches(buf + d->hdr, (size_t)r - d->hdr, w))
				continue;
			memmove(buf, buf + d->hdr, (size_t)r - d->hdr);
			return (int)i;
		}
	}
	return -1;
}

static struct want
want_port(int version, uint8_t proto, size_t off, uint16_t v)
{
	struct want w = {.version = version, .proto = proto, .type = -1, .off = off, .len = 2};

	put16(w.val, v);
	return w;
}

static void
send4(int s, const char *dst, uint16_t port, const void *data, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};

	cr_assert_eq(inet_pton(AF_INET, dst, &to.sin_addr), 1);
	cr_assert_eq(sendto(s, data, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len,
		     "sendto: %s", strerror(errno));
}

static const uint16_t ports[] = {1000,  1001,  1002,  1003,  1004, 1005, 1006, 1007,
				 40000, 40001, 61001, 65535, 2,    3,    4};

static void
udp_tcp_by_dport(unsigned int n, int flags)
{
	struct dev d = dev_up_flags(n, flags);
	uint8_t buf[2048];
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(u, 0);
	if (flags & IFF_VNET_HDR)
		cr_assert_geq(tun_set_offload(d.fds[0], TUN_OFFLOAD_ALL), 0);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		struct want w = want_port(4, 17, 2, ports[i]);
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(ports[i])};
		int t;

		send4(u, "192.0.2.2", ports[i], "x", 1);
		cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)((ports[i] >> 1) % n),
			     "UDP to %u, %u queues", ports[i], n);
		t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		cr_assert_geq(t, 0);
		cr_assert_eq(inet_pton(AF_INET, "192.0.2.2", &to.sin_addr), 1);
		cr_assert_eq(connect(t, (struct sockaddr *)&to, sizeof(to)), -1);
		w.proto = 6;
		cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)((ports[i] >> 1) % n),
			     "TCP SYN to %u, %u queues", ports[i], n);
		close(t);
	}
	close(u);
	dev_down(&d);
}

Test(steer, kernel_udp_and_tcp_land_by_destination_port_2_queues)
{
	udp_tcp_by_dport(2, 0);
}

Test(steer, kernel_udp_and_tcp_land_by_destination_port_3_queues)
{
	udp_tcp_by_dport(3, 0);
}

/* With IFF_VNET_HDR the virtio-net header is only put in front at read
 * time: the program still sees the IP header at offset 0. */
Test(steer, kernel_vnet_hdr_device_lands_by_destination_port)
{
	udp_tcp_by_dport(3, IFF_VNET_HDR);
}

/* Echo requests the host sends (raw socket, our identifier) and echo
 * replies it gives to requests written into the device: by identifier. */
Test(steer, kernel_icmp_echo_lands_by_identifier)
{
	static const uint16_t ids[] = {0x1000, 0x1002, 0x1004, 0x1005, 7, 65535};
	struct dev d = dev_up(3);
	uint8_t buf[2048], pkt[64], ic[8];
	int r = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);

	cr_assert_geq(r, 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct want w = want_port(4, 1, 4, ids[i]);
		size_t len;

		ic[0] = 8, ic[1] = 0;
		put16(ic + 2, 0);
		put16(ic + 4, ids[i]);
		put16(ic + 6, 1);
		put16(ic + 2, csum(ic, 8));
		send4(r, "192.0.2.2", 0, ic, 8);
		w.type = 8;
		cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)((ids[i] >> 1) % 3),
			     "echo request id %u", ids[i]);
		len = icmp4(pkt, "192.0.2.2", "192.0.2.1", 8, (uint32_t)ids[i] << 16 | 2, NULL, 0);
		cr_assert_eq(write(d.fds[0], pkt, len), (ssize_t)len);
		w.type = 0;
		cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)((ids[i] >> 1) % 3),
			     "echo reply id %u", ids[i]);
	}
	close(r);
	dev_down(&d);
}

/* UDP to a closed port of the host: its port unreachable quotes the
 * datagram, whose SOURCE port picks the queue (not the error's addresses). */
Test(steer, kernel_icmp_error_lands_by_quoted_source_port)
{
	static const uint16_t sports[] = {1000, 1002, 1004, 1007, 50001, 9};
	struct dev d = dev_up(3);
	uint8_t buf[2048], pkt[64];

	for (size_t i = 0; i < sizeof(sports) / sizeof(sports[0]); i++) {
		struct want w = want_port(4, 1, 8 + 20, sports[i]);
		char src[32];
		size_t len;

		/* One source each: the kernel rate-limits ICMP errors per peer. */
		snprintf(src, sizeof(src), "192.0.2.%zu", 10 + i);
		len = udp4(pkt, 5, src, sports[i], "192.0.2.1", 9);
		cr_assert_eq(write(d.fds[i % 3], pkt, len), (ssize_t)len);
		w.type = 3;
		cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)((sports[i] >> 1) % 3),
			     "port unreachable quoting source port %u", sports[i]);
	}
	dev_down(&d);
}

/* Datagrams larger than the MTU, fragmented by the host: all fragments of
 * one datagram on the queue of hash(src, dst, protocol, ID). */
Test(steer, kernel_ipv4_fragments_of_a_datagram_stay_together)
{
	enum { DGRAMS = 8, FRAGS = 3 };
	static uint8_t data[3000];
	struct dev d = dev_up(3);
	uint16_t ids[DGRAMS];
	int queue[DGRAMS], seen[DGRAMS] = {0}, got = 0, off = IP_PMTUDISC_DONT;
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct want w = {.version = 4, .proto = 17, .type = -1};
	uint8_t buf[2048];

	cr_assert_geq(u, 0);
	cr_assert_eq(setsockopt(u, IPPROTO_IP, IP_MTU_DISCOVER, &off, sizeof(off)), 0);
	for (int i = 0; i < DGRAMS; i++)
		send4(u, "192.0.2.2", (uint16_t)(5000 + i), data, sizeof(data));
	while (got < DGRAMS * FRAGS) {
		int q = queue_of(&d, &w, buf, sizeof(buf)), k;
		uint16_t id = get16(buf + 4);

		cr_assert_geq(q, 0, "only %d fragments arrived", got);
		cr_assert(get16(buf + 6) & 0x3fff, "not a fragment");
		for (k = 0; k < DGRAMS && seen[k] && ids[k] != id; k++)
			;
		cr_assert_lt(k, DGRAMS, "more datagrams than sent");
		if (!seen[k]) {
			ids[k] = id;
			queue[k] = q;
			cr_assert_eq((uint32_t)q,
				     steer_frag4(get32(buf + 12), get32(buf + 16), 17, id, 3),
				     "datagram id %u", id);
		}
		cr_assert_eq(q, queue[k], "fragment of datagram %u on queue %d, not %d", id, q,
			     queue[k]);
		seen[k]++;
		got++;
	}
	for (int k = 0; k < DGRAMS; k++)
		cr_assert_eq(seen[k], FRAGS, "datagram %d: %d fragments", k, seen[k]);
	close(u);
	dev_down(&d);
}

/* Fills in the TCP/UDP/ICMPv6 checksum (at `coff` in the transport header)
 * of the IPv6 packet p, no extension headers (RFC 8200 §8.1). */
static void
csum6(uint8_t *p, size_t coff)
{
	uint8_t ph[2048] = {0};
	size_t l = get16(p + 4);

	cr_assert_leq(l, sizeof(ph) - 40);
	memcpy(ph, p + 8, 32);
	put16(ph + 34, (uint16_t)l);
	ph[39] = p[6];
	put16(p + 40 + coff, 0);
	memcpy(ph + 40, p + 40, l);
	put16(p + 40 + coff, csum(ph, 40 + l));
}

/* An IPv6 socket of `type` bound to src:port. */
static int
bound6(int type, const char *src, uint16_t port)
{
	struct sockaddr_in6 me = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	int s = socket(AF_INET6, type | SOCK_CLOEXEC, 0);

	cr_assert_geq(s, 0);
	cr_assert_eq(inet_pton(AF_INET6, src, &me.sin6_addr), 1);
	cr_assert_eq(bind(s, (struct sockaddr *)&me, sizeof(me)), 0, "bind %s %u: %s", src, port,
		     strerror(errno));
	return s;
}

static struct sockaddr_in6
to6(const char *dst, uint16_t port)
{
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	cr_assert_eq(inet_pton(AF_INET6, dst, &to.sin6_addr), 1);
	return to;
}

static const char *const srcs6[] = {"2001:db8:1::100", "2001:db8:1::101", "2001:db8:1::102",
				    "2001:db8:1::10a"};

/* Local sources with several source ports each: UDP datagrams and TCP SYNs
 * land on owner(SOURCE port) % n, whatever the address or the destination
 * port, and together they use every queue. */
static void
ipv6_source_ports(unsigned int n)
{
	static const uint16_t sports[] = {7000, 7001, 7002, 7005, 7006, 7009, 40001, 65535};
	struct dev d = dev_up(n);
	bool used[MAXQ] = {false};
	uint8_t buf[2048];

	for (size_t a = 0; a < sizeof(srcs6) / sizeof(srcs6[0]); a++) {
		cr_assert_eq(iotest_sh("ip -6 addr add %s/128 dev " TUN " nodad", srcs6[a]), 0);
		for (size_t i = 0; i < sizeof(sports) / sizeof(sports[0]); i++) {
			uint16_t dport = (uint16_t)(9000 + a + 3 * i);
			struct sockaddr_in6 to = to6("2001:db8:99::5", dport);
			struct want w = want_port(6, 17, 0, sports[i]);
			int s = bound6(SOCK_DGRAM, srcs6[a], sports[i]), q;

			cr_assert_eq(sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
			q = queue_of(&d, &w, buf, sizeof(buf));
			cr_assert_eq(q, (int)own(sports[i], n), "UDP from %s %u to %u, %u queues",
				     srcs6[a], sports[i], dport, n);
			used[q] = true;
			close(s);
			s = bound6(SOCK_STREAM | SOCK_NONBLOCK, srcs6[a], sports[i]);
			cr_assert_eq(connect(s, (struct sockaddr *)&to, sizeof(to)), -1);
			w.proto = 6;
			cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)own(sports[i], n),
				     "TCP SYN from %s %u to %u, %u queues", srcs6[a], sports[i],
				     dport, n);
			close(s);
		}
	}
	for (unsigned int q = 0; q < n; q++)
		cr_assert(used[q], "nothing landed on queue %u of %u", q, n);
	dev_down(&d);
}

Test(steer, kernel_ipv6_lands_by_source_port_2_queues)
{
	ipv6_source_ports(2);
}

Test(steer, kernel_ipv6_lands_by_source_port_3_queues)
{
	ipv6_source_ports(3);
}

/* Echo requests the host sends (raw ICMPv6 socket, our identifier) and
 * echo replies it gives to requests written into the device: by
 * identifier. */
Test(steer, kernel_icmpv6_echo_lands_by_identifier)
{
	static const uint16_t ids[] = {0x1000, 0x1002, 0x1004, 0x1005, 7, 65535};
	struct dev d = dev_up(3);
	struct sockaddr_in6 to = to6("2001:db8:99::5", 0);
	uint8_t buf[2048], pkt[64], ic[8] = {128};
	int r = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);

	cr_assert_geq(r, 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct want w = want_port(6, 58, 4, ids[i]);
		size_t len;

		/* The kernel computes the checksum of raw ICMPv6 (RFC 3542 §3.1). */
		put16(ic + 4, ids[i]);
		put16(ic + 6, (uint16_t)i);
		cr_assert_eq(sendto(r, ic, 8, 0, (struct sockaddr *)&to, sizeof(to)), 8);
		w.type = 128;
		cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)own(ids[i], 3),
			     "echo request id %u", ids[i]);
		len = icmp6(pkt, "2001:db8:99::7", "2001:db8:1::1", 128, (uint32_t)ids[i] << 16 | 2,
			    NULL, 0);
		csum6(pkt, 2);
		cr_assert_eq(write(d.fds[i % 3], pkt, len), (ssize_t)len);
		w.type = 129;
		cr_assert_eq(queue_of(&d, &w, buf, sizeof(buf)), (int)own(ids[i], 3),
			     "echo reply id %u", ids[i]);
	}
	close(r);
	dev_down(&d);
}

/* Writes `pkt` into the device and returns the queue of the ICMPv6 error
 * of `type` that quotes it (matched on the quoted destination address). */
static int
error_queue(const struct dev *d, const uint8_t *pkt, size_t len, int type)
{
	struct want w = {.version = 6, .proto = 58, .type = type, .off = 8 + 24, .len = 16};
	uint8_t buf[2048];

	memcpy(w.val, pkt + 24, 16);
	cr_assert_eq(write(d->fds[0], pkt, len), (ssize_t)len);
	return queue_of(d, &w, buf, sizeof(buf));
}

/*
 * Packets written into the device with hop limit 1, to be forwarded: the
 * host answers Time Exceeded (RFC 4443 §3.3) from its own address. The
 * queue is that of the quoted DESTINATION port, of the quoted echo
 * identifier, or for other quoted packets hash(quoted destination).
 */
Test(steer, kernel_icmpv6_error_lands_by_quoted_destination_port)
{
	struct dev d = dev_up(3);
	bool used[3] = {false};
	uint8_t pkt[128];

	cr_assert_eq(sysctl_write_int("net.ipv6.conf.all.forwarding", 1), 0);
	cr_assert_eq(sysctl_write_int("net.ipv6.icmp.ratelimit", 0), 0);
	cr_assert_eq(iotest_sh("ip -6 route add 2001:db8:77::/64 dev " TUN), 0);
	for (unsigned int i = 0; i < 9; i++) {
		/* Source port 4242 (queue 0 of 3) must not count. */
		uint16_t dport = (uint16_t)(5000 + 2 * i);
		char src[64], dst[64];
		size_t len;
		int q;

		snprintf(src, sizeof(src), "2001:db8:99::%x", 0x10 + i);
		snprintf(dst, sizeof(dst), "2001:db8:77::%x", 1 + i);
		len = udp6(pkt, 17, 1, src, 4242, dst, dport);
		q = error_queue(&d, pkt, len, 3);
		cr_assert_eq(q, (int)own(dport, 3), "Time Exceeded quoting UDP to %s %u", dst,
			     dport);
		used[q] = true;
		len = icmp6(pkt, src, dst, 128, (uint32_t)(dport + 1) << 16 | 1, NULL, 0);
		pkt[7] = 1;
		cr_assert_eq(error_queue(&d, pkt, len, 3), (int)own((uint16_t)(dport + 1), 3),
			     "Time Exceeded quoting echo id %u", dport + 1);
		len = ip6(pkt, 59, 1, src, dst, pkt + 100, 0);
		cr_assert_eq(error_queue(&d, pkt, len, 3), (int)q6(dst, 3),
			     "Time Exceeded quoting no next header to %s", dst);
	}
	/* All errors share their source (ours): by it, one queue would take all. */
	cr_assert(used[0] && used[1] && used[2]);
	dev_down(&d);
}

/* UDP to a closed port of the host: its port unreachable (RFC 4443 §3.1)
 * quotes the datagram, whose DESTINATION port picks the queue. */
Test(steer, kernel_icmpv6_port_unreachable_lands_by_quoted_destination_port)
{
	static const uint16_t dports[] = {1000, 1002, 1004, 1007, 50001, 9};
	struct dev d = dev_up(3);
	uint8_t pkt[128];

	cr_assert_eq(sysctl_write_int("net.ipv6.icmp.ratelimit", 0), 0);
	for (size_t i = 0; i < sizeof(dports) / sizeof(dports[0]); i++) {
		char src[64];
		size_t len;

		snprintf(src, sizeof(src), "2001:db8:99::%zx", 0x20 + i);
		len = udp6(pkt, 17, 64, src, 4242, "2001:db8:1::1", dports[i]);
		csum6(pkt, 6);
		cr_assert_eq(error_queue(&d, pkt, len, 1), (int)own(dports[i], 3),
			     "port unreachable quoting destination port %u", dports[i]);
	}
	dev_down(&d);
}

/* Datagrams larger than the MTU, fragmented by the host (RFC 8200 §4.5):
 * every fragment, the first one with its ports too, on hash(source). The
 * source ports are chosen so that their owner is another queue. */
Test(steer, kernel_ipv6_fragments_land_by_source_address)
{
	enum { FRAGS = 3 };
	static uint8_t data[3000];
	size_t nsrc = sizeof(srcs6) / sizeof(srcs6[0]);
	struct dev d = dev_up(3);
	struct want w = {.version = 6, .proto = 44, .type = -1};
	struct sockaddr_in6 to = to6("2001:db8:99::5", 7000);
	int seen[4] = {0}, got = 0;
	uint8_t buf[2048];

	for (size_t a = 0; a < nsrc; a++) {
		uint16_t sport = 6000;
		int s;

		while (own(sport, 3) == q6(srcs6[a], 3))
			sport++;
		cr_assert_eq(iotest_sh("ip -6 addr add %s/128 dev " TUN " nodad", srcs6[a]), 0);
		s = bound6(SOCK_DGRAM, srcs6[a], sport);
		cr_assert_eq(sendto(s, data, sizeof(data), 0, (struct sockaddr *)&to, sizeof(to)),
			     (ssize_t)sizeof(data));
		close(s);
	}
	while (got < (int)nsrc * FRAGS) {
		int q = queue_of(&d, &w, buf, sizeof(buf));
		size_t a;

		cr_assert_geq(q, 0, "only %d fragments arrived", got);
		for (a = 0; a < nsrc; a++) {
			uint8_t s6[16];

			cr_assert_eq(inet_pton(AF_INET6, srcs6[a], s6), 1);
			if (memcmp(buf + 8, s6, 16) == 0)
				break;
		}
		cr_assert_lt(a, nsrc, "fragment from an unknown source");
		cr_assert_eq(q, (int)q6(srcs6[a], 3), "fragment from %s (offset %u)", srcs6[a],
			     get16(buf + 42) & 0xfff8);
		seen[a]++;
		got++;
	}
	for (size_t a = 0; a < nsrc; a++)
		cr_assert_eq(seen[a], FRAGS, "%s: %d fragments", srcs6[a], seen[a]);
	dev_down(&d);
}

/* Steering belongs to the device: after detach, the kernel's own flow
 * hashing sends one flow to one queue, not to the owner of each port. */
Test(steer, detach_returns_to_kernel_hashing)
{
	struct dev d = dev_up(2);
	uint8_t buf[2048];
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool differs = false;

	cr_assert_geq(u, 0);
	steer_detach(d.fds[1]);
	for (uint16_t port = 3000; port < 3016; port++) {
		struct want w = want_port(4, 17, 2, port);
		int q;

		send4(u, "192.0.2.2", port, "x", 1);
		q = queue_of(&d, &w, buf, sizeof(buf));
		cr_assert_geq(q, 0);
		differs |= q != (int)((port >> 1) % 2);
	}
	cr_assert(differs, "every packet still on its port owner's queue");
	close(u);
	dev_down(&d);
}
