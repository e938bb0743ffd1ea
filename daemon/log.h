/*
 * Logging of nat64d, after OpenBSD's log.c: one line per event on stderr
 * (the daemon runs in the foreground; systemd or the shell collects it),
 * each with its level and the instance name:
 *
 *   nat64d[default] warning: tun write: No buffer space available
 *
 * log_warn() appends strerror(errno), log_warnx() does not; log_debug()
 * prints only in verbose mode (-v); fatal()/fatalx() log and exit(1) and
 * are for startup or a broken invariant of our own, never for a packet or
 * a client request. Every function preserves errno.
 *
 * Not thread-safe in log_init(); the printing functions write each line
 * with a single write(2), so lines of concurrent callers do not interleave.
 */
#ifndef NAT64_DAEMON_LOG_H
#define NAT64_DAEMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* `instance` is copied (at most 15 characters are kept). */
void log_init(const char *instance, bool verbose);
bool log_verbose(void);

void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
