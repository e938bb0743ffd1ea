"""Fragments through nat64d (docs/fragments.md): reassembled before translation, split
again for the other side's size, in the topology of test_pmtu.py (routers whose next hop
is 1400 bytes on each side).

Datagrams the kernels fragment (8000 bytes of UDP both ways), and fragments built with
scapy and sent through raw sockets (out of order, first fragment last, overlapping,
duplicated, a checksum of zero, a flood of incomplete datagrams). What arrives is read by
a UDP socket on the far host, so "intact" means: the length, the SHA-256 of the bytes
and the peer's address and port are the ones sent, and the receiving kernel accepted
the checksum. Counters come from `nat64 stats display --json`.
"""

import hashlib
import os
import random

import pytest

from conftest import POOL4, poll
from test_pmtu import (CLIENT6, PY, SERVER4, SERVER6, counters, routed,  # noqa: F401
                       start_translator, static_icmp_config)

try:
    from scapy.all import IP, UDP, IPv6, IPv6ExtHdrFragment, fragment, fragment6
except ImportError:  # pragma: no cover - said by the tests (failed in CI)
    IPv6 = None

# One UDP socket: binds HOST PORT, optionally first sends "hello" to HELLO_HOST
# HELLO_PORT (which opens the NAT64 session for the other way), prints "ready", then one
# line per datagram "LEN SHA256 PEER PORT" until nothing came for IDLE seconds.
SINK = r"""
import hashlib, socket, sys
host, port, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((host, port))
if len(sys.argv) > 5:
    s.sendto(b"hello", (sys.argv[4], int(sys.argv[5])))
s.settimeout(idle)
print("ready", flush=True)
try:
    while True:
        data, peer = s.recvfrom(65535)
        print(len(data), hashlib.sha256(data).hexdigest(), peer[0], peer[1], flush=True)
except socket.timeout:
    pass
"""

# Sends the packets of a file of hex lines through raw sockets (header included: the
# kernel routes them by destination and sends them as they are), in the file's order.
RAWSEND = r"""
import socket, sys
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for line in open(sys.argv[1]):
    pkt = bytes.fromhex(line.strip())
    if pkt[0] >> 4 == 6:
        s6.sendto(pkt, (socket.inet_ntop(socket.AF_INET6, pkt[24:40]), 0))
    else:
        s4.sendto(pkt, (socket.inet_ntop(socket.AF_INET, pkt[16:20]), 0))
print("sent", flush=True)
"""

# "echo PORT": a UDP echo server. "ask HOST PORT SIZE": sends SIZE seeded bytes, prints
# the SHA-256 of what it sent and of the answer.
ECHO = r"""
import hashlib, random, socket, sys
if sys.argv[1] == "echo":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    print("ready", flush=True)
    s.settimeout(30)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)
else:
    data = random.Random(7).randbytes(int(sys.argv[4]))
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(3)
    for attempt in range(3):
        s.sendto(data, (sys.argv[2], int(sys.argv[3])))
        try:
            got = s.recv(65535)
            break
        except socket.timeout:
            got = b""
    print(hashlib.sha256(data).hexdigest(), hashlib.sha256(got).hexdigest(), len(got))
"""


@pytest.fixture
def frag_net(routed):
    if IPv6 is None:
        from conftest import _cannot_run
        _cannot_run("python3-scapy is missing (run scripts/install-deps.sh)")
    return routed


def payload(n, seed):
    return random.Random(seed).randbytes(n)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def send_raw(net, label, ns, pkts, name="pkts.hex"):
    path = net.write_config(name, "".join(bytes(p).hex() + "\n" for p in pkts))
    out = net.run_py(label, ns, "rawsend.py", RAWSEND, [path])
    assert out.strip() == "sent", out


def sink(net, label, ns, host, port, idle=3.0, hello=None):
    args = [host, port, idle] + (list(hello) if hello else [])
    return net.spawn_py(label, ns, "sink.py", SINK, args)


def next_datagram(proc):
    """(len, sha256, peer, port) of the next datagram the sink got, or None once it
    stopped (nothing came for its idle time)."""
    line = proc.stdout.readline().split()
    if not line:
        return None
    return int(line[0]), line[1], line[2], int(line[3])


def moved(before, after, *names):
    return {n: after[n] - before[n] for n in names}


def session_4to6(net, client_port, server_port):
    """A client socket on `client_port` that said hello to the server's `server_port`:
    returns (client sink, the pool4 port the server saw)."""
    server = sink(net, "ns4", net.name4, "0.0.0.0", server_port, idle=3)
    client = sink(net, "ns6", net.name6, "::", client_port, idle=4,
                  hello=(SERVER6, server_port))
    hello = next_datagram(server)
    assert hello is not None and hello[0] == 5 and hello[2] == POOL4, hello
    return client, hello[3]


# ---- whole datagrams the kernels fragment ----

