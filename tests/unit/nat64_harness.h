/*
 * Test harness for the engine (core/nat64.h), shared by the
 * test_pipeline_*.c files: an engine with fixed settings (siphash key,
 * clock injected through h->now), a packet buffer with exactly the
 * headroom and tailroom the contract promises and canaries around them,
 * and capture of replies and of packets emitted by nat64_tick().
 *
 * Packet builders write whole packets with checksums from pktgen's
 * independent reference code. UDP packets carry the 5-byte payload
 * "hello" (odd, so checksums over an odd length are exercised).
 *
 * The addresses used by every pipeline test (RFC 5737 / RFC 3849
 * documentation blocks; 192.0.2.0/24 is not global, so the default
 * settings turn wkp-global-only off):
 */
#ifndef NAT64_TESTS_NAT64_HARNESS_H
#define NAT64_TESTS_NAT64_HARNESS_H

#include "nat64.h"
#include "pktgen.h"

#define H_POOL6   "64:ff9b::"
#define H_CLIENT  "2001:db8:2::10"
#define H_CLIENT2 "2001:db8:2::11"
#define H_SERVER4 "192.0.2.10"
#define H_SERVER6 "64:ff9b::192.0.2.10"
#define H_POOL4   "192.0.2.2"
#define H_POOL4_6 "64:ff9b::192.0.2.2"
#define H_OWN4    "192.0.2.1"
#define H_OWN6    "2001:db8:ffff::1"

enum {
	H_HEAD = 64,          /* canaries before the headroom */
	H_ROOM = 65536 + 512, /* packet (up to 65535), tailroom and canaries after */
	H_TAILROOM = 40,      /* what nat64_input() asks for */
	H_EMIT_MAX = 8,
	H_PAYLOAD = 5,                 /* "hello" */
	H_T0 = 1000000,                /* the clock at start */
	H_OUT_MAX = 96,                /* packets one h_input may send (fragments) */
	H_OUT_BYTES = 70000 + 96 * 48, /* their bytes */
};

struct h_pkt {
	uint8_t b[1500];
	uint32_t len;
};

struct harness {
	struct nat64 *n;
	uint64_t now;
	uint8_t mem[H_HEAD + H_ROOM];
	struct pkt p;
	uint8_t reply[NAT64_REPLY_MAX];
	struct nat64_result res;
	struct h_pkt emitted[H_EMIT_MAX];
	unsigned nemitted;
	struct bib_event events[16];
	unsigned nevents;
	/* Every packet the last h_input sent (nat64_result_next), copied:
	 * the packet itself, or each of its fragments. */
	uint8_t outbuf[H_OUT_BYTES];
	uint32_t out_off[H_OUT_MAX];
	uint32_t out_len[H_OUT_MAX];
	unsigned nout;
};

/* The settings every test starts from: pool6 64:ff9b::/96,
 * wkp-global-only off, own4/own6 above, MTUs 1500, a fixed key, no hop
 * compensation, 1000 ICMP errors per second. */
void h_defaults(struct globals *g, struct nat64_params *p);
/* An engine with `g`/`p` (NULL: the defaults) and an empty pool4. */
void h_start(struct harness *h, const struct globals *g, const struct nat64_params *p);
/* The defaults plus pool4 192.0.2.2 ports 1-65535 (ICMP 0-65535). */
void h_start_default(struct harness *h);
void h_pool4(struct harness *h, enum l4proto proto, const char *addr, uint8_t len, uint16_t lo,
	     uint16_t hi);
void h_stop(struct harness *h);
/* Adds a static BIB entry (asserts success). */
void h_bib(struct harness *h, enum l4proto proto, const char *a6, uint16_t p6, const char *a4,
	   uint16_t p4);

/* Runs one packet at h->now; checks the buffer bounds. Returns the
 * result's reason (STAT_OK when sent). The output is h->p (which may point
 * into the engine's reassembly buffer), and every packet sent is copied
 * to h_out(): h->p alone, or its fragments when the result was split
 * (then h->p's bytes are no longer the packet). */
enum stat_id h_input(struct harness *h, const uint8_t *pkt, size_t len);
/* The same with nat64_input_handed() (a packet another worker handed over). */
enum stat_id h_input_handed(struct harness *h, const uint8_t *pkt, size_t len,
			    const struct nat64_handoff *hd);
/* Packet i (0 .. h->nout - 1) sent by the last h_input. */
const uint8_t *h_out(const struct harness *h, unsigned i, uint32_t *len);
/* nat64_tick() at h->now; emitted packets land in h->emitted. */
void h_tick(struct harness *h);
uint64_t h_stat(const struct harness *h, enum stat_id id);
/* The reply built by the last h_input(), or NULL. */
const uint8_t *h_reply(const struct harness *h, uint32_t *len);
/* Log hook recording events into h->events. */
void h_log_hook(void *ctx, const struct bib_event *ev);

/* Assert the output packet / reply equal `want`. */
void h_assert_out(const struct harness *h, const uint8_t *want, size_t len);
void h_assert_reply(const struct harness *h, const uint8_t *want, size_t len);

uint16_t h_get16(const uint8_t *p);
struct taddr6 h_taddr6(const char *addr, uint16_t port);
struct taddr4 h_taddr4(const char *addr, uint16_t port);

/* Whole packets, checksums filled. */
size_t h_udp6(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	      uint8_t hlim);
size_t h_udp4(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	      uint8_t ttl, uint16_t id);
size_t h_tcp6(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	      uint8_t flags, uint8_t hlim);
size_t h_tcp4(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	      uint8_t flags, uint8_t ttl, uint16_t id);
/* Echo request (type 128 / 8) or reply, 4 bytes of data. */
size_t h_echo6(uint8_t *b, const char *src, const char *dst, uint8_t type, uint16_t ident,
	       uint8_t hlim);
size_t h_echo4(uint8_t *b, const char *src, const char *dst, uint8_t type, uint16_t ident,
	       uint8_t ttl, uint16_t id);
/* ICMP error quoting `quote` (qlen bytes). */
size_t h_icmp6_err(uint8_t *b, const char *src, const char *dst, uint8_t type, uint8_t code,
		   uint32_t rest, uint8_t hlim, const uint8_t *quote, size_t qlen);
size_t h_icmp4_err(uint8_t *b, const char *src, const char *dst, uint8_t type, uint8_t code,
		   uint32_t rest, uint8_t ttl, uint16_t id, const uint8_t *quote, size_t qlen);

#endif
