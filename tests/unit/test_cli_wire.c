/*
 * ctl/wire.c: the text forms `nat64` and nat64d both parse (port ranges,
 * prefixes, transport addresses, marks, max-iterations), the length prefix
 * of the control protocol and the socket path. Every parser names the bad
 * input and the accepted range in one line, and leaves its output alone on
 * failure.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "fmt.h"
#include "wire.h"

Test(cli_wire, port_range_bad_input_names_it_and_keeps_output)
{
	static const char *const bad[] = {
		"",        "-",        "5-",   "-5",   "1-2-3", "a-b",  "65536",
		"0-65536", "70000-80", "1 -2", "0x10", "+5",    "1--2", "99999999999999999999"};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint16_t min = 7, max = 9;

		err[0] = '\0';
		cr_assert_not(wire_parse_port_range(bad[i], &min, &max, err, sizeof(err)),
			      "'%s' accepted", bad[i]);
		cr_assert(min == 7 && max == 9, "'%s' changed the output", bad[i]);
		cr_assert_not_null(strstr(err, bad[i]), "'%s' not named: %s", bad[i], err);
		cr_assert_not_null(strstr(err, "ports are 0-65535"), "%s", err);
	}
}

Test(cli_wire, port_range_out_of_range_gets_the_style_guide_message)
{
	char err[128];
	uint16_t min, max;

	cr_assert_not(wire_parse_port_range("70000-80", &min, &max, err, sizeof(err)));
	cr_assert_str_eq(err, "invalid port range '70000-80': ports are 0-65535");
}

Test(cli_wire, port_range_single_pair_and_reversed)
{
	char err[128];
	uint16_t min, max;

	cr_assert(wire_parse_port_range("80", &min, &max, err, sizeof(err)));
	cr_assert(min == 80 && max == 80);
	cr_assert(wire_parse_port_range("0-65535", &min, &max, err, sizeof(err)));
	cr_assert(min == 0 && max == 65535);
	/* Jool's client swaps a reversed range. */
	cr_assert(wire_parse_port_range("2000-1000", &min, &max, err, sizeof(err)));
	cr_assert(min == 1000 && max == 2000);
}

Test(cli_wire, prefix4_bad_input)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"", "expected an IPv4 ADDRESS"},
		{"192.0.2", "expected an IPv4 ADDRESS"},
		{"192.0.2.256", "expected an IPv4 ADDRESS"},
		{"2001:db8::1", "expected an IPv4 ADDRESS"},
		{"192.0.2.0/", "the length is 0-32"},
		{"192.0.2.0/33", "the length is 0-32"},
		{"192.0.2.0/2x", "the length is 0-32"},
		{"192.0.2.7/24", "bits set after /24 (192.0.2.0/24?)"},
		{"192.0.2.8/28", "bits set after /28 (192.0.2.0/28?)"},
		{"1.0.0.0/0", "bits set after /0 (0.0.0.0/0?)"},
	};
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct prefix4 p = {.len = 99};

		cr_assert_not(wire_parse_prefix4(bad[i].text, &p, err, sizeof(err)), "'%s'",
			      bad[i].text);
		cr_assert_eq(p.len, 99, "'%s' changed the length", bad[i].text);
		cr_assert_not_null(strstr(err, bad[i].says), "'%s': %s", bad[i].text, err);
	}
}

Test(cli_wire, prefix4_address_and_prefix)
{
	char err[128], text[WIRE_PREFIX4_LEN + 1];
	struct prefix4 p;

	cr_assert(wire_parse_prefix4("192.0.2.7", &p, err, sizeof(err)));
	cr_assert(p.len == 32 && p.addr.s_addr == htonl(0xc0000207));
	wire_print_prefix4(&p, text, sizeof(text));
	cr_assert_str_eq(text, "192.0.2.7");
	cr_assert(wire_parse_prefix4("10.64.0.0/10", &p, err, sizeof(err)));
	cr_assert(p.len == 10 && p.addr.s_addr == htonl(0x0a400000));
	wire_print_prefix4(&p, text, sizeof(text));
	cr_assert_str_eq(text, "10.64.0.0/10");
	cr_assert(wire_parse_prefix4("0.0.0.0/0", &p, err, sizeof(err)));
	cr_assert_eq(p.len, 0);
}

