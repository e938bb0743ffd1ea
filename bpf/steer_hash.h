/*
 * The queue-selection arithmetic of the TUN steering program (steer.bpf.c),
 * shared with user space so that tests and workers can predict which queue
 * a packet lands on. Pure functions of host-order values; no includes but
 * <linux/types.h>, so the same text compiles for the BPF target and for the
 * daemon.
 *
 * owner(port) = (port >> 1) % n is fixed: the translator allocates pool4
 * ports with the same formula (core/port_share.h), so a worker owns both
 * parities of a port pair (RFC 6146 §3.5.1.1 keeps parity when choosing).
 */
#ifndef NAT64_BPF_STEER_HASH_H
#define NAT64_BPF_STEER_HASH_H

#include <linux/types.h>

/* MurmurHash3's 32-bit finalizer: a bijection in which every input bit
 * changes about half of the output bits. */
static inline __u32
steer_fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

/*
 * Hash of four 32-bit words (host order, e.g. an IPv6 address read as four
 * big-endian words). Each word goes through a full avalanche round before
 * the next one is mixed in, so addresses that differ only in the subscriber
 * bits of a /64 (word 1) or only in the interface identifier (words 2-3)
 * spread alike.
 */
static inline __u32
steer_hash4(__u32 a, __u32 b, __u32 c, __u32 d)
{
	__u32 h = 0x6e617436U; /* "nat6" */

	h = steer_fmix32(h ^ a);
	h = steer_fmix32(h ^ b);
	h = steer_fmix32(h ^ c);
	h = steer_fmix32(h ^ d);
	return h;
}

/* Queue of a pool4 port or ICMP identifier among n queues. */
static inline __u32
steer_owner(__u16 port, __u32 n)
{
	return ((__u32)port >> 1) % n;
}

/* Queue of an IPv6 address (16 bytes, network order) among n queues. */
static inline __u32
steer_addr6(const __u8 a[16], __u32 n)
{
	__u32 w[4];

	for (int i = 0; i < 4; i++)
		w[i] = (__u32)a[4 * i] << 24 | (__u32)a[4 * i + 1] << 16 |
		       (__u32)a[4 * i + 2] << 8 | a[4 * i + 3];
	return steer_hash4(w[0], w[1], w[2], w[3]) % n;
}

/*
 * Queue of an IPv4 fragment among n queues: every fragment of one datagram
 * (RFC 791: same source, destination, protocol and identification) gets the
 * same one. Addresses as host-order words.
 */
static inline __u32
steer_frag4(__u32 src, __u32 dst, __u8 proto, __u16 id, __u32 n)
{
	return steer_hash4(src, dst, (__u32)proto << 16 | id, 0) % n;
}

#endif
