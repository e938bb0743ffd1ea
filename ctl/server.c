/*
 * Socket handling of the control server (OpenBSD's control.c is the
 * model): a listening socket, a bounded array of clients, and a timerfd
 * that re-enables accept(2) a second after it failed for lack of file
 * descriptors, instead of spinning on a socket that stays readable.
 *
 * A client goes through two states: reading one request (the 4-byte length,
 * then exactly that many bytes, so a pipelined next request stays in the
 * socket and epoll reports it), then writing its reply. While a reply is
 * pending the client is watched for EPOLLOUT only: a client that does not
 * read can hold one reply's worth of memory (a page), never more.
 */
#define _GNU_SOURCE /* accept4 */
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "engines.h"
#include "occupancy.h"
#include "request.h"
#include "wire.h"

/* epoll cookies: the slot in the low half, a generation in the high half. */
enum { TAG_LISTENER = 0, TAG_TIMER = 1, TAG_CLIENT = 2 };

struct client {
	int fd;
	uint32_t gen;
	uint8_t hdr[CTL_HEADER_LEN];
	size_t hdr_len; /* bytes of hdr read */
	size_t want;    /* body length, once hdr is complete */
	struct buf in;  /* the body read so far */
	struct buf out; /* reply being written */
	size_t out_off; /* bytes of out already sent */
	bool closing;   /* close once out is sent */
	uint32_t events;
};

struct ctl_server {
	int listen_fd;
	int epfd;
	int timer_fd;
	bool paused; /* accept(2) failed for lack of fds: the timer resumes it */
	bool full;   /* every client slot taken: a close resumes it */
	char path[CTL_PATH_MAX];
	ino_t inode;                /* of our socket file, so close unlinks only ours */
	struct ctl_engines engines; /* a copy; count 0: none (not running) */
	struct ctl_hooks hooks;
	struct client **clients;
	unsigned int max_clients;
	uint32_t gen;
	struct occupancy *occupancy;
};

static void log_line(const struct ctl_server *s, enum ctl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
log_line(const struct ctl_server *s, enum ctl_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->hooks.log)
		s->hooks.log(s->hooks.ctx, level, line);
	else if (level != CTL_LOG_DEBUG)
		fprintf(stderr, "nat64d: control: %s\n", line);
}

static uint64_t
now_ms(const struct ctl_server *s)
{
	struct timespec ts;

	if (s->hooks.now)
		return s->hooks.now(s->hooks.ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
watch(struct ctl_server *s, int op, int fd, uint32_t events, uint64_t cookie)
{
	struct epoll_event ev = {.events = events, .data.u64 = cookie};

	return epoll_ctl(s->epfd, op, fd, &ev);
}

static uint64_t
client_cookie(const struct client *c, unsigned int slot)
{
	return (uint64_t)c->gen << 32 | (TAG_CLIENT + slot);
}

/* --- Opening and closing --------------------------------------------- */

/* A socket file at `path` that nobody answers is stale: remove it. A live
 * one means another daemon runs this instance. */
static int
clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s: another nat64d is listening (instance already running)",
			 path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

static int
bind_socket(struct ctl_server *s, gid_t group, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t mode = group == (gid_t)-1 ? 0600 : 0660;
	mode_t old;
	struct stat st;
	int rc;

	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		goto fail;
	memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
	/* The file is born with the final mode: no window where others could
	 * connect before chmod. */
	old = umask((mode_t)(0777 & ~mode));
	rc = bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0)
		goto fail;
	if (group != (gid_t)-1 && chown(s->path, (uid_t)-1, group) < 0)
		goto fail_unlink;
	if (chmod(s->path, mode) < 0 || lstat(s->path, &st) < 0)
		goto fail_unlink;
	s->inode = st.st_ino;
	if (listen(s->listen_fd, (int)s->max_clients) < 0)
		goto fail_unlink;
	return 0;
fail_unlink:
	rc = errno;
	unlink(s->path);
	errno = rc;
fail:
	snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
	return -1;
}

static int
make_epoll(struct ctl_server *s, char *err, size_t errlen)
{
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		goto fail;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0)
		goto fail;
	if (watch(s, EPOLL_CTL_ADD, s->listen_fd, EPOLLIN, TAG_LISTENER) < 0 ||
	    watch(s, EPOLL_CTL_ADD, s->timer_fd, EPOLLIN, TAG_TIMER) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "control socket epoll: %s", strerror(errno));
	return -1;
}

