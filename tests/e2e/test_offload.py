"""TUN offloads (docs/offloads.md): nat64d reads and writes 64 KB TCP super-packets with
partial checksums and translates each once; the kernel segments them on the way out.

Large TCP transfers both ways through the translator, their bytes checked with sha256 at
the other end: an IPv6 client to the IPv4 server (6->4 super-packets up, 4->6 down), and
an IPv4 client to an IPv6 server through a static BIB entry. The GSO_TRANSLATED counter
proves super-packets went through; `--offload off` still translates, without any.
"""

import subprocess

import pytest

from conftest import CLIENT6, POOL4, POOL6, SERVER4, SERVER6

PORT = 9000
BIB_PORT = 8000
SIZE = 8 * 1024 * 1024

# Server: for each connection, "UP n\n" then n bytes -> replies with their sha256;
# "DOWN n seed\n" -> sends n bytes of the seeded pattern. Client: both, checks both.
XFER = r'''
import hashlib, random, socket, sys

def pattern(n, seed):
    return random.Random(seed).randbytes(n)

def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            raise SystemExit(f"short: {len(buf)} of {n}")
        buf += chunk
    return bytes(buf)

def line(s):
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise SystemExit("eof")
        b += c
    return b.decode().split()

def serve(fam, addr, port):
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(4)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        with c:
            words = line(c)
            if words[0] == "UP":
                c.sendall(hashlib.sha256(recv_exact(c, int(words[1]))).hexdigest().encode())
            else:
                c.sendall(pattern(int(words[1]), int(words[2])))

def client(fam, addr, port, n):
    data = pattern(n, 1)
    with socket.create_connection((addr, port), timeout=60) as s:
        s.sendall(b"UP %d\n" % n + data)
        got = recv_exact(s, 64).decode()
    want = hashlib.sha256(data).hexdigest()
    assert got == want, f"upload: server saw {got}, sent {want}"
    with socket.create_connection((addr, port), timeout=60) as s:
        s.sendall(b"DOWN %d 2\n" % n)
        got = hashlib.sha256(recv_exact(s, n)).hexdigest()
    want = hashlib.sha256(pattern(n, 2)).hexdigest()
    assert got == want, f"download: got {got}, want {want}"
    print("ok", flush=True)

fam = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
if sys.argv[1] == "serve":
    serve(fam, sys.argv[2], int(sys.argv[3]))
else:
    client(fam, sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
'''


# The translator's links without TX checksum offload (legacy ETHTOOL_STXCSUM, which also
# drops TSO): the kernel then finishes each partial checksum nat64d writes and cuts each
# super-packet in software, and the receiving stack verifies every segment's checksum, so
# a wrong pseudo-header sum loses data. Over veth with offloads the receiver would trust
# a partial checksum without checking it.
TX_CSUM_OFF = r'''
import ctypes, fcntl, socket, struct, sys
class Value(ctypes.Structure):
    _fields_ = [("cmd", ctypes.c_uint32), ("data", ctypes.c_uint32)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for name in sys.argv[1:]:
    for cmd, data in ((0x17, 0), (0x16, 9)):     # ETHTOOL_STXCSUM 0, then GTXCSUM
        v = Value(cmd, data)
        fcntl.ioctl(s.fileno(), 0x8946, struct.pack("16sP", name.encode(), ctypes.addressof(v)))
    assert v.data == 0, f"{name}: tx checksumming still on"
print("ok")
'''


