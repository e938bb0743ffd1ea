#!/usr/bin/python3
"""Control-plane scale of nat64d (root; about a minute):

  1. `nat64 pool4 add --tcp 10.64.0.0/16 1-65535 --force` from the command line
     (target: under 100 ms, the command's whole run);
  2. `nat64 session display --udp --csv` of one million sessions (target: under 5 s)
     while the translator keeps forwarding: a ping runs through it during the listing and
     its worst round-trip time is printed next to the idle one.

Topology (as tests/e2e/conftest.py): ns6 client -- nsx (nat64d, TUN) -- ns4 server. The
sessions are UDP: 17 source ports of the client times 65535 destination ports of the
server through one pool4 address (17 BIB entries, 1,048,576 sessions), sent by a small
Python sprayer in ns6, paced and repeated until the SESSIONS gauge reaches the target.

Usage: bench/bench_ctl.py [--sessions N] [--keep]
Env: NAT64D, NAT64 (binaries; default build/nat64d and build/nat64).
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAT64D = os.environ.get("NAT64D") or os.path.join(REPO, "build", "nat64d")
NAT64 = os.environ.get("NAT64") or os.path.join(REPO, "build", "nat64")
BASE = f"nat64c-{os.getpid()}"
NS6, NSX, NS4 = BASE + "-6", BASE + "-x", BASE + "-4"
INSTANCE = f"b{os.getpid() % 100000}"
CLIENT6, SERVER4, SERVER6, POOL4 = "2001:db8:6::2", "192.0.2.10", "64:ff9b::c000:20a", \
    "192.0.2.2"

SPRAY = r"""
import socket, sys, time
src, dst, nports, first_sport, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
socks = []
for i in range(nports):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((src, first_sport + i))
    socks.append(s)
sent = 0
for dport in range(1, 65536):
    for s in socks:
        if sent == count:
            sys.exit(0)
        try:
            s.sendto(b"x", (dst, dport))
        except OSError:
            time.sleep(0.001)
        sent += 1
    if dport % 64 == 0:
        time.sleep(0.0005)
