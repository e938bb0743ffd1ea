/*
 * eBPF steering of a multi-queue TUN device: one queue per worker thread,
 * and a BPF program (bpf/steer.bpf.c, embedded in the binary) that tells
 * the kernel which queue each packet goes to, so that a worker sees every
 * packet of the flows it owns (docs/steering.md):
 *   IPv4 by pool4 port / ICMP identifier (owner(p) = (p >> 1) % n, the
 *   formula the translator allocates ports with), IPv4 fragments by
 *   datagram, IPv6 by source address, ICMP errors by what they quote.
 *
 * Needs CAP_BPF (or CAP_SYS_ADMIN) to load the program and the TUN fd.
 * Not thread-safe: call at startup, from one thread (libbpf's message
 * callback is process-wide).
 */
#ifndef NAT64_IO_STEER_H
#define NAT64_IO_STEER_H

#include <stddef.h>

/* The kernel's limit on the queues of one TUN device (MAX_TAP_QUEUES). */
enum { STEER_MAX_QUEUES = 256 };

/*
 * Loads the steering program for `nqueues` queues (1..STEER_MAX_QUEUES)
 * and returns its fd (close-on-exec, the caller closes it), or -errno with
 * a sentence in `err` (e.g. "BPF not permitted: ..."). For tests
 * (BPF_PROG_TEST_RUN) and for steer_attach().
 */
int steer_load(unsigned int nqueues, char *err, size_t errlen);

/*
 * Loads the program for `nqueues` queues and attaches it to the TUN device
 * of `tun_fd` (TUNSETSTEERINGEBPF). Steering belongs to the device, so any
 * one of its queue fds will do. The program fd is closed before returning:
 * once attached, the kernel holds its own reference, which goes when the
 * device goes or at steer_detach(). Replaces a program attached before.
 * nqueues 1: nothing to steer, returns 0 without loading anything.
 * Returns 0, or -EINVAL (nqueues 0 or > STEER_MAX_QUEUES), -EBADF, -EPERM
 * (no CAP_BPF), or the errno of the failing step, with a sentence in `err`.
 */
int steer_attach(int tun_fd, unsigned int nqueues, char *err, size_t errlen);

/* Detaches the program from the device of `tun_fd`: the kernel goes back to
 * its own flow hashing. Harmless when none is attached. */
void steer_detach(int tun_fd);

#endif
