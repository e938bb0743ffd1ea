/*
 * RFC 6146 §3: the pipeline. Only sequencing: each step (one file each,
 * see pipeline.h) returns a verdict, the first one that is not CONTINUE
 * ends the run, and everything leaves through finish(), which counts the
 * success, builds the ICMP error a step recorded, and fills the result.
 *
 * The established path is: parse, one session lookup and its refresh
 * (filtering), the outgoing tuple, the translation in place, and for 6->4
 * one pool4 lookup (hairpinning). Nothing is allocated.
 *
 * TTL / hop limit (nat64_params.tun_hop_compensation): without it the
 * translator decrements as a router (RFC 7915 §4.1, §5.1) and an
 * expiring packet is answered with Time Exceeded here. With it the kernel
 * has already decremented on the way in and will again on the way out, so
 * the translated packet gets one unit back (capped at 255), which makes
 * the host cost one unit as any router. It is added to the translated
 * header rather than to the incoming one, so that an error about the
 * incoming packet quotes it as it was received.
 */
#include "pipeline.h"

#include "checksum.h"

/* §3.7 IPv6 -> IPv4, and the errors the translator's refusals call for. */
static struct verdict
translate6(struct xlation *x)
{
	struct nat64 *n = x->n;
	enum stat_id rc =
		xlat_6to4(x->p, &x->info, &x->out4, &n->g.xlat, n->params.mtu4, n->params.mtu6);
	uint8_t *ip4 = x->p->data;
	uint16_t old, new, csum;

	switch (rc) {
	case STAT_OK:
		break;
	case STAT_XLAT64_HOP_LIMIT: /* RFC 7915 §5.1, RFC 4443 §3.3 code 0 */
		return verdict_drop_icmp6(x, rc, ICMPERR6_TIME, 0, 0);
	case STAT_XLAT64_SEGMENTS_LEFT:
		/* RFC 7915 §5.1: Parameter Problem code 0, the pointer at
		 * the Segments Left field. */
		return verdict_drop_icmp6(x, rc, ICMPERR6_PARAM, 0, x->info.outer.src_route_off);
	default:
		return verdict_drop(x, rc);
	}
	if (n->params.tun_hop_compensation && ip4[8] < 255) {
		memcpy(&old, ip4 + 8, 2);
		ip4[8]++;
		memcpy(&new, ip4 + 8, 2);
		memcpy(&csum, ip4 + 10, 2);
		csum = csum_replace16(csum, old, new);
		memcpy(ip4 + 10, &csum, 2);
	}
	return verdict_continue();
}

/* §3.7 IPv4 -> IPv6. */
static struct verdict
translate4(struct xlation *x)
{
	struct nat64 *n = x->n;
	enum stat_id rc =
		xlat_4to6(x->p, &x->info, &x->out6, &n->g.xlat, n->params.mtu6, n->params.mtu4);

	switch (rc) {
	case STAT_OK:
		break;
	case STAT_XLAT46_TTL: /* RFC 7915 §4.1, RFC 792 type 11 code 0 */
		return verdict_drop_icmp4(x, rc, ICMPERR4_TIME, 0, 0);
	case STAT_XLAT46_SRC_ROUTE: /* RFC 7915 §4.1: "source route failed" */
		return verdict_drop_icmp4(x, rc, ICMPERR4_UNREACH, ICMPERR4_SRC_ROUTE, 0);
	default:
		return verdict_drop(x, rc);
	}
	if (n->params.tun_hop_compensation && !x->hairpin && x->p->data[7] < 255)
		x->p->data[7]++;
	return verdict_continue();
}

struct verdict
pipeline_core4(struct xlation *x)
{
	struct verdict v;

	v = incoming_tuple4(x);
	if (!verdict_ok(v))
		return v;
	v = filtering4(x);
	if (!verdict_ok(v))
		return v;
	outgoing_tuple4(x);
	return translate4(x);
}

