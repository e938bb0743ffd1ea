"""ICMP errors through nat64d, captured on the end hosts and checked field by field with
scapy (outer header, ICMP type/code/field, the inner packet, every checksum), and through
the sending socket's error queue (IP_RECVERR / IPV6_RECVERR): the error must reach the
socket of the host whose packet it is about, which only happens when the translated
inner packet matches that socket's flow. Topology: test_pmtu.py.

Originated by nat64d (docs/icmp.md): Port Unreachable for pool4 without a BIB entry,
Address Unreachable when pool4 is exhausted, Fragmentation Needed for a DF packet whose
IPv6 form is too big, Parameter Problem for a Routing header with Segments Left,
reassembly Time Exceeded (code 1) both ways; rate-limited (--icmp-rate); never about an
ICMP error or a lone non-first fragment. Translated (RFC 7915 §4.2, §5.2): Time
Exceeded, Port Unreachable, Packet Too Big <-> Fragmentation Needed (MTU arithmetic and
plateaus), Parameter Problem with its pointer.
"""

import errno
import json
import time

import pytest

from conftest import POOL4, _cannot_run
from test_frag import next_datagram, send_raw, sink
from test_pmtu import (CLIENT6, OWN4, R4_6, SERVER4, SERVER6, counters,  # noqa
                       routed, start_translator, static_icmp_config)

try:
    from scapy.all import (ICMP, IP, UDP, ICMPv6DestUnreach, ICMPv6PacketTooBig,
                           ICMPv6ParamProblem, ICMPv6TimeExceeded, IPv6, IPv6ExtHdrFragment,
                           IPv6ExtHdrRouting)
except ImportError:  # pragma: no cover
    IPv6 = None

OWN6 = "64:ff9b::c000:8"  # nat64d's default --own6: pool6 + own4 (192.0.0.8)

# Prints "ready", then the hex of every ICMP / ICMPv6 error (outer IP header first) that
# arrives on IFACE, until COUNT of them or SECONDS.
CAPTURE = r"""
import select, socket, sys, time
iface, seconds, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
s.bind((iface, 0))
print("ready", flush=True)
end, n = time.monotonic() + seconds, 0
while n < count:
    left = end - time.monotonic()
    if left <= 0 or not select.select([s], [], [], left)[0]:
        break
    data, addr = s.recvfrom(65535)
    if addr[2] == socket.PACKET_OUTGOING or not data:
        continue
    if data[0] >> 4 == 6 and data[6] == 58 and data[40] < 128:
        pass
    elif data[0] >> 4 == 4 and data[9] == 1 and data[(data[0] & 15) * 4] in (3, 4, 5, 11, 12):
        pass
    else:
        continue
    print(data.hex(), flush=True)
    n += 1
"""

# A connected UDP socket with IP(V6)_RECVERR and DF (PMTU discovery "do"): binds PORT
# (0: any), sends SIZE bytes with hop limit / TTL HLIM to DST DPORT, then prints the first
# error its error queue gets: "errno origin type code info", or "none" after 4 s.
PROBE = r"""
import socket, struct, sys, time
dst, dport, size, hlim, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
v6 = ":" in dst
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
lvl = socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP
s.setsockopt(lvl, 25 if v6 else 11, 1)          # IPV6_RECVERR / IP_RECVERR
s.setsockopt(lvl, 23 if v6 else 10, 2)          # IPV6_MTU_DISCOVER / IP_MTU_DISCOVER: DO
s.setsockopt(lvl, 16 if v6 else 2, hlim)        # IPV6_UNICAST_HOPS / IP_TTL
s.bind(("::" if v6 else "0.0.0.0", port))
s.connect((dst, dport))
s.send(bytes(size))
end = time.monotonic() + 4
while time.monotonic() < end:
    try:
        _, anc, _, _ = s.recvmsg(2048, 1024, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except BlockingIOError:
        time.sleep(0.05)
        continue
    for level, kind, data in anc:
        e, origin, typ, code, _, info = struct.unpack("=IBBBBI", data[:12])
        print(e, origin, typ, code, info)
        sys.exit(0)
print("none")
"""


@pytest.fixture
def icmp_net(routed):
    if IPv6 is None:
        _cannot_run("python3-scapy is missing (run scripts/install-deps.sh)")
    return routed


# ---- checksums, computed here (RFC 1071), not by scapy ----

