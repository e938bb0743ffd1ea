#include "options.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#ifndef NAT64D_VERSION
#define NAT64D_VERSION "0.1"
#endif

enum {
	OPT_TUN = 256,
	OPT_MTU,
	OPT_UPLINK4,
	OPT_OWN4,
	OPT_OWN6,
	OPT_ICMP_RATE,
	OPT_FORCE,
	OPT_ENABLE_FORWARDING,
	OPT_CTL_DIR,
	OPT_CTL_GROUP,
	OPT_WORKERS,
	OPT_OFFLOAD,
};

static const struct option long_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"verbose", no_argument, NULL, 'v'},
	{"check", no_argument, NULL, 'n'},
	{"instance", required_argument, NULL, 'i'},
	{"config", required_argument, NULL, 'c'},
	{"tun", required_argument, NULL, OPT_TUN},
	{"mtu", required_argument, NULL, OPT_MTU},
	{"uplink4", required_argument, NULL, OPT_UPLINK4},
	{"own4", required_argument, NULL, OPT_OWN4},
	{"own6", required_argument, NULL, OPT_OWN6},
	{"icmp-rate", required_argument, NULL, OPT_ICMP_RATE},
	{"force", no_argument, NULL, OPT_FORCE},
	{"enable-forwarding", no_argument, NULL, OPT_ENABLE_FORWARDING},
	{"ctl-dir", required_argument, NULL, OPT_CTL_DIR},
	{"ctl-group", required_argument, NULL, OPT_CTL_GROUP},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"offload", required_argument, NULL, OPT_OFFLOAD},
	{NULL, 0, NULL, 0},
};

void
options_usage(FILE *out)
{
	fputs("usage: nat64d [options] [pool6=PREFIX6] [pool4=\"ADDR, ADDR, PREFIX4 ...\"]\n"
	      "\n"
	      "Stateful NAT64 (RFC 6146) on a TUN device. Runs in the foreground and logs\n"
	      "to stderr. SIGHUP re-reads --config (all or nothing); SIGTERM/SIGINT stop\n"
	      "and remove every route, rule and proxy entry nat64d added.\n"
	      "\n"
	      "  pool6=PREFIX6        RFC 6052 prefix, e.g. 64:ff9b::/96 (here or in --config)\n"
	      "  pool4=LIST           IPv4 addresses and prefixes, separated by commas and/or\n"
	      "                       spaces; each serves TCP and UDP ports 1-65535 and ICMP\n"
	      "                       identifiers 0-65535. May be repeated. Without any pool4,\n"
	      "                       the node's own addresses are used with ports 61001-65535.\n"
	      "  -c, --config FILE    Jool atomic-configuration JSON (instance, global, pool4,\n"
	      "                       bib); the command line's pool6/pool4 add to it\n"
	      "  -i, --instance NAME  instance name, 1-15 printable ASCII (default: \"default\",\n"
	      "                       or the config file's \"instance\")\n"
	      "      --tun NAME       TUN device (default: nat64 for instance \"default\",\n"
	      "                       else nat64-NAME cut to 15 characters)\n"
	      "      --mtu N          MTU of the TUN device (default 1500)\n"
	      "      --offload on|off TUN offloads (default on): the kernel hands over and\n"
	      "                       takes 64 KB TCP/UDP super-packets with partial\n"
	      "                       checksums, translated once; off: one packet per read\n"
	      "      --uplink4 IFACE  answer ARP on IFACE for every pool4 address (proxy\n"
	      "                       neighbour entries; prefixes up to /20)\n"
	      "      --own4 ADDR      source of the ICMPv4 errors nat64d originates (default\n"
	      "                       192.0.0.8, the RFC 7600 IPv4 dummy address)\n"
	      "      --own6 ADDR      source of the ICMPv6 errors nat64d originates (default\n"
	      "                       pool6 + 192.0.0.8, which routes back to the translator)\n"
	      "      --icmp-rate N    ICMP errors nat64d originates per second (default 100,\n"
	      "                       0 = none)\n"
	      "      --workers N      worker threads, one per TUN queue (default: the number\n"
	      "                       of CPUs, at most 64); without eBPF steering, 1\n"
	      "      --force          allow pool4 ports on the node's own addresses that\n"
	      "                       overlap net.ipv4.ip_local_port_range\n"
	      "      --enable-forwarding\n"
	      "                       set net.ipv4.ip_forward and net.ipv6.conf.all.forwarding\n"
	      "                       to 1 if they are off (they are left on at exit);\n"
	      "                       without it nat64d refuses to start while they are off\n"
	      "      --ctl-dir DIR    directory of the control socket (default /run/nat64d);\n"
	      "                       the socket is DIR/INSTANCE.sock\n"
	      "      --ctl-group GROUP\n"
	      "                       let GROUP drive nat64d: socket mode 0660 for that\n"
	      "                       group (default: root only, 0600)\n"
	      "  -n, --check          check the configuration (file and command line) and\n"
	      "                       exit: 0 when valid, 1 with the reason; touches nothing\n"
	      "  -v, --verbose        debug log lines\n"
	      "  -h, --help           this text\n"
	      "  -V, --version        version\n",
	      out);
}

