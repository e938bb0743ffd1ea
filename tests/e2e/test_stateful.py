"""RFC 6146 state seen from outside: two IPv6 hosts behind one pool4 address, pool4
exhaustion, session expiry, IPv4-initiated traffic without a BIB entry, hairpinning, and
the RFC 6052 §3.1 rule for the Well-Known Prefix.

The two IPv6 hosts are two addresses of the client namespace: A = 2001:db8:6::2 (the
client of conftest.py), B = 2001:db8:6::3. Counters, BIB and sessions come from
`nat64 ... --json` (the `instance` fixture). Topology: conftest.py.
"""

import subprocess
import time

import pytest

from conftest import CLIENT6, DEFAULT_CONFIG, POOL4, POOL6, SERVER4, SERVER6, poll

HOST_A = CLIENT6
HOST_B = "2001:db8:6::3"
POOL4_AS6 = "64:ff9b::c000:202"  # pool6 + 192.0.2.2 (RFC 6052 §2.2)


def script(net, name, text):
    """Path of a file holding the Python program `text` (logs stay readable)."""
    return net.write_config(name, text)


def readline(proc, what):
    line = proc.stdout.readline()
    assert line, f"{what} exited {proc.wait()} before printing a line"
    return line.strip()


def add_host_b(net):
    """B's address, and the translator's router knowing it (neighbour discovery done, so
    its 1 s retransmission timer can't delay the first packet to B)."""
    net.ns6(f"ip addr add {HOST_B}/64 dev c6 nodad")
    net.nat(f"ping -c 1 -W 2 {HOST_B}")


def delta(before, after, *names):
    return {n: after[n] - before[n] for n in names}


# Echoes every datagram (UDP) or the first read of every connection (TCP) prefixed with
# the peer as the server sees it: "ADDR#PORT payload". Prints "ready" once bound.
ECHO_SERVER = r"""
import socket, sys, threading
proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
if proto == "udp":
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(f"{peer[0]}#{peer[1]} ".encode() + data, peer)
ls = socket.socket(fam, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port)); ls.listen(16)
print("ready", flush=True)
def serve(c, peer):
    c.settimeout(10)
    c.sendall(f"{peer[0]}#{peer[1]} ".encode() + c.recv(1000))
    c.close()
while True:
    c, peer = ls.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
"""

# One exchange per "SRC_ADDR#SRC_PORT" argument, in order, each from its own socket
# bound to that source and connected to DST#PORT; prints "OK <answer>" or
# "ERR <errno name> <seconds>" per exchange. With a last argument "again", the first
# socket (still open, its mapping kept) does one more exchange at the end.
EXCHANGE = r"""
import errno, socket, sys, time
proto, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
sources = [a for a in sys.argv[4:] if a != "again"]
kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
socks = []
def exchange(s, tag):
    t0 = time.monotonic()
    try:
        s.send(tag.encode())
        print("OK", s.recv(1000).decode(), flush=True)
    except OSError as e:
        print("ERR", errno.errorcode.get(e.errno, e), round(time.monotonic() - t0, 2), flush=True)
for src in sources:
    addr, sport = src.rsplit("#", 1)
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Linux reports ICMPv6 Address Unreachable (a soft error) only with IPV6_RECVERR.
    s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, "IPV6_RECVERR", 25), 1)
    s.settimeout(5)
    s.bind((addr, int(sport)))
    try:
        s.connect((dst, port))
    except OSError as e:
        print("ERR", errno.errorcode.get(e.errno, e), 0, flush=True)
        continue
    socks.append(s)
    exchange(s, f"from {src}")
if "again" in sys.argv:
    exchange(socks[0], f"from {sources[0]}")
"""


def echo_server(net, proto, ns, host, port):
    run = net.name4 if ns == "ns4" else net.name6
    srv = net.spawn(ns, run, ["python3", script(net, "echo_server.py", ECHO_SERVER), proto,
                              host, str(port)], stdout=subprocess.PIPE, text=True)
    assert readline(srv, "echo server") == "ready"
    return srv


def exchange(net, proto, dst, port, *sources):
    prog = script(net, "exchange.py", EXCHANGE)
    out = net.ns6(f"python3 {prog} {proto} {dst} {port} {' '.join(sources)}", timeout=60)
    return out.stdout.splitlines()


