#include "globals.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reassembly.h"
#include "rfc6052.h"

#define MS_PER_S   UINT64_C(1000)
#define MS_PER_MIN (60 * MS_PER_S)
#define MS_PER_H   (60 * MS_PER_MIN)
#define OFF(field) offsetof(struct globals, field)
#define TIME_MAX   (UINT32_MAX * MS_PER_S)

/* Minimums are Jool's (JOOL-REFERENCE §2): 4:00 for transitory TCP and 2:00
 * for UDP, as RFC 6146 §4 asks. Deviation from RFC 6146 §4 / RFC 5382
 * REQ-5: established TCP may go down to 2:00:00 (the RFCs ask 2:04:00), as
 * Jool allows, so Jool configurations load unchanged; the default is 2:00:00
 * as Jool's. */
static const struct global_key keys[] = {
	{"manually-enabled", GT_BOOL, OFF(enabled), 0, 1, "Translate packets (false pauses)."},
	{"pool6", GT_PREFIX6, OFF(pool6), 0, 0, "RFC 6052 prefix; set once per instance."},
	{"lowest-ipv6-mtu", GT_U32, OFF(xlat.lowest_ipv6_mtu), 1280, UINT32_MAX,
	 "Smallest MTU of the IPv6 side; 4->6 DF=0 packets are fragmented to fit."},
	{"logging-debug", GT_BOOL, OFF(logging_debug), 0, 1, "Log a trace of every packet."},
	{"zeroize-traffic-class", GT_BOOL, OFF(xlat.zeroize_traffic_class), 0, 1,
	 "4->6: Traffic Class 0 instead of the IPv4 TOS."},
	{"override-tos", GT_BOOL, OFF(xlat.override_tos), 0, 1,
	 "6->4: TOS = the tos key instead of the Traffic Class."},
	{"tos", GT_U8, OFF(xlat.tos), 0, 255, "TOS used when override-tos is on."},
	{"mtu-plateaus", GT_PLATEAUS, OFF(xlat.mtu_plateaus), 0, 0,
	 "MTUs tried when an ICMPv4 Fragmentation Needed reports MTU 0."},
	{"amend-udp-checksum-zero", GT_BOOL, OFF(amend_udp_checksum_zero), 0, 1,
	 "IPv4 UDP in fragments with checksum 0: compute it after reassembly (false: drop)."},
	{"address-dependent-filtering", GT_BOOL, OFF(adf), 0, 1,
	 "Let IPv4 packets in only from addresses the IPv6 host has talked to."},
	{"drop-externally-initiated-tcp", GT_BOOL, OFF(drop_external_tcp), 0, 1,
	 "Drop IPv4 SYNs that open connections toward IPv6 hosts."},
	{"drop-icmpv6-info", GT_BOOL, OFF(drop_icmp6_info), 0, 1,
	 "Drop ICMPv6 informational packets (pings) going 6->4."},
	{"source-icmpv6-errors-better", GT_BOOL, OFF(src_icmp6_errors_better), 0, 1,
	 "4->6 ICMP errors come from pool6 + the IPv4 node that sent them."},
	{"f-args", GT_U8, OFF(f_args), 0, 15,
	 "RFC 6056 hash inputs: bits src addr, src port, dst addr, dst port."},
	{"handle-rst-during-fin-rcv", GT_BOOL, OFF(handle_rst_during_fin_rcv), 0, 1,
	 "An RST in a FIN_RCV state moves the session to the transitory timer."},
	{"tcp-est-timeout", GT_TIME, OFF(tcp_est_timeout), 2 * MS_PER_H, TIME_MAX,
	 "Idle time of established TCP sessions."},
	{"tcp-trans-timeout", GT_TIME, OFF(tcp_trans_timeout), 4 * MS_PER_MIN, TIME_MAX,
	 "Idle time of transitory TCP sessions."},
	{"udp-timeout", GT_TIME, OFF(udp_timeout), 2 * MS_PER_MIN, TIME_MAX,
	 "Idle time of UDP sessions."},
	{"icmp-timeout", GT_TIME, OFF(icmp_timeout), 0, TIME_MAX, "Idle time of ICMP sessions."},
	{"logging-bib", GT_BOOL, OFF(logging_bib), 0, 1,
	 "Log every BIB entry created and removed."},
	{"logging-session", GT_BOOL, OFF(logging_session), 0, 1,
	 "Log every session created and removed."},
	{"maximum-simultaneous-opens", GT_U32, OFF(max_simultaneous_opens), 0, UINT32_MAX,
	 "IPv4 SYNs kept waiting for an IPv6 SYN."},
	{"wkp-global-only", GT_BOOL, OFF(wkp_global_only), 0, 1,
	 "With pool6 64:ff9b::/96, refuse non-global IPv4 addresses (RFC 6052 §3.1)."},
	{"max-sessions", GT_U32, OFF(max_sessions), 1, UINT32_MAX,
	 "Most sessions in total, all protocols."},
	{"max-sessions-per-host", GT_U32, OFF(max_sessions_per_host), 1, UINT32_MAX,
	 "Most sessions one IPv6 address may hold (RFC 6888 REQ-4)."},
	{"reassembly-budget", GT_U32, OFF(reasm_budget), 64 << 10, 1u << 30,
	 "Bytes of memory for fragments waiting for the rest of their datagram."},
	{"reassembly-source-limit", GT_U32, OFF(reasm_source_limit), 64 << 10, 1u << 30,
	 "Bytes of reassembly memory one source address may hold."},
	{"reassembly-timeout", GT_TIME, OFF(reasm_timeout), 2 * MS_PER_S, MS_PER_H,
	 "How long an incomplete datagram's fragments are kept (RFC 6146 FRAGMENT_MIN: 2 s)."},
	{"ss-enabled", GT_BOOL, OFF(ss_enabled), 0, 0,
	 "Session synchronisation: not implemented, must be false."},
	{"ss-flush-asap", GT_BOOL, OFF(ss_flush_asap), 0, 1, "Accepted for Jool files; unused."},
	{"ss-flush-deadline", GT_U32, OFF(ss_flush_deadline), 0, UINT32_MAX,
	 "Accepted for Jool files; unused."},
	{"ss-capacity", GT_U32, OFF(ss_capacity), 0, UINT32_MAX,
	 "Accepted for Jool files; unused."},
	{"ss-max-payload", GT_U32, OFF(ss_max_payload), 0, UINT32_MAX,
	 "Accepted for Jool files; unused."},
	{"ss-max-sessions-per-packet", GT_U32, OFF(ss_max_sessions_per_packet), 0, UINT32_MAX,
	 "Accepted for Jool files; unused."},
	{NULL, 0, 0, 0, 0, NULL},
};

