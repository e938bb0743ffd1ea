/*
 * The control socket inside nat64d: a UNIX stream socket per instance
 * (default /run/nat64d/<instance>.sock) that `nat64` talks to with the
 * protocol of wire.h.
 *
 * The server keeps its listening socket, its clients and a pause timer in
 * an epoll set of its own; the daemon watches that one fd (readable when
 * anything needs attention) and calls ctl_server_on_event(), which has the
 * signature of the daemon loop's fd callback:
 *
 *   s = ctl_server_open(&cfg, &engines, &hooks, err, sizeof(err));
 *   loop_add_fd(loop, ctl_server_fd(s), EPOLLIN, ctl_server_on_event, s);
 *
 * Each call handles at most CTL_EVENTS ready sockets and at most one
 * request per client, each bounded (a page of a table), so the packet path
 * waits a few milliseconds at worst; epoll is level-triggered, so the rest
 * comes on the next turn of the loop. Sockets are non-blocking; a client
 * that does not read its replies has its requests left unread until its
 * output drains. Everything runs in the daemon's main thread; the engines
 * (one per worker, engines.h) are used one at a time, each while its
 * worker is paused.
 */
#ifndef NAT64_CTL_SERVER_H
#define NAT64_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ctl_engines;
struct pool4;
struct ctl_server;

/* What a request changed, for ctl_hooks.changed (a bit mask). */
enum ctl_change {
	CTL_CHANGE_POOL4 = 1,
	CTL_CHANGE_BIB = 2,
	CTL_CHANGE_GLOBALS = 4,
};

enum ctl_log_level {
	CTL_LOG_WARNING,
	CTL_LOG_INFO,
	CTL_LOG_DEBUG,
};

/* The daemon's side of the server. Every member but ctx may be NULL. */
struct ctl_hooks {
	void *ctx;
	/*
	 * `file handle`: apply Jool's atomic JSON configuration `text` to the
	 * instance, all or nothing. 0, or -1 with one line in `err` (then
	 * nothing changed). If it replaces the engines, it calls
	 * ctl_server_set_engine() before returning. NULL: the command is
	 * refused.
	 */
	int (*apply_file)(void *ctx, const char *text, char *err, size_t errlen);
	/*
	 * pool4 changes, in two steps so the kernel plumbing that follows pool4
	 * (routes to the TUN device, proxy ARP) changes all or nothing with it:
	 * pool4_prepare() gets pool4 as it will be (a scratch copy, valid during
	 * the call): the daemon plans and adds what is missing, or refuses with
	 * -1 and one line in `err` (nothing changes). Then the engines change
	 * and pool4_finish() says whether it did: the daemon commits (removes
	 * what is no longer needed, sets the empty-pool4 fallback) or rolls
	 * back. pool4_prepare NULL: pool4 changes touch the engine only.
	 */
	int (*pool4_prepare)(void *ctx, const struct pool4 *next, char *err, size_t errlen);
	void (*pool4_finish)(void *ctx, bool applied);
	/* After a change made through the socket (enum ctl_change bits). */
	void (*changed)(void *ctx, unsigned int what);
	/* One line, no newline. NULL: stderr. */
	void (*log)(void *ctx, enum ctl_log_level level, const char *line);
	/* The engine's clock (ms). NULL: CLOCK_MONOTONIC. */
	uint64_t (*now)(void *ctx);
};

struct ctl_config {
	const char *instance; /* NULL: "default" */
	const char *dir;      /* NULL: /run/nat64d (created 0755 if missing) */
	/* (gid_t)-1: the socket is root's, mode 0600. Otherwise it belongs to
	 * this group, mode 0660, and the group's members may drive nat64d. */
	gid_t group;
	/* Clients served at once (0: CTL_CLIENTS_DEFAULT); more wait in the
	 * listen backlog until one leaves. */
	unsigned int max_clients;
};

enum {
	CTL_CLIENTS_DEFAULT = 64,
	CTL_EVENTS = 16,            /* ready sockets handled per ctl_server_on_event() */
	CTL_ACCEPT_PAUSE_MS = 1000, /* after EMFILE/ENFILE */
};

/*
 * Creates the socket (a stale one left by a dead daemon is unlinked; a live
 * one is an error) and the server's epoll set. Call as root, before
 * dropping privileges. NULL with one line in `err` on failure.
 *
 * `engines` is copied (the struct, not what its ctx points to, which must
 * outlive the server or the next ctl_server_set_engine()). NULL: no engine
 * yet; requests that need one are answered "the translator is not running".
 */
struct ctl_server *ctl_server_open(const struct ctl_config *cfg, const struct ctl_engines *engines,
				   const struct ctl_hooks *hooks, char *err, size_t errlen);
/* Closes every client and the socket, and unlinks its path (if still ours). */
void ctl_server_close(struct ctl_server *s);

/* The socket's path, for the startup log line. */
const char *ctl_server_path(const struct ctl_server *s);
/* The fd to watch for EPOLLIN. */
int ctl_server_fd(const struct ctl_server *s);
/* Handles what is ready; `arg` is the server (a loop_fd_cb). */
void ctl_server_on_event(void *arg, int fd, uint32_t events);
/* The engines requests act on from now on (after a reload built new ones,
 * or the number of workers changed): copied as by ctl_server_open(). */
void ctl_server_set_engine(struct ctl_server *s, const struct ctl_engines *engines);
/*
 * Call from the daemon's periodic timer (every second or two): watches
 * pool4 occupancy and logs, rate-limited, when a set goes above 90% full,
 * when it is full and when packets were dropped for lack of a free
 * transport address (occupancy.h).
 */
void ctl_server_tick(struct ctl_server *s);

#endif
