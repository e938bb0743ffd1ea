#include "verbs.h"

#include <stdio.h>
#include <string.h>

#define OUT OPTS_OUTPUT

static const struct verb verbs[] = {
	{"pool4", "display", verb_pool4_display, OPTS_PROTO | OUT, 0, 0,
	 "[--tcp|--udp|--icmp] [--csv|--json] [--no-headers]",
	 "Show pool4 (TCP unless asked), the ports in use per address and how full each set is.",
	 NULL},
	{"pool4", "add", verb_pool4_add, OPTS_PROTO | OPT(MARK) | OPT(MAX_ITER) | OPT(FORCE), 1, 2,
	 "(--tcp|--udp|--icmp) PREFIX PORT-RANGE [--mark N] [--max-iterations N|auto|infinity] "
	 "[--force]",
	 "Add an IPv4 prefix with a port range to pool4 (shorter than /24 needs --force).", NULL},
	{"pool4", "remove", verb_pool4_remove, OPTS_PROTO | OPT(MARK) | OPT(QUICK), 1, 2,
	 "[--tcp|--udp|--icmp] PREFIX [PORT-RANGE] [--mark N] [--quick]",
	 "Remove addresses from pool4 (every protocol unless one is given), with their BIB "
	 "entries unless --quick.",
	 NULL},
	{"pool4", "flush", verb_pool4_flush, OPT(QUICK), 0, 0, "[--quick]",
	 "Empty pool4, and the whole BIB unless --quick.", NULL},
	{"bib", "display", verb_bib_display, OPTS_PROTO | OPT(NUMERIC) | OUT, 0, 0,
	 "[--tcp|--udp|--icmp] [--numeric] [--csv|--json] [--no-headers]",
	 "Show the BIB entries of a protocol (TCP unless asked).", NULL},
	{"bib", "add", verb_bib_add, OPTS_PROTO, 2, 2, "[--tcp|--udp|--icmp] TADDR6 TADDR4",
	 "Add a static BIB entry (ADDRESS#PORT each, either order; the IPv4 one in pool4).", NULL},
	{"bib", "remove", verb_bib_remove, OPTS_PROTO, 1, 2,
	 "[--tcp|--udp|--icmp] [TADDR6] [TADDR4]",
	 "Remove a BIB entry, static or dynamic, with its sessions.", NULL},
	{"session", "display", verb_session_display, OPTS_PROTO | OPT(NUMERIC) | OUT, 0, 0,
	 "[--tcp|--udp|--icmp] [--numeric] [--csv|--json] [--no-headers]",
	 "Show the sessions of a protocol (TCP unless asked), read from the daemon in pages.",
	 NULL},
	{"stats", "display", verb_stats_display, OPT(ALL) | OPT(EXPLAIN) | OUT, 0, 0,
	 "[--all] [--explain] [--csv|--json] [--no-headers]",
	 "Show the counters (zero ones only with --all).", NULL},
	{"global", "display", verb_global_display, OUT, 0, 0, "[--csv|--json] [--no-headers]",
	 "Show the global settings.", NULL},
	{"global", "update", verb_global_update, OPT(FORCE), 2, 2, "KEY VALUE",
	 "Change one global setting (nat64 global update --help lists the keys).",
	 verb_global_keys},
	{"file", "handle", verb_file_handle, OPT(FORCE), 1, 1, "FILE.json",
	 "Apply a Jool atomic configuration file, all or nothing.", NULL},
};

enum { NVERBS = sizeof(verbs) / sizeof(verbs[0]) };

/* Distinct modes, in table order. */
static size_t
modes(const char *out[NVERBS])
{
	size_t n = 0;

	for (size_t i = 0; i < NVERBS; i++)
		if (n == 0 || strcmp(out[n - 1], verbs[i].mode) != 0)
			out[n++] = verbs[i].mode;
	return n;
}

