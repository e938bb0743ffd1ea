/*
 * Buffer layout: PUMP_BATCH slots allocated once, each
 *
 *   [ PUMP_HEADROOM | up to 65535 bytes read from the TUN device | tailroom ]
 *
 * so 4->6 translation grows the header into the headroom without moving
 * the payload, and the engine has the tailroom nat64_input() asks for. A
 * slot holds the largest IP packet, so a read is never cut short whatever
 * the device MTU (pages of the slot that small packets never reach are
 * never touched, so they cost address space, not memory). One reply buffer
 * serves the whole batch: each packet's ICMP error is written before the
 * next packet runs. Likewise a datagram the engine reassembled from
 * fragments lives in its buffer until the next packet goes in, so every
 * packet's output is written before the next one runs.
 *
 * With offloads (docs/offloads.md) every read starts with the 10-byte
 * virtio_net_hdr: it is read into the last GSO_HDR_LEN bytes of the
 * headroom, parsed before the packet runs (translation may then write
 * over it), and every write is header + packet in one writev(): the
 * translated header for a super-packet or a partial checksum, zeros for
 * the rest. A super-packet the engine wants segmented is cut into one
 * more buffer, allocated here once, a segment at a time.
 */
#include "pump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "clock.h"
#include "log.h"
#include "nat64.h"
#include "loglimit.h"
#include "tun.h"

enum {
	PUMP_MAX_PKT = 65535,
	PUMP_TAILROOM = 64, /* nat64_input() needs 40 */
	/* The engine's PKT_HEADROOM plus room for the vnet header in front of
	 * a packet that grew by 20 bytes (4->6): written with one write(). */
	PUMP_HEADROOM = PKT_HEADROOM + 16,
	PUMP_SLOT = (PUMP_HEADROOM + PUMP_MAX_PKT + PUMP_TAILROOM + 63) / 64 * 64,
};

struct pump {
	int fd;
	struct nat64 *engine;
	uint8_t *slots; /* PUMP_BATCH * PUMP_SLOT bytes */
	struct pkt batch[PUMP_BATCH];
	bool vnet;                       /* every read and write has a header */
	struct gso_hdr hdrs[PUMP_BATCH]; /* the header of each batch[i] */
	uint8_t *segbuf;                 /* NAT64_SEGMENT_BUF bytes, with vnet */
	uint8_t reply[NAT64_REPLY_MAX];
	struct pump_stats stats;
	pump_handoff_fn handoff;
	void *handoff_ctx;
	struct loglimit rl_read, rl_write, rl_drop;
};

_Static_assert((int)GSO_HDR_LEN == (int)TUN_VNET_HDR_LEN, "one header size");
_Static_assert((int)GSO_HDR_LEN <= (int)PUMP_HEADROOM - 20, "the header fits before a 4->6 packet");

int
pump_tun_flags(bool offload)
{
	return offload ? IFF_VNET_HDR : 0;
}

void
pump_offload_enable(int fd, const char *ifname)
{
	int bits = tun_set_offload(fd, TUN_OFFLOAD_ALL);

	if (bits < 0) {
		log_warnx("%s: offloads off: TUNSETOFFLOAD: %s", ifname, strerror(-bits));
		return;
	}
	log_info("%s: offloads on:%s%s%s%s%s (0x%x)", ifname,
		 bits & TUN_OFFLOAD_CSUM ? " csum" : "", bits & TUN_OFFLOAD_TSO4 ? " tso4" : "",
		 bits & TUN_OFFLOAD_TSO6 ? " tso6" : "", bits & TUN_OFFLOAD_USO4 ? " uso4" : "",
		 bits & TUN_OFFLOAD_USO6 ? " uso6" : "", (unsigned int)bits);
}

int
pump_create(struct pump **out, int fd, struct nat64 *engine, bool vnet_hdr)
{
	struct pump *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->slots = malloc((size_t)PUMP_BATCH * PUMP_SLOT);
	if (vnet_hdr)
		p->segbuf = malloc(NAT64_SEGMENT_BUF);
	if (p->slots == NULL || (vnet_hdr && p->segbuf == NULL)) {
		free(p->slots);
		free(p);
		return -ENOMEM;
	}
	p->vnet = vnet_hdr;
	p->fd = fd;
	p->engine = engine;
	p->rl_read = (struct loglimit)LOGLIMIT_INIT(5);
	p->rl_write = (struct loglimit)LOGLIMIT_INIT(5);
	p->rl_drop = (struct loglimit)LOGLIMIT_INIT(10);
	*out = p;
	return 0;
}

