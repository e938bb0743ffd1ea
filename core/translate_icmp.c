/*
 * RFC 7915 §4.2-4.3 and §5.2-5.3: ICMP errors, both directions.
 *
 * An ICMP error is translated whole: outer IP header, ICMP type, code and
 * the type-specific word (MTU, pointer, RFC 4884 length), then the packet
 * it quotes, whose IP header changes size like the outer one (RFC 7915
 * §4.3, §5.3: "by invoking the function that translated the outer IP
 * headers"), and the checksum is computed from scratch over the result,
 * after the incoming one was verified (as Jool: an error is short, and an
 * incremental update would carry a bad sum over).
 *
 * In place, without a scratch copy of the message:
 *   - the outer header is written just before the ICMP header, which does
 *     not move (into the headroom for 4->6, over the old header for 6->4);
 *   - the quote after the inner IP header moves by the inner header's
 *     change of size (4->6 needs tailroom for that), and an RFC 4884
 *     extension moves to the end of the new original-datagram field;
 *   - the new headers are built in local arrays before anything moves,
 *     because the moves overwrite the old ones.
 * Every check comes first (`plan`), then the writes (`apply`), so a
 * refused packet is untouched.
 *
 * The result is cut to 576 bytes for ICMPv4 (RFC 1812 §4.3.2.3) and 1280
 * for ICMPv6 (RFC 4443 §2.4 (c)), like Jool.
 *
 * RFC 4884 (ICMP extensions): Destination Unreachable, Time Exceeded (and
 * ICMPv4 Parameter Problem) may carry a length attribute (ICMPv4: 32-bit
 * words in byte 5; ICMPv6: 64-bit words in byte 4) saying how long the
 * original datagram field is, with an extension structure after it. When the incoming attribute is
 * valid (at least 128 bytes, the minimum of RFC 4884 §4, and inside the
 * packet), the translated field is padded to the new unit and at least 128
 * bytes, the extension copied after it unchanged (its checksum covers only
 * itself) and the attribute rewritten. The extension is dropped (attribute
 * 0, the original datagram alone kept) when the new type has no attribute
 * (Packet Too Big, Parameter Problem) or the whole would not fit in
 * 576/1280 bytes (Jool's ICMPEXT_BIG case). An invalid attribute is taken
 * as absent: the rest of the message is all quote, as an RFC 792 receiver
 * would read it (RFC 4884 §5, backwards compatibility).
 */
#include "translate_icmp.h"

#include "checksum.h"
#include "mtu.h"

enum {
	RFC4884_MIN_ORIG = 128, /* RFC 4884 §4 */
	ICMP4_LEN_BYTE = 5,     /* RFC 4884 §4, in 32-bit words */
	ICMP6_LEN_BYTE = 4,     /* RFC 4884 §4, in 64-bit words */
	ICMP4_LEN_UNIT = 4,
	ICMP6_LEN_UNIT = 8,
	/* RFC 7915 §4.2: Protocol Unreachable points at Next Header. */
	PTR6_NEXT_HEADER = 6,
};

/* What follows type, code and checksum in the translated message. */
enum icmp_rest {
	REST_LENGTH,  /* Destination Unreachable, Time Exceeded: RFC 4884 length */
	REST_MTU,     /* Packet Too Big <-> Fragmentation Needed */
	REST_POINTER, /* Parameter Problem */
	REST_PROTO,   /* ICMPv6 4/1 <-> ICMPv4 3/2 */
};

struct icmp_map {
	uint8_t type;
	uint8_t code;
	enum icmp_rest rest;
};

/* Where everything goes; offsets from the start of the packet. */
struct err_plan {
	uint8_t icmp[ICMP_HDR_LEN]; /* new ICMP header, checksum 0 */
	uint32_t icmp_off;
	uint32_t inner_off;
	uint32_t in_hdr;  /* inner IP header (+ options / extension headers) */
	uint32_t out_hdr; /* its translation */
	uint32_t quote;   /* bytes after the inner IP header that are kept */
	uint32_t orig;    /* RFC 4884 original datagram field out, 0: none */
	uint32_t ext_off; /* the extension structure, when orig != 0 */
	uint32_t ext_len;
	uint32_t len; /* the new ICMP message, header included */
};

