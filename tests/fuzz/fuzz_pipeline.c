/*
 * libFuzzer target: the whole stateful engine (nat64.h), fed SEQUENCES of
 * packets so that sessions, stored SYNs, reassembly, exhaustion and expiry
 * are reached, not only the first packet of a flow.
 *
 * Input layout:
 *   byte 0   settings: bit 0 tun_hop_compensation, bit 1 adf,
 *            bit 2 drop_external_tcp, bit 3 drop_icmp6_info,
 *            bit 4 handle_rst_during_fin_rcv, bit 5 src_icmp6_errors_better,
 *            bit 6 amend_udp_checksum_zero, bit 7 small MTUs (IPv6 1280,
 *            IPv4 576) instead of 1500 on both sides
 *   byte 1   bits 0-1 ICMP errors per second (rate_from_bits), bit 2
 *            f-args 0 instead of the default, bit 3 zeroize_traffic_class,
 *            bit 4 pool4 max-iterations 4 instead of auto, bit 5
 *            manually-enabled off, bit 6 two workers (below)
 *   then records [flags][length, 2 bytes big endian][packet], the last one
 *   possibly cut short (its length is then what is left). The length's top
 *   bit is no length (REC_LEN_MISROUTE, two workers only: the record goes
 *   to the other worker than steering picks), so a length is 0-32767:
 *   flags    bit 0: repair the packet's checksums (fixup4/fixup6, as
 *                   fuzz_translate.c: without it almost every mutation dies
 *                   on a checksum in the parser)
 *            bit 1: tailroom 40 (the least nat64_input accepts) instead of
 *                   FUZZ_TAILROOM
 *            bits 2-4: advance the clock by time_step[] first
 *            bit 5: then call nat64_tick
 *            bit 6: answer: before the repair, rewrite the packet's
 *                   addresses and ports (those of the packet an ICMP error
 *                   quotes too) to answer the last packet of its family the
 *                   engine sent or emitted (see answer()). Masks come from
 *                   RFC 6056 hashing, which no mutation can guess; this is
 *                   how a sequence reaches the 4->6 half of its flows.
 *            bit 7: offload header: the record's bytes are the 10-byte
 *                   virtio_net_hdr (gso_hdr_read(), as the TUN device
 *                   writes it with IFF_VNET_HDR), then the packet, which
 *                   goes through nat64_input_gso(); a record shorter than
 *                   the header is skipped (the daemon drops such a read).
 *                   With bit 0, a NEEDS_CSUM packet's field gets the
 *                   pseudo-header sum (gso_pseudo_csum()) after the repair.
 *   A record of length 0 only moves the clock (and ticks).
 *
 * Two workers (settings byte 1 bit 6): two engines with share {0,2} and
 * {1,2}, the same settings, pool4 and static entry in both (the static
 * entry's port 1010 is worker 1's). Each record goes to the worker
 * steer() picks, a reduced form of docs/steering.md: port_share_owner()
 * of the IPv6 source port (echo identifier), of the IPv4 destination port,
 * of an ICMP error's quoted port on our side; fragments and anything
 * without ports by the last byte of the source address; REC_LEN_MISROUTE
 * sends it to the other worker instead. A STAT_HANDOFF result is copied
 * to a fresh buffer of its exact size (plus the record's room) and runs
 * in worker res->handoff.to with nat64_input_handed(), its result checked
 * as any other; a handed packet may be handed on only with one more
 * overflow, to the next worker, or once as the IPv4 half of a hairpin it
 * turned into (so at most `workers` + 1 hops), otherwise abort(). With one worker a handoff is a
 * failure. Engine reuse, the reset and the drain cover both engines.
 *
 * Offloads: a result with res->segment (STAT_GSO_SEGMENTED) is cut with
 * nat64_result_segment() into a heap buffer of exactly NAT64_SEGMENT_BUF
 * bytes, and each segment runs through nat64_input() in the same worker
 * (handoffs included), as daemon/pump.c does.
 *
 * The engine: pool6 64:ff9b::/96, pool4 192.0.2.0/30 ports 1000-1015 for
 * TCP, UDP and ICMP (64 taddrs per protocol: a sequence of a few dozen
 * packets exhausts it), max-sessions 96, max-sessions-per-host 32,
 * maximum-simultaneous-opens 4, a 256 KiB reassembly arena and one static
 * TCP entry 2001:db8::2#80 <-> 192.0.2.2#1010 (inbound TCP, hairpinning).
 * Created under ASan it costs 2.3 ms, more than most inputs, so one is
 * reset and reused for up to FUZZ_REUSE inputs (engine()). The reset puts
 * back everything that changes what the engine does, so an input behaves
 * as on a fresh engine and a finding replays from its file alone (checked
 * once over 2000 corpus inputs: the same bytes out, fresh or reused).
 * Every input ends with the drain of property 6, which the reuse needs.
 *
 * Every packet is copied into a heap buffer of exactly PKT_HEADROOM + len +
 * tailroom bytes, the reply buffer is exactly NAT64_REPLY_MAX bytes, and
 * each packet the engine hands out is copied to a buffer of its exact
 * length after the harness has read all the room the engine advertises
 * around it, so AddressSanitizer catches any access outside them.
 *
 * Properties checked (abort() on violation, so libFuzzer records it):
 *   1. result: send iff reason is STAT_OK; no reply with a sent packet;
 *      nat64_result_next yields at least one packet when send, then stops;
 *      segment iff reason is STAT_GSO_SEGMENTED, only for a packet with an
 *      offload header and never with a reply, and then at least one
 *      segment, each with a good checksum; no reply with a handoff; a
 *      handoff goes to another worker, with the overflow rule above; a
 *      hairpin's handed half is IPv4 with a good checksum when the
 *      input's was (unless partial);
 *   2. each packet written parses as the other family (IPv6 again after a
 *      hairpin, told by the HAIRPINNED counter) and fits the MTU of its
 *      side; the fragments of a split packet are contiguous, share their
 *      Identification, carry MF but the last, fit min(mtu6,
 *      lowest-ipv6-mtu) or mtu4, and put back together they parse;
 *      whole or put back together, if the input's transport checksum was
 *      good (unfragmented TCP, UDP, ICMP), the output's is. With offloads
 *      "good" means once finished as the kernel would (gso_csum_complete()
 *      on a copy), for the input (NEEDS_CSUM) and the output (res->gso
 *      NEEDS_CSUM); res->gso stays zero for a packet without a header and
 *      for fragments, else it must describe the packet (NEEDS_CSUM,
 *      csum_start its transport header, csum_offset of its protocol,
 *      gso_type of its family and protocol, gso_size not 0); a TCP
 *      super-packet is cut as the kernel would (gso_seg_*) and each
 *      segment must parse and fit the MTU (for UDP_L4 only the first
 *      segment's size is checked), a whole one must fit as before;
 *   3. a reply fits in NAT64_REPLY_MAX, parses, is an ICMP error of the
 *      input's family within ICMP_ERROR6_MAX / ICMP_ERROR4_MAX, goes to the
 *      input's source, has a good checksum, and never answers an ICMP
 *      error (checked on the input, and on its quote by the parser);
 *   4. what nat64_tick emits (probes, errors for stored SYNs and expired
 *      fragments) parses with a good checksum, and an error in it never
 *      quotes an ICMP error (an error whose quote the parser does not take,
 *      e.g. about a fragment without ports, is checked by hand);
 *   5. limits: at most 96 sessions in all; each engine at most its
 *      share of them (share_of() in nat64.c: 48 with two workers), and
 *      at most its share of 32 for the sender (max-sessions-per-host,
 *      split the same way: 16 with two workers);
 *   6. after the last record the clock jumps past every timeout (twice,
 *      so probed sessions die too): no session, dynamic BIB entry, stored
 *      SYN or fragment is left; when the engine is replaced,
 *      nat64_destroy must free everything (LeakSanitizer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "fuzz_csum.h"
#include "icmp_error.h"
#include "nat64.h"
#include "packet.h"
/* Internals, only to reset a reused engine and check that it is empty
 * (engine_reset(), drain()). */
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	FUZZ_SETTINGS = 2,   /* bytes before the first record */
	FUZZ_REC_HDR = 3,    /* flags + length */
	FUZZ_TAILROOM = 128, /* 4->6 ICMP errors grow the quoted packet */
	FUZZ_MIN_TAILROOM = 40,
	FUZZ_MAX_SESSIONS = 96,
	FUZZ_MAX_PER_HOST = 32,
	FUZZ_SIMULTANEOUS_OPENS = 4,
	FUZZ_POOL4_PORT_MIN = 1000,
	FUZZ_POOL4_PORT_MAX = 1015,
	FUZZ_REASM_BUDGET = 256 << 10, /* the per-source default: the least allowed */
	FUZZ_WHOLE_MAX = 60 + 65535,   /* a split packet put back together */
	FUZZ_EPOCH = 1000000,          /* start of the clock: not 0, which could hide a bug */
	FUZZ_REUSE = 128,              /* inputs per engine, see engine() */
};

