/*
 * Worker threads (workers.h). Each worker loops: wait on its epoll (its
 * TUN queue, its wake-up eventfd), take its own mutex, run what the other
 * workers handed over, one budget of TUN reads (pump.c), the periodic
 * engine work when due, release the mutex. The main thread pauses a
 * worker by raising `pause_wanted` and taking the mutex: the worker sees
 * the flag after its batch and waits on `resume` instead of taking the
 * mutex again, so a busy worker can't starve the control plane.
 */
#include "workers.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "handoff.h"
#include "log.h"
#include "loglimit.h"
#include "nat64.h"
#include "pump.h"

_Static_assert(sizeof(struct nat64_handoff) <= HANDOFF_META_MAX, "handoff metadata fits a slot");

enum { TICK_MS = 1000 };

struct worker {
	struct workers *ws;
	unsigned int index;
	int fd;     /* its TUN queue */
	int epfd;   /* fd + wake */
	int wakefd; /* eventfd: handed packets, stop */
	struct nat64 *engine;
	struct pump *pump;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* held while the worker runs a batch */
	pthread_cond_t resume;
	_Atomic bool pause_wanted;
	uint64_t next_tick;
	struct loglimit rl_full;
};

struct workers {
	unsigned int count;
	_Atomic bool stop;
	struct handoff_ring *rings; /* rings[from * count + to] */
	struct worker w[];
};

static struct handoff_ring *
ring(struct workers *ws, unsigned int from, unsigned int to)
{
	return &ws->rings[from * ws->count + to];
}

static void
wake(struct worker *w)
{
	uint64_t one = 1;

	/* Fails only when the counter is near 2^64: already awake. */
	if (write(w->wakefd, &one, sizeof(one)) < 0)
		return;
}

/* pump_handoff_fn: into the ring towards the owner. */
static void
on_handoff(void *ctx, const struct nat64_result *res)
{
	struct worker *w = ctx;
	struct workers *ws = w->ws;
	unsigned int to = res->handoff.to;
	uint64_t missed;

	if (to >= ws->count || to == w->index)
		return;
	if (handoff_push(ring(ws, w->index, to), res->out.data, res->out.len, &res->handoff,
			 sizeof(res->handoff))) {
		wake(&ws->w[to]);
		return;
	}
	/* The owner is 32 packets behind: this one is lost, not queued. */
	if (loglimit_allow(&w->rl_full, clock_mono_ms(), &missed))
		log_warnx("worker %u: handoff ring to worker %u full, packet dropped "
			  "(%" PRIu64 " more since the last line)",
			  w->index, to, missed);
}

static void
drain_handed(struct worker *w, uint64_t now)
{
	struct workers *ws = w->ws;

	for (unsigned int from = 0; from < ws->count; from++) {
		struct handoff_ring *r;
		const struct handoff_slot *s;

		if (from == w->index)
			continue;
		r = ring(ws, from, w->index);
		while ((s = handoff_peek(r)) != NULL) {
			struct nat64_handoff h;

			memcpy(&h, s->meta, sizeof(h));
			pump_input(w->pump, s->data, s->len, &h, now);
			handoff_pop(r);
		}
	}
}

static void
wait_if_paused(struct worker *w)
{
	if (!atomic_load_explicit(&w->pause_wanted, memory_order_acquire))
		return;
	pthread_mutex_lock(&w->lock);
	while (atomic_load_explicit(&w->pause_wanted, memory_order_acquire))
		pthread_cond_wait(&w->resume, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static int
next_timeout(const struct worker *w, uint64_t now)
{
	return w->next_tick > now ? (int)(w->next_tick - now) : 0;
}

static void
run_once(struct worker *w, bool woken)
{
	uint64_t now = clock_mono_ms(), count;

	pthread_mutex_lock(&w->lock);
	if (woken && read(w->wakefd, &count, sizeof(count)) < 0)
		count = 0; /* EAGAIN: someone else read it */
	drain_handed(w, now);
	pump_on_readable(w->pump, w->fd, EPOLLIN);
	if (now >= w->next_tick) {
		nat64_tick(w->engine, now, pump_emit, w->pump);
		w->next_tick = now + TICK_MS;
	}
	pthread_mutex_unlock(&w->lock);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[2];

	w->next_tick = clock_mono_ms() + TICK_MS;
	while (!atomic_load_explicit(&w->ws->stop, memory_order_acquire)) {
		int n = epoll_wait(w->epfd, ev, 2, next_timeout(w, clock_mono_ms()));
		bool woken = false;

		if (n < 0 && errno != EINTR) {
			log_warn("worker %u: epoll_wait", w->index);
			break;
		}
		for (int i = 0; i < n; i++)
			woken |= ev[i].data.fd == w->wakefd;
		wait_if_paused(w);
		run_once(w, woken);
	}
	return NULL;
}

static int
worker_init(struct workers *ws, unsigned int i, int fd, struct nat64 *engine, bool vnet_hdr)
{
	struct worker *w = &ws->w[i];
	struct epoll_event ev = {.events = EPOLLIN};

	w->ws = ws;
	w->index = i;
	w->fd = fd;
	w->engine = engine;
	w->rl_full = (struct loglimit)LOGLIMIT_INIT(5);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->resume, NULL);
	atomic_init(&w->pause_wanted, false);
	if (pump_create(&w->pump, fd, engine, vnet_hdr) != 0)
		return -ENOMEM;
	pump_set_handoff(w->pump, on_handoff, w);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->wakefd < 0)
		return -errno;
	ev.data.fd = fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	ev.data.fd = w->wakefd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0)
		return -errno;
	return 0;
}

