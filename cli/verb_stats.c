/*
 * nat64 stats display: every counter of the engine (core/stats.h) with its
 * one-line meaning under --explain. Zero counters are hidden unless --all,
 * as Jool; --json always lists every counter, so scripts find them all.
 */
#include <jansson.h>

#include "cli.h"
#include "client.h"
#include "table.h"
#include "verbs.h"

static void
print_json(FILE *f, const json_t *stats, bool explain)
{
	json_t *out = json_object();
	size_t i;

	for (i = 0; i < json_array_size(stats); i++) {
		json_t *row = json_array_get(stats, i);
		const char *name = json_string_value(json_array_get(row, 0));
		json_t *value = json_array_get(row, 1);

		if (name == NULL)
			continue;
		if (explain)
			json_object_set_new(out, name,
					    json_pack("{s:O, s:O}", "value", value, "explain",
						      json_array_get(row, 2)));
		else
			json_object_set(out, name, value);
	}
	json_dumpf(out, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(out);
}

static void
print_rows(FILE *f, const json_t *stats, const struct args *a)
{
	bool csv = a->set[OPT_CSV], explain = a->set[OPT_EXPLAIN];
	static const char *const header[] = {"Stat", "Value", "Explanation"};
	size_t i;

	if (csv && !a->set[OPT_NO_HEADERS])
		csv_row(f, explain ? 3 : 2, header);
	for (i = 0; i < json_array_size(stats); i++) {
		json_t *row = json_array_get(stats, i);
		const char *name = json_string_value(json_array_get(row, 0));
		const char *text = json_string_value(json_array_get(row, 2));
		json_int_t value = json_integer_value(json_array_get(row, 1));
		char num[24];
		const char *fields[3] = {name, num, text ? text : ""};

		if (name == NULL || (value == 0 && !a->set[OPT_ALL]))
			continue;
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, value);
		if (csv)
			csv_row(f, explain ? 3 : 2, fields);
		else if (explain)
			fprintf(f, "%s: %s\n    %s\n", name, num, fields[2]);
		else
			fprintf(f, "%s: %s\n", name, num);
	}
}

int
verb_stats_display(struct cli *c, const struct args *a)
{
	json_t *reply;
	int rc = client_call(c, client_request("stats.display"), &reply);

	if (rc)
		return rc;
	if (a->set[OPT_JSON])
		print_json(c->out, json_object_get(reply, "stats"), a->set[OPT_EXPLAIN]);
	else
		print_rows(c->out, json_object_get(reply, "stats"), a);
	json_decref(reply);
	return 0;
}
