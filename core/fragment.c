/*
 * Fragmentation of outgoing packets, in place (see fragment.h).
 *
 * Layout of a packet being split, for IPv6 (IPv4 alike with its header):
 *
 *      [hdr 40][piece 0        ][piece 1        ][piece 2   ]
 *   [40 + 8][piece 0]                                           fragment 0
 *                  [40 + 8][piece 1]                            fragment 1
 *                                   [40 + 8][piece 2]           fragment 2
 *
 * Fragment k's headers overwrite the last bytes of piece k-1, already
 * sent; fragment 0's start 8 bytes before the packet. Pieces are at least
 * 1232 (IPv6) or 8 (IPv4) bytes; an IPv4 header after a piece of 8 bytes
 * also covers the end of the headers before that piece, sent as well.
 * The headers are built from a template copied when the split starts.
 */
#include "fragment.h"

#include "checksum.h"

enum {
	IPV6_HDR_LEN = 40,
	FRAG6_HDR_LEN = 8,
	IPV4_HDR_MIN = 20,
	NEXTHDR_HOP = 0,
	NEXTHDR_ROUTING = 43,
	NEXTHDR_FRAGMENT = 44,
	NEXTHDR_DEST = 60,
	FRAG6_M = 0x0001,
	IP4_DF = 0x4000,
	IP4_MF = 0x2000,
	IP4_OFFSET_MASK = 0x1fff,
	OPT4_EOL = 0,
	OPT4_NOP = 1,
	OPT4_COPIED = 0x80, /* RFC 791 §3.1: the option's "copied flag" */
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t
div_up(uint32_t a, uint32_t b)
{
	return (a + b - 1) / b;
}

/* Start yielding `p` once, unchanged. */
static void
iter_whole(struct frag_iter *it, const struct pkt *p)
{
	memset(it, 0, sizeof(*it));
	it->whole = *p;
	it->fragments = 1;
}

/* ---- IPv6 ---------------------------------------------------------------- */

static bool
is_ext6(uint8_t nh)
{
	return nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING || nh == NEXTHDR_FRAGMENT ||
	       nh == NEXTHDR_DEST;
}

static enum stat_id
check6(const struct pkt *p, uint32_t *len)
{
	uint32_t plen;

	if (p->len < IPV6_HDR_LEN)
		return STAT_HDR6_TRUNCATED;
	if (p->data[0] >> 4 != 6)
		return STAT_HDR6_VERSION;
	plen = get16(p->data + 4);
	if (plen == 0 || plen > p->len - IPV6_HDR_LEN)
		return STAT_HDR6_PAYLOAD_LEN;
	*len = IPV6_HDR_LEN + plen;
	return STAT_OK;
}

enum stat_id
frag_split6(struct frag_iter *it, struct pkt *p, uint32_t mtu, uint32_t id)
{
	uint32_t len;
	enum stat_id rc;

	rc = check6(p, &len);
	if (rc != STAT_OK)
		return rc;
	if (len <= mtu) {
		iter_whole(it, p);
		it->whole.len = len;
		return STAT_OK;
	}
	if (mtu < FRAG_MTU6_MIN)
		return STAT_FRAG_OUT_MTU;
	if (is_ext6(p->data[6]))
		return STAT_FRAG_OUT_EXT6;
	if (p->headroom < FRAG_HEADROOM6)
		return STAT_FRAG_OUT_NO_ROOM;
	memset(it, 0, sizeof(*it));
	it->family = 6;
	it->pkt = p->data;
	it->payload = p->data + IPV6_HDR_LEN;
	it->payload_len = len - IPV6_HDR_LEN;
	/* RFC 8200 §4.5: every piece but the last is a multiple of 8 bytes,
	 * and each fragment (headers + piece) fits the MTU. */
	it->chunk = (mtu - IPV6_HDR_LEN - FRAG6_HDR_LEN) & ~7u;
	it->first_chunk = it->chunk;
	it->fragments = div_up(it->payload_len, it->chunk);
	it->id = id;
	it->hdr_len = IPV6_HDR_LEN;
	memcpy(it->hdr, p->data, IPV6_HDR_LEN);
	return STAT_OK;
}

/* Fragment of the piece at it->pos, `n` bytes. */
static void
next6(struct frag_iter *it, uint32_t n, struct pkt *out)
{
	uint8_t *start = it->payload + it->pos - IPV6_HDR_LEN - FRAG6_HDR_LEN;
	uint8_t *fh = start + IPV6_HDR_LEN;
	bool more = it->pos + n < it->payload_len;

	memcpy(start, it->hdr, IPV6_HDR_LEN);
	put16(start + 4, (uint16_t)(FRAG6_HDR_LEN + n));
	start[6] = NEXTHDR_FRAGMENT;
	/* RFC 8200 §4.5 Fragment header: Next Header of the original
	 * packet, reserved, offset in 8-octet units, res, M, Identification. */
	fh[0] = it->hdr[6];
	fh[1] = 0;
	put16(fh + 2, (uint16_t)(it->pos | (more ? FRAG6_M : 0)));
	put32(fh + 4, it->id);
	out->data = start;
	out->len = IPV6_HDR_LEN + FRAG6_HDR_LEN + n;
}

/* ---- IPv4 ---------------------------------------------------------------- */

static enum stat_id
check4(const struct pkt *p, uint32_t *ihl, uint32_t *total)
{
	if (p->len < IPV4_HDR_MIN)
		return STAT_HDR4_TRUNCATED;
	if (p->data[0] >> 4 != 4)
		return STAT_HDR4_VERSION;
	*ihl = (uint32_t)(p->data[0] & 0x0f) * 4;
	if (*ihl < IPV4_HDR_MIN || *ihl > p->len)
		return STAT_HDR4_IHL;
	*total = get16(p->data + 2);
	if (*total < *ihl || *total > p->len)
		return STAT_HDR4_TOTAL_LEN;
	return STAT_OK;
}

/*
 * RFC 791 §3.1: the header of a non-first fragment holds the options
 * whose copied flag is set, padded with End of Option List to a multiple
 * of 4 bytes. Builds it in it->hdr.
 */
static enum stat_id
template4(struct frag_iter *it, const uint8_t *ip4, uint32_t ihl)
{
	uint32_t out = IPV4_HDR_MIN;
	uint32_t off = IPV4_HDR_MIN;
	uint32_t olen;

	memset(it->hdr, 0, sizeof(it->hdr));
	memcpy(it->hdr, ip4, IPV4_HDR_MIN);
	while (off < ihl && ip4[off] != OPT4_EOL) {
		if (ip4[off] == OPT4_NOP) {
			off++;
			continue;
		}
		if (ihl - off < 2 || ip4[off + 1] < 2 || ip4[off + 1] > ihl - off)
			return STAT_HDR4_OPTIONS;
		olen = ip4[off + 1];
		if (ip4[off] & OPT4_COPIED) {
			memcpy(it->hdr + out, ip4 + off, olen);
			out += olen;
		}
		off += olen;
	}
	it->hdr_len = (uint8_t)((out + 3) & ~3u);
	it->hdr[0] = (uint8_t)(0x40 | it->hdr_len / 4);
	return STAT_OK;
}

enum stat_id
frag_split4(struct frag_iter *it, struct pkt *p, uint32_t mtu)
{
	struct frag_iter tmp;
	uint32_t ihl;
	uint32_t total;
	uint16_t frag;
	enum stat_id rc;

	rc = check4(p, &ihl, &total);
	if (rc != STAT_OK)
		return rc;
	if (total <= mtu) {
		iter_whole(it, p);
		it->whole.len = total;
		return STAT_OK;
	}
	frag = get16(p->data + 6);
	if (frag & IP4_DF)
		return STAT_FRAG_OUT_DF;
	if (mtu < FRAG_MTU4_MIN)
		return STAT_FRAG_OUT_MTU;
	memset(&tmp, 0, sizeof(tmp));
	rc = template4(&tmp, p->data, ihl);
	if (rc != STAT_OK)
		return rc;
	tmp.family = 4;
	tmp.pkt = p->data;
	tmp.payload = p->data + ihl;
	tmp.payload_len = total - ihl;
	tmp.first_hdr_len = (uint8_t)ihl;
	tmp.base_offset = (uint32_t)(frag & IP4_OFFSET_MASK) * 8;
	tmp.last_mf = (frag & IP4_MF) != 0;
	/* RFC 791 §3.2: pieces are multiples of 8 bytes (68 - 60 = 8 is the
	 * least any header leaves) and each fragment fits the MTU. */
	tmp.first_chunk = (mtu - ihl) & ~7u;
	tmp.chunk = (mtu - tmp.hdr_len) & ~7u;
	tmp.fragments = 1 + div_up(tmp.payload_len - tmp.first_chunk, tmp.chunk);
	*it = tmp;
	return STAT_OK;
}

/* Fragment of the piece at it->pos, `n` bytes, with header `hl` bytes
 * long: the original header for the first, the template for the others. */
static void
next4(struct frag_iter *it, uint32_t n, struct pkt *out)
{
	bool first = it->pos == 0;
	uint32_t hl = first ? it->first_hdr_len : it->hdr_len;
	uint8_t *start = it->payload + it->pos - hl;
	bool more = it->pos + n < it->payload_len || it->last_mf;
	uint32_t offset = (it->base_offset + it->pos) / 8;
	uint16_t frag = (uint16_t)(offset | (more ? IP4_MF : 0));
	uint16_t csum;

	if (!first)
		memcpy(start, it->hdr, hl);
	put16(start + 2, (uint16_t)(hl + n));
	put16(start + 6, frag);
	put16(start + 10, 0);
	csum = csum_ipv4_header(start, hl);
	memcpy(start + 10, &csum, 2);
	out->data = start;
	out->len = hl + n;
}

/* ---- Both ------------------------------------------------------------------ */

bool
frag_next(struct frag_iter *it, struct pkt *out)
{
	uint32_t n;

	if (it->yielded >= it->fragments)
		return false;
	it->yielded++;
	if (it->family == 0) {
		*out = it->whole;
		return true;
	}
	n = it->pos == 0 ? it->first_chunk : it->chunk;
	if (n > it->payload_len - it->pos)
		n = it->payload_len - it->pos;
	if (it->family == 6)
		next6(it, n, out);
	else
		next4(it, n, out);
	out->headroom = 0;
	out->tailroom = 0;
	it->pos += n;
	return true;
}

void
frag_clear_df(struct pkt *p)
{
	uint8_t *ip4 = p->data;
	uint16_t before;
	uint16_t after;
	uint16_t csum;

	if (p->len < IPV4_HDR_MIN || ip4[0] >> 4 != 4 || !(get16(ip4 + 6) & IP4_DF))
		return;
	memcpy(&before, ip4 + 6, 2);
	put16(ip4 + 6, get16(ip4 + 6) & (uint16_t)~IP4_DF);
	memcpy(&after, ip4 + 6, 2);
	memcpy(&csum, ip4 + 10, 2);
	csum = csum_replace16(csum, before, after);
	memcpy(ip4 + 10, &csum, 2);
}
