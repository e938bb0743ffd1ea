/*
 * Test harness of the stateless translator (test_translate_*.c): a buffer
 * with canaries around the packet, and run64/run46 that parse, translate
 * and check the buffer contract on every call: nothing outside [data -
 * headroom, data + len + tailroom) is written, and a refused packet and its
 * struct pkt are left exactly as they were.
 */
#ifndef NAT64_TESTS_XLAT_HARNESS_H
#define NAT64_TESTS_XLAT_HARNESS_H

#include "packet.h"
#include "translate.h"

enum { XH_HEAD = 64, XH_ROOM = 2048 + 64, XH_CANARY = 0xa5 };

struct tbuf {
	uint8_t mem[XH_HEAD + XH_ROOM];
	struct pkt p;
};

/* Copies `pkt` after XH_HEAD bytes of canaries, with the given room. */
void xh_load(struct tbuf *b, const uint8_t *pkt, size_t len, uint32_t headroom, uint32_t tailroom);

/* The test packet must parse; returns what the translator returned. */
enum stat_id xh_run64(struct tbuf *b, const struct xlat_addrs4 *a, const struct xlat_config *cfg,
		      uint32_t mtu4, uint32_t mtu6_in);
enum stat_id xh_run46(struct tbuf *b, const struct xlat_addrs6 *a, const struct xlat_config *cfg,
		      uint32_t mtu6, uint32_t mtu4_in);

/* xlat_config_default() as a value. */
struct xlat_config xh_cfg_default(void);

#endif