/* ---- Type and code tables --------------------------------------------- */

static bool
map64_unreach(uint8_t code, struct icmp_map *m)
{
	/* RFC 7915 §5.2, Destination Unreachable (Type 1) -> Type 3. */
	m->type = ICMP4_DEST_UNREACH;
	m->rest = REST_LENGTH;
	switch (code) {
	case 0:              /* no route */
	case 2:              /* beyond scope of source address */
	case 3:              /* address unreachable */
		m->code = 1; /* host unreachable */
		return true;
	case 1: /* administratively prohibited */
		m->code = 10;
		return true;
	case 4: /* port unreachable */
		m->code = 3;
		return true;
	default:
		return false;
	}
}

/* RFC 7915 §5.2: ICMPv6 error type/code -> ICMPv4. */
static bool
map64(uint8_t type, uint8_t code, struct icmp_map *m)
{
	switch (type) {
	case ICMP6_DEST_UNREACH:
		return map64_unreach(code, m);
	case ICMP6_PACKET_TOO_BIG:
		*m = (struct icmp_map){ICMP4_DEST_UNREACH, 4, REST_MTU};
		return true;
	case ICMP6_TIME_EXCEEDED: /* "The Code is unchanged." */
		*m = (struct icmp_map){ICMP4_TIME_EXCEEDED, code, REST_LENGTH};
		return true;
	case ICMP6_PARAM_PROB:
		if (code == 0) /* erroneous header field */
			*m = (struct icmp_map){ICMP4_PARAM_PROB, 0, REST_POINTER};
		else if (code == 1) /* unrecognized Next Header */
			*m = (struct icmp_map){ICMP4_DEST_UNREACH, 2, REST_PROTO};
		return code <= 1; /* 2, unrecognized option: dropped */
	default:
		return false;
	}
}

static bool
map46_unreach(uint8_t code, struct icmp_map *m)
{
	/* RFC 7915 §4.2, Destination Unreachable (Type 3) -> Type 1 unless
	 * noted. */
	*m = (struct icmp_map){ICMP6_DEST_UNREACH, 0, REST_LENGTH};
	switch (code) {
	case 0:
	case 1:
	case 5:
	case 6:
	case 7:
	case 8:
	case 11:
	case 12:
		return true; /* code 0, no route to destination */
	case 9:
	case 10:
	case 13:
	case 15:
		m->code = 1; /* administratively prohibited */
		return true;
	case 2: /* protocol unreachable -> Parameter Problem, pointer 6 */
		*m = (struct icmp_map){ICMP6_PARAM_PROB, 1, REST_PROTO};
		return true;
	case 3:
		m->code = 4; /* port unreachable */
		return true;
	case 4: /* fragmentation needed -> Packet Too Big */
		*m = (struct icmp_map){ICMP6_PACKET_TOO_BIG, 0, REST_MTU};
		return true;
	default: /* 14 (host precedence violation) and unknown codes */
		return false;
	}
}

/* RFC 7915 §4.2: ICMPv4 error type/code -> ICMPv6. Source Quench,
 * Redirect and the rest are dropped. */
static bool
map46(uint8_t type, uint8_t code, struct icmp_map *m)
{
	switch (type) {
	case ICMP4_DEST_UNREACH:
		return map46_unreach(code, m);
	case ICMP4_TIME_EXCEEDED: /* "The Code is unchanged." */
		*m = (struct icmp_map){ICMP6_TIME_EXCEEDED, code, REST_LENGTH};
		return true;
	case ICMP4_PARAM_PROB: /* 0 pointer, 2 bad length; 1 dropped */
		*m = (struct icmp_map){ICMP6_PARAM_PROB, 0, REST_POINTER};
		return code == 0 || code == 2;
	default:
		return false;
	}
}