enum {
	REC_FIXUP = 1,
	REC_SMALL_TAILROOM = 2,
	REC_TIME_SHIFT = 2,
	REC_TIME_MASK = 7,
	REC_TICK = 32,
	REC_ANSWER = 64,
	REC_VNET = 128,
	REC_LEN_MISROUTE = 0x8000, /* top bit of the length */
	REC_LEN_MASK = 0x7fff,
};

enum {
	S1_TWO_WORKERS = 64, /* settings byte 1 */
	FUZZ_WORKERS_MAX = 2,
	FUZZ_MAX_SEGMENTS = 65536,
};

/* Clock steps (ms): each one just past a limit of the engine. */
static const uint64_t time_step[8] = {
	0,
	1,
	1000,
	2001,            /* reassembly timeout (RFC 6146 §4 FRAGMENT_MIN) */
	6001,            /* stored SYN (RFC 6146 §3.5.2.2) */
	60001,           /* ICMP query session */
	300001,          /* UDP session, TCP transitory */
	2 * 3600000 + 1, /* TCP established */
};

/* A packet the engine sent, as answer() needs it. */
struct flow {
	bool valid;
	uint8_t src[16]; /* IPv4: first 4 bytes */
	uint8_t dst[16];
	uint16_t sport; /* host order; ICMP query: the identifier */
	uint16_t dport;
};

struct fuzz_run {
	struct nat64 *n[FUZZ_WORKERS_MAX]; /* one engine per worker */
	unsigned int workers;              /* 1, or 2 (settings bit S1_TWO_WORKERS) */
	uint64_t now;
	uint32_t mtu4, mtu6, frag6_limit;
	uint32_t tail; /* tailroom of the current record's buffers */
	struct flow last4, last6;
	uint8_t *whole;  /* FUZZ_WHOLE_MAX bytes: a split packet put back together */
	uint64_t *clock; /* where the clock goes on for the next input */
};

static void
fail(const char *what, int detail)
{
	fprintf(stderr, "fuzz_pipeline: %s (%d)\n", what, detail);
	abort();
}

/* Build with -DFUZZ_VERBOSE to follow what happens to each packet (e.g. to
 * check that the seeds get where they should). */
static void
trace(const char *step, enum stat_id why)
{
#ifdef FUZZ_VERBOSE
	fprintf(stderr, "fuzz_pipeline: %s: %s\n", step, stat_name(why));
#else
	(void)step;
	(void)why;
#endif
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- Answering the engine ------------------------------------------- */

static bool
is_echo(uint8_t type, bool v6)
{
	return v6 ? type == 128 || type == 129 : type == 0 || type == 8;
}

/* The transport ports (or echo identifier) of a packet going `sport` ->
 * `dport`; an ICMP error gets its quote rewritten instead. */
static void answer_quote(uint8_t *q, uint32_t len, const struct flow *f, bool v6);

static void
answer_l4(uint8_t *l4, uint32_t len, uint8_t proto, uint16_t sport, uint16_t dport,
	  const struct flow *f, bool v6)
{
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		if (len >= 4) {
			put16(l4, sport);
			put16(l4 + 2, dport);
		}
		return;
	}
	if (proto != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) || len < 8)
		return;
	if (is_echo(l4[0], v6))
		put16(l4 + 4, sport);
	else if (f && (v6 ? pkt_icmp6_is_error(l4[0]) : pkt_icmp4_is_error(l4[0])))
		answer_quote(l4 + 8, len - 8, f, v6);
}

/* An ICMP error about the packet `f`: the quote is that packet as sent. */
static void
answer_quote(uint8_t *q, uint32_t len, const struct flow *f, bool v6)
{
	uint32_t ihl;

	if (v6) {
		if (len < 40)
			return;
		memcpy(q + 8, f->src, 16);
		memcpy(q + 24, f->dst, 16);
		answer_l4(q + 40, len - 40, q[6], f->sport, f->dport, NULL, true);
		return;
	}
	if (len < 20)
		return;
	ihl = (q[0] & 15u) * 4;
	memcpy(q + 12, f->src, 4);
	memcpy(q + 16, f->dst, 4);
	if (ihl >= 20 && ihl <= len)
		answer_l4(q + ihl, len - ihl, q[9], f->sport, f->dport, NULL, false);
}

/*
 * Make the packet in `b` an answer to `f`, the last packet of its family
 * the engine let out: from f's destination to f's source with the ports
 * swapped, or, for an ICMP error, about f (to f's source, quoting f). Only
 * the first fragment has ports. Harness aid only; the checksums are the
 * repair's business.
 */
static void
answer(uint8_t *b, uint32_t len, const struct flow *f)
{
	bool v6 = b[0] >> 4 == 6;
	uint32_t ihl;

	if (!f->valid)
		return;
	if (v6) {
		if (len < 40)
			return;
		memcpy(b + 8, f->dst, 16);
		memcpy(b + 24, f->src, 16);
		answer_l4(b + 40, len - 40, b[6], f->dport, f->sport, f, true);
		return;
	}
	if (len < 20)
		return;
	ihl = (b[0] & 15u) * 4;
	memcpy(b + 12, f->dst, 4);
	memcpy(b + 16, f->src, 4);
	if (ihl >= 20 && ihl <= len && (get16(b + 6) & 0x1fff) == 0)
		answer_l4(b + ihl, len - ihl, b[9], f->dport, f->sport, f, false);
}

