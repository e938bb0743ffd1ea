#!/bin/sh
# Install the Debian packages that building and testing nat64d need, when
# they are missing. Safe to run again: it does nothing when all are present.
set -eu

PACKAGES="
	make gcc clang clang-format libclang-rt-14-dev pkg-config
	libcriterion-dev libjansson-dev libmnl-dev
	python3 python3-pytest python3-scapy
	iproute2 iputils-ping iputils-arping util-linux procps curl
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install packages (try: sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
