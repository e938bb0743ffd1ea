#include "jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
jsonw_init(struct jsonw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* The comma before a value or a key, unless it follows a key. */
static void
separate(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->nonempty[w->depth - 1])
		buf_putc(w->b, ',');
	w->nonempty[w->depth - 1] = true;
}

static void
container_open(struct jsonw *w, char c)
{
	separate(w);
	if (w->depth == JSONW_DEPTH) {
		w->b->failed = true;
		return;
	}
	w->nonempty[w->depth++] = false;
	buf_putc(w->b, c);
}

static void
container_close(struct jsonw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	buf_putc(w->b, c);
}

void
jsonw_obj_open(struct jsonw *w)
{
	container_open(w, '{');
}

void
jsonw_obj_close(struct jsonw *w)
{
	container_close(w, '}');
}

void
jsonw_arr_open(struct jsonw *w)
{
	container_open(w, '[');
}

void
jsonw_arr_close(struct jsonw *w)
{
	container_close(w, ']');
}

void
jsonw_quote(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c == '\n') {
			buf_puts(b, "\\n");
		} else if (c == '\t') {
			buf_puts(b, "\\t");
		} else {
			char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};

			buf_puts(b, esc);
		}
	}
	buf_append(b, run, (size_t)(s - run));
	buf_putc(b, '"');
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	separate(w);
	jsonw_quote(w->b, key);
	buf_putc(w->b, ':');
	w->after_key = true;
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	separate(w);
	jsonw_quote(w->b, s);
}

void
jsonw_u64(struct jsonw *w, uint64_t v)
{
	char num[24];
	int n;

	separate(w);
	n = snprintf(num, sizeof(num), "%" PRIu64, v);
	buf_append(w->b, num, (size_t)n);
}

void
jsonw_bool(struct jsonw *w, bool v)
{
	separate(w);
	buf_puts(w->b, v ? "true" : "false");
}

void
jsonw_null(struct jsonw *w)
{
	separate(w);
	buf_puts(w->b, "null");
}
