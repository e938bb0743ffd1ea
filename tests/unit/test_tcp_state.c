/*
 * RFC 6146 §3.5.2.2 TCP state machine (core/tcp_state.c), one test per
 * transition of JOOL-REFERENCE §3.6, named after it.
 */
#include <criterion/criterion.h>

#include <netinet/tcp.h>

#include "tcp_state.h"

static const struct tcp_settings plain = {.handle_rst_during_fin_rcv = false};
static const struct tcp_settings handle_rst = {.handle_rst_during_fin_rcv = true};

#define V6 TCP_DIR_6TO4
#define V4 TCP_DIR_4TO6

static void
expect(enum tcp_state cur, enum tcp_dir dir, uint8_t flags, const struct tcp_settings *s,
       enum tcp_state state, enum tcp_fate fate)
{
	struct tcp_transition t = tcp_state_next(cur, dir, flags, s);

	cr_assert_eq(t.state, state, "%s + flags %#x from %s: state %s, expected %s",
		     tcp_state_name(cur), flags, dir == V6 ? "v6" : "v4", tcp_state_name(t.state),
		     tcp_state_name(state));
	cr_assert_eq(t.fate, fate, "%s + flags %#x from %s: fate %d, expected %d",
		     tcp_state_name(cur), flags, dir == V6 ? "v6" : "v4", t.fate, fate);
}

/* Bad input first: nothing moves, the packet is dropped. */
Test(tcp_state, invalid_state_or_direction_drops_and_keeps_state)
{
	expect((enum tcp_state)99, V6, TH_SYN, &plain, (enum tcp_state)99, TCP_FATE_DROP);
	expect(TCPS_ESTABLISHED, (enum tcp_dir)7, TH_FIN, &plain, TCPS_ESTABLISHED, TCP_FATE_DROP);
	expect(TCPS_ESTABLISHED, V6, TH_FIN, NULL, TCPS_ESTABLISHED, TCP_FATE_DROP);
	cr_assert_str_eq(tcp_state_name((enum tcp_state)99), "?");
	cr_assert_str_eq(tcp_state_name(TCPS_COUNT), "?");
}

Test(tcp_state, names_match_jool)
{
	static const char *const want[] = {
		"CLOSED",     "V6_INIT",    "V4_INIT",           "ESTABLISHED",
		"V4_FIN_RCV", "V6_FIN_RCV", "V4_FIN_V6_FIN_RCV", "TRANS"};

	for (int s = 0; s < TCPS_COUNT; s++)
		cr_assert_str_eq(tcp_state_name((enum tcp_state)s), want[s]);
}

/* CLOSED */
Test(tcp_state, closed_v6_syn_goes_v6_init_on_trans)
{
	expect(TCPS_CLOSED, V6, TH_SYN, &plain, TCPS_V6_INIT, TCP_FATE_TIMER_TRANS);
}

Test(tcp_state, closed_v4_syn_goes_v4_init_on_trans)
{
	expect(TCPS_CLOSED, V4, TH_SYN, &plain, TCPS_V4_INIT, TCP_FATE_TIMER_TRANS);
}

Test(tcp_state, closed_v6_non_syn_creates_no_session)
{
	expect(TCPS_CLOSED, V6, TH_ACK, &plain, TCPS_CLOSED, TCP_FATE_NO_SESSION);
	expect(TCPS_CLOSED, V6, TH_FIN | TH_ACK, &plain, TCPS_CLOSED, TCP_FATE_NO_SESSION);
}

Test(tcp_state, closed_v4_non_syn_creates_no_session)
{
	expect(TCPS_CLOSED, V4, TH_RST, &plain, TCPS_CLOSED, TCP_FATE_NO_SESSION);
}

