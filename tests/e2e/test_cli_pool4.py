"""`nat64 pool4 display|add|remove|flush` against a running nat64d (topology: conftest.py,
fixture: cli_fixture.py). The daemon starts with pool4 192.0.2.2 (TCP/UDP ports 1-65535,
ICMP 0-65535, mark 0)."""

import time

import pytest

from cli_fixture import ctl, start  # noqa: F401  (fixture)
from conftest import CLIENT6, POOL4, SERVER6

CSV_HEADER = "Mark,Protocol,Address,Min port,Max port,Iterations,Iterations fixed"


def table_rows(text):
    """Cells of the data rows of the first boxed table in `text`, header row excluded."""
    rows = []
    for line in text.splitlines():
        if not line.strip() and rows:
            break
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]


def entries(ctl, proto="--tcp"):
    return ctl.json("pool4", "display", proto)["pool4"]


# ---- display ----

def test_display_formats_agree_field_by_field(ctl):
    ctl.ok("pool4", "add", "--tcp", "192.0.2.16/28", "1000-2000", "--mark", "5",
           "--max-iterations", "7")
    ctl.ok("pool4", "add", "--udp", "198.51.100.0/24", "1-65535", "--max-iterations",
           "infinity")

    tcp = entries(ctl)
    assert tcp == [
        {"mark": 0, "protocol": "TCP", "prefix": POOL4, "port range": "1-65535",
         "max-iterations": "auto", "iterations": 1024},
        {"mark": 5, "protocol": "TCP", "prefix": "192.0.2.16/28", "port range": "1000-2000",
         "max-iterations": 7, "iterations": 7},
    ]
    udp = entries(ctl, "--udp")
    assert [(e["prefix"], e["port range"], e["max-iterations"], e["iterations"])
            for e in udp] == [(POOL4, "1-65535", "infinity", None),
                              ("198.51.100.0/24", "1-65535", "infinity", None)]
    icmp = entries(ctl, "--icmp")
    assert [(e["prefix"], e["port range"]) for e in icmp] == [(POOL4, "0-65535")]

    # Jool's CSV columns, one line per entry.
    assert ctl.ok("pool4", "display", "--csv").splitlines() == [
        CSV_HEADER, f"0,TCP,{POOL4},1,65535,1024,0", "5,TCP,192.0.2.16/28,1000,2000,7,1"]
    assert ctl.ok("pool4", "display", "--udp", "--csv", "--no-headers").splitlines() == [
        f"0,UDP,{POOL4},1,65535,infinity,1", "0,UDP,198.51.100.0/24,1,65535,infinity,1"]

    # Jool's table: the set named on its first row only.
    out = ctl.ok("pool4", "display")
    assert out.splitlines()[1].split() == ["|", "Mark", "|", "Proto", "|", "Max", "iterations",
                                           "|", "Address", "|", "Ports", "|"]
    assert table_rows(out) == [["0", "TCP", "1024 (auto)", POOL4, "1-65535"],
                               ["5", "TCP", "7 (fixed)", "192.0.2.16/28", "1000-2000"]]
    headless = ctl.ok("pool4", "display", "--no-headers")
    assert "Mark" not in headless and "192.0.2.16/28" in headless
    # Default protocol is TCP, as Jool.
    assert ctl.ok("pool4", "display", "--csv") == ctl.ok("pool4", "display", "--tcp", "--csv")


def test_display_usage_per_address_and_set(ctl):
    for port in (2000, 2001):
        ctl.ok("bib", "add", f"{POOL4}#{port}", f"2001:db8::{port}#{port}")
    out = ctl.json("pool4", "display")
    assert out["usage"] == [{"protocol": "TCP", "address": POOL4, "in use": 2,
                             "available": 65535}]
    assert out["sets"] == [{"mark": 0, "protocol": "TCP", "max-iterations": "auto",
                            "iterations": 1024, "taddrs": 65535, "addresses": 1, "in use": 2,
                            "percent": pytest.approx(100 * 2 / 65535)}]
    text = ctl.ok("pool4", "display")
    assert f"| TCP | {POOL4} | 2 | 65535 | 0.0% |" in " ".join(text.split())
    assert "TCP mark 0: 2 of 65535 transport addresses in use (0.0%)" in text
    assert "Warning" not in text
    # ICMP has no entry in use.
    assert ctl.json("pool4", "display", "--icmp")["usage"][0]["in use"] == 0


