/*
 * Instance-wide commands: hello, counters, global settings (through the
 * one table of core/globals.h) and atomic configuration files (handed to
 * the daemon's parser).
 */
#include "cmd.h"

#include "nat64.h"
#include "server.h"
#include "wire.h"

int
cmd_hello(struct request *r)
{
	jsonw_key(r->w, "version");
	jsonw_u64(r->w, CTL_VERSION);
	jsonw_key(r->w, "page");
	jsonw_u64(r->w, CTL_PAGE);
	return 0;
}

static void
write_stat(struct jsonw *w, const char *name, uint64_t value, const char *explain)
{
	jsonw_arr_open(w);
	jsonw_str(w, name);
	jsonw_u64(w, value);
	jsonw_str(w, explain);
	jsonw_arr_close(w);
}

/* Rows [name, value, explanation]: every counter of STAT_LIST (OK
 * excepted), then two gauges as Jool shows them. */
int
cmd_stats_display(struct request *r)
{
	const struct stats *st = nat64_stats(r->engine);
	const struct bib *db = nat64_bib(r->engine);
	uint64_t entries = 0;

	for (int p = 0; p < L4_COUNT; p++)
		entries += bib_count(db, (enum l4proto)p);
	jsonw_key(r->w, "stats");
	jsonw_arr_open(r->w);
	for (int id = STAT_OK + 1; id < STAT_COUNT; id++)
		write_stat(r->w, stat_name((enum stat_id)id), st->count[id],
			   stat_explain((enum stat_id)id));
	write_stat(r->w, "BIB_ENTRIES", entries, "BIB entries now (gauge).");
	write_stat(r->w, "SESSIONS", session_count(db, L4_COUNT), "Sessions now (gauge).");
	jsonw_arr_close(r->w);
	return 0;
}

/* Rows [key, value]: the values as globals_print() writes them, in the
 * order of the globals table. */
int
cmd_global_display(struct request *r)
{
	const struct globals *g = nat64_globals(r->engine);
	char value[512];

	jsonw_key(r->w, "globals");
	jsonw_arr_open(r->w);
	for (const struct global_key *k = globals_keys(); k->name; k++) {
		globals_print(g, k, value, sizeof(value));
		jsonw_arr_open(r->w);
		jsonw_str(r->w, k->name);
		jsonw_str(r->w, value);
		jsonw_arr_close(r->w);
	}
	jsonw_arr_close(r->w);
	return 0;
}

int
cmd_global_update(struct request *r)
{
	const char *name = request_str(r, "key");
	const struct global_key *k = globals_find(name);
	struct globals g = *nat64_globals(r->engine);

	if (k == NULL)
		return request_fail(r, "global: unknown key '%s'", name);
	if (globals_parse(&g, k, request_str(r, "value"), r->err, sizeof(r->err)) < 0)
		return -1;
	if (nat64_set_globals(r->engine, &g, r->err, sizeof(r->err)) < 0)
		return -1;
	r->changed |= CTL_CHANGE_GLOBALS;
	return 0;
}

int
cmd_file_handle(struct request *r)
{
	if (r->hooks == NULL || r->hooks->apply_file == NULL)
		return request_fail(r, "file handle: this daemon does not accept files");
	if (r->hooks->apply_file(r->hooks->ctx, request_str(r, "text"), r->err, sizeof(r->err)) <
	    0) {
		if (r->err[0] == '\0')
			return request_fail(r, "file handle: refused");
		return -1;
	}
	return 0;
}
