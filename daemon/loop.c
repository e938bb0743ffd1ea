/*
 * epoll + timerfd + signalfd. Every registration, the timer and the
 * signalfd included, is a slot in one array; the epoll cookie holds the
 * slot index and a generation number, so an event collected for an fd that
 * a callback removed in the same round (or whose slot was reused since) is
 * recognised and skipped instead of calling a stale callback.
 */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum { LOOP_EVENTS = 64 }; /* events taken per epoll_wait */

struct slot {
	int fd; /* -1: free */
	uint32_t gen;
	loop_fd_cb cb;
	void *arg;
};

struct loop {
	int epfd;
	bool stop;
	struct slot *slots;
	uint32_t nslots;
	int timerfd;
	loop_timer_cb timer_cb;
	void *timer_arg;
	int sigfd;
	sigset_t sigmask;
	loop_signal_cb sig_cb[NSIG];
	void *sig_arg[NSIG];
};

int
loop_create(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		free(l);
		return err;
	}
	l->timerfd = -1;
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	*out = l;
	return 0;
}

void
loop_destroy(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->timerfd >= 0)
		close(l->timerfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l->slots);
	free(l);
}

static struct slot *
find_slot(struct loop *l, int fd)
{
	for (uint32_t i = 0; i < l->nslots; i++)
		if (l->slots[i].fd == fd)
			return &l->slots[i];
	return NULL;
}

static struct slot *
free_slot(struct loop *l)
{
	struct slot *grown;
	uint32_t old = l->nslots, n;

	for (uint32_t i = 0; i < l->nslots; i++)
		if (l->slots[i].fd < 0)
			return &l->slots[i];
	n = old ? 2 * old : 8;
	grown = realloc(l->slots, n * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	for (uint32_t i = old; i < n; i++)
		grown[i] = (struct slot){.fd = -1};
	l->slots = grown;
	l->nslots = n;
	return &l->slots[old];
}

static uint64_t
cookie(const struct loop *l, const struct slot *s)
{
	return (uint64_t)s->gen << 32 | (uint64_t)(s - l->slots);
}

int
loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	struct epoll_event ev = {.events = events};
	struct slot *s;

	if (fd < 0 || cb == NULL)
		return -EINVAL;
	if (find_slot(l, fd) != NULL)
		return -EEXIST;
	s = free_slot(l);
	if (s == NULL)
		return -ENOMEM;
	s->gen++;
	ev.data.u64 = cookie(l, s);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	s->fd = fd;
	s->cb = cb;
	s->arg = arg;
	return 0;
}

int
loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events};
	struct slot *s = fd >= 0 ? find_slot(l, fd) : NULL;

	if (s == NULL)
		return -ENOENT;
	ev.data.u64 = cookie(l, s);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int
loop_del_fd(struct loop *l, int fd)
{
	struct slot *s = fd >= 0 ? find_slot(l, fd) : NULL;

	if (s == NULL)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->fd = -1;
	s->gen++; /* events already collected for it no longer match */
	return 0;
}

static void
on_timer(void *arg, int fd, uint32_t events)
{
	struct loop *l = arg;
	uint64_t expirations;

	(void)events;
	/* The count is not needed: a late tick does the work of the missed ones. */
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	l->timer_cb(l->timer_arg);
}

int
loop_set_timer(struct loop *l, unsigned int interval_ms, loop_timer_cb cb, void *arg)
{
	struct itimerspec its = {0};
	int err;

	if (interval_ms == 0 || cb == NULL)
		return -EINVAL;
	if (l->timerfd < 0) {
		l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (l->timerfd < 0)
			return -errno;
		err = loop_add_fd(l, l->timerfd, EPOLLIN, on_timer, l);
		if (err) {
			close(l->timerfd);
			l->timerfd = -1;
			return err;
		}
	}
	l->timer_cb = cb;
	l->timer_arg = arg;
	its.it_interval.tv_sec = interval_ms / 1000;
	its.it_interval.tv_nsec = (long)(interval_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	return timerfd_settime(l->timerfd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void
on_signal(void *arg, int fd, uint32_t events)
{
	struct loop *l = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo > 0 && signo < NSIG && l->sig_cb[signo] != NULL)
			l->sig_cb[signo](l->sig_arg[signo], signo);
	}
}

int
loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	sigset_t mask = l->sigmask;
	int fd;

	if (signo <= 0 || signo >= NSIG || cb == NULL)
		return -EINVAL;
	if (l->sig_cb[signo] != NULL)
		return -EEXIST;
	if (sigaddset(&mask, signo) < 0)
		return -EINVAL;
	/* Block first: a signal arriving now waits in the signalfd. */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(l->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		int err = loop_add_fd(l, fd, EPOLLIN, on_signal, l);

		if (err) {
			close(fd);
			return err;
		}
		l->sigfd = fd;
	}
	l->sigmask = mask;
	l->sig_cb[signo] = cb;
	l->sig_arg[signo] = arg;
	return 0;
}

static void
dispatch(struct loop *l, const struct epoll_event *ev)
{
	uint32_t idx = (uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct slot *s;

	if (idx >= l->nslots)
		return;
	s = &l->slots[idx];
	if (s->fd < 0 || s->gen != gen)
		return; /* removed (or replaced) by an earlier callback */
	s->cb(s->arg, s->fd, ev->events);
}

int
loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_EVENTS];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, LOOP_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++)
			dispatch(l, &evs[i]);
	}
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}
