/*
 * The instance's global settings (Jool's `global` keys, plus our limits).
 *
 * One table (globals.c) describes every key once: its name, type, default,
 * limits and a sentence of help. The config file, the control socket and
 * the `nat64 global` command all parse and print through it, so a key can't
 * be spelt or validated differently in two places.
 */
#ifndef NAT64_CORE_GLOBALS_H
#define NAT64_CORE_GLOBALS_H

#include "translate.h"
#include "types.h"

struct globals {
	bool enabled;         /* manually-enabled */
	struct prefix6 pool6; /* fixed once the instance exists */
	bool pool6_set;
	struct xlat_config xlat; /* lowest-ipv6-mtu, TOS, plateaus, UDP zero checksum */
	bool amend_udp_checksum_zero;
	bool logging_debug;
	bool logging_bib;
	bool logging_session;
	bool adf;                     /* address-dependent-filtering */
	bool drop_external_tcp;       /* drop-externally-initiated-tcp */
	bool drop_icmp6_info;         /* drop-icmpv6-info */
	bool src_icmp6_errors_better; /* source-icmpv6-errors-better */
	bool handle_rst_during_fin_rcv;
	bool wkp_global_only;       /* RFC 6052 §3.1 with 64:ff9b::/96 */
	uint8_t f_args;             /* RFC 6056 hash fields, 4 bits */
	uint64_t tcp_est_timeout;   /* ms */
	uint64_t tcp_trans_timeout; /* ms */
	uint64_t udp_timeout;       /* ms */
	uint64_t icmp_timeout;      /* ms */
	uint32_t max_simultaneous_opens;
	uint32_t max_sessions;          /* total, all protocols */
	uint32_t max_sessions_per_host; /* per IPv6 address (RFC 6888 REQ-4) */
	/* Fragment reassembly (reassembly.h): memory of the arena, share of
	 * one source address, and how long an incomplete datagram is kept
	 * (ms, RFC 6146 §4 FRAGMENT_MIN = 2 s at least). */
	uint32_t reasm_budget;       /* reassembly-budget, bytes */
	uint32_t reasm_source_limit; /* reassembly-source-limit, bytes */
	uint64_t reasm_timeout;      /* reassembly-timeout, ms */
	/* Session synchronisation (joold) is not implemented: the keys are
	 * accepted so that Jool files load, and ss-enabled must stay false. */
	bool ss_enabled;
	bool ss_flush_asap;
	uint32_t ss_flush_deadline;
	uint32_t ss_capacity;
	uint32_t ss_max_payload;
	uint32_t ss_max_sessions_per_packet;
};

enum global_type {
	GT_BOOL,
	GT_U8,
	GT_U32,
	GT_TIME,     /* [HH:[MM:]]SS[.mmm], stored in ms */
	GT_PREFIX6,  /* pool6 */
	GT_PLATEAUS, /* comma-separated list of MTUs */
};

struct global_key {
	const char *name;
	enum global_type type;
	size_t offset;     /* into struct globals */
	uint64_t min, max; /* numbers and times (ms) */
	const char *help;
};

/* Fill in every default. */
void globals_default(struct globals *g);

/* The key table, NULL-terminated by name. */
const struct global_key *globals_keys(void);

/* Find a key by its exact name; NULL if unknown. */
const struct global_key *globals_find(const char *name);

/*
 * Parse `value` (text, as typed on the command line) into key `k` of `g`.
 * Returns 0, or -1 with a one-line reason in err (which names the key and
 * the accepted values); `g` is then unchanged.
 */
int globals_parse(struct globals *g, const struct global_key *k, const char *value, char *err,
		  size_t errlen);

/* Print the value of key `k` in the syntax globals_parse accepts. */
void globals_print(const struct globals *g, const struct global_key *k, char *buf, size_t len);

/* Timeouts: "1:30" -> 90000 ms. Returns 0 or -1. */
int globals_parse_time(const char *text, uint64_t *ms);
void globals_print_time(uint64_t ms, char *buf, size_t len);

#endif
