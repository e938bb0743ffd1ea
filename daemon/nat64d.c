/*
 * nat64d: a stateful NAT64 (RFC 6146) on a TUN device, in the foreground.
 *
 *   nat64d [options] pool6=64:ff9b::/96 pool4="192.0.2.2, 192.0.2.8/28"
 *
 * main() only sequences: command line, configuration, instance up, event
 * loop, instance down. Exit status 0 after SIGTERM/SIGINT (or a valid
 * configuration with --check), 1 when the instance can't start (the reason
 * is the last log line).
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "instance.h"
#include "log.h"
#include "options.h"

int
main(int argc, char **argv)
{
	static struct instance in;
	struct options opt;
	struct config cfg;
	char err[512];
	int r;

	r = options_parse(&opt, argc, argv, err, sizeof(err));
	if (r != 0) {
		if (r < 0)
			fprintf(stderr, "nat64d: %s\n", err);
		return r < 0 ? 1 : 0;
	}
	log_init(opt.instance, opt.verbose);
	if (options_load_config(&opt, &cfg, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (options_finish(&opt, &cfg, err, sizeof(err)) != 0)
		fatalx("%s", err);
	log_init(opt.instance, opt.verbose);
	if (opt.check) {
		log_info("configuration OK: pool6 and %zu pool4 entries, %zu static BIB entries",
			 cfg.pool4_count, cfg.bib_count);
		config_free(&cfg);
		return 0;
	}
	if (instance_start(&in, &opt, &cfg, err, sizeof(err)) != 0) {
		config_free(&cfg);
		fatalx("%s", err);
	}
	config_free(&cfg);
	r = instance_run(&in);
	instance_stop(&in);
	log_info("stopped");
	return r == 0 ? 0 : 1;
}
