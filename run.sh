#!/usr/bin/env bash
# Builds and starts parleyd in the foreground on 127.0.0.1:7443 with its data
# in ./var/parley. The first start creates the data directory (development CA
# and server certificate, log signing key, one-time admin invite).
# Stop it with Ctrl-C.
#
#   ./run.sh --demo   a one-minute guided tour on a throw-away server
set -euo pipefail
cd "$(dirname "$0")"
source deploy/debian-deps.sh

DATA=./var/parley
LISTEN=127.0.0.1:7443

parley_install_packages "${PARLEY_BUILD_PACKAGES[@]}"
# Tests are not needed to run the server; a build/ that ./test.sh configured
# keeps them.
if [ -f build/CMakeCache.txt ]; then
  parley_configure
else
  parley_configure -DPARLEY_BUILD_TESTS=OFF
fi
parley_build parleyd parley parley-verify

if [ "${1:-}" = "--demo" ]; then
  source deploy/demo.sh
  parley_demo
  exit 0
fi

if [ ! -f "$DATA/parleyd.json" ]; then
  mkdir -p ./var
  ./build/server/parleyd init --data "$DATA"
fi

fingerprint=$(sed -n 's/.*"ca_fingerprint": *"\([0-9a-f]*\)".*/\1/p' "$DATA/parleyd.json")
cat <<INFO

Parley server data: $DATA   (logs go to this terminal)
CA fingerprint:     $fingerprint

Connect from another terminal:
  ./build/client/parley status --server $LISTEN --ca-fingerprint $fingerprint
INFO
if [ -f "$DATA/bootstrap-invite" ]; then
  echo "Admin bootstrap invite (one-time): $(cat "$DATA/bootstrap-invite")"
fi
echo

exec ./build/server/parleyd --data "$DATA" --listen "$LISTEN"
