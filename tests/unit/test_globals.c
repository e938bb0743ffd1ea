/* Global settings: names, defaults, syntax and Jool's minimums
 * (JOOL-REFERENCE §2). */
#include <criterion/criterion.h>
#include <string.h>

#include "globals.h"

static int
set(struct globals *g, const char *key, const char *value)
{
	char err[256];
	const struct global_key *k = globals_find(key);

	cr_assert_not_null(k, "unknown key %s", key);
	return globals_parse(g, k, value, err, sizeof(err));
}

static void
expect_print(const struct globals *g, const char *key, const char *want)
{
	char buf[512];

	globals_print(g, globals_find(key), buf, sizeof(buf));
	cr_assert_str_eq(buf, want, "%s printed %s, want %s", key, buf, want);
}

Test(globals, bad_values_are_rejected_and_change_nothing)
{
	static const char *const bad[][2] = {
		{"udp-timeout", "1:59"}, /* below Jool's 2:00 minimum */
		{"udp-timeout", "5:"},
		{"udp-timeout", "abc"},
		{"udp-timeout", "1:2:3:4"},
		{"tcp-est-timeout", "1:59:59"},
		{"tcp-trans-timeout", "3:59"},
		{"lowest-ipv6-mtu", "1279"},
		{"f-args", "16"},
		{"tos", "256"},
		{"manually-enabled", "maybe"},
		{"pool6", "64:ff9b::/95"},
		{"pool6", "64:ff9b::1/96"},
		{"pool6", "nonsense"},
		{"mtu-plateaus", "1500,x"},
		{"mtu-plateaus", "0"},
		{"ss-enabled", "true"},
		{"max-sessions", "0"},
	};
	struct globals g, before;
	char err[256];

	globals_default(&g);
	before = g;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(
			globals_parse(&g, globals_find(bad[i][0]), bad[i][1], err, sizeof(err)), -1,
			"%s=%s accepted", bad[i][0], bad[i][1]);
		cr_assert(strstr(err, bad[i][0]) != NULL, "error '%s' does not name the key", err);
		cr_assert(memcmp(&g, &before, sizeof(g)) == 0, "%s=%s changed the settings",
			  bad[i][0], bad[i][1]);
	}
	cr_assert_null(globals_find("no-such-key"));
}

Test(globals, defaults_are_jools)
{
	struct globals g;

	globals_default(&g);
	expect_print(&g, "udp-timeout", "0:05:00");
	expect_print(&g, "icmp-timeout", "0:01:00");
	expect_print(&g, "tcp-est-timeout", "2:00:00");
	expect_print(&g, "tcp-trans-timeout", "0:04:00");
	expect_print(&g, "f-args", "11");
	expect_print(&g, "lowest-ipv6-mtu", "1280");
	expect_print(&g, "maximum-simultaneous-opens", "10");
	expect_print(&g, "source-icmpv6-errors-better", "true");
	expect_print(&g, "address-dependent-filtering", "false");
	expect_print(&g, "mtu-plateaus", "65535,32000,17914,8166,4352,2002,1492,1006,508,296,68");
	expect_print(&g, "wkp-global-only", "true");
}

Test(globals, time_syntax_hh_mm_ss_mmm)
{
	uint64_t ms;

	cr_assert_eq(globals_parse_time("5:00", &ms), 0);
	cr_assert_eq(ms, 300000);
	cr_assert_eq(globals_parse_time("1:02:03.5", &ms), 0);
	cr_assert_eq(ms, 3723500);
	cr_assert_eq(globals_parse_time("90", &ms), 0);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(globals_parse_time("0.25", &ms), 0);
	cr_assert_eq(ms, 250);
	cr_assert_eq(globals_parse_time("", &ms), -1);
	cr_assert_eq(globals_parse_time("1.", &ms), -1);
	cr_assert_eq(globals_parse_time("-1", &ms), -1);
}

Test(globals, update_and_print_round_trip)
{
	struct globals g;

	globals_default(&g);
	cr_assert_eq(set(&g, "udp-timeout", "3:00"), 0);
	cr_assert_eq(g.udp_timeout, 180000);
	expect_print(&g, "udp-timeout", "0:03:00");
	cr_assert_eq(set(&g, "address-dependent-filtering", "ON"), 0);
	cr_assert(g.adf);
	cr_assert_eq(set(&g, "tos", "184"), 0);
	cr_assert_eq(g.xlat.tos, 184);
	cr_assert_eq(set(&g, "max-sessions-per-host", "100"), 0);
	cr_assert_eq(g.max_sessions_per_host, 100);
	cr_assert_eq(set(&g, "pool6", "2001:db8:64::/96"), 0);
	expect_print(&g, "pool6", "2001:db8:64::/96");
}

Test(globals, plateaus_sorted_deduplicated_zeros_dropped)
{
	struct globals g;

	globals_default(&g);
	cr_assert_eq(set(&g, "mtu-plateaus", "1400, 0, 9000,1400 1280"), 0);
	expect_print(&g, "mtu-plateaus", "9000,1400,1280");
	cr_assert_eq(g.xlat.mtu_plateau_count, 3);
}
