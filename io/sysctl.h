/*
 * Integer kernel settings read and written through /proc/sys.
 *
 * A name is either the dotted form of sysctl(8), "net.ipv4.ip_forward", or
 * a path relative to /proc/sys, "net/ipv4/conf/eth0.100/forwarding": use
 * the second form when a component (an interface name) contains a dot.
 * The values belong to the network namespace of the calling thread.
 *
 * Every function returns 0 or a negative errno; nothing is printed.
 */
#ifndef NAT64_IO_SYSCTL_H
#define NAT64_IO_SYSCTL_H

#include <stddef.h>

/* The settings the daemon touches. */
#define SYSCTL_IP_FORWARD       "net.ipv4.ip_forward"
#define SYSCTL_IP6_FORWARDING   "net.ipv6.conf.all.forwarding"
#define SYSCTL_LOCAL_PORT_RANGE "net.ipv4.ip_local_port_range" /* two integers */

/* Longest value line we read: a handful of integers. */
enum { SYSCTL_MAX_INTS = 8 };

/*
 * Reads exactly `n` (1..SYSCTL_MAX_INTS) whitespace-separated integers.
 * -EINVAL for a bad name or `n`, -EPROTO when the file does not hold
 * exactly `n` integers, -errno of open/read otherwise; `out` is written
 * only on success.
 */
int sysctl_read_ints(const char *name, int *out, size_t n);

/* Writes `n` integers separated by a tab, as the kernel prints them. */
int sysctl_write_ints(const char *name, const int *val, size_t n);

/* One-integer shorthands. */
int sysctl_read_int(const char *name, int *out);
int sysctl_write_int(const char *name, int val);

#endif
