#include "legacy.h"

#include <stddef.h>
#include <string.h>

#include "cli.h"

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
	return n;
}
