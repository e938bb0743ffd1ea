/*
 * RFC 6146 §3.5.2.2 TCP session state machine, one function per state as
 * in Jool's steps/filtering_and_updating.c. Each returns the next state
 * and the fate of the session's timer; nothing here touches a table.
 */
#include "tcp_state.h"

#include <netinet/tcp.h>

typedef struct tcp_transition (*state_fn)(enum tcp_dir dir, uint8_t flags,
					  const struct tcp_settings *settings);

static struct tcp_transition
to(enum tcp_state state, enum tcp_fate fate)
{
	return (struct tcp_transition){.state = state, .fate = fate};
}

/*
 * RFC 6146 §3.5.2.2 CLOSED: a SYN from either side opens a session (V6_INIT
 * or V4_INIT, transitory timer); anything else creates nothing. Whether a
 * v4 SYN is instead stored (simultaneous open, address-dependent
 * filtering) or dropped (drop-externally-initiated-tcp) is the pipeline's
 * decision.
 */
static struct tcp_transition
closed_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	(void)settings;
	if (!(flags & TH_SYN))
		return to(TCPS_CLOSED, TCP_FATE_NO_SESSION);
	if (dir == TCP_DIR_6TO4)
		return to(TCPS_V6_INIT, TCP_FATE_TIMER_TRANS);
	return to(TCPS_V4_INIT, TCP_FATE_TIMER_TRANS);
}

/* RFC 6146 §3.5.2.2 V4 INIT: the v6 SYN completes the open. */
static struct tcp_transition
v4_init_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	(void)settings;
	if (dir == TCP_DIR_6TO4 && (flags & TH_SYN))
		return to(TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
	return to(TCPS_V4_INIT, TCP_FATE_PRESERVE);
}

/* RFC 6146 §3.5.2.2 V6 INIT: the v4 SYN completes the open; a repeated v6
 * SYN re-arms the transitory timer. */
static struct tcp_transition
v6_init_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	(void)settings;
	if (!(flags & TH_SYN))
		return to(TCPS_V6_INIT, TCP_FATE_PRESERVE);
	if (dir == TCP_DIR_4TO6)
		return to(TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
	return to(TCPS_V6_INIT, TCP_FATE_TIMER_TRANS);
}

/* RFC 6146 §3.5.2.2 ESTABLISHED: a FIN starts the close keeping the timer,
 * an RST goes to TRANS, anything else refreshes. The FIN is checked first,
 * as Jool does. */
static struct tcp_transition
established_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	(void)settings;
	if (flags & TH_FIN) {
		if (dir == TCP_DIR_4TO6)
			return to(TCPS_V4_FIN_RCV, TCP_FATE_PRESERVE);
		return to(TCPS_V6_FIN_RCV, TCP_FATE_PRESERVE);
	}
	if (flags & TH_RST)
		return to(TCPS_TRANS, TCP_FATE_TIMER_TRANS);
	return to(TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
}

/*
 * RFC 6146 §3.5.2.2 V4 FIN RCV and V6 FIN RCV: the FIN from the other side
 * closes both halves (transitory timer); other packets refresh the
 * established timer. With handle-rst-during-fin-rcv (Jool issue #212) an
 * RST from either side arms the transitory timer, state unchanged.
 */
static struct tcp_transition
fin_rcv_state(enum tcp_state cur, enum tcp_dir fin_dir, enum tcp_dir dir, uint8_t flags,
	      const struct tcp_settings *settings)
{
	if (dir == fin_dir && (flags & TH_FIN))
		return to(TCPS_V4_FIN_V6_FIN_RCV, TCP_FATE_TIMER_TRANS);
	if ((flags & TH_RST) && settings->handle_rst_during_fin_rcv)
		return to(cur, TCP_FATE_TIMER_TRANS);
	return to(cur, TCP_FATE_TIMER_EST);
}

