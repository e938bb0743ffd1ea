/* A one-engine set for callers that run the engine in their own thread. */
#include "engines.h"

static struct nat64 *
one_acquire(void *ctx, unsigned int i)
{
	struct nat64 **engine = ctx;

	(void)i;
	return *engine;
}

static void
one_release(void *ctx, unsigned int i)
{
	(void)ctx;
	(void)i;
}

struct ctl_engines
ctl_engines_one(struct nat64 **engine)
{
	return (struct ctl_engines){
		.count = 1, .acquire = one_acquire, .release = one_release, .ctx = engine};
}
