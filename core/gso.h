/*
 * Offload metadata of a TUN device opened with IFF_VNET_HDR: the
 * virtio_net_hdr in front of every packet (virtio spec 1.x §5.1.6), and
 * what translation does to it.
 *
 * The pipeline uses it through core/pipeline_offload.c (docs/offloads.md).
 *
 * Kernel conventions this file relies on (verified against the kernel by
 * tests/io/test_tun.c, see docs/offloads.md):
 *   - with GSO_F_NEEDS_CSUM the L4 checksum field holds the one's
 *     complement sum of the pseudo-header, NOT complemented, with the L4
 *     length of the whole packet as it is (for a super-packet: the whole
 *     super-packet's TCP/UDP length); whoever finishes it sums from
 *     csum_start to the end and stores the complement at
 *     csum_start + csum_offset. When the kernel segments a super-packet it
 *     swaps that length for each segment's length (tcp_gso_segment()).
 *   - gso_size is the L4 payload per segment (the MSS for TCP), so it does
 *     not depend on the IP version.
 */
#ifndef NAT64_CORE_GSO_H
#define NAT64_CORE_GSO_H

#include "types.h"

/* Bytes of the header on the wire (struct virtio_net_hdr, no num_buffers). */
enum { GSO_HDR_LEN = 10 };

/* flags (VIRTIO_NET_HDR_F_*). */
enum { GSO_F_NEEDS_CSUM = 1, GSO_F_DATA_VALID = 2 };

/* gso_type (VIRTIO_NET_HDR_GSO_*); GSO_ECN is a bit ORed into the others. */
enum {
	GSO_NONE = 0,
	GSO_TCPV4 = 1,
	GSO_UDP = 3, /* UFO: deprecated, never translated */
	GSO_TCPV6 = 4,
	GSO_UDP_L4 = 5, /* USO: one type for both IP versions */
	GSO_ECN = 0x80,
};

/*
 * The header with the same fields as struct virtio_net_hdr, in host order.
 * On the wire the 16-bit fields are little-endian (io/tun.c sets
 * TUNSETVNETLE, as virtio 1.x does); gso_hdr_read()/gso_hdr_write() convert.
 */
struct gso_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;     /* bytes of headers, L3 + L4 (a hint; 0 = unknown) */
	uint16_t gso_size;    /* L4 payload bytes per segment */
	uint16_t csum_start;  /* offset of the L4 header */
	uint16_t csum_offset; /* checksum field, from csum_start: TCP 16, UDP 6 */
};
_Static_assert(sizeof(struct gso_hdr) == GSO_HDR_LEN, "same layout as struct virtio_net_hdr");

/* Every rejection has its own reason. */
enum gso_status {
	GSO_OK = 0,
	GSO_ERR_SHORT,       /* buffer shorter than the header / packet */
	GSO_ERR_TYPE,        /* unknown or untranslatable gso_type (e.g. UFO) */
	GSO_ERR_FAMILY,      /* gso_type of the other IP version */
	GSO_ERR_PROTO,       /* transport protocol does not match gso_type */
	GSO_ERR_NO_CSUM,     /* GSO without NEEDS_CSUM */
	GSO_ERR_CSUM_START,  /* csum_start is not the L4 header offset */
	GSO_ERR_CSUM_OFFSET, /* csum_offset is not TCP's 16 / UDP's 6 */
	GSO_ERR_HDR_LEN,     /* hdr_len ends inside the L3 header */
	GSO_ERR_SIZE,        /* gso_size 0 for a GSO type */
	GSO_ERR_TOO_BIG,     /* translated packet would exceed 65535 bytes */
	GSO_ERR_FRAGMENT,    /* a fragment can't be segmented */
	GSO_ERR_PACKET,      /* malformed IP/TCP header */
	GSO_ERR_SPACE,       /* output buffer too small for one segment */
};

/* Short name of a status, e.g. "csum-start", for logs and tests. */
const char *gso_status_name(enum gso_status st);