/* Index in names[] of `word`: an exact name or a prefix of exactly one. */
static int
match(const char *word, const char *const *names, size_t n, const char *what)
{
	size_t len = strlen(word);
	int found = -1, count = 0;
	char list[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (strcmp(word, names[i]) == 0)
			return (int)i;
		if (len > 0 && strncmp(word, names[i], len) == 0) {
			found = (int)i;
			count++;
		}
	}
	if (count == 1)
		return found;
	for (size_t i = 0; i < n; i++) {
		if (count > 1 && strncmp(word, names[i], len) != 0)
			continue;
		strncat(list, i && list[0] ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	cli_fail(EXIT_USAGE, "%s %s '%s': %s%s", count > 1 ? "ambiguous" : "unknown", what, word,
		 count > 1 ? "could be " : "expected ", list);
	return -1;
}

const char *
verbs_find_mode(const char *mode)
{
	const char *names[NVERBS];
	size_t n = modes(names);
	int i = match(mode, names, n, "mode");

	return i < 0 ? NULL : names[i];
}

const struct verb *
verbs_find(const char *mode, const char *op)
{
	const char *m = verbs_find_mode(mode);
	const char *ops[NVERBS];
	const struct verb *first = NULL;
	char what[32];
	size_t n = 0;
	int i;

	if (m == NULL)
		return NULL;
	for (size_t k = 0; k < NVERBS; k++) {
		if (strcmp(verbs[k].mode, m) != 0)
			continue;
		if (first == NULL)
			first = &verbs[k];
		ops[n++] = verbs[k].op;
	}
	if (op == NULL) {
		/* `nat64 pool4` shows pool4; a mode without display needs its op. */
		for (size_t k = 0; k < n; k++)
			if (strcmp(ops[k], "display") == 0)
				return first + k;
		cli_fail(EXIT_USAGE, "%s: which operation? expected %s", m, ops[0]);
		return NULL;
	}
	snprintf(what, sizeof(what), "%s operation", m);
	i = match(op, ops, n, what);
	return i < 0 ? NULL : first + i;
}

void
verbs_usage(FILE *f, const struct verb *v)
{
	fprintf(f, "Usage: nat64 [-i INSTANCE] %s %s %s\n", v->mode, v->op, v->synopsis);
}

void
verbs_help_verb(FILE *f, const struct verb *v)
{
	verbs_usage(f, v);
	fprintf(f, "%s\n\nOptions:\n", v->help);
	for (int id = 0; id < OPT_COUNT; id++)
		if (v->opts & 1u << id)
			args_print_option(f, (enum opt_id)id);
	args_print_option(f, OPT_HELP);
	if (v->more_help)
		v->more_help(f);
}

void
verbs_help_mode(FILE *f, const char *mode)
{
	fprintf(f, "Usage: nat64 [-i INSTANCE] %s OPERATION [OPTIONS]\n\n", mode);
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].mode, mode) == 0)
			fprintf(f, "  %-16s %s\n", verbs[i].op, verbs[i].help);
	fprintf(f, "\n'nat64 %s OPERATION --help' shows the options of one.\n", mode);
}

void
verbs_help(FILE *f)
{
	fputs("Usage: nat64 [-i INSTANCE | -f FILE.json] MODE OPERATION [OPTIONS]\n"
	      "Drives a running nat64d through its control socket.\n\n",
	      f);
	for (size_t i = 0; i < NVERBS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s %s", verbs[i].mode, verbs[i].op);
		fprintf(f, "  %-16s %s\n", name, verbs[i].help);
	}
	fputs("\nGlobal options:\n"
	      "  -i, --instance NAME   the nat64d instance (default: default)\n"
	      "  -f, --file FILE.json  take the instance name from a Jool configuration file\n"
	      "      --socket PATH     the control socket (default: " CTL_DIR_DEFAULT
	      "/INSTANCE.sock)\n"
	      "  -h, --help            this help; 'nat64 MODE OP --help' for one operation\n"
	      "  -V, --version         the version of nat64 and of its protocol\n\n"
	      "Modes and operations may be abbreviated ('nat64 g u' is 'global update').\n"
	      "The old style works too: nat64 --pool4 --add 192.0.2.7, nat64 --bib --display.\n"
	      "Exit status: 0 done, 1 refused by the daemon (or daemon unreachable), 2 usage "
	      "error.\n",
	      f);
}
