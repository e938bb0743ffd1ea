"""`nat64 bib display|add|remove` against a running nat64d (topology: conftest.py,
fixture: cli_fixture.py; pool4 is 192.0.2.2)."""

import pytest

from cli_fixture import ctl  # noqa: F401  (fixture)
from conftest import CLIENT6, POOL4, SERVER6

CSV_HEADER = "Protocol,IPv6 Address,IPv6 L4-ID,IPv4 Address,IPv4 L4-ID,Static?"


def test_add_in_either_order_and_display_formats(ctl):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")       # IPv4 first
    ctl.ok("bib", "add", "2001:db8::6#2001", f"{POOL4}#2001", "--tcp")  # IPv6 first
    ctl.ok("bib", "add", "--udp", "2001:db8::7#53", f"{POOL4}#5353")

    tcp = ctl.json("bib", "display")
    assert sorted(tcp, key=lambda e: e["ipv4 address"]) == [
        {"protocol": "TCP", "ipv6 address": "2001:db8::5#2000",
         "ipv4 address": f"{POOL4}#2000", "static": True},
        {"protocol": "TCP", "ipv6 address": "2001:db8::6#2001",
         "ipv4 address": f"{POOL4}#2001", "static": True},
    ]
    assert ctl.json("bib", "display", "--udp") == [
        {"protocol": "UDP", "ipv6 address": "2001:db8::7#53", "ipv4 address": f"{POOL4}#5353",
         "static": True}]
    assert ctl.json("bib", "display", "--icmp") == []

    csv = ctl.ok("bib", "display", "--csv").splitlines()
    assert csv[0] == CSV_HEADER
    assert sorted(csv[1:]) == [f"TCP,2001:db8::5,2000,{POOL4},2000,1",
                               f"TCP,2001:db8::6,2001,{POOL4},2001,1"]
    assert ctl.ok("bib", "display", "--udp", "--csv", "--no-headers").splitlines() == [
        f"UDP,2001:db8::7,53,{POOL4},5353,1"]

    lines = ctl.ok("bib", "display", "--numeric").splitlines()
    assert sorted(lines) == [f"[Static] {POOL4}#2000 - 2001:db8::5#2000",
                             f"[Static] {POOL4}#2001 - 2001:db8::6#2001"]


def test_dynamic_entry_from_traffic(ctl):
    ctl.net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    (entry,) = ctl.json("bib", "display", "--icmp")
    assert entry["static"] is False
    assert entry["ipv6 address"].startswith(CLIENT6 + "#")
    assert entry["ipv4 address"].startswith(POOL4 + "#")
    line = ctl.ok("bib", "display", "--icmp", "--numeric").strip()
    assert line == f"[Dynamic] {entry['ipv4 address']} - {entry['ipv6 address']}"
    # A dynamic entry can be removed too, with its session.
    ctl.ok("bib", "remove", "--icmp", entry["ipv6 address"])
    assert ctl.json("bib", "display", "--icmp") == []
    assert ctl.json("session", "display", "--icmp") == []


def test_remove_by_either_taddr_or_both(ctl):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    ctl.ok("bib", "add", f"{POOL4}#2001", "2001:db8::6#2001")
    ctl.ok("bib", "add", f"{POOL4}#2002", "2001:db8::7#2002")
    ctl.ok("bib", "remove", f"{POOL4}#2000")
    ctl.ok("bib", "remove", "2001:db8::6#2001")
    ctl.ok("bib", "remove", "2001:db8::7#2002", f"{POOL4}#2002")
    assert ctl.json("bib", "display") == []


def test_legacy_bib_display_and_add(ctl):
    ctl.ok("--bib", "--add", "--udp", "2001:db8::7#53", f"{POOL4}#5353")
    out = ctl.ok("--bib", "--display", "--numeric").splitlines()
    assert out == ["TCP:", "UDP:", f"[Static] {POOL4}#5353 - 2001:db8::7#53", "ICMP:"]
    csv = ctl.ok("--bib", "--display", "--csv").splitlines()
    assert csv == [CSV_HEADER, f"UDP,2001:db8::7,53,{POOL4},5353,1"]


BAD_INPUT = [
    (["bib", "add", f"{POOL4}#2001", "2001:db8::5#2000"], 1,
     "2001:db8::5#2000 is already mapped to another IPv4 transport address"),
    (["bib", "add", f"{POOL4}#2000", "2001:db8::9#2000"], 1,
     f"{POOL4}#2000 is already mapped to another IPv6 transport address"),
    (["bib", "add", f"{POOL4}#2000", "2001:db8::5#2000"], 1, "already exists"),
    (["bib", "add", "203.0.113.9#2000", "2001:db8::9#2000"], 1,
     "203.0.113.9#2000 is not in pool4 (TCP)"),
    (["bib", "add", f"{POOL4}#70000", "2001:db8::9#2000"], 2,
     f"invalid IPv4 transport address '{POOL4}#70000'"),
    (["bib", "add", f"{POOL4}", "2001:db8::9#2000"], 2, "expected ADDRESS#PORT"),
    (["bib", "add", "2001:db8::8#1", "2001:db8::9#2000"], 2,
     "expected one IPv6 and one IPv4 transport address"),
    (["bib", "add", "2001:db8::zz#1", f"{POOL4}#3"], 2, "invalid IPv6 transport address"),
    (["bib", "add", f"{POOL4}#3"], 2, "missing arguments"),
    (["bib", "add", "--tcp", "--udp", f"{POOL4}#3", "2001:db8::9#3"], 2, "give one of"),
    (["bib", "remove", f"{POOL4}#2999"], 1, "no TCP entry matches"),
    (["bib", "remove"], 2, "missing arguments"),
]


@pytest.mark.parametrize("args,code,message", BAD_INPUT,
                         ids=[" ".join(a) for a, _, _ in BAD_INPUT])
def test_bad_input_is_refused_and_changes_nothing(ctl, args, code, message):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    before = ctl.snapshot()
    assert message in ctl.fail(code, *args)
    assert ctl.snapshot() == before
