/*
 * The daemon's event loop: one epoll set that waits on file descriptors
 * (the TUN device, later the control socket and its clients), one periodic
 * timer (timerfd) and the signals the daemon handles (signalfd). Callbacks
 * run in the loop's thread, one at a time, so they need no locks.
 *
 * The loop knows nothing about packets or the engine: the packet pump
 * (pump.c) is one fd callback among others, so a later version can run one
 * loop per TUN queue in its own thread.
 *
 * Every function returns 0 or a negative errno; none exits.
 */
#ifndef NAT64_DAEMON_LOOP_H
#define NAT64_DAEMON_LOOP_H

#include <stdint.h>

struct loop;

/* `events` is what epoll reported (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
typedef void (*loop_fd_cb)(void *arg, int fd, uint32_t events);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_signal_cb)(void *arg, int signo);

int loop_create(struct loop **out);
/* Closes the loop's own fds (epoll, timer, signalfd), not the registered ones. */
void loop_destroy(struct loop *l);

/*
 * Calls `cb(arg, fd, events)` whenever `fd` is ready for `events` (EPOLLIN
 * and/or EPOLLOUT; level-triggered). One registration per fd: -EEXIST for
 * a second one. loop_del_fd() may be called from any callback, including
 * the fd's own; no callback of a removed fd runs afterwards, even for
 * events already collected. The caller still owns (and closes) the fd.
 */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
int loop_del_fd(struct loop *l, int fd);

/* Calls `cb(arg)` every `interval_ms` (> 0) from now on; replaces a previous timer. */
int loop_set_timer(struct loop *l, unsigned int interval_ms, loop_timer_cb cb, void *arg);

/*
 * Delivers `signo` through the loop instead of an asynchronous handler:
 * the signal is blocked in the calling thread (call this before starting
 * other threads) and read from a signalfd. -EEXIST when already handled.
 */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* Runs until loop_stop(); returns 0, or a negative errno if epoll fails. */
int loop_run(struct loop *l);
/* Makes loop_run() return once the current callback is done. */
void loop_stop(struct loop *l);

#endif