Test(cli_wire, taddrs)
{
	char err[160];
	struct taddr4 t4 = {.port = 1};
	struct taddr6 t6 = {.port = 1};
	struct in6_addr want;

	cr_assert_not(wire_parse_taddr4("192.0.2.2", &t4, err, sizeof(err)));
	cr_assert_str_eq(err, "invalid IPv4 transport address '192.0.2.2': expected "
			      "ADDRESS#PORT, port 0-65535");
	cr_assert_not(wire_parse_taddr4("192.0.2.2#65536", &t4, err, sizeof(err)));
	cr_assert_not(wire_parse_taddr4("#80", &t4, err, sizeof(err)));
	cr_assert_not(wire_parse_taddr4("2001:db8::1#80", &t4, err, sizeof(err)));
	cr_assert_not(wire_parse_taddr6("192.0.2.2#80", &t6, err, sizeof(err)));
	cr_assert_not(wire_parse_taddr6("2001:db8::1#", &t6, err, sizeof(err)));
	cr_assert(t4.port == 1 && t6.port == 1);

	cr_assert(wire_parse_taddr4("192.0.2.2#2000", &t4, err, sizeof(err)));
	cr_assert(t4.port == 2000 && t4.addr.s_addr == htonl(0xc0000202));
	cr_assert(wire_parse_taddr6("2001:db8::5#0", &t6, err, sizeof(err)));
	inet_pton(AF_INET6, "2001:db8::5", &want);
	cr_assert(t6.port == 0 && in6_equal(&t6.addr, &want));
}

Test(cli_wire, marks_and_iterations)
{
	char err[160];
	uint32_t mark = 3;
	struct pool4_iterations it = {.kind = POOL4_ITER_UNCHANGED};

	cr_assert_not(wire_parse_mark("4294967296", &mark, err, sizeof(err)));
	cr_assert_str_eq(err, "invalid mark '4294967296': marks are 0-4294967295");
	cr_assert_not(wire_parse_mark("-1", &mark, err, sizeof(err)));
	cr_assert_not(wire_parse_mark("", &mark, err, sizeof(err)));
	cr_assert_eq(mark, 3);
	cr_assert(wire_parse_mark("4294967295", &mark, err, sizeof(err)));
	cr_assert_eq(mark, UINT32_MAX);

	cr_assert_not(wire_parse_iterations("0", &it, err, sizeof(err)));
	cr_assert_not(wire_parse_iterations("Auto", &it, err, sizeof(err)));
	cr_assert_not(wire_parse_iterations("4294967296", &it, err, sizeof(err)));
	cr_assert_eq(it.kind, POOL4_ITER_UNCHANGED);
	cr_assert(wire_parse_iterations("auto", &it, err, sizeof(err)));
	cr_assert_eq(it.kind, POOL4_ITER_AUTO);
	cr_assert(wire_parse_iterations("infinity", &it, err, sizeof(err)));
	cr_assert_eq(it.kind, POOL4_ITER_INFINITY);
	cr_assert(wire_parse_iterations("5", &it, err, sizeof(err)));
	cr_assert(it.kind == POOL4_ITER_FIXED && it.value == 5);
}

Test(cli_wire, protocols)
{
	enum l4proto p = L4_COUNT;

	cr_assert_not(wire_parse_proto("SCTP", &p));
	cr_assert_not(wire_parse_proto("", &p));
	cr_assert_eq(p, L4_COUNT);
	cr_assert(wire_parse_proto("tcp", &p) && p == L4_TCP);
	cr_assert(wire_parse_proto("Udp", &p) && p == L4_UDP);
	cr_assert(wire_parse_proto("ICMP", &p) && p == L4_ICMP);
	cr_assert_str_eq(wire_proto_name(L4_ICMP), "ICMP");
	cr_assert_str_eq(wire_proto_name(L4_COUNT), "?");
}

Test(cli_wire, length_prefix_is_big_endian)
{
	uint8_t hdr[CTL_HEADER_LEN];

	wire_put_len(hdr, 0x01020304);
	cr_assert(hdr[0] == 1 && hdr[1] == 2 && hdr[2] == 3 && hdr[3] == 4);
	cr_assert_eq(wire_get_len((const uint8_t[]){0, 0x10, 0, 0}), 1u << 20);
}

