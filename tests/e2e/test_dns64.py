"""DNS64 (RFC 6147) with unbound in front of nat64d: the DNS query itself crosses the
translator as UDP.

  ns6: unbound "dns64 iterator" on 2001:db8:6::2#53, dns64-prefix 64:ff9b::/96,
       stub-zone example. at 64:ff9b::192.0.2.10 (IPv6 only: do-ip4 no)
  ns4: unbound on 192.0.2.10#53 (IPv4 only), local-zone example. with
       www.example. A 192.0.2.10 and v6.example. AAAA 2001:db8:6::80

dig AAAA www.example asks the DNS64 resolver, which asks the IPv4-only server through
nat64d (UDP 2001:db8:6::2#x -> 64:ff9b::c000:20a#53 becomes 192.0.2.2#y ->
192.0.2.10#53), finds no AAAA, then an A, and synthesizes 64:ff9b::c000:20a.
"""

import shutil

from conftest import CLIENT6, POOL4, POOL6, SERVER4, SERVER6, _cannot_run, poll

SYNTH = "64:ff9b::c000:20a"  # RFC 6052 §2.2: 64:ff9b::/96 + 192.0.2.10

COMMON = """server:
    port: 53
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{dir}"
    pidfile: "{dir}/{name}.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    log-queries: yes
    qname-minimisation: no
    do-tcp: no
"""

AUTH_CONF = COMMON + """    interface: {addr}
    do-ip6: no
    access-control: 0.0.0.0/0 allow
    module-config: "iterator"
    local-zone: "example." static
    local-data: "www.example. 300 IN A {a}"
    local-data: "v6.example. 300 IN AAAA 2001:db8:6::80"
"""

DNS64_CONF = COMMON + """    interface: {addr}
    do-ip4: no
    access-control: ::/0 allow
    module-config: "dns64 iterator"
    dns64-prefix: {prefix}
stub-zone:
    name: "example."
    stub-addr: {stub}
"""


def start_unbound(net, label, ns, run, name, conf, addr):
    path = net.tmp / f"{name}.conf"
    path.write_text(conf)
    logf = open(net.tmp / f"{name}.log", "w")
    proc = net.spawn(label, ns, ["unbound", "-d", "-c", str(path)], stdout=logf,
                     stderr=logf)
    logf.close()

    def listening():
        if proc.poll() is not None:
            raise AssertionError(f"unbound {name} exited {proc.returncode}:\n"
                                 + (net.tmp / f"{name}.log").read_text())
        return addr in run("ss -Huln 'sport = :53'").stdout
    poll(f"unbound {name} listening on {addr}#53", listening)
    return proc


def dig(net, qtype, name, server):
    res = net.ns6(f"dig +short +tries=1 +time=3 {qtype} {name} @{server}")
    return res.stdout.split()


def test_dns64_query_crosses_translator(net, instance):
    for tool in ("unbound", "dig"):
        if shutil.which(tool) is None:
            _cannot_run(f"`{tool}` is missing (run scripts/install-deps.sh)")
    nat = instance(args=["--uplink4", "x4", f"pool4={POOL4}"], routes=[POOL6, POOL4])
    start_unbound(net, "ns4", net.name4, net.ns4, "auth",
                  AUTH_CONF.format(dir=net.tmp, name="auth", addr=SERVER4, a=SERVER4),
                  SERVER4)
    start_unbound(net, "ns6", net.name6, net.ns6, "dns64",
                  DNS64_CONF.format(dir=net.tmp, name="dns64", addr=CLIENT6, prefix=POOL6,
                                    stub=SERVER6),
                  CLIENT6)

    # Plain DNS over UDP through the translator: the IPv6 client asks the IPv4-only server.
    assert dig(net, "A", "www.example", SERVER6) == [SERVER4]
    # RFC 6147 §5.1.6: no AAAA, so one is synthesized from the A record.
    assert dig(net, "AAAA", "www.example", CLIENT6) == [SYNTH]
    # §5.1.4: a real AAAA is returned as it is.
    assert dig(net, "AAAA", "v6.example", CLIENT6) == ["2001:db8:6::80"]
    # The synthesized address works: ping the IPv4 server through it.
    net.ns6(f"ping -c 1 -W 2 {SYNTH}")

    # The IPv4 server was asked by the pool4 address...
    auth_log = (net.tmp / "auth.log").read_text()
    assert f"info: {POOL4} www.example. AAAA IN" in auth_log, auth_log
    assert f"info: {POOL4} www.example. A IN" in auth_log, auth_log
    # ... through UDP sessions to 192.0.2.10#53, each masking an IPv6 source.
    dns = [s for s in nat.sessions("udp") if s["ipv4 remote"] == f"{SERVER4}#53"]
    assert dns, nat.sessions("udp")
    for s in dns:
        assert s["ipv6 local"] == f"{SYNTH}#53"
        assert s["ipv6 remote"].startswith(CLIENT6 + "#")
        assert s["ipv4 local"].startswith(POOL4 + "#")
