#!/bin/sh
# scripts/setup.sh - install what building and testing need on Debian.
#
# Idempotent: installs only what is missing. Uses sudo when not root.
# usage: scripts/setup.sh [--tests]   (--tests also installs test peers)
set -eu
cd "$(dirname "$0")/.."
pkgs="build-essential pkg-config libjansson-dev libcurl4-openssl-dev \
zlib1g-dev libssl-dev"
if [ "${1:-}" = "--tests" ]; then
  pkgs="$pkgs clang python3 jq nodejs npm hyperfine"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
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
  (cd tests/peers && npm install --no-audit --no-fund --silent)
fi
