/*
 * The stateful NAT64 engine of one instance (one worker): the RFC 6146 §3
 * pipeline over pool4, the BIB and session tables and the RFC 7915
 * translator. This is the whole interface the daemon and the control
 * socket use; nothing here makes a system call or reads a clock.
 *
 * Files: nat64.c (life cycle, control plane), pipeline.c (sequences the
 * steps), one file per step: incoming_tuple.c (§3.4), filtering.c (§3.5),
 * outgoing_tuple.c (§3.6), translation is translate_*.c (§3.7),
 * hairpin.c (§3.8); icmp_error.c builds the ICMP errors the translator
 * originates; syn_queue.c keeps IPv4 SYNs for simultaneous open.
 *
 * Threading: a struct nat64 is used by one thread at a time.
 */
#ifndef NAT64_CORE_NAT64_H
#define NAT64_CORE_NAT64_H

#include "bib.h"
#include "fragment.h"
#include "globals.h"
#include "gso.h"
#include "pool4.h"
#include "port_share.h"
#include "session.h"
#include "siphash.h"
#include "stats.h"
#include "types.h"

struct nat64;

/* What the host tells the engine (not operator settings). */
struct nat64_params {
	/* Source addresses of the ICMP errors the translator originates
	 * (Time Exceeded, Destination Unreachable, Packet Too Big ...). */
	struct in_addr own4;
	struct in6_addr own6;
	/* MTUs of the two sides, for Packet Too Big / Fragmentation Needed
	 * (RFC 7915 §4.2, §5.2) and the DF decision. */
	uint32_t mtu4;
	uint32_t mtu6;
	/* Secret of the RFC 6056 hash and of every hash table: the daemon
	 * draws it with getrandom(); tests pass a fixed one. */
	struct siphash_key key;
	/*
	 * On a TUN device the kernel decrements TTL / hop limit once when it
	 * routes a packet into the device and once when it forwards the
	 * translated packet out, and sends the Time Exceeded itself when a
	 * hop limit runs out on the way in. With this set, the engine adds the
	 * one unit back so a packet loses exactly one unit across the host, as
	 * through any router. Without it (a deployment where the engine is the
	 * only forwarder), the engine decrements and answers Time Exceeded.
	 */
	bool tun_hop_compensation;
	/* ICMP errors the engine originates: a token bucket of this many per
	 * second (burst the same); 0 disables them. */
	uint32_t icmp_errors_per_sec;
	/* With several workers, one engine each: which one this is. New BIB
	 * entries take pool4 ports of this worker's share only, a packet whose
	 * state another worker owns comes back as STAT_HANDOFF, and the session
	 * limits are this share of max-sessions. Zero: the only worker. */
	struct port_share share;
};

/* Creates an engine with settings `g` (copied; pool6 must be set).
 * Returns 0 or a negative errno (-EINVAL names nothing: use the error
 * text written to err). */
int nat64_create(struct nat64 **out, const struct globals *g, const struct nat64_params *p,
		 char *err, size_t errlen);
void nat64_destroy(struct nat64 *n);

/* ---- Data path ---- */

/* Buffer size callers give for replies (an ICMP error the engine builds):
 * the largest ICMPv6 error (1280 bytes) plus headroom. */
enum { NAT64_REPLY_MAX = 1280 + PKT_HEADROOM };

/* What travels with a packet handed to the worker that owns its state. */
struct nat64_handoff {
	unsigned int to;     /* that worker */
	bool hairpin;        /* the 4->6 half of a hairpin (RFC 6146 §3.8) */
	bool from_fragments; /* reassembled here: RFC 7915 §5.1.1 DF and ID rules */
	uint32_t frag_id;    /* the Identification its fragments carried */
	uint8_t overflow;    /* workers whose pool4 share had no port for it */
	struct gso_hdr gso;  /* the offload header it was read with */
};