def fold(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def ok(b):
    return fold(b) == 0xffff


def pseudo6(ip6, proto, length):
    return ip6[8:40] + length.to_bytes(4, "big") + b"\0\0\0" + bytes([proto])


def pseudo4(ip4, proto, length):
    return ip4[12:20] + bytes([0, proto]) + length.to_bytes(2, "big")


def check_icmp6(raw):
    """Outer ICMPv6 checksum over the pseudo-header (RFC 4443 §2.3)."""
    assert ok(pseudo6(raw, 58, len(raw) - 40) + raw[40:]), "ICMPv6 checksum"


def check_icmp4(raw):
    ihl = (raw[0] & 15) * 4
    assert ok(raw[:ihl]), "outer IPv4 header checksum"
    assert ok(raw[ihl:]), "ICMPv4 checksum"


def check_inner_udp6(inner):
    """A whole quoted IPv6 UDP datagram: its checksum still verifies (translated)."""
    ulen = int.from_bytes(inner[44:46], "big")
    assert len(inner) == 40 + ulen, "quote cut short"
    assert ok(pseudo6(inner, 17, ulen) + inner[40:40 + ulen]), "inner UDP checksum"


def check_inner_udp4(inner):
    ihl = (inner[0] & 15) * 4
    assert ok(inner[:ihl]), "inner IPv4 header checksum"
    ulen = int.from_bytes(inner[ihl + 4:ihl + 6], "big")
    if len(inner) >= ihl + ulen:
        assert ok(pseudo4(inner, 17, ulen) + inner[ihl:ihl + ulen]), "inner UDP checksum"


def capture(net, label, ns, iface, count=1, seconds=6):
    return net.spawn_py(label, ns, "capture.py", CAPTURE, [iface, seconds, count])


def captured(proc, timeout=15):
    out, _ = proc.communicate(timeout=timeout)
    return [bytes.fromhex(line) for line in out.split()]


def probe(net, label, ns, dst, dport, size=32, hlim=64, port=0):
    out = net.run_py(label, ns, "probe.py", PROBE, [dst, dport, size, hlim, port]).split()
    return out if out == ["none"] else [int(v) for v in out]


# ---- translated errors ----

def test_time_exceeded_from_ipv4_router_reaches_the_client_socket(icmp_net):
    """RFC 7915 §4.2: r4's ICMPv4 Time Exceeded (hop limit 3 runs out there) becomes
    ICMPv6 3/0 from pool6 + r4 (source-icmpv6-errors-better), its quote the client's own
    UDP datagram again (addresses, ports, a valid checksum)."""
    net = icmp_net
    start_translator(net)
    cap = capture(net, "ns6", net.name6, "c6")
    err = probe(net, "ns6", net.name6, SERVER6, 7100, size=100, hlim=3, port=41000)
    assert err == [errno.EHOSTUNREACH, 3, 3, 0, 0], err  # origin ICMP6, type 3 code 0
    (raw,) = captured(cap)
    p = IPv6(raw)
    assert (p.src, p.dst, p.nh) == (R4_6, CLIENT6, 58)
    t = p[ICMPv6TimeExceeded]
    assert (t.type, t.code) == (3, 0)
    check_icmp6(raw)
    inner = raw[48:]
    q = IPv6(inner)
    assert (q.src, q.dst, q.nh) == (CLIENT6, SERVER6, 17)
    assert (q[UDP].sport, q[UDP].dport, q[UDP].len) == (41000, 7100, 108)
    check_inner_udp6(inner)


def test_port_unreachable_from_ipv4_server_reaches_the_client_socket(icmp_net):
    """ICMPv4 3/3 from the server becomes ICMPv6 1/4 from the server's IPv6 address;
    the client's connected socket gets ECONNREFUSED."""
    net = icmp_net
    start_translator(net)
    cap = capture(net, "ns6", net.name6, "c6")
    err = probe(net, "ns6", net.name6, SERVER6, 7101, size=50, port=41001)
    assert err == [errno.ECONNREFUSED, 3, 1, 4, 0], err
    (raw,) = captured(cap)
    p = IPv6(raw)
    assert (p.src, p.dst) == (SERVER6, CLIENT6)
    assert (p[ICMPv6DestUnreach].type, p[ICMPv6DestUnreach].code) == (1, 4)
    check_icmp6(raw)
    q = IPv6(raw[48:])
    assert (q.src, q.dst, q[UDP].sport, q[UDP].dport) == (CLIENT6, SERVER6, 41001, 7101)
    check_inner_udp6(raw[48:])


def test_packet_too_big_6to4_translated_from_fragmentation_needed(icmp_net):
    """r4's Fragmentation Needed (MTU 1400) for the client's 1500-byte datagram (1480 as
    IPv4, DF) becomes Packet Too Big 1420 (RFC 7915 §4.2: min(1400 + 20, 1500, 1520));
    the client's socket learns 1420 (EMSGSIZE, info = MTU)."""
    net = icmp_net
    start_translator(net)
    cap = capture(net, "ns6", net.name6, "c6")
    err = probe(net, "ns6", net.name6, SERVER6, 7102, size=1500 - 48, port=41002)
    assert err == [errno.EMSGSIZE, 3, 2, 0, 1420], err
    (raw,) = captured(cap)
    p = IPv6(raw)
    assert (p.src, p.dst, p[ICMPv6PacketTooBig].mtu) == (R4_6, CLIENT6, 1420)
    # r4 quoted 548 bytes (576 in all, RFC 1812 §4.3.2.3); the quote's header grew by 20.
    assert len(raw) == 48 + 548 + 20
    check_icmp6(raw)
    q = IPv6(raw[48:])
    assert (q.src, q.dst, q.plen) == (CLIENT6, SERVER6, 1460)
    assert (q[UDP].sport, q[UDP].dport, q[UDP].len) == (41002, 7102, 1460)


def test_fragmentation_needed_4to6_translated_from_packet_too_big(icmp_net):
    """r6's Packet Too Big (1400) for the server's 1480-byte datagram (DF; 1500 as IPv6)
    becomes Fragmentation Needed 1380 (RFC 7915 §5.2: min(1400 - 20, 1500, 1480)) from
    the client's pool4 address, quoting the server's datagram; its socket learns 1380."""
    net = icmp_net
    start_translator(net)
    client = sink(net, "ns6", net.name6, "::", 41003, idle=6, hello=(SERVER6, 7103))
    cap = capture(net, "ns4", net.name4, "s4")
    err = probe(net, "ns4", net.name4, POOL4, 41003, size=1480 - 28, port=7103)
    assert err == [errno.EMSGSIZE, 2, 3, 4, 1380], err
    (raw,) = captured(cap)
    p = IP(raw)
    assert (p.src, p.dst, p[ICMP].type, p[ICMP].code) == (POOL4, SERVER4, 3, 4)
    assert p[ICMP].nexthopmtu == 1380
    check_icmp4(raw)
    inner = raw[28:]
    q = IP(inner)
    assert (q.src, q.dst, q.proto, q.len) == (SERVER4, POOL4, 17, 1480)
    assert q.flags.DF
    assert (q[UDP].sport, q[UDP].dport) == (7103, 41003)
    check_inner_udp4(inner)
    client.kill()


@pytest.mark.parametrize("quoted_len,mtu", [(1400, 1280), (1500, 1500)])
def test_fragmentation_needed_mtu_zero_uses_the_plateaus(icmp_net, quoted_len, mtu):
    """RFC 1191 §7 / RFC 7915 §4.2: an old router reports MTU 0; the translator takes the
    greatest plateau below the quoted Total Length (1006 below 1400, 1492 below 1500),
    adds 20, and keeps the result within [1280, the IPv6 MTU]."""
    net = icmp_net
    start_translator(net)
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7104, idle=3)
    client = sink(net, "ns6", net.name6, "::", 41004, idle=6, hello=(SERVER6, 7104))
    port = next_datagram(server)[3]
    quoted = IP(src=POOL4, dst=SERVER4, flags="DF", ttl=61, len=quoted_len) / \
        UDP(sport=port, dport=7104, len=quoted_len - 20)
    # From the server itself (r4 would drop its own address as a martian source).
    err = IP(src=SERVER4, dst=POOL4) / ICMP(type=3, code=4, nexthopmtu=0) / \
        bytes(quoted)[:28]
    cap = capture(net, "ns6", net.name6, "c6")
    send_raw(net, "ns4", net.name4, [err])
    (raw,) = captured(cap)
    p = IPv6(raw)
    assert (p.src, p[ICMPv6PacketTooBig].mtu) == (SERVER6, mtu)
    check_icmp6(raw)
    q = IPv6(raw[48:])
    assert (q.src, q.dst, q.plen) == (CLIENT6, SERVER6, quoted_len - 20)
    assert (q[UDP].sport, q[UDP].dport) == (41004, 7104)
    client.kill()