static void
remember(struct fuzz_run *r, const uint8_t *pkt, const struct pkt_info *info)
{
	bool v6 = info->outer.family == 6;
	struct flow *f = v6 ? &r->last6 : &r->last4;

	memset(f, 0, sizeof(*f));
	f->valid = true;
	memcpy(f->src, pkt + (v6 ? 8 : 12), v6 ? 16 : 4);
	memcpy(f->dst, pkt + (v6 ? 24 : 16), v6 ? 16 : 4);
	if (info->outer.has_ports) {
		f->sport = info->outer.sport;
		f->dport = info->outer.dport;
	}
}

/* ---- Checks --------------------------------------------------------- */

static enum stat_id
parse_as(int family, const uint8_t *pkt, uint32_t len, struct pkt_info *info)
{
	return family == 6 ? pkt_parse6(pkt, len, info) : pkt_parse4(pkt, len, info);
}

static int
family_of(const uint8_t *pkt, uint32_t len)
{
	return len > 0 && pkt[0] >> 4 == 6 ? 6 : 4;
}

/* The quote of an ICMP error `q` (`len` bytes) is itself an ICMP error
 * (first fragment, ICMP right after the fixed header). */
static bool
quotes_error(const uint8_t *q, uint32_t len, int family)
{
	uint32_t hl;

	if (family == 6)
		return len > 40 && q[6] == IPPROTO_ICMPV6 && pkt_icmp6_is_error(q[40]);
	if (len < 20)
		return false;
	hl = (q[0] & 15u) * 4;
	return q[9] == IPPROTO_ICMP && (get16(q + 6) & 0x1fff) == 0 && hl >= 20 && len > hl &&
	       pkt_icmp4_is_error(q[hl]);
}

/*
 * An ICMP error whose quote our parser does not take (no ports: an ICMP
 * type other than echo, a protocol other than TCP/UDP/ICMP, a first
 * fragment cut short): a NAT64 could not translate it, but it is a valid
 * message for the host it goes to, e.g. Time Exceeded "fragment
 * reassembly" about such a fragment. Checked by hand: the outer header,
 * the type, the checksum, and that the quote is no ICMP error.
 */
static void
check_error_by_hand(const uint8_t *pkt, uint32_t len, int family)
{
	uint32_t hl = family == 6 ? 40 : (pkt[0] & 15u) * 4, sum = 0;

	if (family == 4) {
		if (len < 28 || pkt[0] >> 4 != 4 || hl < 20 || len < hl + 8 ||
		    get16(pkt + 2) != len || csum_ipv4_header(pkt, hl) != 0 ||
		    pkt[9] != IPPROTO_ICMP || !pkt_icmp4_is_error(pkt[hl]))
			fail("engine's ICMPv4 error has a bad header", (int)len);
	} else {
		struct in6_addr src, dst;

		if (len < 48 || pkt[0] >> 4 != 6 || get16(pkt + 4) != len - 40 ||
		    pkt[6] != IPPROTO_ICMPV6 || !pkt_icmp6_is_error(pkt[40]))
			fail("engine's ICMPv6 error has a bad header", (int)len);
		memcpy(&src, pkt + 8, 16);
		memcpy(&dst, pkt + 24, 16);
		sum = csum_pseudo6(&src, &dst, IPPROTO_ICMPV6, len - 40);
	}
	if (csum_fold(csum_partial(pkt + hl, len - hl, sum)) != 0)
		fail("engine's ICMP error has a wrong checksum", family);
	if (quotes_error(pkt + hl + 8, len - hl - 8, family))
		fail("ICMP error sent about an ICMP error", family);
}

/*
 * An ICMP error the engine originated (a reply, or one nat64_tick emits):
 * it parses (the parser refuses a quote that is itself an ICMP error with
 * STAT_INNER_ICMP_ERROR: that is the "never about an ICMP error"
 * property; for the quotes it refuses for other reasons see
 * check_error_by_hand()), is an error of `family`, fits the RFC 4443 §2.4
 * (c) / RFC 1812 §4.3.2.3 limit, and its checksum is good.
 */
static void
check_own_error(const uint8_t *pkt, uint32_t len, int family, const char *who)
{
	struct pkt_info info;
	enum stat_id why = parse_as(family_of(pkt, len), pkt, len, &info);

	if (len > (family == 6 ? ICMP_ERROR6_MAX : ICMP_ERROR4_MAX))
		fail("engine's ICMP error is too long", (int)len);
	if (why == STAT_INNER_ICMP_ERROR) {
		fprintf(stderr, "%s\n", who);
		fail("ICMP error sent about an ICMP error", (int)why);
	}
	if (why == STAT_INNER_NO_PORTS || why == STAT_INNER_PROTO_UNKNOWN ||
	    why == STAT_INNER_TRUNCATED || why == STAT_INNER_MALFORMED) {
		if (family_of(pkt, len) != family)
			fail("engine's ICMP error is not of the right family", family);
		check_error_by_hand(pkt, len, family);
		return;
	}
	if (why != STAT_OK) {
		fprintf(stderr, "%s: %s\n", who, stat_name(why));
		fail("ICMP error built by the engine does not parse", (int)why);
	}
	if (info.outer.family != family || !info.outer.has_icmp || !info.outer.icmp_is_error)
		fail("engine's ICMP error is not an ICMP error of the right family", family);
	if (l4_csum_state(pkt, &info.outer) != CSUM_GOOD)
		fail("engine's ICMP error has a wrong checksum", family);
}

/* By its header: an ICMP error right after the fixed header. */
static bool
is_own_error(const uint8_t *pkt, uint32_t len)
{
	uint32_t hl;

	if (family_of(pkt, len) == 6)
		return len > 40 && pkt[6] == IPPROTO_ICMPV6 && pkt_icmp6_is_error(pkt[40]);
	if (len < 20)
		return false;
	hl = (pkt[0] & 15u) * 4;
	return len > hl && hl >= 20 && pkt[9] == IPPROTO_ICMP && pkt_icmp4_is_error(pkt[hl]);
}

/* Property 4: a packet nat64_tick sends on its own. Copied to a buffer of
 * exactly `len` bytes first, so ASan sees a `len` longer than the engine's
 * buffer. */
static void
on_emit(void *ctx, const uint8_t *pkt, uint32_t len)
{
	struct fuzz_run *r = ctx;
	uint8_t *copy = malloc(len ? len : 1);
	struct pkt_info info;
	enum stat_id why;

	if (!copy)
		return;
	memcpy(copy, pkt, len);
	why = parse_as(family_of(copy, len), copy, len, &info);
	trace("emit", why);
	if (is_own_error(copy, len)) {
		check_own_error(copy, len, family_of(copy, len), "emit");
	} else if (why != STAT_OK) {
		fprintf(stderr, "emit: %s\n", stat_name(why));
		fail("packet emitted by nat64_tick does not parse", (int)why);
	} else if (l4_csum_state(copy, &info.outer) == CSUM_BAD) {
		fail("packet emitted by nat64_tick has a wrong checksum", info.outer.l4_proto);
	}
	if (why == STAT_OK)
		remember(r, copy, &info);
	free(copy);
}

