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
 * IFF_NO_PI for later use (IFF_VNET_HDR, IFF_MULTI_QUEUE); pass 0 for now.
 * The device's actual name is copied to `ifname` when it is not NULL.
 * Returns the fd, or -EINVAL (bad name, mtu 0, IFF_TAP in extra_flags),
 * -EBUSY (another process has the device), or the errno of the failing step.
 * Needs CAP_NET_ADMIN.
 */
int tun_open(const char *name, unsigned int mtu, int extra_flags, char ifname[IFNAMSIZ]);

/* Sets the MTU of any interface; 0 or -errno (-ENODEV when absent). */
int tun_set_mtu(const char *ifname, unsigned int mtu);

/* Sets IFF_UP on any interface; 0 or -errno. */
int tun_set_up(const char *ifname);

/* Interface index of `ifname`, > 0, or -ENODEV / -EINVAL. */
int tun_ifindex(const char *ifname);

/* Closes the fd returned by tun_open(); the device goes away with its last fd. */
void tun_close(int fd);

#endif
