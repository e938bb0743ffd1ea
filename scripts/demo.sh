#!/usr/bin/env bash
# `make demo`: nat64d between an IPv6-only client and an IPv4-only server,
# in three network namespaces of its own, with a DNS64 resolver.
#
#   client (IPv6 only)         translator                      server (IPv4 only)
#   2001:db8:6::2/64 ---veth--- 2001:db8:6::1/64                192.0.2.80/24
#   resolv.conf ->              DNS64 resolver (unbound)        HTTP on port 80
#     2001:db8:6::1             nat64d on TUN: pool6 64:ff9b::/96, pool4 198.51.100.x
#                               192.0.2.1/24 ------------veth--- authoritative DNS
#                                                               (unbound: example.)
#
# The client only ever sees IPv6: it asks the resolver for www.example, which
# has nothing but an A record (192.0.2.80) on the IPv4-only server; the
# resolver's dns64 module makes up the AAAA 64:ff9b::192.0.2.80 (RFC 6147),
# and nat64d carries the connection to 192.0.2.80 from a pool4 address.
#
# Every address is from the documentation ranges (RFC 3849, RFC 5737) and
# lives only inside the namespaces this script creates. On exit, success or
# not, it stops every process it started and deletes the namespaces.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
NAT64D=$REPO/build/nat64d
NAT64=$REPO/build/nat64

CLIENT6=2001:db8:6::2
ROUTER6=2001:db8:6::1
ROUTER4=192.0.2.1
SERVER4=192.0.2.80
POOL6=64:ff9b::/96
SERVER6=64:ff9b::$SERVER4
POOL4="198.51.100.1, 198.51.100.2, 198.51.100.8/29"
NAME=www.example

TAG=nat64demo-$$
NS6=$TAG-6
NSX=$TAG-x
NS4=$TAG-4
INSTANCE=demo$$
TMP=""
NAT64D_PID=""
PIDS=()

say() { printf '[demo] %s\n' "$*"; }
die() {
	printf '[demo] FAILED: %s\n' "$*" >&2
	exit 1
}
# Runs a command in a namespace, its output indented under the [demo] lines.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}

# Polls `cmd` (quietly) every 0.1 s until it succeeds, for up to 10 s.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 100); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	die "timed out after 10 s waiting for $what"
}

# A background process in a namespace; its pid is remembered for cleanup
# (`ip netns exec` execs the command, so $! is the command itself).
spawn() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	PIDS+=($!)
}

alive() { kill -0 "$1" 2>/dev/null; }
any_alive() {
	local pid
	for pid in "${PIDS[@]}"; do
		alive "$pid" && return 0
	done
	return 1
}

cleanup() {
	local rc=$?
	set +eu
	trap - EXIT INT TERM
	say "cleaning up: stopping what the demo started and deleting its namespaces"
	# nat64d first and gently: on SIGTERM it removes its routes itself.
	if [ -n "$NAT64D_PID" ] && alive "$NAT64D_PID"; then
		kill -TERM "$NAT64D_PID"
		for _ in $(seq 50); do alive "$NAT64D_PID" || break; sleep 0.1; done
	fi
	# Quietly: bash would report each killed background job on stderr.
	exec 2>/dev/null
	local pid
	for pid in "${PIDS[@]}"; do
		alive "$pid" && kill -TERM "$pid"
	done
	for _ in $(seq 30); do
		any_alive || break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do
		alive "$pid" && kill -KILL "$pid"
	done
	wait
	delete_namespaces "$TAG"
	rmdir /etc/netns 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
	if [ "$rc" = 0 ]; then
		say "done: namespaces deleted, nothing left running"
	else
		say "the demo failed (exit $rc); everything it started is gone"
	fi
	exit "$rc"
}

# Kills whatever still runs in the namespaces named TAG-* and deletes them.
delete_namespaces() {
	local tag=$1 ns pid
	for ns in "$tag-6" "$tag-x" "$tag-4"; do
		if ip netns list | grep -qw "^$ns"; then
			for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null; done
			ip netns del "$ns"
		fi
		rm -rf "/etc/netns/$ns"
	done
}

