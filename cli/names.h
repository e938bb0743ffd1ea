/*
 * Names of IPv6 addresses for `bib display` and `session display` without
 * --numeric (Jool resolves them too). Each address is looked up once;
 * after NAMES_BUDGET_MS spent in lookups, the rest stay numeric, so a
 * large table or a dead resolver can't stall the listing.
 */
#ifndef NAT64_CLI_NAMES_H
#define NAT64_CLI_NAMES_H

enum { NAMES_BUDGET_MS = 2000, NAMES_CACHE = 4096 };

/* The name of the IPv6 address `text`, or `text` itself. The result is
 * valid until names_free(). */
const char *names_ipv6(const char *text);
void names_free(void);

#endif
