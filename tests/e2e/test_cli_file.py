"""`nat64 file handle FILE.json` (Jool's atomic configuration) and `-f FILE.json` against
a running nat64d (topology: conftest.py, fixture: cli_fixture.py)."""

import json
import subprocess

import pytest

from cli_fixture import NAT64, ctl  # noqa: F401  (fixture)
from conftest import POOL4, POOL6


def write(ctl, name, obj):
    return ctl.net.write_config(name, obj if isinstance(obj, str) else json.dumps(obj))


def good_config(instance=None):
    cfg = {
        "framework": "netfilter",
        "global": {"pool6": POOL6, "wkp-global-only": False, "udp-timeout": "0:03:00",
                   "logging-bib": True},
        "pool4": [
            {"protocol": "TCP", "prefix": POOL4, "port range": "10000-30000"},
            {"protocol": "UDP", "prefix": POOL4, "port range": "10000-30000",
             "max-iterations": "auto"},
            {"protocol": "ICMP", "prefix": POOL4, "mark": 3},
        ],
    }
    if instance:
        cfg["instance"] = instance
    return cfg


def test_file_handle_applies_the_whole_file(ctl):
    path = write(ctl, "good.json", good_config(ctl.instance))
    ctl.ok("file", "handle", path)
    g = ctl.json("global", "display")
    assert g["udp-timeout"] == "0:03:00" and g["logging-bib"] is True
    assert [(e["prefix"], e["port range"], e["mark"])
            for e in ctl.json("pool4", "display", "--tcp")["pool4"]] == [
        (POOL4, "10000-30000", 0)]
    assert [(e["prefix"], e["port range"], e["mark"])
            for e in ctl.json("pool4", "display", "--icmp")["pool4"]] == [
        (POOL4, "61001-65535", 3)]  # Jool's default port range in files
    # Omitted globals go back to their defaults (Jool); the file is the whole truth.
    write(ctl, "second.json", {"global": {"pool6": POOL6}})
    ctl.ok("f", "h", ctl.net.tmp / "second.json")
    g = ctl.json("global", "display")
    assert g["udp-timeout"] == "0:05:00" and g["wkp-global-only"] is True
    assert ctl.json("pool4", "display")["pool4"] == []


BAD_FILES = [
    # (file content, what the one line must say)
    ({"global": {"pool6": POOL6}, "pool4": [{"protocol": "TCP", "prefix": POOL4,
                                             "port rang": "1-2"}]},
     'unknown field "port rang"'),
    ({"global": {"pool6": POOL6, "udp-timeout": 300}}, '"udp-timeout" must be a string'),
    ({"global": {"pool6": POOL6, "logging-bib": "yes"}}, '"logging-bib" must be a boolean'),
    ({"global": {"pool6": POOL6}, "pool4": [{"protocol": "SCTP", "prefix": POOL4}]},
     "SCTP"),
    ({"global": {"pool6": "2001:db8::/96"}}, "pool6"),
    ({"instance": "someone-else", "global": {"pool6": POOL6}}, "someone-else"),
    ('{"global": {"pool6": "64:ff9b::/96"},', ""),  # cut short
]


@pytest.mark.parametrize("content,message", BAD_FILES,
                         ids=["unknown-field", "type-error-time", "type-error-bool",
                              "bad-protocol", "pool6-change", "other-instance", "truncated"])
def test_bad_file_is_refused_and_changes_nothing(ctl, content, message):
    ctl.ok("bib", "add", f"{POOL4}#2000", "2001:db8::5#2000")
    before = ctl.snapshot()
    path = write(ctl, "bad.json", content)
    line = ctl.fail(1, "file", "handle", path)
    assert message in line
    assert ctl.snapshot() == before


def test_missing_file_is_a_usage_error(ctl):
    assert "cannot read '/nonexistent.json'" in ctl.fail(2, "file", "handle",
                                                        "/nonexistent.json")


def test_instance_from_file_option(ctl):
    """Jool's -f: the instance name comes from the file."""
    path = write(ctl, "named.json", {"instance": ctl.instance, "global": {"pool6": POOL6}})
    res = subprocess.run([NAT64, "-f", path, "pool4", "display", "--json"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["pool4"][0]["prefix"] == POOL4
    res = subprocess.run([NAT64, "-f", path, "-i", "other", "pool4", "display"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "disagree" in res.stderr