enum stat_id
xlat_icmp_pointer64(uint32_t ptr6, uint8_t *ptr4)
{
	/* RFC 7915 §5.2 Figure 6. Fields spanning several bytes map to the
	 * first byte of the IPv4 field, as the figure lists them. */
	if (ptr6 <= 1)
		*ptr4 = (uint8_t)ptr6; /* version/traffic class */
	else if (ptr6 == 4 || ptr6 == 5)
		*ptr4 = 2; /* payload length -> total length */
	else if (ptr6 == 6)
		*ptr4 = 9; /* next header -> protocol */
	else if (ptr6 == 7)
		*ptr4 = 8; /* hop limit -> TTL */
	else if (ptr6 >= 8 && ptr6 <= 23)
		*ptr4 = 12; /* source address */
	else if (ptr6 >= 24 && ptr6 <= 39)
		*ptr4 = 16; /* destination address */
	else
		return STAT_XLAT64_PARAM_PROB_PTR; /* flow label, past the header */
	return STAT_OK;
}

enum stat_id
xlat_icmp_pointer46(uint8_t ptr4, uint32_t *ptr6)
{
	/* RFC 7915 §4.2 Figure 3. */
	if (ptr4 <= 1)
		*ptr6 = ptr4; /* version/IHL, TOS */
	else if (ptr4 == 2 || ptr4 == 3)
		*ptr6 = 4; /* total length -> payload length */
	else if (ptr4 == 8)
		*ptr6 = 7; /* TTL -> hop limit */
	else if (ptr4 == 9)
		*ptr6 = 6; /* protocol -> next header */
	else if (ptr4 >= 12 && ptr4 <= 15)
		*ptr6 = 8; /* source address */
	else if (ptr4 >= 16 && ptr4 <= 19)
		*ptr6 = 24; /* destination address */
	else
		return STAT_XLAT46_PARAM_PROB_PTR; /* ID, flags, checksum, options */
	return STAT_OK;
}

/* ---- Layout of the translated message --------------------------------- */

static uint32_t
round_up(uint32_t n, uint32_t unit)
{
	return (n + unit - 1) / unit * unit;
}

/* The original datagram field announced by an incoming RFC 4884 length
 * of `attr_bytes` bytes, or 0 when it is absent or can't be right. */
static uint32_t
rfc4884_orig(const struct err_plan *e, uint32_t attr_bytes, uint32_t end)
{
	if (attr_bytes < RFC4884_MIN_ORIG || attr_bytes < e->in_hdr)
		return 0;
	if (attr_bytes > end - e->inner_off)
		return 0;
	return attr_bytes;
}

/*
 * Decide the quote and extension of the new message (see the file
 * comment). `in_orig`: the incoming original datagram field, 0 if none;
 * `keep_ext`: the new type has a length attribute; `unit`: its unit;
 * `max_msg`: the longest ICMP message allowed out.
 */
static void
layout(struct err_plan *e, uint32_t end, uint32_t in_orig, bool keep_ext, uint32_t unit,
       uint32_t max_msg)
{
	uint32_t quote_end = in_orig != 0 ? e->inner_off + in_orig : end;
	uint32_t orig;
	uint32_t max_quote = max_msg - ICMP_HDR_LEN - e->out_hdr;

	e->quote = quote_end - (e->inner_off + e->in_hdr);
	e->orig = 0;
	e->ext_off = 0;
	e->ext_len = 0;
	if (in_orig != 0 && keep_ext) {
		orig = round_up(e->out_hdr + e->quote, unit);
		if (orig < RFC4884_MIN_ORIG)
			orig = RFC4884_MIN_ORIG;
		if (ICMP_HDR_LEN + orig + (end - quote_end) <= max_msg) {
			e->orig = orig;
			e->ext_off = quote_end;
			e->ext_len = end - quote_end;
		}
	}
	if (e->orig != 0) {
		e->len = ICMP_HDR_LEN + e->orig + e->ext_len;
		return;
	}
	if (e->quote > max_quote)
		e->quote = max_quote;
	e->len = ICMP_HDR_LEN + e->out_hdr + e->quote;
}

/* Move the quote and the extension to their new places and zero the
 * padding between them. Either may move either way; the one moved first
 * is the one whose destination can't hold the other's source. */
