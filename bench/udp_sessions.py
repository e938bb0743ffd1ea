#!/usr/bin/env python3
"""UDP packets from many source transport addresses: one new NAT64 session each.

Run by bench_e2e.py in the client namespace. Every (address, port) pair sends
exactly one 64-byte-payload datagram to DST port 9, so through a stateful
translator every packet creates a session (a BIB entry and a session in
nat64d, a conntrack entry for TAYGA's NAT44). Pairs go port-major over the
addresses (port P from every address, then P+1), so the sessions spread over
many hosts as on a real network and no host nears nat64d's
max-sessions-per-host (16384 by default).

A raw IPv6 socket per source address (bound to it, the kernel fills in the
UDP checksum: IPV6_CHECKSUM at offset 6) sends faster than thousands of UDP
sockets and needs no file descriptor per session.

Prints one JSON line: {"sent": N, "seconds": S}.
"""

import argparse
import json
import socket
import struct
import time

PAYLOAD = bytes(range(64))
DST_PORT = 9


def open_sockets(addrs):
    socks = []
    for addr in addrs:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 6)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.bind((addr, 0))
        socks.append(s)
    return socks


def send(socks, dst, first_port, ports, seconds, pps):
    """Returns (packets sent, seconds spent) after every pair or `seconds`."""
    length = 8 + len(PAYLOAD)
    target = (dst, 0)
    sent = 0
    start = time.monotonic()
    deadline = start + seconds
    for port in range(first_port, first_port + ports):
        datagram = struct.pack("!HHHH", port, DST_PORT, length, 0) + PAYLOAD
        for s in socks:
            s.sendto(datagram, target)
        sent += len(socks)
        now = time.monotonic()
        if now > deadline:
            break
        if pps and sent > (now - start) * pps:
            time.sleep(sent / pps - (now - start))
    return sent, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dst", required=True, help="IPv6 destination (port 9)")
    ap.add_argument("--addrs", required=True, help="source addresses, comma-separated")
    ap.add_argument("--first-port", type=int, default=1024)
    ap.add_argument("--ports", type=int, required=True, help="ports per source address")
    ap.add_argument("--seconds", type=float, default=1e9, help="stop after this long")
    ap.add_argument("--pps", type=float, default=0, help="pace (0: as fast as possible)")
    args = ap.parse_args()
    socks = open_sockets(args.addrs.split(","))
    sent, secs = send(socks, args.dst, args.first_port, args.ports, args.seconds, args.pps)
    print(json.dumps({"sent": sent, "seconds": secs}))


if __name__ == "__main__":
    main()
