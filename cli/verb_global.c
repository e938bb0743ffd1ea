/*
 * nat64 global display|update, through the one table of global keys
 * (core/globals.h): names, syntax and checks are those of the
 * configuration file and of the daemon.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "globals.h"
#include "table.h"
#include "verbs.h"

/* "1280,1006" -> [1280, 1006] */
static json_t *
plateaus_json(const char *text)
{
	json_t *list = json_array();

	while (*text) {
		char *end;
		long v = strtol(text, &end, 10);

		if (end == text)
			break;
		json_array_append_new(list, json_integer(v));
		text = *end == ',' ? end + 1 : end;
	}
	return list;
}

/* The value as the configuration file types it. */
static json_t *
typed(const char *key, const char *value)
{
	const struct global_key *k = globals_find(key);

	switch (k ? k->type : GT_TIME) {
	case GT_BOOL:
		return json_boolean(strcmp(value, "true") == 0);
	case GT_U8:
	case GT_U32:
		return json_integer(strtoll(value, NULL, 10));
	case GT_PREFIX6:
		return value[0] == '(' ? json_null() : json_string(value);
	case GT_PLATEAUS:
		return plateaus_json(value);
	default:
		return json_string(value);
	}
}

int
verb_global_display(struct cli *c, const struct args *a)
{
	static const char *const header[] = {"Key", "Value"};
	json_t *reply, *out = json_object();
	size_t i;
	int rc = client_call(c, client_request("global.display"), &reply);

	if (rc) {
		json_decref(out);
		return rc;
	}
	if (a->set[OPT_CSV] && !a->set[OPT_NO_HEADERS])
		csv_row(c->out, 2, header);
	for (i = 0; i < json_array_size(json_object_get(reply, "globals")); i++) {
		json_t *row = json_array_get(json_object_get(reply, "globals"), i);
		const char *fields[2] = {json_string_value(json_array_get(row, 0)),
					 json_string_value(json_array_get(row, 1))};

		if (fields[0] == NULL || fields[1] == NULL)
			continue;
		if (a->set[OPT_JSON])
			json_object_set_new(out, fields[0], typed(fields[0], fields[1]));
		else if (a->set[OPT_CSV])
			csv_row(c->out, 2, fields);
		else
			fprintf(c->out, "  %s: %s\n", fields[0], fields[1]);
	}
	if (a->set[OPT_JSON]) {
		json_dumpf(out, c->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', c->out);
	}
	json_decref(out);
	json_decref(reply);
	return 0;
}

int
verb_global_update(struct cli *c, const struct args *a)
{
	const struct global_key *k = globals_find(a->pos[0]);
	struct globals scratch;
	char err[512];
	json_t *req, *reply;
	int rc;

	if (k == NULL)
		return cli_fail(EXIT_USAGE,
				"unknown global key '%s' (nat64 global update --help "
				"lists them)",
				a->pos[0]);
	/* The syntax is checked here too, so a typo is a usage error; the
	 * daemon checks again against its state (pool6 can't change ...). */
	globals_default(&scratch);
	if (globals_parse(&scratch, k, a->pos[1], err, sizeof(err)) < 0)
		return cli_fail(EXIT_USAGE, "%s", err);
	req = client_request("global.update");
	json_object_set_new(req, "key", json_string(k->name));
	json_object_set_new(req, "value", json_string(a->pos[1]));
	rc = client_call(c, req, &reply);
	json_decref(reply);
	return rc;
}

void
verb_global_keys(FILE *f)
{
	fputs("\nKeys (values as in Jool: true/false, numbers, times [HH:[MM:]]SS[.mmm]):\n", f);
	for (const struct global_key *k = globals_keys(); k->name; k++)
		fprintf(f, "  %-30s %s\n", k->name, k->help);
}