def test_warning_when_a_set_is_above_90_percent(ctl):
    ctl.ok("pool4", "add", "--tcp", "203.0.113.5", "1000-1009", "--mark", "9")
    for i in range(10):
        ctl.ok("bib", "add", f"203.0.113.5#{1000 + i}", f"2001:db8::9:{i}#80")
    sets = {s["mark"]: s for s in ctl.json("pool4", "display")["sets"]}
    assert sets[9]["in use"] == 10 and sets[9]["taddrs"] == 10
    text = ctl.ok("pool4", "display")
    assert ("Warning: pool4 TCP mark 9 is 100.0% full (10 of 10 transport addresses in use)"
            in text)
    # CSV stays Jool's; the warning goes to stderr.
    res = ctl.run("pool4", "display", "--csv")
    assert res.returncode == 0 and "Warning: pool4 TCP mark 9" in res.stderr
    assert "Warning" not in res.stdout
    # The daemon's watch logs it too (once a minute at most).
    ctl.daemon.wait_log("pool4 TCP mark 9: full (10 of 10 transport addresses in use)")


# ---- add ----

def test_add_slash16_under_100_ms(net):
    """A /16 from the command line, routed to the TUN device, in under 100 ms (without
    --uplink4: proxy ARP stops at a /20)."""
    cli = start(net, uplink=False)
    start_t = time.monotonic()
    cli.ok("pool4", "add", "--tcp", "10.64.0.0/16", "1-65535", "--force")
    elapsed = time.monotonic() - start_t
    assert elapsed < 0.1, f"pool4 add of a /16 took {elapsed * 1000:.0f} ms"
    sets = cli.json("pool4", "display")["sets"]
    assert sets[0]["addresses"] == 65536 + 1 and sets[0]["taddrs"] == (65536 + 1) * 65535
    assert sets[0]["iterations"] == 8192  # auto: clamp(taddrs / 128, 1024, 8192)


def routes(ctl, prefix):
    return ctl.net._quiet_json(f"ip -j -4 route show {prefix} dev {ctl.daemon.tun}")


def proxies(ctl):
    return {e["dst"] for e in ctl.net._quiet_json("ip -j neigh show proxy dev x4")}


def test_the_kernel_plumbing_follows_pool4(ctl):
    """Routes to the TUN device and proxy ARP on the uplink come and go with pool4
    changes made through the socket (the daemon's pool4_prepare/pool4_finish hooks)."""
    ctl.ok("pool4", "add", "--udp", "198.51.100.0/30", "1-65535")
    assert routes(ctl, "198.51.100.0/30")
    assert {"198.51.100.0", "198.51.100.3"} <= proxies(ctl)
    ctl.ok("pool4", "remove", "198.51.100.0/30")
    assert not routes(ctl, "198.51.100.0/30")
    assert "198.51.100.0" not in proxies(ctl)


def test_a_change_the_plumbing_refuses_changes_nothing(ctl):
    before = ctl.snapshot()
    line = ctl.fail(1, "pool4", "add", "--tcp", "10.64.0.0/16", "1-65535", "--force")
    assert "proxy ARP" in line
    assert ctl.snapshot() == before
    assert not routes(ctl, "10.64.0.0/16")


def test_add_reversed_range_is_swapped(ctl):
    ctl.ok("pool4", "add", "--tcp", "192.0.2.7", "80-20")
    assert {"prefix": "192.0.2.7", "port range": "20-80"}.items() <= entries(ctl)[1].items()


def test_add_merges_and_max_iterations_overwrites(ctl):
    ctl.ok("pool4", "add", "--tcp", "192.0.2.3", "1-65535", "--max-iterations", "50")
    assert [e["prefix"] for e in entries(ctl)] == ["192.0.2.2/31"]
    assert entries(ctl)[0]["max-iterations"] == 50
    ctl.ok("pool4", "add", "--tcp", "192.0.2.3", "1-65535", "--max-iterations", "auto")
    assert entries(ctl)[0]["max-iterations"] == "auto"