static void
move_quote(uint8_t *data, const struct err_plan *e)
{
	uint8_t *q_src = data + e->inner_off + e->in_hdr;
	uint8_t *q_dst = data + e->inner_off + e->out_hdr;
	uint8_t *x_src = data + e->ext_off;
	uint8_t *x_dst = data + e->inner_off + e->orig;
	bool ext_forward = e->orig != 0 && x_dst > x_src;

	if (ext_forward)
		memmove(x_dst, x_src, e->ext_len);
	memmove(q_dst, q_src, e->quote);
	if (e->orig == 0)
		return;
	if (!ext_forward)
		memmove(x_dst, x_src, e->ext_len);
	memset(q_dst + e->quote, 0, (size_t)(x_dst - (q_dst + e->quote)));
}

/* Fill the word after the checksum: the RFC 4884 length, or `value`
 * (MTU or pointer) as the new type wants it. */
static void
rest64(struct err_plan *e, const struct icmp_map *m, uint32_t value)
{
	memset(e->icmp + 4, 0, 4);
	if (m->rest == REST_LENGTH)
		e->icmp[4 + 1] = (uint8_t)(e->orig / ICMP4_LEN_UNIT);
	else if (m->rest == REST_MTU)
		xlat_put16(e->icmp + 6, (uint16_t)value);
	else if (m->rest == REST_POINTER)
		e->icmp[4] = (uint8_t)value;
}

static void
rest46(struct err_plan *e, const struct icmp_map *m, uint32_t value)
{
	memset(e->icmp + 4, 0, 4);
	if (m->rest == REST_LENGTH)
		e->icmp[4] = (uint8_t)(e->orig / ICMP6_LEN_UNIT);
	else if (m->rest == REST_PROTO)
		xlat_put32(e->icmp + 4, PTR6_NEXT_HEADER);
	else
		xlat_put32(e->icmp + 4, value);
}

/* ---- ICMPv6 -> ICMPv4 (RFC 7915 §5.2, §5.3) ---------------------------- */

static bool
csum6_ok(const uint8_t *ip6, const uint8_t *icmp, uint32_t len)
{
	struct in6_addr src;
	struct in6_addr dst;
	uint32_t sum;

	memcpy(&src, ip6 + 8, sizeof(src));
	memcpy(&dst, ip6 + 24, sizeof(dst));
	sum = csum_pseudo6(&src, &dst, IPPROTO_ICMPV6, len);
	return csum_fold(csum_partial(icmp, len, sum)) == 0;
}

/* The value of the type-specific word: pointer or MTU. */
static enum stat_id
value64(const uint8_t *icmp, const struct icmp_map *m, const struct pkt_info *info, uint32_t mtu4,
	uint32_t mtu6_in, uint32_t *value)
{
	uint8_t ptr4 = 0;
	enum stat_id rc = STAT_OK;

	*value = 0;
	if (m->rest == REST_POINTER) {
		rc = xlat_icmp_pointer64(xlat_get32(icmp + 4), &ptr4);
		*value = ptr4;
	} else if (m->rest == REST_MTU) {
		*value = mtu_ptb_to_fn(xlat_get32(icmp + 4), mtu4, mtu6_in,
				       info->inner.frag_hdr_off != 0);
	}
	return rc;
}

/* The quoted IPv6 packet's length once IPv4, from its Payload Length
 * (RFC 7915 §5.1 applied to the inner header), not the bytes quoted. */
static enum stat_id
inner_total4(const uint8_t *ip6, uint32_t in_hdr, uint16_t *total)
{
	uint32_t plen = xlat_get16(ip6 + 4);
	uint32_t n;

	if (plen + IPV6_HDR_LEN < in_hdr)
		return STAT_INNER_MALFORMED; /* shorter than its own headers */
	n = plen + IPV6_HDR_LEN - in_hdr + IPV4_HDR_LEN;
	if (n > IPV4_MAX_LEN)
		return STAT_XLAT64_TOO_BIG;
	*total = (uint16_t)n;
	return STAT_OK;
}

static enum stat_id
plan64(const struct pkt *p, const struct pkt_info *info, uint32_t mtu4, uint32_t mtu6_in,
       struct err_plan *e, uint16_t *total)
{
	const uint8_t *icmp = p->data + info->outer.l4_off;
	uint32_t end = info->outer.l3_end;
	uint32_t value;
	uint32_t in_orig = 0;
	struct icmp_map m = {0};
	enum stat_id rc;

