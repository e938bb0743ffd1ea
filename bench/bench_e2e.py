#!/usr/bin/env python3
"""`make bench-e2e`: nat64d against kernel IPv6 forwarding, a bare TUN forwarder and TAYGA.

Three network namespaces of its own (root), the same for every path:

   client (IPv6 only)            translator                         server
   c6 2001:db8:6::2/64 --veth-- x6 2001:db8:6::1/64
   (+100 addresses               x4 192.0.2.1/24, 2001:db8:4::1/64 --veth-- s4 192.0.2.80/24
    2001:db8:6::1:N for the                                                 2001:db8:4::80/64
    UDP sessions test)                                                      iperf3 -s, nginx :80,
                                                                            a UDP sink on port 9
Paths, measured one after the other in one run:
  kernel       plain IPv6 forwarding to 2001:db8:4::80, no translation: the ceiling of the path
  tunfwd       bench/tun_forward.c, a bare TUN forwarder (nat64d's TUN setup, no offloads):
               policy routing sends what enters x6 or x4 into the TUN device, the forwarder
               writes every packet back unchanged and the kernel routes it on, to 2001:db8:4::80
  tunfwd-vnet  the same with IFF_VNET_HDR and offloads CSUM|TSO4|TSO6, one queue per core
  nat64d       nat64d with its default settings, pool6 2001:db8:46::/96, pool4 198.51.100.0/26,
               to 2001:db8:46::192.0.2.80
  nat64d-w1/w2 the same with --workers 1 and --workers 2 (when nat64d has --workers)
  tayga        TAYGA 0.9.2 (1:1 to 198.51.100.128/25) + nftables snat to nat64d's pool4
               198.51.100.0/26: the classic userspace stateful NAT64, same prefix, destination
               and IPv4 pool

Both translators get the network-specific prefix 2001:db8:46::/96: TAYGA refuses
non-global IPv4 addresses (the documentation range here) behind 64:ff9b::/96.

Per path: iperf3 TCP (1 stream and -P 8), iperf3 UDP with 64-byte payloads at full
speed (packets per second the server received), ab (apache2-utils) against nginx
(HTTP/1.0, Connection: close: each request a new TCP connection), and new UDP sessions
per second while 40,000 UDP sessions are live (bench/udp_sessions.py: one datagram per
source address#port; the server counts what arrives). The translator's CPU time
(utime + stime of its process, all threads, /proc/PID/stat) is read before and after
each test and divided by the packets counted at the receivers (TCP: by the gigabytes).

Everything stays in the namespaces and is removed on exit, even on failure.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "build")
SESSIONS_PY = os.path.join(REPO, "bench", "udp_sessions.py")

CLIENT6 = "2001:db8:6::2"
ROUTER6 = "2001:db8:6::1"
ROUTER4 = "192.0.2.1"
ROUTER46 = "2001:db8:4::1"
SERVER4 = "192.0.2.80"
SERVER6 = "2001:db8:4::80"
PREFIX = "2001:db8:46::/96"
TRANSLATED = "2001:db8:46::c000:250"  # PREFIX + 192.0.2.80 (RFC 6052 §2.2)
# 64 addresses x 64k ports: room for the UDP sessions test (about 1M sessions).
NAT64D_POOL4 = "198.51.100.0/26"
TAYGA_ADDR4 = "198.51.100.254"
TAYGA_POOL4 = "198.51.100.128/25"
# TAYGA's NAT44 masks behind the same 64 addresses: one address (masquerade)
# would run out of ports at 64,512 UDP sessions to one server port.
SNAT_RANGE = "198.51.100.0-198.51.100.63"
TUNFWD_TABLE = 64

# UDP sessions test: LIVE_SESSIONS set up first from the first LIVE_HOSTS
# client addresses, then new ones from the others; PORTS_PER_HOST stays
# under nat64d's max-sessions-per-host (16384), and the host count under
# TAYGA's 1:1 dynamic pool (126 addresses).
SESSION_HOSTS = 100
LIVE_HOSTS = 4
PORTS_PER_HOST = 10000
LIVE_SESSIONS = LIVE_HOSTS * PORTS_PER_HOST

CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
TAG = f"nat64b-{os.getpid()}"
NS6, NSX, NS4 = TAG + "-6", TAG + "-x", TAG + "-4"
TESTS = ("tcp", "tcp8", "udp", "conn", "sess")


def say(msg):
    print(f"[bench] {msg}", flush=True)


def sh(cmd, ns=None, check=True, timeout=60):
    argv = ["ip", "netns", "exec", ns, "sh", "-c", cmd] if ns else ["sh", "-c", cmd]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise RuntimeError(f"`{cmd}` in {ns or 'host'} exited {res.returncode}:\n"
                           f"{res.stdout}{res.stderr}")
    return res.stdout


def poll(what, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def session_addr(i):
    return f"2001:db8:6::1:{i:x}"


class Bench:
    def __init__(self, tmp, args):
        self.tmp = tmp
        self.seconds = args.seconds
        self.args = args
        self.procs = []
        self.tun_setup = None  # nat64d's, once it has run

    # ---- processes ----

    def spawn(self, ns, argv, log):
        with open(os.path.join(self.tmp, log), "w") as f:
            proc = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=f,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM):
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cleanup(self):
        for proc in self.procs:
            self.stop(proc)
        delete_namespaces(TAG)

    def log(self, name):
        with open(os.path.join(self.tmp, name), errors="replace") as f:
            return f.read()

    # ---- topology ----

    def setup(self):
        say(f"creating namespaces {NS6} (client), {NSX} (translator), {NS4} (server)")
        for ns in (NS6, NSX, NS4):
            sh(f"ip netns add {ns}")
        sh(f"ip link add c6 netns {NS6} type veth peer x6 netns {NSX}")
        sh(f"ip link add s4 netns {NS4} type veth peer x4 netns {NSX}")
        # Wide port range and TIME-WAIT reuse: every path makes tens of
        # thousands of connections to the same server within a minute.
        sh("ip link set lo up && ip link set c6 up && "
           f"ip addr add {CLIENT6}/64 dev c6 nodad && ip -6 route add default via {ROUTER6} && "
           "sysctl -qw net.ipv4.ip_local_port_range='1024 65535' net.ipv4.tcp_tw_reuse=1",
           NS6)
        batch = "".join(f"addr add {session_addr(i)}/64 dev c6 nodad\n"
                        for i in range(SESSION_HOSTS))
        subprocess.run(["ip", "-n", NS6, "-batch", "-"], input=batch, text=True, check=True)
        sh("ip link set lo up && ip link set x6 up && ip link set x4 up && "
           f"ip addr add {ROUTER6}/64 dev x6 nodad && ip addr add {ROUTER4}/24 dev x4 && "
           f"ip addr add {ROUTER46}/64 dev x4 nodad && "
           "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1", NSX)
        sh("ip link set lo up && ip link set s4 up && "
           f"ip addr add {SERVER4}/24 dev s4 && ip route add default via {ROUTER4} && "
           f"ip addr add {SERVER6}/64 dev s4 nodad && "
           f"ip -6 route add default via {ROUTER46}", NS4)

    def start_servers(self):
        say(f"starting iperf3 -s, nginx (port 80) and a UDP sink (port 9) on the server")
        self.spawn(NS4, ["iperf3", "-s"], "iperf3.log")
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 1;
daemon off;
pid {self.tmp}/nginx.pid;
error_log {self.tmp}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {self.tmp}/nginx-body;
    proxy_temp_path {self.tmp}/nginx-proxy;
    server {{
        listen 80 backlog=4096;
        listen [::]:80 backlog=4096;
        location / {{ return 200 "hello\\n"; }}
    }}
}}
""")
        self.spawn(NS4, ["nginx", "-c", conf], "nginx.log")
        # A bound socket that never reads: datagrams to port 9 are dropped
        # quietly (no ICMP port unreachable going back through the path).
        sink = ("import socket, signal\n"
                "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
                "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n"
                "s.bind(('::', 9))\n"
                "signal.pause()\n")
        self.spawn(NS4, ["python3", "-c", sink], "sink.log")
        poll("iperf3, nginx and the sink listening", lambda: "5201" in sh("ss -Htln", NS4)
             and ":80 " in sh("ss -Htln", NS4) and ":9 " in sh("ss -Hlun", NS4))

    # ---- paths ----

    def start_tunfwd(self, vnet):
        argv = [self.args.tun_forward, "--name", "tunfwd"]
        if vnet:
            argv += ["--vnet-hdr", "--queues", str(NCPU)]
        say("starting " + " ".join(os.path.basename(a) for a in argv))
        proc = self.spawn(NSX, argv, "tunfwd.log")
        poll("the tunfwd device", lambda: proc.poll() is not None or
             "tunfwd" in sh("ip -br link show", NSX))
        if proc.poll() is not None:
            raise RuntimeError("tun_forward exited:\n" + self.log("tunfwd.log"))
        # What enters from either veth goes through the device; what comes
        # out of it takes the main table to the real next hop.
        sh(f"ip -6 route add default dev tunfwd table {TUNFWD_TABLE} && "
           f"ip -6 rule add iif x6 lookup {TUNFWD_TABLE} pref 1000 && "
           f"ip -6 rule add iif x4 lookup {TUNFWD_TABLE} pref 1001", NSX)
        return proc

    def stop_tunfwd(self, proc):
        sh("ip -6 rule del pref 1000 && ip -6 rule del pref 1001", NSX, check=False)
        self.stop(proc)

    def start_nat64d(self, workers=None):
        extra = [] if workers is None else ["--workers", str(workers)]
        say(f"starting nat64d {' '.join(extra)} pool6={PREFIX} pool4={NAT64D_POOL4}")
        proc = self.spawn(NSX, [self.args.nat64d, "-i", self.instance()] + extra +
                          [f"pool6={PREFIX}", f"pool4={NAT64D_POOL4}"], "nat64d.log")

        def up():
            if proc.poll() is not None:
                raise RuntimeError("nat64d exited:\n" + self.log("nat64d.log"))
            return "dev" in sh(f"ip -6 route show {PREFIX}", NSX, check=False)
        poll("nat64d's route to " + PREFIX, up)
        self.tun_setup = self.tun_info()
        say(f"  nat64d's TUN device: {self.tun_setup}")
        return proc

    def tun_info(self):
        """How nat64d set up its TUN device (vnet header, queues), as the
        kernel reports it: the baseline to compare with is the forwarder
        with the same setup."""
        for link in json.loads(sh("ip -d -j link show", NSX)):
            info = link.get("linkinfo", {})
            if info.get("info_kind") == "tun" and link["ifname"] not in ("tunfwd", "tayga0"):
                d = info.get("info_data", {})
                return {"ifname": link["ifname"], "vnet_hdr": bool(d.get("vnet_hdr")),
                        "queues": d.get("numqueues", 1)}
        return {}

    def show_drops(self):
        """nat64d's counters after its path: why packets were dropped, if any."""
        out = sh(f"{self.args.nat64} -i {self.instance()} stats display", check=False)
        say("  nat64d's non-zero counters: " + ", ".join(
            " ".join(line.split()) for line in out.splitlines() if line.strip()))

    def instance(self):
        return f"b{os.getpid()}"

    def start_tayga(self):
        say(f"starting TAYGA: prefix {PREFIX}, dynamic-pool {TAYGA_POOL4}, "
            f"nftables snat to {NAT64D_POOL4} on x4")
        conf = os.path.join(self.tmp, "tayga.conf")
        os.makedirs(os.path.join(self.tmp, "tayga"), exist_ok=True)
        with open(conf, "w") as f:
            f.write(f"tun-device tayga0\nipv4-addr {TAYGA_ADDR4}\nprefix {PREFIX}\n"
                    f"dynamic-pool {TAYGA_POOL4}\ndata-dir {self.tmp}/tayga\n")
        sh(f"tayga --mktun -c {conf} && ip link set tayga0 up && "
           f"ip route add {TAYGA_POOL4} dev tayga0 && ip -6 route add {PREFIX} dev tayga0 && "
           "nft add table ip bench && "
           "nft add chain ip bench post '{ type nat hook postrouting priority 100; }' && "
           f"nft add rule ip bench post ip saddr {TAYGA_POOL4} oifname x4 snat to {SNAT_RANGE}",
           NSX)
        proc = self.spawn(NSX, ["tayga", "--nodetach", "-c", conf], "tayga.log")
        time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError("tayga exited:\n" + self.log("tayga.log"))
        return proc

    # ---- counters ----

    def tx_packets(self):
        """Packets the translator namespace sent on both veths (what it
        forwarded; docs/profile-e2e.md's scripts use it)."""
        links = json.loads(sh("ip -s -j link show", NSX))
        return sum(link["stats64"]["tx"]["packets"] for link in links
                   if link["ifname"] in ("x6", "x4"))

    def rx_packets(self):
        """Packets the receivers got: the server (s4) and the client (c6)."""
        def rx(ns, ifname):
            link = json.loads(sh(f"ip -s -j link show {ifname}", ns))[0]
            return link["stats64"]["rx"]["packets"]
        return rx(NS4, "s4"), rx(NS6, "c6")

    def measure(self, pid, fn, both_ways):
        """Runs fn(); returns (its result, packets received, translator CPU seconds).
        Packets: at the server alone (one-way UDP) or at both ends."""
        cpu0, (s0, c0) = cpu_seconds(pid), self.rx_packets()
        result = fn()
        cpu1, (s1, c1) = cpu_seconds(pid), self.rx_packets()
        pkts = (s1 - s0) + ((c1 - c0) if both_ways else 0)
        return result, pkts, None if pid is None else cpu1 - cpu0

    # ---- tests ----

    def iperf(self, dst, extra):
        out = sh(f"iperf3 -c {dst} -t {self.seconds} -J {extra}", NS6,
                 timeout=self.seconds + 30)
        return json.loads(out)

    def tcp(self, dst, streams=1):
        j = self.iperf(dst, f"-P {streams}" if streams > 1 else "")
        s = j["end"]["sum_received"]
        return s["bits_per_second"] / 1e6, s["bytes"]

    def udp(self, dst):
        """Packets/s the path delivered: counted on the server's interface
        (iperf3's own count leaves out what its socket dropped when the
        server process lost the CPU to the client or the translator)."""
        j = self.iperf(dst, "-u -b 0 -l 64")
        return {"seconds": j["end"]["sum_received"]["seconds"]}, None

    def conn(self, dst):
        out = sh(f"ab -q -r -s 5 -c 8 -H 'Connection: close' -t {self.seconds} -n 10000000 "
                 f"'http://[{dst}]/'", NS6, timeout=self.seconds + 30)
        done = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
        failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
        rate = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
        if failed or done == 0:
            say(f"  ab: {failed} of {done} requests failed")
        return rate, None

    def send_sessions(self, dst, hosts, seconds=None, pps=0):
        addrs = ",".join(session_addr(i) for i in hosts)
        cmd = (f"python3 {SESSIONS_PY} --dst {dst} --addrs {addrs} "
               f"--ports {PORTS_PER_HOST} --pps {pps}")
        if seconds:
            cmd += f" --seconds {seconds}"
        return json.loads(sh(cmd, NS6, timeout=(seconds or 60) + 60))

    def live_sessions(self, dst, name):
        """Sets up LIVE_SESSIONS UDP sessions, paced (and sent a second time,
        slower, when some were lost: that refreshes the others); then asks
        nat64d how many sessions it holds, or the kernel how many conntrack
        entries TAYGA's NAT44 holds."""
        s0, _ = self.rx_packets()
        self.send_sessions(dst, range(LIVE_HOSTS), pps=20000)
        time.sleep(0.3)
        got = self.rx_packets()[0] - s0
        if got < LIVE_SESSIONS:
            say(f"  {name:11} {got} of {LIVE_SESSIONS} arrived: sending them again, slower")
            self.send_sessions(dst, range(LIVE_HOSTS), pps=5000)
        held = ""
        if name.startswith("nat64d"):
            out = sh(f"{self.args.nat64} -i {self.instance()} session display --udp "
                     "--numeric --csv --no-headers", check=False, timeout=120)
            rows = sum(1 for line in out.splitlines() if line.strip())
            held = f"; nat64d holds {rows} UDP sessions"
            if rows < LIVE_SESSIONS:
                say(f"  WARNING: fewer than {LIVE_SESSIONS} live sessions in nat64d")
        elif name == "tayga":
            count = sh("cat /proc/sys/net/netfilter/nf_conntrack_count", NSX, check=False)
            held = f"; the NAT44 holds {count.strip()} conntrack entries"
        say(f"  {name:11} {LIVE_SESSIONS} UDP sessions set up: "
            f"{self.rx_packets()[0] - s0} packets at the server{held}")

    def new_sessions(self, dst):
        r = self.send_sessions(dst, range(LIVE_HOSTS, SESSION_HOSTS), seconds=self.seconds)
        return r, None

    def run_path(self, name, dst, pid):
        res = {}
        for test in TESTS:
            if test == "sess":
                self.live_sessions(dst, name)
            fn = {"tcp": lambda: self.tcp(dst), "tcp8": lambda: self.tcp(dst, 8),
                  "udp": lambda: self.udp(dst), "conn": lambda: self.conn(dst),
                  "sess": lambda: self.new_sessions(dst)}[test]
            (value, nbytes), pkts, cpu = self.measure(pid, fn, test != "udp" and
                                                      test != "sess")
            if isinstance(value, dict):  # received at the server over the sending time
                value = pkts / value["seconds"]
            res[test] = value
            if cpu is not None and nbytes:
                res[test + "_cpu"] = cpu / (nbytes / 1e9)  # CPU s per GB
            elif cpu is not None and pkts:
                res[test + "_cpu"] = cpu / pkts * 1e6  # CPU s per million packets
            say(f"  {name:11} {test:4}: {value:12.1f}  ({pkts} packets received"
                + ("" if cpu is None else f", translator CPU {cpu:.2f} s") + ")")
        return res


