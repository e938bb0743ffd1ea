"""`nat64 session display` against a running nat64d with real traffic (topology:
conftest.py, fixture: cli_fixture.py)."""

import re

from cli_fixture import ctl  # noqa: F401  (fixture)
from conftest import CLIENT6, POOL4, SERVER4, SERVER6, poll

CSV_HEADER = ("Protocol,IPv6 Remote Address,IPv6 Remote L4-ID,IPv6 Local Address,"
              "IPv6 Local L4-ID,IPv4 Local Address,IPv4 Local L4-ID,IPv4 Remote Address,"
              "IPv4 Remote L4-ID,Expires in,State")
TIME = re.compile(r"^\d+:\d\d:\d\d(\.\d\d\d)?$")

# Sends one datagram from CLIENT6#sport to SERVER6 on every port of a range, paced so
# the TUN queue never overflows.
UDP_SPRAY = r"""
import socket, sys, time
src, sport, dst, first, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((src, sport))
for i in range(count):
    s.sendto(b"x", (dst, first + i))
    if i % 50 == 49:
        time.sleep(0.002)
"""


def spray(ctl, sport, first, count):
    ctl.net.ns6(f"python3 -c '{UDP_SPRAY}' {CLIENT6} {sport} {SERVER6} {first} {count}")


def session_count(ctl):
    return ctl.json("stats", "display")["SESSIONS"]


def test_udp_session_fields_in_every_format(ctl):
    spray(ctl, 40000, 9, 1)
    (s,) = ctl.json("session", "display", "--udp")
    assert s["protocol"] == "UDP"
    assert s["ipv6 remote"] == f"{CLIENT6}#40000"
    assert s["ipv6 local"] == "64:ff9b::c000:20a#9"
    assert s["ipv4 remote"] == f"{SERVER4}#9"
    mask = s["ipv4 local"]
    assert mask.startswith(POOL4 + "#")
    assert 0 < s["expires in ms"] <= 5 * 60 * 1000  # udp-timeout 0:05:00
    assert s["state"] is None

    lines = ctl.ok("session", "display", "--udp", "--csv").splitlines()
    assert lines[0] == CSV_HEADER and len(lines) == 2
    f = lines[1].split(",")
    assert f[:5] == ["UDP", CLIENT6, "40000", "64:ff9b::c000:20a", "9"]
    assert f"{f[5]}#{f[6]}" == mask
    assert f[7:9] == [SERVER4, "9"]
    assert TIME.match(f[9]), f[9]
    assert f[10] == ""
    headless = ctl.ok("session", "display", "--udp", "--csv", "--no-headers").splitlines()
    assert [line.split(",")[:9] for line in headless] == [f[:9]]  # expiry moves on

    table = ctl.ok("session", "display", "--udp", "--numeric").splitlines()
    assert table[0] == "---------------------------------"
    assert re.match(r"^Expires in \d+:\d\d:\d\d", table[1]), table[1]
    assert table[2] == f"Remote: {SERVER4}#9\t{CLIENT6}#40000"
    assert table[3] == f"Local: {mask}\t64:ff9b::c000:20a#9"


def test_icmp_and_tcp_sessions(ctl, tmp_path):
    ctl.net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    (icmp,) = ctl.json("session", "display", "--icmp")
    ident = icmp["ipv6 remote"].split("#")[1]
    # RFC 6146 §3.5.3: the remote side of an ICMP session carries the identifiers.
    assert icmp["ipv6 local"] == f"64:ff9b::c000:20a#{ident}"
    assert icmp["ipv4 remote"] == f"{SERVER4}#{icmp['ipv4 local'].split('#')[1]}"
    assert icmp["expires in ms"] <= 60 * 1000

    www = tmp_path / "www"
    www.mkdir()
    (www / "x").write_text("x")
    ctl.net.http_server("ns4", ctl.net.name4, SERVER4, 80, www)
    ctl.net.ns6(f"curl -sS -g --max-time 10 http://[{SERVER6}]/x")
    (tcp,) = ctl.json("session", "display")  # TCP is the default
    assert tcp["protocol"] == "TCP" and tcp["ipv4 remote"] == f"{SERVER4}#80"
    assert tcp["state"] in ("ESTABLISHED", "V4_FIN_RCV", "V6_FIN_RCV", "V4_FIN_V6_FIN_RCV",
                            "TRANS")
    text = ctl.ok("session", "display", "--numeric")
    assert f"({tcp['state']}) Expires in " in text
    assert f"Remote: {SERVER4}#80\t{tcp['ipv6 remote']}" in text


def test_thousands_of_sessions_come_in_pages(ctl):
    """2500 UDP sessions: more than one page of 2048; every one listed exactly once."""
    ctl.ok("global", "update", "max-sessions-per-host", "100000")
    for _ in range(5):
        spray(ctl, 40001, 10000, 2500)
        if session_count(ctl) >= 2500:
            break
    poll("2500 UDP sessions", lambda: session_count(ctl) >= 2500)
    sessions = ctl.json("session", "display", "--udp")
    ports = sorted(int(s["ipv4 remote"].split("#")[1]) for s in sessions)
    assert ports == list(range(10000, 12500))
    csv = ctl.ok("session", "display", "--udp", "--csv", "--no-headers").splitlines()
    assert len(csv) == 2500 and len(set(csv)) == 2500


def test_legacy_session_display_shows_every_protocol(ctl):
    spray(ctl, 40002, 9, 1)
    out = ctl.ok("--session", "--display", "--numeric")
    assert out.splitlines()[0] == "TCP:"
    assert "UDP:" in out and "ICMP:" in out
    assert f"Remote: {SERVER4}#9\t{CLIENT6}#40002" in out
    csv = ctl.ok("--session", "--display", "--csv").splitlines()
    assert csv[0] == CSV_HEADER and csv[1].startswith(f"UDP,{CLIENT6},40002,")