	e->icmp_off = info->outer.l4_off;
	if (!csum6_ok(p->data, icmp, end - e->icmp_off))
		return STAT_ICMP6_CHECKSUM;
	if (!map64(icmp[0], icmp[1], &m))
		return STAT_ICMP6_TYPE_UNKNOWN;
	rc = value64(icmp, &m, info, mtu4, mtu6_in, &value);
	if (rc != STAT_OK)
		return rc;
	if (!info->has_inner)
		return STAT_INNER_TRUNCATED;
	e->inner_off = info->inner_off;
	e->in_hdr = info->inner.l4_off;
	e->out_hdr = IPV4_HDR_LEN;
	if (e->inner_off + e->in_hdr > end)
		return STAT_INNER_TRUNCATED;
	rc = inner_total4(p->data + e->inner_off, e->in_hdr, total);
	if (rc != STAT_OK)
		return rc;
	if (icmp[0] == ICMP6_DEST_UNREACH || icmp[0] == ICMP6_TIME_EXCEEDED)
		in_orig = rfc4884_orig(e, icmp[ICMP6_LEN_BYTE] * ICMP6_LEN_UNIT, end);
	layout(e, end, in_orig, m.rest == REST_LENGTH, ICMP4_LEN_UNIT,
	       ICMP4_ERROR_MAX - IPV4_HDR_LEN);
	/* Never true (6->4 only shrinks), but cheap to be sure of. */
	if (e->icmp_off + e->len > p->len + p->tailroom)
		return STAT_XLAT64_NO_ROOM;
	memset(e->icmp, 0, sizeof(e->icmp));
	e->icmp[0] = m.type;
	e->icmp[1] = m.code;
	rest64(e, &m, value);
	return STAT_OK;
}

/* The quoted transport header (RFC 7915 §5.3: translated like the outer
 * one; ports are in the quote, parse guarantees it). */
static void
inner_l4_64(uint8_t *data, const struct pkt_info *info, const struct err_plan *e,
	    const struct xlat_addrs4 *a, uint16_t total)
{
	uint8_t *ip6 = data + e->inner_off;
	uint8_t *l4 = ip6 + e->in_hdr;
	uint8_t proto = info->inner.l4_proto;

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		xlat64_tcpudp(l4, e->quote, proto, ip6, &a->inner_src, &a->inner_dst);
	else if (proto == IPPROTO_ICMPV6)
		xlat64_echo(l4, e->quote, ip6, (uint32_t)total - IPV4_HDR_LEN, a->inner_src.port);
}

static void
apply64(struct pkt *p, const struct pkt_info *info, const struct err_plan *e,
	const struct xlat_addrs4 *a, const struct xlat_config *cfg, uint16_t total)
{
	uint8_t *data = p->data;
	uint8_t *ip6i = data + e->inner_off;
	uint8_t outer[IPV4_HDR_LEN];
	uint8_t inner[IPV4_HDR_LEN];
	struct xlat_hdr4 h;
	uint16_t csum;

	/* Inner headers are not decremented; their Identification is lost
	 * with the IPv4 packet they came from, so 0. */
	h = (struct xlat_hdr4){.src = a->inner_src.addr,
			       .dst = a->inner_dst.addr,
			       .total_len = total,
			       .tos = xlat64_tos(ip6i, cfg),
			       .ttl = ip6i[7],
			       .id = 0};
	xlat64_ipv4_header(inner, &info->inner, &h);
	h = (struct xlat_hdr4){.src = a->src.addr,
			       .dst = a->dst.addr,
			       .total_len = (uint16_t)(IPV4_HDR_LEN + e->len),
			       .tos = xlat64_tos(data, cfg),
			       .ttl = (uint8_t)(data[7] - (a->decrement_ttl ? 1 : 0)),
			       .id = a->ipv4_id};
	xlat64_ipv4_header(outer, &info->outer, &h);

	inner_l4_64(data, info, e, a, total);
	move_quote(data, e);
	memcpy(ip6i, inner, IPV4_HDR_LEN);
	memcpy(data + e->icmp_off, e->icmp, ICMP_HDR_LEN);
	/* ICMPv4 has no pseudo-header (RFC 792). */
	csum = csum_fold(csum_partial(data + e->icmp_off, e->len, 0));
	memcpy(data + e->icmp_off + 2, &csum, 2);
	memcpy(data + e->icmp_off - IPV4_HDR_LEN, outer, IPV4_HDR_LEN);
	xlat_pkt_reframe(p, data + e->icmp_off - IPV4_HDR_LEN, IPV4_HDR_LEN + e->len);
}

