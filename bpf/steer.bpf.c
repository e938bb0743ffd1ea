// SPDX-License-Identifier: GPL-2.0
/*
 * TUN steering program (TUNSETSTEERINGEBPF, BPF_PROG_TYPE_SOCKET_FILTER):
 * for each packet the kernel is about to queue on the multi-queue TUN
 * device, returns the index of the queue (= worker) that must read it; the
 * kernel takes the value modulo the number of queues. docs/steering.md has
 * the rules and the reasons; in short:
 *   IPv4 TCP/UDP       owner(destination port)   (the pool4 port)
 *   IPv4 ICMP echo     owner(identifier)
 *   IPv4 ICMP error    owner(quoted source port / identifier)
 *   IPv4 fragment      hash(src, dst, protocol, identification)
 *   IPv6 TCP/UDP       owner(source port)  (the worker that can keep it)
 *   ICMPv6 echo        owner(identifier)
 *   ICMPv6 error       owner(quoted destination port / identifier)
 *   other IPv6         hash(source)  (fragments, extension headers)
 *   anything else      queue 0
 *
 * The skb data starts at the IP header (a TUN device has no link header,
 * and the virtio-net header of IFF_VNET_HDR is only added when user space
 * reads). Every access goes through bpf_skb_load_bytes(), which fails
 * cleanly past the end of the packet: a truncated header means queue 0.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "steer_hash.h"

/* Number of queues, written by the loader (io/steer.c) before loading. */
const volatile __u32 nqueues = 1;

enum {
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ICMPV6 = 58,
	ICMP_ECHOREPLY = 0,
	ICMP_UNREACH = 3,
	ICMP_ECHO = 8,
	ICMP_TIMXCEED = 11,
	ICMP_PARAMPROB = 12,
	IP4_MF_OFFSET = 0x3fff, /* RFC 791: MF flag and fragment offset */
	IP4_OFFSET = 0x1fff,
	IP6_HDR_LEN = 40,
	ICMP6_INNER = 40 + 8,               /* RFC 4443 §2.1: quoted packet after 8 bytes */
	ICMP6_INNER_DST = ICMP6_INNER + 24, /* its destination address */
	ICMP6_INNER_L4 = ICMP6_INNER + 40,  /* its transport header */
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
};

static __always_inline __u16
be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __always_inline __u32
be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* owner() of the 16-bit field at `off`, queue 0 when the packet is shorter. */
static __always_inline __u32
owner_at(struct __sk_buff *skb, __u32 off)
{
	__u8 b[2];

	if (bpf_skb_load_bytes(skb, off, b, sizeof(b)) != 0)
		return 0;
	return steer_owner(be16(b), nqueues);
}

/*
 * RFC 792: an ICMP error quotes the IP header of the packet that caused it
 * plus 64 bits of its payload. That packet went out of the translator, so
 * its SOURCE is the pool4 transport address whose owner must see the error.
 */
static __always_inline __u32
icmp4_error(struct __sk_buff *skb, __u32 off)
{
	__u8 ip[20], icmp[1];
	__u32 ihl;

	if (bpf_skb_load_bytes(skb, off, ip, sizeof(ip)) != 0 || ip[0] >> 4 != 4)
		return 0;
	ihl = (ip[0] & 0x0f) * 4u;
	/* A non-first fragment quotes no ports. */
	if (ihl < 20 || (be16(ip + 6) & IP4_OFFSET) != 0)
		return 0;
	off += ihl;
	if (ip[9] == PROTO_TCP || ip[9] == PROTO_UDP)
		return owner_at(skb, off);
	if (ip[9] != PROTO_ICMP || bpf_skb_load_bytes(skb, off, icmp, 1) != 0)
		return 0;
	if (icmp[0] == ICMP_ECHO || icmp[0] == ICMP_ECHOREPLY)
		return owner_at(skb, off + 4);
	return 0;
}