static struct verdict
core6(struct xlation *x)
{
	struct verdict v;

	v = incoming_tuple6(x);
	if (!verdict_ok(v))
		return v;
	v = filtering6(x);
	if (!verdict_ok(v))
		return v;
	outgoing_tuple6(x);
	v = translate6(x);
	if (!verdict_ok(v))
		return v;
	return hairpin(x);
}

static struct verdict
run(struct xlation *x, bool v6)
{
	enum stat_id rc;

	if (!x->n->g.enabled)
		return verdict_drop(x, STAT_XLATOR_DISABLED);
	rc = v6 ? pkt_parse6(x->p->data, x->p->len, &x->info)
		: pkt_parse4(x->p->data, x->p->len, &x->info);
	if (rc != STAT_OK)
		return verdict_drop(x, rc);
	/*
	 * FRAGMENTS: reassembly belongs here. A fragment
	 * (x->info.outer.is_fragment) would be handed to the reassembler and
	 * STOLEN until its datagram is whole, which then continues with its
	 * own pkt_info. Until then a first fragment goes on with the ports
	 * it carries and a later one is dropped by the incoming-tuple step
	 * (FRAGMENT_NO_TUPLE, incoming_tuple.c).
	 */
	return v6 ? core6(x) : pipeline_core4(x);
}

bool
pipeline_icmp_allowed(struct nat64 *n, uint64_t now)
{
	/* RFC 4443 §2.4 (f), RFC 1812 §4.3.2.8: rate-limited. */
	if (ratelimit_take(&n->icmp_rl, now))
		return true;
	stat_inc(&n->stats, STAT_ICMPERR_RATE_LIMITED);
	return false;
}

/* Build the error a step recorded, about the packet as it came in (every
 * step that records one runs before the packet changes, and the
 * translator leaves a packet it refuses untouched). */
static void
reply_icmp(struct xlation *x, uint8_t *reply, struct nat64_result *res)
{
	struct nat64 *n = x->n;
	const uint8_t *orig = x->p->data;
	uint32_t len = x->info.outer.l3_end;
	uint8_t *out = reply + PKT_HEADROOM;
	bool v6 = x->icmp.family == 6;

	if (v6 ? !icmp_error_allowed6(orig, &x->info) : !icmp_error_allowed4(orig, &x->info)) {
		stat_inc(&n->stats, STAT_ICMPERR_NOT_ALLOWED);
		return;
	}
	if (!pipeline_icmp_allowed(n, x->now))
		return;
	if (v6)
		len = icmp_error_build6(out, &n->params.own6, orig, len, &x->icmp);
	else
		len = icmp_error_build4(out, n->params.own4, n->ipv4_id++, orig, len, &x->icmp);
	if (len == 0)
		return;
	stat_inc(&n->stats, v6 ? STAT_ICMP6ERR_SENT : STAT_ICMP4ERR_SENT);
	res->reply_off = PKT_HEADROOM;
	res->reply_len = len;
}

/* The single exit. */
static void
finish(struct xlation *x, struct verdict v, uint8_t *reply, struct nat64_result *res)
{
	*res = (struct nat64_result){.reason = STAT_OK};
	if (verdict_ok(v)) {
		stat_inc(&x->n->stats, STAT_SUCCESS);
		res->send = true;
		return;
	}
	res->reason = x->reason;
	if (x->icmp.family != 0 && !x->hairpin && reply)
		reply_icmp(x, reply, res);
}

void
pipeline_run(struct nat64 *n, struct pkt *p, uint64_t now, uint8_t *reply, struct nat64_result *res)
{
	struct xlation x = {.n = n, .p = p, .now = now};
	bool v6 = p->len > 0 && p->data[0] >> 4 == 6;

	stat_inc(&n->stats, v6 ? STAT_RECEIVED6 : STAT_RECEIVED4);
	finish(&x, run(&x, v6), reply, res);
}
