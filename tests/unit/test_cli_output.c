/*
 * Output of `nat64` and of the daemon's replies: cli/table.c (Jool's boxed
 * tables, RFC 4180 CSV), ctl/jsonw.c (the streaming JSON writer) and
 * ctl/buf.c (the growable buffer behind both). Byte-exact expectations.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonw.h"
#include "table.h"

/* What `print` writes to a FILE, as a malloc'd string. */
static char *
capture(void (*print)(FILE *f, void *arg), void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	print(f, arg);
	fclose(f);
	return text;
}

static void
print_table(FILE *f, void *arg)
{
	cr_assert_eq(table_print(arg, f, true), 0);
}

static void
print_table_headless(FILE *f, void *arg)
{
	cr_assert_eq(table_print(arg, f, false), 0);
}

Test(cli_table, columns_grow_to_the_widest_cell_and_cells_align_right)
{
	static const char *const head[] = {"Mark", "Address"};
	struct table t;
	char *out;

	table_init(&t, 2, head);
	table_add_row(&t, (const char *const[]){"0", "192.0.2.2"});
	table_add_row(&t, (const char *const[]){"", "10.0.0.0/16"});
	table_add_separator(&t);
	table_add_row(&t, (const char *const[]){"4294967295", "198.51.100.7"});
	out = capture(print_table, &t);
	cr_assert_str_eq(out, "+------------+--------------+\n"
			      "|       Mark |      Address |\n"
			      "+------------+--------------+\n"
			      "|          0 |    192.0.2.2 |\n"
			      "|            |  10.0.0.0/16 |\n"
			      "+------------+--------------+\n"
			      "| 4294967295 | 198.51.100.7 |\n"
			      "+------------+--------------+\n");
	free(out);
	out = capture(print_table_headless, &t);
	cr_assert_str_eq(out, "+------------+--------------+\n"
			      "|          0 |    192.0.2.2 |\n"
			      "|            |  10.0.0.0/16 |\n"
			      "+------------+--------------+\n"
			      "| 4294967295 | 198.51.100.7 |\n"
			      "+------------+--------------+\n");
	free(out);
	table_free(&t);
}

Test(cli_table, empty_table_is_its_header_or_nothing)
{
	static const char *const head[] = {"A"};
	struct table t;
	char *out;

	table_init(&t, 1, head);
	/* A separator before any row draws nothing. */
	table_add_separator(&t);
	out = capture(print_table, &t);
	cr_assert_str_eq(out, "+---+\n| A |\n+---+\n");
	free(out);
	out = capture(print_table_headless, &t);
	cr_assert_str_eq(out, "");
	free(out);
	table_free(&t);
}

Test(cli_table, many_rows_grow_the_storage)
{
	static const char *const head[] = {"N"};
	struct table t;
	char num[16], *out;

	table_init(&t, 1, head);
	for (int i = 0; i < 1000; i++) {
		snprintf(num, sizeof(num), "%d", i);
		table_add_row(&t, (const char *const[]){num});
	}
	cr_assert_eq(t.nrows, 1000);
	out = capture(print_table_headless, &t);
	cr_assert_not_null(strstr(out, "| 999 |\n+-----+\n"));
	cr_assert_not_null(strstr(out, "+-----+\n|   0 |\n"));
	free(out);
	table_free(&t);
}

static void
print_csv(FILE *f, void *arg)
{
	(void)arg;
	csv_row(f, 4, (const char *const[]){"plain", "with,comma", "say \"hi\"", "two\nlines"});
	csv_row(f, 1, (const char *const[]){""});
}

Test(cli_table, csv_quotes_only_what_needs_it)
{
	char *out = capture(print_csv, NULL);

	/* RFC 4180 §2: fields with commas, quotes or line breaks are quoted,
	 * quotes doubled. */
	cr_assert_str_eq(out, "plain,\"with,comma\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n");
	free(out);
}

Test(ctl_jsonw, commas_nesting_and_escapes)
{
	struct buf b;
	struct jsonw w;
	json_t *parsed;

	buf_init(&b, 0);
	jsonw_init(&w, &b);
	jsonw_obj_open(&w);
	jsonw_key(&w, "ok");
	jsonw_bool(&w, true);
	jsonw_key(&w, "rows");
	jsonw_arr_open(&w);
	jsonw_arr_open(&w);
	jsonw_str(&w, "192.0.2.2");
	jsonw_u64(&w, 9223372036854775807u);
	jsonw_null(&w);
	jsonw_arr_close(&w);
	jsonw_arr_open(&w);
	jsonw_arr_close(&w);
	jsonw_arr_close(&w);
	jsonw_key(&w, "error");
	jsonw_str(&w, "quote \" backslash \\ tab \t nl \n bell \a");
	jsonw_obj_close(&w);
	buf_putc(&b, '\0');
	cr_assert_not(buf_failed(&b));
	cr_assert_str_eq((char *)b.data,
			 "{\"ok\":true,\"rows\":[[\"192.0.2.2\",9223372036854775807,null],[]],"
			 "\"error\":\"quote \\\" backslash \\\\ tab \\t nl \\n bell \\u0007\"}");
	parsed = json_loads((char *)b.data, 0, NULL);
	cr_assert_not_null(parsed, "not valid JSON");
	cr_assert_str_eq(json_string_value(json_object_get(parsed, "error")),
			 "quote \" backslash \\ tab \t nl \n bell \a");
	json_decref(parsed);
	buf_free(&b);
}

Test(ctl_jsonw, nesting_past_the_limit_fails_the_buffer)
{
	struct buf b;
	struct jsonw w;

	buf_init(&b, 0);
	jsonw_init(&w, &b);
	for (int i = 0; i < JSONW_DEPTH; i++)
		jsonw_arr_open(&w);
	cr_assert_not(buf_failed(&b));
	jsonw_arr_open(&w);
	cr_assert(buf_failed(&b));
	buf_free(&b);
}

Test(ctl_buf, limit_refuses_growth_and_reset_forgets_the_failure)
{
	struct buf b;
	char big[300];

	memset(big, 'x', sizeof(big));
	buf_init(&b, 256);
	buf_append(&b, big, 200);
	cr_assert_eq(b.len, 200);
	buf_append(&b, big, 100); /* past the limit: refused whole */
	cr_assert(buf_failed(&b));
	cr_assert_eq(b.len, 200);
	buf_putc(&b, 'y'); /* nothing after a failure */
	cr_assert_eq(b.len, 200);
	buf_reset(&b);
	cr_assert_not(buf_failed(&b));
	buf_printf(&b, "%s-%d", "abc", 42);
	cr_assert_eq(b.len, 6);
	cr_assert(memcmp(b.data, "abc-42", 6) == 0);
	buf_consume(&b, 4);
	cr_assert(b.len == 2 && memcmp(b.data, "42", 2) == 0);
	buf_free(&b);
}

Test(ctl_buf, printf_longer_than_the_first_guess)
{
	struct buf b;
	char expect[1001];

	memset(expect, 'z', 1000);
	expect[1000] = '\0';
	buf_init(&b, 0);
	buf_printf(&b, "%s", expect);
	cr_assert_eq(b.len, 1000);
	cr_assert(memcmp(b.data, expect, 1000) == 0);
	buf_free(&b);
}