Test(cli_wire, socket_path_checks_the_instance_name)
{
	char path[CTL_PATH_MAX], err[160];
	char long_dir[120];

	strcpy(path, "unchanged");
	cr_assert_not(wire_socket_path(path, sizeof(path), "/run/nat64d", "", err, sizeof(err)));
	cr_assert_not(wire_socket_path(path, sizeof(path), "/run/nat64d", "a/b", err, sizeof(err)));
	cr_assert_not(wire_socket_path(path, sizeof(path), "/run/nat64d", "with space", err,
				       sizeof(err)));
	cr_assert_not(wire_socket_path(path, sizeof(path), "/run/nat64d", "sixteen-chars-xx", err,
				       sizeof(err)));
	cr_assert_not_null(strstr(err, "invalid instance name 'sixteen-chars-xx'"), "%s", err);
	memset(long_dir, 'd', sizeof(long_dir) - 1);
	long_dir[0] = '/';
	long_dir[sizeof(long_dir) - 1] = '\0';
	cr_assert_not(wire_socket_path(path, sizeof(path), long_dir, "x", err, sizeof(err)));
	cr_assert_not_null(strstr(err, "too long"), "%s", err);

	cr_assert(wire_socket_path(path, sizeof(path), CTL_DIR_DEFAULT, "fifteen-chars-x", err,
				   sizeof(err)));
	cr_assert_str_eq(path, "/run/nat64d/fifteen-chars-x.sock");
}

/* ctl/fmt.c must print exactly what inet_ntop() prints. */
static void
same_as_inet_ntop6(const struct in6_addr *a)
{
	char want[INET6_ADDRSTRLEN], got[FMT_IPV6_MAX + 1];
	size_t n = fmt_ipv6(got, a);

	got[n] = '\0';
	inet_ntop(AF_INET6, a, want, sizeof(want));
	cr_assert_str_eq(got, want);
}

Test(ctl_fmt, ipv6_edge_cases_match_inet_ntop)
{
	static const char *const texts[] = {
		"::",
		"::1",
		"1::",
		"1::1",
		"64:ff9b::c000:20a",
		"2001:db8:6::2",
		"2001:db8:0:0:1:0:0:1",
		"2001:0:0:1::1",
		"1:0:1:0:1:0:1:0",
		"::ffff:192.0.2.1",
		"::192.0.2.1",
		"::ffff:0:192.0.2.1",
		"0:0:0:0:0:1:0:0",
		"fe80::",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"1:2:3:4:5:6:7:8",
		"0:1:0:0:0:1:0:0",
		"::fffe:192.0.2.1",
		"1::ffff:192.0.2.1",
	};
	struct in6_addr a;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cr_assert_eq(inet_pton(AF_INET6, texts[i], &a), 1, "%s", texts[i]);
		same_as_inet_ntop6(&a);
	}
}

Test(ctl_fmt, ipv6_every_zero_pattern_matches_inet_ntop)
{
	struct in6_addr a;

	/* Every choice of zero / non-zero groups, with two non-zero values. */
	for (unsigned int mask = 0; mask < 256; mask++) {
		for (unsigned int v = 1; v <= 0xffff; v += 0xfffe) {
			for (int g = 0; g < 8; g++) {
				a.s6_addr[2 * g] = (mask >> g & 1) ? (uint8_t)(v >> 8) : 0;
				a.s6_addr[2 * g + 1] = (mask >> g & 1) ? (uint8_t)v : 0;
			}
			same_as_inet_ntop6(&a);
		}
	}
}

Test(ctl_fmt, ipv4_and_numbers)
{
	char out[32];
	struct in_addr a;

	inet_pton(AF_INET, "0.10.200.255", &a);
	out[fmt_ipv4(out, a)] = '\0';
	cr_assert_str_eq(out, "0.10.200.255");
	out[fmt_u64(out, 0)] = '\0';
	cr_assert_str_eq(out, "0");
	out[fmt_u64(out, UINT64_MAX)] = '\0';
	cr_assert_str_eq(out, "18446744073709551615");
}

/* The documentation's lists write 192.0.2.8/28 for the /28 holding .8. */
Test(cli_wire, prefix4_masked_takes_the_network)
{
	char err[160];
	struct prefix4 p;
	bool masked = false;

	cr_assert(wire_parse_prefix4_masked("192.0.2.8/28", &p, &masked, err, sizeof(err)));
	cr_assert(masked);
	cr_assert(p.len == 28 && p.addr.s_addr == htonl(0xc0000200));
	cr_assert(wire_parse_prefix4_masked("192.0.2.16/28", &p, &masked, err, sizeof(err)));
	cr_assert_not(masked);
	cr_assert(p.addr.s_addr == htonl(0xc0000210));
	cr_assert_not(wire_parse_prefix4_masked("192.0.2.0/33", &p, &masked, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "the length is 0-32"));
}
