"""Basic traffic through nat64d, and the daemon's life cycle (start, SIGHUP, SIGTERM).

Topology and helpers: conftest.py.
"""

import ipaddress
import json
import re
import signal
import subprocess

import pytest

from conftest import (CLIENT6, NAT64D, POOL4, POOL6, ROUTER4, SERVER4, SERVER6,
                      DEFAULT_CONFIG, poll)

SERVER6_NSP = "2001:db8:64::c000:20a"  # 2001:db8:64::/96 + 192.0.2.10


def ping_received(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


# ---- traffic ----

@pytest.mark.parametrize("size", [56, 1400])
def test_ping6_to_ipv4_server(net, translator, size):
    """Echo request 6->4, reply 4->6; 1400 bytes of payload fit a 1500 MTU unfragmented
    on both sides (IPv6 1448 bytes, IPv4 1428)."""
    out = net.ns6(f"ping -c 3 -i 0.2 -W 2 -s {size} -M do {SERVER6}").stdout
    assert ping_received(out) == (3, 3)
    assert f"{size + 8} bytes from {ipaddress.IPv6Address(SERVER6)}" in out


def test_http_fetch_6to4(net, translator, tmp_path):
    """TCP: curl on the IPv6 client fetches a file from python3 -m http.server."""
    www = tmp_path / "www"
    www.mkdir()
    body = "hello through nat64d\n" * 200  # several segments
    (www / "index.txt").write_text(body)
    net.http_server("ns4", net.name4, SERVER4, 80, www)
    got = net.ns6(f"curl -sS -g --max-time 10 http://[{SERVER6}]/index.txt").stdout
    assert got == body


def test_http_fetch_4to6_static_bib(net, tmp_path):
    """The other way: the IPv4 server opens a TCP connection to the IPv6 client through
    a static BIB entry from the config file (2001:db8:6::2#8080 <-> 192.0.2.2#8080)."""
    cfg = dict(DEFAULT_CONFIG)
    cfg["pool4"] = [{"protocol": "TCP", "prefix": POOL4, "port range": "8080-8090"}]
    cfg["bib"] = [{"protocol": "TCP", "ipv6 address": f"{CLIENT6}#8080",
                   "ipv4 address": f"{POOL4}#8080"}]
    path = net.write_config("bib.json", cfg)
    net.start_nat64d(["--config", path, "--uplink4", "x4"], wait_routes=[POOL6, POOL4])
    www = tmp_path / "www6"
    www.mkdir()
    (www / "v6.txt").write_text("served by the IPv6-only host\n")
    net.http_server("ns6", net.name6, CLIENT6, 8080, www)
    got = net.ns4(f"curl -sS --max-time 10 http://{POOL4}:8080/v6.txt").stdout
    assert got == "served by the IPv6-only host\n"


# Prints the TTL of the first ICMP echo request from `src` that reaches this host.
TTL_CATCHER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(10)
print("ready", flush=True)
while True:
    pkt, addr = s.recvfrom(65535)
    ihl = (pkt[0] & 15) * 4
    if addr[0] == sys.argv[1] and pkt[ihl] == 8:
        print(pkt[8], flush=True)
        break
"""


def test_hop_limit_loses_exactly_one(net, translator):
    """A packet crossing the translator loses exactly one unit of TTL/hop limit, as
    through any router, although the kernel routes it twice (into the TUN device and out
    of it): nat64_params.tun_hop_compensation."""
    catcher = net.spawn("ns4", net.name4, ["python3", "-c", TTL_CATCHER, POOL4],
                        stdout=subprocess.PIPE, text=True)
    assert catcher.stdout.readline().strip() == "ready"
    # 6->4: sent with hop limit 64, the server sees TTL 63.
    out = net.ns6(f"ping -c 1 -W 2 -t 64 {SERVER6}").stdout
    assert catcher.wait(timeout=10) == 0
    assert catcher.stdout.readline().strip() == "63"
    # 4->6: the server answers with TTL 64 (Linux default), the client sees 63.
    assert re.search(r"ttl=63 ", out), out
    # Hop limit 2 is enough to cross one router; 1 is not (Time Exceeded from it).
    net.ns6(f"ping -c 1 -W 2 -t 2 {SERVER6}")
    res = net.ns6(f"ping -c 1 -W 2 -t 1 {SERVER6}", check=False)
    assert res.returncode != 0
    assert "Time exceeded" in res.stdout, res.stdout


# ---- life cycle ----

def test_sigterm_removes_every_route_rule_and_proxy_entry(net):
    """Routes (pool6, pool4), proxy entries (--uplink4), the steering rules and the moved
    local rule for pool4 ports on the node's own address: all gone after SIGTERM."""
    cfg = dict(DEFAULT_CONFIG)
    cfg["pool4"] = [
        {"protocol": "TCP", "prefix": "192.0.2.8/30", "port range": "1-65535"},
        {"protocol": "ICMP", "prefix": "192.0.2.8/30", "port range": "0-65535"},
        {"protocol": "TCP", "prefix": ROUTER4, "port range": "61001-65535"},
        {"protocol": "UDP", "prefix": ROUTER4, "port range": "61001-65535"},
        {"protocol": "UDP", "prefix": ROUTER4, "port range": "20000-20100"},
    ]
    path = net.write_config("plumb.json", cfg)
    before = net.plumbing()
    d = net.start_nat64d(["--config", path, "--uplink4", "x4"],
                         wait_routes=[POOL6, "192.0.2.8/30"])
    during = net.plumbing()
    proxies = sorted(p["dst"] for p in during["proxy"])
    assert proxies == ["192.0.2.10", "192.0.2.11", "192.0.2.8", "192.0.2.9"]
    rules = [r for r in during["rule4"] if r.get("protocol") == "64"]
    assert any(r.get("table") == "local" and r["priority"] == 1000 for r in rules), rules
    assert not any(r["priority"] == 0 for r in during["rule4"]), during["rule4"]
    steered = [r for r in rules if r.get("dst") == ROUTER4]
    assert len(steered) >= 3, rules
    own_routes = [r for r in during["route4"] if r.get("dst") == ROUTER4 and r.get("dev") == "nat64"]
    assert own_routes, during["route4"]
    assert not any(r.get("dst") == ROUTER4 and r.get("table") in (None, "main")
                   for r in during["route4"] if r.get("dev") == "nat64")
    assert d.stop() == 0
    assert net.plumbing() == before
    assert "stopped" in d.log_text()


def test_two_instances_side_by_side(net, translator):
    """A second instance with its own name, TUN device, pool6 and pool4 translates beside
    the first; stopping it leaves the first untouched."""
    second = net.start_nat64d(["--uplink4", "x4", "pool6=2001:db8:64::/96",
                               "pool4=192.0.2.3"], instance="second",
                              wait_routes=["2001:db8:64::/96", "192.0.2.3"])
    assert second.tun == "nat64-second"
    net.ns6(f"ping -c 2 -i 0.2 -W 2 {SERVER6}")
    net.ns6(f"ping -c 2 -i 0.2 -W 2 {SERVER6_NSP}")
    assert "nat64d[second] info: ready" in second.log_text()
    assert second.stop() == 0
    net.ns6(f"ping -c 2 -i 0.2 -W 2 {SERVER6}")
    assert net.nat(f"ip -j -4 route show {POOL4} dev nat64").stdout.strip() not in ("", "[]")
    assert translator.stop() == 0


def test_sighup_bad_config_keeps_translating(net, translator):
    """A bad file on SIGHUP is refused in one log line and the old configuration keeps
    translating; a good one is applied (pool4 moves, logging-session turns on)."""
    net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    bad = dict(DEFAULT_CONFIG)
    bad["pool4"] = [{"prot": "TCP", "prefix": "192.0.2.4"}]
    with open(translator.config, "w") as f:
        json.dump(bad, f)
    translator.signal(signal.SIGHUP)
    translator.wait_log('pool4[0]: unknown field "prot"')
    assert "reload refused" in translator.log_text()
    assert translator.alive()
    net.ns6(f"ping -c 2 -i 0.2 -W 2 {SERVER6}")

    good = dict(DEFAULT_CONFIG)
    good["global"] = dict(good["global"], **{"logging-session": True})
    good["pool4"] = [{"protocol": p, "prefix": "192.0.2.4", "port range": r}
                     for p, r in (("TCP", "1-65535"), ("UDP", "1-65535"), ("ICMP", "0-65535"))]
    with open(translator.config, "w") as f:
        json.dump(good, f)
    translator.signal(signal.SIGHUP)
    translator.wait_log("reloaded")
    # The command line's pool4=192.0.2.2 stays; the file adds 192.0.2.4.
    routes = [r["dst"] for r in net.json(net.nat, "ip -j -4 route show dev nat64")]
    assert sorted(routes) == ["192.0.2.2", "192.0.2.4"], routes
    net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    translator.wait_log("session-added ICMP")


def test_unknown_field_refused_at_startup(net):
    """A config file with an unknown field: nat64d names it and exits 1, leaving nothing."""
    cfg = dict(DEFAULT_CONFIG)
    cfg["pool4"] = [{"protocol": "TCP", "prefix": POOL4},
                    {"prot": "UDP", "prefix": POOL4}]
    path = net.write_config("typo.json", cfg)
    before = net.plumbing()
    d = net.start_nat64d(["--config", path], ready=False)
    assert d.proc.wait(timeout=10) == 1
    assert 'typo.json: pool4[1]: unknown field "prot"' in d.log_text()
    assert net.plumbing() == before
    links = net.json(net.nat, "ip -j link show")
    assert not any(link["ifname"] == "nat64" for link in links)


# Each bad file is refused before nat64d touches anything, with the source, the object,
# the field and what was expected in one line.
BAD_CONFIGS = [
    ('{"pool4": [{"protocol": "TCP", "prefix": "192.0.2.2"}, {"prot": "UDP"}]}',
     'pool4[1]: unknown field "prot"'),
    ('{"globl": {}}', 'unknown field "globl"'),
    ('{"global": {"udp-timout": "0:05:00"}}', 'global: unknown field "udp-timout"'),
    ('{"global": {"logging-bib": 1}}', 'global: "logging-bib" must be a boolean'),
    ('{"global": {"udp-timeout": 300}}', 'global: "udp-timeout" must be a string'),
    ('{"global": {"udp-timeout": "0:00:10"}}', "udp-timeout: '0:00:10' is below the minimum"),
    ('{"global": {"mtu-plateaus": [1500, "x"]}}', '"mtu-plateaus" must be an array of integers'),
    ('{"pool4": [{"protocol": "TCP"}]}', 'pool4[0]: missing field "prefix"'),
    ('{"pool4": [{"protocol": "SCTP", "prefix": "192.0.2.2"}]}', "protocol 'SCTP' is not TCP"),
    ('{"pool4": [{"protocol": "TCP", "prefix": "192.0.2.2", "mark": "1"}]}',
     'pool4[0]: "mark" must be an integer'),
    ('{"pool4": [{"protocol": "TCP", "prefix": "192.0.2.2", "port range": "1-70000"}]}',
     "port range '1-70000'"),
    ('{"pool4": [{"protocol": "TCP", "prefix": "192.0.2.2", "max-iterations": 0}]}',
     "max-iterations 0 is out of range"),
    ('{"bib": [{"protocol": "TCP", "ipv6 address": "2001:db8::1#80", '
     '"ipv4 address": "192.0.2.2#80"}]}', "bib[0]: TCP 192.0.2.2#80 is not in the file's pool4"),
    ('{"instance": 7}', '"instance" must be a string'),
    ('{"global": {"tos": 1, "tos": 2}}', "duplicate object key"),
    ('{"pool4": [', "line 1"),
]


@pytest.mark.parametrize("text,message", BAD_CONFIGS)
def test_bad_config_names_the_field(nat64d_bin, tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    # --check: nat64d stops after the configuration, whatever happens.
    res = subprocess.run([nat64d_bin, "--check", "--config", str(path), "pool6=64:ff9b::/96"],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"nat64d[default] fatal: {path}: "), lines[0]
    assert message in lines[0], lines[0]


def test_check_accepts_jool_example(nat64d_bin, tmp_path):
    """JOOL-REFERENCE §5's example file (with its static BIB port inside pool4)."""
    path = tmp_path / "jool.json"
    path.write_text(json.dumps({
        "instance": "edge64", "framework": "netfilter", "comment": "from Jool's docs",
        "global": {"pool6": "64:ff9b::/96", "udp-timeout": "0:03:00", "logging-bib": True,
                   "mtu-plateaus": [1500, 1280]},
        "pool4": [
            {"protocol": "TCP", "prefix": "198.51.100.7", "port range": "10000-30000"},
            {"protocol": "UDP", "prefix": "198.51.100.7", "port range": "10000-30000",
             "max-iterations": "auto"},
            {"protocol": "ICMP", "prefix": "198.51.100.7", "port range": "0-65535", "mark": 0},
        ],
        "bib": [{"protocol": "TCP", "ipv6 address": "2001:db8::80#443",
                 "ipv4 address": "198.51.100.7#10443"}],
    }))
    res = subprocess.run([nat64d_bin, "--check", "--config", str(path)],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    assert "nat64d[edge64] info: configuration OK" in res.stderr
    # -i must agree with the file's instance.
    res = subprocess.run([nat64d_bin, "--check", "-i", "other", "--config", str(path)],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 1
    assert "is for instance 'edge64', but this is instance 'other'" in res.stderr


def test_refuses_to_start_without_forwarding(net):
    """Forwarding off: a clear message naming the sysctl, exit 1."""
    net.nat("sysctl -qw net.ipv6.conf.all.forwarding=0")
    cfg = net.write_config("fwd.json", DEFAULT_CONFIG)
    d = net.start_nat64d(["--config", cfg, f"pool4={POOL4}"], ready=False)
    assert d.proc.wait(timeout=10) == 1
    assert "net.ipv6.conf.all.forwarding is 0" in d.log_text()
    assert "--enable-forwarding" in d.log_text()


def test_empty_pool4_masks_behind_own_address(net, tmp_path):
    """No pool4 at all: the translator's own address 192.0.2.1 masks the client, with
    ports 61001-65535 steered to the TUN device by policy rules (local traffic of the
    node on other ports is untouched)."""
    cfg = net.write_config("empty.json", DEFAULT_CONFIG)
    d = net.start_nat64d(["--config", cfg], wait_routes=[POOL6])
    poll("steering rules", lambda: any(
        r.get("dst") == ROUTER4 for r in net.json(net.nat, "ip -j -4 rule show")))
    www = tmp_path / "www"
    www.mkdir()
    (www / "f").write_text("fallback\n")
    net.http_server("ns4", net.name4, SERVER4, 80, www)
    assert net.ns6(f"curl -sS -g --max-time 10 http://[{SERVER6}]/f").stdout == "fallback\n"
    # The node itself still talks from its own address.
    assert net.nat(f"curl -sS --max-time 10 http://{SERVER4}/f").stdout == "fallback\n"
    assert d.stop() == 0