def cpu_seconds(pid):
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def translator_pid(proc):
    """`ip netns exec` execs its command, so the Popen pid is the translator's."""
    return proc.pid


def delete_namespaces(tag):
    for ns in (tag + "-6", tag + "-x", tag + "-4"):
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in out.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def delete_leftovers():
    out = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True)
    for ns in json.loads(out.stdout or "[]"):
        m = re.fullmatch(r"nat64b-(\d+)-6", ns.get("name", ""))
        if m and not pid_alive(int(m.group(1))):
            delete_namespaces(f"nat64b-{m.group(1)}")


# ---- the report ----

ROWS = [
    ("TCP throughput, Mbit/s (1 stream)", "tcp", 0),
    ("TCP throughput, Mbit/s (iperf3 -P 8)", "tcp8", 0),
    ("UDP 64 B payload, packets/s at server", "udp", 0),
    ("new TCP connections/s (ab -c 8)", "conn", 0),
    (f"new UDP sessions/s, {LIVE_SESSIONS // 1000}k live", "sess", 0),
    ("CPU s per GB, TCP 1 stream", "tcp_cpu", 2),
    ("CPU s per GB, TCP 8 streams", "tcp8_cpu", 2),
    ("CPU s per Mpkt, UDP", "udp_cpu", 2),
    ("CPU s per Mpkt, connections", "conn_cpu", 2),
    ("CPU s per Mpkt, new UDP sessions", "sess_cpu", 2),
]