/* V6_INIT */
Test(tcp_state, v6_init_v4_syn_goes_established)
{
	expect(TCPS_V6_INIT, V4, TH_SYN | TH_ACK, &plain, TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
}

Test(tcp_state, v6_init_v6_syn_refreshes_trans)
{
	expect(TCPS_V6_INIT, V6, TH_SYN, &plain, TCPS_V6_INIT, TCP_FATE_TIMER_TRANS);
}

Test(tcp_state, v6_init_non_syn_preserves)
{
	expect(TCPS_V6_INIT, V4, TH_ACK, &plain, TCPS_V6_INIT, TCP_FATE_PRESERVE);
	expect(TCPS_V6_INIT, V6, TH_RST, &plain, TCPS_V6_INIT, TCP_FATE_PRESERVE);
}

/* V4_INIT */
Test(tcp_state, v4_init_v6_syn_goes_established)
{
	expect(TCPS_V4_INIT, V6, TH_SYN, &plain, TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
}

Test(tcp_state, v4_init_v4_syn_preserves)
{
	expect(TCPS_V4_INIT, V4, TH_SYN, &plain, TCPS_V4_INIT, TCP_FATE_PRESERVE);
}

Test(tcp_state, v4_init_v6_non_syn_preserves)
{
	expect(TCPS_V4_INIT, V6, TH_ACK, &plain, TCPS_V4_INIT, TCP_FATE_PRESERVE);
}

/* ESTABLISHED */
Test(tcp_state, established_v4_fin_goes_v4_fin_rcv)
{
	expect(TCPS_ESTABLISHED, V4, TH_FIN | TH_ACK, &plain, TCPS_V4_FIN_RCV, TCP_FATE_PRESERVE);
}

Test(tcp_state, established_v6_fin_goes_v6_fin_rcv)
{
	expect(TCPS_ESTABLISHED, V6, TH_FIN, &plain, TCPS_V6_FIN_RCV, TCP_FATE_PRESERVE);
}

Test(tcp_state, established_fin_wins_over_rst)
{
	expect(TCPS_ESTABLISHED, V6, TH_FIN | TH_RST, &plain, TCPS_V6_FIN_RCV, TCP_FATE_PRESERVE);
}

Test(tcp_state, established_rst_goes_trans)
{
	expect(TCPS_ESTABLISHED, V4, TH_RST, &plain, TCPS_TRANS, TCP_FATE_TIMER_TRANS);
	expect(TCPS_ESTABLISHED, V6, TH_RST, &plain, TCPS_TRANS, TCP_FATE_TIMER_TRANS);
}

Test(tcp_state, established_other_refreshes_est)
{
	expect(TCPS_ESTABLISHED, V6, TH_ACK, &plain, TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
	expect(TCPS_ESTABLISHED, V4, TH_SYN, &plain, TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
}

/* V4_FIN_RCV */
Test(tcp_state, v4_fin_rcv_v6_fin_goes_v4_fin_v6_fin_rcv)
{
	expect(TCPS_V4_FIN_RCV, V6, TH_FIN | TH_ACK, &plain, TCPS_V4_FIN_V6_FIN_RCV,
	       TCP_FATE_TIMER_TRANS);
}

Test(tcp_state, v4_fin_rcv_v4_fin_refreshes_est)
{
	expect(TCPS_V4_FIN_RCV, V4, TH_FIN, &plain, TCPS_V4_FIN_RCV, TCP_FATE_TIMER_EST);
}

Test(tcp_state, v4_fin_rcv_other_refreshes_est)
{
	expect(TCPS_V4_FIN_RCV, V6, TH_ACK, &plain, TCPS_V4_FIN_RCV, TCP_FATE_TIMER_EST);
}

Test(tcp_state, v4_fin_rcv_rst_without_handle_rst_refreshes_est)
{
	expect(TCPS_V4_FIN_RCV, V6, TH_RST, &plain, TCPS_V4_FIN_RCV, TCP_FATE_TIMER_EST);
	expect(TCPS_V4_FIN_RCV, V4, TH_RST, &plain, TCPS_V4_FIN_RCV, TCP_FATE_TIMER_EST);
}

/* Jool issue #212, handle-rst-during-fin-rcv. */
Test(tcp_state, v4_fin_rcv_rst_with_handle_rst_arms_trans)
{
	expect(TCPS_V4_FIN_RCV, V6, TH_RST, &handle_rst, TCPS_V4_FIN_RCV, TCP_FATE_TIMER_TRANS);
	expect(TCPS_V4_FIN_RCV, V4, TH_RST, &handle_rst, TCPS_V4_FIN_RCV, TCP_FATE_TIMER_TRANS);
}

/* V6_FIN_RCV */
Test(tcp_state, v6_fin_rcv_v4_fin_goes_v4_fin_v6_fin_rcv)
{
	expect(TCPS_V6_FIN_RCV, V4, TH_FIN, &plain, TCPS_V4_FIN_V6_FIN_RCV, TCP_FATE_TIMER_TRANS);
}

Test(tcp_state, v6_fin_rcv_v6_fin_refreshes_est)
{
	expect(TCPS_V6_FIN_RCV, V6, TH_FIN, &plain, TCPS_V6_FIN_RCV, TCP_FATE_TIMER_EST);
}

Test(tcp_state, v6_fin_rcv_other_refreshes_est)
{
	expect(TCPS_V6_FIN_RCV, V4, TH_ACK, &plain, TCPS_V6_FIN_RCV, TCP_FATE_TIMER_EST);
}

Test(tcp_state, v6_fin_rcv_rst_without_handle_rst_refreshes_est)
{
	expect(TCPS_V6_FIN_RCV, V4, TH_RST, &plain, TCPS_V6_FIN_RCV, TCP_FATE_TIMER_EST);
}

Test(tcp_state, v6_fin_rcv_rst_with_handle_rst_arms_trans)
{
	expect(TCPS_V6_FIN_RCV, V4, TH_RST, &handle_rst, TCPS_V6_FIN_RCV, TCP_FATE_TIMER_TRANS);
	expect(TCPS_V6_FIN_RCV, V6, TH_RST, &handle_rst, TCPS_V6_FIN_RCV, TCP_FATE_TIMER_TRANS);
}

/* V4_FIN_V6_FIN_RCV: only the timeout ends it ... */
Test(tcp_state, v4_fin_v6_fin_rcv_anything_preserves)
{
	const uint8_t flags[] = {0, TH_SYN | TH_ACK, TH_FIN, TH_RST, TH_ACK};

	for (unsigned i = 0; i < sizeof(flags); i++) {
		expect(TCPS_V4_FIN_V6_FIN_RCV, V6, flags[i], &handle_rst, TCPS_V4_FIN_V6_FIN_RCV,
		       TCP_FATE_PRESERVE);
		expect(TCPS_V4_FIN_V6_FIN_RCV, V4, flags[i], &plain, TCPS_V4_FIN_V6_FIN_RCV,
		       TCP_FATE_PRESERVE);
	}
}

/* ... but a new connection on the same four-tuple (a SYN without ACK,
 * RFC 1122 §4.2.2.13 TIME-WAIT reuse) starts over as from CLOSED. */
Test(tcp_state, v4_fin_v6_fin_rcv_new_syn_opens_again)
{
	expect(TCPS_V4_FIN_V6_FIN_RCV, V6, TH_SYN, &plain, TCPS_V6_INIT, TCP_FATE_TIMER_TRANS);
	expect(TCPS_V4_FIN_V6_FIN_RCV, V4, TH_SYN, &plain, TCPS_V4_INIT, TCP_FATE_TIMER_TRANS);
}

/* TRANS */
Test(tcp_state, trans_non_rst_goes_established)
{
	expect(TCPS_TRANS, V6, TH_ACK, &plain, TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
	expect(TCPS_TRANS, V4, 0, &plain, TCPS_ESTABLISHED, TCP_FATE_TIMER_EST);
}

Test(tcp_state, trans_rst_preserves)
{
	expect(TCPS_TRANS, V4, TH_RST | TH_ACK, &plain, TCPS_TRANS, TCP_FATE_PRESERVE);
}

/* Expiry of the established timer (the trans and syn4 timers always remove). */
Test(tcp_state, est_expiry_established_goes_trans_with_probe)
{
	struct tcp_transition t = tcp_state_est_expired(TCPS_ESTABLISHED);

	cr_assert_eq(t.state, TCPS_TRANS);
	cr_assert_eq(t.fate, TCP_FATE_PROBE);
}

Test(tcp_state, est_expiry_fin_rcv_removes)
{
	struct tcp_transition a = tcp_state_est_expired(TCPS_V4_FIN_RCV);
	struct tcp_transition b = tcp_state_est_expired(TCPS_V6_FIN_RCV);

	cr_assert_eq(a.fate, TCP_FATE_RM);
	cr_assert_eq(b.fate, TCP_FATE_RM);
	cr_assert_eq(a.state, TCPS_V4_FIN_RCV);
}