struct nat64_result {
	/* Write p (translated in place; may be IPv6 again after hairpinning)
	 * to the TUN device. */
	bool send;
	/* Non-zero: an ICMP error was built in the caller's reply buffer,
	 * starting at reply + reply_off, to write to the TUN device too. */
	uint32_t reply_len;
	uint32_t reply_off;
	/* STAT_OK when sent; otherwise the counted reason of the drop. */
	enum stat_id reason;
	/*
	 * With `send`: the packets to write are the ones nat64_result_next()
	 * yields, in order. That is p alone, unless the translated packet is
	 * larger than the next hop allows and may be fragmented (RFC 7915 §4:
	 * IPv4 DF clear, above min(mtu6, lowest-ipv6-mtu); §5: above mtu4,
	 * e.g. a datagram reassembled from IPv6 fragments): then `split` is
	 * set and p is cut into fragments in place, one at a time, as they are
	 * asked for (p itself must not be written then). The other fields are
	 * nat64_result_next()'s.
	 */
	bool split;
	/* reason STAT_HANDOFF: `out` is to run in worker handoff.to, with
	 * nat64_input_handed(). */
	struct nat64_handoff handoff;
	bool taken;
	struct pkt out;
	struct frag_iter frags;
	/*
	 * Offloads (nat64_input_gso()): the header to write before each
	 * packet nat64_result_next() yields. The translated one for a packet
	 * that came with a GSO type or a partial checksum and is sent whole;
	 * all zero (GSO_NONE, flags 0: a full checksum) for anything else,
	 * fragments included. ICMP errors in `reply` always go with zero.
	 */
	struct gso_hdr gso;
	/*
	 * reason STAT_GSO_SEGMENTED: the super-packet can't go as one (too
	 * big for the next hop once translated, an ICMP error is due,
	 * hairpinned, or its header can't be translated). `p` is unchanged;
	 * the caller runs each segment nat64_result_segment() makes through
	 * nat64_input() as an ordinary packet. Nothing was counted as dropped.
	 */
	bool segment;
	struct gso_seg seg;
};

/*
 * Runs one packet from the TUN device (IPv4 or IPv6, told by its version
 * nibble) through the pipeline at time `now` (ms, monotonic). `p` must have
 * PKT_HEADROOM of headroom and at least 40 bytes of tailroom. `reply` has
 * room for NAT64_REPLY_MAX bytes.
 *
 * A fragment is kept until its datagram is whole (res->reason
 * STAT_FRAG_HELD, nothing to send); the fragment that completes it comes
 * back with `p` pointing at the whole datagram in the engine's own buffer,
 * valid until the next call into the engine. So callers write what
 * nat64_result_next() yields (or p->data), never their own buffer.
 */
void nat64_input(struct nat64 *n, struct pkt *p, uint64_t now, uint8_t *reply,
		 struct nat64_result *res);

/*
 * A packet another worker handed over (res->out and res->handoff of its
 * nat64_input()): run as that worker would have, had it owned the state
 * (a hairpin's 4->6 half as hairpin() does, a reassembled datagram as
 * one). It is never handed on again.
 */
void nat64_input_handed(struct nat64 *n, struct pkt *p, const struct nat64_handoff *h, uint64_t now,
			uint8_t *reply, struct nat64_result *res);

/*
 * nat64_input() for a packet read with its virtio_net_hdr (TUN with
 * IFF_VNET_HDR, docs/offloads.md): `gso` is that header (NULL or all zero:
 * exactly nat64_input()). A super-packet (gso_type TCPV4/TCPV6/UDP_L4) is
 * translated once and res->gso says how the kernel must segment it; a
 * partial checksum (GSO_F_NEEDS_CSUM) stays partial, with the new
 * pseudo-header. Or res->segment asks the caller to segment first.
 */
void nat64_input_gso(struct nat64 *n, struct pkt *p, const struct gso_hdr *gso, uint64_t now,
		     uint8_t *reply, struct nat64_result *res);

/* Buffer for one segment: PKT_HEADROOM, the largest IP packet (an IPv6
 * payload of 65535 bytes), the tailroom nat64_input() asks for. */
