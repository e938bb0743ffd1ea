"""Malformed packets, built with scapy, thrown at a running nat64d from both sides; after
each one the counters must have moved exactly as expected, and at the end the daemon
still translates, then stops cleanly with no AddressSanitizer/LeakSanitizer report.

Three ways in:
  v6   Ethernet frames sent on c6 to the translator's x6 (the kernel of the translator's
       namespace forwards them to the TUN device: what it refuses itself, e.g. a bad IPv6
       payload length, never reaches nat64d);
  v4   the same on s4 to x4;
  tun  raw packets written on the TUN device itself through an AF_PACKET socket (the
       kernel queues them to nat64d untouched): header-level garbage the kernel would
       have dropped (truncated headers, IPv4 checksums, lengths, options).

Run this file against an AddressSanitizer build of nat64d with:
  make BUILD=build/asan-daemon SANITIZE="-fsanitize=address -fno-omit-frame-pointer" \
       build/asan-daemon/nat64d
  NAT64D=build/asan-daemon/nat64d python3 -m pytest tests/e2e/test_malformed.py
"""

import os
import re
import subprocess

from conftest import CLIENT6, POOL4, POOL6, REPO, SERVER4, SERVER6, _cannot_run, poll

try:
    from scapy.all import (ICMP, IP, TCP, UDP, ICMPv6DestUnreach, ICMPv6ParamProblem,
                           IPerror, IPerror6, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                           IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, UDPerror, checksum)
except ImportError:  # the test says so (skipped on a desk, failed in CI)
    IPv6 = None

FLOW6 = 40000  # the client's UDP source port, mapped to 192.0.2.2#40000 (preserved)
ECHO_PORT = 7000
DISCARD_PORT = 7009  # a server that never answers (no reply to spoil the next count)

# Writes the hex packets it reads, one per line, on an interface: with a destination MAC,
# in an Ethernet frame (veth); without ("-"), as they are (TUN). Acks each with "sent".
SENDER = r"""
import socket, sys
iface, dmac = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW if dmac != "-" else socket.SOCK_DGRAM)
if dmac != "-":
    s.bind((iface, 0))
    smac = s.getsockname()[4]
print("ready", flush=True)
for line in sys.stdin:
    pkt = bytes.fromhex(line.strip())
    etype = 0x86DD if pkt and pkt[0] >> 4 == 6 else 0x0800
    if dmac == "-":
        s.sendto(pkt, (iface, etype))
    else:
        s.send(bytes.fromhex(dmac.replace(":", "")) + smac + etype.to_bytes(2, "big") + pkt)
    print("sent", flush=True)
"""

UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
"""

DISCARD = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    s.recv(65535)
"""