void
globals_default(struct globals *g)
{
	memset(g, 0, sizeof(*g));
	g->enabled = true;
	xlat_config_default(&g->xlat);
	g->amend_udp_checksum_zero = true;
	/* Fragments are reassembled before translation (reassembly.h), so
	 * the translator never sees a UDP fragment: amend-udp-checksum-zero
	 * decides (true: the checksum is computed on the whole datagram;
	 * false: dropped, counted in XLAT46_UDP_ZERO_CSUM_FRAG). */
	g->reasm_budget = REASM_DEFAULT_BUDGET;
	g->reasm_source_limit = REASM_DEFAULT_SOURCE_LIMIT;
	g->reasm_timeout = REASM_TIMEOUT_MIN;
	g->src_icmp6_errors_better = true;
	g->wkp_global_only = true;
	g->f_args = 0xb;
	g->tcp_est_timeout = 2 * MS_PER_H;
	g->tcp_trans_timeout = 4 * MS_PER_MIN;
	g->udp_timeout = 5 * MS_PER_MIN;
	g->icmp_timeout = 1 * MS_PER_MIN;
	g->max_simultaneous_opens = 10;
	g->max_sessions = 2 * 1024 * 1024;
	/* Closed TCP connections count for their 4-minute transitory lifetime
	 * and RFC 6888 REQ-11 forbids deleting them to make room: 65536 lets a
	 * host open about 270 short connections a second, where 16384 (the
	 * default before) refused anything above 68. */
	g->max_sessions_per_host = 65536;
	g->ss_flush_deadline = 2000;
	g->ss_capacity = 512;
	g->ss_max_payload = 1452;
	g->ss_max_sessions_per_packet = 36;
}