def fmt(v, digits=1):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def absolute_table(r):
    names = list(r)
    head = f"{'':40}" + "".join(f" {n:>11}" for n in names)
    lines = [head, "-" * len(head)]
    for label, key, digits in ROWS:
        lines.append(f"{label:40}" + "".join(f" {fmt(r[n].get(key), digits):>11}"
                                             for n in names))
    return "\n".join(lines)


def goals(tun_base, workers):
    """(label, metric, baseline path, goal ratio, higher is better). A metric
    "1/K" is the inverse of K: packets per translator CPU second from CPU
    seconds per Mpkt, the rate each path would reach with a core of its own
    (the steadier figure on shared cores, per the issue)."""
    g = []
    for key, label in (("tcp", "TCP 1 stream"), ("tcp8", "TCP 8 streams")):
        g += [(label, key, "kernel", 0.5, True), (label, key, "tayga", 4.0, True)]
    g += [("UDP 64 B packets/s", "udp", tun_base, 0.95, True),
          ("UDP 64 B packets/s", "udp", "tayga", 1.0, True),
          ("UDP packets/s, by CPU per packet", "1/udp_cpu", tun_base, 0.95, True),
          ("CPU per Mpkt, UDP", "udp_cpu", "tayga", 0.5, False)]
    for key, label in (("conn", "TCP connections/s"), ("sess", "new UDP sessions/s")):
        g += [(label, key, tun_base, 0.95, True), (label, key, "tayga", 1.2, True),
              (label + ", by CPU/pkt", "1/" + key + "_cpu", tun_base, 0.95, True),
              (label + ", by CPU/pkt", "1/" + key + "_cpu", "tayga", 1.2, True)]
    if workers:
        for key, label in (("tcp8", "TCP 8 streams"), ("udp", "UDP 64 B packets/s"),
                           ("conn", "TCP connections/s"), ("sess", "new UDP sessions/s")):
            g.append((label + ", 2 vs 1 worker", key, "nat64d-w1", None, True))
    return g