def test_parameter_problem_pointer_translated_both_ways(icmp_net):
    """RFC 7915 §4.2 / §5.2 pointer tables: ICMPv4 12/0 pointer 8 (TTL) about the client's
    datagram reaches the client as ICMPv6 4/0 pointer 7 (Hop Limit); ICMPv6 4/0 pointer 24
    (destination address) about the server's reaches the server as 12/0 pointer 16."""
    net = icmp_net
    start_translator(net)
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7105, idle=4)
    client = sink(net, "ns6", net.name6, "::", 41005, idle=8, hello=(SERVER6, 7105))
    port = next_datagram(server)[3]
    seen4 = IP(src=POOL4, dst=SERVER4, ttl=61) / UDP(sport=port, dport=7105) / b"hello"
    err4 = IP(src=SERVER4, dst=POOL4) / ICMP(type=12, code=0, ptr=8) / bytes(seen4)
    cap = capture(net, "ns6", net.name6, "c6")
    send_raw(net, "ns4", net.name4, [err4])
    (raw,) = captured(cap)
    p = IPv6(raw)
    pp = p[ICMPv6ParamProblem]
    assert (p.src, p.dst, pp.type, pp.code, pp.ptr) == (SERVER6, CLIENT6, 4, 0, 7)
    check_icmp6(raw)
    check_inner_udp6(raw[48:])
    assert IPv6(raw[48:])[UDP].dport == 7105

    seen6 = IPv6(src=SERVER6, dst=CLIENT6, hlim=61) / UDP(sport=7105, dport=41005) / (b"x" * 8)
    err6 = IPv6(src=CLIENT6, dst=SERVER6) / ICMPv6ParamProblem(code=0, ptr=24) / bytes(seen6)
    cap = capture(net, "ns4", net.name4, "s4")
    send_raw(net, "ns6", net.name6, [err6])
    (raw,) = captured(cap)
    p = IP(raw)
    assert (p.src, p.dst, p[ICMP].type, p[ICMP].code, p[ICMP].ptr) == \
        (POOL4, SERVER4, 12, 0, 16)
    check_icmp4(raw)
    q = IP(raw[28:])
    assert (q.src, q.dst, q[UDP].sport, q[UDP].dport) == (SERVER4, POOL4, 7105, port)
    check_inner_udp4(raw[28:])
    client.kill()


