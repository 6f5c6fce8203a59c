#!/bin/sh
# scripts/setup.sh - install what building and testing need on Debian.
#
# Idempotent: installs only what is missing (a library by its -dev
# package, a tool by its command, so a Node.js installed some other way
# counts). Uses sudo when not root.
# usage: scripts/setup.sh [--tests]   (--tests also installs test peers)
set -eu
cd "$(dirname "$0")/.."
missing=""
need_pkg() { # package: a library's -dev package
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $1"
}
need_cmd() { # command package
  command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need_cmd cc build-essential
need_cmd make build-essential
need_cmd pkg-config pkg-config
for p in libjansson-dev libcurl4-openssl-dev zlib1g-dev libssl-dev; do
  need_pkg "$p"
done
if [ "${1:-}" = "--tests" ]; then
  need_cmd clang clang
  need_pkg libclang-rt-14-dev
  need_cmd python3 python3
  need_cmd jq jq # make bench compares against it
  need_cmd node nodejs
  need_cmd npm npm
  # make check-windows: the mingw-w64 cross build (its jansson/libcurl
  # come from Debian source packages: cmake, dpkg-dev) run under Wine,
  # whose Schannel needs GnuTLS; openssl makes the TLS tests' CA.
  need_cmd x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64-win32
  need_pkg libz-mingw-w64-dev
  need_cmd cmake cmake
  need_cmd dpkg-source dpkg-dev
  need_cmd wine wine
  need_pkg wine64
  need_pkg libgnutls30
  need_cmd openssl openssl
fi
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "setup: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
if [ "${1:-}" = "--tests" ] && [ -f tests/peers/package.json ] &&
  [ ! -x tests/peers/node_modules/.bin/azurite ]; then
  echo "setup: installing Azurite (npm) into tests/peers"
  (cd tests/peers && npm ci --no-audit --no-fund --silent ||
    npm install --no-audit --no-fund --silent)
fi
