/*
 * The client side of the control protocol (ctl/wire.h): one blocking
 * connection per run of `nat64`, opened on the first request.
 */
#ifndef NAT64_CLI_CLIENT_H
#define NAT64_CLI_CLIENT_H

#include <jansson.h>

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

void client_close(struct cli *c);

#endif