# ---- errors nat64d originates ----

def test_port_unreachable_for_pool4_without_bib(icmp_net):
    """UDP to a pool4 port with no BIB entry: ICMPv4 3/3 from own4 (TTL 64, TOS 0xC0,
    DF clear) quoting the datagram as nat64d received it; the server's socket gets
    ECONNREFUSED."""
    net = icmp_net
    _, cli = start_translator(net)
    before = counters(cli)
    cap = capture(net, "ns4", net.name4, "s4")
    err = probe(net, "ns4", net.name4, POOL4, 9, size=20, port=7106)
    assert err == [errno.ECONNREFUSED, 2, 3, 3, 0], err
    (raw,) = captured(cap)
    p = IP(raw)
    assert (p.src, p.dst, p.tos, p.flags.DF) == (OWN4, SERVER4, 0xc0, False)
    assert p.ttl == 64 - 2, "TTL 64, less r4 and the translator's host"
    assert (p[ICMP].type, p[ICMP].code) == (3, 3)
    check_icmp4(raw)
    q = IP(raw[28:])
    assert (q.src, q.dst, q[UDP].sport, q[UDP].dport, q.ttl) == (SERVER4, POOL4, 7106, 9, 62)
    check_inner_udp4(raw[28:])
    after = counters(cli)
    assert after["BIB4_NOT_FOUND"] == before["BIB4_NOT_FOUND"] + 1
    assert after["ICMP4ERR_SENT"] == before["ICMP4ERR_SENT"] + 1


