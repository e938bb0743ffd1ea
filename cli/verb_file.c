/*
 * nat64 file handle FILE.json: the daemon parses and applies Jool's atomic
 * configuration, all or nothing; the command only carries the text (so the
 * daemon's errors name lines and fields of the file as it is).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "verbs.h"

/* The request carries the text as a JSON string: leave room for escapes. */
enum { FILE_MAX = CTL_REQUEST_MAX / 2 };

/* The whole file, NUL-terminated; NULL after printing why. */
static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;

	if (f == NULL) {
		cli_fail(EXIT_USAGE, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	text = malloc(FILE_MAX + 1);
	n = text ? fread(text, 1, FILE_MAX + 1, f) : 0;
	if (text == NULL || ferror(f) || n > FILE_MAX) {
		cli_fail(EXIT_USAGE, "cannot read '%s': %s", path,
			 text == NULL || ferror(f) ? strerror(errno) : "larger than 512 KiB");
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	text[n] = '\0';
	if (strlen(text) != n) {
		cli_fail(EXIT_USAGE, "'%s' is not a text file (it holds a NUL byte)", path);
		free(text);
		return NULL;
	}
	return text;
}

int
verb_file_handle(struct cli *c, const struct args *a)
{
	char *text = read_file(a->pos[0]);
	json_t *req, *reply;
	int rc;

	if (text == NULL)
		return EXIT_USAGE;
	req = client_request("file.handle");
	json_object_set_new(req, "text", json_string(text));
	free(text);
	if (json_object_get(req, "text") == NULL) {
		json_decref(req);
		return cli_fail(EXIT_USAGE, "'%s' is not UTF-8 text", a->pos[0]);
	}
	rc = client_call(c, req, &reply);
	json_decref(reply);
	return rc;
}
