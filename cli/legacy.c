#include "legacy.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wire.h"

static const char *const modes[] = {"pool4", "bib", "session"};
static const char *const ops[] = {"display", "add", "remove", "flush"};

/* "--pool4" -> "pool4" when `word` is one of `names` as a flag. */
static const char *
flag_of(const char *word, const char *const *names, size_t n)
{
	if (strncmp(word, "--", 2) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(word + 2, names[i]) == 0)
			return names[i];
	return NULL;
}

/*
 * The old documentation writes pool4 lists such as `--pool4 --add
 * 192.0.2.8/28`, meaning the /28 that holds 192.0.2.8: take the prefix's
 * network and say so, where the modern `pool4 add` refuses the typo.
 */
static void
mask_prefix(char **arg)
{
	static char net[WIRE_PREFIX4_LEN];
	struct prefix4 p;
	char err[160];
	bool masked;

	if (!wire_parse_prefix4_masked(*arg, &p, &masked, err, sizeof(err)) || !masked)
		return;
	wire_print_prefix4(&p, net, sizeof(net));
	fprintf(stderr, "nat64: '%s' has bits set after its length: using %s\n", *arg, net);
	*arg = net;
}

bool
legacy_detect(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (flag_of(argv[i], modes, 3))
			return true;
	return false;
}

int
legacy_rewrite(int argc, char **argv, char **out)
{
	const char *mode = NULL, *op = NULL;
	bool done = false;
	int n = 2;

	for (int i = 0; i < argc; i++) {
		const char *m = done ? NULL : flag_of(argv[i], modes, 3);
		const char *o = done ? NULL : flag_of(argv[i], ops, 4);

		if (!done && strcmp(argv[i], "--") == 0)
			done = true;
		if (m && mode && strcmp(m, mode) != 0)
			return cli_fail(EXIT_USAGE, "--%s and --%s exclude each other", mode, m),
			       -1;
		if (o && op && strcmp(o, op) != 0)
			return cli_fail(EXIT_USAGE, "--%s and --%s exclude each other", op, o), -1;
		if (m)
			mode = m;
		else if (o)
			op = o;
		else
			out[n++] = argv[i];
	}
	out[0] = (char *)mode;
	out[1] = (char *)(op ? op : "display");
	out[n] = NULL;
	if (mode == modes[0] && n > 2)
		mask_prefix(&out[2]);
	return n;
}
