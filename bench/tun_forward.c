/*
 * The bare TUN forwarder of `make bench-e2e`: the baseline that does
 * everything nat64d does to move a packet (the same TUN device setup,
 * non-blocking reads driven by epoll, one write per packet) except the
 * translation. Each packet read is written back unchanged; the kernel
 * routes it on (policy routing in the benchmark's translator namespace
 * sends what comes out of the device to the real next hop).
 *
 *   tun_forward [--name NAME] [--mtu N] [--vnet-hdr] [--queues N]
 *
 * --vnet-hdr opens the device with IFF_VNET_HDR and turns on
 * TUNSETOFFLOAD CSUM|TSO4|TSO6, as nat64d does by default with offloads:
 * reads may then return 64 KB super-packets, which go back as they came
 * (their virtio_net_hdr included). --queues N opens N queues
 * (IFF_MULTI_QUEUE), one thread each; the kernel spreads flows over them.
 * It runs until SIGTERM or SIGINT.
 */
#include "tun.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum {
	MAX_QUEUES = 16,
	/* The largest GSO super-packet plus its virtio_net_hdr. */
	BUF_SIZE = 65536 + TUN_VNET_HDR_LEN,
};

struct queue {
	pthread_t thread;
	int fd;
	unsigned long packets;
	unsigned long errors;
};

static struct queue queues[MAX_QUEUES];

/* Reads until the device is empty, writing every packet straight back. */
static void
drain(struct queue *q, unsigned char *buf)
{
	for (;;) {
		ssize_t n = read(q->fd, buf, BUF_SIZE);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				q->errors++;
			return;
		}
		if (write(q->fd, buf, (size_t)n) != n)
			q->errors++;
		else
			q->packets++;
	}
}

static void *
queue_run(void *arg)
{
	struct queue *q = arg;
	struct epoll_event ev = {.events = EPOLLIN};
	unsigned char *buf = malloc(BUF_SIZE);
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (buf == NULL || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, q->fd, &ev) < 0) {
		perror("tun_forward: epoll");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(ep, &ev, 1, -1);

		if (n > 0)
			drain(q, buf);
		else if (n < 0 && errno != EINTR)
			break;
	}
	free(buf);
	close(ep);
	return NULL;
}

static void
usage(int status)
{
	fprintf(stderr,
		"usage: tun_forward [--name NAME] [--mtu N] [--vnet-hdr] "
		"[--queues 1..%d]\n",
		MAX_QUEUES);
	exit(status);
}

struct opts {
	const char *name;
	unsigned int mtu;
	bool vnet;
	int nqueues;
};

static void
parse_args(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){.name = "tunfwd", .mtu = 1500, .nqueues = 1};
	for (int i = 1; i < argc; i++) {
		bool more = i + 1 < argc;

		if (strcmp(argv[i], "--vnet-hdr") == 0)
			o->vnet = true;
		else if (strcmp(argv[i], "--name") == 0 && more)
			o->name = argv[++i];
		else if (strcmp(argv[i], "--mtu") == 0 && more)
			o->mtu = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--queues") == 0 && more)
			o->nqueues = atoi(argv[++i]);
		else
			usage(strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ? 0 : 2);
	}
	if (o->nqueues < 1 || o->nqueues > MAX_QUEUES)
		usage(2);
}

/* Queue i of the device: the same flags nat64d uses, plus the options'. */
static int
open_queue(const struct opts *o, char ifname[IFNAMSIZ])
{
	int flags = (o->vnet ? IFF_VNET_HDR : 0) | (o->nqueues > 1 ? IFF_MULTI_QUEUE : 0);
	int fd = tun_open(o->name, o->mtu, flags, ifname);

	if (fd < 0) {
		fprintf(stderr, "tun_forward: can't open %s: %s\n", o->name, strerror(-fd));
		exit(1);
	}
	if (o->vnet) {
		int got =
			tun_set_offload(fd, TUN_OFFLOAD_CSUM | TUN_OFFLOAD_TSO4 | TUN_OFFLOAD_TSO6);

		if (got < 0) {
			fprintf(stderr, "tun_forward: TUNSETOFFLOAD: %s\n", strerror(-got));
			exit(1);
		}
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct opts o;
	char ifname[IFNAMSIZ];
	sigset_t stop;
	int sig;

	parse_args(&o, argc, argv);
	/* Blocked in every thread; main waits for them below. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	for (int i = 0; i < o.nqueues; i++) {
		queues[i].fd = open_queue(&o, ifname);
		if (pthread_create(&queues[i].thread, NULL, queue_run, &queues[i]) != 0) {
			fprintf(stderr, "tun_forward: pthread_create failed\n");
			return 1;
		}
	}
	printf("tun_forward: %s, %d queue(s)%s\n", ifname, o.nqueues,
	       o.vnet ? ", vnet header, offloads CSUM|TSO4|TSO6" : "");
	fflush(stdout);
	sigwait(&stop, &sig);
	for (int i = 0; i < o.nqueues; i++)
		printf("queue %d: %lu packets, %lu errors\n", i, queues[i].packets,
		       queues[i].errors);
	return 0;
}