static void
tick(struct fuzz_run *r)
{
	for (unsigned int w = 0; w < r->workers; w++)
		nat64_tick(r->n[w], r->now, on_emit, r);
}

/* What the harness knows about the input before the engine touches it. */
struct input {
	int family; /* by the version nibble, as the engine tells */
	bool parsed;
	struct pkt_info info;
	enum csum_state csum;
	uint8_t src[16]; /* IPv4: first 4 bytes */
};

static bool
gso_set(const struct gso_hdr *g)
{
	return g && (g->flags != 0 || g->gso_type != GSO_NONE);
}

/* The transport checksum of a packet whose offload header says
 * NEEDS_CSUM: its state once finished as the kernel would (gso.h), on a
 * copy; not checkable when the header's offsets don't fit. */
static enum csum_state
partial_csum_state(const uint8_t *pkt, uint32_t len, const struct gso_hdr *g,
		   const struct pkt_l3 *l3)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum csum_state st = CSUM_SKIP;

	if (!copy)
		fail("out of memory", 0);
	memcpy(copy, pkt, len);
	if (gso_csum_complete(copy, len, g) == GSO_OK)
		st = l4_csum_state(copy, l3);
	free(copy);
	return st;
}

static void
input_describe(struct input *in, const uint8_t *pkt, uint32_t len, const struct gso_hdr *g)
{
	memset(in, 0, sizeof(*in));
	in->family = family_of(pkt, len);
	in->parsed = parse_as(in->family, pkt, len, &in->info) == STAT_OK;
	if (!in->parsed)
		return;
	if (g && (g->flags & GSO_F_NEEDS_CSUM))
		in->csum = partial_csum_state(pkt, len, g, &in->info.outer);
	else
		in->csum = l4_csum_state(pkt, &in->info.outer);
	memcpy(in->src, pkt + (in->family == 6 ? 8 : 12), in->family == 6 ? 16 : 4);
}

/* Property 2, checksum: a good one stays good, and an absent IPv4 UDP one
 * must be computed (or the packet dropped). */
static void
check_csum(const uint8_t *pkt, const struct pkt_l3 *out, const struct input *in)
{
	enum csum_state now;

	if (in->csum != CSUM_GOOD && in->csum != CSUM_ABSENT4)
		return;
	now = l4_csum_state(pkt, out);
	if (now == CSUM_BAD || now == CSUM_ABSENT4)
		fail("transport checksum wrong or missing after translation", out->l4_proto);
}

/* A split packet, put back together from its fragments as they come. */
struct split {
	uint32_t hdr_len; /* unfragmentable part, from the first fragment */
	uint32_t next;    /* payload offset the next fragment must start at */
	uint32_t id;
	uint32_t count;
	bool done; /* the fragment without MF came */
};

static void
split_add(struct fuzz_run *r, struct split *s, const uint8_t *pkt, const struct pkt_info *info)
{
	const struct pkt_l3 *o = &info->outer;
	bool v6 = o->family == 6;
	uint32_t start = v6 ? (uint32_t)o->frag_hdr_off + 8 : (pkt[0] & 15u) * 4;
	uint32_t plen = o->l3_end - start;

	if (!o->is_fragment || s->done)
		fail("split yields a packet that is not a fragment, or one after the last",
		     s->count);
	if (v6 && o->frag_hdr_off != 40)
		fail("IPv6 fragment with headers other than the fixed one", o->frag_hdr_off);
	if (o->frag_offset != s->next || (s->count > 0 && o->frag_id != s->id))
		fail("fragments not contiguous or of different datagrams", o->frag_offset);
	if (o->more_fragments && plen % 8 != 0)
		fail("fragment with MF whose payload is not a multiple of 8", (int)plen);
	if (s->count == 0) {
		s->hdr_len = v6 ? 40 : start;
		s->id = o->frag_id;
		memcpy(r->whole, pkt, s->hdr_len);
		if (v6)
			r->whole[6] = pkt[40]; /* the Fragment header's Next Header */
	}
	if ((uint64_t)s->hdr_len + s->next + plen > FUZZ_WHOLE_MAX)
		fail("fragments add up to more than a packet", (int)(s->next + plen));
	memcpy(r->whole + s->hdr_len + s->next, pkt + start, plen);
	s->next += plen;
	s->count++;
	s->done = !o->more_fragments;
}

/* The fragments put back together must make a valid packet. */
static void
split_finish(struct fuzz_run *r, const struct split *s, const struct input *in)
{
	uint8_t *w = r->whole;
	uint32_t len = s->hdr_len + s->next;
	struct pkt_info info;
	enum stat_id why;
	uint16_t c;

	if (!s->done || s->count < 2)
		fail("split packet without its last fragment, or in one piece", s->count);
	if (w[0] >> 4 == 6) {
		put16(w + 4, (uint16_t)s->next);
	} else {
		if (len > UINT16_MAX)
			fail("IPv4 fragments add up to more than 65535 bytes", (int)len);
		put16(w + 2, (uint16_t)len);
		put16(w + 6, get16(w + 6) & 0x4000); /* keep DF, clear MF and offset */
		w[10] = 0;
		w[11] = 0;
		c = csum_ipv4_header(w, s->hdr_len);
		memcpy(w + 10, &c, 2);
	}
	why = parse_as(w[0] >> 4 == 6 ? 6 : 4, w, len, &info);
	if (why != STAT_OK) {
		fprintf(stderr, "split packet put back together: %s\n", stat_name(why));
		fail("fragments do not make a valid packet", (int)why);
	}
	check_csum(w, &info.outer, in);
}

/* Read every byte the engine says is ours around `out` (ASan checks), then
 * copy the packet to a buffer of its exact length. */
static uint8_t *
take(const struct pkt *out)
{
	volatile uint8_t sink = 0;
	uint8_t *copy;

	for (uint32_t i = 0; i < out->headroom; i++)
		sink ^= out->data[(ptrdiff_t)i - (ptrdiff_t)out->headroom];
	for (uint32_t i = 0; i < out->tailroom; i++)
		sink ^= out->data[out->len + i];
	(void)sink;
	copy = malloc(out->len ? out->len : 1);
	if (!copy)
		fail("out of memory", 0);
	memcpy(copy, out->data, out->len);
	return copy;
}

/* The MTU a packet of `family` leaving whole must fit. */
static uint32_t
mtu_of(const struct fuzz_run *r, int family)
{
	return family == 4 ? r->mtu4 : r->mtu6;
}

/*
 * A super-packet sent as one (gso_type TCPV4/TCPV6/UDP_L4): the kernel
 * cuts it into segments of the MTU of their side. TCP: cut here as the
 * kernel would (gso_seg_*) from the finished copy `fin`, every segment
 * must parse and fit; UDP: its first segment must fit.
 */
