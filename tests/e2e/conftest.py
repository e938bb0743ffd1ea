"""End-to-end tests of nat64d: real programs in three network namespaces (root).

   ns6: IPv6-only client           nsx: translator                          ns4: IPv4 server
  +----------------------+       +-------------------------------------+       +---------------------+
  | c6 2001:db8:6::2/64  |-------| x6 2001:db8:6::1/64                 |       |                     |
  | default via ::1      | veth  |          |                          |       |                     |
  +----------------------+       |   [nat64d] -- TUN "nat64"           |       |                     |
                                 |     pool6 64:ff9b::/96 -> TUN       |       |                     |
                                 |     pool4 192.0.2.2    -> TUN       |       |                     |
                                 |          |  (proxy ARP on x4)       | veth  |                     |
                                 | x4 192.0.2.1/24                     |-------| s4 192.0.2.10/24    |
                                 +-------------------------------------+       +---------------------+

  The client reaches the server at 64:ff9b::192.0.2.10 (RFC 6052 /96). 192.0.2.0/24 is a
  documentation range, which RFC 6052 §3.1 forbids behind the well-known prefix, so the
  default configuration file sets wkp-global-only to false; the second instance uses the
  network-specific prefix 2001:db8:64::/96 instead.

Namespaces are named nat64t-<pid>-<n>-6/-x/-4 (unique per test and run). The `net` fixture
deletes leftovers of dead runs, builds the topology, and on teardown always kills every
process it started and every process left in the namespaces, then deletes them. Helpers
net.ns6()/ns4()/nat() log "[+] ns6: cmd", run the command there and raise on failure
(expected failures are asked for with check=False). Readiness is polled, never slept on.

Not root, or a tool missing: skipped on a desk, failed when CI=true.
"""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAT64D = os.environ.get("NAT64D") or os.path.join(REPO, "build", "nat64d")

CLIENT6 = "2001:db8:6::2"
ROUTER6 = "2001:db8:6::1"
SERVER4 = "192.0.2.10"
ROUTER4 = "192.0.2.1"
POOL4 = "192.0.2.2"
POOL6 = "64:ff9b::/96"
SERVER6 = "64:ff9b::" + SERVER4  # RFC 6052 §2.2: the /96 form

# The default instance's config file: pool6 with wkp-global-only off (documentation
# addresses behind the well-known prefix, see the diagram).
DEFAULT_CONFIG = {
    "comment": "e2e: documentation addresses behind 64:ff9b::/96",
    "global": {"pool6": POOL6, "wkp-global-only": False},
}

TOOLS = ["ip", "ping", "curl", "ss", "python3"]

_counter = [0]


def _cannot_run(why):
    if os.environ.get("CI") == "true":
        pytest.fail(f"e2e tests cannot run in CI: {why}")
    pytest.skip(f"e2e tests skipped: {why}")


def _check_environment():
    if os.geteuid() != 0:
        _cannot_run("they need root to create network namespaces (sudo make test)")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            _cannot_run(f"`{tool}` is missing (run scripts/install-deps.sh)")
    if not os.access(NAT64D, os.X_OK):
        _cannot_run(f"{NAT64D} is not built (run make)")


def log(msg):
    print(msg, flush=True)


