/*
 * Text of addresses and numbers without printf, for the pages of the
 * session and BIB tables (a million rows: glibc's inet_ntop and snprintf
 * were most of the daemon's time). The output is the same as inet_ntop()
 * and "%llu": RFC 5952 for IPv6, with glibc's dotted tail for IPv4-mapped
 * and IPv4-compatible addresses. No NUL is written; the length is returned.
 */
#ifndef NAT64_CTL_FMT_H
#define NAT64_CTL_FMT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

enum { FMT_IPV4_MAX = 15, FMT_IPV6_MAX = 45, FMT_U64_MAX = 20 };

size_t fmt_ipv4(char *out, struct in_addr a);
size_t fmt_ipv6(char *out, const struct in6_addr *a);
size_t fmt_u64(char *out, uint64_t v);

#endif
