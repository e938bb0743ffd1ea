/*
 * The instance's configuration as a plain struct, and its parser for
 * Jool's atomic-configuration JSON (JOOL-REFERENCE §5), from a file
 * (nat64d --config, SIGHUP) or from a string (the control socket's `file
 * handle`).
 *
 * Accepted layout (unknown fields are errors; "comment" is allowed in any
 * object and ignored):
 *   instance   string, 1-15 printable ASCII characters
 *   framework  "netfilter" or "iptables": accepted for Jool files, ignored
 *   global     object of global keys (core/globals.h): booleans as JSON
 *              booleans, numbers as JSON integers, times and pool6 as
 *              strings, mtu-plateaus as an array of integers
 *   pool4      array of {protocol, prefix, mark, "port range", max-iterations}
 *   bib        array of {protocol, "ipv6 address", "ipv4 address"}, each
 *              IPv4 taddr inside the file's pool4
 * Omitted globals keep their defaults (Jool resets them on every file).
 *
 * Errors are one line naming the source, the object and the field, e.g.
 *   config.json: pool4[2]: unknown field "prot"
 *   config.json: global: "logging-bib" must be a boolean (true or false)
 */
#ifndef NAT64_DAEMON_CONFIG_H
#define NAT64_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "globals.h"
#include "pool4.h"

/* Jool's limit on instance names. */
enum { CONFIG_INSTANCE_MAX = 15 };

/* The default port range of a pool4 item without "port range". */
enum { CONFIG_PORT_MIN_DEFAULT = 61001, CONFIG_PORT_MAX_DEFAULT = 65535 };

struct config_pool4 {
	struct pool4_entry entry;
	struct pool4_iterations iter; /* POOL4_ITER_UNCHANGED when not given */
};

struct config_bib {
	enum l4proto proto;
	struct taddr6 addr6;
	struct taddr4 addr4;
};

struct config {
	char instance[CONFIG_INSTANCE_MAX + 1]; /* "" when not given */
	struct globals globals;
	struct config_pool4 *pool4;
	size_t pool4_count;
	struct config_bib *bib;
	size_t bib_count;
};

/* Empty configuration: default globals, no pool4, no bib. */
void config_init(struct config *c);
/* Frees the arrays and leaves `c` as config_init() makes it. */
void config_free(struct config *c);

/*
 * Parse JSON `text` into `c` (fresh from config_init()). `source` names the
 * text in error messages (a file name, "<control>"). Returns 0, or -1 with
 * one line in `err`; `c` is then as config_init() left it.
 */
int config_parse_string(struct config *c, const char *text, const char *source, char *err,
			size_t errlen);
/* Same, reading the file `path`. */
int config_parse_file(struct config *c, const char *path, char *err, size_t errlen);

/*
 * The kernel module's parameter syntax, pool4="192.0.2.2, 192.0.2.8/28":
 * addresses and prefixes separated by commas and/or spaces, each added for
 * TCP and UDP ports 1-65535 and ICMP identifiers 0-65535, mark 0. All or
 * nothing: 0, or -1 with a reason in `err`.
 */
int config_add_pool4_list(struct config *c, const char *list, char *err, size_t errlen);

/* Appends one entry; 0 or -ENOMEM. */
int config_add_pool4(struct config *c, const struct config_pool4 *p);

/*
 * Builds a scratch pool4 holding every pool4 entry of `c`: the proof that
 * each one is accepted. Returns 0 and the pool4 in *out (the caller
 * destroys it), or -1 with a reason naming the entry in `err`.
 */
int config_build_pool4(const struct config *c, struct pool4 **out, char *err, size_t errlen);

#endif
