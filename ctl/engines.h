/*
 * The engines the control socket acts on: one struct nat64 per worker
 * thread, each with its own BIB, sessions and counters, all with the same
 * pool4, globals and static BIB entries (the daemon keeps them so; the
 * commands of ctl/ change them in every engine, in order).
 *
 * Contract for the commands (request.c enforces it): at most ONE engine is
 * held at a time (acquire i, work, release i, then i + 1), for a bounded
 * amount of work (a page), and nothing calls back into the server or the
 * daemon's hooks while one is held. A worker paused in acquire() waits for
 * its release(), so holding two could deadlock against a worker that waits
 * for another, and holding one long stalls its packets.
 *
 * What the commands do with several engines:
 *   - configuration (pool4 entries and sets, globals) is read from engine 0;
 *   - changes (pool4 add/remove/flush, global update, static BIB entries)
 *     go to engine 0, 1, ... in order; if engine k > 0 fails (out of
 *     memory, or for bib add its own dynamic entry holding a taddr), the
 *     engines before it are put back and the reply is the error;
 *   - bib / session display walk engine 0's table, then engine 1's ...
 *     with one 64-bit cursor (walk.h); static BIB entries, in every
 *     engine, are shown once (engine 0's);
 *   - counters, gauges and pool4 ports in use are summed over the engines.
 */
#ifndef NAT64_CTL_ENGINES_H
#define NAT64_CTL_ENGINES_H

struct nat64;

struct ctl_engines {
	unsigned int count; /* >= 1 */
	/* Engine i, with its worker paused at a batch boundary until
	 * release(i): the caller may read and change it meanwhile. */
	struct nat64 *(*acquire)(void *ctx, unsigned int i);
	void (*release)(void *ctx, unsigned int i);
	void *ctx;
};

/*
 * A set of one engine that is used in the caller's own thread (no worker
 * to pause): acquire returns *engine at the time of the call, so it follows
 * an engine the caller replaces; release does nothing. The daemon without
 * workers and the unit tests use it.
 */
struct ctl_engines ctl_engines_one(struct nat64 **engine);

#endif
