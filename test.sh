#!/usr/bin/env bash
# Builds Parley and runs the whole test suite with ctest.
#
#   ./test.sh                 every test (unit, integration, benchmark smoke)
#   ./test.sh -R Merkle       extra arguments go to ctest (select subsets)
#   ./test.sh --bench [--json]
#                             builds, runs crypto_bench, log_bench and
#                             parley-bench at full size (takes several
#                             minutes; never part of the default run) and
#                             prints one table (or one JSON document) of every
#                             figure beside its limit measured in the same run;
#                             then parley-hostile-bench (Send latency under
#                             each attack of issue #17, about 2 minutes): its
#                             table follows on stdout, or goes to stderr with
#                             --json so that stdout stays one JSON document
#   ./test.sh --sanitize      the unit and integration tests and every fuzz
#                             corpus under ASan + UBSan (clang, build-asan/),
#                             then the concurrency tests under TSan
#                             (build-tsan/); .ci/run runs it after the
#                             default run
#   ./test.sh --fuzz [SECONDS]
#                             runs every fuzzer of tests/fuzz/ for SECONDS
#                             each (default 120) under ASan + UBSan, adds new
#                             interesting inputs to its corpus, and prints
#                             executions per target; a crash stops the run
#                             and its input is kept in build-fuzz/fuzz-crashes/
#
# Installs missing Debian packages first (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"
source deploy/debian-deps.sh

parley_install_packages "${PARLEY_BUILD_PACKAGES[@]}" "${PARLEY_TEST_PACKAGES[@]}"

case "${1:-}" in
  --sanitize)
    shift
    exec tests/sanitize.sh "$@"
    ;;
  --fuzz)
    shift
    exec tests/fuzz/fuzz.sh "$@"
    ;;
esac

parley_configure -DPARLEY_BUILD_TESTS=ON

if [ "${1:-}" = "--bench" ]; then
  shift
  format=()
  if [ "${1:-}" = "--json" ]; then
    format=(--json)
    shift
  fi
  parley_build crypto_bench log_bench parley-bench parley-hostile-bench
  results="$(mktemp -d "${PARLEY_BENCH_DIR:-/tmp}/parley-bench-results.XXXXXX")"
  trap 'rm -rf "$results"' EXIT
  # Google Benchmark's own tables go to stderr as progress; their JSON is
  # folded into parley-bench's single report.
  for b in crypto_bench log_bench; do
    echo "running $b (full size)..." >&2
    "build/tests/bench/$b" --benchmark_filter=-Smoke \
      --benchmark_out="$results/$b.json" --benchmark_out_format=json >&2
  done
  echo "running parley-bench (full size)..." >&2
  build/tests/bench/parley-bench "${format[@]}" \
    --gbench-json "$results/crypto_bench.json" \
    --gbench-json "$results/log_bench.json"
  echo "running parley-hostile-bench (10 s per scenario)..." >&2
  if [ "${#format[@]}" -gt 0 ]; then
    build/tests/bench/parley-hostile-bench --seconds 10 >&2
  else
    build/tests/bench/parley-hostile-bench --seconds 10
  fi
  exit $?
fi

parley_build all

set +e
ctest --test-dir build --output-on-failure --parallel "$(nproc)" "$@"
status=$?
exit "$status"
