#include "fmt.h"

#include <arpa/inet.h>
#include <string.h>

size_t
fmt_u64(char *out, uint64_t v)
{
	char tmp[FMT_U64_MAX];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t
fmt_ipv4(char *out, struct in_addr a)
{
	const uint8_t *b = (const uint8_t *)&a.s_addr;
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			out[n++] = '.';
		n += fmt_u64(out + n, b[i]);
	}
	return n;
}

static size_t
hex16(char *out, unsigned int v)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	int shift = 12;

	while (shift > 0 && (v >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		out[n++] = digits[(v >> shift) & 15];
	return n;
}

/* RFC 5952 §4.2: the longest run of two or more zero groups (the first
 * one on a tie) becomes "::". */
static void
longest_zeros(const unsigned int w[8], int *base, int *len)
{
	*base = -1;
	*len = 0;
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > *len && j - i >= 2) {
			*base = i;
			*len = j - i;
		}
		i = j == i ? i + 1 : j;
	}
}

size_t
fmt_ipv6(char *out, const struct in6_addr *a)
{
	unsigned int w[8];
	int base, len;
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned int)a->s6_addr[2 * i] << 8 | a->s6_addr[2 * i + 1];
	longest_zeros(w, &base, &len);
	for (int i = 0; i < 8; i++) {
		if (i == base) {
			out[n++] = ':';
			if (i + len == 8)
				out[n++] = ':';
			i += len - 1;
			continue;
		}
		if (i)
			out[n++] = ':';
		/* glibc's inet_ntop: ::a.b.c.d and ::ffff:a.b.c.d keep the IPv4 form. */
		if (i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff))) {
			struct in_addr v4;

			memcpy(&v4, &a->s6_addr[12], 4);
			return n + fmt_ipv4(out + n, v4);
		}
		n += hex16(out + n, w[i]);
	}
	return n;
}
