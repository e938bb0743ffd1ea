/*
 * RFC 6052: IPv4-embedded IPv6 addresses.
 *
 * An IPv4 address is written into an IPv6 prefix of length 32, 40, 48, 56,
 * 64 or 96; bits 64-71 (the "u" octet) are always zero and are skipped.
 */
#ifndef NAT64_CORE_RFC6052_H
#define NAT64_CORE_RFC6052_H

#include "types.h"

enum rfc6052_error {
	RFC6052_OK = 0,
	RFC6052_BAD_LENGTH, /* prefix length not one of 32/40/48/56/64/96 */
	RFC6052_U_OCTET,    /* bits 64-71 of the prefix are not zero */
	RFC6052_HOST_BITS,  /* bits past the prefix length are not zero */
};

/* Check a prefix for use as pool6. Returns RFC6052_OK or the problem. */
enum rfc6052_error rfc6052_validate(const struct prefix6 *prefix);

/* A sentence describing the error, for operators. */
const char *rfc6052_strerror(enum rfc6052_error err);

/* Embed `v4` in `prefix` (RFC 6052 §2.2). `prefix` must be valid. Bits
 * after the IPv4 address (the suffix) are zero. */
void rfc6052_embed(const struct prefix6 *prefix, struct in_addr v4, struct in6_addr *out);

/* Extract the IPv4 address embedded in `v6` (RFC 6052 §2.3). `prefix` must
 * be valid; the caller checks that `v6` is inside it (rfc6052_contains). */
struct in_addr rfc6052_extract(const struct prefix6 *prefix, const struct in6_addr *v6);

/* True when the first `prefix->len` bits of `v6` equal the prefix. */
bool rfc6052_contains(const struct prefix6 *prefix, const struct in6_addr *v6);

/* RFC 6052 §3.1: with the Well-Known Prefix 64:ff9b::/96, only global IPv4
 * addresses may be embedded. True when `v4` is not global (RFC 1918,
 * loopback, link-local, documentation, shared, multicast, reserved, ...). */
bool rfc6052_is_nonglobal4(struct in_addr v4);

/* True when `prefix` is exactly 64:ff9b::/96. */
bool rfc6052_is_wkp(const struct prefix6 *prefix);

#endif
