/*
 * The client side of the control protocol (ctl/wire.h): one blocking
 * connection per run of `nat64`, opened on the first request.
 */
#ifndef NAT64_CLI_CLIENT_H
#define NAT64_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* {"version": 1, "cmd": cmd}: add the arguments, then client_call(). */
json_t *client_request(const char *cmd);

/*
 * Sends `req` (consumed) and waits for the reply. 0 with the reply object
 * in *reply (the caller decrefs it), or the exit code after printing the
 * reason: EXIT_REJECTED for the daemon's refusal or a broken connection.
 */
int client_call(struct cli *c, json_t *req, json_t **reply);

/* A row of a paged table: 0 to go on, or an exit code to stop. */
typedef int (*client_row_fn)(void *ctx, json_t *row);

/*
 * Reads every page of `req` (consumed): sets "cursor" on each request and
 * calls `row` for each item of the reply's array `key`. 0 or an exit code.
 */
int client_pages(struct cli *c, json_t *req, const char *key, client_row_fn row, void *ctx);

/* A row of the BIB or session table: one string of space-separated fields
 * (NUL-terminated, valid during the call). 0 to go on, or an exit code. */
typedef int (*client_text_fn)(void *ctx, const char *row);

/*
 * As client_pages() for the tables whose rows are plain strings (bib.display,
 * session.display): the replies are scanned, not parsed into a tree, since
 * there can be a million rows (replies of another shape are parsed).
 */
int client_rows(struct cli *c, json_t *req, const char *key, client_text_fn row, void *ctx);

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

/* What a row printer of `bib display` / `session display` writes to. */
struct rows_out {
	FILE *f;
	enum format format;
	bool numeric;
	const char *proto; /* "TCP", ... of the rows being printed */
	uint64_t count;    /* rows printed (JSON needs commas) */
};

/*
 * A paged display verb: for every protocol the arguments select (TCP by
 * default, all three in the legacy style), requests `cmd` and hands each
 * row of the reply's array `key` to `row` with a struct rows_out; writes
 * the CSV header (`ncols` fields) and the JSON brackets around them.
 */
int client_display_rows(struct cli *c, const struct args *a, const char *cmd, const char *key,
			unsigned int ncols, const char *const *csv_header, client_text_fn row);

/*
 * Splits a table row of the protocol (space-separated fields, e.g. a
 * session) into at most `max` fields, copied into `buf`. Returns the
 * number of fields, or -1 when the row does not fit.
 */
int client_split(const char *row, char *buf, size_t len, const char **fields, int max);

void client_close(struct cli *c);

#endif
