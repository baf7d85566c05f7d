#!/bin/sh
# Checks that the Debian packages tern needs to build and test are
# installed.  As root, installs the missing ones with apt-get (saying so);
# otherwise prints the exact command to run and fails.  postfix (for
# smtp-sink), nsd and ldnsutils (a DNSSEC-signed zone for DANE) serve
# tests/test-smtp.py.
set -u

PKGS="gcc make autoconf automake pkg-config libssl-dev libunbound-dev
libdb5.3-dev libevent-dev check libcrypt-dev python3 openssl swaks curl
libnet-ssleay-perl libio-socket-ssl-perl postfix nsd ldnsutils"

missing=
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system; install the equivalents of:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing build dependencies; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing missing build dependencies:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update && apt-get install -y --no-install-recommends $missing
fi