void
pump_destroy(struct pump *p)
{
	if (p == NULL)
		return;
	free(p->slots);
	free(p->segbuf);
	free(p);
}

const struct pump_stats *
pump_stats(const struct pump *p)
{
	return &p->stats;
}

/* " (N similar lines suppressed)" when lines were dropped by the limit, else "". */
static const char *
suppressed(uint64_t missed, char *buf, size_t len)
{
	if (missed == 0)
		return "";
	snprintf(buf, len, " (%" PRIu64 " similar lines suppressed)", missed);
	return buf;
}

/*
 * One write: the header (`g`, or zeros: a full checksum) and the packet.
 * With `headroom` for it, the header goes in the bytes just before the
 * packet and a plain write() sends both (writev() costs a few percent
 * more per small packet: docs/profile-e2e.md); else two iovecs.
 */
static ssize_t
write_vnet(struct pump *p, uint8_t *data, uint32_t len, uint32_t headroom, const struct gso_hdr *g)
{
	static const struct gso_hdr none;
	uint8_t hdr[GSO_HDR_LEN];
	struct iovec iov[2] = {
		{.iov_base = hdr, .iov_len = sizeof(hdr)},
		{.iov_base = data, .iov_len = len},
	};
	ssize_t n;

	if (headroom >= GSO_HDR_LEN) {
		gso_hdr_write(g ? g : &none, data - GSO_HDR_LEN);
		n = write(p->fd, data - GSO_HDR_LEN, len + GSO_HDR_LEN);
	} else {
		gso_hdr_write(g ? g : &none, hdr);
		n = writev(p->fd, iov, 2);
	}
	return n < GSO_HDR_LEN ? -1 : n - GSO_HDR_LEN;
}

/* `headroom`: bytes before `data` that may be written over. */
static void
write_packet(struct pump *p, uint8_t *data, uint32_t len, uint32_t headroom,
	     const struct gso_hdr *g)
{
	uint64_t missed;
	char note[64];
	ssize_t n = p->vnet ? write_vnet(p, data, len, headroom, g) : write(p->fd, data, len);

	if (n == (ssize_t)len) {
		p->stats.tx++;
		return;
	}
	p->stats.tx_errors++;
	if (loglimit_allow(&p->rl_write, clock_mono_ms(), &missed))
		log_warn("tun write of %" PRIu32 " bytes%s", len,
			 suppressed(missed, note, sizeof(note)));
}

void
pump_emit(void *ctx, const uint8_t *pkt, uint32_t len)
{
	/* The engine's own buffer: no headroom of ours to write in. */
	write_packet(ctx, (uint8_t *)pkt, len, 0, NULL);
}

/* Reads up to PUMP_BATCH packets; returns how many, stops at EAGAIN. */
static unsigned int
read_batch(struct pump *p, uint64_t now, int *eagain)
{
	unsigned int n = 0;
	uint64_t missed;
	char note[64];

	*eagain = 0;
	while (n < PUMP_BATCH) {
		uint8_t *slot = p->slots + (size_t)n * PUMP_SLOT;
		size_t hl = p->vnet ? GSO_HDR_LEN : 0;
		ssize_t len = read(p->fd, slot + PUMP_HEADROOM - hl, PUMP_MAX_PKT + hl);

		if (len <= 0) {
			if (len < 0 && errno != EAGAIN && errno != EINTR) {
				p->stats.rx_errors++;
				if (loglimit_allow(&p->rl_read, now, &missed))
					log_warn("tun read%s",
						 suppressed(missed, note, sizeof(note)));
			}
			*eagain = 1;
			break;
		}
		if (p->vnet) {
			if (gso_hdr_read(slot + PUMP_HEADROOM - hl, (size_t)len, &p->hdrs[n]) !=
			    GSO_OK) {
				p->stats.rx_errors++;
				continue;
			}
			len -= GSO_HDR_LEN;
		}
		p->batch[n] = (struct pkt){
			.data = slot + PUMP_HEADROOM,
			.len = (uint32_t)len,
			.headroom = PUMP_HEADROOM,
			.tailroom = PUMP_SLOT - PUMP_HEADROOM - (uint32_t)len,
		};
		n++;
	}
	p->stats.rx += n;
	return n;
}