const struct global_key *
globals_keys(void)
{
	return keys;
}

const struct global_key *
globals_find(const char *name)
{
	for (const struct global_key *k = keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int
parse_u64(const char *v, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return (errno || *end) ? -1 : 0;
}

/* "[HH:[MM:]]SS[.mmm]": each field before the last colon-separated one is
 * a plain number; the last may carry up to three decimals. */
int
globals_parse_time(const char *text, uint64_t *ms)
{
	uint64_t fields[3], n = 0, frac = 0;
	const char *p = text;
	char *end;

	if (*p == '\0')
		return -1;
	for (;;) {
		if (!isdigit((unsigned char)*p) || n == 3)
			return -1;
		errno = 0;
		fields[n++] = strtoull(p, &end, 10);
		if (errno || fields[n - 1] > UINT32_MAX)
			return -1;
		p = end;
		if (*p != ':')
			break;
		p++;
	}
	if (*p == '.') {
		int digits = 0;

		for (p++; isdigit((unsigned char)*p) && digits < 3; p++, digits++)
			frac = frac * 10 + (uint64_t)(*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (*p != '\0')
		return -1;
	*ms = frac;
	for (uint64_t i = 0, unit = MS_PER_S; i < n; i++, unit *= 60)
		*ms += fields[n - 1 - i] * unit;
	return 0;
}

void
globals_print_time(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / MS_PER_S;

	if (ms % MS_PER_S)
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64, s / 3600,
			 s / 60 % 60, s % 60, ms % MS_PER_S);
	else
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
			 s % 60);
}

static int
cmp_desc(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x < y) - (x > y);
}

/* Jool sorts descending, removes duplicates and zeros; at most 64 entries. */
static int
parse_plateaus(const char *v, struct xlat_config *x, char *err, size_t errlen)
{
	uint16_t list[MTU_PLATEAUS_MAX];
	size_t n = 0, kept = 0;
	char copy[1024], *save = NULL;

	if (strlen(v) >= sizeof(copy)) {
		snprintf(err, errlen, "mtu-plateaus: list too long");
		return -1;
	}
	strcpy(copy, v);
	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		uint64_t mtu;

		if (parse_u64(tok, &mtu) || mtu > 65535) {
			snprintf(err, errlen, "mtu-plateaus: '%s' is not an MTU (0-65535)", tok);
			return -1;
		}
		if (n == MTU_PLATEAUS_MAX) {
			snprintf(err, errlen, "mtu-plateaus: at most %d values", MTU_PLATEAUS_MAX);
			return -1;
		}
		list[n++] = (uint16_t)mtu;
	}
	qsort(list, n, sizeof(list[0]), cmp_desc);
	for (size_t i = 0; i < n; i++)
		if (list[i] != 0 && (kept == 0 || list[kept - 1] != list[i]))
			list[kept++] = list[i];
	if (kept == 0) {
		snprintf(err, errlen, "mtu-plateaus: needs at least one non-zero MTU");
		return -1;
	}
	memcpy(x->mtu_plateaus, list, kept * sizeof(list[0]));
	x->mtu_plateau_count = (uint8_t)kept;
	return 0;
}

