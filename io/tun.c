/*
 * TUN device setup with the classic ioctls. The MTU and the up flag are
 * set through an AF_INET datagram socket (SIOCSIFMTU, SIOCSIFFLAGS), which
 * every kernel has, so this file does not depend on netlink.c.
 */
#include "tun.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sysctl.h"

static int
copy_name(char dst[IFNAMSIZ], const char *src)
{
	size_t len;

	if (src == NULL)
		return -EINVAL;
	len = strlen(src);
	if (len == 0 || len >= IFNAMSIZ || strchr(src, '/') != NULL)
		return -EINVAL;
	memcpy(dst, src, len + 1);
	return 0;
}

/* Runs one SIOC* ioctl on `ifr` through a throw-away socket. */
static int
ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, req, ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

int
tun_set_mtu(const char *ifname, unsigned int mtu)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = copy_name(ifr.ifr_name, ifname);
	if (err)
		return err;
	if (mtu == 0 || mtu > 65535)
		return -EINVAL;
	ifr.ifr_mtu = (int)mtu;
	return ifreq_ioctl(SIOCSIFMTU, &ifr);
}

int
tun_set_up(const char *ifname)
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = copy_name(ifr.ifr_name, ifname);
	if (err)
		return err;
	err = ifreq_ioctl(SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	return ifreq_ioctl(SIOCSIFFLAGS, &ifr);
}

int
tun_ifindex(const char *ifname)
{
	char name[IFNAMSIZ];
	unsigned int idx;
	int err;

	err = copy_name(name, ifname);
	if (err)
		return err;
	idx = if_nametoindex(name);
	if (idx == 0)
		return errno == ENXIO || errno == 0 ? -ENODEV : -errno;
	return (int)idx;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* TUNSETIFF attaches `fd` to the device, creating it when absent. */
static int
attach(int fd, const char *name, int extra_flags, char out[IFNAMSIZ])
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = copy_name(ifr.ifr_name, name);
	if (err)
		return err;
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | extra_flags);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	memcpy(out, ifr.ifr_name, IFNAMSIZ);
	out[IFNAMSIZ - 1] = '\0';
	return 0;
}

/* IFF_VNET_HDR: header size and byte order first, before any packet flows. */
static int
set_vnet_hdr(int fd)
{
	int sz = TUN_VNET_HDR_LEN, le = 1;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	/* virtio 1.x byte order on every host (a no-op on little-endian ones). */
	if (ioctl(fd, TUNSETVNETLE, &le) < 0)
		return -errno;
	return 0;
}

static int
get_flags(int fd, int *flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	*flags = ifr.ifr_flags;
	return 0;
}

int
tun_set_offload(int fd, unsigned int want)
{
	const unsigned int uso = TUN_OFFLOAD_USO4 | TUN_OFFLOAD_USO6;
	const unsigned int seg = TUN_OFFLOAD_TSO4 | TUN_OFFLOAD_TSO6 | TUN_OFFLOAD_TSO_ECN | uso;
	int flags = 0, err;

	if ((want & ~(seg | TUN_OFFLOAD_CSUM)) != 0 ||
	    ((want & seg) != 0 && !(want & TUN_OFFLOAD_CSUM)))
		return -EINVAL;
	err = get_flags(fd, &flags);
	if (err)
		return err;
	if (!(flags & IFF_VNET_HDR))
		return -EINVAL;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)want) == 0)
		return (int)want;
	if (errno != EINVAL || (want & uso) == 0)
		return -errno;
	want &= ~uso;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)want) < 0)
		return -errno;
	return (int)want;
}

/*
 * Quiet the device before it goes up: it is a pipe to the translator, not
 * a link, so the kernel must not send its own IPv6 control traffic into it
 * (the translator would only count and drop it): no link-local address
 * (addr_gen_mode 1, "none": no Router Solicitations from it), and out of
 * the all-routers group, which a forwarding host joins on every multicast
 * device and reports with MLD: host behaviour on this device (its
 * "forwarding" 0, which in IPv6 does not stop forwarding through it), left
 * in MLDv1 mode, where leaving a group never reported while the device was
 * down sends nothing (MLDv2 would queue a leave report for the first up),
 * then no IFF_MULTICAST so that a later all.forwarding write does not join
 * it again. Best effort: a kernel without IPv6 has no such settings.
 */
static void
quiet(const char *ifname)
{
	static const char *const keys[] = {"force_mld_version", "forwarding", "addr_gen_mode"};
	static const int values[] = {1, 0, 1};
	struct ifreq ifr;
	char name[96];

	for (size_t i = 0; i < 3 && strchr(ifname, '.') == NULL; i++) {
		/* (a dot in the name would split the sysctl path) */
		snprintf(name, sizeof(name), "net.ipv6.conf.%s.%s", ifname, keys[i]);
		(void)sysctl_write_int(name, values[i]);
	}
	memset(&ifr, 0, sizeof(ifr));
	if (copy_name(ifr.ifr_name, ifname) != 0 || ifreq_ioctl(SIOCGIFFLAGS, &ifr) != 0)
		return;
	ifr.ifr_flags &= ~IFF_MULTICAST;
	(void)ifreq_ioctl(SIOCSIFFLAGS, &ifr);
}

/* An fd attached to the device (created if needed): flags, vnet header,
 * non-blocking. Its actual name goes to `actual`. */
static int
open_attached(const char *name, int flags, char actual[IFNAMSIZ])
{
	int fd, err;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = attach(fd, name, flags, actual);
	if (err == 0 && (flags & IFF_VNET_HDR))
		err = set_vnet_hdr(fd);
	if (err == 0)
		err = set_nonblock(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int
tun_open(const char *name, unsigned int mtu, int extra_flags, char ifname[IFNAMSIZ])
{
	char actual[IFNAMSIZ];
	int fd, err;

	if (mtu == 0 || mtu > 65535 || (extra_flags & (IFF_TAP | IFF_TUN)) != 0 ||
	    (extra_flags & ~0xffff) != 0)
		return -EINVAL;
	fd = open_attached(name, extra_flags, actual);
	if (fd < 0)
		return fd;
	quiet(actual);
	err = tun_set_mtu(actual, mtu);
	if (err)
		goto err_close;
	err = tun_set_up(actual);
	if (err)
		goto err_close;
	if (ifname != NULL)
		memcpy(ifname, actual, IFNAMSIZ);
	return fd;

err_close:
	close(fd);
	return err;
}

static void
close_all(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
}

int
tun_open_queues(const char *name, unsigned int mtu, int flags, unsigned int n, int *fds,
		char ifname[IFNAMSIZ])
{
	char actual[IFNAMSIZ];
	unsigned int opened = 0;
	int err;

	if (mtu == 0 || mtu > 65535 || n == 0 || n > 256 || fds == NULL ||
	    (flags & (IFF_TAP | IFF_TUN)) != 0 || (flags & ~0xffff) != 0)
		return -EINVAL;
	while (opened < n) {
		/* The first name may be a template ("nat64%d"): the others use its result. */
		int fd =
			open_attached(opened == 0 ? name : actual, flags | IFF_MULTI_QUEUE, actual);

		if (fd < 0) {
			err = fd;
			goto err_close;
		}
		fds[opened++] = fd;
	}
	quiet(actual);
	err = tun_set_mtu(actual, mtu);
	if (err)
		goto err_close;
	err = tun_set_up(actual);
	if (err)
		goto err_close;
	if (ifname != NULL)
		memcpy(ifname, actual, IFNAMSIZ);
	return 0;

err_close:
	close_all(fds, opened);
	return err;
}

void
tun_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
