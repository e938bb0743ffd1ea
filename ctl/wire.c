#include "wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
wire_put_len(uint8_t hdr[CTL_HEADER_LEN], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

uint32_t
wire_get_len(const uint8_t hdr[CTL_HEADER_LEN])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

bool
wire_instance_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CTL_INSTANCE_MAX)
		return false;
	for (; *name; name++)
		if (*name < 0x21 || *name > 0x7e || *name == '/')
			return false;
	return true;
}

bool
wire_socket_path(char *out, size_t len, const char *dir, const char *instance, char *err,
		 size_t errlen)
{
	int n;

	if (!wire_instance_valid(instance)) {
		snprintf(err, errlen,
			 "invalid instance name '%s': 1-%d printable characters, no '/' or space",
			 instance, CTL_INSTANCE_MAX);
		return false;
	}
	n = snprintf(out, len, "%s/%s.sock", dir, instance);
	if (n < 0 || (size_t)n >= len || (size_t)n >= CTL_PATH_MAX) {
		snprintf(err, errlen, "socket path '%s/%s.sock' is too long (at most %d bytes)",
			 dir, instance, CTL_PATH_MAX - 1);
		return false;
	}
	return true;
}

bool
wire_parse_proto(const char *text, enum l4proto *out)
{
	static const char *const names[L4_COUNT] = {"TCP", "UDP", "ICMP"};

	for (int p = 0; p < L4_COUNT; p++) {
		if (strcasecmp(text, names[p]) == 0) {
			*out = (enum l4proto)p;
			return true;
		}
	}
	return false;
}

const char *
wire_proto_name(enum l4proto proto)
{
	static const char *const names[L4_COUNT] = {"TCP", "UDP", "ICMP"};

	return (unsigned)proto < L4_COUNT ? names[proto] : "?";
}

bool
wire_parse_uint(const char *text, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*text == '\0')
		return false;
	for (; *text; text++) {
		if (!isdigit((unsigned char)*text))
			return false;
		if (v > (max - (uint64_t)(*text - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*text - '0');
	}
	*out = v;
	return true;
}

bool
wire_parse_port_range(const char *text, uint16_t *min, uint16_t *max, char *err, size_t errlen)
{
	char first[8];
	const char *dash = strchr(text, '-');
	uint64_t a, b;
	size_t n = dash ? (size_t)(dash - text) : strlen(text);

	if (n == 0 || n >= sizeof(first))
		goto bad;
	memcpy(first, text, n);
	first[n] = '\0';
	if (!wire_parse_uint(first, 65535, &a))
		goto bad;
	b = a;
	if (dash && !wire_parse_uint(dash + 1, 65535, &b))
		goto bad;
	/* Jool's client swaps a reversed range rather than refusing it. */
	*min = (uint16_t)(a < b ? a : b);
	*max = (uint16_t)(a < b ? b : a);
	return true;
bad:
	/* Digits that only overflow get the short message of the style guide. */
	if (strspn(text, "0123456789-") == strlen(text) && n > 0 &&
	    (!dash || (dash[1] != '\0' && !strchr(dash + 1, '-'))))
		snprintf(err, errlen, "invalid port range '%s': ports are 0-65535", text);
	else
		snprintf(err, errlen,
			 "invalid port range '%s': expected PORT or MIN-MAX, ports are 0-65535",
			 text);
	return false;
}

/* Parses ADDRESS[/LENGTH]; with `mask`, bits after the length are cleared
 * (and *masked says so) instead of refused. */
static bool
parse_prefix4(const char *text, struct prefix4 *out, bool mask, bool *masked, char *err,
	      size_t errlen)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	uint64_t len = 32;
	uint32_t host, netmask;
	struct in_addr a;

	if (n == 0 || n >= sizeof(addr))
		goto bad;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		goto bad;
	if (slash && !wire_parse_uint(slash + 1, 32, &len)) {
		snprintf(err, errlen, "invalid prefix '%s': the length is 0-32", text);
		return false;
	}
	host = ntohl(a.s_addr);
	netmask = len ? ~(uint32_t)0 << (32 - len) : 0;
	if (masked)
		*masked = (host & ~netmask) != 0;
	if ((host & ~netmask) && !mask) {
		struct in_addr net = {htonl(host & netmask)};

		inet_ntop(AF_INET, &net, addr, sizeof(addr));
		snprintf(err, errlen, "invalid prefix '%s': bits set after /%u (%s/%u?)", text,
			 (unsigned)len, addr, (unsigned)len);
		return false;
	}
	out->addr.s_addr = htonl(host & netmask);
	out->len = (uint8_t)len;
	return true;
bad:
	snprintf(err, errlen, "invalid prefix '%s': expected an IPv4 ADDRESS or ADDRESS/LENGTH",
		 text);
	return false;
}

