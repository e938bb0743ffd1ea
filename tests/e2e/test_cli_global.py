"""`nat64 global display|update` and `nat64 stats display` against a running nat64d
(topology: conftest.py, fixture: cli_fixture.py)."""

import pytest

from cli_fixture import ctl  # noqa: F401  (fixture)
from conftest import SERVER6


# ---- global ----

def test_display_formats_agree(ctl):
    g = ctl.json("global", "display")
    # Typed as in Jool's configuration file.
    assert g["manually-enabled"] is True
    assert g["pool6"] == "64:ff9b::/96"
    assert g["lowest-ipv6-mtu"] == 1280
    assert g["udp-timeout"] == "0:05:00"
    assert g["tcp-est-timeout"] == "2:00:00"
    assert g["f-args"] == 11
    assert g["wkp-global-only"] is False  # from the test's config file
    assert g["mtu-plateaus"] == [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296,
                                 68]
    table = ctl.ok("global", "display").splitlines()
    assert len(table) == len(g)
    assert "  udp-timeout: 0:05:00" in table and "  manually-enabled: true" in table
    csv = ctl.ok("global", "display", "--csv").splitlines()
    assert csv[0] == "Key,Value" and len(csv) == len(g) + 1
    assert '"mtu-plateaus","65535,32000' not in csv  # keys are never quoted...
    assert 'mtu-plateaus,"65535,32000,17914,8166,4352,2002,1492,1006,508,296,68"' in csv
    assert [line.split(",")[0] for line in csv[1:]] == list(g)  # same keys, same order
    assert ctl.ok("global", "display", "--csv", "--no-headers").splitlines() == csv[1:]


@pytest.mark.parametrize("key,value,shown", [
    ("udp-timeout", "3:00", "0:03:00"),
    ("tcp-trans-timeout", "0:05:30.5", "0:05:30.500"),
    ("manually-enabled", "off", False),
    ("address-dependent-filtering", "yes", True),
    ("mtu-plateaus", "1500,1280,1500,0", [1500, 1280]),
    ("max-sessions-per-host", "7", 7),
    ("f-args", "10", 10),
])
def test_update_every_type(ctl, key, value, shown):
    ctl.ok("global", "update", key, value)
    assert ctl.json("global", "display")[key] == shown


def test_update_by_prefix(ctl):
    ctl.ok("g", "u", "icmp-timeout", "0:00:30")
    assert ctl.json("g", "d")["icmp-timeout"] == "0:00:30"


BAD_INPUT = [
    (["global", "update", "udp-timeoutt", "5:00"], 2, "unknown global key 'udp-timeoutt'"),
    (["global", "update", "udp-timeout", "5:xx"], 2,
     "udp-timeout: '5:xx' is not a time ([HH:[MM:]]SS[.mmm])"),
    (["global", "update", "udp-timeout", "1:00"], 2, "is below the minimum 0:02:00"),
    (["global", "update", "manually-enabled", "maybe"], 2, "is not a boolean"),
    (["global", "update", "f-args", "16"], 2, "f-args: '16' is out of range (0-15)"),
    (["global", "update", "ss-enabled", "true"], 2, "ss-enabled: not supported"),
    (["global", "update", "pool6", "2001:db8::/96"], 1, "pool6"),
    (["global", "update", "udp-timeout"], 2, "missing arguments"),
]


@pytest.mark.parametrize("args,code,message", BAD_INPUT,
                         ids=[" ".join(a) for a, _, _ in BAD_INPUT])
def test_bad_input_is_refused_and_changes_nothing(ctl, args, code, message):
    before = ctl.snapshot()
    assert message in ctl.fail(code, *args)
    assert ctl.snapshot() == before


def test_help_lists_every_key(ctl):
    keys = ctl.json("global", "display")
    out = ctl.ok("global", "update", "--help")
    for key in keys:
        assert f"  {key} " in out


# ---- stats ----

def steady(before, after):
    """Counters that did not move between two readings (the IPv6 side sees stray
    packets, router solicitations and the like, at any time)."""
    return {k: v for k, v in after.items() if before.get(k) == v}


def test_stats_formats(ctl):
    ctl.net.ns6(f"ping -c 2 -i 0.2 -W 2 {SERVER6}")
    stats = ctl.json("stats", "display")
    # JSON lists every counter, zero ones included.
    assert stats["RECEIVED6"] >= 2 and stats["RECEIVED4"] >= 2 and stats["SUCCESS"] >= 4
    assert stats["POOL4_EXHAUSTED"] == 0
    assert stats["BIB_ENTRIES"] == 1 and stats["SESSIONS"] == 1

    table = dict(line.split(": ") for line in ctl.ok("stats", "display").splitlines())
    after = ctl.json("stats", "display")
    # Only non-zero counters, with their values.
    assert set(table) <= {k for k, v in after.items() if v}
    assert {k for k, v in stats.items() if v} <= set(table)
    for k, v in steady(stats, after).items():
        assert k not in table or table[k] == str(v)
    assert len(ctl.ok("stats", "display", "--all").splitlines()) == len(stats)

    explained = ctl.json("stats", "display", "--explain")
    assert explained["SUCCESS"]["explain"] == "Packets translated and sent."
    assert set(explained) == set(stats)
    text = ctl.ok("stats", "display", "--explain").splitlines()
    i = [n for n, line in enumerate(text) if line.startswith("RECEIVED6: ")][0]
    assert text[i + 1] == "    IPv6 packets received."

    csv = ctl.ok("stats", "display", "--csv").splitlines()
    assert csv[0] == "Stat,Value"
    assert {line.split(",")[0] for line in csv[1:]} >= {k for k, v in stats.items() if v}
    assert f"BIB_ENTRIES,{stats['BIB_ENTRIES']}" in csv
    csv = ctl.ok("stats", "display", "--csv", "--explain", "--all", "--no-headers").splitlines()
    assert len(csv) == len(stats)
    (success,) = [line for line in csv if line.startswith("SUCCESS,")]
    assert success == f"SUCCESS,{ctl.json('stats', 'display')['SUCCESS']},Packets translated and sent."
    # An explanation with a comma is quoted.
    assert "L4_PROTO_UNKNOWN,0,\"Transport protocol other than TCP, UDP or ICMP.\"" in csv
