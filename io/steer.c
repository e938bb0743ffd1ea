/*
 * Loader of the TUN steering program. The BPF ELF object is built by clang
 * from bpf/steer.bpf.c and linked into this library as plain bytes
 * (steer_bpf_obj, see the Makefile), so the daemon needs no file at run
 * time; libbpf opens it from memory.
 *
 * The queue count is a `const volatile` global in the program's .rodata:
 * the loader writes it before loading, the verifier then treats it as a
 * constant (no map lookup per packet, and an array map could be changed
 * under a running program by anyone holding its fd). Changing the count
 * means loading a new program, which TUNSETSTEERINGEBPF swaps in atomically.
 */
#include "steer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Bounds of the embedded object (generated assembly, see the Makefile). */
extern const unsigned char steer_bpf_obj[];
extern const unsigned char steer_bpf_obj_end[];

/* The last warning libbpf printed (verifier log lines included), kept to
 * explain a failure in `err` instead of writing to stderr on our own. */
static char libbpf_msg[256];

static int
keep_message(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t len;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(libbpf_msg, sizeof(libbpf_msg), fmt, ap);
	len = strlen(libbpf_msg);
	if (len > 0 && libbpf_msg[len - 1] == '\n')
		libbpf_msg[len - 1] = '\0';
	return 0;
}

static int
fail(char *err, size_t errlen, int e, const char *what)
{
	const char *hint = "";

	if (e == -EPERM || e == -EACCES)
		hint = "BPF not permitted (needs CAP_BPF or CAP_SYS_ADMIN): ";
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s%s: %s%s%s", hint, what, strerror(-e),
			 libbpf_msg[0] != '\0' ? "; libbpf: " : "", libbpf_msg);
	return e;
}

/* Offset of the variable `name` inside the DATASEC `sec`, from the BTF. */
static int
var_offset(const struct btf *btf, const char *sec, const char *name)
{
	const struct btf_var_secinfo *vsi;
	const struct btf_type *t;
	int id;

	id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, (__u32)id);
	vsi = btf_var_secinfos(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++, vsi++) {
		const struct btf_type *var = btf__type_by_id(btf, vsi->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name) == 0)
			return vsi->size == sizeof(uint32_t) ? (int)vsi->offset : -EINVAL;
	}
	return -ENOENT;
}

/* Writes `nqueues` into the program's .rodata before it is loaded (libbpf
 * 1.1 hands out the initial value read-only: copy, patch, set back). */
static int
set_nqueues(struct bpf_object *obj, unsigned int nqueues)
{
	uint8_t copy[64];
	struct bpf_map *map;
	const void *data;
	size_t size = 0;
	int off;

	off = var_offset(bpf_object__btf(obj), ".rodata", "nqueues");
	if (off < 0)
		return off;
	bpf_object__for_each_map(map, obj)
	{
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);

		if (len < 7 || strcmp(name + len - 7, ".rodata") != 0)
			continue;
		data = bpf_map__initial_value(map, &size);
		if (data == NULL || size > sizeof(copy) || (size_t)off + sizeof(uint32_t) > size)
			return -EINVAL;
		memcpy(copy, data, size);
		memcpy(copy + off, &(uint32_t){nqueues}, sizeof(uint32_t));
		return bpf_map__set_initial_value(map, copy, size);
	}
	return -ENOENT;
}

/* Opens and loads the embedded object; returns a dup of the program fd. */
static int
load(unsigned int nqueues, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "nat64_steer");
	struct bpf_program *prog;
	struct bpf_object *obj;
	int fd, e;

	obj = bpf_object__open_mem(steer_bpf_obj, (size_t)(steer_bpf_obj_end - steer_bpf_obj),
				   &opts);
	if (obj == NULL)
		return fail(err, errlen, -errno, "cannot open the steering program");
	e = set_nqueues(obj, nqueues);
	if (e < 0) {
		fail(err, errlen, e, "steering program has no usable 'nqueues'");
		goto out;
	}
	e = bpf_object__load(obj);
	if (e < 0) {
		fail(err, errlen, e, "cannot load the steering program");
		goto out;
	}
	prog = bpf_object__find_program_by_name(obj, "steer");
	fd = prog != NULL ? bpf_program__fd(prog) : -ENOENT;
	e = fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (e < 0) {
		e = fd < 0 ? fd : -errno;
		fail(err, errlen, e, "steering program fd");
	}
out:
	bpf_object__close(obj);
	return e;
}

int
steer_load(unsigned int nqueues, char *err, size_t errlen)
{
	libbpf_print_fn_t old;
	int fd;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (nqueues == 0 || nqueues > STEER_MAX_QUEUES) {
		libbpf_msg[0] = '\0';
		return fail(err, errlen, -EINVAL, "queue count must be 1-256");
	}
	libbpf_msg[0] = '\0';
	old = libbpf_set_print(keep_message);
	fd = load(nqueues, err, errlen);
	libbpf_set_print(old);
	return fd;
}

int
steer_attach(int tun_fd, unsigned int nqueues, char *err, size_t errlen)
{
	int fd, e = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	libbpf_msg[0] = '\0';
	if (nqueues == 0 || nqueues > STEER_MAX_QUEUES)
		return fail(err, errlen, -EINVAL, "queue count must be 1-256");
	if (tun_fd < 0)
		return fail(err, errlen, -EBADF, "no TUN device");
	if (nqueues == 1)
		return 0;
	fd = steer_load(nqueues, err, errlen);
	if (fd < 0)
		return fd;
	/* The device takes its own reference on the program (bpf_prog_get_type). */
	if (ioctl(tun_fd, TUNSETSTEERINGEBPF, &fd) < 0)
		e = fail(err, errlen, -errno, "TUNSETSTEERINGEBPF");
	close(fd);
	return e;
}

void
steer_detach(int tun_fd)
{
	int none = -1;

	if (tun_fd >= 0)
		(void)ioctl(tun_fd, TUNSETSTEERINGEBPF, &none);
}