UDP_PING = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[3])))
s.settimeout(3)
s.sendto(b"good packet", (sys.argv[1], int(sys.argv[2])))
print(s.recvfrom(100)[0].decode())
"""


def counter_names():
    """Every counter of core/stats.h (the JSON may carry gauges beside them)."""
    with open(os.path.join(REPO, "core", "stats.h")) as f:
        return set(re.findall(r"^\s*X\((\w+),", f.read(), re.M)) - {"OK"}


# ---- the packets ----

def v6(nh=None, src=CLIENT6, dst=SERVER6, **kw):
    if nh is not None:
        kw["nh"] = nh
    return IPv6(src=src, dst=dst, hlim=64, **kw)


def v4(src=SERVER4, dst=POOL4, **kw):
    return IP(src=src, dst=dst, ttl=64, **kw)


def with_bad_icmp6_checksum(pkt):
    raw = bytearray(bytes(pkt))
    raw[42] ^= 0xFF  # ICMPv6 checksum, right after the 40-byte header and type/code
    return bytes(raw)


def with_bad_icmp4_checksum(pkt):
    raw = bytearray(bytes(pkt))
    raw[22] ^= 0xFF
    return bytes(raw)


def raw4(**fields):
    """20-byte IPv4 header + 8 bytes of UDP to 192.0.2.2#40000, fields overridden after
    scapy computed the rest (ihl, len, chksum stay as given)."""
    return bytes(IP(src=SERVER4, dst=POOL4, ttl=64, **fields) /
                 UDP(sport=ECHO_PORT, dport=FLOW6))


def raw4_options(opts):
    """IPv4 header with the option bytes `opts` (a multiple of 4), a correct checksum,
    and a UDP header to 192.0.2.2#40000."""
    udp = bytes(UDP(sport=ECHO_PORT, dport=FLOW6, len=8, chksum=0))
    hdr = bytearray(bytes(IP(src=SERVER4, dst=POOL4, ttl=64, proto=17, chksum=0))[:20])
    hdr[0] = 0x40 | (5 + len(opts) // 4)
    hdr[2:4] = (20 + len(opts) + len(udp)).to_bytes(2, "big")
    hdr += opts
    hdr[10:12] = checksum(bytes(hdr)).to_bytes(2, "big")
    return bytes(hdr) + udp


def ipv6_payload_len(pkt, plen):
    raw = bytearray(bytes(pkt))
    raw[4:6] = plen.to_bytes(2, "big")
    return bytes(raw)


def cases():
    """(name, way in, packet, counters expected to move besides RECEIVED6/RECEIVED4)"""
    # The client's UDP flow as the IPv4 server sees it, and as the client sees the answers.
    flow4_out = IP(src=POOL4, dst=SERVER4) / UDP(sport=FLOW6, dport=ECHO_PORT)
    flow6_in = IPv6(src=SERVER6, dst=CLIENT6) / UDP(sport=ECHO_PORT, dport=FLOW6)
    return [
        # -- IPv6 side, through the kernel --
        ("tcp6 header cut short", "v6", v6(nh=6) / Raw(b"\x00" * 10),
         {"TCP_TRUNCATED": 1}),
        ("tcp6 data offset 4", "v6", v6() / TCP(sport=1, dport=80, dataofs=4),
         {"TCP_DOFF": 1}),
        ("tcp6 data offset past the end", "v6", v6() / TCP(sport=1, dport=80, dataofs=15),
         {"TCP_DOFF": 1}),
        ("udp6 header cut short", "v6", v6(nh=17) / Raw(b"\x00" * 4), {"UDP_TRUNCATED": 1}),
        ("udp6 length too long", "v6", v6() / UDP(sport=FLOW6, dport=9, len=100) / b"abc",
         {"UDP_LEN": 1}),
        ("udp6 length too short", "v6", v6() / UDP(sport=FLOW6, dport=9, len=9) / (b"x" * 20),
         {"UDP_LEN": 1}),
        ("icmp6 cut short", "v6", v6(nh=58) / Raw(b"\x80\x00"), {"ICMP_TRUNCATED": 1}),
        ("icmp6 unknown type", "v6", v6(nh=58) / Raw(b"\xc8\x00\x00\x00\x00\x00\x00\x00"),
         {"ICMP6_TYPE_UNKNOWN": 1}),
        # After the known extension headers, anything but TCP, UDP, ICMPv6 is counted as an
        # unknown extension header (core/packet.c can't tell the two apart); ICMPv4 in IPv6
        # as L4_PROTO_UNKNOWN.
        ("next header 132 (SCTP)", "v6", v6(nh=132) / Raw(b"\x00" * 16),
         {"HDR6_EXT_UNKNOWN": 1}),
        ("icmpv4 inside ipv6", "v6", v6(nh=1) / ICMP(), {"L4_PROTO_UNKNOWN": 1}),
        ("9 destination options headers", "v6",
         v6() / (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()) /
         UDP(sport=FLOW6, dport=9), {"HDR6_EXT_CHAIN_TOO_LONG": 1}),
        ("destination options past the end", "v6",
         v6(nh=60) / Raw(b"\x11\x0c" + b"\x00" * 6), {"HDR6_EXT_TRUNCATED": 1}),
        ("hop-by-hop after destination options", "v6",
         v6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / UDP(sport=FLOW6, dport=9),
         {"HDR6_HOP_BY_HOP_NOT_FIRST": 1}),
        # RFC 7915 §5.1: Segments Left non-zero: Parameter Problem pointing at that field.
    # RFC 6146 §3.5 (filtering, with its new session to 192.0.2.10#9) comes before §3.7
    # (translation), which refuses it.
        ("routing header, segments left 1", "v6",
         v6() / IPv6ExtHdrRouting(type=0, addresses=["2001:db8::99"], segleft=1) /
         UDP(sport=FLOW6, dport=9),
         {"XLAT64_SEGMENTS_LEFT": 1, "ICMP6ERR_SENT": 1, "SESSION_CREATED": 1}),
        ("fragment header, then destination options", "v6",
         v6() / IPv6ExtHdrFragment(id=7, m=0) / IPv6ExtHdrDestOpt() / UDP(sport=FLOW6, dport=9),
         {"HDR6_FRAG_THEN_EXT": 1}),
        ("two fragment headers", "v6",
         v6() / IPv6ExtHdrFragment(id=8, m=0) / IPv6ExtHdrFragment(id=8, m=0) /
         UDP(sport=FLOW6, dport=9), {"HDR6_DOUBLE_FRAG": 1}),
        ("icmp6 error quoting garbage", "v6",
         v6() / ICMPv6DestUnreach(code=4) / Raw(b"\xde\xad\xbe\xef" * 4),
         {"INNER_MALFORMED": 1}),
        ("icmp6 error quoting a cut IPv6 header", "v6",
         v6() / ICMPv6DestUnreach(code=4) / Raw(bytes(flow6_in)[:30]), {"INNER_TRUNCATED": 1}),
        ("icmp6 error quoting IPv4", "v6",
         v6() / ICMPv6DestUnreach(code=4) / Raw(bytes(flow4_out)), {"INNER_FAMILY": 1}),
        ("icmp6 error quoting an icmp6 error", "v6",
         v6() / ICMPv6DestUnreach(code=4) /
         IPerror6(src=SERVER6, dst=CLIENT6) / ICMPv6DestUnreach(code=4) / Raw(bytes(flow6_in)),
         {"INNER_ICMP_ERROR": 1}),
        ("icmp6 error quoting an unknown protocol", "v6",
         v6() / ICMPv6DestUnreach(code=4) / IPerror6(src=SERVER6, dst=CLIENT6, nh=132) /
         Raw(b"\x00" * 8), {"INNER_PROTO_UNKNOWN": 1}),
        # TCP/UDP checksums are updated incrementally (RFC 1624), not verified: a bad one
        # stays bad for the receiver to drop (its kernel does, silently).
        ("udp6 bad checksum", "v6", v6() / UDP(sport=FLOW6, dport=9, chksum=0x1234) / b"x",
         {"SUCCESS": 1}),
        ("icmp6 error with a bad checksum", "v6",
         with_bad_icmp6_checksum(v6() / ICMPv6DestUnreach(code=4) / Raw(bytes(flow6_in))),
         {"ICMP6_CHECKSUM": 1}),
        ("icmp6 parameter problem quoting garbage", "v6",
         v6() / ICMPv6ParamProblem(code=0, ptr=6) / Raw(b"\x60" + b"\x00" * 3),
         {"INNER_TRUNCATED": 1}),
        # -- IPv6 side, straight into the TUN device --
        ("ipv6 header cut short", "tun", bytes(v6(nh=17))[:20], {"HDR6_TRUNCATED": 1}),
        ("ipv6 payload length too long", "tun",
         ipv6_payload_len(v6() / UDP(sport=FLOW6, dport=9), 100), {"HDR6_PAYLOAD_LEN": 1}),
        # RFC 8200 §3: bytes past the Payload Length are link padding: ignored, and the
        # datagram (to the discard server) translated, on a new session of the flow.
        ("bytes past the ipv6 payload length", "tun",
         bytes(v6() / UDP(sport=FLOW6, dport=DISCARD_PORT) / b"ok") + b"\xee" * 10,
         {"SUCCESS": 1, "SESSION_CREATED": 1}),
        ("ipv6 payload length 0 (jumbogram)", "tun",
         ipv6_payload_len(v6() / UDP(sport=FLOW6, dport=9), 0), {"HDR6_PAYLOAD_LEN": 1}),
        ("one byte", "tun", b"\x60", {"HDR6_TRUNCATED": 1}),
        # -- IPv4 side, through the kernel (192.0.2.10#7000 -> the client's 192.0.2.2#40000) --
        ("tcp4 header cut short", "v4", v4(proto=6) / Raw(b"\x00" * 10), {"TCP_TRUNCATED": 1}),
        ("udp4 header cut short", "v4", v4(proto=17) / Raw(b"\x00" * 4), {"UDP_TRUNCATED": 1}),
        ("udp4 length too long", "v4", v4() / UDP(sport=ECHO_PORT, dport=FLOW6, len=100) / b"ab",
         {"UDP_LEN": 1}),
        ("icmp4 cut short", "v4", v4(proto=1) / Raw(b"\x08\x00"), {"ICMP_TRUNCATED": 1}),
        ("icmp4 timestamp request", "v4", v4() / ICMP(type=13), {"ICMP4_TYPE_UNKNOWN": 1}),
        ("unknown transport protocol 4", "v4", v4(proto=132) / Raw(b"\x00" * 16),
         {"L4_PROTO_UNKNOWN": 1}),
        ("icmp4 error quoting garbage", "v4",
         v4() / ICMP(type=3, code=1) / Raw(b"\xde\xad\xbe\xef" * 4), {"INNER_MALFORMED": 1}),
        ("icmp4 error quoting a cut IPv4 header", "v4",
         v4() / ICMP(type=3, code=1) / Raw(bytes(flow4_out)[:12]), {"INNER_TRUNCATED": 1}),
        ("icmp4 error quoting IPv6", "v4",
         v4() / ICMP(type=3, code=1) / Raw(bytes(flow6_in)), {"INNER_FAMILY": 1}),
        ("icmp4 error quoting an icmp4 error", "v4",
         v4() / ICMP(type=3, code=1) / IPerror(src=POOL4, dst=SERVER4) / ICMP(type=3, code=3) /
         Raw(bytes(flow4_out)), {"INNER_ICMP_ERROR": 1}),
        ("udp4 bad checksum", "v4", v4() / UDP(sport=ECHO_PORT, dport=FLOW6, chksum=0x1234) / b"x",
         {"SUCCESS": 1}),
        ("icmp4 error with a bad checksum", "v4",
         with_bad_icmp4_checksum(v4() / ICMP(type=3, code=1) / Raw(bytes(flow4_out))),
         {"ICMP4_CHECKSUM": 1}),
        ("icmp4 error quoting an unknown flow", "v4",
         v4() / ICMP(type=3, code=1) /
         IPerror(src=POOL4, dst=SERVER4) / UDPerror(sport=FLOW6 + 1, dport=ECHO_PORT),
         {"SESSION_NOT_FOUND": 1}),
        # -- IPv4 side, straight into the TUN device --
        ("ipv4 header cut short", "tun", raw4()[:12], {"HDR4_TRUNCATED": 1}),
        ("ipv4 ihl 4", "tun", raw4(ihl=4), {"HDR4_IHL": 1}),
        ("ipv4 ihl past the end", "tun", raw4(ihl=15), {"HDR4_IHL": 1}),
        ("ipv4 total length too long", "tun", raw4(len=200), {"HDR4_TOTAL_LEN": 1}),
        ("ipv4 bad header checksum", "tun", raw4(chksum=0x1234), {"HDR4_CHECKSUM": 1}),
        ("ipv4 option running past the header", "tun",
         raw4_options(b"\x07\x28\x04" + b"\x00" * 5), {"HDR4_OPTIONS": 1}),
        ("ipv4 version 5", "tun", b"\x55" + raw4()[1:], {"HDR4_VERSION": 1}),
        # RFC 7915 §4.1: an unexpired source route: Destination Unreachable, Source Route
        # Failed (the kernel would have refused it itself).
        ("ipv4 loose source route", "tun",
         raw4_options(b"\x83\x07\x04" + bytes([198, 51, 100, 1]) + b"\x00"),
         {"XLAT46_SRC_ROUTE": 1, "ICMP4ERR_SENT": 1}),
    ]


class Injector:
    """The three senders, each a process reading hex packets on its stdin."""

    def __init__(self, net, tun):
        prog = net.write_config("sender.py", SENDER)
        x6 = net.json(net.nat, "ip -j link show x6")[0]["address"]
        x4 = net.json(net.nat, "ip -j link show x4")[0]["address"]
        self.procs = {
            "v6": net.spawn("ns6", net.name6, ["python3", prog, "c6", x6],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True),
            "v4": net.spawn("ns4", net.name4, ["python3", prog, "s4", x4],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True),
            "tun": net.spawn("nsx", net.namex, ["python3", prog, tun, "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True),
        }
        for way, proc in self.procs.items():
            assert proc.stdout.readline().strip() == "ready", f"sender {way} died"

    def send(self, way, pkt):
        proc = self.procs[way]
        proc.stdin.write(bytes(pkt).hex() + "\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "sent", f"sender {way} died"


def received(c):
    return c["RECEIVED6"] + c["RECEIVED4"]


def moved(before, after, names):
    return {n: after[n] - before[n] for n in names if after.get(n, 0) != before.get(n, 0)}


def good_exchange(net, sport):
    prog = net.write_config("udp_ping.py", UDP_PING)
    return net.ns6(f"python3 {prog} {SERVER6} {ECHO_PORT} {sport}").stdout.strip()


def test_malformed_packets_counted_and_survived(net, instance):
    if IPv6 is None:
        _cannot_run("python3-scapy is missing (run scripts/install-deps.sh)")
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    names = counter_names()
    echo = net.spawn("ns4", net.name4, ["python3", net.write_config("echo.py", UDP_ECHO),
                                        SERVER4, str(ECHO_PORT)],
                     stdout=subprocess.PIPE, text=True)
    assert echo.stdout.readline().strip() == "ready"
    sink = net.spawn("ns4", net.name4, ["python3", net.write_config("discard.py", DISCARD),
                                        SERVER4, str(DISCARD_PORT)],
                     stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    # The flow the IPv4-side packets claim to belong to: 2001:db8:6::2#40000 <->
    # 192.0.2.2#40000 <-> 192.0.2.10#7000.
    assert good_exchange(net, FLOW6) == "good packet"
    assert [e["ipv4 address"] for e in nat.bib("udp")] == [f"{POOL4}#{FLOW6}"]
    inject = Injector(net, nat.daemon.tun)

    wrong = []
    for name, way, pkt, expected in cases():
        before = nat.counters()
        inject.send(way, pkt)
        poll(f"nat64d to receive {name!r}",
             lambda: received(nat.counters()) == received(before) + 1, timeout=5)
        got = moved(before, nat.counters(), names - {"RECEIVED6", "RECEIVED4"})
        if got != expected:
            wrong.append(f"{name}: expected {expected}, got {got}")
        assert nat.daemon.alive(), f"nat64d died on {name!r}:\n{nat.daemon.log_text()}"
    assert not wrong, "\n".join(wrong)

    # Still translating: a new flow and the old one.
    before = nat.counters()
    assert good_exchange(net, FLOW6 + 2) == "good packet"
    assert good_exchange(net, FLOW6) == "good packet"
    net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    assert moved(before, nat.counters(), {"SUCCESS"}) == {"SUCCESS": 6}

    # SIGTERM: a clean exit, and nothing from AddressSanitizer / LeakSanitizer (an ASan
    # build reports leaks at exit; NAT64D=... picks the binary, see the docstring).
    assert nat.daemon.stop() == 0
    log = nat.daemon.log_text()
    assert "AddressSanitizer" not in log and "LeakSanitizer" not in log, log
