/*
 * Internet checksums (RFC 1071) and their incremental update (RFC 1624).
 *
 * Partial sums are 32-bit accumulators of 16-bit big-endian words, not yet
 * folded; csum_fold() folds and complements to the value that goes on the
 * wire (returned in network byte order, ready to memcpy into a header).
 *
 * Every sum returned here is already folded to 0 .. 0xFFFF (and is 0 only
 * when all the data was zero), so a caller may add a few sums with `+`;
 * csum_add() does it without any limit.
 */
#ifndef NAT64_CORE_CHECKSUM_H
#define NAT64_CORE_CHECKSUM_H

#include "types.h"

/* Add `len` bytes at `data` to the running sum `sum`. An odd length is
 * padded with a zero byte, as RFC 1071 says. Only the last chunk of a
 * message may be odd. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);

/* Fold to 16 bits and complement: the checksum field value, network order. */
uint16_t csum_fold(uint32_t sum);

/* Sum of the IPv4 pseudo-header (RFC 793/768): src, dst, zero, proto, length. */
uint32_t csum_pseudo4(struct in_addr src, struct in_addr dst, uint8_t proto, uint32_t len);

/* Sum of the IPv6 pseudo-header (RFC 8200 §8.1): src, dst, length, next header. */
uint32_t csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst, uint8_t proto,
		      uint32_t len);

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). `old_csum` is the field as it
 * is in the packet (network order); `old_sum` / `new_sum` are unfolded sums
 * of the data that was removed / added. Returns the new field value
 * (network order).
 */
uint16_t csum_replace(uint16_t old_csum, uint32_t old_sum, uint32_t new_sum);

/* Same for one 16-bit field changing from `old` to `new` (both network order). */
uint16_t csum_replace16(uint16_t old_csum, uint16_t old, uint16_t new);

/* Same for an IPv4 address changing from `old` to `new`. */
uint16_t csum_replace4(uint16_t old_csum, struct in_addr old, struct in_addr new);

/* One's complement sum of two partial sums (end-around carry). */
uint32_t csum_add(uint32_t a, uint32_t b);

/* Checksum of an IPv4 header of `ihl_bytes` (field must be zero or it is
 * verified: a correct header sums to 0). */
uint16_t csum_ipv4_header(const void *hdr, size_t ihl_bytes);

#endif
