/*
 * Test-only packet builders and an independent reference checksum.
 *
 * The translator's checksums are verified with ref_csum(), a naive
 * byte-at-a-time one's complement sum that shares no code with
 * core/checksum.c, so a bug there can't hide itself.
 *
 * Builders write one header at `b` and return its length. Addresses are
 * text ("2001:db8::1", "192.0.2.1"); ports and lengths host order.
 */
#ifndef NAT64_TESTS_PKTGEN_H
#define NAT64_TESTS_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PG_TCP_SYN = 0x02, PG_TCP_ACK = 0x10, PG_TCP_FIN = 0x01, PG_TCP_RST = 0x04 };

/* Naive RFC 1071 checksum over the concatenation of up to three chunks
 * (pseudo-header, header, payload); returns the field value in host order. */
uint16_t ref_csum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* IPv6 fixed header; payload_len is the Payload Length field. */
size_t pg_ipv6(uint8_t *b, const char *src, const char *dst, uint8_t next_header, uint8_t hop_limit,
	       uint16_t payload_len);
/* Set traffic class and flow label of an IPv6 header built by pg_ipv6. */
void pg_ipv6_set_tc_flow(uint8_t *ip6, uint8_t tclass, uint32_t flow);

/* IPv4 header without options (checksum filled in). frag = flags<<13 | offset/8,
 * e.g. 0x4000 for DF. total_len is the Total Length field. */
size_t pg_ipv4(uint8_t *b, const char *src, const char *dst, uint8_t proto, uint8_t ttl,
	       uint16_t id, uint16_t frag, uint16_t total_len);
/* Recompute the header checksum of the IPv4 header at b (after an edit). */
void pg_ipv4_fix_csum(uint8_t *ip4);

/* UDP header (length = 8 + payload_len, checksum 0 until pg_fix_*). */
size_t pg_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t payload_len);
/* TCP header of 20 bytes, window 65535, checksum 0 until pg_fix_*. */
size_t pg_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
	      uint8_t flags);
/* ICMP/ICMPv6 header: type, code, checksum 0, then the 32-bit "rest" field
 * (e.g. id << 16 | seq for echo, MTU for PTB, pointer << 24 for ParamProb). */
size_t pg_icmp(uint8_t *b, uint8_t type, uint8_t code, uint32_t rest);

/* Fill in the transport checksum of a whole IPv6 / IPv4 packet (no
 * extension headers / no options handled beyond IHL). proto is taken from
 * the header. ICMPv4 has no pseudo-header; ICMPv6, TCP and UDP do. */
void pg_fix_l4_csum6(uint8_t *pkt, size_t len);
void pg_fix_l4_csum4(uint8_t *pkt, size_t len);
/* True when the transport checksum of the packet verifies. For IPv6 the
 * transport header starts at l4_off with protocol `proto` (so extension
 * headers are supported); for IPv4 it is taken from IHL and Protocol. */
bool pg_l4_csum_ok6(const uint8_t *pkt, size_t len, size_t l4_off, uint8_t proto);
bool pg_l4_csum_ok4(const uint8_t *pkt, size_t len);
/* True when the IPv4 header checksum verifies. */
bool pg_ipv4_csum_ok(const uint8_t *ip4);

/* Compare two byte strings; on a difference, fail the current Criterion
 * test naming the first differing offset and both values. */
void pg_assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len);

/* ---- Added for the translator tests ---- */

/* Hop-by-Hop or Destination Options header of (units + 1) * 8 bytes,
 * filled with one PadN option. */
size_t pg_ext6(uint8_t *b, uint8_t next_header, uint8_t units);
/* 8-byte Routing header with the given Segments Left. */
size_t pg_routing6(uint8_t *b, uint8_t next_header, uint8_t segments_left);
/* IPv6 Fragment header; offset in bytes (multiple of 8). */
size_t pg_frag6(uint8_t *b, uint8_t next_header, uint16_t offset, bool more, uint32_t id);

#endif
