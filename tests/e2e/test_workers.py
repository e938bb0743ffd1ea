"""Several workers (docs/workers.md): each flow's state in the worker that owns its pool4
port ((port >> 1) % 2 with two workers), the eBPF program steering each packet there, and
handoffs for what can't be steered (a static entry whose IPv6 port is another worker's,
hairpinning across workers, a pool4 share that is full). Counters are summed over the
workers by `nat64 stats display`. Helpers and topology: test_stateful.py, conftest.py.
"""

import pytest

from conftest import DEFAULT_CONFIG, POOL4, POOL6, SERVER4, SERVER6
from test_stateful import (HOST_A, HOST_B, POOL4_AS6, add_host_b, delta, echo_server, exchange,
                           hairpin_config)


def owner(port, workers=2):
    return (port >> 1) % workers


def test_two_workers_steer_every_flow_to_its_owner(net, instance):
    """--workers 2: the log says two workers and eBPF steering. 24 UDP flows from source
    ports of both shares keep their ports (RFC 4787 port preservation: each was mapped by
    the owner of its source port), every answer comes back, and no packet needed a
    handoff: steering alone took each one to the worker holding its state."""
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}", "--workers", "2"],
                   routes=[POOL6, POOL4])
    log = nat.daemon.log_text()
    assert "2 worker threads" in log
    assert "eBPF steering" in log
    echo_server(net, "udp", "ns4", SERVER4, 7000)
    ports = list(range(40000, 40024))
    assert {owner(p) for p in ports} == {0, 1}
    before = nat.counters()
    out = exchange(net, "udp", SERVER6, 7000, *[f"{HOST_A}#{p}" for p in ports])
    assert out == [f"OK {POOL4}#{p} from {HOST_A}#{p}" for p in ports]
    d = delta(before, nat.counters(), "HANDOFF", "SESSION_CREATED", "HANDOFF_LOOP")
    assert d == {"HANDOFF": 0, "SESSION_CREATED": 24, "HANDOFF_LOOP": 0}
    assert len(nat.sessions("udp")) == 24


def test_one_worker_when_asked(net, instance):
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}", "--workers", "1"],
                   routes=[POOL6, POOL4])
    assert "1 worker thread" in nat.daemon.log_text()
    echo_server(net, "udp", "ns4", SERVER4, 7000)
    assert exchange(net, "udp", SERVER6, 7000, f"{HOST_A}#40001") == [
        f"OK {POOL4}#40001 from {HOST_A}#40001"]


def cross_config():
    """B's static entry maps IPv6 port 5000 (worker 0's) to pool4 port 5002 (worker 1's):
    B's own packets reach worker 0, the entry's sessions live in worker 1."""
    return hairpin_config(port4=5002)


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_hairpin_across_workers(net, instance, proto):
    """A#40000 (worker 0) reaches B through 192.0.2.2#5002 (worker 1): worker 0 does the
    6->4 half and hands the IPv4 packet to worker 1, which does the 4->6 half (RFC 6146
    §3.8); B's answer from port 5000 (worker 0) finds the static entry there and goes to
    worker 1 as well. Everything arrives, the entry is listed once."""
    assert (owner(40000), owner(5000), owner(5002)) == (0, 0, 1)
    add_host_b(net)
    nat = instance(cross_config(), args=["--uplink4", "x4", "--workers", "2"],
                   routes=[POOL6, POOL4])
    echo_server(net, proto, "ns6", HOST_B, 5000)
    before = nat.counters()
    out = exchange(net, proto, POOL4_AS6, 5002, f"{HOST_A}#40000")
    assert out == [f"OK {POOL4_AS6}#40000 from {HOST_A}#40000"]
    d = delta(before, nat.counters(), "HAIRPINNED", "HANDOFF", "HANDOFF_LOOP")
    assert d["HANDOFF_LOOP"] == 0
    if proto == "udp":
        assert d["HAIRPINNED"] == 2 and d["HANDOFF"] >= 2, d
    else:
        assert d["HAIRPINNED"] >= 6 and d["HANDOFF"] >= 6, d
    assert [e for e in nat.bib(proto) if e["static"]] == [
        {"protocol": proto.upper(), "ipv6 address": f"{HOST_B}#5000",
         "ipv4 address": f"{POOL4}#5002", "static": True}]


def test_ipv4_client_reaches_static_entry_across_workers(net, instance):
    """An IPv4 client talks to 192.0.2.2#5002 (worker 1); B answers from port 5000, which
    the program steers to worker 0; worker 0 hands it to worker 1, whose session
    translates it: the client gets the answer from 192.0.2.2#5002."""
    add_host_b(net)
    nat = instance(cross_config(), args=["--uplink4", "x4", "--workers", "2"],
                   routes=[POOL6, POOL4])
    echo_server(net, "udp", "ns6", HOST_B, 5000)
    before = nat.counters()
    prog = net.write_config("client4.py", CLIENT4)
    out = net.ns4(f"python3 {prog} {POOL4} 5002", timeout=30).stdout.split()
    assert out[0] == f"{POOL4}#5002", out
    assert out[1].startswith(f"{POOL6.split('/')[0]}"), out
    assert delta(before, nat.counters(), "HANDOFF")["HANDOFF"] >= 1


CLIENT4 = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"hi", (sys.argv[1], int(sys.argv[2])))
data, peer = s.recvfrom(1000)
print(f"{peer[0]}#{peer[1]}", data.decode().split()[0])
"""


def test_full_share_overflows_to_the_other_worker(net, instance):
    """pool4 = one UDP port, 192.0.2.2#1234, which is worker 1's. A#40000 is worker 0's
    flow: worker 0 has no port, passes it on, and worker 1 maps it to 1234 (not counted
    as exhaustion). B#40002 (worker 1) then finds nothing anywhere: ICMPv6 Address
    Unreachable, POOL4_EXHAUSTED once; A's flow still works."""
    assert (owner(1234), owner(40000), owner(40002)) == (1, 0, 1)
    add_host_b(net)
    cfg = dict(DEFAULT_CONFIG)
    cfg["pool4"] = [{"protocol": "UDP", "prefix": POOL4, "port range": "1234-1234"}]
    nat = instance(cfg, args=["--uplink4", "x4", "--workers", "2"], routes=[POOL6, POOL4])
    echo_server(net, "udp", "ns4", SERVER4, 7000)
    before = nat.counters()
    out = exchange(net, "udp", SERVER6, 7000, f"{HOST_A}#40000", f"{HOST_B}#40002", "again")
    assert out[0] == f"OK {POOL4}#1234 from {HOST_A}#40000"
    assert out[1].split()[:2] == ["ERR", "EHOSTUNREACH"], out[1]
    assert out[2] == f"OK {POOL4}#1234 from {HOST_A}#40000"
    d = delta(before, nat.counters(), "POOL4_EXHAUSTED", "BIB_CREATED")
    assert d == {"POOL4_EXHAUSTED": 1, "BIB_CREATED": 1}
