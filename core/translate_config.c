/*
 * Default translation settings: Jool's global defaults
 * (src/common/constants.h), so a Jool operator finds the same behaviour.
 */
#include "translate.h"

/* RFC 1191 §7 table of common MTUs, as Jool ships it. */
static const uint16_t default_plateaus[] = {
	65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68,
};

void
xlat_config_default(struct xlat_config *cfg)
{
	size_t n = sizeof(default_plateaus) / sizeof(default_plateaus[0]);

	memset(cfg, 0, sizeof(*cfg));
	cfg->zeroize_traffic_class = false;
	cfg->override_tos = false;
	cfg->tos = 0;
	cfg->lowest_ipv6_mtu = 1280;
	cfg->drop_zero_csum_udp_fragments = true;
	memcpy(cfg->mtu_plateaus, default_plateaus, sizeof(default_plateaus));
	cfg->mtu_plateau_count = (uint8_t)n;
}
