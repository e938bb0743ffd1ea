/*
 * One control request: check it, run its command against the engine,
 * write the reply. The command table (request.c) names every command with
 * its arguments and their types, so an argument is checked once, before the
 * command runs, and a request with a missing, unknown or mistyped argument
 * changes nothing.
 */
#ifndef NAT64_CTL_REQUEST_H
#define NAT64_CTL_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jsonw.h"

struct nat64;
struct ctl_engines;
struct ctl_hooks;
struct ctl_server;
struct occupancy;

struct request {
	json_t *args; /* the request object, checked against the table */
	const struct ctl_engines *engines;
	int held; /* the engine acquired now, -1: none (engines.h: one at a time) */
	const struct ctl_hooks *hooks;
	const struct occupancy *occupancy; /* the watch's last counts */
	uint64_t now;                      /* ms, the engine's clock */
	unsigned int changed;              /* enum ctl_change bits the command set */
	struct jsonw *w;                   /* the reply: members after "ok": true */
	char err[512];                     /* the reason, when the command fails */
};

/*
 * Handles the request `text` (`len` bytes of JSON) against `engines` (NULL:
 * the translator is not running) and writes the reply JSON (no length
 * prefix) into `out`. Returns the enum ctl_change bits of what changed (0
 * when the request failed or only read).
 */
unsigned int request_handle(const struct ctl_engines *engines, const struct ctl_hooks *hooks,
			    const struct occupancy *occupancy, uint64_t now, const uint8_t *text,
			    size_t len, struct buf *out);

/* The engines, one at a time: acquire engine i (none may be held), work
 * on it without calling hooks, release it. */
unsigned int request_engine_count(const struct request *r);
struct nat64 *request_acquire(struct request *r, unsigned int i);
void request_release(struct request *r, unsigned int i);

/* Arguments, already checked: NULL / `dflt` when absent. */
const char *request_str(const struct request *r, const char *name);
uint64_t request_uint(const struct request *r, const char *name, uint64_t dflt);
bool request_bool(const struct request *r, const char *name);
/* The "limit" of a page (CTL_PAGE when absent). */
uint32_t request_limit(const struct request *r);
/* The "protocol" argument. */
int request_proto(const struct request *r);
/* Sets the one-line reason and returns -1. */
int request_fail(struct request *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