int
workers_create(struct workers **out, unsigned int count, const int *fds,
	       struct nat64 *const *engines, bool vnet_hdr, char *err, size_t errlen)
{
	struct workers *ws;
	int r = 0;

	*out = NULL;
	ws = calloc(1, sizeof(*ws) + count * sizeof(ws->w[0]));
	if (ws == NULL)
		goto nomem;
	ws->count = count;
	atomic_init(&ws->stop, false);
	for (unsigned int i = 0; i < count; i++)
		ws->w[i] = (struct worker){.engine = engines[i], .epfd = -1, .wakefd = -1};
	ws->rings = calloc((size_t)count * count, sizeof(*ws->rings));
	if (ws->rings == NULL)
		goto nomem;
	for (unsigned int i = 0; i < count * count && r == 0; i++)
		if (i / count != i % count)
			r = handoff_ring_init(&ws->rings[i]);
	for (unsigned int i = 0; i < count && r == 0; i++)
		r = worker_init(ws, i, fds[i], engines[i], vnet_hdr);
	if (r != 0) {
		snprintf(err, errlen, "workers: %s", strerror(-r));
		workers_destroy(ws);
		return -1;
	}
	*out = ws;
	return 0;
nomem:
	if (ws)
		free(ws->rings);
	free(ws);
	for (unsigned int i = 0; i < count; i++)
		nat64_destroy(engines[i]);
	snprintf(err, errlen, "workers: out of memory");
	return -1;
}

int
workers_start(struct workers *ws, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < ws->count; i++) {
		int r = pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]);

		if (r != 0) {
			snprintf(err, errlen, "worker thread %u: %s", i, strerror(r));
			workers_stop(ws);
			return -1;
		}
		ws->w[i].started = true;
	}
	log_info("%u worker thread%s", ws->count, ws->count == 1 ? "" : "s");
	return 0;
}

void
workers_stop(struct workers *ws)
{
	if (ws == NULL)
		return;
	atomic_store_explicit(&ws->stop, true, memory_order_release);
	for (unsigned int i = 0; i < ws->count; i++)
		if (ws->w[i].wakefd >= 0)
			wake(&ws->w[i]);
	for (unsigned int i = 0; i < ws->count; i++) {
		if (!ws->w[i].started)
			continue;
		pthread_join(ws->w[i].thread, NULL);
		ws->w[i].started = false;
	}
}

void
workers_destroy(struct workers *ws)
{
	if (ws == NULL)
		return;
	workers_stop(ws);
	for (unsigned int i = 0; i < ws->count; i++) {
		struct worker *w = &ws->w[i];

		if (w->epfd >= 0)
			close(w->epfd);
		if (w->wakefd >= 0)
			close(w->wakefd);
		pump_destroy(w->pump);
		nat64_destroy(w->engine);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->resume);
	}
	for (unsigned int i = 0; ws->rings && i < ws->count * ws->count; i++)
		handoff_ring_fini(&ws->rings[i]);
	free(ws->rings);
	free(ws);
}

struct nat64 *
workers_acquire(struct workers *ws, unsigned int i)
{
	struct worker *w = &ws->w[i];

	atomic_store_explicit(&w->pause_wanted, true, memory_order_release);
	pthread_mutex_lock(&w->lock);
	return w->engine;
}

void
workers_release(struct workers *ws, unsigned int i)
{
	struct worker *w = &ws->w[i];

	atomic_store_explicit(&w->pause_wanted, false, memory_order_release);
	pthread_cond_broadcast(&w->resume);
	pthread_mutex_unlock(&w->lock);
}
