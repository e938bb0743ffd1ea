"""Path MTU discovery through nat64d, both ways, with a router on each side whose next
link is smaller than the rest of the path (docs/mtu.md).

   ns6 client          r6 router             nsx translator          r4 router           ns4 server
  c6 2001:db8:6::2 -- r6c 2001:db8:6::1      x6 2001:db8:5::1      r4x 192.0.2.254 ---- s4 198.51.100.10
                       r6x 2001:db8:5::2 --  [nat64d, TUN 1500]    r4s 198.51.100.1
                       (to c6: 1400)          x4 192.0.2.1 ------  (to s4: 1400)

Every veth link is 1500 bytes, so both end hosts advertise a TCP MSS for 1500 and must
learn the smaller size from ICMP; each router forwards to its end host through a route
with `mtu lock 1400` (what a 1400-byte link after it would be: the kernel honours a
locked route MTU when forwarding). So:

  6->4: r4 answers IPv4 packets above 1400 with Fragmentation Needed (MTU 1400) to pool4,
        nat64d translates it to Packet Too Big (MTU 1420, RFC 7915 §5.2 arithmetic) for
        the client;
  4->6: r6 answers IPv6 packets above 1400 with Packet Too Big (1400) to pool6 + server,
        nat64d translates it to Fragmentation Needed (1380) for the server; an IPv4
        packet with DF whose IPv6 form exceeds the TUN's 1500 gets nat64d's own
        Fragmentation Needed (1480, RFC 7915 §4).

The client reaches the server at 64:ff9b::198.51.100.10 (wkp-global-only off, as in
conftest.py's DEFAULT_CONFIG). Namespaces are conftest.py's three plus -r6 and -r4,
named like them so a dead run's leftovers are deleted too; all five always go at
teardown. The `routed` fixture is shared with test_frag.py and test_icmp_errors.py.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import (DEFAULT_CONFIG, POOL4, POOL6, Net, _cannot_run, _check_environment,
                      _delete_leftovers, _kill_netns_pids, log, poll)

CLIENT6 = "2001:db8:6::2"
R6_NEAR = "2001:db8:6::1"
R6_FAR = "2001:db8:5::2"
X6 = "2001:db8:5::1"
X4 = "192.0.2.1"
R4_NEAR = "192.0.2.254"
R4_FAR = "198.51.100.1"
SERVER4 = "198.51.100.10"
SERVER6 = "64:ff9b::c633:640a"  # 64:ff9b::198.51.100.10
R4_6 = "64:ff9b::c000:2fe"  # 64:ff9b::192.0.2.254
OWN4 = "192.0.0.8"  # nat64d's default --own4
LINK_MTU = 1400
PING_ID = 4000  # the static ICMP BIB entry's identifier (both sides)

TOOLS = ["tracepath", "traceroute"]
PY = sys.executable  # has scapy (python3-scapy); helper scripts run with it too


class Routed(Net):
    """conftest.Net with the two routers and the addressing above."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path)
        base = self.name6[:-2]
        self.name_r6, self.name_r4 = base + "-r6", base + "-r4"

    def r6(self, cmd, **kw):
        return self._run("r6", self.name_r6, cmd, **kw)

    def r4(self, cmd, **kw):
        return self._run("r4", self.name_r4, cmd, **kw)

    def all_names(self):
        return (self.name6, self.name_r6, self.namex, self.name_r4, self.name4)

    def _veth(self, a, ns_a, b, ns_b):
        subprocess.run(["ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", b,
                        "netns", ns_b], check=True)

    def setup(self):
        for ns in self.all_names():
            subprocess.run(["ip", "netns", "add", ns], check=True)
        self._veth("c6", self.name6, "r6c", self.name_r6)
        self._veth("r6x", self.name_r6, "x6", self.namex)
        self._veth("x4", self.namex, "r4x", self.name_r4)
        self._veth("r4s", self.name_r4, "s4", self.name4)
        fwd = "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
        self.ns6("ip link set lo up && ip link set c6 up && "
                 f"ip addr add {CLIENT6}/64 dev c6 nodad && "
                 f"ip -6 route add default via {R6_NEAR}")
        self.r6(f"ip link set lo up && ip link set r6c up && ip link set r6x up && {fwd} && "
                f"ip addr add {R6_NEAR}/64 dev r6c nodad && "
                f"ip addr add {R6_FAR}/64 dev r6x nodad && "
                f"ip -6 route add default via {X6} && "
                f"ip -6 route add {CLIENT6}/128 dev r6c mtu lock {LINK_MTU}")
        self.nat(f"ip link set lo up && ip link set x6 up && ip link set x4 up && {fwd} && "
                 f"ip addr add {X6}/64 dev x6 nodad && ip addr add {X4}/24 dev x4 && "
                 f"ip -6 route add 2001:db8:6::/64 via {R6_FAR} && "
                 f"ip route add 198.51.100.0/24 via {R4_NEAR}")
        self.r4(f"ip link set lo up && ip link set r4x up && ip link set r4s up && {fwd} && "
                f"ip addr add {R4_NEAR}/24 dev r4x && ip addr add {R4_FAR}/24 dev r4s && "
                f"ip route add default via {X4} && "
                f"ip route add {SERVER4}/32 dev r4s mtu lock {LINK_MTU}")
        self.ns4("ip link set lo up && ip link set s4 up && "
                 f"ip addr add {SERVER4}/24 dev s4 && ip route add default via {R4_FAR}")

    def teardown(self):
        super().teardown()  # nat64d and every process; the three namespaces
        for ns in (self.name_r6, self.name_r4):
            _kill_netns_pids(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    # ---- helpers ----

    def script(self, name, text):
        return self.write_config(name, text)

    def run_py(self, label, ns, name, text, args=(), timeout=60):
        """Runs a helper program in `ns` to its end; returns its stdout (raises on error)."""
        prog = self.script(name, text)
        cmd = " ".join([PY, prog] + [str(a) for a in args])
        return self._run(label, ns, cmd, timeout=timeout).stdout

    def spawn_py(self, label, ns, name, text, args=()):
        """A helper program in the background; returns once it printed "ready"."""
        prog = self.script(name, text)
        proc = self.spawn(label, ns, [PY, prog] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline().strip()
        assert line == "ready", f"{name} in {label}: {line!r} {proc.stderr.read()}"
        return proc


def static_icmp_config(extra=None):
    """The default configuration with a static ICMP BIB entry, so the server can ping
    the client at 192.0.2.2 with identifier 4000 (client6#4000)."""
    cfg = json.loads(json.dumps(DEFAULT_CONFIG))
    cfg["pool4"] = [
        {"protocol": "ICMP", "prefix": POOL4, "port range": "0-65535"},
        {"protocol": "UDP", "prefix": POOL4, "port range": "1-65535"},
        {"protocol": "TCP", "prefix": POOL4, "port range": "1-65535"},
    ]
    cfg["bib"] = [{"protocol": "ICMP", "ipv6 address": f"{CLIENT6}#{PING_ID}",
                   "ipv4 address": f"{POOL4}#{PING_ID}"}]
    cfg["global"].update(extra or {})
    return cfg


@pytest.fixture
def routed(tmp_path):
    """The five namespaces, no translator yet."""
    _check_environment()
    for tool in TOOLS:
        if shutil.which(tool) is None:
            _cannot_run(f"`{tool}` is missing (run scripts/install-deps.sh)")
    _delete_leftovers()
    n = Routed(tmp_path)
    try:
        n.setup()
        yield n
    finally:
        n.teardown()


def start_translator(net, config=None, args=()):
    """nat64d in nsx (pool4 192.0.2.2 with proxy ARP on x4, routes polled) and, when
    the CLI is built, its control socket; returns the Instance-like pair (daemon, cli)."""
    from cli_fixture import NAT64, Cli, instance_name, wait_socket

    name = instance_name()
    cfg = net.write_config(f"{name}.json", config or static_icmp_config())
    d = net.start_nat64d(["--config", cfg, "--uplink4", "x4", *args], instance=name,
                         wait_routes=[POOL6, POOL4])
    cli = Cli(name, d, net)
    if os.access(NAT64, os.X_OK):
        wait_socket(cli)
    warm_up(net)
    return d, cli


def warm_up(net):
    """Polls until a small ping crosses each way: neighbours resolved on every link, so
    no single probe of a test is lost to address resolution."""
    poll("a ping 6->4 through nat64d",
         lambda: net.ns6(f"ping -n -c 1 -W 1 {SERVER6}", check=False).returncode == 0)
    poll("a ping 4->6 through nat64d (static ICMP BIB entry)",
         lambda: net.ns4(f"ping -n -c 1 -W 1 -e {PING_ID} {POOL4}",
                         check=False).returncode == 0)


def counters(cli):
    """`nat64 stats display --json`."""
    return cli.json("stats", "display")


def route_mtu(net_fn, dst):
    """The MTU the kernel of a host has learnt for `dst` (0: none)."""
    out = net_fn(f"ip route get {dst}").stdout
    m = re.search(r"\bmtu (\d+)", out)
    return int(m.group(1)) if m else 0


# ---- TCP through the smaller links ----

# "serve PORT SIZE": accepts one connection, sends SIZE seeded pseudo-random bytes, reads
# until EOF and prints the SHA-256 of what it read. "fetch HOST PORT SIZE": connects,
# sends SIZE bytes and shuts its side while it reads to EOF, prints the SHA-256 of
# what it read. Sending runs in a thread: both ends send at once.
TCP_PEER = r"""
import hashlib, random, socket, sys, threading

def stream(size, seed):
    rng = random.Random(seed)
    while size > 0:
        n = min(size, 65536)
        yield rng.randbytes(n)
        size -= n

def send_all(s, size, seed):
    for chunk in stream(size, seed):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)

def exchange(s, size, seed):
    s.settimeout(60)
    got = hashlib.sha256()
    sender = threading.Thread(target=send_all, args=(s, size, seed))
    sender.start()
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got.update(b)
    sender.join()
    return got.hexdigest()

if sys.argv[1] == "serve":
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(sys.argv[2])))
    ls.listen(1)
    print("ready", flush=True)
    ls.settimeout(60)
    c, _ = ls.accept()
    print(exchange(c, int(sys.argv[3]), 4), flush=True)
else:
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=30)
    print(exchange(s, int(sys.argv[4]), 6), flush=True)
"""


def sha_of_stream(size, seed):
    import random
    rng, h = random.Random(seed), hashlib.sha256()
    while size > 0:
        n = min(size, 65536)
        h.update(rng.randbytes(n))
        size -= n
    return h.hexdigest()


def test_tcp_10mb_each_way_learns_the_path_mtu_both_ways(routed):
    """10 MB each way over one TCP connection, checked by SHA-256. Both hosts advertise
    an MSS for 1500-byte links, so their first full segments are too big for a router's
    1400-byte next hop: the client's PMTU for the server becomes 1420 (r4's FN 1400 +
    20, translated) and the server's for pool4 1380 (r6's PTB 1400 - 20, translated).
    Counters: the translated errors are seen as such, nothing is refused for size."""
    net = routed
    _, cli = start_translator(net)
    size = 10 * 1000 * 1000
    server = net.spawn_py("ns4", net.name4, "tcp_peer.py", TCP_PEER, ["serve", 5001, size])
    fetched = net.run_py("ns6", net.name6, "tcp_peer.py", TCP_PEER,
                         ["fetch", SERVER6, 5001, size], timeout=120).strip()
    assert fetched == sha_of_stream(size, 4), "client received other bytes than sent"
    served = server.stdout.readline().strip()
    assert served == sha_of_stream(size, 6), "server received other bytes than sent"
    assert route_mtu(net.ns6, SERVER6) == LINK_MTU + 20
    assert route_mtu(net.ns4, POOL4) == LINK_MTU - 20


def ping(net_fn, dst, size, count=1, extra=""):
    """ping -M do; its stdout and stderr (where local errors go)."""
    res = net_fn(f"ping -n -c {count} -i 0.2 -W 2 -M do -s {size} {extra} {dst}",
                 check=False)
    return res.stdout + res.stderr


def test_ping_6to4_reports_the_ipv4_side_mtu_on_the_client(routed):
    """ping -M do from the IPv6 client: 1500 bytes of IPv6 are 1480 of IPv4, too big for
    r4's 1400-byte next hop; the client is told 1420 (RFC 7915 §5.2: 1400 + 20) by the
    server's IPv6 address's router, r4 as 64:ff9b::192.0.2.254, and 1420 then passes."""
    net = routed
    start_translator(net)
    out = ping(net.ns6, SERVER6, 1500 - 48)
    assert re.search(rf"From {R4_6} icmp_seq=1 Packet too big: mtu=1420", out), out
    out = ping(net.ns6, SERVER6, 1420 - 48, count=2)
    assert "2 received" in out, out
    out = ping(net.ns6, SERVER6, 1420 - 48 + 1)
    assert "message too long, mtu: 1420" in out, out  # the socket learnt it


def test_ping_4to6_reports_both_mtus_on_the_server(routed):
    """ping -M do from the IPv4 server to the client (static ICMP BIB entry, pool4 #4000):
    1500 bytes of IPv4 with DF are 1520 of IPv6, over the translator's own 1500: nat64d
    answers Fragmentation Needed 1480 itself (RFC 7915 §4) from own4; 1480 bytes then
    reach r6, whose 1400-byte next hop makes it answer Packet Too Big 1400, which
    reaches the server as Fragmentation Needed 1380 (RFC 7915 §4.2); 1380 passes."""
    net = routed
    _, cli = start_translator(net)
    before = counters(cli)
    out = ping(net.ns4, POOL4, 1500 - 28, extra=f"-e {PING_ID}")
    assert re.search(rf"From {OWN4} icmp_seq=1 Frag needed and DF set \(mtu = 1480\)",
                     out), out
    after = counters(cli)
    assert after["TOO_BIG4"] == before["TOO_BIG4"] + 1
    assert after["ICMP4ERR_SENT"] == before["ICMP4ERR_SENT"] + 1
    out = ping(net.ns4, POOL4, 1480 - 28, extra=f"-e {PING_ID}")
    assert re.search(rf"From {POOL4} icmp_seq=1 Frag needed and DF set \(mtu = 1380\)",
                     out), out
    out = ping(net.ns4, POOL4, 1380 - 28, count=2, extra=f"-e {PING_ID}")
    assert "2 received" in out, out


def test_tracepath_reports_the_reduced_path_mtu(routed):
    """tracepath -6 from the client: every hop, and pmtu 1420 learnt through the
    translator (its probes are UDP; the last hop answers Port Unreachable)."""
    net = routed
    start_translator(net)
    out = net.ns6(f"tracepath -6 -n -m 8 {SERVER6}", check=False).stdout
    assert re.search(r"pmtu 1420", out), out
    assert re.search(r"Resume: pmtu 1420 hops 4", out), out
    assert SERVER6 in out and R4_6 in out, out


@pytest.mark.parametrize("mode", ["-U", "-I"])
def test_traceroute6_shows_translator_and_ipv4_hops(routed, mode):
    """traceroute -6 in UDP and ICMP modes: r6, then the translator's host (its kernel
    answers the hop limit it spends, tun_hop_compensation), then r4 and the server
    through translated Time Exceeded / Port Unreachable / Echo Reply, each at its
    pool6 address, in order."""
    net = routed
    start_translator(net)
    out = net.ns6(f"traceroute -6 -n {mode} -q 1 -w 2 -m 6 {SERVER6}",
                  check=False, timeout=60).stdout
    hops = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\d+)\s+(\S+)", line)
        if m:
            hops[int(m.group(1))] = m.group(2)
    assert hops == {1: R6_NEAR, 2: X6, 3: R4_6, 4: SERVER6}, out