def test_address_unreachable_when_pool4_is_exhausted(icmp_net):
    """pool4 UDP of one port: the first flow takes it, the second gets ICMPv6 1/3 from
    own6 (RFC 6146 §3.5.1.1) and its socket EHOSTUNREACH; counted POOL4_EXHAUSTED."""
    net = icmp_net
    cfg = static_icmp_config()
    cfg["pool4"][1]["port range"] = "7000-7000"
    _, cli = start_translator(net, cfg)
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7107, idle=3)
    assert probe(net, "ns6", net.name6, SERVER6, 7107, port=41007) == ["none"]
    assert next_datagram(server)[2:] == (POOL4, 7000)
    cap = capture(net, "ns6", net.name6, "c6")
    err = probe(net, "ns6", net.name6, SERVER6, 7107, size=10, port=41008)
    assert err == [errno.EHOSTUNREACH, 3, 1, 3, 0], err
    (raw,) = captured(cap)
    p = IPv6(raw)
    assert (p.src, p.dst, p.hlim) == (OWN6, CLIENT6, 64 - 2)
    assert (p[ICMPv6DestUnreach].type, p[ICMPv6DestUnreach].code) == (1, 3)
    check_icmp6(raw)
    q = IPv6(raw[48:])
    assert (q.src, q.dst, q.hlim, q[UDP].sport) == (CLIENT6, SERVER6, 62, 41008)
    check_inner_udp6(raw[48:])
    assert counters(cli)["POOL4_EXHAUSTED"] >= 1


def test_fragmentation_needed_from_the_translator(icmp_net):
    """RFC 7915 §4: a 1500-byte IPv4 datagram with DF is 1520 bytes of IPv6, over the
    translator's 1500: Fragmentation Needed 1480 from own4, quoting 548 bytes of it
    (RFC 1812 §4.3.2.3: 576 in all)."""
    net = icmp_net
    _, cli = start_translator(net)
    client = sink(net, "ns6", net.name6, "::", 41009, idle=6, hello=(SERVER6, 7108))
    cap = capture(net, "ns4", net.name4, "s4")
    err = probe(net, "ns4", net.name4, POOL4, 41009, size=1500 - 28, port=7108)
    assert err == [errno.EMSGSIZE, 2, 3, 4, 1480], err
    (raw,) = captured(cap)
    p = IP(raw)
    assert (p.src, p.dst, p.len, p[ICMP].type, p[ICMP].code, p[ICMP].nexthopmtu) == \
        (OWN4, SERVER4, 576, 3, 4, 1480)
    check_icmp4(raw)
    q = IP(raw[28:])
    assert (q.src, q.dst, q.len, q.flags.DF) == (SERVER4, POOL4, 1500, True)
    assert ok(raw[28:48]), "inner IPv4 header checksum"
    assert counters(cli)["TOO_BIG4"] == 1
    client.kill()


def test_parameter_problem_for_segments_left(icmp_net):
    """RFC 7915 §5.1: a Routing header with Segments Left non-zero is not translated;
    ICMPv6 4/0 from own6, pointer at Segments Left (40 + 3)."""
    net = icmp_net
    start_translator(net)
    pkt = IPv6(src=CLIENT6, dst=SERVER6) / \
        IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::1"]) / \
        UDP(sport=41010, dport=7109) / b"routed"
    cap = capture(net, "ns6", net.name6, "c6")
    send_raw(net, "ns6", net.name6, [pkt])
    (raw,) = captured(cap)
    p = IPv6(raw)
    pp = p[ICMPv6ParamProblem]
    assert (p.src, p.dst, pp.code, pp.ptr) == (OWN6, CLIENT6, 0, 43)
    check_icmp6(raw)
    assert IPv6(raw[48:]).src == CLIENT6