BAD_INPUT = [
    # (arguments, exit code, what the one line must say)
    (["pool4", "add", "--tcp", "192.0.2.300", "1-2"], 2, "invalid prefix '192.0.2.300'"),
    (["pool4", "add", "--tcp", "192.0.2.7/33", "1-2"], 2, "the length is 0-32"),
    (["pool4", "add", "--tcp", "192.0.2.7/24", "1-2"], 2, "bits set after /24 (192.0.2.0/24?)"),
    (["pool4", "add", "--tcp", "192.0.2.7", "0-65536"], 2,
     "invalid port range '0-65536': ports are 0-65535"),
    (["pool4", "add", "--tcp", "192.0.2.7", "70000-80"], 2,
     "invalid port range '70000-80': ports are 0-65535"),
    (["pool4", "add", "--tcp", "192.0.2.7", "1-2-3"], 2, "invalid port range '1-2-3'"),
    (["pool4", "add", "--sctp", "192.0.2.7", "1-2"], 2, "unknown option '--sctp'"),
    (["pool4", "add", "192.0.2.7", "1-2"], 2, "give one of --tcp, --udp or --icmp"),
    (["pool4", "add", "--tcp", "--udp", "192.0.2.7", "1-2"], 2, "give one of --tcp"),
    (["pool4", "add", "--tcp", "192.0.2.7"], 2, "expected PREFIX PORT-RANGE"),
    (["pool4", "add", "--tcp", "--mark", "4294967296", "192.0.2.7", "1-2"], 2,
     "invalid mark '4294967296': marks are 0-4294967295"),
    (["pool4", "add", "--tcp", "--mark", "-1", "192.0.2.7", "1-2"], 2, "invalid mark '-1'"),
    (["pool4", "add", "--tcp", "192.0.2.7", "1-2", "--max-iterations", "0"], 2,
     "invalid max-iterations '0'"),
    (["pool4", "add", "--tcp", "10.0.0.0/16", "1-65535"], 1,
     "10.0.0.0/16 holds 65536 addresses (shorter than /24): add --force"),
    (["pool4", "add", "--tcp", "192.0.2.7", "0"], 1, "port 0 is not usable for TCP"),
    (["pool4", "remove", "--tcp", "203.0.113.1"], 1, "203.0.113.1 ports 0-65535 mark 0 is not "
                                                     "in pool4"),
    (["pool4", "remove", "192.0.2.2", "1-2-3"], 2, "invalid port range"),
    (["pool4", "frobnicate"], 2, "unknown pool4 operation 'frobnicate'"),
    (["pool4", "add", "--tcp", "192.0.2.7", "1-2", "--mark"], 2, "'--mark' needs a value"),
    (["pool4", "display", "--csv", "--json"], 2, "--csv and --json exclude each other"),
    (["pool4", "add", "--tcp", "192.0.2.8/28", "1-2"], 2, "bits set after /28 (192.0.2.0/28?)"),
]


@pytest.mark.parametrize("args,code,message", BAD_INPUT,
                         ids=[" ".join(a) for a, _, _ in BAD_INPUT])
def test_bad_input_is_refused_and_changes_nothing(ctl, args, code, message):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    before = ctl.snapshot()
    line = ctl.fail(code, *args)
    assert message in line
    assert ctl.snapshot() == before


# ---- remove and flush against the BIB ----

def bib4(ctl, proto="--tcp"):
    return sorted(e["ipv4 address"] for e in ctl.json("bib", "display", proto))


def test_remove_without_quick_drops_the_bib_entries_of_the_removed_taddrs(ctl):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    ctl.ok("bib", "add", f"{POOL4}#3000", "2001:db8::6#3000")
    ctl.ok("pool4", "remove", "--tcp", POOL4, "2000")
    assert bib4(ctl) == [f"{POOL4}#3000"]
    assert [e["port range"] for e in entries(ctl)] == ["1-1999", "2001-65535"]


