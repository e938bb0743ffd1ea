/*
 * Options of the verbs. One table names every option once with its
 * argument and help; a verb lists the ones it takes (verbs.c). Long names
 * may be shortened to any unambiguous prefix, as getopt_long and Jool's
 * argp accept.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include "verbs.h"

struct option_def {
	const char *name;
	const char *arg; /* NULL: a flag */
	const char *help;
};

static const struct option_def options[OPT_COUNT] = {
	[OPT_TCP] = {"tcp", NULL, "TCP"},
	[OPT_UDP] = {"udp", NULL, "UDP"},
	[OPT_ICMP] = {"icmp", NULL, "ICMP (query identifiers)"},
	[OPT_MARK] = {"mark", "N", "packet mark of the pool4 set, 0-4294967295 (default 0)"},
	[OPT_MAX_ITER] = {"max-iterations", "N|auto|infinity",
			  "ports tried per new mapping before giving up (default auto)"},
	[OPT_FORCE] = {"force", NULL,
		       "accept what looks like a mistake (short prefixes, ephemeral ports)"},
	[OPT_QUICK] = {"quick", NULL, "leave the BIB entries of the removed addresses alone"},
	[OPT_NUMERIC] = {"numeric", NULL, "do not resolve IPv6 addresses to names"},
	[OPT_ALL] = {"all", NULL, "show the counters that are zero too"},
	[OPT_EXPLAIN] = {"explain", NULL, "add the meaning of each counter"},
	[OPT_CSV] = {"csv", NULL, "comma-separated values (Jool's columns)"},
	[OPT_NO_HEADERS] = {"no-headers", NULL, "no header line"},
	[OPT_JSON] = {"json", NULL, "JSON, for scripts"},
	[OPT_HELP] = {"help", NULL, "this help"},
};

int
cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("nat64: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

unsigned int
args_protos(const struct args *a, unsigned int dflt)
{
	unsigned int mask = 0;

	if (a->set[OPT_TCP])
		mask |= 1u << L4_TCP;
	if (a->set[OPT_UDP])
		mask |= 1u << L4_UDP;
	if (a->set[OPT_ICMP])
		mask |= 1u << L4_ICMP;
	return mask ? mask : dflt;
}

void
args_print_option(FILE *f, enum opt_id id)
{
	char left[40];

	snprintf(left, sizeof(left), "--%s%s%s", options[id].name, options[id].arg ? " " : "",
		 options[id].arg ? options[id].arg : "");
	fprintf(f, "  %-24s %s\n", left, options[id].help);
}

/* The option `name` (without "--", cut at '=') among those `v` takes. */
static int
find_option(const struct verb *v, const char *name, size_t len)
{
	unsigned int allowed = v->opts | OPT(HELP);
	int found = -1, count = 0;
	char list[160] = "";

	for (int id = 0; id < OPT_COUNT; id++) {
		if (!(allowed & 1u << id) || strncmp(options[id].name, name, len) != 0)
			continue;
		if (strlen(options[id].name) == len)
			return id;
		found = id;
		count++;
		strncat(list, list[0] ? ", --" : "--", sizeof(list) - strlen(list) - 1);
		strncat(list, options[id].name, sizeof(list) - strlen(list) - 1);
	}
	if (count == 1)
		return found;
	if (count > 1)
		cli_fail(EXIT_USAGE, "ambiguous option '--%.*s': could be %s", (int)len, name,
			 list);
	else
		cli_fail(EXIT_USAGE, "%s %s: unknown option '--%.*s' (see nat64 %s %s --help)",
			 v->mode, v->op, (int)len, name, v->mode, v->op);
	return -1;
}

/* "--name", "--name=value" or "--name value" at argv[*i]. */
static int
parse_long(const struct verb *v, int argc, char **argv, int *i, struct args *a)
{
	const char *name = argv[*i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	int id = find_option(v, name, len);

	if (id < 0)
		return EXIT_USAGE;
	if (options[id].arg == NULL) {
		if (eq)
			return cli_fail(EXIT_USAGE, "option '--%s' takes no value",
					options[id].name);
		a->set[id] = true;
		return 0;
	}
	if (eq) {
		a->value[id] = eq + 1;
	} else {
		if (*i + 1 >= argc)
			return cli_fail(EXIT_USAGE, "option '--%s' needs a value (%s)",
					options[id].name, options[id].arg);
		a->value[id] = argv[++*i];
	}
	a->set[id] = true;
	return 0;
}

int
args_parse(const struct verb *v, int argc, char **argv, struct args *a)
{
	bool options_done = false;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		int rc;

		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && strcmp(arg, "-h") == 0) {
			a->set[OPT_HELP] = true;
			continue;
		}
		if (!options_done && strncmp(arg, "--", 2) == 0) {
			rc = parse_long(v, argc, argv, &i, a);
			if (rc)
				return rc;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] != '\0')
			return cli_fail(EXIT_USAGE,
					"%s %s: unknown option '%s' (see nat64 %s %s --help)",
					v->mode, v->op, arg, v->mode, v->op);
		if (a->npos == ARGS_POS_MAX)
			return cli_fail(EXIT_USAGE, "%s %s: too many arguments", v->mode, v->op);
		a->pos[a->npos++] = arg;
	}
	if (a->set[OPT_HELP])
		return 0;
	if (a->npos < v->min_pos || a->npos > v->max_pos)
		return cli_fail(EXIT_USAGE, "%s %s: %s arguments; usage: nat64 %s %s %s", v->mode,
				v->op, a->npos < v->min_pos ? "missing" : "too many", v->mode,
				v->op, v->synopsis);
	if (a->set[OPT_CSV] && a->set[OPT_JSON])
		return cli_fail(EXIT_USAGE, "--csv and --json exclude each other");
	return 0;
}
