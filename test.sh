#!/usr/bin/env bash
# Builds Parley and runs the whole test suite with ctest.
#
#   ./test.sh                 every test (unit, integration, benchmark smoke)
#   ./test.sh -R Merkle       extra arguments go to ctest (select subsets)
#
# Installs missing Debian packages first (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"
source deploy/debian-deps.sh

parley_install_packages "${PARLEY_BUILD_PACKAGES[@]}" "${PARLEY_TEST_PACKAGES[@]}"
parley_configure -DPARLEY_BUILD_TESTS=ON
parley_build all

set +e
ctest --test-dir build --output-on-failure --parallel "$(nproc)" "$@"
status=$?
exit "$status"