def test_udp_8000_bytes_both_ways_fragmented_arrive_intact(frag_net):
    """8000 bytes of UDP from the client, echoed by the server: the client's IPv6
    fragments are reassembled, translated and split into IPv4 fragments of the 1500-byte
    IPv4 MTU (r4 splits them again for its 1400-byte hop); the server's IPv4 fragments
    are reassembled and split into IPv6 fragments of lowest-ipv6-mtu (1280)."""
    net = frag_net
    _, cli = start_translator(net)
    before = counters(cli)
    net.spawn_py("ns4", net.name4, "echo.py", ECHO, ["echo", 7007])
    out = net.run_py("ns6", net.name6, "echo.py", ECHO, ["ask", SERVER6, 7007, 8000]).split()
    assert out[0] == out[1] and out[2] == "8000", out
    moves = moved(before, counters(cli), "FRAG_REASSEMBLED", "FRAGMENTED_OUT",
                  "FRAGMENTS_SENT")
    assert moves["FRAG_REASSEMBLED"] >= 2 and moves["FRAGMENTED_OUT"] >= 2, moves
    # 8028 bytes of IPv4 in fragments of 1500: 6; 8048 of IPv6 in 1280: 7.
    assert moves["FRAGMENTS_SENT"] >= 13, moves


# ---- fragments built with scapy ----

def fragments6(data, sport, dport, ident, size=1280):
    pkt = (IPv6(src=CLIENT6, dst=SERVER6) / IPv6ExtHdrFragment(id=ident) /
           UDP(sport=sport, dport=dport) / data)
    return fragment6(pkt, size)


def fragments4(data, sport, dport, ident, size=1480, chksum=None):
    udp = UDP(sport=sport, dport=dport)
    if chksum is not None:
        udp.chksum = chksum
    return fragment(IP(src=SERVER4, dst=POOL4, id=ident) / udp / data, fragsize=size)


@pytest.mark.parametrize("order", ["first_last", "shuffled"])
def test_ipv6_fragments_out_of_order_arrive_intact(frag_net, order):
    """RFC 6146 §3.4: the first fragment (with the ports) may come last."""
    net = frag_net
    _, cli = start_translator(net)
    data = payload(5000, 1)
    frags = fragments6(data, 40001, 7010, 0x1234)
    assert len(frags) == 5
    frags = frags[::-1] if order == "first_last" else \
        [frags[i] for i in (2, 4, 0, 3, 1)]
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7010)
    before = counters(cli)
    send_raw(net, "ns6", net.name6, frags)
    got = next_datagram(server)
    assert got is not None and got[:3] == (5000, sha(data), POOL4), got
    m = moved(before, counters(cli), "FRAG_HELD", "FRAG_REASSEMBLED")
    assert m == {"FRAG_HELD": 4, "FRAG_REASSEMBLED": 1}, m


def test_ipv4_fragments_out_of_order_arrive_intact(frag_net):
    """The same 4->6: IPv4 fragments in reverse order to the client's pool4 taddr."""
    net = frag_net
    _, cli = start_translator(net)
    client, port = session_4to6(net, 40002, 7011)
    data = payload(4000, 2)
    frags = fragments4(data, 7011, port, 0x4321)[::-1]
    assert len(frags) == 3
    send_raw(net, "ns4", net.name4, frags)
    got = next_datagram(client)
    assert got is not None and got == (4000, sha(data), SERVER6, 7011), got


def test_overlapping_fragments_discard_the_datagram(frag_net):
    """RFC 5722 §4: an IPv6 fragment overlapping another discards its whole datagram,
    silently, and the rest of it is dropped as it comes (FRAG_DISCARDED); nat64d treats
    IPv4 overlaps the same way (docs/fragments.md). Traffic after it is unaffected."""
    net = frag_net
    _, cli = start_translator(net)
    data = payload(2000, 3)
    whole = bytes(IPv6ExtHdrFragment(id=77, nh=17) / UDP(sport=40003, dport=7012) / data)
    udp = whole[8:]
    hdr = IPv6(src=CLIENT6, dst=SERVER6)
    f1 = hdr / IPv6ExtHdrFragment(id=77, nh=17, offset=0, m=1) / udp[:1232]
    f2 = hdr / IPv6ExtHdrFragment(id=77, nh=17, offset=1224 // 8, m=1) / udp[1224:1240]
    f3 = hdr / IPv6ExtHdrFragment(id=77, nh=17, offset=1232 // 8, m=0) / udp[1232:]
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7012, idle=2)
    before = counters(cli)
    send_raw(net, "ns6", net.name6, [f1, f2, f3])
    assert next_datagram(server) is None, "an overlapping datagram was delivered"
    m = moved(before, counters(cli), "FRAG_OVERLAP", "FRAG_DISCARDED", "FRAG_REASSEMBLED")
    assert m == {"FRAG_OVERLAP": 1, "FRAG_DISCARDED": 1, "FRAG_REASSEMBLED": 0}, m

    client, port = session_4to6(net, 40004, 7013)
    data4 = payload(3000, 4)
    a, b, c = fragments4(data4, 7013, port, 0x0505)
    bad = IP(bytes(b))
    bad.frag -= 1  # 8 bytes over the first fragment
    del bad.chksum
    before = counters(cli)
    send_raw(net, "ns4", net.name4, [a, bad, c])
    assert next_datagram(client) is None, "an overlapping IPv4 datagram was delivered"
    assert moved(before, counters(cli), "FRAG_OVERLAP")["FRAG_OVERLAP"] == 1


def test_duplicate_fragments_dropped_datagram_delivered_once(frag_net):
    """RFC 8200 §4.5: an exact duplicate is dropped and its datagram kept."""
    net = frag_net
    _, cli = start_translator(net)
    data = payload(3000, 5)
    f = fragments6(data, 40005, 7014, 0x99)
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7014, idle=2)
    before = counters(cli)
    send_raw(net, "ns6", net.name6, [f[1], f[0], f[1], f[2]])
    assert next_datagram(server)[:3] == (3000, sha(data), POOL4)
    assert next_datagram(server) is None, "delivered twice"
    m = moved(before, counters(cli), "FRAG_DUPLICATE", "FRAG_REASSEMBLED")
    assert m == {"FRAG_DUPLICATE": 1, "FRAG_REASSEMBLED": 1}, m


