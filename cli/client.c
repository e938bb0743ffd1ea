#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

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

static int
receive_reply(struct cli *c, json_t **reply)
{
	uint8_t hdr[CTL_HEADER_LEN];
	json_error_t error;
	uint32_t len;

	if (read_all(c->fd, hdr, sizeof(hdr)) < 0)
		return cli_fail(EXIT_REJECTED, "%s: no reply: %s", c->socket, strerror(errno));
	len = wire_get_len(hdr);
	if (len == 0 || len > CTL_REPLY_MAX)
		return cli_fail(EXIT_REJECTED, "%s: reply of %u bytes refused", c->socket, len);
	buf_reset(&c->in);
	if (!buf_reserve(&c->in, len))
		return cli_fail(EXIT_REJECTED, "out of memory");
	if (read_all(c->fd, c->in.data, len) < 0)
		return cli_fail(EXIT_REJECTED, "%s: reply cut short: %s", c->socket, strerror(errno));
	*reply = json_loadb((const char *)c->in.data, len, 0, &error);
	if (*reply == NULL || !json_is_object(*reply)) {
		json_decref(*reply);
		return cli_fail(EXIT_REJECTED, "malformed reply: %s", error.text);
	}
	return 0;
}

int
client_call(struct cli *c, json_t *req, json_t **reply)
{
	int rc = 0;

	*reply = NULL;
	if (req == NULL)
		return cli_fail(EXIT_REJECTED, "out of memory");
	if (c->fd < 0)
		rc = connect_daemon(c);
	if (rc == 0)
		rc = send_request(c, req);
	json_decref(req);
	if (rc == 0)
		rc = receive_reply(c, reply);
	if (rc)
		return rc;
	if (!json_is_true(json_object_get(*reply, "ok"))) {
		const char *why = json_string_value(json_object_get(*reply, "error"));

		rc = cli_fail(EXIT_REJECTED, "%s", why ? why : "refused");
		json_decref(*reply);
		*reply = NULL;
	}
	return rc;
}

int
client_pages(struct cli *c, json_t *req, const char *key, client_row_fn row, void *ctx)
{
	json_t *cursor = json_integer(0);
	int rc = 0;

	while (rc == 0 && !json_is_null(cursor)) {
		json_t *reply, *item;
		size_t i;

		json_object_set(req, "cursor", cursor);
		json_incref(req);
		rc = client_call(c, req, &reply);
		if (rc)
			break;
		json_array_foreach(json_object_get(reply, key), i, item) {
			rc = row(ctx, item);
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

void
client_close(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
}
