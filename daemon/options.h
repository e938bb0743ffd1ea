/*
 * nat64d's command line: getopt_long options plus the kernel module's
 * KEY=VALUE parameters (pool6=PREFIX, pool4=LIST), and how they combine
 * with the --config file into one struct config.
 */
#ifndef NAT64_DAEMON_OPTIONS_H
#define NAT64_DAEMON_OPTIONS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"

/* RFC 7600 §4: 192.0.0.8, the IPv4 dummy address, is the source of ICMPv4
 * errors from a node that has no IPv4 address of its own to use. */
#define OPTIONS_OWN4_DEFAULT "192.0.0.8"

enum {
	OPTIONS_MTU_DEFAULT = 1500,
	OPTIONS_ICMP_RATE_DEFAULT = 100, /* ICMP errors per second */
	OPTIONS_POOL4_LISTS_MAX = 64,
	OPTIONS_WORKERS_MAX = 64,
};

struct options {
	char instance[CONFIG_INSTANCE_MAX + 1];
	bool instance_given; /* -i; else the config file's "instance", else "default" */
	char tun[IFNAMSIZ];  /* "" until derived from the instance (options_finish) */
	unsigned int mtu;
	bool offload;            /* --offload: IFF_VNET_HDR + TSO/USO/CSUM (default on) */
	const char *config_path; /* NULL: no file */
	const char *uplink4;     /* NULL: no proxy ARP */
	struct in_addr own4;
	struct in6_addr own6;
	bool own6_given; /* else pool6 + own4's RFC 7600 address */
	uint32_t icmp_rate;
	unsigned int workers; /* 0: one per CPU */
	bool force;
	bool enable_forwarding;
	const char *ctl_dir; /* NULL: /run/nat64d */
	gid_t ctl_group;     /* (gid_t)-1: socket 0600 root only; else 0660 for it */
	bool verbose;
	bool check;        /* -n: validate the configuration and exit */
	const char *pool6; /* pool6=, NULL when not given */
	const char *pool4[OPTIONS_POOL4_LISTS_MAX];
	size_t pool4_count;
};

/*
 * Parses argv. Returns 0 to go on, 1 when --help or --version printed
 * their text (exit 0), or -1 with a one-line reason in `err` (exit 1).
 */
int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);
void options_usage(FILE *out);

/*
 * The instance's configuration: the --config file first, then the command
 * line's pool6 (must agree with the file's, if both) and pool4 lists
 * added. pool6 is required from one of them; the file's instance name must
 * match -i. Returns 0, or -1 with a reason in `err` (`c` left empty).
 */
int options_load_config(const struct options *o, struct config *c, char *err, size_t errlen);

/*
 * After the configuration is known: takes the instance name from the file
 * when -i was not given, and derives the TUN name when --tun was not:
 * "nat64" for instance "default", "nat64-NAME" cut to 15 characters
 * otherwise. 0, or -1 with a reason (the instance name can't make an
 * interface name).
 */
int options_finish(struct options *o, const struct config *c, char *err, size_t errlen);

#endif
