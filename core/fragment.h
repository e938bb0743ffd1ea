/*
 * Splitting a packet too big for the next hop into fragments, in place.
 *
 *  - IPv6 (RFC 8200 §4.5): 4->6 packets with DF clear that exceed
 *    min(IPv6 MTU, lowest-ipv6-mtu) (RFC 7915 §4 and §4.1, Jool's
 *    lowest-ipv6-mtu). The Per-Fragment headers are the 40-byte fixed
 *    header: translated packets carry no extension headers, and a packet
 *    that does is refused (STAT_FRAG_OUT_EXT6), as is one that already is
 *    a fragment.
 *  - IPv4 (RFC 791 §3.2): 6->4 packets with DF clear that exceed the
 *    IPv4 MTU, e.g. datagrams reassembled from IPv6 fragments. Options
 *    with the copy flag go into every fragment, the others only into the
 *    first. An IPv4 fragment may be split further (RFC 791 allows it):
 *    offsets stay relative to its datagram and the last piece keeps its MF.
 *
 * No allocation and no copy of the payload: each fragment's headers are
 * written just before its piece of payload, over the end of the previous
 * piece, which the caller has already sent. So the fragments come one at a
 * time from an iterator, each valid until the next call, and the packet is
 * consumed. The first IPv6 fragment needs FRAG_HEADROOM6 bytes in front of
 * the packet, which a 4->6 packet translated in a PKT_HEADROOM buffer has.
 *
 * Usage:
 *      struct frag_iter it;
 *      struct pkt f;
 *      if (frag_split6(&it, p, mtu, id) != STAT_OK) ... drop, counted;
 *      while (frag_next(&it, &f))
 *              send(f.data, f.len);
 *
 * A packet that already fits is yielded once, unchanged (no Fragment
 * header: RFC 8021 retired atomic fragments).
 */
#ifndef NAT64_CORE_FRAGMENT_H
#define NAT64_CORE_FRAGMENT_H

#include "stats.h"
#include "types.h"

enum {
	FRAG_MTU6_MIN = 1280, /* RFC 8200 §5 */
	FRAG_MTU4_MIN = 68,   /* RFC 791 §3.2: every IPv4 module forwards 68 bytes */
	FRAG_HEADROOM6 = 8,   /* the Fragment header in front of the first piece */
};

struct frag_iter {
	uint8_t *pkt;     /* first byte of the packet being split */
	uint8_t *payload; /* first byte of the fragmentable part */
	uint32_t payload_len;
	uint32_t pos;         /* payload bytes already yielded */
	uint32_t first_chunk; /* payload bytes of the first fragment */
	uint32_t chunk;       /* payload bytes of the others (multiple of 8) */
	uint32_t id;          /* IPv6 Fragment header Identification */
	uint32_t base_offset; /* IPv4: offset of the input itself, bytes */
	uint32_t fragments;   /* how many frag_next yields; 1: the packet as it is */
	uint32_t yielded;
	struct pkt whole; /* the packet, when it is yielded unchanged */
	bool last_mf;     /* IPv4: MF of the input */
	uint8_t family;
	uint8_t first_hdr_len; /* IPv4 header length of the first fragment */
	uint8_t hdr_len;       /* length of hdr */
	uint8_t hdr[60];       /* headers of the non-first fragments (template) */
};

/*
 * Prepare to split the IPv6 packet `p` into fragments of at most `mtu`
 * bytes with Fragment header Identification `id` (RFC 7915 §4.1, Jool: the
 * IPv4 Identification zero-extended). Returns STAT_OK, or the reason it
 * can't, leaving `p` unchanged: STAT_HDR6_TRUNCATED / STAT_HDR6_VERSION /
 * STAT_HDR6_PAYLOAD_LEN (not an IPv6 packet of p->len bytes),
 * STAT_FRAG_OUT_MTU (mtu below 1280), STAT_FRAG_OUT_EXT6 (extension or
 * Fragment header present), STAT_FRAG_OUT_NO_ROOM (headroom below 8).
 */
enum stat_id frag_split6(struct frag_iter *it, struct pkt *p, uint32_t mtu, uint32_t id);

/*
 * Prepare to split the IPv4 packet `p` into fragments of at most `mtu`
 * bytes. Returns STAT_OK or, leaving `p` unchanged: STAT_HDR4_TRUNCATED /
 * STAT_HDR4_VERSION / STAT_HDR4_IHL / STAT_HDR4_TOTAL_LEN / STAT_HDR4_OPTIONS
 * (malformed), STAT_FRAG_OUT_DF (DF set: the caller owes the sender a
 * Fragmentation Needed instead), STAT_FRAG_OUT_MTU (mtu below 68).
 */
enum stat_id frag_split4(struct frag_iter *it, struct pkt *p, uint32_t mtu);

/* The next fragment in `out` (headroom and tailroom 0: the bytes around it
 * belong to its neighbours). False when all have been yielded. */
bool frag_next(struct frag_iter *it, struct pkt *out);

/*
 * Clear DF in the IPv4 packet `p` (header checksum updated, RFC 1624).
 * RFC 7915 §5.1.1: a packet translated from an IPv6 fragment gets DF 0;
 * after full reassembly the translator no longer sees the Fragment
 * header, so the caller applies this to a reassembled datagram's output.
 */
void frag_clear_df(struct pkt *p);

#endif
