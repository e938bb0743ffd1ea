/*
 * The table of the command's modes and operations: it drives dispatch
 * (with unambiguous prefixes: `nat64 g u` is `global update`), `--help`
 * at every level, and usage lines.
 */
#ifndef NAT64_CLI_VERBS_H
#define NAT64_CLI_VERBS_H

#include <stdio.h>

#include "cli.h"

struct verb {
	const char *mode;
	const char *op;
	int (*run)(struct cli *c, const struct args *a);
	unsigned int opts; /* OPT(x) bits */
	int min_pos, max_pos;
	const char *synopsis;       /* after "nat64 MODE OP" */
	const char *help;           /* one sentence */
	void (*more_help)(FILE *f); /* optional: printed after the options */
};

/*
 * Resolves MODE and OP (NULL: "display") by exact name or unambiguous
 * prefix. NULL after printing a one-line reason (unknown, or ambiguous
 * with the candidates).
 */
const struct verb *verbs_find(const char *mode, const char *op);
/* Resolves only MODE; its canonical name or NULL (reason printed). */
const char *verbs_find_mode(const char *mode);

void verbs_help(FILE *f);
void verbs_help_mode(FILE *f, const char *mode);
void verbs_help_verb(FILE *f, const struct verb *v);
void verbs_usage(FILE *f, const struct verb *v);

/* The verb functions (verb_*.c). */
int verb_pool4_display(struct cli *c, const struct args *a);
int verb_pool4_add(struct cli *c, const struct args *a);
int verb_pool4_remove(struct cli *c, const struct args *a);
int verb_pool4_flush(struct cli *c, const struct args *a);
int verb_bib_display(struct cli *c, const struct args *a);
int verb_bib_add(struct cli *c, const struct args *a);
int verb_bib_remove(struct cli *c, const struct args *a);
int verb_session_display(struct cli *c, const struct args *a);
int verb_stats_display(struct cli *c, const struct args *a);
int verb_global_display(struct cli *c, const struct args *a);
int verb_global_update(struct cli *c, const struct args *a);
int verb_file_handle(struct cli *c, const struct args *a);
/* The global keys with their help (global update --help). */
void verb_global_keys(FILE *f);

#endif
