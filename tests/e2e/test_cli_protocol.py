"""The control socket itself, spoken to directly (length-prefixed JSON, ctl/wire.h), and
the command's dispatch, help and exit codes (topology: conftest.py, fixture:
cli_fixture.py). A client that sends garbage, a huge request, disconnects half-way or
never reads must get an error or be dropped, and the daemon must go on serving."""

import grp
import json
import os
import socket
import stat
import struct
import subprocess

import pytest

from cli_fixture import NAT64, ctl, start  # noqa: F401  (fixture)
from conftest import POOL4, SERVER6


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)  # blocking: waits while the listen backlog is full
        self.s.settimeout(10)

    def send_raw(self, data):
        self.s.sendall(struct.pack(">I", len(data)) + data)

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode())

    def recv(self):
        hdr = self._exactly(4)
        if hdr is None:
            return None
        return json.loads(self._exactly(struct.unpack(">I", hdr)[0]))

    def call(self, obj):
        self.send(obj)
        return self.recv()

    def _exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def close(self):
        self.s.close()


def still_serving(ctl):
    assert ctl.json("stats", "display")["RECEIVED6"] >= 0


# ---- the socket ----

def test_socket_is_root_only_by_default(ctl):
    st = os.stat(ctl.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0
    assert ctl.daemon.wait_log(f"control socket {ctl.socket}")


def test_non_root_user_is_refused(ctl):
    res = ctl.run("stats", "display", user="nobody")
    assert res.returncode == 1
    assert res.stderr.strip() == (f"nat64: {ctl.socket}: Permission denied (the control "
                                  "socket is root's, or its group's)")


def test_ctl_group_lets_its_members_in(net):
    # nobody's primary group is nogroup on Debian: --ctl-group nogroup lets it in.
    cli = start(net, extra_args=["--ctl-group", "nogroup"])
    st = os.stat(cli.socket)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert st.st_gid == grp.getgrnam("nogroup").gr_gid
    res = cli.run("stats", "display", "--json", user="nobody")
    assert res.returncode == 0, res.stderr
    assert "RECEIVED6" in res.stdout


def test_no_daemon_is_exit_1(ctl):
    res = subprocess.run([NAT64, "-i", "nonexistent-x", "stats", "display"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert "is nat64d running?" in res.stderr and len(res.stderr.splitlines()) == 1


def test_requests_and_replies_on_the_wire(ctl):
    c = Conn(ctl.socket)
    assert c.call({"version": 1, "cmd": "hello"}) == {"ok": True, "version": 1, "page": 2048}
    r = c.call({"version": 1, "cmd": "pool4.display", "protocol": "TCP"})
    assert r == {"ok": True, "cursor": None, "entries": [
        {"mark": 0, "prefix": POOL4, "min": 1, "max": 65535, "iter": "auto",
         "iterations": 1024}]} or (r["ok"] and r["entries"][0]["prefix"] == POOL4)
    bad = [
        ({"version": 2, "cmd": "hello"}, "protocol version not supported"),
        ({"cmd": "hello"}, "protocol version not supported"),
        ({"version": 1}, 'missing "cmd"'),
        ({"version": 1, "cmd": "pool4.explode"}, 'unknown command "pool4.explode"'),
        ({"version": 1, "cmd": "pool4.flush", "quick": True, "extra": 1},
         'pool4.flush: unknown argument "extra"'),
        ({"version": 1, "cmd": "pool4.add", "protocols": ["TCP"], "prefix": "192.0.2.7",
          "min": 1, "max": 70000}, 'pool4.add: "max" must be an integer 0-65535'),
        ({"version": 1, "cmd": "pool4.add", "protocols": ["TCP", "TCP"],
          "prefix": "192.0.2.7", "min": 1, "max": 2}, '"protocols" must be an array'),
        ({"version": 1, "cmd": "pool4.add", "protocols": ["TCP"], "min": 1, "max": 2},
         'pool4.add: missing argument "prefix"'),
        ({"version": 1, "cmd": "bib.display", "protocol": "SCTP"},
         '"protocol" must be "TCP", "UDP" or "ICMP"'),
        ({"version": 1, "cmd": "session.display", "protocol": "UDP", "limit": 0},
         '"limit" must be an integer 1-8192'),
        ([1, 2, 3], "not a JSON object"),
    ]
    before = ctl.snapshot()
    for req, message in bad:
        r = c.call(req)
        assert r["ok"] is False and message in r["error"], (req, r)
        assert "\n" not in r["error"]
    c.send_raw(b"{not json")
    r = c.recv()
    assert r["ok"] is False and r["error"].startswith("malformed request: ")
    # The connection is still good after each refusal.
    assert c.call({"version": 1, "cmd": "hello"})["ok"] is True
    c.close()
    assert ctl.snapshot() == before


def test_pages_follow_the_cursor(ctl):
    for i in range(5):
        ctl.ok("bib", "add", f"{POOL4}#{2000 + i}", f"2001:db8::{i + 1}#80")
    c = Conn(ctl.socket)
    seen, cursor, pages = [], 0, 0
    while cursor is not None:
        r = c.call({"version": 1, "cmd": "bib.display", "protocol": "TCP", "limit": 2,
                    "cursor": cursor})
        assert r["ok"] and len(r["entries"]) <= 2
        for row in r["entries"]:  # "IPV6 PORT IPV4 PORT static|dynamic"
            a6, p6, a4, p4, kind = row.split(" ")
            assert kind == "static"
            seen.append(f"{a4}#{p4}")
        cursor, pages = r["cursor"], pages + 1
    assert sorted(seen) == [f"{POOL4}#{2000 + i}" for i in range(5)]
    assert pages == 3
    c.close()


def test_huge_request_gets_an_error_and_the_connection_closes(ctl):
    c = Conn(ctl.socket)
    c.s.sendall(struct.pack(">I", 2 << 20))
    r = c.recv()
    assert r == {"ok": False, "error": "request of 2097152 bytes refused: 1-1048576 bytes"}
    assert c.recv() is None  # closed
    c = Conn(ctl.socket)
    c.s.sendall(struct.pack(">I", 0))
    assert c.recv()["ok"] is False
    still_serving(ctl)


def test_a_request_of_one_mebibyte_is_read(ctl):
    c = Conn(ctl.socket)
    pad = " " * ((1 << 20) - 40)
    body = ('{"version": 1, "cmd": "hello"' + pad + "}").encode()
    assert len(body) <= 1 << 20
    c.send_raw(body)
    assert c.recv()["ok"] is True


def test_clients_that_vanish_or_never_read_do_not_stop_the_daemon(ctl):
    ctl.net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    # Half a request, then gone.
    c = Conn(ctl.socket)
    c.s.sendall(struct.pack(">I", 100) + b'{"version"')
    c.close()
    # A request, then gone before the reply.
    c = Conn(ctl.socket)
    c.send({"version": 1, "cmd": "stats.display"})
    c.close()
    # Requests piled up, replies never read (50 stats replies: more than a socket buffer).
    lazy = Conn(ctl.socket)
    for _ in range(50):
        lazy.send({"version": 1, "cmd": "stats.display"})
    # More clients than the daemon serves at once (64): the extra ones wait their turn.
    crowd = [Conn(ctl.socket) for _ in range(70)]
    for c in crowd:
        c.close()
    still_serving(ctl)
    # Traffic still flows.
    ctl.net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    # The lazy client gets its replies in order once it reads.
    for _ in range(50):
        assert lazy.recv()["ok"] is True
    lazy.close()
    assert ctl.daemon.alive()


# ---- dispatch, help, exit codes ----

def test_help_at_every_level(ctl):
    top = ctl.ok("--help")
    for verb in ("pool4 display", "pool4 add", "pool4 remove", "pool4 flush", "bib display",
                 "bib add", "bib remove", "session display", "stats display",
                 "global display", "global update", "file handle"):
        assert f"  {verb} " in top
    mode = ctl.ok("pool4", "--help")
    assert "  add " in mode and "  flush " in mode and "bib" not in mode
    add = ctl.ok("pool4", "add", "--help")
    assert add.startswith("Usage: nat64 [-i INSTANCE] pool4 add (--tcp|--udp|--icmp) PREFIX "
                          "PORT-RANGE")
    for opt in ("--tcp", "--mark N", "--max-iterations N|auto|infinity", "--force",
                "--help"):
        assert f"  {opt} " in add
    assert "--quick" not in add
    assert ctl.ok("p", "a", "-h") == add


@pytest.mark.parametrize("args,message", [
    ([], "missing MODE"),
    (["s", "d"], "ambiguous mode 's': could be session, stats"),
    (["frob"], "unknown mode 'frob': expected pool4, bib, session, stats, global, file"),
    (["bib", "x"], "unknown bib operation 'x': expected display, add, remove"),
    (["file"], "file: which operation? expected handle"),
    (["stats", "display", "--x"], "stats display: unknown option '--x'"),
    (["bib", "display", "--n"], "ambiguous option '--n': could be --numeric, --no-headers"),
    (["--frob"], "unknown option '--frob'"),
    (["-i", "this-name-is-far-too-long", "stats"], "invalid instance name"),
])
def test_usage_errors_exit_2_with_one_line(ctl, args, message):
    res = subprocess.run([NAT64] + args, capture_output=True, text=True)
    assert res.returncode == 2, res
    assert len(res.stderr.splitlines()) == 1 and message in res.stderr, res.stderr


def test_abbreviations_reach_the_same_verb(ctl):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    assert ctl.ok("b", "d", "--js") == ctl.ok("bib", "display", "--json")
    assert ctl.ok("g", "--cs") == ctl.ok("global", "display", "--csv")
    # A mode alone is its display.
    assert set(json.loads(ctl.ok("st", "--js"))) == set(ctl.json("stats", "display"))