def start_server(net, ns, addr, port):
    prog = net.write_config("xfer.py", XFER)
    label = "ns4" if ns == net.name4 else "ns6"
    proc = net.spawn(label, ns, ["python3", prog, "serve", addr, str(port)],
                     stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return prog


def transfer(net, run, prog, addr, port):
    out = run(f"python3 {prog} client {addr} {port} {SIZE}", timeout=120).stdout
    assert out.strip() == "ok", out


def gso_translated(nat):
    return nat.counters().get("GSO_TRANSLATED", 0)


@pytest.mark.parametrize("sw_csum", [False, True], ids=["veth-offloads", "sw-checksums"])
def test_offload_large_tcp_both_ways(net, instance, sw_csum):
    if sw_csum:
        prog = net.write_config("txcsum.py", TX_CSUM_OFF)
        assert net.nat(f"python3 {prog} x4 x6").stdout.strip() == "ok"
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    nat.daemon.wait_log("offloads on: csum tso4 tso6")
    prog = start_server(net, net.name4, SERVER4, PORT)
    transfer(net, net.ns6, prog, SERVER6, PORT)
    after_6to4_flow = gso_translated(nat)
    assert after_6to4_flow > 0, nat.counters()

    # 4->6 new flow through a static BIB entry: IPv4 client, IPv6 server.
    nat.cli.ok("bib", "add", f"{POOL4}#{BIB_PORT}", f"{CLIENT6}#{BIB_PORT}", "--tcp")
    start_server(net, net.name6, CLIENT6, BIB_PORT)
    transfer(net, net.ns4, prog, POOL4, BIB_PORT)
    assert gso_translated(nat) > after_6to4_flow, nat.counters()
    assert nat.daemon.alive()


def test_offload_off_still_translates(net, instance):
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}", "--offload", "off"],
                   routes=[POOL6, POOL4])
    nat.daemon.wait_log("offloads off (--offload off)")
    prog = start_server(net, net.name4, SERVER4, PORT)
    transfer(net, net.ns6, prog, SERVER6, PORT)
    counters = nat.counters()
    assert counters.get("GSO_TRANSLATED", 0) == 0, counters
    assert counters.get("CSUM_PARTIAL", 0) == 0, counters
    assert counters.get("SUCCESS", 0) > 0, counters


def test_offload_option_rejects_other_values(nat64d_bin):
    res = subprocess.run([nat64d_bin, "--offload", "maybe", "-n", f"pool6={POOL6}"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "--offload: 'maybe' is neither on nor off" in res.stderr


# An IPv4 UDP server that answers a datagram with COUNT datagrams of SIZE bytes
# sent in ONE sendmsg() with UDP_SEGMENT (USO, as QUIC servers do), DF clear.
USO_SERVER = r'''
import socket, sys
COUNT, SIZE = int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)      # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
s.setsockopt(socket.IPPROTO_UDP, 103, SIZE)  # UDP_SEGMENT
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
_, peer = s.recvfrom(100)
data = b"".join(bytes([(i * 7 + k) % 251 for k in range(SIZE)]) for i in range(COUNT))
s.sendto(data, peer)
'''

USO_CLIENT = r'''
import socket, sys
COUNT, SIZE = int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"go", (sys.argv[1], int(sys.argv[2])))
got = sorted(s.recv(4096) for _ in range(COUNT))
want = sorted(bytes([(i * 7 + k) % 251 for k in range(SIZE)]) for i in range(COUNT))
print("ok" if got == want else f"bad: {[len(g) for g in got]}")
'''


def test_uso_super_packet_too_big_for_ipv6_is_segmented(net, instance):
    """4->6 datagrams of 1472 bytes (1500 as IPv4) become 1520-byte IPv6 packets,
    above the 1500 MTU: the USO super-packet is segmented in software and each
    datagram, DF clear, is sent as IPv6 fragments (RFC 7915 §4); the client gets
    every datagram whole."""
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    nat.daemon.wait_log("offloads on")
    if "uso4" not in nat.daemon.log_text():
        pytest.skip("this kernel has no USO on TUN devices")
    server = net.write_config("uso_server.py", USO_SERVER)
    client = net.write_config("uso_client.py", USO_CLIENT)
    proc = net.spawn("ns4", net.name4, ["python3", server, SERVER4, "9443", "3", "1472"],
                     stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    out = net.ns6(f"python3 {client} {SERVER6} 9443 3 1472").stdout
    assert out.strip() == "ok", out
    counters = nat.counters()
    assert counters.get("GSO_SEGMENTED", 0) >= 1, counters
    assert counters.get("GSO_BAD", 0) == 0, counters
    assert counters.get("FRAGMENTED_OUT", 0) >= 3, counters
    assert nat.daemon.alive()