static int
parse_prefix6(const char *v, struct globals *g, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(v, '/');
	struct prefix6 p;
	uint64_t len;
	enum rfc6052_error e;

	if (!slash || (size_t)(slash - v) >= sizeof(addr) || parse_u64(slash + 1, &len) ||
	    len > 128) {
		snprintf(err, errlen, "pool6: '%s' is not an IPv6 prefix (ADDRESS/LENGTH)", v);
		return -1;
	}
	memcpy(addr, v, (size_t)(slash - v));
	addr[slash - v] = '\0';
	if (inet_pton(AF_INET6, addr, &p.addr) != 1) {
		snprintf(err, errlen, "pool6: '%s' is not an IPv6 address", addr);
		return -1;
	}
	p.len = (uint8_t)len;
	e = rfc6052_validate(&p);
	if (e != RFC6052_OK) {
		snprintf(err, errlen, "pool6: %s: %s", v, rfc6052_strerror(e));
		return -1;
	}
	g->pool6 = p;
	g->pool6_set = true;
	return 0;
}

static int
parse_number(struct globals *g, const struct global_key *k, const char *v, char *err, size_t errlen)
{
	uint64_t n;
	char *field = (char *)g + k->offset;
	int bad = k->type == GT_TIME ? globals_parse_time(v, &n) : parse_u64(v, &n);

	if (bad) {
		snprintf(err, errlen, "%s: '%s' is not %s", k->name, v,
			 k->type == GT_TIME ? "a time ([HH:[MM:]]SS[.mmm])" : "a number");
		return -1;
	}
	if (n < k->min || n > k->max) {
		char lo[32], hi[32];

		if (k->type == GT_TIME) {
			globals_print_time(k->min, lo, sizeof(lo));
			snprintf(err, errlen, "%s: '%s' is below the minimum %s", k->name, v, lo);
		} else {
			snprintf(lo, sizeof(lo), "%" PRIu64, k->min);
			snprintf(hi, sizeof(hi), "%" PRIu64, k->max);
			snprintf(err, errlen, "%s: '%s' is out of range (%s-%s)", k->name, v, lo,
				 hi);
		}
		return -1;
	}
	if (k->type == GT_U8)
		*(uint8_t *)field = (uint8_t)n;
	else if (k->type == GT_U32)
		memcpy(field, &(uint32_t){(uint32_t)n}, sizeof(uint32_t));
	else
		memcpy(field, &n, sizeof(n));
	return 0;
}

int
globals_parse(struct globals *g, const struct global_key *k, const char *value, char *err,
	      size_t errlen)
{
	bool b;

	switch (k->type) {
	case GT_BOOL:
		if (parse_bool(value, &b)) {
			snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", k->name,
				 value);
			return -1;
		}
		if (b > k->max) {
			snprintf(err, errlen, "%s: not supported, must be false", k->name);
			return -1;
		}
		*(bool *)((char *)g + k->offset) = b;
		return 0;
	case GT_PREFIX6:
		return parse_prefix6(value, g, err, errlen);
	case GT_PLATEAUS:
		return parse_plateaus(value, &g->xlat, err, errlen);
	default:
		return parse_number(g, k, value, err, errlen);
	}
}

void
globals_print(const struct globals *g, const struct global_key *k, char *buf, size_t len)
{
	const char *field = (const char *)g + k->offset;
	char addr[INET6_ADDRSTRLEN];
	uint32_t u32;
	uint64_t u64;
	size_t used = 0;

	switch (k->type) {
	case GT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false");
		break;
	case GT_U8:
		snprintf(buf, len, "%u", *(const uint8_t *)field);
		break;
	case GT_U32:
		memcpy(&u32, field, sizeof(u32));
		snprintf(buf, len, "%" PRIu32, u32);
		break;
	case GT_TIME:
		memcpy(&u64, field, sizeof(u64));
		globals_print_time(u64, buf, len);
		break;
	case GT_PREFIX6:
		if (!g->pool6_set) {
			snprintf(buf, len, "(unset)");
			break;
		}
		inet_ntop(AF_INET6, &g->pool6.addr, addr, sizeof(addr));
		snprintf(buf, len, "%s/%u", addr, g->pool6.len);
		break;
	case GT_PLATEAUS:
		buf[0] = '\0';
		for (size_t i = 0; i < g->xlat.mtu_plateau_count && used < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? "," : "",
						 g->xlat.mtu_plateaus[i]);
		break;
	}
}