enum stat_id
xlat_icmp_error64(struct pkt *p, const struct pkt_info *info, const struct xlat_addrs4 *a,
		  const struct xlat_config *cfg, uint32_t mtu4, uint32_t mtu6_in)
{
	struct err_plan e;
	uint16_t total = 0;
	enum stat_id rc;

	/* The parser refuses these; a piece of an error lacks its quote. */
	if (info->outer.more_fragments || info->outer.frag_offset != 0)
		return STAT_ICMP_FRAGMENTED;
	rc = plan64(p, info, mtu4, mtu6_in, &e, &total);
	if (rc != STAT_OK)
		return rc;
	apply64(p, info, &e, a, cfg, total);
	return STAT_OK;
}

/* ---- ICMPv4 -> ICMPv6 (RFC 7915 §4.2, §4.3) ---------------------------- */

static enum stat_id
value46(const uint8_t *icmp, const struct icmp_map *m, const struct pkt_info *info,
	const struct xlat_config *cfg, uint32_t mtu6, uint32_t mtu4_in, uint32_t *value)
{
	const uint8_t *ip4i = icmp + ICMP_HDR_LEN;
	uint16_t fn;

	*value = 0;
	if (m->rest == REST_POINTER)
		return xlat_icmp_pointer46(icmp[4], value);
	if (m->rest != REST_MTU)
		return STAT_OK;
	fn = xlat_get16(icmp + 6);
	/* RFC 7915 §4.2 / RFC 1191 §7: a router that reports 0 predates
	 * RFC 1191: guess from the Total Length of the refused packet. */
	if (fn == 0 && info->has_inner)
		fn = mtu_plateau_below(cfg->mtu_plateaus, cfg->mtu_plateau_count,
				       xlat_get16(ip4i + 2));
	*value = mtu_fn_to_ptb(fn, mtu6, mtu4_in);
	return STAT_OK;
}

static enum stat_id
inner_payload6(const uint8_t *ip4, uint32_t in_hdr, uint16_t *plen)
{
	uint32_t total = xlat_get16(ip4 + 2);

	if (total < in_hdr)
		return STAT_INNER_MALFORMED; /* shorter than its own header */
	*plen = (uint16_t)(total - in_hdr);
	return STAT_OK;
}

/* Room for the new message: the outer IPv6 header in front of the ICMP
 * header, the grown quote after it. */
static bool
room46(const struct pkt *p, const struct err_plan *e)
{
	if (IPV6_HDR_LEN > e->icmp_off + p->headroom)
		return false;
	return e->icmp_off + e->len <= p->len + p->tailroom;
}

static enum stat_id
plan46(const struct pkt *p, const struct pkt_info *info, const struct xlat_config *cfg,
       uint32_t mtu6, uint32_t mtu4_in, struct err_plan *e, uint16_t *plen)
{
	const uint8_t *icmp = p->data + info->outer.l4_off;
	uint32_t end = info->outer.l3_end;
	uint32_t value;
	uint32_t in_orig;
	struct icmp_map m = {0};
	enum stat_id rc;

	e->icmp_off = info->outer.l4_off;
	if (csum_fold(csum_partial(icmp, end - e->icmp_off, 0)) != 0)
		return STAT_ICMP4_CHECKSUM;
	if (!map46(icmp[0], icmp[1], &m))
		return STAT_ICMP4_TYPE_UNKNOWN;
	rc = value46(icmp, &m, info, cfg, mtu6, mtu4_in, &value);
	if (rc != STAT_OK)
		return rc;
	if (!info->has_inner)
		return STAT_INNER_TRUNCATED;
	e->inner_off = info->inner_off;
	e->in_hdr = info->inner.l4_off;
	e->out_hdr = xlat46_ipv6_header_len(&info->inner);
	if (e->inner_off + e->in_hdr > end)
		return STAT_INNER_TRUNCATED;
	rc = inner_payload6(p->data + e->inner_off, e->in_hdr, plen);
	if (rc != STAT_OK)
		return rc;
	/* Types 3, 11 and 12 all have the attribute (RFC 4884 §4). */
	in_orig = rfc4884_orig(e, icmp[ICMP4_LEN_BYTE] * ICMP4_LEN_UNIT, end);
	layout(e, end, in_orig, m.rest == REST_LENGTH, ICMP6_LEN_UNIT,
	       ICMP6_ERROR_MAX - IPV6_HDR_LEN);
	if (!room46(p, e))
		return STAT_XLAT46_NO_ROOM;
	memset(e->icmp, 0, sizeof(e->icmp));
	e->icmp[0] = m.type;
	e->icmp[1] = m.code;
	rest46(e, &m, value);
	return STAT_OK;
}

