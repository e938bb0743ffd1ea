/*
 * The worker threads of an instance: one per TUN queue, each with its own
 * engine (its BIB, sessions and pool4 port share: core/port_share.h), its
 * own pump and its own epoll. Nothing is shared on the fast path; a
 * packet whose state another worker owns goes there through a lock-free
 * ring (handoff.h), one ring per ordered pair of workers.
 *
 * Control plane: workers_acquire(i) pauses worker i at a batch boundary
 * and returns its engine; the caller (the daemon's main thread: control
 * socket, SIGHUP) reads or changes it, then workers_release(i). Each
 * worker has its own mutex, held while it runs a batch and never taken by
 * another worker, so a change reaches the workers one at a time while
 * the others keep forwarding.
 */
#ifndef NAT64_DAEMON_WORKERS_H
#define NAT64_DAEMON_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nat64;
struct workers;

/*
 * Sets up `count` workers on the queue fds `fds` with engines `engines`
 * (taken over: workers_destroy() destroys them, and so does a failure). Threads start with
 * workers_start(); until then acquire/release work without waiting.
 * 0 or -1 with a reason in `err`.
 */
int workers_create(struct workers **out, unsigned int count, const int *fds,
		   struct nat64 *const *engines, bool vnet_hdr, char *err, size_t errlen);
int workers_start(struct workers *ws, char *err, size_t errlen);
/* Stops and joins the threads (idempotent). */
void workers_stop(struct workers *ws);
void workers_destroy(struct workers *ws);

struct nat64 *workers_acquire(struct workers *ws, unsigned int i);
void workers_release(struct workers *ws, unsigned int i);

#endif