/*
 * One rate-limited line per packet the engine did not send, naming the
 * reason: at info level under logging-debug (as Jool), else at debug level
 * (shown with -v only).
 */
static void
log_drop(struct pump *p, enum stat_id reason, uint64_t now)
{
	bool trace = nat64_globals(p->engine)->logging_debug;
	uint64_t missed;
	char note[64];

	if (!trace && !log_verbose())
		return;
	if (!loglimit_allow(&p->rl_drop, now, &missed))
		return;
	if (trace)
		log_info("packet not sent: %s: %s%s", stat_name(reason), stat_explain(reason),
			 suppressed(missed, note, sizeof(note)));
	else
		log_debug("packet not sent: %s: %s%s", stat_name(reason), stat_explain(reason),
			  suppressed(missed, note, sizeof(note)));
}

void
pump_set_handoff(struct pump *p, pump_handoff_fn fn, void *ctx)
{
	p->handoff = fn;
	p->handoff_ctx = ctx;
}

/* What the engine made of one packet: its ICMP error, the packet or its
 * fragments; true when it asks for software segmentation instead. */
static bool
send_result(struct pump *p, struct nat64_result *res, uint64_t now)
{
	struct pkt out;

	if (res->reply_len != 0)
		write_packet(p, p->reply + res->reply_off, res->reply_len, res->reply_off, NULL);
	if (res->send) {
		/* The packet itself, or its fragments one at a time: each is
		 * written before the next is made over its tail (nat64.h). It
		 * may lie in the engine's reassembly buffer, not in the slot. */
		while (nat64_result_next(res, &out))
			write_packet(p, out.data, out.len, out.headroom, &res->gso);
		return false;
	}
	if (res->segment)
		return true;
	p->stats.engine_drops++;
	log_drop(p, res->reason, now);
	return false;
}

/* A packet whose state another worker owns goes there (workers.c). */
static bool
handed_off(struct pump *p, const struct nat64_result *res)
{
	if (res->reason != STAT_HANDOFF || p->handoff == NULL)
		return false;
	p->stats.handed_off++;
	p->handoff(p->handoff_ctx, res);
	return true;
}

/* `handed`: the packet comes from another worker, else from the TUN
 * device with offload header `g` (or none). */
static void
run_packet(struct pump *p, struct pkt *pkt, const struct gso_hdr *g, uint64_t now,
	   const struct nat64_handoff *handed)
{
	struct nat64_result res = {0};
	struct nat64_result seg_res;
	struct pkt seg;

	if (handed)
		nat64_input_handed(p->engine, pkt, handed, now, p->reply, &res);
	else
		nat64_input_gso(p->engine, pkt, g, now, p->reply, &res);
	if (handed_off(p, &res) || !send_result(p, &res, now))
		return;
	/* Each segment is an ordinary packet, written before the next one
	 * is cut into the same buffer. */
	while (nat64_result_segment(&res, p->segbuf, &seg)) {
		nat64_input(p->engine, &seg, now, p->reply, &seg_res);
		if (!handed_off(p, &seg_res))
			send_result(p, &seg_res, now);
	}
}

void
pump_on_readable(void *arg, int fd, uint32_t events)
{
	struct pump *p = arg;
	int eagain = 0;

	(void)fd;
	(void)events;
	for (unsigned int round = 0; round < PUMP_BUDGET && !eagain; round++) {
		uint64_t now = clock_mono_ms();
		unsigned int n = read_batch(p, now, &eagain);

		for (unsigned int i = 0; i < n; i++)
			run_packet(p, &p->batch[i], p->vnet ? &p->hdrs[i] : NULL, now, NULL);
	}
}

void
pump_input(struct pump *p, const uint8_t *data, uint32_t len, const struct nat64_handoff *h,
	   uint64_t now)
{
	/* Between batches: slot 0 is free. */
	uint8_t *slot = p->slots;
	struct pkt pkt = {
		.data = slot + PUMP_HEADROOM,
		.len = len,
		.headroom = PUMP_HEADROOM,
		.tailroom = PUMP_SLOT - PUMP_HEADROOM - len,
	};

	if (len > PUMP_MAX_PKT)
		return;
	memcpy(pkt.data, data, len);
	p->stats.handed_in++;
	run_packet(p, &pkt, NULL, now, h);
}
