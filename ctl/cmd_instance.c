/*
 * Instance-wide commands: hello, counters (summed over the engines), global
 * settings (through the one table of core/globals.h; the same in every
 * engine) and atomic configuration files (handed to the daemon's parser).
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

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

struct totals {
	uint64_t count[STAT_COUNT];
	uint64_t entries;
	uint64_t sessions;
};

/* Adds engine i's counters and gauges to `t`. */
static void
add_engine(struct request *r, unsigned int i, struct totals *t)
{
	const struct nat64 *n = request_acquire(r, i);
	const struct stats *st = nat64_stats(n);
	const struct bib *db = nat64_bib(n);

	for (int id = 0; id < STAT_COUNT; id++)
		t->count[id] += st->count[id];
	for (int p = 0; p < L4_COUNT; p++)
		t->entries += bib_count(db, (enum l4proto)p);
	t->sessions += session_count(db, L4_COUNT);
	request_release(r, i);
}

/* Rows [name, value, explanation]: every counter of STAT_LIST (OK
 * excepted), then two gauges as Jool shows them; each the sum over the
 * engines (a static BIB entry, in every engine, counts once per engine). */
int
cmd_stats_display(struct request *r)
{
	struct totals t;

	memset(&t, 0, sizeof(t));
	for (unsigned int i = 0; i < request_engine_count(r); i++)
		add_engine(r, i, &t);
	jsonw_key(r->w, "stats");
	jsonw_arr_open(r->w);
	for (int id = STAT_OK + 1; id < STAT_COUNT; id++)
		write_stat(r->w, stat_name((enum stat_id)id), t.count[id],
			   stat_explain((enum stat_id)id));
	write_stat(r->w, "BIB_ENTRIES", t.entries, "BIB entries now (gauge).");
	write_stat(r->w, "SESSIONS", t.sessions, "Sessions now (gauge).");
	jsonw_arr_close(r->w);
	return 0;
}

/* Rows [key, value]: the values as globals_print() writes them, in the
 * order of the globals table. Engine 0's: every engine has the same. */
int
cmd_global_display(struct request *r)
{
	struct globals copy = *nat64_globals(request_acquire(r, 0));
	const struct globals *g = &copy;
	char value[512];

	request_release(r, 0);
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

/* Engine i takes settings `g`: 0, or -1 with the reason in `err`. */
static int
set_globals(struct request *r, unsigned int i, const struct globals *g, char *err, size_t errlen)
{
	int rc = nat64_set_globals(request_acquire(r, i), g, err, errlen);

	request_release(r, i);
	return rc;
}

/* Engines 0 .. count - 1 go back to `old` after engine `count` refused
 * (its reason is in r->err already). Returns -1. */
static int
undo_globals(struct request *r, unsigned int count, const struct globals *old)
{
	char why[256];
	size_t len;

	for (unsigned int i = 0; i < count; i++) {
		if (set_globals(r, i, old, why, sizeof(why)) == 0)
			continue;
		r->changed |= CTL_CHANGE_GLOBALS;
		len = strlen(r->err);
		snprintf(r->err + len, sizeof(r->err) - len,
			 " (and engine %u could not go back: %s)", i, why);
	}
	return -1;
}

/*
 * Engine 0 validates and takes the change (if it refuses, nothing changed),
 * then the others take the same settings, which can then only fail for
 * lack of memory (the reassembly arena): the engines done go back to the
 * old settings and the reply says why.
 */
int
cmd_global_update(struct request *r)
{
	const char *name = request_str(r, "key");
	const struct global_key *k = globals_find(name);
	struct globals old, g;

	if (k == NULL)
		return request_fail(r, "global: unknown key '%s'", name);
	old = *nat64_globals(request_acquire(r, 0));
	request_release(r, 0);
	g = old;
	if (globals_parse(&g, k, request_str(r, "value"), r->err, sizeof(r->err)) < 0 ||
	    set_globals(r, 0, &g, r->err, sizeof(r->err)) < 0)
		return -1;
	for (unsigned int i = 1; i < request_engine_count(r); i++)
		if (set_globals(r, i, &g, r->err, sizeof(r->err)) < 0)
			return undo_globals(r, i, &old);
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