def ratio_table(r, tun_base, workers):
    head = f"{'nat64d (default) vs baseline':48} {'ratio':>7}  {'goal':>7}  verdict"
    lines = [head, "-" * len(head)]
    for label, key, base, goal, higher in goals(tun_base, workers):
        subject = "nat64d-w2" if base == "nat64d-w1" else "nat64d"
        inverse = key.startswith("1/")
        key = key[2:] if inverse else key
        a, b = r.get(subject, {}).get(key), r.get(base, {}).get(key)
        if inverse:
            a, b = b, a
        if a is None or not b:
            rt, verdict = None, "n/a"
        else:
            rt = a / b
            verdict = ("met" if (rt >= goal if higher else rt <= goal) else "MISSED") \
                if goal else "(no goal)"
        goal_s = "" if goal is None else (">= " if higher else "<= ") + f"{goal:g}"
        shown = f"{label}, vs {base}" if subject == "nat64d" else label
        lines.append(f"{shown:48} {fmt(rt, 3):>7}  {goal_s:>7}  {verdict}")
    return "\n".join(lines)


# ---- main ----

def has_option(binary, option):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return option in out.stdout + out.stderr


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-t", "--seconds", type=int,
                    default=int(os.environ.get("BENCH_SECONDS", "8")), help="seconds per test")
    ap.add_argument("--nat64d", default=os.environ.get("NAT64D", os.path.join(BUILD, "nat64d")))
    ap.add_argument("--nat64", default=os.environ.get("NAT64", os.path.join(BUILD, "nat64")))
    ap.add_argument("--tun-forward", default=os.path.join(BUILD, "tun_forward"))
    ap.add_argument("--paths", default="kernel,tunfwd,tunfwd-vnet,nat64d,nat64d-w1,nat64d-w2,tayga",
                    help="comma-separated subset of the paths, in the order measured")
    return ap.parse_args()


