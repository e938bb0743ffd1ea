#include "xlat_harness.h"

#include <criterion/criterion.h>
#include <string.h>

void
xh_load(struct tbuf *b, const uint8_t *pkt, size_t len, uint32_t headroom, uint32_t tailroom)
{
	cr_assert(headroom <= XH_HEAD && len + tailroom <= XH_ROOM);
	memset(b->mem, XH_CANARY, sizeof(b->mem));
	memcpy(b->mem + XH_HEAD, pkt, len);
	b->p = (struct pkt){b->mem + XH_HEAD, (uint32_t)len, headroom, tailroom};
}

/* After a translation: nothing outside [lo, hi) of mem changed, and a
 * refusal changed nothing at all. */
static void
check_contract(const struct tbuf *b, const uint8_t *before, const struct pkt *p0, enum stat_id rc)
{
	size_t lo = (size_t)(p0->data - b->mem) - p0->headroom;
	size_t hi = (size_t)(p0->data - b->mem) + p0->len + p0->tailroom;

	for (size_t i = 0; i < sizeof(b->mem); i++)
		if (i < lo || i >= hi)
			cr_assert_eq(b->mem[i], before[i], "byte %zu outside the buffer written",
				     i);
	if (rc != STAT_OK) {
		cr_assert(memcmp(before, b->mem, sizeof(b->mem)) == 0, "refused packet modified");
		cr_assert(b->p.data == p0->data && b->p.len == p0->len &&
				  b->p.headroom == p0->headroom && b->p.tailroom == p0->tailroom,
			  "refused packet's struct pkt modified");
		return;
	}
	cr_assert(b->p.data - b->p.headroom == b->mem + lo, "buffer start moved");
	cr_assert(b->p.data + b->p.len + b->p.tailroom == b->mem + hi, "buffer end moved");
}

enum stat_id
xh_run64(struct tbuf *b, const struct xlat_addrs4 *a, const struct xlat_config *cfg, uint32_t mtu4,
	 uint32_t mtu6_in)
{
	static uint8_t before[sizeof(b->mem)];
	struct pkt p0 = b->p;
	struct pkt_info info;
	enum stat_id rc;

	cr_assert_eq(pkt_parse6(b->p.data, b->p.len, &info), STAT_OK, "test packet must parse");
	memcpy(before, b->mem, sizeof(before));
	rc = xlat_6to4(&b->p, &info, a, cfg, mtu4, mtu6_in);
	check_contract(b, before, &p0, rc);
	return rc;
}

enum stat_id
xh_run46(struct tbuf *b, const struct xlat_addrs6 *a, const struct xlat_config *cfg, uint32_t mtu6,
	 uint32_t mtu4_in)
{
	static uint8_t before[sizeof(b->mem)];
	struct pkt p0 = b->p;
	struct pkt_info info;
	enum stat_id rc;

	cr_assert_eq(pkt_parse4(b->p.data, b->p.len, &info), STAT_OK, "test packet must parse");
	memcpy(before, b->mem, sizeof(before));
	rc = xlat_4to6(&b->p, &info, a, cfg, mtu6, mtu4_in);
	check_contract(b, before, &p0, rc);
	return rc;
}

struct xlat_config
xh_cfg_default(void)
{
	struct xlat_config c;

	xlat_config_default(&c);
	return c;
}
