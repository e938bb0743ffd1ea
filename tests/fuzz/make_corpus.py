#!/usr/bin/python3
"""Regenerate the seed corpus of tests/fuzz/fuzz_translate.c.

    /usr/bin/python3 tests/fuzz/make_corpus.py [OUTDIR]

Each seed is: one selector byte (bit 0: 0 = IPv6 packet, translated 6->4;
1 = IPv4 packet, translated 4->6; bit 4: the harness repairs checksums, set
so that mutations of the seeds get past the parser), one byte for the
IPv6-side MTU and one
for the IPv4-side MTU (0x01 selects 1500 in mtu_from_byte()), then the
packet from its IP header on. Checksums are computed by scapy, so every
seed parses; the fuzzer takes it from there. Output is deterministic (fixed
IDs, no random fields) so regenerating does not churn the repository.
"""
import os
import sys

from scapy.contrib.icmp_extensions import ICMPExtensionHeader, ICMPExtensionMPLS
from scapy.all import (ICMP, IP, IPOption_NOP, IPOption_Router_Alert, IPOption_RR, IPv6,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, ICMPv6DestUnreach,
                       ICMPv6EchoRequest, ICMPv6PacketTooBig, ICMPv6ParamProblem,
                       ICMPv6TimeExceeded, TCP, UDP, RouterAlert, Raw)

FIXUP = 0x10
TO4 = 0x00 | FIXUP  # IPv6 in, 6->4
TO6 = 0x01 | FIXUP  # IPv4 in, 4->6
MTU1500 = b"\x01\x01"

H6 = "2001:db8::1"          # IPv6 host
R6 = "64:ff9b::c633:6402"   # 198.51.100.2 as seen from IPv6
H4 = "198.51.100.2"         # IPv4 host
M4 = "192.0.2.1"            # pool4 address masking H6


def ip6(src=H6, dst=R6, **kw):
    return IPv6(src=src, dst=dst, hlim=64, fl=0, **kw)


def ip4(src=H4, dst=M4, **kw):
    kw.setdefault("id", 0x1234)
    kw.setdefault("flags", "DF")
    return IP(src=src, dst=dst, ttl=64, **kw)


def udp6_quote():
    """A UDP datagram 64:ff9b::198.51.100.2 -> 2001:db8::1 (it came from
    IPv4 and was translated), as quoted by an ICMPv6 error from the host."""
    return IPv6(src=R6, dst=H6, hlim=63, fl=0) / UDP(sport=80, dport=40000) / Raw(b"q" * 24)


def udp4_quote():
    """A UDP datagram 192.0.2.1 -> 198.51.100.2 (from the IPv6 side,
    translated), as quoted by an ICMPv4 error."""
    return IP(src=M4, dst=H4, ttl=63, id=0x4321, flags="DF") / UDP(sport=61000, dport=80) / \
        Raw(b"q" * 24)


def echo6_quote():
    """An echo request translated 4->6 earlier, quoted back."""
    return IPv6(src=R6, dst=H6, hlim=1, fl=0) / ICMPv6EchoRequest(id=80, seq=9) / Raw(b"p" * 16)


def echo4_quote():
    return IP(src=M4, dst=H4, ttl=1, id=0x4322, flags="DF") / ICMP(type=8, id=61000, seq=9) / \
        Raw(b"p" * 16)


def tcp4_quote():
    return IP(src=M4, dst=H4, ttl=63, id=0x4323, flags="DF") / \
        TCP(sport=61000, dport=80, flags="S", seq=1000)


def tcp6_quote():
    return IPv6(src=R6, dst=H6, hlim=63, fl=0) / TCP(sport=80, dport=40000, flags="SA", seq=7,
                                                     ack=1001)


def rfc4884_ext4():
    """RFC 4884 / RFC 4950: an extension structure with one MPLS label."""
    return ICMPExtensionHeader() / ICMPExtensionMPLS(stack=[])