static __always_inline __u32
icmp4(struct __sk_buff *skb, __u32 off)
{
	__u8 type[1];

	if (bpf_skb_load_bytes(skb, off, type, 1) != 0)
		return 0;
	switch (type[0]) {
	case ICMP_ECHO:
	case ICMP_ECHOREPLY:
		return owner_at(skb, off + 4);
	case ICMP_UNREACH:
	case ICMP_TIMXCEED:
	case ICMP_PARAMPROB:
		return icmp4_error(skb, off + 8);
	default:
		return 0;
	}
}

static __always_inline __u32
ipv4(struct __sk_buff *skb)
{
	__u8 ip[20];
	__u32 ihl;

	if (bpf_skb_load_bytes(skb, 0, ip, sizeof(ip)) != 0)
		return 0;
	ihl = (ip[0] & 0x0f) * 4u;
	if (ihl < 20)
		return 0;
	/* Only the first fragment has ports: all of them go by the datagram. */
	if ((be16(ip + 6) & IP4_MF_OFFSET) != 0)
		return steer_frag4(be32(ip + 12), be32(ip + 16), ip[9], be16(ip + 4), nqueues);
	switch (ip[9]) {
	case PROTO_TCP:
	case PROTO_UDP:
		return owner_at(skb, ihl + 2);
	case PROTO_ICMP:
		return icmp4(skb, ihl);
	default:
		return 0;
	}
}

/*
 * A new mapping is made by the worker that owns the IPv6 source port
 * (core/port_share.h), so that it can keep the port (RFC 4787 §4.2 port
 * preservation) and the IPv4 replies, steered by that port, reach it
 * without a handoff. An ICMPv6 error (RFC 4443 §2.1: types below 128)
 * quotes a packet the translator sent TO the subscriber: its destination
 * port is the subscriber's. Fragments and packets with extension headers
 * go by source address; the worker that reassembles hands the datagram to
 * the owner.
 */
static __always_inline __u32
icmp6_error(struct __sk_buff *skb)
{
	__u8 nh[1], type[1], inner[16];

	if (bpf_skb_load_bytes(skb, ICMP6_INNER + 6, nh, 1) != 0)
		return 0;
	if (nh[0] == PROTO_TCP || nh[0] == PROTO_UDP)
		return owner_at(skb, ICMP6_INNER_L4 + 2);
	if (nh[0] == PROTO_ICMPV6 && bpf_skb_load_bytes(skb, ICMP6_INNER_L4, type, 1) == 0 &&
	    (type[0] == ICMP6_ECHO_REQUEST || type[0] == ICMP6_ECHO_REPLY))
		return owner_at(skb, ICMP6_INNER_L4 + 4);
	if (bpf_skb_load_bytes(skb, ICMP6_INNER_DST, inner, 16) != 0)
		return 0;
	return steer_addr6(inner, nqueues);
}

static __always_inline __u32
ipv6(struct __sk_buff *skb)
{
	__u8 ip[IP6_HDR_LEN], type[1];

	if (bpf_skb_load_bytes(skb, 0, ip, sizeof(ip)) != 0)
		return 0;
	switch (ip[6]) {
	case PROTO_TCP:
	case PROTO_UDP:
		return owner_at(skb, IP6_HDR_LEN);
	case PROTO_ICMPV6:
		if (bpf_skb_load_bytes(skb, IP6_HDR_LEN, type, 1) != 0)
			return 0;
		if (type[0] == ICMP6_ECHO_REQUEST || type[0] == ICMP6_ECHO_REPLY)
			return owner_at(skb, IP6_HDR_LEN + 4);
		if (type[0] < 128)
			return icmp6_error(skb);
		break;
	}
	return steer_addr6(ip + 8, nqueues);
}

SEC("socket")
int
steer(struct __sk_buff *skb)
{
	__u8 v[1];

	if (bpf_skb_load_bytes(skb, 0, v, 1) != 0)
		return 0;
	switch (v[0] >> 4) {
	case 4:
		return (int)ipv4(skb);
	case 6:
		return (int)ipv6(skb);
	default:
		return 0;
	}
}

char LICENSE[] SEC("license") = "GPL";