def test_reassembly_timeout_time_exceeded_both_ways(icmp_net):
    """A first fragment whose datagram never completes: after reassembly-timeout (2 s)
    its source gets Time Exceeded code 1 quoting it, ICMPv6 3/1 from own6 and ICMPv4
    11/1 from own4 (RFC 8200 §4.5, RFC 792; a choice, docs/icmp.md). A datagram whose
    first fragment never came expires silently."""
    net = icmp_net
    _, cli = start_translator(net)
    first6 = IPv6(src=CLIENT6, dst=SERVER6) / IPv6ExtHdrFragment(id=5, m=1, nh=17) / \
        UDP(sport=41011, dport=7110, len=2008) / bytes(1224)
    later6 = IPv6(src=CLIENT6, dst=SERVER6) / \
        IPv6ExtHdrFragment(id=6, m=1, offset=154, nh=17) / bytes(16)
    cap = capture(net, "ns6", net.name6, "c6", count=2, seconds=6)
    t0 = time.monotonic()
    send_raw(net, "ns6", net.name6, [later6, first6])
    got = captured(cap)
    assert len(got) == 1, "an error about a datagram without its first fragment"
    assert time.monotonic() - t0 >= 2.0
    raw = got[0]
    p = IPv6(raw)
    t = p[ICMPv6TimeExceeded]
    assert (p.src, p.dst, t.type, t.code) == (OWN6, CLIENT6, 3, 1)
    check_icmp6(raw)
    want = bytearray(bytes(first6))
    want[7] = 64 - 2  # the hop limit as nat64d got it: r6 and its host took one each
    quote = raw[48:]
    assert len(quote) == 1280 - 48 and quote == want[:len(quote)], "quote of the fragment"
    q = IPv6(raw[48:])
    assert (q.src, q.dst, q[IPv6ExtHdrFragment].id, q[IPv6ExtHdrFragment].m) == \
        (CLIENT6, SERVER6, 5, 1)

    client = sink(net, "ns6", net.name6, "::", 41012, idle=8, hello=(SERVER6, 7111))
    server = sink(net, "ns4", net.name4, "0.0.0.0", 7111, idle=3)  # noqa: F841
    time.sleep(0.5)
    first4 = IP(src=SERVER4, dst=POOL4, id=0x0b0b, flags="MF") / \
        UDP(sport=7111, dport=41012, len=3008) / bytes(1472)
    cap = capture(net, "ns4", net.name4, "s4", seconds=6)
    send_raw(net, "ns4", net.name4, [first4])
    (raw,) = captured(cap)
    p = IP(raw)
    assert (p.src, p.dst, p[ICMP].type, p[ICMP].code) == (OWN4, SERVER4, 11, 1)
    check_icmp4(raw)
    q = IP(raw[28:])
    assert (q.src, q.dst, q.id, q.flags.MF, q.ttl) == (SERVER4, POOL4, 0x0b0b, True, 62)
    assert ok(raw[28:48]), "inner IPv4 header checksum"
    assert raw[48:] == bytes(first4)[20:len(raw) - 28], "quote of the fragment"
    assert counters(cli)["FRAG_TIMEOUT_ICMP"] == 2
    client.kill()


# ---- restrictions ----

def test_no_error_about_an_icmp_error_or_a_lone_later_fragment(icmp_net):
    """RFC 4443 §2.4 (e), RFC 1812 §4.3.2.7: an ICMP error nat64d can't translate (no BIB
    entry for its quote) gets no error back; neither does a non-first fragment."""
    net = icmp_net
    _, cli = start_translator(net)
    quote = IP(src=POOL4, dst=SERVER4) / UDP(sport=33333, dport=7112)
    err = IP(src=SERVER4, dst=POOL4) / ICMP(type=3, code=3) / bytes(quote)
    later = IP(src=SERVER4, dst=POOL4, id=9, frag=100, proto=17) / bytes(64)
    cap = capture(net, "ns4", net.name4, "s4", seconds=3.5)
    send_raw(net, "ns4", net.name4, [err, later])
    assert captured(cap) == []
    assert counters(cli)["ICMP4ERR_SENT"] == 0


def test_rate_limit_holds(icmp_net):
    """--icmp-rate 10: 300 datagrams to pool4 ports without BIB entries, sent at once,
    get at most the burst (10) plus 10 per second of errors; the rest are counted."""
    net = icmp_net
    _, cli = start_translator(net, args=["--icmp-rate", "10"])
    pkts = [IP(src=SERVER4, dst=POOL4) / UDP(sport=7113, dport=10000 + i) / b"x"
            for i in range(300)]
    cap = capture(net, "ns4", net.name4, "s4", count=300, seconds=3)
    t0 = time.monotonic()
    send_raw(net, "ns4", net.name4, pkts)
    got = captured(cap)
    elapsed = time.monotonic() - t0
    assert 10 <= len(got) <= 10 + 10 * elapsed + 1, (len(got), elapsed)
    c = counters(cli)
    assert c["ICMP4ERR_SENT"] == len(got)
    assert c["ICMPERR_RATE_LIMITED"] == 300 - len(got)
    assert json.dumps(c)  # the CLI's JSON is complete enough to read both
