/*
 * Integer sysctls through /proc/sys. The daemon needs few of them
 * (forwarding switches, the ephemeral port range to keep pool4 apart from
 * local sockets, per-interface neighbour settings), so this is a thin
 * wrapper over open/read/write with strict parsing: a value we cannot
 * parse is an error, never a zero.
 */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROC_SYS "/proc/sys/"

/* Maps a sysctl name to its /proc/sys path; refuses anything that could
 * leave /proc/sys. */
static int
build_path(char *buf, size_t size, const char *name)
{
	size_t len;

	if (name == NULL || name[0] == '\0' || name[0] == '/' || name[0] == '.')
		return -EINVAL;
	if (strstr(name, "..") != NULL)
		return -EINVAL;
	len = strlen(name);
	if (sizeof(PROC_SYS) + len > size)
		return -ENAMETOOLONG;
	memcpy(buf, PROC_SYS, sizeof(PROC_SYS) - 1);
	memcpy(buf + sizeof(PROC_SYS) - 1, name, len + 1);
	/* sysctl(8): the dotted form only when there is no slash at all. */
	if (strchr(name, '/') == NULL) {
		for (char *p = buf + sizeof(PROC_SYS) - 1; *p != '\0'; p++)
			if (*p == '.')
				*p = '/';
	}
	return 0;
}

static int
read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

/* Parses exactly n integers and nothing else but whitespace. */
static int
parse_ints(const char *text, int *out, size_t n)
{
	const char *p = text;

	for (size_t i = 0; i < n; i++) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v < INT_MIN || v > INT_MAX)
			return -EPROTO;
		out[i] = (int)v;
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return *p == '\0' ? 0 : -EPROTO;
}

int
sysctl_read_ints(const char *name, int *out, size_t n)
{
	char path[256], text[256];
	int tmp[SYSCTL_MAX_INTS];
	int err;

	if (out == NULL || n == 0 || n > SYSCTL_MAX_INTS)
		return -EINVAL;
	err = build_path(path, sizeof(path), name);
	if (err)
		return err;
	err = read_file(path, text, sizeof(text));
	if (err)
		return err;
	err = parse_ints(text, tmp, n);
	if (err)
		return err;
	memcpy(out, tmp, n * sizeof(*out));
	return 0;
}

int
sysctl_write_ints(const char *name, const int *val, size_t n)
{
	char path[256], text[SYSCTL_MAX_INTS * 12 + 1];
	size_t len = 0;
	ssize_t w;
	int fd, err;

	if (val == NULL || n == 0 || n > SYSCTL_MAX_INTS)
		return -EINVAL;
	err = build_path(path, sizeof(path), name);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%d", i ? "\t" : "",
					val[i]);
	text[len++] = '\n';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* /proc/sys takes the whole value in one write; a short write or an
	 * EINVAL from the handler means it was refused. */
	w = write(fd, text, len);
	err = w < 0 ? -errno : ((size_t)w == len ? 0 : -EIO);
	close(fd);
	return err;
}

int
sysctl_read_int(const char *name, int *out)
{
	return sysctl_read_ints(name, out, 1);
}

int
sysctl_write_int(const char *name, int val)
{
	return sysctl_write_ints(name, &val, 1);
}
