#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "names.h"
#include "table.h"
#include "wire.h"

/* A daemon busy forwarding answers in milliseconds; this is for a hung one. */
enum { REPLY_TIMEOUT_S = 60 };

json_t *
client_request(const char *cmd)
{
	return json_pack("{s:i, s:s}", "version", CTL_VERSION, "cmd", cmd);
}

static int
connect_daemon(struct cli *c)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return cli_fail(EXIT_REJECTED, "socket: %s", strerror(errno));
	memcpy(sun.sun_path, c->socket, strlen(c->socket) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return cli_fail(EXIT_REJECTED, "%s: %s (is nat64d running?)", c->socket,
					strerror(e));
		if (e == EACCES || e == EPERM)
			return cli_fail(EXIT_REJECTED,
					"%s: %s (the control socket is root's, or its group's)",
					c->socket, strerror(e));
		return cli_fail(EXIT_REJECTED, "%s: %s", c->socket, strerror(e));
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	return 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, void *p, size_t n)
{
	char *b = p;

	while (n > 0) {
		ssize_t r = recv(fd, b, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
send_request(struct cli *c, json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT);
	uint8_t hdr[CTL_HEADER_LEN];
	size_t len;
	int rc = 0;

	if (text == NULL)
		return cli_fail(EXIT_REJECTED, "out of memory");
	len = strlen(text);
	if (len > CTL_REQUEST_MAX) {
		free(text);
		return cli_fail(EXIT_USAGE, "request of %zu bytes is too large (at most %d)", len,
				CTL_REQUEST_MAX);
	}
	wire_put_len(hdr, (uint32_t)len);
	if (write_all(c->fd, hdr, sizeof(hdr)) < 0 || write_all(c->fd, text, len) < 0)
		rc = cli_fail(EXIT_REJECTED, "%s: %s", c->socket, strerror(errno));
	free(text);
	return rc;
}

/* The reply's bytes into c->in (NUL-terminated). */
static int
receive_raw(struct cli *c)
{
	uint8_t hdr[CTL_HEADER_LEN];
	uint32_t len;

	if (read_all(c->fd, hdr, sizeof(hdr)) < 0)
		return cli_fail(EXIT_REJECTED, "%s: no reply: %s", c->socket, strerror(errno));
	len = wire_get_len(hdr);
	if (len == 0 || len > CTL_REPLY_MAX)
		return cli_fail(EXIT_REJECTED, "%s: reply of %u bytes refused", c->socket, len);
	buf_reset(&c->in);
	if (!buf_reserve(&c->in, (size_t)len + 1))
		return cli_fail(EXIT_REJECTED, "out of memory");
	if (read_all(c->fd, c->in.data, len) < 0)
		return cli_fail(EXIT_REJECTED, "%s: reply cut short: %s", c->socket,
				strerror(errno));
	c->in.len = len;
	c->in.data[len] = '\0';
	return 0;
}

static int
parse_reply(struct cli *c, json_t **reply)
{
	json_error_t error;

	*reply = json_loadb((const char *)c->in.data, c->in.len, 0, &error);
	if (*reply == NULL || !json_is_object(*reply)) {
		json_decref(*reply);
		return cli_fail(EXIT_REJECTED, "malformed reply: %s", error.text);
	}
	return 0;
}

/* The daemon's refusal, if the reply is one: printed, and the exit code. */
static int
check_ok(json_t **reply)
{
	const char *why;

	if (json_is_true(json_object_get(*reply, "ok")))
		return 0;
	why = json_string_value(json_object_get(*reply, "error"));
	cli_fail(EXIT_REJECTED, "%s", why ? why : "refused");
	json_decref(*reply);
	*reply = NULL;
	return EXIT_REJECTED;
}

/* Sends `req` (consumed) and reads the reply's bytes into c->in. */
static int
exchange(struct cli *c, json_t *req)
{
	int rc = 0;

	if (req == NULL)
		return cli_fail(EXIT_REJECTED, "out of memory");
	if (c->fd < 0)
		rc = connect_daemon(c);
	if (rc == 0)
		rc = send_request(c, req);
	json_decref(req);
	return rc ? rc : receive_raw(c);
}

int
client_call(struct cli *c, json_t *req, json_t **reply)
{
	int rc = exchange(c, req);

	*reply = NULL;
	if (rc == 0)
		rc = parse_reply(c, reply);
	return rc ? rc : check_ok(reply);
}

int
client_pages(struct cli *c, json_t *req, const char *key, client_row_fn row, void *ctx)
{
	json_t *cursor = json_integer(0);
	int rc = 0;

	while (rc == 0 && !json_is_null(cursor)) {
		json_t *reply, *items;
		size_t i;

		json_object_set(req, "cursor", cursor);
		json_incref(req);
		rc = client_call(c, req, &reply);
		if (rc)
			break;
		items = json_object_get(reply, key);
		for (i = 0; i < json_array_size(items); i++) {
			rc = row(ctx, json_array_get(items, i));
			if (rc)
				break;
		}
		json_decref(cursor);
		cursor = json_incref(json_object_get(reply, "cursor"));
		if (cursor == NULL)
			cursor = json_null();
		json_decref(reply);
	}
	json_decref(cursor);
	json_decref(req);
	return rc;
}

/* --- Scanning a page of plain-string rows -------------------------------- */

/*
 * A page of the big tables, as the daemon writes it:
 *   {"ok":true,"KEY":["row","row",...],"cursor":N or null}
 * Members may come in any order with any whitespace; the rows must be
 * plain strings (no backslash, no control character: addresses, numbers,
 * names). Anything else makes the scan fail and the reply is parsed.
 */
struct scan {
	char *p, *end;
	const char *key;
	bool call; /* second pass: cut the rows and hand them over */
	client_text_fn row;
	void *ctx;
	int rc;
	long long cursor; /* -1: null */
};

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
		s->p++;
}

static bool
take(struct scan *s, char c)
{
	skip_ws(s);
	if (s->p == s->end || *s->p != c)
		return false;
	s->p++;
	return true;
}

/* A string without escapes: its bytes are [*start, s->p - 1). */
static bool
plain_string(struct scan *s, char **start)
{
	char *q;

	if (!take(s, '"'))
		return false;
	*start = s->p;
	q = memchr(s->p, '"', (size_t)(s->end - s->p));
	if (q == NULL)
		return false;
	for (char *k = s->p; k < q; k++)
		if (*k == '\\' || (unsigned char)*k < 0x20)
			return false;
	s->p = q + 1;
	return true;
}

static bool
word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	skip_ws(s);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool
rows(struct scan *s)
{
	char *start;

	if (!take(s, '['))
		return false;
	if (take(s, ']'))
		return true;
	do {
		if (!plain_string(s, &start))
			return false;
		if (s->call && s->rc == 0) {
			s->p[-1] = '\0'; /* the closing quote; this pass is the last */
			s->rc = s->row(s->ctx, start);
		}
	} while (take(s, ','));
	return take(s, ']');
}

static bool
cursor_value(struct scan *s)
{
	char *end;

	if (word(s, "null")) {
		s->cursor = -1;
		return true;
	}
	skip_ws(s);
	if (s->p == s->end || *s->p < '0' || *s->p > '9')
		return false;
	s->cursor = strtoll(s->p, &end, 10);
	s->p = end;
	return true;
}

static bool
member(struct scan *s)
{
	char *name;
	size_t len;

	if (!plain_string(s, &name))
		return false;
	len = (size_t)(s->p - 1 - name);
	if (!take(s, ':'))
		return false;
	if (len == 2 && memcmp(name, "ok", 2) == 0)
		return word(s, "true");
	if (len == 6 && memcmp(name, "cursor", 6) == 0)
		return cursor_value(s);
	if (len == strlen(s->key) && memcmp(name, s->key, len) == 0)
		return rows(s);
	return false;
}

static bool
scan_page(struct scan *s)
{
	if (!take(s, '{'))
		return false;
	do {
		if (!member(s))
			return false;
	} while (take(s, ','));
	if (!take(s, '}'))
		return false;
	skip_ws(s);
	return s->p == s->end;
}

/* One page: scanned when it has the expected shape, else parsed. */
static int
page_rows(struct cli *c, const char *key, client_text_fn row, void *ctx, long long *cursor)
{
	struct scan s = {.key = key, .row = row, .ctx = ctx, .cursor = -1};
	json_t *reply, *items;
	size_t i;
	int rc;

	s.p = (char *)c->in.data;
	s.end = s.p + c->in.len;
	if (scan_page(&s)) {
		s.p = (char *)c->in.data;
		s.call = true;
		scan_page(&s);
		*cursor = s.cursor;
		return s.rc;
	}
	rc = parse_reply(c, &reply);
	if (rc == 0)
		rc = check_ok(&reply);
	if (rc)
		return rc;
	items = json_object_get(reply, key);
	for (i = 0; i < json_array_size(items); i++) {
		json_t *item = json_array_get(items, i);

		rc = json_is_string(item)
			     ? row(ctx, json_string_value(item))
			     : cli_fail(EXIT_REJECTED, "malformed row from the daemon");
		if (rc)
			break;
	}
	items = json_object_get(reply, "cursor");
	*cursor = json_is_integer(items) ? json_integer_value(items) : -1;
	json_decref(reply);
	return rc;
}

int
client_rows(struct cli *c, json_t *req, const char *key, client_text_fn row, void *ctx)
{
	long long cursor = 0;
	int rc = 0;

	while (rc == 0 && cursor >= 0) {
		json_object_set_new(req, "cursor", json_integer(cursor));
		json_incref(req);
		rc = exchange(c, req);
		if (rc == 0)
			rc = page_rows(c, key, row, ctx, &cursor);
	}
	json_decref(req);
	return rc;
}

int
client_split(const char *row, char *buf, size_t len, const char **fields, int max)
{
	size_t n = strlen(row);
	int count = 0;
	char *p;

	if (n >= len)
		return -1;
	memcpy(buf, row, n + 1);
	for (p = buf; *p && count < max;) {
		fields[count++] = p;
		p = strchr(p, ' ');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return count;
}

void
client_close(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
}

int
client_display_rows(struct cli *c, const struct args *a, const char *cmd, const char *key,
		    unsigned int ncols, const char *const *csv_header, client_text_fn row)
{
	unsigned int mask = args_protos(a, a->legacy ? ALL_PROTOS : 1u << L4_TCP);
	struct rows_out o = {
		.f = c->out,
		.format = a->set[OPT_JSON]  ? FMT_JSON
			  : a->set[OPT_CSV] ? FMT_CSV
					    : FMT_TABLE,
		.numeric = a->set[OPT_NUMERIC],
	};
	bool several = mask & (mask - 1);
	int rc = 0;

	if (o.format == FMT_CSV && !a->set[OPT_NO_HEADERS])
		csv_row(c->out, ncols, csv_header);
	if (o.format == FMT_JSON)
		fputc('[', c->out);
	for (int p = 0; p < L4_COUNT && rc == 0; p++) {
		json_t *req;

		if (!(mask & 1u << p))
			continue;
		o.proto = wire_proto_name((enum l4proto)p);
		if (o.format == FMT_TABLE && several)
			fprintf(c->out, "%s:\n", o.proto);
		req = client_request(cmd);
		json_object_set_new(req, "protocol", json_string(o.proto));
		rc = client_rows(c, req, key, row, &o);
	}
	if (o.format == FMT_JSON)
		fputs(o.count ? "\n]\n" : "]\n", c->out);
	names_free();
	return rc;
}
