/*
 * Output helpers: Jool's boxed tables (cells right-aligned, columns as wide
 * as their widest cell) and CSV (RFC 4180 quoting).
 *
 *   +------------+-------+
 *   |       Mark | Proto |
 *   +------------+-------+
 *   |          0 |   TCP |
 *   +------------+-------+
 */
#ifndef NAT64_CLI_TABLE_H
#define NAT64_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { TABLE_COLS_MAX = 8 };

struct table {
	unsigned int ncols;
	const char *headers[TABLE_COLS_MAX];
	size_t width[TABLE_COLS_MAX];
	char **cells;    /* nrows * ncols copies */
	bool *separator; /* a rule above row i */
	size_t nrows, cap;
	bool failed; /* out of memory: printing says so */
};

void table_init(struct table *t, unsigned int ncols, const char *const *headers);
/* `cells` has ncols strings (copied). */
void table_add_row(struct table *t, const char *const *cells);
/* A horizontal rule before the next row. */
void table_add_separator(struct table *t);
/* 0, or -1 when a row could not be stored. */
int table_print(const struct table *t, FILE *f, bool headers);
void table_free(struct table *t);

/* One CSV record of `n` fields, quoted where needed, and a newline. */
void csv_row(FILE *f, unsigned int n, const char *const *fields);

#endif
