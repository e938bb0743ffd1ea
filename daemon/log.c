/*
 * Stderr logging, one line per call. The line is formatted into a buffer
 * first and written with one write(2): stderr may be a pipe shared with
 * other processes (a test harness, the journal), where a line split in
 * several writes could interleave with theirs.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LOG_LINE_MAX = 1024 };

static char log_instance[16] = "default";
static bool log_is_verbose;

void
log_init(const char *instance, bool verbose)
{
	snprintf(log_instance, sizeof(log_instance), "%s", instance);
	log_is_verbose = verbose;
}

bool
log_verbose(void)
{
	return log_is_verbose;
}

/* Formats "nat64d[INSTANCE] LEVEL: message[: strerror]\n" and writes it. */
static void vlog(const char *level, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
vlog(const char *level, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	size_t n;
	int r;

	r = snprintf(line, sizeof(line), "nat64d[%s] %s: ", log_instance, level);
	n = r > 0 ? (size_t)r : 0;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2; /* cut, but keep the newline */
	if (errnum != 0) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
		if (r > 0)
			n += (size_t)r;
		if (n >= sizeof(line) - 1)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", errnum, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_is_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug", 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", errnum, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
