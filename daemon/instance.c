/*
 * Life cycle of an instance and its configuration changes.
 *
 * A change is prepared aside and checked before anything moves: the new
 * pool4 is built in a scratch pool4 (every entry accepted), the kernel
 * plumbing is planned (limits checked), then the missing kernel objects
 * are added, then the engine takes the new globals and pool4, and only
 * then are stale kernel objects removed. A failure at any step undoes the
 * steps before it, so the running configuration is either the old one or
 * the new one.
 */
#include "instance.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "engines.h"
#include "log.h"
#include "loop.h"
#include "nat64.h"
#include "netlink.h"
#include "plumb.h"
#include "steer.h"
#include "pump.h"
#include "rfc6052.h"
#include "server.h"
#include "sysctl.h"
#include "tun.h"
#include "workers.h"

/* Own IPv4 addresses considered (pool4 on them, the empty-pool4 fallback). */
enum { OWN_MAX = 64 };

/* ---- host checks ---- */

/* The kernel forwards every packet between the TUN device and the world. */
static int
check_forwarding(bool enable, char *err, size_t errlen)
{
	static const char *const names[] = {SYSCTL_IP_FORWARD, SYSCTL_IP6_FORWARDING};

	for (size_t i = 0; i < 2; i++) {
		int v = 0, r = sysctl_read_int(names[i], &v);

		if (r == 0 && v != 0)
			continue;
		if (r != 0) {
			snprintf(err, errlen, "cannot read %s: %s", names[i], strerror(-r));
			return -1;
		}
		if (!enable) {
			snprintf(err, errlen,
				 "%s is 0: the kernel must forward packets to and from the TUN "
				 "device; run 'sysctl -w %s=1' or start nat64d with "
				 "--enable-forwarding",
				 names[i], names[i]);
			return -1;
		}
		r = sysctl_write_int(names[i], 1);
		if (r != 0) {
			snprintf(err, errlen, "cannot set %s=1: %s", names[i], strerror(-r));
			return -1;
		}
		log_info("set %s=1 (--enable-forwarding)", names[i]);
	}
	return 0;
}

static int
own_addresses(struct instance *in, struct in_addr *own, size_t *nown, char *err, size_t errlen)
{
	int n = netlink_addr4_list(in->nl, own, OWN_MAX);

	if (n < 0) {
		snprintf(err, errlen, "cannot list the node's IPv4 addresses: %s", strerror(-n));
		return -1;
	}
	if (n > OWN_MAX) {
		log_warnx("the node has %d IPv4 addresses; only the first %d are considered", n,
			  OWN_MAX);
		n = OWN_MAX;
	}
	*nown = (size_t)n;
	return 0;
}

/* ---- log lines ---- */

static void
on_bib_event(void *ctx, const struct bib_event *ev)
{
	const struct engine_log *el = ctx;
	const struct globals *g;
	struct bib_event wall;
	char line[320];
	bool bib;

	/* Read in the worker's thread: its own engine's settings (the main
	 * thread changes them only while this worker is paused). */
	if (el->in->stopping)
		return;
	g = nat64_globals(el->engine);
	bib = ev->type == BIB_EVENT_BIB_ADDED || ev->type == BIB_EVENT_BIB_REMOVED;
	if (bib ? !g->logging_bib : !g->logging_session)
		return;
	wall = *ev;
	wall.time = clock_mono_to_wall(ev->time);
	if (bib_event_format(&wall, line, sizeof(line)) >= 0)
		log_info("%s", line);
}

static void
log_pool6(const struct globals *g)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &g->pool6.addr, a, sizeof(a));
	log_info("pool6 %s/%u", a, g->pool6.len);
	if (!rfc6052_is_wkp(&g->pool6))
		return;
	if (g->wkp_global_only)
		log_info("wkp-global-only is on: with the well-known prefix, packets to "
			 "non-global IPv4 addresses (private, documentation ...) are dropped "
			 "(RFC 6052 §3.1)");
	else
		log_warnx("wkp-global-only is off: the well-known prefix also reaches "
			  "non-global IPv4 addresses, which RFC 6052 §3.1 forbids");
}