def test_remove_quick_keeps_the_bib(ctl):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    ctl.ok("pool4", "remove", "--tcp", POOL4, "--quick")
    assert entries(ctl) == []
    assert bib4(ctl) == [f"{POOL4}#2000"]


def test_remove_without_protocol_removes_all_three(ctl):
    ctl.ok("pool4", "remove", POOL4)
    assert [entries(ctl, p) for p in ("--tcp", "--udp", "--icmp")] == [[], [], []]


def test_remove_drops_dynamic_entries_made_by_traffic(ctl):
    ctl.net.ns6(f"ping -c 1 -W 2 {SERVER6}")
    icmp = ctl.json("bib", "display", "--icmp")
    assert len(icmp) == 1 and icmp[0]["ipv6 address"].startswith(CLIENT6 + "#")
    assert icmp[0]["static"] is False
    ctl.ok("pool4", "remove", "--icmp", POOL4, "--quick")
    assert len(ctl.json("bib", "display", "--icmp")) == 1
    ctl.ok("pool4", "add", "--icmp", POOL4, "0-65535")
    ctl.ok("pool4", "remove", "--icmp", POOL4)
    assert ctl.json("bib", "display", "--icmp") == []
    assert ctl.json("session", "display", "--icmp") == []


def test_flush_quick_keeps_the_bib_and_flush_empties_it(ctl):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    ctl.ok("pool4", "flush", "--quick")
    assert [entries(ctl, p) for p in ("--tcp", "--udp", "--icmp")] == [[], [], []]
    assert bib4(ctl) == [f"{POOL4}#2000"]
    ctl.ok("pool4", "add", "--tcp", POOL4, "1-65535")
    ctl.ok("pool4", "flush")
    assert bib4(ctl) == []


# ---- the old flag style ----

def test_legacy_add_display_remove(ctl):
    ctl.ok("--pool4", "--add", "192.0.2.7")
    ctl.ok("--pool4", "--add", "192.0.2.16/28")
    for proto, ports in (("--tcp", "1-65535"), ("--udp", "1-65535"), ("--icmp", "0-65535")):
        got = [(e["prefix"], e["port range"]) for e in entries(ctl, proto)]
        assert ("192.0.2.7", ports) in got and ("192.0.2.16/28", ports) in got
    # --display shows every protocol.
    lines = ctl.ok("--pool4", "--display", "--csv").splitlines()
    assert lines[0] == CSV_HEADER
    assert {line.split(",")[1] for line in lines[1:]} == {"TCP", "UDP", "ICMP"}
    ctl.ok("--pool4", "--remove", "192.0.2.7")
    for proto in ("--tcp", "--udp", "--icmp"):
        assert "192.0.2.7" not in [e["prefix"] for e in entries(ctl, proto)]
    assert ctl.fail(2, "--pool4", "--add", "--remove", "192.0.2.7").endswith(
        "--add and --remove exclude each other")


def test_legacy_add_takes_the_network_of_a_prefix_with_host_bits(ctl):
    # The documentation we follow writes `nat64 --pool4 --add 192.0.2.8/28`
    # (192.0.2.1 is the fixture translator's own address, hence another /28).
    res = ctl.run("--pool4", "--add", "203.0.113.40/28")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "'203.0.113.40/28' has bits set after its length: using 203.0.113.32/28" in res.stderr
    for proto in ("--tcp", "--udp", "--icmp"):
        assert "203.0.113.32/28" in [e["prefix"] for e in entries(ctl, proto)]


def test_legacy_add_with_port_range_and_protocol(ctl):
    ctl.ok("--pool4", "--add", "--udp", "192.0.2.9", "7000-8000")
    assert ("192.0.2.9", "7000-8000") in [(e["prefix"], e["port range"])
                                          for e in entries(ctl, "--udp")]
    assert "192.0.2.9" not in [e["prefix"] for e in entries(ctl, "--tcp")]


def test_prefix_abbreviations(ctl):
    ctl.ok("p", "a", "--tc", "192.0.2.7", "5")
    assert ("192.0.2.7", "5-5") in [(e["prefix"], e["port range"]) for e in entries(ctl)]
    assert ctl.ok("po", "d", "--cs") == ctl.ok("pool4", "display", "--csv")