# ---- two IPv6 hosts, same source port (the documentation's example) ----

@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_two_hosts_same_source_port(net, instance, proto):
    """A#1234 then B#1234 to the same server: A keeps 192.0.2.2#1234 (RFC 6146 §3.5.1.1
    port preservation), B gets another port of the same address, of the same class
    (1024-65535) and parity (RFC 4787 REQ-3, REQ-4); each answer reaches its host; the
    BIB says what the server saw."""
    add_host_b(net)
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    echo_server(net, proto, "ns4", SERVER4, 7000)
    out = exchange(net, proto, SERVER6, 7000, f"{HOST_A}#1234", f"{HOST_B}#1234")
    assert len(out) == 2, out
    assert out[0] == f"OK {POOL4}#1234 from {HOST_A}#1234"
    ok, mask_b, payload = out[1].split(" ", 2)
    assert (ok, payload) == ("OK", f"from {HOST_B}#1234"), out[1]
    addr_b, port_b = mask_b.split("#")
    port_b = int(port_b)
    assert addr_b == POOL4
    assert port_b != 1234 and port_b >= 1024 and port_b % 2 == 0, port_b
    assert sorted(nat.bib(proto), key=lambda e: e["ipv6 address"]) == [
        {"protocol": proto.upper(), "ipv6 address": f"{HOST_A}#1234",
         "ipv4 address": f"{POOL4}#1234", "static": False},
        {"protocol": proto.upper(), "ipv6 address": f"{HOST_B}#1234",
         "ipv4 address": mask_b, "static": False},
    ]


# ---- pool4 exhaustion ----

def test_pool4_exhausted_refuses_new_flow_keeps_old(net, instance):
    """pool4 = one UDP port (192.0.2.2#1234). A's flow takes it; B's first datagram finds
    no free port: discarded with ICMPv6 Destination Unreachable, Address Unreachable
    (RFC 6146 §3.5.1.1), so B's connected socket fails at once with EHOSTUNREACH; A's
    flow still works; POOL4_EXHAUSTED counts B's one datagram."""
    add_host_b(net)
    cfg = dict(DEFAULT_CONFIG)
    cfg["pool4"] = [{"protocol": "UDP", "prefix": POOL4, "port range": "1234-1234"}]
    nat = instance(cfg, args=["--uplink4", "x4"], routes=[POOL6, POOL4])
    echo_server(net, "udp", "ns4", SERVER4, 7000)
    before = nat.counters()
    out = exchange(net, "udp", SERVER6, 7000, f"{HOST_A}#5000", f"{HOST_B}#5000", "again")
    assert len(out) == 3, out
    assert out[0] == f"OK {POOL4}#1234 from {HOST_A}#5000"
    err, name, seconds = out[1].split()
    assert (err, name) == ("ERR", "EHOSTUNREACH"), out[1]
    assert float(seconds) < 1.0  # fails fast: no 5 s receive timeout
    assert out[2] == f"OK {POOL4}#1234 from {HOST_A}#5000"
    after = nat.counters()
    assert delta(before, after, "POOL4_EXHAUSTED", "ICMP6ERR_SENT", "BIB_CREATED") == {
        "POOL4_EXHAUSTED": 1, "ICMP6ERR_SENT": 1, "BIB_CREATED": 1}
    assert [e["ipv6 address"] for e in nat.bib("udp")] == [f"{HOST_A}#5000"]


# ---- expiry ----