@pytest.mark.parametrize("amend", [True, False])
def test_udp_zero_checksum_in_fragments_per_setting(frag_net, amend):
    """IPv4 UDP sent in fragments with checksum 0 (RFC 768: none computed). IPv6 needs
    one (RFC 8200 §8.1): amend-udp-checksum-zero true computes it on the reassembled
    datagram, and the client's kernel accepts it; false drops it, counted."""
    net = frag_net
    cfg = static_icmp_config({"amend-udp-checksum-zero": amend})
    _, cli = start_translator(net, cfg)
    client, port = session_4to6(net, 40006, 7015)
    data = payload(3000, 6)
    before = counters(cli)
    send_raw(net, "ns4", net.name4, fragments4(data, 7015, port, 0x0606, chksum=0))
    got = next_datagram(client)
    dropped = moved(before, counters(cli), "XLAT46_UDP_ZERO_CSUM_FRAG")
    if amend:
        assert got == (3000, sha(data), SERVER6, 7015), got
        assert dropped == {"XLAT46_UDP_ZERO_CSUM_FRAG": 0}
    else:
        assert got is None, got
        assert dropped == {"XLAT46_UDP_ZERO_CSUM_FRAG": 1}


# ---- memory bounds ----

FLOOD_SOURCES = ["2001:db8:6::2", "2001:db8:6::31", "2001:db8:6::32", "2001:db8:6::33"]


def test_flood_of_incomplete_fragments_stays_in_budget(frag_net):
    """400 first fragments (1280 bytes each) that never complete, from four addresses,
    against reassembly-budget 300000 and reassembly-source-limit 140000: each address
    stops at its share (FRAG_SOURCE_LIMIT), then the budget is full (FRAG_BUDGET);
    nothing held is evicted. Unfragmented traffic flows meanwhile; once the 2 s
    reassembly-timeout has passed, a fragmented datagram gets through again."""
    net = frag_net
    cfg = static_icmp_config({"reassembly-budget": 300000,
                              "reassembly-source-limit": 140000})
    _, cli = start_translator(net, cfg)
    for addr in FLOOD_SOURCES[1:]:
        net.ns6(f"ip addr add {addr}/64 dev c6 nodad")
    junk = payload(1232, 8)
    pkts = []
    for src in FLOOD_SOURCES:  # one address after the other: each meets its share
        for i in range(100):
            pkts.append(IPv6(src=src, dst=SERVER6) /
                        IPv6ExtHdrFragment(id=0x10000 + i, nh=17, offset=0, m=1) / junk)
    before = counters(cli)
    send_raw(net, "ns6", net.name6, pkts, "flood.hex")
    after = counters(cli)
    m = moved(before, after, "FRAG_HELD", "FRAG_SOURCE_LIMIT", "FRAG_BUDGET")
    assert m["FRAG_SOURCE_LIMIT"] > 0 and m["FRAG_BUDGET"] > 0, m
    # At 512-byte blocks (docs/fragments.md), a held datagram of one 1280-byte fragment
    # costs at least 3 blocks: 300000 bytes hold fewer than 200.
    assert 0 < m["FRAG_HELD"] < 200, m
    assert m["FRAG_HELD"] + m["FRAG_SOURCE_LIMIT"] + m["FRAG_BUDGET"] == 400, m
    assert net.ns6(f"ping -n -c 2 -i 0.2 -W 2 {SERVER6}", check=False).returncode == 0

    held = m["FRAG_HELD"]
    poll("the flood's datagrams freed at reassembly-timeout",
         lambda: counters(cli)["FRAG_TIMEOUT"] - after["FRAG_TIMEOUT"] >= held, timeout=10,
         interval=0.25)
    data = payload(3000, 9)
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7016, idle=3)
    send_raw(net, "ns6", net.name6, fragments6(data, 40007, 7016, 0x7777))
    assert next_datagram(server)[:3] == (3000, sha(data), POOL4)
