/*
 * The `nat64` command: what its files share.
 *
 *   main.c         global options, old flag style, dispatch
 *   verbs.c        THE table of modes and operations (dispatch, help, usage)
 *   args.c         options of a verb: one table of every option, parsing
 *   legacy.c       `nat64 --pool4 --add ...` -> `nat64 pool4 add ...`
 *   client.c       the control socket: requests, replies, pages
 *   table.c        aligned tables and CSV
 *   names.c        reverse DNS of IPv6 addresses (without --numeric)
 *   verb_*.c       one file per mode: builds requests, prints replies
 *
 * Exit status: 0 done; 1 the daemon refused (its one-line reason on
 * stderr) or could not be reached; 2 the command line is wrong (one line
 * naming the problem and what is accepted).
 */
#ifndef NAT64_CLI_CLI_H
#define NAT64_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "wire.h"

enum { EXIT_REJECTED = 1, EXIT_USAGE = 2 };

/* Every option any verb takes; the verb table says which ones each takes. */
enum opt_id {
	OPT_TCP,
	OPT_UDP,
	OPT_ICMP,
	OPT_MARK,
	OPT_MAX_ITER,
	OPT_FORCE,
	OPT_QUICK,
	OPT_NUMERIC,
	OPT_ALL,
	OPT_EXPLAIN,
	OPT_CSV,
	OPT_NO_HEADERS,
	OPT_JSON,
	OPT_HELP,
	OPT_COUNT
};

#define OPT(x)      (1u << OPT_##x)
#define OPTS_PROTO  (OPT(TCP) | OPT(UDP) | OPT(ICMP))
#define OPTS_OUTPUT (OPT(CSV) | OPT(NO_HEADERS) | OPT(JSON))

enum { ARGS_POS_MAX = 8 };

/* A parsed command line of one verb. */
struct args {
	bool set[OPT_COUNT];
	const char *value[OPT_COUNT];
	const char *pos[ARGS_POS_MAX];
	int npos;
	bool legacy; /* came in the old flag style */
};

struct cli {
	char socket[CTL_PATH_MAX];
	int fd;        /* -1 until the first request */
	struct buf in; /* the last reply */
	FILE *out;
};

struct verb;

/* Prints "nat64: <message>" on stderr and returns `code`. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Protocols asked for, as a mask of 1 << enum l4proto; `dflt` when none. */
/* Bit 1 << L4_* per protocol; all three. */
enum { ALL_PROTOS = 1u << L4_TCP | 1u << L4_UDP | 1u << L4_ICMP };
unsigned int args_protos(const struct args *a, unsigned int dflt);

/*
 * Parses argv (after MODE OP) for verb `v`: options anywhere, "--name
 * value" or "--name=value", any unambiguous prefix of a long name, "--"
 * ending options. 0, or EXIT_USAGE after printing the problem.
 */
int args_parse(const struct verb *v, int argc, char **argv, struct args *a);
/* "--tcp", "--mark N" ...: the option's help line (for verbs.c). */
void args_print_option(FILE *f, enum opt_id id);

#endif
