/*
 * One running nat64d instance: its TUN device, engine, packet pump, event
 * loop and kernel plumbing, and the all-or-nothing configuration changes
 * that SIGHUP (and later the control socket's `file handle`) make.
 *
 * For the control socket (ctl/): register fds with loop_add_fd(in->loop,
 * ...); reach the engines through workers_acquire(); apply a parsed file
 * with instance_apply(). Everything but the packets runs in the loop's
 * thread; the packets run in the worker threads (workers.h).
 */
#ifndef NAT64_DAEMON_INSTANCE_H
#define NAT64_DAEMON_INSTANCE_H

#include <net/if.h>
#include <stdbool.h>

#include "config.h"
#include "options.h"

struct loop;
struct nat64;
struct netlink;
struct plumb;
struct workers;
struct ctl_server;

/* The context of an engine's BIB/session log hook. */
struct engine_log {
	struct instance *in;
	struct nat64 *engine;
};

struct instance {
	struct options opt; /* after options_finish() */
	/* Worker 0's engine: the main thread reads the settings (globals,
	 * pool6) there, which only the main thread changes. Every change goes
	 * to all engines through workers_acquire()/workers_release(). */
	struct nat64 *engine;
	struct workers *workers;
	unsigned int nworkers;
	int tun_fds[OPTIONS_WORKERS_MAX]; /* one per queue; tun_fd is the first */
	struct engine_log engine_log[OPTIONS_WORKERS_MAX];
	struct loop *loop;
	struct netlink *nl;
	struct plumb *plumb;
	struct ctl_server *ctl;
	struct plumb_plan *ctl_plan; /* a pool4 change through the socket, in progress */
	bool ctl_fallback;
	int tun_fd;
	int tun_ifindex;
	char tun_name[IFNAMSIZ];
	bool stopping;
};

/*
 * Brings the instance up with configuration `c` (options_load_config()):
 * checks forwarding, opens netlink and the TUN device, creates the engine
 * with pool4 and the static BIB entries of `c`, adds the kernel plumbing
 * and prepares the loop. Returns 0, or -1 with a reason in `err` after
 * undoing whatever it did.
 */
int instance_start(struct instance *in, const struct options *o, const struct config *c, char *err,
		   size_t errlen);

/* Runs the event loop until SIGTERM/SIGINT; 0 or -1 if epoll failed. */
int instance_run(struct instance *in);

/* Removes every kernel object the instance created, closes everything. */
void instance_stop(struct instance *in);

/*
 * Replaces the running configuration with `c`, all or nothing: globals
 * (pool6 can't change), the whole pool4 (flushed --quick, then every entry
 * added) and the kernel plumbing that follows from pool4. The `bib` list is
 * ignored, as Jool does for an existing instance. Returns 0, or -1 with a
 * reason in `err` and nothing changed.
 */
int instance_apply(struct instance *in, const struct config *c, char *err, size_t errlen);

/* SIGHUP: re-reads --config plus the command line and applies it; logs the
 * outcome in one line. */
void instance_reload(struct instance *in);

#endif