def seeds():
    payload = Raw(b"nat64d fuzz seed")
    big = Raw(bytes(range(256)) * 4)  # 1024 bytes, fragmented below
    yield "v6-tcp-syn", TO4, ip6() / TCP(sport=40000, dport=80, flags="S", seq=1000,
                                          options=[("MSS", 1440)])
    yield "v6-udp", TO4, ip6() / UDP(sport=40000, dport=53) / payload
    yield "v6-icmp-echo", TO4, ip6() / ICMPv6EchoRequest(id=0x77, seq=1) / payload
    yield "v6-err-dest-unreach-port", TO4, ip6(src=H6, dst=R6) / \
        ICMPv6DestUnreach(code=4) / udp6_quote()
    yield "v6-err-ptb-1400", TO4, ip6(src="2001:db8::fe", dst=R6) / \
        ICMPv6PacketTooBig(mtu=1400) / udp6_quote()
    yield "v6-err-time-exceeded", TO4, ip6(src="2001:db8::fe", dst=R6) / \
        ICMPv6TimeExceeded(code=0) / udp6_quote()
    yield "v6-err-param-problem", TO4, ip6(src=H6, dst=R6) / \
        ICMPv6ParamProblem(code=0, ptr=7) / udp6_quote()
    frag = IPv6ExtHdrFragment(id=0xabcd, offset=0, m=1)
    yield "v6-hbh-frag-first", TO4, ip6() / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / \
        frag / UDP(sport=40000, dport=53, len=8 + 1024, chksum=0x1234) / Raw(b"f" * 504)
    yield "v6-frag-nonfirst", TO4, ip6(nh=44) / \
        IPv6ExtHdrFragment(nh=17, id=0xabcd, offset=64, m=0) / Raw(b"g" * 520)

    yield "v4-tcp-syn", TO6, ip4() / TCP(sport=80, dport=61000, flags="SA", seq=5, ack=1001,
                                          options=[("MSS", 1460)])
    yield "v4-udp", TO6, ip4() / UDP(sport=53, dport=61000) / payload
    yield "v4-udp-zero-csum", TO6, ip4() / UDP(sport=53, dport=61000, chksum=0) / payload
    yield "v4-icmp-echo-reply", TO6, ip4() / ICMP(type=0, id=61000, seq=1) / payload
    yield "v4-err-port-unreach", TO6, ip4() / ICMP(type=3, code=3) / udp4_quote()
    yield "v4-err-frag-needed-mtu0", TO6, ip4(src="203.0.113.254") / \
        ICMP(type=3, code=4, nexthopmtu=0) / udp4_quote()
    yield "v4-err-frag-needed-1400", TO6, ip4(src="203.0.113.254") / \
        ICMP(type=3, code=4, nexthopmtu=1400) / udp4_quote()
    yield "v4-err-time-exceeded", TO6, ip4(src="203.0.113.254") / \
        ICMP(type=11, code=0) / udp4_quote()
    yield "v4-err-param-problem", TO6, ip4() / ICMP(type=12, code=0, ptr=8) / udp4_quote()
    yield "v4-options", TO6, ip4(options=[IPOption_Router_Alert(), IPOption_NOP(),
                                          IPOption_RR(pointer=4, routers=["0.0.0.0"])]) / \
        UDP(sport=53, dport=61000) / payload
    # ICMP errors quoting TCP and ICMP echo, and RFC 4884 extensions.
    yield "v6-err-dest-unreach-echo", TO4, ip6(src="2001:db8::fe", dst=R6) / \
        ICMPv6DestUnreach(code=0) / echo6_quote()
    yield "v6-err-time-exceeded-tcp", TO4, ip6(src="2001:db8::fe", dst=R6) / \
        ICMPv6TimeExceeded(code=0) / tcp6_quote()
    yield "v6-err-dest-unreach-rfc4884", TO4, ip6(src="2001:db8::fe", dst=R6) / \
        ICMPv6DestUnreach(code=3, length=16) / Raw(bytes(udp6_quote()).ljust(128, b"\0")) / \
        Raw(bytes(rfc4884_ext4()))
    yield "v4-err-time-exceeded-echo", TO6, ip4(src="203.0.113.254") / ICMP(type=11, code=0) / \
        echo4_quote()
    yield "v4-err-host-unreach-tcp", TO6, ip4(src="203.0.113.254") / ICMP(type=3, code=1) / \
        tcp4_quote()
    yield "v4-err-admin-prohibited", TO6, ip4(src="203.0.113.254") / ICMP(type=3, code=13) / \
        udp4_quote()
    yield "v4-err-time-exceeded-rfc4884", TO6, ip4(src="203.0.113.254") / \
        ICMP(type=11, code=0, length=32) / Raw(bytes(udp4_quote()).ljust(128, b"\0")) / \
        Raw(bytes(rfc4884_ext4()))
    whole = ip4(flags=0, id=0x5555) / UDP(sport=53, dport=61000) / big
    raw = bytes(whole)
    hdr, body = raw[:20], raw[20:]
    first = IP(hdr) / Raw(body[:512])
    first.flags = "MF"
    first.len = None
    first.chksum = None
    yield "v4-frag-first", TO6, first
    rest = IP(hdr) / Raw(body[512:])
    rest.frag = 512 // 8
    rest.flags = 0
    rest.len = None
    rest.chksum = None
    yield "v4-frag-nonfirst", TO6, rest


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, sel, pkt in seeds():
        data = bytes([sel]) + MTU1500 + bytes(pkt)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name:28} {len(data):5} bytes")


if __name__ == "__main__":
    main()
