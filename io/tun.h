/*
 * The TUN device nat64d reads IP packets from and writes them to.
 *
 * Packets are bare IPv4 or IPv6 datagrams (IFF_TUN | IFF_NO_PI): the
 * version nibble of the first byte tells them apart. The device is not
 * persistent: it disappears when the last fd on it is closed, so a daemon
 * that dies leaves nothing behind (and routes through the device go with it).
 *
 * Every function returns a negative errno on failure and never exits.
 * All of them act in the network namespace of the calling thread.
 */
#ifndef NAT64_IO_TUN_H
#define NAT64_IO_TUN_H

#include <net/if.h>

/*
 * Opens (creating it if needed) the TUN device `name` (a kernel template
 * such as "nat64%d" works too), sets its MTU, brings it up and makes the fd
 * non-blocking and close-on-exec. `extra_flags` is ORed into IFF_TUN |
 * IFF_NO_PI. With IFF_VNET_HDR every read returns and every write takes a
 * TUN_VNET_HDR_LEN-byte struct virtio_net_hdr (little-endian fields, set
 * with TUNSETVNETLE) before the packet; offloads stay off until
 * tun_set_offload(). For IFF_MULTI_QUEUE see tun_open_queues().
 * The device's actual name is copied to `ifname` when it is not NULL.
 * Returns the fd, or -EINVAL (bad name, mtu 0, IFF_TAP in extra_flags),
 * -EBUSY (another process has the device), or the errno of the failing step.
 * Needs CAP_NET_ADMIN.
 */
int tun_open(const char *name, unsigned int mtu, int extra_flags, char ifname[IFNAMSIZ]);

/*
 * Opens `n` queues (1..256, the kernel's MAX_TAP_QUEUES) of one
 * IFF_MULTI_QUEUE TUN device, one fd each, into fds[0..n-1]: fds[i] is
 * queue i, the index a steering program returns (io/steer.h). Each fd is
 * set up as tun_open() does it (flags, vnet header size and byte order,
 * non-blocking, close-on-exec); the MTU and the up flag are set once, on
 * the device. `flags` is ORed into IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE.
 * The device goes away with the last of the fds (tun_close() each).
 * The actual name is copied to `ifname` when not NULL. An existing
 * multi-queue device is joined (queues added after its own; the kernel
 * then applies `flags` to the whole device). Returns 0, or -EINVAL (bad
 * name, mtu, n, flags, or the device exists without IFF_MULTI_QUEUE) or
 * the errno of the failing step, having closed every fd it opened. Needs
 * CAP_NET_ADMIN.
 */
int tun_open_queues(const char *name, unsigned int mtu, int flags, unsigned int n, int *fds,
		    char ifname[IFNAMSIZ]);

/*
 * With IFF_VNET_HDR: struct virtio_net_hdr without num_buffers (10 bytes).
 * The 12-byte _mrg_rxbuf variant buys nothing on a TUN device: one read
 * always returns one whole packet, so num_buffers would always be 1.
 */
enum { TUN_VNET_HDR_LEN = 10 };

/* Offload bits of TUNSETOFFLOAD (values of the kernel's TUN_F_*). */
enum {
	TUN_OFFLOAD_CSUM = 0x01, /* partial checksums (VIRTIO_NET_HDR_F_NEEDS_CSUM) */
	TUN_OFFLOAD_TSO4 = 0x02,
	TUN_OFFLOAD_TSO6 = 0x04,
	TUN_OFFLOAD_TSO_ECN = 0x08,
	TUN_OFFLOAD_USO4 = 0x20, /* Linux >= 6.2 */
	TUN_OFFLOAD_USO6 = 0x40,
	TUN_OFFLOAD_ALL = 0x01 | 0x02 | 0x04 | 0x20 | 0x40,
};

/*
 * Enables the offloads `want` (TUN_OFFLOAD_*; TSO/USO need CSUM) on a TUN
 * fd opened with IFF_VNET_HDR: reads may then return GRO/GSO super-packets
 * and partial checksums, writes may carry them. When the kernel refuses the
 * USO bits (older than 6.2: -EINVAL) it retries without them. Returns the
 * bits enabled (>= 0), or -EINVAL (no IFF_VNET_HDR, TSO/USO without CSUM,
 * unknown bits) or the errno of the ioctl. 0 turns every offload off.
 */
int tun_set_offload(int fd, unsigned int want);

/* Sets the MTU of any interface; 0 or -errno (-ENODEV when absent). */
int tun_set_mtu(const char *ifname, unsigned int mtu);

/* Sets IFF_UP on any interface; 0 or -errno. */
int tun_set_up(const char *ifname);

/* Interface index of `ifname`, > 0, or -ENODEV / -EINVAL. */
int tun_ifindex(const char *ifname);

/* Closes the fd returned by tun_open(); the device goes away with its last fd. */
void tun_close(int fd);

#endif
