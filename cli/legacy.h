/*
 * The flag style of the kernel module's old client, still in scripts:
 *
 *   nat64 --pool4 --add 192.0.2.7          all three protocols, TCP and UDP
 *   nat64 --pool4 --add 192.0.2.8/28       ports 1-65535, ICMP 0-65535
 *   nat64 --pool4 --display                every protocol
 *   nat64 --pool4 --remove 192.0.2.7
 *   nat64 --bib --display, nat64 --session --display
 *
 * It is rewritten into the verb style (`pool4 add ...`); the verbs apply
 * the old defaults when args.legacy is set (every protocol when none is
 * given; an optional port range).
 */
#ifndef NAT64_CLI_LEGACY_H
#define NAT64_CLI_LEGACY_H

#include <stdbool.h>

/* True when argv (after the global options) uses the old style. */
bool legacy_detect(int argc, char **argv);

/*
 * Rewrites argv into out[] as MODE OP rest... (out has room for argc + 1
 * pointers and is NULL-terminated). Returns the new count, or -1 after
 * printing a usage error (two modes, two operations).
 */
int legacy_rewrite(int argc, char **argv, char **out);

#endif
