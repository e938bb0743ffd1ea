/*
 * Buffer layout: PUMP_BATCH slots allocated once, each
 *
 *   [ PKT_HEADROOM | up to 65535 bytes read from the TUN device | tailroom ]
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
 */
#include "pump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "nat64.h"
#include "loglimit.h"

enum {
	PUMP_MAX_PKT = 65535,
	PUMP_TAILROOM = 64, /* nat64_input() needs 40 */
	PUMP_SLOT = (PKT_HEADROOM + PUMP_MAX_PKT + PUMP_TAILROOM + 63) / 64 * 64,
};

struct pump {
	int fd;
	struct nat64 *engine;
	uint8_t *slots; /* PUMP_BATCH * PUMP_SLOT bytes */
	struct pkt batch[PUMP_BATCH];
	uint8_t reply[NAT64_REPLY_MAX];
	struct pump_stats stats;
	pump_handoff_fn handoff;
	void *handoff_ctx;
	struct loglimit rl_read, rl_write, rl_drop;
};

int
pump_create(struct pump **out, int fd, struct nat64 *engine)
{
	struct pump *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -ENOMEM;
	p->slots = malloc((size_t)PUMP_BATCH * PUMP_SLOT);
	if (p->slots == NULL) {
		free(p);
		return -ENOMEM;
	}
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

static void
write_packet(struct pump *p, const uint8_t *data, uint32_t len)
{
	uint64_t missed;
	char note[64];

	if (write(p->fd, data, len) == (ssize_t)len) {
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
	write_packet(ctx, pkt, len);
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
		ssize_t len = read(p->fd, slot + PKT_HEADROOM, PUMP_MAX_PKT);

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
		p->batch[n] = (struct pkt){
			.data = slot + PKT_HEADROOM,
			.len = (uint32_t)len,
			.headroom = PKT_HEADROOM,
			.tailroom = PUMP_SLOT - PKT_HEADROOM - (uint32_t)len,
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

/* `handed`: the packet comes from another worker, else from the TUN device. */
static void
run_packet(struct pump *p, struct pkt *pkt, uint64_t now, const struct nat64_handoff *handed)
{
	struct nat64_result res = {0};
	struct pkt out;

	if (handed)
		nat64_input_handed(p->engine, pkt, handed, now, p->reply, &res);
	else
		nat64_input(p->engine, pkt, now, p->reply, &res);
	if (res.reason == STAT_HANDOFF && p->handoff) {
		p->stats.handed_off++;
		p->handoff(p->handoff_ctx, &res);
		return;
	}
	if (res.reply_len != 0)
		write_packet(p, p->reply + res.reply_off, res.reply_len);
	if (res.send) {
		/* The packet itself, or its fragments one at a time: each is
		 * written before the next is made over its tail (nat64.h). It
		 * may lie in the engine's reassembly buffer, not in the slot. */
		while (nat64_result_next(&res, &out))
			write_packet(p, out.data, out.len);
		return;
	}
	p->stats.engine_drops++;
	log_drop(p, res.reason, now);
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
			run_packet(p, &p->batch[i], now, NULL);
	}
}

void
pump_input(struct pump *p, const uint8_t *data, uint32_t len, const struct nat64_handoff *h,
	   uint64_t now)
{
	/* Between batches: slot 0 is free. */
	uint8_t *slot = p->slots;
	struct pkt pkt = {
		.data = slot + PKT_HEADROOM,
		.len = len,
		.headroom = PKT_HEADROOM,
		.tailroom = PUMP_SLOT - PKT_HEADROOM - len,
	};

	if (len > PUMP_MAX_PKT)
		return;
	memcpy(pkt.data, data, len);
	p->stats.handed_in++;
	run_packet(p, &pkt, now, h);
}