static void
log_pool4(const struct config *c, bool fallback, size_t nown)
{
	if (!fallback) {
		log_info("pool4: %zu entries", c->pool4_count);
		return;
	}
	if (nown == 0)
		log_warnx("pool4 is empty and the node has no IPv4 address: IPv6 hosts "
			  "can't reach IPv4");
	else
		log_info("pool4 is empty: using the node's %zu IPv4 address(es), TCP and UDP "
			 "ports %d-%d",
			 nown, POOL4_FALLBACK_PORT_MIN, POOL4_FALLBACK_PORT_MAX);
}

/* ---- the engine's side of a change ---- */

struct saved_pool4 {
	struct config_pool4 *v;
	size_t n, cap;
};

static int
save_entry(void *ctx, const struct pool4_entry *e, const struct pool4_set_info *set)
{
	struct saved_pool4 *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct config_pool4 *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct config_pool4){.entry = *e, .iter = set->iterations};
	return 0;
}

static int
save_pool4(const struct nat64 *n, struct saved_pool4 *s)
{
	for (int proto = 0; proto < L4_COUNT; proto++) {
		int err = pool4_foreach(nat64_pool4(n), (enum l4proto)proto, save_entry, s);

		if (err)
			return err;
	}
	return 0;
}

/* Flush (--quick: BIB entries stay, as a Jool file does) and add all. */
static int
fill_pool4(struct nat64 *n, const struct config_pool4 *v, size_t count)
{
	nat64_pool4_flush(n, true, clock_mono_ms());
	for (size_t i = 0; i < count; i++) {
		int err = nat64_pool4_add(n, &v[i].entry, &v[i].iter);

		if (err)
			return err;
	}
	return 0;
}

/*
 * Runs `fn` on every engine, one paused worker at a time. When engine k
 * fails, `undo` (if any) runs on engines 0..k-1 and the error is returned:
 * the engines are configured alike, so only memory can fail after the
 * first one, and then they end up as they were.
 */
typedef int (*engine_fn)(struct nat64 *n, void *ctx, char *err, size_t errlen);

static int
each_engine(struct instance *in, engine_fn fn, engine_fn undo, void *ctx, char *err, size_t errlen)
{
	char why[256];
	unsigned int k;
	int r = 0;

	for (k = 0; k < in->nworkers && r == 0; k++) {
		r = fn(workers_acquire(in->workers, k), ctx, err, errlen);
		workers_release(in->workers, k);
	}
	if (r == 0)
		return 0;
	for (unsigned int i = 0; undo && i + 1 < k; i++) {
		if (undo(workers_acquire(in->workers, i), ctx, why, sizeof(why)) != 0)
			log_warnx("worker %u could not be restored after a failed change: %s", i,
				  why);
		workers_release(in->workers, i);
	}
	return r;
}

struct engine_change {
	const struct config *c;
	bool fallback;
	const struct in_addr *own;
	size_t nown;
	struct globals old_globals;
	struct saved_pool4 old_pool4;
};

