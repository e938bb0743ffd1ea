"""The `ctl` fixture of the CLI tests: nat64d in the `net` topology of conftest.py under
an instance name of its own (so its control socket, /run/nat64d/<name>.sock, can't meet
another daemon's), and a Cli object that runs build/nat64 against it.

Cli.run() logs "[+] nat64 -i NAME ARGS" and returns the CompletedProcess; ok() expects
exit 0, fail() expects a given exit code and exactly one line on stderr; json() parses
--json output. snapshot() is the whole configuration as --json displays it (pool4 of
every protocol, BIB of every protocol, globals): bad input must leave it unchanged.
"""

import json
import os
import shlex
import subprocess

import pytest

from conftest import DEFAULT_CONFIG, POOL4, POOL6, REPO, log, poll

NAT64 = os.environ.get("NAT64") or os.path.join(REPO, "build", "nat64")
SOCKET_DIR = "/run/nat64d"
PROTOS = ("--tcp", "--udp", "--icmp")

_instances = [0]


def instance_name():
    """Unique per test and run, 15 characters at most (Jool's limit)."""
    _instances[0] += 1
    return f"c{os.getpid() % 100000}-{_instances[0]}"


class Cli:
    def __init__(self, instance, daemon, net):
        self.instance = instance
        self.daemon = daemon
        self.net = net
        self.socket = os.path.join(SOCKET_DIR, instance + ".sock")

    def run(self, *args, user=None, stdin=None, timeout=60):
        argv = [NAT64, "-i", self.instance] + [str(a) for a in args]
        if user:
            argv = ["setpriv", f"--reuid={user}", "--regid=65534", "--clear-groups"] + argv
        log("[+] " + " ".join(shlex.quote(a) for a in argv[argv.index(NAT64):]))
        return subprocess.run(argv, capture_output=True, text=True, input=stdin,
                              timeout=timeout)

    def ok(self, *args):
        res = self.run(*args)
        assert res.returncode == 0, f"exit {res.returncode}: {res.stderr}"
        return res.stdout

    def fail(self, code, *args):
        """Expects exit `code` with one line naming the problem; returns that line."""
        res = self.run(*args)
        assert res.returncode == code, \
            f"expected exit {code}, got {res.returncode}\n{res.stdout}{res.stderr}"
        lines = res.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {res.stderr!r}"
        assert lines[0].startswith("nat64: "), lines[0]
        return lines[0]

    def json(self, *args):
        return json.loads(self.ok(*args, "--json"))

    def snapshot(self):
        return {
            "pool4": [self.json("pool4", "display", p)["pool4"] for p in PROTOS],
            "bib": [self.json("bib", "display", p) for p in PROTOS],
            "global": self.json("global", "display"),
        }


def wait_socket(cli):
    """Polls until the daemon answers on its socket (it logs the socket's path before
    "ready"; a daemon ready without it has no control socket: fail at once)."""
    def answers():
        if not cli.daemon.alive():
            raise AssertionError(f"nat64d exited:\n{cli.daemon.log_text()}")
        text = cli.daemon.log_text()
        if " ready" in text and "control socket" not in text:
            pytest.fail("nat64d runs without a control socket (ctl/ not wired in)")
        return os.path.exists(cli.socket) and cli.run("stats", "display").returncode == 0
    poll(f"nat64d control socket {cli.socket}", answers)


def start(net, extra_args=(), config=None, uplink=True):
    """nat64d with pool6 from a file and pool4 192.0.2.2 (all protocols), proxy ARP on
    x4 unless `uplink` is false; returns its Cli once the socket answers."""
    name = instance_name()
    cfg = net.write_config(f"{name}.json", config or DEFAULT_CONFIG)
    args = ["--config", cfg, f"pool4={POOL4}", *extra_args]
    if uplink:
        args += ["--uplink4", "x4"]
    d = net.start_nat64d(args, instance=name, wait_routes=[POOL6, POOL4])
    cli = Cli(name, d, net)
    wait_socket(cli)
    return cli


@pytest.fixture
def ctl(net):
    if not os.access(NAT64, os.X_OK):
        pytest.fail(f"{NAT64} is not built (make build/nat64)")
    return start(net)
