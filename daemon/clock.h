/*
 * The two clocks of the daemon, in milliseconds. The engine runs on the
 * monotonic one (jumps of the wall clock must not expire sessions); log
 * lines that carry an engine time convert it to wall time.
 */
#ifndef NAT64_DAEMON_CLOCK_H
#define NAT64_DAEMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wall time (ms since the epoch) of the monotonic instant `mono`. */
static inline uint64_t
clock_mono_to_wall(uint64_t mono)
{
	return clock_wall_ms() - clock_mono_ms() + mono;
}

#endif