static void
check_super(const struct fuzz_run *r, const uint8_t *fin, uint32_t len, const struct pkt_info *info,
	    const struct gso_hdr *g)
{
	const struct pkt_l3 *o = &info->outer;
	uint32_t mtu = mtu_of(r, o->family), count = 0;
	struct gso_seg it;
	struct pkt_info si;
	size_t n = 0, size;
	uint8_t *seg;

	if (o->l4_proto == IPPROTO_UDP) {
		uint64_t first = (uint64_t)o->l4_off + 8 + g->gso_size;

		if ((first < len ? first : len) > mtu)
			fail("UDP super-packet whose segments exceed the MTU", (int)first);
		return;
	}
	if (gso_seg_begin(&it, fin, len, g) != GSO_OK)
		fail("TCP super-packet the kernel could not segment", (int)len);
	size = gso_seg_max_len(&it);
	seg = malloc(size);
	if (!seg)
		fail("out of memory", 0);
	while (gso_seg_next(&it, seg, size, &n) == GSO_OK && n != 0) {
		if (n > mtu)
			fail("segment of a super-packet larger than the MTU", (int)n);
		if (parse_as(o->family, seg, (uint32_t)n, &si) != STAT_OK)
			fail("segment of a super-packet does not parse", (int)n);
		if (++count > FUZZ_MAX_SEGMENTS)
			fail("super-packet segmentation does not stop", (int)count);
	}
	free(seg);
	if (count == 0)
		fail("super-packet without a segment", (int)len);
}

/*
 * A packet sent with an offload header (res->gso not zero): the header
 * must describe it (NEEDS_CSUM, csum_start at its transport header,
 * csum_offset of its protocol, a gso_type of its family and protocol),
 * its partial checksum once finished must be good when the input's was,
 * and a super-packet's segments must fit (check_super()).
 */
static void
check_offload_out(const struct fuzz_run *r, const uint8_t *pkt, uint32_t len,
		  const struct pkt_info *info, const struct gso_hdr *g, const struct input *in)
{
	const struct pkt_l3 *o = &info->outer;
	uint8_t type = g->gso_type & (uint8_t)~GSO_ECN;
	uint16_t want = o->l4_proto == IPPROTO_TCP ? 16 : o->l4_proto == IPPROTO_UDP ? 6 : 0;
	bool ok_type;
	uint8_t *fin;

	if (!(g->flags & GSO_F_NEEDS_CSUM))
		fail("offload header without NEEDS_CSUM on a sent packet", g->flags);
	if (want == 0 || o->is_fragment || g->csum_start != o->l4_off || g->csum_offset != want)
		fail("offload header does not point at the packet's checksum", g->csum_start);
	if (g->hdr_len != 0 && g->hdr_len < o->l4_off)
		fail("offload header's hdr_len ends inside the IP header", g->hdr_len);
	ok_type = type == GSO_NONE ||
		  (type == GSO_TCPV4 && o->family == 4 && o->l4_proto == IPPROTO_TCP) ||
		  (type == GSO_TCPV6 && o->family == 6 && o->l4_proto == IPPROTO_TCP) ||
		  (type == GSO_UDP_L4 && o->l4_proto == IPPROTO_UDP);
	if (!ok_type || (type != GSO_NONE && g->gso_size == 0))
		fail("offload header's gso_type does not match the packet", g->gso_type);
	fin = malloc(len);
	if (!fin)
		fail("out of memory", 0);
	memcpy(fin, pkt, len);
	if (gso_csum_complete(fin, len, g) != GSO_OK)
		fail("partial checksum of a sent packet can't be finished", (int)len);
	check_csum(fin, o, in);
	if (type == GSO_NONE) {
		if (len > mtu_of(r, o->family))
			fail("sent packet larger than the MTU of its side", (int)len);
	} else {
		check_super(r, fin, len, info, g);
	}
	free(fin);
}

/* Property 2 for one packet nat64_result_next yields. */
static void
check_out(struct fuzz_run *r, const uint8_t *pkt, uint32_t len, int want, bool split,
	  struct split *s, const struct input *in, const struct gso_hdr *g)
{
	struct pkt_info info;
	enum stat_id why;
	uint32_t mtu = want == 4 ? r->mtu4 : split ? r->frag6_limit : r->mtu6;

	if (len == 0 || pkt[0] >> 4 != want)
		fail("sent packet is not of the expected family", want);
	why = parse_as(want, pkt, len, &info);
	if (why != STAT_OK) {
		fprintf(stderr, "re-parse of sent packet: %s\n", stat_name(why));
		fail("sent packet does not parse", (int)why);
	}
	if (gso_set(g)) {
		if (split)
			fail("fragments sent with an offload header", g->gso_type);
		remember(r, pkt, &info);
		check_offload_out(r, pkt, len, &info, g, in);
		return;
	}
	if (len > mtu)
		fail("sent packet larger than the MTU of its side", (int)len);
	if (s->count == 0)
		remember(r, pkt, &info);
	if (split)
		split_add(r, s, pkt, &info);
	else
		check_csum(pkt, &info.outer, in);
}

/* `hairpinned`: the HAIRPINNED counter moved; `handed_hairpin`: the input
 * is the IPv4 half of a hairpin another worker handed over; `offload`: it
 * came with an offload header (else res->gso must stay zero). */
static void
check_sent(struct fuzz_run *r, struct nat64_result *res, const struct input *in, bool hairpinned,
	   bool handed_hairpin, bool offload)
{
	int want = in->family == 6 && !hairpinned ? 4 : 6;
	struct split s = {0};
	uint32_t whole = 0;
	struct pkt out;

	if (!in->parsed)
		fail("engine sent a packet the parser refuses", in->family);
	if (hairpinned && in->family != 6 && !handed_hairpin)
		fail("hairpin counter moved for an IPv4 packet", 0);
	if (handed_hairpin && !hairpinned)
		fail("handed hairpin sent without the hairpin counter", 0);
	if (!offload && gso_set(&res->gso))
		fail("offload header on a packet that came without one", res->gso.gso_type);
	while (nat64_result_next(res, &out)) {
		uint8_t *copy = take(&out);

		check_out(r, copy, out.len, want, res->split, &s, in, &res->gso);
		if (!res->split)
			whole++;
		free(copy);
		if (whole > 1 || s.count > 8192)
			fail("nat64_result_next does not stop", (int)whole);
	}
	if (nat64_result_next(res, &out))
		fail("nat64_result_next yields again after false", 0);
	if (res->split)
		split_finish(r, &s, in);
	else if (whole != 1)
		fail("send without a packet", 0);
}

/* Property 3: the ICMP error in the reply buffer. */
static void
check_reply(const uint8_t *reply, const struct nat64_result *res, const struct input *in)
{
	const uint8_t *e = reply + res->reply_off;

	if ((uint64_t)res->reply_off + res->reply_len > NAT64_REPLY_MAX)
		fail("reply overruns NAT64_REPLY_MAX", (int)(res->reply_off + res->reply_len));
	if (!in->parsed)
		fail("ICMP error about a packet the parser refuses", in->family);
	if (in->info.outer.has_icmp && in->info.outer.icmp_is_error)
		fail("ICMP error sent about an ICMP error", in->info.outer.icmp_type);
	check_own_error(e, res->reply_len, in->family, "reply");
	/* It goes back to the sender (RFC 4443 §2.4, RFC 792). */
	if (memcmp(e + (in->family == 6 ? 24 : 16), in->src, in->family == 6 ? 16 : 4) != 0)
		fail("ICMP error not addressed to the packet's source", in->family);
}

