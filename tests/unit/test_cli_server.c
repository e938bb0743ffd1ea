/*
 * ctl/server.c over a real UNIX socket in a scratch directory (no root
 * needed): the socket's mode, stale and live sockets, a request and its
 * reply through the server's own epoll set, an oversized request, and the
 * one-second pause of accept(2) when descriptors run out. Criterion runs
 * each test in its own process, so lowering RLIMIT_NOFILE stays local.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "engines.h"
#include "nat64_harness.h"
#include "server.h"
#include "wire.h"

struct fixture {
	char dir[64];
	struct harness h;
	struct ctl_server *s;
};

static void
open_server(struct fixture *f, gid_t group)
{
	struct ctl_config cfg = {.instance = "unit", .dir = f->dir, .group = group};
	struct ctl_engines engines = ctl_engines_one(&f->h.n);
	char err[256];

	f->s = ctl_server_open(&cfg, &engines, NULL, err, sizeof(err));
	cr_assert_not_null(f->s, "%s", err);
}

static void
setup(struct fixture *f)
{
	strcpy(f->dir, "/tmp/nat64-ctl-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	h_start_default(&f->h);
	open_server(f, (gid_t)-1);
}

static void
teardown(struct fixture *f)
{
	ctl_server_close(f->s);
	h_stop(&f->h);
	rmdir(f->dir);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	strcpy(sun.sun_path, path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
	return fd;
}

/* Runs the server's events for up to `ms`, as the daemon's loop would. */
static void
serve(struct ctl_server *s, int ms)
{
	struct pollfd p = {.fd = ctl_server_fd(s), .events = POLLIN};

	while (poll(&p, 1, ms) > 0)
		ctl_server_on_event(s, p.fd, EPOLLIN);
}

static void
send_msg(int fd, const char *json)
{
	uint8_t hdr[CTL_HEADER_LEN];

	wire_put_len(hdr, (uint32_t)strlen(json));
	cr_assert_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	cr_assert_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
}

/* One reply, NUL-terminated in `out`, or "" when the connection closed. */
static void
recv_msg(struct ctl_server *s, int fd, char *out, size_t len)
{
	uint8_t hdr[CTL_HEADER_LEN];
	size_t got = 0, want;

	for (int i = 0; i < 100 && got < sizeof(hdr); i++) {
		ssize_t r;

		serve(s, 10);
		r = recv(fd, hdr + got, sizeof(hdr) - got, MSG_DONTWAIT);
		if (r == 0) {
			out[0] = '\0';
			return;
		}
		if (r > 0)
			got += (size_t)r;
	}
	cr_assert_eq(got, sizeof(hdr), "no reply");
	want = wire_get_len(hdr);
	cr_assert_lt(want, len);
	cr_assert_eq(recv(fd, out, want, MSG_WAITALL), (ssize_t)want);
	out[want] = '\0';
}

Test(ctl_server, bad_names_and_live_sockets_are_refused)
{
	struct fixture f;
	struct ctl_config cfg = {.group = (gid_t)-1};
	char err[256];

	setup(&f);
	cfg.dir = f.dir;
	cfg.instance = "a/b";
	cr_assert_null(ctl_server_open(&cfg, NULL, NULL, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "invalid instance name 'a/b'"), "%s", err);
	/* "unit" is served by f.s: a second server must not steal it. */
	cfg.instance = "unit";
	cr_assert_null(ctl_server_open(&cfg, NULL, NULL, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "another nat64d is listening"), "%s", err);
	teardown(&f);
}

Test(ctl_server, socket_is_root_only_and_a_stale_one_is_replaced)
{
	struct fixture f;
	char path[CTL_PATH_MAX];
	struct stat st;

	setup(&f);
	snprintf(path, sizeof(path), "%s/unit.sock", f.dir);
	cr_assert_str_eq(ctl_server_path(f.s), path);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	ctl_server_close(f.s);
	cr_assert_neq(stat(path, &st), 0, "close did not unlink");
	/* A crash leaves the file behind, with nobody listening: the next
	 * server replaces it (and this one gives the socket to a group). */
	cr_assert_eq(mknod(path, S_IFSOCK | 0600, 0), 0);
	open_server(&f, getgid());
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0660);
	cr_assert_eq(st.st_gid, getgid());
	teardown(&f);
}

Test(ctl_server, request_reply_and_bad_length)
{
	struct fixture f;
	char reply[4096];
	uint8_t hdr[CTL_HEADER_LEN];
	int fd;

	setup(&f);
	fd = connect_to(ctl_server_path(f.s));
	send_msg(fd, "{\"version\":1,\"cmd\":\"hello\"}");
	recv_msg(f.s, fd, reply, sizeof(reply));
	cr_assert_str_eq(reply, "{\"ok\":true,\"version\":1,\"page\":2048}");
	send_msg(fd, "garbage");
	recv_msg(f.s, fd, reply, sizeof(reply));
	cr_assert_not_null(strstr(reply, "{\"ok\":false,\"error\":\"malformed request: "), "%s",
			   reply);
	/* Too long: an error, then the server hangs up. */
	wire_put_len(hdr, CTL_REQUEST_MAX + 1);
	cr_assert_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	recv_msg(f.s, fd, reply, sizeof(reply));
	cr_assert_str_eq(reply, "{\"ok\":false,\"error\":\"request of 1048577 bytes refused: "
				"1-1048576 bytes\"}");
	recv_msg(f.s, fd, reply, sizeof(reply));
	cr_assert_str_eq(reply, "");
	close(fd);
	teardown(&f);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

Test(ctl_server, accept_pauses_a_second_when_descriptors_run_out)
{
	struct fixture f;
	struct rlimit old, low;
	char reply[4096];
	int fd, probe;
	uint64_t start;

	setup(&f);
	cr_redirect_stderr(); /* the warning about accept */
	/* No descriptor left for accept(2). */
	probe = dup(0);
	cr_assert_geq(probe, 0);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)probe + 1; /* room for the client socket only */
	close(probe);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	fd = connect_to(ctl_server_path(f.s));
	serve(f.s, 50);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	send_msg(fd, "{\"version\":1,\"cmd\":\"hello\"}");
	/* The listener sleeps: nothing happens for about a second. */
	start = mono_ms();
	serve(f.s, 300);
	cr_assert_eq(recv(fd, reply, sizeof(reply), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	for (int i = 0; i < 20 && mono_ms() - start < 3000; i++)
		serve(f.s, 100);
	recv_msg(f.s, fd, reply, sizeof(reply));
	cr_assert_str_eq(reply, "{\"ok\":true,\"version\":1,\"page\":2048}");
	cr_assert_geq(mono_ms() - start, CTL_ACCEPT_PAUSE_MS - 400);
	close(fd);
	teardown(&f);
}