struct ctl_server *
ctl_server_open(const struct ctl_config *cfg, const struct ctl_engines *engines,
		const struct ctl_hooks *hooks, char *err, size_t errlen)
{
	const char *dir = cfg->dir ? cfg->dir : CTL_DIR_DEFAULT;
	const char *instance = cfg->instance ? cfg->instance : CTL_INSTANCE_DEFAULT;
	struct ctl_server *s = calloc(1, sizeof(*s));

	err[0] = '\0';
	if (s == NULL) {
		snprintf(err, errlen, "control socket: out of memory");
		return NULL;
	}
	s->listen_fd = s->epfd = s->timer_fd = -1;
	ctl_server_set_engine(s, engines);
	if (hooks)
		s->hooks = *hooks;
	s->max_clients = cfg->max_clients ? cfg->max_clients : CTL_CLIENTS_DEFAULT;
	s->clients = calloc(s->max_clients, sizeof(*s->clients));
	s->occupancy = occupancy_create();
	if (s->clients == NULL || s->occupancy == NULL) {
		snprintf(err, errlen, "control socket: out of memory");
		goto err_free;
	}
	if (!wire_socket_path(s->path, sizeof(s->path), dir, instance, err, errlen))
		goto err_free;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto err_free;
	}
	if (clear_stale(s->path, err, errlen) < 0) {
		if (errno && err[0] == '\0')
			snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		goto err_free;
	}
	if (bind_socket(s, cfg->group, err, errlen) < 0)
		goto err_free;
	if (make_epoll(s, err, errlen) < 0)
		goto err_close;
	return s;
err_close:
	unlink(s->path);
err_free:
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	occupancy_destroy(s->occupancy);
	free(s->clients);
	free(s);
	return NULL;
}

/* The listener is watched unless paused or full; a connection that comes
 * meanwhile waits in the backlog rather than being refused. */
static void
update_listener(struct ctl_server *s)
{
	watch(s, EPOLL_CTL_MOD, s->listen_fd, s->paused || s->full ? 0 : EPOLLIN, TAG_LISTENER);
}

static void
client_close(struct ctl_server *s, unsigned int slot)
{
	struct client *c = s->clients[slot];

	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
	s->clients[slot] = NULL;
	if (s->full) {
		s->full = false;
		update_listener(s);
	}
}

void
ctl_server_close(struct ctl_server *s)
{
	struct stat st;

	if (s == NULL)
		return;
	for (unsigned int i = 0; i < s->max_clients; i++)
		if (s->clients[i])
			client_close(s, i);
	/* After a privilege drop this may fail (EACCES): the next start
	 * removes the stale file. Never unlink a successor's socket. */
	if (lstat(s->path, &st) == 0 && st.st_ino == s->inode)
		unlink(s->path);
	close(s->timer_fd);
	close(s->epfd);
	close(s->listen_fd);
	occupancy_destroy(s->occupancy);
	free(s->clients);
	free(s);
}

const char *
ctl_server_path(const struct ctl_server *s)
{
	return s->path;
}

int
ctl_server_fd(const struct ctl_server *s)
{
	return s->epfd;
}

void
ctl_server_set_engine(struct ctl_server *s, const struct ctl_engines *engines)
{
	if (engines)
		s->engines = *engines;
	else
		s->engines = (struct ctl_engines){.count = 0};
}

void
ctl_server_tick(struct ctl_server *s)
{
	char line[512];

	if (s == NULL || s->engines.count == 0)
		return;
	occupancy_tick(s->occupancy, &s->engines, now_ms(s));
	while (occupancy_pop_line(s->occupancy, line, sizeof(line)))
		log_line(s, CTL_LOG_WARNING, "%s", line);
}

