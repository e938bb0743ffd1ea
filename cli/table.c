#include "table.h"

#include <stdlib.h>
#include <string.h>

void
table_init(struct table *t, unsigned int ncols, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_COLS_MAX ? ncols : TABLE_COLS_MAX;
	for (unsigned int i = 0; i < t->ncols; i++) {
		t->headers[i] = headers[i];
		t->width[i] = strlen(headers[i]);
	}
}

static bool
grow(struct table *t)
{
	size_t cap = t->cap ? 2 * t->cap : 16;
	char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
	bool *sep;

	if (cells == NULL)
		return false;
	t->cells = cells;
	sep = realloc(t->separator, (cap + 1) * sizeof(*sep));
	if (sep == NULL)
		return false;
	memset(sep + t->cap, 0, (cap + 1 - t->cap) * sizeof(*sep));
	t->separator = sep;
	t->cap = cap;
	return true;
}

void
table_add_row(struct table *t, const char *const *cells)
{
	if (t->failed || (t->nrows == t->cap && !grow(t))) {
		t->failed = true;
		return;
	}
	for (unsigned int i = 0; i < t->ncols; i++) {
		size_t len = strlen(cells[i]);
		char *copy = strdup(cells[i]);

		if (copy == NULL)
			t->failed = true;
		t->cells[t->nrows * t->ncols + i] = copy ? copy : NULL;
		if (len > t->width[i])
			t->width[i] = len;
	}
	t->nrows++;
}

void
table_add_separator(struct table *t)
{
	if (t->failed || (t->nrows == t->cap && !grow(t))) {
		t->failed = true;
		return;
	}
	if (t->nrows > 0)
		t->separator[t->nrows] = true;
}

static void
rule(const struct table *t, FILE *f)
{
	for (unsigned int i = 0; i < t->ncols; i++) {
		fputc('+', f);
		for (size_t k = 0; k < t->width[i] + 2; k++)
			fputc('-', f);
	}
	fputs("+\n", f);
}

static void
line(const struct table *t, FILE *f, const char *const *cells)
{
	for (unsigned int i = 0; i < t->ncols; i++)
		fprintf(f, "| %*s ", (int)t->width[i], cells[i] ? cells[i] : "");
	fputs("|\n", f);
}

int
table_print(const struct table *t, FILE *f, bool headers)
{
	if (!headers && t->nrows == 0)
		return t->failed ? -1 : 0;
	rule(t, f);
	if (headers) {
		line(t, f, t->headers);
		rule(t, f);
	}
	for (size_t r = 0; r < t->nrows; r++) {
		if (t->separator[r])
			rule(t, f);
		line(t, f, (const char *const *)&t->cells[r * t->ncols]);
	}
	if (t->nrows > 0)
		rule(t, f);
	return t->failed ? -1 : 0;
}

void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->separator);
	memset(t, 0, sizeof(*t));
}

static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void
csv_row(FILE *f, unsigned int n, const char *const *fields)
{
	for (unsigned int i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		csv_field(f, fields[i]);
	}
	fputc('\n', f);
}