static struct tcp_transition
v4_fin_rcv_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	return fin_rcv_state(TCPS_V4_FIN_RCV, TCP_DIR_6TO4, dir, flags, settings);
}

static struct tcp_transition
v6_fin_rcv_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	return fin_rcv_state(TCPS_V6_FIN_RCV, TCP_DIR_4TO6, dir, flags, settings);
}

/*
 * RFC 6146 §3.5.2.2 V4 FIN + V6 FIN RCV: only the timeout ends it, except
 * (our deviation from RFC 6146 and Jool) a SYN without ACK: the endpoints
 * may open a new connection on the same four-tuple while one of them is
 * still in TIME-WAIT (RFC 1122 §4.2.2.13; Linux does with tcp_tw_reuse),
 * and that connection is tracked from its start as in CLOSED. Otherwise it
 * would live on a session that expires 4 minutes after the old
 * connection's FINs.
 */
static struct tcp_transition
v4_fin_v6_fin_rcv_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	if ((flags & (TH_SYN | TH_ACK)) == TH_SYN)
		return closed_state(dir, flags, settings);
	return to(TCPS_V4_FIN_V6_FIN_RCV, TCP_FATE_PRESERVE);
}

/* RFC 6146 §3.5.2.2 TRANS: any packet but an RST revives the session. */
static struct tcp_transition
trans_state(enum tcp_dir dir, uint8_t flags, const struct tcp_settings *settings)
{
	(void)dir;
	(void)settings;
	if (flags & TH_RST)
		return to(TCPS_TRANS, TCP_FATE_PRESERVE);
	return to(TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
}

static const state_fn state_fns[TCPS_COUNT] = {
	[TCPS_CLOSED] = closed_state,
	[TCPS_V6_INIT] = v6_init_state,
	[TCPS_V4_INIT] = v4_init_state,
	[TCPS_ESTABLISHED] = established_state,
	[TCPS_V4_FIN_RCV] = v4_fin_rcv_state,
	[TCPS_V6_FIN_RCV] = v6_fin_rcv_state,
	[TCPS_V4_FIN_V6_FIN_RCV] = v4_fin_v6_fin_rcv_state,
	[TCPS_TRANS] = trans_state,
};

struct tcp_transition
tcp_state_next(enum tcp_state cur, enum tcp_dir dir, uint8_t flags,
	       const struct tcp_settings *settings)
{
	if ((unsigned)cur >= TCPS_COUNT || (dir != TCP_DIR_6TO4 && dir != TCP_DIR_4TO6) ||
	    !settings)
		return to(cur, TCP_FATE_DROP);
	return state_fns[cur](dir, flags, settings);
}

/*
 * RFC 6146 §3.5.2.2: when an ESTABLISHED session's timer runs out the NAT64
 * may probe the IPv6 node and gives the session the transitory lifetime;
 * Jool always probes. Half-closed sessions (FIN states on the est timer)
 * are simply removed.
 */
struct tcp_transition
tcp_state_est_expired(enum tcp_state cur)
{
	if (cur == TCPS_ESTABLISHED)
		return to(TCPS_TRANS, TCP_FATE_PROBE);
	return to(cur, TCP_FATE_RM);
}

static const char *const state_names[TCPS_COUNT] = {
	[TCPS_CLOSED] = "CLOSED",
	[TCPS_V6_INIT] = "V6_INIT",
	[TCPS_V4_INIT] = "V4_INIT",
	[TCPS_ESTABLISHED] = "ESTABLISHED",
	[TCPS_V4_FIN_RCV] = "V4_FIN_RCV",
	[TCPS_V6_FIN_RCV] = "V6_FIN_RCV",
	[TCPS_V4_FIN_V6_FIN_RCV] = "V4_FIN_V6_FIN_RCV",
	[TCPS_TRANS] = "TRANS",
};

const char *
tcp_state_name(enum tcp_state state)
{
	return (unsigned)state < TCPS_COUNT ? state_names[state] : "?";
}
