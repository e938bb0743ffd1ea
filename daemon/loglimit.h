/*
 * At most N log lines per second for one kind of event (a TUN write error,
 * a dropped packet under logging-debug ...), so a flood of bad packets can't
 * flood the log. One struct loglimit per kind; the caller owns it and
 * passes the time, so this file reads no clock.
 *
 *   static struct loglimit rl = LOGLIMIT_INIT(5);
 *   uint64_t missed;
 *   if (loglimit_allow(&rl, now, &missed))
 *           log_warnx("... (%" PRIu64 " similar lines suppressed)", missed);
 */
#ifndef NAT64_DAEMON_LOGLIMIT_H
#define NAT64_DAEMON_LOGLIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct loglimit {
	uint32_t rl_burst;      /* lines allowed per window */
	uint32_t rl_used;       /* lines printed in the current window */
	uint64_t rl_window;     /* start of the current window, ms */
	uint64_t rl_suppressed; /* lines refused since the last one printed */
};

#define LOGLIMIT_INIT(burst)                                                                       \
	{                                                                                          \
		.rl_burst = (burst)                                                                \
	}

/* Window length: one second. */
enum { LOGLIMIT_WINDOW_MS = 1000 };

/*
 * True when a line may be printed at `now` (ms, monotonic); *suppressed
 * then receives how many were refused since the previous printed line (and
 * the count restarts). False counts one more refused line.
 */
bool loglimit_allow(struct loglimit *rl, uint64_t now, uint64_t *suppressed);

#endif
