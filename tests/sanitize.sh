#!/usr/bin/env bash
# ./test.sh --sanitize: the tests again under sanitizers, in build trees of
# their own (clang 14, line tables only).
#
#   build-asan/  ASan + UBSan at -O0 (half the build time of -O1; most of
#                the run time is in uninstrumented libraries anyway): every
#                unit and integration test, the demo, and every fuzz corpus
#                replayed. Benchmark smoke runs are left out: they measure
#                nothing under ASan and only cost time.
#   build-tsan/  TSan at -O0: the tests that exercise concurrency
#                (PARLEY_TSAN_TESTS below), from the storage, server and
#                client test binaries only.
#
#   tests/sanitize.sh [asan|tsan]   one tree only
#
# A sanitizer report ends the process, so the test that caused it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/debian-deps.sh
parley_install_packages "${PARLEY_BUILD_PACKAGES[@]}" "${PARLEY_TEST_PACKAGES[@]}" \
  "${PARLEY_SANITIZER_PACKAGES[@]}"

which="${1:-all}"
asan="${PARLEY_ASAN_DIR:-build-asan}"
tsan="${PARLEY_TSAN_DIR:-build-tsan}"
jobs="$(nproc)"
status=0

# Symbolised stacks; leaks are checked (LeakSanitizer) at every exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
# Each LeakSanitizer suppression has its reason in tests/testing/lsan.supp.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/testing/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Each TSan suppression has its reason beside it in tests/testing/tsan.supp.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/testing/tsan.supp}"

if [ "$which" = all ] || [ "$which" = asan ]; then
  parley_configure_clang "$asan" address,undefined -O0 -DPARLEY_BUILD_TESTS=ON
  parley_build_tree "$asan" crypto_tests storage_tests server_tests \
    core_tests client_tests deconfliction_tests integration_tests parleyd \
    parley parley-verify \
    parley_fuzzers
  ctest --test-dir "$asan" --output-on-failure --parallel "$jobs" \
    -E '^bench_smoke\.' || status=1
fi

# The tests that run threads against each other: the log's group commit and
# background signer, the disk reserve, the scrubber, the rate limiters and
# stream caps under flood, SendBatch, receipts, the client's local state and
# outbox, and the GUI's HTTP server, less the stream tests below; tsan_shim
# first checks that TSan sees Abseil's locks (tests/testing/tsan_shim_check.cc).
PARLEY_TSAN_TESTS='^(tsan_shim|LogStoreTest|DiskReserveTest|DeliveryTest|HostileLoadTest|PacedRefusalTest|AuthenticatorLimitsTest|InviteLimitTest|LogReadLimitTest|SendBatchTest|SendBatchRateLimitTest|StorageScrubTest|LocalStateTest|GuiServerTest|GuiServerBindTest|GuiErrorTest)\.'

# Left out of TSan: the tests that hold a server-streaming call open
# (Channels/Subscribe, Log/WatchCheckpoints). Those run on gRPC's callback
# API, which hands each reactor between threads inside Debian's libgrpc;
# libgrpc is not built with TSan, so TSan cannot see that handoff and
# reports gRPC's own header code (CallbackWithSuccessTag, Call,
# InterceptorBatchMethodsImpl) racing with itself. A suppression broad
# enough to silence that would also hide races in Parley's reactors, so
# these tests run under ASan + UBSan only. docs/TESTING.md says so.
PARLEY_TSAN_STREAM_TESTS='^(DeliveryTest\.(FromStart|EveryMembersStream|SenderReceives|ResumeFromCursor|NonRecipient|Revocation|ThirdStream|SlowConsumer|Shutdown|DeliveredReceipt|BatchWithOneBadReceipt)|DeliveryHubTest\.|ManyWatchersTest\.|HostileLoadTest\.WatchStreams|SendBatchTest\.LogsEverySend)'

if [ "$which" = all ] || [ "$which" = tsan ]; then
  parley_configure_clang "$tsan" thread -O0 -DPARLEY_BUILD_TESTS=ON
  parley_build_tree "$tsan" tsan_shim_check storage_tests server_tests \
    client_tests
  ctest --test-dir "$tsan" --output-on-failure --parallel "$jobs" \
    -R "$PARLEY_TSAN_TESTS" -E "$PARLEY_TSAN_STREAM_TESTS" || status=1
fi
exit "$status"
