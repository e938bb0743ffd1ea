/*
 * A fixed window rather than a token bucket: log lines need no smooth
 * rate, only a bound, and a window makes "N lines, then silence until the
 * next second" easy to read in a log.
 */
#include "loglimit.h"

bool
loglimit_allow(struct loglimit *rl, uint64_t now, uint64_t *suppressed)
{
	if (now - rl->rl_window >= LOGLIMIT_WINDOW_MS || now < rl->rl_window) {
		rl->rl_window = now;
		rl->rl_used = 0;
	}
	if (rl->rl_used >= rl->rl_burst) {
		rl->rl_suppressed++;
		return false;
	}
	rl->rl_used++;
	*suppressed = rl->rl_suppressed;
	rl->rl_suppressed = 0;
	return true;
}