/* What nat64.c's share_of() gives one worker of max-sessions. */
static uint32_t
session_share(const struct fuzz_run *r)
{
	return (FUZZ_MAX_SESSIONS + r->workers - 1) / r->workers;
}

/* Property 5: per engine its share of max-sessions and of
 * max-sessions-per-host for the sender; all engines at most max-sessions. */
static void
check_limits(const struct fuzz_run *r, const struct input *in)
{
	uint32_t total = 0;
	struct in6_addr src;

	for (unsigned int w = 0; w < r->workers; w++) {
		uint32_t c = session_count(nat64_bib(r->n[w]), L4_COUNT);

		if (c > session_share(r))
			fail("more sessions than the worker's share of max-sessions", (int)c);
		total += c;
	}
	if (total > FUZZ_MAX_SESSIONS)
		fail("more sessions than max-sessions", (int)total);
	if (in->family != 6 || !in->parsed)
		return;
	memcpy(&src, in->src, 16);
	for (unsigned int w = 0; w < r->workers; w++)
		if (bib_host_sessions(nat64_bib(r->n[w]), &src) >
		    (FUZZ_MAX_PER_HOST + r->workers - 1) / r->workers)
			fail("more sessions than the worker's share of max-sessions-per-host",
			     (int)bib_host_sessions(nat64_bib(r->n[w]), &src));
}

/* Property 1. */
static void
check_result(const struct nat64_result *res, bool offload)
{
	if (res->send != (res->reason == STAT_OK))
		fail("send and reason disagree", (int)res->reason);
	if (res->send && res->reply_len != 0)
		fail("a reply with a packet that is sent", (int)res->reply_len);
	if (res->segment != (res->reason == STAT_GSO_SEGMENTED))
		fail("segment and reason disagree", (int)res->reason);
	if (res->segment && (!offload || res->reply_len != 0))
		fail("segmentation asked for a packet without offload header, or with a reply",
		     (int)res->reply_len);
	if (res->reason == STAT_HANDOFF && res->reply_len != 0)
		fail("a reply with a packet handed off", (int)res->reply_len);
}

static void run_packet(struct fuzz_run *r, unsigned int w, struct pkt *p, const struct gso_hdr *g,
		       const struct nat64_handoff *h, const struct input *in, unsigned int hops);

/*
 * STAT_HANDOFF from worker `from`: to another worker; a packet that was
 * itself handed over is handed on only when that worker's pool4 share
 * overflowed too (one more overflow, to the next worker) or as the IPv4
 * half of a hairpin, so a packet makes at most `workers` + 1 hops. The packet (res->out) is copied
 * to a fresh buffer of exactly its size plus the record's room, and runs in worker `to` with
 * nat64_input_handed().
 */
static void
hand_over(struct fuzz_run *r, unsigned int from, const struct nat64_result *res,
	  const struct nat64_handoff *prev, const struct input *orig, unsigned int hops)
{
	const struct nat64_handoff *hd = &res->handoff;
	unsigned int next = (from + 1) % r->workers;
	uint32_t len = res->out.len;
	uint8_t *copy, *buf;
	struct pkt p;
	struct input in;

	if (r->workers < 2)
		fail("handoff with a single worker", (int)hd->to);
	if (hd->to >= r->workers || hd->to == from)
		fail("handoff to no other worker", (int)hd->to);
	if (hd->overflow > (prev ? prev->overflow : 0) + 1u || hd->overflow > r->workers - 1 ||
	    (hd->overflow > (prev ? prev->overflow : 0) && hd->to != next))
		fail("handoff overflow count wrong", hd->overflow);
	/* Handed on: one more overflow, or the IPv4 half of a hairpin this
	 * worker translated from a packet handed to it (a static entry's
	 * answer), once. */
	if (prev && hd->overflow != prev->overflow + 1u && !(hd->hairpin && !prev->hairpin))
		fail("handed packet handed on without overflow", hd->overflow);
	if (hops >= r->workers + 1)
		fail("handoffs do not stop", (int)hops);
	copy = take(&res->out);
	if (hd->hairpin && (len < 20 || copy[0] >> 4 != 4))
		fail("hairpin handed over is not the IPv4 packet", (int)len);
	buf = malloc(PKT_HEADROOM + (size_t)len + r->tail);
	if (!buf)
		fail("out of memory", 0);
	memcpy(buf + PKT_HEADROOM, copy, len);
	free(copy);
	p = (struct pkt){buf + PKT_HEADROOM, len, PKT_HEADROOM, r->tail};
	input_describe(&in, p.data, len, &hd->gso);
	/* A hairpin's IPv4 half was translated from `orig`: its checksum is
	 * what orig's was (and, partial, is no checksum of its own yet). */
	if (hd->hairpin)
		in.csum = orig->csum;
	if (hd->hairpin && in.parsed && !(hd->gso.flags & GSO_F_NEEDS_CSUM))
		check_csum(p.data, &in.info.outer, orig);
	run_packet(r, hd->to, &p, NULL, hd, &in, hops + 1);
	free(buf);
}

/* STAT_GSO_SEGMENTED: each segment, cut into one NAT64_SEGMENT_BUF heap
 * buffer, runs in the same worker as an ordinary packet (as the daemon's
 * run_packet()); nat64.h promises each a full checksum. */
static void
segments(struct fuzz_run *r, unsigned int w, struct nat64_result *res)
{
	uint8_t *buf = malloc(NAT64_SEGMENT_BUF);
	uint32_t count = 0;
	struct input in;
	struct pkt seg;

	if (!buf)
		fail("out of memory", 0);
	while (nat64_result_segment(res, buf, &seg)) {
		if (seg.data != buf + PKT_HEADROOM || seg.headroom != PKT_HEADROOM ||
		    (uint64_t)PKT_HEADROOM + seg.len + seg.tailroom > NAT64_SEGMENT_BUF ||
		    seg.tailroom < FUZZ_MIN_TAILROOM)
			fail("segment outside its buffer", (int)seg.len);
		input_describe(&in, seg.data, seg.len, NULL);
		if (in.parsed && in.csum == CSUM_BAD)
			fail("segment with a wrong checksum", (int)count);
		run_packet(r, w, &seg, NULL, NULL, &in, 0);
		if (++count > FUZZ_MAX_SEGMENTS)
			fail("nat64_result_segment does not stop", (int)count);
	}
	if (count == 0)
		fail("segmentation asked for, no segment made", 0);
	if (nat64_result_segment(res, buf, &seg))
		fail("nat64_result_segment yields again after false", 0);
	free(buf);
}

/* One packet through worker `w`: from the TUN device (h NULL), with
 * offload header g (or none), or handed over by another worker (h). */