def check_tools(args):
    if os.geteuid() != 0:
        sys.exit("bench-e2e: needs root to create network namespaces (sudo make bench-e2e)")
    for tool in ("ip", "iperf3", "ab", "nginx", "tayga", "nft"):
        if shutil.which(tool) is None:
            sys.exit(f"bench-e2e: `{tool}` is missing (scripts/install-deps.sh bench)")
    for path in (args.nat64d, args.nat64, args.tun_forward):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench-e2e: {path} is not built (make bench-e2e builds it)")


def run_paths(bench, paths, workers):
    results = {}
    for name in paths:
        if name.startswith("nat64d-w") and not workers:
            continue
        if name == "kernel":
            say(f"path kernel: plain IPv6 forwarding to {SERVER6}")
            results[name] = bench.run_path(name, SERVER6, None)
        elif name.startswith("tunfwd"):
            proc = bench.start_tunfwd(name == "tunfwd-vnet")
            say(f"path {name}: through the TUN device to {SERVER6}")
            results[name] = bench.run_path(name, SERVER6, translator_pid(proc))
            bench.stop_tunfwd(proc)
        elif name.startswith("nat64d"):
            proc = bench.start_nat64d(int(name[-1]) if name != "nat64d" else None)
            say(f"path {name}: to {TRANSLATED}")
            results[name] = bench.run_path(name, TRANSLATED, translator_pid(proc))
            bench.show_drops()
            bench.stop(proc)
        elif name == "tayga":
            # TAYGA last: its nftables NAT table turns on connection tracking in
            # the translator namespace, which would slow the other paths down.
            proc = bench.start_tayga()
            say(f"path tayga: to {TRANSLATED}")
            results[name] = bench.run_path(name, TRANSLATED, translator_pid(proc))
        else:
            sys.exit(f"bench-e2e: unknown path {name}")
    return results


