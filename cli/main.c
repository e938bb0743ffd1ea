/*
 * nat64: the operator's command. Global options, the old flag style, then
 * one verb of the table in verbs.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "legacy.h"
#include "verbs.h"

#define NAT64_VERSION "0.1"

struct globals_opts {
	const char *instance;
	const char *file;
	const char *socket;
	char from_file[CTL_INSTANCE_MAX + 1]; /* -f: the file's "instance" */
};

/* The "instance" of a Jool configuration file (Jool's -f). */
static int
instance_from_file(const char *path, char *out, size_t len)
{
	json_error_t error;
	json_t *root = json_load_file(path, 0, &error);
	const char *name = json_string_value(json_object_get(root, "instance"));
	int rc = 0;

	if (root == NULL)
		return cli_fail(EXIT_USAGE, "%s:%d: %s", path, error.line, error.text);
	if (name == NULL || !wire_instance_valid(name))
		rc = cli_fail(EXIT_USAGE, "%s: no valid \"instance\" (1-%d printable characters)",
			      path, CTL_INSTANCE_MAX);
	else
		snprintf(out, len, "%s", name);
	json_decref(root);
	return rc;
}

/* "-i NAME", "--instance NAME" or "--instance=NAME" at argv[*i]. */
static bool
take(int argc, char **argv, int *i, const char *s, const char *l, const char **out)
{
	size_t n = strlen(l);

	if (strcmp(argv[*i], s) == 0 || strcmp(argv[*i], l) == 0) {
		if (*i + 1 >= argc) {
			cli_fail(EXIT_USAGE, "option '%s' needs a value", argv[*i]);
			exit(EXIT_USAGE);
		}
		*out = argv[++*i];
		return true;
	}
	if (strncmp(argv[*i], l, n) == 0 && argv[*i][n] == '=') {
		*out = argv[*i] + n + 1;
		return true;
	}
	return false;
}

/* Leading global options. -1 to go on, or the exit code (help, version). */
static int
parse_globals(int argc, char **argv, int *i, struct globals_opts *g)
{
	for (; *i < argc; ++*i) {
		const char *a = argv[*i];

		if (take(argc, argv, i, "-i", "--instance", &g->instance) ||
		    take(argc, argv, i, "-f", "--file", &g->file) ||
		    take(argc, argv, i, "--socket", "--socket", &g->socket))
			continue;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "--usage") == 0) {
			verbs_help(stdout);
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("nat64 " NAT64_VERSION " (control protocol %d)\n", CTL_VERSION);
			return 0;
		}
		return -1;
	}
	return -1;
}

static int
socket_path(struct cli *c, struct globals_opts *g)
{
	const char *from_file = NULL;
	char err[256];
	int rc;

	if (g->file) {
		rc = instance_from_file(g->file, g->from_file, sizeof(g->from_file));
		if (rc)
			return rc;
		from_file = g->from_file;
	}
	if (from_file && g->instance && strcmp(from_file, g->instance) != 0)
		return cli_fail(EXIT_USAGE, "-i %s and the file's instance '%s' disagree",
				g->instance, from_file);
	if (from_file)
		g->instance = from_file;
	if (g->socket) {
		if (strlen(g->socket) >= sizeof(c->socket))
			return cli_fail(EXIT_USAGE, "socket path '%s' is too long", g->socket);
		strcpy(c->socket, g->socket);
		return 0;
	}
	if (!wire_socket_path(c->socket, sizeof(c->socket), CTL_DIR_DEFAULT,
			      g->instance ? g->instance : CTL_INSTANCE_DEFAULT, err, sizeof(err)))
		return cli_fail(EXIT_USAGE, "%s", err);
	return 0;
}

static bool
is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* MODE [OP] args...: finds the verb, parses its options, runs it. */
static int
dispatch(struct cli *c, int argc, char **argv, bool legacy)
{
	const char *op = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
	struct args a = {.legacy = legacy};
	const struct verb *v;
	int rc;

	if (argv[0][0] == '-')
		return cli_fail(EXIT_USAGE, "unknown option '%s' (nat64 --help lists them)",
				argv[0]);
	if (argc == 2 && is_help(argv[1])) {
		const char *mode = verbs_find_mode(argv[0]);

		if (mode == NULL)
			return EXIT_USAGE;
		verbs_help_mode(stdout, mode);
		return 0;
	}
	v = verbs_find(argv[0], op);
	if (v == NULL)
		return EXIT_USAGE;
	rc = args_parse(v, argc - (op ? 2 : 1), argv + (op ? 2 : 1), &a);
	if (rc)
		return rc;
	if (a.set[OPT_HELP]) {
		verbs_help_verb(stdout, v);
		return 0;
	}
	return v->run(c, &a);
}

int
main(int argc, char **argv)
{
	struct cli c = {.fd = -1, .out = stdout};
	struct globals_opts g = {0};
	char **rewritten = NULL;
	bool legacy;
	int i = 1, rc;

	rc = parse_globals(argc, argv, &i, &g);
	if (rc >= 0)
		return rc;
	argc -= i;
	argv += i;
	if (argc == 0)
		return cli_fail(EXIT_USAGE, "missing MODE (pool4, bib, session, stats, global, "
					    "file); nat64 --help explains");
	rc = socket_path(&c, &g);
	if (rc)
		return rc;
	legacy = legacy_detect(argc, argv);
	if (legacy) {
		rewritten = calloc((size_t)argc + 3, sizeof(*rewritten));
		if (rewritten == NULL)
			return cli_fail(EXIT_REJECTED, "out of memory");
		argc = legacy_rewrite(argc, argv, rewritten);
		argv = rewritten;
	}
	buf_init(&c.in, 0);
	rc = argc < 0 ? EXIT_USAGE : dispatch(&c, argc, argv, legacy);
	client_close(&c);
	free(rewritten);
	if (fflush(stdout) != 0 && rc == 0)
		rc = cli_fail(EXIT_REJECTED, "write error on standard output");
	return rc;
}
