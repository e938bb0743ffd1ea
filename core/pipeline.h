/*
 * Internals of the engine (nat64.h), shared by nat64.c, pipeline.c and
 * the files of the RFC 6146 §3 steps. Not an API for anything else.
 *
 * The pipeline (pipeline.c) runs the steps in RFC order on a struct
 * xlation, the state of one packet:
 *
 *   6->4: incoming_tuple6 (§3.4), filtering6 (§3.5), outgoing_tuple6
 *         (§3.6), translation (§3.7, translate.h), hairpin (§3.8);
 *   4->6: incoming_tuple4, filtering4, outgoing_tuple4, translation.
 *
 * Every step returns a struct verdict. The only ways to make one are the
 * helpers below: verdict_continue(), or an exit that names its reason (a
 * stat_id, counted once, here) and may record the ICMP error the single
 * exit of the pipeline will build. A verdict is a one-member struct so
 * that `return -1;` or `return STAT_X;` does not compile.
 */
#ifndef NAT64_CORE_PIPELINE_H
#define NAT64_CORE_PIPELINE_H

#include "fragment.h"
#include "icmp_error.h"
#include "nat64.h"
#include "packet.h"
#include "port_share.h"
#include "ratelimit.h"
#include "reassembly.h"
#include "rfc6056.h"
#include "syn_queue.h"
#include "translate.h"

/* The engine (opaque in nat64.h). */
struct nat64 {
	struct globals g;
	struct nat64_params params;
	struct pool4 *pool4;
	struct bib bib;
	struct rfc6056 rfc6056;
	struct syn_queue synq;
	struct ratelimit icmp_rl;
	struct stats stats;
	/* Fragments are reassembled before the steps run (docs/fragments.md);
	 * the arena was sized for reasm_capacity bytes when it was made. */
	struct reasm *reasm;
	uint32_t reasm_capacity;
	/* RFC 7915 §5.1 leaves the Identification of a packet without a
	 * Fragment header to the translator. A counter per engine: values
	 * repeat only after 65536 packets, which RFC 6864 §4.1 accepts for
	 * atomic datagrams (DF set, the > 1260-byte case) and which is what
	 * any IPv4 host without per-destination counters does for the rest;
	 * a secret-keyed per-destination generator (RFC 7739) can replace it
	 * without touching the callers. */
	uint16_t ipv4_id;
	void (*log)(void *ctx, const struct bib_event *ev);
	void *log_ctx;
};

/* RFC 6146 §3.4: the incoming tuple. */
struct tuple {
	enum l4proto proto;
	/* The packet is an ICMP error: the tuple is its inner packet's,
	 * reversed, i.e. the flow the error is about as if it were this
	 * packet's (RFC 6146 §3.4). */
	bool is_error;
	uint8_t tcp_flags;
	/* 6->4: source and destination as the IPv6 packet shows them;
	 * dst4 is the IPv4 address embedded in dst6, with dst6's port. */
	struct taddr6 src6;
	struct taddr6 dst6;
	/* 4->6: source (the remote node) and destination (our mask). */
	struct taddr4 src4;
	struct taddr4 dst4;
};

/* One packet on its way through the pipeline. */
struct xlation {
	struct nat64 *n;
	struct pkt *p;
	struct pkt_info info;
	uint64_t now;
	/* §3.8: the second, 4->6 pass of a hairpinned packet: the hop limit
	 * stays as it is and no ICMP error is built (its source would be one
	 * of our own pool4 addresses). */
	bool hairpin;
	struct tuple in;
	/* The outer header's addresses that the tuple of an ICMP error
	 * doesn't hold: 6->4 the IPv4 address embedded in the destination;
	 * 4->6 the IPv4 source. */
	struct in_addr outer4;
	/* §3.5 result: the BIB entry, and the session when there is one (TCP
	 * may translate through a BIB entry alone). */
	const struct bib_entry *bib;
	struct session *session;
	/* §3.6 result. */
	struct xlat_addrs4 out4;
	struct xlat_addrs6 out6;
	/* The packet was rebuilt from fragments (or is an IPv6 atomic
	 * fragment without its Fragment header): frag_id is the
	 * Identification its fragments carried (RFC 7915 §5.1.1). */
	bool from_fragments;
	uint32_t frag_id;
	/* 4->6: DF and Identification of the IPv4 header as translated,
	 * for the fragmentation of the output (RFC 7915 §4, §4.1). */
	bool df4;
	uint16_t id4;
	/* Output too big for the next hop, DF clear: sent as these fragments. */
	bool split;
	struct frag_iter frags;
	/* Offloads (pipeline_offload.c, docs/offloads.md): the header the
	 * packet came with (NULL: none, or nothing to do), and the one to
	 * send it with. `gso`: a super-packet translated as one;
	 * `csum_partial`: its TCP/UDP checksum field holds a pseudo-header sum
	 * (the translation leaves it alone, offload_out() rewrites it). */
	const struct gso_hdr *gso_in;
	struct gso_hdr gso_out;
	bool gso;
	bool csum_partial;
	/* The super-packet must be segmented first (STAT_GSO_SEGMENTED). */
	bool segment;
	struct gso_seg seg;
	/* Recorded by the verdict helpers for the exit. */
	enum stat_id reason;
	unsigned int handoff_to;
	/* Handed over by another worker: never handed on, except to the
	 * next worker when pool4 shares overflow (`overflow` of them full). */
	bool handed;
	uint8_t overflow;
	struct icmp_error icmp;
};