static int
parse_uint(const char *name, const char *text, unsigned long min, unsigned long max,
	   unsigned long *out, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (!isdigit((unsigned char)text[0]) || errno || *end != '\0' || v < min || v > max) {
		snprintf(err, errlen, "%s: '%s' is not a number in %lu-%lu", name, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
set_offload(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0) {
		snprintf(err, errlen, "--offload: '%s' is neither on nor off", arg);
		return -1;
	}
	o->offload = strcmp(arg, "on") == 0;
	return 0;
}

/* pool6=... and pool4=..., the kernel module's parameters. */
static int
parse_param(struct options *o, const char *arg, char *err, size_t errlen)
{
	if (strncmp(arg, "pool6=", 6) == 0) {
		if (o->pool6 != NULL) {
			snprintf(err, errlen, "pool6 given twice");
			return -1;
		}
		o->pool6 = arg + 6;
		return 0;
	}
	if (strncmp(arg, "pool4=", 6) == 0) {
		if (o->pool4_count == OPTIONS_POOL4_LISTS_MAX) {
			snprintf(err, errlen, "pool4 given more than %d times",
				 OPTIONS_POOL4_LISTS_MAX);
			return -1;
		}
		o->pool4[o->pool4_count++] = arg + 6;
		return 0;
	}
	snprintf(err, errlen, "unknown argument '%s' (expected pool6=PREFIX or pool4=LIST)", arg);
	return -1;
}

static int
set_instance(struct options *o, const char *name, char *err, size_t errlen)
{
	if (!wire_instance_valid(name)) {
		snprintf(err, errlen, "instance '%s' is not 1-15 printable ASCII characters", name);
		return -1;
	}
	snprintf(o->instance, sizeof(o->instance), "%s", name);
	o->instance_given = true;
	return 0;
}

static int
set_tun(struct options *o, const char *name, char *err, size_t errlen)
{
	if (name[0] == '\0' || strlen(name) >= IFNAMSIZ || strpbrk(name, "/: \t") != NULL) {
		snprintf(err, errlen, "--tun '%s' is not an interface name (1-15 characters)",
			 name);
		return -1;
	}
	snprintf(o->tun, sizeof(o->tun), "%s", name);
	return 0;
}

static int
set_addr(int family, const char *name, const char *text, void *out, char *err, size_t errlen)
{
	if (inet_pton(family, text, out) == 1)
		return 0;
	snprintf(err, errlen, "%s: '%s' is not an IPv%c address", name, text,
		 family == AF_INET ? '4' : '6');
	return -1;
}

/* --ctl-group: a group name, or a number. */
static int
set_group(struct options *o, const char *name, char *err, size_t errlen)
{
	struct group *gr = getgrnam(name);
	unsigned long v;

	if (gr != NULL) {
		o->ctl_group = gr->gr_gid;
		return 0;
	}
	if (parse_uint("--ctl-group", name, 0, UINT32_MAX - 1, &v, err, errlen)) {
		snprintf(err, errlen, "--ctl-group: no group named '%s'", name);
		return -1;
	}
	o->ctl_group = (gid_t)v;
	return 0;
}

static int
parse_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	unsigned long v;

	switch (c) {
	case 'v':
		o->verbose = true;
		return 0;
	case 'n':
		o->check = true;
		return 0;
	case 'i':
		return set_instance(o, arg, err, errlen);
	case 'c':
		o->config_path = arg;
		return 0;
	case OPT_TUN:
		return set_tun(o, arg, err, errlen);
	case OPT_MTU:
		/* RFC 8200 §5: an IPv6 link carries at least 1280 bytes. */
		if (parse_uint("--mtu", arg, 1280, 65535, &v, err, errlen))
			return -1;
		o->mtu = (unsigned int)v;
		return 0;
	case OPT_UPLINK4:
		o->uplink4 = arg;
		return 0;
	case OPT_OWN4:
		return set_addr(AF_INET, "--own4", arg, &o->own4, err, errlen);
	case OPT_OWN6:
		o->own6_given = true;
		return set_addr(AF_INET6, "--own6", arg, &o->own6, err, errlen);
	case OPT_ICMP_RATE:
		if (parse_uint("--icmp-rate", arg, 0, UINT32_MAX, &v, err, errlen))
			return -1;
		o->icmp_rate = (uint32_t)v;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	case OPT_ENABLE_FORWARDING:
		o->enable_forwarding = true;
		return 0;
	case OPT_CTL_DIR:
		o->ctl_dir = arg;
		return 0;
	case OPT_CTL_GROUP:
		return set_group(o, arg, err, errlen);
	case OPT_WORKERS:
		if (parse_uint("--workers", arg, 1, OPTIONS_WORKERS_MAX, &v, err, errlen))
			return -1;
		o->workers = (unsigned int)v;
		return 0;
	case OPT_OFFLOAD:
		return set_offload(o, arg, err, errlen);
	}
	snprintf(err, errlen, "unknown option (try --help)");
	return -1;
}

static void
options_default(struct options *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->instance, sizeof(o->instance), "default");
	o->mtu = OPTIONS_MTU_DEFAULT;
	o->icmp_rate = OPTIONS_ICMP_RATE_DEFAULT;
	o->offload = true;
	o->ctl_group = (gid_t)-1;
	inet_pton(AF_INET, OPTIONS_OWN4_DEFAULT, &o->own4);
}