/* --- Accepting --------------------------------------------------------- */

/* accept(2) ran out of descriptors: stop listening for a second. */
static void
pause_accept(struct ctl_server *s)
{
	struct itimerspec its = {.it_value = {.tv_sec = CTL_ACCEPT_PAUSE_MS / 1000,
					      .tv_nsec = CTL_ACCEPT_PAUSE_MS % 1000 * 1000000L}};

	log_line(s, CTL_LOG_WARNING, "accept: %s; pausing for %d ms", strerror(errno),
		 CTL_ACCEPT_PAUSE_MS);
	timerfd_settime(s->timer_fd, 0, &its, NULL);
	s->paused = true;
	update_listener(s);
}

static void
resume_accept(struct ctl_server *s)
{
	uint64_t expirations;

	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;
	s->paused = false;
	update_listener(s);
}

static int
free_slot(const struct ctl_server *s)
{
	for (unsigned int i = 0; i < s->max_clients; i++)
		if (s->clients[i] == NULL)
			return (int)i;
	return -1;
}

static void
add_client(struct ctl_server *s, int fd, int slot)
{
	struct client *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->gen = ++s->gen;
	c->events = EPOLLIN;
	buf_init(&c->in, CTL_REQUEST_MAX);
	buf_init(&c->out, CTL_REPLY_MAX);
	s->clients[slot] = c;
	if (watch(s, EPOLL_CTL_ADD, fd, EPOLLIN, client_cookie(c, (unsigned int)slot)) < 0)
		client_close(s, (unsigned int)slot);
}

static void
on_listener(struct ctl_server *s)
{
	for (int i = 0; i < CTL_EVENTS; i++) {
		int slot = free_slot(s), fd;

		if (slot < 0) {
			log_line(s, CTL_LOG_DEBUG, "%u clients connected: the next ones wait",
				 s->max_clients);
			s->full = true;
			update_listener(s);
			return;
		}
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			add_client(s, fd, slot);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			pause_accept(s);
		else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_line(s, CTL_LOG_WARNING, "accept: %s", strerror(errno));
		return;
	}
}

/* --- One client ---------------------------------------------------------- */

static void
set_events(struct ctl_server *s, unsigned int slot, uint32_t events)
{
	struct client *c = s->clients[slot];

	if (c->events == events)
		return;
	c->events = events;
	watch(s, EPOLL_CTL_MOD, c->fd, events, client_cookie(c, slot));
}

/* The reply's 4-byte length goes in front of the JSON already in out. */
static void
frame_reply(struct client *c)
{
	uint8_t hdr[CTL_HEADER_LEN];

	wire_put_len(hdr, (uint32_t)(c->out.len - CTL_HEADER_LEN));
	memcpy(c->out.data, hdr, sizeof(hdr));
}

static void
error_reply(struct client *c, const char *msg)
{
	buf_reset(&c->out);
	buf_append(&c->out, "\0\0\0\0", CTL_HEADER_LEN);
	buf_puts(&c->out, "{\"ok\":false,\"error\":");
	jsonw_quote(&c->out, msg);
	buf_putc(&c->out, '}');
	frame_reply(c);
}

static void
run_request(struct ctl_server *s, struct client *c)
{
	unsigned int changed;

	buf_reset(&c->out);
	buf_append(&c->out, "\0\0\0\0", CTL_HEADER_LEN);
	changed = request_handle(s->engines.count ? &s->engines : NULL, &s->hooks, s->occupancy,
				 now_ms(s), c->in.data, c->in.len, &c->out);
	if (buf_failed(&c->out))
		error_reply(c, "out of memory building the reply");
	else
		frame_reply(c);
	c->out_off = 0;
	c->hdr_len = 0;
	c->want = 0;
	buf_reset(&c->in);
	if (changed && s->hooks.changed)
		s->hooks.changed(s->hooks.ctx, changed);
}