enum verdict_code {
	VERDICT_CONTINUE = 0, /* go on with the next step */
	VERDICT_DROP,         /* dropped; reason counted, maybe an ICMP error */
	VERDICT_STOLEN,       /* kept by the engine (stored SYN); nothing sent now */
	VERDICT_HANDOFF,      /* another worker owns the packet's state */
};

struct verdict {
	enum verdict_code code;
};

static inline struct verdict
verdict_continue(void)
{
	return (struct verdict){VERDICT_CONTINUE};
}

static inline bool
verdict_ok(struct verdict v)
{
	return v.code == VERDICT_CONTINUE;
}

/* Drop, counted in `why`, silently. */
static inline struct verdict
verdict_drop(struct xlation *x, enum stat_id why)
{
	stat_inc(&x->n->stats, why);
	x->reason = why;
	return (struct verdict){VERDICT_DROP};
}

/* Drop, counted in `why`, answering with ICMPv6 error type/code/rest. */
static inline struct verdict
verdict_drop_icmp6(struct xlation *x, enum stat_id why, uint8_t type, uint8_t code, uint32_t rest)
{
	x->icmp = (struct icmp_error){6, type, code, rest};
	return verdict_drop(x, why);
}

/* Drop, counted in `why`, answering with ICMPv4 error type/code/rest. */
static inline struct verdict
verdict_drop_icmp4(struct xlation *x, enum stat_id why, uint8_t type, uint8_t code, uint32_t rest)
{
	x->icmp = (struct icmp_error){4, type, code, rest};
	return verdict_drop(x, why);
}

/* The engine kept the packet (counted in `why`). */
static inline struct verdict
verdict_stolen(struct xlation *x, enum stat_id why)
{
	stat_inc(&x->n->stats, why);
	x->reason = why;
	return (struct verdict){VERDICT_STOLEN};
}

/*
 * With several workers (port_share.h) the state of a flow lives in the
 * worker that owns its pool4 port; a new mapping is made by the worker
 * that owns the IPv6 source port (so that it can be kept: port
 * preservation), from that worker's share. A packet that reached another
 * worker (a static BIB entry's IPv6 side, a hairpinned packet, a datagram
 * reassembled from fragments, or any packet when steering is by address)
 * leaves untouched for the owner.
 */
static inline bool
foreign_port(const struct xlation *x, uint16_t port)
{
	return !port_share_mine(&x->n->params.share, port);
}

static inline struct verdict
verdict_handoff(struct xlation *x, uint16_t port)
{
	if (x->handed)
		return verdict_drop(x, STAT_HANDOFF_LOOP);
	x->handoff_to = port_share_owner(port, x->n->params.share.count);
	stat_inc(&x->n->stats, STAT_HANDOFF);
	x->reason = STAT_HANDOFF;
	return (struct verdict){VERDICT_HANDOFF};
}

/* No IPv6 flow state here: is the new mapping another worker's to make
 * (the owner of the source port), unless that one's share overflowed? */
static inline bool
maps_elsewhere(const struct xlation *x)
{
	return x->overflow == 0 && foreign_port(x, x->in.src6.port);
}

/*
 * This worker's share of pool4 is exhausted for a new mapping: the next
 * worker tries its share (a pool4 smaller than the workers' shares, or
 * an uneven load), until every worker has; the flow's later packets make
 * the same round to the worker that found a port. Only the last worker
 * counts POOL4_EXHAUSTED and answers with the ICMP error.
 */