static void
inner_l4_46(uint8_t *data, const struct pkt_info *info, const struct err_plan *e,
	    const struct xlat_addrs6 *a, uint16_t plen)
{
	uint8_t *ip4 = data + e->inner_off;
	uint8_t *l4 = ip4 + e->in_hdr;
	uint8_t proto = info->inner.l4_proto;

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		xlat46_tcpudp(l4, e->quote, proto, ip4, &a->inner_src, &a->inner_dst);
	else if (proto == IPPROTO_ICMP)
		xlat46_echo(l4, e->quote, plen, &a->inner_src, &a->inner_dst);
}

static void
apply46(struct pkt *p, const struct pkt_info *info, const struct err_plan *e,
	const struct xlat_addrs6 *a, const struct xlat_config *cfg, uint16_t plen)
{
	uint8_t *data = p->data;
	uint8_t *ip4i = data + e->inner_off;
	uint8_t outer[IPV6_HDR_LEN + FRAG6_HDR_LEN];
	uint8_t inner[IPV6_HDR_LEN + FRAG6_HDR_LEN];
	struct xlat_hdr6 h;
	uint32_t sum;
	uint16_t csum;

	/* Inner headers are not decremented. */
	h = (struct xlat_hdr6){.src = &a->inner_src.addr,
			       .dst = &a->inner_dst.addr,
			       .payload_len = plen,
			       .tclass = xlat46_tclass(ip4i, cfg),
			       .hop_limit = ip4i[8]};
	xlat46_ipv6_header(inner, &info->inner, &h);
	h = (struct xlat_hdr6){.src = &a->src.addr,
			       .dst = &a->dst.addr,
			       .payload_len = (uint16_t)e->len,
			       .tclass = xlat46_tclass(data, cfg),
			       .hop_limit = (uint8_t)(data[8] - (a->decrement_ttl ? 1 : 0))};
	xlat46_ipv6_header(outer, &info->outer, &h);

	inner_l4_46(data, info, e, a, plen);
	move_quote(data, e);
	memcpy(ip4i, inner, e->out_hdr);
	memcpy(data + e->icmp_off, e->icmp, ICMP_HDR_LEN);
	sum = csum_pseudo6(&a->src.addr, &a->dst.addr, IPPROTO_ICMPV6, e->len);
	csum = csum_fold(csum_partial(data + e->icmp_off, e->len, sum));
	memcpy(data + e->icmp_off + 2, &csum, 2);
	memcpy(data + e->icmp_off - IPV6_HDR_LEN, outer, IPV6_HDR_LEN);
	xlat_pkt_reframe(p, data + e->icmp_off - IPV6_HDR_LEN, IPV6_HDR_LEN + e->len);
}

enum stat_id
xlat_icmp_error46(struct pkt *p, const struct pkt_info *info, const struct xlat_addrs6 *a,
		  const struct xlat_config *cfg, uint32_t mtu6, uint32_t mtu4_in)
{
	struct err_plan e;
	uint16_t plen = 0;
	enum stat_id rc;

	/* The parser refuses these; a piece of an error lacks its quote. */
	if (info->outer.is_fragment)
		return STAT_ICMP_FRAGMENTED;
	rc = plan46(p, info, cfg, mtu6, mtu4_in, &e, &plen);
	if (rc != STAT_OK)
		return rc;
	apply46(p, info, &e, a, cfg, plen);
	return STAT_OK;
}
