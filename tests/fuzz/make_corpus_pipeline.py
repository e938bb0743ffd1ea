#!/usr/bin/python3
"""Regenerate the seed corpus of tests/fuzz/fuzz_pipeline.c.

    /usr/bin/python3 tests/fuzz/make_corpus_pipeline.py [OUTDIR]

Each seed is a sequence: two settings bytes, then records
[flags][length, 2 bytes big endian][packet from its IP header] (the layout
is documented at the top of fuzz_pipeline.c). Every record here sets
FIX (the harness repairs checksums, so that mutations get past the
parser); records that answer the engine also set ANSWER, which makes the
harness copy in the addresses and ports of the last packet the engine let
out of that family, because masks come from RFC 6056 hashing and can't be
written down here. Packets are built with scapy; the addresses of ANSWER
records are placeholders. Output is deterministic (fixed IDs, no random
fields), so regenerating does not churn the repository.
"""
import os
import struct
import sys

from scapy.all import (ICMP, IP, IPv6, IPv6ExtHdrFragment, ICMPv6DestUnreach,
                       ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                       ICMPv6TimeExceeded, TCP, UDP, Raw)

# Record flags (fuzz_pipeline.c).
FIX = 0x01
SMALL_TAIL = 0x02
TICK = 0x20
ANSWER = 0x40
VNET = 0x80          # the packet starts with a 10-byte virtio_net_hdr
MISROUTE = 0x8000    # top bit of the length: the other worker than steering's
# Clock steps: index into time_step[], shifted into bits 2-4.
T_1MS, T_1S, T_FRAG, T_SYN, T_ICMP, T_UDP, T_TCP_EST = range(1, 8)

# Settings byte 0.
HOP_COMP, ADF, DROP_EXT_TCP, DROP_ICMP6_INFO = 0x01, 0x02, 0x04, 0x08
SMALL_MTU = 0x80
# Settings byte 1.
TWO_WORKERS = 0x40

H6 = "2001:db8::1"          # an IPv6 host
H6B = "2001:db8::2"         # the IPv6 host of the static TCP entry (port 80)
R6 = "64:ff9b::c633:6402"   # 198.51.100.2 as seen from IPv6
H4 = "198.51.100.2"         # an IPv4 host
ST4 = "192.0.2.2"           # the static entry's mask, port 1010
ST6 = "64:ff9b::c000:202"   # the same, as seen from IPv6 (hairpinning)
PLACE4 = "192.0.2.1"        # placeholder mask, rewritten by ANSWER
PAYLOAD = Raw(b"nat64d pipeline seed")


def ip6(src=H6, dst=R6, **kw):
    return IPv6(src=src, dst=dst, hlim=64, fl=0, **kw)


def ip4(src=H4, dst=PLACE4, **kw):
    kw.setdefault("id", 0x1234)
    kw.setdefault("flags", "DF")
    return IP(src=src, dst=dst, ttl=64, **kw)


def rec(pkt, flags=FIX, step=0, misroute=False):
    data = bytes(pkt) if pkt is not None else b""
    field = len(data) | (MISROUTE if misroute else 0)
    return bytes([flags | (step << 2)]) + struct.pack(">H", field) + data


# virtio_net_hdr (little-endian fields), gso.h.
NEEDS_CSUM = 1
GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 = 0, 1, 4, 5


def vnet(pkt, flags=NEEDS_CSUM, gso_type=GSO_NONE, gso_size=0, rflags=FIX, step=0,
         misroute=False, csum_start=None):
    """A record with an offload header: csum_start is the L4 offset of the
    packet (no options or extension headers here), csum_offset TCP's or
    UDP's; FIX makes the harness write the pseudo-header sum in."""
    raw = bytes(pkt)
    l4 = 40 if raw[0] >> 4 == 6 else (raw[0] & 15) * 4
    proto = raw[6] if raw[0] >> 4 == 6 else raw[9]
    off = 16 if proto == 6 else 6
    thl = (raw[l4 + 12] >> 4) * 4 if proto == 6 else 8
    hdr = struct.pack("<BBHHHH", flags, gso_type, l4 + thl if gso_type else 0, gso_size,
                      l4 if csum_start is None else csum_start, off)
    return rec(hdr + raw, rflags | VNET, step, misroute)


def seq(settings, *records):
    return bytes(settings) + b"".join(records)


