/*
 * The command line of `nat64`: the verb table's dispatch by unambiguous
 * prefix (cli/verbs.c), option parsing (cli/args.c) and the old flag style
 * (cli/legacy.c). Usage errors are one line on stderr, checked verbatim.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "cli.h"
#include "legacy.h"
#include "verbs.h"

static void
redirect(void)
{
	cr_redirect_stderr();
}

Test(cli_verbs, ambiguous_and_unknown_names_list_the_candidates, .init = redirect)
{
	cr_assert_null(verbs_find("s", "d"));
	cr_assert_null(verbs_find("frob", NULL));
	cr_assert_null(verbs_find("bib", "f"));
	cr_assert_null(verbs_find("file", NULL));
	fflush(stderr);
	cr_assert_stderr_eq_str("nat64: ambiguous mode 's': could be session, stats\n"
				"nat64: unknown mode 'frob': expected pool4, bib, session, stats, "
				"global, file\n"
				"nat64: unknown bib operation 'f': expected display, add, remove\n"
				"nat64: file: which operation? expected handle\n");
}

Test(cli_verbs, prefixes_and_defaults)
{
	const struct verb *v = verbs_find("g", "u");

	cr_assert(v && strcmp(v->mode, "global") == 0 && strcmp(v->op, "update") == 0);
	v = verbs_find("se", "d");
	cr_assert(v && strcmp(v->mode, "session") == 0);
	v = verbs_find("stats", NULL); /* no operation: display */
	cr_assert(v && strcmp(v->op, "display") == 0 && v->run == verb_stats_display);
	v = verbs_find("pool4", "f");
	cr_assert(v && v->run == verb_pool4_flush);
	v = verbs_find("p", "r");
	cr_assert(v && v->run == verb_pool4_remove);
	cr_assert_str_eq(verbs_find_mode("fi"), "file");
}

/* Runs args_parse() on a NULL-terminated list for `mode op`. */
static int
parse(const char *mode, const char *op, struct args *a, const char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(a, 0, sizeof(*a));
	return args_parse(verbs_find(mode, op), argc, (char **)argv, a);
}

Test(cli_args, bad_options_are_usage_errors, .init = redirect)
{
	struct args a;

	cr_assert_eq(
		parse("pool4", "add", &a, (const char *[]){"--sctp", "192.0.2.7", "1-2", NULL}),
		EXIT_USAGE);
	cr_assert_eq(parse("bib", "display", &a, (const char *[]){"--n", NULL}), EXIT_USAGE);
	cr_assert_eq(parse("pool4", "add", &a, (const char *[]){"--tcp=1", NULL}), EXIT_USAGE);
	cr_assert_eq(parse("pool4", "add", &a, (const char *[]){"--mark", NULL}), EXIT_USAGE);
	cr_assert_eq(parse("stats", "display", &a, (const char *[]){"--tcp", NULL}), EXIT_USAGE);
	cr_assert_eq(parse("stats", "display", &a, (const char *[]){"-x", NULL}), EXIT_USAGE);
	cr_assert_eq(parse("bib", "add", &a, (const char *[]){"a#1", NULL}), EXIT_USAGE);
	cr_assert_eq(parse("pool4", "flush", &a, (const char *[]){"extra", NULL}), EXIT_USAGE);
	cr_assert_eq(parse("pool4", "display", &a, (const char *[]){"--csv", "--json", NULL}),
		     EXIT_USAGE);
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"nat64: pool4 add: unknown option '--sctp' (see nat64 pool4 add --help)\n"
		"nat64: ambiguous option '--n': could be --numeric, --no-headers\n"
		"nat64: option '--tcp' takes no value\n"
		"nat64: option '--mark' needs a value (N)\n"
		"nat64: stats display: unknown option '--tcp' (see nat64 stats display --help)\n"
		"nat64: stats display: unknown option '-x' (see nat64 stats display --help)\n"
		"nat64: bib add: missing arguments; usage: nat64 bib add [--tcp|--udp|--icmp] "
		"TADDR6 TADDR4\n"
		"nat64: pool4 flush: too many arguments; usage: nat64 pool4 flush [--quick]\n"
		"nat64: --csv and --json exclude each other\n");
}