def poll(what, predicate, timeout=10.0, interval=0.02):
    """Waits until predicate() is truthy; returns its value or raises naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_leftovers():
    """Namespaces of runs whose process is gone (killed test runs)."""
    out = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True)
    for ns in json.loads(out.stdout or "[]"):
        name = ns.get("name", "")
        parts = name.split("-")
        if len(parts) == 4 and parts[0] == "nat64t" and parts[1].isdigit():
            if not _pid_alive(int(parts[1])):
                _kill_netns_pids(name)
                subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _kill_netns_pids(name):
    out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
    for pid in out.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


class CommandFailed(AssertionError):
    pass


class Daemon:
    """One nat64d process and its log file."""

    def __init__(self, net, proc, logpath, tun, instance):
        self.net = net
        self.proc = proc
        self.logpath = logpath
        self.tun = tun
        self.instance = instance

    @property
    def pid(self):
        return self.proc.pid

    def log_text(self):
        with open(self.logpath, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, text, timeout=10.0):
        return poll(f"nat64d log line containing {text!r}",
                    lambda: text in self.log_text(), timeout)

    def signal(self, signo):
        log(f"[+] nsx: kill -{signal.Signals(signo).name} {self.pid} (nat64d {self.instance})")
        self.proc.send_signal(signo)

    def stop(self, timeout=10.0):
        """SIGTERM and wait; returns the exit status."""
        self.signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def alive(self):
        return self.proc.poll() is None


class Net:
    """The three namespaces and every process started in them."""

    def __init__(self, tmp_path):
        _counter[0] += 1
        base = f"nat64t-{os.getpid()}-{_counter[0]}"
        self.name6, self.namex, self.name4 = base + "-6", base + "-x", base + "-4"
        self.tmp = tmp_path
        self.procs = []
        self.daemons = []

    # ---- running commands ----

    def _run(self, label, ns, cmd, check=True, timeout=30):
        log(f"[+] {label}: {cmd}")
        res = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", cmd],
                             capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise CommandFailed(f"{label}: `{cmd}` exited {res.returncode}\n"
                                f"stdout: {res.stdout}\nstderr: {res.stderr}")
        return res

    def ns6(self, cmd, **kw):
        return self._run("ns6", self.name6, cmd, **kw)

    def ns4(self, cmd, **kw):
        return self._run("ns4", self.name4, cmd, **kw)

    def nat(self, cmd, **kw):
        return self._run("nsx", self.namex, cmd, **kw)

    def spawn(self, label, ns, argv, **kw):
        """A background process in namespace `ns`, killed at teardown."""
        log(f"[+] {label}: {' '.join(argv)} &")
        proc = subprocess.Popen(["ip", "netns", "exec", ns] + argv, **kw)
        self.procs.append(proc)
        return proc

    def json(self, label_fn, cmd):
        return json.loads(label_fn(cmd).stdout or "[]")

    # ---- topology ----

    def setup(self):
        for ns in (self.name6, self.namex, self.name4):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        host = ["ip", "link", "add"]
        subprocess.run(host + ["c6", "netns", self.name6, "type", "veth", "peer", "x6",
                               "netns", self.namex], check=True)
        subprocess.run(host + ["s4", "netns", self.name4, "type", "veth", "peer", "x4",
                               "netns", self.namex], check=True)
        self.ns6("ip link set lo up && ip link set c6 up && "
                 f"ip addr add {CLIENT6}/64 dev c6 nodad && "
                 f"ip -6 route add default via {ROUTER6}")
        self.nat("ip link set lo up && ip link set x6 up && ip link set x4 up && "
                 f"ip addr add {ROUTER6}/64 dev x6 nodad && ip addr add {ROUTER4}/24 dev x4 && "
                 "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
        self.ns4("ip link set lo up && ip link set s4 up && "
                 f"ip addr add {SERVER4}/24 dev s4")

    def teardown(self):
        # nat64d first, gently: it removes what it added before the namespace goes.
        for d in self.daemons:
            if d.alive():
                d.proc.send_signal(signal.SIGTERM)
        for d in self.daemons:
            try:
                d.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for ns in (self.name6, self.namex, self.name4):
            _kill_netns_pids(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        # A sanitizer build of nat64d (NAT64D=...) reports at exit: any report fails.
        for d in self.daemons:
            log = d.log_text()
            for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                assert marker not in log, f"nat64d reported {marker}:\n{log}"

    # ---- nat64d ----

    def write_config(self, name, obj):
        path = self.tmp / name
        path.write_text(obj if isinstance(obj, str) else json.dumps(obj, indent=2))
        return str(path)

    def start_nat64d(self, args, instance="default", tun=None, wait_routes=(),
                     ready=True):
        """Starts nat64d in nsx. With `ready`, polls until its TUN device is up and
        the routes in `wait_routes` (prefixes) point to it."""
        tun = tun or ("nat64" if instance == "default" else f"nat64-{instance}"[:15])
        logpath = self.tmp / f"nat64d-{instance}-{len(self.procs)}.log"
        argv = [NAT64D, "-v"] + (["-i", instance] if instance != "default" else []) + args
        logf = open(logpath, "w")
        proc = self.spawn("nsx", self.namex, argv, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        d = Daemon(self, proc, logpath, tun, instance)
        self.daemons.append(d)
        if ready:
            self.wait_ready(d, wait_routes)
        return d

    def wait_ready(self, d, routes):
        def ready():
            if not d.alive():
                raise AssertionError(f"nat64d exited {d.proc.returncode}:\n{d.log_text()}")
            links = self._quiet_json(f"ip -j link show dev {d.tun}")
            if not links or "UP" not in links[0].get("flags", []):
                return False
            for prefix in routes:
                fam = "-6" if ":" in prefix else "-4"
                if not self._quiet_json(f"ip -j {fam} route show {prefix} dev {d.tun}"):
                    return False
            return True
        poll(f"nat64d ({d.instance}) TUN {d.tun} up with routes {list(routes)}", ready)

    def _quiet_json(self, cmd):
        res = subprocess.run(["ip", "netns", "exec", self.namex, "sh", "-c", cmd],
                             capture_output=True, text=True)
        if res.returncode != 0 or not res.stdout.strip():
            return []
        return json.loads(res.stdout)

    def plumbing(self):
        """What nat64d may add in nsx: routes of every table, rules, proxy entries."""
        return {
            "route4": self._quiet_json("ip -j -4 route show table all"),
            "route6": self._quiet_json("ip -j -6 route show table all"),
            "rule4": self._quiet_json("ip -j -4 rule show"),
            "proxy": self._quiet_json("ip -j neigh show proxy"),
        }

    # ---- servers ----

    def http_server(self, label, ns, bind, port, directory):
        proc = self.spawn(label, ns, ["python3", "-m", "http.server", str(port), "--bind",
                                      bind, "--directory", str(directory)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run = self.ns4 if ns == self.name4 else self.ns6

        def listening():
            if proc.poll() is not None:
                raise AssertionError(f"http.server in {label} exited {proc.returncode}")
            return run(f"ss -Htln 'sport = :{port}'").stdout.strip()
        poll(f"http.server listening on {bind} port {port} in {label}", listening)
        return proc


@pytest.fixture
def nat64d_bin():
    """The binary alone, for checks that end before nat64d touches the system."""
    if not os.access(NAT64D, os.X_OK):
        _cannot_run(f"{NAT64D} is not built (run make)")
    return NAT64D


@pytest.fixture
def net(tmp_path):
    """The three namespaces, no translator yet."""
    _check_environment()
    _delete_leftovers()
    n = Net(tmp_path)
    try:
        n.setup()
        yield n
    finally:
        n.teardown()


@pytest.fixture
def translator(net):
    """nat64d instance "default" on TUN nat64: pool6 from a config file, pool4 192.0.2.2
    from the command line, proxy ARP on the IPv4 side."""
    cfg = net.write_config("default.json", DEFAULT_CONFIG)
    d = net.start_nat64d(["--config", cfg, "--uplink4", "x4", f"pool4={POOL4}"],
                         wait_routes=[POOL6, POOL4])
    d.config = cfg
    return d


class Instance:
    """A nat64d started by the `instance` fixture: its Daemon (.daemon) and a Cli of
    cli_fixture.py (.cli) on its own control socket. counters() is `nat64 stats display
    --json`; bib(proto) is `nat64 bib display --PROTO --json`."""

    def __init__(self, daemon, cli):
        self.daemon = daemon
        self.cli = cli

    def counters(self):
        return self.cli.json("stats", "display")

    def bib(self, proto="udp"):
        return self.cli.json("bib", "display", f"--{proto}")

    def sessions(self, proto="udp"):
        return self.cli.json("session", "display", f"--{proto}")


@pytest.fixture
def instance(net):
    """Starts nat64d under an instance name of its own (unique control socket, TUN
    nat64-<name>) from a config object; polls until its routes and its control socket
    answer. Usage: instance(config, args=(), routes=(POOL6,)) -> Instance."""
    from cli_fixture import NAT64, Cli, instance_name, wait_socket

    if not os.access(NAT64, os.X_OK):
        _cannot_run(f"{NAT64} is not built (make build/nat64)")

    def start(config=None, args=(), routes=(POOL6,)):
        name = instance_name()
        cfg = net.write_config(f"{name}.json", config or DEFAULT_CONFIG)
        d = net.start_nat64d(["--config", cfg, *args], instance=name, wait_routes=routes)
        d.config = cfg
        cli = Cli(name, d, net)
        wait_socket(cli)
        return Instance(d, cli)
    return start
