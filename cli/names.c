#include "names.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct name {
	char *addr;
	char *host; /* NULL: no name */
};

static struct name cache[NAMES_CACHE];
static uint64_t spent_ms;

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* FNV-1a: the cache is a direct-mapped table. */
static size_t
slot_of(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % NAMES_CACHE;
}

static char *
lookup(const char *text)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	char host[NI_MAXHOST];
	uint64_t start = mono_ms();
	int rc;

	if (inet_pton(AF_INET6, text, &sin6.sin6_addr) != 1)
		return NULL;
	rc = getnameinfo((struct sockaddr *)&sin6, sizeof(sin6), host, sizeof(host), NULL, 0,
			 NI_NAMEREQD);
	spent_ms += mono_ms() - start;
	return rc == 0 ? strdup(host) : NULL;
}

const char *
names_ipv6(const char *text)
{
	struct name *n = &cache[slot_of(text)];

	if (n->addr && strcmp(n->addr, text) == 0)
		return n->host ? n->host : text;
	if (spent_ms >= NAMES_BUDGET_MS)
		return text;
	free(n->addr);
	free(n->host);
	n->addr = strdup(text);
	n->host = lookup(text);
	return n->host ? n->host : text;
}

void
names_free(void)
{
	for (size_t i = 0; i < NAMES_CACHE; i++) {
		free(cache[i].addr);
		free(cache[i].host);
		cache[i] = (struct name){0};
	}
	spent_ms = 0;
}