def test_icmp_mapping_expires_after_icmp_timeout(net, instance):
    """icmp-timeout 2 s (no minimum, unlike udp-timeout's 2 min): one ping creates an
    ICMP BIB entry and session, which are gone from `bib display` a little after 2 s."""
    cfg = dict(DEFAULT_CONFIG)
    cfg["global"] = dict(cfg["global"], **{"icmp-timeout": "0:00:02"})
    nat = instance(cfg, args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    before = nat.counters()
    net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    pinged = time.monotonic()
    (entry,) = nat.bib("icmp")
    assert entry["ipv6 address"].startswith(HOST_A + "#")
    assert len(nat.sessions("icmp")) == 1
    poll("ICMP BIB entry to expire", lambda: nat.bib("icmp") == [], timeout=15, interval=0.1)
    waited = time.monotonic() - pinged
    assert waited >= 1.5, f"expired after {waited:.2f} s, icmp-timeout is 2 s"
    assert nat.sessions("icmp") == []
    assert delta(before, nat.counters(), "BIB_CREATED", "BIB_REMOVED", "SESSION_CREATED",
                 "SESSION_REMOVED") == {"BIB_CREATED": 1, "BIB_REMOVED": 1,
                                        "SESSION_CREATED": 1, "SESSION_REMOVED": 1}


def test_udp_mapping_expires_after_udp_timeout(net, instance):
    """udp-timeout set at startup to its minimum (2:00, RFC 6146 §4 / Jool): one
    datagram creates a UDP BIB entry and session; both are still there just before
    2 minutes and gone a little after (the sweep runs every second)."""
    cfg = dict(DEFAULT_CONFIG)
    cfg["global"] = dict(cfg["global"], **{"udp-timeout": "0:02:00"})
    nat = instance(cfg, args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    before = nat.counters()
    net.ns6("python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)"
            f".sendto(b\"x\", (\"{SERVER6}\", 9))'")
    sent = time.monotonic()
    poll("UDP BIB entry", lambda: len(nat.bib("udp")) == 1)
    time.sleep(max(0.0, 110 - (time.monotonic() - sent)))
    assert len(nat.bib("udp")) == 1 and len(nat.sessions("udp")) == 1, "expired too early"
    poll("UDP BIB entry to expire", lambda: nat.bib("udp") == [], timeout=30, interval=0.5)
    waited = time.monotonic() - sent
    assert 119 <= waited <= 130, f"expired after {waited:.1f} s, udp-timeout is 120 s"
    assert nat.sessions("udp") == []
    assert delta(before, nat.counters(), "BIB_CREATED", "BIB_REMOVED", "SESSION_CREATED",
                 "SESSION_REMOVED") == {"BIB_CREATED": 1, "BIB_REMOVED": 1,
                                        "SESSION_CREATED": 1, "SESSION_REMOVED": 1}


# ---- IPv4-initiated traffic without a BIB entry ----

# From the IPv4 side: a connected UDP socket's datagram, then a TCP connect; prints the
# errno names and the seconds each took.
V4_PROBE = r"""
import errno, socket, sys, time
dst, port = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.connect((dst, port))
u.send(b"hello")
t0 = time.monotonic()
try:
    u.recv(100)
    print("udp answered")
except OSError as e:
    print("udp", errno.errorcode.get(e.errno, e), round(time.monotonic() - t0, 2))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.settimeout(20)
t0 = time.monotonic()
try:
    t.connect((dst, port))
    print("tcp connected")
except OSError as e:
    print("tcp", errno.errorcode.get(e.errno, e), round(time.monotonic() - t0, 2))
"""


def test_ipv4_initiated_without_bib_refused(net, instance):
    """No BIB entry for 192.0.2.2#4444: a UDP datagram is refused with ICMPv4 Port
    Unreachable (RFC 6146 §3.5.1.1): ECONNREFUSED at once; a ping is dropped silently
    (§3.5.3); a TCP SYN is kept 6 s for a simultaneous open, then answered with Port
    Unreachable (§3.5.2.2): ECONNREFUSED after about 6 s. Counted: BIB4_NOT_FOUND for
    the UDP datagram and the ping, TYPE1PKT and SO_EXPIRED for the SYN."""
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    before = nat.counters()
    res = net.ns4(f"ping -c 1 -W 1 {POOL4}", check=False)
    assert res.returncode != 0 and "0 received" in res.stdout, res.stdout
    out = net.ns4(f"python3 {script(net, 'v4_probe.py', V4_PROBE)} {POOL4} 4444",
                  timeout=60).stdout.splitlines()
    udp, tcp = out[0].split(), out[1].split()
    assert udp[:2] == ["udp", "ECONNREFUSED"] and float(udp[2]) < 1.0, out
    assert tcp[:2] == ["tcp", "ECONNREFUSED"] and 5.0 <= float(tcp[2]) < 9.0, out
    assert delta(before, nat.counters(), "BIB4_NOT_FOUND", "TYPE1PKT", "SO_EXPIRED",
                 "BIB_CREATED") == {"BIB4_NOT_FOUND": 2, "TYPE1PKT": 1, "SO_EXPIRED": 1,
                                    "BIB_CREATED": 0}
    assert nat.bib("udp") == [] and nat.bib("tcp") == [] and nat.bib("icmp") == []


# ---- hairpinning ----

def hairpin_config(port4=5000):
    """pool4 for UDP and TCP, and B#5000 reachable as POOL4#port4 by static entries."""
    cfg = dict(DEFAULT_CONFIG)
    cfg["pool4"] = [{"protocol": p, "prefix": POOL4, "port range": "1-65535"}
                    for p in ("UDP", "TCP")]
    cfg["bib"] = [{"protocol": p, "ipv6 address": f"{HOST_B}#5000",
                   "ipv4 address": f"{POOL4}#{port4}"} for p in ("UDP", "TCP")]
    return cfg


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_hairpinning_between_ipv6_hosts(net, instance, proto):
    """B (2001:db8:6::3#5000) is reachable as 192.0.2.2#5000 by a static BIB entry. A
    sends to pool6 + that address, 64:ff9b::c000:202#5000: the translator turns it around
    (RFC 6146 §3.8) and B sees A as pool6 + A's mask, 64:ff9b::c000:202#<A's pool4
    port>; B's answer reaches A from 64:ff9b::c000:202#5000."""
    add_host_b(net)
    nat = instance(hairpin_config(), args=["--uplink4", "x4"], routes=[POOL6, POOL4])
    echo_server(net, proto, "ns6", HOST_B, 5000)
    before = nat.counters()
    out = exchange(net, proto, POOL4_AS6, 5000, f"{HOST_A}#40000")
    assert out == [f"OK {POOL4_AS6}#40000 from {HOST_A}#40000"]
    dynamic = [e for e in nat.bib(proto) if not e["static"]]
    assert dynamic == [{"protocol": proto.upper(), "ipv6 address": f"{HOST_A}#40000",
                        "ipv4 address": f"{POOL4}#40000", "static": False}]
    hairpinned = delta(before, nat.counters(), "HAIRPINNED")["HAIRPINNED"]
    if proto == "udp":
        assert hairpinned == 2  # the request and the answer
    else:
        assert hairpinned >= 6  # SYN, SYN/ACK, ACK, data both ways, FINs


# ---- RFC 6052 §3.1: the Well-Known Prefix and non-global IPv4 addresses ----

def test_wkp_nonglobal_destination_refused_then_allowed(net, instance):
    """pool6 64:ff9b::/96 with the default wkp-global-only true: a ping to 192.0.2.10
    and a UDP datagram to 198.51.100.7 (documentation ranges, not global) are not
    translated, NONGLOBAL_DST counts each; after `global update wkp-global-only false`
    the same ping is translated."""
    cfg = {"global": {"pool6": POOL6}}
    nat = instance(cfg, args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    assert nat.cli.json("global", "display")["wkp-global-only"] is True
    before = nat.counters()
    res = net.ns6(f"ping -c 2 -i 0.2 -W 1 {SERVER6}", check=False)
    assert "2 packets transmitted, 0 received" in res.stdout, res.stdout
    net.ns6("python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)"
            ".sendto(b\"x\", (\"64:ff9b::198.51.100.7\", 9))'")
    poll("NONGLOBAL_DST to count 3 packets",
         lambda: delta(before, nat.counters(), "NONGLOBAL_DST")["NONGLOBAL_DST"] == 3)
    after = nat.counters()
    assert delta(before, after, "BIB_CREATED", "SUCCESS") == {"BIB_CREATED": 0, "SUCCESS": 0}
    assert nat.bib("icmp") == [] and nat.bib("udp") == []

    nat.cli.ok("global", "update", "wkp-global-only", "false")
    net.ns6(f"ping -c 2 -i 0.2 -W 2 {SERVER6}")
    assert delta(after, nat.counters(), "NONGLOBAL_DST")["NONGLOBAL_DST"] == 0
    assert len(nat.bib("icmp")) == 1
