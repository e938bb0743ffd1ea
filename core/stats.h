/*
 * Counters: one per drop reason and per event.
 *
 * Every rejection in core/ returns an enum stat_id; the caller bumps that
 * counter. Names and one-line explanations live beside the ids in one list
 * (STAT_LIST) so `nat64 stats display --explain` can never fall out of step
 * with the code. Counters are kept per worker (struct stats) and summed
 * only when an operator asks, so counting costs nothing shared.
 *
 * Adding a reason: add one X(...) line in the section it belongs to.
 */
#ifndef NAT64_CORE_STATS_H
#define NAT64_CORE_STATS_H

#include <stdint.h>

/* X(id, explanation) */
#define STAT_LIST(X)                                                                               \
	/* Not a counter: "carry on". Must stay first (value 0). */                                \
	X(OK, "Not a drop: the packet continues.")                                                 \
	/* Totals */                                                                               \
	X(RECEIVED6, "IPv6 packets received.")                                                     \
	X(RECEIVED4, "IPv4 packets received.")                                                     \
	X(SUCCESS, "Packets translated and sent.")                                                 \
	X(UNKNOWN, "Programming error: a case the code did not expect.")                           \
	/* IPv6 header and extension header chain */                                               \
	X(HDR6_TRUNCATED, "IPv6 packet shorter than its fixed header.")                            \
	X(HDR6_VERSION, "IPv6 packet whose version field is not 6.")                               \
	X(HDR6_PAYLOAD_LEN, "IPv6 payload length disagrees with the bytes received.")              \
	X(HDR6_EXT_TRUNCATED, "IPv6 extension header runs past the end of the packet.")            \
	X(HDR6_EXT_UNKNOWN,                                                                        \
	  "IPv6 packet with an extension header or next header we can't translate.")               \
	X(HDR6_HOP_BY_HOP_NOT_FIRST,                                                               \
	  "IPv6 hop-by-hop options header not right after the fixed header.")                      \
	X(HDR6_EXT_CHAIN_TOO_LONG, "IPv6 extension header chain longer than we accept.")           \
	X(HDR6_DOUBLE_FRAG, "IPv6 packet with two Fragment headers.")                              \
	X(HDR6_FRAG_THEN_EXT, "IPv6 packet with an extension header after its Fragment header.")   \
	X(HDR6_FRAG_LEN, "IPv6 non-last fragment whose length is not a multiple of 8.")            \
	X(HDR6_FRAG_OVERFLOW, "IPv6 fragment that would end past 65535 bytes.")                    \
	/* IPv4 header */                                                                          \
	X(HDR4_TRUNCATED, "IPv4 packet shorter than its header.")                                  \
	X(HDR4_VERSION, "IPv4 packet whose version field is not 4.")                               \
	X(HDR4_IHL, "IPv4 header length field below 5 or past the packet.")                        \
	X(HDR4_TOTAL_LEN, "IPv4 total length disagrees with the bytes received.")                  \
	X(HDR4_CHECKSUM, "IPv4 header checksum is wrong.")                                         \
	X(HDR4_OPTIONS, "IPv4 options are malformed.")                                             \
	X(HDR4_FRAG_OVERFLOW, "IPv4 fragment that would end past 65535 bytes.")                    \
	X(HDR4_FRAG_LEN, "IPv4 non-last fragment whose payload is not a multiple of 8.")           \
	/* Transport headers */                                                                    \
	X(L4_PROTO_UNKNOWN, "Transport protocol other than TCP, UDP or ICMP.")                     \
	X(TCP_TRUNCATED, "TCP header cut short.")                                                  \
	X(TCP_DOFF, "TCP data offset below 5 or past the packet.")                                 \
	X(UDP_TRUNCATED, "UDP header cut short.")                                                  \
	X(UDP_LEN, "UDP length field disagrees with the IP payload length.")                       \
	X(ICMP_TRUNCATED, "ICMP header cut short.")                                                \
	X(ICMP6_TYPE_UNKNOWN, "ICMPv6 type or code with no ICMPv4 equivalent (RFC 7915 §5.2).")    \
	X(ICMP4_TYPE_UNKNOWN, "ICMPv4 type or code with no ICMPv6 equivalent (RFC 7915 §4.2).")    \
	X(ICMP_FRAGMENTED, "Fragmented ICMP error: its inner packet can't be read.")               \
	X(ICMP6_CHECKSUM, "ICMPv6 error with a wrong checksum.")                                   \
	X(ICMP4_CHECKSUM, "ICMPv4 error with a wrong checksum.")                                   \
	/* The packet inside an ICMP error */                                                      \
	X(INNER_TRUNCATED, "ICMP error whose inner IP header is cut short.")                       \
	X(INNER_MALFORMED, "ICMP error whose inner packet has a bad header.")                      \
	X(INNER_PROTO_UNKNOWN, "ICMP error quoting a protocol other than TCP, UDP or ICMP.")       \
	X(INNER_ICMP_ERROR, "ICMP error quoting another ICMP error.")                              \
	X(INNER_NO_PORTS,                                                                          \
	  "ICMP error whose inner packet lacks the ports (non-first fragment or cut short).")      \
	X(INNER_FAMILY, "ICMP error quoting a packet of the other IP version.")                    \
	/* RFC 7915 translation, 6 -> 4 */                                                         \
	X(XLAT64_HOP_LIMIT, "IPv6 hop limit would expire in translation (Time Exceeded sent).")    \
	X(XLAT64_SEGMENTS_LEFT,                                                                    \
	  "IPv6 Routing header with Segments Left non-zero (RFC 7915 §5.1).")                      \
	X(XLAT64_PARAM_PROB_PTR, "ICMPv6 Parameter Problem pointer with no IPv4 equivalent.")      \
	X(XLAT64_NO_ROOM, "Not enough room in the buffer to translate 6->4.")                      \
	X(XLAT64_TOO_BIG,                                                                          \
	  "IPv6 packet (or quoted packet) whose IPv4 form would exceed 65535 bytes.")              \
	X(XLAT64_ICMP_FRAG,                                                                        \
	  "First fragment of an ICMPv6 echo: its checksum needs the whole datagram.")              \
	/* RFC 7915 translation, 4 -> 6 */                                                         \
	X(XLAT46_TTL, "IPv4 TTL would expire in translation (Time Exceeded sent).")                \
	X(XLAT46_SRC_ROUTE, "IPv4 packet with an unexpired source route option (RFC 7915 §4.1).")  \
	X(XLAT46_PARAM_PROB_PTR, "ICMPv4 Parameter Problem pointer with no IPv6 equivalent.")      \
	X(XLAT46_NO_ROOM, "Not enough headroom or tailroom to translate 4->6.")                    \
	X(XLAT46_UDP_ZERO_CSUM_FRAG,                                                               \
	  "Fragmented IPv4 UDP with checksum 0 dropped (amend-udp-checksum-zero off).")            \
	X(XLAT46_BAD_MTU, "ICMPv4 Fragmentation Needed leading to an IPv6 MTU below 1280.")        \
	X(XLAT46_ICMP_FRAG,                                                                        \
	  "First fragment of an ICMPv4 echo: the ICMPv6 checksum needs the whole datagram.")       \
	/* Fragments: reassembly (reassembly.c) and fragmentation (fragment.c) */                  \
	X(FRAG_HELD, "Fragments kept until the rest of their datagram arrives.")                   \
	X(FRAG_REASSEMBLED, "Datagrams reassembled from their fragments, then translated whole.")  \
	X(FRAG_TIMEOUT, "Incomplete datagrams freed at the reassembly timeout (ICMP Time "         \
			"Exceeded code 1 if their first fragment came).")                          \
	X(FRAG_OVERLAP, "Fragment overlapping another of its datagram: the whole datagram "        \
			"discarded (RFC 5722).")                                                   \
	X(FRAG_DUPLICATE, "Exact copy of a fragment already held: the copy dropped, the datagram " \
			  "kept (RFC 8200 §4.5).")                                                 \
	X(FRAG_DISCARDED,                                                                          \
	  "Fragment of a datagram already discarded: dropped until that datagram times out.")      \
	X(FRAG_BUDGET,                                                                             \
	  "Fragment refused: the reassembly memory budget is full (its datagram discarded).")      \
	X(FRAG_SOURCE_LIMIT,                                                                       \
	  "Fragment refused: its source address holds its whole share of reassembly memory.")      \
	X(FRAG_TOO_MANY, "Datagram discarded: more fragments than the per-datagram maximum.")      \
	X(FRAG_BAD_LAST, "Datagram discarded: its fragments disagree about where it ends.")        \
	X(FRAG_TOO_BIG, "Datagram discarded: reassembled, it would exceed 65535 bytes.")           \
	X(FRAGMENTED_OUT,                                                                          \
	  "Packets split into fragments to fit the next hop (lowest-ipv6-mtu or the IPv4 MTU).")   \
	X(FRAG_OUT_DF, "Packet too big for the next hop with DF set: not fragmented "              \
		       "(Fragmentation Needed is due).")                                           \
	X(FRAG_OUT_MTU, "Packet not fragmented: MTU below 1280 (IPv6) or 68 (IPv4).")              \
	X(FRAG_OUT_EXT6,                                                                           \
	  "IPv6 packet with extension or Fragment headers too big: not fragmented.")               \
	X(FRAG_OUT_NO_ROOM, "IPv6 packet not fragmented: no headroom for the Fragment header.")    \
	X(FRAGMENTS_SENT, "Fragments sent for the packets counted in FRAGMENTED_OUT.")             \
	X(FRAG_ATOMIC6, "IPv6 atomic fragments (offset 0, M 0): translated alone, Fragment "       \
			"header removed (RFC 6946).")                                              \
	X(TOO_BIG6,                                                                                \
	  "6->4 packet (DF due) larger than the IPv4 MTU: dropped, ICMPv6 Packet Too Big due.")    \
	X(TOO_BIG4, "4->6 packet with DF larger than the IPv6 MTU once translated: dropped, "      \
		    "ICMPv4 Fragmentation Needed due.")                                            \
	X(FRAG_TIMEOUT_ICMP, "ICMP Time Exceeded (reassembly time exceeded) sent for a datagram "  \
			     "whose first fragment came.")                                         \
	/* Stateful NAT64 (RFC 6146) */                                                            \
	X(POOL6_MISMATCH, "IPv6 destination outside pool6.")                                       \
	X(POOL4_MISMATCH, "IPv4 destination outside pool4.")                                       \
	X(HAIRPIN_LOOP, "IPv6 source inside pool6: a loop.")                                       \
	X(NONGLOBAL_DST, "Well-known prefix embedding a non-global IPv4 address (RFC 6052 §3.1).") \
	X(SRC6_ILLEGAL, "IPv6 source unspecified (::), loopback (::1) or multicast (ff00::/8): "   \
			"dropped, no ICMP error (RFC 7915 §5.1, RFC 4291 §2.5.2-2.7).")            \
	X(SRC4_ILLEGAL,                                                                            \
	  "IPv4 source in 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (multicast) or 240.0.0.0/4 (incl. "  \
	  "255.255.255.255): dropped, no ICMP error (RFC 1812 §5.3.7).")                           \
	X(NONGLOBAL_SRC, "IPv4 source not global while pool6 is the well-known prefix: it can't "  \
			 "be embedded (RFC 6052 §3.1, wkp-global-only).")                          \
	X(MARK_NOT_FOUND, "No pool4 set for the packet's mark and protocol.")                      \
	X(POOL4_EXHAUSTED, "No free pool4 transport address (or max-iterations reached).")         \
	X(BIB4_NOT_FOUND, "IPv4 packet with no BIB entry for its destination.")                    \
	X(SESSION_NOT_FOUND, "ICMP error with no matching BIB entry.")                             \
	X(ADF, "Dropped by address-dependent filtering.")                                          \
	X(V4_SYN, "IPv4-initiated TCP SYN dropped (drop-externally-initiated-tcp).")               \
	X(SYN6_EXPECTED, "IPv6 TCP packet other than SYN with no session.")                        \
	X(SYN4_EXPECTED, "IPv4 TCP packet other than SYN with no session.")                        \
	X(TYPE1PKT, "IPv4 SYN stored waiting for an IPv6 SYN (simultaneous open).")                \
	X(TYPE2PKT, "IPv4 SYN stored under address-dependent filtering.")                          \
	X(SO_EXISTS, "IPv4 SYN dropped: one from that remote is already stored.")                  \
	X(SO_FULL, "IPv4 SYN refused: maximum-simultaneous-opens reached.")                        \
	X(SESSION_LIMIT, "New session refused: the total session limit is reached.")               \
	X(HOST_SESSION_LIMIT, "New session refused: the IPv6 host's session limit is reached.")    \
	X(ICMP6_FILTER, "ICMPv6 informational packet dropped (drop-icmpv6-info).")                 \
	X(BIB_CREATED, "BIB entries created.")                                                     \
	X(BIB_REMOVED, "BIB entries removed.")                                                     \
	X(SESSION_CREATED, "Sessions created.")                                                    \
	X(SESSION_REMOVED, "Sessions removed.")                                                    \
	X(XLATOR_DISABLED, "Packet dropped: the instance is paused (manually-enabled false).")     \
	X(SO_WAITING,                                                                              \
	  "IPv4 TCP packet for a session whose stored IPv4 SYN waits for the IPv6 side.")          \
	X(SO_EXPIRED, "Stored IPv4 SYNs answered with ICMP 3/3: no IPv6 SYN came within 6 s.")     \
	X(STATE_NOMEM, "Out of memory creating a BIB entry, a session or a stored SYN.")           \
	X(HAIRPINNED,                                                                              \
	  "IPv6 packets sent back to IPv6 through pool4 (hairpinning, RFC 6146 §3.8).")            \
	X(ICMP6ERR_SENT, "ICMPv6 errors the translator originated.")                               \
	X(ICMP4ERR_SENT, "ICMPv4 errors the translator originated.")                               \
	X(ICMPERR_RATE_LIMITED, "ICMP errors not sent: over the rate limit.")                      \
	X(ICMPERR_NOT_ALLOWED,                                                                     \
	  "ICMP errors not sent: about an ICMP error, a fragment or a non-unicast address.")       \
	X(TCP_PROBES_SENT,                                                                         \
	  "Probes sent to IPv6 nodes of TCP sessions whose established timer ran out.")            \
	X(HANDOFF, "Packets handed to the worker that owns their state (static BIB, hairpinning, " \
		   "reassembled fragments, a source port of another worker's share).")             \
	X(HANDOFF_LOOP, "Packet handed over by another worker that is not this one's either: "     \
			"dropped.")                                                                \
	/* Offloads (TUN virtio_net_hdr, docs/offloads.md) */                                      \
	X(GSO_TRANSLATED, "Super-packets (TSO/USO) translated once, segmented by the kernel.")     \
	X(CSUM_PARTIAL, "Packets sent with a partial checksum the kernel finishes (NEEDS_CSUM).")  \
	X(GSO_SEGMENTED, "Super-packets segmented in software, then translated one by one "        \
			 "(too big for the next hop, ICMP error, hairpin, header refused).")       \
	X(GSO_REFUSED, "Super-packets whose offload header can't be translated (segmented).")      \
	X(CSUM_SOFTWARE, "Partial checksums finished in software (UDP, fragmented, quoted by an "  \
			 "ICMP error, IPv4 SYN, or header not translatable).")                     \
	X(GSO_BAD, "Packet dropped: offload header unusable (checksum offsets outside the "        \
		   "packet, a fragment with offloads, a super-packet that can't be segmented).")

#define STAT_ENUM(id, text) STAT_##id,
enum stat_id { STAT_LIST(STAT_ENUM) STAT_COUNT };
#undef STAT_ENUM

/* Counters of one worker. */
struct stats {
	uint64_t count[STAT_COUNT];
};

/* "RECEIVED6", "POOL4_MISMATCH", ... */
const char *stat_name(enum stat_id id);
/* One sentence for operators. */
const char *stat_explain(enum stat_id id);

static inline void
stat_inc(struct stats *s, enum stat_id id)
{
	s->count[id]++;
}

#endif