"""


def sh(ns, cmd, check=True, **kw):
    argv = ["ip", "netns", "exec", ns, "sh", "-c", cmd] if ns else ["sh", "-c", cmd]
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kw)


def nat64(*args, check=True):
    res = subprocess.run([NAT64, "-i", INSTANCE] + list(args), capture_output=True, text=True)
    if check and res.returncode:
        sys.exit(f"nat64 {' '.join(args)}: {res.stderr.strip()}")
    return res


def setup():
    for ns in (NS6, NSX, NS4):
        sh(None, f"ip netns add {ns}")
    sh(None, f"ip link add c6 netns {NS6} type veth peer x6 netns {NSX}")
    sh(None, f"ip link add s4 netns {NS4} type veth peer x4 netns {NSX}")
    sh(NS6, f"ip link set lo up && ip link set c6 up && ip addr add {CLIENT6}/64 dev c6 nodad "
            "&& ip -6 route add default via 2001:db8:6::1")
    sh(NSX, "ip link set lo up && ip link set x6 up && ip link set x4 up && "
            "ip addr add 2001:db8:6::1/64 dev x6 nodad && ip addr add 192.0.2.1/24 dev x4 && "
            "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
    # The server answers nothing (no ICMP port unreachable storm).
    sh(NS4, f"ip link set lo up && ip link set s4 up && ip addr add {SERVER4}/24 dev s4 && "
            "sysctl -qw net.ipv4.icmp_ratelimit=1000000 && "
            "(nft add table inet b && nft add chain inet b in '{ type filter hook input "
            "priority 0; policy accept; }' && nft add rule inet b in udp dport 1-65535 drop)"
            " || iptables -A INPUT -p udp -j DROP || true")


def teardown(daemon):
    if daemon and daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
    for ns in (NS6, NSX, NS4):
        pids = sh(None, f"ip netns pids {ns}", check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh(None, f"ip netns del {ns}", check=False)


def start_daemon(logpath):
    cfg = f"/tmp/{BASE}.json"
    with open(cfg, "w") as f:
        json.dump({"global": {"pool6": "64:ff9b::/96", "wkp-global-only": False,
                              "max-sessions": 4194304}}, f)
    log = open(logpath, "w")
    d = subprocess.Popen(["ip", "netns", "exec", NSX, NAT64D, "-i", INSTANCE, "--config", cfg,
                          "--uplink4", "x4", f"pool4={POOL4}"], stdout=log,
                         stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while nat64("stats", "display", check=False).returncode:
        if d.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"nat64d did not come up; see {logpath}")
        time.sleep(0.05)
    return d


def sessions():
    return json.loads(nat64("stats", "display", "--json").stdout)["SESSIONS"]


def fill(target):
    nat64("global", "update", "max-sessions-per-host", str(max(target * 2, 16384)))
    nports = (target + 65534) // 65535
    start = time.monotonic()
    for attempt in range(6):
        sh(NS6, f"python3 -c '{SPRAY}' {CLIENT6} {SERVER6} {nports} 20000 {target}",
           timeout=600)
        have = sessions()
        print(f"  pass {attempt + 1}: {have} sessions ({time.monotonic() - start:.1f} s)",
              flush=True)
        if have >= target:
            return have
    return have


def ping_rtts(proc):
    out = proc.communicate(timeout=60)[0]
    return [float(m) for m in re.findall(r"time=([\d.]+) ms", out)]


def bench_slash16():
    runs = []
    for i in range(5):
        prefix = f"10.{64 + i}.0.0/16"
        t = time.monotonic()
        nat64("pool4", "add", "--tcp", prefix, "1-65535", "--force")
        runs.append((time.monotonic() - t) * 1000)
    nat64("pool4", "display", "--json")  # still answers
    for i in range(5):
        nat64("pool4", "remove", "--tcp", f"10.{64 + i}.0.0/16", "--quick")
    best, worst = min(runs), max(runs)
    verdict = "OK" if worst < 100 else "SLOW"
    print(f"pool4 add of a /16: best {best:.1f} ms, worst {worst:.1f} ms "
          f"(target < 100 ms) {verdict}")


def bench_display(target):
    print(f"filling {target} UDP sessions ...", flush=True)
    have = fill(target)
    if have < target:
        print(f"  only {have} sessions after 6 passes; measuring those")
    idle = subprocess.Popen(["ip", "netns", "exec", NS6, "ping", "-c", "20", "-i", "0.05",
                             "-W", "1", SERVER6], stdout=subprocess.PIPE, text=True)
    idle_rtt = ping_rtts(idle)
    pinger = subprocess.Popen(["ip", "netns", "exec", NS6, "ping", "-c", "100", "-i", "0.02",
                               "-W", "1", SERVER6], stdout=subprocess.PIPE, text=True)
    t = time.monotonic()
    res = subprocess.run([NAT64, "-i", INSTANCE, "session", "display", "--udp", "--csv"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - t
    busy_rtt = ping_rtts(pinger)
    lines = res.stdout.count(b"\n") - 1
    verdict = "OK" if elapsed < 5 and res.returncode == 0 else "SLOW"
    print(f"session display --csv: {lines} sessions in {elapsed:.2f} s "
          f"({lines / max(elapsed, 1e-9) / 1e6:.2f} M/s, target < 5 s for 1 M) {verdict}")
    if idle_rtt and busy_rtt:
        print(f"ping through the translator: idle max {max(idle_rtt):.2f} ms, during the "
              f"listing max {max(busy_rtt):.2f} ms, {len(busy_rtt)}/100 replies")
    t = time.monotonic()
    res = subprocess.run([NAT64, "-i", INSTANCE, "session", "display", "--udp", "--json"],
                         stdout=subprocess.DEVNULL)
    print(f"session display --json: {time.monotonic() - t:.2f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=1 << 20)
    ap.add_argument("--keep", action="store_true", help="leave the namespaces (debugging)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_ctl: needs root (network namespaces)")
    for binary in (NAT64D, NAT64):
        if not os.access(binary, os.X_OK):
            sys.exit(f"bench_ctl: {binary} is not built (make)")
    daemon = None
    logpath = f"/tmp/{BASE}-nat64d.log"
    try:
        setup()
        daemon = start_daemon(logpath)
        bench_slash16()
        bench_display(args.sessions)
    finally:
        if not args.keep:
            teardown(daemon)


if __name__ == "__main__":
    main()
