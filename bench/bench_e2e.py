#!/usr/bin/env python3
"""`make bench-e2e`: nat64d against the kernel's own IPv6 forwarding and TAYGA, end to end.

Three network namespaces of its own (root), the same for every path:

   client (IPv6 only)            translator                         server
   c6 2001:db8:6::2/64 --veth-- x6 2001:db8:6::1/64
                                 x4 192.0.2.1/24, 2001:db8:4::1/64 --veth-- s4 192.0.2.80/24
                                                                            2001:db8:4::80/64
                                                                            iperf3 -s, nginx :80
Paths, measured one after the other in one run:
  kernel  plain IPv6 forwarding to 2001:db8:4::80, no translation: the ceiling of the path
  nat64d  build/nat64d, pool6 2001:db8:46::/96, pool4 198.51.100.1, to 2001:db8:46::192.0.2.80
  tayga   TAYGA 0.9.2 (1:1 to 198.51.100.128/25) + nftables masquerade to 192.0.2.1,
          the classic userspace stateful NAT64, same prefix and destination

Both translators get the network-specific prefix 2001:db8:46::/96: TAYGA refuses
non-global IPv4 addresses (the documentation range here) behind 64:ff9b::/96.

Per path: iperf3 TCP (1 stream), iperf3 UDP with 64-byte payloads at full speed (packets
per second the server received), and ab (apache2-utils) against nginx: HTTP/1.0 without
keep-alive, so each request is a new TCP connection. The translator's CPU time
(utime + stime of its process, /proc/PID/stat) is read before and after each test and
divided by the packets it forwarded (the tx counters of x6 and x4).

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
NAT64D = os.path.join(REPO, "build", "nat64d")

CLIENT6 = "2001:db8:6::2"
ROUTER6 = "2001:db8:6::1"
ROUTER4 = "192.0.2.1"
ROUTER46 = "2001:db8:4::1"
SERVER4 = "192.0.2.80"
SERVER6 = "2001:db8:4::80"
PREFIX = "2001:db8:46::/96"
TRANSLATED = "2001:db8:46::c000:250"  # PREFIX + 192.0.2.80 (RFC 6052 §2.2)
NAT64D_POOL4 = "198.51.100.1"
TAYGA_ADDR4 = "198.51.100.254"
TAYGA_POOL4 = "198.51.100.128/25"

CLK_TCK = os.sysconf("SC_CLK_TCK")
TAG = f"nat64b-{os.getpid()}"
NS6, NSX, NS4 = TAG + "-6", TAG + "-x", TAG + "-4"


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


class Bench:
    def __init__(self, tmp, seconds):
        self.tmp = tmp
        self.seconds = seconds
        self.procs = []

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

    # ---- topology ----

    def setup(self):
        say(f"creating namespaces {NS6} (client), {NSX} (translator), {NS4} (server)")
        for ns in (NS6, NSX, NS4):
            sh(f"ip netns add {ns}")
        sh(f"ip link add c6 netns {NS6} type veth peer x6 netns {NSX}")
        sh(f"ip link add s4 netns {NS4} type veth peer x4 netns {NSX}")
        sh("ip link set lo up && ip link set c6 up && "
           f"ip addr add {CLIENT6}/64 dev c6 nodad && ip -6 route add default via {ROUTER6}",
           NS6)
        sh("ip link set lo up && ip link set x6 up && ip link set x4 up && "
           f"ip addr add {ROUTER6}/64 dev x6 nodad && ip addr add {ROUTER4}/24 dev x4 && "
           f"ip addr add {ROUTER46}/64 dev x4 nodad && "
           "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1", NSX)
        sh("ip link set lo up && ip link set s4 up && "
           f"ip addr add {SERVER4}/24 dev s4 && ip route add default via {ROUTER4} && "
           f"ip addr add {SERVER6}/64 dev s4 nodad && "
           f"ip -6 route add default via {ROUTER46}", NS4)

    def start_servers(self):
        say(f"starting iperf3 -s and nginx (port 80) on the server {SERVER4} / {SERVER6}")
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
        poll("iperf3 and nginx listening", lambda: "5201" in sh("ss -Htln", NS4)
             and ":80 " in sh("ss -Htln", NS4))

    # ---- translators ----

    def start_nat64d(self):
        say(f"starting nat64d: pool6={PREFIX} pool4={NAT64D_POOL4}")
        proc = self.spawn(NSX, [NAT64D, "-i", f"b{os.getpid()}", f"pool6={PREFIX}",
                                f"pool4={NAT64D_POOL4}"], "nat64d.log")

        def up():
            if proc.poll() is not None:
                raise RuntimeError("nat64d exited:\n" + self.log("nat64d.log"))
            return "dev" in sh(f"ip -6 route show {PREFIX}", NSX, check=False)
        poll("nat64d's route to " + PREFIX, up)
        return proc

    def start_tayga(self):
        say(f"starting TAYGA: prefix {PREFIX}, dynamic-pool {TAYGA_POOL4}, "
            "nftables masquerade to x4")
        conf = os.path.join(self.tmp, "tayga.conf")
        os.makedirs(os.path.join(self.tmp, "tayga"), exist_ok=True)
        with open(conf, "w") as f:
            f.write(f"tun-device tayga0\nipv4-addr {TAYGA_ADDR4}\nprefix {PREFIX}\n"
                    f"dynamic-pool {TAYGA_POOL4}\ndata-dir {self.tmp}/tayga\n")
        sh(f"tayga --mktun -c {conf} && ip link set tayga0 up && "
           f"ip route add {TAYGA_POOL4} dev tayga0 && ip -6 route add {PREFIX} dev tayga0 && "
           "nft add table ip bench && "
           "nft add chain ip bench post '{ type nat hook postrouting priority 100; }' && "
           f"nft add rule ip bench post ip saddr {TAYGA_POOL4} oifname x4 masquerade", NSX)
        proc = self.spawn(NSX, ["tayga", "--nodetach", "-c", conf], "tayga.log")
        time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError("tayga exited:\n" + self.log("tayga.log"))
        return proc

    def log(self, name):
        with open(os.path.join(self.tmp, name), errors="replace") as f:
            return f.read()

    # ---- measurements ----

    def tx_packets(self):
        """Packets the translator namespace sent on both veths (what it forwarded)."""
        links = json.loads(sh("ip -s -j link show", NSX))
        return sum(link["stats64"]["tx"]["packets"] for link in links
                   if link["ifname"] in ("x6", "x4"))

    def measure(self, pid, fn):
        """Runs fn(); returns (its result, packets forwarded, translator CPU seconds)."""
        cpu0, pkts0 = cpu_seconds(pid), self.tx_packets()
        result = fn()
        cpu1, pkts1 = cpu_seconds(pid), self.tx_packets()
        cpu = None if pid is None else cpu1 - cpu0
        return result, pkts1 - pkts0, cpu

    def iperf(self, dst, extra):
        out = sh(f"iperf3 -c {dst} -t {self.seconds} -J {extra}", NS6,
                 timeout=self.seconds + 30)
        return json.loads(out)

    def tcp(self, dst):
        j = self.iperf(dst, "")
        return j["end"]["sum_received"]["bits_per_second"] / 1e6

    def udp(self, dst):
        j = self.iperf(dst, "-u -b 0 -l 64")
        s = j["end"]["sum_received"]  # the server's view: the last sequence number, losses
        return (s["packets"] - s["lost_packets"]) / s["seconds"]

    def conn(self, dst):
        out = sh(f"ab -q -r -s 5 -c 8 -t {self.seconds} -n 10000000 'http://[{dst}]/'", NS6,
                 timeout=self.seconds + 30)
        done = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
        failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
        rate = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
        if failed or done == 0:
            say(f"  ab: {failed} of {done} requests failed")
        return rate

    def run_path(self, name, dst, pid):
        res = {}
        for test, fn in (("tcp", self.tcp), ("udp", self.udp), ("conn", self.conn)):
            value, pkts, cpu = self.measure(pid, lambda: fn(dst))
            res[test] = value
            res[test + "_cpu"] = None if cpu is None or pkts == 0 else cpu / pkts * 1e6
            say(f"  {name:6} {test:4}: {value:12.1f}  ({pkts} packets forwarded"
                + ("" if cpu is None else f", translator CPU {cpu:.2f} s") + ")")
        return res


def cpu_seconds(pid):
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


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


def fmt(v, unit_digits=1):
    return "n/a" if v is None else f"{v:,.{unit_digits}f}"


def ratio(a, b):
    return "n/a" if a is None or b in (None, 0) else f"{a / b:.2f}"


def table(r):
    rows = [
        ("TCP throughput, Mbit/s (1 stream)", "tcp", 0),
        ("UDP 64 B payload, packets/s received", "udp", 0),
        ("new TCP connections/s (ab -c 8)", "conn", 0),
        ("CPU s per Mpkt, TCP", "tcp_cpu", 2),
        ("CPU s per Mpkt, UDP", "udp_cpu", 2),
        ("CPU s per Mpkt, connections", "conn_cpu", 2),
    ]
    head = f"{'':38} {'nat64d':>10} {'kernel v6':>10} {'tayga+nft':>10} " \
           f"{'nat64d/kernel':>14} {'nat64d/tayga':>13}"
    lines = [head, "-" * len(head)]
    for label, key, digits in rows:
        a, b, c = r["nat64d"].get(key), r["kernel"].get(key), r["tayga"].get(key)
        ra = ratio(a, b) if not key.endswith("_cpu") else "n/a"
        lines.append(f"{label:38} {fmt(a, digits):>10} {fmt(b, digits):>10} "
                     f"{fmt(c, digits):>10} {ra:>14} {ratio(a, c):>13}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-t", "--seconds", type=int, default=10, help="seconds per test")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-e2e: needs root to create network namespaces (sudo make bench-e2e)")
    for tool in ("ip", "iperf3", "ab", "nginx", "tayga", "nft"):
        if shutil.which(tool) is None:
            sys.exit(f"bench-e2e: `{tool}` is missing (scripts/install-deps.sh bench)")
    if not os.access(NAT64D, os.X_OK):
        sys.exit(f"bench-e2e: {NAT64D} is not built (make nat64d)")
    delete_leftovers()
    tmp = tempfile.mkdtemp(prefix="nat64-bench.")
    os.chmod(tmp, 0o755)
    bench = Bench(tmp, args.seconds)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = {}
    start = time.monotonic()
    load = os.getloadavg()[0]
    say(f"load average before the run: {load:.2f}"
        + (" (other work is running: figures will be lower and noisier)" if load > 0.5 else ""))
    try:
        bench.setup()
        bench.start_servers()
        say(f"path kernel: plain IPv6 forwarding to {SERVER6}")
        results["kernel"] = bench.run_path("kernel", SERVER6, None)
        proc = bench.start_nat64d()
        say(f"path nat64d: to {TRANSLATED}")
        results["nat64d"] = bench.run_path("nat64d", TRANSLATED, proc.pid)
        bench.stop(proc)
        # TAYGA last: its nftables NAT table turns on connection tracking in the
        # translator namespace, which would slow the other paths down.
        proc = bench.start_tayga()
        say(f"path tayga: to {TRANSLATED}")
        results["tayga"] = bench.run_path("tayga", TRANSLATED, proc.pid)
    finally:
        say("cleaning up: stopping every process and deleting the namespaces")
        bench.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(table(results))
    print()
    say(f"{args.seconds} s per test, {time.monotonic() - start:.0f} s in all. Client, translator "
        "and server share this machine's cores: rates are noisy, CPU per packet is steadier")


if __name__ == "__main__":
    main()
