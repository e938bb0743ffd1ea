/*
 * The control protocol between `nat64` and nat64d, and the text forms
 * both sides parse (port ranges, prefixes, transport addresses).
 *
 * Transport: a UNIX stream socket per instance, CTL_DIR/<instance>.sock.
 * Each message, either way, is a 4-byte big-endian length followed by that
 * many bytes of JSON (one object):
 *
 *   request  {"version": 1, "cmd": "pool4.add", ...arguments}
 *   reply    {"ok": true, ...results}  or  {"ok": false, "error": "one line"}
 *
 * One request, one reply, in order. A request above CTL_REQUEST_MAX bytes
 * gets an error reply and the connection is closed. Tables are read in
 * pages: a display request carries a "cursor" (absent or 0 the first
 * time) and the reply holds at most "limit" (default CTL_PAGE) items and
 * the next "cursor", null after the last page. The daemon keeps no state
 * between pages, so a client that stops half-way costs nothing; a table
 * that changes between pages may show an entry twice or miss one that
 * moved, as any live listing.
 *
 * The commands and their arguments are listed in ctl/request.c (one
 * table) and docs/cli.md.
 */
#ifndef NAT64_CTL_WIRE_H
#define NAT64_CTL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool4.h"
#include "types.h"

enum {
	CTL_VERSION = 1,
	CTL_HEADER_LEN = 4,
	CTL_REQUEST_MAX = 1 << 20, /* bytes of JSON in a request */
	CTL_REPLY_MAX = 64 << 20,  /* what a client accepts (a page is ~400 KB) */
	CTL_PAGE = 2048,           /* items per page by default */
	CTL_PAGE_MAX = 8192,       /* largest "limit" a client may ask */
	CTL_INSTANCE_MAX = 15,     /* Jool's limit on instance names */
	CTL_PATH_MAX = 108,        /* sizeof(sun_path) */
};

#define CTL_DIR_DEFAULT      "/run/nat64d"
#define CTL_INSTANCE_DEFAULT "default"

/* The 4-byte length prefix. */
void wire_put_len(uint8_t hdr[CTL_HEADER_LEN], uint32_t len);
uint32_t wire_get_len(const uint8_t hdr[CTL_HEADER_LEN]);

/* 1-15 printable ASCII characters, no '/'. */
bool wire_instance_valid(const char *name);
/* dir/<instance>.sock; false with a reason when the name or the length is bad. */
bool wire_socket_path(char *out, size_t len, const char *dir, const char *instance, char *err,
		      size_t errlen);

/* "TCP", "UDP", "ICMP" (any case). */
bool wire_parse_proto(const char *text, enum l4proto *out);
const char *wire_proto_name(enum l4proto proto);

/*
 * The parsers below take the operator's text and, on failure, write one
 * line naming the bad input and what is accepted, e.g.
 *   invalid port range '70000-80': ports are 0-65535
 */
/* Decimal 0..max, nothing else. */
bool wire_parse_uint(const char *text, uint64_t max, uint64_t *out);
/* "a-b" or "a"; 0-65535 each; swapped when given in reverse. */
bool wire_parse_port_range(const char *text, uint16_t *min, uint16_t *max, char *err,
			   size_t errlen);
/* "a.b.c.d" or "a.b.c.d/len" (0-32), no bits set after the length. */
bool wire_parse_prefix4(const char *text, struct prefix4 *out, char *err, size_t errlen);
/* Same, but bits after the length are cleared rather than refused, as the
 * old documentation's lists expect ("192.0.2.8/28" is 192.0.2.0/28);
 * *masked tells the caller to say so. For pool4 lists on nat64d's command
 * line and the legacy `nat64 --pool4 --add`. */
bool wire_parse_prefix4_masked(const char *text, struct prefix4 *out, bool *masked, char *err,
			       size_t errlen);
/* "a.b.c.d#port" and "ipv6#port". */
bool wire_parse_taddr4(const char *text, struct taddr4 *out, char *err, size_t errlen);
bool wire_parse_taddr6(const char *text, struct taddr6 *out, char *err, size_t errlen);
/* "auto", "infinity" or a number 1-4294967295. */
bool wire_parse_iterations(const char *text, struct pool4_iterations *out, char *err,
			   size_t errlen);
/* 0-4294967295. */
bool wire_parse_mark(const char *text, uint32_t *out, char *err, size_t errlen);

/* "192.0.2.0/24", or "192.0.2.7" for a /32. `out` holds 19 bytes. */
enum { WIRE_PREFIX4_LEN = 19 };
void wire_print_prefix4(const struct prefix4 *p, char *out, size_t len);

#endif