/* Sends what it can of the reply: 1 when all is sent, 0 to wait, -1 to close. */
static int
flush_out(struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->out_off += (size_t)n;
	}
	buf_reset(&c->out);
	c->out_off = 0;
	return 1;
}

/* Reads `n` bytes at most into `dst`: bytes read, 0 on EOF, -1 when nothing
 * is available (errno EAGAIN) or on error. */
static ssize_t
read_some(int fd, void *dst, size_t n)
{
	ssize_t r;

	do
		r = recv(fd, dst, n, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Reads the length prefix. 1 when complete, 0 to wait, -1 to close. */
static int
read_header(struct client *c)
{
	ssize_t r = read_some(c->fd, c->hdr + c->hdr_len, CTL_HEADER_LEN - c->hdr_len);

	if (r == 0 || (r < 0 && errno != EAGAIN))
		return -1;
	if (r < 0)
		return 0;
	c->hdr_len += (size_t)r;
	if (c->hdr_len < CTL_HEADER_LEN)
		return 0;
	c->want = wire_get_len(c->hdr);
	return 1;
}

/* Reads the body. 1 when complete, 0 to wait, -1 to close. */
static int
read_body(struct client *c)
{
	while (c->in.len < c->want) {
		size_t n = c->want - c->in.len;
		ssize_t r;

		if (n > 65536)
			n = 65536;
		if (!buf_reserve(&c->in, n))
			return -1;
		r = read_some(c->fd, c->in.data + c->in.len, n);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			return -1;
		if (r < 0)
			return 0;
		c->in.len += (size_t)r;
	}
	return 1;
}

/* Reads one request: 1 when it is complete, 0 to wait, -1 to close. A bad
 * length gets an error reply (1, with the client closing after it). */
static int
read_request(struct client *c)
{
	int rc;

	if (c->hdr_len < CTL_HEADER_LEN) {
		rc = read_header(c);
		if (rc <= 0)
			return rc;
		if (c->want == 0 || c->want > CTL_REQUEST_MAX) {
			char msg[128];

			snprintf(msg, sizeof(msg), "request of %zu bytes refused: 1-%d bytes",
				 c->want, CTL_REQUEST_MAX);
			error_reply(c, msg);
			c->closing = true;
			return 1;
		}
	}
	return read_body(c);
}

static void
on_client(struct ctl_server *s, unsigned int slot, uint32_t events)
{
	struct client *c = s->clients[slot];
	int rc;

	if (events & EPOLLERR)
		goto close;
	if (c->out.len == 0 && (events & (EPOLLIN | EPOLLHUP))) {
		rc = read_request(c);
		if (rc < 0)
			goto close;
		if (rc == 0)
			return;
		if (!c->closing)
			run_request(s, c);
	}
	rc = flush_out(c);
	if (rc < 0)
		goto close;
	if (rc == 0) {
		set_events(s, slot, EPOLLOUT);
		return;
	}
	if (c->closing)
		goto close;
	set_events(s, slot, EPOLLIN);
	return;
close:
	client_close(s, slot);
}

void
ctl_server_on_event(void *arg, int fd, uint32_t events)
{
	struct ctl_server *s = arg;
	struct epoll_event ev[CTL_EVENTS];
	int n;

	(void)fd;
	(void)events;
	n = epoll_wait(s->epfd, ev, CTL_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		uint32_t tag = (uint32_t)ev[i].data.u64;
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
		struct client *c;

		if (tag == TAG_LISTENER) {
			on_listener(s);
			continue;
		}
		if (tag == TAG_TIMER) {
			resume_accept(s);
			continue;
		}
		c = tag - TAG_CLIENT < s->max_clients ? s->clients[tag - TAG_CLIENT] : NULL;
		/* Closed (or its slot reused) by an earlier event of this batch. */
		if (c == NULL || c->gen != gen)
			continue;
		on_client(s, tag - TAG_CLIENT, ev[i].events);
	}
}
