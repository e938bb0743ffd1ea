/*
 * io/sysctl.c in a fresh network namespace per test (root): values written
 * through the API are read back with sysctl(8), and the other way round.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iotest.h"
#include "sysctl.h"

static int
sysctl_cmd(const char *name)
{
	char out[64];

	cr_assert_eq(iotest_capture(out, sizeof(out), "sysctl -n %s", name), 0);
	return atoi(out);
}

Test(sysctl, bad_names_and_counts_are_refused_and_nothing_written)
{
	int v[2] = {-7, -7};

	iotest_netns();
	cr_assert_eq(sysctl_read_int(NULL, v), -EINVAL);
	cr_assert_eq(sysctl_read_int("", v), -EINVAL);
	cr_assert_eq(sysctl_read_int("/etc/passwd", v), -EINVAL);
	cr_assert_eq(sysctl_read_int("net/../../etc/passwd", v), -EINVAL);
	cr_assert_eq(sysctl_read_int(".net.ipv4.ip_forward", v), -EINVAL);
	cr_assert_eq(sysctl_read_ints(SYSCTL_IP_FORWARD, v, 0), -EINVAL);
	cr_assert_eq(sysctl_read_ints(SYSCTL_IP_FORWARD, v, SYSCTL_MAX_INTS + 1), -EINVAL);
	cr_assert_eq(sysctl_write_ints(SYSCTL_IP_FORWARD, v, 0), -EINVAL);
	cr_assert_eq(sysctl_write_int("net/../../tmp/x", 1), -EINVAL);
	cr_assert_eq(v[0], -7);
	cr_assert_eq(v[1], -7);
	cr_assert_eq(sysctl_cmd(SYSCTL_IP_FORWARD), 0);
}

Test(sysctl, missing_key_is_enoent)
{
	int v = -7;

	iotest_netns();
	cr_assert_eq(sysctl_read_int("net.ipv4.no_such_key", &v), -ENOENT);
	cr_assert_eq(sysctl_write_int("net.ipv4.no_such_key", 1), -ENOENT);
	cr_assert_eq(v, -7);
}

Test(sysctl, ip_forward_write_is_seen_by_sysctl_tool)
{
	int v = -1;

	iotest_netns();
	cr_assert_eq(sysctl_read_int(SYSCTL_IP_FORWARD, &v), 0);
	cr_assert_eq(v, sysctl_cmd(SYSCTL_IP_FORWARD));
	cr_assert_eq(sysctl_write_int(SYSCTL_IP_FORWARD, 1), 0);
	cr_assert_eq(sysctl_cmd(SYSCTL_IP_FORWARD), 1);
	cr_assert_eq(sysctl_read_int(SYSCTL_IP_FORWARD, &v), 0);
	cr_assert_eq(v, 1);
	/* ip_forward switches every interface's forwarding on. */
	cr_assert_eq(sysctl_cmd("net.ipv4.conf.lo.forwarding"), 1);
}

Test(sysctl, ipv6_forwarding_read_sees_sysctl_tool_write)
{
	int v = -1;

	iotest_netns();
	cr_assert_eq(iotest_sh("sysctl -qw %s=1", SYSCTL_IP6_FORWARDING), 0);
	cr_assert_eq(sysctl_read_int(SYSCTL_IP6_FORWARDING, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(sysctl_write_int(SYSCTL_IP6_FORWARDING, 0), 0);
	cr_assert_eq(sysctl_cmd(SYSCTL_IP6_FORWARDING), 0);
}

Test(sysctl, local_port_range_is_two_integers)
{
	char out[64];
	int range[2] = {0, 0}, one;

	iotest_netns();
	cr_assert_eq(sysctl_write_ints(SYSCTL_LOCAL_PORT_RANGE, (int[]){40000, 50000}, 2), 0);
	cr_assert_eq(iotest_capture(out, sizeof(out), "sysctl -n %s", SYSCTL_LOCAL_PORT_RANGE), 0);
	cr_assert_str_eq(out, "40000\t50000\n");
	cr_assert_eq(sysctl_read_ints(SYSCTL_LOCAL_PORT_RANGE, range, 2), 0);
	cr_assert_eq(range[0], 40000);
	cr_assert_eq(range[1], 50000);
	/* Exactly n integers: one of two is a parse error, not a silent first value. */
	one = -7;
	cr_assert_eq(sysctl_read_int(SYSCTL_LOCAL_PORT_RANGE, &one), -EPROTO);
	cr_assert_eq(one, -7);
}

Test(sysctl, kernel_refusal_is_reported_and_value_kept)
{
	int range[2];

	iotest_netns();
	cr_assert_eq(sysctl_write_ints(SYSCTL_LOCAL_PORT_RANGE, (int[]){40000, 50000}, 2), 0);
	/* The kernel wants low <= high. */
	cr_assert_eq(sysctl_write_ints(SYSCTL_LOCAL_PORT_RANGE, (int[]){50000, 40000}, 2), -EINVAL);
	cr_assert_eq(sysctl_read_ints(SYSCTL_LOCAL_PORT_RANGE, range, 2), 0);
	cr_assert_eq(range[0], 40000);
	cr_assert_eq(range[1], 50000);
}

Test(sysctl, text_value_is_eproto)
{
	int v = -7;

	iotest_netns();
	/* "Linux\n" is not an integer. */
	cr_assert_eq(sysctl_read_int("kernel.ostype", &v), -EPROTO);
	cr_assert_eq(v, -7);
}

Test(sysctl, slash_form_reaches_an_interface_with_a_dot)
{
	char val[16];
	int v = -1;

	iotest_netns();
	cr_assert_eq(iotest_sh("ip link add up.1 type veth peer name up.2"), 0);
	cr_assert_eq(sysctl_write_int("net/ipv4/conf/up.1/forwarding", 1), 0);
	cr_assert(iotest_read_file("/proc/sys/net/ipv4/conf/up.1/forwarding", val, sizeof(val)));
	cr_assert_str_eq(val, "1");
	cr_assert(iotest_read_file("/proc/sys/net/ipv4/conf/up.2/forwarding", val, sizeof(val)));
	cr_assert_str_eq(val, "0");
	cr_assert_eq(sysctl_read_int("net/ipv4/conf/up.1/forwarding", &v), 0);
	cr_assert_eq(v, 1);
	/* The dotted form cannot name it: up.1 becomes up/1. */
	cr_assert_eq(sysctl_read_int("net.ipv4.conf.up.1.forwarding", &v), -ENOENT);
}