# Namespaces of earlier runs that were killed before they could clean up.
delete_leftovers() {
	local ns pid
	for ns in $(ip netns list | awk '{print $1}' | grep -E '^nat64demo-[0-9]+-6$'); do
		pid=${ns#nat64demo-}
		pid=${pid%-6}
		alive "$pid" || delete_namespaces "nat64demo-$pid"
	done
}

prepare() {
	if [ "$(id -u)" != 0 ]; then
		die "the demo creates network namespaces and needs root (sudo make demo)"
	fi
	say "checking the Debian packages the demo needs (scripts/install-deps.sh demo)"
	"$REPO/scripts/install-deps.sh" demo
	say "building nat64d and nat64 (make nat64d nat64)"
	make -C "$REPO" --no-print-directory -s nat64d nat64 ||
		die "the build failed (run make to see why)"
	delete_leftovers
	TMP=$(mktemp -d /tmp/nat64-demo.XXXXXX)
}

make_namespaces() {
	say "creating three network namespaces: $NS6 (IPv6-only client),"
	say "  $NSX (translator) and $NS4 (IPv4-only server)"
	ip netns add "$NS6"
	ip netns add "$NSX"
	ip netns add "$NS4"
	ip link add c6 netns "$NS6" type veth peer x6 netns "$NSX"
	ip link add s4 netns "$NS4" type veth peer x4 netns "$NSX"
	ip -n "$NS6" link set lo up
	ip -n "$NS6" link set c6 up
	ip -n "$NS6" addr add "$CLIENT6/64" dev c6 nodad
	ip -n "$NS6" -6 route add default via "$ROUTER6"
	ip -n "$NSX" link set lo up
	ip -n "$NSX" link set x6 up
	ip -n "$NSX" link set x4 up
	ip -n "$NSX" addr add "$ROUTER6/64" dev x6 nodad
	ip -n "$NSX" addr add "$ROUTER4/24" dev x4
	ip netns exec "$NSX" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$NS4" link set lo up
	ip -n "$NS4" link set s4 up
	ip -n "$NS4" addr add "$SERVER4/24" dev s4
	ip -n "$NS4" route add default via "$ROUTER4"
	say "client $CLIENT6 has no IPv4 address at all; server $SERVER4 has no IPv6"
}

start_server() {
	say "starting the IPv4 server $SERVER4 in its namespace: a web page on port 80"
	mkdir -p "$TMP/www"
	cat >"$TMP/www/index.html" <<EOF
<!DOCTYPE html>
<html><head><title>IPv4-only server</title></head>
<body><h1>Hello from $SERVER4</h1>
<p>This server has no IPv6 address. You reached it through nat64d.</p>
</body></html>
EOF
	spawn "$NS4" "$TMP/http.log" python3 -m http.server 80 --bind "$SERVER4" \
		--directory "$TMP/www"
	wait_for "the web server on $SERVER4 port 80" \
		sh -c "ip netns exec $NS4 ss -Htln 'sport = :80' | grep -q ."

	say "starting an authoritative DNS server on $SERVER4: zone example. with only"
	say "  an A record, $NAME -> $SERVER4 (no AAAA: the server is IPv4-only)"
	cat >"$TMP/auth.conf" <<EOF
server:
	username: ""
	chroot: ""
	directory: "$TMP"
	pidfile: ""
	use-syslog: no
	logfile: ""
	num-threads: 1
	interface: $SERVER4
	do-ip6: no
	access-control: 0.0.0.0/0 allow
	local-zone: "example." static
	local-data: "example. 3600 IN SOA ns.example. admin.example. 1 3600 600 86400 60"
	local-data: "example. 3600 IN NS ns.example."
	local-data: "ns.example. 3600 IN A $SERVER4"
	local-data: "$NAME. 300 IN A $SERVER4"
EOF
	spawn "$NS4" "$TMP/auth.log" unbound -d -c "$TMP/auth.conf"
	wait_for "the authoritative DNS server on $SERVER4" \
		sh -c "ip netns exec $NS4 dig +short +time=1 +tries=1 @$SERVER4 $NAME A | grep -qx $SERVER4"
}

start_translator() {
	say "starting nat64d (instance $INSTANCE) in the translator namespace:"
	say "  pool6 $POOL6 (the well-known prefix), pool4 \"$POOL4\""
	say "  wkp-global-only is switched off: RFC 6052 section 3.1 keeps non-global"
	say "  IPv4 addresses such as 192.0.2.0/24 away from 64:ff9b::/96, and the demo"
	say "  only has documentation addresses. Behind a real uplink leave it on."
	cat >"$TMP/nat64d.json" <<EOF
{
	"comment": "make demo: documentation addresses behind the well-known prefix",
	"global": { "pool6": "$POOL6", "wkp-global-only": false }
}
EOF
	ip netns exec "$NSX" "$NAT64D" -i "$INSTANCE" --config "$TMP/nat64d.json" \
		"pool4=$POOL4" >"$TMP/nat64d.log" 2>&1 &
	NAT64D_PID=$!
	PIDS+=("$NAT64D_PID")
	wait_for "nat64d's route to $POOL6" \
		sh -c "ip -n $NSX -6 route show $POOL6 | grep -q dev"
	alive "$NAT64D_PID" || die "nat64d exited: $(cat "$TMP/nat64d.log")"
	say "nat64d is up; the routes it added in the translator namespace:"
	ip -n "$NSX" -6 route show "$POOL6" | sed 's/^/    /'
	ip -n "$NSX" -4 route show | grep -v "$ROUTER4\|192.0.2.0/24" | sed 's/^/    /'
}

start_resolver() {
	say "starting the DNS64 resolver (unbound, dns64 module) on $ROUTER6:"
	say "  it asks $SERVER4 for example. and makes AAAA records from A records"
	cat >"$TMP/dns64.conf" <<EOF
server:
	username: ""
	chroot: ""
	directory: "$TMP"
	pidfile: ""
	use-syslog: no
	logfile: ""
	num-threads: 1
	interface: $ROUTER6
	access-control: 2001:db8:6::/64 allow
	module-config: "dns64 iterator"
	dns64-prefix: $POOL6
	qname-minimisation: no
stub-zone:
	name: "example."
	stub-addr: $SERVER4
EOF
	spawn "$NSX" "$TMP/dns64.log" unbound -d -c "$TMP/dns64.conf"
	wait_for "the DNS64 resolver on $ROUTER6" \
		sh -c "ip netns exec $NSX dig +short +time=1 +tries=1 @$ROUTER6 $NAME A | grep -qx $SERVER4"
	# `ip netns exec` mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf.
	mkdir -p "/etc/netns/$NS6"
	echo "nameserver $ROUTER6" >"/etc/netns/$NS6/resolv.conf"
	say "the client's resolv.conf: nameserver $ROUTER6"
}

run_client() {
	say "client: ping -c 3 $SERVER6 (the server's IPv4 address inside the prefix)"
	in_ns "$NS6" ping -c 3 -i 0.3 -W 2 "$SERVER6" || die "ping failed"

	say "client: asking the IPv4-only DNS server directly, through nat64d over UDP"
	say "  (dig @$SERVER6 $NAME A, then AAAA):"
	local a aaaa
	a=$(ip netns exec "$NS6" dig +short +time=2 +tries=1 @"$SERVER6" "$NAME" A) ||
		die "dig @$SERVER6 failed"
	aaaa=$(ip netns exec "$NS6" dig +short +time=2 +tries=1 @"$SERVER6" "$NAME" AAAA) ||
		die "dig @$SERVER6 failed"
	printf '    %s A     %s\n' "$NAME" "${a:-(none)}"
	printf '    %s AAAA  %s\n' "$NAME" "${aaaa:-(none)}"
	say "  an IPv6-only client can do nothing with an A record alone"

	say "client: asking the DNS64 resolver instead: dig $NAME AAAA"
	in_ns "$NS6" dig +noall +answer +time=2 +tries=1 "$NAME" AAAA
	say "  the AAAA was made by DNS64 from the A record: $SERVER4 inside $POOL6"

	say "client: curl http://$NAME/ (by name, through the DNS64 resolver and nat64d)"
	local out
	out=$(ip netns exec "$NS6" curl -sS --max-time 10 -D "$TMP/headers" \
		-o "$TMP/page" -w '%{remote_ip}' "http://$NAME/") ||
		die "curl http://$NAME/ failed"
	say "  connected to [$out]; status line and the start of the page:"
	head -n 1 "$TMP/headers" | tr -d '\r' | sed 's/^/    /'
	head -n 4 "$TMP/page" | sed 's/^/    /'
}

show_state() {
	local proto
	if ! "$NAT64" -i "$INSTANCE" stats display >/dev/null 2>&1; then
		say "nat64 cannot reach nat64d's control socket /run/nat64d/$INSTANCE.sock:"
		say "  this build of nat64d has no control socket yet, so no BIB/session display"
		return 0
	fi
	say "what nat64d remembers, read through its control socket with build/nat64:"
	say "  a BIB entry maps the client's IPv6 address#port to a pool4 address#port;"
	say "  a session per BIB entry and remote end (curl's is closed: both FINs seen)"
	for proto in tcp udp icmp; do
		say "nat64 -i $INSTANCE bib display --$proto --numeric"
		"$NAT64" -i "$INSTANCE" bib display --"$proto" --numeric 2>&1 | sed 's/^/    /'
	done
	for proto in tcp udp icmp; do
		say "nat64 -i $INSTANCE session display --$proto --numeric"
		"$NAT64" -i "$INSTANCE" session display --"$proto" --numeric 2>&1 | sed 's/^/    /'
	done
}

main() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	prepare
	make_namespaces
	start_server
	start_translator
	start_resolver
	run_client
	show_state
	say "it worked: the IPv6-only client fetched a page from the IPv4-only server by name"
}

main "$@"