int
options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	int c;

	options_default(o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hVvni:c:", long_options, NULL)) != -1) {
		if (c == 'h') {
			options_usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("nat64d %s\n", NAT64D_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			snprintf(err, errlen, "unknown option or missing value: '%s' (try --help)",
				 argv[optind - 1]);
			return -1;
		}
		if (parse_option(o, c, optarg, err, errlen))
			return -1;
	}
	for (int i = optind; i < argc; i++)
		if (parse_param(o, argv[i], err, errlen))
			return -1;
	return 0;
}

/* pool6= on the command line: set it, or check it agrees with the file's. */
static int
merge_pool6(const struct options *o, struct config *c, char *err, size_t errlen)
{
	const struct global_key *k = globals_find("pool6");
	struct globals g = c->globals;
	char why[256];

	if (globals_parse(&g, k, o->pool6, why, sizeof(why))) {
		snprintf(err, errlen, "pool6=: %s", why);
		return -1;
	}
	if (c->globals.pool6_set && (c->globals.pool6.len != g.pool6.len ||
				     !in6_equal(&c->globals.pool6.addr, &g.pool6.addr))) {
		snprintf(err, errlen, "pool6=%s disagrees with the pool6 of %s", o->pool6,
			 o->config_path);
		return -1;
	}
	c->globals = g;
	return 0;
}

static int
merge_command_line(const struct options *o, struct config *c, char *err, size_t errlen)
{
	if (o->pool6 != NULL && merge_pool6(o, c, err, errlen))
		return -1;
	for (size_t i = 0; i < o->pool4_count; i++)
		if (config_add_pool4_list(c, o->pool4[i], err, errlen))
			return -1;
	if (!c->globals.pool6_set) {
		snprintf(err, errlen,
			 "pool6 is required: give pool6=PREFIX (e.g. pool6=64:ff9b::/96) or "
			 "\"pool6\" in the config file's \"global\"");
		return -1;
	}
	if (o->instance_given && c->instance[0] != '\0' && strcmp(c->instance, o->instance)) {
		snprintf(err, errlen, "%s is for instance '%s', but this is instance '%s' (-i)",
			 o->config_path, c->instance, o->instance);
		return -1;
	}
	/* The scratch pool4 proves every entry, command line ones included. */
	return config_build_pool4(c, NULL, err, errlen);
}

int
options_load_config(const struct options *o, struct config *c, char *err, size_t errlen)
{
	config_init(c);
	if (o->config_path != NULL && config_parse_file(c, o->config_path, err, errlen))
		return -1;
	if (merge_command_line(o, c, err, errlen)) {
		config_free(c);
		return -1;
	}
	return 0;
}

int
options_finish(struct options *o, const struct config *c, char *err, size_t errlen)
{
	if (!o->instance_given && c->instance[0] != '\0')
		snprintf(o->instance, sizeof(o->instance), "%s", c->instance);
	if (o->tun[0] != '\0')
		return 0;
	if (strcmp(o->instance, "default") == 0) {
		snprintf(o->tun, sizeof(o->tun), "nat64");
		return 0;
	}
	if (strpbrk(o->instance, "/: \t") != NULL) {
		snprintf(err, errlen,
			 "instance '%s' can't name a TUN device (no '/', ':' or spaces): "
			 "give --tun NAME",
			 o->instance);
		return -1;
	}
	/* "nat64-" + the name, cut to IFNAMSIZ - 1 = 15 characters. */
	snprintf(o->tun, sizeof(o->tun), "nat64-%.9s", o->instance);
	return 0;
}
