"""Traffic across nat64d with real programs: pings both ways (static ICMP BIB entry for
the IPv4-initiated ones), a 100 MB TCP transfer each way checked by SHA-256, 50
concurrent TCP connections, a UDP request/response exchange.

Basic pings 6->4 (56 and 1400 bytes) and the static TCP BIB entry are in
test_basic_traffic.py. Topology and fixtures: conftest.py.
"""

import re
import subprocess
import time

import pytest

from conftest import CLIENT6, POOL4, POOL6, SERVER4, SERVER6, DEFAULT_CONFIG

PING_ID = 4000


def ping_received(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def script(net, name, text):
    """Path of a file holding the Python program `text` (logs stay readable)."""
    return net.write_config(name, text)


def readline(proc, what):
    """First line a helper script prints ("ready", a result...); EOF means it died."""
    line = proc.stdout.readline()
    assert line, f"{what} exited {proc.wait()} before printing a line"
    return line.strip()


# ---- ping ----

def static_icmp_config():
    cfg = dict(DEFAULT_CONFIG)
    cfg["pool4"] = [{"protocol": "ICMP", "prefix": POOL4, "port range": "0-65535"}]
    cfg["bib"] = [{"protocol": "ICMP", "ipv6 address": f"{CLIENT6}#{PING_ID}",
                   "ipv4 address": f"{POOL4}#{PING_ID}"}]
    return cfg


@pytest.mark.parametrize("size", [56, 1400])
def test_ping_4to6_through_static_icmp_bib(net, size):
    """The IPv4 server pings the IPv6 client at 192.0.2.2 with identifier 4000, which a
    static ICMP BIB entry maps to 2001:db8:6::2#4000: request 4->6, reply 6->4. 1400
    bytes of payload: IPv4 1428, IPv6 1448, both under the 1500 MTU, DF set."""
    cfg = net.write_config("icmp-bib.json", static_icmp_config())
    net.start_nat64d(["--config", cfg, "--uplink4", "x4"], wait_routes=[POOL6, POOL4])
    out = net.ns4(f"ping -c 3 -i 0.2 -W 2 -e {PING_ID} -s {size} -M do {POOL4}").stdout
    assert ping_received(out) == (3, 3)
    assert f"{size + 8} bytes from {POOL4}: icmp_seq=1" in out


FRAGMENTED_PINGS = {"FRAG_REASSEMBLED": 6, "FRAGMENTED_OUT": 6, "FRAG_TIMEOUT": 0,
                    "FRAG_OVERLAP": 0, "FRAG_BUDGET": 0}


def frag_counters(c):
    return {k: c[k] for k in ("FRAG_REASSEMBLED", "FRAGMENTED_OUT", "FRAG_TIMEOUT",
                              "FRAG_OVERLAP", "FRAG_BUDGET")}


@pytest.mark.parametrize("size", [3000, 20000])
def test_ping_6to4_fragmented(net, instance, size):
    """Echo requests larger than the 1500 MTU, fragmented by the IPv6 client, reassembled
    and translated; the IPv4 server's replies, fragmented by it, come back whole."""
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    out = net.ns6(f"ping -c 3 -i 0.2 -W 2 -s {size} {SERVER6}").stdout
    assert ping_received(out) == (3, 3)
    assert f"{size + 8} bytes from {SERVER6.replace('192.0.2.10', 'c000:20a')}" in out
    # 3 requests and 3 replies, each reassembled whole, translated, then cut to the
    # 1500 MTU on the way out (docs/fragments.md).
    assert frag_counters(nat.counters()) == FRAGMENTED_PINGS


@pytest.mark.parametrize("size", [3000, 20000])
def test_ping_4to6_fragmented(net, instance, size):
    """The same pings from the IPv4 side through the static ICMP BIB entry."""
    nat = instance(static_icmp_config(), args=["--uplink4", "x4"], routes=[POOL6, POOL4])
    out = net.ns4(f"ping -c 3 -i 0.2 -W 2 -e {PING_ID} -s {size} {POOL4}").stdout
    assert ping_received(out) == (3, 3)
    assert f"{size + 8} bytes from {POOL4}: icmp_seq=1" in out
    # 3 requests and 3 replies, each reassembled whole, translated, then cut to the
    # 1500 MTU on the way out (docs/fragments.md).
    assert frag_counters(nat.counters()) == FRAGMENTED_PINGS


# ---- TCP: 100 MB checked by SHA-256 ----

# Sends `size` bytes of a seeded pseudo-random stream, then shuts down its side and
# prints the SHA-256 of what it sent and the peer's answer (the receiver's SHA-256).
# Mode "connect HOST PORT" or "listen HOST PORT" (prints "ready" once listening).
TCP_SENDER = r"""
import hashlib, random, socket, sys
mode, host, port, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
if mode == "listen":
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port)); ls.listen(1)
    print("ready", flush=True)
    ls.settimeout(60)
    s, _ = ls.accept()
else:
    s = socket.create_connection((host, port), timeout=10)
s.settimeout(60)
rng, h, left = random.Random(20240601), hashlib.sha256(), size
while left:
    chunk = rng.randbytes(min(left, 1 << 20))
    h.update(chunk); s.sendall(chunk); left -= len(chunk)
s.shutdown(socket.SHUT_WR)
answer = b""
while True:
    b = s.recv(4096)
    if not b: break
    answer += b
print(h.hexdigest(), answer.decode(), flush=True)
"""

# Receives until EOF, then answers with "<sha256> <bytes>" and closes. Same modes.
TCP_RECEIVER = r"""
import hashlib, socket, sys
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
if mode == "listen":
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port)); ls.listen(1)
    print("ready", flush=True)
    ls.settimeout(60)
    s, peer = ls.accept()
else:
    s = socket.create_connection((host, port), timeout=10)
    peer = s.getpeername()
s.settimeout(60)
h, n = hashlib.sha256(), 0
while True:
    b = s.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
s.sendall(f"{h.hexdigest()} {n}".encode())
s.close()
print(peer[0], flush=True)
"""

SIZE_100MB = 100 * 1000 * 1000


def test_tcp_100mb_upload_6to4(net, translator):
    """The IPv6 client sends 100 MB to the IPv4 server, which sees the pool4 address as
    its peer and computes the same SHA-256 (bounded: 120 s)."""
    receiver = script(net, "tcp_receiver.py", TCP_RECEIVER)
    rx = net.spawn("ns4", net.name4, ["python3", receiver, "listen", SERVER4, "5001"],
                   stdout=subprocess.PIPE, text=True)
    assert readline(rx, "receiver") == "ready"
    t0 = time.monotonic()
    sender = script(net, "tcp_sender.py", TCP_SENDER)
    out = net.ns6(f"python3 {sender} connect {SERVER6} 5001 {SIZE_100MB}",
                  timeout=120).stdout.split()
    elapsed = time.monotonic() - t0
    sent_hash, got_hash, got_len = out
    assert (got_hash, int(got_len)) == (sent_hash, SIZE_100MB)
    assert readline(rx, "receiver") == POOL4
    print(f"100 MB 6->4 in {elapsed:.1f} s")


def test_tcp_100mb_download_4to6(net, translator):
    """The IPv4 server sends 100 MB to the IPv6 client that connected to it."""
    sender = script(net, "tcp_sender.py", TCP_SENDER)
    tx = net.spawn("ns4", net.name4, ["python3", sender, "listen", SERVER4, "5002",
                                      str(SIZE_100MB)], stdout=subprocess.PIPE, text=True)
    assert readline(tx, "sender") == "ready"
    t0 = time.monotonic()
    receiver = script(net, "tcp_receiver.py", TCP_RECEIVER)
    peer = net.ns6(f"python3 {receiver} connect {SERVER6} 5002", timeout=120).stdout.strip()
    elapsed = time.monotonic() - t0
    assert peer == SERVER6.replace("192.0.2.10", "c000:20a")
    sent_hash, got_hash, got_len = readline(tx, "sender").split()
    assert (got_hash, int(got_len)) == (sent_hash, SIZE_100MB)
    print(f"100 MB 4->6 in {elapsed:.1f} s")


# ---- TCP: 50 concurrent connections ----

N_PARALLEL = 50

# Answers each connection with "<its request> from <peer>" only once all N are open
# (a barrier), which proves they were open at the same time through the translator.
BARRIER_SERVER = r"""
import socket, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
barrier = threading.Barrier(n, timeout=30)
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port)); ls.listen(n)
print("ready", flush=True)
def serve(s, peer):
    s.settimeout(30)
    req = s.recv(100)
    barrier.wait()
    s.sendall(req + f" from {peer[0]}#{peer[1]}".encode())
    s.close()
threads = []
for _ in range(n):
    s, peer = ls.accept()
    t = threading.Thread(target=serve, args=(s, peer)); t.start(); threads.append(t)
for t in threads: t.join()
print("done", flush=True)
"""

PARALLEL_CLIENT = r"""
import socket, sys, threading
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
answers = [None] * n
def fetch(i):
    s = socket.create_connection((host, port), timeout=30)
    s.sendall(f"request {i}".encode())
    data = b""
    while True:
        b = s.recv(200)
        if not b: break
        data += b
    answers[i] = data.decode()
threads = [threading.Thread(target=fetch, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
for a in answers: print(a)
"""


def test_tcp_50_concurrent_connections(net, instance):
    """50 connections open at once from the IPv6 client, each answered with its own
    request: 50 TCP BIB entries with 50 distinct pool4 ports, as the server saw them."""
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    server = script(net, "barrier_server.py", BARRIER_SERVER)
    srv = net.spawn("ns4", net.name4, ["python3", server, SERVER4, "5003", str(N_PARALLEL)],
                    stdout=subprocess.PIPE, text=True)
    assert readline(srv, "server") == "ready"
    client = script(net, "parallel_client.py", PARALLEL_CLIENT)
    out = net.ns6(f"python3 {client} {SERVER6} 5003 {N_PARALLEL}",
                  timeout=60).stdout.splitlines()
    assert len(out) == N_PARALLEL
    seen = set()
    for i, line in enumerate(out):
        m = re.fullmatch(rf"request {i} from {re.escape(POOL4)}#(\d+)", line)
        assert m, line
        seen.add(f"{POOL4}#{m.group(1)}")
    assert len(seen) == N_PARALLEL
    assert readline(srv, "server") == "done"
    bib = nat.bib("tcp")
    assert sorted(e["ipv4 address"] for e in bib) == sorted(seen)
    assert all(e["ipv6 address"].startswith(CLIENT6 + "#") and not e["static"] for e in bib)


# ---- UDP request/response ----

UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(f"{peer[0]}#{peer[1]} ".encode() + data, peer)
"""

UDP_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("", int(sys.argv[3])))
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(3)
for size in (1, 100, 512, 1400):
    payload = bytes((size + i) % 256 for i in range(size))
    s.send(payload)
    answer, peer = s.recvfrom(65535)
    prefix, _, echoed = answer.partition(b" ")
    assert echoed == payload, (size, len(echoed))
    print(size, prefix.decode(), peer[0], peer[1])
"""


def test_udp_request_response(net, instance):
    """Four datagrams (1 to 1400 bytes) from 2001:db8:6::2#40001 echoed by the IPv4
    server, byte for byte; the server sees 192.0.2.2#40001 (port preserved), the client
    the server at 64:ff9b::c000:20a#5353; one UDP BIB entry, one session."""
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    srv = net.spawn("ns4", net.name4, ["python3", script(net, "udp_echo.py", UDP_ECHO),
                                       SERVER4, "5353"], stdout=subprocess.PIPE, text=True)
    assert readline(srv, "echo server") == "ready"
    before = nat.counters()
    client = script(net, "udp_client.py", UDP_CLIENT)
    out = net.ns6(f"python3 {client} {SERVER6} 5353 40001").stdout.splitlines()
    assert out == [f"{n} {POOL4}#40001 64:ff9b::c000:20a 5353" for n in (1, 100, 512, 1400)]
    assert nat.bib("udp") == [{"protocol": "UDP", "ipv6 address": f"{CLIENT6}#40001",
                               "ipv4 address": f"{POOL4}#40001", "static": False}]
    (s,) = nat.sessions("udp")
    assert s["ipv4 remote"] == f"{SERVER4}#5353"
    after = nat.counters()
    assert after["BIB_CREATED"] - before["BIB_CREATED"] == 1
    assert after["SESSION_CREATED"] - before["SESSION_CREATED"] == 1
