/*
 * Helpers shared by the io/ tests (root). Each test first calls
 * iotest_netns(): the test process (Criterion forks one per test) moves to
 * a fresh, empty network namespace and a private mount namespace with its
 * own /sys, so /sys/class/net shows that namespace. Both die with the
 * process: nothing to clean up, nothing leaks to the host.
 *
 * A second namespace (the "peer" of a veth pair) is held by an fd of the
 * test process only, so it dies with it too; shell commands reach it with
 * `nsenter --net=/proc/PID/fd/FD`, see IOTEST_PEER.
 */
#ifndef NAT64_TESTS_IO_IOTEST_H
#define NAT64_TESTS_IO_IOTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Enters fresh namespaces; skips (developer) or fails (CI=true) when not root. */
void iotest_netns(void);

/* Runs a shell command (printf-style), returns its exit status (0 = success). */
int iotest_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Same, with stdout captured into buf (NUL-terminated). */
int iotest_capture(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Whether the JSON array `json` (as printed by `ip -j`) holds an object
 * that contains every fragment of the NULL-terminated list, e.g.
 * "\"dst\":\"64:ff9b::/96\"". Fragments are matched inside one object only.
 */
bool iotest_json_has(const char *json, ...) __attribute__((sentinel));

/* Whole content of a small file, trailing newline removed; false if unreadable. */
bool iotest_read_file(const char *path, char *buf, size_t size);

/*
 * A new, empty network namespace held by the returned fd; the caller stays
 * in its own namespace. Its lo is up.
 */
int iotest_peer_new(void);

/* Prefix for shell commands that must run inside the peer namespace `fd`. */
#define IOTEST_PEER "nsenter --net=/proc/%d/fd/%d "

/* A socket created inside namespace `nsfd` (it stays bound to it). */
int iotest_socket_in(int nsfd, int domain, int type, int proto);

/*
 * Reads packets from a TUN fd until one is IPv4 (`version` 4) or IPv6 (6)
 * with transport protocol `proto` and destination port `dport`, or
 * `timeout_ms` passes. Returns the packet length, or 0 on timeout. Other
 * packets (router solicitations, MLD reports) are skipped.
 */
size_t iotest_tun_find(int fd, int version, uint8_t proto, uint16_t dport, uint8_t *buf,
		       size_t size, int timeout_ms);

/* Whether `fd` becomes readable within `timeout_ms`. */
bool iotest_readable(int fd, int timeout_ms);

#endif
