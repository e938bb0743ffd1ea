/*
 * Full reassembly of IPv4 and IPv6 fragments, so that the RFC 6146 §3
 * pipeline sees one whole packet with its ports, its length and its
 * checksum (RFC 6146 §3.4: the tuple of a non-first fragment is in the
 * first one, which may arrive last). docs/fragments.md explains why full
 * rather than virtual reassembly.
 *
 * Memory: one arena of `budget` bytes, cut into 512-byte blocks when the
 * struct is created, holds everything a datagram needs (its record, its
 * fragments' bytes and bookkeeping, the record of its source). No
 * allocation happens after reasm_create(), so no flood can make the
 * reassembler grow: when the arena (or a source's share of it) is full,
 * fragments are refused and counted; nothing held is ever evicted to make
 * room. reasm_memory() is the number of bytes of the arena in use.
 *
 * Not thread-safe: one struct reasm per worker, used by that worker only.
 */
#ifndef NAT64_CORE_REASSEMBLY_H
#define NAT64_CORE_REASSEMBLY_H

#include "packet.h"
#include "siphash.h"
#include "stats.h"
#include "types.h"

enum {
	/* RFC 6146 §4: FRAGMENT_MIN, the least time an out-of-order
	 * fragment is kept (ms). The timeout may be longer, not shorter. */
	REASM_TIMEOUT_MIN = 2000,
	REASM_DEFAULT_BUDGET = 4 << 20,
	REASM_DEFAULT_SOURCE_LIMIT = 256 << 10,
	REASM_DEFAULT_MAX_FRAGS = 64,
	/* Fragments of one datagram: at most this many may be configured. */
	REASM_MAX_FRAGS_LIMIT = 1024,
	/* Room around a reassembled packet: 4->6 grows its header in place
	 * (PKT_HEADROOM), and the IPv6 fragmenter then needs 8 more bytes
	 * in front of it (fragment.h), which PKT_HEADROOM also covers. */
	REASM_HEADROOM = PKT_HEADROOM,
	REASM_TAILROOM = 64,
};

struct reasm;

struct reasm_config {
	uint32_t budget;       /* bytes of the arena, all datagrams together */
	uint32_t source_limit; /* bytes one source address may hold */
	uint64_t timeout;      /* ms from a datagram's first-arriving fragment, >= 2000 */
	uint32_t max_frags;    /* fragments per datagram */
};

/* Fill `cfg` with the defaults above (timeout REASM_TIMEOUT_MIN). */
void reasm_config_default(struct reasm_config *cfg);

/* NULL if `cfg` is acceptable, else a sentence saying what is wrong and
 * the accepted range: timeout below 2 s, max_frags outside 1..1024, a
 * source limit too small for one datagram of 65535 bytes in max_frags
 * fragments, or a budget smaller than the source limit. */
const char *reasm_config_check(const struct reasm_config *cfg);

/* Allocates a reassembler (arena, hash buckets, output buffer). Returns 0,
 * -EINVAL (see reasm_config_check) or -ENOMEM. `key` seeds the hash of
 * the datagram and source tables, so senders can't choose collisions. */
int reasm_create(struct reasm **out, const struct reasm_config *cfg, const struct siphash_key *key);
void reasm_destroy(struct reasm *r);

/* Change the settings. The budget may be lowered, or raised up to the one
 * given at creation (the arena does not grow); bytes already held above a
 * lowered limit stay until their datagrams complete or expire. Returns 0
 * or -EINVAL (then nothing changed). */
int reasm_configure(struct reasm *r, const struct reasm_config *cfg);

/*
 * Add the fragment in `p` (parsed into `info`: info->outer.is_fragment
 * set) received at `now` (ms). The fragment's bytes are copied: `p` is
 * never changed and may be reused as soon as this returns.
 *
 * Returns:
 *  - STAT_OK: its datagram is complete. `out` describes the whole packet,
 *    in a buffer owned by `r` with REASM_HEADROOM headroom and at least
 *    REASM_TAILROOM tailroom, valid until the next call on `r`; the caller
 *    may translate it in place. It is a normal unfragmented packet that
 *    pkt_parse4/6 accept: IPv4 with MF, DF and offset 0, total length and
 *    header checksum set, the first fragment's options; IPv6 with the
 *    Fragment header removed, its Next Header moved into the header
 *    before it and the payload length set. An IPv6 atomic fragment
 *    (offset 0, M 0) comes back at once, without its Fragment header,
 *    never matched with other fragments (RFC 6946 §4).
 *  - STAT_FRAG_HELD: kept, waiting for the rest of its datagram.
 *  - any other stat: dropped for that reason (counted by the caller).
 *    STAT_UNKNOWN: `info` does not describe a fragment (nothing done).
 *
 * IPv4 UDP whose reassembled checksum field is 0 (RFC 768: none was
 * computed): with `amend_udp_zero` the checksum is computed now, so the
 * translator's incremental update applies; otherwise the datagram is
 * dropped with STAT_XLAT46_UDP_ZERO_CSUM_FRAG (RFC 7915 §4.5).
 */
enum stat_id reasm_add(struct reasm *r, const struct pkt *p, const struct pkt_info *info,
		       uint64_t now, bool amend_udp_zero, struct pkt *out);

/* Called by reasm_expire for an expired datagram whose first fragment
 * (offset 0) had arrived: `first` is that fragment exactly as received,
 * in r's buffer, valid during the call, so that the caller can send ICMP
 * Time Exceeded code 1 "fragment reassembly time exceeded" to its source
 * (RFC 792, RFC 1122 §3.3.2, RFC 8200 §4.5). It must not call into `r`. */
typedef void (*reasm_expired_fn)(void *ctx, const struct pkt *first);

/*
 * Free every datagram whose first fragment arrived at least `timeout` ms
 * before `now`, calling `expired` (if not NULL) for those whose first
 * fragment was there. Datagrams already discarded (overlap, limits) go
 * silently. Returns the number of incomplete datagrams freed, for
 * STAT_FRAG_TIMEOUT. Call it every second or so: a datagram is kept at
 * least `timeout` (RFC 6146 §3.4: FRAGMENT_MIN is a floor) and at most
 * `timeout` plus the calling period.
 */
uint32_t reasm_expire(struct reasm *r, uint64_t now, reasm_expired_fn expired, void *ctx);

/* Bytes of the arena in use (never above the budget). */
uint32_t reasm_memory(const struct reasm *r);
/* Datagrams held, discarded ones waiting for their timeout included. */
uint32_t reasm_datagrams(const struct reasm *r);
/* Everything reasm_create allocated, in bytes (arena + tables + buffer). */
size_t reasm_footprint(const struct reasm *r);

#endif