static int
set_fallback(struct nat64 *n, const struct engine_change *ch, char *err, size_t errlen)
{
	int r = nat64_pool4_set_fallback(n, ch->own, ch->fallback ? ch->nown : 0);

	if (r != 0) {
		snprintf(err, errlen, "pool4 fallback: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/* Globals, then pool4: each step undone if a later one fails. */
static int
engine_apply_one(struct nat64 *n, void *ctx, char *err, size_t errlen)
{
	struct engine_change *ch = ctx;
	char why[256];
	int r;

	if (nat64_set_globals(n, &ch->c->globals, err, errlen) != 0)
		return -1;
	r = fill_pool4(n, ch->c->pool4, ch->c->pool4_count);
	if (r != 0)
		/* The scratch pool4 took every entry: only memory can fail here. */
		snprintf(err, errlen, "pool4: %s", pool4_strerror(r));
	if (r == 0 && set_fallback(n, ch, err, errlen) == 0)
		return 0;
	if (fill_pool4(n, ch->old_pool4.v, ch->old_pool4.n) != 0)
		log_warnx("pool4 could not be restored after a failed change");
	if (nat64_set_globals(n, &ch->old_globals, why, sizeof(why)) != 0)
		log_warnx("globals could not be restored after a failed change: %s", why);
	return -1;
}

static int
engine_restore_one(struct nat64 *n, void *ctx, char *err, size_t errlen)
{
	struct engine_change *ch = ctx;

	if (fill_pool4(n, ch->old_pool4.v, ch->old_pool4.n) != 0) {
		snprintf(err, errlen, "pool4: out of memory");
		return -1;
	}
	return nat64_set_globals(n, &ch->old_globals, err, errlen);
}

static int
engine_apply(struct instance *in, const struct config *c, bool fallback, const struct in_addr *own,
	     size_t nown, char *err, size_t errlen)
{
	struct engine_change ch = {
		.c = c,
		.fallback = fallback,
		.own = own,
		.nown = nown,
		.old_globals = *nat64_globals(in->engine),
	};
	int r = save_pool4(in->engine, &ch.old_pool4);

	if (r != 0)
		snprintf(err, errlen, "pool4: out of memory");
	else
		r = each_engine(in, engine_apply_one, engine_restore_one, &ch, err, errlen);
	free(ch.old_pool4.v);
	return r ? -1 : 0;
}

static int
fallback_one(struct nat64 *n, void *ctx, char *err, size_t errlen)
{
	return set_fallback(n, ctx, err, errlen);
}

static int
fallback_all(struct instance *in, bool fallback, const struct in_addr *own, size_t nown, char *err,
	     size_t errlen)
{
	struct engine_change ch = {.fallback = fallback, .own = own, .nown = nown};

	return each_engine(in, fallback_one, NULL, &ch, err, errlen);
}

/* The first configuration: the engines are new, so static BIB entries count
 * (in every engine: the data path hands their packets to the owner of the
 * port, core/port_share.h). */
static int
engine_first_one(struct nat64 *n, void *ctx, char *err, size_t errlen)
{
	struct engine_change *ch = ctx;

	if (fill_pool4(n, ch->c->pool4, ch->c->pool4_count) != 0) {
		snprintf(err, errlen, "pool4: out of memory");
		return -1;
	}
	if (set_fallback(n, ch, err, errlen))
		return -1;
	for (size_t i = 0; i < ch->c->bib_count; i++) {
		const struct config_bib *b = &ch->c->bib[i];
		int r = nat64_bib_add(n, b->proto, &b->addr6, &b->addr4, clock_mono_ms());

		if (r != 0) {
			snprintf(err, errlen, "bib[%zu]: %s", i, strerror(-r));
			return -1;
		}
	}
	return 0;
}

/* ---- one configuration change ---- */

struct change {
	struct pool4 *scratch;
	struct plumb_plan *plan;
	struct in_addr own[OWN_MAX];
	size_t nown;
	bool fallback;
};

/* Everything that can be checked without touching anything. */
static int
prepare(struct instance *in, const struct config *c, struct change *ch, char *err, size_t errlen)
{
	if (config_build_pool4(c, &ch->scratch, err, errlen))
		return -1;
	ch->fallback = c->pool4_count == 0;
	if (own_addresses(in, ch->own, &ch->nown, err, errlen) == 0 &&
	    plumb_plan_make(in->plumb, &c->globals.pool6, ch->scratch, ch->fallback, ch->own,
			    ch->nown, &ch->plan, err, errlen) == 0)
		return 0;
	pool4_destroy(ch->scratch);
	return -1;
}

static void
change_free(struct change *ch)
{
	plumb_plan_free(ch->plan);
	pool4_destroy(ch->scratch);
}

static bool
same_pool6(const struct globals *a, const struct globals *b)
{
	return a->pool6.len == b->pool6.len && in6_equal(&a->pool6.addr, &b->pool6.addr);
}

int
instance_apply(struct instance *in, const struct config *c, char *err, size_t errlen)
{
	struct change ch = {0};

	if (!same_pool6(&c->globals, nat64_globals(in->engine))) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &nat64_globals(in->engine)->pool6.addr, a, sizeof(a));
		inet_ntop(AF_INET6, &c->globals.pool6.addr, b, sizeof(b));
		snprintf(err, errlen, "pool6 can't change on a running instance (%s/%u, not %s/%u)",
			 a, nat64_globals(in->engine)->pool6.len, b, c->globals.pool6.len);
		return -1;
	}
	if (prepare(in, c, &ch, err, errlen))
		return -1;
	if (plumb_add(in->plumb, ch.plan, err, errlen))
		goto err_free;
	if (engine_apply(in, c, ch.fallback, ch.own, ch.nown, err, errlen))
		goto err_rollback;
	plumb_commit(in->plumb, ch.plan);
	log_pool4(c, ch.fallback, ch.nown);
	change_free(&ch);
	return 0;
err_rollback:
	plumb_rollback(in->plumb);
err_free:
	change_free(&ch);
	return -1;
}

/* The first configuration: the engine is new, so static BIB entries count. */
static int
apply_first(struct instance *in, const struct config *c, char *err, size_t errlen)
{
	struct engine_change first;
	struct change ch = {0};

	if (prepare(in, c, &ch, err, errlen))
		return -1;
	if (plumb_add(in->plumb, ch.plan, err, errlen))
		goto err_free;
	first = (struct engine_change){
		.c = c, .fallback = ch.fallback, .own = ch.own, .nown = ch.nown};
	if (each_engine(in, engine_first_one, NULL, &first, err, errlen))
		goto err_rollback;
	plumb_commit(in->plumb, ch.plan);
	log_pool4(c, ch.fallback, ch.nown);
	log_info("kernel plumbing: %zu routes, rules and proxy entries", plumb_plan_size(ch.plan));
	change_free(&ch);
	return 0;
err_rollback:
	plumb_rollback(in->plumb);
err_free:
	change_free(&ch);
	return -1;
}

void
instance_reload(struct instance *in)
{
	struct config c;
	char err[512];

	if (in->opt.config_path == NULL) {
		log_info("SIGHUP: no --config file to re-read; nothing changed");
		return;
	}
	if (options_load_config(&in->opt, &c, err, sizeof(err)) == 0) {
		if (c.instance[0] != '\0' && strcmp(c.instance, in->opt.instance) != 0)
			snprintf(err, sizeof(err), "%s is for instance '%s', not '%s'",
				 in->opt.config_path, c.instance, in->opt.instance);
		else if (instance_apply(in, &c, err, sizeof(err)) == 0) {
			log_info("reloaded %s", in->opt.config_path);
			config_free(&c);
			return;
		}
		config_free(&c);
	}
	log_warnx("reload refused, running configuration unchanged: %s", err);
}

/* ---- loop callbacks ---- */

static void
on_tick(void *arg)
{
	struct instance *in = arg;

	/* The workers run their engines' periodic work themselves. */
	ctl_server_tick(in->ctl);
}

static void
on_signal(void *arg, int signo)
{
	struct instance *in = arg;

	if (signo == SIGHUP) {
		instance_reload(in);
		return;
	}
	log_info("%s: stopping", strsignal(signo));
	loop_stop(in->loop);
}

/* ---- start and stop ---- */

/* One engine per queue, each with its share of the pool4 ports, and the
 * workers that run them (started later, by setup_loop()). */
static int
create_workers(struct instance *in, const struct config *c, struct nat64_params *p, char *err,
	       size_t errlen)
{
	struct nat64 *engines[OPTIONS_WORKERS_MAX] = {0};
	uint32_t rate = p->icmp_errors_per_sec;
	unsigned int i;

	/* --icmp-rate is the instance's: each worker its part (rounded up). */
	p->icmp_errors_per_sec = rate / in->nworkers + (rate % in->nworkers != 0);
	for (i = 0; i < in->nworkers; i++) {
		p->share = (struct port_share){(uint16_t)i, (uint16_t)in->nworkers};
		if (nat64_create(&engines[i], &c->globals, p, err, errlen) != 0)
			goto err;
		in->engine_log[i] = (struct engine_log){in, engines[i]};
		nat64_set_log_hook(engines[i], on_bib_event, &in->engine_log[i]);
	}
	if (workers_create(&in->workers, in->nworkers, in->tun_fds, engines, in->opt.offload, err,
			   errlen) != 0)
		return -1; /* it destroyed the engines */
	in->engine = engines[0];
	return 0;
err:
	while (i-- > 0)
		nat64_destroy(engines[i]);
	return -1;
}

static int
engine_create(struct instance *in, const struct config *c, char *err, size_t errlen)
{
	struct nat64_params p = {
		.own4 = in->opt.own4,
		.own6 = in->opt.own6,
		.mtu4 = in->opt.mtu,
		.mtu6 = in->opt.mtu,
		/* nat64.h: the kernel decrements TTL/hop limit on the way into the
		 * TUN device and again on the way out; give one unit back. */
		.tun_hop_compensation = true,
		.icmp_errors_per_sec = in->opt.icmp_rate,
	};

	if (!in->opt.own6_given) {
		struct in_addr dummy;

		inet_pton(AF_INET, OPTIONS_OWN4_DEFAULT, &dummy);
		rfc6052_embed(&c->globals.pool6, dummy, &p.own6);
	}
	if (getrandom(&p.key, sizeof(p.key), 0) != (ssize_t)sizeof(p.key)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	return create_workers(in, c, &p, err, errlen);
}

/* --workers, or one per CPU. */
static unsigned int
workers_wanted(const struct options *o)
{
	long cpus;

	if (o->workers != 0)
		return o->workers;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus > OPTIONS_WORKERS_MAX ? OPTIONS_WORKERS_MAX : (unsigned int)cpus;
}

/* Steering for several queues, or one worker (the other queues closed). */
static int
steer_queues(struct instance *in, char *err, size_t errlen)
{
	char why[256];
	int r;

	if (in->nworkers == 1)
		return 0;
	r = steer_attach(in->tun_fds[0], in->nworkers, why, sizeof(why));
	if (r == 0) {
		log_info("TUN device %s: %u queues, eBPF steering by port share and IPv6 source",
			 in->tun_name, in->nworkers);
		return 0;
	}
	log_warnx("TUN device %s: no eBPF steering (%s): running 1 worker instead of %u",
		  in->tun_name, why, in->nworkers);
	while (in->nworkers > 1)
		tun_close(in->tun_fds[--in->nworkers]);
	(void)err;
	(void)errlen;
	return 0;
}

/*
 * Several workers need a multi-queue device and the steering program that
 * sends each packet to the worker owning its state (io/steer.h); without
 * steering, one worker.
 */
static int
open_queues(struct instance *in, char *err, size_t errlen)
{
	unsigned int want = workers_wanted(&in->opt);
	int flags = pump_tun_flags(in->opt.offload);
	int r;

	if (want > 1)
		r = tun_open_queues(in->opt.tun, in->opt.mtu, flags, want, in->tun_fds,
				    in->tun_name);
	else
		r = in->tun_fds[0] = tun_open(in->opt.tun, in->opt.mtu, flags, in->tun_name);
	if (r < 0) {
		snprintf(err, errlen, "TUN device %s: %s%s", in->opt.tun, strerror(-r),
			 r == -EBUSY ? " (another nat64d instance has it? use -i or --tun)" : "");
		return -1;
	}
	in->nworkers = want;
	return steer_queues(in, err, errlen);
}

static int
open_tun(struct instance *in, char *err, size_t errlen)
{
	if (open_queues(in, err, errlen))
		return -1;
	in->tun_fd = in->tun_fds[0];
	in->tun_ifindex = tun_ifindex(in->tun_name);
	if (in->tun_ifindex < 0) {
		snprintf(err, errlen, "TUN device %s: %s", in->tun_name,
			 strerror(-in->tun_ifindex));
		return -1;
	}
	log_info("TUN device %s up, mtu %u", in->tun_name, in->opt.mtu);
	if (in->opt.offload)
		pump_offload_enable(in->tun_fd, in->tun_name);
	else
		log_info("%s: offloads off (--offload off)", in->tun_name);
	return 0;
}

static int
uplink_index(struct instance *in, char *err, size_t errlen)
{
	struct netlink_link link;
	int r;

	if (in->opt.uplink4 == NULL)
		return 0;
	r = netlink_link_get(in->nl, in->opt.uplink4, &link);
	if (r != 0) {
		snprintf(err, errlen, "--uplink4 %s: %s", in->opt.uplink4, strerror(-r));
		return -1;
	}
	return link.index;
}

static int
create_plumb(struct instance *in, char *err, size_t errlen)
{
	struct plumb_params p = {
		.tun_ifindex = in->tun_ifindex,
		.tun_name = in->tun_name,
		.uplink_name = in->opt.uplink4,
		.force = in->opt.force,
	};

	p.uplink_ifindex = uplink_index(in, err, errlen);
	if (p.uplink_ifindex < 0)
		return -1;
	return plumb_create(&in->plumb, in->nl, &p, err, errlen);
}

/* ---- control socket (ctl/) ---- */

static int
ctl_apply_file(void *ctx, const char *text, char *err, size_t errlen)
{
	struct instance *in = ctx;
	struct config c;
	int r;

	config_init(&c);
	if (config_parse_string(&c, text, "file handle", err, errlen) != 0)
		return -1;
	if (c.instance[0] != '\0' && strcmp(c.instance, in->opt.instance) != 0) {
		snprintf(err, errlen, "the file is for instance '%s', not '%s'", c.instance,
			 in->opt.instance);
		r = -1;
	} else {
		r = instance_apply(in, &c, err, errlen);
	}
	config_free(&c);
	return r;
}

static void
ctl_log(void *ctx, enum ctl_log_level level, const char *line)
{
	(void)ctx;
	if (level == CTL_LOG_WARNING)
		log_warnx("%s", line);
	else if (level == CTL_LOG_INFO)
		log_info("%s", line);
	else
		log_debug("%s", line);
}

static uint64_t
ctl_now(void *ctx)
{
	(void)ctx;
	return clock_mono_ms();
}

static int
nonempty_cb(void *ctx, const struct pool4_set_info *set)
{
	(void)ctx;
	(void)set;
	return 1;
}

static bool
pool4_is_empty(const struct pool4 *p)
{
	for (int proto = 0; proto < L4_COUNT; proto++)
		if (pool4_foreach_set(p, (enum l4proto)proto, nonempty_cb, NULL))
			return false;
	return true;
}

/* ctl_hooks.pool4_prepare: plan and add the plumbing of pool4 `next`. */
static int
ctl_pool4_prepare(void *ctx, const struct pool4 *next, char *err, size_t errlen)
{
	struct instance *in = ctx;
	struct in_addr own[OWN_MAX];
	size_t nown;

	if (own_addresses(in, own, &nown, err, errlen))
		return -1;
	in->ctl_fallback = pool4_is_empty(next);
	if (plumb_plan_make(in->plumb, &nat64_globals(in->engine)->pool6, next, in->ctl_fallback,
			    own, nown, &in->ctl_plan, err, errlen))
		return -1;
	if (plumb_add(in->plumb, in->ctl_plan, err, errlen)) {
		plumb_plan_free(in->ctl_plan);
		in->ctl_plan = NULL;
		return -1;
	}
	return 0;
}

/* ctl_hooks.pool4_finish: commit (and the empty-pool4 fallback) or undo. */
static void
ctl_pool4_finish(void *ctx, bool applied)
{
	struct instance *in = ctx;
	struct in_addr own[OWN_MAX];
	size_t nown = 0;
	char err[256];

	if (applied) {
		plumb_commit(in->plumb, in->ctl_plan);
		if (own_addresses(in, own, &nown, err, sizeof(err)) ||
		    fallback_all(in, in->ctl_fallback, own, nown, err, sizeof(err)))
			log_warnx("%s", err);
	} else {
		plumb_rollback(in->plumb);
	}
	plumb_plan_free(in->ctl_plan);
	in->ctl_plan = NULL;
}

static struct nat64 *
ctl_acquire(void *ctx, unsigned int i)
{
	struct instance *in = ctx;

	return workers_acquire(in->workers, i);
}

static void
ctl_release(void *ctx, unsigned int i)
{
	struct instance *in = ctx;

	workers_release(in->workers, i);
}

static int
ctl_open(struct instance *in, char *err, size_t errlen)
{
	struct ctl_hooks hooks = {
		.ctx = in,
		.apply_file = ctl_apply_file,
		.pool4_prepare = ctl_pool4_prepare,
		.pool4_finish = ctl_pool4_finish,
		.log = ctl_log,
		.now = ctl_now,
	};
	struct ctl_config cc = {
		.instance = in->opt.instance,
		.dir = in->opt.ctl_dir,
		.group = in->opt.ctl_group,
	};

	/* The control socket pauses one worker at a time (workers.h). */
	struct ctl_engines engines = {
		.count = in->nworkers,
		.acquire = ctl_acquire,
		.release = ctl_release,
		.ctx = in,
	};

	in->ctl = ctl_server_open(&cc, &engines, &hooks, err, errlen);
	if (in->ctl == NULL)
		return -1;
	log_info("control socket %s", ctl_server_path(in->ctl));
	return 0;
}

static int
setup_loop(struct instance *in, char *err, size_t errlen)
{
	int r;

	r = loop_create(&in->loop);
	if (r == 0)
		r = loop_set_timer(in->loop, 1000, on_tick, in);
	if (r == 0 && ctl_open(in, err, errlen) != 0)
		return -1;
	if (r == 0)
		r = loop_add_fd(in->loop, ctl_server_fd(in->ctl), EPOLLIN, ctl_server_on_event,
				in->ctl);
	if (r == 0)
		r = loop_add_signal(in->loop, SIGTERM, on_signal, in);
	if (r == 0)
		r = loop_add_signal(in->loop, SIGINT, on_signal, in);
	if (r == 0)
		r = loop_add_signal(in->loop, SIGHUP, on_signal, in);
	if (r != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-r));
		return -1;
	}
	return workers_start(in->workers, err, errlen);
}

