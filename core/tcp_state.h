/*
 * RFC 6146 §3.5.2.2: the TCP state machine of a NAT64 session, as pure
 * functions (no tables, no time). One function per state (tcp_state.c)
 * takes the packet's direction and flags and returns the next state and a
 * fate: which expiry timer to arm, or to keep the current one. session.c
 * applies the fate (session_tcp_update()); the pipeline applies the CLOSED
 * state's answer (create a session or not). Follows Jool's
 * filtering_and_updating.c, including its handle-rst-during-fin-rcv option.
 *
 * Timers (JOOL-REFERENCE §3.6): "est" is tcp-est-timeout (2 h), "trans" is
 * tcp-trans-timeout (4 min). The 6 s syn4 timer of a stored v4 SYN is set
 * by session_attach_stored(), not by a transition.
 */
#ifndef NAT64_CORE_TCP_STATE_H
#define NAT64_CORE_TCP_STATE_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 6146 §3.5.2.2 figure: the states, CLOSED meaning "no session". */
enum tcp_state {
	TCPS_CLOSED = 0,
	TCPS_V6_INIT,
	TCPS_V4_INIT,
	TCPS_ESTABLISHED,
	TCPS_V4_FIN_RCV,
	TCPS_V6_FIN_RCV,
	TCPS_V4_FIN_V6_FIN_RCV,
	TCPS_TRANS,
	TCPS_COUNT
};

/* The direction the packet travels. */
enum tcp_dir {
	TCP_DIR_6TO4 = 0, /* received on the IPv6 side */
	TCP_DIR_4TO6 = 1, /* received on the IPv4 side */
};

enum tcp_fate {
	TCP_FATE_TIMER_EST,   /* refresh: last use = now, on the established timer */
	TCP_FATE_TIMER_TRANS, /* refresh: last use = now, on the transitory timer */
	TCP_FATE_PRESERVE,    /* translate, leave the timer alone */
	/* CLOSED and not a SYN: create no session; translate only through an
	 * existing BIB entry, else drop (SYN6_EXPECTED / SYN4_EXPECTED). */
	TCP_FATE_NO_SESSION,
	/* Drop the packet, nothing changes. From session.c: a v4 packet
	 * meeting a session that holds a stored v4 SYN (it must not
	 * authorise itself). From tcp_state_next(): invalid input. */
	TCP_FATE_DROP,
	TCP_FATE_PROBE, /* expiry: move to the trans timer and probe the IPv6 node */
	TCP_FATE_RM,    /* expiry: remove the session */
};

struct tcp_transition {
	enum tcp_state state;
	enum tcp_fate fate;
};

/* Settings that change transitions (Jool global keys). */
struct tcp_settings {
	/* Non-standard (Jool issue #212): an RST in V4_FIN_RCV or V6_FIN_RCV
	 * moves the session to the transitory timer. */
	bool handle_rst_during_fin_rcv;
};

/*
 * The transition for a packet with TCP `flags` (the header's flag byte;
 * TH_FIN, TH_SYN, TH_RST of <netinet/tcp.h>) travelling `dir` that meets a
 * session in state `cur`. An invalid state or direction returns
 * {cur, TCP_FATE_DROP}.
 */
struct tcp_transition tcp_state_next(enum tcp_state cur, enum tcp_dir dir, uint8_t flags,
				     const struct tcp_settings *settings);

/* The established timer of a session in `cur` ran out: ESTABLISHED goes
 * TRANS with a probe, anything else is removed (JOOL-REFERENCE §3.6). The
 * transitory and syn4 timers always remove. */
struct tcp_transition tcp_state_est_expired(enum tcp_state cur);

/* "CLOSED", "V6_INIT", ... as Jool prints them; "?" when out of range. */
const char *tcp_state_name(enum tcp_state state);

#endif