static void
run_packet(struct fuzz_run *r, unsigned int w, struct pkt *p, const struct gso_hdr *g,
	   const struct nat64_handoff *h, const struct input *in, unsigned int hops)
{
	struct nat64 *n = r->n[w];
	const struct stats *st = nat64_stats(n);
	uint64_t hairpins = st->count[STAT_HAIRPINNED];
	bool offload = gso_set(g) || (h && gso_set(&h->gso));
	uint8_t *reply = malloc(NAT64_REPLY_MAX);
	struct nat64_result res;

	if (!reply)
		fail("out of memory", 0);
	if (h)
		nat64_input_handed(n, p, h, r->now, reply, &res);
	else if (g)
		nat64_input_gso(n, p, g, r->now, reply, &res);
	else
		nat64_input(n, p, r->now, reply, &res);
	trace(h ? "handed" : "input", res.reason);

	check_result(&res, offload);
	if (res.send)
		check_sent(r, &res, in, st->count[STAT_HAIRPINNED] != hairpins, h && h->hairpin,
			   offload);
	if (res.reply_len != 0)
		check_reply(reply, &res, in);
	check_limits(r, in);
	free(reply);
	if (res.reason == STAT_HANDOFF)
		hand_over(r, w, &res, h, in, hops);
	if (res.segment)
		segments(r, w, &res);
}

/*
 * The worker the kernel's steering would pick (docs/steering.md, reduced
 * to port_share_owner() of one port): IPv6 by the source port (echo: the
 * identifier), an ICMPv6 error by its quote's destination port; IPv4 by
 * the destination port, an ICMPv4 error by its quote's source port;
 * fragments (the first one too) and anything without ports by the last
 * byte of its source address.
 */
static unsigned int
steer(const struct fuzz_run *r, const uint8_t *pkt, uint32_t len, const struct input *in)
{
	const struct pkt_info *i = &in->info;
	bool v6 = in->family == 6;
	uint32_t last = v6 ? 23 : 15;
	uint16_t port;

	if (r->workers < 2)
		return 0;
	if (!in->parsed || !i->outer.has_ports || i->outer.is_fragment)
		return len > last ? pkt[last] % r->workers : 0;
	if (i->outer.icmp_is_error && i->has_inner)
		port = v6 ? i->inner.dport : i->inner.sport;
	else
		port = v6 ? i->outer.sport : i->outer.dport;
	return port_share_owner(port, r->workers);
}

/* The repair for a NEEDS_CSUM record: the checksum field holds the
 * pseudo-header sum, as the kernel leaves it (gso.h). */
static void
fixup_partial(uint8_t *pkt, uint32_t len, const struct gso_hdr *g)
{
	if (g->flags & GSO_F_NEEDS_CSUM)
		(void)gso_pseudo_csum(pkt, len, g,
				      g->csum_offset == 16 ? IPPROTO_TCP : IPPROTO_UDP);
}

/* One record: its packet into a buffer of exactly its size and room, to
 * the worker steer() picks (the other one with `misroute`). */
static void
feed(struct fuzz_run *r, uint8_t flags, bool misroute, const uint8_t *bytes, uint32_t len)
{
	uint32_t head = PKT_HEADROOM;
	uint32_t tail = flags & REC_SMALL_TAILROOM ? FUZZ_MIN_TAILROOM : FUZZ_TAILROOM;
	struct gso_hdr g;
	bool vnet = flags & REC_VNET;
	uint8_t *buf;
	struct pkt p;
	struct input in;
	unsigned int w;

	if (vnet) {
		/* The daemon drops a read shorter than the header. */
		if (gso_hdr_read(bytes, len, &g) != GSO_OK)
			return;
		bytes += GSO_HDR_LEN;
		len -= GSO_HDR_LEN;
	}
	buf = malloc(head + (size_t)len + tail);
	if (!buf)
		fail("out of memory", 0);
	p = (struct pkt){buf + head, len, head, tail};
	r->tail = tail;
	memcpy(p.data, bytes, len);
	if (flags & REC_ANSWER)
		answer(p.data, len, family_of(p.data, len) == 6 ? &r->last6 : &r->last4);
	if (flags & REC_FIXUP) {
		(family_of(p.data, len) == 6 ? fixup6 : fixup4)(p.data, len);
		if (vnet)
			fixup_partial(p.data, len, &g);
	}
	input_describe(&in, p.data, len, vnet ? &g : NULL);
	w = (steer(r, p.data, len, &in) + (misroute ? 1u : 0u)) % r->workers;
	run_packet(r, w, &p, vnet ? &g : NULL, NULL, &in, 0);
	free(buf);
}

/* ---- Engine --------------------------------------------------------- */

static uint32_t
rate_from_bits(uint8_t bits)
{
	static const uint32_t rate[4] = {1000, 0, 1, 10};

	return rate[bits & 3];
}

static void
settings(struct globals *g, struct nat64_params *p, const uint8_t *s)
{
	static const uint8_t pool6[16] = {0, 0x64, 0xff, 0x9b};
	static const uint8_t own6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 1};

	globals_default(g);
	memcpy(&g->pool6.addr, pool6, 16);
	g->pool6.len = 96;
	g->pool6_set = true;
	g->wkp_global_only = false; /* the seeds use documentation addresses */
	g->max_sessions = FUZZ_MAX_SESSIONS;
	g->max_sessions_per_host = FUZZ_MAX_PER_HOST;
	g->max_simultaneous_opens = FUZZ_SIMULTANEOUS_OPENS;
	g->reasm_budget = FUZZ_REASM_BUDGET;
	g->reasm_source_limit = FUZZ_REASM_BUDGET;
	g->adf = s[0] & 2;
	g->drop_external_tcp = s[0] & 4;
	g->drop_icmp6_info = s[0] & 8;
	g->handle_rst_during_fin_rcv = s[0] & 16;
	g->src_icmp6_errors_better = s[0] & 32;
	g->amend_udp_checksum_zero = s[0] & 64;
	if (s[1] & 4)
		g->f_args = 0;
	g->xlat.zeroize_traffic_class = s[1] & 8;
	g->enabled = !(s[1] & 32);

	memset(p, 0, sizeof(*p));
	p->own4.s_addr = htonl(0xcb007101); /* 203.0.113.1 */
	memcpy(&p->own6, own6, 16);         /* 2001:db8:ff::1 */
	p->mtu4 = s[0] & 128 ? 576 : 1500;
	p->mtu6 = s[0] & 128 ? 1280 : 1500;
	for (unsigned i = 0; i < sizeof(p->key); i++)
		((uint8_t *)&p->key)[i] = (uint8_t)(0x5a + i);
	p->tun_hop_compensation = s[0] & 1;
	p->icmp_errors_per_sec = rate_from_bits(s[1]);
}

static unsigned int
workers_of(const uint8_t *s)
{
	return s[1] & S1_TWO_WORKERS ? 2 : 1;
}

/* The parts of the settings that only nat64_create takes (nat64_params),
 * and the number of workers. */
static uint8_t
params_key(const uint8_t *s)
{
	return (uint8_t)((s[0] & 0x81) | (s[1] & 3) << 1 | (s[1] & S1_TWO_WORKERS));
}

