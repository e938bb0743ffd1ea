/*
 * A growable byte buffer: the control socket's per-client input and output,
 * and the text of every reply. An allocation failure is remembered
 * (buf_failed()) and later writes do nothing, so a writer can append a
 * whole reply and check once at the end.
 */
#ifndef NAT64_CTL_BUF_H
#define NAT64_CTL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit; /* 0: no limit; otherwise growth past it fails */
	bool failed;
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
/* Empties the buffer (keeps its memory) and forgets a failure. */
void buf_reset(struct buf *b);
/* Makes room for `n` more bytes; false (and failed) when impossible. */
bool buf_reserve(struct buf *b, size_t n);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_putc(struct buf *b, char c);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first `n` bytes (what a write consumed). */
void buf_consume(struct buf *b, size_t n);
bool buf_failed(const struct buf *b);

#endif
