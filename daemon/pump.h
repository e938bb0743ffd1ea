/*
 * The packet pump of one TUN queue: read packets into preallocated
 * buffers, run each through the engine (nat64_input), write what comes
 * out. It owns no fd and no engine, only buffers; the event loop calls
 * pump_on_readable() when the TUN fd is readable. One pump per queue and
 * per thread: a later version runs one per TUN queue (IFF_MULTI_QUEUE),
 * each with its own engine, without changing this interface.
 *
 * Data path rules (DESIGN.md): no allocation and no system call besides
 * the read and write of each packet; per-packet log lines are rate limited.
 */
#ifndef NAT64_DAEMON_PUMP_H
#define NAT64_DAEMON_PUMP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct nat64;
struct pump;

/* Packets read before they are translated and written: one batch. */
enum { PUMP_BATCH = 32 };
/* Batches handled per wake-up before the loop gets a turn (timer, signals,
 * control socket); epoll is level-triggered, so the rest comes next round. */
enum { PUMP_BUDGET = 8 };

/* What the pump itself saw (the engine counts its own drops). */
struct pump_stats {
	uint64_t rx;           /* packets read */
	uint64_t tx;           /* packets written (translated, replies, emitted) */
	uint64_t rx_errors;    /* read(2) failures other than EAGAIN */
	uint64_t tx_errors;    /* write(2) failures: packet lost */
	uint64_t engine_drops; /* packets the engine did not send */
	uint64_t handed_off;   /* given to the worker that owns their state */
	uint64_t handed_in;    /* received from other workers */
};

/*
 * Offloads (docs/offloads.md): the TUN device opened with
 * pump_tun_flags(true) puts a virtio_net_hdr before every packet, and
 * pump_offload_enable() asks the kernel for super-packets (TSO4/6,
 * USO4/6) and partial checksums, logging what it got.
 */
int pump_tun_flags(bool offload);
void pump_offload_enable(int fd, const char *ifname);

/* Buffers for `fd`, fed to `engine`; `vnet_hdr`: the fd was opened with
 * pump_tun_flags(true). 0 or -ENOMEM. */
int pump_create(struct pump **out, int fd, struct nat64 *engine, bool vnet_hdr);
void pump_destroy(struct pump *p);

/* Loop callback (loop_fd_cb) for the TUN fd; `arg` is the pump. */
void pump_on_readable(void *arg, int fd, uint32_t events);

/* nat64_emit_fn: writes a packet the engine made on its own (nat64_tick). */
void pump_emit(void *ctx, const uint8_t *pkt, uint32_t len);

const struct pump_stats *pump_stats(const struct pump *p);

/* Called with a STAT_HANDOFF result (res->out, res->handoff) instead of
 * dropping the packet. */
struct nat64_handoff;
struct nat64_result;
typedef void (*pump_handoff_fn)(void *ctx, const struct nat64_result *res);
void pump_set_handoff(struct pump *p, pump_handoff_fn fn, void *ctx);

/* Runs a packet another worker handed over (copied into the pump's own
 * buffer), between batches, with nat64_input_handed(). */
void pump_input(struct pump *p, const uint8_t *data, uint32_t len, const struct nat64_handoff *h,
		uint64_t now);

#endif