/* Parses the first GSO_HDR_LEN bytes of `b`; `h` is untouched on error. */
enum gso_status gso_hdr_read(const uint8_t *b, size_t len, struct gso_hdr *h);

/* Writes `h` as the GSO_HDR_LEN bytes of the wire format. */
void gso_hdr_write(const struct gso_hdr *h, uint8_t out[GSO_HDR_LEN]);

/* How translation changed the packet the header describes. */
struct gso_layout {
	uint8_t version_new; /* 4 or 6: the translated packet */
	uint8_t l4proto;     /* IPPROTO_TCP or IPPROTO_UDP (other: GSO_NONE only) */
	uint16_t l3_old;     /* L3 bytes before translation (IPv6 40 + ext, IPv4 IHL) */
	uint16_t l3_new;     /* L3 bytes after translation */
	uint32_t l4_len;     /* transport header + payload bytes (unchanged) */
};

/*
 * The header for the translated packet: gso_type TCPV6 <-> TCPV4 (ECN bit
 * and UDP_L4 kept), hdr_len and csum_start shifted by l3_new - l3_old,
 * csum_offset, gso_size and flags unchanged. `out` is untouched on error;
 * the caller segments in software (gso_seg_*) when this refuses a GSO packet.
 */
enum gso_status gso_translate(const struct gso_hdr *in, const struct gso_layout *lay,
			      struct gso_hdr *out);

/*
 * For a translated packet `pkt` (IP header first, `len` bytes) whose header
 * `h` has GSO_F_NEEDS_CSUM: REPLACES the L4 checksum field with the partial
 * checksum of the new pseudo-header (new addresses, L4 length len -
 * csum_start, protocol `l4proto`), the kernel's convention. Does nothing
 * without NEEDS_CSUM. The packet is untouched on error.
 */
enum gso_status gso_pseudo_csum(uint8_t *pkt, size_t len, const struct gso_hdr *h, uint8_t l4proto);

/*
 * Finishes the partial checksum of a NEEDS_CSUM packet `pkt` (`len`
 * bytes) described by `h`, as skb_checksum_help() does: the one's
 * complement of the sum from csum_start to the end (the field holds the
 * pseudo-header part) goes into the field; a UDP result of 0 is sent as
 * 0xffff (RFC 768). For a packet that is fragmented, quoted by an ICMP
 * error, or written without a header. The packet is untouched on error.
 */
enum gso_status gso_csum_complete(uint8_t *pkt, size_t len, const struct gso_hdr *h);

/*
 * Software segmentation of a super-packet (gso_type TCPV4 / TCPV6, or
 * UDP_L4 of either version), one segment at a time into a caller buffer,
 * no allocation. Each segment gets the headers of the super-packet with:
 * IPv4 total length, ID + i, header checksum; IPv6 payload length; TCP
 * sequence + i * gso_size, FIN and PSH on the last segment only, CWR on
 * the first only (as the kernel's tcp_gso_segment()); UDP its own length
 * (__udp_gso_segment()); a full TCP or UDP checksum.
 */
struct gso_seg {
	const uint8_t *pkt;
	uint32_t len;
	uint8_t proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t l4_off; /* offset of the TCP / UDP header */
	uint16_t hdrs;   /* L3 + transport header bytes */
	uint16_t mss;
	uint32_t next; /* offset of the next payload byte */
	uint32_t index;
};

/* Checks `pkt` against `h`; `it` is untouched on error. */
enum gso_status gso_seg_begin(struct gso_seg *it, const uint8_t *pkt, size_t len,
			      const struct gso_hdr *h);

/* Bytes of the largest segment, for sizing the output buffer. */
size_t gso_seg_max_len(const struct gso_seg *it);

/*
 * Writes the next segment to `out` and sets *seg_len; GSO_OK, or
 * GSO_ERR_SPACE (nothing written). *seg_len is 0 after the last segment.
 */
enum gso_status gso_seg_next(struct gso_seg *it, uint8_t *out, size_t size, size_t *seg_len);

#endif
