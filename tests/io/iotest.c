#define _GNU_SOURCE
#include "iotest.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Not root: a skip on a developer's desk, a failure in CI (CI must never pass by skipping). */
static void
cannot_run(const char *why)
{
	const char *ci = getenv("CI");

	if (ci != NULL && strcmp(ci, "true") == 0)
		cr_assert_fail("io tests cannot run in CI: %s", why);
	cr_skip_test("io tests skipped: %s", why);
}

static bool
have_tool(const char *name)
{
	return iotest_sh("command -v %s >/dev/null 2>&1", name) == 0;
}

static void
mount_own_sysfs(void)
{
	/* As `ip netns exec` does: our mounts must not propagate to the host. */
	cr_assert_eq(mount("none", "/", NULL, MS_REC | MS_SLAVE, NULL), 0,
		     "mount --make-rslave /: %s", strerror(errno));
	umount2("/sys", MNT_DETACH);
	cr_assert_eq(mount("sysfs", "/sys", "sysfs", 0, NULL), 0, "mount sysfs: %s",
		     strerror(errno));
}

void
iotest_netns(void)
{
	static const char *const tools[] = {"ip", "nsenter", "arping", "sysctl"};

	if (geteuid() != 0)
		cannot_run("they need root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create network "
			   "namespaces; run `sudo make io-test`");
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
		cannot_run(errno == EPERM ? "unshare(CLONE_NEWNET) not permitted here"
					  : "unshare(CLONE_NEWNET) failed");
	mount_own_sysfs();
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!have_tool(tools[i])) {
			char why[128];

			snprintf(why, sizeof(why), "`%s` is missing (run scripts/install-deps.sh)",
				 tools[i]);
			cannot_run(why);
		}
	cr_assert_eq(iotest_sh("ip link set lo up"), 0);
}

static int
vsh(char *out, size_t size, const char *fmt, va_list ap)
{
	char cmd[1024];
	FILE *p;
	size_t len = 0;
	int st;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	if (out != NULL) {
		size_t n;

		while (len + 1 < size && (n = fread(out + len, 1, size - 1 - len, p)) > 0)
			len += n;
		out[len] = '\0';
	} else {
		char sink[512];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
iotest_sh(const char *fmt, ...)
{
	va_list ap;
	int st;

	va_start(ap, fmt);
	st = vsh(NULL, 0, fmt, ap);
	va_end(ap);
	return st;
}

int
iotest_capture(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int st;

	va_start(ap, fmt);
	st = vsh(buf, size, fmt, ap);
	va_end(ap);
	return st;
}

/* End of the JSON object starting at `p` ('{'), strings and nesting skipped. */
static const char *
object_end(const char *p)
{
	int depth = 0;
	bool in_str = false;

	for (; *p != '\0'; p++) {
		if (in_str) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				in_str = false;
		} else if (*p == '"') {
			in_str = true;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p;
		}
	}
	return NULL;
}

static bool
object_has_all(const char *obj, size_t len, va_list ap)
{
	const char *frag;

	while ((frag = va_arg(ap, const char *)) != NULL)
		if (memmem(obj, len, frag, strlen(frag)) == NULL)
			return false;
	return true;
}

bool
iotest_json_has(const char *json, ...)
{
	const char *p = strchr(json, '[');

	if (p == NULL)
		return false;
	for (p++; (p = strchr(p, '{')) != NULL;) {
		const char *end = object_end(p);
		va_list ap;
		bool ok;

		if (end == NULL)
			return false;
		va_start(ap, json);
		ok = object_has_all(p, (size_t)(end - p + 1), ap);
		va_end(ap);
		if (ok)
			return true;
		p = end + 1;
	}
	return false;
}

bool
iotest_read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return true;
}

int
iotest_peer_new(void)
{
	int self, peer;

	self = open("/proc/self/ns/net", O_RDONLY);
	cr_assert_geq(self, 0);
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	/* No O_CLOEXEC: the shells of IOTEST_PEER commands reach it through /proc. */
	peer = open("/proc/self/ns/net", O_RDONLY);
	cr_assert_geq(peer, 0);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0, "setns back: %s", strerror(errno));
	close(self);
	cr_assert_eq(iotest_sh(IOTEST_PEER "ip link set lo up", getpid(), peer), 0);
	return peer;
}

int
iotest_socket_in(int nsfd, int domain, int type, int proto)
{
	int self, s;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(self, 0);
	cr_assert_eq(setns(nsfd, CLONE_NEWNET), 0, "setns: %s", strerror(errno));
	s = socket(domain, type | SOCK_CLOEXEC, proto);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0, "setns back: %s", strerror(errno));
	close(self);
	cr_assert_geq(s, 0, "socket: %s", strerror(errno));
	return s;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
iotest_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* Transport protocol and offset of the transport header, or false. */
static bool
transport_of(const uint8_t *p, size_t len, int version, uint8_t *proto, size_t *off)
{
	if (len < 1 || p[0] >> 4 != version)
		return false;
	if (version == 4 && len >= 20) {
		*proto = p[9];
		*off = (size_t)(p[0] & 0x0f) * 4;
		return true;
	}
	if (version == 6 && len >= 40) {
		*proto = p[6]; /* no extension headers in what the kernel sends us here */
		*off = 40;
		return true;
	}
	return false;
}

size_t
iotest_tun_find(int fd, int version, uint8_t proto, uint16_t dport, uint8_t *buf, size_t size,
		int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (int64_t left; (left = deadline - now_ms()) > 0;) {
		uint8_t got;
		size_t off;
		ssize_t n;

		if (!iotest_readable(fd, (int)left))
			continue;
		n = read(fd, buf, size);
		if (n <= 0)
			continue;
		if (!transport_of(buf, (size_t)n, version, &got, &off) || got != proto)
			continue;
		if ((size_t)n >= off + 4 && ((buf[off + 2] << 8) | buf[off + 3]) == dport)
			return (size_t)n;
	}
	return 0;
}