Test(cli_args, options_anywhere_with_values_and_prefixes)
{
	struct args a;

	cr_assert_eq(parse("pool4", "add", &a,
			   (const char *[]){"--mark=7", "192.0.2.0/24", "--tc", "1-5", "--max-it",
					    "auto", "--force", NULL}),
		     0);
	cr_assert(a.set[OPT_TCP] && !a.set[OPT_UDP] && a.set[OPT_FORCE]);
	cr_assert_str_eq(a.value[OPT_MARK], "7");
	cr_assert_str_eq(a.value[OPT_MAX_ITER], "auto");
	cr_assert_eq(a.npos, 2);
	cr_assert_str_eq(a.pos[0], "192.0.2.0/24");
	cr_assert_str_eq(a.pos[1], "1-5");
	cr_assert_eq(args_protos(&a, 0), 1u << L4_TCP);
}

Test(cli_args, double_dash_ends_options_and_h_asks_help)
{
	struct args a;

	cr_assert_eq(parse("global", "update", &a, (const char *[]){"--", "tos", "--x", NULL}), 0);
	cr_assert(a.npos == 2 && strcmp(a.pos[1], "--x") == 0);
	/* Help wins over missing arguments. */
	cr_assert_eq(parse("bib", "add", &a, (const char *[]){"-h", NULL}), 0);
	cr_assert(a.set[OPT_HELP]);
}

Test(cli_args, protocols_default_when_none_given)
{
	struct args a;

	cr_assert_eq(parse("pool4", "remove", &a,
			   (const char *[]){"--udp", "--icmp", "192.0.2.2", NULL}),
		     0);
	cr_assert_eq(args_protos(&a, 7), 1u << L4_UDP | 1u << L4_ICMP);
	cr_assert_eq(parse("pool4", "remove", &a, (const char *[]){"192.0.2.2", NULL}), 0);
	cr_assert_eq(args_protos(&a, 7), 7);
}

/* legacy_rewrite() on a NULL-terminated list; returns the joined result. */
static int
rewrite(const char **argv, char *joined, size_t len)
{
	char *out[16];
	int argc = 0, n;

	while (argv[argc])
		argc++;
	n = legacy_rewrite(argc, (char **)argv, out);
	joined[0] = '\0';
	for (int i = 0; i < n; i++) {
		strncat(joined, i ? " " : "", len - strlen(joined) - 1);
		strncat(joined, out[i], len - strlen(joined) - 1);
	}
	return n;
}

Test(cli_legacy, conflicting_flags_are_usage_errors, .init = redirect)
{
	char joined[256];

	cr_assert_eq(rewrite((const char *[]){"--pool4", "--bib", NULL}, joined, sizeof(joined)),
		     -1);
	cr_assert_eq(rewrite((const char *[]){"--pool4", "--add", "--remove", NULL}, joined,
			     sizeof(joined)),
		     -1);
	fflush(stderr);
	cr_assert_stderr_eq_str("nat64: --pool4 and --bib exclude each other\n"
				"nat64: --add and --remove exclude each other\n");
}

Test(cli_legacy, old_flags_become_verbs)
{
	char joined[256];

	cr_assert_not(legacy_detect(2, (char *[]){"pool4", "add"}));
	cr_assert_not(legacy_detect(3, (char *[]){"global", "--", "--pool4"}));
	cr_assert(legacy_detect(2, (char *[]){"--add", "--pool4"}));

	cr_assert_eq(rewrite((const char *[]){"--pool4", "--add", "192.0.2.7", NULL}, joined,
			     sizeof(joined)),
		     3);
	cr_assert_str_eq(joined, "pool4 add 192.0.2.7");
	rewrite((const char *[]){"--csv", "--pool4", NULL}, joined, sizeof(joined));
	cr_assert_str_eq(joined, "pool4 display --csv");
	rewrite((const char *[]){"--bib", "--display", "--numeric", NULL}, joined, sizeof(joined));
	cr_assert_str_eq(joined, "bib display --numeric");
	rewrite((const char *[]){"--session", "--tcp", NULL}, joined, sizeof(joined));
	cr_assert_str_eq(joined, "session display --tcp");
	rewrite((const char *[]){"--pool4", "--remove", "--", "--add", NULL}, joined,
		sizeof(joined));
	cr_assert_str_eq(joined, "pool4 remove -- --add");
}