static inline struct verdict
verdict_overflow(struct xlation *x)
{
	x->overflow++;
	x->handoff_to = (x->n->params.share.index + 1u) % x->n->params.share.count;
	stat_inc(&x->n->stats, STAT_HANDOFF);
	x->reason = STAT_HANDOFF;
	return (struct verdict){VERDICT_HANDOFF};
}

/* pipeline.c: sequencing and the single exit. */
void pipeline_run(struct nat64 *n, struct pkt *p, const struct gso_hdr *gso, uint64_t now,
		  uint8_t *reply, struct nat64_result *res);
/* A packet handed over by another worker (nat64_input_handed()). */
void pipeline_run_handed(struct nat64 *n, struct pkt *p, const struct nat64_handoff *h,
			 uint64_t now, uint8_t *reply, struct nat64_result *res);
/* The 4->6 steps from the incoming tuple on, for a packet already parsed
 * into x->info (an IPv4 packet, or a hairpinned one). */
struct verdict pipeline_core4(struct xlation *x);
/* May the engine send an ICMP error now (rate limit, counted)? */
bool pipeline_icmp_allowed(struct nat64 *n, uint64_t now);

/* incoming_tuple.c: RFC 6146 §3.4. */
struct verdict incoming_tuple6(struct xlation *x);
struct verdict incoming_tuple4(struct xlation *x);

/* filtering.c: RFC 6146 §3.5 (UDP §3.5.1, ICMP queries §3.5.3, ICMP
 * errors: the BIB entry of the flow they quote) and the address checks
 * that precede it. */
struct verdict filtering6(struct xlation *x);
struct verdict filtering4(struct xlation *x);
/* Shared with filtering_tcp.c: a free pool4 taddr for x->in.src6 (RFC
 * 6146 §3.5.1.1, RFC 6056), or an exit with ICMPv6 1/3. */
struct verdict filtering_choose_mask(struct xlation *x, struct taddr4 *mask);
/* A session (and dynamic BIB entry if needed) for a 6->4 packet masked
 * by `mask`; sets x->bib and x->session. */
struct verdict filtering_add_session6(struct xlation *x, const struct taddr4 *mask,
				      enum tcp_state state);
/* A session of BIB entry `e` for a 4->6 packet. */
struct verdict filtering_add_session4(struct xlation *x, const struct bib_entry *e,
				      enum tcp_state state);
/* Continue when this worker owns BIB entry `e`'s port (a static entry is
 * in every worker's BIB, its sessions in the owner's), else hand off. */
struct verdict filtering_owned(struct xlation *x, const struct bib_entry *e);
/* Address-dependent filtering (RFC 4787 §5): may x's IPv4 source reach
 * the IPv6 node of `e` without a session of its own? */
bool filtering_adf_allows(const struct xlation *x, const struct bib_entry *e);

/* filtering_tcp.c: RFC 6146 §3.5.2. */
struct verdict filtering_tcp6(struct xlation *x);
struct verdict filtering_tcp4(struct xlation *x);

/* outgoing_tuple.c: RFC 6146 §3.6. */
void outgoing_tuple6(struct xlation *x);
void outgoing_tuple4(struct xlation *x);
/* The IPv4 address whose pool6 form is the source of the translated
 * 4->6 packet (for ICMP errors: see outgoing_tuple.c). */
struct in_addr outgoing_tuple4_src(const struct xlation *x);

/* pipeline_offload.c: the virtio_net_hdr across the steps. */
/* After parsing: checks the header, finishes a partial checksum that
 * can't stay partial, marks super-packets. */
struct verdict offload_in(struct xlation *x);
/* 6->4 after the incoming tuple, 4->6 before filtering (no state changed
 * yet): can the super-packet go as one? Else STAT_GSO_SEGMENTED. */
struct verdict offload_check(struct xlation *x);
/* After translation: the header to send, the new pseudo-header sum. */
struct verdict offload_out(struct xlation *x);
/* Before the packet is fragmented or quoted by an ICMP error: a full
 * checksum, `h` being the header that describes the packet now. */
void offload_csum_complete(struct xlation *x, const struct gso_hdr *h);

/* hairpin.c: RFC 6146 §3.8, after a 6->4 translation. */
struct verdict hairpin(struct xlation *x);

#endif