def main():
    args = parse_args()
    check_tools(args)
    paths = args.paths.split(",")
    if "tayga" in paths:  # always last, see run_paths()
        paths = [p for p in paths if p != "tayga"] + ["tayga"]
    workers = has_option(args.nat64d, "--workers")
    if not workers:
        say("workers: not supported by this nat64d (no --workers in --help): "
            "the nat64d-w1 and nat64d-w2 rows are skipped")
    delete_leftovers()
    tmp = tempfile.mkdtemp(prefix="nat64-bench.")
    os.chmod(tmp, 0o755)
    bench = Bench(tmp, args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    start = time.monotonic()
    load = os.getloadavg()[0]
    say(f"load average before the run: {load:.2f}"
        + (" (other work is running: figures will be lower and noisier)" if load > 0.5 else ""))
    try:
        bench.setup()
        bench.start_servers()
        results = run_paths(bench, paths, workers)
        # The no-translation baseline with nat64d's own TUN setup.
        vnet = bench.tun_setup["vnet_hdr"] if bench.tun_setup else \
            has_option(args.nat64d, "offload")
        tun_base = "tunfwd-vnet" if vnet else "tunfwd"
    finally:
        say("cleaning up: stopping every process and deleting the namespaces")
        bench.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(absolute_table(results))
    print()
    print(ratio_table(results, tun_base, workers))
    print()
    say(f"{args.seconds} s per test, {time.monotonic() - start:.0f} s in all; the TUN baseline "
        f"is {tun_base} (nat64d's TUN setup); {NCPU} cores shared by client, translator and "
        "server: rates are noisy, CPU per packet is steadier")


if __name__ == "__main__":
    main()