bool
wire_parse_prefix4(const char *text, struct prefix4 *out, char *err, size_t errlen)
{
	return parse_prefix4(text, out, false, NULL, err, errlen);
}

bool
wire_parse_prefix4_masked(const char *text, struct prefix4 *out, bool *masked, char *err,
			  size_t errlen)
{
	return parse_prefix4(text, out, true, masked, err, errlen);
}

/* Splits "addr#port" into its two halves; false when malformed. */
static bool
split_taddr(const char *text, char *addr, size_t addrlen, uint16_t *port)
{
	const char *hash = strrchr(text, '#');
	uint64_t p;

	if (hash == NULL || hash == text || (size_t)(hash - text) >= addrlen)
		return false;
	if (!wire_parse_uint(hash + 1, 65535, &p))
		return false;
	memcpy(addr, text, (size_t)(hash - text));
	addr[hash - text] = '\0';
	*port = (uint16_t)p;
	return true;
}

bool
wire_parse_taddr4(const char *text, struct taddr4 *out, char *err, size_t errlen)
{
	char addr[INET_ADDRSTRLEN];
	struct taddr4 t;

	if (split_taddr(text, addr, sizeof(addr), &t.port) &&
	    inet_pton(AF_INET, addr, &t.addr) == 1) {
		*out = t;
		return true;
	}
	snprintf(err, errlen,
		 "invalid IPv4 transport address '%s': expected ADDRESS#PORT, port 0-65535", text);
	return false;
}

bool
wire_parse_taddr6(const char *text, struct taddr6 *out, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN];
	struct taddr6 t;

	if (split_taddr(text, addr, sizeof(addr), &t.port) &&
	    inet_pton(AF_INET6, addr, &t.addr) == 1) {
		*out = t;
		return true;
	}
	snprintf(err, errlen,
		 "invalid IPv6 transport address '%s': expected ADDRESS#PORT, port 0-65535", text);
	return false;
}

bool
wire_parse_iterations(const char *text, struct pool4_iterations *out, char *err, size_t errlen)
{
	uint64_t n;

	if (strcmp(text, "auto") == 0) {
		*out = (struct pool4_iterations){.kind = POOL4_ITER_AUTO};
		return true;
	}
	if (strcmp(text, "infinity") == 0) {
		*out = (struct pool4_iterations){.kind = POOL4_ITER_INFINITY};
		return true;
	}
	if (wire_parse_uint(text, UINT32_MAX, &n) && n >= 1) {
		*out = (struct pool4_iterations){.kind = POOL4_ITER_FIXED, .value = (uint32_t)n};
		return true;
	}
	snprintf(err, errlen,
		 "invalid max-iterations '%s': 'auto', 'infinity' or a number 1-4294967295", text);
	return false;
}

bool
wire_parse_mark(const char *text, uint32_t *out, char *err, size_t errlen)
{
	uint64_t n;

	if (wire_parse_uint(text, UINT32_MAX, &n)) {
		*out = (uint32_t)n;
		return true;
	}
	snprintf(err, errlen, "invalid mark '%s': marks are 0-4294967295", text);
	return false;
}

void
wire_print_prefix4(const struct prefix4 *p, char *out, size_t len)
{
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &p->addr, addr, sizeof(addr));
	if (p->len == 32)
		snprintf(out, len, "%s", addr);
	else
		snprintf(out, len, "%s/%u", addr, p->len);
}