int
instance_start(struct instance *in, const struct options *o, const struct config *c, char *err,
	       size_t errlen)
{
	int r;

	memset(in, 0, sizeof(*in));
	in->opt = *o;
	in->tun_fd = -1;
	/* A future control socket must not die writing to a gone client. */
	signal(SIGPIPE, SIG_IGN);
	if (check_forwarding(o->enable_forwarding, err, errlen))
		return -1;
	r = netlink_open(&in->nl);
	if (r != 0) {
		snprintf(err, errlen, "netlink: %s", strerror(-r));
		return -1;
	}
	if (open_tun(in, err, errlen) || engine_create(in, c, err, errlen) ||
	    create_plumb(in, err, errlen))
		goto err_stop;
	log_pool6(&c->globals);
	if (apply_first(in, c, err, errlen) || setup_loop(in, err, errlen))
		goto err_stop;
	return 0;
err_stop:
	instance_stop(in);
	return -1;
}

int
instance_run(struct instance *in)
{
	int r;

	log_info("ready");
	r = loop_run(in->loop);
	if (r != 0) {
		errno = -r;
		log_warn("event loop");
		return -1;
	}
	return 0;
}

void
instance_stop(struct instance *in)
{
	/* Workers first: `stopping` is then only read by this thread. */
	workers_stop(in->workers);
	in->stopping = true;
	if (in->ctl) {
		loop_del_fd(in->loop, ctl_server_fd(in->ctl));
		ctl_server_close(in->ctl);
		in->ctl = NULL;
	}
	plumb_destroy(in->plumb);
	in->plumb = NULL;
	workers_destroy(in->workers); /* and the engines */
	in->workers = NULL;
	in->engine = NULL;
	for (unsigned int i = 0; i < in->nworkers; i++)
		tun_close(in->tun_fds[i]);
	in->nworkers = 0;
	in->tun_fd = -1;
	if (in->nl)
		netlink_close(in->nl);
	in->nl = NULL;
	loop_destroy(in->loop);
	in->loop = NULL;
}