def frag4(whole, size):
    """Cut an IPv4 packet (scapy, flags 0) into fragments of `size` payload bytes."""
    raw = bytes(whole)
    hdr, body = raw[:20], raw[20:]
    out = []
    for off in range(0, len(body), size):
        f = IP(hdr) / Raw(body[off:off + size])
        f.flags = "MF" if off + size < len(body) else 0
        f.frag = off // 8
        f.len = None
        f.chksum = None
        out.append(f)
    return out


def frag6(inner, nh, size, ident):
    """Cut the payload `inner` (bytes after the IPv6 header) into fragments."""
    out = []
    for off in range(0, len(inner), size):
        more = 1 if off + size < len(inner) else 0
        out.append(ip6(nh=44) / IPv6ExtHdrFragment(nh=nh, id=ident, offset=off // 8, m=more) /
                   Raw(inner[off:off + size]))
    return out


def tcp6(flags, seq_no=1000, ack=0, **kw):
    return ip6(**kw) / TCP(sport=40000, dport=80, flags=flags, seq=seq_no, ack=ack, window=8192)


def tcp4(flags, seq_no=5000, ack=0, **kw):
    return ip4(**kw) / TCP(sport=80, dport=1000, flags=flags, seq=seq_no, ack=ack, window=8192)


def seeds():
    base = b"\x00\x00"
    # TCP, the whole life of a connection opened from IPv6.
    yield "tcp6-open-close", seq(
        base,
        rec(tcp6("S")),
        rec(tcp4("SA", ack=1001), FIX | ANSWER),
        rec(tcp6("A", 1001, 5001)),
        rec(tcp6("PA", 1001, 5001) / PAYLOAD, FIX, T_1MS),
        rec(tcp4("A", 5001, 1021), FIX | ANSWER),
        rec(tcp6("FA", 1021, 5001), FIX, T_1S),
        rec(tcp4("FA", 5001, 1022), FIX | ANSWER),
        rec(tcp6("A", 1022, 5002)),
        rec(None, FIX | TICK, T_UDP))
    # Established, idle past the timeout: probed, the node answers.
    yield "tcp6-probe", seq(
        base,
        rec(tcp6("S")),
        rec(tcp4("SA", ack=1001), FIX | ANSWER),
        rec(tcp6("A", 1001, 5001)),
        rec(None, FIX | TICK, T_TCP_EST),
        rec(ip6(src=R6, dst=H6) / TCP(sport=80, dport=40000, flags="R"), FIX | ANSWER))
    # RST closes, then the same flow again.
    yield "tcp6-rst", seq(
        b"\x10\x00",
        rec(tcp6("S")),
        rec(tcp4("SA", ack=1001), FIX | ANSWER),
        rec(tcp6("R", 1001)),
        rec(tcp6("S"), FIX, T_1S))
    # Inbound through the static entry, answered from IPv6.
    yield "tcp4-static", seq(
        base,
        rec(ip4(dst=ST4) / TCP(sport=5555, dport=1010, flags="S", seq=77)),
        rec(ip6(src=H6B, dst=R6) / TCP(sport=80, dport=5555, flags="SA", ack=78),
            FIX | ANSWER),
        rec(ip4(dst=ST4) / TCP(sport=5555, dport=1010, flags="A", seq=78, ack=1)))
    # Same under address-dependent filtering: a second remote is stored (type 2).
    yield "tcp4-static-adf", seq(
        bytes([ADF, 0]),
        rec(ip4(dst=ST4) / TCP(sport=5555, dport=1010, flags="S", seq=77)),
        rec(ip4(src="198.51.100.9", dst=ST4) / TCP(sport=5556, dport=1010, flags="S")),
        rec(None, FIX | TICK, T_SYN))
    # Simultaneous open: a v4 SYN to a free pool4 taddr is stored (type 1),
    # then the IPv6 SYN toward its sender.
    yield "tcp4-simultaneous-open", seq(
        base,
        rec(ip4(dst="192.0.2.1") / TCP(sport=6000, dport=1005, flags="S", seq=9)),
        rec(ip6() / TCP(sport=41000, dport=6000, flags="S", seq=99), FIX, T_1S))
    # Stored SYNs that time out (ICMP errors from nat64_tick), queue full.
    yield "tcp4-syn-queue", seq(
        base,
        *[rec(ip4(dst="192.0.2.%d" % (i % 4)) /
              TCP(sport=6000 + i, dport=1000 + i, flags="S", seq=i)) for i in range(6)],
        rec(None, FIX | TICK, T_SYN))
    yield "tcp4-no-bib-drop-external", seq(
        bytes([DROP_EXT_TCP, 0]),
        rec(ip4(dst="192.0.2.3") / TCP(sport=6000, dport=1001, flags="S")))
    # Hairpinning: H6 reaches H6B through the static entry's mask, and back.
    yield "tcp6-hairpin", seq(
        base,
        rec(ip6(dst=ST6) / TCP(sport=40001, dport=1010, flags="S", seq=3)),
        rec(ip6(src=H6B, dst=ST6) / TCP(sport=80, dport=1, flags="SA", seq=8, ack=4),
            FIX | ANSWER),
        rec(ip6(dst=ST6) / UDP(sport=40001, dport=1010) / PAYLOAD))
    # UDP: out, back, expiry, back again (no session any more).
    yield "udp6-flow-expiry", seq(
        base,
        rec(ip6() / UDP(sport=40000, dport=53) / PAYLOAD),
        rec(ip4() / UDP(sport=53, dport=1) / PAYLOAD, FIX | ANSWER),
        rec(ip4(flags=0) / UDP(sport=53, dport=1, chksum=0) / PAYLOAD, FIX | ANSWER),
        rec(None, FIX | TICK, T_UDP),
        rec(ip4() / UDP(sport=53, dport=1) / PAYLOAD, FIX | ANSWER))
    # UDP from one host to many ports: its mask address fills (16 ports),
    # then max-sessions-per-host (32).
    yield "udp6-per-host-limit", seq(
        base,
        *[rec(ip6() / UDP(sport=20000 + i, dport=53)) for i in range(34)])
    # Four hosts: pool4 (64 UDP taddrs) runs out, with max-iterations 4.
    yield "udp6-pool4-exhaustion", seq(
        b"\x00\x10",
        *[rec(ip6(src="2001:db8::%x" % (0x10 + i // 20)) / UDP(sport=30000 + i, dport=53))
          for i in range(70)])
    # ICMP echo both ways, and an ICMPv6 informational drop.
    yield "icmp6-echo", seq(
        base,
        rec(ip6() / ICMPv6EchoRequest(id=0x77, seq=1) / PAYLOAD),
        rec(ip4(flags=0) / ICMP(type=0, id=1, seq=1) / PAYLOAD, FIX | ANSWER),
        rec(ip6() / ICMPv6EchoRequest(id=0x77, seq=2) / PAYLOAD, FIX, T_1S),
        rec(None, FIX | TICK, T_ICMP))
    yield "icmp6-echo-drop-info", seq(
        bytes([DROP_ICMP6_INFO, 0]),
        rec(ip6() / ICMPv6EchoRequest(id=0x78, seq=1)))
    # ICMP errors about live flows, both directions.
    yield "icmp4-err-port-unreach", seq(
        base,
        rec(ip6() / UDP(sport=40000, dport=53) / PAYLOAD),
        rec(ip4() / ICMP(type=3, code=3) / IP(src=PLACE4, dst=H4) / UDP(sport=1, dport=53) /
            PAYLOAD, FIX | ANSWER))
    yield "icmp4-err-frag-needed", seq(
        base,
        rec(tcp6("S")),
        rec(ip4(src="203.0.113.254") / ICMP(type=3, code=4, nexthopmtu=1400) /
            IP(src=PLACE4, dst=H4) / TCP(sport=1, dport=80, flags="S"), FIX | ANSWER))
    yield "icmp6-err-about-inbound", seq(
        base,
        rec(ip4(dst=ST4) / TCP(sport=5555, dport=1010, flags="S", seq=77)),
        rec(ip6(src=H6B, dst=R6) / ICMPv6DestUnreach(code=4) /
            IPv6(src=R6, dst=H6B) / TCP(sport=5555, dport=80, flags="S"), FIX | ANSWER),
        rec(ip6(src="2001:db8::fe", dst=R6) / ICMPv6PacketTooBig(mtu=1280) /
            IPv6(src=R6, dst=H6B) / TCP(sport=5555, dport=80, flags="S"), FIX | ANSWER))
    # Errors the engine originates: no BIB (4->6), hop limit (6->4), too big.
    yield "err-no-bib-and-hop-limit", seq(
        base,
        rec(ip4(dst="192.0.2.3") / UDP(sport=53, dport=1002)),
        rec(IPv6(src=H6, dst=R6, hlim=1) / UDP(sport=40000, dport=53)),
        rec(ip6() / ICMPv6TimeExceeded() / IPv6(src=R6, dst=H6) / UDP(sport=53, dport=1)))
    yield "too-big-both-ways", seq(
        bytes([SMALL_MTU, 0]),
        rec(ip6() / UDP(sport=40000, dport=53) / PAYLOAD),
        rec(ip6() / UDP(sport=40000, dport=53) / Raw(b"b" * 1300)),
        rec(ip4() / UDP(sport=53, dport=1) / Raw(b"c" * 1300), FIX | ANSWER))
    # Split on the way out: 4->6 DF clear above 1280, 6->4 above mtu4 576.
    yield "split-both-ways", seq(
        bytes([SMALL_MTU, 0]),
        rec(ip6() / UDP(sport=40000, dport=53) / Raw(b"d" * 1000)),
        rec(ip4(flags=0) / UDP(sport=53, dport=1) / Raw(b"e" * 1400), FIX | ANSWER))
    # Reassembly: IPv6 fragments out (the last first), IPv4 fragments back.
    u6 = bytes(UDP(sport=40000, dport=53, chksum=0x1234) / Raw(b"f" * 1200))
    f6 = frag6(u6, 17, 616, 0xabcd)
    w4 = ip4(flags=0, id=0x5555) / UDP(sport=53, dport=1) / Raw(b"g" * 900)
    f4 = frag4(w4, 456)
    yield "frag-reassembly", seq(
        base,
        rec(f6[1]), rec(f6[0]),
        *[rec(f, FIX | ANSWER) for f in f4])
    # Incomplete datagrams: reassembly timeout, Time Exceeded code 1.
    yield "frag-timeout", seq(
        base,
        rec(f6[0]),
        rec(frag4(ip4(flags=0, id=0x6666, dst=ST4) / UDP(sport=53, dport=1010) /
                  Raw(b"h" * 900), 456)[0]),
        rec(None, FIX | TICK, T_FRAG))
    # A first fragment without ports (ICMP type 1: no identifier) times out:
    # the Time Exceeded quotes what our parser can't (the harness's
    # check_error_by_hand). First found by the fuzzer.
    yield "frag4-timeout-no-ports", seq(
        base,
        rec(frag4(ip4(flags=0, id=0x7777) / ICMP(type=1) / Raw(b"i" * 600), 304)[0]),
        rec(None, FIX | TICK, T_FRAG))
    # An atomic fragment (RFC 6946) and the small-tailroom buffer.
    yield "frag6-atomic-small-tail", seq(
        bytes([HOP_COMP, 0]),
        rec(ip6(nh=44) / IPv6ExtHdrFragment(nh=17, id=7, offset=0, m=0) /
            UDP(sport=40000, dport=53) / PAYLOAD, FIX | SMALL_TAIL),
        rec(ip4(flags=0) / ICMP(type=3, code=1) / IP(src=PLACE4, dst=H4) /
            UDP(sport=1, dport=53) / Raw(b"x" * 200), FIX | SMALL_TAIL | ANSWER))
    # Echo reply with the translator off, then a rate of 1 error per second.
    yield "disabled", seq(b"\x00\x20", rec(ip6() / ICMPv6EchoReply(id=1)))
    yield "icmp-rate-limit", seq(
        b"\x00\x02",
        *[rec(ip4(dst="192.0.2.3") / UDP(sport=53, dport=1002 + i)) for i in range(3)])

    # ---- Two workers (settings byte 1 TWO_WORKERS): share {0,2}, {1,2};
    # port p is worker (p >> 1) % 2's. Static entry 192.0.2.2#1010: worker 1.
    two = bytes([0, TWO_WORKERS])
    # A UDP flow made by the owner of its source port (40002: worker 1);
    # the answer steered right, then misrouted (handed back to the owner).
    yield "w2-udp6-misrouted-answer", seq(
        two,
        rec(ip6() / UDP(sport=40002, dport=53) / PAYLOAD),
        rec(ip4() / UDP(sport=53, dport=1) / PAYLOAD, FIX | ANSWER),
        rec(ip4() / UDP(sport=53, dport=1) / PAYLOAD, FIX | ANSWER, misroute=True),
        rec(ip6() / UDP(sport=40002, dport=53) / PAYLOAD, FIX, misroute=True))
    # Hairpin from worker 0's source port to the static entry (worker 1's):
    # the IPv4 half is handed over.
    yield "w2-tcp6-hairpin", seq(
        two,
        rec(ip6(dst=ST6) / TCP(sport=40000, dport=1010, flags="S", seq=3)),
        rec(ip6(src=H6B, dst=ST6) / TCP(sport=80, dport=1, flags="SA", seq=8, ack=4),
            FIX | ANSWER),
        rec(ip6(dst=ST6) / UDP(sport=40000, dport=1010) / PAYLOAD))
    # Inbound through the static entry; the IPv6 server's answer (port 80:
    # worker 0) goes over to worker 1.
    yield "w2-tcp4-static", seq(
        two,
        rec(ip4(dst=ST4) / TCP(sport=5555, dport=1010, flags="S", seq=77)),
        rec(ip6(src=H6B, dst=R6) / TCP(sport=80, dport=5555, flags="SA", ack=78),
            FIX | ANSWER),
        rec(ip4(dst=ST4) / TCP(sport=5555, dport=1010, flags="A", seq=78, ack=1)))
    # Worker 0's share (32 UDP taddrs) runs out: new flows overflow to
    # worker 1, which maps them from its own share until it is full too.
    yield "w2-udp6-pool4-overflow", seq(
        two,
        *[rec(ip6(src="2001:db8::%x" % (0x10 + i // 24)) / UDP(sport=30000 + 4 * i, dport=53))
          for i in range(70)])
    # IPv4 fragments steered by source (worker 0) for a mask of worker 1:
    # reassembled, then handed over with their Identification.
    w4 = ip4(flags=0, id=0x4444) / UDP(sport=53, dport=1) / Raw(b"j" * 900)
    yield "w2-frag4-handoff", seq(
        two,
        rec(ip6() / UDP(sport=40002, dport=53) / PAYLOAD),
        *[rec(f, FIX | ANSWER) for f in frag4(w4, 456)])
    # ---- Offload headers (record flag VNET).
    # A TCP super-packet of an established flow, translated once (TSO).
    est = [rec(tcp6("S")),
           rec(tcp4("SA", ack=1001), FIX | ANSWER),
           rec(tcp6("A", 1001, 5001))]
    yield "gso-tcp6-super", seq(
        base, *est,
        vnet(tcp6("PA", 1001, 5001) / Raw(b"k" * 1400), gso_type=GSO_TCPV6, gso_size=500),
        vnet(tcp4("A", 5001, 2401) / Raw(b"l" * 1200), gso_type=GSO_TCPV4, gso_size=400,
             rflags=FIX | ANSWER))
    # Small MTUs: the segments would not fit once translated, so the
    # engine asks for software segmentation.
    yield "gso-tcp6-segmented", seq(
        bytes([SMALL_MTU, 0]), *est,
        vnet(tcp6("PA", 1001, 5001) / Raw(b"m" * 2000), gso_type=GSO_TCPV6, gso_size=1000))
    # A super-packet to segment whose csum_start is not its TCP header:
    # dropped, not cut with payload taken for the header. First found by
    # the fuzzer.
    yield "gso-tcp6-csum-start-elsewhere", seq(
        bytes([SMALL_MTU, 0]), *est,
        vnet(tcp6("PA", 1001, 5001) / Raw(b"q" * 2000), gso_type=GSO_TCPV6, gso_size=1000,
             csum_start=59))
    # Partial checksums: TCP stays partial, UDP is finished, USO.
    yield "gso-csum-partial", seq(
        base, *est,
        vnet(tcp6("PA", 1001, 5001) / PAYLOAD),
        vnet(ip6() / UDP(sport=40000, dport=53) / PAYLOAD),
        vnet(ip6() / UDP(sport=40000, dport=53) / Raw(b"n" * 1000), gso_type=GSO_UDP_L4,
             gso_size=300),
        vnet(tcp4("A", 5001, 1021) / PAYLOAD, rflags=FIX | ANSWER))
    # Two workers: a partial-checksum TCP SYN hairpinned to worker 1's
    # static entry, a super-packet handed over with its header.
    yield "w2-gso-hairpin-partial", seq(
        two,
        vnet(ip6(dst=ST6) / TCP(sport=40000, dport=1010, flags="S", seq=3)),
        rec(ip6(src=H6B, dst=ST6) / TCP(sport=80, dport=1, flags="SA", seq=8, ack=4),
            FIX | ANSWER),
        vnet(ip6(dst=ST6) / TCP(sport=40000, dport=1010, flags="A", seq=4, ack=9) /
             Raw(b"o" * 300)))
    yield "w2-gso-super-misrouted", seq(
        two, *est,
        vnet(tcp4("A", 5001, 1001) / Raw(b"p" * 1200), gso_type=GSO_TCPV4, gso_size=400,
             rflags=FIX | ANSWER, misroute=True))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(__file__), "corpus_pipeline")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name:28} {len(data):5} bytes")


if __name__ == "__main__":
    main()
