#!/bin/sh
# Install the Debian packages that building and testing nat64d need, when
# they are missing. Safe to run again: it does nothing when all are present.
#
#   scripts/install-deps.sh          build and test packages
#   scripts/install-deps.sh demo     also what `make demo` needs (DNS64 resolver,
#                                    dig)
#   scripts/install-deps.sh bench    also what `make bench-e2e` needs (iperf3,
#                                    TAYGA and nftables for the comparison)
set -eu

PACKAGES="
	make gcc clang clang-format libclang-rt-14-dev pkg-config
	libcriterion-dev libjansson-dev libmnl-dev libbpf-dev
	python3 python3-pytest python3-scapy
	iproute2 iputils-ping iputils-arping util-linux procps curl
	unbound bind9-dnsutils traceroute iputils-tracepath
"
# libbpf-dev: loads the TUN steering program (io/steer.c, built by clang).
# unbound: the DNS64 resolver (its dns64 module) and the IPv4-only
# authoritative server of the demo and of tests/e2e/test_dns64.py (so they are
# in PACKAGES too); bind9-dnsutils: dig; traceroute and iputils-tracepath:
# the path MTU and traceroute tests (tests/e2e/test_pmtu.py).
DEMO_PACKAGES="unbound bind9-dnsutils"
# iperf3: throughput and packet rate; tayga + nftables: the userspace NAT64
# the benchmark compares against (TAYGA translates 1:1, nftables masquerades);
# nginx-light + apache2-utils (ab): new TCP connections per second.
BENCH_PACKAGES="iperf3 tayga nftables nginx-light apache2-utils"

for list in "$@"; do
	case $list in
	demo) PACKAGES="$PACKAGES $DEMO_PACKAGES" ;;
	bench) PACKAGES="$PACKAGES $BENCH_PACKAGES" ;;
	*)
		echo "install-deps: unknown list '$list' (known: demo, bench)" >&2
		exit 2
		;;
	esac
done

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install packages (try: sudo $0 $*)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null