enum { NAT64_SEGMENT_BUF = PKT_HEADROOM + 40 + 65535 + 40 };

/*
 * With res->segment: the next segment of the super-packet into `buf`
 * (NAT64_SEGMENT_BUF bytes, reused for each: translate and write one
 * before asking for the next), as `seg`, ready for nat64_input(). Each
 * segment has a full checksum. False after the last one. Usage:
 *      while (nat64_result_segment(&res, buf, &seg)) {
 *              nat64_input(n, &seg, now, reply, &r2); ... write r2 ...
 *      }
 */
bool nat64_result_segment(struct nat64_result *res, uint8_t *buf, struct pkt *seg);

/*
 * The next packet to write for `res` (after nat64_input), in `out`: valid
 * until the next call (a fragment's headers are written over the bytes of
 * the one before, which must have been written by then). False when there
 * is none left, or nothing to send. Usage:
 *      while (nat64_result_next(&res, &out))
 *              write(fd, out.data, out.len);
 */
bool nat64_result_next(struct nat64_result *res, struct pkt *out);

/* Packets the engine sends on its own (TCP probes, ICMP errors for
 * expired stored SYNs). The callee writes them out and returns. */
typedef void (*nat64_emit_fn)(void *ctx, const uint8_t *pkt, uint32_t len);

/* Periodic work (every second or two): expiry, stored SYNs, incomplete
 * datagrams past reassembly-timeout (with ICMP Time Exceeded code 1 to
 * their source when their first fragment came: RFC 792, RFC 8200 §4.5). */
void nat64_tick(struct nat64 *n, uint64_t now, nat64_emit_fn emit, void *ctx);

/* ---- Control plane: every change is all-or-nothing ---- */

const struct globals *nat64_globals(const struct nat64 *n);
/* Replaces the settings (pool6 can't change). 0, or -1 with a reason. */
int nat64_set_globals(struct nat64 *n, const struct globals *g, char *err, size_t errlen);

/* pool4 add/remove/flush. Without `quick`, remove and flush also delete
 * the BIB entries (and sessions) that use the removed taddrs, as Jool.
 * Return 0 or a negative errno (pool4_strerror() explains it). */
int nat64_pool4_add(struct nat64 *n, const struct pool4_entry *e,
		    const struct pool4_iterations *iter);
int nat64_pool4_remove(struct nat64 *n, const struct pool4_entry *e, bool quick, uint64_t now);
void nat64_pool4_flush(struct nat64 *n, bool quick, uint64_t now);
/* The node's own IPv4 addresses, for the empty-pool4 fallback. */
int nat64_pool4_set_fallback(struct nat64 *n, const struct in_addr *addrs, size_t count);
const struct pool4 *nat64_pool4(const struct nat64 *n);

/* Static BIB entries: the IPv4 taddr must be in pool4 (-EADDRNOTAVAIL
 * otherwise); other errors as bib_add_static(). */
int nat64_bib_add(struct nat64 *n, enum l4proto proto, const struct taddr6 *a6,
		  const struct taddr4 *a4, uint64_t now);
/* Either taddr may be NULL (not both). */
int nat64_bib_remove(struct nat64 *n, enum l4proto proto, const struct taddr6 *a6,
		     const struct taddr4 *a4, uint64_t now);
/* The tables, for display (bib_foreach, session_foreach ...). */
const struct bib *nat64_bib(const struct nat64 *n);

const struct stats *nat64_stats(const struct nat64 *n);

/* Fragment reassembly now: bytes of its arena in use (never above
 * reassembly-budget) and datagrams held. */
struct nat64_frag_usage {
	uint32_t bytes;
	uint32_t datagrams;
	uint32_t budget;
};
void nat64_frag_usage(const struct nat64 *n, struct nat64_frag_usage *u);

/* Log hook for BIB/session events (logging-bib / logging-session). */
void nat64_set_log_hook(struct nat64 *n, void (*log)(void *ctx, const struct bib_event *ev),
			void *ctx);

#endif