static void
pool4_fill(struct nat64 *n, const uint8_t *s)
{
	struct pool4_iterations iter = {POOL4_ITER_AUTO, 0};

	if (s[1] & 16)
		iter = (struct pool4_iterations){POOL4_ITER_FIXED, 4};
	for (int proto = L4_TCP; proto < L4_COUNT; proto++) {
		struct pool4_entry e = {
			.proto = (enum l4proto)proto,
			.prefix = {.addr.s_addr = htonl(0xc0000200), .len = 30},
			.port_min = FUZZ_POOL4_PORT_MIN,
			.port_max = FUZZ_POOL4_PORT_MAX,
		};

		/* Adding it again only sets max-iterations. */
		if (nat64_pool4_add(n, &e, &iter) != 0)
			fail("pool4 add refused", proto);
	}
}

static struct nat64 *
engine_create(const struct globals *g, const struct nat64_params *p, const uint8_t *s)
{
	static const uint8_t h2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	struct taddr6 a6 = {.port = 80};
	struct taddr4 a4 = {.addr.s_addr = htonl(0xc0000202), .port = 1010};
	struct nat64 *n;
	char err[256];

	if (nat64_create(&n, g, p, err, sizeof(err)) != 0) {
		fprintf(stderr, "nat64_create: %s\n", err);
		fail("engine refused the harness settings", 0);
	}
	pool4_fill(n, s);
	memcpy(&a6.addr, h2, 16);
	if (nat64_bib_add(n, L4_TCP, &a6, &a4, FUZZ_EPOCH) != 0)
		fail("static BIB entry refused", 0);
	return n;
}

/*
 * Back to the state nat64_create leaves, for an engine whose tables the
 * last input's drain() emptied. The settings go through the control plane;
 * the counters that nat64_create starts and no control-plane call resets
 * are set here, from the engine's internals (pipeline.h), so that an input
 * behaves the same on a fresh engine and on a reused one: RFC 6056's
 * next_ephemeral (it moves the masks), the IPv4 Identification counter,
 * the ICMP error bucket and the counters.
 */
static void
engine_reset(struct nat64 *n, const struct globals *g, const struct nat64_params *p,
	     const uint8_t *s)
{
	char err[256];

	if (nat64_set_globals(n, g, err, sizeof(err)) != 0) {
		fprintf(stderr, "nat64_set_globals: %s\n", err);
		fail("engine refused the harness settings", 1);
	}
	pool4_fill(n, s);
	rfc6056_init(&n->rfc6056, &p->key, g->f_args);
	n->rfc6056.share = p->share; /* as nat64_create() */
	n->ipv4_id = 0;
	ratelimit_init(&n->icmp_rl, p->icmp_errors_per_sec, 0);
	memset(&n->stats, 0, sizeof(n->stats));
}

/*
 * The engines for the next input (one, or two workers). nat64_create
 * costs about 2.3 ms under ASan (three hash table chunks of 1-2 MiB and
 * the reassembly arena, which ASan maps, poisons and quarantines; 12 us
 * without ASan), more than most inputs take to run: the engines are kept
 * and reset between inputs, and made anew every FUZZ_REUSE inputs or when
 * the nat64_params bits of the settings or the number of workers change.
 * What a reused engine still differs in (the clock's absolute value, the
 * order of the free slots in its pools) does not change what it does with
 * a packet.
 */
static void
engine(struct fuzz_run *r, const uint8_t *s)
{
	static struct nat64 *kept[FUZZ_WORKERS_MAX];
	static unsigned int kept_workers;
	static uint8_t kept_key;
	static unsigned uses;
	static uint64_t clock = FUZZ_EPOCH;
	struct globals g;
	struct nat64_params p;

	settings(&g, &p, s);
	if (kept_workers && (kept_key != params_key(s) || uses >= FUZZ_REUSE)) {
		for (unsigned int w = 0; w < kept_workers; w++)
			nat64_destroy(kept[w]);
		kept_workers = 0;
	}
	r->workers = workers_of(s);
	for (unsigned int w = 0; w < r->workers; w++) {
		if (r->workers > 1)
			p.share = (struct port_share){.index = (uint16_t)w,
						      .count = (uint16_t)r->workers};
		if (kept_workers)
			engine_reset(kept[w], &g, &p, s);
		else
			kept[w] = engine_create(&g, &p, s);
		r->n[w] = kept[w];
	}
	if (!kept_workers) {
		kept_workers = r->workers;
		kept_key = params_key(s);
		uses = 0;
	}
	uses++;
	/* The clock goes on from the last input's (it must not go back). */
	r->clock = &clock;
	r->now = clock;
	r->mtu4 = p.mtu4;
	r->mtu6 = p.mtu6;
	r->frag6_limit = g.xlat.lowest_ipv6_mtu < p.mtu6 ? g.xlat.lowest_ipv6_mtu : p.mtu6;
}

/* Property 6: past every timeout, only the static entry is left in each
 * engine: no session, stored SYN or fragment (a reused engine starts
 * empty). */
static void
drain(struct fuzz_run *r)
{
	r->now += time_step[7];
	tick(r); /* established TCP: probed, now transitory */
	r->now += time_step[6];
	tick(r);
	for (unsigned int w = 0; w < r->workers; w++) {
		const struct nat64 *n = r->n[w];
		const struct bib *b = nat64_bib(n);

		if (session_count(b, L4_COUNT) != 0)
			fail("sessions left after every timeout", (int)session_count(b, L4_COUNT));
		if (bib_count(b, L4_TCP) != 1 || bib_count(b, L4_UDP) != 0 ||
		    bib_count(b, L4_ICMP) != 0)
			fail("dynamic BIB entries left after every timeout",
			     (int)bib_count(b, L4_UDP));
		if (session_stored_count(b) != 0 || syn_queue_count(&n->synq) != 0)
			fail("stored SYNs left after every timeout",
			     (int)syn_queue_count(&n->synq));
		if (reasm_datagrams(n->reasm) != 0 || reasm_memory(n->reasm) != 0)
			fail("datagrams left in the reassembler", (int)reasm_datagrams(n->reasm));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *whole;
	struct fuzz_run r = {0};
	size_t off = FUZZ_SETTINGS;

	if (size < FUZZ_SETTINGS)
		return 0;
	if (!whole)
		whole = malloc(FUZZ_WHOLE_MAX); /* kept: one per process */
	if (!whole)
		fail("out of memory", 0);
	r.whole = whole;
	engine(&r, data);
	while (off + FUZZ_REC_HDR <= size) {
		uint8_t flags = data[off];
		uint16_t field = get16(data + off + 1);
		size_t len = field & REC_LEN_MASK;

		off += FUZZ_REC_HDR;
		if (len > size - off)
			len = size - off;
		r.now += time_step[(flags >> REC_TIME_SHIFT) & REC_TIME_MASK];
		if (flags & REC_TICK)
			tick(&r);
		if (len > 0)
			feed(&r, flags, field & REC_LEN_MISROUTE, data + off, (uint32_t)len);
		off += len;
	}
	drain(&r);
	*r.clock = r.now;
	return 0;
}
